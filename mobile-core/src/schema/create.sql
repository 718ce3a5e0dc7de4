-- Sổ Tay field book: the current schema (version 10), for a fresh install.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;

-- Master data (replaced by a portfolio snapshot, updated by change pages).

CREATE TABLE officer (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    officer_id  TEXT NOT NULL,
    code        TEXT NOT NULL,
    full_name   TEXT NOT NULL,
    branch_id   TEXT NOT NULL,
    branch_name TEXT NOT NULL,
    -- The over/short balance the server last sent (NULL: not sent).
    cash_short  INTEGER,
    -- Of the shortages, what the fund bore; of the overages, what it kept
    -- (written off), as the server last sent them.
    short_written_off INTEGER,
    over_written_off  INTEGER
);

CREATE TABLE boarding_houses (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    address        TEXT NOT NULL,
    zone           TEXT,
    route_order    INTEGER NOT NULL DEFAULT 0,
    landlord_name  TEXT,
    landlord_phone TEXT
);

CREATE TABLE workers (
    id                TEXT PRIMARY KEY,
    full_name         TEXT NOT NULL,
    name_key          TEXT NOT NULL,
    phone             TEXT,
    cccd              TEXT,
    boarding_house_id TEXT,
    room              TEXT,
    factory           TEXT,
    union_member      INTEGER NOT NULL,
    hardship          INTEGER NOT NULL,
    -- The fund's code for the worker (NLD-00119), searched for.
    code              TEXT
);
CREATE INDEX workers_house ON workers (boarding_house_id);

CREATE TABLE loans (
    id             TEXT PRIMARY KEY,
    worker_id      TEXT NOT NULL,
    contract_no    TEXT NOT NULL,
    product_name   TEXT NOT NULL,
    principal      INTEGER NOT NULL CHECK (principal > 0),
    annual_rate_bp INTEGER NOT NULL,
    method         TEXT NOT NULL,
    frequency      TEXT NOT NULL,
    disbursed_on   TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('active', 'closed'))
);
CREATE INDEX loans_worker ON loans (worker_id);

CREATE TABLE installments (
    loan_id        TEXT NOT NULL,
    number         INTEGER NOT NULL,
    due_on         TEXT NOT NULL,
    principal_due  INTEGER NOT NULL,
    interest_due   INTEGER NOT NULL,
    principal_paid INTEGER NOT NULL,
    interest_paid  INTEGER NOT NULL,
    PRIMARY KEY (loan_id, number)
) WITHOUT ROWID;
CREATE INDEX installments_due ON installments (due_on);

CREATE TABLE campaigns (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    kind               TEXT NOT NULL,
    eligibility        TEXT NOT NULL,
    gift_value         INTEGER NOT NULL,
    starts_on          TEXT NOT NULL,
    ends_on            TEXT NOT NULL,
    officer_allocation INTEGER NOT NULL,
    officer_remaining  INTEGER NOT NULL
);

CREATE TABLE campaign_recipients (
    campaign_id TEXT NOT NULL,
    worker_id   TEXT NOT NULL,
    PRIMARY KEY (campaign_id, worker_id)
) WITHOUT ROWID;

-- Facts recorded on this device: append-only.

CREATE TABLE outbox (
    client_id   TEXT PRIMARY KEY,
    device_seq  INTEGER NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    recorded_at INTEGER NOT NULL,
    local_day   TEXT NOT NULL,
    summary     TEXT NOT NULL,
    envelope    TEXT NOT NULL
);
CREATE INDEX outbox_day ON outbox (local_day);

CREATE TABLE visits (
    client_id   TEXT PRIMARY KEY REFERENCES outbox (client_id),
    worker_id   TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    notes       TEXT NOT NULL,
    latitude    REAL,
    longitude   REAL,
    accuracy_m  REAL,
    recorded_at INTEGER NOT NULL
);
CREATE INDEX visits_worker ON visits (worker_id);

CREATE TABLE repayments (
    client_id     TEXT PRIMARY KEY REFERENCES outbox (client_id),
    loan_id       TEXT NOT NULL,
    worker_id     TEXT NOT NULL,
    amount        INTEGER NOT NULL CHECK (amount > 0),
    receipt_no    TEXT NOT NULL UNIQUE,
    interest      INTEGER NOT NULL,
    principal     INTEGER NOT NULL,
    balance_after INTEGER NOT NULL,
    allocation    TEXT NOT NULL,
    receipt_text  TEXT NOT NULL,
    recorded_at   INTEGER NOT NULL
);
CREATE INDEX repayments_loan ON repayments (loan_id);

CREATE TABLE gift_handouts (
    client_id         TEXT PRIMARY KEY REFERENCES outbox (client_id),
    campaign_id       TEXT NOT NULL,
    worker_id         TEXT NOT NULL,
    acknowledged_name TEXT NOT NULL,
    recorded_at       INTEGER NOT NULL,
    signature_sha256  TEXT
);
CREATE INDEX gift_handouts_worker ON gift_handouts (worker_id, campaign_id);

CREATE TABLE voids (
    client_id   TEXT PRIMARY KEY REFERENCES outbox (client_id),
    target_id   TEXT NOT NULL UNIQUE,
    reason      TEXT NOT NULL,
    recorded_at INTEGER NOT NULL
);

CREATE TABLE reversal_requests (
    client_id   TEXT PRIMARY KEY REFERENCES outbox (client_id),
    target_id   TEXT NOT NULL,
    reason      TEXT NOT NULL,
    recorded_at INTEGER NOT NULL
);
CREATE INDEX reversal_requests_target ON reversal_requests (target_id);

-- Signature images of gift acknowledgements, keyed by their SHA-256.
CREATE TABLE signatures (
    sha256 TEXT PRIMARY KEY,
    image  BLOB NOT NULL
) WITHOUT ROWID;

-- Signature images sent to the server (or refused by it for good), one row
-- per gift; a gift with a signature and no row still has its image to send.
CREATE TABLE signature_uploads (
    client_id  TEXT PRIMARY KEY REFERENCES gift_handouts (client_id),
    state      TEXT NOT NULL CHECK (state IN ('sent', 'refused')),
    code       TEXT,
    message_vi TEXT,
    message_en TEXT,
    updated_at INTEGER NOT NULL
);

-- Where each fact stands with the server (the only mutable record table).
CREATE TABLE record_states (
    client_id  TEXT PRIMARY KEY REFERENCES outbox (client_id),
    state      TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'approved', 'rejected', 'reversed', 'wedged')),
    code       TEXT,
    message_vi TEXT,
    message_en TEXT,
    updated_at INTEGER NOT NULL
);
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

CREATE TRIGGER outbox_append_only_u BEFORE UPDATE ON outbox BEGIN SELECT RAISE(ABORT, 'outbox is append-only'); END;
CREATE TRIGGER outbox_append_only_d BEFORE DELETE ON outbox BEGIN SELECT RAISE(ABORT, 'outbox is append-only'); END;
CREATE TRIGGER visits_append_only_u BEFORE UPDATE ON visits BEGIN SELECT RAISE(ABORT, 'visits are append-only'); END;
CREATE TRIGGER visits_append_only_d BEFORE DELETE ON visits BEGIN SELECT RAISE(ABORT, 'visits are append-only'); END;
CREATE TRIGGER repayments_append_only_u BEFORE UPDATE ON repayments BEGIN SELECT RAISE(ABORT, 'repayments are append-only'); END;
CREATE TRIGGER repayments_append_only_d BEFORE DELETE ON repayments BEGIN SELECT RAISE(ABORT, 'repayments are append-only'); END;
CREATE TRIGGER gift_handouts_append_only_u BEFORE UPDATE ON gift_handouts BEGIN SELECT RAISE(ABORT, 'gift handouts are append-only'); END;
CREATE TRIGGER gift_handouts_append_only_d BEFORE DELETE ON gift_handouts BEGIN SELECT RAISE(ABORT, 'gift handouts are append-only'); END;
CREATE TRIGGER voids_append_only_u BEFORE UPDATE ON voids BEGIN SELECT RAISE(ABORT, 'voids are append-only'); END;
CREATE TRIGGER voids_append_only_d BEFORE DELETE ON voids BEGIN SELECT RAISE(ABORT, 'voids are append-only'); END;
CREATE TRIGGER reversal_requests_append_only_u BEFORE UPDATE ON reversal_requests BEGIN SELECT RAISE(ABORT, 'reversal requests are append-only'); END;
CREATE TRIGGER reversal_requests_append_only_d BEFORE DELETE ON reversal_requests BEGIN SELECT RAISE(ABORT, 'reversal requests are append-only'); END;

-- The cash a supervisor counted for each of the officer's approved batches,
-- as the server sends it (its difference from what the approved repayments
-- came to is the officer's shortage or overage).
CREATE TABLE cash_counts (
    batch_id      TEXT PRIMARY KEY,
    decided_at    INTEGER NOT NULL,
    cash_expected INTEGER NOT NULL,
    cash_received INTEGER NOT NULL
) WITHOUT ROWID;

-- What the branch did with the cash or package of a refused repayment or
-- gift (taken at the counter, given back...), as the server sends it once
-- a supervisor marked it settled.
CREATE TABLE record_settlements (
    client_id  TEXT PRIMARY KEY REFERENCES outbox (client_id),
    note       TEXT NOT NULL,
    settled_at INTEGER NOT NULL,
    -- A gift's package handed out for real (1): the worker has the
    -- campaign's gift by it.
    handed_out INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Records a supervisor had approved when the server turned out restored
-- from an older backup: sent again, they wait for review once more, but
-- their cash was handed over at that approval.
CREATE TABLE approved_before_restore (
    client_id TEXT PRIMARY KEY REFERENCES outbox (client_id)
) WITHOUT ROWID;

-- Repayments of the officer's other phones (or of this phone before its
-- field book was started again) that the server took in, as their
-- statuses come down: while one waits for review it counts against its
-- loan's balance here too.
CREATE TABLE other_receipts (
    client_id TEXT PRIMARY KEY,
    loan_id   TEXT NOT NULL,
    amount    INTEGER NOT NULL CHECK (amount > 0),
    state     TEXT NOT NULL,
    -- Refused or held: the branch dealt with its cash (a note came down).
    settled   INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX other_receipts_loan ON other_receipts (loan_id, state);

-- Receipts another officer took on a loan of this officer's (before its
-- worker moved here), waiting for review, as the server sends them with
-- the loan: the loan owes that much less once they are approved.
CREATE TABLE waiting_elsewhere (
    client_id  TEXT PRIMARY KEY,
    loan_id    TEXT NOT NULL,
    amount     INTEGER NOT NULL CHECK (amount > 0),
    receipt_no TEXT
) WITHOUT ROWID;
CREATE INDEX waiting_elsewhere_loan ON waiting_elsewhere (loan_id);
