//! Workers and loans: the accent-insensitive search, a worker's page with
//! their loans, a loan's schedule and its repayments at the counter (the
//! form a cashier or supervisor takes them with, through
//! `Db::counter_repayment` as the API does). Scoped like the API: a
//! supervisor or cashier sees their branch, an admin the fund; anything
//! else is "not found".

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{NaiveDate, Utc};
use maud::{html, Markup};
use serde::Deserialize;
use sotay_core::domain::money::{parse_typed_amount, vnd_in_words, AmountRule};
use sotay_core::domain::time::local_date;
use uuid::Uuid;

use super::i18n::Lang;
use super::reversals;
use super::session::{Signed, Staff};
use super::view::UrlPath;
use super::view::UrlQuery;
use super::view::{self, csrf_field, date, datetime, phone, table_wrap, vnd, Nav};
use crate::api::disburse::transfer_ref;
use crate::api::master::search_workers;
use crate::api::review::{branch_of, counter_clerk, reviewer, NOTE_CHARS};
use crate::api::ClientIp;
use crate::app::AppState;
use crate::db::{CounterPayment, InstallmentView, PayMethod};
use crate::error::AppError;
use crate::import::rows::Role;
use crate::ledger::EntryKind;

/// Workers per page of results.
const PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WorkersQuery {
    q: String,
    page: String,
}

/// The search box (also on the home page).
pub fn search_form(lang: Lang, q: &str) -> Markup {
    html! {
        form.search method="get" action="/workers" role="search" {
            label.visually-hidden for="q" { (lang.t("Tìm người lao động", "Find a worker")) }
            input #q type="search" name="q" value=(q) autocomplete="off"
                placeholder=(lang.t("Họ tên, số điện thoại hoặc CCCD — ví dụ: nguyen thi lan",
                                    "Name, phone or CCCD — e.g. nguyen thi lan"));
            button.primary type="submit" { (lang.t("Tìm", "Search")) }
        }
        p.hint { (lang.t(
            "Gõ có dấu hay không dấu đều được (Đặng = dang); số điện thoại viết kiểu nào cũng được (0912 345 678, +84 912 345 678).",
            "With or without Vietnamese accents (Đặng = dang); phone numbers in any format (0912 345 678, +84 912 345 678)."
        )) }
    }
}

/// `GET /workers?q=&page=`
pub async fn workers(
    State(state): State<AppState>,
    Staff(signed): Staff,
    UrlQuery(query): UrlQuery<WorkersQuery>,
) -> Response {
    let lang = signed.lang;
    let ui = signed.ui();
    let q = query.q.trim();
    // A loan's number (KV-000092) opens the loan, where the counter takes
    // its repayment.
    // Typed as written, in upper case, or another way (`kv000092`, `kv 92`).
    let code_like = !q.contains(char::is_whitespace)
        && q.chars().any(|c| c.is_ascii_digit())
        && q.chars().any(|c| c.is_alphabetic());
    let forms = sotay_core::domain::ids::code_forms(q);
    if code_like || !forms.is_empty() {
        let mut codes = vec![q.to_string(), q.to_uppercase()];
        codes.extend(forms);
        match state.db.loans_by_codes(signed.user.scope(), &codes).await {
            Ok(loans) if loans.len() == 1 => {
                return axum::response::Redirect::to(&format!("/loans/{}", loans[0].id))
                    .into_response()
            }
            Ok(_) => {}
            Err(e) => return ui.app_error(e.into()),
        }
    }
    let page = query.page.parse::<i64>().unwrap_or(1).max(1);
    let found =
        match search_workers(&state.db, signed.user.scope(), q, PAGE, (page - 1) * PAGE).await {
            Ok(f) => f,
            Err(e) => return ui.app_error(e),
        };
    let scope_name = if signed.user.role == Role::Admin {
        lang.t("toàn quỹ", "the whole fund")
    } else {
        lang.t("chi nhánh của bạn", "your branch")
    };
    let pages = (found.total + PAGE - 1) / PAGE;
    let body = html! {
        h1 { (lang.t("Người lao động", "Workers")) }
        (search_form(lang, q))
        @if found.items.is_empty() {
            @if q.is_empty() {
                (view::empty(&lang.pick(
                    format!("Chưa có người lao động nào trong {scope_name}. Quản trị viên nhập danh sách ở mục Nhập dữ liệu."),
                    format!("There are no workers in {scope_name} yet. An administrator imports them under Imports."),
                )))
            } @else if found.total > 0 {
                (view::empty(lang.t("Trang này không còn kết quả.", "No more results on this page.")))
                p { a #last-page href=(view::link("/workers", &[("q", q.to_string()), ("page", pages.to_string())])) {
                    (lang.pick(format!("← Về trang cuối ({pages})"), format!("← Back to the last page ({pages})")))
                } }
            } @else {
                (view::empty(&lang.pick(
                    format!("Không tìm thấy người lao động nào khớp với “{q}” trong {scope_name}. \
                             Thử gõ ít chữ hơn (chỉ tên, ví dụ “lan”), hoặc tìm theo số điện thoại hay CCCD."),
                    format!("No worker in {scope_name} matches “{q}”. Try fewer words (just the given name, \
                             e.g. “lan”), or search by phone number or CCCD."),
                )))
            }
        } @else {
            p.count #result-count {
                @if q.is_empty() {
                    (lang.pick(
                        format!("{} người lao động trong {scope_name}", view::count(found.total)),
                        format!("{} workers in {scope_name}", view::count(found.total)),
                    ))
                } @else {
                    (lang.pick(
                        format!("Tìm thấy {} người lao động khớp với “{q}”", view::count(found.total)),
                        format!("{} workers match “{q}”", view::count(found.total)),
                    ))
                }
            }
            (table_wrap(html! {
                table.list #workers {
                    thead { tr {
                        th { (lang.t("Họ và tên", "Full name")) }
                        th { (lang.t("Mã", "Code")) }
                        th { (lang.t("CCCD", "ID card (CCCD)")) }
                        th { (lang.t("Điện thoại", "Phone")) }
                        th { (lang.t("Nhà trọ · phòng", "Boarding house · room")) }
                        th { (lang.t("Cán bộ phụ trách", "Officer")) }
                    } }
                    tbody {
                        @for w in &found.items {
                            tr {
                                td { a href=(format!("/workers/{}", w.id)) { (w.full_name) }
                                    @if w.hardship { " " span.badge.warn title=(w.hardship_note) { (lang.t("Khó khăn", "Hardship")) } } }
                                td.mono { (w.code) }
                                td.mono { (w.cccd) }
                                td.nowrap { (phone(w.phone.as_deref())) }
                                td { (w.boarding_house_name.as_deref().unwrap_or("—")) @if !w.room.is_empty() { " · " (w.room) } }
                                td { (w.officer_name) }
                            }
                        }
                    }
                }
            }))
            @if pages > 1 {
                nav.pager aria-label=(lang.t("Trang", "Pages")) {
                    @if page > 1 {
                        a href=(view::link("/workers", &[("q", q.to_string()), ("page", (page - 1).to_string())])) rel="prev" {
                            "← " (lang.t("Trang trước", "Previous"))
                        }
                    }
                    span { (lang.pick(format!("Trang {page}/{pages}"), format!("Page {page} of {pages}"))) }
                    @if page < pages {
                        a href=(view::link("/workers", &[("q", q.to_string()), ("page", (page + 1).to_string())])) rel="next" {
                            (lang.t("Trang sau", "Next")) " →"
                        }
                    }
                }
            }
        }
    };
    ui.page(lang.t("Người lao động", "Workers"), Nav::Workers, body)
        .into_response()
}

fn gender(lang: Lang, g: Option<&str>) -> &str {
    match g {
        Some("nu") => lang.t("Nữ", "Female"),
        Some("nam") => lang.t("Nam", "Male"),
        Some(other) => other,
        None => "—",
    }
}

/// `GET /workers/{id}`
pub async fn worker(
    State(state): State<AppState>,
    Staff(signed): Staff,
    UrlPath(id): UrlPath<String>,
) -> Response {
    match render_worker(&state, &signed, &id).await {
        Ok(r) => r,
        Err(e) => signed.ui().app_error(e),
    }
}

fn worker_not_found() -> AppError {
    AppError::not_found("người lao động", "worker")
}

async fn render_worker(state: &AppState, s: &Signed, id: &str) -> Result<Response, AppError> {
    let lang = s.lang;
    let scope = s.user.scope();
    let id: i64 = id.parse().map_err(|_| worker_not_found())?;
    let w = state
        .db
        .worker(scope, id)
        .await?
        .ok_or_else(worker_not_found)?;
    let loans = state.db.loans(scope, Some(w.id), None, 500, 0).await?;
    let arrears = state
        .db
        .worker_arrears(w.id, local_date(Utc::now()))
        .await?;
    let dash = |s: &str| {
        if s.is_empty() {
            "—".to_string()
        } else {
            s.to_string()
        }
    };
    let body = html! {
        p.crumbs { a href="/workers" { "← " (lang.t("Người lao động", "Workers")) } }
        h1 { (w.full_name) " " small.mono { (w.code) } }
        // The reports are a supervisor's.
        @if s.user.role != Role::Cashier {
            p.actions {
                a.button #worker-statement href=(format!("/reports/worker-statement?worker_id={}", w.id)) {
                    (lang.t("Sao kê (khoản vay, phiếu thu, quà)", "Statement (loans, receipts, gifts)"))
                }
                " "
                (super::disbursements::worker_action(lang, w.id))
            }
        }
        div.cards {
            section.card {
                h2 { (lang.t("Thông tin", "Details")) }
                dl #worker-details {
                    dt { (lang.t("CCCD", "ID card (CCCD)")) } dd.mono { (w.cccd) }
                    dt { (lang.t("Điện thoại", "Phone")) } dd { (dash(&phone(w.phone.as_deref()))) }
                    dt { (lang.t("Ngày sinh", "Date of birth")) } dd { (w.date_of_birth.map(date).unwrap_or_else(|| "—".into())) }
                    dt { (lang.t("Giới tính", "Gender")) } dd { (gender(lang, w.gender.as_deref())) }
                    dt { (lang.t("Đoàn viên công đoàn", "Union member")) } dd { (view::yes_no(lang, w.union_member)) }
                    dt { (lang.t("Nơi làm việc", "Employer")) } dd { (dash(&w.employer)) }
                    dt { (lang.t("Khu công nghiệp", "Industrial zone")) } dd { (dash(&w.industrial_zone)) }
                }
            }
            section.card {
                h2 { (lang.t("Nơi ở và phụ trách", "Home and officer")) }
                dl {
                    dt { (lang.t("Nhà trọ", "Boarding house")) }
                    dd { (w.boarding_house_name.as_deref().unwrap_or("—"))
                         @if let Some(a) = &w.boarding_house_address { br; small { (a) } } }
                    dt { (lang.t("Phòng", "Room")) } dd { (dash(&w.room)) }
                    dt { (lang.t("Hoàn cảnh khó khăn", "Hardship")) }
                    dd { @if w.hardship { span.badge.warn { (lang.t("Có", "Yes")) } " " (w.hardship_note) } @else { (lang.t("Không", "No")) } }
                    dt { (lang.t("Cán bộ phụ trách", "Officer")) } dd { (w.officer_name) }
                }
            }
        }
        h2 { (lang.t("Khoản vay", "Loans")) }
        @if loans.is_empty() {
            (view::empty(lang.t("Người lao động này chưa có khoản vay nào.", "This worker has no loans.")))
        } @else {
            (table_wrap(html! {
                table.list #loans {
                    thead { tr {
                        th { (lang.t("Mã khoản vay", "Loan")) }
                        th { (lang.t("Sản phẩm", "Product")) }
                        th.num { (lang.t("Số tiền vay", "Principal")) }
                        th { (lang.t("Giải ngân", "Disbursed")) }
                        th.num { (lang.t("Dư nợ gốc", "Principal outstanding")) }
                        th.num { (lang.t("Lãi còn phải trả", "Interest outstanding")) }
                        th { (lang.t("Tình trạng", "Status")) }
                    } }
                    tbody {
                        @for l in &loans {
                            @let late = arrears.iter().find(|a| a.loan_id == l.id);
                            tr.overdue[late.is_some()] {
                                td { a.mono href=(format!("/loans/{}", l.id)) { (l.code) } }
                                td { (l.product_name) }
                                td.num { (vnd(l.principal)) }
                                td.nowrap { (date(l.disbursed_on)) }
                                td.num { (vnd(l.outstanding_principal)) }
                                td.num { (vnd(l.outstanding_interest)) }
                                td {
                                    (view::loan_status(lang, &l.status))
                                    @if let Some(a) = late {
                                        " " span.badge.danger { (lang.pick(
                                            format!("Quá hạn {} kỳ · {}", a.installments, vnd(a.amount)),
                                            format!("{} overdue · {}", a.installments, vnd(a.amount)),
                                        )) }
                                    }
                                }
                            }
                        }
                    }
                }
            }))
        }
    };
    Ok(s.ui()
        .page(&w.full_name, Nav::Workers, body)
        .into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoanQuery {
    /// The counter repayment just taken, to confirm it.
    receipt: String,
    /// The counter form filled in beforehand (from a bank statement's line
    /// not in the books): `cash` or `transfer`, the amount, the reference.
    method: String,
    amount: String,
    transfer_ref: String,
    /// Filled from the queue's list of refused records: the officer's
    /// refused repayment this cash is, and its receipt number.
    settles: String,
    settles_receipt: String,
}

/// The counter form as posted.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct CounterForm {
    csrf: String,
    /// Chosen when the form is drawn: sending the same form twice (a double
    /// click, a reload) takes the repayment once and shows the same receipt.
    client_id: String,
    amount: String,
    note: String,
    /// `cash` (the default) or `transfer`.
    method: String,
    transfer_ref: String,
    /// `1` when ticked: the amount pays the loan off, and the clerk knows.
    payoff: String,
    /// `1` when ticked: the loan took the same amount earlier today, and
    /// this is another payment.
    repeat: String,
    /// `1` once the server asked about a repeat: the tick stays offered.
    repeat_asked: String,
    /// The officer's refused repayment whose cash this is (its record id),
    /// when the form came from the queue's list of refused records.
    settles: String,
    /// Its receipt number, to say which one.
    settles_receipt: String,
}

/// The loan page's counter form: what was typed and why it was refused, or
/// the receipt just taken.
#[derive(Debug, Default)]
struct Counter {
    form: CounterForm,
    error: Option<String>,
    taken: Option<i64>,
}

/// `GET /loans/{id}`
pub async fn loan(
    State(state): State<AppState>,
    Staff(signed): Staff,
    UrlPath(id): UrlPath<String>,
    UrlQuery(q): UrlQuery<LoanQuery>,
) -> Response {
    let counter = Counter {
        taken: q.receipt.parse().ok(),
        form: CounterForm {
            method: q.method,
            // A link's plain digits, as people read them (`3.815.000`).
            amount: match q.amount.trim().parse::<i64>() {
                Ok(n) if n > 0 => sotay_core::domain::money::group_thousands(n),
                _ => q.amount,
            },
            transfer_ref: q.transfer_ref,
            settles: q.settles,
            settles_receipt: q.settles_receipt,
            ..CounterForm::default()
        },
        error: None,
    };
    match render_loan(&state, &signed, &id, counter, StatusCode::OK).await {
        Ok(r) => r,
        Err(e) => signed.ui().app_error(e),
    }
}

/// Journal entries a loan's page lists, at most.
const ENTRIES_SHOWN: i64 = 200;

/// `POST /loans/{id}/repayments`: a repayment at the counter, posted at
/// once; then the loan page with its receipt.
pub async fn take_repayment(
    State(state): State<AppState>,
    Staff(signed): Staff,
    ClientIp(ip): ClientIp,
    UrlPath(id): UrlPath<String>,
    Form(form): Form<CounterForm>,
) -> Response {
    if let Some(r) = signed.forgery(&form.csrf) {
        return r;
    }
    let lang = signed.lang;
    let who = match counter_clerk(&signed.user, ip) {
        Ok(w) => w,
        Err(e) => return signed.ui().app_error(e),
    };
    let Ok(loan_id) = id.parse::<i64>() else {
        return signed.ui().app_error(loan_not_found());
    };
    let again = |error: String, status: StatusCode, form: CounterForm| {
        let (state, signed, id) = (&state, &signed, &id);
        async move {
            let counter = Counter {
                form,
                error: Some(error),
                taken: None,
            };
            match render_loan(state, signed, id, counter, status).await {
                Ok(r) => r,
                Err(e) => signed.ui().app_error(e),
            }
        }
    };
    let label = lang.t("Số tiền thu", "Amount received");
    let amount = match parse_typed_amount(label, &form.amount, AmountRule::Positive) {
        Ok(a) => a.get(),
        Err(e) => {
            let m = lang.pick(e.message_vi(), e.message_en());
            return again(m, StatusCode::UNPROCESSABLE_ENTITY, form).await;
        }
    };
    let method = PayMethod::parse(form.method.trim()).unwrap_or_default();
    // The officer's refused repayment this cash settles: a supervisor's
    // word, and a record id, never silently dropped.
    let settles = match form.settles.trim() {
        "" => None,
        s => match Uuid::parse_str(s) {
            Ok(id) if signed.user.role != Role::Cashier => Some(id),
            Ok(_) => return signed.ui().app_error(AppError::forbidden_role()),
            Err(_) => {
                let m = lang.t(
                    "Bản ghi bị từ chối cần xử lý không đọc được; mở lại từ danh sách khoản bị từ chối",
                    "The refused record to settle cannot be read; open it again from the list of refused records",
                );
                let mut form = form;
                form.settles.clear();
                return again(m.to_string(), StatusCode::UNPROCESSABLE_ENTITY, form).await;
            }
        },
    };
    let reference = match transfer_ref(Some(&form.transfer_ref)) {
        Ok(r) => r,
        Err(e) => {
            let m = signed.ui().message(&e).to_string();
            return again(m, e.status, form).await;
        }
    };
    let pay = CounterPayment {
        client_id: Uuid::parse_str(form.client_id.trim()).unwrap_or_else(|_| Uuid::now_v7()),
        amount,
        note: form.note.trim().chars().take(NOTE_CHARS).collect(),
        method,
        transfer_ref: reference,
        confirm_payoff: form.payoff == "1",
        confirm_repeat: form.repeat == "1",
        settles,
    };
    match state.db.counter_repayment(&who, loan_id, &pay).await {
        Ok(r) => Redirect::to(&format!(
            "{}#receipt",
            view::link(
                &format!("/loans/{loan_id}"),
                &[("receipt", r.id.to_string())]
            )
        ))
        .into_response(),
        Err(e) => {
            let e = AppError::from(e);
            if e.status.is_server_error() || e.status == StatusCode::NOT_FOUND {
                return signed.ui().app_error(e);
            }
            let m = signed.ui().message(&e).to_string();
            let mut form = form;
            // Settled already (or not refused): taking the cash again would
            // fail the same way; the form goes back without the record.
            if matches!(e.code, "already_settled" | "not_refused_handover") {
                form.settles.clear();
            }
            // The form came back with a sent one's id (Back after sending
            // it): the next try is a repayment of its own.
            if e.code == "counter_conflict" {
                form.client_id.clear();
            }
            if e.code == "repeat_unconfirmed" {
                form.repeat_asked = "1".into();
            }
            again(m, e.status, form).await
        }
    }
}

/// `GET /counter/{id}`: a counter repayment's receipt (phiếu thu), to print
/// and hand to whoever paid.
pub async fn counter_receipt(
    State(state): State<AppState>,
    Staff(signed): Staff,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let ui = signed.ui();
    let lang = signed.lang;
    let not_found = || AppError::not_found("phiếu thu", "receipt");
    let who = match counter_clerk(&signed.user, None) {
        Ok(w) => w,
        Err(e) => return ui.app_error(e),
    };
    let slip = match id.parse::<i64>() {
        Ok(id) => state.db.counter_slip(branch_of(&who), id).await,
        Err(_) => return ui.app_error(not_found()),
    };
    let k = match slip {
        Ok(Some(k)) => k,
        Ok(None) => return ui.app_error(not_found()),
        Err(e) => return ui.app_error(e.into()),
    };
    let title = lang.pick(
        format!("Phiếu thu {}", k.receipt_no),
        format!("Receipt {}", k.receipt_no),
    );
    let reason = if k.note.is_empty() {
        format!("Trả nợ khoản vay {}", k.loan_code)
    } else {
        format!("Trả nợ khoản vay {} — {}", k.loan_code, k.note)
    };
    let body = html! {
        p.crumbs.no-print { a href=(format!("/loans/{}", k.loan_id)) { "← " (lang.t("Khoản vay", "Loan")) " " (k.loan_code) } }
        @if k.reversed {
            p.notice.error role="alert" #slip-reversed { (lang.t(
                "Khoản thu này đã được đảo bút toán: phiếu không còn giá trị.",
                "This repayment was reversed: the receipt is void."
            )) }
        }
        // A receipt is a Vietnamese document: it reads in Vietnamese
        // whatever the console's language.
        section.card.slip #slip lang="vi" {
            p.slip-head { strong { (k.branch_name) } br; (k.branch_address) }
            // A phiếu thu is a cash document; money that came by transfer
            // is acknowledged by a receipt of repayment.
            h1 { @if k.method == PayMethod::Transfer.as_str() { "BIÊN NHẬN TRẢ NỢ" } @else { "PHIẾU THU" } }
            p.slip-no { "Số: " strong #slip-no { (k.receipt_no) } " · Ngày " (datetime(k.recorded_at)) }
            dl {
                dt { "Họ tên người nộp tiền" } dd #slip-payer {
                    // The officer hands in the cash a worker paid them,
                    // on the officer's receipt refused.
                    @if let Some((officer, refused)) = &k.handed_in_by {
                        (officer) ", cán bộ tín dụng, nộp tiền người vay " (k.worker_name) " (" (k.worker_code) ") đã trả theo phiếu " (refused)
                    } @else {
                        (k.worker_name) " (" (k.worker_code) ")"
                    }
                }
                dt { "Lý do nộp" } dd { (reason) }
                dt { "Số tiền" } dd #slip-amount { strong { (vnd(k.amount)) } }
                dt { "Bằng chữ" } dd #slip-words { em { (vnd_in_words(k.amount)) } }
                dt { "Trong đó" } dd { "tiền gốc " (vnd(k.principal)) ", tiền lãi " (vnd(k.interest)) }
                dt { "Dư nợ gốc còn lại" } dd #slip-left { (vnd(k.principal_left)) }
                dt { "Hình thức" } dd #slip-method { @match k.transfer_ref.as_deref().filter(|_| k.method == PayMethod::Transfer.as_str()) {
                    Some(r) => { "Chuyển khoản vào tài khoản chi nhánh, mã giao dịch " (r) }
                    None => { "Tiền mặt" }
                } }
            }
            div.signatures {
                div { strong { "Người nộp tiền" } br; small { "(ký, ghi rõ họ tên)" } }
                div { strong { "Người thu tiền" } br; small { "(ký, ghi rõ họ tên)" } br; br; br; (k.recorded_by) }
            }
        }
        p.actions.no-print {
            button.primary type="button" data-print { (lang.t("In phiếu thu", "Print the receipt")) }
        }
    };
    (StatusCode::OK, ui.page(&title, Nav::Workers, body)).into_response()
}

/// How a counter repayment was paid: cash, or a transfer with its reference.
fn paid_by(lang: Lang, method: &str, reference: Option<&str>) -> Markup {
    match reference.filter(|_| method == PayMethod::Transfer.as_str()) {
        Some(r) => html! { (lang.t("Chuyển khoản", "Transfer")) " " small.mono { (r) } },
        None => html! { (lang.t("Tiền mặt", "Cash")) },
    }
}

fn loan_not_found() -> AppError {
    AppError::not_found("khoản vay", "loan")
}

/// Where an installment stands on `today`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallmentState {
    Paid,
    Overdue { days: i64 },
    DueToday,
    Partly,
    Upcoming,
}

pub fn installment_state(i: &InstallmentView, today: NaiveDate) -> InstallmentState {
    let due = i.principal_due + i.interest_due;
    let paid = i.principal_paid + i.interest_paid;
    if paid >= due {
        InstallmentState::Paid
    } else if i.due_on < today {
        InstallmentState::Overdue {
            days: (today - i.due_on).num_days(),
        }
    } else if i.due_on == today {
        InstallmentState::DueToday
    } else if paid > 0 {
        InstallmentState::Partly
    } else {
        InstallmentState::Upcoming
    }
}

fn state_badge(lang: Lang, st: InstallmentState) -> Markup {
    match st {
        InstallmentState::Paid => html! { span.badge.ok { (lang.t("Đã trả đủ", "Paid")) } },
        InstallmentState::Overdue { days } => html! { span.badge.danger { (lang.pick(
        format!("Quá hạn {days} ngày"), format!("Overdue {days} days"))) } },
        InstallmentState::DueToday => {
            html! { span.badge.warn { (lang.t("Đến hạn hôm nay", "Due today")) } }
        }
        InstallmentState::Partly => {
            html! { span.badge { (lang.t("Đã trả một phần", "Partly paid")) } }
        }
        InstallmentState::Upcoming => {
            html! { span.badge.muted { (lang.t("Chưa đến hạn", "Not yet due")) } }
        }
    }
}

async fn render_loan(
    state: &AppState,
    s: &Signed,
    id: &str,
    counter: Counter,
    status: StatusCode,
) -> Result<Response, AppError> {
    let lang = s.lang;
    let id: i64 = id.parse().map_err(|_| loan_not_found())?;
    let l = state
        .db
        .loan(s.user.scope(), id)
        .await?
        .ok_or_else(loan_not_found)?;
    let schedule = state.db.installments(l.id).await?;
    let taken_here = state.db.counter_lines(None, Some(l.id), 100).await?;
    // Cash officers took on it that no supervisor has decided on: the
    // counter cannot take it again.
    let pending = state.db.pending_collections(l.id).await?;
    let pending_total: i64 = pending.iter().map(|p| p.amount).sum();
    // The loan's journal and its reversals: a supervisor's or an admin's.
    let books = if s.user.role == Role::Cashier {
        None
    } else {
        let who = reviewer(&s.user, None)?;
        let entries = state
            .db
            .ledger_entries(branch_of(&who), Some(l.id), ENTRIES_SHOWN, 0)
            .await?;
        let asked: Vec<i64> = state
            .db
            .branch_reversals(branch_of(&who), true)
            .await?
            .into_iter()
            .filter(|r| r.loan_id == Some(l.id))
            .map(|r| r.entry_id)
            .collect();
        let settling = state.db.counter_entries_settling(l.id).await?;
        Some((entries, asked, settling))
    };
    let just = counter
        .taken
        .and_then(|id| taken_here.iter().find(|k| k.id == id));
    // Opened from a refused receipt's link: settled since (the link is old),
    // or its cash already taken at the counter under its receipt number.
    let mut counter = counter;
    let scope_branch = match s.user.scope() {
        crate::db::Scope::Fund => None,
        crate::db::Scope::Branch(b) => Some(b),
        crate::db::Scope::Officer(_) => Some(-1),
    };
    // Officers' receipts on this loan refused (at upload or at review) and
    // not settled: the worker paid that cash to an officer, who holds it.
    let held: Vec<(String, crate::db::RefusedRecord)> = {
        let (rows, names) = state.db.refused_on_loan(scope_branch, l.id).await?;
        rows.iter()
            .map(|r| {
                (
                    r.officer_name.clone(),
                    crate::review::refused_record(&r.record, &names),
                )
            })
            .collect()
    };
    // The receipt's number as its phone sent it, not as the link says. A
    // link's record that is not a record id names nothing: only an id goes
    // into the settle form's address.
    let settles_id = Uuid::parse_str(counter.form.settles.trim()).ok();
    if let Some(record) = settles_id {
        if let Some(n) = state.db.refused_receipt_no(record, scope_branch).await? {
            counter.form.settles_receipt = n;
        }
    }
    match settles_id {
        Some(record) => counter.form.settles = record.to_string(),
        None => {
            counter.form.settles.clear();
            counter.form.settles_receipt.clear();
        }
    }
    let settles_receipt = counter.form.settles_receipt.trim().to_string();
    let settled_already = match Uuid::parse_str(counter.form.settles.trim()) {
        Ok(record) if counter.taken.is_none() => {
            state.db.refused_settled(record, scope_branch).await?
        }
        _ => None,
    };
    if settled_already.is_some() {
        // Nothing of it is to be taken: the form is left empty.
        counter.form.settles.clear();
        if counter.form.note.trim().is_empty() {
            counter.form.amount.clear();
        }
    }
    let taken_for_it = (!settles_receipt.is_empty() && counter.taken.is_none())
        .then(|| {
            taken_here
                .iter()
                .find(|k| !k.reversed && crate::db::note_names_receipt(&k.note, &settles_receipt))
        })
        .flatten();
    // An officer's receipt waiting for review for the same amount: maybe
    // the refused payment entered again (its batch rejected), whose cash
    // comes with that batch.
    let amount: Option<i64> = counter.form.amount.trim().replace('.', "").parse().ok();
    let refused = Uuid::parse_str(counter.form.settles.trim()).ok();
    let entered_again = match (amount, refused) {
        (Some(amount), Some(refused)) if counter.taken.is_none() => state
            .db
            .officer_receipts_of(l.id, amount, refused)
            .await?
            .into_iter()
            .find(|p| p.receipt_no.as_deref() != Some(settles_receipt.as_str())),
        _ => None,
    };
    // The loan owes less than the refused receipt took (paid at the counter
    // since, say): the counter takes what it owes, the rest goes back.
    let room = (l.outstanding_principal + l.outstanding_interest - pending_total).max(0);
    let part_of = match amount {
        Some(held)
            if pending_total == 0
                && settled_already.is_none()
                && refused.is_some()
                && counter.taken.is_none()
                && held > room =>
        {
            if counter.error.is_none() {
                counter.form.amount = sotay_core::domain::money::group_thousands(room);
            }
            Some(held)
        }
        _ => None,
    };
    // The note names the refused receipt, so the counter receipt says whose
    // cash it was, and the worker's copy which receipt it stands for (and
    // the batch with that payment entered again says so).
    if !settles_receipt.is_empty()
        && settled_already.is_none()
        && counter.taken.is_none()
        && counter.form.note.trim().is_empty()
    {
        counter.form.note = format!("Thay phiếu {settles_receipt} cán bộ đã thu");
    }
    let transfer = counter.form.method == PayMethod::Transfer.as_str();
    let client_id = if counter.form.client_id.trim().is_empty() {
        Uuid::now_v7().to_string()
    } else {
        counter.form.client_id.clone()
    };
    let today = local_date(Utc::now());
    let states: Vec<InstallmentState> = schedule
        .iter()
        .map(|i| installment_state(i, today))
        .collect();
    let overdue: Vec<&InstallmentView> = schedule
        .iter()
        .zip(&states)
        .filter(|(_, st)| matches!(st, InstallmentState::Overdue { .. }))
        .map(|(i, _)| i)
        .collect();
    let overdue_amount: i64 = overdue
        .iter()
        .map(|i| i.principal_due - i.principal_paid + i.interest_due - i.interest_paid)
        .sum();
    let sum = |f: fn(&InstallmentView) -> i64| schedule.iter().map(f).sum::<i64>();
    let (p_due, i_due) = (sum(|i| i.principal_due), sum(|i| i.interest_due));
    let paid = sum(|i| i.principal_paid + i.interest_paid);
    let outstanding = l.outstanding_principal + l.outstanding_interest;
    let title = lang.pick(format!("Khoản vay {}", l.code), format!("Loan {}", l.code));
    let body = html! {
        p.crumbs { a href=(format!("/workers/{}", l.worker_id)) { "← " (l.worker_name) } }
        h1 { (title) " " (view::loan_status(lang, &l.status))
            @if !overdue.is_empty() { " " span.badge.danger #overdue-badge { (lang.t("Có kỳ quá hạn", "Overdue")) } } }
        @if !overdue.is_empty() {
            p.notice.error {
                (lang.pick(
                    format!("{} kỳ quá hạn, còn nợ {} của các kỳ này.", overdue.len(), vnd(overdue_amount)),
                    format!("{} installments overdue, {} still unpaid on them.", overdue.len(), vnd(overdue_amount)),
                ))
            }
        }
        div.cards {
            section.card {
                h2 { (lang.t("Khoản vay", "Loan")) }
                dl {
                    dt { (lang.t("Người vay", "Borrower")) } dd { a href=(format!("/workers/{}", l.worker_id)) { (l.worker_name) } }
                    dt { (lang.t("Sản phẩm", "Product")) } dd { (l.product_name) }
                    dt { (lang.t("Số tiền vay", "Principal")) } dd { (vnd(l.principal)) }
                    dt { (lang.t("Lãi suất", "Interest rate")) } dd { (view::rate(lang, l.annual_rate_bp)) (lang.t("/năm", " a year")) }
                    dt { (lang.t("Cách tính lãi", "Interest method")) } dd { (view::method(lang, &l.method)) }
                    dt { (lang.t("Kỳ trả", "Installments")) } dd { (l.installments) " · " (view::frequency(lang, &l.frequency)) }
                    dt { (lang.t("Ngày giải ngân", "Disbursed on")) } dd { (date(l.disbursed_on)) }
                }
            }
            section.card #balance {
                h2 { (lang.t("Dư nợ", "Outstanding")) }
                dl {
                    dt { (lang.t("Gốc còn lại", "Principal")) } dd.num { (vnd(l.outstanding_principal)) }
                    dt { (lang.t("Lãi còn phải trả", "Interest")) } dd.num { (vnd(l.outstanding_interest)) }
                    dt { strong { (lang.t("Tổng còn phải trả", "Total outstanding")) } } dd.num #outstanding { strong { (vnd(outstanding)) } }
                    dt { (lang.t("Đã trả", "Paid so far")) } dd.num { (vnd(paid)) }
                    @if pending_total > 0 {
                        dt { (lang.t("Cán bộ đã thu, chờ duyệt", "Collected by officers, waiting for review")) }
                        dd.num #pending-collections { (vnd(pending_total)) }
                        dt { strong { (lang.t("Còn có thể thu tại quầy", "The counter may still take")) } }
                        dd.num #counter-room { strong { (vnd((outstanding - pending_total).max(0))) } }
                    }
                }
                @if !pending.is_empty() {
                    p.small #pending-heading { strong { (lang.t("Phiếu cán bộ đã thu, chờ duyệt:", "Officers' receipts waiting for review:")) } }
                    ul.plain.small #pending-list {
                        @for p in &pending {
                            li {
                                (vnd(p.amount)) " · " (p.officer_name) " · " (datetime(p.recorded_at))
                                @if let Some(r) = &p.receipt_no { " · " span.mono { (r) } }
                            }
                        }
                    }
                }
                @if !held.is_empty() {
                    div.notice.warn #refused-held {
                        p { (lang.t(
                            "Cán bộ đã ghi phiếu thu các khoản dưới đây trên khoản vay này nhưng bị từ chối, chưa xử lý: theo phiếu, người vay đã trả số tiền đó và cán bộ còn giữ (lý do từ chối có thể nói khác — hỏi cán bộ). Đừng thu lại của người vay;",
                            "Officers wrote receipts for the payments below on this loan but they were refused, not settled: by the receipt, the borrower paid that cash and the officer holds it (the reason for the refusal may say otherwise — ask the officer). Do not take it from the borrower again;",
                        )) " " (if s.user.role == Role::Cashier && l.status == "active" {
                            lang.t(
                                "nếu cán bộ mang số tiền đó tới nộp, thu như một khoản thu tại quầy, ghi số phiếu của cán bộ vào ghi chú, rồi báo giám sát chi nhánh.",
                                "if the officer brings that cash in, take it as a counter repayment with the officer's receipt number in the note, then tell the branch supervisor.",
                            )
                        } else if s.user.role == Role::Cashier {
                            lang.t("hãy báo giám sát chi nhánh.", "tell the branch supervisor.")
                        } else {
                            lang.t("thu tiền đó từ cán bộ tại quầy, hoặc đánh dấu đã xử lý ở danh sách khoản bị từ chối.", "take that cash from the officer at the counter, or mark it settled on the list of refused records.")
                        }) }
                        ul.plain.small {
                            @for (officer, r) in &held {
                                li {
                                    (vnd(r.amount.as_deref().and_then(|a| a.parse().ok()).unwrap_or(0))) " · " (officer) " · " (datetime(r.recorded_at))
                                    @if let Some(n) = &r.receipt_no { " · " span.mono { (n) } }
                                    " · " (lang.pick(r.message_vi.clone(), r.message_en.clone()))
                                    // An officer's receipt of the same amount waiting for
                                    // review, made after it: maybe this payment entered
                                    // again, whose cash comes with its batch.
                                    @let again = pending.iter().find(|p| {
                                        r.taken_at_counter.is_none()
                                            && Some(p.amount) == r.amount.as_deref().and_then(|a| a.parse().ok())
                                            && p.recorded_at > r.recorded_at
                                    });
                                    @if let Some(p) = again {
                                        " · " strong.entered-again { (lang.pick(
                                            format!("có thể đã được ghi lại: phiếu {} của {} cùng số tiền đang chờ duyệt — tiền đó nộp cùng lô ấy, đừng thu tại quầy", p.receipt_no.as_deref().unwrap_or("—"), p.officer_name),
                                            format!("maybe entered again: receipt {} of {} for the same amount waits for review — that cash comes with its batch, do not take it at the counter", p.receipt_no.as_deref().unwrap_or("—"), p.officer_name),
                                        )) }
                                    }
                                    @if let Some(k) = &r.taken_at_counter {
                                        " · " strong.taken-at-counter { (lang.pick(
                                            format!("tiền đã thu tại quầy: phiếu {k} ghi số phiếu này — đừng thu lại; giám sát đánh dấu đã xử lý ở danh sách khoản bị từ chối"),
                                            format!("its cash was taken at the counter: receipt {k} names it — do not take it again; the supervisor marks it settled on the list of refused records"),
                                        )) }
                                        @if s.user.role != Role::Cashier {
                                            " · " a.settle-link href=(format!("/batches?status=pending#refused-{}", r.record_id)) {
                                                (lang.t("Đánh dấu đã xử lý…", "Mark it settled…"))
                                            }
                                        }
                                    } @else if again.is_none() && s.user.role != Role::Cashier && l.status == "active" {
                                        " · " a.counter-link href=(format!("{}#counter-form", view::link(&format!("/loans/{}", l.id), &[
                                            ("amount", r.amount.clone().unwrap_or_default()),
                                            ("settles", r.record_id.to_string()),
                                            ("settles_receipt", r.receipt_no.clone().unwrap_or_default()),
                                        ]))) { (lang.t("Nộp tiền này tại quầy…", "Take this cash at the counter…")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.card #counter {
            h2 { (lang.t("Thu nợ tại quầy", "Repayment at the counter")) }
            @if let Some(k) = just {
                p.notice.success role="status" #receipt {
                    (lang.pick(
                        format!("Đã ghi khoản thu {} của {}, phiếu thu {}. Tổng còn phải trả: {}.", vnd(k.amount), k.worker_name, k.receipt_no, vnd(outstanding)),
                        format!("Took {} from {}, receipt {}. Total outstanding now: {}.", vnd(k.amount), k.worker_name, k.receipt_no, vnd(outstanding)),
                    ))
                    " "
                    a #print-receipt href=(format!("/counter/{}", k.id)) { (lang.t("In phiếu thu", "Print the receipt")) }
                }
            }
            @if let Some(m) = &counter.error {
                p.notice.error role="alert" #counter-error { (m) }
            }
            @if let Some((by, at, how)) = &settled_already {
                p.notice.warn #settled-already { (lang.pick(
                    format!("Phiếu {settles_receipt} đã được {by} đánh dấu đã xử lý lúc {} ({how}): đừng thu lại số tiền này.", datetime(*at)),
                    format!("Receipt {settles_receipt} was marked settled by {by} at {} ({how}): do not take this cash again.", datetime(*at)),
                )) }
            }
            @if let Some(k) = taken_for_it {
                div.notice.warn #taken-already {
                    p { (lang.pick(
                        format!("Tiền của phiếu {settles_receipt} đã được thu tại quầy: phiếu {} ({}) lúc {} ghi số phiếu đó. Đừng thu lại.", k.receipt_no, vnd(k.amount), datetime(k.recorded_at)),
                        format!("The cash of receipt {settles_receipt} was taken at the counter already: receipt {} ({}) at {} names it. Do not take it again.", k.receipt_no, vnd(k.amount), datetime(k.recorded_at)),
                    )) }
                    @if let Some(record) = settles_id.filter(|_| s.user.role != Role::Cashier && !counter.form.settles.is_empty()) {
                        form.inline method="post" action=(format!("/refused/{record}/settle")) {
                            (csrf_field(&s.csrf))
                            input type="hidden" name="back" value="/batches";
                            input type="hidden" name="note"
                                value=(format!("{} {} ({})", crate::db::SETTLED_AT_COUNTER, k.receipt_no, vnd(k.amount)));
                            button type="submit" #settle-by-counter { (lang.pick(
                                format!("Đánh dấu phiếu {settles_receipt} đã xử lý bởi phiếu {}", k.receipt_no),
                                format!("Mark receipt {settles_receipt} settled by receipt {}", k.receipt_no),
                            )) }
                        }
                    }
                }
            }
            @let cashier = s.user.role == Role::Cashier;
            @if let Some(p) = &entered_again {
                @let again = p.receipt_no.clone().unwrap_or_default();
                @let (state_vi, state_en) = if p.approved == 1 { ("đã được duyệt", "was approved") } else { ("đang chờ duyệt", "waits for review") };
                p.notice.warn #entered-again { (lang.pick(
                    format!("Phiếu {again} của {} (ghi lúc {}, sau phiếu {settles_receipt}) cùng số tiền trên khoản vay này {state_vi}: nếu cán bộ đã ghi lại khoản thu của phiếu {settles_receipt} thì tiền đó nộp cùng lô của phiếu {again} — đừng thu tại quầy; {}", p.officer_name, datetime(p.recorded_at), if cashier { "hãy báo giám sát chi nhánh." } else { "hãy đánh dấu phiếu bị từ chối đã xử lý." }),
                    format!("Receipt {again} of {} (recorded at {}, after receipt {settles_receipt}) for the same amount on this loan {state_en}: if the officer entered the payment of receipt {settles_receipt} again, its cash comes with that receipt's batch — do not take it at the counter; {}", p.officer_name, datetime(p.recorded_at), if cashier { "tell the branch supervisor." } else { "mark the refused receipt settled." }),
                )) }
            }
            @if l.status == "active" {
                form.stack method="post" action=(format!("/loans/{}/repayments", l.id)) id="counter-form" {
                    (csrf_field(&s.csrf))
                    input type="hidden" name="client_id" value=(client_id);
                    @if !counter.form.settles.is_empty() && s.user.role == Role::Cashier {
                        // Settling a refused record is a supervisor's word:
                        // the cashier takes the cash as a plain repayment.
                        p.notice.warn #settles-note { (lang.pick(
                            format!("Đây là tiền của phiếu {} cán bộ đã thu nhưng bị từ chối. Thủ quỹ vẫn thu được như một khoản thu tại quầy; việc đánh dấu phiếu đó đã xử lý là của giám sát chi nhánh — hãy báo giám sát sau khi thu (ghi số phiếu vào ghi chú).", counter.form.settles_receipt),
                            format!("This is the cash of receipt {} an officer took that was refused. The cashier can take it as a counter repayment; marking that record settled is the branch supervisor's — tell them once it is taken (put the receipt number in the note).", counter.form.settles_receipt),
                        )) }
                    } @else if !counter.form.settles.is_empty() {
                        input type="hidden" name="settles" value=(counter.form.settles);
                        input type="hidden" name="settles_receipt" value=(counter.form.settles_receipt);
                        p.notice #settles-note { (lang.pick(
                            format!("Khoản thu này là tiền của phiếu {} cán bộ đã thu nhưng bị từ chối: khi ghi, phiếu đó được đánh dấu đã xử lý (thu tại quầy).", counter.form.settles_receipt),
                            format!("This is the cash of receipt {} an officer took that was refused: once taken, that record is marked settled (taken at the counter).", counter.form.settles_receipt),
                        )) }
                        @if let (Some(held), 0) = (part_of, room) {
                            p.notice.warn #settles-part { (lang.pick(
                                format!("Cán bộ đã thu {} nhưng khoản vay không còn gì để thu: đừng thu tại quầy; trả lại {} cho người lao động rồi đánh dấu phiếu đó đã xử lý ở danh sách khoản bị từ chối.", vnd(held), vnd(held)),
                                format!("The officer took {} but the loan has nothing left to take: take nothing at the counter; give the {} back to the worker, then mark that receipt settled on the list of refused records.", vnd(held), vnd(held)),
                            )) }
                        } @else if let Some(held) = part_of {
                            p.notice.warn #settles-part { (lang.pick(
                                format!("Cán bộ đã thu {} nhưng khoản vay chỉ còn thu được {}: thu {} (trả hết khoản vay), phần còn lại {} trả lại người lao động.", vnd(held), vnd(room), vnd(room), vnd(held - room)),
                                format!("The officer took {} but the loan can only take {} more: take {} (paying it off); the remaining {} goes back to the worker.", vnd(held), vnd(room), vnd(room), vnd(held - room)),
                            )) }
                        }
                    }
                    label for="amount" { (lang.t("Số tiền thu (đồng)", "Amount received (đồng)")) }
                    input #amount type="text" name="amount" inputmode="numeric" autocomplete="off" required
                        value=(counter.form.amount) placeholder=(lang.t("ví dụ 1.500.000", "e.g. 1.500.000"))
                        aria-invalid=[counter.error.is_some().then_some("true")];
                    fieldset #counter-method {
                        legend { (lang.t("Hình thức", "Paid by")) }
                        label.check.choice {
                            input type="radio" name="method" value="cash" checked[!transfer];
                            " " (lang.t("Tiền mặt nộp tại quầy", "Cash at the counter"))
                        }
                        label.check.choice {
                            input type="radio" name="method" value="transfer" checked[transfer];
                            " " (lang.t("Chuyển khoản vào tài khoản ngân hàng chi nhánh", "Transfer into the branch's bank account"))
                        }
                    }
                    label for="transfer_ref" { (lang.t(
                        "Mã giao dịch ngân hàng (chỉ khi chuyển khoản, trên giấy báo có hoặc sao kê)",
                        "The bank's transaction reference (transfers only, from the credit notice or the statement)",
                    )) }
                    input #transfer_ref type="text" name="transfer_ref" maxlength="100" autocomplete="off"
                        value=(counter.form.transfer_ref) placeholder=(lang.t("Ví dụ: FT26339123456", "E.g. FT26339123456"));
                    label for="note" { (lang.t("Ghi chú (không bắt buộc)", "Note (optional)")) }
                    input #note type="text" name="note" maxlength=(NOTE_CHARS) value=(counter.form.note)
                        placeholder=(lang.t("Ví dụ: người nhà trả thay", "E.g. paid by a relative"));
                    label.check #payoff-choice {
                        input #payoff type="checkbox" name="payoff" value="1" checked[counter.form.payoff == "1"];
                        " " (lang.t("Trả hết khoản vay (tất toán): bắt buộc khi số tiền trả hết nợ", "Pays the loan off (closes it): needed when the amount pays all that is owed"))
                    }
                    @if counter.form.repeat_asked == "1" {
                        input type="hidden" name="repeat_asked" value="1";
                        label.check #repeat-choice {
                            input #repeat type="checkbox" name="repeat" value="1" checked[counter.form.repeat == "1"];
                            " " (lang.t("Người vay trả thêm lần nữa: không phải khoản vừa ghi", "The borrower pays again: not the repayment just taken"))
                        }
                    }
                    div.actions {
                        button.primary type="submit" data-busy=(lang.t("Đang ghi…", "Posting…")) {
                            (lang.t("Ghi khoản thu", "Take the repayment"))
                        }
                    }
                }
                p.hint { (lang.t(
                    "Khoản thu tại quầy được ghi sổ ngay: tiền mặt vào quỹ chi nhánh, tiền chuyển khoản vào tài khoản ngân hàng chi nhánh; trừ vào lãi rồi gốc của các kỳ cũ nhất. Không thu quá số còn phải trả, kể cả các khoản cán bộ đã thu đang chờ duyệt. Mỗi mã giao dịch chỉ ghi cho một khoản thu.",
                    "A repayment at the counter posts at once: cash into the branch vault, a transfer into the branch's bank account; against the oldest installments' interest, then principal. It may not exceed what is still owed, counting what officers collected that waits for review. Each transaction reference is recorded for one repayment only."
                )) }
            } @else if l.status == "cancelled" {
                p #counter-closed { (lang.t(
                    "Khoản vay đã bị hủy giải ngân (giải ngân nhầm, tiền đã trả lại chi nhánh): không thu tiền trên khoản vay này.",
                    "This loan was taken back (paid out in error, the money returned to the branch): nothing is collected on it."
                )) }
            } @else {
                p #counter-closed { (lang.t(
                    "Khoản vay đã tất toán, nên không thu nợ tại quầy.",
                    "This loan is closed, so no repayment is taken at the counter."
                )) }
                // Opened from a refused receipt's link: its cash has no
                // loan to go to.
                @if !counter.form.settles.is_empty() && settled_already.is_none() {
                    p.notice.warn #settles-closed { (lang.pick(
                        format!("Tiền của phiếu {settles_receipt} cán bộ đã thu không còn gì để trả trên khoản vay này: trả lại người lao động, rồi đánh dấu phiếu đó đã xử lý ở danh sách khoản bị từ chối."),
                        format!("The cash of receipt {settles_receipt} the officer took has nothing left to pay on this loan: give it back to the worker, then mark that receipt settled on the list of refused records."),
                    )) }
                }
            }
            @if !taken_here.is_empty() {
                (table_wrap(html! {
                    table.list #counter-repayments {
                        thead { tr {
                            th { (lang.t("Phiếu thu", "Receipt")) }
                            th { (lang.t("Thời điểm", "Taken at")) }
                            th.num { (lang.t("Số tiền", "Amount")) }
                            th { (lang.t("Hình thức", "Paid by")) }
                            th { (lang.t("Ghi chú", "Note")) }
                            th { (lang.t("Người thu", "Taken by")) }
                        } }
                        tbody {
                            @for k in &taken_here {
                                tr {
                                    td.nowrap { a href=(format!("/counter/{}", k.id)) { (k.receipt_no) }
                                        @if k.reversed { " " span.badge.muted { (lang.t("Đã đảo bút toán", "Reversed")) } } }
                                    td.nowrap { (datetime(k.recorded_at)) }
                                    td.num.nowrap { (vnd(k.amount)) }
                                    td { (paid_by(lang, &k.method, k.transfer_ref.as_deref())) }
                                    td { (k.note) }
                                    td { (k.recorded_by) }
                                }
                            }
                        }
                    }
                }))
            }
        }
        @if let Some((entries, asked, settling)) = &books {
            section.card #books {
                h2 { (lang.t("Bút toán đã ghi sổ", "Posted entries")) }
                @if entries.is_empty() {
                    (view::empty(lang.t("Chưa có bút toán nào cho khoản vay này.", "Nothing is posted on this loan yet.")))
                } @else {
                    (table_wrap(html! {
                        table.list #entries {
                            thead { tr {
                                th.num { (lang.t("Số", "No.")) }
                                th { (lang.t("Ghi sổ lúc", "Posted at")) }
                                th { (lang.t("Loại", "Kind")) }
                                th.num { (lang.t("Số tiền", "Amount")) }
                                th { (lang.t("Diễn giải", "Memo")) }
                                th {}
                            } }
                            tbody {
                                @for e in entries {
                                    tr id=(format!("entry-{}", e.id)) {
                                        td.num { (e.id) }
                                        td.nowrap { (datetime(e.posted_at)) }
                                        td { (reversals::entry_kind(lang, &e.kind)) }
                                        td.num.nowrap { (vnd(reversals::entry_amount(e))) }
                                        td { (e.memo) }
                                        td.nowrap {
                                            @if entries.iter().any(|x| x.reverses == Some(e.id)) {
                                                span.badge.muted { (lang.t("Đã đảo", "Reversed")) }
                                            } @else if asked.contains(&e.id) {
                                                a.badge.warn href="/reversals" { (lang.t("Chờ duyệt đảo", "Reversal waiting")) }
                                            } @else if settling.contains(&e.id) {
                                                // Its cash is a refused receipt's, settled by it.
                                                small.muted.settling { (lang.t("Đã xử lý một phiếu bị từ chối: không đảo", "Settled a refused receipt: not reversed")) }
                                            } @else if EntryKind::reversible_at_branch(&e.kind) {
                                                a href=(view::link("/reversals/new", &[("entry", e.id.to_string())])) {
                                                    (lang.t("Đề nghị đảo", "Ask to reverse"))
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }))
                }
            }
        }
        h2 { (lang.t("Lịch trả nợ", "Repayment schedule")) }
        @if schedule.is_empty() {
            (view::empty(lang.t("Khoản vay này chưa có lịch trả nợ.", "This loan has no schedule.")))
        } @else {
            (table_wrap(html! {
                table.list.schedule #schedule {
                    thead { tr {
                        th.num { (lang.t("Kỳ", "No.")) }
                        th { (lang.t("Ngày đến hạn", "Due on")) }
                        th.num { (lang.t("Gốc", "Principal")) }
                        th.num { (lang.t("Lãi", "Interest")) }
                        th.num { (lang.t("Phải trả", "Due")) }
                        th.num { (lang.t("Đã trả", "Paid")) }
                        th.num { (lang.t("Còn lại", "Remaining")) }
                        th { (lang.t("Tình trạng", "Status")) }
                    } }
                    tbody {
                        @for (i, st) in schedule.iter().zip(&states) {
                            @let due = i.principal_due + i.interest_due;
                            @let got = i.principal_paid + i.interest_paid;
                            tr.overdue[matches!(st, InstallmentState::Overdue { .. })] {
                                td.num { (i.number) }
                                td.nowrap { (date(i.due_on)) }
                                td.num { (vnd(i.principal_due)) }
                                td.num { (vnd(i.interest_due)) }
                                td.num { (vnd(due)) }
                                td.num { (vnd(got)) }
                                td.num { (vnd(due - got)) }
                                td { (state_badge(lang, *st)) }
                            }
                        }
                    }
                    tfoot { tr {
                        th colspan="2" { (lang.t("Cộng", "Total")) }
                        td.num { (vnd(p_due)) }
                        td.num { (vnd(i_due)) }
                        td.num { (vnd(p_due + i_due)) }
                        td.num { (vnd(paid)) }
                        td.num { (vnd(p_due + i_due - paid)) }
                        td {}
                    } }
                }
            }))
            p.hint { (lang.t(
                "Số đã trả gồm các khoản thu đã được duyệt và số đã trả trước khi dùng Sổ Tay. Khoản thu cán bộ vừa gửi lên chỉ được tính sau khi giám sát duyệt.",
                "Paid amounts are approved collections and what was repaid before Sổ Tay. A collection an officer has just sent counts once a supervisor approves it."
            )) }
        }
    };
    Ok((status, s.ui().page(&title, Nav::Workers, body)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(due_on: NaiveDate, due: i64, paid: i64) -> InstallmentView {
        InstallmentView {
            number: 1,
            due_on,
            principal_due: due,
            interest_due: 0,
            principal_paid: paid,
            interest_paid: 0,
        }
    }

    #[test]
    fn installment_states() {
        let d = |day| NaiveDate::from_ymd_opt(2026, 3, day).unwrap();
        let today = d(10);
        assert_eq!(
            installment_state(&inst(d(1), 100, 100), today),
            InstallmentState::Paid
        );
        assert_eq!(
            installment_state(&inst(d(1), 100, 40), today),
            InstallmentState::Overdue { days: 9 }
        );
        assert_eq!(
            installment_state(&inst(d(10), 100, 0), today),
            InstallmentState::DueToday
        );
        assert_eq!(
            installment_state(&inst(d(20), 100, 40), today),
            InstallmentState::Partly
        );
        assert_eq!(
            installment_state(&inst(d(20), 100, 0), today),
            InstallmentState::Upcoming
        );
    }
}
