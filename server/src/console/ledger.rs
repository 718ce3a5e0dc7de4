//! The ledger's balances (supervisors: their branch; admins: the fund or one
//! branch): each account's debits, credits and balance, split by officer
//! (cash they hold, their shortages) and by campaign (stock, spending,
//! funding), with the check that debits equal credits. The branch's
//! cashier sees only the officers' cash short or over not settled, and
//! takes what an officer pays back.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::html;
use serde::Deserialize;
use sotay_core::domain::money::{parse_typed_amount, AmountRule};
use uuid::Uuid;

use super::i18n::Lang;
use super::session::Staff;
use super::view::{self, csrf_field, table_wrap, vnd, Nav};
use super::view::{UrlPath, UrlQuery};
use crate::api::review::{branch_of, counter_clerk, reviewer};
use crate::api::ClientIp;
use crate::app::AppState;
use crate::db::{AccountBalance, NewOverShort};
use crate::error::AppError;
use crate::import::rows::Role;
use crate::ledger::Account;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LedgerQuery {
    /// One branch, for an admin (empty: the whole fund).
    branch: String,
    /// The over/short settlement just posted (its id), to confirm it.
    settled: String,
}

/// The over/short form sent back with why it was refused.
#[derive(Debug, Default)]
struct Refused {
    officer_id: i64,
    branch_id: Option<i64>,
    message: String,
    amount: String,
    note: String,
}

/// Settlements of officers' over/short accounts the page lists, at most.
const SETTLEMENTS_SHOWN: i64 = 50;

/// `GET /ledger`
pub async fn page(
    State(state): State<AppState>,
    Staff(signed): Staff,
    UrlQuery(q): UrlQuery<LedgerQuery>,
) -> Response {
    match render(&state, &signed, &q, None, StatusCode::OK).await {
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

async fn render(
    state: &AppState,
    s: &super::session::Signed,
    q: &LedgerQuery,
    refused: Option<Refused>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let lang = s.lang;
    // The cashier: the officers' short and over, nothing else.
    let cashier = s.user.role == Role::Cashier;
    let who = if cashier {
        counter_clerk(&s.user, None)?
    } else {
        reviewer(&s.user, None)?
    };
    let mut branch = branch_of(&who);
    if who.is_admin {
        branch = q.branch.trim().parse().ok();
    }
    let just = match q.settled.trim().parse::<i64>() {
        Ok(id) => state.db.over_short_settlement(id, branch_of(&who)).await?,
        Err(_) => None,
    };
    let settlements = state
        .db
        .over_short_settlements(branch, SETTLEMENTS_SHOWN)
        .await?;
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
    // Officers whose over/short balance is not settled: a shortage to pay
    // back into the vault, an overage to pay back to them.
    let over_short: Vec<&AccountBalance> = rows
        .iter()
        .filter(|r| {
            r.account == Account::CashOverShort.as_str()
                && r.officer_id.is_some()
                && r.debit != r.credit
        })
        .collect();
    let title = if cashier {
        lang.t("Thừa/thiếu quỹ của cán bộ", "Officers' cash short or over")
    } else {
        lang.t("Sổ cái", "Ledger")
    };
    let body = html! {
        h1 { (title) }
        @if let Some(k) = &just {
            @let left = match k.balance_after {
                0 => lang.t("đã thanh toán hết", "all settled").to_string(),
                b if b > 0 => lang.pick(format!("còn thiếu {}", vnd(b)), format!("{} still short", vnd(b))),
                b => lang.pick(format!("còn thừa {}", vnd(-b)), format!("{} still over", vnd(-b))),
            };
            p.notice.success role="status" #over-short-result { (match (k.direction.as_str(), k.method.as_str()) {
                ("paid_in", "write_off") => lang.pick(
                    format!("Đã ghi sổ bút toán số {}: quỹ chịu {} tiền thiếu của {}; {left}.", k.entry_id, vnd(k.amount), k.officer_name),
                    format!("Posted as entry {}: the fund bears {} of {}'s shortage; {left}.", k.entry_id, vnd(k.amount), k.officer_name),
                ),
                ("paid_in", _) => lang.pick(
                    format!("Đã ghi sổ bút toán số {}: {} nộp bù {} vào quỹ tiền mặt; {left}.", k.entry_id, k.officer_name, vnd(k.amount)),
                    format!("Posted as entry {}: {} paid {} into the vault; {left}.", k.entry_id, k.officer_name, vnd(k.amount)),
                ),
                (_, "write_off") => lang.pick(
                    format!("Đã ghi sổ bút toán số {}: quỹ ghi thu {} tiền thừa của {}; {left}.", k.entry_id, vnd(k.amount), k.officer_name),
                    format!("Posted as entry {}: the fund keeps {} of {}'s overage; {left}.", k.entry_id, vnd(k.amount), k.officer_name),
                ),
                _ => lang.pick(
                    format!("Đã ghi sổ bút toán số {}: trả lại {} {} từ quỹ tiền mặt; {left}.", k.entry_id, k.officer_name, vnd(k.amount)),
                    format!("Posted as entry {}: {} paid back to {} from the vault; {left}.", k.entry_id, vnd(k.amount), k.officer_name),
                ),
            }) }
        }
        @if cashier && over_short.is_empty() && refused.is_none() {
            (view::empty(lang.t(
                "Không cán bộ nào còn thừa hay thiếu quỹ chưa thanh toán.",
                "No officer has cash short or over left to settle.",
            )))
        }
        p.lead hidden[cashier] { (lang.t(
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
            @if !cashier {
                (view::empty(lang.t("Chưa có bút toán nào được ghi sổ.", "Nothing is posted yet.")))
            }
        } @else {
            @if !cashier { (table_wrap(html! {
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
            })) }
            // Said even when nothing is left to settle (another tab, or a
            // colleague, settled it first).
            @if let Some(r) = &refused {
                p.notice.error role="alert" #over-short-error {
                    // Named once: the books' refusals name the officer.
                    @let name = officer(r.officer_id);
                    @if !r.message.contains(&name) { (name) ": " }
                    (r.message)
                }
            }
            @if !over_short.is_empty() {
                h2 #over-short { (lang.t("Thừa/thiếu quỹ của cán bộ chưa thanh toán", "Officers' cash short/over not settled")) }
                p.hint { (lang.t(
                    "Khoản thiếu giám sát đếm khi duyệt lô được ghi nợ cán bộ. Khi cán bộ nộp bù tiền mặt (hoặc chi nhánh trả lại khoản thừa), ghi vào đây: tiền vào (hoặc ra khỏi) quỹ tiền mặt chi nhánh ngay, không quá số còn lại; điện thoại của cán bộ thấy số còn lại ở lần đồng bộ sau.",
                    "A shortage counted at approval is owed by the officer. When the officer pays it back in cash (or the branch pays back an overage), record it here: the cash goes into (or out of) the branch vault at once, never more than is left; the officer's phone sees what is left on its next sync.",
                )) }
                @if who.is_admin {
                    p.hint #write-off-hint { (lang.t(
                        "Quản trị viên có thể xử lý khoản còn lại theo quyết định của quỹ thay vì thu/trả tiền mặt: quỹ chịu khoản thiếu (chi phí) hoặc ghi thu khoản thừa (thu nhập khác); quỹ tiền mặt không đổi. Ghi số quyết định vào ghi chú.",
                        "An admin may write what is left off on the fund's decision instead of cash: the fund bears a shortage (an expense) or keeps an overage (other income); the vault does not change. Put the decision's number in the note.",
                    )) }
                }
                (table_wrap(html! {
                    table.list #over-short-list {
                        thead { tr {
                            th { (lang.t("Cán bộ", "Officer")) }
                            th.num { (lang.t("Còn lại", "Left")) }
                            th { (lang.t("Thanh toán bằng tiền mặt", "Settle in cash")) }
                        } }
                        tbody {
                            @for r in &over_short {
                                @let id = r.officer_id.unwrap_or_default();
                                @let key = format!("{}-{id}", r.branch_id);
                                @let left = r.debit - r.credit;
                                tr id=(format!("over-short-{key}")) {
                                    td {
                                        (officer(id))
                                        @if who.is_admin && branch.is_none() { br; small { (branch_name(r.branch_id)) } }
                                    }
                                    td.num.nowrap { (if left > 0 {
                                        lang.pick(format!("thiếu {}", vnd(left)), format!("short {}", vnd(left)))
                                    } else {
                                        lang.pick(format!("thừa {}", vnd(-left)), format!("over {}", vnd(-left)))
                                    })
                                    // An overage is the branch's to pay the officer: a
                                    // count above what was owed, or a reversal she
                                    // kept back more cash for than her batch held.
                                    @if left < 0 {
                                        br; small { (lang.t("chi nhánh nợ cán bộ", "the branch owes the officer")) }
                                    } @else {
                                        br; small { (lang.t("cán bộ nợ chi nhánh", "the officer owes the branch")) }
                                    }
                                    }
                                    td {
                                        form.inline method="post" action=(format!("/ledger/over-short/{id}#over-short-error")) {
                                            (csrf_field(&s.csrf))
                                            input type="hidden" name="client_id" value=(Uuid::now_v7());
                                            input type="hidden" name="branch_id" value=(r.branch_id);
                                            input type="hidden" name="view_branch" value=(q.branch);
                                            @let amount_id = format!("over-short-amount-{key}");
                                            @let note_id = format!("over-short-note-{key}");
                                            label.visually-hidden for=(amount_id) { (lang.t("Số tiền", "Amount")) }
                                            @let again = refused.as_ref().filter(|x| x.officer_id == id && x.branch_id == Some(r.branch_id));
                                            input type="text" id=(amount_id) name="amount" required inputmode="numeric"
                                                value=(again.map_or_else(|| sotay_core::domain::money::group_thousands(left.abs()), |r| r.amount.clone()));
                                            " "
                                            label.visually-hidden for=(note_id) { (lang.t("Ghi chú", "Note")) }
                                            input type="text" id=(note_id) name="note" required maxlength="200"
                                                value=(again.map(|r| r.note.as_str()).unwrap_or_default())
                                                placeholder=(if left > 0 { lang.t("Cán bộ nộp bù tiền thiếu…", "The officer paid the shortage back…") } else { lang.t("Trả lại cán bộ tiền thừa…", "Paid the overage back…") });
                                            " "
                                            button type="submit" name="method" value="cash" { (if left > 0 { lang.t("Ghi nộp bù vào quỹ", "Record the cash paid in") } else { lang.t("Ghi trả lại từ quỹ", "Record the cash paid out") }) }
                                            @if who.is_admin {
                                                " "
                                                button.secondary type="submit" name="method" value="write_off" { (if left > 0 { lang.t("Quỹ chịu khoản thiếu", "The fund bears the shortage") } else { lang.t("Quỹ ghi thu khoản thừa", "The fund keeps the overage") }) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }))
            }
            @if !settlements.is_empty() {
                h2 #over-short-settled { (lang.t("Các lần thanh toán thừa/thiếu quỹ", "Short/over settlements")) }
                (table_wrap(html! {
                    table.list #over-short-settlements {
                        thead { tr {
                            th { (lang.t("Thời điểm", "When")) }
                            th { (lang.t("Cán bộ", "Officer")) }
                            th.num { (lang.t("Số tiền", "Amount")) }
                            th { (lang.t("Ghi chú", "Note")) }
                            th { (lang.t("Người ghi", "Recorded by")) }
                            th { (lang.t("Bút toán", "Entry")) }
                        } }
                        tbody {
                            @for k in &settlements {
                                tr {
                                    td.nowrap { (view::datetime(k.recorded_at)) }
                                    td { (k.officer_name) }
                                    td.num.nowrap { (match (k.direction.as_str(), k.method.as_str()) {
                                        ("paid_in", "write_off") => lang.pick(format!("quỹ chịu {}", vnd(k.amount)), format!("borne by the fund {}", vnd(k.amount))),
                                        ("paid_in", _) => lang.pick(format!("nộp bù {}", vnd(k.amount)), format!("paid in {}", vnd(k.amount))),
                                        (_, "write_off") => lang.pick(format!("quỹ ghi thu {}", vnd(k.amount)), format!("kept by the fund {}", vnd(k.amount))),
                                        _ => lang.pick(format!("trả lại {}", vnd(k.amount)), format!("paid out {}", vnd(k.amount))),
                                    }) }
                                    td { (k.note) }
                                    td { (k.recorded_by) }
                                    td.nowrap {
                                        (k.entry_id)
                                        @if k.reversed {
                                            " " span.badge.muted { (lang.t("Đã đảo", "Reversed")) }
                                        } @else if !cashier {
                                            // Asking for a reversal is a supervisor's.
                                            " " a href=(view::link("/reversals/new", &[("entry", k.entry_id.to_string())])) {
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
    Ok((status, s.ui().page(title, Nav::Ledger, body)).into_response())
}

/// The over/short settlement form as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OverShortForm {
    csrf: String,
    client_id: String,
    /// The branch whose account is settled (the row's).
    branch_id: String,
    /// The branch an admin was looking at (empty: the whole fund), to
    /// come back to it.
    view_branch: String,
    amount: String,
    note: String,
    /// The button pressed: `cash` or `write_off` (an admin's).
    method: String,
}

/// `POST /ledger/over-short/{officer_id}`: an officer paid a shortage back
/// into the vault, or the vault paid an overage back to the officer; or an
/// admin wrote it off on the fund's decision.
pub async fn settle_over_short(
    State(state): State<AppState>,
    Staff(signed): Staff,
    ClientIp(ip): ClientIp,
    UrlPath(officer_id): UrlPath<i64>,
    Form(form): Form<OverShortForm>,
) -> Response {
    if let Some(r) = signed.forgery(&form.csrf) {
        return r;
    }
    let ui = signed.ui();
    let lang = signed.lang;
    let who = match counter_clerk(&signed.user, ip) {
        Ok(w) => w,
        Err(e) => return ui.app_error(e),
    };
    let view_branch = form.view_branch.trim().to_string();
    // Refused: the ledger page again, with why and what was typed.
    let again = |message: String, status: StatusCode| {
        let (state, signed) = (&state, &signed);
        let refused = Refused {
            officer_id,
            branch_id: form.branch_id.trim().parse().ok(),
            message,
            amount: form.amount.clone(),
            note: form.note.clone(),
        };
        async move {
            match render(
                state,
                signed,
                &LedgerQuery {
                    branch: form.view_branch.clone(),
                    ..LedgerQuery::default()
                },
                Some(refused),
                status,
            )
            .await
            {
                Ok(r) => r,
                Err(e) => signed.ui().app_error(e),
            }
        }
    };
    let amount = match parse_typed_amount(
        lang.t("Số tiền", "Amount"),
        &form.amount,
        AmountRule::Positive,
    ) {
        Ok(a) => a.get(),
        Err(e) => {
            return again(
                lang.pick(e.message_vi(), e.message_en()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    };
    let note: String = form.note.trim().to_string();
    if note.is_empty() || note.chars().count() > 200 {
        let m = lang.t(
            "Cần ghi chú, tối đa 200 ký tự (cán bộ nộp bù tiền thiếu của lô nào, hay trả lại tiền thừa vì sao; khi quỹ xử lý: số quyết định)",
            "Write a note of at most 200 characters (which batch's shortage the officer paid back, or why the overage is paid back; for a write-off, the decision's number)",
        );
        return again(m.to_string(), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let client_id = Uuid::parse_str(form.client_id.trim()).unwrap_or_else(|_| Uuid::now_v7());
    let m = NewOverShort {
        client_id,
        officer_id,
        branch_id: form.branch_id.trim().parse().ok(),
        amount,
        note: &note,
        write_off: form.method.trim() == "write_off",
    };
    match state.db.over_short_settle(&who, &m).await {
        Ok(done) => {
            let back = view::link(
                "/ledger",
                &[
                    ("settled", done.id.to_string()),
                    ("branch", view_branch.clone()),
                ],
            );
            Redirect::to(&format!("{back}#over-short-result")).into_response()
        }
        Err(e) => {
            let e = AppError::from(e);
            if e.status.is_server_error() || e.status == StatusCode::NOT_FOUND {
                return ui.app_error(e);
            }
            let m = ui.message(&e).to_string();
            again(m, e.status).await
        }
    }
}
