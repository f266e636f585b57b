-- Leases, so that several servers can share one queue: a running deployment is held by the
-- server (or agent) that started it until `lease_until`, which it renews while it runs; one
-- whose lease lapses was lost with its holder. A cancel asked of another holder waits in
-- `cancel_requested_by` until the holder sees it. The queue lock lets one holder at a time
-- decide what starts (its one row is written by the first to take it).

ALTER TABLE deployments ADD COLUMN lease_holder TEXT;
ALTER TABLE deployments ADD COLUMN lease_until INTEGER;  -- Unix milliseconds
ALTER TABLE deployments ADD COLUMN cancel_requested_by TEXT;

CREATE TABLE queue_lock (
    name   TEXT PRIMARY KEY,
    holder TEXT NOT NULL DEFAULT '',
    until  INTEGER NOT NULL DEFAULT 0  -- Unix milliseconds
);
