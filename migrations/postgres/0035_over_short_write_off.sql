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

ALTER TABLE journal_lines DROP CONSTRAINT journal_lines_account_check;
ALTER TABLE journal_lines ADD CONSTRAINT journal_lines_account_check
    CHECK (account IN ('vault', 'cash_in_hand', 'loan_principal', 'interest_income',
                       'gift_stock', 'campaign_expense', 'cash_over_short', 'campaign_funding', 'loan_capital',
                       'bank', 'bank_charges', 'bank_interest', 'over_short_written_off'));

ALTER TABLE over_short_settlements
    ADD COLUMN method TEXT NOT NULL DEFAULT 'cash' CHECK (method IN ('cash', 'write_off'));
