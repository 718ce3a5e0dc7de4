//! Supervisor review: the batch queue, approve (with the cash counted) or
//! reject, repayments at the branch counter, reversals, the ledger and the
//! audit log. Supervisors act on their branch, admins on the fund; officers
//! may not. Objects of another branch answer 404.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use sotay_core::domain::money::{parse_amount, AmountRule};
use sotay_core::domain::time::{parse_date, vn_offset};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::disburse::{at_most, transfer_ref};
use super::{page, ClientIp};
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::db::{
    AccountBalance, ApprovalOutcome, AuditFilter, AuditRow, BatchDetail, BatchStatus, BatchSummary,
    BranchReversal, CampaignReceipt, CounterPayment, CounterReceipt, EnteredAgainAnswers,
    EntryView, PayMethod, RefusedSettlement, Reviewer,
};
use crate::error::ApiPath;
use crate::error::ApiQuery;
use crate::error::{ApiJson, AppError, Problem};
use crate::import::rows::Role;

pub(crate) fn reviewer(user: &AuthUser, ip: Option<String>) -> Result<Reviewer, AppError> {
    user.require(&[Role::Supervisor, Role::Admin])?;
    Ok(Reviewer {
        user_id: user.id,
        username: user.username.clone(),
        is_admin: user.role == Role::Admin,
        branch_id: user.branch_id,
        device_id: Some(user.device_id.clone()),
        ip,
    })
}

/// Who takes a repayment at the counter: a supervisor or cashier (their
/// branch) or an admin (the fund). A cashier does nothing else of review.
pub(crate) fn counter_clerk(user: &AuthUser, ip: Option<String>) -> Result<Reviewer, AppError> {
    user.require(&[Role::Supervisor, Role::Cashier, Role::Admin])?;
    Ok(Reviewer {
        user_id: user.id,
        username: user.username.clone(),
        is_admin: user.role == Role::Admin,
        branch_id: user.branch_id,
        device_id: Some(user.device_id.clone()),
        ip,
    })
}

/// The branch a reviewer's lists are limited to (none for an admin).
pub(crate) fn branch_of(r: &Reviewer) -> Option<i64> {
    (!r.is_admin).then(|| r.branch_id.unwrap_or(-1))
}

pub(crate) fn required(field: &str, value: &str) -> Result<String, AppError> {
    let v = value.trim();
    if v.is_empty() {
        // The field as the person knows it.
        let (vi, en) = match field {
            "note" => ("chú thích (đã làm gì)", "a note (what was done)"),
            "reason" => ("lý do", "a reason"),
            "source" => (
                "nguồn (ai gửi, chứng từ)",
                "the source (who sent it, the document)",
            ),
            "reference" => ("số chứng từ", "the document's reference"),
            other => (other, other),
        };
        return Err(AppError::invalid_field(
            field,
            format!("Cần ghi {vi}"),
            format!("{en} is required"),
        ));
    }
    Ok(v.to_string())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BatchQuery {
    /// `pending` (the queue), `approved`, `rejected` or `refused` (every
    /// record refused at upload: nothing to decide); all when absent or `all`.
    pub status: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// Batches of the branch with their summary: officer, device, when recorded
/// and synced, counts by kind, cash collected and anomalies flagged.
#[utoipa::path(get, path = "/api/v1/batches", params(BatchQuery), security(("bearer" = [])), responses(
    (status = 200, body = [BatchSummary]), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn batches(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<BatchQuery>,
) -> Result<Json<Vec<BatchSummary>>, AppError> {
    let who = reviewer(&user, None)?;
    let status = match query.status.as_deref() {
        None | Some("") | Some("all") => None,
        Some(s) => Some(BatchStatus::parse(s).ok_or_else(|| {
            AppError::invalid_field(
                "status",
                format!("Trạng thái \"{s}\" không hợp lệ; dùng pending, approved, rejected, refused hoặc all"),
                format!("status \"{s}\" is not valid; use pending, approved, rejected, refused or all"),
            )
        })?),
    };
    let (limit, offset) = page(query.limit, query.offset);
    Ok(Json(
        state
            .db
            .review_batches(branch_of(&who), status, limit, offset)
            .await?,
    ))
}

/// One batch with every record, its anomalies and, once decided, its fate.
#[utoipa::path(get, path = "/api/v1/batches/{id}", params(("id" = Uuid, Path, description = "the batch's id")), security(("bearer" = [])), responses(
    (status = 200, body = BatchDetail), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn batch(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<BatchDetail>, AppError> {
    let who = reviewer(&user, None)?;
    let detail = state.db.review_batch(id).await?;
    match detail {
        Some(d) if who.covers(d.summary.branch_id) => Ok(Json(d)),
        _ => Err(AppError::not_found("lô đồng bộ", "sync batch")),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Exclusion {
    pub record_id: Uuid,
    pub reason: String,
}

/// A receipt of the batch that enters again the payment of a refused one
/// (flagged `refused_receipt_same_amount`, or, when it is left out,
/// `refused_receipt_taken_at_counter`; the flag's `refused_record` names
/// the refused one). Posting, it settles the refused one; left out, it is
/// itself settled as the same cash.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EnteredAgain {
    pub record_id: Uuid,
    pub refused_record_id: Uuid,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ApproveRequest {
    /// The cash counted, whole đồng as digits (`"1490000"`).
    pub cash_received: String,
    /// Records not to post, each with a reason the officer will see.
    #[serde(default)]
    pub excluded: Vec<Exclusion>,
    /// The cash to hand over the supervisor was shown, with these
    /// exclusions (as the approval's answer gives it in `cash_expected`),
    /// whole đồng as digits (negative when the branch owes the officer).
    /// When given, the approval is refused (409 `batch_changed`) if the
    /// batch expects another amount by then (a void of the officer's
    /// arrived since).
    #[serde(default)]
    pub cash_expected: Option<String>,
    /// Refused receipts this batch enters again: marked settled with the
    /// approval (their cash comes with the batch).
    #[serde(default)]
    pub entered_again: Vec<EnteredAgain>,
    /// Receipts of this batch kept although a refused receipt of the same
    /// loan and amount had its cash taken at the counter (the batch's
    /// `refused_receipt_taken_at_counter` flag): the borrower really paid
    /// once more. The approval is refused (409 `entered_again_unconfirmed`)
    /// while such a receipt is kept and not named here.
    #[serde(default)]
    pub paid_again: Vec<Uuid>,
}

/// Approves a batch: its live records post to the ledger, the cash counted
/// moves to the vault and any difference is booked to the officer. Happens
/// once: a second decision gets 409.
#[utoipa::path(post, path = "/api/v1/batches/{id}/approve", params(("id" = Uuid, Path, description = "the batch's id")), request_body = ApproveRequest, security(("bearer" = [])), responses(
    (status = 200, body = ApprovalOutcome),
    (status = 403, description = "wrong role, or the reviewer's own records", body = Problem),
    (status = 404, body = Problem),
    (status = 409, description = "already decided, or a record cannot post", body = Problem),
    (status = 422, body = Problem)))]
pub async fn approve(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<ApproveRequest>,
) -> Result<Json<ApprovalOutcome>, AppError> {
    let who = reviewer(&user, ip)?;
    let cash = parse_amount("cash_received", &req.cash_received, AmountRule::NonNegative)
        .map_err(|e| AppError::invalid_field("cash_received", e.message_vi(), e.message_en()))?;
    let seen = match req.cash_expected.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(v) => Some(v.parse::<i64>().map_err(|_| {
            AppError::invalid_field(
                "cash_expected",
                "Số tiền phải nộp phải là số đồng nguyên, viết liền (ví dụ 1490000)",
                "must be whole đồng as digits (e.g. 1490000)",
            )
        })?),
    };
    let excluded: Vec<(Uuid, String)> = req
        .excluded
        .into_iter()
        .map(|e| (e.record_id, e.reason))
        .collect();
    let entered_again = EnteredAgainAnswers {
        pairs: req
            .entered_again
            .into_iter()
            .map(|e| (e.record_id, e.refused_record_id))
            .collect(),
        paid_again: req.paid_again,
    };
    Ok(Json(
        state
            .db
            .approve_batch(&who, id, cash.get(), &excluded, seen, &entered_again)
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReasonRequest {
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RejectRequest {
    /// What the officer reads on the phone, for every record.
    pub reason: String,
    /// Receipts of this batch that enter again a refused receipt (flagged
    /// `refused_receipt_same_amount` or `refused_receipt_taken_at_counter`
    /// with its `refused_record`): rejected, each is settled as the same
    /// cash (`Trùng phiếu …`, or `Thu tại quầy, phiếu …` when the counter
    /// took it), so that it counts once. Leave one out when the borrower
    /// really paid once more.
    #[serde(default)]
    pub entered_again: Vec<EnteredAgain>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Rejected {
    pub ok: bool,
    /// The receipts settled as a refused receipt entered again.
    pub entered_again_settled: Vec<String>,
}

/// Rejects a whole batch with a reason: nothing posts and the officer sees
/// every record rejected with that reason.
#[utoipa::path(post, path = "/api/v1/batches/{id}/reject", params(("id" = Uuid, Path, description = "the batch's id")), request_body = RejectRequest, security(("bearer" = [])), responses(
    (status = 200, body = Rejected), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn reject(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<RejectRequest>,
) -> Result<Json<Rejected>, AppError> {
    let who = reviewer(&user, ip)?;
    let reason = required("reason", &req.reason)?;
    let pairs: Vec<(Uuid, Uuid)> = req
        .entered_again
        .into_iter()
        .map(|e| (e.record_id, e.refused_record_id))
        .collect();
    let entered_again_settled = state.db.reject_batch(&who, id, &reason, &pairs).await?;
    Ok(Json(Rejected {
        ok: true,
        entered_again_settled,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SettleRequest {
    /// What was done with the cash or the package: given back to the
    /// worker, taken at the counter (with the counter's receipt), taken back.
    pub note: String,
    /// A gift handed out for real: a package comes off the branch's stock,
    /// a welfare grant out of its vault (a campaign expense), as its
    /// approval would have posted it.
    #[serde(default)]
    pub stock_out: bool,
}

/// Marks a repayment or gift refused at upload as settled outside the
/// books (supervisors of the batch's branch, admins): it leaves the
/// queue's list of refused records, and the batch shows what was done.
#[utoipa::path(post, path = "/api/v1/records/{id}/settle", params(("id" = Uuid, Path, description = "the record's client id")), request_body = SettleRequest, security(("bearer" = [])), responses(
    (status = 200, body = RefusedSettlement), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 409, description = "settled already", body = Problem),
    (status = 422, description = "not a refused repayment or gift, or no note", body = Problem)))]
pub async fn settle_refused(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<SettleRequest>,
) -> Result<Json<RefusedSettlement>, AppError> {
    let who = reviewer(&user, ip)?;
    let note: String = required("note", &req.note)?
        .chars()
        .take(NOTE_CHARS)
        .collect();
    Ok(Json(
        state
            .db
            .settle_refused(&who, id, &note, req.stock_out)
            .await?,
    ))
}

/// A note on a repayment at the counter, at most this many characters.
pub const NOTE_CHARS: usize = 200;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CounterRequest {
    /// Chosen by the client once per repayment: a retry with the same id
    /// returns the same receipt.
    pub client_id: Uuid,
    /// Whole đồng.
    pub amount: String,
    #[serde(default)]
    pub note: String,
    /// `cash` (the default) handed over at the counter, into the vault; or
    /// `transfer`: the worker paid into the branch's bank account.
    #[serde(default)]
    pub method: PayMethod,
    /// For a transfer: the bank's reference of it, from the credit notice
    /// or the statement (required for a transfer, refused for cash).
    #[serde(default)]
    pub transfer_ref: Option<String>,
    /// The record id of an officer's repayment on this loan that was
    /// refused (at upload or at review) and whose cash this is (the same
    /// amount, in cash): marked settled with this receipt, in the same
    /// transaction (refused if it is not refused, or settled already).
    /// A supervisor's or an admin's, not a cashier's.
    #[serde(default)]
    pub settles_record: Option<Uuid>,
    /// The loan took the same amount at the counter earlier today and
    /// this is another payment, not the same one sent twice: without it,
    /// 409 `repeat_unconfirmed` names the earlier receipt.
    #[serde(default)]
    pub confirm_repeat: bool,
}

/// A repayment taken at the branch by a supervisor, a cashier (their
/// branch's loans) or an admin: cash at the counter into the vault, or a
/// transfer the worker made into the branch's bank account. Posts at once
/// and reaches the officer's phone as a balance change.
#[utoipa::path(post, path = "/api/v1/loans/{id}/repayments", params(("id" = i64, Path, description = "the loan's id")), request_body = CounterRequest, security(("bearer" = [])), responses(
    (status = 200, body = CounterReceipt), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn counter_repayment(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(loan_id): ApiPath<i64>,
    ApiJson(req): ApiJson<CounterRequest>,
) -> Result<Json<CounterReceipt>, AppError> {
    let who = counter_clerk(&user, ip)?;
    // Settling a refused record is a supervisor's (or an admin's) word.
    if req.settles_record.is_some() && user.role == Role::Cashier {
        return Err(AppError::new(
            axum::http::StatusCode::FORBIDDEN,
            "forbidden",
            "Thủ quỹ không đánh dấu được phiếu bị từ chối là đã xử lý: đó là việc của giám sát chi nhánh. Hãy thu khoản này như một khoản thu thường (bỏ settles_record) rồi báo giám sát số phiếu thu của quầy",
            "a cashier cannot mark a refused receipt settled: that is the branch supervisor's. Take it as an ordinary repayment (without settles_record) and tell the supervisor the counter's receipt number",
        ));
    }
    let amount = parse_amount("amount", &req.amount, AmountRule::Positive)
        .map_err(|e| AppError::invalid_field("amount", e.message_vi(), e.message_en()))?;
    let pay = CounterPayment {
        client_id: req.client_id,
        amount: amount.get(),
        note: at_most("note", req.note.trim(), NOTE_CHARS)?,
        method: req.method,
        transfer_ref: transfer_ref(req.transfer_ref.as_deref())?,
        confirm_payoff: true,
        confirm_repeat: req.confirm_repeat,
        settles: req.settles_record,
    };
    Ok(Json(state.db.counter_repayment(&who, loan_id, &pay).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReversalRequest {
    /// The journal entry to reverse.
    pub entry_id: i64,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

/// Asks for a reversal at the branch. Someone other than the asker approves it.
#[utoipa::path(post, path = "/api/v1/reversals", request_body = ReversalRequest, security(("bearer" = [])), responses(
    (status = 200, body = Created), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn request_reversal(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<ReversalRequest>,
) -> Result<Json<Created>, AppError> {
    let who = reviewer(&user, ip)?;
    let reason = required("reason", &req.reason)?;
    let id = state
        .db
        .request_reversal(&who, req.entry_id, &reason)
        .await?;
    Ok(Json(Created { id }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReversalQuery {
    /// `pending` for those waiting for a decision.
    pub status: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/reversals", params(ReversalQuery), security(("bearer" = [])), responses(
    (status = 200, body = [BranchReversal]), (status = 403, body = Problem)))]
pub async fn reversals(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<ReversalQuery>,
) -> Result<Json<Vec<BranchReversal>>, AppError> {
    let who = reviewer(&user, None)?;
    let pending = query.status.as_deref() == Some("pending");
    Ok(Json(
        state.db.branch_reversals(branch_of(&who), pending).await?,
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReversalDecision {
    /// The reversing entry, when approved.
    pub entry_id: Option<i64>,
}

/// Approves a branch reversal: posts the opposite entry and restores the loan.
#[utoipa::path(post, path = "/api/v1/reversals/{id}/approve", params(("id" = i64, Path, description = "the request's id")), security(("bearer" = [])), responses(
    (status = 200, body = ReversalDecision), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn approve_reversal(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ReversalDecision>, AppError> {
    let who = reviewer(&user, ip)?;
    let entry_id = state.db.decide_reversal(&who, id, true, None).await?;
    Ok(Json(ReversalDecision { entry_id }))
}

#[utoipa::path(post, path = "/api/v1/reversals/{id}/reject", params(("id" = i64, Path, description = "the request's id")), request_body = ReasonRequest, security(("bearer" = [])), responses(
    (status = 200, body = ReversalDecision), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn reject_reversal(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<ReasonRequest>,
) -> Result<Json<ReversalDecision>, AppError> {
    let who = reviewer(&user, ip)?;
    let reason = required("reason", &req.reason)?;
    state
        .db
        .decide_reversal(&who, id, false, Some(&reason))
        .await?;
    Ok(Json(ReversalDecision { entry_id: None }))
}

/// Account balances of the branch (debits and credits by account and
/// sub-ledger). Debits equal credits over any branch.
#[utoipa::path(get, path = "/api/v1/ledger/balances", security(("bearer" = [])), responses(
    (status = 200, body = [AccountBalance]), (status = 403, body = Problem)))]
pub async fn balances(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Vec<AccountBalance>>, AppError> {
    let who = reviewer(&user, None)?;
    Ok(Json(state.db.ledger_balances(branch_of(&who)).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EntryQuery {
    pub loan_id: Option<i64>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// Journal entries, newest first, with their lines.
#[utoipa::path(get, path = "/api/v1/ledger/entries", params(EntryQuery), security(("bearer" = [])), responses(
    (status = 200, body = [EntryView]), (status = 403, body = Problem)))]
pub async fn entries(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<EntryQuery>,
) -> Result<Json<Vec<EntryView>>, AppError> {
    let who = reviewer(&user, None)?;
    let (limit, offset) = page(query.limit, query.offset);
    Ok(Json(
        state
            .db
            .ledger_entries(branch_of(&who), query.loan_id, limit, offset)
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Username of who acted.
    pub actor: Option<String>,
    /// e.g. `login`, `login_failed`, `refresh`, `device.revoke`, `import`,
    /// `upload`, `batch.approve`, `batch.reject`, `ledger.post`,
    /// `counter.repayment`, `reversal.request`, `reversal.approve`,
    /// `campaign.receive`.
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub device_id: Option<String>,
    /// First day, `dd/mm/yyyy` or `yyyy-mm-dd` (Vietnam time).
    pub from: Option<String>,
    /// Last day, included.
    pub to: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

fn day(
    field: &str,
    value: &Option<String>,
    next: bool,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, AppError> {
    let Some(text) = value.as_deref().filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    let d = parse_date(text).ok_or_else(|| {
        let (why_vi, why_en) = sotay_core::domain::time::date_hint(text);
        AppError::invalid_field(
            field,
            format!("Ngày \"{text}\" không hợp lệ; {why_vi}"),
            format!("date \"{text}\" is not valid; {why_en}"),
        )
    })?;
    let d = if next { d + chrono::Days::new(1) } else { d };
    Ok(d.and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(vn_offset()).single())
        .map(|t| t.with_timezone(&chrono::Utc)))
}

/// The audit log (admins): who did what, when, from which device and address.
#[utoipa::path(get, path = "/api/v1/audit", params(AuditQuery), security(("bearer" = [])), responses(
    (status = 200, body = [AuditRow]), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn audit(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<AuditRow>>, AppError> {
    user.require(&[Role::Admin])?;
    let (limit, offset) = page(q.limit, q.offset);
    let filter = AuditFilter {
        from: day("from", &q.from, false)?,
        to: day("to", &q.to, true)?,
        actor: q.actor,
        action: q.action,
        object_type: q.object_type,
        object_id: q.object_id,
        device_id: q.device_id,
        limit,
        offset,
    };
    Ok(Json(state.db.audit_log(&filter).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CampaignReceiptRequest {
    /// Chosen by the client once per receipt: a retry with the same id
    /// returns the same receipt.
    pub client_id: Uuid,
    /// The branch that received the packages (or the programme's cash).
    pub branch_id: i64,
    /// Gift packages (suất quà), or grants for a welfare programme; valued
    /// at the campaign's gift value.
    pub packages: i64,
    /// `dd/mm/yyyy` or `yyyy-mm-dd`.
    pub received_on: String,
    /// Where they came from: the federation, a donor, a delivery note.
    pub source: String,
}

/// Receives gift packages into a branch's stock for a campaign (admins), or
/// for a welfare programme its grant cash into the branch vault. Posts at
/// once: debit gift stock (or vault), credit the campaign's funding. Gifts
/// post only from stock: without this, approving a gift is refused.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/receipts", params(("id" = i64, Path, description = "the campaign's id")), request_body = CampaignReceiptRequest, security(("bearer" = [])), responses(
    (status = 200, body = CampaignReceipt), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn receive_for_campaign(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(campaign_id): ApiPath<i64>,
    ApiJson(req): ApiJson<CampaignReceiptRequest>,
) -> Result<Json<CampaignReceipt>, AppError> {
    user.require(&[Role::Admin])?;
    let who = reviewer(&user, ip)?;
    if req.packages <= 0 || req.packages > 10_000_000 {
        return Err(AppError::invalid_field(
            "packages",
            format!(
                "Số suất phải từ 1 đến 10.000.000 (nhận được {})",
                req.packages
            ),
            format!(
                "packages must be between 1 and 10,000,000 (got {})",
                req.packages
            ),
        ));
    }
    let text = req.received_on.trim();
    let received_on = parse_date(text).ok_or_else(|| {
        let (why_vi, why_en) = sotay_core::domain::time::date_hint(text);
        AppError::invalid_field(
            "received_on",
            format!("Ngày nhận \"{text}\" không hợp lệ; {why_vi}"),
            format!("received_on \"{text}\" is not a valid date; {why_en}"),
        )
    })?;
    let source = required("source", &req.source)?;
    Ok(Json(
        state
            .db
            .campaign_receive(
                &who,
                campaign_id,
                req.branch_id,
                req.client_id,
                req.packages,
                received_on,
                &source,
            )
            .await?,
    ))
}

/// What branches received for a campaign, newest first: a supervisor sees
/// their branch's, an admin every branch's.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/receipts", params(("id" = i64, Path, description = "the campaign's id")), security(("bearer" = [])), responses(
    (status = 200, body = [CampaignReceipt]), (status = 403, body = Problem)))]
pub async fn campaign_receipts(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(campaign_id): ApiPath<i64>,
) -> Result<Json<Vec<CampaignReceipt>>, AppError> {
    let who = reviewer(&user, None)?;
    Ok(Json(
        state
            .db
            .campaign_receipts(Some(campaign_id), branch_of(&who))
            .await?,
    ))
}
