//! Reports: `GET /api/v1/reports/{name}` as JSON, or with `?format=csv` /
//! `?format=xlsx` as a download (Content-Disposition names the file).
//! Headers are Vietnamese; `?lang=en` or an Accept-Language that prefers
//! English switches them to English. Supervisors see their branch (another
//! branch answers 404), admins the fund; officers get 403, as for review.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use sotay_core::domain::time::parse_date;
use utoipa::IntoParams;

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::ApiPath;
use crate::error::ApiQuery;
use crate::error::{prefers_english, AppError, Problem};
use crate::import::rows::Role;
use crate::reports::{self, Filter, Lang};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// First day, `dd/mm/yyyy` (Asia/Ho_Chi_Minh).
    pub from: Option<String>,
    /// Last day, `dd/mm/yyyy`; for portfolio-at-risk and overdue-loans the day they are measured on.
    pub to: Option<String>,
    pub branch_id: Option<i64>,
    /// One officer (`0`: the branch counter, daily-collections): daily-collections,
    /// portfolio-at-risk, overdue-loans, campaign-progress, visits. The
    /// branch's books (vault-cash-book, bank-book) refuse it.
    pub officer_id: Option<i64>,
    /// campaign-progress: one campaign.
    pub campaign_id: Option<i64>,
    /// worker-statement: the worker (required).
    pub worker_id: Option<i64>,
    /// visits: workers in hardship not visited in this many days (default 30).
    pub days: Option<i64>,
    /// `json` (default), `csv` or `xlsx`.
    pub format: Option<String>,
    /// `vi` (default) or `en`: the language of headers.
    pub lang: Option<String>,
}

fn date(field: &str, value: &Option<String>) -> Result<Option<chrono::NaiveDate>, AppError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => parse_date(v).map(Some).ok_or_else(|| {
            let (why_vi, why_en) = sotay_core::domain::time::date_hint(v);
            AppError::invalid_field(
                field,
                format!("Ngày \"{v}\" không hợp lệ; {why_vi}"),
                format!("date \"{v}\" is not valid; {why_en}"),
            )
        }),
    }
}

/// The filter a query asks for, checked: dates, ranges, required fields.
pub(crate) fn report_filter(q: &ReportQuery, name: &str) -> Result<Filter, AppError> {
    let f = Filter {
        from: date("from", &q.from)?,
        to: date("to", &q.to)?,
        branch_id: q.branch_id,
        officer_id: q.officer_id,
        campaign_id: q.campaign_id,
        worker_id: q.worker_id,
        days: q.days,
    };
    if let (Some(a), Some(b)) = (f.from, f.to) {
        if a > b {
            use sotay_core::domain::time::format_date;
            return Err(AppError::invalid_field(
                "from",
                format!(
                    "Ngày bắt đầu {} sau ngày kết thúc {}: hãy đổi chỗ hai ngày",
                    format_date(a),
                    format_date(b)
                ),
                format!(
                    "the first day {} is after the last day {}: swap the two days",
                    format_date(a),
                    format_date(b)
                ),
            ));
        }
        if name == "daily-collections" && (b - a).num_days() > 366 {
            return Err(AppError::invalid_field(
                "to",
                "Báo cáo thu nợ theo ngày tối đa 367 ngày: hãy chọn khoảng ngày ngắn hơn",
                "daily collections cover at most 367 days: choose a shorter range",
            ));
        }
    }
    // The books run to today unless told otherwise.
    let book = match name {
        "vault-cash-book" => Some(("Sổ quỹ tiền mặt", "the vault cash book")),
        "bank-book" => Some(("Sổ tiền gửi ngân hàng", "the bank book")),
        _ => None,
    };
    if let Some((vi, en)) = book {
        // A branch's book is the branch's: narrowed to an officer it would
        // still be the whole branch's, under the officer's name.
        if f.officer_id.is_some() {
            return Err(AppError::invalid_field(
                "officer_id",
                format!(
                    "{vi} là sổ của cả chi nhánh, không tách theo cán bộ: bỏ chọn cán bộ (officer_id) để xem sổ; tiền mặt từng cán bộ nộp quỹ xem ở báo cáo Thu nợ theo ngày (daily-collections), chọn cán bộ đó"
                ),
                format!(
                    "{en} is the whole branch's, not split by officer: leave the officer (officer_id) out to read it; the cash each officer handed over is in the daily collections report (daily-collections), narrowed to that officer"
                ),
            ));
        }
        let to = f.to.unwrap_or_else(crate::reports::today);
        let from = f.from.unwrap_or(to);
        if from > to {
            return Err(AppError::invalid_field(
                "from",
                format!(
                    "Ngày bắt đầu {} sau ngày kết thúc {} (mặc định là hôm nay) của {vi}: hãy chọn ngày bắt đầu sớm hơn",
                    sotay_core::domain::time::format_date(from),
                    sotay_core::domain::time::format_date(to)
                ),
                format!(
                    "the first day {} is after the last day {} (today unless given) of {en}: choose an earlier first day",
                    sotay_core::domain::time::format_date(from),
                    sotay_core::domain::time::format_date(to)
                ),
            ));
        }
        if (to - from).num_days() > 366 {
            return Err(AppError::invalid_field(
                "to",
                format!("{vi} tối đa 367 ngày"),
                format!("{en} covers at most 367 days"),
            ));
        }
    }
    if name == "worker-statement" && f.worker_id.is_none() {
        return Err(AppError::invalid_field(
            "worker_id",
            "Chọn người lao động cần sao kê: tìm người đó ở trang \"Người lao động\" (theo tên, số điện thoại hoặc CCCD), mở trang của họ rồi bấm \"Sao kê\"; qua API, ghi worker_id là số hiệu của người lao động, ví dụ worker_id=119",
            "Choose the worker whose statement you want: find them on the \"Workers\" page (by name, phone or ID card), open their page and press \"Statement\"; through the API, give worker_id, the worker's id, e.g. worker_id=119",
        ));
    }
    if let Some(d) = f.days.filter(|d| !(1..=3650).contains(d)) {
        return Err(AppError::invalid_field(
            "days",
            format!("Số ngày chưa thăm (days) phải từ 1 đến 3650, không phải {d}: ví dụ days=30 là người khó khăn chưa được thăm trong 30 ngày qua"),
            format!("the days without a visit (days) must be 1 to 3650, not {d}: e.g. days=30 lists the workers in hardship not visited in the last 30 days"),
        ));
    }
    Ok(f)
}

/// A report as JSON (sheets of rows keyed by column; money as strings of
/// whole đồng, ratios in basis points), CSV (UTF-8 with BOM) or XLSX.
/// Names: `daily-collections`, `portfolio-at-risk`, `overdue-loans`, `campaign-progress`,
/// `visits`, `worker-statement`, `vault-cash-book`, `bank-book`.
#[utoipa::path(get, path = "/api/v1/reports/{name}", params(("name" = String, Path, description = "daily-collections, portfolio-at-risk, overdue-loans, campaign-progress, visits, worker-statement, vault-cash-book or bank-book"), ReportQuery),
    security(("bearer" = [])), responses(
    (status = 200, description = "the report: JSON, or a CSV / XLSX download", content_type = "application/json"),
    (status = 403, body = Problem), (status = 404, description = "no such report, or a branch / worker / campaign outside the caller's scope", body = Problem),
    (status = 422, body = Problem)))]
pub async fn report(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    ApiPath(name): ApiPath<String>,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Response, AppError> {
    user.require(&[Role::Supervisor, Role::Admin, Role::Cashier])?;
    if user.role == Role::Cashier && !reports::CASHIER_REPORTS.contains(&name.as_str()) {
        return Err(AppError::forbidden_role());
    }
    if !reports::NAMES.contains(&name.as_str()) {
        return Err(AppError::not_found("báo cáo", "report"));
    }
    let f = report_filter(&q, &name)?;
    let lang = match q.lang.as_deref() {
        Some("en") => Lang::En,
        Some("vi") => Lang::Vi,
        _ if prefers_english(&headers) => Lang::En,
        _ => Lang::Vi,
    };
    let report = reports::build(&state.db, &name, user.scope(), &f)
        .await
        .ok_or_else(|| AppError::not_found("báo cáo", "report"))??;
    let download = |bytes: Vec<u8>, mime: &'static str, ext: &str| {
        let disposition = format!("attachment; filename=\"{}\"", report.file_name(ext));
        let mut resp = bytes.into_response();
        let h = resp.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
        if let Ok(v) = HeaderValue::from_str(&disposition) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
        resp
    };
    match q.format.as_deref().unwrap_or("json") {
        "json" => Ok(Json(&report).into_response()),
        "csv" => Ok(download(
            reports::to_csv(&report, lang),
            "text/csv; charset=utf-8",
            "csv",
        )),
        "xlsx" => {
            let bytes = reports::to_xlsx(&report, lang).map_err(AppError::internal)?;
            Ok(download(
                bytes,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "xlsx",
            ))
        }
        other => Err(AppError::invalid_field(
            "format",
            format!("Định dạng \"{other}\" không hợp lệ; dùng json, csv hoặc xlsx"),
            format!("format \"{other}\" is not valid; use json, csv or xlsx"),
        )),
    }
}
