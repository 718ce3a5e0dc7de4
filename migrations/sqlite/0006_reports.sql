-- Reports (issue 6). Self-contained: the summary the daily-collections report
-- reads, the outstanding principal the portfolio-at-risk report reads, and
-- the indexes the other reports need.

-- What posted on one day (Asia/Ho_Chi_Minh) for one officer of one branch
-- (officer_id 0: the branch counter). Written by the posting code in the
-- same transaction as the journal entries it sums (server/src/db/review.rs,
-- Poster::write); the ledger-agreement test checks it against journal_lines.
CREATE TABLE report_daily (
    day            TEXT NOT NULL,
    branch_id      INTEGER NOT NULL REFERENCES branches (id),
    officer_id     INTEGER NOT NULL,
    -- credits minus debits to loan_principal / interest_income
    principal_net  INTEGER NOT NULL DEFAULT 0,
    interest_net   INTEGER NOT NULL DEFAULT 0,
    -- principal and interest taken back by reversals (already in the nets)
    reversed       INTEGER NOT NULL DEFAULT 0,
    -- settlements: cash the officer should hand over, cash counted, shortage
    -- (debit minus credit to cash_over_short: positive short, negative over)
    cash_expected  INTEGER NOT NULL DEFAULT 0,
    cash_received  INTEGER NOT NULL DEFAULT 0,
    shortage       INTEGER NOT NULL DEFAULT 0,
    -- repayments taken at the counter, into the vault
    counter_cash   INTEGER NOT NULL DEFAULT 0,
    repayments     INTEGER NOT NULL DEFAULT 0,
    reversals      INTEGER NOT NULL DEFAULT 0,
    batches        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, branch_id, officer_id)
);
CREATE INDEX report_daily_branch ON report_daily (branch_id, day);

-- A loan's outstanding principal, kept equal to the sum over its
-- installments by triggers in the same statement as any change to them.
ALTER TABLE loans ADD COLUMN principal_outstanding INTEGER NOT NULL DEFAULT 0;
UPDATE loans SET principal_outstanding =
    (SELECT COALESCE(SUM(i.principal_due - i.principal_paid), 0) FROM installments i WHERE i.loan_id = loans.id);

CREATE TRIGGER installments_outstanding_insert AFTER INSERT ON installments
BEGIN
    UPDATE loans SET principal_outstanding = principal_outstanding + (NEW.principal_due - NEW.principal_paid)
    WHERE id = NEW.loan_id;
END;
CREATE TRIGGER installments_outstanding_update AFTER UPDATE OF principal_due, principal_paid ON installments
BEGIN
    UPDATE loans SET principal_outstanding = principal_outstanding
        + (NEW.principal_due - NEW.principal_paid) - (OLD.principal_due - OLD.principal_paid)
    WHERE id = NEW.loan_id;
END;
CREATE TRIGGER installments_outstanding_delete AFTER DELETE ON installments
BEGIN
    UPDATE loans SET principal_outstanding = principal_outstanding - (OLD.principal_due - OLD.principal_paid)
    WHERE id = OLD.loan_id;
END;

-- Portfolio at risk: only unpaid installments, by due date.
CREATE INDEX installments_unpaid_due ON installments (due_on, loan_id)
    WHERE principal_paid < principal_due OR interest_paid < interest_due;
CREATE INDEX loans_active_worker ON loans (worker_id, principal_outstanding) WHERE status = 'active';

-- Visits, gifts and statements by kind and time, and by worker.
CREATE INDEX sync_records_kind_time ON sync_records (kind, recorded_at);
CREATE INDEX sync_records_worker ON sync_records (worker_id, kind) WHERE worker_id IS NOT NULL;
CREATE INDEX workers_hardship ON workers (branch_id) WHERE hardship = 1;
