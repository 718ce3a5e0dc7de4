-- The branch's count of its vault (kiểm kê quỹ tiền mặt), at the end of the
-- day or whenever the cashier counts it: the cash found (`counted`, whole
-- đồng), the vault's balance on the books when it was counted
-- (`book_balance`, read in the same transaction), who counted and when, a
-- note, and optionally the count by denomination (JSON text:
-- `[{"value": "500000", "count": 3}, ...]`, whose sum the server checks
-- equals `counted`). Nothing is posted: a difference is for the branch to
-- investigate and the fund to decide. Append-only: a count typed wrong is
-- followed by another count. `client_id` makes a form sent twice one count.

CREATE TABLE vault_counts (
    id            INTEGER PRIMARY KEY,
    client_id     BLOB NOT NULL UNIQUE,
    branch_id     INTEGER NOT NULL REFERENCES branches (id),
    counted       INTEGER NOT NULL CHECK (counted >= 0),
    book_balance  INTEGER NOT NULL,
    denominations TEXT,
    note          TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 200),
    counted_by    INTEGER NOT NULL REFERENCES users (id),
    counted_at    TEXT NOT NULL
);
CREATE INDEX vault_counts_branch ON vault_counts (branch_id, id);
CREATE TRIGGER vault_counts_no_update BEFORE UPDATE ON vault_counts
BEGIN SELECT RAISE(ABORT, 'vault_counts is append-only'); END;
CREATE TRIGGER vault_counts_no_delete BEFORE DELETE ON vault_counts
BEGIN SELECT RAISE(ABORT, 'vault_counts is append-only'); END;
