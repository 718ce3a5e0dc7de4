-- A record's batch, device and officer checked with one key: the device and
-- the officer are the batch's (sync_batches refers to devices and users), so
-- one composite foreign key replaces the three single-column ones and costs
-- one index probe a stored record instead of three.
ALTER TABLE sync_batches
    ADD CONSTRAINT sync_batches_identity UNIQUE (batch_id, device_id, officer_id);
ALTER TABLE sync_records
    ADD CONSTRAINT sync_records_batch_identity_fkey FOREIGN KEY (batch_id, device_id, officer_id)
        REFERENCES sync_batches (batch_id, device_id, officer_id),
    DROP CONSTRAINT sync_records_batch_id_fkey,
    DROP CONSTRAINT sync_records_device_id_fkey,
    DROP CONSTRAINT sync_records_officer_id_fkey;

-- A loan's records of one kind and status (pending collections at upload and
-- at approval) read by one index range.
DROP INDEX sync_records_loan;
CREATE INDEX sync_records_loan ON sync_records (loan_id, kind, status) WHERE loan_id IS NOT NULL;
