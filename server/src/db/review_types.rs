//! Rows and views of the supervisor's review, the ledger and the audit log.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use std::collections::HashMap;

use super::models::as_string;

/// Who decides: a supervisor (their branch) or an admin (the fund).
#[derive(Debug, Clone)]
pub struct Reviewer {
    pub user_id: i64,
    pub username: String,
    pub is_admin: bool,
    pub branch_id: Option<i64>,
    pub device_id: Option<String>,
    pub ip: Option<String>,
}

impl Reviewer {
    /// May this reviewer act on `branch_id`?
    pub fn covers(&self, branch_id: Option<i64>) -> bool {
        self.is_admin || (branch_id.is_some() && branch_id == self.branch_id)
    }

    pub fn audit(
        &self,
        action: &'static str,
        object_type: &'static str,
        object_id: String,
        detail: serde_json::Value,
    ) -> super::AuditEntry {
        super::AuditEntry {
            actor_user_id: Some(self.user_id),
            actor_username: self.username.clone(),
            action,
            object_type,
            object_id,
            device_id: self.device_id.clone(),
            ip: self.ip.clone(),
            detail,
        }
    }
}

/// The review state of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    Pending,
    Approved,
    Rejected,
    /// Every record was refused at upload, or held in quarantine (a revoked
    /// phone's batch): nothing to decide (its cash and
    /// packages are on the queue's list of refused records).
    Refused,
}

impl BatchStatus {
    pub fn parse(s: &str) -> Option<BatchStatus> {
        match s {
            "pending" => Some(BatchStatus::Pending),
            "approved" => Some(BatchStatus::Approved),
            "rejected" => Some(BatchStatus::Rejected),
            "refused" => Some(BatchStatus::Refused),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BatchHeadRow {
    pub batch_id: Uuid,
    pub officer_id: i64,
    pub officer_name: String,
    pub branch_id: Option<i64>,
    pub branch_name: Option<String>,
    pub device_id: String,
    pub device_name: String,
    pub device_code: String,
    pub received_at: DateTime<Utc>,
    pub decision: Option<String>,
    pub reviewer_name: Option<String>,
    pub reason: Option<String>,
    pub cash_expected: Option<i64>,
    pub cash_received: Option<i64>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Has records to decide (accepted, or held in quarantine).
    pub reviewable: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReviewRecordRow {
    pub id: i64,
    pub client_id: Uuid,
    pub batch_id: Uuid,
    pub officer_id: i64,
    pub kind: String,
    pub recorded_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub status: String,
    pub body: String,
    pub worker_id: Option<i64>,
    pub worker_name: Option<String>,
    pub loan_id: Option<i64>,
    pub loan_code: Option<String>,
    pub campaign_id: Option<i64>,
    pub campaign_name: Option<String>,
    /// `gift` or `welfare`, and the value of one.
    pub campaign_kind: Option<String>,
    pub gift_value: Option<i64>,
    pub target_client_id: Option<Uuid>,
    pub amount: Option<i64>,
    pub receipt_no: Option<String>,
    pub decision: Option<String>,
    pub decision_reason: Option<String>,
    pub entry_id: Option<i64>,
    pub reversed_by: Option<i64>,
    pub voided: bool,
    /// A void's or reversal request's target: its kind, receipt and amount.
    pub target_kind: Option<String>,
    pub target_receipt: Option<String>,
    pub target_amount: Option<i64>,
    /// The target's campaign kind, for a gift (`gift` or `welfare`).
    #[sqlx(default)]
    pub target_campaign_kind: Option<String>,
    /// The target is an officer's repayment posted at the batch's branch
    /// and not reversed, or one in the same batch (posted with it): a
    /// reversal request of it is netted against the batch's cash (see
    /// [`ReviewRecordRow::takes_back`]).
    #[sqlx(default)]
    pub target_posted_here: bool,
    /// Gifts of this campaign the officer had handed out up to this one.
    pub gift_rank: Option<i64>,
    pub gift_quota: Option<i64>,
    /// The SHA-256 of the gift's signature image, when the record names one.
    pub signature_sha256: Option<String>,
    /// The server holds that image.
    pub signature_received: bool,
    /// Refused (rejected or left out at review) and settled since: what
    /// was done, by whom, when, and the entry that took a package off the
    /// stock, if one did.
    pub settled_note: Option<String>,
    pub settled_by: Option<String>,
    pub settled_at: Option<DateTime<Utc>>,
    pub settled_entry: Option<i64>,
    /// Voided by a void waiting for review in another batch: that batch.
    #[sqlx(skip)]
    pub void_waiting_in: Option<Uuid>,
}

impl ReviewRecordRow {
    /// The cash of a repayment refused at review (the batch rejected, or
    /// the record left out; not voided) that the officer still holds: not
    /// settled yet.
    pub fn cash_held(&self) -> i64 {
        let refused = matches!(self.decision.as_deref(), Some("rejected" | "excluded"));
        // (One held from a revoked phone is on the refused list, counted
        // there.)
        if self.kind == "repayment"
            && self.status == "accepted"
            && refused
            && !self.voided
            && self.settled_note.is_none()
        {
            self.amount.unwrap_or(0).max(0)
        } else {
            0
        }
    }

    /// What this record takes back of the cash its batch hands over: an
    /// officer's reversal request of her own repayment, posted at the
    /// batch's branch — the same ones `approve_batch` nets; once approved,
    /// those it netted. Nothing for a batch rejected or a request left out.
    pub fn takes_back(&self) -> Option<i64> {
        let live = self.kind == "reversal_request" && self.status == "accepted" && !self.voided;
        let netted = match self.decision.as_deref() {
            None => self.target_posted_here && self.target_kind.as_deref() == Some("repayment"),
            Some("approved") => self.decision_reason.as_deref() == Some(APPROVED_NETTED),
            Some(_) => false,
        };
        (live && netted).then_some(self.target_amount.unwrap_or(0))
    }
}

/// Something a supervisor should look at before approving.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Anomaly {
    /// `above_installment`, `small_amount`, `late_sync`, `odd_hours`, `far_from_house`,
    /// `several_repayments_one_day`, `several_visits_one_day`,
    /// `allocation_nearly_used`,
    /// `device_revoked`, `refused_receipt_same_amount`,
    /// `refused_receipt_taken_at_counter`, `refused_gift_same_worker`,
    /// `reversal_requested`, `original_waiting`, `approved_before_restore`,
    /// `worker_moved`.
    pub code: &'static str,
    pub message_vi: String,
    pub message_en: String,
    /// `refused_receipt_same_amount`: the refused receipt this one may be
    /// entered again (its record id), which the approval may mark settled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused_record: Option<Uuid>,
    /// And its receipt number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused_receipt: Option<String>,
    /// `refused_receipt_taken_at_counter`: the counter receipt that took
    /// the refused one's cash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counter_receipt: Option<String>,
}

/// Counts of a batch's records by kind.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct KindCounts {
    pub visits: i64,
    pub repayments: i64,
    pub gift_handouts: i64,
    pub voids: i64,
    pub reversal_requests: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DecisionView {
    pub decision: String,
    pub reviewer: Option<String>,
    pub reason: Option<String>,
    #[schema(value_type = Option<String>)]
    pub cash_expected: Option<String>,
    #[schema(value_type = Option<String>)]
    pub cash_received: Option<String>,
    /// Cash received minus expected: negative is a shortage.
    #[schema(value_type = Option<String>)]
    pub discrepancy: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// A batch in the review queue.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchSummary {
    pub batch_id: Uuid,
    pub status: BatchStatus,
    pub officer_id: i64,
    pub officer_name: String,
    pub branch_id: Option<i64>,
    pub branch_name: Option<String>,
    pub device_id: String,
    pub device_name: String,
    pub device_code: String,
    pub first_recorded_at: Option<DateTime<Utc>>,
    pub last_recorded_at: Option<DateTime<Utc>>,
    pub synced_at: DateTime<Utc>,
    /// Records waiting for (or given) a decision; rejected-at-upload ones
    /// are not part of the review.
    pub records: i64,
    pub counts: KindCounts,
    /// Cash the officer should hand over: live repayments of the batch
    /// (those left out at approval aside), less the repayments its live
    /// reversal requests take back (netted: the officer keeps that much
    /// back); negative when those take back more than the batch collects
    /// (the branch owes her the difference). For a rejected batch, what its
    /// repayments collected (not voided) less those, which stays with the
    /// officer.
    #[schema(value_type = String)]
    #[serde(serialize_with = "as_string")]
    pub cash_collected: i64,
    /// What the batch's reversal requests take back of receipts handed over
    /// before (netted: already less in `cash_collected`).
    #[schema(value_type = String)]
    #[serde(serialize_with = "as_string")]
    pub cash_taken_back: i64,
    /// Cash of its repayments refused at review (rejected with the batch,
    /// or left out) that the officer still holds: not settled yet.
    #[schema(value_type = String)]
    #[serde(serialize_with = "as_string")]
    pub cash_held: i64,
    pub anomalies: i64,
    /// The kinds of anomaly flagged (`above_installment`, ...), each once.
    pub anomaly_codes: Vec<String>,
    pub decision: Option<DecisionView>,
}

/// One record of a batch, as the supervisor reviews it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewRecord {
    pub record_id: Uuid,
    pub kind: String,
    pub recorded_at: DateTime<Utc>,
    /// `accepted` (waiting) or `quarantined` (from a revoked device).
    pub upload_status: String,
    pub worker_id: Option<i64>,
    pub worker_name: Option<String>,
    pub loan_id: Option<i64>,
    pub loan_code: Option<String>,
    pub campaign_name: Option<String>,
    /// For a gift or a welfare grant: `gift` or `welfare`, and the value
    /// of one (a welfare grant's cash leaves the vault when approved).
    pub campaign_kind: Option<String>,
    #[schema(value_type = Option<String>)]
    pub gift_value: Option<String>,
    #[schema(value_type = Option<String>)]
    pub amount: Option<String>,
    pub receipt_no: Option<String>,
    pub target_record_id: Option<Uuid>,
    /// What a void cancels or a reversal request would reverse.
    pub target: Option<TargetRecord>,
    /// A reversal request netted against the batch's cash: what it takes
    /// back of what the officer hands over (whole đồng).
    #[schema(value_type = Option<String>)]
    pub cash_taken_back: Option<String>,
    /// Cancelled by the officer's void: will not post.
    pub voided: bool,
    /// The batch of that void when it waits for review there: it is
    /// decided first (approving this batch is refused until then,
    /// `void_waiting_in_other_batch`).
    pub void_waiting_in: Option<Uuid>,
    pub anomalies: Vec<Anomaly>,
    /// approved, excluded or rejected, once decided.
    pub decision: Option<String>,
    pub decision_reason: Option<String>,
    /// The journal entry that posted it, and the one that reversed it.
    pub entry_id: Option<i64>,
    pub reversed_by_entry: Option<i64>,
    /// What the phone recorded.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// A gift's signature image: `received` once the phone has sent it
    /// (`GET /api/v1/records/{record_id}/signature`), `waiting` before;
    /// absent when the record has none.
    pub signature: Option<&'static str>,
    /// Refused at review and settled since (its cash given back or taken
    /// at the counter, its package taken back or handed out for real).
    pub settled: Option<RefusedSettlement>,
}

/// The record a void or a reversal request points at.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetRecord {
    /// `repayment`, `visit`, `gift_handout`…
    pub kind: String,
    /// For a gift: its campaign's kind, `gift` or `welfare`.
    pub campaign_kind: Option<String>,
    pub receipt_no: Option<String>,
    #[schema(value_type = Option<String>)]
    pub amount: Option<String>,
}

/// A signature image stored for a gift record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SignatureReceipt {
    pub record_id: Uuid,
    pub sha256: String,
    pub bytes: i64,
    pub media_type: String,
    /// The server already held this image.
    pub duplicate: bool,
}

/// A record's signature, with whose record it is (for the caller to check
/// who may see it).
#[derive(Debug, Clone)]
pub struct RecordSignature {
    pub officer_id: i64,
    pub branch_id: Option<i64>,
    /// The image's SHA-256 the record names; `None`: the record has none.
    pub sha256: Option<String>,
    /// The image and its media type, once received.
    pub image: Option<(Vec<u8>, String)>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchDetail {
    #[serde(flatten)]
    pub summary: BatchSummary,
    pub records: Vec<ReviewRecord>,
    /// Records of the batch the server refused at upload: never reviewed,
    /// never posted. The phone showed the officer why.
    pub refused_at_upload: Vec<RefusedRecord>,
    /// What the refused repayments took in cash: the officer still holds it,
    /// outside what the batch expects to be handed over.
    #[schema(value_type = String)]
    #[serde(serialize_with = "as_string")]
    pub refused_cash: i64,
}

/// The reason stored for a record an approval leaves out because its phone
/// was revoked (both languages: the reason column holds one text).
pub const EXCLUDED_QUARANTINED: &str =
    "Thiết bị đã bị thu hồi: bản ghi không được ghi sổ / the device was revoked: the record is not posted";
/// The reason stored with the approval of an officer's reversal request
/// netted against the cash of its batch (the officer kept the amount back;
/// the vault paid nothing out).
pub const APPROVED_NETTED: &str =
    "Trừ vào tiền mặt cán bộ nộp cùng lô / netted against the cash handed over with the batch";
/// The reason stored with the approval of an officer's reversal request of
/// a record refused and never posted: nothing was reversed, the record was
/// settled as she asked.
pub const APPROVED_ORIGINAL_REFUSED: &str =
    "Bản ghi gốc không được ghi sổ: đánh dấu đã xử lý theo đề nghị / the original was never posted: marked settled as asked";
/// How the settlement of a refused record the officer asked to reverse
/// begins its note (her reason follows).
pub const REVERSAL_ASKED: &str = "Cán bộ đề nghị đảo:";
/// The reason stored for a record the officer voided (before sending it,
/// or after, before its batch was decided).
pub const EXCLUDED_VOIDED: &str = "Đã được cán bộ hủy / voided by the officer";

/// A stored exclusion reason the server wrote itself, in Vietnamese and
/// English apart; `None` for a supervisor's own words.
pub fn system_exclusion(reason: &str) -> Option<(String, String)> {
    match reason {
        EXCLUDED_QUARANTINED => Some((
            "Thiết bị đã bị thu hồi: bản ghi không được ghi sổ".into(),
            "the device was revoked: the record is not posted".into(),
        )),
        EXCLUDED_VOIDED => Some((
            "Cán bộ đã hủy bản ghi này: không ghi sổ".into(),
            "the officer voided this record: not posted".into(),
        )),
        _ => None,
    }
}

/// A repayment an officer collected on a loan that no supervisor has
/// decided on yet.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingCollection {
    pub amount: i64,
    pub receipt_no: Option<String>,
    pub officer_name: String,
    pub recorded_at: DateTime<Utc>,
}

/// An officer's receipt on a loan that stands: waiting for review, or
/// approved (`approved` 1).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OfficerReceipt {
    pub receipt_no: Option<String>,
    pub officer_name: String,
    pub recorded_at: DateTime<Utc>,
    pub approved: i64,
}

/// A record the server refused at upload, with why.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RefusedRecord {
    pub record_id: Uuid,
    pub kind: String,
    pub recorded_at: DateTime<Utc>,
    /// Whom and what it was for, when they are in the reader's branch.
    pub worker_id: Option<i64>,
    pub worker_name: Option<String>,
    pub loan_id: Option<i64>,
    pub loan_code: Option<String>,
    pub campaign_name: Option<String>,
    /// A gift's campaign kind: `gift` (a package from the stock) or
    /// `welfare` (a grant in cash from the vault).
    pub campaign_kind: Option<String>,
    /// A repayment's amount (whole đồng, as a string) and receipt number,
    /// as the phone recorded them.
    pub amount: Option<String>,
    pub receipt_no: Option<String>,
    pub code: String,
    pub message_vi: String,
    pub message_en: String,
    /// Settled outside the books (a repayment's cash, a gift's package).
    pub settled: Option<RefusedSettlement>,
    /// A repayment not settled whose cash a counter receipt on its loan,
    /// standing, took already: that receipt's number (its note names this
    /// one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taken_at_counter: Option<String>,
}

/// A gift refused (at upload, in quarantine or at review) whose package
/// is not settled, or was settled as handed out for real.
#[derive(Debug, Clone, Copy)]
pub struct RefusedGift {
    pub client_id: Uuid,
    /// Settled as handed out for real.
    pub handed_out: bool,
    /// Refused at upload as a second gift (`already_received`): when it
    /// was received.
    pub second_at: Option<DateTime<Utc>>,
}

/// The workers, loans and campaigns refused records name, by their uid:
/// (id, name) of those in the branch asked about.
#[derive(Debug, Clone, Default)]
pub struct RefusedNames {
    pub workers: HashMap<Uuid, (i64, String)>,
    pub loans: HashMap<Uuid, (i64, String)>,
    /// (name, kind: `gift` or `welfare`).
    pub campaigns: HashMap<Uuid, (String, String)>,
    /// loan id → counter receipts on it that stand: receipt number, note.
    pub counter_notes: HashMap<i64, Vec<(String, String)>>,
}

/// A repayment or gift refused (at upload or at review) in a branch, with
/// its officer and its batch (every batch has a page).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefusedHandoverRow {
    pub batch_id: Uuid,
    pub officer_name: String,
    pub received_at: DateTime<Utc>,
    #[sqlx(flatten)]
    pub record: RefusedRow,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefusedRow {
    pub client_id: Uuid,
    pub kind: String,
    pub recorded_at: DateTime<Utc>,
    pub body: String,
    pub code: Option<String>,
    pub message_vi: Option<String>,
    pub message_en: Option<String>,
    /// Marked settled by a supervisor: what was done, by whom, when.
    pub settled_note: Option<String>,
    pub settled_by: Option<String>,
    pub settled_at: Option<DateTime<Utc>>,
    /// The entry that took a gift package off the stock, if one did.
    pub settled_entry: Option<i64>,
}

impl RefusedRow {
    /// The cash a refused repayment took (none for a gift, nor for an
    /// amount that is no cash at all: zero or below, refused as such).
    pub fn cash(&self) -> Option<i64> {
        match serde_json::from_str::<sotay_core::wire::UploadRecord>(&self.body)
            .ok()?
            .body
        {
            sotay_core::wire::RecordBody::Repayment(p) => Some(p.amount.get()).filter(|a| *a > 0),
            _ => None,
        }
    }
}

/// How the cash or package of a refused record was settled.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RefusedSettlement {
    pub record_id: Uuid,
    /// What was done: given back, taken at the counter, package taken back.
    pub note: String,
    /// Who marked it (full name).
    pub settled_by: String,
    pub settled_at: DateTime<Utc>,
    /// The entry that took a package handed out after all off the stock.
    pub entry_id: Option<i64>,
}

/// What the reviewer answered about the batch's payments that repeat an
/// officer's refused receipt.
#[derive(Debug, Default, Clone)]
pub struct EnteredAgainAnswers {
    /// (receipt of the batch, refused receipt it enters again): the
    /// refused one is settled with the approval.
    pub pairs: Vec<(Uuid, Uuid)>,
    /// Receipts kept although a refused receipt of the same loan and amount
    /// had its cash taken at the counter: the borrower really paid once
    /// more. Any such receipt not named here is refused.
    pub paid_again: Vec<Uuid>,
}

/// What an approval did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApprovalOutcome {
    pub batch_id: Uuid,
    /// Records approved (the officer's voids among them).
    pub approved: i64,
    /// Records the supervisor left out (or kept in quarantine).
    pub excluded: i64,
    /// Records the officer voided on the phone (not posted, nothing left out).
    pub voided: i64,
    pub entries_posted: i64,
    #[schema(value_type = String)]
    #[serde(serialize_with = "as_string")]
    pub cash_expected: i64,
    #[schema(value_type = String)]
    #[serde(serialize_with = "as_string")]
    pub cash_received: i64,
    /// Received minus expected: negative is a shortage on the officer.
    #[schema(value_type = String)]
    #[serde(serialize_with = "as_string")]
    pub discrepancy: i64,
    /// Loans paid off by this approval.
    pub loans_closed: Vec<String>,
    /// Records settled with the approval as the supervisor confirmed, by
    /// receipt number: refused receipts this batch enters again, and the
    /// batch's receipts left out as the same cash as a refused one.
    pub entered_again_settled: Vec<String>,
}

/// A repayment to take at the branch: cash at the counter, or a transfer
/// the worker made to the branch's bank account.
#[derive(Debug, Clone)]
pub struct CounterPayment {
    /// Chosen by the client once per repayment: a retry with the same id
    /// returns the same receipt.
    pub client_id: Uuid,
    /// Whole đồng, above zero.
    pub amount: i64,
    pub note: String,
    pub method: PayMethod,
    /// The bank's reference of the transfer: for a transfer only.
    pub transfer_ref: Option<String>,
    /// The amount pays the loan off (closes it): said so by whoever takes
    /// it. The console asks (a tick); the API's caller means what it sends.
    pub confirm_payoff: bool,
    /// The same amount was taken on the loan earlier today, and whoever
    /// takes this one knows it is another payment (not the same typed
    /// twice). The console asks (a tick), the API's caller says so
    /// (`confirm_repeat`).
    pub confirm_repeat: bool,
    /// A repayment an officer took on this loan that was refused (at
    /// upload or at review) and whose cash this is: marked settled with
    /// the counter's receipt, in the same transaction.
    pub settles: Option<Uuid>,
}

/// A repayment taken at the counter, with its receipt.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CounterReceipt {
    pub id: i64,
    pub loan_id: i64,
    pub loan_code: String,
    pub receipt_no: String,
    #[schema(value_type = String)]
    pub amount: sotay_core::domain::money::Dong,
    #[schema(value_type = String)]
    pub interest: sotay_core::domain::money::Dong,
    #[schema(value_type = String)]
    pub principal: sotay_core::domain::money::Dong,
    /// Outstanding (principal + interest) after this repayment.
    #[schema(value_type = String)]
    pub balance_after: sotay_core::domain::money::Dong,
    pub entry_id: i64,
    pub recorded_at: DateTime<Utc>,
    /// `cash` into the vault, or `transfer` into the branch's bank account.
    pub method: PayMethod,
    /// The bank's reference of a transfer.
    pub transfer_ref: Option<String>,
}

/// A repayment taken at the counter, as a list shows it: the loan and its
/// borrower, who took it, and whether its entry was reversed since.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CounterLine {
    pub id: i64,
    pub loan_id: i64,
    pub loan_code: String,
    pub worker_name: String,
    pub amount: i64,
    pub receipt_no: String,
    pub note: String,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
    pub reversed: bool,
    /// `cash` or `transfer`.
    pub method: String,
    pub transfer_ref: Option<String>,
}

/// A counter repayment as its printed receipt (phiếu thu) shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CounterSlip {
    pub id: i64,
    pub receipt_no: String,
    pub amount: i64,
    pub note: String,
    pub recorded_at: DateTime<Utc>,
    pub loan_id: i64,
    pub loan_code: String,
    pub worker_name: String,
    pub worker_code: String,
    pub branch_name: String,
    pub branch_address: String,
    pub recorded_by: String,
    /// What it paid of the loan's principal and interest (its entry's lines).
    pub principal: i64,
    pub interest: i64,
    pub reversed: bool,
    /// `cash` or `transfer`.
    pub method: String,
    pub transfer_ref: Option<String>,
    /// The loan's principal outstanding on the books just after it.
    pub principal_left: i64,
    /// The cash of an officer's refused receipt, which the officer handed
    /// in (a settlement names this receipt, or its note names that one):
    /// the officer's name and the refused receipt's number.
    #[sqlx(skip)]
    pub handed_in_by: Option<(String, String)>,
}

/// Gift packages (or a welfare programme's grant cash) a branch received
/// for a campaign, as posted to the ledger.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct CampaignReceipt {
    pub id: i64,
    pub client_id: Uuid,
    pub campaign_id: i64,
    pub campaign_name: String,
    pub branch_id: i64,
    pub branch_name: String,
    /// Gift packages (suất quà), or grants for a welfare programme.
    pub packages: i64,
    #[schema(value_type = String)]
    #[serde(with = "dong_string")]
    pub unit_value: i64,
    /// `packages` × `unit_value`, whole đồng.
    #[schema(value_type = String)]
    #[serde(with = "dong_string")]
    pub amount: i64,
    pub received_on: chrono::NaiveDate,
    /// Where the packages or the cash came from (the federation, a donor).
    pub source: String,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
    #[sqlx(default)]
    pub entry_id: Option<i64>,
    /// Its entry was reversed (entered by mistake): it no longer counts.
    #[sqlx(default)]
    #[serde(default)]
    pub reversed: bool,
}

/// How money moves at a branch: cash through its vault, or a bank transfer
/// through its bank account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PayMethod {
    #[default]
    Cash,
    Transfer,
}

impl PayMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PayMethod::Cash => "cash",
            PayMethod::Transfer => "transfer",
        }
    }

    pub fn parse(s: &str) -> Option<PayMethod> {
        [PayMethod::Cash, PayMethod::Transfer]
            .into_iter()
            .find(|m| m.as_str() == s)
    }

    /// The branch's account the money goes through.
    pub fn account(self) -> crate::ledger::Account {
        match self {
            PayMethod::Cash => crate::ledger::Account::Vault,
            PayMethod::Transfer => crate::ledger::Account::Bank,
        }
    }
}

/// What moved money in or out of a branch's bank account, besides
/// repayments and loans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BankDirection {
    /// Cash from the vault paid into the bank account.
    Deposit,
    /// Cash drawn from the bank account into the vault.
    Withdrawal,
    /// A fee the bank took from the account (posted from its statement).
    Charge,
    /// Interest the bank paid into the account (posted from its statement).
    Interest,
}

impl BankDirection {
    pub const ALL: [BankDirection; 4] = [
        BankDirection::Deposit,
        BankDirection::Withdrawal,
        BankDirection::Charge,
        BankDirection::Interest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BankDirection::Deposit => "deposit",
            BankDirection::Withdrawal => "withdrawal",
            BankDirection::Charge => "charge",
            BankDirection::Interest => "interest",
        }
    }

    pub fn parse(s: &str) -> Option<BankDirection> {
        BankDirection::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// Money comes into the bank account.
    pub fn money_in(self) -> bool {
        matches!(self, BankDirection::Deposit | BankDirection::Interest)
    }

    /// Cash moves between the vault and the bank (a deposit or a
    /// withdrawal), not between the bank and the books' income or expense.
    pub fn is_cash(self) -> bool {
        matches!(self, BankDirection::Deposit | BankDirection::Withdrawal)
    }

    /// The account debited and the one credited.
    pub fn accounts(self) -> (crate::ledger::Account, crate::ledger::Account) {
        use crate::ledger::Account;
        match self {
            BankDirection::Deposit => (Account::Bank, Account::Vault),
            BankDirection::Withdrawal => (Account::Vault, Account::Bank),
            BankDirection::Charge => (Account::BankCharges, Account::Bank),
            BankDirection::Interest => (Account::Bank, Account::BankInterest),
        }
    }

    /// What it is, for people (Vietnamese, English).
    pub fn name(self) -> (&'static str, &'static str) {
        match self {
            BankDirection::Deposit => ("Nộp tiền mặt vào ngân hàng", "Cash paid into the bank"),
            BankDirection::Withdrawal => ("Rút tiền mặt về quỹ", "Cash drawn into the vault"),
            BankDirection::Charge => ("Phí ngân hàng", "Bank charge"),
            BankDirection::Interest => ("Lãi tiền gửi", "Interest on the account"),
        }
    }
}

/// A statement line a bank move is posted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FromLine {
    pub statement_id: i64,
    pub line_no: i64,
    /// The day the bank booked it.
    pub booked_on: NaiveDate,
}

/// A bank move to post.
#[derive(Debug, Clone, Copy)]
pub struct NewBankMove<'a> {
    pub branch_id: i64,
    /// Chosen by the client once per move: a retry returns the same move.
    pub client_id: Uuid,
    pub direction: BankDirection,
    pub amount: i64,
    /// The bank slip's or the statement line's reference ('' when the
    /// line has none).
    pub reference: &'a str,
    pub from_line: Option<FromLine>,
}

/// A bank statement kept, as lists show it.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct StatementSummary {
    pub id: i64,
    pub branch_id: i64,
    pub branch_name: String,
    pub file_name: String,
    /// The first and last day its lines were booked on.
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub uploaded_by: String,
    pub uploaded_at: DateTime<Utc>,
    pub lines: i64,
    /// Whole đồng.
    #[schema(value_type = String)]
    #[serde(with = "dong_string")]
    pub money_in: i64,
    #[schema(value_type = String)]
    #[serde(with = "dong_string")]
    pub money_out: i64,
}

/// A kept statement with the bank account's book from a few days before its
/// first day until now.
#[derive(Debug, Clone)]
pub struct StatementBook {
    pub head: StatementSummary,
    pub lines: Vec<crate::statement::StatementLine>,
    pub book: Vec<crate::statement::BookItem>,
    /// The book's balance before the first day and after the last.
    pub opening: i64,
    pub closing: i64,
}

/// Cash a branch paid into its bank account or drew from it, or a charge
/// or interest of the bank, as posted.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct BankMove {
    pub id: i64,
    pub client_id: Uuid,
    pub branch_id: i64,
    pub branch_name: String,
    /// `deposit`, `withdrawal`, `charge` or `interest`.
    #[schema(value_type = BankDirection)]
    pub direction: String,
    /// Whole đồng.
    #[schema(value_type = String)]
    #[serde(with = "dong_string")]
    pub amount: i64,
    /// The bank slip's reference, or the statement line's ('' when it has
    /// none).
    pub reference: String,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
    pub entry_id: i64,
    /// The day the bank booked it, when posted from a statement line.
    pub booked_on: Option<NaiveDate>,
    /// The statement and line it was posted from.
    pub statement_id: Option<i64>,
    pub line_no: Option<i64>,
    /// Its entry was reversed (entered by mistake): it no longer counts.
    #[sqlx(default)]
    #[serde(default)]
    pub reversed: bool,
}

/// Lending capital a branch received from the fund, into its vault or its
/// bank account, as posted to the ledger.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct CapitalReceipt {
    pub id: i64,
    pub client_id: Uuid,
    pub branch_id: i64,
    pub branch_name: String,
    /// Whole đồng.
    #[schema(value_type = String)]
    #[serde(with = "dong_string")]
    pub amount: i64,
    pub received_on: chrono::NaiveDate,
    /// Where the money came from (the fund's head office, a transfer slip).
    pub source: String,
    /// `cash` (into the vault) or `transfer` (into the bank account).
    #[schema(value_type = PayMethod)]
    pub method: String,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
    pub entry_id: i64,
    /// Its entry was reversed (entered by mistake): it no longer counts.
    #[sqlx(default)]
    #[serde(default)]
    pub reversed: bool,
}

/// A new loan asked for at the branch, to be paid out once someone other
/// than the asker approves it: in cash from the vault, or by transfer from
/// the branch's bank account to the worker's.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Disbursement {
    pub id: i64,
    pub client_id: Uuid,
    pub branch_id: i64,
    pub worker_id: i64,
    pub worker_code: String,
    pub worker_name: String,
    pub product_id: i64,
    pub product_code: String,
    pub product_name: String,
    /// Whole đồng.
    #[schema(value_type = String)]
    #[serde(with = "dong_string")]
    pub principal: i64,
    pub note: String,
    /// `cash` (from the vault) or `transfer` (from the bank account).
    #[schema(value_type = PayMethod)]
    pub method: String,
    /// The worker's bank and account number, for a transfer.
    pub bank_account: Option<String>,
    pub requested_by: String,
    /// Who asked (they may not approve it).
    #[serde(skip)]
    #[sqlx(default)]
    pub requested_by_id: i64,
    pub requested_at: DateTime<Utc>,
    /// `approved` or `rejected`; none while it waits.
    pub decision: Option<String>,
    pub reviewer: Option<String>,
    /// Why it was rejected.
    pub reason: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The loan paid out, once approved.
    pub loan_id: Option<i64>,
    pub loan_code: Option<String>,
    /// Its ledger entry (debit the loan's principal, credit the vault or
    /// the bank account).
    pub entry_id: Option<i64>,
    /// The bank's reference of the transfer, written at approval.
    pub transfer_ref: Option<String>,
    /// The reversal entry that took the loan back (paid out in error, the
    /// cash returned before anything was collected).
    pub taken_back_by: Option<i64>,
}

/// Whole đồng as a decimal string both ways (JSON never carries a number).
mod dong_string {
    pub fn serialize<S: serde::Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A reversal entered at the branch, waiting for a second person.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct BranchReversal {
    pub id: i64,
    pub entry_id: i64,
    /// The kind of the entry to reverse (`repayment`, `counter_repayment`,
    /// `gift`, `welfare`).
    pub entry_kind: String,
    /// The entry's memo.
    pub memo: String,
    /// The entry's total (its debits), whole đồng.
    #[schema(value_type = String)]
    #[serde(serialize_with = "as_string")]
    pub amount: i64,
    /// The loan the entry is on, if any.
    pub loan_id: Option<i64>,
    /// That loan's code and its borrower's name.
    pub loan_code: Option<String>,
    pub worker_name: Option<String>,
    pub reason: String,
    pub requested_by: String,
    /// Who asked (they may not approve it).
    #[serde(skip)]
    pub requested_by_id: i64,
    pub requested_at: DateTime<Utc>,
    pub decision: Option<String>,
    pub reviewer: Option<String>,
    /// Why it was refused (a refusal needs a reason).
    pub decision_reason: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reversal_entry_id: Option<i64>,
    /// The entry wrote an officer's short/over off on the fund's decision
    /// (reversing it needs an admin, and moves no cash).
    #[sqlx(default)]
    pub written_off: bool,
}

/// One account's balance (debits minus credits) in a branch.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct AccountBalance {
    pub account: String,
    /// The account's name for people, in Vietnamese and in English.
    #[sqlx(skip)]
    pub name_vi: String,
    #[sqlx(skip)]
    pub name_en: String,
    pub branch_id: i64,
    pub officer_id: Option<i64>,
    pub campaign_id: Option<i64>,
    #[schema(value_type = String)]
    #[serde(serialize_with = "as_string")]
    pub debit: i64,
    #[schema(value_type = String)]
    #[serde(serialize_with = "as_string")]
    pub credit: i64,
}

/// A journal entry with its lines.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EntryView {
    pub id: i64,
    pub kind: String,
    pub branch_id: i64,
    pub loan_id: Option<i64>,
    pub officer_id: Option<i64>,
    pub record_id: Option<Uuid>,
    pub reverses: Option<i64>,
    pub posted_at: DateTime<Utc>,
    pub memo: String,
    pub lines: Vec<LineView>,
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct LineView {
    pub entry_id: i64,
    pub account: String,
    pub officer_id: Option<i64>,
    pub campaign_id: Option<i64>,
    pub loan_id: Option<i64>,
    #[schema(value_type = String)]
    #[serde(serialize_with = "as_string")]
    pub debit: i64,
    #[schema(value_type = String)]
    #[serde(serialize_with = "as_string")]
    pub credit: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EntryRow {
    pub id: i64,
    pub kind: String,
    pub branch_id: i64,
    pub loan_id: Option<i64>,
    pub officer_id: Option<i64>,
    pub record_client_id: Option<Uuid>,
    pub reverses: Option<i64>,
    pub posted_at: DateTime<Utc>,
    pub memo: String,
}

/// An audit log row.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_user_id: Option<i64>,
    pub actor_username: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub device_id: Option<String>,
    pub ip: Option<String>,
    pub detail: String,
}

/// Filters of the audit log.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub device_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub limit: i64,
    pub offset: i64,
}

/// A visit's worker, officer, local day and purpose.
pub type VisitKey = (i64, i64, chrono::NaiveDate, sotay_core::wire::VisitPurpose);

/// What the anomaly checks need besides the records themselves.
#[derive(Debug, Default)]
pub struct AnomalyContext {
    /// worker id → boarding house position.
    pub houses: HashMap<i64, (f64, f64)>,
    /// worker id → the officer the worker is given to now (id, name), for
    /// the batch's workers.
    pub worker_officer: HashMap<i64, (i64, String)>,
    /// worker id → the moves from one officer to another (when, from
    /// whom, to whom by name), oldest first, for the batch's workers no
    /// longer their record's officer's.
    pub moves: HashMap<i64, Vec<(DateTime<Utc>, i64, String)>>,
    /// loan id → the largest single installment.
    pub installment: HashMap<i64, i64>,
    /// (worker id, officer id, local day, purpose) → the officer's visits
    /// to the worker that day for that purpose that stand: a morning's
    /// hardship visit and an afternoon's gift delivery are two visits,
    /// not one recorded twice.
    pub visits_same_day: HashMap<VisitKey, Vec<Uuid>>,
    /// (loan id, local day) → accepted repayments that day.
    pub same_day: HashMap<(i64, chrono::NaiveDate), Vec<SameDayReceipt>>,
    /// (loan uid, amount), as the phone sent them → the batch officers'
    /// repayments refused (at upload, in quarantine or at review).
    pub refused_held: HashMap<(Uuid, i64), Vec<RefusedHeld>>,
    /// loan id → counter receipts on it that stand: receipt number, note.
    pub counter_notes: HashMap<i64, Vec<(String, String)>>,
    /// (campaign uid, worker uid), as the phone sent them → gifts refused
    /// (at upload, in quarantine or at review) whose package is not
    /// settled, or was settled as handed out for real (`true`): their
    /// client ids, and when one refused at upload as a second gift
    /// (`already_received`) was received (the gift it was refused for is
    /// none of its business).
    pub refused_gifts: HashMap<(Uuid, Uuid), Vec<RefusedGift>>,
    /// Records a reversal request waiting for review names: the request's
    /// batch and when it was synced.
    pub reversal_asked: HashMap<Uuid, (Uuid, DateTime<Utc>)>,
    /// Originals of the batch's reversal requests that wait for review in
    /// another batch: their batch and when it was synced.
    pub original_waiting: HashMap<Uuid, (Uuid, DateTime<Utc>)>,
    /// Those of them whose batch in turn waits for a void in the request's
    /// batch (see `originals_waiting_for_voids_of`).
    pub original_blocked: std::collections::HashSet<Uuid>,
    /// Records their phone sent again after a restore of the server's
    /// data, which a supervisor had approved before it.
    pub approved_before: std::collections::HashSet<Uuid>,
}

pub use sotay_core::domain::rules::{
    entered_again_after, entered_again_spans, ENTERED_AGAIN_WITHIN_DAYS,
};

/// A refused repayment of an officer.
#[derive(Debug, Clone)]
pub struct RefusedHeld {
    pub recorded_at: DateTime<Utc>,
    /// When the officer could learn it was refused (its batch decided at
    /// review, or its upload answered).
    pub known_at: DateTime<Utc>,
    pub client_id: Uuid,
    pub receipt_no: String,
    /// The settlement's note, once settled (its cash given back, taken at
    /// the counter: "Thu tại quầy, phiếu …", or entered again).
    pub settled: Option<String>,
}

/// How a settlement taken at the counter begins its note.
pub const SETTLED_AT_COUNTER: &str = "Thu tại quầy, phiếu";

/// How the note of a refused receipt settled by the approval of its
/// payment entered again begins (the re-entry's receipt number follows).
pub const ENTERED_AGAIN: &str = "Đã ghi lại bằng phiếu";

/// How the note of a payment entered again and left out of its batch,
/// settled with the approval as the same cash as its refused original,
/// begins (the original's receipt number follows).
pub const SAME_AS: &str = "Trùng phiếu";

/// A bank reference as compared: a transaction's reference
/// (`FT26342-00123`), a slip's number (`GNT-002`): its letters and digits,
/// in capitals, in their compatibility form (`ＧＮＴ－００２` typed on a
/// full-width keyboard is `GNT002`), so that one reference typed twice is
/// recognised however it was typed.
pub fn reference_key(reference: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    reference
        .nfkc()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

/// What follows `words` at the start of `note`, read as a person typed
/// them: in any case, with any spaces or punctuation between the words
/// (`thu tại quầy phiếu K` begins with "Thu tại quầy, phiếu"). None when
/// the note does not begin so.
pub fn after_words<'a>(note: &'a str, words: &str) -> Option<&'a str> {
    let mut want = words
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .peekable();
    let mut rest = note.chars();
    while want.peek().is_some() {
        let c = rest.next()?;
        if !c.is_alphanumeric() {
            continue;
        }
        for lower in c.to_lowercase() {
            if want.next() != Some(lower) {
                return None;
            }
        }
    }
    Some(rest.as_str())
}

/// What follows the words of a settlement taken at the counter ("Thu tại
/// quầy, phiếu", or the English the refusals suggest, "taken at the
/// counter, receipt"): the counter receipt named first.
pub fn after_settled_at_counter(note: &str) -> Option<&str> {
    after_words(note, SETTLED_AT_COUNTER)
        .or_else(|| after_words(note, "taken at the counter, receipt"))
}

/// A settlement's note says the cash is in the vault already: taken at
/// the counter, or entered again and posted with its batch.
pub fn settled_into_vault(note: &str) -> bool {
    after_settled_at_counter(note).is_some() || after_words(note, ENTERED_AGAIN).is_some()
}

/// Whether a note names receipt `receipt`, however it was typed: any
/// case, with or without the hyphen or spaces (`a7k2 000012` names
/// `A7K2-000012`), beside other numbers (`85AH-000004, 85AH-000005`), and
/// not as a part of a longer one.
pub fn note_names_receipt(note: &str, receipt: &str) -> bool {
    // Letters and digits in capitals; each run of anything else one gap.
    let mut marked: Vec<Option<char>> = Vec::new();
    for c in note.chars() {
        if c.is_alphanumeric() {
            marked.extend(c.to_uppercase().map(Some));
        } else if marked.last().is_some_and(Option::is_some) {
            marked.push(None);
        }
    }
    let wanted: Vec<char> = receipt
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect();
    if wanted.is_empty() {
        return false;
    }
    (0..marked.len()).any(|start| {
        // It starts a word, and runs on over gaps inside it.
        if marked[start].is_none() || (start > 0 && marked[start - 1].is_some()) {
            return false;
        }
        let mut at = start;
        for want in &wanted {
            while at < marked.len() && marked[at].is_none() && at > start {
                at += 1;
            }
            if marked.get(at).copied().flatten() != Some(*want) {
                return false;
            }
            at += 1;
        }
        // And ends one: no digit right after it.
        marked
            .get(at)
            .copied()
            .flatten()
            .is_none_or(|c| !c.is_ascii_digit())
    })
}

#[cfg(test)]
mod note_tests {
    use super::{note_names_receipt, reference_key};

    #[test]
    fn a_settlement_read_as_typed() {
        use super::{after_settled_at_counter, after_words, settled_into_vault};
        for note in [
            "Thu tại quầy, phiếu QUAY-CN-TD-000011 (500.000 ₫)",
            "thu tại quầy phiếu QUAY-CN-TD-000011",
            "  THU TẠI QUẦY - PHIẾU: QUAY-CN-TD-000011",
            "Taken at the counter, receipt QUAY-CN-TD-000011",
        ] {
            let after = after_settled_at_counter(note).unwrap_or_else(|| panic!("{note}"));
            assert!(
                after
                    .trim_start_matches([' ', ':'])
                    .starts_with("QUAY-CN-TD-000011"),
                "{note}: {after}"
            );
            assert!(settled_into_vault(note), "{note}");
        }
        assert!(settled_into_vault("đã ghi lại bằng phiếu 4KQ7-000005"));
        for note in [
            "Người vay đã nộp ở chi nhánh",
            "Đã trả lại người vay",
            "Thu tại quầy",
        ] {
            assert!(!settled_into_vault(note), "{note}");
        }
        assert_eq!(after_words("Trùng phiếu A-1", "Trùng phiếu"), Some(" A-1"));
    }

    #[test]
    fn one_reference_however_typed() {
        for typed in [
            "GNT-002",
            "gnt 002",
            "GNT002",
            "g.n.t/002",
            "ＧＮＴ－００２",
            "ｇｎｔ００２",
        ] {
            assert_eq!(reference_key(typed), "GNT002", "{typed}");
        }
        for typed in [
            "ft26342 00123",
            "FT26342-00123",
            "FT.2634200123",
            "ft 2634 2001 23",
        ] {
            assert_eq!(reference_key(typed), "FT2634200123", "{typed}");
        }
        assert_ne!(reference_key("GNT-002"), reference_key("GNT-0020"));
        assert_eq!(reference_key("- / ."), "");
    }

    #[test]
    fn a_note_names_a_receipt_however_it_was_typed() {
        for note in [
            "Nộp thay phiếu A7K2-000012",
            "nop thay phieu a7k2 000012",
            "A7K2000012.",
        ] {
            assert!(note_names_receipt(note, "A7K2-000012"), "{note}");
        }
        assert!(!note_names_receipt("phiếu A7K2-0000123", "A7K2-000012"));
        // Two receipts of a phone whose code starts with a digit.
        let two = "Nộp thay 2 phiếu 85AH-000004, 85AH-000005";
        assert!(note_names_receipt(two, "85AH-000004"));
        assert!(note_names_receipt(two, "85AH-000005"));
        assert!(!note_names_receipt("phiếu 185AH-000004", "85AH-000004"));
        assert!(!note_names_receipt("Trả tại quầy", "A7K2-000012"));
        assert!(!note_names_receipt("anything", ""));
    }
}

/// What waits for a supervisor (or an admin): the home page's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Waiting {
    /// Batches with records to decide.
    pub batches: i64,
    /// Refused repayments and gifts not settled (up to the count asked).
    pub refused: i64,
    /// The cash of those repayments, which officers still hold.
    pub refused_cash: i64,
    /// Reversals asked for at the branch, not decided.
    pub reversals: i64,
    /// Of those, the ones the reader asked for (someone else decides them).
    pub reversals_own: i64,
    /// New loans asked for, not decided.
    pub disbursements: i64,
}

/// An officer's over/short account settled, as asked: the amount, with the
/// direction following the balance; in cash at the branch (a shortage is
/// paid into the vault, an overage paid out of it to the officer) or
/// written off on the fund's decision (the fund bears the shortage or
/// keeps the overage).
#[derive(Debug, Clone)]
pub struct NewOverShort<'a> {
    pub client_id: Uuid,
    pub officer_id: i64,
    /// The branch whose over/short account of the officer is settled:
    /// theirs when `None` (one they left has its own).
    pub branch_id: Option<i64>,
    pub amount: i64,
    pub note: &'a str,
    /// Written off by the fund (an admin) rather than paid in cash.
    pub write_off: bool,
}

/// An officer's shortage paid back, or overage paid back to them.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct OverShortSettlement {
    pub id: i64,
    pub client_id: Uuid,
    pub branch_id: i64,
    pub officer_id: i64,
    pub officer_name: String,
    /// `paid_in` (a shortage taken off the officer: paid into the vault, or
    /// borne by the fund) or `paid_out` (an overage: paid out of the vault
    /// to the officer, or kept by the fund).
    pub direction: String,
    /// `cash` (through the branch vault) or `write_off` (the fund's loss
    /// or income, on its decision).
    pub method: String,
    /// Whole đồng.
    #[schema(value_type = String)]
    #[serde(with = "dong_string")]
    pub amount: i64,
    pub note: String,
    pub entry_id: i64,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
    /// Its entry was reversed (recorded by mistake): it no longer counts.
    #[sqlx(default)]
    #[serde(default)]
    pub reversed: bool,
    /// The officer's over/short balance at the branch after it: a
    /// shortage still owed (positive), an overage (negative), or 0.
    #[sqlx(default)]
    #[schema(value_type = String)]
    #[serde(with = "dong_string")]
    pub balance_after: i64,
}

/// A repayment on a loan, taken on a day another was (by this officer or
/// another, as when the worker was moved between them).
#[derive(Debug, Clone)]
pub struct SameDayReceipt {
    pub client_id: Uuid,
    pub receipt_no: String,
    /// The officer who took it.
    pub officer: String,
}

/// The Vietnamese notes and coins a vault is counted in, largest first
/// (whole đồng).
pub const DENOMINATIONS: [i64; 11] = [
    500_000, 200_000, 100_000, 50_000, 20_000, 10_000, 5_000, 2_000, 1_000, 500, 200,
];

/// How many notes or coins of one value were counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Denomination {
    /// The note's or coin's value, whole đồng (`"500000"`).
    #[schema(value_type = String)]
    #[serde(with = "dong_string")]
    pub value: i64,
    pub count: i64,
}

/// A count of a branch's vault to record.
#[derive(Debug, Clone)]
pub struct NewVaultCount<'a> {
    /// Chosen by the client once per count: a retry returns the same count.
    pub client_id: Uuid,
    pub branch_id: i64,
    /// The cash found, whole đồng.
    pub counted: i64,
    pub note: &'a str,
    /// The count by denomination, largest first, only those counted (none:
    /// counted as a total).
    pub denominations: Vec<Denomination>,
}

/// A count of a branch's vault (kiểm kê quỹ tiền mặt), as recorded: the
/// cash found beside the vault's balance on the books then. Nothing is
/// posted: a difference is for the branch to investigate and the fund to
/// decide.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct VaultCount {
    pub id: i64,
    pub client_id: Uuid,
    pub branch_id: i64,
    pub branch_name: String,
    /// The cash counted, whole đồng.
    #[schema(value_type = String)]
    #[serde(with = "dong_string")]
    pub counted: i64,
    /// The vault's balance on the books when it was counted (the vault
    /// cash book's closing balance), whole đồng.
    #[schema(value_type = String)]
    #[serde(with = "dong_string")]
    pub book_balance: i64,
    /// `counted − book_balance`: negative, the vault is short; positive,
    /// over; 0, they agree.
    #[sqlx(default)]
    #[schema(value_type = String)]
    #[serde(with = "dong_string")]
    pub difference: i64,
    pub note: String,
    /// The count by denomination, when it was counted so.
    #[sqlx(skip)]
    pub denominations: Vec<Denomination>,
    #[serde(skip)]
    #[sqlx(rename = "denominations")]
    pub denominations_json: Option<String>,
    pub counted_by: String,
    pub counted_at: DateTime<Utc>,
    /// What the count does to the books (nothing), and what is done about
    /// a difference: Vietnamese, then English.
    #[sqlx(skip)]
    pub what_next: String,
    #[sqlx(skip)]
    pub what_next_en: String,
}

impl VaultCount {
    /// Fills in what is derived from the stored row.
    pub fn derived(mut self) -> Self {
        self.difference = self.counted - self.book_balance;
        self.denominations = self
            .denominations_json
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default();
        let (vi, en) = vault_count_next(self.difference);
        self.what_next = vi;
        self.what_next_en = en;
        self
    }
}

/// What a count's difference means and what is done about it: nothing is
/// posted to the ledger by a count.
pub fn vault_count_next(difference: i64) -> (String, String) {
    use sotay_core::domain::money::format_vnd;
    let none_vi = "Biên bản kiểm kê không ghi sổ kế toán.";
    let none_en = "A count posts nothing to the ledger.";
    match difference.signum() {
        0 => (
            format!("Tiền mặt kiểm kê khớp với sổ quỹ. {none_vi}"),
            format!("The cash counted agrees with the cash book. {none_en}"),
        ),
        -1 => (
            format!(
                "Quỹ thiếu {} so với sổ. {none_vi} Chi nhánh tìm nguyên nhân (đếm lại, đối chiếu phiếu thu, chi trong ngày); quỹ quyết định xử lý khoản thiếu.",
                format_vnd(-difference)
            ),
            format!(
                "The vault is {} short of the books. {none_en} The branch looks for the cause (count again, check the day's receipts and payments); the fund decides what is done about it.",
                format_vnd(-difference)
            ),
        ),
        _ => (
            format!(
                "Quỹ thừa {} so với sổ. {none_vi} Chi nhánh tìm nguyên nhân (đếm lại, đối chiếu phiếu thu, chi trong ngày); quỹ quyết định xử lý khoản thừa.",
                format_vnd(difference)
            ),
            format!(
                "The vault is {} over the books. {none_en} The branch looks for the cause (count again, check the day's receipts and payments); the fund decides what is done about it.",
                format_vnd(difference)
            ),
        ),
    }
}
