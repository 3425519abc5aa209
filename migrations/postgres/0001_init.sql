-- chatgate schema, PostgreSQL. Times are Unix milliseconds (UTC).

CREATE TABLE accounts (
    id          BIGSERIAL PRIMARY KEY,
    login       TEXT NOT NULL UNIQUE,
    ip_allow    TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);

-- Every login: the account's own (is_primary = 1, every scope) and its accesses.
-- One table so that a login is unique across both.
CREATE TABLE credentials (
    id           BIGSERIAL PRIMARY KEY,
    account_id   BIGINT NOT NULL REFERENCES accounts(id),
    login        TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    ip_allow     TEXT NOT NULL DEFAULT '',
    enabled      BOOLEAN NOT NULL DEFAULT TRUE,
    is_primary   BOOLEAN NOT NULL DEFAULT FALSE,
    version      BIGINT NOT NULL DEFAULT 1,
    created_at   BIGINT NOT NULL
);
CREATE INDEX credentials_account ON credentials(account_id);

-- Polled by every instance to drop cached credentials of an account within a second of a change.
CREATE TABLE credential_changes (
    id          BIGSERIAL PRIMARY KEY,
    account_id  BIGINT NOT NULL,
    at          BIGINT NOT NULL
);

CREATE TABLE channels (
    id          BIGSERIAL PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    platform    TEXT NOT NULL,
    name        TEXT NOT NULL,
    settings    TEXT NOT NULL DEFAULT '{}',
    created_at  BIGINT NOT NULL
);
CREATE INDEX channels_account ON channels(account_id);

CREATE TABLE chats (
    id               BIGSERIAL PRIMARY KEY,
    channel_id       BIGINT NOT NULL REFERENCES channels(id),
    destination      TEXT NOT NULL,
    last_message_id  BIGINT,
    created_at       BIGINT NOT NULL,
    UNIQUE (channel_id, destination)
);

CREATE TABLE messages (
    id          BIGSERIAL PRIMARY KEY,
    chat_id     BIGINT NOT NULL REFERENCES chats(id),
    sent        BOOLEAN NOT NULL,            -- 1 = sent by the account, 0 = received
    status      TEXT NOT NULL,
    reason      TEXT,
    body        TEXT,
    file_type   TEXT,
    file_url    TEXT,
    thumb_url   TEXT,
    expires_at  BIGINT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX messages_chat ON messages(chat_id, id);
CREATE INDEX messages_unread ON messages(chat_id, id) WHERE NOT sent AND status = 'unread';

-- A key seen within 24 h answers with its first message; an older one is taken over by the new message.
CREATE TABLE idempotency_keys (
    account_id  BIGINT NOT NULL,
    key         TEXT NOT NULL,
    message_id  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (account_id, key)
);

-- Written in the same transaction as each sent message; delivery workers claim rows with a lease.
CREATE TABLE outbox (
    id            BIGSERIAL PRIMARY KEY,
    message_id    BIGINT NOT NULL UNIQUE REFERENCES messages(id),
    available_at  BIGINT NOT NULL,
    attempts      BIGINT NOT NULL DEFAULT 0,
    lease_until   BIGINT
);
