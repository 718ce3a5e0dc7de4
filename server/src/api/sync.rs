//! Sync endpoints for officers' phones.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use sotay_core::wire::{UploadBatch, UploadResponse};
use utoipa::IntoParams;

use crate::app::AppState;
use crate::auth::{AuthUser, UploadingUser};
use crate::db::{CanonicalBatch, DbError, Uploader};
use crate::error::ApiQuery;
use crate::error::{AppError, Problem};
use crate::import::rows::Role;

/// Who is uploading, for the storage and the audit log.
pub(super) fn uploader(user: &UploadingUser, ip: Option<String>) -> Uploader {
    Uploader {
        officer_id: user.user.id,
        username: user.user.username.clone(),
        device_id: user.user.device_id.clone(),
        device_code: user.device_code.clone(),
        device_revoked: user.revoked,
        ip,
    }
}

/// Records per upload.
pub const MAX_BATCH: usize = 1_000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ChangesQuery {
    /// The `next` of the previous snapshot or page; without it, the whole portfolio.
    pub since: Option<String>,
    /// Changed entities per page (default 500, at most 2,000).
    pub limit: Option<i64>,
    /// The `acknowledged` cursor of the phone's latest upload answer: when
    /// this server no longer holds it (restored from a backup taken before
    /// that upload), 410 as for `since`; with or without `since`.
    pub acked: Option<String>,
}

/// A cursor's epoch (none for a bare sequence from before epochs) and
/// sequence, or 410 for one this server never gave.
fn parse_cursor(cursor: &str) -> Result<(Option<&str>, i64), AppError> {
    let (epoch, seq) = match cursor.split_once('.') {
        Some((epoch, seq)) => (Some(epoch), seq),
        None => (None, cursor),
    };
    let seq = seq
        .parse()
        .ok()
        .filter(|v: &i64| *v >= 0)
        .ok_or_else(|| cursor_reset(cursor))?;
    Ok((epoch, seq))
}

/// The officer's portfolio (no `since`) or what changed in it after `since`.
/// JSON of the shared wire types `PortfolioSnapshot` / `ChangePage`.
#[utoipa::path(get, path = "/api/v1/sync/changes", params(ChangesQuery), security(("bearer" = [])), responses(
    (status = 200, description = "PortfolioSnapshot without `since`, ChangePage with it", content_type = "application/json"),
    (status = 403, body = Problem),
    (status = 410, description = "`sync_cursor_reset`: a cursor this server never gave; download the portfolio again (no `since`) and send again the records it had acknowledged", body = Problem),
))]
pub async fn changes(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<ChangesQuery>,
) -> Result<Response, AppError> {
    user.require(&[Role::Officer])?;
    let today = sotay_core::domain::time::local_date(chrono::Utc::now());
    let acked = match query.acked.as_deref() {
        None | Some("") => None,
        Some(a) => Some((a, parse_cursor(a)?)),
    };
    match query.since.as_deref() {
        None | Some("") => {
            let rows = state
                .db
                .sync_snapshot(user.id, today, acked.map(|(_, c)| c))
                .await?
                .ok_or_else(|| cursor_reset(acked.map_or("", |(a, _)| a)))?;
            Ok(Json(crate::sync::snapshot(rows)?).into_response())
        }
        Some(cursor) => {
            let since = parse_cursor(cursor)?;
            let acked = acked.map(|(_, c)| c);
            let limit = query.limit.unwrap_or(500).clamp(1, 2_000);
            let rows = state
                .db
                .sync_page(user.id, today, since, acked, limit)
                .await?
                .ok_or_else(|| cursor_reset(cursor))?;
            Ok(Json(crate::sync::page(rows)?).into_response())
        }
    }
}

/// 410 `sync_cursor_reset`: a cursor this server never gave (garbled, or
/// beyond its last change: the database was restored from a backup, or the
/// phone was pointed at another server). The phone starts again from the
/// whole portfolio and sends again what the server had acknowledged.
fn cursor_reset(cursor: &str) -> AppError {
    AppError::new(
        StatusCode::GONE,
        "sync_cursor_reset",
        format!(
            "Máy chủ không nhận ra mốc đồng bộ \"{cursor}\" (dữ liệu máy chủ có thể vừa được \
             khôi phục từ bản sao lưu): thiết bị cần tải lại toàn bộ danh sách và gửi lại các bản ghi"
        ),
        format!(
            "the server does not know sync cursor \"{cursor}\" (its data may have just been \
             restored from a backup): the device must download the whole portfolio again and \
             send its records again"
        ),
    )
}

/// Uploads a batch of records (at most 1,000), idempotent per record
/// (`client_id`) and per batch (`batch_id`). One result per record, in order:
/// accepted (waiting for review), duplicate, or rejected with a stable code
/// and messages in Vietnamese and English. Records from a revoked device are
/// kept in quarantine for a supervisor.
#[utoipa::path(post, path = "/api/v1/sync/batches", request_body(content = String, content_type = "application/json", description = "UploadBatch"),
    security(("bearer" = [])), responses(
    (status = 200, description = "UploadResponse", content_type = "application/json"),
    (status = 403, body = Problem),
    (status = 409, description = "batch id reused for other content", body = Problem),
    (status = 422, body = Problem),
))]
pub async fn upload(
    State(state): State<AppState>,
    user: Result<UploadingUser, AppError>,
    super::ClientIp(ip): super::ClientIp,
    body: Bytes,
) -> Result<Json<UploadResponse>, AppError> {
    // Refused only once the body is read: answered before, the connection
    // closes under a phone still sending it, which then sees a cut line
    // instead of the 401 that tells it to renew its session.
    let user = user?;
    user.user.require(&[Role::Officer])?;
    // A phone signs in with the UUID it numbers its records with; any other
    // device id (a laptop's name, say) reads data but cannot send a batch.
    let Ok(signed_in_device) = uuid::Uuid::parse_str(&user.user.device_id) else {
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            "device_not_a_phone",
            format!(
                "Thiết bị \"{}\" không gửi được lô đồng bộ: chỉ điện thoại đăng nhập với device_id là UUID mới gửi được",
                user.user.device_id
            ),
            format!(
                "device \"{}\" cannot upload a batch: only a phone signed in with a UUID device_id can",
                user.user.device_id
            ),
        ));
    };
    let batch: UploadBatch = serde_json::from_slice(&body).map_err(|e| {
        AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_batch",
            format!("Lô tải lên không hợp lệ: {e}"),
            format!("invalid upload batch: {e}"),
        )
    })?;
    if batch.records.len() > MAX_BATCH {
        return Err(AppError::invalid_field(
            "records",
            format!(
                "Mỗi lô tối đa {MAX_BATCH} bản ghi; lô này có {}",
                batch.records.len()
            ),
            format!(
                "at most {MAX_BATCH} records per batch; this one has {}",
                batch.records.len()
            ),
        ));
    }
    if batch.device_id != signed_in_device {
        return Err(AppError::invalid_field(
            "device_id",
            "device_id của lô không phải thiết bị đã đăng nhập",
            "the batch's device_id is not the signed-in device",
        ));
    }
    // The batch's identity is its canonical content.
    let canonical = CanonicalBatch::new(batch).map_err(AppError::internal)?;
    match state.uploads.upload(uploader(&user, ip), canonical).await {
        Ok(mut response) => {
            // Where the feed stands now, at or after this batch's changes.
            // Without it (a failed read) the phone is none the worse.
            response.acknowledged = state.db.sync_cursor_now().await.ok();
            Ok(Json(response))
        }
        Err(DbError::Conflict(c)) if c == "batch_conflict" => Err(AppError::conflict(
            "batch_conflict",
            "Mã lô này đã được dùng cho một nội dung khác",
            "this batch id was already used for other content",
        )),
        Err(e) => Err(e.into()),
    }
}
