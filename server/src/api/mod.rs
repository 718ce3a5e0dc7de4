//! The HTTP API, `/api/v1`, and its OpenAPI document.

mod admin;
mod auth;
pub mod disburse;
pub(crate) mod master;
pub(crate) mod reports;
pub(crate) mod review;
pub(crate) mod signatures;
pub(crate) mod statements;
mod sync;
pub(crate) mod vault;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Serialize;
use utoipa::OpenApi;

use crate::app::AppState;
use crate::error::AppError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/v1/openapi.json", get(openapi_json))
        .route("/api/v1/auth/login", post(auth::login))
        .route("/api/v1/auth/refresh", post(auth::refresh))
        .route("/api/v1/me", get(auth::me))
        .route("/api/v1/branches", get(master::branches))
        .route("/api/v1/users", get(master::users))
        .route("/api/v1/workers", get(master::workers))
        .route("/api/v1/workers/{id}", get(master::worker))
        .route("/api/v1/loans", get(master::loans))
        .route("/api/v1/loans/{id}", get(master::loan))
        .route("/api/v1/loan-products", get(master::products))
        .route("/api/v1/campaigns", get(master::campaigns))
        .route("/api/v1/devices", get(admin::devices))
        .route("/api/v1/devices/{id}/revoke", post(admin::revoke_device))
        .route(
            "/api/v1/users/{id}/deactivate",
            post(admin::deactivate_user),
        )
        .route("/api/v1/users/{id}/activate", post(admin::activate_user))
        .route(
            "/api/v1/users/{id}/password",
            post(admin::set_user_password),
        )
        .route("/api/v1/sync/changes", get(sync::changes))
        .route(
            "/api/v1/sync/batches",
            post(sync::upload).layer(axum::extract::DefaultBodyLimit::max(
                crate::app::UPLOAD_BODY_LIMIT,
            )),
        )
        .route(
            "/api/v1/sync/records/{id}/signature",
            put(signatures::receive)
                .layer(axum::extract::DefaultBodyLimit::max(signatures::BODY_LIMIT)),
        )
        .route("/api/v1/records/{id}/signature", get(signatures::image))
        .route("/api/v1/records/{id}/settle", post(review::settle_refused))
        .route("/api/v1/batches", get(review::batches))
        .route("/api/v1/batches/{id}", get(review::batch))
        .route("/api/v1/batches/{id}/approve", post(review::approve))
        .route("/api/v1/batches/{id}/reject", post(review::reject))
        .route(
            "/api/v1/loans/{id}/repayments",
            post(review::counter_repayment),
        )
        .route(
            "/api/v1/reversals",
            get(review::reversals).post(review::request_reversal),
        )
        .route(
            "/api/v1/reversals/{id}/approve",
            post(review::approve_reversal),
        )
        .route(
            "/api/v1/reversals/{id}/reject",
            post(review::reject_reversal),
        )
        .route(
            "/api/v1/campaigns/{id}/receipts",
            get(review::campaign_receipts).post(review::receive_for_campaign),
        )
        .route(
            "/api/v1/capital-receipts",
            get(disburse::capital_receipts).post(disburse::receive_capital),
        )
        .route(
            "/api/v1/bank-moves",
            get(disburse::bank_moves).post(disburse::move_cash),
        )
        .route("/api/v1/vault-counts", get(vault::list).post(vault::record))
        .route(
            "/api/v1/officers/{id}/over-short",
            post(disburse::settle_over_short),
        )
        .route(
            "/api/v1/bank-statements",
            get(statements::list)
                .post(statements::import)
                .layer(axum::extract::DefaultBodyLimit::max(statements::BODY_LIMIT)),
        )
        .route("/api/v1/bank-statements/{id}", get(statements::show))
        .route(
            "/api/v1/bank-statements/{id}/lines/{line_no}",
            post(statements::post_line),
        )
        .route(
            "/api/v1/disbursements",
            get(disburse::disbursements).post(disburse::request_disbursement),
        )
        .route(
            "/api/v1/disbursements/{id}/approve",
            post(disburse::approve_disbursement),
        )
        .route(
            "/api/v1/disbursements/{id}/reject",
            post(disburse::reject_disbursement),
        )
        .route("/api/v1/ledger/balances", get(review::balances))
        .route("/api/v1/ledger/entries", get(review::entries))
        .route("/api/v1/audit", get(review::audit))
        .route("/api/v1/reports/{name}", get(reports::report))
        .route("/api/v1/imports", get(admin::imports))
        .route(
            "/api/v1/imports/{kind}",
            post(admin::import).layer(axum::extract::DefaultBodyLimit::max(
                crate::app::IMPORT_BODY_LIMIT,
            )),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Sổ Tay API",
        description = "Central API of Sổ Tay, the field book of trade-union microfinance and welfare funds. \
            Money is whole đồng, sent as a JSON string of digits (\"1500000\"). Errors are RFC 9457 problem \
            details with a stable `code`; messages are Vietnamese unless Accept-Language prefers English."
    ),
    paths(
        healthz,
        auth::login,
        auth::refresh,
        auth::me,
        master::branches,
        master::users,
        master::workers,
        master::worker,
        master::loans,
        master::loan,
        master::products,
        master::campaigns,
        admin::devices,
        admin::revoke_device,
        admin::deactivate_user,
        admin::activate_user,
        admin::set_user_password,
        admin::imports,
        admin::import,
        sync::changes,
        sync::upload,
        signatures::receive,
        signatures::image,
        review::batches,
        review::batch,
        review::approve,
        review::reject,
        review::settle_refused,
        review::counter_repayment,
        review::request_reversal,
        review::reversals,
        review::approve_reversal,
        review::reject_reversal,
        review::receive_for_campaign,
        review::campaign_receipts,
        disburse::receive_capital,
        disburse::capital_receipts,
        disburse::move_cash,
        disburse::bank_moves,
        disburse::settle_over_short,
        vault::record,
        vault::list,
        statements::import,
        statements::list,
        statements::show,
        statements::post_line,
        disburse::request_disbursement,
        disburse::disbursements,
        disburse::approve_disbursement,
        disburse::reject_disbursement,
        review::balances,
        review::entries,
        review::audit,
        reports::report,
    ),
    modifiers(&BearerAuth),
    tags((name = "sotay"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// How long the health check waits for the database.
const HEALTH_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    status: &'static str,
    database: &'static str,
}

/// Liveness and database reachability, answered within
/// [`HEALTH_WAIT`]: a load balancer sees 503, not its own timeout.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health), (status = 503, body = crate::error::Problem)))]
async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, AppError> {
    // Said as what it is: the database, not the server, does not answer.
    let down = AppError::database_unavailable;
    tokio::time::timeout(HEALTH_WAIT, state.db.ping())
        .await
        .map_err(|_| down("the database did not answer the health check within 2 s".into()))?
        .map_err(|e| down(e.to_string()))?;
    Ok(Json(Health {
        status: "ok",
        database: state.db.backend_name(),
    }))
}

/// An address used with a method it does not take (`GET` on a `POST`
/// address): 405 as problem details, naming the method.
async fn method_not_allowed(method: axum::http::Method) -> AppError {
    AppError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("Địa chỉ API này không nhận phương thức {method}"),
        format!("this API address does not take {method}"),
    )
}

/// An address nothing answers: the API's problem details under `/api/`,
/// a page of the console elsewhere (a person typed it).
async fn not_found(req: axum::extract::Request) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (parts, _) = req.into_parts();
    if !parts.uri.path().starts_with("/api/") {
        return crate::console::unknown_page(&parts);
    }
    AppError::new(
        axum::http::StatusCode::NOT_FOUND,
        "no_such_endpoint",
        "Không có địa chỉ API này",
        "no such API endpoint",
    )
    .into_response()
}

/// The client's address, when the server knows it: the peer's, or the one a
/// trusted proxy names (see [`crate::client_addr`]).
pub struct ClientIp(pub Option<String>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| {
                    let forwarded = parts
                        .headers
                        .get_all("x-forwarded-for")
                        .iter()
                        .filter_map(|v| v.to_str().ok());
                    state
                        .trusted_proxies
                        .client(addr.ip(), forwarded)
                        .to_string()
                }),
        ))
    }
}

/// Paging parameters shared by list endpoints.
pub fn page(limit: Option<i64>, offset: Option<i64>) -> (i64, i64) {
    (
        limit.unwrap_or(50).clamp(1, 500),
        offset.unwrap_or(0).max(0),
    )
}
