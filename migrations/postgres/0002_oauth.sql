-- OAuth 2.0: signing keys, revoked access tokens, rotating refresh tokens. Times are Unix milliseconds.

-- Ed25519 keys. The newest signs; older ones stay in the JWKS until their tokens have expired.
CREATE TABLE signing_keys (
    id          BIGSERIAL PRIMARY KEY,
    kid         TEXT NOT NULL UNIQUE,
    private_key BYTEA NOT NULL,        -- PKCS#8 DER
    public_key  BYTEA NOT NULL,        -- raw 32 bytes
    created_at  BIGINT NOT NULL,
    retired_at  BIGINT
);

-- Revoked access tokens by jti, kept until they would have expired; polled by every instance.
CREATE TABLE token_revocations (
    id          BIGSERIAL PRIMARY KEY,
    jti         TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);

-- Refresh tokens are stored as SHA-256 hashes. Each use replaces the token by a new one in the same
-- chain; presenting a used one again revokes the whole chain.
CREATE TABLE refresh_tokens (
    id             BIGSERIAL PRIMARY KEY,
    token_hash     TEXT NOT NULL UNIQUE,
    chain          TEXT NOT NULL,
    credential_id  BIGINT NOT NULL REFERENCES credentials(id),
    cred_version   BIGINT NOT NULL,
    scope          TEXT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT,
    revoked        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     BIGINT NOT NULL
);
CREATE INDEX refresh_tokens_chain ON refresh_tokens(chain);
