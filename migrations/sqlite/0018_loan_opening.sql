-- Loans in the books. A loan came into the fund's books only through its
-- repayments, which credit its principal: the principal account showed what
-- was repaid, never what is lent. Each loan now has one `loan_opening`
-- entry, posted when it is imported: debit `loan_principal` (the loan) with
-- the principal it still owed then, credit `loan_capital` (its branch), the
-- fund's money lent out. A loan's principal balance in the ledger is then
-- what its installments say is still owed.
--
-- An import run from the command line (or the demo fund) has no user, so
-- `posted_by` may be empty: posted by the system.
--
-- SQLite cannot alter a CHECK constraint: `journal_entries` and
-- `journal_lines` are rebuilt as in 0007, foreign keys deferred.

PRAGMA defer_foreign_keys = ON;

CREATE TEMP TABLE journal_entries_kept AS SELECT * FROM journal_entries;
DROP TABLE journal_entries;
CREATE TABLE journal_entries (
    id         INTEGER PRIMARY KEY,
    branch_id  INTEGER NOT NULL REFERENCES branches (id),
    kind       TEXT NOT NULL CHECK (kind IN ('repayment', 'gift', 'welfare', 'settlement', 'counter_repayment', 'reversal',
                                             'campaign_receipt', 'loan_opening')),
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
                                                    'campaign_funding', 'loan_capital')),
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

-- The loans already in the books: what each owed in principal when it came
-- is what it owes now plus the principal its posted entries took off since.
CREATE TEMP TABLE loan_openings AS
SELECT l.id AS loan_id, l.worker_branch_id AS branch_id, l.code, l.created_at,
       (SELECT COALESCE(SUM(i.principal_due - i.principal_paid), 0) FROM installments i WHERE i.loan_id = l.id)
     + (SELECT COALESCE(SUM(jl.credit - jl.debit), 0) FROM journal_lines jl
        WHERE jl.loan_id = l.id AND jl.account = 'loan_principal') AS owed
FROM loans l;
DELETE FROM loan_openings WHERE owed <= 0;

-- Entry ids are given by the writer (the next after the highest), as the
-- posting code does.
INSERT INTO journal_entries (id, branch_id, kind, loan_id, posted_by, posted_at, memo)
SELECT (SELECT COALESCE(MAX(id), 0) FROM journal_entries) + ROW_NUMBER() OVER (ORDER BY loan_id),
       branch_id, 'loan_opening', loan_id, NULL, created_at, 'Dư nợ gốc khoản vay ' || code || ' khi nhập dữ liệu'
FROM loan_openings ORDER BY loan_id;

INSERT INTO journal_lines (entry_id, account, branch_id, loan_id, debit, credit)
SELECT e.id, 'loan_principal', o.branch_id, o.loan_id, o.owed, 0
FROM loan_openings o JOIN journal_entries e ON e.loan_id = o.loan_id AND e.kind = 'loan_opening'
ORDER BY e.id;
INSERT INTO journal_lines (entry_id, account, branch_id, loan_id, debit, credit)
SELECT e.id, 'loan_capital', o.branch_id, NULL, 0, o.owed
FROM loan_openings o JOIN journal_entries e ON e.loan_id = o.loan_id AND e.kind = 'loan_opening'
ORDER BY e.id;
DROP TABLE loan_openings;
