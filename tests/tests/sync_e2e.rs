//! Sync end to end: the real server binary (SQLite and PostgreSQL) and real
//! mobile-core field books over HTTP, with cut connections and killed servers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use chrono::Utc;
use rust_decimal::Decimal;
use sotay_core::domain::money::format_vnd;
use sotay_core::sync::http::HttpTransport;
use sotay_core::sync::{Response, TransportError};
use sotay_core::{
    GiftInput, OutboxFilter, OutboxItem, RecordKind, RepaymentInput, SyncOptions, Transport,
    VisitInput, VisitPurpose,
};
use sotay_tests::{fresh_database, scalar, Phone, Server, BACKENDS};

const PASSWORD: &str = "sotay-demo-2026";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("runtime")
}

/// Records a small repayment on the worker's first loan with some
/// balance, if any: whether there was one.
fn repay_worker(phone: &Phone, worker_id: uuid::Uuid) -> bool {
    let detail = phone.book.worker_detail(worker_id).expect("detail");
    let Some(loan) = detail
        .loans
        .iter()
        .find(|l| l.balance > Decimal::from(100_000))
    else {
        return false;
    };
    phone
        .book
        .record_repayment(RepaymentInput {
            loan_id: loan.loan_id,
            amount: Decimal::from(10_000),
            recorded_at: Utc::now(),
        })
        .expect("repayment");
    true
}

/// Records a small repayment on the first loan found with some balance.
fn repay_one(phone: &Phone) -> usize {
    let hits = phone.book.search("thi".into(), 200).expect("search");
    assert!(
        hits.iter().any(|hit| repay_worker(phone, hit.worker_id)),
        "no loan with a balance among {} workers",
        hits.len()
    );
    1
}

/// Records a visit and a small repayment for the first workers with an open loan.
fn record_day(phone: &Phone, visits: usize) -> usize {
    let hits = phone.book.search("thi".into(), 200).expect("search");
    let mut recorded = 0;
    for hit in hits.iter().take(visits) {
        phone
            .book
            .record_visit(VisitInput {
                worker_id: hit.worker_id,
                purpose: VisitPurpose::RepaymentFollowUp,
                outcome: "Đã gặp".into(),
                notes: String::new(),
                location: None,
                recorded_at: Utc::now(),
            })
            .expect("visit");
        recorded += 1 + usize::from(repay_worker(phone, hit.worker_id));
    }
    recorded
}

fn outbox(phone: &Phone, filter: OutboxFilter) -> usize {
    phone.book.outbox(filter, 100_000).expect("outbox").len()
}

#[test]
fn two_officers_sync_a_day_and_agree_with_the_server() {
    let _turn = sotay_tests::one_at_a_time();
    let rt = runtime();
    for backend in BACKENDS {
        let db = rt.block_on(fresh_database(backend));
        let server = rt.block_on(Server::start(&db.url, &["--demo"]));
        let mut totals = Vec::new();
        for username in ["canbo.lan", "canbo.hung"] {
            let phone = Phone::new();
            phone.login(&server.base, username, PASSWORD);
            let first = phone.book.sync(None).expect("first sync");
            assert!(first.received_changes > 100, "{first:?}");
            let n = record_day(&phone, 20);
            let report = phone.book.sync(None).expect("sync");
            assert_eq!(
                report.accepted as usize, n,
                "{backend:?} {username}: {report:?}"
            );
            assert_eq!(outbox(&phone, OutboxFilter::Accepted), n);
            assert_eq!(outbox(&phone, OutboxFilter::Pending), 0);
            let summary = phone.book.today_summary().unwrap();
            assert_eq!(
                summary.cash_collected,
                Decimal::from(10_000 * summary.repayments as i64)
            );
            let device = phone.device_id;
            let on_server = rt.block_on(scalar(
                &db.url,
                &format!(
                    "SELECT COUNT(*) FROM sync_records r JOIN devices d ON d.id = r.device_id
                     WHERE d.id = '{device}' AND r.status = 'accepted'"
                ),
            ));
            assert_eq!(on_server as usize, n);
            totals.push(n);
        }
        let all = rt.block_on(scalar(&db.url, "SELECT COUNT(*) FROM sync_records"));
        assert_eq!(all as usize, totals.iter().sum::<usize>(), "{backend:?}");
        println!("{backend:?}: two officers synced {totals:?} records");
    }
}

/// Cuts requests at random points: before they leave, or after the server
/// answered but before the answer arrives.
struct CuttingTransport {
    inner: HttpTransport,
    state: Mutex<u64>,
    cuts: AtomicU64,
    /// One request in `every` is cut.
    every: u64,
}

impl CuttingTransport {
    fn new(seed: u64, every: u64) -> Self {
        CuttingTransport {
            inner: HttpTransport::new(std::time::Duration::from_secs(30)),
            state: Mutex::new(seed),
            cuts: AtomicU64::new(0),
            every,
        }
    }

    /// 0: pass, 1: cut before sending, 2: cut the answer.
    fn draw(&self) -> u64 {
        let mut s = self.state.lock().unwrap();
        *s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let r = *s >> 33;
        if r % self.every == 0 {
            1 + (r / self.every) % 2
        } else {
            0
        }
    }

    fn run(
        &self,
        send: impl FnOnce() -> Result<Response, TransportError>,
    ) -> Result<Response, TransportError> {
        match self.draw() {
            1 => {
                self.cuts.fetch_add(1, Ordering::SeqCst);
                Err(TransportError::NotSent("cut before sending".into()))
            }
            2 => {
                let _ = send();
                self.cuts.fetch_add(1, Ordering::SeqCst);
                Err(TransportError::NoAnswer(
                    "cut after the server answered".into(),
                ))
            }
            _ => send(),
        }
    }
}

impl Transport for CuttingTransport {
    fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<Response, TransportError> {
        self.run(|| self.inner.get(url, headers))
    }
    fn post_json(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Response, TransportError> {
        self.run(|| self.inner.post_json(url, headers, body))
    }
    fn put(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        content_type: &str,
        body: &[u8],
    ) -> Result<Response, TransportError> {
        self.run(|| self.inner.put(url, headers, content_type, body))
    }
}

fn quick() -> SyncOptions {
    SyncOptions {
        batch_size: 7,
        page_size: 50,
        retries: 0,
        backoff: std::time::Duration::from_millis(1),
    }
}

#[test]
fn two_hundred_cut_connections_lose_and_double_nothing() {
    let _turn = sotay_tests::one_at_a_time();
    let rt = runtime();
    for backend in BACKENDS {
        let db = rt.block_on(fresh_database(backend));
        let server = rt.block_on(Server::start(&db.url, &["--demo"]));
        let phones = [Phone::new(), Phone::new()];
        let users = ["canbo.lan", "canbo.minh"];
        let cutter = CuttingTransport::new(7 + backend as u64, 3);
        let mut recorded = [0usize; 2];
        for (phone, user) in phones.iter().zip(users) {
            phone.login(&server.base, user, PASSWORD);
        }
        let mut rounds = 0;
        while cutter.cuts.load(Ordering::SeqCst) < 200 {
            rounds += 1;
            assert!(rounds < 2_000, "too many rounds");
            for (i, phone) in phones.iter().enumerate() {
                if rounds % 5 == 1 && recorded[i] < 300 && phone.book.officer().unwrap().is_some() {
                    recorded[i] += record_day(phone, 3);
                }
                let _ = phone.book.sync_with(&cutter, quick(), None);
            }
        }
        // The network heals: everything converges.
        for (i, phone) in phones.iter().enumerate() {
            let report = phone.book.sync_with(
                &HttpTransport::new(std::time::Duration::from_secs(30)),
                quick(),
                None,
            );
            let report = report.expect("clean sync");
            assert_eq!(report.wedged, 0, "{report:?}");
            assert_eq!(outbox(phone, OutboxFilter::Pending), 0, "{backend:?}");
            assert_eq!(
                outbox(phone, OutboxFilter::Accepted),
                recorded[i],
                "{backend:?}"
            );
            let device = phone.device_id;
            let on_server = rt.block_on(scalar(
                &db.url,
                &format!("SELECT COUNT(*) FROM sync_records WHERE device_id = '{device}' AND status = 'accepted'"),
            ));
            assert_eq!(
                on_server as usize, recorded[i],
                "exactly once on the server"
            );
        }
        let cuts = cutter.cuts.load(Ordering::SeqCst);
        println!("{backend:?}: survived {cuts} cut connections in {rounds} rounds; records {recorded:?}, each stored exactly once");
        assert!(recorded.iter().all(|n| *n > 0));
    }
}

#[test]
fn twenty_server_kills_lose_and_double_nothing() {
    let _turn = sotay_tests::one_at_a_time();
    let rt = runtime();
    for backend in BACKENDS {
        let db = rt.block_on(fresh_database(backend));
        let first = rt.block_on(Server::start(&db.url, &["--demo"]));
        let addr = first.addr();
        let base = first.base.clone();
        let mut server = Some(first);
        let phone = Phone::new();
        phone.login(&base, "canbo.thao", PASSWORD);
        phone.book.sync(None).expect("first sync");
        let http = HttpTransport::new(std::time::Duration::from_secs(30));
        let mut recorded = 0;
        let mut kills = 0;
        while kills < 20 {
            recorded += record_day(&phone, 4);
            // Kill the server while this phone uploads.
            std::thread::scope(|s| {
                let uploading = s.spawn(|| phone.book.sync_with(&http, quick(), None));
                std::thread::sleep(std::time::Duration::from_millis(5 + (kills * 7) % 40));
                server.take().expect("running").kill();
                let _ = uploading.join();
            });
            server = Some(rt.block_on(Server::start_at(&db.url, &addr, &[])));
            kills += 1;
            // Whatever the phone holds as acknowledged is on the server.
            let acknowledged = outbox(&phone, OutboxFilter::Accepted);
            let device = phone.device_id;
            let stored = rt.block_on(scalar(
                &db.url,
                &format!("SELECT COUNT(*) FROM sync_records WHERE device_id = '{device}' AND status = 'accepted'"),
            ));
            assert!(
                stored as usize >= acknowledged,
                "{backend:?}: acknowledged {acknowledged}, stored {stored}"
            );
        }
        let report = phone
            .book
            .sync_with(&http, quick(), None)
            .expect("final sync");
        assert_eq!(report.wedged, 0);
        assert_eq!(outbox(&phone, OutboxFilter::Pending), 0);
        assert_eq!(outbox(&phone, OutboxFilter::Accepted), recorded);
        let device = phone.device_id;
        let stored = rt.block_on(scalar(
            &db.url,
            &format!("SELECT COUNT(*) FROM sync_records WHERE device_id = '{device}'"),
        ));
        assert_eq!(stored as usize, recorded, "{backend:?}: exactly once");
        println!("{backend:?}: survived {kills} server kills (SIGKILL) during uploads; {recorded} records, each stored once");
    }
}

/// A copy of the server's database: on SQLite by the server's own `backup`
/// command while it serves, on PostgreSQL as a template database (the
/// server stopped).
enum Backup {
    Sqlite(tempfile::TempDir),
    Postgres(String),
}

async fn admin_exec(sql: &str) {
    use sqlx::Connection;
    let admin = std::env::var("SOTAY_TEST_POSTGRES").expect("the test cluster");
    let mut c = sqlx::PgConnection::connect(&admin).await.expect("connect");
    sqlx::query(sql).execute(&mut c).await.expect(sql);
}

fn pg_name(url: &str) -> &str {
    &url[url.rfind('/').expect("a database name") + 1..]
}

/// Backs the database up (SQLite while the server serves, PostgreSQL with
/// it stopped) and stops the server.
fn take_backup(
    rt: &tokio::runtime::Runtime,
    backend: sotay_tests::Backend,
    url: &str,
    server: Server,
) -> Backup {
    match backend {
        sotay_tests::Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let file = dir.path().join("sotay-backup.db");
            let out = sotay_tests::cli(url, &["backup", file.to_str().unwrap()]);
            assert!(out.status.success(), "{out:?}");
            server.kill();
            Backup::Sqlite(dir)
        }
        sotay_tests::Backend::Postgres => {
            server.kill();
            let copy = format!("{}_backup", pg_name(url));
            rt.block_on(admin_exec(&format!(
                "CREATE DATABASE {copy} TEMPLATE {}",
                pg_name(url)
            )));
            Backup::Postgres(copy)
        }
    }
}

/// The server's disk fails: it is stopped and its database restored from
/// the backup, as the README says.
fn restore(rt: &tokio::runtime::Runtime, url: &str, server: Server, backup: &Backup) {
    server.kill();
    match backup {
        Backup::Sqlite(dir) => {
            let live = url.strip_prefix("sqlite://").unwrap();
            for ext in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{live}{ext}"));
            }
            std::fs::copy(dir.path().join("sotay-backup.db"), live).expect("restore");
        }
        Backup::Postgres(copy) => {
            let name = pg_name(url);
            rt.block_on(admin_exec(&format!("DROP DATABASE {name} WITH (FORCE)")));
            rt.block_on(admin_exec(&format!(
                "CREATE DATABASE {name} TEMPLATE {copy}"
            )));
        }
    }
}

fn drop_backup(rt: &tokio::runtime::Runtime, backup: Backup) {
    if let Backup::Postgres(copy) = backup {
        rt.block_on(admin_exec(&format!("DROP DATABASE {copy}")));
    }
}

#[test]
fn an_upload_acknowledged_after_the_backup_is_sent_again_though_its_download_failed() {
    let _turn = sotay_tests::one_at_a_time();
    let rt = runtime();
    for backend in BACKENDS {
        let db = rt.block_on(fresh_database(backend));
        let server = rt.block_on(Server::start(&db.url, &["--demo"]));
        let addr = server.addr();
        let phone = Phone::new();
        phone.login(&server.base, "canbo.thao", PASSWORD);
        phone.book.sync(None).expect("first sync");
        let backup = take_backup(&rt, backend, &db.url, server);
        let server = rt.block_on(Server::start_at(&db.url, &addr, &[]));
        // Uploaded and acknowledged, but the download after it failed: the
        // phone's download cursor is from before the backup.
        let cut = DownloadsCut {
            inner: HttpTransport::new(std::time::Duration::from_secs(30)),
            cut: std::sync::atomic::AtomicBool::new(true),
        };
        let unseen = record_day(&phone, 2);
        assert!(phone.book.sync_with(&cut, quick(), None).is_err());
        assert_eq!(outbox(&phone, OutboxFilter::Pending), 0, "acknowledged");
        restore(&rt, &db.url, server, &backup);
        let _server = rt.block_on(Server::start_at(&db.url, &addr, &[]));
        let device = phone.device_id;
        let sql = format!("SELECT COUNT(*) FROM sync_records WHERE device_id = '{device}'");
        assert_eq!(
            rt.block_on(scalar(&db.url, &sql)),
            0,
            "{backend:?}: the restore lost them"
        );
        // The acknowledgement the phone sends back tells it, before the
        // day recorded since goes up (whose answer would replace it).
        cut.cut.store(false, Ordering::SeqCst);
        let since = record_day(&phone, 1);
        let r = phone
            .book
            .sync_with(&cut, quick(), None)
            .expect("sync after the restore");
        assert!(r.portfolio_reloaded, "{backend:?}");
        assert_eq!(
            (r.sent_again as usize, r.accepted as usize),
            (unseen, unseen + since),
            "{r:?}"
        );
        assert_eq!(rt.block_on(scalar(&db.url, &sql)) as usize, unseen + since);
        drop_backup(&rt, backup);
        println!("{backend:?}: {unseen} records acknowledged after the backup, their download cut, sent again after the restore");
    }
}

/// HTTP to the real server, with the downloads cut while `cut` is set
/// (but the one-change look a sync takes before sending): an upload gets
/// through and its answer back, the pull after it fails.
struct DownloadsCut {
    inner: HttpTransport,
    cut: std::sync::atomic::AtomicBool,
}

impl Transport for DownloadsCut {
    fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<Response, TransportError> {
        let look = url.contains("limit=1&") || url.ends_with("limit=1");
        if self.cut.load(Ordering::SeqCst) && url.contains("/api/v1/sync/changes") && !look {
            return Err(TransportError::NotSent("the signal went".into()));
        }
        self.inner.get(url, headers)
    }
    fn post_json(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Response, TransportError> {
        self.inner.post_json(url, headers, body)
    }
    fn put(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        content_type: &str,
        body: &[u8],
    ) -> Result<Response, TransportError> {
        self.inner.put(url, headers, content_type, body)
    }
}

/// The supervisor approves every batch waiting in the branch, counting the
/// cash each expects. Returns how many.
/// An access token of `username`, signed in from a machine of the branch.
async fn api_token(http: &reqwest::Client, base: &str, username: &str) -> String {
    let login: serde_json::Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(
            &serde_json::json!({"username": username, "password": PASSWORD,
            "device_id": uuid::Uuid::now_v7(), "device_name": "Máy chi nhánh"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    login["access_token"]
        .as_str()
        .expect("signed in")
        .to_string()
}

async fn approve_all(base: &str) -> usize {
    decide_all(base, None).await
}

/// Approves every batch waiting at the branch with the cash it collected,
/// or rejects each with `reject`'s reason: how many there were.
async fn decide_all(base: &str, reject: Option<&str>) -> usize {
    let http = reqwest::Client::new();
    let token = api_token(&http, base, "giamsat.thuduc").await;
    let queue: serde_json::Value = http
        .get(format!("{base}/api/v1/batches?status=pending"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let queue = queue.as_array().expect("the queue").clone();
    for b in &queue {
        let (action, body) = match reject {
            Some(reason) => ("reject", serde_json::json!({"reason": reason})),
            None => (
                "approve",
                serde_json::json!({"cash_received": b["cash_collected"]}),
            ),
        };
        let resp = http
            .post(format!(
                "{base}/api/v1/batches/{}/{action}",
                b["batch_id"].as_str().unwrap()
            ))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            reqwest::StatusCode::OK,
            "{}",
            resp.text().await.unwrap()
        );
    }
    queue.len()
}

/// Each record of the branch's queue → its anomaly codes.
async fn queue_anomalies(base: &str) -> HashMap<uuid::Uuid, Vec<String>> {
    let http = reqwest::Client::new();
    let token = api_token(&http, base, "giamsat.thuduc").await;
    let get = |path: String| {
        let (http, token) = (http.clone(), token.clone());
        async move {
            http.get(format!("{base}{path}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let mut out = HashMap::new();
    for b in get("/api/v1/batches?status=pending".into())
        .await
        .as_array()
        .unwrap()
    {
        let page = get(format!(
            "/api/v1/batches/{}",
            b["batch_id"].as_str().unwrap()
        ))
        .await;
        for r in page["records"].as_array().unwrap() {
            let codes = r["anomalies"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["code"].as_str().unwrap().to_string())
                .collect();
            out.insert(r["record_id"].as_str().unwrap().parse().unwrap(), codes);
        }
    }
    out
}

#[test]
fn a_server_restored_from_a_backup_gets_back_what_the_phone_sent_after_it() {
    let _turn = sotay_tests::one_at_a_time();
    let rt = runtime();
    for backend in BACKENDS {
        let db = rt.block_on(fresh_database(backend));
        let server = rt.block_on(Server::start(&db.url, &["--demo"]));
        let addr = server.addr();
        let phone = Phone::new();
        phone.login(&server.base, "canbo.thao", PASSWORD);
        phone.book.sync(None).expect("first sync");
        // A receipt among them: the restored server still holds it, waiting
        // for review, though it was approved after the backup.
        let mut recorded = record_day(&phone, 2) + repay_one(&phone);
        phone.book.sync(None).expect("sync before the backup");
        let backup = take_backup(&rt, backend, &db.url, server);
        let server = rt.block_on(Server::start_at(&db.url, &addr, &[]));
        // A phone first signed in after the backup prints receipts and syncs.
        let late = Phone::new();
        late.login(&server.base, "canbo.hung", PASSWORD);
        late.book.sync(None).expect("the late phone's first sync");
        let mut late_recorded = record_day(&late, 2);
        late.book.sync(None).expect("the late phone's sync");
        let code = late.book.device().unwrap().device_code;
        // After the backup: a day synced and approved at the branch.
        let decided = record_day(&phone, 3) + repay_one(&phone);
        recorded += decided;
        phone.book.sync(None).expect("sync after the backup");
        assert!(rt.block_on(approve_all(&server.base)) > 0);
        phone.book.sync(None).expect("the decisions come down");
        let approved = |phone: &Phone| {
            phone
                .book
                .outbox(OutboxFilter::All, 100_000)
                .unwrap()
                .iter()
                .filter(|i| i.state == "approved")
                .count()
        };
        assert!(
            approved(&phone) >= decided,
            "the decisions reached the phone"
        );
        let approved_before: Vec<OutboxItem> = phone
            .book
            .outbox(OutboxFilter::All, 100_000)
            .unwrap()
            .into_iter()
            .filter(|i| i.state == "approved" && i.kind == RecordKind::Repayment)
            .collect();

        restore(&rt, &db.url, server, &backup);
        let _server = rt.block_on(Server::start_at(&db.url, &addr, &[]));
        let device = phone.device_id;
        let count = |sql: &str| rt.block_on(scalar(&db.url, sql));
        let lost = (recorded
            - count(&format!(
                "SELECT COUNT(*) FROM sync_records WHERE device_id = '{device}'"
            )) as usize) as u32;
        assert_eq!(lost as usize, decided, "{backend:?}: the restore lost them");

        // The phone's next sync finds its cursor unknown, sends again
        // everything the server had answered (the approved records too) and
        // downloads the portfolio again.
        recorded += record_day(&phone, 1);
        let r = phone.book.sync(None).expect("sync after the restore");
        assert!(r.portfolio_reloaded, "{backend:?}");
        assert_eq!(r.rejected + r.wedged, 0, "{backend:?}: {:?}", r.results);
        assert_eq!(outbox(&phone, OutboxFilter::Accepted), recorded);
        assert_eq!(
            approved(&phone),
            0,
            "{backend:?}: the approvals were lost with the rest"
        );
        let stored = count(&format!(
            "SELECT COUNT(*) FROM sync_records WHERE device_id = '{device}'"
        ));
        assert_eq!(stored as usize, recorded, "{backend:?}: each record once");
        // What had been approved says so on the review page, and the
        // officer is not asked to hand its cash over again.
        let flagged = rt.block_on(queue_anomalies(&_server.base));
        for item in &approved_before {
            assert!(
                flagged
                    .get(&item.client_id)
                    .is_some_and(|codes| codes.iter().any(|c| c == "approved_before_restore")),
                "{backend:?}: {item:?} in {flagged:?}"
            );
        }
        let marked = flagged
            .values()
            .filter(|codes| codes.iter().any(|c| c == "approved_before_restore"))
            .count();
        assert_eq!(marked, approved_before.len(), "{backend:?}: only those");
        let repaid_before = approved_before.len() as i64;
        assert!(repaid_before > 0, "{backend:?}: the day had repayments");
        let summary = phone.book.today_summary().unwrap();
        assert_eq!(
            summary.cash_approved_before_restore,
            Decimal::from(repaid_before * 10_000),
            "{backend:?}: {summary:?}"
        );
        let again = phone.book.sync(None).expect("the sync after");
        assert_eq!((again.sent, again.portfolio_reloaded), (0, false));

        // The restored server never knew the late phone: it is asked to
        // sign in again (not told it was revoked), still records, and signs
        // in under the code its receipts carry; then all it holds arrives once.
        let refused = late.book.sync(None).unwrap_err();
        assert_eq!(refused.code(), "device_unknown", "{backend:?}: {refused:?}");
        assert!(
            format!("{refused:?}").contains("đăng nhập lại")
                && !format!("{refused:?}").contains("thu hồi"),
            "{refused:?}"
        );
        late_recorded += record_day(&late, 1);
        late.login(&_server.base, "canbo.hung", PASSWORD);
        assert_eq!(late.book.device().unwrap().device_code, code, "{backend:?}");
        let r = late
            .book
            .sync(None)
            .expect("the late phone after signing in");
        assert_eq!(r.rejected + r.wedged, 0, "{backend:?}: {:?}", r.results);
        let late_device = late.device_id;
        let stored = count(&format!(
            "SELECT COUNT(*) FROM sync_records WHERE device_id = '{late_device}'"
        ));
        assert_eq!(
            stored as usize, late_recorded,
            "{backend:?}: each record once"
        );
        drop_backup(&rt, backup);
        println!(
            "{backend:?}: restored from a backup, {lost} approved records the server had lost sent \
             again ({} resent in all), {recorded} records each stored once",
            r.sent_again
        );
    }
}

#[test]
fn the_same_gift_from_two_phones_is_given_once_and_the_other_officer_sees_why() {
    let _turn = sotay_tests::one_at_a_time();
    let rt = runtime();
    for backend in BACKENDS {
        let db = rt.block_on(fresh_database(backend));
        let server = rt.block_on(Server::start(&db.url, &["--demo"]));
        let (a, b) = (Phone::new(), Phone::new());
        for p in [&a, &b] {
            p.login(&server.base, "canbo.hung", PASSWORD);
            p.book.sync(None).expect("sync");
        }
        let campaign = a.gift_campaign();
        // A union member both phones will visit.
        let worker = a.union_member();
        for (n, p) in [&a, &b].into_iter().enumerate() {
            // Each phone takes the recipient's signature.
            let mut image = b"\x89PNG\r\n\x1a\n".to_vec();
            image.extend(format!("signature taken on phone {n}").bytes());
            p.book
                .record_gift(GiftInput {
                    campaign_id: campaign.campaign_id,
                    worker_id: worker.worker_id,
                    acknowledged_name: worker.full_name.clone(),
                    signature_image: Some(image),
                    recorded_at: Utc::now(),
                })
                .expect("offline, each phone allows it");
        }
        let ra = a.book.sync(None).unwrap();
        let rb = b.book.sync(None).unwrap();
        assert_eq!(
            (ra.accepted, ra.rejected, rb.accepted, rb.rejected),
            (1, 0, 0, 1),
            "{backend:?}"
        );
        // Both signatures reach the server, the refused gift's as evidence.
        assert_eq!(
            (
                ra.signatures_sent,
                rb.signatures_sent,
                ra.signatures_waiting,
                rb.signatures_waiting
            ),
            (1, 1, 0, 0),
            "{backend:?}"
        );
        let held = rt.block_on(scalar(
            &db.url,
            "SELECT COUNT(*) FROM signatures s JOIN sync_records r ON r.id = s.record_id WHERE r.kind = 'gift_handout'",
        ));
        assert_eq!(held, 2, "{backend:?}");
        let rejected = b.book.outbox(OutboxFilter::Rejected, 10).unwrap();
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].code.as_deref(), Some("already_received"));
        assert!(
            rejected[0]
                .message
                .as_deref()
                .unwrap_or("")
                .contains("đã nhận"),
            "{:?}",
            rejected[0]
        );
        let summary = b.book.today_summary().unwrap();
        assert_eq!(
            summary.rejected.len(),
            1,
            "the officer sees it in the day's summary"
        );
        // Phone A's view after the next sync agrees: the gift counted once.
        let gifts = rt.block_on(scalar(
            &db.url,
            "SELECT COUNT(*) FROM sync_records WHERE kind = 'gift_handout' AND status = 'accepted'",
        ));
        assert_eq!(gifts, 1);
        b.book.sync(None).unwrap();
        let after = b
            .book
            .campaigns()
            .unwrap()
            .into_iter()
            .find(|k| k.campaign_id == campaign.campaign_id)
            .unwrap();
        assert_eq!(after.remaining, campaign.remaining - 1, "{backend:?}");
    }
}

#[test]
fn a_worker_moved_to_another_officer_leaves_one_phone_and_reaches_the_other() {
    let _turn = sotay_tests::one_at_a_time();
    let rt = runtime();
    for backend in BACKENDS {
        let db = rt.block_on(fresh_database(backend));
        let server = rt.block_on(Server::start(&db.url, &["--demo"]));
        let (lan, hung) = (Phone::new(), Phone::new());
        lan.login(&server.base, "canbo.lan", PASSWORD);
        hung.login(&server.base, "canbo.hung", PASSWORD);
        lan.book.sync(None).unwrap();
        hung.book.sync(None).unwrap();
        // A union member (a gift may go to them) with a loan to repay.
        let (worker, loan) = lan
            .book
            .search("thi".into(), 200)
            .unwrap()
            .into_iter()
            .find_map(|hit| {
                let detail = lan.book.worker_detail(hit.worker_id).ok()?;
                let loan = detail
                    .loans
                    .iter()
                    .find(|l| l.status == "active" && l.balance > Decimal::from(100_000))?;
                detail.union_member.then(|| (detail.clone(), loan.clone()))
            })
            .expect("a union member with a loan");
        let cccd = worker.cccd.clone().expect("cccd");
        let campaign = lan.gift_campaign();
        let visit = |phone: &Phone| {
            phone
                .book
                .record_visit(VisitInput {
                    worker_id: worker.worker_id,
                    purpose: VisitPurpose::HardshipVisit,
                    outcome: "Đã thăm".into(),
                    notes: String::new(),
                    location: None,
                    recorded_at: Utc::now(),
                })
                .unwrap()
        };
        // Offline, Lan visits the worker, gives them the campaign's gift and
        // takes a repayment; then the branch moves them to Hùng.
        visit(&lan);
        lan.book
            .record_gift(GiftInput {
                campaign_id: campaign.campaign_id,
                worker_id: worker.worker_id,
                acknowledged_name: worker.full_name.clone(),
                signature_image: None,
                recorded_at: Utc::now(),
            })
            .unwrap();
        lan.book
            .record_repayment(RepaymentInput {
                loan_id: loan.loan_id,
                amount: Decimal::from(100_000),
                recorded_at: Utc::now(),
            })
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let dir = tempfile::tempdir().unwrap();
        let out = sotay_tests::cli(&db.url, &["demo-export", dir.path().to_str().unwrap()]);
        assert!(out.status.success());
        let workers = std::fs::read_to_string(dir.path().join("workers.csv")).unwrap();
        let mut lines = workers.lines();
        let header = lines.next().unwrap();
        let row = lines.find(|l| l.contains(&cccd)).expect("the worker's row");
        let (rest, _) = row.rsplit_once(',').unwrap();
        let moved = format!("{header}\n{rest},CB-TD-02\n");
        let file = dir.path().join("move").join("workers.csv");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, moved).unwrap();
        let out = sotay_tests::cli(&db.url, &["import", file.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Her phone has not heard of the move yet: a visit after it.
        std::thread::sleep(std::time::Duration::from_millis(20));
        let late = visit(&lan);

        // What she did before the move is hers; the visit after it is not.
        let report = lan.book.sync(None).unwrap();
        assert_eq!(
            (report.accepted, report.rejected),
            (3, 1),
            "{backend:?}: {report:?}"
        );
        let rejected = lan.book.outbox(OutboxFilter::Rejected, 10).unwrap();
        assert_eq!(rejected.len(), 1, "{backend:?}: {rejected:?}");
        assert_eq!(rejected[0].client_id, late.client_id);
        assert_eq!(rejected[0].code.as_deref(), Some("worker_not_in_portfolio"));
        assert!(
            lan.book.search(cccd.clone(), 5).unwrap().is_empty(),
            "gone from Lan's phone"
        );
        hung.book.sync(None).unwrap();
        let found = hung.book.search(cccd.clone(), 5).unwrap();
        assert_eq!(found.len(), 1, "on Hùng's phone");
        let detail = hung.book.worker_detail(found[0].worker_id).unwrap();
        assert_eq!(detail.full_name, worker.full_name);
        // Hùng's phone knows the worker has had this campaign's gift.
        let gift = || GiftInput {
            campaign_id: campaign.campaign_id,
            worker_id: worker.worker_id,
            acknowledged_name: worker.full_name.clone(),
            signature_image: None,
            recorded_at: Utc::now(),
        };
        let refused = hung.book.record_gift(gift());
        assert!(
            format!("{refused:?}").contains("already_received"),
            "{backend:?}: {refused:?}"
        );

        // The supervisor turns Lan's batch down: the gift no longer counts,
        // and Hùng's phone hears the worker may have one.
        let rejected = rt.block_on(decide_all(&server.base, Some("Cán bộ chưa nộp tiền")));
        assert_eq!(rejected, 1, "{backend:?}");
        hung.book.sync(None).unwrap();
        hung.book
            .record_gift(gift())
            .expect("the gift is free again");
    }
}

/// An admin's call with a fresh token.
async fn as_admin(base: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
    let http = reqwest::Client::new();
    let token = api_token(&http, base, "admin").await;
    let resp = http
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::OK, "{path}");
    resp.json().await.unwrap()
}

#[test]
fn a_phone_whose_officer_left_sends_what_it_holds_to_quarantine_and_comes_back_with_the_account() {
    let _turn = sotay_tests::one_at_a_time();
    let rt = runtime();
    for backend in BACKENDS {
        let db = rt.block_on(fresh_database(backend));
        let server = rt.block_on(Server::start(&db.url, &["--demo"]));
        let phone = Phone::new();
        phone.login(&server.base, "canbo.lan", PASSWORD);
        phone.book.sync(None).expect("first sync");
        let lost = Phone::new();
        lost.login(&server.base, "canbo.hung", PASSWORD);
        lost.book.sync(None).expect("first sync");
        // A day recorded offline, then the account is closed at the fund.
        let held = record_day(&phone, 2);
        assert!(held >= 2);
        let lan = rt.block_on(scalar(
            &db.url,
            "SELECT id FROM users WHERE username = 'canbo.lan'",
        ));
        rt.block_on(as_admin(
            &server.base,
            &format!("/api/v1/users/{lan}/deactivate"),
            serde_json::json!({"reason": "Nghỉ việc"}),
        ));
        // The phone is refused, but what it holds reaches the server first,
        // kept in quarantine for a supervisor; the phone says why, and
        // what the server has of it (not to be recorded again elsewhere).
        let refused = phone.book.sync(None).unwrap_err();
        assert!(
            format!("{refused:?}").contains("device_revoked")
                && format!("{refused:?}").contains("Tài khoản của bạn đã bị khóa"),
            "{refused:?}"
        );
        let collected = format_vnd(10_000 * (held as i64 - 2));
        assert!(
            format!("{refused:?}").contains(&format!(
                "Máy chủ đã nhận {held} bản ghi của máy này, tiền thu {collected}"
            )),
            "{refused:?}"
        );
        let quarantined = rt.block_on(scalar(
            &db.url,
            "SELECT COUNT(*) FROM sync_records WHERE status = 'quarantined'",
        ));
        assert_eq!(quarantined, held as i64, "{backend:?}");
        assert_eq!(outbox(&phone, OutboxFilter::Pending), 0);
        assert_eq!(outbox(&phone, OutboxFilter::Rejected), held);
        // Back at work: the account is opened again with a new password,
        // and the same phone signs in and syncs.
        rt.block_on(as_admin(
            &server.base,
            &format!("/api/v1/users/{lan}/activate"),
            serde_json::json!({}),
        ));
        rt.block_on(as_admin(
            &server.base,
            &format!("/api/v1/users/{lan}/password"),
            serde_json::json!({"password": "mat-khau-moi-2026"}),
        ));
        phone.login(&server.base, "canbo.lan", "mat-khau-moi-2026");
        let visits = record_day(&phone, 1);
        let report = phone.book.sync(None).expect("sync after coming back");
        assert_eq!(report.accepted as usize, visits, "{report:?}");

        // Another officer's phone, lost in the field with a day on it, is
        // revoked by the branch; it comes back online long after its access
        // token's life. (Restarting the server with another signing secret
        // voids every access token as their expiry would.)
        let mut lost_day = record_day(&lost, 2);
        // A gift handed out that day, the recipient's signature taken.
        let campaign = lost.gift_campaign();
        let member = lost.union_member();
        let mut image = b"\x89PNG\r\n\x1a\n".to_vec();
        image.extend(b"signature on the lost phone");
        lost.book
            .record_gift(GiftInput {
                campaign_id: campaign.campaign_id,
                worker_id: member.worker_id,
                acknowledged_name: member.full_name.clone(),
                signature_image: Some(image),
                recorded_at: Utc::now(),
            })
            .expect("the gift");
        lost_day += 1;
        let device = lost.book.session().unwrap().unwrap().device_id;
        rt.block_on(as_admin(
            &server.base,
            &format!("/api/v1/devices/{device}/revoke"),
            serde_json::json!({"reason": "Mất máy"}),
        ));
        let addr = server.addr();
        server.kill();
        let server = rt.block_on(Server::start_with_env(
            &db.url,
            &addr,
            &[],
            &[(
                "SOTAY_JWT_SECRET",
                "another-signing-secret-after-a-rotation",
            )],
        ));
        let refused = lost.book.sync(None).unwrap_err();
        assert!(
            format!("{refused:?}").contains("device_revoked"),
            "{refused:?}"
        );
        let quarantined = rt.block_on(scalar(
            &db.url,
            "SELECT COUNT(*) FROM sync_records WHERE status = 'quarantined'",
        ));
        assert_eq!(quarantined, (held + lost_day) as i64, "{backend:?}");
        assert_eq!(outbox(&lost, OutboxFilter::Pending), 0);
        assert_eq!(outbox(&lost, OutboxFilter::Rejected), lost_day);
        let evidence = rt.block_on(scalar(
            &db.url,
            "SELECT COUNT(*) FROM signatures s JOIN sync_records r ON r.id = s.record_id
             WHERE r.status = 'quarantined'",
        ));
        assert_eq!(evidence, 1, "{backend:?}: the gift's signature is kept too");
        drop(server);
        println!(
            "{backend:?}: {held} records from the closed account's phone kept in quarantine, the phone synced again after the account was opened; {lost_day} from a revoked phone past its access token's life kept in quarantine"
        );
    }
}

/// An officer's receipt waiting for review counts against its loan's
/// balance on her other phone, and on a phone she signs in on afresh: none
/// of them takes, or prints, what the loan no longer owes. Approved, it is
/// in the books once, not twice.
#[test]
fn a_receipt_waiting_for_review_counts_on_the_officers_other_phones() {
    let _turn = sotay_tests::one_at_a_time();
    let rt = runtime();
    for backend in BACKENDS {
        let db = rt.block_on(fresh_database(backend));
        let server = rt.block_on(Server::start(&db.url, &["--demo"]));
        let (a, b) = (Phone::new(), Phone::new());
        for p in [&a, &b] {
            p.login(&server.base, "canbo.thao", PASSWORD);
            p.book.sync(None).expect("sync");
        }
        let (worker, loan) = a.loan_owing_more_than(400_000);
        let balance_on = |p: &Phone| {
            p.book
                .worker_detail(worker)
                .expect("detail")
                .loans
                .into_iter()
                .find(|l| l.loan_id == loan.loan_id)
                .expect("the loan")
                .balance
        };
        a.book
            .record_repayment(RepaymentInput {
                loan_id: loan.loan_id,
                amount: Decimal::from(100_000),
                recorded_at: Utc::now(),
            })
            .expect("repayment");
        a.book.sync(None).expect("sync");
        b.book.sync(None).expect("sync");
        let left = loan.balance - Decimal::from(100_000);
        assert_eq!(balance_on(&b), left, "{backend:?}");
        // Her phone wiped and signed in again: the same.
        let c = Phone::new();
        c.login(&server.base, "canbo.thao", PASSWORD);
        c.book.sync(None).expect("sync");
        assert_eq!(balance_on(&c), left, "{backend:?}");
        // A receipt on the other phone is printed on what is left.
        let receipt = b
            .book
            .record_repayment(RepaymentInput {
                loan_id: loan.loan_id,
                amount: Decimal::from(50_000),
                recorded_at: Utc::now(),
            })
            .expect("repayment");
        assert_eq!(
            receipt.balance_after,
            left - Decimal::from(50_000),
            "{backend:?}"
        );
        b.book.sync(None).expect("sync");
        assert_eq!(rt.block_on(approve_all(&server.base)), 2);
        for p in [&a, &b, &c] {
            p.book.sync(None).expect("sync");
            assert_eq!(
                balance_on(p),
                loan.balance - Decimal::from(150_000),
                "{backend:?}"
            );
        }
        // Phone A lost after a receipt: revoked, what it sends is held.
        // Her other phone does not count it on the loan, and says the
        // cash is hers to bring to the branch.
        a.book
            .record_repayment(RepaymentInput {
                loan_id: loan.loan_id,
                amount: Decimal::from(70_000),
                recorded_at: Utc::now(),
            })
            .expect("repayment");
        rt.block_on(as_admin(
            &server.base,
            &format!("/api/v1/devices/{}/revoke", a.device_id),
            serde_json::json!({"reason": "Mất máy"}),
        ));
        assert!(a.book.sync(None).is_err(), "revoked");
        b.book.sync(None).expect("sync");
        assert_eq!(
            balance_on(&b),
            loan.balance - Decimal::from(150_000),
            "{backend:?}"
        );
        let summary = b.book.today_summary().expect("summary");
        assert!(
            summary
                .text_vi
                .contains("ghi trên máy khác của bạn (hoặc trên máy này trước khi cài lại), chưa được chi nhánh xử lý: 70.000 ₫"),
            "{backend:?}: {}",
            summary.text_vi
        );
    }
}
