-- Rooms (SPEC §1): named chats of an account's operator channel (the chat `#NAME`) with member
-- operators, as Chat&Messenger's chat rooms. Members are logins, separated by spaces.
CREATE TABLE rooms (
    id          BIGSERIAL PRIMARY KEY,
    account_id  BIGINT NOT NULL,
    name        TEXT NOT NULL,
    is_public   BOOLEAN NOT NULL DEFAULT FALSE,
    admin       TEXT,
    members     TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    UNIQUE (account_id, name)
);
