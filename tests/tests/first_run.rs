//! A newcomer's first run, through the real binary, on SQLite and PostgreSQL:
//! the demo fund, an officer's scoped view, a CSV import refused for one bad
//! row, the books checked and backed up while the server runs, and a
//! restart that keeps everything.

use reqwest::StatusCode;
use serde_json::{json, Value};
use sotay_tests::{cli, fresh_database, scalar, Backend, Server, BACKENDS};

const PASSWORD: &str = "sotay-demo-2026";

async fn login(http: &reqwest::Client, server: &Server, username: &str, device: &str) -> String {
    let resp = http
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({"username": username, "password": PASSWORD, "device_id": device, "device_name": "E2E"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

async fn get(
    http: &reqwest::Client,
    server: &Server,
    path: &str,
    token: &str,
) -> (StatusCode, Value) {
    let resp = http
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let s = resp.status();
    (s, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn demo_fund_scoped_officer_refused_import_and_restart() {
    let _turn = sotay_tests::one_at_a_time();
    let http = reqwest::Client::new();
    for backend in BACKENDS {
        let db = fresh_database(backend).await;
        let server = Server::start(&db.url, &["--demo"]).await;
        println!(
            "{backend:?}: server with demo seed up in {} ms",
            server.started_in.as_millis()
        );
        assert!(
            server
                .banner
                .iter()
                .any(|l| l.contains("Seeded the demo fund")),
            "{:#?}",
            server.banner
        );
        assert!(server.banner.iter().any(|l| l.contains("canbo.lan")));

        let officer = login(&http, &server, "canbo.lan", "e2e-officer-01").await;
        let (s, me) = get(&http, &server, "/api/v1/me", &officer).await;
        assert_eq!(s, StatusCode::OK);
        let my_id = me["id"].as_i64().unwrap();
        let (_, page) = get(&http, &server, "/api/v1/workers?limit=500", &officer).await;
        let mine = page["items"].as_array().unwrap();
        assert!(
            mine.len() > 50 && mine.len() < 600,
            "{} workers",
            mine.len()
        );
        assert!(mine.iter().all(|w| w["officer_id"].as_i64() == Some(my_id)));

        let admin = login(&http, &server, "admin", "e2e-admin-01").await;
        let (_, all) = get(&http, &server, "/api/v1/workers?limit=500", &admin).await;
        assert_eq!(all["total"], 600);
        let other = all["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["officer_id"].as_i64() != Some(my_id))
            .unwrap();
        let (s, body) = get(
            &http,
            &server,
            &format!("/api/v1/workers/{}", other["id"]),
            &officer,
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
        let (s, _) = get(&http, &server, "/api/v1/users", &officer).await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // The CLI refuses a file with one bad row, naming its line; nothing is imported.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("workers.csv");
        std::fs::write(
            &path,
            "code,full_name,cccd,phone,union_member,hardship,officer_code\n\
             W-9001,Phan Thị Ngọc,079199009001,0901009001,1,0,CB-TD-01\n\
             W-9002,Phan Văn Sang,07919900900X,0901009002,1,0,CB-TD-01\n",
        )
        .unwrap();
        let out = cli(&db.url, &["import", path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{stderr}");
        assert!(stderr.contains("workers.csv:3 [cccd]"), "{stderr}");
        let (_, all) = get(&http, &server, "/api/v1/workers", &admin).await;
        assert_eq!(all["total"], 600, "nothing imported");

        // Fixed, it goes in; the officer sees the new worker.
        std::fs::write(
            &path,
            "code,full_name,cccd,phone,union_member,hardship,officer_code\n\
             W-9001,Phan Thị Ngọc,079199009001,0901009001,1,0,CB-TD-01\n",
        )
        .unwrap();
        let out = cli(&db.url, &["import", path.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (_, found) = get(&http, &server, "/api/v1/workers?q=phan%20ngoc", &officer).await;
        assert_eq!(found["total"], 1, "{found}");

        // The books check out; on SQLite a copy taken while the server
        // runs is a database of its own, and a backup never overwrites.
        let out = cli(&db.url, &["check"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}");
        assert!(
            stdout.contains("checks hold") && !stdout.contains("LỖI"),
            "{stdout}"
        );
        let backups = tempfile::tempdir().unwrap();
        let copy = backups.path().join("sotay-backup.db");
        let out = cli(&db.url, &["backup", copy.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        match backend {
            Backend::Sqlite => {
                assert!(out.status.success(), "{stderr}");
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let mode = std::fs::metadata(&copy).unwrap().permissions().mode();
                    assert_eq!(mode & 0o777, 0o600, "only its owner reads the copy");
                }
                let copy_url = format!("sqlite://{}", copy.display());
                assert_eq!(scalar(&copy_url, "SELECT COUNT(*) FROM workers").await, 601);
                let out = cli(&copy_url, &["check"]);
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stdout)
                );
                let out = cli(&db.url, &["backup", copy.to_str().unwrap()]);
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert!(!out.status.success());
                assert!(stderr.contains("already exists"), "{stderr}");
                // A kept balance altered behind the ledger's back is found.
                tamper(&copy_url).await;
                let out = cli(&copy_url, &["check"]);
                let stdout = String::from_utf8_lossy(&out.stdout);
                assert_eq!(out.status.code(), Some(1), "{stdout}");
                assert!(
                    stdout.contains("LỖI") && stdout.contains("kept account balances"),
                    "{stdout}"
                );
                // So is a loan whose borrower's branch is not the one its
                // principal stands on.
                let moved = {
                    use sqlx::Connection;
                    let mut c = sqlx::SqliteConnection::connect(&copy_url).await.unwrap();
                    sqlx::query(
                        "UPDATE loans SET worker_branch_id = (SELECT MAX(id) FROM branches)
                         WHERE id = (SELECT MIN(l.id) FROM loans l JOIN journal_lines jl ON jl.loan_id = l.id
                                     WHERE jl.account = 'loan_principal'
                                       AND l.worker_branch_id <> (SELECT MAX(id) FROM branches))",
                    )
                    .execute(&mut c)
                    .await
                    .unwrap()
                    .rows_affected()
                };
                assert_eq!(moved, 1);
                let out = cli(&copy_url, &["check"]);
                let stdout = String::from_utf8_lossy(&out.stdout);
                assert!(stdout.contains("its borrower's branch's books"), "{stdout}");
                let line = stdout
                    .lines()
                    .find(|l| l.contains("its borrower's branch's books"))
                    .unwrap_or_default();
                assert!(line.trim_start().starts_with("LỖI"), "{stdout}");
            }
            Backend::Postgres => {
                assert!(!out.status.success());
                assert!(stderr.contains("pg_dump"), "{stderr}");
                assert!(!copy.exists());
            }
        }

        // A restart keeps everything and does not seed twice.
        server.kill();
        let server = Server::start(&db.url, &["--demo"]).await;
        println!(
            "{backend:?}: restart up in {} ms",
            server.started_in.as_millis()
        );
        assert!(
            server
                .banner
                .iter()
                .any(|l| l.contains("already in this database")),
            "{:#?}",
            server.banner
        );
        let admin = login(&http, &server, "admin", "e2e-admin-01").await;
        let (_, all) = get(&http, &server, "/api/v1/workers", &admin).await;
        assert_eq!(all["total"], 601);
        if backend == Backend::Postgres {
            tamper(&db.url).await;
            let out = cli(&db.url, &["check"]);
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert_eq!(out.status.code(), Some(1), "{stdout}");
            assert!(stdout.contains("kept account balances"), "{stdout}");
        }
    }
}

/// Adds one đồng to one kept account balance, as no posting would.
async fn tamper(database_url: &str) {
    use sqlx::Connection;
    let sql = "UPDATE account_balances SET debit = debit + 1
               WHERE account = 'vault' AND officer_id = 0 AND campaign_id = 0
                 AND branch_id = (SELECT MIN(branch_id) FROM account_balances WHERE account = 'vault')";
    let changed = if database_url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(database_url).await.unwrap();
        sqlx::query(sql)
            .execute(&mut c)
            .await
            .unwrap()
            .rows_affected()
    } else {
        let mut c = sqlx::SqliteConnection::connect(database_url).await.unwrap();
        sqlx::query(sql)
            .execute(&mut c)
            .await
            .unwrap()
            .rows_affected()
    };
    assert_eq!(changed, 1);
}
