-- Supervisor review and the double-entry loan ledger. Every table here is a
-- fact table: append-only. A record's review state, a loan's balance and an
-- account's balance are derived from these rows (installments and
-- loans.status are kept in step inside the posting transaction).

-- The one decision on an uploaded batch: approved (with the cash counted)
-- or rejected. The primary key makes a second decision impossible.
CREATE TABLE batch_reviews (
    batch_id      BLOB PRIMARY KEY REFERENCES sync_batches (batch_id),
    decision      TEXT NOT NULL CHECK (decision IN ('approved', 'rejected')),
    reviewer_id   INTEGER NOT NULL REFERENCES users (id),
    reason        TEXT,
    cash_expected INTEGER NOT NULL,
    cash_received INTEGER NOT NULL CHECK (cash_received >= 0),
    decided_at    TEXT NOT NULL
);

-- What the decision did to each reviewable record of the batch.
CREATE TABLE record_reviews (
    record_id  INTEGER PRIMARY KEY REFERENCES sync_records (id),
    batch_id   BLOB NOT NULL REFERENCES batch_reviews (batch_id),
    decision   TEXT NOT NULL CHECK (decision IN ('approved', 'excluded', 'rejected')),
    reason     TEXT,
    decided_at TEXT NOT NULL
);
CREATE INDEX record_reviews_batch ON record_reviews (batch_id);
CREATE INDEX sync_records_batch ON sync_records (batch_id);

-- Repayments taken at the branch counter: posted at once.
CREATE TABLE counter_repayments (
    id          INTEGER PRIMARY KEY,
    client_id   BLOB NOT NULL UNIQUE,
    loan_id     INTEGER NOT NULL REFERENCES loans (id),
    branch_id   INTEGER NOT NULL REFERENCES branches (id),
    amount      INTEGER NOT NULL CHECK (amount > 0),
    receipt_no  TEXT NOT NULL UNIQUE,
    note        TEXT NOT NULL,
    recorded_by INTEGER NOT NULL REFERENCES users (id),
    recorded_at TEXT NOT NULL
);

-- Journal entries. `record_id`, `counter_id` and `reverses` are unique:
-- a record posts once, an entry is reversed at most once.
CREATE TABLE journal_entries (
    id         INTEGER PRIMARY KEY,
    branch_id  INTEGER NOT NULL REFERENCES branches (id),
    kind       TEXT NOT NULL CHECK (kind IN ('repayment', 'gift', 'welfare', 'settlement', 'counter_repayment', 'reversal')),
    record_id  INTEGER UNIQUE REFERENCES sync_records (id),
    counter_id INTEGER UNIQUE REFERENCES counter_repayments (id),
    batch_id   BLOB REFERENCES batch_reviews (batch_id),
    reverses   INTEGER UNIQUE REFERENCES journal_entries (id),
    loan_id    INTEGER REFERENCES loans (id),
    officer_id INTEGER REFERENCES users (id),
    posted_by  INTEGER NOT NULL REFERENCES users (id),
    posted_at  TEXT NOT NULL,
    memo       TEXT NOT NULL
);
CREATE UNIQUE INDEX journal_settlement ON journal_entries (batch_id) WHERE kind = 'settlement';
CREATE INDEX journal_entries_loan ON journal_entries (loan_id) WHERE loan_id IS NOT NULL;
CREATE INDEX journal_entries_posted ON journal_entries (posted_at);

-- Journal lines: exactly one side is non-zero.
CREATE TABLE journal_lines (
    id             INTEGER PRIMARY KEY,
    entry_id       INTEGER NOT NULL REFERENCES journal_entries (id),
    account        TEXT NOT NULL CHECK (account IN ('vault', 'cash_in_hand', 'loan_principal', 'interest_income',
                                                    'gift_stock', 'campaign_expense', 'cash_over_short')),
    branch_id      INTEGER NOT NULL REFERENCES branches (id),
    officer_id     INTEGER REFERENCES users (id),
    campaign_id    INTEGER REFERENCES campaigns (id),
    loan_id        INTEGER REFERENCES loans (id),
    debit          INTEGER NOT NULL CHECK (debit >= 0),
    credit         INTEGER NOT NULL CHECK (credit >= 0),
    CHECK ((debit = 0) <> (credit = 0))
);
CREATE INDEX journal_lines_entry ON journal_lines (entry_id);
CREATE INDEX journal_lines_account ON journal_lines (account, branch_id);

-- Reversals entered at the branch wait for a second person.
CREATE TABLE branch_reversals (
    id           INTEGER PRIMARY KEY,
    entry_id     INTEGER NOT NULL REFERENCES journal_entries (id),
    reason       TEXT NOT NULL,
    requested_by INTEGER NOT NULL REFERENCES users (id),
    requested_at TEXT NOT NULL
);
CREATE TABLE branch_reversal_decisions (
    reversal_id INTEGER PRIMARY KEY REFERENCES branch_reversals (id),
    decision    TEXT NOT NULL CHECK (decision IN ('approved', 'rejected')),
    reviewer_id INTEGER NOT NULL REFERENCES users (id),
    reason      TEXT,
    decided_at  TEXT NOT NULL
);

CREATE TRIGGER batch_reviews_no_update BEFORE UPDATE ON batch_reviews
BEGIN SELECT RAISE(ABORT, 'batch_reviews is append-only'); END;
CREATE TRIGGER batch_reviews_no_delete BEFORE DELETE ON batch_reviews
BEGIN SELECT RAISE(ABORT, 'batch_reviews is append-only'); END;
CREATE TRIGGER record_reviews_no_update BEFORE UPDATE ON record_reviews
BEGIN SELECT RAISE(ABORT, 'record_reviews is append-only'); END;
CREATE TRIGGER record_reviews_no_delete BEFORE DELETE ON record_reviews
BEGIN SELECT RAISE(ABORT, 'record_reviews is append-only'); END;
CREATE TRIGGER counter_repayments_no_update BEFORE UPDATE ON counter_repayments
BEGIN SELECT RAISE(ABORT, 'counter_repayments is append-only'); END;
CREATE TRIGGER counter_repayments_no_delete BEFORE DELETE ON counter_repayments
BEGIN SELECT RAISE(ABORT, 'counter_repayments is append-only'); END;
CREATE TRIGGER journal_entries_no_update BEFORE UPDATE ON journal_entries
BEGIN SELECT RAISE(ABORT, 'journal_entries is append-only'); END;
CREATE TRIGGER journal_entries_no_delete BEFORE DELETE ON journal_entries
BEGIN SELECT RAISE(ABORT, 'journal_entries is append-only'); END;
CREATE TRIGGER journal_lines_no_update BEFORE UPDATE ON journal_lines
BEGIN SELECT RAISE(ABORT, 'journal_lines is append-only'); END;
CREATE TRIGGER journal_lines_no_delete BEFORE DELETE ON journal_lines
BEGIN SELECT RAISE(ABORT, 'journal_lines is append-only'); END;
CREATE TRIGGER branch_reversals_no_update BEFORE UPDATE ON branch_reversals
BEGIN SELECT RAISE(ABORT, 'branch_reversals is append-only'); END;
CREATE TRIGGER branch_reversals_no_delete BEFORE DELETE ON branch_reversals
BEGIN SELECT RAISE(ABORT, 'branch_reversals is append-only'); END;
CREATE TRIGGER branch_reversal_decisions_no_update BEFORE UPDATE ON branch_reversal_decisions
BEGIN SELECT RAISE(ABORT, 'branch_reversal_decisions is append-only'); END;
CREATE TRIGGER branch_reversal_decisions_no_delete BEFORE DELETE ON branch_reversal_decisions
BEGIN SELECT RAISE(ABORT, 'branch_reversal_decisions is append-only'); END;
