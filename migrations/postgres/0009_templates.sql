-- A WhatsApp channel's message templates as its listing last gave them, one row per name and
-- language (the template as JSON: see domain::templates::Template).
CREATE TABLE templates (
    channel_id  BIGINT NOT NULL,
    name        TEXT NOT NULL,
    language    TEXT NOT NULL,
    template    TEXT NOT NULL,
    fetched_at  BIGINT NOT NULL,
    PRIMARY KEY (channel_id, name, language)
);

-- When the person last wrote, by the platform's own clock: WhatsApp's 24-hour window.
ALTER TABLE chats ADD COLUMN last_inbound_at BIGINT;
