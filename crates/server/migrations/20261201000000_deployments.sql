-- Deployments: each run of a pulumi operation on a stack, its job's steps, its log lines, and
-- the pauses that hold a stack's or an organization's queue. Timestamps are RFC 3339 text in
-- UTC with a fixed number of digits, so that they sort as text.

-- One row per deployment. `seq` orders the queue (first in, first out across the server);
-- `version` numbers a stack's deployments from 1.
CREATE TABLE deployments (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,  -- a UUID: the deployment's `id` in the API
    stack_id     TEXT NOT NULL REFERENCES stacks (id) ON DELETE CASCADE,
    version      INTEGER NOT NULL,
    operation    TEXT NOT NULL,         -- update | preview | destroy | refresh | detect-drift | remediate-drift
    status       TEXT NOT NULL,         -- not-started | accepted | running | failed | succeeded | skipped
    requested_by TEXT NOT NULL REFERENCES users (id),
    initiator    TEXT NOT NULL,         -- "api" or "console"
    settings     TEXT NOT NULL,         -- the merged settings it runs with; secrets only sealed
    created      TEXT NOT NULL,
    modified     TEXT NOT NULL,
    started      TEXT,                  -- when its job started; NULL while queued
    UNIQUE (stack_id, version)
);
CREATE INDEX deployments_by_status ON deployments (status, seq);

-- The steps of a deployment's one job, decided when it starts, in order from 0.
CREATE TABLE deployment_steps (
    deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    name          TEXT NOT NULL,
    status        TEXT NOT NULL,        -- not-started | running | failed | succeeded
    started       TEXT,
    last_updated  TEXT,
    PRIMARY KEY (deployment_id, position)
);

-- Log lines, already redacted. A row with `header` starts step `step` and has no text; other
-- rows are the step's lines, numbered from 0 by `step_offset`. The rowid orders the whole log
-- and is what continuation tokens point at.
CREATE TABLE deployment_logs (
    id            INTEGER PRIMARY KEY,
    deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    step          INTEGER NOT NULL,
    step_offset   INTEGER,              -- NULL for headers
    timestamp     TEXT NOT NULL,
    header        TEXT,
    line          TEXT
);
CREATE INDEX deployment_logs_by_deployment ON deployment_logs (deployment_id, id);
CREATE INDEX deployment_logs_by_step ON deployment_logs (deployment_id, step, step_offset);

-- Paused queues: a stack's, or (with `stack_id` '') a whole organization's.
CREATE TABLE deployment_pauses (
    organization TEXT NOT NULL REFERENCES organizations (name) ON DELETE CASCADE,
    stack_id     TEXT NOT NULL DEFAULT '',  -- '' pauses the organization
    PRIMARY KEY (organization, stack_id)
);
