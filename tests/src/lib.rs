//! Harness for end-to-end tests: runs the real `sotay-server` binary on a
//! fresh SQLite file or a fresh database in the throwaway PostgreSQL cluster
//! that `scripts/test.sh` starts.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sqlx::Connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

/// End-to-end tests start servers, browsers and databases and count what
/// they survive: they run one at a time, however many threads the test
/// harness has (the whole workspace is tested in one `cargo test`). Hold
/// the guard for the whole test.
pub fn one_at_a_time() -> OneAtATime {
    let mut busy = GATE.0.lock().unwrap_or_else(|e| e.into_inner());
    while *busy {
        busy = GATE.1.wait(busy).unwrap_or_else(|e| e.into_inner());
    }
    *busy = true;
    OneAtATime(())
}

static GATE: (std::sync::Mutex<bool>, std::sync::Condvar) =
    (std::sync::Mutex::new(false), std::sync::Condvar::new());

/// The turn of one end-to-end test; the next starts when it is dropped.
pub struct OneAtATime(());

impl Drop for OneAtATime {
    fn drop(&mut self) {
        *GATE.0.lock().unwrap_or_else(|e| e.into_inner()) = false;
        GATE.1.notify_one();
    }
}

/// The server binary next to the test binary, built if it is missing.
pub fn server_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target/<profile>");
    let bin = dir.join(format!("sotay-server{}", std::env::consts::EXE_SUFFIX));
    if !bin.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "sotay-server", "--bin", "sotay-server"])
            .status()
            .expect("cargo build");
        assert!(status.success(), "building sotay-server failed");
    }
    bin
}

/// A database for one test: a SQLite file in a temporary folder, or a new
/// database in the test cluster.
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

pub async fn fresh_database(backend: Backend) -> TestDatabase {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("sotay.db").display());
            TestDatabase {
                url,
                _dir: Some(dir),
            }
        }
        Backend::Postgres => {
            let admin = std::env::var("SOTAY_TEST_POSTGRES").unwrap_or_else(|_| {
                panic!(
                    "SOTAY_TEST_POSTGRES is not set: the end-to-end tests also run on PostgreSQL. Run \
                     `bash scripts/test.sh`, which starts a throwaway cluster."
                )
            });
            let name = format!("sotay_e2e_{}", uuid::Uuid::now_v7().simple());
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .expect("connect to the test cluster");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("create database");
            let base = &admin[..admin.rfind('/').expect("URL with a database")];
            TestDatabase {
                url: format!("{base}/{name}"),
                _dir: None,
            }
        }
    }
}

/// A running server process; killed when dropped.
pub struct Server {
    child: Child,
    pub base: String,
    /// What the server printed before it listened (demo logins, seed time).
    pub banner: Vec<String>,
    /// From spawning the process to its first answer on /healthz.
    pub started_in: Duration,
}

impl Server {
    /// Starts `sotay-server serve --bind 127.0.0.1:0 <extra>` on `database_url`.
    pub async fn start(database_url: &str, extra: &[&str]) -> Server {
        Server::start_at(database_url, "127.0.0.1:0", extra).await
    }

    /// Starts the server on a chosen address (to restart it where phones expect it).
    pub async fn start_at(database_url: &str, bind: &str, extra: &[&str]) -> Server {
        Server::start_with_env(database_url, bind, extra, &[]).await
    }

    /// Starts the server with extra environment variables (settings).
    pub async fn start_with_env(
        database_url: &str,
        bind: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Server {
        let started = Instant::now();
        let mut child = Command::new(server_binary())
            .args(["serve", "--bind", bind])
            .args(extra)
            .env("DATABASE_URL", database_url)
            .env(
                "SOTAY_JWT_SECRET",
                "end-to-end-test-secret-of-the-real-binary",
            )
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn sotay-server");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut banner = Vec::new();
        let base = loop {
            let line = rx
                .recv_timeout(Duration::from_secs(120))
                .unwrap_or_else(|_| panic!("the server did not start; it printed: {banner:#?}"));
            if let Some(addr) = line.split("listening on ").nth(1) {
                break addr.trim().to_string();
            }
            banner.push(line);
        };
        let http = reqwest::Client::new();
        loop {
            if http
                .get(format!("{base}/healthz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Server {
            child,
            base,
            banner,
            started_in: started.elapsed(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// `127.0.0.1:PORT`
    pub fn addr(&self) -> String {
        self.base.trim_start_matches("http://").to_string()
    }

    /// Asks the process to stop (SIGTERM), as a service manager does, and
    /// waits for it: its exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
        self.child.wait().expect("wait for sotay-server")
    }

    /// Kills the process at once (SIGKILL), as a crash would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `sotay-server <args>` on `database_url` to completion.
pub fn cli(database_url: &str, args: &[&str]) -> Output {
    Command::new(server_binary())
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run sotay-server")
}

/// One number from the server's database, read beside the running server.
pub async fn scalar(database_url: &str, sql: &str) -> i64 {
    if database_url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(database_url)
            .await
            .expect("connect");
        sqlx::query_scalar(sql)
            .fetch_one(&mut c)
            .await
            .expect("query")
    } else {
        let mut c = sqlx::SqliteConnection::connect(database_url)
            .await
            .expect("connect");
        sqlx::query_scalar(sql)
            .fetch_one(&mut c)
            .await
            .expect("query")
    }
}

/// An officer's phone: a field book in a temporary folder.
pub struct Phone {
    pub book: std::sync::Arc<sotay_core::FieldBook>,
    pub device_id: uuid::Uuid,
    _dir: tempfile::TempDir,
}

impl Phone {
    pub fn new() -> Phone {
        let dir = tempfile::tempdir().expect("temp dir");
        let device_id = uuid::Uuid::now_v7();
        let book = sotay_core::FieldBook::open(
            dir.path().join("fieldbook.db").display().to_string(),
            sotay_core::DeviceIdentity {
                device_id,
                device_code: "NEW0".into(),
            },
        )
        .expect("open field book");
        Phone {
            book,
            device_id,
            _dir: dir,
        }
    }

    /// Signs in over real HTTP.
    pub fn login(&self, server: &str, username: &str, password: &str) {
        self.book
            .login(
                server.to_string(),
                username.into(),
                password.into(),
                "E2E phone".into(),
            )
            .unwrap_or_else(|e| panic!("login {username}: {e:?}"));
    }

    /// A gift campaign of the portfolio (the demo fund has one).
    pub fn gift_campaign(&self) -> sotay_core::CampaignView {
        self.book
            .campaigns()
            .expect("campaigns")
            .into_iter()
            .find(|k| k.kind == "gift")
            .expect("a gift campaign")
    }

    /// An active loan of the portfolio owing more than `dong`, with its
    /// worker's id.
    pub fn loan_owing_more_than(&self, dong: i64) -> (uuid::Uuid, sotay_core::LoanView) {
        self.book
            .search("thi".into(), 200)
            .expect("search")
            .into_iter()
            .find_map(|hit| {
                let detail = self.book.worker_detail(hit.worker_id).ok()?;
                let l = detail.loans.into_iter().find(|l| {
                    l.status == "active" && l.balance > rust_decimal::Decimal::from(dong)
                })?;
                Some((hit.worker_id, l))
            })
            .unwrap_or_else(|| panic!("a loan owing more than {dong} đồng"))
    }

    /// A union member of the portfolio (one a gift may go to).
    pub fn union_member(&self) -> sotay_core::WorkerDetail {
        self.book
            .search("thi".into(), 200)
            .expect("search")
            .into_iter()
            .map(|h| self.book.worker_detail(h.worker_id).expect("detail"))
            .find(|w| w.union_member)
            .expect("a union member")
    }
}

impl Default for Phone {
    fn default() -> Self {
        Phone::new()
    }
}
