use axum::extract::State;
use axum::Json;

use super::ClientIp;
use crate::app::AppState;
use crate::auth::{self as a, AuthUser, LoginRequest, RefreshRequest, SessionUser, TokenResponse};
use crate::error::{ApiJson, AppError, Problem};

/// Signs in on a device: a 15-minute access token and a refresh token bound to the device.
#[utoipa::path(post, path = "/api/v1/auth/login", request_body = LoginRequest, responses(
    (status = 200, body = TokenResponse),
    (status = 401, description = "wrong username or password, or device revoked", body = Problem),
    (status = 409, description = "device registered to another user", body = Problem),
    (status = 422, body = Problem),
    (status = 429, description = "too many failed attempts for this username", body = Problem),
))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<TokenResponse>, AppError> {
    Ok(Json(a::login(&state, req, ip).await?))
}

/// Rotates a refresh token. A reused refresh token revokes the whole chain.
/// A revoked device's refresh token still answers, with `device.revoked`
/// and an access token that only uploads (into quarantine, for a
/// supervisor): a phone offline since its revocation sends what it holds.
#[utoipa::path(post, path = "/api/v1/auth/refresh", request_body = RefreshRequest, responses(
    (status = 200, body = TokenResponse),
    (status = 401, body = Problem),
))]
pub async fn refresh(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> Result<Json<TokenResponse>, AppError> {
    Ok(Json(a::refresh(&state, req, ip).await?))
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/me", security(("bearer" = [])), responses((status = 200, body = SessionUser), (status = 401, body = Problem)))]
pub async fn me(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<SessionUser>, AppError> {
    let u = state
        .db
        .user_auth_by_id(user.id)
        .await?
        .ok_or_else(|| AppError::not_found("người dùng", "user"))?;
    Ok(Json(SessionUser {
        id: u.id,
        username: u.username,
        full_name: u.full_name,
        role: u.role,
        branch_id: u.branch_id,
    }))
}
