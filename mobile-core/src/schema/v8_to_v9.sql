-- Version 9: whether a refused gift was settled as handed out for real,
-- as the server now says, so that the worker's page shows the gift once.
-- Settlements kept before are not known so (0): shown as before.
ALTER TABLE record_settlements ADD COLUMN handed_out INTEGER NOT NULL DEFAULT 0;
