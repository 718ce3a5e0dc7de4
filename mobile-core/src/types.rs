//! The values the field book takes and returns, shared by the Rust API and
//! the generated Kotlin/Swift/Python bindings.
//!
//! Money crosses as [`Decimal`] (a string of whole đồng), ids as [`Uuid`]
//! (a string), instants as [`Timestamp`] (milliseconds since the Unix
//! epoch, an i64) and calendar days as [`LocalDate`] (`yyyy-mm-dd`).

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::domain::money::{parse_amount, AmountRule};
use crate::error::FieldBookError;
use crate::wire::{GeoPoint, RecordKind, VisitPurpose};

fn lift_error(field: &str, vi: String, en: String) -> uniffi::deps::anyhow::Error {
    FieldBookError::Validation {
        field: field.to_string(),
        code: "invalid".to_string(),
        message_vi: vi,
        message_en: en,
    }
    .into()
}

// An amount is read as the text it came as, by the rules every edge uses:
// "200.000" is two hundred thousand to a Vietnamese reader, and refused, not
// read as the decimal 200.000 (= 200 đồng once normalised).
uniffi::custom_type!(Decimal, String, {
    remote,
    lower: |d| d.normalize().to_string(),
    try_lift: |s| {
        parse_amount("amount", &s, AmountRule::Any)
            .map(|d| Decimal::from(d.get()))
            .map_err(|e| lift_error("amount", e.message_vi(), e.message_en()))
    },
});

uniffi::custom_type!(Uuid, String, {
    remote,
    lower: |u| u.to_string(),
    try_lift: |s| {
        Uuid::parse_str(s.trim()).map_err(|e| {
            lift_error(
                "id",
                format!("\"{s}\" không phải mã định danh (UUID): {e}"),
                format!("id: \"{s}\" is not a UUID: {e}"),
            )
        })
    },
});

/// An instant, as milliseconds since the Unix epoch across the FFI.
pub type Timestamp = DateTime<Utc>;

/// A calendar day (Vietnam), as `yyyy-mm-dd` across the FFI.
pub type LocalDate = NaiveDate;

uniffi::custom_type!(Timestamp, i64, {
    remote,
    lower: |t| t.timestamp_millis(),
    try_lift: |ms| {
        Utc.timestamp_millis_opt(ms).single().ok_or_else(|| {
            lift_error(
                "recorded_at",
                format!("{ms} không phải thời điểm hợp lệ (mili giây từ 1970)"),
                format!("recorded_at: {ms} is not a valid instant (milliseconds since 1970)"),
            )
        })
    },
});

uniffi::custom_type!(LocalDate, String, {
    remote,
    lower: |d| d.format("%Y-%m-%d").to_string(),
    try_lift: |s| {
        crate::domain::time::parse_date(&s).ok_or_else(|| {
            lift_error(
                "date",
                format!("\"{s}\" không phải ngày (dd/mm/yyyy hoặc yyyy-mm-dd)"),
                format!("date: \"{s}\" is not a date (dd/mm/yyyy or yyyy-mm-dd)"),
            )
        })
    },
});

/// Who this phone is: the id the server registered and the 4-character
/// code printed in its receipt numbers (`A7K2`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeviceIdentity {
    pub device_id: Uuid,
    pub device_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Officer {
    pub officer_id: Uuid,
    pub code: String,
    pub full_name: String,
    pub branch_id: Uuid,
    pub branch_name: String,
}

/// What applying a snapshot or a change page did.
#[derive(Debug, Clone, PartialEq, Eq, Default, uniffi::Record)]
pub struct ApplySummary {
    pub boarding_houses: u64,
    pub workers: u64,
    pub loans: u64,
    pub installments: u64,
    pub campaigns: u64,
    pub record_statuses: u64,
    pub removed_workers: u64,
    /// Every row written.
    pub rows: u64,
    /// Cursor to ask for the next changes with.
    pub next_cursor: String,
    pub has_more: bool,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WorkerHit {
    pub worker_id: Uuid,
    /// The fund's code for the worker (`NLD-00119`).
    pub code: Option<String>,
    pub full_name: String,
    /// `0912 345 678`
    pub phone: Option<String>,
    pub cccd: Option<String>,
    pub boarding_house: Option<String>,
    pub room: Option<String>,
    /// Outstanding on all loans, this device's unsynced repayments deducted.
    pub balance: Decimal,
}

/// A worker to see on today's route.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RouteWorker {
    pub worker_id: Uuid,
    /// The fund's code for the worker (`NLD-00119`).
    pub code: Option<String>,
    pub full_name: String,
    pub room: Option<String>,
    pub phone: Option<String>,
    /// Still to collect for installments due up to and including the day.
    pub due: Decimal,
    /// Part of `due` that fell due before the day.
    pub overdue: Decimal,
    pub balance: Decimal,
    /// Collected on this device on that day (not voided, refused or
    /// reversed: such a repayment is not on the loan).
    pub paid_today: Decimal,
    pub visited_today: bool,
}

/// The workers of one boarding house on a route, in route order.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RouteStop {
    pub boarding_house_id: Option<Uuid>,
    pub boarding_house: String,
    pub address: String,
    pub workers: Vec<RouteWorker>,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct InstallmentView {
    pub number: u32,
    pub due_on: LocalDate,
    pub principal_due: Decimal,
    pub interest_due: Decimal,
    /// Paid per the books plus this device's unsynced repayments.
    pub principal_paid: Decimal,
    pub interest_paid: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LoanView {
    pub loan_id: Uuid,
    pub contract_no: String,
    pub product_name: String,
    pub principal: Decimal,
    pub annual_rate_bp: i64,
    /// `active` or `closed`
    pub status: String,
    pub disbursed_on: LocalDate,
    pub balance: Decimal,
    pub overdue: Decimal,
    /// Repayments not yet in the books: this device's, the officer's
    /// other phones' waiting for review, and those another officer took
    /// before the worker moved here, waiting for review.
    pub unsynced_paid: Decimal,
    /// Repayments waiting for review (this device's, or the officer's other
    /// phones') that no longer fit what the loan owes, the books having
    /// changed under them (a reversal turned down, a payment at the
    /// branch): they will not post; the supervisor leaves them out and
    /// their cash goes back to the borrower. Not in `balance`.
    pub unsynced_over_balance: Decimal,
    pub schedule: Vec<InstallmentView>,
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct VisitView {
    pub client_id: Uuid,
    pub purpose: VisitPurpose,
    pub outcome: String,
    pub notes: String,
    pub location: Option<GeoPoint>,
    pub recorded_at: Timestamp,
    pub state: String,
}

/// A campaign gift the worker received: on this device or per server data.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct GiftView {
    pub campaign_id: Uuid,
    pub campaign_name: String,
    /// The handout recorded on this device, if it was.
    pub client_id: Option<Uuid>,
    pub recorded_at: Option<Timestamp>,
    /// `pending`, `accepted`, `approved`, … or `server` when known only from server data.
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct WorkerDetail {
    pub worker_id: Uuid,
    /// The fund's code for the worker (`NLD-00119`).
    pub code: Option<String>,
    pub full_name: String,
    pub phone: Option<String>,
    pub cccd: Option<String>,
    pub boarding_house: Option<String>,
    pub address: Option<String>,
    pub room: Option<String>,
    pub factory: Option<String>,
    pub union_member: bool,
    pub hardship: bool,
    pub balance: Decimal,
    pub loans: Vec<LoanView>,
    pub visits: Vec<VisitView>,
    pub gifts: Vec<GiftView>,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CampaignView {
    pub campaign_id: Uuid,
    pub name: String,
    /// `gift` or `welfare`
    pub kind: String,
    /// Who may receive it, in Vietnamese.
    pub eligibility: String,
    pub gift_value: Decimal,
    pub starts_on: LocalDate,
    pub ends_on: LocalDate,
    pub allocation: i64,
    /// What this officer may still hand out, this device's handouts counted.
    pub remaining: i64,
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct VisitInput {
    pub worker_id: Uuid,
    pub purpose: VisitPurpose,
    pub outcome: String,
    pub notes: String,
    pub location: Option<GeoPoint>,
    pub recorded_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RepaymentInput {
    pub loan_id: Uuid,
    /// Whole đồng, > 0.
    pub amount: Decimal,
    pub recorded_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct GiftInput {
    pub campaign_id: Uuid,
    pub worker_id: Uuid,
    /// The recipient's name, typed by the recipient to acknowledge the gift.
    pub acknowledged_name: String,
    /// The recipient's signature image (PNG or JPEG bytes), if taken.
    pub signature_image: Option<Vec<u8>>,
    pub recorded_at: Timestamp,
}

/// Voids an unsynced record, or asks for a synced one to be reversed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CorrectionInput {
    pub target_id: Uuid,
    pub reason: String,
    pub recorded_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AllocationPart {
    pub installment: u32,
    pub due_on: LocalDate,
    pub interest: Decimal,
    pub principal: Decimal,
}

/// A recorded cash repayment with its receipt.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RepaymentReceipt {
    pub client_id: Uuid,
    pub device_seq: i64,
    /// `A7K2-000123`
    pub receipt_no: String,
    pub loan_id: Uuid,
    pub contract_no: String,
    pub worker_id: Uuid,
    pub worker_name: String,
    pub amount: Decimal,
    pub interest: Decimal,
    pub principal: Decimal,
    pub lines: Vec<AllocationPart>,
    /// Outstanding on the loan after this repayment.
    pub balance_after: Decimal,
    pub recorded_at: Timestamp,
    /// Ready to print or send by SMS/Zalo.
    pub text_vi: String,
    pub text_en: String,
    pub state: String,
    pub voided: bool,
    /// What became of the payment since the receipt was printed, when it
    /// no longer stands (voided, refused, reversed): to show or print with
    /// it, as its balance is no longer true.
    pub fate_vi: Option<String>,
    pub fate_en: Option<String>,
}

/// Any other recorded fact.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RecordedFact {
    pub client_id: Uuid,
    pub device_seq: i64,
    pub kind: RecordKind,
    pub recorded_at: Timestamp,
    pub summary: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum OutboxFilter {
    All,
    /// Not yet acknowledged by the server.
    Pending,
    /// Accepted or approved by the server.
    Accepted,
    Rejected,
    /// Kept failing to upload; set aside so the others go on (see the reason).
    Wedged,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OutboxItem {
    pub client_id: Uuid,
    pub device_seq: i64,
    pub kind: RecordKind,
    pub recorded_at: Timestamp,
    pub summary: String,
    /// `pending`, `accepted`, `approved`, `rejected`, `reversed` or `wedged`
    pub state: String,
    pub code: Option<String>,
    pub message: Option<String>,
    pub message_en: Option<String>,
    /// Cancelled by a void recorded on this device.
    pub voided: bool,
    /// Refused, and its cash or package since dealt with at the branch:
    /// what the supervisor wrote when marking it settled.
    pub settled_note: Option<String>,
    /// The upload envelope, JSON ([`crate::wire::UploadRecord`]).
    pub envelope_json: String,
}

/// The officer's day: what to hand over at the branch.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DailySummary {
    pub day: LocalDate,
    /// Cash collected that day on this device, voided repayments excluded.
    pub cash_collected: Decimal,
    /// Of it, repayments the server refused at upload or the supervisor
    /// left out: not handed over with the batch (given back to the worker,
    /// or as the branch says).
    pub cash_refused: Decimal,
    /// Of `cash_refused`, what a supervisor has since marked dealt with at
    /// the branch (taken at the counter, given back...): nothing more for
    /// the officer to do with it.
    pub cash_refused_settled: Decimal,
    /// Over every day on this phone: refused cash the branch has not
    /// dealt with yet (to give back, or as the supervisor says).
    pub cash_refused_open: Decimal,
    /// Over every day on this phone: refused cash not dealt with yet that
    /// the officer entered again (a later receipt of the same loan and
    /// amount, made once she knew of the refusal, waiting for review):
    /// handed over with the new receipt, whose approval settles the
    /// refused one; not in `cash_refused_open`.
    pub cash_refused_entered_again: Decimal,
    /// Of it, repayments in batches the supervisor approved: handed over
    /// (a shortage found when the cash was counted is in `cash_counts`),
    /// less what that day's reversal requests took back from those batches.
    pub cash_approved: Decimal,
    /// What that day's reversal requests take back of receipts handed over
    /// before: kept back from the cash handed over (given back to the
    /// borrower, or in the vault already when an amount typed wrong is
    /// entered again), as the server nets them.
    pub cash_taken_back: Decimal,
    /// Of the day's repayments, those approved before the server's data
    /// was restored from an older backup, sent again and waiting for
    /// review once more: handed over at that approval, not again.
    pub cash_approved_before_restore: Decimal,
    /// `cash_collected` less `cash_refused`, `cash_approved`,
    /// `cash_taken_back` and `cash_approved_before_restore`: what is still
    /// to hand over.
    pub cash_to_hand_over: Decimal,
    /// The same over every day on this phone: all the cash still to hand
    /// over (a day's figure is its part).
    pub cash_in_hand: Decimal,
    /// The cash the supervisor counted for each batch approved that day
    /// (by the time of the decision), as the server last sent it.
    pub cash_counts: Vec<CashCountView>,
    /// The officer's over/short balance at the branch, as the server last
    /// sent it: the shortages supervisors counted less the overages, less
    /// what was settled in cash since (negative when the branch holds an
    /// overage). Without the server's figure, the counts' sum.
    pub cash_short: Decimal,
    /// Of the officer's shortages, what the fund bore by a write-off
    /// decision (not paid by the officer, already out of `cash_short`),
    /// as the server last sent it.
    pub short_written_off: Decimal,
    /// Of the officer's overages, what the fund kept as its income by a
    /// write-off decision (not given back).
    pub over_written_off: Decimal,
    pub repayments: u32,
    pub visits: u32,
    pub gifts: u32,
    pub voids: u32,
    pub reversal_requests: u32,
    /// Records of any day still waiting for the server.
    pub pending: u32,
    /// Records the server refused, with the reason: the day's, and the
    /// receipts and gifts of other days the branch has not dealt with yet.
    pub rejected: Vec<OutboxItem>,
    /// Records of any day that kept failing to upload, with the reason.
    pub wedged: Vec<OutboxItem>,
    /// Gift signature images of any day not on the server yet.
    pub signatures_waiting: u32,
    /// Gift signature images the server refused (the reasons are in
    /// `text_vi`).
    pub signatures_refused: u32,
    pub text_vi: String,
}

/// The cash a supervisor counted when approving one of the officer's
/// batches.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CashCountView {
    pub batch_id: Uuid,
    pub decided_at: Timestamp,
    /// What the batch's approved repayments came to.
    pub cash_expected: Decimal,
    /// What the supervisor counted.
    pub cash_received: Decimal,
    /// `cash_expected` less `cash_received`: positive is a shortage,
    /// negative an overage.
    pub short: Decimal,
}

/// The signed-in session on this phone (tokens stay inside the core).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SessionInfo {
    pub server_url: String,
    pub username: String,
    /// The server's user id (as text).
    pub user_id: Option<String>,
    pub full_name: String,
    /// `officer`, `supervisor`, `admin`
    pub role: String,
    /// The server's branch id (as text).
    pub branch_id: Option<String>,
    pub device_id: Uuid,
    pub device_name: String,
    /// The code printed in this device's receipt numbers.
    pub device_code: String,
    /// False after sign-out or when the server ended the session.
    pub signed_in: bool,
    pub access_expires_at: Option<Timestamp>,
    pub refresh_expires_at: Option<Timestamp>,
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct SyncReport {
    /// Records sent (a record resent after an interruption counts again).
    pub sent: u32,
    /// Stored by the server now.
    pub accepted: u32,
    /// Already stored by the server (a resend): as good as accepted.
    pub duplicates: u32,
    /// Refused by the server: see the outbox for the reasons.
    pub rejected: u32,
    /// Rows of master data and record statuses received.
    pub received_changes: u64,
    /// Records set aside because their upload kept failing.
    pub wedged: u32,
    /// The server's answer for each record sent, in sending order.
    pub results: Vec<crate::wire::UploadResult>,
    /// Gift signature images the server now holds.
    pub signatures_sent: u32,
    /// Signature images the server refused (kept on the phone, with the
    /// reason in the outbox).
    pub signatures_refused: u32,
    /// Signature images still to send after this sync (their gift is not
    /// on the server yet, or the connection failed).
    pub signatures_waiting: u32,
    /// The server did not know this phone's download cursor (its data was
    /// restored from a backup, say): the whole portfolio was downloaded
    /// again.
    pub portfolio_reloaded: bool,
    /// Records the server had answered (acknowledged, decided or refused),
    /// sent again after it refused the cursor (counted in `sent` too; a
    /// duplicate where it still had them).
    pub sent_again: u32,
    /// How far this phone's clock was ahead of the server's (behind when
    /// negative), in seconds, as this sync measured it (the request's time
    /// on the road not counted). More than
    /// [`crate::domain::time::CLOCK_TOLERANCE_MINUTES`] fast and the phone
    /// records nothing (`clock_wrong`) until the clock is put right (seen
    /// by the boot clock; after a restart, until a sync measures it again
    /// or the clock is seen to move back); slow, it only says so.
    pub clock_ahead_seconds: Option<i64>,
}
