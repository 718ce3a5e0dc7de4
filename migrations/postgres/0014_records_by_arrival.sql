-- The reports find a period's visits and gifts by the time the records
-- arrived, not by the time they were recorded. A phone's batch spans its
-- day, and every phone's batch spans the same hours, so an index on
-- (kind, recorded_at) took each batch's records at as many places as it had
-- records: each upload wrote hundreds of that index's pages, more as the
-- table grew (on SQLite the ingest rate halved within 60,000 records).
-- Records arrive in order, so (kind, received_at) takes a batch at one end.
-- A record accepted at upload was recorded at most 10 minutes after it
-- arrived (the phone's clock tolerance), so records recorded from T on all
-- arrived from T minus 10 minutes on.
DROP INDEX sync_records_kind_time;
CREATE INDEX sync_records_kind_received ON sync_records (kind, received_at);
