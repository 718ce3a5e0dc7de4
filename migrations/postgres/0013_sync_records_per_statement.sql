-- Storing an uploaded batch at the speed of its multi-row INSERT.
--
-- PostgreSQL checked the four foreign keys of sync_records (its batch, its
-- worker, loan and campaign) with one lookup per row and per key: about half
-- the time of inserting a 500-record batch. As for the posting tables in
-- 0010, the same references are now checked once per statement, by one join
-- over the statement's new rows (still SQLSTATE 23503).
--
-- What a foreign key also does, refuse to delete a referenced row, stays
-- true: loans and campaigns refuse DELETE since 0010, workers and
-- sync_batches from here on (a batch, like its records, is a fact).
ALTER TABLE sync_records
    DROP CONSTRAINT sync_records_batch_identity_fkey,
    DROP CONSTRAINT sync_records_worker_id_fkey,
    DROP CONSTRAINT sync_records_loan_id_fkey,
    DROP CONSTRAINT sync_records_campaign_id_fkey;

CREATE FUNCTION sync_records_references() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM refuse_missing_reference('sync_records', 'batch_id, device_id, officer_id',
        (SELECT n.batch_id::text || ', ' || n.device_id || ', ' || n.officer_id FROM new_rows n
         WHERE NOT EXISTS (SELECT 1 FROM sync_batches p
                           WHERE p.batch_id = n.batch_id AND p.device_id = n.device_id AND p.officer_id = n.officer_id)
         LIMIT 1));
    PERFORM refuse_missing_reference('sync_records', 'worker_id',
        (SELECT n.worker_id::text FROM new_rows n WHERE n.worker_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM workers p WHERE p.id = n.worker_id) LIMIT 1));
    PERFORM refuse_missing_reference('sync_records', 'loan_id',
        (SELECT n.loan_id::text FROM new_rows n WHERE n.loan_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM loans p WHERE p.id = n.loan_id) LIMIT 1));
    PERFORM refuse_missing_reference('sync_records', 'campaign_id',
        (SELECT n.campaign_id::text FROM new_rows n WHERE n.campaign_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM campaigns p WHERE p.id = n.campaign_id) LIMIT 1));
    RETURN NULL;
END;
$$;
CREATE TRIGGER sync_records_references AFTER INSERT ON sync_records
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sync_records_references();

CREATE TRIGGER workers_never_deleted BEFORE DELETE ON workers FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER sync_batches_append_only BEFORE UPDATE OR DELETE ON sync_batches
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Only voids and reversal requests name a target: the others stay out of
-- the index (every lookup compares the column, so NULLs are never sought).
DROP INDEX sync_records_target;
CREATE INDEX sync_records_target ON sync_records (target_client_id, kind, status) WHERE target_client_id IS NOT NULL;
