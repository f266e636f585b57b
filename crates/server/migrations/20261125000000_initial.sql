-- Keyless's first schema: organizations, their users and stacks, access tokens and the
-- deployment settings of each stack. Written in SQL that PostgreSQL also accepts, so a second
-- store implementation can start from the same migrations.

-- An organization owns stacks; users belong to it as admins or members.
CREATE TABLE organizations (
    name         TEXT PRIMARY KEY,  -- as in URLs and `githubLogin`, e.g. "acme"
    display_name TEXT NOT NULL      -- as shown to people, e.g. "Acme Corp"
);

CREATE TABLE users (
    id         TEXT PRIMARY KEY,      -- a UUID, stable for the user's lifetime
    login      TEXT NOT NULL UNIQUE,  -- `githubLogin`
    name       TEXT NOT NULL,
    email      TEXT NOT NULL,
    avatar_url TEXT NOT NULL DEFAULT ''
);

-- Who belongs to which organization, and with which role. Admins may change deployment
-- settings; members may only read them.
CREATE TABLE memberships (
    organization TEXT NOT NULL REFERENCES organizations (name) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    PRIMARY KEY (organization, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id);

-- API access tokens. Only the SHA-256 of a token (lowercase hex) is kept, never the token.
CREATE TABLE access_tokens (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    description TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX access_tokens_by_user ON access_tokens (user_id);

CREATE TABLE stacks (
    id           TEXT PRIMARY KEY,  -- a UUID: the stack's `id` in the API
    organization TEXT NOT NULL REFERENCES organizations (name) ON DELETE CASCADE,
    project      TEXT NOT NULL,
    name         TEXT NOT NULL,
    UNIQUE (organization, project, name)  -- also the listing order and its keyset pagination
);

CREATE TABLE stack_tags (
    stack_id TEXT NOT NULL REFERENCES stacks (id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (stack_id, name)
);

-- At most one settings document per stack. `document` is the settings' JSON without the
-- read-only `source` and `version`, which live in their own columns; secrets appear in it only
-- as `{"secret":"[secret]","ciphertext":"…"}`, never in plaintext.
CREATE TABLE deployment_settings (
    stack_id   TEXT PRIMARY KEY REFERENCES stacks (id) ON DELETE CASCADE,
    document   TEXT NOT NULL,
    source     TEXT NOT NULL,     -- who wrote it last: "api" or "console"
    version    INTEGER NOT NULL,  -- 1 on creation, +1 on every write
    updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
