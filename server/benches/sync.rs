//! The sync benchmark (issue 4 §6), on SQLite and on PostgreSQL in one run:
//!
//! 1. ingest: 500-record upload batches through the whole HTTP path (a real
//!    axum server on 127.0.0.1:0, reqwest, JSON, bearer tokens), records/s,
//!    next to the raw multi-row INSERT rate of the same rows into the same
//!    table (`sync_records`, transactions of 500, on a connection set up
//!    like the upload writer's) measured right after, in three rounds on a
//!    growing table; each round sends 24 batches one after the other, then
//!    24 more from 4 phones uploading at the same time (the server's ingest
//!    rate under load, the target's figure), each followed by its raw
//!    inserts; every round is printed, the round with the median HTTP/raw
//!    is the figure;
//! 2. 200 officers syncing at once, each one upload of 60 records and one
//!    change page, on loans with a year of collections a supervisor has
//!    decided (50 a loan, stored and approved just before), latency per
//!    officer sync (p50 / p99); then the same with
//!    the 200 syncs spread evenly over 10 s, for comparison; then as many
//!    records' raw INSERTs alone, in transactions of the upload writer's
//!    group (the floor under the first);
//! 3. the size of an officer's first download (2,000 workers with loans),
//!    uncompressed, gzip and zstd.
//!
//! With `SOTAY_BENCH_LOG=sotay_server::uploads=debug` the server's log goes
//! to stderr with that filter: where each upload group's time went (with
//! `=trace`, when each batch was queued; `sqlx::query=debug` adds every
//! statement's time), and the instant the 200 officers were released.
//!
//! `cargo bench -p sotay-server --bench sync`. PostgreSQL: the admin URL in
//! `SOTAY_BENCH_POSTGRES` (`scripts/bench.sh` starts a throwaway cluster and
//! sets it); without it the bench starts and stops one itself with
//! `scripts/pg-cluster.sh`.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use common::{
    accepted, batch_body, get_json, get_raw, login, login_all, post_batch, seed, serve, Backend,
    Fund, PgCluster, Phone, Rng, Round, Store, OUTCOMES,
};
use sha2::Digest;
use sotay_core::domain::money::Dong;
use sotay_core::domain::rules::receipt_number;
use sotay_core::wire::{
    ChangePage, GeoPoint, PortfolioSnapshot, RecordBody, RepaymentPayload, UploadRecord,
    VisitPayload, VisitPurpose,
};
use sotay_server::db::Db;
use uuid::Uuid;

/// Officers with a small round each (the ingest and concurrency parts).
const OFFICERS: usize = 200;
const WORKERS_PER_OFFICER: usize = 15;
/// The officer whose first download is measured.
const BIG_WORKERS: usize = 2_000;
const BATCH: usize = 500;
/// Timed ingest batches a round, each from its own officer and phone (one
/// more warms up), and rounds (the median is the figure).
const INGEST_BATCHES: usize = 24;
const INGEST_ROUNDS: usize = 3;
/// Phones uploading at the same time in the second half of each round.
const INGEST_PHONES: usize = 4;
const OFFICER_RECORDS: usize = 60;
/// The second run of the 200 officers' syncs spreads them over this long.
const SPREAD: Duration = Duration::from_secs(10);
/// Share of repayments among the uploaded records; the rest are visits.
const REPAYMENT_PERCENT: u64 = 40;

const TARGET_INGEST: f64 = 20_000.0;
const TARGET_RATIO: f64 = 0.5;
const TARGET_P99_MS: f64 = 250.0;
const TARGET_DOWNLOAD_BYTES: usize = 300_000;

fn main() {
    if let Ok(filter) = std::env::var("SOTAY_BENCH_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init();
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(run());
}

async fn run() {
    let started = Instant::now();
    let today = sotay_core::domain::time::local_date(Utc::now());
    let fund = SyncFund::generate(today);
    println!(
        "fund: {} officers x {WORKERS_PER_OFFICER} workers + 1 officer x {BIG_WORKERS} workers; {} workers, {} loans, {} boarding houses",
        OFFICERS,
        fund.set.workers.len(),
        fund.set.loans.len(),
        fund.set.boarding_houses.len()
    );
    let cluster = PgCluster::get();
    let mut results = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let store = Store::open(backend, &cluster).await;
        results.push(bench_backend(backend, &store.db, &fund).await);
        store.close(&cluster).await;
    }
    summary(&results);
    println!("whole bench: {:.0} s", started.elapsed().as_secs_f64());
    drop(cluster);
}

/// 200 officers with a small round each and one with 2,000 workers.
struct SyncFund {
    set: sotay_server::import::rows::ImportSet,
    officers: Vec<Round>,
    big: Round,
}

impl SyncFund {
    fn generate(today: NaiveDate) -> SyncFund {
        let mut officers = Vec::new();
        let mut big = None;
        let Fund { set } = Fund::generate(today, 0x5b7c_2026_0406, |gen, set| {
            let branches = gen.demo.branches.len();
            for i in 0..OFFICERS {
                officers.push(gen.officer(
                    set,
                    &format!("CB-{:04}", i + 1),
                    &format!("canbo.b{:04}", i + 1),
                    i % branches,
                    1,
                    WORKERS_PER_OFFICER,
                ));
            }
            big = Some(gen.officer(set, "CB-LON", "canbo.lon", 0, 100, BIG_WORKERS));
        });
        SyncFund {
            set,
            officers,
            big: big.expect("the big officer"),
        }
    }
}

/// A day's records of one phone: repayments and visits on its officer's round.
fn records(rng: &mut Rng, phone: &mut Phone, round: &Round, n: usize) -> Vec<UploadRecord> {
    let now = Utc::now();
    (0..n)
        .map(|k| {
            phone.seq += 1;
            let (worker, loan) = *rng.pick(&round.borrowers);
            let body = if rng.chance(REPAYMENT_PERCENT) {
                phone.receipts += 1;
                RecordBody::Repayment(RepaymentPayload {
                    loan_id: loan,
                    worker_id: worker,
                    amount: Dong(20_000 + 10_000 * rng.below(9) as i64),
                    receipt_no: receipt_number(&phone.code, phone.receipts),
                })
            } else {
                RecordBody::Visit(VisitPayload {
                    worker_id: worker,
                    purpose: *rng.pick(&VisitPurpose::ALL),
                    outcome: rng.pick(&OUTCOMES).to_string(),
                    notes: if rng.chance(30) {
                        "Chủ trọ xác nhận vẫn ở phòng cũ".into()
                    } else {
                        String::new()
                    },
                    // GPS degrees, not money.
                    location: Some(GeoPoint {
                        latitude: 10.85 + rng.below(40_000) as f64 / 1e6,
                        longitude: 106.75 + rng.below(40_000) as f64 / 1e6,
                        accuracy_m: Some(5.0 + rng.below(30) as f64),
                    }),
                })
            };
            UploadRecord {
                client_id: Uuid::now_v7(),
                device_id: phone.device,
                device_seq: phone.seq,
                recorded_at: now - chrono::Duration::seconds(30 * (n - k) as i64),
                body,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The three measurements

struct Figures {
    backend: Backend,
    /// INGEST_PHONES phones uploading at the same time (the target's figure).
    ingest: Rates,
    /// One batch after the other.
    ingest_alone: Rates,
    p50_ms: f64,
    p99_ms: f64,
    floor_ms: f64,
    spread_p50_ms: f64,
    spread_p99_ms: f64,
    identity: usize,
    gzip: usize,
    zstd: usize,
}

/// An ingest measurement: over HTTP and raw, records/s.
struct Rates {
    http: f64,
    raw: f64,
}

impl Rates {
    fn ratio(&self) -> f64 {
        self.http / self.raw
    }

    /// The round with the median HTTP/raw.
    fn median(rounds: &mut [Rates]) -> Rates {
        rounds.sort_by(|a, b| a.ratio().total_cmp(&b.ratio()));
        let m = &rounds[rounds.len() / 2];
        Rates {
            http: m.http,
            raw: m.raw,
        }
    }
}

/// Sends `bodies` (one batch a phone, in order) over `lanes` connections at
/// once, each lane one batch after the other; the time until the last
/// answer and the records accepted.
async fn ingest(
    server: &Arc<common::Server>,
    phones: &[Phone],
    bodies: Vec<Vec<u8>>,
    lanes: usize,
) -> (Duration, usize) {
    let mut work: Vec<Vec<(Phone, Vec<u8>)>> = vec![Vec::new(); lanes];
    for (i, (phone, body)) in phones.iter().zip(bodies).enumerate() {
        work[i % lanes].push((phone.clone(), body));
    }
    let t = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for lane in work {
        let server = server.clone();
        tasks.spawn(async move {
            let mut ok = 0;
            for (phone, body) in lane {
                ok += accepted(&post_batch(&server, &phone, body).await.expect("upload"));
            }
            ok
        });
    }
    let ok = tasks.join_all().await.into_iter().sum();
    (t.elapsed(), ok)
}

async fn bench_backend(backend: Backend, db: &Db, fund: &SyncFund) -> Figures {
    let name = backend.name();
    println!();
    println!("== {name}");
    let t = Instant::now();
    seed(db, &fund.set).await;
    println!(
        "{name} setup: fund imported in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let server = Arc::new(serve(db).await);
    let mut rng = Rng(0x0005_1c00_2026);

    // 1. Ingest through HTTP, then raw inserts of equivalent rows, side by
    //    side in each round: once with the batches sent one after the
    //    other, once with INGEST_PHONES phones uploading at the same time.
    //    Each batch comes from a phone of its own (a loan's balance holds
    //    one round of repayments).
    let ingest_officers: Vec<&Round> = fund.officers[..=2 * INGEST_BATCHES * INGEST_ROUNDS]
        .iter()
        .collect();
    let mut phones = login_all(
        &server,
        ingest_officers.iter().map(|r| r.username.clone()).collect(),
    )
    .await;
    let warm = records(&mut rng, &mut phones[0], ingest_officers[0], BATCH);
    let warm = batch_body(&phones[0], warm);
    accepted(
        &post_batch(&server, &phones[0], warm)
            .await
            .expect("warm-up"),
    );
    let n = INGEST_BATCHES * BATCH;
    // The raw inserts on a connection set up like the upload writer's.
    let raw_db = db.upload_writer();
    let (mut alone, mut together) = (Vec::new(), Vec::new());
    for round in 0..INGEST_ROUNDS {
        for (half, lanes) in [(0, 1), (1, INGEST_PHONES)] {
            let at = 1 + (2 * round + half) * INGEST_BATCHES;
            let phones = &mut phones[at..at + INGEST_BATCHES];
            let officers = &ingest_officers[at..at + INGEST_BATCHES];
            let mut sent: Vec<Vec<UploadRecord>> = Vec::new();
            let mut bodies = Vec::new();
            for (phone, officer) in phones.iter_mut().zip(officers) {
                let recs = records(&mut rng, phone, officer, BATCH);
                bodies.push(batch_body(phone, recs.clone()));
                sent.push(recs);
            }
            let (http_time, ok) = ingest(&server, phones, bodies, lanes).await;
            assert_eq!(ok, n, "every ingest record is valid and must be accepted");
            let rows = raw_rows(db, phones, &sent, if half == 0 { "R" } else { "C" }).await;
            let raw_time = raw_insert(&raw_db, &rows, BATCH).await;
            let rates = Rates {
                http: n as f64 / http_time.as_secs_f64(),
                raw: n as f64 / raw_time.as_secs_f64(),
            };
            let how = if lanes == 1 {
                "one after the other".to_string()
            } else {
                format!("{lanes} phones at once")
            };
            println!(
                "{name} ingest round {}, {how}: over HTTP {INGEST_BATCHES} batches x {BATCH} records ({REPAYMENT_PERCENT}% repayments, the rest visits), all accepted, {:.0} ms = {:.0} records/s; raw multi-row INSERT of the same rows into sync_records, transactions of {BATCH}: {:.0} ms = {:.0} records/s; HTTP/raw = {:.3}",
                round + 1,
                http_time.as_secs_f64() * 1e3,
                rates.http,
                raw_time.as_secs_f64() * 1e3,
                rates.raw,
                rates.ratio()
            );
            if lanes == 1 {
                alone.push(rates)
            } else {
                together.push(rates)
            }
        }
    }
    let (alone, together) = (Rates::median(&mut alone), Rates::median(&mut together));
    for (how, r) in [
        ("one after the other".to_string(), &alone),
        (format!("{INGEST_PHONES} phones at once"), &together),
    ] {
        println!(
            "{name} ingest {how}, median of {INGEST_ROUNDS} rounds: over HTTP {:.0} records/s, raw {:.0} records/s, HTTP/raw = {:.3}",
            r.http,
            r.raw,
            r.ratio()
        );
    }
    let probe = point_query_us(db).await;
    println!(
        "{name} one point SELECT on sync_records by client_id (the upload's first per-record statement): {probe:.1} us"
    );

    // 2. 200 officers at once: one upload and one change page each, on
    //    loans with a year of decided collections behind them.
    let t = Instant::now();
    let (mut phones, cursors) = signed_in(&server, &fund.officers).await;
    println!(
        "{name} setup: {OFFICERS} logins and snapshots in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let history = decided_history(db, &raw_db, &mut phones, &fund.officers).await;
    println!(
        "{name} setup: {history} collections of a year ({HISTORY_PER_LOAN} on each of the officers' loans) stored, then every record stored so far approved, in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let at_once = officers_sync(
        &server,
        phones,
        cursors,
        &fund.officers,
        &mut rng,
        Duration::ZERO,
    )
    .await;
    println!(
        "{name} {OFFICERS} officers syncing at once ({OFFICER_RECORDS} records up + one change page down each): {}",
        at_once.line()
    );
    // The same again with the officers' syncs spread evenly over a few
    // seconds instead of released together (for comparison; the target is
    // on the one above).
    let (mut phones, cursors) = signed_in(&server, &fund.officers).await;
    // Rows of as many records for the floor below, from these phones.
    let sent: Vec<Vec<UploadRecord>> = phones
        .iter_mut()
        .zip(&fund.officers)
        .map(|(phone, round)| records(&mut rng, phone, round, OFFICER_RECORDS))
        .collect();
    let floor_rows = raw_rows(db, &phones, &sent, "F").await;
    let spread = officers_sync(&server, phones, cursors, &fund.officers, &mut rng, SPREAD).await;
    println!(
        "{name} {OFFICERS} officers syncing within {} s, one every {} ms ({OFFICER_RECORDS} records up + one change page down each): {}",
        SPREAD.as_secs(),
        SPREAD.as_millis() / OFFICERS as u128,
        spread.line()
    );
    let (p50, p99) = (at_once.p50, at_once.p99);
    // The floor under the 200 officers at once: their records' INSERTs
    // alone, no HTTP, no rules, in transactions of the writer's group size.
    let floor = raw_insert(&raw_db, &floor_rows, sotay_server::uploads::GROUP_RECORDS).await;
    println!(
        "{name} the same {} records as raw multi-row INSERTs into sync_records alone, transactions of {} (the upload writer's group): {:.0} ms",
        floor_rows.len(),
        sotay_server::uploads::GROUP_RECORDS,
        floor.as_secs_f64() * 1e3
    );
    let floor_ms = floor.as_secs_f64() * 1e3;

    // 3. The big officer's first download.
    let big = login(&server, &fund.big.username).await;
    let raw_client = reqwest::Client::builder()
        .no_gzip()
        .no_zstd()
        .build()
        .expect("client");
    let mut sizes = Vec::new();
    for encoding in ["identity", "gzip", "zstd"] {
        let t = Instant::now();
        let resp = raw_client
            .get(format!("{}/api/v1/sync/changes", server.base))
            .bearer_auth(&big.token)
            .header("accept-encoding", encoding)
            .send()
            .await
            .expect("snapshot");
        assert!(resp.status().is_success());
        let got = resp
            .headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("identity")
            .to_string();
        assert_eq!(got, encoding, "the server answered {got} to {encoding}");
        let bytes = resp.bytes().await.expect("snapshot body");
        let ms = t.elapsed().as_secs_f64() * 1e3;
        if encoding == "identity" {
            let snap: PortfolioSnapshot = serde_json::from_slice(&bytes).expect("snapshot JSON");
            let lines: usize = snap.loans.iter().map(|l| l.installments.len()).sum();
            println!(
                "{name} first download of an officer with {} workers, {} loans, {lines} installment lines, {} boarding houses:",
                snap.workers.len(),
                snap.loans.len(),
                snap.boarding_houses.len()
            );
            // Where the bytes are: each part as JSON on its own.
            let installments: Vec<_> = snap.loans.iter().map(|l| &l.installments).collect();
            let mut bare = snap.loans.clone();
            bare.iter_mut().for_each(|l| l.installments.clear());
            println!(
                "{name}   uncompressed parts: installment lines {} bytes, loans without them {} bytes, workers {} bytes, boarding houses {} bytes",
                size(&installments),
                size(&bare),
                size(&snap.workers),
                size(&snap.boarding_houses)
            );
        }
        println!(
            "{name}   {encoding:>8}: {:>9} bytes in {ms:.0} ms",
            bytes.len()
        );
        sizes.push(bytes.len());
    }

    Figures {
        backend,
        ingest: together,
        ingest_alone: alone,
        p50_ms: p50,
        p99_ms: p99,
        floor_ms,
        spread_p50_ms: spread.p50,
        spread_p99_ms: spread.p99,
        identity: sizes[0],
        gzip: sizes[1],
        zstd: sizes[2],
    }
}

/// Collections a loan has had by the 200 officers' syncs: a year of weekly
/// ones, as on a fund in production.
const HISTORY_PER_LOAN: usize = 50;

/// Stores [`HISTORY_PER_LOAN`] past collections on each loan of the
/// officers' rounds from their phones (raw INSERTs, as the upload stores
/// them), then approves every record stored so far, the way supervisors
/// have decided on everything before the day's syncs (the decisions only:
/// nothing posts). Returns the collections stored.
async fn decided_history(db: &Db, raw_db: &Db, phones: &mut [Phone], officers: &[Round]) -> usize {
    let now = Utc::now();
    let sent: Vec<Vec<UploadRecord>> = phones
        .iter_mut()
        .zip(officers)
        .map(|(phone, round)| {
            let mut out = Vec::new();
            for &(worker, loan) in &round.borrowers {
                for week in 0..HISTORY_PER_LOAN {
                    phone.seq += 1;
                    out.push(UploadRecord {
                        client_id: Uuid::now_v7(),
                        device_id: phone.device,
                        device_seq: phone.seq,
                        recorded_at: now
                            - chrono::Duration::weeks((HISTORY_PER_LOAN - week) as i64),
                        body: RecordBody::Repayment(RepaymentPayload {
                            loan_id: loan,
                            worker_id: worker,
                            amount: Dong(50_000),
                            receipt_no: String::new(),
                        }),
                    });
                }
            }
            out
        })
        .collect();
    let rows = raw_rows(db, phones, &sent, "H").await;
    raw_insert(raw_db, &rows, sotay_server::uploads::GROUP_RECORDS).await;
    const BATCHES: &str = "INSERT INTO batch_reviews (batch_id, decision, reviewer_id, reason, cash_expected, cash_received, decided_at)
        SELECT b.batch_id, 'approved', (SELECT MIN(id) FROM users), NULL, 0, 0, $1 FROM sync_batches b
        WHERE NOT EXISTS (SELECT 1 FROM batch_reviews d WHERE d.batch_id = b.batch_id)
          AND EXISTS (SELECT 1 FROM sync_records r WHERE r.batch_id = b.batch_id AND r.status = 'accepted')";
    const RECORDS: &str = "INSERT INTO record_reviews (record_id, batch_id, decision, reason, decided_at)
        SELECT r.id, r.batch_id, 'approved', NULL, $1 FROM sync_records r
        WHERE r.status = 'accepted' AND NOT EXISTS (SELECT 1 FROM record_reviews d WHERE d.record_id = r.id)";
    // Both statements in one transaction, `now` bound to each.
    macro_rules! decide {
        ($begin:expr) => {{
            let mut tx = $begin.await.expect("begin");
            for sql in [BATCHES, RECORDS] {
                sqlx::query(sql)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .expect("decisions");
            }
            tx.commit().await.expect("commit");
        }};
    }
    match db {
        Db::Sqlite(p) => decide!(p.begin_with("BEGIN IMMEDIATE")),
        Db::Postgres(p) => {
            decide!(p.begin());
            // What autovacuum does soon after a load this size.
            sqlx::query("VACUUM ANALYZE")
                .execute(p)
                .await
                .expect("vacuum");
        }
    }
    rows.len()
}

/// Each officer's phone signed in, with the cursor after its first download.
async fn signed_in(server: &Arc<common::Server>, officers: &[Round]) -> (Vec<Phone>, Vec<String>) {
    let phones = login_all(
        server,
        officers.iter().map(|r| r.username.clone()).collect(),
    )
    .await;
    let mut cursors = Vec::new();
    for p in &phones {
        let snap: PortfolioSnapshot = get_json(server, p, "/api/v1/sync/changes").await;
        assert_eq!(snap.workers.len(), WORKERS_PER_OFFICER);
        cursors.push(snap.next);
    }
    (phones, cursors)
}

/// What [`officers_sync`] measured.
struct Syncs {
    latencies: Vec<f64>,
    p50: f64,
    p99: f64,
    max: f64,
    ok: usize,
    failed: usize,
    statuses: usize,
    wall: Duration,
}

impl Syncs {
    fn line(&self) -> String {
        format!(
            "{} failed, {} records accepted, {} statuses came back; all done in {:.0} ms ({:.0} records/s); latency per officer sync p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms ({} syncs)",
            self.failed,
            self.ok,
            self.statuses,
            self.wall.as_secs_f64() * 1e3,
            self.ok as f64 / self.wall.as_secs_f64(),
            self.p50,
            self.p99,
            self.max,
            self.latencies.len()
        )
    }
}

/// Each phone uploads its officer's 60 records and then reads one change
/// page, officer `i` starting `i * spread / n` after the start (all at once
/// behind a barrier when `spread` is zero); latency per officer sync.
async fn officers_sync(
    server: &Arc<common::Server>,
    phones: Vec<Phone>,
    cursors: Vec<String>,
    officers: &[Round],
    rng: &mut Rng,
    spread: Duration,
) -> Syncs {
    let count = phones.len();
    let barrier = Arc::new(tokio::sync::Barrier::new(count));
    let start = tokio::time::Instant::now() + Duration::from_millis(200);
    let mut tasks = tokio::task::JoinSet::new();
    for (i, ((mut phone, round), cursor)) in
        phones.into_iter().zip(officers).zip(cursors).enumerate()
    {
        let recs = records(rng, &mut phone, round, OFFICER_RECORDS);
        let body = batch_body(&phone, recs);
        let server = server.clone();
        let barrier = barrier.clone();
        let at = start + spread.mul_f64(i as f64 / count as f64);
        tasks.spawn(async move {
            if spread.is_zero() {
                if barrier.wait().await.is_leader() && std::env::var_os("SOTAY_BENCH_LOG").is_some()
                {
                    eprintln!(
                        "{} the {count} officers' syncs released",
                        Utc::now().format("%H:%M:%S%.6f")
                    );
                }
            } else {
                tokio::time::sleep_until(at).await;
            }
            let t = Instant::now();
            let up = post_batch(&server, &phone, body).await;
            let page = get_raw(
                &server,
                &phone,
                &format!("/api/v1/sync/changes?since={cursor}&limit=500"),
            )
            .await;
            (t.elapsed(), up, page)
        });
    }
    let t = Instant::now();
    let done = tasks.join_all().await;
    let wall = t.elapsed();
    let mut latencies = Vec::new();
    let (mut ok, mut failed, mut statuses) = (0, 0, 0);
    for (latency, up, page) in done {
        match (up, page) {
            (Ok(up), Ok(page)) => {
                ok += accepted(&up);
                let page: ChangePage = serde_json::from_slice(&page).expect("ChangePage");
                statuses += page.record_statuses.len();
                latencies.push(latency.as_secs_f64() * 1e3);
            }
            (up, page) => {
                failed += 1;
                if failed <= 3 {
                    println!("a sync failed: {:?} / {:?}", up.err(), page.err());
                }
            }
        }
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        if latencies.is_empty() {
            f64::NAN
        } else {
            latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1]
        }
    };
    let (p50, p99, max) = (pct(0.50), pct(0.99), pct(1.0));
    Syncs {
        latencies,
        p50,
        p99,
        max,
        ok,
        failed,
        statuses,
        wall,
    }
}

fn size<T: serde::Serialize>(value: &T) -> usize {
    serde_json::to_vec(value).map_or(0, |v| v.len())
}

// ---------------------------------------------------------------------------
// Raw inserts

/// A `sync_records` row as the upload stores an accepted record.
struct RawRow {
    client_id: Uuid,
    batch_id: Uuid,
    device_id: String,
    officer_id: i64,
    device_seq: i64,
    kind: &'static str,
    recorded_at: DateTime<Utc>,
    body: String,
    body_hash: String,
    worker_id: Option<i64>,
    loan_id: Option<i64>,
    amount: Option<i64>,
    receipt_no: Option<String>,
}

macro_rules! ids_of {
    ($db:expr, $sql:expr) => {
        match $db {
            Db::Sqlite(p) => sqlx::query_as::<_, (Uuid, i64)>($sql).fetch_all(p).await,
            Db::Postgres(p) => sqlx::query_as::<_, (Uuid, i64)>($sql).fetch_all(p).await,
        }
        .expect("ids")
        .into_iter()
        .collect::<HashMap<Uuid, i64>>()
    };
}

/// Records as new records (new ids, receipt numbers tagged `tag`) of the
/// same phones, one batch a phone, with the columns the upload fills in.
async fn raw_rows(db: &Db, phones: &[Phone], sent: &[Vec<UploadRecord>], tag: &str) -> Vec<RawRow> {
    let workers = ids_of!(db, "SELECT uid, id FROM workers");
    let loans = ids_of!(db, "SELECT uid, id FROM loans");
    const DEVICES: &str = "SELECT id, user_id FROM devices";
    let officers: HashMap<String, i64> = match db {
        Db::Sqlite(p) => {
            sqlx::query_as::<_, (String, i64)>(DEVICES)
                .fetch_all(p)
                .await
        }
        Db::Postgres(p) => {
            sqlx::query_as::<_, (String, i64)>(DEVICES)
                .fetch_all(p)
                .await
        }
    }
    .expect("devices")
    .into_iter()
    .collect();
    let mut rows = Vec::new();
    for (phone, records) in phones.iter().zip(sent) {
        let batch_id = Uuid::now_v7();
        let device_id = phone.device.to_string();
        for (k, r) in records.iter().enumerate() {
            let mut r = r.clone();
            r.client_id = Uuid::now_v7();
            let (kind, worker, loan, amount, receipt) = match &mut r.body {
                RecordBody::Repayment(p) => {
                    p.receipt_no = format!("{}-{tag}{k:05}", phone.code);
                    (
                        "repayment",
                        p.worker_id,
                        Some(loans[&p.loan_id]),
                        Some(p.amount.0),
                        Some(p.receipt_no.clone()),
                    )
                }
                RecordBody::Visit(v) => ("visit", v.worker_id, None, None, None),
                _ => unreachable!("the ingest sends repayments and visits"),
            };
            let body = serde_json::to_string(&r).expect("record JSON");
            rows.push(RawRow {
                client_id: r.client_id,
                batch_id,
                device_id: device_id.clone(),
                officer_id: officers[&device_id],
                device_seq: r.device_seq,
                kind,
                recorded_at: r.recorded_at,
                body_hash: hex::encode(sha2::Sha256::digest(body.as_bytes())),
                body,
                worker_id: Some(workers[&worker]),
                loan_id: loan,
                amount,
                receipt_no: receipt,
            });
        }
    }
    rows
}

macro_rules! insert_chunks {
    ($db:ty, $begin:expr, $rows:expr, $per_transaction:expr) => {{
        let now = Utc::now();
        let start = Instant::now();
        for chunk in transactions($rows, $per_transaction) {
            let mut tx = $begin.await.expect("begin");
            let mut batches: Vec<&RawRow> = Vec::new();
            for r in chunk {
                if batches.last().is_none_or(|b| b.batch_id != r.batch_id) {
                    batches.push(r);
                }
            }
            let mut qb = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO sync_batches (batch_id, device_id, officer_id, body_hash, records, response, received_at, branch_id) ",
            );
            // The batch's branch column and its index, as the upload writes
            // them (no branch: the raw side skips the key's check).
            qb.push_values(&batches, |mut b, r| {
                b.push_bind(r.batch_id)
                    .push_bind(r.device_id.as_str())
                    .push_bind(r.officer_id)
                    .push_bind(r.body_hash.as_str())
                    .push_bind(chunk.iter().filter(|x| x.batch_id == r.batch_id).count() as i64)
                    .push_bind("")
                    .push_bind(now)
                    .push_bind(Option::<i64>::None);
            });
            qb.build().execute(&mut *tx).await.expect("batch rows");
            // At most 1,000 rows a statement (SQLite takes 32,766
            // parameters a statement, PostgreSQL 65,535).
            for rows in chunk.chunks(1_000) {
            let mut qb = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO sync_records (client_id, batch_id, device_id, officer_id, device_seq, kind, recorded_at,
                     received_at, body, body_hash, status, code, message_vi, message_en, worker_id, loan_id,
                     campaign_id, target_client_id, amount, receipt_no) ",
            );
            qb.push_values(rows, |mut b, r| {
                b.push_bind(r.client_id)
                    .push_bind(r.batch_id)
                    .push_bind(r.device_id.as_str())
                    .push_bind(r.officer_id)
                    .push_bind(r.device_seq)
                    .push_bind(r.kind)
                    .push_bind(r.recorded_at)
                    .push_bind(now)
                    .push_bind(r.body.as_str())
                    .push_bind(r.body_hash.as_str())
                    .push_bind("accepted")
                    .push_bind(None::<String>)
                    .push_bind(None::<String>)
                    .push_bind(None::<String>)
                    .push_bind(r.worker_id)
                    .push_bind(r.loan_id)
                    .push_bind(None::<i64>)
                    .push_bind(None::<Uuid>)
                    .push_bind(r.amount)
                    .push_bind(r.receipt_no.as_deref());
            });
            qb.build().execute(&mut *tx).await.expect("multi-row insert");
            }
            tx.commit().await.expect("commit");
        }
        start.elapsed()
    }};
}

/// `rows` cut into transactions of whole batches, at most `most` rows each
/// (the first batch whatever its size), as the upload writer groups them.
fn transactions(rows: &[RawRow], most: usize) -> Vec<&[RawRow]> {
    let mut out = Vec::new();
    let (mut start, mut at) = (0, 0);
    while at < rows.len() {
        let batch = rows[at..]
            .iter()
            .take_while(|r| r.batch_id == rows[at].batch_id)
            .count();
        if at > start && at + batch - start > most {
            out.push(&rows[start..at]);
            start = at;
        }
        at += batch;
    }
    if start < rows.len() {
        out.push(&rows[start..]);
    }
    out
}

/// Plain multi-row INSERTs in transactions of whole batches, at most
/// `per_transaction` rows each (with their batch rows), the way the server
/// opens its write transactions.
async fn raw_insert(db: &Db, rows: &[RawRow], per_transaction: usize) -> Duration {
    match db {
        Db::Sqlite(p) => insert_chunks!(
            sqlx::Sqlite,
            p.begin_with("BEGIN IMMEDIATE"),
            rows,
            per_transaction
        ),
        Db::Postgres(p) => insert_chunks!(sqlx::Postgres, p.begin(), rows, per_transaction),
    }
}

/// The cost of one indexed point SELECT on one pooled connection, inside a
/// transaction: the price of every per-record statement of the upload.
async fn point_query_us(db: &Db) -> f64 {
    const N: usize = 2_000;
    macro_rules! probe {
        ($pool:expr) => {{
            let mut tx = $pool.begin().await.expect("begin");
            let start = Instant::now();
            for _ in 0..N {
                let row: Option<(String, String)> = sqlx::query_as(
                    "SELECT body_hash, status FROM sync_records WHERE client_id = $1",
                )
                .bind(Uuid::now_v7())
                .fetch_optional(&mut *tx)
                .await
                .expect("probe");
                assert!(row.is_none());
            }
            let t = start.elapsed();
            tx.commit().await.expect("commit");
            t
        }};
    }
    let t = match db {
        Db::Sqlite(p) => probe!(p),
        Db::Postgres(p) => probe!(p),
    };
    t.as_secs_f64() * 1e6 / N as f64
}

// ---------------------------------------------------------------------------
// Summary

fn summary(results: &[Figures]) {
    let mark = |ok: bool| if ok { "met" } else { "MISSED" };
    println!();
    let names: Vec<&str> = results.iter().map(|f| f.backend.name()).collect();
    println!("== summary (figure | {} | target)", names.join(" | "));
    let row = |label: &str, f: &dyn Fn(&Figures) -> String, target: &str| {
        let cells: Vec<String> = results.iter().map(f).collect();
        println!("{label} | {} | {target}", cells.join(" | "));
    };
    row(
        &format!("ingest over HTTP, {INGEST_PHONES} phones at once, records/s (the round with the median HTTP/raw)"),
        &|f| {
            format!(
                "{:.0} ({})",
                f.ingest.http,
                mark(f.ingest.http >= TARGET_INGEST)
            )
        },
        ">= 20,000",
    );
    row(
        "raw multi-row INSERT of the same rows, records/s",
        &|f| format!("{:.0}", f.ingest.raw),
        "-",
    );
    row(
        "HTTP/raw",
        &|f| {
            let r = f.ingest.ratio();
            format!("{r:.3} ({})", mark(r >= TARGET_RATIO))
        },
        ">= 0.5",
    );
    row(
        "ingest over HTTP, one batch after the other, records/s",
        &|f| format!("{:.0}", f.ingest_alone.http),
        "-",
    );
    row(
        "raw multi-row INSERT of those rows, records/s",
        &|f| format!("{:.0}", f.ingest_alone.raw),
        "-",
    );
    row(
        "HTTP/raw, one batch after the other",
        &|f| format!("{:.3}", f.ingest_alone.ratio()),
        "-",
    );
    row(
        "200 officers at once, sync p50 ms",
        &|f| format!("{:.0}", f.p50_ms),
        "-",
    );
    row(
        "200 officers at once, sync p99 ms",
        &|f| format!("{:.0} ({})", f.p99_ms, mark(f.p99_ms < TARGET_P99_MS)),
        "< 250",
    );
    row(
        "the same records' raw INSERTs alone, ms",
        &|f| format!("{:.0}", f.floor_ms),
        "-",
    );
    row(
        "200 officers within 10 s, sync p50 ms",
        &|f| format!("{:.0}", f.spread_p50_ms),
        "-",
    );
    row(
        "200 officers within 10 s, sync p99 ms",
        &|f| format!("{:.0}", f.spread_p99_ms),
        "-",
    );
    row(
        "first download, 2,000 workers, bytes uncompressed",
        &|f| f.identity.to_string(),
        "-",
    );
    row(
        "first download, gzip bytes",
        &|f| format!("{} ({})", f.gzip, mark(f.gzip < TARGET_DOWNLOAD_BYTES)),
        "< 300,000",
    );
    row(
        "first download, zstd bytes",
        &|f| format!("{} ({})", f.zstd, mark(f.zstd < TARGET_DOWNLOAD_BYTES)),
        "< 300,000",
    );
}
