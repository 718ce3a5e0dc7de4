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

ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_kind_check;
ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_kind_check
    CHECK (kind IN ('repayment', 'gift', 'welfare', 'settlement', 'counter_repayment', 'reversal', 'campaign_receipt',
                    'loan_opening'));
ALTER TABLE journal_entries ALTER COLUMN posted_by DROP NOT NULL;
ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_posted_by_check
    CHECK (posted_by IS NOT NULL OR kind = 'loan_opening');
CREATE UNIQUE INDEX journal_loan_opening ON journal_entries (loan_id) WHERE kind = 'loan_opening';

ALTER TABLE journal_lines DROP CONSTRAINT journal_lines_account_check;
ALTER TABLE journal_lines ADD CONSTRAINT journal_lines_account_check
    CHECK (account IN ('vault', 'cash_in_hand', 'loan_principal', 'interest_income',
                       'gift_stock', 'campaign_expense', 'cash_over_short', 'campaign_funding', 'loan_capital'));

-- The references of 0010, an empty `posted_by` allowed.
CREATE OR REPLACE FUNCTION journal_entries_references() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM refuse_missing_reference('journal_entries', 'branch_id',
        (SELECT n.branch_id::text FROM new_rows n
         WHERE NOT EXISTS (SELECT 1 FROM branches p WHERE p.id = n.branch_id) LIMIT 1));
    PERFORM refuse_missing_reference('journal_entries', 'record_id',
        (SELECT n.record_id::text FROM new_rows n WHERE n.record_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM sync_records p WHERE p.id = n.record_id) LIMIT 1));
    PERFORM refuse_missing_reference('journal_entries', 'counter_id',
        (SELECT n.counter_id::text FROM new_rows n WHERE n.counter_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM counter_repayments p WHERE p.id = n.counter_id) LIMIT 1));
    PERFORM refuse_missing_reference('journal_entries', 'batch_id',
        (SELECT n.batch_id::text FROM new_rows n WHERE n.batch_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM batch_reviews p WHERE p.batch_id = n.batch_id) LIMIT 1));
    PERFORM refuse_missing_reference('journal_entries', 'reverses',
        (SELECT n.reverses::text FROM new_rows n WHERE n.reverses IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM journal_entries p WHERE p.id = n.reverses) LIMIT 1));
    PERFORM refuse_missing_reference('journal_entries', 'loan_id',
        (SELECT n.loan_id::text FROM new_rows n WHERE n.loan_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM loans p WHERE p.id = n.loan_id) LIMIT 1));
    PERFORM refuse_missing_reference('journal_entries', 'officer_id',
        (SELECT n.officer_id::text FROM new_rows n WHERE n.officer_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM users p WHERE p.id = n.officer_id) LIMIT 1));
    PERFORM refuse_missing_reference('journal_entries', 'posted_by',
        (SELECT n.posted_by::text FROM new_rows n WHERE n.posted_by IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM users p WHERE p.id = n.posted_by) LIMIT 1));
    RETURN NULL;
END;
$$;

-- The loans already in the books: what each owed in principal when it came
-- is what it owes now plus the principal its posted entries took off since.
CREATE TEMP TABLE loan_openings ON COMMIT DROP AS
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
