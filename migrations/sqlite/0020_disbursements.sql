-- Loans paid out at the branch. Until now a loan came into Sổ Tay only by
-- an import. A branch now pays a new loan out of its vault in cash:
--
-- * `capital_receipts`: lending capital the fund sends a branch, posted at
--   once by an admin: debit `vault`, credit `loan_capital` (entry kind
--   `capital_receipt`).
-- * `disbursements`: a loan asked for at the branch for one worker, from a
--   loan product. Someone other than the asker decides it
--   (`disbursement_decisions`). Approval creates the loan and its schedule
--   and posts debit `loan_principal` (the loan), credit `vault` (entry kind
--   `disbursement`); the vault may not go below zero.
--
-- All three tables are append-only. SQLite cannot alter a CHECK constraint:
-- `journal_entries` is rebuilt as in 0018, foreign keys deferred.

PRAGMA defer_foreign_keys = ON;

CREATE TEMP TABLE journal_entries_kept AS SELECT * FROM journal_entries;
DROP TABLE journal_entries;
CREATE TABLE journal_entries (
    id         INTEGER PRIMARY KEY,
    branch_id  INTEGER NOT NULL REFERENCES branches (id),
    kind       TEXT NOT NULL CHECK (kind IN ('repayment', 'gift', 'welfare', 'settlement', 'counter_repayment', 'reversal',
                                             'campaign_receipt', 'loan_opening', 'capital_receipt', 'disbursement')),
    record_id  INTEGER UNIQUE REFERENCES sync_records (id),
    counter_id INTEGER UNIQUE REFERENCES counter_repayments (id),
    batch_id   BLOB REFERENCES batch_reviews (batch_id),
    reverses   INTEGER UNIQUE REFERENCES journal_entries (id),
    loan_id    INTEGER REFERENCES loans (id),
    officer_id INTEGER REFERENCES users (id),
    posted_by  INTEGER REFERENCES users (id),
    posted_at  TEXT NOT NULL,
    memo       TEXT NOT NULL,
    receipt_id INTEGER UNIQUE REFERENCES campaign_receipts (id),
    CHECK (posted_by IS NOT NULL OR kind = 'loan_opening')
);
INSERT INTO journal_entries (id, branch_id, kind, record_id, counter_id, batch_id, reverses, loan_id, officer_id,
                             posted_by, posted_at, memo, receipt_id)
    SELECT id, branch_id, kind, record_id, counter_id, batch_id, reverses, loan_id, officer_id,
           posted_by, posted_at, memo, receipt_id
    FROM journal_entries_kept ORDER BY id;
DROP TABLE journal_entries_kept;
CREATE UNIQUE INDEX journal_settlement ON journal_entries (batch_id) WHERE kind = 'settlement';
CREATE UNIQUE INDEX journal_loan_opening ON journal_entries (loan_id) WHERE kind = 'loan_opening';
CREATE INDEX journal_entries_loan ON journal_entries (loan_id) WHERE loan_id IS NOT NULL;
CREATE INDEX journal_entries_posted ON journal_entries (posted_at);
CREATE TRIGGER journal_entries_no_update BEFORE UPDATE ON journal_entries
BEGIN SELECT RAISE(ABORT, 'journal_entries is append-only'); END;
CREATE TRIGGER journal_entries_no_delete BEFORE DELETE ON journal_entries
BEGIN SELECT RAISE(ABORT, 'journal_entries is append-only'); END;

CREATE TABLE capital_receipts (
    id          INTEGER PRIMARY KEY,
    client_id   BLOB NOT NULL UNIQUE,
    branch_id   INTEGER NOT NULL REFERENCES branches (id),
    amount      INTEGER NOT NULL CHECK (amount > 0),
    received_on TEXT NOT NULL,
    source      TEXT NOT NULL,
    entry_id    INTEGER NOT NULL UNIQUE REFERENCES journal_entries (id),
    recorded_by INTEGER NOT NULL REFERENCES users (id),
    recorded_at TEXT NOT NULL
);
CREATE INDEX capital_receipts_branch ON capital_receipts (branch_id);
CREATE TRIGGER capital_receipts_no_update BEFORE UPDATE ON capital_receipts
BEGIN SELECT RAISE(ABORT, 'capital_receipts is append-only'); END;
CREATE TRIGGER capital_receipts_no_delete BEFORE DELETE ON capital_receipts
BEGIN SELECT RAISE(ABORT, 'capital_receipts is append-only'); END;

CREATE TABLE disbursements (
    id           INTEGER PRIMARY KEY,
    client_id    BLOB NOT NULL UNIQUE,
    branch_id    INTEGER NOT NULL REFERENCES branches (id),
    worker_id    INTEGER NOT NULL REFERENCES workers (id),
    product_id   INTEGER NOT NULL REFERENCES loan_products (id),
    principal    INTEGER NOT NULL CHECK (principal > 0),
    note         TEXT NOT NULL,
    requested_by INTEGER NOT NULL REFERENCES users (id),
    requested_at TEXT NOT NULL
);
CREATE INDEX disbursements_branch ON disbursements (branch_id, id);
CREATE INDEX disbursements_worker ON disbursements (worker_id);
CREATE TABLE disbursement_decisions (
    disbursement_id INTEGER PRIMARY KEY REFERENCES disbursements (id),
    decision        TEXT NOT NULL CHECK (decision IN ('approved', 'rejected')),
    reviewer_id     INTEGER NOT NULL REFERENCES users (id),
    reason          TEXT,
    loan_id         INTEGER UNIQUE REFERENCES loans (id),
    entry_id        INTEGER UNIQUE REFERENCES journal_entries (id),
    decided_at      TEXT NOT NULL,
    CHECK ((decision = 'approved') = (loan_id IS NOT NULL AND entry_id IS NOT NULL))
);
CREATE TRIGGER disbursements_no_update BEFORE UPDATE ON disbursements
BEGIN SELECT RAISE(ABORT, 'disbursements is append-only'); END;
CREATE TRIGGER disbursements_no_delete BEFORE DELETE ON disbursements
BEGIN SELECT RAISE(ABORT, 'disbursements is append-only'); END;
CREATE TRIGGER disbursement_decisions_no_update BEFORE UPDATE ON disbursement_decisions
BEGIN SELECT RAISE(ABORT, 'disbursement_decisions is append-only'); END;
CREATE TRIGGER disbursement_decisions_no_delete BEFORE DELETE ON disbursement_decisions
BEGIN SELECT RAISE(ABORT, 'disbursement_decisions is append-only'); END;
