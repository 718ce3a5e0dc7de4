//! The supervisor's view of a batch: summaries, records and the anomalies
//! flagged for attention. Pure: the rows come from `db::review`.

use chrono::{Duration, Timelike};
use sotay_core::domain::money::format_vnd;
use sotay_core::domain::time::{format_datetime, local_date, vn_offset};
use sotay_core::wire::{RecordBody, UploadRecord};

use crate::db::{
    Anomaly, AnomalyContext, BatchDetail, BatchHeadRow, BatchStatus, BatchSummary, DecisionView,
    KindCounts, RefusedNames, RefusedRecord, RefusedRow, RefusedSettlement, ReviewRecord,
    ReviewRecordRow, TargetRecord,
};

/// A record synced this long after it was made is flagged.
pub const LATE_SYNC_HOURS: i64 = 48;
/// Field work happens between these local hours.
pub const WORK_HOURS: (u32, u32) = (6, 21);
/// A visit further than this from the worker's boarding house is flagged.
pub const FAR_METRES: f64 = 500.0;

/// Great-circle distance in metres.
fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    const EARTH_M: f64 = 6_371_000.0;
    let (la1, lo1) = (a.0.to_radians(), a.1.to_radians());
    let (la2, lo2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * EARTH_M * h.sqrt().asin()
}

fn anomaly(code: &'static str, vi: String, en: String) -> Anomaly {
    Anomaly {
        code,
        message_vi: vi,
        message_en: en,
        refused_record: None,
        refused_receipt: None,
        counter_receipt: None,
    }
}

/// A record about a worker who is no longer its officer's, which reached
/// the server after the move: taken because the worker was hers at the
/// time the phone says it was made, which only the officer vouches for (a
/// receipt typed in late from paper, or dated back on purpose).
fn moved_away(r: &ReviewRecordRow, ctx: &AnomalyContext) -> Option<Anomaly> {
    if !matches!(r.kind.as_str(), "visit" | "repayment" | "gift_handout") {
        return None;
    }
    let worker = r.worker_id?;
    let (now, _) = ctx.worker_officer.get(&worker)?;
    if *now == r.officer_id {
        return None;
    }
    // Moved away from her after the time the record says and before the
    // server had it: that time made the record hers. One the server had
    // before the move was hers when it arrived.
    let (at, _, to) = ctx
        .moves
        .get(&worker)?
        .iter()
        .find(|(at, from, _)| *from == r.officer_id && *at > r.recorded_at)
        .filter(|(at, _, _)| *at < r.received_at)?;
    let at = format_datetime(*at);
    Some(anomaly(
        "worker_moved",
        format!(
            "Người lao động đã chuyển sang cán bộ {to} lúc {at}, sau giờ ghi trên bản ghi và trước khi máy chủ nhận nó: hỏi cán bộ việc này có thật đã làm trước lúc chuyển không"
        ),
        format!(
            "the worker was moved to officer {to} at {at}, after the time this record says and before the server had it: ask the officer whether it really happened before the move"
        ),
    ))
}

/// What deserves a second look in one record.
pub fn anomalies(r: &ReviewRecordRow, ctx: &AnomalyContext) -> Vec<Anomaly> {
    let mut out = Vec::new();
    // A record the officer voided will not post: nothing to look at.
    if r.voided {
        return out;
    }
    if r.status == "quarantined" {
        out.push(anomaly(
            "device_revoked",
            "Gửi từ thiết bị đã bị thu hồi".into(),
            "sent from a revoked device".into(),
        ));
    }
    let delay = r.received_at - r.recorded_at;
    if delay > Duration::hours(LATE_SYNC_HOURS) {
        let (vi, en) = sotay_core::domain::time::duration_words(delay.num_seconds());
        out.push(anomaly(
            "late_sync",
            format!("Ghi {vi} trước khi đồng bộ"),
            format!("recorded {en} before it was synced"),
        ));
    }
    if let Some(a) = moved_away(r, ctx) {
        out.push(a);
    }
    let hour = r.recorded_at.with_timezone(&vn_offset()).hour();
    if hour < WORK_HOURS.0 || hour >= WORK_HOURS.1 {
        let at = r.recorded_at.with_timezone(&vn_offset()).format("%H:%M");
        out.push(anomaly(
            "odd_hours",
            format!("Ghi lúc {at}, ngoài giờ làm việc"),
            format!("recorded at {at}, outside working hours"),
        ));
    }
    let body: Option<UploadRecord> = serde_json::from_str(&r.body).ok();
    if let (Some(RecordBody::Visit(v)), Some(w)) = (body.as_ref().map(|b| &b.body), r.worker_id) {
        let n = ctx
            .visits_same_day
            .get(&(w, r.officer_id, local_date(r.recorded_at), v.purpose))
            .map_or(0, |v| v.iter().filter(|id| **id != r.client_id).count());
        if n > 0 {
            out.push(anomaly(
                "several_visits_one_day",
                format!(
                    "{} lượt thăm người lao động này trong một ngày, cùng mục đích: có thể ghi trùng",
                    n + 1
                ),
                format!(
                    "{} visits to this worker in one day for the same purpose: maybe recorded twice",
                    n + 1
                ),
            ));
        }
    }
    if let (Some(RecordBody::Visit(v)), Some(w)) = (body.as_ref().map(|b| &b.body), r.worker_id) {
        if let (Some(p), Some(house)) = (v.location, ctx.houses.get(&w)) {
            let d = distance_m((p.latitude, p.longitude), *house);
            if d > FAR_METRES + p.accuracy_m.unwrap_or(0.0) {
                let (vi, en) = kilometres(d);
                out.push(anomaly(
                    "far_from_house",
                    format!("Vị trí GPS cách nhà trọ {vi}"),
                    format!("the GPS position is {en} from the boarding house"),
                ));
            }
        }
    }
    if r.kind == "repayment" {
        if let (Some(loan), Some(amount)) = (r.loan_id, r.amount) {
            if amount < sotay_core::domain::rules::LEAST_CASH_REPAYMENT {
                // The phone refuses such an amount unless it pays the loan
                // off as the phone saw it: a slip of the keyboard (1 typed
                // for 1.000.000 ₫) shows in the cash counted.
                let least = format_vnd(sotay_core::domain::rules::LEAST_CASH_REPAYMENT);
                out.push(anomaly(
                    "small_amount",
                    format!(
                        "Phiếu thu {}, dưới {least}: nếu không phải trả nốt khoản vay, có thể gõ thiếu chữ số — đối chiếu với tiền cán bộ nộp",
                        format_vnd(amount)
                    ),
                    format!(
                        "a receipt of {}, under {least}: unless it paid the loan off, a digit may be missing — check it against the cash the officer hands over",
                        format_vnd(amount)
                    ),
                ));
            }
            if let Some(&due) = ctx.installment.get(&loan) {
                if amount > due {
                    out.push(anomaly(
                        "above_installment",
                        format!(
                            "Thu {}, cao hơn một kỳ trả (kỳ lớn nhất của khoản vay: {})",
                            format_vnd(amount),
                            format_vnd(due)
                        ),
                        format!(
                            "collected {}, more than one installment (the loan's largest: {})",
                            format_vnd(amount),
                            format_vnd(due)
                        ),
                    ));
                }
            }
            let same_day = ctx
                .same_day
                .get(&(loan, local_date(r.recorded_at)))
                .map(Vec::as_slice)
                .unwrap_or_default();
            let sent = match body.as_ref().map(|b| &b.body) {
                Some(RecordBody::Repayment(p)) => Some((p.loan_id, p.amount.get())),
                _ => None,
            };
            let held = sent
                .and_then(|k| ctx.refused_held.get(&k))
                .into_iter()
                .flatten();
            let undecided = r.decision.is_none();
            for h in held.filter(|h| {
                undecided
                    && h.client_id != r.client_id
                    && crate::db::entered_again_spans(h.recorded_at, h.known_at)
                        .iter()
                        .any(|&(from, to)| from <= r.recorded_at && r.recorded_at < to)
                    && crate::db::entered_again_after(h.recorded_at, h.known_at)
                        .is_none_or(|known| r.received_at > known)
            }) {
                let receipt = &h.receipt_no;
                // Its cash taken at the counter: by the supervisor settling
                // it there, or a receipt whose note names it.
                let counter = ctx
                    .counter_notes
                    .get(&loan)
                    .into_iter()
                    .flatten()
                    .find(|(_, note)| crate::db::note_names_receipt(note, receipt))
                    .map(|(k, _)| k.clone())
                    .or_else(|| {
                        // Settled at the counter: the counter receipt its
                        // note names, while it stands (not reversed).
                        let named = crate::db::after_settled_at_counter(h.settled.as_deref()?)?
                            .trim_start_matches(|c: char| !c.is_alphanumeric())
                            .split_whitespace()
                            .next()?;
                        ctx.counter_notes
                            .get(&loan)?
                            .iter()
                            .find(|(k, _)| crate::db::note_names_receipt(named, k))
                            .map(|(k, _)| k.clone())
                    });
                if let Some(counter) = counter {
                    let mut a = anomaly(
                        "refused_receipt_taken_at_counter",
                        format!(
                            "Cùng khoản vay, cùng số tiền với phiếu {receipt} đã bị từ chối mà tiền đã được thu tại quầy ({counter}): nếu đây là khoản thu đó ghi lại, hãy loại bản ghi này (tiền đã vào quỹ); khi duyệt, nó được đánh dấu đã xử lý (đã thu tại quầy {counter}) — đừng thu tiền của nó lần nữa"
                        ),
                        format!(
                            "the same loan and amount as receipt {receipt}, refused, whose cash was taken at the counter ({counter}): if this is that payment entered again, exclude this record (the cash is in the vault already); the approval marks it settled (taken at the counter as {counter}) — do not take its cash again"
                        ),
                    );
                    a.refused_record = Some(h.client_id);
                    a.refused_receipt = Some(receipt.clone());
                    a.counter_receipt = Some(counter);
                    out.push(a);
                } else if h.settled.is_none() {
                    let mut a = anomaly(
                        "refused_receipt_same_amount",
                        format!(
                            "Cùng khoản vay, cùng số tiền với phiếu {receipt} đã bị từ chối mà tiền vẫn tính là cán bộ đang giữ: nếu đây là khoản thu đó ghi lại, khi duyệt hãy để phiếu {receipt} được đánh dấu đã xử lý (tiền của nó nộp cùng lô này), đừng thu lại tại quầy"
                        ),
                        format!(
                            "the same loan and amount as receipt {receipt}, refused, whose cash still counts as held by the officer: if this is that payment entered again, let the approval mark {receipt} settled (its cash comes with this batch) rather than taking it again at the counter"
                        ),
                    );
                    a.refused_record = Some(h.client_id);
                    a.refused_receipt = Some(receipt.clone());
                    out.push(a);
                }
            }
            // The others, by receipt and officer: one taken by another
            // officer (the worker moved between them) may be the same
            // payment asked for twice.
            let others: Vec<String> = same_day
                .iter()
                .filter(|o| o.client_id != r.client_id)
                .map(|o| format!("{} ({})", o.receipt_no, o.officer))
                .collect();
            if !others.is_empty() {
                // This one and the others.
                let n = others.len() + 1;
                out.push(anomaly(
                    "several_repayments_one_day",
                    format!(
                        "{n} lần thu trên cùng khoản vay trong một ngày; phiếu khác: {}",
                        others.join(", ")
                    ),
                    format!(
                        "{n} repayments on the same loan in one day; the others: {}",
                        others.join(", ")
                    ),
                ));
            }
        }
    }
    // What other records say of this one matters until it is decided. (A
    // request in the same batch is decided with it.)
    let undecided = r.decision.is_none();
    if undecided && r.kind == "repayment" && ctx.approved_before.contains(&r.client_id) {
        out.push(anomaly(
            "approved_before_restore",
            "Bản ghi này đã được duyệt trước khi dữ liệu máy chủ được khôi phục từ bản sao lưu (điện thoại gửi lại): tiền của nó đã vào quỹ khi duyệt lần trước — khi đếm tiền, tính là đã nhận, cán bộ không nộp lại".into(),
            "this record was approved before the server's data was restored from a backup (the phone sent it again): its cash went into the vault at that approval — count it as received; the officer does not hand it over again".into(),
        ));
    }
    if let Some((batch, at)) = ctx
        .reversal_asked
        .get(&r.client_id)
        .filter(|(b, _)| undecided && *b != r.batch_id)
    {
        let id = batch.simple().to_string();
        let (at, tail) = (format_datetime(*at), &id[id.len() - 6..]);
        out.push(anomaly(
            "reversal_requested",
            format!("Cán bộ đã đề nghị đảo bản ghi này (lô đồng bộ lúc {at}, mã …{tail}): duyệt lô này thì bản ghi được ghi sổ, rồi được đảo khi duyệt đề nghị; hoặc loại bản ghi này, rồi duyệt đề nghị: bản ghi bị loại được đánh dấu đã xử lý theo đề nghị (không tính là tiền cán bộ còn giữ)"),
            format!("the officer asked to reverse this record (batch synced at {at}, id …{tail}): approved, it posts here and is reversed when the request is approved; or exclude it, then approve the request: the record left out is marked settled as asked (not counted as cash the officer holds)"),
        ));
    }
    if let Some((target, (batch, at))) = r
        .target_client_id
        .filter(|_| undecided && r.kind == "reversal_request")
        .and_then(|t| ctx.original_waiting.get(&t).map(|w| (t, w)))
        .filter(|(_, (b, _))| *b != r.batch_id)
    {
        let id = batch.simple().to_string();
        let (at, tail) = (format_datetime(*at), &id[id.len() - 6..]);
        if ctx.original_blocked.contains(&target) {
            out.push(anomaly(
                "original_waiting",
                format!("Bản ghi gốc đang chờ duyệt ở lô khác (lô đồng bộ lúc {at}, mã …{tail}), và lô đó chờ việc hủy một bản ghi của nó trong chính lô này: mở lô đó, loại bản ghi bị hủy rồi duyệt lô đó trước; sau đó duyệt lô này"),
                format!("the original record waits for review in another batch (synced at {at}, id …{tail}), which waits for this very batch's void of one of its records: open that batch, exclude the voided record and approve it first; then approve this one"),
            ));
        } else {
            out.push(anomaly(
            "original_waiting",
            format!("Bản ghi gốc đang chờ duyệt ở lô khác (lô đồng bộ lúc {at}, mã …{tail}): duyệt lô đó trước thì đề nghị này mới ghi sổ được, và tiền phải nộp của lô này mới trừ khoản đảo; hoặc loại đề nghị này"),
            format!("the original record waits for review in another batch (synced at {at}, id …{tail}): approve that batch first, then this request can post and this batch's cash nets the reversal; or exclude this request"),
        ));
        }
    }
    if let Some(RecordBody::GiftHandout(g)) = body.as_ref().map(|b| &b.body).filter(|_| undecided) {
        let others: Vec<bool> = ctx
            .refused_gifts
            .get(&(g.campaign_id, g.worker_id))
            .into_iter()
            .flatten()
            .filter(|g| g.client_id != r.client_id)
            // Refused at upload as a second gift after this one came: it
            // was refused for this one (or one before), and says nothing
            // of whether this one was the first.
            // (Settled since as handed out for real, it is the worker's
            // gift all the same: approval refuses this one.)
            .filter(|g| g.handed_out || g.second_at.is_none_or(|t| t < r.received_at))
            .map(|g| g.handed_out)
            .collect();
        if others.contains(&true) {
            out.push(anomaly(
                "refused_gift_same_worker",
                "Người lao động đã nhận một suất quà của chương trình này (bản ghi bị từ chối, đã xác nhận \"Đã trao thật\"): mỗi người một suất — hãy loại bản ghi này".into(),
                "the worker already received a gift of this campaign (a refused record settled as handed out for real): one gift each — exclude this record".into(),
            ));
        } else if !others.is_empty() {
            out.push(anomaly(
                "refused_gift_same_worker",
                "Người lao động đã có một suất quà của chương trình này bị từ chối hoặc bị giữ lại mà chưa xử lý: hỏi xem họ đã nhận quà đó chưa (đã nhận thật thì đánh dấu \"Đã trao thật\" và loại bản ghi này)".into(),
                "the worker has a gift of this campaign that was refused or held in quarantine and not settled yet: ask whether they received it (if so, settle it as handed out for real and exclude this record)".into(),
            ));
        }
    }
    if let (Some(rank), Some(quota)) = (r.gift_rank, r.gift_quota) {
        let margin = (quota / 10).max(1);
        if quota > 0 && rank > quota - margin {
            out.push(anomaly(
                "allocation_nearly_used",
                format!("Suất quà thứ {rank} trên {quota} suất được phân bổ"),
                format!("gift {rank} of an allocation of {quota}"),
            ));
        }
    }
    out
}

fn status_of(head: &BatchHeadRow) -> BatchStatus {
    match head.decision.as_deref() {
        Some("approved") => BatchStatus::Approved,
        Some(_) => BatchStatus::Rejected,
        None if head.reviewable => BatchStatus::Pending,
        None => BatchStatus::Refused,
    }
}

fn summary(head: BatchHeadRow, records: &[&ReviewRecordRow], ctx: &AnomalyContext) -> BatchSummary {
    let mut counts = KindCounts::default();
    let (mut cash, mut taken_back) = (0, 0);
    let mut flagged = 0;
    let mut codes: Vec<&'static str> = Vec::new();
    for r in records {
        match r.kind.as_str() {
            "visit" => counts.visits += 1,
            "repayment" => counts.repayments += 1,
            "gift_handout" => counts.gift_handouts += 1,
            "void" => counts.voids += 1,
            _ => counts.reversal_requests += 1,
        }
        // Cash the branch takes in: repayments waiting or approved, not
        // voided (an excluded one is not handed over); of a rejected batch,
        // the cash its repayments took, which the officer still holds.
        let live = match r.decision.as_deref() {
            None | Some("approved") => true,
            Some("rejected") => head.decision.as_deref() == Some("rejected"),
            Some(_) => false,
        };
        if r.kind == "repayment" && r.status == "accepted" && !r.voided && live {
            cash += r.amount.unwrap_or(0);
        }
        // An officer's reversal of a repayment she collected is netted
        // against the batch's cash (see `approve_batch`): she keeps it
        // back; more than the batch collects is the branch's to give her.
        taken_back += r.takes_back().unwrap_or(0);
        for a in anomalies(r, ctx) {
            flagged += 1;
            if !codes.contains(&a.code) {
                codes.push(a.code);
            }
        }
    }
    cash -= taken_back;
    let decision = head.decision.clone().map(|d| DecisionView {
        decision: d.clone(),
        reviewer: head.reviewer_name.clone(),
        reason: head.reason.clone(),
        cash_expected: (d == "approved").then(|| head.cash_expected.unwrap_or(0).to_string()),
        cash_received: (d == "approved").then(|| head.cash_received.unwrap_or(0).to_string()),
        discrepancy: (d == "approved").then(|| {
            (head.cash_received.unwrap_or(0) - head.cash_expected.unwrap_or(0)).to_string()
        }),
        decided_at: head.decided_at,
    });
    BatchSummary {
        status: status_of(&head),
        batch_id: head.batch_id,
        officer_id: head.officer_id,
        officer_name: head.officer_name,
        branch_id: head.branch_id,
        branch_name: head.branch_name,
        device_id: head.device_id,
        device_name: head.device_name,
        device_code: head.device_code,
        first_recorded_at: records.iter().map(|r| r.recorded_at).min(),
        last_recorded_at: records.iter().map(|r| r.recorded_at).max(),
        synced_at: head.received_at,
        records: records.len() as i64,
        counts,
        cash_collected: cash,
        cash_taken_back: taken_back,
        cash_held: records.iter().map(|r| r.cash_held()).sum(),
        anomalies: flagged,
        anomaly_codes: codes.into_iter().map(str::to_string).collect(),
        decision,
    }
}

pub fn summaries(
    heads: Vec<BatchHeadRow>,
    records: &[ReviewRecordRow],
    ctx: &AnomalyContext,
) -> Vec<BatchSummary> {
    heads
        .into_iter()
        .map(|h| {
            let mine: Vec<&ReviewRecordRow> = records
                .iter()
                .filter(|r| r.batch_id == h.batch_id)
                .collect();
            summary(h, &mine, ctx)
        })
        .collect()
}

/// The gift handout an uploaded record's JSON holds, if it is one.
pub fn gift_payload(body: &str) -> Option<sotay_core::wire::GiftHandoutPayload> {
    match serde_json::from_str::<sotay_core::wire::UploadRecord>(body)
        .ok()?
        .body
    {
        sotay_core::wire::RecordBody::GiftHandout(g) => Some(g),
        _ => None,
    }
}

pub fn detail(
    head: BatchHeadRow,
    records: &[ReviewRecordRow],
    refused: &[RefusedRow],
    names: &RefusedNames,
    ctx: &AnomalyContext,
) -> BatchDetail {
    let refused_at_upload: Vec<RefusedRecord> =
        refused.iter().map(|r| refused_record(r, names)).collect();
    // The cash the officer still holds: refused repayments not settled yet.
    let refused_cash = refused
        .iter()
        .filter(|r| r.settled_note.is_none())
        .filter_map(RefusedRow::cash)
        .sum();
    let mine: Vec<&ReviewRecordRow> = records.iter().collect();
    let summary = summary(head, &mine, ctx);
    let records = records
        .iter()
        .map(|r| ReviewRecord {
            record_id: r.client_id,
            kind: r.kind.clone(),
            recorded_at: r.recorded_at,
            upload_status: r.status.clone(),
            worker_id: r.worker_id,
            worker_name: r.worker_name.clone(),
            loan_id: r.loan_id,
            loan_code: r.loan_code.clone(),
            campaign_name: r.campaign_name.clone(),
            campaign_kind: r.campaign_kind.clone(),
            gift_value: r.gift_value.map(|v| v.to_string()),
            amount: r.amount.map(|a| a.to_string()),
            receipt_no: r.receipt_no.clone(),
            target_record_id: r.target_client_id,
            target: r.target_kind.as_ref().map(|kind| TargetRecord {
                kind: kind.clone(),
                campaign_kind: r.target_campaign_kind.clone(),
                receipt_no: r.target_receipt.clone(),
                amount: r.target_amount.map(|a| a.to_string()),
            }),
            cash_taken_back: r.takes_back().map(|a| a.to_string()),
            voided: r.voided,
            void_waiting_in: r.void_waiting_in,
            anomalies: anomalies(r, ctx),
            decision: r.decision.clone(),
            decision_reason: r.decision_reason.clone(),
            entry_id: r.entry_id,
            reversed_by_entry: r.reversed_by,
            payload: serde_json::from_str::<serde_json::Value>(&r.body)
                .ok()
                .and_then(|v| v.get("payload").cloned())
                .unwrap_or(serde_json::Value::Null),
            signature: r.signature_sha256.as_ref().map(|_| {
                if r.signature_received {
                    "received"
                } else {
                    "waiting"
                }
            }),
            settled: r.settled_note.as_ref().map(|note| RefusedSettlement {
                record_id: r.client_id,
                note: note.clone(),
                settled_by: r.settled_by.clone().unwrap_or_default(),
                settled_at: r.settled_at.unwrap_or(r.received_at),
                entry_id: r.settled_entry,
            }),
        })
        .collect();
    BatchDetail {
        summary,
        records,
        refused_at_upload,
        refused_cash,
    }
}

/// Metres as tenths of a kilometre, grouped as people write them:
/// `1.133,8 km` in Vietnamese, `1,133.8 km` in English.
fn kilometres(metres: f64) -> (String, String) {
    let tenths = (metres / 100.0).round() as i64;
    let grouped = sotay_core::domain::money::group_thousands(tenths / 10);
    let tenth = tenths % 10;
    (
        format!("{grouped},{tenth} km"),
        format!("{}.{tenth} km", grouped.replace('.', ",")),
    )
}

pub fn refused_record(r: &RefusedRow, names: &RefusedNames) -> RefusedRecord {
    let body = serde_json::from_str::<UploadRecord>(&r.body)
        .map(|u| u.body)
        .ok();
    let (worker, loan, campaign) = match &body {
        Some(RecordBody::Repayment(p)) => (Some(p.worker_id), Some(p.loan_id), None),
        Some(RecordBody::GiftHandout(g)) => (Some(g.worker_id), None, Some(g.campaign_id)),
        Some(RecordBody::Visit(v)) => (Some(v.worker_id), None, None),
        _ => (None, None, None),
    };
    let worker = worker.and_then(|w| names.workers.get(&w));
    let loan = loan.and_then(|l| names.loans.get(&l));
    let repayment = match body {
        Some(RecordBody::Repayment(p)) => Some(p),
        _ => None,
    };
    let taken_at_counter = match (&repayment, loan, &r.settled_note) {
        (Some(p), Some((loan, _)), None) => names
            .counter_notes
            .get(loan)
            .into_iter()
            .flatten()
            .find(|(_, note)| crate::db::note_names_receipt(note, &p.receipt_no))
            .map(|(k, _)| k.clone()),
        _ => None,
    };
    RefusedRecord {
        record_id: r.client_id,
        kind: r.kind.clone(),
        recorded_at: r.recorded_at,
        worker_id: worker.map(|w| w.0),
        worker_name: worker.map(|w| w.1.clone()),
        loan_id: loan.map(|l| l.0),
        loan_code: loan.map(|l| l.1.clone()),
        campaign_name: campaign
            .and_then(|k| names.campaigns.get(&k))
            .map(|k| k.0.clone()),
        campaign_kind: campaign
            .and_then(|k| names.campaigns.get(&k))
            .map(|k| k.1.clone()),
        amount: repayment.as_ref().map(|p| p.amount.0.to_string()),
        receipt_no: repayment.map(|p| p.receipt_no),
        code: r.code.clone().unwrap_or_default(),
        message_vi: r.message_vi.clone().unwrap_or_default(),
        message_en: r.message_en.clone().unwrap_or_default(),
        settled: match (&r.settled_note, r.settled_at) {
            (Some(note), Some(at)) => Some(RefusedSettlement {
                record_id: r.client_id,
                note: note.clone(),
                settled_by: r.settled_by.clone().unwrap_or_default(),
                settled_at: at,
                entry_id: r.settled_entry,
            }),
            _ => None,
        },
        taken_at_counter,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kilometres_as_people_write_them() {
        assert_eq!(
            kilometres(1_133_812.0),
            ("1.133,8 km".into(), "1,133.8 km".into())
        );
        assert_eq!(kilometres(2_049.0), ("2,0 km".into(), "2.0 km".into()));
        assert_eq!(kilometres(950.0), ("1,0 km".into(), "1.0 km".into()));
    }

    #[test]
    fn distance_between_two_gates_of_linh_trung() {
        let d = distance_m((10.8700, 106.7750), (10.8790, 106.7750));
        assert!((d - 1_000.0).abs() < 10.0, "{d}");
    }
}
