//! The sync benchmark (issue 4 §6), on SQLite and on PostgreSQL in one run:
//!
//! 1. ingest: 500-record upload batches through the whole HTTP path (a real
//!    axum server on 127.0.0.1:0, reqwest, JSON, bearer tokens), records/s,
//!    next to the raw multi-row INSERT rate of the same rows into the same
//!    table (`sync_records`, transactions of 500) measured right after;
//! 2. 200 officers syncing at once, each one upload of 60 records and one
//!    change page, latency per officer sync (p50 / p99);
//! 3. the size of an officer's first download (2,000 workers with loans),
//!    uncompressed, gzip and zstd.
//!
//! `cargo bench -p sotay-server --bench sync`. PostgreSQL: the admin URL in
//! `SOTAY_BENCH_POSTGRES` (`scripts/bench.sh` starts a throwaway cluster and
//! sets it); without it the bench starts and stops one itself with
//! `scripts/pg-cluster.sh`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Days, Months, NaiveDate, Utc};
use serde_json::{json, Value};
use sha2::Digest;
use sotay_core::domain::money::Dong;
use sotay_core::domain::rules::receipt_number;
use sotay_core::domain::schedule::{build_schedule, Frequency, Installment, LoanTerms};
use sotay_core::wire::{
    ChangePage, GeoPoint, PortfolioSnapshot, RecordBody, RepaymentPayload, UploadBatch,
    UploadOutcome, UploadRecord, UploadResponse, VisitPayload, VisitPurpose,
};
use sotay_server::app::{self, AppState};
use sotay_server::db::{stable_uid, AuditEntry, Db, ImportMeta};
use sotay_server::import::rows::{
    AllocationRow, BoardingHouseRow, ImportSet, LoanRow, Origin, Role, UserRow, WorkerRow,
};
use sqlx::Connection;
use uuid::Uuid;

const PASSWORD: &str = "bench-pass-2026";
/// Officers with a small round each (the ingest and concurrency parts).
const OFFICERS: usize = 200;
const WORKERS_PER_OFFICER: usize = 15;
/// The officer whose first download is measured.
const BIG_WORKERS: usize = 2_000;
const BATCH: usize = 500;
/// Timed ingest batches, each from its own officer and phone (one more warms up).
const INGEST_BATCHES: usize = 24;
const OFFICER_RECORDS: usize = 60;
/// Share of repayments among the uploaded records; the rest are visits.
const REPAYMENT_PERCENT: u64 = 40;

const TARGET_INGEST: f64 = 20_000.0;
const TARGET_RATIO: f64 = 0.5;
const TARGET_P99_MS: f64 = 250.0;
const TARGET_DOWNLOAD_BYTES: usize = 300_000;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(run());
}

async fn run() {
    let started = Instant::now();
    let today = sotay_core::domain::time::local_date(Utc::now());
    let fund = Fund::generate(today);
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

// ---------------------------------------------------------------------------
// Databases

/// The PostgreSQL cluster: from `SOTAY_BENCH_POSTGRES`, or one this bench
/// started with `scripts/pg-cluster.sh` and stops when dropped.
struct PgCluster {
    admin: String,
    script: String,
    owned: Option<tempfile::TempDir>,
}

impl PgCluster {
    fn get() -> PgCluster {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/pg-cluster.sh").to_string();
        if let Ok(admin) = std::env::var("SOTAY_BENCH_POSTGRES") {
            return PgCluster {
                admin,
                script,
                owned: None,
            };
        }
        let dir = tempfile::tempdir().expect("temp dir for the PostgreSQL cluster");
        let out = std::process::Command::new("bash")
            .arg(&script)
            .arg("start")
            .arg(dir.path())
            .output()
            .expect("run scripts/pg-cluster.sh");
        if !out.status.success() {
            eprintln!("{}", String::from_utf8_lossy(&out.stderr));
            panic!("could not start a PostgreSQL cluster; set SOTAY_BENCH_POSTGRES or run scripts/bench.sh");
        }
        let admin = String::from_utf8_lossy(&out.stdout).trim().to_string();
        println!("started a throwaway PostgreSQL cluster (scripts/pg-cluster.sh)");
        PgCluster {
            admin,
            script,
            owned: Some(dir),
        }
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if let Some(dir) = self.owned.take() {
            let _ = std::process::Command::new("bash")
                .arg(&self.script)
                .arg("stop")
                .arg(dir.path())
                .status();
        }
    }
}

struct Store {
    db: Db,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl Store {
    async fn open(backend: Backend, cluster: &PgCluster) -> Store {
        match backend {
            Backend::Sqlite => {
                // On the machine's disk (the cargo target directory), not in RAM.
                let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("sotay.db").display());
                Store {
                    db: Db::connect(&url).await.expect("open SQLite"),
                    pg_name: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let name = format!("sotay_bench_{}", Uuid::now_v7().simple());
                let mut conn = sqlx::PgConnection::connect(&cluster.admin)
                    .await
                    .expect("connect to the PostgreSQL cluster");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create the bench database");
                let base = &cluster.admin[..cluster.admin.rfind('/').expect("admin URL")];
                Store {
                    db: Db::connect(&format!("{base}/{name}"))
                        .await
                        .expect("open PostgreSQL"),
                    pg_name: Some(name),
                    _dir: None,
                }
            }
        }
    }

    async fn close(self, cluster: &PgCluster) {
        self.db.close().await;
        if let Some(name) = self.pg_name {
            if let Ok(mut conn) = sqlx::PgConnection::connect(&cluster.admin).await {
                let _ = sqlx::query(&format!("DROP DATABASE {name}"))
                    .execute(&mut conn)
                    .await;
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The fund: generated rows, imported through the same path as an admin's files

/// SplitMix64, as in the demo fund: stable and tiny.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// An officer's round as the bench uploads against it.
struct Round {
    username: String,
    /// (worker uid, loan uid) of each borrower.
    borrowers: Vec<(Uuid, Uuid)>,
}

struct Fund {
    set: ImportSet,
    officers: Vec<Round>,
    big: Round,
}

/// Name parts, employers, notes and houses come from the demo fund, so the
/// text has the demo's realistic variety (and compresses like real data).
struct Pools {
    female: (Vec<String>, Vec<String>, Vec<String>),
    male: (Vec<String>, Vec<String>, Vec<String>),
    provinces: Vec<String>,
    employers: Vec<Vec<String>>,
    notes: Vec<String>,
}

impl Fund {
    fn generate(today: NaiveDate) -> Fund {
        let demo = sotay_server::demo::demo_fund(today);
        let zones: Vec<String> = demo
            .branches
            .iter()
            .map(|b| b.industrial_zone.clone())
            .collect();
        let mut pools = Pools {
            female: Default::default(),
            male: Default::default(),
            provinces: Vec::new(),
            employers: vec![Vec::new(); zones.len()],
            notes: Vec::new(),
        };
        for w in &demo.workers {
            let parts: Vec<&str> = w.full_name.split_whitespace().collect();
            let pool = if w.gender.as_deref() == Some("nu") {
                &mut pools.female
            } else {
                &mut pools.male
            };
            pool.0.push(parts[0].to_string());
            pool.1.push(parts[1..parts.len() - 1].join(" "));
            pool.2.push(parts[parts.len() - 1].to_string());
            pools.provinces.push(w.cccd[..3].to_string());
            if let Some(z) = zones.iter().position(|z| *z == w.industrial_zone) {
                pools.employers[z].push(w.employer.clone());
            }
            if !w.hardship_note.is_empty() {
                pools.notes.push(w.hardship_note.clone());
            }
        }

        let mut rng = Rng(0x5b7c_2026_0406);
        let mut set = ImportSet {
            branches: demo.branches.clone(),
            loan_products: demo.loan_products.clone(),
            campaigns: demo.campaigns.clone(),
            allocations: demo
                .allocations
                .iter()
                .filter(|a| a.officer_code.is_none())
                .cloned()
                .collect::<Vec<AllocationRow>>(),
            ..ImportSet::default()
        };
        let mut gen = Gen {
            rng: &mut rng,
            pools: &pools,
            demo: &demo,
            today,
            cccds: Default::default(),
            phones: Default::default(),
        };
        let mut officers = Vec::new();
        for i in 0..OFFICERS {
            let branch = i % demo.branches.len();
            officers.push(gen.officer(
                &mut set,
                &format!("CB-{:04}", i + 1),
                &format!("canbo.b{:04}", i + 1),
                branch,
                1,
                WORKERS_PER_OFFICER,
            ));
        }
        let big = gen.officer(&mut set, "CB-LON", "canbo.lon", 0, 100, BIG_WORKERS);
        Fund { set, officers, big }
    }
}

struct Gen<'a> {
    rng: &'a mut Rng,
    pools: &'a Pools,
    demo: &'a ImportSet,
    today: NaiveDate,
    cccds: std::collections::HashSet<String>,
    phones: std::collections::HashSet<String>,
}

fn origin(file: &str, index: usize) -> Origin {
    Origin {
        file: file.into(),
        line: index as u64 + 2,
    }
}

impl Gen<'_> {
    fn phone(&mut self) -> String {
        const PREFIXES: [&str; 8] = ["090", "091", "093", "097", "098", "086", "070", "035"];
        loop {
            let p = format!(
                "{}{:07}",
                self.rng.pick(&PREFIXES),
                self.rng.below(10_000_000)
            );
            if self.phones.insert(p.clone()) {
                return p;
            }
        }
    }

    /// One officer with `houses` boarding houses and `workers` borrowers.
    fn officer(
        &mut self,
        set: &mut ImportSet,
        code: &str,
        username: &str,
        branch: usize,
        houses: usize,
        workers: usize,
    ) -> Round {
        let b = &self.demo.branches[branch];
        let female = self.rng.chance(60);
        set.users.push(UserRow {
            origin: origin("users.csv", set.users.len()),
            code: code.into(),
            username: username.into(),
            full_name: self.name(female),
            role: Role::Officer,
            branch_code: Some(b.code.clone()),
            phone: None,
            initial_password: Some(PASSWORD.into()),
        });
        // The demo's houses of this branch's zone, as templates.
        let templates: Vec<&BoardingHouseRow> = self
            .demo
            .boarding_houses
            .iter()
            .filter(|h| h.industrial_zone == b.industrial_zone)
            .collect();
        let mut house_codes = Vec::new();
        for _ in 0..houses {
            let t = *self.rng.pick(&templates);
            let n = set.boarding_houses.len() + 1;
            let landlord_phone = Some(self.phone());
            set.boarding_houses.push(BoardingHouseRow {
                origin: origin("boarding_houses.csv", n - 1),
                code: format!("NT-B-{n:04}"),
                name: t.name.clone(),
                address: format!("{}/{} {}", 2 + n % 180, 1 + n % 40, t.address),
                landlord_phone,
                ..t.clone()
            });
            house_codes.push(format!("NT-B-{n:04}"));
        }
        let mut borrowers = Vec::new();
        for _ in 0..workers {
            let n = set.workers.len() + 1;
            let worker_code = format!("NLD-B{n:06}");
            let female = self.rng.chance(68);
            let born = 2005 - self.rng.below(31).min(self.rng.below(31)) as i32;
            let cccd = loop {
                let c = format!(
                    "{}{}{:02}{:06}",
                    self.rng.pick(&self.pools.provinces),
                    u8::from(female) + if born >= 2000 { 2 } else { 0 },
                    born % 100,
                    self.rng.below(1_000_000)
                );
                if self.cccds.insert(c.clone()) {
                    break c;
                }
            };
            let hardship = self.rng.chance(15);
            let house = self.rng.pick(&house_codes).clone();
            let phone = self.rng.chance(97).then(|| self.phone());
            set.workers.push(WorkerRow {
                origin: origin("workers.csv", n - 1),
                code: worker_code.clone(),
                full_name: self.name(female),
                cccd,
                phone,
                date_of_birth: NaiveDate::from_ymd_opt(born, 1, 1)
                    .and_then(|d| d.checked_add_days(Days::new(self.rng.below(365)))),
                gender: Some(if female { "nu" } else { "nam" }.into()),
                union_member: self.rng.chance(70),
                employer: self.rng.pick(&self.pools.employers[branch]).clone(),
                industrial_zone: b.industrial_zone.clone(),
                boarding_house_code: Some(house),
                room: format!("P.{}", 1 + self.rng.below(24)),
                hardship,
                hardship_note: if hardship {
                    self.rng.pick(&self.pools.notes).clone()
                } else {
                    String::new()
                },
                officer_code: code.into(),
            });
            let loan_code = format!("KV-B{n:06}");
            set.loans
                .push(self.loan(&loan_code, &worker_code, set.loans.len()));
            borrowers.push((
                stable_uid("worker", &worker_code),
                stable_uid("loan", &loan_code),
            ));
        }
        Round {
            username: username.into(),
            borrowers,
        }
    }

    fn name(&mut self, female: bool) -> String {
        let (family, middle, given) = if female {
            &self.pools.female
        } else {
            &self.pools.male
        };
        format!(
            "{} {} {}",
            self.rng.pick(family),
            self.rng.pick(middle),
            self.rng.pick(given)
        )
    }

    /// A running loan in its first half, paid up to date (one in eight a
    /// little behind), so every benchmark repayment fits its balance.
    fn loan(&mut self, code: &str, worker_code: &str, index: usize) -> LoanRow {
        let p = &self.demo.loan_products[match self.rng.below(100) {
            0..=44 => 0,
            45..=69 => 1,
            70..=89 => 2,
            _ => 3,
        }];
        let steps = ((p.max_principal - p.min_principal) / 500_000) as u64 + 1;
        let principal =
            p.min_principal + 500_000 * self.rng.below(steps).min(self.rng.below(steps)) as i64;
        let elapsed = self.rng.below(u64::from(p.installments / 2)) as u32;
        let back = match p.frequency {
            Frequency::Weekly => self.today - Days::new(7 * u64::from(elapsed)),
            Frequency::Biweekly => self.today - Days::new(14 * u64::from(elapsed)),
            Frequency::Monthly => self.today - Months::new(elapsed),
        };
        let disbursed_on = back - Days::new(self.rng.below(7));
        let schedule = build_schedule(&LoanTerms {
            principal,
            annual_rate_bp: p.annual_rate_bp,
            method: p.method,
            frequency: p.frequency,
            installments: p.installments,
            disbursed_on,
        })
        .expect("a valid schedule");
        let amount = |i: &Installment| i.principal + i.interest;
        let due: Vec<i64> = schedule
            .iter()
            .filter(|i| i.due_on < self.today)
            .map(amount)
            .collect();
        let mut paid: i64 = due.iter().sum();
        if !due.is_empty() && self.rng.chance(12) {
            paid -= due[due.len() - 1];
        }
        LoanRow {
            origin: origin("loans.csv", index),
            code: code.into(),
            worker_code: worker_code.into(),
            product_code: p.code.clone(),
            principal,
            disbursed_on,
            paid_to_date: paid,
        }
    }
}

async fn seed(db: &Db, set: &ImportSet) {
    let meta = ImportMeta {
        user_id: None,
        source: "cli",
        files: vec!["bench".into()],
        sha256: String::new(),
        rows: set.row_count() as i64,
    };
    let audit = AuditEntry {
        actor_user_id: None,
        actor_username: "bench".into(),
        action: "import",
        object_type: "import",
        object_id: "bench".into(),
        device_id: None,
        ip: None,
        detail: Value::Null,
    };
    db.apply_import(set, &meta, audit)
        .await
        .expect("the bench fund imports");
}

// ---------------------------------------------------------------------------
// Phones

struct Server {
    base: String,
    http: reqwest::Client,
}

async fn serve(db: &Db) -> Server {
    let state = AppState::new(db.clone(), Some("bench-secret-for-the-sync-benchmark"))
        .await
        .expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(
            listener,
            app::router(state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    Server {
        base: format!("http://{addr}"),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("client"),
    }
}

struct Phone {
    token: String,
    device: Uuid,
    code: String,
    seq: i64,
    receipts: i64,
}

async fn login(server: &Server, username: &str) -> Phone {
    let device = Uuid::now_v7();
    let resp = server
        .http
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&json!({
            "username": username,
            "password": PASSWORD,
            "device_id": device.to_string(),
            "device_name": format!("Điện thoại của {username}"),
        }))
        .send()
        .await
        .expect("login");
    assert!(resp.status().is_success(), "login {username}");
    let body: Value = resp.json().await.expect("login body");
    Phone {
        token: body["access_token"].as_str().expect("token").to_string(),
        device,
        code: body["device"]["code"]
            .as_str()
            .expect("device code")
            .to_string(),
        seq: 0,
        receipts: 0,
    }
}

async fn login_all(server: &Arc<Server>, usernames: Vec<String>) -> Vec<Phone> {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, u) in usernames.into_iter().enumerate() {
        let server = server.clone();
        tasks.spawn(async move { (i, login(&server, &u).await) });
    }
    let mut phones: Vec<(usize, Phone)> = tasks.join_all().await;
    phones.sort_by_key(|(i, _)| *i);
    phones.into_iter().map(|(_, p)| p).collect()
}

const OUTCOMES: [&str; 6] = [
    "Đã gặp, hẹn trả vào thứ Bảy",
    "Vắng nhà, gửi lời nhắn cho chủ trọ",
    "Đã nhắc lịch trả kỳ tới",
    "Gia đình khó khăn, đề nghị giãn nợ",
    "Đã tư vấn sản phẩm vay mới",
    "Đi ca đêm, hẹn gặp lại",
];

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

fn batch_body(phone: &Phone, records: Vec<UploadRecord>) -> Vec<u8> {
    serde_json::to_vec(&UploadBatch {
        batch_id: Uuid::now_v7(),
        device_id: phone.device,
        records,
    })
    .expect("batch JSON")
}

async fn post_batch(server: &Server, phone: &Phone, body: Vec<u8>) -> Result<Vec<u8>, String> {
    let resp = server
        .http
        .post(format!("{}/api/v1/sync/batches", server.base))
        .bearer_auth(&phone.token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{status}: {}", String::from_utf8_lossy(&bytes)));
    }
    Ok(bytes.to_vec())
}

fn accepted(response: &[u8]) -> usize {
    let r: UploadResponse = serde_json::from_slice(response).expect("UploadResponse");
    r.results
        .iter()
        .filter(|r| r.outcome == UploadOutcome::Accepted)
        .count()
}

// ---------------------------------------------------------------------------
// The three measurements

struct Figures {
    backend: Backend,
    ingest_rate: f64,
    raw_rate: f64,
    p50_ms: f64,
    p99_ms: f64,
    identity: usize,
    gzip: usize,
    zstd: usize,
}

async fn bench_backend(backend: Backend, db: &Db, fund: &Fund) -> Figures {
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

    // 1. Ingest through HTTP, then raw inserts of equivalent rows.
    let ingest_rounds: Vec<&Round> = fund.officers[..=INGEST_BATCHES].iter().collect();
    let mut phones = login_all(
        &server,
        ingest_rounds.iter().map(|r| r.username.clone()).collect(),
    )
    .await;
    let mut sent: Vec<Vec<UploadRecord>> = Vec::new();
    let mut bodies = Vec::new();
    for (phone, round) in phones.iter_mut().zip(&ingest_rounds) {
        let recs = records(&mut rng, phone, round, BATCH);
        bodies.push(batch_body(phone, recs.clone()));
        sent.push(recs);
    }
    let warm = bodies.remove(0);
    accepted(
        &post_batch(&server, &phones[0], warm)
            .await
            .expect("warm-up"),
    );
    let t = Instant::now();
    let mut responses = Vec::new();
    for (i, body) in bodies.into_iter().enumerate() {
        let phone = &phones[i + 1];
        responses.push(post_batch(&server, phone, body).await.expect("upload"));
    }
    let http_time = t.elapsed();
    let n = INGEST_BATCHES * BATCH;
    let ok: usize = responses.iter().map(|r| accepted(r)).sum();
    let ingest_rate = n as f64 / http_time.as_secs_f64();
    println!(
        "{name} ingest over HTTP: {INGEST_BATCHES} batches x {BATCH} records ({REPAYMENT_PERCENT}% repayments, the rest visits), {ok}/{n} accepted, in {:.0} ms = {ingest_rate:.0} records/s ({:.0} us a record)",
        http_time.as_secs_f64() * 1e3,
        http_time.as_secs_f64() * 1e6 / n as f64
    );
    assert_eq!(ok, n, "every ingest record is valid and must be accepted");

    let rows = raw_rows(db, &phones[1..], &sent[1..]).await;
    let raw_time = raw_insert(db, &rows).await;
    let raw_rate = n as f64 / raw_time.as_secs_f64();
    println!(
        "{name} raw multi-row INSERT into sync_records, same rows, transactions of {BATCH}: {:.0} ms = {raw_rate:.0} records/s; HTTP/raw = {:.3}",
        raw_time.as_secs_f64() * 1e3,
        ingest_rate / raw_rate
    );
    let probe = point_query_us(db).await;
    println!(
        "{name} one point SELECT on sync_records by client_id (the upload's first per-record statement): {probe:.1} us"
    );

    // 2. 200 officers at once: one upload and one change page each.
    let t = Instant::now();
    let phones = login_all(
        &server,
        fund.officers.iter().map(|r| r.username.clone()).collect(),
    )
    .await;
    let mut cursors = Vec::new();
    for p in &phones {
        let snap: PortfolioSnapshot = get_json(&server, p, "/api/v1/sync/changes").await;
        assert_eq!(snap.workers.len(), WORKERS_PER_OFFICER);
        cursors.push(snap.next);
    }
    println!(
        "{name} setup: {OFFICERS} logins and snapshots in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let barrier = Arc::new(tokio::sync::Barrier::new(OFFICERS));
    let mut tasks = tokio::task::JoinSet::new();
    for ((mut phone, round), cursor) in phones.into_iter().zip(&fund.officers).zip(cursors) {
        let recs = records(&mut rng, &mut phone, round, OFFICER_RECORDS);
        let body = batch_body(&phone, recs);
        let server = server.clone();
        let barrier = barrier.clone();
        tasks.spawn(async move {
            barrier.wait().await;
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
                    println!("{name} a sync failed: {:?} / {:?}", up.err(), page.err());
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
    println!(
        "{name} {OFFICERS} officers syncing at once ({OFFICER_RECORDS} records up + one change page down each): {failed} failed, {ok} records accepted, {statuses} statuses came back; all done in {:.0} ms ({:.0} records/s); latency per officer sync p50 {p50:.0} ms, p99 {p99:.0} ms, max {max:.0} ms",
        wall.as_secs_f64() * 1e3,
        ok as f64 / wall.as_secs_f64()
    );

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
        ingest_rate,
        raw_rate,
        p50_ms: p50,
        p99_ms: p99,
        identity: sizes[0],
        gzip: sizes[1],
        zstd: sizes[2],
    }
}

async fn get_raw(server: &Server, phone: &Phone, path: &str) -> Result<Vec<u8>, String> {
    let resp = server
        .http
        .get(format!("{}{path}", server.base))
        .bearer_auth(&phone.token)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{status}: {}", String::from_utf8_lossy(&bytes)));
    }
    Ok(bytes.to_vec())
}

async fn get_json<T: serde::de::DeserializeOwned>(server: &Server, phone: &Phone, path: &str) -> T {
    serde_json::from_slice(&get_raw(server, phone, path).await.expect("GET")).expect("JSON")
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

/// The ingest's records again as new records (new ids and receipt numbers)
/// of the same phones, with the columns the upload fills in.
async fn raw_rows(db: &Db, phones: &[Phone], sent: &[Vec<UploadRecord>]) -> Vec<RawRow> {
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
                    p.receipt_no = format!("{}-R{k:05}", phone.code);
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
    ($db:ty, $begin:expr, $rows:expr) => {{
        let now = Utc::now();
        let start = Instant::now();
        for chunk in $rows.chunks(BATCH) {
            let mut tx = $begin.await.expect("begin");
            let first = &chunk[0];
            sqlx::query(
                "INSERT INTO sync_batches (batch_id, device_id, officer_id, body_hash, records, response, received_at)
                 VALUES ($1, $2, $3, $4, $5, '', $6)",
            )
            .bind(first.batch_id)
            .bind(&first.device_id)
            .bind(first.officer_id)
            .bind(&first.body_hash)
            .bind(chunk.len() as i64)
            .bind(now)
            .execute(&mut *tx)
            .await
            .expect("batch row");
            let mut qb = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO sync_records (client_id, batch_id, device_id, officer_id, device_seq, kind, recorded_at,
                     received_at, body, body_hash, status, code, message_vi, message_en, worker_id, loan_id,
                     campaign_id, target_client_id, amount, receipt_no) ",
            );
            qb.push_values(chunk, |mut b, r| {
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
            tx.commit().await.expect("commit");
        }
        start.elapsed()
    }};
}

/// Plain multi-row INSERTs, one transaction per 500 rows (with its batch row),
/// the way the server opens its write transactions.
async fn raw_insert(db: &Db, rows: &[RawRow]) -> Duration {
    match db {
        Db::Sqlite(p) => insert_chunks!(sqlx::Sqlite, p.begin_with("BEGIN IMMEDIATE"), rows),
        Db::Postgres(p) => insert_chunks!(sqlx::Postgres, p.begin(), rows),
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
        "ingest over HTTP, records/s",
        &|f| {
            format!(
                "{:.0} ({})",
                f.ingest_rate,
                mark(f.ingest_rate >= TARGET_INGEST)
            )
        },
        ">= 20,000",
    );
    row(
        "raw multi-row INSERT, records/s",
        &|f| format!("{:.0}", f.raw_rate),
        "-",
    );
    row(
        "HTTP/raw",
        &|f| {
            let r = f.ingest_rate / f.raw_rate;
            format!("{r:.3} ({})", mark(r >= TARGET_RATIO))
        },
        ">= 0.5",
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
