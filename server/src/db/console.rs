// The web console's SQL (sessions, the audit log reader, overdue figures),
// compiled for each backend by the `backend!` macro like `queries.rs`. The
// row types live in `crate::console::store`, once for both backends.

use crate::console::store::{AuditFilter, AuditRow, Closure, ConsoleSessionRow, LoanArrears, NewSession, ROUTINE_ACTIONS};

pub async fn console_session_insert(c: &mut Conn, s: &NewSession<'_>, now: DateTime<Utc>) -> DbResult<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO console_sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent)
         VALUES ($1, $2, $3, $4, $4, $5, $6, $7) RETURNING id",
    )
    .bind(s.token_hash)
    .bind(s.user_id)
    .bind(s.csrf_token)
    .bind(now)
    .bind(s.expires_at)
    .bind(s.ip)
    .bind(s.user_agent)
    .fetch_one(&mut *c)
    .await?)
}

/// A session by its token's hash, with its user as they are now.
pub async fn console_session_get(c: &mut Conn, token_hash: &str) -> DbResult<Option<ConsoleSessionRow>> {
    Ok(sqlx::query_as(
        "SELECT s.id, s.user_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, s.ended_at,
                u.username, u.full_name, u.role, u.branch_id, u.active
         FROM console_sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(&mut *c)
    .await?)
}

pub async fn console_session_touch(c: &mut Conn, id: i64, now: DateTime<Utc>) -> DbResult<()> {
    sqlx::query("UPDATE console_sessions SET last_seen_at = $1 WHERE id = $2 AND ended_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Ends a session (logout, expiry seen); true when this call ended it.
pub async fn console_session_end(c: &mut Conn, id: i64, now: DateTime<Utc>) -> DbResult<bool> {
    let done = sqlx::query("UPDATE console_sessions SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Forgets sessions that expired before `before` (their logins and logouts
/// stay in the audit log).
pub async fn console_sessions_purge(c: &mut Conn, before: DateTime<Utc>) -> DbResult<u64> {
    let done = sqlx::query("DELETE FROM console_sessions WHERE expires_at < $1")
        .bind(before)
        .execute(&mut *c)
        .await?;
    Ok(done.rows_affected())
}

/// One page of the audit log, newest first, filtered.
pub async fn audit_list(c: &mut Conn, f: &AuditFilter, limit: i64, offset: i64) -> DbResult<Vec<AuditRow>> {
    let actor = f.actor.as_deref().map(|a| format!("%{}%", a.to_lowercase()));
    Ok(sqlx::query_as(
        "SELECT id, at, actor_username, action, object_type, object_id, device_id, ip, detail FROM audit_log
         WHERE ($1 IS NULL OR LOWER(actor_username) LIKE $1) AND ($2 IS NULL OR action = $2)
           AND ($3 IS NULL OR at >= $3) AND ($4 IS NULL OR at < $4)
           AND ($7 = 0 OR action NOT IN ($8, $9, $10, $11))
         ORDER BY at DESC, id DESC LIMIT $5 OFFSET $6",
    )
    .bind(actor)
    .bind(f.action.as_deref())
    .bind(f.from)
    .bind(f.until)
    .bind(limit)
    .bind(offset)
    .bind(i32::from(f.no_routine))
    .bind(ROUTINE_ACTIONS[0])
    .bind(ROUTINE_ACTIONS[1])
    .bind(ROUTINE_ACTIONS[2])
    .bind(ROUTINE_ACTIONS[3])
    .fetch_all(&mut *c)
    .await?)
}

/// Every deactivation of an account in the audit log, oldest first, with
/// the name of the administrator who made it.
pub async fn closures(c: &mut Conn) -> DbResult<Vec<Closure>> {
    Ok(sqlx::query_as(
        "SELECT a.object_id, a.at, a.actor_username, u.full_name AS actor_name, a.detail
         FROM audit_log a LEFT JOIN users u ON u.id = a.actor_user_id
         WHERE a.action = 'user_deactivate' AND a.object_type = 'user'
         ORDER BY a.at, a.id",
    )
    .fetch_all(&mut *c)
    .await?)
}

/// The actions the audit log holds, for the filter.
pub async fn audit_actions(c: &mut Conn) -> DbResult<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT DISTINCT action FROM audit_log ORDER BY action")
        .fetch_all(&mut *c)
        .await?)
}

/// What is overdue on each of a worker's loans: installments due before
/// `today` and not fully paid, and the unpaid part of them.
pub async fn worker_arrears(c: &mut Conn, worker_id: i64, today: NaiveDate) -> DbResult<Vec<LoanArrears>> {
    Ok(sqlx::query_as(
        "SELECT i.loan_id, CAST(COUNT(*) AS BIGINT) AS installments,
                CAST(SUM(i.principal_due - i.principal_paid + i.interest_due - i.interest_paid) AS BIGINT) AS amount
         FROM installments i JOIN loans l ON l.id = i.loan_id
         WHERE l.worker_id = $1 AND l.status = 'active' AND i.due_on < $2
           AND (i.principal_paid < i.principal_due OR i.interest_paid < i.interest_due)
         GROUP BY i.loan_id",
    )
    .bind(worker_id)
    .bind(today)
    .fetch_all(&mut *c)
    .await?)
}

/// The principal every loan of the fund still owes, by its installments.
pub async fn principal_outstanding(c: &mut Conn) -> DbResult<i64> {
    Ok(sqlx::query_scalar("SELECT CAST(COALESCE(SUM(principal_outstanding), 0) AS BIGINT) FROM loans")
        .fetch_one(&mut *c)
        .await?)
}

pub async fn workers_of(c: &mut Conn, officer_id: i64) -> DbResult<(i64, i64)> {
    Ok(sqlx::query_as(
        "SELECT COUNT(*),
                COUNT(CASE WHEN EXISTS (SELECT 1 FROM loans l WHERE l.worker_id = w.id AND l.status = 'active') THEN 1 END)
         FROM workers w WHERE w.officer_id = $1",
    )
    .bind(officer_id)
    .fetch_one(&mut *c)
    .await?)
}
