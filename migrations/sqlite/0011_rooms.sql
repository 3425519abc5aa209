-- Rooms (SPEC §1): named chats of an account's operator channel (the chat `#NAME`) with member
-- operators, as Chat&Messenger's chat rooms. Members are logins, separated by spaces.
CREATE TABLE rooms (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL,
    name        TEXT NOT NULL,
    is_public   INTEGER NOT NULL DEFAULT 0,
    admin       TEXT,
    members     TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    UNIQUE (account_id, name)
);
