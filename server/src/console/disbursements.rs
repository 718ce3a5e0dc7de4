//! Loans paid out at the branch (supervisors and admins): asking for a new
//! loan for a worker from a loan product, in cash or by bank transfer,
//! deciding another person's request (an approval creates the loan and pays
//! it out of the branch vault or bank account), and, for admins, lending
//! capital received into a branch's vault or bank account — through the same
//! `Db` calls as the API.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::Utc;
use maud::{html, Markup};
use serde::Deserialize;
use sotay_core::domain::money::{parse_typed_amount, AmountRule};
use sotay_core::domain::schedule::Installment;
use sotay_core::domain::time::{self, local_date};
use uuid::Uuid;

use super::bank::{holdings, holdings_table};
use super::decision::{self, Checked, DecideForm, Outcome, REASON_CHARS};
use super::i18n::Lang;
use super::session::Signed;
use super::view::UrlPath;
use super::view::UrlQuery;
use super::view::{self, csrf_field, date, datetime, table_wrap, vnd, Nav};
use crate::api::disburse::{bank_account, transfer_ref};
use crate::api::review::{branch_of, reviewer};
use crate::api::ClientIp;
use crate::app::AppState;
use crate::db::{Disbursement, PayMethod};
use crate::error::AppError;

/// A note, at most as long as a reason.
const TEXT_CHARS: usize = REASON_CHARS;
/// Decided requests the page lists, at most.
const DECIDED_SHOWN: usize = 50;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    /// The request just made, or the one just decided, to confirm it.
    requested: String,
    decided: String,
    capital: String,
}

/// What the page confirms or why something was refused.
#[derive(Debug, Default)]
struct Flash {
    requested: Option<i64>,
    decided: Option<i64>,
    capital: Option<i64>,
    error: Option<String>,
    capital_form: CapitalForm,
    /// A refused approval's transfer reference as typed, by request.
    transfer_ref: Option<(i64, String)>,
}

/// `GET /disbursements`
pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    UrlQuery(q): UrlQuery<ListQuery>,
) -> Response {
    let flash = Flash {
        requested: q.requested.parse().ok(),
        decided: q.decided.parse().ok(),
        capital: q.capital.parse().ok(),
        ..Flash::default()
    };
    render_list(&state, &signed, flash, StatusCode::OK).await
}

/// How a disbursement is paid, for people: cash, or a transfer to the
/// worker's account (with the bank's reference once made).
fn paid_how(lang: Lang, d: &Disbursement) -> Markup {
    html! {
        @if let Some(account) = &d.bank_account {
            span.badge.muted { (lang.t("Chuyển khoản", "Transfer")) } " " small.mono { (account) }
            @if let Some(r) = &d.transfer_ref {
                br; small { (lang.t("Mã giao dịch ", "Reference ")) span.mono { (r) } }
            }
        } @else {
            span.badge.muted { (lang.t("Tiền mặt", "Cash")) }
        }
    }
}

async fn render_list(state: &AppState, s: &Signed, flash: Flash, status: StatusCode) -> Response {
    let ui = s.ui();
    let lang = s.lang;
    let who = match reviewer(&s.user, None) {
        Ok(w) => w,
        Err(e) => return ui.app_error(e),
    };
    let loaded = async {
        let all = state.db.disbursements(branch_of(&who), None, false).await?;
        let held = holdings(state, branch_of(&who)).await?;
        let branches = state.db.branches(branch_of(&who)).await?;
        let capital = state.db.capital_receipts(branch_of(&who)).await?;
        Ok::<_, AppError>((all, held, branches, capital))
    };
    let (all, held, branches, capital) = match loaded.await {
        Ok(x) => x,
        Err(e) => return ui.app_error(e),
    };
    let (pending, decided): (Vec<&Disbursement>, Vec<&Disbursement>) =
        all.iter().partition(|d| d.decision.is_none());
    // What each waiting borrower is late on already, for the approver.
    let today = local_date(Utc::now());
    let mut late: std::collections::HashMap<i64, (usize, i64)> = std::collections::HashMap::new();
    for d in &pending {
        if late.contains_key(&d.worker_id) {
            continue;
        }
        match state.db.worker_arrears(d.worker_id, today).await {
            Ok(a) if !a.is_empty() => {
                late.insert(d.worker_id, (a.len(), a.iter().map(|x| x.amount).sum()));
            }
            Ok(_) => {}
            Err(e) => return ui.app_error(e.into()),
        }
    }
    let find = |id: Option<i64>| id.and_then(|id| all.iter().find(|d| d.id == id));
    let branch_name = |id: i64| {
        branches
            .iter()
            .find(|b| b.id == id)
            .map_or_else(|| format!("#{id}"), |b| b.name.clone())
    };
    let client_id = if flash.capital_form.client_id.trim().is_empty() {
        Uuid::now_v7().to_string()
    } else {
        flash.capital_form.client_id.clone()
    };
    let cf = &flash.capital_form;

    let received_on = if cf.received_on.is_empty() {
        date(local_date(Utc::now()))
    } else {
        cf.received_on.clone()
    };
    let body = html! {
        h1 { (lang.t("Giải ngân", "Disbursements")) }
        p.lead { (lang.t(
            "Khoản vay mới được đề nghị từ trang của người lao động và chỉ giải ngân khi một người khác (giám sát hoặc quản trị viên) duyệt: lúc đó khoản vay và lịch trả nợ được lập từ hôm nay, tiền rời quỹ tiền mặt (hoặc tài khoản ngân hàng, nếu chuyển khoản) của chi nhánh và cán bộ phụ trách nhận khoản vay ở lần đồng bộ sau. Tiền mặt nộp vào hay rút từ ngân hàng được ghi ở trang Ngân hàng.",
            "A new loan is asked for from the worker's page and paid out only once someone else (a supervisor or an administrator) approves it: the loan and its schedule are then made from today, the money leaves the branch vault (or its bank account, for a transfer) and the worker's officer receives the loan at their next sync. Cash paid into or drawn from the bank is recorded on the Bank page.",
        )) }
        @if let Some(m) = &flash.error {
            p.notice.error role="alert" #disbursement-error { (m) }
        }
        @if let Some(d) = find(flash.requested) {
            p.notice.success role="status" #flash { (lang.pick(
                format!("Đã ghi đề nghị giải ngân {} cho {}; chờ một người khác duyệt.", vnd(d.principal), d.worker_name),
                format!("Asked to pay {} out to {}; it waits for someone else's approval.", vnd(d.principal), d.worker_name),
            )) }
        }
        @if let Some(d) = find(flash.decided) {
            p.notice.success role="status" #flash {
                @match (&d.loan_code, d.loan_id) {
                    (Some(code), Some(loan)) => {
                        @if let (Some(account), Some(r)) = (&d.bank_account, &d.transfer_ref) {
                            (lang.pick(
                                format!("Đã duyệt: đã chuyển {} tới tài khoản {} của {} (mã giao dịch {r}), khoản vay ", vnd(d.principal), account, d.worker_name),
                                format!("Approved: {} transferred to {}'s account {} (reference {r}), loan ", vnd(d.principal), d.worker_name, account),
                            ))
                        } @else {
                            (lang.pick(
                                format!("Đã duyệt: chi {} tiền mặt cho {}, khoản vay ", vnd(d.principal), d.worker_name),
                                format!("Approved: pay {} in cash to {}, loan ", vnd(d.principal), d.worker_name),
                            ))
                        }
                        a.mono href=(format!("/loans/{loan}")) { (code) } "."
                    }
                    _ => (lang.pick(
                        format!("Đã từ chối đề nghị giải ngân cho {}.", d.worker_name),
                        format!("Refused the disbursement to {}.", d.worker_name),
                    )),
                }
            }
        }
        section.card #vaults {
            h2 { (lang.t("Tiền chi nhánh có để giải ngân", "What the branches hold to pay out")) }
            (holdings_table(lang, &branches, &held))
            p { a href="/bank-moves" #bank-link { (lang.t("Nộp hoặc rút tiền mặt ở ngân hàng →", "Pay cash into or draw it from the bank →")) } }
        }
        h2 { (lang.t("Chờ duyệt", "Waiting for approval")) }
        @if pending.is_empty() {
            (view::empty(lang.t(
                "Không có đề nghị giải ngân nào đang chờ. Đề nghị mới được ghi từ trang của người lao động.",
                "No disbursement is waiting. A new one is asked for from the worker's page.",
            )))
        } @else {
            (table_wrap(html! {
                table.list #pending {
                    thead { tr {
                        th { (lang.t("Người vay", "Borrower")) }
                        th { (lang.t("Sản phẩm", "Product")) }
                        th.num { (lang.t("Số tiền vay", "Principal")) }
                        th { (lang.t("Người đề nghị", "Asked by")) }
                        th { (lang.t("Quyết định", "Decision")) }
                    } }
                    tbody {
                        @for d in &pending {
                            tr id=(format!("disbursement-{}", d.id)) {
                                td {
                                    (borrower(d))
                                    @if let Some((loans, amount)) = late.get(&d.worker_id) {
                                        br; span.badge.danger.late { (lang.pick(
                                            format!("Đang quá hạn {loans} khoản · {}", vnd(*amount)),
                                            format!("Overdue on {loans} loan(s) · {}", vnd(*amount)),
                                        )) }
                                    }
                                }
                                td { (d.product_name) }
                                td.num.nowrap {
                                    (vnd(d.principal)) br; (paid_how(lang, d))
                                    @let method = PayMethod::parse(&d.method).unwrap_or_default();
                                    @let have = held.get(&d.branch_id).copied().unwrap_or_default().of(method);
                                    @if have < d.principal {
                                        br; small.short { (match method {
                                            PayMethod::Cash => lang.pick(
                                                format!("Quỹ tiền mặt chỉ còn {}", vnd(have)),
                                                format!("The vault holds only {}", vnd(have)),
                                            ),
                                            PayMethod::Transfer => lang.pick(
                                                format!("Tài khoản ngân hàng chỉ còn {}", vnd(have)),
                                                format!("The bank account holds only {}", vnd(have)),
                                            ),
                                        }) }
                                    }
                                }
                                td { (d.requested_by) br; small { (datetime(d.requested_at)) }
                                     @if !d.note.is_empty() { br; small { (d.note) } } }
                                td {
                                    @if d.requested_by_id == s.user.id {
                                        small.muted { (lang.t("Bạn đã đề nghị; cần một người khác duyệt.", "You asked; someone else must decide.")) }
                                    } @else {
                                        form.inline method="post" action=(format!("/disbursements/{}/approve", d.id)) {
                                            (csrf_field(&s.csrf))
                                            @if let Some(account) = &d.bank_account {
                                                label for=(format!("transfer-ref-{}", d.id)) { (lang.pick(
                                                    format!("Chuyển {} tới {}, rồi ghi mã giao dịch:", vnd(d.principal), account),
                                                    format!("Transfer {} to {}, then write its reference:", vnd(d.principal), account),
                                                )) }
                                                " "
                                                input id=(format!("transfer-ref-{}", d.id)) name="transfer_ref" maxlength="100" required
                                                    autocomplete="off" placeholder=(lang.t("Mã giao dịch ngân hàng", "Bank reference"))
                                                    value=(flash.transfer_ref.as_ref().filter(|(id, _)| *id == d.id).map_or("", |(_, r)| r.as_str()));
                                                " "
                                                button.primary type="submit" data-busy=(lang.t("Đang ghi…", "Posting…")) {
                                                    (lang.t("Duyệt: đã chuyển khoản", "Approve: transferred"))
                                                }
                                            } @else {
                                                button.primary type="submit" data-busy=(lang.t("Đang ghi…", "Posting…")) {
                                                    (lang.pick(format!("Duyệt và chi {}", vnd(d.principal)), format!("Approve and pay {}", vnd(d.principal))))
                                                }
                                            }
                                        }
                                        form.inline method="post" action=(format!("/disbursements/{}/reject", d.id)) {
                                            (csrf_field(&s.csrf))
                                            label.visually-hidden for=(format!("reject-{}", d.id)) { (lang.t("Lý do từ chối", "Why refuse")) }
                                            input id=(format!("reject-{}", d.id)) name="reason" maxlength=(TEXT_CHARS) required
                                                placeholder=(lang.t("Lý do từ chối", "Why refuse"));
                                            button type="submit" { (lang.t("Từ chối", "Refuse")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }))
        }
        @if !decided.is_empty() {
            h2 { (lang.t("Đã quyết định", "Decided")) }
            (table_wrap(html! {
                table.list #decided {
                    thead { tr {
                        th { (lang.t("Người vay", "Borrower")) }
                        th.num { (lang.t("Số tiền vay", "Principal")) }
                        th { (lang.t("Người đề nghị", "Asked by")) }
                        th { (lang.t("Quyết định", "Decision")) }
                    } }
                    tbody {
                        @for d in decided.iter().take(DECIDED_SHOWN) {
                            tr {
                                td { (borrower(d)) }
                                td.num.nowrap { (vnd(d.principal)) br; (paid_how(lang, d)) }
                                td { (d.requested_by) br; small { (datetime(d.requested_at)) } }
                                td {
                                    @match (&d.loan_code, d.loan_id) {
                                        (Some(code), Some(loan)) => {
                                            @if d.taken_back_by.is_some() {
                                                span.badge.warn { (lang.t("Đã hủy giải ngân", "Taken back")) } " "
                                            } @else {
                                                span.badge.ok { (lang.t("Đã giải ngân", "Paid out")) } " "
                                            }
                                            a.mono href=(format!("/loans/{loan}")) { (code) }
                                        }
                                        _ => {
                                            span.badge.danger { (lang.t("Từ chối", "Refused")) }
                                            @if let Some(r) = &d.reason { " " small { (r) } }
                                        }
                                    }
                                    br;
                                    small { (d.reviewer.as_deref().unwrap_or("—"))
                                        @if let Some(at) = d.decided_at { " · " (datetime(at)) } }
                                }
                            }
                        }
                    }
                }
            }))
        }
        h2 #capital-title { (lang.t("Vốn cho vay nhận về chi nhánh", "Lending capital received")) }
        @if let Some(id) = flash.capital {
            @if let Some(r) = capital.iter().find(|r| r.id == id) {
                p.notice.success role="status" #capital-flash { (if r.method == PayMethod::Transfer.as_str() {
                    lang.pick(
                        format!("Đã ghi nhận {} vào tài khoản ngân hàng {}.", vnd(r.amount), r.branch_name),
                        format!("Received {} into the bank account of {}.", vnd(r.amount), r.branch_name),
                    )
                } else {
                    lang.pick(
                        format!("Đã ghi nhận {} vào quỹ tiền mặt {}.", vnd(r.amount), r.branch_name),
                        format!("Received {} into the vault of {}.", vnd(r.amount), r.branch_name),
                    )
                }) }
            }
        }
        @if who.is_admin {
            form.stack method="post" action="/capital" id="capital-form" {
                (csrf_field(&s.csrf))
                input type="hidden" name="client_id" value=(client_id);
                label for="branch_id" { (lang.t("Chi nhánh nhận", "Receiving branch")) }
                select #branch_id name="branch_id" required {
                    @for b in &branches {
                        option value=(b.id) selected[cf.branch_id == b.id.to_string()] { (b.name) }
                    }
                }
                label for="capital-method" { (lang.t("Nhận vào", "Received into")) }
                select #capital-method name="method" {
                    option value="cash" selected[cf.method != "transfer"] { (lang.t("Quỹ tiền mặt (tiền mặt)", "The vault (cash)")) }
                    option value="transfer" selected[cf.method == "transfer"] { (lang.t("Tài khoản ngân hàng (chuyển khoản)", "The bank account (transfer)")) }
                }
                label for="capital-amount" { (lang.t("Số tiền (đồng)", "Amount (đồng)")) }
                input #capital-amount name="amount" inputmode="numeric" autocomplete="off" required value=(cf.amount)
                    placeholder=(lang.t("ví dụ 200.000.000", "e.g. 200.000.000"));
                label for="received_on" { (lang.t("Ngày nhận (dd/mm/yyyy)", "Received on (dd/mm/yyyy)")) }
                input #received_on name="received_on" required value=(received_on);
                label for="source" { (lang.t("Nguồn (ghi vào sổ)", "Source (written to the books)")) }
                input #source name="source" maxlength="200" required value=(cf.source)
                    placeholder=(lang.t("Ví dụ: Quỹ chuyển vốn, uỷ nhiệm chi số 118", "E.g. the fund's transfer, payment order 118"));
                div.actions {
                    button type="submit" data-busy=(lang.t("Đang ghi…", "Posting…")) { (lang.t("Ghi nhận vốn", "Receive the capital")) }
                }
            }
        } @else {
            p.hint { (lang.t(
                "Vốn cho vay do quản trị viên của quỹ ghi nhận khi chuyển về chi nhánh.",
                "Lending capital is recorded by the fund's administrators when they send it to the branch.",
            )) }
        }
        @if !capital.is_empty() {
            (table_wrap(html! {
                table.list #capital {
                    thead { tr {
                        th { (lang.t("Ngày nhận", "Received on")) }
                        th { (lang.t("Chi nhánh", "Branch")) }
                        th.num { (lang.t("Số tiền", "Amount")) }
                        th { (lang.t("Vào", "Into")) }
                        th { (lang.t("Nguồn", "Source")) }
                        th { (lang.t("Người ghi", "Recorded by")) }
                        th {}
                    } }
                    tbody {
                        @for r in &capital {
                            tr {
                                td.nowrap { (date(r.received_on)) }
                                td { (branch_name(r.branch_id)) }
                                td.num.nowrap { (vnd(r.amount)) }
                                td { @if r.method == PayMethod::Transfer.as_str() {
                                    (lang.t("Tài khoản ngân hàng", "Bank account"))
                                } @else {
                                    (lang.t("Quỹ tiền mặt", "Vault"))
                                } }
                                td { (r.source) }
                                td { (r.recorded_by) br; small { (datetime(r.recorded_at)) } }
                                td.nowrap {
                                    @if r.reversed {
                                        span.badge.muted { (lang.t("Đã đảo", "Reversed")) }
                                    } @else {
                                        a href=(view::link("/reversals/new", &[("entry", r.entry_id.to_string())])) {
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
    };
    (
        status,
        ui.page(
            lang.t("Giải ngân", "Disbursements"),
            Nav::Disbursements,
            body,
        ),
    )
        .into_response()
}

fn borrower(d: &Disbursement) -> Markup {
    html! {
        a href=(format!("/workers/{}", d.worker_id)) { (d.worker_name) } " " small.mono { (d.worker_code) }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewQuery {
    worker: String,
}

/// The request form as posted.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct RequestForm {
    csrf: String,
    /// Chosen when the form is drawn: sending it twice asks once.
    client_id: String,
    worker_id: String,
    product_id: String,
    principal: String,
    note: String,
    /// `cash` or `transfer`.
    method: String,
    /// For a transfer: the worker's bank and account number.
    bank_account: String,
    /// `preview`: show the schedule, ask nothing yet.
    action: String,
}

/// `GET /disbursements/new?worker=`: the request form for one worker.
pub async fn new(
    State(state): State<AppState>,
    signed: Signed,
    UrlQuery(q): UrlQuery<NewQuery>,
) -> Response {
    let form = RequestForm {
        worker_id: q.worker,
        ..RequestForm::default()
    };
    render_new(&state, &signed, &form, None, None, StatusCode::OK).await
}

async fn render_new(
    state: &AppState,
    s: &Signed,
    form: &RequestForm,
    error: Option<String>,
    preview: Option<&[Installment]>,
    status: StatusCode,
) -> Response {
    let ui = s.ui();
    let lang = s.lang;
    let not_found = || ui.app_error(AppError::not_found("người lao động", "worker"));
    let Ok(worker_id) = form.worker_id.trim().parse::<i64>() else {
        return not_found();
    };
    let who = match reviewer(&s.user, None) {
        Ok(w) => w,
        Err(e) => return ui.app_error(e),
    };
    let loaded = async {
        let worker = state.db.worker(s.user.scope(), worker_id).await?;
        let products = state.db.products().await?;
        let earlier = state
            .db
            .disbursements(branch_of(&who), Some(worker_id), false)
            .await?;
        let held = holdings(state, branch_of(&who)).await?;
        let standing = state
            .db
            .loans(s.user.scope(), Some(worker_id), Some("active"), 100, 0)
            .await?;
        let arrears = state
            .db
            .worker_arrears(
                worker_id,
                sotay_core::domain::time::local_date(chrono::Utc::now()),
            )
            .await?;
        Ok::<_, AppError>((worker, products, earlier, held, (standing, arrears)))
    };
    let (worker, products, earlier, held, (standing, arrears)) = match loaded.await {
        Ok((Some(w), p, e, v, l)) => (w, p, e, v, l),
        Ok(_) => return not_found(),
        Err(e) => return ui.app_error(e),
    };
    let client_id = if form.client_id.trim().is_empty() {
        Uuid::now_v7().to_string()
    } else {
        form.client_id.clone()
    };
    let title = lang.pick(
        format!("Giải ngân khoản vay mới cho {}", worker.full_name),
        format!("Pay out a new loan to {}", worker.full_name),
    );
    let h = held.get(&worker.branch_id).copied().unwrap_or_default();
    let transfer = form.method == PayMethod::Transfer.as_str();
    let body = html! {
        p.crumbs { a href=(format!("/workers/{}", worker.id)) { "← " (worker.full_name) } }
        h1 { (title) }
        p #vault { (lang.pick(
            format!("Quỹ tiền mặt chi nhánh hiện có {}; tài khoản ngân hàng chi nhánh có {}.", vnd(h.vault), vnd(h.bank)),
            format!("The branch vault holds {} now; the branch's bank account {}.", vnd(h.vault), vnd(h.bank)),
        )) }
        @if !standing.is_empty() {
            @let owed: i64 = standing.iter().map(|l| l.outstanding_principal).sum();
            @let late: i64 = arrears.iter().map(|a| a.amount).sum();
            div.notice #standing-loans .warn[arrears.is_empty()] .error[!arrears.is_empty()] role=[(!arrears.is_empty()).then_some("alert")] {
                p { (lang.pick(
                    format!("{} đang có {} khoản vay chưa tất toán, dư nợ gốc {}.", worker.full_name, standing.len(), vnd(owed)),
                    format!("{} has {} loan(s) not paid off, {} of principal outstanding.", worker.full_name, standing.len(), vnd(owed)),
                )) }
                @if !arrears.is_empty() {
                    p { strong { (lang.pick(
                        format!("Có {} khoản đang quá hạn, {} chưa trả của các kỳ quá hạn: xem xét kỹ trước khi cho vay thêm.", arrears.len(), vnd(late)),
                        format!("{} of them overdue, {} unpaid on the overdue installments: look closely before lending more.", arrears.len(), vnd(late)),
                    )) } }
                }
                ul.plain {
                    @for l in &standing {
                        li {
                            a.mono href=(format!("/loans/{}", l.id)) { (l.code) } " · " (l.product_name) " · "
                            (lang.t("dư nợ gốc", "principal outstanding")) " " (vnd(l.outstanding_principal))
                            @if let Some(a) = arrears.iter().find(|a| a.loan_id == l.id) {
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
        @if let Some(m) = &error {
            p.notice.error role="alert" #request-error { (m) }
        }
        form.stack method="post" action="/disbursements" id="request-form" {
            (csrf_field(&s.csrf))
            input type="hidden" name="client_id" value=(client_id);
            input type="hidden" name="worker_id" value=(worker.id);
            label for="product_id" { (lang.t("Sản phẩm vay", "Loan product")) }
            select #product_id name="product_id" required {
                @for p in &products {
                    option value=(p.id) selected[form.product_id == p.id.to_string()] {
                        (p.name) " — " (view::rate(lang, p.annual_rate_bp)) (lang.t("/năm", " a year")) ", "
                        (p.installments) " " (lang.t("kỳ", "installments")) " " (view::frequency(lang, &p.frequency)) ", "
                        (vnd(p.min_principal)) " – " (vnd(p.max_principal))
                    }
                }
            }
            label for="principal" { (lang.t("Số tiền vay (đồng)", "Principal (đồng)")) }
            input #principal name="principal" inputmode="numeric" autocomplete="off" required value=(form.principal)
                placeholder=(lang.t("ví dụ 10.000.000", "e.g. 10.000.000"))
                aria-invalid=[error.is_some().then_some("true")];
            fieldset #method {
                legend { (lang.t("Giải ngân bằng", "Paid out by")) }
                label.check.choice {
                    input type="radio" name="method" value="cash" checked[!transfer];
                    " " (lang.t("Tiền mặt từ quỹ chi nhánh", "Cash from the branch vault"))
                }
                label.check.choice {
                    input type="radio" name="method" value="transfer" checked[transfer];
                    " " (lang.t("Chuyển khoản từ tài khoản ngân hàng chi nhánh", "Transfer from the branch's bank account"))
                }
            }
            label for="bank_account" { (lang.t(
                "Tài khoản nhận của người vay (chỉ khi chuyển khoản): ngân hàng và số tài khoản",
                "The borrower's account (transfers only): bank and account number",
            )) }
            input #bank_account name="bank_account" maxlength="100" autocomplete="off" value=(form.bank_account)
                placeholder=(lang.t("Ví dụ: Vietcombank 0071000123456", "E.g. Vietcombank 0071000123456"));
            label for="note" { (lang.t("Mục đích, ghi chú (không bắt buộc)", "Purpose, note (optional)")) }
            input #note name="note" maxlength=(TEXT_CHARS) value=(form.note)
                placeholder=(lang.t("Ví dụ: chữa bệnh cho con, sửa phòng trọ", "E.g. a child's treatment, repairing the room"));
            div.actions {
                button type="submit" name="action" value="preview" #preview-button {
                    (lang.t("Xem lịch trả nợ", "Show the schedule"))
                }
                " "
                button.primary type="submit" name="action" value="ask" data-busy=(lang.t("Đang ghi…", "Posting…")) {
                    (lang.t("Gửi đề nghị giải ngân", "Ask for the disbursement"))
                }
            }
        }
        @if let Some(rows) = preview {
            (schedule_preview(lang, rows))
        }
        p.hint { (lang.t(
            "Chưa có tiền nào được chi: khoản vay chỉ được lập và giải ngân khi một người khác duyệt ở trang Giải ngân, nếu quỹ tiền mặt (tài khoản ngân hàng, khi chuyển khoản) của chi nhánh đủ tiền. Người duyệt khoản chuyển khoản ghi mã giao dịch của ngân hàng.",
            "No money moves yet: the loan is made and paid out only once someone else approves it on the Disbursements page, if the branch vault (the bank account, for a transfer) holds the money. Whoever approves a transfer writes the bank's reference of it.",
        )) }
        @if !earlier.is_empty() {
            h2 { (lang.t("Các đề nghị trước", "Earlier requests")) }
            ul #earlier {
                @for d in &earlier {
                    li {
                        (vnd(d.principal)) " · " (d.product_name) " · " (datetime(d.requested_at)) " · "
                        @match (d.decision.as_deref(), &d.loan_code) {
                            (None, _) => span.badge.warn { (lang.t("Chờ duyệt", "Waiting")) },
                            (Some("approved"), Some(code)) if d.taken_back_by.is_some() => span.badge.warn { (lang.t("Đã hủy giải ngân ", "Taken back ")) (code) },
                            (Some("approved"), Some(code)) => span.badge.ok { (lang.t("Đã giải ngân ", "Paid out ")) (code) },
                            _ => span.badge.danger { (lang.t("Từ chối", "Refused")) },
                        }
                    }
                }
            }
        }
    };
    (status, ui.page(&title, Nav::Disbursements, body)).into_response()
}

/// The schedule a request would make, paid out today.
fn schedule_preview(lang: Lang, rows: &[Installment]) -> Markup {
    let principal: i64 = rows.iter().map(|i| i.principal).sum();
    let interest: i64 = rows.iter().map(|i| i.interest).sum();
    html! {
        h2 #schedule-title { (lang.t("Lịch trả nợ dự kiến (nếu giải ngân hôm nay)", "Schedule if paid out today")) }
        (table_wrap(html! {
            table.list #schedule {
                thead { tr {
                    th.num { (lang.t("Kỳ", "No.")) }
                    th { (lang.t("Ngày đến hạn", "Due on")) }
                    th.num { (lang.t("Gốc", "Principal")) }
                    th.num { (lang.t("Lãi", "Interest")) }
                    th.num { (lang.t("Phải trả", "To pay")) }
                } }
                tbody {
                    @for i in rows {
                        tr {
                            td.num { (i.number) }
                            td.nowrap { (date(i.due_on)) }
                            td.num.nowrap { (vnd(i.principal)) }
                            td.num.nowrap { (vnd(i.interest)) }
                            td.num.nowrap { (vnd(i.principal + i.interest)) }
                        }
                    }
                }
                tfoot { tr {
                    th {} th { (lang.t("Tổng cộng", "Total")) }
                    th.num.nowrap { (vnd(principal)) }
                    th.num.nowrap { (vnd(interest)) }
                    th.num.nowrap { (vnd(principal + interest)) }
                } }
            }
        }))
    }
}

/// `POST /disbursements`: asks for a new loan (or, with `action=preview`,
/// shows the schedule it would have).
pub async fn request(
    State(state): State<AppState>,
    signed: Signed,
    ClientIp(ip): ClientIp,
    Form(form): Form<RequestForm>,
) -> Response {
    if let Some(r) = signed.forgery(&form.csrf) {
        return r;
    }
    let ui = signed.ui();
    let lang = signed.lang;
    let who = match reviewer(&signed.user, ip) {
        Ok(w) => w,
        Err(e) => return ui.app_error(e),
    };
    let Ok(worker_id) = form.worker_id.trim().parse::<i64>() else {
        return ui.app_error(AppError::not_found("người lao động", "worker"));
    };
    let again = |m: String, status: StatusCode| {
        let (state, signed, form) = (&state, &signed, &form);
        async move { render_new(state, signed, form, Some(m), None, status).await }
    };
    let Ok(product_id) = form.product_id.trim().parse::<i64>() else {
        let m = lang.t("Hãy chọn sản phẩm vay.", "Choose a loan product.");
        return again(m.into(), StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let label = lang.t("Số tiền vay", "Principal");
    let principal = match parse_typed_amount(label, &form.principal, AmountRule::Positive) {
        Ok(a) => a.get(),
        Err(e) => {
            let m = lang.pick(e.message_vi(), e.message_en());
            return again(m, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    if form.action == "preview" {
        return match state.db.disbursement_preview(product_id, principal).await {
            Ok(rows) => render_new(&state, &signed, &form, None, Some(&rows), StatusCode::OK).await,
            Err(e) => {
                let e = AppError::from(e);
                if e.status.is_server_error() {
                    return ui.app_error(e);
                }
                let m = ui.message(&e).to_string();
                again(m, e.status).await
            }
        };
    }
    let note: String = form.note.trim().chars().take(TEXT_CHARS).collect();
    let method = PayMethod::parse(form.method.trim()).unwrap_or_default();
    let account = match bank_account(method, Some(&form.bank_account)) {
        Ok(a) => a,
        Err(e) => return again(ui.message(&e).to_string(), e.status).await,
    };
    let client = Uuid::parse_str(form.client_id.trim()).unwrap_or_else(|_| Uuid::now_v7());
    match state
        .db
        .request_disbursement(
            &who,
            worker_id,
            client,
            product_id,
            principal,
            &note,
            method,
            account.as_deref(),
        )
        .await
    {
        Ok(d) => Redirect::to(&view::link(
            "/disbursements",
            &[("requested", d.id.to_string())],
        ))
        .into_response(),
        Err(e) => {
            let e = AppError::from(e);
            if e.status.is_server_error() || e.status == StatusCode::NOT_FOUND {
                return ui.app_error(e);
            }
            let m = ui.message(&e).to_string();
            if e.code == "disbursement_conflict" {
                // The form came back with another's id (Back after sending
                // it): the next try is a request of its own.
                let form = RequestForm {
                    client_id: String::new(),
                    ..form.clone()
                };
                return render_new(&state, &signed, &form, Some(m), None, e.status).await;
            }
            again(m, e.status).await
        }
    }
}

/// `POST /disbursements/{id}/approve`
pub async fn approve(
    State(state): State<AppState>,
    signed: Signed,
    ClientIp(ip): ClientIp,
    UrlPath(id): UrlPath<i64>,
    Form(form): Form<DecideForm>,
) -> Response {
    decide(state, signed, ip, id, form, true).await
}

/// `POST /disbursements/{id}/reject`
pub async fn reject(
    State(state): State<AppState>,
    signed: Signed,
    ClientIp(ip): ClientIp,
    UrlPath(id): UrlPath<i64>,
    Form(form): Form<DecideForm>,
) -> Response {
    decide(state, signed, ip, id, form, false).await
}

async fn decide(
    state: AppState,
    signed: Signed,
    ip: Option<String>,
    id: i64,
    form: DecideForm,
    approve: bool,
) -> Response {
    let typed = form.transfer_ref.trim().to_string();
    let refused = |m: String| Flash {
        error: Some(m),
        transfer_ref: (approve && !typed.is_empty()).then(|| (id, typed.clone())),
        ..Flash::default()
    };
    let missing = (
        "Cần ghi lý do từ chối đề nghị giải ngân.",
        "Write why the disbursement is refused.",
    );
    let (who, reason) = match decision::check(&signed, ip, &form, approve, missing) {
        Checked::Go(who, reason) => (who, reason),
        Checked::Answered(r) => return r,
        Checked::NoReason(m) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return render_list(&state, &signed, refused(m), status).await;
        }
    };
    let reference = match transfer_ref(approve.then_some(form.transfer_ref.as_str())) {
        Ok(r) => r,
        Err(e) => {
            let m = signed.ui().message(&e).to_string();
            return render_list(&state, &signed, refused(m), e.status).await;
        }
    };
    let answer = state
        .db
        .decide_disbursement(&who, id, approve, reason.as_deref(), reference.as_deref())
        .await;
    match decision::outcome(&signed.ui(), answer, "/disbursements", id) {
        Outcome::Answered(r) => r,
        Outcome::Refused(m, status) => render_list(&state, &signed, refused(m), status).await,
    }
}

/// The capital form as posted.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct CapitalForm {
    csrf: String,
    client_id: String,
    branch_id: String,
    amount: String,
    received_on: String,
    source: String,
    /// `cash` (into the vault) or `transfer` (into the bank account).
    method: String,
}

/// `POST /capital`: lending capital received into a branch vault (admins).
pub async fn receive_capital(
    State(state): State<AppState>,
    signed: Signed,
    ClientIp(ip): ClientIp,
    Form(form): Form<CapitalForm>,
) -> Response {
    if let Some(r) = signed.forgery(&form.csrf) {
        return r;
    }
    if let Some(r) = signed.not_admin() {
        return r;
    }
    let ui = signed.ui();
    let lang = signed.lang;
    let who = match reviewer(&signed.user, ip) {
        Ok(w) => w,
        Err(e) => return ui.app_error(e),
    };
    let parsed = (|| {
        let branch: i64 = form.branch_id.trim().parse().map_err(|_| {
            lang.t("Hãy chọn chi nhánh nhận.", "Choose the receiving branch.")
                .to_string()
        })?;
        let label = lang.t("Số tiền", "Amount");
        let amount = parse_typed_amount(label, &form.amount, AmountRule::Positive)
            .map_err(|e| lang.pick(e.message_vi(), e.message_en()))?
            .get();
        let on = time::parse_date(form.received_on.trim()).ok_or_else(|| {
            let (why_vi, why_en) = time::date_hint(&form.received_on);
            lang.pick(
                format!("Ngày nhận không hợp lệ; {why_vi}."),
                format!("The date is not valid; {why_en}."),
            )
        })?;
        let source: String = form.source.trim().chars().take(200).collect();
        if source.is_empty() {
            return Err(lang
                .t(
                    "Cần ghi nguồn: vốn đến từ đâu.",
                    "Write the source: where the capital came from.",
                )
                .to_string());
        }
        let client = Uuid::parse_str(form.client_id.trim()).unwrap_or_else(|_| Uuid::now_v7());
        let method = PayMethod::parse(form.method.trim()).unwrap_or_default();
        Ok::<_, String>((branch, amount, on, source, client, method))
    })();
    let again = |m: String, status: StatusCode| {
        let flash = Flash {
            error: Some(m),
            capital_form: form.clone(),
            ..Flash::default()
        };
        let (state, signed) = (&state, &signed);
        async move { render_list(state, signed, flash, status).await }
    };
    let (branch, amount, on, source, client, method) = match parsed {
        Ok(p) => p,
        Err(m) => return again(m, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    match state
        .db
        .capital_receive(&who, branch, client, amount, on, &source, method)
        .await
    {
        Ok(r) => Redirect::to(&format!(
            "{}#capital-title",
            view::link("/disbursements", &[("capital", r.id.to_string())])
        ))
        .into_response(),
        Err(e) => {
            let e = AppError::from(e);
            if e.status.is_server_error() {
                return ui.app_error(e);
            }
            let m = ui.message(&e).to_string();
            if e.code == "receipt_conflict" {
                // Another receipt's id (Back after sending the form): the
                // next try is a receipt of its own.
                let form = CapitalForm {
                    client_id: String::new(),
                    ..form.clone()
                };
                let flash = Flash {
                    error: Some(m),
                    capital_form: form,
                    ..Flash::default()
                };
                return render_list(&state, &signed, flash, e.status).await;
            }
            again(m, e.status).await
        }
    }
}

/// The worker page's way in: a link to the request form, for those who may
/// ask (supervisors and admins).
pub fn worker_action(lang: Lang, worker_id: i64) -> Markup {
    html! {
        a.button #new-disbursement href=(view::link("/disbursements/new", &[("worker", worker_id.to_string())])) {
            (lang.t("Giải ngân khoản vay mới", "Pay out a new loan"))
        }
    }
}
