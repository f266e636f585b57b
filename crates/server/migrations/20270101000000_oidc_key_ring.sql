-- The OIDC signing key ring (private keys sealed with the server key), in the store so that
-- every server sharing it signs with the same key and publishes the same JWKS. `version`
-- counts writes: a server reloads the ring when it changed, and a rotation that read an older
-- version is refused. Servers that kept it in `<data-dir>/oidc-keys.json` import it at start.

CREATE TABLE oidc_key_ring (
    name    TEXT PRIMARY KEY,  -- 'ring': there is one
    ring    TEXT NOT NULL,
    version INTEGER NOT NULL
);
