//! Reports on SQLite and on PostgreSQL: after a day of two officers is
//! uploaded and approved (one short, one over), a counter repayment and a
//! reversal, the reports agree with the ledger, PAR with the installments,
//! campaign progress with the gifts posted; scoping by branch and role; the
//! XLSX and CSV downloads. The report summaries the triggers keep (dues by
//! day and officer, the portfolio by officer, each loan's oldest unpaid due
//! date) equal a recomputation from the installments after every kind of
//! change: imports, approvals, reversals, counter repayments, a worker
//! given to another officer and to another branch.

mod common;

use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use chrono::{Duration, NaiveDate};
use common::phone::Phone;
use common::{TestApp, BACKENDS};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sotay_core::domain::money::Dong;
use sotay_core::wire::{
    GiftHandoutPayload, RecordBody, RepaymentPayload, ReversalRequestPayload, UploadOutcome,
    VisitPayload, VisitPurpose,
};
use sotay_server::db::Db;
use uuid::Uuid;

fn money(v: &Value) -> i64 {
    v.as_str()
        .unwrap_or_else(|| panic!("money as a string: {v}"))
        .parse()
        .unwrap()
}

/// One integer from the database (`$1`, when given, bound to a day).
async fn scalar(db: &Db, sql: &str, day: Option<NaiveDate>) -> i64 {
    match db {
        Db::Sqlite(p) => {
            let q = sqlx::query_scalar::<_, i64>(sql);
            let q = match day {
                Some(d) => q.bind(d),
                None => q,
            };
            q.fetch_one(p).await.expect(sql)
        }
        Db::Postgres(p) => {
            let q = sqlx::query_scalar::<_, i64>(sql);
            let q = match day {
                Some(d) => q.bind(d),
                None => q,
            };
            q.fetch_one(p).await.expect(sql)
        }
    }
}

/// Σ(credit − debit) to principal and interest over entries of `officer`
/// (`None`: entries without an officer, the counter's), the loans' opening
/// entries aside.
async fn ledger_collected(db: &Db, officer: Option<i64>) -> i64 {
    let who = officer.map_or("e.officer_id IS NULL".to_string(), |o| {
        format!("e.officer_id = {o}")
    });
    scalar(
        db,
        &format!(
            "SELECT CAST(COALESCE(SUM(l.credit - l.debit), 0) AS BIGINT) FROM journal_lines l
             JOIN journal_entries e ON e.id = l.entry_id
             WHERE l.account IN ('loan_principal', 'interest_income') AND e.kind <> 'loan_opening' AND {who}"
        ),
        None,
    )
    .await
}

/// Σ(debit − credit) to `account` over settlements of `officer`.
async fn ledger_settled(db: &Db, officer: i64, account: &str) -> i64 {
    scalar(
        db,
        &format!(
            "SELECT CAST(COALESCE(SUM(l.debit - l.credit), 0) AS BIGINT) FROM journal_lines l
             JOIN journal_entries e ON e.id = l.entry_id
             WHERE e.kind = 'settlement' AND e.officer_id = {officer} AND l.account = '{account}'"
        ),
        None,
    )
    .await
}

fn rows<'a>(report: &'a Value, sheet: &str) -> &'a Vec<Value> {
    report["sheets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == sheet)
        .unwrap_or_else(|| panic!("sheet {sheet}: {report}"))["rows"]
        .as_array()
        .unwrap()
}

fn totals<'a>(report: &'a Value, sheet: &str) -> &'a Value {
    &report["sheets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == sheet)
        .unwrap()["totals"]
}

fn row_of<'a>(rows: &'a [Value], key: &str, value: &str) -> Option<&'a Value> {
    rows.iter().find(|r| r[key] == value)
}

fn bp(n: i64, d: i64) -> i64 {
    if d == 0 {
        return 0;
    }
    ((i128::from(n) * 20_000 + i128::from(d)) / (i128::from(d) * 2)) as i64
}

/// The report summaries checked against a recomputation from the
/// installments, loans and workers: each check's name and how many rows
/// differ (none when they agree).
async fn summary_drift(db: &Db) -> Vec<(&'static str, i64)> {
    let dues = "SELECT i.due_on, w.branch_id, w.officer_id, CAST(SUM(i.principal_due + i.interest_due) AS BIGINT),
                       COUNT(*)
                FROM installments i JOIN loans l ON l.id = i.loan_id JOIN workers w ON w.id = l.worker_id
                GROUP BY i.due_on, w.branch_id, w.officer_id";
    let kept_dues = "SELECT day, branch_id, officer_id, due, installments FROM report_due WHERE installments <> 0";
    let portfolio =
        "SELECT w.branch_id, w.officer_id, COUNT(*), CAST(SUM(l.principal_outstanding) AS BIGINT)
                     FROM loans l JOIN workers w ON w.id = l.worker_id WHERE l.status = 'active'
                     GROUP BY w.branch_id, w.officer_id";
    let kept_portfolio =
        "SELECT branch_id, officer_id, loans, principal_outstanding FROM report_portfolio WHERE loans <> 0";
    let checks = [
        ("dues missing from report_due", format!("SELECT COUNT(*) FROM ({dues} EXCEPT {kept_dues}) AS x")),
        ("report_due rows not in the schedules", format!("SELECT COUNT(*) FROM ({kept_dues} EXCEPT {dues}) AS x")),
        ("emptied report_due rows with an amount", "SELECT COUNT(*) FROM report_due WHERE installments = 0 AND due <> 0".into()),
        ("officers missing from report_portfolio", format!("SELECT COUNT(*) FROM ({portfolio} EXCEPT {kept_portfolio}) AS x")),
        ("report_portfolio rows not in the loans", format!("SELECT COUNT(*) FROM ({kept_portfolio} EXCEPT {portfolio}) AS x")),
        ("emptied report_portfolio rows with an amount", "SELECT COUNT(*) FROM report_portfolio WHERE loans = 0 AND principal_outstanding <> 0".into()),
        (
            "loans whose worker's branch or officer is out of date",
            "SELECT COUNT(*) FROM loans l JOIN workers w ON w.id = l.worker_id
             WHERE l.worker_branch_id <> w.branch_id OR l.worker_officer_id <> w.officer_id"
                .into(),
        ),
        (
            "loans whose oldest unpaid due date is wrong",
            "SELECT COUNT(*) FROM loans l WHERE NOT (
               (l.oldest_unpaid_due IS NULL AND u.oldest IS NULL) OR l.oldest_unpaid_due = u.oldest)"
                .replace(
                    "FROM loans l WHERE",
                    "FROM loans l LEFT JOIN (SELECT loan_id, MIN(due_on) AS oldest FROM installments
                       WHERE principal_paid < principal_due OR interest_paid < interest_due GROUP BY loan_id) AS u
                       ON u.loan_id = l.id WHERE",
                ),
        ),
    ];
    let mut out = Vec::new();
    for (name, sql) in checks {
        let n = scalar(db, &sql, None).await;
        if n != 0 {
            out.push((name, n));
        }
    }
    out
}

async fn download(app: &TestApp, path: &str, token: &str) -> (StatusCode, String, String, Vec<u8>) {
    let resp = app
        .http
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let header = |n: &str| {
        resp.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (ct, cd) = (header("content-type"), header("content-disposition"));
    let status = resp.status();
    (status, ct, cd, resp.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn reports_agree_with_the_ledger_and_respect_scope() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let sup = app
            .token("giamsat.td", "super-pass-1", &common::device(1))
            .await;
        let other_sup = app
            .token("giamsat.bt", "super-pass-2", &common::device(2))
            .await;
        let admin = app.token("admin", "admin-pass-1", &common::device(3)).await;
        let mut lan = Phone::sign_in(&app, "canbo.lan", "officer-pass-1").await;
        let mut hung = Phone::sign_in(&app, "canbo.hung", "officer-pass-2").await;
        let lan_id = app.id_of("users", "CB-TD-01").await;
        let hung_id = app.id_of("users", "CB-TD-02").await;
        let td = app.id_of("branches", "CN-TD").await;
        let bt = app.id_of("branches", "CN-BT").await;
        let thu_id = app.id_of("workers", "W-002").await;
        let snap = lan.snapshot(&app).await;
        let loan = |code: &str| {
            snap.loans
                .iter()
                .find(|l| l.contract_no == code)
                .unwrap()
                .clone()
        };
        let (l1, l2) = (loan("L-001"), loan("L-002"));
        let thu = snap
            .workers
            .iter()
            .find(|w| w.full_name == "Đặng Thị Thu")
            .unwrap()
            .id;
        let tet = snap.campaigns[0].id;

        // Lan's day: two repayments, a gift, a hardship visit; 10.000 ₫ short.
        let pay1 = lan.record(RecordBody::Repayment(RepaymentPayload {
            loan_id: l1.id,
            worker_id: l1.worker_id,
            amount: Dong(500_000),
            receipt_no: lan.receipt(1),
        }));
        let pay2 = lan.record(RecordBody::Repayment(RepaymentPayload {
            loan_id: l2.id,
            worker_id: l2.worker_id,
            amount: Dong(250_000),
            receipt_no: lan.receipt(2),
        }));
        let gift = lan.record(RecordBody::GiftHandout(GiftHandoutPayload {
            campaign_id: tet,
            worker_id: thu,
            acknowledged_name: "Đặng Thị Thu".into(),
            signature_sha256: None,
        }));
        let visit = lan.record(RecordBody::Visit(VisitPayload {
            worker_id: thu,
            purpose: VisitPurpose::HardshipVisit,
            outcome: "Đã thăm".into(),
            notes: String::new(),
            location: None,
        }));
        let (batch, outcomes) = lan
            .upload(&app, vec![pay1.clone(), pay2.clone(), gift, visit])
            .await;
        assert!(
            outcomes.iter().all(|o| o.0 == UploadOutcome::Accepted),
            "{outcomes:?}"
        );
        let (s, out) = app
            .post(
                &format!("/api/v1/batches/{batch}/approve"),
                &sup,
                &json!({"cash_received": "740000"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{out}");

        // Hùng's day: one repayment, 10.000 ₫ over.
        let hsnap = hung.snapshot(&app).await;
        let l3 = hsnap
            .loans
            .iter()
            .find(|l| l.contract_no == "L-003")
            .unwrap()
            .clone();
        let pay3 = hung.record(RecordBody::Repayment(RepaymentPayload {
            loan_id: l3.id,
            worker_id: l3.worker_id,
            amount: Dong(300_000),
            receipt_no: hung.receipt(1),
        }));
        let (hbatch, outcomes) = hung.upload(&app, vec![pay3]).await;
        assert_eq!(outcomes[0].0, UploadOutcome::Accepted, "{outcomes:?}");
        let (s, out) = app
            .post(
                &format!("/api/v1/batches/{hbatch}/approve"),
                &sup,
                &json!({"cash_received": "310000"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{out}");
        // And a visit alone, approved with no cash: a batch of the day too.
        let look = hung.record(RecordBody::Visit(VisitPayload {
            worker_id: l3.worker_id,
            purpose: VisitPurpose::RepaymentFollowUp,
            outcome: "Hẹn trả tuần sau".into(),
            notes: String::new(),
            location: None,
        }));
        let (vbatch, _) = hung.upload(&app, vec![look]).await;
        let (s, out) = app
            .post(
                &format!("/api/v1/batches/{vbatch}/approve"),
                &sup,
                &json!({"cash_received": "0"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{out}");

        // At the counter, then Lan's reversal of the L-002 collection.
        let l1_id = app.id_of("loans", "L-001").await;
        let (s, receipt) = app
            .post(
                &format!("/api/v1/loans/{l1_id}/repayments"),
                &sup,
                &json!({"client_id": Uuid::now_v7(), "amount": "200000", "note": "Trả tại quầy"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{receipt}");
        let rev = lan.record(RecordBody::ReversalRequest(ReversalRequestPayload {
            target_id: pay2.client_id,
            reason: "Thu nhầm khoản vay".into(),
        }));
        let (rbatch, outcomes) = lan.upload(&app, vec![rev]).await;
        assert_eq!(outcomes[0].0, UploadOutcome::Accepted, "{outcomes:?}");
        let (s, out) = app
            .post(
                &format!("/api/v1/batches/{rbatch}/approve"),
                &sup,
                &json!({"cash_received": "0"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{out}");

        // Hùng's phone lost: what it sends after is kept in quarantine, and
        // its batch has nothing to approve: no batch of the day.
        app.revoke(&sup, hung.device).await;
        let lost = hung.record(RecordBody::Visit(VisitPayload {
            worker_id: l3.worker_id,
            purpose: VisitPurpose::RepaymentFollowUp,
            outcome: "Ghi trên máy đã mất".into(),
            notes: String::new(),
            location: None,
        }));
        let (qbatch, outcomes) = hung.upload(&app, vec![lost]).await;
        assert_eq!(
            outcomes[0].1.as_deref(),
            Some("device_revoked"),
            "{outcomes:?}"
        );
        let (s, out) = app
            .post(
                &format!("/api/v1/batches/{qbatch}/approve"),
                &sup,
                &json!({"cash_received": "0"}),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{out}");
        assert_eq!(out["code"], "batch_nothing_to_review", "{out}");

        // Daily collections agree with the journal lines.
        let today = sotay_server::reports::today();
        let range = format!(
            "from={}&to={}",
            (today - Duration::days(1)).format("%d/%m/%Y"),
            (today + Duration::days(1)).format("%d/%m/%Y")
        );
        let (s, daily) = app
            .get(
                &format!("/api/v1/reports/daily-collections?{range}"),
                &admin,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{daily}");
        let officers = rows(&daily, "by_officer");
        let sum = |code: &str, key: &str| -> i64 {
            officers
                .iter()
                .filter(|r| r["officer_code"] == code)
                .map(|r| money(&r[key]))
                .sum()
        };
        assert_eq!(
            sum("CB-TD-01", "collected"),
            ledger_collected(&app.db, Some(lan_id)).await
        );
        assert_eq!(sum("CB-TD-01", "collected"), 500_000, "{daily}");
        assert_eq!(sum("CB-TD-01", "reversed"), 250_000);
        assert_eq!(
            sum("CB-TD-02", "collected"),
            ledger_collected(&app.db, Some(hung_id)).await
        );
        assert_eq!(sum("CB-TD-02", "collected"), 300_000);
        let batches: i64 = officers
            .iter()
            .filter(|r| r["officer_code"] == "CB-TD-02")
            .filter_map(|r| r["batches"].as_i64())
            .sum();
        assert_eq!(batches, 2, "the visit's batch counts: {daily}");
        assert_eq!(
            sum("QUAY", "collected"),
            ledger_collected(&app.db, None).await
        );
        assert_eq!(sum("QUAY", "counter"), 200_000);
        // Lan: 10.000 ₫ short, then her reversal alone of 250.000 ₫ the
        // branch owes her (netted through her over/short account).
        for (code, id, received, over) in [
            ("CB-TD-01", lan_id, 740_000, 240_000),
            ("CB-TD-02", hung_id, 310_000, 10_000),
        ] {
            assert_eq!(
                sum(code, "cash_received"),
                ledger_settled(&app.db, id, "vault").await
            );
            assert_eq!(sum(code, "cash_received"), received);
            assert_eq!(
                sum(code, "over_short"),
                -ledger_settled(&app.db, id, "cash_over_short").await
            );
            assert_eq!(sum(code, "over_short"), over);
            assert_eq!(
                sum(code, "cash_expected"),
                -ledger_settled(&app.db, id, "cash_in_hand").await
            );
        }
        let t = totals(&daily, "by_officer");
        assert_eq!(t["day"], "Tổng cộng");
        assert_eq!(money(&t["collected"]), 1_000_000);
        // Each officer's (and the counter's) total for the period is her
        // days added up, as a month's end reads it.
        let period = rows(&daily, "officer_totals");
        for code in ["CB-TD-01", "CB-TD-02", "QUAY"] {
            let row = period
                .iter()
                .find(|r| r["officer_code"] == code)
                .unwrap_or_else(|| panic!("{code}: {daily}"));
            for key in ["due", "collected", "cash_received", "over_short", "counter"] {
                assert_eq!(money(&row[key]), sum(code, key), "{code} {key}");
            }
        }
        assert_eq!(
            money(&totals(&daily, "officer_totals")["collected"]),
            1_000_000
        );
        let due_in_range = scalar(
            &app.db,
            &format!(
                "SELECT CAST(COALESCE(SUM(principal_due + interest_due), 0) AS BIGINT) FROM installments
                 WHERE due_on >= $1 AND due_on <= '{}'",
                (today + Duration::days(1)).format("%Y-%m-%d")
            ),
            Some(today - Duration::days(1)),
        )
        .await;
        assert_eq!(money(&t["due"]), due_in_range);
        let branches = rows(&daily, "by_branch");
        let td_collected: i64 = branches
            .iter()
            .filter(|r| r["branch"] == "Chi nhánh Thủ Đức")
            .map(|r| money(&r["collected"]))
            .sum();
        assert_eq!(td_collected, 1_000_000);
        // The summary table equals the ledger over everything posted since
        // the loans came in.
        let summary = scalar(&app.db, "SELECT CAST(COALESCE(SUM(principal_net + interest_net), 0) AS BIGINT) FROM report_daily", None).await;
        let all = scalar(&app.db, "SELECT CAST(COALESCE(SUM(l.credit - l.debit), 0) AS BIGINT) FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id WHERE l.account IN ('loan_principal', 'interest_income') AND e.kind <> 'loan_opening'", None).await;
        assert_eq!(summary, all);
        // What came into the vault: counted and taken at the counter, less
        // the reversals paid back from it (an officer's own reversal is
        // netted through her instead, and takes nothing from the vault).
        let vault = scalar(&app.db, "SELECT CAST(COALESCE(SUM(cash_received + counter_cash), 0) AS BIGINT) FROM report_daily", None).await;
        let paid_back = scalar(&app.db, "SELECT CAST(COALESCE(SUM(l.credit - l.debit), 0) AS BIGINT) FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id WHERE e.kind = 'reversal' AND l.account = 'vault'", None).await;
        assert_eq!(paid_back, 0, "Lan's reversal was netted through her");
        let vault_ledger = scalar(&app.db, "SELECT CAST(COALESCE(SUM(debit - credit), 0) AS BIGINT) FROM journal_lines WHERE account = 'vault'", None).await;
        assert_eq!(
            vault - paid_back,
            vault_ledger,
            "vault: counted + counter − paid back"
        );

        // Scope: another branch's supervisor sees nothing of Thủ Đức, and
        // asking for it is not found; officers may not read reports.
        let (s, theirs) = app
            .get(
                &format!("/api/v1/reports/daily-collections?{range}"),
                &other_sup,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            rows(&theirs, "by_officer")
                .iter()
                .all(|r| r["branch"] != "Chi nhánh Thủ Đức"),
            "{theirs}"
        );
        assert_eq!(money(&totals(&theirs, "by_officer")["collected"]), 0);
        for name in [
            "daily-collections",
            "portfolio-at-risk",
            "overdue-loans",
            "campaign-progress",
            "visits",
            "vault-cash-book",
            "bank-book",
        ] {
            let (s, _) = app
                .get(
                    &format!("/api/v1/reports/{name}?branch_id={td}"),
                    &other_sup,
                )
                .await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{name}");
            let (s, _) = app
                .get(&format!("/api/v1/reports/{name}"), &lan.token)
                .await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{name}");
        }
        // An officer of another branch, or a user who is no officer, is not
        // found by id: never named in a subtitle.
        let admin_id = app.id_of("users", "AD-01").await;
        for (who, officer, found) in [
            (&other_sup, lan_id, false),
            (&sup, admin_id, false),
            (&sup, 999_999, false),
            (&sup, lan_id, true),
            (&admin, lan_id, true),
        ] {
            let (s, body) = app
                .get(
                    &format!("/api/v1/reports/portfolio-at-risk?officer_id={officer}"),
                    who,
                )
                .await;
            let expected = if found {
                StatusCode::OK
            } else {
                StatusCode::NOT_FOUND
            };
            assert_eq!(s, expected, "officer {officer}: {body}");
        }
        let (s, _) = app
            .get(
                &format!("/api/v1/reports/worker-statement?worker_id={thu_id}"),
                &other_sup,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        // A range narrows the payments; the loans are as they stand today,
        // and the statement says so.
        let (s, body) = app
            .get(
                &format!("/api/v1/reports/worker-statement?worker_id={thu_id}&{range}"),
                &admin,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert!(
            body["subtitle"]["vi"]
                .as_str()
                .unwrap()
                .contains("khoản vay và lịch trả nợ tính đến hôm nay"),
            "{body}"
        );
        let (s, _) = app.get("/api/v1/reports/nonsense", &admin).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = app
            .get("/api/v1/reports/daily-collections?branch_id=99", &admin)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "no branch 99");
        let (s, body) = app
            .get("/api/v1/reports/daily-collections?from=31/02/2026", &admin)
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

        // The kinds of moves in the cash book are words of the report's
        // language.
        let (s, _, _, bytes) = download(
            &app,
            &format!("/api/v1/reports/vault-cash-book?{range}&format=csv&lang=en"),
            &admin,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let text = String::from_utf8_lossy(&bytes).to_string();
        assert!(text.contains("Officer's cash handed over"), "{text}");
        assert!(!text.contains("Nộp tiền cán bộ thu"), "{text}");
        // So are a worker statement's: a loan's state and rate, payments'
        // kinds, gifts' states.
        let (s, _, _, bytes) = download(
            &app,
            &format!("/api/v1/reports/worker-statement?worker_id={thu_id}&format=csv&lang=en"),
            &admin,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let text = String::from_utf8_lossy(&bytes).to_string();
        assert!(
            text.contains("Active") || text.contains("Paid off"),
            "{text}"
        );
        // The file says whose statement it is.
        assert!(
            text.contains("Worker code") && text.contains("Đặng Thị Thu"),
            "{text}"
        );
        for vi in [
            "Đang vay",
            "Đã tất toán",
            "Thu nợ",
            "Đã duyệt",
            "Quầy giao dịch",
        ] {
            assert!(!text.contains(vi), "{vi}: {text}");
        }
        // In Vietnamese, a repayment at the counter names who took it (on
        // L-001's worker's statement), a reversal who entered it.
        let payer = scalar(
            &app.db,
            "SELECT worker_id FROM loans WHERE code = 'L-001'",
            None,
        )
        .await;
        let (_, _, _, bytes) = download(
            &app,
            &format!("/api/v1/reports/worker-statement?worker_id={payer}&format=csv&lang=vi"),
            &admin,
        )
        .await;
        let text = String::from_utf8_lossy(&bytes).to_string();
        assert!(text.contains("Người thu"), "{text}");
        assert!(
            text.contains("Thu tại quầy") && text.contains("Quầy giao dịch ("),
            "{text}"
        );

        // Every loan's outstanding principal equals its installments.
        let drift = scalar(
            &app.db,
            "SELECT COUNT(*) FROM loans l WHERE l.principal_outstanding <>
               (SELECT COALESCE(SUM(i.principal_due - i.principal_paid), 0) FROM installments i WHERE i.loan_id = l.id)",
            None,
        )
        .await;
        assert_eq!(drift, 0);

        // PAR against the installments themselves.
        let (s, par) = app.get("/api/v1/reports/portfolio-at-risk", &admin).await;
        assert_eq!(s, StatusCode::OK, "{par}");
        let outstanding = scalar(
            &app.db,
            "SELECT CAST(COALESCE(SUM(i.principal_due - i.principal_paid), 0) AS BIGINT) FROM installments i
             JOIN loans l ON l.id = i.loan_id WHERE l.status = 'active'",
            None,
        )
        .await;
        let at_risk = |days: i64| {
            format!(
                "SELECT CAST(COALESCE(SUM(i.principal_due - i.principal_paid), 0) AS BIGINT) FROM installments i
                 JOIN loans l ON l.id = i.loan_id WHERE l.status = 'active' AND i.loan_id IN
                   (SELECT o.loan_id FROM installments o WHERE o.due_on < $1
                     AND (o.principal_paid < o.principal_due OR o.interest_paid < o.interest_due)
                     AND o.loan_id IN (SELECT id FROM loans WHERE status = 'active') GROUP BY o.loan_id
                     HAVING MIN(o.due_on) < $1 {})",
                if days > 0 { format!("AND MIN(o.due_on) < '{}'", (today - Duration::days(days)).format("%Y-%m-%d")) } else { String::new() }
            )
        };
        let risk1 = scalar(&app.db, &at_risk(0), Some(today)).await;
        let risk30 = scalar(&app.db, &at_risk(30), Some(today)).await;
        let t = totals(&par, "by_branch");
        assert_eq!(money(&t["outstanding"]), outstanding, "{par}");
        assert_eq!(money(&t["at_risk_par1"]), risk1);
        assert_eq!(money(&t["at_risk_par30"]), risk30);
        assert!(risk1 > 0, "the fixture has overdue loans");
        assert_eq!(t["par1_bp"], bp(risk1, outstanding));
        assert_eq!(t["par30_bp"], bp(risk30, outstanding));
        let aged: i64 = rows(&par, "ageing")
            .iter()
            .map(|r| r["loans"].as_i64().unwrap())
            .sum();
        assert_eq!(aged, t["loans_par1"].as_i64().unwrap());
        let (_, theirs) = app
            .get("/api/v1/reports/portfolio-at-risk", &other_sup)
            .await;
        assert!(
            rows(&theirs, "by_officer")
                .iter()
                .all(|r| r["branch"] == "Chi nhánh Bình Tân"),
            "{theirs}"
        );

        // Read from today's books: a day gone is refused, not answered
        // with today's balances under its date.
        let yesterday = (sotay_server::reports::today() - Duration::days(1)).format("%d/%m/%Y");
        for name in ["portfolio-at-risk", "overdue-loans"] {
            let (s, body) = app
                .get(&format!("/api/v1/reports/{name}?to={yesterday}"), &admin)
                .await;
            assert_eq!(
                (s, body["code"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some("as_of_in_the_past")),
                "{name}: {body}"
            );
        }

        // The loans to chase: the PAR1 loans one by one, the longest
        // overdue first, each with what is overdue on it.
        let (s, chase) = app.get("/api/v1/reports/overdue-loans", &admin).await;
        assert_eq!(s, StatusCode::OK, "{chase}");
        let loans = rows(&chase, "loans");
        assert_eq!(
            loans.len() as i64,
            t["loans_par1"].as_i64().unwrap(),
            "{chase}"
        );
        let days: Vec<i64> = loans
            .iter()
            .map(|r| r["days_overdue"].as_i64().unwrap())
            .collect();
        assert!(
            days.windows(2).all(|w| w[0] >= w[1]) && days.iter().all(|d| *d > 0),
            "{days:?}"
        );
        let overdue_sum = scalar(
            &app.db,
            "SELECT CAST(COALESCE(SUM(i.principal_due - i.principal_paid + i.interest_due - i.interest_paid), 0) AS BIGINT)
             FROM installments i JOIN loans l ON l.id = i.loan_id
             WHERE l.status = 'active' AND i.due_on < $1",
            Some(today),
        )
        .await;
        let ct = totals(&chase, "loans");
        assert_eq!(money(&ct["overdue"]), overdue_sum, "{chase}");
        assert_eq!(money(&ct["outstanding"]), risk1, "{chase}");
        assert!(ct["days_overdue"].is_null(), "days do not add up: {ct}");
        assert_eq!(
            ct["loan"].as_str().unwrap(),
            format!("{} khoản vay", loans.len()),
            "the loans counted: {ct}"
        );
        for r in loans {
            let (oldest, code) = (
                r["oldest_unpaid_due"].as_str().unwrap(),
                r["loan"].as_str().unwrap(),
            );
            let first = NaiveDate::parse_from_str(oldest, "%Y-%m-%d").unwrap();
            assert_eq!(
                r["days_overdue"].as_i64().unwrap(),
                (today - first).num_days(),
                "{code}"
            );
        }
        let (_, theirs) = app.get("/api/v1/reports/overdue-loans", &other_sup).await;
        assert!(
            rows(&theirs, "loans")
                .iter()
                .all(|r| r["branch"] == "Chi nhánh Bình Tân"),
            "{theirs}"
        );

        // Campaign progress against the gifts posted.
        let (s, camp) = app.get("/api/v1/reports/campaign-progress", &sup).await;
        assert_eq!(s, StatusCode::OK, "{camp}");
        let posted = scalar(
            &app.db,
            "SELECT COUNT(*) FROM journal_entries e WHERE e.kind = 'gift'
               AND NOT EXISTS (SELECT 1 FROM journal_entries r WHERE r.reverses = e.id)",
            None,
        )
        .await;
        let expense = scalar(&app.db, "SELECT CAST(COALESCE(SUM(debit - credit), 0) AS BIGINT) FROM journal_lines WHERE account = 'campaign_expense'", None).await;
        let k = row_of(rows(&camp, "campaigns"), "code", "TET-2027").unwrap();
        assert_eq!(k["handed_out"].as_i64().unwrap(), posted);
        assert_eq!(posted, 1);
        assert_eq!(money(&k["value"]), expense);
        assert_eq!(k["target"], 100);
        // A branch's gifts against the fund's target: no progress figure
        // (the branch's is against its allocation, below); the fund's own.
        assert!(k["progress_bp"].is_null(), "{k}");
        assert_eq!(k["stock_out"], 0, "{k}");
        let (_, fund) = app.get("/api/v1/reports/campaign-progress", &admin).await;
        let whole = row_of(rows(&fund, "campaigns"), "code", "TET-2027").unwrap();
        assert_eq!(whole["progress_bp"], 100, "{whole}");
        let b = row_of(rows(&camp, "by_branch"), "branch", "Chi nhánh Thủ Đức").unwrap();
        assert_eq!(
            (
                b["allocation"].as_i64(),
                b["handed_out"].as_i64(),
                b["remaining"].as_i64()
            ),
            (Some(60), Some(1), Some(59))
        );
        let o = row_of(rows(&camp, "by_officer"), "officer_code", "CB-TD-01").unwrap();
        assert_eq!(
            (o["allocation"].as_i64(), o["handed_out"].as_i64()),
            (Some(30), Some(1))
        );
        // Asked for a day before the gift: none handed out that day, but
        // the allocation still has only 29 left.
        let before = (sotay_server::reports::today() - Duration::days(3)).format("%d/%m/%Y");
        let (s, earlier) = app
            .get(
                &format!("/api/v1/reports/campaign-progress?from={before}&to={before}"),
                &sup,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{earlier}");
        let o = row_of(rows(&earlier, "by_officer"), "officer_code", "CB-TD-01").unwrap();
        assert_eq!(
            (o["handed_out"].as_i64(), o["remaining"].as_i64()),
            (Some(0), Some(29)),
            "{earlier}"
        );
        assert!(row_of(rows(&camp, "by_branch"), "branch", "Chi nhánh Bình Tân").is_none());
        let (_, theirs) = app
            .get("/api/v1/reports/campaign-progress", &other_sup)
            .await;
        let b = row_of(rows(&theirs, "by_branch"), "branch", "Chi nhánh Bình Tân").unwrap();
        assert_eq!(
            (b["allocation"].as_i64(), b["handed_out"].as_i64()),
            (Some(40), Some(0))
        );
        assert!(row_of(rows(&theirs, "by_branch"), "branch", "Chi nhánh Thủ Đức").is_none());
        // With a second campaign, allocations of both do not add up.
        app.import_ok(
            &admin,
            "campaigns",
            "code,name,kind,starts_on,ends_on,gift_value,target_count,eligibility,description\n\
                 MAI-AM,Mái ấm Công đoàn,welfare,01/11/2026,31/12/2030,50000000,5,hardship,Hỗ trợ nhà ở\n",
        )
        .await;
        app.import_ok(
            &admin,
            "campaign_allocations",
            "campaign_code,branch_code,officer_code,quota\nMAI-AM,CN-TD,,3\nMAI-AM,CN-TD,CB-TD-01,2\n",
        )
        .await;
        let (_, both) = app.get("/api/v1/reports/campaign-progress", &sup).await;
        for (sheet, rows_expected) in [("by_branch", 2), ("by_officer", 2)] {
            assert_eq!(rows(&both, sheet).len(), rows_expected, "{both}");
            let t = totals(&both, sheet);
            assert!(
                t["allocation"].is_null() && t["remaining"].is_null() && t["progress_bp"].is_null(),
                "{backend:?} {sheet}: {t}"
            );
            assert_eq!(t["handed_out"], 1, "{t}");
        }

        // A parameter that does not read is named, as problem details.
        for (path, param) in [
            ("/api/v1/reports/visits?days=30%20ng%C3%A0y", "days"),
            (
                "/api/v1/reports/worker-statement?worker_id=abc",
                "worker_id",
            ),
        ] {
            let (s, e) = app.get(path, &sup).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {e}");
            assert_eq!(e["code"], "invalid_field", "{e}");
            assert_eq!(e["errors"][0]["column"], param, "{e}");
            let detail = e["detail"].as_str().unwrap();
            assert!(detail.contains(&format!("Tham số \"{param}\"")), "{detail}");
        }
        // A day the month does not have is said so, not as a wrong form.
        let (s, e) = app
            .get("/api/v1/reports/daily-collections?from=31/11/2026", &sup)
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(
            e["detail"]
                .as_str()
                .is_some_and(|d| d.contains("tháng 11 năm 2026 chỉ có 30 ngày")),
            "{e}"
        );
        // So is one the address does not take, with those it does: a
        // filter misspelt is not silently ignored.
        for (path, param, known) in [
            ("/api/v1/reports/visits?day=7", "day", "days"),
            (
                "/api/v1/loans?q=KV-000001",
                "q",
                "worker_id, status, limit, offset",
            ),
        ] {
            let (s, e) = app.get(path, &sup).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {e}");
            assert_eq!(e["errors"][0]["column"], param, "{e}");
            let detail = e["detail"].as_str().unwrap();
            assert!(
                detail.contains(&format!("không nhận tham số \"{param}\"")),
                "{detail}"
            );
            assert!(detail.contains(known), "{detail}");
        }

        // Visits per officer and purpose; Thu was visited, so is not listed.
        let (s, vis) = app.get("/api/v1/reports/visits?days=7", &sup).await;
        assert_eq!(s, StatusCode::OK, "{vis}");
        let v = row_of(rows(&vis, "by_officer"), "officer_code", "CB-TD-01").unwrap();
        assert_eq!(
            (v["hardship_visit"].as_i64(), v["total"].as_i64()),
            (Some(1), Some(1))
        );
        assert!(
            row_of(rows(&vis, "hardship_not_visited"), "worker_code", "W-002").is_none(),
            "{vis}"
        );

        // A worker's statement: every repayment with its receipt, the reversal, the gift.
        let (s, st) = app
            .get(
                &format!("/api/v1/reports/worker-statement?worker_id={thu_id}"),
                &sup,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{st}");
        // The loan's rate is a number (basis points; a percentage in XLSX).
        let rate: i64 = scalar(
            &app.db,
            "SELECT CAST(MIN(l.annual_rate_bp) AS BIGINT) FROM loans l JOIN workers w ON w.id = l.worker_id
             WHERE w.code = 'W-002'",
            None,
        )
        .await;
        assert_eq!(rows(&st, "loans")[0]["rate_bp"], rate, "{st}");
        let pays = rows(&st, "payments");
        assert_eq!(pays.len(), 2, "{st}");
        assert!(
            pays.iter().all(|p| p["receipt_no"] == lan.receipt(2)),
            "{st}"
        );
        assert_eq!(money(&totals(&st, "payments")["amount"]), 0);
        let gifts = rows(&st, "gifts");
        assert_eq!((gifts.len(), money(&gifts[0]["value"])), (1, 500_000));
        // Who acknowledged it; the phone took no signature image.
        assert_eq!(
            (&gifts[0]["acknowledged_by"], &gifts[0]["signature"]),
            (&json!("Đặng Thị Thu"), &json!("Không có")),
            "{st}"
        );
        let w1 = app.id_of("workers", "W-001").await;
        let (_, st1) = app
            .get(
                &format!("/api/v1/reports/worker-statement?worker_id={w1}"),
                &admin,
            )
            .await;
        // What the loan was imported with as paid comes first, on a line
        // of its own.
        let pays1 = rows(&st1, "payments");
        assert_eq!(
            (&pays1[0]["kind"], &pays1[0]["receipt_no"]),
            (&json!("Đã trả trước khi vào sổ"), &Value::Null),
            "{st1}"
        );
        assert_eq!(money(&pays1[0]["amount"]), 1_000_000, "paid_to_date: {st1}");
        let receipts: Vec<&str> = pays1[1..]
            .iter()
            .map(|p| p["receipt_no"].as_str().unwrap())
            .collect();
        assert_eq!(
            receipts,
            vec![
                lan.receipt(1).as_str(),
                receipt["receipt_no"].as_str().unwrap()
            ]
        );

        // XLSX: number cells, date cells, headers, totals.
        let (s, ct, cd, bytes) = download(
            &app,
            &format!("/api/v1/reports/daily-collections?{range}&format=xlsx"),
            &admin,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            ct.starts_with("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            "{ct}"
        );
        assert!(
            cd.starts_with("attachment; filename=\"daily-collections_") && cd.ends_with(".xlsx\""),
            "{cd}"
        );
        let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("an XLSX");
        assert_eq!(
            book.sheet_names(),
            vec![
                "Theo cán bộ".to_string(),
                "Theo chi nhánh".to_string(),
                "Cộng kỳ theo cán bộ".to_string()
            ]
        );
        let range_cells = book.worksheet_range("Theo cán bộ").unwrap();
        let header: Vec<String> = range_cells
            .rows()
            .next()
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(&header[..4], ["Ngày", "Chi nhánh", "Mã cán bộ", "Cán bộ"]);
        let collected_col = header
            .iter()
            .position(|h| h == "Đã thu (đã duyệt)")
            .unwrap();
        let all_rows: Vec<&[Data]> = range_cells.rows().collect();
        assert_eq!(all_rows.len(), officers.len() + 2);
        let first = all_rows[1];
        match &first[0] {
            Data::DateTime(d) => assert!(d.is_datetime(), "{d:?}"),
            other => panic!("a date cell: {other:?}"),
        }
        assert!(
            matches!(first[collected_col], Data::Float(_)),
            "{:?}",
            first[collected_col]
        );
        let last = all_rows.last().unwrap();
        assert_eq!(last[0], Data::String("Tổng cộng".into()));
        assert_eq!(last[collected_col], Data::Float(1_000_000.0));
        let (_, _, _, bytes) = download(
            &app,
            "/api/v1/reports/portfolio-at-risk?format=xlsx&lang=en",
            &admin,
        )
        .await;
        let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
        let r = book.worksheet_range("By branch").unwrap();
        let header: Vec<String> = r
            .rows()
            .next()
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(header[0], "Branch");
        let last = r.rows().next_back().unwrap();
        assert_eq!(last[0], Data::String("Total".into()));
        let out_col = header
            .iter()
            .position(|h| h == "Outstanding principal")
            .unwrap();
        assert_eq!(last[out_col], Data::Float(outstanding as f64));

        // CSV: BOM, Vietnamese headers, totals; English with Accept-Language.
        let (s, ct, cd, bytes) =
            download(&app, "/api/v1/reports/campaign-progress?format=csv", &sup).await;
        assert_eq!(s, StatusCode::OK);
        assert!(ct.starts_with("text/csv"), "{ct}");
        // A supervisor's report is her branch's, and its file says so.
        assert!(cd.contains("campaign-progress_CN-TD.csv"), "{cd}");
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "Chương trình");
        assert!(
            lines[1].starts_with(
                "Mã chương trình,Chương trình,Từ ngày,Đến ngày,Giá trị suất quà,Chỉ tiêu"
            ),
            "{text}"
        );
        assert!(
            lines.iter().any(|l| l.starts_with(
                "TET-2027,Tết Sum vầy 2027,01/11/2026,31/12/2030,500000,100,1,0,0,0,,500000"
            )),
            "{text}"
        );
        assert!(lines.iter().any(|l| l.starts_with("Tổng cộng,")), "{text}");
        // Sheets are apart by a blank line, not a line holding `""`.
        assert!(lines.iter().any(|l| l.is_empty()), "{text}");
        assert!(!lines.contains(&"\"\""), "{text}");
        let resp = app
            .http
            .get(app.url(&format!(
                "/api/v1/reports/daily-collections?{range}&format=csv"
            )))
            .bearer_auth(&admin)
            .header("accept-language", "en-GB,en;q=0.9")
            .send()
            .await
            .unwrap();
        let text = resp.text().await.unwrap();
        assert!(
            text.contains("Day,Branch,Officer code,Officer,Due"),
            "{text}"
        );
        assert!(text.lines().any(|l| l.starts_with("Total,")), "{text}");
        let _ = bt;
    }
}

#[tokio::test]
async fn summaries_follow_every_change() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let drift = |when: &'static str| {
            let db = app.db.clone();
            async move {
                assert_eq!(
                    summary_drift(&db).await,
                    Vec::<(&str, i64)>::new(),
                    "{backend:?}, {when}"
                );
            }
        };
        drift("after the import").await;
        let sup = app
            .token("giamsat.td", "super-pass-1", &common::device(1))
            .await;
        let admin = app.token("admin", "admin-pass-1", &common::device(3)).await;
        let mut lan = Phone::sign_in(&app, "canbo.lan", "officer-pass-1").await;
        let snap = lan.snapshot(&app).await;
        let loan = |code: &str| {
            snap.loans
                .iter()
                .find(|l| l.contract_no == code)
                .unwrap()
                .clone()
        };
        let (l1, l2) = (loan("L-001"), loan("L-002"));

        // Approved repayments: one pays off several installments, one part of one.
        let pay1 = lan.record(RecordBody::Repayment(RepaymentPayload {
            loan_id: l1.id,
            worker_id: l1.worker_id,
            amount: Dong(2_000_000),
            receipt_no: lan.receipt(1),
        }));
        let pay2 = lan.record(RecordBody::Repayment(RepaymentPayload {
            loan_id: l2.id,
            worker_id: l2.worker_id,
            amount: Dong(100_000),
            receipt_no: lan.receipt(2),
        }));
        let (batch, outcomes) = lan.upload(&app, vec![pay1.clone(), pay2]).await;
        assert!(
            outcomes.iter().all(|o| o.0 == UploadOutcome::Accepted),
            "{outcomes:?}"
        );
        let (s, out) = app
            .post(
                &format!("/api/v1/batches/{batch}/approve"),
                &sup,
                &json!({"cash_received": "2100000"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{out}");
        drift("after an approval").await;

        // At the counter.
        let l1_id = app.id_of("loans", "L-001").await;
        let (s, receipt) = app
            .post(
                &format!("/api/v1/loans/{l1_id}/repayments"),
                &sup,
                &json!({"client_id": Uuid::now_v7(), "amount": "450000", "note": "Trả tại quầy"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{receipt}");
        drift("after a counter repayment").await;

        // The big repayment reversed: its installments are unpaid again.
        let rev = lan.record(RecordBody::ReversalRequest(ReversalRequestPayload {
            target_id: pay1.client_id,
            reason: "Thu nhầm số tiền".into(),
        }));
        let (rbatch, outcomes) = lan.upload(&app, vec![rev]).await;
        assert_eq!(outcomes[0].0, UploadOutcome::Accepted, "{outcomes:?}");
        let (s, out) = app
            .post(
                &format!("/api/v1/batches/{rbatch}/approve"),
                &sup,
                &json!({"cash_received": "0"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{out}");
        drift("after a reversal").await;

        // Lan (the worker) cannot go to Mai in Bình Tân: her loans are on
        // Thủ Đức's books. Thu and Lan go to Hùng (same branch); their
        // loans' dues and portfolio go with them.
        let header = "code,full_name,cccd,phone,date_of_birth,gender,union_member,employer,industrial_zone,boarding_house_code,room,hardship,hardship_note,officer_code";
        let lan_row = "W-001,Nguyễn Thị Lan,079195000001,0987 654 321,15/03/1995,nu,1,Công ty TNHH Pouyuen Việt Nam,KCX Linh Trung,NT-01,P.12,0,,";
        let (s, report) = app
            .post_csv(
                "/api/v1/imports/workers",
                &admin,
                &format!("{header}\n{lan_row}CB-BT-01\n"),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{report}");
        assert_eq!(report["errors"][0]["column"], "officer_code", "{report}");
        let csv = format!(
            "{header}\n\
             {lan_row}CB-TD-02\n\
             W-002,Đặng Thị Thu,079198000002,+84 978 111 222,01/01/1998,nu,1,Công ty TNHH Pouyuen Việt Nam,KCX Linh Trung,NT-01,P.3,1,Chồng bị tai nạn lao động,CB-TD-02\n"
        );
        let (s, report) = app.post_csv("/api/v1/imports/workers", &admin, &csv).await;
        assert_eq!(s, StatusCode::OK, "{report}");
        assert_eq!(report["workers"]["updated"], 2, "{report}");
        drift("after workers changed officer").await;

        // A new loan for Tâm adds its schedule.
        let (s, report) = app
            .post_csv(
                "/api/v1/imports/loans",
                &admin,
                "code,worker_code,product_code,principal,disbursed_on,paid_to_date\nL-005,W-003,SP-TT,2000000,01/11/2026,0\n",
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{report}");
        drift("after a loan was imported").await;

        // The reports follow: Hùng now has Thu's and Lan's dues and loans.
        let hung_id = app.id_of("users", "CB-TD-02").await;
        let (s, daily) = app
            .get(
                "/api/v1/reports/daily-collections?from=01/07/2026&to=30/06/2027",
                &admin,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{daily}");
        let hung_due: i64 = rows(&daily, "by_officer")
            .iter()
            .filter(|r| r["officer_code"] == "CB-TD-02")
            .map(|r| money(&r["due"]))
            .sum();
        let hung_schedules = scalar(
            &app.db,
            &format!(
                "SELECT CAST(SUM(i.principal_due + i.interest_due) AS BIGINT) FROM installments i
                 JOIN loans l ON l.id = i.loan_id JOIN workers w ON w.id = l.worker_id
                 WHERE w.officer_id = {hung_id} AND i.due_on >= '2026-07-01' AND i.due_on <= '2027-06-30'"
            ),
            None,
        )
        .await;
        assert_eq!(hung_due, hung_schedules, "{daily}");
        let (s, par) = app.get("/api/v1/reports/portfolio-at-risk", &admin).await;
        assert_eq!(s, StatusCode::OK, "{par}");
        let hung_loans = scalar(
            &app.db,
            &format!(
                "SELECT COUNT(*) FROM loans l JOIN workers w ON w.id = l.worker_id
                 WHERE w.officer_id = {hung_id} AND l.principal_outstanding > 0"
            ),
            None,
        )
        .await;
        let hung = row_of(rows(&par, "by_officer"), "officer_code", "CB-TD-02").unwrap();
        assert_eq!(hung["loans"], hung_loans, "{par}");
        let lan_row = row_of(rows(&par, "by_officer"), "officer_code", "CB-TD-01");
        assert!(
            lan_row.is_none(),
            "Lan (the officer) has no loans left: {par}"
        );
    }
}

/// A visit the supervisor rejected (or the officer voided) is no visit: the
/// worker in hardship stays on the list of those not visited.
#[tokio::test]
async fn visits_count_what_a_supervisor_approved_and_every_officer() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let sup = app
            .token("giamsat.td", "super-pass-1", &common::device(1))
            .await;
        let admin = app.token("admin", "admin-pass-1", &common::device(3)).await;
        let hung = app.id_of("users", "CB-TD-02").await;
        let mut lan = Phone::sign_in(&app, "canbo.lan", "officer-pass-1").await;
        let snap = lan.snapshot(&app).await;
        let thu = snap
            .workers
            .iter()
            .find(|w| w.full_name == "Đặng Thị Thu")
            .unwrap()
            .id;
        let not_visited = |report: &Value| {
            row_of(rows(report, "hardship_not_visited"), "worker_code", "W-002").is_some()
        };
        let (_, vis) = app.get("/api/v1/reports/visits?days=7", &sup).await;
        assert!(not_visited(&vis), "{vis}");
        let people = rows(&vis, "hardship_not_visited").len();
        assert_eq!(
            totals(&vis, "hardship_not_visited")["worker"],
            format!("{people} người"),
            "the totals row counts the people: {vis}"
        );
        let visit = lan.record(RecordBody::Visit(VisitPayload {
            worker_id: thu,
            purpose: VisitPurpose::HardshipVisit,
            outcome: "Đã thăm".into(),
            notes: String::new(),
            location: None,
        }));
        let (batch, outcomes) = lan.upload(&app, vec![visit]).await;
        assert_eq!(outcomes[0].0, UploadOutcome::Accepted, "{outcomes:?}");
        // Waiting for review it is not in the books yet: not counted, a
        // column of its own, and the worker still listed, with the visit
        // waiting beside her.
        let (_, vis) = app.get("/api/v1/reports/visits?days=7", &sup).await;
        let officer = |vis: &Value, code: &str| {
            row_of(rows(vis, "by_officer"), "officer_code", code)
                .cloned()
                .unwrap_or_else(|| panic!("{backend:?}: no row for {code}: {vis}"))
        };
        let lan_row = officer(&vis, "CB-TD-01");
        assert_eq!(
            (
                lan_row["hardship_visit"].as_i64(),
                lan_row["total"].as_i64(),
                lan_row["pending"].as_i64()
            ),
            (Some(0), Some(0), Some(1)),
            "{backend:?}: {vis}"
        );
        assert_eq!(totals(&vis, "by_officer")["pending"], 1, "{vis}");
        assert!(not_visited(&vis), "{vis}");
        let thu_row = row_of(rows(&vis, "hardship_not_visited"), "worker_code", "W-002").unwrap();
        assert!(thu_row["last_visit"].is_null(), "{thu_row}");
        assert!(thu_row["last_pending"].is_string(), "{thu_row}");
        // An officer with no visit at all is a row of 0, as is another
        // branch's for the admin.
        let hung_row = officer(&vis, "CB-TD-02");
        assert_eq!(
            (hung_row["total"].as_i64(), hung_row["pending"].as_i64()),
            (Some(0), Some(0)),
            "{vis}"
        );
        assert!(
            row_of(rows(&vis, "by_officer"), "officer_code", "CB-BT-01").is_none(),
            "another branch's officer: {vis}"
        );
        let (_, fund) = app.get("/api/v1/reports/visits?days=7", &admin).await;
        assert_eq!(officer(&fund, "CB-BT-01")["total"], 0, "{fund}");
        let (_, one) = app
            .get(
                &format!("/api/v1/reports/visits?days=7&officer_id={hung}"),
                &sup,
            )
            .await;
        assert_eq!(rows(&one, "by_officer").len(), 1, "{one}");
        assert_eq!(officer(&one, "CB-TD-02")["total"], 0, "{one}");
        let (s, out) = app
            .post(
                &format!("/api/v1/batches/{batch}/reject"),
                &sup,
                &json!({"reason": "Không có ảnh chụp nhà trọ"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{out}");
        let (_, vis) = app.get("/api/v1/reports/visits?days=7", &sup).await;
        assert!(not_visited(&vis), "{backend:?}: {vis}");
        let lan_row = officer(&vis, "CB-TD-01");
        assert_eq!(
            (lan_row["total"].as_i64(), lan_row["pending"].as_i64()),
            (Some(0), Some(0)),
            "{backend:?}: {vis}"
        );
        // Visited again, and approved: counted, and no longer listed.
        let again = lan.record(RecordBody::Visit(VisitPayload {
            worker_id: thu,
            purpose: VisitPurpose::HardshipVisit,
            outcome: "Đã thăm, có ảnh".into(),
            notes: String::new(),
            location: None,
        }));
        let (batch, _) = lan.upload(&app, vec![again]).await;
        let (s, out) = app
            .post(
                &format!("/api/v1/batches/{batch}/approve"),
                &sup,
                &json!({"cash_received": "0"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{out}");
        let (_, vis) = app.get("/api/v1/reports/visits?days=7", &sup).await;
        assert!(!not_visited(&vis), "{backend:?}: {vis}");
        let lan_row = officer(&vis, "CB-TD-01");
        assert_eq!(
            (
                lan_row["hardship_visit"].as_i64(),
                lan_row["total"].as_i64(),
                lan_row["pending"].as_i64()
            ),
            (Some(1), Some(1), Some(0)),
            "{backend:?}: {vis}"
        );
    }
}

/// The days `from`..`to` of the last week as a query, and as a file name has them.
fn last_week() -> (String, String, NaiveDate, NaiveDate) {
    let today = sotay_server::reports::today();
    let (from, to) = (today - Duration::days(7), today);
    let range = format!(
        "from={}&to={}",
        from.format("%d/%m/%Y"),
        to.format("%d/%m/%Y")
    );
    let days = format!("{}_{}", from.format("%d-%m-%Y"), to.format("%d-%m-%Y"));
    (range, days, from, to)
}

#[tokio::test]
async fn the_branch_books_refuse_an_officer_the_other_reports_narrow_to_her() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let sup = app
            .token("giamsat.td", "super-pass-1", &common::device(1))
            .await;
        let admin = app.token("admin", "admin-pass-1", &common::device(3)).await;
        let lan = app.id_of("users", "CB-TD-01").await;
        let (range, ..) = last_week();
        // The branch's books are the branch's: an officer asked for is
        // refused, saying what to do, not shown as "Toàn quỹ".
        for name in ["vault-cash-book", "bank-book"] {
            for who in [&admin, &sup] {
                let (s, e) = app
                    .get(
                        &format!("/api/v1/reports/{name}?{range}&officer_id={lan}"),
                        who,
                    )
                    .await;
                assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {e}");
                assert_eq!(e["errors"][0]["column"], "officer_id", "{e}");
                let detail = e["detail"].as_str().unwrap();
                assert!(
                    detail.contains("không tách theo cán bộ") && detail.contains("bỏ chọn cán bộ"),
                    "{detail}"
                );
            }
        }
        // The reports that take it are narrowed to her.
        for name in sotay_server::reports::BY_OFFICER {
            let (s, report) = app
                .get(&format!("/api/v1/reports/{name}?officer_id={lan}"), &sup)
                .await;
            assert_eq!(s, StatusCode::OK, "{name}: {report}");
            assert!(
                report["subtitle"]["vi"]
                    .as_str()
                    .unwrap()
                    .ends_with("Chi nhánh Thủ Đức, Nguyễn Thị Lan"),
                "{name}: {report}"
            );
        }
    }
}

#[tokio::test]
async fn a_period_with_one_end_says_which_end_it_is() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let sup = app
            .token("giamsat.td", "super-pass-1", &common::device(1))
            .await;
        let admin = app.token("admin", "admin-pass-1", &common::device(3)).await;
        let (_, _, from, to) = last_week();
        let last = to.format("%d/%m/%Y");
        let (_, camp) = app
            .get(
                &format!("/api/v1/reports/campaign-progress?to={last}"),
                &admin,
            )
            .await;
        assert_eq!(
            (&camp["subtitle"]["vi"], &camp["subtitle"]["en"]),
            (
                &json!(format!("đến {last}, Toàn quỹ")),
                &json!(format!("until {last}, Whole fund"))
            ),
            "{camp}"
        );
        let first = from.format("%d/%m/%Y");
        let (_, camp) = app
            .get(
                &format!("/api/v1/reports/campaign-progress?from={first}"),
                &sup,
            )
            .await;
        assert_eq!(
            camp["subtitle"]["vi"],
            json!(format!("từ {first}, Chi nhánh Thủ Đức")),
            "{camp}"
        );
    }
}

#[tokio::test]
async fn downloads_are_named_by_the_branch_and_officer_they_are_narrowed_to() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let sup = app
            .token("giamsat.td", "super-pass-1", &common::device(1))
            .await;
        let admin = app.token("admin", "admin-pass-1", &common::device(3)).await;
        let lan = app.id_of("users", "CB-TD-01").await;
        let td = app.id_of("branches", "CN-TD").await;
        let bt = app.id_of("branches", "CN-BT").await;
        let (range, days, ..) = last_week();
        let file = |cd: String| {
            cd.strip_prefix("attachment; filename=\"")
                .and_then(|c| c.strip_suffix('"'))
                .unwrap_or_else(|| panic!("{cd}"))
                .to_string()
        };
        let mut names = Vec::new();
        for branch in [Some(td), Some(bt), None] {
            let filter = branch.map_or(String::new(), |b| format!("&branch_id={b}"));
            let (s, _, cd, _) = download(
                &app,
                &format!("/api/v1/reports/vault-cash-book?{range}{filter}&format=xlsx"),
                &admin,
            )
            .await;
            assert_eq!(s, StatusCode::OK, "{cd}");
            names.push(file(cd));
        }
        assert_eq!(
            names,
            [
                format!("vault-cash-book_CN-TD_{days}.xlsx"),
                format!("vault-cash-book_CN-BT_{days}.xlsx"),
                format!("vault-cash-book_{days}.xlsx"),
            ]
        );
        let (_, _, cd, _) = download(
            &app,
            &format!("/api/v1/reports/daily-collections?{range}&officer_id={lan}&format=csv"),
            &sup,
        )
        .await;
        assert_eq!(
            file(cd),
            format!("daily-collections_CN-TD_canbo.lan_{days}.csv")
        );
    }
}

#[tokio::test]
async fn a_day_to_come_is_measured_as_if_nothing_more_is_paid_and_says_so() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let admin = app.token("admin", "admin-pass-1", &common::device(3)).await;
        let today = sotay_server::reports::today();
        let ahead = (today + Duration::days(60)).format("%d/%m/%Y").to_string();
        let said_vi = format!("Tính như thể từ hôm nay đến {ahead} không có khoản trả nào thêm");
        let said_en = format!("Measured as if nothing more is paid from today until {ahead}");
        for name in ["portfolio-at-risk", "overdue-loans"] {
            // Today: nothing to say.
            let (s, now) = app.get(&format!("/api/v1/reports/{name}"), &admin).await;
            assert_eq!(s, StatusCode::OK, "{now}");
            assert_eq!(now["notes"], json!([]), "{name}: {now}");
            // A day to come: the JSON, the CSV and the XLSX say how it is
            // measured.
            let (s, later) = app
                .get(&format!("/api/v1/reports/{name}?to={ahead}"), &admin)
                .await;
            assert_eq!(s, StatusCode::OK, "{later}");
            let notes = later["notes"].as_array().unwrap();
            assert_eq!(notes.len(), 1, "{name}: {later}");
            assert!(
                notes[0]["vi"].as_str().unwrap().starts_with(&said_vi),
                "{name}: {later}"
            );
            assert!(
                notes[0]["en"].as_str().unwrap().starts_with(&said_en),
                "{name}: {later}"
            );
            for (lang, said) in [("vi", &said_vi), ("en", &said_en)] {
                let (s, _, _, bytes) = download(
                    &app,
                    &format!("/api/v1/reports/{name}?to={ahead}&format=csv&lang={lang}"),
                    &admin,
                )
                .await;
                assert_eq!(s, StatusCode::OK);
                let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
                let last = text.lines().last().unwrap_or_default();
                assert!(last.contains(said.as_str()), "{name} {lang}: {text}");
            }
            let (_, _, _, bytes) = download(
                &app,
                &format!("/api/v1/reports/{name}?to={ahead}&format=xlsx"),
                &admin,
            )
            .await;
            let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
            for sheet in book.sheet_names() {
                let cells = book.worksheet_range(&sheet).unwrap();
                let last = cells.rows().next_back().unwrap();
                assert!(
                    last[0].to_string().starts_with(&said_vi),
                    "{name}, {sheet}: {:?}",
                    last
                );
            }
            let (_, _, _, bytes) =
                download(&app, &format!("/api/v1/reports/{name}?format=csv"), &admin).await;
            let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
            assert!(!text.contains("Tính như thể"), "{name} today: {text}");
        }
    }
}

#[tokio::test]
async fn report_refusals_say_what_to_do_in_peoples_words() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let sup = app
            .token("giamsat.td", "super-pass-1", &common::device(1))
            .await;
        let admin = app.token("admin", "admin-pass-1", &common::device(3)).await;
        let mai = app.id_of("users", "CB-BT-01").await;
        let td = app.id_of("branches", "CN-TD").await;
        // An admin asking for one branch and another branch's officer is
        // told whose officer she is.
        let (s, e) = app
            .get(
                &format!("/api/v1/reports/daily-collections?officer_id={mai}&branch_id={td}"),
                &admin,
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(e["code"], "officer_not_in_branch", "{e}");
        assert!(
            e["detail"].as_str().unwrap().contains(
                "Cán bộ Võ Thị Mai (CB-BT-01) thuộc Chi nhánh Bình Tân, không thuộc Chi nhánh Thủ Đức"
            ),
            "{e}"
        );
        // A supervisor asking for another branch's officer still learns
        // nothing of her.
        let (s, _) = app
            .get(
                &format!("/api/v1/reports/daily-collections?officer_id={mai}"),
                &sup,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        // No worker: where to find one.
        let (s, e) = app.get("/api/v1/reports/worker-statement", &sup).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(e["errors"][0]["column"], "worker_id", "{e}");
        let detail = e["detail"].as_str().unwrap();
        assert!(
            detail.starts_with("Chọn người lao động")
                && detail.contains("trang \"Người lao động\""),
            "{detail}"
        );
        assert!(
            e["detail_en"]
                .as_str()
                .unwrap()
                .starts_with("Choose the worker"),
            "{e}"
        );
        // A number that does not read: an example, not the parser's words.
        let (s, e) = app
            .get("/api/v1/reports/daily-collections?branch_id=abc", &sup)
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(e["errors"][0]["column"], "branch_id", "{e}");
        let detail = e["detail"].as_str().unwrap();
        assert!(
            detail.contains("phải là một số nguyên, ví dụ branch_id=1")
                && detail.contains("\"abc\"")
                && !detail.contains("invalid digit"),
            "{detail}"
        );
        assert!(
            !e["detail_en"].as_str().unwrap().contains("invalid digit"),
            "{e}"
        );
        // Days out of range: said in Vietnamese, not with the parameter's
        // English name leading.
        let (s, e) = app.get("/api/v1/reports/visits?days=0", &sup).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(e["errors"][0]["column"], "days", "{e}");
        let detail = e["detail"].as_str().unwrap();
        assert!(
            detail.starts_with("Số ngày chưa thăm") && detail.contains("ví dụ days=30"),
            "{detail}"
        );
    }
}
