//! Storage behaviour, the same suite on SQLite and on PostgreSQL.

mod common;

use common::{fresh_db, import_fixture, import_fixture_for_an_old_schema, system_audit, BACKENDS};
use sotay_core::domain::schedule::{build_schedule, Frequency, InterestMethod, LoanTerms};
use sotay_server::db::{CanonicalBatch, Db, ImportCounts, Scope};
use sotay_server::import::csv::ImportKind;
use sotay_server::importer::{self, ImportFile};

fn file(kind: ImportKind, text: &str) -> ImportFile {
    ImportFile {
        kind,
        name: kind.file_name().to_string(),
        bytes: text.as_bytes().to_vec(),
    }
}

async fn import(
    db: &Db,
    files: &[ImportFile],
) -> Result<sotay_server::db::ImportReport, sotay_server::error::AppError> {
    importer::import_files(db, files, "cli", None, system_audit(), &mut |_| {}).await
}

async fn exec(db: &Db, sql: &str) -> Result<u64, sqlx::Error> {
    match db {
        Db::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()),
        Db::Postgres(p) => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()),
    }
}

async fn scalar(db: &Db, sql: &str) -> i64 {
    match db {
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}

fn counts(created: i64, updated: i64, unchanged: i64) -> ImportCounts {
    ImportCounts {
        created,
        updated,
        unchanged,
    }
}

#[tokio::test]
async fn import_creates_then_reimport_changes_nothing() {
    for backend in BACKENDS {
        let t = fresh_db(backend).await;
        let first = import_fixture(&t.db).await;
        assert_eq!(first.branches, counts(2, 0, 0));
        assert_eq!(first.users, counts(6, 0, 0));
        assert_eq!(first.workers, counts(4, 0, 0));
        assert_eq!(first.loans, counts(4, 0, 0));
        assert_eq!(first.allocations, counts(3, 0, 0));
        let second = import_fixture(&t.db).await;
        assert_eq!(
            second.totals(),
            counts(0, 0, first.totals().created),
            "{backend:?}"
        );
        assert_eq!(t.db.count("imports").await.unwrap(), 2);
        assert_eq!(t.db.audit_count("import").await.unwrap(), 2);
    }
}

#[tokio::test]
async fn schedules_are_stored_exactly_with_opening_payments_applied() {
    for backend in BACKENDS {
        let t = fresh_db(backend).await;
        import_fixture(&t.db).await;
        let loans = t.db.loans(Scope::Fund, None, None, 100, 0).await.unwrap();
        let l1 = loans.iter().find(|l| l.code == "L-001").unwrap();
        let expected = build_schedule(&LoanTerms {
            principal: 10_000_000,
            annual_rate_bp: 1200,
            method: InterestMethod::Declining,
            frequency: Frequency::Weekly,
            installments: 26,
            disbursed_on: chrono::NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
        })
        .unwrap();
        let stored = t.db.installments(l1.id).await.unwrap();
        assert_eq!(stored.len(), 26);
        for (s, e) in stored.iter().zip(&expected) {
            assert_eq!(
                (s.due_on, s.principal_due, s.interest_due),
                (e.due_on, e.principal, e.interest)
            );
        }
        // 1.000.000 paid before import: interest first, oldest installment first.
        let total_interest: i64 = expected.iter().map(|i| i.interest).sum();
        let paid_interest: i64 = stored.iter().map(|s| s.interest_paid).sum();
        let paid_principal: i64 = stored.iter().map(|s| s.principal_paid).sum();
        assert_eq!(paid_interest + paid_principal, 1_000_000);
        assert_eq!(stored[0].interest_paid, stored[0].interest_due);
        assert_eq!(stored[0].principal_paid, stored[0].principal_due);
        assert_eq!(l1.outstanding_principal, 10_000_000 - paid_principal);
        assert_eq!(l1.outstanding_interest, total_interest - paid_interest);
        assert_eq!(l1.status, "active");
        let sum_due = scalar(
            &t.db,
            "SELECT CAST(SUM(principal_due) AS BIGINT) FROM installments",
        )
        .await;
        assert_eq!(
            sum_due,
            10_000_000 + 3_000_000 + 5_000_000 + 8_000_000,
            "{backend:?}"
        );
    }
}

#[tokio::test]
async fn one_bad_row_imports_nothing() {
    for backend in BACKENDS {
        let t = fresh_db(backend).await;
        import_fixture(&t.db).await;
        let before = t.db.count("loans").await.unwrap();
        // Line 2 is good, line 3 pays more than the loan will ever owe.
        let loans = "code,worker_code,product_code,principal,disbursed_on,paid_to_date\n\
                     L-010,W-001,SP-TT,1000000,01/10/2026,0\n\
                     L-011,W-002,SP-TT,1000000,01/10/2026,2000000\n";
        let err = import(&t.db, &[file(ImportKind::Loans, loans)])
            .await
            .unwrap_err();
        assert_eq!(err.errors.len(), 1);
        assert_eq!(
            (err.errors[0].line, err.errors[0].column.as_str()),
            (3, "paid_to_date")
        );
        assert_eq!(t.db.count("loans").await.unwrap(), before, "{backend:?}");
        assert_eq!(
            t.db.count("installments").await.unwrap(),
            scalar(&t.db, "SELECT CAST(SUM(installments) AS BIGINT) FROM loans").await
        );
        // Outside the product's limits.
        let loans = "code,worker_code,product_code,principal,disbursed_on\nL-012,W-001,SP-TT,20000000,01/10/2026\n";
        let err = import(&t.db, &[file(ImportKind::Loans, loans)])
            .await
            .unwrap_err();
        assert_eq!(err.errors[0].column, "principal");
        // A disbursed loan is not edited by import.
        let loans = "code,worker_code,product_code,principal,disbursed_on,paid_to_date\nL-001,W-001,SP-TUAN,12000000,01/09/2026,1000000\n";
        let err = import(&t.db, &[file(ImportKind::Loans, loans)])
            .await
            .unwrap_err();
        assert_eq!(err.errors[0].column, "code");
        assert!(err.errors[0]
            .message_en
            .contains("not changed by an import"));
        // Officers' quotas above the branch's.
        let alloc = "campaign_code,branch_code,officer_code,quota\nTET-2027,CN-TD,CB-TD-02,31\n";
        let err = import(&t.db, &[file(ImportKind::Allocations, alloc)])
            .await
            .unwrap_err();
        assert_eq!(err.errors[0].column, "quota", "{:?}", err.errors);
        // A CCCD that belongs to someone else.
        let workers = "code,full_name,cccd,union_member,hardship,officer_code\nW-050,Ngô Văn Tư,079195000001,1,0,CB-TD-01\n";
        let err = import(&t.db, &[file(ImportKind::Workers, workers)])
            .await
            .unwrap_err();
        assert_eq!(err.errors[0].column, "cccd");
        // A worker assigned to a supervisor.
        let workers = "code,full_name,cccd,union_member,hardship,officer_code\nW-051,Ngô Văn Năm,079195000051,1,0,GS-TD\n";
        let err = import(&t.db, &[file(ImportKind::Workers, workers)])
            .await
            .unwrap_err();
        assert_eq!(err.errors[0].column, "officer_code");
        assert_eq!(t.db.count("workers").await.unwrap(), 4);
        // Two files at once: a worker row that does not read, and a loan of
        // that worker beside a loan of a worker nobody has. The loan of the
        // unread worker is not also "not found"; the other one is.
        let workers = "code,full_name,cccd,union_member,hardship,officer_code\nW-060,Ngô Văn Sáu,0791950000,1,0,CB-TD-01\n";
        let loans = "code,worker_code,product_code,principal,disbursed_on\n\
                     L-060,W-060,SP-TT,1000000,01/10/2026\n\
                     L-061,W-404,SP-TT,1000000,01/10/2026\n";
        let err = import(
            &t.db,
            &[
                file(ImportKind::Workers, workers),
                file(ImportKind::Loans, loans),
            ],
        )
        .await
        .unwrap_err();
        let found: Vec<(&str, u64, &str)> = err
            .errors
            .iter()
            .map(|e| (e.file.as_str(), e.line, e.column.as_str()))
            .collect();
        assert_eq!(
            found,
            [("loans.csv", 3, "worker_code"), ("workers.csv", 2, "cccd")],
            "{backend:?}"
        );
        // A worker whose officer nobody has, and a loan of that worker: only
        // the worker's row is blamed (the loan's worker is right there).
        let workers = "code,full_name,cccd,union_member,hardship,officer_code\nW-061,Ngô Văn Bảy,079195000061,1,0,CB-404\n";
        let loans = "code,worker_code,product_code,principal,disbursed_on\nL-062,W-061,SP-TT,1000000,01/10/2026\n";
        let err = import(
            &t.db,
            &[
                file(ImportKind::Workers, workers),
                file(ImportKind::Loans, loans),
            ],
        )
        .await
        .unwrap_err();
        let found: Vec<(&str, u64, &str)> = err
            .errors
            .iter()
            .map(|e| (e.file.as_str(), e.line, e.column.as_str()))
            .collect();
        assert_eq!(found, [("workers.csv", 2, "officer_code")], "{backend:?}");
        // A code twice in a file beside a loan of a worker nobody has: both
        // said at once (the twice-read row is not checked again).
        let workers = "code,full_name,cccd,union_member,hardship,officer_code\n\
                       W-070,Ngô Văn Mười,079195000070,1,0,CB-TD-01\n\
                       W-070,Ngô Văn Mười,079195000071,1,0,CB-TD-01\n";
        let loans = "code,worker_code,product_code,principal,disbursed_on\nL-070,W-405,SP-TT,1000000,01/10/2026\n";
        let err = import(
            &t.db,
            &[
                file(ImportKind::Workers, workers),
                file(ImportKind::Loans, loans),
            ],
        )
        .await
        .unwrap_err();
        let found: Vec<(&str, u64, &str)> = err
            .errors
            .iter()
            .map(|e| (e.file.as_str(), e.line, e.column.as_str()))
            .collect();
        assert_eq!(
            found,
            [("loans.csv", 2, "worker_code"), ("workers.csv", 3, "code")],
            "{backend:?}"
        );
        assert_eq!(t.db.count("workers").await.unwrap(), 4);
        assert_eq!(t.db.count("loans").await.unwrap(), before);
        // A borrower moved to an officer of another branch: their loans are
        // on this branch's books.
        let mut text =
            String::from_utf8(std::fs::read(common::fixture_dir().join("workers.csv")).unwrap())
                .unwrap();
        text = text.replace(",P.12,0,,CB-TD-01", ",P.12,0,,CB-BT-01");
        let err = import(&t.db, &[file(ImportKind::Workers, &text)])
            .await
            .unwrap_err();
        assert_eq!(err.errors.len(), 1, "{:?}", err.errors);
        assert_eq!(
            (err.errors[0].line, err.errors[0].column.as_str()),
            (2, "officer_code")
        );
        assert!(err.errors[0].message_en.contains("another branch"));
        // A worker line with a comma too many, and a workers file whose
        // header does not read: the loans naming those workers are not
        // also "not found".
        let workers = "code,full_name,cccd,union_member,hardship,officer_code\nW-061,Ngô, Văn Bảy,079195000061,1,0,CB-TD-01\n";
        let loans = "code,worker_code,product_code,principal,disbursed_on\nL-062,W-061,SP-TT,1000000,01/10/2026\n";
        let err = import(
            &t.db,
            &[
                file(ImportKind::Workers, workers),
                file(ImportKind::Loans, loans),
            ],
        )
        .await
        .unwrap_err();
        let found: Vec<(&str, u64)> = err
            .errors
            .iter()
            .map(|e| (e.file.as_str(), e.line))
            .collect();
        assert_eq!(found, [("workers.csv", 2)], "{:?}", err.errors);
        let workers = "code,full_name,cccd,union,hardship,officer_code\nW-063,Ngô Văn Tám,079195000063,1,0,CB-TD-01\n";
        let loans = "code,worker_code,product_code,principal,disbursed_on\nL-063,W-063,SP-TT,1000000,01/10/2026\n";
        let err = import(
            &t.db,
            &[
                file(ImportKind::Workers, workers),
                file(ImportKind::Loans, loans),
            ],
        )
        .await
        .unwrap_err();
        assert!(
            err.errors.iter().all(|e| e.file == "workers.csv"),
            "only the header's errors: {:?}",
            err.errors
        );
        // Every refused attempt is in the audit log.
        assert_eq!(
            t.db.audit_count("import_refused").await.unwrap(),
            12,
            "{backend:?}"
        );
    }
}

#[tokio::test]
async fn nfd_input_is_stored_nfc_and_found_without_accents() {
    for backend in BACKENDS {
        let t = fresh_db(backend).await;
        import_fixture(&t.db).await;
        // "Trần Thị Ánh" typed with combining marks (NFD).
        let nfd = "Tra\u{0302}\u{0300}n Thi\u{0323} A\u{0301}nh";
        let workers = format!("code,full_name,cccd,union_member,hardship,officer_code\nW-060,{nfd},079195000060,1,1,CB-TD-02\n");
        import(&t.db, &[file(ImportKind::Workers, &workers)])
            .await
            .unwrap();
        let hung = scalar(&t.db, "SELECT id FROM users WHERE code = 'CB-TD-02'").await;
        let found =
            t.db.find_workers(Scope::Officer(hung), &["anh".to_string()], None, 10, 0)
                .await
                .unwrap();
        assert_eq!(found.len(), 1, "{backend:?}");
        assert_eq!(found[0].full_name, "Trần Thị Ánh");
        assert_eq!(found[0].full_name.chars().count(), 12, "stored NFC");
    }
}

#[tokio::test]
async fn a_reused_code_of_another_person_is_refused_naming_the_stored_worker() {
    for backend in BACKENDS {
        let t = fresh_db(backend).await;
        import_fixture(&t.db).await;
        let head = "code,full_name,cccd,union_member,hardship,officer_code\n";
        // Another branch's sheet numbering from W-001 too: name and CCCD
        // both another person's.
        let other = format!("{head}W-001,Phạm Văn Tùng,079199999999,1,0,CB-TD-01\n");
        let err = import(&t.db, &[file(ImportKind::Workers, &other)])
            .await
            .unwrap_err();
        assert_eq!(err.errors.len(), 1, "{:?}", err.errors);
        let e = &err.errors[0];
        assert_eq!((e.line, e.column.as_str()), (2, "code"), "{backend:?}");
        for m in [&e.message_vi, &e.message_en] {
            assert!(m.contains("W-001") && m.contains("Nguyễn Thị Lan"), "{m}");
            assert!(m.contains("********0001"), "{m}");
            assert!(
                !m.contains("079195000001"),
                "a whole CCCD is not shown: {m}"
            );
        }
        assert!(e.message_vi.contains("mã riêng"), "{}", e.message_vi);
        assert_eq!(
            scalar(
                &t.db,
                "SELECT COUNT(*) FROM workers WHERE full_name = 'Phạm Văn Tùng'"
            )
            .await,
            0
        );
        // A new CCCD alone (a CMND replaced, a typo) is the same person;
        // so is a name written otherwise (case, accents) with another CCCD,
        // and a corrected name under the same CCCD.
        for row in [
            "W-001,Nguyễn Thị Lan,079195000111,1,0,CB-TD-01",
            "W-001,NGUYEN THI LAN,079195000222,1,0,CB-TD-01",
            "W-001,Nguyễn Thị Lan Anh,079195000222,1,0,CB-TD-01",
        ] {
            import(
                &t.db,
                &[file(ImportKind::Workers, &format!("{head}{row}\n"))],
            )
            .await
            .unwrap_or_else(|e| panic!("{row}: {:?}", e.errors));
        }
        assert_eq!(
            scalar(
                &t.db,
                "SELECT COUNT(*) FROM workers WHERE code = 'W-001' AND cccd = '079195000222'"
            )
            .await,
            1,
            "{backend:?}"
        );
    }
}

#[tokio::test]
async fn reassigning_a_worker_moves_them_between_officers() {
    for backend in BACKENDS {
        let t = fresh_db(backend).await;
        import_fixture(&t.db).await;
        let lan = scalar(&t.db, "SELECT id FROM users WHERE code = 'CB-TD-01'").await;
        let hung = scalar(&t.db, "SELECT id FROM users WHERE code = 'CB-TD-02'").await;
        let mut text =
            String::from_utf8(std::fs::read(common::fixture_dir().join("workers.csv")).unwrap())
                .unwrap();
        text = text.replace(
            "Chồng bị tai nạn lao động,CB-TD-01",
            "Chồng bị tai nạn lao động,CB-TD-02",
        );
        let report = import(&t.db, &[file(ImportKind::Workers, &text)])
            .await
            .unwrap();
        assert_eq!(report.workers, counts(0, 1, 3), "{backend:?}");
        // The report names who moved, from whom to whom.
        assert_eq!(
            report.reassigned,
            [sotay_server::db::Reassignment {
                worker_code: "W-002".into(),
                worker_name: "Đặng Thị Thu".into(),
                from_officer: "CB-TD-01".into(),
                to_officer: "CB-TD-02".into(),
            }]
        );
        assert_eq!(t.db.count_workers(Scope::Officer(lan)).await.unwrap(), 1);
        assert_eq!(t.db.count_workers(Scope::Officer(hung)).await.unwrap(), 2);
        // The loan follows the worker.
        let loans =
            t.db.loans(Scope::Officer(hung), None, None, 10, 0)
                .await
                .unwrap();
        assert!(loans.iter().any(|l| l.code == "L-002"));
    }
}

#[tokio::test]
async fn the_audit_log_and_schema_refuse_what_must_not_happen() {
    for backend in BACKENDS {
        let t = fresh_db(backend).await;
        import_fixture(&t.db).await;
        assert!(
            exec(&t.db, "UPDATE audit_log SET action = 'x'")
                .await
                .is_err(),
            "{backend:?}"
        );
        assert!(
            exec(&t.db, "DELETE FROM audit_log").await.is_err(),
            "{backend:?}"
        );
        assert_eq!(t.db.audit_count("import").await.unwrap(), 1);
        // Paid above due, negative money: the schema says no.
        assert!(exec(
            &t.db,
            "UPDATE installments SET principal_paid = principal_due + 1"
        )
        .await
        .is_err());
        assert!(exec(&t.db, "UPDATE loans SET principal = -1")
            .await
            .is_err());
        // Reopening runs no migration twice.
        let again = Db::connect(&t.url).await.unwrap();
        assert_eq!(again.count("workers").await.unwrap(), 4);
    }
}

/// A fund's own database is not seeded with the demo (its admin's
/// password is public): refused, nothing added.
#[tokio::test]
async fn the_demo_fund_is_not_seeded_into_a_real_fund() {
    for backend in BACKENDS {
        let t = fresh_db(backend).await;
        import_fixture(&t.db).await;
        let users = t.db.count("users").await.unwrap();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let e = importer::seed_demo(&t.db, today)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("--demo") && e.contains("DATABASE_URL"), "{e}");
        assert_eq!(t.db.count("users").await.unwrap(), users, "{backend:?}");
        assert_eq!(t.db.setting("demo_seeded").await.unwrap(), None);
    }
}

/// A real fund built from `demo-export`'s files keeps the demo's branch
/// codes and usernames (its own passwords): no demo people, no demo
/// capital, whether it imported the branches and accounts or the whole
/// sample.
#[tokio::test]
async fn the_demo_fund_is_not_seeded_into_a_fund_with_the_demos_codes() {
    for backend in BACKENDS {
        for whole in [false, true] {
            let t = fresh_db(backend).await;
            let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
            let full = sotay_server::demo::demo_fund(today);
            let set = if whole {
                full
            } else {
                sotay_server::import::rows::ImportSet {
                    branches: full.branches,
                    users: full.users,
                    ..Default::default()
                }
            };
            t.db.apply_import(
                &set,
                &sotay_server::db::ImportMeta {
                    user_id: None,
                    source: "cli",
                    files: vec!["branches.csv".into(), "users.csv".into()],
                    sha256: String::new(),
                    rows: set.row_count() as i64,
                },
                system_audit(),
            )
            .await
            .unwrap();
            let workers = t.db.count("workers").await.unwrap();
            let e = importer::seed_demo(&t.db, today)
                .await
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("holds a fund already") && e.contains("--demo"),
                "{backend:?} {whole}: {e}"
            );
            assert_eq!(
                scalar(&t.db, "SELECT COUNT(*) FROM capital_receipts").await,
                0
            );
            assert_eq!(t.db.count("workers").await.unwrap(), workers);
            assert_eq!(t.db.setting("demo_seeded").await.unwrap(), None);
            assert_eq!(t.db.setting("demo_seeding").await.unwrap(), None);
        }
    }
}

/// A demo seeding cut short (the server stopped half-way) is finished by
/// the next `serve --demo`: the database's marker says a seeding started,
/// and it holds only the demo's own.
#[tokio::test]
async fn a_demo_seeding_cut_short_is_finished() {
    for backend in BACKENDS {
        let t = fresh_db(backend).await;
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        t.db.set_setting_once("demo_seeding", &today.to_string())
            .await
            .unwrap();
        let mut set = sotay_server::demo::demo_fund(today);
        set.workers.clear();
        set.loans.clear();
        t.db.apply_import(
            &set,
            &sotay_server::db::ImportMeta {
                user_id: None,
                source: "demo",
                files: vec!["demo".into()],
                sha256: String::new(),
                rows: set.row_count() as i64,
            },
            system_audit(),
        )
        .await
        .unwrap();
        let report = importer::seed_demo(&t.db, today)
            .await
            .unwrap()
            .expect("seeded on");
        assert_eq!(report.workers.created, 600, "{backend:?}");
        assert!(t.db.setting("demo_seeded").await.unwrap().is_some());
    }
}

#[tokio::test]
async fn the_demo_fund_imports_on_both_backends() {
    for backend in BACKENDS {
        let t = fresh_db(backend).await;
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let started = std::time::Instant::now();
        let report = importer::seed_demo(&t.db, today)
            .await
            .unwrap()
            .expect("seeded");
        let ms = started.elapsed().as_millis();
        println!(
            "{backend:?}: demo fund seeded in {ms} ms ({} rows)",
            report.totals().created
        );
        assert_eq!(report.workers.created, 600);
        assert_eq!(report.loans.created, 500);
        assert_eq!(report.users.created, 11);
        assert!(
            importer::seed_demo(&t.db, today).await.unwrap().is_none(),
            "seeded once"
        );
        let overdue = t.db.overdue_loans(Scope::Fund, today).await.unwrap();
        assert!((40..=80).contains(&overdue), "{overdue} overdue loans");
        // Every officer has a portfolio; reimporting the same fund changes nothing.
        for officer in
            t.db.users(None)
                .await
                .unwrap()
                .iter()
                .filter(|u| u.role == "officer")
        {
            assert!(
                t.db.count_workers(Scope::Officer(officer.id))
                    .await
                    .unwrap()
                    > 50
            );
        }
        let set = sotay_server::demo::demo_fund(today);
        let meta = sotay_server::db::ImportMeta {
            user_id: None,
            source: "demo",
            files: vec![],
            sha256: String::new(),
            rows: 0,
        };
        let again =
            t.db.apply_import(&set, &meta, system_audit())
                .await
                .unwrap();
        assert_eq!(again.totals().created + again.totals().updated, 0);
    }
}

/// A SQLite database with a day's books under the schema before the
/// campaign receipts: upgraded, it keeps every row and every reference, and
/// its schema is a fresh install's.
#[tokio::test]
async fn upgrading_a_sqlite_database_keeps_its_books() {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    use std::str::FromStr;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
        .unwrap()
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    // The migrations before 0007, as an older server had them.
    let older = dir.path().join("migrations");
    std::fs::create_dir(&older).unwrap();
    let all = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/sqlite");
    for f in std::fs::read_dir(all).unwrap() {
        let f = f.unwrap().path();
        let name = f.file_name().unwrap().to_str().unwrap().to_string();
        if name.as_str() < "0007" {
            std::fs::copy(&f, older.join(name)).unwrap();
        }
    }
    let before = sqlx::migrate::Migrator::new(older).await.unwrap();
    before.run(&pool).await.unwrap();
    let old = Db::Sqlite(pool);
    import_fixture_for_an_old_schema(&old).await;
    for sql in [
        "INSERT INTO devices (id, user_id, name, code, created_at, last_seen_at)
         SELECT 'dev-1', id, 'phone', 'OLD1', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z' FROM users WHERE username = 'canbo.lan'",
        "INSERT INTO journal_entries (id, branch_id, kind, officer_id, posted_by, posted_at, memo)
         SELECT 1, branch_id, 'settlement', id, id, '2026-11-01T00:00:00Z', 'nộp tiền' FROM users WHERE username = 'canbo.lan'",
        "INSERT INTO journal_lines (entry_id, account, branch_id, officer_id, debit, credit)
         SELECT 1, 'vault', branch_id, NULL, 5000, 0 FROM users WHERE username = 'canbo.lan'",
        "INSERT INTO journal_lines (entry_id, account, branch_id, officer_id, debit, credit)
         SELECT 1, 'cash_over_short', branch_id, id, 0, 5000 FROM users WHERE username = 'canbo.lan'",
        "INSERT INTO journal_entries (id, branch_id, kind, reverses, posted_by, posted_at, memo)
         SELECT 2, branch_id, 'reversal', 1, id, '2026-11-02T00:00:00Z', 'đảo' FROM users WHERE username = 'giamsat.td'",
        "INSERT INTO journal_lines (entry_id, account, branch_id, officer_id, debit, credit)
         SELECT 2, 'vault', branch_id, NULL, 0, 5000 FROM users WHERE username = 'canbo.lan'",
        "INSERT INTO journal_lines (entry_id, account, branch_id, officer_id, debit, credit)
         SELECT 2, 'cash_over_short', branch_id, id, 5000, 0 FROM users WHERE username = 'canbo.lan'",
        "INSERT INTO branch_reversals (entry_id, reason, requested_by, requested_at)
         SELECT 1, 'sai', id, '2026-11-02T00:00:00Z' FROM users WHERE username = 'giamsat.td'",
    ] {
        exec(&old, sql).await.expect(sql);
    }
    let tables = [
        "users",
        "devices",
        "journal_entries",
        "journal_lines",
        "branch_reversals",
        "workers",
    ];
    let mut rows = Vec::new();
    for t in tables {
        rows.push(scalar(&old, &format!("SELECT COUNT(*) FROM {t}")).await);
    }
    old.close().await;

    let db = Db::connect(path.to_str().unwrap()).await.expect("upgrade");
    for (t, n) in tables.iter().zip(&rows) {
        assert_eq!(
            scalar(&db, &format!("SELECT COUNT(*) FROM {t}")).await,
            *n,
            "{t}"
        );
    }
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM pragma_foreign_key_check").await,
        0
    );
    // The wider checks hold, and the narrower ones still refuse.
    exec(
        &db,
        "INSERT INTO users (code, uid, username, full_name, name_key, role, branch_id, created_at, updated_at)
         SELECT 'TQ-01', x'01', 'thuquy', 'Thủ quỹ', 'thu quy', 'cashier', branch_id, 'x', 'x' FROM users WHERE username = 'canbo.lan'",
    )
    .await
    .unwrap();
    assert!(exec(
        &db,
        "UPDATE users SET role = 'teller' WHERE username = 'thuquy'"
    )
    .await
    .is_err());
    assert!(
        exec(&db, "DELETE FROM journal_lines").await.is_err(),
        "still append-only"
    );
    assert!(
        exec(&db, "DELETE FROM users WHERE username = 'canbo.lan'")
            .await
            .is_err(),
        "still referenced"
    );

    let fresh = fresh_db(common::Backend::Sqlite).await;
    let schema = |db: Db| async move {
        let Db::Sqlite(p) = db else { unreachable!() };
        sqlx::query_as::<_, (String, String, Option<String>)>(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
        )
        .fetch_all(&p)
        .await
        .unwrap()
    };
    assert_eq!(schema(db.clone()).await, schema(fresh.db.clone()).await);
}

/// A database at the schema before migration `version`, opened as the
/// server opened it then.
async fn schema_before(url: &str, backend: common::Backend, version: i64) -> Db {
    fn older(mut all: sqlx::migrate::Migrator, version: i64) -> sqlx::migrate::Migrator {
        all.migrations = all
            .migrations
            .iter()
            .filter(|m| m.version < version)
            .cloned()
            .collect::<Vec<_>>()
            .into();
        all
    }
    match backend {
        common::Backend::Sqlite => {
            use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
            use std::str::FromStr;
            let options = SqliteConnectOptions::from_str(url)
                .unwrap()
                .create_if_missing(true)
                .foreign_keys(true);
            let pool = SqlitePool::connect_with(options).await.unwrap();
            older(sqlx::migrate!("../migrations/sqlite"), version)
                .run(&pool)
                .await
                .unwrap();
            Db::Sqlite(pool)
        }
        common::Backend::Postgres => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            older(sqlx::migrate!("../migrations/postgres"), version)
                .run(&pool)
                .await
                .unwrap();
            Db::Postgres(pool)
        }
    }
}

/// Loans in the books before their opening entries existed (0018): the
/// upgrade posts each one's opening, the principal it owed when imported
/// (what it owes now plus the principal posted since), and nothing for a
/// loan that owed none; the ledger then agrees with the installments.
#[tokio::test]
async fn upgrading_posts_the_opening_of_the_loans_already_in_the_books() {
    for backend in BACKENDS {
        let keep = sotay_tests::fresh_database(backend).await;
        let old = schema_before(&keep.url, backend, 18).await;
        import_fixture_for_an_old_schema(&old).await;
        // Two loans as an older import stored them: L-OLD owed 500.000 ₫ of
        // principal then (500.000 of 1.000.000 paid before the import);
        // L-PAID owed nothing. Then 200.000 ₫ of L-OLD's principal was
        // repaid at the counter and posted.
        for sql in [
            "INSERT INTO loans (id, code, uid, worker_id, product_id, principal, annual_rate_bp, method, frequency,
                 installments, disbursed_on, opening_paid, status, created_at, updated_at)
             SELECT 901, 'L-OLD', '00000000-0000-0000-0000-000000000901', w.id, p.id, 1000000, 1200, 'flat', 'monthly',
                 2, '2026-09-01', 510000, 'active', '2026-10-01T08:00:00Z', '2026-10-01T08:00:00Z'
             FROM workers w, loan_products p WHERE w.code = 'W-001' AND p.code = 'SP-TUAN'",
            "INSERT INTO loans (id, code, uid, worker_id, product_id, principal, annual_rate_bp, method, frequency,
                 installments, disbursed_on, opening_paid, status, created_at, updated_at)
             SELECT 902, 'L-PAID', '00000000-0000-0000-0000-000000000902', w.id, p.id, 600000, 0, 'flat', 'monthly',
                 1, '2026-08-01', 600000, 'closed', '2026-10-01T08:00:00Z', '2026-10-01T08:00:00Z'
             FROM workers w, loan_products p WHERE w.code = 'W-002' AND p.code = 'SP-TT'",
            "INSERT INTO installments (loan_id, number, due_on, principal_due, interest_due, principal_paid, interest_paid)
             VALUES (901, 1, '2026-10-01', 500000, 10000, 500000, 10000),
                    (901, 2, '2026-11-01', 500000, 10000, 200000, 10000),
                    (902, 1, '2026-09-01', 600000, 0, 600000, 0)",
            "INSERT INTO journal_entries (id, branch_id, kind, loan_id, posted_by, posted_at, memo)
             SELECT 1, w.branch_id, 'counter_repayment', 901, u.id, '2026-11-01T09:00:00Z', 'thu tại quầy'
             FROM workers w, users u WHERE w.code = 'W-001' AND u.username = 'admin'",
            "INSERT INTO journal_lines (entry_id, account, branch_id, loan_id, debit, credit)
             SELECT 1, 'vault', w.branch_id, NULL, 210000, 0 FROM workers w WHERE w.code = 'W-001'",
            "INSERT INTO journal_lines (entry_id, account, branch_id, loan_id, debit, credit)
             SELECT 1, 'loan_principal', w.branch_id, 901, 0, 200000 FROM workers w WHERE w.code = 'W-001'",
            "INSERT INTO journal_lines (entry_id, account, branch_id, loan_id, debit, credit)
             SELECT 1, 'interest_income', w.branch_id, 901, 0, 10000 FROM workers w WHERE w.code = 'W-001'",
        ] {
            exec(&old, sql).await.expect(sql);
        }
        match &old {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }

        let db = Db::connect(&keep.url).await.expect("upgrade");
        let entries = db.ledger_entries(None, Some(901), 10, 0).await.unwrap();
        let opening: Vec<_> = entries
            .iter()
            .filter(|e| e.kind == "loan_opening")
            .collect();
        assert_eq!(opening.len(), 1, "{backend:?}: {entries:?}");
        let lines: Vec<(&str, Option<i64>, i64, i64)> = opening[0]
            .lines
            .iter()
            .map(|l| (l.account.as_str(), l.loan_id, l.debit, l.credit))
            .collect();
        assert_eq!(
            lines,
            vec![
                ("loan_principal", Some(901), 500_000, 0),
                ("loan_capital", None, 0, 500_000)
            ],
            "{backend:?}"
        );
        assert_eq!(
            scalar(&db, "SELECT COUNT(*) FROM journal_entries WHERE kind = 'loan_opening' AND loan_id = 902").await,
            0,
            "{backend:?}: a loan that owed nothing posts nothing"
        );
        assert_eq!(
            scalar(&db, "SELECT COUNT(*) FROM journal_entries WHERE kind = 'loan_opening' AND posted_by IS NULL").await,
            1,
            "{backend:?}: posted by the upgrade"
        );
        assert_eq!(
            db.loan_principal_drift().await.unwrap(),
            vec![],
            "{backend:?}"
        );
        assert_eq!(
            db.ledger_balance_drift().await.unwrap(),
            vec![],
            "{backend:?}"
        );
        assert_eq!(
            db.ledger_unbalanced().await.unwrap(),
            Vec::<i64>::new(),
            "{backend:?}"
        );
        // The loans imported from now on post their own openings.
        import_fixture(&db).await;
        assert_eq!(
            scalar(
                &db,
                "SELECT COUNT(*) FROM journal_entries WHERE kind = 'loan_opening'"
            )
            .await,
            5,
            "{backend:?}"
        );
        assert_eq!(
            db.loan_principal_drift().await.unwrap(),
            vec![],
            "{backend:?}"
        );
    }
}

/// Upgrading a SQLite database that holds uploads rebuilds `sync_records`
/// with the one batch key (migration 0009): the records, the records that
/// other tables refer to, the indexes and the append-only triggers stay.
#[tokio::test]
async fn the_sqlite_sync_keys_rebuild_keeps_records_and_triggers() {
    use sotay_core::wire::{RecordBody, UploadBatch, UploadRecord, VisitPayload, VisitPurpose};

    let keep = sotay_tests::fresh_database(sotay_tests::Backend::Sqlite).await;
    let old = schema_before(&keep.url, common::Backend::Sqlite, 9).await;
    let Db::Sqlite(pool) = old.clone() else {
        unreachable!()
    };
    import_fixture_for_an_old_schema(&old).await;
    let officer: i64 = scalar(&old, "SELECT id FROM users WHERE username = 'canbo.lan'").await;
    let device = uuid::Uuid::now_v7();
    exec(
        &old,
        &format!(
            "INSERT INTO devices (id, user_id, name, code, created_at, last_seen_at)
             VALUES ('{device}', {officer}, 'model', 'MDL1', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z')"
        ),
    )
    .await
    .unwrap();
    let worker: uuid::Uuid = sqlx::query_scalar("SELECT uid FROM workers WHERE code = 'W-001'")
        .fetch_one(&pool)
        .await
        .unwrap();
    let records: Vec<UploadRecord> = (1..=3)
        .map(|seq| UploadRecord {
            client_id: uuid::Uuid::now_v7(),
            device_id: device,
            device_seq: seq,
            recorded_at: chrono::Utc::now(),
            body: RecordBody::Visit(VisitPayload {
                worker_id: worker,
                purpose: VisitPurpose::RepaymentFollowUp,
                outcome: "Đã gặp".into(),
                notes: String::new(),
                location: None,
            }),
        })
        .collect();
    let batch = UploadBatch {
        batch_id: uuid::Uuid::now_v7(),
        device_id: device,
        records,
        approved_before: Vec::new(),
    };
    let who = sotay_server::db::Uploader {
        officer_id: officer,
        username: "canbo.lan".into(),
        device_id: device.to_string(),
        device_code: "MDL1".into(),
        device_revoked: false,
        ip: None,
    };
    let batch = CanonicalBatch::new(batch).unwrap();
    // This version's upload writes the batch's branch (migration 0039),
    // a column this old schema does not have yet: there for the upload
    // only, changed on one connection (another's view of the schema may
    // lag behind a change it did not make).
    let mut ddl = pool.acquire().await.unwrap();
    sqlx::query("ALTER TABLE sync_batches ADD COLUMN branch_id INTEGER")
        .execute(&mut *ddl)
        .await
        .unwrap();
    // So does it read the workers' moves (0042).
    sqlx::raw_sql(include_str!(
        "../../migrations/sqlite/0042_worker_moves.sql"
    ))
    .execute(&mut *ddl)
    .await
    .unwrap();
    let first = old.upload(&who, &batch).await.unwrap();
    let branched: i64 = sqlx::query_scalar("SELECT COUNT(branch_id) FROM sync_batches")
        .fetch_one(&mut *ddl)
        .await
        .unwrap();
    assert_eq!(branched, 1, "the upload wrote its branch");
    sqlx::query("ALTER TABLE sync_batches DROP COLUMN branch_id")
        .execute(&mut *ddl)
        .await
        .unwrap();
    sqlx::query("DROP TABLE worker_moves")
        .execute(&mut *ddl)
        .await
        .unwrap();
    drop(ddl);
    // A table that refers to a record (the supervisor's review of it).
    exec(
        &old,
        &format!(
            "INSERT INTO batch_reviews (batch_id, decision, reviewer_id, reason, cash_expected, cash_received, decided_at)
             SELECT batch_id, 'approved', {officer}, NULL, 0, 0, '2026-11-02T00:00:00Z' FROM sync_batches;
             INSERT INTO record_reviews (record_id, batch_id, decision, reason, decided_at)
             SELECT id, batch_id, 'approved', NULL, '2026-11-02T00:00:00Z' FROM sync_records"
        ),
    )
    .await
    .unwrap();
    pool.close().await;

    let db = Db::connect(&keep.url).await.expect("the upgrade");
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM sync_records").await, 3);
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM record_reviews r JOIN sync_records s ON s.id = r.record_id"
        )
        .await,
        3
    );
    // One key to the batch instead of three.
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM pragma_foreign_key_list('sync_records') WHERE \"table\" = 'sync_batches'").await,
        3,
        "the batch key's three columns"
    );
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM pragma_foreign_key_list('sync_records') WHERE \"table\" IN ('devices', 'users')").await,
        0
    );
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM sqlite_master WHERE tbl_name = 'sync_records' AND type = 'index' AND name LIKE 'sync_records_%'").await,
        10,
        "the indexes rebuilt by 0009 and changed since (0017 dropped sync_records_officer, 0029 added sync_records_refused, 0033 sync_records_quarantined)"
    );
    // Facts stay append-only.
    assert!(exec(&db, "UPDATE sync_records SET amount = 1")
        .await
        .is_err());
    assert!(exec(&db, "DELETE FROM sync_records").await.is_err());
    // A record whose officer is not its batch's is refused by the key.
    assert!(exec(
        &db,
        "INSERT INTO sync_records (client_id, batch_id, device_id, officer_id, device_seq, kind, recorded_at,
                 received_at, body, body_hash, status)
             SELECT X'00', batch_id, device_id, (SELECT id FROM users WHERE username = 'giamsat.td'), 9, 'visit',
                 received_at, received_at, '{}', '', 'accepted'
             FROM sync_batches"
    )
    .await
    .is_err());
    // The stored answer still comes back for the same batch.
    assert_eq!(db.upload(&who, &batch).await.unwrap(), first);
}

/// A stored record's batch, worker, loan and campaign must exist (checked
/// per row by foreign keys on SQLite, per statement on PostgreSQL, with the
/// same SQLSTATE), a stored batch is a fact, and nothing a record refers to
/// can be deleted.
#[tokio::test]
async fn stored_records_refer_to_what_exists() {
    use sotay_core::wire::{RecordBody, UploadBatch, UploadRecord, VisitPayload, VisitPurpose};
    for backend in BACKENDS {
        let t = fresh_db(backend).await;
        import_fixture(&t.db).await;
        let officer = scalar(&t.db, "SELECT id FROM users WHERE username = 'canbo.lan'").await;
        let device = uuid::Uuid::now_v7();
        let now = if matches!(t.db, Db::Sqlite(_)) {
            "'2026-11-01T00:00:00Z'"
        } else {
            "now()"
        };
        exec(
            &t.db,
            &format!(
                "INSERT INTO devices (id, user_id, name, code, created_at, last_seen_at)
                 VALUES ('{device}', {officer}, 'model', 'MDL1', {now}, {now})"
            ),
        )
        .await
        .unwrap();
        let worker: uuid::Uuid = match &t.db {
            Db::Sqlite(p) => {
                sqlx::query_scalar("SELECT uid FROM workers WHERE code = 'W-001'")
                    .fetch_one(p)
                    .await
            }
            Db::Postgres(p) => {
                sqlx::query_scalar("SELECT uid FROM workers WHERE code = 'W-001'")
                    .fetch_one(p)
                    .await
            }
        }
        .unwrap();
        let batch = UploadBatch {
            batch_id: uuid::Uuid::now_v7(),
            device_id: device,
            records: vec![UploadRecord {
                client_id: uuid::Uuid::now_v7(),
                device_id: device,
                device_seq: 1,
                recorded_at: chrono::Utc::now(),
                body: RecordBody::Visit(VisitPayload {
                    worker_id: worker,
                    purpose: VisitPurpose::RepaymentFollowUp,
                    outcome: "Đã gặp".into(),
                    notes: String::new(),
                    location: None,
                }),
            }],
            approved_before: Vec::new(),
        };
        let who = sotay_server::db::Uploader {
            officer_id: officer,
            username: "canbo.lan".into(),
            device_id: device.to_string(),
            device_code: "MDL1".into(),
            device_revoked: false,
            ip: None,
        };
        t.db.upload(&who, &CanonicalBatch::new(batch).unwrap())
            .await
            .unwrap();

        // A copy of the stored record with a new client id and one column
        // changed; `extra` adds a second, valid row to the same statement.
        let new_id = if matches!(t.db, Db::Sqlite(_)) {
            "randomblob(16)"
        } else {
            "gen_random_uuid()"
        };
        let copy = |column: &str, value: &str, extra: bool| {
            let row = |column: &str, value: &str| {
                let cols = [
                    "batch_id",
                    "device_id",
                    "officer_id",
                    "worker_id",
                    "loan_id",
                    "campaign_id",
                ];
                let picked: Vec<String> = cols
                    .iter()
                    .map(|c| {
                        if *c == column {
                            format!("{value} AS {c}")
                        } else {
                            c.to_string()
                        }
                    })
                    .collect();
                format!(
                    "SELECT {new_id}, {}, 9, kind, recorded_at, received_at, body, body_hash, status FROM sync_records",
                    picked.join(", ")
                )
            };
            let mut sql = format!(
                "INSERT INTO sync_records (client_id, batch_id, device_id, officer_id, worker_id, loan_id, campaign_id,
                     device_seq, kind, recorded_at, received_at, body, body_hash, status) {}",
                row(column, value)
            );
            if extra {
                sql.push_str(" UNION ALL ");
                sql.push_str(&row("", ""));
            }
            sql
        };
        let refused = |e: Result<u64, sqlx::Error>, what: &str| {
            let e = e.expect_err(what);
            let code = e
                .as_database_error()
                .and_then(|d| d.code())
                .map(|c| c.to_string());
            let expected = if backend == common::Backend::Sqlite {
                "787"
            } else {
                "23503"
            };
            assert_eq!(code.as_deref(), Some(expected), "{what} ({backend:?}): {e}");
        };
        let stranger = scalar(&t.db, "SELECT id FROM users WHERE username = 'giamsat.td'").await;
        for (column, value) in [
            ("worker_id", "987654".to_string()),
            ("loan_id", "987654".to_string()),
            ("campaign_id", "987654".to_string()),
            ("officer_id", stranger.to_string()),
            ("device_id", "'another-device'".to_string()),
        ] {
            refused(exec(&t.db, &copy(column, &value, false)).await, column);
            refused(
                exec(&t.db, &copy(column, &value, true)).await,
                &format!("{column}, with a valid row"),
            );
        }
        assert_eq!(
            scalar(&t.db, "SELECT COUNT(*) FROM sync_records").await,
            1,
            "{backend:?}"
        );
        // The copy itself, valid, is stored.
        assert_eq!(
            exec(&t.db, &copy("", "", false)).await.unwrap(),
            1,
            "{backend:?}"
        );

        assert!(
            exec(&t.db, "UPDATE sync_batches SET records = 2")
                .await
                .is_err(),
            "{backend:?}"
        );
        assert!(
            exec(&t.db, "DELETE FROM sync_batches").await.is_err(),
            "{backend:?}"
        );
        assert!(
            exec(
                &t.db,
                "DELETE FROM workers WHERE id IN (SELECT worker_id FROM sync_records)"
            )
            .await
            .is_err(),
            "{backend:?}"
        );
    }
}

/// The bundled SQLite is built with the workspace's `LIBSQLITE3_FLAGS`
/// (`.cargo/config.toml`): each connection keeps its own page cache and no
/// allocation takes the memory-statistics mutex, so the upload writer and
/// the readers on their own threads do not queue for each other.
#[tokio::test]
async fn the_bundled_sqlite_gives_each_connection_its_own_cache() {
    let fresh = fresh_db(common::Backend::Sqlite).await;
    let Db::Sqlite(p) = &fresh.db else {
        unreachable!()
    };
    let options: Vec<String> =
        sqlx::query_scalar("SELECT compile_options FROM pragma_compile_options")
            .fetch_all(p)
            .await
            .unwrap();
    assert!(
        options.iter().any(|o| o == "THREADSAFE=1"),
        "SQLite must stay thread-safe: {options:?}"
    );
    assert!(
        !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
        "SQLite was built with one page cache shared by every connection \
         (is LIBSQLITE3_FLAGS from .cargo/config.toml overridden?): {options:?}"
    );
    assert!(
        options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
        "SQLite was built counting every allocation under a global mutex \
         (is LIBSQLITE3_FLAGS from .cargo/config.toml overridden?): {options:?}"
    );
}

/// Upgrading to 0039 gives each stored batch the branch it was collected
/// for: a batch of visits (no entry posted) of an officer who moved to
/// another branch since stays with her old branch, found by its workers.
#[tokio::test]
async fn upgrading_keeps_a_moved_officers_batches_with_their_branch() {
    for backend in BACKENDS {
        let keep = sotay_tests::fresh_database(backend).await;
        let old = schema_before(&keep.url, backend, 39).await;
        import_fixture_for_an_old_schema(&old).await;
        let officer: i64 = scalar(&old, "SELECT id FROM users WHERE username = 'canbo.lan'").await;
        let worker: i64 = scalar(&old, "SELECT id FROM workers WHERE code = 'W-001'").await;
        let td: i64 = scalar(&old, "SELECT id FROM branches WHERE code = 'CN-TD'").await;
        let bt: i64 = scalar(&old, "SELECT id FROM branches WHERE code = 'CN-BT'").await;
        let (batch, record) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        let uuid_literal = |u: uuid::Uuid| match backend {
            common::Backend::Sqlite => format!("X'{}'", u.simple()),
            common::Backend::Postgres => format!("'{u}'"),
        };
        let (b, r) = (uuid_literal(batch), uuid_literal(record));
        let device = uuid::Uuid::now_v7();
        for sql in [
            format!(
                "INSERT INTO devices (id, user_id, name, code, created_at, last_seen_at)
                 VALUES ('{device}', {officer}, 'model', 'MDL2', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z')"
            ),
            format!(
                "INSERT INTO sync_batches (batch_id, device_id, officer_id, body_hash, records, response, received_at)
                 VALUES ({b}, '{device}', {officer}, 'h', 1, '', '2026-11-01T00:00:00Z')"
            ),
            format!(
                "INSERT INTO sync_records (client_id, batch_id, device_id, officer_id, device_seq, kind, recorded_at,
                     received_at, body, body_hash, status, worker_id)
                 VALUES ({r}, {b}, '{device}', {officer}, 1, 'visit', '2026-11-01T00:00:00Z',
                     '2026-11-01T00:00:00Z', '{{}}', 'h', 'accepted', {worker})"
            ),
            // She moved to Bình Tân since (her workers given to another).
            format!("UPDATE users SET branch_id = {bt} WHERE id = {officer}"),
        ] {
            exec(&old, &sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        old.close().await;
        let db = Db::connect(&keep.url).await.expect("the upgrade");
        assert_eq!(
            scalar(&db, "SELECT branch_id FROM sync_batches").await,
            td,
            "{backend:?}: the batch stays with Thủ Đức"
        );
    }
}

/// PostgreSQL over TLS: `sslmode=require` encrypts the connection;
/// `verify-full` checks the server's certificate against `sslrootcert`,
/// and refuses one no root it knows signed.
#[tokio::test]
async fn postgres_over_tls() {
    let t = fresh_db(common::Backend::Postgres).await;
    let Db::Postgres(plain) = &t.db else {
        unreachable!()
    };
    let on: String = sqlx::query_scalar("SHOW ssl")
        .fetch_one(plain)
        .await
        .unwrap();
    assert_eq!(
        on, "on",
        "the test cluster offers no TLS: scripts/pg-cluster.sh makes its certificate with openssl"
    );
    let cert: String = sqlx::query_scalar("SHOW ssl_cert_file")
        .fetch_one(plain)
        .await
        .unwrap();
    // The throwaway CA that signed it, beside it.
    let ca = std::path::Path::new(&cert).with_file_name("ca.crt");
    let ca = ca.display();
    let url = |params: &str| {
        let sep = if t.url.contains('?') { '&' } else { '?' };
        format!("{}{sep}{params}", t.url)
    };
    for params in [
        "sslmode=require".to_string(),
        format!("sslmode=verify-full&sslrootcert={ca}"),
    ] {
        let db = Db::connect(&url(&params))
            .await
            .unwrap_or_else(|e| panic!("{params}: {e}"));
        let Db::Postgres(pool) = &db else {
            unreachable!()
        };
        let encrypted: bool =
            sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                .fetch_one(pool)
                .await
                .unwrap();
        assert!(encrypted, "{params}");
        assert_eq!(db.count("users").await.unwrap(), 0);
        db.close().await;
    }
    let e = Db::connect(&url("sslmode=verify-full"))
        .await
        .expect_err("a certificate no known root signed");
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
}
