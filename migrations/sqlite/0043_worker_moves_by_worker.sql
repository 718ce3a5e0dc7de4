-- An upload reads the moves of its own workers made since its oldest
-- record: by worker, then time, so that a reorganisation's thousands of
-- moves are not read for one officer's batch.
CREATE INDEX worker_moves_worker_at ON worker_moves (worker_id, moved_at);
