//! What travels between a phone and the server, as JSON.
//!
//! Money is [`Dong`] (a string of whole đồng), dates are `yyyy-mm-dd`,
//! instants are RFC 3339 UTC, ids are UUIDs. Download: one
//! [`PortfolioSnapshot`] on first sync, then [`ChangePage`]s from its cursor.
//! Upload: [`UploadBatch`] of [`UploadRecord`]s answered by one
//! [`UploadResult`] per record.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::gifts::{CampaignKind, Eligibility};
use crate::domain::money::Dong;
use crate::domain::rules::LoanStatus;
use crate::domain::schedule::{Frequency, InterestMethod};

/// The officer the portfolio belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficerIdentity {
    pub officer_id: Uuid,
    /// Staff code shown on receipts, e.g. `CB-0142`.
    pub code: String,
    pub full_name: String,
    pub branch_id: Uuid,
    pub branch_name: String,
    /// The officer's over/short balance at the branch: shortages counted
    /// at approval less overages, less what was settled since (positive:
    /// the officer owes the branch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cash_short: Option<Dong>,
    /// Of the shortages, what the fund bore by a write-off decision: the
    /// officer does not pay it (already out of `cash_short`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_written_off: Option<Dong>,
    /// Of the overages, what the fund kept as its income by a write-off
    /// decision: the branch does not give it back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub over_written_off: Option<Dong>,
}

/// A boarding house (khu nhà trọ) where assigned workers live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardingHouse {
    pub id: Uuid,
    pub name: String,
    pub address: String,
    /// Industrial zone, e.g. `KCX Tân Thuận`.
    #[serde(default)]
    pub zone: Option<String>,
    /// Position on the officer's usual route (smaller first).
    #[serde(default)]
    pub route_order: i64,
    #[serde(default)]
    pub landlord_name: Option<String>,
    #[serde(default)]
    pub landlord_phone: Option<String>,
}

/// A worker assigned to this officer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Worker {
    pub id: Uuid,
    pub full_name: String,
    #[serde(default)]
    pub phone: Option<String>,
    /// 12-digit citizen identity number.
    #[serde(default)]
    pub cccd: Option<String>,
    #[serde(default)]
    pub boarding_house_id: Option<Uuid>,
    #[serde(default)]
    pub room: Option<String>,
    #[serde(default)]
    pub factory: Option<String>,
    pub union_member: bool,
    pub hardship: bool,
    /// The fund's code for the worker (`NLD-00119`), as the branch's lists
    /// and reports name them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// One installment of a loan as the server's books hold it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallmentLine {
    pub number: u32,
    pub due_on: NaiveDate,
    pub principal_due: Dong,
    pub interest_due: Dong,
    pub principal_paid: Dong,
    pub interest_paid: Dong,
}

/// A loan of an assigned worker: its terms and what is paid on it (approved
/// repayments only).
///
/// The phone rebuilds the installments: the schedule of the terms
/// ([`build_schedule`]) with `paid` applied oldest installment first,
/// interest before principal ([`installments_after`]), as every repayment is
/// applied. Only a loan whose books on the server are not that rebuild comes
/// with its `installments`, which then stand as sent.
///
/// [`build_schedule`]: crate::domain::schedule::build_schedule
/// [`installments_after`]: crate::domain::schedule::installments_after
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Loan {
    pub id: Uuid,
    pub worker_id: Uuid,
    /// Contract number, e.g. `CEP-2026-000451`.
    pub contract_no: String,
    pub product_name: String,
    pub principal: Dong,
    pub annual_rate_bp: i64,
    pub method: InterestMethod,
    pub frequency: Frequency,
    /// Number of installments.
    pub installment_count: u32,
    pub disbursed_on: NaiveDate,
    pub status: LoanStatus,
    /// Paid so far, principal and interest together.
    pub paid: Dong,
    /// The installments as the server's books hold them, only for a loan
    /// they differ from the rebuild of its terms and `paid` (none, as long
    /// as every repayment and reversal keeps the books that rebuild).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub installments: Vec<InstallmentLine>,
    /// Outstanding balance (principal + interest left): must equal what the
    /// installments leave; a snapshot where it does not is refused.
    pub balance: Dong,
    /// Receipts another officer took on the loan before its worker moved to
    /// this one, waiting for review: the loan owes that much less once they
    /// are approved, and a receipt here counts them as the server does.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waiting_elsewhere: Vec<WaitingReceipt>,
}

/// A receipt on a loan waiting for review, taken by another officer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingReceipt {
    pub client_id: Uuid,
    pub amount: Dong,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_no: Option<String>,
}

/// A gift or welfare campaign this officer hands out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Campaign {
    pub id: Uuid,
    pub name: String,
    pub kind: CampaignKind,
    pub eligibility: Eligibility,
    /// Value of one gift.
    pub gift_value: Dong,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// Gifts allocated to this officer.
    pub officer_allocation: i64,
    /// Gifts this officer may still hand out, per server data (handouts the
    /// server has accepted are already counted).
    pub officer_remaining: i64,
    /// Workers of this portfolio who have already received this campaign's
    /// gift, per server data (from any officer's phone).
    #[serde(default)]
    pub recipients: Vec<Uuid>,
}

/// Where a record uploaded from this device stands on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordState {
    /// Stored by the server, waiting for the supervisor.
    Accepted,
    /// Approved by the supervisor: its effect is in the books.
    Approved,
    /// Refused (at upload or by the supervisor); see the reason.
    Rejected,
    /// Cancelled by an approved reversal request.
    Reversed,
}

impl RecordState {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordState::Accepted => "accepted",
            RecordState::Approved => "approved",
            RecordState::Rejected => "rejected",
            RecordState::Reversed => "reversed",
        }
    }
}

/// The status of one of this device's records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordStatus {
    pub client_id: Uuid,
    pub state: RecordState,
    /// Stable reason code when rejected.
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message_vi: Option<String>,
    #[serde(default)]
    pub message_en: Option<String>,
    pub decided_at: DateTime<Utc>,
    /// For a refused repayment or gift: what the branch did with its cash
    /// or package (taken at the counter, given back...), once a supervisor
    /// marked it settled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled_note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled_at: Option<DateTime<Utc>>,
    /// For a refused gift settled: whether its package was handed out for
    /// real (the worker has the campaign's gift by it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled_handed_out: Option<bool>,
    /// For a repayment the server took in: its loan and amount. The
    /// officer's other phones (or this one, started again) count it
    /// against the loan's balance while it waits for review.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loan_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Dong>,
}

/// The cash a supervisor counted when approving one of the officer's
/// batches, against what its approved repayments came to: less is a
/// shortage booked on the officer at the branch, more an overage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashCount {
    pub batch_id: Uuid,
    pub decided_at: DateTime<Utc>,
    pub cash_expected: Dong,
    pub cash_received: Dong,
}

/// Everything an officer needs offline, sent on first sync (or to reset).
/// Applying it replaces all master data on the phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortfolioSnapshot {
    pub officer: OfficerIdentity,
    pub as_of: DateTime<Utc>,
    pub boarding_houses: Vec<BoardingHouse>,
    pub workers: Vec<Worker>,
    pub loans: Vec<Loan>,
    pub campaigns: Vec<Campaign>,
    #[serde(default)]
    pub record_statuses: Vec<RecordStatus>,
    /// The cash counted for each of the officer's approved batches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cash_counts: Vec<CashCount>,
    /// Cursor to ask for the changes after this snapshot.
    pub next: String,
}

/// Changes since a cursor. Rows are upserts (whole rows); removals are
/// explicit. Pages are applied in order; ask again with `next` while
/// `has_more`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangePage {
    #[serde(default)]
    pub officer: Option<OfficerIdentity>,
    #[serde(default)]
    pub boarding_houses: Vec<BoardingHouse>,
    #[serde(default)]
    pub workers: Vec<Worker>,
    #[serde(default)]
    pub loans: Vec<Loan>,
    #[serde(default)]
    pub campaigns: Vec<Campaign>,
    #[serde(default)]
    pub record_statuses: Vec<RecordStatus>,
    /// The cash counted for batches approved since the cursor.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cash_counts: Vec<CashCount>,
    /// Workers reassigned away from this officer: removed with their loans.
    #[serde(default)]
    pub removed_workers: Vec<Uuid>,
    /// Loans paid out in error and taken back at the branch: removed, with
    /// their schedules.
    #[serde(default)]
    pub removed_loans: Vec<Uuid>,
    #[serde(default)]
    pub removed_campaigns: Vec<Uuid>,
    pub next: String,
    pub has_more: bool,
    /// The server's clock when it sent the page: the phone checks its own
    /// against it (a snapshot's is `as_of`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_time: Option<DateTime<Utc>>,
}

/// Why a visit was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, uniffi::Enum)]
#[serde(rename_all = "snake_case")]
pub enum VisitPurpose {
    LoanAppraisal,
    RepaymentFollowUp,
    HardshipVisit,
    Condolence,
    GiftDelivery,
    Other,
}

impl VisitPurpose {
    pub const ALL: [VisitPurpose; 6] = [
        VisitPurpose::LoanAppraisal,
        VisitPurpose::RepaymentFollowUp,
        VisitPurpose::HardshipVisit,
        VisitPurpose::Condolence,
        VisitPurpose::GiftDelivery,
        VisitPurpose::Other,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            VisitPurpose::LoanAppraisal => "loan_appraisal",
            VisitPurpose::RepaymentFollowUp => "repayment_follow_up",
            VisitPurpose::HardshipVisit => "hardship_visit",
            VisitPurpose::Condolence => "condolence",
            VisitPurpose::GiftDelivery => "gift_delivery",
            VisitPurpose::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s.trim())
    }
    pub fn label_vi(self) -> &'static str {
        match self {
            VisitPurpose::LoanAppraisal => "Thẩm định khoản vay",
            VisitPurpose::RepaymentFollowUp => "Đôn đốc trả nợ",
            VisitPurpose::HardshipVisit => "Thăm hỏi hoàn cảnh khó khăn",
            VisitPurpose::Condolence => "Thăm viếng, chia buồn",
            VisitPurpose::GiftDelivery => "Trao quà",
            VisitPurpose::Other => "Khác",
        }
    }
}

/// A GPS fix taken with a visit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, uniffi::Record)]
pub struct GeoPoint {
    pub latitude: f64,
    pub longitude: f64,
    /// Accuracy radius in metres, when the phone reports it.
    pub accuracy_m: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitPayload {
    pub worker_id: Uuid,
    pub purpose: VisitPurpose,
    pub outcome: String,
    pub notes: String,
    #[serde(default)]
    pub location: Option<GeoPoint>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepaymentPayload {
    pub loan_id: Uuid,
    pub worker_id: Uuid,
    pub amount: Dong,
    pub receipt_no: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GiftHandoutPayload {
    pub campaign_id: Uuid,
    pub worker_id: Uuid,
    /// The recipient's name as they typed it to acknowledge the gift.
    pub acknowledged_name: String,
    /// SHA-256 (hex) of the signature image, when one was taken.
    #[serde(default)]
    pub signature_sha256: Option<String>,
}

/// Cancels one of this device's records before it was synced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoidPayload {
    pub target_id: Uuid,
    pub reason: String,
}

/// Asks the supervisor to reverse a record the server has accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReversalRequestPayload {
    pub target_id: Uuid,
    pub reason: String,
}

/// The kind of a recorded fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, uniffi::Enum)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Visit,
    Repayment,
    GiftHandout,
    Void,
    ReversalRequest,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Visit => "visit",
            RecordKind::Repayment => "repayment",
            RecordKind::GiftHandout => "gift_handout",
            RecordKind::Void => "void",
            RecordKind::ReversalRequest => "reversal_request",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            RecordKind::Visit,
            RecordKind::Repayment,
            RecordKind::GiftHandout,
            RecordKind::Void,
            RecordKind::ReversalRequest,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
    /// The kind as the officer reads it.
    pub fn label_vi(self) -> &'static str {
        match self {
            RecordKind::Visit => "thăm hỏi",
            RecordKind::Repayment => "thu nợ",
            RecordKind::GiftHandout => "trao quà",
            RecordKind::Void => "hủy bản ghi",
            RecordKind::ReversalRequest => "đề nghị đảo",
        }
    }
}

/// A record's state on the phone (`pending`, `accepted`, `approved`,
/// `rejected`, `reversed`, `wedged`; a gift the server knows of, `server`;
/// one voided, `voided`) as the officer reads it, in Vietnamese and
/// English; an unknown state as it is.
pub fn state_label(state: &str) -> (&str, &str) {
    match state {
        "pending" => ("chờ gửi", "waiting to send"),
        "accepted" => ("chờ duyệt", "waiting for review"),
        "approved" => ("đã duyệt", "approved"),
        "rejected" => ("bị từ chối", "refused"),
        "reversed" => ("đã đảo", "reversed"),
        "wedged" => ("gửi lỗi, tạm gác", "set aside after failing"),
        "server" => ("máy chủ ghi nhận", "known to the server"),
        "voided" => ("đã hủy", "voided"),
        other => (other, other),
    }
}

/// The content of a fact, tagged by its kind: `"kind": "repayment",
/// "payload": {...}` in the envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
pub enum RecordBody {
    Visit(VisitPayload),
    Repayment(RepaymentPayload),
    GiftHandout(GiftHandoutPayload),
    Void(VoidPayload),
    ReversalRequest(ReversalRequestPayload),
}

impl RecordBody {
    /// Its texts against [`crate::domain::rules::TEXT_LIMITS`].
    pub fn check_text_lengths(&self) -> Result<(), crate::domain::rules::RuleViolation> {
        use crate::domain::rules::check_text_length as check;
        match self {
            RecordBody::Visit(v) => {
                check("outcome", &v.outcome)?;
                check("notes", &v.notes)
            }
            RecordBody::Repayment(_) => Ok(()),
            RecordBody::GiftHandout(g) => check("acknowledged_name", &g.acknowledged_name),
            RecordBody::Void(v) => check("reason", &v.reason),
            RecordBody::ReversalRequest(q) => check("reason", &q.reason),
        }
    }

    pub fn kind(&self) -> RecordKind {
        match self {
            RecordBody::Visit(_) => RecordKind::Visit,
            RecordBody::Repayment(_) => RecordKind::Repayment,
            RecordBody::GiftHandout(_) => RecordKind::GiftHandout,
            RecordBody::Void(_) => RecordKind::Void,
            RecordBody::ReversalRequest(_) => RecordKind::ReversalRequest,
        }
    }
}

/// One fact as uploaded. `client_id` (UUID v7) makes the upload idempotent:
/// the same id with the same content is a duplicate, with other content a
/// conflict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadRecord {
    pub client_id: Uuid,
    pub device_id: Uuid,
    /// 1, 2, 3… per device, in recording order.
    pub device_seq: i64,
    pub recorded_at: DateTime<Utc>,
    #[serde(flatten)]
    pub body: RecordBody,
}

/// Records sent together, in device sequence order. `batch_id` makes the
/// batch idempotent as a whole: resending it returns the stored results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadBatch {
    pub batch_id: Uuid,
    pub device_id: Uuid,
    pub records: Vec<UploadRecord>,
    /// Of `records`, those a supervisor had approved before the server's
    /// data was restored from an older backup (the phone sends them again):
    /// their cash went into the vault then, which the review must know.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approved_before: Vec<Uuid>,
}

/// What the server did with one uploaded record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, uniffi::Enum)]
#[serde(rename_all = "snake_case")]
pub enum UploadOutcome {
    /// Stored now.
    Accepted,
    /// Already stored with the same content (a retry).
    Duplicate,
    /// Refused; `code` and the messages say why.
    Rejected,
}

/// The server's answer for one record of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
pub struct UploadResult {
    pub client_id: Uuid,
    pub outcome: UploadOutcome,
    /// Stable reason code when rejected (e.g. `amount_above_outstanding`,
    /// `already_received`, `conflict`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_vi: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_en: Option<String>,
}

/// The server's answer to an [`UploadBatch`]: one result per record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadResponse {
    pub results: Vec<UploadResult>,
    /// A download cursor (`<epoch>.<seq>`) at or after this batch's
    /// changes. The phone sends the latest it got back as `acked` with its
    /// downloads: a server restored from a backup taken before the batch
    /// refuses it (410 `sync_cursor_reset`), even when the phone's download
    /// cursor is older than the backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<String>,
}

/// `POST /api/v1/auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    pub device_id: Uuid,
    pub device_name: String,
    /// The code this phone already printed receipts with: a device the
    /// server does not know is registered under it when no other device
    /// has it (a server restored from a backup older than the phone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_code: Option<String>,
}

/// `POST /api/v1/auth/refresh`: the refresh token rotates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshRequest {
    pub refresh_token: String,
    pub device_id: Uuid,
}

/// An id the server may send as a number or a string, kept as text.
fn id_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected an id, found {other}"
        ))),
    }
}

fn opt_id_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(serde_json::Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(serde::de::Error::custom(format!(
            "expected an id, found {other}"
        ))),
    }
}

/// The signed-in user, as the server describes them (ids as text: the
/// server's are numbers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    pub username: String,
    pub full_name: String,
    pub role: String,
    #[serde(default, deserialize_with = "opt_id_text")]
    pub branch_id: Option<String>,
}

/// The device the tokens are bound to (`id` is the id the phone sent);
/// `code` is the 4-character code printed in its receipt numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionDevice {
    pub id: String,
    pub name: String,
    pub code: String,
    /// The highest sequence of the receipt numbers the server holds of
    /// this device: the book numbers on from there.
    #[serde(default)]
    pub last_receipt: Option<i64>,
}

/// The answer to a login or a refresh. Lifetimes are in seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub token_type: Option<String>,
    pub expires_in: i64,
    pub refresh_token: String,
    pub refresh_expires_in: i64,
    #[serde(default)]
    pub user: Option<SessionUser>,
    #[serde(default)]
    pub device: Option<SessionDevice>,
}

/// An error answer (RFC 9457 problem details); `code` is stable, `detail`
/// is in the language asked for (`Accept-Language: vi`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    #[serde(default, rename = "type")]
    pub type_: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub detail: Option<String>,
    /// The detail in English, beside a Vietnamese `detail`.
    #[serde(default)]
    pub detail_en: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub errors: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_has_kind_and_payload_beside_the_header() {
        let r = UploadRecord {
            client_id: Uuid::now_v7(),
            device_id: Uuid::now_v7(),
            device_seq: 7,
            recorded_at: "2026-11-22T03:00:00Z".parse().unwrap(),
            body: RecordBody::Repayment(RepaymentPayload {
                loan_id: Uuid::nil(),
                worker_id: Uuid::nil(),
                amount: Dong(500_000),
                receipt_no: "A7K2-000001".into(),
            }),
        };
        let v: serde_json::Value = serde_json::to_value(&r).unwrap();
        assert_eq!(v["kind"], "repayment");
        assert_eq!(v["payload"]["amount"], "500000");
        assert_eq!(v["device_seq"], 7);
        let back: UploadRecord = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn token_responses_take_numeric_or_text_ids() {
        let t: TokenResponse = serde_json::from_str(
            r#"{"access_token":"a","token_type":"Bearer","expires_in":900,"refresh_token":"r",
                "refresh_expires_in":2592000,
                "user":{"id":42,"username":"binh","full_name":"Trần Văn Bình","role":"officer","branch_id":7},
                "device":{"id":"0193a000-0000-7000-8000-0000000000e1","name":"Điện thoại","code":"A7K2"}}"#,
        )
        .unwrap();
        let u = t.user.unwrap();
        assert_eq!((u.id.as_str(), u.branch_id.as_deref()), ("42", Some("7")));
        let t: TokenResponse = serde_json::from_str(
            r#"{"access_token":"a","expires_in":900,"refresh_token":"r","refresh_expires_in":60}"#,
        )
        .unwrap();
        assert_eq!(t.user, None);
        let u: SessionUser = serde_json::from_str(
            r#"{"id":"u-1","username":"x","full_name":"X","role":"officer","branch_id":null}"#,
        )
        .unwrap();
        assert_eq!((u.id.as_str(), u.branch_id), ("u-1", None));
    }

    #[test]
    fn upload_results_read_from_json() {
        let r: UploadResponse = serde_json::from_str(
            r#"{"results":[{"client_id":"0193a3f0-0000-7000-8000-000000000001","outcome":"rejected","code":"loan_closed",
                "message_vi":"Khoản vay đã tất toán","message_en":"loan closed"},
                {"client_id":"0193a3f0-0000-7000-8000-000000000002","outcome":"duplicate"}]}"#,
        )
        .unwrap();
        assert_eq!(r.results[0].outcome, UploadOutcome::Rejected);
        assert_eq!(r.results[1].code, None);
    }
}
