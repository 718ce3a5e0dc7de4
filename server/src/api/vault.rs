//! The branch's count of its vault (kiểm kê quỹ tiền mặt): the cash found,
//! recorded beside the vault's balance on the books, by the branch's
//! cashier or supervisor or an admin. Nothing is posted to the ledger: a
//! difference is for the branch to investigate and the fund to decide.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use sotay_core::domain::money::{parse_amount, AmountRule};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::disburse::at_most;
use super::review::{branch_of, counter_clerk};
use super::ClientIp;
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::db::{Denomination, NewVaultCount, Reviewer, VaultCount};
use crate::error::{ApiJson, ApiQuery, AppError, Problem};

#[derive(Debug, Deserialize, ToSchema)]
pub struct VaultCountRequest {
    /// Chosen by the client once per count: a retry with the same id
    /// returns the same count.
    pub client_id: Uuid,
    /// The branch counted: required for an admin; a cashier's or
    /// supervisor's own branch when absent.
    #[serde(default)]
    pub branch_id: Option<i64>,
    /// The cash found in the vault, whole đồng (0 or more).
    pub counted: String,
    /// At most 200 characters; may be empty.
    #[serde(default)]
    pub note: String,
    /// Optionally the count by denomination (500.000 ₫ … 200 ₫): their sum
    /// must equal `counted`.
    #[serde(default)]
    pub denominations: Vec<Denomination>,
}

/// The branch a count or a list is about: an admin names it; anyone else
/// has their own (another branch's answers 404).
fn branch_asked(
    who: &Reviewer,
    asked: Option<i64>,
    required: bool,
) -> Result<Option<i64>, AppError> {
    if who.is_admin {
        if required && asked.is_none() {
            return Err(AppError::invalid_field(
                "branch_id",
                "Cần chọn chi nhánh kiểm kê quỹ".to_string(),
                "branch_id is required: the branch whose vault was counted".to_string(),
            ));
        }
        return Ok(asked);
    }
    let own = who.branch_id.unwrap_or(-1);
    match asked {
        Some(b) if b != own => Err(AppError::not_found("chi nhánh", "branch")),
        _ => Ok(Some(own)),
    }
}

/// Records a count of a branch's vault (its cashier or supervisor, or an
/// admin) with the vault's balance on the books read in the same
/// transaction; answers the count with `book_balance` and `difference`
/// (counted − book: negative, short). Posts nothing to the ledger.
#[utoipa::path(post, path = "/api/v1/vault-counts", request_body = VaultCountRequest, security(("bearer" = [])), responses(
    (status = 200, body = VaultCount), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn record(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<VaultCountRequest>,
) -> Result<Json<VaultCount>, AppError> {
    let who = counter_clerk(&user, ip)?;
    let branch_id = branch_asked(&who, req.branch_id, true)?.unwrap_or(-1);
    let counted = parse_amount("counted", &req.counted, AmountRule::NonNegative)
        .map(|a| a.get())
        .map_err(|e| AppError::invalid_field("counted", e.message_vi(), e.message_en()))?;
    let note = at_most("note", &req.note, 200)?;
    let m = NewVaultCount {
        client_id: req.client_id,
        branch_id,
        counted,
        note: &note,
        denominations: req.denominations,
    };
    Ok(Json(state.db.vault_count(&who, &m).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VaultCountQuery {
    /// One branch's (an admin; anyone else sees their own).
    pub branch_id: Option<i64>,
    /// At most this many, 100 when absent (at most 500).
    pub limit: Option<i64>,
}

/// Counts of the vault, newest first: a cashier or supervisor sees their
/// branch's, an admin every branch's or one's.
#[utoipa::path(get, path = "/api/v1/vault-counts", params(VaultCountQuery), security(("bearer" = [])), responses(
    (status = 200, body = [VaultCount]), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<VaultCountQuery>,
) -> Result<Json<Vec<VaultCount>>, AppError> {
    let who = counter_clerk(&user, None)?;
    let branch = match branch_asked(&who, query.branch_id, false)? {
        Some(b) => Some(b),
        None => branch_of(&who),
    };
    let limit = query.limit.unwrap_or(100).clamp(1, 500);
    Ok(Json(state.db.vault_counts(branch, limit).await?))
}
