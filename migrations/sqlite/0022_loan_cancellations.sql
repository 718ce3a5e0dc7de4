-- A loan paid out in error and taken back. Its disbursement is reversed at
-- the branch (asked for with a reason, approved by someone else) while
-- nothing was collected on it: the cash goes back to the vault, the loan
-- closes, its schedule goes (nothing falls due, nothing is owed) and the
-- officer's phone drops it. The disbursement, its decision, the reversal
-- and this row keep what happened. Append-only.

CREATE TABLE loan_cancellations (
    loan_id      INTEGER PRIMARY KEY REFERENCES loans (id),
    reversal_id  INTEGER NOT NULL UNIQUE REFERENCES branch_reversals (id),
    entry_id     INTEGER NOT NULL UNIQUE REFERENCES journal_entries (id),
    cancelled_at TEXT NOT NULL
);
CREATE TRIGGER loan_cancellations_no_update BEFORE UPDATE ON loan_cancellations
BEGIN SELECT RAISE(ABORT, 'loan_cancellations is append-only'); END;
CREATE TRIGGER loan_cancellations_no_delete BEFORE DELETE ON loan_cancellations
BEGIN SELECT RAISE(ABORT, 'loan_cancellations is append-only'); END;
