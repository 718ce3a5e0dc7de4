-- Version 5: the cash a supervisor counted for each of the officer's
-- approved batches, as the server sends it (its difference from what the
-- approved repayments came to is the officer's shortage or overage), and
-- what the branch did with refused records' cash and packages; the
-- officer's over/short balance as the server last sent it.
CREATE TABLE cash_counts (
    batch_id      TEXT PRIMARY KEY,
    decided_at    INTEGER NOT NULL,
    cash_expected INTEGER NOT NULL,
    cash_received INTEGER NOT NULL
) WITHOUT ROWID;

-- What the branch did with the cash or package of a refused repayment or
-- gift (taken at the counter, given back...), as the server sends it once
-- a supervisor marked it settled.
CREATE TABLE record_settlements (
    client_id  TEXT PRIMARY KEY REFERENCES outbox (client_id),
    note       TEXT NOT NULL,
    settled_at INTEGER NOT NULL
) WITHOUT ROWID;

ALTER TABLE officer ADD COLUMN cash_short INTEGER;

-- Counts, settlements and the balance decided before the upgrade come only
-- with a snapshot: the next sync downloads one (the outbox is untouched).
DELETE FROM meta WHERE key = 'cursor';
