-- The branch a batch was collected for: its officer's branch when it was
-- uploaded. Its review, its records and their signatures stay with that
-- branch when the officer later moves to another one. Batches stored
-- before take the branch their approval's cash count posted in, else the
-- branch of an entry posted for one of their records (a batch of gifts or
-- visits counts no cash), else of a refused record's settlement entry,
-- else their workers' branch (a rejected batch), else their officer's.
ALTER TABLE sync_batches ADD COLUMN branch_id BIGINT REFERENCES branches (id);

ALTER TABLE sync_batches DISABLE TRIGGER sync_batches_append_only;
UPDATE sync_batches b SET branch_id = COALESCE(
    (SELECT e.branch_id FROM journal_entries e WHERE e.batch_id = b.batch_id AND e.kind = 'settlement'),
    (SELECT MIN(e.branch_id) FROM journal_entries e JOIN sync_records r ON r.id = e.record_id
     WHERE r.batch_id = b.batch_id),
    (SELECT MIN(x.branch_id) FROM sync_records r JOIN refused_settlements s ON s.record_id = r.id
         JOIN journal_entries x ON x.id = s.entry_id
     WHERE r.batch_id = b.batch_id),
    (SELECT MIN(w.branch_id) FROM sync_records r JOIN workers w ON w.id = r.worker_id
     WHERE r.batch_id = b.batch_id),
    (SELECT u.branch_id FROM users u WHERE u.id = b.officer_id));
ALTER TABLE sync_batches ENABLE TRIGGER sync_batches_append_only;

CREATE INDEX sync_batches_branch ON sync_batches (branch_id, received_at);
