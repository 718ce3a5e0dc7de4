-- Posting at the speed of a 1,000-record approval (PostgreSQL only).
--
-- PostgreSQL checks a foreign key with one lookup per row and per column. An
-- approval of 1,000 records writes about 650 journal entries, 1,600 lines and
-- 1,000 record fates: some 11,000 such lookups, most of the approval's time.
-- Here the same references are checked once per statement, by one join over
-- the statement's new rows (a transition table), and the triggers that keep
-- loans.principal_outstanding and the report summaries up to date run once
-- per statement in the same way instead of once per installment and loan.
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

-- loans.principal_outstanding (0006) and the report summaries (0008), kept
-- per statement: one pass over the rows a statement touched (its transition
-- tables), one UPDATE of the loans they belong to, one upsert per summary.
DROP TRIGGER installments_outstanding ON installments;
DROP FUNCTION installments_outstanding();
DROP TRIGGER installments_summaries ON installments;
DROP FUNCTION installments_summaries();
DROP TRIGGER loans_summaries ON loans;
DROP FUNCTION loans_summaries();

-- Installment rows `added` and `removed` by one statement (an UPDATE gives
-- both, its old rows as removed): the dues per day and officer of the loan's
-- worker, and each touched loan's outstanding principal and oldest unpaid
-- due date.
CREATE FUNCTION installments_apply(added installments[], removed installments[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_due (day, branch_id, officer_id, due, installments)
    SELECT c.due_on, w.branch_id, w.officer_id, SUM(c.due), SUM(c.n)
    FROM (SELECT loan_id, due_on, principal_due + interest_due AS due, 1 AS n FROM unnest(added)
          UNION ALL
          SELECT loan_id, due_on, -(principal_due + interest_due), -1 FROM unnest(removed)) c
         JOIN loans l ON l.id = c.loan_id JOIN workers w ON w.id = l.worker_id
    GROUP BY c.due_on, w.branch_id, w.officer_id
    HAVING SUM(c.due) <> 0 OR SUM(c.n) <> 0
    ON CONFLICT (day, branch_id, officer_id) DO UPDATE
        SET due = report_due.due + excluded.due, installments = report_due.installments + excluded.installments;

    UPDATE loans l SET
        principal_outstanding = l.principal_outstanding + d.delta,
        oldest_unpaid_due = CASE WHEN d.recheck THEN
            (SELECT MIN(i.due_on) FROM installments i WHERE i.loan_id = l.id
               AND (i.principal_paid < i.principal_due OR i.interest_paid < i.interest_due))
            ELSE l.oldest_unpaid_due END
    FROM (SELECT COALESCE(n.loan_id, o.loan_id) AS loan_id,
                 SUM(COALESCE(n.principal_due - n.principal_paid, 0) - COALESCE(o.principal_due - o.principal_paid, 0)) AS delta,
                 bool_or(n.loan_id IS NULL OR o.loan_id IS NULL OR n.due_on <> o.due_on
                         OR (n.principal_paid < n.principal_due OR n.interest_paid < n.interest_due)
                            <> (o.principal_paid < o.principal_due OR o.interest_paid < o.interest_due)) AS recheck
          FROM unnest(added) n FULL JOIN unnest(removed) o ON o.loan_id = n.loan_id AND o.number = n.number
          GROUP BY COALESCE(n.loan_id, o.loan_id)) d
    WHERE l.id = d.loan_id AND (d.delta <> 0 OR d.recheck);
END;
$$;

CREATE FUNCTION installments_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM installments_apply(ARRAY(SELECT n::installments FROM new_rows n), '{}');
    RETURN NULL;
END;
$$;
CREATE FUNCTION installments_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM installments_apply(ARRAY(SELECT n::installments FROM new_rows n), ARRAY(SELECT o::installments FROM old_rows o));
    RETURN NULL;
END;
$$;
CREATE FUNCTION installments_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM installments_apply('{}', ARRAY(SELECT o::installments FROM old_rows o));
    RETURN NULL;
END;
$$;
CREATE TRIGGER installments_inserted AFTER INSERT ON installments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION installments_inserted();
CREATE TRIGGER installments_updated AFTER UPDATE ON installments
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION installments_updated();
CREATE TRIGGER installments_deleted AFTER DELETE ON installments
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION installments_deleted();

-- Loan rows added and removed by one statement: the portfolio (active loans
-- and their outstanding principal) per officer of the loan's worker; a loan
-- given to another worker takes its dues along. Loans are never deleted.
CREATE FUNCTION loans_apply(added loans[], removed loans[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_portfolio (branch_id, officer_id, loans, principal_outstanding)
    SELECT w.branch_id, w.officer_id, SUM(c.n), SUM(c.outstanding)
    FROM (SELECT worker_id, 1 AS n, principal_outstanding AS outstanding FROM unnest(added) WHERE status = 'active'
          UNION ALL
          SELECT worker_id, -1, -principal_outstanding FROM unnest(removed) WHERE status = 'active') c
         JOIN workers w ON w.id = c.worker_id
    GROUP BY w.branch_id, w.officer_id
    HAVING SUM(c.n) <> 0 OR SUM(c.outstanding) <> 0
    ON CONFLICT (branch_id, officer_id) DO UPDATE
        SET loans = report_portfolio.loans + excluded.loans,
            principal_outstanding = report_portfolio.principal_outstanding + excluded.principal_outstanding;

    INSERT INTO report_due (day, branch_id, officer_id, due, installments)
    SELECT i.due_on, w.branch_id, w.officer_id, SUM(m.sign * (i.principal_due + i.interest_due)), SUM(m.sign)
    FROM (SELECT n.id AS loan_id, n.worker_id, 1 AS sign FROM unnest(added) n JOIN unnest(removed) o ON o.id = n.id
          WHERE o.worker_id <> n.worker_id
          UNION ALL
          SELECT o.id, o.worker_id, -1 FROM unnest(added) n JOIN unnest(removed) o ON o.id = n.id
          WHERE o.worker_id <> n.worker_id) m
         JOIN installments i ON i.loan_id = m.loan_id JOIN workers w ON w.id = m.worker_id
    GROUP BY i.due_on, w.branch_id, w.officer_id
    HAVING SUM(m.sign * (i.principal_due + i.interest_due)) <> 0 OR SUM(m.sign) <> 0
    ON CONFLICT (day, branch_id, officer_id) DO UPDATE
        SET due = report_due.due + excluded.due, installments = report_due.installments + excluded.installments;
END;
$$;

CREATE FUNCTION loans_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM loans_apply(ARRAY(SELECT n::loans FROM new_rows n), '{}');
    RETURN NULL;
END;
$$;
CREATE FUNCTION loans_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM loans_apply(ARRAY(SELECT n::loans FROM new_rows n), ARRAY(SELECT o::loans FROM old_rows o));
    RETURN NULL;
END;
$$;
CREATE TRIGGER loans_inserted AFTER INSERT ON loans
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION loans_inserted();
CREATE TRIGGER loans_updated AFTER UPDATE ON loans
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION loans_updated();
