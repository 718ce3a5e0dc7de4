//! Administration: devices, accounts, imports.

use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::ClientIp;
use crate::app::AppState;
use crate::auth::{self, AuthUser};
use crate::db::{DeviceRow, ImportRecord, ImportReport, UserView};
use crate::error::ApiPath;
use crate::error::ApiQuery;
use crate::error::{ApiJson, AppError, Problem};
use crate::import::csv::ImportKind;
use crate::import::rows::Role;
use crate::importer::{self, ImportFile};

/// Devices: an admin sees all, a supervisor their own and those of their branch's officers and cashiers.
#[utoipa::path(get, path = "/api/v1/devices", security(("bearer" = [])), responses((status = 200, body = [DeviceRow]), (status = 403, body = Problem)))]
pub async fn devices(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Vec<DeviceRow>>, AppError> {
    user.require(&[Role::Admin, Role::Supervisor])?;
    let branch = match user.role {
        Role::Admin => None,
        _ => Some(user.branch_id.unwrap_or(-1)),
    };
    Ok(Json(state.db.devices(branch, user.id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RevokeRequest {
    /// Why, for the audit log (lost phone, officer left, ...).
    pub reason: String,
}

/// Revokes a device: its tokens stop working at once and it cannot sign in again.
#[utoipa::path(post, path = "/api/v1/devices/{id}/revoke", params(("id" = String, Path, description = "the device's id")), request_body = RevokeRequest, security(("bearer" = [])), responses(
    (status = 200, body = DeviceRow),
    (status = 403, body = Problem),
    (status = 404, body = Problem),
    (status = 409, body = Problem),
))]
pub async fn revoke_device(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<RevokeRequest>,
) -> Result<Json<DeviceRow>, AppError> {
    Ok(Json(
        auth::revoke_device(&state, &user, &id, &req.reason, ip).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DeactivateRequest {
    /// Why, for the audit log and the devices revoked (left, moved, ...).
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordRequest {
    /// The new password (at least 8 characters), to give the person
    /// privately.
    pub password: String,
}

/// Deactivates an account (admins): it cannot sign in, its tokens and
/// console sessions stop working at once, and each of its devices is
/// revoked with the reason. Not one's own account.
#[utoipa::path(post, path = "/api/v1/users/{id}/deactivate", params(("id" = i64, Path, description = "the user's id")), request_body = DeactivateRequest, security(("bearer" = [])), responses(
    (status = 200, body = UserView),
    (status = 403, body = Problem),
    (status = 404, body = Problem),
    (status = 409, description = "`already_inactive`, `cannot_deactivate_self`", body = Problem),
    (status = 422, body = Problem),
))]
pub async fn deactivate_user(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<DeactivateRequest>,
) -> Result<Json<UserView>, AppError> {
    let change = auth::AccountChange::Deactivate {
        reason: &req.reason,
    };
    Ok(Json(
        auth::change_account(&state, &user, id, change, ip).await?,
    ))
}

/// Activates a deactivated account again (admins).
#[utoipa::path(post, path = "/api/v1/users/{id}/activate", params(("id" = i64, Path, description = "the user's id")), security(("bearer" = [])), responses(
    (status = 200, body = UserView),
    (status = 403, body = Problem),
    (status = 404, body = Problem),
    (status = 409, description = "`already_active`", body = Problem),
))]
pub async fn activate_user(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<UserView>, AppError> {
    let change = auth::AccountChange::Activate;
    Ok(Json(
        auth::change_account(&state, &user, id, change, ip).await?,
    ))
}

/// Sets a new password for an account (admins), for someone who forgot
/// theirs; a lock after failed sign-ins is lifted.
#[utoipa::path(post, path = "/api/v1/users/{id}/password", params(("id" = i64, Path, description = "the user's id")), request_body = PasswordRequest, security(("bearer" = [])), responses(
    (status = 200, body = UserView),
    (status = 403, body = Problem),
    (status = 404, body = Problem),
    (status = 422, body = Problem),
))]
pub async fn set_user_password(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<PasswordRequest>,
) -> Result<Json<UserView>, AppError> {
    let change = auth::AccountChange::SetPassword {
        password: &req.password,
    };
    Ok(Json(
        auth::change_account(&state, &user, id, change, ip).await?,
    ))
}

/// Import history (admins).
#[utoipa::path(get, path = "/api/v1/imports", security(("bearer" = [])), responses((status = 200, body = [ImportRecord]), (status = 403, body = Problem)))]
pub async fn imports(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Vec<ImportRecord>>, AppError> {
    user.require(&[Role::Admin])?;
    Ok(Json(state.db.imports(100).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// The file's name, used in error messages (defaults to `<kind>.csv`).
    pub file_name: Option<String>,
}

/// Imports one UTF-8 CSV file of master data (admins). `kind` is one of
/// `branches`, `users`, `boarding-houses`, `workers`, `loan-products`,
/// `loans`, `campaigns`, `campaign-allocations`. All or nothing: a file with
/// a bad row is refused with every row error (file, line, column, reason)
/// and changes nothing; importing the same file again changes nothing.
#[utoipa::path(post, path = "/api/v1/imports/{kind}", params(("kind" = String, Path, description = "branches, users, boarding_houses, workers, loan_products, loans, campaigns or campaign_allocations"), ImportQuery), request_body(content = String, content_type = "text/csv"),
    security(("bearer" = [])), responses(
    (status = 200, body = ImportReport),
    (status = 403, body = Problem),
    (status = 404, description = "unknown kind", body = Problem),
    (status = 415, description = "a form upload (multipart), not the CSV as the body", body = Problem),
    (status = 422, description = "row errors; nothing imported", body = Problem),
))]
pub async fn import(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(kind): ApiPath<String>,
    ApiQuery(query): ApiQuery<ImportQuery>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<Json<ImportReport>, AppError> {
    user.require(&[Role::Admin])?;
    let kind = ImportKind::from_name(&kind).ok_or_else(|| {
        let kinds = ImportKind::ALL.map(|k| k.slug()).join(", ");
        AppError::new(
            axum::http::StatusCode::NOT_FOUND,
            "unknown_import_kind",
            format!("Không có loại dữ liệu nhập \"{kind}\"; các loại: {kinds}"),
            format!("there is no import kind \"{kind}\"; the kinds: {kinds}"),
        )
    })?;
    // A form upload (`curl -F file=@…`) wraps the file in its parts: said,
    // rather than read as a CSV whose first line is the boundary.
    let multipart = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/")
        });
    if multipart {
        return Err(AppError::new(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "import_not_csv_body",
            "Gửi nội dung tệp CSV làm thân yêu cầu (Content-Type: text/csv; với curl: --data-binary @tệp.csv), không gửi dạng biểu mẫu (multipart)",
            "send the CSV file as the request body (Content-Type: text/csv; with curl: --data-binary @file.csv), not as a form (multipart)",
        ));
    }
    let file = ImportFile {
        kind,
        name: query
            .file_name
            .unwrap_or_else(|| kind.file_name().to_string()),
        bytes: body.to_vec(),
    };
    let audit = user.audit("import", "import", file.name.clone(), ip);
    let report =
        importer::import_files(&state.db, &[file], "api", Some(user.id), audit, &mut |_| {})
            .await?;
    Ok(Json(report))
}
