//! Console sessions: a random token in an `HttpOnly; SameSite=Strict;
//! Path=/` cookie (plus `Secure`, see [`ConsoleConfig`]), its SHA-256 in
//! `console_sessions`, an idle timeout and a maximum lifetime, and an
//! anti-forgery (CSRF) token per session that every form posts back.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, Utc};

use super::i18n::Lang;
use super::view::{self, Ui, Who};
use crate::app::AppState;
use crate::auth::{sha256_hex, AuthUser};
use crate::import::rows::Role;

/// A session ends after this many minutes without a request...
pub const IDLE_MINS: i64 = 60;
/// ...and at the latest this many hours after signing in (a working day).
pub const MAX_HOURS: i64 = 12;
/// `last_seen_at` is written at most this often.
const TOUCH_SECS: i64 = 60;

/// The setting that decides whether console cookies carry `Secure`.
pub const SECURE_COOKIES_ENV: &str = "SOTAY_CONSOLE_SECURE_COOKIES";

/// How the console sets its cookies.
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    /// `Secure` cookies with the `__Host-` prefix (the default): the browser
    /// sends them only over HTTPS — and to `http://localhost` /
    /// `http://127.0.0.1`, which browsers treat as secure. Turn it off
    /// (`SOTAY_CONSOLE_SECURE_COOKIES=false`) only to try the console over
    /// plain HTTP on another address, e.g. a tablet on the office network
    /// during development; a deployment serves the console over HTTPS
    /// (directly or behind a TLS proxy) and keeps the default.
    pub secure_cookies: bool,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            secure_cookies: true,
        }
    }
}

impl ConsoleConfig {
    /// From `SOTAY_CONSOLE_SECURE_COOKIES`: `false`, `0`, `no` or `off`
    /// turn `Secure` off; anything else (or nothing) keeps it.
    pub fn from_env() -> Self {
        Self::from_value(std::env::var(SECURE_COOKIES_ENV).ok().as_deref())
    }

    /// The variable's value when it is set to something that reads as
    /// neither on nor off (a typo would otherwise keep `Secure` silently,
    /// and a console tried over plain HTTP could not keep its sign-in).
    pub fn unreadable_env() -> Option<String> {
        let value = std::env::var(SECURE_COOKIES_ENV).ok()?;
        let v = value.trim().to_ascii_lowercase();
        let known = ["true", "1", "yes", "on", "false", "0", "no", "off", ""];
        (!known.contains(&v.as_str())).then_some(value)
    }

    pub fn from_value(value: Option<&str>) -> Self {
        let off = value.is_some_and(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "false" | "0" | "no" | "off"
            )
        });
        ConsoleConfig {
            secure_cookies: !off,
        }
    }

    /// The session cookie's name (`__Host-` needs `Secure`).
    pub fn session_cookie(&self) -> &'static str {
        if self.secure_cookies {
            "__Host-sotay_session"
        } else {
            "sotay_session"
        }
    }

    /// The cookie that carries the sign-in form's anti-forgery token.
    pub fn login_cookie(&self) -> &'static str {
        if self.secure_cookies {
            "__Host-sotay_login"
        } else {
            "sotay_login"
        }
    }

    /// A `Set-Cookie` value; `max_age` `None` lasts until the browser closes.
    pub fn set_cookie(&self, name: &str, value: &str, max_age: Option<i64>) -> String {
        let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
        if let Some(secs) = max_age {
            c.push_str(&format!("; Max-Age={secs}"));
        }
        if self.secure_cookies {
            c.push_str("; Secure");
        }
        c
    }

    /// A `Set-Cookie` value that removes the cookie.
    pub fn clear_cookie(&self, name: &str) -> String {
        self.set_cookie(name, "", Some(0))
    }
}

/// The value of cookie `name` in the request, if sent.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// What the audit log names as the "device" of a console session.
pub fn device_label(session_id: i64) -> String {
    format!("console-{session_id}")
}

/// Compares two tokens in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && !a.is_empty()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A path to come back to after signing in: only a path on this site. No
/// whitespace or control character either: a browser drops a tab or a
/// line break from a URL, so `/<tab>/evil.example` would take it to
/// `//evil.example`, another site.
pub fn safe_next(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(|c| c.is_control() || c.is_whitespace())
        && !next.starts_with("/login")
        && !next.starts_with("/logout");
    ok.then_some(next)
}

/// The page a request is about, as a path and query to link back to: the
/// request's own for a GET; for a form sent (a POST, which has no page of
/// its own to come back to), the page the form was on (`Referer`), else
/// the home page.
pub fn here(parts: &Parts) -> String {
    if parts.method == axum::http::Method::GET || parts.method == axum::http::Method::HEAD {
        return parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
    }
    parts
        .headers
        .get(axum::http::header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.parse::<axum::http::Uri>().ok())
        .and_then(|u| u.path_and_query().map(|p| p.as_str().to_string()))
        .filter(|p| safe_next(p).is_some())
        .unwrap_or_else(|| "/".into())
}

/// The page a form's answer stands for, to open again: `/batches/{id}`
/// for the answer of `/batches/{id}/confirm`, the list for a decision on
/// a reversal or a disbursement, the ledger for an over/short settlement
/// (an answer shown at a form's own address has no page of its own). A
/// page that is not one of them is itself.
fn page_of(path: &str) -> &str {
    let bare = path.split('?').next().unwrap_or(path);
    let parts: Vec<&str> = bare.split('/').collect();
    match parts.as_slice() {
        ["", "batches", _, "confirm" | "approve" | "reject"] | ["", "loans", _, "repayments"] => {
            bare.rsplit_once('/').map_or(path, |(page, _)| page)
        }
        ["", "reversals", _, "approve" | "reject"] => "/reversals",
        ["", "disbursements", _, "approve" | "reject"] => "/disbursements",
        ["", "ledger", "over-short", _] => "/ledger",
        ["", "refused", _, "settle"] => "/batches",
        ["", "bank-statements", id, "lines", _] if !id.is_empty() => {
            bare.split_at("/bank-statements/".len() + id.len()).0
        }
        ["", "users", _, _] => "/users",
        _ => path,
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::of(parts))
    }
}

/// The console's settings, from the router.
pub fn config(parts: &Parts) -> Arc<ConsoleConfig> {
    parts
        .extensions
        .get::<Arc<ConsoleConfig>>()
        .cloned()
        .unwrap_or_default()
}

/// Who may sign in to the console: branch supervisors and cashiers, and the
/// fund's administrators. Officers use the phone app.
pub const CONSOLE_ROLES: [Role; 3] = [Role::Admin, Role::Supervisor, Role::Cashier];

/// A supervisor or admin signed in to the console: the extractor of every
/// page but the few a cashier uses too (see [`Staff`]), which answers a
/// cashier's session with a refusal.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The same caller the API knows, for scopes, roles and audit entries.
    pub user: AuthUser,
    pub full_name: String,
    pub session_id: i64,
    pub csrf: String,
    pub lang: Lang,
    pub signed_in_at: DateTime<Utc>,
    /// When the session ends if nothing more happens.
    pub ends_at: DateTime<Utc>,
    pub here: String,
}

impl Signed {
    /// The shell of this person's pages.
    pub fn ui(&self) -> Ui {
        Ui {
            lang: self.lang,
            here: self.here.clone(),
            who: Some(Who {
                full_name: self.full_name.clone(),
                username: self.user.username.clone(),
                role: self.user.role,
                csrf: self.csrf.clone(),
            }),
        }
    }

    /// The refusal of a form whose anti-forgery token is not this
    /// session's; `None` when the token is right.
    pub fn forgery(&self, token: &str) -> Option<Response> {
        (!same_token(token.trim(), &self.csrf)).then(|| forgery_refused(&self.ui()))
    }

    /// The refusal for anyone but an admin; `None` for an admin.
    pub fn not_admin(&self) -> Option<Response> {
        (self.user.role != Role::Admin).then(|| {
            let ui = self.ui();
            ui.error(
                StatusCode::FORBIDDEN,
                ui.t("Không có quyền", "Not allowed"),
                ui.t(
                    "Trang này chỉ dành cho quản trị viên của quỹ.",
                    "This page is for the fund's administrators only.",
                ),
            )
        })
    }
}

/// The page shown for a form posted without this session's token.
fn forgery_refused(ui: &Ui) -> Response {
    ui.error(
        StatusCode::FORBIDDEN,
        ui.t("Biểu mẫu không hợp lệ", "Form refused"),
        ui.t(
            "Biểu mẫu thiếu mã chống giả mạo hoặc đã hết hạn, nên không được thực hiện. \
             Hãy mở lại trang và gửi lại.",
            "The form lacks its anti-forgery token or has expired, so nothing was done. \
             Open the page again and resend it.",
        ),
    )
}

/// What a request's session cookie leads to.
pub enum Lookup {
    Signed(Box<Signed>),
    /// No cookie, or one the server does not know.
    Missing,
    /// Timed out (`closed` false), or signed out elsewhere or the user's
    /// account changed (`closed`).
    Ended {
        closed: bool,
    },
    /// The database failed; the page that says so.
    Failed(Response),
}

/// Finds the request's session; ends it when it has timed out.
pub async fn load(parts: &Parts, state: &AppState) -> Lookup {
    let lang = Lang::of(parts);
    let cfg = config(parts);
    let failed = |e: crate::db::DbError| {
        let ui = Ui {
            lang,
            here: here(parts),
            who: None,
        };
        Lookup::Failed(ui.app_error(e.into()))
    };
    let Some(token) = cookie(&parts.headers, cfg.session_cookie()).filter(|t| !t.is_empty()) else {
        return Lookup::Missing;
    };
    let row = match state.db.console_session(&sha256_hex(token)).await {
        Ok(Some(row)) => row,
        Ok(None) => return Lookup::Missing,
        Err(e) => return failed(e),
    };
    let now = Utc::now();
    let idle_end = row.last_seen_at + Duration::minutes(IDLE_MINS);
    let role = Role::parse(&row.role).filter(|r| CONSOLE_ROLES.contains(r));
    if let Some(ended) = row.ended_at {
        // Ended before it would have timed out: signed out (in another
        // tab or window), or the account was changed.
        let closed = ended < row.expires_at.min(idle_end);
        return Lookup::Ended { closed };
    }
    if now >= row.expires_at || now >= idle_end || !row.active || role.is_none() {
        if let Err(e) = state.db.console_session_end(row.id, None, now).await {
            return failed(e);
        }
        // An account switched off or given another role is closed too.
        let closed = !row.active || role.is_none();
        return Lookup::Ended { closed };
    }
    if now - row.last_seen_at > Duration::seconds(TOUCH_SECS) {
        if let Err(e) = state.db.console_session_touch(row.id, now).await {
            return failed(e);
        }
    }
    Lookup::Signed(Box::new(Signed {
        user: AuthUser {
            id: row.user_id,
            username: row.username,
            role: role.unwrap_or(Role::Supervisor),
            branch_id: row.branch_id,
            device_id: device_label(row.id),
        },
        full_name: row.full_name,
        session_id: row.id,
        csrf: row.csrf_token,
        lang,
        signed_in_at: row.created_at,
        ends_at: row.expires_at.min(now + Duration::minutes(IDLE_MINS)),
        here: here(parts),
    }))
}

/// Anyone signed in to the console, a branch cashier included: the pages a
/// cashier uses (home, the workers and their loans, repayments at the
/// counter). Each of them still reads through the caller's scope.
#[derive(Debug, Clone)]
pub struct Staff(pub Signed);

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    /// Without a session, a page sends the browser to the sign-in form
    /// (and back here afterwards).
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ended = match load(parts, state).await {
            Lookup::Signed(s) => return Ok(Staff(*s)),
            Lookup::Failed(resp) => return Err(resp),
            Lookup::Missing => None,
            Lookup::Ended { closed } => Some(closed),
        };
        let here = here(parts);
        let mut pairs = Vec::new();
        let get = parts.method == axum::http::Method::GET;
        // A form sent once the session had ended did nothing: back to the
        // page it was sent from (a batch's, not its confirmation's, which
        // has no page of its own), saying so.
        let back = if get { here.as_str() } else { page_of(&here) };
        if let Some(next) = safe_next(back).filter(|n| *n != "/") {
            pairs.push(("next", next.to_string()));
        }
        match ended {
            Some(true) => pairs.push(("ended", "out".to_string())),
            Some(false) => pairs.push(("ended", "1".to_string())),
            None => {}
        }
        if !get {
            pairs.push(("unsent", "1".to_string()));
        }
        Err(Redirect::to(&view::link("/login", &pairs)).into_response())
    }
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    /// As [`Staff`], and a cashier is refused: the batch review, the
    /// reports and the administration are not theirs.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Staff(s) = Staff::from_request_parts(parts, state).await?;
        if s.user.role == Role::Cashier {
            let ui = s.ui();
            return Err(ui.error(
                StatusCode::FORBIDDEN,
                ui.t("Không có quyền", "Not allowed"),
                ui.t(
                    "Trang này dành cho giám sát chi nhánh và quản trị viên. Thủ quỹ tìm người lao \
                     động và thu nợ tại quầy từ trang khoản vay, nộp tiền vào ngân hàng, và xem sổ \
                     quỹ tiền mặt, sổ tiền gửi ngân hàng ở mục Báo cáo. Một khoản thu ghi nhầm: báo \
                     giám sát chi nhánh số phiếu để đề nghị đảo (một người khác duyệt).",
                    "This page is for branch supervisors and administrators. A cashier finds the \
                     worker and takes repayments at the counter from the loan's page, pays cash \
                     into the bank, and reads the vault cash book and the bank book under Reports. \
                     A repayment taken by mistake: tell the branch supervisor its receipt number, \
                     who asks for its reversal (someone else approves it).",
                ),
            ));
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_secure_unless_turned_off() {
        let on = ConsoleConfig::from_value(None);
        assert!(on.secure_cookies);
        assert_eq!(
            on.set_cookie(on.session_cookie(), "abc", None),
            "__Host-sotay_session=abc; Path=/; HttpOnly; SameSite=Strict; Secure"
        );
        assert!(ConsoleConfig::from_value(Some("yes")).secure_cookies);
        assert!(ConsoleConfig::from_value(Some("nonsense")).secure_cookies);
        let off = ConsoleConfig::from_value(Some(" False "));
        assert!(!off.secure_cookies);
        assert_eq!(
            off.clear_cookie(off.session_cookie()),
            "sotay_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
        );
    }

    #[test]
    fn reading_cookies_and_tokens() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "sotay_lang=en; __Host-sotay_session=tok".parse().unwrap(),
        );
        assert_eq!(cookie(&h, "__Host-sotay_session"), Some("tok"));
        assert_eq!(cookie(&h, "sotay_session"), None);
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("", ""));
        assert!(!same_token("abc", "abcd"));
    }

    #[test]
    fn only_local_paths_come_back() {
        assert_eq!(safe_next("/workers?q=lan"), Some("/workers?q=lan"));
        assert_eq!(safe_next("//evil.example/"), None);
        assert_eq!(safe_next("https://evil.example/"), None);
        assert_eq!(safe_next("/\\evil"), None);
        assert_eq!(safe_next("/\t/evil.example"), None);
        assert_eq!(safe_next("/\n/evil.example"), None);
        assert_eq!(safe_next("/ /evil.example"), None);
        assert_eq!(safe_next("/logout"), None);
        assert_eq!(page_of("/batches/0190a5f0/confirm"), "/batches/0190a5f0");
        assert_eq!(
            page_of("/batches/0190a5f0?done=1"),
            "/batches/0190a5f0?done=1"
        );
        assert_eq!(page_of("/ledger"), "/ledger");
        assert_eq!(page_of("/ledger/over-short/4"), "/ledger");
        assert_eq!(page_of("/loans/7/repayments"), "/loans/7");
        assert_eq!(page_of("/reversals/3/approve"), "/reversals");
        assert_eq!(page_of("/refused/0190a5f0/settle"), "/batches");
        assert_eq!(
            page_of("/bank-statements/12/lines/4"),
            "/bank-statements/12"
        );
        assert_eq!(page_of("/users/5/deactivate"), "/users");
    }

    #[test]
    fn a_form_sent_links_back_to_the_page_it_was_on() {
        let parts = |method: &str, uri: &str, referer: Option<&str>| {
            let mut b = axum::http::Request::builder().method(method).uri(uri);
            if let Some(r) = referer {
                b = b.header(header::REFERER, r);
            }
            b.body(()).unwrap().into_parts().0
        };
        assert_eq!(
            here(&parts("GET", "/batches/7?x=1", None)),
            "/batches/7?x=1"
        );
        let sent = |referer| here(&parts("POST", "/batches/7/confirm", referer));
        assert_eq!(
            sent(Some("https://sotay.example/batches/7?lang=vi")),
            "/batches/7?lang=vi"
        );
        assert_eq!(sent(Some("/batches/7")), "/batches/7");
        assert_eq!(sent(Some("https://sotay.example/logout")), "/");
        assert_eq!(sent(Some("not a uri")), "/");
        assert_eq!(sent(None), "/");
    }
}
