-- A refused gift record settled as handed out for real (`stock_out`) is a
-- gift the worker has: it counts as the worker's gift of its campaign, in
-- the officer's allocation and in the campaign's progress, like an approved
-- one, while its stock entry stands. `refused_settlements.handed_out` says
-- so, also for a package of no recorded value (no entry). Those settled so
-- before this column are the ones with a stock entry.

ALTER TABLE refused_settlements ADD COLUMN handed_out BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE refused_settlements DISABLE TRIGGER refused_settlements_append_only;
UPDATE refused_settlements SET handed_out = TRUE WHERE entry_id IS NOT NULL;
ALTER TABLE refused_settlements ENABLE TRIGGER refused_settlements_append_only;
