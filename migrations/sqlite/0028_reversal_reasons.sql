-- The officer's phone is told why a record's posting was reversed at the
-- branch: the change feed reads the approved branch reversal of a record's
-- entry by the entry.
CREATE INDEX branch_reversals_entry ON branch_reversals (entry_id);
