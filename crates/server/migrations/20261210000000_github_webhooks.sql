-- GitHub push-to-deploy: one webhook secret per organization, the log of deliveries, and
-- what started each deployment a delivery started.

-- The secret GitHub signs deliveries with. HMAC needs the secret itself, so it is sealed with
-- the server's key (context `github-webhook:<organization>`) rather than hashed.
CREATE TABLE github_webhook_secrets (
    organization TEXT PRIMARY KEY REFERENCES organizations (name) ON DELETE CASCADE,
    ciphertext   TEXT NOT NULL,
    created_by   TEXT NOT NULL REFERENCES users (id),  -- requests the deployments it starts
    created      TEXT NOT NULL
);

-- Every delivery received, verified or not; bodies are never kept.
CREATE TABLE github_deliveries (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    organization   TEXT NOT NULL REFERENCES organizations (name) ON DELETE CASCADE,
    delivery_id    TEXT NOT NULL,           -- X-GitHub-Delivery; '' when absent
    event          TEXT NOT NULL,           -- X-GitHub-Event
    received       TEXT NOT NULL,
    outcome        TEXT NOT NULL,           -- pending | started | ignored | duplicate | rejected
    message        TEXT NOT NULL,
    deployment_ids TEXT NOT NULL DEFAULT '[]'  -- JSON array of the deployments it started
);
CREATE INDEX github_deliveries_by_org ON github_deliveries (organization, seq);
-- A verified delivery id is handled once; forged (rejected) ones cannot claim an id first.
CREATE UNIQUE INDEX github_deliveries_once ON github_deliveries (organization, delivery_id)
    WHERE outcome IN ('pending', 'started', 'ignored');

-- What started a deployment from outside, as JSON (`DeploymentTrigger`); NULL for the API
-- and the console.
ALTER TABLE deployments ADD COLUMN trigger_info TEXT;
