//! Cash between a branch's vault and its bank account ("Ngân hàng"): what
//! each branch holds, the form that records cash paid into the bank or
//! drawn from it with the slip's number, and the moves recorded. For the
//! branch's supervisors and cashier (thủ quỹ) and for admins, through the
//! same `Db` calls as the API.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;
use sotay_core::domain::money::{parse_typed_amount, AmountRule};
use uuid::Uuid;

use super::i18n::Lang;
use super::session::Staff;
use super::view::UrlQuery;
use super::view::{self, csrf_field, datetime, table_wrap, vnd, Nav};
use crate::api::review::{branch_of, counter_clerk};
use crate::api::ClientIp;
use crate::app::AppState;
use crate::db::{BankDirection, Branch, NewBankMove, PayMethod};
use crate::error::AppError;
use crate::import::rows::Role;

/// Moves the page lists, at most.
const SHOWN: usize = 50;

/// What a branch holds: cash in its vault, money in its bank account.
#[derive(Debug, Default, Clone, Copy)]
pub struct Holdings {
    /// Cash in the vault.
    pub vault: i64,
    /// Money in the bank account.
    pub bank: i64,
}

impl Holdings {
    /// What the account a payment by `method` leaves holds.
    pub fn of(self, method: PayMethod) -> i64 {
        match method {
            PayMethod::Cash => self.vault,
            PayMethod::Transfer => self.bank,
        }
    }
}

/// What each branch in `branch` (`None`: every branch) holds, by branch id.
pub async fn holdings(
    state: &AppState,
    branch: Option<i64>,
) -> Result<BTreeMap<i64, Holdings>, AppError> {
    let mut out: BTreeMap<i64, Holdings> = BTreeMap::new();
    for b in state.db.ledger_balances(branch).await? {
        let h = out.entry(b.branch_id).or_default();
        match b.account.as_str() {
            "vault" => h.vault += b.debit - b.credit,
            "bank" => h.bank += b.debit - b.credit,
            _ => {}
        }
    }
    Ok(out)
}

/// Each branch's vault and bank account, a row each.
pub fn holdings_table(lang: Lang, branches: &[Branch], held: &BTreeMap<i64, Holdings>) -> Markup {
    html! {
    (table_wrap(html! {
        table.list {
            thead { tr {
                th { (lang.t("Chi nhánh", "Branch")) }
                th.num { (lang.t("Quỹ tiền mặt", "Vault (cash)")) }
                th.num { (lang.t("Tài khoản ngân hàng", "Bank account")) }
            } }
            tbody {
                @for b in branches {
                    @let h = held.get(&b.id).copied().unwrap_or_default();
                    tr id=(format!("holdings-{}", b.id)) {
                        td { (b.name) }
                        td.num.nowrap.vault { (vnd(h.vault)) }
                        td.num.nowrap.bank { (vnd(h.bank)) }
                    }
                }
            }
        }
    }))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PageQuery {
    /// The move just posted, to confirm it.
    moved: String,
}

/// What the page confirms or why the form was refused.
#[derive(Debug, Default)]
struct Flash {
    moved: Option<i64>,
    error: Option<String>,
    form: MoveForm,
    /// A statement upload refused.
    statement: Option<super::statements::Refused>,
}

/// The Bank page with a statement upload's refusal.
pub(super) async fn render_refused(
    state: &AppState,
    s: &super::session::Signed,
    refused: super::statements::Refused,
    status: StatusCode,
) -> Response {
    let flash = Flash {
        statement: Some(refused),
        ..Flash::default()
    };
    render(state, s, flash, status).await
}

/// `GET /bank-moves`
pub async fn page(
    State(state): State<AppState>,
    Staff(signed): Staff,
    UrlQuery(q): UrlQuery<PageQuery>,
) -> Response {
    let flash = Flash {
        moved: q.moved.parse().ok(),
        ..Flash::default()
    };
    render(&state, &signed, flash, StatusCode::OK).await
}

async fn render(
    state: &AppState,
    s: &super::session::Signed,
    flash: Flash,
    status: StatusCode,
) -> Response {
    let ui = s.ui();
    let lang = s.lang;
    let who = match counter_clerk(&s.user, None) {
        Ok(w) => w,
        Err(e) => return ui.app_error(e),
    };
    // A cashier records; asking for a reversal is a supervisor's.
    let may_reverse = s.user.role != Role::Cashier;
    let loaded = async {
        let held = holdings(state, branch_of(&who)).await?;
        let branches = state.db.branches(branch_of(&who)).await?;
        let moves = state.db.bank_moves(branch_of(&who)).await?;
        // Statements are reconciled by the supervisors (kế toán) and admins.
        let statements = if may_reverse {
            Some(state.db.statements(branch_of(&who)).await?)
        } else {
            None
        };
        Ok::<_, AppError>((held, branches, moves, statements))
    };
    let (held, branches, moves, statements) = match loaded.await {
        Ok(x) => x,
        Err(e) => return ui.app_error(e),
    };
    let mf = &flash.form;
    let move_client_id = if mf.client_id.trim().is_empty() {
        Uuid::now_v7().to_string()
    } else {
        mf.client_id.clone()
    };
    let body = html! {
        h1 { (lang.t("Ngân hàng", "Bank")) }
        p.lead { (lang.t(
            "Tiền mặt chi nhánh nộp vào tài khoản ngân hàng hoặc rút về quỹ, ghi sổ ngay với số chứng từ của ngân hàng. Phí và lãi ngân hàng được giám sát hoặc quản trị viên ghi từ dòng của sao kê ngân hàng. Khoản ghi nhầm được đảo khi một người khác duyệt. Sổ tiền gửi ngân hàng ở trang Báo cáo.",
            "Cash the branch pays into its bank account or draws into the vault, posted at once with the bank slip's number. The bank's charges and interest are posted by a supervisor or an admin from the bank statement's lines. One entered by mistake is reversed once someone else approves it. The bank book is on the Reports page.",
        )) }
        section.card #holdings {
            (holdings_table(lang, &branches, &held))
        }
        h2 #moves-title { (lang.t("Nộp hoặc rút tiền mặt", "Pay in or draw cash")) }
        @if let Some(m) = &flash.error {
            p.notice.error role="alert" #move-error { (m) }
        }
        @if let Some(m) = flash.moved.and_then(|id| moves.iter().find(|m| m.id == id)) {
            p.notice.success role="status" #move-flash { (match BankDirection::parse(&m.direction) {
                Some(BankDirection::Deposit) => lang.pick(
                    format!("Đã ghi: nộp {} từ quỹ tiền mặt vào tài khoản ngân hàng {}.", vnd(m.amount), m.branch_name),
                    format!("Posted: {} paid from the vault into the bank account of {}.", vnd(m.amount), m.branch_name),
                ),
                Some(BankDirection::Withdrawal) => lang.pick(
                    format!("Đã ghi: rút {} từ tài khoản ngân hàng về quỹ tiền mặt {}.", vnd(m.amount), m.branch_name),
                    format!("Posted: {} drawn from the bank account into the vault of {}.", vnd(m.amount), m.branch_name),
                ),
                _ => lang.pick(
                    format!("Đã ghi: {} {}, {}.", direction_name(lang, &m.direction), vnd(m.amount), m.branch_name),
                    format!("Posted: {} {}, {}.", direction_name(lang, &m.direction), vnd(m.amount), m.branch_name),
                ),
            }) }
        }
        form.stack method="post" action="/bank-moves#move-form" id="move-form" {
            (csrf_field(&s.csrf))
            input type="hidden" name="client_id" value=(move_client_id);
            @if branches.len() == 1 {
                input type="hidden" name="branch_id" value=(branches[0].id);
            } @else {
                label for="move-branch" { (lang.t("Chi nhánh", "Branch")) }
                select #move-branch name="branch_id" required {
                    @for b in &branches {
                        option value=(b.id) selected[mf.branch_id == b.id.to_string()] { (b.name) }
                    }
                }
            }
            label for="move-direction" { (lang.t("Loại giao dịch", "Transaction")) }
            select #move-direction name="direction" {
                option value="deposit" selected[mf.direction != "withdrawal"] {
                    (lang.t("Nộp tiền mặt từ quỹ vào tài khoản ngân hàng", "Pay cash from the vault into the bank account"))
                }
                option value="withdrawal" selected[mf.direction == "withdrawal"] {
                    (lang.t("Rút tiền mặt từ tài khoản ngân hàng về quỹ", "Draw cash from the bank account into the vault"))
                }
            }
            label for="move-amount" { (lang.t("Số tiền (đồng)", "Amount (đồng)")) }
            input #move-amount name="amount" inputmode="numeric" autocomplete="off" required value=(mf.amount)
                placeholder=(lang.t("ví dụ 50.000.000", "e.g. 50.000.000"));
            label for="move-reference" { (lang.t("Số chứng từ ngân hàng (giấy nộp tiền, séc)", "The bank slip's number (paying-in slip, cheque)")) }
            input #move-reference name="reference" maxlength="100" required autocomplete="off" value=(mf.reference);
            div.actions {
                button type="submit" data-busy=(lang.t("Đang ghi…", "Posting…")) { (lang.t("Ghi sổ", "Post")) }
            }
        }
        @if !moves.is_empty() {
            (table_wrap(html! {
                table.list #moves {
                    thead { tr {
                        th { (lang.t("Lúc", "When")) }
                        th { (lang.t("Chi nhánh", "Branch")) }
                        th { (lang.t("Loại giao dịch", "Transaction")) }
                        th.num { (lang.t("Số tiền", "Amount")) }
                        th { (lang.t("Chứng từ", "Slip")) }
                        th { (lang.t("Người ghi", "Recorded by")) }
                        th {}
                    } }
                    tbody {
                        @for m in moves.iter().take(SHOWN) {
                            tr {
                                td.nowrap { (datetime(m.recorded_at)) }
                                td { (m.branch_name) }
                                td {
                                    (direction_name(lang, &m.direction))
                                    @if let (Some(statement), Some(line)) = (m.statement_id, m.line_no) {
                                        @let from = lang.pick(format!("sao kê số {statement}, dòng {line}"), format!("statement {statement}, line {line}"));
                                        // Statements are the supervisor's: a cashier reads where it came from.
                                        br; small { @if may_reverse {
                                            a href=(format!("/bank-statements/{statement}#line-{line}")) { (from) }
                                        } @else { (from) } }
                                    }
                                }
                                td.num.nowrap { (vnd(m.amount)) }
                                td.mono { @if m.reference.is_empty() { "—" } @else { (m.reference) } }
                                td { (m.recorded_by) }
                                td.nowrap {
                                    @if m.reversed {
                                        span.badge.muted { (lang.t("Đã đảo", "Reversed")) }
                                    } @else if may_reverse {
                                        a href=(view::link("/reversals/new", &[("entry", m.entry_id.to_string())])) {
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
        @if let Some(kept) = &statements {
            (super::statements::card(lang, &s.csrf, &branches, kept, flash.statement.as_ref()))
        }
    };
    (
        status,
        ui.page(lang.t("Ngân hàng", "Bank"), Nav::Bank, body),
    )
        .into_response()
}

/// A bank move's kind for people, as stored.
pub fn direction_name(lang: Lang, stored: &str) -> &str {
    match BankDirection::parse(stored) {
        Some(d) => {
            let (vi, en) = d.name();
            lang.t(vi, en)
        }
        None => stored,
    }
}

/// The deposit / withdrawal form as posted.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct MoveForm {
    csrf: String,
    client_id: String,
    branch_id: String,
    /// `deposit` or `withdrawal`.
    direction: String,
    amount: String,
    reference: String,
    /// `post` from the confirmation; `edit` back to the form from it.
    action: String,
}

/// What a move does, shown before it posts: the amount in words as the
/// vault and the bank account will stand after it.
fn confirm_move(
    ui: &super::view::Ui,
    csrf: &str,
    form: &MoveForm,
    branch_name: &str,
    direction: BankDirection,
    amount: i64,
    held: Holdings,
) -> Markup {
    let lang = ui.lang;
    let (vault_after, bank_after) = match direction {
        BankDirection::Withdrawal => (held.vault + amount, held.bank - amount),
        _ => (held.vault - amount, held.bank + amount),
    };
    let what = match direction {
        BankDirection::Withdrawal => lang.pick(
            format!(
                "Rút {} từ tài khoản ngân hàng về quỹ tiền mặt {branch_name}",
                vnd(amount)
            ),
            format!(
                "Draw {} from the bank account into the vault of {branch_name}",
                vnd(amount)
            ),
        ),
        _ => lang.pick(
            format!(
                "Nộp {} từ quỹ tiền mặt {branch_name} vào tài khoản ngân hàng",
                vnd(amount)
            ),
            format!(
                "Pay {} from the vault of {branch_name} into the bank account",
                vnd(amount)
            ),
        ),
    };
    let title = lang.t("Xác nhận giao dịch ngân hàng", "Confirm the bank move");
    let body = html! {
        h1 { (title) }
        p.lead { (lang.t(
            "Kiểm tra số tiền với giấy nộp tiền hoặc séc trước khi ghi sổ: sau khi ghi, chỉ sửa được bằng bút toán đảo do một người khác duyệt.",
            "Check the amount against the paying-in slip or cheque before posting: once posted, only a reversal another person approves puts it right.",
        )) }
        section.card #move-confirmation {
            dl {
                dt { (lang.t("Giao dịch", "Move")) } dd #confirm-move { strong { (what) } }
                dt { (lang.t("Số chứng từ", "Slip number")) } dd { (form.reference.trim()) }
                dt { (lang.t("Quỹ tiền mặt", "Vault")) } dd.num #confirm-vault { (vnd(held.vault)) " → " strong { (vnd(vault_after)) } }
                dt { (lang.t("Tài khoản ngân hàng", "Bank account")) } dd.num #confirm-bank { (vnd(held.bank)) " → " strong { (vnd(bank_after)) } }
            }
        }
        // The account it leaves does not hold it: said here, not offered
        // to post (the books refuse it).
        @let short = if vault_after < 0 {
            Some((lang.t("Quỹ tiền mặt", "The vault"), held.vault))
        } else if bank_after < 0 {
            Some((lang.t("Tài khoản ngân hàng", "The bank account"), held.bank))
        } else {
            None
        };
        @if let Some((account, has)) = short {
            p.notice.error role="alert" #move-short { (lang.pick(
                format!("{account} chỉ còn {}, không đủ {}: kiểm tra lại số tiền trên chứng từ.", vnd(has), vnd(amount)),
                format!("{account} holds only {}, not {}: check the amount on the slip.", vnd(has), vnd(amount)),
            )) }
        }
        form method="post" action="/bank-moves#move-form" id="move-confirm-form" {
            (csrf_field(csrf))
            input type="hidden" name="client_id" value=(form.client_id);
            input type="hidden" name="branch_id" value=(form.branch_id);
            input type="hidden" name="direction" value=(form.direction);
            input type="hidden" name="amount" value=(form.amount);
            input type="hidden" name="reference" value=(form.reference);
            div.actions {
                @if short.is_none() {
                    button.primary type="submit" name="action" value="post" data-busy=(lang.t("Đang ghi…", "Posting…")) { (lang.t("Ghi sổ", "Post")) }
                }
                button type="submit" name="action" value="edit" formnovalidate { (lang.t("Quay lại sửa", "Go back and change")) }
            }
        }
    };
    ui.page(title, Nav::Bank, body)
}

/// `POST /bank-moves`: cash paid into the branch's bank account or drawn
/// from it (the branch's supervisors and cashier, admins): shown first,
/// posted once confirmed.
pub async fn move_cash(
    State(state): State<AppState>,
    Staff(signed): Staff,
    ClientIp(ip): ClientIp,
    Form(form): Form<MoveForm>,
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
    let parsed = (|| {
        let branch: i64 = form.branch_id.trim().parse().map_err(|_| {
            lang.t("Hãy chọn chi nhánh.", "Choose the branch.")
                .to_string()
        })?;
        let direction = match form.direction.trim() {
            "deposit" => BankDirection::Deposit,
            "withdrawal" => BankDirection::Withdrawal,
            _ => {
                return Err(lang
                    .t(
                        "Hãy chọn nộp hay rút tiền.",
                        "Choose a deposit or a withdrawal.",
                    )
                    .to_string())
            }
        };
        let label = lang.t("Số tiền", "Amount");
        let amount = parse_typed_amount(label, &form.amount, AmountRule::Positive)
            .map_err(|e| lang.pick(e.message_vi(), e.message_en()))?
            .get();
        let reference: String = form.reference.trim().chars().take(100).collect();
        if reference.is_empty() {
            return Err(lang
                .t(
                    "Cần ghi số chứng từ của ngân hàng.",
                    "Write the bank slip's number.",
                )
                .to_string());
        }
        let client = Uuid::parse_str(form.client_id.trim()).unwrap_or_else(|_| Uuid::now_v7());
        Ok::<_, String>((branch, direction, amount, reference, client))
    })();
    let again = |m: String, status: StatusCode, form: MoveForm| {
        let flash = Flash {
            error: Some(m),
            form,
            ..Flash::default()
        };
        let (state, signed) = (&state, &signed);
        async move { render(state, signed, flash, status).await }
    };
    let (branch, direction, amount, reference, client) = match parsed {
        Ok(p) => p,
        Err(m) => return again(m, StatusCode::UNPROCESSABLE_ENTITY, form.clone()).await,
    };
    if form.action == "edit" {
        let flash = Flash {
            form: form.clone(),
            ..Flash::default()
        };
        return render(&state, &signed, flash, StatusCode::OK).await;
    }
    if form.action != "post" {
        let shown = async {
            let held = holdings(&state, Some(branch)).await?;
            let name = state
                .db
                .branches(branch_of(&who))
                .await?
                .into_iter()
                .find(|b| b.id == branch)
                .map(|b| b.name)
                .ok_or_else(|| AppError::from(crate::db::DbError::NotFound))?;
            Ok::<_, AppError>((held.get(&branch).copied().unwrap_or_default(), name))
        };
        return match shown.await {
            Ok((held, name)) => {
                let form = MoveForm {
                    client_id: client.to_string(),
                    ..form.clone()
                };
                confirm_move(&ui, &signed.csrf, &form, &name, direction, amount, held)
                    .into_response()
            }
            Err(e) => ui.app_error(e),
        };
    }
    let m = NewBankMove {
        branch_id: branch,
        client_id: client,
        direction,
        amount,
        reference: &reference,
        from_line: None,
    };
    match state.db.bank_move(&who, &m).await {
        Ok(m) => Redirect::to(&format!(
            "{}#moves-title",
            view::link("/bank-moves", &[("moved", m.id.to_string())])
        ))
        .into_response(),
        Err(e) => {
            let e = AppError::from(e);
            if e.status.is_server_error() {
                return ui.app_error(e);
            }
            let m = ui.message(&e).to_string();
            // Another move's id (Back after sending the form): the next
            // try is a move of its own.
            let form = if e.code == "bank_move_conflict" {
                MoveForm {
                    client_id: String::new(),
                    ..form.clone()
                }
            } else {
                form.clone()
            };
            again(m, e.status, form).await
        }
    }
}
