-- Cash an officer took, or a gift package handed out, in a record the server
-- refused at upload is settled outside the books (given back to the worker,
-- taken at the counter, the package taken back): a supervisor marks it so,
-- with what was done, and it leaves the queue's list. A fact: append-only.
CREATE TABLE refused_settlements (
    record_id  INTEGER PRIMARY KEY REFERENCES sync_records (id),
    note       TEXT NOT NULL CHECK (length(note) > 0),
    settled_by INTEGER NOT NULL REFERENCES users (id),
    settled_at TEXT NOT NULL
);
CREATE TRIGGER refused_settlements_no_update BEFORE UPDATE ON refused_settlements
BEGIN SELECT RAISE(ABORT, 'refused_settlements is append-only'); END;
CREATE TRIGGER refused_settlements_no_delete BEFORE DELETE ON refused_settlements
BEGIN SELECT RAISE(ABORT, 'refused_settlements is append-only'); END;
