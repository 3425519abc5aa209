-- What the platforms tell of a received message besides its text and file: its author, a button
-- reply's payload, a location, the file's name, when it was edited (JSON; see MessageDetails).
ALTER TABLE messages ADD COLUMN details TEXT;

-- A WhatsApp chat's other name: the wa_id Meta's send answer gave for a number typed another way, so
-- that the person's reply (from that wa_id) joins the chat the business started.
CREATE TABLE chat_aliases (
    channel_id  BIGINT NOT NULL,
    alias       TEXT NOT NULL,
    chat_id     BIGINT NOT NULL,
    PRIMARY KEY (channel_id, alias)
);

-- WhatsApp statuses that arrived before the send's wamid was recorded: applied when it is, dropped
-- after 10 minutes.
CREATE TABLE early_statuses (
    channel_id           BIGINT NOT NULL,
    platform_message_id  TEXT NOT NULL,
    status               TEXT NOT NULL,
    reason               TEXT,
    created_at           BIGINT NOT NULL
);
CREATE INDEX early_statuses_message ON early_statuses(platform_message_id);
