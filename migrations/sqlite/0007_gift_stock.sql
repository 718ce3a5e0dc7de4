-- Campaign receipts: gift packages received into a branch's stock, or the
-- cash of a welfare programme received into its vault. Each receipt posts
-- one journal entry (kind `campaign_receipt`): debit `gift_stock` (or
-- `vault`), credit `campaign_funding`, the campaign's budget from the union
-- and donors. Also the `cashier` role, who takes repayments at the counter.
--
-- SQLite cannot alter a CHECK constraint, so `users`, `journal_entries` and
-- `journal_lines` are rebuilt: rows are kept aside, the table is dropped and
-- created again with the wider CHECK, the rows go back and the indexes and
-- triggers are created again. Migrations run in a transaction, where
-- `PRAGMA foreign_keys` cannot be switched off; foreign keys are deferred
-- instead: dropping a parent table counts its children as violations, and
-- putting the parent rows back clears them before the commit.

PRAGMA defer_foreign_keys = ON;

-- users: the `cashier` role (of a branch, like officers and supervisors).
CREATE TEMP TABLE users_kept AS SELECT * FROM users;
DROP TABLE users;
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    code          TEXT NOT NULL UNIQUE,
    uid             BLOB NOT NULL UNIQUE,
    username      TEXT NOT NULL UNIQUE,
    full_name     TEXT NOT NULL,
    name_key      TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('officer', 'supervisor', 'cashier', 'admin')),
    branch_id     INTEGER REFERENCES branches (id),
    phone         TEXT,
    password_hash TEXT,
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    CHECK (role = 'admin' OR branch_id IS NOT NULL)
);
INSERT INTO users (id, code, uid, username, full_name, name_key, role, branch_id, phone, password_hash, active,
                   created_at, updated_at)
    SELECT id, code, uid, username, full_name, name_key, role, branch_id, phone, password_hash, active,
           created_at, updated_at
    FROM users_kept ORDER BY id;
DROP TABLE users_kept;
CREATE INDEX users_branch ON users (branch_id);

-- The receipts themselves (append-only).
CREATE TABLE campaign_receipts (
    id          INTEGER PRIMARY KEY,
    client_id   BLOB NOT NULL UNIQUE,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    branch_id   INTEGER NOT NULL REFERENCES branches (id),
    packages    INTEGER NOT NULL CHECK (packages > 0),
    unit_value  INTEGER NOT NULL CHECK (unit_value >= 0),
    amount      INTEGER NOT NULL CHECK (amount = packages * unit_value),
    received_on TEXT NOT NULL,
    source      TEXT NOT NULL,
    recorded_by INTEGER NOT NULL REFERENCES users (id),
    recorded_at TEXT NOT NULL
);
CREATE INDEX campaign_receipts_campaign ON campaign_receipts (campaign_id, branch_id);
CREATE TRIGGER campaign_receipts_no_update BEFORE UPDATE ON campaign_receipts
BEGIN SELECT RAISE(ABORT, 'campaign_receipts is append-only'); END;
CREATE TRIGGER campaign_receipts_no_delete BEFORE DELETE ON campaign_receipts
BEGIN SELECT RAISE(ABORT, 'campaign_receipts is append-only'); END;

-- journal_entries: the `campaign_receipt` kind and the receipt it posts.
CREATE TEMP TABLE journal_entries_kept AS SELECT * FROM journal_entries;
DROP TABLE journal_entries;
CREATE TABLE journal_entries (
    id         INTEGER PRIMARY KEY,
    branch_id  INTEGER NOT NULL REFERENCES branches (id),
    kind       TEXT NOT NULL CHECK (kind IN ('repayment', 'gift', 'welfare', 'settlement', 'counter_repayment', 'reversal',
                                             'campaign_receipt')),
    record_id  INTEGER UNIQUE REFERENCES sync_records (id),
    counter_id INTEGER UNIQUE REFERENCES counter_repayments (id),
    batch_id   BLOB REFERENCES batch_reviews (batch_id),
    reverses   INTEGER UNIQUE REFERENCES journal_entries (id),
    loan_id    INTEGER REFERENCES loans (id),
    officer_id INTEGER REFERENCES users (id),
    posted_by  INTEGER NOT NULL REFERENCES users (id),
    posted_at  TEXT NOT NULL,
    memo       TEXT NOT NULL,
    receipt_id INTEGER UNIQUE REFERENCES campaign_receipts (id)
);
INSERT INTO journal_entries (id, branch_id, kind, record_id, counter_id, batch_id, reverses, loan_id, officer_id,
                             posted_by, posted_at, memo)
    SELECT id, branch_id, kind, record_id, counter_id, batch_id, reverses, loan_id, officer_id,
           posted_by, posted_at, memo
    FROM journal_entries_kept ORDER BY id;
DROP TABLE journal_entries_kept;
CREATE UNIQUE INDEX journal_settlement ON journal_entries (batch_id) WHERE kind = 'settlement';
CREATE INDEX journal_entries_loan ON journal_entries (loan_id) WHERE loan_id IS NOT NULL;
CREATE INDEX journal_entries_posted ON journal_entries (posted_at);
CREATE TRIGGER journal_entries_no_update BEFORE UPDATE ON journal_entries
BEGIN SELECT RAISE(ABORT, 'journal_entries is append-only'); END;
CREATE TRIGGER journal_entries_no_delete BEFORE DELETE ON journal_entries
BEGIN SELECT RAISE(ABORT, 'journal_entries is append-only'); END;

-- journal_lines: the `campaign_funding` account.
CREATE TEMP TABLE journal_lines_kept AS SELECT * FROM journal_lines;
DROP TABLE journal_lines;
CREATE TABLE journal_lines (
    id             INTEGER PRIMARY KEY,
    entry_id       INTEGER NOT NULL REFERENCES journal_entries (id),
    account        TEXT NOT NULL CHECK (account IN ('vault', 'cash_in_hand', 'loan_principal', 'interest_income',
                                                    'gift_stock', 'campaign_expense', 'cash_over_short',
                                                    'campaign_funding')),
    branch_id      INTEGER NOT NULL REFERENCES branches (id),
    officer_id     INTEGER REFERENCES users (id),
    campaign_id    INTEGER REFERENCES campaigns (id),
    loan_id        INTEGER REFERENCES loans (id),
    debit          INTEGER NOT NULL CHECK (debit >= 0),
    credit         INTEGER NOT NULL CHECK (credit >= 0),
    CHECK ((debit = 0) <> (credit = 0))
);
INSERT INTO journal_lines (id, entry_id, account, branch_id, officer_id, campaign_id, loan_id, debit, credit)
    SELECT id, entry_id, account, branch_id, officer_id, campaign_id, loan_id, debit, credit
    FROM journal_lines_kept ORDER BY id;
DROP TABLE journal_lines_kept;
CREATE INDEX journal_lines_entry ON journal_lines (entry_id);
CREATE INDEX journal_lines_account ON journal_lines (account, branch_id);
CREATE TRIGGER journal_lines_no_update BEFORE UPDATE ON journal_lines
BEGIN SELECT RAISE(ABORT, 'journal_lines is append-only'); END;
CREATE TRIGGER journal_lines_no_delete BEFORE DELETE ON journal_lines
BEGIN SELECT RAISE(ABORT, 'journal_lines is append-only'); END;
