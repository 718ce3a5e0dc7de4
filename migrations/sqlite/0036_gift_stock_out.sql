-- A gift package handed out for real whose record was refused (never
-- booked): when the supervisor settles it as handed out, the branch's stock
-- goes down by it, as a campaign expense (entry kind `gift`, no record).
-- `refused_settlements.entry_id`: that entry, when there is one.

ALTER TABLE refused_settlements ADD COLUMN entry_id INTEGER REFERENCES journal_entries (id);
