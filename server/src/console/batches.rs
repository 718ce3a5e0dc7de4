//! Supervisor review in the console: the queue of uploaded batches, a batch
//! with every record and its anomalies, the approval (cash counted, records
//! excluded with a reason, a confirmation with the expected cash, the cash
//! counted and the difference) and the rejection with a reason.
//!
//! It reads and decides through the same code as the API
//! (`Db::review_batches`, `Db::review_batch`, `Db::approve_batch`,
//! `Db::reject_batch`): a supervisor acts on their branch, an admin on the
//! fund, nobody on their own records, a batch once. Another branch's batch
//! is "not found".

use std::collections::{HashMap, HashSet};

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;
use sotay_core::domain::money::{parse_typed_amount, AmountRule};
use sotay_core::domain::time::local_date;
use uuid::Uuid;

use super::i18n::Lang;
use super::session::Signed;
use super::view::UrlPath;
use super::view::UrlQuery;
use super::view::{self, csrf_field, datetime, table_wrap, vnd, Nav, Ui};
use crate::api::review::{branch_of, reviewer};
use crate::api::ClientIp;
use crate::app::AppState;
use crate::db::{
    BatchDetail, BatchStatus, BatchSummary, EnteredAgainAnswers, KindCounts, RefusedRecord,
    ReviewRecord, Reviewer,
};
use crate::error::AppError;
use crate::import::rows::Role;

/// Batches per page of the list.
const PAGE: i64 = 50;
/// The longest reason kept (what the officer reads on the phone).
const REASON_MAX: usize = 500;

fn batch_not_found() -> AppError {
    AppError::not_found("lô đồng bộ", "sync batch")
}

// ---------------------------------------------------------------- labels

/// A record's kind in words; a handout of a welfare programme is a grant,
/// not a gift.
fn kind_label<'a>(lang: Lang, kind: &'a str, campaign_kind: Option<&str>) -> &'a str {
    match kind {
        "visit" => lang.t("Thăm hỏi", "Visit"),
        "repayment" => lang.t("Thu nợ", "Repayment"),
        "gift_handout" if campaign_kind == Some("welfare") => lang.t("Chi hỗ trợ", "Welfare grant"),
        "gift_handout" => lang.t("Trao quà", "Gift"),
        "void" => lang.t("Hủy bản ghi", "Void"),
        "reversal_request" => lang.t("Đề nghị đảo bút toán", "Reversal request"),
        other => other,
    }
}

/// A batch's flags: how many in all (a record may have several), then
/// their kinds, apart.
fn anomaly_summary(lang: Lang, n: i64, codes: &[String]) -> Markup {
    let kinds: Vec<&str> = codes.iter().map(|c| anomaly_label(lang, c)).collect();
    html! {
        span.badge.warn { (n) } " " (lang.t("cảnh báo", if n == 1 { "flag" } else { "flags" }))
        @if !kinds.is_empty() { ": " small.flag { (kinds.join(" · ")) } }
    }
}

/// Characters of a long text shown before "more".
const TEXT_SHOWN: usize = 200;

/// A text as typed, its beginning only when long: the rest opens on a click.
fn long_text(lang: Lang, text: &str) -> Markup {
    let shown: String = text.chars().take(TEXT_SHOWN).collect();
    if shown.len() == text.len() {
        return html! { (text) };
    }
    html! {
        details.long-text {
            summary { (shown) "… " span.more { (lang.t("xem tiếp", "more")) } }
            (text)
        }
    }
}

/// A short name for an anomaly, for the list of batches.
fn anomaly_label(lang: Lang, code: &str) -> &str {
    match code {
        "above_installment" => lang.t("Thu hơn một kỳ", "Above one installment"),
        "small_amount" => lang.t("Phiếu thu dưới 1.000 ₫", "Receipt under 1.000 ₫"),
        "late_sync" => lang.t("Đồng bộ muộn", "Synced late"),
        "odd_hours" => lang.t("Ngoài giờ làm việc", "Outside working hours"),
        "far_from_house" => lang.t("Xa nhà trọ", "Far from the boarding house"),
        "several_visits_one_day" => lang.t(
            "Nhiều lượt thăm một người trong ngày",
            "Several visits to a worker in a day",
        ),
        "several_repayments_one_day" => lang.t(
            "Nhiều lần thu một khoản vay trong ngày",
            "Several repayments on a loan in a day",
        ),
        "allocation_nearly_used" => lang.t("Sắp hết suất quà", "Gift allocation nearly used"),
        "reversal_requested" => lang.t("Có đề nghị đảo", "Reversal requested"),
        "original_waiting" => lang.t(
            "Bản ghi gốc chờ duyệt ở lô khác",
            "Original waiting in another batch",
        ),
        "approved_before_restore" => lang.t(
            "Đã duyệt trước khi khôi phục dữ liệu",
            "Approved before the data was restored",
        ),
        "refused_receipt_taken_at_counter" => lang.t(
            "Trùng khoản đã thu tại quầy",
            "Same as refused cash taken at the counter",
        ),
        "refused_gift_same_worker" => {
            lang.t("Đã có quà bị từ chối", "A refused gift to the same worker")
        }
        "refused_receipt_same_amount" => {
            lang.t("Trùng khoản thu bị từ chối", "Same as a refused receipt")
        }
        "device_revoked" => lang.t("Thiết bị đã thu hồi", "Revoked device"),
        "worker_moved" => lang.t("Người lao động đã chuyển đi", "Worker moved away"),
        other => other,
    }
}

fn status_badge(lang: Lang, st: BatchStatus) -> Markup {
    match st {
        BatchStatus::Pending => html! { span.badge.warn { (lang.t("Chờ duyệt", "Pending")) } },
        BatchStatus::Approved => html! { span.badge.ok { (lang.t("Đã duyệt", "Approved")) } },
        BatchStatus::Rejected => {
            html! { span.badge.danger { (lang.t("Đã từ chối", "Rejected")) } }
        }
        BatchStatus::Refused => html! {
            span.badge.muted { (lang.t("Bị từ chối hoặc giữ lại khi tải lên", "Refused or held at upload")) }
        },
    }
}

/// `2 thu nợ · 1 trao quà`
fn counts_text(lang: Lang, c: &KindCounts) -> String {
    // (count, Vietnamese, English one, English more)
    let parts = [
        (c.repayments, "thu nợ", "repayment", "repayments"),
        (c.gift_handouts, "trao quà", "gift", "gifts"),
        (c.visits, "thăm hỏi", "visit", "visits"),
        (c.voids, "hủy", "void", "voids"),
        (
            c.reversal_requests,
            "đề nghị đảo",
            "reversal request",
            "reversal requests",
        ),
    ];
    let text: Vec<String> = parts
        .iter()
        .filter(|(n, ..)| *n > 0)
        .map(|(n, vi, one, more)| {
            let what = lang.t(vi, if *n == 1 { one } else { more });
            format!("{} {what}", view::count(*n))
        })
        .collect();
    if text.is_empty() {
        "—".into()
    } else {
        text.join(" · ")
    }
}

/// Received minus expected, as words: a shortage, an overage or a match;
/// when the batch asked nothing (its reversal requests take back more than
/// it collects, `expected` below 0), an overage is what the branch owes the
/// officer.
fn difference(lang: Lang, diff: i64, expected: i64) -> Markup {
    if diff > 0 && expected < 0 {
        html! { span.diff.over { (lang.pick(format!("Ghi có cho cán bộ {}", vnd(diff)), format!("Credited to the officer {}", vnd(diff)))) } }
    } else if diff < 0 {
        html! { span.diff.short { (lang.pick(format!("Thiếu {}", vnd(-diff)), format!("Short by {}", vnd(-diff)))) } }
    } else if diff > 0 {
        html! { span.diff.over { (lang.pick(format!("Thừa {}", vnd(diff)), format!("Over by {}", vnd(diff)))) } }
    } else {
        html! { span.diff.even { (lang.t("Khớp, không chênh lệch", "Matches, no difference")) } }
    }
}

/// The cash a batch asks of its officer, named: what she hands over, or,
/// when her reversal requests take back more than she collected, what the
/// branch owes her.
fn hand_over(lang: Lang, expected: i64) -> (&'static str, String) {
    if expected < 0 {
        (
            lang.t("Chi nhánh nợ lại cán bộ", "The branch owes the officer"),
            vnd(-expected),
        )
    } else {
        (lang.t("Phải nộp", "To hand over"), vnd(expected))
    }
}

fn amount_of(r: &ReviewRecord) -> Option<i64> {
    r.amount.as_deref().and_then(|a| a.parse().ok())
}

/// Will this record hand cash to the vault when the batch is approved
/// without excluding it? (The same records `Db::approve_batch` counts.)
fn brings_cash(r: &ReviewRecord) -> bool {
    r.kind == "repayment" && r.upload_status == "accepted" && !r.voided
}

/// What an officer's reversal request takes back of a receipt she handed
/// over before: netted against the batch's cash at approval.
fn takes_back(r: &ReviewRecord) -> Option<i64> {
    r.cash_taken_back.as_deref().and_then(|a| a.parse().ok())
}

/// The cash the officer should hand over when `excluded` are left out (as
/// `Db::approve_batch` counts it: her reversal requests netted; negative
/// when the branch owes her).
fn expected_cash(d: &BatchDetail, excluded: &HashSet<Uuid>) -> i64 {
    let kept = |r: &&ReviewRecord| !excluded.contains(&r.record_id);
    let collected: i64 = d
        .records
        .iter()
        .filter(kept)
        .filter(|r| brings_cash(r))
        .filter_map(amount_of)
        .sum();
    let back: i64 = d.records.iter().filter(kept).filter_map(takes_back).sum();
    collected - back
}

/// The welfare grants the officer handed out in cash that the vault pays
/// when the batch is approved with `excluded` left out (not voided, not
/// from a revoked phone).
fn grants_paid(d: &BatchDetail, excluded: &HashSet<Uuid>) -> i64 {
    d.records
        .iter()
        .filter(|r| {
            r.campaign_kind.as_deref() == Some("welfare")
                && r.upload_status == "accepted"
                && !r.voided
                && !excluded.contains(&r.record_id)
        })
        .filter_map(|r| r.gift_value.as_deref().and_then(|v| v.parse::<i64>().ok()))
        .sum()
}

/// How a person names a record: receipt, worker, loan or campaign.
fn record_name(lang: Lang, r: &ReviewRecord) -> String {
    let mut parts = vec![kind_label(lang, &r.kind, r.campaign_kind.as_deref()).to_string()];
    if let Some(receipt) = &r.receipt_no {
        parts.push(lang.pick(format!("phiếu {receipt}"), format!("receipt {receipt}")));
    }
    if let Some(w) = &r.worker_name {
        parts.push(w.clone());
    }
    if let Some(l) = &r.loan_code {
        parts.push(lang.pick(format!("khoản vay {l}"), format!("loan {l}")));
    }
    if let Some(k) = &r.campaign_name {
        parts.push(k.clone());
    }
    if let Some(a) = amount_of(r) {
        parts.push(vnd(a));
    }
    parts.join(" · ")
}

// ---------------------------------------------------------------- the list

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    status: String,
    page: String,
    /// A refused record was just marked settled (it has left the list).
    settled: String,
}

/// The refused repayments and gifts the queue lists at most (newest
/// first); every one stays until it is marked settled, however old.
const REFUSED_SHOWN: i64 = 100;

/// `GET /batches?status=pending|approved|rejected|all&page=`
pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    UrlQuery(q): UrlQuery<ListQuery>,
) -> Response {
    let ui = signed.ui();
    let who = match reviewer(&signed.user, None) {
        Ok(w) => w,
        Err(e) => return ui.app_error(e),
    };
    let lang = signed.lang;
    let chosen = match q.status.trim() {
        "" | "pending" => Some(BatchStatus::Pending),
        "all" => None,
        s => BatchStatus::parse(s).or(Some(BatchStatus::Pending)),
    };
    let page = q.page.parse::<i64>().unwrap_or(1).max(1);
    let mut rows = match state
        .db
        .review_batches(branch_of(&who), chosen, PAGE + 1, (page - 1) * PAGE)
        .await
    {
        Ok(r) => r,
        Err(e) => return ui.app_error(e.into()),
    };
    let has_next = rows.len() as i64 > PAGE;
    rows.truncate(PAGE as usize);
    let total = match state.db.review_batch_count(branch_of(&who), chosen).await {
        Ok(n) => n,
        Err(e) => return ui.app_error(e.into()),
    };
    let pages = (total.max(1) + PAGE - 1) / PAGE;
    // Cash officers took and gifts they handed out that the server refused
    // at upload: on the queue, whether or not their batch has anything else
    // to review.
    let (refused, names) = if chosen == Some(BatchStatus::Pending) && page == 1 {
        match state
            .db
            .refused_handovers(
                branch_of(&who),
                chrono::DateTime::UNIX_EPOCH,
                REFUSED_SHOWN + 1,
            )
            .await
        {
            Ok(r) => r,
            Err(e) => return ui.app_error(e.into()),
        }
    } else {
        Default::default()
    };
    let refused_gifts = refused.iter().any(|r| r.record.kind == "gift_handout");
    // Whoever sees the queue reviews, and may mark what was refused settled.
    let settle_here: Option<&str> = Some(signed.csrf.as_str());
    let refused_cash = refused.iter().any(|r| r.record.kind == "repayment");
    let admin = signed.user.role == Role::Admin;
    let code = |s: Option<BatchStatus>| match s {
        Some(BatchStatus::Pending) => "pending",
        Some(BatchStatus::Approved) => "approved",
        Some(BatchStatus::Rejected) => "rejected",
        Some(BatchStatus::Refused) => "refused",
        None => "all",
    };
    let tabs = [
        (Some(BatchStatus::Pending), lang.t("Chờ duyệt", "Pending")),
        (Some(BatchStatus::Approved), lang.t("Đã duyệt", "Approved")),
        (
            Some(BatchStatus::Rejected),
            lang.t("Đã từ chối", "Rejected"),
        ),
        (
            Some(BatchStatus::Refused),
            lang.t(
                "Bị từ chối hoặc giữ lại khi tải lên",
                "Refused or held at upload",
            ),
        ),
        (None, lang.t("Tất cả", "All")),
    ];
    let scope_name = if admin {
        lang.t("toàn quỹ", "the whole fund")
    } else {
        lang.t("chi nhánh của bạn", "your branch")
    };
    let title = lang.t("Lô chờ duyệt", "Batch review");
    let pager = |p: i64| {
        view::link(
            "/batches",
            &[
                ("status", code(chosen).to_string()),
                ("page", if p > 1 { p.to_string() } else { String::new() }),
            ],
        )
    };
    let body = html! {
        h1 { (title) }
        @if !q.settled.is_empty() {
            p.notice.success role="status" #settled-result { (lang.t(
                "Đã đánh dấu đã xử lý: khoản đó đã rời danh sách chưa xử lý (trang lô của nó và nhật ký ghi ai xử lý, lúc nào, thế nào).",
                "Marked settled: it has left the list of those not settled (its batch page and the audit log keep who settled it, when and how).",
            )) }
        }
        p.lead { (lang.pick(
            format!("Lô đồng bộ của cán bộ trong {scope_name}. Đếm tiền mặt cán bộ nộp, xem các điểm bất thường, rồi duyệt hoặc từ chối; bản ghi chỉ vào sổ sau khi được duyệt."),
            format!("Sync batches of the officers in {scope_name}. Count the cash the officer hands over, look at the anomalies, then approve or reject; records reach the books only once approved."),
        )) }
        nav.tabs #status-tabs aria-label=(lang.t("Lọc theo trạng thái", "Filter by status")) {
            @for (st, label) in tabs {
                a href=(view::link("/batches", &[("status", code(st).to_string())]))
                    aria-current=[(st == chosen).then_some("page")] { (label) }
            }
        }
        @if total > 0 {
            @let n = view::count(total);
            @let batches = if total == 1 { "batch" } else { "batches" };
            p.count #batches-count { (match chosen {
                Some(BatchStatus::Pending) => lang.pick(format!("{n} lô chờ duyệt"), format!("{n} {batches} waiting for review")),
                Some(BatchStatus::Approved) => lang.pick(format!("{n} lô đã duyệt"), format!("{n} {batches} approved")),
                Some(BatchStatus::Rejected) => lang.pick(format!("{n} lô đã từ chối"), format!("{n} {batches} rejected")),
                Some(BatchStatus::Refused) => lang.pick(format!("{n} lô bị từ chối hoặc giữ lại khi tải lên"), format!("{n} {batches} refused or held at upload")),
                None => lang.pick(format!("{n} lô"), format!("{n} {batches}")),
            }) }
        }
        @if rows.is_empty() {
            (view::empty(&match (chosen, page > 1) {
                (_, true) => lang.t("Trang này không còn lô nào.", "No more batches on this page.").to_string(),
                (Some(BatchStatus::Pending), _) => lang.pick(
                    format!("Không có lô nào chờ duyệt trong {scope_name}. Lô mới xuất hiện ở đây khi điện thoại của cán bộ đồng bộ."),
                    format!("No batch is waiting for review in {scope_name}. A new one appears here when an officer's phone syncs."),
                ),
                (Some(BatchStatus::Approved), _) => lang.pick(
                    format!("Chưa có lô nào được duyệt trong {scope_name}."),
                    format!("No batch has been approved in {scope_name} yet."),
                ),
                (Some(BatchStatus::Rejected), _) => lang.pick(
                    format!("Chưa có lô nào bị từ chối trong {scope_name}."),
                    format!("No batch has been rejected in {scope_name}."),
                ),
                (Some(BatchStatus::Refused) | None, _) => lang.pick(
                    format!("Chưa có lô đồng bộ nào trong {scope_name}."),
                    format!("There are no sync batches in {scope_name} yet."),
                ),
            }))
        } @else {
            (table_wrap(html! {
                table.list #batches {
                    thead { tr {
                        th { (lang.t("Cán bộ", "Officer")) }
                        @if admin { th { (lang.t("Chi nhánh", "Branch")) } }
                        th { (lang.t("Thiết bị", "Device")) }
                        th { (lang.t("Ghi từ — đến", "Recorded")) }
                        th { (lang.t("Đồng bộ lúc", "Synced")) }
                        th { (lang.t("Bản ghi", "Records")) }
                        th.num { (lang.t("Tiền mặt phải nộp", "Cash to hand over")) }
                        th { (lang.t("Bất thường", "Anomalies")) }
                        th { (lang.t("Trạng thái", "Status")) }
                    } }
                    tbody {
                        @for b in &rows {
                            tr data-batch=(b.batch_id) {
                                td { a href=(format!("/batches/{}", b.batch_id)) { (b.officer_name) } }
                                @if admin { td { (b.branch_name.as_deref().unwrap_or("—")) } }
                                td { (b.device_name) br; small.mono { (b.device_code) } }
                                td.nowrap { (recorded_span(b)) }
                                td.nowrap { (datetime(b.synced_at)) }
                                td { (counts_text(lang, &b.counts)) }
                                td.num {
                                    @if b.cash_collected < 0 {
                                        (lang.pick(format!("nợ lại {}", vnd(-b.cash_collected)), format!("owed {}", vnd(-b.cash_collected))))
                                        br; small.muted { (lang.t("chi nhánh nợ lại cán bộ", "the branch owes the officer")) }
                                    } @else {
                                        (vnd(b.cash_collected))
                                    }
                                    // Approved: what was counted, and over or short.
                                    @if let Some((got, diff)) = b.decision.as_ref().filter(|d| d.decision == "approved").and_then(|d| {
                                        Some((d.cash_received.as_deref()?.parse::<i64>().ok()?, d.discrepancy.as_deref()?.parse::<i64>().ok()?))
                                    }) {
                                        br; small.counted {
                                            (lang.pick(format!("đã đếm {}", vnd(got)), format!("counted {}", vnd(got))))
                                            @if diff != 0 {
                                                " · " span class=(if diff < 0 { "short" } else { "" }) {
                                                    (lang.pick(
                                                        format!("{} {}", if diff < 0 { "thiếu" } else { "thừa" }, vnd(diff.abs())),
                                                        format!("{} {}", if diff < 0 { "short" } else { "over" }, vnd(diff.abs())),
                                                    ))
                                                }
                                            }
                                        }
                                    }
                                    @if b.cash_held > 0 {
                                        br; small.muted.held { (lang.pick(format!("cán bộ còn giữ {}", vnd(b.cash_held)), format!("{} held by the officer", vnd(b.cash_held)))) }
                                    } @else if b.status == BatchStatus::Rejected && b.cash_collected > 0 {
                                        br; small.muted { (lang.t("đã xử lý hết", "all settled")) }
                                    }
                                }
                                td {
                                    @if b.anomalies == 0 {
                                        span.muted { (lang.t("Không có", "None")) }
                                    } @else {
                                        (anomaly_summary(lang, b.anomalies, &b.anomaly_codes))
                                    }
                                }
                                td { (status_badge(lang, b.status)) }
                            }
                        }
                    }
                }
            }))
            @if page > 1 || has_next {
                nav.pager aria-label=(lang.t("Trang", "Pages")) {
                    @if page > 1 { a href=(pager(page - 1)) rel="prev" { "← " (lang.t("Trang trước", "Previous")) } }
                    span { (lang.pick(format!("Trang {page}/{pages}"), format!("Page {page} of {pages}"))) }
                    @if has_next { a href=(pager(page + 1)) rel="next" { (lang.t("Trang sau", "Next")) " →" } }
                }
            }
        }
        @if !refused.is_empty() {
            section #refused-repayments {
                h2 { (lang.t(
                    "Khoản thu và quà bị từ chối (khi tải lên hoặc khi duyệt) hoặc giữ lại, chưa xử lý",
                    "Repayments and gifts refused (at upload or at review) or held, not settled yet",
                )) }
                @if refused.len() as i64 > REFUSED_SHOWN {
                    p.muted { (lang.pick(
                        format!("Hiện {REFUSED_SHOWN} khoản mới nhất; đánh dấu đã xử lý để thấy các khoản cũ hơn."),
                        format!("The newest {REFUSED_SHOWN} are shown; mark them settled to see older ones."),
                    )) }
                }
                @if refused_cash {
                    p.notice.warn { (lang.t(REFUSED_CASH_VI, REFUSED_CASH_EN)) }
                }
                @if refused_gifts {
                    p.notice.warn #refused-gifts-note { (lang.t(REFUSED_GIFTS_VI, REFUSED_GIFTS_EN)) }
                }
                (table_wrap(html! {
                    table.list {
                        thead { tr {
                            th { (lang.t("Cán bộ", "Officer")) }
                            th { (lang.t("Loại · thời điểm · đồng bộ lúc", "Kind · when · synced")) }
                            (refused_heads(lang))
                        } }
                        tbody {
                            @for r in refused.iter().take(REFUSED_SHOWN as usize) {
                                @let shown = crate::review::refused_record(&r.record, &names);
                                tr data-refused=(r.record.client_id) id=(format!("refused-{}", r.record.client_id)) {
                                    td { a href=(format!("/batches/{}", r.batch_id)) { (r.officer_name) } }
                                    td.nowrap { (kind_label(lang, &shown.kind, shown.campaign_kind.as_deref())) br; (datetime(r.record.recorded_at)) br; small { (datetime(r.received_at)) } }
                                    (refused_cells(lang, &shown, settle_here.map(|c| (c, "/batches?status=pending"))))
                                }
                            }
                        }
                    }
                }))
            }
        }
    };
    ui.page(title, Nav::Batches, body).into_response()
}

const REFUSED_CASH_VI: &str = "Cán bộ đã thu tiền và đưa phiếu thu cho người lao động, nhưng các khoản này bị từ chối (máy chủ từ chối khi tải lên, hoặc giám sát từ chối lô hay loại khỏi lô) nên chúng không nằm trong số tiền phải nộp và không vào sổ. Hỏi cán bộ về số tiền đang giữ: trả lại người lao động, hoặc thu tại quầy vào đúng khoản vay với số phiếu thu đã đưa.";
const REFUSED_CASH_EN: &str = "The officer took the cash and gave the worker a receipt, but these repayments were refused (by the server at upload, or by the supervisor rejecting the batch or leaving them out): they are not in any cash to hand over and not in the books. Ask the officer about the cash they hold: give it back to the worker, or take it at the counter against the right loan, with the receipt number given.";
const REFUSED_GIFTS_VI: &str = "Cán bộ đã trao các suất quà bị từ chối dưới đây: chúng không được ghi sổ và vẫn được tính trong kho quà. Hỏi cán bộ: thu hồi suất quà về kho, hoặc nếu suất quà đã trao thật, đánh dấu đã xử lý với ô “Đã trao thật: ghi giảm kho” (kho của chương trình giảm một suất, ghi vào chi chương trình; suất quà tính là quà của người lao động và vào chỉ tiêu, trừ khi người đó đã có quà của chương trình — khi ấy chỉ ghi giảm kho).";
const REFUSED_GIFTS_EN: &str = "The officer handed out the refused gifts below: they are not posted and still count in the gift stock. Ask the officer: take the package back into stock, or, if it was really handed over, mark it settled with “Handed out for real: take it off the stock” ticked (the campaign's stock goes down by one package, as campaign spending; it counts as the worker's gift and towards the quota, unless the worker has a gift of the campaign already — then it only comes off the stock).";

/// The headings of [`refused_cells`].
fn refused_heads(lang: Lang) -> Markup {
    html! {
        th { (lang.t("Người lao động", "Worker")) }
        th { (lang.t("Khoản vay / quà", "Loan / gift")) }
        th.num { (lang.t("Số tiền · số phiếu", "Amount · receipt")) }
        th { (lang.t("Lý do từ chối", "Why it was refused")) }
        th { (lang.t("Xử lý", "Settled")) }
    }
}

/// A refused record's worker, loan or gift, amount and receipt, why, and
/// how its cash or package was settled (or a form to say so, for one
/// signed in with the right to: `csrf`, and the page to come back to).
fn refused_cells(lang: Lang, r: &RefusedRecord, settle: Option<(&str, &str)>) -> Markup {
    let handover = matches!(r.kind.as_str(), "repayment" | "gift_handout");
    html! {
        td {
            @if let (Some(id), Some(name)) = (r.worker_id, &r.worker_name) {
                a href=(format!("/workers/{id}")) { (name) }
            } @else { "—" }
        }
        td {
            @if let (Some(id), Some(code)) = (r.loan_id, &r.loan_code) {
                a.mono href=(format!("/loans/{id}")) { (code) }
            } @else if let Some(k) = &r.campaign_name { (k) } @else { "—" }
        }
        td.num {
            @if let Some(a) = r.amount.as_deref().and_then(|a| a.parse::<i64>().ok()) { (vnd(a)) }
            @if let Some(receipt) = &r.receipt_no { br; small.mono { (receipt) } }
        }
        td { (lang.t(&r.message_vi, &r.message_en)) }
        td.settle {
            @if let Some(x) = &r.settled {
                span.badge.ok { (lang.t("Đã xử lý", "Settled")) }
                br; small { (x.note) }
                br; small.muted { (x.settled_by) " · " (datetime(x.settled_at)) }
                @if let Some(e) = x.entry_id {
                    br; small { @if r.campaign_kind.as_deref() == Some("welfare") {
                        (lang.pick(format!("đã chi từ quỹ tiền mặt: bút toán số {e}"), format!("paid from the vault: entry {e}")))
                    } @else {
                        (lang.pick(format!("đã ghi giảm kho: bút toán số {e}"), format!("taken off the stock: entry {e}")))
                    } }
                }
            } @else if let (true, Some((csrf, back))) = (handover, settle) {
                @if let Some(k) = &r.taken_at_counter {
                    small.taken-at-counter { (lang.pick(
                        format!("Tiền đã thu tại quầy: phiếu {k} ghi số phiếu này. Đánh dấu đã xử lý, đừng thu lại."),
                        format!("Its cash was taken at the counter: receipt {k} names it. Mark it settled; do not take it again."),
                    )) }
                    br;
                }
                form.inline method="post" action=(format!("/refused/{}/settle", r.record_id)) {
                    (csrf_field(csrf))
                    input type="hidden" name="back" value=(back);
                    @let field = format!("settle-{}", r.record_id);
                    label.visually-hidden for=(field) { (lang.t("Đã xử lý thế nào", "How it was settled")) }
                    input type="text" id=(field) name="note" required maxlength="200"
                        value=[r.taken_at_counter.as_ref().map(|k| format!("{} {k}", crate::db::SETTLED_AT_COUNTER))]
                        placeholder=(if r.kind == "gift_handout" {
                            lang.t("Đã thu hồi về kho / đã trao thật, biên nhận…", "Taken back to the stock / handed out for real, receipt…")
                        } else {
                            lang.t("Đã trả lại người vay / thu tại quầy…", "Given back / taken at the counter…")
                        });
                    " "
                    @if r.kind == "gift_handout" {
                        @let stock = format!("stock-out-{}", r.record_id);
                        label.check for=(stock) {
                            input type="checkbox" id=(stock) name="stock_out" value="1";
                            " " @if r.campaign_kind.as_deref() == Some("welfare") {
                                (lang.t("Đã trao thật: chi từ quỹ tiền mặt", "Handed out for real: paid from the vault"))
                            } @else {
                                (lang.t("Đã trao thật: ghi giảm kho", "Handed out for real: take it off the stock"))
                            }
                        }
                        " "
                    }
                    button type="submit" { (lang.t("Đánh dấu đã xử lý", "Mark settled")) }
                }
                @if let (Some(loan), "repayment", None) = (r.loan_id, r.kind.as_str(), &r.taken_at_counter) {
                    br;
                    a.counter-link href=(format!("{}#counter-form", view::link(&format!("/loans/{loan}"), &[
                        ("amount", r.amount.clone().unwrap_or_default()),
                        ("settles", r.record_id.to_string()),
                        ("settles_receipt", r.receipt_no.clone().unwrap_or_default()),
                    ]))) { (lang.t("Nộp tiền này tại quầy…", "Take this cash at the counter…")) }
                }
            } @else if let Some(k) = &r.taken_at_counter {
                small.taken-at-counter { (lang.pick(
                    format!("Tiền đã thu tại quầy: phiếu {k} ghi số phiếu này; giám sát đánh dấu đã xử lý."),
                    format!("Its cash was taken at the counter: receipt {k} names it; the supervisor marks it settled."),
                )) }
            } @else { span.muted { "—" } }
        }
    }
}

/// The settle form as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SettleForm {
    csrf: String,
    note: String,
    /// The page the form was on (the queue or a batch).
    back: String,
    /// `1`: a gift package handed out for real, taken off the stock.
    stock_out: String,
}

/// `POST /refused/{record_id}/settle`: the cash or package of a record
/// refused at upload was dealt with outside the books.
pub async fn settle_refused(
    State(state): State<AppState>,
    signed: Signed,
    ClientIp(ip): ClientIp,
    UrlPath(id): UrlPath<Uuid>,
    Form(form): Form<SettleForm>,
) -> Response {
    if let Some(r) = signed.forgery(&form.csrf) {
        return r;
    }
    let ui = signed.ui();
    let who = match reviewer(&signed.user, ip) {
        Ok(w) => w,
        Err(e) => return ui.app_error(e),
    };
    let note: String = form.note.trim().chars().take(200).collect();
    if note.is_empty() {
        return ui.app_error(AppError::invalid_field(
            "note",
            "Cần ghi đã xử lý thế nào (trả lại người vay, thu tại quầy, thu hồi suất quà…)",
            "say how it was settled (given back, taken at the counter, package taken back…)",
        ));
    }
    // Only back to a page of this console.
    let back = if form.back.starts_with("/batches") {
        form.back.clone()
    } else {
        "/batches".to_string()
    };
    // Back to the batch's page, the row is there, settled; back to the
    // queue, it has gone from the list: the page says so.
    let to = if back.starts_with("/batches/") {
        format!("{back}#refused-{id}")
    } else {
        let sep = if back.contains('?') { '&' } else { '?' };
        format!("{back}{sep}settled=1#settled-result")
    };
    match state
        .db
        .settle_refused(&who, id, &note, form.stock_out == "1")
        .await
    {
        Ok(_) => Redirect::to(&to).into_response(),
        Err(e) => ui.app_error(e.into()),
    }
}

/// ", 1 đã được cán bộ hủy" when the officer voided records, else nothing.
fn voided_vi(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(", {n} đã được cán bộ hủy")
    }
}

fn voided_en(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(", {n} voided by the officer")
    }
}

/// The officer's voids of records of earlier batches: they post nothing
/// here.
fn voids_vi(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(", {n} lệnh hủy bản ghi lô trước")
    }
}

fn voids_en(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => ", 1 void of an earlier batch's record".into(),
        _ => format!(", {n} voids of earlier batches' records"),
    }
}

/// `dd/mm/yyyy HH:MM — HH:MM` (or two full times across days).
fn recorded_span(b: &BatchSummary) -> String {
    match (b.first_recorded_at, b.last_recorded_at) {
        (Some(a), Some(z)) if a == z => datetime(a),
        (Some(a), Some(z)) if local_date(a) == local_date(z) => {
            format!("{} — {}", datetime(a), view::clock(z))
        }
        (Some(a), Some(z)) => format!("{} — {}", datetime(a), datetime(z)),
        _ => "—".into(),
    }
}

// ---------------------------------------------------------------- one batch

/// What a person filled in on the batch page, kept when it is shown again.
#[derive(Debug, Default, Clone)]
struct Draft {
    cash: String,
    /// The cash to hand over the confirmation showed: the approval is
    /// refused if the batch expects another amount by then.
    expected: Option<i64>,
    excluded: Vec<Uuid>,
    reasons: HashMap<Uuid, String>,
    reject_reason: String,
    /// Ticked on the confirmation: (a receipt of the batch, the refused
    /// one it enters again), to mark settled with the approval. `None`
    /// until the confirmation has asked (then every one is ticked).
    entered_again: Option<Vec<(Uuid, Uuid)>>,
    /// What the confirmation offered about payments entered again (see
    /// [`offer_keys`]): an approval whose batch offers otherwise by then is
    /// shown the confirmation again.
    offered: Vec<String>,
    /// The batch's receipts the supervisor says are not the payment of a
    /// refused receipt whose cash the counter took, though flagged so.
    distinct: Vec<Uuid>,
}

impl Draft {
    /// From a posted form: `cash`, `exclude` (a record id, once per record
    /// ticked), `reason-<record id>`, `reject_reason`. Returns the token too.
    fn from_pairs(pairs: &[(String, String)]) -> (String, String, Draft) {
        let mut csrf = String::new();
        let mut action = String::new();
        let mut d = Draft::default();
        for (k, v) in pairs {
            match k.as_str() {
                "csrf" => csrf = v.clone(),
                "action" => action = v.clone(),
                "cash" => d.cash = v.clone(),
                "expected" => d.expected = v.trim().parse().ok(),
                "reject_reason" => d.reject_reason = v.clone(),
                "entered_again_asked" => {
                    d.entered_again.get_or_insert_with(Vec::new);
                }
                "entered_again" => {
                    let pair = v.split_once(':').and_then(|(a, b)| {
                        Some((
                            Uuid::parse_str(a.trim()).ok()?,
                            Uuid::parse_str(b.trim()).ok()?,
                        ))
                    });
                    if let Some(pair) = pair {
                        let list = d.entered_again.get_or_insert_with(Vec::new);
                        if !list.contains(&pair) {
                            list.push(pair);
                        }
                    }
                }
                "entered_again_offered" => {
                    if !d.offered.contains(v) {
                        d.offered.push(v.clone());
                    }
                }
                "distinct" => {
                    if let Ok(id) = Uuid::parse_str(v.trim()) {
                        if !d.distinct.contains(&id) {
                            d.distinct.push(id);
                        }
                    }
                }
                "exclude" => {
                    if let Ok(id) = Uuid::parse_str(v.trim()) {
                        if !d.excluded.contains(&id) {
                            d.excluded.push(id);
                        }
                    }
                }
                other => {
                    if let Some(id) = other
                        .strip_prefix("reason-")
                        .and_then(|id| Uuid::parse_str(id).ok())
                    {
                        d.reasons.insert(id, v.clone());
                    }
                }
            }
        }
        (csrf, action, d)
    }

    fn reason(&self, id: &Uuid) -> &str {
        self.reasons.get(id).map_or("", |r| r.as_str())
    }

    /// The pairs ticked among `candidates`, or, before the confirmation
    /// asked, one for each receipt and each refused one (the first offered).
    fn entered_again(
        &self,
        candidates: &[(Uuid, Uuid, String, Option<String>)],
    ) -> Vec<(Uuid, Uuid)> {
        // Ticked as before; what no confirmation offered yet (all of it,
        // before one asked) ticked by default, once each: a refused receipt
        // whose cash the officer still holds before one whose cash the
        // counter took.
        let mut chosen: Vec<(Uuid, Uuid)> = candidates
            .iter()
            .map(|(a, o, _, _)| (*a, *o))
            .filter(|p| self.entered_again.as_ref().is_some_and(|t| t.contains(p)))
            .collect();
        let held_first = candidates.iter().filter(|c| c.3.is_none());
        for (a, o, _, k) in held_first.chain(candidates.iter().filter(|c| c.3.is_some())) {
            let new = self.entered_again.is_none()
                || !self.offered.contains(&offer_key(*a, *o, k.as_deref()));
            if new && !chosen.iter().any(|(x, y)| x == a || y == o) {
                chosen.push((*a, *o));
            }
        }
        chosen
    }
}

/// The batch's receipts that may enter again a refused receipt: (the
/// receipt, the refused one, its receipt number, the counter receipt that
/// took its cash). One posting with the approval (not `excluded`) settles
/// the refused one, whose cash the officer still holds; one left out is
/// itself settled, as the same cash (held as the refused one's, or taken
/// at the counter). One posting whose refused one's cash the counter took
/// is the supervisor's to leave out (flagged so), not settled.
fn entered_again_candidates(
    d: &BatchDetail,
    excluded: &HashSet<Uuid>,
) -> Vec<(Uuid, Uuid, String, Option<String>)> {
    d.records
        .iter()
        .filter(|r| r.kind == "repayment" && r.upload_status == "accepted" && !r.voided)
        .flat_map(|r| {
            let left_out = excluded.contains(&r.record_id);
            r.anomalies
                .iter()
                .filter(move |a| left_out || a.counter_receipt.is_none())
                .filter_map(move |a| {
                    Some((
                        r.record_id,
                        a.refused_record?,
                        a.refused_receipt.clone().unwrap_or_default(),
                        a.counter_receipt.clone(),
                    ))
                })
        })
        .collect()
}

/// The batch's receipts posting with the approval that may enter again a
/// refused receipt whose cash the counter took already: (the receipt, the
/// refused one's number, the counter receipt). Approving one takes that
/// cash a second time, unless the borrower really paid again: the
/// supervisor leaves it out, or says so.
fn counter_flagged(d: &BatchDetail, excluded: &HashSet<Uuid>) -> Vec<(Uuid, String, String)> {
    d.records
        .iter()
        .filter(|r| {
            r.kind == "repayment"
                && r.upload_status == "accepted"
                && !r.voided
                && !excluded.contains(&r.record_id)
        })
        .flat_map(|r| {
            r.anomalies.iter().filter_map(move |a| {
                Some((
                    r.record_id,
                    a.refused_receipt.clone().unwrap_or_default(),
                    a.counter_receipt.clone()?,
                ))
            })
        })
        .collect()
}

/// The key of a payment entered again a confirmation offers.
fn offer_key(again: Uuid, original: Uuid, counter: Option<&str>) -> String {
    match counter {
        Some(k) => format!("{again}:{original}:{k}"),
        None => format!("{again}:{original}"),
    }
}

/// What a confirmation offers about payments entered again, as keys its
/// form carries back: each candidate (`receipt:refused[:counter]`) and
/// each receipt flagged as the cash the counter took (`taken:receipt:counter`).
fn offer_keys(d: &BatchDetail, excluded: &HashSet<Uuid>) -> Vec<String> {
    let mut keys: Vec<String> = entered_again_candidates(d, excluded)
        .iter()
        .map(|(a, o, _, k)| offer_key(*a, *o, k.as_deref()))
        .collect();
    keys.extend(
        counter_flagged(d, excluded)
            .iter()
            .map(|(a, _, k)| format!("taken:{a}:{k}")),
    );
    keys
}

/// The ticks a confirmation shown again keeps: those still offered, and a
/// receipt's tick whose refused one is no longer offered moved to the one
/// it is offered with now (another of the same amount), when free.
fn carried_ticks(
    d: &BatchDetail,
    excluded: &HashSet<Uuid>,
    draft: &Draft,
    still: &[(Uuid, Uuid)],
) -> Vec<(Uuid, Uuid)> {
    let candidates = entered_again_candidates(d, excluded);
    let mut ticks: Vec<(Uuid, Uuid)> = still.to_vec();
    for (a, _) in draft.entered_again.iter().flatten() {
        if ticks.iter().any(|(x, _)| x == a) {
            continue;
        }
        if let Some((_, o, _, _)) = candidates
            .iter()
            .find(|(x, o, _, _)| x == a && !ticks.iter().any(|(_, y)| y == o))
        {
            ticks.push((*a, *o));
        }
    }
    ticks
}

/// What is wrong with the pairs ticked on a confirmation, said on it: two
/// sharing a receipt of the batch or a refused receipt.
fn entered_again_clash(lang: Lang, ticked: &[(Uuid, Uuid)]) -> Option<String> {
    let mut seen = HashSet::new();
    (!ticked.iter().all(|(a, o)| seen.insert(*a) && seen.insert(*o))).then(|| {
        lang.t(
            "Mỗi phiếu của lô chỉ ghi lại được một phiếu bị từ chối, và mỗi phiếu bị từ chối chỉ được ghi lại một lần: hãy bỏ bớt dấu chọn.",
            "Each receipt of the batch enters again at most one refused receipt, and each refused receipt is entered again once: untick the extra ones.",
        )
        .to_string()
    })
}

/// Said when the refused payments a batch enters again are not those its
/// confirmation offered (a colleague decided another batch, the counter
/// took a refused receipt's cash): nothing is posted until looked at again.
fn entered_again_changed(lang: Lang) -> String {
    lang.t(
        "Danh sách khoản thu bị từ chối được ghi lại đã thay đổi từ lúc xác nhận (một lô khác vừa được quyết định, hoặc tiền đã được thu tại quầy): chưa ghi gì. Kiểm tra lại các dấu chọn dưới đây rồi bấm duyệt lần nữa.",
        "The refused payments entered again have changed since the confirmation (another batch was just decided, or the cash was taken at the counter): nothing is posted. Check the ticks below, then approve again.",
    )
    .to_string()
}

/// An approval checked and ready to post.
struct Checked {
    cash: i64,
    excluded: Vec<(Uuid, String)>,
    /// The refused receipts the batch enters again that the approval
    /// marks settled: (the batch's receipt, the refused one).
    entered_again: Vec<(Uuid, Uuid)>,
    /// Receipts flagged as cash the counter took, said to be paid again.
    distinct: Vec<Uuid>,
}

/// What went wrong with a form, shown where it happened.
#[derive(Debug, Default)]
struct Problems {
    cash: Option<String>,
    /// Records ticked without a reason.
    reasons: Vec<Uuid>,
    /// Records with a reason written but not ticked.
    unticked: Vec<Uuid>,
    /// A refusal of the whole decision (already decided, own records, ...).
    decide: Option<String>,
    /// Records that can no longer post, named by the refusal.
    blocked: Vec<Uuid>,
    reject: Option<String>,
}

/// The form's checks, before anything is sent to the books.
fn check(lang: Lang, d: &BatchDetail, draft: &Draft) -> Result<Checked, Box<Problems>> {
    let mut p = Problems::default();
    let label = lang.t("Tiền mặt đã đếm", "Cash counted");
    let cash = match parse_typed_amount(label, &draft.cash, AmountRule::NonNegative) {
        Ok(c) => Some(c.get()),
        Err(e) => {
            p.cash = Some(lang.pick(e.message_vi(), e.message_en()));
            None
        }
    };
    let mut excluded = Vec::new();
    for id in &draft.excluded {
        if !d.records.iter().any(|r| r.record_id == *id) {
            p.decide = Some(
                lang.t(
                    "Một bản ghi được đánh dấu loại không thuộc lô này. Hãy mở lại trang lô và làm lại.",
                    "A record marked for exclusion is not part of this batch. Open the batch again and redo it.",
                )
                .into(),
            );
            continue;
        }
        let reason: String = draft.reason(id).trim().chars().take(REASON_MAX).collect();
        if reason.is_empty() {
            p.reasons.push(*id);
        } else {
            excluded.push((*id, reason));
        }
    }
    // A reason without the tick is most likely a forgotten tick: ask.
    for r in &d.records {
        if !draft.reason(&r.record_id).trim().is_empty() && !draft.excluded.contains(&r.record_id) {
            p.unticked.push(r.record_id);
        }
    }
    let left_out: HashSet<Uuid> = excluded.iter().map(|(id, _)| *id).collect();
    let entered_again = draft.entered_again(&entered_again_candidates(d, &left_out));
    match cash {
        Some(cash) if p.reasons.is_empty() && p.unticked.is_empty() && p.decide.is_none() => {
            Ok(Checked {
                cash,
                excluded,
                entered_again,
                distinct: draft.distinct.clone(),
            })
        }
        _ => Err(Box::new(p)),
    }
}

struct BatchView<'a> {
    ui: &'a Ui,
    csrf: &'a str,
    me: i64,
    d: &'a BatchDetail,
    draft: &'a Draft,
    problems: &'a Problems,
    /// Just decided: `approved` or `rejected`.
    done: &'a str,
}

fn fate(lang: Lang, r: &ReviewRecord) -> Markup {
    let entry = |id: i64| lang.pick(format!("bút toán số {id}"), format!("entry {id}"));
    html! {
        (fate_decided(lang, r, entry))
        // Refused, then settled: how, by whom, when.
        @if let Some(x) = &r.settled {
            br; span.badge.ok.settled { (lang.t("Đã xử lý", "Settled")) }
            br; small { (x.note) " — " (x.settled_by) ", " (datetime(x.settled_at)) }
            @if let Some(e) = x.entry_id { br; small { (entry(e)) } }
        }
    }
}

fn fate_decided(lang: Lang, r: &ReviewRecord, entry: impl Fn(i64) -> String) -> Markup {
    html! {
        @match r.decision.as_deref() {
            // A visit (or a void, a request) posts nothing of its own.
            Some("approved") if r.entry_id.is_none() => {
                span.badge.ok { (lang.t("Đã duyệt", "Approved")) }
                @if let Some(x) = r.reversed_by_entry {
                    br; span.badge.muted { (lang.pick(format!("đã đảo bằng bút toán số {x}"), format!("reversed by entry {x}"))) }
                }
            }
            Some("approved") => {
                span.badge.ok { (lang.t("Đã ghi sổ", "Posted")) }
                @if let Some(e) = r.entry_id { " " small { (entry(e)) } }
                @if let Some(x) = r.reversed_by_entry {
                    br; span.badge.muted { (lang.pick(format!("đã đảo bằng bút toán số {x}"), format!("reversed by entry {x}"))) }
                } @else if let (Some(e), false) = (r.entry_id, r.kind == "reversal_request") {
                    // (A reversal itself is not reversed.)
                    br; a.reverse-link href=(view::link("/reversals/new", &[("entry", e.to_string())])) {
                        small { (lang.t("Đề nghị đảo", "Ask to reverse")) }
                    }
                }
            }
            Some("excluded") if r.decision_reason.as_deref() == Some(crate::db::EXCLUDED_VOIDED) => {
                span.badge.muted { (lang.t("Đã hủy", "Voided")) }
                br; small { (lang.t("cán bộ đã hủy bản ghi này: không ghi sổ", "the officer voided it: not posted")) }
            }
            Some("excluded") => {
                span.badge.danger { (lang.t("Bị loại", "Excluded")) }
                @if let Some(why) = &r.decision_reason {
                    @let (vi, en) = crate::db::system_exclusion(why).unwrap_or_else(|| (why.clone(), why.clone()));
                    br; small { (lang.pick(vi, en)) }
                }
            }
            Some("rejected") => {
                span.badge.danger { (lang.t("Bị từ chối", "Rejected")) }
                @if let Some(why) = &r.decision_reason { br; small { (why) } }
            }
            Some(other) => { span.badge { (other) } }
            None => {
                @if r.upload_status == "quarantined" {
                    span.badge.danger { (lang.t("Sẽ không ghi sổ", "Will not post")) }
                    br; small { (lang.t("thiết bị đã bị thu hồi", "the device was revoked")) }
                } @else if let Some(b) = r.void_waiting_in {
                    span.badge.warn { (lang.t("Lệnh hủy chờ duyệt", "Void waiting")) }
                    br; small.void-waiting { (lang.t("cán bộ đã hủy bản ghi này trong ", "the officer voided it in "))
                        a href=(format!("/batches/{b}")) { (lang.t("một lô khác", "another batch")) }
                        (lang.t(" còn chờ duyệt: duyệt hoặc từ chối lô đó trước, rồi mới duyệt lô này; hoặc đánh dấu loại bản ghi này",
                            " still waiting: approve or reject that batch first, then this one; or exclude this record")) }
                } @else if r.voided {
                    span.badge.muted { (lang.t("Sẽ không ghi sổ", "Will not post")) }
                    br; small { (lang.t("cán bộ đã hủy bản ghi này", "the officer voided it")) }
                } @else {
                    span.badge.warn { (lang.t("Chờ duyệt", "Pending")) }
                }
            }
        }
    }
}

fn what(lang: Lang, r: &ReviewRecord) -> Markup {
    html! {
        @if let (Some(t), true) = (&r.target, matches!(r.kind.as_str(), "void" | "reversal_request")) {
            // What a void cancels or a reversal would undo, and why.
            (kind_label(lang, &t.kind, t.campaign_kind.as_deref()))
            @if let Some(a) = t.amount.as_deref().and_then(|a| a.parse::<i64>().ok()) { " " (vnd(a)) }
            @if let Some(receipt) = &t.receipt_no { br; small.mono { (receipt) } }
            @if let (Some(id), Some(code)) = (r.loan_id, &r.loan_code) {
                br; a.mono href=(format!("/loans/{id}")) { (code) }
            }
            @if let Some(why) = r.payload.get("reason").and_then(|w| w.as_str()) {
                br; small { (lang.t("Lý do: ", "Reason: ")) (why) }
            }
        } @else if let (Some(id), Some(code)) = (r.loan_id, &r.loan_code) {
            a.mono href=(format!("/loans/{id}")) { (code) }
        } @else if let Some(k) = &r.campaign_name {
            (k)
            @if let Some(name) = r.payload.get("acknowledged_name").and_then(|n| n.as_str()) {
                br; small { (lang.t("Người nhận xác nhận: ", "Acknowledged by: ")) (name) }
            }
            @match r.signature {
                Some("received") => {
                    @let src = format!("/records/{}/signature", r.record_id);
                    br;
                    a.signature href=(src) target="_blank" rel="noopener" {
                        img src=(src) loading="lazy" height="48"
                            alt=(lang.t("Chữ ký người nhận", "The recipient's signature"));
                    }
                }
                Some(_) => {
                    br; small.muted.signature-waiting { (lang.t("Chưa nhận ảnh chữ ký (đến ở lần đồng bộ sau)", "Signature image not received yet (comes with a later sync)")) }
                }
                // Handed out with the recipient's typed name only: the
                // paper record is what to check.
                None if r.kind == "gift_handout" => {
                    br; small.warn-text.no-signature { (lang.t("Không có ảnh chữ ký người nhận: đối chiếu biên bản giấy", "No signature image: check the paper record")) }
                }
                None => {}
            }
        } @else if r.kind == "visit" {
            @if let Some(p) = r.payload.get("purpose").and_then(|p| p.as_str()) {
                small { (visit_purpose(lang, p)) }
            }
            // What the officer found and noted: what the supervisor reads.
            @if let Some(o) = r.payload.get("outcome").and_then(|o| o.as_str()).filter(|o| !o.trim().is_empty()) {
                br; small.visit-outcome { (lang.t("Kết quả: ", "Outcome: ")) (long_text(lang, o)) }
            }
            @if let Some(n) = r.payload.get("notes").and_then(|n| n.as_str()).filter(|n| !n.trim().is_empty()) {
                br; small.visit-notes { (lang.t("Ghi chú: ", "Notes: ")) (long_text(lang, n)) }
            }
        } @else if let Some(t) = &r.target {
            // What a void cancels or a reversal would undo, and why.
            (kind_label(lang, &t.kind, t.campaign_kind.as_deref()))
            @if let Some(a) = t.amount.as_deref().and_then(|a| a.parse::<i64>().ok()) { " " (vnd(a)) }
            @if let Some(receipt) = &t.receipt_no { br; small.mono { (receipt) } }
            @if let Some(why) = r.payload.get("reason").and_then(|w| w.as_str()) {
                br; small { (lang.t("Lý do: ", "Reason: ")) (why) }
            }
        } @else if r.target_record_id.is_some() {
            small { (lang.t("bản ghi trước đó", "an earlier record")) }
        } @else { "—" }
    }
}

fn visit_purpose(lang: Lang, p: &str) -> String {
    use sotay_core::wire::VisitPurpose as V;
    let Some(v) = V::parse(p) else {
        return p.to_string();
    };
    let en = match v {
        V::LoanAppraisal => "Loan appraisal",
        V::RepaymentFollowUp => "Repayment follow-up",
        V::HardshipVisit => "Hardship visit",
        V::Condolence => "Condolence visit",
        V::GiftDelivery => "Gift delivery",
        V::Other => "Other",
    };
    lang.t(v.label_vi(), en).to_string()
}

fn render_batch(v: BatchView<'_>) -> Markup {
    let ui = v.ui;
    let lang = ui.lang;
    let d = v.d;
    let s = &d.summary;
    let pending = s.status == BatchStatus::Pending;
    let own = s.officer_id == v.me;
    let deciding = pending && !own;
    let batch_path = format!("/batches/{}", s.batch_id);
    let ticked: HashSet<Uuid> = v.draft.excluded.iter().copied().collect();
    let grants = grants_paid(d, &HashSet::new());
    let approved_loans: Vec<(i64, &str, &str)> = {
        let mut seen = HashSet::new();
        d.records
            .iter()
            // A repayment's loan, and the loan of a repayment a reversal
            // request took back.
            .filter(|r| {
                matches!(r.kind.as_str(), "repayment" | "reversal_request")
                    && r.decision.as_deref() == Some("approved")
            })
            .filter_map(|r| {
                let id = r.loan_id?;
                seen.insert(id).then(|| {
                    (
                        id,
                        r.loan_code.as_deref().unwrap_or(""),
                        r.worker_name.as_deref().unwrap_or(""),
                    )
                })
            })
            .collect()
    };
    let title = lang.pick(
        format!("Lô của {}", s.officer_name),
        format!("Batch of {}", s.officer_name),
    );
    html! {
        p.crumbs { a href="/batches" { "← " (lang.t("Lô chờ duyệt", "Batch review")) } }
        h1 { (title) " " (status_badge(lang, s.status)) }
        @if let Some(m) = &v.problems.decide {
            div.notice.error role="alert" #decide-error {
                p { (m) }
                @if !v.problems.blocked.is_empty() {
                    p { (lang.t("Các bản ghi này không ghi sổ được nữa:", "These records can no longer post:")) }
                    ul {
                        @for id in &v.problems.blocked {
                            @if let Some(r) = d.records.iter().find(|r| r.record_id == *id) {
                                li { strong { (record_name(lang, r)) } }
                            }
                        }
                    }
                    p { (lang.t(
                        "Đánh dấu “Loại” ở các bản ghi này (có ghi lý do), kiểm lại tiền mặt rồi duyệt lại.",
                        "Tick “Exclude” on these records (with a reason), check the cash again and approve again.",
                    )) }
                }
            }
        }
        @if v.done == "approved" && s.status == BatchStatus::Approved {
            (approval_result(lang, d, &approved_loans))
        }
        @if v.done == "rejected" && s.status == BatchStatus::Rejected {
            p.notice.success role="status" #reject-result { (lang.t(
                "Đã từ chối cả lô. Không bản ghi nào được ghi sổ; cán bộ sẽ thấy lý do trên điện thoại ở lần đồng bộ tới.",
                "The whole batch was rejected. Nothing was posted; the officer sees the reason on the phone at the next sync.",
            )) }
        }
        div.cards {
            section.card #batch-summary {
                h2 { (lang.t("Lô đồng bộ", "Sync batch")) }
                dl {
                    dt { (lang.t("Cán bộ", "Officer")) } dd { (s.officer_name) }
                    dt { (lang.t("Chi nhánh", "Branch")) } dd { (s.branch_name.as_deref().unwrap_or("—")) }
                    dt { (lang.t("Thiết bị", "Device")) } dd { (s.device_name) " (" span.mono { (s.device_code) } ")" }
                    dt { (lang.t("Ghi từ — đến", "Recorded")) } dd { (recorded_span(s)) }
                    dt { (lang.t("Đồng bộ lúc", "Synced")) } dd { (datetime(s.synced_at)) }
                    dt { (lang.t("Bản ghi", "Records")) } dd { (counts_text(lang, &s.counts)) }
                    dt { (lang.t("Bất thường", "Anomalies")) }
                    dd #batch-anomalies {
                        @if s.anomalies == 0 { (lang.t("Không có", "None")) } @else {
                            (anomaly_summary(lang, s.anomalies, &s.anomaly_codes))
                        }
                    }
                }
            }
            section.card #cash-card {
                h2 { (lang.t("Tiền mặt", "Cash")) }
                dl {
                    @match &s.decision {
                        None => {
                            @if s.cash_taken_back > 0 {
                                // What is counted in hand, then the reversals netted.
                                dt { (lang.t("Thu trong lô", "Collected in the batch")) }
                                dd.num #collected { (vnd(s.cash_collected + s.cash_taken_back)) }
                                dt { (lang.t("Đã trừ đề nghị đảo", "Less reversal requests")) }
                                dd.num #taken-back { (vnd(s.cash_taken_back)) }
                                dd.hint { (lang.t(
                                    "Cán bộ giữ lại tiền của các phiếu đề nghị đảo (trả lại người vay, hoặc đã nộp quỹ từ trước khi ghi lại số đúng): trừ vào tiền phải nộp, quỹ không chi ra.",
                                    "The officer keeps back the cash of the receipts asked to be reversed (given back to the borrower, or in the vault already before the right amount was recorded): less to hand over; the vault pays nothing out.",
                                )) }
                            }
                            @let (what, amount) = hand_over(lang, s.cash_collected);
                            dt { (what) } dd.num #expected { strong { (amount) } }
                            @if s.cash_collected < 0 {
                                dd.hint #owed-note { (lang.t(
                                    "Các đề nghị đảo trong lô trả lại nhiều hơn tiền cán bộ thu trong lô: khi duyệt, phần chênh được ghi có vào tài khoản thừa/thiếu quỹ của cán bộ (bù khoản thiếu đã ghi cho một phiếu gõ thừa, hoặc chi trả cán bộ ở trang Sổ cái để trả lại người vay). Quỹ không chi ra khi duyệt.",
                                    "The batch's reversal requests take back more than the officer collected in it: on approval the difference is credited to the officer's over/short account (it cancels a shortage counted for a receipt typed too high, or is paid out to the officer on the Ledger page to give back to the borrower). Nothing leaves the vault on approval.",
                                )) }
                            }
                            @if grants > 0 {
                                dt { (lang.t("Chi hỗ trợ khi duyệt", "Grants paid on approval")) }
                                dd.num #grants { (vnd(grants)) }
                                dd.hint { (lang.t(
                                    "Tiền hỗ trợ cán bộ đã trao: ra khỏi quỹ tiền mặt chi nhánh khi duyệt.",
                                    "Welfare cash the officer handed out: it leaves the branch vault on approval.",
                                )) }
                            }
                        }
                        Some(dec) if dec.decision == "approved" => {}
                        Some(_) => {
                            dt { (lang.t("Tiền thu trong lô", "Collected in the batch")) } dd.num { (vnd(s.cash_collected)) }
                            @if s.cash_collected > 0 {
                                dt { (lang.t("Cán bộ còn giữ", "Held by the officer")) } dd.num #held { (vnd(s.cash_held)) }
                                dd.hint { (lang.t(
                                    "Lô bị từ chối: không có tiền nào được ghi sổ. Tiền của các phiếu chưa xử lý vẫn ở cán bộ (ở danh sách khoản bị từ chối chưa xử lý cho đến khi xử lý); phiếu đã xử lý ghi cách xử lý ở từng dòng.",
                                    "Rejected: no cash was posted. The cash of receipts not settled is still with the officer (on the list of refused records not settled until settled); a settled receipt says how on its line.",
                                )) }
                            }
                        }
                    }
                    @if let Some(dec) = &s.decision {
                        @if dec.decision == "approved" {
                            @let parse = |v: &Option<String>| v.as_deref().and_then(|x| x.parse::<i64>().ok()).unwrap_or(0);
                            @let (what, amount) = hand_over(lang, parse(&dec.cash_expected));
                            dt { (what) } dd.num #expected { strong { (amount) } }
                            dt { (lang.t("Thực nhận", "Counted")) } dd.num { (vnd(parse(&dec.cash_received))) }
                            dt { (lang.t("Chênh lệch", "Difference")) } dd #discrepancy { (difference(lang, parse(&dec.discrepancy), parse(&dec.cash_expected))) }
                            @if s.cash_held > 0 {
                                dt { (lang.t("Cán bộ còn giữ", "Held by the officer")) } dd.num #held { (vnd(s.cash_held)) }
                                dd.hint { (lang.t(
                                    "Tiền của các phiếu bị loại khi duyệt, chưa xử lý: vẫn ở cán bộ (trả lại người vay hoặc thu tại quầy).",
                                    "The cash of receipts left out at approval, not settled: still with the officer (give it back to the borrower or take it at the counter).",
                                )) }
                            }
                        }
                        dt { (if dec.decision == "approved" { lang.t("Duyệt bởi", "Approved by") } else { lang.t("Từ chối bởi", "Rejected by") }) }
                        dd { (dec.reviewer.as_deref().unwrap_or("—"))
                             @if let Some(at) = dec.decided_at { " · " (datetime(at)) } }
                        @if let Some(why) = &dec.reason { dt { (lang.t("Lý do", "Reason")) } dd #decision-reason { (why) } }
                    }
                }
            }
        }
        @let held = d.records.iter().any(|r| r.upload_status == "quarantined");
        @if s.status == BatchStatus::Refused && held {
            p.notice.warn #nothing-to-review { (lang.t(
                "Điện thoại gửi lô này đã bị thu hồi: mọi bản ghi của lô được giữ lại để xem xét, không ghi sổ, và không có gì để duyệt hay tiền mặt nào để đếm. Tiền và quà của chúng ở dưới đây, và ở danh sách chưa xử lý của trang Lô chờ duyệt cho tới khi được đánh dấu đã xử lý.",
                "The phone that sent this batch was revoked: every record of it is held for review and posts nothing; there is nothing to approve and no cash to count. Their cash and packages are below, and on the batches page's list of those not settled until marked settled.",
            )) }
        } @else if s.status == BatchStatus::Refused {
            p.notice.warn #nothing-to-review { (lang.t(
                "Mọi bản ghi của lô này đã bị máy chủ từ chối khi tải lên: không có gì để duyệt. Tiền và quà của chúng ở dưới đây, và ở danh sách chưa xử lý của trang Lô chờ duyệt cho tới khi được đánh dấu đã xử lý.",
                "Every record of this batch was refused by the server at upload: there is nothing to review. Their cash and packages are below, and on the batches page's list of those not settled until marked settled.",
            )) }
        }
        @if s.status != BatchStatus::Refused || held {
        h2 { (lang.t("Bản ghi trong lô", "Records in the batch")) }
        @if deciding {
            p.hint { (lang.t(
                "Bản ghi nào không được ghi sổ (ví dụ: sai số tiền, người nhận không đúng), đánh dấu “Loại” và ghi lý do — cán bộ sẽ thấy lý do này.",
                "For a record that must not post (a wrong amount, the wrong recipient), tick “Exclude” and give a reason — the officer will see it.",
            )) }
        }
        (table_wrap(html! {
            table.list #records {
                thead { tr {
                    th.num { "#" }
                    th { (lang.t("Loại · thời điểm", "Kind · when")) }
                    th { (lang.t("Người lao động", "Worker")) }
                    th { (lang.t("Khoản vay / quà", "Loan / gift")) }
                    th.num { (lang.t("Số tiền · số phiếu", "Amount · receipt")) }
                    th { (lang.t("Bất thường", "Anomalies")) }
                    th { (lang.t("Tình trạng", "Status")) }
                    @if deciding { th { (lang.t("Loại khỏi lô", "Exclude")) } }
                } }
                tbody {
                    @for (i, r) in d.records.iter().enumerate() {
                        @let blocked = v.problems.blocked.contains(&r.record_id);
                        @let missing_reason = v.problems.reasons.contains(&r.record_id);
                        @let unticked = v.problems.unticked.contains(&r.record_id);
                        @let cash = if brings_cash(r) { amount_of(r).unwrap_or(0) } else { 0 } - takes_back(r).unwrap_or(0);
                        tr data-record=(r.record_id) data-kind=(r.kind) data-cash=[(cash != 0).then_some(cash)]
                            class=[(blocked || missing_reason || unticked).then_some("blocked")] {
                            td.num data-label="#" { (i + 1) }
                            td data-label=(lang.t("Loại · thời điểm", "Kind · when")) { (kind_label(lang, &r.kind, r.campaign_kind.as_deref())) br; small.nowrap { (datetime(r.recorded_at)) } }
                            td.who data-label=(lang.t("Người lao động", "Worker")) {
                                @if let (Some(id), Some(name)) = (r.worker_id, &r.worker_name) {
                                    a href=(format!("/workers/{id}")) { (name) }
                                } @else { "—" }
                            }
                            td data-label=(lang.t("Khoản vay / quà", "Loan / gift")) { (what(lang, r)) }
                            td.num data-label=(lang.t("Số tiền · số phiếu", "Amount · receipt")) {
                                @if let Some(a) = amount_of(r) { (vnd(a)) }
                                @if let Some(receipt) = &r.receipt_no { br; small.mono { (receipt) } }
                                @if let (Some(v), "gift_handout") = (r.gift_value.as_deref().and_then(|v| v.parse::<i64>().ok()), r.kind.as_str()) {
                                    @if r.campaign_kind.as_deref() == Some("welfare") {
                                        (vnd(v)) br; small { (lang.t("chi từ quỹ tiền mặt", "paid from the vault")) }
                                    } @else {
                                        small { (lang.pick(format!("suất quà {}", vnd(v)), format!("a {} package", vnd(v)))) }
                                    }
                                }
                            }
                            td.anomalies data-label=(lang.t("Bất thường", "Anomalies")) {
                                @if r.anomalies.is_empty() { span.muted { "—" } } @else {
                                    ul.plain { @for a in &r.anomalies { li { span.badge.warn { "!" } " " (lang.t(&a.message_vi, &a.message_en)) } } }
                                }
                            }
                            td data-label=(lang.t("Tình trạng", "Status")) {
                                (fate(lang, r))
                                @if blocked { br; span.badge.danger { (lang.t("Không ghi sổ được", "Cannot post")) } }
                            }
                            @if deciding && r.kind == "void" {
                                td.exclude data-label=(lang.t("Loại khỏi lô", "Exclude")) { small.muted { (lang.t("Cán bộ tự hủy: không loại được", "The officer's own void: cannot be excluded")) } }
                            } @else if deciding && r.voided && r.void_waiting_in.is_none() {
                                td.exclude data-label=(lang.t("Loại khỏi lô", "Exclude")) { small.muted { (lang.t("Cán bộ đã hủy: không ghi sổ, không cần loại", "Voided by the officer: not posted, nothing to exclude")) } }
                            } @else if deciding {
                                td.exclude data-label=(lang.t("Loại khỏi lô", "Exclude")) {
                                    @let field = format!("reason-{}", r.record_id);
                                    @let box_id = format!("exclude-{}", r.record_id);
                                    label.check for=(box_id) {
                                        input type="checkbox" id=(box_id) name="exclude" value=(r.record_id) form="approve-form"
                                            checked[ticked.contains(&r.record_id)];
                                        " " (lang.t("Loại", "Exclude"))
                                    }
                                    label.visually-hidden for=(field) { (lang.t("Lý do loại", "Reason for excluding")) }
                                    input type="text" id=(field) name=(field) form="approve-form" maxlength="500"
                                        value=(v.draft.reason(&r.record_id))
                                        placeholder=(lang.t("Lý do loại", "Reason"))
                                        aria-invalid=[missing_reason.then_some("true")];
                                    @if missing_reason {
                                        small.field-error { (lang.t("Cần ghi lý do loại bản ghi này", "Give a reason for excluding this record")) }
                                    }
                                    @if unticked {
                                        small.field-error { (lang.t("Có lý do nhưng chưa đánh dấu “Loại”", "A reason, but “Exclude” is not ticked")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }))
        }
        @if !d.refused_at_upload.is_empty() {
            section #refused {
                h2 { (lang.t("Bản ghi bị từ chối hoặc giữ lại khi tải lên", "Records refused or held at upload")) }
                @if d.refused_cash > 0 {
                    p.notice.warn #refused-cash { (lang.pick(
                        format!("Cán bộ đã thu {} trong các khoản thu dưới đây nhưng máy chủ đã từ chối chúng khi tải lên, hoặc giữ lại vì thiết bị đã bị thu hồi (lý do ở từng dòng): số tiền này không nằm trong số phải nộp của lô và không được ghi sổ. Hỏi cán bộ về số tiền này: trả lại người lao động, hoặc thu tại quầy vào đúng khoản vay với số phiếu thu đã đưa.", vnd(d.refused_cash)),
                        format!("The officer took {} in the repayments below, which the server refused at upload, or held because the device was revoked (each line says why): it is not in what this batch expects to be handed over and is not posted. Ask the officer about it: give it back to the worker, or take it at the counter against the right loan, with the receipt number given.", vnd(d.refused_cash)),
                    )) }
                }
                @if d.refused_at_upload.iter().any(|r| r.kind == "gift_handout") {
                    p.notice.warn #refused-gifts-note { (lang.t(REFUSED_GIFTS_VI, REFUSED_GIFTS_EN)) }
                }
                (table_wrap(html! {
                    table.list {
                        thead { tr {
                            th { (lang.t("Loại · thời điểm", "Kind · when")) }
                            (refused_heads(lang))
                        } }
                        tbody {
                            @for r in &d.refused_at_upload {
                                tr data-refused=(r.record_id) id=(format!("refused-{}", r.record_id)) {
                                    td { (kind_label(lang, &r.kind, r.campaign_kind.as_deref())) br; small.nowrap { (datetime(r.recorded_at)) } }
                                    (refused_cells(lang, r, Some((v.csrf, batch_path.as_str()))))
                                }
                            }
                        }
                    }
                }))
            }
        }
        @if pending && own {
            p.notice.warn { (lang.t(
                "Đây là các bản ghi của chính bạn: người khác phải duyệt lô này.",
                "These are your own records: someone else must review this batch.",
            )) }
        }
        @if deciding {
            div.cards {
                section.card #approve {
                    h2 { (lang.t("Duyệt lô", "Approve the batch")) }
                    form.stack method="post" action=(format!("/batches/{}/confirm", s.batch_id)) id="approve-form" novalidate {
                        (csrf_field(v.csrf))
                        // Back from the confirmation: its ticks, kept for the next.
                        @if let Some(ticked) = &v.draft.entered_again {
                            input type="hidden" name="entered_again_asked" value="1";
                            @for (again, original) in ticked {
                                input type="hidden" name="entered_again" value=(format!("{again}:{original}"));
                            }
                        }
                        @for again in &v.draft.distinct {
                            input type="hidden" name="distinct" value=(again);
                        }
                        @for key in &v.draft.offered {
                            input type="hidden" name="entered_again_offered" value=(key);
                        }
                        label for="cash" { (lang.t("Tiền mặt đã đếm (đồng)", "Cash counted (đồng)")) }
                        // A batch with no money in it (visits, gifts from
                        // the stock) has nothing to count: 0, filled in.
                        @let no_money = d.records.iter().all(|r| r.amount.is_none());
                        input #cash type="text" name="cash" inputmode="numeric" autocomplete="off"
                            value=(if v.draft.cash.is_empty() && no_money { "0" } else { v.draft.cash.as_str() })
                            placeholder=(lang.t("ví dụ 1.500.000", "e.g. 1.500.000"))
                            aria-invalid=[v.problems.cash.is_some().then_some("true")] aria-describedby="cash-hint";
                        @if let Some(m) = &v.problems.cash { p.field-error role="alert" #cash-error { (m) } }
                        // With the records ticked to be left out (kept up to
                        // date as they are ticked, by the page's script).
                        @let expected = expected_cash(d, &ticked);
                        // Both sentences, one shown: the script shows the
                        // other when ticks take the figure across zero.
                        p.hint #cash-hint {
                            span #cash-owed hidden[expected >= 0] {
                                (lang.t("Chi nhánh nợ lại cán bộ ", "The branch owes the officer "))
                                strong #cash-owed-figure { (vnd(-expected.min(0))) }
                                (lang.t(
                                    " (các đề nghị đảo trả lại nhiều hơn tiền thu trong lô): cán bộ không phải nộp gì; gõ 0, hoặc số tiền cán bộ vẫn nộp.",
                                    " (the reversal requests take back more than the batch collected): nothing to hand over; type 0, or the cash the officer hands over anyway.",
                                ))
                            }
                            span #cash-due hidden[expected < 0] {
                                (lang.t("Cán bộ phải nộp ", "The officer should hand over "))
                                strong #cash-expected-figure { (vnd(expected.max(0))) }
                                (lang.t(" (các khoản thu trong lô", " (the batch's collections"))
                                // What the reversal requests not ticked take back.
                                @let taken_back: i64 = d.records.iter()
                                    .filter(|r| !ticked.contains(&r.record_id))
                                    .filter_map(takes_back)
                                    .sum();
                                span #cash-taken-back-note hidden[taken_back == 0] {
                                    (lang.t(", đã trừ ", ", less "))
                                    span #cash-taken-back-figure { (vnd(taken_back)) }
                                    (lang.t(" của các đề nghị đảo", " for the reversal requests"))
                                }
                                span #cash-ticked-note hidden[ticked.is_empty()] {
                                    (lang.t(", trừ các bản ghi đánh dấu loại", ", less the records ticked to be excluded"))
                                }
                                (lang.t(
                                    "). Gõ 1.500.000, 1 500 000 hay 1500000 đều được.",
                                    "). 1.500.000, 1 500 000 or 1500000 are all fine.",
                                ))
                            }
                        }
                        @if !v.problems.reasons.is_empty() {
                            p.field-error role="alert" #exclude-error { (lang.pick(
                                format!("Cần ghi lý do cho {} bản ghi được đánh dấu loại (tô đỏ trong bảng).", v.problems.reasons.len()),
                                format!("Give a reason for the {} records ticked for exclusion (marked in the table).", v.problems.reasons.len()),
                            )) }
                        }
                        @if !v.problems.unticked.is_empty() {
                            p.field-error role="alert" #unticked-error { (lang.pick(
                                format!("{} bản ghi có ghi lý do loại nhưng chưa được đánh dấu “Loại” (tô đỏ trong bảng): đánh dấu để loại, hoặc xoá lý do để ghi sổ.", v.problems.unticked.len()),
                                format!("{} records have a reason for exclusion but “Exclude” is not ticked (marked in the table): tick it to exclude, or clear the reason to post.", v.problems.unticked.len()),
                            )) }
                        }
                        div.actions {
                            button.primary type="submit" data-busy=(lang.t("Đang kiểm tra…", "Checking…")) {
                                (lang.t("Kiểm tra và xác nhận…", "Check and confirm…"))
                            }
                        }
                    }
                }
                section.card #reject {
                    h2 { (lang.t("Từ chối cả lô", "Reject the whole batch")) }
                    p.hint { (lang.t(
                        "Không bản ghi nào được ghi sổ; cán bộ thấy mọi bản ghi bị từ chối kèm lý do.",
                        "Nothing posts; the officer sees every record rejected with the reason.",
                    )) }
                    form.stack method="post" action=(format!("/batches/{}/reject", s.batch_id)) id="reject-form" {
                        (csrf_field(v.csrf))
                        label for="reject_reason" { (lang.t("Lý do từ chối (bắt buộc)", "Reason (required)")) }
                        textarea #reject_reason name="reject_reason" rows="3" maxlength="500" required
                            aria-invalid=[v.problems.reject.is_some().then_some("true")]
                            placeholder=(lang.t("Ví dụ: tiền mặt không khớp, cần cán bộ đối chiếu lại", "E.g. the cash does not match; the officer must check again")) {
                            (v.draft.reject_reason)
                        }
                        @if let Some(m) = &v.problems.reject { p.field-error role="alert" #reject-error { (m) } }
                        div.actions {
                            button.danger type="submit" data-busy=(lang.t("Đang từ chối…", "Rejecting…")) {
                                (lang.t("Từ chối lô", "Reject the batch"))
                            }
                        }
                    }
                }
            }
        }
    }
}

fn approval_result(lang: Lang, d: &BatchDetail, loans: &[(i64, &str, &str)]) -> Markup {
    let s = &d.summary;
    let Some(dec) = &s.decision else {
        return html! {};
    };
    let parse = |v: &Option<String>| {
        v.as_deref()
            .and_then(|x| x.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let (expected, received, diff) = (
        parse(&dec.cash_expected),
        parse(&dec.cash_received),
        parse(&dec.discrepancy),
    );
    // The officer's voids are no records of their own to count: they say
    // how many records she cancelled.
    let posted = d
        .records
        .iter()
        .filter(|r| r.decision.as_deref() == Some("approved") && r.kind != "void")
        .count();
    // Left out by the supervisor, or from a revoked phone; the officer's
    // own voids are counted apart, as on the confirmation.
    // (A record whose void still waited, left out by the supervisor, was
    // excluded with her reason.)
    let by_void = |r: &&ReviewRecord| {
        r.voided && r.decision_reason.as_deref() == Some(crate::db::EXCLUDED_VOIDED)
    };
    let voided = d.records.iter().filter(by_void).count();
    let excluded = d
        .records
        .iter()
        .filter(|r| r.decision.as_deref() == Some("excluded") && !by_void(r) && r.kind != "void")
        .count();
    // The settlement of the cash is one more entry whenever cash moved.
    let entries = d.records.iter().filter(|r| r.entry_id.is_some()).count()
        + usize::from(expected != 0 || received != 0);
    html! {
        div.notice.success role="status" #approval-result {
            p { strong { (lang.t("Đã duyệt lô và ghi sổ.", "The batch is approved and posted.")) } }
            p { (lang.pick(
                format!("{posted} bản ghi được duyệt, {excluded} bị loại{}; {entries} bút toán đã ghi sổ.", voided_vi(voided)),
                format!("{posted} records approved, {excluded} excluded{}; {entries} journal entries posted.", voided_en(voided)),
            )) }
            p { (lang.pick(
                format!("{} {}, thực nhận {}: ", hand_over(Lang::Vi, expected).0, hand_over(Lang::Vi, expected).1, vnd(received)),
                format!("{} {}, counted {}: ", hand_over(Lang::En, expected).0, hand_over(Lang::En, expected).1, vnd(received)),
            )) strong { (difference(lang, diff, expected)) }
                @if diff != 0 { " " (lang.t("(ghi vào tài khoản thừa/thiếu quỹ của cán bộ)", "(booked to the officer's cash over/short account)")) } }
            @if !loans.is_empty() {
                p { (lang.t("Khoản vay đã cập nhật dư nợ:", "Loans whose balance changed:")) }
                ul #affected-loans {
                    @for (id, code, worker) in loans {
                        li { a.mono href=(format!("/loans/{id}")) { (code) } " · " (worker) }
                    }
                }
            }
        }
    }
}

/// The batch, if this reviewer may see it: another branch's is "not found".
async fn load(state: &AppState, who: &Reviewer, id: &str) -> Result<BatchDetail, AppError> {
    let id = Uuid::parse_str(id.trim()).map_err(|_| batch_not_found())?;
    match state.db.review_batch(id).await? {
        Some(d) if who.covers(d.summary.branch_id) => Ok(d),
        _ => Err(batch_not_found()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BatchQuery {
    /// Just decided: `approved` or `rejected`.
    done: String,
}

/// Draws the batch page with what was filled in and what went wrong.
async fn batch_response(
    state: &AppState,
    s: &Signed,
    id: &str,
    status: StatusCode,
    draft: &Draft,
    problems: &Problems,
    done: &str,
) -> Response {
    let ui = s.ui();
    let result = async {
        let who = reviewer(&s.user, None)?;
        load(state, &who, id).await
    }
    .await;
    match result {
        Ok(d) => {
            let title = s.lang.pick(
                format!("Lô của {}", d.summary.officer_name),
                format!("Batch of {}", d.summary.officer_name),
            );
            let body = render_batch(BatchView {
                ui: &ui,
                csrf: &s.csrf,
                me: s.user.id,
                d: &d,
                draft,
                problems,
                done,
            });
            (status, ui.page(&title, Nav::Batches, body)).into_response()
        }
        Err(e) => ui.app_error(e),
    }
}

/// `GET /records/{id}/signature`: a gift's signature image, for the
/// branch's supervisors and admins.
pub async fn signature(
    State(state): State<AppState>,
    signed: Signed,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let ui = signed.ui();
    let Ok(id) = Uuid::parse_str(id.trim()) else {
        return ui.app_error(AppError::not_found("bản ghi", "record"));
    };
    match crate::api::signatures::signature_image(&state, &signed.user, id).await {
        Ok(image) => image,
        Err(e) => ui.app_error(e),
    }
}

/// `GET /batches/{id}`
pub async fn batch(
    State(state): State<AppState>,
    signed: Signed,
    UrlPath(id): UrlPath<String>,
    UrlQuery(q): UrlQuery<BatchQuery>,
) -> Response {
    batch_response(
        &state,
        &signed,
        &id,
        StatusCode::OK,
        &Draft::default(),
        &Problems::default(),
        &q.done,
    )
    .await
}

/// The address of a page that shows what a form will do, with what was
/// filled in (not the form's token): a page of its own, so that going Back
/// to it after the decision loads it again (saying the batch is decided)
/// instead of asking to send the form again.
///
/// The address is signed with the session's secret token (`sig`): a link
/// made elsewhere, a cash count written into it by someone else, shows the
/// batch page instead (see [`drafted`]).
fn showing(signed: &Signed, id: &str, page: &str, pairs: &[(String, String)]) -> Response {
    let Ok(batch) = Uuid::parse_str(id.trim()) else {
        return signed.ui().app_error(batch_not_found());
    };
    Redirect::to(&signed_link(signed, batch, page, pairs)).into_response()
}

/// The longest confirmation address sent as a redirect: the proxies in
/// front refuse longer request lines (nginx's default buffer is 8 KB), and
/// exclusion reasons in Vietnamese grow several times once encoded.
const MAX_LINK: usize = 6_000;

/// The approval's confirmation: at its own signed address when that is
/// short enough, else shown as the answer to the form itself (Back then
/// asks to send the form again, as before such addresses).
async fn confirming(
    state: &AppState,
    signed: &Signed,
    id: &str,
    pairs: &[(String, String)],
) -> Response {
    let ui = signed.ui();
    let Ok(batch) = Uuid::parse_str(id.trim()) else {
        return ui.app_error(batch_not_found());
    };
    let link = signed_link(signed, batch, "confirm", pairs);
    if link.len() <= MAX_LINK {
        return Redirect::to(&link).into_response();
    }
    let (_, _, draft) = Draft::from_pairs(pairs);
    match decidable(state, signed, id, &draft).await {
        Ok(d) => confirmation(state, signed, id, &draft, &d, None).await,
        Err(r) => r,
    }
}

/// A decision's draft at the signed address of its confirmation `page`.
fn signed_link(signed: &Signed, batch: Uuid, page: &str, pairs: &[(String, String)]) -> String {
    let kept: Vec<(&str, String)> = pairs
        .iter()
        .filter(|(k, _)| {
            [
                "cash",
                "exclude",
                "expected",
                "reject_reason",
                "entered_again",
                "entered_again_asked",
                "entered_again_offered",
                "distinct",
            ]
            .contains(&k.as_str())
                || k.starts_with("reason-")
        })
        // A reason as the page takes it: no longer than it keeps.
        .map(|(k, v)| (k.as_str(), v.chars().take(REASON_MAX).collect()))
        .collect();
    let path = format!("/batches/{batch}/{page}");
    let sig = draft_sig(&signed.csrf, &view::link(&path, &kept));
    let mut signed_pairs = kept;
    signed_pairs.push(("sig", sig));
    view::link(&path, &signed_pairs)
}

/// The signature of a confirmation's address, keyed by the session's
/// secret token.
fn draft_sig(csrf: &str, url: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(csrf.as_bytes());
    h.update([0]);
    h.update(url.as_bytes());
    h.update([0]);
    h.update(csrf.as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// What a confirmation's address holds, when this session made it; `None`
/// for an address made elsewhere (or in a session ended since). The
/// signature covers the query as it was sent, byte for byte, up to the
/// `sig` that ends it: nothing added, dropped or spelt otherwise passes.
fn drafted(
    signed: &Signed,
    batch: Uuid,
    page: &str,
    raw: Option<String>,
    pairs: Vec<(String, String)>,
) -> Option<Vec<(String, String)>> {
    let raw = raw.unwrap_or_default();
    let (query, sig) = match raw.rsplit_once("&sig=") {
        Some((query, sig)) => (query, sig),
        None => ("", raw.strip_prefix("sig=")?),
    };
    if !sig.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let path = format!("/batches/{batch}/{page}");
    let url = if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    };
    let rest: Vec<(String, String)> = pairs.into_iter().filter(|(k, _)| k != "sig").collect();
    super::session::same_token(&draft_sig(&signed.csrf, &url), sig).then_some(rest)
}

/// `POST /batches/{id}/confirm`: the batch page's count, sent on to
/// [`confirm_view`].
pub async fn confirm(
    State(state): State<AppState>,
    signed: Signed,
    UrlPath(id): UrlPath<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let (csrf, _, _) = Draft::from_pairs(&pairs);
    if let Some(refused) = signed.forgery(&csrf) {
        return refused;
    }
    confirming(&state, &signed, &id, &pairs).await
}

/// What a confirmation's address holds and the batch it is of, when this
/// session made the address and the batch may still be decided; else the
/// answer to give (the batch page, why it cannot be decided, not found).
async fn to_decide(
    state: &AppState,
    signed: &Signed,
    id: &str,
    page: &str,
    raw: Option<String>,
    pairs: Vec<(String, String)>,
) -> Result<(Draft, BatchDetail), Response> {
    let ui = signed.ui();
    let batch = Uuid::parse_str(id.trim()).map_err(|_| ui.app_error(batch_not_found()))?;
    let Some(pairs) = drafted(signed, batch, page, raw, pairs) else {
        return Err(Redirect::to(&format!("/batches/{batch}")).into_response());
    };
    let (_, _, draft) = Draft::from_pairs(&pairs);
    let d = decidable(state, signed, id, &draft).await?;
    Ok((draft, d))
}

/// The batch a draft decision is of, when the reader may still decide it;
/// else the answer to give (why it cannot be decided, not found).
async fn decidable(
    state: &AppState,
    signed: &Signed,
    id: &str,
    draft: &Draft,
) -> Result<BatchDetail, Response> {
    let ui = signed.ui();
    let who = reviewer(&signed.user, None).map_err(|e| ui.app_error(e))?;
    let d = load(state, &who, id).await.map_err(|e| ui.app_error(e))?;
    if let Some(r) = decided_already(state, signed, id, draft, &d).await {
        return Err(r);
    }
    Ok(d)
}

/// `GET /batches/{id}/confirm?cash=…&exclude=…&reason-<id>=…`: checks the
/// count and shows what the approval will do before anything is posted.
pub async fn confirm_view(
    State(state): State<AppState>,
    signed: Signed,
    UrlPath(id): UrlPath<String>,
    RawQuery(raw): RawQuery,
    UrlQuery(pairs): UrlQuery<Vec<(String, String)>>,
) -> Response {
    let (draft, d) = match to_decide(&state, &signed, &id, "confirm", raw, pairs).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    confirmation(&state, &signed, &id, &draft, &d, None).await
}

/// The confirmation page of a draft approval, or the batch page saying what
/// to put right in it.
async fn confirmation(
    state: &AppState,
    signed: &Signed,
    id: &str,
    draft: &Draft,
    d: &BatchDetail,
    problem: Option<String>,
) -> Response {
    let ui = signed.ui();
    let lang = signed.lang;
    let checked = match check(lang, d, draft) {
        Ok(c) => c,
        Err(problems) => {
            return batch_response(
                state,
                signed,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                draft,
                &problems,
                "",
            )
            .await
        }
    };
    // Sent back from an approval: the cash to hand over the confirmation
    // showed then, when the batch has changed since (a void arrived).
    let excluded: HashSet<Uuid> = checked.excluded.iter().map(|(id, _)| *id).collect();
    let shown = draft.expected.filter(|e| *e != expected_cash(d, &excluded));
    let problem = problem.or_else(|| entered_again_clash(lang, &checked.entered_again));
    let page = confirm_page(&ui, &signed.csrf, d, &checked, shown, problem.as_deref());
    match (shown, &problem) {
        (None, None) => page.into_response(),
        _ => (StatusCode::CONFLICT, page).into_response(),
    }
}

/// The batch page saying why nobody may decide the batch now (decided
/// already, from another tab or by a colleague; or the reviewer's own), in
/// answer to a decision sent for it; `None` when it may be decided.
async fn decided_already(
    state: &AppState,
    signed: &Signed,
    id: &str,
    draft: &Draft,
    d: &BatchDetail,
) -> Option<Response> {
    let problems = undecidable(signed.lang, d, signed.user.id)?;
    Some(
        batch_response(
            state,
            signed,
            id,
            StatusCode::CONFLICT,
            draft,
            &problems,
            "",
        )
        .await,
    )
}

/// A batch nobody may decide now: decided already, or the reviewer's own.
fn undecidable(lang: Lang, d: &BatchDetail, me: i64) -> Option<Problems> {
    let s = &d.summary;
    let message = if let Some(dec) = &s.decision {
        let by = dec.reviewer.clone().unwrap_or_default();
        let at = dec.decided_at.map(datetime).unwrap_or_default();
        if dec.decision == "approved" {
            lang.pick(
                format!("Lô này đã được {by} duyệt lúc {at}; không duyệt hay từ chối lần nữa được. Kết quả ở dưới."),
                format!("This batch was already approved by {by} at {at}; it cannot be decided again. The result is below."),
            )
        } else {
            lang.pick(
                format!(
                    "Lô này đã bị {by} từ chối lúc {at}; không duyệt hay từ chối lần nữa được."
                ),
                format!(
                    "This batch was already rejected by {by} at {at}; it cannot be decided again."
                ),
            )
        }
    } else if s.officer_id == me {
        lang.t(
            "Không ai được duyệt bản ghi của chính mình; người khác phải duyệt lô này.",
            "Nobody may review their own records; someone else must decide this batch.",
        )
        .to_string()
    } else {
        return None;
    };
    Some(Problems {
        decide: Some(message),
        ..Problems::default()
    })
}

/// `shown`: the cash to hand over an earlier confirmation showed, when the
/// batch has changed since (it is shown again, with the new figures).
fn confirm_page(
    ui: &Ui,
    csrf: &str,
    d: &BatchDetail,
    c: &Checked,
    shown: Option<i64>,
    problem: Option<&str>,
) -> Markup {
    let lang = ui.lang;
    let s = &d.summary;
    let excluded: HashSet<Uuid> = c.excluded.iter().map(|(id, _)| *id).collect();
    let expected = expected_cash(d, &excluded);
    let diff = c.cash - expected;
    let posting = d
        .records
        .iter()
        .filter(|r| {
            r.upload_status == "accepted"
                && !r.voided
                && r.kind != "void"
                && !excluded.contains(&r.record_id)
        })
        .count();
    let grants = grants_paid(d, &excluded);
    // The cash of the receipts ticked to be left out: it stays with the
    // officer, to give back or to take at the counter, never in this count.
    let left_out: Vec<i64> = d
        .records
        .iter()
        .filter(|r| r.kind == "repayment" && !r.voided && excluded.contains(&r.record_id))
        .filter_map(|r| r.amount.as_deref().and_then(|a| a.parse::<i64>().ok()))
        .collect();
    // (Even an overage smaller than a left-out receipt may hold its cash,
    // the officer short of some other: asked all the same.)
    let excluded_cash: i64 = left_out.iter().sum();
    // Not those ticked to be left out (a void still waiting elsewhere).
    let voided = d
        .records
        .iter()
        .filter(|r| r.voided && !excluded.contains(&r.record_id))
        .count();
    // The officer's voids say how many she cancelled: not counted apart.
    let voids = d.records.iter().filter(|r| r.kind == "void").count();
    // Ticked, or from a revoked phone (never posted).
    let left_out = d.records.len().saturating_sub(posting + voided + voids);
    // The officer's voids of records sent in earlier batches (those of
    // this batch's own are in `voided`).
    let voids_elsewhere = d
        .records
        .iter()
        .filter(|r| {
            r.kind == "void"
                && !d
                    .records
                    .iter()
                    .any(|t| Some(t.record_id) == r.target_record_id)
        })
        .count();
    // A record voided in another batch still waiting holds the approval,
    // unless it is left out here.
    let void_waiting = d
        .records
        .iter()
        .filter(|r| !excluded.contains(&r.record_id))
        .find_map(|r| r.void_waiting_in);
    let entered_again = entered_again_candidates(d, &excluded);
    let title = lang.t("Xác nhận duyệt lô", "Confirm the approval");
    let body = html! {
        p.crumbs { a href=(format!("/batches/{}", s.batch_id)) { "← " (lang.pick(format!("Lô của {}", s.officer_name), format!("Batch of {}", s.officer_name))) } }
        h1 { (title) }
        @if let Some(m) = problem {
            p.notice.danger role="alert" #entered-again-problem { (m) }
        }
        @if let Some(shown) = shown {
            @let said = |n: i64| if n < 0 {
                lang.pick(format!("0 ₫ (chi nhánh nợ lại cán bộ {})", vnd(-n)), format!("0 ₫ (the branch owes the officer {})", vnd(-n)))
            } else {
                vnd(n)
            };
            p.notice.danger #batch-changed { (lang.pick(
                format!("Lô đã thay đổi từ lúc xác nhận (có thể lô có lệnh hủy của cán bộ vừa được duyệt): số phải nộp nay là {}, không phải {}. Kiểm tra lại, đếm lại nếu cần, rồi bấm duyệt lần nữa.", said(expected), said(shown)),
                format!("The batch changed since it was confirmed (a batch with the officer's void may just have been approved): the cash to hand over is now {}, not {}. Check again, count again if needed, then approve again.", said(expected), said(shown)),
            )) }
        }
        // A void of the officer's waiting in another batch: that batch first.
        @if let Some(b) = void_waiting {
            p.notice.danger #void-waiting { (lang.t(
                "Có bản ghi trong lô này cán bộ đã hủy ở một lô khác còn chờ duyệt: chưa duyệt được lô này — duyệt hoặc từ chối lô đó trước, hoặc quay lại đánh dấu loại bản ghi đó. ",
                "A record of this batch was voided by the officer in another batch still waiting: this batch cannot be approved yet — approve or reject that batch first, or go back and exclude the record. ",
            )) a href=(format!("/batches/{b}")) { (lang.t("Mở lô đó để duyệt hoặc từ chối", "Open that batch to approve or reject it")) } }
        }
        p.lead { (lang.t(
            "Kiểm tra lại trước khi ghi sổ. Sau khi duyệt, không sửa được: một khoản thu sai chỉ điều chỉnh bằng bút toán đảo, còn số tiền đếm được và khoản chênh lệch thì không sửa được nữa — hãy đếm lại nếu còn nghi ngờ.",
            "Check before posting. An approval cannot be edited afterwards: a wrong collection is corrected only by a reversal, and the cash counted and its difference cannot be corrected at all — count again if in doubt.",
        )) }
        section.card #confirmation {
            dl {
                dt { (lang.t("Cán bộ", "Officer")) } dd { (s.officer_name) " · " (s.device_name) }
                dt { (lang.t("Bản ghi", "Records")) } dd #confirm-records { (lang.pick(
                    format!("{posting} được duyệt, {} bị loại{}{}", left_out, voided_vi(voided), voids_vi(voids_elsewhere)),
                    format!("{posting} approved, {} excluded{}{}", left_out, voided_en(voided), voids_en(voids_elsewhere)),
                )) }
                @let (what, amount) = hand_over(lang, expected);
                dt { (what) } dd.num #confirm-expected { (amount) }
                dt { (lang.t("Tiền mặt đã đếm", "Cash counted")) } dd.num #confirm-counted { (vnd(c.cash)) }
                dt { strong { (lang.t("Chênh lệch", "Difference")) } } dd #confirm-difference { strong { (difference(lang, diff, expected)) } }
                @if grants > 0 {
                    dt { (lang.t("Chi hỗ trợ từ quỹ khi duyệt", "Grants paid from the vault")) }
                    dd.num #confirm-grants { strong { (vnd(grants)) } }
                    dd.hint { (lang.t(
                        "Tiền hỗ trợ cán bộ đã trao cho người lao động: ra khỏi quỹ tiền mặt chi nhánh khi duyệt.",
                        "Welfare cash the officer handed to workers: it leaves the branch vault on approval.",
                    )) }
                }
            }
            @if expected <= 0 {
            } @else if c.cash > 2 * expected && diff > 1_000_000 {
                p.notice.danger #count-check { (lang.pick(
                    format!("Số tiền đếm được, {}, lớn hơn hai lần số phải nộp: kiểm tra lại (gõ thừa chữ số?).", vnd(c.cash)),
                    format!("The cash counted, {}, is more than twice the cash expected: check it (a digit too many?).", vnd(c.cash)),
                )) }
            } @else if 2 * c.cash < expected && -diff > 100_000 {
                p.notice.danger #count-check { (lang.pick(
                    format!("Số tiền đếm được, {}, chưa bằng một nửa số phải nộp ({}): kiểm tra lại (gõ thiếu chữ số?) trước khi ghi thiếu quỹ cho cán bộ.", vnd(c.cash), vnd(expected)),
                    format!("The cash counted, {}, is less than half the cash expected ({}): check it (a digit missing?) before booking a shortage to the officer.", vnd(c.cash), vnd(expected)),
                )) }
            }
            @if diff > 0 && excluded_cash > 0 {
                p.notice.danger #excluded-cash-check { (lang.pick(
                    format!("Thừa {}, trong khi các phiếu bị loại có {}{}: tiền của phiếu bị loại không nộp cùng lô — nó vẫn ở cán bộ, để trả lại người vay hoặc thu tại quầy. Nếu số đếm gồm cả tiền đó, hãy quay lại nhập số không tính nó; nếu không, quỹ sẽ ghi số tiền đó hai lần khi thu tại quầy.",
                        vnd(diff), vnd(excluded_cash), if diff == excluded_cash { " (đúng bằng số thừa)" } else { "" }),
                    format!("An overage of {}, while the receipts left out hold {}{}: a left-out receipt's cash is not handed over with the batch — it stays with the officer, to give back to the borrower or take at the counter. If the count includes it, go back and enter the count without it; otherwise the vault books that cash twice when it is taken at the counter.",
                        vnd(diff), vnd(excluded_cash), if diff == excluded_cash { " (exactly the overage)" } else { "" }),
                )) }
            }
            // A shortage of exactly a receipt whose cash went to the counter
            // already: that receipt is to be left out, not booked short.
            @if let Some(r) = (diff < 0).then(|| d.records.iter().find(|r| {
                !excluded.contains(&r.record_id)
                    && amount_of(r) == Some(-diff)
                    && r.anomalies.iter().any(|a| a.code == "refused_receipt_taken_at_counter")
            })).flatten() {
                p.notice.danger #short-taken-at-counter { (lang.pick(
                    format!("Số thiếu, {}, đúng bằng {} — phiếu được cảnh báo là tiền đã thu tại quầy: nếu vậy, hãy quay lại loại phiếu đó (tiền đã vào quỹ) thay vì ghi thiếu quỹ cho cán bộ.", vnd(-diff), record_name(lang, r)),
                    format!("The shortage, {}, is exactly {} — flagged as cash taken at the counter already: if so, go back and exclude it (the cash is in the vault) rather than booking a shortage to the officer.", vnd(-diff), record_name(lang, r)),
                )) }
            }
            @if diff > 0 && expected < 0 {
                p.notice.warn #difference-note { (lang.pick(
                    format!("Chi nhánh nợ lại cán bộ {} {}: ghi có vào tài khoản thừa/thiếu quỹ của cán bộ (bù khoản thiếu đã ghi cho phiếu gõ thừa, hoặc chi trả cho cán bộ ở trang Sổ cái).", s.officer_name, vnd(diff)),
                    format!("The branch owes {} {}: credited to the officer's cash over/short account (it cancels the shortage booked for a receipt typed too high, or is paid out to the officer on the ledger page).", s.officer_name, vnd(diff)),
                )) }
            } @else if diff != 0 {
                p.notice.warn #difference-note { (lang.pick(
                    format!("Khoản {} {} được ghi vào tài khoản thừa/thiếu quỹ của cán bộ {}.",
                        if diff < 0 { "thiếu" } else { "thừa" }, vnd(diff.abs()), s.officer_name),
                    format!("The {} of {} is booked to {}'s cash over/short account.",
                        if diff < 0 { "shortage" } else { "overage" }, vnd(diff.abs()), s.officer_name),
                )) }
            }
        }
        @if !c.excluded.is_empty() {
            h2 { (lang.t("Bản ghi bị loại", "Records excluded")) }
            ul #confirm-excluded {
                @for (id, reason) in &c.excluded {
                    @if let Some(r) = d.records.iter().find(|r| r.record_id == *id) {
                        li { (record_name(lang, r)) " — " em { (reason) } }
                    }
                }
            }
        }
        form method="post" data-fresh-on-back="1" action=(format!("/batches/{}/approve", s.batch_id)) id="confirm-form" {
            (csrf_field(csrf))
            // As people read it, should the supervisor go back to change it.
            input type="hidden" name="cash" value=(sotay_core::domain::money::group_thousands(c.cash));
            input type="hidden" name="expected" value=(expected);
            @for (id, reason) in &c.excluded {
                input type="hidden" name="exclude" value=(id);
                input type="hidden" name=(format!("reason-{id}")) value=(reason);
            }
            // The confirmation was seen: what it did not offer is not ticked.
            input type="hidden" name="entered_again_asked" value="1";
            @for key in offer_keys(d, &excluded) {
                input type="hidden" name="entered_again_offered" value=(key);
            }
            @let taken = counter_flagged(d, &excluded);
            @if !taken.is_empty() {
                fieldset #confirm-taken-at-counter {
                    legend { (lang.t("Tiền đã thu tại quầy", "Cash taken at the counter")) }
                    @for (again, receipt, counter) in &taken {
                        @if let Some(r) = d.records.iter().find(|r| r.record_id == *again) {
                            @let name = record_name(lang, r);
                            p.notice.danger { (lang.pick(
                                format!("{name} cùng khoản vay, cùng số tiền với phiếu {receipt} bị từ chối mà tiền đã thu tại quầy ({counter}): nếu đây là khoản thu đó ghi lại, duyệt nó là thu số tiền đó lần thứ hai — hãy quay lại loại nó."),
                                format!("{name} is for the same loan and amount as refused receipt {receipt}, whose cash was taken at the counter ({counter}): if it is that payment entered again, approving it takes that cash a second time — go back and exclude it."),
                            )) }
                            label.check {
                                input type="checkbox" name="distinct" value=(again) checked[c.distinct.contains(again)];
                                " " (lang.pick(
                                    format!("Người vay trả thêm một lần thật: {name} không phải phiếu {receipt} ghi lại"),
                                    format!("The borrower really paid once more: {name} is not receipt {receipt} entered again"),
                                ))
                            }
                        }
                    }
                }
            }
            @if !entered_again.is_empty() {
                fieldset #confirm-entered-again {
                    legend { (lang.t("Khoản thu bị từ chối được ghi lại", "Refused payments entered again")) }
                    p.hint { (lang.t(
                        "Các phiếu dưới đây cùng khoản vay, cùng số tiền với một phiếu bị từ chối. Nếu là khoản thu đó được ghi lại, để dấu chọn — khi duyệt: phiếu được duyệt thì phiếu bị từ chối được đánh dấu đã xử lý (tiền của nó nộp cùng lô này, không thu lại tại quầy); phiếu bị loại thì chính nó được đánh dấu đã xử lý (cùng một khoản tiền, không tính là cán bộ giữ hai lần). Bỏ dấu chọn nếu người vay trả thêm một lần thật.",
                        "The receipts below are for the same loan and amount as a refused receipt. If it is that payment entered again, keep the tick — on approval: a receipt approved settles the refused one (its cash comes with this batch, not to be taken again at the counter); a receipt left out is itself settled (the same cash, not counted as held twice). Untick it if the borrower really paid once more.",
                    )) }
                    @for (again, original, receipt, counter) in &entered_again {
                        @if let Some(r) = d.records.iter().find(|r| r.record_id == *again) {
                            @let name = record_name(lang, r);
                            label.check {
                                input type="checkbox" name="entered_again" value=(format!("{again}:{original}"))
                                    checked[c.entered_again.contains(&(*again, *original))];
                                " " @match (excluded.contains(again), counter) {
                                    (false, _) => (lang.pick(
                                        format!("{name} là phiếu {receipt} ghi lại: đánh dấu phiếu {receipt} đã xử lý"),
                                        format!("{name} is receipt {receipt} entered again: mark {receipt} settled"),
                                    )),
                                    (true, None) => (lang.pick(
                                        format!("{name}, bị loại, là phiếu {receipt} ghi lại: đánh dấu nó đã xử lý (trùng — tiền vẫn tính ở phiếu {receipt}, cán bộ còn giữ)"),
                                        format!("{name}, left out, is receipt {receipt} entered again: mark it settled (the same cash — still counted once, as {receipt}'s, held by the officer)"),
                                    )),
                                    (true, Some(k)) => (lang.pick(
                                        format!("{name}, bị loại, là phiếu {receipt} ghi lại, tiền đã thu tại quầy ({k}): đánh dấu nó đã xử lý"),
                                        format!("{name}, left out, is receipt {receipt} entered again, whose cash was taken at the counter ({k}): mark it settled"),
                                    )),
                                }
                            }
                        }
                    }
                }
            }
            div.actions {
                button.primary type="submit" name="action" value="post" disabled[void_waiting.is_some()] data-busy=(lang.t("Đang ghi sổ…", "Posting…")) {
                    (lang.t("Duyệt và ghi sổ", "Approve and post"))
                }
                button type="submit" name="action" value="edit" formnovalidate {
                    (lang.t("Quay lại sửa", "Go back and change"))
                }
            }
        }
    };
    ui.page(title, Nav::Batches, body)
}

/// What rejecting the whole batch does, before it is done: nothing posts,
/// the batch is never decided again, the cash and packages stay with the
/// officer until settled.
fn reject_confirm_page(
    ui: &Ui,
    csrf: &str,
    d: &BatchDetail,
    reason: &str,
    ticks: &[(Uuid, Uuid)],
    problem: Option<String>,
) -> Markup {
    let lang = ui.lang;
    let s = &d.summary;
    let all = every_record(d);
    let entered_again = entered_again_candidates(d, &all);
    // The cash of the batch's receipts, all of it: a rejection nets no
    // reversal request against it (as `cash_held` counts once rejected).
    let cash: i64 = d
        .records
        .iter()
        .filter(|r| r.kind == "repayment" && r.upload_status == "accepted" && !r.voided)
        .filter_map(amount_of)
        .sum();
    let gifts = d
        .records
        .iter()
        .filter(|r| r.kind == "gift_handout" && r.upload_status == "accepted" && !r.voided)
        .count();
    let title = lang.t("Xác nhận từ chối lô", "Confirm the rejection");
    let body = html! {
        p.crumbs { a href=(format!("/batches/{}", s.batch_id)) { "← " (lang.pick(format!("Lô của {}", s.officer_name), format!("Batch of {}", s.officer_name))) } }
        h1 { (title) }
        @if let Some(m) = problem {
            p.notice.danger role="alert" #entered-again-problem { (m) }
        }
        p.lead { (lang.t(
            "Từ chối cả lô không hoàn tác được: không bản ghi nào được ghi sổ, và lô này không duyệt lại được nữa. Cán bộ thấy mọi bản ghi bị từ chối kèm lý do.",
            "Rejecting the whole batch cannot be undone: nothing posts, and this batch can never be approved. The officer sees every record rejected with the reason.",
        )) }
        section.card #reject-confirmation {
            dl {
                dt { (lang.t("Cán bộ", "Officer")) } dd { (s.officer_name) " · " (s.device_name) }
                dt { (lang.t("Bản ghi", "Records")) } dd #reject-records { (d.records.len()) }
                dt { (lang.t("Tiền cán bộ đã thu", "Cash the officer took")) } dd.num #reject-cash { (vnd(cash)) }
                dt { (lang.t("Lý do", "Reason")) } dd #reject-reason-shown { em { (reason) } }
            }
            @if cash > 0 || gifts > 0 {
                @let held_vi = [
                    (cash > 0).then(|| format!("tiền {} cán bộ đã thu vẫn ở trong tay cán bộ (người lao động giữ phiếu thu)", vnd(cash))),
                    (gifts > 0).then(|| format!("{gifts} suất quà cán bộ đã trao không được ghi sổ (kho vẫn tính chúng)")),
                ].into_iter().flatten().collect::<Vec<_>>().join("; ");
                @let held_en = [
                    (cash > 0).then(|| format!("the {} the officer took stays in the officer's hands (the workers hold receipts)", vnd(cash))),
                    (gifts > 0).then(|| format!("the {gifts} gift packages the officer handed out are not posted (the stock still counts them)")),
                ].into_iter().flatten().collect::<Vec<_>>().join("; ");
                p.notice.warn #reject-held-note { (lang.pick(
                    format!("Khi từ chối, {held_vi}: chúng nằm trong danh sách chưa xử lý ở trang Lô chờ duyệt cho tới khi được đánh dấu đã xử lý ({}).", match (cash > 0, gifts > 0) {
                        (true, true) => "tiền: trả lại người lao động hoặc thu tại quầy; quà: thu hồi, hoặc ghi giảm kho nếu đã trao thật",
                        (true, false) => "trả lại người lao động hoặc thu tại quầy",
                        _ => "thu hồi quà, hoặc ghi giảm kho nếu đã trao thật",
                    }),
                    format!("Once rejected, {held_en}: they are listed as not settled on the batches page until marked settled ({}).", match (cash > 0, gifts > 0) {
                        (true, true) => "cash: given back or taken at the counter; gifts: taken back, or taken off the stock if really handed out",
                        (true, false) => "given back or taken at the counter",
                        _ => "taken back, or taken off the stock if really handed out",
                    }),
                )) }
                @if cash > 0 {
                    p.hint #reject-reentry-note { (lang.t(
                        "Lô đã từ chối không gửi lại được: cán bộ ghi lại trên điện thoại những khoản thu đúng (với số phiếu mới). Lô mới ấy được cảnh báo là khoản thu bị từ chối ghi lại, và khi duyệt, trang xác nhận đề nghị đánh dấu phiếu cũ đã xử lý — tiền của nó nộp cùng lô mới.",
                        "A rejected batch cannot be sent again: the officer enters the right payments again on the phone (with new receipt numbers). That new batch is flagged as refused payments entered again, and on approval the confirmation offers to mark the old receipts settled — their cash comes with the new batch.",
                    )) }
                }
            }
        }
        form method="post" data-fresh-on-back="1" action=(format!("/batches/{}/reject", s.batch_id)) id="reject-confirm-form" {
            (csrf_field(csrf))
            input type="hidden" name="reject_reason" value=(reason);
            input type="hidden" name="confirmed" value="1";
            // The confirmation was seen: what it did not offer is not ticked.
            input type="hidden" name="entered_again_asked" value="1";
            @for key in offer_keys(d, &all) {
                input type="hidden" name="entered_again_offered" value=(key);
            }
            @if !entered_again.is_empty() {
                fieldset #reject-entered-again {
                    legend { (lang.t("Khoản thu bị từ chối được ghi lại", "Refused payments entered again")) }
                    p.hint { (lang.t(
                        "Các phiếu dưới đây cùng khoản vay, cùng số tiền với một phiếu bị từ chối trước đó. Nếu là khoản thu đó được ghi lại, để dấu chọn: khi từ chối lô, phiếu mới được đánh dấu đã xử lý (cùng một khoản tiền — vẫn chỉ tính một lần, ở phiếu cũ), để tiền không bị tính là cán bộ giữ hai lần, hay thu hai lần tại quầy. Bỏ dấu chọn nếu người vay trả thêm một lần thật.",
                        "The receipts below are for the same loan and amount as a receipt refused before. If it is that payment entered again, keep the tick: on rejection the new receipt is marked settled (the same cash — still counted once, as the old receipt's), so the cash is neither counted as held twice nor taken twice at the counter. Untick it if the borrower really paid once more.",
                    )) }
                    @for (again, original, receipt, counter) in &entered_again {
                        @if let Some(r) = d.records.iter().find(|r| r.record_id == *again) {
                            @let name = record_name(lang, r);
                            label.check {
                                input type="checkbox" name="entered_again" value=(format!("{again}:{original}"))
                                    checked[ticks.contains(&(*again, *original))];
                                " " @match counter {
                                    None => (lang.pick(
                                        format!("{name} là phiếu {receipt} ghi lại: đánh dấu nó đã xử lý (trùng — tiền vẫn tính ở phiếu {receipt}, cán bộ còn giữ)"),
                                        format!("{name} is receipt {receipt} entered again: mark it settled (the same cash — still counted once, as {receipt}'s, held by the officer)"),
                                    )),
                                    Some(k) => (lang.pick(
                                        format!("{name} là phiếu {receipt} ghi lại, tiền đã thu tại quầy ({k}): đánh dấu nó đã xử lý"),
                                        format!("{name} is receipt {receipt} entered again, whose cash was taken at the counter ({k}): mark it settled"),
                                    )),
                                }
                            }
                        }
                    }
                }
            }
            div.actions {
                button.danger type="submit" data-busy=(lang.t("Đang từ chối…", "Rejecting…")) {
                    (lang.t("Từ chối lô", "Reject the batch"))
                }
                // Back to the batch with the reason as typed.
                button type="submit" name="action" value="edit" formnovalidate { (lang.t("Quay lại sửa", "Go back and change")) }
            }
        }
    };
    ui.page(title, Nav::Batches, body)
}

/// The records of this batch a "cannot post" refusal is about.
fn named_in(d: &BatchDetail, records: &[Uuid]) -> Vec<Uuid> {
    d.records
        .iter()
        .filter(|r| records.contains(&r.record_id))
        .map(|r| r.record_id)
        .collect()
}

/// `POST /batches/{id}/approve`: posts the batch through `Db::approve_batch`.
pub async fn approve(
    State(state): State<AppState>,
    signed: Signed,
    ClientIp(ip): ClientIp,
    UrlPath(id): UrlPath<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let (csrf, action, draft) = Draft::from_pairs(&pairs);
    if let Some(refused) = signed.forgery(&csrf) {
        return refused;
    }
    let ui = signed.ui();
    let lang = signed.lang;
    let who = match reviewer(&signed.user, ip) {
        Ok(w) => w,
        Err(e) => return ui.app_error(e),
    };
    let d = match load(&state, &who, &id).await {
        Ok(d) => d,
        Err(e) => return ui.app_error(e),
    };
    if action == "edit" {
        let none = Problems::default();
        return batch_response(&state, &signed, &id, StatusCode::OK, &draft, &none, "").await;
    }
    // Decided already (a tab left open): who decided it comes first, not
    // what was typed.
    if let Some(r) = decided_already(&state, &signed, &id, &draft, &d).await {
        return r;
    }
    let checked = match check(lang, &d, &draft) {
        Ok(c) => c,
        Err(p) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return batch_response(&state, &signed, &id, status, &draft, &p, "").await;
        }
    };
    // A void of the officer's that arrived since the confirmation changes
    // the cash to hand over: shown again before anything posts.
    let excluded: HashSet<Uuid> = checked.excluded.iter().map(|(id, _)| *id).collect();
    if draft
        .expected
        .is_some_and(|e| e != expected_cash(&d, &excluded))
    {
        return confirming(&state, &signed, &id, &pairs).await;
    }
    // The refused payments entered again as the confirmation offered them,
    // ticked once each; else it is shown again, saying why.
    let offered_now: HashSet<String> = offer_keys(&d, &excluded).into_iter().collect();
    let offered_then: HashSet<String> = draft.offered.iter().cloned().collect();
    let unanswered = counter_flagged(&d, &excluded)
        .into_iter()
        .find(|(a, _, _)| !draft.distinct.contains(a));
    let problem = if offered_now != offered_then {
        Some(entered_again_changed(lang))
    } else if let Some((a, receipt, counter)) = unanswered {
        let name = d
            .records
            .iter()
            .find(|r| r.record_id == a)
            .map(|r| record_name(lang, r))
            .unwrap_or_default();
        Some(lang.pick(
            format!("Chưa ghi gì: {name} cùng khoản vay, cùng số tiền với phiếu {receipt} bị từ chối mà tiền đã thu tại quầy ({counter}). Nếu đây là khoản thu đó ghi lại, hãy quay lại loại nó (tiền đã vào quỹ); nếu người vay trả thêm một lần thật, đánh dấu ô xác nhận dưới đây rồi duyệt."),
            format!("Nothing was posted: {name} is for the same loan and amount as refused receipt {receipt}, whose cash was taken at the counter ({counter}). If it is that payment entered again, go back and exclude it (the cash is in the vault); if the borrower really paid once more, tick the box below and approve."),
        ))
    } else {
        entered_again_clash(lang, &checked.entered_again)
    };
    if problem.is_some() {
        let mut again = draft.clone();
        again.entered_again = Some(carried_ticks(&d, &excluded, &draft, &checked.entered_again));
        return confirmation(&state, &signed, &id, &again, &d, problem).await;
    }
    let batch_id = d.summary.batch_id;
    match state
        .db
        .approve_batch(
            &who,
            batch_id,
            checked.cash,
            &checked.excluded,
            draft.expected,
            &EnteredAgainAnswers {
                pairs: checked.entered_again.clone(),
                paid_again: draft.distinct.clone(),
            },
        )
        .await
    {
        Ok(_) => Redirect::to(&format!("/batches/{batch_id}?done=approved")).into_response(),
        Err(e) => {
            let e = AppError::from(e);
            // The same change, arrived while the approval waited for its
            // turn to write: checked again within its transaction.
            if let (Some(_), "batch_changed") = (draft.expected, e.code) {
                return confirming(&state, &signed, &id, &pairs).await;
            }
            // The refused payments entered again, checked again within the
            // transaction: said on the confirmation, with the ticks.
            if e.code.starts_with("entered_again") || e.code == "not_entered_again" {
                let mut again = draft.clone();
                again.entered_again = Some(checked.entered_again.clone());
                let m = ui.message(&e).to_string();
                return confirmation(&state, &signed, &id, &again, &d, Some(m)).await;
            }
            decision_refused(&state, &signed, &id, &draft, &d, e, false).await
        }
    }
}

/// A refused decision shown on the batch page, in words a person can act on.
async fn decision_refused(
    state: &AppState,
    s: &Signed,
    id: &str,
    draft: &Draft,
    d: &BatchDetail,
    e: AppError,
    rejecting: bool,
) -> Response {
    let ui = s.ui();
    if e.status == StatusCode::NOT_FOUND || e.status.is_server_error() {
        return ui.app_error(e);
    }
    let mut problems = Problems::default();
    let message = ui.message(&e).to_string();
    match e.code {
        "batch_already_decided" | "maker_checker" => {
            // Say it with the decision as it now stands.
            let now = match state.db.review_batch(d.summary.batch_id).await {
                Ok(Some(fresh)) => fresh,
                _ => d.clone(),
            };
            problems = undecidable(s.lang, &now, s.user.id).unwrap_or(Problems {
                decide: Some(message),
                ..Problems::default()
            });
        }
        "posting_refused" => {
            problems.blocked = named_in(d, &e.records);
            problems.decide = Some(message);
        }
        _ if rejecting => problems.reject = Some(message),
        _ => problems.decide = Some(message),
    }
    batch_response(state, s, id, e.status, draft, &problems, "").await
}

/// `POST /batches/{id}/reject`: rejects the whole batch with a reason.
pub async fn reject(
    State(state): State<AppState>,
    signed: Signed,
    ClientIp(ip): ClientIp,
    UrlPath(id): UrlPath<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let (csrf, action, draft) = Draft::from_pairs(&pairs);
    if let Some(refused) = signed.forgery(&csrf) {
        return refused;
    }
    let ui = signed.ui();
    let who = match reviewer(&signed.user, ip) {
        Ok(w) => w,
        Err(e) => return ui.app_error(e),
    };
    let d = match load(&state, &who, &id).await {
        Ok(d) => d,
        Err(e) => return ui.app_error(e),
    };
    if action == "edit" {
        let none = Problems::default();
        return batch_response(&state, &signed, &id, StatusCode::OK, &draft, &none, "").await;
    }
    // Decided already (another tab, a colleague): said at once, with the
    // decision, rather than a confirmation that cannot be carried out.
    if let Some(r) = decided_already(&state, &signed, &id, &draft, &d).await {
        return r;
    }
    let reason = match reject_reason(signed.lang, &draft) {
        Ok(r) => r,
        Err(problems) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return batch_response(&state, &signed, &id, status, &draft, &problems, "").await;
        }
    };
    // Not undone: a page says what follows, and the supervisor confirms.
    if !pairs.iter().any(|(k, v)| k == "confirmed" && v == "1") {
        return showing(&signed, &id, "reject", &pairs);
    }
    // The refused payments entered again as the confirmation offered them,
    // ticked once each; else it is shown again, saying why.
    let all = every_record(&d);
    let ticked = draft.entered_again(&entered_again_candidates(&d, &all));
    let offered_now: HashSet<String> = offer_keys(&d, &all).into_iter().collect();
    let offered_then: HashSet<String> = draft.offered.iter().cloned().collect();
    let problem = if offered_now != offered_then {
        Some(entered_again_changed_rejecting(signed.lang))
    } else {
        entered_again_clash(signed.lang, &ticked)
    };
    if problem.is_some() {
        let ticks = carried_ticks(&d, &all, &draft, &ticked);
        let page = reject_confirm_page(&ui, &signed.csrf, &d, &reason, &ticks, problem);
        return (StatusCode::CONFLICT, page).into_response();
    }
    let batch_id = d.summary.batch_id;
    match state
        .db
        .reject_batch(&who, batch_id, &reason, &ticked)
        .await
    {
        Ok(_) => Redirect::to(&format!("/batches/{batch_id}?done=rejected")).into_response(),
        Err(e) => {
            let e = AppError::from(e);
            // Checked again within the transaction: said on the
            // confirmation, with the ticks.
            if e.code.starts_with("entered_again") || e.code == "not_entered_again" {
                let m = ui.message(&e).to_string();
                let page = reject_confirm_page(&ui, &signed.csrf, &d, &reason, &ticked, Some(m));
                return (e.status, page).into_response();
            }
            decision_refused(&state, &signed, &id, &draft, &d, e, true).await
        }
    }
}

/// Every record of a batch: a rejection leaves them all out.
fn every_record(d: &BatchDetail) -> HashSet<Uuid> {
    d.records.iter().map(|r| r.record_id).collect()
}

/// Said when the refused payments a batch enters again are not those the
/// rejection's confirmation offered: nothing is done until looked at again.
fn entered_again_changed_rejecting(lang: Lang) -> String {
    lang.t(
        "Danh sách khoản thu bị từ chối được ghi lại đã thay đổi từ lúc xác nhận (một lô khác vừa được quyết định, hoặc tiền đã được thu tại quầy): chưa từ chối. Kiểm tra lại các dấu chọn dưới đây rồi bấm từ chối lần nữa.",
        "The refused payments entered again have changed since the confirmation (another batch was just decided, or the cash was taken at the counter): nothing is rejected yet. Check the ticks below, then reject again.",
    )
    .to_string()
}

/// `GET /batches/{id}/reject?reject_reason=…`: what the rejection will do,
/// for the supervisor to confirm.
pub async fn reject_view(
    State(state): State<AppState>,
    signed: Signed,
    UrlPath(id): UrlPath<String>,
    RawQuery(raw): RawQuery,
    UrlQuery(pairs): UrlQuery<Vec<(String, String)>>,
) -> Response {
    let (draft, d) = match to_decide(&state, &signed, &id, "reject", raw, pairs).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let ui = signed.ui();
    match reject_reason(signed.lang, &draft) {
        Ok(reason) => {
            let ticks = draft.entered_again(&entered_again_candidates(&d, &every_record(&d)));
            reject_confirm_page(&ui, &signed.csrf, &d, &reason, &ticks, None).into_response()
        }
        Err(problems) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            batch_response(&state, &signed, &id, status, &draft, &problems, "").await
        }
    }
}

/// The reason given for a rejection, or what to do when there is none.
fn reject_reason(lang: Lang, draft: &Draft) -> Result<String, Box<Problems>> {
    let reason: String = draft
        .reject_reason
        .trim()
        .chars()
        .take(REASON_MAX)
        .collect();
    if reason.is_empty() {
        return Err(Box::new(Problems {
            reject: Some(
                lang.t(
                    "Cần ghi lý do từ chối: cán bộ sẽ đọc lý do này trên điện thoại để biết phải làm gì.",
                    "Give a reason for the rejection: the officer reads it on the phone to know what to do.",
                )
                .into(),
            ),
            ..Problems::default()
        }));
    }
    Ok(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_with_ticked_records_and_reasons() {
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        let pairs: Vec<(String, String)> = [
            ("csrf", "tok".to_string()),
            ("cash", "1.500.000".to_string()),
            ("exclude", a.to_string()),
            ("exclude", a.to_string()),
            ("exclude", "not-a-uuid".to_string()),
            (&format!("reason-{a}"), "sai số tiền".to_string()),
            (&format!("reason-{b}"), "không đánh dấu".to_string()),
            ("action", "post".to_string()),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
        let (csrf, action, d) = Draft::from_pairs(&pairs);
        assert_eq!((csrf.as_str(), action.as_str()), ("tok", "post"));
        assert_eq!(d.cash, "1.500.000");
        assert_eq!(d.excluded, vec![a]);
        assert_eq!(d.reason(&a), "sai số tiền");
        assert_eq!(d.reason(&Uuid::nil()), "");
    }

    #[test]
    fn differences_in_words() {
        let text = |lang, d| difference(lang, d, 100_000).into_string();
        assert!(text(Lang::Vi, -20_000).contains("Thiếu 20.000 ₫"));
        assert!(text(Lang::En, -20_000).contains("Short by 20.000 ₫"));
        assert!(text(Lang::Vi, 5_000).contains("Thừa 5.000 ₫"));
        assert!(text(Lang::Vi, 0).contains("Khớp"));
        // A batch whose reversals take back more than it collects.
        let owed = difference(Lang::Vi, 150_000, -150_000).into_string();
        assert!(owed.contains("Ghi có cho cán bộ 150.000 ₫"), "{owed}");
    }

    #[test]
    fn a_welfare_grant_is_not_called_a_gift() {
        assert_eq!(
            kind_label(Lang::Vi, "gift_handout", Some("welfare")),
            "Chi hỗ trợ"
        );
        assert_eq!(
            kind_label(Lang::En, "gift_handout", Some("welfare")),
            "Welfare grant"
        );
        assert_eq!(
            kind_label(Lang::Vi, "gift_handout", Some("gift")),
            "Trao quà"
        );
        assert_eq!(kind_label(Lang::Vi, "gift_handout", None), "Trao quà");
    }

    #[test]
    fn a_long_note_shows_its_beginning_and_opens_on_a_click() {
        let short = "Đã gặp, hẹn trả ngày 20".to_string();
        assert_eq!(long_text(Lang::Vi, &short).into_string(), short);
        let long = "Chị Thư bị tai nạn lao động. ".repeat(40);
        let shown = long_text(Lang::Vi, &long).into_string();
        let beginning: String = long.chars().take(TEXT_SHOWN).collect();
        assert!(
            shown.starts_with(&format!(
                "<details class=\"long-text\"><summary>{beginning}… "
            )) && shown.contains("xem tiếp")
                && shown.ends_with(&format!("{long}</details>")),
            "{shown}"
        );
    }
}
