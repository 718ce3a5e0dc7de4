//! The count of a branch's vault ("Kiểm kê quỹ"): the vault's balance on
//! the books now, the form that records the cash found (as a total, or by
//! denomination), the counts recorded with their difference, and each
//! count's printable record (biên bản kiểm kê quỹ tiền mặt). For the
//! branch's cashier (thủ quỹ) and supervisors and for admins, through the
//! same `Db` calls as the API. Nothing is posted to the ledger.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::html;
use serde::Deserialize;
use sotay_core::domain::money::{parse_typed_amount, vnd_in_words, AmountRule};
use uuid::Uuid;

use super::bank::holdings;
use super::i18n::Lang;
use super::session::Staff;
use super::view::{self, csrf_field, datetime, table_wrap, vnd, Nav, UrlPath, UrlQuery};
use crate::api::review::{branch_of, counter_clerk};
use crate::api::ClientIp;
use crate::app::AppState;
use crate::db::{Denomination, NewVaultCount, DENOMINATIONS};
use crate::error::AppError;

/// Counts the page lists, at most.
const SHOWN: i64 = 50;

/// A count's difference for people: `thiếu 20.000 ₫`, `thừa …`, `khớp`.
pub fn difference(lang: Lang, d: i64) -> String {
    match d.signum() {
        0 => lang.t("khớp", "agrees").to_string(),
        -1 => lang.pick(format!("thiếu {}", vnd(-d)), format!("short {}", vnd(-d))),
        _ => lang.pick(format!("thừa {}", vnd(d)), format!("over {}", vnd(d))),
    }
}

fn difference_class(d: i64) -> &'static str {
    match d.signum() {
        0 => "diff",
        -1 => "diff short",
        _ => "diff over",
    }
}

/// The count form as posted (and drawn again with what was typed).
#[derive(Debug, Default, Clone)]
struct CountForm {
    csrf: String,
    client_id: String,
    branch_id: String,
    counted: String,
    note: String,
    /// Each denomination's count as typed, by value.
    notes: Vec<(i64, String)>,
}

impl CountForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> CountForm {
        let mut f = CountForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "csrf" => f.csrf = v,
                "client_id" => f.client_id = v,
                "branch_id" => f.branch_id = v,
                "counted" => f.counted = v,
                "note" => f.note = v,
                other => {
                    if let Some(value) = other.strip_prefix('d').and_then(|n| n.parse::<i64>().ok())
                    {
                        if DENOMINATIONS.contains(&value) {
                            f.notes.push((value, v));
                        }
                    }
                }
            }
        }
        f
    }

    fn typed(&self, value: i64) -> &str {
        self.notes
            .iter()
            .find(|(v, _)| *v == value)
            .map_or("", |(_, t)| t.as_str())
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PageQuery {
    /// The count just recorded, to confirm it.
    counted: String,
}

/// What the page confirms or why the form was refused.
#[derive(Debug, Default)]
struct Flash {
    counted: Option<i64>,
    error: Option<String>,
    form: CountForm,
}

/// `GET /vault-counts`
pub async fn page(
    State(state): State<AppState>,
    Staff(signed): Staff,
    UrlQuery(q): UrlQuery<PageQuery>,
) -> Response {
    let flash = Flash {
        counted: q.counted.parse().ok(),
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
    let loaded = async {
        let held = holdings(state, branch_of(&who)).await?;
        let branches = state.db.branches(branch_of(&who)).await?;
        let counts = state.db.vault_counts(branch_of(&who), SHOWN).await?;
        Ok::<_, AppError>((held, branches, counts))
    };
    let (held, branches, counts) = match loaded.await {
        Ok(x) => x,
        Err(e) => return ui.app_error(e),
    };
    let f = &flash.form;
    let client_id = if f.client_id.trim().is_empty() {
        Uuid::now_v7().to_string()
    } else {
        f.client_id.clone()
    };
    let title = lang.t("Kiểm kê quỹ", "Vault count");
    let body = html! {
        h1 { (title) }
        p.lead { (lang.t(
            "Cuối ngày thủ quỹ đếm tiền mặt trong quỹ và ghi biên bản kiểm kê: số tiền thực tế đếm được được so với số dư quỹ tiền mặt trên sổ (số dư cuối kỳ của sổ quỹ tiền mặt). Biên bản không ghi sổ kế toán: khoản thiếu hoặc thừa do chi nhánh tìm nguyên nhân và quỹ quyết định xử lý. Biên bản đã ghi không sửa được: đếm lại thì ghi biên bản mới.",
            "At the end of the day the cashier counts the cash in the vault and records the count: the cash found is compared with the vault's balance on the books (the vault cash book's closing balance). A count posts nothing to the ledger: the branch looks for the cause of a shortage or overage and the fund decides what is done about it. A count recorded is never changed: counted again, record a new one.",
        )) }
        section.card #vault-book {
            (table_wrap(html! {
                table.list {
                    thead { tr {
                        th { (lang.t("Chi nhánh", "Branch")) }
                        th.num { (lang.t("Số dư quỹ tiền mặt trên sổ lúc này", "Vault balance on the books now")) }
                    } }
                    tbody {
                        @for b in &branches {
                            tr id=(format!("book-{}", b.id)) {
                                td { (b.name) }
                                td.num.nowrap.vault { (vnd(held.get(&b.id).map_or(0, |h| h.vault))) }
                            }
                        }
                    }
                }
            }))
        }
        h2 #count-title { (lang.t("Ghi biên bản kiểm kê", "Record a count")) }
        @if let Some(m) = &flash.error {
            p.notice.error role="alert" #count-error { (m) }
        }
        @if let Some(v) = flash.counted.and_then(|id| counts.iter().find(|v| v.id == id)) {
            div.notice.success role="status" #count-flash {
                p { (lang.pick(
                    format!("Đã ghi biên bản kiểm kê số {} ({}): sổ quỹ {}, tiền mặt kiểm kê {}, {}.", v.id, v.branch_name, vnd(v.book_balance), vnd(v.counted), difference(lang, v.difference)),
                    format!("Count {} recorded ({}): books {}, cash counted {}, {}.", v.id, v.branch_name, vnd(v.book_balance), vnd(v.counted), difference(lang, v.difference)),
                )) }
                p { (lang.pick(v.what_next.clone(), v.what_next_en.clone())) }
                p { a #count-print href=(format!("/vault-counts/{}", v.id)) { (lang.t("In biên bản kiểm kê", "Print the count record")) } }
            }
        }
        form.stack method="post" action="/vault-counts#count-title" id="count-form" {
            (csrf_field(&s.csrf))
            input type="hidden" name="client_id" value=(client_id);
            @if branches.len() == 1 {
                input type="hidden" name="branch_id" value=(branches[0].id);
            } @else {
                label for="count-branch" { (lang.t("Chi nhánh", "Branch")) }
                select #count-branch name="branch_id" required {
                    @for b in &branches {
                        option value=(b.id) selected[f.branch_id == b.id.to_string()] { (b.name) }
                    }
                }
            }
            label for="count-counted" { (lang.t("Tiền mặt thực tế đếm được (đồng)", "Cash found in the vault (đồng)")) }
            input #count-counted name="counted" inputmode="numeric" autocomplete="off" value=(f.counted)
                placeholder=(lang.t("ví dụ 1.500.000", "e.g. 1.500.000"));
            details #count-denominations open[f.notes.iter().any(|(_, t)| !t.trim().is_empty())] {
                summary { (lang.t(
                    "Đếm theo mệnh giá (không bắt buộc; để trống ô số tiền ở trên thì lấy tổng này)",
                    "Count by denomination (optional; with the amount above left empty, this total is taken)",
                )) }
                (table_wrap(html! {
                    table.list {
                        thead { tr {
                            th { (lang.t("Mệnh giá", "Denomination")) }
                            th.num { (lang.t("Số tờ / số xu", "Notes / coins")) }
                        } }
                        tbody {
                            @for value in DENOMINATIONS {
                                tr {
                                    td.nowrap { label for=(format!("count-d{value}")) { (vnd(value)) } }
                                    td.num { input id=(format!("count-d{value}")) name=(format!("d{value}")) inputmode="numeric"
                                        autocomplete="off" size="6" value=(f.typed(value)); }
                                }
                            }
                        }
                    }
                }))
            }
            label for="count-note" { (lang.t("Ghi chú (không bắt buộc)", "Note (optional)")) }
            input #count-note name="note" maxlength="200" autocomplete="off" value=(f.note);
            div.actions {
                button.primary type="submit" data-busy=(lang.t("Đang ghi…", "Recording…")) { (lang.t("Ghi biên bản kiểm kê", "Record the count")) }
            }
        }
        h2 #counts-title { (lang.t("Các lần kiểm kê", "Counts recorded")) }
        @if counts.is_empty() {
            p.muted #no-counts { (lang.t("Chưa có lần kiểm kê nào.", "No count recorded yet.")) }
        } @else {
            (table_wrap(html! {
                table.list #counts {
                    thead { tr {
                        th { (lang.t("Lúc", "When")) }
                        th { (lang.t("Chi nhánh", "Branch")) }
                        th.num { (lang.t("Số dư trên sổ", "On the books")) }
                        th.num { (lang.t("Tiền mặt kiểm kê", "Cash counted")) }
                        th.num { (lang.t("Chênh lệch", "Difference")) }
                        th { (lang.t("Người kiểm kê", "Counted by")) }
                        th { (lang.t("Ghi chú", "Note")) }
                        th {}
                    } }
                    tbody {
                        @for v in &counts {
                            tr id=(format!("count-{}", v.id)) {
                                td.nowrap { (datetime(v.counted_at)) }
                                td { (v.branch_name) }
                                td.num.nowrap { (vnd(v.book_balance)) }
                                td.num.nowrap { (vnd(v.counted)) }
                                td.num.nowrap { span class=(difference_class(v.difference)) { (difference(lang, v.difference)) } }
                                td { (v.counted_by) }
                                td { (v.note) }
                                td.nowrap { a href=(format!("/vault-counts/{}", v.id)) { (lang.t("Biên bản", "Record")) } }
                            }
                        }
                    }
                }
            }))
        }
    };
    (status, ui.page(title, Nav::VaultCounts, body)).into_response()
}

/// `POST /vault-counts`: a count recorded at once (the branch's cashier
/// and supervisors, admins); the same form sent twice records once.
pub async fn record(
    State(state): State<AppState>,
    Staff(signed): Staff,
    ClientIp(ip): ClientIp,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = CountForm::from_pairs(pairs);
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
        let mut notes: Vec<Denomination> = Vec::new();
        for (value, typed) in &form.notes {
            if typed.trim().is_empty() {
                continue;
            }
            let label = lang.pick(
                format!("Số tờ {}", vnd(*value)),
                format!("Notes of {}", vnd(*value)),
            );
            let count = parse_typed_amount(&label, typed, AmountRule::NonNegative)
                .map_err(|e| lang.pick(e.message_vi(), e.message_en()))?
                .get();
            notes.push(Denomination {
                value: *value,
                count,
            });
        }
        let counted = if form.counted.trim().is_empty() && !notes.is_empty() {
            notes
                .iter()
                .try_fold(0i64, |sum, d| {
                    d.value
                        .checked_mul(d.count)
                        .and_then(|v| sum.checked_add(v))
                })
                .ok_or_else(|| lang.t("Số tờ quá lớn.", "Too many notes.").to_string())?
        } else if form.counted.trim().is_empty() {
            return Err(lang
                .t(
                    "Cần ghi số tiền mặt đếm được (ví dụ 1.500.000), hoặc số tờ theo từng mệnh giá.",
                    "Write the cash found (e.g. 1.500.000), or the number of notes of each denomination.",
                )
                .to_string());
        } else {
            let label = lang.t("Số tiền kiểm kê", "Cash counted");
            parse_typed_amount(label, &form.counted, AmountRule::NonNegative)
                .map_err(|e| lang.pick(e.message_vi(), e.message_en()))?
                .get()
        };
        let note = form.note.trim().to_string();
        if note.chars().count() > 200 {
            return Err(lang
                .t(
                    "Ghi chú dài quá 200 ký tự: hãy viết ngắn lại.",
                    "The note is longer than 200 characters: make it shorter.",
                )
                .to_string());
        }
        let client = Uuid::parse_str(form.client_id.trim()).unwrap_or_else(|_| Uuid::now_v7());
        Ok::<_, String>((branch, counted, notes, note, client))
    })();
    let again = |m: String, status: StatusCode, form: CountForm| {
        let flash = Flash {
            error: Some(m),
            form,
            ..Flash::default()
        };
        let (state, signed) = (&state, &signed);
        async move { render(state, signed, flash, status).await }
    };
    let (branch, counted, denominations, note, client) = match parsed {
        Ok(p) => p,
        Err(m) => return again(m, StatusCode::UNPROCESSABLE_ENTITY, form.clone()).await,
    };
    let m = NewVaultCount {
        client_id: client,
        branch_id: branch,
        counted,
        note: &note,
        denominations,
    };
    match state.db.vault_count(&who, &m).await {
        Ok(v) => Redirect::to(&format!(
            "{}#count-title",
            view::link("/vault-counts", &[("counted", v.id.to_string())])
        ))
        .into_response(),
        Err(e) => {
            let e = AppError::from(e);
            if e.status.is_server_error() {
                return ui.app_error(e);
            }
            let m = ui.message(&e).to_string();
            // Another count's id (Back after sending the form): the next
            // try is a count of its own.
            let form = if e.code == "vault_count_conflict" {
                CountForm {
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

/// `GET /vault-counts/{id}`: a count's record (biên bản kiểm kê quỹ tiền
/// mặt), to print and sign.
pub async fn count_record(
    State(state): State<AppState>,
    Staff(signed): Staff,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let ui = signed.ui();
    let lang = signed.lang;
    let not_found = || AppError::not_found("biên bản kiểm kê", "count record");
    let who = match counter_clerk(&signed.user, None) {
        Ok(w) => w,
        Err(e) => return ui.app_error(e),
    };
    let found = match id.parse::<i64>() {
        Ok(id) => state.db.vault_count_get(id, branch_of(&who)).await,
        Err(_) => return ui.app_error(not_found()),
    };
    let v = match found {
        Ok(Some(v)) => v,
        Ok(None) => return ui.app_error(not_found()),
        Err(e) => return ui.app_error(e.into()),
    };
    let address = match state.db.branches(Some(v.branch_id)).await {
        Ok(b) => b.into_iter().next().map(|b| b.address).unwrap_or_default(),
        Err(e) => return ui.app_error(e.into()),
    };
    let title = lang.pick(
        format!("Biên bản kiểm kê quỹ số {}", v.id),
        format!("Vault count record {}", v.id),
    );
    let body = html! {
        p.crumbs.no-print { a href="/vault-counts" { "← " (lang.t("Kiểm kê quỹ", "Vault count")) } }
        // A Vietnamese document: it reads in Vietnamese whatever the
        // console's language.
        section.card.slip #count-record lang="vi" {
            p.slip-head { strong { (v.branch_name) } br; (address) }
            h1 { "BIÊN BẢN KIỂM KÊ QUỸ TIỀN MẶT" }
            p.slip-no { "Số: " strong #record-no { (v.id) } " · Lúc " span #record-time { (datetime(v.counted_at)) } }
            dl {
                dt { "Chi nhánh" } dd #record-branch { (v.branch_name) }
                dt { "Thời điểm kiểm kê" } dd { (datetime(v.counted_at)) " (giờ Việt Nam)" }
                dt { "Số dư quỹ tiền mặt theo sổ" } dd #record-book { (vnd(v.book_balance)) }
                dt { "Tiền mặt thực tế kiểm kê" } dd #record-counted { strong { (vnd(v.counted)) } }
                dt { "Bằng chữ" } dd #record-words { em { (vnd_in_words(v.counted)) } }
                dt { "Chênh lệch (thực tế − sổ)" } dd #record-difference {
                    span class=(difference_class(v.difference)) { (difference(Lang::Vi, v.difference)) }
                }
                dt { "Ghi chú" } dd #record-note { @if v.note.is_empty() { "—" } @else { (v.note) } }
                dt { "Người kiểm kê" } dd { (v.counted_by) }
            }
            @if !v.denominations.is_empty() {
                table.list #record-denominations {
                    thead { tr { th { "Mệnh giá" } th.num { "Số tờ / số xu" } th.num { "Thành tiền" } } }
                    tbody {
                        @for d in &v.denominations {
                            tr { td { (vnd(d.value)) } td.num { (view::count(d.count)) } td.num { (vnd(d.value * d.count)) } }
                        }
                    }
                    tfoot { tr { th { "Cộng" } th {} th.num { (vnd(v.counted)) } } }
                }
            }
            p #record-next { (v.what_next) }
            div.signatures {
                div { strong { "Thủ quỹ" } br; small { "(ký, ghi rõ họ tên)" } }
                div { strong { "Giám sát / Kế toán" } br; small { "(ký, ghi rõ họ tên)" } }
            }
        }
        p.actions.no-print {
            button.primary type="button" data-print { (lang.t("In biên bản", "Print the record")) }
        }
    };
    (StatusCode::OK, ui.page(&title, Nav::VaultCounts, body)).into_response()
}
