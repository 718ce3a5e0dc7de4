//! Administration: devices (revocation with the API's rules: an admin any
//! device, a supervisor their branch's), accounts (admins: deactivate,
//! activate, a new password), imports (admins) and the audit log (admins).

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use maud::{html, Markup};
use serde::Deserialize;
use sotay_core::domain::time;

use super::i18n::Lang;
use super::session::Signed;
use super::store::{AuditFilter, AuditRow};
use super::view::UrlPath;
use super::view::UrlQuery;
use super::view::{self, csrf_field, cut, datetime, table_wrap, Nav, Ui};
use crate::api::ClientIp;
use crate::app::AppState;
use crate::auth;
use crate::db::{DeviceRow, ImportReport};
use crate::error::AppError;
use crate::import::csv::ImportKind;
use crate::import::rows::{Role, RowError};
use crate::importer::{self, ImportFile};

// ---------------------------------------------------------------- devices

/// The devices this person may see and revoke.
fn device_scope(s: &Signed) -> Option<i64> {
    match s.user.role {
        Role::Admin => None,
        _ => Some(s.user.branch_id.unwrap_or(-1)),
    }
}

fn visible(s: &Signed, d: &DeviceRow) -> bool {
    d.looked_after_by(s.user.id, s.user.role, s.user.branch_id)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DevicesQuery {
    /// The device just revoked, to confirm it.
    revoked: String,
}

/// `GET /devices`
pub async fn devices(
    State(state): State<AppState>,
    signed: Signed,
    UrlQuery(q): UrlQuery<DevicesQuery>,
) -> Response {
    let lang = signed.lang;
    let ui = signed.ui();
    let list = match state
        .db
        .devices(device_scope(&signed), signed.user.id)
        .await
    {
        Ok(l) => l,
        Err(e) => return ui.app_error(e.into()),
    };
    let admin = signed.user.role == Role::Admin;
    let branches = if admin {
        match state.db.branches(None).await {
            Ok(b) => b,
            Err(e) => return ui.app_error(e.into()),
        }
    } else {
        Vec::new()
    };
    let branch_name = |id: Option<i64>| {
        branches
            .iter()
            .find(|b| Some(b.id) == id)
            .map_or("—", |b| b.name.as_str())
    };
    let just_revoked = list
        .iter()
        .find(|d| d.id == q.revoked && d.revoked_at.is_some());
    let body = html! {
        h1 { (lang.t("Thiết bị", "Devices")) }
        p.lead { (if signed.user.role == Role::Admin {
            lang.t("Điện thoại đã đăng nhập Sổ Tay, của mọi chi nhánh.", "Phones signed in to Sổ Tay, in every branch.")
        } else {
            lang.t("Điện thoại của cán bộ chi nhánh bạn đã đăng nhập Sổ Tay.", "Phones of your branch's staff signed in to Sổ Tay.")
        }) }
        @if let Some(d) = just_revoked {
            p.notice.success role="status" #flash {
                (lang.pick(
                    format!("Đã thu hồi thiết bị “{}” ({}) của {}. Máy này không đồng bộ và không đăng nhập được nữa.", d.name, d.code, d.user_full_name),
                    format!("Device “{}” ({}) of {} was revoked. It can no longer sync or sign in.", d.name, d.code, d.user_full_name),
                ))
            }
        }
        @if list.is_empty() {
            (view::empty(lang.t(
                "Chưa có điện thoại nào đăng nhập. Thiết bị xuất hiện ở đây sau lần đăng nhập đầu tiên của cán bộ.",
                "No phone has signed in yet. A device appears here after an officer's first sign-in."
            )))
        } @else {
            (table_wrap(html! {
                table.list #devices {
                    thead { tr {
                        th { (lang.t("Thiết bị", "Device")) }
                        th { (lang.t("Mã", "Code")) }
                        th { (lang.t("Người dùng", "User")) }
                        @if admin { th { (lang.t("Chi nhánh", "Branch")) } }
                        th { (lang.t("Đăng ký lúc", "Registered")) }
                        th { (lang.t("Lần cuối kết nối", "Last seen")) }
                        th { (lang.t("Tình trạng", "Status")) }
                        th { span.visually-hidden { (lang.t("Thao tác", "Actions")) } }
                    } }
                    tbody {
                        @for d in &list {
                            tr data-device=(d.id) {
                                td { (d.name) }
                                td.mono { (d.code) }
                                td { (d.user_full_name) br; small.mono { (d.username) } }
                                @if admin { td { (branch_name(d.branch_id)) } }
                                td.nowrap { (datetime(d.created_at)) }
                                td.nowrap { (datetime(d.last_seen_at)) }
                                td {
                                    @if let Some(at) = d.revoked_at {
                                        span.badge.danger { (lang.t("Đã thu hồi", "Revoked")) }
                                        br; small { (datetime(at)) @if let Some(r) = &d.revoke_reason { " — " (revoke_reason(lang, r, d.revoked_with_account)) } }
                                    } @else {
                                        span.badge.ok { (lang.t("Đang hoạt động", "Active")) }
                                    }
                                }
                                td {
                                    @if d.revoked_at.is_none() {
                                        a.button.danger href=(format!("/devices/{}/revoke", d.id)) { (lang.t("Thu hồi…", "Revoke…")) }
                                    } @else if d.revoked_with_account {
                                        // Back with its account when it reopens, unless
                                        // reported lost now.
                                        a.button.danger href=(format!("/devices/{}/revoke", d.id)) { (lang.t("Báo mất…", "Report lost…")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }))
        }
    };
    ui.page(lang.t("Thiết bị", "Devices"), Nav::Devices, body)
        .into_response()
}

fn revoke_view(ui: &Ui, d: &DeviceRow, error: Option<&str>, reason: &str, csrf: &str) -> Markup {
    let lang = ui.lang;
    let body = html! {
        p.crumbs { a href="/devices" { "← " (lang.t("Thiết bị", "Devices")) } }
        h1 { (lang.t("Thu hồi thiết bị", "Revoke a device")) }
        @if let Some(m) = error { p.notice.error role="alert" #revoke-error { (m) } }
        section.card {
            dl {
                dt { (lang.t("Thiết bị", "Device")) } dd { (d.name) " (" span.mono { (d.code) } ")" }
                dt { (lang.t("Người dùng", "User")) } dd { (d.user_full_name) " · " span.mono { (d.username) } }
                dt { (lang.t("Lần cuối kết nối", "Last seen")) } dd { (datetime(d.last_seen_at)) }
            }
        }
        @if d.revoked_at.is_some() && !d.revoked_with_account {
            p.notice.info { (lang.t("Thiết bị này đã bị thu hồi trước đó.", "This device was already revoked.")) }
        } @else {
            @if d.revoked_with_account {
                p.notice.info #revoked-with-account { (lang.t(
                    "Máy này đã bị thu hồi cùng lúc khóa tài khoản, và sẽ dùng lại được khi tài khoản được mở lại. Nếu máy bị mất hoặc không còn do cán bộ giữ, hãy thu hồi riêng máy này: khi mở lại tài khoản, máy vẫn bị thu hồi.",
                    "This phone was revoked when its account was closed, and comes back when the account is reopened. If it is lost or no longer in the officer's hands, revoke it for itself: it then stays revoked when the account reopens."
                )) }
            }
            p.notice.warn { (lang.t(
                "Sau khi thu hồi, máy này không đồng bộ được nữa và không đăng nhập lại được. Những gì máy còn gửi lên được giữ riêng để giám sát xem xét, không bị xoá. Không hoàn tác được.",
                "Once revoked, this phone can no longer sync or sign in again. Anything it still sends is kept apart for a supervisor to review, never dropped. This cannot be undone."
            )) }
            form.stack method="post" action=(format!("/devices/{}/revoke", d.id)) id="revoke-form" {
                (csrf_field(csrf))
                label for="reason" { (lang.t("Lý do (ghi vào nhật ký)", "Reason (written to the audit log)")) }
                textarea #reason name="reason" rows="3" maxlength="500" required
                    placeholder=(lang.t("Ví dụ: mất điện thoại; cán bộ nghỉ việc", "E.g. phone lost; officer left")) { (reason) }
                div.actions {
                    button.danger type="submit" data-busy=(lang.t("Đang thu hồi…", "Revoking…")) {
                        (lang.t("Thu hồi thiết bị", "Revoke the device"))
                    }
                    a.button href="/devices" { (lang.t("Hủy", "Cancel")) }
                }
            }
        }
    };
    ui.page(
        lang.t("Thu hồi thiết bị", "Revoke a device"),
        Nav::Devices,
        body,
    )
}

async fn find_device(state: &AppState, s: &Signed, id: &str) -> Result<DeviceRow, AppError> {
    state
        .db
        .device(id)
        .await?
        .filter(|d| visible(s, d))
        .ok_or_else(|| AppError::not_found("thiết bị", "device"))
}

/// `GET /devices/{id}/revoke`: what will happen, the reason, the button.
pub async fn revoke_page(
    State(state): State<AppState>,
    signed: Signed,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let ui = signed.ui();
    match find_device(&state, &signed, &id).await {
        Ok(d) => revoke_view(&ui, &d, None, "", &signed.csrf).into_response(),
        Err(e) => ui.app_error(e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RevokeForm {
    csrf: String,
    reason: String,
}

/// `POST /devices/{id}/revoke`
pub async fn revoke(
    State(state): State<AppState>,
    signed: Signed,
    ClientIp(ip): ClientIp,
    UrlPath(id): UrlPath<String>,
    Form(form): Form<RevokeForm>,
) -> Response {
    if let Some(refused) = signed.forgery(&form.csrf) {
        return refused;
    }
    let ui = signed.ui();
    match auth::revoke_device(&state, &signed.user, &id, &form.reason, ip).await {
        Ok(d) => Redirect::to(&view::link("/devices", &[("revoked", d.id)])).into_response(),
        Err(e) if e.status == StatusCode::NOT_FOUND || e.status.is_server_error() => {
            ui.app_error(e)
        }
        Err(e) => match find_device(&state, &signed, &id).await {
            Ok(d) => (
                e.status,
                revoke_view(
                    &ui,
                    &d,
                    Some(ui.message(&e).as_str()),
                    &form.reason,
                    &signed.csrf,
                ),
            )
                .into_response(),
            Err(e) => ui.app_error(e),
        },
    }
}

// ---------------------------------------------------------------- accounts

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UsersQuery {
    /// The account just changed and how (`deactivated`, `activated`,
    /// `password`), to confirm it.
    user: String,
    done: String,
    /// A name, user name or code to find (any case, with or without
    /// diacritics); a role; a branch's id; the page.
    q: String,
    role: String,
    branch: String,
    page: String,
}

/// Accounts shown on one page of the Users list.
const USERS_PAGE: usize = 100;

fn role_name(lang: Lang, role: &str) -> &'static str {
    match Role::parse(role) {
        Some(r) => view::role_label(lang, r),
        None => "—",
    }
}

/// `GET /users` (admins): every account, with what an administrator can do
/// to it.
pub async fn users(
    State(state): State<AppState>,
    signed: Signed,
    UrlQuery(q): UrlQuery<UsersQuery>,
) -> Response {
    if let Some(r) = signed.not_admin() {
        return r;
    }
    users_page(&state, &signed, &q, None, StatusCode::OK).await
}

async fn users_page(
    state: &AppState,
    s: &Signed,
    q: &UsersQuery,
    error: Option<(i64, String)>,
    status: StatusCode,
) -> Response {
    let lang = s.lang;
    let ui = s.ui();
    let (list, branches) = match (state.db.users(None).await, state.db.branches(None).await) {
        (Ok(l), Ok(b)) => (l, b),
        (Err(e), _) | (_, Err(e)) => return ui.app_error(e.into()),
    };
    let branch_name = |id: Option<i64>| {
        branches
            .iter()
            .find(|b| Some(b.id) == id)
            .map_or("—", |b| b.name.as_str())
    };
    let changed = list.iter().find(|u| u.id.to_string() == q.user);
    // Found by a part of the name, user name or code, narrowed by role
    // and branch; the account just changed always shown.
    let words = sotay_core::domain::text::query_terms(&q.q);
    let shown: Vec<&crate::db::UserView> = list
        .iter()
        .filter(|u| {
            let text = sotay_core::domain::text::fold(&format!(
                "{} {} {}",
                u.full_name, u.username, u.code
            ));
            (words.iter().all(|w| text.contains(w.as_str()))
                && (q.role.is_empty() || u.role == q.role)
                && (q.branch.is_empty()
                    || u.branch_id.map(|b| b.to_string()) == Some(q.branch.clone())))
                || u.id.to_string() == q.user
        })
        .collect();
    let pages = shown.len().div_ceil(USERS_PAGE).max(1);
    let page = q.page.parse::<usize>().unwrap_or(1).clamp(1, pages);
    let on_page = &shown[(page - 1) * USERS_PAGE..(page * USERS_PAGE).min(shown.len())];
    // A locked officer's workers wait for another officer: said on her row
    // until they are moved.
    let mut left_with = std::collections::HashMap::new();
    for u in on_page.iter().filter(|u| !u.active && u.role == "officer") {
        match state.db.workers_of(u.id).await {
            Ok((0, _)) => {}
            Ok(counts) => {
                left_with.insert(u.id, counts);
            }
            Err(e) => return ui.app_error(e.into()),
        }
    }
    // Why, when and by whom each locked account on the page was locked.
    let locked: Vec<i64> = on_page.iter().filter(|u| !u.active).map(|u| u.id).collect();
    let closures = match state.db.closures(&locked).await {
        Ok(c) => c,
        Err(e) => return ui.app_error(e.into()),
    };
    let at_page = |n: usize| {
        view::link(
            "/users",
            &[
                ("q", q.q.clone()),
                ("role", q.role.clone()),
                ("branch", q.branch.clone()),
                ("page", n.to_string()),
            ],
        )
    };
    // An officer who just left may still have batches waiting: their cash
    // is counted and approved at the branch as usual.
    let waiting = match changed.filter(|u| q.done == "deactivated" && u.role == "officer") {
        Some(u) => match state
            .db
            .review_batches(
                u.branch_id.or(Some(-1)),
                Some(crate::db::BatchStatus::Pending),
                1_000,
                0,
            )
            .await
        {
            Ok(batches) => {
                let theirs: Vec<_> = batches.iter().filter(|b| b.officer_id == u.id).collect();
                (!theirs.is_empty()).then(|| {
                    (
                        theirs.len(),
                        theirs.iter().map(|b| b.cash_collected).sum::<i64>(),
                    )
                })
            }
            Err(e) => return ui.app_error(e.into()),
        },
        None => None,
    };
    // Whoever leaves hands their workers on: said until they have.
    let assigned = match changed.filter(|u| q.done == "deactivated" && u.role == "officer") {
        Some(u) => match state.db.workers_of(u.id).await {
            Ok((0, _)) => None,
            Ok(counts) => Some(counts),
            Err(e) => return ui.app_error(e.into()),
        },
        None => None,
    };
    let body = html! {
        h1 { (lang.t("Người dùng", "Users")) }
        p.lead { (lang.t(
            "Tài khoản của cán bộ, giám sát, thủ quỹ và quản trị. Khi một người nghỉ việc, khóa tài khoản: họ không đăng nhập được nữa và điện thoại của họ bị thu hồi (những gì máy còn gửi lên được giữ riêng để giám sát xem xét). Người quên mật khẩu được đặt mật khẩu mới ở đây.",
            "Accounts of officers, supervisors, cashiers and administrators. When someone leaves, deactivate the account: they can no longer sign in and their phones are revoked (anything a phone still sends is kept apart for a supervisor). Someone who forgot their password gets a new one here."
        )) }
        @if let Some(u) = changed {
            p.notice.success role="status" #flash {
                @match q.done.as_str() {
                    "deactivated" => {
                        (lang.pick(
                            format!("Đã khóa tài khoản của {} ({}); các thiết bị của họ đã bị thu hồi.", u.full_name, u.username),
                            format!("{} ({}) is deactivated; their devices were revoked.", u.full_name, u.username),
                        ))
                        @if let Some((n, borrowers)) = assigned {
                            " "
                            span #still-assigned { (lang.pick(
                                format!("Họ còn phụ trách {n} người lao động ({borrowers} đang có khoản vay): hãy giao cho cán bộ khác bằng tệp workers.csv (chỉ cần hai cột code, officer_code; người có khoản vay chỉ chuyển trong cùng chi nhánh)."),
                                format!("They are still in charge of {n} workers ({borrowers} with a loan open): give them to another officer with a workers.csv file (the columns code and officer_code are enough; borrowers move only within the branch)."),
                            )) }
                        }
                        @if let Some((n, cash)) = waiting {
                            " "
                            (lang.pick(
                                format!("Họ còn {n} lô chờ duyệt, phải nộp {}: giám sát chi nhánh đếm tiền và duyệt như thường; những gì điện thoại còn gửi lên được giữ riêng.", view::vnd(cash)),
                                format!("They still have {n} batch(es) waiting for review, {} to hand over: the branch supervisor counts the cash and reviews them as usual; what a phone still sends is kept apart.", view::vnd(cash)),
                            ))
                        }
                    }
                    "activated" => (lang.pick(
                        format!("Đã mở khóa tài khoản của {} ({}).", u.full_name, u.username),
                        format!("{} ({}) is active again.", u.full_name, u.username),
                    )),
                    _ => (lang.pick(
                        format!("Đã đặt mật khẩu mới cho {} ({}). Hãy trao mật khẩu trực tiếp cho họ.", u.full_name, u.username),
                        format!("A new password is set for {} ({}). Give it to them in person.", u.full_name, u.username),
                    )),
                }
            }
        }
        form.filters method="get" action="/users" role="search" #users-filter {
            div {
                label for="users-q" { (lang.t("Tên, tên đăng nhập hoặc mã", "Name, user name or code")) }
                input #users-q type="search" name="q" value=(q.q) autocomplete="off";
            }
            div {
                label for="users-role" { (lang.t("Vai trò", "Role")) }
                select #users-role name="role" {
                    option value="" { (lang.t("Tất cả", "All")) }
                    @for r in ["officer", "supervisor", "cashier", "admin"] {
                        option value=(r) selected[q.role == r] { (role_name(lang, r)) }
                    }
                }
            }
            div {
                label for="users-branch" { (lang.t("Chi nhánh", "Branch")) }
                select #users-branch name="branch" {
                    option value="" { (lang.t("Tất cả", "All")) }
                    @for b in &branches {
                        option value=(b.id) selected[q.branch == b.id.to_string()] { (b.name) }
                    }
                }
            }
            div.actions { button.primary type="submit" { (lang.t("Tìm", "Search")) } }
        }
        p.count #users-count { (lang.pick(
            format!("{} / {} tài khoản", view::count(shown.len() as i64), view::count(list.len() as i64)),
            format!("{} of {} accounts", view::count(shown.len() as i64), view::count(list.len() as i64)),
        )) }
        (table_wrap(html! {
            table.list #users {
                thead { tr {
                    th { (lang.t("Người dùng", "User")) }
                    th { (lang.t("Vai trò", "Role")) }
                    th { (lang.t("Chi nhánh", "Branch")) }
                    th { (lang.t("Tình trạng", "Status")) }
                    th { (lang.t("Thao tác", "Actions")) }
                } }
                tbody {
                    @for u in on_page {
                        tr data-user=(u.username) {
                            td { (u.full_name) br; small.mono { (u.username) " · " (u.code) } }
                            td { (role_name(lang, &u.role)) }
                            td { (branch_name(u.branch_id)) }
                            td {
                                @if u.active {
                                    span.badge.ok { (lang.t("Đang hoạt động", "Active")) }
                                } @else {
                                    span.badge.danger { (lang.t("Đã khóa", "Deactivated")) }
                                    @if let Some(c) = closures.get(&u.id) {
                                        br;
                                        small.closed-by { (closed_by(lang, c)) }
                                    }
                                    @if let Some((n, borrowers)) = left_with.get(&u.id) {
                                        br;
                                        small.still-hers { (lang.pick(
                                            format!("còn phụ trách {n} người lao động ({borrowers} có khoản vay): chuyển cho cán bộ khác bằng workers.csv"),
                                            format!("still in charge of {n} workers ({borrowers} with a loan): move them with workers.csv"),
                                        )) }
                                    }
                                }
                            }
                            td {
                                @if let Some((id, m)) = &error {
                                    @if *id == u.id { p.notice.error role="alert" #user-error { (m) } }
                                }
                                @if u.id != s.user.id {
                                    @if u.active {
                                        form.inline method="post" action=(format!("/users/{}/deactivate", u.id)) {
                                            (csrf_field(&s.csrf))
                                            input type="text" name="reason" required maxlength="500"
                                                aria-label=(lang.t("Lý do khóa", "Reason"))
                                                placeholder=(lang.t("Lý do: nghỉ việc, …", "Reason: left, …"));
                                            button.danger type="submit" { (lang.t("Khóa tài khoản", "Deactivate")) }
                                        }
                                    } @else {
                                        form.inline method="post" action=(format!("/users/{}/activate", u.id)) {
                                            (csrf_field(&s.csrf))
                                            button type="submit" { (lang.t("Mở khóa", "Activate")) }
                                        }
                                    }
                                    form.inline method="post" action=(format!("/users/{}/password", u.id)) {
                                        (csrf_field(&s.csrf))
                                        input type="password" name="password" required minlength="8" autocomplete="new-password"
                                            aria-label=(lang.t("Mật khẩu mới", "New password"))
                                            placeholder=(lang.t("Mật khẩu mới (≥ 8 ký tự)", "New password (≥ 8 characters)"));
                                        button type="submit" { (lang.t("Đặt mật khẩu", "Set password")) }
                                    }
                                } @else {
                                    // One's own account: another admin, or set-password on the server.
                                    small.muted { (lang.t("Tài khoản của bạn: nhờ quản trị viên khác đổi", "Your own account: another administrator changes it")) }
                                }
                            }
                        }
                    }
                }
            }
        }))
        @if pages > 1 {
            nav.pager aria-label=(lang.t("Trang", "Pages")) {
                @if page > 1 {
                    a href=(at_page(page - 1)) rel="prev" { "← " (lang.t("Trang trước", "Previous")) }
                }
                span { (lang.pick(format!("Trang {page}/{pages}"), format!("Page {page} of {pages}"))) }
                @if page < pages {
                    a href=(at_page(page + 1)) rel="next" { (lang.t("Trang sau", "Next")) " →" }
                }
            }
        }
    };
    (
        status,
        ui.page(lang.t("Người dùng", "Users"), Nav::Users, body),
    )
        .into_response()
}

/// "khóa ngày 07/12/2026 14:05 bởi Trần Văn Quản (quantri): nghỉ việc".
fn closed_by(lang: Lang, c: &crate::console::store::Closure) -> String {
    let who = match &c.actor_name {
        Some(name) => format!("{name} ({})", c.actor_username),
        None => c.actor_username.clone(),
    };
    let reason = c.reason();
    let at = view::datetime(c.at);
    let (vi, en) = if reason.is_empty() {
        (
            format!("khóa ngày {at} bởi {who}"),
            format!("deactivated {at} by {who}"),
        )
    } else {
        (
            format!("khóa ngày {at} bởi {who}: {reason}"),
            format!("deactivated {at} by {who}: {reason}"),
        )
    };
    lang.pick(vi, en)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AccountForm {
    csrf: String,
    reason: String,
    password: String,
}

/// `POST /users/{id}/deactivate`, `/activate`, `/password` (admins).
pub async fn change_user(
    State(state): State<AppState>,
    signed: Signed,
    ClientIp(ip): ClientIp,
    UrlPath((id, action)): UrlPath<(i64, String)>,
    Form(form): Form<AccountForm>,
) -> Response {
    if let Some(refused) = signed.forgery(&form.csrf) {
        return refused;
    }
    if let Some(r) = signed.not_admin() {
        return r;
    }
    let (change, done) = match action.as_str() {
        "deactivate" => (
            auth::AccountChange::Deactivate {
                reason: &form.reason,
            },
            "deactivated",
        ),
        "activate" => (auth::AccountChange::Activate, "activated"),
        "password" => (
            auth::AccountChange::SetPassword {
                password: &form.password,
            },
            "password",
        ),
        _ => {
            return signed
                .ui()
                .app_error(AppError::not_found("thao tác", "action"))
        }
    };
    match auth::change_account(&state, &signed.user, id, change, ip).await {
        Ok(u) => Redirect::to(&view::link(
            "/users",
            &[("user", u.id.to_string()), ("done", done.to_string())],
        ))
        .into_response(),
        Err(e) if e.status == StatusCode::NOT_FOUND || e.status.is_server_error() => {
            signed.ui().app_error(e)
        }
        Err(e) => {
            let message = signed.ui().message(&e).to_string();
            users_page(
                &state,
                &signed,
                &UsersQuery::default(),
                Some((id, message)),
                e.status,
            )
            .await
        }
    }
}

// ---------------------------------------------------------------- imports

fn kind_label(lang: Lang, k: ImportKind) -> &'static str {
    match k {
        ImportKind::Branches => lang.t("Chi nhánh", "Branches"),
        ImportKind::Users => lang.t(
            "Người dùng (cán bộ, giám sát, thủ quỹ, quản trị)",
            "Users (officers, supervisors, cashiers, admins)",
        ),
        ImportKind::BoardingHouses => lang.t("Nhà trọ", "Boarding houses"),
        ImportKind::Workers => lang.t("Người lao động", "Workers"),
        ImportKind::LoanProducts => lang.t("Sản phẩm vay", "Loan products"),
        ImportKind::Loans => lang.t("Khoản vay", "Loans"),
        ImportKind::Campaigns => lang.t("Chương trình quà, trợ cấp", "Gift and welfare campaigns"),
        ImportKind::Allocations => lang.t("Phân bổ suất quà", "Campaign allocations"),
    }
}

fn source_label(lang: Lang, s: &str) -> &str {
    match s {
        "console" => lang.t("Bảng điều khiển", "Console"),
        "api" => "API",
        "cli" => lang.t("Dòng lệnh", "Command line"),
        "demo" => lang.t("Dữ liệu mẫu", "Demo data"),
        other => other,
    }
}

/// What the last upload did, shown above the form.
enum Outcome {
    Done {
        file: String,
        report: Box<ImportReport>,
    },
    Refused {
        message: String,
        rows: Vec<RowError>,
    },
}

/// `GET /imports`
pub async fn imports(State(state): State<AppState>, signed: Signed) -> Response {
    if let Some(r) = signed.not_admin() {
        return r;
    }
    imports_page(&state, &signed, None, None, StatusCode::OK).await
}

async fn imports_page(
    state: &AppState,
    s: &Signed,
    outcome: Option<Outcome>,
    chosen: Option<ImportKind>,
    status: StatusCode,
) -> Response {
    let lang = s.lang;
    let ui = s.ui();
    let history = match state.db.imports(100).await {
        Ok(h) => h,
        Err(e) => return ui.app_error(e.into()),
    };
    let users = match state.db.users(None).await {
        Ok(u) => u,
        Err(e) => return ui.app_error(e.into()),
    };
    let who = |id: Option<i64>| -> String {
        match id.and_then(|id| users.iter().find(|u| u.id == id)) {
            Some(u) => u.full_name.clone(),
            None => "—".into(),
        }
    };
    let body = html! {
        h1 { (lang.t("Nhập dữ liệu", "Imports")) }
        @match &outcome {
            Some(Outcome::Done { file, report }) => {
                @let t = report.totals();
                p.notice.success role="status" #import-result {
                    (lang.pick(
                        format!("Đã nhập {file}: {} mới, {} cập nhật, {} không đổi.", t.created, t.updated, t.unchanged),
                        format!("Imported {file}: {} new, {} updated, {} unchanged.", t.created, t.updated, t.unchanged),
                    ))
                }
                @if !report.passwords_kept.is_empty() {
                    p.notice.warn #passwords-kept { (lang.pick(
                        format!("Mật khẩu trong tệp chỉ dùng khi tạo người dùng mới: mật khẩu của {} người dùng đã có ({}) không đổi. Đặt mật khẩu mới cho họ ở trang Người dùng.", report.passwords_kept.len(), report.passwords_kept.join(", ")),
                        format!("A password in the file is only used to create a user: the passwords of {} users already stored ({}) are unchanged. Set a new one on the Users page.", report.passwords_kept.len(), report.passwords_kept.join(", ")),
                    )) }
                }
                @if !report.workers_changed.is_empty() {
                    section #workers-changed {
                        p { (lang.pick(
                            format!("Người lao động đã có mà tệp này thay đổi, và cột thay đổi{}: nếu tệp cũ hơn một lần sửa, tệp đã trả lại giá trị cũ — kiểm tra lại.",
                                if t.updated as usize > report.workers_changed.len() { format!(" ({} người đầu tiên)", report.workers_changed.len()) } else { String::new() }),
                            format!("Workers already stored that this file changed, and the columns it changed{}: a file older than a correction has put the old values back — check them.",
                                if t.updated as usize > report.workers_changed.len() { format!(" (the first {})", report.workers_changed.len()) } else { String::new() }),
                        )) }
                        ul {
                            @for w in &report.workers_changed {
                                li { span.mono { (w.worker_code) } ": " (w.columns.join(", ")) }
                            }
                        }
                    }
                }
                @if !report.reassigned.is_empty() {
                    section #reassigned {
                        p { (lang.t("Người lao động chuyển sang cán bộ khác (điện thoại của hai cán bộ được cập nhật ở lần đồng bộ sau):", "Workers moved to another officer (both officers' phones follow at their next sync):")) }
                        ul {
                            @for m in &report.reassigned {
                                li { span.mono { (m.worker_code) } " " (m.worker_name) ": " span.mono { (m.from_officer) } " → " span.mono { (m.to_officer) } }
                            }
                        }
                    }
                }
            }
            Some(Outcome::Refused { message, rows }) => {
                div.notice.error role="alert" #import-result {
                    p { (message) }
                    @if !rows.is_empty() {
                        p { (lang.t("Sửa các dòng dưới đây trong tệp rồi tải lên lại:", "Fix these lines in the file and upload it again:")) }
                    }
                }
                @if !rows.is_empty() {
                    (table_wrap(html! {
                        table.list.errors #import-errors {
                            thead { tr {
                                th { (lang.t("Tệp", "File")) }
                                th.num { (lang.t("Dòng", "Line")) }
                                th { (lang.t("Cột", "Column")) }
                                th { (lang.t("Lỗi", "Problem")) }
                            } }
                            tbody {
                                @for r in rows {
                                    tr {
                                        td.mono { (r.file) }
                                        td.num { @if r.line > 0 { (r.line) } }
                                        td.mono { (r.column) }
                                        td { (lang.t(&r.message_vi, &r.message_en)) }
                                    }
                                }
                            }
                        }
                    }))
                }
            }
            None => {}
        }
        section.card {
            h2 { (lang.t("Tải lên một tệp CSV", "Upload a CSV file")) }
            p.hint { (lang.t(
                "Tệp CSV mã UTF-8, dòng đầu là tên cột. Nhập là tất cả hoặc không: chỉ cần một dòng lỗi thì không có dữ liệu nào được nhập, và mọi lỗi được liệt kê theo dòng và cột. Nhập lại cùng một tệp không thay đổi gì. Cột không bắt buộc bỏ ra khỏi tệp thì dữ liệu đã có ở cột đó được giữ nguyên; có cột mà để ô trống thì xóa. Số tiền và số lượng viết liền (1500000) hoặc nhóm ba chữ số bằng dấu chấm (1.500.000).",
                "A UTF-8 CSV file with a header row. All or nothing: one bad line and nothing is imported, with every problem listed by line and column. Importing the same file again changes nothing. An optional column left out of the file keeps what is stored there; the column with an empty cell clears it. Amounts and counts in plain digits (1500000) or grouped in threes with dots (1.500.000)."
            )) }
            form.stack method="post" action="/imports" enctype="multipart/form-data" id="import-form" {
                (csrf_field(&s.csrf))
                label for="kind" { (lang.t("Loại dữ liệu", "Kind of data")) }
                select #kind name="kind" {
                    option value="" { (lang.t("— theo tên tệp (workers.csv, loans.csv, …) —", "— by the file's name (workers.csv, loans.csv, …) —")) }
                    @for k in ImportKind::ALL {
                        option value=(k.slug()) selected[chosen == Some(k)] { (kind_label(lang, k)) " (" (k.file_name()) ")" }
                    }
                }
                label for="file" { (lang.t("Tệp CSV", "CSV file")) }
                input #file type="file" name="file" accept=".csv,text/csv" required;
                div.actions {
                    button.primary type="submit" data-busy=(lang.t("Đang nhập…", "Importing…")) { (lang.t("Nhập dữ liệu", "Import")) }
                }
            }
            details {
                summary { (lang.t("Các cột của từng loại tệp", "The columns of each kind of file")) }
                @for k in ImportKind::ALL {
                    h3 { (kind_label(lang, k)) " — " span.mono { (k.file_name()) } }
                    (table_wrap(html! {
                        table.list.compact {
                            thead { tr {
                                th { (lang.t("Cột", "Column")) }
                                th { (lang.t("Bắt buộc", "Required")) }
                                th { (lang.t("Nội dung", "Holds")) }
                                th { (lang.t("Ví dụ", "Example")) }
                            } }
                            tbody {
                                @for c in k.columns() {
                                    tr {
                                        td.mono { (c.name) }
                                        td {
                                            @if crate::import::csv::KEPT_WHEN_LEFT_OUT.contains(&(k, c.name)) {
                                                (lang.t("Có, với người mới (tệp chỉ cập nhật người đã có thì không cần)", "Yes, for a new one (not in a file that only updates stored ones)"))
                                            } @else {
                                                (view::yes_no(lang, c.required))
                                            }
                                        }
                                        td { (lang.t(c.vi, c.en)) }
                                        td.mono { (c.example) }
                                    }
                                }
                            }
                        }
                    }))
                }
            }
        }
        h2 { (lang.t("Lịch sử nhập", "Import history")) }
        p.hint #refused-imports { (lang.t(
            "Lần nhập bị từ chối không thay đổi gì nên không ở đây; chúng ở ",
            "An import refused changed nothing, so it is not listed here; see ",
        )) a href="/audit?action=import_refused" { (lang.t("Nhật ký, hành động import_refused", "the audit log, action import_refused")) } "." }
        @if history.is_empty() {
            (view::empty(lang.t("Chưa có lần nhập nào.", "Nothing has been imported yet.")))
        } @else {
            (table_wrap(html! {
                table.list #import-history {
                    thead { tr {
                        th { (lang.t("Thời điểm", "When")) }
                        th { (lang.t("Người nhập", "By")) }
                        th { (lang.t("Nguồn", "Source")) }
                        th { (lang.t("Tệp", "Files")) }
                        th.num { (lang.t("Số dòng", "Rows")) }
                        th.num { (lang.t("Mới", "New")) }
                        th.num { (lang.t("Cập nhật", "Updated")) }
                        th.num { (lang.t("Không đổi", "Unchanged")) }
                    } }
                    tbody {
                        @for h in &history {
                            tr {
                                td.nowrap { (datetime(h.at)) }
                                td { (who(h.user_id)) }
                                td { (source_label(lang, &h.source)) }
                                td.mono { (cut(&h.files, 80)) }
                                td.num { (view::count(h.rows)) }
                                td.num { (view::count(h.created)) }
                                td.num { (view::count(h.updated)) }
                                td.num { (view::count(h.unchanged)) }
                            }
                        }
                    }
                }
            }))
        }
    };
    (
        status,
        ui.page(lang.t("Nhập dữ liệu", "Imports"), Nav::Imports, body),
    )
        .into_response()
}

/// The uploaded file's own name, without any folder, for error messages.
fn file_name(raw: Option<&str>, kind: Option<ImportKind>) -> String {
    let base = raw
        .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).trim())
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().take(100).collect::<String>());
    base.or_else(|| kind.map(|k| k.file_name().to_string()))
        .unwrap_or_else(|| "upload.csv".into())
}

/// `POST /imports` (multipart: `csrf`, `kind`, `file`)
pub async fn import(
    State(state): State<AppState>,
    signed: Signed,
    ClientIp(ip): ClientIp,
    mut form: Multipart,
) -> Response {
    if let Some(r) = signed.not_admin() {
        return r;
    }
    let lang = signed.lang;
    let ui = signed.ui();
    let mut csrf = String::new();
    let mut kind_name = String::new();
    let mut upload: Option<(Option<String>, Vec<u8>)> = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                let msg = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    lang.t(
                        "Tệp quá lớn (tối đa 64 MiB). Hãy chia thành nhiều tệp nhỏ hơn.",
                        "The file is too large (64 MiB at most). Split it into smaller files.",
                    )
                } else {
                    lang.t(
                        "Không đọc được nội dung tải lên; hãy thử lại.",
                        "The upload could not be read; try again.",
                    )
                };
                return ui.error(e.status(), lang.t("Không nhập được", "Import failed"), msg);
            }
        };
        match field.name().unwrap_or("") {
            "csrf" => csrf = field.text().await.unwrap_or_default(),
            "kind" => kind_name = field.text().await.unwrap_or_default(),
            "file" => {
                let name = field.file_name().map(str::to_string);
                match field.bytes().await {
                    Ok(b) => upload = Some((name, b.to_vec())),
                    Err(e) => {
                        return ui.error(
                            e.status(),
                            lang.t("Không nhập được", "Import failed"),
                            lang.t(
                                "Tệp quá lớn hoặc tải lên bị gián đoạn; hãy thử lại.",
                                "The file is too large or the upload was cut off; try again.",
                            ),
                        )
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(refused) = signed.forgery(&csrf) {
        return refused;
    }
    // Not chosen: the file's own name says it (`workers.csv`).
    let kind = ImportKind::from_name(&kind_name).or_else(|| {
        kind_name.trim().is_empty().then_some(())?;
        let (name, _) = upload.as_ref()?;
        ImportKind::from_name(&file_name(name.as_deref(), None))
    });
    let refused = |message: &str| Outcome::Refused {
        message: message.to_string(),
        rows: Vec::new(),
    };
    let Some(kind) = kind else {
        let o = refused(lang.t(
            "Tên tệp không cho biết loại dữ liệu: hãy chọn loại dữ liệu của tệp (chi nhánh, người lao động, khoản vay, …), hoặc đặt tên tệp như workers.csv.",
            "The file's name does not say what it holds: choose the kind of data in the file (branches, workers, loans, …), or name it like workers.csv.",
        ));
        return imports_page(
            &state,
            &signed,
            Some(o),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let Some((raw_name, bytes)) = upload.filter(|(_, b)| !b.is_empty()) else {
        let o = refused(lang.t(
            "Hãy chọn một tệp CSV (tệp vừa chọn trống hoặc chưa chọn tệp).",
            "Choose a CSV file (the file is empty or none was chosen).",
        ));
        return imports_page(
            &state,
            &signed,
            Some(o),
            Some(kind),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let file = ImportFile {
        kind,
        name: file_name(raw_name.as_deref(), Some(kind)),
        bytes,
    };
    let audit = signed.user.audit("import", "import", file.name.clone(), ip);
    let name = file.name.clone();
    match importer::import_files(
        &state.db,
        &[file],
        "console",
        Some(signed.user.id),
        audit,
        &mut |_| {},
    )
    .await
    {
        Ok(report) => {
            let o = Outcome::Done {
                file: name,
                report: Box::new(report),
            };
            imports_page(&state, &signed, Some(o), Some(kind), StatusCode::OK).await
        }
        Err(e) if e.status.is_server_error() => ui.app_error(e),
        Err(e) => {
            let status = e.status;
            let o = Outcome::Refused {
                message: ui.message(&e).to_string(),
                rows: e.errors.clone(),
            };
            imports_page(&state, &signed, Some(o), Some(kind), status).await
        }
    }
}

// ---------------------------------------------------------------- audit log

/// Audit lines per page.
const AUDIT_PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AuditQuery {
    actor: String,
    action: String,
    from: String,
    to: String,
    page: String,
    /// `1`: leave out routine sign-ins and sign-outs.
    no_routine: String,
}

/// What an audit line is about, in words, linked to its page where the
/// console has one.
fn audit_object(lang: Lang, kind: &str, id: &str) -> Markup {
    let (label, href) = match kind {
        "sync_batch" => (
            lang.t("Lô đồng bộ", "Sync batch"),
            Some(format!("/batches/{id}")),
        ),
        "loan" => (lang.t("Khoản vay", "Loan"), Some(format!("/loans/{id}"))),
        "worker" => (
            lang.t("Người lao động", "Worker"),
            Some(format!("/workers/{id}")),
        ),
        "user" => (lang.t("Tài khoản", "Account"), Some("/users".to_string())),
        "device" => (lang.t("Thiết bị", "Device"), Some("/devices".to_string())),
        "branch_reversal" => (
            lang.t("Đề nghị đảo", "Reversal request"),
            Some("/reversals".to_string()),
        ),
        "disbursement" => (
            lang.t("Giải ngân", "Disbursement"),
            Some("/disbursements".to_string()),
        ),
        "campaign" => (
            lang.t("Chương trình quà", "Gift campaign"),
            Some("/stock".to_string()),
        ),
        "sync_record" => (lang.t("Bản ghi", "Record"), None),
        "import" => (
            lang.t("Nhập dữ liệu", "Import"),
            Some("/imports".to_string()),
        ),
        "console_session" => (lang.t("Phiên làm việc", "Console session"), None),
        other => (other, None),
    };
    html! {
        span.muted { (label) } " "
        @match href {
            Some(h) => { a.mono href=(h) { (cut(id, 40)) } }
            None => { span.mono { (cut(id, 40)) } }
        }
    }
}

/// A device's revocation reason in the page's language: the one the server
/// writes when it closes an account is translated, one typed is as typed.
fn revoke_reason(lang: Lang, reason: &str, with_account: bool) -> String {
    match reason.strip_prefix(crate::auth::DEACTIVATED) {
        Some(why) if with_account => lang.pick(
            format!("{}{why}", crate::auth::DEACTIVATED),
            format!("Account closed: {why}"),
        ),
        _ => reason.to_string(),
    }
}

/// The name of an audit detail's field in Vietnamese; `None`: the field's
/// own name is shown (in words).
fn detail_key_vi(key: &str) -> Option<&'static str> {
    Some(match key {
        "accepted" => "nhận",
        "allocations" => "phân bổ",
        "boarding_houses" => "khu trọ",
        "branches" => "chi nhánh",
        "campaigns" => "chương trình",
        "counted_as_gift" => "tính là quà của người lao động",
        "created" => "tạo mới",
        "loan_products" => "sản phẩm vay",
        "loans" => "khoản vay",
        "reassigned" => "chuyển cán bộ",
        "unchanged" => "không đổi",
        "updated" => "cập nhật",
        "users" => "người dùng",
        "workers" => "người lao động",
        "address_failures" => "số lần sai từ địa chỉ này",
        "address_locked" => "địa chỉ bị khóa",
        "amount" => "số tiền",
        "approved" => "được duyệt",
        "batch_id" => "lô",
        "booked_on" => "ngày ngân hàng ghi",
        "cash_expected" => "phải nộp",
        "cash_received" => "thực nhận",
        "discrepancy" => "chênh lệch",
        "entries_posted" => "bút toán đã ghi",
        "loans_closed" => "khoản vay tất toán",
        "statement" => "sao kê",
        "bank_account" => "tài khoản ngân hàng",
        "branch" => "chi nhánh",
        "bytes" => "dung lượng (byte)",
        "column" => "cột",
        "device_name" => "tên thiết bị",
        "device_code" => "mã thiết bị",
        "asked_code" => "mã máy xin giữ",
        "device_revoked" => "thiết bị đã thu hồi",
        "device_user" => "người dùng thiết bị",
        "disbursement_entry" => "bút toán giải ngân",
        "duplicate" => "trùng",
        "entries" => "bút toán",
        "entry" => "bút toán",
        "errors" => "lỗi",
        "excluded" => "bị loại",
        "failures" => "số lần sai",
        "family" => "chuỗi phiên",
        "file" | "files" => "tệp",
        "first" => "đầu tiên",
        "first_day" => "từ ngày",
        "first_entry" => "bút toán đầu",
        "kind" => "loại",
        "last_day" => "đến ngày",
        "line" | "lines" => "dòng",
        "loan" => "khoản vay",
        "locked" => "bị khóa",
        "media_type" => "định dạng",
        "message" => "nội dung",
        "method" => "cách trả",
        "officer" => "cán bộ",
        "direction" => "chiều",
        "note" => "ghi chú",
        "opening_entry" => "bút toán nhập khoản vay",
        "outcome" => "kết quả",
        "packages" => "số suất",
        "principal" => "tiền gốc",
        "product" => "sản phẩm",
        "reason" => "lý do",
        "receipt" | "receipt_no" => "số phiếu",
        "received_on" => "ngày nhận",
        "record_id" => "bản ghi",
        "records" => "bản ghi",
        "reference" => "số chứng từ",
        "rejected" => "từ chối",
        "report" => "báo cáo",
        "reversal" => "đề nghị đảo",
        "reversal_entry" => "bút toán đảo",
        "role" => "vai trò",
        "source" => "nguồn",
        "transfer_ref" => "mã chuyển khoản",
        "user_agent" => "trình duyệt",
        "what" => "việc",
        "worker" => "người lao động",
        _ => return None,
    })
}

/// A detail's value that reads better in words: money as đồng, how a
/// payment was made, which way cash moved, an entry's kind.
fn detail_value(lang: Lang, key: &str, v: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match (key, v) {
        (
            "amount" | "principal" | "cash_expected" | "cash_received" | "discrepancy",
            Value::Number(n),
        ) => n.as_i64().map(view::vnd),
        // Money kept as text (an approval's outcome, as the API gives it).
        (
            "amount" | "principal" | "cash_expected" | "cash_received" | "discrepancy",
            Value::String(s),
        ) => s.parse::<i64>().ok().map(view::vnd),
        ("booked_on" | "received_on" | "first_day" | "last_day", Value::String(s)) => s
            .parse::<NaiveDate>()
            .ok()
            .map(sotay_core::domain::time::format_date),
        ("method", Value::String(s)) => Some(
            match s.as_str() {
                "cash" => lang.t("tiền mặt", "cash"),
                "transfer" => lang.t("chuyển khoản", "transfer"),
                _ => return None,
            }
            .to_string(),
        ),
        ("direction", Value::String(s)) => Some(
            match s.as_str() {
                "paid_in" => lang.t("nộp vào quỹ", "paid into the vault"),
                "paid_out" => lang.t("trả từ quỹ", "paid out of the vault"),
                "borne_by_fund" => lang.t("quỹ chịu khoản thiếu", "shortage borne by the fund"),
                "kept_by_fund" => lang.t("quỹ ghi thu khoản thừa", "overage kept by the fund"),
                "deposit" => lang.t("nộp vào ngân hàng", "paid into the bank"),
                "withdrawal" => lang.t("rút từ ngân hàng", "drawn from the bank"),
                _ => return None,
            }
            .to_string(),
        ),
        ("kind", Value::String(s)) => {
            let (vi, en) = crate::ledger::EntryKind::name(s);
            (vi != s.as_str()).then(|| lang.t(vi, en).to_string())
        }
        ("what", Value::String(s)) => Some(
            match s.as_str() {
                "gift package(s)" => lang.t("suất quà", "gift package(s)"),
                "grant(s)" => lang.t("khoản hỗ trợ", "grant(s)"),
                _ => return None,
            }
            .to_string(),
        ),
        _ => None,
    }
}

/// An audit line's details as a person reads them: `key: value` pairs (the
/// keys in the page's language), text without quotes, lists joined, yes or
/// no, money in đồng; anything else as stored.
fn audit_detail(lang: Lang, stored: &str) -> String {
    use serde_json::Value;
    let key = |k: &str| match (lang, detail_key_vi(k)) {
        (Lang::Vi, Some(vi)) => vi.to_string(),
        _ => k.replace('_', " "),
    };
    let plain = |v: &Value| -> String {
        fn words(lang: Lang, v: &Value) -> String {
            match v {
                // A detail of its own (an approval's outcome): its fields
                // in words too.
                Value::Object(fields) => format!(
                    "({})",
                    fields
                        .iter()
                        .filter(|(_, v)| !v.is_null())
                        .map(|(k, v)| {
                            let name = match (lang, detail_key_vi(k)) {
                                (Lang::Vi, Some(vi)) => vi.to_string(),
                                _ => k.replace('_', " "),
                            };
                            format!(
                                "{name}: {}",
                                detail_value(lang, k, v).unwrap_or_else(|| words(lang, v))
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Value::String(s) => s.clone(),
                Value::Bool(b) => lang
                    .t(
                        if *b { "có" } else { "không" },
                        if *b { "yes" } else { "no" },
                    )
                    .to_string(),
                Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
                    items
                        .iter()
                        .map(|i| words(lang, i))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
                // Several details of their own (records left out, errors):
                // each in words.
                Value::Array(items) => items
                    .iter()
                    .map(|i| words(lang, i))
                    .collect::<Vec<_>>()
                    .join("; "),
                other => other.to_string(),
            }
        }
        words(lang, v)
    };
    match serde_json::from_str::<Value>(stored) {
        Ok(Value::Object(fields)) => fields
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| {
                format!(
                    "{}: {}",
                    key(k),
                    detail_value(lang, k, v).unwrap_or_else(|| plain(v))
                )
            })
            .collect::<Vec<_>>()
            .join(" · "),
        Ok(other) => plain(&other),
        Err(_) => stored.to_string(),
    }
}

fn action_label(lang: Lang, a: &str) -> &str {
    match a {
        "login" => lang.t(
            "Đăng nhập qua API (điện thoại, máy tính)",
            "Sign-in through the API (phone, computer)",
        ),
        "login_failed" => lang.t("Đăng nhập sai", "Failed sign-in"),
        "refresh" => lang.t("Gia hạn phiên điện thoại", "Phone session renewed"),
        "refresh_revoked_device" => lang.t(
            "Thiết bị đã thu hồi kết nối lại (bản ghi gửi lên chỉ bị giữ lại)",
            "Revoked device called in (uploads to quarantine only)",
        ),
        "refresh_reused" => lang.t("Mã làm mới bị dùng lại", "Refresh token reused"),
        "device_revoke" => lang.t("Thu hồi thiết bị", "Device revoked"),
        "import" => lang.t("Nhập dữ liệu", "Import"),
        "import_refused" => lang.t("Nhập dữ liệu bị từ chối", "Import refused"),
        "set_password" => lang.t("Đặt mật khẩu", "Password set"),
        "console_login" => lang.t("Đăng nhập bảng điều khiển", "Console sign-in"),
        "console_logout" => lang.t("Đăng xuất bảng điều khiển", "Console sign-out"),
        "console_login_refused" => lang.t(
            "Từ chối vào bảng điều khiển (vai trò)",
            "Console refused (role)",
        ),
        "user_deactivate" => lang.t("Khóa tài khoản", "Account deactivated"),
        "user_activate" => lang.t("Mở khóa tài khoản", "Account activated"),
        "user_set_password" => lang.t("Đặt mật khẩu mới", "New password set"),
        "upload" => lang.t("Tải lên lô đồng bộ", "Sync batch uploaded"),
        "signature.receive" => lang.t("Nhận ảnh chữ ký", "Signature image received"),
        "batch.approve" => lang.t("Duyệt lô", "Batch approved"),
        "batch.reject" => lang.t("Từ chối lô", "Batch rejected"),
        "refused.settle" => lang.t(
            "Đánh dấu đã xử lý bản ghi bị từ chối",
            "Refused record marked settled",
        ),
        "ledger.post" => lang.t("Ghi sổ cái", "Posted to the ledger"),
        "counter.repayment" => lang.t("Thu nợ tại quầy", "Counter repayment"),
        "reversal.request" => lang.t("Đề nghị đảo bút toán", "Reversal asked for"),
        "reversal.approve" => lang.t("Duyệt đảo bút toán", "Reversal approved"),
        "reversal.reject" => lang.t("Từ chối đảo bút toán", "Reversal refused"),
        "disbursement.request" => lang.t("Đề nghị giải ngân", "Disbursement asked for"),
        "disbursement.approve" => lang.t("Duyệt giải ngân", "Disbursement approved"),
        "disbursement.reject" => lang.t("Từ chối giải ngân", "Disbursement refused"),
        "loan.cancel" => lang.t("Hủy giải ngân", "Loan taken back"),
        "capital.receive" => lang.t("Nhận vốn cho vay", "Lending capital received"),
        "campaign.receive" => lang.t(
            "Nhận quà, tiền chương trình",
            "Campaign packages or cash received",
        ),
        "bank.deposit" => lang.t("Nộp tiền mặt vào ngân hàng", "Cash paid into the bank"),
        "bank.withdraw" => lang.t("Rút tiền mặt từ ngân hàng", "Cash drawn from the bank"),
        "bank.charge" => lang.t("Phí ngân hàng", "Bank charge"),
        "bank.interest" => lang.t("Lãi tiền gửi", "Bank interest"),
        "bank.statement" => lang.t("Nhập sao kê ngân hàng", "Bank statement imported"),
        "over_short.settle" => lang.t(
            "Thanh toán thừa/thiếu quỹ của cán bộ",
            "Officer's cash short/over settled",
        ),
        "over_short.write_off" => lang.t(
            "Xử lý thừa/thiếu quỹ của cán bộ theo quyết định của quỹ",
            "Officer's cash short/over written off",
        ),
        "vault.count" => lang.t("Kiểm kê quỹ tiền mặt", "Vault cash counted"),
        other => other,
    }
}

/// Start of a day in Vietnam, as an instant.
fn day_start(d: NaiveDate) -> DateTime<Utc> {
    let local = d.and_hms_opt(0, 0, 0).expect("midnight exists");
    (local - Duration::hours(7)).and_utc()
}

/// `GET /audit?actor=&action=&from=&to=&page=`
pub async fn audit(
    State(state): State<AppState>,
    signed: Signed,
    UrlQuery(q): UrlQuery<AuditQuery>,
) -> Response {
    if let Some(r) = signed.not_admin() {
        return r;
    }
    let lang = signed.lang;
    let ui = signed.ui();
    let mut problems: Vec<String> = Vec::new();
    let mut parse_day = |label_vi: &str, label_en: &str, v: &str| -> Option<NaiveDate> {
        let v = v.trim();
        if v.is_empty() {
            return None;
        }
        let d = time::parse_date(v);
        if d.is_none() {
            let (why_vi, why_en) = time::date_hint(v);
            problems.push(lang.pick(
                format!("{label_vi} “{v}” không phải là ngày hợp lệ; {why_vi}."),
                format!("{label_en} “{v}” is not a valid date; {why_en}."),
            ));
        }
        d
    };
    let from = parse_day("Từ ngày", "From", &q.from);
    let to = parse_day("Đến ngày", "To", &q.to);
    if let (Some(f), Some(t)) = (from, to) {
        if t < f {
            problems.push(
                lang.t(
                    "Ngày kết thúc đứng trước ngày bắt đầu; hãy đổi lại.",
                    "The end date is before the start date; swap them.",
                )
                .into(),
            );
        }
    }
    let page = q.page.parse::<i64>().unwrap_or(1).max(1);
    let filter = AuditFilter {
        actor: Some(q.actor.trim().to_string()).filter(|s| !s.is_empty()),
        action: Some(q.action.trim().to_string()).filter(|s| !s.is_empty()),
        from: from.map(day_start),
        until: to.map(|t| day_start(t + Duration::days(1))),
        no_routine: q.no_routine == "1",
    };
    let actions = match state.db.audit_actions().await {
        Ok(a) => a,
        Err(e) => return ui.app_error(e.into()),
    };
    let mut rows: Vec<AuditRow> = if problems.is_empty() {
        match state
            .db
            .audit_page(&filter, AUDIT_PAGE + 1, (page - 1) * AUDIT_PAGE)
            .await
        {
            Ok(r) => r,
            Err(e) => return ui.app_error(e.into()),
        }
    } else {
        Vec::new()
    };
    let has_next = rows.len() as i64 > AUDIT_PAGE;
    rows.truncate(AUDIT_PAGE as usize);
    // Dates are written back as people read them, whatever was typed.
    let iso = |d: Option<NaiveDate>, raw: &str| {
        d.map(view::date).unwrap_or_else(|| raw.trim().to_string())
    };
    let keep = |p: i64| {
        view::link(
            "/audit",
            &[
                ("actor", q.actor.trim().to_string()),
                ("action", q.action.trim().to_string()),
                ("from", iso(from, &q.from)),
                ("to", iso(to, &q.to)),
                ("no_routine", q.no_routine.clone()),
                ("page", if p > 1 { p.to_string() } else { String::new() }),
            ],
        )
    };
    // Accounts named by their people, not their ids.
    let people: std::collections::HashMap<String, (String, String)> =
        match state.db.users(None).await {
            Ok(list) => list
                .into_iter()
                .map(|u| (u.id.to_string(), (u.full_name, u.username)))
                .collect(),
            Err(e) => return ui.app_error(e.into()),
        };
    let filtered = filter.no_routine
        || filter.actor.is_some()
        || filter.action.is_some()
        || filter.from.is_some()
        || filter.until.is_some();
    let body = html! {
        h1 { (lang.t("Nhật ký hệ thống", "Audit log")) }
        p.lead { (lang.t(
            "Mọi lần đăng nhập, tải lên, duyệt, ghi sổ, đảo bút toán, thu hồi thiết bị, thay đổi tài khoản và nhập dữ liệu; không sửa, không xoá được. Giờ Việt Nam.",
            "Every sign-in, upload, decision, posting, reversal, device revocation, account change and import; nothing in it can be changed or deleted. Vietnam time."
        )) }
        form.filters method="get" action="/audit" id="audit-filter" {
            div {
                label for="actor" { (lang.t("Người thực hiện", "Actor")) }
                input #actor type="search" name="actor" value=(q.actor.trim()) placeholder=(lang.t("tên đăng nhập", "username"));
            }
            div {
                label for="action" { (lang.t("Hành động", "Action")) }
                select #action name="action" {
                    option value="" { (lang.t("Tất cả", "All")) }
                    @for a in &actions {
                        option value=(a) selected[q.action.trim() == a] { (action_label(lang, a)) }
                    }
                }
            }
            div {
                label for="from" { (lang.t("Từ ngày", "From")) }
                input #from type="text" name="from" value=(iso(from, &q.from)) placeholder="dd/mm/yyyy"
                    inputmode="numeric" autocomplete="off" size="10";
            }
            div {
                label for="to" { (lang.t("Đến ngày", "To")) }
                input #to type="text" name="to" value=(iso(to, &q.to)) placeholder="dd/mm/yyyy"
                    inputmode="numeric" autocomplete="off" size="10";
            }
            div {
                label.check for="no_routine" {
                    input #no_routine type="checkbox" name="no_routine" value="1" checked[q.no_routine == "1"];
                    " " (lang.t("Ẩn đăng nhập, đăng xuất thường ngày", "Hide routine sign-ins and sign-outs"))
                }
            }
            div.actions {
                button.primary type="submit" { (lang.t("Lọc", "Filter")) }
                @if filtered { a.button href="/audit" { (lang.t("Bỏ lọc", "Clear")) } }
            }
        }
        @for p in &problems { p.notice.error role="alert" { (p) } }
        @if rows.is_empty() && problems.is_empty() {
            (view::empty(if filtered {
                lang.t("Không có mục nào khớp bộ lọc. Thử bỏ bớt điều kiện hoặc mở rộng khoảng ngày.",
                       "Nothing matches the filter. Remove a condition or widen the dates.")
            } else if page > 1 {
                lang.t("Trang này không còn mục nào.", "No more entries on this page.")
            } else {
                lang.t("Nhật ký chưa có mục nào.", "The audit log is empty.")
            }))
        } @else if !rows.is_empty() {
            (table_wrap(html! {
                table.list #audit {
                    thead { tr {
                        th { (lang.t("Thời điểm", "When")) }
                        th { (lang.t("Người thực hiện", "Actor")) }
                        th { (lang.t("Hành động", "Action")) }
                        th { (lang.t("Đối tượng", "Object")) }
                        th { (lang.t("Thiết bị", "Device")) }
                        th { (lang.t("Địa chỉ IP", "IP address")) }
                        th { (lang.t("Chi tiết", "Details")) }
                    } }
                    tbody {
                        @for r in &rows {
                            tr data-action=(r.action) {
                                td.nowrap { (datetime(r.at)) }
                                td.mono { (if r.actor_username.is_empty() { "—" } else { &r.actor_username }) }
                                td { (action_label(lang, &r.action)) }
                                td { @match people.get(&r.object_id).filter(|_| r.object_type == "user") {
                                    Some((name, username)) => {
                                        span.muted { (lang.t("Tài khoản", "Account")) } " "
                                        a href=(view::link("/users", &[("q", username.clone())])) { (name) } " "
                                        small.mono { "(" (username) ")" }
                                    }
                                    None => (audit_object(lang, &r.object_type, &r.object_id)),
                                } }
                                td.mono { (r.device_id.as_deref().map(|d| cut(d, 24)).unwrap_or_default()) }
                                td.mono { (r.ip.as_deref().unwrap_or("")) }
                                td.detail { @if r.detail != "null" { span title=(cut(&r.detail, 2000)) { (cut(&audit_detail(lang, &r.detail), 160)) } } }
                            }
                        }
                    }
                }
            }))
            nav.pager aria-label=(lang.t("Trang", "Pages")) {
                @if page > 1 { a href=(keep(page - 1)) rel="prev" { "← " (lang.t("Mới hơn", "Newer")) } }
                span { (lang.pick(format!("Trang {page}"), format!("Page {page}"))) }
                @if has_next { a href=(keep(page + 1)) rel="next" { (lang.t("Cũ hơn", "Older")) " →" } }
            }
        }
    };
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (
        status,
        ui.page(lang.t("Nhật ký", "Audit log"), Nav::Audit, body),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_details_read_as_words() {
        let stored = r#"{"device_name":"Máy của Lan","failures":3,"locked":false,"files":["users.csv","loans.csv"],"gone":null,"odd_key":1}"#;
        assert_eq!(
            audit_detail(Lang::En, stored),
            "device name: Máy của Lan · failures: 3 · files: users.csv, loans.csv · locked: no · odd key: 1"
        );
        assert_eq!(
            audit_detail(Lang::Vi, stored),
            "tên thiết bị: Máy của Lan · số lần sai: 3 · tệp: users.csv, loans.csv · bị khóa: không · odd key: 1"
        );
        assert_eq!(audit_detail(Lang::Vi, r#""một dòng""#), "một dòng");
        assert_eq!(
            audit_detail(
                Lang::Vi,
                r#"{"amount":1500000,"method":"cash","direction":"paid_in","kind":"capital_receipt"}"#
            ),
            "số tiền: 1.500.000 ₫ · chiều: nộp vào quỹ · loại: Nhận vốn cho vay · cách trả: tiền mặt"
        );
        assert_eq!(audit_detail(Lang::Vi, "not json"), "not json");
        assert_eq!(
            audit_detail(
                Lang::Vi,
                r#"{"statement":3,"booked_on":"2026-12-01","outcome":{"approved":2,"cash_expected":"150000"}}"#
            ),
            "ngày ngân hàng ghi: 01/12/2026 · kết quả: (được duyệt: 2, phải nộp: 150.000 ₫) · sao kê: 3"
        );
        assert_eq!(
            audit_detail(
                Lang::Vi,
                r#"{"what":"gift package(s)","report":{"allocations":{"created":0,"unchanged":5,"updated":2}},"excluded":[{"reason":"Sai","record_id":"r1"},{"reason":"Trùng","record_id":"r2"}]}"#
            ),
            "bị loại: (lý do: Sai, bản ghi: r1); (lý do: Trùng, bản ghi: r2) · báo cáo: (phân bổ: (tạo mới: 0, không đổi: 5, cập nhật: 2)) · việc: suất quà"
        );
    }

    #[test]
    fn days_start_at_midnight_in_vietnam() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        assert_eq!(day_start(d).to_rfc3339(), "2026-02-28T17:00:00+00:00");
    }

    /// Every action the server writes to the audit log (`.audit("…"` or
    /// `action: "…"` in its source) has a name in both languages.
    #[test]
    fn every_audited_action_has_a_name() {
        fn sources(dir: &std::path::Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    sources(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    out.push(std::fs::read_to_string(&p).unwrap());
                }
            }
        }
        let mut texts = Vec::new();
        sources(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut texts,
        );
        let mut actions = std::collections::BTreeSet::new();
        for t in &texts {
            for marker in [".audit(\"", "action: \""] {
                for (at, _) in t.match_indices(marker) {
                    let rest = &t[at + marker.len()..];
                    let name = &rest[..rest.find('"').unwrap()];
                    if !name.is_empty()
                        && name
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.')
                    {
                        actions.insert(name.to_string());
                    }
                }
            }
        }
        assert!(actions.len() > 20, "{actions:?}");
        for a in &actions {
            for lang in [Lang::Vi, Lang::En] {
                assert_ne!(
                    action_label(lang, a),
                    a,
                    "no name for the audited action {a}"
                );
            }
        }
    }

    #[test]
    fn uploaded_names_lose_their_folders() {
        assert_eq!(
            file_name(Some("C:\\Users\\a\\workers.csv"), None),
            "workers.csv"
        );
        assert_eq!(file_name(Some("/tmp/x/loans.csv"), None), "loans.csv");
        assert_eq!(file_name(None, Some(ImportKind::Workers)), "workers.csv");
    }
}
