//! Reports in the console: the same reports as the API (`crate::reports`),
//! drawn as tables with their totals, and their CSV and XLSX downloads.
//! Scoped like the API: a supervisor sees their branch, an admin the fund.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};

use super::i18n::Lang;
use super::session::{Signed, Staff};
use super::view::UrlPath;
use super::view::UrlQuery;
use super::view::{self, table_wrap, Nav};
use crate::api::reports::{report_filter, ReportQuery};
use crate::app::AppState;
use crate::error::AppError;
use crate::import::rows::Role;
use crate::reports::{self, Cell, Kind, Report};
use chrono::NaiveDate;
use sotay_core::domain::time;

/// A report's name in the URL, its title and what it tells.
struct Entry {
    name: &'static str,
    vi: &'static str,
    en: &'static str,
    about_vi: &'static str,
    about_en: &'static str,
}

const ENTRIES: &[Entry] = &[
    Entry {
        name: "daily-collections",
        vi: "Thu nợ theo ngày",
        en: "Daily collections",
        about_vi: "Phải thu, đã thu, tiền mặt thực nhận và thừa/thiếu, theo cán bộ và chi nhánh.",
        about_en: "Due, collected, cash received and over/short, per officer and branch.",
    },
    Entry {
        name: "portfolio-at-risk",
        vi: "Nợ có rủi ro (PAR)",
        en: "Portfolio at risk (PAR)",
        about_vi: "PAR1, PAR30, nợ quá hạn và phân nhóm tuổi nợ theo chi nhánh và cán bộ.",
        about_en: "PAR1, PAR30, overdue amounts and ageing by branch and officer.",
    },
    Entry {
        name: "overdue-loans",
        vi: "Khoản vay quá hạn",
        en: "Overdue loans",
        about_vi: "Danh sách người vay cần đôn đốc: mỗi khoản vay có kỳ quá hạn với điện thoại, nhà trọ, số ngày và số tiền quá hạn, quá hạn lâu nhất trước.",
        about_en: "The borrowers to chase: each loan with an overdue installment, with the phone, boarding house, days and amount overdue, the longest overdue first.",
    },
    Entry {
        name: "campaign-progress",
        vi: "Tiến độ chương trình quà",
        en: "Campaign progress",
        about_vi: "Số suất quà đã trao so với chỉ tiêu và phân bổ của chi nhánh, cán bộ.",
        about_en: "Gifts handed out against the target and each branch's and officer's allocation.",
    },
    Entry {
        name: "visits",
        vi: "Thăm hỏi",
        en: "Visits",
        about_vi: "Số lần thăm theo cán bộ và mục đích; người khó khăn chưa được thăm.",
        about_en: "Visits per officer and purpose; workers in hardship not visited.",
    },
    Entry {
        name: "vault-cash-book",
        vi: "Sổ quỹ tiền mặt",
        en: "Vault cash book",
        about_vi: "Tồn quỹ đầu kỳ, từng khoản thu chi của quỹ tiền mặt chi nhánh với bút toán và người ghi sổ, tồn quỹ cuối kỳ để đối chiếu khi kiểm quỹ.",
        about_en: "Opening balance, every cash movement of the branch vault with its entry and who posted it, and the closing balance to check the count against.",
    },
    Entry {
        name: "bank-book",
        vi: "Sổ tiền gửi ngân hàng",
        en: "Bank book",
        about_vi: "Số dư đầu kỳ, từng khoản gửi vào, rút ra của tài khoản ngân hàng chi nhánh (vốn chuyển về, giải ngân chuyển khoản, nộp/rút tiền mặt) với bút toán và người ghi sổ, số dư cuối kỳ để đối chiếu sao kê ngân hàng.",
        about_en: "Opening balance, every movement of the branch's bank account (capital by transfer, loans paid by transfer, cash paid in or drawn) with its entry and who posted it, and the closing balance to check the bank's statement against.",
    },
    Entry {
        name: "worker-statement",
        vi: "Sao kê người lao động",
        en: "Worker statement",
        about_vi: "Khoản vay, lịch trả, mọi lần trả với số phiếu thu, quà đã nhận.",
        about_en: "Loans, schedule, every repayment with its receipt number, gifts received.",
    },
];

fn entry(name: &str) -> Option<&'static Entry> {
    ENTRIES.iter().find(|e| e.name == name)
}

fn report_lang(lang: Lang) -> reports::Lang {
    match lang {
        Lang::Vi => reports::Lang::Vi,
        Lang::En => reports::Lang::En,
    }
}

/// `GET /reports`
pub async fn index(Staff(signed): Staff) -> Response {
    let cashier = signed.user.role == Role::Cashier;
    let lang = signed.lang;
    let ui = signed.ui();
    let body = html! {
        h1 { (lang.t("Báo cáo", "Reports")) }
        p.lead { (lang.t(
            "Mỗi báo cáo xem được trên trang và tải về dạng Excel (XLSX) hoặc CSV. Số liệu lấy từ sổ cái sau khi giám sát duyệt.",
            "Every report can be read here and downloaded as Excel (XLSX) or CSV. Figures come from the ledger, after supervisors approve."
        )) }
        ul.plain #reports {
            @for e in ENTRIES.iter().filter(|e| !cashier || reports::CASHIER_REPORTS.contains(&e.name)) {
                li {
                    @if e.name == "worker-statement" {
                        strong { (lang.t(e.vi, e.en)) }
                        " — " (lang.t(e.about_vi, e.about_en)) " "
                        span.muted { (lang.t("Mở từ trang của một người lao động.", "Open it from a worker's page.")) }
                    } @else {
                        a href=(format!("/reports/{}", e.name)) { strong { (lang.t(e.vi, e.en)) } }
                        " — " (lang.t(e.about_vi, e.about_en))
                    }
                }
            }
        }
    };
    ui.page(lang.t("Báo cáo", "Reports"), Nav::Reports, body)
        .into_response()
}

/// The filter form as typed: every field as text, so that a value that
/// does not read (`30 ngày` in the days box) comes back on the form with
/// what is wrong, not on a page of its own.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ReportForm {
    from: Option<String>,
    to: Option<String>,
    branch_id: Option<String>,
    officer_id: Option<String>,
    campaign_id: Option<String>,
    worker_id: Option<String>,
    days: Option<String>,
    format: Option<String>,
    lang: Option<String>,
}

impl ReportForm {
    /// The query with the fields that do not read left out.
    fn query_lenient(&self) -> ReportQuery {
        let number = |v: &Option<String>| v.as_deref().and_then(|t| t.trim().parse().ok());
        ReportQuery {
            from: self.from.clone(),
            to: self.to.clone(),
            branch_id: number(&self.branch_id),
            officer_id: number(&self.officer_id),
            campaign_id: number(&self.campaign_id),
            worker_id: number(&self.worker_id),
            days: number(&self.days),
            format: self.format.clone(),
            lang: self.lang.clone(),
        }
    }

    /// The query the report takes, or the first field that does not read.
    fn query(&self) -> Result<ReportQuery, AppError> {
        let number = |v: &Option<String>,
                      field: &str,
                      vi: &str,
                      en: &str|
         -> Result<Option<i64>, AppError> {
            match v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(t) => t.parse().map(Some).map_err(|_| {
                    AppError::invalid_field(
                        field,
                        format!("{vi} \"{t}\" không đọc được: hãy nhập một số nguyên, ví dụ 30"),
                        format!("{en} \"{t}\" does not read: type a whole number, e.g. 30"),
                    )
                }),
            }
        };
        let days = number(&self.days, "days", "Số ngày", "Days")?;
        // Said with the box's own label, not the address's parameter.
        if let Some(d) = days.filter(|d| !(1..=3650).contains(d)) {
            return Err(AppError::invalid_field(
                "days",
                format!("Ô \"Chưa thăm quá (ngày)\" phải từ 1 đến 3650 ngày (đã nhập {d}): ví dụ 30 là người chưa được thăm trong 30 ngày qua"),
                format!("\"Not visited for (days)\" must be 1 to 3650 days ({d} was typed): e.g. 30 lists those not visited in the last 30 days"),
            ));
        }
        Ok(ReportQuery {
            from: self.from.clone(),
            to: self.to.clone(),
            branch_id: number(&self.branch_id, "branch_id", "Chi nhánh", "Branch")?,
            officer_id: number(&self.officer_id, "officer_id", "Cán bộ", "Officer")?,
            campaign_id: number(&self.campaign_id, "campaign_id", "Chương trình", "Campaign")?,
            worker_id: number(&self.worker_id, "worker_id", "Người lao động", "Worker")?,
            days,
            format: self.format.clone(),
            lang: self.lang.clone(),
        })
    }
}

/// `GET /reports/{name}?from=&to=&branch_id=&campaign_id=&worker_id=&days=&format=`
pub async fn report(
    State(state): State<AppState>,
    Staff(signed): Staff,
    UrlPath(name): UrlPath<String>,
    UrlQuery(form): UrlQuery<ReportForm>,
) -> Response {
    let ui = signed.ui();
    let Some(e) = entry(&name) else {
        return ui.app_error(AppError::not_found("báo cáo", "report"));
    };
    // A cashier reads their branch's cash books, not the others.
    if signed.user.role == Role::Cashier && !reports::CASHIER_REPORTS.contains(&e.name) {
        return ui.app_error(AppError::forbidden_role());
    }
    let q = match form.query() {
        Ok(q) => q,
        Err(err) => {
            // Shown on the form, the other filters kept; the bad one is
            // typed again.
            return render(&state, &signed, e, &form.query_lenient(), Err(err)).await;
        }
    };
    let filter = match report_filter(&q, e.name) {
        Ok(f) => f,
        Err(err) => return render(&state, &signed, e, &q, Err(err)).await,
    };
    let built = reports::build(&state.db, e.name, signed.user.scope(), &filter)
        .await
        .unwrap_or_else(|| Err(crate::db::DbError::NotFound))
        .map_err(AppError::from);
    let report = match built {
        Ok(r) => r,
        // Out of scope (another branch, worker or campaign): not found, as everywhere.
        Err(err) if err.status == axum::http::StatusCode::NOT_FOUND => return ui.app_error(err),
        Err(err) => return render(&state, &signed, e, &q, Err(err)).await,
    };
    let rl = report_lang(signed.lang);
    match q.format.as_deref().unwrap_or("") {
        "" | "html" => render(&state, &signed, e, &q, Ok(report)).await,
        "csv" => download(
            reports::to_csv(&report, rl),
            "text/csv; charset=utf-8",
            report.file_name("csv"),
        ),
        "xlsx" => match reports::to_xlsx(&report, rl) {
            Ok(bytes) => download(
                bytes,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                report.file_name("xlsx"),
            ),
            Err(err) => ui.app_error(AppError::internal(err)),
        },
        other => {
            render(
                &state,
                &signed,
                e,
                &q,
                Err(AppError::invalid_field(
                    "format",
                    format!("Định dạng \"{other}\" không hợp lệ; chọn XLSX hoặc CSV"),
                    format!("format \"{other}\" is not valid; choose XLSX or CSV"),
                )),
            )
            .await
        }
    }
}

fn download(bytes: Vec<u8>, mime: &'static str, file: String) -> Response {
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// The filter form, then the report's tables or what went wrong.
async fn render(
    state: &AppState,
    s: &Signed,
    e: &Entry,
    q: &ReportQuery,
    report: Result<Report, AppError>,
) -> Response {
    let ui = s.ui();
    let lang = s.lang;
    let admin = s.user.role == Role::Admin;
    let branches = if admin {
        state.db.branches(None).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    // The officers the reader may narrow a report to: their branch's, or
    // for an admin every branch's (grouped by branch).
    let by_officer = reports::BY_OFFICER.contains(&e.name);
    let officers: Vec<crate::db::UserView> = if by_officer {
        let branch = match s.user.scope() {
            crate::db::Scope::Branch(b) => Some(b),
            _ => None,
        };
        let mut all = state.db.users(branch).await.unwrap_or_default();
        all.retain(|u| u.role == "officer" && (admin || branch.is_some()));
        all
    } else {
        Vec::new()
    };
    let branch_names: std::collections::HashMap<i64, String> =
        branches.iter().map(|b| (b.id, b.name.clone())).collect();
    let mut groups: Vec<(Option<i64>, Vec<&crate::db::UserView>)> = Vec::new();
    for u in &officers {
        match groups.iter_mut().find(|g| g.0 == u.branch_id) {
            Some(g) => g.1.push(u),
            None => groups.push((u.branch_id, vec![u])),
        }
    }
    groups.sort_by_key(|g| g.0);
    let officer_label = |u: &crate::db::UserView| {
        let mut label = format!("{} ({})", u.full_name, u.code);
        if !u.active {
            label.push_str(lang.t(" — đã khóa", " — deactivated"));
        }
        label
    };
    let campaigns = if e.name == "campaign-progress" {
        state.db.campaigns().await.unwrap_or_default()
    } else {
        Vec::new()
    };
    let text = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_string();
    let int = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    // The days asked for, else the days the report took when left empty
    // (this month, today), so the fields say the period shown.
    let day = |asked: &Option<String>, took: fn(&Report) -> Option<NaiveDate>| {
        let asked = text(asked);
        match (asked.is_empty(), &report) {
            (true, Ok(r)) => took(r).map(time::format_date).unwrap_or_default(),
            _ => asked,
        }
    };
    let (from, to) = (day(&q.from, |r| r.from), day(&q.to, |r| r.to));
    // The query of this page, for the downloads.
    let pairs = |format: &str| {
        vec![
            ("from", from.clone()),
            ("to", to.clone()),
            ("branch_id", int(q.branch_id)),
            ("officer_id", int(q.officer_id)),
            ("campaign_id", int(q.campaign_id)),
            ("worker_id", int(q.worker_id)),
            ("days", int(q.days)),
            ("format", format.to_string()),
        ]
    };
    let path = format!("/reports/{}", e.name);
    let title = lang.t(e.vi, e.en);
    // Books a branch signs at the end of the day: lines to sign, printed.
    let signed_by: &[(&str, &str)] = match e.name {
        "vault-cash-book" => &[
            ("Thủ quỹ", "Cashier"),
            ("Giám sát chi nhánh", "Branch supervisor"),
        ],
        "daily-collections" | "bank-book" => &[
            ("Người lập", "Prepared by"),
            ("Giám sát chi nhánh", "Branch supervisor"),
        ],
        _ => &[],
    };
    let body = html! {
        div.report-page {
        p.crumbs { a href="/reports" { (lang.t("Báo cáo", "Reports")) } " › " (title) }
        h1 { (title) }
        p.lead { (lang.t(e.about_vi, e.about_en)) }
        form.filters method="get" action=(path) id="report-filter" {
            @if let Some(w) = q.worker_id { input type="hidden" name="worker_id" value=(w); }
            @if e.name == "campaign-progress" {
                div {
                    label for="campaign_id" { (lang.t("Chương trình", "Campaign")) }
                    select #campaign_id name="campaign_id" {
                        option value="" { (lang.t("Tất cả", "All")) }
                        @for c in &campaigns {
                            option value=(c.id) selected[q.campaign_id == Some(c.id)] { (c.name) }
                        }
                    }
                }
            }
            @if !matches!(e.name, "portfolio-at-risk" | "overdue-loans") {
                div {
                    label for="from" { (lang.t("Từ ngày", "From")) }
                    input #from type="text" name="from" value=(from) placeholder="dd/mm/yyyy"
                        inputmode="numeric" autocomplete="off" size="10";
                }
            }
            div {
                label for="to" { (if matches!(e.name, "portfolio-at-risk" | "overdue-loans") { lang.t("Tính đến ngày", "As of") } else { lang.t("Đến ngày", "To") }) }
                input #to type="text" name="to" value=(to) placeholder="dd/mm/yyyy"
                    inputmode="numeric" autocomplete="off" size="10";
            }
            @if e.name == "visits" {
                div {
                    label for="days" { (lang.t("Chưa thăm quá (ngày)", "Not visited for (days)")) }
                    input #days type="text" name="days" value=(int(q.days)) placeholder="30"
                        inputmode="numeric" autocomplete="off" size="4";
                }
            }
            @if admin {
                div {
                    label for="branch_id" { (lang.t("Chi nhánh", "Branch")) }
                    select #branch_id name="branch_id" {
                        option value="" { (lang.t("Toàn quỹ", "Whole fund")) }
                        @for b in &branches {
                            option value=(b.id) selected[q.branch_id == Some(b.id)] { (b.name) }
                        }
                    }
                }
            }
            @if by_officer {
                div {
                    label for="officer_id" { (lang.t("Cán bộ", "Officer")) }
                    select #officer_id name="officer_id" {
                        option value="" { (lang.t("Tất cả cán bộ", "All officers")) }
                        @if e.name == "daily-collections" {
                            option value="0" selected[q.officer_id == Some(0)] { (lang.t("Quầy giao dịch", "Branch counter")) }
                        }
                        @if admin {
                            @for (b, list) in &groups {
                                optgroup label=(b.and_then(|b| branch_names.get(&b).cloned()).unwrap_or_default()) {
                                    @for u in list {
                                        option value=(u.id) selected[q.officer_id == Some(u.id)] { (officer_label(u)) }
                                    }
                                }
                            }
                        } @else {
                            @for u in &officers {
                                option value=(u.id) selected[q.officer_id == Some(u.id)] { (officer_label(u)) }
                            }
                        }
                    }
                }
            }
            div.actions {
                button.primary type="submit" { (lang.t("Xem", "Show")) }
            }
        }
        @match &report {
            Err(err) => { p.notice.error role="alert" { (ui.message(err)) } }
            Ok(r) => {
                p.actions.no-print #downloads {
                    a.button #download-xlsx href=(view::link(&path, &pairs("xlsx"))) download {
                        (lang.t("Tải Excel (XLSX)", "Download Excel (XLSX)"))
                    }
                    " "
                    a.button #download-csv href=(view::link(&path, &pairs("csv"))) download {
                        (lang.t("Tải CSV", "Download CSV"))
                    }
                }
                @if !r.subtitle.get(report_lang(lang)).is_empty() {
                    p.muted #report-subtitle { (r.subtitle.get(report_lang(lang))) }
                }
                @for n in &r.notes {
                    p.notice.warn.report-note role="note" { (n.get(report_lang(lang))) }
                }
                @for sheet in &r.sheets {
                    (sheet_table(lang, sheet))
                }
                @if !signed_by.is_empty() {
                    div.signatures.print-only #report-signatures {
                        @for (vi, en) in signed_by {
                            div {
                                strong { (lang.t(vi, en)) }
                                br;
                                small { (lang.t("(Ký, ghi rõ họ tên)", "(Signature and full name)")) }
                            }
                        }
                    }
                }
            }
        }
        }
    };
    let status = match &report {
        Err(err) => err.status,
        Ok(_) => axum::http::StatusCode::OK,
    };
    (status, ui.page(title, Nav::Reports, body)).into_response()
}

/// Rows a sheet shows on the page; the downloads have them all (a fund's
/// overdue loans are tens of thousands).
const PAGE_ROWS: usize = 1_000;

fn sheet_table(lang: Lang, sheet: &reports::Sheet) -> Markup {
    let rl = report_lang(lang);
    let hidden = sheet.rows.len().saturating_sub(PAGE_ROWS);
    html! {
        section.report-sheet id=(format!("sheet-{}", sheet.key)) {
            h2 { (sheet.title.get(rl)) }
            @if sheet.rows.is_empty() {
                (view::empty(lang.t("Không có số liệu.", "Nothing to show.")))
            } @else {
                (table_wrap(html! {
                    table.list {
                        thead { tr {
                            @for c in &sheet.columns {
                                th.num[numeric(c.kind)] { (rl.pick(c.vi, c.en)) }
                            }
                        } }
                        tbody {
                            @for row in sheet.rows.iter().take(PAGE_ROWS) {
                                tr { @for (c, cell) in sheet.columns.iter().zip(row) {
                                    td.num[numeric(c.kind)] {
                                        @if let Cell::Link(text, href) = cell {
                                            a href=(href) { (text) }
                                        } @else {
                                            (cell_text(lang, cell))
                                        }
                                    }
                                } }
                            }
                        }
                        @if hidden > 0 {
                            tbody.more { tr { td colspan=(sheet.columns.len()) {
                                (lang.pick(
                                    format!("… và {} dòng nữa: tải tệp Excel (XLSX) hoặc CSV để xem đủ. Dòng tổng cộng tính mọi dòng.", view::count(hidden as i64)),
                                    format!("… and {} more rows: download the Excel (XLSX) or CSV file for all of them. The totals count every row.", view::count(hidden as i64)),
                                ))
                            } } }
                        }
                        @if let Some(t) = &sheet.totals {
                            tfoot { tr {
                                @for (c, cell) in sheet.columns.iter().zip(reports::totals_row(t, rl)) {
                                    th.num[numeric(c.kind)] { (cell_text(lang, &cell)) }
                                }
                            } }
                        }
                    }
                }))
            }
        }
    }
}

fn numeric(kind: Kind) -> bool {
    matches!(kind, Kind::Money | Kind::Count | Kind::BasisPoints)
}

fn cell_text(lang: Lang, cell: &Cell) -> String {
    match cell {
        Cell::Empty => String::new(),
        Cell::Text(s) | Cell::Link(s, _) => s.clone(),
        Cell::Words(vi, en) => lang.t(vi, en).to_string(),
        Cell::Money(v) => view::vnd(*v),
        Cell::Count(v) => view::count(*v),
        Cell::Date(d) => view::date(*d),
        Cell::DateTime(t) => view::datetime(*t),
        Cell::BasisPoints(bp) => reports::percent(*bp, report_lang(lang)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::{col, Sheet, Text};

    #[test]
    fn a_long_sheet_shows_its_first_rows_and_says_how_many_more() {
        let mut sheet = Sheet::new(
            "loans",
            Text::new("Khoản vay", "Loans"),
            vec![
                col("loan", "Khoản vay", "Loan", Kind::Text),
                col("overdue", "Quá hạn", "Overdue", Kind::Money),
            ],
        );
        for i in 0..PAGE_ROWS as i64 + 5 {
            sheet
                .rows
                .push(vec![Cell::text(format!("KV-{i}")), Cell::Money(i)]);
        }
        sheet.sum_totals();
        let html = sheet_table(Lang::Vi, &sheet).into_string();
        assert_eq!(
            html.matches("<tr>").count(),
            1 + PAGE_ROWS + 1 + 1,
            "head, rows, note, totals"
        );
        assert!(
            html.contains("… và 5 dòng nữa"),
            "{}",
            &html[html.len() - 600..]
        );
        let all: i64 = (0..PAGE_ROWS as i64 + 5).sum();
        assert!(html.contains(&view::vnd(all)), "the totals count every row");
        let short = Sheet {
            rows: sheet.rows[..3].to_vec(),
            ..sheet
        };
        assert!(!sheet_table(Lang::En, &short)
            .into_string()
            .contains("more rows"));
    }

    #[test]
    fn a_loan_named_in_a_sheet_opens_its_page_and_its_file_has_the_code() {
        let mut sheet = Sheet::new(
            "loans",
            Text::new("Khoản vay", "Loans"),
            vec![col("loan", "Khoản vay", "Loan", Kind::Text)],
        );
        sheet.rows.push(vec![Cell::link("KV-000103", "/loans/103")]);
        let html = sheet_table(Lang::Vi, &sheet).into_string();
        assert!(
            html.contains(r#"<a href="/loans/103">KV-000103</a>"#),
            "{html}"
        );
        assert_eq!(sheet.rows[0][0].csv(report_lang(Lang::Vi)), "KV-000103");
    }
}
