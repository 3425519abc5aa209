-- chatgate schema, SQLite. Times are Unix milliseconds (UTC).

CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY,
    login       TEXT NOT NULL UNIQUE,
    ip_allow    TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);

-- Every login: the account's own (is_primary = 1, every scope) and its accesses.
-- One table so that a login is unique across both.
CREATE TABLE credentials (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts(id),
    login        TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    ip_allow     TEXT NOT NULL DEFAULT '',
    enabled      INTEGER NOT NULL DEFAULT 1,
    is_primary   INTEGER NOT NULL DEFAULT 0,
    version      INTEGER NOT NULL DEFAULT 1,
    created_at   INTEGER NOT NULL
);
CREATE INDEX credentials_account ON credentials(account_id);

-- Polled by every instance to drop cached credentials of an account within a second of a change.
CREATE TABLE credential_changes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  INTEGER NOT NULL,
    at          INTEGER NOT NULL
);

CREATE TABLE channels (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    platform    TEXT NOT NULL,
    name        TEXT NOT NULL,
    settings    TEXT NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL
);
CREATE INDEX channels_account ON channels(account_id);

CREATE TABLE chats (
    id               INTEGER PRIMARY KEY,
    channel_id       INTEGER NOT NULL REFERENCES channels(id),
    destination      TEXT NOT NULL,
    last_message_id  INTEGER,
    created_at       INTEGER NOT NULL,
    UNIQUE (channel_id, destination)
);

CREATE TABLE messages (
    id          INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL REFERENCES chats(id),
    sent        INTEGER NOT NULL,            -- 1 = sent by the account, 0 = received
    status      TEXT NOT NULL,
    reason      TEXT,
    body        TEXT,
    file_type   TEXT,
    file_url    TEXT,
    thumb_url   TEXT,
    expires_at  INTEGER,
    created_at  INTEGER NOT NULL
);
CREATE INDEX messages_chat ON messages(chat_id, id);
CREATE INDEX messages_unread ON messages(chat_id, id) WHERE sent = 0 AND status = 'unread';

-- A key seen within 24 h answers with its first message; an older one is taken over by the new message.
CREATE TABLE idempotency_keys (
    account_id  INTEGER NOT NULL,
    key         TEXT NOT NULL,
    message_id  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, key)
);

-- Written in the same transaction as each sent message; delivery workers claim rows with a lease.
CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY,
    message_id    INTEGER NOT NULL UNIQUE REFERENCES messages(id),
    available_at  INTEGER NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    lease_until   INTEGER
);
