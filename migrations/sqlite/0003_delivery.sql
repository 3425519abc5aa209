-- Delivery and inbound (SPEC §5). Times are Unix milliseconds.

-- The platform's own id of a message: Telegram `message_id`, WhatsApp `wamid…` (status callbacks find
-- the message by it).
ALTER TABLE messages ADD COLUMN platform_message_id TEXT;
CREATE INDEX messages_platform_id ON messages(platform_message_id) WHERE platform_message_id IS NOT NULL;

-- What a worker needs to pick entries without reading the messages: the chat and whether the entry is
-- its chat's oldest (`head`: only heads are sent, so a chat's messages go out in order, and claiming
-- looks at heads only, however long one chat's queue is), the channel (throttled channels are
-- skipped), the expiry and the age.
ALTER TABLE outbox ADD COLUMN chat_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN channel_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN expires_at INTEGER;
ALTER TABLE outbox ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN last_error TEXT;
ALTER TABLE outbox ADD COLUMN head INTEGER NOT NULL DEFAULT 0;
UPDATE outbox SET
    chat_id = (SELECT m.chat_id FROM messages m WHERE m.id = outbox.message_id),
    channel_id = (SELECT c.channel_id FROM messages m JOIN chats c ON c.id = m.chat_id WHERE m.id = outbox.message_id),
    expires_at = (SELECT m.expires_at FROM messages m WHERE m.id = outbox.message_id),
    created_at = (SELECT m.created_at FROM messages m WHERE m.id = outbox.message_id);
UPDATE outbox SET head = (id IN (SELECT MIN(o.id) FROM outbox o GROUP BY o.chat_id));
CREATE INDEX outbox_chat ON outbox(chat_id, id);
CREATE INDEX outbox_heads ON outbox(id) WHERE head;
CREATE INDEX outbox_expiry ON outbox(expires_at) WHERE expires_at IS NOT NULL;

-- Platform ids of received messages and updates (Telegram `update_id`, WhatsApp `wamid…`) already
-- stored, so that a platform's retry stores nothing twice.
CREATE TABLE inbound_keys (
    channel_id  INTEGER NOT NULL,
    key         TEXT NOT NULL,
    message_id  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (channel_id, key)
);

-- Server-wide random keys shared by every instance (the key that signs media URLs).
CREATE TABLE server_keys (
    name   TEXT PRIMARY KEY,
    value  BLOB NOT NULL
);
