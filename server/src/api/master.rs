//! Master data, read by role: an officer sees the workers and loans assigned
//! to them, a supervisor their branch, an admin the fund. Objects outside the
//! caller's scope answer 404, as if they did not exist.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use sotay_core::domain::{ids, text};
use utoipa::{IntoParams, ToSchema};

use super::page;
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::db::{
    Branch, Campaign, Db, InstallmentView, LoanProduct, LoanView, Quota, Scope, UserView,
    WorkerView,
};
use crate::error::ApiPath;
use crate::error::ApiQuery;
use crate::error::{AppError, Problem};
use crate::import::rows::Role;

/// Branches: an admin sees all, others their own.
#[utoipa::path(get, path = "/api/v1/branches", security(("bearer" = [])), responses((status = 200, body = [Branch]), (status = 401, body = Problem)))]
pub async fn branches(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Vec<Branch>>, AppError> {
    let only = match user.role {
        Role::Admin => None,
        _ => Some(user.branch_id.unwrap_or(-1)),
    };
    Ok(Json(state.db.branches(only).await?))
}

/// Users: an admin sees all, a supervisor their branch's; officers may not list users.
#[utoipa::path(get, path = "/api/v1/users", security(("bearer" = [])), responses((status = 200, body = [UserView]), (status = 403, body = Problem)))]
pub async fn users(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Vec<UserView>>, AppError> {
    user.require(&[Role::Admin, Role::Supervisor])?;
    let branch = match user.role {
        Role::Admin => None,
        _ => Some(user.branch_id.unwrap_or(-1)),
    };
    Ok(Json(state.db.users(branch).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WorkerQuery {
    /// Name fragments in any order, with or without accents (`nguyen thi lan`,
    /// `Lan`, `ĐẶNG`), a phone number in any common format, CCCD digits, or
    /// a worker's code or one of their loans' codes (`NLD-00008`, `kv-000008`).
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkerPage {
    pub items: Vec<WorkerView>,
    /// Matching workers in the caller's scope.
    pub total: i64,
}

/// The most coarse matches refined per search.
const SEARCH_SCAN: i64 = 5_000;

/// Workers in the caller's scope, optionally searched.
#[utoipa::path(get, path = "/api/v1/workers", params(WorkerQuery), security(("bearer" = [])), responses((status = 200, body = WorkerPage), (status = 401, body = Problem)))]
pub async fn workers(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<WorkerQuery>,
) -> Result<Json<WorkerPage>, AppError> {
    let (limit, offset) = page(query.limit, query.offset);
    let q = query.q.as_deref().unwrap_or("");
    Ok(Json(
        search_workers(&state.db, user.scope(), q, limit, offset).await?,
    ))
}

/// Workers in `scope` matching `q` (see [`WorkerQuery::q`]; all when empty),
/// one page of them and how many match. Used by the API and the console.
pub async fn search_workers(
    db: &Db,
    scope: Scope,
    q: &str,
    limit: i64,
    offset: i64,
) -> Result<WorkerPage, AppError> {
    let q = q.trim();
    if q.is_empty() {
        let items = db.find_workers(scope, &[], None, limit, offset).await?;
        let total = db.count_workers(scope).await?;
        return Ok(WorkerPage { items, total });
    }
    // A code (letters and digits, no space): the worker, or the borrower of
    // the loan, with that code, when there is one.
    let code_like = !q.contains(char::is_whitespace)
        && q.chars().any(|c| c.is_ascii_digit())
        && q.chars().any(|c| c.is_alphabetic());
    if code_like || ids::code_key(q).is_some() {
        let items = db.workers_by_code(scope, q).await?;
        if !items.is_empty() {
            let total = items.len() as i64;
            return Ok(WorkerPage { items, total });
        }
    }
    let (terms, digits) = match ids::phone_query(q) {
        Some(d) => (Vec::new(), Some(d)),
        None => (text::query_terms(q), None),
    };
    if terms.is_empty() && digits.is_none() {
        return Ok(WorkerPage {
            items: Vec::new(),
            total: 0,
        });
    }
    let coarse = db
        .find_workers(scope, &terms, digits.as_deref(), SEARCH_SCAN, 0)
        .await?;
    let matched: Vec<WorkerView> = coarse
        .into_iter()
        .filter(|w| digits.is_some() || text::name_matches(&w.name_key, &terms))
        .collect();
    let total = matched.len() as i64;
    let items = matched
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .collect();
    Ok(WorkerPage { items, total })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkerDetail {
    pub worker: WorkerView,
    pub loans: Vec<LoanView>,
}

/// One worker with their loans.
#[utoipa::path(get, path = "/api/v1/workers/{id}", params(("id" = i64, Path, description = "the worker's id")), security(("bearer" = [])), responses((status = 200, body = WorkerDetail), (status = 404, body = Problem)))]
pub async fn worker(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<WorkerDetail>, AppError> {
    let scope = user.scope();
    let worker = state
        .db
        .worker(scope, id)
        .await?
        .ok_or_else(|| AppError::not_found("người lao động", "worker"))?;
    let loans = state.db.loans(scope, Some(id), None, 500, 0).await?;
    Ok(Json(WorkerDetail { worker, loans }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LoanQuery {
    pub worker_id: Option<i64>,
    /// `active`, `closed` or `cancelled` (paid out in error and taken back)
    pub status: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// Loans in the caller's scope.
#[utoipa::path(get, path = "/api/v1/loans", params(LoanQuery), security(("bearer" = [])), responses((status = 200, body = [LoanView]), (status = 422, body = Problem)))]
pub async fn loans(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<LoanQuery>,
) -> Result<Json<Vec<LoanView>>, AppError> {
    if let Some(s) = query.status.as_deref() {
        if !["active", "closed", "cancelled"].contains(&s) {
            return Err(AppError::invalid_field(
                "status",
                format!("status \"{s}\" không hợp lệ; dùng active, closed hoặc cancelled"),
                format!("status \"{s}\" is not valid; use active, closed or cancelled"),
            ));
        }
    }
    let (limit, offset) = page(query.limit, query.offset);
    Ok(Json(
        state
            .db
            .loans(
                user.scope(),
                query.worker_id,
                query.status.as_deref(),
                limit,
                offset,
            )
            .await?,
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoanDetail {
    pub loan: LoanView,
    pub installments: Vec<InstallmentView>,
}

/// One loan with its installment schedule and what has been paid.
#[utoipa::path(get, path = "/api/v1/loans/{id}", params(("id" = i64, Path, description = "the loan's id")), security(("bearer" = [])), responses((status = 200, body = LoanDetail), (status = 404, body = Problem)))]
pub async fn loan(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<LoanDetail>, AppError> {
    let loan = state
        .db
        .loan(user.scope(), id)
        .await?
        .ok_or_else(|| AppError::not_found("khoản vay", "loan"))?;
    let installments = state.db.installments(loan.id).await?;
    Ok(Json(LoanDetail { loan, installments }))
}

/// Loan products.
#[utoipa::path(get, path = "/api/v1/loan-products", security(("bearer" = [])), responses((status = 200, body = [LoanProduct])))]
pub async fn products(
    State(state): State<AppState>,
    _user: AuthUser,
) -> Result<Json<Vec<LoanProduct>>, AppError> {
    Ok(Json(state.db.products().await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignView {
    #[serde(flatten)]
    pub campaign: Campaign,
    /// The quotas the caller may see: an officer their branch's and their
    /// own, a supervisor their branch's and its officers', an admin all.
    pub quotas: Vec<Quota>,
}

/// Gift campaigns and welfare programmes with their quotas.
#[utoipa::path(get, path = "/api/v1/campaigns", security(("bearer" = [])), responses((status = 200, body = [CampaignView])))]
pub async fn campaigns(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Vec<CampaignView>>, AppError> {
    let quotas = state.db.quotas().await?;
    let visible = |q: &Quota| match user.role {
        Role::Admin => true,
        Role::Supervisor | Role::Cashier => q.branch_id.is_some() && q.branch_id == user.branch_id,
        Role::Officer => {
            q.officer_id == Some(user.id)
                || (q.officer_id.is_none() && q.branch_id == user.branch_id)
        }
    };
    Ok(Json(
        state
            .db
            .campaigns()
            .await?
            .into_iter()
            .map(|campaign| CampaignView {
                quotas: quotas
                    .iter()
                    .filter(|q| q.campaign_id == campaign.id && visible(q))
                    .cloned()
                    .collect(),
                campaign,
            })
            .collect(),
    ))
}
