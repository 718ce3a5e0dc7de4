-- A refused gift record settled as handed out for real (`stock_out`) is a
-- gift the worker has: it counts as the worker's gift of its campaign, in
-- the officer's allocation and in the campaign's progress, like an approved
-- one, while its stock entry stands. `refused_settlements.handed_out` says
-- so, also for a package of no recorded value (no entry). Those settled so
-- before this column are the ones with a stock entry.

DROP TRIGGER refused_settlements_no_update;
ALTER TABLE refused_settlements ADD COLUMN handed_out INTEGER NOT NULL DEFAULT 0 CHECK (handed_out IN (0, 1));
UPDATE refused_settlements SET handed_out = 1 WHERE entry_id IS NOT NULL;
CREATE TRIGGER refused_settlements_no_update BEFORE UPDATE ON refused_settlements
BEGIN SELECT RAISE(ABORT, 'refused_settlements is append-only'); END;
