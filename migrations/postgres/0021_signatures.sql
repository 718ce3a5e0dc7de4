-- Signature images of gift handouts. The phone records the gift with the
-- SHA-256 of the recipient's signature image and sends the image after the
-- record: `PUT /api/v1/sync/records/{client_id}/signature`. The image is
-- stored once per officer under its SHA-256, with the record it first came
-- for (the image last in the row: reads of the other columns skip it).
-- Append-only.

CREATE TABLE signatures (
    sha256      TEXT NOT NULL CHECK (length(sha256) = 64),
    -- Each officer's images apart: a record shows only an image its own
    -- officer sent, whatever hash another record names.
    uploaded_by BIGINT NOT NULL REFERENCES users (id),
    bytes       BIGINT NOT NULL CHECK (bytes > 0),
    media_type  TEXT NOT NULL CHECK (media_type IN ('image/png', 'image/jpeg', 'image/webp')),
    record_id   BIGINT NOT NULL REFERENCES sync_records (id),
    device_id   TEXT NOT NULL REFERENCES devices (id),
    received_at TIMESTAMPTZ NOT NULL,
    image       BYTEA NOT NULL,
    PRIMARY KEY (sha256, uploaded_by)
);
CREATE INDEX signatures_record ON signatures (record_id);
CREATE TRIGGER signatures_append_only BEFORE UPDATE OR DELETE ON signatures
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
