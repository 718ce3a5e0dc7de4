//! Home: who is signed in, their branch, a few figures of what they see,
//! and the latest repayments taken at the counter.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use maud::html;
use sotay_core::domain::time::local_date;

use super::session::{Signed, Staff};
use super::view::{self, clock, datetime, role_label, table_wrap, vnd, Nav};
use crate::app::AppState;
use crate::error::AppError;
use crate::import::rows::Role;

/// Counter repayments the home page lists, at most.
const RECENT_COUNTER: i64 = 20;

/// Refused records the home page counts, at most ("100+" beyond).
const WAITING_MOST: i64 = 100;

pub async fn page(State(state): State<AppState>, Staff(signed): Staff) -> Response {
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
    let cashier = s.user.role == Role::Cashier;
    let branch = (!admin).then(|| s.user.branch_id.unwrap_or(-1));
    let branches = db.branches(branch).await?;
    let workers = db.count_workers(scope).await?;
    let overdue = db.overdue_loans(scope, local_date(Utc::now())).await?;
    // A cashier does not manage devices.
    let active_devices = if cashier {
        None
    } else {
        let devices = db.devices(branch, s.user.id).await?;
        Some(devices.iter().filter(|d| d.revoked_at.is_none()).count())
    };
    let counter = db.counter_lines(branch, None, RECENT_COUNTER).await?;
    // What waits for a supervisor or an admin (a cashier decides none).
    let waiting = if cashier {
        None
    } else {
        Some(db.waiting(branch, s.user.id, WAITING_MOST + 1).await?)
    };

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
        @if let Some(w) = waiting {
            section.figures #waiting aria-label=(lang.t("Việc đang chờ", "Waiting")) {
                a.figure.warn[w.batches > 0] href="/batches" #waiting-batches {
                    span.number { (view::count(w.batches)) }
                    span.label { (lang.t("lô chờ duyệt", "batches to review")) }
                }
                a.figure.warn[w.refused > 0] href="/batches#refused-repayments" #waiting-refused {
                    span.number {
                        @if w.refused > WAITING_MOST { (view::count(WAITING_MOST)) "+" } @else { (view::count(w.refused)) }
                    }
                    span.label { (lang.t("khoản bị từ chối chưa xử lý", "refused, not settled")) }
                    @if w.refused_cash > 0 {
                        span.label #waiting-refused-cash {
                            (lang.pick(
                                format!("{}{} tiền mặt cán bộ còn giữ", view::vnd(w.refused_cash), if w.refused > WAITING_MOST { "+" } else { "" }),
                                format!("{}{} cash officers still hold", view::vnd(w.refused_cash), if w.refused > WAITING_MOST { "+" } else { "" }),
                            ))
                        }
                    }
                }
                a.figure.warn[w.reversals > w.reversals_own] href="/reversals" #waiting-reversals {
                    span.number { (view::count(w.reversals)) }
                    span.label { (lang.t("đề nghị đảo chờ duyệt", "reversals to decide")) }
                    @if w.reversals_own > 0 {
                        span.label #waiting-reversals-own { (lang.pick(
                            format!("{} do bạn đề nghị: người khác duyệt", view::count(w.reversals_own)),
                            format!("{} asked by you: someone else decides", view::count(w.reversals_own)),
                        )) }
                    }
                }
                a.figure.warn[w.disbursements > 0] href="/disbursements" #waiting-disbursements {
                    span.number { (view::count(w.disbursements)) }
                    span.label { (lang.t("khoản giải ngân chờ duyệt", "payouts to decide")) }
                }
            }
        }
        section.figures aria-label=(lang.t("Số liệu", "Figures")) {
            a.figure href="/workers" {
                span.number { (view::count(workers)) }
                span.label { (lang.t("người lao động", "workers")) }
            }
            @if cashier {
                div.figure.warn[overdue > 0] {
                    span.number { (view::count(overdue)) }
                    span.label { (lang.t("khoản vay có kỳ quá hạn", "loans with overdue installments")) }
                }
            } @else {
                a.figure.warn[overdue > 0] href="/reports/overdue-loans" #overdue-loans {
                    span.number { (view::count(overdue)) }
                    span.label { (lang.t("khoản vay có kỳ quá hạn", "loans with overdue installments")) }
                }
            }
            @if let Some(n) = active_devices {
                a.figure href="/devices" {
                    span.number { (view::count(n as i64)) }
                    span.label { (lang.t("thiết bị đang hoạt động", "active devices")) }
                }
            }
        }
        section.card {
            h2 { (lang.t("Tìm người lao động", "Find a worker")) }
            @if cashier {
                p { (lang.t(
                    "Để thu nợ tại quầy: tìm người lao động, mở khoản vay của họ và ghi khoản thu ở đó.",
                    "To take a repayment at the counter: find the worker, open their loan and take it there."
                )) }
            }
            (super::people::search_form(lang, ""))
        }
        section.card #counter-recent {
            h2 { (lang.t("Thu nợ tại quầy gần đây", "Latest repayments at the counter")) }
            @if counter.is_empty() {
                (view::empty(lang.t("Chưa có khoản thu nào tại quầy.", "No repayment taken at the counter yet.")))
            } @else {
                (table_wrap(html! {
                    table.list {
                        thead { tr {
                            th { (lang.t("Phiếu thu", "Receipt")) }
                            th { (lang.t("Thời điểm", "Taken at")) }
                            th { (lang.t("Người vay", "Borrower")) }
                            th { (lang.t("Khoản vay", "Loan")) }
                            th.num { (lang.t("Số tiền", "Amount")) }
                            th { (lang.t("Người thu", "Taken by")) }
                        } }
                        tbody {
                            @for k in &counter {
                                tr {
                                    td.nowrap { a href=(format!("/counter/{}", k.id)) { (k.receipt_no) }
                                        @if k.reversed { " " span.badge.muted { (lang.t("Đã đảo bút toán", "Reversed")) } } }
                                    td.nowrap { (datetime(k.recorded_at)) }
                                    td { (k.worker_name) }
                                    td.nowrap { a href=(format!("/loans/{}", k.loan_id)) { (k.loan_code) } }
                                    td.num.nowrap { (vnd(k.amount)) }
                                    td { (k.recorded_by) }
                                }
                            }
                        }
                    }
                }))
            }
        }
    };
    Ok(ui
        .page(lang.t("Trang chủ", "Home"), Nav::Home, body)
        .into_response())
}
