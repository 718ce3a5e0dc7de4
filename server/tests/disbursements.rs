//! Loans paid out at the branch, on SQLite and on PostgreSQL: lending
//! capital into a branch's vault, a disbursement asked for by one person and
//! approved by another, the vault that must hold the cash, the new loan on
//! the officer's phone and in the books.

mod common;

use common::phone::Phone;
use common::{TestApp, BACKENDS};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sotay_core::domain::rules::LoanStatus;
use uuid::Uuid;

fn money(v: &Value) -> i64 {
    v.as_str()
        .unwrap_or_else(|| panic!("money as a string: {v}"))
        .parse()
        .unwrap()
}

/// The net balance (debits − credits) of `account` at `branch`, checking on
/// the way that the whole ledger balances.
async fn net(app: &TestApp, token: &str, account: &str, branch: i64) -> i64 {
    let (s, body) = app.get("/api/v1/ledger/balances", token).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let rows = body.as_array().unwrap();
    let debit: i64 = rows.iter().map(|r| money(&r["debit"])).sum();
    let credit: i64 = rows.iter().map(|r| money(&r["credit"])).sum();
    assert_eq!(debit, credit, "the ledger balances: {body}");
    rows.iter()
        .filter(|r| r["account"] == account && r["branch_id"] == branch)
        .map(|r| money(&r["debit"]) - money(&r["credit"]))
        .sum()
}

async fn books_agree(app: &TestApp) {
    assert!(app.db.ledger_unbalanced().await.unwrap().is_empty());
    assert!(app.db.ledger_balance_drift().await.unwrap().is_empty());
    assert_eq!(app.db.loan_principal_drift().await.unwrap(), vec![]);
}

/// POSTs `body` to `path` and checks it is refused with `status` and
/// `code`; returns the problem.
async fn refused(
    app: &TestApp,
    path: &str,
    token: &str,
    body: &Value,
    status: StatusCode,
    code: &str,
) -> Value {
    let (s, problem) = app.post(path, token, body).await;
    assert_eq!(
        (s, problem["code"].as_str()),
        (status, Some(code)),
        "{path}: {problem}"
    );
    problem
}

/// Who acts in these tests: Thủ Đức's supervisor, Bình Tân's, an admin and
/// Thủ Đức's officer Lan on her phone.
struct Cast {
    sup: String,
    other_branch: String,
    admin: String,
    lan: Phone,
}

impl Cast {
    async fn of(app: &TestApp) -> Cast {
        Cast {
            sup: app
                .token("giamsat.td", "super-pass-1", &common::device(1))
                .await,
            other_branch: app
                .token("giamsat.bt", "super-pass-2", &common::device(2))
                .await,
            admin: app.token("admin", "admin-pass-1", &common::device(3)).await,
            lan: Phone::sign_in(app, "canbo.lan", "officer-pass-1").await,
        }
    }
}

/// Has `entry` reversed: asked for by `asker`, approved by `approver`.
/// How each line of a reconciled statement stands, in the file's order.
fn line_statuses(rec: &Value) -> Vec<&str> {
    rec["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["status"].as_str().unwrap())
        .collect()
}

/// Thủ Đức's cashier (thủ quỹ), imported by the admin: a token.
async fn cashier(app: &TestApp, admin: &str) -> String {
    let (s, body) = app
        .post_csv(
            "/api/v1/imports/users",
            admin,
            "code,username,full_name,role,branch_code,phone,password\n\
             TQ-TD,thuquy.td,Ngô Thị Quỹ,cashier,CN-TD,,cashier-pass-1\n",
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    app.token("thuquy.td", "cashier-pass-1", &common::device(4))
        .await
}

async fn reverse(app: &TestApp, asker: &str, approver: &str, entry: &Value) {
    let (s, body) = app
        .reversal(asker, approver, entry, "Ghi nhầm chứng từ")
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_loan_is_paid_out_of_the_vault_once_someone_else_approves_it() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let Cast {
            sup,
            other_branch,
            admin,
            lan,
        } = Cast::of(&app).await;
        let snap = lan.snapshot(&app).await;
        let td = app.id_of("branches", "CN-TD").await;
        let lan_worker = app.id_of("workers", "W-001").await;
        let thu = app.id_of("workers", "W-002").await;
        let product = app.id_of("loan_products", "SP-TT").await;
        let vault_before = net(&app, &sup, "vault", td).await;
        assert_eq!(
            vault_before, 0,
            "{backend:?}: a fresh fund's vault is empty"
        );
        // The imported loans' openings: what the fund lent before.
        let capital_before = net(&app, &sup, "loan_capital", td).await;

        // Asked for by the branch's supervisor, within the product's limits.
        let ask = |principal: &str, client: Uuid, worker: i64| {
            json!({"client_id": client, "worker_id": worker, "product_id": product,
                   "principal": principal, "note": "Sửa phòng trọ"})
        };
        let client = Uuid::now_v7();
        let (s, body) = app
            .post(
                "/api/v1/disbursements",
                &sup,
                &ask("12000000", client, lan_worker),
            )
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("principal_out_of_range")
            ),
            "{body}"
        );
        assert!(
            body["detail"].as_str().unwrap().contains("12.000.000 ₫"),
            "{body}"
        );
        let (s, asked) = app
            .post(
                "/api/v1/disbursements",
                &sup,
                &ask("6000000", client, lan_worker),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{asked}");
        let id = asked["id"].as_i64().unwrap();
        assert_eq!(asked["decision"], Value::Null);
        assert_eq!(asked["worker_code"], "W-001");
        assert_eq!(money(&asked["principal"]), 6_000_000);
        // A retry is the same request; the same id for other terms is not.
        let (s, again) = app
            .post(
                "/api/v1/disbursements",
                &sup,
                &ask("6000000", client, lan_worker),
            )
            .await;
        assert_eq!((s, again["id"].as_i64()), (StatusCode::OK, Some(id)));
        let (s, body) = app
            .post(
                "/api/v1/disbursements",
                &sup,
                &ask("7000000", client, lan_worker),
            )
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("disbursement_conflict"))
        );
        let (s, body) = app
            .post(
                "/api/v1/disbursements",
                &sup,
                &ask("5000000", Uuid::now_v7(), lan_worker),
            )
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("disbursement_pending"))
        );
        // Another branch neither asks for nor decides this branch's loans;
        // an officer does neither.
        let (s, _) = app
            .post(
                "/api/v1/disbursements",
                &other_branch,
                &ask("5000000", Uuid::now_v7(), thu),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let approve = format!("/api/v1/disbursements/{id}/approve");
        let (s, _) = app.post(&approve, &other_branch, &json!({})).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = app.post(&approve, &lan.token, &json!({})).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // Not by whoever asked.
        let (s, body) = app.post(&approve, &sup, &json!({})).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("maker_checker"))
        );

        // The vault must hold the cash: refused, and nothing changes.
        let (s, body) = app.post(&approve, &admin, &json!({})).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("vault_short")),
            "{body}"
        );
        assert!(
            body["detail"].as_str().unwrap().contains("6.000.000 ₫"),
            "{body}"
        );
        let (s, list) = app.get("/api/v1/disbursements?status=pending", &sup).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(list.as_array().unwrap().len(), 1, "{list}");

        // Lending capital into the vault: admins only.
        let capital = |amount: &str, client: Uuid| {
            json!({"client_id": client, "branch_id": td, "amount": amount,
                   "received_on": "05/12/2026", "source": "Quỹ CEP chuyển vốn, UNC số 118"})
        };
        let (s, _) = app
            .post(
                "/api/v1/capital-receipts",
                &sup,
                &capital("5000000", Uuid::now_v7()),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // A day typed wrong (in the future, or a year long past) is refused.
        for (day, code) in [
            ("31/12/2099", "received_in_future"),
            ("05/12/1990", "received_too_early"),
        ] {
            let mut body = capital("5000000", Uuid::now_v7());
            body["received_on"] = json!(day);
            let (s, refused) = app.post("/api/v1/capital-receipts", &admin, &body).await;
            assert_eq!(
                (s, refused["code"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
                "{refused}"
            );
        }
        let first_capital = Uuid::now_v7();
        let (s, receipt) = app
            .post(
                "/api/v1/capital-receipts",
                &admin,
                &capital("5000000", first_capital),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{receipt}");
        let capital_entry = receipt["entry_id"].as_i64().unwrap();
        let (s, same) = app
            .post(
                "/api/v1/capital-receipts",
                &admin,
                &capital("5000000", first_capital),
            )
            .await;
        assert_eq!(
            (s, same["id"].clone()),
            (StatusCode::OK, receipt["id"].clone())
        );
        assert_eq!(net(&app, &sup, "vault", td).await, 5_000_000);
        let (s, body) = app.post(&approve, &admin, &json!({})).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("vault_short"))
        );
        let (s, _) = app
            .post(
                "/api/v1/capital-receipts",
                &admin,
                &capital("20000000", Uuid::now_v7()),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let (s, paid) = app.post(&approve, &admin, &json!({})).await;
        assert_eq!(s, StatusCode::OK, "{paid}");
        assert_eq!(paid["decision"], "approved");
        let loan_id = paid["loan_id"].as_i64().unwrap();
        assert_eq!(paid["loan_code"], "GN-CN-TD-000001");
        let (s, body) = app.post(&approve, &admin, &json!({})).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("disbursement_already_decided"))
        );

        // The loan: the product's schedule from today, in the books.
        let (s, loan) = app.get(&format!("/api/v1/loans/{loan_id}"), &sup).await;
        assert_eq!(s, StatusCode::OK, "{loan}");
        let installments = loan["installments"].as_array().unwrap();
        assert_eq!(installments.len(), 12, "SP-TT: 12 biweekly installments");
        let principal: i64 = installments
            .iter()
            .map(|i| money(&i["principal_due"]))
            .sum();
        assert_eq!(principal, 6_000_000);
        assert_eq!(net(&app, &sup, "vault", td).await, 25_000_000 - 6_000_000);
        assert_eq!(
            net(&app, &sup, "loan_capital", td).await,
            capital_before - 25_000_000
        );
        books_agree(&app).await;

        // The worker's officer receives it at the next sync.
        let page = lan.changes(&app, &snap.next).await;
        let on_phone = page
            .loans
            .iter()
            .find(|l| l.contract_no == "GN-CN-TD-000001")
            .unwrap_or_else(|| panic!("{backend:?}: the new loan reaches the phone"));
        assert_eq!(on_phone.principal.0, 6_000_000);
        assert_eq!(on_phone.balance.0, 6_000_000);
        assert_eq!(on_phone.status, LoanStatus::Active);

        // It is repaid like any loan.
        let (s, body) = app
            .post(
                &format!("/api/v1/loans/{loan_id}/repayments"),
                &sup,
                &json!({"client_id": Uuid::now_v7(), "amount": "500000"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(money(&body["balance_after"]), 5_500_000);
        assert_eq!(net(&app, &sup, "vault", td).await, 19_500_000);
        books_agree(&app).await;

        // Rejected with a reason: nothing is paid.
        let (s, asked) = app
            .post(
                "/api/v1/disbursements",
                &admin,
                &ask("3000000", Uuid::now_v7(), thu),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{asked}");
        let reject = format!("/api/v1/disbursements/{}/reject", asked["id"]);
        let (s, _) = app.post(&reject, &sup, &json!({"reason": " "})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, rejected) = app
            .post(
                &reject,
                &sup,
                &json!({"reason": "Chưa đủ hồ sơ bảo lãnh của công đoàn cơ sở"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{rejected}");
        assert_eq!(rejected["decision"], "rejected");
        assert_eq!(rejected["loan_id"], Value::Null);
        assert_eq!(net(&app, &sup, "vault", td).await, 19_500_000);
        let (_, list) = app.get("/api/v1/disbursements", &sup).await;
        assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
        let (_, list) = app.get("/api/v1/disbursements", &other_branch).await;
        assert_eq!(list.as_array().unwrap().len(), 0, "{list}");

        // Capital entered by mistake is reversed at the branch, by two people.
        let (s, created) = app
            .post(
                "/api/v1/reversals",
                &sup,
                &json!({"entry_id": capital_entry, "reason": "Ghi trùng lần chuyển vốn"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{created}");
        // Capital is the admins' to record, and to take back: a second
        // supervisor of the branch may not approve it.
        let (s, body) = app
            .post_csv(
                "/api/v1/imports/users",
                &admin,
                "code,username,full_name,role,branch_code,phone,password\n\
                 GS-TD-2,giamsat.td2,Ngô Văn Phó,supervisor,CN-TD,,super-pass-3\n",
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let deputy = app
            .token("giamsat.td2", "super-pass-3", &common::device(4))
            .await;
        let (s, body) = app
            .post(
                &format!("/api/v1/reversals/{}/approve", created["id"]),
                &deputy,
                &json!({}),
            )
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("admin_required")),
            "{body}"
        );
        let (s, body) = app
            .post(
                &format!("/api/v1/reversals/{}/approve", created["id"]),
                &admin,
                &json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        // Sent again (another tab): who decided it, and when.
        let (s, body) = app
            .post(
                &format!("/api/v1/reversals/{}/approve", created["id"]),
                &admin,
                &json!({}),
            )
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("reversal_already_decided")),
            "{body}"
        );
        assert!(
            body["detail"].as_str().unwrap().contains(" duyệt lúc "),
            "{body}"
        );
        assert_eq!(net(&app, &sup, "vault", td).await, 14_500_000);
        books_agree(&app).await;

        // The branch's cash book: every movement of the vault today, from
        // an empty vault to what it holds now.
        let (s, book) = app.get("/api/v1/reports/vault-cash-book", &sup).await;
        assert_eq!(s, StatusCode::OK, "{book}");
        let by_branch = &book["sheets"][0];
        assert_eq!(by_branch["key"], "by_branch");
        let rows = by_branch["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "a supervisor's branch only: {book}");
        let row = &rows[0];
        assert_eq!(
            (
                money(&row["opening"]),
                money(&row["cash_in"]),
                money(&row["cash_out"]),
                money(&row["closing"])
            ),
            (0, 25_500_000, 11_000_000, 14_500_000),
            "{row}"
        );
        let moves = book["sheets"][1]["rows"].as_array().unwrap();
        let kinds: Vec<&str> = moves.iter().map(|m| m["kind"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            [
                "Nhận vốn cho vay",
                "Nhận vốn cho vay",
                "Giải ngân khoản vay",
                "Thu nợ tại quầy",
                "Đảo bút toán"
            ]
        );
        assert_eq!(money(&moves[4]["balance"]), 14_500_000);
        assert_eq!(net(&app, &sup, "vault", td).await, 14_500_000);
        let (s, _) = app
            .get(
                &format!("/api/v1/reports/vault-cash-book?branch_id={td}"),
                &other_branch,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "another branch's cash book");
        // Yesterday the vault was still empty.
        let yesterday = sotay_core::domain::time::format_date(
            sotay_core::domain::time::local_date(chrono::Utc::now()) - chrono::Duration::days(1),
        );
        let (s, before) = app
            .get(
                &format!("/api/v1/reports/vault-cash-book?from={yesterday}&to={yesterday}"),
                &sup,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{before}");
        let row = &before["sheets"][0]["rows"][0];
        assert_eq!(
            (money(&row["opening"]), money(&row["closing"])),
            (0, 0),
            "{row}"
        );
        assert_eq!(before["sheets"][1]["rows"].as_array().unwrap().len(), 0);

        // Who did what is in the audit log.
        let (s, audit) = app.get("/api/v1/audit?limit=200", &admin).await;
        assert_eq!(s, StatusCode::OK);
        let actions: Vec<&str> = audit
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["action"].as_str())
            .collect();
        for action in [
            "capital.receive",
            "disbursement.request",
            "disbursement.approve",
            "disbursement.reject",
        ] {
            assert!(
                actions.contains(&action),
                "{backend:?}: {action} in {actions:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_loan_paid_out_in_error_is_taken_back_while_nothing_was_collected() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let sup = app
            .token("giamsat.td", "super-pass-1", &common::device(1))
            .await;
        let admin = app.token("admin", "admin-pass-1", &common::device(3)).await;
        let mut lan = Phone::sign_in(&app, "canbo.lan", "officer-pass-1").await;
        let snap = lan.snapshot(&app).await;
        let td = app.id_of("branches", "CN-TD").await;
        let thu = app.id_of("workers", "W-002").await;
        let lan_worker = app.id_of("workers", "W-001").await;
        let product = app.id_of("loan_products", "SP-TT").await;
        let (s, body) = app
            .post(
                "/api/v1/capital-receipts",
                &admin,
                &json!({"client_id": Uuid::now_v7(), "branch_id": td, "amount": "20000000",
                        "received_on": "05/12/2026", "source": "Quỹ TW chuyển"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let pay_out = |worker: i64, principal: &'static str| {
            let (app, sup, admin) = (&app, sup.clone(), admin.clone());
            async move {
                let (s, asked) = app
                    .post(
                        "/api/v1/disbursements",
                        &sup,
                        &json!({"client_id": Uuid::now_v7(), "worker_id": worker, "product_id": product,
                                "principal": principal, "note": ""}),
                    )
                    .await;
                assert_eq!(s, StatusCode::OK, "{asked}");
                let (s, paid) = app
                    .post(
                        &format!("/api/v1/disbursements/{}/approve", asked["id"]),
                        &admin,
                        &json!({}),
                    )
                    .await;
                assert_eq!(s, StatusCode::OK, "{paid}");
                paid
            }
        };
        // Paid out to the wrong worker; the cash comes back the same day.
        let paid = pay_out(thu, "3000000").await;
        let loan_id = paid["loan_id"].as_i64().unwrap();
        let entry = paid["entry_id"].as_i64().unwrap();
        assert_eq!(net(&app, &sup, "vault", td).await, 17_000_000);
        let reason = "Giải ngân nhầm người lao động; đã thu lại tiền mặt";
        let (s, asked) = app
            .post(
                "/api/v1/reversals",
                &sup,
                &json!({"entry_id": entry, "reason": reason}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{asked}");
        let approve = format!("/api/v1/reversals/{}/approve", asked["id"]);
        let (s, body) = app.post(&approve, &sup, &json!({})).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("maker_checker"))
        );
        let (s, body) = app.post(&approve, &admin, &json!({})).await;
        assert_eq!(s, StatusCode::OK, "{body}");

        // The cash is back, the loan owes nothing and has no schedule.
        assert_eq!(net(&app, &sup, "vault", td).await, 20_000_000);
        let (s, loan) = app.get(&format!("/api/v1/loans/{loan_id}"), &sup).await;
        assert_eq!(s, StatusCode::OK, "{loan}");
        assert_eq!(loan["loan"]["status"], "cancelled", "{loan}");
        assert_eq!(money(&loan["loan"]["outstanding_principal"]), 0);
        assert_eq!(loan["installments"].as_array().unwrap().len(), 0, "{loan}");
        books_agree(&app).await;
        let (_, list) = app.get("/api/v1/disbursements", &sup).await;
        assert_eq!(list[0]["taken_back_by"], body["entry_id"], "{list} {body}");
        assert!(body["entry_id"].is_i64(), "{body}");
        assert_eq!(app.db.audit_count("loan.cancel").await.unwrap(), 1);
        let (s, cancelled) = app.get("/api/v1/loans?status=cancelled", &sup).await;
        assert_eq!(s, StatusCode::OK, "{cancelled}");
        let ids: Vec<i64> = cancelled
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, [loan_id]);
        // The worker's statement shows neither the loan nor a payment.
        let (s, st) = app
            .get(
                &format!("/api/v1/reports/worker-statement?worker_id={thu}"),
                &sup,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{st}");
        let sheet = |key: &str| {
            st["sheets"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["key"] == key)
                .unwrap()["rows"]
                .clone()
        };
        assert!(
            sheet("loans")
                .as_array()
                .unwrap()
                .iter()
                .all(|l| l["loan"] != paid["loan_code"]),
            "{st}"
        );
        assert_eq!(sheet("payments").as_array().unwrap().len(), 0, "{st}");
        // Taking a loan back collects nothing.
        let (s, daily) = app.get("/api/v1/reports/daily-collections", &sup).await;
        assert_eq!(s, StatusCode::OK, "{daily}");
        let totals = daily["sheets"][0]["totals"].clone();
        assert_eq!(money(&totals["collected"]), 0, "{daily}");
        // Once is all.
        let (s, body) = app
            .post(
                "/api/v1/reversals",
                &sup,
                &json!({"entry_id": entry, "reason": reason}),
            )
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("reversal_target_invalid")),
            "{body}"
        );

        // The officer's phone never keeps it.
        let page = lan.changes(&app, &snap.next).await;
        assert!(
            page.loans
                .iter()
                .all(|l| l.contract_no != paid["loan_code"]),
            "{backend:?}: {page:?}"
        );
        assert!(page
            .removed_loans
            .iter()
            .any(|id| page.loans.iter().all(|l| l.id != *id)));
        assert_eq!(page.removed_loans.len(), 1, "{page:?}");
        let again = lan.snapshot(&app).await;
        assert!(again.loans.iter().all(|l| l.id != page.removed_loans[0]));
        // Money an officer took on it offline, before the phone knew, is
        // refused with what to do.
        let thu_uid = snap
            .workers
            .iter()
            .find(|w| w.full_name == "Đặng Thị Thu")
            .unwrap()
            .id;
        let receipt = lan.receipt(1);
        let late = lan.record(sotay_core::wire::RecordBody::Repayment(
            sotay_core::wire::RepaymentPayload {
                loan_id: page.removed_loans[0],
                worker_id: thu_uid,
                amount: sotay_core::domain::money::Dong(250_000),
                receipt_no: receipt,
            },
        ));
        let (_, outcomes) = lan.upload(&app, vec![late]).await;
        assert_eq!(
            outcomes,
            [(
                sotay_core::wire::UploadOutcome::Rejected,
                Some("loan_cancelled".into())
            )]
        );

        // A loan with money collected on it is repaid, not taken back.
        let kept = pay_out(lan_worker, "2000000").await;
        let (s, body) = app
            .post(
                &format!("/api/v1/loans/{}/repayments", kept["loan_id"]),
                &sup,
                &json!({"client_id": Uuid::now_v7(), "amount": "100000"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, body) = app
            .post(
                "/api/v1/reversals",
                &sup,
                &json!({"entry_id": kept["entry_id"], "reason": "Nhầm"}),
            )
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("loan_has_collections")),
            "{body}"
        );
        assert!(
            body["detail"].as_str().unwrap().contains("100.000 ₫"),
            "{body}"
        );
        books_agree(&app).await;
    }
}

#[tokio::test]
async fn a_loan_is_paid_out_by_transfer_from_the_branch_bank_account() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let sup = app
            .token("giamsat.td", "super-pass-1", &common::device(1))
            .await;
        let admin = app.token("admin", "admin-pass-1", &common::device(3)).await;
        let td = app.id_of("branches", "CN-TD").await;
        let thu = app.id_of("workers", "W-002").await;
        let lan_worker = app.id_of("workers", "W-001").await;
        let product = app.id_of("loan_products", "SP-TT").await;
        let ask = |worker: i64, method: &str, account: Option<&str>| {
            json!({"client_id": Uuid::now_v7(), "worker_id": worker, "product_id": product,
                   "principal": "6000000", "note": "", "method": method, "bank_account": account})
        };

        // A transfer names the worker's account, with its number; cash none.
        for (method, account, why) in [
            ("transfer", None, "Chuyển khoản cần tài khoản"),
            ("transfer", Some("Vietcombank"), "không có số tài khoản"),
            (
                "cash",
                Some("Vietcombank 0071000123456"),
                "không cần tài khoản",
            ),
        ] {
            let body = refused(
                &app,
                "/api/v1/disbursements",
                &sup,
                &ask(thu, method, account),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
            )
            .await;
            assert_eq!(body["errors"][0]["column"], "bank_account", "{body}");
            assert!(body["detail"].as_str().unwrap().contains(why), "{body}");
        }
        refused(
            &app,
            "/api/v1/disbursements",
            &sup,
            &json!({"client_id": Uuid::now_v7(), "worker_id": thu, "product_id": product,
                        "principal": "6000000", "method": "cheque"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        )
        .await;
        let (s, asked) = app
            .post(
                "/api/v1/disbursements",
                &sup,
                &ask(thu, "transfer", Some(" Vietcombank 0071000123456 ")),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{asked}");
        assert_eq!(asked["method"], "transfer");
        assert_eq!(asked["bank_account"], "Vietcombank 0071000123456");
        let approve = format!("/api/v1/disbursements/{}/approve", asked["id"]);

        // Cash in the vault does not pay a transfer.
        let capital = |amount: &str, method: &str| {
            json!({"client_id": Uuid::now_v7(), "branch_id": td, "amount": amount,
                   "received_on": "05/12/2026", "source": "Quỹ CEP, UNC số 120", "method": method})
        };
        let (s, cash) = app
            .post(
                "/api/v1/capital-receipts",
                &admin,
                &capital("50000000", "cash"),
            )
            .await;
        assert_eq!((s, cash["method"].as_str()), (StatusCode::OK, Some("cash")));
        // What would refuse the payment is said before the approver is
        // asked to send the money.
        let with_ref = json!({"transfer_ref": "FT26339000123"});
        for body in [json!({}), with_ref.clone()] {
            let refusal = refused(
                &app,
                &approve,
                &admin,
                &body,
                StatusCode::CONFLICT,
                "bank_short",
            )
            .await;
            assert!(
                refusal["detail"].as_str().unwrap().contains("còn 0 ₫"),
                "{refusal}"
            );
        }

        // Capital by transfer fills the bank account, not the vault.
        let (s, wired) = app
            .post(
                "/api/v1/capital-receipts",
                &admin,
                &capital("20000000", "transfer"),
            )
            .await;
        assert_eq!(
            (s, wired["method"].as_str()),
            (StatusCode::OK, Some("transfer")),
            "{wired}"
        );
        assert_eq!(net(&app, &sup, "bank", td).await, 20_000_000);
        assert_eq!(net(&app, &sup, "vault", td).await, 50_000_000);
        // Approved once made, with the bank's reference of it (an empty
        // body or a null one is no reference).
        for body in [json!({}), Value::Null, json!({"transfer_ref": "  "})] {
            let refusal = refused(
                &app,
                &approve,
                &admin,
                &body,
                StatusCode::UNPROCESSABLE_ENTITY,
                "transfer_ref_required",
            )
            .await;
            let detail = refusal["detail"].as_str().unwrap();
            assert!(detail.contains("Vietcombank 0071000123456"), "{refusal}");
            assert!(detail.contains("20.000.000 ₫"), "{refusal}");
        }
        let (s, paid) = app.post(&approve, &admin, &with_ref).await;
        assert_eq!(s, StatusCode::OK, "{paid}");
        assert_eq!(paid["decision"], "approved");
        assert_eq!(paid["transfer_ref"], "FT26339000123");
        assert_eq!(net(&app, &sup, "bank", td).await, 14_000_000);
        assert_eq!(net(&app, &sup, "vault", td).await, 50_000_000);
        let (s, loan) = app
            .get(&format!("/api/v1/loans/{}", paid["loan_id"]), &sup)
            .await;
        assert_eq!(s, StatusCode::OK, "{loan}");
        assert_eq!(money(&loan["loan"]["outstanding_principal"]), 6_000_000);
        books_agree(&app).await;

        // One transfer pays one loan: its reference is not taken twice.
        let (s, second) = app
            .post(
                "/api/v1/disbursements",
                &sup,
                &ask(thu, "transfer", Some("Vietcombank 0071000123456")),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{second}");
        let approve_second = format!("/api/v1/disbursements/{}/approve", second["id"]);
        refused(
            &app,
            &approve_second,
            &admin,
            &with_ref,
            StatusCode::CONFLICT,
            "transfer_ref_used",
        )
        .await;
        // Nor at another branch's counter, which is not told which payout
        // of Thủ Đức's it is.
        let bt_sup = app
            .token("giamsat.bt", "super-pass-2", &common::device(2))
            .await;
        let l4 = app.id_of("loans", "L-004").await;
        let mut at_counter =
            json!({"client_id": Uuid::now_v7(), "amount": "100000", "method": "transfer"});
        at_counter["transfer_ref"] = with_ref["transfer_ref"].clone();
        let body = refused(
            &app,
            &format!("/api/v1/loans/{l4}/repayments"),
            &bt_sup,
            &at_counter,
            StatusCode::CONFLICT,
            "transfer_ref_used",
        )
        .await;
        let said = body["detail"].as_str().unwrap();
        assert!(
            said.contains("một khoản giải ngân của chi nhánh khác")
                && !said.contains("đề nghị giải ngân số"),
            "{body}"
        );
        let (s, body) = app
            .post(
                &format!("/api/v1/disbursements/{}/reject", second["id"]),
                &admin,
                &json!({"reason": "Đã có khoản vay"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        // A retry with the request's id and another method is refused.
        refused(
            &app,
            "/api/v1/disbursements",
            &sup,
            &json!({"client_id": second["client_id"], "worker_id": thu, "product_id": product,
                        "principal": "6000000", "method": "cash"}),
            StatusCode::CONFLICT,
            "disbursement_conflict",
        )
        .await;

        // A cash one takes no reference; with none (and no body) it pays
        // out of the vault.
        let (s, cash_ask) = app
            .post(
                "/api/v1/disbursements",
                &sup,
                &ask(lan_worker, "cash", None),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{cash_ask}");
        assert_eq!(cash_ask["method"], "cash");
        let approve_cash = format!("/api/v1/disbursements/{}/approve", cash_ask["id"]);
        refused(
            &app,
            &approve_cash,
            &admin,
            &with_ref,
            StatusCode::UNPROCESSABLE_ENTITY,
            "transfer_ref_unexpected",
        )
        .await;
        let resp = app
            .http
            .post(app.url(&approve_cash))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(net(&app, &sup, "vault", td).await, 44_000_000);
        assert_eq!(net(&app, &sup, "bank", td).await, 14_000_000);

        // Capital wired in and partly lent out cannot be reversed: the bank
        // account would go below zero.
        let (s, asked_back) = app
            .post(
                "/api/v1/reversals",
                &sup,
                &json!({"entry_id": wired["entry_id"], "reason": "Ghi nhầm số tiền"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{asked_back}");
        let body = refused(
            &app,
            &format!("/api/v1/reversals/{}/approve", asked_back["id"]),
            &admin,
            &json!({}),
            StatusCode::CONFLICT,
            "balance_negative",
        )
        .await;
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("Tiền gửi ngân hàng chi nhánh"),
            "{body}"
        );
        assert_eq!(net(&app, &sup, "bank", td).await, 14_000_000);
        let (s, _) = app
            .post(
                &format!("/api/v1/reversals/{}/reject", asked_back["id"]),
                &admin,
                &json!({"reason": "Không đảo được lúc này"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        // The asker reads why.
        let (_, list) = app.get("/api/v1/reversals", &sup).await;
        let refused = list
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == asked_back["id"])
            .unwrap();
        assert_eq!(refused["decision"], "rejected", "{refused}");
        assert_eq!(
            refused["decision_reason"], "Không đảo được lúc này",
            "{refused}"
        );

        // Taken back, the transfer's money returns to the bank account.
        let reason = "Chuyển nhầm người; ngân hàng đã hoàn tiền";
        let (s, body) = app.reversal(&sup, &admin, &paid["entry_id"], reason).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(net(&app, &sup, "bank", td).await, 20_000_000);
        assert_eq!(net(&app, &sup, "vault", td).await, 44_000_000);
        // With the money back, the capital can be reversed to nothing.
        let (s, body) = app
            .reversal(&sup, &admin, &wired["entry_id"], "Ghi nhầm số tiền")
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(net(&app, &sup, "bank", td).await, 0);
        let (_, list) = app.get("/api/v1/disbursements", &sup).await;
        let transfer = list
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == asked["id"])
            .unwrap();
        assert_eq!(transfer["transfer_ref"], "FT26339000123", "{list}");
        assert!(transfer["taken_back_by"].is_i64(), "{list}");
        assert_eq!(app.db.audit_count("disbursement.approve").await.unwrap(), 2);
        books_agree(&app).await;
    }
}

#[tokio::test]
async fn cash_is_paid_into_the_bank_and_drawn_from_it() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let Cast {
            sup,
            other_branch,
            admin,
            lan,
        } = Cast::of(&app).await;
        let td = app.id_of("branches", "CN-TD").await;
        let (s, body) = app
            .post(
                "/api/v1/capital-receipts",
                &admin,
                &json!({"client_id": Uuid::now_v7(), "branch_id": td, "amount": "30000000",
                        "received_on": "05/12/2026", "source": "Quỹ TW chuyển"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let mv = |client: Uuid, direction: &str, amount: &str| {
            json!({"client_id": client, "branch_id": td, "direction": direction,
                   "amount": amount, "reference": "GNT-0042"})
        };

        // Not the officers'; not another branch's.
        let (s, _) = app
            .post(
                "/api/v1/bank-moves",
                &lan.token,
                &mv(Uuid::now_v7(), "deposit", "1000000"),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        refused(
            &app,
            "/api/v1/bank-moves",
            &other_branch,
            &mv(Uuid::now_v7(), "deposit", "1000000"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_branch",
        )
        .await;
        // Nothing to draw yet; more than the vault holds is not paid in.
        refused(
            &app,
            "/api/v1/bank-moves",
            &sup,
            &mv(Uuid::now_v7(), "withdrawal", "1000000"),
            StatusCode::CONFLICT,
            "bank_short",
        )
        .await;
        let body = refused(
            &app,
            "/api/v1/bank-moves",
            &sup,
            &mv(Uuid::now_v7(), "deposit", "31000000"),
            StatusCode::CONFLICT,
            "vault_short",
        )
        .await;
        assert!(
            body["detail"].as_str().unwrap().contains("30.000.000 ₫"),
            "{body}"
        );
        let (s, body) = app
            .post(
                "/api/v1/bank-moves",
                &sup,
                &json!({"client_id": Uuid::now_v7(), "branch_id": td, "direction": "deposit",
                        "amount": "1000000", "reference": " "}),
            )
            .await;
        assert_eq!(
            (s, body["errors"][0]["column"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("reference")),
            "{body}"
        );

        // Paid in: the vault gives, the bank account takes; a retry is the
        // same move, the same id for another amount is not.
        let client = Uuid::now_v7();
        let (s, paid_in) = app
            .post(
                "/api/v1/bank-moves",
                &sup,
                &mv(client, "deposit", "25000000"),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{paid_in}");
        assert_eq!(paid_in["direction"], "deposit");
        let (s, again) = app
            .post(
                "/api/v1/bank-moves",
                &sup,
                &mv(client, "deposit", "25000000"),
            )
            .await;
        assert_eq!((s, &again["id"]), (StatusCode::OK, &paid_in["id"]));
        refused(
            &app,
            "/api/v1/bank-moves",
            &sup,
            &mv(client, "deposit", "20000000"),
            StatusCode::CONFLICT,
            "bank_move_conflict",
        )
        .await;
        let mut other_slip = mv(client, "deposit", "25000000");
        other_slip["reference"] = json!("GNT-0043");
        refused(
            &app,
            "/api/v1/bank-moves",
            &sup,
            &other_slip,
            StatusCode::CONFLICT,
            "bank_move_conflict",
        )
        .await;
        // The same slip from a new form (a reload, a colleague) posts once.
        let body = refused(
            &app,
            "/api/v1/bank-moves",
            &sup,
            &mv(Uuid::now_v7(), "deposit", "1000000"),
            StatusCode::CONFLICT,
            "bank_slip_used",
        )
        .await;
        assert!(
            body["detail"].as_str().unwrap().contains("GNT-0042"),
            "{body}"
        );
        // No letter or digit: no slip.
        let mut dashes = mv(Uuid::now_v7(), "deposit", "1000000");
        dashes["reference"] = json!("--");
        refused(
            &app,
            "/api/v1/bank-moves",
            &sup,
            &dashes,
            StatusCode::UNPROCESSABLE_ENTITY,
            "bank_slip_invalid",
        )
        .await;
        // However it is typed.
        for typed in ["gnt 0042", "GNT0042", "gnt-0042", " GNT.0042 "] {
            let mut again = mv(Uuid::now_v7(), "deposit", "1000000");
            again["reference"] = json!(typed);
            refused(
                &app,
                "/api/v1/bank-moves",
                &sup,
                &again,
                StatusCode::CONFLICT,
                "bank_slip_used",
            )
            .await;
        }
        assert_eq!(net(&app, &sup, "vault", td).await, 5_000_000);
        assert_eq!(net(&app, &sup, "bank", td).await, 25_000_000);
        // Drawn back in part, by the branch's cashier (thủ quỹ).
        let cashier = cashier(&app, &admin).await;
        let (s, drawn) = app
            .post(
                "/api/v1/bank-moves",
                &cashier,
                &mv(Uuid::now_v7(), "withdrawal", "4000000"),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{drawn}");
        assert_eq!(net(&app, &sup, "vault", td).await, 9_000_000);
        assert_eq!(net(&app, &sup, "bank", td).await, 21_000_000);
        assert_eq!(app.db.audit_count("bank.deposit").await.unwrap(), 1);
        assert_eq!(app.db.audit_count("bank.withdraw").await.unwrap(), 1);
        let (s, list) = app.get("/api/v1/bank-moves", &sup).await;
        assert_eq!(s, StatusCode::OK, "{list}");
        assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
        let (_, list) = app.get("/api/v1/bank-moves", &cashier).await;
        assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
        let (_, list) = app.get("/api/v1/bank-moves", &other_branch).await;
        assert_eq!(list.as_array().unwrap().len(), 0, "{list}");

        // Entered by mistake, each is reversed by a second person.
        for (entry, vault, bank) in [
            (&drawn["entry_id"], 5_000_000, 25_000_000),
            (&paid_in["entry_id"], 30_000_000, 0),
        ] {
            reverse(&app, &sup, &admin, entry).await;
            assert_eq!(net(&app, &sup, "vault", td).await, vault);
            assert_eq!(net(&app, &sup, "bank", td).await, bank);
        }
        // The bank book shows every movement of the account today.
        let (s, book) = app.get("/api/v1/reports/bank-book", &sup).await;
        assert_eq!(s, StatusCode::OK, "{book}");
        assert_eq!(
            (book["name"].as_str(), book["title"]["vi"].as_str()),
            (Some("bank-book"), Some("Sổ tiền gửi ngân hàng")),
            "{book}"
        );
        let row = &book["sheets"][0]["rows"][0];
        assert_eq!(
            (
                money(&row["opening"]),
                money(&row["cash_in"]),
                money(&row["cash_out"]),
                money(&row["closing"]),
                row["moves"].as_i64()
            ),
            (0, 29_000_000, 29_000_000, 0, Some(4)),
            "{book}"
        );
        let moves = book["sheets"][1]["rows"].as_array().unwrap();
        let kinds: Vec<&str> = moves.iter().map(|m| m["kind"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            [
                "Giao dịch tài khoản ngân hàng",
                "Giao dịch tài khoản ngân hàng",
                "Đảo bút toán",
                "Đảo bút toán"
            ]
        );
        assert_eq!(money(&moves[0]["balance"]), 25_000_000);
        let (s, _) = app
            .get(
                &format!("/api/v1/reports/bank-book?branch_id={td}"),
                &other_branch,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "another branch's bank book");
        let (s, body) = app
            .get("/api/v1/reports/bank-book?from=01/01/2020", &sup)
            .await;
        assert_eq!(
            (s, body["errors"][0]["column"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("to")),
            "{body}"
        );
        // Once its move is reversed, a slip may be posted again.
        let (s, body) = app
            .post(
                "/api/v1/bank-moves",
                &sup,
                &mv(Uuid::now_v7(), "deposit", "1000000"),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (_, list) = app.get("/api/v1/bank-moves", &sup).await;
        assert!(
            list.as_array()
                .unwrap()
                .iter()
                .any(|m| m["id"] == paid_in["id"] && m["reversed"] == true),
            "{list}"
        );
        books_agree(&app).await;
    }
}

#[tokio::test]
async fn a_worker_pays_by_transfer_into_the_branch_bank_account() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let Cast {
            sup,
            other_branch,
            admin,
            ..
        } = Cast::of(&app).await;
        let td = app.id_of("branches", "CN-TD").await;
        let wrong_loan = app.id_of("loans", "L-002").await;
        let right_loan = app.id_of("loans", "L-001").await;
        let at = |loan: i64| format!("/api/v1/loans/{loan}/repayments");
        let pay = |client: Uuid, method: &str, reference: Option<&str>| {
            json!({"client_id": client, "amount": "200000", "method": method,
                   "transfer_ref": reference, "note": "Chuyển khoản qua VietQR"})
        };
        let (vault, bank) = (
            net(&app, &sup, "vault", td).await,
            net(&app, &sup, "bank", td).await,
        );

        // A transfer names the bank's reference; cash none.
        for (method, reference, code) in [
            ("transfer", None, "transfer_ref_required"),
            ("transfer", Some("  "), "transfer_ref_required"),
            ("cash", Some("FT26339000001"), "transfer_ref_unexpected"),
        ] {
            refused(
                &app,
                &at(wrong_loan),
                &sup,
                &pay(Uuid::now_v7(), method, reference),
                StatusCode::UNPROCESSABLE_ENTITY,
                code,
            )
            .await;
        }
        let (s, _) = app
            .post(
                &at(wrong_loan),
                &other_branch,
                &pay(Uuid::now_v7(), "transfer", Some("FT26339000001")),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "another branch's loan");

        // Into the bank account; the vault is untouched.
        let client = Uuid::now_v7();
        let first = pay(client, "transfer", Some(" FT26339000001 "));
        let (s, took) = app.post(&at(wrong_loan), &sup, &first).await;
        assert_eq!(s, StatusCode::OK, "{took}");
        assert_eq!(
            (took["method"].as_str(), took["transfer_ref"].as_str()),
            (Some("transfer"), Some("FT26339000001")),
            "{took}"
        );
        assert_eq!(net(&app, &sup, "bank", td).await, bank + 200_000);
        assert_eq!(net(&app, &sup, "vault", td).await, vault);
        // A retry is the same receipt; the same id with another reference
        // or as cash is not.
        let (s, again) = app.post(&at(wrong_loan), &sup, &first).await;
        assert_eq!((s, &again["id"]), (StatusCode::OK, &took["id"]));
        for other in [
            pay(client, "transfer", Some("FT26339000002")),
            pay(client, "cash", None),
        ] {
            refused(
                &app,
                &at(wrong_loan),
                &sup,
                &other,
                StatusCode::CONFLICT,
                "counter_conflict",
            )
            .await;
        }
        // One transfer is one repayment, on whichever loan it is typed.
        let body = refused(
            &app,
            &at(right_loan),
            &sup,
            &pay(Uuid::now_v7(), "transfer", Some("FT26339000001")),
            StatusCode::CONFLICT,
            "transfer_ref_used",
        )
        .await;
        let receipt = took["receipt_no"].as_str().unwrap();
        assert!(body["detail"].as_str().unwrap().contains(receipt), "{body}");
        // However its reference is typed: a hyphen, dots, spaces.
        for typed in ["FT26339-000001", "ft.26339.000001", "FT 2633 9000 001"] {
            refused(
                &app,
                &at(right_loan),
                &sup,
                &pay(Uuid::now_v7(), "transfer", Some(typed)),
                StatusCode::CONFLICT,
                "transfer_ref_used",
            )
            .await;
        }
        // A reference with no letter or digit is none.
        refused(
            &app,
            &at(right_loan),
            &sup,
            &pay(Uuid::now_v7(), "transfer", Some("--")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        )
        .await;
        assert_eq!(
            app.db.audit_count("counter.repayment").await.unwrap(),
            1,
            "taken once"
        );

        // The day's collections count it apart from the counter's cash; the
        // bank book lists it; the worker's statement says how it was paid.
        let (s, daily) = app.get("/api/v1/reports/daily-collections", &sup).await;
        assert_eq!(s, StatusCode::OK, "{daily}");
        let totals = &daily["sheets"][0]["totals"];
        assert_eq!(
            (
                money(&totals["counter"]),
                money(&totals["counter_transfer"]),
                money(&totals["collected"])
            ),
            (0, 200_000, 200_000),
            "{daily}"
        );
        let (s, book) = app.get("/api/v1/reports/bank-book", &sup).await;
        assert_eq!(s, StatusCode::OK, "{book}");
        let moves = book["sheets"][1]["rows"].as_array().unwrap();
        assert_eq!(moves.len(), 1, "{book}");
        assert!(
            moves[0]["memo"]
                .as_str()
                .unwrap()
                .contains("mã giao dịch FT26339000001"),
            "{book}"
        );
        let worker = app.id_of("workers", "W-002").await;
        let (s, st) = app
            .get(
                &format!("/api/v1/reports/worker-statement?worker_id={worker}"),
                &sup,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{st}");
        let payments = st["sheets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"] == "payments")
            .unwrap()["rows"]
            .clone();
        assert_eq!(payments[0]["kind"], "Thu chuyển khoản", "{st}");

        // Typed on the wrong loan: once reversed (the money leaves the bank
        // account's book again), the same transfer goes on the right loan.
        reverse(&app, &sup, &admin, &took["entry_id"]).await;
        assert_eq!(net(&app, &sup, "bank", td).await, bank);
        // The books name the receipt reversed.
        let (_, entries) = app
            .get(
                &format!("/api/v1/ledger/entries?loan_id={wrong_loan}"),
                &admin,
            )
            .await;
        let memo = entries
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == "reversal")
            .unwrap_or_else(|| panic!("{entries}"))["memo"]
            .clone();
        assert!(
            memo.as_str().unwrap().starts_with(&format!(
                "Đảo bút toán số {} (phiếu {}) tại chi nhánh: ",
                took["entry_id"],
                took["receipt_no"].as_str().unwrap()
            )),
            "{memo}"
        );
        let (s, right) = app
            .post(
                &at(right_loan),
                &sup,
                &pay(Uuid::now_v7(), "transfer", Some("FT26339000001")),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{right}");
        assert_eq!(net(&app, &sup, "bank", td).await, bank + 200_000);

        // A reference a repayment stands on pays no loan out.
        let (s, _) = app
            .post(
                "/api/v1/capital-receipts",
                &admin,
                &json!({"client_id": Uuid::now_v7(), "branch_id": td, "amount": "20000000",
                        "received_on": "05/12/2026", "source": "Quỹ CEP", "method": "transfer"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let product = app.id_of("loan_products", "SP-TT").await;
        let (s, asked) = app
            .post(
                "/api/v1/disbursements",
                &sup,
                &json!({"client_id": Uuid::now_v7(), "worker_id": worker, "product_id": product,
                        "principal": "6000000", "method": "transfer",
                        "bank_account": "Vietcombank 0071000123456"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{asked}");
        refused(
            &app,
            &format!("/api/v1/disbursements/{}/approve", asked["id"]),
            &admin,
            &json!({"transfer_ref": "FT26339000001"}),
            StatusCode::CONFLICT,
            "transfer_ref_used",
        )
        .await;
        books_agree(&app).await;
    }
}

#[tokio::test]
async fn a_bank_statement_is_reconciled_with_the_bank_book() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let Cast {
            sup,
            other_branch,
            admin,
            lan,
        } = Cast::of(&app).await;
        let td = app.id_of("branches", "CN-TD").await;
        let (l1, l2) = (
            app.id_of("loans", "L-001").await,
            app.id_of("loans", "L-002").await,
        );
        let repay = |loan: i64, amount: &str, reference: &str| {
            let (app, sup) = (&app, &sup);
            let body = json!({"client_id": Uuid::now_v7(), "amount": amount, "method": "transfer",
                              "transfer_ref": reference});
            async move {
                let (s, took) = app
                    .post(&format!("/api/v1/loans/{loan}/repayments"), sup, &body)
                    .await;
                assert_eq!(s, StatusCode::OK, "{took}");
                took
            }
        };
        // The branch's bank account over one day: lending capital by
        // transfer (no reference kept), two workers' transfers, one of them
        // first typed on the wrong loan and reversed.
        let today = sotay_core::domain::time::local_date(chrono::Utc::now())
            .format("%d/%m/%Y")
            .to_string();
        let (s, _) = app
            .post(
                "/api/v1/capital-receipts",
                &admin,
                &json!({"client_id": Uuid::now_v7(), "branch_id": td, "amount": "30000000",
                        "received_on": today, "source": "Quỹ CEP, UNC 120", "method": "transfer"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        repay(l2, "200000", "FT26339000001").await;
        let wrong = repay(l1, "300000", "FT26339000002").await;
        reverse(&app, &sup, &admin, &wrong["entry_id"]).await;
        let right = repay(l2, "300000", "FT26339000002").await;

        // The bank's export: a preamble, bilingual headers, its own order.
        let csv = format!(
            "NGÂN HÀNG TMCP NGOẠI THƯƠNG VIỆT NAM;;;;;\n\
             Sao kê tài khoản 0071000999888 - Quỹ CEP chi nhánh Thủ Đức;;;;;\n\
             Ngày GD/TNX Date;Số tham chiếu/Ref;Nội dung/Description;Ghi nợ/Debit;Ghi có/Credit;Số dư/Balance\n\
             {today};UNC120;QUY CEP CHUYEN VON CHO VAY;;30.000.000;30.000.000\n\
             {today};FT26339000001;NGUYEN THI THU HA TRA NO;;200.000;30.200.000\n\
             {today};FT26339000002;CK tra no;;300.000;30.500.000\n\
             {today};FT26339000003;TRAN VAN BINH TRA NO L-001;;150.000;30.650.000\n\
             {today};;Phi quan ly tai khoan;11.000;;30.639.000\n\
             Tổng cộng;;;11.000;30.650.000;\n"
        );
        let path = |q: &str| format!("/api/v1/bank-statements?file_name=sao-ke-12.csv{q}");
        // Not the officers'; not another branch's account; an admin names
        // the branch.
        let (s, _) = app.post_csv(&path(""), &lan.token, &csv).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, body) = app
            .post_csv(&path(&format!("&branch_id={td}")), &other_branch, &csv)
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_branch")),
            "{body}"
        );
        let (s, body) = app.post_csv(&path(""), &admin, &csv).await;
        assert_eq!(
            (s, body["errors"][0]["column"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("branch_id")),
            "{body}"
        );
        // A file that is no statement says where, and keeps nothing.
        let (s, body) = app
            .post_csv(
                &path(""),
                &sup,
                "Ngày,Nội dung,Ghi có\n01/12/2026,x,\"1.500.000,50\"\n",
            )
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("statement_unreadable")
            ),
            "{body}"
        );
        assert_eq!(
            (
                body["errors"][0]["line"].as_u64(),
                body["errors"][0]["column"].as_str()
            ),
            (Some(2), Some("ghi có")),
            "{body}"
        );

        let (s, kept) = app.post_csv(&path(""), &sup, &csv).await;
        assert_eq!(s, StatusCode::OK, "{kept}");
        assert_eq!(kept["duplicate"], false);
        let rec = &kept["reconciliation"];
        let statuses = line_statuses(rec);
        assert_eq!(
            statuses,
            [
                "amount_and_day",
                "reference",
                "reference",
                "not_in_book",
                "not_in_book"
            ],
            "{rec}"
        );
        assert_eq!(rec["lines"][2]["entry_id"], right["entry_id"], "{rec}");
        assert_eq!(rec["lines"][0]["line_no"], 4, "{rec}");
        // The wrong loan's repayment and its reversal moved nothing.
        let cancelled: Vec<&Value> = rec["cancelled"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["entry_id"])
            .collect();
        assert_eq!(cancelled.len(), 2, "{rec}");
        assert!(cancelled.contains(&&wrong["entry_id"]), "{rec}");
        assert_eq!(
            rec["not_on_statement"].as_array().unwrap().len(),
            0,
            "{rec}"
        );
        assert_eq!(
            (
                money(&rec["statement_opening"]),
                money(&rec["statement_closing"]),
                money(&rec["book_opening"]),
                money(&rec["book_closing"]),
                rec["balances_agree"].as_bool()
            ),
            (0, 30_639_000, 0, 30_500_000, Some(false)),
            "{rec}"
        );
        // The same file again is the same statement.
        let (s, again) = app.post_csv(&path(""), &sup, &csv).await;
        assert_eq!(
            (s, &again["id"], &again["duplicate"]),
            (StatusCode::OK, &kept["id"], &json!(true))
        );
        assert_eq!(app.db.audit_count("bank.statement").await.unwrap(), 1);

        // The transfer nobody recorded is taken; read again, it matches.
        repay(l1, "150000", "FT26339000003").await;
        let one = format!("/api/v1/bank-statements/{}", kept["id"]);
        let (s, rec) = app.get(&one, &sup).await;
        assert_eq!(s, StatusCode::OK, "{rec}");
        assert_eq!(rec["lines"][3]["status"], "reference", "{rec}");
        assert_eq!(
            (rec["not_in_book"].as_u64(), money(&rec["book_closing"])),
            (Some(1), 30_650_000),
            "only the bank's fee is left: {rec}"
        );
        let (s, list) = app.get("/api/v1/bank-statements", &sup).await;
        assert_eq!(s, StatusCode::OK, "{list}");
        assert_eq!(
            (list[0]["lines"].as_i64(), money(&list[0]["money_in"])),
            (Some(5), 30_650_000),
            "{list}"
        );
        let (s, _) = app.get(&one, &other_branch).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "another branch's statement");
        let (_, list) = app.get("/api/v1/bank-statements", &other_branch).await;
        assert_eq!(list.as_array().unwrap().len(), 0, "{list}");
        let (s, _) = app.get(&one, &lan.token).await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // Yesterday's statement, its transfer recorded only today: matched,
        // and the closing balance agrees once what was recorded after is
        // counted. Today's other entries are another statement's.
        let yesterday = (sotay_core::domain::time::local_date(chrono::Utc::now())
            - chrono::Duration::days(1))
        .format("%d/%m/%Y");
        let (s, kept) = app
            .post_csv(
                "/api/v1/bank-statements",
                &sup,
                &format!(
                    "Ngày,Số tham chiếu,Ghi có,Số dư\n{yesterday},ft 2633 9000001,200.000,200.000\n"
                ),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{kept}");
        let rec = &kept["reconciliation"];
        assert_eq!(
            (
                rec["lines"][0]["status"].as_str(),
                money(&rec["book_closing"]),
                money(&rec["recorded_after"]),
                rec["balances_agree"].as_bool(),
                rec["not_on_statement"].as_array().map(Vec::len)
            ),
            (Some("reference"), 0, 200_000, Some(true), Some(0)),
            "{rec}"
        );
        // A reference typed in small letters or with spaces is the same
        // transfer.
        refused(
            &app,
            &format!("/api/v1/loans/{l1}/repayments"),
            &sup,
            &json!({"client_id": Uuid::now_v7(), "amount": "200000", "method": "transfer",
                    "transfer_ref": "ft 26339000001"}),
            StatusCode::CONFLICT,
            "transfer_ref_used",
        )
        .await;
        books_agree(&app).await;
    }
}

/// Lending capital the bank credited days before the admin recorded it is
/// matched on the statement by the day it was received: the line is not
/// offered for posting again, and the balances agree.
#[tokio::test]
async fn capital_recorded_after_the_bank_booked_it_matches_its_statement_line() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let Cast { sup, admin, .. } = Cast::of(&app).await;
        let td = app.id_of("branches", "CN-TD").await;
        let today = sotay_core::domain::time::local_date(chrono::Utc::now());
        let (received, fee_day) = (
            today - chrono::Duration::days(5),
            today - chrono::Duration::days(1),
        );
        let dmy = |d: chrono::NaiveDate| d.format("%d/%m/%Y").to_string();
        let (s, body) = app
            .post(
                "/api/v1/capital-receipts",
                &admin,
                &json!({"client_id": Uuid::now_v7(), "branch_id": td, "amount": "100000000",
                        "received_on": dmy(received), "source": "LĐLĐ tỉnh, UNC 119", "method": "transfer"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let csv = format!(
            "Ngày;Số tham chiếu;Nội dung;Ghi nợ;Ghi có;Số dư\n\
             {};UNC119;LDLD TINH CHUYEN VON;;100.000.000;100.000.000\n\
             {};;Phi quan ly tai khoan;11.000;;99.989.000\n",
            dmy(received),
            dmy(fee_day)
        );
        let (s, kept) = app
            .post_csv("/api/v1/bank-statements?file_name=sao-ke.csv", &sup, &csv)
            .await;
        assert_eq!(s, StatusCode::OK, "{kept}");
        let rec = &kept["reconciliation"];
        assert_eq!(
            line_statuses(rec),
            ["amount_and_day", "not_in_book"],
            "{backend:?}: {rec}"
        );
        assert_eq!(
            (money(&rec["book_opening"]), money(&rec["book_closing"])),
            (0, 100_000_000),
            "{rec}"
        );
    }
}

#[tokio::test]
async fn the_banks_charges_and_interest_are_posted_from_its_statement() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let Cast {
            sup,
            other_branch,
            admin,
            lan,
        } = Cast::of(&app).await;
        let td = app.id_of("branches", "CN-TD").await;
        let received = sotay_core::domain::time::local_date(chrono::Utc::now())
            .format("%d/%m/%Y")
            .to_string();
        let capital = |amount: &str, method: &str| {
            let (app, admin) = (&app, &admin);
            let body = json!({"client_id": Uuid::now_v7(), "branch_id": td, "amount": amount,
                              "received_on": received, "source": "Quỹ CEP", "method": method});
            async move {
                let (s, body) = app.post("/api/v1/capital-receipts", admin, &body).await;
                assert_eq!(s, StatusCode::OK, "{body}");
            }
        };
        capital("30000000", "transfer").await;
        let today = sotay_core::domain::time::local_date(chrono::Utc::now());
        let day = today.format("%d/%m/%Y").to_string();
        // The capital, two fees of the same amount on the same day with no
        // reference, the interest, and cash paid in that nobody recorded.
        let csv = format!(
            "Ngày,Số tham chiếu,Nội dung,Ghi nợ,Ghi có,Số dư\n\
             {day},UNC120,QUY CEP CHUYEN VON,,30.000.000,30.000.000\n\
             {day},,Phi quan ly tai khoan,11.000,,29.989.000\n\
             {day},,Phi SMS Banking,11.000,,29.978.000\n\
             {day},LAI0012,Tra lai tien gui,,2.345,29.980.345\n\
             {day},NT778899,Nop tien mat,,2.000.000,31.980.345\n"
        );
        let (s, kept) = app.post_csv("/api/v1/bank-statements", &sup, &csv).await;
        assert_eq!(s, StatusCode::OK, "{kept}");
        assert_eq!(kept["reconciliation"]["not_in_book"], 4, "{kept}");
        let id = kept["id"].as_i64().unwrap();
        let line = |n: i64| format!("/api/v1/bank-statements/{id}/lines/{n}");
        let ask = |direction: &str| json!({"client_id": Uuid::now_v7(), "direction": direction});

        // Who may, and what each line may be.
        let (s, _) = app.post(&line(3), &lan.token, &ask("charge")).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "not the officers'");
        let cashier = cashier(&app, &admin).await;
        let (s, _) = app.post(&line(3), &cashier, &ask("charge")).await;
        assert_eq!(
            s,
            StatusCode::FORBIDDEN,
            "not the cashier's: the supervisors reconcile"
        );
        let (s, _) = app.post(&line(3), &other_branch, &ask("charge")).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "not another branch's");
        refused(
            &app,
            &line(99),
            &sup,
            &ask("charge"),
            StatusCode::NOT_FOUND,
            "statement_line_not_found",
        )
        .await;
        let p = refused(
            &app,
            &line(3),
            &sup,
            &ask("interest"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "statement_line_way",
        )
        .await;
        assert!(p["detail"].as_str().unwrap().contains("tiền ra"), "{p}");
        refused(
            &app,
            &line(2),
            &sup,
            &ask("deposit"),
            StatusCode::CONFLICT,
            "statement_line_in_book",
        )
        .await;
        refused(
            &app,
            "/api/v1/bank-moves",
            &sup,
            &json!({"client_id": Uuid::now_v7(), "branch_id": td, "direction": "charge", "amount": "11000",
                    "reference": "X"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "bank_charge_from_statement",
        )
        .await;

        // The first fee: the line's amount, day and (no) reference; a retry
        // is the same move, the same id for another line a conflict, the
        // line again a refusal.
        let first = ask("charge");
        let (s, fee) = app.post(&line(3), &sup, &first).await;
        assert_eq!(s, StatusCode::OK, "{fee}");
        assert_eq!(
            (
                fee["direction"].as_str(),
                money(&fee["amount"]),
                fee["reference"].as_str(),
                fee["booked_on"].as_str(),
                fee["statement_id"].as_i64(),
                fee["line_no"].as_i64()
            ),
            (
                Some("charge"),
                11_000,
                Some(""),
                Some(today.to_string().as_str()),
                Some(id),
                Some(3)
            ),
            "{fee}"
        );
        let (s, again) = app.post(&line(3), &sup, &first).await;
        assert_eq!((s, &again["id"]), (StatusCode::OK, &fee["id"]), "{again}");
        refused(
            &app,
            &line(4),
            &sup,
            &first,
            StatusCode::CONFLICT,
            "bank_move_conflict",
        )
        .await;
        refused(
            &app,
            &line(3),
            &sup,
            &ask("charge"),
            StatusCode::CONFLICT,
            "statement_line_in_book",
        )
        .await;

        // The second fee posted as a withdrawal by mistake, reversed, then
        // posted as what it is.
        let (s, wrong) = app.post(&line(4), &sup, &ask("withdrawal")).await;
        assert_eq!(s, StatusCode::OK, "{wrong}");
        assert_eq!(net(&app, &sup, "vault", td).await, 11_000);
        reverse(&app, &sup, &admin, &wrong["entry_id"]).await;
        let (s, fee2) = app.post(&line(4), &sup, &ask("charge")).await;
        assert_eq!(s, StatusCode::OK, "{fee2}");
        let (s, interest) = app.post(&line(5), &sup, &ask("interest")).await;
        assert_eq!(s, StatusCode::OK, "{interest}");
        assert_eq!(interest["reference"], "LAI0012", "{interest}");
        // Cash paid in leaves the vault, which must hold it.
        refused(
            &app,
            &line(6),
            &sup,
            &ask("deposit"),
            StatusCode::CONFLICT,
            "vault_short",
        )
        .await;
        capital("5000000", "cash").await;
        // The slip was typed by hand with another amount: the line is not
        // that deposit, and is not posted over it until it is reversed.
        let (s, typed) = app
            .post(
                "/api/v1/bank-moves",
                &sup,
                &json!({"client_id": Uuid::now_v7(), "branch_id": td, "direction": "deposit",
                        "amount": "200000", "reference": "NT778899"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{typed}");
        refused(
            &app,
            &line(6),
            &sup,
            &ask("deposit"),
            StatusCode::CONFLICT,
            "bank_slip_used",
        )
        .await;
        reverse(&app, &sup, &admin, &typed["entry_id"]).await;
        let (s, paid_in) = app.post(&line(6), &admin, &ask("deposit")).await;
        assert_eq!(s, StatusCode::OK, "{paid_in}");

        // Everything agrees now, each line with the entry posted from it.
        let (s, rec) = app
            .get(&format!("/api/v1/bank-statements/{id}"), &sup)
            .await;
        assert_eq!(s, StatusCode::OK, "{rec}");
        let statuses = line_statuses(&rec);
        assert_eq!(
            statuses,
            ["amount_and_day", "posted", "posted", "posted", "posted"],
            "{rec}"
        );
        assert_eq!(rec["lines"][2]["entry_id"], fee2["entry_id"], "{rec}");
        assert_eq!(
            (
                rec["not_in_book"].as_u64(),
                rec["not_on_statement"].as_array().map(Vec::len),
                rec["cancelled"].as_array().map(Vec::len),
                money(&rec["book_closing"]),
                rec["balances_agree"].as_bool()
            ),
            (Some(0), Some(0), Some(4), 31_980_345, Some(true)),
            "the withdrawal posted by mistake, the slip typed with another amount and their reversals cancel out: {rec}"
        );
        assert_eq!(
            (
                net(&app, &sup, "bank", td).await,
                net(&app, &sup, "bank_charges", td).await,
                net(&app, &sup, "bank_interest", td).await,
                net(&app, &sup, "vault", td).await
            ),
            (31_980_345, 22_000, -2_345, 3_000_000)
        );
        let (s, moves) = app.get("/api/v1/bank-moves", &sup).await;
        assert_eq!(s, StatusCode::OK, "{moves}");
        let kinds: Vec<&str> = moves
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["direction"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "deposit",
                "deposit",
                "interest",
                "charge",
                "withdrawal",
                "charge"
            ],
            "{moves}"
        );
        for (action, n) in [
            ("bank.charge", 2),
            ("bank.interest", 1),
            ("bank.withdraw", 1),
            ("bank.deposit", 2),
        ] {
            assert_eq!(app.db.audit_count(action).await.unwrap(), n, "{action}");
        }

        // Yesterday's fee, posted today, is yesterday's: on that day's
        // balance and line; today's statement neither has it nor misses it,
        // and counts it in its opening balance.
        let yesterday = (today - chrono::Duration::days(1)).format("%d/%m/%Y");
        let tomorrow = (today + chrono::Duration::days(1)).format("%d/%m/%Y");
        let (s, kept) = app
            .post_csv(
                "/api/v1/bank-statements",
                &sup,
                &format!("Ngày,Nội dung,Ghi nợ,Số dư\n{yesterday},Phi chuyen tien,5.500,-5.500\n"),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{kept}");
        let late = kept["id"].as_i64().unwrap();
        let (s, fee3) = app
            .post(
                &format!("/api/v1/bank-statements/{late}/lines/2"),
                &sup,
                &ask("charge"),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{fee3}");
        let (_, rec) = app
            .get(&format!("/api/v1/bank-statements/{late}"), &sup)
            .await;
        assert_eq!(
            (
                rec["lines"][0]["status"].as_str(),
                money(&rec["book_opening"]),
                money(&rec["book_closing"]),
                money(&rec["recorded_after"]),
                rec["balances_agree"].as_bool(),
                rec["not_on_statement"].as_array().map(Vec::len)
            ),
            (Some("posted"), 0, -5_500, 0, Some(true), Some(0)),
            "{rec}"
        );
        let (_, rec) = app
            .get(&format!("/api/v1/bank-statements/{id}"), &sup)
            .await;
        assert_eq!(
            (
                rec["not_in_book"].as_u64(),
                rec["not_on_statement"].as_array().map(Vec::len),
                money(&rec["book_opening"]),
                money(&rec["book_closing"])
            ),
            (Some(0), Some(0), -5_500, 31_974_845),
            "{rec}"
        );
        // A line's reference is not a slip's: a fee and its VAT under one
        // transaction number are two lines, each posted.
        let (s, kept) = app
            .post_csv(
                "/api/v1/bank-statements",
                &sup,
                &format!(
                    "Ngày,Số tham chiếu,Nội dung,Ghi nợ\n\
                     {day},FT26340111,Phi chuyen tien,10.000\n\
                     {day},FT26340111,VAT phi chuyen tien,1.000\n\
                     {tomorrow},FT26341222,Phi chuyen tien,10.000\n"
                ),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{kept}");
        let vat = kept["id"].as_i64().unwrap();
        for n in [2, 3] {
            let (s, body) = app
                .post(
                    &format!("/api/v1/bank-statements/{vat}/lines/{n}"),
                    &sup,
                    &ask("charge"),
                )
                .await;
            assert_eq!(s, StatusCode::OK, "line {n}: {body}");
        }
        // A line dated after today is the file's mistake.
        refused(
            &app,
            &format!("/api/v1/bank-statements/{vat}/lines/4"),
            &sup,
            &ask("charge"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "statement_line_future",
        )
        .await;
        assert_eq!(
            net(&app, &sup, "bank_charges", td).await,
            22_000 + 5_500 + 11_000
        );
        books_agree(&app).await;
    }
}

/// A loan imported with a typo in its terms: a year a century off is
/// refused at import; one that reads is cancelled by reversing its opening
/// entry (an administrator asking or approving), while nothing was
/// collected on it since the import, what it brought in as paid before
/// Sổ Tay aside; the right loan comes in under a new code.
#[tokio::test]
async fn a_loan_imported_wrong_is_cancelled_while_nothing_was_collected_since() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let bt_sup = app
            .token("giamsat.bt", "super-pass-2", &common::device(2))
            .await;
        let admin = app.token("admin", "admin-pass-1", &common::device(3)).await;
        let header = "code,worker_code,product_code,principal,disbursed_on,paid_to_date\n";
        let (s, body) = app
            .post_csv(
                "/api/v1/imports/loans",
                &admin,
                &format!("{header}L-009,W-004,SP-TUAN,5000000,01/10/1926,0\n"),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["column"], "disbursed_on", "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("quá xa (trước 01/01/2000); kiểm tra năm"),
            "{body}"
        );

        // L-004 came in owing 6.000.000 of 8.000.000 (2.000.000 paid before
        // Sổ Tay); its year was typed wrong. Nothing was collected since.
        let l4 = app.id_of("loans", "L-004").await;
        let (s, entries) = app
            .get(&format!("/api/v1/ledger/entries?loan_id={l4}"), &admin)
            .await;
        assert_eq!(s, StatusCode::OK, "{entries}");
        let opening = entries
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == "loan_opening")
            .unwrap_or_else(|| panic!("{entries}"))["id"]
            .clone();
        let (s, body) = app
            .reversal(&bt_sup, &admin, &opening, "Nhập sai năm giải ngân")
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (_, loan) = app.get(&format!("/api/v1/loans/{l4}"), &bt_sup).await;
        assert_eq!(loan["loan"]["status"], "cancelled", "{loan}");
        assert_eq!(money(&loan["loan"]["outstanding_principal"]), 0, "{loan}");
        books_agree(&app).await;
        assert_eq!(app.db.audit_count("loan.cancel").await.unwrap(), 1);
        // Its code stays the cancelled loan's: the right one takes another.
        let (s, body) = app
            .post_csv(
                "/api/v1/imports/loans",
                &admin,
                &format!("{header}L-004,W-004,SP-TUAN,8000000,01/07/2025,2000000\n"),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("đã bị hủy; nhập khoản vay đúng với một mã mới"),
            "{body}"
        );
        let (s, body) = app
            .post_csv(
                "/api/v1/imports/loans",
                &admin,
                &format!("{header}L-004B,W-004,SP-TUAN,8000000,01/07/2025,2000000\n"),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        books_agree(&app).await;

        // Collected on since its import: repaid, not cancelled.
        let l4b = app.id_of("loans", "L-004B").await;
        let (s, body) = app
            .post(
                &format!("/api/v1/loans/{l4b}/repayments"),
                &bt_sup,
                &json!({"client_id": Uuid::now_v7(), "amount": "100000"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (_, entries) = app
            .get(&format!("/api/v1/ledger/entries?loan_id={l4b}"), &admin)
            .await;
        let opening = entries
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == "loan_opening")
            .unwrap()["id"]
            .clone();
        refused(
            &app,
            "/api/v1/reversals",
            &bt_sup,
            &json!({"entry_id": opening, "reason": "Nhầm"}),
            StatusCode::CONFLICT,
            "loan_has_collections",
        )
        .await;
        books_agree(&app).await;
    }
}

/// A disbursement is paid out on the terms it was asked for: a loan
/// product whose terms changed since (an import) refuses the approval,
/// saying both, and a request asked again on the new terms goes through.
#[tokio::test]
async fn a_disbursement_is_not_paid_out_on_terms_changed_since_the_request() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let sup = app
            .token("giamsat.td", "super-pass-1", &common::device(1))
            .await;
        let admin = app.token("admin", "admin-pass-1", &common::device(3)).await;
        let td = app.id_of("branches", "CN-TD").await;
        let thu = app.id_of("workers", "W-002").await;
        let product = app.id_of("loan_products", "SP-TUAN").await;
        let (s, body) = app
            .post(
                "/api/v1/capital-receipts",
                &admin,
                &json!({"client_id": Uuid::now_v7(), "branch_id": td, "amount": "20000000",
                        "received_on": "05/12/2026", "source": "Quỹ TW chuyển"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let ask = || {
            json!({"client_id": Uuid::now_v7(), "worker_id": thu, "product_id": product,
                   "principal": "3000000", "note": ""})
        };
        let (s, asked) = app.post("/api/v1/disbursements", &sup, &ask()).await;
        assert_eq!(s, StatusCode::OK, "{asked}");
        let products = "code,name,annual_rate_percent,method,frequency,installments,min_principal,max_principal\n\
             SP-TUAN,Vay tuần dư nợ giảm dần,10,declining,weekly,26,1000000,30000000\n";
        app.import_ok(&admin, "loan_products", products).await;
        let approve = format!("/api/v1/disbursements/{}/approve", asked["id"]);
        let (s, body) = app.post(&approve, &admin, &json!({})).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("product_terms_changed")),
            "{backend:?}: {body}"
        );
        let said = body["detail"].as_str().unwrap_or_default();
        assert!(
            said.contains("lúc đề nghị: lãi 12,00%/năm") && said.contains("nay: lãi 10,00%/năm"),
            "{said}"
        );
        assert_eq!(
            net(&app, &sup, "vault", td).await,
            20_000_000,
            "nothing paid"
        );
        let (s, body) = app
            .post(
                &format!("/api/v1/disbursements/{}/reject", asked["id"]),
                &admin,
                &json!({"reason": "Sản phẩm đổi lãi suất"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, again) = app.post("/api/v1/disbursements", &sup, &ask()).await;
        assert_eq!(s, StatusCode::OK, "{again}");
        let (s, paid) = app
            .post(
                &format!("/api/v1/disbursements/{}/approve", again["id"]),
                &admin,
                &json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{backend:?}: {paid}");
        books_agree(&app).await;
    }
}

/// Does the database refuse `sql` (an append-only table changed)?
async fn refuses(app: &TestApp, sql: &str) -> bool {
    match &app.db {
        sotay_server::db::Db::Sqlite(p) => sqlx::query(sql).execute(p).await.is_err(),
        sotay_server::db::Db::Postgres(p) => sqlx::query(sql).execute(p).await.is_err(),
    }
}

#[tokio::test]
async fn the_vault_is_counted_against_its_books() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let Cast {
            sup,
            other_branch,
            admin,
            lan,
        } = Cast::of(&app).await;
        let cashier = cashier(&app, &admin).await;
        let td = app.id_of("branches", "CN-TD").await;
        let (s, body) = app
            .post(
                "/api/v1/capital-receipts",
                &admin,
                &json!({"client_id": Uuid::now_v7(), "branch_id": td, "amount": "30000000",
                        "received_on": "05/12/2026", "source": "Quỹ TW chuyển"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let book = net(&app, &sup, "vault", td).await;
        assert!(book >= 30_000_000, "{book}");
        let count = |client: Uuid, counted: i64, note: &str| json!({"client_id": client, "counted": counted.to_string(), "note": note});

        // Not the officers'; not another branch's; an admin names the branch.
        let (s, _) = app
            .post(
                "/api/v1/vault-counts",
                &lan.token,
                &count(Uuid::now_v7(), book, ""),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = app.get("/api/v1/vault-counts", &lan.token).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let mut elsewhere = count(Uuid::now_v7(), book, "");
        elsewhere["branch_id"] = json!(td);
        refused(
            &app,
            "/api/v1/vault-counts",
            &other_branch,
            &elsewhere,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        let (s, _) = app
            .get(
                &format!("/api/v1/vault-counts?branch_id={td}"),
                &other_branch,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "another branch's counts");
        let body = refused(
            &app,
            "/api/v1/vault-counts",
            &admin,
            &count(Uuid::now_v7(), book, ""),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        )
        .await;
        assert_eq!(body["errors"][0]["column"], "branch_id", "{body}");
        refused(
            &app,
            "/api/v1/vault-counts",
            &cashier,
            &count(Uuid::now_v7(), -1, ""),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        )
        .await;

        // The cashier finds 20.000 ₫ less than the books: recorded with the
        // balance on the books, nothing posted.
        let entries = app
            .text("SELECT CAST(COUNT(*) AS TEXT) FROM journal_entries")
            .await;
        let client = Uuid::now_v7();
        let (s, short) = app
            .post(
                "/api/v1/vault-counts",
                &cashier,
                &count(client, book - 20_000, "Đếm cuối ngày"),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{short}");
        assert_eq!(
            (
                money(&short["book_balance"]),
                money(&short["counted"]),
                money(&short["difference"]),
                short["branch_id"].as_i64(),
            ),
            (book, book - 20_000, -20_000, Some(td)),
            "{short}"
        );
        assert!(
            short["what_next"]
                .as_str()
                .unwrap()
                .contains("Quỹ thiếu 20.000 ₫"),
            "{short}"
        );
        assert!(
            short["what_next"]
                .as_str()
                .unwrap()
                .contains("không ghi sổ kế toán"),
            "{short}"
        );
        assert_eq!(net(&app, &sup, "vault", td).await, book, "nothing posted");
        assert_eq!(
            app.text("SELECT CAST(COUNT(*) AS TEXT) FROM journal_entries")
                .await,
            entries
        );
        assert_eq!(app.db.audit_count("vault.count").await.unwrap(), 1);
        // Sent again: the same count; the same id for another count: 409.
        let (s, again) = app
            .post(
                "/api/v1/vault-counts",
                &cashier,
                &count(client, book - 20_000, "Đếm cuối ngày"),
            )
            .await;
        assert_eq!((s, &again["id"]), (StatusCode::OK, &short["id"]));
        for other in [
            count(client, book, "Đếm cuối ngày"),
            count(client, book - 20_000, "Đếm lại"),
        ] {
            refused(
                &app,
                "/api/v1/vault-counts",
                &cashier,
                &other,
                StatusCode::CONFLICT,
                "vault_count_conflict",
            )
            .await;
        }
        assert_eq!(app.db.audit_count("vault.count").await.unwrap(), 1);

        // A repayment at the counter: the next count sees it on the books,
        // as the vault cash book's closing does.
        let loan = app.id_of("loans", "L-001").await;
        let (s, body) = app
            .post(
                &format!("/api/v1/loans/{loan}/repayments"),
                &cashier,
                &json!({"client_id": Uuid::now_v7(), "amount": "200000"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, agrees) = app
            .post(
                "/api/v1/vault-counts",
                &sup,
                &count(Uuid::now_v7(), book + 200_000, ""),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{agrees}");
        assert_eq!(
            (money(&agrees["book_balance"]), money(&agrees["difference"])),
            (book + 200_000, 0),
            "{agrees}"
        );
        assert!(agrees["what_next"].as_str().unwrap().contains("khớp"));
        let (s, cash_book) = app.get("/api/v1/reports/vault-cash-book", &sup).await;
        assert_eq!(s, StatusCode::OK, "{cash_book}");
        assert_eq!(
            money(&cash_book["sheets"][0]["rows"][0]["closing"]),
            book + 200_000,
            "the count's book balance is the cash book's closing: {cash_book}"
        );

        // Cash paid into the bank: the admin's count, by denomination,
        // finds 50.000 ₫ more than the books.
        let (s, body) = app
            .post(
                "/api/v1/bank-moves",
                &cashier,
                &json!({"client_id": Uuid::now_v7(), "branch_id": td, "direction": "deposit",
                        "amount": "30000000", "reference": "GNT-0077"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let left = book + 200_000 - 30_000_000;
        assert_eq!(net(&app, &sup, "vault", td).await, left);
        let by_notes = |client: Uuid, counted: i64, notes: Value| {
            json!({"client_id": client, "branch_id": td, "counted": counted.to_string(),
                   "denominations": notes})
        };
        let notes = |hundreds: i64| {
            json!([{"value": "50000", "count": 1}, {"value": "100000", "count": hundreds},
                   {"value": "200", "count": 0}])
        };
        // The vault's cash is a whole number of 100.000 ₫ notes here.
        assert_eq!(left % 100_000, 0, "{left}");
        let hundreds = left / 100_000;
        let body = refused(
            &app,
            "/api/v1/vault-counts",
            &admin,
            &by_notes(Uuid::now_v7(), left, notes(hundreds)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "denominations_total",
        )
        .await;
        assert!(
            body["detail"].as_str().unwrap().contains(&format!(
                "Cộng theo mệnh giá được {}",
                sotay_core::domain::money::format_vnd(left + 50_000)
            )),
            "{body}"
        );
        refused(
            &app,
            "/api/v1/vault-counts",
            &admin,
            &by_notes(
                Uuid::now_v7(),
                300_000,
                json!([{"value": "300000", "count": 1}]),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "denomination_unknown",
        )
        .await;
        let (s, over) = app
            .post(
                "/api/v1/vault-counts",
                &admin,
                &by_notes(Uuid::now_v7(), left + 50_000, notes(hundreds)),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{over}");
        assert_eq!(
            (money(&over["book_balance"]), money(&over["difference"])),
            (left, 50_000),
            "{over}"
        );
        assert_eq!(
            over["denominations"],
            json!([{"value": "100000", "count": hundreds}, {"value": "50000", "count": 1}]),
            "kept largest first, only those counted"
        );
        assert!(over["what_next"]
            .as_str()
            .unwrap()
            .contains("Quỹ thừa 50.000 ₫"));

        // Listed newest first, to the branch and the admins only.
        let ids = |list: &Value| -> Vec<i64> {
            list.as_array()
                .unwrap()
                .iter()
                .map(|v| v["id"].as_i64().unwrap())
                .collect()
        };
        let expected = vec![
            over["id"].as_i64().unwrap(),
            agrees["id"].as_i64().unwrap(),
            short["id"].as_i64().unwrap(),
        ];
        for token in [&sup, &cashier, &admin] {
            let (s, list) = app.get("/api/v1/vault-counts", token).await;
            assert_eq!(s, StatusCode::OK, "{list}");
            assert_eq!(ids(&list), expected, "{list}");
        }
        let (_, list) = app
            .get(&format!("/api/v1/vault-counts?branch_id={td}"), &admin)
            .await;
        assert_eq!(ids(&list), expected, "{list}");
        let bt = app.id_of("branches", "CN-BT").await;
        let (_, list) = app
            .get(&format!("/api/v1/vault-counts?branch_id={bt}"), &admin)
            .await;
        assert_eq!(ids(&list), Vec::<i64>::new(), "{list}");
        let (_, list) = app.get("/api/v1/vault-counts", &other_branch).await;
        assert_eq!(ids(&list), Vec::<i64>::new(), "{list}");

        // A count is a fact: never changed, never taken away.
        assert!(refuses(&app, "UPDATE vault_counts SET counted = 0").await);
        assert!(refuses(&app, "DELETE FROM vault_counts").await);
        books_agree(&app).await;
    }
}
