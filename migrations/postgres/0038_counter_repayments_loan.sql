-- A loan's counter receipts, read by the loan's page and by the review of
-- officers' batches (a refused receipt's cash taken at the counter), by
-- the loan rather than through the whole table.
CREATE INDEX counter_repayments_loan ON counter_repayments (loan_id);
