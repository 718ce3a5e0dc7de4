// Storing an uploaded batch: one transaction, every record re-checked with
// the same rules the phone applied. Included into each backend module.

use sotay_core::domain::gifts::{Eligibility, WorkerFacts};
use sotay_core::domain::rules::{self, CampaignFacts, LoanStatus, RuleViolation};
use super::Uploader;
use sotay_core::wire::{RecordBody, UploadBatch, UploadOutcome, UploadRecord, UploadResponse, UploadResult};

/// How a record was judged before it is stored.
struct Verdict {
    status: &'static str,
    code: Option<String>,
    message_vi: Option<String>,
    message_en: Option<String>,
    worker_id: Option<i64>,
    loan_id: Option<i64>,
    campaign_id: Option<i64>,
    target: Option<uuid::Uuid>,
    amount: Option<i64>,
    receipt_no: Option<String>,
}

impl Verdict {
    fn accepted() -> Self {
        Verdict {
            status: "accepted",
            code: None,
            message_vi: None,
            message_en: None,
            worker_id: None,
            loan_id: None,
            campaign_id: None,
            target: None,
            amount: None,
            receipt_no: None,
        }
    }

    fn rejected(code: &str, vi: String, en: String) -> Self {
        Verdict {
            status: "rejected",
            code: Some(code.to_string()),
            message_vi: Some(vi),
            message_en: Some(en),
            ..Verdict::accepted()
        }
    }

    fn violation(v: RuleViolation) -> Self {
        Verdict::rejected(v.code(), v.message_vi(), v.message_en())
    }
}

/// How far in the future a phone's clock may be.
const FUTURE_TOLERANCE_MINUTES: i64 = 10;

/// Stores a batch, or returns the stored answer when the same batch comes
/// again. `Conflict("batch_conflict")` when the batch id was used for other
/// content.
pub async fn apply_upload(
    c: &mut Conn,
    who: &Uploader,
    batch: &UploadBatch,
    body_hash: &str,
    now: DateTime<Utc>,
) -> DbResult<UploadResponse> {
    // Uploads are serialized: gift uniqueness, allocations and pending
    // balances are checked against everything stored before.
    sqlx::query("UPDATE sync_counter SET value = value WHERE id = 1").execute(&mut *c).await?;
    let stored: Option<(String, String)> =
        sqlx::query_as("SELECT body_hash, response FROM sync_batches WHERE batch_id = $1")
            .bind(batch.batch_id)
            .fetch_optional(&mut *c)
            .await?;
    if let Some((hash, response)) = stored {
        if hash != body_hash {
            return Err(DbError::Conflict("batch_conflict".into()));
        }
        return serde_json::from_str(&response).map_err(|e| DbError::Invalid(format!("stored response: {e}")));
    }
    sqlx::query(
        "INSERT INTO sync_batches (batch_id, device_id, officer_id, body_hash, records, response, received_at)
         VALUES ($1, $2, $3, $4, $5, '', $6)",
    )
    .bind(batch.batch_id)
    .bind(&who.device_id)
    .bind(who.officer_id)
    .bind(body_hash)
    .bind(batch.records.len() as i64)
    .bind(now)
    .execute(&mut *c)
    .await?;

    let mut results = Vec::with_capacity(batch.records.len());
    let mut feed: Vec<(i64, &'static str, i64)> = Vec::new();
    for record in &batch.records {
        let hash = record_hash(record);
        let existing: Option<StoredRecord> = sqlx::query_as(
            "SELECT body_hash, status, code, message_vi, message_en FROM sync_records WHERE client_id = $1",
        )
        .bind(record.client_id)
        .fetch_optional(&mut *c)
        .await?;
        if let Some(StoredRecord { body_hash: stored_hash, status, code, message_vi: vi, message_en: en }) = existing {
            results.push(if stored_hash != hash {
                UploadResult {
                    client_id: record.client_id,
                    outcome: UploadOutcome::Rejected,
                    code: Some("conflict".into()),
                    message_vi: Some("Mã bản ghi này đã được dùng cho một nội dung khác; bản ghi không được lưu".into()),
                    message_en: Some("this record id was already used for other content; the record was not stored".into()),
                }
            } else if status == "accepted" {
                UploadResult { client_id: record.client_id, outcome: UploadOutcome::Duplicate, code: None, message_vi: None, message_en: None }
            } else {
                UploadResult { client_id: record.client_id, outcome: UploadOutcome::Rejected, code, message_vi: vi, message_en: en }
            });
            continue;
        }
        let mut verdict = judge(c, who, batch, record, now).await?;
        if who.device_revoked {
            verdict = Verdict {
                status: "quarantined",
                code: Some("device_revoked".into()),
                message_vi: Some("Thiết bị đã bị thu hồi: bản ghi được giữ lại để giám sát xem xét".into()),
                message_en: Some("the device was revoked: the record is kept for a supervisor to review".into()),
                ..verdict
            };
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO sync_records (client_id, batch_id, device_id, officer_id, device_seq, kind, recorded_at,
                 received_at, body, body_hash, status, code, message_vi, message_en, worker_id, loan_id, campaign_id,
                 target_client_id, amount, receipt_no)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
             RETURNING id",
        )
        .bind(record.client_id)
        .bind(batch.batch_id)
        .bind(&who.device_id)
        .bind(who.officer_id)
        .bind(record.device_seq)
        .bind(record.body.kind().as_str())
        .bind(record.recorded_at)
        .bind(now)
        .bind(serde_json::to_string(record).unwrap_or_default())
        .bind(&hash)
        .bind(verdict.status)
        .bind(&verdict.code)
        .bind(&verdict.message_vi)
        .bind(&verdict.message_en)
        .bind(verdict.worker_id)
        .bind(verdict.loan_id)
        .bind(verdict.campaign_id)
        .bind(verdict.target)
        .bind(verdict.amount)
        .bind(&verdict.receipt_no)
        .fetch_one(&mut *c)
        .await?;
        feed.push((who.officer_id, "record", id));
        if let (Some(k), "accepted") = (verdict.campaign_id, verdict.status) {
            feed.push((who.officer_id, "campaign", k));
        }
        results.push(UploadResult {
            client_id: record.client_id,
            outcome: if verdict.status == "accepted" { UploadOutcome::Accepted } else { UploadOutcome::Rejected },
            code: verdict.code,
            message_vi: verdict.message_vi,
            message_en: verdict.message_en,
        });
    }
    let response = UploadResponse { results };
    sqlx::query("UPDATE sync_batches SET response = $1 WHERE batch_id = $2")
        .bind(serde_json::to_string(&response).map_err(|e| DbError::Invalid(e.to_string()))?)
        .bind(batch.batch_id)
        .execute(&mut *c)
        .await?;
    append_changes(c, &feed).await?;
    Ok(response)
}

/// What is stored of a record already uploaded.
#[derive(sqlx::FromRow)]
struct StoredRecord {
    body_hash: String,
    status: String,
    code: Option<String>,
    message_vi: Option<String>,
    message_en: Option<String>,
}

/// A record's content hash: its canonical JSON, whatever order the phone
/// wrote the fields in.
pub fn record_hash(record: &UploadRecord) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(serde_json::to_vec(record).unwrap_or_default()))
}

#[derive(sqlx::FromRow)]
struct WorkerFactsRow {
    id: i64,
    officer_id: i64,
    union_member: bool,
    hardship: bool,
    boarding_house_id: Option<i64>,
}

async fn worker_by_uid(c: &mut Conn, uid: uuid::Uuid) -> DbResult<Option<WorkerFactsRow>> {
    Ok(sqlx::query_as(
        "SELECT id, officer_id, union_member, hardship, boarding_house_id FROM workers WHERE uid = $1",
    )
    .bind(uid)
    .fetch_optional(&mut *c)
    .await?)
}

/// Live (accepted, not voided) records of a kind matching a condition.
const LIVE: &str = "r.status = 'accepted'
        AND NOT EXISTS (SELECT 1 FROM record_reviews d WHERE d.record_id = r.id AND d.decision <> 'approved')
        AND NOT EXISTS (SELECT 1 FROM sync_records v WHERE v.kind = 'void' AND v.status = 'accepted'
            AND v.target_client_id = r.client_id
            AND NOT EXISTS (SELECT 1 FROM record_reviews dv WHERE dv.record_id = v.id AND dv.decision <> 'approved'))
        AND NOT EXISTS (SELECT 1 FROM journal_entries e JOIN journal_entries x ON x.reverses = e.id WHERE e.record_id = r.id)";

/// Live records not decided yet: collections not in the books.
const PENDING: &str = "NOT EXISTS (SELECT 1 FROM record_reviews p WHERE p.record_id = r.id)";

async fn judge(
    c: &mut Conn,
    who: &Uploader,
    batch: &UploadBatch,
    record: &UploadRecord,
    now: DateTime<Utc>,
) -> DbResult<Verdict> {
    if record.device_id != batch.device_id {
        return Ok(Verdict::rejected(
            "device_mismatch",
            "Bản ghi thuộc thiết bị khác với lô tải lên".into(),
            "the record belongs to another device than its batch".into(),
        ));
    }
    if record.recorded_at > now + chrono::Duration::minutes(FUTURE_TOLERANCE_MINUTES) {
        return Ok(Verdict::rejected(
            "recorded_in_future",
            "Thời điểm ghi nằm trong tương lai; hãy kiểm tra đồng hồ của điện thoại".into(),
            "the record's time is in the future; check the phone's clock".into(),
        ));
    }
    let not_mine = || Verdict::violation(RuleViolation::WorkerNotInPortfolio);
    match &record.body {
        RecordBody::Visit(v) => {
            let Some(w) = worker_by_uid(c, v.worker_id).await?.filter(|w| w.officer_id == who.officer_id) else {
                return Ok(not_mine());
            };
            Ok(Verdict { worker_id: Some(w.id), ..Verdict::accepted() })
        }
        RecordBody::Repayment(p) => {
            let loan: Option<(i64, i64, i64, uuid::Uuid, String)> = sqlx::query_as(
                "SELECT l.id, w.id, w.officer_id, w.uid, l.status FROM loans l JOIN workers w ON w.id = l.worker_id
                 WHERE l.uid = $1",
            )
            .bind(p.loan_id)
            .fetch_optional(&mut *c)
            .await?;
            let Some((loan_id, worker_id, officer_id, worker_uid, status)) = loan else {
                return Ok(Verdict::violation(RuleViolation::LoanNotInPortfolio));
            };
            if officer_id != who.officer_id || worker_uid != p.worker_id {
                return Ok(Verdict::violation(RuleViolation::LoanNotInPortfolio));
            }
            let expected_prefix = format!("{}-", who.device_code);
            if !p.receipt_no.starts_with(&expected_prefix) {
                return Ok(Verdict::rejected(
                    "receipt_invalid",
                    format!("Số phiếu thu {} không thuộc thiết bị này ({})", p.receipt_no, who.device_code),
                    format!("receipt number {} does not belong to this device ({})", p.receipt_no, who.device_code),
                ));
            }
            let taken: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM sync_records WHERE receipt_no = $1 AND status = 'accepted'",
            )
            .bind(&p.receipt_no)
            .fetch_one(&mut *c)
            .await?;
            if taken > 0 {
                return Ok(Verdict::rejected(
                    "receipt_duplicate",
                    format!("Số phiếu thu {} đã được dùng", p.receipt_no),
                    format!("receipt number {} was already used", p.receipt_no),
                ));
            }
            let book: Vec<InstallmentView> = sqlx::query_as(
                "SELECT number, due_on, principal_due, interest_due, principal_paid, interest_paid
                 FROM installments WHERE loan_id = $1 ORDER BY number",
            )
            .bind(loan_id)
            .fetch_all(&mut *c)
            .await?;
            let states: Vec<InstallmentState> = book
                .iter()
                .map(|i| InstallmentState {
                    number: i.number as u32,
                    due_on: i.due_on,
                    principal_due: i.principal_due,
                    interest_due: i.interest_due,
                    principal_paid: i.principal_paid,
                    interest_paid: i.interest_paid,
                })
                .collect();
            // Collections already accepted from any phone, not yet in the books.
            let pending: Vec<i64> = sqlx::query_scalar(&format!(
                "SELECT r.amount FROM sync_records r WHERE r.kind = 'repayment' AND r.loan_id = $1 AND {LIVE} AND {PENDING}
                 ORDER BY r.id"
            ))
            .bind(loan_id)
            .fetch_all(&mut *c)
            .await?;
            let status = if status == "closed" { LoanStatus::Closed } else { LoanStatus::Active };
            let amount = p.amount.get();
            let checked = rules::states_after(&states, &pending)
                .and_then(|after| rules::check_repayment(status, &after, amount));
            match checked {
                Ok(_) => Ok(Verdict {
                    worker_id: Some(worker_id),
                    loan_id: Some(loan_id),
                    amount: Some(amount),
                    receipt_no: Some(p.receipt_no.clone()),
                    ..Verdict::accepted()
                }),
                Err(v) => Ok(Verdict { loan_id: Some(loan_id), worker_id: Some(worker_id), ..Verdict::violation(v) }),
            }
        }
        RecordBody::GiftHandout(g) => {
            let Some(w) = worker_by_uid(c, g.worker_id).await?.filter(|w| w.officer_id == who.officer_id) else {
                return Ok(not_mine());
            };
            let campaign: Option<(i64, String, NaiveDate, NaiveDate)> =
                sqlx::query_as("SELECT id, eligibility, starts_on, ends_on FROM campaigns WHERE uid = $1")
                    .bind(g.campaign_id)
                    .fetch_optional(&mut *c)
                    .await?;
            let Some((campaign_id, eligibility, starts_on, ends_on)) = campaign else {
                return Ok(Verdict::rejected(
                    "campaign_unknown",
                    "Không có chương trình quà này".into(),
                    "there is no such campaign".into(),
                ));
            };
            let received: i64 = sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM sync_records r WHERE r.kind = 'gift_handout' AND r.campaign_id = $1
                     AND r.worker_id = $2 AND {LIVE}"
            ))
            .bind(campaign_id)
            .bind(w.id)
            .fetch_one(&mut *c)
            .await?;
            let quota: i64 = sqlx::query_scalar(
                "SELECT COALESCE(MAX(quota), 0) FROM campaign_officer_quotas WHERE campaign_id = $1 AND officer_id = $2",
            )
            .bind(campaign_id)
            .bind(who.officer_id)
            .fetch_one(&mut *c)
            .await?;
            let given: i64 = sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM sync_records r WHERE r.kind = 'gift_handout' AND r.campaign_id = $1
                     AND r.officer_id = $2 AND {LIVE}"
            ))
            .bind(campaign_id)
            .bind(who.officer_id)
            .fetch_one(&mut *c)
            .await?;
            let facts = CampaignFacts {
                eligibility: Eligibility::parse(&eligibility).unwrap_or(Eligibility::All),
                starts_on,
                ends_on,
                remaining: quota - given,
            };
            let worker = WorkerFacts {
                union_member: w.union_member,
                hardship: w.hardship,
                lives_in_boarding_house: w.boarding_house_id.is_some(),
            };
            let on = sotay_core::domain::time::local_date(record.recorded_at);
            match rules::check_gift(&facts, &worker, received > 0, on) {
                Ok(()) => Ok(Verdict { worker_id: Some(w.id), campaign_id: Some(campaign_id), ..Verdict::accepted() }),
                Err(v) => Ok(Verdict { worker_id: Some(w.id), campaign_id: Some(campaign_id), ..Verdict::violation(v) }),
            }
        }
        RecordBody::Void(v) => judge_target(c, who, v.target_id, true).await,
        RecordBody::ReversalRequest(r) => judge_target(c, who, r.target_id, false).await,
    }
}

/// A void needs a live record of this officer; a reversal request an
/// accepted one.
async fn judge_target(c: &mut Conn, who: &Uploader, target: uuid::Uuid, void: bool) -> DbResult<Verdict> {
    let found: Option<(i64, String)> =
        sqlx::query_as("SELECT officer_id, status FROM sync_records WHERE client_id = $1")
            .bind(target)
            .fetch_optional(&mut *c)
            .await?;
    let ok = matches!(&found, Some((officer, status)) if *officer == who.officer_id && status == "accepted");
    let voided: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sync_records WHERE kind = 'void' AND status = 'accepted' AND target_client_id = $1",
    )
    .bind(target)
    .fetch_one(&mut *c)
    .await?;
    if !ok || voided > 0 {
        let (code, vi, en) = if void {
            ("void_target_invalid", "Không thể hủy: bản ghi gốc không có, không phải của bạn, đã bị từ chối hoặc đã hủy", "cannot void: the record is unknown, not yours, rejected or already voided")
        } else {
            ("reversal_target_invalid", "Không thể đề nghị đảo: bản ghi gốc không có, không phải của bạn, đã bị từ chối hoặc đã hủy", "cannot request a reversal: the record is unknown, not yours, rejected or voided")
        };
        return Ok(Verdict::rejected(code, vi.into(), en.into()));
    }
    Ok(Verdict { target: Some(target), ..Verdict::accepted() })
}
