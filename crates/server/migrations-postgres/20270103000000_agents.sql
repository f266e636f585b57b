-- Agents: the processes that claim a pool's deployments and run them. Each is recorded when it
-- is heard from, so that its pool can list it. A deployment's holder numbers the reports it
-- sends (`report_seq`, the last one stored), so that a report sent twice (an agent retrying
-- after an answer was lost) is stored once.

ALTER TABLE deployments ADD COLUMN report_seq BIGINT NOT NULL DEFAULT 0;

CREATE TABLE agents (
    id        TEXT COLLATE "C" PRIMARY KEY,  -- its lease holder name: agent:<pool id>:<agent id>
    pool_id   TEXT COLLATE "C" NOT NULL REFERENCES agent_pools (id) ON DELETE CASCADE,
    hostname  TEXT COLLATE "C" NOT NULL DEFAULT '',
    version   TEXT COLLATE "C" NOT NULL DEFAULT '',
    platform  TEXT COLLATE "C" NOT NULL DEFAULT '',
    pid       TEXT COLLATE "C" NOT NULL DEFAULT '',
    last_seen BIGINT NOT NULL  -- Unix milliseconds, by the store's clock
);
CREATE INDEX agents_by_pool ON agents (pool_id);
