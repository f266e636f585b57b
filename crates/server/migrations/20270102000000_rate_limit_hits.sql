-- Hits counted by rate limits that every server sharing the store must enforce together
-- ("Test OIDC" runs per stack): one row per hit, kept while it is inside its window.

CREATE TABLE rate_limit_hits (
    key TEXT NOT NULL,
    at  INTEGER NOT NULL  -- Unix milliseconds
);
CREATE INDEX rate_limit_hits_by_key ON rate_limit_hits (key, at);
