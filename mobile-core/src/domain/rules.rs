//! The rules a recorded fact must satisfy, checked by the phone before it is
//! recorded and by the server when it is uploaded: one copy, used by both.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::gifts::{Eligibility, WorkerFacts};
use super::money::format_vnd;
use super::schedule::{
    allocate, apply_allocation, outstanding, Allocation, AllocationError, InstallmentState,
};

/// Where a loan stands in the fund's books.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoanStatus {
    /// Disbursed and being repaid.
    Active,
    /// Fully repaid or settled: no repayment is accepted.
    Closed,
}

impl LoanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LoanStatus::Active => "active",
            LoanStatus::Closed => "closed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "active" => Some(LoanStatus::Active),
            "closed" => Some(LoanStatus::Closed),
            _ => None,
        }
    }
}

/// Why a fact is refused. [`RuleViolation::code`] is stable: the server
/// sends it back in an upload result and the phone shows the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleViolation {
    #[error("amount: must be greater than 0")]
    AmountNotPositive,
    #[error("amount: {amount} is above what is left to pay, {outstanding}")]
    AboveOutstanding { amount: i64, outstanding: i64 },
    #[error("amount: {amount} is too small for a cash repayment (at least {least}, unless it pays off what is left)")]
    AmountTooSmall { amount: i64, least: i64 },
    #[error("{field}: {chars} characters, more than the {max} a record keeps")]
    TextTooLong {
        field: &'static str,
        chars: usize,
        max: usize,
    },
    #[error("loan_id: the loan is closed")]
    LoanClosed,
    #[error("loan_id: the loan is not in this officer's portfolio")]
    LoanNotInPortfolio,
    #[error("worker_id: the worker is not in this officer's portfolio")]
    WorkerNotInPortfolio,
    #[error("worker_id: the worker is not eligible for this campaign")]
    NotEligible { rule: Eligibility },
    #[error("worker_id: the worker has already received this campaign's gift: one each (a package already handed over is taken back; tell the branch supervisor)")]
    AlreadyReceived,
    #[error("campaign_id: this officer's allocation for the campaign is used up: hand out no more (a package already handed over: tell the branch supervisor, who takes it back or records it handed out)")]
    AllocationUsedUp,
    #[error("campaign_id: this officer has no allocation in the campaign")]
    NoAllocation,
    #[error("campaign_id: the campaign is not running on {on} (it runs {starts_on} to {ends_on})")]
    CampaignNotRunning {
        on: NaiveDate,
        starts_on: NaiveDate,
        ends_on: NaiveDate,
    },
    #[error("recorded_at: {on} is before the loan was paid out on {disbursed_on}")]
    RecordedBeforeDisbursement {
        on: NaiveDate,
        disbursed_on: NaiveDate,
    },
}

impl RuleViolation {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            RuleViolation::AmountNotPositive => "amount_not_positive",
            RuleViolation::AboveOutstanding { .. } => "amount_above_outstanding",
            RuleViolation::AmountTooSmall { .. } => "amount_too_small",
            RuleViolation::TextTooLong { .. } => "text_too_long",
            RuleViolation::LoanClosed => "loan_closed",
            RuleViolation::LoanNotInPortfolio => "loan_not_in_portfolio",
            RuleViolation::WorkerNotInPortfolio => "worker_not_in_portfolio",
            RuleViolation::NotEligible { .. } => "not_eligible",
            RuleViolation::AlreadyReceived => "already_received",
            RuleViolation::AllocationUsedUp => "allocation_used_up",
            RuleViolation::NoAllocation => "no_allocation",
            RuleViolation::CampaignNotRunning { .. } => "campaign_not_running",
            RuleViolation::RecordedBeforeDisbursement { .. } => "recorded_before_disbursement",
        }
    }

    /// The input field the violation is about.
    pub fn field(&self) -> &'static str {
        match self {
            RuleViolation::AmountNotPositive
            | RuleViolation::AboveOutstanding { .. }
            | RuleViolation::AmountTooSmall { .. } => "amount",
            RuleViolation::LoanClosed | RuleViolation::LoanNotInPortfolio => "loan_id",
            RuleViolation::WorkerNotInPortfolio
            | RuleViolation::NotEligible { .. }
            | RuleViolation::AlreadyReceived => "worker_id",
            RuleViolation::AllocationUsedUp
            | RuleViolation::NoAllocation
            | RuleViolation::CampaignNotRunning { .. } => "campaign_id",
            RuleViolation::RecordedBeforeDisbursement { .. } => "recorded_at",
            RuleViolation::TextTooLong { field, .. } => field,
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            RuleViolation::TextTooLong { field, chars, max } => format!(
                "{field} has {chars} characters; a record keeps at most {max}: shorten it"
            ),
            RuleViolation::AmountTooSmall { amount, least } => format!(
                "{} is too small for a cash repayment (at least {}, unless it pays off what is left): a digit missing? Enter the cash received again",
                format_vnd(*amount),
                format_vnd(*least)
            ),
            RuleViolation::AboveOutstanding {
                amount,
                outstanding,
            } => format!(
                "the amount {} is above what is left to pay on the loan, {} (principal and scheduled interest)",
                format_vnd(*amount),
                format_vnd(*outstanding)
            ),
            RuleViolation::RecordedBeforeDisbursement { on, disbursed_on } => format!(
                "the record's day {} is before the loan was paid out on {}; check the phone's date",
                super::time::format_date(*on),
                super::time::format_date(*disbursed_on)
            ),
            RuleViolation::CampaignNotRunning {
                on,
                starts_on,
                ends_on,
            } => format!(
                "the campaign is not running on {}: it runs from {} to {}",
                super::time::format_date(*on),
                super::time::format_date(*starts_on),
                super::time::format_date(*ends_on)
            ),
            RuleViolation::NotEligible { rule } => format!(
                "the worker is not eligible for this campaign's gift ({})",
                rule.describe_en()
            ),
            // The message without the field it is about (`loan_id: …`):
            // the field travels apart, as `field()`.
            other => {
                let text = other.to_string();
                match text.split_once(": ") {
                    Some((_, message)) => message.to_string(),
                    None => text,
                }
            }
        }
    }

    pub fn message_vi(&self) -> String {
        match self {
            RuleViolation::AmountNotPositive => "Số tiền phải lớn hơn 0".to_string(),
            RuleViolation::TextTooLong { field, chars, max } => format!(
                "{} dài {chars} ký tự; mỗi bản ghi giữ tối đa {max}: hãy viết ngắn lại",
                text_label_vi(field)
            ),
            RuleViolation::AmountTooSmall { amount, least } => format!(
                "Số tiền {} quá nhỏ cho một lần thu nợ (ít nhất {}, trừ khi trả nốt số còn lại): gõ thiếu chữ số? Hãy nhập lại số tiền đã nhận",
                format_vnd(*amount),
                format_vnd(*least)
            ),
            RuleViolation::AboveOutstanding {
                amount,
                outstanding,
            } => format!(
                "Số tiền {} lớn hơn số còn phải trả của khoản vay {} (gốc và lãi theo lịch)",
                format_vnd(*amount),
                format_vnd(*outstanding)
            ),
            RuleViolation::LoanClosed => "Khoản vay đã tất toán, không thu thêm".to_string(),
            RuleViolation::LoanNotInPortfolio => {
                "Khoản vay không thuộc danh sách cán bộ quản lý (có thể người vay vừa được chuyển sang cán bộ khác): tiền đã thu nộp tại quầy hoặc trả lại người vay, theo hướng dẫn của giám sát".to_string()
            }
            RuleViolation::WorkerNotInPortfolio => {
                "Người lao động không thuộc danh sách cán bộ quản lý (có thể vừa được chuyển sang cán bộ khác)".to_string()
            }
            RuleViolation::NotEligible { rule } => format!(
                "Người lao động không thuộc đối tượng nhận quà của chương trình ({})",
                rule.describe_vi()
            ),
            RuleViolation::AlreadyReceived => {
                "Người lao động đã nhận quà của chương trình này: mỗi người một suất (suất quà đã trao thì thu hồi, và báo giám sát chi nhánh)".to_string()
            }
            RuleViolation::AllocationUsedUp => {
                "Cán bộ đã trao hết số suất quà được phân bổ: không trao thêm (suất quà đã trao thì báo giám sát chi nhánh để thu hồi, hoặc ghi nhận đã trao thật)".to_string()
            }
            RuleViolation::NoAllocation => {
                "Cán bộ chưa được phân bổ suất quà nào của chương trình này; hỏi chi nhánh"
                    .to_string()
            }
            RuleViolation::CampaignNotRunning {
                on,
                starts_on,
                ends_on,
            } => format!(
                "Chương trình không diễn ra vào ngày {}: chương trình từ {} đến {}",
                super::time::format_date(*on),
                super::time::format_date(*starts_on),
                super::time::format_date(*ends_on)
            ),
            RuleViolation::RecordedBeforeDisbursement { on, disbursed_on } => format!(
                "Ngày ghi {} trước ngày giải ngân khoản vay {}: kiểm tra ngày giờ của điện thoại",
                super::time::format_date(*on),
                super::time::format_date(*disbursed_on)
            ),
        }
    }
}

/// A repayment is recorded on or after the day its loan was paid out
/// (`on`: the record's day in Vietnam): an earlier day is a phone's clock,
/// or a typed date, gone wrong.
pub fn check_recorded_after_disbursement(
    on: NaiveDate,
    disbursed_on: NaiveDate,
) -> Result<(), RuleViolation> {
    if on < disbursed_on {
        return Err(RuleViolation::RecordedBeforeDisbursement { on, disbursed_on });
    }
    Ok(())
}

/// Installment states once earlier repayments not yet in the books (this
/// device's unsynced ones on the phone, accepted but unapproved ones on the
/// server) are applied in the order they were recorded.
pub fn states_after(
    states: &[InstallmentState],
    earlier: &[i64],
) -> Result<Vec<InstallmentState>, RuleViolation> {
    let mut out = states.to_vec();
    for amount in earlier {
        let a = allocate(&out, *amount).map_err(violation)?;
        apply_allocation(&mut out, &a, 1);
    }
    Ok(out)
}

fn violation(e: AllocationError) -> RuleViolation {
    match e {
        AllocationError::NotPositive => RuleViolation::AmountNotPositive,
        AllocationError::AboveOutstanding {
            amount,
            outstanding,
        } => RuleViolation::AboveOutstanding {
            amount,
            outstanding,
        },
    }
}

/// Checks a cash repayment of `amount` whole đồng against a loan whose
/// installments are `states` (earlier unbooked repayments already applied,
/// see [`states_after`]) and returns how it is allocated: interest then
/// principal, oldest installment first.
pub fn check_repayment(
    status: LoanStatus,
    states: &[InstallmentState],
    amount: i64,
) -> Result<Allocation, RuleViolation> {
    check_collection(status, outstanding(states).total(), amount)?;
    allocate(states, amount).map_err(violation)
}

/// What [`check_repayment`] decides, when only the acceptance is wanted: a
/// cash repayment of `amount` whole đồng against a loan that still owes
/// `owed` after the earlier repayments not yet in the books. Whether a
/// repayment is accepted depends on the loan's schedule only through what
/// it owes; the server judges uploads with this, from one sum per loan.
pub fn check_collection(status: LoanStatus, owed: i64, amount: i64) -> Result<(), RuleViolation> {
    if amount <= 0 {
        return Err(RuleViolation::AmountNotPositive);
    }
    if status == LoanStatus::Closed {
        return Err(RuleViolation::LoanClosed);
    }
    if amount > owed {
        return Err(RuleViolation::AboveOutstanding {
            amount,
            outstanding: owed.max(0),
        });
    }
    Ok(())
}

/// The least cash repayment taken, in đồng, unless it pays the loan off:
/// anything smaller is a slip of the keyboard (`1` typed for 1.000.000 ₫),
/// not cash a worker hands over.
pub const LEAST_CASH_REPAYMENT: i64 = 1_000;

/// How long after the officer could learn that a receipt was refused a
/// receipt of the same loan and amount may be that payment entered again
/// (the next installment of a weekly loan comes a week after the last).
pub const ENTERED_AGAIN_WITHIN_DAYS: i64 = 3;

/// When a receipt of the same loan and amount as a refused one, made at
/// `refused_at`, may be that payment entered again: in the days right
/// after it was made, or in the days after the officer could learn of the
/// refusal at `known_at` (by her phone's clock, which may run up to the
/// server's tolerance slow); not the installments she collected in
/// between. Half-open spans, the batch page's, the counter's and the
/// phone's alike.
///
/// One stamped later than its refusal could be known, beyond the clock's
/// tolerance, was stamped by a phone whose clock ran fast (refused as
/// recorded in the future): it was made at some time before it reached the
/// server, and the officer enters it again at its true time, in the days
/// before.
pub fn entered_again_spans(
    refused_at: DateTime<Utc>,
    known_at: DateTime<Utc>,
) -> [(DateTime<Utc>, DateTime<Utc>); 2] {
    let within = chrono::Duration::days(ENTERED_AGAIN_WITHIN_DAYS);
    let slack = chrono::Duration::minutes(super::time::CLOCK_TOLERANCE_MINUTES);
    let refused_at = if refused_at > known_at + slack {
        known_at - within
    } else {
        refused_at
    };
    let heard = known_at.max(refused_at);
    [
        (refused_at, refused_at + within),
        ((heard - slack).max(refused_at), heard + within),
    ]
}

/// For a refused receipt stamped in the future (see
/// [`entered_again_spans`]): its re-entry reached the server after its
/// refusal was known, at this time; not a receipt sent before with it.
pub fn entered_again_after(
    refused_at: DateTime<Utc>,
    known_at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let slack = chrono::Duration::minutes(super::time::CLOCK_TOLERANCE_MINUTES);
    (refused_at > known_at + slack).then_some(known_at)
}

/// Refuses a cash repayment too small to be one, unless it is exactly what
/// the loan still owes (`owed`, after the receipts waiting for review).
/// Checked where cash is taken (the phone, the upload, the counter), never
/// when a repayment already taken posts.
pub fn check_not_a_slip(owed: i64, amount: i64) -> Result<(), RuleViolation> {
    if amount > 0 && amount < LEAST_CASH_REPAYMENT && amount != owed {
        return Err(RuleViolation::AmountTooSmall {
            amount,
            least: LEAST_CASH_REPAYMENT,
        });
    }
    Ok(())
}

/// The most characters a record keeps in each of its texts: a visit's
/// outcome and a correction's reason are a line, a visit's notes a
/// paragraph, the name a gift's receiver signs a name.
pub const TEXT_LIMITS: &[(&str, usize)] = &[
    ("outcome", 500),
    ("notes", 2_000),
    ("reason", 500),
    ("acknowledged_name", 200),
];

/// Refuses a record's text (`field`, one of [`TEXT_LIMITS`]) longer than
/// the record keeps: checked on the phone and again on the server.
pub fn check_text_length(field: &'static str, text: &str) -> Result<(), RuleViolation> {
    let max = TEXT_LIMITS
        .iter()
        .find(|(f, _)| *f == field)
        .map_or(usize::MAX, |(_, max)| *max);
    // Counted as composed characters: Vietnamese typed as base letters and
    // combining marks ("Unicode tổ hợp") counts as many as its composed
    // form, what a person sees.
    let chars = unicode_normalization::UnicodeNormalization::nfc(text).count();
    if chars > max {
        return Err(RuleViolation::TextTooLong { field, chars, max });
    }
    Ok(())
}

fn text_label_vi(field: &str) -> &'static str {
    match field {
        "outcome" => "Kết quả",
        "notes" => "Ghi chú",
        "reason" => "Lý do",
        "acknowledged_name" => "Tên người nhận",
        _ => "Nội dung",
    }
}

/// What the gift rule looks at about a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CampaignFacts {
    pub eligibility: Eligibility,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// Gifts this officer may still hand out, after every handout already counted.
    pub remaining: i64,
    /// The officer's allocation in the campaign (0: none given).
    pub allocation: i64,
}

/// Checks a gift handout: the campaign runs on `on`, the worker is eligible,
/// has not received this campaign's gift (on any phone, as far as is known),
/// and the officer's allocation is not used up.
pub fn check_gift(
    campaign: &CampaignFacts,
    worker: &WorkerFacts,
    already_received: bool,
    on: NaiveDate,
) -> Result<(), RuleViolation> {
    if on < campaign.starts_on || on > campaign.ends_on {
        return Err(RuleViolation::CampaignNotRunning {
            on,
            starts_on: campaign.starts_on,
            ends_on: campaign.ends_on,
        });
    }
    if !campaign.eligibility.admits(worker) {
        return Err(RuleViolation::NotEligible {
            rule: campaign.eligibility,
        });
    }
    if already_received {
        return Err(RuleViolation::AlreadyReceived);
    }
    if campaign.remaining <= 0 {
        return Err(if campaign.allocation <= 0 {
            RuleViolation::NoAllocation
        } else {
            RuleViolation::AllocationUsedUp
        });
    }
    Ok(())
}

/// A device code: 4 characters, capital letters and digits (`A7K2`).
pub fn is_device_code(code: &str) -> bool {
    code.len() == 4
        && code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// A receipt number unique across every device without asking the server:
/// the device code and that device's receipt sequence, `A7K2-000123`.
pub fn receipt_number(device_code: &str, sequence: i64) -> String {
    format!("{device_code}-{sequence:06}")
}

/// The sequence of receipt number `receipt_no` when it is one of device
/// `device_code`'s (the inverse of [`receipt_number`]).
pub fn receipt_sequence(device_code: &str, receipt_no: &str) -> Option<i64> {
    let digits = receipt_no.strip_prefix(device_code)?.strip_prefix('-')?;
    if digits.len() < 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::schedule::{build_schedule, Frequency, InterestMethod, LoanTerms};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn loan() -> Vec<InstallmentState> {
        InstallmentState::from_schedule(
            &build_schedule(&LoanTerms {
                principal: 1_200_000,
                annual_rate_bp: 1200,
                method: InterestMethod::Flat,
                frequency: Frequency::Monthly,
                installments: 12,
                disbursed_on: d(2026, 1, 1),
            })
            .unwrap(),
        )
    }

    #[test]
    fn a_records_texts_have_a_length() {
        assert_eq!(check_text_length("notes", &"ă".repeat(2_000)), Ok(()));
        let long = check_text_length("notes", &"ă".repeat(2_001)).unwrap_err();
        assert_eq!((long.code(), long.field()), ("text_too_long", "notes"));
        assert_eq!(
            long.message_vi(),
            "Ghi chú dài 2001 ký tự; mỗi bản ghi giữ tối đa 2000: hãy viết ngắn lại"
        );
        assert!(check_text_length("reason", &"x".repeat(501)).is_err());
        // "ệ" typed as e + two combining marks is one character, as seen.
        let decomposed = "e\u{0323}\u{0302}".repeat(2_000);
        assert_eq!(decomposed.chars().count(), 6_000);
        assert_eq!(check_text_length("notes", &decomposed), Ok(()));
    }

    #[test]
    fn a_repayment_too_small_to_be_cash_is_a_slip_unless_it_pays_off() {
        let slip = check_not_a_slip(5_000_000, 1).unwrap_err();
        assert_eq!(slip.code(), "amount_too_small");
        assert_eq!(slip.field(), "amount");
        assert!(
            slip.message_vi().starts_with("Số tiền 1 ₫ quá nhỏ"),
            "{}",
            slip.message_vi()
        );
        assert!(check_not_a_slip(5_000_000, 999).is_err());
        assert_eq!(check_not_a_slip(5_000_000, 1_000), Ok(()));
        // The last 750 ₫ a rounded schedule leaves: taken.
        assert_eq!(check_not_a_slip(750, 750), Ok(()));
    }

    #[test]
    fn repayments_count_earlier_unbooked_ones() {
        let st = loan();
        // 1.200.000 principal + 144.000 interest
        let total = 1_344_000;
        assert_eq!(
            check_repayment(LoanStatus::Active, &st, total + 1),
            Err(RuleViolation::AboveOutstanding {
                amount: total + 1,
                outstanding: total
            })
        );
        let after = states_after(&st, &[1_000_000]).unwrap();
        let err = check_repayment(LoanStatus::Active, &after, 400_000).unwrap_err();
        assert_eq!(err.code(), "amount_above_outstanding");
        assert_eq!(err.field(), "amount");
        assert!(
            err.message_vi().contains("344.000 ₫"),
            "{}",
            err.message_vi()
        );
        let a = check_repayment(LoanStatus::Active, &after, 344_000).unwrap();
        assert_eq!(a.remaining.total(), 0);
        assert_eq!(
            check_repayment(LoanStatus::Closed, &st, 1),
            Err(RuleViolation::LoanClosed)
        );
        assert_eq!(
            check_repayment(LoanStatus::Active, &st, 0),
            Err(RuleViolation::AmountNotPositive)
        );
    }

    proptest::proptest! {
        /// The server judges an upload from the loan's owed sum less the
        /// pending collections' sum; the phone from the schedule with each
        /// earlier collection applied in turn. They must agree on every
        /// repayment, including when the earlier ones already take it all.
        #[test]
        fn owed_sum_decides_as_the_schedule_does(
            earlier in proptest::collection::vec(1i64..600_000, 0..6),
            amount in -10i64..1_500_000,
            closed in proptest::bool::ANY,
        ) {
            let status = if closed { LoanStatus::Closed } else { LoanStatus::Active };
            let st = loan();
            let by_schedule = states_after(&st, &earlier)
                .map_err(|_| ())
                .map(|after| check_repayment(status, &after, amount).map(|_| ()));
            let owed = outstanding(&st).total() - earlier.iter().sum::<i64>();
            let by_sum = check_collection(status, owed, amount);
            match by_schedule {
                Ok(decided) => proptest::prop_assert_eq!(decided, by_sum.clone()),
                // Nothing left to collect: the sum says so with 0 ₫ owed.
                Err(()) => proptest::prop_assert!(by_sum.is_err() && owed < 0),
            }
            if owed < 0 && amount > 0 && !closed {
                proptest::prop_assert_eq!(
                    by_sum,
                    Err(RuleViolation::AboveOutstanding { amount, outstanding: 0 })
                );
            }
        }
    }

    #[test]
    fn gifts_once_per_worker_within_allocation() {
        let c = CampaignFacts {
            eligibility: Eligibility::UnionMembers,
            starts_on: d(2026, 1, 1),
            ends_on: d(2026, 2, 1),
            remaining: 1,
            allocation: 5,
        };
        let member = WorkerFacts {
            union_member: true,
            ..Default::default()
        };
        let on = d(2026, 1, 15);
        assert_eq!(check_gift(&c, &member, false, on), Ok(()));
        assert_eq!(
            check_gift(&c, &member, true, on),
            Err(RuleViolation::AlreadyReceived)
        );
        let not_eligible = check_gift(&c, &WorkerFacts::default(), false, on).unwrap_err();
        assert_eq!(not_eligible.code(), "not_eligible");
        // The rule is named in both languages.
        assert!(not_eligible.message_vi().contains("Đoàn viên công đoàn"));
        assert!(not_eligible.message_en().contains("(union members)"));
        assert_eq!(
            check_gift(&CampaignFacts { remaining: 0, ..c }, &member, false, on),
            Err(RuleViolation::AllocationUsedUp)
        );
        let none = CampaignFacts {
            remaining: 0,
            allocation: 0,
            ..c
        };
        let refused = check_gift(&none, &member, false, on).unwrap_err();
        assert_eq!(refused, RuleViolation::NoAllocation);
        assert!(refused.message_vi().contains("chưa được phân bổ"));
        // People read the message; the field travels apart.
        assert_eq!(
            refused.message_en(),
            "this officer has no allocation in the campaign"
        );
        assert_eq!(refused.field(), "campaign_id");
        let over = check_gift(&c, &member, false, d(2026, 2, 2)).unwrap_err();
        assert_eq!(over.code(), "campaign_not_running");
        // With the campaign's days, to put a typed date right.
        assert_eq!(
            over.message_vi(),
            "Chương trình không diễn ra vào ngày 02/02/2026: chương trình từ 01/01/2026 đến 01/02/2026"
        );
        assert!(over
            .message_en()
            .ends_with("it runs from 01/01/2026 to 01/02/2026"));
    }

    #[test]
    fn receipt_numbers() {
        assert_eq!(receipt_number("A7K2", 123), "A7K2-000123");
        assert_eq!(receipt_number("A7K2", 1_234_567), "A7K2-1234567");
        for n in [1, 123, 1_234_567] {
            assert_eq!(
                receipt_sequence("A7K2", &receipt_number("A7K2", n)),
                Some(n)
            );
        }
        for other in [
            "B7K2-000123",
            "A7K2-00012",
            "A7K2-00012x",
            "A7K2000123",
            "A7K2-",
        ] {
            assert_eq!(receipt_sequence("A7K2", other), None, "{other}");
        }
        assert!(is_device_code("A7K2"));
        for bad in ["a7k2", "A7K", "A7K2X", "A7-2", ""] {
            assert!(!is_device_code(bad), "{bad}");
        }
    }
}
