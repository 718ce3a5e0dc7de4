-- The web console's sessions: a browser signed in by a supervisor or an
-- admin. The cookie carries a random token; only its SHA-256 is stored.
-- Each session has its own anti-forgery (CSRF) token for every form.

CREATE TABLE console_sessions (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    ended_at     TEXT,
    ip           TEXT,
    user_agent   TEXT
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);

-- The console filters the audit log by action and by actor.
CREATE INDEX audit_log_action ON audit_log (action, at);
CREATE INDEX audit_log_actor ON audit_log (actor_username, at);
