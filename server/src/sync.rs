//! Sync with the phones: the portfolio snapshot and change pages an
//! officer's phone downloads, built from the store's rows as the shared wire
//! types.

use std::collections::HashMap;

use chrono::Utc;
use sotay_core::domain::gifts::{CampaignKind, Eligibility};
use sotay_core::domain::money::Dong;
use sotay_core::domain::rules::LoanStatus;
use sotay_core::domain::schedule::{
    installments_after, outstanding, Frequency, InstallmentState, InterestMethod, LoanTerms,
};
use sotay_core::wire::{self, ChangePage, PortfolioSnapshot, RecordState};

use crate::db::sync_rows::{self as rows, Portfolio};
use crate::error::AppError;

/// Parts shared by snapshots and pages.
struct Parts {
    officer: Option<wire::OfficerIdentity>,
    houses: Vec<wire::BoardingHouse>,
    workers: Vec<wire::Worker>,
    loans: Vec<wire::Loan>,
    campaigns: Vec<wire::Campaign>,
    statuses: Vec<wire::RecordStatus>,
    counts: Vec<wire::CashCount>,
}

fn non_empty(s: String) -> Option<String> {
    if s.is_empty() {
        None
    } else {
        Some(s)
    }
}

fn parts(p: Portfolio) -> Result<Parts, AppError> {
    let mut books: HashMap<i64, Vec<InstallmentState>> = HashMap::new();
    for i in p.installments {
        books.entry(i.loan_id).or_default().push(InstallmentState {
            number: u32::try_from(i.number).map_err(AppError::internal)?,
            due_on: i.due_on,
            principal_due: i.principal_due,
            interest_due: i.interest_due,
            principal_paid: i.principal_paid,
            interest_paid: i.interest_paid,
        });
    }
    let mut recipients: HashMap<i64, Vec<uuid::Uuid>> = HashMap::new();
    for r in p.recipients {
        recipients
            .entry(r.campaign_id)
            .or_default()
            .push(r.worker_uid);
    }
    let mut waiting: HashMap<i64, Vec<wire::WaitingReceipt>> = HashMap::new();
    for w in p.waiting {
        waiting
            .entry(w.loan_id)
            .or_default()
            .push(wire::WaitingReceipt {
                client_id: w.client_id,
                amount: Dong(w.amount),
                receipt_no: w.receipt_no,
            });
    }
    let loans = p
        .loans
        .into_iter()
        .map(|l| {
            let book = books.remove(&l.id).unwrap_or_default();
            let waiting = waiting.remove(&l.id).unwrap_or_default();
            loan(l, book).map(|l| wire::Loan {
                waiting_elsewhere: waiting,
                ..l
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let campaigns = p
        .campaigns
        .into_iter()
        .map(|k| {
            Ok(wire::Campaign {
                id: k.uid,
                name: k.name,
                kind: CampaignKind::parse(&k.kind)
                    .ok_or_else(|| AppError::internal("campaign kind"))?,
                eligibility: Eligibility::parse(&k.eligibility)
                    .ok_or_else(|| AppError::internal("eligibility"))?,
                gift_value: Dong(k.gift_value),
                starts_on: k.starts_on,
                ends_on: k.ends_on,
                officer_allocation: k.officer_quota,
                officer_remaining: (k.officer_quota - k.handed_out).max(0),
                recipients: recipients.remove(&k.id).unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(Parts {
        officer: p.officer.map(|o| wire::OfficerIdentity {
            officer_id: o.uid,
            code: o.code,
            full_name: o.full_name,
            branch_id: o.branch_uid,
            branch_name: o.branch_name,
            cash_short: Some(Dong(o.cash_short)),
            short_written_off: Some(Dong(o.short_written_off)),
            over_written_off: Some(Dong(o.over_written_off)),
        }),
        houses: p
            .houses
            .into_iter()
            .map(|h| wire::BoardingHouse {
                id: h.uid,
                name: h.name,
                address: h.address,
                zone: non_empty(h.industrial_zone),
                route_order: h.id,
                landlord_name: non_empty(h.landlord_name),
                landlord_phone: h.landlord_phone,
            })
            .collect(),
        workers: p
            .workers
            .into_iter()
            .map(|w| wire::Worker {
                id: w.uid,
                full_name: w.full_name,
                phone: w.phone,
                cccd: Some(w.cccd),
                boarding_house_id: w.house_uid,
                room: non_empty(w.room),
                factory: non_empty(w.employer),
                union_member: w.union_member,
                hardship: w.hardship,
                code: Some(w.code),
            })
            .collect(),
        loans,
        campaigns,
        statuses: p.records.into_iter().map(record_status).collect(),
        counts: p
            .counts
            .into_iter()
            .map(|k| wire::CashCount {
                batch_id: k.batch_id,
                decided_at: k.decided_at,
                cash_expected: Dong(k.cash_expected),
                cash_received: Dong(k.cash_received),
            })
            .collect(),
    })
}

/// Where a record stands for the officer: waiting, approved, reversed, or
/// rejected (at upload, excluded from an approval, or with its batch).
fn record_status(r: crate::db::sync_rows::RecordStatus) -> wire::RecordStatus {
    // A repayment's loan and amount reach the officer's other phones, to
    // count its cash while it waits and, refused, until the branch settles
    // it (one refused at upload says them in its body only).
    let (repaid_loan, repaid_amount) = match (r.repaid_loan, r.repaid_amount, &r.refused_body) {
        (_, None, Some(body)) => {
            match serde_json::from_str::<wire::UploadRecord>(body).map(|u| u.body) {
                Ok(wire::RecordBody::Repayment(p)) => (Some(p.loan_id), Some(p.amount.get())),
                _ => (None, None),
            }
        }
        (loan, amount, _) => (loan, amount),
    };
    let base = wire::RecordStatus {
        client_id: r.client_id,
        state: RecordState::Accepted,
        code: None,
        message_vi: None,
        message_en: None,
        decided_at: r.received_at,
        settled_note: r.settled_note.clone(),
        settled_at: r.settled_at,
        settled_handed_out: r.settled_handed_out.map(|h| h == 1),
        loan_id: repaid_loan,
        amount: repaid_amount.map(sotay_core::domain::money::Dong),
    };
    let reason = r.decision_reason.clone().unwrap_or_default();
    let decided_at = r.decided_at.unwrap_or(r.received_at);
    match (r.reversed_at, r.decision.as_deref(), r.status.as_str()) {
        (Some(at), _, _) => wire::RecordStatus {
            state: RecordState::Reversed,
            code: Some("reversed".into()),
            message_vi: Some(match &r.reversal_reason {
                Some(why) => format!("Bút toán của bản ghi đã được đảo tại chi nhánh: {why}"),
                None => "Bút toán của bản ghi đã được đảo".into(),
            }),
            message_en: Some(match &r.reversal_reason {
                Some(why) => format!("the record's posting was reversed at the branch: {why}"),
                None => "the record's posting was reversed".into(),
            }),
            decided_at: at,
            ..base
        },
        // A reversal request the officer kept the cash of, out of what she
        // handed over with its batch: said so, for the phone's cash figures.
        (None, Some("approved"), _) if reason == crate::db::APPROVED_NETTED => wire::RecordStatus {
            state: RecordState::Approved,
            code: Some("netted".into()),
            message_vi: Some(
                "Được duyệt: tiền của phiếu được trừ vào tiền mặt nộp cùng lô — bạn giữ lại để trả người vay, \
                 hoặc nó đã nằm trong phiếu ghi lại số đúng (lô thu ít hơn số đó thì chi nhánh nợ lại bạn phần chênh: \
                 xem tổng kết ngày)"
                    .into(),
            ),
            message_en: Some(
                "approved: the receipt's cash came off the cash handed over with the batch — kept by you to give back \
                 to the borrower, or it is in the receipt entered again with the right amount (where the batch collected \
                 less, the branch owes you the difference: see the day summary)"
                    .into(),
            ),
            decided_at,
            ..base
        },
        (None, Some("approved"), _) => wire::RecordStatus {
            state: RecordState::Approved,
            decided_at,
            ..base
        },
        (None, Some("excluded"), _) => {
            let (vi, en) = crate::db::system_exclusion(&reason).unwrap_or_else(|| {
                (
                    format!("Giám sát loại khỏi lô khi duyệt: {reason}"),
                    format!("excluded by the supervisor: {reason}"),
                )
            });
            // A record kept in quarantine stays one on the phone (a void
            // there still takes its record back).
            let code = if reason == crate::db::EXCLUDED_QUARANTINED {
                "device_revoked"
            } else {
                "excluded_by_supervisor"
            };
            wire::RecordStatus {
                state: RecordState::Rejected,
                code: Some(code.into()),
                message_vi: Some(vi),
                message_en: Some(en),
                decided_at,
                ..base
            }
        }
        (None, Some(_), _) => wire::RecordStatus {
            state: RecordState::Rejected,
            code: Some("batch_rejected".into()),
            message_vi: Some(format!("Giám sát từ chối cả lô: {reason}")),
            message_en: Some(format!("the supervisor rejected the batch: {reason}")),
            decided_at,
            ..base
        },
        (None, None, "accepted") => base,
        (None, None, _) => wire::RecordStatus {
            state: RecordState::Rejected,
            code: r.code,
            message_vi: r.message_vi,
            message_en: r.message_en,
            ..base
        },
    }
}

/// A loan as its terms and what is paid on it, from which the phone rebuilds
/// its installments. They equal the stored ones as long as every repayment
/// and reversal is applied oldest installment first, interest before
/// principal (see [`installments_after`]); a loan whose stored installments
/// differ anyway is sent with them, line by line, so that no phone holds
/// other books than the server.
fn loan(l: rows::Loan, book: Vec<InstallmentState>) -> Result<wire::Loan, AppError> {
    let terms = LoanTerms {
        principal: l.principal,
        annual_rate_bp: l.annual_rate_bp,
        method: InterestMethod::parse(&l.method)
            .ok_or_else(|| AppError::internal("loan method"))?,
        frequency: Frequency::parse(&l.frequency)
            .ok_or_else(|| AppError::internal("loan frequency"))?,
        installments: u32::try_from(l.installments).map_err(AppError::internal)?,
        disbursed_on: l.disbursed_on,
    };
    let paid: i64 = book
        .iter()
        .map(|s| s.principal_paid + s.interest_paid)
        .sum();
    let balance = outstanding(&book).total();
    let installments = if installments_after(&terms, paid).as_ref() == Ok(&book) {
        Vec::new()
    } else {
        tracing::warn!(
            loan = %l.code,
            "the loan's installments are not what its terms and total paid rebuild; sent line by line"
        );
        book.iter()
            .map(|s| wire::InstallmentLine {
                number: s.number,
                due_on: s.due_on,
                principal_due: Dong(s.principal_due),
                interest_due: Dong(s.interest_due),
                principal_paid: Dong(s.principal_paid),
                interest_paid: Dong(s.interest_paid),
            })
            .collect()
    };
    Ok(wire::Loan {
        id: l.uid,
        worker_id: l.worker_uid,
        contract_no: l.code,
        product_name: l.product_name,
        principal: Dong(terms.principal),
        annual_rate_bp: terms.annual_rate_bp,
        method: terms.method,
        frequency: terms.frequency,
        installment_count: terms.installments,
        disbursed_on: terms.disbursed_on,
        status: if l.status == "closed" {
            LoanStatus::Closed
        } else {
            LoanStatus::Active
        },
        paid: Dong(paid),
        installments,
        balance: Dong(balance),
        waiting_elsewhere: Vec::new(),
    })
}

pub fn snapshot(p: Portfolio) -> Result<PortfolioSnapshot, AppError> {
    let next = format!("{}.{}", p.epoch, p.next);
    let parts = parts(p)?;
    Ok(PortfolioSnapshot {
        officer: parts
            .officer
            .ok_or_else(|| AppError::internal("officer without a branch"))?,
        as_of: Utc::now(),
        boarding_houses: parts.houses,
        workers: parts.workers,
        loans: parts.loans,
        campaigns: parts.campaigns,
        record_statuses: parts.statuses,
        cash_counts: parts.counts,
        next,
    })
}

pub fn page(p: Portfolio) -> Result<ChangePage, AppError> {
    let next = format!("{}.{}", p.epoch, p.next);
    let has_more = p.has_more;
    let removed = p.removed_workers.clone();
    let removed_loans = p.removed_loans.clone();
    let parts = parts(p)?;
    Ok(ChangePage {
        officer: parts.officer,
        boarding_houses: parts.houses,
        workers: parts.workers,
        loans: parts.loans,
        campaigns: parts.campaigns,
        record_statuses: parts.statuses,
        cash_counts: parts.counts,
        removed_workers: removed,
        removed_loans,
        removed_campaigns: Vec::new(),
        next,
        has_more,
        server_time: Some(Utc::now()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A quarantined record the supervisor's approval left out reaches the
    /// phone still as held (its void there still counts), another excluded
    /// one as excluded.
    #[test]
    fn an_approval_leaves_a_quarantined_record_held_on_the_phone() {
        let status = |reason: &str| {
            record_status(crate::db::sync_rows::RecordStatus {
                client_id: uuid::Uuid::now_v7(),
                status: "quarantined".into(),
                code: Some("device_revoked".into()),
                message_vi: None,
                message_en: None,
                received_at: chrono::Utc::now(),
                decision: Some("excluded".into()),
                decision_reason: Some(reason.into()),
                decided_at: Some(chrono::Utc::now()),
                reversed_at: None,
                reversal_reason: None,
                loan_id: None,
                settled_note: None,
                settled_at: None,
                settled_handed_out: None,
                repaid_loan: None,
                repaid_amount: None,
                refused_body: None,
            })
        };
        let held = status(crate::db::EXCLUDED_QUARANTINED);
        assert_eq!(held.state, RecordState::Rejected);
        assert_eq!(held.code.as_deref(), Some("device_revoked"));
        let left_out = status("Thiếu chữ ký");
        assert_eq!(left_out.code.as_deref(), Some("excluded_by_supervisor"));
    }
}
