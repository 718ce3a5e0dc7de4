//! Reports: daily collections, portfolio at risk, campaign progress, visits
//! (and workers in hardship not visited), a worker's statement.
//!
//! Each report is one function over the database, the caller's [`Scope`]
//! and a [`Filter`], returning a [`Report`]: sheets of typed cells with
//! Vietnamese and English headers and a totals row. The same `Report` is
//! served as JSON, [`to_csv`] and [`to_xlsx`]:
//!
//! ```ignore
//! let report = reports::daily_collections(&db, user.scope(), &filter).await?;
//! let bytes = reports::to_xlsx(&report, Lang::Vi)?;   // or to_csv(&report, Lang::En)
//! ```
//!
//! Or by name, as the API does: [`build`]`(&db, "portfolio-at-risk", scope, &filter)`.
//!
//! Scope: an admin ([`Scope::Fund`]) sees the fund, a supervisor
//! ([`Scope::Branch`]) their branch — asking for another branch is
//! [`DbError::NotFound`] (404), another branch's officer or worker gives
//! nothing / not found; an officer ([`Scope::Officer`]) only their own
//! (the API refuses officers with 403, as for review).
//!
//! Days are Asia/Ho_Chi_Minh days. Money is whole đồng (`i64`); ratios are
//! basis points from integer math ([`basis_points`]), never floats.
//!
//! - **daily-collections** (`from`..`to`, default today): per day, branch and
//!   officer what the schedules had due, what posted to principal and
//!   interest (net of reversals), the cash the officer had to hand over, the
//!   cash counted and the difference (negative: short). A day's collections
//!   are what posted that day; the branch counter is its own row. Read from
//!   `report_daily`, kept by the posting code in the posting transaction,
//!   and `report_due` (dues by day and the loans' current officer), kept by
//!   triggers with the installments and workers.
//! - **portfolio-at-risk** (as of `to`, default today): PAR1 and PAR30 by
//!   branch and officer — outstanding principal of active loans with an
//!   installment unpaid more than 0 / 30 days after its due date, over all
//!   outstanding principal — overdue amounts and counts, and ageing buckets
//!   1–30, 31–60, 61–90, >90 days (by each loan's oldest unpaid installment).
//!   The books are as they are now: a day to come counts every installment
//!   falling due before it and unpaid today, and the report's notes say it
//!   is measured as if nothing more were paid until then. Read from
//!   `report_portfolio` (kept by
//!   triggers with the loans) and, for the loans whose oldest unpaid due
//!   date (`loans.oldest_unpaid_due`, kept likewise) is before `to`, their
//!   unpaid installments.
//! - **overdue-loans** (as of `to`, default today): the loans to chase, one
//!   row each — the borrower's code, name, phone and boarding house, the
//!   officer, the oldest unpaid due date and the days since, the overdue
//!   installments and amount, the outstanding principal — the longest
//!   overdue first. Read like the PAR's overdue loans.
//! - **campaign-progress** (`campaign_id`; gifts recorded in `from`..`to`,
//!   default all): gifts handed out (approved, not reversed), waiting for
//!   review, and held in quarantine (a revoked phone's, not settled yet),
//!   against the target and each branch's and officer's allocation, with
//!   their value.
//! - **visits** (`from`..`to`, default the last 30 days; `days`, default 30):
//!   visits a supervisor approved per officer and purpose, those waiting for
//!   review apart, a row for every active officer in scope (0 without a
//!   visit), and the workers in hardship with no approved visit in the last
//!   `days` days before the end of `to` (and their visit waiting, if any).
//! - **worker-statement** (`worker_id`; payments and gifts in `from`..`to`,
//!   default all): the worker's loans, schedules, every posted repayment,
//!   counter repayment and reversal with its receipt number, gifts received
//!   (who acknowledged each, and whether its signature image came in).

mod export;
pub mod rows;
mod table;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sotay_core::domain::time::{format_date, local_date, vn_offset};

pub use export::{to_csv, to_xlsx, totals_row};
pub use table::{basis_points, col, percent, Cell, Column, Kind, Lang, Report, Sheet, Text};

use crate::db::{Db, DbError, DbResult, Scope};
use rows::Names;

/// The report names the API serves.
pub const NAMES: [&str; 8] = [
    "daily-collections",
    "portfolio-at-risk",
    "overdue-loans",
    "campaign-progress",
    "visits",
    "worker-statement",
    "vault-cash-book",
    "bank-book",
];

/// The reports a branch cashier reads (their branch's): the cash books
/// they keep and count.
pub const CASHIER_REPORTS: [&str; 2] = ["vault-cash-book", "bank-book"];

/// The reports narrowed to one officer by `officer_id` (the console offers
/// the officers to choose from). The branch's books (the vault's and the
/// bank's) are the branch's, not an officer's: they refuse it.
pub const BY_OFFICER: [&str; 5] = [
    "daily-collections",
    "portfolio-at-risk",
    "overdue-loans",
    "campaign-progress",
    "visits",
];

/// What a report is asked for. Days are Asia/Ho_Chi_Minh days.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub branch_id: Option<i64>,
    pub officer_id: Option<i64>,
    pub campaign_id: Option<i64>,
    pub worker_id: Option<i64>,
    /// Hardship workers not visited in this many days (visits report).
    pub days: Option<i64>,
}

/// The caller's scope applied to a filter: the rows a query may return.
#[derive(Debug, Clone, Copy, Default)]
pub struct Where {
    pub branch: Option<i64>,
    pub officer: Option<i64>,
}

impl Where {
    /// A supervisor asking for another branch, or an officer for another
    /// officer, is not found.
    pub fn resolve(scope: Scope, f: &Filter) -> DbResult<Where> {
        match scope {
            Scope::Fund => Ok(Where {
                branch: f.branch_id,
                officer: f.officer_id,
            }),
            Scope::Branch(b) => match f.branch_id {
                Some(x) if x != b => Err(DbError::NotFound),
                _ => Ok(Where {
                    branch: Some(b),
                    officer: f.officer_id,
                }),
            },
            Scope::Officer(o) => match f.officer_id {
                Some(x) if x != o => Err(DbError::NotFound),
                _ => Ok(Where {
                    branch: f.branch_id,
                    officer: Some(o),
                }),
            },
        }
    }
}

impl Where {
    /// [`Where::resolve`], and an officer asked for by id is one the caller
    /// may see: a user of the branch in scope, or one who has had something
    /// on its books (an officer since moved, or made a supervisor); 0 is the
    /// branch counter. Another branch's user, or no user, is not found:
    /// never named in the report's subtitle.
    pub async fn resolve_in(db: &Db, scope: Scope, f: &Filter) -> DbResult<Where> {
        let w = Where::resolve(scope, f)?;
        // A branch asked for that is no branch: not found, rather than an
        // empty report of "#99".
        if let (Some(b), Scope::Fund) = (f.branch_id, scope) {
            if db.branches(Some(b)).await?.is_empty() {
                return Err(DbError::NotFound);
            }
        }
        match (f.officer_id, scope) {
            (Some(o), Scope::Fund | Scope::Branch(_)) if o != 0 => {
                let user = db.user(o).await?.ok_or(DbError::NotFound)?;
                if let Some(b) = w.branch {
                    if user.branch_id != Some(b) && !db.on_branch_books(o, b).await? {
                        // An admin sees every branch's officers: told
                        // which branch the officer is of. A supervisor
                        // asking for another branch's learns nothing.
                        if matches!(scope, Scope::Fund) {
                            return Err(not_of_branch(db, &user, b).await?);
                        }
                        return Err(DbError::NotFound);
                    }
                }
                Ok(w)
            }
            _ => Ok(w),
        }
    }
}

/// An admin's report asked for a branch and an officer not of it (nor ever
/// on its books): 422 `officer_not_in_branch`, naming both and the
/// officer's own branch.
async fn not_of_branch(db: &Db, user: &crate::db::UserView, branch: i64) -> DbResult<DbError> {
    let name = |id: Option<i64>, all: &[crate::db::Branch]| {
        id.and_then(|id| all.iter().find(|b| b.id == id))
            .map(|b| b.name.clone())
    };
    let all = db.branches(None).await?;
    let asked = name(Some(branch), &all).unwrap_or_else(|| format!("#{branch}"));
    let who = format!("{} ({})", user.full_name, user.code);
    let (vi, en) = match name(user.branch_id, &all) {
        Some(theirs) => (
            format!(
                "Cán bộ {who} thuộc {theirs}, không thuộc {asked}: chọn {theirs} (hoặc \"Toàn quỹ\") để xem cán bộ này, hoặc chọn một cán bộ của {asked}"
            ),
            format!(
                "officer {who} is of {theirs}, not of {asked}: choose {theirs} (or \"Whole fund\") to see this officer, or choose an officer of {asked}"
            ),
        ),
        None => (
            format!(
                "{who} không phải cán bộ của {asked}: chọn một cán bộ của {asked}, hoặc bỏ chọn cán bộ"
            ),
            format!(
                "{who} is not an officer of {asked}: choose an officer of {asked}, or leave the officer out"
            ),
        ),
    };
    Ok(DbError::Refused(Box::new(crate::db::Refusal {
        status: 422,
        code: "officer_not_in_branch",
        vi,
        en,
        records: Vec::new(),
    })))
}

/// Today in Asia/Ho_Chi_Minh.
pub fn today() -> NaiveDate {
    local_date(Utc::now())
}

/// The first moment (UTC) of a Vietnamese day.
pub fn day_start(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_local_timezone(vn_offset())
        .single()
        .expect("a fixed offset")
        .with_timezone(&Utc)
}

/// The days a report covers, in words: `01/12/2026 – 07/12/2026`, one day
/// alone, `từ 01/12/2026` without a last day, `đến 31/12/2026` without a
/// first (never a dash hanging at either end).
fn range_text(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Text {
    match (from, to) {
        (Some(a), Some(b)) if a == b => Text::new(format_date(a), format_date(a)),
        (Some(a), Some(b)) => {
            let both = format!("{} – {}", format_date(a), format_date(b));
            Text::new(both.clone(), both)
        }
        (Some(a), None) => Text::new(
            format!("từ {}", format_date(a)),
            format!("from {}", format_date(a)),
        ),
        (None, Some(b)) => Text::new(
            format!("đến {}", format_date(b)),
            format!("until {}", format_date(b)),
        ),
        (None, None) => Text::new("", ""),
    }
}

fn subtitle(names: &Names, w: &Where, range: Text) -> Text {
    let mut vi = vec![range.vi];
    let mut en = vec![range.en];
    match w.branch {
        Some(b) => {
            vi.push(names.branch(b));
            en.push(names.branch(b));
        }
        None => {
            vi.push("Toàn quỹ".into());
            en.push("Whole fund".into());
        }
    }
    if let Some(o) = w.officer {
        vi.push(names.officer(o));
        en.push(names.officer_en(o));
    }
    let clean = |v: Vec<String>| {
        v.into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", ")
    };
    Text::new(clean(vi), clean(en))
}

/// What a report narrowed to a branch or an officer is about, for its file
/// name: the branch's code, the officer's user name (the counter `QUAY`).
fn subject(names: &Names, w: &Where) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(b) = w.branch {
        out.push(names.branch_code(b));
    }
    if let Some(o) = w.officer {
        out.push(names.username(o));
    }
    out
}

/// Builds the report called `name` (one of [`NAMES`]); `None` for an unknown name.
pub async fn build(db: &Db, name: &str, scope: Scope, f: &Filter) -> Option<DbResult<Report>> {
    Some(match name {
        "daily-collections" => daily_collections(db, scope, f).await,
        "portfolio-at-risk" => portfolio_at_risk(db, scope, f).await,
        "overdue-loans" => overdue_loans(db, scope, f).await,
        "campaign-progress" => campaign_progress(db, scope, f).await,
        "visits" => visits(db, scope, f).await,
        "worker-statement" => worker_statement(db, scope, f).await,
        "vault-cash-book" => account_book(db, scope, f, Book::Vault).await,
        "bank-book" => account_book(db, scope, f, Book::Bank).await,
        _ => return None,
    })
}

fn collection_columns(by_officer: bool) -> Vec<Column> {
    let mut c = vec![
        col("day", "Ngày", "Day", Kind::Date),
        col("branch", "Chi nhánh", "Branch", Kind::Text),
    ];
    if by_officer {
        c.push(col("officer_code", "Mã cán bộ", "Officer code", Kind::Text));
        c.push(col("officer", "Cán bộ", "Officer", Kind::Text));
    }
    c.extend([
        col("due", "Phải thu theo lịch", "Due", Kind::Money),
        col(
            "installments_due",
            "Số kỳ đến hạn",
            "Installments due",
            Kind::Count,
        ),
        col(
            "principal",
            "Thu gốc (sau đảo)",
            "Principal (net of reversals)",
            Kind::Money,
        ),
        col(
            "interest",
            "Thu lãi (sau đảo)",
            "Interest (net of reversals)",
            Kind::Money,
        ),
        col(
            "reversed",
            "Đã đảo (đã trừ ở cột thu)",
            "Reversed (already deducted)",
            Kind::Money,
        ),
        col(
            "collected",
            "Đã thu (đã duyệt)",
            "Collected (posted)",
            Kind::Money,
        ),
        col("repayments", "Số phiếu thu", "Repayments", Kind::Count),
        col(
            "counter",
            "Tiền mặt thu tại quầy",
            "Cash at the counter",
            Kind::Money,
        ),
        col(
            "counter_transfer",
            "Chuyển khoản vào tài khoản chi nhánh",
            "Transfers to the branch account",
            Kind::Money,
        ),
        col(
            "cash_expected",
            "Phải nộp",
            "Cash to hand over",
            Kind::Money,
        ),
        col("cash_received", "Thực nhận", "Cash received", Kind::Money),
        col(
            "over_short",
            "Thừa (+) / thiếu (-)",
            "Over (+) / short (-)",
            Kind::Money,
        ),
        col("batches", "Số lô duyệt", "Batches approved", Kind::Count),
    ]);
    c
}

#[derive(Default, Clone, Copy)]
struct Day {
    due: i64,
    installments: i64,
    posted: rows::DailyDelta,
}

impl Day {
    fn cells(&self) -> Vec<Cell> {
        let p = &self.posted;
        vec![
            Cell::Money(self.due),
            Cell::Count(self.installments),
            Cell::Money(p.principal_net),
            Cell::Money(p.interest_net),
            Cell::Money(p.reversed),
            Cell::Money(p.principal_net + p.interest_net),
            Cell::Count(p.repayments),
            Cell::Money(p.counter_cash),
            Cell::Money(p.counter_transfer),
            Cell::Money(p.cash_expected),
            Cell::Money(p.cash_received),
            Cell::Money(-p.shortage),
            Cell::Count(p.batches),
        ]
    }
}

/// Daily collections per officer and per branch.
pub async fn daily_collections(db: &Db, scope: Scope, f: &Filter) -> DbResult<Report> {
    let w = Where::resolve_in(db, scope, f).await?;
    let to = f.to.unwrap_or_else(today);
    let from = f.from.unwrap_or(to);
    if from > to {
        return Err(DbError::Invalid("from > to".into()));
    }
    let (names, posted, due) = db.report_daily(&w, from, to).await?;
    let mut by_officer: BTreeMap<(NaiveDate, i64, i64), Day> = BTreeMap::new();
    for r in posted {
        let d = by_officer
            .entry((r.day, r.branch_id, r.officer_id))
            .or_default();
        d.posted.add(&rows::DailyDelta {
            principal_net: r.principal_net,
            interest_net: r.interest_net,
            reversed: r.reversed,
            cash_expected: r.cash_expected,
            cash_received: r.cash_received,
            shortage: r.shortage,
            counter_cash: r.counter_cash,
            counter_transfer: r.counter_transfer,
            repayments: r.repayments,
            reversals: r.reversals,
            batches: r.batches,
        });
    }
    for r in due {
        let d = by_officer
            .entry((r.day, r.branch_id, r.officer_id))
            .or_default();
        d.due += r.due;
        d.installments += r.installments;
    }
    let mut by_branch: BTreeMap<(NaiveDate, i64), Day> = BTreeMap::new();
    let mut officers = Sheet::new(
        "by_officer",
        Text::new("Theo cán bộ", "By officer"),
        collection_columns(true),
    );
    for ((day, branch, officer), d) in &by_officer {
        let b = by_branch.entry((*day, *branch)).or_default();
        b.due += d.due;
        b.installments += d.installments;
        b.posted.add(&d.posted);
        let mut row = vec![
            Cell::Date(*day),
            Cell::text(names.branch(*branch)),
            Cell::text(names.officer_code(*officer)),
            names.officer_cell(*officer),
        ];
        row.extend(d.cells());
        officers.rows.push(row);
    }
    officers.sum_totals();
    let mut branches = Sheet::new(
        "by_branch",
        Text::new("Theo chi nhánh", "By branch"),
        collection_columns(false),
    );
    for ((day, branch), d) in &by_branch {
        let mut row = vec![Cell::Date(*day), Cell::text(names.branch(*branch))];
        row.extend(d.cells());
        branches.rows.push(row);
    }
    branches.sum_totals();
    // The period's total per officer (and the counter), what a month's end
    // reads: the days' rows added up.
    let mut period: BTreeMap<(i64, i64), Day> = BTreeMap::new();
    for ((_, branch, officer), d) in &by_officer {
        let p = period.entry((*branch, *officer)).or_default();
        p.due += d.due;
        p.installments += d.installments;
        p.posted.add(&d.posted);
    }
    let mut officer_totals = Sheet::new(
        "officer_totals",
        Text::new("Cộng kỳ theo cán bộ", "Period total by officer"),
        collection_columns(true).into_iter().skip(1).collect(),
    );
    for ((branch, officer), d) in &period {
        let mut row = vec![
            Cell::text(names.branch(*branch)),
            Cell::text(names.officer_code(*officer)),
            names.officer_cell(*officer),
        ];
        row.extend(d.cells());
        officer_totals.rows.push(row);
    }
    officer_totals.sum_totals();
    Ok(Report {
        name: "daily-collections",
        title: Text::new("Thu nợ theo ngày", "Daily collections"),
        subtitle: subtitle(&names, &w, range_text(Some(from), Some(to))),
        from: Some(from),
        to: Some(to),
        subject: subject(&names, &w),
        notes: Vec::new(),
        sheets: vec![officers, branches, officer_totals],
    })
}

/// Ageing buckets of days overdue: 1–30, 31–60, 61–90, >90.
pub const BUCKETS: [(&str, &str, i64, i64); 4] = [
    ("1–30 ngày", "1–30 days", 1, 30),
    ("31–60 ngày", "31–60 days", 31, 60),
    ("61–90 ngày", "61–90 days", 61, 90),
    ("Trên 90 ngày", "Over 90 days", 91, i64::MAX),
];

#[derive(Default, Clone, Copy)]
struct Par {
    loans: i64,
    outstanding: i64,
    loans_1: i64,
    at_risk_1: i64,
    loans_30: i64,
    at_risk_30: i64,
    overdue_principal: i64,
    overdue_interest: i64,
    overdue_installments: i64,
}

impl Par {
    fn add(&mut self, o: &Par) {
        self.loans += o.loans;
        self.outstanding += o.outstanding;
        self.loans_1 += o.loans_1;
        self.at_risk_1 += o.at_risk_1;
        self.loans_30 += o.loans_30;
        self.at_risk_30 += o.at_risk_30;
        self.overdue_principal += o.overdue_principal;
        self.overdue_interest += o.overdue_interest;
        self.overdue_installments += o.overdue_installments;
    }

    fn cells(&self) -> Vec<Cell> {
        vec![
            Cell::Count(self.loans),
            Cell::Money(self.outstanding),
            Cell::Count(self.loans_1),
            Cell::Money(self.at_risk_1),
            Cell::BasisPoints(basis_points(self.at_risk_1, self.outstanding)),
            Cell::Count(self.loans_30),
            Cell::Money(self.at_risk_30),
            Cell::BasisPoints(basis_points(self.at_risk_30, self.outstanding)),
            Cell::Money(self.overdue_principal),
            Cell::Money(self.overdue_interest),
            Cell::Count(self.overdue_installments),
        ]
    }
}

fn par_columns(by_officer: bool) -> Vec<Column> {
    let mut c = vec![col("branch", "Chi nhánh", "Branch", Kind::Text)];
    if by_officer {
        c.push(col("officer_code", "Mã cán bộ", "Officer code", Kind::Text));
        c.push(col("officer", "Cán bộ", "Officer", Kind::Text));
    }
    c.extend([
        col("loans", "Số khoản vay", "Active loans", Kind::Count),
        col(
            "outstanding",
            "Dư nợ gốc",
            "Outstanding principal",
            Kind::Money,
        ),
        col(
            "loans_par1",
            "Khoản vay quá hạn",
            "Loans overdue",
            Kind::Count,
        ),
        col(
            "at_risk_par1",
            "Dư nợ gốc quá hạn",
            "Principal at risk (>0 days)",
            Kind::Money,
        ),
        col("par1_bp", "PAR1", "PAR1", Kind::BasisPoints),
        col(
            "loans_par30",
            "Khoản vay quá hạn >30 ngày",
            "Loans overdue >30 days",
            Kind::Count,
        ),
        col(
            "at_risk_par30",
            "Dư nợ gốc quá hạn >30 ngày",
            "Principal at risk (>30 days)",
            Kind::Money,
        ),
        col("par30_bp", "PAR30", "PAR30", Kind::BasisPoints),
        col(
            "overdue_principal",
            "Gốc quá hạn",
            "Principal overdue",
            Kind::Money,
        ),
        col(
            "overdue_interest",
            "Lãi quá hạn",
            "Interest overdue",
            Kind::Money,
        ),
        col(
            "overdue_installments",
            "Số kỳ quá hạn",
            "Installments overdue",
            Kind::Count,
        ),
    ]);
    c
}

fn par_totals(sheet: &mut Sheet, total: &Par, lead: usize) {
    let mut t = vec![Cell::text("Tổng cộng")];
    t.extend((1..lead).map(|_| Cell::Empty));
    t.extend(total.cells());
    sheet.totals = Some(t);
}

/// Portfolio at risk (PAR1, PAR30) by branch and officer, with ageing.
pub async fn portfolio_at_risk(db: &Db, scope: Scope, f: &Filter) -> DbResult<Report> {
    let w = Where::resolve_in(db, scope, f).await?;
    let as_of = books_now_as_of(f, ("Báo cáo nợ có rủi ro (PAR)", "the portfolio at risk"))?;
    let (names, portfolio, overdue) = db.report_par(&w, as_of).await?;
    let mut officers: BTreeMap<(i64, i64), Par> = BTreeMap::new();
    for p in portfolio {
        let e = officers.entry((p.branch_id, p.officer_id)).or_default();
        e.loans += p.loans;
        e.outstanding += p.principal_outstanding;
    }
    let mut ageing: BTreeMap<(i64, usize), (i64, i64, i64)> = BTreeMap::new();
    for l in overdue {
        // The buckets after the first are the loans overdue more than 30 days.
        let bucket = usize::try_from(l.bucket)
            .unwrap_or(0)
            .min(BUCKETS.len() - 1);
        let e = officers.entry((l.branch_id, l.officer_id)).or_default();
        e.loans_1 += l.loans;
        e.at_risk_1 += l.principal_outstanding;
        if bucket > 0 {
            e.loans_30 += l.loans;
            e.at_risk_30 += l.principal_outstanding;
        }
        e.overdue_principal += l.overdue_principal;
        e.overdue_interest += l.overdue_interest;
        e.overdue_installments += l.installments;
        let a = ageing.entry((l.branch_id, bucket)).or_default();
        a.0 += l.loans;
        a.1 += l.principal_outstanding;
        a.2 += l.overdue_principal + l.overdue_interest;
    }
    let mut branches: BTreeMap<i64, Par> = BTreeMap::new();
    let mut total = Par::default();
    let mut by_officer = Sheet::new(
        "by_officer",
        Text::new("Theo cán bộ", "By officer"),
        par_columns(true),
    );
    for ((b, o), p) in &officers {
        branches.entry(*b).or_default().add(p);
        total.add(p);
        let mut row = vec![
            Cell::text(names.branch(*b)),
            Cell::text(names.officer_code(*o)),
            names.officer_cell(*o),
        ];
        row.extend(p.cells());
        by_officer.rows.push(row);
    }
    par_totals(&mut by_officer, &total, 3);
    let mut by_branch = Sheet::new(
        "by_branch",
        Text::new("Theo chi nhánh", "By branch"),
        par_columns(false),
    );
    for (b, p) in &branches {
        let mut row = vec![Cell::text(names.branch(*b))];
        row.extend(p.cells());
        by_branch.rows.push(row);
    }
    par_totals(&mut by_branch, &total, 1);
    let mut age = Sheet::new(
        "ageing",
        Text::new("Tuổi nợ quá hạn", "Ageing"),
        vec![
            col("branch", "Chi nhánh", "Branch", Kind::Text),
            col("bucket", "Số ngày quá hạn", "Days overdue", Kind::Text),
            col("loans", "Số khoản vay", "Loans", Kind::Count),
            col(
                "outstanding",
                "Dư nợ gốc",
                "Outstanding principal",
                Kind::Money,
            ),
            col("overdue", "Số tiền quá hạn", "Amount overdue", Kind::Money),
        ],
    );
    for ((b, i), (n, out, due)) in &ageing {
        age.rows.push(vec![
            Cell::text(names.branch(*b)),
            Cell::words(BUCKETS[*i].0, BUCKETS[*i].1),
            Cell::Count(*n),
            Cell::Money(*out),
            Cell::Money(*due),
        ]);
    }
    age.sum_totals();
    Ok(Report {
        name: "portfolio-at-risk",
        title: Text::new(
            "Danh mục cho vay có rủi ro (PAR)",
            "Portfolio at risk (PAR)",
        ),
        subtitle: subtitle(&names, &w, range_text(Some(as_of), Some(as_of))),
        from: None,
        to: Some(as_of),
        subject: subject(&names, &w),
        notes: measured_ahead(as_of),
        sheets: vec![by_branch, by_officer, age],
    })
}

/// The loans to chase: every active loan with an installment unpaid past
/// its due date (as of `to`, default today), with its borrower's phone and
/// boarding house, the longest overdue first.
pub async fn overdue_loans(db: &Db, scope: Scope, f: &Filter) -> DbResult<Report> {
    let w = Where::resolve_in(db, scope, f).await?;
    let as_of = books_now_as_of(f, ("Danh sách khoản vay quá hạn", "the overdue loans"))?;
    let (names, loans) = db.report_overdue_loans(&w, as_of).await?;
    let mut sheet = Sheet::new(
        "loans",
        Text::new("Khoản vay quá hạn", "Overdue loans"),
        vec![
            col("branch", "Chi nhánh", "Branch", Kind::Text),
            col("officer", "Cán bộ", "Officer", Kind::Text),
            col("worker_code", "Mã người vay", "Borrower code", Kind::Text),
            col("worker", "Người vay", "Borrower", Kind::Text),
            col("phone", "Điện thoại", "Phone", Kind::Text),
            col(
                "lives_at",
                "Nhà trọ, phòng",
                "Boarding house, room",
                Kind::Text,
            ),
            col("loan", "Khoản vay", "Loan", Kind::Text),
            col(
                "oldest_unpaid_due",
                "Kỳ chưa trả sớm nhất",
                "Oldest unpaid due date",
                Kind::Date,
            ),
            col(
                "days_overdue",
                "Số ngày quá hạn",
                "Days overdue",
                Kind::Count,
            ),
            col(
                "installments",
                "Số kỳ quá hạn",
                "Installments overdue",
                Kind::Count,
            ),
            col("overdue", "Số tiền quá hạn", "Amount overdue", Kind::Money),
            col(
                "outstanding",
                "Dư nợ gốc",
                "Outstanding principal",
                Kind::Money,
            ),
        ],
    );
    for l in &loans {
        let lives_at = match (&l.house, &l.room) {
            (Some(h), Some(r)) => format!("{h}, {r}"),
            (Some(h), None) => h.clone(),
            (None, Some(r)) => r.clone(),
            (None, None) => String::new(),
        };
        sheet.rows.push(vec![
            Cell::text(names.branch(l.branch_id)),
            names.officer_cell(l.officer_id),
            Cell::link(&l.worker_code, format!("/workers/{}", l.worker_id)),
            Cell::text(&l.worker_name),
            l.phone.as_deref().map_or(Cell::Empty, |p| {
                Cell::text(sotay_core::domain::ids::format_phone(p))
            }),
            Cell::text(lives_at),
            Cell::link(&l.loan_code, format!("/loans/{}", l.loan_id)),
            Cell::Date(l.oldest_unpaid_due),
            Cell::Count((as_of - l.oldest_unpaid_due).num_days()),
            Cell::Count(l.installments),
            Cell::Money(l.overdue_principal + l.overdue_interest),
            Cell::Money(l.principal_outstanding),
        ]);
    }
    sheet.sum_totals();
    // Days overdue do not add up; the row counts the loans.
    let count = sotay_core::domain::money::group_thousands(loans.len() as i64);
    if let Some(t) = sheet.totals.as_mut() {
        t[6] = Cell::words(format!("{count} khoản vay"), format!("{count} loans"));
        t[8] = Cell::Empty;
    }
    Ok(Report {
        name: "overdue-loans",
        title: Text::new("Khoản vay quá hạn", "Overdue loans"),
        subtitle: subtitle(&names, &w, range_text(Some(as_of), Some(as_of))),
        from: None,
        to: Some(as_of),
        subject: subject(&names, &w),
        notes: measured_ahead(as_of),
        sheets: vec![sheet],
    })
}

/// A campaign's gifts in one row of its progress: approved (or settled as
/// handed out), waiting for review, held in quarantine.
#[derive(Debug, Clone, Copy, Default)]
struct Gifts {
    approved: i64,
    pending: i64,
    held: i64,
    stock_out: i64,
}

impl Gifts {
    fn add(&mut self, g: &rows::GiftCountRow) {
        self.approved += g.approved;
        self.pending += g.pending;
        self.held += g.held;
        self.stock_out += g.stock_out;
    }
}

/// The day a report on the books as they are now is taken as of: today, or
/// a day to come (what will be overdue by then if nothing is paid). A day
/// gone is refused: the loans' balances then are not what they are now
/// (paid since, or paid out since), and a figure that looks like that
/// day's would not be.
fn books_now_as_of(f: &Filter, (vi, en): (&str, &str)) -> DbResult<NaiveDate> {
    let now = today();
    match f.to {
        Some(day) if day < now => {
            let day = sotay_core::domain::time::format_date(day);
            Err(DbError::Refused(Box::new(crate::db::Refusal {
                status: 422,
                code: "as_of_in_the_past",
                vi: format!(
                    "{vi} tính trên sổ sách hiện tại (dư nợ hôm nay), nên không tính được cho ngày đã qua {day}: chọn hôm nay hoặc một ngày tới; số liệu của một ngày đã qua là báo cáo đã tải về hôm đó"
                ),
                en: format!(
                    "{en} is read from the books as they are now (today's balances), so it cannot be taken as of {day}, a day gone: choose today or a day to come; a past day's figures are the report downloaded that day"
                ),
                records: Vec::new(),
            })))
        }
        Some(day) => Ok(day),
        None => Ok(now),
    }
}

/// What a report on the books as they are now says of a day to come: its
/// figures are what will be overdue by then if nothing more is paid (every
/// installment falling due by then counts unpaid). None for today.
fn measured_ahead(as_of: NaiveDate) -> Vec<Text> {
    let now = today();
    if as_of <= now {
        return Vec::new();
    }
    let (day, now) = (format_date(as_of), format_date(now));
    vec![Text::new(
        format!(
            "Tính như thể từ hôm nay đến {day} không có khoản trả nào thêm (hôm nay là {now}): mọi kỳ đến hạn trước ngày đó mà hôm nay chưa trả đều tính là quá hạn"
        ),
        format!(
            "Measured as if nothing more is paid from today until {day} (today is {now}): every installment falling due before that day and unpaid today counts as overdue"
        ),
    )]
}

/// Packages off the stock that are no gift: a second one handed out for
/// real to a worker who had the campaign's gift (refused, then settled so);
/// with those handed out, what the ledger's campaign expense counts.
fn stock_out_col() -> Column {
    col(
        "stock_out",
        "Ghi giảm kho, không tính là quà (suất thứ hai)",
        "Off the stock, not a gift (a second package)",
        Kind::Count,
    )
}

/// Campaign progress against targets and allocations.
pub async fn campaign_progress(db: &Db, scope: Scope, f: &Filter) -> DbResult<Report> {
    let w = Where::resolve_in(db, scope, f).await?;
    let from = f.from.map(day_start);
    let to = f.to.map(|d| day_start(d + Duration::days(1)));
    let data = db.report_campaigns(&w, f.campaign_id, from, to).await?;
    let names = &data.names;
    if f.campaign_id.is_some() && data.campaigns.is_empty() {
        return Err(DbError::NotFound);
    }
    let in_scope_branch = |b: i64| w.branch.is_none_or(|x| x == b);
    let officer_branch = |o: i64| names.users.get(&o).and_then(|u| u.2).unwrap_or(-1);
    let in_scope_officer =
        |o: i64| w.officer.is_none_or(|x| x == o) && in_scope_branch(officer_branch(o));
    // (approved, pending, held) by campaign and branch, and by campaign,
    // branch and officer: an officer moved to another branch has a row in
    // each, her gifts where they were given, her allocation where she is now.
    let mut by_branch: BTreeMap<(i64, i64), Gifts> = BTreeMap::new();
    let mut by_officer: BTreeMap<(i64, i64, i64), Gifts> = BTreeMap::new();
    let mut by_campaign: HashMap<i64, Gifts> = HashMap::new();
    // (A row of gifts none of which counts, as a quarantined one settled,
    // is no row.)
    for g in data
        .gifts
        .iter()
        .filter(|g| g.approved + g.pending + g.held + g.stock_out > 0)
    {
        by_branch
            .entry((g.campaign_id, g.branch_id))
            .or_default()
            .add(g);
        by_officer
            .entry((g.campaign_id, g.branch_id, g.officer_id))
            .or_default()
            .add(g);
        by_campaign.entry(g.campaign_id).or_default().add(g);
    }
    // What an allocation has left counts every gift handed out, whatever
    // the days asked for, and wherever: (campaign, branch or officer) →
    // approved + pending + held in quarantine (as the phones and the upload
    // count it: an officer's gifts in every branch she worked in, a branch's
    // by every officer, whatever the report is narrowed to).
    let mut used: HashMap<(bool, i64, i64), i64> = HashMap::new();
    let scoped = w.branch.is_some() || w.officer.is_some();
    let all = if from.is_some() || to.is_some() || scoped {
        let everywhere = Where {
            branch: None,
            officer: None,
        };
        db.report_campaigns(&everywhere, f.campaign_id, None, None)
            .await?
            .gifts
    } else {
        data.gifts.clone()
    };
    for g in &all {
        let n = g.approved + g.pending + g.held;
        *used.entry((false, g.campaign_id, g.branch_id)).or_default() += n;
        *used.entry((true, g.campaign_id, g.officer_id)).or_default() += n;
    }
    let branch_quota: HashMap<(i64, i64), i64> = data
        .branch_quotas
        .iter()
        .map(|(k, b, q)| ((*k, *b), *q))
        .collect();
    let officer_quota: HashMap<(i64, i64), i64> = data
        .officer_quotas
        .iter()
        .map(|(k, o, q)| ((*k, *o), *q))
        .collect();
    if w.officer.is_none() {
        for (k, b, _) in &data.branch_quotas {
            if in_scope_branch(*b) {
                by_branch.entry((*k, *b)).or_default();
            }
        }
    }
    for (k, o, _) in &data.officer_quotas {
        if in_scope_officer(*o) {
            by_officer.entry((*k, officer_branch(*o), *o)).or_default();
        }
    }
    let campaign: HashMap<i64, &rows::CampaignRow> =
        data.campaigns.iter().map(|k| (k.id, k)).collect();
    let mut overview = Sheet::new(
        "campaigns",
        Text::new("Chương trình", "Campaigns"),
        vec![
            col("code", "Mã chương trình", "Code", Kind::Text),
            col("campaign", "Chương trình", "Campaign", Kind::Text),
            col("starts_on", "Từ ngày", "From", Kind::Date),
            col("ends_on", "Đến ngày", "To", Kind::Date),
            col("gift_value", "Giá trị suất quà", "Gift value", Kind::Money),
            // Narrowed to a branch or an officer, the gifts are theirs and
            // the target the fund's: said so, and no progress against it
            // (theirs is against their allocation, on the next sheets).
            if scoped {
                col(
                    "target",
                    "Chỉ tiêu toàn quỹ",
                    "Target (whole fund)",
                    Kind::Count,
                )
            } else {
                col("target", "Chỉ tiêu", "Target", Kind::Count)
            },
            col(
                "handed_out",
                "Đã trao (đã duyệt)",
                "Handed out (approved)",
                Kind::Count,
            ),
            col("pending", "Chờ duyệt", "Waiting for review", Kind::Count),
            col(
                "held",
                "Giữ chờ xử lý (máy bị thu hồi)",
                "Held (revoked phone)",
                Kind::Count,
            ),
            stock_out_col(),
            col("progress_bp", "Tỷ lệ đạt", "Progress", Kind::BasisPoints),
            col(
                "value",
                "Tổng giá trị đã trao",
                "Value handed out",
                Kind::Money,
            ),
        ],
    );
    for k in &data.campaigns {
        let Gifts {
            approved,
            pending,
            held,
            stock_out,
        } = by_campaign.get(&k.id).copied().unwrap_or_default();
        overview.rows.push(vec![
            Cell::text(&k.code),
            Cell::text(&k.name),
            Cell::Date(k.starts_on),
            Cell::Date(k.ends_on),
            Cell::Money(k.gift_value),
            Cell::Count(k.target_count),
            Cell::Count(approved),
            Cell::Count(pending),
            Cell::Count(held),
            Cell::Count(stock_out),
            if scoped {
                Cell::Empty
            } else {
                Cell::BasisPoints(basis_points(approved, k.target_count))
            },
            Cell::Money(approved * k.gift_value),
        ]);
    }
    overview.sum_totals();
    if let Some(t) = overview.totals.as_mut() {
        t[4] = Cell::Empty;
        // Targets of different campaigns (a Tết gift, a welfare grant) do
        // not add up, nor does progress against them.
        if data.campaigns.len() > 1 {
            t[5] = Cell::Empty;
            t[10] = Cell::Empty;
        }
    }
    let alloc_columns = |officer: bool| {
        let mut c = vec![
            col("campaign", "Chương trình", "Campaign", Kind::Text),
            col("branch", "Chi nhánh", "Branch", Kind::Text),
        ];
        if officer {
            c.push(col("officer_code", "Mã cán bộ", "Officer code", Kind::Text));
            c.push(col("officer", "Cán bộ", "Officer", Kind::Text));
        }
        c.extend([
            col("allocation", "Phân bổ", "Allocation", Kind::Count),
            col(
                "handed_out",
                "Đã trao (đã duyệt)",
                "Handed out (approved)",
                Kind::Count,
            ),
            col("pending", "Chờ duyệt", "Waiting for review", Kind::Count),
            col(
                "held",
                "Giữ chờ xử lý (máy bị thu hồi)",
                "Held (revoked phone)",
                Kind::Count,
            ),
            stock_out_col(),
            col("remaining", "Còn lại", "Remaining", Kind::Count),
            col("progress_bp", "Tỷ lệ đạt", "Progress", Kind::BasisPoints),
            col("value", "Giá trị đã trao", "Value handed out", Kind::Money),
        ]);
        c
    };
    let tail = |quota: Option<i64>, gifts: &Gifts, used: i64, value: i64| {
        let Gifts {
            approved,
            pending,
            held,
            stock_out,
        } = *gifts;
        vec![
            quota.map_or(Cell::Empty, Cell::Count),
            Cell::Count(approved),
            Cell::Count(pending),
            Cell::Count(held),
            Cell::Count(stock_out),
            quota.map_or(Cell::Empty, |q| Cell::Count(q - used)),
            quota.map_or(Cell::Empty, |q| {
                Cell::BasisPoints(basis_points(approved, q))
            }),
            Cell::Money(approved * value),
        ]
    };
    let mut branches = Sheet::new(
        "by_branch",
        Text::new("Theo chi nhánh", "By branch"),
        alloc_columns(false),
    );
    for ((k, b), gifts) in &by_branch {
        let Some(c) = campaign.get(k) else { continue };
        let mut row = vec![Cell::text(&c.name), Cell::text(names.branch(*b))];
        row.extend(tail(
            branch_quota.get(&(*k, *b)).copied(),
            gifts,
            used.get(&(false, *k, *b)).copied().unwrap_or(0),
            c.gift_value,
        ));
        branches.rows.push(row);
    }
    // As on the first sheet: allocations of different campaigns do not
    // add up, nor what is left of them, nor progress against them.
    let several = |totals: &mut Option<Vec<Cell>>, first: usize, campaigns: HashSet<i64>| {
        if let Some(t) = totals.as_mut().filter(|_| campaigns.len() > 1) {
            for i in [first, first + 5, first + 6] {
                t[i] = Cell::Empty;
            }
        }
    };
    branches.sum_totals();
    several(
        &mut branches.totals,
        2,
        by_branch.keys().map(|(k, _)| *k).collect(),
    );
    let mut officers = Sheet::new(
        "by_officer",
        Text::new("Theo cán bộ", "By officer"),
        alloc_columns(true),
    );
    for ((k, b, o), gifts) in &by_officer {
        let Some(c) = campaign.get(k) else { continue };
        let mut row = vec![
            Cell::text(&c.name),
            Cell::text(names.branch(*b)),
            Cell::text(names.officer_code(*o)),
            names.officer_cell(*o),
        ];
        // Her allocation is where she works now.
        let quota = (*b == officer_branch(*o))
            .then(|| officer_quota.get(&(*k, *o)).copied())
            .flatten();
        row.extend(tail(
            quota,
            gifts,
            used.get(&(true, *k, *o)).copied().unwrap_or(0),
            c.gift_value,
        ));
        officers.rows.push(row);
    }
    officers.sum_totals();
    several(
        &mut officers.totals,
        4,
        by_officer.keys().map(|(k, _, _)| *k).collect(),
    );
    Ok(Report {
        name: "campaign-progress",
        title: Text::new("Tiến độ chương trình quà tặng", "Campaign progress"),
        subtitle: subtitle(names, &w, range_text(f.from, f.to)),
        from: f.from,
        to: f.to,
        subject: subject(names, &w),
        notes: Vec::new(),
        sheets: vec![overview, branches, officers],
    })
}

const PURPOSES: [(&str, &str, &str); 6] = [
    ("loan_appraisal", "Thẩm định cho vay", "Loan appraisal"),
    (
        "repayment_follow_up",
        "Đôn đốc trả nợ",
        "Repayment follow-up",
    ),
    (
        "hardship_visit",
        "Thăm hoàn cảnh khó khăn",
        "Hardship visit",
    ),
    ("condolence", "Thăm hỏi ốm đau, hoạn nạn", "Condolence"),
    ("gift_delivery", "Trao quà", "Gift delivery"),
    ("other", "Khác", "Other"),
];

/// Visits per officer and purpose; workers in hardship not visited lately.
/// The visits counted are those a supervisor approved (the books' figures);
/// those still waiting for review are a column of their own, not in the
/// total. Every active officer in scope has a row, with 0 when she made no
/// visit in the days asked for.
pub async fn visits(db: &Db, scope: Scope, f: &Filter) -> DbResult<Report> {
    let w = Where::resolve_in(db, scope, f).await?;
    let to = f.to.unwrap_or_else(today);
    let from = f.from.unwrap_or(to - Duration::days(29));
    if from > to {
        return Err(DbError::Invalid("from > to".into()));
    }
    let days = f.days.unwrap_or(30).clamp(1, 3650);
    let end = day_start(to + Duration::days(1)).min(Utc::now());
    let VisitData {
        names,
        visits,
        officers,
        hardship,
    } = db
        .report_visits(&w, day_start(from), day_start(to + Duration::days(1)))
        .await?;
    // Approved visits by purpose, then those waiting for review.
    let mut counts: BTreeMap<(i64, i64), ([i64; 6], i64)> = BTreeMap::new();
    for v in visits {
        let row = counts.entry((v.branch_id, v.officer_id)).or_default();
        if v.approved == 0 {
            row.1 += 1;
            continue;
        }
        let purpose = serde_json::from_str::<sotay_core::wire::UploadRecord>(&v.body)
            .ok()
            .and_then(|r| match r.body {
                sotay_core::wire::RecordBody::Visit(p) => serde_json::to_value(p.purpose).ok(),
                _ => None,
            })
            .and_then(|p| p.as_str().map(str::to_string))
            .unwrap_or_else(|| "other".into());
        let i = PURPOSES.iter().position(|p| p.0 == purpose).unwrap_or(5);
        row.0[i] += 1;
    }
    // An officer with no visit at all is a row of 0: "no visits this month"
    // is what the supervisor looks for.
    let seen: HashSet<i64> = counts.keys().map(|(_, o)| *o).collect();
    for (officer, branch) in officers {
        if !seen.contains(&officer) {
            counts.entry((branch, officer)).or_default();
        }
    }
    let mut columns = vec![
        col("branch", "Chi nhánh", "Branch", Kind::Text),
        col("officer_code", "Mã cán bộ", "Officer code", Kind::Text),
        col("officer", "Cán bộ", "Officer", Kind::Text),
    ];
    columns.extend(PURPOSES.iter().map(|p| col(p.0, p.1, p.2, Kind::Count)));
    columns.push(col(
        "total",
        "Tổng số lần thăm (đã duyệt)",
        "Visits (approved)",
        Kind::Count,
    ));
    columns.push(col(
        "pending",
        "Chờ duyệt (chưa tính vào tổng)",
        "Waiting for review (not in the total)",
        Kind::Count,
    ));
    let mut per = Sheet::new(
        "by_officer",
        Text::new("Thăm hỏi theo cán bộ", "Visits by officer"),
        columns,
    );
    for ((b, o), (n, pending)) in &counts {
        let mut row = vec![
            Cell::text(names.branch(*b)),
            Cell::text(names.officer_code(*o)),
            names.officer_cell(*o),
        ];
        row.extend(n.iter().map(|v| Cell::Count(*v)));
        row.push(Cell::Count(n.iter().sum()));
        row.push(Cell::Count(*pending));
        per.rows.push(row);
    }
    per.sum_totals();
    let since = end - Duration::days(days);
    let mut unvisited = Sheet::new(
        "hardship_not_visited",
        Text::new(
            format!("Khó khăn, chưa thăm {days} ngày"),
            format!("Hardship, not visited {days} days"),
        ),
        vec![
            col(
                "worker_code",
                "Mã người lao động",
                "Worker code",
                Kind::Text,
            ),
            col("worker", "Họ và tên", "Name", Kind::Text),
            col("branch", "Chi nhánh", "Branch", Kind::Text),
            col("officer", "Cán bộ", "Officer", Kind::Text),
            col("boarding_house", "Nhà trọ", "Boarding house", Kind::Text),
            col("room", "Phòng", "Room", Kind::Text),
            col("hardship", "Hoàn cảnh", "Hardship", Kind::Text),
            col(
                "last_visit",
                "Lần thăm gần nhất (đã duyệt)",
                "Last visit (approved)",
                Kind::DateTime,
            ),
            col("days_since", "Số ngày chưa thăm", "Days since", Kind::Count),
            col(
                "last_pending",
                "Lần thăm chờ duyệt",
                "Visit waiting for review",
                Kind::DateTime,
            ),
        ],
    );
    // In Vietnamese order (`Đặng` with the D's, `Hồ` before `Huỳnh`), as
    // people look names up, not by code point.
    let mut hardship = hardship;
    hardship.sort_by_cached_key(|h| {
        (
            h.branch_id,
            h.officer_id,
            sotay_core::domain::text::fold(&h.full_name),
            h.worker_id,
        )
    });
    for h in hardship {
        if h.last_visit.is_some_and(|t| t >= since) {
            continue;
        }
        unvisited.rows.push(vec![
            Cell::link(&h.code, format!("/workers/{}", h.worker_id)),
            Cell::text(&h.full_name),
            Cell::text(names.branch(h.branch_id)),
            names.officer_cell(h.officer_id),
            Cell::text(&h.boarding_house),
            Cell::text(&h.room),
            Cell::text(&h.hardship_note),
            h.last_visit.map_or(Cell::Empty, Cell::DateTime),
            h.last_visit
                .map_or(Cell::Empty, |t| Cell::Count((end - t).num_days())),
            h.last_pending.map_or(Cell::Empty, Cell::DateTime),
        ]);
    }
    unvisited.sum_totals();
    // Days do not add up; the row counts the people.
    let people = unvisited.rows.len();
    if let Some(t) = unvisited.totals.as_mut() {
        t[1] = Cell::words(format!("{people} người"), format!("{people} workers"));
        t[8] = Cell::Empty;
    }
    Ok(Report {
        name: "visits",
        title: Text::new("Thăm hỏi", "Visits"),
        subtitle: subtitle(&names, &w, range_text(Some(from), Some(to))),
        from: Some(from),
        to: Some(to),
        subject: subject(&names, &w),
        notes: Vec::new(),
        sheets: vec![per, unvisited],
    })
}

/// A worker's statement: loans, schedules, payments with receipts, gifts.
pub async fn worker_statement(db: &Db, scope: Scope, f: &Filter) -> DbResult<Report> {
    let w = Where::resolve_in(db, scope, f).await?;
    let worker_id = f
        .worker_id
        .ok_or_else(|| DbError::Invalid("worker_id".into()))?;
    let Some(s) = db.report_statement(&w, worker_id).await? else {
        return Err(DbError::NotFound);
    };
    let in_range = |t: DateTime<Utc>| {
        let d = local_date(t);
        f.from.is_none_or(|a| d >= a) && f.to.is_none_or(|b| d <= b)
    };
    let code: HashMap<i64, String> = s.loans.iter().map(|l| (l.id, l.code.clone())).collect();
    let loan_code = |id: i64| code.get(&id).cloned().unwrap_or_default();
    let mut loans = Sheet::new(
        "loans",
        Text::new("Khoản vay", "Loans"),
        vec![
            col("loan", "Khoản vay", "Loan", Kind::Text),
            col("product", "Sản phẩm", "Product", Kind::Text),
            col("disbursed_on", "Ngày giải ngân", "Disbursed", Kind::Date),
            col("principal", "Số tiền vay", "Principal", Kind::Money),
            col(
                "rate_bp",
                "Lãi suất (%/năm)",
                "Rate (%/year)",
                Kind::BasisPoints,
            ),
            col("status", "Trạng thái", "Status", Kind::Text),
            col(
                "outstanding",
                "Dư nợ gốc",
                "Outstanding principal",
                Kind::Money,
            ),
        ],
    );
    for l in &s.loans {
        loans.rows.push(vec![
            Cell::link(&l.code, format!("/loans/{}", l.id)),
            Cell::text(&l.product),
            Cell::Date(l.disbursed_on),
            Cell::Money(l.principal),
            Cell::BasisPoints(l.annual_rate_bp),
            if l.status == "active" {
                Cell::words("Đang vay", "Active")
            } else {
                Cell::words("Đã tất toán", "Paid off")
            },
            Cell::Money(l.principal_outstanding),
        ]);
    }
    loans.sum_totals();
    let mut schedule = Sheet::new(
        "schedule",
        Text::new("Lịch trả nợ", "Schedule"),
        vec![
            col("loan", "Khoản vay", "Loan", Kind::Text),
            col("number", "Kỳ", "Installment", Kind::Count),
            col("due_on", "Ngày đến hạn", "Due on", Kind::Date),
            col(
                "principal_due",
                "Gốc phải trả",
                "Principal due",
                Kind::Money,
            ),
            col("interest_due", "Lãi phải trả", "Interest due", Kind::Money),
            col(
                "principal_paid",
                "Gốc đã trả",
                "Principal paid",
                Kind::Money,
            ),
            col("interest_paid", "Lãi đã trả", "Interest paid", Kind::Money),
            col("left", "Còn phải trả", "Left to pay", Kind::Money),
        ],
    );
    for i in &s.installments {
        schedule.rows.push(vec![
            Cell::text(loan_code(i.loan_id)),
            Cell::Count(i.number),
            Cell::Date(i.due_on),
            Cell::Money(i.principal_due),
            Cell::Money(i.interest_due),
            Cell::Money(i.principal_paid),
            Cell::Money(i.interest_paid),
            Cell::Money(i.principal_due + i.interest_due - i.principal_paid - i.interest_paid),
        ]);
    }
    schedule.sum_totals();
    if let Some(t) = schedule.totals.as_mut() {
        t[1] = Cell::Empty;
    }
    let mut payments = Sheet::new(
        "payments",
        Text::new("Thanh toán", "Payments"),
        vec![
            col("paid_at", "Ngày trả", "Paid", Kind::DateTime),
            col("posted_at", "Ngày ghi sổ", "Posted", Kind::DateTime),
            col("loan", "Khoản vay", "Loan", Kind::Text),
            col("kind", "Loại", "Kind", Kind::Text),
            col("receipt_no", "Số phiếu thu", "Receipt", Kind::Text),
            col("principal", "Gốc", "Principal", Kind::Money),
            col("interest", "Lãi", "Interest", Kind::Money),
            col("amount", "Số tiền", "Amount", Kind::Money),
            col("officer", "Người thu", "Taken by", Kind::Text),
            col("entry_id", "Bút toán", "Entry", Kind::Text),
        ],
    );
    // What the loans' schedules show paid beyond the payments in the books:
    // paid before the fund kept its books here (the amount a loan was
    // imported with). A line of its own, before the rest.
    if f.from.is_none() {
        for l in &s.loans {
            let (mut principal, mut interest) = s
                .installments
                .iter()
                .filter(|i| i.loan_id == l.id)
                .fold((0, 0), |(p, i), x| {
                    (p + x.principal_paid, i + x.interest_paid)
                });
            for p in s.payments.iter().filter(|p| p.loan_id == l.id) {
                principal -= p.principal;
                interest -= p.interest;
            }
            if principal + interest > 0 {
                payments.rows.push(vec![
                    Cell::Empty,
                    Cell::Empty,
                    Cell::text(&l.code),
                    Cell::words("Đã trả trước khi vào sổ", "Paid before these books"),
                    Cell::Empty,
                    Cell::Money(principal),
                    Cell::Money(interest),
                    Cell::Money(principal + interest),
                    Cell::Empty,
                    Cell::Empty,
                ]);
            }
        }
    }
    // In the order the worker paid (a reversal comes when it was posted).
    let mut paid: Vec<_> = s.payments.iter().filter(|p| in_range(p.paid_at)).collect();
    paid.sort_by_key(|p| (p.paid_at, p.entry_id));
    for p in paid {
        let (kind, kind_en) = match (p.kind.as_str(), p.counter_method.as_deref()) {
            ("repayment", _) => ("Thu nợ", "Repayment"),
            ("counter_repayment", Some("transfer")) => ("Thu chuyển khoản", "Bank transfer"),
            ("counter_repayment", _) => ("Thu tại quầy", "At the counter"),
            _ => ("Đảo bút toán", "Reversal"),
        };
        payments.rows.push(vec![
            Cell::DateTime(p.paid_at),
            Cell::DateTime(p.posted_at),
            Cell::text(loan_code(p.loan_id)),
            match p.reverses {
                Some(e) => Cell::words(format!("{kind} số {e}"), format!("{kind_en} of {e}")),
                None => Cell::words(kind, kind_en),
            },
            Cell::text(p.receipt_no.clone().unwrap_or_default()),
            Cell::Money(p.principal),
            Cell::Money(p.interest),
            Cell::Money(p.principal + p.interest),
            match p.kind.as_str() {
                "counter_repayment" => Cell::words(
                    format!("Quầy giao dịch ({})", p.posted_by_name),
                    format!("Branch counter ({})", p.posted_by_name),
                ),
                "reversal" => Cell::words(
                    format!("Đảo bởi {}", p.posted_by_name),
                    format!("Reversed by {}", p.posted_by_name),
                ),
                _ => Cell::text(p.officer_name.clone()),
            },
            Cell::text(p.entry_id.to_string()),
        ]);
    }
    payments.sum_totals();
    let mut gifts = Sheet::new(
        "gifts",
        Text::new("Quà đã nhận", "Gifts received"),
        vec![
            col("recorded_at", "Thời gian", "When", Kind::DateTime),
            col(
                "campaign_code",
                "Mã chương trình",
                "Campaign code",
                Kind::Text,
            ),
            col("campaign", "Chương trình", "Campaign", Kind::Text),
            col("value", "Giá trị", "Value", Kind::Money),
            col("officer", "Cán bộ trao", "Officer", Kind::Text),
            col("state", "Trạng thái", "State", Kind::Text),
            col(
                "acknowledged_by",
                "Người nhận xác nhận",
                "Acknowledged by",
                Kind::Text,
            ),
            col("signature", "Ảnh chữ ký", "Signature image", Kind::Text),
        ],
    );
    for g in s.gifts.iter().filter(|g| in_range(g.recorded_at)) {
        let state = match g.state.as_str() {
            "approved" => ("Đã duyệt", "Approved"),
            "handed_out" => (
                "Đã trao thật (ghi sổ khi xử lý bản ghi bị từ chối)",
                "Handed out for real (booked when its refused record was settled)",
            ),
            "pending" => ("Chờ duyệt", "Pending"),
            "reversed" => ("Đã đảo", "Reversed"),
            "voided" => ("Đã hủy", "Voided"),
            "excluded" => ("Bị loại", "Excluded"),
            _ => ("Bị từ chối", "Refused"),
        };
        let counts = matches!(g.state.as_str(), "approved" | "handed_out");
        gifts.rows.push(vec![
            Cell::DateTime(g.recorded_at),
            Cell::text(&g.campaign_code),
            Cell::text(&g.campaign_name),
            Cell::Money(if counts { g.gift_value } else { 0 }),
            Cell::text(&g.officer_name),
            Cell::words(state.0, state.1),
            Cell::text(
                crate::review::gift_payload(&g.body)
                    .map(|h| h.acknowledged_name)
                    .unwrap_or_default(),
            ),
            match g.signature.as_str() {
                "received" => Cell::words("Đã nhận", "Received"),
                "waiting" => Cell::words("Chưa gửi lên", "Not sent yet"),
                _ => Cell::words("Không có", "None"),
            },
        ]);
    }
    gifts.sum_totals();
    let who = &s.worker;
    // Who the statement is of, on its own sheet: the downloaded files say it.
    let mut worker = Sheet::new(
        "worker",
        Text::new("Người lao động", "Worker"),
        vec![
            col("code", "Mã người lao động", "Worker code", Kind::Text),
            col("name", "Họ và tên", "Name", Kind::Text),
            col("cccd", "Số CCCD", "ID card", Kind::Text),
            col("phone", "Điện thoại", "Phone", Kind::Text),
            col("branch", "Chi nhánh", "Branch", Kind::Text),
            col("officer", "Cán bộ", "Officer", Kind::Text),
            col("employer", "Nơi làm việc", "Employer", Kind::Text),
            col("boarding_house", "Nhà trọ", "Boarding house", Kind::Text),
            col("room", "Phòng", "Room", Kind::Text),
        ],
    );
    worker.rows.push(vec![
        Cell::text(&who.code),
        Cell::text(&who.full_name),
        Cell::text(&who.cccd),
        Cell::text(
            who.phone
                .as_deref()
                .map(sotay_core::domain::ids::format_phone)
                .unwrap_or_default(),
        ),
        Cell::text(s.names.branch(who.branch_id)),
        Cell::words(
            s.names.officer(who.officer_id),
            s.names.officer_en(who.officer_id),
        ),
        Cell::text(&who.employer),
        Cell::text(&who.boarding_house),
        Cell::text(&who.room),
    ]);
    let mut sub = vec![
        format!("{} ({})", who.full_name, who.code),
        format!("CCCD {}", who.cccd),
        s.names.branch(who.branch_id),
    ];
    let mut sub_en = sub.clone();
    sub_en[1] = format!("ID card {}", who.cccd);
    sub.push(format!("Cán bộ: {}", s.names.officer(who.officer_id)));
    sub_en.push(format!("Officer: {}", s.names.officer_en(who.officer_id)));
    let range = range_text(f.from, f.to);
    if !range.vi.is_empty() {
        // The range narrows payments and gifts; loans and schedules are
        // as they stand today.
        let today = format_date(today());
        sub.push(format!(
            "thanh toán và quà {}; khoản vay và lịch trả nợ tính đến hôm nay {today}",
            range.vi
        ));
        sub_en.push(format!(
            "payments and gifts {}; loans and schedules as they stand today, {today}",
            range.en
        ));
    }
    Ok(Report {
        name: "worker-statement",
        title: Text::new("Sao kê người lao động", "Worker statement"),
        subtitle: Text::new(sub.join(", "), sub_en.join(", ")),
        from: f.from,
        to: f.to,
        subject: vec![who.code.clone()],
        notes: Vec::new(),
        sheets: vec![worker, loans, schedule, payments, gifts],
    })
}

/// The books kept of a branch's money, one account each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Book {
    /// Sổ quỹ tiền mặt: the vault's cash, checked against the count.
    Vault,
    /// Sổ tiền gửi ngân hàng: the bank account, checked against the bank's
    /// statement.
    Bank,
}

impl Book {
    fn account(self) -> crate::ledger::Account {
        match self {
            Book::Vault => crate::ledger::Account::Vault,
            Book::Bank => crate::ledger::Account::Bank,
        }
    }

    /// What the report, its sheet and its columns are called.
    fn words(self) -> BookWords {
        match self {
            Book::Vault => BookWords {
                name: "vault-cash-book",
                title: ("Sổ quỹ tiền mặt", "Vault cash book"),
                sheet: ("Sổ quỹ", "Cash book"),
                balance: ("Tồn quỹ", "Balance"),
                money_in: ("Thu", "In"),
                money_out: ("Chi", "Out"),
                opening: ("Tồn đầu kỳ", "Opening balance"),
                closing: ("Tồn cuối kỳ", "Closing balance"),
            },
            Book::Bank => BookWords {
                name: "bank-book",
                title: ("Sổ tiền gửi ngân hàng", "Bank book"),
                sheet: ("Sổ tiền gửi", "Bank book"),
                balance: ("Số dư", "Balance"),
                money_in: ("Gửi vào", "In"),
                money_out: ("Rút ra", "Out"),
                opening: ("Số dư đầu kỳ", "Opening balance"),
                closing: ("Số dư cuối kỳ", "Closing balance"),
            },
        }
    }
}

/// A book's names: the report's, then (Vietnamese, English) pairs.
struct BookWords {
    name: &'static str,
    title: (&'static str, &'static str),
    sheet: (&'static str, &'static str),
    balance: (&'static str, &'static str),
    money_in: (&'static str, &'static str),
    money_out: (&'static str, &'static str),
    opening: (&'static str, &'static str),
    closing: (&'static str, &'static str),
}

/// A branch's book of one account for days `from`..`to` (default today):
/// the vault's cash book (sổ quỹ tiền mặt), whose closing balance is what
/// the vault should hold when counted, or the bank book (sổ tiền gửi ngân
/// hàng), whose closing balance is what the bank's statement should show.
/// Each branch's opening balance, every movement in and out with its
/// entry, who posted it and the balance after it, and the closing balance.
pub async fn account_book(db: &Db, scope: Scope, f: &Filter, book: Book) -> DbResult<Report> {
    let words = book.words();
    let w = Where::resolve_in(db, scope, f).await?;
    let w = Where { officer: None, ..w };
    let to = f.to.unwrap_or_else(today);
    let from = f.from.unwrap_or(to);
    if from > to || (to - from).num_days() > 366 {
        return Err(DbError::Invalid(format!(
            "the {} covers 1 to 367 days, from before to",
            words.title.1.to_lowercase()
        )));
    }
    let (start, end) = (day_start(from), day_start(to + Duration::days(1)));
    let (names, closing, moves) = db.report_book(&w, book.account(), start, end).await?;
    // Every branch in scope, even one whose account never moved.
    let mut branches: BTreeMap<i64, (i64, Vec<&rows::BookMove>)> = names
        .branches
        .keys()
        .filter(|b| w.branch.is_none_or(|x| x == **b))
        .map(|b| (*b, (0, Vec::new())))
        .collect();
    for (b, balance) in closing {
        branches.entry(b).or_default().0 = balance;
    }
    for m in &moves {
        let (balance, days) = branches.entry(m.branch_id).or_default();
        // The last day's closing, taken back over the days' movements, is
        // the first day's opening.
        *balance -= m.debit - m.credit;
        days.push(m);
    }
    let (money_in, money_out) = (words.money_in, words.money_out);
    let mut sheet = Sheet::new(
        "moves",
        Text::new(words.sheet.0, words.sheet.1),
        vec![
            col("posted_at", "Thời điểm", "Posted", Kind::DateTime),
            col("branch", "Chi nhánh", "Branch", Kind::Text),
            col("entry_id", "Bút toán", "Entry", Kind::Text),
            col("kind", "Loại", "Kind", Kind::Text),
            col("memo", "Diễn giải", "Memo", Kind::Text),
            col("posted_by", "Người ghi sổ", "Posted by", Kind::Text),
            col("cash_in", money_in.0, money_in.1, Kind::Money),
            col("cash_out", money_out.0, money_out.1, Kind::Money),
            col("balance", words.balance.0, words.balance.1, Kind::Money),
        ],
    );
    let mut summary = Sheet::new(
        "by_branch",
        Text::new("Theo chi nhánh", "By branch"),
        vec![
            col("branch", "Chi nhánh", "Branch", Kind::Text),
            col("opening", words.opening.0, words.opening.1, Kind::Money),
            col("cash_in", money_in.0, money_in.1, Kind::Money),
            col("cash_out", money_out.0, money_out.1, Kind::Money),
            col("closing", words.closing.0, words.closing.1, Kind::Money),
            col("moves", "Số bút toán", "Movements", Kind::Count),
        ],
    );
    for (branch, (opening, days)) in &branches {
        let name = names.branch(*branch);
        let mut balance = *opening;
        let (mut cash_in, mut cash_out) = (0, 0);
        for m in days {
            balance += m.debit - m.credit;
            cash_in += m.debit;
            cash_out += m.credit;
            sheet.rows.push(vec![
                Cell::DateTime(m.posted_at),
                Cell::text(&name),
                Cell::text(m.entry_id.to_string()),
                {
                    let (vi, en) = crate::ledger::EntryKind::name(&m.kind);
                    Cell::words(vi, en)
                },
                Cell::text(&m.memo),
                Cell::text(m.posted_by.clone().unwrap_or_default()),
                Cell::Money(m.debit),
                Cell::Money(m.credit),
                Cell::Money(balance),
            ]);
        }
        summary.rows.push(vec![
            Cell::text(&name),
            Cell::Money(*opening),
            Cell::Money(cash_in),
            Cell::Money(cash_out),
            Cell::Money(balance),
            Cell::Count(days.len() as i64),
        ]);
    }
    sheet.sum_totals();
    if let Some(t) = sheet.totals.as_mut() {
        // A running balance does not add up.
        t[8] = Cell::Empty;
    }
    summary.sum_totals();
    Ok(Report {
        name: words.name,
        title: Text::new(words.title.0, words.title.1),
        subtitle: subtitle(&names, &w, range_text(Some(from), Some(to))),
        from: Some(from),
        to: Some(to),
        subject: subject(&names, &w),
        notes: Vec::new(),
        sheets: vec![summary, sheet],
    })
}

/// Everything a statement reads.
pub struct StatementData {
    pub names: Names,
    pub worker: rows::StatementWorker,
    pub loans: Vec<rows::StatementLoan>,
    pub installments: Vec<rows::StatementInstallment>,
    pub payments: Vec<rows::StatementPayment>,
    pub gifts: Vec<rows::StatementGift>,
}

/// Everything the visits report reads.
pub struct VisitData {
    pub names: Names,
    pub visits: Vec<rows::VisitRow>,
    /// The active officers in scope: (officer, branch).
    pub officers: Vec<(i64, i64)>,
    pub hardship: Vec<rows::HardshipRow>,
}

/// Everything campaign progress reads.
pub struct CampaignData {
    pub names: Names,
    pub campaigns: Vec<rows::CampaignRow>,
    pub gifts: Vec<rows::GiftCountRow>,
    pub branch_quotas: Vec<(i64, i64, i64)>,
    pub officer_quotas: Vec<(i64, i64, i64)>,
}
