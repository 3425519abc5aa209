-- Reads that cost what they return (issue 16).

-- `getunreadmessages` says `NOT m.sent`; SQLite uses a partial index only when the query implies its
-- WHERE clause term by term, and `NOT sent` does not match `sent = 0`: the index is written the
-- query's way.
DROP INDEX messages_unread;
CREATE INDEX messages_unread ON messages(chat_id, id) WHERE NOT sent AND status = 'unread';

-- `getchats`: a channel's chats by their last message, newest first, paged by `before`.
CREATE INDEX chats_last ON chats(channel_id, last_message_id);
