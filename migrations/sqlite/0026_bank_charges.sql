-- Bank fees and interest on a branch's bank account. The bank takes its
-- charges (phí dịch vụ, phí SMS, phí quản lý tài khoản) from the account
-- and pays interest into it (lãi tiền gửi); both first appear on its
-- statement. They are posted from the statement's line:
--
-- * two accounts: `bank_charges` (expense: debit it, credit `bank`) and
--   `bank_interest` (income: debit `bank`, credit it);
-- * `bank_moves.direction` `charge` and `interest`, posted as entries of
--   kind `bank_move` like deposits and withdrawals (and reversed like
--   them);
-- * `bank_moves.booked_on`: the day the bank booked the movement, when it
--   is known (the statement line's day), for the reconciliation; the entry
--   itself posts when it is recorded;
-- * `bank_moves.statement_id`, `line_no`: the statement line it was posted
--   from.
--
-- SQLite cannot alter a CHECK constraint: `journal_lines` is rebuilt as in
-- 0023, `bank_moves` likewise, foreign keys deferred.

PRAGMA defer_foreign_keys = ON;

CREATE TEMP TABLE journal_lines_kept AS SELECT * FROM journal_lines;
DROP TABLE journal_lines;
CREATE TABLE journal_lines (
    id             INTEGER PRIMARY KEY,
    entry_id       INTEGER NOT NULL REFERENCES journal_entries (id),
    account        TEXT NOT NULL CHECK (account IN ('vault', 'cash_in_hand', 'loan_principal', 'interest_income',
                                                    'gift_stock', 'campaign_expense', 'cash_over_short',
                                                    'campaign_funding', 'loan_capital', 'bank', 'bank_charges',
                                                    'bank_interest')),
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

CREATE TEMP TABLE bank_moves_kept AS SELECT * FROM bank_moves;
DROP TABLE bank_moves;
CREATE TABLE bank_moves (
    id           INTEGER PRIMARY KEY,
    client_id    BLOB NOT NULL UNIQUE,
    branch_id    INTEGER NOT NULL REFERENCES branches (id),
    direction    TEXT NOT NULL CHECK (direction IN ('deposit', 'withdrawal', 'charge', 'interest')),
    amount       INTEGER NOT NULL CHECK (amount > 0),
    -- The bank slip's or the statement line's reference ('' when the
    -- line has none).
    reference    TEXT NOT NULL,
    entry_id     INTEGER NOT NULL UNIQUE REFERENCES journal_entries (id),
    recorded_by  INTEGER NOT NULL REFERENCES users (id),
    recorded_at  TEXT NOT NULL,
    booked_on    TEXT,
    statement_id INTEGER,
    line_no      INTEGER,
    CHECK ((statement_id IS NULL) = (line_no IS NULL)),
    CHECK ((statement_id IS NULL) = (booked_on IS NULL)),
    -- The bank's charges and interest come from its statement.
    CHECK (direction IN ('deposit', 'withdrawal') OR statement_id IS NOT NULL),
    FOREIGN KEY (statement_id, line_no) REFERENCES bank_statement_lines (statement_id, line_no)
);
INSERT INTO bank_moves (id, client_id, branch_id, direction, amount, reference, entry_id, recorded_by, recorded_at)
    SELECT id, client_id, branch_id, direction, amount, reference, entry_id, recorded_by, recorded_at
    FROM bank_moves_kept ORDER BY id;
DROP TABLE bank_moves_kept;
CREATE INDEX bank_moves_branch ON bank_moves (branch_id, id);
CREATE INDEX bank_moves_line ON bank_moves (statement_id, line_no) WHERE statement_id IS NOT NULL;
CREATE TRIGGER bank_moves_no_update BEFORE UPDATE ON bank_moves
BEGIN SELECT RAISE(ABORT, 'bank_moves is append-only'); END;
CREATE TRIGGER bank_moves_no_delete BEFORE DELETE ON bank_moves
BEGIN SELECT RAISE(ABORT, 'bank_moves is append-only'); END;
