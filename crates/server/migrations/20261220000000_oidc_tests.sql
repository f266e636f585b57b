-- The OIDC setup assistant's "Test OIDC" runs: a token minted with a deployment's claims and
-- exchanged with each configured cloud, outside any deployment. Tokens and credentials are
-- never kept.
CREATE TABLE oidc_tests (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,  -- a UUID
    stack_id     TEXT NOT NULL REFERENCES stacks (id) ON DELETE CASCADE,
    requested_by TEXT NOT NULL REFERENCES users (id),
    operation    TEXT NOT NULL,         -- the operation whose claims the token carried
    created      TEXT NOT NULL,
    jti          TEXT NOT NULL,         -- the test token's id, to tell it apart in cloud logs
    claims       TEXT NOT NULL,         -- the decoded claims, JSON
    results      TEXT NOT NULL          -- JSON array of per-cloud outcomes (`CloudResult`)
);
CREATE INDEX oidc_tests_by_stack ON oidc_tests (stack_id, seq);

-- The lifetime advisor reads a stack's recent successful runs of one operation.
CREATE INDEX deployments_by_stack_operation ON deployments (stack_id, operation, status, seq);
