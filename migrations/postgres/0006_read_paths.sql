-- Reads that cost what they return (issue 16).

-- `getchats`: a channel's chats by their last message, newest first, paged by `before`.
CREATE INDEX chats_last ON chats(channel_id, last_message_id);
