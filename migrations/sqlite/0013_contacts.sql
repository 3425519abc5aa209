-- The person at the other end of a chat: contact fields (a JSON object of name, email, phone_number,
-- company, external_customer_id) and the page's custom data (a JSON object of at most 8 KiB); the
-- conversation's state (ended_at set while it is ended; the next message clears it) and its assignee
-- (an operator login, or "group:NAME").
ALTER TABLE chats ADD COLUMN contact TEXT NOT NULL DEFAULT '{}';
ALTER TABLE chats ADD COLUMN custom TEXT NOT NULL DEFAULT '{}';
ALTER TABLE chats ADD COLUMN ended_at INTEGER;
ALTER TABLE chats ADD COLUMN assignee TEXT;
-- What a chat event says beyond its message or operator, as it was when it happened: the contact,
-- custom data and assignee, and the event's own fields (a JSON object merged into the body).
ALTER TABLE webhook_deliveries ADD COLUMN extra TEXT;
-- The chat a chat event is about when it names no message (contact.*, conversation.ended, …).
ALTER TABLE webhook_deliveries ADD COLUMN chat_id INTEGER;
-- What the contact left after the conversation's end: a rating (1–5) and feedback, and the survey's
-- chosen answer; each taken once per end (rated_at / surveyed_at after ended_at).
ALTER TABLE chats ADD COLUMN rating INTEGER;
ALTER TABLE chats ADD COLUMN feedback TEXT;
ALTER TABLE chats ADD COLUMN rated_at INTEGER;
ALTER TABLE chats ADD COLUMN survey TEXT;
ALTER TABLE chats ADD COLUMN surveyed_at INTEGER;
-- Goals reached: once per goal and session (the session's first message).
CREATE TABLE goals_reached (
    chat_id        INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    session_start  INTEGER NOT NULL,
    goal           TEXT NOT NULL,
    reached_at     INTEGER NOT NULL,
    PRIMARY KEY (chat_id, session_start, goal)
);
