-- An officer's shortage written off as the fund's loss, or an overage
-- nobody claims taken as the fund's income, by an admin on the fund's
-- decision (quyết định xử lý), instead of being paid in cash:
--
-- * a new account `over_short_written_off` (debit: a shortage the fund
--   bears; credit: an overage it keeps), per branch;
-- * `over_short_settlements.method`: `cash` (paid into or out of the vault,
--   as before) or `write_off` (between the officer's over/short account and
--   `over_short_written_off`; the vault does not move). `direction` keeps
--   its sense: `paid_in` takes a shortage off the officer, `paid_out` an
--   overage.
--
-- SQLite cannot alter a CHECK constraint: `journal_lines` is rebuilt as in
-- 0026, foreign keys deferred.

PRAGMA defer_foreign_keys = ON;

CREATE TEMP TABLE journal_lines_kept AS SELECT * FROM journal_lines;
DROP TABLE journal_lines;
CREATE TABLE journal_lines (
    id             INTEGER PRIMARY KEY,
    entry_id       INTEGER NOT NULL REFERENCES journal_entries (id),
    account        TEXT NOT NULL CHECK (account IN ('vault', 'cash_in_hand', 'loan_principal', 'interest_income',
                                                    'gift_stock', 'campaign_expense', 'cash_over_short',
                                                    'campaign_funding', 'loan_capital', 'bank', 'bank_charges',
                                                    'bank_interest', 'over_short_written_off')),
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

ALTER TABLE over_short_settlements
    ADD COLUMN method TEXT NOT NULL DEFAULT 'cash' CHECK (method IN ('cash', 'write_off'));
