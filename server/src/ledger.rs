//! The fund's double-entry ledger: accounts, journal lines and the entries
//! each posting makes. Pure: no database here. Every entry is checked to
//! balance before it is written.

use serde::Serialize;
use sotay_core::domain::schedule::Allocation;
use utoipa::ToSchema;

/// The accounts of the chart. Each line also names the branch, and where it
/// applies the officer, campaign or loan (sub-ledgers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Account {
    /// Cash in the branch vault (asset).
    Vault,
    /// Cash an officer collected and has not handed over (asset, per officer).
    CashInHand,
    /// Loan principal owed by workers (asset, per loan).
    LoanPrincipal,
    /// Interest earned (income, per loan).
    InterestIncome,
    /// Gift packages held for a campaign (asset, per campaign).
    GiftStock,
    /// What a campaign has given out (expense, per campaign).
    CampaignExpense,
    /// Cash shortages (debit) and overages (credit) of an officer.
    CashOverShort,
    /// What the union and donors gave a campaign: its gift packages and
    /// grant cash as received (credit, per campaign).
    CampaignFunding,
    /// The fund's money lent out: what the loans brought into the books
    /// owed in principal when they came (credit, per branch).
    LoanCapital,
    /// Money in the branch's bank account (asset): lending capital sent by
    /// transfer, loans paid out by transfer.
    Bank,
    /// What the bank charged the branch's account: service, SMS and account
    /// fees (expense, per branch).
    BankCharges,
    /// Interest the bank paid on the branch's account (income, per branch).
    BankInterest,
    /// Officers' shortages the fund bore (debit) and overages it kept
    /// (credit) on its decision, instead of being paid in cash (expense or
    /// income, per branch).
    OverShortWrittenOff,
}

impl Account {
    pub const ALL: [Account; 13] = [
        Account::Vault,
        Account::Bank,
        Account::CashInHand,
        Account::LoanPrincipal,
        Account::InterestIncome,
        Account::GiftStock,
        Account::CampaignExpense,
        Account::CashOverShort,
        Account::CampaignFunding,
        Account::LoanCapital,
        Account::BankCharges,
        Account::BankInterest,
        Account::OverShortWrittenOff,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Account::Vault => "vault",
            Account::CashInHand => "cash_in_hand",
            Account::LoanPrincipal => "loan_principal",
            Account::InterestIncome => "interest_income",
            Account::GiftStock => "gift_stock",
            Account::CampaignExpense => "campaign_expense",
            Account::CashOverShort => "cash_over_short",
            Account::CampaignFunding => "campaign_funding",
            Account::LoanCapital => "loan_capital",
            Account::Bank => "bank",
            Account::BankCharges => "bank_charges",
            Account::BankInterest => "bank_interest",
            Account::OverShortWrittenOff => "over_short_written_off",
        }
    }

    pub fn parse(s: &str) -> Option<Account> {
        Account::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// The account's name for people.
    pub fn name_vi(self) -> &'static str {
        match self {
            Account::Vault => "Quỹ tiền mặt chi nhánh",
            Account::CashInHand => "Tiền mặt cán bộ đang giữ",
            Account::LoanPrincipal => "Nợ gốc cho vay",
            Account::InterestIncome => "Thu lãi cho vay",
            Account::GiftStock => "Quà tặng trong kho",
            Account::CampaignExpense => "Chi chương trình",
            Account::CashOverShort => "Thừa/thiếu quỹ của cán bộ",
            Account::CampaignFunding => "Nguồn kinh phí chương trình",
            Account::LoanCapital => "Nguồn vốn cho vay",
            Account::Bank => "Tiền gửi ngân hàng chi nhánh",
            Account::BankCharges => "Phí dịch vụ ngân hàng",
            Account::BankInterest => "Lãi tiền gửi ngân hàng",
            Account::OverShortWrittenOff => "Thừa/thiếu quỹ đã xử lý (chi phí, thu nhập khác)",
        }
    }

    /// The account's name in English.
    pub fn name_en(self) -> &'static str {
        match self {
            Account::Vault => "Branch vault",
            Account::CashInHand => "Cash held by officers",
            Account::LoanPrincipal => "Loan principal",
            Account::InterestIncome => "Interest income",
            Account::GiftStock => "Gift packages in stock",
            Account::CampaignExpense => "Campaign spending",
            Account::CashOverShort => "Officers' cash short/over",
            Account::CampaignFunding => "Campaign funding",
            Account::LoanCapital => "Lending capital",
            Account::Bank => "Branch bank account",
            Account::BankCharges => "Bank charges",
            Account::BankInterest => "Interest on the bank account",
            Account::OverShortWrittenOff => "Cash short/over written off",
        }
    }

    /// Accounts that hold something real (cash, packages) and so can never
    /// be drawn below zero.
    pub fn never_negative(self) -> bool {
        matches!(
            self,
            Account::Vault | Account::CashInHand | Account::GiftStock | Account::Bank
        )
    }
}

/// What a journal entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Repayment,
    Gift,
    Welfare,
    Settlement,
    CounterRepayment,
    Reversal,
    CampaignReceipt,
    /// A loan brought into the books by an import: the principal it still
    /// owed then.
    LoanOpening,
    /// Lending capital the fund sends a branch, into its vault or its bank
    /// account.
    CapitalReceipt,
    /// A new loan paid out in cash from the branch's vault, or by transfer
    /// from its bank account.
    Disbursement,
    /// Cash paid into the branch's bank account, or drawn from it; a
    /// charge the bank took from it, or interest it paid in.
    BankMove,
    /// An officer's shortage paid back into the vault, or an overage paid
    /// back to the officer from it.
    OverShortSettlement,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Repayment => "repayment",
            EntryKind::Gift => "gift",
            EntryKind::Welfare => "welfare",
            EntryKind::Settlement => "settlement",
            EntryKind::CounterRepayment => "counter_repayment",
            EntryKind::Reversal => "reversal",
            EntryKind::CampaignReceipt => "campaign_receipt",
            EntryKind::LoanOpening => "loan_opening",
            EntryKind::CapitalReceipt => "capital_receipt",
            EntryKind::Disbursement => "disbursement",
            EntryKind::BankMove => "bank_move",
            EntryKind::OverShortSettlement => "over_short_settlement",
        }
    }

    /// Entries of the kind stored as `kind` record what an administrator
    /// received for a branch (gift stock, lending capital) or brought in
    /// (a loan imported from a file): reversing one needs an administrator,
    /// as the asker or the approver.
    pub fn admin_to_reverse(kind: &str) -> bool {
        [
            EntryKind::CampaignReceipt,
            EntryKind::CapitalReceipt,
            EntryKind::LoanOpening,
        ]
        .iter()
        .any(|k| k.as_str() == kind)
    }

    /// What an entry of the kind stored as `kind` is, for people
    /// (Vietnamese, English); an unknown kind is named as stored.
    pub fn name(kind: &str) -> (&str, &str) {
        match kind {
            "repayment" => ("Thu nợ (cán bộ thu)", "Repayment (officer)"),
            "counter_repayment" => ("Thu nợ tại quầy", "Repayment at the counter"),
            "gift" => ("Tặng quà", "Gift"),
            "welfare" => ("Hỗ trợ", "Welfare grant"),
            "settlement" => ("Nộp tiền cán bộ thu", "Officer's cash handed over"),
            "reversal" => ("Đảo bút toán", "Reversal"),
            "campaign_receipt" => (
                "Nhận quà, tiền chương trình",
                "Campaign packages or cash received",
            ),
            "loan_opening" => (
                "Dư nợ gốc khi nhập khoản vay",
                "Principal owed when imported",
            ),
            "capital_receipt" => ("Nhận vốn cho vay", "Lending capital received"),
            "disbursement" => ("Giải ngân khoản vay", "Loan paid out"),
            "bank_move" => ("Giao dịch tài khoản ngân hàng", "Bank account movement"),
            "over_short_settlement" => (
                "Thanh toán thừa/thiếu quỹ của cán bộ",
                "Officer's cash short/over settled",
            ),
            other => (other, other),
        }
    }

    /// Entries of the kind stored as `kind` bring a loan into the books (paid
    /// out, or imported): reversing one takes the loan back, cancelled.
    pub fn takes_back_loan(kind: &str) -> bool {
        [EntryKind::Disbursement, EntryKind::LoanOpening]
            .iter()
            .any(|k| k.as_str() == kind)
    }

    /// Entries of the kind stored as `kind` may be reversed at the branch
    /// (asked for with a reason, approved by someone else): repayments from
    /// a phone or the counter, gifts, welfare grants, stock receipts,
    /// lending capital received, a loan paid out, or imported from a file,
    /// while nothing was collected on it since (the loan is then cancelled:
    /// a typo in an imported loan's terms), and cash paid into or drawn
    /// from the bank, and an officer's shortage or overage settled in cash.
    /// Settlements follow their batch; a reversal is not reversed again.
    pub fn reversible_at_branch(kind: &str) -> bool {
        [
            EntryKind::Repayment,
            EntryKind::CounterRepayment,
            EntryKind::Gift,
            EntryKind::Welfare,
            EntryKind::CampaignReceipt,
            EntryKind::CapitalReceipt,
            EntryKind::Disbursement,
            EntryKind::LoanOpening,
            EntryKind::BankMove,
            EntryKind::OverShortSettlement,
        ]
        .iter()
        .any(|k| k.as_str() == kind)
    }
}

/// One side of a journal entry: exactly one of `debit` and `credit` is
/// non-zero, both are whole đồng.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub account: Account,
    pub branch_id: i64,
    pub officer_id: Option<i64>,
    pub campaign_id: Option<i64>,
    pub loan_id: Option<i64>,
    pub debit: i64,
    pub credit: i64,
}

/// Where a line books: branch and sub-ledger.
#[derive(Debug, Clone, Copy, Default)]
pub struct At {
    pub branch_id: i64,
    pub officer_id: Option<i64>,
    pub campaign_id: Option<i64>,
    pub loan_id: Option<i64>,
}

impl At {
    fn line(self, account: Account, debit: i64, credit: i64) -> Line {
        Line {
            account,
            branch_id: self.branch_id,
            officer_id: self.officer_id,
            campaign_id: self.campaign_id,
            loan_id: self.loan_id,
            debit,
            credit,
        }
    }
}

/// Lines of an entry under construction. Zero amounts make no line; a
/// negative debit is a credit and the other way round.
#[derive(Debug, Default)]
pub struct Lines(pub Vec<Line>);

impl Lines {
    pub fn debit(&mut self, at: At, account: Account, amount: i64) -> &mut Self {
        match amount {
            0 => {}
            a if a > 0 => self.0.push(at.line(account, a, 0)),
            a => self.0.push(at.line(account, 0, -a)),
        }
        self
    }

    pub fn credit(&mut self, at: At, account: Account, amount: i64) -> &mut Self {
        self.debit(at, account, -amount)
    }

    /// Debits minus credits: zero for a balanced entry.
    pub fn imbalance(&self) -> i64 {
        self.0.iter().map(|l| l.debit - l.credit).sum()
    }
}

/// A cash repayment collected by an officer: cash in hand up, interest
/// earned, principal owed down.
pub fn repayment(at: At, officer_id: i64, allocation: &Allocation) -> Lines {
    let mut lines = Lines::default();
    let amount = allocation.interest + allocation.principal;
    lines
        .debit(
            At {
                officer_id: Some(officer_id),
                ..at
            },
            Account::CashInHand,
            amount,
        )
        .credit(at, Account::LoanPrincipal, allocation.principal)
        .credit(at, Account::InterestIncome, allocation.interest);
    lines
}

/// A repayment taken at the branch: straight into `into`, the vault (cash at
/// the counter) or the bank account (a transfer to the branch).
pub fn counter_repayment(at: At, allocation: &Allocation, into: Account) -> Lines {
    let mut lines = Lines::default();
    lines
        .debit(
            At {
                loan_id: None,
                ..at
            },
            into,
            allocation.interest + allocation.principal,
        )
        .credit(at, Account::LoanPrincipal, allocation.principal)
        .credit(at, Account::InterestIncome, allocation.interest);
    lines
}

/// A gift handed out (`welfare`: a grant paid from the branch's cash).
pub fn gift(at: At, value: i64, welfare: bool) -> Lines {
    let mut lines = Lines::default();
    let source = if welfare {
        Account::Vault
    } else {
        Account::GiftStock
    };
    let source_at = if welfare {
        At {
            campaign_id: None,
            ..at
        }
    } else {
        at
    };
    lines
        .debit(at, Account::CampaignExpense, value)
        .credit(source_at, source, value);
    lines
}

/// What a campaign receives at a branch: gift packages into stock or, for
/// a welfare programme, its grant cash into the vault; both from the
/// campaign's funding.
pub fn campaign_receipt(at: At, value: i64, welfare: bool) -> Lines {
    let mut lines = Lines::default();
    let (account, into) = if welfare {
        (
            Account::Vault,
            At {
                campaign_id: None,
                ..at
            },
        )
    } else {
        (Account::GiftStock, at)
    };
    lines
        .debit(into, account, value)
        .credit(at, Account::CampaignFunding, value);
    lines
}

/// A loan brought into the books (`at` names its branch and the loan): the
/// principal it still owes is owed to the fund's lending capital. Repayments
/// then credit the loan's principal, so its balance is always what the
/// installments say is still owed.
pub fn loan_opening(at: At, principal_owed: i64) -> Lines {
    let mut lines = Lines::default();
    lines
        .debit(at, Account::LoanPrincipal, principal_owed)
        .credit(
            At {
                loan_id: None,
                ..at
            },
            Account::LoanCapital,
            principal_owed,
        );
    lines
}

/// Lending capital the fund sends a branch (`at` names it): cash into the
/// vault or a transfer into its bank account (`into`), owed to the fund's
/// lending capital.
pub fn capital_receipt(at: At, amount: i64, into: Account) -> Lines {
    let mut lines = Lines::default();
    lines
        .debit(at, into, amount)
        .credit(at, Account::LoanCapital, amount);
    lines
}

/// A new loan paid out (`at` names its branch and the loan): the worker
/// owes its principal, the vault gives the cash or the bank account the
/// transfer (`from`). Interest is earned as it is repaid, as for every
/// loan.
pub fn disbursement(at: At, principal: i64, from: Account) -> Lines {
    let mut lines = Lines::default();
    lines.debit(at, Account::LoanPrincipal, principal).credit(
        At {
            loan_id: None,
            ..at
        },
        from,
        principal,
    );
    lines
}

/// A movement of the branch's (`at`) bank account: `amount` from the
/// account `from` into `into` (cash paid in: from the vault into the bank;
/// a charge: from the bank to the bank charges; interest: from the bank's
/// interest into the bank).
pub fn bank_move(at: At, amount: i64, (into, from): (Account, Account)) -> Lines {
    let mut lines = Lines::default();
    lines.debit(at, into, amount).credit(at, from, amount);
    lines
}

/// Where a branch's vault books, and where one of its officers' accounts do.
fn vault_and_officer(branch_id: i64, officer_id: i64) -> (At, At) {
    let vault = At {
        branch_id,
        ..At::default()
    };
    let officer = At {
        officer_id: Some(officer_id),
        ..vault
    };
    (vault, officer)
}

/// An officer's over/short account settled at the branch: a shortage
/// paid into the vault (`paid_in`), or an overage paid out of it to the
/// officer; or, `written_off`, the shortage borne by the fund (an
/// expense) or the overage kept by it (an income), the vault unmoved.
pub fn over_short_settlement(
    branch_id: i64,
    officer_id: i64,
    amount: i64,
    paid_in: bool,
    written_off: bool,
) -> Lines {
    let (branch, officer) = vault_and_officer(branch_id, officer_id);
    let other = if written_off {
        Account::OverShortWrittenOff
    } else {
        Account::Vault
    };
    let mut lines = Lines::default();
    if paid_in {
        lines
            .debit(branch, other, amount)
            .credit(officer, Account::CashOverShort, amount);
    } else {
        lines
            .debit(officer, Account::CashOverShort, amount)
            .credit(branch, other, amount);
    }
    lines
}

/// The cash counted for a batch: what the officer held moves to the vault,
/// the difference is the officer's shortage (debit) or overage (credit).
pub fn settlement(branch_id: i64, officer_id: i64, expected: i64, received: i64) -> Lines {
    let (vault, officer) = vault_and_officer(branch_id, officer_id);
    let mut lines = Lines::default();
    lines
        .debit(vault, Account::Vault, received)
        .credit(officer, Account::CashInHand, expected)
        .debit(officer, Account::CashOverShort, expected - received);
    lines
}

/// The exact opposite of `lines`.
pub fn opposite(lines: &[Line]) -> Lines {
    Lines(
        lines
            .iter()
            .map(|l| Line {
                debit: l.credit,
                credit: l.debit,
                ..l.clone()
            })
            .collect(),
    )
}

pub use sotay_core::domain::schedule::{paid, states_with_paid, unwind, Unwind};

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use proptest::prelude::*;
    use sotay_core::domain::schedule::{allocate, InstallmentState};

    #[test]
    fn what_a_branch_may_reverse() {
        for kind in [
            "repayment",
            "counter_repayment",
            "gift",
            "welfare",
            "campaign_receipt",
            "capital_receipt",
            "disbursement",
            "loan_opening",
            "bank_move",
            "over_short_settlement",
        ] {
            assert!(EntryKind::reversible_at_branch(kind), "{kind}");
        }
        for kind in ["settlement", "reversal", ""] {
            assert!(!EntryKind::reversible_at_branch(kind), "{kind}");
        }
        for kind in ["disbursement", "loan_opening"] {
            assert!(EntryKind::takes_back_loan(kind), "{kind}");
        }
        for kind in ["campaign_receipt", "capital_receipt", "loan_opening"] {
            assert!(EntryKind::admin_to_reverse(kind), "{kind}");
        }
        for kind in ["repayment", "counter_repayment", "gift", "welfare"] {
            assert!(!EntryKind::admin_to_reverse(kind), "{kind}");
        }
    }

    #[test]
    fn capital_fills_the_vault_a_disbursement_empties() {
        let branch = At {
            branch_id: 2,
            ..At::default()
        };
        let held = |lines: &Lines, account: Account| -> i64 {
            lines
                .0
                .iter()
                .filter(|l| l.account == account && l.branch_id == 2 && l.loan_id.is_none())
                .map(|l| l.debit - l.credit)
                .sum()
        };
        let vault = |lines: &Lines| held(lines, Account::Vault);
        let capital = capital_receipt(branch, 200_000_000, Account::Vault);
        assert_eq!(capital.imbalance(), 0);
        assert_eq!(vault(&capital), 200_000_000);
        assert!(capital
            .0
            .iter()
            .any(|l| l.account == Account::LoanCapital && l.credit == 200_000_000));
        let loan = At {
            loan_id: Some(9),
            ..branch
        };
        let paid_out = disbursement(loan, 10_000_000, Account::Vault);
        assert_eq!(paid_out.imbalance(), 0);
        assert_eq!(vault(&paid_out), -10_000_000);
        let principal = paid_out
            .0
            .iter()
            .find(|l| l.account == Account::LoanPrincipal)
            .unwrap();
        assert_eq!(
            (principal.debit, principal.loan_id, principal.branch_id),
            (10_000_000, Some(9), 2)
        );
        // By transfer: the bank account, never the vault.
        let wired = capital_receipt(branch, 50_000_000, Account::Bank);
        assert_eq!(wired.imbalance(), 0);
        assert_eq!(
            (held(&wired, Account::Bank), vault(&wired)),
            (50_000_000, 0)
        );
        let sent = disbursement(loan, 10_000_000, Account::Bank);
        assert_eq!(sent.imbalance(), 0);
        assert_eq!((held(&sent, Account::Bank), vault(&sent)), (-10_000_000, 0));
        assert!(Account::Bank.never_negative());
        let paid_in = bank_move(branch, 3_000_000, (Account::Bank, Account::Vault));
        assert_eq!(paid_in.imbalance(), 0);
        assert_eq!(
            (held(&paid_in, Account::Bank), vault(&paid_in)),
            (3_000_000, -3_000_000)
        );
        let drawn = bank_move(branch, 1_000_000, (Account::Vault, Account::Bank));
        assert_eq!(
            (held(&drawn, Account::Bank), vault(&drawn)),
            (-1_000_000, 1_000_000)
        );
        // The bank's fee is spent from the account, its interest earned
        // into it; the vault is not touched.
        let fee = bank_move(branch, 22_000, (Account::BankCharges, Account::Bank));
        assert_eq!(fee.imbalance(), 0);
        assert_eq!(
            (
                held(&fee, Account::Bank),
                held(&fee, Account::BankCharges),
                vault(&fee)
            ),
            (-22_000, 22_000, 0)
        );
        let interest = bank_move(branch, 15_300, (Account::Bank, Account::BankInterest));
        assert_eq!(
            (
                held(&interest, Account::Bank),
                held(&interest, Account::BankInterest)
            ),
            (15_300, -15_300)
        );
        assert!(!Account::BankCharges.never_negative() && !Account::BankInterest.never_negative());
    }

    fn book(n: u32, principal: i64, interest: i64) -> Vec<InstallmentState> {
        (1..=n)
            .map(|i| InstallmentState {
                number: i,
                due_on: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
                    + chrono::Days::new(i as u64 * 7),
                principal_due: principal,
                interest_due: interest,
                principal_paid: 0,
                interest_paid: 0,
            })
            .collect()
    }

    #[test]
    fn settlement_books_a_shortage_on_the_officer() {
        let lines = settlement(1, 7, 1_500_000, 1_490_000);
        assert_eq!(lines.imbalance(), 0);
        let short = lines
            .0
            .iter()
            .find(|l| l.account == Account::CashOverShort)
            .unwrap();
        assert_eq!(
            (short.debit, short.credit, short.officer_id),
            (10_000, 0, Some(7))
        );
        let over = settlement(1, 7, 100, 150);
        assert_eq!(over.imbalance(), 0);
        assert!(over
            .0
            .iter()
            .any(|l| l.account == Account::CashOverShort && l.credit == 50));
        assert!(settlement(1, 7, 0, 0).0.is_empty());
    }

    #[test]
    fn a_receipt_fills_the_stock_a_gift_empties() {
        let at = At {
            branch_id: 1,
            campaign_id: Some(4),
            ..At::default()
        };
        let receipt = campaign_receipt(at, 1_500_000, false);
        assert_eq!(receipt.imbalance(), 0);
        let stock = |lines: &Lines| -> i64 {
            lines
                .0
                .iter()
                .filter(|l| l.account == Account::GiftStock && l.campaign_id == Some(4))
                .map(|l| l.debit - l.credit)
                .sum()
        };
        assert_eq!(stock(&receipt), 1_500_000);
        assert_eq!(stock(&gift(at, 500_000, false)), -500_000);
        // A welfare programme's cash goes to the branch vault, not to a campaign's.
        let grant = campaign_receipt(at, 50_000_000, true);
        assert_eq!(grant.imbalance(), 0);
        let vault = grant
            .0
            .iter()
            .find(|l| l.account == Account::Vault)
            .unwrap();
        assert_eq!((vault.debit, vault.campaign_id), (50_000_000, None));
        assert!(grant
            .0
            .iter()
            .any(|l| l.account == Account::CampaignFunding && l.credit == 50_000_000));
        assert!(Account::GiftStock.never_negative() && !Account::CampaignFunding.never_negative());
        for a in Account::ALL {
            assert_eq!(Account::parse(a.as_str()), Some(a));
        }
    }

    #[test]
    fn unwinding_the_last_payment_gives_back_its_exact_split() {
        let mut states = book(4, 900, 100);
        for amount in [100, 950, 300] {
            let a = allocate(&states, amount).unwrap();
            sotay_core::domain::schedule::apply_allocation(&mut states, &a, 1);
        }
        let last = {
            let before = states_with_paid(&states, 1_050);
            allocate(&before, 300).unwrap()
        };
        let u = unwind(&states, 300).unwrap();
        assert_eq!((u.principal, u.interest), (last.principal, last.interest));
        assert_eq!(u.states, states_with_paid(&states, 1_050));
    }

    proptest! {
        #[test]
        fn postings_balance_and_unwinding_restores_the_books(
            amounts in proptest::collection::vec(1i64..3_000, 1..8),
            pick in 0usize..8,
            received in 0i64..20_000,
        ) {
            let mut states = book(6, 900, 100);
            let start = states.clone();
            let mut posted = Vec::new();
            for amount in amounts {
                let Ok(a) = allocate(&states, amount) else { continue };
                prop_assert_eq!(repayment(At { branch_id: 1, loan_id: Some(1), ..At::default() }, 3, &a).imbalance(), 0);
                for into in [Account::Vault, Account::Bank] {
                    prop_assert_eq!(counter_repayment(At { branch_id: 1, loan_id: Some(1), ..At::default() }, &a, into).imbalance(), 0);
                }
                sotay_core::domain::schedule::apply_allocation(&mut states, &a, 1);
                posted.push(amount);
                // The books are always what the total alone gives.
                prop_assert_eq!(&states, &states_with_paid(&start, paid(&states)));
            }
            if !posted.is_empty() {
                let amount = posted[pick % posted.len()];
                let total = paid(&states);
                let u = unwind(&states, amount).unwrap();
                prop_assert_eq!(u.principal + u.interest, amount);
                prop_assert!(u.principal >= 0 && u.interest >= 0);
                prop_assert_eq!(paid(&u.states), total - amount);
                prop_assert_eq!(&u.states, &states_with_paid(&start, total - amount));
            }
            let expected: i64 = posted.iter().sum();
            prop_assert_eq!(settlement(1, 3, expected, received).imbalance(), 0);
        }
    }
}
