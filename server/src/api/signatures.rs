//! Gift signature images: sent by the officer's phone after the gift
//! record, seen by the officer and the branch's supervisors.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use uuid::Uuid;

use super::ClientIp;
use crate::app::AppState;
use crate::auth::{AuthUser, UploadingUser};
use crate::db::{RecordSignature, Scope, SignatureReceipt};
use crate::error::ApiPath;
use crate::error::{AppError, Problem};
use crate::import::rows::Role;

/// The body limit of an upload: the largest image a phone takes.
pub const BODY_LIMIT: usize = sotay_core::domain::gifts::MAX_SIGNATURE_BYTES;

/// The signature image of one of the caller's gift records: the bytes whose
/// SHA-256 the record names, PNG, JPEG or WebP, at most 2 MiB. Stored once
/// (201; 200 when the server already held it). Sent after the record: a
/// record the server does not have is 404 `record_not_found`.
#[utoipa::path(put, path = "/api/v1/sync/records/{id}/signature",
    params(("id" = Uuid, Path, description = "the gift record's client id")),
    request_body(content = Vec<u8>, content_type = "image/png", description = "the image (PNG, JPEG or WebP)"),
    security(("bearer" = [])), responses(
    (status = 201, body = SignatureReceipt),
    (status = 200, description = "already held", body = SignatureReceipt),
    (status = 404, description = "no such record of this officer", body = Problem),
    (status = 413, description = "larger than 2 MiB", body = Problem),
    (status = 422, description = "`signature_mismatch`, `signature_not_image`, `no_signature_expected`", body = Problem),
))]
pub async fn receive(
    State(state): State<AppState>,
    user: Result<UploadingUser, AppError>,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<Uuid>,
    body: Bytes,
) -> Result<Response, AppError> {
    // Refused only once the image is read (see the batches' upload).
    let user = user?;
    user.user.require(&[Role::Officer])?;
    let receipt = state
        .db
        .receive_signature(&super::sync::uploader(&user, ip), id, &body)
        .await?;
    let status = if receipt.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(receipt)).into_response())
}

/// The signature image of a gift record: for the officer who recorded it,
/// their branch's supervisors and admins. 404 `signature_not_received`
/// while the phone has not sent it.
#[utoipa::path(get, path = "/api/v1/records/{id}/signature",
    params(("id" = Uuid, Path, description = "the gift record's client id")),
    security(("bearer" = [])), responses(
    (status = 200, description = "the image", content_type = "image/png"),
    (status = 404, description = "`not_found`, `no_signature` or `signature_not_received`", body = Problem),
))]
pub async fn image(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, AppError> {
    signature_image(&state, &user, id).await
}

fn may_see(user: &AuthUser, s: &RecordSignature) -> bool {
    match user.scope() {
        Scope::Officer(me) => s.officer_id == me,
        Scope::Branch(b) => s.branch_id == Some(b),
        Scope::Fund => true,
    }
}

/// The image of record `id` as `user` may see it (the console's page of the
/// same address answers with this too).
pub(crate) async fn signature_image(
    state: &AppState,
    user: &AuthUser,
    id: Uuid,
) -> Result<Response, AppError> {
    user.require(&[Role::Officer, Role::Supervisor, Role::Admin])?;
    let sig = match state.db.record_signature(id).await? {
        Some(s) if may_see(user, &s) => s,
        _ => return Err(AppError::not_found("bản ghi", "record")),
    };
    if sig.sha256.is_none() {
        return Err(AppError::new(
            StatusCode::NOT_FOUND,
            "no_signature",
            "Bản ghi này không có ảnh chữ ký",
            "this record has no signature image",
        ));
    }
    let Some((image, media_type)) = sig.image else {
        return Err(AppError::new(
            StatusCode::NOT_FOUND,
            "signature_not_received",
            "Điện thoại của cán bộ chưa gửi ảnh chữ ký này; ảnh đến ở lần đồng bộ sau",
            "the officer's phone has not sent this signature image yet; it comes with a later sync",
        ));
    };
    let ext = media_type
        .rsplit('/')
        .next()
        .unwrap_or("bin")
        .replace("jpeg", "jpg");
    let mut resp = image.into_response();
    let h = resp.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, media_type),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".into()),
        // Personal data, often on a shared branch PC: not kept.
        (header::CACHE_CONTROL, "no-store".into()),
        (
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"chu-ky-{id}.{ext}\""),
        ),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
    Ok(resp)
}
