//! The console's rows and store operations; the SQL is in `db/console.rs`.

use chrono::{DateTime, NaiveDate, Utc};

use crate::db::{with_conn, with_tx, AuditEntry, Db, DbError, DbResult};

/// A console session with its user as they are now.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConsoleSessionRow {
    pub id: i64,
    pub user_id: i64,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub username: String,
    pub full_name: String,
    pub role: String,
    pub branch_id: Option<i64>,
    pub active: bool,
}

/// When, by whom and why an account was last deactivated, from the
/// audit log.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Closure {
    /// The account's id (the audit entry's object).
    pub object_id: String,
    pub at: DateTime<Utc>,
    pub actor_username: String,
    /// The administrator's name as it is now; `None` when the actor is
    /// no longer a user (or was the server's command line).
    pub actor_name: Option<String>,
    /// The audit entry's detail: `{"reason": "…"}`.
    pub detail: String,
}

impl Closure {
    pub fn reason(&self) -> String {
        serde_json::from_str::<serde_json::Value>(&self.detail)
            .ok()
            .and_then(|d| d.get("reason")?.as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

/// One line of the audit log as the console shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_username: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub device_id: Option<String>,
    pub ip: Option<String>,
    pub detail: String,
}

/// Which audit lines to show. `from` is inclusive, `until` exclusive.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Part of the actor's username, any case.
    pub actor: Option<String>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Leaves out the routine sign-ins, token renewals and sign-outs
    /// ([`ROUTINE_ACTIONS`]; refused and failed ones stay).
    pub no_routine: bool,
}

/// Audit actions every working day writes many of.
pub const ROUTINE_ACTIONS: [&str; 4] = ["login", "refresh", "console_login", "console_logout"];

/// What is overdue on one loan.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoanArrears {
    pub loan_id: i64,
    /// Installments due before today and not fully paid.
    pub installments: i64,
    /// Whole đồng still unpaid on them.
    pub amount: i64,
}

/// A new session to store.
pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user_id: i64,
    pub username: &'a str,
    pub csrf_token: &'a str,
    pub expires_at: DateTime<Utc>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    /// Sessions that expired before this are forgotten on the way.
    pub purge_before: DateTime<Utc>,
}

impl Db {
    /// Signs a user in to the console: clears their login throttle, stores
    /// the session and writes the login to the audit log, in one transaction.
    /// Returns the session id.
    pub async fn console_session_start(
        &self,
        s: &NewSession<'_>,
        now: DateTime<Utc>,
    ) -> DbResult<i64> {
        with_tx!(self, q, tx => async {
            q::throttle_clear(&mut tx, s.username).await?;
            q::console_sessions_purge(&mut tx, s.purge_before).await?;
            let id = q::console_session_insert(&mut tx, s, now).await?;
            q::audit_append(&mut tx, &AuditEntry {
                actor_user_id: Some(s.user_id),
                actor_username: s.username.to_string(),
                action: "console_login",
                object_type: "console_session",
                object_id: id.to_string(),
                device_id: Some(super::session::device_label(id)),
                ip: s.ip.map(str::to_string),
                detail: serde_json::json!({ "user_agent": s.user_agent }),
            }, now).await?;
            Ok::<_, DbError>(id)
        }.await)
    }

    pub async fn console_session(&self, token_hash: &str) -> DbResult<Option<ConsoleSessionRow>> {
        with_conn!(self, q, c => q::console_session_get(&mut c, token_hash).await)
    }

    pub async fn console_session_touch(&self, id: i64, now: DateTime<Utc>) -> DbResult<()> {
        with_tx!(self, q, tx => q::console_session_touch(&mut tx, id, now).await)
    }

    /// Ends a session; `audit` (a logout) is written when this call ended it.
    pub async fn console_session_end(
        &self,
        id: i64,
        audit: Option<AuditEntry>,
        now: DateTime<Utc>,
    ) -> DbResult<bool> {
        with_tx!(self, q, tx => async {
            let ended = q::console_session_end(&mut tx, id, now).await?;
            if let (true, Some(entry)) = (ended, audit.as_ref()) {
                q::audit_append(&mut tx, entry, now).await?;
            }
            Ok::<_, DbError>(ended)
        }.await)
    }

    pub async fn audit_page(
        &self,
        filter: &AuditFilter,
        limit: i64,
        offset: i64,
    ) -> DbResult<Vec<AuditRow>> {
        with_conn!(self, q, c => q::audit_list(&mut c, filter, limit, offset).await)
    }

    pub async fn audit_actions(&self) -> DbResult<Vec<String>> {
        with_conn!(self, q, c => q::audit_actions(&mut c).await)
    }

    /// The last deactivation of each of `user_ids`, from the audit log.
    pub async fn closures(
        &self,
        user_ids: &[i64],
    ) -> DbResult<std::collections::HashMap<i64, Closure>> {
        if user_ids.is_empty() {
            return Ok(Default::default());
        }
        let all = with_conn!(self, q, c => q::closures(&mut c).await)?;
        // Oldest first: the last one read is the one that stands.
        Ok(all
            .into_iter()
            .filter_map(|c| Some((c.object_id.parse::<i64>().ok()?, c)))
            .filter(|(id, _)| user_ids.contains(id))
            .collect())
    }

    /// Workers assigned to an officer, and of them those with a loan open.
    pub async fn workers_of(&self, officer_id: i64) -> DbResult<(i64, i64)> {
        with_conn!(self, q, c => q::workers_of(&mut c, officer_id).await)
    }

    /// The principal the fund's loans still owe, by their installments.
    pub async fn principal_outstanding(&self) -> DbResult<i64> {
        with_conn!(self, q, c => q::principal_outstanding(&mut c).await)
    }

    /// Overdue figures of a worker's loans (the caller checked the worker
    /// is in scope).
    pub async fn worker_arrears(
        &self,
        worker_id: i64,
        today: NaiveDate,
    ) -> DbResult<Vec<LoanArrears>> {
        with_conn!(self, q, c => q::worker_arrears(&mut c, worker_id, today).await)
    }
}
