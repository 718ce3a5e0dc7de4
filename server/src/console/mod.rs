//! The web console of supervisors, cashiers and admins, served at `/`:
//! server-rendered HTML (maud), one stylesheet, one small script, in
//! Vietnamese or English.
//!
//! It reads and acts through the same code as the API: the same scopes (a
//! supervisor or cashier sees their branch, an admin the fund, and anything
//! else answers 404), the same password check and throttling, the same batch
//! review and decisions, counter repayments and reversals, the same device
//! revocation and import. A cashier's session opens only the pages taking
//! `session::Staff`; every other page refuses it. Sessions live in `console_sessions`; every form
//! carries the session's anti-forgery token (see `session.rs`).

mod admin;
mod bank;
mod batches;
mod decision;
mod disbursements;
mod home;
mod i18n;
mod ledger;
mod login;
mod people;
mod reports;
mod reversals;
mod session;
mod statements;
mod static_files;
mod stock;
pub mod store;
mod vault;
mod view;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Router};

use crate::app::{AppState, IMPORT_BODY_LIMIT};
pub use i18n::Lang;
pub use session::{ConsoleConfig, SECURE_COOKIES_ENV};
pub use view::unknown_page;

/// The console's pages, with its settings from the environment.
pub fn routes() -> Router<AppState> {
    routes_with(ConsoleConfig::from_env())
}

pub fn routes_with(config: ConsoleConfig) -> Router<AppState> {
    if !config.secure_cookies {
        tracing::warn!(
            "{SECURE_COOKIES_ENV}=false: console cookies are sent over plain HTTP; for trials only"
        );
    }
    Router::new()
        .route("/", get(home::page))
        .route("/login", get(login::page).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/workers", get(people::workers))
        .route("/workers/{id}", get(people::worker))
        .route("/loans/{id}", get(people::loan))
        .route("/loans/{id}/repayments", post(people::take_repayment))
        .route("/counter/{id}", get(people::counter_receipt))
        .route("/batches", get(batches::list))
        .route("/batches/{id}", get(batches::batch))
        .route(
            "/batches/{id}/confirm",
            get(batches::confirm_view).post(batches::confirm),
        )
        .route("/batches/{id}/approve", post(batches::approve))
        .route(
            "/batches/{id}/reject",
            get(batches::reject_view).post(batches::reject),
        )
        .route("/records/{id}/signature", get(batches::signature))
        .route("/refused/{id}/settle", post(batches::settle_refused))
        .route("/reversals", get(reversals::list).post(reversals::request))
        .route("/reversals/new", get(reversals::new))
        .route(
            "/reversals/{id}/approve",
            get(reversals::confirm_approve).post(reversals::approve),
        )
        .route("/reversals/{id}/reject", post(reversals::reject))
        .route(
            "/disbursements",
            get(disbursements::list).post(disbursements::request),
        )
        .route("/disbursements/new", get(disbursements::new))
        .route("/disbursements/{id}/approve", post(disbursements::approve))
        .route("/disbursements/{id}/reject", post(disbursements::reject))
        .route("/capital", post(disbursements::receive_capital))
        .route("/bank-moves", get(bank::page).post(bank::move_cash))
        .route("/vault-counts", get(vault::page).post(vault::record))
        .route("/vault-counts/{id}", get(vault::count_record))
        .route(
            "/bank-statements",
            post(statements::upload)
                .layer(DefaultBodyLimit::max(crate::api::statements::BODY_LIMIT)),
        )
        .route("/bank-statements/{id}", get(statements::show))
        .route("/bank-statements/{id}/loan", get(statements::record))
        .route(
            "/bank-statements/{id}/lines/{line}",
            post(statements::post_line),
        )
        .route("/ledger", get(ledger::page))
        .route(
            "/ledger/over-short/{officer_id}",
            post(ledger::settle_over_short),
        )
        .route("/reports", get(reports::index))
        .route("/reports/{name}", get(reports::report))
        .route("/devices", get(admin::devices))
        .route(
            "/devices/{id}/revoke",
            get(admin::revoke_page).post(admin::revoke),
        )
        .route("/users", get(admin::users))
        .route("/users/{id}/{action}", post(admin::change_user))
        .route(
            "/imports",
            get(admin::imports)
                .post(admin::import)
                .layer(DefaultBodyLimit::max(IMPORT_BODY_LIMIT)),
        )
        .route("/stock", get(stock::page).post(stock::receive))
        .route("/audit", get(admin::audit))
        .route("/static/console.css", get(static_files::css))
        .route("/static/console.js", get(static_files::js))
        .layer(middleware::from_fn(page_headers))
        .layer(Extension(Arc::new(config)))
}

/// What the browser may do with console pages: scripts and styles from this
/// server only, no framing, no caching of personal data; and `?lang=` is
/// remembered in a cookie.
async fn page_headers(req: Request, next: Next) -> Response {
    let chosen = i18n::query_lang(req.uri().query());
    let secure = req
        .extensions()
        .get::<Arc<ConsoleConfig>>()
        .is_none_or(|c| c.secure_cookies);
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let fixed = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
    ];
    for (name, value) in fixed {
        h.insert(name, HeaderValue::from_static(value));
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if let Some(lang) = chosen {
        let mut c = format!(
            "{}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly",
            i18n::LANG_COOKIE,
            lang.code()
        );
        if secure {
            c.push_str("; Secure");
        }
        if let Ok(v) = HeaderValue::from_str(&c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    resp
}
