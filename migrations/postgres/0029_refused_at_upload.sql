-- The batch queue lists the repayments refused at upload in the last days
-- (the officer holds their cash): found by arrival among the refused
-- records only.
CREATE INDEX sync_records_refused ON sync_records (received_at) WHERE status = 'rejected';
