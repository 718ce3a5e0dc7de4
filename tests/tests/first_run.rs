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
        // Its reader gone (`check | head` with head done) it stops as
        // other tools do: never a panic, and never the exit of a pass.
        let mut child = std::process::Command::new(sotay_tests::server_binary())
            .arg("check")
            .env("DATABASE_URL", &db.url)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(141), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
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
                // Each problem said as a person reads it: the loan's and
                // the branch's codes, the amount in đồng.
                assert!(
                    stdout
                        .lines()
                        .any(|l| l.contains("on the books of branch CN-") && l.contains(" ₫")),
                    "{stdout}"
                );
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
            assert!(stdout.contains("account vault, branch CN-"), "{stdout}");
        }
    }
}

/// Applies this source's migrations before `before` to a new database, as
/// an older server left it: how many, and how many there are in all.
async fn migrate_before(database_url: &str, backend: Backend, before: &str) -> (i64, i64) {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let kind = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let all = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../migrations")
        .join(kind);
    let (mut older, mut total) = (0, 0);
    for f in std::fs::read_dir(all).unwrap() {
        let f = f.unwrap().path();
        let name = f.file_name().unwrap().to_str().unwrap().to_string();
        total += 1;
        if name.as_str() < before {
            std::fs::copy(&f, dir.path().join(name)).unwrap();
            older += 1;
        }
    }
    let counts = (older, total);
    let older = sqlx::migrate::Migrator::new(dir.path()).await.unwrap();
    match backend {
        Backend::Sqlite => {
            let url = format!("{database_url}?mode=rwc");
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            older.run(&mut c).await.unwrap();
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(database_url).await.unwrap();
            older.run(&mut c).await.unwrap();
        }
    }
    counts
}

/// `check`, `import`, `set-password` and `backup` never change a database's
/// schema under the server that runs it: an older schema is named, not
/// migrated (a backup copies it as it is); `migrate` does it. A schema from
/// a newer binary and a URL of another database are refused, by name.
#[tokio::test]
async fn maintenance_commands_leave_the_schema_to_migrate() {
    let _turn = sotay_tests::one_at_a_time();
    for backend in BACKENDS {
        // A database no server ever ran on (DATABASE_URL pointing at the
        // wrong one): named, left as it is.
        let empty = fresh_database(backend).await;
        if backend == Backend::Sqlite {
            let path = empty.url.trim_start_matches("sqlite://");
            std::fs::File::create(path).unwrap();
        }
        for args in [&["check"][..], &["set-password", "admin"]] {
            let out = cli(&empty.url, args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{args:?}: {stderr}");
            assert!(
                stderr.contains("has no Sổ Tay schema"),
                "{args:?}: {stderr}"
            );
        }
        let tables = match backend {
            Backend::Sqlite => "SELECT COUNT(*) FROM sqlite_master",
            Backend::Postgres => {
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'"
            }
        };
        assert_eq!(scalar(&empty.url, tables).await, 0, "{backend:?}");
        // Another application's database: never set up as a fund's.
        execute(&empty.url, "CREATE TABLE invoices (id INTEGER PRIMARY KEY)").await;
        let files = tempfile::tempdir().unwrap();
        std::fs::write(files.path().join("branches.csv"), "code,name\n").unwrap();
        let import = ["import", files.path().to_str().unwrap()];
        for args in [&["migrate"][..], &["check"], &import] {
            let out = cli(&empty.url, args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{args:?}: {stderr}");
            assert!(
                stderr.contains("holds 1 tables of something else"),
                "{args:?}: {stderr}"
            );
        }
        assert_eq!(scalar(&empty.url, tables).await, 1, "{backend:?}");
        // A SQLite URL naming a folder is said to be one.
        if backend == Backend::Sqlite {
            let folder = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", folder.path().display());
            let out = cli(&url, &["migrate"]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{stderr}");
            assert!(
                stderr.contains("is a folder, not a database file"),
                "{stderr}"
            );
        }

        let db = fresh_database(backend).await;
        let (older, migrations) = migrate_before(&db.url, backend, "0030").await;
        let applied = "SELECT COUNT(*) FROM _sqlx_migrations";
        assert_eq!(scalar(&db.url, applied).await, older);
        let files = tempfile::tempdir().unwrap();
        std::fs::write(files.path().join("branches.csv"), "code,name\n").unwrap();
        let import = ["import", files.path().to_str().unwrap()];
        for args in [&["check"][..], &["set-password", "admin"], &import] {
            let out = cli(&db.url, args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{args:?}: {stderr}");
            assert!(
                stderr.contains(&format!("{older} of the {migrations} schema migrations"))
                    && stderr.contains("sotay-server migrate"),
                "{args:?}: {stderr}"
            );
            assert_eq!(scalar(&db.url, applied).await, older, "{args:?}");
        }
        if backend == Backend::Sqlite {
            // The backup before the upgrade is the old database.
            let dir = tempfile::tempdir().unwrap();
            let copy = dir.path().join("before-upgrade.db");
            let out = cli(&db.url, &["backup", copy.to_str().unwrap()]);
            assert!(out.status.success(), "{out:?}");
            let copy_url = format!("sqlite://{}", copy.display());
            assert_eq!(scalar(&copy_url, applied).await, older);
            assert_eq!(scalar(&db.url, applied).await, older);
        }
        let out = cli(&db.url, &["migrate"]);
        assert!(out.status.success(), "{out:?}");
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            said.contains(&format!(
                "Upgraded the database ({}): {} migrations applied ({older} before, {migrations} now)",
                db_kind(backend),
                migrations - older
            )),
            "{said}"
        );
        assert_eq!(scalar(&db.url, applied).await, migrations);
        let out = cli(&db.url, &["migrate"]);
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            said.contains("Database is up to date") && said.contains("no migration to apply"),
            "{said}"
        );
        // A new database is said to be set up, with how many migrations.
        let new = fresh_database(backend).await;
        let out = cli(&new.url, &["migrate"]);
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            said.contains(&format!(
                "Set up the new database ({}): {migrations} migrations applied",
                db_kind(backend)
            )),
            "{said}"
        );
        let out = cli(&db.url, &["check"]);
        assert!(out.status.success(), "{out:?}");

        // A newer binary's migration: every command stops, saying so.
        let newer =
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
                     VALUES (99990101000000, 'from a newer server', TRUE, X'00', 0)";
        let newer = if backend == Backend::Postgres {
            newer.replace("X'00'", "'\\x00'")
        } else {
            newer.to_string()
        };
        execute(&db.url, &newer).await;
        for args in [&["check"][..], &["migrate"]] {
            let out = cli(&db.url, args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{args:?}: {stderr}");
            assert!(
                stderr.contains("migrated by a newer sotay-server (migration 99990101000000"),
                "{args:?}: {stderr}"
            );
        }

        if backend == Backend::Postgres {
            // A fund's database seen through another search_path: not an
            // empty database to set up a second, empty fund in.
            let db = fresh_database(backend).await;
            assert!(cli(&db.url, &["migrate"]).status.success());
            execute(&db.url, "CREATE SCHEMA elsewhere").await;
            for (path, said) in [
                (
                    "elsewhere",
                    "Sổ Tay's data is in schema public, but this connection (search_path elsewhere) looks in schema elsewhere",
                ),
                (
                    "nowhere",
                    "the connection's search_path (nowhere) names no schema that exists",
                ),
            ] {
                let url = format!("{}?options=-csearch_path%3D{path}", db.url);
                for args in [&["migrate"][..], &["serve", "--bind", "127.0.0.1:0"], &["check"]] {
                    let out = cli(&url, args);
                    let stderr = String::from_utf8_lossy(&out.stderr);
                    assert!(!out.status.success(), "{args:?}: {stderr}");
                    assert!(stderr.contains(said), "{args:?}: {stderr}");
                }
            }
            let elsewhere = "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'elsewhere'";
            assert_eq!(scalar(&db.url, elsewhere).await, 0);
            // The fund further along the search_path than an empty schema
            // that exists: one named after the role, created later (the
            // default search_path is "$user", public), or one an ALTER ROLE
            // put first. The migrations would set up an empty fund there,
            // so every command refuses, naming both, and creates nothing.
            execute(&db.url, "CREATE SCHEMA postgres").await;
            execute(&db.url, "CREATE SCHEMA fresh").await;
            let files = tempfile::tempdir().unwrap();
            std::fs::write(
                files.path().join("branches.csv"),
                "code,name\nCN-MOI,Chi nhánh mới\n",
            )
            .unwrap();
            let import = ["import", files.path().to_str().unwrap()];
            let fresh = format!("{}?options=-csearch_path%3Dfresh%2Cpublic", db.url);
            for (url, current) in [(&db.url, "postgres"), (&fresh, "fresh")] {
                for args in [
                    &["serve", "--bind", "127.0.0.1:0"][..],
                    &["migrate"],
                    &["check"],
                    &import,
                ] {
                    let out = cli_at_most(url, args, std::time::Duration::from_secs(30));
                    let stderr = String::from_utf8_lossy(&out.stderr);
                    assert!(!out.status.success(), "{current} {args:?}: {stderr}");
                    assert!(
                        stderr.contains("Sổ Tay's data is in schema public, but this connection")
                            && stderr.contains(&format!(
                                "looks in schema {current}, which holds none of it"
                            )),
                        "{current} {args:?}: {stderr}"
                    );
                }
            }
            let made = "SELECT COUNT(*) FROM pg_tables WHERE schemaname IN ('postgres', 'fresh')";
            assert_eq!(scalar(&db.url, made).await, 0);
            assert_eq!(
                scalar(
                    &db.url,
                    "SELECT COUNT(*) FROM public.branches WHERE code = 'CN-MOI'"
                )
                .await,
                0
            );
            // The empty schema dropped, the fund is served again.
            execute(&db.url, "DROP SCHEMA postgres").await;
            let out = cli(&db.url, &["check"]);
            assert!(out.status.success(), "{out:?}");
            // Another application's migrations in a schema of their own are
            // not the fund's: a fund may be set up beside them.
            let shared = fresh_database(backend).await;
            execute(&shared.url, "CREATE SCHEMA billing").await;
            execute(
                &shared.url,
                "CREATE TABLE billing._sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL,
                 installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN NOT NULL,
                 checksum BYTEA NOT NULL, execution_time BIGINT NOT NULL)",
            )
            .await;
            execute(
                &shared.url,
                "INSERT INTO billing._sqlx_migrations VALUES (1, 'init', now(), TRUE, '\\x00', 0)",
            )
            .await;
            execute(&shared.url, "CREATE SCHEMA sotay").await;
            let url = format!("{}?options=-csearch_path%3Dsotay", shared.url);
            let out = cli(&url, &["migrate"]);
            assert!(out.status.success(), "{out:?}");
            let ours =
                "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'sotay' AND tablename = 'loans'";
            assert_eq!(scalar(&shared.url, ours).await, 1);
        }
    }
    // A fund's first import sets up its new database, folder and all.
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    let out = cli("unused", &["demo-export", files.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    // Exported again over a file edited since: nothing is overwritten,
    // and the refusal is words, not a backtrace.
    std::fs::write(files.join("workers.csv"), "sửa tay").unwrap();
    let again = std::process::Command::new(sotay_tests::server_binary())
        .args(["demo-export", files.to_str().unwrap()])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success(), "{said}");
    assert!(
        said.contains("demo-export không ghi đè tệp nào") && !said.contains("backtrace"),
        "{said}"
    );
    assert_eq!(
        std::fs::read_to_string(files.join("workers.csv")).unwrap(),
        "sửa tay"
    );
    let url = format!(
        "sqlite://{}",
        dir.path().join("data/fund/sotay.db").display()
    );
    // A spreadsheet named on the command line is told how to save it.
    let sheet = files.join("branches.xlsx");
    std::fs::write(&sheet, b"PK\x03\x04").unwrap();
    let out = cli(&url, &["import", sheet.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains("là tệp Excel, không phải CSV"), "{said}");
    let out = cli(
        &url,
        &["import", files.join("branches.csv").to_str().unwrap()],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(scalar(&url, "SELECT COUNT(*) FROM branches").await, 2);

    // Another database's URL is not taken for a file name.
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(sotay_tests::server_binary())
        .arg("migrate")
        .env("DATABASE_URL", "mysql://fund/sotay")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("starts with `mysql://`"), "{stderr}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    // A file that is no database, or a PostgreSQL that is not there, is
    // said with what to check.
    use std::os::unix::fs::PermissionsExt;
    let not_a_db = dir.path().join("notes.db");
    std::fs::write(&not_a_db, "ghi chú, không phải cơ sở dữ liệu").unwrap();
    std::fs::set_permissions(&not_a_db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let folder = dir.path().join("shared");
    std::fs::create_dir(&folder).unwrap();
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = cli(&format!("sqlite://{}", folder.display()), &["check"]);
    assert!(!out.status.success(), "{out:?}");
    for (url, said) in [
        (
            format!("sqlite://{}", not_a_db.display()),
            "is not a SQLite database file: check that DATABASE_URL names the right file",
        ),
        (
            "postgres://sotay:secret@127.0.0.1:1/sotay".to_string(),
            "refused the connection: check that the PostgreSQL server is running",
        ),
    ] {
        let out = cli(&url, &["check"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{stderr}");
        assert!(stderr.contains(said), "{stderr}");
        assert!(
            !stderr.contains("secret"),
            "the password is not shown: {stderr}"
        );
    }
    // Neither the folder nor the other file named by mistake had its
    // permissions changed.
    for (path, mode) in [(&folder, 0o755), (&not_a_db, 0o644)] {
        let now = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(now, mode, "{}: {now:o}", path.display());
    }
}

/// The SQLite file is its owner's only. Stopped as a service manager stops
/// it (SIGTERM), the server leaves everything in the database file itself:
/// a copy of that file alone, made while it is stopped, is whole.
#[tokio::test]
async fn a_stopped_server_leaves_everything_in_the_database_file() {
    use std::os::unix::fs::PermissionsExt;
    let _turn = sotay_tests::one_at_a_time();
    let db = fresh_database(Backend::Sqlite).await;
    let path = db.url.trim_start_matches("sqlite://");
    // A guessable signing secret is refused before anything is created.
    for (secret, refusal) in [
        (
            "secret".to_string(),
            "SOTAY_JWT_SECRET is too short (6 characters)",
        ),
        (
            "a".repeat(20) + &" ".repeat(20),
            "SOTAY_JWT_SECRET is not random",
        ),
    ] {
        let out = std::process::Command::new(sotay_tests::server_binary())
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env("DATABASE_URL", &db.url)
            .env("SOTAY_JWT_SECRET", secret)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{stderr}");
        assert!(stderr.contains(refusal), "{stderr}");
    }
    // So is a console cookie setting that reads as neither on nor off.
    let out = std::process::Command::new(sotay_tests::server_binary())
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("DATABASE_URL", &db.url)
        .env("SOTAY_CONSOLE_SECURE_COOKIES", "flase")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("SOTAY_CONSOLE_SECURE_COOKIES=\"flase\" does not read"),
        "{stderr}"
    );
    assert!(!std::path::Path::new(path).exists());
    let server = Server::start(&db.url, &["--demo"]).await;
    let http = reqwest::Client::new();
    login(&http, &server, "admin", "e2e-admin-01").await;
    // The file (ID numbers, password hashes, the signing secret) and its
    // WAL are its owner's only.
    for file in [path.to_string(), format!("{path}-wal")] {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{file}: {mode:o}");
    }
    // A phone's day goes up (through the upload writer's own connection).
    let base = server.base.clone();
    let accepted = tokio::task::spawn_blocking(move || {
        let phone = sotay_tests::Phone::new();
        // A mistyped password is said in both languages, as the server
        // says it, not as the HTTP status.
        match phone.book.login(
            base.clone(),
            "canbo.lan".into(),
            "not-the-password".into(),
            "E2E phone".into(),
        ) {
            Err(sotay_core::FieldBookError::Auth {
                code,
                message_vi,
                message_en,
            }) => {
                assert_eq!(code, "invalid_credentials");
                assert_eq!(message_vi, "Sai tên đăng nhập hoặc mật khẩu");
                assert_eq!(message_en, "wrong username or password");
            }
            other => panic!("{other:?}"),
        }
        phone.login(&base, "canbo.lan", PASSWORD);
        phone.book.sync(None).expect("first sync");
        let hit = phone.book.search("thi".into(), 1).unwrap().remove(0);
        phone
            .book
            .record_visit(sotay_core::VisitInput {
                worker_id: hit.worker_id,
                purpose: sotay_core::VisitPurpose::Other,
                outcome: "Đã gặp".into(),
                notes: String::new(),
                location: None,
                recorded_at: chrono::Utc::now(),
            })
            .unwrap();
        phone.book.sync(None).expect("sync").accepted
    })
    .await
    .unwrap();
    assert_eq!(accepted, 1);
    let audit = "SELECT COUNT(*) FROM audit_log";
    let written = scalar(&db.url, audit).await;
    assert!(written > 0);
    let records = "SELECT COUNT(*) FROM sync_records";
    assert_eq!(scalar(&db.url, records).await, 1);
    let status = server.stop();
    assert!(status.success(), "{status:?}");
    let wal = std::fs::metadata(format!("{path}-wal")).map_or(0, |m| m.len());
    assert_eq!(wal, 0, "the WAL still holds writes after a clean stop");
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    std::fs::copy(path, &copy).unwrap();
    let copy_url = format!("sqlite://{}", copy.display());
    assert_eq!(scalar(&copy_url, audit).await, written);
    assert_eq!(scalar(&copy_url, records).await, 1);
}

/// The backend's name as the server says it.
fn db_kind(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

/// Runs `sotay-server <args>` on `database_url`; killed when it runs longer
/// than `limit` (a server that started when it should have refused).
fn cli_at_most(
    database_url: &str,
    args: &[&str],
    limit: std::time::Duration,
) -> std::process::Output {
    let mut child = std::process::Command::new(sotay_tests::server_binary())
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run sotay-server");
    let started = std::time::Instant::now();
    while child.try_wait().expect("wait").is_none() && started.elapsed() < limit {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    child.wait_with_output().expect("sotay-server's output")
}

async fn execute(database_url: &str, sql: &str) {
    use sqlx::Connection;
    if database_url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(database_url).await.unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::SqliteConnection::connect(database_url).await.unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
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

/// `SOTAY_LOG_FORMAT=json` gives a log collector one JSON object a line:
/// the server's events and a line per request, with its method and path
/// (never its query string), status and milliseconds as numbers.
#[tokio::test]
async fn logs_as_json_one_object_a_line() {
    let db = fresh_database(Backend::Sqlite).await;
    let mut child = std::process::Command::new(sotay_tests::server_binary())
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "info")
        .env("SOTAY_LOG_FORMAT", "json")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("listening on ") {
        line.clear();
        let read = std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
        assert!(read > 0, "the server stopped before it listened");
    }
    let base = line.split("listening on ").nth(1).unwrap().trim();
    let answer = reqwest::get(format!("{base}/healthz?cmnd=079123456789"))
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let messages: Vec<&str> = lines.iter().filter_map(|l| l["message"].as_str()).collect();
    for said in ["starting", "listening", "stopped"] {
        assert!(messages.contains(&said), "{stderr}");
    }
    let request = lines
        .iter()
        .find(|l| l["span"]["path"] == "/healthz")
        .unwrap_or_else(|| panic!("no line for the request: {stderr}"));
    assert_eq!(request["span"]["method"], "GET", "{request}");
    assert_eq!(request["status"], 200, "{request}");
    assert!(request["latency_ms"].is_u64(), "{request}");
    assert_eq!(request["level"], "INFO", "{request}");
    assert!(!stderr.contains("079123456789"), "{stderr}");
}

/// `import FOLDER` reads every CSV file in it or refuses: a file whose name
/// says nothing is named, not left out; names are read in any case.
#[tokio::test]
async fn import_of_a_folder_names_the_files_it_cannot_place() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    assert!(cli("unused", &["demo-export", demo.to_str().unwrap()])
        .status
        .success());
    let folder = dir.path().join("files");
    std::fs::create_dir(&folder).unwrap();
    std::fs::copy(demo.join("branches.csv"), folder.join("Branches.CSV")).unwrap();
    std::fs::copy(demo.join("users.csv"), folder.join("nhan_vien.csv")).unwrap();
    std::fs::write(folder.join("ghi-chu.txt"), "Tệp của chi nhánh").unwrap();
    let db = fresh_database(Backend::Sqlite).await;
    let out = cli(&db.url, &["import", folder.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("cannot tell what these files hold from their names")
            && stderr.contains("nhan_vien.csv")
            && !stderr.contains("ghi-chu.txt"),
        "{stderr}"
    );
    assert!(!std::path::Path::new(db.url.trim_start_matches("sqlite://")).exists());
    // A file refused for its rows leaves no new, empty database behind.
    let bad = dir.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    std::fs::write(
        bad.join("branches.csv"),
        "code,name,district,industrial_zone,address\nCN-1,,Q1,,\n",
    )
    .unwrap();
    let out = cli(&db.url, &["import", bad.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("was removed, nothing having been imported"),
        "{stderr}"
    );
    assert!(!std::path::Path::new(db.url.trim_start_matches("sqlite://")).exists());
    // Named as it should be, the folder imports; the note beside is let be.
    // The admin's password left out of the file: the import says no one
    // can sign in as him yet, and how to set it.
    let users = std::fs::read_to_string(folder.join("nhan_vien.csv")).unwrap();
    let users: String = users
        .lines()
        .map(|l| match l.strip_suffix(",sotay-demo-2026") {
            Some(rest) if l.contains(",admin,") => format!("{rest},\n"),
            _ => format!("{l}\n"),
        })
        .collect();
    std::fs::write(folder.join("users.csv"), users).unwrap();
    std::fs::remove_file(folder.join("nhan_vien.csv")).unwrap();
    let out = cli(&db.url, &["import", folder.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "branches.csv: 2 tạo mới, 0 cập nhật, 0 không đổi / 2 created, 0 updated, 0 unchanged"
        ),
        "each file's counts in both languages: {stdout}"
    );
    assert!(
        stdout.contains("1 account has no password yet, so no one can sign in to it: admin;")
            && stdout.contains("set-password"),
        "{stdout}"
    );
    assert_eq!(scalar(&db.url, "SELECT COUNT(*) FROM branches").await, 2);
    assert!(scalar(&db.url, "SELECT COUNT(*) FROM users").await > 5);
    // Two files of one kind, or a folder that is not there, are refused.
    std::fs::copy(demo.join("users.csv"), folder.join("Users.csv")).unwrap();
    for (path, said) in [
        (folder.clone(), "are both users.csv"),
        (dir.path().join("khong-co"), "no such file or folder"),
    ] {
        let out = cli(&db.url, &["import", path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{stderr}");
        assert!(stderr.contains(said), "{stderr}");
    }
}

/// Phones revoked before devices kept whether their account's closing
/// revoked them: only those of an account still closed are taken as
/// revoked with it (reopening it lifts them); one revoked by a supervisor
/// with a reason that reads the same, on an open account, stays revoked.
#[tokio::test]
async fn an_upgrade_tells_phones_revoked_with_their_account_from_lost_ones() {
    for backend in BACKENDS {
        let db = fresh_database(backend).await;
        migrate_before(&db.url, backend, "0045").await;
        let (uid, yes, no) = match backend {
            Backend::Sqlite => ("randomblob(16)", "1", "0"),
            Backend::Postgres => ("gen_random_uuid()", "TRUE", "FALSE"),
        };
        for (id, active) in [(1, yes), (2, no)] {
            execute(
                &db.url,
                &format!(
                    "INSERT INTO users (id, code, uid, username, full_name, name_key, role, active, created_at, updated_at)
                     VALUES ({id}, 'QT-{id}', {uid}, 'quantri{id}', 'Quản trị {id}', 'quan tri {id}', 'admin', {active},
                             '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
                ),
            )
            .await;
        }
        for (device, code, user, reason) in [
            ("lost-on-open", "AAA1", 1, "Tài khoản bị khóa: mất máy"),
            ("with-closed", "AAA2", 2, "Tài khoản bị khóa: Nghỉ việc"),
            ("lost-on-closed", "AAA3", 2, "Mất máy"),
        ] {
            execute(
                &db.url,
                &format!(
                    "INSERT INTO devices (id, user_id, name, code, created_at, last_seen_at, revoked_at, revoked_by, revoke_reason)
                     VALUES ('{device}', {user}, 'Máy', '{code}', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z',
                             '2026-02-01T00:00:00Z', 1, '{reason}')"
                ),
            )
            .await;
        }
        let out = cli(&db.url, &["migrate"]);
        assert!(out.status.success(), "{out:?}");
        let with_account = |device: &str| {
            format!("SELECT COUNT(*) FROM devices WHERE id = '{device}' AND revoked_with_account = {yes}")
        };
        assert_eq!(
            scalar(&db.url, &with_account("lost-on-open")).await,
            0,
            "{backend:?}"
        );
        assert_eq!(
            scalar(&db.url, &with_account("with-closed")).await,
            1,
            "{backend:?}"
        );
        assert_eq!(
            scalar(&db.url, &with_account("lost-on-closed")).await,
            0,
            "{backend:?}"
        );
    }
}

/// Codes stored with characters no one sees (a zero-width space copied in
/// before the import dropped them) lose them when the database is
/// upgraded, so that a file sent again finds their rows; one that would
/// become another's code is left as it is.
#[tokio::test]
async fn an_upgrade_drops_invisible_characters_from_stored_codes() {
    for backend in BACKENDS {
        let db = fresh_database(backend).await;
        migrate_before(&db.url, backend, "0044").await;
        let (zwsp, uid) = match backend {
            Backend::Sqlite => ("char(8203)", "randomblob(16)"),
            Backend::Postgres => ("chr(8203)", "gen_random_uuid()"),
        };
        for (n, code) in [
            (1, format!("'CN-1' || {zwsp}")),
            (2, "'CN-2'".to_string()),
            (3, format!("'CN-2' || {zwsp}")),
        ] {
            execute(
                &db.url,
                &format!(
                    "INSERT INTO branches (code, uid, name, district, industrial_zone, address, created_at, updated_at)
                     VALUES ({code}, {uid}, 'Chi nhánh {n}', '', '', '', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
                ),
            )
            .await;
        }
        let out = cli(&db.url, &["migrate"]);
        assert!(out.status.success(), "{out:?}");
        let with = |code: &str| format!("SELECT COUNT(*) FROM branches WHERE code = '{code}'");
        assert_eq!(scalar(&db.url, &with("CN-1")).await, 1, "{backend:?}");
        assert_eq!(scalar(&db.url, &with("CN-2")).await, 1, "{backend:?}");
        assert_eq!(
            scalar(&db.url, "SELECT COUNT(*) FROM branches").await,
            3,
            "{backend:?}: the one that would be CN-2's twin is kept as it was"
        );
    }
}
