-- Loans paid out by bank transfer. Until now a branch paid a loan out of its
-- vault in cash only. A branch now also has a bank account (`bank`, an
-- asset that may never go below zero, per branch):
--
-- * `capital_receipts.method`: lending capital arrives in the vault
--   (cash) or in the branch's bank account (a transfer from the fund).
-- * `disbursements.method`: `cash` out of the vault, or `transfer` from the
--   bank account to the worker's own account, named in `bank_account`
--   (the bank and the account number, as the worker gave them).
-- * `disbursement_decisions.transfer_ref`: the bank's reference of the
--   transfer, written by whoever approved it (required for a transfer).
--
-- SQLite cannot alter a CHECK constraint: `journal_lines` is rebuilt as in
-- 0018, foreign keys deferred.

PRAGMA defer_foreign_keys = ON;

CREATE TEMP TABLE journal_lines_kept AS SELECT * FROM journal_lines;
DROP TABLE journal_lines;
CREATE TABLE journal_lines (
    id             INTEGER PRIMARY KEY,
    entry_id       INTEGER NOT NULL REFERENCES journal_entries (id),
    account        TEXT NOT NULL CHECK (account IN ('vault', 'cash_in_hand', 'loan_principal', 'interest_income',
                                                    'gift_stock', 'campaign_expense', 'cash_over_short',
                                                    'campaign_funding', 'loan_capital', 'bank')),
    branch_id      INTEGER NOT NULL REFERENCES branches (id),
    officer_id     INTEGER REFERENCES users (id),
    campaign_id    INTEGER REFERENCES campaigns (id),
    loan_id        INTEGER REFERENCES loans (id),
    debit          INTEGER NOT NULL CHECK (debit >= 0),
    credit         INTEGER NOT NULL CHECK (credit >= 0),
    CHECK ((debit = 0) <> (credit = 0))
);
INSERT INTO journal_lines (id, entry_id, account, branch_id, officer_id, campaign_id, loan_id, debit, credit)
    SELECT id, entry_id, account, branch_id, officer_id, campaign_id, loan_id, debit, credit
    FROM journal_lines_kept ORDER BY id;
DROP TABLE journal_lines_kept;
CREATE INDEX journal_lines_entry ON journal_lines (entry_id);
CREATE INDEX journal_lines_account ON journal_lines (account, branch_id);
CREATE TRIGGER journal_lines_no_update BEFORE UPDATE ON journal_lines
BEGIN SELECT RAISE(ABORT, 'journal_lines is append-only'); END;
CREATE TRIGGER journal_lines_no_delete BEFORE DELETE ON journal_lines
BEGIN SELECT RAISE(ABORT, 'journal_lines is append-only'); END;
CREATE TRIGGER journal_lines_balances AFTER INSERT ON journal_lines
BEGIN
    INSERT INTO account_balances (account, branch_id, officer_id, campaign_id, debit, credit)
    VALUES (NEW.account, NEW.branch_id, COALESCE(NEW.officer_id, 0), COALESCE(NEW.campaign_id, 0), NEW.debit, NEW.credit)
    ON CONFLICT (account, branch_id, officer_id, campaign_id) DO UPDATE
        SET debit = account_balances.debit + excluded.debit, credit = account_balances.credit + excluded.credit;
END;

ALTER TABLE capital_receipts ADD COLUMN method TEXT NOT NULL DEFAULT 'cash'
    CHECK (method IN ('cash', 'transfer'));
ALTER TABLE disbursements ADD COLUMN method TEXT NOT NULL DEFAULT 'cash'
    CHECK (method IN ('cash', 'transfer'));
ALTER TABLE disbursements ADD COLUMN bank_account TEXT
    CHECK ((method = 'transfer') = (bank_account IS NOT NULL));
ALTER TABLE disbursement_decisions ADD COLUMN transfer_ref TEXT;
