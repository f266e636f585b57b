-- GitHub push-to-deploy, hardened: replay protection that covers the signed body and that no
-- flood of other deliveries can evict, refused deliveries kept apart from handled ones, and a
-- webhook secret per repository.

-- What each verified, first-seen delivery claimed: its id and the SHA-256 of its signed body.
-- A later delivery with either starts nothing. Kept far longer than the log (see the store).
CREATE TABLE github_delivery_claims (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    organization TEXT NOT NULL REFERENCES organizations (name) ON DELETE CASCADE,
    delivery_id  TEXT NOT NULL,
    body_sha256  TEXT,           -- hex; NULL for deliveries claimed before bodies were
    received     TEXT NOT NULL
);
CREATE UNIQUE INDEX github_delivery_claims_id ON github_delivery_claims (organization, delivery_id);
CREATE UNIQUE INDEX github_delivery_claims_body
    ON github_delivery_claims (organization, body_sha256);
CREATE INDEX github_delivery_claims_by_org ON github_delivery_claims (organization, seq);

INSERT INTO github_delivery_claims (organization, delivery_id, received)
    SELECT organization, delivery_id, received FROM github_deliveries
    WHERE outcome IN ('pending', 'started', 'ignored')
    ORDER BY seq;
DROP INDEX github_deliveries_once;

-- Deliveries that started nothing because they were not verified or repeated a handled one.
-- Anyone can send them, so they never share the handled deliveries' log: few are kept, only a
-- few a second, and their header values are cut short.
CREATE TABLE github_refused_deliveries (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    organization TEXT NOT NULL REFERENCES organizations (name) ON DELETE CASCADE,
    delivery_id  TEXT NOT NULL,
    event        TEXT NOT NULL,
    received     TEXT NOT NULL,
    outcome      TEXT NOT NULL,  -- duplicate | rejected
    message      TEXT NOT NULL
);
CREATE INDEX github_refused_deliveries_by_org ON github_refused_deliveries (organization, seq);

INSERT INTO github_refused_deliveries (organization, delivery_id, event, received, outcome,
                                       message)
    SELECT organization, substr(delivery_id, 1, 200), substr(event, 1, 200), received, outcome,
           message
    FROM github_deliveries WHERE outcome IN ('duplicate', 'rejected')
    ORDER BY seq;
DELETE FROM github_deliveries WHERE outcome IN ('duplicate', 'rejected');

-- A repository's own secret: its deliveries verify against it, not the organization's. Sealed
-- like the organization's, with context `github-webhook:<organization>/<repository>`.
CREATE TABLE github_webhook_repository_secrets (
    organization TEXT NOT NULL REFERENCES organizations (name) ON DELETE CASCADE,
    repository   TEXT NOT NULL,  -- owner/name, lowercase
    ciphertext   TEXT NOT NULL,
    created_by   TEXT NOT NULL REFERENCES users (id),  -- requests the deployments it starts
    created      TEXT NOT NULL,
    PRIMARY KEY (organization, repository)
);
