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
-- * `bank_moves`: cash the branch paid into its bank account (`deposit`:
--   debit `bank`, credit `vault`) or drew from it (`withdrawal`: the
--   opposite), with the bank slip's reference; posted at once (entry kind
--   `bank_move`). Append-only.
--
-- SQLite cannot alter a CHECK constraint: `journal_entries` is rebuilt as in
-- 0020 and `journal_lines` as in 0018, foreign keys deferred.

PRAGMA defer_foreign_keys = ON;

CREATE TEMP TABLE journal_entries_kept AS SELECT * FROM journal_entries;
DROP TABLE journal_entries;
CREATE TABLE journal_entries (
    id         INTEGER PRIMARY KEY,
    branch_id  INTEGER NOT NULL REFERENCES branches (id),
    kind       TEXT NOT NULL CHECK (kind IN ('repayment', 'gift', 'welfare', 'settlement', 'counter_repayment', 'reversal',
                                             'campaign_receipt', 'loan_opening', 'capital_receipt', 'disbursement',
                                             'bank_move')),
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
-- One transfer pays one loan.
CREATE UNIQUE INDEX disbursement_decisions_transfer_ref ON disbursement_decisions (transfer_ref)
    WHERE transfer_ref IS NOT NULL;

CREATE TABLE bank_moves (
    id          INTEGER PRIMARY KEY,
    client_id   BLOB NOT NULL UNIQUE,
    branch_id   INTEGER NOT NULL REFERENCES branches (id),
    direction   TEXT NOT NULL CHECK (direction IN ('deposit', 'withdrawal')),
    amount      INTEGER NOT NULL CHECK (amount > 0),
    reference   TEXT NOT NULL,
    entry_id    INTEGER NOT NULL UNIQUE REFERENCES journal_entries (id),
    recorded_by INTEGER NOT NULL REFERENCES users (id),
    recorded_at TEXT NOT NULL
);
CREATE INDEX bank_moves_branch ON bank_moves (branch_id, id);
CREATE TRIGGER bank_moves_no_update BEFORE UPDATE ON bank_moves
BEGIN SELECT RAISE(ABORT, 'bank_moves is append-only'); END;
CREATE TRIGGER bank_moves_no_delete BEFORE DELETE ON bank_moves
BEGIN SELECT RAISE(ABORT, 'bank_moves is append-only'); END;
