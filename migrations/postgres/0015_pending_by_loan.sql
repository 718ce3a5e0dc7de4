-- An upload sums each loan's collections pending review (its repayments'
-- amounts, less those a live void took back) to check a new collection
-- against what the loan still owes. With the amount and the client id in
-- the index, that sum can read the index alone (an index-only scan, on the
-- pages vacuum has marked all-visible) instead of one table row per
-- collection.
DROP INDEX sync_records_loan;
CREATE INDEX sync_records_loan ON sync_records (loan_id, kind, status) INCLUDE (amount, client_id) WHERE loan_id IS NOT NULL;
