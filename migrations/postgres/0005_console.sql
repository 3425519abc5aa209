-- Operator console sessions (SPEC §5.4): the hash of the cookie's token (never the token), who signed
-- in, the CSRF token the console sends back with every change, and when it ends. Signing out deletes
-- the row, so the session is dead on every instance.
CREATE TABLE console_sessions (
    token_hash     TEXT PRIMARY KEY,
    credential_id  BIGINT NOT NULL,
    account_id     BIGINT NOT NULL,
    login          TEXT NOT NULL,
    csrf           TEXT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions(expires_at);
