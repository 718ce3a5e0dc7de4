-- Version 7: repayments of the officer's other phones (or of this phone
-- before its field book was started again) that the server took in, as
-- their statuses come down: while one waits for review it counts against
-- its loan's balance here too.
CREATE TABLE other_receipts (
    client_id TEXT PRIMARY KEY,
    loan_id   TEXT NOT NULL,
    amount    INTEGER NOT NULL CHECK (amount > 0),
    state     TEXT NOT NULL,
    -- Refused or held: the branch dealt with its cash (a note came down).
    settled   INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX other_receipts_loan ON other_receipts (loan_id, state);

-- The statuses already downloaded carried no loan or amount: the next
-- sync downloads the portfolio again (its statuses with them), once.
DELETE FROM meta WHERE key = 'cursor';
