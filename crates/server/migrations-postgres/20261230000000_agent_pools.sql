-- Agent pools (Pulumi's `…/agent-pools`): a named group of agents in an organization, and the
-- hash of the token its agents present (the value is shown once, when the pool is made).

CREATE TABLE agent_pools (
    id           TEXT COLLATE "C" PRIMARY KEY,  -- a UUID: the pool's `id` and `agentPoolID`
    organization TEXT COLLATE "C" NOT NULL REFERENCES organizations (name) ON DELETE CASCADE,
    name         TEXT COLLATE "C" NOT NULL,
    description  TEXT COLLATE "C" NOT NULL DEFAULT '',
    token_hash   TEXT COLLATE "C" NOT NULL UNIQUE,
    created      BIGINT NOT NULL,  -- Unix seconds
    UNIQUE (organization, name)
);
