-- An officer's cash shortage paid back, or an overage given back, at the
-- branch. A shortage counted at approval is debited to the officer's
-- over/short account (`cash_over_short`); until now nothing could move it
-- again. `over_short_settlements`: cash the officer paid into the vault
-- against a shortage (`paid_in`: debit `vault`, credit `cash_over_short`)
-- or the vault paid the officer against an overage (`paid_out`: the
-- opposite), with a note; posted at once (entry kind
-- `over_short_settlement`), never more than the balance. Append-only.
--
-- SQLite cannot alter a CHECK constraint: `journal_entries` is rebuilt as in
-- 0023, foreign keys deferred.

PRAGMA defer_foreign_keys = ON;

CREATE TEMP TABLE journal_entries_kept AS SELECT * FROM journal_entries;
DROP TABLE journal_entries;
CREATE TABLE journal_entries (
    id         INTEGER PRIMARY KEY,
    branch_id  INTEGER NOT NULL REFERENCES branches (id),
    kind       TEXT NOT NULL CHECK (kind IN ('repayment', 'gift', 'welfare', 'settlement', 'counter_repayment', 'reversal',
                                             'campaign_receipt', 'loan_opening', 'capital_receipt', 'disbursement',
                                             'bank_move', 'over_short_settlement')),
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

CREATE TABLE over_short_settlements (
    id          INTEGER PRIMARY KEY,
    client_id   BLOB NOT NULL UNIQUE,
    branch_id   INTEGER NOT NULL REFERENCES branches (id),
    officer_id  INTEGER NOT NULL REFERENCES users (id),
    direction   TEXT NOT NULL CHECK (direction IN ('paid_in', 'paid_out')),
    amount      INTEGER NOT NULL CHECK (amount > 0),
    note        TEXT NOT NULL,
    entry_id    INTEGER NOT NULL UNIQUE REFERENCES journal_entries (id),
    recorded_by INTEGER NOT NULL REFERENCES users (id),
    recorded_at TEXT NOT NULL
);
CREATE INDEX over_short_settlements_officer ON over_short_settlements (officer_id, id);
CREATE TRIGGER over_short_settlements_no_update BEFORE UPDATE ON over_short_settlements
BEGIN SELECT RAISE(ABORT, 'over_short_settlements is append-only'); END;
CREATE TRIGGER over_short_settlements_no_delete BEFORE DELETE ON over_short_settlements
BEGIN SELECT RAISE(ABORT, 'over_short_settlements is append-only'); END;
