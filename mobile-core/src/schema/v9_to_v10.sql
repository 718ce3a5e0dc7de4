-- Version 10: receipts another officer took on a loan before its worker
-- moved to this officer, waiting for review, come down with the loan.
CREATE TABLE waiting_elsewhere (
    client_id  TEXT PRIMARY KEY,
    loan_id    TEXT NOT NULL,
    amount     INTEGER NOT NULL CHECK (amount > 0),
    receipt_no TEXT
) WITHOUT ROWID;
CREATE INDEX waiting_elsewhere_loan ON waiting_elsewhere (loan_id);

-- The next sync downloads the portfolio again, once: so they arrive, and
-- what the server put right without telling the phones: codes without the
-- invisible characters they were imported with (the server's migration
-- 0044), and whether each refused gift settled before version 9 was
-- handed out for real.
DELETE FROM meta WHERE key = 'cursor';
