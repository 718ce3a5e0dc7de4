-- Version 5: the cash a supervisor counted for each of the officer's
-- approved batches, as the server sends it (its difference from what the
-- approved repayments came to is the officer's shortage or overage).
CREATE TABLE cash_counts (
    batch_id      TEXT PRIMARY KEY,
    decided_at    INTEGER NOT NULL,
    cash_expected INTEGER NOT NULL,
    cash_received INTEGER NOT NULL
) WITHOUT ROWID;
