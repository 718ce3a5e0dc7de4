-- A loan paid out in error and taken back. Its disbursement is reversed at
-- the branch (asked for with a reason, approved by someone else) while
-- nothing was collected on it: the cash goes back to the vault, the loan
-- closes, its schedule goes (nothing falls due, nothing is owed) and the
-- officer's phone drops it. The disbursement, its decision, the reversal
-- and this row keep what happened. Append-only.

CREATE TABLE loan_cancellations (
    loan_id      BIGINT PRIMARY KEY REFERENCES loans (id),
    reversal_id  BIGINT NOT NULL UNIQUE REFERENCES branch_reversals (id),
    entry_id     BIGINT NOT NULL UNIQUE REFERENCES journal_entries (id),
    cancelled_at TIMESTAMPTZ NOT NULL
);
CREATE TRIGGER loan_cancellations_append_only BEFORE UPDATE OR DELETE ON loan_cancellations
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
