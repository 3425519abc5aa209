-- Event webhooks (SPEC §6). Times are Unix milliseconds.

-- A chat's session: the message that opened it (NULL once `chat_session.end` was emitted, or before the
-- first message), and when its last message was stored, so the idle sweep reads only open sessions
-- that went quiet (`chats_idle`), however many chats there are.
ALTER TABLE chats ADD COLUMN session_start INTEGER;
ALTER TABLE chats ADD COLUMN last_at INTEGER;
CREATE INDEX chats_idle ON chats(last_at) WHERE session_start IS NOT NULL;

-- `events` is a bit set of the event kinds (see `domain::events::EventKind::bit`). The secret signs;
-- it is never returned after `setwebhook`. `lease_*`: the instance whose sender works this webhook's
-- deliveries (one at a time, so "at most 4 in flight" holds across instances).
CREATE TABLE webhooks (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts(id),
    url          TEXT NOT NULL,
    events       INTEGER NOT NULL,
    headers      TEXT NOT NULL DEFAULT '{}',
    secret       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    lease_owner  INTEGER,
    lease_until  INTEGER
);
CREATE INDEX webhooks_account ON webhooks(account_id);

-- One event for one webhook: written in the transaction of its cause. What the body shows is read
-- when it is sent (the message by `message_id`, with the status it had at the event), so retries send
-- the same body. `next_at` is NULL once the delivery is finished (delivered or failed).
CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY,
    webhook_id       INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    account_id       INTEGER NOT NULL,
    event_id         TEXT NOT NULL,
    event            TEXT NOT NULL,
    message_id       INTEGER,
    message_status   TEXT,
    reason           TEXT,
    operator         TEXT,
    operator_status  TEXT,
    created_at       INTEGER NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_code        INTEGER,
    next_at          INTEGER,
    window_start     INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(webhook_id, next_at) WHERE next_at IS NOT NULL;
CREATE INDEX webhook_deliveries_account ON webhook_deliveries(account_id, id);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries(webhook_id, id);
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries(created_at) WHERE next_at IS NULL;

-- Every attempt: the HTTP status (NULL when none came), how long it took, and what went wrong.
CREATE TABLE webhook_attempts (
    id           INTEGER PRIMARY KEY,
    delivery_id  INTEGER NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    at           INTEGER NOT NULL,
    code         INTEGER,
    duration_ms  INTEGER NOT NULL,
    error        TEXT
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id);
