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
ALTER TABLE journal_lines DROP CONSTRAINT journal_lines_account_check;
ALTER TABLE journal_lines ADD CONSTRAINT journal_lines_account_check
    CHECK (account IN ('vault', 'cash_in_hand', 'loan_principal', 'interest_income',
                       'gift_stock', 'campaign_expense', 'cash_over_short', 'campaign_funding', 'loan_capital',
                       'bank'));

ALTER TABLE capital_receipts ADD COLUMN method TEXT NOT NULL DEFAULT 'cash'
    CHECK (method IN ('cash', 'transfer'));
ALTER TABLE disbursements ADD COLUMN method TEXT NOT NULL DEFAULT 'cash'
    CHECK (method IN ('cash', 'transfer'));
ALTER TABLE disbursements ADD COLUMN bank_account TEXT;
ALTER TABLE disbursements ADD CONSTRAINT disbursements_bank_account_check
    CHECK ((method = 'transfer') = (bank_account IS NOT NULL));
ALTER TABLE disbursement_decisions ADD COLUMN transfer_ref TEXT;
