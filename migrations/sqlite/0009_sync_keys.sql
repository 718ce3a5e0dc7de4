-- A record's batch, device and officer checked with one key: the device and
-- the officer are the batch's (sync_batches refers to devices and users), so
-- one composite foreign key replaces the three single-column ones.
--
-- SQLite cannot change a table's foreign keys in place: the table is rebuilt
-- the documented way (https://www.sqlite.org/lang_altertable.html, "making
-- other kinds of table schema changes"): a new table, the rows copied, the
-- old table dropped, the new one renamed, its indexes and its append-only
-- triggers created again. Migrations run with foreign keys off, and
-- `PRAGMA foreign_key_check` must find nothing before the database is used
-- (see `Db::connect`).

CREATE UNIQUE INDEX sync_batches_identity ON sync_batches (batch_id, device_id, officer_id);

-- Every stored record names its batch's device and officer (the migration
-- fails here otherwise, changing nothing).
CREATE TEMP TABLE sync_keys_check (orphans INTEGER NOT NULL CHECK (orphans = 0));
INSERT INTO sync_keys_check
SELECT COUNT(*) FROM sync_records r
WHERE NOT EXISTS (SELECT 1 FROM sync_batches b
                  WHERE b.batch_id = r.batch_id AND b.device_id = r.device_id AND b.officer_id = r.officer_id);
DROP TABLE sync_keys_check;

CREATE TABLE sync_records_new (
    id               INTEGER PRIMARY KEY,
    client_id        BLOB NOT NULL UNIQUE,
    batch_id         BLOB NOT NULL,
    device_id        TEXT NOT NULL,
    officer_id       INTEGER NOT NULL,
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
    receipt_no       TEXT,
    FOREIGN KEY (batch_id, device_id, officer_id) REFERENCES sync_batches (batch_id, device_id, officer_id)
);
INSERT INTO sync_records_new (id, client_id, batch_id, device_id, officer_id, device_seq, kind, recorded_at,
        received_at, body, body_hash, status, code, message_vi, message_en, worker_id, loan_id, campaign_id,
        target_client_id, amount, receipt_no)
SELECT id, client_id, batch_id, device_id, officer_id, device_seq, kind, recorded_at,
        received_at, body, body_hash, status, code, message_vi, message_en, worker_id, loan_id, campaign_id,
        target_client_id, amount, receipt_no
FROM sync_records;
DROP TABLE sync_records;
ALTER TABLE sync_records_new RENAME TO sync_records;

CREATE UNIQUE INDEX sync_records_receipt ON sync_records (receipt_no) WHERE receipt_no IS NOT NULL AND status = 'accepted';
-- A loan's records of one kind and status (pending collections at upload and
-- at approval) read by one index range; on (loan_id) alone the planner reads
-- every record of the kind through sync_records_kind_time instead.
CREATE INDEX sync_records_loan ON sync_records (loan_id, kind, status) WHERE loan_id IS NOT NULL;
CREATE INDEX sync_records_gift ON sync_records (campaign_id, worker_id) WHERE campaign_id IS NOT NULL;
CREATE INDEX sync_records_target ON sync_records (target_client_id, kind, status);
CREATE INDEX sync_records_officer ON sync_records (officer_id);
CREATE INDEX sync_records_batch ON sync_records (batch_id);
CREATE INDEX sync_records_officer_gift ON sync_records (officer_id, campaign_id) WHERE kind = 'gift_handout';
CREATE INDEX sync_records_kind_time ON sync_records (kind, recorded_at);
CREATE INDEX sync_records_worker ON sync_records (worker_id, kind) WHERE worker_id IS NOT NULL;

CREATE TRIGGER sync_records_no_update BEFORE UPDATE ON sync_records
BEGIN SELECT RAISE(ABORT, 'sync_records is append-only'); END;
CREATE TRIGGER sync_records_no_delete BEFORE DELETE ON sync_records
BEGIN SELECT RAISE(ABORT, 'sync_records is append-only'); END;
