-- Signature images of gift handouts. The phone records the gift with the
-- SHA-256 of the recipient's signature image and sends the image after the
-- record: `PUT /api/v1/sync/records/{client_id}/signature`. The image is
-- stored once under its SHA-256, with the record it first came for.
-- Append-only.

CREATE TABLE signatures (
    sha256      TEXT PRIMARY KEY CHECK (length(sha256) = 64),
    image       BYTEA NOT NULL,
    bytes       BIGINT NOT NULL CHECK (bytes > 0),
    media_type  TEXT NOT NULL CHECK (media_type IN ('image/png', 'image/jpeg', 'image/webp')),
    record_id   BIGINT NOT NULL REFERENCES sync_records (id),
    uploaded_by BIGINT NOT NULL REFERENCES users (id),
    device_id   TEXT NOT NULL REFERENCES devices (id),
    received_at TIMESTAMPTZ NOT NULL
);
CREATE TRIGGER signatures_append_only BEFORE UPDATE OR DELETE ON signatures
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
