-- A finished deployment's whole log as `…/logs/raw` sends it, gzip-compressed once so that it is
-- not read row by row and compressed again on every visit. Stored in pieces of about a MiB
-- (read one at a time), which concatenate to one gzip stream; all pieces are written in one
-- transaction. Derived from `deployment_logs`: `migrate-store` leaves it behind, and the next
-- read builds it again.
CREATE TABLE deployment_log_archives (
    deployment_id TEXT COLLATE "C" NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    piece         INTEGER NOT NULL,  -- from 0
    bytes         BYTEA NOT NULL,
    PRIMARY KEY (deployment_id, piece)
);
