// Supervisor review, posting to the ledger, counter repayments, reversals and
// the audit log's reads. Included into each backend module (see `mod.rs`).
//
// Every writer here first takes the `sync_counter` row (as uploads do), so
// decisions, postings and uploads are serialised: a batch is decided once,
// a record posts once, and upload checks see the books as they are.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sotay_core::domain::money::format_vnd;
use sotay_core::domain::rules::{self, LoanStatus, RuleViolation};

use crate::db::review_types as rv;
use crate::db::Refusal;
use crate::ledger::{self, Account, At, EntryKind, Lines};
use sotay_core::domain::schedule::{apply_allocation, outstanding, InstallmentState};

fn refused(status: u16, code: &'static str, vi: String, en: String) -> DbError {
    DbError::Refused(Box::new(Refusal { status, code, vi, en, records: Vec::new() }))
}



/// Batch `b` has records to decide: accepted ones. A batch of a revoked
/// phone (every record held in quarantine) has none, as one whose every
/// record was refused: its cash and packages are settled one by one on the
/// list of refused records, never counted with a batch (they would be
/// booked twice).
macro_rules! reviewable_sql {
    () => {
        "EXISTS (SELECT 1 FROM sync_records s WHERE s.batch_id = b.batch_id AND s.status = 'accepted')"
    };
}

const BATCH_HEAD: &str = concat!(
    "SELECT b.batch_id, b.officer_id, u.full_name AS officer_name, b.branch_id, br.name AS branch_name,
        b.device_id, d.name AS device_name, d.code AS device_code, b.received_at,
        r.decision, ru.full_name AS reviewer_name, r.reason, r.cash_expected, r.cash_received, r.decided_at, ",
    reviewable_sql!(),
    " AS reviewable
    FROM sync_batches b JOIN users u ON u.id = b.officer_id LEFT JOIN branches br ON br.id = b.branch_id
        JOIN devices d ON d.id = b.device_id
        LEFT JOIN batch_reviews r ON r.batch_id = b.batch_id LEFT JOIN users ru ON ru.id = r.reviewer_id"
);

const REVIEWABLE: &str = reviewable_sql!();

/// Batches of a status (all of them for `None`, those whose every record
/// was refused at upload too), newest decisions first or, for the queue,
/// oldest upload first.
pub async fn review_batches(
    c: &mut Conn,
    branch: Option<i64>,
    status: Option<rv::BatchStatus>,
    limit: i64,
    offset: i64,
) -> DbResult<Vec<rv::BatchHeadRow>> {
    let (filter, order) = status_filter(status);
    let (kind, id) = match branch {
        None => (0, 0),
        Some(b) => (1, b),
    };
    let sql = format!(
        "{BATCH_HEAD} WHERE {filter} AND ($1 = 0 OR b.branch_id = $2) ORDER BY {order}, b.batch_id LIMIT $3 OFFSET $4"
    );
    Ok(sqlx::query_as(&sql).bind(kind).bind(id).bind(limit).bind(offset).fetch_all(&mut *c).await?)
}

/// The condition on a batch (`b`) and its decision (`r`) of a status, and
/// the order its list is in.
fn status_filter(status: Option<rv::BatchStatus>) -> (String, &'static str) {
    match status {
        None => ("1 = 1".into(), "b.received_at DESC"),
        Some(rv::BatchStatus::Pending) => (format!("{REVIEWABLE} AND r.batch_id IS NULL"), "b.received_at"),
        Some(rv::BatchStatus::Approved) => ("r.decision = 'approved'".into(), "r.decided_at DESC"),
        Some(rv::BatchStatus::Rejected) => ("r.decision = 'rejected'".into(), "r.decided_at DESC"),
        Some(rv::BatchStatus::Refused) => (format!("NOT {REVIEWABLE}"), "b.received_at DESC"),
    }
}

/// How many batches of a status a branch (or the fund) has: the length of
/// [`review_batches`]' whole list.
pub async fn review_batch_count(c: &mut Conn, branch: Option<i64>, status: Option<rv::BatchStatus>) -> DbResult<i64> {
    let (filter, _) = status_filter(status);
    let (kind, id) = match branch {
        None => (0, 0),
        Some(b) => (1, b),
    };
    let sql = format!(
        "SELECT COUNT(*) FROM sync_batches b LEFT JOIN batch_reviews r ON r.batch_id = b.batch_id
         WHERE {filter} AND ($1 = 0 OR b.branch_id = $2)"
    );
    Ok(sqlx::query_scalar(&sql).bind(kind).bind(id).fetch_one(&mut *c).await?)
}

/// How many batches wait for a decision in a branch (or the fund).
pub async fn pending_batch_count(c: &mut Conn, branch: Option<i64>) -> DbResult<i64> {
    let (kind, id) = match branch {
        None => (0, 0),
        Some(b) => (1, b),
    };
    let sql = format!(
        "SELECT COUNT(*) FROM sync_batches b
         WHERE {REVIEWABLE} AND ($1 = 0 OR b.branch_id = $2)
           AND NOT EXISTS (SELECT 1 FROM batch_reviews r WHERE r.batch_id = b.batch_id)"
    );
    Ok(sqlx::query_scalar(&sql).bind(kind).bind(id).fetch_one(&mut *c).await?)
}

/// A batch's head, whether or not it has anything to decide (one whose
/// every record was refused at upload has a page too).
pub async fn review_batch_head(c: &mut Conn, batch_id: uuid::Uuid) -> DbResult<Option<rv::BatchHeadRow>> {
    let sql = format!("{BATCH_HEAD} WHERE b.batch_id = $1");
    Ok(sqlx::query_as(&sql).bind(batch_id).fetch_optional(&mut *c).await?)
}

/// The head of a batch to decide: 409 when every record of it was refused
/// at upload (nothing to approve or reject).
async fn batch_to_decide(c: &mut Conn, who: &rv::Reviewer, batch_id: uuid::Uuid) -> DbResult<rv::BatchHeadRow> {
    let head = review_batch_head(c, batch_id).await?.ok_or(DbError::NotFound)?;
    may_decide(who, &head)?;
    if !head.reviewable {
        return Err(refused(
            409,
            "batch_nothing_to_review",
            "Mọi bản ghi của lô này đã bị từ chối khi tải lên (hoặc giữ lại vì điện thoại đã bị thu hồi): không có gì để duyệt hay từ chối; tiền và quà của chúng ở danh sách khoản bị từ chối chưa xử lý".into(),
            "every record of this batch was refused at upload (or held because the phone was revoked): there is nothing to approve or reject; their cash and packages are on the list of refused records not settled".into(),
        ));
    }
    Ok(head)
}

/// The records of a batch the server refused at upload, and the repayments
/// and gifts it kept in quarantine (from a revoked device): neither reaches
/// the books, and their cash or package is still out there.
pub async fn review_refused(c: &mut Conn, batch_id: uuid::Uuid) -> DbResult<Vec<rv::RefusedRow>> {
    Ok(sqlx::query_as(concat!(
        "SELECT s.client_id, s.kind, s.recorded_at, s.body, s.code, s.message_vi, s.message_en,
                x.note AS settled_note, u.full_name AS settled_by, x.settled_at, x.entry_id AS settled_entry
         FROM sync_records s LEFT JOIN refused_settlements x ON x.record_id = s.id
             LEFT JOIN users u ON u.id = x.settled_by
         WHERE s.batch_id = $1
           AND (s.status = 'rejected' OR (s.status = 'quarantined' AND s.kind IN ('repayment', 'gift_handout')))
           AND NOT ",
        voided_in_quarantine_sql!(),
        " ORDER BY s.id"
    ))
    .bind(batch_id)
    .fetch_all(&mut *c)
    .await?)
}

/// The repayments and gifts refused at upload (or kept in quarantine) since
/// `since`, in a branch (or all), newest first, at most `limit`: cash taken
/// and packages handed out that did not reach the books.
pub async fn refused_handovers(
    c: &mut Conn,
    branch: Option<i64>,
    since: DateTime<Utc>,
    limit: i64,
) -> DbResult<Vec<rv::RefusedHandoverRow>> {
    refused_handovers_of(c, branch, since, limit, None).await
}

/// The refused repayments on one loan (by its id, or its uid in the body:
/// a record refused at upload before its loan was known names it there
/// only), not settled, as [`refused_handovers`] lists them.
pub async fn refused_on_loan(c: &mut Conn, branch: Option<i64>, loan: i64) -> DbResult<Vec<rv::RefusedHandoverRow>> {
    let uid: Option<uuid::Uuid> =
        sqlx::query_scalar("SELECT uid FROM loans WHERE id = $1").bind(loan).fetch_optional(&mut *c).await?;
    match uid {
        Some(uid) => refused_handovers_of(c, branch, DateTime::UNIX_EPOCH, 100, Some((loan, uid))).await,
        None => Ok(Vec::new()),
    }
}

async fn refused_handovers_of(
    c: &mut Conn,
    branch: Option<i64>,
    since: DateTime<Utc>,
    limit: i64,
    loan: Option<(i64, uuid::Uuid)>,
) -> DbResult<Vec<rv::RefusedHandoverRow>> {
    let (kind, id) = match branch {
        None => (0, 0),
        Some(b) => (1, b),
    };
    // Refused at upload or held in quarantine, or rejected or left out at
    // review (the message is then the supervisor's reason) and not voided
    // by the officer (no cash was taken).
    Ok(sqlx::query_as(concat!(
        "SELECT s.batch_id, u.full_name AS officer_name, s.received_at, s.client_id, s.kind, s.recorded_at,
                s.body, COALESCE(s.code, CASE WHEN hr.decision = 'rejected' THEN 'batch_rejected' ELSE 'excluded' END) AS code,
                COALESCE(s.message_vi, CASE WHEN hr.decision = 'rejected' THEN 'Giám sát từ chối cả lô: ' ELSE 'Giám sát loại khỏi lô khi duyệt: ' END || hr.reason) AS message_vi,
                COALESCE(s.message_en, CASE WHEN hr.decision = 'rejected' THEN 'the supervisor rejected the batch: ' ELSE 'the supervisor left it out at review: ' END || hr.reason) AS message_en,
                CAST(NULL AS TEXT) AS settled_note, CAST(NULL AS TEXT) AS settled_by, CAST(NULL AS TIMESTAMPTZ) AS settled_at,
                CAST(NULL AS BIGINT) AS settled_entry
         FROM sync_records s JOIN users u ON u.id = s.officer_id JOIN sync_batches sb ON sb.batch_id = s.batch_id
             LEFT JOIN record_reviews hr ON hr.record_id = s.id AND hr.decision IN ('rejected', 'excluded')
         WHERE s.id IN (SELECT r.id FROM sync_records r WHERE r.status = 'rejected' AND r.received_at >= $3
                        UNION SELECT r.id FROM sync_records r WHERE r.status = 'quarantined' AND r.received_at >= $3
                        UNION SELECT hr2.record_id FROM record_reviews hr2 WHERE hr2.decision IN ('rejected', 'excluded'))
           AND s.received_at >= $3 AND s.kind IN ('repayment', 'gift_handout')
           AND (s.status IN ('rejected', 'quarantined') OR ",
        held_at_review_sql!(),
        ")
           AND NOT EXISTS (SELECT 1 FROM refused_settlements x WHERE x.record_id = s.id)
           AND NOT ",
        voided_in_quarantine_sql!(),
        "
           AND ($1 = 0 OR sb.branch_id = $2)
           AND ($5 = 0 OR (s.kind = 'repayment' AND (s.loan_id = $5 OR (s.loan_id IS NULL AND s.body LIKE $6))))
         ORDER BY s.received_at DESC, s.id DESC LIMIT $4",
    ))
    .bind(kind)
    .bind(id)
    .bind(since)
    .bind(limit)
    .bind(loan.map_or(0, |(id, _)| id))
    .bind(loan.map_or_else(String::new, |(_, uid)| format!("%{uid}%")))
    .fetch_all(&mut *c)
    .await?)
}

/// Whether a refused record of a batch of `branch` (any for `None`) was
/// settled already: by whom, when, and how.
pub async fn refused_settled(
    c: &mut Conn,
    record: uuid::Uuid,
    branch: Option<i64>,
) -> DbResult<Option<(String, DateTime<Utc>, String)>> {
    let (all, id) = branch.map_or((1, 0), |b| (0, b));
    Ok(sqlx::query_as(
        "SELECT u.full_name, x.settled_at, x.note FROM refused_settlements x JOIN users u ON u.id = x.settled_by
             JOIN sync_records s ON s.id = x.record_id JOIN sync_batches o ON o.batch_id = s.batch_id
         WHERE s.client_id = $1 AND ($2 = 1 OR o.branch_id = $3)",
    )
    .bind(record)
    .bind(all)
    .bind(id)
    .fetch_optional(&mut *c)
    .await?)
}

/// The receipt number of an officer's repayment `record` of a batch of the
/// branch (or any, for `None`), as its phone sent it.
pub async fn refused_receipt_no(c: &mut Conn, record: uuid::Uuid, branch: Option<i64>) -> DbResult<Option<String>> {
    let (all, id) = branch.map_or((1, 0), |b| (0, b));
    let body: Option<String> = sqlx::query_scalar(
        "SELECT s.body FROM sync_records s JOIN sync_batches o ON o.batch_id = s.batch_id
         WHERE s.client_id = $1 AND s.kind = 'repayment' AND ($2 = 1 OR o.branch_id = $3)",
    )
    .bind(record)
    .bind(all)
    .bind(id)
    .fetch_optional(&mut *c)
    .await?;
    Ok(body.and_then(|b| match serde_json::from_str::<sotay_core::wire::UploadRecord>(&b).ok()?.body {
        sotay_core::wire::RecordBody::Repayment(p) => Some(p.receipt_no),
        _ => None,
    }))
}

/// Marks the cash or package of a record refused at upload as settled
/// outside the books, with what was done: once, by a supervisor of the
/// batch's branch or an admin, audited. `stock_out`: a gift handed out for
/// real; a package comes off the branch's stock, a welfare grant out of its
/// vault (a campaign expense), as the approval of its record would have done.
pub async fn settle_refused(
    c: &mut Conn,
    who: &rv::Reviewer,
    record: uuid::Uuid,
    note: &str,
    stock_out: bool,
    now: DateTime<Utc>,
) -> DbResult<rv::RefusedSettlement> {
    let now = take_write_lock(c, now).await?;
    // Id, kind, upload status, the officer's branch, settled already,
    // held at review (rejected or left out, not voided by the officer).
    type Found = (i64, String, String, Option<i64>, Option<i64>, bool);
    let row: Option<Found> = sqlx::query_as(concat!(
        "SELECT s.id, s.kind, s.status, sb.branch_id, x.record_id, ",
        held_at_review_sql!(),
        "
         FROM sync_records s JOIN sync_batches sb ON sb.batch_id = s.batch_id
             LEFT JOIN refused_settlements x ON x.record_id = s.id
         WHERE s.client_id = $1",
    ))
    .bind(record)
    .fetch_optional(&mut *c)
    .await?;
    let Some((id, kind, status, branch, settled, held_at_review)) = row.filter(|r| who.covers(r.3)) else {
        return Err(DbError::NotFound);
    };
    let refused_at_upload = matches!(status.as_str(), "rejected" | "quarantined");
    if !(refused_at_upload || held_at_review) || !matches!(kind.as_str(), "repayment" | "gift_handout") {
        return Err(refused(
            422,
            "not_refused_handover",
            "Chỉ đánh dấu được khoản thu hoặc suất quà bị từ chối (khi tải lên hoặc khi duyệt)".into(),
            "only a repayment or gift refused (at upload or at review) can be marked settled".into(),
        ));
    }
    if settled.is_some() {
        let (by, at): (String, DateTime<Utc>) = sqlx::query_as(
            "SELECT u.full_name, x.settled_at FROM refused_settlements x JOIN users u ON u.id = x.settled_by
             WHERE x.record_id = $1",
        )
        .bind(id)
        .fetch_one(&mut *c)
        .await?;
        let when = sotay_core::domain::time::format_datetime(at);
        return Err(refused(
            409,
            "already_settled",
            format!("{by} đã đánh dấu bản ghi này đã xử lý lúc {when}"),
            format!("{by} marked this record settled at {when}"),
        ));
    }
    let entry_id = match (stock_out, branch) {
        (false, _) => None,
        (true, Some(branch_id)) if kind == "gift_handout" => stock_out_entry(c, who, id, branch_id, note, now).await?,
        (true, _) => {
            return Err(refused(
                422,
                "not_a_gift_package",
                "Chỉ ghi giảm kho được cho một suất quà".into(),
                "only a gift package can be taken off the stock".into(),
            ))
        }
    };
    // A package handed out for real is the worker's gift of the campaign,
    // unless the worker has one already (a second package, given by
    // another phone): that one only comes off the stock.
    let counts = stock_out && !has_gift_already(c, id).await?;
    sqlx::query(
        "INSERT INTO refused_settlements (record_id, note, settled_by, settled_at, entry_id, handed_out)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(note)
    .bind(who.user_id)
    .bind(now)
    .bind(entry_id)
    .bind(counts)
    .execute(&mut *c)
    .await?;
    // The officer's phones learn it: the cash or package is dealt with; a
    // package handed out counts as the worker's gift and in her allocation.
    let (officer, campaign, status): (i64, Option<i64>, String) =
        sqlx::query_as("SELECT officer_id, campaign_id, status FROM sync_records WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *c)
            .await?;
    let mut feed = vec![(officer, "record", id)];
    // A gift kept in quarantine held them until now, either way.
    feed.extend(campaign.filter(|_| counts || status == "quarantined").map(|k| (officer, "campaign", k)));
    if counts || status == "quarantined" {
        feed.extend(moved_workers_changes(c, &[id]).await?);
    }
    append_changes(c, &feed).await?;
    let detail = serde_json::json!({ "kind": kind, "note": note, "entry": entry_id, "counted_as_gift": counts });
    audit_append(c, &who.audit("refused.settle", "sync_record", record.to_string(), detail), now).await?;
    let by: String = sqlx::query_scalar("SELECT full_name FROM users WHERE id = $1")
        .bind(who.user_id)
        .fetch_one(&mut *c)
        .await?;
    Ok(rv::RefusedSettlement { record_id: record, note: note.to_string(), settled_by: by, settled_at: now, entry_id })
}

/// A counter repayment whose note names an officer's refused receipt on
/// the loan whose cash is in the vault already (settled as entered again
/// in an approved batch, or taken at the counter): refused, the same cash
/// would be taken twice. (One given back to the borrower may be paid again.)
async fn in_vault_already(c: &mut Conn, loan_id: i64, note: &str) -> DbResult<()> {
    // One refused at upload may keep no loan in its columns (a loan not in
    // the officer's portfolio): its body says it.
    let settled: Vec<(String, String)> = sqlx::query_as(
        "SELECT s.body, x.note FROM sync_records s JOIN refused_settlements x ON x.record_id = s.id
         WHERE s.kind = 'repayment' AND (s.loan_id = $1 OR s.loan_id IS NULL)",
    )
    .bind(loan_id)
    .fetch_all(&mut *c)
    .await?;
    let uid: Option<uuid::Uuid> = sqlx::query_scalar("SELECT uid FROM loans WHERE id = $1")
        .bind(loan_id)
        .fetch_optional(&mut *c)
        .await?;
    for (body, how) in settled {
        let Some(receipt) = serde_json::from_str::<sotay_core::wire::UploadRecord>(&body).ok().and_then(|u| match u.body {
            sotay_core::wire::RecordBody::Repayment(p) if Some(p.loan_id) == uid => Some(p.receipt_no),
            _ => None,
        }) else {
            continue;
        };
        if !rv::note_names_receipt(note, &receipt) {
            continue;
        }
        // A payment entered again and left out as the same cash as its
        // refused original: that cash is the original's, named so.
        if let Some(original) = rv::after_words(&how, rv::SAME_AS).map(str::trim) {
            return Err(refused(
                409,
                "names_entered_again",
                format!("Phiếu {receipt} là phiếu {original} ghi lại, đã đánh dấu là trùng: tiền là của phiếu {original}. Hãy ghi số phiếu {original} vào ghi chú (hoặc dùng “Nộp tiền này tại quầy…” của phiếu {original} ở danh sách khoản bị từ chối)"),
                format!("receipt {receipt} is receipt {original} entered again, marked as the same cash: the cash is receipt {original}'s. Put receipt {original} in the note (or use “Take this cash at the counter…” of receipt {original} on the list of refused records)"),
            ));
        }
        if rv::settled_into_vault(&how) {
            return Err(refused(
                409,
                "refused_in_vault_already",
                format!("Phiếu {receipt} của cán bộ đã được xử lý, tiền của nó đã vào quỹ ({how}): đừng thu lại. Nếu người vay trả thêm một khoản khác, đừng ghi số phiếu {receipt} vào ghi chú"),
                format!("the officer's receipt {receipt} was settled, its cash is in the vault already ({how}): do not take it again. If the borrower pays another sum, do not put receipt {receipt} in the note"),
            ));
        }
    }
    Ok(())
}

/// A counter repayment of `amount` whose note names an officer's refused
/// receipt on the loan whose cash counter receipts standing took already,
/// their notes naming it: refused when the receipt was settled since
/// (in whatever words: those receipts are its cash), or when this one
/// would take more than the officer took (handed in in parts, the rest may
/// follow). Whether the note names a refused receipt not settled, whose
/// cash this is.
async fn taken_at_counter_already(c: &mut Conn, loan_id: i64, note: &str, amount: i64) -> DbResult<bool> {
    let named: Vec<(String, i64, bool)> = refused_receipts_on_loan(c, loan_id)
        .await?
        .into_iter()
        .filter(|(receipt, ..)| rv::note_names_receipt(note, receipt))
        .collect();
    if named.is_empty() {
        return Ok(false);
    }
    let counters = standing_counters(c, loan_id).await?;
    let mut refused_cash = false;
    for (receipt, held, settled) in named {
        let taking: Vec<&StandingCounter> = counters.iter().filter(|k| rv::note_names_receipt(&k.note, &receipt)).collect();
        let taken: i64 = taking.iter().map(|k| k.amount).sum();
        if taking.is_empty() || (!settled && taken + amount <= held) {
            refused_cash |= !settled;
            continue;
        }
        let receipts = taking.iter().map(|k| k.receipt.as_str()).collect::<Vec<_>>().join(", ");
        let (taken_s, held_s) = (format_vnd(taken), format_vnd(held));
        let (vi, en) = if settled || taken >= held {
            (
                format!("Đừng thu lại; giám sát đánh dấu phiếu {receipt} đã xử lý (Thu tại quầy, phiếu {}). Nếu người vay trả thêm một khoản khác, đừng ghi số phiếu {receipt} vào ghi chú", taking[0].receipt),
                format!("Do not take it again; the supervisor marks receipt {receipt} settled (taken at the counter, receipt {}). If the borrower pays another sum, do not put receipt {receipt} in the note", taking[0].receipt),
            )
        } else {
            let left = format_vnd(held - taken);
            (
                format!("Cán bộ chỉ còn nộp {left} của phiếu đó"),
                format!("the officer has only {left} of that receipt left to hand in"),
            )
        };
        return Err(refused(
            409,
            "taken_at_counter_already",
            format!("Tiền của phiếu {receipt} bị từ chối ({held_s}) đã được thu tại quầy {taken_s}: phiếu {receipts} ghi số phiếu đó. {vi}"),
            format!("the cash of refused receipt {receipt} ({held_s}) was taken at the counter already, {taken_s}: receipt {receipts} names it. {en}"),
        ));
    }
    Ok(refused_cash)
}

/// The officer's refused repayments on a loan (refused at upload, held in
/// quarantine, or rejected or left out at review), settled or not: each
/// one's receipt number, the cash it took, and whether it was settled. One
/// refused at upload may keep no loan in its columns (a loan not in the
/// officer's portfolio): its body says it.
async fn refused_receipts_on_loan(c: &mut Conn, loan_id: i64) -> DbResult<Vec<(String, i64, bool)>> {
    let uid: Option<uuid::Uuid> =
        sqlx::query_scalar("SELECT uid FROM loans WHERE id = $1").bind(loan_id).fetch_optional(&mut *c).await?;
    let Some(uid) = uid else { return Ok(Vec::new()) };
    let rows: Vec<(String, bool)> = sqlx::query_as(concat!(
        "SELECT s.body, EXISTS (SELECT 1 FROM refused_settlements x WHERE x.record_id = s.id) FROM sync_records s
         WHERE s.kind = 'repayment' AND (s.loan_id = $1 OR (s.loan_id IS NULL AND s.body LIKE $2))
           AND (s.status IN ('rejected', 'quarantined') OR ",
        held_at_review_sql!(),
        ")",
    ))
    .bind(loan_id)
    .bind(format!("%{uid}%"))
    .fetch_all(&mut *c)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(body, settled)| match serde_json::from_str::<sotay_core::wire::UploadRecord>(&body).ok()?.body {
            sotay_core::wire::RecordBody::Repayment(p) if p.loan_id == uid => Some((p.receipt_no, p.amount.get(), settled)),
            _ => None,
        })
        .collect())
}

/// The receipt entry `entry_id` posted, as a reversal's memo names it
/// (` (phiếu QUAY-CN-TD-000013)`): a counter receipt's or an officer's
/// number; empty for an entry of none.
async fn receipt_words(c: &mut Conn, entry_id: i64) -> DbResult<String> {
    let receipt: Option<Option<String>> = sqlx::query_scalar(
        "SELECT COALESCE(k.receipt_no, s.receipt_no) FROM journal_entries e
             LEFT JOIN counter_repayments k ON k.id = e.counter_id LEFT JOIN sync_records s ON s.id = e.record_id
         WHERE e.id = $1",
    )
    .bind(entry_id)
    .fetch_optional(&mut *c)
    .await?;
    Ok(receipt.flatten().filter(|r| !r.is_empty()).map(|r| format!(" (phiếu {r})")).unwrap_or_default())
}

/// Refuses (409 `repeat_unconfirmed`) a cash repayment at the counter of
/// the amount a cash counter receipt standing took on the loan earlier the
/// same day (in Vietnam), whose reversal nobody asked for, naming it: most
/// often the same payment typed twice; one really paid again is taken once
/// its clerk says so. (Transfers are told apart by their references.)
async fn taken_today_already(c: &mut Conn, loan_id: i64, amount: i64, loan_code: &str, now: DateTime<Utc>) -> DbResult<()> {
    let today = sotay_core::domain::time::local_date(now)
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(sotay_core::domain::time::vn_offset()).single())
        .map_or(now, |t| t.with_timezone(&Utc));
    let earlier: Option<(String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT k.receipt_no, k.recorded_at FROM counter_repayments k JOIN journal_entries e ON e.counter_id = k.id
         WHERE k.loan_id = $1 AND k.amount = $2 AND k.recorded_at >= $3 AND k.method = 'cash'
           AND NOT EXISTS (SELECT 1 FROM journal_entries x WHERE x.reverses = e.id)
           AND NOT EXISTS (SELECT 1 FROM branch_reversals br WHERE br.entry_id = e.id
                           AND NOT EXISTS (SELECT 1 FROM branch_reversal_decisions d WHERE d.reversal_id = br.id))
         ORDER BY k.id DESC LIMIT 1",
    )
    .bind(loan_id)
    .bind(amount)
    .bind(today)
    .fetch_optional(&mut *c)
    .await?;
    let Some((receipt, at)) = earlier else { return Ok(()) };
    let at = at.with_timezone(&sotay_core::domain::time::vn_offset()).format("%H:%M");
    let amount = format_vnd(amount);
    Err(refused(
        409,
        "repeat_unconfirmed",
        format!("Khoản vay {loan_code} đã thu {amount} hôm nay lúc {at} (phiếu {receipt}). Nếu đó là khoản này, đừng ghi lại: in lại phiếu {receipt}. Nếu người vay trả thêm lần nữa, đánh dấu “Người vay trả thêm lần nữa” rồi ghi lại"),
        format!("loan {loan_code} already took {amount} today at {at} (receipt {receipt}). If that was this payment, do not take it again: print receipt {receipt} again. If the borrower pays again, tick “The borrower pays again” and take it again"),
    ))
}

/// A counter receipt of a loan, not reversed.
struct StandingCounter {
    entry: i64,
    receipt: String,
    amount: i64,
    note: String,
    taken_at: DateTime<Utc>,
}

/// A loan's counter receipts not reversed, oldest first.
async fn standing_counters(c: &mut Conn, loan_id: i64) -> DbResult<Vec<StandingCounter>> {
    let rows: Vec<(i64, String, i64, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT e.id, k.receipt_no, k.amount, k.note, k.recorded_at FROM counter_repayments k JOIN journal_entries e ON e.counter_id = k.id
         WHERE k.loan_id = $1 AND NOT EXISTS (SELECT 1 FROM journal_entries x WHERE x.reverses = e.id)
         ORDER BY k.id",
    )
    .bind(loan_id)
    .fetch_all(&mut *c)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(entry, receipt, amount, note, taken_at)| StandingCounter { entry, receipt, amount, note, taken_at })
        .collect())
}

/// The first of `counters` whose note names officer's receipt `receipt`,
/// however it was typed (`a7k2 000012`): compared here, the same on both
/// databases and as the loan's page does.
fn counter_naming<'a>(counters: &'a [StandingCounter], receipt: &str) -> Option<&'a StandingCounter> {
    counters.iter().find(|k| rv::note_names_receipt(&k.note, receipt))
}

/// Settles, with the approval of a batch, what its payments entered again
/// make of their refused originals, as the supervisor confirmed: pairs of
/// (the batch's receipt, the refused one), each flagged so by the review.
/// A receipt posting with the approval settles the refused one (its cash
/// comes with the batch); one left out is itself settled, as the same
/// cash (still held as the refused one's, or taken at the counter). The
/// receipt numbers of the records settled.
async fn settle_entered_again(
    c: &mut Conn,
    who: &rv::Reviewer,
    records: &[rv::ReviewRecordRow],
    exclusions: &HashMap<uuid::Uuid, String>,
    answers: &rv::EnteredAgainAnswers,
    now: DateTime<Utc>,
) -> DbResult<Vec<String>> {
    let pairs = &answers.pairs;
    let sent = |body: &str| match serde_json::from_str::<sotay_core::wire::UploadRecord>(body).ok()?.body {
        sotay_core::wire::RecordBody::Repayment(p) => Some((p.loan_id, p.amount.get(), p.receipt_no)),
        _ => None,
    };
    let mut named = std::collections::HashSet::new();
    if !pairs.iter().all(|(a, o)| named.insert(*a) && named.insert(*o)) {
        return Err(refused(
            422,
            "entered_again_twice",
            "Mỗi phiếu của lô chỉ ghi lại được một phiếu bị từ chối, và mỗi phiếu bị từ chối chỉ được ghi lại một lần".into(),
            "each receipt of the batch enters again at most one refused receipt, and each refused receipt is entered again once".into(),
        ));
    }
    // Only what the review flags as such: the same officer's refused receipt
    // of the loan and amount, recorded within the days the flag looks at,
    // its cash still held (or, for one left out, taken at the counter).
    let kept: Vec<&rv::ReviewRecordRow> = records
        .iter()
        .filter(|r| r.kind == "repayment" && r.status == "accepted" && !r.voided && !exclusions.contains_key(&r.client_id))
        .collect();
    let ctx = if pairs.is_empty() && kept.is_empty() {
        rv::AnomalyContext::default()
    } else {
        entered_again_context(c, records).await?
    };
    // A receipt kept whose refused twin's cash the counter took is a second
    // payment only when the reviewer says so: otherwise the same cash would
    // be in the vault twice.
    for r in kept.into_iter().filter(|r| !answers.paid_again.contains(&r.client_id)) {
        let taken = crate::review::anomalies(r, &ctx).into_iter().find(|a| a.counter_receipt.is_some());
        if let Some(a) = taken {
            let receipt = sent(&r.body).map(|(_, _, n)| n).unwrap_or_default();
            let original = a.refused_receipt.unwrap_or_default();
            let counter = a.counter_receipt.unwrap_or_default();
            return Err(refused(
                409,
                "entered_again_unconfirmed",
                format!("Chưa ghi gì: phiếu {receipt} cùng khoản vay, cùng số tiền với phiếu {original} bị từ chối mà tiền đã thu tại quầy ({counter}). Nếu là khoản thu đó ghi lại, hãy loại phiếu {receipt} (tiền đã vào quỹ); nếu người vay trả thêm một lần thật, xác nhận điều đó rồi duyệt"),
                format!("nothing was posted: receipt {receipt} is for the same loan and amount as refused receipt {original}, whose cash was taken at the counter ({counter}). If it is that payment entered again, exclude {receipt} (the cash is in the vault); if the borrower really paid once more, confirm it and approve"),
            ));
        }
    }
    let mut settled = Vec::new();
    for (again, original) in pairs {
        let record = records
            .iter()
            .find(|r| r.client_id == *again && r.kind == "repayment" && r.status == "accepted" && !r.voided);
        let Some((r, (loan, amount, receipt))) = record.and_then(|r| Some((r, sent(&r.body)?))) else {
            return Err(refused(
                422,
                "entered_again_not_in_batch",
                "Một phiếu được đánh dấu là khoản thu bị từ chối ghi lại không thuộc lô này (hoặc đã bị cán bộ hủy). Hãy mở lại trang lô và làm lại".into(),
                "a receipt marked as a refused payment entered again is not part of this batch (or the officer voided it). Open the batch again and redo it".into(),
            ));
        };
        let body: Option<String> = sqlx::query_scalar("SELECT body FROM sync_records WHERE client_id = $1")
            .bind(original)
            .fetch_optional(&mut *c)
            .await?;
        let original_receipt = match body.as_deref().and_then(sent) {
            Some((l, a, n)) if (l, a) == (loan, amount) => n,
            _ => {
                return Err(refused(
                    422,
                    "not_entered_again",
                    format!("Phiếu {receipt} không cùng khoản vay và số tiền với phiếu bị từ chối được nêu: không đánh dấu nó đã xử lý bằng phiếu này được"),
                    format!("receipt {receipt} is not for the same loan and amount as the refused one named: it cannot settle it"),
                ))
            }
        };
        let left_out = exclusions.contains_key(again);
        let flag = crate::review::anomalies(r, &ctx).into_iter().find(|a| {
            a.refused_record == Some(*original)
                && match a.code {
                    "refused_receipt_same_amount" => true,
                    "refused_receipt_taken_at_counter" => left_out,
                    _ => false,
                }
        });
        let Some(flag) = flag else {
            return Err(refused(
                409,
                "entered_again_changed",
                format!("Phiếu {receipt} không còn được cảnh báo là phiếu {original_receipt} bị từ chối ghi lại như khi xác nhận (phiếu đó đã được xử lý, hoặc tiền của nó đã thu tại quầy): chưa ghi gì; hãy xem lại"),
                format!("receipt {receipt} is no longer flagged as refused receipt {original_receipt} entered again as it was when confirmed (that one was settled, or its cash taken at the counter): nothing was posted; look again"),
            ));
        };
        let (target, note) = match (left_out, flag.counter_receipt) {
            (false, _) => (*original, format!("{} {receipt}", rv::ENTERED_AGAIN)),
            (true, None) => (*again, format!("{} {original_receipt}", rv::SAME_AS)),
            (true, Some(k)) => (*again, format!("{} {k}", rv::SETTLED_AT_COUNTER)),
        };
        match settle_refused(c, who, target, &note, false, now).await {
            Ok(s) => settled.push(s.record_id),
            Err(DbError::NotFound) => {
                return Err(refused(
                    422,
                    "entered_again_elsewhere",
                    format!("Phiếu bị từ chối {original_receipt} mà phiếu {receipt} ghi lại thuộc chi nhánh khác (cán bộ đã chuyển chi nhánh): giám sát chi nhánh đó xử lý nó; hãy bỏ dấu chọn"),
                    format!("refused receipt {original_receipt}, which {receipt} enters again, is another branch's (the officer moved branch): that branch's supervisor settles it; untick it"),
                ))
            }
            Err(e) => return Err(e),
        }
    }
    let mut receipts = Vec::new();
    for id in settled {
        let body: String = sqlx::query_scalar("SELECT body FROM sync_records WHERE client_id = $1")
            .bind(id)
            .fetch_one(&mut *c)
            .await?;
        receipts.extend(sent(&body).map(|(_, _, r)| r));
    }
    Ok(receipts)
}

/// The worker of refused gift record `id` (as its phone sent it) has a gift
/// of its campaign on the books already: approved and not reversed, or
/// settled as handed out for real. (One waiting for review does not count:
/// it may yet be left out; an approval of it is refused while this one
/// counts, see `review_approve`.)
async fn has_gift_already(c: &mut Conn, id: i64) -> DbResult<bool> {
    let body: String = sqlx::query_scalar("SELECT body FROM sync_records WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *c)
        .await?;
    let Ok(sotay_core::wire::RecordBody::GiftHandout(g)) =
        serde_json::from_str::<sotay_core::wire::UploadRecord>(&body).map(|b| b.body)
    else {
        return Ok(false);
    };
    let sql = format!(
        "SELECT COUNT(*) FROM sync_records r JOIN workers w ON w.id = r.worker_id JOIN campaigns k ON k.id = r.campaign_id
         WHERE w.uid = $1 AND k.uid = $2 AND r.id <> $3 AND r.kind = 'gift_handout'
           AND ((r.status = 'accepted' AND NOT {REVERSED}
                 AND EXISTS (SELECT 1 FROM record_reviews d WHERE d.record_id = r.id AND d.decision = 'approved'))
                OR {})",
        handed_out_sql!(r)
    );
    let n: i64 = sqlx::query_scalar(&sql)
        .bind(g.worker_id)
        .bind(g.campaign_id)
        .bind(id)
        .fetch_one(&mut *c)
        .await?;
    Ok(n > 0)
}

/// Posts a refused gift record's package as handed out after all: the
/// branch's stock of its campaign down by one package's value, a campaign
/// expense (no record: the record stays refused). Not below the stock
/// held; not for a welfare grant (cash, not a package).
async fn stock_out_entry(
    c: &mut Conn,
    who: &rv::Reviewer,
    record_id: i64,
    branch_id: i64,
    note: &str,
    now: DateTime<Utc>,
) -> DbResult<Option<i64>> {
    let found: Option<(i64, String, i64, String, Option<String>, i64)> = sqlx::query_as(
        "SELECT k.id, k.kind, k.gift_value, k.name, w.full_name, s.officer_id
         FROM sync_records s JOIN campaigns k ON k.id = s.campaign_id LEFT JOIN workers w ON w.id = s.worker_id
         WHERE s.id = $1",
    )
    .bind(record_id)
    .fetch_optional(&mut *c)
    .await?;
    let Some((campaign_id, kind, value, name, worker, officer)) = found else {
        return Err(refused(
            422,
            "not_a_gift_package",
            "Chỉ ghi giảm kho được cho một suất quà".into(),
            "only a gift package can be taken off the stock".into(),
        ));
    };
    // A package of no value (as an approval posts none for it).
    if value == 0 {
        return Ok(None);
    }
    let mut poster = Poster::new(c, who.user_id).await?;
    poster.load_guard(c, branch_id).await?;
    // A welfare grant handed out for real was cash from the vault, posted
    // as its approval would have.
    let welfare = kind == "welfare";
    let lines = ledger::gift(At { branch_id, campaign_id: Some(campaign_id), ..At::default() }, value, welfare);
    if let Some((_, held)) = poster.shortfall(&lines, 0).filter(|_| welfare) {
        return Err(refused(
            409,
            "vault_short",
            format!(
                "Quỹ tiền mặt chi nhánh còn {}, không đủ khoản hỗ trợ \"{name}\" {}: kiểm tra quỹ, hoặc chỉ đánh dấu đã xử lý",
                format_vnd(held),
                format_vnd(value)
            ),
            format!(
                "the branch vault holds {}, not the \"{name}\" grant of {}: check the vault, or only mark it settled",
                format_vnd(held),
                format_vnd(value)
            ),
        ));
    }
    if let Some((_, held)) = poster.shortfall(&lines, 0) {
        return Err(refused(
            409,
            "stock_short",
            format!(
                "Kho quà \"{name}\" của chi nhánh đã hết (còn {} suất, mỗi suất {}): nhập kho trước, hoặc chỉ đánh dấu đã xử lý",
                held.max(0) / value.max(1),
                format_vnd(value)
            ),
            format!(
                "the branch's stock of \"{name}\" is out ({} packages of {} left): receive stock first, or only mark it settled",
                held.max(0) / value.max(1),
                format_vnd(value)
            ),
        ));
    }
    let memo = if welfare {
        format!(
            "Chi khoản hỗ trợ \"{name}\" đã trao cho {} (bản ghi bị từ chối khi đồng bộ, trao thật): {note}",
            worker.unwrap_or_default()
        )
    } else {
        format!(
            "Ghi giảm kho 1 suất quà \"{name}\" đã trao cho {} (bản ghi bị từ chối khi đồng bộ, trao thật): {note}",
            worker.unwrap_or_default()
        )
    };
    let kind = if welfare { EntryKind::Welfare } else { EntryKind::Gift };
    let e = poster.plan(kind, branch_id, memo, lines);
    e.officer_id = Some(officer);
    let entry_id = e.id;
    poster.write(c, now).await?;
    Ok(Some(entry_id))
}

/// A loan's collections by officers waiting for review (not voided), in
/// the order they arrived.
pub async fn pending_collections(c: &mut Conn, loan_id: i64) -> DbResult<Vec<rv::PendingCollection>> {
    Ok(sqlx::query_as(concat!(
        "SELECT s.amount, s.receipt_no, u.full_name AS officer_name, s.recorded_at
         FROM undecided_repayments r JOIN sync_records s ON s.id = r.record_id JOIN users u ON u.id = s.officer_id
         WHERE r.loan_id = $1 AND ",
        no_live_void_sql!(),
        " ORDER BY r.record_id"
    ))
    .bind(loan_id)
    .fetch_all(&mut *c)
    .await?)
}

/// Officers' receipts of `amount` on `loan_id` that stand (waiting for
/// review or approved, not voided, not reversed), recorded in the days
/// after the refused record `refused` was, or in the days after the
/// officer could learn it was refused (its rejection at review, or its
/// refusal at upload; whichever reached the server first: a lost phone
/// syncs late), newest first: its payment may have been entered again
/// among them (not an earlier installment of the same amount, nor those
/// she collected in between).
pub async fn officer_receipts_of(
    c: &mut Conn,
    loan_id: i64,
    amount: i64,
    refused: uuid::Uuid,
) -> DbResult<Vec<rv::OfficerReceipt>> {
    let at: Option<(DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(concat!(
        "SELECT s.recorded_at, ",
        refused_known_at_sql!(),
        " FROM sync_records s WHERE s.client_id = $1"
    ))
    .bind(refused)
    .fetch_optional(&mut *c)
    .await?;
    let Some((at, known)) = at else { return Ok(Vec::new()) };
    let [(from, to), (heard, heard_to)] = rv::entered_again_spans(at, known);
    let after = rv::entered_again_after(at, known);
    Ok(sqlx::query_as(concat!(
        "SELECT s.receipt_no, u.full_name AS officer_name, s.recorded_at,
                CAST(CASE WHEN d.decision = 'approved' THEN 1 ELSE 0 END AS BIGINT) AS approved
         FROM sync_records s JOIN users u ON u.id = s.officer_id LEFT JOIN record_reviews d ON d.record_id = s.id
         WHERE s.loan_id = $1 AND s.kind = 'repayment' AND s.status = 'accepted' AND s.amount = $2
           AND s.client_id <> $3
           AND ((s.recorded_at >= $4 AND s.recorded_at < $5) OR (s.recorded_at >= $6 AND s.recorded_at < $7))
           AND s.received_at > $8
           AND (d.decision IS NULL OR d.decision = 'approved') AND ",
        no_live_void_sql!(s),
        " AND NOT EXISTS (SELECT 1 FROM journal_entries je JOIN journal_entries jx ON jx.reverses = je.id
               WHERE je.record_id = s.id)
         ORDER BY s.id DESC LIMIT 5"
    ))
    .bind(loan_id)
    .bind(amount)
    .bind(refused)
    .bind(from)
    .bind(to)
    .bind(heard)
    .bind(heard_to)
    .bind(after.unwrap_or(DateTime::<Utc>::UNIX_EPOCH))
    .fetch_all(&mut *c)
    .await?)
}

/// The workers, loans and campaigns that refused records name, those of
/// `branch` only (all for `None`): a record refused because its worker
/// belongs elsewhere does not show another branch's names.
pub async fn refused_names(c: &mut Conn, branch: Option<i64>, rows: &[&rv::RefusedRow]) -> DbResult<rv::RefusedNames> {
    let (mut workers, mut loans, mut campaigns) = (Vec::new(), Vec::new(), Vec::new());
    for r in rows {
        match serde_json::from_str::<sotay_core::wire::UploadRecord>(&r.body).map(|u| u.body) {
            Ok(sotay_core::wire::RecordBody::Repayment(p)) => {
                workers.push(p.worker_id);
                loans.push(p.loan_id);
            }
            Ok(sotay_core::wire::RecordBody::GiftHandout(g)) => {
                workers.push(g.worker_id);
                campaigns.push(g.campaign_id);
            }
            Ok(sotay_core::wire::RecordBody::Visit(v)) => workers.push(v.worker_id),
            _ => {}
        }
    }
    for v in [&mut workers, &mut loans, &mut campaigns] {
        v.sort_unstable();
        v.dedup();
    }
    let (all, id) = match branch {
        None => (1, 0),
        Some(b) => (0, b),
    };
    let mut names = rv::RefusedNames::default();
    for chunk in workers.chunks(<DB as Lists>::chunk_len()) {
        let mut qb = sqlx::QueryBuilder::<DB>::new("SELECT uid, id, full_name FROM workers WHERE (");
        qb.push_bind(all).push(" = 1 OR branch_id = ").push_bind(id).push(") AND ");
        <DB as Lists>::uuids(&mut qb, "uid", chunk);
        for (uid, id, name) in qb.build_query_as::<(uuid::Uuid, i64, String)>().fetch_all(&mut *c).await? {
            names.workers.insert(uid, (id, name));
        }
    }
    for chunk in loans.chunks(<DB as Lists>::chunk_len()) {
        let mut qb = sqlx::QueryBuilder::<DB>::new("SELECT uid, id, code FROM loans WHERE (");
        qb.push_bind(all).push(" = 1 OR worker_branch_id = ").push_bind(id).push(") AND ");
        <DB as Lists>::uuids(&mut qb, "uid", chunk);
        for (uid, id, code) in qb.build_query_as::<(uuid::Uuid, i64, String)>().fetch_all(&mut *c).await? {
            names.loans.insert(uid, (id, code));
        }
    }
    // A refused receipt's cash may have been taken at the counter: a
    // counter receipt's note names it.
    let loan_ids: Vec<i64> = names.loans.values().map(|(id, _)| *id).collect();
    names.counter_notes = standing_counter_notes(c, &loan_ids).await?;
    for chunk in campaigns.chunks(<DB as Lists>::chunk_len()) {
        let mut qb = sqlx::QueryBuilder::<DB>::new("SELECT uid, name, kind FROM campaigns WHERE ");
        <DB as Lists>::uuids(&mut qb, "uid", chunk);
        for (uid, name, kind) in qb.build_query_as::<(uuid::Uuid, String, String)>().fetch_all(&mut *c).await? {
            names.campaigns.insert(uid, (name, kind));
        }
    }
    Ok(names)
}

/// The reviewable records (accepted or quarantined at upload) of batches.
pub async fn review_records(c: &mut Conn, batch_ids: &[uuid::Uuid]) -> DbResult<Vec<rv::ReviewRecordRow>> {
    let mut out = Vec::new();
    for chunk in batch_ids.chunks(500) {
        let sql = format!(
            "SELECT s.id, s.client_id, s.batch_id, s.officer_id, s.kind, s.recorded_at, s.received_at, s.status, s.body,
                 COALESCE(s.worker_id, t.worker_id) AS worker_id, COALESCE(w.full_name, tw.full_name) AS worker_name,
                 COALESCE(s.loan_id, t.loan_id) AS loan_id,
                 COALESCE(l.code, tl.code) AS loan_code, s.campaign_id,
                 k.name AS campaign_name, k.kind AS campaign_kind, k.gift_value, s.target_client_id, s.amount, s.receipt_no,
                 rr.decision, rr.reason AS decision_reason, e.id AS entry_id, x.id AS reversed_by,
                 FALSE AS voided, t.kind AS target_kind, t.receipt_no AS target_receipt, t.amount AS target_amount,
                 tk.kind AS target_campaign_kind,
                 (EXISTS (SELECT 1 FROM journal_entries te JOIN sync_batches bb ON bb.batch_id = s.batch_id
                         WHERE te.record_id = t.id AND te.kind = 'repayment' AND te.branch_id = bb.branch_id
                           AND NOT EXISTS (SELECT 1 FROM journal_entries tx WHERE tx.reverses = te.id))
                  OR COALESCE(t.batch_id = s.batch_id AND t.kind = 'repayment' AND t.status = 'accepted', FALSE))
                     AS target_posted_here,
                 CAST(NULL AS BIGINT) AS gift_rank, q.quota AS gift_quota,
                 CAST(NULL AS TEXT) AS signature_sha256, FALSE AS signature_received,
                 rs.note AS settled_note, ru.full_name AS settled_by, rs.settled_at, rs.entry_id AS settled_entry
             FROM sync_records s LEFT JOIN workers w ON w.id = s.worker_id LEFT JOIN loans l ON l.id = s.loan_id
                 LEFT JOIN refused_settlements rs ON rs.record_id = s.id LEFT JOIN users ru ON ru.id = rs.settled_by
                 LEFT JOIN campaigns k ON k.id = s.campaign_id LEFT JOIN record_reviews rr ON rr.record_id = s.id
                 LEFT JOIN campaign_officer_quotas q ON s.kind = 'gift_handout' AND q.campaign_id = s.campaign_id
                     AND q.officer_id = s.officer_id
                 LEFT JOIN journal_entries e ON e.record_id = s.id LEFT JOIN journal_entries x ON x.reverses = e.id
                 LEFT JOIN sync_records t ON t.client_id = s.target_client_id
                 LEFT JOIN workers tw ON tw.id = t.worker_id LEFT JOIN loans tl ON tl.id = t.loan_id
                 LEFT JOIN campaigns tk ON tk.id = t.campaign_id
             WHERE s.status IN ('accepted', 'quarantined') AND s.batch_id IN ({}) ORDER BY s.id",
            placeholders(1, chunk.len())
        );
        let mut q = sqlx::query_as::<DB, rv::ReviewRecordRow>(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        out.extend(q.fetch_all(&mut *c).await?);
    }
    voided(c, &mut out).await?;
    gift_ranks(c, &mut out).await?;
    signatures_of(c, &mut out).await?;
    Ok(out)
}

/// Marks the records a void that stands targets (`void_stands_sql`): an
/// accepted void not excluded or rejected by the supervisor, or rejected
/// together with its record (in the same batch: the officer's word that no
/// cash changed hands stands, as it does at an approval, where a void
/// cannot be left out); for a record held in quarantine, a void held from
/// the same phone. One lookup by target for all of them.
async fn voided(c: &mut Conn, records: &mut [rv::ReviewRecordRow]) -> DbResult<()> {
    let ids: Vec<uuid::Uuid> = records.iter().map(|r| r.client_id).collect();
    // By target: the batch of its void when that void waits for review in
    // another batch (not decided yet), else none.
    let mut hit: HashMap<uuid::Uuid, Option<uuid::Uuid>> = HashMap::new();
    for chunk in ids.chunks(<DB as Lists>::chunk_len()) {
        let mut qb = sqlx::QueryBuilder::<DB>::new(concat!(
            "SELECT v.target_client_id, CASE WHEN v.batch_id <> t.batch_id AND v.status = 'accepted'
                 AND NOT EXISTS (SELECT 1 FROM record_reviews vw WHERE vw.record_id = v.id) THEN v.batch_id END
             FROM sync_records v JOIN sync_records t ON t.client_id = v.target_client_id
             WHERE v.kind = 'void' AND ",
            void_stands_sql!(v, t),
            " AND "
        ));
        <DB as Lists>::uuids(&mut qb, "v.target_client_id", chunk);
        for (target, waiting) in qb.build_query_as::<(uuid::Uuid, Option<uuid::Uuid>)>().fetch_all(&mut *c).await? {
            let slot = hit.entry(target).or_default();
            *slot = slot.or(waiting);
        }
    }
    for r in records.iter_mut() {
        r.voided = hit.contains_key(&r.client_id);
        r.void_waiting_in = hit.get(&r.client_id).copied().flatten();
    }
    Ok(())
}

/// Sets each gift's rank: how many gifts of its campaign its officer had
/// recorded up to and including it that still count against the
/// allocation — accepted, not voided, not rejected or left out at review,
/// not reversed, or refused and settled as handed out for real (one query
/// for all of them).
async fn gift_ranks(c: &mut Conn, records: &mut [rv::ReviewRecordRow]) -> DbResult<()> {
    let gifts = || records.iter().filter(|r| r.kind == "gift_handout");
    let Some(last) = gifts().map(|r| r.id).max() else { return Ok(()) };
    let mut campaigns: Vec<i64> = gifts().filter_map(|r| r.campaign_id).collect();
    campaigns.sort_unstable();
    campaigns.dedup();
    let mut officers: Vec<i64> = gifts().map(|r| r.officer_id).collect();
    officers.sort_unstable();
    officers.dedup();
    // Accepted gift ids of each (campaign, officer), ascending.
    let mut ids: HashMap<(i64, i64), Vec<i64>> = HashMap::new();
    for ks in campaigns.chunks(<DB as Lists>::chunk_len() / 2) {
        for os in officers.chunks(<DB as Lists>::chunk_len() / 2) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(concat!(
                "SELECT r.campaign_id, r.officer_id, r.id FROM sync_records r
                 WHERE r.kind = 'gift_handout' AND ((r.status = 'accepted'
                   AND NOT EXISTS (SELECT 1 FROM record_reviews d WHERE d.record_id = r.id AND d.decision <> 'approved')
                   AND NOT EXISTS (SELECT 1 FROM journal_entries e JOIN journal_entries x ON x.reverses = e.id
                                   WHERE e.record_id = r.id)
                   AND ",
                no_live_void_sql!(),
                ") OR ",
                handed_out_sql!(r),
                " OR ",
                held_in_quarantine_sql!(r),
                ") AND "
            ));
            <DB as Lists>::ints(&mut qb, "r.campaign_id", ks);
            qb.push(" AND ");
            <DB as Lists>::ints(&mut qb, "r.officer_id", os);
            qb.push(" AND r.id <= ").push_bind(last).push(" ORDER BY r.id");
            for (k, o, id) in qb.build_query_as::<(i64, i64, i64)>().fetch_all(&mut *c).await? {
                ids.entry((k, o)).or_default().push(id);
            }
        }
    }
    for r in records.iter_mut().filter(|r| r.kind == "gift_handout") {
        let rank = r
            .campaign_id
            .and_then(|k| ids.get(&(k, r.officer_id)))
            .map_or(0, |v| v.partition_point(|id| *id <= r.id));
        r.gift_rank = Some(rank as i64);
    }
    Ok(())
}

/// A visit's purpose, from the body its phone sent.
pub fn visit_purpose(body: &str) -> Option<sotay_core::wire::VisitPurpose> {
    match serde_json::from_str::<sotay_core::wire::UploadRecord>(body).ok()?.body {
        sotay_core::wire::RecordBody::Visit(v) => Some(v.purpose),
        _ => None,
    }
}

/// Originals of the reversal requests `requests` whose batch cannot be
/// approved before the request's own: it holds a record the request's
/// batch voids, a void still undecided. The two batches wait for each other;
/// leaving the voided record out of the original's batch lets both through.
async fn originals_waiting_for_voids_of(c: &mut Conn, requests: &[uuid::Uuid]) -> DbResult<HashSet<uuid::Uuid>> {
    let mut out = HashSet::new();
    for chunk in requests.chunks(1_000) {
        let sql = format!(
            "SELECT q.target_client_id FROM sync_records q
             JOIN sync_records o ON o.client_id = q.target_client_id AND o.batch_id <> q.batch_id
             WHERE q.client_id IN ({}) AND q.kind = 'reversal_request'
               AND EXISTS (SELECT 1 FROM sync_records x
                           JOIN sync_records v ON v.target_client_id = x.client_id AND v.kind = 'void'
                                AND v.status = 'accepted' AND v.batch_id = q.batch_id
                           WHERE x.batch_id = o.batch_id
                             AND NOT EXISTS (SELECT 1 FROM record_reviews d WHERE d.record_id = v.id))",
            placeholders(1, chunk.len())
        );
        let mut q = sqlx::query_scalar::<DB, uuid::Uuid>(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        out.extend(q.fetch_all(&mut *c).await?);
    }
    Ok(out)
}

pub async fn review_anomaly_context(c: &mut Conn, records: &[rv::ReviewRecordRow]) -> DbResult<rv::AnomalyContext> {
    let mut ctx = rv::AnomalyContext::default();
    // Whose the records' workers are now, and how those no longer their
    // officer's moved: a record is taken when the worker was hers at the
    // time it says, which only the officer vouches for.
    let mut about: Vec<i64> = records.iter().filter_map(|r| r.worker_id).collect();
    about.sort_unstable();
    about.dedup();
    for chunk in about.chunks(1_000) {
        let sql = format!(
            "SELECT w.id, w.officer_id, u.full_name FROM workers w JOIN users u ON u.id = w.officer_id
             WHERE w.id IN ({})",
            placeholders(1, chunk.len())
        );
        let mut q = sqlx::query_as::<DB, (i64, i64, String)>(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for (worker, officer, name) in q.fetch_all(&mut *c).await? {
            ctx.worker_officer.insert(worker, (officer, name));
        }
    }
    let mut moved: Vec<i64> = records
        .iter()
        .filter_map(|r| r.worker_id.filter(|w| ctx.worker_officer.get(w).is_some_and(|(o, _)| *o != r.officer_id)))
        .collect();
    moved.sort_unstable();
    moved.dedup();
    for chunk in moved.chunks(1_000) {
        let sql = format!(
            "SELECT m.worker_id, m.moved_at, m.from_officer_id, u.full_name FROM worker_moves m
                 JOIN users u ON u.id = m.to_officer_id
             WHERE m.worker_id IN ({}) ORDER BY m.moved_at, m.id",
            placeholders(1, chunk.len())
        );
        let mut q = sqlx::query_as::<DB, (i64, DateTime<Utc>, i64, String)>(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for (worker, at, from, to) in q.fetch_all(&mut *c).await? {
            ctx.moves.entry(worker).or_default().push((at, from, to));
        }
    }
    // The batch's visits' days, a day either side (days are Vietnam's).
    let visit_times = records.iter().filter(|r| r.kind == "visit").map(|r| r.recorded_at);
    let visit_days = (
        visit_times.clone().min().unwrap_or_default() - chrono::Duration::days(1),
        visit_times.max().unwrap_or_default() + chrono::Duration::days(1),
    );
    let mut workers: Vec<i64> = records.iter().filter(|r| r.kind == "visit").filter_map(|r| r.worker_id).collect();
    workers.sort_unstable();
    workers.dedup();
    let mut loans: Vec<i64> = records.iter().filter_map(|r| r.loan_id).collect();
    loans.sort_unstable();
    loans.dedup();
    let mut gifted: Vec<i64> =
        records.iter().filter(|r| r.kind == "gift_handout").filter_map(|r| r.worker_id).collect();
    gifted.sort_unstable();
    gifted.dedup();
    let mut givers: Vec<i64> = records.iter().filter(|r| r.kind == "gift_handout").map(|r| r.officer_id).collect();
    givers.sort_unstable();
    givers.dedup();
    // Gifts to these workers (or from these officers: one refused at upload
    // or kept in quarantine may name no worker of the server's own) refused
    // (at upload, kept in quarantine, or at review) whose package is still
    // out there, not settled, or was settled as handed out for real (taken
    // off the stock): the worker may have had, or had, the campaign's gift
    // already. Keyed by what the phone sent.
    for (workers, officers) in [(gifted.as_slice(), &[][..]), (&[][..], givers.as_slice())] {
        for chunk in workers.chunks(1_000).chain(officers.chunks(1_000)) {
            let column = if workers.is_empty() { "s.officer_id" } else { "s.worker_id" };
            let sql = format!(
                "SELECT s.client_id, s.body,
                        CAST(CASE WHEN EXISTS (SELECT 1 FROM refused_settlements x WHERE x.record_id = s.id
                                               AND (x.handed_out OR x.entry_id IS NOT NULL)
                                               AND NOT EXISTS (SELECT 1 FROM journal_entries xr WHERE xr.reverses = x.entry_id))
                             THEN 1 ELSE 0 END AS BIGINT),
                        CASE WHEN s.status = 'rejected' AND s.code = 'already_received' THEN s.received_at END
                 FROM sync_records s
                 WHERE s.kind = 'gift_handout' AND {column} IN ({})
                   AND (s.status IN ('rejected', 'quarantined') OR {})
                   AND NOT EXISTS (SELECT 1 FROM refused_settlements x WHERE x.record_id = s.id
                                   AND NOT (x.handed_out OR x.entry_id IS NOT NULL))
                   AND NOT {}",
                placeholders(1, chunk.len()),
                held_at_review_sql!(),
                voided_in_quarantine_sql!()
            );
            let mut q = sqlx::query_as::<DB, (uuid::Uuid, String, i64, Option<DateTime<Utc>>)>(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for (client, body, handed_out, second_at) in q.fetch_all(&mut *c).await? {
                if let Ok(sotay_core::wire::RecordBody::GiftHandout(g)) =
                    serde_json::from_str::<sotay_core::wire::UploadRecord>(&body).map(|b| b.body)
                {
                    let seen = ctx.refused_gifts.entry((g.campaign_id, g.worker_id)).or_default();
                    if !seen.iter().any(|g| g.client_id == client) {
                        seen.push(rv::RefusedGift { client_id: client, handed_out: handed_out == 1, second_at });
                    }
                }
            }
        }
    }
    // Originals of the batch's reversal requests waiting for review in
    // another batch: the request posts only once its original has.
    let asked: Vec<uuid::Uuid> = records
        .iter()
        .filter(|r| r.kind == "reversal_request" && r.decision.is_none())
        .filter_map(|r| r.target_client_id)
        .collect();
    for chunk in asked.chunks(1_000) {
        let sql = format!(
            "SELECT t.client_id, t.batch_id, b.received_at FROM sync_records t
             JOIN sync_batches b ON b.batch_id = t.batch_id
             WHERE t.client_id IN ({}) AND t.status = 'accepted'
               AND NOT EXISTS (SELECT 1 FROM record_reviews td WHERE td.record_id = t.id)",
            placeholders(1, chunk.len())
        );
        let mut q = sqlx::query_as::<DB, (uuid::Uuid, uuid::Uuid, DateTime<Utc>)>(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for (target, batch, at) in q.fetch_all(&mut *c).await? {
            ctx.original_waiting.insert(target, (batch, at));
        }
    }
    let requests: Vec<uuid::Uuid> = records
        .iter()
        .filter(|r| r.kind == "reversal_request" && r.decision.is_none())
        .map(|r| r.client_id)
        .collect();
    ctx.original_blocked = originals_waiting_for_voids_of(c, &requests).await?;
    // Receipts and gifts of the batch whose reversal the officer asked for
    // in a request still waiting for review.
    let posted: Vec<uuid::Uuid> = records
        .iter()
        .filter(|r| matches!(r.kind.as_str(), "repayment" | "gift_handout"))
        .map(|r| r.client_id)
        .collect();
    for chunk in posted.chunks(1_000) {
        let sql = format!(
            "SELECT q.target_client_id, q.batch_id, q.received_at FROM sync_records q
             WHERE q.kind = 'reversal_request' AND q.status = 'accepted' AND q.target_client_id IN ({})
               AND NOT EXISTS (SELECT 1 FROM record_reviews qd WHERE qd.record_id = q.id) AND {}",
            placeholders(1, chunk.len()),
            no_live_void_sql!(q)
        );
        let mut q = sqlx::query_as::<DB, (uuid::Uuid, uuid::Uuid, DateTime<Utc>)>(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for (target, batch, at) in q.fetch_all(&mut *c).await? {
            ctx.reversal_asked.insert(target, (batch, at));
        }
        let sql = format!(
            "SELECT client_id FROM approved_before_restore WHERE client_id IN ({})",
            placeholders(1, chunk.len())
        );
        let mut q = sqlx::query_scalar::<DB, uuid::Uuid>(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        ctx.approved_before.extend(q.fetch_all(&mut *c).await?);
    }
    for chunk in workers.chunks(1_000) {
        let sql = format!(
            "SELECT w.id, h.latitude, h.longitude FROM workers w JOIN boarding_houses h ON h.id = w.boarding_house_id
             WHERE h.latitude IS NOT NULL AND h.longitude IS NOT NULL AND w.id IN ({})",
            placeholders(1, chunk.len())
        );
        let mut q = sqlx::query_as::<DB, (i64, f64, f64)>(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for (id, lat, lon) in q.fetch_all(&mut *c).await? {
            ctx.houses.insert(id, (lat, lon));
        }
        // The visits to these workers that stand (not refused, left out or
        // voided) on the batch's days: a visit recorded twice, a command
        // repeated, shows.
        let sql = format!(
            "SELECT r.worker_id, r.officer_id, r.recorded_at, r.client_id, r.body FROM sync_records r
             WHERE r.kind = 'visit' AND r.status = 'accepted' AND r.worker_id IN ({})
             AND r.recorded_at >= ${} AND r.recorded_at <= ${} AND {}
             AND NOT EXISTS (SELECT 1 FROM record_reviews x WHERE x.record_id = r.id AND x.decision <> 'approved')",
            placeholders(1, chunk.len()),
            chunk.len() + 1,
            chunk.len() + 2,
            no_live_void_sql!()
        );
        let mut q = sqlx::query_as::<DB, (i64, i64, DateTime<Utc>, uuid::Uuid, String)>(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        q = q.bind(visit_days.0).bind(visit_days.1);
        for (worker, officer, at, client_id, body) in q.fetch_all(&mut *c).await? {
            let Some(purpose) = visit_purpose(&body) else { continue };
            ctx.visits_same_day
                .entry((worker, officer, sotay_core::domain::time::local_date(at), purpose))
                .or_default()
                .push(client_id);
        }
    }
    for chunk in loans.chunks(1_000) {
        let list = placeholders(1, chunk.len());
        let sql = format!(
            "SELECT loan_id, CAST(MAX(principal_due + interest_due) AS BIGINT) FROM installments
             WHERE loan_id IN ({list}) GROUP BY loan_id"
        );
        let mut q = sqlx::query_as::<DB, (i64, i64)>(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        ctx.installment.extend(q.fetch_all(&mut *c).await?);
        let sql = format!(
            // Not those rejected or excluded at review: an officer records
            // a rejected repayment again, and it was taken once.
            "SELECT r.loan_id, r.recorded_at, r.client_id, r.receipt_no, u.full_name FROM sync_records r
             JOIN users u ON u.id = r.officer_id
             WHERE r.kind = 'repayment' AND r.status = 'accepted'
             AND r.loan_id IN ({list}) AND {}
             AND NOT EXISTS (SELECT 1 FROM record_reviews x WHERE x.record_id = r.id AND x.decision <> 'approved')",
            no_live_void_sql!()
        );
        let mut q = sqlx::query_as::<DB, (i64, DateTime<Utc>, uuid::Uuid, Option<String>, String)>(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for (loan, at, client_id, receipt_no, officer) in q.fetch_all(&mut *c).await? {
            ctx.same_day
                .entry((loan, sotay_core::domain::time::local_date(at)))
                .or_default()
                .push(rv::SameDayReceipt { client_id, receipt_no: receipt_no.unwrap_or_default(), officer });
        }
    }
    let again = entered_again_context(c, records).await?;
    ctx.refused_held = again.refused_held;
    ctx.counter_notes = again.counter_notes;
    Ok(ctx)
}

/// The part of the records' anomaly context the refused payments entered
/// again are judged by (`refused_receipt_same_amount`,
/// `refused_receipt_taken_at_counter`): what an approval or a rejection
/// checks in its transaction, without the rest.
pub async fn entered_again_context(c: &mut Conn, records: &[rv::ReviewRecordRow]) -> DbResult<rv::AnomalyContext> {
    let mut ctx = rv::AnomalyContext::default();
    let mut loans: Vec<i64> = records.iter().filter_map(|r| r.loan_id).collect();
    loans.sort_unstable();
    loans.dedup();
    // The officers' refused repayments (refused at upload, kept in
    // quarantine, or rejected or left out at review), their loan and amount
    // as the phone sent them, with how they were settled: one entered again
    // (a rejected batch's, a lost phone's) would otherwise be taken twice,
    // at the counter from the list and with the new receipt.
    let mut officers: Vec<i64> = records.iter().filter(|r| r.kind == "repayment").map(|r| r.officer_id).collect();
    officers.sort_unstable();
    officers.dedup();
    // Only those the officer learnt were refused in the days before the
    // batch's first repayment can be one of them entered again (she enters
    // it again once she hears of it, however long after it was recorded).
    let first = records.iter().filter(|r| r.kind == "repayment").map(|r| r.recorded_at).min();
    let since = first.map(|at| at - chrono::Duration::days(rv::ENTERED_AGAIN_WITHIN_DAYS));
    let own: HashSet<uuid::Uuid> = records
        .iter()
        .filter(|r| r.decision.is_none() && r.status == "accepted")
        .map(|r| r.client_id)
        .collect();
    for chunk in officers.chunks(1_000) {
        let sql = format!(
            // Found from the few refused ones, by the partial indexes on
            // them, not by reading every repayment of the officers.
            "SELECT s.recorded_at, {known}, s.client_id, s.body, x.note
             FROM (SELECT r.id FROM sync_records r WHERE r.status = 'rejected' AND r.received_at >= ${since}
                   UNION SELECT q.id FROM sync_records q WHERE q.status = 'quarantined'
                   UNION SELECT d.record_id FROM record_reviews d
                         WHERE d.decision IN ('rejected', 'excluded') AND d.decided_at >= ${since}) refused
                 JOIN sync_records s ON s.id = refused.id
                 LEFT JOIN refused_settlements x ON x.record_id = s.id
             WHERE s.kind = 'repayment' AND s.officer_id IN ({}) AND {known} >= ${since}
               AND (s.status IN ('rejected', 'quarantined') OR {}) AND NOT {}",
            placeholders(1, chunk.len()),
            held_at_review_sql!(),
            voided_in_quarantine_sql!(),
            known = refused_known_at_sql!(),
            since = chunk.len() + 1,
        );
        let mut q = sqlx::query_as::<DB, (DateTime<Utc>, DateTime<Utc>, uuid::Uuid, String, Option<String>)>(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        q = q.bind(since);
        for (at, known, client, body, settled) in q.fetch_all(&mut *c).await? {
            // Records read undecided, refused by the decision being made
            // (the context is read again inside it): not refused before.
            if own.contains(&client) {
                continue;
            }
            if let Ok(sotay_core::wire::RecordBody::Repayment(p)) =
                serde_json::from_str::<sotay_core::wire::UploadRecord>(&body).map(|b| b.body)
            {
                let held = rv::RefusedHeld {
                    recorded_at: at,
                    known_at: known,
                    client_id: client,
                    receipt_no: p.receipt_no,
                    settled,
                };
                ctx.refused_held.entry((p.loan_id, p.amount.get())).or_default().push(held);
            }
        }
    }
    // Counter receipts on the batch's loans, not reversed: one may be a
    // refused receipt's cash (its note names it); none to look for when
    // no refused receipt is held.
    if !ctx.refused_held.is_empty() {
        ctx.counter_notes = standing_counter_notes(c, &loans).await?;
    }
    Ok(ctx)
}

/// loan id → the counter receipts on `loans` that stand (not reversed):
/// receipt number, note.
async fn standing_counter_notes(c: &mut Conn, loans: &[i64]) -> DbResult<HashMap<i64, Vec<(String, String)>>> {
    let mut out: HashMap<i64, Vec<(String, String)>> = HashMap::new();
    for chunk in loans.chunks(1_000) {
        let sql = format!(
            "SELECT k.loan_id, k.receipt_no, k.note FROM counter_repayments k
             WHERE k.loan_id IN ({})
               AND NOT EXISTS (SELECT 1 FROM journal_entries ke JOIN journal_entries kx ON kx.reverses = ke.id
                               WHERE ke.counter_id = k.id)
             ORDER BY k.id",
            placeholders(1, chunk.len())
        );
        let mut q = sqlx::query_as::<DB, (i64, String, String)>(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for (loan, receipt, note) in q.fetch_all(&mut *c).await? {
            out.entry(loan).or_default().push((receipt, note));
        }
    }
    Ok(out)
}

/// One loan's books while a posting is planned.
struct LoanBook {
    code: String,
    closed: bool,
    officer_id: i64,
    states: Vec<InstallmentState>,
    original: Vec<InstallmentState>,
    original_closed: bool,
}

/// An entry planned in memory, written by [`Poster::write`].
struct Planned {
    id: i64,
    kind: EntryKind,
    branch_id: i64,
    record_id: Option<i64>,
    counter_id: Option<i64>,
    receipt_id: Option<i64>,
    batch_id: Option<uuid::Uuid>,
    reverses: Option<i64>,
    loan_id: Option<i64>,
    officer_id: Option<i64>,
    memo: String,
    lines: Lines,
    /// Takes a loan paid out back: it collects nothing (the day's report
    /// leaves it out).
    takes_back_loan: bool,
}

/// The never-negative accounts a plan checks as it goes.
const GUARD_LOADED: [Account; 3] = [Account::Vault, Account::GiftStock, Account::Bank];

/// A sub-ledger of an account that may never go below zero.
type GuardKey = (Account, i64, Option<i64>, Option<i64>);

fn guard_key(l: &ledger::Line) -> Option<GuardKey> {
    l.account.never_negative().then_some((l.account, l.branch_id, l.officer_id, l.campaign_id))
}

/// Balances (debits minus credits) of some never-negative accounts of some
/// branches, by sub-ledger.
async fn guarded_balances(
    c: &mut Conn,
    accounts: &[Account],
    branches: &[i64],
) -> DbResult<HashMap<GuardKey, i64>> {
    let mut out = HashMap::new();
    if accounts.is_empty() {
        return Ok(out);
    }
    for chunk in branches.chunks(<DB as Lists>::chunk_len()) {
        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "SELECT account, branch_id, NULLIF(officer_id, 0), NULLIF(campaign_id, 0), debit - credit
             FROM account_balances WHERE account IN (",
        );
        let mut list = qb.separated(", ");
        for a in accounts {
            list.push_bind(a.as_str());
        }
        qb.push(") AND ");
        <DB as Lists>::ints(&mut qb, "branch_id", chunk);
        let rows = qb.build_query_as::<(String, i64, Option<i64>, Option<i64>, i64)>().fetch_all(&mut *c).await?;
        for (account, branch, officer, campaign, balance) in rows {
            let account = Account::parse(&account).ok_or_else(|| DbError::Invalid(format!("account {account}")))?;
            out.insert((account, branch, officer, campaign), balance);
        }
    }
    Ok(out)
}

fn overdrawn_refusal(account: Account, balance: i64) -> DbError {
    refused(
        409,
        "balance_negative",
        format!(
            "Không ghi sổ được: tài khoản \"{}\" sẽ âm ({}); không có gì được ghi",
            account.name_vi(),
            format_vnd(balance)
        ),
        format!(
            "cannot post: the account \"{}\" would go negative ({}); nothing was posted",
            account.name_en(),
            format_vnd(balance)
        ),
    )
}

/// Writes journal lines, each with its entry's id, in bulk.
pub(super) async fn insert_journal_lines(c: &mut Conn, lines: &[(i64, &ledger::Line)]) -> DbResult<()> {
    let columns = [
        Column::Int(lines.iter().map(|(e, _)| *e).collect()),
        Column::Str(lines.iter().map(|(_, l)| l.account.as_str()).collect()),
        Column::Int(lines.iter().map(|(_, l)| l.branch_id).collect()),
        Column::OptInt(lines.iter().map(|(_, l)| l.officer_id).collect()),
        Column::OptInt(lines.iter().map(|(_, l)| l.campaign_id).collect()),
        Column::OptInt(lines.iter().map(|(_, l)| l.loan_id).collect()),
        Column::Int(lines.iter().map(|(_, l)| l.debit).collect()),
        Column::Int(lines.iter().map(|(_, l)| l.credit).collect()),
    ];
    insert_all(
        c,
        "INSERT INTO journal_lines (entry_id, account, branch_id, officer_id, campaign_id, loan_id, debit, credit) ",
        &columns,
    )
    .await
}

/// Plans postings against the books and writes them in bulk.
struct Poster {
    next_id: i64,
    posted_by: i64,
    loans: HashMap<i64, LoanBook>,
    entries: Vec<Planned>,
    /// Entries already reversed, in the database or in this plan.
    reversed: HashSet<i64>,
    /// Never-negative balances of the branches loaded with
    /// [`Poster::load_guard`], as they stand with the plan so far.
    guard: HashMap<GuardKey, i64>,
    guard_branches: HashSet<i64>,
}

#[derive(sqlx::FromRow)]
struct LoanHead {
    id: i64,
    code: String,
    status: String,
    officer_id: i64,
}

#[derive(sqlx::FromRow)]
struct BookRow {
    loan_id: i64,
    number: i64,
    due_on: NaiveDate,
    principal_due: i64,
    interest_due: i64,
    principal_paid: i64,
    interest_paid: i64,
}

impl Poster {
    async fn new(c: &mut Conn, posted_by: i64) -> DbResult<Poster> {
        let last: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM journal_entries").fetch_one(&mut *c).await?;
        Ok(Poster {
            next_id: last.unwrap_or(0) + 1,
            posted_by,
            loans: HashMap::new(),
            entries: Vec::new(),
            reversed: HashSet::new(),
            guard: HashMap::new(),
            guard_branches: HashSet::new(),
        })
    }

    /// Loads a branch's vault, gift stock and bank balances (before
    /// planning): what gifts, grants, loans paid out and reversals draw on. Officers' cash in hand is
    /// drawn only by the settlement of what the same batch collected, and
    /// [`Poster::write`] checks every balance once more.
    async fn load_guard(&mut self, c: &mut Conn, branch_id: i64) -> DbResult<()> {
        if self.guard_branches.insert(branch_id) {
            self.guard.extend(guarded_balances(c, &GUARD_LOADED, &[branch_id]).await?);
        }
        Ok(())
    }

    /// [`Poster::shortfall`] of reversing `target`.
    fn reversal_shortfall(&self, target: &TargetEntry, extra_vault: i64) -> Option<(Account, i64)> {
        let lines = match target.kind.as_str() {
            "repayment" | "counter_repayment" => {
                let amount: i64 = target
                    .lines
                    .iter()
                    .filter(|l| matches!(l.account, Account::LoanPrincipal | Account::InterestIncome))
                    .map(|l| l.credit - l.debit)
                    .sum();
                let mut lines = Lines::default();
                lines.credit(At { branch_id: target.branch_id, ..At::default() }, repaid_into(target), amount);
                lines
            }
            "gift" | "welfare" | "campaign_receipt" | "capital_receipt" | "bank_move" | "over_short_settlement" => {
                ledger::opposite(&target.lines)
            }
            _ => return None,
        };
        self.shortfall(&lines, extra_vault)
    }

    /// A never-negative balance with the plan so far.
    fn guarded(&self, key: GuardKey) -> i64 {
        self.guard.get(&key).copied().unwrap_or(0)
    }

    /// The first never-negative sub-ledger `lines` would draw below zero
    /// (with `extra` more cash in the branch vault by the end of the plan),
    /// and what it holds now.
    fn shortfall(&self, lines: &Lines, extra_vault: i64) -> Option<(Account, i64)> {
        let mut delta: HashMap<GuardKey, i64> = HashMap::new();
        for l in &lines.0 {
            if let Some(k) = guard_key(l) {
                *delta.entry(k).or_default() += l.debit - l.credit;
            }
        }
        let mut delta: Vec<(GuardKey, i64)> = delta
            .into_iter()
            .filter(|(k, _)| self.guard_branches.contains(&k.1) && GUARD_LOADED.contains(&k.0))
            .collect();
        delta.sort_by_key(|(k, _)| (k.0.as_str(), k.1, k.2, k.3));
        delta.into_iter().find_map(|(k, d)| {
            let extra = if k.0 == Account::Vault { extra_vault } else { 0 };
            let now = self.guarded(k);
            (d < 0 && now + extra + d < 0).then_some((k.0, now + extra))
        })
    }

    /// Loads the books of loans not loaded yet.
    async fn load_loans(&mut self, c: &mut Conn, ids: &[i64]) -> DbResult<()> {
        let mut wanted: Vec<i64> = ids.iter().copied().filter(|id| !self.loans.contains_key(id)).collect();
        wanted.sort_unstable();
        wanted.dedup();
        for chunk in wanted.chunks(<DB as Lists>::chunk_len()) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "SELECT l.id, l.code, l.status, w.officer_id FROM loans l JOIN workers w ON w.id = l.worker_id WHERE ",
            );
            <DB as Lists>::ints(&mut qb, "l.id", chunk);
            for h in qb.build_query_as::<LoanHead>().fetch_all(&mut *c).await? {
                self.loans.insert(
                    h.id,
                    LoanBook {
                        code: h.code,
                        closed: h.status == "closed",
                        original_closed: h.status == "closed",
                        officer_id: h.officer_id,
                        states: Vec::new(),
                        original: Vec::new(),
                    },
                );
            }
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "SELECT loan_id, number, due_on, principal_due, interest_due, principal_paid, interest_paid
                 FROM installments WHERE ",
            );
            <DB as Lists>::ints(&mut qb, "loan_id", chunk);
            qb.push(" ORDER BY loan_id, number");
            let q = qb.build_query_as::<BookRow>();
            for r in q.fetch_all(&mut *c).await? {
                if let Some(book) = self.loans.get_mut(&r.loan_id) {
                    let s = InstallmentState {
                        number: r.number as u32,
                        due_on: r.due_on,
                        principal_due: r.principal_due,
                        interest_due: r.interest_due,
                        principal_paid: r.principal_paid,
                        interest_paid: r.interest_paid,
                    };
                    book.original.push(s.clone());
                    book.states.push(s);
                }
            }
        }
        Ok(())
    }

    fn plan(&mut self, kind: EntryKind, branch_id: i64, memo: String, lines: Lines) -> &mut Planned {
        let id = self.next_id;
        self.next_id += 1;
        for l in &lines.0 {
            if let Some(k) = guard_key(l) {
                *self.guard.entry(k).or_default() += l.debit - l.credit;
            }
        }
        self.entries.push(Planned {
            id,
            kind,
            branch_id,
            record_id: None,
            counter_id: None,
            receipt_id: None,
            batch_id: None,
            reverses: None,
            loan_id: None,
            officer_id: None,
            memo,
            lines,
            takes_back_loan: false,
        });
        self.entries.last_mut().expect("just pushed")
    }

    /// Applies a repayment to a loan's books: the allocation, or why it
    /// cannot post (closed loan, above the outstanding balance).
    fn repay(&mut self, loan_id: i64, amount: i64) -> Result<sotay_core::domain::schedule::Allocation, RuleViolation> {
        let book = self.loans.get_mut(&loan_id).ok_or(RuleViolation::LoanNotInPortfolio)?;
        let status = if book.closed { LoanStatus::Closed } else { LoanStatus::Active };
        let allocation = rules::check_repayment(status, &book.states, amount)?;
        apply_allocation(&mut book.states, &allocation, 1);
        if outstanding(&book.states).total() == 0 {
            book.closed = true;
        }
        Ok(allocation)
    }

    /// Plans the reversal of entry `target` (kind, branch, loan, lines).
    /// Plans the reversal of `target`. A repayment's money comes back out
    /// of where it went (the vault, or the bank), or, with `officer_cash`,
    /// out of the cash that officer hands over with the batch being
    /// approved (an officer's request from the phone: the amount is netted
    /// against the batch's collections).
    fn reverse(
        &mut self,
        target: &TargetEntry,
        memo: String,
        officer_cash: Option<i64>,
    ) -> Result<&mut Planned, (&'static str, String, String)> {
        if self.reversed.contains(&target.id) || target.reversed {
            return Err((
                "already_reversed",
                format!("Bút toán số {} đã được đảo rồi", target.id),
                format!("entry {} was already reversed", target.id),
            ));
        }
        let lines = match target.kind.as_str() {
            "repayment" | "counter_repayment" => {
                let loan_id = target.loan_id.ok_or(("reversal_target_invalid", String::new(), String::new()))?;
                let amount: i64 = target
                    .lines
                    .iter()
                    .filter(|l| matches!(l.account, Account::LoanPrincipal | Account::InterestIncome))
                    .map(|l| l.credit - l.debit)
                    .sum();
                let book = self.loans.get_mut(&loan_id).ok_or((
                    "reversal_target_invalid",
                    "Không tìm thấy khoản vay của bút toán".to_string(),
                    "the entry's loan was not found".to_string(),
                ))?;
                let unwound = ledger::unwind(&book.states, amount).ok_or((
                    "reversal_exceeds_paid",
                    format!("Không thể đảo {}: khoản vay {} chưa thu đủ số này", format_vnd(amount), book.code),
                    format!("cannot reverse {}: loan {} has not been paid that much", format_vnd(amount), book.code),
                ))?;
                book.states = unwound.states;
                book.closed = outstanding(&book.states).total() == 0;
                let at = At { branch_id: target.branch_id, loan_id: Some(loan_id), ..At::default() };
                let back = match officer_cash {
                    Some(officer) => (At { loan_id: None, officer_id: Some(officer), ..at }, Account::CashInHand),
                    None => (At { loan_id: None, ..at }, repaid_into(target)),
                };
                let mut lines = Lines::default();
                lines
                    .debit(at, Account::LoanPrincipal, unwound.principal)
                    .debit(at, Account::InterestIncome, unwound.interest)
                    .credit(back.0, back.1, amount);
                lines
            }
            // A stock receipt entered by mistake: its packages (or cash)
            // leave again, as long as none was handed out meanwhile (the
            // never-negative guard on the stock and the vault says so).
            "gift" | "welfare" | "campaign_receipt" | "capital_receipt" | "bank_move" | "over_short_settlement" => {
                ledger::opposite(&target.lines)
            }
            // A loan paid out in error, its cash back in the vault, or one
            // imported with a typo in its terms: the loan closes (the caller
            // checked that nothing was collected on it and cancels its
            // schedule).
            "disbursement" | "loan_opening" => {
                let loan_id = target.loan_id.ok_or(("reversal_target_invalid", String::new(), String::new()))?;
                let book = self.loans.get_mut(&loan_id).ok_or((
                    "reversal_target_invalid",
                    "Không tìm thấy khoản vay của bút toán".to_string(),
                    "the entry's loan was not found".to_string(),
                ))?;
                book.closed = true;
                ledger::opposite(&target.lines)
            }
            _ => {
                return Err((
                    "reversal_target_invalid",
                    format!("Bút toán số {} không đảo được", target.id),
                    format!("entry {} cannot be reversed", target.id),
                ))
            }
        };
        self.reversed.insert(target.id);
        let branch_id = target.branch_id;
        let planned = self.plan(EntryKind::Reversal, branch_id, memo, lines);
        planned.takes_back_loan = EntryKind::takes_back_loan(&target.kind);
        planned.reverses = Some(target.id);
        planned.loan_id = target.loan_id;
        planned.officer_id = target.officer_id;
        Ok(planned)
    }

    /// Writes the planned entries, their lines, the installments and loan
    /// statuses that changed. Returns (officer, loan) of changed loans.
    async fn write(self, c: &mut Conn, now: DateTime<Utc>) -> DbResult<(Vec<(i64, i64)>, Vec<String>)> {
        for e in &self.entries {
            if e.lines.imbalance() != 0 || e.lines.0.is_empty() {
                return Err(DbError::Invariant(format!("entry {} does not balance", e.id)));
            }
        }
        // No never-negative balance ends below zero, whatever the plan checked.
        let mut delta: HashMap<GuardKey, i64> = HashMap::new();
        for l in self.entries.iter().flat_map(|e| e.lines.0.iter()) {
            if let Some(k) = guard_key(l) {
                *delta.entry(k).or_default() += l.debit - l.credit;
            }
        }
        delta.retain(|_, d| *d < 0);
        if !delta.is_empty() {
            let mut branches: Vec<i64> = delta.keys().map(|k| k.1).collect();
            branches.sort_unstable();
            branches.dedup();
            let mut accounts: Vec<Account> = delta.keys().map(|k| k.0).collect();
            accounts.sort_by_key(|a| a.as_str());
            accounts.dedup();
            let now_balances = guarded_balances(c, &accounts, &branches).await?;
            let mut keys: Vec<&GuardKey> = delta.keys().collect();
            keys.sort_by_key(|k| (k.0.as_str(), k.1, k.2, k.3));
            for k in keys {
                let after = now_balances.get(k).copied().unwrap_or(0) + delta[k];
                if after < 0 {
                    return Err(overdrawn_refusal(k.0, after));
                }
            }
        }
        let es = &self.entries;
        let n = es.len();
        let entries = [
            Column::Int(es.iter().map(|e| e.id).collect()),
            Column::Int(es.iter().map(|e| e.branch_id).collect()),
            Column::Text(es.iter().map(|e| e.kind.as_str().to_string()).collect()),
            Column::OptInt(es.iter().map(|e| e.record_id).collect()),
            Column::OptInt(es.iter().map(|e| e.counter_id).collect()),
            Column::OptInt(es.iter().map(|e| e.receipt_id).collect()),
            Column::OptUuid(es.iter().map(|e| e.batch_id).collect()),
            Column::OptInt(es.iter().map(|e| e.reverses).collect()),
            Column::OptInt(es.iter().map(|e| e.loan_id).collect()),
            Column::OptInt(es.iter().map(|e| e.officer_id).collect()),
            Column::Int(vec![self.posted_by; n]),
            Column::Time(vec![now; n]),
            Column::Text(es.iter().map(|e| e.memo.clone()).collect()),
        ];
        insert_all(
            c,
            "INSERT INTO journal_entries (id, branch_id, kind, record_id, counter_id, receipt_id, batch_id, reverses, loan_id,
                 officer_id, posted_by, posted_at, memo) ",
            &entries,
        )
        .await?;
        let lines: Vec<(i64, &ledger::Line)> = es.iter().flat_map(|e| e.lines.0.iter().map(move |l| (e.id, l))).collect();
        insert_journal_lines(c, &lines).await?;
        // The day's report summary, in this transaction: what each entry adds
        // for its branch and officer (0: the counter).
        let mut daily: std::collections::BTreeMap<(i64, i64), crate::reports::rows::DailyDelta> = Default::default();
        for e in self.entries.iter().filter(|e| !e.takes_back_loan) {
            let d = crate::reports::rows::DailyDelta::of_entry(e.kind, &e.lines.0);
            if !d.is_zero() {
                daily.entry((e.branch_id, e.officer_id.unwrap_or(0))).or_default().add(&d);
            }
        }
        let daily: Vec<_> = daily.into_iter().collect();
        super::reports::daily_add(c, sotay_core::domain::time::local_date(now), &daily).await?;
        let mut changed_rows: Vec<(i64, i64, i64, i64)> = Vec::new();
        let mut changed_loans = Vec::new();
        let (mut close, mut reopen, mut closed_codes) = (Vec::new(), Vec::new(), Vec::new());
        for (id, book) in &self.loans {
            let mut changed = false;
            for (now_s, was) in book.states.iter().zip(&book.original) {
                if now_s != was {
                    changed = true;
                    changed_rows.push((*id, now_s.number as i64, now_s.principal_paid, now_s.interest_paid));
                }
            }
            if book.closed != book.original_closed {
                changed = true;
                if book.closed {
                    close.push(*id);
                    closed_codes.push(book.code.clone());
                } else {
                    reopen.push(*id);
                }
            }
            if changed {
                changed_loans.push((book.officer_id, *id));
            }
        }
        changed_rows.sort_unstable();
        if !IS_SQLITE && !changed_rows.is_empty() {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "UPDATE installments SET principal_paid = v.column3, interest_paid = v.column4 FROM ",
            );
            let columns = [
                Column::Int(changed_rows.iter().map(|r| r.0).collect()),
                Column::Int(changed_rows.iter().map(|r| r.1).collect()),
                Column::Int(changed_rows.iter().map(|r| r.2).collect()),
                Column::Int(changed_rows.iter().map(|r| r.3).collect()),
            ];
            qb.push("(");
            <DB as Lists>::rows(&mut qb, &columns, 0..changed_rows.len());
            qb.push(
                ") AS v (column1, column2, column3, column4)
                 WHERE installments.loan_id = v.column1 AND installments.number = v.column2",
            );
            qb.build().execute(&mut *c).await?;
            changed_rows.clear();
        }
        for chunk in changed_rows.chunks(1_000) {
            let values = (0..chunk.len())
                .map(|i| format!("(${}, ${}, ${}, ${})", 4 * i + 1, 4 * i + 2, 4 * i + 3, 4 * i + 4))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "UPDATE installments SET principal_paid = v.column3, interest_paid = v.column4
                 FROM (VALUES {values}) AS v
                 WHERE installments.loan_id = v.column1 AND installments.number = v.column2"
            );
            let mut q = sqlx::query::<DB>(&sql);
            for (loan, number, pp, ip) in chunk {
                q = q.bind(*loan).bind(*number).bind(*pp).bind(*ip);
            }
            q.execute(&mut *c).await?;
        }
        for (ids, status) in [(close, "closed"), (reopen, "active")] {
            for chunk in ids.chunks(1_000) {
                let sql = format!(
                    "UPDATE loans SET status = $1, updated_at = $2 WHERE id IN ({})",
                    placeholders(3, chunk.len())
                );
                let mut q = sqlx::query::<DB>(&sql).bind(status).bind(now);
                for id in chunk {
                    q = q.bind(*id);
                }
                q.execute(&mut *c).await?;
            }
        }
        changed_loans.sort_unstable();
        closed_codes.sort();
        Ok((changed_loans, closed_codes))
    }
}

/// A posted entry that may be reversed.
struct TargetEntry {
    id: i64,
    kind: String,
    branch_id: i64,
    loan_id: Option<i64>,
    officer_id: Option<i64>,
    reversed: bool,
    lines: Vec<ledger::Line>,
}

#[derive(sqlx::FromRow)]
struct EntryHead {
    id: i64,
    kind: String,
    branch_id: i64,
    loan_id: Option<i64>,
    officer_id: Option<i64>,
    record_id: Option<i64>,
    reversed: bool,
}

#[derive(sqlx::FromRow)]
struct LineRow {
    entry_id: i64,
    account: String,
    branch_id: i64,
    officer_id: Option<i64>,
    campaign_id: Option<i64>,
    loan_id: Option<i64>,
    debit: i64,
    credit: i64,
}

/// Posted entries by id, or by the record they posted, with their lines.
async fn target_entries(c: &mut Conn, column: &str, keys: &[i64]) -> DbResult<Vec<(EntryHead, TargetEntry)>> {
    let mut out = Vec::new();
    for chunk in keys.chunks(1_000) {
        let sql = format!(
            "SELECT e.id, e.kind, e.branch_id, e.loan_id, e.officer_id, e.record_id,
                 EXISTS (SELECT 1 FROM journal_entries x WHERE x.reverses = e.id) AS reversed
             FROM journal_entries e WHERE e.{column} IN ({})",
            placeholders(1, chunk.len())
        );
        let mut q = sqlx::query_as::<DB, EntryHead>(&sql);
        for k in chunk {
            q = q.bind(*k);
        }
        let heads = q.fetch_all(&mut *c).await?;
        if heads.is_empty() {
            continue;
        }
        let sql = format!(
            "SELECT entry_id, account, branch_id, officer_id, campaign_id, loan_id, debit, credit FROM journal_lines
             WHERE entry_id IN ({}) ORDER BY id",
            placeholders(1, heads.len())
        );
        let mut q = sqlx::query_as::<DB, LineRow>(&sql);
        for h in &heads {
            q = q.bind(h.id);
        }
        let mut lines: HashMap<i64, Vec<ledger::Line>> = HashMap::new();
        for l in q.fetch_all(&mut *c).await? {
            let account = Account::parse(&l.account).ok_or_else(|| DbError::Invalid(format!("account {}", l.account)))?;
            lines.entry(l.entry_id).or_default().push(ledger::Line {
                account,
                branch_id: l.branch_id,
                officer_id: l.officer_id,
                campaign_id: l.campaign_id,
                loan_id: l.loan_id,
                debit: l.debit,
                credit: l.credit,
            });
        }
        for h in heads {
            let t = TargetEntry {
                id: h.id,
                kind: h.kind.clone(),
                branch_id: h.branch_id,
                loan_id: h.loan_id,
                officer_id: h.officer_id,
                reversed: h.reversed,
                lines: lines.remove(&h.id).unwrap_or_default(),
            };
            out.push((h, t));
        }
    }
    Ok(out)
}

#[derive(sqlx::FromRow)]
struct CampaignValue {
    id: i64,
    kind: String,
    gift_value: i64,
    name: String,
}

fn decided_refusal(head: &rv::BatchHeadRow) -> DbError {
    let (vi, en) = if head.decision.as_deref() == Some("approved") { ("duyệt", "approved") } else { ("từ chối", "rejected") };
    let who = head.reviewer_name.clone().unwrap_or_default();
    let when = head.decided_at.map(sotay_core::domain::time::format_datetime).unwrap_or_default();
    refused(
        409,
        "batch_already_decided",
        format!("Lô này đã được {vi} bởi {who} lúc {when}; không thể quyết định lần nữa"),
        format!("this batch was already {en} by {who} at {when}; it cannot be decided again"),
    )
}

/// Checks scope and maker ≠ checker for a decision on `head`.
fn may_decide(who: &rv::Reviewer, head: &rv::BatchHeadRow) -> DbResult<()> {
    if !who.covers(head.branch_id) {
        return Err(DbError::NotFound);
    }
    if head.officer_id == who.user_id {
        return Err(refused(
            403,
            "maker_checker",
            "Không ai được duyệt bản ghi của chính mình".into(),
            "nobody may approve their own records".into(),
        ));
    }
    if head.decision.is_some() {
        return Err(decided_refusal(head));
    }
    Ok(())
}

/// A record as a supervisor knows it, in Vietnamese and English: its
/// receipt, or the gift and its recipient, or the receipt a reversal is
/// asked for.
fn record_label(r: &rv::ReviewRecordRow) -> (String, String) {
    let worker = r.worker_name.clone().unwrap_or_default();
    match (r.kind.as_str(), &r.receipt_no) {
        ("repayment", Some(receipt)) => (format!("Phiếu thu {receipt}"), format!("Receipt {receipt}")),
        ("gift_handout", _) => {
            let campaign = r.campaign_name.clone().unwrap_or_default();
            (format!("Quà {campaign} cho {worker}"), format!("Gift of {campaign} to {worker}"))
        }
        ("visit", _) => (format!("Lượt thăm {worker}"), format!("Visit to {worker}")),
        ("reversal_request", _) => {
            let target = r.target_receipt.clone().unwrap_or_else(|| worker.clone());
            (format!("Đề nghị đảo {target}"), format!("Reversal request for {target}"))
        }
        (kind, _) => {
            let id = r.client_id.to_string();
            (format!("Bản ghi {kind} {}", &id[..8]), format!("Record {kind} {}", &id[..8]))
        }
    }
}


/// Approves a batch: posts its live records, settles the cash counted and
/// records every record's fate, in one transaction, once.
#[allow(clippy::too_many_arguments)]
pub async fn review_approve(
    c: &mut Conn,
    who: &rv::Reviewer,
    batch_id: uuid::Uuid,
    cash_received: i64,
    excluded: &[(uuid::Uuid, String)],
    expected_seen: Option<i64>,
    entered_again: &rv::EnteredAgainAnswers,
    now: DateTime<Utc>,
) -> DbResult<rv::ApprovalOutcome> {
    let now = take_write_lock(c, now).await?;
    let head = batch_to_decide(c, who, batch_id).await?;
    let branch_id = head.branch_id.ok_or_else(|| DbError::Invalid("officer without a branch".into()))?;
    let records = review_records(c, &[batch_id]).await?;
    // A record voided from the phone in a later batch not decided yet: the
    // void is the supervisor's to decide first (approving this batch would
    // take it as standing, and a rejection of it later would bring back
    // nothing) — unless the record is left out here, which posts nothing
    // whichever way the void goes.
    // With whether the void's batch asks to reverse a record of this one
    // (so it waits for this batch in turn: only leaving the record out here
    // lets both through).
    let waiting: Vec<(uuid::Uuid, DateTime<Utc>, i32)> = sqlx::query_as(
        "SELECT t.client_id, vb.received_at,
                CASE WHEN EXISTS (SELECT 1 FROM sync_records q JOIN sync_records o ON o.client_id = q.target_client_id
                                  WHERE q.batch_id = v.batch_id AND q.kind = 'reversal_request' AND q.status = 'accepted'
                                    AND o.batch_id = t.batch_id) THEN 1 ELSE 0 END
         FROM sync_records t
         JOIN sync_records v ON v.target_client_id = t.client_id AND v.kind = 'void' AND v.status = 'accepted'
              AND v.batch_id <> t.batch_id
         JOIN sync_batches vb ON vb.batch_id = v.batch_id
         WHERE t.batch_id = $1 AND NOT EXISTS (SELECT 1 FROM record_reviews d WHERE d.record_id = v.id)
         ORDER BY vb.received_at",
    )
    .bind(batch_id)
    .fetch_all(&mut *c)
    .await?;
    let mut exclusions: HashMap<uuid::Uuid, String> = HashMap::new();
    for (id, reason) in excluded {
        let Some(record) = records.iter().find(|r| r.client_id == *id) else {
            return Err(refused(
                422,
                "excluded_not_in_batch",
                format!("Bản ghi {id} không thuộc lô này"),
                format!("record {id} is not part of this batch"),
            ));
        };
        if record.kind == "void" {
            let (vi, en) = match (&record.target_receipt, record.target_kind.as_deref()) {
                (Some(receipt), _) => (format!("phiếu {receipt}"), format!("receipt {receipt}")),
                (None, Some("gift_handout")) => ("một suất quà".to_string(), "a gift".to_string()),
                (None, Some("visit")) => ("một lượt thăm".to_string(), "a visit".to_string()),
                _ => ("một bản ghi".to_string(), "a record".to_string()),
            };
            return Err(refused(
                422,
                "void_not_excludable",
                format!("Việc cán bộ hủy {vi} không loại được: đó là sửa sai của chính cán bộ. Nếu việc hủy không đúng, hãy từ chối cả lô và trao đổi với cán bộ"),
                format!("the officer's void of {en} cannot be excluded: it is the officer's own correction. If the void is wrong, reject the whole batch and talk to the officer"),
            ));
        }
        if record.voided && !waiting.iter().any(|(t, _, _)| t == id) {
            return Err(refused(
                422,
                "voided_not_excludable",
                format!("Bản ghi {id} đã được cán bộ hủy: nó không ghi sổ, không cần loại (lý do hủy của cán bộ được giữ)"),
                format!("record {id} was voided by the officer: it does not post and needs no exclusion (the officer's reason is kept)"),
            ));
        }
        if reason.trim().is_empty() {
            return Err(refused(
                422,
                "reason_required",
                format!("Cần ghi lý do loại bản ghi {id}"),
                format!("give a reason for excluding record {id}"),
            ));
        }
        if exclusions.insert(*id, reason.trim().to_string()).is_some() {
            // Two reasons for one record: neither is dropped unseen.
            return Err(refused(
                422,
                "excluded_twice",
                format!("Bản ghi {id} được loại hai lần; chỉ loại một lần, với một lý do"),
                format!("record {id} is excluded twice; exclude it once, with one reason"),
            ));
        }
    }

    let mut poster = Poster::new(c, who.user_id).await?;
    poster.load_guard(c, branch_id).await?;
    let loan_ids: Vec<i64> = records.iter().filter_map(|r| r.loan_id).collect();
    poster.load_loans(c, &loan_ids).await?;
    let mut campaign_ids: Vec<i64> = records.iter().filter_map(|r| r.campaign_id).collect();
    campaign_ids.sort_unstable();
    campaign_ids.dedup();
    let mut campaigns: HashMap<i64, CampaignValue> = HashMap::new();
    if !campaign_ids.is_empty() {
        let sql = format!(
            "SELECT id, kind, gift_value, name FROM campaigns WHERE id IN ({})",
            placeholders(1, campaign_ids.len())
        );
        let mut q = sqlx::query_as::<DB, CampaignValue>(&sql);
        for id in &campaign_ids {
            q = q.bind(*id);
        }
        campaigns.extend(q.fetch_all(&mut *c).await?.into_iter().map(|k| (k.id, k)));
    }
    // The originals that reversal requests point at, posted before.
    let wanted: Vec<uuid::Uuid> = records
        .iter()
        .filter(|r| r.kind == "reversal_request")
        .filter_map(|r| r.target_client_id)
        .collect();
    let mut target_record: HashMap<uuid::Uuid, i64> = HashMap::new();
    // Those refused at upload, rejected or left out: never to be posted.
    let mut refused_targets: HashSet<i64> = HashSet::new();
    for chunk in wanted.chunks(1_000) {
        let sql = format!(
            "SELECT s.client_id, s.id,
                    CASE WHEN s.status = 'rejected' OR d.decision IN ('rejected', 'excluded') THEN 1 ELSE 0 END
             FROM sync_records s LEFT JOIN record_reviews d ON d.record_id = s.id
             WHERE s.client_id IN ({})",
            placeholders(1, chunk.len())
        );
        let mut q = sqlx::query_as::<DB, (uuid::Uuid, i64, i32)>(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for (client, id, refused) in q.fetch_all(&mut *c).await? {
            target_record.insert(client, id);
            if refused == 1 {
                refused_targets.insert(id);
            }
        }
    }
    let requests: Vec<uuid::Uuid> = records.iter().filter(|r| r.kind == "reversal_request").map(|r| r.client_id).collect();
    let blocked_originals = originals_waiting_for_voids_of(c, &requests).await?;
    let ids: Vec<i64> = target_record.values().copied().collect();
    let mut posted_targets: HashMap<i64, TargetEntry> = HashMap::new();
    for (h, t) in target_entries(c, "record_id", &ids).await? {
        if let Some(record) = h.record_id {
            posted_targets.insert(record, t);
        }
    }
    let target_loans: Vec<i64> = posted_targets.values().filter_map(|t| t.loan_id).collect();
    poster.load_loans(c, &target_loans).await?;

    let mut fates: Vec<(i64, &'static str, Option<String>)> = Vec::with_capacity(records.len());
    // Records that cannot post: id, Vietnamese and English reason.
    let mut problems: Vec<(uuid::Uuid, String, String)> = Vec::new();
    // Refused records the officer asked to reverse, settled with the
    // approval of her request: (the record, the settlement's note).
    let mut settle_as_asked: Vec<(uuid::Uuid, String)> = Vec::new();
    if let Some((target, at, waits_for_this)) = waiting.iter().find(|(t, _, _)| !exclusions.contains_key(t)) {
        let r = records.iter().find(|r| r.client_id == *target).expect("a record of the batch");
        let (who_vi, who_en) = record_label(r);
        let at = sotay_core::domain::time::format_datetime(*at);
        if *waits_for_this == 1 {
            // Each batch waits for the other: the way through is said.
            return Err(refused(
                409,
                "void_waiting_in_other_batch",
                format!("{who_vi} đã được cán bộ hủy trong lô gửi lúc {at}; lô đó lại đề nghị đảo một bản ghi của lô này nên chỉ duyệt được sau lô này. Hãy loại bản ghi này (việc hủy ở lô kia quyết định nó) rồi duyệt lô này, sau đó duyệt lô kia"),
                format!("{who_en} was voided by the officer in a batch sent at {at}; that batch also asks to reverse a record of this one, so it can only be approved after this one. Exclude this record (the void in the other batch decides it) and approve this batch, then the other"),
            ));
        }
        return Err(refused(
            409,
            "void_waiting_in_other_batch",
            format!("{who_vi} đã được cán bộ hủy trong lô gửi lúc {at}, lô đó còn chờ duyệt: hãy duyệt lô đó (việc hủy đúng) hoặc từ chối nó (việc hủy sai) trước, rồi duyệt lô này; hoặc loại bản ghi này rồi duyệt"),
            format!("{who_en} was voided by the officer in a batch sent at {at}, still waiting for review: approve that batch (the void is right) or reject it (the void is wrong) first, then approve this one; or exclude this record and approve"),
        ));
    }
    let mut expected = 0i64;
    // An officer's reversal of a cash repayment she collected (posted, at
    // this branch) goes back the way its cash came, through her: it is
    // netted against the cash she hands over with this batch (she keeps
    // that much back, to give back to the borrower, or because it is in the
    // vault already, as when she re-enters an amount typed wrong). The
    // vault pays nothing out at approval. When the batch's reversals take
    // back more than it collects, what is left is the branch's to give her
    // (an overage on her over/short account: it cancels a shortage counted
    // for a receipt typed too high, or is paid out to her at the branch to
    // give back to the borrower).
    let decided = |r: &rv::ReviewRecordRow| {
        !exclusions.contains_key(&r.client_id) && r.status != "quarantined" && !r.voided
    };
    // Or her repayment in this very batch (sent again with its request
    // after a restore), posted just before its reversal below.
    let in_batch: HashMap<uuid::Uuid, i64> = records
        .iter()
        .filter(|r| r.kind == "repayment" && decided(r))
        .filter_map(|r| r.amount.map(|a| (r.client_id, a)))
        .collect();
    let taken_back = |r: &rv::ReviewRecordRow| {
        let target = r.target_client_id?;
        in_batch.get(&target).copied().or_else(|| {
            target_record
                .get(&target)
                .and_then(|id| posted_targets.get(id))
                .filter(|t| t.kind == "repayment" && repaid_into(t) == Account::Vault && t.branch_id == branch_id)
                .map(repaid_amount)
        })
    };
    let netted: HashMap<uuid::Uuid, i64> = records
        .iter()
        .filter(|r| r.kind == "reversal_request" && decided(r))
        .filter_map(|r| taken_back(r).map(|a| (r.client_id, a)))
        .collect();
    let mut gift_campaigns: HashSet<i64> = HashSet::new();
    // Packages of each campaign this batch's gifts take off the stock.
    let mut planned_gifts: HashMap<i64, i64> = HashMap::new();
    // Gifts of the batch whose worker has the campaign's gift settled as
    // handed out for real on another record (refused, then settled so).
    let gifted_already: HashSet<i64> = sqlx::query_scalar(&format!(
        "SELECT g.id FROM sync_records g WHERE g.batch_id = $1 AND g.kind = 'gift_handout'
           AND EXISTS (SELECT 1 FROM sync_records r WHERE r.worker_id = g.worker_id
                         AND r.campaign_id = g.campaign_id AND r.id <> g.id AND {})",
        handed_out_sql!(r)
    ))
    .bind(batch_id)
    .fetch_all(&mut *c)
    .await?
    .into_iter()
    .collect();
    for r in &records {
        if let Some(reason) = exclusions.get(&r.client_id) {
            fates.push((r.id, "excluded", Some(reason.clone())));
            if let Some(k) = r.campaign_id {
                gift_campaigns.insert(k);
            }
            continue;
        }
        if r.status == "quarantined" {
            fates.push((r.id, "excluded", Some(rv::EXCLUDED_QUARANTINED.into())));
            continue;
        }
        if r.voided {
            fates.push((r.id, "excluded", Some(rv::EXCLUDED_VOIDED.into())));
            continue;
        }
        let (who_vi, who_en) = record_label(r);
        match r.kind.as_str() {
            "repayment" => {
                let (Some(loan_id), Some(amount)) = (r.loan_id, r.amount) else {
                    problems.push((r.client_id, format!("{who_vi}: thiếu khoản vay"), format!("{who_en}: no loan")));
                    continue;
                };
                match poster.repay(loan_id, amount) {
                    Ok(allocation) => {
                        expected += amount;
                        let at = At { branch_id, loan_id: Some(loan_id), ..At::default() };
                        let lines = ledger::repayment(at, head.officer_id, &allocation);
                        let memo = format!(
                            "Thu nợ {} khoản vay {}, phiếu {}",
                            format_vnd(amount),
                            r.loan_code.clone().unwrap_or_default(),
                            r.receipt_no.clone().unwrap_or_default()
                        );
                        let e = poster.plan(EntryKind::Repayment, branch_id, memo, lines);
                        e.record_id = Some(r.id);
                        e.loan_id = Some(loan_id);
                        e.officer_id = Some(head.officer_id);
                        let posted = TargetEntry {
                            id: e.id,
                            kind: "repayment".into(),
                            branch_id,
                            loan_id: Some(loan_id),
                            officer_id: Some(head.officer_id),
                            reversed: false,
                            lines: e.lines.0.clone(),
                        };
                        posted_targets.insert(r.id, posted);
                        fates.push((r.id, "approved", None));
                    }
                    Err(v) => {
                        let (mut vi, mut en) = (format!("{who_vi}: {}", v.message_vi()), format!("{who_en}: {}", v.message_en()));
                        if matches!(v, RuleViolation::AboveOutstanding { .. } | RuleViolation::LoanClosed) {
                            for w in reversals_waiting_elsewhere(c, loan_id, batch_id).await? {
                                let id = w.batch_id.simple().to_string();
                                let (at, tail) = (sotay_core::domain::time::format_datetime(w.received_at), &id[id.len() - 6..]);
                                let receipt = w.receipt_no.unwrap_or_default();
                                if w.target == r.client_id {
                                    // Its own reversal asked for: it need not post.
                                    vi.push_str(&format!(
                                        " — cán bộ đã đề nghị đảo chính phiếu này (lô đồng bộ lúc {at}, mã …{tail}): hãy loại phiếu này rồi duyệt lại; đề nghị đảo đó sẽ được loại theo"
                                    ));
                                    en.push_str(&format!(
                                        " — the officer asked to reverse this very receipt (batch synced at {at}, id …{tail}): exclude it and approve again; that request is then left out too"
                                    ));
                                } else if w.posted {
                                    vi.push_str(&format!(
                                        " — đề nghị đảo phiếu {receipt} trên khoản vay này đang chờ duyệt trong lô đồng bộ lúc {at} (mã …{tail}): duyệt lô đó trước, rồi duyệt lại lô này"
                                    ));
                                    en.push_str(&format!(
                                        " — a reversal request of receipt {receipt} on this loan waits for review in the batch synced at {at} (id …{tail}): approve that batch first, then this one again"
                                    ));
                                }
                            }
                        }
                        problems.push((r.client_id, vi, en))
                    }
                }
            }
            "gift_handout" => {
                let Some(k) = r.campaign_id.and_then(|id| campaigns.get(&id)) else {
                    problems.push((r.client_id, format!("{who_vi}: không có chương trình"), format!("{who_en}: no campaign")));
                    continue;
                };
                // One gift per worker per campaign: one refused and settled
                // as handed out for real since this one was taken is the
                // worker's gift now.
                if gifted_already.contains(&r.id) {
                    problems.push((
                        r.client_id,
                        format!("{who_vi}: người lao động đã có suất quà của chương trình này (một bản ghi bị từ chối đã được xác nhận \"Đã trao thật\"): mỗi người một suất — hãy loại bản ghi này rồi duyệt; nếu gói quà này cũng đã trao thật, đánh dấu nó \"Đã trao thật\" ở danh sách bị từ chối (chỉ ghi giảm kho)"),
                        format!("{who_en}: the worker has this campaign's gift already (a refused record was settled as handed out for real): one each — exclude this record and approve; if this package was handed out too, settle it as handed out on the refused list (it only comes off the stock)"),
                    ));
                    continue;
                }
                let welfare = k.kind == "welfare";
                let at = At { branch_id, campaign_id: Some(k.id), ..At::default() };
                let lines = ledger::gift(at, k.gift_value, welfare);
                let kind = if welfare { EntryKind::Welfare } else { EntryKind::Gift };
                if lines.0.is_empty() {
                    // A gift of no recorded value posts nothing.
                    fates.push((r.id, "approved", None));
                    continue;
                }
                // Handed out only from what the branch holds: packages in
                // stock, or for a grant the vault with this batch's cash.
                if let Some((_, held)) = poster.shortfall(&lines, cash_received) {
                    problems.push(if welfare {
                        (
                            r.client_id,
                            format!(
                                "{who_vi}: quỹ tiền mặt chi nhánh không đủ chi {} của {} (còn {}); hãy nhận tiền chương trình vào quỹ trước",
                                format_vnd(k.gift_value),
                                k.name,
                                format_vnd(held)
                            ),
                            format!(
                                "{who_en}: the branch vault cannot pay {} for {} ({} in it); receive the programme's cash first",
                                format_vnd(k.gift_value),
                                k.name,
                                format_vnd(held)
                            ),
                        )
                    } else {
                        // What the stock held before this batch, and what
                        // the batch's gifts of the campaign ask of it.
                        let had = held.max(0) / k.gift_value + planned_gifts.get(&k.id).copied().unwrap_or(0);
                        let needed = records
                            .iter()
                            .filter(|g| decided(g) && g.kind == "gift_handout" && g.campaign_id == Some(k.id))
                            // Refused as a second gift: they take no stock.
                            .filter(|g| !gifted_already.contains(&g.id))
                            .count() as i64;
                        let short = (needed - had).max(1);
                        (
                            r.client_id,
                            format!(
                                "{who_vi}: kho quà {} của chi nhánh có {had} suất, lô này cần {needed} suất; báo quản trị viên nhập kho thêm ít nhất {short} suất, hoặc loại {short} bản ghi quà rồi duyệt",
                                k.name
                            ),
                            format!(
                                "{who_en}: the branch's stock of {} holds {had} packages, this batch needs {needed}; ask the administrator to receive at least {short} more, or exclude {short} gift records and approve",
                                k.name
                            ),
                        )
                    });
                    continue;
                }
                *planned_gifts.entry(k.id).or_default() += 1;
                let memo = format!(
                    "{} {} cho {}",
                    if welfare { "Chi hỗ trợ" } else { "Trao quà" },
                    k.name,
                    r.worker_name.clone().unwrap_or_default()
                );
                let e = poster.plan(kind, branch_id, memo, lines);
                e.record_id = Some(r.id);
                e.officer_id = Some(head.officer_id);
                let posted = TargetEntry {
                    id: e.id,
                    kind: kind.as_str().into(),
                    branch_id,
                    loan_id: None,
                    officer_id: Some(head.officer_id),
                    reversed: false,
                    lines: e.lines.0.clone(),
                };
                posted_targets.insert(r.id, posted);
                fates.push((r.id, "approved", None));
            }
            "reversal_request" => {
                let target = r
                    .target_client_id
                    .and_then(|t| target_record.get(&t))
                    .and_then(|id| posted_targets.get(id));
                let Some(target) = target else {
                    let refused = r.target_client_id.and_then(|t| target_record.get(&t)).is_some_and(|id| refused_targets.contains(id));
                    if let (true, Some(original)) = (refused, r.target_client_id) {
                        // Refused and never posted: nothing to reverse, and
                        // the officer's own word that the record was wrong
                        // (an amount typed wrong and entered again, a
                        // payment given back) settles it: its cash is held
                        // no more. The request nets nothing.
                        let reason = request_reason(&r.body);
                        settle_as_asked.push((original, format!("{} {reason}", rv::REVERSAL_ASKED)));
                        fates.push((r.id, "approved", Some(rv::APPROVED_ORIGINAL_REFUSED.to_string())));
                        continue;
                    }
                    problems.push(if r.target_client_id.is_some_and(|t| blocked_originals.contains(&t)) {
                        (r.client_id,
                            format!("{who_vi}: bản ghi gốc chưa được ghi sổ, và lô chứa nó chờ việc hủy một bản ghi của nó trong chính lô này — hãy mở lô chứa bản ghi gốc, loại bản ghi bị hủy rồi duyệt lô đó trước; sau đó duyệt lô này"),
                            format!("{who_en}: the original record is not posted, and its batch waits for this very batch's void of one of its records — open the original's batch, exclude the voided record and approve that batch first; then approve this one"))
                    } else {
                        (r.client_id,
                            format!("{who_vi}: bản ghi gốc chưa được ghi sổ — hãy duyệt lô chứa bản ghi gốc trước, hoặc loại đề nghị này"),
                            format!("{who_en}: the original record is not posted — approve its batch first, or exclude this request"))
                    });
                    continue;
                };
                let target = TargetEntry { lines: target.lines.clone(), kind: target.kind.clone(), ..*target };
                if target.branch_id != branch_id {
                    // Asked before such requests were refused at upload:
                    // the books that hold it are another branch's.
                    problems.push((r.client_id,
                        format!("{who_vi}: bản ghi gốc thuộc sổ sách của chi nhánh khác (cán bộ đã chuyển chi nhánh) — giám sát chi nhánh đó đảo bút toán; hãy loại đề nghị này"),
                        format!("{who_en}: the original record is on another branch's books (the officer moved since) — that branch's supervisor reverses it; exclude this request")));
                    continue;
                }
                let reason = request_reason(&r.body);
                let netted = netted.get(&r.client_id).copied();
                let shortfall = match netted {
                    Some(_) => None,
                    None => poster.reversal_shortfall(&target, cash_received),
                };
                if let Some((account, held)) = shortfall {
                    problems.push((r.client_id, 
                        format!(
                            "{who_vi}: đảo bút toán số {} sẽ làm tài khoản \"{}\" âm (còn {})",
                            target.id,
                            account.name_vi(),
                            format_vnd(held)
                        ),
                        format!(
                            "{who_en}: reversing entry {} would take \"{}\" below zero ({} in it)",
                            target.id,
                            account.name_en(),
                            format_vnd(held)
                        ),
                    ));
                    continue;
                }
                let memo = format!("Đảo bút toán số {}{} theo đề nghị của cán bộ: {reason}", target.id, receipt_words(c, target.id).await?);
                match poster.reverse(&target, memo, netted.map(|_| head.officer_id)) {
                    Ok(e) => {
                        e.record_id = Some(r.id);
                        if let Some(amount) = netted {
                            expected -= amount;
                        }
                        if target.kind == "gift" || target.kind == "welfare" {
                            if let Some(k) = target.lines.iter().find_map(|l| l.campaign_id) {
                                gift_campaigns.insert(k);
                            }
                        }
                        fates.push((r.id, "approved", netted.map(|_| rv::APPROVED_NETTED.to_string())));
                    }
                    Err((_, vi, en)) => problems.push((r.client_id, format!("{who_vi}: {vi}"), format!("{who_en}: {en}"))),
                }
            }
            _ => fates.push((r.id, "approved", None)),
        }
    }
    if !problems.is_empty() {
        let records = problems.iter().map(|p| p.0).collect();
        let vi: Vec<String> = problems.iter().map(|p| p.1.clone()).collect();
        let en: Vec<String> = problems.iter().map(|p| p.2.clone()).collect();
        return Err(DbError::Refused(Box::new(Refusal {
            status: 409,
            code: "posting_refused",
            vi: format!(
                "Không ghi sổ được các bản ghi sau; làm theo hướng dẫn của từng bản ghi, hoặc loại bản ghi đó rồi duyệt lại: {}",
                vi.join("; ")
            ),
            en: format!(
                "cannot post these records; do as each one says, or exclude it and approve again: {}",
                en.join("; ")
            ),
            records,
        })));
    }
    if let Some(seen) = expected_seen.filter(|seen| *seen != expected) {
        // What the officer hands over, or, when her reversal requests take
        // back more than the batch collects, nothing: the branch owes her.
        let said = |n: i64| {
            if n < 0 {
                (
                    format!("0 ₫ (chi nhánh nợ lại cán bộ {})", format_vnd(-n)),
                    format!("0 ₫ (the branch owes the officer {})", format_vnd(-n)),
                )
            } else {
                (format_vnd(n), format_vnd(n))
            }
        };
        let ((now_vi, now_en), (seen_vi, seen_en)) = (said(expected), said(seen));
        return Err(refused(
            409,
            "batch_changed",
            format!(
                "Lô đã thay đổi từ lúc xác nhận (có thể lô có lệnh hủy của cán bộ vừa được duyệt, hoặc các bản ghi bị loại không như lúc xác nhận): số phải nộp nay là {now_vi}, không phải {seen_vi}. Hãy xem lại lô và đếm lại trước khi duyệt"
            ),
            format!(
                "the batch changed since it was confirmed (a batch with the officer's void may just have been approved, or the records left out are not those confirmed): the cash to hand over is now {now_en}, not {seen_en}. Look at the batch again and count before approving"
            ),
        ));
    }
    let settlement = ledger::settlement(branch_id, head.officer_id, expected, cash_received);
    if !settlement.0.is_empty() {
        // Who handed the cash over, as the cash book shows it; the batch
        // is linked by the entry.
        // The batch as people tell them apart: when it synced, and the
        // end of its id (its start is a time, the same for batches synced
        // within a minute).
        let id = batch_id.simple().to_string();
        let memo = format!(
            "Nộp tiền của {} (lô đồng bộ lúc {}, mã …{}): {}, thực nhận {}",
            head.officer_name,
            sotay_core::domain::time::format_datetime(head.received_at),
            &id[id.len() - 6..],
            if expected < 0 {
                format!("chi nhánh nợ lại {} (đề nghị đảo trả lại nhiều hơn tiền thu)", format_vnd(-expected))
            } else {
                format!("phải nộp {}", format_vnd(expected))
            },
            format_vnd(cash_received)
        );
        let e = poster.plan(EntryKind::Settlement, branch_id, memo, settlement);
        e.batch_id = Some(batch_id);
        e.officer_id = Some(head.officer_id);
    }

    sqlx::query(
        "INSERT INTO batch_reviews (batch_id, decision, reviewer_id, reason, cash_expected, cash_received, decided_at)
         VALUES ($1, 'approved', $2, NULL, $3, $4, $5)",
    )
    .bind(batch_id)
    .bind(who.user_id)
    .bind(expected)
    .bind(cash_received)
    .bind(now)
    .execute(&mut *c)
    .await?;
    write_fates(c, batch_id, &fates, now).await?;
    let entries_posted = poster.entries.len() as i64;
    let first_entry = poster.entries.first().map(|e| e.id);
    // A batch without cash (visits, gifts) has no settlement entry to count
    // it among the day's approved batches: counted here, when it approved
    // something (not one whose records were all kept in quarantine).
    let cashless = !poster.entries.iter().any(|e| e.kind == EntryKind::Settlement)
        && fates.iter().any(|f| f.1 == "approved");
    let (changed_loans, loans_closed) = poster.write(c, now).await?;
    if cashless {
        let counted = crate::reports::rows::DailyDelta { batches: 1, ..Default::default() };
        super::reports::daily_add(c, sotay_core::domain::time::local_date(now), &[((branch_id, head.officer_id), counted)])
            .await?;
    }

    // The officer's phones learn the records' fates and the cash counted
    // from one change, the batch's (named by its first record).
    let first: i64 = sqlx::query_scalar("SELECT MIN(id) FROM sync_records WHERE batch_id = $1")
        .bind(batch_id)
        .fetch_one(&mut *c)
        .await?;
    let mut feed: Vec<(i64, &'static str, i64)> = vec![(head.officer_id, "batch", first)];
    // A reversed record's own status changes too.
    for r in &records {
        if r.kind == "reversal_request" {
            if let Some(id) = r.target_client_id.and_then(|t| target_record.get(&t)) {
                feed.push((head.officer_id, "record", *id));
            }
        }
    }
    feed.extend(changed_loans.iter().map(|(officer, loan)| (*officer, "loan", *loan)));
    feed.extend(gift_campaigns.iter().map(|k| (head.officer_id, "campaign", *k)));
    // Left out, or reversed: a gift no longer holds its worker, a receipt
    // no longer waits on its loan, whose worker may have moved to another
    // officer since.
    let moved: Vec<i64> = records
        .iter()
        .filter(|r| r.kind != "visit")
        .map(|r| r.id)
        .chain(records.iter().filter_map(|r| r.target_client_id.and_then(|t| target_record.get(&t)).copied()))
        .collect();
    feed.extend(moved_workers_changes(c, &moved).await?);
    append_changes(c, &feed).await?;

    let entered_again_settled = settle_entered_again(c, who, &records, &exclusions, entered_again, now).await?;
    for (original, note) in &settle_as_asked {
        match settle_refused(c, who, *original, note, false, now).await {
            // Settled before (given back, taken at the counter), or
            // another branch's since the officer moved: its own story.
            Ok(_) | Err(DbError::NotFound) => {}
            Err(DbError::Refused(r)) if r.code == "already_settled" => {}
            Err(e) => return Err(e),
        }
    }

    let approved = fates.iter().filter(|f| f.1 == "approved").count() as i64;
    let voided = fates.iter().filter(|f| f.2.as_deref() == Some(rv::EXCLUDED_VOIDED)).count() as i64;
    let outcome = rv::ApprovalOutcome {
        batch_id,
        approved,
        excluded: fates.len() as i64 - approved - voided,
        voided,
        entries_posted,
        cash_expected: expected,
        cash_received,
        discrepancy: cash_received - expected,
        loans_closed,
        entered_again_settled,
    };
    let detail = serde_json::json!({
        "outcome": &outcome,
        "first_entry": first_entry,
        "excluded": excluded.iter().map(|(id, reason)| serde_json::json!({"record_id": id, "reason": reason})).collect::<Vec<_>>(),
    });
    audit_append(c, &who.audit("batch.approve", "sync_batch", batch_id.to_string(), detail), now).await?;
    if entries_posted > 0 {
        let detail = serde_json::json!({ "entries": entries_posted, "first_entry": first_entry });
        audit_append(c, &who.audit("ledger.post", "sync_batch", batch_id.to_string(), detail), now).await?;
    }
    Ok(outcome)
}

async fn write_fates(
    c: &mut Conn,
    batch_id: uuid::Uuid,
    fates: &[(i64, &'static str, Option<String>)],
    now: DateTime<Utc>,
) -> DbResult<()> {
    let n = fates.len();
    let columns = [
        Column::Int(fates.iter().map(|f| f.0).collect()),
        Column::Uuid(vec![batch_id; n]),
        Column::Text(fates.iter().map(|f| f.1.to_string()).collect()),
        Column::OptText(fates.iter().map(|f| f.2.clone()).collect()),
        Column::Time(vec![now; n]),
    ];
    insert_all(c, "INSERT INTO record_reviews (record_id, batch_id, decision, reason, decided_at) ", &columns).await?;
    Ok(())
}

/// Rejects a whole batch: nothing posts; every record goes back to the
/// officer with the reason.
pub async fn review_reject(
    c: &mut Conn,
    who: &rv::Reviewer,
    batch_id: uuid::Uuid,
    reason: &str,
    entered_again: &[(uuid::Uuid, uuid::Uuid)],
    now: DateTime<Utc>,
) -> DbResult<Vec<String>> {
    let now = take_write_lock(c, now).await?;
    let head = batch_to_decide(c, who, batch_id).await?;
    let records = review_records(c, &[batch_id]).await?;
    sqlx::query(
        "INSERT INTO batch_reviews (batch_id, decision, reviewer_id, reason, cash_expected, cash_received, decided_at)
         VALUES ($1, 'rejected', $2, $3, 0, 0, $4)",
    )
    .bind(batch_id)
    .bind(who.user_id)
    .bind(reason)
    .bind(now)
    .execute(&mut *c)
    .await?;
    let fates: Vec<(i64, &'static str, Option<String>)> =
        records.iter().map(|r| (r.id, "rejected", Some(reason.to_string()))).collect();
    write_fates(c, batch_id, &fates, now).await?;
    // A receipt entering again a refused one is, rejected, the same cash
    // held twice: settled as the refused one's, as if left out of an
    // approval, so that it counts once.
    let all: HashMap<uuid::Uuid, String> = records.iter().map(|r| (r.client_id, reason.to_string())).collect();
    let answers = rv::EnteredAgainAnswers { pairs: entered_again.to_vec(), paid_again: Vec::new() };
    let entered_again_settled = settle_entered_again(c, who, &records, &all, &answers, now).await?;
    let mut feed: Vec<(i64, &'static str, i64)> = records.iter().map(|r| (head.officer_id, "record", r.id)).collect();
    let mut campaigns: Vec<i64> = records.iter().filter_map(|r| r.campaign_id).collect();
    // A void of a record of another batch stands no more: that record
    // counts again on the officer's other phones (a receipt waiting, a
    // gift holding its worker).
    let revived: Vec<(i64, Option<i64>)> = sqlx::query_as(
        "SELECT t.id, t.campaign_id FROM sync_records v JOIN sync_records t ON t.client_id = v.target_client_id
         WHERE v.batch_id = $1 AND v.kind = 'void' AND t.batch_id <> v.batch_id",
    )
    .bind(batch_id)
    .fetch_all(&mut *c)
    .await?;
    let mut revived_ids = Vec::new();
    for (id, campaign) in revived {
        feed.push((head.officer_id, "record", id));
        campaigns.extend(campaign);
        revived_ids.push(id);
    }
    campaigns.sort_unstable();
    campaigns.dedup();
    feed.extend(campaigns.into_iter().map(|k| (head.officer_id, "campaign", k)));
    let decided = records.len();
    let records: Vec<i64> = records.iter().map(|r| r.id).chain(revived_ids).collect();
    feed.extend(moved_workers_changes(c, &records).await?);
    append_changes(c, &feed).await?;
    let detail = serde_json::json!({ "reason": reason, "records": decided, "entered_again_settled": entered_again_settled });
    audit_append(c, &who.audit("batch.reject", "sync_batch", batch_id.to_string(), detail), now).await?;
    Ok(entered_again_settled)
}

/// The officer's reason in a reversal request's body, as her phone sent it.
fn request_reason(body: &str) -> String {
    match serde_json::from_str::<sotay_core::wire::UploadRecord>(body).map(|u| u.body) {
        Ok(sotay_core::wire::RecordBody::ReversalRequest(p)) => p.reason,
        _ => String::new(),
    }
}

#[derive(sqlx::FromRow)]
struct CounterRow {
    id: i64,
    loan_id: i64,
    amount: i64,
    receipt_no: String,
    recorded_at: DateTime<Utc>,
    method: String,
    transfer_ref: Option<String>,
}

/// What repayment entry `target` took in (its principal and interest).
fn repaid_amount(target: &TargetEntry) -> i64 {
    target
        .lines
        .iter()
        .filter(|l| matches!(l.account, Account::LoanPrincipal | Account::InterestIncome))
        .map(|l| l.credit - l.debit)
        .sum()
}

/// Where the money of repayment entry `target` is now, and where its
/// reversal gives it back from: the branch's bank account for a transfer
/// taken at the branch; otherwise the vault (cash at the counter, or an
/// officer's collection once handed over).
fn repaid_into(target: &TargetEntry) -> Account {
    if target.lines.iter().any(|l| l.account == Account::Bank && l.debit > 0) {
        Account::Bank
    } else {
        Account::Vault
    }
}

/// Refuses a bank transaction reference something already stands on: a
/// loan paid out by that transfer (any branch: one reference pays one
/// loan), or a repayment received by it at `branch_id` whose entry was not
/// reversed (409 `transfer_ref_used`, naming it).
pub(crate) async fn transfer_ref_free(c: &mut Conn, branch_id: i64, r: &str) -> DbResult<()> {
    // References kept before they were keys are compared as keys.
    let paid_out: Option<(i64, i64)> = sqlx::query_as(concat!(
        "SELECT x.disbursement_id, d.branch_id FROM disbursement_decisions x JOIN disbursements d ON d.id = x.disbursement_id
         WHERE x.transfer_ref IS NOT NULL AND (x.transfer_ref = $1 OR ",
        reference_key_sql!("x.transfer_ref"),
        " = $1)",
    ))
    .bind(r)
    .fetch_optional(&mut *c)
    .await?;
    // Another branch's payout is not named to this one.
    if let Some((other, other_branch)) = paid_out {
        let (vi, en) = if other_branch == branch_id {
            (format!("đề nghị giải ngân số {other}"), format!("disbursement {other}"))
        } else {
            ("một khoản giải ngân của chi nhánh khác".to_string(), "another branch's disbursement".to_string())
        };
        return Err(refused(
            409,
            "transfer_ref_used",
            format!("Mã giao dịch {r} đã được ghi cho {vi}; kiểm tra lại mã của lần chuyển này"),
            format!("transaction reference {r} was already given for {en}; check this transfer's reference"),
        ));
    }
    let repaid: Option<String> = sqlx::query_scalar(concat!(
        "SELECT k.receipt_no FROM counter_repayments k JOIN journal_entries e ON e.counter_id = k.id
         WHERE k.branch_id = $2 AND k.transfer_ref IS NOT NULL AND (k.transfer_ref = $1 OR ",
        reference_key_sql!("k.transfer_ref"),
        " = $1)
           AND NOT EXISTS (SELECT 1 FROM journal_entries x WHERE x.reverses = e.id)
         ORDER BY k.id LIMIT 1",
    ))
    .bind(r)
    .bind(branch_id)
    .fetch_optional(&mut *c)
    .await?;
    if let Some(receipt) = repaid {
        return Err(refused(
            409,
            "transfer_ref_used",
            format!(
                "Mã giao dịch {r} đã được ghi cho khoản thu phiếu {receipt}; nếu đã ghi nhầm khoản vay, đề nghị đảo phiếu đó trước rồi ghi lại"
            ),
            format!(
                "transaction reference {r} was already recorded for repayment {receipt}; if it went on the wrong loan, have that one reversed first, then record it again"
            ),
        ));
    }
    Ok(())
}

/// The loan's branch (its officer's), for scope and posting.
async fn loan_branch(c: &mut Conn, loan_id: i64) -> DbResult<Option<(i64, String, String)>> {
    Ok(sqlx::query_as(
        "SELECT u.branch_id, l.code, br.code FROM loans l JOIN workers w ON w.id = l.worker_id
             JOIN users u ON u.id = w.officer_id JOIN branches br ON br.id = u.branch_id WHERE l.id = $1",
    )
    .bind(loan_id)
    .fetch_optional(&mut *c)
    .await?)
}

/// A repayment at the branch counter: checked against the books and the
/// officers' collections still waiting for review, posted at once.
pub async fn counter_repayment(
    c: &mut Conn,
    who: &rv::Reviewer,
    loan_id: i64,
    pay: &rv::CounterPayment,
    now: DateTime<Utc>,
) -> DbResult<rv::CounterReceipt> {
    let rv::CounterPayment { client_id, amount, ref note, method, ref transfer_ref, confirm_payoff, confirm_repeat, settles } =
        *pay;
    let transfer_ref = transfer_ref.as_deref();
    match (method, transfer_ref) {
        (rv::PayMethod::Transfer, None) => {
            return Err(refused(
                422,
                "transfer_ref_required",
                "Khoản thu chuyển khoản cần mã giao dịch của ngân hàng (trên giấy báo có hoặc sao kê)".into(),
                "a repayment by transfer needs the bank's transaction reference (on the credit notice or the statement)".into(),
            ))
        }
        (rv::PayMethod::Cash, Some(_)) => {
            return Err(refused(
                422,
                "transfer_ref_unexpected",
                "Khoản thu tiền mặt không có mã giao dịch ngân hàng; chọn chuyển khoản hoặc bỏ trống mã".into(),
                "a cash repayment takes no bank transaction reference; choose transfer or leave it empty".into(),
            ))
        }
        _ => {}
    }
    let now = take_write_lock(c, now).await?;
    let (branch_id, loan_code, branch_code) = loan_branch(c, loan_id).await?.ok_or(DbError::NotFound)?;
    if !who.covers(Some(branch_id)) {
        return Err(DbError::NotFound);
    }
    let stored: Option<CounterRow> = sqlx::query_as(
        "SELECT id, loan_id, amount, receipt_no, recorded_at, method, transfer_ref FROM counter_repayments WHERE client_id = $1",
    )
    .bind(client_id)
    .fetch_optional(&mut *c)
    .await?;
    if let Some(s) = stored {
        if s.loan_id != loan_id || s.amount != amount || s.method != method.as_str() || s.transfer_ref.as_deref() != transfer_ref
        {
            let amount = sotay_core::domain::money::format_vnd(s.amount);
            return Err(refused(
                409,
                "counter_conflict",
                format!(
                    "Biểu mẫu này đã được gửi trước đó và đã ghi phiếu thu {} ({amount}); khoản vừa nhập khác phiếu đó nên chưa được ghi. Nếu đây là một khoản thu mới, kiểm tra lại rồi bấm ghi lần nữa",
                    s.receipt_no
                ),
                format!(
                    "This form was sent before and recorded receipt {} ({amount}); what was just typed differs from it, so nothing was recorded. If this is another repayment, check it and submit again",
                    s.receipt_no
                ),
            ));
        }
        // The same again, settling what it settled when it was taken.
        if let Some(record) = settles {
            let note: Option<String> = sqlx::query_scalar(
                "SELECT x.note FROM refused_settlements x JOIN sync_records r ON r.id = x.record_id WHERE r.client_id = $1",
            )
            .bind(record)
            .fetch_optional(&mut *c)
            .await?;
            if !note.is_some_and(|n| n.contains(&s.receipt_no)) {
                return Err(refused(
                    409,
                    "counter_conflict",
                    format!(
                        "Biểu mẫu này đã được gửi trước đó và đã ghi phiếu thu {}, phiếu đó không xử lý bản ghi bị từ chối này; chưa ghi gì thêm. Nếu đây là một khoản thu mới, kiểm tra lại rồi bấm ghi lần nữa",
                        s.receipt_no
                    ),
                    format!(
                        "This form was sent before and recorded receipt {}, which did not settle this refused record; nothing more was recorded. If this is another repayment, check it and submit again",
                        s.receipt_no
                    ),
                ));
            }
        }
        return counter_receipt(c, s, &loan_code).await;
    }
    // The cash an officer took for a refused receipt this payment settles
    // when it is more than this payment (the rest goes back to the worker).
    let mut part_of: Option<i64> = None;
    if let Some(record) = settles {
        // The officer's refused repayment on this same loan, its very cash
        // (whether it is refused and not settled yet, settling it below
        // says).
        // A record refused at upload may keep neither its loan nor its
        // amount in columns (a loan no longer in the officer's portfolio):
        // its body says them.
        let on: Option<(String, Option<i64>, Option<i64>, String)> =
            sqlx::query_as("SELECT kind, loan_id, amount, body FROM sync_records WHERE client_id = $1")
                .bind(record)
                .fetch_optional(&mut *c)
                .await?;
        let loan_uid: Option<uuid::Uuid> = sqlx::query_scalar("SELECT uid FROM loans WHERE id = $1")
            .bind(loan_id)
            .fetch_optional(&mut *c)
            .await?;
        let mut receipt = None;
        let on = on.filter(|o| o.0 == "repayment").and_then(|(_, on_loan, held, body)| {
            let paid = serde_json::from_str::<sotay_core::wire::UploadRecord>(&body).ok().and_then(|u| match u.body {
                sotay_core::wire::RecordBody::Repayment(p) => Some(p),
                _ => None,
            });
            receipt = paid.as_ref().map(|p| p.receipt_no.clone());
            let same_loan = on_loan == Some(loan_id)
                || (on_loan.is_none() && paid.as_ref().is_some_and(|p| Some(p.loan_id) == loan_uid));
            let held = held.or_else(|| paid.map(|p| p.amount.get()));
            same_loan.then_some(held).flatten()
        });
        let Some(held) = on else {
            let (vi, en) = match &receipt {
                Some(r) => (format!("Phiếu {r}"), format!("receipt {r}")),
                None => (format!("Bản ghi {record}"), format!("record {record}")),
            };
            return Err(refused(
                422,
                "settles_another_loan",
                format!("{vi} không phải khoản thu của cán bộ trên khoản vay {loan_code}: hãy mở khoản vay của phiếu đó từ danh sách khoản bị từ chối"),
                format!("{en} is not an officer's repayment on loan {loan_code}: open that receipt's loan from the list of refused records"),
            ));
        };
        // One settled already is said so below (settling it again).
        let settled: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM refused_settlements x JOIN sync_records r ON r.id = x.record_id
                            WHERE r.client_id = $1)",
        )
        .bind(record)
        .fetch_one(&mut *c)
        .await?;
        // Its cash taken at the counter already, by a receipt whose note
        // names it (the cashier, who does not settle records): not twice.
        if let Some(r) = receipt.as_deref().filter(|r| !r.is_empty() && !settled) {
            if let Some(k) = counter_naming(&standing_counters(c, loan_id).await?, r) {
                let (counter, amount) = (&k.receipt, format_vnd(k.amount));
                return Err(refused(
                    409,
                    "taken_at_counter_already",
                    format!("Tiền của phiếu {r} đã được thu tại quầy: phiếu {counter} ({amount}) ghi số phiếu đó. Đừng thu lại; hãy đánh dấu phiếu {r} đã xử lý (Thu tại quầy, phiếu {counter})"),
                    format!("the cash of receipt {r} was taken at the counter already: receipt {counter} ({amount}) names it. Do not take it again; mark receipt {r} settled (taken at the counter, receipt {counter})"),
                ));
            }
        }
        // Less than the officer took: only all the loan still owes (it was
        // paid at the counter since, say), the rest going back to the
        // worker; checked once what the loan owes is read below.
        if !settled && held > amount && method == rv::PayMethod::Cash {
            part_of = Some(held);
        } else if !settled && (held != amount || method != rv::PayMethod::Cash) {
            return Err(refused(
                422,
                "settles_other_cash",
                format!(
                    "Khoản thu cán bộ đã thu là {} tiền mặt: chỉ khoản nộp đúng {} tiền mặt tại quầy mới xử lý được bản ghi đó",
                    format_vnd(held),
                    format_vnd(held)
                ),
                format!(
                    "the officer took {} in cash: only exactly {} in cash at the counter settles that record",
                    format_vnd(held),
                    format_vnd(held)
                ),
            ));
        }
    }
    // The cash of an officer's refused receipt (settled with it, or named
    // in the note): another payment than one of the same amount today.
    let mut refused_cash = settles.is_some();
    if settles.is_none() && !note.trim().is_empty() {
        in_vault_already(c, loan_id, note).await?;
        refused_cash = taken_at_counter_already(c, loan_id, note, amount).await?;
    }
    if let Some(r) = transfer_ref {
        transfer_ref_free(c, branch_id, r).await?;
    }
    let mut poster = Poster::new(c, who.user_id).await?;
    poster.load_loans(c, &[loan_id]).await?;
    // Officers' collections not reviewed yet come first: the counter may not
    // take what a phone already collected.
    let pending: Vec<i64> = sqlx::query_scalar(&format!(
        "SELECT r.amount {PENDING_REPAYMENTS} AND r.loan_id = $1 ORDER BY r.record_id"
    ))
    .bind(loan_id)
    .fetch_all(&mut *c)
    .await?;
    {
        let book = poster.loans.get(&loan_id).ok_or(DbError::NotFound)?;
        let status = if book.closed { LoanStatus::Closed } else { LoanStatus::Active };
        let check = rules::states_after(&book.states, &pending).and_then(|after| {
            let allocation = rules::check_repayment(status, &after, amount)?;
            // Cash typed at the counter may be a slip of the keyboard; a
            // transfer the bank shows, or cash an officer took already
            // (its receipt is the worker's), is what it is.
            if method == rv::PayMethod::Cash && settles.is_none() {
                rules::check_not_a_slip(outstanding(&after).total(), amount)?;
            }
            Ok(allocation)
        });
        if let Err(v) = check {
            let waiting: i64 = pending.iter().sum();
            // Above what is left once officers' collections waiting for
            // review are counted: the loan's own balance said apart from
            // what those take of it.
            if waiting > 0 && matches!(v, RuleViolation::AboveOutstanding { .. }) {
                let owed = outstanding(&book.states).total();
                let left = (owed - waiting).max(0);
                return Err(refused(
                    422,
                    v.code(),
                    format!(
                        "Số tiền {} lớn hơn số còn thu được tại quầy, {}: khoản vay còn phải trả {}, trong đó {} cán bộ đã thu đang chờ duyệt",
                        format_vnd(amount),
                        format_vnd(left),
                        format_vnd(owed),
                        format_vnd(waiting)
                    ),
                    format!(
                        "{} is more than the counter can still take, {}: the loan owes {}, of which {} was collected by an officer and waits for review",
                        format_vnd(amount),
                        format_vnd(left),
                        format_vnd(owed),
                        format_vnd(waiting)
                    ),
                ));
            }
            return Err(refused(422, v.code(), v.message_vi(), v.message_en()));
        }
        if let Some(held) = part_of {
            // Receipts waiting for review on the loan may be this very cash
            // entered again: decided first, so it is never taken twice.
            let waiting: i64 = pending.iter().sum();
            if waiting > 0 {
                return Err(refused(
                    422,
                    "settles_other_cash",
                    format!(
                        "Cán bộ đã thu {} tiền mặt của phiếu đó, nhưng khoản vay còn {} cán bộ đã thu đang chờ duyệt (có thể chính là khoản thu này được ghi lại): hãy duyệt hoặc loại các phiếu đang chờ trước, rồi xử lý phiếu bị từ chối",
                        format_vnd(held),
                        format_vnd(waiting)
                    ),
                    format!(
                        "the officer took {} in cash for that receipt, but {} collected by officers on the loan waits for review (maybe this very payment entered again): decide those receipts first, then settle the refused one",
                        format_vnd(held),
                        format_vnd(waiting)
                    ),
                ));
            }
            let left = outstanding(&book.states).total().max(0);
            if amount != left {
                let (held_s, left_s) = (format_vnd(held), format_vnd(left));
                return Err(if left < held {
                    refused(
                        422,
                        "settles_other_cash",
                        format!(
                            "Cán bộ đã thu {held_s} tiền mặt nhưng khoản vay chỉ còn thu được {left_s}: nộp đúng {left_s} (trả hết khoản vay) để xử lý phiếu đó; phần còn lại {} trả lại người lao động",
                            format_vnd(held - left)
                        ),
                        format!(
                            "the officer took {held_s} in cash but the loan can only take {left_s} more: take exactly {left_s} (paying the loan off) to settle that receipt; the remaining {} goes back to the worker",
                            format_vnd(held - left)
                        ),
                    )
                } else {
                    refused(
                        422,
                        "settles_other_cash",
                        format!("Khoản thu cán bộ đã thu là {held_s} tiền mặt: chỉ khoản nộp đúng {held_s} tiền mặt tại quầy mới xử lý được bản ghi đó"),
                        format!("the officer took {held_s} in cash: only exactly {held_s} in cash at the counter settles that record"),
                    )
                });
            }
        }
    }
    let allocation = poster.repay(loan_id, amount).map_err(|v| refused(422, v.code(), v.message_vi(), v.message_en()))?;
    if !confirm_repeat && !refused_cash && method == rv::PayMethod::Cash {
        taken_today_already(c, loan_id, amount, &loan_code, now).await?;
    }
    if poster.loans.get(&loan_id).is_some_and(|b| b.closed) && !confirm_payoff {
        return Err(refused(
            409,
            "payoff_unconfirmed",
            format!("{} trả hết khoản vay {loan_code}: khoản vay sẽ tất toán và đóng lại. Nếu đúng, đánh dấu “Trả hết khoản vay” rồi ghi lại", format_vnd(amount)),
            format!("{} pays loan {loan_code} off: the loan will close. If that is right, tick “Pays the loan off” and take it again", format_vnd(amount)),
        ));
    }
    let id: i64 = sqlx::query_scalar::<DB, Option<i64>>("SELECT MAX(id) FROM counter_repayments")
        .fetch_one(&mut *c)
        .await?
        .unwrap_or(0)
        + 1;
    // Each branch's counter receipt book numbers on from its own last
    // receipt (without gaps; books from before numbered by the fund's
    // count go on after their highest number).
    let newest: Option<String> = sqlx::query_scalar(
        "SELECT receipt_no FROM counter_repayments WHERE branch_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(branch_id)
    .fetch_optional(&mut *c)
    .await?;
    let last = newest.and_then(|n| n.rsplit('-').next()?.parse::<i64>().ok()).unwrap_or(0);
    let receipt_no = format!("QUAY-{branch_code}-{:06}", last + 1);
    sqlx::query(
        "INSERT INTO counter_repayments (id, client_id, loan_id, branch_id, amount, receipt_no, note, recorded_by, recorded_at,
             method, transfer_ref)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(id)
    .bind(client_id)
    .bind(loan_id)
    .bind(branch_id)
    .bind(amount)
    .bind(&receipt_no)
    .bind(note)
    .bind(who.user_id)
    .bind(now)
    .bind(method.as_str())
    .bind(transfer_ref)
    .execute(&mut *c)
    .await?;
    let at = At { branch_id, loan_id: Some(loan_id), ..At::default() };
    let mut memo = match transfer_ref {
        None => format!("Thu nợ tại quầy {} khoản vay {loan_code}, phiếu {receipt_no}", format_vnd(amount)),
        Some(r) => format!(
            "Thu nợ chuyển khoản {} khoản vay {loan_code}, mã giao dịch {r}, phiếu {receipt_no}",
            format_vnd(amount)
        ),
    };
    // What the clerk wrote goes into the books with it: the receipt an
    // officer gave for the same cash, refused at upload, say.
    if !note.trim().is_empty() {
        memo.push_str(&format!(" — {}", note.trim()));
    }
    let lines = ledger::counter_repayment(at, &allocation, method.account());
    let e = poster.plan(EntryKind::CounterRepayment, branch_id, memo, lines);
    e.counter_id = Some(id);
    e.loan_id = Some(loan_id);
    let entry_id = e.id;
    let (changed, _) = poster.write(c, now).await?;
    let feed: Vec<(i64, &'static str, i64)> = changed.iter().map(|(o, l)| (*o, "loan", *l)).collect();
    append_changes(c, &feed).await?;
    let detail = serde_json::json!({ "loan": loan_code, "amount": amount, "receipt_no": receipt_no, "entry": entry_id,
        "method": method.as_str(), "transfer_ref": transfer_ref });
    audit_append(c, &who.audit("counter.repayment", "loan", loan_id.to_string(), detail), now).await?;
    if let Some(record) = settles {
        let mut what = format!("{} {receipt_no} ({})", rv::SETTLED_AT_COUNTER, format_vnd(amount));
        if let Some(held) = part_of {
            what.push_str(&format!(
                " — khoản vay chỉ còn phải trả chừng đó; {} còn lại trả lại người lao động",
                format_vnd(held - amount)
            ));
        }
        if !note.trim().is_empty() {
            what.push_str(&format!(" — {}", note.trim()));
        }
        settle_refused(c, who, record, &what, false, now).await?;
    }
    let _ = allocation;
    counter_receipt(
        c,
        CounterRow {
            id,
            loan_id,
            amount,
            receipt_no,
            recorded_at: now,
            method: method.as_str().to_string(),
            transfer_ref: transfer_ref.map(str::to_string),
        },
        &loan_code,
    )
    .await
}

async fn counter_receipt(c: &mut Conn, s: CounterRow, loan_code: &str) -> DbResult<rv::CounterReceipt> {
    let (entry_id, principal, interest): (i64, i64, i64) = sqlx::query_as(
        "SELECT e.id,
             CAST(COALESCE(SUM(CASE WHEN l.account = 'loan_principal' THEN l.credit ELSE 0 END), 0) AS BIGINT),
             CAST(COALESCE(SUM(CASE WHEN l.account = 'interest_income' THEN l.credit ELSE 0 END), 0) AS BIGINT)
         FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id WHERE e.counter_id = $1 GROUP BY e.id",
    )
    .bind(s.id)
    .fetch_one(&mut *c)
    .await?;
    let balance: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(principal_due - principal_paid + interest_due - interest_paid), 0) AS BIGINT)
         FROM installments WHERE loan_id = $1",
    )
    .bind(s.loan_id)
    .fetch_one(&mut *c)
    .await?;
    use sotay_core::domain::money::Dong;
    Ok(rv::CounterReceipt {
        id: s.id,
        loan_id: s.loan_id,
        loan_code: loan_code.to_string(),
        receipt_no: s.receipt_no,
        amount: Dong(s.amount),
        interest: Dong(interest),
        principal: Dong(principal),
        balance_after: Dong(balance),
        entry_id,
        recorded_at: s.recorded_at,
        method: rv::PayMethod::parse(&s.method).unwrap_or_default(),
        transfer_ref: s.transfer_ref,
    })
}

const RECEIPT_VIEW: &str = "SELECT r.id, r.client_id, r.campaign_id, k.name AS campaign_name, r.branch_id,
        b.name AS branch_name, r.packages, r.unit_value, r.amount, r.received_on, r.source,
        u.full_name AS recorded_by, r.recorded_at, e.id AS entry_id,
        EXISTS (SELECT 1 FROM journal_entries x WHERE x.reverses = e.id) AS reversed
    FROM campaign_receipts r JOIN campaigns k ON k.id = r.campaign_id JOIN branches b ON b.id = r.branch_id
        JOIN users u ON u.id = r.recorded_by LEFT JOIN journal_entries e ON e.receipt_id = r.id";

/// The day packages or cash were received, as typed at the branch: not in
/// the future, nor before the fund's books could hold it (a year typed
/// wrong would match the wrong bank statement, or none).
fn received_day(received_on: NaiveDate, now: DateTime<Utc>) -> DbResult<()> {
    let day = sotay_core::domain::time::format_date(received_on);
    if received_on > sotay_core::domain::time::local_date(now) {
        return Err(refused(
            422,
            "received_in_future",
            format!("Ngày nhận {day} còn ở tương lai: ghi ngày quà hoặc tiền đã thực nhận"),
            format!("the received date {day} is in the future: write the day the packages or cash arrived"),
        ));
    }
    if received_on < NaiveDate::from_ymd_opt(2000, 1, 1).expect("a valid day") {
        return Err(refused(
            422,
            "received_too_early",
            format!("Ngày nhận {day} quá xa: ghi ngày quà hoặc tiền đã thực nhận (từ 01/01/2000)"),
            format!("the received date {day} is too long ago: write the day the packages or cash arrived (from 01/01/2000)"),
        ));
    }
    Ok(())
}

/// What a branch received for a campaign (admins): gift packages into its
/// stock, or a welfare programme's grant cash into its vault, valued at the
/// campaign's gift value and posted at once from the campaign's funding.
/// A retry with the same `client_id` returns the same receipt.
#[allow(clippy::too_many_arguments)]
pub async fn campaign_receive(
    c: &mut Conn,
    who: &rv::Reviewer,
    campaign_id: i64,
    branch_id: i64,
    client_id: uuid::Uuid,
    packages: i64,
    received_on: NaiveDate,
    source: &str,
    now: DateTime<Utc>,
) -> DbResult<rv::CampaignReceipt> {
    let now = take_write_lock(c, now).await?;
    if !who.is_admin {
        return Err(refused(
            403,
            "forbidden",
            "Chỉ quản trị viên được nhập kho cho chương trình".into(),
            "only an administrator may receive stock for a campaign".into(),
        ));
    }
    received_day(received_on, now)?;
    let campaign: CampaignValue = sqlx::query_as("SELECT id, kind, gift_value, name FROM campaigns WHERE id = $1")
        .bind(campaign_id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or(DbError::NotFound)?;
    let branch: Option<String> = sqlx::query_scalar("SELECT name FROM branches WHERE id = $1")
        .bind(branch_id)
        .fetch_optional(&mut *c)
        .await?;
    let Some(branch_name) = branch else {
        return Err(refused(
            422,
            "unknown_branch",
            format!("Không có chi nhánh số {branch_id}"),
            format!("there is no branch {branch_id}"),
        ));
    };
    let stored: Option<(i64, i64, i64, i64)> =
        sqlx::query_as("SELECT id, campaign_id, branch_id, packages FROM campaign_receipts WHERE client_id = $1")
            .bind(client_id)
            .fetch_optional(&mut *c)
            .await?;
    if let Some((id, k, b, n)) = stored {
        if (k, b, n) != (campaign_id, branch_id, packages) {
            return Err(refused(
                409,
                "receipt_conflict",
                format!("Biểu mẫu này đã được gửi trước đó và đã ghi một lần nhập kho khác ({} suất); lần nhập vừa điền chưa được ghi. Xem danh sách nhập kho, rồi bấm ghi lần nữa nếu đây là một lần nhập mới", sotay_core::domain::money::group_thousands(n)),
                format!("This form was sent before and recorded another receipt into stock ({n} packages); what was just filled in was not recorded. Look at the list of receipts, then submit again if this is another one"),
            ));
        }
        return campaign_receipt_view(c, id).await;
    }
    let welfare = campaign.kind == "welfare";
    if campaign.gift_value <= 0 {
        return Err(refused(
            422,
            "campaign_without_value",
            format!("Chương trình {} không ghi giá trị mỗi suất: không có gì để ghi sổ", campaign.name),
            format!("campaign {} has no value per gift: there is nothing to post", campaign.name),
        ));
    }
    let amount = packages.checked_mul(campaign.gift_value).filter(|a| *a <= 1_000_000_000_000_000).ok_or_else(|| {
        refused(
            422,
            "invalid_field",
            format!("Số suất {packages} quá lớn"),
            format!("{packages} packages is too many"),
        )
    })?;
    let id: i64 = sqlx::query_scalar::<DB, Option<i64>>("SELECT MAX(id) FROM campaign_receipts")
        .fetch_one(&mut *c)
        .await?
        .unwrap_or(0)
        + 1;
    sqlx::query(
        "INSERT INTO campaign_receipts (id, client_id, campaign_id, branch_id, packages, unit_value, amount, received_on,
             source, recorded_by, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(id)
    .bind(client_id)
    .bind(campaign_id)
    .bind(branch_id)
    .bind(packages)
    .bind(campaign.gift_value)
    .bind(amount)
    .bind(received_on)
    .bind(source)
    .bind(who.user_id)
    .bind(now)
    .execute(&mut *c)
    .await?;
    let mut poster = Poster::new(c, who.user_id).await?;
    let at = At { branch_id, campaign_id: Some(campaign_id), ..At::default() };
    let (what_vi, what_en) = if welfare { ("khoản hỗ trợ", "grant(s)") } else { ("suất quà", "gift package(s)") };
    let memo = format!(
        "Nhận {packages} {what_vi} chương trình {} tại {branch_name} ({}), nguồn: {source}",
        campaign.name,
        format_vnd(amount)
    );
    let e = poster.plan(EntryKind::CampaignReceipt, branch_id, memo, ledger::campaign_receipt(at, amount, welfare));
    e.receipt_id = Some(id);
    let entry_id = e.id;
    poster.write(c, now).await?;
    let detail = serde_json::json!({
        "receipt": id,
        "branch": branch_id,
        "packages": packages,
        "what": what_en,
        "amount": amount,
        "received_on": received_on.to_string(),
        "source": source,
        "entry": entry_id,
    });
    audit_append(c, &who.audit("campaign.receive", "campaign", campaign_id.to_string(), detail), now).await?;
    campaign_receipt_view(c, id).await
}

async fn campaign_receipt_view(c: &mut Conn, id: i64) -> DbResult<rv::CampaignReceipt> {
    let sql = format!("{RECEIPT_VIEW} WHERE r.id = $1");
    Ok(sqlx::query_as(&sql).bind(id).fetch_one(&mut *c).await?)
}

/// Receipts of a campaign (or all), of a branch (or the fund), newest first.
pub async fn campaign_receipts(
    c: &mut Conn,
    campaign_id: Option<i64>,
    branch: Option<i64>,
) -> DbResult<Vec<rv::CampaignReceipt>> {
    let (ck, cid) = campaign_id.map_or((0, 0), |k| (1, k));
    let (bk, bid) = branch.map_or((0, 0), |b| (1, b));
    let sql = format!(
        "{RECEIPT_VIEW} WHERE ($1 = 0 OR r.campaign_id = $2) AND ($3 = 0 OR r.branch_id = $4) ORDER BY r.id DESC LIMIT 500"
    );
    Ok(sqlx::query_as(&sql).bind(ck).bind(cid).bind(bk).bind(bid).fetch_all(&mut *c).await?)
}

/// Repayments taken at the counter, newest first, at most `limit`: of one
/// branch (`None`: every branch), of one loan (`None`: every loan).
pub async fn counter_lines(
    c: &mut Conn,
    branch: Option<i64>,
    loan_id: Option<i64>,
    limit: i64,
) -> DbResult<Vec<rv::CounterLine>> {
    let (bk, bid) = branch.map_or((0, 0), |b| (1, b));
    let (lk, lid) = loan_id.map_or((0, 0), |l| (1, l));
    Ok(sqlx::query_as(
        "SELECT k.id, k.loan_id, l.code AS loan_code, w.full_name AS worker_name, k.amount, k.receipt_no, k.note,
             u.full_name AS recorded_by, k.recorded_at, k.method, k.transfer_ref,
             EXISTS (SELECT 1 FROM journal_entries e JOIN journal_entries r ON r.reverses = e.id
                     WHERE e.counter_id = k.id) AS reversed
         FROM counter_repayments k JOIN loans l ON l.id = k.loan_id JOIN workers w ON w.id = l.worker_id
             JOIN users u ON u.id = k.recorded_by
         WHERE ($1 = 0 OR k.branch_id = $2) AND ($3 = 0 OR k.loan_id = $4)
         ORDER BY k.id DESC LIMIT $5",
    )
    .bind(bk)
    .bind(bid)
    .bind(lk)
    .bind(lid)
    .bind(limit)
    .fetch_all(&mut *c)
    .await?)
}

/// One counter repayment as its receipt prints it, if it is `branch`'s
/// (`None`: any branch).
pub async fn counter_slip(c: &mut Conn, branch: Option<i64>, id: i64) -> DbResult<Option<rv::CounterSlip>> {
    let (bk, bid) = branch.map_or((0, 0), |b| (1, b));
    let slip: Option<rv::CounterSlip> = sqlx::query_as(
        "SELECT k.id, k.receipt_no, k.amount, k.note, k.recorded_at, k.loan_id, l.code AS loan_code,
             w.full_name AS worker_name, w.code AS worker_code, br.name AS branch_name,
             br.address AS branch_address, u.full_name AS recorded_by, k.method, k.transfer_ref,
             CAST(COALESCE((SELECT SUM(jl.credit - jl.debit) FROM journal_lines jl JOIN journal_entries e ON e.id = jl.entry_id
                            WHERE e.counter_id = k.id AND jl.account = 'loan_principal'), 0) AS BIGINT) AS principal,
             CAST(COALESCE((SELECT SUM(jl.credit - jl.debit) FROM journal_lines jl JOIN journal_entries e ON e.id = jl.entry_id
                            WHERE e.counter_id = k.id AND jl.account = 'interest_income'), 0) AS BIGINT) AS interest,
             EXISTS (SELECT 1 FROM journal_entries e JOIN journal_entries r ON r.reverses = e.id
                     WHERE e.counter_id = k.id) AS reversed,
             CAST(COALESCE((SELECT SUM(jl.debit - jl.credit) FROM journal_lines jl
                            JOIN journal_entries o ON o.id = jl.entry_id
                            WHERE jl.loan_id = k.loan_id AND jl.account = 'loan_principal'
                              AND (jl.entry_id <= (SELECT e.id FROM journal_entries e WHERE e.counter_id = k.id)
                                   -- Openings of loans booked before them (migration 0018)
                                   -- were numbered after every entry then.
                                   OR o.kind = 'loan_opening')), 0)
                  AS BIGINT) AS principal_left
         FROM counter_repayments k JOIN loans l ON l.id = k.loan_id JOIN workers w ON w.id = l.worker_id
             JOIN branches br ON br.id = k.branch_id JOIN users u ON u.id = k.recorded_by
         WHERE k.id = $1 AND ($2 = 0 OR k.branch_id = $3)",
    )
    .bind(id)
    .bind(bk)
    .bind(bid)
    .fetch_optional(&mut *c)
    .await?;
    let Some(mut slip) = slip else { return Ok(None) };
    slip.handed_in_by = handed_in_by(c, slip.loan_id, &slip.receipt_no).await?;
    Ok(Some(slip))
}

/// The officer who handed in counter receipt `receipt`'s cash, and the
/// refused receipt of theirs it is the cash of: one settled since by it
/// (see [`counter_settled`]), or one not settled yet that its note names.
async fn handed_in_by(c: &mut Conn, loan_id: i64, receipt: &str) -> DbResult<Option<(String, String)>> {
    let counters = standing_counters(c, loan_id).await?;
    let Some(counter) = counters.iter().find(|k| k.receipt == receipt) else {
        return Ok(None);
    };
    let since = settlements_since(c, counter.taken_at).await?;
    if let Some(SettlementSince { receipt: Some(refused), officer, .. }) = counter_settled(&since, &counters, counter) {
        return Ok(Some((officer.clone(), refused.clone())));
    }
    if counter.note.trim().is_empty() {
        return Ok(None);
    }
    Ok(refused_on_loan(c, None, loan_id).await?.into_iter().find_map(|r| {
        let paid = match serde_json::from_str::<sotay_core::wire::UploadRecord>(&r.record.body).ok()?.body {
            sotay_core::wire::RecordBody::Repayment(p) => p,
            _ => return None,
        };
        rv::note_names_receipt(&counter.note, &paid.receipt_no).then_some((r.officer_name, paid.receipt_no))
    }))
}

/// A reversal request waiting for review in another batch than `batch_id`,
/// of a receipt on a loan.
#[derive(sqlx::FromRow)]
struct WaitingReversal {
    batch_id: uuid::Uuid,
    received_at: DateTime<Utc>,
    receipt_no: Option<String>,
    /// The receipt it names.
    target: uuid::Uuid,
    /// That receipt is posted (not waiting for review itself).
    posted: bool,
}

/// The reversal requests of receipts on `loan_id` waiting for review in
/// batches other than `batch_id`: approved, they give the loan back what
/// their receipts took (a re-entry of an amount typed wrong, sent in a later
/// batch, may need it).
async fn reversals_waiting_elsewhere(c: &mut Conn, loan_id: i64, batch_id: uuid::Uuid) -> DbResult<Vec<WaitingReversal>> {
    Ok(sqlx::query_as(concat!(
        "SELECT q.batch_id, q.received_at, t.receipt_no, t.client_id AS target,
                EXISTS (SELECT 1 FROM journal_entries te WHERE te.record_id = t.id) AS posted
         FROM sync_records t
         JOIN sync_records q ON q.target_client_id = t.client_id AND q.kind = 'reversal_request'
         WHERE t.loan_id = $1 AND t.kind = 'repayment' AND q.batch_id <> $2 AND q.status = 'accepted'
           AND NOT EXISTS (SELECT 1 FROM record_reviews qd WHERE qd.record_id = q.id) AND ",
        no_live_void_sql!(q),
        " ORDER BY q.received_at, q.id",
    ))
    .bind(loan_id)
    .bind(batch_id)
    .fetch_all(&mut *c)
    .await?)
}

/// Refuses a reversal at the branch of an entry whose record an officer
/// asked to reverse from her phone, while that request waits in her batch:
/// approved, it would reverse the entry a second time (and her batch could
/// not be approved), so the request is decided there.
async fn officer_reversal_waiting(c: &mut Conn, entry_id: i64) -> DbResult<()> {
    let waiting: Option<(String, Option<String>, uuid::Uuid, DateTime<Utc>)> = sqlx::query_as(concat!(
        "SELECT u.full_name, t.receipt_no, q.batch_id, q.received_at
         FROM journal_entries e JOIN sync_records t ON t.id = e.record_id
             JOIN sync_records q ON q.target_client_id = t.client_id AND q.kind = 'reversal_request'
             JOIN users u ON u.id = q.officer_id
         WHERE e.id = $1 AND q.status = 'accepted'
           AND NOT EXISTS (SELECT 1 FROM record_reviews qd WHERE qd.record_id = q.id) AND ",
        no_live_void_sql!(q),
        " ORDER BY q.id LIMIT 1",
    ))
    .bind(entry_id)
    .fetch_optional(&mut *c)
    .await?;
    let Some((officer, receipt, batch, at)) = waiting else { return Ok(()) };
    let id = batch.simple().to_string();
    let (at, tail, receipt) =
        (sotay_core::domain::time::format_datetime(at), &id[id.len() - 6..], receipt.unwrap_or_default());
    Err(refused(
        409,
        "reversal_pending",
        format!(
            "Cán bộ {officer} đã đề nghị đảo bút toán số {entry_id} (phiếu {receipt}) từ điện thoại, đang chờ duyệt trong lô đồng bộ lúc {at} (mã …{tail}): duyệt hoặc loại đề nghị đó khi duyệt lô"
        ),
        format!(
            "officer {officer} asked from the phone to reverse entry {entry_id} (receipt {receipt}); the request waits in the batch synced at {at} (id …{tail}): approve or exclude it when reviewing that batch"
        ),
    ))
}

/// The entries of a loan's counter repayments, not reversed, that settled
/// an officer's refused receipt (see [`counter_settled`]).
pub async fn counter_entries_settling(c: &mut Conn, loan_id: i64) -> DbResult<Vec<i64>> {
    let counters = standing_counters(c, loan_id).await?;
    let Some(first) = counters.iter().map(|k| k.taken_at).min() else {
        return Ok(Vec::new());
    };
    let since = settlements_since(c, first).await?;
    Ok(counters
        .iter()
        .filter(|k| counter_settled(&since, &counters, k).is_some())
        .map(|k| k.entry)
        .collect())
}

/// A settlement of a refused receipt since a time.
struct SettlementSince {
    note: String,
    /// The refused receipt's number and the cash it took.
    receipt: Option<String>,
    amount: Option<i64>,
    /// Its officer.
    officer: String,
    at: DateTime<Utc>,
}

/// The settlements of refused receipts made at or after `from` (the
/// receipt's number and amount as its phone sent them: one refused at
/// upload keeps none of its own).
async fn settlements_since(c: &mut Conn, from: DateTime<Utc>) -> DbResult<Vec<SettlementSince>> {
    // Note, receipt number, body, officer, when.
    type Row = (String, Option<String>, String, String, DateTime<Utc>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT x.note, s.receipt_no, s.body, u.full_name, x.settled_at FROM refused_settlements x
             JOIN sync_records s ON s.id = x.record_id JOIN users u ON u.id = s.officer_id
         WHERE x.settled_at >= $1 ORDER BY x.record_id",
    )
    .bind(from)
    .fetch_all(&mut *c)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(note, receipt, body, officer, at)| {
            let paid = match serde_json::from_str::<sotay_core::wire::UploadRecord>(&body).ok().map(|u| u.body) {
                Some(sotay_core::wire::RecordBody::Repayment(p)) => Some(p),
                _ => None,
            };
            SettlementSince {
                note,
                amount: paid.as_ref().map(|p| p.amount.get()),
                receipt: receipt.or_else(|| paid.map(|p| p.receipt_no)),
                officer,
                at,
            }
        })
        .collect())
}

/// The entries of `counters` (a loan's standing counter receipts, oldest
/// first) that hold the cash of the refused receipt settlement `s` settled:
/// the counter receipt named first after "Thu tại quầy, phiếu"; else every
/// one its note names; else, for a settlement in other words, those whose
/// own notes name the refused receipt, taken before it was settled, oldest
/// first, as far as its cash goes (one naming it beyond that took other
/// cash).
fn settling_counters(s: &SettlementSince, counters: &[StandingCounter]) -> Vec<i64> {
    if let Some(after) = rv::after_settled_at_counter(&s.note) {
        let first = after
            .trim_start_matches(|c: char| !c.is_alphanumeric())
            .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')' | '—' | '–'))
            .next()
            .unwrap_or_default();
        if let Some(k) = counters.iter().find(|k| !first.is_empty() && rv::note_names_receipt(first, &k.receipt)) {
            return vec![k.entry];
        }
    }
    let named: Vec<i64> =
        counters.iter().filter(|k| rv::note_names_receipt(&s.note, &k.receipt)).map(|k| k.entry).collect();
    if !named.is_empty() {
        return named;
    }
    let Some(receipt) = s.receipt.as_deref() else { return Vec::new() };
    let mut left = s.amount.unwrap_or(i64::MAX);
    let mut holding = Vec::new();
    for k in counters.iter().filter(|k| k.taken_at <= s.at && rv::note_names_receipt(&k.note, receipt)) {
        if left <= 0 {
            break;
        }
        holding.push(k.entry);
        left -= k.amount;
    }
    holding
}

/// The settlement since of a refused receipt counter receipt `counter`
/// (one of `counters`, its loan's standing ones, oldest first) holds the
/// cash of (see [`settling_counters`]); another counter receipt naming the
/// same refused receipt took other cash, and may be reversed.
fn counter_settled<'a>(
    since: &'a [SettlementSince],
    counters: &[StandingCounter],
    counter: &StandingCounter,
) -> Option<&'a SettlementSince> {
    since
        .iter()
        .filter(|s| s.at >= counter.taken_at)
        .find(|s| settling_counters(s, counters).contains(&counter.entry))
}

/// Refuses a reversal of a counter receipt that settled an officer's
/// refused receipt: reversed, the cash would be on no list (the refused
/// receipt stays marked as settled by it).
pub async fn settled_by_counter(c: &mut Conn, entry_id: i64) -> DbResult<()> {
    let loan: Option<i64> = sqlx::query_scalar(
        "SELECT k.loan_id FROM journal_entries e JOIN counter_repayments k ON k.id = e.counter_id WHERE e.id = $1",
    )
    .bind(entry_id)
    .fetch_optional(&mut *c)
    .await?;
    let Some(loan) = loan else { return Ok(()) };
    let counters = standing_counters(c, loan).await?;
    let Some(counter) = counters.iter().find(|k| k.entry == entry_id) else {
        return Ok(());
    };
    // Settled by it: a settlement since whose note names it, however it
    // was typed (the console writes it, the API's caller may), or one of
    // the receipt its own note names.
    let since = settlements_since(c, counter.taken_at).await?;
    let Some(SettlementSince { receipt, officer, .. }) = counter_settled(&since, &counters, counter) else {
        return Ok(());
    };
    let receipt = receipt.clone().unwrap_or_default();
    let counter = &counter.receipt;
    Err(refused(
        409,
        "counter_settled_refused",
        format!(
            "Phiếu {counter} là tiền của phiếu {receipt} bị từ chối mà cán bộ {officer} đã thu, nộp tại quầy: đảo phiếu này thì số tiền đó không còn ở danh sách nào. Phiếu này không đảo được; nếu đã thu nhầm, khoản chênh được xử lý ngoài sổ cùng quản trị viên của quỹ"
        ),
        format!(
            "receipt {counter} is the cash of refused receipt {receipt}, which officer {officer} took and handed over at the counter: reversed, that cash would be on no list. It cannot be reversed; if it was taken by mistake, the difference is dealt with outside the books with the fund's administrator"
        ),
    ))
}

/// A reversal entered at the branch: waits for a second person.
pub async fn branch_reversal_request(
    c: &mut Conn,
    who: &rv::Reviewer,
    entry_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> DbResult<i64> {
    let now = take_write_lock(c, now).await?;
    let found = target_entries(c, "id", &[entry_id]).await?;
    let Some((_, target)) = found.into_iter().next() else { return Err(DbError::NotFound) };
    if !who.covers(Some(target.branch_id)) {
        return Err(DbError::NotFound);
    }
    if !EntryKind::reversible_at_branch(&target.kind) || target.reversed {
        return Err(refused(
            409,
            "reversal_target_invalid",
            format!(
                "Bút toán số {entry_id} không đảo được (đã đảo, hoặc không phải khoản thu, quà, phiếu nhập kho quà, vốn nhận về, giải ngân, khoản vay nhập từ tệp, nộp/rút tiền ngân hàng hay thanh toán thừa/thiếu quỹ của cán bộ)"
            ),
            format!(
                "entry {entry_id} cannot be reversed (already reversed, or not a repayment, a gift, a stock receipt, capital received, a loan paid out, a loan imported from a file, a bank deposit or withdrawal or an officer's short/over settled)"
            ),
        ));
    }
    if let (true, Some(loan)) = (EntryKind::takes_back_loan(&target.kind), target.loan_id) {
        nothing_collected(c, loan).await?;
    }
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM branch_reversals b WHERE b.entry_id = $1
         AND NOT EXISTS (SELECT 1 FROM branch_reversal_decisions d WHERE d.reversal_id = b.id)",
    )
    .bind(entry_id)
    .fetch_one(&mut *c)
    .await?;
    if open > 0 {
        return Err(refused(
            409,
            "reversal_pending",
            format!("Đã có đề nghị đảo bút toán số {entry_id} đang chờ duyệt"),
            format!("a reversal of entry {entry_id} is already waiting for approval"),
        ));
    }
    officer_reversal_waiting(c, entry_id).await?;
    settled_by_counter(c, entry_id).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO branch_reversals (entry_id, reason, requested_by, requested_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(entry_id)
    .bind(reason)
    .bind(who.user_id)
    .bind(now)
    .fetch_one(&mut *c)
    .await?;
    let detail = serde_json::json!({ "entry": entry_id, "reason": reason });
    audit_append(c, &who.audit("reversal.request", "branch_reversal", id.to_string(), detail), now).await?;
    Ok(id)
}

#[derive(sqlx::FromRow)]
struct BranchReversalHead {
    entry_id: i64,
    reason: String,
    requested_by: i64,
    decided: bool,
}

/// Approves (posting the reversal) or rejects a branch reversal. The person
/// who asked cannot decide.
pub async fn branch_reversal_decide(
    c: &mut Conn,
    who: &rv::Reviewer,
    id: i64,
    approve: bool,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> DbResult<Option<i64>> {
    let now = take_write_lock(c, now).await?;
    let head: BranchReversalHead = sqlx::query_as(
        "SELECT b.entry_id, b.reason, b.requested_by,
             EXISTS (SELECT 1 FROM branch_reversal_decisions d WHERE d.reversal_id = b.id) AS decided
         FROM branch_reversals b WHERE b.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *c)
    .await?
    .ok_or(DbError::NotFound)?;
    let found = target_entries(c, "id", &[head.entry_id]).await?;
    let Some((entry_head, target)) = found.into_iter().next() else { return Err(DbError::NotFound) };
    if !who.covers(Some(target.branch_id)) {
        return Err(DbError::NotFound);
    }
    // Whoever asked may withdraw it (reject), never approve it.
    if head.requested_by == who.user_id && approve {
        return Err(refused(
            403,
            "maker_checker",
            "Người đề nghị đảo không được tự duyệt; cần một người khác".into(),
            "whoever asked for the reversal cannot approve it; someone else must".into(),
        ));
    }
    // An admin's write-off of an officer's over/short is the fund's
    // decision too.
    let written_off = target.lines.iter().any(|l| l.account == Account::OverShortWrittenOff);
    if approve && !who.is_admin && (EntryKind::admin_to_reverse(&target.kind) || written_off) {
        let asker: String = sqlx::query_scalar("SELECT role FROM users WHERE id = $1")
            .bind(head.requested_by)
            .fetch_one(&mut *c)
            .await?;
        if asker != "admin" {
            return Err(refused(
                403,
                "admin_required",
                "Đảo phiếu nhập kho quà, vốn cho vay, khoản vay nhập từ tệp hay khoản thừa/thiếu quỹ đã được quỹ xử lý cần một quản trị viên đề nghị hoặc duyệt".into(),
                "reversing a gift stock or lending capital receipt, a loan imported from a file or a cash short/over the fund wrote off needs an administrator to ask for it or approve it".into(),
            ));
        }
    }
    if head.decided {
        // Who decided it, and when (another tab, a colleague).
        let (decision, by, at): (String, String, DateTime<Utc>) = sqlx::query_as(
            "SELECT d.decision, u.full_name, d.decided_at FROM branch_reversal_decisions d
                 JOIN users u ON u.id = d.reviewer_id WHERE d.reversal_id = $1",
        )
        .bind(id)
        .fetch_one(&mut *c)
        .await?;
        let when = sotay_core::domain::time::format_datetime(at);
        let (vi, en) = if decision == "approved" { ("duyệt", "approved") } else { ("từ chối", "rejected") };
        return Err(refused(
            409,
            "reversal_already_decided",
            format!("Đề nghị đảo này đã được {by} {vi} lúc {when}"),
            format!("this reversal was already {en} by {by} at {when}"),
        ));
    }
    let mut entry = None;
    let takes_back = target.loan_id.filter(|_| EntryKind::takes_back_loan(&target.kind));
    if approve {
        if let Some(loan) = takes_back {
            nothing_collected(c, loan).await?;
        }
        officer_reversal_waiting(c, head.entry_id).await?;
        settled_by_counter(c, head.entry_id).await?;
        let mut poster = Poster::new(c, who.user_id).await?;
        if let Some(loan) = target.loan_id {
            poster.load_loans(c, &[loan]).await?;
        }
        let memo = format!("Đảo bút toán số {}{} tại chi nhánh: {}", target.id, receipt_words(c, target.id).await?, head.reason);
        let planned = poster
            .reverse(&target, memo, None)
            .map_err(|(code, vi, en)| refused(409, code, vi, en))?;
        entry = Some(planned.id);
        let reversal_entry = planned.id;
        let (changed, _) = poster.write(c, now).await?;
        if let Some(loan) = takes_back {
            cancel_loan(c, loan, id, reversal_entry, now).await?;
            let brought_in = if target.kind == EntryKind::Disbursement.as_str() { "disbursement_entry" } else { "opening_entry" };
            let detail = serde_json::json!({
                "reversal": id, "entry": reversal_entry, brought_in: head.entry_id, "reason": head.reason,
            });
            audit_append(c, &who.audit("loan.cancel", "loan", loan.to_string(), detail), now).await?;
        }
        // The record first: its page brings the loans it moved, so a sync
        // cut after it never shows the loan reversed and the record not.
        let mut feed: Vec<(i64, &'static str, i64)> = Vec::new();
        if let (Some(record), Some(officer)) = (entry_head.record_id, target.officer_id) {
            feed.push((officer, "record", record));
            if let Some(k) = target.lines.iter().find_map(|l| l.campaign_id) {
                feed.push((officer, "campaign", k));
                feed.extend(moved_workers_changes(c, &[record]).await?);
            }
        }
        // A refused gift's stock-out (no record of its own): the gift no
        // longer counts as the worker's, and the officer's phone hears it.
        let stocked_out: Option<(i64, i64, Option<i64>)> = sqlx::query_as(
            "SELECT s.id, s.officer_id, s.campaign_id FROM refused_settlements x JOIN sync_records s ON s.id = x.record_id
             WHERE x.entry_id = $1",
        )
        .bind(head.entry_id)
        .fetch_optional(&mut *c)
        .await?;
        if let Some((record, officer, campaign)) = stocked_out {
            feed.push((officer, "record", record));
            feed.extend(campaign.map(|k| (officer, "campaign", k)));
            feed.extend(moved_workers_changes(c, &[record]).await?);
        }
        feed.extend(changed.iter().map(|(o, l)| (*o, "loan", *l)));
        append_changes(c, &feed).await?;
    }
    sqlx::query(
        "INSERT INTO branch_reversal_decisions (reversal_id, decision, reviewer_id, reason, decided_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(if approve { "approved" } else { "rejected" })
    .bind(who.user_id)
    .bind(reason)
    .bind(now)
    .execute(&mut *c)
    .await?;
    let action = if approve { "reversal.approve" } else { "reversal.reject" };
    let detail = serde_json::json!({ "entry": head.entry_id, "reversal_entry": entry, "reason": reason });
    audit_append(c, &who.audit(action, "branch_reversal", id.to_string(), detail), now).await?;
    Ok(entry)
}

/// A loan paid out (or imported) can be taken back only while nothing was
/// collected on it: nothing paid on its installments beyond what its import
/// brought in as paid before Sổ Tay, no collection waiting for review.
async fn nothing_collected(c: &mut Conn, loan_id: i64) -> DbResult<()> {
    let (code, paid, waiting): (String, i64, i64) = sqlx::query_as(
        "SELECT l.code,
             CAST((SELECT COALESCE(SUM(i.principal_paid + i.interest_paid), 0) FROM installments i
                   WHERE i.loan_id = l.id) - l.opening_paid AS BIGINT),
             (SELECT COUNT(*) FROM undecided_repayments u WHERE u.loan_id = l.id)
         FROM loans l WHERE l.id = $1",
    )
    .bind(loan_id)
    .fetch_one(&mut *c)
    .await?;
    if paid > 0 || waiting > 0 {
        return Err(refused(
            409,
            "loan_has_collections",
            format!(
                "Khoản vay {code} đã có tiền thu ({} đã ghi sổ, {waiting} khoản chờ duyệt); hãy đảo hoặc loại các khoản thu đó trước rồi mới hủy khoản vay",
                format_vnd(paid)
            ),
            format!(
                "loan {code} has collections ({} posted, {waiting} waiting for review); reverse or exclude them before taking the loan back",
                format_vnd(paid)
            ),
        ));
    }
    Ok(())
}

/// The loan of a disbursement taken back: no schedule any more (nothing
/// falls due, nothing is owed), recorded as cancelled by the reversal.
async fn cancel_loan(c: &mut Conn, loan_id: i64, reversal_id: i64, entry_id: i64, now: DateTime<Utc>) -> DbResult<()> {
    sqlx::query("DELETE FROM installments WHERE loan_id = $1").bind(loan_id).execute(&mut *c).await?;
    sqlx::query("INSERT INTO loan_cancellations (loan_id, reversal_id, entry_id, cancelled_at) VALUES ($1, $2, $3, $4)")
        .bind(loan_id)
        .bind(reversal_id)
        .bind(entry_id)
        .bind(now)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub async fn branch_reversals(c: &mut Conn, branch: Option<i64>, pending_only: bool) -> DbResult<Vec<rv::BranchReversal>> {
    reversals(c, branch, pending_only, None).await
}

/// One reversal request of `branch` (all branches: `None`), decided or not.
pub async fn branch_reversal(c: &mut Conn, branch: Option<i64>, id: i64) -> DbResult<Option<rv::BranchReversal>> {
    Ok(reversals(c, branch, false, Some(id)).await?.pop())
}

async fn reversals(
    c: &mut Conn,
    branch: Option<i64>,
    pending_only: bool,
    one: Option<i64>,
) -> DbResult<Vec<rv::BranchReversal>> {
    let (kind, id) = branch.map_or((0, 0), |b| (1, b));
    let pending = if pending_only { " AND d.reversal_id IS NULL" } else { "" };
    let sql = format!(
        "SELECT b.id, b.entry_id, e.kind AS entry_kind, e.memo, e.loan_id, ln.code AS loan_code, wk.full_name AS worker_name,
             CAST((SELECT COALESCE(SUM(l.debit), 0) FROM journal_lines l WHERE l.entry_id = e.id) AS BIGINT) AS amount,
             b.reason, ru.full_name AS requested_by, b.requested_by AS requested_by_id, b.requested_at, d.decision,
             du.full_name AS reviewer, d.reason AS decision_reason, d.decided_at, x.id AS reversal_entry_id,
             EXISTS (SELECT 1 FROM journal_lines w WHERE w.entry_id = e.id AND w.account = 'over_short_written_off')
                 AS written_off
         FROM branch_reversals b JOIN journal_entries e ON e.id = b.entry_id JOIN users ru ON ru.id = b.requested_by
             LEFT JOIN branch_reversal_decisions d ON d.reversal_id = b.id LEFT JOIN users du ON du.id = d.reviewer_id
             LEFT JOIN journal_entries x ON x.reverses = b.entry_id AND d.decision = 'approved'
             LEFT JOIN loans ln ON ln.id = e.loan_id LEFT JOIN workers wk ON wk.id = ln.worker_id
         WHERE ($1 = 0 OR e.branch_id = $2) AND ($3 = 0 OR b.id = $3){pending} ORDER BY b.id DESC LIMIT 500"
    );
    Ok(sqlx::query_as(&sql).bind(kind).bind(id).bind(one.unwrap_or(0)).fetch_all(&mut *c).await?)
}

/// Account balances by branch and sub-ledger.
pub async fn ledger_balances(c: &mut Conn, branch: Option<i64>) -> DbResult<Vec<rv::AccountBalance>> {
    let (kind, id) = branch.map_or((0, 0), |b| (1, b));
    let mut rows: Vec<rv::AccountBalance> = sqlx::query_as(
        "SELECT account, branch_id, NULLIF(officer_id, 0) AS officer_id, NULLIF(campaign_id, 0) AS campaign_id,
             debit, credit
         FROM account_balances WHERE ($1 = 0 OR branch_id = $2)
         ORDER BY account, branch_id, officer_id, campaign_id",
    )
    .bind(kind)
    .bind(id)
    .fetch_all(&mut *c)
    .await?;
    for r in &mut rows {
        if let Some(a) = Account::parse(&r.account) {
            r.name_vi = a.name_vi().to_string();
            r.name_en = a.name_en().to_string();
        }
    }
    Ok(rows)
}

/// Entries that do not balance (must be none).
pub async fn ledger_unbalanced(c: &mut Conn) -> DbResult<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT e.id FROM journal_entries e LEFT JOIN journal_lines l ON l.entry_id = e.id GROUP BY e.id
         HAVING COALESCE(SUM(l.debit), 0) <> COALESCE(SUM(l.credit), 0) OR COUNT(l.id) = 0 ORDER BY e.id",
    )
    .fetch_all(&mut *c)
    .await?)
}

/// Sub-ledgers whose kept balance (`account_balances`) differs from the sum
/// of their journal lines, as (account, branch code): empty when the books
/// agree.
pub async fn ledger_balance_drift(c: &mut Conn) -> DbResult<Vec<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT COALESCE(b.account, l.account) AS account,
                COALESCE((SELECT br.code FROM branches br WHERE br.id = COALESCE(b.branch_id, l.branch_id)),
                         CAST(COALESCE(b.branch_id, l.branch_id) AS TEXT)) AS branch
         FROM account_balances b FULL JOIN
              (SELECT account, branch_id, COALESCE(officer_id, 0) AS officer_id, COALESCE(campaign_id, 0) AS campaign_id,
                      CAST(SUM(debit) AS BIGINT) AS debit, CAST(SUM(credit) AS BIGINT) AS credit
               FROM journal_lines GROUP BY account, branch_id, COALESCE(officer_id, 0), COALESCE(campaign_id, 0)) l
           ON l.account = b.account AND l.branch_id = b.branch_id AND l.officer_id = b.officer_id
              AND l.campaign_id = b.campaign_id
         WHERE b.account IS NULL OR l.account IS NULL OR b.debit <> l.debit OR b.credit <> l.credit
         ORDER BY 1, 2",
    )
    .fetch_all(&mut *c)
    .await?)
}

/// Loans whose principal in the ledger (debits less credits of
/// `loan_principal`) is not what their installments still owe, as
/// (loan code, ledger, installments): empty when the books agree.
pub async fn loan_principal_drift(c: &mut Conn) -> DbResult<Vec<(String, i64, i64)>> {
    Ok(sqlx::query_as(
        "SELECT l.code,
             CAST(COALESCE(b.owed, 0) AS BIGINT), CAST(COALESCE(i.owed, 0) AS BIGINT)
         FROM loans l
         LEFT JOIN (SELECT loan_id, SUM(debit - credit) AS owed FROM journal_lines
                    WHERE account = 'loan_principal' GROUP BY loan_id) b ON b.loan_id = l.id
         LEFT JOIN (SELECT loan_id, SUM(principal_due - principal_paid) AS owed FROM installments
                    GROUP BY loan_id) i ON i.loan_id = l.id
         WHERE COALESCE(b.owed, 0) <> COALESCE(i.owed, 0)
         ORDER BY l.id",
    )
    .fetch_all(&mut *c)
    .await?)
}

/// Loans whose principal lines stand on a branch other than their
/// borrower's, with what each such branch holds: (loan code, branch code,
/// net). A branch's loan book then disagrees with its loans (a borrower
/// moved to another branch's officer before imports refused it).
pub async fn loan_branch_drift(c: &mut Conn) -> DbResult<Vec<(String, String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT l.code, b.code, CAST(SUM(jl.debit - jl.credit) AS BIGINT)
         FROM journal_lines jl JOIN loans l ON l.id = jl.loan_id JOIN branches b ON b.id = jl.branch_id
         WHERE jl.account = 'loan_principal' AND jl.branch_id <> l.worker_branch_id
         GROUP BY l.id, l.code, b.code
         HAVING SUM(jl.debit - jl.credit) <> 0
         ORDER BY l.id, b.code",
    )
    .fetch_all(&mut *c)
    .await?)
}

/// Records on which `undecided_repayments` disagrees with its definition
/// (accepted repayments without a review); empty unless something is broken.
pub async fn undecided_drift(c: &mut Conn) -> DbResult<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT COALESCE(u.record_id, d.id) FROM undecided_repayments u FULL JOIN
              (SELECT r.id, r.loan_id, r.client_id, r.amount FROM sync_records r
               WHERE r.kind = 'repayment' AND r.status = 'accepted'
                 AND NOT EXISTS (SELECT 1 FROM record_reviews rd WHERE rd.record_id = r.id)) d
           ON d.id = u.record_id AND d.loan_id = u.loan_id AND d.client_id = u.client_id AND d.amount = u.amount
         WHERE u.record_id IS NULL OR d.id IS NULL
         ORDER BY 1",
    )
    .fetch_all(&mut *c)
    .await?)
}

/// Records whose stored columns disagree with the body the phone sent
/// (its client id, kind, loan, worker, campaign, target, amount, receipt
/// number), or whose body no longer has the hash it was stored with: what
/// a review and a posting read comes from the columns. Read in pages,
/// however many records there are.
pub async fn record_body_drift(c: &mut Conn) -> DbResult<Vec<(i64, String)>> {
    use sha2::Digest;
    use sotay_core::wire::{RecordBody, UploadRecord};
    type Row = (
        i64,
        uuid::Uuid,
        String,
        String,
        String,
        Option<i64>,
        Option<String>,
        Option<uuid::Uuid>,
        Option<uuid::Uuid>,
        Option<uuid::Uuid>,
        Option<uuid::Uuid>,
    );
    let mut out = Vec::new();
    let mut after = 0_i64;
    loop {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT s.id, s.client_id, s.kind, s.body, s.body_hash, s.amount, s.receipt_no,
                    l.uid, w.uid, k.uid, s.target_client_id
             FROM sync_records s LEFT JOIN loans l ON l.id = s.loan_id
                 LEFT JOIN workers w ON w.id = s.worker_id LEFT JOIN campaigns k ON k.id = s.campaign_id
             WHERE s.id > $1 ORDER BY s.id LIMIT 5000",
        )
        .bind(after)
        .fetch_all(&mut *c)
        .await?;
        let Some(last) = rows.last() else { break };
        after = last.0;
        for (id, client, kind, body, hash, amount, receipt, loan, worker, campaign, target) in rows {
            if hex::encode(sha2::Sha256::digest(body.as_bytes())) != hash {
                out.push((id, "body_hash".to_string()));
                continue;
            }
            let Ok(r) = serde_json::from_str::<UploadRecord>(&body) else {
                out.push((id, "body".to_string()));
                continue;
            };
            let differs = |column: Option<uuid::Uuid>, sent: uuid::Uuid| column.is_some_and(|c| c != sent);
            let (sent_kind, wrong) = match &r.body {
                RecordBody::Visit(v) => ("visit", differs(worker, v.worker_id).then_some("worker_id")),
                RecordBody::Repayment(p) => (
                    "repayment",
                    if differs(loan, p.loan_id) {
                        Some("loan_id")
                    } else if differs(worker, p.worker_id) {
                        Some("worker_id")
                    } else if amount.is_some_and(|a| a != p.amount.get()) {
                        Some("amount")
                    } else if receipt.as_deref().is_some_and(|n| n != p.receipt_no) {
                        Some("receipt_no")
                    } else {
                        None
                    },
                ),
                RecordBody::GiftHandout(g) => (
                    "gift_handout",
                    if differs(campaign, g.campaign_id) {
                        Some("campaign_id")
                    } else {
                        differs(worker, g.worker_id).then_some("worker_id")
                    },
                ),
                RecordBody::Void(v) => ("void", differs(target, v.target_id).then_some("target_client_id")),
                RecordBody::ReversalRequest(v) => {
                    ("reversal_request", differs(target, v.target_id).then_some("target_client_id"))
                }
            };
            let wrong = if client != r.client_id {
                Some("client_id")
            } else if kind != sent_kind {
                Some("kind")
            } else {
                wrong
            };
            if let Some(column) = wrong {
                out.push((id, column.to_string()));
            }
        }
    }
    Ok(out)
}

/// Journal entries of a branch (or the fund), newest first, optionally of one loan.
pub async fn ledger_entries(
    c: &mut Conn,
    branch: Option<i64>,
    loan_id: Option<i64>,
    entry_id: Option<i64>,
    limit: i64,
    offset: i64,
) -> DbResult<Vec<rv::EntryView>> {
    let (kind, id) = branch.map_or((0, 0), |b| (1, b));
    let rows: Vec<rv::EntryRow> = sqlx::query_as(
        "SELECT e.id, e.kind, e.branch_id, e.loan_id, e.officer_id, s.client_id AS record_client_id, e.reverses,
             e.posted_at, e.memo
         FROM journal_entries e LEFT JOIN sync_records s ON s.id = e.record_id
         WHERE ($1 = 0 OR e.branch_id = $2) AND ($3 = 0 OR e.loan_id = $4) AND ($7 = 0 OR e.id = $8)
         ORDER BY e.id DESC LIMIT $5 OFFSET $6",
    )
    .bind(kind)
    .bind(id)
    .bind(i64::from(loan_id.is_some()))
    .bind(loan_id.unwrap_or(0))
    .bind(limit)
    .bind(offset)
    .bind(i64::from(entry_id.is_some()))
    .bind(entry_id.unwrap_or(0))
    .fetch_all(&mut *c)
    .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT entry_id, account, officer_id, campaign_id, loan_id, debit, credit FROM journal_lines
         WHERE entry_id IN ({}) ORDER BY id",
        placeholders(1, rows.len())
    );
    let mut q = sqlx::query_as::<DB, rv::LineView>(&sql);
    for r in &rows {
        q = q.bind(r.id);
    }
    let mut lines: HashMap<i64, Vec<rv::LineView>> = HashMap::new();
    for l in q.fetch_all(&mut *c).await? {
        lines.entry(l.entry_id).or_default().push(l);
    }
    Ok(rows
        .into_iter()
        .map(|r| rv::EntryView {
            lines: lines.remove(&r.id).unwrap_or_default(),
            id: r.id,
            kind: r.kind,
            branch_id: r.branch_id,
            loan_id: r.loan_id,
            officer_id: r.officer_id,
            record_id: r.record_client_id,
            reverses: r.reverses,
            posted_at: r.posted_at,
            memo: r.memo,
        })
        .collect())
}

/// The audit log, newest first, filtered.
pub async fn audit_list(c: &mut Conn, f: &rv::AuditFilter) -> DbResult<Vec<rv::AuditRow>> {
    let mut qb = sqlx::QueryBuilder::<DB>::new(
        "SELECT id, at, actor_user_id, actor_username, action, object_type, object_id, device_id, ip, detail
         FROM audit_log WHERE 1 = 1",
    );
    if let Some(v) = &f.actor {
        qb.push(" AND actor_username = ").push_bind(v.clone());
    }
    if let Some(v) = &f.action {
        qb.push(" AND action = ").push_bind(v.clone());
    }
    if let Some(v) = &f.object_type {
        qb.push(" AND object_type = ").push_bind(v.clone());
    }
    if let Some(v) = &f.object_id {
        qb.push(" AND object_id = ").push_bind(v.clone());
    }
    if let Some(v) = &f.device_id {
        qb.push(" AND device_id = ").push_bind(v.clone());
    }
    if let Some(v) = f.from {
        qb.push(" AND at >= ").push_bind(v);
    }
    if let Some(v) = f.to {
        qb.push(" AND at < ").push_bind(v);
    }
    qb.push(" ORDER BY id DESC LIMIT ").push_bind(f.limit).push(" OFFSET ").push_bind(f.offset);
    Ok(qb.build_query_as().fetch_all(&mut *c).await?)
}
