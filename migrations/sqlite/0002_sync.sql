-- Sync: the change feed each officer's phone follows, and the records
-- phones upload. Records are facts: append-only.

-- One row: the last change sequence handed out. Writers take it inside
-- their transaction, so sequences become visible in order.
CREATE TABLE sync_counter (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO sync_counter (id, value) VALUES (1, 0);

-- What changed in whose portfolio. `entity` is worker, loan,
-- boarding_house, campaign or record; the page builder sends the entity's
-- current state (or its removal when it left the portfolio).
CREATE TABLE sync_changes (
    seq        INTEGER PRIMARY KEY,
    officer_id INTEGER NOT NULL,
    entity     TEXT NOT NULL,
    entity_id  INTEGER NOT NULL
);
CREATE INDEX sync_changes_officer ON sync_changes (officer_id, seq);

CREATE TABLE sync_batches (
    batch_id    BLOB PRIMARY KEY,
    device_id   TEXT NOT NULL REFERENCES devices (id),
    officer_id  INTEGER NOT NULL REFERENCES users (id),
    body_hash   TEXT NOT NULL,
    records     INTEGER NOT NULL,
    response    TEXT NOT NULL,
    received_at TEXT NOT NULL
);

CREATE TABLE sync_records (
    id               INTEGER PRIMARY KEY,
    client_id        BLOB NOT NULL UNIQUE,
    batch_id         BLOB NOT NULL REFERENCES sync_batches (batch_id),
    device_id        TEXT NOT NULL REFERENCES devices (id),
    officer_id       INTEGER NOT NULL REFERENCES users (id),
    device_seq       INTEGER NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('visit', 'repayment', 'gift_handout', 'void', 'reversal_request')),
    recorded_at      TEXT NOT NULL,
    received_at      TEXT NOT NULL,
    body             TEXT NOT NULL,
    body_hash        TEXT NOT NULL,
    -- accepted: stored, waiting for review; rejected: refused at upload;
    -- quarantined: from a revoked device, kept for a supervisor.
    status           TEXT NOT NULL CHECK (status IN ('accepted', 'rejected', 'quarantined')),
    code             TEXT,
    message_vi       TEXT,
    message_en       TEXT,
    worker_id        INTEGER REFERENCES workers (id),
    loan_id          INTEGER REFERENCES loans (id),
    campaign_id      INTEGER REFERENCES campaigns (id),
    target_client_id BLOB,
    amount           INTEGER CHECK (amount IS NULL OR amount > 0),
    receipt_no       TEXT
);
CREATE UNIQUE INDEX sync_records_receipt ON sync_records (receipt_no) WHERE receipt_no IS NOT NULL AND status = 'accepted';
CREATE INDEX sync_records_loan ON sync_records (loan_id) WHERE loan_id IS NOT NULL;
CREATE INDEX sync_records_gift ON sync_records (campaign_id, worker_id) WHERE campaign_id IS NOT NULL;
CREATE INDEX sync_records_target ON sync_records (target_client_id, kind, status);
CREATE INDEX sync_records_officer ON sync_records (officer_id);

CREATE TRIGGER sync_records_no_update BEFORE UPDATE ON sync_records
BEGIN SELECT RAISE(ABORT, 'sync_records is append-only'); END;
CREATE TRIGGER sync_records_no_delete BEFORE DELETE ON sync_records
BEGIN SELECT RAISE(ABORT, 'sync_records is append-only'); END;
