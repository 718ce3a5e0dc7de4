//! Rows as the reports' SQL returns them (`server/src/db/reports.rs`), and
//! the per-posting summary delta the posting code writes.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::ledger::{Account, EntryKind, Line};

/// What one journal entry adds to its day's summary row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DailyDelta {
    pub principal_net: i64,
    pub interest_net: i64,
    pub reversed: i64,
    pub cash_expected: i64,
    pub cash_received: i64,
    pub shortage: i64,
    pub counter_cash: i64,
    pub counter_transfer: i64,
    pub repayments: i64,
    pub reversals: i64,
    pub batches: i64,
}

impl DailyDelta {
    /// The summary of one entry of `kind` with `lines`: collections are
    /// credits minus debits to principal and interest; settlements give the
    /// cash expected (credit to cash in hand), counted (debit to the vault)
    /// and the shortage (debit minus credit to over/short).
    pub fn of_entry(kind: EntryKind, lines: &[Line]) -> DailyDelta {
        let mut d = DailyDelta::default();
        // What was collected (or reversed) on loans; a loan paid out or
        // brought in lends, it collects nothing.
        let collects = !matches!(kind, EntryKind::Disbursement | EntryKind::LoanOpening);
        for l in lines {
            match l.account {
                Account::LoanPrincipal if collects => d.principal_net += l.credit - l.debit,
                Account::InterestIncome => d.interest_net += l.credit - l.debit,
                _ => {}
            }
            if matches!(l.account, Account::LoanPrincipal | Account::InterestIncome)
                && kind == EntryKind::Reversal
            {
                d.reversed += l.debit;
            }
            match (kind, l.account) {
                (EntryKind::Settlement, Account::CashInHand) => {
                    d.cash_expected += l.credit - l.debit
                }
                (EntryKind::Settlement, Account::Vault) => d.cash_received += l.debit - l.credit,
                (EntryKind::Settlement, Account::CashOverShort) => d.shortage += l.debit - l.credit,
                (EntryKind::CounterRepayment, Account::Vault) => {
                    d.counter_cash += l.debit - l.credit
                }
                (EntryKind::CounterRepayment, Account::Bank) => {
                    d.counter_transfer += l.debit - l.credit
                }
                _ => {}
            }
        }
        match kind {
            EntryKind::Repayment | EntryKind::CounterRepayment => d.repayments = 1,
            EntryKind::Reversal if d.reversed != 0 => d.reversals = 1,
            EntryKind::Settlement => d.batches = 1,
            _ => {}
        }
        d
    }

    pub fn add(&mut self, o: &DailyDelta) {
        self.principal_net += o.principal_net;
        self.interest_net += o.interest_net;
        self.reversed += o.reversed;
        self.cash_expected += o.cash_expected;
        self.cash_received += o.cash_received;
        self.shortage += o.shortage;
        self.counter_cash += o.counter_cash;
        self.counter_transfer += o.counter_transfer;
        self.repayments += o.repayments;
        self.reversals += o.reversals;
        self.batches += o.batches;
    }

    pub fn is_zero(&self) -> bool {
        *self == DailyDelta::default()
    }
}

/// Branch and officer names to label rows.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub branches: HashMap<i64, (String, String)>,
    pub users: HashMap<i64, (String, String, Option<i64>)>,
    /// Users' sign-in names, for the downloads' file names.
    pub usernames: HashMap<i64, String>,
}

impl Names {
    /// Branches (id, code, name); users (id, code, full name, branch, user name).
    pub fn new(
        branches: Vec<(i64, String, String)>,
        users: Vec<(i64, String, String, Option<i64>, String)>,
    ) -> Names {
        let usernames = users
            .iter()
            .map(|(id, _, _, _, username)| (*id, username.clone()))
            .collect();
        Names {
            branches: branches
                .into_iter()
                .map(|(id, code, name)| (id, (code, name)))
                .collect(),
            users: users
                .into_iter()
                .map(|(id, code, name, b, _)| (id, (code, name, b)))
                .collect(),
            usernames,
        }
    }

    /// A branch's code (`CN-TD`).
    pub fn branch_code(&self, id: i64) -> String {
        self.branches
            .get(&id)
            .map(|b| b.0.clone())
            .unwrap_or_else(|| id.to_string())
    }

    /// A user's sign-in name (`canbo.lan`); the branch counter is `QUAY`.
    pub fn username(&self, id: i64) -> String {
        if id == 0 {
            return "QUAY".to_string();
        }
        self.usernames
            .get(&id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    pub fn branch(&self, id: i64) -> String {
        self.branches
            .get(&id)
            .map(|b| b.1.clone())
            .unwrap_or_else(|| format!("#{id}"))
    }

    /// An officer's name; officer 0 is the branch counter.
    pub fn officer(&self, id: i64) -> String {
        self.officer_in(id, false)
    }

    /// [`Names::officer`] in English: the counter is named so.
    pub fn officer_en(&self, id: i64) -> String {
        self.officer_in(id, true)
    }

    /// An officer as a report cell: the counter in the report's language.
    pub fn officer_cell(&self, id: i64) -> super::table::Cell {
        if id == 0 {
            return super::table::Cell::words(self.officer_in(0, false), self.officer_in(0, true));
        }
        super::table::Cell::text(self.officer(id))
    }

    fn officer_in(&self, id: i64, english: bool) -> String {
        if id == 0 {
            return if english {
                "Branch counter"
            } else {
                "Quầy giao dịch"
            }
            .to_string();
        }
        self.users
            .get(&id)
            .map(|u| u.1.clone())
            .unwrap_or_else(|| format!("#{id}"))
    }

    pub fn officer_code(&self, id: i64) -> String {
        if id == 0 {
            return "QUAY".to_string();
        }
        self.users.get(&id).map(|u| u.0.clone()).unwrap_or_default()
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DailyPostedRow {
    pub day: NaiveDate,
    pub branch_id: i64,
    pub officer_id: i64,
    pub principal_net: i64,
    pub interest_net: i64,
    pub reversed: i64,
    pub cash_expected: i64,
    pub cash_received: i64,
    pub shortage: i64,
    pub counter_cash: i64,
    pub counter_transfer: i64,
    pub repayments: i64,
    pub reversals: i64,
    pub batches: i64,
}

/// One movement of a branch's vault or bank account: a journal line on
/// `vault` or `bank`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BookMove {
    pub branch_id: i64,
    pub entry_id: i64,
    pub kind: String,
    pub memo: String,
    pub posted_at: DateTime<Utc>,
    pub posted_by: Option<String>,
    pub debit: i64,
    pub credit: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DailyDueRow {
    pub day: NaiveDate,
    pub branch_id: i64,
    pub officer_id: i64,
    pub due: i64,
    pub installments: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PortfolioRow {
    pub branch_id: i64,
    pub officer_id: i64,
    pub loans: i64,
    pub principal_outstanding: i64,
}

/// The overdue loans of one officer in one ageing bucket (an index into
/// [`crate::reports::BUCKETS`], by each loan's oldest unpaid installment).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OverdueRow {
    pub branch_id: i64,
    pub officer_id: i64,
    pub bucket: i64,
    pub loans: i64,
    pub principal_outstanding: i64,
    pub overdue_principal: i64,
    pub overdue_interest: i64,
    pub installments: i64,
}

/// One active loan with installments unpaid past their due date, and
/// where to find its borrower.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OverdueLoanRow {
    pub loan_id: i64,
    pub loan_code: String,
    pub branch_id: i64,
    pub officer_id: i64,
    pub worker_id: i64,
    pub worker_code: String,
    pub worker_name: String,
    pub phone: Option<String>,
    pub house: Option<String>,
    pub room: Option<String>,
    pub oldest_unpaid_due: NaiveDate,
    pub principal_outstanding: i64,
    pub overdue_principal: i64,
    pub overdue_interest: i64,
    pub installments: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CampaignRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub gift_value: i64,
    pub target_count: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GiftCountRow {
    pub campaign_id: i64,
    pub branch_id: i64,
    pub officer_id: i64,
    pub approved: i64,
    pub pending: i64,
    /// Kept in quarantine (a revoked phone's), not settled nor voided.
    pub held: i64,
    /// Refused, and settled as handed out for real to a worker who had the
    /// gift already: off the stock, not a gift.
    pub stock_out: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VisitRow {
    pub branch_id: i64,
    pub officer_id: i64,
    pub body: String,
    /// 1: approved by a supervisor; 0: waiting for review.
    pub approved: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HardshipRow {
    pub worker_id: i64,
    pub code: String,
    pub full_name: String,
    pub branch_id: i64,
    pub officer_id: i64,
    pub hardship_note: String,
    pub boarding_house: String,
    pub room: String,
    /// The last visit a supervisor approved.
    pub last_visit: Option<DateTime<Utc>>,
    /// The last visit still waiting for review.
    pub last_pending: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StatementWorker {
    pub id: i64,
    pub code: String,
    pub full_name: String,
    pub cccd: String,
    pub phone: Option<String>,
    pub branch_id: i64,
    pub officer_id: i64,
    pub employer: String,
    pub boarding_house: String,
    pub room: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StatementLoan {
    pub id: i64,
    pub code: String,
    pub product: String,
    pub principal: i64,
    pub annual_rate_bp: i64,
    pub disbursed_on: NaiveDate,
    pub status: String,
    pub principal_outstanding: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StatementInstallment {
    pub loan_id: i64,
    pub number: i64,
    pub due_on: NaiveDate,
    pub principal_due: i64,
    pub interest_due: i64,
    pub principal_paid: i64,
    pub interest_paid: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StatementPayment {
    pub entry_id: i64,
    pub loan_id: i64,
    pub kind: String,
    pub posted_at: DateTime<Utc>,
    /// When the worker paid: the receipt's time for an officer's receipt
    /// (posted once its batch is approved), else when it was posted.
    pub paid_at: DateTime<Utc>,
    pub reverses: Option<i64>,
    pub receipt_no: Option<String>,
    pub principal: i64,
    pub interest: i64,
    pub officer_name: String,
    /// For a repayment at the branch: `cash` or `transfer`.
    pub counter_method: Option<String>,
    /// Who posted it (the clerk at the counter, who entered a reversal).
    pub posted_by_name: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StatementGift {
    pub campaign_code: String,
    pub campaign_name: String,
    pub gift_value: i64,
    pub recorded_at: DateTime<Utc>,
    pub officer_name: String,
    pub state: String,
    /// The handout's record as uploaded (JSON), read for what the recipient
    /// acknowledged.
    pub body: String,
    pub officer_id: i64,
    /// `received`, `waiting` (the record names an image the phone has not
    /// sent yet) or `none`.
    #[sqlx(default)]
    pub signature: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{self, At};
    use sotay_core::domain::schedule::Allocation;

    #[test]
    fn a_posting_adds_to_its_day() {
        let at = At {
            branch_id: 1,
            loan_id: Some(9),
            ..At::default()
        };
        let allocation = Allocation {
            lines: Vec::new(),
            interest: 40_000,
            principal: 460_000,
            remaining: Default::default(),
        };
        let repay = DailyDelta::of_entry(
            EntryKind::Repayment,
            &ledger::repayment(at, 5, &allocation).0,
        );
        assert_eq!(
            (repay.principal_net, repay.interest_net, repay.repayments),
            (460_000, 40_000, 1)
        );
        let short = DailyDelta::of_entry(
            EntryKind::Settlement,
            &ledger::settlement(1, 5, 500_000, 490_000).0,
        );
        assert_eq!(
            (
                short.cash_expected,
                short.cash_received,
                short.shortage,
                short.batches
            ),
            (500_000, 490_000, 10_000, 1)
        );
        let over = DailyDelta::of_entry(
            EntryKind::Settlement,
            &ledger::settlement(1, 5, 500_000, 505_000).0,
        );
        assert_eq!(over.shortage, -5_000);
        let reversal = DailyDelta::of_entry(
            EntryKind::Reversal,
            &ledger::opposite(&ledger::repayment(at, 5, &allocation).0).0,
        );
        assert_eq!(
            (
                reversal.principal_net,
                reversal.interest_net,
                reversal.reversed,
                reversal.reversals
            ),
            (-460_000, -40_000, 500_000, 1)
        );
        // Cash at the counter, then a transfer into the bank account.
        for (into, cash, transfer) in [(Account::Vault, 500_000, 0), (Account::Bank, 0, 500_000)] {
            let d = DailyDelta::of_entry(
                EntryKind::CounterRepayment,
                &ledger::counter_repayment(at, &allocation, into).0,
            );
            assert_eq!(
                (
                    d.counter_cash,
                    d.counter_transfer,
                    d.principal_net + d.interest_net,
                    d.repayments
                ),
                (cash, transfer, 500_000, 1)
            );
        }
    }
}
