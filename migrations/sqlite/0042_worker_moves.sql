-- Each move of a worker from one officer to another (an import that
-- changed their officer), so that what the old officer recorded about the
-- worker before the move is still hers to sync: a repayment, gift or visit
-- made before `moved_at` is accepted from her phone. Moves made before
-- this migration are not known: records about those workers are refused
-- as before.
CREATE TABLE worker_moves (
    id              INTEGER PRIMARY KEY,
    worker_id       INTEGER NOT NULL REFERENCES workers (id),
    from_officer_id INTEGER NOT NULL REFERENCES users (id),
    to_officer_id   INTEGER NOT NULL REFERENCES users (id),
    moved_at        TEXT NOT NULL
);
-- An upload reads the moves made since its oldest record.
CREATE INDEX worker_moves_at ON worker_moves (moved_at);
