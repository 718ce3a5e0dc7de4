-- Version 6: of the officer's shortages and overages, what the fund wrote
-- off (bore, or kept as income), as the server last sent it. Every change
-- page carries the officer, so the next sync fills them in. And the
-- records approved before a restore of the server's data.
ALTER TABLE officer ADD COLUMN short_written_off INTEGER;
ALTER TABLE officer ADD COLUMN over_written_off INTEGER;

-- Records a supervisor had approved when the server turned out restored
-- from an older backup: sent again, they wait for review once more, but
-- their cash was handed over at that approval.
CREATE TABLE approved_before_restore (
    client_id TEXT PRIMARY KEY REFERENCES outbox (client_id)
) WITHOUT ROWID;
