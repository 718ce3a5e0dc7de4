//! Signing in and out. The password goes through the same Argon2id check
//! and throttling as the phones' login ([`crate::auth::check_credentials`]);
//! only supervisors, cashiers and admins get a console session.
//!
//! The sign-in form has no session yet, so its anti-forgery token is a
//! random value in a short-lived `HttpOnly; SameSite=Strict` cookie that the
//! form must post back (another site can neither read nor set it).

use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{Duration, Utc};
use maud::html;
use serde::Deserialize;

use super::i18n::Lang;
use super::session::{
    self, config, cookie, device_label, safe_next, same_token, Staff, CONSOLE_ROLES, IDLE_MINS,
    MAX_HOURS,
};
use super::store::NewSession;
use super::view::UrlQuery;
use super::view::{csrf_field, Nav, Ui};
use crate::api::ClientIp;
use crate::app::AppState;
use crate::auth::{self, random_token, sha256_hex};
use crate::db::AuditEntry;
use crate::import::rows::Role;

/// The sign-in form's token lives this long (seconds).
const LOGIN_TOKEN_SECS: i64 = 2 * 3600;
/// Sessions are kept this long after they expire, then forgotten.
const KEEP_EXPIRED_DAYS: i64 = 30;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginQuery {
    next: String,
    /// The session had ended (timed out or signed out elsewhere).
    ended: String,
    /// Just signed out.
    out: String,
    /// A form was sent without a live session: it did nothing.
    unsent: String,
}

/// A message above the form.
enum Notice {
    Info(String),
    Error(String),
}

struct LoginView<'a> {
    ui: Ui,
    token: &'a str,
    username: &'a str,
    next: &'a str,
    notice: Option<Notice>,
}

fn render(v: LoginView<'_>) -> maud::Markup {
    let ui = &v.ui;
    let body = html! {
        section.login {
            h1 { (ui.t("Đăng nhập", "Sign in")) }
            p.lead { (ui.t(
                "Bảng điều khiển dành cho giám sát chi nhánh, thủ quỹ và quản trị viên của quỹ.",
                "The console of the fund's branch supervisors, cashiers and administrators."
            )) }
            @match &v.notice {
                Some(Notice::Error(m)) => p.notice.error role="alert" id="login-error" { (m) },
                Some(Notice::Info(m)) => p.notice.info role="status" { (m) },
                None => {},
            }
            form method="post" action="/login" {
                (csrf_field(v.token))
                input type="hidden" name="next" value=(v.next);
                label for="username" { (ui.t("Tên đăng nhập", "Username")) }
                input #username type="text" name="username" value=(v.username) autocomplete="username"
                    autocapitalize="none" spellcheck="false" required autofocus[v.username.is_empty()];
                label for="password" { (ui.t("Mật khẩu", "Password")) }
                input #password type="password" name="password" autocomplete="current-password" required
                    autofocus[!v.username.is_empty()];
                button.primary type="submit" { (ui.t("Đăng nhập", "Sign in")) }
            }
            p.hint { (ui.t(
                "Cán bộ tín dụng dùng ứng dụng Sổ Tay trên điện thoại.",
                "Field officers use the Sổ Tay app on their phones."
            )) }
        }
    };
    ui.page(ui.t("Đăng nhập", "Sign in"), Nav::None, body)
}

fn with_cookie(mut resp: Response, value: String) -> Response {
    if let Ok(v) = HeaderValue::from_str(&value) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

fn plain_ui(lang: Lang, here: &str) -> Ui {
    Ui {
        lang,
        here: here.to_string(),
        who: None,
    }
}

/// `GET /login`: the form (or home, when already signed in).
pub async fn page(
    State(state): State<AppState>,
    parts: Parts,
    UrlQuery(q): UrlQuery<LoginQuery>,
) -> Response {
    let next = safe_next(&q.next).unwrap_or("/").to_string();
    match session::load(&parts, &state).await {
        session::Lookup::Signed(_) => return Redirect::to(&next).into_response(),
        session::Lookup::Failed(resp) => return resp,
        session::Lookup::Missing | session::Lookup::Ended { .. } => {}
    }
    let lang = Lang::of(&parts);
    let cfg = config(&parts);
    let token = cookie(&parts.headers, cfg.login_cookie())
        .filter(|t| t.len() >= 32)
        .map(str::to_string)
        .unwrap_or_else(|| random_token(32));
    let notice = if q.out == "1" {
        Some(Notice::Info(
            lang.t("Bạn đã đăng xuất.", "You have signed out.").into(),
        ))
    } else if q.ended == "out" {
        // Signed out in another tab or window (or the account changed).
        Some(Notice::Error(lang.pick(
            format!(
                "Phiên làm việc đã được đóng (đăng xuất ở một thẻ hoặc cửa sổ khác, hoặc tài khoản vừa được thay đổi){}. Hãy đăng nhập lại.",
                if q.unsent == "1" { " trước khi thao tác vừa rồi được gửi: chưa có gì được ghi lại" } else { "" }
            ),
            format!(
                "Your session was closed (signed out in another tab or window, or your account was just changed){}. Sign in again.",
                if q.unsent == "1" { " before what you just sent arrived: nothing was recorded" } else { "" }
            ),
        )))
    } else if q.unsent == "1" {
        Some(Notice::Error(lang.pick(
            format!(
                "Phiên làm việc đã kết thúc (sau {IDLE_MINS} phút không thao tác, hoặc {MAX_HOURS} giờ sau khi \
                     đăng nhập) trước khi thao tác vừa rồi được gửi: chưa có gì được ghi lại. Hãy đăng nhập lại \
                     rồi làm lại thao tác đó; trang đang làm sẽ mở lại."
            ),
            format!(
                "Your session ended (after {IDLE_MINS} minutes without activity, or {MAX_HOURS} hours after \
                     signing in) before what you just sent arrived: nothing was recorded. Sign in again and do \
                     it again; the page you were on opens again."
            ),
        )))
    } else if q.ended == "1" {
        Some(Notice::Info(lang.pick(
            format!(
                "Phiên làm việc đã kết thúc (sau {IDLE_MINS} phút không thao tác, \
                     hoặc {MAX_HOURS} giờ sau khi đăng nhập). Hãy đăng nhập lại."
            ),
            format!(
                "Your session ended (after {IDLE_MINS} minutes without activity, \
                     or {MAX_HOURS} hours after signing in). Sign in again."
            ),
        )))
    } else {
        None
    };
    let html = render(LoginView {
        ui: plain_ui(lang, &session::here(&parts)),
        token: &token,
        username: "",
        next: &next,
        notice,
    });
    with_cookie(
        html.into_response(),
        cfg.set_cookie(cfg.login_cookie(), &token, Some(LOGIN_TOKEN_SECS)),
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    username: String,
    password: String,
    csrf: String,
    next: String,
}

/// `POST /login`
pub async fn submit(
    State(state): State<AppState>,
    parts: Parts,
    ClientIp(ip): ClientIp,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = Lang::of(&parts);
    let cfg = config(&parts);
    let ui = plain_ui(lang, "/login");
    let next = safe_next(&form.next).unwrap_or("/").to_string();
    let cookie_token = cookie(&parts.headers, cfg.login_cookie()).map(str::to_string);
    let form_view = |token: &str, status: StatusCode, message: String| {
        let html = render(LoginView {
            ui: ui.clone(),
            token,
            username: form.username.trim(),
            next: &next,
            notice: Some(Notice::Error(message)),
        });
        with_cookie(
            (status, html).into_response(),
            cfg.set_cookie(cfg.login_cookie(), token, Some(LOGIN_TOKEN_SECS)),
        )
    };

    let Some(token) = cookie_token.filter(|t| !t.is_empty()) else {
        // The browser did not keep (or send back) the form's cookie.
        let fresh = random_token(32);
        let message = lang.pick(
            format!(
                "Trình duyệt không gửi lại cookie của trang đăng nhập, nên chưa đăng nhập được. \
                 Hãy bật cookie cho trang này và thử lại. Nếu trang được mở bằng http:// từ máy khác \
                 (không phải https://), người quản trị máy chủ cần bật HTTPS, hoặc khi chạy thử đặt \
                 {}=false.",
                session::SECURE_COOKIES_ENV
            ),
            format!(
                "The browser did not send back the sign-in page's cookie, so you are not signed in. \
                 Allow cookies for this site and try again. If the page is opened with http:// from \
                 another computer (not https://), the server's administrator must enable HTTPS, or set \
                 {}=false for a trial.",
                session::SECURE_COOKIES_ENV
            ),
        );
        return form_view(&fresh, StatusCode::BAD_REQUEST, message);
    };
    if !same_token(form.csrf.trim(), &token) {
        return form_view(
            &token,
            StatusCode::FORBIDDEN,
            lang.t(
                "Biểu mẫu đăng nhập đã hết hạn hoặc không hợp lệ. Hãy nhập lại và gửi.",
                "The sign-in form has expired or is not valid. Enter your details again and send.",
            )
            .into(),
        );
    }

    let username = match auth::normalize_username(&form.username) {
        Ok(u) => u,
        Err(e) => return form_view(&token, e.status, ui.message(&e).to_string()),
    };
    let now = Utc::now();
    let user = match auth::check_credentials(&state.db, &username, &form.password, now, ip.clone())
        .await
    {
        Ok(u) => u,
        Err(e) if e.status.is_server_error() => return ui.app_error(e),
        Err(e) => return form_view(&token, e.status, ui.message(&e).to_string()),
    };

    let role = Role::parse(&user.role);
    if !role.is_some_and(|r| CONSOLE_ROLES.contains(&r)) {
        let entry = AuditEntry {
            actor_user_id: Some(user.id),
            actor_username: user.username.clone(),
            action: "console_login_refused",
            object_type: "user",
            object_id: user.username.clone(),
            device_id: None,
            ip,
            detail: serde_json::json!({ "role": user.role }),
        };
        if let Err(e) = state.db.audit(entry).await {
            return ui.app_error(e.into());
        }
        let message = lang.t(
            "Tài khoản cán bộ tín dụng không dùng được bảng điều khiển web: bảng điều khiển chỉ \
             dành cho giám sát chi nhánh, thủ quỹ và quản trị viên. Hãy dùng ứng dụng Sổ Tay trên điện thoại.",
            "Field officer accounts cannot use the web console: it is for branch supervisors, \
             cashiers and administrators. Use the Sổ Tay app on your phone.",
        );
        return form_view(&token, StatusCode::FORBIDDEN, message.into());
    }

    let session_token = random_token(32);
    let csrf = random_token(32);
    let user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(200).collect::<String>());
    let started = state
        .db
        .console_session_start(
            &NewSession {
                token_hash: &sha256_hex(&session_token),
                user_id: user.id,
                username: &user.username,
                csrf_token: &csrf,
                expires_at: now + Duration::hours(MAX_HOURS),
                ip: ip.as_deref(),
                user_agent: user_agent.as_deref(),
                purge_before: now - Duration::days(KEEP_EXPIRED_DAYS),
            },
            now,
        )
        .await;
    if let Err(e) = started {
        return ui.app_error(e.into());
    }
    let resp = with_cookie(
        Redirect::to(&next).into_response(),
        cfg.set_cookie(cfg.session_cookie(), &session_token, None),
    );
    with_cookie(resp, cfg.clear_cookie(cfg.login_cookie()))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LogoutForm {
    csrf: String,
}

/// `POST /logout`: ends the session here and now.
pub async fn logout(
    State(state): State<AppState>,
    Staff(signed): Staff,
    parts: Parts,
    ClientIp(ip): ClientIp,
    Form(form): Form<LogoutForm>,
) -> Response {
    if let Some(refused) = signed.forgery(&form.csrf) {
        return refused;
    }
    let entry = AuditEntry {
        actor_user_id: Some(signed.user.id),
        actor_username: signed.user.username.clone(),
        action: "console_logout",
        object_type: "console_session",
        object_id: signed.session_id.to_string(),
        device_id: Some(device_label(signed.session_id)),
        ip,
        detail: serde_json::Value::Null,
    };
    if let Err(e) = state
        .db
        .console_session_end(signed.session_id, Some(entry), Utc::now())
        .await
    {
        return signed.ui().app_error(e.into());
    }
    let cfg = config(&parts);
    with_cookie(
        Redirect::to(&format!("/login?out=1&lang={}", signed.lang.code())).into_response(),
        cfg.clear_cookie(cfg.session_cookie()),
    )
}
