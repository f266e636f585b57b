-- Access tokens with a lifecycle, as Pulumi's `GET|POST /api/user/tokens` and
-- `DELETE /api/user/tokens/{tokenId}` show them: an id to name a token by (never its hash),
-- an optional expiry, and when it last authenticated a request.

ALTER TABLE access_tokens ADD COLUMN id TEXT;            -- set on every insert by the store
ALTER TABLE access_tokens ADD COLUMN expires INTEGER;    -- Unix seconds; NULL: never
ALTER TABLE access_tokens ADD COLUMN last_used INTEGER;  -- Unix seconds; NULL: never used

-- Tokens made before this migration (the demo tokens) get an id, and their creation time the
-- API's RFC 3339 form, which the store writes from now on.
UPDATE access_tokens
SET id = lower(hex(randomblob(16))),
    created_at = strftime('%Y-%m-%dT%H:%M:%S.000000Z', created_at)
WHERE id IS NULL;
CREATE UNIQUE INDEX access_tokens_by_id ON access_tokens (id);
