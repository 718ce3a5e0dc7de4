//! Bank statements of a branch's bank account: the file the bank exports
//! (CSV or XLSX), kept as it was, and reconciled with the account's book
//! each time it is read (see [`crate::statement`]).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::disburse::at_most;
use super::review::{branch_of, reviewer};
use super::ClientIp;
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::db::{BankDirection, BankMove, Reviewer, StatementSummary};
use crate::error::ApiPath;
use crate::error::ApiQuery;
use crate::error::{ApiJson, AppError, Problem};
use crate::import::rows::RowError;
use crate::statement::{self, LineError, StatementView};

/// A statement file, at most this many bytes.
pub const BODY_LIMIT: usize = 10 * 1024 * 1024;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
#[serde(default)]
pub struct StatementQuery {
    /// The branch whose bank account the statement is of (a supervisor's
    /// own branch when not given).
    pub branch_id: Option<i64>,
    /// The file's name as the bank gave it, to find it again.
    pub file_name: Option<String>,
}

/// A statement kept and reconciled.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatementKept {
    pub id: i64,
    /// The same file of the same branch was kept before: nothing was
    /// written again.
    pub duplicate: bool,
    pub reconciliation: StatementView,
}

/// The reasons a file is not a statement, line by line.
pub fn unreadable(file: &str, errors: Vec<LineError>) -> AppError {
    let n = errors.len();
    let mut e = AppError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "statement_unreadable",
        format!("Không đọc được sao kê {file} ({n} lỗi); chưa có gì được lưu"),
        format!("statement {file} cannot be read ({n} error(s)); nothing was kept"),
    );
    e.errors = errors
        .into_iter()
        .map(|l| RowError {
            file: file.to_string(),
            line: l.line_no.max(0) as u64,
            column: l.column,
            message_vi: l.vi,
            message_en: l.en,
            refers_to: None,
            unlisted: 0,
        })
        .collect();
    e
}

/// Reads, keeps and reconciles a statement file for `branch_id` (shared by
/// the API and the console).
pub async fn keep(
    state: &AppState,
    who: &Reviewer,
    branch_id: Option<i64>,
    file_name: Option<&str>,
    bytes: &[u8],
) -> Result<StatementKept, AppError> {
    let Some(branch_id) = branch_id.or(who.branch_id) else {
        return Err(AppError::invalid_field(
            "branch_id",
            "Chọn chi nhánh có tài khoản ngân hàng của sao kê",
            "choose the branch whose bank account the statement is of",
        ));
    };
    let name = at_most(
        "file_name",
        file_name
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or("sao-ke"),
        200,
    )?;
    if bytes.is_empty() {
        return Err(AppError::invalid_field(
            "file",
            "Tệp sao kê trống; chọn tệp CSV hoặc XLSX tải từ ngân hàng điện tử",
            "the statement file is empty; choose the CSV or XLSX file exported from internet banking",
        ));
    }
    let lines = statement::read(bytes).map_err(|e| unreadable(&name, e))?;
    let sha256 = hex::encode(Sha256::digest(bytes));
    let (id, duplicate) = state
        .db
        .statement_keep(who, branch_id, &name, &sha256, &lines)
        .await?;
    let book = state
        .db
        .statement_with_book(branch_of(who), id)
        .await?
        .ok_or_else(not_found)?;
    Ok(StatementKept {
        id,
        duplicate,
        reconciliation: statement::view(book),
    })
}

fn not_found() -> AppError {
    AppError::not_found("sao kê", "statement")
}

/// Imports a bank statement of a branch's bank account (a supervisor of
/// the branch, or an admin): the CSV or XLSX file the bank exports, as the
/// body. Columns are recognised by their usual names, in Vietnamese or
/// English (date, reference, description, debit, credit or a signed amount,
/// balance). The statement is kept (the same file again is not kept twice)
/// and reconciled with the bank account's book over its days.
#[utoipa::path(post, path = "/api/v1/bank-statements", params(StatementQuery),
    request_body(content = String, content_type = "text/csv"), security(("bearer" = [])), responses(
    (status = 200, body = StatementKept), (status = 403, body = Problem),
    (status = 422, description = "not a statement, with each line's error; nothing kept", body = Problem)))]
pub async fn import(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    ApiQuery(q): ApiQuery<StatementQuery>,
    body: Bytes,
) -> Result<Json<StatementKept>, AppError> {
    let who = reviewer(&user, ip)?;
    Ok(Json(
        keep(&state, &who, q.branch_id, q.file_name.as_deref(), &body).await?,
    ))
}

/// The bank statements kept (the branch's; every branch's for an admin),
/// newest first.
#[utoipa::path(get, path = "/api/v1/bank-statements", security(("bearer" = [])), responses(
    (status = 200, body = [StatementSummary]), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Vec<StatementSummary>>, AppError> {
    let who = reviewer(&user, None)?;
    Ok(Json(state.db.statements(branch_of(&who)).await?))
}

/// One kept statement reconciled with the bank account's book as it is
/// now: each line matched by the bank's reference recorded with an entry,
/// or by amount and day, or not in the book; the book's entries not on the
/// statement; the balances.
#[utoipa::path(get, path = "/api/v1/bank-statements/{id}", params(("id" = i64, Path, description = "the statement's id")), security(("bearer" = [])), responses(
    (status = 200, body = StatementView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn show(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<StatementView>, AppError> {
    let who = reviewer(&user, None)?;
    let book = state
        .db
        .statement_with_book(branch_of(&who), id)
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(statement::view(book)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LinePostRequest {
    /// Chosen by the client once per posting: a retry with the same id
    /// returns the same move.
    pub client_id: Uuid,
    /// What the line is: `charge` (a fee the bank took) or `withdrawal`
    /// (cash drawn) for money out; `interest` (paid by the bank) or
    /// `deposit` (cash paid in) for money in.
    pub direction: BankDirection,
}

/// Posts a statement line that matches nothing in the books (a supervisor
/// of the branch, or an admin): the bank's charge or interest, or cash paid
/// in or drawn that nobody recorded. Its amount, reference and day are the
/// line's; the entry posts now, and the reconciliation matches it to the
/// line by the day the bank booked it. 422 `statement_line_way` when the
/// kind is the other way than the line; 409 `statement_line_in_book` when
/// the line already matches an entry, `statement_line_posted` when it was
/// posted and stands, `vault_short` / `bank_short` when the account it
/// leaves does not hold the amount.
#[utoipa::path(post, path = "/api/v1/bank-statements/{id}/lines/{line_no}", params(("id" = i64, Path, description = "the statement's id"), ("line_no" = i64, Path, description = "the line's number in the statement")), request_body = LinePostRequest,
    security(("bearer" = [])), responses(
    (status = 200, body = BankMove), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn post_line(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    ApiPath((id, line_no)): ApiPath<(i64, i64)>,
    ApiJson(req): ApiJson<LinePostRequest>,
) -> Result<Json<BankMove>, AppError> {
    let who = reviewer(&user, ip)?;
    Ok(Json(
        state
            .db
            .statement_line_post(&who, id, line_no, req.client_id, req.direction)
            .await
            .map_err(|e| match e {
                crate::db::DbError::NotFound => not_found(),
                e => e.into(),
            })?,
    ))
}
