-- Upload judging reads, per batch: an officer's live handouts of the
-- batch's campaigns (the allocation used).
CREATE INDEX sync_records_officer_gift ON sync_records (officer_id, campaign_id) WHERE kind = 'gift_handout';
