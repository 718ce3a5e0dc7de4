-- Version 4: signature images go to the server after their gift record.
-- One row per gift whose image was sent, or refused for good; a gift with a
-- signature and no row here still has its image to send.
CREATE TABLE signature_uploads (
    client_id  TEXT PRIMARY KEY REFERENCES gift_handouts (client_id),
    state      TEXT NOT NULL CHECK (state IN ('sent', 'refused')),
    code       TEXT,
    message_vi TEXT,
    message_en TEXT,
    updated_at INTEGER NOT NULL
);
