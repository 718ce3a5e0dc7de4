// The store's SQL, written once and compiled for each backend by the
// `backend!` macro in `db/mod.rs` (`DB`, `Conn` and `IS_SQLITE` come from
// there). Placeholders are `$N`, which both SQLite and PostgreSQL accept.
// Integer sums are cast to BIGINT because PostgreSQL widens SUM(bigint).

/// A stored bank transaction reference in SQL, compared with a
/// [`reference_key`](super::reference_key): kept before without spaces in
/// capitals but otherwise as typed, the punctuation typed in it is left
/// out here too.
macro_rules! reference_key_sql {
    ($column:literal) => {
        concat!(
            "UPPER(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(",
            $column,
            ", ' ', ''), '-', ''), '.', ''), '/', ''), '_', ''), ':', ''), ',', ''), '#', ''))"
        )
    };
}

/// When the officer could learn that record `s` was refused: when its
/// batch was decided at review (rejected, or the record left out), else
/// when it reached the server (refused at upload, or held from a revoked
/// phone).
macro_rules! refused_known_at_sql {
    () => {
        "COALESCE((SELECT MAX(kr.decided_at) FROM record_reviews kr WHERE kr.record_id = s.id), s.received_at)"
    };
}

/// Record `s`, accepted at upload, is cash or a package still out there
/// after review: rejected with its batch or left out of an approval, and
/// not cancelled by a void that stands (a void rejected in a batch of its
/// own cancels nothing, the record stays as the officer sent it; one
/// rejected together with its record stands, as a void does at an
/// approval, where it cannot be left out: the officer's word that no cash
/// changed hands is weighed the same whatever the batch's fate). Defined in
/// this file, the first included, so that every file after it has it.
macro_rules! held_at_review_sql {
    () => {
        concat!(
            "(s.status = 'accepted'
          AND EXISTS (SELECT 1 FROM record_reviews hr WHERE hr.record_id = s.id AND hr.decision IN ('rejected', 'excluded'))
          AND NOT EXISTS (SELECT 1 FROM sync_records hv WHERE hv.target_client_id = s.client_id AND hv.kind = 'void' AND ",
            void_stands_sql!(hv, s),
            "))"
        )
    };
}

/// Void `$v` of record `$s` stands, cancelling it: accepted, and not
/// excluded or rejected by the supervisor unless rejected together with
/// its record (in the same batch); or, for a record held in quarantine, a
/// void held too, from the same revoked phone, not in a batch the
/// supervisor rejected. The one rule the refused lists, the batch page and
/// the statuses sent to phones judge a void by.
macro_rules! void_stands_sql {
    ($v:ident, $s:ident) => {
        concat!(
            "((", stringify!($v), ".status = 'accepted' AND (", stringify!($v), ".batch_id = ", stringify!($s),
            ".batch_id OR NOT EXISTS (SELECT 1 FROM record_reviews vsd WHERE vsd.record_id = ", stringify!($v),
            ".id AND vsd.decision <> 'approved'))) OR (", stringify!($v), ".status = 'quarantined' AND ",
            stringify!($s), ".status = 'quarantined' AND ", stringify!($v), ".device_id = ", stringify!($s),
            ".device_id AND ", stringify!($v), ".officer_id = ", stringify!($s),
            ".officer_id AND NOT EXISTS (SELECT 1 FROM record_reviews vsq WHERE vsq.record_id = ", stringify!($v),
            ".id AND vsq.decision = 'rejected')))"
        )
    };
}

/// Record `s`, kept in quarantine, was voided by its officer on the same
/// revoked phone (a void also in quarantine, not in a batch the supervisor
/// rejected): no cash or package is held for it.
macro_rules! voided_in_quarantine_sql {
    () => {
        voided_in_quarantine_sql!(s)
    };
    ($s:ident) => {
        concat!(
            "(",
            stringify!($s),
            ".status = 'quarantined' AND EXISTS (SELECT 1 FROM sync_records v WHERE v.target_client_id = ",
            stringify!($s),
            ".client_id AND v.kind = 'void' AND ",
            void_stands_sql!(v, $s),
            "))"
        )
    };
}

use chrono::{DateTime, NaiveDate, Utc};
use super::{DbError, DbResult};

/// The part of a worker query that limits rows to what `scope` may see;
/// binds `$1` (kind) and `$2` (id). `w` is the workers table.
const WORKER_SCOPE: &str = "($1 = 0 OR ($1 = 1 AND w.officer_id = $2) OR ($1 = 2 AND w.branch_id = $2))";

pub async fn ping(c: &mut Conn) -> DbResult<()> {
    sqlx::query("SELECT 1").execute(&mut *c).await?;
    Ok(())
}

pub async fn setting_get(c: &mut Conn, key: &str) -> DbResult<Option<String>> {
    Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(&mut *c)
        .await?)
}

/// Stores `value` under `key` unless the key is already set; true when stored.
pub async fn setting_put_if_absent(c: &mut Conn, key: &str, value: &str) -> DbResult<bool> {
    let done = sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(key)
        .bind(value)
        .execute(&mut *c)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn setting_put(c: &mut Conn, key: &str, value: &str) -> DbResult<()> {
    sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .bind(key)
        .bind(value)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub async fn setting_delete(c: &mut Conn, key: &str) -> DbResult<bool> {
    let done = sqlx::query("DELETE FROM settings WHERE key = $1").bind(key).execute(&mut *c).await?;
    Ok(done.rows_affected() > 0)
}

const USER_AUTH: &str = "SELECT id, username, full_name, role, branch_id, password_hash, active, token_version FROM users";

pub async fn user_auth_by_username(c: &mut Conn, username: &str) -> DbResult<Option<UserAuth>> {
    Ok(sqlx::query_as(&format!("{USER_AUTH} WHERE username = $1"))
        .bind(username)
        .fetch_optional(&mut *c)
        .await?)
}

/// The highest sequence of the receipt numbers device `device_id` (code
/// `code`) sent up for officer `officer_id`, whatever became of them: a
/// field book restored from an older copy numbers on from there. Read
/// through the officer's batches of that device.
pub async fn device_last_receipt(c: &mut Conn, officer_id: i64, device_id: &str, code: &str) -> DbResult<Option<i64>> {
    let numbers: Vec<String> = sqlx::query_scalar(
        "SELECT r.receipt_no FROM sync_records r
         WHERE r.batch_id IN (SELECT b.batch_id FROM sync_batches b WHERE b.officer_id = $1 AND b.device_id = $2)
           AND r.receipt_no LIKE $3
         ORDER BY LENGTH(r.receipt_no) DESC, r.receipt_no DESC LIMIT 20",
    )
    .bind(officer_id)
    .bind(device_id)
    .bind(format!("{code}-%"))
    .fetch_all(&mut *c)
    .await?;
    let kept = numbers.iter().find_map(|n| sotay_core::domain::rules::receipt_sequence(code, n));
    // A refused repayment keeps its number only in the body it came in.
    // (`kind || ''`: read through the officer's batches, not through every
    // repayment by the index on kind.)
    let refused: Vec<String> = sqlx::query_scalar(
        "SELECT r.body FROM sync_records r
         WHERE r.batch_id IN (SELECT b.batch_id FROM sync_batches b WHERE b.officer_id = $1 AND b.device_id = $2)
           AND r.kind || '' = 'repayment' AND r.receipt_no IS NULL",
    )
    .bind(officer_id)
    .bind(device_id)
    .fetch_all(&mut *c)
    .await?;
    let refused = refused.iter().filter_map(|body| {
        match serde_json::from_str::<sotay_core::wire::UploadRecord>(body).ok()?.body {
            sotay_core::wire::RecordBody::Repayment(p) => sotay_core::domain::rules::receipt_sequence(code, &p.receipt_no),
            _ => None,
        }
    });
    Ok(refused.chain(kept).max())
}

pub async fn user_auth_by_id(c: &mut Conn, id: i64) -> DbResult<Option<UserAuth>> {
    Ok(sqlx::query_as(&format!("{USER_AUTH} WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *c)
        .await?)
}

/// Sets a password hash (its caller ends the user's sessions: see
/// [`user_sessions_end`]).
pub async fn user_set_password(c: &mut Conn, id: i64, hash: &str, now: DateTime<Utc>) -> DbResult<()> {
    sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(hash)
        .bind(now)
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Turns an account on or off; `false` when it already was.
pub async fn user_set_active(c: &mut Conn, id: i64, active: bool, now: DateTime<Utc>) -> DbResult<bool> {
    let done = sqlx::query("UPDATE users SET active = $1, updated_at = $2 WHERE id = $3 AND active <> $1")
        .bind(active)
        .bind(now)
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends every console session of a user and revokes the refresh tokens of
/// all their devices: whoever holds one must sign in again.
pub async fn user_sessions_end(c: &mut Conn, user_id: i64, now: DateTime<Utc>) -> DbResult<()> {
    // Each refresh holds its device's row (see `refresh` in auth): one in
    // flight finishes first, and the token it issued is ended below.
    user_devices_lock(c, user_id).await?;
    // The access tokens issued before stop working at once.
    sqlx::query("UPDATE users SET token_version = token_version + 1 WHERE id = $1")
        .bind(user_id)
        .execute(&mut *c)
        .await?;
    sqlx::query("UPDATE console_sessions SET ended_at = $1 WHERE user_id = $2 AND ended_at IS NULL")
        .bind(now)
        .bind(user_id)
        .execute(&mut *c)
        .await?;
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $1
         WHERE revoked_at IS NULL AND device_id IN (SELECT id FROM devices WHERE user_id = $2)",
    )
    .bind(now)
    .bind(user_id)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// The active administrators, their rows locked in id order on
/// PostgreSQL (SQLite's writer is alone already): two administrators
/// deactivating each other at once take turns, and the second finds no
/// other left.
pub async fn admins_active(c: &mut Conn) -> DbResult<Vec<i64>> {
    let lock = if IS_SQLITE { "" } else { " FOR UPDATE" };
    Ok(sqlx::query_scalar(&format!("SELECT id FROM users WHERE role = 'admin' AND active ORDER BY id{lock}"))
        .fetch_all(&mut *c)
        .await?)
}

/// Holds a device's row to the end of the transaction on PostgreSQL
/// (SQLite's writer is alone already): a refresh, a revocation and the end
/// of a user's sessions on the same device take turns.
pub async fn device_lock(c: &mut Conn, id: &str) -> DbResult<()> {
    if !IS_SQLITE {
        // Not FOR UPDATE: uploads referring to the device (their key
        // share) go on meanwhile.
        sqlx::query("SELECT id FROM devices WHERE id = $1 FOR NO KEY UPDATE")
            .bind(id)
            .fetch_optional(&mut *c)
            .await?;
    }
    Ok(())
}

/// [`device_lock`] for every device of a user, in id order.
pub async fn user_devices_lock(c: &mut Conn, user_id: i64) -> DbResult<()> {
    if !IS_SQLITE {
        sqlx::query("SELECT id FROM devices WHERE user_id = $1 ORDER BY id FOR NO KEY UPDATE")
            .bind(user_id)
            .fetch_all(&mut *c)
            .await?;
    }
    Ok(())
}

/// The ids of a user's devices that are not revoked.
pub async fn devices_in_use(c: &mut Conn, user_id: i64) -> DbResult<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT id FROM devices WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id")
        .bind(user_id)
        .fetch_all(&mut *c)
        .await?)
}

pub async fn user_get(c: &mut Conn, id: i64) -> DbResult<Option<UserView>> {
    Ok(sqlx::query_as("SELECT id, code, username, full_name, role, branch_id, phone, active FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *c)
        .await?)
}

pub async fn users_list(c: &mut Conn, branch_id: Option<i64>) -> DbResult<Vec<UserView>> {
    Ok(sqlx::query_as(
        "SELECT id, code, username, full_name, role, branch_id, phone, active FROM users
         WHERE ($1 IS NULL OR branch_id = $1) ORDER BY role, name_key",
    )
    .bind(branch_id)
    .fetch_all(&mut *c)
    .await?)
}

/// The user names of open accounts with no password yet (no one can
/// sign in to them), administrators first.
pub async fn users_without_password(c: &mut Conn) -> DbResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT username FROM users WHERE password_hash IS NULL AND active
         ORDER BY CASE WHEN role = 'admin' THEN 0 ELSE 1 END, username",
    )
    .fetch_all(&mut *c)
    .await?)
}

pub async fn throttle_get(c: &mut Conn, key: Throttled<'_>) -> DbResult<Option<ThrottleRow>> {
    let (table, column, value) = key.parts();
    Ok(
        sqlx::query_as(&format!("SELECT failures, window_started_at, locked_until FROM {table} WHERE {column} = $1"))
            .bind(value)
            .fetch_optional(&mut *c)
            .await?,
    )
}

/// The throttle of `key` as it stands, to count one more failure: its row
/// (created with no failure when there is none), held to the end of the
/// transaction — locked on PostgreSQL; a SQLite write transaction holds the
/// whole database — so that failures at the same instant each count.
pub async fn throttle_lock(c: &mut Conn, key: Throttled<'_>, now: DateTime<Utc>) -> DbResult<ThrottleRow> {
    let (table, column, value) = key.parts();
    sqlx::query(&format!(
        "INSERT INTO {table} ({column}, failures, window_started_at, locked_until) VALUES ($1, 0, $2, NULL)
         ON CONFLICT ({column}) DO NOTHING"
    ))
    .bind(value)
    .bind(now)
    .execute(&mut *c)
    .await?;
    let lock = if IS_SQLITE { "" } else { " FOR UPDATE" };
    let row: Option<ThrottleRow> = sqlx::query_as(&format!(
        "SELECT failures, window_started_at, locked_until FROM {table} WHERE {column} = $1{lock}"
    ))
    .bind(value)
    .fetch_optional(&mut *c)
    .await?;
    // Cleared meanwhile by a sign-in (PostgreSQL): counted from nothing.
    Ok(row.unwrap_or(ThrottleRow { failures: 0, window_started_at: now, locked_until: None }))
}

pub async fn throttle_put(c: &mut Conn, key: Throttled<'_>, row: &ThrottleRow) -> DbResult<()> {
    let (table, column, value) = key.parts();
    sqlx::query(&format!(
        "INSERT INTO {table} ({column}, failures, window_started_at, locked_until) VALUES ($1, $2, $3, $4)
         ON CONFLICT ({column}) DO UPDATE SET failures = excluded.failures,
             window_started_at = excluded.window_started_at, locked_until = excluded.locked_until"
    ))
    .bind(value)
    .bind(row.failures)
    .bind(row.window_started_at)
    .bind(row.locked_until)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn throttle_clear(c: &mut Conn, username: &str) -> DbResult<()> {
    sqlx::query("DELETE FROM login_throttle WHERE username = $1")
        .bind(username)
        .execute(&mut *c)
        .await?;
    Ok(())
}

const DEVICE: &str = "SELECT d.id, d.user_id, u.username, u.full_name AS user_full_name, u.role AS user_role, u.branch_id, d.name, d.code,
        d.created_at, d.last_seen_at, d.revoked_at, d.revoke_reason, d.revoked_with_account
    FROM devices d JOIN users u ON u.id = d.user_id";

pub async fn device_get(c: &mut Conn, id: &str) -> DbResult<Option<DeviceRow>> {
    Ok(sqlx::query_as(&format!("{DEVICE} WHERE d.id = $1"))
        .bind(id)
        .fetch_optional(&mut *c)
        .await?)
}

/// Devices an admin (`branch_id` None) or a branch's supervisor `viewer`
/// may see: their own, the branch's officers' and cashiers' (see
/// [`DeviceRow::looked_after_by`]).
pub async fn devices_list(c: &mut Conn, branch_id: Option<i64>, viewer: i64) -> DbResult<Vec<DeviceRow>> {
    Ok(sqlx::query_as(&format!(
        "{DEVICE} WHERE ($1 IS NULL OR (u.branch_id = $1 AND u.role IN ('officer', 'cashier')) OR u.id = $2)
         ORDER BY d.last_seen_at DESC"
    ))
    .bind(branch_id)
    .bind(viewer)
    .fetch_all(&mut *c)
    .await?)
}

/// Registers a device on its first login; false when `code` is taken.
pub async fn device_insert(
    c: &mut Conn,
    id: &str,
    user_id: i64,
    name: &str,
    code: &str,
    now: DateTime<Utc>,
) -> DbResult<bool> {
    let done = sqlx::query(
        "INSERT INTO devices (id, user_id, name, code, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $5)
         ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(user_id)
    .bind(name)
    .bind(code)
    .bind(now)
    .execute(&mut *c)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn device_touch(c: &mut Conn, id: &str, name: Option<&str>, now: DateTime<Utc>) -> DbResult<()> {
    sqlx::query("UPDATE devices SET last_seen_at = $1, name = COALESCE($2, name) WHERE id = $3")
        .bind(now)
        .bind(name)
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Moves a device's last connection on to `at`, never back.
pub async fn device_seen(c: &mut Conn, id: &str, at: DateTime<Utc>) -> DbResult<()> {
    sqlx::query("UPDATE devices SET last_seen_at = $1 WHERE id = $2 AND last_seen_at < $1")
        .bind(at)
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Lifts the revocation of a user's devices revoked with the account (not
/// one revoked for itself, whatever its reason says); their refresh tokens
/// stay revoked, for quarantine too: the officer signs in again.
pub async fn devices_restore(c: &mut Conn, user_id: i64) -> DbResult<u64> {
    let done = sqlx::query(
        "UPDATE devices SET revoked_at = NULL, revoked_by = NULL, revoke_reason = NULL, revoked_with_account = FALSE
         WHERE user_id = $1 AND revoked_at IS NOT NULL AND revoked_with_account",
    )
    .bind(user_id)
    .execute(&mut *c)
    .await?;
    sqlx::query(
        "UPDATE refresh_tokens SET for_quarantine = FALSE
         WHERE for_quarantine AND device_id IN (SELECT id FROM devices WHERE user_id = $1 AND revoked_at IS NULL)",
    )
    .bind(user_id)
    .execute(&mut *c)
    .await?;
    Ok(done.rows_affected())
}

/// Revokes a device and every refresh token it holds (they keep only the
/// right to upload into quarantine), for itself or `with_account` (its
/// account closed); false when it was already revoked (for itself, or
/// with its account when `with_account`).
pub async fn device_revoke(
    c: &mut Conn,
    id: &str,
    by: i64,
    reason: &str,
    with_account: bool,
    now: DateTime<Utc>,
) -> DbResult<bool> {
    // A phone revoked with its closed account and then reported lost is
    // revoked for itself from then on (when, by whom and why as reported):
    // reopening the account leaves it.
    let done = sqlx::query(
        "UPDATE devices SET revoked_at = $1, revoked_by = $2, revoke_reason = $3, revoked_with_account = $4
         WHERE id = $5 AND (revoked_at IS NULL OR (revoked_with_account AND NOT $4))",
    )
    .bind(now)
    .bind(by)
    .bind(reason)
    .bind(with_account)
    .bind(id)
    .execute(&mut *c)
    .await?;
    // Revoked with the device, they stay good for sending what the phone
    // holds into quarantine (see `refresh` in auth).
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $1, for_quarantine = TRUE WHERE device_id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Keeps a refresh token's hash. One for a revoked device (`for_quarantine`)
/// is born revoked: it is good only for sending into quarantine.
#[allow(clippy::too_many_arguments)]
pub async fn refresh_insert(
    c: &mut Conn,
    hash: &str,
    family: &str,
    device_id: &str,
    user_id: i64,
    issued: DateTime<Utc>,
    expires: DateTime<Utc>,
    for_quarantine: bool,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, family_id, device_id, user_id, issued_at, expires_at, revoked_at, for_quarantine)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(hash)
    .bind(family)
    .bind(device_id)
    .bind(user_id)
    .bind(issued)
    .bind(expires)
    .bind(for_quarantine.then_some(issued))
    .bind(for_quarantine)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn refresh_by_hash(c: &mut Conn, hash: &str) -> DbResult<Option<RefreshRow>> {
    Ok(sqlx::query_as(
        "SELECT id, family_id, device_id, user_id, expires_at, used_at, revoked_at, for_quarantine
         FROM refresh_tokens WHERE token_hash = $1",
    )
    .bind(hash)
    .fetch_optional(&mut *c)
    .await?)
}

/// Marks a refresh token used; false when it already was (a replay).
pub async fn refresh_mark_used(c: &mut Conn, id: i64, now: DateTime<Utc>) -> DbResult<bool> {
    let done = sqlx::query("UPDATE refresh_tokens SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether a later token of the family has been used.
pub async fn refresh_successor_used(c: &mut Conn, family: &str, id: i64) -> DbResult<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM refresh_tokens WHERE family_id = $1 AND id > $2 AND used_at IS NOT NULL",
    )
    .bind(family)
    .bind(id)
    .fetch_one(&mut *c)
    .await?;
    Ok(n > 0)
}

/// Revokes the unused later tokens of a family, for quarantine too.
pub async fn refresh_revoke_successors(c: &mut Conn, family: &str, id: i64, now: DateTime<Utc>) -> DbResult<()> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = COALESCE(revoked_at, $1), for_quarantine = FALSE
         WHERE family_id = $2 AND id > $3 AND used_at IS NULL",
    )
    .bind(now)
    .bind(family)
    .bind(id)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Revokes a whole family (a token replayed), for quarantine too.
pub async fn refresh_revoke_family(c: &mut Conn, family: &str, now: DateTime<Utc>) -> DbResult<u64> {
    let done = sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = COALESCE(revoked_at, $1), for_quarantine = FALSE WHERE family_id = $2",
    )
        .bind(now)
        .bind(family)
        .execute(&mut *c)
        .await?;
    Ok(done.rows_affected())
}

pub async fn audit_append(c: &mut Conn, e: &AuditEntry, now: DateTime<Utc>) -> DbResult<()> {
    audit_append_all(c, std::slice::from_ref(e), now).await
}

pub async fn audit_count(c: &mut Conn, action: &str) -> DbResult<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = $1")
        .bind(action)
        .fetch_one(&mut *c)
        .await?)
}

pub async fn branches_list(c: &mut Conn, only: Option<i64>) -> DbResult<Vec<Branch>> {
    Ok(sqlx::query_as(
        "SELECT id, code, name, district, industrial_zone, address FROM branches WHERE ($1 IS NULL OR id = $1) ORDER BY code",
    )
    .bind(only)
    .fetch_all(&mut *c)
    .await?)
}

const WORKER: &str = "SELECT w.id, w.code, w.full_name, w.cccd, w.phone, w.date_of_birth, w.gender, w.union_member,
        w.employer, w.industrial_zone, w.boarding_house_id, b.name AS boarding_house_name,
        b.address AS boarding_house_address, w.room, w.hardship, w.hardship_note, w.officer_id,
        u.full_name AS officer_name, w.branch_id, w.name_key
    FROM workers w JOIN users u ON u.id = w.officer_id LEFT JOIN boarding_houses b ON b.id = w.boarding_house_id";

pub async fn worker_get(c: &mut Conn, scope: Scope, id: i64) -> DbResult<Option<WorkerView>> {
    let (kind, sid) = scope.bind();
    Ok(sqlx::query_as(&format!("{WORKER} WHERE {WORKER_SCOPE} AND w.id = $3"))
        .bind(kind)
        .bind(sid)
        .bind(id)
        .fetch_optional(&mut *c)
        .await?)
}

/// Workers in scope, ordered by name. `name_terms` are folded search terms,
/// each of which must occur in the name (a coarse filter the caller refines
/// with the shared matching rule); `digits` matches phone or CCCD fragments.
pub async fn workers_find(
    c: &mut Conn,
    scope: Scope,
    name_terms: &[String],
    digits: Option<&str>,
    limit: i64,
    offset: i64,
) -> DbResult<Vec<WorkerView>> {
    let (kind, sid) = scope.bind();
    let mut sql = format!("{WORKER} WHERE {WORKER_SCOPE}");
    let mut args: Vec<String> = Vec::new();
    for t in name_terms {
        sql.push_str(&format!(" AND w.name_key LIKE ${}", 3 + args.len()));
        args.push(format!("%{t}%"));
    }
    if let Some(d) = digits {
        let n = 3 + args.len();
        sql.push_str(&format!(" AND (w.phone LIKE ${n} OR w.cccd LIKE ${n})"));
        args.push(format!("%{d}%"));
    }
    sql.push_str(&format!(" ORDER BY w.name_key, w.id LIMIT ${} OFFSET ${}", 3 + args.len(), 4 + args.len()));
    let mut q = sqlx::query_as::<DB, WorkerView>(&sql).bind(kind).bind(sid);
    for a in args {
        q = q.bind(a);
    }
    Ok(q.bind(limit).bind(offset).fetch_all(&mut *c).await?)
}

/// Workers in scope whose code, or one of whose loans' code, is `code`
/// (as typed or in capitals).
/// Takes the fund's write lock (the change feed's counter row, held to the
/// end of the transaction) and says the time to stamp what is written under
/// it: `asked`, or now if later.
pub async fn take_write_lock(c: &mut Conn, asked: DateTime<Utc>) -> DbResult<DateTime<Utc>> {
    sqlx::query("UPDATE sync_counter SET value = value WHERE id = 1").execute(&mut *c).await?;
    // The time of what follows is taken once the lock is held (and, on
    // SQLite, the write transaction begun): a posting that waited for
    // another is not stamped before it, so entries' times follow their
    // order, and a day's books closed at midnight take nothing later.
    use chrono::SubsecRound;
    Ok(asked.max(Utc::now().trunc_subsecs(6)))
}

/// `($1, $2, ...)` placeholders for `n` values starting at `first`.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// The workers whose code, or one of whose loans' codes, is `code` as
/// typed, in upper case, or written the fund's way (`nld 519` for
/// `NLD-00519`, see `ids::code_forms`).
pub async fn workers_by_code(c: &mut Conn, scope: Scope, code: &str) -> DbResult<Vec<WorkerView>> {
    let (kind, sid) = scope.bind();
    let mut codes = vec![code.to_string(), code.to_uppercase()];
    codes.extend(sotay_core::domain::ids::code_forms(code));
    codes.dedup();
    let list = placeholders(3, codes.len());
    let sql = format!(
        "{WORKER} WHERE {WORKER_SCOPE} AND (w.code IN ({list})
            OR w.id IN (SELECT l.worker_id FROM loans l WHERE l.code IN ({list})))
         ORDER BY w.name_key, w.id"
    );
    let mut q = sqlx::query_as::<DB, WorkerView>(&sql).bind(kind).bind(sid);
    for c in &codes {
        q = q.bind(c);
    }
    Ok(q.fetch_all(&mut *c).await?)
}

pub async fn workers_count(c: &mut Conn, scope: Scope) -> DbResult<i64> {
    let (kind, sid) = scope.bind();
    Ok(sqlx::query_scalar(&format!("SELECT COUNT(*) FROM workers w WHERE {WORKER_SCOPE}"))
        .bind(kind)
        .bind(sid)
        .fetch_one(&mut *c)
        .await?)
}

/// A loan's status as people see it: `active`, `closed`, or `cancelled`
/// (paid out in error and taken back; stored as closed).
macro_rules! loan_status {
    () => {
        "CASE WHEN EXISTS (SELECT 1 FROM loan_cancellations x WHERE x.loan_id = l.id) THEN 'cancelled' ELSE l.status END"
    };
}

const LOAN: &str = concat!("SELECT l.id, l.code, l.worker_id, w.full_name AS worker_name, p.code AS product_code,
        p.name AS product_name, l.principal, l.annual_rate_bp, l.method, l.frequency, l.installments,
        l.disbursed_on, ", loan_status!(), " AS status, w.officer_id, w.branch_id,
        CAST(COALESCE((SELECT SUM(i.principal_due - i.principal_paid) FROM installments i WHERE i.loan_id = l.id), 0) AS BIGINT)
            AS outstanding_principal,
        CAST(COALESCE((SELECT SUM(i.interest_due - i.interest_paid) FROM installments i WHERE i.loan_id = l.id), 0) AS BIGINT)
            AS outstanding_interest
    FROM loans l JOIN workers w ON w.id = l.worker_id JOIN loan_products p ON p.id = l.product_id");

pub async fn loans_list(
    c: &mut Conn,
    scope: Scope,
    worker_id: Option<i64>,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> DbResult<Vec<LoanView>> {
    let (kind, sid) = scope.bind();
    Ok(sqlx::query_as(&format!(
        "{LOAN} WHERE {WORKER_SCOPE} AND ($3 IS NULL OR l.worker_id = $3) AND ($4 IS NULL OR {} = $4)
         ORDER BY l.disbursed_on DESC, l.id LIMIT $5 OFFSET $6",
        loan_status!()
    ))
    .bind(kind)
    .bind(sid)
    .bind(worker_id)
    .bind(status)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *c)
    .await?)
}

pub async fn loan_get(c: &mut Conn, scope: Scope, id: i64) -> DbResult<Option<LoanView>> {
    let (kind, sid) = scope.bind();
    Ok(sqlx::query_as(&format!("{LOAN} WHERE {WORKER_SCOPE} AND l.id = $3"))
        .bind(kind)
        .bind(sid)
        .bind(id)
        .fetch_optional(&mut *c)
        .await?)
}

pub async fn loan_by_code(c: &mut Conn, scope: Scope, code: &str) -> DbResult<Option<LoanView>> {
    let (kind, sid) = scope.bind();
    Ok(sqlx::query_as(&format!("{LOAN} WHERE {WORKER_SCOPE} AND l.code = $3"))
        .bind(kind)
        .bind(sid)
        .bind(code)
        .fetch_optional(&mut *c)
        .await?)
}

/// The loans in scope whose code is one of `codes` (at most 500).
pub async fn loans_by_codes(c: &mut Conn, scope: Scope, codes: &[String]) -> DbResult<Vec<LoanView>> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let codes = &codes[..codes.len().min(500)];
    let (kind, sid) = scope.bind();
    let list = (3..3 + codes.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    let sql = format!("{LOAN} WHERE {WORKER_SCOPE} AND l.code IN ({list})");
    let mut q = sqlx::query_as(&sql).bind(kind).bind(sid);
    for code in codes {
        q = q.bind(code);
    }
    Ok(q.fetch_all(&mut *c).await?)
}

pub async fn installments_of(c: &mut Conn, loan_id: i64) -> DbResult<Vec<InstallmentView>> {
    Ok(sqlx::query_as(
        "SELECT number, due_on, principal_due, interest_due, principal_paid, interest_paid
         FROM installments WHERE loan_id = $1 ORDER BY number",
    )
    .bind(loan_id)
    .fetch_all(&mut *c)
    .await?)
}

/// Loans in scope with an installment due before `today` and still unpaid.
pub async fn overdue_loan_count(c: &mut Conn, scope: Scope, today: NaiveDate) -> DbResult<i64> {
    let (kind, sid) = scope.bind();
    Ok(sqlx::query_scalar(&format!(
        "SELECT COUNT(DISTINCT l.id) FROM loans l JOIN workers w ON w.id = l.worker_id
         JOIN installments i ON i.loan_id = l.id
         WHERE {WORKER_SCOPE} AND l.status = 'active' AND i.due_on < $3
           AND (i.principal_paid < i.principal_due OR i.interest_paid < i.interest_due)"
    ))
    .bind(kind)
    .bind(sid)
    .bind(today)
    .fetch_one(&mut *c)
    .await?)
}

pub async fn products_list(c: &mut Conn) -> DbResult<Vec<LoanProduct>> {
    Ok(sqlx::query_as(
        "SELECT id, code, name, annual_rate_bp, method, frequency, installments, min_principal, max_principal
         FROM loan_products ORDER BY code",
    )
    .fetch_all(&mut *c)
    .await?)
}

pub async fn campaigns_list(c: &mut Conn) -> DbResult<Vec<Campaign>> {
    Ok(sqlx::query_as(
        "SELECT id, code, name, kind, starts_on, ends_on, gift_value, target_count, eligibility, description
         FROM campaigns ORDER BY starts_on DESC, code",
    )
    .fetch_all(&mut *c)
    .await?)
}

pub async fn quotas_list(c: &mut Conn) -> DbResult<Vec<Quota>> {
    Ok(sqlx::query_as(
        "SELECT campaign_id, branch_id, CAST(NULL AS BIGINT) AS officer_id, quota FROM campaign_branch_quotas
         UNION ALL
         SELECT q.campaign_id, u.branch_id, q.officer_id, q.quota FROM campaign_officer_quotas q JOIN users u ON u.id = q.officer_id
         ORDER BY 1, 2, 3",
    )
    .fetch_all(&mut *c)
    .await?)
}

pub async fn imports_list(c: &mut Conn, limit: i64) -> DbResult<Vec<ImportRecord>> {
    Ok(sqlx::query_as(
        "SELECT id, at, user_id, source, files, rows, created, updated, unchanged FROM imports ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&mut *c)
    .await?)
}

pub async fn table_count(c: &mut Conn, table: &'static str) -> DbResult<i64> {
    Ok(sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&mut *c)
        .await?)
}

pub async fn import_record(c: &mut Conn, meta: &super::ImportMeta, report: &ImportReport, now: DateTime<Utc>) -> DbResult<()> {
    let totals = report.totals();
    sqlx::query(
        "INSERT INTO imports (at, user_id, source, files, sha256, rows, created, updated, unchanged)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(now)
    .bind(meta.user_id)
    .bind(meta.source)
    .bind(meta.files.join(", "))
    .bind(&meta.sha256)
    .bind(meta.rows)
    .bind(totals.created)
    .bind(totals.updated)
    .bind(totals.unchanged)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// See `Db::on_branch_books`.
pub async fn on_branch_books(c: &mut Conn, user: i64, branch: i64) -> DbResult<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM account_balances WHERE officer_id = $1 AND branch_id = $2")
        .bind(user)
        .bind(branch)
        .fetch_one(&mut *c)
        .await?;
    Ok(n > 0)
}
