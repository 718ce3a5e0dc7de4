//! Test support: a fresh database on each backend, the app served on a free
//! port, and an HTTP client that speaks to it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use serde_json::{json, Value};
use sotay_server::app::{self, AppState};
use sotay_server::db::{AuditEntry, Db};
use sotay_server::importer::{self, ImportFile};
pub mod phone;

#[allow(unused_imports)]
pub use sotay_tests::{Backend, BACKENDS};

/// A database that lives as long as this value.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    _keep: sotay_tests::TestDatabase,
}

/// A fresh SQLite file, or a fresh database in the test PostgreSQL cluster.
pub async fn fresh_db(backend: Backend) -> TestDb {
    let keep = sotay_tests::fresh_database(backend).await;
    let db = Db::connect(&keep.url)
        .await
        .expect("open the test database");
    TestDb {
        db,
        url: keep.url.clone(),
        _keep: keep,
    }
}

pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fund")
}

pub fn fixture_files() -> Vec<ImportFile> {
    use sotay_server::import::csv::ImportKind;
    ImportKind::ALL
        .into_iter()
        .map(|kind| ImportFile {
            kind,
            name: kind.file_name().to_string(),
            bytes: std::fs::read(fixture_dir().join(kind.file_name())).expect("fixture file"),
        })
        .collect()
}

pub fn system_audit() -> AuditEntry {
    AuditEntry {
        actor_user_id: None,
        actor_username: "test".into(),
        action: "import",
        object_type: "import",
        object_id: "fixture".into(),
        device_id: None,
        ip: None,
        detail: Value::Null,
    }
}

/// Imports the fixture fund (2 branches, 6 users, 4 workers, 4 loans, 1 campaign).
pub async fn import_fixture(db: &Db) -> sotay_server::db::ImportReport {
    import_fixture_files(db, fixture_files()).await
}

/// The fixture fund without its loans and gift allocations, for a schema
/// older than the loans' opening entries (0018) and the refused records'
/// settlements (0031): today's import posts the one and reads the other.
pub async fn import_fixture_for_an_old_schema(db: &Db) -> sotay_server::db::ImportReport {
    use sotay_server::import::csv::ImportKind;
    let files = fixture_files()
        .into_iter()
        .filter(|f| !matches!(f.kind, ImportKind::Loans | ImportKind::Allocations))
        .collect();
    import_fixture_files(db, files).await
}

async fn import_fixture_files(db: &Db, files: Vec<ImportFile>) -> sotay_server::db::ImportReport {
    importer::import_files(db, &files, "cli", None, system_audit(), &mut |_| {})
        .await
        .expect("fixture imports")
}

/// Gives each fixture branch the gift packages its allocation names
/// (60 Tết gifts at CN-TD, 40 at CN-BT), received by the admin.
pub async fn receive_stock(db: &Db) {
    let today = sotay_core::domain::time::local_date(chrono::Utc::now());
    importer::receive_allocations(db, "admin", today, "Quà LĐLĐ (dữ liệu thử)")
        .await
        .expect("stock received");
}

/// The app on a free port over a fresh database holding the fixture fund.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub db: Db,
    pub backend: Backend,
    /// The devices seen, as the server notes them (written by
    /// `app::serve` every minute; here when a test says).
    pub seen: std::sync::Arc<sotay_server::app::SeenDevices>,
    _test_db: TestDb,
}

impl TestApp {
    /// The URL of the app's database.
    #[allow(dead_code)]
    pub fn database_url(&self) -> &str {
        &self._test_db.url
    }

    pub async fn start(backend: Backend) -> TestApp {
        TestApp::start_with(backend, true).await
    }

    /// The fixture fund, with or without its gift stock received.
    pub async fn start_with(backend: Backend, stock: bool) -> TestApp {
        TestApp::start_configured(backend, stock, "").await
    }

    /// The fixture fund served as if behind the proxies `trusted_proxies`
    /// (`SOTAY_TRUSTED_PROXIES`): the tests' requests come from 127.0.0.1.
    pub async fn start_behind(backend: Backend, trusted_proxies: &str) -> TestApp {
        TestApp::start_configured(backend, true, trusted_proxies).await
    }

    async fn start_configured(backend: Backend, stock: bool, trusted_proxies: &str) -> TestApp {
        let test_db = fresh_db(backend).await;
        import_fixture(&test_db.db).await;
        if stock {
            receive_stock(&test_db.db).await;
        }
        let mut state = AppState::new(test_db.db.clone(), Some("test-secret-for-the-api-tests"))
            .await
            .expect("state");
        state.trusted_proxies =
            std::sync::Arc::new(trusted_proxies.parse().expect("trusted proxies"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = state.seen.clone();
        tokio::spawn(async move {
            axum::serve(
                listener,
                app::router(state).into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .expect("serve");
        });
        TestApp {
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            db: test_db.db.clone(),
            backend,
            seen,
            _test_db: test_db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn login_raw(
        &self,
        username: &str,
        password: &str,
        device: &str,
    ) -> (StatusCode, Value) {
        let (status, body, _) = self.login_via(username, password, device, None).await;
        (status, body)
    }

    /// A login carrying `X-Forwarded-For: forwarded_for` when given; also
    /// the `Retry-After` header of the answer.
    pub async fn login_via(
        &self,
        username: &str,
        password: &str,
        device: &str,
        forwarded_for: Option<&str>,
    ) -> (StatusCode, Value, Option<String>) {
        let mut req = self
            .http
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({ "username": username, "password": password, "device_id": device, "device_name": format!("Máy của {username}") }));
        if let Some(f) = forwarded_for {
            req = req.header("x-forwarded-for", f);
        }
        let resp = req.send().await.expect("login request");
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        (
            status,
            resp.json().await.unwrap_or(Value::Null),
            retry_after,
        )
    }

    /// Trades a refresh token (a JSON string) for new tokens on `device`.
    pub async fn refresh(&self, refresh_token: &Value, device: &str) -> (StatusCode, Value) {
        let resp = self
            .http
            .post(self.url("/api/v1/auth/refresh"))
            .json(&json!({ "refresh_token": refresh_token, "device_id": device }))
            .send()
            .await
            .expect("refresh request");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Signs in and returns the access token.
    pub async fn token(&self, username: &str, password: &str, device: &str) -> String {
        let (status, body) = self.login_raw(username, password, device).await;
        assert_eq!(status, StatusCode::OK, "login {username}: {body}");
        body["access_token"]
            .as_str()
            .expect("access token")
            .to_string()
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let resp = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
        let resp = self
            .http
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("POST");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Imports `csv` as a file of `kind` (`campaigns`, `users`...), which
    /// must go in; its report.
    pub async fn import_ok(&self, token: &str, kind: &str, csv: &str) -> Value {
        let (s, body) = self
            .post_csv(&format!("/api/v1/imports/{kind}"), token, csv)
            .await;
        assert_eq!(s, StatusCode::OK, "{:?}: {body}", self.backend);
        body
    }

    pub async fn post_csv(&self, path: &str, token: &str, csv: &str) -> (StatusCode, Value) {
        let resp = self
            .http
            .post(self.url(path))
            .bearer_auth(token)
            .header("content-type", "text/csv")
            .body(csv.to_string())
            .send()
            .await
            .expect("POST csv");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// `by` revokes `device` (lost) through the API.
    pub async fn revoke(&self, by: &str, device: impl std::fmt::Display) {
        let (s, body) = self
            .post(
                &format!("/api/v1/devices/{device}/revoke"),
                by,
                &json!({"reason": "Mất máy"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
    }

    /// Runs one statement straight on the database (to set a scene no
    /// request would): the rows it changed.
    pub async fn exec(&self, sql: &str) -> u64 {
        match &self.db {
            Db::Sqlite(p) => sqlx::query(sql)
                .execute(p)
                .await
                .expect(sql)
                .rows_affected(),
            Db::Postgres(p) => sqlx::query(sql)
                .execute(p)
                .await
                .expect(sql)
                .rows_affected(),
        }
    }

    /// The one text value a query gives, straight from the database.
    pub async fn text(&self, sql: &str) -> String {
        match &self.db {
            Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.expect(sql),
            Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.expect(sql),
        }
    }

    /// A worker's id by code, straight from the database.
    pub async fn id_of(&self, table: &str, code: &str) -> i64 {
        match &self.db {
            Db::Sqlite(p) => sqlx::query_scalar(&format!("SELECT id FROM {table} WHERE code = $1"))
                .bind(code)
                .fetch_one(p)
                .await
                .expect("id"),
            Db::Postgres(p) => {
                sqlx::query_scalar(&format!("SELECT id FROM {table} WHERE code = $1"))
                    .bind(code)
                    .fetch_one(p)
                    .await
                    .expect("id")
            }
        }
    }

    /// The id of the row of `table` whose `uid` is `uid`.
    pub async fn id_of_uid(&self, table: &str, uid: uuid::Uuid) -> i64 {
        let sql = format!("SELECT id FROM {table} WHERE uid = $1");
        match &self.db {
            Db::Sqlite(p) => sqlx::query_scalar(&sql)
                .bind(uid)
                .fetch_one(p)
                .await
                .expect("id"),
            Db::Postgres(p) => sqlx::query_scalar(&sql)
                .bind(uid)
                .fetch_one(p)
                .await
                .expect("id"),
        }
    }

    /// `asker` asks for the reversal of `entry` (with `reason`) and
    /// `approver` approves it: the approval's status and body.
    pub async fn reversal(
        &self,
        asker: &str,
        approver: &str,
        entry: &Value,
        reason: &str,
    ) -> (StatusCode, Value) {
        let (s, asked) = self
            .post(
                "/api/v1/reversals",
                asker,
                &json!({"entry_id": entry, "reason": reason}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{asked}");
        self.post(
            &format!("/api/v1/reversals/{}/approve", asked["id"]),
            approver,
            &json!({}),
        )
        .await
    }
}

/// Demo-style device ids.
pub fn device(n: u32) -> String {
    format!("test-device-{n:04}")
}
