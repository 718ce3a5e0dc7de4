-- Bank statements (sao kê) of a branch's bank account, as the bank
-- exported them, kept line by line so that each one's reconciliation with
-- the bank account's book can be read again later (it is worked out when
-- read: an entry recorded after the import shows as matched). One file is
-- kept once per branch (`sha256` of its bytes). Append-only.

CREATE TABLE bank_statements (
    id          INTEGER PRIMARY KEY,
    branch_id   INTEGER NOT NULL REFERENCES branches (id),
    file_name   TEXT NOT NULL,
    sha256      TEXT NOT NULL CHECK (length(sha256) = 64),
    first_day   TEXT NOT NULL,
    last_day    TEXT NOT NULL,
    uploaded_by INTEGER NOT NULL REFERENCES users (id),
    uploaded_at TEXT NOT NULL,
    UNIQUE (branch_id, sha256)
);
CREATE INDEX bank_statements_branch ON bank_statements (branch_id, id);
CREATE TRIGGER bank_statements_no_update BEFORE UPDATE ON bank_statements
BEGIN SELECT RAISE(ABORT, 'bank_statements is append-only'); END;
CREATE TRIGGER bank_statements_no_delete BEFORE DELETE ON bank_statements
BEGIN SELECT RAISE(ABORT, 'bank_statements is append-only'); END;

CREATE TABLE bank_statement_lines (
    statement_id INTEGER NOT NULL REFERENCES bank_statements (id),
    -- The row in the file, as a spreadsheet numbers it.
    line_no      INTEGER NOT NULL,
    booked_on    TEXT NOT NULL,
    reference    TEXT NOT NULL,
    description  TEXT NOT NULL,
    money_in     INTEGER NOT NULL CHECK (money_in >= 0),
    money_out    INTEGER NOT NULL CHECK (money_out >= 0),
    balance      INTEGER,
    PRIMARY KEY (statement_id, line_no),
    CHECK ((money_in = 0) <> (money_out = 0))
);
CREATE TRIGGER bank_statement_lines_no_update BEFORE UPDATE ON bank_statement_lines
BEGIN SELECT RAISE(ABORT, 'bank_statement_lines is append-only'); END;
CREATE TRIGGER bank_statement_lines_no_delete BEFORE DELETE ON bank_statement_lines
BEGIN SELECT RAISE(ABORT, 'bank_statement_lines is append-only'); END;
