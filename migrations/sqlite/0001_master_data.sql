-- Sổ Tay server schema, SQLite. Money is whole đồng (INTEGER); timestamps are
-- RFC 3339 UTC text; dates are YYYY-MM-DD text.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE branches (
    id              INTEGER PRIMARY KEY,
    code            TEXT NOT NULL UNIQUE,
    uid             BLOB NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    district        TEXT NOT NULL,
    industrial_zone TEXT NOT NULL,
    address         TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    code          TEXT NOT NULL UNIQUE,
    uid             BLOB NOT NULL UNIQUE,
    username      TEXT NOT NULL UNIQUE,
    full_name     TEXT NOT NULL,
    name_key      TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('officer', 'supervisor', 'admin')),
    branch_id     INTEGER REFERENCES branches (id),
    phone         TEXT,
    password_hash TEXT,
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    CHECK (role = 'admin' OR branch_id IS NOT NULL)
);
CREATE INDEX users_branch ON users (branch_id);

CREATE TABLE devices (
    id            TEXT PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    name          TEXT NOT NULL,
    code          TEXT NOT NULL UNIQUE,
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    revoked_at    TEXT,
    revoked_by    INTEGER REFERENCES users (id),
    revoke_reason TEXT
);
CREATE INDEX devices_user ON devices (user_id);

CREATE TABLE refresh_tokens (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    family_id   TEXT NOT NULL,
    device_id   TEXT NOT NULL REFERENCES devices (id),
    user_id     INTEGER NOT NULL REFERENCES users (id),
    issued_at   TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    revoked_at  TEXT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_device ON refresh_tokens (device_id);

CREATE TABLE login_throttle (
    username          TEXT PRIMARY KEY,
    failures          INTEGER NOT NULL,
    window_started_at TEXT NOT NULL,
    locked_until      TEXT
);

CREATE TABLE boarding_houses (
    id              INTEGER PRIMARY KEY,
    code            TEXT NOT NULL UNIQUE,
    uid             BLOB NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    address         TEXT NOT NULL,
    ward            TEXT NOT NULL,
    district        TEXT NOT NULL,
    industrial_zone TEXT NOT NULL,
    landlord_name   TEXT NOT NULL,
    landlord_phone  TEXT,
    latitude        REAL,
    longitude       REAL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE TABLE workers (
    id                INTEGER PRIMARY KEY,
    code              TEXT NOT NULL UNIQUE,
    uid             BLOB NOT NULL UNIQUE,
    full_name         TEXT NOT NULL,
    name_key          TEXT NOT NULL,
    cccd              TEXT NOT NULL UNIQUE CHECK (length(cccd) = 12),
    phone             TEXT,
    date_of_birth     TEXT,
    gender            TEXT,
    union_member      INTEGER NOT NULL,
    employer          TEXT NOT NULL,
    industrial_zone   TEXT NOT NULL,
    boarding_house_id INTEGER REFERENCES boarding_houses (id),
    room              TEXT NOT NULL,
    hardship          INTEGER NOT NULL,
    hardship_note     TEXT NOT NULL,
    officer_id        INTEGER NOT NULL REFERENCES users (id),
    branch_id         INTEGER NOT NULL REFERENCES branches (id),
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX workers_officer ON workers (officer_id);
CREATE INDEX workers_branch ON workers (branch_id);
CREATE INDEX workers_phone ON workers (phone);
CREATE INDEX workers_boarding_house ON workers (boarding_house_id);

CREATE TABLE loan_products (
    id             INTEGER PRIMARY KEY,
    code           TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    annual_rate_bp INTEGER NOT NULL CHECK (annual_rate_bp BETWEEN 0 AND 10000),
    method         TEXT NOT NULL CHECK (method IN ('flat', 'declining')),
    frequency      TEXT NOT NULL CHECK (frequency IN ('weekly', 'biweekly', 'monthly')),
    installments   INTEGER NOT NULL CHECK (installments > 0),
    min_principal  INTEGER NOT NULL CHECK (min_principal > 0),
    max_principal  INTEGER NOT NULL CHECK (max_principal >= min_principal),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

CREATE TABLE loans (
    id             INTEGER PRIMARY KEY,
    code           TEXT NOT NULL UNIQUE,
    uid             BLOB NOT NULL UNIQUE,
    worker_id      INTEGER NOT NULL REFERENCES workers (id),
    product_id     INTEGER NOT NULL REFERENCES loan_products (id),
    principal      INTEGER NOT NULL CHECK (principal > 0),
    annual_rate_bp INTEGER NOT NULL,
    method         TEXT NOT NULL,
    frequency      TEXT NOT NULL,
    installments   INTEGER NOT NULL,
    disbursed_on   TEXT NOT NULL,
    opening_paid   INTEGER NOT NULL CHECK (opening_paid >= 0),
    status         TEXT NOT NULL CHECK (status IN ('active', 'closed')),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX loans_worker ON loans (worker_id);

CREATE TABLE installments (
    loan_id        INTEGER NOT NULL REFERENCES loans (id),
    number         INTEGER NOT NULL,
    due_on         TEXT NOT NULL,
    principal_due  INTEGER NOT NULL CHECK (principal_due >= 0),
    interest_due   INTEGER NOT NULL CHECK (interest_due >= 0),
    principal_paid INTEGER NOT NULL CHECK (principal_paid BETWEEN 0 AND principal_due),
    interest_paid  INTEGER NOT NULL CHECK (interest_paid BETWEEN 0 AND interest_due),
    PRIMARY KEY (loan_id, number)
);
CREATE INDEX installments_due ON installments (due_on);

CREATE TABLE campaigns (
    id           INTEGER PRIMARY KEY,
    code         TEXT NOT NULL UNIQUE,
    uid             BLOB NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('gift', 'welfare')),
    starts_on    TEXT NOT NULL,
    ends_on      TEXT NOT NULL,
    gift_value   INTEGER NOT NULL CHECK (gift_value >= 0),
    target_count INTEGER NOT NULL CHECK (target_count >= 0),
    eligibility  TEXT NOT NULL,
    description  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    CHECK (ends_on >= starts_on)
);

CREATE TABLE campaign_branch_quotas (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    branch_id   INTEGER NOT NULL REFERENCES branches (id),
    quota       INTEGER NOT NULL CHECK (quota >= 0),
    PRIMARY KEY (campaign_id, branch_id)
);

CREATE TABLE campaign_officer_quotas (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    officer_id  INTEGER NOT NULL REFERENCES users (id),
    quota       INTEGER NOT NULL CHECK (quota >= 0),
    PRIMARY KEY (campaign_id, officer_id)
);

CREATE TABLE imports (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    user_id     INTEGER REFERENCES users (id),
    source      TEXT NOT NULL,
    files       TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    rows        INTEGER NOT NULL,
    created     INTEGER NOT NULL,
    updated     INTEGER NOT NULL,
    unchanged   INTEGER NOT NULL
);

-- Append-only: who did what, when, from which device and address.
CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY,
    at             TEXT NOT NULL,
    actor_user_id  INTEGER,
    actor_username TEXT NOT NULL,
    action         TEXT NOT NULL,
    object_type    TEXT NOT NULL,
    object_id      TEXT NOT NULL,
    device_id      TEXT,
    ip             TEXT,
    detail         TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
