//! The web console in real headless Chromium (driven through chromedriver),
//! against the real server binary on SQLite and on PostgreSQL: sign-in
//! errors, an officer turned away, a supervisor's search, worker and loan
//! pages and another branch's worker refused, an admin's import with a bad
//! line, a device revoked, a form without its anti-forgery token refused,
//! the audit log, English, sign-out; and the supervisor's batch review: an
//! officer's phone uploads repayments and a gift, the supervisor approves
//! the batch with a shortage and sees the loan's balance move, a second
//! approval and a rejection without a reason are refused; a cashier takes a
//! repayment at the counter from the loan's page and the supervisor asks to
//! reverse it, then asks for a new loan and reads the vault's cash book.
//! Over plain HTTP:
//! a branch cashier signs in, is kept to the workers and loans, and takes a
//! repayment at the counter (sent twice, posted once; refusals named); the
//! supervisor sees it in the branch's ledger and asks to reverse it, may not
//! approve their own request, and an admin's approval gives the loan its
//! balance back; a cashier counts the vault and prints the count's record.
//!
//! `SOTAY_SCREENSHOTS=1` saves PNGs of the main pages to `docs/screenshots/`.
//! Chromium and chromedriver are looked for in `/usr/bin` (or
//! `SOTAY_CHROMIUM` / `SOTAY_CHROMEDRIVER`); `scripts/test.sh` installs them.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sotay_tests::{fresh_database, scalar, Backend, Server, BACKENDS};

const PASSWORD: &str = "sotay-demo-2026";

fn tool(env: &str, default: &str) -> PathBuf {
    let path = PathBuf::from(std::env::var(env).unwrap_or_else(|_| default.to_string()));
    assert!(
        path.exists(),
        "{} is missing: `bash scripts/test.sh` installs Chromium and its driver \
         (apt-get install -y chromium chromium-driver), or set {env}",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A headless Chromium with its own empty profile, behind chromedriver.
struct Browser {
    client: Client,
    driver: Child,
    base: String,
    /// Screenshots go here when asked for.
    shots: Option<PathBuf>,
    /// Where the browser saves downloads.
    downloads: tempfile::TempDir,
    _profile: tempfile::TempDir,
}

/// Stops chromedriver and its Chromium, also when a test fails half-way.
impl Drop for Browser {
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    async fn start(base: &str, shots: Option<PathBuf>) -> Browser {
        let chromium = tool("SOTAY_CHROMIUM", "/usr/bin/chromium");
        let chromedriver = tool("SOTAY_CHROMEDRIVER", "/usr/bin/chromedriver");
        let port = free_port();
        // Its own process group, so that chromedriver and every Chromium
        // process it starts are stopped together (see `Drop`).
        let driver = Command::new(&chromedriver)
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !http
            .get(format!("{url}/status"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let downloads = tempfile::tempdir().expect("downloads dir");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                    "--force-device-scale-factor=1", "--hide-scrollbars",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
                "prefs": {
                    "download.default_directory": downloads.path(),
                    "download.prompt_for_download": false,
                    "download.directory_upgrade": true,
                },
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&url)
            .await
            .expect("a Chromium session through chromedriver");
        client
            .set_window_size(1280, 900)
            .await
            .expect("window size");
        Browser {
            client,
            driver,
            base: base.to_string(),
            shots,
            downloads,
            _profile: profile,
        }
    }

    /// Clicks a download link and returns the file the browser saved.
    async fn download(&self, css: &str) -> (String, Vec<u8>) {
        self.click(css).await;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let done: Vec<PathBuf> = std::fs::read_dir(self.downloads.path())
                .expect("downloads dir")
                .map(|e| e.expect("entry").path())
                // Chromium writes to `x.crdownload` or a hidden
                // `.org.chromium.Chromium.XXXXXX` before renaming.
                .filter(|p| {
                    p.extension()
                        .is_some_and(|x| x != "crdownload" && x != "tmp")
                        && !p
                            .file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                })
                .collect();
            if let [file] = done.as_slice() {
                let name = file.file_name().unwrap().to_string_lossy().into_owned();
                let bytes = std::fs::read(file).expect("downloaded file");
                std::fs::remove_file(file).expect("remove the download");
                return (name, bytes);
            }
            assert!(
                Instant::now() < deadline,
                "the browser saved no download for {css} in {}",
                self.downloads.path().display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn close(self) {
        let _ = self.client.clone().close().await;
        // chromedriver (and the Chromium it started) stop when `self` drops.
    }

    async fn go(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("current URL");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// Waits for an element (pages load after clicks and submits).
    async fn wait(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no `{css}` on the page: {e}"))
    }

    async fn text(&self, css: &str) -> String {
        self.wait(css).await.text().await.expect("element text")
    }

    async fn body(&self) -> String {
        self.text("body").await
    }

    async fn exists(&self, css: &str) -> bool {
        !self
            .client
            .find_all(Locator::Css(css))
            .await
            .expect("find")
            .is_empty()
    }

    async fn fill(&self, css: &str, value: &str) {
        let e = self.wait(css).await;
        e.clear().await.expect("clear");
        e.send_keys(value).await.expect("type");
    }

    async fn click(&self, css: &str) {
        self.wait(css).await.click().await.expect("click");
    }

    /// Submits the form around `css` and waits for the next page.
    async fn submit(&self, css: &str, then: &str) {
        let old = self.wait("html").await;
        self.click(css).await;
        // The old page goes stale once the next one has loaded.
        let deadline = Instant::now() + Duration::from_secs(30);
        while old.tag_name().await.is_ok() {
            if Instant::now() > deadline {
                let source = self.client.source().await.unwrap_or_default();
                panic!(
                    "`{css}` did not load a page; still on {}: {source}",
                    self.path().await
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        self.wait(then).await;
    }

    async fn sign_in(&self, username: &str, password: &str, then: &str) {
        self.go("/login").await;
        self.fill("#username", username).await;
        self.fill("#password", password).await;
        self.submit("form button[type=submit]", then).await;
    }

    async fn sign_out(&self) {
        self.submit("form.logout button", "#username").await;
    }

    /// Saves a PNG of the window to `docs/screenshots/<name>.png` when asked.
    async fn shot(&self, name: &str) {
        let Some(dir) = &self.shots else { return };
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::create_dir_all(dir).expect("screenshot folder");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    /// A screenshot of the whole page, not just the window.
    async fn shot_full(&self, name: &str, width: u32) {
        if self.shots.is_none() {
            return;
        }
        let height = self
            .client
            .execute("return document.documentElement.scrollHeight;", vec![])
            .await
            .ok()
            .and_then(|v| v.as_u64())
            .unwrap_or(900)
            .clamp(600, 2400) as u32;
        self.client.set_window_size(width, height + 120).await.ok();
        self.shot(name).await;
        self.client.set_window_size(1280, 900).await.ok();
    }
}

/// The value of cookie `name` set by a response, and its attributes.
fn set_cookie(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

/// An HTTP client that reports redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Signs in over plain HTTP (no browser) and returns the session cookie.
async fn http_sign_in(http: &reqwest::Client, server: &Server, username: &str) -> String {
    let page = http.get(server.url("/login")).send().await.unwrap();
    let login = set_cookie(&page, "__Host-sotay_login").expect("sign-in form cookie");
    let token = cookie_value(&login);
    let resp = http
        .post(server.url("/login"))
        .header(COOKIE, format!("__Host-sotay_login={token}"))
        .form(&[
            ("username", username),
            ("password", PASSWORD),
            ("csrf", &token),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let session = set_cookie(&resp, "__Host-sotay_session").expect("session cookie");
    format!("__Host-sotay_session={}", cookie_value(&session))
}

/// Signs a phone in through the API (which registers the device).
async fn api_token(
    http: &reqwest::Client,
    server: &Server,
    username: &str,
    device: &str,
    device_name: &str,
) -> Value {
    let resp = http
        .post(server.url("/api/v1/auth/login"))
        .json(
            &json!({"username": username, "password": PASSWORD, "device_id": device,
                      "device_name": device_name}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

async fn api_get(http: &reqwest::Client, server: &Server, path: &str, token: &str) -> Value {
    http.get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn screenshots(backend: Backend) -> Option<PathBuf> {
    (backend == Backend::Sqlite && std::env::var("SOTAY_SCREENSHOTS").is_ok_and(|v| v == "1"))
        .then(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots"))
}

/// Today in Vietnam, `yyyy-mm-dd`, as the databases store dates.
fn today() -> String {
    sotay_core::domain::time::local_date(chrono::Utc::now())
        .format("%Y-%m-%d")
        .to_string()
}

#[tokio::test]
async fn console_in_a_real_browser() {
    let _turn = sotay_tests::one_at_a_time();
    let http = no_redirects();
    for backend in BACKENDS {
        let started = Instant::now();
        let db = fresh_database(backend).await;
        let server = Server::start(&db.url, &["--demo"]).await;
        let b = Browser::start(&server.base, screenshots(backend)).await;
        println!(
            "{backend:?}: server with demo fund and Chromium up in {} ms",
            started.elapsed().as_millis()
        );

        // --- Signing in: a wrong password, an officer turned away.
        b.go("/").await;
        b.wait("#username").await;
        assert!(b.path().await.starts_with("/login"), "{}", b.path().await);
        b.shot("login").await;
        b.sign_in("admin", "not-the-password", "#login-error").await;
        assert!(
            b.text("#login-error")
                .await
                .contains("Sai tên đăng nhập hoặc mật khẩu"),
            "{}",
            b.body().await
        );
        assert_eq!(
            scalar(
                &db.url,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'login_failed'"
            )
            .await,
            1
        );
        b.sign_in("canbo.lan", PASSWORD, "#login-error").await;
        let refused = b.text("#login-error").await;
        assert!(
            refused.contains("cán bộ tín dụng") && refused.contains("giám sát chi nhánh"),
            "{refused}"
        );
        assert!(b.path().await.starts_with("/login"));

        // --- The supervisor of Thủ Đức: home, search, a worker, a loan.
        b.sign_in("giamsat.thuduc", PASSWORD, "#branch").await;
        let home = b.body().await;
        assert!(home.contains("Lê Thị Hồng Nhung"), "{home}");
        assert!(home.contains("Giám sát chi nhánh"), "{home}");
        assert!(b.text("#branch").await.contains("KCX Linh Trung"));
        b.shot("home-supervisor").await;

        // The same search as the API answers, for the same supervisor.
        let api = api_token(
            &http,
            &server,
            "giamsat.thuduc",
            "console-e2e-sup-01",
            "iPhone 12 của Nhung",
        )
        .await;
        let api_token_sup = api["access_token"].as_str().unwrap().to_string();
        let by_api = api_get(
            &http,
            &server,
            "/api/v1/workers?q=nguyen&limit=500",
            &api_token_sup,
        )
        .await;
        let total = by_api["total"].as_i64().unwrap();
        assert!(total > 0, "{by_api}");
        b.fill("#q", "nguyen").await;
        b.submit("form.search button", "#workers").await;
        assert!(
            b.text("#result-count")
                .await
                .contains(&format!("Tìm thấy {total} người lao động")),
            "{}",
            b.text("#result-count").await
        );
        let rows = b
            .client
            .find_all(Locator::Css("#workers tbody tr"))
            .await
            .unwrap();
        assert_eq!(rows.len() as i64, total.min(50));
        b.shot("workers-search").await;

        // Accents, letter case and đ do not matter.
        let count_of = |q: &str| format!("/workers?q={}", urlencode(q));
        b.go(&count_of("Đặng")).await;
        let with_accents = b.text("#result-count").await;
        b.go(&count_of("dang")).await;
        let without = b.text("#result-count").await;
        assert_eq!(
            with_accents.split_whitespace().nth(2),
            without.split_whitespace().nth(2),
            "{with_accents} / {without}"
        );
        b.go(&count_of("NGUYEN THI")).await;
        assert!(b.exists("#workers").await);

        // A phone number in another format, and a CCCD, find the worker.
        let items = by_api["items"].as_array().unwrap();
        let with_phone = items.iter().find(|w| w["phone"].is_string()).unwrap();
        let phone = with_phone["phone"].as_str().unwrap();
        let international = format!("+84 {} {} {}", &phone[1..4], &phone[4..7], &phone[7..]);
        b.go(&count_of(&international)).await;
        assert!(
            b.text("#workers")
                .await
                .contains(with_phone["full_name"].as_str().unwrap()),
            "{international}"
        );
        b.go(&count_of(with_phone["cccd"].as_str().unwrap())).await;
        assert!(b
            .text("#workers")
            .await
            .contains(with_phone["full_name"].as_str().unwrap()));
        // A loan's number, in any case, opens the loan (where the counter is).
        let loans = api_get(&http, &server, "/api/v1/loans?limit=1", &api_token_sup).await;
        let code = loans[0]["code"].as_str().unwrap().to_string();
        b.go(&count_of(&code.to_lowercase())).await;
        assert!(b.exists("#balance").await, "{code}");
        assert!(b.text("h1").await.contains(&code), "{code}");

        // A worker of the branch with an overdue loan: the worker, then the loan.
        let overdue_loan = scalar(
            &db.url,
            &format!(
                "SELECT MIN(l.id) FROM loans l JOIN workers w ON w.id = l.worker_id \
                 JOIN branches b ON b.id = w.branch_id JOIN installments i ON i.loan_id = l.id \
                 WHERE b.code = 'CN-TD' AND l.status = 'active' AND i.due_on < '{}' \
                 AND (i.principal_paid < i.principal_due OR i.interest_paid < i.interest_due)",
                today()
            ),
        )
        .await;
        let worker_id = scalar(
            &db.url,
            &format!("SELECT worker_id FROM loans WHERE id = {overdue_loan}"),
        )
        .await;
        b.go("/workers?q=nguyen").await;
        b.submit("#workers tbody tr:first-child a", "#worker-details")
            .await;
        b.shot("worker").await;
        b.go(&format!("/workers/{worker_id}")).await;
        b.wait("#worker-details").await;
        assert!(b.exists("#loans tr.overdue").await, "{}", b.body().await);
        b.submit("#loans tr.overdue a", "#schedule").await;
        assert_eq!(b.path().await, format!("/loans/{overdue_loan}"));
        assert!(b.exists("#overdue-badge").await);
        assert!(b.exists("#schedule tr.overdue").await);
        let outstanding = b.text("#outstanding").await;
        assert!(
            outstanding.ends_with(" ₫") && outstanding.contains('.'),
            "{outstanding}"
        );
        assert!(b.text("#schedule").await.contains("Quá hạn"));
        b.shot_full("loan", 1280).await;

        // Another branch's worker and loan do not exist for this supervisor.
        let other_worker = scalar(
            &db.url,
            "SELECT MIN(w.id) FROM workers w JOIN branches b ON b.id = w.branch_id WHERE b.code = 'CN-BT'",
        )
        .await;
        let other_loan = scalar(
            &db.url,
            "SELECT MIN(l.id) FROM loans l JOIN workers w ON w.id = l.worker_id \
             JOIN branches b ON b.id = w.branch_id WHERE b.code = 'CN-BT'",
        )
        .await;
        b.go(&format!("/workers/{other_worker}")).await;
        assert!(
            b.text("main")
                .await
                .contains("Không tìm thấy người lao động"),
            "{}",
            b.body().await
        );
        let status = http
            .get(server.url(&format!("/workers/{other_worker}")))
            .header(COOKIE, http_sign_in(&http, &server, "giamsat.thuduc").await)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::NOT_FOUND);
        b.go(&format!("/loans/{other_loan}")).await;
        assert!(b.text("main").await.contains("Không tìm thấy khoản vay"));
        // Admin pages are not for supervisors.
        b.go("/imports").await;
        assert!(b.text("main").await.contains("chỉ dành cho quản trị viên"));

        // The supervisor revokes a phone of their branch but cannot see the other branch's.
        api_token(
            &http,
            &server,
            "canbo.lan",
            "console-e2e-lan-01",
            "Samsung A15 của Lan",
        )
        .await;
        let minh = api_token(
            &http,
            &server,
            "canbo.minh",
            "console-e2e-minh-01",
            "Oppo A58 của Minh",
        )
        .await;
        let minh_token = minh["access_token"].as_str().unwrap().to_string();
        b.go("/devices").await;
        let devices = b.text("#devices").await;
        assert!(devices.contains("Võ Thị Lan"), "{devices}");
        assert!(!devices.contains("Trần Quốc Minh"), "{devices}");
        b.go("/devices/console-e2e-minh-01/revoke").await;
        assert!(b.text("main").await.contains("Không tìm thấy thiết bị"));
        b.sign_out().await;
        assert!(b.body().await.contains("Bạn đã đăng xuất"));
        b.go("/workers").await;
        b.wait("#username").await;
        assert!(
            b.path().await.starts_with("/login?next=%2Fworkers"),
            "{}",
            b.path().await
        );

        // --- The admin: home, an import with a bad line, then a good one.
        b.sign_in("admin", PASSWORD, "#branch").await;
        assert!(b.text("#branch").await.contains("Toàn quỹ"));
        assert!(b.text("#me").await.contains("Quản trị viên"));
        b.shot("home-admin").await;

        let files = tempfile::tempdir().unwrap();
        let bad = files.path().join("workers.csv");
        std::fs::write(
            &bad,
            "code,full_name,cccd,phone,union_member,hardship,officer_code\n\
             W-9001,Phan Thị Ngọc,079199009001,0901009001,1,0,CB-TD-01\n\
             W-9002,Phan Văn Sang,07919900900X,0901009002,1,0,CB-TD-01\n",
        )
        .unwrap();
        b.go("/imports").await;
        b.wait("#kind")
            .await
            .select_by_value("workers")
            .await
            .unwrap();
        b.wait("#file")
            .await
            .send_keys(&bad.display().to_string())
            .await
            .unwrap();
        b.submit("#import-form button[type=submit]", "#import-errors")
            .await;
        let errors = b.text("#import-errors").await;
        assert!(errors.contains("workers.csv"), "{errors}");
        assert!(
            errors
                .lines()
                .any(|l| l.contains(" 3 ") && l.contains("cccd")),
            "line 3, column cccd: {errors}"
        );
        assert!(b
            .text("#import-result")
            .await
            .contains("không có dữ liệu nào được nhập"));
        b.shot_full("import-errors", 1280).await;
        assert_eq!(
            scalar(
                &db.url,
                "SELECT COUNT(*) FROM workers WHERE code = 'W-9001'"
            )
            .await,
            0
        );
        let good = files.path().join("branches.csv");
        std::fs::write(
            &good,
            "code,name,district,industrial_zone,address\n\
             CN-Q12,Chi nhánh Quận 12,Quận 12,KCN Tân Thới Hiệp,1 Đường HT17\n",
        )
        .unwrap();
        // The kind left to the file's name.
        b.wait("#kind").await.select_by_value("").await.unwrap();
        b.wait("#file")
            .await
            .send_keys(&good.display().to_string())
            .await
            .unwrap();
        b.submit("#import-form button[type=submit]", "#import-result")
            .await;
        assert!(
            b.text("#import-result")
                .await
                .contains("Đã nhập branches.csv: 1 mới"),
            "{}",
            b.text("#import-result").await
        );
        assert!(b.text("#import-history").await.contains("Bảng điều khiển"));

        // A form sent without its anti-forgery token changes nothing.
        b.go("/devices/console-e2e-minh-01/revoke").await;
        b.fill("#reason", "thử không có mã").await;
        b.client
            .execute(
                "document.querySelector('#revoke-form input[name=csrf]').remove();",
                vec![],
            )
            .await
            .unwrap();
        b.submit("#revoke-form button[type=submit]", "main").await;
        assert!(
            b.text("main").await.contains("mã chống giả mạo"),
            "{}",
            b.body().await
        );
        let revoked = "SELECT COUNT(*) FROM devices WHERE id = 'console-e2e-minh-01' AND revoked_at IS NOT NULL";
        assert_eq!(scalar(&db.url, revoked).await, 0);
        let status: u64 = b
            .client
            .execute_async(
                "const done = arguments[0]; fetch('/logout', {method: 'POST', \
                 headers: {'content-type': 'application/x-www-form-urlencoded'}, body: ''}) \
                 .then(r => done(r.status));",
                vec![],
            )
            .await
            .unwrap()
            .as_u64()
            .unwrap();
        assert_eq!(status, 403, "a sign-out without its token is refused");
        b.go("/").await;
        assert!(b.exists("#me").await, "still signed in");

        // The admin revokes a device, with a reason.
        b.go("/devices").await;
        b.submit(
            "tr[data-device='console-e2e-minh-01'] a.button",
            "#revoke-form",
        )
        .await;
        // Blank is refused by the browser; spaces by the server.
        b.fill("#reason", "   ").await;
        b.submit("#revoke-form button[type=submit]", "#revoke-error")
            .await;
        assert!(b.text("#revoke-error").await.contains("Cần ghi lý do"));
        b.fill("#reason", "Mất điện thoại").await;
        b.shot("device-revoke").await;
        b.submit("#revoke-form button[type=submit]", "#flash").await;
        assert!(b.text("#flash").await.contains("Đã thu hồi thiết bị"));
        b.shot("devices").await;
        assert_eq!(scalar(&db.url, revoked).await, 1);
        let me = http
            .get(server.url("/api/v1/me"))
            .bearer_auth(&minh_token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            me.status(),
            StatusCode::UNAUTHORIZED,
            "the revoked phone is out at once"
        );

        // The audit log, filtered, shows the sign-ins and the revocation.
        b.go("/audit?action=device_revoke").await;
        let audit = b.text("#audit").await;
        assert!(
            audit.contains("console-e2e-minh-01") && audit.contains("admin"),
            "{audit}"
        );
        assert_eq!(
            b.client
                .find_all(Locator::Css("#audit tbody tr"))
                .await
                .unwrap()
                .len(),
            1
        );
        b.go("/audit").await;
        b.wait("#action")
            .await
            .select_by_value("console_login")
            .await
            .unwrap();
        b.fill("#actor", "giamsat").await;
        b.submit("#audit-filter button[type=submit]", "#audit")
            .await;
        let rows = b.text("#audit").await;
        assert!(
            rows.contains("giamsat.thuduc") && !rows.contains("admin"),
            "{rows}"
        );
        let day = |offset: i64| {
            (sotay_core::domain::time::local_date(chrono::Utc::now())
                + chrono::Duration::days(offset))
            .format("%d/%m/%Y")
            .to_string()
        };
        b.go(&format!("/audit?from={}&to={}", day(0), day(0))).await;
        assert!(b.exists("#audit tbody tr").await);
        assert_eq!(
            b.wait("#from").await.prop("value").await.unwrap().unwrap(),
            day(0)
        );
        // Routine sign-ins hidden, the revocation stays.
        b.go(&format!("/audit?from={}&no_routine=1", day(0))).await;
        let rows = b.text("#audit").await;
        assert!(
            rows.contains("Thu hồi thiết bị") && !rows.contains("Đăng nhập bảng điều khiển"),
            "{rows}"
        );
        b.go(&format!("/audit?from={}", day(1))).await;
        assert!(b
            .text("main")
            .await
            .contains("Không có mục nào khớp bộ lọc"));
        b.go("/audit?from=31/02/2026").await;
        assert!(b.text("main").await.contains("không phải là ngày hợp lệ"));
        b.go("/audit").await;
        b.wait("#audit").await;
        b.shot("audit").await;

        // Gift stock: the demo branches hold their allocations; a receipt
        // is checked before it posts, then adds to the stock.
        b.go("/stock").await;
        let stock = b.text("#stock").await;
        assert!(
            stock.contains("Tết Sum vầy") && stock.contains("200"),
            "{stock}"
        );
        let today = sotay_core::domain::time::format_date(sotay_core::domain::time::local_date(
            chrono::Utc::now(),
        ));
        b.fill("#packages", "0").await;
        b.fill("#received_on", "31/11/2026").await;
        b.fill("#source", "Nhà tài trợ Pouyuen").await;
        b.submit("#receive-form button[type=submit]", "#receive-error")
            .await;
        // Both mistakes at once.
        let refused = b.text("#receive-error").await;
        assert!(
            refused.contains("Số suất") && refused.contains("Ngày nhận không hợp lệ"),
            "{refused}"
        );
        b.fill("#received_on", &today).await;
        b.fill("#packages", "5").await;
        b.submit("#receive-form button[type=submit]", "#flash")
            .await;
        assert!(
            b.text("#flash").await.contains("5 suất"),
            "{}",
            b.text("#flash").await
        );
        assert!(b.text("#receipts").await.contains("Nhà tài trợ Pouyuen"));
        assert!(b.text("#stock").await.contains("205"));
        b.shot("gift-stock").await;

        // English, remembered from page to page, and back.
        b.click("a[hreflang=en]").await;
        b.wait("html[lang=en]").await;
        assert!(b.text("header").await.contains("Sign out"));
        b.go("/workers?q=nguyen").await;
        assert!(b.text("#result-count").await.contains("workers match"));
        b.go("/").await;
        assert!(b.text("#me").await.contains("Administrator"));
        b.shot("home-admin-en").await;
        b.go(&format!("/workers/{other_worker}")).await;
        assert!(b.text("#worker-details").await.contains("Date of birth"));

        // A tablet in portrait.
        b.client.set_window_size(820, 1180).await.unwrap();
        b.go(&format!("/loans/{overdue_loan}?lang=vi")).await;
        b.wait("html[lang=vi]").await;
        b.shot("loan-tablet").await;
        b.client.set_window_size(1280, 900).await.unwrap();
        b.sign_out().await;

        // --- The cashier of Thủ Đức takes a repayment at the counter.
        b.sign_in("thuquy.thuduc", PASSWORD, "#counter-recent")
            .await;
        assert!(b.text("#me").await.contains("Thủ quỹ chi nhánh"));
        assert!(!b.exists("nav.main a[href='/batches']").await);
        b.go(&format!("/loans/{overdue_loan}")).await;
        b.wait("#counter-form").await;
        b.fill("#amount", "150.000").await;
        b.fill("#note", "Chị gái trả thay").await;
        b.submit("#counter-form button", "#receipt").await;
        let receipt = b.text("#receipt").await;
        assert!(
            receipt.contains("150.000 ₫") && receipt.contains("QUAY-CN-TD-"),
            "{receipt}"
        );
        assert!(b
            .text("#counter-repayments")
            .await
            .contains("Chị gái trả thay"));
        b.shot_full("loan-counter", 1280).await;
        b.submit("#print-receipt", "#slip").await;
        assert!(b
            .text("#slip-words")
            .await
            .contains("Một trăm năm mươi nghìn đồng"));
        // What the loan's principal is after it, as the books have it.
        let left = scalar(
            &db.url,
            &format!(
                "SELECT CAST(SUM(debit - credit) AS BIGINT) FROM journal_lines
                 WHERE account = 'loan_principal' AND loan_id = {overdue_loan}"
            ),
        )
        .await;
        assert!(left > 0);
        assert_eq!(
            b.text("#slip-left").await,
            sotay_core::domain::money::format_vnd(left)
        );
        b.shot("counter-receipt").await;
        b.sign_out().await;

        // --- The supervisor asks to reverse it, from the loan's journal.
        b.sign_in("giamsat.thuduc", PASSWORD, "#branch").await;
        b.go(&format!("/loans/{overdue_loan}")).await;
        b.submit("#entries a[href^='/reversals/new']", "#request-form")
            .await;
        b.fill("#reason", "Thu nhầm khoản vay").await;
        b.submit("#request-form button", "#pending").await;
        assert!(b.text("#flash").await.contains("chờ một người khác duyệt"));
        assert!(b.text("#pending").await.contains("Thu nhầm khoản vay"));
        b.shot("reversals").await;
        b.go("/ledger").await;
        assert!(b.text("#balanced").await.contains("Nợ = Có"));
        b.shot("ledger").await;

        // A new loan asked for from the worker's page; the branch's cash book.
        b.go(&format!("/workers/{worker_id}")).await;
        b.submit("#new-disbursement", "#request-form").await;
        assert!(b.text("#vault").await.contains(" ₫"));
        b.fill("#principal", "5.000.000").await;
        b.fill("#note", "Sửa phòng trọ").await;
        b.submit("#preview-button", "#schedule").await;
        assert!(b.text("#schedule").await.contains("5.000.000 ₫"));
        b.shot_full("disbursement-schedule", 1280).await;
        b.submit("#request-form button.primary", "#pending").await;
        assert!(b.text("#flash").await.contains("5.000.000 ₫"));
        assert!(b.text("#pending").await.contains("Bạn đã đề nghị"));
        b.shot("disbursements").await;
        b.go("/bank-moves").await;
        b.wait("#move-form").await;
        b.shot("bank").await;
        // The day's bank statement, as the bank exports it, reconciled.
        let today = sotay_core::domain::time::local_date(chrono::Utc::now()).format("%d/%m/%Y");
        let statement = std::env::temp_dir().join(format!("sao-ke-{}.csv", std::process::id()));
        std::fs::write(
            &statement,
            format!(
                "Sao kê tài khoản 0071000999888;;;;;\n\
                 Ngày GD/TNX Date;Số tham chiếu/Ref;Nội dung/Description;Ghi nợ/Debit;Ghi có/Credit;Số dư/Balance\n\
                 {today};UNC-0120;QUY CEP CHUYEN VON CHO VAY;;1.000.000.000;1.000.000.000\n\
                 {today};FT26339100200;NGUYEN THI HOA CHUYEN TRA NO;;500.000;1.000.500.000\n\
                 {today};;PHI QUAN LY TAI KHOAN;11.000;;1.000.489.000\n"
            ),
        )
        .expect("statement file");
        b.wait("#statement-file")
            .await
            .send_keys(statement.to_str().unwrap())
            .await
            .expect("choose the file");
        b.submit("#statement-form button", "#statement-lines").await;
        assert!(b
            .text("#statement-lines")
            .await
            .contains("Chưa có trong sổ"));
        assert_eq!(b.text("#count-not-in-book").await, "2");
        // The bank's fee, posted from its line.
        b.submit("#line-5 button[value=charge]", "#line-posted")
            .await;
        assert!(b
            .text("#line-posted")
            .await
            .contains("Phí ngân hàng 11.000 ₫"));
        assert!(b.text("#line-5").await.contains("Ghi sổ từ dòng này"));
        assert_eq!(b.text("#count-not-in-book").await, "1");
        b.shot_full("bank-statement", 1280).await;
        std::fs::remove_file(&statement).ok();
        b.go("/reports/vault-cash-book").await;
        b.wait("#downloads").await;
        assert!(b.body().await.contains("Tồn cuối kỳ"));
        b.shot("report-vault").await;
        b.sign_out().await;

        assert_eq!(
            scalar(
                &db.url,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'console_logout'"
            )
            .await,
            4
        );
        assert!(
            scalar(
                &db.url,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'console_login'"
            )
            .await
                >= 5
        );
        b.close().await;
        println!(
            "{backend:?}: console stories in Chromium passed in {} ms",
            started.elapsed().as_millis()
        );
    }
}

/// What an officer's phone uploads for review: two repayments on one loan
/// (the first above one installment) and a gift. Returns the loan's code,
/// the cash collected and the receipt numbers.
fn phone_day(server: &str) -> (sotay_tests::Phone, String, i64, Vec<String>) {
    use rust_decimal::prelude::ToPrimitive;
    use rust_decimal::Decimal;
    use sotay_core::{GiftInput, RepaymentInput};

    let phone = sotay_tests::Phone::new();
    phone.login(server, "canbo.lan", PASSWORD);
    phone.book.sync(None).expect("first sync");
    let dong = |d: Decimal| d.to_i64().expect("whole đồng");
    let hits = phone.book.search("thi".into(), 200).expect("search");
    let mut chosen = None;
    for hit in &hits {
        let detail = phone.book.worker_detail(hit.worker_id).expect("detail");
        for loan in detail.loans.iter().filter(|l| l.status == "active") {
            let installment = loan
                .schedule
                .iter()
                .map(|i| dong(i.principal_due + i.interest_due))
                .max()
                .unwrap_or(0);
            if installment > 0 && dong(loan.balance) > installment + 200_000 {
                chosen = Some((loan.loan_id, loan.contract_no.clone(), installment));
                break;
            }
        }
        if chosen.is_some() {
            break;
        }
    }
    let (loan_id, loan_code, installment) = chosen.expect("a loan with room for two repayments");
    let mut receipts = Vec::new();
    let mut cash = 0;
    for amount in [installment + 50_000, 30_000] {
        let r = phone
            .book
            .record_repayment(RepaymentInput {
                loan_id,
                amount: Decimal::from(amount),
                recorded_at: chrono::Utc::now(),
            })
            .expect("repayment");
        receipts.push(r.receipt_no);
        cash += amount;
    }
    let campaign = phone
        .book
        .campaigns()
        .unwrap()
        .into_iter()
        .find(|k| k.kind == "gift" && k.remaining > 0)
        .expect("a gift campaign");
    let given = hits.iter().any(|h| {
        let w = phone.book.worker_detail(h.worker_id).unwrap();
        phone
            .book
            .record_gift(GiftInput {
                campaign_id: campaign.campaign_id,
                worker_id: w.worker_id,
                acknowledged_name: w.full_name.clone(),
                signature_image: Some(include_bytes!("../fixtures/chu-ky.png").to_vec()),
                recorded_at: chrono::Utc::now(),
            })
            .is_ok()
    });
    assert!(given, "a worker eligible for the gift");
    let report = phone.book.sync(None).expect("sync");
    assert_eq!(
        (report.accepted, report.rejected, report.signatures_sent),
        (3, 0, 1),
        "{report:?}"
    );
    (phone, loan_code, cash, receipts)
}

#[tokio::test]
async fn batch_review_in_a_real_browser() {
    let _turn = sotay_tests::one_at_a_time();
    let http = no_redirects();
    for backend in BACKENDS {
        let started = Instant::now();
        let db = fresh_database(backend).await;
        let server = Server::start(&db.url, &["--demo"]).await;
        let base = server.base.clone();
        let (phone, loan_code, cash, receipts) =
            tokio::task::spawn_blocking(move || phone_day(&base))
                .await
                .unwrap();
        let b = Browser::start(&server.base, screenshots(backend)).await;
        let vnd = sotay_core::domain::money::format_vnd;
        let loan_id = scalar(
            &db.url,
            &format!("SELECT id FROM loans WHERE code = '{loan_code}'"),
        )
        .await;

        // The supervisor of the officer's branch: the loan before, then the queue.
        b.sign_in("giamsat.thuduc", PASSWORD, "#branch").await;
        b.go(&format!("/loans/{loan_id}")).await;
        let before = b.text("#outstanding").await;
        b.go("/").await;
        b.submit("nav.main a[href='/batches']", "#batches").await;
        let list = b.text("#batches").await;
        assert!(list.contains("Võ Thị Lan"), "{list}");
        assert!(list.contains(&vnd(cash)), "{list}");
        assert!(list.contains("2 thu nợ · 1 trao quà"), "{list}");
        assert!(list.contains("Thu hơn một kỳ"), "{list}");
        assert_eq!(
            b.client
                .find_all(Locator::Css("#batches tbody tr"))
                .await
                .unwrap()
                .len(),
            1
        );
        b.shot("batches").await;

        // The batch: every record, its total and its anomalies.
        b.submit("#batches tbody tr a", "#records").await;
        let batch_path = b.path().await;
        assert_eq!(b.text("#expected").await, vnd(cash));
        let records = b.text("#records").await;
        for receipt in &receipts {
            assert!(records.contains(receipt.as_str()), "{records}");
        }
        assert!(records.contains("cao hơn một kỳ trả"), "{records}");
        assert!(
            records.contains("2 lần thu trên cùng khoản vay"),
            "{records}"
        );
        assert!(b.text("#batch-anomalies").await.contains("Thu hơn một kỳ"));
        // The gift's signature, sent by the phone after its record.
        assert!(records.contains("Người nhận xác nhận"), "{records}");
        let width = b
            .client
            .execute(
                "const img = document.querySelector('#records a.signature img');
                 img.scrollIntoView();
                 return new Promise(done => {
                     const check = () => img.complete && img.naturalWidth > 0 ? done(img.naturalWidth) : setTimeout(check, 50);
                     check();
                 });",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(width.as_i64(), Some(180), "the signature image is shown");
        let signature = b
            .client
            .execute(
                "return document.querySelector('#records a.signature').getAttribute('href');",
                vec![],
            )
            .await
            .unwrap()
            .as_str()
            .unwrap()
            .to_string();
        let theirs = http_sign_in(&http, &server, "giamsat.binhtan").await;
        let (status, _, _) = page(&http, &server, signature.clone(), theirs).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "another branch's signature");
        let (status, to, _) = page(&http, &server, signature, String::new()).await;
        assert_eq!(
            (status, to.as_deref().map(|t| t.starts_with("/login"))),
            (StatusCode::SEE_OTHER, Some(true))
        );
        b.shot_full("batch", 1280).await;
        // On a tablet the records' table scrolls on its own; the page
        // does not scroll sideways.
        b.client.set_window_size(820, 1000).await.unwrap();
        let widths = b
            .client
            .execute(
                "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(widths[0], widths[1], "the page is wider than the tablet");
        b.client.set_window_size(1280, 900).await.unwrap();

        // A count with digits too many is pointed out before anything posts.
        b.fill("#cash", "99.000.000.000").await;
        b.submit("#approve-form button[type=submit]", "#confirmation")
            .await;
        assert!(
            b.text("#count-check")
                .await
                .contains("lớn hơn hai lần số phải nộp"),
            "{}",
            b.body().await
        );
        // The confirmation's address is this session's: the same count in
        // a link made elsewhere (no signature, or another) shows the
        // batch page, not a confirmation ready to post.
        let confirm_url = b.path().await;
        let (unsigned, _) = confirm_url
            .split_once("&sig=")
            .unwrap_or_else(|| panic!("signed: {confirm_url}"));
        let sig = confirm_url.rsplit_once("&sig=").unwrap().1;
        let (path, query) = unsigned.split_once('?').unwrap();
        for forged in [
            unsigned.to_string(),
            format!("{unsigned}&sig=00"),
            // A value blanked, or a pair hidden in another's name, with the
            // signature kept.
            format!("{unsigned}&expected=&sig={sig}"),
            format!(
                "{path}?{}&sig={sig}",
                query.replacen('&', "%26", 1).replacen('=', "%3D", 1)
            ),
        ] {
            b.go(&forged).await;
            b.wait("#approve-form").await;
            assert!(!b.exists("#confirmation").await, "{forged}");
        }
        b.go(&confirm_url).await;
        b.wait("#confirmation").await;
        b.submit("#confirm-form button[value=edit]", "#approve-form")
            .await;
        // So is one a digit short.
        b.fill(
            "#cash",
            &sotay_core::domain::money::group_thousands(cash / 10),
        )
        .await;
        b.submit("#approve-form button[type=submit]", "#confirmation")
            .await;
        assert!(
            b.text("#count-check")
                .await
                .contains("chưa bằng một nửa số phải nộp"),
            "{}",
            b.body().await
        );
        b.submit("#confirm-form button[value=edit]", "#approve-form")
            .await;
        // Cash typed the wrong way is refused with what to type instead.
        b.fill("#cash", "1,5").await;
        b.submit("#approve-form button[type=submit]", "#cash-error")
            .await;
        assert!(
            b.text("#cash-error").await.contains("dấu phẩy"),
            "{}",
            b.text("#cash-error").await
        );
        b.fill("#cash", "abc").await;
        b.submit("#approve-form button[type=submit]", "#cash-error")
            .await;
        assert!(b.text("#cash-error").await.contains("không phải số tiền"));
        // Left empty, it is asked for (the form checks nothing itself).
        b.fill("#cash", "").await;
        b.submit("#approve-form button[type=submit]", "#cash-error")
            .await;
        assert!(
            b.text("#cash-error").await.contains("cần nhập"),
            "{}",
            b.text("#cash-error").await
        );
        // Ticking a receipt to leave it out takes it off the cash to hand
        // over at once; unticked, it is back.
        assert_eq!(b.text("#cash-expected-figure").await, vnd(cash));
        let receipt_cash: i64 = b
            .client
            .execute(
                "return document.querySelector('#records tbody tr[data-kind=repayment]').dataset.cash;",
                vec![],
            )
            .await
            .unwrap()
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let receipt_box = "#records tbody tr[data-kind=repayment] input[type=checkbox]";
        assert_eq!(b.text("#cash-ticked-note").await, "", "hidden");
        b.click(receipt_box).await;
        assert_eq!(
            b.text("#cash-expected-figure").await,
            vnd(cash - receipt_cash)
        );
        assert!(b
            .text("#cash-ticked-note")
            .await
            .contains("trừ các bản ghi đánh dấu loại"));
        b.click(receipt_box).await;
        assert_eq!(b.text("#cash-expected-figure").await, vnd(cash));
        assert_eq!(b.text("#cash-ticked-note").await, "", "hidden again");
        // A record ticked without a reason is refused too.
        b.click("#records tbody tr[data-kind=gift_handout] input[type=checkbox]")
            .await;
        let counted = cash - 20_000;
        let typed = sotay_core::domain::money::group_thousands(counted);
        b.fill("#cash", &typed).await;
        b.submit("#approve-form button[type=submit]", "#exclude-error")
            .await;
        assert!(b.exists("#records tr.blocked").await);
        assert_eq!(
            b.wait("#cash").await.prop("value").await.unwrap().unwrap(),
            typed,
            "what was typed is kept"
        );
        b.fill(
            "#records tbody tr[data-kind=gift_handout] input[type=text]",
            "Người nhận chưa ký biên bản",
        )
        .await;
        // A reason written on a record not ticked is asked about, not ignored.
        b.fill(
            "#records tbody tr[data-kind=repayment] input[type=text]",
            "nhầm",
        )
        .await;
        b.submit("#approve-form button[type=submit]", "#unticked-error")
            .await;
        b.fill(
            "#records tbody tr[data-kind=repayment] input[type=text]",
            "",
        )
        .await;

        // Counted less than expected: the confirmation shows the shortage.
        let entries = "SELECT COUNT(*) FROM journal_entries";
        let entries_before = scalar(&db.url, entries).await;
        b.submit("#approve-form button[type=submit]", "#confirmation")
            .await;
        assert_eq!(b.text("#confirm-expected").await, vnd(cash));
        assert_eq!(b.text("#confirm-counted").await, vnd(counted));
        assert!(
            !b.exists("#count-check").await,
            "a small shortage is no typo"
        );
        assert!(b
            .text("#confirm-difference")
            .await
            .contains("Thiếu 20.000 ₫"));
        assert_eq!(b.text("#confirm-records").await, "2 được duyệt, 1 bị loại");
        assert!(b
            .text("#confirm-excluded")
            .await
            .contains("Người nhận chưa ký biên bản"));
        b.shot("batch-confirm").await;
        let resend: String = b
            .client
            .execute(
                "return new URLSearchParams(new FormData(document.getElementById('confirm-form'))).toString() + '&action=post';",
                vec![],
            )
            .await
            .unwrap()
            .as_str()
            .unwrap()
            .to_string();
        // Had the batch changed since the confirmation (as a void arriving
        // does), it is shown again with the new figure, posting nothing.
        b.client
            .execute(
                "document.querySelector('#confirm-form input[name=expected]').value = '1'; return null;",
                vec![],
            )
            .await
            .unwrap();
        b.submit("#confirm-form button[value=post]", "#batch-changed")
            .await;
        let changed = b.text("#batch-changed").await;
        assert!(
            changed.contains(&format!("nay là {}, không phải 1 ₫", vnd(cash))),
            "{changed}"
        );
        assert_eq!(scalar(&db.url, entries).await, entries_before);
        b.submit("#confirm-form button[value=post]", "#approval-result")
            .await;
        let result = b.text("#approval-result").await;
        assert!(result.contains("Thiếu 20.000 ₫"), "{result}");
        assert!(result.contains(&loan_code), "{result}");
        // Back goes to the confirmation's own page, loaded again: decided,
        // not "Confirm Form Resubmission", nothing posted twice.
        let posted_once = scalar(&db.url, entries).await;
        let old = b.wait("html").await;
        b.client.back().await.unwrap();
        while old.tag_name().await.is_ok() {
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert!(
            b.path().await.contains("/confirm?cash="),
            "{}",
            b.path().await
        );
        let decided = b.text("#decide-error").await;
        assert!(decided.contains("đã được"), "{decided}");
        assert_eq!(scalar(&db.url, entries).await, posted_once);
        b.client.forward().await.unwrap();
        let result = b.text("#approval-result").await;
        assert!(b.text("#discrepancy").await.contains("Thiếu 20.000 ₫"));
        assert!(
            result.contains("2 bản ghi được duyệt, 1 bị loại; 3 bút toán"),
            "{result}"
        );
        let records = b.text("#records").await;
        assert!(
            records.contains("Đã ghi sổ")
                && records.contains("Bị loại")
                && records.contains("Đề nghị đảo")
                && records.contains("suất quà"),
            "{records}"
        );
        b.shot_full("batch-approved", 1280).await;
        let posted = scalar(&db.url, entries).await;
        assert_eq!(
            posted - entries_before,
            3,
            "two repayments and the settlement; the gift was excluded"
        );

        // The loan's balance moved by what was collected.
        b.submit("#affected-loans a", "#outstanding").await;
        let after = b.text("#outstanding").await;
        let amount = |s: &str| -> i64 {
            s.chars()
                .filter(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .unwrap()
        };
        assert_eq!(amount(&before) - amount(&after), cash, "{before} → {after}");

        // Today's collections: on the page, then downloaded as XLSX and read back.
        b.go("/").await;
        b.submit("nav.main a[href='/reports']", "#reports").await;
        b.submit(
            "#reports a[href='/reports/daily-collections']",
            "#sheet-by_officer",
        )
        .await;
        let officers = b.text("#sheet-by_officer").await;
        assert!(officers.contains("Võ Thị Lan"), "{officers}");
        assert!(officers.contains(&vnd(cash)), "{officers}");
        assert!(officers.contains("-20.000 ₫"), "{officers}");
        b.shot_full("report-daily", 1280).await;
        let (file, bytes) = b.download("#download-xlsx").await;
        assert!(
            file.starts_with("daily-collections") && file.ends_with(".xlsx"),
            "{file}"
        );
        check_collections_xlsx(&bytes, cash, -20_000);

        // The same approval sent again is refused, and nothing posts twice.
        b.go(&batch_path).await;
        b.wait("#records").await;
        assert!(
            !b.exists("#approve-form").await,
            "no form on a decided batch"
        );
        let script = format!(
            "const f = document.createElement('form'); f.method = 'post'; \
             f.action = '{batch_path}/approve'; \
             for (const [k, v] of new URLSearchParams('{resend}')) {{ \
               const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i); }} \
             document.body.appendChild(f); f.submit();"
        );
        let old = b.wait("html").await;
        b.client.execute(&script, vec![]).await.unwrap();
        while old.tag_name().await.is_ok() {
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let refused = b.text("#decide-error").await;
        assert!(
            refused.contains("đã được Lê Thị Hồng Nhung duyệt"),
            "{refused}"
        );
        assert_eq!(scalar(&db.url, entries).await, posted);
        // A rejection from a tab left open is refused at once, with the
        // decision: no confirmation of something that cannot happen.
        let script = format!(
            "const f = document.createElement('form'); f.method = 'post'; \
             f.action = '{batch_path}/reject'; \
             for (const [k, v] of new URLSearchParams('{resend}&reject_reason=Sai')) {{ \
               const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i); }} \
             document.body.appendChild(f); f.submit();"
        );
        let old = b.wait("html").await;
        b.client.execute(&script, vec![]).await.unwrap();
        while old.tag_name().await.is_ok() {
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert!(
            !b.exists("#reject-confirmation").await,
            "{}",
            b.body().await
        );
        let refused = b.text("#decide-error").await;
        assert!(
            refused.contains("đã được Lê Thị Hồng Nhung duyệt"),
            "{refused}"
        );

        // A second batch: a rejection needs a reason.
        let base = server.base.clone();
        tokio::task::spawn_blocking(move || {
            let hit = phone.book.search("thi".into(), 1).unwrap().remove(0);
            phone
                .book
                .record_visit(sotay_core::VisitInput {
                    worker_id: hit.worker_id,
                    purpose: sotay_core::VisitPurpose::HardshipVisit,
                    outcome: "Đã gặp".into(),
                    notes: "Chồng nằm viện, đề nghị xét hỗ trợ Mái ấm".into(),
                    location: None,
                    recorded_at: chrono::Utc::now(),
                })
                .unwrap();
            let report = phone.book.sync(None).unwrap();
            assert_eq!(report.accepted, 1, "{base}: {report:?}");
        })
        .await
        .unwrap();
        b.go("/batches").await;
        b.submit("#batches tbody tr a", "#reject-form").await;
        // What the officer found and noted is read before deciding.
        assert!(b.text(".visit-outcome").await.contains("Kết quả: Đã gặp"));
        assert!(b
            .text(".visit-notes")
            .await
            .contains("đề nghị xét hỗ trợ Mái ấm"));
        b.fill("#reject_reason", "   ").await;
        b.submit("#reject-form button[type=submit]", "#reject-error")
            .await;
        assert!(b
            .text("#reject-error")
            .await
            .contains("Cần ghi lý do từ chối"));
        assert_eq!(
            scalar(&db.url, "SELECT COUNT(*) FROM batch_reviews").await,
            1
        );
        b.fill("#reject_reason", "Thiếu ảnh chụp biên bản thăm hỏi")
            .await;
        // Not undone: the page says what follows first.
        b.submit("#reject-form button[type=submit]", "#reject-confirmation")
            .await;
        assert!(b
            .text("#reject-reason-shown")
            .await
            .contains("Thiếu ảnh chụp biên bản"));
        // Going back keeps the reason as typed.
        b.submit("#reject-confirm-form button[value=edit]", "#reject-form")
            .await;
        assert!(b
            .text("#reject_reason")
            .await
            .contains("Thiếu ảnh chụp biên bản thăm hỏi"));
        b.submit("#reject-form button[type=submit]", "#reject-confirmation")
            .await;
        assert_eq!(
            scalar(&db.url, "SELECT COUNT(*) FROM batch_reviews").await,
            1
        );
        b.submit("#reject-confirm-form button[type=submit]", "#reject-result")
            .await;
        assert!(b
            .text("#decision-reason")
            .await
            .contains("Thiếu ảnh chụp biên bản"));
        let old = b.wait("html").await;
        b.client.back().await.unwrap();
        while old.tag_name().await.is_ok() {
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert!(
            b.path().await.contains("/reject?reject_reason="),
            "{}",
            b.path().await
        );
        let decided = b.text("#decide-error").await;
        assert!(decided.contains("từ chối"), "{decided}");
        b.go("/batches").await;
        assert!(b.text("main").await.contains("Không có lô nào chờ duyệt"));
        b.go("/batches?status=rejected").await;
        assert_eq!(
            b.client
                .find_all(Locator::Css("#batches tbody tr"))
                .await
                .unwrap()
                .len(),
            1
        );
        // The tab says how many it holds.
        assert_eq!(b.text("#batches-count").await, "1 lô đã từ chối");
        b.go("/batches?status=approved&lang=en").await;
        assert!(b.text("#batches").await.contains("Approved"));
        // With the cash counted.
        assert!(b.text("#batches .counted").await.starts_with("counted "));
        b.go("/?lang=vi").await;

        // Another branch's supervisor does not see the batch at all.
        let other = http_sign_in(&http, &server, "giamsat.binhtan").await;
        let resp = http
            .get(server.url(&batch_path))
            .header(COOKIE, &other)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        let list = http
            .get(server.url("/batches?status=all"))
            .header(COOKIE, &other)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!list.contains("Võ Thị Lan"), "{list}");
        // An admin sees every branch's batches.
        let admin = http_sign_in(&http, &server, "admin").await;
        let list = http
            .get(server.url("/batches?status=all"))
            .header(COOKIE, &admin)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            list.contains("Võ Thị Lan") && list.contains("Chi nhánh Thủ Đức"),
            "{list}"
        );

        // Lan pays the 20.000 ₫ she was short back into the vault.
        b.go("/ledger").await;
        let owed = b.text("#over-short-list").await;
        assert!(
            owed.contains("thiếu 20.000 ₫") && owed.contains("cán bộ nợ chi nhánh"),
            "{owed}"
        );
        let vault = "SELECT CAST(COALESCE(SUM(debit - credit), 0) AS BIGINT) FROM journal_lines WHERE account = 'vault'";
        let vault_before = scalar(&db.url, vault).await;
        // More than she owes: refused, on the same page, what was typed kept.
        b.fill("#over-short-list input[name=amount]", "25.000")
            .await;
        b.fill(
            "#over-short-list input[name=note]",
            "Nộp bù tiền thiếu lô hôm nay",
        )
        .await;
        b.submit("#over-short-list button[type=submit]", "#over-short-error")
            .await;
        let refused = b.text("#over-short-error").await;
        assert!(refused.contains("20.000 ₫"), "{refused}");
        let kept = b
            .wait("#over-short-list input[name=note]")
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(kept, "Nộp bù tiền thiếu lô hôm nay");
        // The branch's cashier takes the cash she pays back: to the
        // cashier, the ledger is the officers' cash short or over alone.
        let cashier = http_sign_in(&http, &server, "thuquy.thuduc").await;
        let html = http
            .get(server.url("/ledger"))
            .header(COOKIE, &cashier)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("Thừa/thiếu quỹ của cán bộ")
                && html.contains("thiếu 20.000 ₫")
                && !html.contains("id=\"balances\""),
            "{html}"
        );
        let action = &html[html.find("action=\"/ledger/over-short/").expect("the form")..];
        let action = action["action=\"".len()..action.find('#').unwrap()].to_string();
        let (status, to, page) = send_form(
            &http,
            &server,
            action,
            vec![
                ("csrf", field(&html, "csrf")),
                ("client_id", field(&html, "client_id")),
                ("branch_id", field(&html, "branch_id")),
                ("view_branch", String::new()),
                ("amount", "20.000".to_string()),
                ("note", "Nộp bù tiền thiếu lô hôm nay".to_string()),
                ("method", "cash".to_string()),
            ],
            cashier.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        let to = to.unwrap();
        // The cashier's page offers no reversal (a supervisor's to ask).
        let html = http
            .get(server.url(&to))
            .header(COOKIE, &cashier)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("id=\"over-short-settlements\"") && !html.contains("/reversals/new"),
            "{html}"
        );
        b.go(&to).await;
        let done = b.text("#over-short-result").await;
        assert!(
            done.contains("nộp bù 20.000 ₫ vào quỹ tiền mặt") && done.contains("đã thanh toán hết"),
            "{done}"
        );
        assert!(
            !b.exists("#over-short-list").await,
            "nothing is left to settle"
        );
        assert!(
            b.text("#over-short-settlements")
                .await
                .contains("Đề nghị đảo"),
            "its entry may be reversed"
        );
        assert_eq!(scalar(&db.url, vault).await - vault_before, 20_000);
        b.close().await;
        println!(
            "{backend:?}: batch review in Chromium passed in {} ms",
            started.elapsed().as_millis()
        );
    }
}

/// The daily collections workbook: the officers' sheet has Vietnamese
/// headers, number cells for money and a totals row with what was collected
/// and the shortage.
fn check_collections_xlsx(bytes: &[u8], collected: i64, over_short: i64) {
    use calamine::{open_workbook_from_rs, Data, DataType, Reader, Xlsx};
    let mut book: Xlsx<_> =
        open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("an XLSX workbook");
    let names = book.sheet_names();
    let sheet = names
        .iter()
        .find(|n| n.contains("cán bộ"))
        .unwrap_or_else(|| panic!("a sheet per officer in {names:?}"))
        .clone();
    let range = book.worksheet_range(&sheet).expect("the officers' sheet");
    let rows: Vec<&[Data]> = range.rows().collect();
    let header: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("column {name} in {header:?}"))
    };
    let (c_collected, c_over_short) = (col("Đã thu (đã duyệt)"), col("Thừa (+) / thiếu (-)"));
    let lan = rows
        .iter()
        .find(|r| r.iter().any(|c| c.get_string() == Some("Võ Thị Lan")))
        .expect("the officer's row");
    assert!(
        matches!(lan[c_collected], Data::Float(_) | Data::Int(_)),
        "money is a number cell: {:?}",
        lan[c_collected]
    );
    assert_eq!(lan[c_collected].as_i64(), Some(collected));
    assert_eq!(lan[c_over_short].as_i64(), Some(over_short));
    assert!(
        matches!(lan[0], Data::DateTime(_)),
        "the day is a date cell: {:?}",
        lan[0]
    );
    let totals = rows.last().expect("a totals row");
    assert_eq!(totals[0].get_string(), Some("Tổng cộng"));
    assert_eq!(totals[c_collected].as_i64(), Some(collected));
    assert_eq!(totals[c_over_short].as_i64(), Some(over_short));
}

/// Cookies and headers as a deployment needs them, without a browser.
#[tokio::test]
async fn console_cookies_forms_and_headers() {
    let _turn = sotay_tests::one_at_a_time();
    let http = no_redirects();
    let db = fresh_database(Backend::Sqlite).await;
    let server = Server::start(&db.url, &["--demo"]).await;

    let page = http.get(server.url("/login")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let headers = page.headers().clone();
    let login = set_cookie(&page, "__Host-sotay_login").unwrap();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Secure"] {
        assert!(login.contains(attr), "{login}");
    }
    assert!(headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    assert_eq!(headers["cache-control"], "no-store");

    // Signing in sets a Secure, HttpOnly, SameSite=Strict session cookie.
    let token = cookie_value(&login);
    let resp = http
        .post(server.url("/login"))
        .header(COOKIE, format!("__Host-sotay_login={token}"))
        .form(&[
            ("username", "admin"),
            ("password", PASSWORD),
            ("csrf", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/");
    let session = set_cookie(&resp, "__Host-sotay_session").unwrap();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Secure"] {
        assert!(session.contains(attr), "{session}");
    }
    let cookie = format!("__Host-sotay_session={}", cookie_value(&session));

    // The sign-in form without its cookie, or with another token, is refused.
    let resp = http
        .post(server.url("/login"))
        .form(&[
            ("username", "admin"),
            ("password", PASSWORD),
            ("csrf", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.text().await.unwrap().contains("cookie"));
    let resp = http
        .post(server.url("/login"))
        .header(COOKIE, format!("__Host-sotay_login={token}"))
        .form(&[
            ("username", "admin"),
            ("password", PASSWORD),
            ("csrf", "forged"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    // Every POST of a session needs the session's token.
    for (path, form) in [
        ("/logout", vec![]),
        ("/devices/nothing-here-01/revoke", vec![("reason", "x")]),
        (
            "/batches/0190a5f0-0000-7000-8000-000000000000/approve",
            vec![("cash", "1000"), ("action", "post")],
        ),
        (
            "/batches/0190a5f0-0000-7000-8000-000000000000/reject",
            vec![("reject_reason", "x")],
        ),
    ] {
        let resp = http
            .post(server.url(path))
            .header(COOKIE, &cookie)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let import = reqwest::multipart::Form::new()
        .text("kind", "branches")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"code,name\n".to_vec()).file_name("branches.csv"),
        );
    let resp = http
        .post(server.url("/imports"))
        .header(COOKIE, &cookie)
        .multipart(import)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let home = http
        .get(server.url("/"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), StatusCode::OK, "the session survived");
    // Signed out in another tab: this one's next page says so (not that
    // the session timed out).
    let csrf = field(&home.text().await.unwrap(), "csrf");
    let resp = http
        .post(server.url("/logout"))
        .header(COOKIE, &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let resp = http
        .get(server.url("/batches"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let to = resp.headers()[LOCATION].to_str().unwrap().to_string();
    assert_eq!(to, "/login?next=%2Fbatches&ended=out");
    let page = http.get(server.url(&to)).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(
        page.contains("đăng xuất ở một thẻ hoặc cửa sổ khác"),
        "{page}"
    );

    // Without a session, pages send the browser to sign in.
    let resp = http.get(server.url("/audit?page=2")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/login?next=%2Faudit%3Fpage%3D2");
    // A form sent once the session has gone did nothing: the sign-in page
    // says so, and leads back to the batch (its confirmation has no page).
    let batch = "/batches/0190a5f0-0000-7000-8000-000000000000";
    let resp = http
        .post(server.url(&format!("{batch}/approve")))
        .header(
            reqwest::header::REFERER,
            server.url(&format!("{batch}/confirm")),
        )
        .form(&[("cash", "1000"), ("action", "post")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let to = resp.headers()[LOCATION].to_str().unwrap().to_string();
    assert_eq!(
        to,
        "/login?next=%2Fbatches%2F0190a5f0-0000-7000-8000-000000000000&unsent=1"
    );
    let page = http.get(server.url(&to)).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("chưa có gì được ghi lại"), "{page}");
    // The API keeps answering problem details.
    let resp = http
        .get(server.url("/api/v1/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    drop(server);

    // Plain-HTTP trials: no Secure, no __Host- prefix.
    let db = fresh_database(Backend::Sqlite).await;
    let server = Server::start_with_env(
        &db.url,
        "127.0.0.1:0",
        &[],
        &[("SOTAY_CONSOLE_SECURE_COOKIES", "false")],
    )
    .await;
    let page = http.get(server.url("/login?lang=en")).send().await.unwrap();
    let login = set_cookie(&page, "sotay_login").expect("plain cookie name");
    assert!(!login.contains("Secure"), "{login}");
    assert!(set_cookie(&page, "sotay_lang")
        .unwrap()
        .starts_with("sotay_lang=en"));
    assert!(page.text().await.unwrap().contains("Sign in"));
}

/// The value of the form field `name` in a page (hidden inputs included).
fn field(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("no field {name} in the page"));
    let rest = &html[at..];
    let value = &rest[rest.find("value=\"").expect("a value") + 7..];
    value[..value.find('"').unwrap()].to_string()
}

/// A console page: its status, where it redirects, its HTML.
async fn page(
    http: &reqwest::Client,
    server: &Server,
    path: String,
    cookie: String,
) -> (StatusCode, Option<String>, String) {
    answer(
        http.get(server.url(&path))
            .header(COOKIE, cookie)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// A console form posted: its status, where it redirects, its HTML.
async fn send_form(
    http: &reqwest::Client,
    server: &Server,
    path: String,
    form: Vec<(&'static str, String)>,
    cookie: String,
) -> (StatusCode, Option<String>, String) {
    post_any(http, server, path, &form, cookie).await
}

/// A form of any pairs posted with the session `cookie`: its answer.
async fn post_any<T: serde::Serialize + ?Sized>(
    http: &reqwest::Client,
    server: &Server,
    path: String,
    form: &T,
    cookie: String,
) -> (StatusCode, Option<String>, String) {
    answer(
        http.post(server.url(&path))
            .header(COOKIE, cookie)
            .form(form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn answer(resp: reqwest::Response) -> (StatusCode, Option<String>, String) {
    let status = resp.status();
    let location = resp
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_string());
    (status, location, resp.text().await.unwrap())
}

#[tokio::test]
async fn an_admin_deactivates_an_officer_who_left_and_sets_a_forgotten_password() {
    let _turn = sotay_tests::one_at_a_time();
    let http = no_redirects();
    for backend in BACKENDS {
        let db = fresh_database(backend).await;
        let server = Server::start(&db.url, &["--demo"]).await;
        let get = |path: String, cookie: String| page(&http, &server, path, cookie);
        let post = |path: String, form: Vec<(&'static str, String)>, cookie: String| {
            send_form(&http, &server, path, form, cookie)
        };
        let api_login = |password: &'static str| {
            http.post(server.url("/api/v1/auth/login"))
                .json(&json!({"username": "canbo.lan", "password": password,
                              "device_id": uuid::Uuid::now_v7().to_string(), "device_name": "Điện thoại"}))
                .send()
        };
        let phone = uuid::Uuid::now_v7().to_string();
        let session = api_token(&http, &server, "canbo.lan", &phone, "Điện thoại của Lan").await;
        let lan = scalar(&db.url, "SELECT id FROM users WHERE username = 'canbo.lan'").await;
        // Her last visit went up and waits for review.
        let token = session["access_token"].as_str().unwrap().to_string();
        let portfolio = api_get(&http, &server, "/api/v1/sync/changes", &token).await;
        let batch = json!({"batch_id": uuid::Uuid::now_v7(), "device_id": phone, "records": [{
            "client_id": uuid::Uuid::now_v7(), "device_id": phone, "device_seq": 1,
            "recorded_at": chrono::Utc::now(), "kind": "visit",
            "payload": {"worker_id": portfolio["workers"][0]["id"], "purpose": "other",
                        "outcome": "Đã gặp", "notes": "", "location": null}}]});
        let resp = http
            .post(server.url("/api/v1/sync/batches"))
            .bearer_auth(&token)
            .json(&batch)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);

        // Administrators only.
        let supervisor = http_sign_in(&http, &server, "giamsat.thuduc").await;
        let (status, _, html) = get("/users".into(), supervisor.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
        assert!(
            !html.contains("href=\"/users\""),
            "not in a supervisor's menu"
        );
        let admin = http_sign_in(&http, &server, "admin").await;
        let (status, _, html) = get("/users".into(), admin.clone()).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("data-user=\"canbo.lan\""), "{html}");
        let csrf = field(&html, "csrf");
        // Found by a part of the name without diacritics, or by role.
        let (_, _, found) = get("/users?q=lan".into(), admin.clone()).await;
        assert!(
            found.contains("data-user=\"canbo.lan\"")
                && !found.contains("data-user=\"giamsat.thuduc\""),
            "{found}"
        );
        let (_, _, found) = get("/users?role=supervisor".into(), admin.clone()).await;
        assert!(
            found.contains("data-user=\"giamsat.thuduc\"")
                && !found.contains("data-user=\"canbo.lan\""),
            "{found}"
        );

        // Lan left: her account is deactivated, her phone revoked.
        let (status, to, html) = post(
            format!("/users/{lan}/deactivate"),
            vec![("csrf", csrf.clone()), ("reason", "Nghỉ việc".into())],
            admin.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
        let (_, _, html) = get(to.unwrap(), admin.clone()).await;
        assert!(html.contains("Đã khóa tài khoản của"), "{html}");
        // The admin is told what she still has waiting at the branch.
        assert!(
            html.contains("Họ còn 1 lô chờ duyệt, phải nộp 0 ₫"),
            "{html}"
        );
        // And that her workers wait to be given to another officer.
        let hers = scalar(
            &db.url,
            &format!("SELECT COUNT(*) FROM workers WHERE officer_id = {lan}"),
        )
        .await;
        assert!(hers > 0);
        assert!(
            html.contains(&format!("Họ còn phụ trách {hers} người lao động (")),
            "{html}"
        );
        // And her row says so, until they are moved.
        let (_, _, html) = get("/users?q=canbo.lan".into(), admin.clone()).await;
        assert!(
            html.contains(&format!("còn phụ trách {hers} người lao động (")),
            "{html}"
        );
        // The audit log names the account by its person.
        let (_, _, audit) = get("/audit?action=user_deactivate".into(), admin.clone()).await;
        assert!(
            audit.contains("href=\"/users?q=canbo.lan\">Võ Thị Lan</a>"),
            "{audit}"
        );
        // With when, by whom and why it was locked.
        assert!(
            html.contains("class=\"closed-by\">khóa ngày ")
                && html.contains(" bởi Trương Minh Quân (admin): Nghỉ việc"),
            "{html}"
        );
        let revoked = scalar(
            &db.url,
            &format!(
                "SELECT COUNT(*) FROM devices WHERE id = '{phone}' AND revoked_at IS NOT NULL"
            ),
        )
        .await;
        assert_eq!(revoked, 1);
        // Revoked with her account, her phone may still be reported lost,
        // to stay revoked when the account reopens.
        let (_, _, html) = get("/devices".into(), admin.clone()).await;
        assert!(
            html.contains(&format!("href=\"/devices/{phone}/revoke\""))
                && html.contains("Báo mất…"),
            "{html}"
        );
        let (_, _, html) = get(format!("/devices/{phone}/revoke"), admin.clone()).await;
        assert!(
            html.contains("id=\"revoked-with-account\"") && html.contains("id=\"revoke-form\""),
            "{html}"
        );
        let resp = api_login("sotay-demo-2026").await.unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        // A forged form changes nothing; a short password is refused on the
        // page, next to her row.
        let (status, _, _) = post(
            format!("/users/{lan}/activate"),
            vec![("csrf", "forged".into())],
            admin.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _, html) = post(
            format!("/users/{lan}/password"),
            vec![("csrf", csrf.clone()), ("password", "ngan".into())],
            admin.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
        assert!(
            html.contains("id=\"user-error\"") && html.contains("ít nhất 8 ký tự"),
            "{html}"
        );

        // She comes back and forgot her password.
        for (path, form) in [
            (
                "password",
                vec![
                    ("csrf", csrf.clone()),
                    ("password", "mat-khau-moi-2026".to_string()),
                ],
            ),
            ("activate", vec![("csrf", csrf.clone())]),
        ] {
            let (status, to, html) =
                post(format!("/users/{lan}/{path}"), form, admin.clone()).await;
            assert_eq!(status, StatusCode::SEE_OTHER, "{path}: {html}");
            assert!(to.unwrap().contains("done="), "{path}");
        }
        assert_eq!(
            api_login("sotay-demo-2026").await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            api_login("mat-khau-moi-2026").await.unwrap().status(),
            StatusCode::OK
        );
        let audited = scalar(
            &db.url,
            "SELECT COUNT(*) FROM audit_log WHERE action IN ('user_deactivate', 'user_set_password', 'user_activate')",
        )
        .await;
        assert_eq!(audited, 3, "{backend:?}");
    }
}

#[tokio::test]
async fn a_repayment_refused_at_upload_shows_on_the_queue_with_its_cash() {
    use rust_decimal::Decimal;
    let _turn = sotay_tests::one_at_a_time();
    let http = no_redirects();
    for backend in BACKENDS {
        let db = fresh_database(backend).await;
        let server = Server::start(&db.url, &["--demo"]).await;
        // Offline, Lan takes 50.000 ₫ on a loan...
        let (phone, loan) = lan_with_an_open_loan(&server, 100_000);
        let receipt = phone
            .book
            .record_repayment(sotay_core::RepaymentInput {
                loan_id: loan.loan_id,
                amount: Decimal::from(50_000),
                recorded_at: chrono::Utc::now(),
            })
            .unwrap()
            .receipt_no;
        // ... while the worker pays the whole loan off at the branch.
        let id = scalar(
            &db.url,
            &format!("SELECT id FROM loans WHERE code = '{}'", loan.contract_no),
        )
        .await;
        let owed = scalar(
            &db.url,
            &format!(
                "SELECT CAST(SUM(principal_due - principal_paid + interest_due - interest_paid) AS BIGINT) \
                 FROM installments WHERE loan_id = {id}"
            ),
        )
        .await;
        let token = api_token(&http, &server, "giamsat.thuduc", "counter-pc-1", "Máy quầy").await
            ["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        let resp = http
            .post(server.url(&format!("/api/v1/loans/{id}/repayments")))
            .bearer_auth(&token)
            .json(&json!({"client_id": uuid::Uuid::now_v7(), "amount": owed.to_string(), "note": "Tất toán tại quầy"}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            StatusCode::OK,
            "{}",
            resp.text().await.unwrap()
        );
        let report = phone.book.sync(None).expect("sync");
        assert_eq!(report.rejected, 1, "{report:?}");

        // The supervisor's queue shows the cash Lan holds, with its receipt.
        let supervisor = http_sign_in(&http, &server, "giamsat.thuduc").await;
        // Home says what waits, the refused cash among it.
        let (_, _, home) = page(&http, &server, "/".into(), supervisor.clone()).await;
        let at = home
            .find("id=\"waiting-refused\"")
            .unwrap_or_else(|| panic!("{home}"));
        assert!(
            home[at..].contains("<span class=\"number\">1</span>"),
            "{}",
            &home[at..at + 300]
        );
        assert!(
            home[at..].contains("50.000 ₫ tiền mặt cán bộ còn giữ"),
            "{}",
            &home[at..at + 600]
        );
        let (status, _, html) = page(&http, &server, "/batches".into(), supervisor.clone()).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        let at = html
            .find("id=\"refused-repayments\"")
            .unwrap_or_else(|| panic!("{backend:?}: {html}"));
        let section = &html[at..];
        assert!(section.contains(&receipt), "{section}");
        assert!(section.contains("50.000"), "{section}");
        // With the way to take that cash at the counter, settling the record.
        assert!(
            section.contains("Nộp tiền này tại quầy") && section.contains("settles="),
            "{section}"
        );
        assert!(section.contains(&loan.contract_no), "{section}");
        // The loan's page says so too, to the supervisor and the cashier:
        // the borrower paid that cash to Lan.
        let cashier = http_sign_in(&http, &server, "thuquy.thuduc").await;
        for (who, next) in [
            (supervisor.clone(), "đánh dấu đã xử lý"),
            (cashier.clone(), "hãy báo giám sát chi nhánh"),
        ] {
            let (status, _, html) = page(&http, &server, format!("/loans/{id}"), who).await;
            assert_eq!(status, StatusCode::OK, "{html}");
            let at = html
                .find("id=\"refused-held\"")
                .unwrap_or_else(|| panic!("{backend:?}: {html}"));
            let notice = &html[at..at + 2000.min(html.len() - at)];
            assert!(
                notice.contains(&receipt) && notice.contains("50.000 ₫") && notice.contains(next),
                "{notice}"
            );
        }
        // Lan gave the money back: the supervisor says so on the queue,
        // and it leaves the list.
        let refused_id = {
            let at =
                section.find("data-refused=\"").expect("a refused row") + "data-refused=\"".len();
            section[at..at + 36].to_string()
        };
        let (status, to, _) = send_form(
            &http,
            &server,
            format!("/refused/{refused_id}/settle"),
            vec![
                ("csrf", field(&html, "csrf")),
                ("note", "Đã trả lại người vay".to_string()),
                ("back", "/batches?status=pending".to_string()),
            ],
            supervisor.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let to = to.unwrap();
        assert!(to.starts_with("/batches?status=pending&settled=1"), "{to}");
        let (_, _, html) = page(&http, &server, to, supervisor.clone()).await;
        assert!(!html.contains(&refused_id), "settled, off the list: {html}");
        let (_, _, loan_page) = page(&http, &server, format!("/loans/{id}"), cashier.clone()).await;
        assert!(
            !loan_page.contains("id=\"refused-held\""),
            "settled: {loan_page}"
        );
        assert!(
            html.contains("id=\"settled-result\"") && html.contains("Đã đánh dấu đã xử lý"),
            "the page says it was done: {html}"
        );
        // Lan's phone does not count it as cash to hand over.
        let today = sotay_core::domain::time::local_date(chrono::Utc::now());
        let summary = phone.book.daily_summary(today).unwrap();
        assert_eq!(summary.cash_refused, Decimal::from(50_000));
        assert_eq!(
            summary.cash_to_hand_over,
            summary.cash_collected - Decimal::from(50_000)
        );

        // Another loan's repayment goes up and waits for review: its page
        // shows it, and what the counter may still take.
        let other = phone
            .book
            .search("thi".into(), 200)
            .unwrap()
            .iter()
            .flat_map(|h| phone.book.worker_detail(h.worker_id).unwrap().loans)
            .find(|l| {
                l.status == "active"
                    && l.balance > Decimal::from(100_000)
                    && l.contract_no != loan.contract_no
            })
            .expect("another open loan");
        let waiting = phone
            .book
            .record_repayment(sotay_core::RepaymentInput {
                loan_id: other.loan_id,
                amount: Decimal::from(70_000),
                recorded_at: chrono::Utc::now(),
            })
            .unwrap()
            .receipt_no;
        let report = phone.book.sync(None).expect("sync");
        assert_eq!(report.accepted, 1, "{report:?}");
        let other_id = scalar(
            &db.url,
            &format!("SELECT id FROM loans WHERE code = '{}'", other.contract_no),
        )
        .await;
        let (status, _, html) = page(
            &http,
            &server,
            format!("/loans/{other_id}"),
            supervisor.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{html}");
        let at = html
            .find("id=\"pending-collections\"")
            .expect("pending shown");
        assert!(html[at..].contains("70.000 ₫"), "{html}");
        assert!(html.contains(&waiting), "{html}");
        assert!(html.contains("id=\"counter-room\""), "{html}");
        // The refused receipt's link opened on this loan: the waiting
        // receipt was recorded after it, and may be it entered again;
        // settled already, the page says that instead.
        let (_, _, linked) = page(
            &http,
            &server,
            format!(
                "/loans/{other_id}?amount=70000&settles={refused_id}&settles_receipt={receipt}"
            ),
            supervisor.clone(),
        )
        .await;
        assert!(
            linked.contains("id=\"settled-already\"") && !linked.contains("id=\"entered-again\""),
            "{linked}"
        );
        // The receipt's number comes from the record, not from the link.
        let (_, _, tampered) = page(
            &http,
            &server,
            format!(
                "/loans/{other_id}?amount=70000&settles={refused_id}&settles_receipt=ZZZZ-000999"
            ),
            supervisor.clone(),
        )
        .await;
        assert!(
            tampered.contains(&format!("Phiếu {receipt} đã được"))
                && !tampered.contains("hiếu ZZZZ-000999"),
            "{backend:?}: {tampered}"
        );
    }
}

/// A receipt left out at approval keeps its cash with the officer: a count
/// that holds that cash anyway is questioned before anything posts (the
/// counter would take it into the vault a second time).
#[tokio::test]
async fn a_count_holding_a_left_out_receipts_cash_is_questioned() {
    use rust_decimal::Decimal;
    let _turn = sotay_tests::one_at_a_time();
    let http = no_redirects();
    let db = fresh_database(Backend::Sqlite).await;
    let server = Server::start(&db.url, &["--demo"]).await;
    let (phone, loan) = lan_with_an_open_loan(&server, 200_000);
    let pay = |amount: i64| {
        phone
            .book
            .record_repayment(sotay_core::RepaymentInput {
                loan_id: loan.loan_id,
                amount: Decimal::from(amount),
                recorded_at: chrono::Utc::now(),
            })
            .unwrap()
            .client_id
    };
    let (_kept, left_out) = (pay(60_000), pay(40_000));
    let more: Vec<uuid::Uuid> = (0..4).map(|_| pay(10_000)).collect();
    phone.book.sync(None).expect("sync");
    let token = api_token(
        &http,
        &server,
        "giamsat.thuduc",
        "review-pc-1",
        "Máy giám sát",
    )
    .await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let queue = api_get(&http, &server, "/api/v1/batches?status=pending", &token).await;
    let batch = queue[0]["batch_id"]
        .as_str()
        .expect("the batch")
        .to_string();
    let supervisor = http_sign_in(&http, &server, "giamsat.thuduc").await;
    let (_, _, html) = page(
        &http,
        &server,
        format!("/batches/{batch}"),
        supervisor.clone(),
    )
    .await;
    let csrf = field(&html, "csrf");
    let reason = format!("reason-{left_out}");
    for (cash, questioned) in [("140.000", true), ("100.000", false)] {
        let form = [
            ("csrf", csrf.as_str()),
            ("cash", cash),
            ("exclude", &left_out.to_string()),
            (reason.as_str(), "Người vay chưa ký"),
        ];
        let (status, to, _) = post_any(
            &http,
            &server,
            format!("/batches/{batch}/confirm"),
            &form,
            supervisor.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{cash}");
        let (status, _, html) = page(&http, &server, to.unwrap(), supervisor.clone()).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert_eq!(
            html.contains("id=\"excluded-cash-check\""),
            questioned,
            "{cash}: {html}"
        );
        if questioned {
            assert!(
                html.contains("các phiếu bị loại có 40.000 ₫ (đúng bằng số thừa)"),
                "{html}"
            );
        }
    }
    // Reasons long enough that their address would pass what a proxy
    // takes: the confirmation is the answer to the form itself.
    let long = "Người vay chưa ký biên bản, hẹn lại tuần sau. ".repeat(12);
    let all: Vec<(String, String)> = [_kept, left_out]
        .into_iter()
        .chain(more)
        .flat_map(|id| {
            [
                ("exclude".to_string(), id.to_string()),
                (format!("reason-{id}"), long.clone()),
            ]
        })
        .chain([
            ("csrf".to_string(), csrf.clone()),
            ("cash".to_string(), "0".to_string()),
        ])
        .collect();
    let (status, to, html) = post_any(
        &http,
        &server,
        format!("/batches/{batch}/confirm"),
        &all,
        supervisor.clone(),
    )
    .await;
    assert_eq!((status, to), (StatusCode::OK, None), "{html}");
    assert!(
        html.contains("id=\"confirm-form\"") && html.contains("0 được duyệt, 6 bị loại"),
        "{html}"
    );
    // A batch with cash to count leaves the count empty; one of visits
    // only has 0 filled in.
    let (_, _, html) = page(
        &http,
        &server,
        format!("/batches/{batch}"),
        supervisor.clone(),
    )
    .await;
    assert!(html.contains("id=\"cash\" type=\"text\" name=\"cash\" inputmode=\"numeric\" autocomplete=\"off\" value=\"\""), "{html}");
    phone
        .book
        .record_visit(sotay_core::VisitInput {
            worker_id: phone.book.search("thi".into(), 1).unwrap()[0].worker_id,
            purpose: sotay_core::VisitPurpose::Other,
            outcome: "Đã gặp".into(),
            notes: String::new(),
            location: None,
            recorded_at: chrono::Utc::now(),
        })
        .unwrap();
    phone.book.sync(None).expect("sync");
    let queue = api_get(&http, &server, "/api/v1/batches?status=pending", &token).await;
    let visits = queue
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["batch_id"].as_str().unwrap().to_string())
        .find(|b| *b != batch)
        .expect("the visits' batch");
    let (_, _, html) = page(
        &http,
        &server,
        format!("/batches/{visits}"),
        supervisor.clone(),
    )
    .await;
    assert!(html.contains("autocomplete=\"off\" value=\"0\""), "{html}");
}

/// A refused payment entered again is settled with the approval of the
/// batch that brings its cash, as the confirmation offers (ticked unless
/// the supervisor unticks it): it leaves the list of cash officers hold.
#[tokio::test]
async fn a_payment_entered_again_is_settled_with_its_approval() {
    use rust_decimal::Decimal;
    let _turn = sotay_tests::one_at_a_time();
    let http = no_redirects();
    let db = fresh_database(Backend::Sqlite).await;
    let server = Server::start(&db.url, &["--demo"]).await;
    let (phone, loan) = lan_with_an_open_loan(&server, 200_000);
    let pay_with_receipt = || {
        let r = phone
            .book
            .record_repayment(sotay_core::RepaymentInput {
                loan_id: loan.loan_id,
                amount: Decimal::from(70_000),
                recorded_at: chrono::Utc::now(),
            })
            .unwrap();
        phone.book.sync(None).expect("sync");
        (r.client_id, r.receipt_no)
    };
    let pay = || pay_with_receipt().0;
    let token = api_token(
        &http,
        &server,
        "giamsat.thuduc",
        "review-pc-2",
        "Máy giám sát",
    )
    .await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let first = pay();
    let rejected = reject_oldest(&http, &server, &token, "Thiếu tiền khi đếm").await;
    let again = pay();
    let queue = api_get(&http, &server, "/api/v1/batches?status=pending", &token).await;
    let batch = queue[0]["batch_id"].as_str().unwrap().to_string();
    assert_ne!(batch, rejected);

    let supervisor = http_sign_in(&http, &server, "giamsat.thuduc").await;
    // The loan page says the refused payment may be entered again, and
    // offers no counter form for it.
    let loan_id = scalar(
        &db.url,
        &format!(
            "SELECT loan_id FROM sync_records WHERE client_id = X'{}'",
            first.simple()
        ),
    )
    .await;
    let (_, _, html) = page(
        &http,
        &server,
        format!("/loans/{loan_id}"),
        supervisor.clone(),
    )
    .await;
    let held = &html[html.find("id=\"refused-held\"").expect("the refused list")..];
    let held = &held[..held.find("</div>").unwrap()];
    assert!(
        held.contains("class=\"entered-again\"") && !held.contains("counter-link"),
        "{held}"
    );
    let (_, _, html) = page(&http, &server, "/batches".into(), supervisor.clone()).await;
    assert!(
        html.contains(&format!("data-refused=\"{first}\"")),
        "{html}"
    );
    let (_, _, html) = page(
        &http,
        &server,
        format!("/batches/{batch}"),
        supervisor.clone(),
    )
    .await;
    let csrf = field(&html, "csrf");
    let confirm = confirmation_of(
        &http,
        &server,
        &batch,
        &[("csrf", csrf.as_str()), ("cash", "70.000")],
        supervisor.clone(),
    )
    .await;
    let pair = format!("{again}:{first}");
    assert!(
        confirm.contains("id=\"confirm-entered-again\"")
            && confirm.contains(&format!("value=\"{pair}\" checked")),
        "{confirm}"
    );
    let expected = field(&confirm, "expected");
    // A form that did not see the offer (an older page) posts nothing: the
    // confirmation is shown again, saying why.
    let (status, _, html) = post_any(
        &http,
        &server,
        format!("/batches/{batch}/approve"),
        &[
            ("csrf", csrf.as_str()),
            ("cash", "70.000"),
            ("expected", expected.as_str()),
            ("action", "post"),
        ],
        supervisor.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    assert!(
        html.contains("id=\"entered-again-problem\"")
            && html.contains(&format!("value=\"{pair}\" checked")),
        "{html}"
    );
    let (status, to, html) = post_any(
        &http,
        &server,
        format!("/batches/{batch}/approve"),
        &[
            ("csrf", csrf.as_str()),
            ("cash", "70.000"),
            ("expected", expected.as_str()),
            ("entered_again_asked", "1"),
            ("entered_again", pair.as_str()),
            ("entered_again_offered", pair.as_str()),
            ("action", "post"),
        ],
        supervisor.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert!(to.unwrap().ends_with("done=approved"));
    assert_eq!(
        settled_as(&db.url, first, "Đã ghi lại bằng phiếu ").await,
        1
    );
    // No longer cash the officer holds.
    let (_, _, html) = page(&http, &server, "/batches".into(), supervisor.clone()).await;
    assert!(
        !html.contains(&format!("data-refused=\"{first}\"")),
        "{html}"
    );

    // Another refused receipt whose cash the counter took, entered again:
    // a count short of exactly it says to leave it out.
    let third = pay();
    reject_oldest(&http, &server, &token, "Người vay chưa ký").await;
    let resp = http
        .post(server.url(&format!("/api/v1/loans/{loan_id}/repayments")))
        .bearer_auth(&token)
        .json(
            &json!({"client_id": uuid::Uuid::now_v7(), "amount": "70000", "note": "",
                      "settles_record": third}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let taken: Value = resp.json().await.unwrap();
    let taken_no = taken["receipt_no"].as_str().unwrap().to_string();
    let reentered = pay();
    let queue = api_get(&http, &server, "/api/v1/batches?status=pending", &token).await;
    let batch = queue[0]["batch_id"].as_str().unwrap().to_string();
    let confirm = confirmation_of(
        &http,
        &server,
        &batch,
        &[("csrf", csrf.as_str()), ("cash", "0")],
        supervisor.clone(),
    )
    .await;
    assert!(
        confirm.contains("id=\"short-taken-at-counter\"")
            && confirm.contains("id=\"confirm-taken-at-counter\"")
            && !confirm.contains("id=\"confirm-entered-again\""),
        "{confirm}"
    );
    // Approved as it stands, it would take that cash a second time: not
    // without the supervisor saying the borrower really paid again.
    let offered: Vec<(&str, String)> = values_of(&confirm, "entered_again_offered")
        .into_iter()
        .map(|v| ("entered_again_offered", v))
        .collect();
    assert_eq!(offered.len(), 1, "{confirm}");
    let distinct = field(&confirm, "distinct");
    let mut form: Vec<(&str, String)> = vec![
        ("csrf", csrf.clone()),
        ("cash", "0".into()),
        ("expected", field(&confirm, "expected")),
        ("entered_again_asked", "1".into()),
        ("action", "post".into()),
    ];
    form.extend(offered);
    let (status, _, html) = post_any(
        &http,
        &server,
        format!("/batches/{batch}/approve"),
        &form,
        supervisor.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    assert!(html.contains("id=\"entered-again-problem\""), "{html}");
    assert_eq!(distinct, reentered.to_string());
    // Gone back to leave it out, as the page says: the next confirmation
    // offers, ticked, to settle it as the cash the counter took.
    let mut back: Vec<(String, String)> = form
        .iter()
        .filter(|(k, _)| *k != "action" && *k != "expected")
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    back.push(("exclude".into(), reentered.to_string()));
    back.push((format!("reason-{reentered}"), "Đã thu tại quầy".into()));
    let confirm = confirmation_of(&http, &server, &batch, &back, supervisor.clone()).await;
    let pair = format!("{reentered}:{third}");
    assert!(
        confirm.contains(&format!("value=\"{pair}\" checked")),
        "{confirm}"
    );
    let mut form: Vec<(String, String)> = back
        .into_iter()
        .filter(|(k, _)| k != "entered_again_offered")
        .collect();
    form.push(("expected".into(), field(&confirm, "expected")));
    form.push(("action".into(), "post".into()));
    form.push(("entered_again".into(), pair.clone()));
    form.extend(
        values_of(&confirm, "entered_again_offered")
            .into_iter()
            .map(|v| ("entered_again_offered".to_string(), v)),
    );
    let (status, _, html) = post_any(
        &http,
        &server,
        format!("/batches/{batch}/approve"),
        &form,
        supervisor.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert_eq!(
        settled_as(&db.url, reentered, "Thu tại quầy, phiếu ").await,
        1
    );

    // A refused receipt whose cash the counter took with only a note
    // naming it: the queue and the loan's page say so, and the queue's
    // settle form is filled in with the counter receipt.
    let (fourth, receipt) = pay_with_receipt();
    reject_oldest(&http, &server, &token, "Người vay chưa ký").await;
    let resp = http
        .post(server.url(&format!("/api/v1/loans/{loan_id}/repayments")))
        .bearer_auth(&token)
        .json(
            &json!({"client_id": uuid::Uuid::now_v7(), "amount": "70000",
                      "note": format!("Tiền phiếu {receipt} của cán bộ")}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let counter: Value = resp.json().await.unwrap();
    let counter_no = counter["receipt_no"].as_str().unwrap().to_string();
    let (_, _, html) = page(&http, &server, "/batches".into(), supervisor.clone()).await;
    let row = &html[html
        .find(&format!("data-refused=\"{fourth}\""))
        .expect("listed")..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(
        row.contains("class=\"taken-at-counter\"")
            && row.contains(&format!("value=\"Thu tại quầy, phiếu {counter_no}\""))
            && !row.contains("counter-link"),
        "{row}"
    );
    let (_, _, html) = page(
        &http,
        &server,
        format!("/loans/{loan_id}"),
        supervisor.clone(),
    )
    .await;
    assert!(
        html.contains(&format!(
            "tiền đã thu tại quầy: phiếu {counter_no} ghi số phiếu này"
        )),
        "{html}"
    );
    // Its receipt says who handed the cash in: the officer, for the
    // borrower's payment on her refused receipt.
    let (_, _, slip) = page(
        &http,
        &server,
        format!("/counter/{}", counter["id"]),
        supervisor.clone(),
    )
    .await;
    let payer = &slip[slip.find("id=\"slip-payer\"").expect("the payer")..];
    let payer = &payer[..payer.find("</dd>").unwrap()];
    assert!(
        payer.contains(", cán bộ tín dụng, nộp tiền người vay")
            && payer.contains(&format!("đã trả theo phiếu {receipt}")),
        "{payer}"
    );
    // The counter receipt that settled a refused one offers no reversal,
    // nor does the reversal request's page, opened by its entry's number;
    // one whose note only names a refused receipt may still be reversed.
    assert!(html.contains("class=\"muted settling\""), "{html}");
    let entry = scalar(
        &db.url,
        &format!(
            "SELECT e.id FROM journal_entries e JOIN counter_repayments k ON k.id = e.counter_id \
             WHERE k.receipt_no = '{taken_no}'"
        ),
    )
    .await;
    let (status, _, html) = page(
        &http,
        &server,
        format!("/reversals/new?entry={entry}"),
        supervisor.clone(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        html.contains("id=\"not-reversible\"")
            && html.contains("không đảo được")
            && !html.contains("id=\"request-form\""),
        "{html}"
    );
    let entry = scalar(
        &db.url,
        &format!(
            "SELECT e.id FROM journal_entries e JOIN counter_repayments k ON k.id = e.counter_id \
             WHERE k.receipt_no = '{counter_no}'"
        ),
    )
    .await;
    let (_, _, html) = page(
        &http,
        &server,
        format!("/reversals/new?entry={entry}"),
        supervisor.clone(),
    )
    .await;
    assert!(
        html.contains("id=\"request-form\"") && !html.contains("id=\"not-reversible\""),
        "{html}"
    );

    // A batch entering a refused payment again, rejected in its turn: the
    // confirmation offers, ticked, to settle the re-entry as the same cash.
    let fifth = pay();
    reject_oldest(&http, &server, &token, "Người vay chưa ký").await;
    let sixth = pay();
    let queue = api_get(&http, &server, "/api/v1/batches?status=pending", &token).await;
    let batch = queue[0]["batch_id"].as_str().unwrap().to_string();
    let (status, to, html) = post_any(
        &http,
        &server,
        format!("/batches/{batch}/reject"),
        &[("csrf", csrf.as_str()), ("reject_reason", "Sai ngày thu")],
        supervisor.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    let (_, _, confirm) = page(&http, &server, to.unwrap(), supervisor.clone()).await;
    let pair = format!("{sixth}:{fifth}");
    assert!(
        confirm.contains("id=\"reject-entered-again\"")
            && confirm.contains(&format!("value=\"{pair}\" checked")),
        "{confirm}"
    );
    let mut form: Vec<(String, String)> = vec![
        ("csrf".into(), csrf.clone()),
        ("reject_reason".into(), "Sai ngày thu".into()),
        ("confirmed".into(), "1".into()),
        ("entered_again_asked".into(), "1".into()),
        ("entered_again".into(), pair),
    ];
    form.extend(
        values_of(&confirm, "entered_again_offered")
            .into_iter()
            .map(|v| ("entered_again_offered".to_string(), v)),
    );
    let (status, _, html) = post_any(
        &http,
        &server,
        format!("/batches/{batch}/reject"),
        &form,
        supervisor.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert_eq!(settled_as(&db.url, sixth, "Trùng phiếu ").await, 1);
    assert_eq!(settled_as(&db.url, fifth, "").await, 0);
}

#[tokio::test]
async fn cashier_takes_repayments_at_the_counter() {
    let _turn = sotay_tests::one_at_a_time();
    let http = no_redirects();
    for backend in BACKENDS {
        let db = fresh_database(backend).await;
        let server = Server::start(&db.url, &["--demo"]).await;
        let get = |path: String, cookie: String| page(&http, &server, path, cookie);
        let loan_of = |branch: &str| {
            format!(
                "SELECT MIN(l.id) FROM loans l JOIN workers w ON w.id = l.worker_id \
                 JOIN users u ON u.id = w.officer_id JOIN branches b ON b.id = u.branch_id \
                 WHERE b.code = '{branch}' AND l.status = 'active' \
                 AND NOT EXISTS (SELECT 1 FROM undecided_repayments u WHERE u.loan_id = l.id)"
            )
        };
        let loan = scalar(&db.url, &loan_of("CN-TD")).await;
        let elsewhere = scalar(&db.url, &loan_of("CN-BT")).await;
        let owed = scalar(
            &db.url,
            &format!(
                "SELECT CAST(SUM(principal_due - principal_paid + interest_due - interest_paid) AS BIGINT) \
                 FROM installments WHERE loan_id = {loan}"
            ),
        )
        .await;

        // The cashier of Thủ Đức signs in: home, workers and loans; the
        // supervisor's and the admin's pages are refused.
        let cashier = http_sign_in(&http, &server, "thuquy.thuduc").await;
        let (status, _, home) = get("/".into(), cashier.clone()).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        assert!(home.contains("Thủ quỹ chi nhánh"), "{home}");
        assert!(home.contains("Chưa có khoản thu nào tại quầy"), "{home}");
        assert!(
            !home.contains("href=\"/batches\""),
            "no batch review in a cashier's menu"
        );
        for path in ["/batches", "/devices", "/stock", "/audit", "/imports"] {
            let (status, _, page) = get(path.into(), cashier.clone()).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{backend:?} {path}");
            assert!(page.contains("Không có quyền"), "{path}: {page}");
        }
        // The reports: the cash books the cashier keeps, and only those.
        let (status, _, page) = get("/reports".into(), cashier.clone()).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(
            page.contains("/reports/vault-cash-book")
                && page.contains("/reports/bank-book")
                && !page.contains("/reports/daily-collections"),
            "{page}"
        );
        let (status, _, page) = get("/reports/vault-cash-book".into(), cashier.clone()).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("id=\"download-xlsx\""), "{page}");
        // On paper, with lines for the cashier and the supervisor to sign.
        assert!(
            page.contains("id=\"report-signatures\"") && page.contains("(Ký, ghi rõ họ tên)"),
            "{page}"
        );
        let (status, _, page) = get("/reports/daily-collections".into(), cashier.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
        let (status, _, page) = get("/workers?q=nguyen".into(), cashier.clone()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains("/workers/"),
            "the search finds the branch's workers"
        );

        // The loan's page carries the counter form.
        let (status, _, page) = get(format!("/loans/{loan}"), cashier.clone()).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("Thu nợ tại quầy"), "{page}");
        // Opened from a link to settle an officer's refused receipt: the
        // cashier takes the cash, the supervisor marks the record settled.
        let (status, _, linked) = get(
            format!("/loans/{loan}?amount=100000&settles=0190a5f0-0000-7000-8000-000000000001&settles_receipt=A7K2-000009"),
            cashier.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{linked}");
        assert!(
            linked.contains("báo giám sát") && !linked.contains("name=\"settles\""),
            "{linked}"
        );
        // The note names the refused receipt for the supervisor.
        assert!(
            linked.contains("Thay phiếu A7K2-000009 cán bộ đã thu"),
            "{linked}"
        );
        let (csrf, client_id) = (field(&page, "csrf"), field(&page, "client_id"));
        let post = |loan: i64, form: Vec<(&'static str, String)>, cookie: String| {
            send_form(
                &http,
                &server,
                format!("/loans/{loan}/repayments"),
                form,
                cookie,
            )
        };
        let form = |amount: &str, client: &str| {
            vec![
                ("csrf", csrf.clone()),
                ("client_id", client.to_string()),
                ("amount", amount.to_string()),
                ("note", "Trả tại quầy".to_string()),
            ]
        };

        // Taken: the browser goes to the loan's page with the receipt; the
        // same form sent again (a double click) takes nothing more.
        let (status, to, _) = post(loan, form("200.000", &client_id), cashier.clone()).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend:?}");
        let to = to.expect("a redirect");
        assert!(to.starts_with(&format!("/loans/{loan}?receipt=")), "{to}");
        let (status, again, _) = post(loan, form("200.000", &client_id), cashier.clone()).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(again.as_deref(), Some(to.as_str()), "the same receipt");
        // The sent form, back from the browser's history, typed again: it
        // says which receipt it recorded, and comes back as a new form.
        let (status, _, conflict) = post(loan, form("150.000", &client_id), cashier.clone()).await;
        assert_eq!(status, StatusCode::CONFLICT, "{conflict}");
        assert!(
            conflict.contains("đã ghi phiếu thu QUAY-CN-TD-000001 (200.000 ₫)"),
            "{conflict}"
        );
        let fresh = field(&conflict, "client_id");
        assert!(!fresh.is_empty() && fresh != client_id, "{conflict}");
        let (_, _, page) = get(to.clone(), cashier.clone()).await;
        assert!(
            page.contains("Đã ghi khoản thu 200.000 ₫") && page.contains("QUAY-CN-TD-000001"),
            "{page}"
        );
        // The refused receipt's link opened again: that cash was taken.
        let (_, _, again_linked) = get(
            format!("/loans/{loan}?amount=200000&settles=0190a5f0-0000-7000-8000-000000000001&settles_receipt=tại quầy"),
            cashier.clone(),
        )
        .await;
        assert!(
            again_linked.contains("id=\"taken-already\""),
            "{again_linked}"
        );
        assert!(
            !again_linked.contains("settle-by-counter"),
            "not a cashier's"
        );
        // A supervisor is offered to mark it settled by that receipt.
        let sup = http_sign_in(&http, &server, "giamsat.thuduc").await;
        let (_, _, linked) = get(
            format!("/loans/{loan}?amount=200000&settles=0190a5f0-0000-7000-8000-000000000001&settles_receipt=tại quầy"),
            sup,
        )
        .await;
        assert!(
            linked.contains("id=\"settle-by-counter\"")
                && linked.contains("value=\"Thu tại quầy, phiếu QUAY-CN-TD-000001 (200.000 ₫)\""),
            "{linked}"
        );
        // A link whose record is not a record id offers nothing to post
        // (a path in it would send the form elsewhere).
        let (_, _, crafted) = get(
            format!("/loans/{loan}?amount=200000&settles=..%2F..%2Fdisbursements%2F1%2Fapprove%3F&settles_receipt=tại quầy"),
            http_sign_in(&http, &server, "giamsat.thuduc").await,
        )
        .await;
        assert!(
            !crafted.contains("settle-by-counter")
                && !crafted.contains("disbursements/1/approve")
                && !crafted.contains("name=\"settles\""),
            "{crafted}"
        );
        assert!(page.contains(&format!(
            "Tổng còn phải trả: {}",
            sotay_core::domain::money::format_vnd(owed - 200_000)
        )));
        // Its receipt, to print: the amount in figures and in words, the
        // split between principal and interest; not another branch's.
        let receipt_id = to
            .split("receipt=")
            .nth(1)
            .unwrap()
            .split('#')
            .next()
            .unwrap();
        assert!(
            page.contains(&format!("href=\"/counter/{receipt_id}\"")),
            "{page}"
        );
        let (status, _, slip) = get(format!("/counter/{receipt_id}"), cashier.clone()).await;
        assert_eq!(status, StatusCode::OK, "{slip}");
        for text in [
            "PHIẾU THU",
            "QUAY-CN-TD-000001",
            "200.000 ₫",
            "Hai trăm nghìn đồng",
            "Ngô Thị Thu Hà",
        ] {
            assert!(slip.contains(text), "{text}: {slip}");
        }
        let split = scalar(
            &db.url,
            "SELECT CAST(SUM(l.credit) AS BIGINT) FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id \
             WHERE e.kind = 'counter_repayment' AND l.account IN ('loan_principal', 'interest_income')",
        )
        .await;
        assert_eq!(split, 200_000);
        let other = http_sign_in(&http, &server, "giamsat.binhtan").await;
        let (status, _, _) = get(format!("/counter/{receipt_id}"), other).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let count = |sql: &'static str| scalar(&db.url, sql);
        assert_eq!(count("SELECT COUNT(*) FROM counter_repayments").await, 1);
        assert_eq!(
            count("SELECT COUNT(*) FROM journal_entries WHERE kind = 'counter_repayment'").await,
            1
        );

        // Refused, with the reason, and nothing taken: more than is owed, a
        // decimal comma, another branch's loan, a form without its token.
        let fresh = || uuid::Uuid::now_v7().to_string();
        let (status, _, page) =
            post(loan, form(&format!("{}", owed), &fresh()), cashier.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert!(page.contains("id=\"counter-error\""), "{page}");
        let (status, _, page) = post(loan, form("1,5", &fresh()), cashier.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert!(page.contains("Số tiền thu"), "the field is named: {page}");
        assert!(
            page.contains("value=\"1,5\""),
            "what was typed stays: {page}"
        );
        let (status, _, _) = post(elsewhere, form("100.000", &fresh()), cashier.clone()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let mut forged = form("100.000", &fresh());
        forged[0].1 = "forged".into();
        let (status, _, _) = post(loan, forged, cashier.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(count("SELECT COUNT(*) FROM counter_repayments").await, 1);

        // Paid by transfer into the branch's account: the bank's reference
        // is asked for (what was chosen stays), then the receipt says how it
        // was paid and the money is in the bank account, not the vault.
        let transfer = |reference: &str, client: &str| {
            let mut f = form("100.000", client);
            f.push(("method", "transfer".to_string()));
            f.push(("transfer_ref", reference.to_string()));
            f
        };
        let bank_sql = "SELECT CAST(COALESCE(SUM(debit - credit), 0) AS BIGINT) FROM account_balances WHERE account = 'bank'";
        let bank = scalar(&db.url, bank_sql).await;
        let (status, _, page) = post(loan, transfer("", &fresh()), cashier.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert!(
            page.contains("mã giao dịch của ngân hàng")
                && page.contains("value=\"transfer\" checked"),
            "{page}"
        );
        let (status, to, page) =
            post(loan, transfer("FT26339000777", &fresh()), cashier.clone()).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        let (_, _, page) = get(to.unwrap(), cashier.clone()).await;
        assert!(
            page.contains("Chuyển khoản") && page.contains("FT26339000777"),
            "{page}"
        );
        let id = scalar(
            &db.url,
            "SELECT id FROM counter_repayments WHERE transfer_ref = 'FT26339000777'",
        )
        .await;
        let (_, _, slip) = get(format!("/counter/{id}"), cashier.clone()).await;
        for text in [
            "BIÊN NHẬN TRẢ NỢ",
            "mã giao dịch FT26339000777",
            "100.000 ₫",
        ] {
            assert!(slip.contains(text), "{text}: {slip}");
        }
        assert_eq!(scalar(&db.url, bank_sql).await, bank + 100_000);

        // The same amount in cash again today is most often the same
        // payment typed twice (a transfer of it is told apart by its
        // reference): the form comes back asking, and takes it once ticked.
        let (status, _, page) = post(loan, form("100.000", &fresh()), cashier.clone()).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        let (status, _, page) = post(loan, form("100.000", &fresh()), cashier.clone()).await;
        assert_eq!(status, StatusCode::CONFLICT, "{page}");
        assert!(
            page.contains("id=\"repeat-choice\"") && page.contains("(phiếu QUAY-CN-TD-000003)"),
            "{page}"
        );
        assert_eq!(count("SELECT COUNT(*) FROM counter_repayments").await, 3);
        let mut again = form("100.000", &fresh());
        again.push(("repeat", "1".to_string()));
        let (status, _, page) = post(loan, again, cashier.clone()).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");

        // What is left, paid at the counter, closes the loan; the form goes
        // and a repayment sent after is refused with its reason.
        // It is asked for once more: the amount pays the loan off.
        let left = owed - 500_000;
        let (status, _, page) =
            post(loan, form(&left.to_string(), &fresh()), cashier.clone()).await;
        assert_eq!(status, StatusCode::CONFLICT, "{page}");
        assert!(
            page.contains("id=\"counter-error\"") && page.contains("khoản vay sẽ tất toán"),
            "{page}"
        );
        assert_eq!(count("SELECT COUNT(*) FROM counter_repayments").await, 4);
        let mut payoff = form(&left.to_string(), &fresh());
        payoff.push(("payoff", "1".to_string()));
        let (status, _, _) = post(loan, payoff, cashier.clone()).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend:?}");
        let (_, _, page) = get(format!("/loans/{loan}"), cashier.clone()).await;
        assert!(
            page.contains("id=\"counter-closed\"") && page.contains("Đã tất toán"),
            "{page}"
        );
        assert!(!page.contains("id=\"counter-form\""), "{page}");
        let (status, _, page) = post(loan, form("100.000", &fresh()), cashier.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert!(page.contains("id=\"counter-error\""), "{page}");
        assert_eq!(count("SELECT COUNT(*) FROM counter_repayments").await, 5);

        // The branch's supervisor sees it on the home page and the loan's.
        let supervisor = http_sign_in(&http, &server, "giamsat.thuduc").await;
        let (_, _, home) = get("/".into(), supervisor.clone()).await;
        assert!(home.contains("QUAY-CN-TD-000001"), "{home}");
        let (_, _, page) = get(format!("/loans/{loan}"), supervisor.clone()).await;
        assert!(
            page.contains("id=\"counter-repayments\"") && page.contains("Ngô Thị Thu Hà"),
            "{page}"
        );
        // The cashier (thủ quỹ) pays the day's cash into the bank; asking to
        // reverse it is the supervisor's.
        let (status, _, html) = get("/bank-moves".into(), cashier.clone()).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(
            html.contains("href=\"/bank-moves\""),
            "in the cashier's menu: {html}"
        );
        // Reconciling the bank's statement is the supervisors' (kế toán).
        assert!(!html.contains("id=\"statement-form\""), "{html}");
        let (status, _, _) = get("/bank-statements/1".into(), cashier.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // Reversals are not the cashier's: the page says whose they are.
        let (status, _, not_hers) = get("/reversals".into(), cashier.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(
            not_hers.contains("báo giám sát chi nhánh số phiếu để đề nghị đảo"),
            "{not_hers}"
        );
        let slip = |action: &str| {
            vec![
                ("csrf", field(&html, "csrf")),
                ("client_id", field(&html, "client_id")),
                ("branch_id", field(&html, "branch_id")),
                ("direction", "deposit".to_string()),
                ("amount", "200.000".to_string()),
                ("reference", "GNT-TQ-0001".to_string()),
                ("action", action.to_string()),
            ]
        };
        // Shown first, with the vault and the account as they will stand.
        let (status, _, page) = send_form(
            &http,
            &server,
            "/bank-moves".into(),
            slip(""),
            cashier.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(
            page.contains("id=\"move-confirmation\"") && page.contains("Nộp 200.000 ₫"),
            "{page}"
        );
        assert!(!page.contains("id=\"move-short\""), "{page}");
        // More than the vault holds: said, and no button to post it.
        let mut too_much = slip("");
        too_much[4].1 = "900.000.000.000".to_string();
        let (status, _, page) = send_form(
            &http,
            &server,
            "/bank-moves".into(),
            too_much,
            cashier.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(
            page.contains("id=\"move-short\"") && page.contains("Quỹ tiền mặt chỉ còn"),
            "{page}"
        );
        assert!(!page.contains("value=\"post\""), "{page}");
        let (status, to, page) = send_form(
            &http,
            &server,
            "/bank-moves".into(),
            slip("post"),
            cashier.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        let (_, _, html) = get(to.unwrap(), cashier.clone()).await;
        assert!(html.contains("GNT-TQ-0001"), "{html}");
        assert!(!html.contains("Đề nghị đảo"), "{html}");
        println!("{backend:?}: a cashier took a repayment at the counter, posted once, and paid cash into the bank");
    }
}

#[tokio::test]
async fn a_counter_repayment_is_reversed_by_a_second_person() {
    let _turn = sotay_tests::one_at_a_time();
    let http = no_redirects();
    for backend in BACKENDS {
        let db = fresh_database(backend).await;
        let server = Server::start(&db.url, &["--demo"]).await;
        let get = |path: String, cookie: String| page(&http, &server, path, cookie);
        let post = |path: String, form: Vec<(&'static str, String)>, cookie: String| {
            send_form(&http, &server, path, form, cookie)
        };
        let loan = scalar(
            &db.url,
            "SELECT MIN(l.id) FROM loans l JOIN workers w ON w.id = l.worker_id \
             JOIN branches b ON b.id = w.branch_id WHERE b.code = 'CN-TD' AND l.status = 'active'",
        )
        .await;
        let owed_sql = format!(
            "SELECT CAST(SUM(principal_due - principal_paid + interest_due - interest_paid) AS BIGINT) \
             FROM installments WHERE loan_id = {loan}"
        );
        let owed = scalar(&db.url, &owed_sql).await;

        // The cashier takes 300.000 at the counter.
        let cashier = http_sign_in(&http, &server, "thuquy.thuduc").await;
        let (_, _, html) = get(format!("/loans/{loan}"), cashier.clone()).await;
        assert!(
            !html.contains("id=\"entries\""),
            "a cashier does not see the journal"
        );
        let form = vec![
            ("csrf", field(&html, "csrf")),
            ("client_id", field(&html, "client_id")),
            ("amount", "300.000".to_string()),
            ("note", String::new()),
        ];
        let (status, _, _) = post(format!("/loans/{loan}/repayments"), form, cashier.clone()).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend:?}");
        assert_eq!(scalar(&db.url, &owed_sql).await, owed - 300_000);
        let entry = scalar(
            &db.url,
            "SELECT id FROM journal_entries WHERE kind = 'counter_repayment'",
        )
        .await;
        let (status, _, _) = get("/reversals".into(), cashier.clone()).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "reversals are not a cashier's"
        );
        // The ledger, to the cashier, is the officers' cash short or over.
        let (status, _, html) = get("/ledger".into(), cashier.clone()).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(
            !html.contains("id=\"balances\"") && html.contains(">Thừa/thiếu quỹ</a>"),
            "{html}"
        );
        // The branch's ledger: the cash is in the vault, debits equal credits.
        let vault_sql =
            "SELECT CAST(COALESCE(SUM(l.debit - l.credit), 0) AS BIGINT) FROM journal_lines l \
             JOIN journal_entries e ON e.id = l.entry_id JOIN branches b ON b.id = e.branch_id \
             WHERE l.account = 'vault' AND b.code = 'CN-TD'";
        let vault = scalar(&db.url, vault_sql).await;
        assert!(vault >= 300_000, "{vault}");
        let supervisor = http_sign_in(&http, &server, "giamsat.thuduc").await;
        let (status, _, html) = get("/ledger".into(), supervisor.clone()).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        let row = &html[html.find("id=\"account-vault\"").expect("the vault's row")..];
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(
            row.contains(&format!(
                "Nợ {}",
                sotay_core::domain::money::format_vnd(vault)
            )),
            "{row}"
        );
        assert!(html.contains("Nợ = Có"), "{html}");

        // The supervisor asks for its reversal from the loan's page, with a reason.
        let (_, _, html) = get(format!("/loans/{loan}"), supervisor.clone()).await;
        assert!(
            html.contains(&format!("/reversals/new?entry={entry}")),
            "the entry offers its reversal: {html}"
        );
        let (status, _, html) =
            get(format!("/reversals/new?entry={entry}"), supervisor.clone()).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(
            html.contains("id=\"request-form\"") && html.contains("300.000 ₫"),
            "{html}"
        );
        // The cash this takes out of the vault is said before it is asked.
        assert!(
            html.contains("id=\"cash-out\"")
                && html.contains("Khi được duyệt, 300.000 ₫ ra khỏi quỹ tiền mặt của chi nhánh"),
            "{html}"
        );
        let csrf = field(&html, "csrf");
        let ask = |reason: &str| {
            vec![
                ("csrf", csrf.clone()),
                ("entry_id", entry.to_string()),
                ("reason", reason.to_string()),
            ]
        };
        let (status, _, html) = post("/reversals".into(), ask("  "), supervisor.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("Cần ghi lý do"), "{html}");
        let (status, to, _) = post(
            "/reversals".into(),
            ask("Ghi nhầm khoản vay"),
            supervisor.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let to = to.unwrap();
        assert!(to.starts_with("/reversals?requested="), "{to}");
        let request: i64 = to.rsplit('=').next().unwrap().parse().unwrap();
        let (_, _, html) = get(to, supervisor.clone()).await;
        assert!(html.contains("chờ một người khác duyệt"), "{html}");
        assert!(html.contains("Bạn đã đề nghị"), "{html}");
        // The list names the loan by its code; home says whose request it is.
        let code = loan_code(&db.url, loan).await;
        assert!(
            html.contains(&format!("<span class=\"mono\">{code}</span>")),
            "{html}"
        );
        let (_, _, home) = get("/".into(), supervisor.clone()).await;
        assert!(
            home.contains("id=\"waiting-reversals-own\"")
                && home.contains("1 do bạn đề nghị: người khác duyệt"),
            "{home}"
        );
        // Asking twice, or approving one's own request, is refused.
        let (status, _, html) = post("/reversals".into(), ask("Lần nữa"), supervisor.clone()).await;
        assert_eq!(status, StatusCode::CONFLICT, "{html}");
        assert!(html.contains("đang chờ duyệt"), "{html}");
        let own = vec![("csrf", csrf.clone()), ("reason", String::new())];
        let (status, _, html) = post(
            format!("/reversals/{request}/approve"),
            own,
            supervisor.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
        assert!(html.contains("không được tự duyệt"), "{html}");
        assert_eq!(scalar(&db.url, &owed_sql).await, owed - 300_000);
        // Another branch does not see the entry.
        let other = http_sign_in(&http, &server, "giamsat.binhtan").await;
        let (status, _, _) = get(format!("/reversals/new?entry={entry}"), other.clone()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // The admin approves: the opposite entry posts, the loan owes again.
        let admin = http_sign_in(&http, &server, "admin").await;
        let (_, _, html) = get("/reversals".into(), admin.clone()).await;
        assert!(
            html.contains(&format!("/reversals/{request}/approve")),
            "{html}"
        );
        let admin_csrf = field(&html, "csrf");
        // The list leads to a page that says what posts, with its form.
        let (status, _, html) = get(format!("/reversals/{request}/approve"), admin.clone()).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(
            html.contains("id=\"reversal-confirmation\"")
                && html.contains("300.000 ₫")
                && html.contains(&format!("action=\"/reversals/{request}/approve\"")),
            "{html}"
        );
        let (status, _, html) = post(
            format!("/reversals/{request}/reject"),
            vec![("csrf", admin_csrf.clone()), ("reason", String::new())],
            admin.clone(),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a refusal needs its reason"
        );
        assert!(html.contains("Cần ghi lý do từ chối"), "{html}");
        let (status, to, _) = post(
            format!("/reversals/{request}/approve"),
            vec![("csrf", admin_csrf.clone()), ("reason", String::new())],
            admin.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, _, html) = get(to.unwrap(), admin.clone()).await;
        assert!(
            html.contains(&format!("Đã duyệt: bút toán số {entry} được đảo")),
            "{html}"
        );
        assert_eq!(
            scalar(&db.url, &owed_sql).await,
            owed,
            "the balance is back"
        );
        assert_eq!(scalar(&db.url, vault_sql).await, vault - 300_000);
        let (_, _, html) = get("/ledger".into(), admin.clone()).await;
        assert!(
            html.contains("Toàn quỹ") && html.contains("Nợ = Có"),
            "{html}"
        );
        // The fund's loan principal is what the loans' schedules still owe,
        // lent from the lending capital.
        let owed_by_loans = scalar(
            &db.url,
            "SELECT CAST(SUM(principal_due - principal_paid) AS BIGINT) FROM installments",
        )
        .await;
        assert!(owed_by_loans > 0);
        let row = &html[html
            .find("id=\"account-loan_principal\"")
            .expect("the principal's row")..];
        let row = &row[..row.find("</tr>").unwrap()];
        let owed_text = sotay_core::domain::money::format_vnd(owed_by_loans);
        assert!(row.contains(&format!("Nợ {owed_text}")), "{row}");
        assert!(html.contains("id=\"account-loan_capital\""), "{html}");
        let check = &html[html.find("id=\"principal-check\"").expect("the check")..];
        let check = &check[..check.find("</p>").unwrap()];
        assert!(
            check.contains(&owed_text) && check.contains("khớp sổ cái"),
            "{check}"
        );
        assert_eq!(
            scalar(
                &db.url,
                "SELECT COUNT(*) FROM journal_entries WHERE kind = 'reversal'"
            )
            .await,
            1
        );
        let (status, _, _) = post(
            format!("/reversals/{request}/approve"),
            vec![("csrf", admin_csrf), ("reason", String::new())],
            admin.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "decided once");
        // Its confirmation, opened again, says it was decided.
        let (status, _, html) = get(format!("/reversals/{request}/approve"), admin.clone()).await;
        assert_eq!(status, StatusCode::CONFLICT, "{html}");
        assert!(
            html.contains("đã được") && html.contains("duyệt lúc"),
            "{html}"
        );

        // The loan's page and the home page show it reversed; it cannot be
        // asked for again.
        let (_, _, html) = get(format!("/loans/{loan}"), supervisor.clone()).await;
        assert!(html.contains("Đã đảo"), "{html}");
        let (_, _, html) = get("/".into(), supervisor.clone()).await;
        assert!(html.contains("Đã đảo bút toán"), "{html}");
        let (status, _, html) = post("/reversals".into(), ask("Lần nữa"), supervisor.clone()).await;
        assert_eq!(status, StatusCode::CONFLICT, "{html}");
        println!("{backend:?}: a counter repayment reversed by a second person");
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn a_new_loan_is_asked_for_and_paid_out_from_the_console() {
    let _turn = sotay_tests::one_at_a_time();
    let http = no_redirects();
    for backend in BACKENDS {
        let db = fresh_database(backend).await;
        let server = Server::start(&db.url, &["--demo"]).await;
        let get = |path: String, cookie: String| page(&http, &server, path, cookie);
        let post = |path: String, form: Vec<(&'static str, String)>, cookie: String| {
            send_form(&http, &server, path, form, cookie)
        };
        let worker = scalar(
            &db.url,
            "SELECT MIN(w.id) FROM workers w JOIN branches b ON b.id = w.branch_id WHERE b.code = 'CN-TD'",
        )
        .await;
        let product = scalar(&db.url, "SELECT MIN(id) FROM loan_products").await;
        let min = scalar(
            &db.url,
            &format!("SELECT min_principal FROM loan_products WHERE id = {product}"),
        )
        .await;
        let vault_sql =
            "SELECT CAST(COALESCE(SUM(l.debit - l.credit), 0) AS BIGINT) FROM journal_lines l \
             JOIN branches b ON b.id = l.branch_id WHERE l.account = 'vault' AND b.code = 'CN-TD'";
        let td = scalar(&db.url, "SELECT id FROM branches WHERE code = 'CN-TD'").await;

        // The supervisor asks from the worker's page.
        let supervisor = http_sign_in(&http, &server, "giamsat.thuduc").await;
        let (_, _, html) = get(format!("/workers/{worker}"), supervisor.clone()).await;
        let new = format!("/disbursements/new?worker={worker}");
        assert!(html.contains(&new), "the worker's page offers it: {html}");
        let (status, _, html) = get(new, supervisor.clone()).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("id=\"request-form\""), "{html}");
        let ask = |principal: String| {
            vec![
                ("csrf", field(&html, "csrf")),
                ("client_id", field(&html, "client_id")),
                ("worker_id", worker.to_string()),
                ("product_id", product.to_string()),
                ("principal", principal),
                ("note", "Chữa bệnh cho con".to_string()),
            ]
        };
        let (status, _, page_html) = post(
            "/disbursements".into(),
            ask("mười triệu".into()),
            supervisor.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page_html.contains("id=\"request-error\""), "{page_html}");
        let principal = sotay_core::domain::money::format_vnd(min);
        let typed = principal.trim_end_matches(" ₫").to_string();
        // The schedule first: shown, nothing asked yet.
        let mut preview = ask(typed.clone());
        preview.push(("action", "preview".to_string()));
        let (status, _, shown) = post("/disbursements".into(), preview, supervisor.clone()).await;
        assert_eq!(status, StatusCode::OK, "{shown}");
        let installments = scalar(
            &db.url,
            &format!("SELECT installments FROM loan_products WHERE id = {product}"),
        )
        .await;
        let table = &shown[shown.find("id=\"schedule\"").expect("the schedule")..];
        let table = &table[..table.find("</tbody>").unwrap()];
        assert_eq!(
            table.matches("<tr>").count() as i64,
            installments + 1,
            "{table}"
        );
        assert!(shown.contains(&principal), "the principal's total: {shown}");
        assert_eq!(
            scalar(&db.url, "SELECT COUNT(*) FROM disbursements").await,
            0
        );
        let (status, to, _) = post(
            "/disbursements".into(),
            ask(typed.clone()),
            supervisor.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend:?}");
        let to = to.unwrap();
        assert!(to.starts_with("/disbursements?requested="), "{to}");
        // The approver sees whether the borrower is late on a loan already.
        let late_sql = |who: String| {
            format!(
                "SELECT COUNT(DISTINCT l.id) FROM loans l JOIN installments i ON i.loan_id = l.id \
                 WHERE l.worker_id = {who} AND l.status = 'active' AND i.due_on < '{}' \
                 AND (i.principal_paid < i.principal_due OR i.interest_paid < i.interest_due)",
                chrono::Utc::now()
                    .with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).unwrap())
                    .date_naive()
                    .format("%Y-%m-%d")
            )
        };
        let (_, _, listed) = get("/disbursements".into(), supervisor.clone()).await;
        let row = &listed[listed.find("id=\"pending\"").expect("the waiting list")..];
        assert_eq!(
            row.contains("badge danger late"),
            scalar(&db.url, &late_sql(worker.to_string())).await > 0,
            "{row}"
        );
        // A borrower late on a loan: the request form says so first.
        let late_worker = scalar(
            &db.url,
            &format!(
                "SELECT MIN(w.id) FROM workers w JOIN branches b ON b.id = w.branch_id \
                 WHERE b.code = 'CN-TD' AND ({}) > 0",
                late_sql("w.id".into())
            ),
        )
        .await;
        let (status, _, form) = get(
            format!("/disbursements/new?worker={late_worker}"),
            supervisor.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{form}");
        let notice = &form[form
            .find("id=\"standing-loans\"")
            .expect("the standing loans")..];
        let notice = &notice[..notice.find("</div>").unwrap()];
        assert!(
            notice.contains("đang quá hạn") && notice.contains("Quá hạn"),
            "{notice}"
        );
        // Sent twice (a double click): asked once.
        let (status, _, _) = post(
            "/disbursements".into(),
            ask(typed.clone()),
            supervisor.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(
            scalar(&db.url, "SELECT COUNT(*) FROM disbursements").await,
            1
        );
        // Back to the form, another amount, the same id: refused, and the
        // form comes back with an id of its own for the next try.
        let mut other = ask((min + 500_000).to_string());
        let (status, _, again) =
            post("/disbursements".into(), other.clone(), supervisor.clone()).await;
        assert_eq!(status, StatusCode::CONFLICT, "{again}");
        let fresh = field(&again, "client_id");
        assert_ne!(fresh, other[1].1, "a new id for the next try");
        other[1].1 = fresh;
        let (status, _, again) = post("/disbursements".into(), other, supervisor.clone()).await;
        assert_eq!(status, StatusCode::CONFLICT, "{again}");
        assert!(
            again.contains("đang chờ duyệt"),
            "now refused as a second request: {again}"
        );
        assert_eq!(
            scalar(&db.url, "SELECT COUNT(*) FROM disbursements").await,
            1
        );
        let request = scalar(&db.url, "SELECT id FROM disbursements").await;
        let (_, _, html) = get(to, supervisor.clone()).await;
        assert!(html.contains("chờ một người khác duyệt"), "{html}");
        assert!(html.contains("Bạn đã đề nghị"), "{html}");
        let sup_csrf = field(&html, "csrf");
        let (status, _, html) = post(
            format!("/disbursements/{request}/approve"),
            vec![("csrf", sup_csrf.clone()), ("reason", String::new())],
            supervisor.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
        // Capital is the admins' to record.
        let capital = |csrf: String, amount: i64| {
            vec![
                ("csrf", csrf),
                ("client_id", uuid_like(amount)),
                ("branch_id", td.to_string()),
                ("amount", amount.to_string()),
                ("received_on", today()),
                ("source", "Quỹ chuyển vốn, UNC số 118".to_string()),
            ]
        };
        let (status, _, _) = post(
            "/capital".into(),
            capital(sup_csrf, min),
            supervisor.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // The admin receives the capital and approves: the loan is made and
        // its cash leaves the vault.
        let admin = http_sign_in(&http, &server, "admin").await;
        let (_, _, html) = get("/disbursements".into(), admin.clone()).await;
        assert!(
            html.contains(&format!("/disbursements/{request}/approve")),
            "{html}"
        );
        let admin_csrf = field(&html, "csrf");
        let (status, to, _) = post(
            "/capital".into(),
            capital(admin_csrf.clone(), min),
            admin.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, _, html) = get(to.unwrap(), admin.clone()).await;
        assert!(html.contains("Đã ghi nhận"), "{html}");
        let vault = scalar(&db.url, vault_sql).await;
        assert!(vault >= min, "{vault}");
        let (status, to, _) = post(
            format!("/disbursements/{request}/approve"),
            vec![("csrf", admin_csrf.clone()), ("reason", String::new())],
            admin.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, _, html) = get(to.unwrap(), admin.clone()).await;
        assert!(html.contains("Đã duyệt: chi"), "{html}");
        let loan = scalar(&db.url, "SELECT loan_id FROM disbursement_decisions").await;
        assert!(html.contains(&format!("/loans/{loan}")), "{html}");
        assert_eq!(scalar(&db.url, vault_sql).await, vault - min);
        let owed = scalar(
            &db.url,
            &format!("SELECT CAST(SUM(principal_due) AS BIGINT) FROM installments WHERE loan_id = {loan}"),
        )
        .await;
        assert_eq!(owed, min);
        let (_, _, html) = get(format!("/loans/{loan}"), supervisor.clone()).await;
        assert!(
            html.contains("Giải ngân khoản vay"),
            "the entry on the loan's page: {html}"
        );
        let (_, _, html) = get("/ledger".into(), admin.clone()).await;
        assert!(html.contains("khớp sổ cái"), "{html}");
        // The branch's cash book shows the capital in and the loan out, and
        // ends on what the vault holds.
        let (_, _, html) = get("/reports".into(), supervisor.clone()).await;
        assert!(html.contains("/reports/vault-cash-book"), "{html}");
        let (status, _, html) = get("/reports/vault-cash-book".into(), supervisor.clone()).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        // The home page's overdue figure opens the loans to chase.
        let (_, _, home) = get("/".into(), supervisor.clone()).await;
        assert!(home.contains("href=\"/reports/overdue-loans\""), "{home}");
        let today = || {
            sotay_core::domain::time::format_date(sotay_core::domain::time::local_date(
                chrono::Utc::now(),
            ))
        };
        let before = today();
        let (status, _, chase) = get("/reports/overdue-loans".into(), supervisor.clone()).await;
        assert_eq!(status, StatusCode::OK, "{chase}");
        // Left empty, the day field says the day the report took: today.
        assert!(
            [before, today()]
                .iter()
                .any(|d| chase.contains(&format!("name=\"to\" value=\"{d}\""))),
            "{chase}"
        );
        assert!(
            chase.contains("Kỳ chưa trả sớm nhất") && chase.contains("Số ngày quá hạn"),
            "{chase}"
        );
        let (status, _, _) = get(
            "/reports/overdue-loans?format=xlsx".into(),
            supervisor.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        // An address whose id does not read is the "not found" page.
        let (status, _, bad) = get("/workers/abc".into(), supervisor.clone()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{bad}");
        assert!(
            bad.contains("<html") && bad.contains("Không tìm thấy"),
            "{bad}"
        );
        // A number box that does not read comes back on the report's own
        // form, saying what to type, in the reader's language.
        let (status, _, bad) = get(
            "/reports/visits?days=30%20ng%C3%A0y&to=01%2F12%2F2026".into(),
            supervisor.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let text = bad.replace("&quot;", "\"");
        assert!(
            bad.contains("id=\"report-filter\"")
                && text.contains("Số ngày \"30 ngày\" không đọc được: hãy nhập một số nguyên")
                && bad.contains("value=\"01/12/2026\""),
            "{bad}"
        );
        let (_, _, bad) = get(
            "/reports/visits?days=abc&lang=en".into(),
            supervisor.clone(),
        )
        .await;
        assert!(
            bad.replace("&quot;", "\"")
                .contains("Days \"abc\" does not read: type a whole number"),
            "{bad}"
        );
        assert!(
            html.contains("Nhận vốn cho vay") && html.contains("Giải ngân khoản vay"),
            "{html}"
        );
        assert!(
            html.contains(&sotay_core::domain::money::format_vnd(vault - min)),
            "the closing balance: {html}"
        );

        // Paid out in error: the supervisor asks, from the loan's page, to
        // take it back; the admin approves; the cash is back in the vault
        // and the loan is cancelled.
        let entry = scalar(
            &db.url,
            "SELECT id FROM journal_entries WHERE kind = 'disbursement'",
        )
        .await;
        let (_, _, html) = get(format!("/loans/{loan}"), supervisor.clone()).await;
        assert!(
            html.contains(&format!("/reversals/new?entry={entry}")),
            "{html}"
        );
        let (_, _, html) = get(format!("/reversals/new?entry={entry}"), supervisor.clone()).await;
        assert!(html.contains("id=\"take-back\""), "{html}");
        let (status, to, html) = post(
            "/reversals".into(),
            vec![
                ("csrf", field(&html, "csrf")),
                ("entry_id", entry.to_string()),
                ("reason", "Giải ngân nhầm, đã nhận lại tiền mặt".to_string()),
            ],
            supervisor.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
        let request: i64 = to.unwrap().rsplit('=').next().unwrap().parse().unwrap();
        let (status, _, html) = post(
            format!("/reversals/{request}/approve"),
            vec![("csrf", admin_csrf.clone()), ("reason", String::new())],
            admin.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
        assert_eq!(scalar(&db.url, vault_sql).await, vault, "the cash is back");
        assert_eq!(
            scalar(
                &db.url,
                &format!("SELECT COUNT(*) FROM installments WHERE loan_id = {loan}")
            )
            .await,
            0
        );
        let (_, _, html) = get(format!("/loans/{loan}"), supervisor.clone()).await;
        assert!(html.contains("Đã hủy giải ngân"), "{html}");
        let (_, _, html) = get("/disbursements".into(), supervisor.clone()).await;
        assert!(html.contains("Đã hủy giải ngân"), "{html}");
        let (_, _, html) = get("/ledger".into(), admin.clone()).await;
        assert!(html.contains("khớp sổ cái"), "{html}");

        // A loan paid by transfer from the branch's bank account: the
        // worker's account is asked for, the approval writes the bank's
        // reference, the vault does not move.
        let bank_sql = vault_sql.replace("'vault'", "'bank'");
        let (_, _, html) = get(
            format!("/disbursements/new?worker={worker}"),
            supervisor.clone(),
        )
        .await;
        assert!(
            html.contains("name=\"method\" value=\"transfer\""),
            "{html}"
        );
        let by_transfer = |account: &str| {
            let mut form = ask(typed.clone());
            form.retain(|(k, _)| *k != "client_id");
            form.push(("client_id", field(&html, "client_id")));
            form.push(("method", "transfer".to_string()));
            form.push(("bank_account", account.to_string()));
            form
        };
        let (status, _, page_html) =
            post("/disbursements".into(), by_transfer(""), supervisor.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page_html}");
        assert!(
            page_html.contains("Chuyển khoản cần tài khoản"),
            "{page_html}"
        );
        assert!(
            page_html.contains("value=\"transfer\" checked"),
            "the choice is kept: {page_html}"
        );
        let (status, _, page_html) = post(
            "/disbursements".into(),
            by_transfer("Agribank 1600 205 123456"),
            supervisor.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page_html}");
        let wired = scalar(&db.url, "SELECT MAX(id) FROM disbursements").await;
        let (status, to, _) = post(
            "/capital".into(),
            {
                let mut form = capital(admin_csrf.clone(), 7 * min);
                form.push(("method", "transfer".to_string()));
                form
            },
            admin.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, _, html) = get(to.unwrap(), admin.clone()).await;
        assert!(html.contains("vào tài khoản ngân hàng"), "{html}");
        let (vault, bank) = (
            scalar(&db.url, vault_sql).await,
            scalar(&db.url, &bank_sql).await,
        );
        assert!(bank >= 7 * min, "{bank}");
        assert!(
            html.contains(&format!("id=\"transfer-ref-{wired}\"")),
            "{html}"
        );
        assert!(html.contains("Agribank 1600 205 123456"), "{html}");
        let approve = |reference: &str| {
            vec![
                ("csrf", admin_csrf.clone()),
                ("reason", String::new()),
                ("transfer_ref", reference.to_string()),
            ]
        };
        let (status, _, html) = post(
            format!("/disbursements/{wired}/approve"),
            approve(" "),
            admin.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
        assert!(html.contains("mã giao dịch"), "{html}");
        let (status, to, _) = post(
            format!("/disbursements/{wired}/approve"),
            approve("FT26339555001"),
            admin.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, _, html) = get(to.unwrap(), admin.clone()).await;
        assert!(html.contains("Đã duyệt: đã chuyển"), "{html}");
        assert!(html.contains("FT26339555001"), "{html}");
        assert_eq!(scalar(&db.url, vault_sql).await, vault, "no cash moved");
        assert_eq!(scalar(&db.url, &bank_sql).await, bank - min);
        // The supervisor pays cash into the bank from the Bank page (linked
        // from the disbursements): too much is refused with what was typed
        // kept, the rest posts at once.
        let (_, _, html) = get("/disbursements".into(), supervisor.clone()).await;
        assert!(html.contains("href=\"/bank-moves\""), "{html}");
        let (status, _, html) = get("/bank-moves".into(), supervisor.clone()).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("id=\"move-form\""), "{html}");
        let deposit = |amount: i64| {
            vec![
                ("csrf", field(&html, "csrf")),
                ("client_id", field(&html, "client_id")),
                ("branch_id", td.to_string()),
                ("direction", "deposit".to_string()),
                ("amount", amount.to_string()),
                ("reference", "GNT-2026-0042".to_string()),
                ("action", "post".to_string()),
            ]
        };
        let (status, _, page_html) =
            post("/bank-moves".into(), deposit(vault + 1), supervisor.clone()).await;
        assert_eq!(status, StatusCode::CONFLICT, "{page_html}");
        assert!(page_html.contains("id=\"move-error\""), "{page_html}");
        assert!(page_html.contains("GNT-2026-0042"), "{page_html}");
        let (status, to, _) = post("/bank-moves".into(), deposit(min), supervisor.clone()).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let to = to.unwrap();
        assert!(to.starts_with("/bank-moves?moved="), "{to}");
        let (_, _, html) = get(to, supervisor.clone()).await;
        assert!(html.contains("id=\"move-flash\""), "{html}");
        assert!(html.contains("Đề nghị đảo"), "{html}");
        assert_eq!(scalar(&db.url, vault_sql).await, vault - min);
        assert_eq!(scalar(&db.url, &bank_sql).await, bank);
        // The bank book shows the transfer out and the cash paid in.
        let (_, _, html) = get("/reports".into(), supervisor.clone()).await;
        assert!(html.contains("/reports/bank-book"), "{html}");
        let (status, _, html) = get("/reports/bank-book".into(), supervisor.clone()).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("Sổ tiền gửi ngân hàng"), "{html}");
        assert!(
            html.contains("FT26339555001"),
            "the transfer's memo: {html}"
        );
        assert!(html.contains("GNT-2026-0042"), "the deposit's memo: {html}");
        // The bank's statement of the day, uploaded on the Bank page, is
        // reconciled with the bank book: the transfer by its reference, the
        // cash paid in by amount and day, a transfer nobody recorded.
        let (_, _, html) = get("/bank-moves".into(), supervisor.clone()).await;
        assert!(html.contains("id=\"statement-form\""), "{html}");
        let today = sotay_core::domain::time::local_date(chrono::Utc::now()).format("%d/%m/%Y");
        let wired = scalar(
            &db.url,
            "SELECT MAX(d.id) FROM disbursements d JOIN disbursement_decisions x ON x.disbursement_id = d.id \
             WHERE d.method = 'transfer' AND x.decision = 'approved'",
        )
        .await;
        let code = format!("GN-CN-TD-{wired:06}");
        // Its code typed the short way opens the loan, as `kv8` does.
        let (status, to, _) = get(format!("/workers?q=gn+cn+td+{wired}"), supervisor.clone()).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let loan = scalar(
            &db.url,
            &format!("SELECT id FROM loans WHERE code = '{code}'"),
        )
        .await;
        assert_eq!(to.as_deref(), Some(format!("/loans/{loan}").as_str()));
        let statement = format!(
            "Ngày giao dịch,Số tham chiếu,Nội dung,Ghi nợ,Ghi có\n\
             {today},FT26339555001,GIAI NGAN,\"{min}\",\n\
             {today},GNT-88,NOP TIEN MAT,,\"{min}\"\n\
             {today},FT26339555999,LE VAN AN CHUYEN TRA NO {code},,\"150000\"\n\
             {today},,PHI SMS BANKING,\"11000\",\n"
        );
        let upload = |name: &'static str, bytes: Vec<u8>| {
            let form = reqwest::multipart::Form::new()
                .text("csrf", field(&html, "csrf"))
                .text("branch_id", td.to_string())
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(bytes).file_name(name),
                );
            let (http, server, cookie) = (&http, &server, supervisor.clone());
            async move {
                answer(
                    http.post(server.url("/bank-statements"))
                        .header(COOKIE, cookie)
                        .multipart(form)
                        .send()
                        .await
                        .unwrap(),
                )
                .await
            }
        };
        let (status, _, page_html) =
            upload("sai.csv", b"Ngay,Ghi co\n99/12/2026,100\n".to_vec()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page_html}");
        assert!(
            page_html.contains("id=\"statement-error\"") && page_html.contains("Dòng 2"),
            "{page_html}"
        );
        let (status, to, _) = upload("sao-ke-vcb.csv", statement.clone().into_bytes()).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let to = to.unwrap();
        assert!(to.starts_with("/bank-statements/"), "{to}");
        let (status, _, html) = get(to.clone(), supervisor.clone()).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        for text in [
            "sao-ke-vcb.csv",
            "Khớp mã giao dịch",
            "Khớp số tiền, ngày",
            "Chưa có trong sổ",
            "FT26339555999",
            "sao kê không có cột số dư",
        ] {
            assert!(html.contains(text), "{text}: {html}");
        }
        let (status, again, _) = upload("sao-ke-vcb.csv", statement.into_bytes()).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(again.unwrap(), format!("{to}?again=1"));
        // The transfer nobody recorded: the loan its text names is offered,
        // or one typed; the loan's counter form comes filled in from it.
        let prefill = "?method=transfer&amount=150000&transfer_ref=FT26339555999#counter";
        assert!(
            html.contains(&format!("Ghi khoản thu vào khoản vay {code}"))
                && html.contains(&prefill.replace('&', "&amp;")),
            "{html}"
        );
        let (status, back, _) = get(
            format!("{to}/loan?line=4&code=KHONG-CO-1"),
            supervisor.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, _, html) = get(back.unwrap(), supervisor.clone()).await;
        assert!(
            html.contains("id=\"statement-missing\"") && html.contains("KHONG-CO-1"),
            "{html}"
        );
        let (status, form_at, _) =
            get(format!("{to}/loan?line=4&code={code}"), supervisor.clone()).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let form_at = form_at.unwrap();
        assert!(form_at.ends_with(prefill), "{form_at}");
        let (_, _, html) = get(form_at.clone(), supervisor.clone()).await;
        for filled in [
            "value=\"150.000\"",
            "value=\"FT26339555999\"",
            "value=\"transfer\" checked",
        ] {
            assert!(html.contains(filled), "{filled}: {html}");
        }
        let loan_path = form_at.split('?').next().unwrap().to_string();
        let (status, _, page_html) = post(
            format!("{loan_path}/repayments"),
            vec![
                ("csrf", field(&html, "csrf")),
                ("client_id", field(&html, "client_id")),
                ("amount", field(&html, "amount")),
                ("method", "transfer".to_string()),
                ("transfer_ref", field(&html, "transfer_ref")),
                ("note", String::new()),
            ],
            supervisor.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page_html}");
        // The bank's fee is posted from its line: not as interest (it is
        // money out), as a charge.
        let (_, _, html) = get(to.clone(), supervisor.clone()).await;
        assert!(
            html.contains("id=\"count-not-in-book\">1<") && html.contains("Ghi sổ là:"),
            "only the fee is left: {html}"
        );
        let fee_line = format!("{to}/lines/5");
        assert!(html.contains(&format!("action=\"{fee_line}\"")), "{html}");
        let post_fee = |direction: &'static str| {
            let form = vec![
                ("csrf", field(&html, "csrf")),
                ("client_id", uuid_like(9000 + direction.len() as i64)),
                ("direction", direction.to_string()),
            ];
            post(fee_line.clone(), form, supervisor.clone())
        };
        let (status, _, page_html) = post_fee("interest").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page_html}");
        assert!(
            page_html.contains("id=\"line-error\"") && page_html.contains("Dòng 5"),
            "{page_html}"
        );
        let (status, posted, page_html) = post_fee("charge").await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page_html}");
        let (_, _, html) = get(posted.unwrap(), supervisor.clone()).await;
        assert!(
            html.contains("id=\"line-posted\"")
                && html.contains("Ghi sổ từ dòng này")
                && html.contains("Phí ngân hàng 11.000"),
            "{html}"
        );
        assert!(
            html.contains("id=\"count-not-in-book\">0<"),
            "all matched now: {html}"
        );
        let (_, _, html) = get("/bank-moves".into(), supervisor.clone()).await;
        assert!(html.contains(&format!("href=\"{to}\"")), "listed: {html}");
        let (_, _, html) = get("/ledger".into(), admin.clone()).await;
        assert!(html.contains("khớp sổ cái"), "{html}");
        assert!(html.contains("Tiền gửi ngân hàng chi nhánh"), "{html}");
        assert!(html.contains("Phí dịch vụ ngân hàng"), "{html}");
        println!("{backend:?}: a loan of {principal} asked for, approved, paid out and taken back; another paid by transfer");
    }
}

/// A client id for a form, fixed by `n` (the form is posted once).
fn uuid_like(n: i64) -> String {
    format!("00000000-0000-7000-8000-{:012x}", n)
}

/// A loan's code, read from the database.
async fn loan_code(url: &str, loan: i64) -> String {
    use sqlx::Connection;
    let sql = format!("SELECT code FROM loans WHERE id = {loan}");
    if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
        sqlx::query_scalar(&sql)
            .fetch_one(&mut c)
            .await
            .expect("query")
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await.expect("connect");
        sqlx::query_scalar(&sql)
            .fetch_one(&mut c)
            .await
            .expect("query")
    }
}

/// Lan's phone, signed in and synced, and one of her open loans owing more
/// than `more_than` đồng.
/// A batch's count sent to its confirmation: the confirmation's page.
async fn confirmation_of<T: serde::Serialize + ?Sized>(
    http: &reqwest::Client,
    server: &Server,
    batch: &str,
    form: &T,
    cookie: String,
) -> String {
    let (status, to, html) = post_any(
        http,
        server,
        format!("/batches/{batch}/confirm"),
        form,
        cookie.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    page(http, server, to.expect("the confirmation"), cookie)
        .await
        .2
}

/// How many settlements of refused record `record` have a note that
/// begins with `how`.
async fn settled_as(database_url: &str, record: uuid::Uuid, how: &str) -> i64 {
    scalar(
        database_url,
        &format!(
            "SELECT COUNT(*) FROM refused_settlements x JOIN sync_records r ON r.id = x.record_id \
             WHERE r.client_id = X'{}' AND x.note LIKE '{how}%'",
            record.simple()
        ),
    )
    .await
}

/// The values of a page's fields named `name`, in order.
fn values_of(html: &str, name: &str) -> Vec<String> {
    let start = format!("name=\"{name}\" value=\"");
    html.match_indices(&start)
        .map(|(at, m)| {
            let rest = &html[at + m.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect()
}

/// Rejects the batch waiting for review longest, through the API: its id.
async fn reject_oldest(
    http: &reqwest::Client,
    server: &Server,
    token: &str,
    reason: &str,
) -> String {
    let queue = api_get(http, server, "/api/v1/batches?status=pending", token).await;
    let batch = queue[0]["batch_id"]
        .as_str()
        .expect("a batch waiting")
        .to_string();
    let resp = http
        .post(server.url(&format!("/api/v1/batches/{batch}/reject")))
        .bearer_auth(token)
        .json(&json!({ "reason": reason }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    batch
}

fn lan_with_an_open_loan(
    server: &Server,
    more_than: i64,
) -> (sotay_tests::Phone, sotay_core::LoanView) {
    let phone = sotay_tests::Phone::new();
    phone.login(&server.base, "canbo.lan", PASSWORD);
    phone.book.sync(None).expect("first sync");
    let loan = phone
        .book
        .search("thi".into(), 200)
        .unwrap()
        .iter()
        .flat_map(|h| phone.book.worker_detail(h.worker_id).unwrap().loans)
        .find(|l| l.status == "active" && l.balance > rust_decimal::Decimal::from(more_than))
        .expect("an open loan");
    (phone, loan)
}

#[tokio::test]
async fn report_filters_offer_the_officers_and_refuse_what_a_report_ignores() {
    let _turn = sotay_tests::one_at_a_time();
    let http = no_redirects();
    for backend in BACKENDS {
        let db = fresh_database(backend).await;
        let server = Server::start(&db.url, &["--demo"]).await;
        let get = |path: String, cookie: String| page(&http, &server, path, cookie);
        let id = |code: &'static str| {
            let url = db.url.clone();
            async move { scalar(&url, &format!("SELECT id FROM users WHERE code = '{code}'")).await }
        };
        let (lan, minh) = (id("CB-TD-01").await, id("CB-BT-01").await);
        let td = scalar(&db.url, "SELECT id FROM branches WHERE code = 'CN-TD'").await;
        let supervisor = http_sign_in(&http, &server, "giamsat.thuduc").await;
        let admin = http_sign_in(&http, &server, "admin").await;

        // The reports narrowed by officer offer the branch's officers.
        for name in [
            "daily-collections",
            "portfolio-at-risk",
            "overdue-loans",
            "campaign-progress",
            "visits",
        ] {
            let (status, _, html) = get(format!("/reports/{name}"), supervisor.clone()).await;
            assert_eq!(status, StatusCode::OK, "{name}: {html}");
            assert!(
                html.contains("<select id=\"officer_id\" name=\"officer_id\">")
                    && html.contains(&format!(
                        "<option value=\"{lan}\">Võ Thị Lan (CB-TD-01)</option>"
                    )),
                "{name}: {html}"
            );
            assert!(!html.contains("Trần Quốc Minh"), "another branch's: {html}");
            assert_eq!(
                html.contains("<option value=\"0\""),
                name == "daily-collections",
                "the branch counter, for the collections: {html}"
            );
        }
        // Chosen, she stays chosen, and the downloads are hers.
        let (status, _, html) = get(
            format!("/reports/visits?officer_id={lan}"),
            supervisor.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(
            html.contains(&format!("<option value=\"{lan}\" selected>")),
            "{html}"
        );
        assert!(
            html.contains(&format!("officer_id={lan}&amp;")),
            "the download links keep her: {html}"
        );
        assert!(
            html.contains("Võ Thị Lan"),
            "the subtitle names her: {html}"
        );
        // An admin chooses among every branch's, by branch.
        let (_, _, html) = get("/reports/portfolio-at-risk".into(), admin.clone()).await;
        assert!(
            html.contains("<optgroup label=\"Chi nhánh Bình Tân\">")
                && html.contains(&format!(
                    "<option value=\"{minh}\">Trần Quốc Minh (CB-BT-01)</option>"
                )),
            "{html}"
        );
        // ... and one of another branch than the one chosen is told so, on
        // the form.
        let (status, _, html) = get(
            format!("/reports/daily-collections?branch_id={td}&officer_id={minh}"),
            admin.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
        assert!(
            html.contains("id=\"report-filter\"")
                && html.contains("Trần Quốc Minh (CB-BT-01) thuộc Chi nhánh Bình Tân, không thuộc Chi nhánh Thủ Đức"),
            "{html}"
        );

        // The branch's books take no officer: none is offered, and one in
        // the address is refused, saying what to do.
        for name in ["vault-cash-book", "bank-book"] {
            let (status, _, html) = get(format!("/reports/{name}"), supervisor.clone()).await;
            assert_eq!(status, StatusCode::OK, "{html}");
            assert!(!html.contains("id=\"officer_id\""), "{name}: {html}");
            let (status, _, html) = get(
                format!("/reports/{name}?officer_id={lan}"),
                supervisor.clone(),
            )
            .await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {html}");
            assert!(
                html.contains("không tách theo cán bộ") && !html.contains("Toàn quỹ, Võ Thị Lan"),
                "{name}: {html}"
            );
        }

        // A box's error names the box as it is labelled.
        let (status, _, html) = get("/reports/visits?days=0".into(), supervisor.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
        let text = html.replace("&quot;", "\"");
        assert!(
            text.contains("Ô \"Chưa thăm quá (ngày)\" phải từ 1 đến 3650 ngày")
                && !text.contains("Days phải"),
            "{html}"
        );
        // A statement with no worker says where to find one.
        let (status, _, html) = get("/reports/worker-statement".into(), supervisor.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
        assert!(html.contains("Chọn người lao động cần sao kê"), "{html}");
        // A PAR on a day to come says how it is measured.
        let ahead = sotay_core::domain::time::format_date(
            sotay_core::domain::time::local_date(chrono::Utc::now()) + chrono::Duration::days(90),
        );
        let (status, _, html) = get(
            format!("/reports/portfolio-at-risk?to={}", urlencode(&ahead)),
            supervisor.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(
            html.contains(&format!(
                "Tính như thể từ hôm nay đến {ahead} không có khoản trả nào thêm"
            )),
            "{html}"
        );
    }
}

#[tokio::test]
async fn cashier_counts_the_vault_at_the_end_of_the_day() {
    use sotay_core::domain::money::{format_vnd, group_thousands, vnd_in_words};
    let _turn = sotay_tests::one_at_a_time();
    let http = no_redirects();
    for backend in BACKENDS {
        let db = fresh_database(backend).await;
        let server = Server::start(&db.url, &["--demo"]).await;
        let get = |path: String, cookie: String| page(&http, &server, path, cookie);
        let book_sql = "SELECT CAST(COALESCE(SUM(debit - credit), 0) AS BIGINT) FROM account_balances \
             WHERE account = 'vault' AND branch_id = (SELECT id FROM branches WHERE code = 'CN-TD')";
        let book = scalar(&db.url, book_sql).await;
        assert!(book > 20_000, "{backend:?}: the demo vault holds cash");

        // In the cashier's menu: the vault's balance on the books, the form.
        let cashier = http_sign_in(&http, &server, "thuquy.thuduc").await;
        let (status, _, home) = get("/".into(), cashier.clone()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(home.contains("href=\"/vault-counts\""), "{home}");
        assert!(home.contains("Kiểm kê quỹ"), "{home}");
        let (status, _, form_page) = get("/vault-counts".into(), cashier.clone()).await;
        assert_eq!(status, StatusCode::OK, "{backend:?} {form_page}");
        assert!(form_page.contains(&format_vnd(book)), "{form_page}");
        assert!(form_page.contains("không ghi sổ kế toán"), "{form_page}");
        assert!(form_page.contains("id=\"no-counts\""), "{form_page}");
        let (csrf, client_id, branch) = (
            field(&form_page, "csrf"),
            field(&form_page, "client_id"),
            field(&form_page, "branch_id"),
        );
        let form = |counted: &str, note: &str, client: &str, extra: &[(&'static str, &str)]| {
            let mut f = vec![
                ("csrf", csrf.clone()),
                ("client_id", client.to_string()),
                ("branch_id", branch.clone()),
                ("counted", counted.to_string()),
                ("note", note.to_string()),
            ];
            f.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
            f
        };
        let post = |f: Vec<(&'static str, String)>, cookie: String| {
            send_form(&http, &server, "/vault-counts".into(), f, cookie)
        };

        // Typed wrong: refused, what was typed kept, what to do said.
        let (status, _, refused) = post(
            form("1,5", "Đếm cuối ngày", &client_id, &[]),
            cashier.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        assert!(refused.contains("id=\"count-error\""), "{refused}");
        assert!(
            refused.contains("value=\"1,5\"") && refused.contains("value=\"Đếm cuối ngày\""),
            "{refused}"
        );
        // By denomination, not adding up to the amount typed.
        let (status, _, refused) = post(
            form("400.000", "", &client_id, &[("d500000", "1")]),
            cashier.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        assert!(
            refused.contains("Cộng theo mệnh giá được 500.000 ₫"),
            "{refused}"
        );
        assert!(refused.contains("name=\"d500000\""), "{refused}");
        assert_eq!(field(&refused, "d500000"), "1", "the notes typed are kept");
        assert_eq!(
            scalar(&db.url, "SELECT COUNT(*) FROM vault_counts").await,
            0
        );

        // 20.000 ₫ short, typed as people type it; sent twice, recorded once.
        let typed = group_thousands(book - 20_000);
        let (status, to, _) = post(
            form(&typed, "Đếm cuối ngày", &client_id, &[]),
            cashier.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend:?}");
        let to = to.expect("a redirect");
        assert!(to.starts_with("/vault-counts?counted="), "{to}");
        let (status, again, _) = post(
            form(&typed, "Đếm cuối ngày", &client_id, &[]),
            cashier.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(again.as_deref(), Some(to.as_str()), "the same count");
        assert_eq!(
            scalar(&db.url, "SELECT COUNT(*) FROM vault_counts").await,
            1
        );
        assert_eq!(scalar(&db.url, book_sql).await, book, "nothing posted");
        let (_, _, done) = get(to.clone(), cashier.clone()).await;
        assert!(done.contains("id=\"count-flash\""), "{done}");
        assert!(done.contains("thiếu 20.000 ₫"), "{done}");
        assert!(done.contains("Quỹ thiếu 20.000 ₫ so với sổ"), "{done}");
        assert!(
            done.contains("class=\"diff short\""),
            "the difference shown as a shortage: {done}"
        );
        let id = to
            .split("counted=")
            .nth(1)
            .unwrap()
            .split('#')
            .next()
            .unwrap()
            .to_string();
        assert!(
            done.contains(&format!("href=\"/vault-counts/{id}\"")),
            "{done}"
        );

        // Its record, to print and sign.
        let (status, _, record) = get(format!("/vault-counts/{id}"), cashier.clone()).await;
        assert_eq!(status, StatusCode::OK, "{record}");
        let today = sotay_core::domain::time::format_date(sotay_core::domain::time::local_date(
            chrono::Utc::now(),
        ));
        for text in [
            "BIÊN BẢN KIỂM KÊ QUỸ TIỀN MẶT",
            "Chi nhánh Thủ Đức",
            &today,
            &format_vnd(book),
            &format_vnd(book - 20_000),
            &vnd_in_words(book - 20_000),
            "thiếu 20.000 ₫",
            "Đếm cuối ngày",
            "Thủ quỹ",
            "Giám sát / Kế toán",
            "(ký, ghi rõ họ tên)",
            "không ghi sổ kế toán",
        ] {
            assert!(record.contains(text), "{text}: {record}");
        }
        // Counted again: it agrees.
        let (_, _, fresh) = get("/vault-counts".into(), cashier.clone()).await;
        let (status, to, _) = post(
            form(&group_thousands(book), "", &field(&fresh, "client_id"), &[]),
            cashier.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, _, done) = get(to.unwrap(), cashier.clone()).await;
        assert!(done.contains("khớp"), "{done}");
        assert_eq!(
            scalar(&db.url, "SELECT COUNT(*) FROM vault_counts").await,
            2
        );

        // The supervisor sees the branch's counts; another branch's does
        // not, nor its records; an admin chooses the branch.
        let sup = http_sign_in(&http, &server, "giamsat.thuduc").await;
        let (status, _, list) = get("/vault-counts".into(), sup).await;
        assert_eq!(status, StatusCode::OK);
        assert!(list.contains(&format!("id=\"count-{id}\"")), "{list}");
        let other = http_sign_in(&http, &server, "giamsat.binhtan").await;
        let (status, _, list) = get("/vault-counts".into(), other.clone()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!list.contains(&format!("id=\"count-{id}\"")), "{list}");
        let (status, _, _) = get(format!("/vault-counts/{id}"), other).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let admin = http_sign_in(&http, &server, "admin").await;
        let (status, _, list) = get("/vault-counts".into(), admin).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            list.contains("id=\"count-branch\"") && list.contains(&format!("id=\"count-{id}\"")),
            "{list}"
        );
    }
}
