-- Only voids and reversal requests name a target: the others stay out of
-- the index (every lookup compares the column, so NULLs are never sought),
-- one index entry less for each visit, repayment and gift stored.
DROP INDEX sync_records_target;
CREATE INDEX sync_records_target ON sync_records (target_client_id, kind, status) WHERE target_client_id IS NOT NULL;

-- A stored batch, like its records, is a fact.
CREATE TRIGGER sync_batches_no_update BEFORE UPDATE ON sync_batches
BEGIN SELECT RAISE(ABORT, 'sync_batches is append-only'); END;
CREATE TRIGGER sync_batches_no_delete BEFORE DELETE ON sync_batches
BEGIN SELECT RAISE(ABORT, 'sync_batches is append-only'); END;
