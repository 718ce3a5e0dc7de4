//! The page shell (header, navigation, language switch, sign-out) and the
//! formatting every page shares: money `1.500.000 ₫`, dates `dd/mm/yyyy`,
//! times 24 h in Vietnam.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use maud::{html, Markup, DOCTYPE};
use sotay_core::domain::{ids, money, time};

use super::i18n::Lang;
use super::static_files;
use crate::error::AppError;
use crate::import::rows::Role;

/// Who is signed in, as the shell shows them.
#[derive(Debug, Clone)]
pub struct Who {
    pub full_name: String,
    pub username: String,
    pub role: Role,
    pub csrf: String,
}

/// What every page needs to draw its shell.
#[derive(Debug, Clone)]
pub struct Ui {
    pub lang: Lang,
    /// The path and query of this page (for the language links).
    pub here: String,
    pub who: Option<Who>,
}

/// The sections of the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Home,
    Workers,
    Batches,
    Reversals,
    Disbursements,
    Bank,
    VaultCounts,
    Ledger,
    Reports,
    Devices,
    Users,
    Imports,
    Stock,
    Audit,
    None,
}

struct NavItem {
    nav: Nav,
    href: &'static str,
    vi: &'static str,
    en: &'static str,
    admin_only: bool,
    /// Shown to a branch cashier too.
    cashier: bool,
}

impl NavItem {
    /// Its name in the menu: the ledger is, to a cashier, where officers'
    /// cash short or over is settled.
    fn label(&self, role: Role) -> (&'static str, &'static str) {
        match (self.nav, role) {
            (Nav::Ledger, Role::Cashier) => ("Thừa/thiếu quỹ", "Cash short/over"),
            _ => (self.vi, self.en),
        }
    }

    fn shown_to(&self, role: Role) -> bool {
        match role {
            Role::Admin => true,
            Role::Cashier => self.cashier,
            _ => !self.admin_only,
        }
    }
}

/// The navigation, in order. The reports take their place after the batch
/// review, before the administration.
const NAV: &[NavItem] = &[
    NavItem {
        nav: Nav::Home,
        href: "/",
        vi: "Trang chủ",
        en: "Home",
        admin_only: false,
        cashier: true,
    },
    NavItem {
        nav: Nav::Workers,
        href: "/workers",
        vi: "Người lao động",
        en: "Workers",
        admin_only: false,
        cashier: true,
    },
    NavItem {
        nav: Nav::Batches,
        href: "/batches",
        vi: "Lô chờ duyệt",
        en: "Batch review",
        admin_only: false,
        cashier: false,
    },
    NavItem {
        nav: Nav::Reversals,
        href: "/reversals",
        vi: "Đảo bút toán",
        en: "Reversals",
        admin_only: false,
        cashier: false,
    },
    NavItem {
        nav: Nav::Disbursements,
        href: "/disbursements",
        vi: "Giải ngân",
        en: "Disbursements",
        admin_only: false,
        cashier: false,
    },
    NavItem {
        nav: Nav::Bank,
        href: "/bank-moves",
        vi: "Ngân hàng",
        en: "Bank",
        admin_only: false,
        cashier: true,
    },
    NavItem {
        nav: Nav::VaultCounts,
        href: "/vault-counts",
        vi: "Kiểm kê quỹ",
        en: "Vault count",
        admin_only: false,
        cashier: true,
    },
    NavItem {
        nav: Nav::Ledger,
        href: "/ledger",
        vi: "Sổ cái",
        en: "Ledger",
        admin_only: false,
        // Only the officers' cash short or over, named so (see `label`).
        cashier: true,
    },
    NavItem {
        nav: Nav::Reports,
        href: "/reports",
        vi: "Báo cáo",
        en: "Reports",
        admin_only: false,
        cashier: true,
    },
    NavItem {
        nav: Nav::Devices,
        href: "/devices",
        vi: "Thiết bị",
        en: "Devices",
        admin_only: false,
        cashier: false,
    },
    NavItem {
        nav: Nav::Users,
        href: "/users",
        vi: "Người dùng",
        en: "Users",
        admin_only: true,
        cashier: false,
    },
    NavItem {
        nav: Nav::Imports,
        href: "/imports",
        vi: "Nhập dữ liệu",
        en: "Imports",
        admin_only: true,
        cashier: false,
    },
    NavItem {
        nav: Nav::Stock,
        href: "/stock",
        vi: "Kho quà",
        en: "Gift stock",
        admin_only: true,
        cashier: false,
    },
    NavItem {
        nav: Nav::Audit,
        href: "/audit",
        vi: "Nhật ký",
        en: "Audit log",
        admin_only: true,
        cashier: false,
    },
];

impl Ui {
    pub fn t<'a>(&self, vi: &'a str, en: &'a str) -> &'a str {
        self.lang.t(vi, en)
    }

    /// This page in the other language. A path a browser would read as
    /// another site (`//host/…`, or with a backslash) links to the home
    /// page instead: an unknown address is answered with a page too.
    fn lang_link(&self, lang: Lang) -> String {
        let (path, query) = self.here.split_once('?').unwrap_or((&self.here, ""));
        let path = if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') {
            path
        } else {
            "/"
        };
        let mut parts: Vec<&str> = query
            .split('&')
            .filter(|kv| !kv.is_empty() && !kv.starts_with("lang="))
            .collect();
        let l = format!("lang={}", lang.code());
        parts.push(&l);
        format!("{path}?{}", parts.join("&"))
    }

    /// A whole page.
    pub fn page(&self, title: &str, nav: Nav, body: Markup) -> Markup {
        let lang = self.lang;
        html! {
            (DOCTYPE)
            html lang=(lang.code()) {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " · Sổ Tay" }
                    link rel="stylesheet" href=(static_files::css_url());
                    // The brand's colour as the tab's icon, inline: no
                    // request for a /favicon.ico that is not there.
                    link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='3' fill='%230d5c63'/%3E%3C/svg%3E";
                    script src=(static_files::js_url()) defer {}
                }
                body {
                    header.top {
                        a.brand href="/" { "Sổ Tay" }
                        @if let Some(who) = &self.who {
                            nav.main aria-label=(self.t("Điều hướng", "Navigation")) {
                                @for item in NAV.iter().filter(|i| i.shown_to(who.role)) {
                                    a href=(item.href) aria-current=[(item.nav == nav).then_some("page")] {
                                        @let (vi, en) = item.label(who.role);
                                        (lang.t(vi, en))
                                    }
                                }
                            }
                        }
                        div.tools {
                            span.langs {
                                @if lang == Lang::Vi {
                                    strong { "Tiếng Việt" }
                                    a href=(self.lang_link(Lang::En)) hreflang="en" lang="en" { "English" }
                                } @else {
                                    a href=(self.lang_link(Lang::Vi)) hreflang="vi" lang="vi" { "Tiếng Việt" }
                                    strong { "English" }
                                }
                            }
                            @if let Some(who) = &self.who {
                                span.me title=(who.username) {
                                    span.name { (who.full_name) }
                                    " · " (role_label(lang, who.role))
                                }
                                form.logout method="post" action="/logout" {
                                    input type="hidden" name="csrf" value=(who.csrf);
                                    button.link type="submit" { (self.t("Đăng xuất", "Sign out")) }
                                }
                            }
                        }
                    }
                    main { (body) }
                    footer { (self.t("Sổ Tay — quỹ trợ vốn công nhân lao động", "Sổ Tay — workers' microfinance fund")) }
                }
            }
        }
    }

    /// A page that says something went wrong and what to do.
    pub fn error(&self, status: StatusCode, title: &str, message: &str) -> Response {
        let body = html! {
            h1 { (title) }
            p.notice.error role="alert" { (message) }
            p { a href="/" { (self.t("Về trang chủ", "Back to the home page")) } }
        };
        (status, self.page(title, Nav::None, body)).into_response()
    }

    /// An [`AppError`] as a page, in this page's language.
    pub fn app_error(&self, e: AppError) -> Response {
        if e.status.is_server_error() {
            tracing::error!(
                code = e.code,
                internal = e.internal.as_deref().unwrap_or(""),
                "console request failed"
            );
        }
        let title = if e.status == StatusCode::NOT_FOUND {
            self.t("Không tìm thấy", "Not found")
        } else if e.status.is_server_error() {
            self.t("Lỗi máy chủ", "Server error")
        } else if e.status == StatusCode::FORBIDDEN {
            self.t("Không có quyền", "Not allowed")
        } else {
            self.t("Không thực hiện được", "Could not be done")
        };
        self.error(e.status, title, &self.message(&e))
    }

    /// The message of an error in this page's language.
    /// An error's message in the reader's language, as a sentence on a
    /// page: its first letter a capital (the API's English details start
    /// in lower case, as error texts do).
    pub fn message(&self, e: &AppError) -> String {
        let text = self.lang.t(&e.message_vi, &e.message_en);
        let mut chars = text.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => String::new(),
        }
    }
}

/// An address that is no page of the console (nor of the API): a page that
/// says so, in the reader's language, rather than the API's JSON.
pub fn unknown_page(parts: &axum::http::request::Parts) -> Response {
    refusal_page(
        parts,
        AppError::new(
            StatusCode::NOT_FOUND,
            "no_such_page",
            "Không có trang này: kiểm tra lại địa chỉ, hoặc về trang chủ để chọn trang cần dùng",
            "there is no such page: check the address, or go to the home page and pick the page you need",
        ),
    )
}

/// An extractor's refusal as a page in the reader's language (read before
/// the session is).
fn refusal_page(parts: &axum::http::request::Parts, e: AppError) -> Response {
    let ui = Ui {
        lang: Lang::of(parts),
        here: parts.uri.path().to_string(),
        who: None,
    };
    ui.app_error(e)
}

/// A query string extractor whose refusal is a page in the reader's
/// language that names the parameter (not axum's plain-text 400).
#[derive(Debug, Clone, Copy, Default)]
pub struct UrlQuery<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for UrlQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Response> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| UrlQuery(v))
            .map_err(|r| {
                let e = crate::error::invalid_query_in(&r, parts.uri.query());
                refusal_page(parts, e)
            })
    }
}

/// A path extractor whose refusal (an id that does not read) is the
/// "not found" page in the reader's language.
#[derive(Debug, Clone, Copy, Default)]
pub struct UrlPath<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for UrlPath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Response> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| UrlPath(v))
            .map_err(|r| refusal_page(parts, crate::error::path_rejected(&r)))
    }
}

pub fn role_label(lang: Lang, role: Role) -> &'static str {
    match role {
        Role::Admin => lang.t("Quản trị viên", "Administrator"),
        Role::Supervisor => lang.t("Giám sát chi nhánh", "Branch supervisor"),
        Role::Cashier => lang.t("Thủ quỹ chi nhánh", "Branch cashier"),
        Role::Officer => lang.t("Cán bộ tín dụng", "Field officer"),
    }
}

/// `1.500.000 ₫`
pub fn vnd(amount: i64) -> String {
    money::format_vnd(amount)
}

/// A count grouped like money: `1.234`.
pub fn count(n: i64) -> String {
    money::group_thousands(n)
}

/// `dd/mm/yyyy`
pub fn date(d: NaiveDate) -> String {
    time::format_date(d)
}

/// `dd/mm/yyyy HH:MM`, Vietnam time.
pub fn datetime(at: DateTime<Utc>) -> String {
    time::format_datetime(at)
}

/// `HH:MM`, Vietnam time.
pub fn clock(at: DateTime<Utc>) -> String {
    at.with_timezone(&time::vn_offset())
        .format("%H:%M")
        .to_string()
}

/// A stored phone number as people write it.
pub fn phone(p: Option<&str>) -> String {
    p.map(ids::format_phone).unwrap_or_default()
}

/// A yearly rate in basis points: `1250` → `12,5%` (vi) or `12.5%` (en).
pub fn rate(lang: Lang, bp: i64) -> String {
    let whole = bp / 100;
    let frac = bp % 100;
    let sep = lang.t(",", ".");
    if frac == 0 {
        format!("{whole}%")
    } else if frac % 10 == 0 {
        format!("{whole}{sep}{}%", frac / 10)
    } else {
        format!("{whole}{sep}{frac:02}%")
    }
}

pub fn frequency(lang: Lang, f: &str) -> String {
    match f {
        "weekly" => lang.t("Hằng tuần", "Weekly"),
        "biweekly" => lang.t("Hai tuần một lần", "Every two weeks"),
        "monthly" => lang.t("Hằng tháng", "Monthly"),
        other => other,
    }
    .to_string()
}

pub fn method(lang: Lang, m: &str) -> String {
    match m {
        "flat" => lang.t(
            "Lãi tính trên vốn gốc ban đầu",
            "Flat (on the original principal)",
        ),
        "declining" => lang.t("Lãi tính trên dư nợ giảm dần", "Declining balance"),
        other => other,
    }
    .to_string()
}

pub fn loan_status(lang: Lang, s: &str) -> Markup {
    match s {
        "active" => html! { span.badge.ok { (lang.t("Đang vay", "Active")) } },
        "closed" => html! { span.badge { (lang.t("Đã tất toán", "Closed")) } },
        "cancelled" => html! { span.badge.warn { (lang.t("Đã hủy giải ngân", "Taken back")) } },
        other => html! { span.badge { (other) } },
    }
}

pub fn yes_no(lang: Lang, v: bool) -> &'static str {
    if v {
        lang.t("Có", "Yes")
    } else {
        lang.t("Không", "No")
    }
}

/// A hidden anti-forgery field for a form.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// A table that scrolls sideways on narrow screens.
pub fn table_wrap(inner: Markup) -> Markup {
    html! { div.table-wrap { (inner) } }
}

/// Text cut to `max` characters, with an ellipsis.
pub fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max).collect();
        out.push('…');
        out
    }
}

/// A link built from a path and query pairs (values percent-encoded).
pub fn link(path: &str, pairs: &[(&str, String)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// An empty-state message.
pub fn empty(text: &str) -> Markup {
    html! { p.empty { (text) } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(vnd(1_500_000), "1.500.000 ₫");
        assert_eq!(rate(Lang::Vi, 1250), "12,5%");
        assert_eq!(rate(Lang::En, 1250), "12.5%");
        assert_eq!(rate(Lang::Vi, 1200), "12%");
        assert_eq!(rate(Lang::Vi, 1205), "12,05%");
        assert_eq!(phone(Some("0912345678")), "0912 345 678");
        assert_eq!(
            link(
                "/workers",
                &[("q", "Đặng Hùng".into()), ("page", String::new())]
            ),
            "/workers?q=%C4%90%E1%BA%B7ng%20H%C3%B9ng"
        );
        assert_eq!(cut("abcdef", 3), "abc…");
    }

    #[test]
    fn language_links_keep_the_query() {
        let ui = Ui {
            lang: Lang::Vi,
            here: "/workers?q=lan&lang=vi".into(),
            who: None,
        };
        assert_eq!(ui.lang_link(Lang::En), "/workers?q=lan&lang=en");
        let ui = Ui {
            lang: Lang::Vi,
            here: "/".into(),
            who: None,
        };
        assert_eq!(ui.lang_link(Lang::En), "/?lang=en");
        for elsewhere in ["//evil.example/login", "/\\evil.example", "evil.example"] {
            let ui = Ui {
                lang: Lang::Vi,
                here: format!("{elsewhere}?x=1"),
                who: None,
            };
            assert_eq!(ui.lang_link(Lang::En), "/?x=1&lang=en", "{elsewhere}");
        }
    }
}
