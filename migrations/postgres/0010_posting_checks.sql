-- Posting at the speed of a 1,000-record approval (PostgreSQL only).
--
-- PostgreSQL checks a foreign key with one lookup per row and per column. An
-- approval of 1,000 records writes about 650 journal entries, 1,600 lines and
-- 1,000 record fates: some 11,000 such lookups, most of the approval's time.
-- Here the same references are checked once per statement, by one join over
-- the statement's new rows (a transition table), and the triggers that keep
-- loans.principal_outstanding run once per statement in the same way.
--
-- What a foreign key also does, refuse to delete a referenced row, stays
-- true: every referenced table is append-only (sync_records, batch_reviews,
-- counter_repayments, journal_entries refuse UPDATE and DELETE) or master
-- data, which is never deleted (deactivated instead) and from now on refuses
-- DELETE.

-- The references of the posting tables, checked per statement.
ALTER TABLE record_reviews
    DROP CONSTRAINT record_reviews_record_id_fkey,
    DROP CONSTRAINT record_reviews_batch_id_fkey;
ALTER TABLE journal_entries
    DROP CONSTRAINT journal_entries_branch_id_fkey,
    DROP CONSTRAINT journal_entries_record_id_fkey,
    DROP CONSTRAINT journal_entries_counter_id_fkey,
    DROP CONSTRAINT journal_entries_batch_id_fkey,
    DROP CONSTRAINT journal_entries_reverses_fkey,
    DROP CONSTRAINT journal_entries_loan_id_fkey,
    DROP CONSTRAINT journal_entries_officer_id_fkey,
    DROP CONSTRAINT journal_entries_posted_by_fkey;
ALTER TABLE journal_lines
    DROP CONSTRAINT journal_lines_entry_id_fkey,
    DROP CONSTRAINT journal_lines_branch_id_fkey,
    DROP CONSTRAINT journal_lines_officer_id_fkey,
    DROP CONSTRAINT journal_lines_campaign_id_fkey,
    DROP CONSTRAINT journal_lines_loan_id_fkey;

-- Raised like a foreign key violation (SQLSTATE 23503), naming the first
-- missing reference.
CREATE FUNCTION refuse_missing_reference(tbl TEXT, col TEXT, missing TEXT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'insert on table "%" violates a reference: %=% is not present', tbl, col, missing
            USING ERRCODE = 'foreign_key_violation';
    END IF;
END;
$$;

CREATE FUNCTION record_reviews_references() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM refuse_missing_reference('record_reviews', 'record_id',
        (SELECT n.record_id::text FROM new_rows n
         WHERE NOT EXISTS (SELECT 1 FROM sync_records p WHERE p.id = n.record_id) LIMIT 1));
    PERFORM refuse_missing_reference('record_reviews', 'batch_id',
        (SELECT n.batch_id::text FROM new_rows n
         WHERE NOT EXISTS (SELECT 1 FROM batch_reviews p WHERE p.batch_id = n.batch_id) LIMIT 1));
    RETURN NULL;
END;
$$;
CREATE TRIGGER record_reviews_references AFTER INSERT ON record_reviews
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION record_reviews_references();

CREATE FUNCTION journal_entries_references() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM refuse_missing_reference('journal_entries', 'branch_id',
        (SELECT n.branch_id::text FROM new_rows n
         WHERE NOT EXISTS (SELECT 1 FROM branches p WHERE p.id = n.branch_id) LIMIT 1));
    PERFORM refuse_missing_reference('journal_entries', 'record_id',
        (SELECT n.record_id::text FROM new_rows n WHERE n.record_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM sync_records p WHERE p.id = n.record_id) LIMIT 1));
    PERFORM refuse_missing_reference('journal_entries', 'counter_id',
        (SELECT n.counter_id::text FROM new_rows n WHERE n.counter_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM counter_repayments p WHERE p.id = n.counter_id) LIMIT 1));
    PERFORM refuse_missing_reference('journal_entries', 'batch_id',
        (SELECT n.batch_id::text FROM new_rows n WHERE n.batch_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM batch_reviews p WHERE p.batch_id = n.batch_id) LIMIT 1));
    PERFORM refuse_missing_reference('journal_entries', 'reverses',
        (SELECT n.reverses::text FROM new_rows n WHERE n.reverses IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM journal_entries p WHERE p.id = n.reverses) LIMIT 1));
    PERFORM refuse_missing_reference('journal_entries', 'loan_id',
        (SELECT n.loan_id::text FROM new_rows n WHERE n.loan_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM loans p WHERE p.id = n.loan_id) LIMIT 1));
    PERFORM refuse_missing_reference('journal_entries', 'officer_id',
        (SELECT n.officer_id::text FROM new_rows n WHERE n.officer_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM users p WHERE p.id = n.officer_id) LIMIT 1));
    PERFORM refuse_missing_reference('journal_entries', 'posted_by',
        (SELECT n.posted_by::text FROM new_rows n
         WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = n.posted_by) LIMIT 1));
    RETURN NULL;
END;
$$;
CREATE TRIGGER journal_entries_references AFTER INSERT ON journal_entries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION journal_entries_references();

CREATE FUNCTION journal_lines_references() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM refuse_missing_reference('journal_lines', 'entry_id',
        (SELECT n.entry_id::text FROM new_rows n
         WHERE NOT EXISTS (SELECT 1 FROM journal_entries p WHERE p.id = n.entry_id) LIMIT 1));
    PERFORM refuse_missing_reference('journal_lines', 'branch_id',
        (SELECT n.branch_id::text FROM new_rows n
         WHERE NOT EXISTS (SELECT 1 FROM branches p WHERE p.id = n.branch_id) LIMIT 1));
    PERFORM refuse_missing_reference('journal_lines', 'officer_id',
        (SELECT n.officer_id::text FROM new_rows n WHERE n.officer_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM users p WHERE p.id = n.officer_id) LIMIT 1));
    PERFORM refuse_missing_reference('journal_lines', 'campaign_id',
        (SELECT n.campaign_id::text FROM new_rows n WHERE n.campaign_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM campaigns p WHERE p.id = n.campaign_id) LIMIT 1));
    PERFORM refuse_missing_reference('journal_lines', 'loan_id',
        (SELECT n.loan_id::text FROM new_rows n WHERE n.loan_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM loans p WHERE p.id = n.loan_id) LIMIT 1));
    RETURN NULL;
END;
$$;
CREATE TRIGGER journal_lines_references AFTER INSERT ON journal_lines
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION journal_lines_references();

-- Master data the ledger points at is never deleted.
CREATE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'rows of % are never deleted (the ledger refers to them); deactivate instead', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER branches_never_deleted BEFORE DELETE ON branches FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER users_never_deleted BEFORE DELETE ON users FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER loans_never_deleted BEFORE DELETE ON loans FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER campaigns_never_deleted BEFORE DELETE ON campaigns FOR EACH ROW EXECUTE FUNCTION refuse_delete();

-- loans.principal_outstanding, kept per statement: one UPDATE of the loans a
-- statement touched instead of one per installment row.
DROP TRIGGER installments_outstanding ON installments;
DROP FUNCTION installments_outstanding();

CREATE FUNCTION installments_outstanding_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE loans l SET principal_outstanding = l.principal_outstanding + d.delta
    FROM (SELECT loan_id, SUM(principal_due - principal_paid) AS delta FROM new_rows GROUP BY loan_id) d
    WHERE l.id = d.loan_id AND d.delta <> 0;
    RETURN NULL;
END;
$$;
CREATE FUNCTION installments_outstanding_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE loans l SET principal_outstanding = l.principal_outstanding + d.delta
    FROM (SELECT loan_id, SUM(delta) AS delta FROM (
              SELECT loan_id, principal_due - principal_paid AS delta FROM new_rows
              UNION ALL
              SELECT loan_id, principal_paid - principal_due FROM old_rows) c
          GROUP BY loan_id) d
    WHERE l.id = d.loan_id AND d.delta <> 0;
    RETURN NULL;
END;
$$;
CREATE FUNCTION installments_outstanding_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE loans l SET principal_outstanding = l.principal_outstanding - d.delta
    FROM (SELECT loan_id, SUM(principal_due - principal_paid) AS delta FROM old_rows GROUP BY loan_id) d
    WHERE l.id = d.loan_id AND d.delta <> 0;
    RETURN NULL;
END;
$$;
CREATE TRIGGER installments_outstanding_insert AFTER INSERT ON installments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION installments_outstanding_insert();
CREATE TRIGGER installments_outstanding_update AFTER UPDATE ON installments
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION installments_outstanding_update();
CREATE TRIGGER installments_outstanding_delete AFTER DELETE ON installments
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION installments_outstanding_delete();
