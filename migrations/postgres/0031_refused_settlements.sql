-- Cash an officer took, or a gift package handed out, in a record the server
-- refused at upload is settled outside the books (given back to the worker,
-- taken at the counter, the package taken back): a supervisor marks it so,
-- with what was done, and it leaves the queue's list. A fact: append-only.
CREATE TABLE refused_settlements (
    record_id  BIGINT PRIMARY KEY REFERENCES sync_records (id),
    note       TEXT NOT NULL CHECK (length(note) > 0),
    settled_by BIGINT NOT NULL REFERENCES users (id),
    settled_at TIMESTAMPTZ NOT NULL
);
CREATE TRIGGER refused_settlements_append_only BEFORE UPDATE OR DELETE ON refused_settlements
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
