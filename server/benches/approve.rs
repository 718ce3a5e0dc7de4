//! The supervisor approval benchmark, on SQLite and on PostgreSQL in one run:
//! approving an officer's batch of 1,000 records (repayments, gift handouts
//! and visits) with its posting — every record's fate, a journal entry per
//! repayment and gift, the loans' installments, the cash settlement, the
//! change feed and the audit log, in one transaction — measured from the
//! supervisor's HTTP request to its answer (`POST /api/v1/batches/{id}/approve`
//! on a real axum server on 127.0.0.1:0), over several batches.
//!
//! `cargo bench -p sotay-server --bench approve`. PostgreSQL: the admin URL in
//! `SOTAY_BENCH_POSTGRES` (`scripts/bench.sh` starts a throwaway cluster and
//! sets it); without it the bench starts and stops one itself with
//! `scripts/pg-cluster.sh`.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use common::{
    accepted, batch_body, login, login_all, post_batch, seed, serve, Backend, Fund, PgCluster,
    Phone, Rng, Round, Server, Store, OUTCOMES, PASSWORD,
};
use serde_json::{json, Value};
use sotay_core::domain::money::Dong;
use sotay_core::domain::rules::receipt_number;
use sotay_core::wire::{
    GeoPoint, GiftHandoutPayload, RecordBody, RepaymentPayload, UploadRecord, VisitPayload,
    VisitPurpose,
};
use sotay_server::db::{stable_uid, Db};
use sotay_server::import::rows::{AllocationRow, ImportSet, Origin, Role, UserRow};
use uuid::Uuid;

/// Officers with a small round each, whose earlier batches are the books'
/// history (uploaded and approved before the measurement).
const OFFICERS: usize = 200;
const WORKERS_PER_OFFICER: usize = 15;
const HISTORY_RECORDS: usize = 30;
/// Officers whose 1,000-record day is approved and measured (one more warms up).
const MEASURED: usize = 5;
const BIG_WORKERS: usize = 600;
const BATCH: usize = 1_000;
/// Of each measured batch: repayments and gift handouts; the rest are visits.
const REPAYMENTS: usize = 500;
const GIFTS: usize = 150;
/// Per measured officer, for the gift campaign.
const GIFT_QUOTA: i64 = 300;

const TARGET_MS: f64 = 100.0;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(run());
}

struct ApproveFund {
    set: ImportSet,
    small: Vec<Round>,
    big: Vec<Round>,
    /// The gift campaign's code.
    campaign: String,
}

impl ApproveFund {
    fn generate(today: NaiveDate) -> ApproveFund {
        let mut small = Vec::new();
        let mut big = Vec::new();
        let mut campaign = String::new();
        let Fund { set } = Fund::generate(today, 0xa9_9e0e_2026_1201, |gen, set| {
            let branches = gen.demo.branches.len();
            for i in 0..OFFICERS {
                small.push(gen.officer(
                    set,
                    &format!("CB-{:04}", i + 1),
                    &format!("canbo.b{:04}", i + 1),
                    i % branches,
                    1,
                    WORKERS_PER_OFFICER,
                ));
            }
            for i in 0..=MEASURED {
                big.push(gen.officer(
                    set,
                    &format!("CB-LON-{}", i + 1),
                    &format!("canbo.lon{}", i + 1),
                    i % branches,
                    30,
                    BIG_WORKERS,
                ));
            }
            // The fund's administrator, who receives the gift stock.
            set.users.push(UserRow {
                origin: common::origin("users.csv", set.users.len()),
                code: "QT-B-1".into(),
                username: "quantri.b1".into(),
                full_name: "Quản trị quỹ".into(),
                role: Role::Admin,
                branch_code: None,
                phone: None,
                initial_password: Some(PASSWORD.into()),
            });
            // A supervisor per branch.
            for (i, b) in gen.demo.branches.iter().enumerate() {
                set.users.push(UserRow {
                    origin: common::origin("users.csv", set.users.len()),
                    code: format!("GS-B-{}", i + 1),
                    username: format!("giamsat.b{}", i + 1),
                    full_name: format!("Giám sát {}", b.name),
                    role: Role::Supervisor,
                    branch_code: Some(b.code.clone()),
                    phone: None,
                    initial_password: Some(PASSWORD.into()),
                });
            }
            // The gift campaign: room at the branches and a quota for each
            // measured officer.
            let gift = gen
                .demo
                .campaigns
                .iter()
                .find(|k| k.kind == sotay_core::domain::gifts::CampaignKind::Gift)
                .expect("the demo's gift campaign");
            campaign = gift.code.clone();
            for a in set.allocations.iter_mut() {
                if a.campaign_code == campaign {
                    a.quota = 10_000;
                }
            }
            for (i, _) in big.iter().enumerate() {
                set.allocations.push(AllocationRow {
                    origin: Origin {
                        file: "campaign_allocations.csv".into(),
                        line: set.allocations.len() as u64 + 2,
                    },
                    campaign_code: campaign.clone(),
                    branch_code: gen.demo.branches[i % branches].code.clone(),
                    officer_code: Some(format!("CB-LON-{}", i + 1)),
                    quota: GIFT_QUOTA,
                });
            }
        });
        ApproveFund {
            set,
            small,
            big,
            campaign,
        }
    }
}

async fn run() {
    let started = Instant::now();
    let today = sotay_core::domain::time::local_date(Utc::now());
    let fund = ApproveFund::generate(today);
    println!(
        "fund: {OFFICERS} officers x {WORKERS_PER_OFFICER} workers + {} officers x {BIG_WORKERS} workers; {} workers, {} loans, {} boarding houses",
        MEASURED + 1,
        fund.set.workers.len(),
        fund.set.loans.len(),
        fund.set.boarding_houses.len()
    );
    let cluster = PgCluster::get();
    let mut results = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let store = Store::open(backend, &cluster).await;
        results.push((backend, bench_backend(backend, &store.db, &fund).await));
        store.close(&cluster).await;
    }
    println!();
    println!("== summary (figure | SQLite | PostgreSQL | target)");
    let cell = |f: &dyn Fn(&[f64]) -> f64, mark: bool| {
        results
            .iter()
            .map(|(_, t)| {
                let v = f(t);
                if mark {
                    format!("{v:.1} ({})", if v < TARGET_MS { "met" } else { "MISSED" })
                } else {
                    format!("{v:.1}")
                }
            })
            .collect::<Vec<_>>()
            .join(" | ")
    };
    println!(
        "approve {BATCH}-record batch, median ms | {} | < {TARGET_MS:.0}",
        cell(&median, true)
    );
    println!(
        "approve {BATCH}-record batch, max ms | {} | < {TARGET_MS:.0}",
        cell(&|t| t.iter().copied().fold(0.0, f64::max), true)
    );
    println!("whole bench: {:.0} s", started.elapsed().as_secs_f64());
    drop(cluster);
}

fn median(t: &[f64]) -> f64 {
    let mut v = t.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A measured officer's day: repayments, gifts to distinct union members,
/// visits, shuffled as the officer walks.
fn day(rng: &mut Rng, phone: &mut Phone, round: &Round, campaign: Uuid) -> Vec<UploadRecord> {
    let now = Utc::now();
    assert!(round.members.len() >= GIFTS, "enough union members");
    let mut kinds: Vec<u8> = (0..BATCH)
        .map(|i| {
            if i < REPAYMENTS {
                0
            } else if i < REPAYMENTS + GIFTS {
                1
            } else {
                2
            }
        })
        .collect();
    for i in (1..kinds.len()).rev() {
        kinds.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let mut gifts = round.members.iter();
    kinds
        .into_iter()
        .enumerate()
        .map(|(k, kind)| {
            phone.seq += 1;
            let (worker, loan) = *rng.pick(&round.borrowers);
            let body = match kind {
                0 => {
                    phone.receipts += 1;
                    RecordBody::Repayment(RepaymentPayload {
                        loan_id: loan,
                        worker_id: worker,
                        amount: Dong(20_000 + 10_000 * rng.below(9) as i64),
                        receipt_no: receipt_number(&phone.code, phone.receipts),
                    })
                }
                1 => {
                    let (member, name) = gifts.next().expect("a member");
                    RecordBody::GiftHandout(GiftHandoutPayload {
                        campaign_id: campaign,
                        worker_id: *member,
                        acknowledged_name: name.clone(),
                        signature_sha256: None,
                    })
                }
                _ => RecordBody::Visit(VisitPayload {
                    worker_id: worker,
                    purpose: *rng.pick(&VisitPurpose::ALL),
                    outcome: rng.pick(&OUTCOMES).to_string(),
                    notes: String::new(),
                    location: Some(GeoPoint {
                        latitude: 10.85 + rng.below(40_000) as f64 / 1e6,
                        longitude: 106.75 + rng.below(40_000) as f64 / 1e6,
                        accuracy_m: Some(5.0 + rng.below(30) as f64),
                    }),
                }),
            };
            UploadRecord {
                client_id: Uuid::now_v7(),
                device_id: phone.device,
                device_seq: phone.seq,
                recorded_at: now - chrono::Duration::seconds(20 * (BATCH - k) as i64),
                body,
            }
        })
        .collect()
}

/// A small officer's earlier day: repayments and visits.
fn history(rng: &mut Rng, phone: &mut Phone, round: &Round) -> Vec<UploadRecord> {
    let now = Utc::now() - chrono::Duration::hours(2);
    (0..HISTORY_RECORDS)
        .map(|k| {
            phone.seq += 1;
            let (worker, loan) = *rng.pick(&round.borrowers);
            let body = if k % 2 == 0 {
                phone.receipts += 1;
                RecordBody::Repayment(RepaymentPayload {
                    loan_id: loan,
                    worker_id: worker,
                    amount: Dong(20_000 + 10_000 * rng.below(5) as i64),
                    receipt_no: receipt_number(&phone.code, phone.receipts),
                })
            } else {
                RecordBody::Visit(VisitPayload {
                    worker_id: worker,
                    purpose: *rng.pick(&VisitPurpose::ALL),
                    outcome: rng.pick(&OUTCOMES).to_string(),
                    notes: String::new(),
                    location: None,
                })
            };
            UploadRecord {
                client_id: Uuid::now_v7(),
                device_id: phone.device,
                device_seq: phone.seq,
                recorded_at: now + chrono::Duration::seconds(60 * k as i64),
                body,
            }
        })
        .collect()
}

fn money(v: &Value) -> i64 {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("money: {v}"))
}

/// The pending batch of an officer's phone and the cash it should bring.
async fn pending(server: &Server, token: &str, batch: Uuid) -> i64 {
    let resp = server
        .http
        .get(format!(
            "{}/api/v1/batches?status=pending&limit=500",
            server.base
        ))
        .bearer_auth(token)
        .send()
        .await
        .expect("queue");
    assert!(resp.status().is_success());
    let queue: Value = resp.json().await.expect("queue JSON");
    let item = queue
        .as_array()
        .expect("queue")
        .iter()
        .find(|b| b["batch_id"] == batch.to_string())
        .unwrap_or_else(|| panic!("batch {batch} in the queue"));
    money(&item["cash_collected"])
}

/// Approves `batch` counting `cash` đồng: how long the request took and the answer.
async fn approve(server: &Server, token: &str, batch: Uuid, cash: i64) -> (Duration, Value) {
    let t = Instant::now();
    let resp = server
        .http
        .post(format!("{}/api/v1/batches/{batch}/approve", server.base))
        .bearer_auth(token)
        .json(&json!({ "cash_received": cash.to_string() }))
        .send()
        .await
        .expect("approve");
    let status = resp.status();
    let body: Value = resp.json().await.expect("approval JSON");
    let took = t.elapsed();
    assert!(status.is_success(), "approve {batch}: {status} {body}");
    (took, body)
}

async fn upload(server: &Server, phone: &Phone, records: Vec<UploadRecord>) -> Uuid {
    let n = records.len();
    let body = batch_body(phone, records);
    let batch: Value = serde_json::from_slice(&body).expect("batch JSON");
    let id: Uuid = batch["batch_id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("batch id");
    let response = post_batch(server, phone, body).await.expect("upload");
    assert_eq!(accepted(&response), n, "every record is valid");
    id
}

async fn bench_backend(backend: Backend, db: &Db, fund: &ApproveFund) -> Vec<f64> {
    let name = backend.name();
    println!();
    println!("== {name}");
    let t = Instant::now();
    seed(db, &fund.set).await;
    // The branches' gift stock: what the campaign allocates them.
    let admin = fund
        .set
        .users
        .iter()
        .find(|u| u.role == Role::Admin)
        .expect("an administrator");
    sotay_server::importer::receive_allocations(
        db,
        &admin.username,
        sotay_core::domain::time::local_date(Utc::now()),
        "bench",
    )
    .await
    .expect("stock received");
    println!(
        "{name} setup: fund imported in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let server = Arc::new(serve(db).await);
    let mut rng = Rng(0x0a99_2026_1201);
    let campaign = stable_uid("campaign", &fund.campaign);
    let branches = fund.set.branches.len();
    let mut supervisors = Vec::new();
    for i in 0..branches {
        supervisors.push(login(&server, &format!("giamsat.b{}", i + 1)).await.token);
    }

    // The books' history: every small officer's earlier day, approved.
    let t = Instant::now();
    let mut phones = login_all(
        &server,
        fund.small.iter().map(|r| r.username.clone()).collect(),
    )
    .await;
    let mut history_ms = Vec::new();
    for (i, (phone, round)) in phones.iter_mut().zip(&fund.small).enumerate() {
        let records = history(&mut rng, phone, round);
        let batch = upload(&server, phone, records).await;
        let sup = &supervisors[i % branches];
        let cash = pending(&server, sup, batch).await;
        let (took, _) = approve(&server, sup, batch, cash).await;
        let ms = took.as_secs_f64() * 1e3;
        history_ms.push(ms);
    }
    println!(
        "{name} setup: {OFFICERS} earlier batches of {HISTORY_RECORDS} records uploaded and approved in {:.1} s (approval median {:.1} ms)",
        t.elapsed().as_secs_f64(),
        median(&history_ms)
    );

    // The measured days: one warm-up, then MEASURED approvals.
    let mut timings = Vec::new();
    for (i, round) in fund.big.iter().enumerate() {
        let mut phone = login(&server, &round.username).await;
        let records = day(&mut rng, &mut phone, round, campaign);
        let batch = upload(&server, &phone, records).await;
        let sup = &supervisors[i % branches];
        let cash = pending(&server, sup, batch).await;
        let counted = cash - 10_000 * (i as i64 % 3);
        let (took, outcome) = approve(&server, sup, batch, counted).await;
        let ms = took.as_secs_f64() * 1e3;
        assert_eq!(outcome["approved"], BATCH, "{outcome}");
        assert_eq!(money(&outcome["cash_expected"]), cash);
        let label = if i == 0 { "warm-up" } else { "measured" };
        println!(
            "{name} approve batch {i} ({label}): {BATCH} records ({REPAYMENTS} repayments, {GIFTS} gifts, {} visits), {} entries posted, cash {cash} counted {counted}: {ms:.1} ms",
            BATCH - REPAYMENTS - GIFTS,
            outcome["entries_posted"]
        );
        if i > 0 {
            timings.push(ms);
        }
    }
    let unbalanced = db.ledger_unbalanced().await.expect("ledger check");
    assert!(unbalanced.is_empty(), "unbalanced entries: {unbalanced:?}");
    println!(
        "{name} approve {BATCH}-record batches x {MEASURED}: median {:.1} ms, max {:.1} ms (target < {TARGET_MS:.0} ms); every entry balances",
        median(&timings),
        timings.iter().copied().fold(0.0, f64::max)
    );
    timings
}
