//! Loans paid out at the branch: lending capital received into a branch's
//! vault or bank account (admins) and disbursements, asked for by a
//! supervisor or an admin and approved by someone else, when the loan is
//! created and its money leaves the vault (cash) or the bank account (a
//! transfer to the worker's account).

use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use sotay_core::domain::money::{parse_amount, AmountRule};
use sotay_core::domain::time::parse_date;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::review::{branch_of, counter_clerk, required, reviewer, ReasonRequest};
use super::ClientIp;
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::db::{
    BankDirection, BankMove, CapitalReceipt, Disbursement, NewBankMove, NewOverShort,
    OverShortSettlement, PayMethod,
};
use crate::error::ApiPath;
use crate::error::ApiQuery;
use crate::error::{ApiJson, AppError, Problem};
use crate::import::rows::Role;

/// `text` trimmed, refused above `max` characters.
pub(crate) fn at_most(field: &str, text: &str, max: usize) -> Result<String, AppError> {
    let t = text.trim();
    if t.chars().count() > max {
        return Err(AppError::invalid_field(
            field,
            format!("{field} dài quá {max} ký tự"),
            format!("{field} is longer than {max} characters"),
        ));
    }
    Ok(t.to_string())
}

fn amount(field: &str, text: &str) -> Result<i64, AppError> {
    parse_amount(field, text, AmountRule::Positive)
        .map(|a| a.get())
        .map_err(|e| AppError::invalid_field(field, e.message_vi(), e.message_en()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CapitalRequest {
    /// Chosen by the client once per receipt: a retry with the same id
    /// returns the same receipt.
    pub client_id: Uuid,
    pub branch_id: i64,
    /// Whole đồng.
    pub amount: String,
    /// `dd/mm/yyyy` or `yyyy-mm-dd`.
    pub received_on: String,
    /// Where the money came from: the fund's head office, a transfer slip.
    pub source: String,
    /// `cash` (the default) into the branch vault, or `transfer` into the
    /// branch's bank account.
    #[serde(default)]
    pub method: PayMethod,
}

/// Records lending capital the fund sent a branch (admins). Posts at once:
/// debit the branch vault (cash) or bank account (a transfer), credit the
/// fund's lending capital. Loans are paid out of them.
#[utoipa::path(post, path = "/api/v1/capital-receipts", request_body = CapitalRequest, security(("bearer" = [])), responses(
    (status = 200, body = CapitalReceipt), (status = 403, body = Problem), (status = 409, body = Problem),
    (status = 422, body = Problem)))]
pub async fn receive_capital(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<CapitalRequest>,
) -> Result<Json<CapitalReceipt>, AppError> {
    user.require(&[Role::Admin])?;
    let who = reviewer(&user, ip)?;
    let amount = amount("amount", &req.amount)?;
    let text = req.received_on.trim();
    let received_on = parse_date(text).ok_or_else(|| {
        let (why_vi, why_en) = sotay_core::domain::time::date_hint(text);
        AppError::invalid_field(
            "received_on",
            format!("Ngày nhận \"{text}\" không hợp lệ; {why_vi}"),
            format!("received_on \"{text}\" is not a valid date; {why_en}"),
        )
    })?;
    let source = at_most("source", &required("source", &req.source)?, 200)?;
    Ok(Json(
        state
            .db
            .capital_receive(
                &who,
                req.branch_id,
                req.client_id,
                amount,
                received_on,
                &source,
                req.method,
            )
            .await?,
    ))
}

/// Lending capital received, newest first: a supervisor sees their branch's,
/// an admin every branch's.
#[utoipa::path(get, path = "/api/v1/capital-receipts", security(("bearer" = [])), responses(
    (status = 200, body = [CapitalReceipt]), (status = 403, body = Problem)))]
pub async fn capital_receipts(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Vec<CapitalReceipt>>, AppError> {
    let who = reviewer(&user, None)?;
    Ok(Json(state.db.capital_receipts(branch_of(&who)).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BankMoveRequest {
    /// Chosen by the client once per move: a retry with the same id
    /// returns the same move.
    pub client_id: Uuid,
    pub branch_id: i64,
    /// `deposit` (cash from the vault into the bank account) or
    /// `withdrawal` (cash from the bank account into the vault). The bank's
    /// charges and interest are posted from its statement
    /// (`POST /api/v1/bank-statements/{id}/lines/{line_no}`).
    pub direction: BankDirection,
    /// Whole đồng.
    pub amount: String,
    /// The bank slip's reference (giấy nộp tiền, séc rút tiền).
    pub reference: String,
}

/// Records cash the branch paid into its bank account or drew from it (a
/// supervisor or the cashier of the branch, or an admin), posted at once between the
/// vault and the bank account; the one it leaves must hold the amount.
#[utoipa::path(post, path = "/api/v1/bank-moves", request_body = BankMoveRequest, security(("bearer" = [])), responses(
    (status = 200, body = BankMove), (status = 403, body = Problem), (status = 409, body = Problem),
    (status = 422, body = Problem)))]
pub async fn move_cash(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<BankMoveRequest>,
) -> Result<Json<BankMove>, AppError> {
    let who = counter_clerk(&user, ip)?;
    let amount = amount("amount", &req.amount)?;
    let reference = at_most("reference", &required("reference", &req.reference)?, 100)?;
    let m = NewBankMove {
        branch_id: req.branch_id,
        client_id: req.client_id,
        direction: req.direction,
        amount,
        reference: &reference,
        from_line: None,
    };
    Ok(Json(state.db.bank_move(&who, &m).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OverShortRequest {
    /// Chosen by the client once per settlement: a retry with the same id
    /// returns the same settlement.
    pub client_id: Uuid,
    /// Whole đồng.
    pub amount: String,
    /// What happened (`Nộp bù tiền thiếu lô 05/12`).
    pub note: String,
    /// The branch whose account is settled, when not the officer's own
    /// (a balance left at a branch they moved from).
    #[serde(default)]
    pub branch_id: Option<i64>,
    /// Written off on the fund's decision instead of paid in cash (an
    /// admin only): the fund bears the shortage, or keeps the overage; the
    /// note names the decision.
    #[serde(default)]
    pub write_off: bool,
}

/// Settles an officer's over/short account at the officer's branch. In
/// cash (a supervisor or the cashier of the branch, or an admin): the
/// officer pays a shortage counted at approval into the vault, or the vault
/// pays an overage back to the officer. Written off (`write_off`, an admin
/// only, on the fund's decision): the fund bears the shortage or keeps the
/// overage, the vault unmoved. The direction follows the balance, never
/// more than it. Posted at once; the officer's phone learns the balance on
/// its next sync.
#[utoipa::path(post, path = "/api/v1/officers/{id}/over-short", request_body = OverShortRequest,
    params(("id" = i64, Path, description = "The officer's user id")), security(("bearer" = [])), responses(
    (status = 200, body = OverShortSettlement), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn settle_over_short(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(officer_id): ApiPath<i64>,
    ApiJson(req): ApiJson<OverShortRequest>,
) -> Result<Json<OverShortSettlement>, AppError> {
    let who = counter_clerk(&user, ip)?;
    let amount = amount("amount", &req.amount)?;
    let note = at_most("note", &required("note", &req.note)?, 200)?;
    let m = NewOverShort {
        client_id: req.client_id,
        officer_id,
        branch_id: req.branch_id,
        amount,
        note: &note,
        write_off: req.write_off,
    };
    Ok(Json(state.db.over_short_settle(&who, &m).await?))
}

/// Bank moves (cash paid in or drawn, the bank's charges and interest),
/// newest first: a supervisor or cashier sees
/// their branch's, an admin every branch's.
#[utoipa::path(get, path = "/api/v1/bank-moves", security(("bearer" = [])), responses(
    (status = 200, body = [BankMove]), (status = 403, body = Problem)))]
pub async fn bank_moves(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Vec<BankMove>>, AppError> {
    let who = counter_clerk(&user, None)?;
    Ok(Json(state.db.bank_moves(branch_of(&who)).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DisbursementRequest {
    /// Chosen by the client once per request: a retry with the same id
    /// returns the same request.
    pub client_id: Uuid,
    pub worker_id: i64,
    /// The loan product: its rate, method, frequency and number of
    /// installments make the schedule; the principal must be within its
    /// limits.
    pub product_id: i64,
    /// Whole đồng.
    pub principal: String,
    #[serde(default)]
    pub note: String,
    /// `cash` (the default) from the branch vault, or `transfer` from the
    /// branch's bank account to the worker's.
    #[serde(default)]
    pub method: PayMethod,
    /// For a transfer: the worker's bank and account number, e.g.
    /// `Vietcombank 0071000123456`.
    #[serde(default)]
    pub bank_account: Option<String>,
}

/// The worker's bank account a transfer goes to: given for a transfer
/// only, with the account number's digits in it.
pub fn bank_account(method: PayMethod, given: Option<&str>) -> Result<Option<String>, AppError> {
    let given = given.map(str::trim).filter(|t| !t.is_empty());
    match (method, given) {
        (PayMethod::Cash, None) => Ok(None),
        (PayMethod::Cash, Some(_)) => Err(AppError::invalid_field(
            "bank_account",
            "Giải ngân tiền mặt không cần tài khoản ngân hàng; chọn chuyển khoản hoặc bỏ trống",
            "a cash disbursement takes no bank account; choose transfer or leave it empty",
        )),
        (PayMethod::Transfer, None) => Err(AppError::invalid_field(
            "bank_account",
            "Chuyển khoản cần tài khoản của người vay: tên ngân hàng và số tài khoản",
            "a transfer needs the borrower's account: the bank's name and the account number",
        )),
        (PayMethod::Transfer, Some(t)) => {
            let digits = t.chars().filter(char::is_ascii_digit).count();
            if !(6..=20).contains(&digits) {
                return Err(AppError::invalid_field(
                    "bank_account",
                    format!("\"{t}\" không có số tài khoản (6–20 chữ số); ghi tên ngân hàng và số tài khoản"),
                    format!("\"{t}\" has no account number (6–20 digits); write the bank's name and the account number"),
                ));
            }
            Ok(Some(at_most("bank_account", t, 100)?))
        }
    }
}

/// What an approval carries: for a transfer, the bank's reference of it.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ApproveDisbursementRequest {
    /// The bank's transaction reference of the transfer to the worker
    /// (required to approve a transfer, refused for cash).
    #[serde(default)]
    pub transfer_ref: Option<String>,
}

/// A bank transaction reference as given: none when empty; else kept as
/// its [`reference_key`](crate::db::reference_key), letters and digits in
/// capitals (`ft 2633-9000001` is `FT26339000001`), so that one transfer
/// typed twice is recognised however it was typed; checked length. One
/// typed with no letter or digit (`--`) is refused.
pub fn transfer_ref(given: Option<&str>) -> Result<Option<String>, AppError> {
    let given = given.unwrap_or_default();
    let key = crate::db::reference_key(given);
    if key.is_empty() {
        if given.trim().is_empty() {
            return Ok(None);
        }
        return Err(AppError::invalid_field(
            "transfer_ref",
            "Mã giao dịch ngân hàng phải có chữ hoặc số, như trên giấy báo có hoặc sao kê (ví dụ FT26342001234)",
            "the bank's transaction reference must have letters or digits, as on the credit notice or the statement (e.g. FT26342001234)",
        ));
    }
    Ok(Some(at_most("transfer_ref", &key, 100)?))
}

/// Asks for a new loan for a worker of the branch (a supervisor, or an
/// admin). Nothing is paid until someone else approves it.
#[utoipa::path(post, path = "/api/v1/disbursements", request_body = DisbursementRequest, security(("bearer" = [])), responses(
    (status = 200, body = Disbursement), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn request_disbursement(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<DisbursementRequest>,
) -> Result<Json<Disbursement>, AppError> {
    let who = reviewer(&user, ip)?;
    let principal = amount("principal", &req.principal)?;
    let note = at_most("note", &req.note, 500)?;
    let account = bank_account(req.method, req.bank_account.as_deref())?;
    Ok(Json(
        state
            .db
            .request_disbursement(
                &who,
                req.worker_id,
                req.client_id,
                req.product_id,
                principal,
                &note,
                req.method,
                account.as_deref(),
            )
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DisbursementQuery {
    /// `pending` for those waiting for a decision.
    pub status: Option<String>,
    /// One worker's only.
    pub worker_id: Option<i64>,
}

/// Disbursements of the branch (an admin: the fund), newest first.
#[utoipa::path(get, path = "/api/v1/disbursements", params(DisbursementQuery), security(("bearer" = [])), responses(
    (status = 200, body = [Disbursement]), (status = 403, body = Problem)))]
pub async fn disbursements(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<DisbursementQuery>,
) -> Result<Json<Vec<Disbursement>>, AppError> {
    let who = reviewer(&user, None)?;
    let pending = query.status.as_deref() == Some("pending");
    Ok(Json(
        state
            .db
            .disbursements(branch_of(&who), query.worker_id, pending)
            .await?,
    ))
}

/// Approves a disbursement: the loan is created with its schedule from
/// today, its cash leaves the branch vault (a transfer: the bank account),
/// which must hold it, and the worker's officer receives the loan at the
/// next sync. A transfer is approved once made, with the bank's reference
/// of it in the body; a cash one takes no body.
#[utoipa::path(post, path = "/api/v1/disbursements/{id}/approve", params(("id" = i64, Path, description = "the request's id")), request_body(content = Option<ApproveDisbursementRequest>), security(("bearer" = [])), responses(
    (status = 200, body = Disbursement), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn approve_disbursement(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<i64>,
    body: Bytes,
) -> Result<Json<Disbursement>, AppError> {
    let who = reviewer(&user, ip)?;
    let req = if body.iter().all(u8::is_ascii_whitespace) {
        ApproveDisbursementRequest::default()
    } else {
        Json::<Option<ApproveDisbursementRequest>>::from_bytes(&body)?
            .0
            .unwrap_or_default()
    };
    let reference = transfer_ref(req.transfer_ref.as_deref())?;
    Ok(Json(
        state
            .db
            .decide_disbursement(&who, id, true, None, reference.as_deref())
            .await?,
    ))
}

/// Rejects a disbursement with a reason; nothing is paid.
#[utoipa::path(post, path = "/api/v1/disbursements/{id}/reject", params(("id" = i64, Path, description = "the request's id")), request_body = ReasonRequest, security(("bearer" = [])), responses(
    (status = 200, body = Disbursement), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 409, body = Problem)))]
pub async fn reject_disbursement(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<ReasonRequest>,
) -> Result<Json<Disbursement>, AppError> {
    let who = reviewer(&user, ip)?;
    let reason = required("reason", &req.reason)?;
    Ok(Json(
        state
            .db
            .decide_disbursement(&who, id, false, Some(&reason), None)
            .await?,
    ))
}
