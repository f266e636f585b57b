-- Agent pools (Pulumi's `…/agent-pools`): a named group of agents in an organization, and the
-- hash of the token its agents present (the value is shown once, when the pool is made).

CREATE TABLE agent_pools (
    id           TEXT PRIMARY KEY,  -- a UUID: the pool's `id` in the API and `agentPoolID`
    organization TEXT NOT NULL REFERENCES organizations (name) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    token_hash   TEXT NOT NULL UNIQUE,
    created      INTEGER NOT NULL,  -- Unix seconds
    UNIQUE (organization, name)
);
