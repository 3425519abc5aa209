-- API tokens (SPEC §1): an access's token, stored as its SHA-256 (hex; the token is 32 random bytes, so
-- no argon2 is needed), and the one channel an access may send on.
ALTER TABLE credentials ADD COLUMN token_hash TEXT;
ALTER TABLE credentials ADD COLUMN channel_id BIGINT;
CREATE UNIQUE INDEX credentials_token ON credentials(token_hash) WHERE token_hash IS NOT NULL;
