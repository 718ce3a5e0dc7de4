//! The ledger's balances (supervisors: their branch; admins: the fund or one
//! branch): each account's debits, credits and balance, split by officer
//! (cash they hold, their shortages) and by campaign (stock, spending,
//! funding), with the check that debits equal credits.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use super::i18n::Lang;
use super::session::Signed;
use super::view::UrlQuery;
use super::view::{self, table_wrap, vnd, Nav};
use crate::api::review::{branch_of, reviewer};
use crate::app::AppState;
use crate::db::AccountBalance;
use crate::error::AppError;
use crate::ledger::Account;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LedgerQuery {
    /// One branch, for an admin (empty: the whole fund).
    branch: String,
}

/// `GET /ledger`
pub async fn page(
    State(state): State<AppState>,
    signed: Signed,
    UrlQuery(q): UrlQuery<LedgerQuery>,
) -> Response {
    match render(&state, &signed, &q).await {
        Ok(r) => r,
        Err(e) => signed.ui().app_error(e),
    }
}

/// A balance as an accountant reads it: `Nợ 1.500.000 ₫` (debit) or
/// `Có 1.500.000 ₫` (credit).
fn balance(lang: Lang, debit: i64, credit: i64) -> String {
    let b = debit - credit;
    match b {
        0 => vnd(0),
        b if b > 0 => format!("{} {}", lang.t("Nợ", "Dr"), vnd(b)),
        b => format!("{} {}", lang.t("Có", "Cr"), vnd(-b)),
    }
}

async fn render(state: &AppState, s: &Signed, q: &LedgerQuery) -> Result<Response, AppError> {
    let lang = s.lang;
    let who = reviewer(&s.user, None)?;
    let mut branch = branch_of(&who);
    if who.is_admin {
        branch = q.branch.trim().parse().ok();
    }
    let (rows, branches, users, campaigns) = (
        state.db.ledger_balances(branch).await?,
        state.db.branches(branch_of(&who)).await?,
        state.db.users(branch_of(&who)).await?,
        state.db.campaigns().await?,
    );
    // By account, in the chart's order; within one, by sub-ledger.
    let mut accounts: BTreeMap<usize, Vec<&AccountBalance>> = BTreeMap::new();
    for r in &rows {
        let at = Account::ALL
            .iter()
            .position(|a| a.as_str() == r.account)
            .unwrap_or(usize::MAX);
        accounts.entry(at).or_default().push(r);
    }
    // The whole fund's loan principal in the ledger against what the
    // loans' installments still owe. (A branch's share may differ: a loan
    // whose worker moved keeps its opening at the branch it came in.)
    let outstanding = match branch {
        None => Some(state.db.principal_outstanding().await?),
        Some(_) => None,
    };
    let ledger_principal: i64 = rows
        .iter()
        .filter(|r| r.account == Account::LoanPrincipal.as_str())
        .map(|r| r.debit - r.credit)
        .sum();
    let (debits, credits) = rows
        .iter()
        .fold((0, 0), |(d, c), r| (d + r.debit, c + r.credit));
    let officer = |id: i64| {
        users
            .iter()
            .find(|u| u.id == id)
            .map_or_else(|| format!("#{id}"), |u| u.full_name.clone())
    };
    let campaign = |id: i64| {
        campaigns
            .iter()
            .find(|k| k.id == id)
            .map_or_else(|| format!("#{id}"), |k| k.name.clone())
    };
    let branch_name = |id: i64| {
        branches
            .iter()
            .find(|b| b.id == id)
            .map_or_else(|| format!("#{id}"), |b| b.name.clone())
    };
    let sub = |r: &AccountBalance| -> String {
        let mut parts = Vec::new();
        if who.is_admin && branch.is_none() {
            parts.push(branch_name(r.branch_id));
        }
        if let Some(o) = r.officer_id {
            parts.push(format!("{}{}", lang.t("cán bộ ", "officer "), officer(o)));
        }
        if let Some(k) = r.campaign_id {
            parts.push(campaign(k));
        }
        parts.join(" · ")
    };
    let title = lang.t("Sổ cái", "Ledger");
    let body = html! {
        h1 { (title) }
        p.lead { (lang.t(
            "Số dư từng tài khoản từ các bút toán đã ghi sổ (dư nợ gốc các khoản vay khi nhập, khoản thu đã duyệt, thu tại quầy, quà, nộp tiền, đảo bút toán). Tổng Nợ luôn bằng tổng Có.",
            "Each account's balance from the posted entries (loans' principal owed when imported, approved collections, counter repayments, gifts, cash handed over, reversals). Debits always equal credits.",
        )) }
        @if who.is_admin {
            form.filters method="get" action="/ledger" {
                label for="branch" { (lang.t("Chi nhánh", "Branch")) }
                select #branch name="branch" {
                    option value="" selected[branch.is_none()] { (lang.t("Toàn quỹ", "The whole fund")) }
                    @for b in &branches {
                        option value=(b.id) selected[branch == Some(b.id)] { (b.name) }
                    }
                }
                button type="submit" { (lang.t("Xem", "Show")) }
            }
        }
        @if rows.is_empty() {
            (view::empty(lang.t("Chưa có bút toán nào được ghi sổ.", "Nothing is posted yet.")))
        } @else {
            (table_wrap(html! {
                table.list #balances {
                    thead { tr {
                        th { (lang.t("Tài khoản", "Account")) }
                        th.num { (lang.t("Phát sinh Nợ", "Debits")) }
                        th.num { (lang.t("Phát sinh Có", "Credits")) }
                        th.num { (lang.t("Số dư", "Balance")) }
                    } }
                    tbody {
                        @for parts in accounts.values() {
                            @let first = parts[0];
                            @let (d, c) = parts.iter().fold((0, 0), |(d, c), r| (d + r.debit, c + r.credit));
                            tr.account id=(format!("account-{}", first.account)) {
                                th scope="row" { (lang.t(&first.name_vi, &first.name_en)) }
                                td.num.nowrap { (vnd(d)) }
                                td.num.nowrap { (vnd(c)) }
                                td.num.nowrap { strong { (balance(lang, d, c)) } }
                            }
                            @if parts.len() > 1 || parts[0].officer_id.is_some() || parts[0].campaign_id.is_some() {
                                @for r in parts {
                                    tr.sub {
                                        td { small { (sub(r)) } }
                                        td.num.nowrap { small { (vnd(r.debit)) } }
                                        td.num.nowrap { small { (vnd(r.credit)) } }
                                        td.num.nowrap { small { (balance(lang, r.debit, r.credit)) } }
                                    }
                                }
                            }
                        }
                    }
                    tfoot { tr {
                        th { (lang.t("Cộng", "Total")) }
                        td.num.nowrap #total-debits { (vnd(debits)) }
                        td.num.nowrap #total-credits { (vnd(credits)) }
                        td #balanced {
                            @if debits == credits {
                                span.badge.ok { (lang.t("Nợ = Có", "Balanced")) }
                            } @else {
                                span.badge.danger { (lang.t("LỆCH — báo quản trị viên", "OFF — tell the administrator")) }
                            }
                        }
                    } }
                }
            }))
            @if let Some(owed) = outstanding {
                p #principal-check {
                    (lang.t("Dư nợ gốc theo lịch trả nợ của các khoản vay: ", "Principal the loans' schedules still owe: "))
                    strong.nowrap { (vnd(owed)) } " "
                    @if owed == ledger_principal {
                        span.badge.ok { (lang.t("khớp sổ cái", "agrees with the ledger")) }
                    } @else {
                        span.badge.danger { (lang.t("LỆCH với sổ cái — báo quản trị viên", "OFF the ledger — tell the administrator")) }
                    }
                }
            }
        }
    };
    Ok(s.ui().page(title, Nav::Ledger, body).into_response())
}
