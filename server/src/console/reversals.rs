//! Reversals at the branch (supervisors and admins): asking to reverse a
//! posted repayment, gift or stock receipt, with a reason, and deciding on another
//! person's request — through `Db::request_reversal` and
//! `Db::decide_reversal`, as the API. Whoever asked may not approve; an
//! approval posts the opposite entry and gives the loan back its balance.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use super::decision::{self, Checked, DecideForm, Outcome, REASON_CHARS};
use super::i18n::Lang;
use super::session::Signed;
use super::view::UrlPath;
use super::view::UrlQuery;
use super::view::{self, csrf_field, datetime, table_wrap, vnd, Nav};
use crate::api::review::{branch_of, reviewer};
use crate::api::ClientIp;
use crate::app::AppState;
use crate::db::{BranchReversal, EntryView};
use crate::error::AppError;
use crate::ledger::EntryKind;

/// Decided requests the page lists, at most.
const DECIDED_SHOWN: usize = 50;

/// What a journal entry is, for people.
pub fn entry_kind(lang: Lang, kind: &str) -> String {
    let (vi, en) = EntryKind::name(kind);
    lang.t(vi, en).to_string()
}

/// An entry's total: its debits.
pub fn entry_amount(e: &EntryView) -> i64 {
    e.lines.iter().map(|l| l.debit).sum()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    /// The request just made, or the one just decided, to confirm it.
    requested: String,
    decided: String,
}

/// `GET /reversals`
pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    UrlQuery(q): UrlQuery<ListQuery>,
) -> Response {
    let flash = Flash {
        requested: q.requested.parse().ok(),
        decided: q.decided.parse().ok(),
        error: None,
    };
    render_list(&state, &signed, flash, StatusCode::OK).await
}

#[derive(Debug, Default)]
struct Flash {
    requested: Option<i64>,
    decided: Option<i64>,
    error: Option<String>,
}

async fn render_list(state: &AppState, s: &Signed, flash: Flash, status: StatusCode) -> Response {
    let ui = s.ui();
    let lang = s.lang;
    let who = match reviewer(&s.user, None) {
        Ok(w) => w,
        Err(e) => return ui.app_error(e),
    };
    let all = match state.db.branch_reversals(branch_of(&who), false).await {
        Ok(r) => r,
        Err(e) => return ui.app_error(e.into()),
    };
    let (pending, decided): (Vec<&BranchReversal>, Vec<&BranchReversal>) =
        all.iter().partition(|r| r.decision.is_none());
    let notice = |id: Option<i64>| id.and_then(|id| all.iter().find(|r| r.id == id));
    let body = html! {
        h1 { (lang.t("Đảo bút toán", "Reversals")) }
        p.lead { (lang.t(
            "Một khoản thu hay khoản quà đã ghi sổ không bị sửa hay xoá: muốn bỏ nó, ghi một đề nghị đảo kèm lý do; một người khác (giám sát hoặc quản trị viên) duyệt thì bút toán ngược được ghi và dư nợ của khoản vay được trả lại.",
            "A posted repayment or gift is never edited or deleted: to take it back, ask for a reversal with a reason; once someone else (a supervisor or an administrator) approves, the opposite entry posts and the loan gets its balance back.",
        )) }
        @if let Some(m) = &flash.error {
            p.notice.error role="alert" #reversal-error { (m) }
        }
        @if let Some(r) = notice(flash.requested) {
            p.notice.success role="status" #flash {
                (lang.pick(
                    format!("Đã ghi đề nghị đảo bút toán số {}; chờ một người khác duyệt.", r.entry_id),
                    format!("Asked to reverse entry {}; it waits for someone else's approval.", r.entry_id),
                ))
            }
        }
        @if let Some(r) = notice(flash.decided) {
            p.notice.success role="status" #flash {
                @match r.reversal_entry_id {
                    Some(x) => (lang.pick(
                        format!("Đã duyệt: bút toán số {} được đảo bằng bút toán số {x}.", r.entry_id),
                        format!("Approved: entry {} is reversed by entry {x}.", r.entry_id),
                    )),
                    // Whoever asked took it back: withdrawn, not refused.
                    None if r.requested_by_id == s.user.id => (lang.pick(
                        format!("Đã rút lại đề nghị đảo bút toán số {}.", r.entry_id),
                        format!("Withdrew the reversal of entry {}.", r.entry_id),
                    )),
                    None => (lang.pick(
                        format!("Đã từ chối đề nghị đảo bút toán số {}.", r.entry_id),
                        format!("Refused the reversal of entry {}.", r.entry_id),
                    )),
                }
            }
        }
        h2 { (lang.t("Chờ duyệt", "Waiting for approval")) }
        @if pending.is_empty() {
            (view::empty(lang.t("Không có đề nghị đảo nào đang chờ.", "No reversal is waiting.")))
        } @else {
            (table_wrap(html! {
                table.list #pending {
                    thead { tr {
                        th { (lang.t("Bút toán", "Entry")) }
                        th.num { (lang.t("Số tiền", "Amount")) }
                        th { (lang.t("Người đề nghị", "Asked by")) }
                        th { (lang.t("Lý do", "Reason")) }
                        th { (lang.t("Quyết định", "Decision")) }
                    } }
                    tbody {
                        @for r in &pending {
                            tr id=(format!("reversal-{}", r.id)) {
                                td { (entry_cell(lang, r)) }
                                td.num.nowrap { (vnd(r.amount)) }
                                td { (r.requested_by) br; small { (datetime(r.requested_at)) } }
                                td { (r.reason) }
                                td {
                                    @if r.requested_by_id == s.user.id {
                                        small.muted { (lang.t(
                                            "Bạn đã đề nghị; cần một người khác duyệt. Bạn có thể rút đề nghị:",
                                            "You asked; someone else must approve it. You may withdraw it:"
                                        )) }
                                        form.inline method="post" action=(format!("/reversals/{}/reject", r.id)) {
                                            (csrf_field(&s.csrf))
                                            label.visually-hidden for=(format!("withdraw-{}", r.id)) { (lang.t("Lý do rút", "Why withdraw")) }
                                            input id=(format!("withdraw-{}", r.id)) name="reason" maxlength=(REASON_CHARS) required
                                                placeholder=(lang.t("Lý do rút đề nghị", "Why withdraw it"));
                                            button type="submit" { (lang.t("Rút đề nghị", "Withdraw")) }
                                        }
                                    } @else {
                                        // Not undone: a page says what posts first.
                                        a.button.primary href=(format!("/reversals/{}/approve", r.id)) {
                                            (lang.t("Duyệt…", "Approve…"))
                                        }
                                        form.inline method="post" action=(format!("/reversals/{}/reject", r.id)) {
                                            (csrf_field(&s.csrf))
                                            label.visually-hidden for=(format!("reject-{}", r.id)) { (lang.t("Lý do từ chối", "Why refuse")) }
                                            input id=(format!("reject-{}", r.id)) name="reason" maxlength=(REASON_CHARS) required
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
                        th { (lang.t("Bút toán", "Entry")) }
                        th.num { (lang.t("Số tiền", "Amount")) }
                        th { (lang.t("Người đề nghị", "Asked by")) }
                        th { (lang.t("Lý do", "Reason")) }
                        th { (lang.t("Quyết định", "Decision")) }
                    } }
                    tbody {
                        @for r in decided.iter().take(DECIDED_SHOWN) {
                            tr {
                                td { (entry_cell(lang, r)) }
                                td.num.nowrap { (vnd(r.amount)) }
                                td { (r.requested_by) br; small { (datetime(r.requested_at)) } }
                                td { (r.reason) }
                                td {
                                    @if r.decision.as_deref() == Some("approved") {
                                        span.badge.ok { (lang.t("Đã duyệt", "Approved")) }
                                        @if let Some(x) = r.reversal_entry_id {
                                            " " small { (lang.pick(format!("bút toán đảo số {x}"), format!("reversing entry {x}"))) }
                                        }
                                    } @else {
                                        span.badge.danger { (lang.t("Từ chối", "Refused")) }
                                        @if let Some(why) = &r.decision_reason {
                                            br; span.refusal-reason { (why) }
                                        }
                                    }
                                    br;
                                    small {
                                        (r.reviewer.as_deref().unwrap_or("—"))
                                        @if let Some(at) = r.decided_at { " · " (datetime(at)) }
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
        ui.page(lang.t("Đảo bút toán", "Reversals"), Nav::Reversals, body),
    )
        .into_response()
}

fn entry_cell(lang: Lang, r: &BranchReversal) -> Markup {
    html! {
        strong { "#" (r.entry_id) } " " (entry_kind(lang, &r.entry_kind))
        @if let Some(loan) = r.loan_id {
            " · " a href=(format!("/loans/{loan}")) {
                @match &r.loan_code { Some(code) => span.mono { (code) }, None => (lang.t("khoản vay", "loan")) }
            }
            @if let Some(name) = &r.worker_name { " · " (name) }
        }
        br;
        small { (r.memo) }
        @if r.decision.is_none() && matches!(r.entry_kind.as_str(), "repayment" | "counter_repayment") {
            br;
            small.warn { (lang.pick(
                format!("Khi duyệt: {} ra khỏi quỹ (hoặc tài khoản ngân hàng) chi nhánh — trả lại người vay, ghi vào đúng khoản vay, hoặc không có thật (ghi trùng)", vnd(r.amount)),
                format!("Once approved: {} leaves the branch vault (or bank account) — given back to the borrower, taken against the right loan, or never there (entered twice)", vnd(r.amount)),
            )) }
        }
        @if r.decision.is_none() && r.written_off {
            br;
            small.warn { (lang.pick(
                format!("Khi duyệt: quyết định xử lý {} bị hủy, thừa/thiếu quỹ của cán bộ trở lại như trước; quỹ tiền mặt không đổi. Cần một quản trị viên đề nghị hoặc duyệt.", vnd(r.amount)),
                format!("Once approved: the write-off of {} is undone and the officer's short/over is as before; the vault does not change. An administrator must ask for it or approve it.", vnd(r.amount)),
            )) }
        } @else if r.decision.is_none() && r.entry_kind == "over_short_settlement" {
            br;
            small.warn { (lang.pick(
                format!("Khi duyệt: khoản thanh toán {} bị hủy, tiền ra (hoặc vào) quỹ tiền mặt chi nhánh và thừa/thiếu quỹ của cán bộ trở lại như trước", vnd(r.amount)),
                format!("Once approved: the settlement of {} is undone, the cash leaves (or returns to) the branch vault and the officer's short/over is as before", vnd(r.amount)),
            )) }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewQuery {
    entry: String,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct RequestForm {
    csrf: String,
    entry_id: String,
    reason: String,
}

/// `GET /reversals/new?entry=`: the request form for one entry.
pub async fn new(
    State(state): State<AppState>,
    signed: Signed,
    UrlQuery(q): UrlQuery<NewQuery>,
) -> Response {
    let form = RequestForm {
        entry_id: q.entry,
        ..RequestForm::default()
    };
    render_new(&state, &signed, &form, None, StatusCode::OK).await
}

async fn render_new(
    state: &AppState,
    s: &Signed,
    form: &RequestForm,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let ui = s.ui();
    let lang = s.lang;
    let not_found = || ui.app_error(AppError::not_found("bút toán", "entry"));
    let Ok(id) = form.entry_id.trim().parse::<i64>() else {
        return not_found();
    };
    let who = match reviewer(&s.user, None) {
        Ok(w) => w,
        Err(e) => return ui.app_error(e),
    };
    let entry = match state.db.ledger_entry(branch_of(&who), id).await {
        Ok(Some(e)) => e,
        Ok(None) => return not_found(),
        Err(e) => return ui.app_error(e.into()),
    };
    // A counter receipt that settled an officer's refused receipt is never
    // reversed: said before a reason is typed, not after.
    let settling = match state.db.counter_settling_refusal(id).await {
        Ok(r) => r.map(|e| ui.message(&AppError::from(e)).to_string()),
        Err(e) => return ui.app_error(e.into()),
    };
    let title = lang.pick(
        format!("Đề nghị đảo bút toán số {id}"),
        format!("Ask to reverse entry {id}"),
    );
    let body = html! {
        @if let Some(loan) = entry.loan_id {
            p.crumbs { a href=(format!("/loans/{loan}")) { "← " (lang.t("Khoản vay", "Loan")) } }
        }
        h1 { (title) }
        section.card #entry {
            dl {
                dt { (lang.t("Loại", "Kind")) } dd { (entry_kind(lang, &entry.kind)) }
                dt { (lang.t("Ghi sổ lúc", "Posted at")) } dd { (datetime(entry.posted_at)) }
                dt { (lang.t("Số tiền", "Amount")) } dd { (vnd(entry_amount(&entry))) }
                dt { (lang.t("Diễn giải", "Memo")) } dd { (entry.memo) }
            }
        }
        @if let Some(m) = &error {
            p.notice.error role="alert" #request-error { (m) }
        }
        @if let Some(m) = &settling {
            p.notice.error #not-reversible { (m) }
        } @else if EntryKind::reversible_at_branch(&entry.kind) {
            form.stack method="post" action="/reversals" id="request-form" {
                (csrf_field(&s.csrf))
                input type="hidden" name="entry_id" value=(id);
                label for="reason" { (lang.t("Lý do đảo (ghi vào sổ)", "Why reverse it (written to the books)")) }
                input #reason name="reason" maxlength=(REASON_CHARS) required value=(form.reason)
                    placeholder=(lang.t("Ví dụ: ghi nhầm khoản vay, tiền chưa nhận", "E.g. the wrong loan, the cash was never received"));
                div.actions {
                    button.primary type="submit" data-busy=(lang.t("Đang ghi…", "Posting…")) {
                        (lang.t("Gửi đề nghị đảo", "Ask for the reversal"))
                    }
                }
            }
            p.hint { (lang.t(
                "Bút toán đảo chỉ được ghi khi một người khác duyệt đề nghị này ở trang Đảo bút toán.",
                "The reversal posts only once someone else approves this request on the Reversals page."
            )) }
            @if entry.kind == EntryKind::Disbursement.as_str() {
                p.notice.warn #take-back { (lang.t(
                    "Hủy giải ngân: chỉ khi chưa thu được đồng nào trên khoản vay. Tiền phải trở lại nơi đã chi (tiền mặt về quỹ chi nhánh, khoản chuyển khoản về tài khoản ngân hàng chi nhánh); khi được duyệt, khoản vay bị hủy, lịch trả nợ bị xoá và điện thoại của cán bộ bỏ khoản vay này.",
                    "Taking the loan back: only while nothing was collected on it. The money must be back where it was paid from (cash in the branch vault, a transfer in the branch's bank account); once approved the loan is cancelled, its schedule goes and the officer's phone drops it.",
                )) }
            }
            @if matches!(entry.kind.as_str(), "repayment" | "counter_repayment") {
                @let (into_vi, into_en) = if entry.lines.iter().any(|l| l.account == "bank" && l.debit > 0) {
                    ("tài khoản ngân hàng", "bank account")
                } else {
                    ("quỹ tiền mặt", "vault")
                };
                p.notice.warn #cash-out { (lang.pick(
                    format!("Khi được duyệt, {} ra khỏi {into_vi} của chi nhánh: số tiền này được trả lại người vay hoặc ghi vào đúng khoản vay; nếu phiếu này ghi trùng một khoản đã ghi, số tiền đó chưa từng có trong quỹ. Nếu không, quỹ sẽ thừa so với sổ.", vnd(entry_amount(&entry))),
                    format!("Once approved, {} leaves the branch's {into_en}: it is given back to the borrower or taken against the right loan; if this receipt entered a payment twice, that cash was never there. Otherwise the cash will not match the books.", vnd(entry_amount(&entry))),
                )) }
            }
            @if entry.kind == EntryKind::LoanOpening.as_str() {
                p.notice.warn #take-back { (lang.t(
                    "Hủy khoản vay nhập từ tệp (nhập sai ngày, số tiền hay số đã trả): chỉ khi chưa thu được đồng nào trên khoản vay kể từ khi nhập, và cần một quản trị viên đề nghị hoặc duyệt. Khi được duyệt, khoản vay bị hủy, lịch trả nợ bị xoá và điện thoại của cán bộ bỏ khoản vay này; nhập lại khoản vay đúng với một mã mới.",
                    "Cancelling a loan imported from a file (a wrong date, amount or amount paid): only while nothing was collected on it since the import, and an administrator must ask for it or approve it. Once approved the loan is cancelled, its schedule goes and the officer's phone drops it; import the right loan under a new code.",
                )) }
            }
        } @else {
            p.notice.error #not-reversible { (lang.t(
                "Chỉ đảo được khoản thu nợ, khoản quà, khoản hỗ trợ, phiếu nhập kho quà, vốn cho vay nhận về, khoản giải ngân hay khoản vay nhập từ tệp chưa thu tiền, hay lần nộp/rút tiền ngân hàng.",
                "Only a repayment, a gift, a welfare grant, a stock receipt, lending capital received, a loan paid out or imported with nothing collected, or a bank deposit or withdrawal can be reversed."
            )) }
        }
    };
    (status, ui.page(&title, Nav::Reversals, body)).into_response()
}

/// `POST /reversals`: asks to reverse an entry.
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
    let who = match reviewer(&signed.user, ip) {
        Ok(w) => w,
        Err(e) => return ui.app_error(e),
    };
    let Ok(entry_id) = form.entry_id.trim().parse::<i64>() else {
        return ui.app_error(AppError::not_found("bút toán", "entry"));
    };
    let reason: String = form.reason.trim().chars().take(REASON_CHARS).collect();
    if reason.is_empty() {
        let m = ui.t(
            "Cần ghi lý do đảo bút toán.",
            "Write why the entry is to be reversed.",
        );
        return render_new(
            &state,
            &signed,
            &form,
            Some(m.into()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match state.db.request_reversal(&who, entry_id, &reason).await {
        Ok(id) => Redirect::to(&view::link("/reversals", &[("requested", id.to_string())]))
            .into_response(),
        Err(e) => {
            let e = AppError::from(e);
            if e.status.is_server_error() || e.status == StatusCode::NOT_FOUND {
                return ui.app_error(e);
            }
            let m = ui.message(&e).to_string();
            render_new(&state, &signed, &form, Some(m), e.status).await
        }
    }
}

/// `POST /reversals/{id}/approve`
pub async fn approve(
    State(state): State<AppState>,
    signed: Signed,
    ClientIp(ip): ClientIp,
    UrlPath(id): UrlPath<i64>,
    Form(form): Form<DecideForm>,
) -> Response {
    decide(state, signed, ip, id, form, true).await
}

/// `GET /reversals/{id}/approve`: what the approval posts, to confirm.
pub async fn confirm_approve(
    State(state): State<AppState>,
    signed: Signed,
    UrlPath(id): UrlPath<i64>,
) -> Response {
    let ui = signed.ui();
    let lang = signed.lang;
    let who = match reviewer(&signed.user, None) {
        Ok(w) => w,
        Err(e) => return ui.app_error(e),
    };
    let r = match state.db.branch_reversal(branch_of(&who), id).await {
        Ok(Some(r)) => r,
        Ok(None) => return ui.app_error(AppError::not_found("đề nghị đảo", "reversal request")),
        Err(e) => return ui.app_error(e.into()),
    };
    let r = &r;
    // Decided already, or one's own: the list, saying so.
    let why = if let Some(d) = &r.decision {
        let by = r.reviewer.clone().unwrap_or_default();
        let at = r.decided_at.map(datetime).unwrap_or_default();
        Some(if d == "approved" {
            lang.pick(
                format!(
                    "Đề nghị đảo bút toán số {} đã được {by} duyệt lúc {at}.",
                    r.entry_id
                ),
                format!(
                    "The reversal of entry {} was already approved by {by} at {at}.",
                    r.entry_id
                ),
            )
        } else {
            lang.pick(
                format!(
                    "Đề nghị đảo bút toán số {} đã bị {by} từ chối lúc {at}.",
                    r.entry_id
                ),
                format!(
                    "The reversal of entry {} was already refused by {by} at {at}.",
                    r.entry_id
                ),
            )
        })
    } else if r.requested_by_id == signed.user.id {
        Some(
            lang.t(
                "Bạn đã đề nghị đảo bút toán này: cần một người khác duyệt.",
                "You asked for this reversal: someone else must approve it.",
            )
            .to_string(),
        )
    } else {
        None
    };
    if let Some(m) = why {
        let flash = Flash {
            error: Some(m),
            ..Flash::default()
        };
        return render_list(&state, &signed, flash, StatusCode::CONFLICT).await;
    }
    let body = html! {
        p.crumbs { a href="/reversals" { "← " (lang.t("Đảo bút toán", "Reversals")) } }
        h1 { (lang.t("Xác nhận duyệt đảo bút toán", "Confirm the reversal")) }
        p.lead { (lang.t(
            "Duyệt thì bút toán ngược được ghi ngay và không hoàn tác được (muốn ghi lại khoản đã đảo thì ghi một khoản mới).",
            "Once approved, the opposite entry posts at once and is not undone (to book it again, record it anew).",
        )) }
        section.card #reversal-confirmation {
            dl {
                dt { (lang.t("Bút toán", "Entry")) } dd { (entry_cell(lang, r)) }
                dt { (lang.t("Số tiền", "Amount")) } dd.num #reversal-amount { (vnd(r.amount)) }
                dt { (lang.t("Người đề nghị", "Asked by")) } dd { (r.requested_by) " · " (datetime(r.requested_at)) }
                dt { (lang.t("Lý do", "Reason")) } dd { em { (r.reason) } }
            }
        }
        form method="post" data-fresh-on-back="1" action=(format!("/reversals/{}/approve", r.id)) id="reversal-confirm-form" {
            (csrf_field(&signed.csrf))
            div.actions {
                button.primary type="submit" data-busy=(lang.t("Đang ghi…", "Posting…")) {
                    (lang.t("Duyệt và ghi bút toán đảo", "Approve and post the reversal"))
                }
                a.button href="/reversals" { (lang.t("Quay lại", "Back")) }
            }
        }
    };
    ui.page(
        lang.t("Xác nhận duyệt đảo bút toán", "Confirm the reversal"),
        Nav::Reversals,
        body,
    )
    .into_response()
}

/// `POST /reversals/{id}/reject`
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
    let refused = |m: String| Flash {
        error: Some(m),
        ..Flash::default()
    };
    let missing = (
        "Cần ghi lý do từ chối đề nghị đảo.",
        "Write why the reversal is refused.",
    );
    let (who, reason) = match decision::check(&signed, ip, &form, approve, missing) {
        Checked::Go(who, reason) => (who, reason),
        Checked::Answered(r) => return r,
        Checked::NoReason(m) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return render_list(&state, &signed, refused(m), status).await;
        }
    };
    let answer = state
        .db
        .decide_reversal(&who, id, approve, reason.as_deref())
        .await;
    match decision::outcome(&signed.ui(), answer, "/reversals", id) {
        Outcome::Answered(r) => r,
        Outcome::Refused(m, status) => render_list(&state, &signed, refused(m), status).await,
    }
}
