-- Signature images of gift handouts. The phone records the gift with the
-- SHA-256 of the recipient's signature image and sends the image after the
-- record: `PUT /api/v1/sync/records/{client_id}/signature`. The image is
-- stored once under its SHA-256, with the record it first came for.
-- Append-only.

CREATE TABLE signatures (
    sha256      TEXT PRIMARY KEY CHECK (length(sha256) = 64),
    image       BLOB NOT NULL,
    bytes       INTEGER NOT NULL CHECK (bytes > 0),
    media_type  TEXT NOT NULL CHECK (media_type IN ('image/png', 'image/jpeg', 'image/webp')),
    record_id   INTEGER NOT NULL REFERENCES sync_records (id),
    uploaded_by INTEGER NOT NULL REFERENCES users (id),
    device_id   TEXT NOT NULL REFERENCES devices (id),
    received_at TEXT NOT NULL
);
CREATE TRIGGER signatures_no_update BEFORE UPDATE ON signatures
BEGIN SELECT RAISE(ABORT, 'signatures is append-only'); END;
CREATE TRIGGER signatures_no_delete BEFORE DELETE ON signatures
BEGIN SELECT RAISE(ABORT, 'signatures is append-only'); END;
