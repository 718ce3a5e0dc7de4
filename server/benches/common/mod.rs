//! What the server benchmarks share: the two databases (SQLite on the
//! machine's disk, a throwaway PostgreSQL cluster), a generated fund imported
//! through the admin's import path, a real axum server and phones that sign
//! in and upload over HTTP. Included by each bench as `mod common;`.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{Days, Months, NaiveDate};
use serde_json::{json, Value};
use sotay_core::domain::schedule::{build_schedule, Frequency, Installment, LoanTerms};
use sotay_core::wire::{UploadBatch, UploadOutcome, UploadRecord, UploadResponse};
use sotay_server::app::{self, AppState};
use sotay_server::db::{stable_uid, AuditEntry, Db, ImportMeta};
use sotay_server::import::rows::{
    AllocationRow, BoardingHouseRow, ImportSet, LoanRow, Origin, Role, UserRow, WorkerRow,
};
use sqlx::Connection;
use uuid::Uuid;

pub const PASSWORD: &str = "bench-pass-2026";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
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
pub struct PgCluster {
    pub admin: String,
    pub script: String,
    pub owned: Option<tempfile::TempDir>,
}

impl PgCluster {
    pub fn get() -> PgCluster {
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

pub struct Store {
    pub db: Db,
    pub pg_name: Option<String>,
    pub _dir: Option<tempfile::TempDir>,
}

impl Store {
    pub async fn open(backend: Backend, cluster: &PgCluster) -> Store {
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

    pub async fn close(self, cluster: &PgCluster) {
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
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// An officer's round as the bench uploads against it.
pub struct Round {
    pub username: String,
    /// (worker uid, loan uid) of each borrower.
    pub borrowers: Vec<(Uuid, Uuid)>,
    /// (worker uid, full name) of each borrower who is a union member.
    pub members: Vec<(Uuid, String)>,
}

pub struct Fund {
    pub set: ImportSet,
}

/// Name parts, employers, notes and houses come from the demo fund, so the
/// text has the demo's realistic variety (and compresses like real data).
pub struct Pools {
    pub female: (Vec<String>, Vec<String>, Vec<String>),
    pub male: (Vec<String>, Vec<String>, Vec<String>),
    pub provinces: Vec<String>,
    pub employers: Vec<Vec<String>>,
    pub notes: Vec<String>,
}

impl Fund {
    /// The demo's branches, products and campaigns (branch allocations only),
    /// with the officers `officers` adds through the generator, seeded.
    pub fn generate(
        today: NaiveDate,
        seed: u64,
        officers: impl FnOnce(&mut Gen, &mut ImportSet),
    ) -> Fund {
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

        let mut rng = Rng(seed);
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
        officers(&mut gen, &mut set);
        Fund { set }
    }
}

pub struct Gen<'a> {
    pub rng: &'a mut Rng,
    pub pools: &'a Pools,
    pub demo: &'a ImportSet,
    pub today: NaiveDate,
    pub cccds: std::collections::HashSet<String>,
    pub phones: std::collections::HashSet<String>,
}

pub fn origin(file: &str, index: usize) -> Origin {
    Origin {
        file: file.into(),
        line: index as u64 + 2,
    }
}

impl Gen<'_> {
    pub fn phone(&mut self) -> String {
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
    pub fn officer(
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
        let mut members = Vec::new();
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
            let w = set.workers.last().expect("just pushed");
            if w.union_member {
                members.push((stable_uid("worker", &worker_code), w.full_name.clone()));
            }
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
            members,
        }
    }

    pub fn name(&mut self, female: bool) -> String {
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
    pub fn loan(&mut self, code: &str, worker_code: &str, index: usize) -> LoanRow {
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
        // At least the day before: a bench's records, spread over the hours
        // before it runs, are never dated before their loan (just after
        // midnight, Vietnam time, they would be, on a loan paid out today).
        let disbursed_on = back - Days::new(1 + self.rng.below(7));
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

pub async fn seed(db: &Db, set: &ImportSet) {
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

pub struct Server {
    pub base: String,
    pub http: reqwest::Client,
}

pub async fn serve(db: &Db) -> Server {
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

#[derive(Clone)]
pub struct Phone {
    pub token: String,
    pub device: Uuid,
    pub code: String,
    pub seq: i64,
    pub receipts: i64,
}

pub async fn login(server: &Server, username: &str) -> Phone {
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

pub async fn login_all(server: &Arc<Server>, usernames: Vec<String>) -> Vec<Phone> {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, u) in usernames.into_iter().enumerate() {
        let server = server.clone();
        tasks.spawn(async move { (i, login(&server, &u).await) });
    }
    let mut phones: Vec<(usize, Phone)> = tasks.join_all().await;
    phones.sort_by_key(|(i, _)| *i);
    phones.into_iter().map(|(_, p)| p).collect()
}

pub const OUTCOMES: [&str; 6] = [
    "Đã gặp, hẹn trả vào thứ Bảy",
    "Vắng nhà, gửi lời nhắn cho chủ trọ",
    "Đã nhắc lịch trả kỳ tới",
    "Gia đình khó khăn, đề nghị giãn nợ",
    "Đã tư vấn sản phẩm vay mới",
    "Đi ca đêm, hẹn gặp lại",
];

pub fn batch_body(phone: &Phone, records: Vec<UploadRecord>) -> Vec<u8> {
    serde_json::to_vec(&UploadBatch {
        batch_id: Uuid::now_v7(),
        device_id: phone.device,
        records,
        approved_before: Vec::new(),
    })
    .expect("batch JSON")
}

pub async fn post_batch(server: &Server, phone: &Phone, body: Vec<u8>) -> Result<Vec<u8>, String> {
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

pub fn accepted(response: &[u8]) -> usize {
    let r: UploadResponse = serde_json::from_slice(response).expect("UploadResponse");
    r.results
        .iter()
        .filter(|r| r.outcome == UploadOutcome::Accepted)
        .count()
}

pub async fn get_raw(server: &Server, phone: &Phone, path: &str) -> Result<Vec<u8>, String> {
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

pub async fn get_json<T: serde::de::DeserializeOwned>(
    server: &Server,
    phone: &Phone,
    path: &str,
) -> T {
    serde_json::from_slice(&get_raw(server, phone, path).await.expect("GET")).expect("JSON")
}
