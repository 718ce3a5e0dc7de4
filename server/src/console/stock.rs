//! Gift stock (admins): what each branch received for each campaign and has
//! left to hand out, and the form that receives gift packages (or a welfare
//! programme's grant cash) into a branch, through `Db::campaign_receive`.
//! A receipt entered by mistake is reversed like any entry (`/reversals`);
//! a reversed one no longer counts.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::html;
use serde::Deserialize;
use sotay_core::domain::time;
use uuid::Uuid;

use super::session::Signed;
use super::view::UrlQuery;
use super::view::{self, count, csrf_field, date, datetime, table_wrap, vnd, Nav};
use crate::api::ClientIp;
use crate::app::AppState;
use crate::db::Reviewer;
use crate::error::AppError;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StockQuery {
    /// The receipt just made, to confirm it.
    received: String,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct ReceiveForm {
    csrf: String,
    client_id: String,
    campaign_id: String,
    branch_id: String,
    packages: String,
    received_on: String,
    source: String,
}

/// `GET /stock`
pub async fn page(
    State(state): State<AppState>,
    signed: Signed,
    UrlQuery(q): UrlQuery<StockQuery>,
) -> Response {
    if let Some(r) = signed.not_admin() {
        return r;
    }
    let form = ReceiveForm {
        received_on: time::format_date(time::local_date(chrono::Utc::now())),
        ..ReceiveForm::default()
    };
    render(
        &state,
        &signed,
        &form,
        None,
        q.received.parse().ok(),
        StatusCode::OK,
    )
    .await
}

async fn render(
    state: &AppState,
    s: &Signed,
    form: &ReceiveForm,
    error: Option<String>,
    received: Option<i64>,
    status: StatusCode,
) -> Response {
    let lang = s.lang;
    let ui = s.ui();
    let loaded = async {
        Ok::<_, AppError>((
            state.db.campaigns().await?,
            state.db.branches(None).await?,
            state.db.campaign_receipts(None, None).await?,
            state.db.ledger_balances(None).await?,
        ))
    }
    .await;
    let (campaigns, branches, receipts, balances) = match loaded {
        Ok(l) => l,
        Err(e) => return ui.app_error(e),
    };
    // What is left at each branch: gift packages in stock; for a welfare
    // programme, grants its receipts paid for less those handed out.
    let left = |campaign: i64, branch: i64| -> (i64, i64) {
        let k = campaigns.iter().find(|k| k.id == campaign);
        let value = k.map_or(0, |k| k.gift_value);
        let got: i64 = receipts
            .iter()
            .filter(|r| r.campaign_id == campaign && r.branch_id == branch && !r.reversed)
            .map(|r| r.packages)
            .sum();
        let given: i64 = balances
            .iter()
            .filter(|b| {
                b.account == "campaign_expense"
                    && b.campaign_id == Some(campaign)
                    && b.branch_id == branch
            })
            .map(|b| b.debit - b.credit)
            .sum();
        let given = if value > 0 { given / value } else { 0 };
        (got, got - given)
    };
    let client_id = if form.client_id.is_empty() {
        Uuid::now_v7().to_string()
    } else {
        form.client_id.clone()
    };
    let just = received.and_then(|id| receipts.iter().find(|r| r.id == id));
    let pairs: Vec<(i64, i64)> = {
        let mut p: Vec<(i64, i64)> = receipts
            .iter()
            .map(|r| (r.campaign_id, r.branch_id))
            .collect();
        p.sort_unstable();
        p.dedup();
        p
    };
    let body = html! {
        h1 { (lang.t("Kho quà", "Gift stock")) }
        p.lead { (lang.t(
            "Quà chỉ được ghi sổ khi chi nhánh còn quà trong kho; khoản hỗ trợ chỉ khi quỹ tiền mặt chi nhánh còn đủ tiền. Nhập kho ở đây khi chi nhánh nhận quà (hoặc tiền của chương trình hỗ trợ).",
            "A gift posts only while its branch has packages in stock, a welfare grant only while the branch vault holds the cash. Receive them here when a branch gets packages (or a programme's cash).",
        )) }
        @if let Some(r) = just {
            p.notice.success role="status" #flash {
                (lang.pick(
                    format!("Đã nhập {} suất {} cho {} ({}).", count(r.packages), r.campaign_name, r.branch_name, vnd(r.amount)),
                    format!("Received {} of {} at {} ({}).", count(r.packages), r.campaign_name, r.branch_name, vnd(r.amount)),
                ))
            }
        }
        @if pairs.is_empty() {
            (view::empty(lang.t("Chưa chi nhánh nào nhận quà.", "No branch has received anything yet.")))
        } @else {
            (table_wrap(html! {
                table.list #stock {
                    thead { tr {
                        th { (lang.t("Chương trình", "Campaign")) }
                        th { (lang.t("Chi nhánh", "Branch")) }
                        th.num { (lang.t("Đã nhận (suất)", "Received")) }
                        th.num { (lang.t("Còn lại (suất)", "Left")) }
                    } }
                    tbody {
                        @for (k, b) in &pairs {
                            @let (got, rest) = left(*k, *b);
                            tr {
                                td { (campaigns.iter().find(|c| c.id == *k).map_or("—", |c| c.name.as_str())) }
                                td { (branches.iter().find(|x| x.id == *b).map_or("—", |x| x.name.as_str())) }
                                td.num { (count(got)) }
                                td.num { (count(rest)) }
                            }
                        }
                    }
                }
            }))
        }
        h2 { (lang.t("Nhập kho", "Receive")) }
        @if let Some(m) = &error {
            p.notice.error role="alert" #receive-error { (m) }
        }
        form.stack method="post" action="/stock" id="receive-form" {
            (csrf_field(&s.csrf))
            input type="hidden" name="client_id" value=(client_id);
            label for="campaign_id" { (lang.t("Chương trình", "Campaign")) }
            select #campaign_id name="campaign_id" required {
                @for k in &campaigns {
                    option value=(k.id) selected[form.campaign_id == k.id.to_string()] {
                        (k.name) " — " (vnd(k.gift_value)) (lang.t(" mỗi suất", " each"))
                    }
                }
            }
            label for="branch_id" { (lang.t("Chi nhánh nhận", "Receiving branch")) }
            select #branch_id name="branch_id" required {
                @for b in &branches {
                    option value=(b.id) selected[form.branch_id == b.id.to_string()] { (b.name) }
                }
            }
            label for="packages" { (lang.t("Số suất", "Packages")) }
            input #packages name="packages" inputmode="numeric" required value=(form.packages);
            label for="received_on" { (lang.t("Ngày nhận (dd/mm/yyyy)", "Received on (dd/mm/yyyy)")) }
            input #received_on name="received_on" required value=(form.received_on);
            label for="source" { (lang.t("Nguồn (ghi vào sổ)", "Source (written to the books)")) }
            input #source name="source" maxlength="200" required value=(form.source)
                placeholder=(lang.t("Ví dụ: LĐLĐ thành phố, phiếu xuất kho số 12", "E.g. the city federation, delivery note 12"));
            div.actions {
                button type="submit" data-busy=(lang.t("Đang ghi…", "Posting…")) { (lang.t("Nhập kho", "Receive")) }
            }
        }
        @if !receipts.is_empty() {
            h2 { (lang.t("Các lần nhập", "Receipts")) }
            (table_wrap(html! {
                table.list #receipts {
                    thead { tr {
                        th { (lang.t("Ngày nhận", "Received on")) }
                        th { (lang.t("Chương trình", "Campaign")) }
                        th { (lang.t("Chi nhánh", "Branch")) }
                        th.num { (lang.t("Số suất", "Packages")) }
                        th.num { (lang.t("Giá trị", "Value")) }
                        th { (lang.t("Nguồn", "Source")) }
                        th { (lang.t("Người ghi", "Recorded by")) }
                        th {}
                    } }
                    tbody {
                        @for r in &receipts {
                            tr {
                                td.nowrap { (date(r.received_on)) }
                                td { (r.campaign_name) }
                                td { (r.branch_name) }
                                td.num { (count(r.packages)) }
                                td.num.nowrap { (vnd(r.amount)) }
                                td { (r.source) }
                                td { (r.recorded_by) br; small { (datetime(r.recorded_at)) } }
                                td.nowrap {
                                    @if r.reversed {
                                        span.badge.muted { (lang.t("Đã đảo", "Reversed")) }
                                    } @else if let Some(entry) = r.entry_id {
                                        a href=(view::link("/reversals/new", &[("entry", entry.to_string())])) {
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
    };
    (
        status,
        ui.page(lang.t("Kho quà", "Gift stock"), Nav::Stock, body),
    )
        .into_response()
}

/// `POST /stock`
pub async fn receive(
    State(state): State<AppState>,
    signed: Signed,
    ClientIp(ip): ClientIp,
    Form(form): Form<ReceiveForm>,
) -> Response {
    if let Some(r) = signed.forgery(&form.csrf) {
        return r;
    }
    if let Some(r) = signed.not_admin() {
        return r;
    }
    let lang = signed.lang;
    // Every field that does not read is named at once.
    let parsed = {
        let date_wrong: String;
        let mut wrong: Vec<&str> = Vec::new();
        let campaign: Option<i64> = form.campaign_id.trim().parse().ok();
        if campaign.is_none() {
            wrong.push(lang.t("Hãy chọn một chương trình.", "Choose a campaign."));
        }
        let branch: Option<i64> = form.branch_id.trim().parse().ok();
        if branch.is_none() {
            wrong.push(lang.t("Hãy chọn chi nhánh nhận.", "Choose the receiving branch."));
        }
        // Grouped as people write it too: 1.000 or 1 000.
        let packages: Option<i64> = sotay_core::domain::money::parse_typed_amount(
            "packages",
            form.packages.trim(),
            sotay_core::domain::money::AmountRule::Positive,
        )
        .ok()
        .map(|d| d.0)
        .filter(|n| (1..=10_000_000).contains(n));
        if packages.is_none() {
            wrong.push(lang.t(
                "Số suất phải là số nguyên từ 1 đến 10.000.000.",
                "Packages must be a whole number from 1 to 10,000,000.",
            ));
        }
        let on = time::parse_date(form.received_on.trim());
        if on.is_none() {
            let (why_vi, why_en) = time::date_hint(&form.received_on);
            date_wrong = lang.pick(
                format!("Ngày nhận không hợp lệ; {why_vi}."),
                format!("The date is not valid; {why_en}."),
            );
            wrong.push(&date_wrong);
        }
        let source = form.source.trim().chars().take(200).collect::<String>();
        if source.is_empty() {
            wrong.push(lang.t(
                "Cần ghi nguồn: quà hoặc tiền đến từ đâu.",
                "Write the source: where the packages or cash came from.",
            ));
        }
        let client = Uuid::parse_str(form.client_id.trim()).unwrap_or_else(|_| Uuid::now_v7());
        match (campaign, branch, packages, on) {
            (Some(campaign), Some(branch), Some(packages), Some(on)) if wrong.is_empty() => {
                Ok((campaign, branch, packages, on, source, client))
            }
            _ => Err(wrong.join(" ")),
        }
    };
    let (campaign, branch, packages, on, source, client) = match parsed {
        Ok(p) => p,
        Err(m) => {
            return render(
                &state,
                &signed,
                &form,
                Some(m),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    };
    let who = Reviewer {
        user_id: signed.user.id,
        username: signed.user.username.clone(),
        is_admin: true,
        branch_id: None,
        device_id: Some(signed.user.device_id.clone()),
        ip,
    };
    match state
        .db
        .campaign_receive(&who, campaign, branch, client, packages, on, &source)
        .await
    {
        Ok(r) => {
            Redirect::to(&view::link("/stock", &[("received", r.id.to_string())])).into_response()
        }
        Err(e) => {
            let e = AppError::from(e);
            if e.status.is_server_error() {
                return signed.ui().app_error(e);
            }
            let m = signed.ui().message(&e).to_string();
            // The form came back with a sent one's id (Back after sending
            // it): the next try is a receipt of its own.
            let mut form = form;
            if e.code == "receipt_conflict" {
                form.client_id.clear();
            }
            render(&state, &signed, &form, Some(m), None, e.status).await
        }
    }
}
