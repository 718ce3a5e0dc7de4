//! Bank statements in the console: the upload form and the list on the Bank
//! page, and one statement reconciled with the bank account's book
//! (`/bank-statements/{id}`). For the branch's supervisors (kế toán) and
//! admins, through the same calls as the API.

use std::collections::HashMap;

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::i18n::Lang;
use super::session::{Signed, Staff};
use super::view::UrlPath;
use super::view::UrlQuery;
use super::view::{self, csrf_field, date, datetime, table_wrap, vnd, Nav};
use crate::api::review::{branch_of, reviewer};
use crate::api::statements::{keep, BODY_LIMIT};
use crate::api::ClientIp;
use crate::app::AppState;
use crate::db::{BankDirection, Branch, LoanView, Scope, StatementSummary};
use crate::error::AppError;
use crate::ledger::EntryKind;
use crate::statement::{BookEntry, LineStatus, ReconciledLine, StatementView};

/// Why an upload was refused: the message and each line's reason.
#[derive(Debug, Default)]
pub struct Refused {
    pub message: String,
    pub lines: Vec<String>,
}

/// The Bank page's card: the upload form and the statements kept.
pub fn card(
    lang: Lang,
    csrf: &str,
    branches: &[Branch],
    kept: &[StatementSummary],
    refused: Option<&Refused>,
) -> Markup {
    html! {
        h2 #statements-title { (lang.t("Sao kê ngân hàng", "Bank statements")) }
        p.hint { (lang.t(
            "Tải tệp sao kê (CSV hoặc XLSX) xuất từ ngân hàng điện tử: từng giao dịch được đối chiếu với sổ tiền gửi ngân hàng theo mã giao dịch, rồi theo số tiền và ngày. Giao dịch chưa có trong sổ (ví dụ người vay chuyển khoản mà chưa ai ghi) và bút toán không có trên sao kê được liệt kê để xử lý.",
            "Upload the statement file (CSV or XLSX) exported from internet banking: each transaction is matched with the bank book by its reference, then by amount and day. Transactions the books lack (a borrower's transfer nobody recorded, say) and entries missing from the statement are listed to deal with.",
        )) }
        @if let Some(r) = refused {
            div.notice.error role="alert" #statement-error {
                p { (r.message) }
                @if !r.lines.is_empty() {
                    ul { @for l in &r.lines { li { (l) } } }
                }
            }
        }
        form.stack method="post" action="/bank-statements" enctype="multipart/form-data" id="statement-form" {
            (csrf_field(csrf))
            @if branches.len() == 1 {
                input type="hidden" name="branch_id" value=(branches[0].id);
            } @else {
                label for="statement-branch" { (lang.t("Tài khoản của chi nhánh", "The account of branch")) }
                select #statement-branch name="branch_id" required {
                    @for b in branches { option value=(b.id) { (b.name) } }
                }
            }
            label for="statement-file" { (lang.t("Tệp sao kê (CSV hoặc XLSX)", "Statement file (CSV or XLSX)")) }
            input #statement-file type="file" name="file" required accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
            div.actions {
                button type="submit" data-busy=(lang.t("Đang đối chiếu…", "Reconciling…")) { (lang.t("Đối chiếu", "Reconcile")) }
            }
        }
        @if !kept.is_empty() {
            (table_wrap(html! {
                table.list #statements {
                    thead { tr {
                        th { (lang.t("Tệp", "File")) }
                        th { (lang.t("Chi nhánh", "Branch")) }
                        th { (lang.t("Từ ngày", "From")) }
                        th { (lang.t("Đến ngày", "To")) }
                        th.num { (lang.t("Giao dịch", "Lines")) }
                        th.num { (lang.t("Tiền vào", "Money in")) }
                        th.num { (lang.t("Tiền ra", "Money out")) }
                        th { (lang.t("Người tải lên", "Uploaded by")) }
                    } }
                    tbody {
                        @for k in kept {
                            tr {
                                td { a href=(format!("/bank-statements/{}", k.id)) { (k.file_name) } }
                                td { (k.branch_name) }
                                td.nowrap { (date(k.first_day)) }
                                td.nowrap { (date(k.last_day)) }
                                td.num { (k.lines) }
                                td.num.nowrap { (vnd(k.money_in)) }
                                td.num.nowrap { (vnd(k.money_out)) }
                                td { (k.uploaded_by) " · " (datetime(k.uploaded_at)) }
                            }
                        }
                    }
                }
            }))
        }
    }
}

/// The uploaded file's own name, without any folder.
fn own_name(raw: Option<&str>) -> Option<String> {
    raw.map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).trim())
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().take(200).collect())
}

/// `POST /bank-statements` (multipart: `csrf`, `branch_id`, `file`)
pub async fn upload(
    State(state): State<AppState>,
    Staff(signed): Staff,
    ClientIp(ip): ClientIp,
    mut form: Multipart,
) -> Response {
    let lang = signed.lang;
    let ui = signed.ui();
    let who = match reviewer(&signed.user, ip) {
        Ok(w) => w,
        Err(e) => return ui.app_error(e),
    };
    let (mut csrf, mut branch, mut file) = (String::new(), String::new(), None);
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                let message = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    lang.pick(
                        format!("Tệp quá lớn (tối đa {} MiB); hãy xuất sao kê theo từng tháng.", BODY_LIMIT >> 20),
                        format!("The file is too large ({} MiB at most); export the statement a month at a time.", BODY_LIMIT >> 20),
                    )
                } else {
                    lang.t(
                        "Không đọc được nội dung tải lên; hãy thử lại.",
                        "The upload could not be read; try again.",
                    )
                    .to_string()
                };
                return ui.error(
                    e.status(),
                    lang.t("Không đối chiếu được", "Not reconciled"),
                    &message,
                );
            }
        };
        match field.name().unwrap_or("") {
            "csrf" => csrf = field.text().await.unwrap_or_default(),
            "branch_id" => branch = field.text().await.unwrap_or_default(),
            "file" => {
                let name = own_name(field.file_name());
                match field.bytes().await {
                    Ok(b) => file = Some((name, b)),
                    Err(e) => {
                        return ui.error(
                            e.status(),
                            lang.t("Không đối chiếu được", "Not reconciled"),
                            lang.t(
                                "Tệp quá lớn hoặc tải lên bị gián đoạn; hãy thử lại.",
                                "The file is too large or the upload was cut off; try again.",
                            ),
                        )
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(r) = signed.forgery(&csrf) {
        return r;
    }
    let (name, bytes) = file.unwrap_or_default();
    let branch = branch.trim().parse().ok();
    match keep(&state, &who, branch, name.as_deref(), &bytes).await {
        Ok(k) => {
            let query: &[(&str, String)] = if k.duplicate {
                &[("again", "1".to_string())]
            } else {
                &[]
            };
            Redirect::to(&view::link(&format!("/bank-statements/{}", k.id), query)).into_response()
        }
        Err(e) if e.status.is_server_error() => ui.app_error(e),
        Err(e) => {
            let refused = Refused {
                message: ui.message(&e).to_string(),
                lines: e
                    .errors
                    .iter()
                    .map(|r| lang.pick(r.message_vi.clone(), r.message_en.clone()))
                    .collect(),
            };
            super::bank::render_refused(&state, &signed, refused, e.status).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ShowQuery {
    /// The same file was uploaded again.
    again: String,
    /// A loan code typed for a line that was not found.
    missing: String,
    /// The line just posted as a charge, interest or cash move.
    posted: String,
}

/// A loan a line not in the books may be a repayment of: its id, code and
/// borrower.
type Candidate = (i64, String, String);

/// Words of a line that may be a loan's code: with a digit, 3 to 40
/// characters of letters, digits and `-` `_` `/` `.`, at most six.
fn code_words(line: &ReconciledLine) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let text = format!("{} {}", line.description, line.reference);
    for w in text.split(|c: char| !(c.is_ascii_alphanumeric() || "-_/".contains(c))) {
        let w = w.trim_matches(['-', '/', '_']);
        if (3..=40).contains(&w.len())
            && w.chars().any(|c| c.is_ascii_digit())
            && !out.iter().any(|o| o == w)
        {
            out.push(w.to_string());
        }
        if out.len() == 6 {
            break;
        }
    }
    out
}

/// The loan page with its counter form filled in from `line`.
fn record_link(loan_id: i64, line: &ReconciledLine) -> String {
    format!(
        "{}#counter",
        view::link(
            &format!("/loans/{loan_id}"),
            &[
                ("method", "transfer".to_string()),
                ("amount", line.money_in.0.to_string()),
                ("transfer_ref", line.reference.clone()),
            ]
        )
    )
}

/// A loan of the statement's branch by its code, as typed or in capitals.
async fn branch_loan(
    state: &AppState,
    branch_id: i64,
    code: &str,
) -> Result<Option<LoanView>, AppError> {
    let scope = Scope::Branch(branch_id);
    let upper = code.to_uppercase();
    Ok(match state.db.loan_by_code(scope, code).await? {
        Some(loan) => Some(loan),
        None if upper != code => state.db.loan_by_code(scope, &upper).await?,
        None => None,
    })
}

/// Lines the books lack that brought money in: a worker's transfer,
/// perhaps, to record on a loan.
fn to_record(l: &ReconciledLine) -> bool {
    l.status == LineStatus::NotInBook && l.money_in.0 > 0
}

/// Active loans of the statement's branch named in the lines to record,
/// by line: the first word of a line that is a loan's code as written, or
/// in capitals (at most 100 words, looked up in one read).
async fn candidates(
    state: &AppState,
    v: &StatementView,
) -> Result<HashMap<i64, Candidate>, AppError> {
    let mut words: Vec<String> = Vec::new();
    let lines: Vec<(i64, Vec<String>)> = v
        .lines
        .iter()
        .filter(|l| to_record(l))
        .map(|l| (l.line_no, code_words(l)))
        .collect();
    for w in lines.iter().flat_map(|(_, ws)| ws) {
        for code in [w.clone(), w.to_uppercase()] {
            if !words.contains(&code) && words.len() < 200 {
                words.push(code);
            }
        }
    }
    let scope = Scope::Branch(v.statement.branch_id);
    let loans: HashMap<String, Candidate> = state
        .db
        .loans_by_codes(scope, &words)
        .await?
        .into_iter()
        .filter(|loan| loan.status == "active")
        .map(|loan| (loan.code.clone(), (loan.id, loan.code, loan.worker_name)))
        .collect();
    Ok(lines
        .into_iter()
        .filter_map(|(line_no, ws)| {
            ws.iter()
                .find_map(|w| loans.get(w).or_else(|| loans.get(&w.to_uppercase())))
                .map(|c| (line_no, c.clone()))
        })
        .collect())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RecordQuery {
    line: String,
    code: String,
}

/// `GET /bank-statements/{id}/loan?line=&code=`: the loan whose code was
/// typed for a line not in the books, its counter form filled in from the
/// line; back to the statement when there is no such loan.
pub async fn record(
    State(state): State<AppState>,
    Staff(signed): Staff,
    UrlPath(id): UrlPath<String>,
    UrlQuery(q): UrlQuery<RecordQuery>,
) -> Response {
    let ui = signed.ui();
    let who = match reviewer(&signed.user, None) {
        Ok(w) => w,
        Err(e) => return ui.app_error(e),
    };
    let (Ok(id), Ok(line_no)) = (id.parse::<i64>(), q.line.parse::<i64>()) else {
        return ui.app_error(AppError::not_found("sao kê", "statement"));
    };
    let book = match state.db.statement_with_book(branch_of(&who), id).await {
        Ok(Some(b)) => b,
        Ok(None) => return ui.app_error(AppError::not_found("sao kê", "statement")),
        Err(e) => return ui.app_error(e.into()),
    };
    let v = crate::statement::view(book);
    let Some(line) = v
        .lines
        .iter()
        .find(|l| l.line_no == line_no && to_record(l))
    else {
        return ui.app_error(AppError::not_found(
            "dòng sao kê cần ghi sổ",
            "statement line to record",
        ));
    };
    let code: String = q.code.trim().chars().take(60).collect();
    let loan = match branch_loan(&state, v.statement.branch_id, &code).await {
        Ok(l) => l,
        Err(e) => return ui.app_error(e),
    };
    match loan {
        Some(loan) if !code.is_empty() => Redirect::to(&record_link(loan.id, line)).into_response(),
        _ => Redirect::to(&format!(
            "{}#line-{line_no}",
            view::link(&format!("/bank-statements/{id}"), &[("missing", code)])
        ))
        .into_response(),
    }
}

/// `GET /bank-statements/{id}`
pub async fn show(
    State(state): State<AppState>,
    Staff(signed): Staff,
    UrlPath(id): UrlPath<String>,
    UrlQuery(q): UrlQuery<ShowQuery>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return signed
            .ui()
            .app_error(AppError::not_found("sao kê", "statement"));
    };
    render(&state, &signed, id, &q, None).await
}

/// A line's refusal to show above the statement: its number and why.
struct LineRefused {
    line_no: i64,
    message: String,
    status: StatusCode,
}

async fn render(
    state: &AppState,
    signed: &Signed,
    id: i64,
    q: &ShowQuery,
    refused: Option<LineRefused>,
) -> Response {
    let ui = signed.ui();
    let who = match reviewer(&signed.user, None) {
        Ok(w) => w,
        Err(e) => return ui.app_error(e),
    };
    match state.db.statement_with_book(branch_of(&who), id).await {
        Ok(Some(book)) => {
            let v = crate::statement::view(book);
            let loans = match candidates(state, &v).await {
                Ok(c) => c,
                Err(e) => return ui.app_error(e),
            };
            let status = refused.as_ref().map_or(StatusCode::OK, |r| r.status);
            let body = page(signed, id, &v, &loans, q, refused.as_ref());
            let title = signed.lang.pick(
                format!("Đối chiếu sao kê {}", v.statement.file_name),
                format!("Statement {} reconciled", v.statement.file_name),
            );
            (status, ui.page(&title, Nav::Bank, body)).into_response()
        }
        Ok(None) => ui.app_error(AppError::not_found("sao kê", "statement")),
        Err(e) => ui.app_error(e.into()),
    }
}

/// The form to post a line the books lack, as one of the kinds its way
/// allows.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PostForm {
    csrf: String,
    client_id: String,
    /// `charge`, `interest`, `deposit` or `withdrawal`.
    direction: String,
}

/// `POST /bank-statements/{id}/lines/{line_no}`: a line the books lack
/// posted as the bank's charge or interest, or as cash paid in or drawn
/// (the branch's supervisors, admins).
pub async fn post_line(
    State(state): State<AppState>,
    Staff(signed): Staff,
    ClientIp(ip): ClientIp,
    UrlPath((id, line)): UrlPath<(String, String)>,
    Form(form): Form<PostForm>,
) -> Response {
    if let Some(r) = signed.forgery(&form.csrf) {
        return r;
    }
    let ui = signed.ui();
    let who = match reviewer(&signed.user, ip) {
        Ok(w) => w,
        Err(e) => return ui.app_error(e),
    };
    let (Ok(id), Ok(line_no)) = (id.parse::<i64>(), line.parse::<i64>()) else {
        return ui.app_error(AppError::not_found("sao kê", "statement"));
    };
    let Some(direction) = BankDirection::parse(form.direction.trim()) else {
        let refused = LineRefused {
            line_no,
            message: signed
                .lang
                .t(
                    "Chọn ghi sổ là phí, lãi, nộp hay rút tiền.",
                    "Choose a charge, interest, a deposit or a withdrawal.",
                )
                .to_string(),
            status: StatusCode::UNPROCESSABLE_ENTITY,
        };
        return render(&state, &signed, id, &ShowQuery::default(), Some(refused)).await;
    };
    let client = Uuid::parse_str(form.client_id.trim()).unwrap_or_else(|_| Uuid::now_v7());
    match state
        .db
        .statement_line_post(&who, id, line_no, client, direction)
        .await
    {
        Ok(_) => Redirect::to(&format!(
            "{}#line-{line_no}",
            view::link(
                &format!("/bank-statements/{id}"),
                &[("posted", line_no.to_string())]
            )
        ))
        .into_response(),
        Err(e) => {
            let e = AppError::from(e);
            if e.status.is_server_error() || e.status == StatusCode::NOT_FOUND {
                return ui.app_error(e);
            }
            let refused = LineRefused {
                line_no,
                message: ui.message(&e).to_string(),
                status: e.status,
            };
            render(&state, &signed, id, &ShowQuery::default(), Some(refused)).await
        }
    }
}

/// The kinds a line the books lack may be posted as, by its way.
fn post_kinds(l: &ReconciledLine) -> [BankDirection; 2] {
    if l.money_in.0 > 0 {
        [BankDirection::Interest, BankDirection::Deposit]
    } else {
        [BankDirection::Charge, BankDirection::Withdrawal]
    }
}

fn status_badge(lang: Lang, status: LineStatus) -> Markup {
    match status {
        LineStatus::Posted => {
            html! { span.badge.ok { (lang.t("Ghi sổ từ dòng này", "Posted from this line")) } }
        }
        LineStatus::Reference => {
            html! { span.badge.ok { (lang.t("Khớp mã giao dịch", "Matched by reference")) } }
        }
        LineStatus::AmountAndDay => {
            html! { span.badge.warn { (lang.t("Khớp số tiền, ngày — cần kiểm tra", "Same amount and day — check it")) } }
        }
        LineStatus::NotInBook => {
            html! { span.badge.danger { (lang.t("Chưa có trong sổ", "Not in the books")) } }
        }
    }
}

fn entries_table(lang: Lang, id: &str, entries: &[BookEntry]) -> Markup {
    table_wrap(html! {
        table.list id=(id) {
            thead { tr {
                th.num { (lang.t("Bút toán", "Entry")) }
                th { (lang.t("Ngày", "Day")) }
                th { (lang.t("Loại", "Kind")) }
                th { (lang.t("Diễn giải", "Memo")) }
                th { (lang.t("Mã giao dịch", "Reference")) }
                th.num { (lang.t("Tiền vào", "Money in")) }
                th.num { (lang.t("Tiền ra", "Money out")) }
            } }
            tbody {
                @for e in entries {
                    @let (vi, en) = EntryKind::name(&e.kind);
                    tr {
                        td.num { (e.entry_id) }
                        td.nowrap { (date(e.posted_on)) }
                        td { (lang.t(vi, en)) }
                        td { (e.memo) }
                        td.mono { (e.reference.as_deref().unwrap_or("")) }
                        td.num.nowrap { @if e.money_in.0 > 0 { (vnd(e.money_in.0)) } }
                        td.num.nowrap { @if e.money_out.0 > 0 { (vnd(e.money_out.0)) } }
                    }
                }
            }
        }
    })
}

fn page(
    s: &Signed,
    id: i64,
    v: &StatementView,
    loans: &HashMap<i64, Candidate>,
    q: &ShowQuery,
    refused: Option<&LineRefused>,
) -> Markup {
    let lang = s.lang;
    let again = q.again == "1";
    let k = &v.statement;
    let difference = v
        .statement_closing
        .map(|c| c.0 - v.book_closing.0 - v.recorded_after.0);
    html! {
        p.crumbs { a href="/bank-moves#statements-title" { "← " (lang.t("Ngân hàng", "Bank")) } }
        h1 { (lang.pick(format!("Đối chiếu sao kê {}", k.file_name), format!("Statement {} reconciled", k.file_name))) }
        p.lead {
            (k.branch_name) " · " (date(k.first_day)) " – " (date(k.last_day)) " · "
            (lang.pick(format!("{} giao dịch", k.lines), format!("{} lines", k.lines))) " · "
            (lang.t("tải lên bởi", "uploaded by")) " " (k.uploaded_by) ", " (datetime(k.uploaded_at))
        }
        @if again {
            p.notice role="status" #statement-again { (lang.t(
                "Tệp này đã được tải lên trước đây; đây là sao kê đã lưu, đối chiếu lại với sổ hiện nay.",
                "This file was uploaded before: here is the statement kept, reconciled again with the books as they are now.",
            )) }
        }
        @let missing: String = q.missing.trim().chars().take(60).collect();
        @if !missing.is_empty() {
            p.notice.error role="alert" #statement-missing { (lang.pick(
                format!("{} không có khoản vay mã \"{missing}\"; kiểm tra lại mã trên hợp đồng.", k.branch_name),
                format!("{} has no loan \"{missing}\"; check the code on the contract.", k.branch_name),
            )) }
        }
        @if let Some(r) = refused {
            p.notice.error role="alert" #line-error {
                // The line's number, unless the message starts with it.
                @if !r.message.to_lowercase().starts_with(&lang.pick(format!("dòng {}", r.line_no), format!("line {}", r.line_no))) {
                    (lang.pick(format!("Dòng {}: ", r.line_no), format!("Line {}: ", r.line_no)))
                }
                (r.message)
            }
        }
        @if let Some(l) = q.posted.parse::<i64>().ok().and_then(|n| v.lines.iter().find(|l| l.line_no == n)) {
            p.notice.success role="status" #line-posted {
                (lang.pick(format!("Đã ghi sổ dòng {}", l.line_no), format!("Line {} posted", l.line_no)))
                @if let (Some(entry), Some(memo)) = (l.entry_id, &l.entry_memo) {
                    (lang.pick(format!(": bút toán số {entry}, {memo}."), format!(": entry {entry}, {memo}.")))
                } @else {
                    "."
                }
            }
        }
        @if v.agrees() {
            p.notice.success role="status" #statement-agrees { (lang.t(
                "Sao kê khớp với sổ tiền gửi ngân hàng: mọi giao dịch đều có bút toán, mọi bút toán đều có trên sao kê, số dư bằng nhau.",
                "The statement agrees with the bank book: every transaction has its entry, every entry is on the statement, the balances are equal.",
            )) }
        }
        div.cards {
            section.card #statement-summary {
                h2 { (lang.t("Kết quả", "Result")) }
                dl {
                    dt { (lang.t("Khớp mã giao dịch hoặc ghi từ dòng", "Matched by reference or posted from the line")) } dd.num #count-reference { (v.matched) }
                    dt { (lang.t("Khớp số tiền và ngày (cần kiểm tra)", "Same amount and day (check)")) } dd.num #count-amount { (v.matched_by_amount) }
                    dt { (lang.t("Chưa có trong sổ", "Not in the books")) } dd.num #count-not-in-book { (v.not_in_book) }
                    dt { (lang.t("Có trong sổ, không có trên sao kê", "In the books, not on the statement")) } dd.num #count-not-on-statement { (v.not_on_statement.len()) }
                }
            }
            section.card #statement-balances {
                h2 { (lang.t("Số dư", "Balances")) }
                dl {
                    dt { (lang.t("Đầu kỳ theo sao kê", "Opening, statement")) } dd.num { (v.statement_opening.map_or("—".to_string(), |b| vnd(b.0))) }
                    dt { (lang.t("Đầu kỳ theo sổ", "Opening, books")) } dd.num { (vnd(v.book_opening.0)) }
                    dt { (lang.t("Cuối kỳ theo sao kê", "Closing, statement")) } dd.num #closing-statement { (v.statement_closing.map_or("—".to_string(), |b| vnd(b.0))) }
                    dt { (lang.t("Cuối kỳ theo sổ", "Closing, books")) } dd.num #closing-book { (vnd(v.book_closing.0)) }
                    @if v.recorded_after.0 != 0 {
                        dt { (lang.t("Ghi sổ sau ngày cuối kỳ (đã khớp)", "Recorded after the last day (matched)")) }
                        dd.num #recorded-after { (vnd(v.recorded_after.0)) }
                    }
                    @match difference {
                        Some(0) => { dt { (lang.t("Chênh lệch", "Difference")) } dd.num { span.badge.ok { (lang.t("Khớp", "Equal")) } } }
                        Some(d) => {
                            dt { @if v.recorded_after.0 == 0 {
                                (lang.t("Chênh lệch (sao kê − sổ)", "Difference (statement − books)"))
                            } @else {
                                (lang.t("Chênh lệch (sao kê − sổ − ghi sau)", "Difference (statement − books − recorded after)"))
                            } }
                            dd.num #balance-difference { span.badge.danger { (vnd(d)) } }
                        }
                        None => { dt { (lang.t("Chênh lệch", "Difference")) } dd { (lang.t("sao kê không có cột số dư", "the statement has no balance column")) } }
                    }
                }
            }
        }
        h2 { (lang.t("Giao dịch trên sao kê", "Statement lines")) }
        (table_wrap(html! {
            table.list #statement-lines {
                thead { tr {
                    th.num { (lang.t("Dòng", "Line")) }
                    th { (lang.t("Ngày", "Day")) }
                    th { (lang.t("Số tham chiếu", "Reference")) }
                    th { (lang.t("Nội dung", "Description")) }
                    th.num { (lang.t("Tiền vào", "Money in")) }
                    th.num { (lang.t("Tiền ra", "Money out")) }
                    th { (lang.t("Đối chiếu", "Match")) }
                } }
                tbody {
                    @for l in &v.lines {
                        tr id=(format!("line-{}", l.line_no)) {
                            td.num { (l.line_no) }
                            td.nowrap { (date(l.booked_on)) }
                            td.mono { (l.reference) }
                            td { (l.description) }
                            td.num.nowrap { @if l.money_in.0 > 0 { (vnd(l.money_in.0)) } }
                            td.num.nowrap { @if l.money_out.0 > 0 { (vnd(l.money_out.0)) } }
                            td {
                                (status_badge(lang, l.status))
                                @if let (Some(entry), Some(memo)) = (l.entry_id, &l.entry_memo) {
                                    br; small { (lang.t("Bút toán", "Entry")) " " (entry) ": " (memo) }
                                }
                                @if to_record(l) {
                                    @if let Some((loan_id, code, worker)) = loans.get(&l.line_no) {
                                        br; a.record-line href=(record_link(*loan_id, l)) {
                                            (lang.pick(format!("Ghi khoản thu vào khoản vay {code} ({worker})"), format!("Record it on loan {code} ({worker})")))
                                        }
                                    }
                                    form.inline method="get" action=(format!("/bank-statements/{id}/loan")) {
                                        input type="hidden" name="line" value=(l.line_no);
                                        input type="text" name="code" required size="12" aria-label=(lang.t("Mã khoản vay", "Loan code"))
                                            placeholder=(lang.t("Mã khoản vay", "Loan code"));
                                        " "
                                        button type="submit" { (lang.t("Ghi khoản thu", "Record the repayment")) }
                                    }
                                }
                                @if l.status == LineStatus::NotInBook {
                                    form.inline.post-line method="post" action=(format!("/bank-statements/{id}/lines/{}", l.line_no)) {
                                        (csrf_field(&s.csrf))
                                        input type="hidden" name="client_id" value=(Uuid::now_v7());
                                        (lang.t("Ghi sổ là:", "Post as:")) " "
                                        @for d in post_kinds(l) {
                                            @let (vi, en) = d.name();
                                            button type="submit" name="direction" value=(d.as_str()) { (lang.t(vi, en)) } " "
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }))
        @if v.not_in_book > 0 {
            p.hint { (lang.t(
                "Giao dịch chưa có trong sổ: nếu là tiền người vay chuyển khoản trả nợ, ghi khoản thu chuyển khoản ở trang khoản vay với đúng mã giao dịch; phí hay lãi ngân hàng, hoặc tiền mặt nộp/rút mà chưa ai ghi, ghi sổ ngay từ dòng của sao kê (số tiền, mã giao dịch và ngày theo sao kê). Ghi nhầm thì đề nghị đảo ở trang Ngân hàng.",
                "Lines not in the books: a borrower's transfer is recorded on the loan's page as a repayment by transfer with its reference; the bank's charges or interest, or cash paid in or drawn that nobody recorded, are posted right from the statement's line (its amount, reference and day). One posted by mistake is reversed from the Bank page.",
            )) }
        }
        @if !v.not_on_statement.is_empty() {
            h2 #not-on-statement-title { (lang.t("Có trong sổ, không có trên sao kê", "In the books, not on the statement")) }
            p.hint { (lang.t(
                "Kiểm tra mã giao dịch đã ghi và ngày ngân hàng hạch toán; bút toán ghi nhầm thì đề nghị đảo.",
                "Check the reference recorded and the day the bank booked it; an entry made by mistake is reversed.",
            )) }
            (entries_table(lang, "not-on-statement", &v.not_on_statement))
        }
        @if !v.cancelled.is_empty() {
            h2 { (lang.t("Ghi nhầm và đã đảo trong kỳ (không cần có trên sao kê)", "Entered by mistake and reversed in the period (not expected on the statement)")) }
            (entries_table(lang, "cancelled", &v.cancelled))
        }
    }
}
