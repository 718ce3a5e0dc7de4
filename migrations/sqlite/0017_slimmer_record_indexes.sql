-- Every uploaded record goes into each index of sync_records, and an index
-- keyed by something that is not the time of arrival (an officer, a loan)
-- takes the record at a random place: a group of uploads dirties pages all
-- over such an index, and each of them is written to the WAL at the commit.
-- Two of them no longer pay their way:
--
-- * sync_records_officer: an officer's records are those of the officer's
--   batches (a record's batch key carries its officer, see 0009), found
--   through sync_batches_officer, which takes one entry a batch (an
--   officer's day, 30 to 100 records) instead of one a record. Gift counts
--   per officer keep sync_records_officer_gift.
-- * sync_records_loan carried each repayment's amount and client id for
--   the upload's pending sums, which read undecided_repayments since 0016:
--   back to the loan, the kind and the status.
DROP INDEX sync_records_officer;
CREATE INDEX sync_batches_officer ON sync_batches (officer_id);
DROP INDEX sync_records_loan;
CREATE INDEX sync_records_loan ON sync_records (loan_id, kind, status) WHERE loan_id IS NOT NULL;
