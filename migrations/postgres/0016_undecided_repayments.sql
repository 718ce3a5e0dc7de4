-- A loan's collections pending review were summed over every repayment the
-- loan ever had: an upload, and a repayment at the counter, probed each one
-- for a supervisor's decision, decided ones included, so the check grew with
-- the loan's history (a weekly loan has some fifty by its last year).
--
-- undecided_repayments holds the accepted repayments no supervisor has
-- decided on yet, by loan: derived from sync_records and record_reviews
-- (both append-only) by the triggers below, once per statement, never by
-- the application. PENDING repayments are those of its rows that no live
-- void took back.
CREATE TABLE undecided_repayments (
    loan_id   BIGINT NOT NULL,
    record_id BIGINT NOT NULL,
    client_id UUID NOT NULL,
    amount    BIGINT NOT NULL,
    PRIMARY KEY (loan_id, record_id)
);

INSERT INTO undecided_repayments (loan_id, record_id, client_id, amount)
SELECT r.loan_id, r.id, r.client_id, r.amount FROM sync_records r
WHERE r.kind = 'repayment' AND r.status = 'accepted'
  AND NOT EXISTS (SELECT 1 FROM record_reviews d WHERE d.record_id = r.id);

CREATE FUNCTION sync_records_undecided() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO undecided_repayments (loan_id, record_id, client_id, amount)
    SELECT n.loan_id, n.id, n.client_id, n.amount FROM new_rows n
    WHERE n.kind = 'repayment' AND n.status = 'accepted';
    RETURN NULL;
END;
$$;
CREATE TRIGGER sync_records_undecided AFTER INSERT ON sync_records
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sync_records_undecided();

CREATE FUNCTION record_reviews_decided() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM undecided_repayments u USING new_rows n JOIN sync_records r ON r.id = n.record_id
    WHERE u.loan_id = r.loan_id AND u.record_id = n.record_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER record_reviews_decided AFTER INSERT ON record_reviews
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION record_reviews_decided();
