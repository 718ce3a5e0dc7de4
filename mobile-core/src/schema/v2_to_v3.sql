-- Version 3: the sync client. Records that keep failing to upload are
-- "wedged" (the state check is widened, so the table is rebuilt); the
-- session lives in settings; upload batches are kept before they are sent.

CREATE TABLE record_states_v3 (
    client_id  TEXT PRIMARY KEY REFERENCES outbox (client_id),
    state      TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'approved', 'rejected', 'reversed', 'wedged')),
    code       TEXT,
    message_vi TEXT,
    message_en TEXT,
    updated_at INTEGER NOT NULL
);
INSERT INTO record_states_v3 (client_id, state, code, message_vi, message_en, updated_at)
    SELECT client_id, state, code, message_vi, message_en, updated_at FROM record_states;
DROP TABLE record_states;
ALTER TABLE record_states_v3 RENAME TO record_states;
CREATE INDEX record_states_state ON record_states (state);

-- This installation's settings: the server and the signed-in session.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Upload batches, written before they are sent: after an interruption the
-- same batch (same id, same bytes) is sent again first.
CREATE TABLE upload_batches (
    seq        INTEGER PRIMARY KEY,
    batch_id   TEXT NOT NULL UNIQUE,
    body       TEXT NOT NULL,
    records    INTEGER NOT NULL CHECK (records > 0),
    state      TEXT NOT NULL CHECK (state IN ('open', 'done', 'split', 'wedged')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX upload_batches_state ON upload_batches (state, seq);

CREATE TABLE upload_batch_records (
    batch_seq INTEGER NOT NULL REFERENCES upload_batches (seq),
    client_id TEXT NOT NULL REFERENCES outbox (client_id),
    PRIMARY KEY (batch_seq, client_id)
) WITHOUT ROWID;
CREATE INDEX upload_batch_records_client ON upload_batch_records (client_id);
