//! Loan products, installment schedules and how a repayment is applied.
//!
//! Everything is integer đồng and integer basis points; the same inputs give
//! the same schedule on every phone and on the server.

use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// How interest is charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InterestMethod {
    /// Interest on the original principal every period.
    Flat,
    /// Interest on the principal still outstanding; equal principal parts.
    Declining,
}

impl InterestMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            InterestMethod::Flat => "flat",
            InterestMethod::Declining => "declining",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "flat" | "co_dinh" => Some(InterestMethod::Flat),
            "declining" | "declining_balance" | "du_no_giam_dan" => Some(InterestMethod::Declining),
            _ => None,
        }
    }
}

/// How often an installment falls due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    Weekly,
    Biweekly,
    Monthly,
}

impl Frequency {
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Weekly => "weekly",
            Frequency::Biweekly => "biweekly",
            Frequency::Monthly => "monthly",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "weekly" | "tuan" => Some(Frequency::Weekly),
            "biweekly" | "2tuan" => Some(Frequency::Biweekly),
            "monthly" | "thang" => Some(Frequency::Monthly),
            _ => None,
        }
    }
    /// Installment periods in a year.
    pub fn periods_per_year(self) -> i64 {
        match self {
            Frequency::Weekly => 52,
            Frequency::Biweekly => 26,
            Frequency::Monthly => 12,
        }
    }
    /// The due date of installment `number` (1-based) of a loan disbursed on `start`.
    pub fn due_date(self, start: NaiveDate, number: u32) -> Option<NaiveDate> {
        match self {
            Frequency::Weekly => start.checked_add_days(Days::new(7 * u64::from(number))),
            Frequency::Biweekly => start.checked_add_days(Days::new(14 * u64::from(number))),
            Frequency::Monthly => start.checked_add_months(Months::new(number)),
        }
    }
}

/// The terms a schedule is computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoanTerms {
    /// Whole đồng, > 0.
    pub principal: i64,
    /// Yearly interest rate in basis points (1% = 100). 0 for interest-free loans.
    pub annual_rate_bp: i64,
    pub method: InterestMethod,
    pub frequency: Frequency,
    /// Number of installments, ≥ 1.
    pub installments: u32,
    pub disbursed_on: NaiveDate,
}

/// One scheduled installment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installment {
    /// 1-based.
    pub number: u32,
    pub due_on: NaiveDate,
    pub principal: i64,
    pub interest: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScheduleError {
    #[error("principal must be greater than 0")]
    Principal,
    #[error("interest rate must be between 0 and 100% a year")]
    Rate,
    #[error("the number of installments must be between 1 and 520")]
    Installments,
    #[error("the schedule runs past the calendar")]
    Calendar,
}

/// Rounds `num / den` half away from zero, for non-negative inputs.
fn div_round(num: i128, den: i128) -> i128 {
    (num * 2 + den) / (den * 2)
}

/// Computes the installment schedule of a loan.
///
/// Principal is split into equal whole-đồng parts with the remainder on the
/// last installment. Flat interest: the total `principal × rate × n / periods`
/// is rounded once and split the same way. Declining balance: each period's
/// interest is the outstanding principal × rate / periods, rounded. The parts
/// always sum exactly to the principal and the total interest.
pub fn build_schedule(terms: &LoanTerms) -> Result<Vec<Installment>, ScheduleError> {
    if terms.principal <= 0 {
        return Err(ScheduleError::Principal);
    }
    if !(0..=10_000).contains(&terms.annual_rate_bp) {
        return Err(ScheduleError::Rate);
    }
    if !(1..=520).contains(&terms.installments) {
        return Err(ScheduleError::Installments);
    }
    let n = i128::from(terms.installments);
    let principal = i128::from(terms.principal);
    let rate = i128::from(terms.annual_rate_bp);
    let per_year = i128::from(terms.frequency.periods_per_year());
    let den = 10_000 * per_year;

    let principal_part = principal / n;
    let flat_total = div_round(principal * rate * n, den);
    let flat_part = flat_total / n;

    let mut out = Vec::with_capacity(terms.installments as usize);
    let mut outstanding = principal;
    for k in 1..=terms.installments {
        let last = i128::from(k) == n;
        let p = if last { outstanding } else { principal_part };
        let i = match terms.method {
            InterestMethod::Flat if last => flat_total - flat_part * (n - 1),
            InterestMethod::Flat => flat_part,
            InterestMethod::Declining => div_round(outstanding * rate, den),
        };
        outstanding -= p;
        out.push(Installment {
            number: k,
            due_on: terms
                .frequency
                .due_date(terms.disbursed_on, k)
                .ok_or(ScheduleError::Calendar)?,
            principal: p as i64,
            interest: i as i64,
        });
    }
    Ok(out)
}

/// An installment with what has been paid on it so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallmentState {
    pub number: u32,
    pub due_on: NaiveDate,
    pub principal_due: i64,
    pub interest_due: i64,
    pub principal_paid: i64,
    pub interest_paid: i64,
}

impl InstallmentState {
    pub fn from_schedule(schedule: &[Installment]) -> Vec<InstallmentState> {
        schedule
            .iter()
            .map(|i| InstallmentState {
                number: i.number,
                due_on: i.due_on,
                principal_due: i.principal,
                interest_due: i.interest,
                principal_paid: 0,
                interest_paid: 0,
            })
            .collect()
    }
    pub fn principal_left(&self) -> i64 {
        self.principal_due - self.principal_paid
    }
    pub fn interest_left(&self) -> i64 {
        self.interest_due - self.interest_paid
    }
    pub fn is_paid(&self) -> bool {
        self.principal_left() == 0 && self.interest_left() == 0
    }
}

/// What is left to pay on a loan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Outstanding {
    pub principal: i64,
    pub interest: i64,
}

impl Outstanding {
    pub fn total(self) -> i64 {
        self.principal + self.interest
    }
}

pub fn outstanding(states: &[InstallmentState]) -> Outstanding {
    states
        .iter()
        .fold(Outstanding::default(), |acc, s| Outstanding {
            principal: acc.principal + s.principal_left(),
            interest: acc.interest + s.interest_left(),
        })
}

/// Overdue on `today`: what was due before `today` and is still unpaid.
pub fn overdue(states: &[InstallmentState], today: NaiveDate) -> Outstanding {
    outstanding(
        &states
            .iter()
            .filter(|s| s.due_on < today)
            .cloned()
            .collect::<Vec<_>>(),
    )
}

/// Due on or before `today` and still unpaid.
pub fn due_by(states: &[InstallmentState], today: NaiveDate) -> Outstanding {
    outstanding(
        &states
            .iter()
            .filter(|s| s.due_on <= today)
            .cloned()
            .collect::<Vec<_>>(),
    )
}

/// One part of a repayment applied to one installment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationLine {
    pub installment: u32,
    pub interest: i64,
    pub principal: i64,
}

/// How a repayment is applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub lines: Vec<AllocationLine>,
    pub interest: i64,
    pub principal: i64,
    /// Outstanding after the repayment.
    pub remaining: Outstanding,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AllocationError {
    #[error("the amount must be greater than 0")]
    NotPositive,
    #[error("the amount {amount} is above the outstanding balance {outstanding}")]
    AboveOutstanding { amount: i64, outstanding: i64 },
}

/// Applies `amount` to the oldest installment first, interest before
/// principal. Refuses an amount above what is outstanding: an over-payment
/// can never be applied.
pub fn allocate(states: &[InstallmentState], amount: i64) -> Result<Allocation, AllocationError> {
    if amount <= 0 {
        return Err(AllocationError::NotPositive);
    }
    let before = outstanding(states);
    if amount > before.total() {
        return Err(AllocationError::AboveOutstanding {
            amount,
            outstanding: before.total(),
        });
    }
    let mut ordered: Vec<&InstallmentState> = states.iter().collect();
    ordered.sort_by_key(|s| (s.due_on, s.number));
    let mut left = amount;
    let mut lines = Vec::new();
    for s in ordered {
        if left == 0 {
            break;
        }
        let interest = left.min(s.interest_left());
        left -= interest;
        let principal = left.min(s.principal_left());
        left -= principal;
        if interest > 0 || principal > 0 {
            lines.push(AllocationLine {
                installment: s.number,
                interest,
                principal,
            });
        }
    }
    let interest: i64 = lines.iter().map(|l| l.interest).sum();
    let principal: i64 = lines.iter().map(|l| l.principal).sum();
    Ok(Allocation {
        lines,
        interest,
        principal,
        remaining: Outstanding {
            principal: before.principal - principal,
            interest: before.interest - interest,
        },
    })
}

/// Applies an allocation to installment states (positive) or takes it back
/// (a reversal, `sign = -1`).
pub fn apply_allocation(states: &mut [InstallmentState], allocation: &Allocation, sign: i64) {
    for line in &allocation.lines {
        if let Some(s) = states.iter_mut().find(|s| s.number == line.installment) {
            s.interest_paid += sign * line.interest;
            s.principal_paid += sign * line.principal;
        }
    }
}

/// Why the installments of a loan cannot be rebuilt from its terms and the
/// amount paid on it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RebuildError {
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    #[error("the amount paid must not be negative")]
    NegativePaid,
    #[error("the amount paid {paid} is above the loan's total due {due}")]
    PaidAboveDue { paid: i64, due: i64 },
}

/// The installments of a loan on which `paid` đồng have been repaid in all:
/// its schedule with `paid` allocated as one repayment (oldest installment
/// first, interest before principal).
///
/// Allocation is additive: allocating `a + b` at once leaves the same
/// installments as allocating `a`, then `b` (both tested below). So these are
/// the installments after any sequence of repayments summing to `paid`, each
/// applied with [`allocate`] — which is how an opening `paid_to_date` and
/// every repayment are applied — and the total paid is all it takes to
/// rebuild a loan's books exactly; splitting it into principal and interest
/// adds nothing.
pub fn installments_after(
    terms: &LoanTerms,
    paid: i64,
) -> Result<Vec<InstallmentState>, RebuildError> {
    let mut states = InstallmentState::from_schedule(&build_schedule(terms)?);
    if paid < 0 {
        return Err(RebuildError::NegativePaid);
    }
    if paid > 0 {
        let a = allocate(&states, paid).map_err(|_| RebuildError::PaidAboveDue {
            paid,
            due: outstanding(&states).total(),
        })?;
        apply_allocation(&mut states, &a, 1);
    }
    Ok(states)
}

/// Installment states with `total` paid from nothing: oldest installment
/// first, interest before principal. Allocation is additive, so this is
/// the state of any sequence of postings that add up to `total`.
pub fn states_with_paid(states: &[InstallmentState], total: i64) -> Vec<InstallmentState> {
    let mut fresh: Vec<InstallmentState> = states
        .iter()
        .map(|s| InstallmentState {
            principal_paid: 0,
            interest_paid: 0,
            ..s.clone()
        })
        .collect();
    if total > 0 {
        if let Ok(a) = allocate(&fresh, total) {
            apply_allocation(&mut fresh, &a, 1);
        }
    }
    fresh
}

/// Total paid (principal and interest) on a loan's installments.
pub fn paid(states: &[InstallmentState]) -> i64 {
    states
        .iter()
        .map(|s| s.principal_paid + s.interest_paid)
        .sum()
}

/// What taking `amount` back out of a loan's payments does: the loan is
/// restored to the state it would have without that amount, and the
/// principal and interest given back are the exact difference.
pub struct Unwind {
    pub states: Vec<InstallmentState>,
    pub principal: i64,
    pub interest: i64,
}

pub fn unwind(states: &[InstallmentState], amount: i64) -> Option<Unwind> {
    let before = paid(states);
    if amount <= 0 || amount > before {
        return None;
    }
    let after = states_with_paid(states, before - amount);
    let principal = states.iter().map(|s| s.principal_paid).sum::<i64>()
        - after.iter().map(|s| s.principal_paid).sum::<i64>();
    let interest = amount - principal;
    Some(Unwind {
        states: after,
        principal,
        interest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn terms(principal: i64, bp: i64, method: InterestMethod, f: Frequency, n: u32) -> LoanTerms {
        LoanTerms {
            principal,
            annual_rate_bp: bp,
            method,
            frequency: f,
            installments: n,
            disbursed_on: d(2026, 1, 31),
        }
    }

    #[test]
    fn flat_monthly_schedule() {
        // 10.000.000 ₫ at 12%/year flat over 12 months: 100.000 ₫ interest a month.
        let s = build_schedule(&terms(
            10_000_000,
            1200,
            InterestMethod::Flat,
            Frequency::Monthly,
            12,
        ))
        .unwrap();
        assert_eq!(s.len(), 12);
        assert_eq!(s[0].principal, 833_333);
        assert_eq!(s[11].principal, 10_000_000 - 833_333 * 11);
        assert!(s.iter().all(|i| i.interest == 100_000));
        assert_eq!(s[0].due_on, d(2026, 2, 28), "month ends clamp");
        assert_eq!(s[1].due_on, d(2026, 3, 31));
    }

    #[test]
    fn declining_weekly_schedule() {
        let s = build_schedule(&terms(
            5_200_000,
            520,
            InterestMethod::Declining,
            Frequency::Weekly,
            26,
        ))
        .unwrap();
        assert_eq!(s[0].principal, 200_000);
        // 5.200.000 × 5.2% / 52 = 5.200
        assert_eq!(s[0].interest, 5_200);
        assert_eq!(s[1].interest, 5_000);
        assert_eq!(s[25].interest, 200);
        assert_eq!(s[0].due_on, d(2026, 2, 7));
    }

    #[test]
    fn interest_free() {
        let s = build_schedule(&terms(
            3_000_000,
            0,
            InterestMethod::Flat,
            Frequency::Biweekly,
            7,
        ))
        .unwrap();
        assert!(s.iter().all(|i| i.interest == 0));
        assert_eq!(s.iter().map(|i| i.principal).sum::<i64>(), 3_000_000);
        assert_eq!(s[6].principal, 3_000_000 - 428_571 * 6);
    }

    #[test]
    fn refuses_bad_terms() {
        assert_eq!(
            build_schedule(&terms(0, 0, InterestMethod::Flat, Frequency::Weekly, 4)),
            Err(ScheduleError::Principal)
        );
        assert_eq!(
            build_schedule(&terms(
                1,
                10_001,
                InterestMethod::Flat,
                Frequency::Weekly,
                4
            )),
            Err(ScheduleError::Rate)
        );
        assert_eq!(
            build_schedule(&terms(1, 0, InterestMethod::Flat, Frequency::Weekly, 0)),
            Err(ScheduleError::Installments)
        );
    }

    #[test]
    fn allocation_pays_interest_first_oldest_first() {
        let s = build_schedule(&terms(
            10_000_000,
            1200,
            InterestMethod::Flat,
            Frequency::Monthly,
            12,
        ))
        .unwrap();
        let mut st = InstallmentState::from_schedule(&s);
        let a = allocate(&st, 150_000).unwrap();
        assert_eq!(
            a.lines,
            vec![AllocationLine {
                installment: 1,
                interest: 100_000,
                principal: 50_000
            }]
        );
        apply_allocation(&mut st, &a, 1);
        let b = allocate(&st, 1_000_000).unwrap();
        assert_eq!(
            b.lines[0],
            AllocationLine {
                installment: 1,
                interest: 0,
                principal: 783_333
            }
        );
        assert_eq!(
            b.lines[1],
            AllocationLine {
                installment: 2,
                interest: 100_000,
                principal: 116_667
            }
        );
        let total = outstanding(&st).total();
        assert_eq!(
            allocate(&st, total + 1),
            Err(AllocationError::AboveOutstanding {
                amount: total + 1,
                outstanding: total
            })
        );
        assert_eq!(allocate(&st, 0), Err(AllocationError::NotPositive));
        apply_allocation(&mut st, &a, -1);
        assert_eq!(st, InstallmentState::from_schedule(&s));
    }

    fn any_terms() -> impl Strategy<Value = LoanTerms> {
        (
            1i64..=500_000_000,
            0i64..=3_600,
            prop_oneof![Just(InterestMethod::Flat), Just(InterestMethod::Declining)],
            prop_oneof![
                Just(Frequency::Weekly),
                Just(Frequency::Biweekly),
                Just(Frequency::Monthly)
            ],
            1u32..=104,
        )
            .prop_map(|(p, r, m, f, n)| terms(p, r, m, f, n))
    }

    proptest! {
        #[test]
        fn schedules_sum_exactly(t in any_terms()) {
            let s = build_schedule(&t).unwrap();
            prop_assert_eq!(s.len() as u32, t.installments);
            prop_assert_eq!(s.iter().map(|i| i.principal).sum::<i64>(), t.principal);
            prop_assert!(s.iter().all(|i| i.principal >= 0 && i.interest >= 0));
            prop_assert!(s.windows(2).all(|w| w[0].due_on < w[1].due_on));
            if t.method == InterestMethod::Flat {
                let n = i128::from(t.installments);
                let expected = div_round(i128::from(t.principal) * i128::from(t.annual_rate_bp) * n,
                    10_000 * i128::from(t.frequency.periods_per_year()));
                prop_assert_eq!(i128::from(s.iter().map(|i| i.interest).sum::<i64>()), expected);
            }
            prop_assert_eq!(build_schedule(&t).unwrap(), s);
        }

        #[test]
        fn allocations_never_overpay(t in any_terms(), payments in proptest::collection::vec(1i64..5_000_000, 1..20)) {
            let s = build_schedule(&t).unwrap();
            let mut st = InstallmentState::from_schedule(&s);
            let start = outstanding(&st).total();
            let mut paid = 0;
            for p in payments {
                match allocate(&st, p) {
                    Ok(a) => {
                        prop_assert_eq!(a.interest + a.principal, p);
                        apply_allocation(&mut st, &a, 1);
                        paid += p;
                        prop_assert_eq!(outstanding(&st), a.remaining);
                    }
                    Err(AllocationError::AboveOutstanding { .. }) => prop_assert!(p > start - paid),
                    Err(e) => prop_assert!(false, "{e}"),
                }
                prop_assert!(st.iter().all(|s| s.principal_left() >= 0 && s.interest_left() >= 0));
            }
            prop_assert_eq!(outstanding(&st).total(), start - paid);
        }

        #[test]
        fn allocation_is_additive(t in any_terms(), a in 1i64..50_000_000, b in 1i64..50_000_000) {
            let s = InstallmentState::from_schedule(&build_schedule(&t).unwrap());
            let (Ok(first), Ok(both)) = (allocate(&s, a), allocate(&s, a + b)) else {
                // a + b is above what is owed: nothing to compare.
                return Ok(());
            };
            let mut once = s.clone();
            apply_allocation(&mut once, &both, 1);
            let mut twice = s.clone();
            apply_allocation(&mut twice, &first, 1);
            let second = allocate(&twice, b).unwrap();
            apply_allocation(&mut twice, &second, 1);
            prop_assert_eq!(&once, &twice);
            prop_assert_eq!(both.interest, first.interest + second.interest);
            prop_assert_eq!(both.principal, first.principal + second.principal);
        }

        #[test]
        fn any_sequence_of_repayments_is_rebuilt_from_its_total(
            t in any_terms(),
            payments in proptest::collection::vec(1i64..5_000_000, 0..30),
        ) {
            let mut st = InstallmentState::from_schedule(&build_schedule(&t).unwrap());
            let mut paid = 0;
            for p in payments {
                if let Ok(a) = allocate(&st, p) {
                    apply_allocation(&mut st, &a, 1);
                    paid += p;
                }
            }
            prop_assert_eq!(installments_after(&t, paid).unwrap(), st);
        }
    }

    #[test]
    fn rebuilds_from_terms_and_paid() {
        let t = terms(
            1_200_000,
            1200,
            InterestMethod::Flat,
            Frequency::Monthly,
            12,
        );
        let s = installments_after(&t, 12_000 + 100_000 + 12_000 + 50_000).unwrap();
        let paid: Vec<(i64, i64)> = s
            .iter()
            .map(|i| (i.interest_paid, i.principal_paid))
            .collect();
        assert_eq!(&paid[..3], [(12_000, 100_000), (12_000, 50_000), (0, 0)]);
        assert_eq!(
            installments_after(&t, 0).unwrap(),
            InstallmentState::from_schedule(&build_schedule(&t).unwrap())
        );
        assert!(installments_after(&t, 1_344_000)
            .unwrap()
            .iter()
            .all(InstallmentState::is_paid));
        assert_eq!(
            installments_after(&t, 1_344_001),
            Err(RebuildError::PaidAboveDue {
                paid: 1_344_001,
                due: 1_344_000
            })
        );
        assert_eq!(installments_after(&t, -1), Err(RebuildError::NegativePaid));
        assert_eq!(
            installments_after(
                &LoanTerms {
                    installments: 0,
                    ..t
                },
                0
            ),
            Err(RebuildError::Schedule(ScheduleError::Installments))
        );
    }
}
