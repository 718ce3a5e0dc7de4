// The reports' SQL (see `crate::reports`). Included into each backend
// module (see `mod.rs`); rows are the pure types of `crate::reports::rows`.
//
// Every query takes a resolved `Where` (the caller's scope already applied
// to the filter) and appends its conditions as bound parameters.

use chrono::{DateTime, NaiveDate, Utc};

use crate::reports::rows as rr;
use crate::reports::Where;

fn scoped(qb: &mut sqlx::QueryBuilder<'_, DB>, w: &Where, branch_col: &str, officer_col: &str) {
    if let Some(b) = w.branch {
        qb.push(format!(" AND {branch_col} = ")).push_bind(b);
    }
    if let Some(o) = w.officer {
        qb.push(format!(" AND {officer_col} = ")).push_bind(o);
    }
}

/// Adds one posting's totals to the day's summary rows, in the posting's
/// transaction.
pub async fn daily_add(c: &mut Conn, day: NaiveDate, rows: &[((i64, i64), rr::DailyDelta)]) -> DbResult<()> {
    for chunk in rows.chunks(500) {
        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "INSERT INTO report_daily (day, branch_id, officer_id, principal_net, interest_net, reversed,
                 cash_expected, cash_received, shortage, counter_cash, counter_transfer, repayments, reversals, batches) ",
        );
        qb.push_values(chunk, |mut b, ((branch, officer), d)| {
            b.push_bind(day)
                .push_bind(*branch)
                .push_bind(*officer)
                .push_bind(d.principal_net)
                .push_bind(d.interest_net)
                .push_bind(d.reversed)
                .push_bind(d.cash_expected)
                .push_bind(d.cash_received)
                .push_bind(d.shortage)
                .push_bind(d.counter_cash)
                .push_bind(d.counter_transfer)
                .push_bind(d.repayments)
                .push_bind(d.reversals)
                .push_bind(d.batches);
        });
        qb.push(
            " ON CONFLICT (day, branch_id, officer_id) DO UPDATE SET
                principal_net = report_daily.principal_net + excluded.principal_net,
                interest_net = report_daily.interest_net + excluded.interest_net,
                reversed = report_daily.reversed + excluded.reversed,
                cash_expected = report_daily.cash_expected + excluded.cash_expected,
                cash_received = report_daily.cash_received + excluded.cash_received,
                shortage = report_daily.shortage + excluded.shortage,
                counter_cash = report_daily.counter_cash + excluded.counter_cash,
                counter_transfer = report_daily.counter_transfer + excluded.counter_transfer,
                repayments = report_daily.repayments + excluded.repayments,
                reversals = report_daily.reversals + excluded.reversals,
                batches = report_daily.batches + excluded.batches",
        );
        qb.build().execute(&mut *c).await?;
    }
    Ok(())
}

/// Branch names and officers (id, name, branch) to label rows.
pub async fn names(c: &mut Conn) -> DbResult<rr::Names> {
    let branches: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT id, code, name FROM branches ORDER BY id").fetch_all(&mut *c).await?;
    let users: Vec<(i64, String, String, Option<i64>, String)> =
        sqlx::query_as("SELECT id, code, full_name, branch_id, username FROM users ORDER BY id")
            .fetch_all(&mut *c)
            .await?;
    Ok(rr::Names::new(branches, users))
}

pub async fn daily_posted(c: &mut Conn, w: &Where, from: NaiveDate, to: NaiveDate) -> DbResult<Vec<rr::DailyPostedRow>> {
    let mut qb = sqlx::QueryBuilder::<DB>::new(
        "SELECT day, branch_id, officer_id, principal_net, interest_net, reversed, cash_expected, cash_received,
                shortage, counter_cash, counter_transfer, repayments, reversals, batches
         FROM report_daily WHERE day >= ",
    );
    qb.push_bind(from).push(" AND day <= ").push_bind(to);
    scoped(&mut qb, w, "branch_id", "officer_id");
    qb.push(" ORDER BY day, branch_id, officer_id");
    Ok(qb.build_query_as().fetch_all(&mut *c).await?)
}

/// Each branch's balance of `account` (its vault or bank account) now
/// (debits − credits), from the kept balances.
pub async fn book_now(c: &mut Conn, w: &Where, account: &str) -> DbResult<Vec<(i64, i64)>> {
    let mut qb = sqlx::QueryBuilder::<DB>::new(
        "SELECT branch_id, CAST(SUM(debit - credit) AS BIGINT) FROM account_balances WHERE account = ",
    );
    qb.push_bind(account.to_string());
    if let Some(b) = w.branch {
        qb.push(" AND branch_id = ").push_bind(b);
    }
    qb.push(" GROUP BY branch_id");
    Ok(qb.build_query_as().fetch_all(&mut *c).await?)
}

/// The movements of `account` posted in `from`..`to` (UTC), by branch and
/// time.
pub async fn book_moves(
    c: &mut Conn,
    w: &Where,
    account: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> DbResult<Vec<rr::BookMove>> {
    let mut qb = sqlx::QueryBuilder::<DB>::new(
        "SELECT l.branch_id, e.id AS entry_id, e.kind, e.memo, e.posted_at, u.full_name AS posted_by, l.debit, l.credit
         FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id LEFT JOIN users u ON u.id = e.posted_by
         WHERE l.account = ",
    );
    qb.push_bind(account.to_string()).push(" AND e.posted_at >= ");
    qb.push_bind(from).push(" AND e.posted_at < ").push_bind(to);
    if let Some(b) = w.branch {
        qb.push(" AND l.branch_id = ").push_bind(b);
    }
    qb.push(" ORDER BY l.branch_id, e.posted_at, e.id, l.id");
    Ok(qb.build_query_as().fetch_all(&mut *c).await?)
}

/// What each branch's `account` took in net (debits − credits) from
/// `since` (UTC) on: the balance now taken back over it is the balance at
/// `since`.
pub async fn book_since(c: &mut Conn, w: &Where, account: &str, since: DateTime<Utc>) -> DbResult<Vec<(i64, i64)>> {
    let mut qb = sqlx::QueryBuilder::<DB>::new(
        "SELECT l.branch_id, CAST(SUM(l.debit - l.credit) AS BIGINT)
         FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id
         WHERE l.account = ",
    );
    qb.push_bind(account.to_string()).push(" AND e.posted_at >= ");
    qb.push_bind(since);
    if let Some(b) = w.branch {
        qb.push(" AND l.branch_id = ").push_bind(b);
    }
    qb.push(" GROUP BY l.branch_id");
    Ok(qb.build_query_as().fetch_all(&mut *c).await?)
}

/// What the schedules say is due each day, by the loans' current officer:
/// the `report_due` summary, kept by triggers with the installments (and
/// moved when a worker or loan changes hands). Rows emptied by a move are
/// skipped.
pub async fn daily_due(c: &mut Conn, w: &Where, from: NaiveDate, to: NaiveDate) -> DbResult<Vec<rr::DailyDueRow>> {
    let mut qb = sqlx::QueryBuilder::<DB>::new(
        "SELECT day, branch_id, officer_id, due, installments FROM report_due WHERE day >= ",
    );
    qb.push_bind(from).push(" AND day <= ").push_bind(to);
    scoped(&mut qb, w, "branch_id", "officer_id");
    qb.push(" AND installments <> 0");
    Ok(qb.build_query_as().fetch_all(&mut *c).await?)
}

/// Active loans and their outstanding principal by branch and officer: the
/// `report_portfolio` summary, kept by triggers with the loans.
pub async fn portfolio(c: &mut Conn, w: &Where) -> DbResult<Vec<rr::PortfolioRow>> {
    let mut qb = sqlx::QueryBuilder::<DB>::new(
        "SELECT branch_id, officer_id, loans, principal_outstanding FROM report_portfolio WHERE loans <> 0",
    );
    scoped(&mut qb, w, "branch_id", "officer_id");
    Ok(qb.build_query_as().fetch_all(&mut *c).await?)
}

/// Active loans with an installment unpaid and due before `as_of`, by
/// branch, officer and ageing bucket. The loans are those whose oldest
/// unpaid due date (kept by triggers) is before `as_of`, read in the order
/// of `loans_active_oldest_unpaid` (and grouped per loan in that order, so
/// without a sort), each with its unpaid installments due before `as_of`.
/// SQLite is told the index: without range statistics it would rather scan
/// every loan.
pub async fn overdue(c: &mut Conn, w: &Where, as_of: NaiveDate) -> DbResult<Vec<rr::OverdueRow>> {
    let indexed = if IS_SQLITE { " INDEXED BY loans_active_oldest_unpaid" } else { "" };
    let mut qb = sqlx::QueryBuilder::<DB>::new(
        "SELECT branch_id, officer_id, bucket, COUNT(*) AS loans,
                CAST(SUM(principal_outstanding) AS BIGINT) AS principal_outstanding,
                CAST(SUM(overdue_principal) AS BIGINT) AS overdue_principal,
                CAST(SUM(overdue_interest) AS BIGINT) AS overdue_interest,
                CAST(SUM(installments) AS BIGINT) AS installments
         FROM (SELECT l.worker_branch_id AS branch_id, l.worker_officer_id AS officer_id, l.principal_outstanding,
                      CAST(CASE",
    );
    // Bucket i holds the loans overdue at most BUCKETS[i].3 days.
    for (i, b) in crate::reports::BUCKETS.iter().enumerate().take(crate::reports::BUCKETS.len() - 1) {
        qb.push(" WHEN l.oldest_unpaid_due >= ")
            .push_bind(as_of - chrono::Duration::days(b.3))
            .push(format!(" THEN {i}"));
    }
    qb.push(format!(
        " ELSE {} END AS BIGINT) AS bucket,
                 SUM(i.principal_due - i.principal_paid) AS overdue_principal,
                 SUM(i.interest_due - i.interest_paid) AS overdue_interest, COUNT(*) AS installments
          FROM loans l{indexed} JOIN installments i ON i.loan_id = l.id
          WHERE l.status = 'active' AND l.oldest_unpaid_due < ",
        crate::reports::BUCKETS.len() - 1
    ));
    qb.push_bind(as_of)
        .push(" AND (i.principal_paid < i.principal_due OR i.interest_paid < i.interest_due) AND i.due_on < ")
        .push_bind(as_of);
    scoped(&mut qb, w, "l.worker_branch_id", "l.worker_officer_id");
    qb.push(
        " GROUP BY l.oldest_unpaid_due, l.worker_branch_id, l.worker_officer_id, l.principal_outstanding, l.id) AS o
         GROUP BY branch_id, officer_id, bucket",
    );
    Ok(qb.build_query_as().fetch_all(&mut *c).await?)
}

/// The active loans with an installment unpaid and due before `as_of`, one
/// row each with its borrower, the longest overdue first (the loans read as
/// in [`overdue`]).
pub async fn overdue_loans(c: &mut Conn, w: &Where, as_of: NaiveDate) -> DbResult<Vec<rr::OverdueLoanRow>> {
    let indexed = if IS_SQLITE { " INDEXED BY loans_active_oldest_unpaid" } else { "" };
    let mut qb = sqlx::QueryBuilder::<DB>::new(format!(
        "SELECT l.id AS loan_id, l.code AS loan_code, l.worker_branch_id AS branch_id,
                l.worker_officer_id AS officer_id, w.id AS worker_id, w.code AS worker_code,
                w.full_name AS worker_name, w.phone, b.name AS house, w.room, l.oldest_unpaid_due,
                l.principal_outstanding,
                CAST(SUM(i.principal_due - i.principal_paid) AS BIGINT) AS overdue_principal,
                CAST(SUM(i.interest_due - i.interest_paid) AS BIGINT) AS overdue_interest,
                COUNT(*) AS installments
         FROM loans l{indexed} JOIN installments i ON i.loan_id = l.id JOIN workers w ON w.id = l.worker_id
             LEFT JOIN boarding_houses b ON b.id = w.boarding_house_id
         WHERE l.status = 'active' AND l.oldest_unpaid_due < "
    ));
    qb.push_bind(as_of)
        .push(" AND (i.principal_paid < i.principal_due OR i.interest_paid < i.interest_due) AND i.due_on < ")
        .push_bind(as_of);
    scoped(&mut qb, w, "l.worker_branch_id", "l.worker_officer_id");
    qb.push(" GROUP BY l.id, w.id, b.id ORDER BY l.oldest_unpaid_due, l.id");
    Ok(qb.build_query_as().fetch_all(&mut *c).await?)
}

pub async fn campaigns(c: &mut Conn, only: Option<i64>) -> DbResult<Vec<rr::CampaignRow>> {
    let mut qb = sqlx::QueryBuilder::<DB>::new(
        "SELECT id, code, name, kind, starts_on, ends_on, gift_value, target_count FROM campaigns WHERE 1 = 1",
    );
    if let Some(k) = only {
        qb.push(" AND id = ").push_bind(k);
    }
    qb.push(" ORDER BY starts_on, id");
    Ok(qb.build_query_as().fetch_all(&mut *c).await?)
}

pub async fn quotas(c: &mut Conn) -> DbResult<(Vec<(i64, i64, i64)>, Vec<(i64, i64, i64)>)> {
    let branch = sqlx::query_as("SELECT campaign_id, branch_id, quota FROM campaign_branch_quotas")
        .fetch_all(&mut *c)
        .await?;
    let officer = sqlx::query_as("SELECT campaign_id, officer_id, quota FROM campaign_officer_quotas")
        .fetch_all(&mut *c)
        .await?;
    Ok((branch, officer))
}

const GIFT_REVERSED: &str = "EXISTS (SELECT 1 FROM journal_entries je JOIN journal_entries rj ON rj.reverses = je.id
     WHERE je.record_id = g.id)";
/// A void that stands takes record `g` back (one the supervisor rejected
/// in a later batch cancels nothing).
const RECORD_VOIDED: &str = concat!(
    "EXISTS (SELECT 1 FROM sync_records v WHERE v.target_client_id = g.client_id AND v.kind = 'void' AND ",
    void_stands_sql!(v, g),
    ")"
);
/// A refused gift record `g` settled as a package handed out for real.
const GIFT_HANDED_OUT: &str = handed_out_sql!(g);
/// A refused gift record `g` whose package was handed out for real to a
/// worker who had the campaign's gift already (another phone's): it came off
/// the stock (not reversed since) without counting as a gift.
const GIFT_STOCKED_OUT: &str = "EXISTS (SELECT 1 FROM refused_settlements so WHERE so.record_id = g.id
     AND so.entry_id IS NOT NULL AND NOT so.handed_out
     AND NOT EXISTS (SELECT 1 FROM journal_entries sx WHERE sx.reverses = so.entry_id))";
/// A gift record `g` kept in quarantine that still holds its worker's gift
/// and the officer's allocation (as the upload and the phones count it).
const GIFT_HELD: &str = held_in_quarantine_sql!(g);
/// No void that stands takes gift `g` back (one rejected at review does
/// not), as the upload and the phones count it.
const GIFT_NO_LIVE_VOID: &str = no_live_void_sql!(g);

/// Gifts by campaign, branch and officer: approved (and not reversed), or
/// refused and settled as handed out for real; still waiting for review
/// (and not voided); and held in quarantine; recorded within the range.
pub async fn gifts(
    c: &mut Conn,
    w: &Where,
    campaign: Option<i64>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> DbResult<Vec<rr::GiftCountRow>> {
    let mut qb = sqlx::QueryBuilder::<DB>::new(format!(
        "SELECT g.campaign_id, gb.branch_id, g.officer_id,
                CAST(SUM(CASE WHEN (g.status = 'accepted' AND rv.decision = 'approved' AND NOT {GIFT_REVERSED})
                              OR {GIFT_HANDED_OUT} THEN 1 ELSE 0 END) AS BIGINT) AS approved,
                CAST(SUM(CASE WHEN g.status = 'accepted' AND rv.record_id IS NULL AND {GIFT_NO_LIVE_VOID}
                              THEN 1 ELSE 0 END) AS BIGINT) AS pending,
                CAST(SUM(CASE WHEN {GIFT_HELD} THEN 1 ELSE 0 END) AS BIGINT) AS held,
                CAST(SUM(CASE WHEN {GIFT_STOCKED_OUT} THEN 1 ELSE 0 END) AS BIGINT) AS stock_out
         FROM sync_records g JOIN sync_batches gb ON gb.batch_id = g.batch_id
             LEFT JOIN record_reviews rv ON rv.record_id = g.id
         WHERE g.kind = 'gift_handout'
           AND (g.status IN ('accepted', 'quarantined') OR {GIFT_HANDED_OUT} OR {GIFT_STOCKED_OUT})"
    ));
    if let Some(k) = campaign {
        qb.push(" AND g.campaign_id = ").push_bind(k);
    }
    if let Some(t) = from {
        qb.push(" AND g.recorded_at >= ").push_bind(t);
        qb.push(" AND g.received_at >= ").push_bind(arrived_from(t));
    }
    if let Some(t) = to {
        qb.push(" AND g.recorded_at < ").push_bind(t);
    }
    scoped(&mut qb, w, "gb.branch_id", "g.officer_id");
    qb.push(" GROUP BY g.campaign_id, gb.branch_id, g.officer_id");
    Ok(qb.build_query_as().fetch_all(&mut *c).await?)
}

/// The earliest arrival of an accepted record recorded at `recorded` or
/// later: the upload refuses records recorded more than the phone's clock
/// tolerance after they arrive. Bounds the reports' scans of the
/// `(kind, received_at)` index (migration 0014).
fn arrived_from(recorded: DateTime<Utc>) -> DateTime<Utc> {
    recorded - chrono::Duration::minutes(FUTURE_TOLERANCE_MINUTES)
}

/// Visits recorded within the range (not voided, not rejected nor excluded
/// at review), with their bodies (the purpose is read from the record) and
/// whether a supervisor approved them (`approved` 1) or they still wait
/// for review (0).
pub async fn visits(c: &mut Conn, w: &Where, from: DateTime<Utc>, to: DateTime<Utc>) -> DbResult<Vec<rr::VisitRow>> {
    let mut qb = sqlx::QueryBuilder::<DB>::new(format!(
        "SELECT gb.branch_id, g.officer_id, g.body,
                CAST(CASE WHEN rv.decision = 'approved' THEN 1 ELSE 0 END AS BIGINT) AS approved
         FROM sync_records g JOIN sync_batches gb ON gb.batch_id = g.batch_id
         LEFT JOIN record_reviews rv ON rv.record_id = g.id
         WHERE g.kind = 'visit' AND g.status = 'accepted' AND (rv.decision IS NULL OR rv.decision = 'approved')
           AND NOT {RECORD_VOIDED} AND g.recorded_at >= "
    ));
    qb.push_bind(from).push(" AND g.recorded_at < ").push_bind(to);
    qb.push(" AND g.received_at >= ").push_bind(arrived_from(from));
    scoped(&mut qb, w, "gb.branch_id", "g.officer_id");
    Ok(qb.build_query_as().fetch_all(&mut *c).await?)
}

/// The officers a visits report has a row for, visits or none: the active
/// officers in scope, with their branch.
pub async fn visit_officers(c: &mut Conn, w: &Where) -> DbResult<Vec<(i64, i64)>> {
    let mut qb = sqlx::QueryBuilder::<DB>::new(
        "SELECT id, branch_id FROM users WHERE role = 'officer' AND active AND branch_id IS NOT NULL",
    );
    scoped(&mut qb, w, "branch_id", "id");
    qb.push(" ORDER BY branch_id, id");
    Ok(qb.build_query_as().fetch_all(&mut *c).await?)
}

/// Workers in hardship with the time of their last visit a supervisor
/// approved (if any; not voided since), and of their last visit still
/// waiting for review.
pub async fn hardship_workers(c: &mut Conn, w: &Where) -> DbResult<Vec<rr::HardshipRow>> {
    let hardship = if IS_SQLITE { "w.hardship = 1" } else { "w.hardship" };
    let mut qb = sqlx::QueryBuilder::<DB>::new(format!(
        "SELECT w.id AS worker_id, w.code, w.full_name, w.branch_id, w.officer_id, w.hardship_note,
                COALESCE(bh.name, '') AS boarding_house, w.room,
                (SELECT MAX(g.recorded_at) FROM sync_records g JOIN record_reviews rv ON rv.record_id = g.id
                  WHERE g.worker_id = w.id AND g.kind = 'visit' AND g.status = 'accepted'
                    AND rv.decision = 'approved' AND NOT {RECORD_VOIDED}) AS last_visit,
                (SELECT MAX(g.recorded_at) FROM sync_records g
                  WHERE g.worker_id = w.id AND g.kind = 'visit' AND g.status = 'accepted'
                    AND NOT EXISTS (SELECT 1 FROM record_reviews rv WHERE rv.record_id = g.id)
                    AND NOT {RECORD_VOIDED}) AS last_pending
         FROM workers w LEFT JOIN boarding_houses bh ON bh.id = w.boarding_house_id WHERE {hardship}"
    ));
    scoped(&mut qb, w, "w.branch_id", "w.officer_id");
    qb.push(" ORDER BY w.branch_id, w.officer_id, w.full_name");
    Ok(qb.build_query_as().fetch_all(&mut *c).await?)
}

pub async fn statement_worker(c: &mut Conn, w: &Where, worker_id: i64) -> DbResult<Option<rr::StatementWorker>> {
    let mut qb = sqlx::QueryBuilder::<DB>::new(
        "SELECT w.id, w.code, w.full_name, w.cccd, w.phone, w.branch_id, w.officer_id, w.employer,
                COALESCE(bh.name, '') AS boarding_house, w.room
         FROM workers w LEFT JOIN boarding_houses bh ON bh.id = w.boarding_house_id WHERE w.id = ",
    );
    qb.push_bind(worker_id);
    scoped(&mut qb, w, "w.branch_id", "w.officer_id");
    Ok(qb.build_query_as().fetch_optional(&mut *c).await?)
}

pub async fn statement_loans(c: &mut Conn, worker_id: i64) -> DbResult<Vec<rr::StatementLoan>> {
    Ok(sqlx::query_as(
        "SELECT l.id, l.code, p.name AS product, l.principal, l.annual_rate_bp, l.disbursed_on, l.status,
                l.principal_outstanding
         FROM loans l JOIN loan_products p ON p.id = l.product_id
         WHERE l.worker_id = $1
           -- A loan paid out in error and taken back was never the worker's.
           AND NOT EXISTS (SELECT 1 FROM loan_cancellations x WHERE x.loan_id = l.id)
         ORDER BY l.disbursed_on, l.id",
    )
    .bind(worker_id)
    .fetch_all(&mut *c)
    .await?)
}

pub async fn statement_installments(c: &mut Conn, worker_id: i64) -> DbResult<Vec<rr::StatementInstallment>> {
    Ok(sqlx::query_as(
        "SELECT i.loan_id, i.number, i.due_on, i.principal_due, i.interest_due, i.principal_paid, i.interest_paid
         FROM installments i JOIN loans l ON l.id = i.loan_id WHERE l.worker_id = $1 ORDER BY i.loan_id, i.number",
    )
    .bind(worker_id)
    .fetch_all(&mut *c)
    .await?)
}

/// Every posted repayment, counter repayment and reversal of the worker's
/// loans, with its receipt number.
pub async fn statement_payments(c: &mut Conn, worker_id: i64) -> DbResult<Vec<rr::StatementPayment>> {
    Ok(sqlx::query_as(
        "SELECT e.id AS entry_id, e.loan_id, e.kind, e.posted_at, COALESCE(s.recorded_at, e.posted_at) AS paid_at,
                e.reverses, COALESCE(s.receipt_no, cr.receipt_no, os.receipt_no, ocr.receipt_no) AS receipt_no,
                CAST(COALESCE(SUM(CASE WHEN jl.account = 'loan_principal' THEN jl.credit - jl.debit ELSE 0 END), 0) AS BIGINT) AS principal,
                CAST(COALESCE(SUM(CASE WHEN jl.account = 'interest_income' THEN jl.credit - jl.debit ELSE 0 END), 0) AS BIGINT) AS interest,
                COALESCE(u.full_name, '') AS officer_name, cr.method AS counter_method,
                COALESCE(pb.full_name, '') AS posted_by_name
         FROM journal_entries e JOIN loans l ON l.id = e.loan_id
              JOIN journal_lines jl ON jl.entry_id = e.id
              LEFT JOIN sync_records s ON s.id = e.record_id AND e.kind = 'repayment'
              LEFT JOIN counter_repayments cr ON cr.id = e.counter_id
              LEFT JOIN journal_entries o ON o.id = e.reverses
              LEFT JOIN sync_records os ON os.id = o.record_id
              LEFT JOIN counter_repayments ocr ON ocr.id = o.counter_id
              LEFT JOIN users u ON u.id = e.officer_id
              LEFT JOIN users pb ON pb.id = e.posted_by
         WHERE l.worker_id = $1 AND e.kind IN ('repayment', 'counter_repayment', 'reversal')
           -- A loan taken back was never the worker's to pay: its reversal is no payment.
           AND NOT EXISTS (SELECT 1 FROM loan_cancellations x WHERE x.entry_id = e.id)
         GROUP BY e.id, e.loan_id, e.kind, e.posted_at, s.recorded_at, e.reverses, s.receipt_no, cr.receipt_no,
                  os.receipt_no, ocr.receipt_no, u.full_name, cr.method, pb.full_name
         ORDER BY e.posted_at, e.id",
    )
    .bind(worker_id)
    .fetch_all(&mut *c)
    .await?)
}

/// Gifts the worker received (approved or waiting for review, or refused
/// and settled as handed out for real), and those refused at review.
pub async fn statement_gifts(c: &mut Conn, worker_id: i64) -> DbResult<Vec<rr::StatementGift>> {
    let sql = format!(
        "SELECT k.code AS campaign_code, k.name AS campaign_name, k.gift_value, g.recorded_at,
                COALESCE(u.full_name, '') AS officer_name,
                CASE WHEN {GIFT_HANDED_OUT} THEN 'handed_out' WHEN {GIFT_REVERSED} THEN 'reversed'
                     WHEN {RECORD_VOIDED} THEN 'voided' ELSE COALESCE(rv.decision, 'pending') END AS state,
                g.body, g.officer_id, CASE WHEN s.sha256 IS NULL THEN '' ELSE 'received' END AS signature
         FROM sync_records g JOIN campaigns k ON k.id = g.campaign_id JOIN users u ON u.id = g.officer_id
              LEFT JOIN record_reviews rv ON rv.record_id = g.id
              LEFT JOIN signatures s ON s.record_id = g.id
         WHERE g.worker_id = $1 AND g.kind = 'gift_handout' AND (g.status = 'accepted' OR {GIFT_HANDED_OUT})
         ORDER BY g.recorded_at"
    );
    let mut gifts: Vec<rr::StatementGift> = sqlx::query_as(&sql).bind(worker_id).fetch_all(&mut *c).await?;
    // An image first sent for another record is this one's too when the
    // record names it.
    for g in gifts.iter_mut().filter(|g| g.signature.is_empty()) {
        g.signature = match super::review::expected_signature("gift_handout", &g.body) {
            None => "none".into(),
            Some(sha) => {
                let held: Option<i32> =
                    sqlx::query_scalar("SELECT 1 FROM signatures WHERE sha256 = $1 AND uploaded_by = $2")
                        .bind(&sha)
                        .bind(g.officer_id)
                        .fetch_optional(&mut *c)
                        .await?;
                if held.is_some() { "received" } else { "waiting" }.into()
            }
        };
    }
    Ok(gifts)
}
