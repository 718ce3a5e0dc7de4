-- A loan's collections pending review were summed over every repayment the
-- loan ever had: an upload, and a repayment at the counter, probed each one
-- for a supervisor's decision, decided ones included, so the check grew with
-- the loan's history (a weekly loan has some fifty by its last year).
--
-- undecided_repayments holds the accepted repayments no supervisor has
-- decided on yet, by loan: derived from sync_records and record_reviews
-- (both append-only) by the triggers below, in the statement that writes
-- them, never by the application. PENDING repayments are those of its rows
-- that no live void took back.
CREATE TABLE undecided_repayments (
    loan_id   INTEGER NOT NULL,
    record_id INTEGER NOT NULL,
    client_id BLOB NOT NULL,
    amount    INTEGER NOT NULL,
    PRIMARY KEY (loan_id, record_id)
) WITHOUT ROWID;

INSERT INTO undecided_repayments (loan_id, record_id, client_id, amount)
SELECT r.loan_id, r.id, r.client_id, r.amount FROM sync_records r
WHERE r.kind = 'repayment' AND r.status = 'accepted'
  AND NOT EXISTS (SELECT 1 FROM record_reviews d WHERE d.record_id = r.id);

CREATE TRIGGER sync_records_undecided AFTER INSERT ON sync_records
WHEN NEW.kind = 'repayment' AND NEW.status = 'accepted'
BEGIN
    INSERT INTO undecided_repayments (loan_id, record_id, client_id, amount)
    VALUES (NEW.loan_id, NEW.id, NEW.client_id, NEW.amount);
END;

CREATE TRIGGER record_reviews_decided AFTER INSERT ON record_reviews
BEGIN
    DELETE FROM undecided_repayments
    WHERE loan_id = (SELECT r.loan_id FROM sync_records r WHERE r.id = NEW.record_id)
      AND record_id = NEW.record_id;
END;
