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

ALTER TABLE journal_lines DROP CONSTRAINT journal_lines_account_check;
ALTER TABLE journal_lines ADD CONSTRAINT journal_lines_account_check
    CHECK (account IN ('vault', 'cash_in_hand', 'loan_principal', 'interest_income',
                       'gift_stock', 'campaign_expense', 'cash_over_short', 'campaign_funding', 'loan_capital',
                       'bank', 'bank_charges', 'bank_interest'));

ALTER TABLE bank_moves DROP CONSTRAINT bank_moves_direction_check;
ALTER TABLE bank_moves ADD CONSTRAINT bank_moves_direction_check
    CHECK (direction IN ('deposit', 'withdrawal', 'charge', 'interest'));
ALTER TABLE bank_moves ADD COLUMN booked_on DATE;
ALTER TABLE bank_moves ADD COLUMN statement_id BIGINT;
ALTER TABLE bank_moves ADD COLUMN line_no BIGINT;
ALTER TABLE bank_moves ADD CONSTRAINT bank_moves_line_check CHECK ((statement_id IS NULL) = (line_no IS NULL));
ALTER TABLE bank_moves ADD CONSTRAINT bank_moves_booked_on_check CHECK ((statement_id IS NULL) = (booked_on IS NULL));
-- The bank's charges and interest come from its statement.
ALTER TABLE bank_moves ADD CONSTRAINT bank_moves_statement_check
    CHECK (direction IN ('deposit', 'withdrawal') OR statement_id IS NOT NULL);
ALTER TABLE bank_moves ADD CONSTRAINT bank_moves_statement_line_fkey
    FOREIGN KEY (statement_id, line_no) REFERENCES bank_statement_lines (statement_id, line_no);
CREATE INDEX bank_moves_line ON bank_moves (statement_id, line_no) WHERE statement_id IS NOT NULL;
