//! Home: who is signed in, their branch, a few figures of what they see.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use maud::html;
use sotay_core::domain::time::local_date;

use super::session::Signed;
use super::view::{self, clock, datetime, role_label, Nav};
use crate::app::AppState;
use crate::error::AppError;
use crate::import::rows::Role;

pub async fn page(State(state): State<AppState>, signed: Signed) -> Response {
    match render(&state, &signed).await {
        Ok(r) => r,
        Err(e) => signed.ui().app_error(e),
    }
}

async fn render(state: &AppState, s: &Signed) -> Result<Response, AppError> {
    let ui = s.ui();
    let lang = s.lang;
    let db = &state.db;
    let scope = s.user.scope();
    let admin = s.user.role == Role::Admin;
    let branches = db
        .branches(if admin {
            None
        } else {
            Some(s.user.branch_id.unwrap_or(-1))
        })
        .await?;
    let workers = db.count_workers(scope).await?;
    let overdue = db.overdue_loans(scope, local_date(Utc::now())).await?;
    let devices = db
        .devices(if admin {
            None
        } else {
            Some(s.user.branch_id.unwrap_or(-1))
        })
        .await?;
    let active_devices = devices.iter().filter(|d| d.revoked_at.is_none()).count();

    let body = html! {
        h1 { (lang.t("Xin chào, ", "Hello, ")) (s.full_name) }
        div.cards {
            section.card #me {
                h2 { (lang.t("Tài khoản", "Account")) }
                dl {
                    dt { (lang.t("Tên đăng nhập", "Username")) } dd { (s.user.username) }
                    dt { (lang.t("Vai trò", "Role")) } dd { (role_label(lang, s.user.role)) }
                    dt { (lang.t("Đăng nhập lúc", "Signed in at")) } dd { (datetime(s.signed_in_at)) }
                    dt { (lang.t("Phiên kết thúc lúc", "Session ends at")) }
                    dd { (clock(s.ends_at)) " " small { (lang.t("(nếu không thao tác gì thêm)", "(if nothing more is done)")) } }
                }
            }
            section.card #branch {
                @if admin {
                    h2 { (lang.t("Phạm vi", "Scope")) }
                    p { (lang.t("Toàn quỹ — mọi chi nhánh", "The whole fund — every branch")) }
                    ul.plain {
                        @for b in &branches {
                            li { strong { (b.name) } " · " (b.industrial_zone) }
                        }
                    }
                } @else {
                    h2 { (lang.t("Chi nhánh của tôi", "My branch")) }
                    @if let Some(b) = branches.first() {
                        dl {
                            dt { (lang.t("Chi nhánh", "Branch")) } dd { strong { (b.name) } " (" (b.code) ")" }
                            dt { (lang.t("Khu công nghiệp", "Industrial zone")) } dd { (b.industrial_zone) }
                            dt { (lang.t("Quận/huyện", "District")) } dd { (b.district) }
                            dt { (lang.t("Địa chỉ", "Address")) } dd { (b.address) }
                        }
                    } @else {
                        (view::empty(lang.t(
                            "Tài khoản này chưa được gán chi nhánh; hãy báo quản trị viên.",
                            "This account has no branch yet; tell your administrator."
                        )))
                    }
                }
            }
        }
        section.figures aria-label=(lang.t("Số liệu", "Figures")) {
            a.figure href="/workers" {
                span.number { (view::count(workers)) }
                span.label { (lang.t("người lao động", "workers")) }
            }
            div.figure.warn[overdue > 0] {
                span.number { (view::count(overdue)) }
                span.label { (lang.t("khoản vay có kỳ quá hạn", "loans with overdue installments")) }
            }
            a.figure href="/devices" {
                span.number { (view::count(active_devices as i64)) }
                span.label { (lang.t("thiết bị đang hoạt động", "active devices")) }
            }
        }
        section.card {
            h2 { (lang.t("Tìm người lao động", "Find a worker")) }
            (super::people::search_form(lang, ""))
        }
    };
    Ok(ui
        .page(lang.t("Trang chủ", "Home"), Nav::Home, body)
        .into_response())
}
