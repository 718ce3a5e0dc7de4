-- Version 6: of the officer's shortages and overages, what the fund wrote
-- off (bore, or kept as income), as the server last sent it. Every change
-- page carries the officer, so the next sync fills them in.
ALTER TABLE officer ADD COLUMN short_written_off INTEGER;
ALTER TABLE officer ADD COLUMN over_written_off INTEGER;
