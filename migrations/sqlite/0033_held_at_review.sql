-- Repayments and gifts the supervisor rejected or left out at review are
-- cash the officer still holds and packages gone from the stock, as those
-- refused at upload are: the queue lists them until they are settled. They
-- are few among the decided records, as records held in quarantine are
-- among all: each found by its own index.
CREATE INDEX record_reviews_refused ON record_reviews (record_id) WHERE decision IN ('rejected', 'excluded');
CREATE INDEX sync_records_quarantined ON sync_records (received_at) WHERE status = 'quarantined';
