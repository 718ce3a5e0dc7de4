//! The reports benchmark (issue 6 §4), on SQLite and on PostgreSQL in one
//! run: a CEP-size fund (300,000 loans with 24 biweekly installments each,
//! 35 branches, 1,000 officers, 8% of loans overdue by 1–8 installments) and
//! 10 million historical repayments in the journal (an entry and three lines
//! each, spread over two years), with the day summary the posting code keeps
//! built from the same repayments. Then the daily-collections report (one
//! day and 31 days; whole fund and one branch) and the portfolio-at-risk
//! report (whole fund and one branch), each the median of 7 runs through
//! the same functions the API calls.
//!
//! `cargo bench -p sotay-server --bench reports` (`scripts/bench.sh` runs it).
//! PostgreSQL: the admin URL in `SOTAY_BENCH_POSTGRES`, or a throwaway
//! cluster started with `scripts/pg-cluster.sh`. Scale: `SOTAY_BENCH_REPAYMENTS`
//! (default 10,000,000) and `SOTAY_BENCH_LOANS` (default 300,000).
//!
//! Generating the data takes minutes. With `SOTAY_BENCH_DATA=DIR` the
//! generated databases are kept — SQLite as `DIR/reports.sqlite`, PostgreSQL
//! as the database `sotay_bench_reports` of the cluster (`scripts/bench.sh`
//! keeps that cluster in `DIR/pg`) — and a later run at the same scale
//! measures them again instead of generating anew, with the bench's "today"
//! of the day they were made. Opening them runs the server's migrations as
//! any upgrade does, so the reports always run on the current schema; a
//! database whose applied migrations no longer match the code's is refused
//! by the migrator (delete `DIR` to start again).

mod common;

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use common::{Backend, PgCluster, Store};
use sotay_server::db::{Db, Scope};
use sotay_server::reports::{self, Filter};

const BRANCHES: i64 = 35;
const OFFICERS: i64 = 1_000;
const INSTALLMENTS: i64 = 24;
const DAYS: i64 = 730;
const RUNS: usize = 7;
const TARGET_MS: f64 = 300.0;

fn env_i64(name: &str, default: i64) -> i64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}

struct Scale {
    loans: i64,
    repayments: i64,
    /// The bench's "today": installments due before it are overdue unless paid.
    today: NaiveDate,
}

async fn run() {
    let scale = Scale {
        loans: env_i64("SOTAY_BENCH_LOANS", 300_000),
        repayments: env_i64("SOTAY_BENCH_REPAYMENTS", 10_000_000),
        today: reports::today(),
    };
    println!(
        "reports bench: {} loans × {INSTALLMENTS} installments, {BRANCHES} branches, {OFFICERS} officers, \
         {} repayments over {DAYS} days; median of {RUNS} runs",
        scale.loans, scale.repayments
    );
    let cluster = PgCluster::get();
    let kept = std::env::var_os("SOTAY_BENCH_DATA").map(std::path::PathBuf::from);
    let mut results: Vec<(Backend, Vec<(String, f64)>)> = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let (timings, scale_used) = match &kept {
            None => {
                let store = Store::open(backend, &cluster).await;
                generate_timed(backend, &store.db, &scale).await;
                let t = measure(&store.db, &scale).await;
                store.close(&cluster).await;
                (t, scale.today)
            }
            Some(dir) => {
                let (db, today) = open_kept(backend, &cluster, dir, &scale).await;
                let used = Scale { today, ..scale };
                let t = measure(&db, &used).await;
                db.close().await;
                (t, today)
            }
        };
        if scale_used != scale.today {
            println!("{backend:?}: kept data generated with today = {scale_used}");
        }
        for (name, ms) in &timings {
            println!("{backend:?}: {name:<44} {ms:>9.1} ms");
        }
        results.push((backend, timings));
    }
    println!();
    println!("| report | SQLite (ms) | PostgreSQL (ms) | PostgreSQL / SQLite |");
    println!("|---|---:|---:|---:|");
    let (sqlite, pg) = (&results[0].1, &results[1].1);
    let mut all_ok = true;
    for ((name, a), (_, b)) in sqlite.iter().zip(pg) {
        all_ok &= *a < TARGET_MS && *b < TARGET_MS;
        println!("| {name} | {a:.1} | {b:.1} | {:.2} |", b / a);
    }
    println!();
    println!(
        "target < {TARGET_MS} ms each: {}",
        if all_ok { "met" } else { "NOT met" }
    );
}

async fn generate_timed(backend: Backend, db: &Db, scale: &Scale) {
    let started = Instant::now();
    generate(db, scale).await;
    println!(
        "{backend:?}: generated the fund and {} repayments in {:.1} s",
        scale.repayments,
        started.elapsed().as_secs_f64()
    );
}

const KEPT_PG: &str = "sotay_bench_reports";

/// Opens the kept database of `backend` under `dir` (see the header),
/// generating it first unless it holds a finished generation at this scale;
/// returns it with the "today" it was generated for.
async fn open_kept(
    backend: Backend,
    cluster: &PgCluster,
    dir: &std::path::Path,
    scale: &Scale,
) -> (Db, NaiveDate) {
    let base = &cluster.admin[..cluster.admin.rfind('/').expect("admin URL")];
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.join("reports.sqlite").display()),
        Backend::Postgres => format!("{base}/{KEPT_PG}"),
    };
    let admin = || async {
        use sqlx::Connection;
        sqlx::PgConnection::connect(&cluster.admin)
            .await
            .expect("connect to the PostgreSQL cluster")
    };
    if backend == Backend::Postgres {
        let mut c = admin().await;
        let found: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
            .bind(KEPT_PG)
            .fetch_optional(&mut c)
            .await
            .expect("list databases");
        if found.is_none() {
            exec(&mut c, &format!("CREATE DATABASE {KEPT_PG}")).await;
        }
    }
    let db = Db::connect(&url).await.expect("open the kept database");
    let marker = format!(
        "SELECT today FROM bench_reports_data WHERE loans = {} AND repayments = {}",
        scale.loans, scale.repayments
    );
    let found: Option<(NaiveDate,)> = match &db {
        Db::Sqlite(p) => sqlx::query_as(&marker)
            .fetch_optional(p)
            .await
            .ok()
            .flatten(),
        Db::Postgres(p) => sqlx::query_as(&marker)
            .fetch_optional(p)
            .await
            .ok()
            .flatten(),
    };
    if let Some((today,)) = found {
        println!("{backend:?}: measuring the kept data in {url}");
        return (db, today);
    }
    // Not there, or from another scale or an unfinished run: start afresh.
    db.close().await;
    match backend {
        Backend::Sqlite => {
            std::fs::create_dir_all(dir).expect("the SOTAY_BENCH_DATA directory");
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(dir.join(format!("reports.sqlite{suffix}")));
            }
        }
        Backend::Postgres => {
            let mut c = admin().await;
            exec(&mut c, &format!("DROP DATABASE {KEPT_PG} WITH (FORCE)")).await;
            exec(&mut c, &format!("CREATE DATABASE {KEPT_PG}")).await;
        }
    }
    let db = Db::connect(&url).await.expect("open the kept database");
    generate_timed(backend, &db, scale).await;
    let mark = format!(
        "CREATE TABLE bench_reports_data (loans BIGINT NOT NULL, repayments BIGINT NOT NULL, today DATE NOT NULL);
         INSERT INTO bench_reports_data VALUES ({}, {}, '{}')",
        scale.loans, scale.repayments, scale.today
    );
    match &db {
        Db::Sqlite(p) => exec(&mut *p.acquire().await.expect("connection"), &mark).await,
        Db::Postgres(p) => exec(&mut *p.acquire().await.expect("connection"), &mark).await,
    }
    (db, scale.today)
}

async fn time<F, Fut>(mut f: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = reports::Report>,
{
    let _warm = f().await;
    let mut v: Vec<Duration> = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let t = Instant::now();
        let r = f().await;
        v.push(t.elapsed());
        assert!(!r.sheets.is_empty());
    }
    v.sort();
    v[RUNS / 2].as_secs_f64() * 1_000.0
}

async fn measure(db: &Db, scale: &Scale) -> Vec<(String, f64)> {
    let day = scale.today - chrono::Duration::days(1);
    let month_from = scale.today - chrono::Duration::days(31);
    let branch = 7;
    let mut out = Vec::new();
    let cases: Vec<(&str, &str, Scope, Filter)> = vec![
        (
            "daily-collections",
            "one day, whole fund",
            Scope::Fund,
            Filter {
                from: Some(day),
                to: Some(day),
                ..Filter::default()
            },
        ),
        (
            "daily-collections",
            "one day, one branch",
            Scope::Branch(branch),
            Filter {
                from: Some(day),
                to: Some(day),
                ..Filter::default()
            },
        ),
        (
            "daily-collections",
            "31 days, whole fund",
            Scope::Fund,
            Filter {
                from: Some(month_from),
                to: Some(day),
                ..Filter::default()
            },
        ),
        (
            "daily-collections",
            "31 days, one branch",
            Scope::Branch(branch),
            Filter {
                from: Some(month_from),
                to: Some(day),
                ..Filter::default()
            },
        ),
        (
            "portfolio-at-risk",
            "whole fund",
            Scope::Fund,
            Filter {
                to: Some(scale.today),
                ..Filter::default()
            },
        ),
        (
            "portfolio-at-risk",
            "one branch",
            Scope::Branch(branch),
            Filter {
                to: Some(scale.today),
                ..Filter::default()
            },
        ),
    ];
    for (name, what, scope, filter) in cases {
        let ms = time(|| {
            let filter = filter.clone();
            async move {
                reports::build(db, name, scope, &filter)
                    .await
                    .expect("a report name")
                    .expect("the report")
            }
        })
        .await;
        out.push((format!("{name} ({what})"), ms));
    }
    // What the reports say, so a reader can see the data is real.
    let par = reports::portfolio_at_risk(
        db,
        Scope::Fund,
        &Filter {
            to: Some(scale.today),
            ..Filter::default()
        },
    )
    .await
    .unwrap();
    let t = par.sheet("by_branch").unwrap().totals.clone().unwrap();
    println!("  PAR totals (fund): {:?}", &t[1..8]);
    let daily = reports::daily_collections(
        db,
        Scope::Fund,
        &Filter {
            from: Some(day),
            to: Some(day),
            ..Filter::default()
        },
    )
    .await
    .unwrap();
    let s = daily.sheet("by_officer").unwrap();
    println!(
        "  daily collections (fund, one day): {} officer rows, totals {:?}",
        s.rows.len(),
        &s.totals.as_ref().unwrap()[4..10]
    );
    out
}

/// SQL fragments that differ between the two databases.
struct Dialect {
    pg: bool,
}

impl Dialect {
    /// `WITH` clause naming `s(i)`, the integers 1..=n.
    fn series(&self, n: i64) -> String {
        if self.pg {
            format!("WITH s(i) AS (SELECT generate_series(1, {n})::bigint)")
        } else {
            format!("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n})")
        }
    }
    /// The day `days` (an integer expression) before `d`.
    fn day(&self, d: NaiveDate, days: &str) -> String {
        if self.pg {
            format!("(DATE '{d}' - CAST({days} AS INTEGER))")
        } else {
            format!("date('{d}', (-({days})) || ' days')")
        }
    }
    /// 03:00 UTC (10:00 in Ho Chi Minh City) of the day `days` before `d`.
    fn moment(&self, d: NaiveDate, days: &str) -> String {
        if self.pg {
            format!("((DATE '{d}' - CAST({days} AS INTEGER)) + TIME '03:00') AT TIME ZONE 'UTC'")
        } else {
            format!("(datetime('{d}', (-({days})) || ' days', '+3 hours') || '+00:00')")
        }
    }
    fn uid(&self) -> &'static str {
        if self.pg {
            "gen_random_uuid()"
        } else {
            "randomblob(16)"
        }
    }
    fn digits12(&self, e: &str) -> String {
        if self.pg {
            format!("lpad(CAST({e} AS TEXT), 12, '0')")
        } else {
            format!("printf('%012d', {e})")
        }
    }
    fn boolean(&self, e: &str) -> String {
        if self.pg {
            format!("({e})")
        } else {
            format!("CASE WHEN {e} THEN 1 ELSE 0 END")
        }
    }
    fn now(&self) -> &'static str {
        if self.pg {
            "now()"
        } else {
            "'2026-01-01 00:00:00+00:00'"
        }
    }
}

async fn generate(db: &Db, scale: &Scale) {
    let d = Dialect {
        pg: matches!(db, Db::Postgres(_)),
    };
    let (loans, n, today) = (scale.loans, scale.repayments, scale.today);
    let now = d.now();
    let uid = d.uid();
    // Officer of worker / loan w, branch of officer o.
    let officer = |w: &str| format!("(1 + (({w}) - 1) % {OFFICERS})");
    let branch = |o: &str| format!("(1 + (({o}) - 1) % {BRANCHES})");
    // Loan l: disbursed 7..336 days ago; installment principal; overdue loans
    // (every 12th) leave their last 1..8 elapsed installments unpaid.
    let age = |l: &str| format!("(7 + (({l}) * 37) % 330)");
    let part = |l: &str| format!("(250000 + (({l}) % 10) * 50000)");
    let elapsed = |l: &str| format!("(({} - 1) / 14)", age(l));
    let unpaid =
        |l: &str| format!("(CASE WHEN ({l}) % 12 = 0 THEN 1 + (({l}) / 12) % 8 ELSE 0 END)");
    let loan_of = "((i - 1) / 24 + 1)";
    let number = "((i - 1) % 24 + 1)";
    let paid = format!(
        "({number} <= {e} - {u})",
        e = elapsed(loan_of),
        u = unpaid(loan_of)
    );
    let mut steps: Vec<(&str, String)> = vec![
        (
            "branches",
            format!(
                "{} INSERT INTO branches (id, code, uid, name, district, industrial_zone, address, created_at, updated_at)
                 SELECT i, 'CN-' || i, {uid}, 'Chi nhánh ' || i, 'Quận ' || i, 'KCN ' || i, 'Số ' || i, {now}, {now} FROM s",
                d.series(BRANCHES)
            ),
        ),
        (
            "officers",
            format!(
                "{} INSERT INTO users (id, code, uid, username, full_name, name_key, role, branch_id, created_at, updated_at)
                 SELECT i, 'CB-' || i, {uid}, 'canbo' || i, 'Cán bộ ' || i, 'can bo ' || i, 'officer', {}, {now}, {now} FROM s",
                d.series(OFFICERS),
                branch("i")
            ),
        ),
        (
            "supervisors",
            format!(
                "{} INSERT INTO users (id, code, uid, username, full_name, name_key, role, branch_id, created_at, updated_at)
                 SELECT {OFFICERS} + i, 'GS-' || i, {uid}, 'giamsat' || i, 'Giám sát ' || i, 'giam sat ' || i, 'supervisor', i, {now}, {now} FROM s",
                d.series(BRANCHES)
            ),
        ),
        (
            "product",
            format!(
                "INSERT INTO loan_products (id, code, name, annual_rate_bp, method, frequency, installments, min_principal,
                     max_principal, created_at, updated_at)
                 VALUES (1, 'SP-2T', 'Vay 2 tuần', 1200, 'flat', 'biweekly', {INSTALLMENTS}, 1000000, 50000000, {now}, {now})"
            ),
        ),
        (
            "workers",
            format!(
                "{} INSERT INTO workers (id, code, uid, full_name, name_key, cccd, union_member, employer, industrial_zone, room,
                     hardship, hardship_note, officer_id, branch_id, created_at, updated_at)
                 SELECT i, 'W-' || i, {uid}, 'Người lao động ' || i, 'nguoi lao dong ' || i, {}, {}, 'Công ty ' || (i % 500),
                     'KCN', 'P.' || (i % 40), {}, '', {}, {}, {now}, {now} FROM s",
                d.series(loans),
                d.digits12("i"),
                d.boolean("i % 3 <> 0"),
                d.boolean("i % 50 = 0"),
                officer("i"),
                branch(&officer("i")),
            ),
        ),
        (
            "loans",
            format!(
                "{} INSERT INTO loans (id, code, uid, worker_id, product_id, principal, annual_rate_bp, method, frequency,
                     installments, disbursed_on, opening_paid, status, created_at, updated_at)
                 SELECT i, 'L-' || i, {uid}, i, 1, {INSTALLMENTS} * {}, 1200, 'flat', 'biweekly', {INSTALLMENTS}, {}, 0,
                     'active', {now}, {now} FROM s",
                d.series(loans),
                part("i"),
                d.day(today, &age("i")),
            ),
        ),
        (
            "installments",
            format!(
                "{} INSERT INTO installments (loan_id, number, due_on, principal_due, interest_due, principal_paid, interest_paid)
                 SELECT {loan_of}, {number}, {}, {p}, {p} / 10,
                        CASE WHEN {paid} THEN {p} ELSE 0 END, CASE WHEN {paid} THEN {p} / 10 ELSE 0 END FROM s",
                d.series(loans * INSTALLMENTS),
                d.day(today, &format!("{} - 14 * {number}", age(loan_of))),
                p = part(loan_of),
            ),
        ),
        (
            "outstanding principal",
            "UPDATE loans SET principal_outstanding =
                 (SELECT COALESCE(SUM(i.principal_due - i.principal_paid), 0) FROM installments i WHERE i.loan_id = loans.id)"
                .to_string(),
        ),
        // Each loan's worker's branch and officer, as the migration
        // (0012_loan_officer.sql) back-fills them.
        (
            "loan officers",
            "UPDATE loans SET worker_branch_id = w.branch_id, worker_officer_id = w.officer_id
             FROM workers w WHERE w.id = loans.worker_id"
                .to_string(),
        ),
        // The report summaries the triggers keep, as the migration
        // (0008_report_summaries.sql) back-fills them.
        (
            "oldest unpaid due",
            "UPDATE loans SET oldest_unpaid_due = (SELECT MIN(i.due_on) FROM installments i WHERE i.loan_id = loans.id
                 AND (i.principal_paid < i.principal_due OR i.interest_paid < i.interest_due))"
                .to_string(),
        ),
        (
            "due summary",
            "INSERT INTO report_due (day, branch_id, officer_id, due, installments)
             SELECT i.due_on, w.branch_id, w.officer_id, SUM(i.principal_due + i.interest_due), COUNT(*)
             FROM installments i JOIN loans l ON l.id = i.loan_id JOIN workers w ON w.id = l.worker_id
             GROUP BY i.due_on, w.branch_id, w.officer_id"
                .to_string(),
        ),
        (
            "portfolio summary",
            "INSERT INTO report_portfolio (branch_id, officer_id, loans, principal_outstanding)
             SELECT w.branch_id, w.officer_id, COUNT(*), SUM(l.principal_outstanding)
             FROM loans l JOIN workers w ON w.id = l.worker_id WHERE l.status = 'active'
             GROUP BY w.branch_id, w.officer_id"
                .to_string(),
        ),
    ];
    // Repayment i: loan, day (0..730 days ago), principal and interest.
    let r_loan = format!("(1 + (i * 7919) % {loans})");
    let r_officer = officer(&r_loan);
    let r_branch = branch(&r_officer);
    let r_days = format!("(1 + (i * 31) % {DAYS})");
    let r_principal = "(100000 + (i % 7) * 50000)";
    let r_interest = "(20000 + (i % 5) * 1000)";
    steps.push((
        "journal entries",
        format!(
            "{} INSERT INTO journal_entries (id, branch_id, kind, loan_id, officer_id, posted_by, posted_at, memo)
             SELECT i, {r_branch}, 'repayment', {r_loan}, {r_officer}, {OFFICERS} + {r_branch}, {}, '' FROM s",
            d.series(n),
            d.moment(today, &r_days),
        ),
    ));
    let e_loan = format!("(1 + (e * 7919) % {loans})");
    steps.push((
        "journal lines",
        format!(
            "{} INSERT INTO journal_lines (entry_id, account, branch_id, officer_id, loan_id, debit, credit)
             SELECT e, CASE k WHEN 0 THEN 'cash_in_hand' WHEN 1 THEN 'loan_principal' ELSE 'interest_income' END,
                    {b}, CASE WHEN k = 0 THEN {o} END, CASE WHEN k <> 0 THEN {e_loan} END,
                    CASE WHEN k = 0 THEN {p} + {r} ELSE 0 END,
                    CASE k WHEN 0 THEN 0 WHEN 1 THEN {p} ELSE {r} END
             FROM (SELECT (i + 2) / 3 AS e, i % 3 AS k FROM s) AS x",
            d.series(3 * n),
            b = branch(&officer(&e_loan)),
            o = officer(&e_loan),
            p = "(100000 + (e % 7) * 50000)",
            r = "(20000 + (e % 5) * 1000)",
        ),
    ));
    // The balances the journal lines' trigger keeps, as the migration
    // (0011_account_balances.sql) back-fills them.
    steps.push((
        "account balances",
        "INSERT INTO account_balances (account, branch_id, officer_id, campaign_id, debit, credit)
         SELECT account, branch_id, COALESCE(officer_id, 0), COALESCE(campaign_id, 0), SUM(debit), SUM(credit)
         FROM journal_lines GROUP BY account, branch_id, COALESCE(officer_id, 0), COALESCE(campaign_id, 0)"
            .to_string(),
    ));
    steps.push((
        "day summary",
        format!(
            "{} INSERT INTO report_daily (day, branch_id, officer_id, principal_net, interest_net, cash_expected, cash_received,
                 repayments, batches)
             SELECT {}, {r_branch}, {r_officer}, SUM({r_principal}), SUM({r_interest}), SUM({r_principal} + {r_interest}),
                    SUM({r_principal} + {r_interest}), COUNT(*), 1 FROM s
             GROUP BY {r_days}, {r_branch}, {r_officer}",
            d.series(n),
            d.day(today, &r_days),
        ),
    ));

    match db {
        Db::Sqlite(pool) => {
            let mut c = pool.acquire().await.expect("connection");
            for pragma in [
                "PRAGMA foreign_keys = OFF",
                "PRAGMA synchronous = OFF",
                "PRAGMA cache_size = -1000000",
                "PRAGMA temp_store = MEMORY",
            ] {
                sqlx::query(pragma).execute(&mut *c).await.expect(pragma);
            }
            // Bulk load without the per-row triggers that keep the
            // outstanding principal, the report summaries and the account
            // balances (the steps above set them, then they come back) and
            // with the big tables' secondary indexes built after.
            let triggers: Vec<(String, String)> = sqlx::query_as(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'
                   AND tbl_name IN ('installments', 'loans', 'workers', 'journal_lines')",
            )
            .fetch_all(&mut *c)
            .await
            .expect("triggers");
            let indexes: Vec<(String, String)> = sqlx::query_as(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
                   AND tbl_name IN ('installments', 'loans', 'journal_entries', 'journal_lines')",
            )
            .fetch_all(&mut *c)
            .await
            .expect("indexes");
            for (name, _) in &triggers {
                exec(&mut *c, &format!("DROP TRIGGER {name}")).await;
            }
            for (name, _) in &indexes {
                exec(&mut *c, &format!("DROP INDEX {name}")).await;
            }
            for (label, sql) in &steps {
                let t = Instant::now();
                exec(&mut *c, sql).await;
                println!("  sqlite: {label:<24} {:>7.1} s", t.elapsed().as_secs_f64());
            }
            let t = Instant::now();
            for (_, sql) in indexes.iter().chain(&triggers) {
                exec(&mut *c, sql).await;
            }
            println!(
                "  sqlite: {:<24} {:>7.1} s",
                "indexes",
                t.elapsed().as_secs_f64()
            );
            let t = Instant::now();
            exec(&mut *c, "ANALYZE").await;
            exec(&mut *c, "PRAGMA foreign_keys = ON").await;
            exec(&mut *c, "PRAGMA cache_size = -2000").await;
            println!(
                "  sqlite: {:<24} {:>7.1} s",
                "ANALYZE",
                t.elapsed().as_secs_f64()
            );
        }
        Db::Postgres(pool) => {
            let mut c = pool.acquire().await.expect("connection");
            // Bulk load without triggers (foreign keys, the outstanding-
            // principal, report-summary and account-balance triggers; the
            // steps above set what they keep) and with the big tables' secondary indexes
            // built after.
            for set in [
                "SET session_replication_role = replica",
                "SET synchronous_commit = off",
                "SET maintenance_work_mem = '512MB'",
            ] {
                exec(&mut *c, set).await;
            }
            let indexes: Vec<(String, String)> = sqlx::query_as(
                "SELECT indexname::text, indexdef FROM pg_indexes
                 WHERE tablename IN ('installments', 'loans', 'journal_entries', 'journal_lines')
                   AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            )
            .fetch_all(&mut *c)
            .await
            .expect("indexes");
            for (name, _) in &indexes {
                exec(&mut *c, &format!("DROP INDEX {name}")).await;
            }
            for (label, sql) in &steps {
                let t = Instant::now();
                exec(&mut *c, sql).await;
                println!(
                    "  postgres: {label:<24} {:>7.1} s",
                    t.elapsed().as_secs_f64()
                );
            }
            let t = Instant::now();
            for (_, sql) in &indexes {
                exec(&mut *c, sql).await;
            }
            println!(
                "  postgres: {:<24} {:>7.1} s",
                "indexes",
                t.elapsed().as_secs_f64()
            );
            exec(&mut *c, "SET session_replication_role = origin").await;
            let t = Instant::now();
            exec(&mut *c, "VACUUM ANALYZE").await;
            println!(
                "  postgres: {:<24} {:>7.1} s",
                "VACUUM ANALYZE",
                t.elapsed().as_secs_f64()
            );
        }
    }
}

async fn exec<'c, C>(c: &'c mut C, sql: &'c str)
where
    &'c mut C: sqlx::Executor<'c>,
{
    if let Err(e) = sqlx::raw_sql(sql).execute(c).await {
        panic!("{e}\n{sql}");
    }
}
