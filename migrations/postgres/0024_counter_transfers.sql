-- Repayments paid into the branch's bank account. Until now a repayment at
-- the branch was cash into the vault only; a worker may also pay by bank
-- transfer to the branch's account, and whoever keeps the counter records it
-- from the bank's notice or statement:
--
-- * `counter_repayments.method`: `cash` (debit `vault`, as before) or
--   `transfer` (debit `bank`).
-- * `counter_repayments.transfer_ref`: the bank's reference of the transfer,
--   given for a transfer only. A reference stands for one repayment while its
--   entry stands (checked by the posting code under the write lock: a
--   repayment recorded on the wrong loan is reversed and the same transfer
--   recorded again on the right one), so there is no unique index.
-- * `report_daily.counter_transfer`: what the counter took by transfer on
--   the day, beside `counter_cash`.

ALTER TABLE counter_repayments ADD COLUMN method TEXT NOT NULL DEFAULT 'cash'
    CHECK (method IN ('cash', 'transfer'));
ALTER TABLE counter_repayments ADD COLUMN transfer_ref TEXT;
ALTER TABLE counter_repayments ADD CONSTRAINT counter_repayments_transfer_ref_check
    CHECK ((method = 'transfer') = (transfer_ref IS NOT NULL));
CREATE INDEX counter_repayments_transfer_ref ON counter_repayments (transfer_ref)
    WHERE transfer_ref IS NOT NULL;

ALTER TABLE report_daily ADD COLUMN counter_transfer BIGINT NOT NULL DEFAULT 0;
