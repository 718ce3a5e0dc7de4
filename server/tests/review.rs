//! Supervisor review on SQLite and on PostgreSQL: the queue, approval with
//! the cash counted, the ledger, reversals, counter repayments, rejection,
//! maker ≠ checker and the audit log.

mod common;

use common::phone::Phone;
use common::{TestApp, BACKENDS};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sotay_core::domain::money::Dong;
use sotay_core::wire::{
    GiftHandoutPayload, Loan, PortfolioSnapshot, RecordBody, RecordState, RepaymentPayload,
    ReversalRequestPayload, UploadOutcome, UploadRecord, VisitPayload, VisitPurpose, VoidPayload,
};
use uuid::Uuid;

/// Thủ Đức's supervisor's token, Lan on her phone, her portfolio and her
/// loan L-001.
async fn lan_and_her_loan(app: &TestApp) -> (String, Phone, PortfolioSnapshot, Loan) {
    let sup = app
        .token("giamsat.td", "super-pass-1", &common::device(1))
        .await;
    let lan = Phone::sign_in(app, "canbo.lan", "officer-pass-1").await;
    let snap = lan.snapshot(app).await;
    let l1 = snap
        .loans
        .iter()
        .find(|l| l.contract_no == "L-001")
        .unwrap()
        .clone();
    (sup, lan, snap, l1)
}

/// A repayment of `amount` on `loan`, with the phone's receipt number `n`.
fn repayment(phone: &mut Phone, loan: &Loan, amount: i64, n: i64) -> UploadRecord {
    let receipt_no = phone.receipt(n);
    phone.record(RecordBody::Repayment(RepaymentPayload {
        loan_id: loan.id,
        worker_id: loan.worker_id,
        amount: Dong(amount),
        receipt_no,
    }))
}

/// The phone's request to reverse `target`, for `reason`.
fn reversal_request(phone: &mut Phone, target: &UploadRecord, reason: &str) -> UploadRecord {
    phone.record(RecordBody::ReversalRequest(ReversalRequestPayload {
        target_id: target.client_id,
        reason: reason.into(),
    }))
}

/// Approves `batch` with `cash` counted: the status and the answer.
async fn approve(app: &TestApp, token: &str, batch: Uuid, cash: i64) -> (StatusCode, Value) {
    app.post(
        &format!("/api/v1/batches/{batch}/approve"),
        token,
        &json!({"cash_received": cash.to_string()}),
    )
    .await
}

/// Rejects a whole batch, for `reason`.
async fn reject(app: &TestApp, token: &str, batch: Uuid, reason: &str) {
    let (s, body) = app
        .post(
            &format!("/api/v1/batches/{batch}/reject"),
            token,
            &json!({ "reason": reason }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
}

/// The note of the settlement of the refused record numbered `receipt`.
async fn settlement_note(app: &TestApp, receipt: &str) -> String {
    app.text(&format!(
        "SELECT x.note FROM refused_settlements x JOIN sync_records r ON r.id = x.record_id \
         WHERE r.receipt_no = '{receipt}'"
    ))
    .await
}

/// A batch's page.
async fn batch_page(app: &TestApp, token: &str, batch: Uuid) -> Value {
    let (s, detail) = app.get(&format!("/api/v1/batches/{batch}"), token).await;
    assert_eq!(s, StatusCode::OK, "{detail}");
    detail
}

/// Marks a refused record settled (`body`: note, stock_out): status, answer.
async fn settle(
    app: &TestApp,
    token: &str,
    record: &UploadRecord,
    body: Value,
) -> (StatusCode, Value) {
    app.post(
        &format!("/api/v1/records/{}/settle", record.client_id),
        token,
        &body,
    )
    .await
}

/// The anomaly codes of each record of a batch's page.
fn anomaly_codes(detail: &Value) -> Vec<Vec<String>> {
    detail["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["anomalies"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["code"].as_str().unwrap().to_string())
                .collect()
        })
        .collect()
}

/// Lan's last payment on L-001 typed 100.000 short and its reversal
/// asked, each sent in a sync of its own and waiting for review: the loan's
/// id and balance before, the receipt, and the two batches.
async fn short_and_its_request(
    app: &TestApp,
    sup: &str,
    lan: &mut Phone,
    l1: &Loan,
) -> (i64, i64, UploadRecord, Uuid, Uuid) {
    let l1_id = app.id_of("loans", "L-001").await;
    let (_, balance, _) = book(app, sup, l1_id).await;
    let short = repayment(lan, l1, balance - 100_000, 1);
    let (typed, _) = lan.upload(app, vec![short.clone()]).await;
    let undo = reversal_request(lan, &short, "Gõ thiếu 100.000");
    let (asked, _) = lan.upload(app, vec![undo]).await;
    (l1_id, balance, short, typed, asked)
}

/// Nothing left on the officers' cash accounts, and the ledger balanced.
async fn cash_accounts_even(app: &TestApp, token: &str) {
    let end = ledger(app, token).await;
    assert_eq!(net(&end, "cash_over_short"), 0, "no shortage nor overage");
    assert_eq!(net(&end, "cash_in_hand"), 0, "no cash left in hand");
    assert!(app.db.ledger_balance_drift().await.unwrap().is_empty());
}

fn money(v: &Value) -> i64 {
    v.as_str()
        .unwrap_or_else(|| panic!("money as a string: {v}"))
        .parse()
        .unwrap()
}

/// (principal_paid, interest_paid) per installment and the balance of a loan.
async fn book(app: &TestApp, token: &str, loan_id: i64) -> (Vec<(i64, i64)>, i64, String) {
    let (s, body) = app.get(&format!("/api/v1/loans/{loan_id}"), token).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let lines = body["installments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (money(&i["principal_paid"]), money(&i["interest_paid"])))
        .collect();
    let balance = body["installments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            money(&i["principal_due"]) + money(&i["interest_due"])
                - money(&i["principal_paid"])
                - money(&i["interest_paid"])
        })
        .sum();
    (lines, balance, body["loan"]["status"].to_string())
}

/// Debits and credits over every account, and one account's net balance.
async fn ledger(app: &TestApp, token: &str) -> Vec<Value> {
    let (s, body) = app.get("/api/v1/ledger/balances", token).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let rows = body.as_array().unwrap().clone();
    let debit: i64 = rows.iter().map(|r| money(&r["debit"])).sum();
    let credit: i64 = rows.iter().map(|r| money(&r["credit"])).sum();
    assert_eq!(debit, credit, "the ledger balances: {body}");
    rows
}

fn net(rows: &[Value], account: &str) -> i64 {
    rows.iter()
        .filter(|r| r["account"] == account)
        .map(|r| money(&r["debit"]) - money(&r["credit"]))
        .sum()
}

#[tokio::test]
async fn a_day_is_counted_approved_posted_and_reversed() {
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
        let snap = lan.snapshot(&app).await;
        let l1 = snap
            .loans
            .iter()
            .find(|l| l.contract_no == "L-001")
            .unwrap()
            .clone();
        let l2 = snap
            .loans
            .iter()
            .find(|l| l.contract_no == "L-002")
            .unwrap()
            .clone();
        let l1_id = app.id_of("loans", "L-001").await;
        let l2_id = app.id_of("loans", "L-002").await;
        let thu = snap
            .workers
            .iter()
            .find(|w| w.full_name == "Đặng Thị Thu")
            .unwrap()
            .id;
        let tet = snap.campaigns[0].id;
        let (l1_before, l1_balance_before, _) = book(&app, &sup, l1_id).await;
        let (l2_before, l2_balance_before, _) = book(&app, &sup, l2_id).await;

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
            purpose: VisitPurpose::GiftDelivery,
            outcome: "Đã trao quà".into(),
            notes: String::new(),
            location: None,
        }));
        let (batch, outcomes) = lan
            .upload(
                &app,
                vec![pay1.clone(), pay2.clone(), gift.clone(), visit.clone()],
            )
            .await;
        assert!(
            outcomes.iter().all(|o| o.0 == UploadOutcome::Accepted),
            "{outcomes:?}"
        );

        // The queue: the batch with its counts and cash.
        let (s, queue) = app.get("/api/v1/batches?status=pending", &sup).await;
        assert_eq!(s, StatusCode::OK, "{queue}");
        let item = queue
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["batch_id"] == batch.to_string())
            .unwrap_or_else(|| panic!("batch in the queue: {queue}"))
            .clone();
        assert_eq!(money(&item["cash_collected"]), 750_000);
        assert_eq!(item["counts"]["repayments"], 2);
        assert_eq!(item["counts"]["gift_handouts"], 1);
        assert_eq!(item["officer_name"], "Nguyễn Thị Lan");
        assert_eq!(item["status"], "pending");
        // Another branch's supervisor does not see it; an officer may not review.
        let (_, theirs) = app.get("/api/v1/batches?status=pending", &other_sup).await;
        assert!(theirs.as_array().unwrap().is_empty(), "{theirs}");
        let (s, _) = app
            .get(&format!("/api/v1/batches/{batch}"), &other_sup)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = app.get("/api/v1/batches", &lan.token).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let approve = json!({ "cash_received": "740000" });
        let (s, _) = app
            .post(
                &format!("/api/v1/batches/{batch}/approve"),
                &other_sup,
                &approve,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, detail) = app.get(&format!("/api/v1/batches/{batch}"), &sup).await;
        assert_eq!(s, StatusCode::OK, "{detail}");
        assert_eq!(detail["records"].as_array().unwrap().len(), 4);
        let flagged: Vec<&str> = detail["records"][0]["anomalies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["code"].as_str().unwrap())
            .collect();
        assert!(flagged.contains(&"above_installment"), "{flagged:?}");

        // Approve, counting 10.000 ₫ short.
        let (s, outcome) = app
            .post(&format!("/api/v1/batches/{batch}/approve"), &sup, &approve)
            .await;
        assert_eq!(s, StatusCode::OK, "{outcome}");
        assert_eq!(outcome["approved"], 4);
        assert_eq!(money(&outcome["cash_expected"]), 750_000);
        assert_eq!(money(&outcome["discrepancy"]), -10_000);
        // Twice: refused, nothing posted again.
        let (s, again) = app
            .post(&format!("/api/v1/batches/{batch}/approve"), &sup, &approve)
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{again}");
        assert_eq!(again["code"], "batch_already_decided");
        let (s, again) = app
            .post(
                &format!("/api/v1/batches/{batch}/reject"),
                &sup,
                &json!({"reason": "x"}),
            )
            .await;
        assert_eq!(
            (s, again["code"].as_str()),
            (StatusCode::CONFLICT, Some("batch_already_decided"))
        );

        // The books: balances dropped by exactly the allocated amounts.
        let (_, l1_balance, _) = book(&app, &sup, l1_id).await;
        let (_, l2_balance, _) = book(&app, &sup, l2_id).await;
        assert_eq!(l1_balance, l1_balance_before - 500_000);
        assert_eq!(l2_balance, l2_balance_before - 250_000);
        let (s, entries) = app
            .get(&format!("/api/v1/ledger/entries?loan_id={l1_id}"), &sup)
            .await;
        assert_eq!(s, StatusCode::OK);
        let principal: i64 = entries[0]["lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["account"] == "loan_principal")
            .map(|l| money(&l["credit"]))
            .sum();
        assert!(
            principal > 0 && principal < 500_000,
            "interest first: {entries}"
        );
        let rows = ledger(&app, &sup).await;
        // The loans came in owing their principal to the lending capital;
        // what the principal account lost since is what was repaid.
        assert_eq!(
            net(&rows, "loan_principal") + net(&rows, "loan_capital"),
            -(principal + 250_000)
        );
        assert_eq!(net(&rows, "cash_in_hand"), 0);
        assert_eq!(net(&rows, "vault"), 740_000);
        assert_eq!(
            net(&rows, "cash_over_short"),
            10_000,
            "the shortage is on the officer"
        );
        assert_eq!(net(&rows, "campaign_expense"), 500_000);
        assert!(app.db.ledger_unbalanced().await.unwrap().is_empty());
        assert!(app.db.ledger_balance_drift().await.unwrap().is_empty());
        assert_eq!(app.db.loan_principal_drift().await.unwrap(), vec![]);

        // The phone hears: every record approved.
        let page = lan.changes(&app, &snap.next).await;
        for r in [&pay1, &pay2, &gift, &visit] {
            let st = page
                .record_statuses
                .iter()
                .find(|s| s.client_id == r.client_id)
                .unwrap();
            assert_eq!(st.state, RecordState::Approved, "{backend:?}");
        }
        assert!(page.loans.iter().any(|l| l.id == l1.id));
        // With the cash counted.
        let counted: Vec<_> = page
            .cash_counts
            .iter()
            .map(|k| (k.batch_id, k.cash_expected.get(), k.cash_received.get()))
            .collect();
        assert_eq!(counted, vec![(batch, 750_000, 740_000)], "{backend:?}");
        // However the pages fall, the approved statuses come with the loans
        // they paid: one change brings the batch, its count and both loans
        // as the books now hold them (a sync cut after it leaves no record
        // approved on a loan that does not show it paid).
        let mut since = snap.next.clone();
        let first = loop {
            let page = lan.changes_up_to(&app, &since, 1).await;
            if page
                .record_statuses
                .iter()
                .any(|s| s.client_id == pay1.client_id)
            {
                break page;
            }
            assert!(page.has_more, "{backend:?}: no page brought the batch");
            since = page.next;
        };
        for r in [&pay1, &pay2] {
            let st = first
                .record_statuses
                .iter()
                .find(|s| s.client_id == r.client_id)
                .unwrap();
            assert_eq!(st.state, RecordState::Approved, "{backend:?}");
        }
        let paid: Vec<_> = first
            .loans
            .iter()
            .map(|l| (l.id, l.balance.get()))
            .collect();
        assert!(
            paid.contains(&(l1.id, l1_balance)) && paid.contains(&(l2.id, l2_balance)),
            "{backend:?}: {paid:?}"
        );
        assert_eq!(first.cash_counts.len(), 1, "{backend:?}");

        // A reversal requested from the phone restores L-002 exactly.
        let rev = lan.record(RecordBody::ReversalRequest(ReversalRequestPayload {
            target_id: pay2.client_id,
            reason: "Thu nhầm khoản vay".into(),
        }));
        let (rev_batch, outcomes) = lan.upload(&app, vec![rev.clone()]).await;
        assert_eq!(outcomes[0].0, UploadOutcome::Accepted, "{outcomes:?}");
        let (s, outcome) = app
            .post(
                &format!("/api/v1/batches/{rev_batch}/approve"),
                &sup,
                &json!({"cash_received": "0"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{outcome}");
        let (l2_after, l2_balance_after, _) = book(&app, &sup, l2_id).await;
        assert_eq!(l2_after, l2_before);
        assert_eq!(l2_balance_after, l2_balance_before);
        let page2 = lan.changes(&app, &page.next).await;
        let st = page2
            .record_statuses
            .iter()
            .find(|s| s.client_id == pay2.client_id)
            .unwrap();
        assert_eq!(st.state, RecordState::Reversed);
        // The same page brings the decided record and the new batch's.
        assert!(
            page2
                .record_statuses
                .iter()
                .any(|s| s.client_id == rev.client_id && s.state == RecordState::Approved),
            "{backend:?}: {:?}",
            page2.record_statuses
        );
        ledger(&app, &sup).await;
        // The phone asked for that reversal and knows why.
        assert_eq!(
            st.message_vi.as_deref(),
            Some("Bút toán của bản ghi đã được đảo")
        );

        // The gift, reversed at the branch by two people: the phone hears why.
        let (_, entries) = app.get("/api/v1/ledger/entries", &sup).await;
        let entry = entries
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["record_id"] == gift.client_id.to_string())
            .unwrap()["id"]
            .clone();
        let (s, asked) = app
            .post(
                "/api/v1/reversals",
                &sup,
                &json!({"entry_id": entry, "reason": "Trao nhầm người"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{asked}");
        let (s, body) = app
            .post(
                &format!("/api/v1/reversals/{}/approve", asked["id"]),
                &admin,
                &json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let reversed = lan.changes(&app, &page2.next).await;
        let st = reversed
            .record_statuses
            .iter()
            .find(|s| s.client_id == gift.client_id)
            .unwrap();
        assert_eq!(st.state, RecordState::Reversed, "{backend:?}");
        assert_eq!(
            st.message_vi.as_deref(),
            Some("Bút toán của bản ghi đã được đảo tại chi nhánh: Trao nhầm người"),
        );

        // A collection waiting for review, then the worker pays at the counter.
        let pay3 = lan.record(RecordBody::Repayment(RepaymentPayload {
            loan_id: l2.id,
            worker_id: l2.worker_id,
            amount: Dong(2_000_000),
            receipt_no: lan.receipt(3),
        }));
        let (pending_batch, outcomes) = lan.upload(&app, vec![pay3.clone()]).await;
        assert_eq!(outcomes[0].0, UploadOutcome::Accepted, "{outcomes:?}");
        let counter = |amount: &str| json!({ "client_id": Uuid::now_v7(), "amount": amount, "note": "Trả tại quầy" });
        let (s, body) = app
            .post(
                &format!("/api/v1/loans/{l2_id}/repayments"),
                &sup,
                &counter("1500000"),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["code"], "amount_above_outstanding");
        // The loan's balance and what the officer's receipt takes of it,
        // each said as it is.
        let detail = body["detail"].as_str().unwrap();
        assert!(
            detail.contains("còn thu được tại quầy, 1.000.000 ₫")
                && detail.contains(&format!(
                    "khoản vay còn phải trả {}, trong đó 2.000.000 ₫",
                    sotay_core::domain::money::format_vnd(l2_balance_before)
                )),
            "{body}"
        );
        let request = counter("1000000");
        let (s, receipt) = app
            .post(&format!("/api/v1/loans/{l2_id}/repayments"), &sup, &request)
            .await;
        assert_eq!(s, StatusCode::OK, "{receipt}");
        assert!(receipt["receipt_no"].as_str().unwrap().starts_with("QUAY-"));
        // The same request again: the same receipt, posted once.
        let (_, again) = app
            .post(&format!("/api/v1/loans/{l2_id}/repayments"), &sup, &request)
            .await;
        assert_eq!(again, receipt);
        let (_, balance, _) = book(&app, &sup, l2_id).await;
        assert_eq!(balance, l2_balance_before - 1_000_000);
        // What the clerk wrote is in the books with it.
        let (_, entries) = app
            .get(&format!("/api/v1/ledger/entries?loan_id={l2_id}"), &sup)
            .await;
        let memo = entries[0]["memo"].as_str().unwrap_or_default();
        assert!(
            memo.contains(receipt["receipt_no"].as_str().unwrap())
                && memo.ends_with("— Trả tại quầy"),
            "{entries}"
        );
        // The phone gets the new balance.
        let page3 = lan.changes(&app, &page2.next).await;
        assert!(page3.loans.iter().any(|l| l.id == l2.id), "{backend:?}");
        // The stale collection can no longer post: the approval names it.
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{pending_batch}/approve"),
                &sup,
                &json!({"cash_received": "2000000"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(money(&body["cash_expected"]), 2_000_000);
        let (_, balance, _) = book(&app, &sup, l2_id).await;
        assert_eq!(balance, l2_balance_before - 3_000_000);
        assert_eq!(balance, 0, "L-002 is paid off");

        // A branch reversal of the counter repayment: not by whoever asked.
        let entry = receipt["entry_id"].as_i64().unwrap();
        let (s, created) = app
            .post(
                "/api/v1/reversals",
                &sup,
                &json!({"entry_id": entry, "reason": "Nhập sai số tiền"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{created}");
        let id = created["id"].as_i64().unwrap();
        let (s, body) = app
            .post(&format!("/api/v1/reversals/{id}/approve"), &sup, &json!({}))
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("maker_checker"))
        );
        let (s, body) = app
            .post(
                &format!("/api/v1/reversals/{id}/approve"),
                &admin,
                &json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (_, balance, status) = book(&app, &sup, l2_id).await;
        assert_eq!(balance, 1_000_000);
        assert!(status.contains("active"), "reopened: {status}");
        let (s, body) = app
            .post(
                &format!("/api/v1/reversals/{id}/approve"),
                &admin,
                &json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{body}");
        ledger(&app, &sup).await;

        // A rejected batch goes back to the phone with the reason.
        let visit2 = lan.record(RecordBody::Visit(VisitPayload {
            worker_id: thu,
            purpose: VisitPurpose::HardshipVisit,
            outcome: "Vắng nhà".into(),
            notes: String::new(),
            location: None,
        }));
        let (reject_batch, _) = lan.upload(&app, vec![visit2.clone()]).await;
        let (s, _) = app
            .post(
                &format!("/api/v1/batches/{reject_batch}/reject"),
                &sup,
                &json!({"reason": "  "}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{reject_batch}/reject"),
                &sup,
                &json!({"reason": "Không có ảnh xác nhận"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let page4 = lan.changes(&app, &page3.next).await;
        let st = page4
            .record_statuses
            .iter()
            .find(|s| s.client_id == visit2.client_id)
            .unwrap();
        assert_eq!(st.state, RecordState::Rejected);
        assert_eq!(st.code.as_deref(), Some("batch_rejected"));
        assert!(st
            .message_vi
            .as_deref()
            .unwrap()
            .contains("Không có ảnh xác nhận"));

        // The audit log: admins only, filtered.
        let (s, _) = app.get("/api/v1/audit", &sup).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, rows) = app.get("/api/v1/audit?action=batch.approve", &admin).await;
        assert_eq!(s, StatusCode::OK, "{rows}");
        assert_eq!(rows.as_array().unwrap().len(), 3, "{rows}");
        assert!(rows
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["actor_username"] == "giamsat.td" && r["ip"].is_string()));
        let (_, rows) = app
            .get("/api/v1/audit?action=upload&actor=canbo.lan", &admin)
            .await;
        assert_eq!(rows.as_array().unwrap().len(), 4, "{rows}");
        assert!(rows
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["device_id"] == lan.device.to_string() && r["ip"].is_string()));
        let (_, rows) = app
            .get("/api/v1/audit?action=reversal.approve&actor=admin", &admin)
            .await;
        // The two reversals entered at the branch in this day.
        assert_eq!(rows.as_array().unwrap().len(), 2, "{rows}");
        let (s, body) = app.get("/api/v1/audit?from=31/02/2026", &admin).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(app.db.ledger_unbalanced().await.unwrap().is_empty());
        let _ = (l1_before, l2_after);
    }
}

#[tokio::test]
async fn exclusions_go_back_to_the_phone_and_nobody_approves_their_own() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let sup = app
            .token("giamsat.td", "super-pass-1", &common::device(1))
            .await;
        let mut lan = Phone::sign_in(&app, "canbo.lan", "officer-pass-1").await;
        let snap = lan.snapshot(&app).await;
        let l1 = snap
            .loans
            .iter()
            .find(|l| l.contract_no == "L-001")
            .unwrap()
            .clone();
        let l1_id = app.id_of("loans", "L-001").await;
        let (before, balance_before, _) = book(&app, &sup, l1_id).await;
        let pay = lan.record(RecordBody::Repayment(RepaymentPayload {
            loan_id: l1.id,
            worker_id: l1.worker_id,
            amount: Dong(300_000),
            receipt_no: lan.receipt(1),
        }));
        // With it, a repayment above what the loan owes: refused at upload.
        let over = lan.record(RecordBody::Repayment(RepaymentPayload {
            loan_id: l1.id,
            worker_id: l1.worker_id,
            amount: Dong(balance_before + 1),
            receipt_no: lan.receipt(9),
        }));
        let (batch, outcomes) = lan.upload(&app, vec![pay.clone(), over.clone()]).await;
        assert_eq!(outcomes[1].0, UploadOutcome::Rejected, "{outcomes:?}");
        // The supervisor sees it beside the records to review, with the cash
        // the officer took for it and still holds.
        let (s, detail) = app.get(&format!("/api/v1/batches/{batch}"), &sup).await;
        assert_eq!(s, StatusCode::OK, "{detail}");
        assert_eq!(detail["records"].as_array().unwrap().len(), 1, "{detail}");
        let refused = detail["refused_at_upload"].as_array().unwrap();
        assert_eq!(refused.len(), 1, "{detail}");
        assert_eq!(refused[0]["record_id"], over.client_id.to_string());
        assert_eq!(refused[0]["code"], outcomes[1].1.clone().unwrap());
        assert_eq!(refused[0]["amount"], (balance_before + 1).to_string());
        assert!(!refused[0]["message_vi"].as_str().unwrap().is_empty());
        assert_eq!(money(&detail["refused_cash"]), balance_before + 1);
        assert_eq!(money(&detail["cash_collected"]), 300_000, "{detail}");
        // A batch of nothing but a refused repayment has nothing to review,
        // but its cash shows on the queue all the same, newest first.
        let alone = lan.record(RecordBody::Repayment(RepaymentPayload {
            loan_id: l1.id,
            worker_id: l1.worker_id,
            amount: Dong(balance_before + 2),
            receipt_no: lan.receipt(8),
        }));
        let (alone_batch, outcomes) = lan.upload(&app, vec![alone.clone()]).await;
        assert_eq!(outcomes[0].0, UploadOutcome::Rejected, "{outcomes:?}");
        // Nothing to review in it, but a page all the same: what was
        // refused, the cash the officer holds; no decision to take.
        let (s, alone_page) = app
            .get(&format!("/api/v1/batches/{alone_batch}"), &sup)
            .await;
        assert_eq!(s, StatusCode::OK, "{alone_page}");
        assert_eq!(alone_page["status"], "refused", "{alone_page}");
        assert_eq!(alone_page["records"], json!([]), "{alone_page}");
        assert_eq!(
            alone_page["refused_at_upload"][0]["record_id"],
            alone.client_id.to_string(),
            "{alone_page}"
        );
        assert_eq!(money(&alone_page["refused_cash"]), balance_before + 2);
        for decide in ["approve", "reject"] {
            let (s, body) = app
                .post(
                    &format!("/api/v1/batches/{alone_batch}/{decide}"),
                    &sup,
                    &json!({"cash_received": "0", "reason": "x"}),
                )
                .await;
            assert_eq!(
                (s, body["code"].as_str()),
                (StatusCode::CONFLICT, Some("batch_nothing_to_review")),
                "{body}"
            );
        }
        // Listed with its own status, and among all batches; not in the queue.
        let listed = |v: &Value| {
            v.as_array()
                .unwrap()
                .iter()
                .any(|b| b["batch_id"] == alone_batch.to_string())
        };
        for (status, expected) in [("refused", true), ("all", true), ("pending", false)] {
            let (s, list) = app
                .get(&format!("/api/v1/batches?status={status}"), &sup)
                .await;
            assert_eq!(s, StatusCode::OK, "{list}");
            assert_eq!(listed(&list), expected, "{status}: {list}");
        }
        let (s, list) = app.get("/api/v1/batches?status=refused", &sup).await;
        assert_eq!(s, StatusCode::OK, "{list}");
        assert!(
            list.as_array()
                .unwrap()
                .iter()
                .all(|b| b["status"] == "refused"),
            "{list}"
        );
        let other_sup = app
            .token("giamsat.bt", "super-pass-2", &common::device(2))
            .await;
        let (s, _) = app
            .get(&format!("/api/v1/batches/{alone_batch}"), &other_sup)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "another branch's");
        let td = app.id_of("branches", "CN-TD").await;
        let bt = app.id_of("branches", "CN-BT").await;
        let since = chrono::Utc::now() - chrono::Duration::days(1);
        let (listed, names) = app
            .db
            .refused_handovers(Some(td), since, 100)
            .await
            .unwrap();
        let seen: Vec<Uuid> = listed.iter().map(|r| r.record.client_id).collect();
        assert_eq!(seen, [alone.client_id, over.client_id]);
        let shown = sotay_server::review::refused_record(&listed[0].record, &names);
        assert_eq!(shown.amount, Some((balance_before + 2).to_string()));
        // With whose loan it was, in the supervisor's branch.
        assert_eq!(shown.loan_id, Some(l1_id));
        assert_eq!(shown.loan_code.as_deref(), Some("L-001"));
        assert!(shown.worker_name.is_some(), "{shown:?}");
        assert_eq!(refused[0]["loan_code"], "L-001", "{detail}");
        // Another branch's list is empty, and would not name Thủ Đức's
        // workers or loans.
        let (theirs, their_names) = app
            .db
            .refused_handovers(Some(bt), since, 100)
            .await
            .unwrap();
        assert!(theirs.is_empty());
        let elsewhere = sotay_server::review::refused_record(&listed[0].record, &their_names);
        assert_eq!((elsewhere.loan_code, elsewhere.worker_name), (None, None));
        let foreign = app.db.refused_handovers(None, since, 100).await.unwrap();
        assert_eq!(foreign.0.len(), 2);
        assert!(app
            .db
            .refused_handovers(Some(bt), since, 100)
            .await
            .map(|(rows, _)| rows.is_empty())
            .unwrap());
        let later = chrono::Utc::now() + chrono::Duration::minutes(1);
        assert!(app
            .db
            .refused_handovers(Some(td), later, 100)
            .await
            .unwrap()
            .0
            .is_empty());

        // The officer gave the cash back: the supervisor marks each one
        // settled, with what was done. It leaves the queue's list, the batch
        // shows it and no longer counts its cash as held.
        let settle = |id: Uuid| format!("/api/v1/records/{id}/settle");
        let (s, body) = app
            .post(&settle(over.client_id), &sup, &json!({"note": "  "}))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let bt_sup = app
            .token("giamsat.bt", "super-pass-2", &common::device(9))
            .await;
        let (s, body) = app
            .post(
                &settle(over.client_id),
                &bt_sup,
                &json!({"note": "Đã trả lại"}),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "another branch: {body}");
        let (s, body) = app
            .post(&settle(pay.client_id), &sup, &json!({"note": "Đã trả lại"}))
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("not_refused_handover")
            ),
            "an accepted record: {body}"
        );
        let unsettled = lan.changes(&app, &snap.next).await;
        assert!(!unsettled.has_more);
        let (s, body) = app
            .post(
                &settle(over.client_id),
                &sup,
                &json!({"note": "Đã trả lại người vay 13/12"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["note"], "Đã trả lại người vay 13/12");
        // The officer's phone hears what became of the cash.
        let page = lan.changes(&app, &unsettled.next).await;
        let heard: Vec<_> = page
            .record_statuses
            .iter()
            .map(|st| (st.client_id, st.state, st.settled_note.clone()))
            .collect();
        assert_eq!(
            heard,
            [(
                over.client_id,
                RecordState::Rejected,
                Some("Đã trả lại người vay 13/12".to_string())
            )],
            "{backend:?}"
        );
        let (s, body) = app
            .post(&settle(over.client_id), &sup, &json!({"note": "Lần nữa"}))
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("already_settled")),
            "{body}"
        );
        let (listed, _) = app
            .db
            .refused_handovers(Some(td), since, 100)
            .await
            .unwrap();
        let left: Vec<Uuid> = listed.iter().map(|r| r.record.client_id).collect();
        assert_eq!(left, [alone.client_id]);
        let (_, detail) = app.get(&format!("/api/v1/batches/{batch}"), &sup).await;
        assert_eq!(money(&detail["refused_cash"]), 0, "{detail}");
        let settled = &detail["refused_at_upload"][0]["settled"];
        assert_eq!(settled["note"], "Đã trả lại người vay 13/12", "{detail}");
        assert!(settled["settled_by"]
            .as_str()
            .is_some_and(|n| !n.is_empty()));
        assert_eq!(app.db.audit_count("refused.settle").await.unwrap(), 1);
        // An exclusion needs a reason and a record of this batch.
        let bad =
            json!({"cash_received": "0", "excluded": [{"record_id": pay.client_id, "reason": ""}]});
        let (s, body) = app
            .post(&format!("/api/v1/batches/{batch}/approve"), &sup, &bad)
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("reason_required"))
        );
        // One record excluded twice: refused, neither reason dropped unseen.
        let twice = json!({"cash_received": "0", "excluded": [
            {"record_id": pay.client_id, "reason": "Không có tiền nộp"},
            {"record_id": pay.client_id, "reason": "Sai số tiền"}]});
        let (s, body) = app
            .post(&format!("/api/v1/batches/{batch}/approve"), &sup, &twice)
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("excluded_twice")),
            "{body}"
        );
        let stranger = json!({"cash_received": "0", "excluded": [{"record_id": Uuid::now_v7(), "reason": "x"}]});
        let (s, _) = app
            .post(&format!("/api/v1/batches/{batch}/approve"), &sup, &stranger)
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{batch}/approve"),
                &sup,
                &json!({"cash_received": "-1"}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let good = json!({"cash_received": "0", "excluded": [{"record_id": pay.client_id, "reason": "Không có tiền nộp"}]});
        let (s, body) = app
            .post(&format!("/api/v1/batches/{batch}/approve"), &sup, &good)
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(
            (body["approved"].as_i64(), body["excluded"].as_i64()),
            (Some(0), Some(1))
        );
        let (after, balance_after, _) = book(&app, &sup, l1_id).await;
        assert_eq!(
            (after, balance_after),
            (before, balance_before),
            "nothing posted"
        );
        let page = lan.changes(&app, &snap.next).await;
        let st = page
            .record_statuses
            .iter()
            .find(|s| s.client_id == pay.client_id)
            .unwrap();
        assert_eq!(st.state, RecordState::Rejected);
        assert_eq!(st.code.as_deref(), Some("excluded_by_supervisor"));
        assert!(st
            .message_en
            .as_deref()
            .unwrap()
            .contains("Không có tiền nộp"));

        // The excluded amount no longer counts as pending: the same amount
        // can be collected again.
        let again = lan.record(RecordBody::Repayment(RepaymentPayload {
            loan_id: l1.id,
            worker_id: l1.worker_id,
            amount: Dong(balance_before),
            receipt_no: lan.receipt(2),
        }));
        let (_, outcomes) = lan.upload(&app, vec![again]).await;
        assert_eq!(outcomes[0].0, UploadOutcome::Accepted, "{outcomes:?}");
    }
}

/// `asker` asks for the reversal of `entry` and `approver` approves it: the
/// approval is refused with `balance_negative`, naming `account`.
async fn reversal_refused(app: &TestApp, asker: &str, approver: &str, entry: Value, account: &str) {
    let (s, body) = app.reversal(asker, approver, &entry, "Ghi nhầm").await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "balance_negative", "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains(account), "{body}");
}

#[tokio::test]
async fn gifts_post_only_from_stock_and_the_vault_never_goes_negative() {
    for backend in BACKENDS {
        let app = TestApp::start_with(backend, false).await;
        let sup = app
            .token("giamsat.td", "super-pass-1", &common::device(1))
            .await;
        let other_sup = app
            .token("giamsat.bt", "super-pass-2", &common::device(2))
            .await;
        let admin = app.token("admin", "admin-pass-1", &common::device(3)).await;
        let mut lan = Phone::sign_in(&app, "canbo.lan", "officer-pass-1").await;
        let snap = lan.snapshot(&app).await;
        let l1 = snap
            .loans
            .iter()
            .find(|l| l.contract_no == "L-001")
            .unwrap()
            .clone();
        let thu = snap
            .workers
            .iter()
            .find(|w| w.full_name == "Đặng Thị Thu")
            .unwrap()
            .id;
        let tet = snap.campaigns[0].id;
        let tet_id = app.id_of("campaigns", "TET-2027").await;
        let td = app.id_of("branches", "CN-TD").await;
        let bt = app.id_of("branches", "CN-BT").await;

        let pay = lan.record(RecordBody::Repayment(RepaymentPayload {
            loan_id: l1.id,
            worker_id: l1.worker_id,
            amount: Dong(300_000),
            receipt_no: lan.receipt(1),
        }));
        let gift = lan.record(RecordBody::GiftHandout(GiftHandoutPayload {
            campaign_id: tet,
            worker_id: thu,
            acknowledged_name: "Đặng Thị Thu".into(),
            signature_sha256: None,
        }));
        let (batch, outcomes) = lan.upload(&app, vec![pay.clone(), gift.clone()]).await;
        assert!(
            outcomes.iter().all(|o| o.0 == UploadOutcome::Accepted),
            "{outcomes:?}"
        );

        // Nothing in stock: the gift cannot post and is named.
        let approve = json!({ "cash_received": "0" });
        let path = format!("/api/v1/batches/{batch}/approve");
        let (s, body) = app.post(&path, &sup, &approve).await;
        assert_eq!(s, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["code"], "posting_refused", "{body}");
        let detail = body["detail"].as_str().unwrap();
        // Named as the supervisor knows it: the gift and its recipient.
        assert!(detail.contains("cho Đặng Thị Thu: kho quà"), "{body}");
        // How many the stock has, and how many the batch needs.
        assert!(
            detail.contains("có 0 suất, lô này cần 1 suất") && detail.contains("ít nhất 1 suất"),
            "{body}"
        );
        assert!(!detail.contains(&gift.client_id.to_string()), "{body}");
        assert_eq!(body["records"], json!([gift.client_id]), "{body}");

        // Only an admin receives stock, with a clear error for each bad field.
        let receive = |client: Uuid, packages: i64| {
            json!({
                "client_id": client,
                "branch_id": td,
                "packages": packages,
                "received_on": "20/11/2026",
                "source": "LĐLĐ thành phố, phiếu xuất kho 12",
            })
        };
        let receipts = format!("/api/v1/campaigns/{tet_id}/receipts");
        for token in [&sup, &lan.token] {
            let (s, body) = app
                .post(&receipts, token, &receive(Uuid::now_v7(), 1))
                .await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
        }
        let (s, body) = app
            .post(&receipts, &admin, &receive(Uuid::now_v7(), 0))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["column"], "packages", "{body}");
        let mut bad_date = receive(Uuid::now_v7(), 1);
        bad_date["received_on"] = json!("31/02/2026");
        let (s, body) = app.post(&receipts, &admin, &bad_date).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["column"], "received_on", "{body}");
        let mut ahead = receive(Uuid::now_v7(), 1);
        let tomorrow =
            sotay_core::domain::time::local_date(chrono::Utc::now()) + chrono::Duration::days(1);
        ahead["received_on"] = json!(sotay_core::domain::time::format_date(tomorrow));
        let (s, body) = app.post(&receipts, &admin, &ahead).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("received_in_future")),
            "{body}"
        );
        let mut no_branch = receive(Uuid::now_v7(), 1);
        no_branch["branch_id"] = json!(9_999);
        let (s, body) = app.post(&receipts, &admin, &no_branch).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let (s, _) = app
            .post(
                "/api/v1/campaigns/9999/receipts",
                &admin,
                &receive(Uuid::now_v7(), 1),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);

        // One package at the branch; a retry gives the same receipt.
        let client = Uuid::now_v7();
        let (s, receipt) = app.post(&receipts, &admin, &receive(client, 1)).await;
        assert_eq!(s, StatusCode::OK, "{receipt}");
        assert_eq!(money(&receipt["amount"]), 500_000);
        assert_eq!(money(&receipt["unit_value"]), 500_000);
        assert_eq!(receipt["received_on"], "2026-11-20");
        let (s, again) = app.post(&receipts, &admin, &receive(client, 1)).await;
        assert_eq!(s, StatusCode::OK, "{again}");
        assert_eq!(again["id"], receipt["id"]);
        assert_eq!(again["entry_id"], receipt["entry_id"]);
        let (s, body) = app.post(&receipts, &admin, &receive(client, 2)).await;
        assert_eq!(s, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["code"], "receipt_conflict");
        let mut elsewhere = receive(Uuid::now_v7(), 3);
        elsewhere["branch_id"] = json!(bt);
        let (s, bt_receipt) = app.post(&receipts, &admin, &elsewhere).await;
        assert_eq!(s, StatusCode::OK, "{bt_receipt}");
        // Each supervisor sees their branch's receipts, the admin all.
        let (_, mine) = app.get(&receipts, &sup).await;
        assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
        let (_, theirs) = app.get(&receipts, &other_sup).await;
        assert_eq!(theirs.as_array().unwrap().len(), 1, "{theirs}");
        let (_, all) = app.get(&receipts, &admin).await;
        assert_eq!(all.as_array().unwrap().len(), 2, "{all}");
        let (_, audit) = app
            .get("/api/v1/audit?action=campaign.receive", &admin)
            .await;
        assert_eq!(audit.as_array().unwrap().len(), 2, "{audit}");
        let rows = ledger(&app, &admin).await;
        assert_eq!(net(&rows, "gift_stock"), 2_000_000);
        assert_eq!(net(&rows, "campaign_funding"), -2_000_000);
        let funding = rows
            .iter()
            .find(|r| r["account"] == "campaign_funding")
            .unwrap();
        assert_eq!(funding["name_vi"], "Nguồn kinh phí chương trình");

        // Now it posts, taking the branch's one package; nothing counted.
        let (s, outcome) = app.post(&path, &sup, &approve).await;
        assert_eq!(s, StatusCode::OK, "{outcome}");
        let rows = ledger(&app, &sup).await;
        assert_eq!(net(&rows, "gift_stock"), 0, "{rows:?}");
        assert_eq!(net(&rows, "vault"), 0);
        assert_eq!(net(&rows, "cash_over_short"), 300_000);

        // Giving the repayment back would take cash the vault does not hold.
        let (_, entries) = app.get("/api/v1/ledger/entries", &sup).await;
        let entry = entries
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["record_id"] == pay.client_id.to_string())
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        reversal_refused(&app, &sup, &admin, json!(entry), "Quỹ tiền mặt chi nhánh").await;
        let rows = ledger(&app, &admin).await;
        assert_eq!(net(&rows, "vault"), 0, "nothing was posted");

        // A stock receipt entered by mistake is reversed like any entry,
        // by a second person, but not once its packages were handed out.
        let reverse = |entry: &Value| json!({"entry_id": entry, "reason": "Nhập kho nhầm"});
        let gifts = receipt["entry_id"].clone();
        reversal_refused(&app, &admin, &sup, gifts, "Quà tặng trong kho").await;
        let (s, asked) = app
            .post(
                "/api/v1/reversals",
                &admin,
                &reverse(&bt_receipt["entry_id"]),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{asked}");
        let (s, body) = app
            .post(
                &format!("/api/v1/reversals/{}/approve", asked["id"]),
                &other_sup,
                &json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert!(body["entry_id"].as_i64().is_some(), "{body}");
        let rows = ledger(&app, &admin).await;
        assert_eq!(net(&rows, "gift_stock"), 0, "{rows:?}");
        assert_eq!(net(&rows, "campaign_funding"), -500_000, "{rows:?}");
        let (_, all) = app.get(&receipts, &admin).await;
        let reversed: Vec<(Value, Value)> = all
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["id"].clone(), r["reversed"].clone()))
            .collect();
        assert!(
            reversed.contains(&(bt_receipt["id"].clone(), json!(true)))
                && reversed.contains(&(receipt["id"].clone(), json!(false))),
            "{all}"
        );
    }
}

#[tokio::test]
async fn a_cashier_takes_repayments_at_the_counter_and_nothing_else() {
    const USERS: &str = "code,username,full_name,role,branch_code,phone,password\n";
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let admin = app.token("admin", "admin-pass-1", &common::device(1)).await;
        let sup = app
            .token("giamsat.td", "super-pass-1", &common::device(2))
            .await;
        // A cashier belongs to a branch: the import says which line is wrong.
        let (s, body) = app
            .post_csv(
                "/api/v1/imports/users",
                &admin,
                &format!("{USERS}TQ-XX,thuquy.xx,Ngô Văn Quỹ,cashier,,,cashier-pass-9\n"),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["line"], 2, "{body}");
        assert_eq!(body["errors"][0]["column"], "branch_code", "{body}");
        let (s, body) = app
            .post_csv(
                "/api/v1/imports/users",
                &admin,
                &format!("{USERS}TQ-TD,thuquy.td,Ngô Thị Quỹ,Cashier,CN-TD,,cashier-pass-1\n"),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let cashier = app
            .token("thuquy.td", "cashier-pass-1", &common::device(3))
            .await;
        let (_, me) = app.get("/api/v1/me", &cashier).await;
        assert_eq!(me["role"], "cashier", "{me}");
        // Settling an officer's refused record is not a cashier's word.
        let l1_id = app.id_of("loans", "L-001").await;
        let (s, body) = app
            .post(
                &format!("/api/v1/loans/{l1_id}/repayments"),
                &cashier,
                &json!({"client_id": Uuid::now_v7(), "amount": "1000", "settles_record": Uuid::now_v7()}),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("việc của giám sát chi nhánh"),
            "it says whose it is and what to do: {body}"
        );

        // The loan lookup the counter needs, for the branch only.
        let l1 = app.id_of("loans", "L-001").await;
        let l4 = app.id_of("loans", "L-004").await;
        let (s, loan) = app.get(&format!("/api/v1/loans/{l1}"), &cashier).await;
        assert_eq!(s, StatusCode::OK, "{loan}");
        let (s, _) = app.get(&format!("/api/v1/loans/{l4}"), &cashier).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (_, before, _) = book(&app, &cashier, l1).await;

        // A repayment at the counter posts at once; another branch's loan is not theirs.
        let pay = |amount: &str| json!({"client_id": Uuid::now_v7(), "amount": amount, "note": "Nộp tại quầy"});
        let (s, receipt) = app
            .post(
                &format!("/api/v1/loans/{l1}/repayments"),
                &cashier,
                &pay("200000"),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{receipt}");
        assert!(receipt["receipt_no"]
            .as_str()
            .unwrap()
            .starts_with("QUAY-CN-TD-"));
        let (_, after, _) = book(&app, &cashier, l1).await;
        assert_eq!(after, before - 200_000);
        // The same amount again the same day is most often the same
        // payment typed twice: taken only once the clerk says it is another.
        let (s, body) = app
            .post(
                &format!("/api/v1/loans/{l1}/repayments"),
                &cashier,
                &pay("200000"),
            )
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("repeat_unconfirmed")),
            "{body}"
        );
        let detail = body["detail"].as_str().unwrap();
        assert!(
            detail.contains(&format!(
                "đã thu 200.000 ₫ hôm nay lúc {} (phiếu {})",
                receipt["recorded_at"]
                    .as_str()
                    .unwrap()
                    .parse::<chrono::DateTime<chrono::Utc>>()
                    .unwrap()
                    .with_timezone(&sotay_core::domain::time::vn_offset())
                    .format("%H:%M"),
                receipt["receipt_no"].as_str().unwrap()
            )),
            "{body}"
        );
        assert_eq!(book(&app, &cashier, l1).await.1, after);
        // Cash under 1.000 ₫ that does not pay the loan off is a slip of
        // the keyboard; the same by transfer is what the bank shows.
        let (s, body) = app
            .post(
                &format!("/api/v1/loans/{l1}/repayments"),
                &cashier,
                &pay("500"),
            )
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("amount_too_small")),
            "{body}"
        );
        let by_bank = json!({"client_id": Uuid::now_v7(), "amount": "500",
            "method": "transfer", "transfer_ref": "FT26341000500"});
        let (s, body) = app
            .post(
                &format!("/api/v1/loans/{l1}/repayments"),
                &cashier,
                &by_bank,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (_, after, _) = book(&app, &cashier, l1).await;
        assert_eq!(after, before - 200_500);
        let (s, _) = app
            .post(
                &format!("/api/v1/loans/{l4}/repayments"),
                &cashier,
                &pay("200000"),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (_, audit) = app
            .get(
                "/api/v1/audit?action=counter.repayment&actor=thuquy.td",
                &admin,
            )
            .await;
        assert_eq!(audit.as_array().unwrap().len(), 2, "{audit}");

        // Nothing of review, reversals, imports or devices.
        let mut lan = Phone::sign_in(&app, "canbo.lan", "officer-pass-1").await;
        let snap = lan.snapshot(&app).await;
        let l2 = snap
            .loans
            .iter()
            .find(|l| l.contract_no == "L-002")
            .unwrap()
            .clone();
        let r = lan.record(RecordBody::Repayment(RepaymentPayload {
            loan_id: l2.id,
            worker_id: l2.worker_id,
            amount: Dong(100_000),
            receipt_no: lan.receipt(1),
        }));
        let (batch, _) = lan.upload(&app, vec![r]).await;
        let entry = receipt["entry_id"].as_i64().unwrap();
        let (s, asked) = app
            .post(
                "/api/v1/reversals",
                &sup,
                &json!({"entry_id": entry, "reason": "Ghi nhầm"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{asked}");
        let gets = [
            "/api/v1/batches?status=pending".to_string(),
            format!("/api/v1/batches/{batch}"),
            "/api/v1/reversals".to_string(),
            "/api/v1/ledger/balances".to_string(),
            "/api/v1/ledger/entries".to_string(),
            "/api/v1/audit".to_string(),
            "/api/v1/users".to_string(),
            "/api/v1/devices".to_string(),
            "/api/v1/imports".to_string(),
            "/api/v1/reports/daily-collections".to_string(),
        ];
        for path in &gets {
            let (s, body) = app.get(path, &cashier).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{path}: {body}");
            assert_eq!(body["code"], "forbidden", "{path}: {body}");
        }
        let tet = app.id_of("campaigns", "TET-2027").await;
        let posts = [
            (
                format!("/api/v1/batches/{batch}/approve"),
                json!({"cash_received": "100000"}),
            ),
            (
                format!("/api/v1/batches/{batch}/reject"),
                json!({"reason": "Thiếu"}),
            ),
            (
                "/api/v1/reversals".to_string(),
                json!({"entry_id": entry, "reason": "Ghi nhầm"}),
            ),
            (
                format!("/api/v1/reversals/{}/approve", asked["id"]),
                json!({}),
            ),
            (
                format!("/api/v1/reversals/{}/reject", asked["id"]),
                json!({"reason": "Không"}),
            ),
            (
                "/api/v1/devices/test-device-0002/revoke".to_string(),
                json!({"reason": "Mất máy"}),
            ),
            (
                format!("/api/v1/campaigns/{tet}/receipts"),
                json!({"client_id": Uuid::now_v7(), "branch_id": 1, "packages": 1, "received_on": "20/11/2026", "source": "x"}),
            ),
        ];
        for (path, body) in &posts {
            let (s, answer) = app.post(path, &cashier, body).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{path}: {answer}");
        }
        let (s, _) = app.post_csv("/api/v1/imports/users", &cashier, USERS).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // The batch and the reversal still wait for a supervisor.
        let (_, queue) = app.get("/api/v1/batches?status=pending", &sup).await;
        assert_eq!(queue.as_array().unwrap().len(), 1, "{queue}");
        let (_, waiting) = app.get("/api/v1/reversals?status=pending", &sup).await;
        assert_eq!(waiting.as_array().unwrap().len(), 1, "{waiting}");
    }
}

#[tokio::test]
async fn a_welfare_grant_posts_only_from_cash_in_the_vault() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let admin = app.token("admin", "admin-pass-1", &common::device(1)).await;
        let sup = app
            .token("giamsat.td", "super-pass-1", &common::device(2))
            .await;
        let (s, body) = app
            .post_csv(
                "/api/v1/imports/campaigns",
                &admin,
                "code,name,kind,starts_on,ends_on,gift_value,target_count,eligibility,description\n\
                 MAC-2027,Mái ấm Công đoàn 2027,welfare,01/11/2026,31/12/2030,50000000,4,union_members_in_hardship,Hỗ trợ sửa nhà\n",
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, body) = app
            .post_csv(
                "/api/v1/imports/campaign-allocations",
                &admin,
                "campaign_code,branch_code,officer_code,quota\n\
                 TET-2027,CN-TD,,60\nTET-2027,CN-TD,CB-TD-01,30\nTET-2027,CN-BT,,40\n\
                 MAC-2027,CN-TD,,2\nMAC-2027,CN-TD,CB-TD-01,1\n",
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let mut lan = Phone::sign_in(&app, "canbo.lan", "officer-pass-1").await;
        let snap = lan.snapshot(&app).await;
        let mac = snap
            .campaigns
            .iter()
            .find(|k| k.name == "Mái ấm Công đoàn 2027")
            .unwrap()
            .id;
        let thu = snap
            .workers
            .iter()
            .find(|w| w.full_name == "Đặng Thị Thu")
            .unwrap()
            .id;
        let grant = lan.record(RecordBody::GiftHandout(GiftHandoutPayload {
            campaign_id: mac,
            worker_id: thu,
            acknowledged_name: "Đặng Thị Thu".into(),
            signature_sha256: None,
        }));
        let (batch, outcomes) = lan.upload(&app, vec![grant.clone()]).await;
        assert_eq!(outcomes[0].0, UploadOutcome::Accepted, "{outcomes:?}");
        // Its page says what the grant is worth, a welfare grant's cash.
        let (s, detail) = app.get(&format!("/api/v1/batches/{batch}"), &sup).await;
        assert_eq!(s, StatusCode::OK, "{detail}");
        assert_eq!(
            (
                &detail["records"][0]["campaign_kind"],
                &detail["records"][0]["gift_value"]
            ),
            (&json!("welfare"), &json!("50000000")),
            "{detail}"
        );
        let path = format!("/api/v1/batches/{batch}/approve");
        let approve = json!({ "cash_received": "0" });

        // The vault is empty: the grant cannot be paid, and is named.
        let (s, body) = app.post(&path, &sup, &approve).await;
        assert_eq!(s, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["code"], "posting_refused", "{body}");
        assert_eq!(body["records"], json!([grant.client_id]), "{body}");
        assert!(
            body["detail"].as_str().unwrap().contains("quỹ tiền mặt"),
            "{body}"
        );

        // The programme's cash for one grant reaches the branch vault.
        let mac_id = app.id_of("campaigns", "MAC-2027").await;
        let td = app.id_of("branches", "CN-TD").await;
        let (s, receipt) = app
            .post(
                &format!("/api/v1/campaigns/{mac_id}/receipts"),
                &admin,
                &json!({
                    "client_id": Uuid::now_v7(),
                    "branch_id": td,
                    "packages": 1,
                    "received_on": "2026-11-25",
                    "source": "Quỹ xã hội LĐLĐ, ủy nhiệm chi 7",
                }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{receipt}");
        assert_eq!(money(&receipt["amount"]), 50_000_000);
        let rows = ledger(&app, &sup).await;
        assert_eq!(net(&rows, "vault"), 50_000_000);
        assert_eq!(
            net(&rows, "gift_stock"),
            30_000_000,
            "60 Tết gifts less nothing given"
        );

        let (s, body) = app.post(&path, &sup, &approve).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let rows = ledger(&app, &sup).await;
        assert_eq!(net(&rows, "vault"), 0);
        assert_eq!(net(&rows, "campaign_expense"), 50_000_000);
        // The books name it a grant paid, not a gift handed out.
        let (_, entries) = app.get("/api/v1/ledger/entries?limit=1", &sup).await;
        assert_eq!(
            entries[0]["memo"], "Chi hỗ trợ Mái ấm Công đoàn 2027 cho Đặng Thị Thu",
            "{entries}"
        );
    }
}

#[tokio::test]
async fn a_void_shows_what_it_cancels_and_cannot_be_excluded() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let (sup, mut lan, snap, l1) = lan_and_her_loan(&app).await;
        let repay = |lan: &mut Phone, amount: i64, n: i64| repayment(lan, &l1, amount, n);
        // A mistyped amount, voided on the phone and taken again; one more
        // repayment the supervisor will leave out.
        let wrong = repay(&mut lan, 300_000, 1);
        let void = lan.record(RecordBody::Void(VoidPayload {
            target_id: wrong.client_id,
            reason: "Gõ nhầm số tiền".into(),
        }));
        let right = repay(&mut lan, 30_000, 2);
        let doubtful = repay(&mut lan, 40_000, 3);
        let (batch, outcomes) = lan
            .upload(
                &app,
                vec![wrong.clone(), void.clone(), right.clone(), doubtful.clone()],
            )
            .await;
        assert!(
            outcomes.iter().all(|o| o.0 == UploadOutcome::Accepted),
            "{outcomes:?}"
        );
        let (s, detail) = app.get(&format!("/api/v1/batches/{batch}"), &sup).await;
        assert_eq!(s, StatusCode::OK, "{detail}");
        let row = |id: Uuid| {
            detail["records"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["record_id"] == id.to_string())
                .unwrap()
                .clone()
        };
        // The void names what it cancels; the voided repayment neither
        // counts as cash nor as a second repayment on the loan that day.
        let v = row(void.client_id);
        assert_eq!(v["target"]["kind"], "repayment", "{v}");
        assert_eq!(v["target"]["receipt_no"], lan.receipt(1), "{v}");
        assert_eq!(money(&v["target"]["amount"]), 300_000, "{v}");
        assert_eq!(v["payload"]["reason"], "Gõ nhầm số tiền", "{v}");
        assert_eq!(row(wrong.client_id)["voided"], true);
        assert_eq!(
            row(wrong.client_id)["anomalies"],
            json!([]),
            "nothing to look at on a voided record"
        );
        assert_eq!(money(&detail["cash_collected"]), 70_000, "{detail}");
        let codes: Vec<String> = row(right.client_id)["anomalies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["code"].as_str().unwrap().to_string())
            .collect();
        assert!(
            codes
                .iter()
                .filter(|c| *c == "several_repayments_one_day")
                .count()
                == 1,
            "two live repayments that day, not three: {codes:?}"
        );
        let n = row(right.client_id)["anomalies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["code"] == "several_repayments_one_day")
            .unwrap()["message_en"]
            .clone();
        assert_eq!(
            n,
            format!(
                "2 repayments on the same loan in one day; the others: {} (Nguyễn Thị Lan)",
                lan.receipt(3)
            ),
            "the other is named, with who took it"
        );
        // Excluding the void would bring back money the officer says was
        // never taken: refused, naming the receipt.
        let approve =
            |excluded: Value, cash: &str| json!({"cash_received": cash, "excluded": excluded});
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{batch}/approve"),
                &sup,
                &approve(
                    json!([{"record_id": void.client_id, "reason": "Không tin"}]),
                    "70000",
                ),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["code"], "void_not_excludable", "{body}");
        assert!(
            body["detail"].as_str().unwrap().contains(&lan.receipt(1)),
            "{body}"
        );
        // Approved without the doubtful one: every page then shows the
        // cash the branch took in, not what was excluded or voided.
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{batch}/approve"),
                &sup,
                &approve(
                    json!([{"record_id": doubtful.client_id, "reason": "Người vay không xác nhận"}]),
                    "30000",
                ),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (_, detail) = app.get(&format!("/api/v1/batches/{batch}"), &sup).await;
        assert_eq!(money(&detail["cash_collected"]), 30_000, "{detail}");
        assert_eq!(money(&detail["decision"]["cash_expected"]), 30_000);
        let (_, list) = app.get("/api/v1/batches?status=approved", &sup).await;
        let listed = list
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["batch_id"] == batch.to_string())
            .unwrap();
        assert_eq!(money(&listed["cash_collected"]), 30_000, "{listed}");
        // The phone hears why the voided one did not post, in its own
        // language, and the supervisor's words for the one left out.
        let statuses = lan.snapshot(&app).await.record_statuses;
        let status = |id: Uuid| statuses.iter().find(|r| r.client_id == id).unwrap().clone();
        assert_eq!(
            status(wrong.client_id).message_vi.as_deref(),
            Some("Cán bộ đã hủy bản ghi này: không ghi sổ")
        );
        assert_eq!(
            status(wrong.client_id).message_en.as_deref(),
            Some("the officer voided this record: not posted")
        );
        assert_eq!(
            status(doubtful.client_id).message_vi.as_deref(),
            Some("Giám sát loại khỏi lô khi duyệt: Người vay không xác nhận")
        );
        // Taken again after the borrower confirmed it: the excluded one
        // is no second repayment that day, the approved one is.
        let again = repay(&mut lan, 40_000, 4);
        let (again_batch, outcomes) = lan.upload(&app, vec![again.clone()]).await;
        assert_eq!(outcomes[0].0, UploadOutcome::Accepted, "{outcomes:?}");
        let (_, detail) = app
            .get(&format!("/api/v1/batches/{again_batch}"), &sup)
            .await;
        let said: Vec<&str> = detail["records"][0]["anomalies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["code"] == "several_repayments_one_day")
            .map(|a| a["message_en"].as_str().unwrap())
            .collect();
        assert_eq!(
            said,
            [format!(
                "2 repayments on the same loan in one day; the others: {} (Nguyễn Thị Lan)",
                lan.receipt(2)
            )],
            "{detail}"
        );

        // The same gift handed out from Lan's second phone, synced later:
        // refused, and the supervisor sees to whom and of which campaign,
        // in the batch and on the queue.
        let mut second = Phone::sign_in(&app, "canbo.lan", "officer-pass-1").await;
        let thu = snap
            .workers
            .iter()
            .find(|w| w.full_name == "Đặng Thị Thu")
            .unwrap()
            .id;
        let tet = snap.campaigns[0].clone();
        let give = |p: &mut Phone| {
            p.record(RecordBody::GiftHandout(GiftHandoutPayload {
                campaign_id: tet.id,
                worker_id: thu,
                acknowledged_name: "Đặng Thị Thu".into(),
                signature_sha256: None,
            }))
        };
        let first = give(&mut lan);
        let twice = give(&mut second);
        let visit = second.record(RecordBody::Visit(VisitPayload {
            worker_id: thu,
            purpose: VisitPurpose::GiftDelivery,
            outcome: "Đã trao quà".into(),
            notes: String::new(),
            location: None,
        }));
        let (_, outcomes) = lan.upload(&app, vec![first]).await;
        assert_eq!(outcomes[0].0, UploadOutcome::Accepted);
        let (gift_batch, outcomes) = second.upload(&app, vec![twice.clone(), visit]).await;
        assert_eq!(
            outcomes[0],
            (UploadOutcome::Rejected, Some("already_received".into()))
        );
        let (s, detail) = app
            .get(&format!("/api/v1/batches/{gift_batch}"), &sup)
            .await;
        assert_eq!(s, StatusCode::OK, "{detail}");
        let refused = &detail["refused_at_upload"][0];
        assert_eq!(
            refused["record_id"],
            twice.client_id.to_string(),
            "{detail}"
        );
        assert_eq!(refused["worker_name"], "Đặng Thị Thu", "{detail}");
        assert_eq!(refused["campaign_name"], tet.name, "{detail}");
        let td = app.id_of("branches", "CN-TD").await;
        let since = chrono::Utc::now() - chrono::Duration::days(1);
        let (queue, names) = app
            .db
            .refused_handovers(Some(td), since, 100)
            .await
            .unwrap();
        let gift = queue
            .iter()
            .find(|r| r.record.client_id == twice.client_id)
            .expect("the refused gift is on the queue");
        let shown = sotay_server::review::refused_record(&gift.record, &names);
        assert_eq!(shown.kind, "gift_handout");
        assert_eq!(shown.campaign_name.as_deref(), Some(tet.name.as_str()));

        // The gift Lan handed out (waiting for review) holds her allocation
        // and the branch's up: neither can be cut below it.
        let admin = app.token("admin", "admin-pass-1", &common::device(3)).await;
        for (csv, line, said) in [
            (
                "campaign_code,branch_code,officer_code,quota\nTET-2027,CN-TD,CB-TD-01,0\n",
                2,
                "thấp hơn 1 suất cán bộ \"CB-TD-01\" đã trao",
            ),
            // The branch's quota cannot go below its officers' quotas,
            // which hold the gifts up: the branch's line is named.
            (
                "campaign_code,branch_code,officer_code,quota\nTET-2027,CN-TD,CB-TD-01,1\nTET-2027,CN-TD,,0\n",
                3,
                "vượt chỉ tiêu của chi nhánh (0)",
            ),
        ] {
            let (s, body) = app
                .post_csv("/api/v1/imports/campaign-allocations", &admin, csv)
                .await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            let errors = body["errors"].as_array().unwrap();
            assert!(
                errors.iter().any(|e| e["line"] == line
                    && e["column"] == "quota"
                    && e["message"].as_str().unwrap().contains(said)),
                "{body}"
            );
        }
        let (s, body) = app
            .post_csv(
                "/api/v1/imports/campaign-allocations",
                &admin,
                "campaign_code,branch_code,officer_code,quota\nTET-2027,CN-TD,CB-TD-01,1\n",
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
    }
}

/// A revoked phone's records wait for no review: once its cash and
/// packages are settled on the refused list (a gift voided on that phone
/// needs nothing, a visit is never counted), its officer may be moved.
#[tokio::test]
async fn an_officer_whose_lost_phone_was_settled_may_move_branch() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let (sup, mut lost, snap, l1) = lan_and_her_loan(&app).await;
        let admin = app.token("admin", "admin-pass-1", &common::device(3)).await;
        let thu = snap
            .workers
            .iter()
            .find(|w| w.full_name == "Đặng Thị Thu")
            .unwrap()
            .id;
        app.revoke(&sup, lost.device).await;
        let pay = repayment(&mut lost, &l1, 100_000, 1);
        let visit = lost.record(RecordBody::Visit(VisitPayload {
            worker_id: thu,
            purpose: VisitPurpose::GiftDelivery,
            outcome: "Đã gặp".into(),
            notes: String::new(),
            location: None,
        }));
        let gift = lost.record(RecordBody::GiftHandout(GiftHandoutPayload {
            campaign_id: snap.campaigns[0].id,
            worker_id: thu,
            acknowledged_name: "Đặng Thị Thu".into(),
            signature_sha256: None,
        }));
        let void = lost.record(RecordBody::Void(VoidPayload {
            target_id: gift.client_id,
            reason: "Nhầm người".into(),
        }));
        lost.upload(&app, vec![pay.clone(), visit, gift, void])
            .await;
        let workers = std::fs::read_to_string(common::fixture_dir().join("workers.csv")).unwrap();
        let (s, body) = app
            .post_csv(
                "/api/v1/imports/workers",
                &admin,
                &workers.replace(",CB-TD-01\n", ",CB-TD-02\n"),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let users = std::fs::read_to_string(common::fixture_dir().join("users.csv")).unwrap();
        let moved = users.replace(
            "CB-TD-01,canbo.lan,Nguyễn Thị Lan,officer,CN-TD",
            "CB-TD-01,canbo.lan,Nguyễn Thị Lan,officer,CN-BT",
        );
        let (s, body) = app.post_csv("/api/v1/imports/users", &admin, &moved).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let said = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(
            said.contains("1 khoản thu hay suất quà bị từ chối chưa xử lý")
                && !said.contains("chờ duyệt"),
            "{backend:?}: {body}"
        );
        let (s, body) = app
            .post(
                &format!("/api/v1/records/{}/settle", pay.client_id),
                &sup,
                &json!({"note": "Đã trả lại người vay"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, body) = app.post_csv("/api/v1/imports/users", &admin, &moved).await;
        assert_eq!(s, StatusCode::OK, "{backend:?}: {body}");
    }
}

/// An officer moved to another branch (or role) by an import leaves nothing
/// of the old branch in their hands: not its workers, not records waiting
/// for its supervisor, not refused cash it has not settled. Otherwise the
/// new branch would see and post them.
#[tokio::test]
async fn an_officer_moves_branch_only_with_nothing_of_the_old_one_in_hand() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let (sup, mut lan, snap, l1) = lan_and_her_loan(&app).await;
        let admin = app.token("admin", "admin-pass-1", &common::device(3)).await;
        let pay = repayment(&mut lan, &l1, 100_000, 1);
        let thu = snap
            .workers
            .iter()
            .find(|w| w.full_name == "Đặng Thị Thu")
            .unwrap()
            .id;
        let gift = lan.record(RecordBody::GiftHandout(GiftHandoutPayload {
            campaign_id: snap.campaigns[0].id,
            worker_id: thu,
            acknowledged_name: "Đặng Thị Thu".into(),
            signature_sha256: None,
        }));
        let (batch, _) = lan.upload(&app, vec![pay.clone(), gift]).await;
        // A second batch, rejected: its cash is still in her hands.
        let held = repayment(&mut lan, &l1, 40_000, 2);
        let (rejected, _) = lan.upload(&app, vec![held.clone()]).await;
        reject(&app, &sup, rejected, "Sai khoản vay").await;
        let users = std::fs::read_to_string(common::fixture_dir().join("users.csv")).unwrap();
        let moved = users.replace(
            "CB-TD-01,canbo.lan,Nguyễn Thị Lan,officer,CN-TD",
            "CB-TD-01,canbo.lan,Nguyễn Thị Lan,officer,CN-BT",
        );
        let (s, body) = app.post_csv("/api/v1/imports/users", &admin, &moved).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let said = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(
            said.contains("Cán bộ \"CB-TD-01\" chưa chuyển chi nhánh hay vai trò được")
                && said.contains("2 người lao động được giao")
                && said.contains("2 bản ghi chờ duyệt")
                && said.contains("1 khoản thu hay suất quà bị từ chối chưa xử lý"),
            "{body}"
        );
        assert_eq!(body["errors"][0]["line"], 5, "{body}");
        assert_eq!(body["errors"][0]["column"], "branch_code", "{body}");
        // Made a supervisor instead: the same, said of her role.
        let promoted = users.replace(
            "CB-TD-01,canbo.lan,Nguyễn Thị Lan,officer,CN-TD",
            "CB-TD-01,canbo.lan,Nguyễn Thị Lan,supervisor,CN-TD",
        );
        let (s, body) = app
            .post_csv("/api/v1/imports/users", &admin, &promoted)
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["column"], "role", "{body}");
        // Her workers given to Hùng, her batch decided: she may go.
        let workers = std::fs::read_to_string(common::fixture_dir().join("workers.csv")).unwrap();
        let (s, body) = app
            .post_csv(
                "/api/v1/imports/workers",
                &admin,
                &workers.replace(",CB-TD-01\n", ",CB-TD-02\n"),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{batch}/approve"),
                &sup,
                &json!({"cash_received": "90000"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, body) = app
            .post(
                &format!("/api/v1/records/{}/settle", held.client_id),
                &sup,
                &json!({"note": "Đã trả lại người vay"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        // Counted 10.000 ₫ short: paid back first.
        let (s, body) = app.post_csv("/api/v1/imports/users", &admin, &moved).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let said = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(
            said.contains("khoản thiếu quỹ 10.000 ₫ chưa nộp bù"),
            "{body}"
        );
        let lan_id = app.id_of("users", "CB-TD-01").await;
        let (s, body) = app
            .post(
                &format!("/api/v1/officers/{lan_id}/over-short"),
                &sup,
                &json!({"client_id": Uuid::now_v7(), "amount": "10000", "note": "Nộp bù"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let paid_back = body["entry_id"].clone();
        // No one settles their own account.
        let own = app.id_of("users", "GS-TD").await;
        let (s, body) = app
            .post(
                &format!("/api/v1/officers/{own}/over-short"),
                &sup,
                &json!({"client_id": Uuid::now_v7(), "amount": "10000", "note": "Nộp bù"}),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["code"], "maker_checker", "{body}");
        let (s, body) = app.post_csv("/api/v1/imports/users", &admin, &moved).await;
        assert_eq!(s, StatusCode::OK, "{backend:?}: {body}");
        // A receipt of Thủ Đức's books is reversed there, not from Bình Tân.
        let ask = lan.record(RecordBody::ReversalRequest(ReversalRequestPayload {
            target_id: pay.client_id,
            reason: "Thu nhầm".into(),
        }));
        let (_, outcomes) = lan.upload(&app, vec![ask]).await;
        assert_eq!(
            outcomes,
            vec![(
                UploadOutcome::Rejected,
                Some("reversal_other_branch".to_string())
            )],
            "{backend:?}"
        );
        // Her paying back was recorded by mistake and is reversed after she
        // left: the shortage is back on Thủ Đức's books, where its
        // supervisor settles it (her new branch has nothing of it).
        let (s, body) = app.reversal(&sup, &admin, &paid_back, "Ghi nhầm").await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let td = app.id_of("branches", "CN-TD").await;
        let settle = |branch: Option<i64>| json!({"client_id": Uuid::now_v7(), "amount": "10000", "note": "Nộp bù lần nữa", "branch_id": branch});
        let path = format!("/api/v1/officers/{lan_id}/over-short");
        let (s, _) = app.post(&path, &sup, &settle(None)).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "not in Thủ Đức any more");
        let (s, body) = app.post(&path, &sup, &settle(Some(td))).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(money(&body["balance_after"]), 0);
        // What she collected stays on Thủ Đức's books and in its reports.
        let (s, body) = app
            .get(
                &format!("/api/v1/reports/daily-collections?officer_id={lan_id}"),
                &sup,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert!(
            body["subtitle"]["vi"]
                .as_str()
                .is_some_and(|t| t.contains("Nguyễn Thị Lan")),
            "{body}"
        );
        // Her batches, their records and the refused one stay Thủ Đức's:
        // Bình Tân's supervisor does not see them.
        let bt = app
            .token("giamsat.bt", "super-pass-2", &common::device(2))
            .await;
        for b in [batch, rejected] {
            let (s, _) = app.get(&format!("/api/v1/batches/{b}"), &sup).await;
            assert_eq!(s, StatusCode::OK, "{backend:?}: Thủ Đức keeps {b}");
            let (s, body) = app.get(&format!("/api/v1/batches/{b}"), &bt).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{backend:?}: {body}");
        }
        let listed = |body: &Value| {
            body["batches"]
                .as_array()
                .or(body.as_array())
                .map(|a| {
                    a.iter()
                        .filter(|b| b["officer_name"] == "Nguyễn Thị Lan")
                        .count()
                })
                .unwrap_or_else(|| panic!("a list of batches: {body}"))
        };
        let (_, mine) = app.get("/api/v1/batches?status=all", &sup).await;
        let (_, theirs) = app.get("/api/v1/batches?status=all", &bt).await;
        // (Only the batch of her refused reversal request, sent from Bình
        // Tân, is Bình Tân's.)
        assert_eq!(
            (listed(&mine), listed(&theirs)),
            (2, 1),
            "{backend:?}: {theirs}"
        );
        // Her gift counts in Thủ Đức's campaign progress, her allocation
        // (she keeps it) in Bình Tân's, each under its own branch.
        let her_row = |report: &Value| {
            report["sheets"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["key"] == "by_officer")
                .and_then(|s| {
                    s["rows"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|r| r["officer_code"] == "CB-TD-01")
                        .cloned()
                })
                .unwrap_or_else(|| panic!("her row: {report}"))
        };
        let (_, td_report) = app.get("/api/v1/reports/campaign-progress", &sup).await;
        let row = her_row(&td_report);
        assert_eq!(
            (&row["branch"], &row["handed_out"], &row["allocation"]),
            (&json!("Chi nhánh Thủ Đức"), &json!(1), &Value::Null),
            "{backend:?}: {row}"
        );
        let (_, bt_report) = app.get("/api/v1/reports/campaign-progress", &bt).await;
        let row = her_row(&bt_report);
        assert_eq!(
            (&row["branch"], &row["handed_out"], &row["allocation"]),
            (&json!("Chi nhánh Bình Tân"), &json!(0), &json!(30)),
            "{backend:?}: {row}"
        );
    }
}

/// Cash in a batch the supervisor rejects, or in a record left out at
/// approval, is still in the officer's hands (the worker holds a receipt):
/// it stays on the queue's list until settled, with the supervisor's
/// reason. A repayment voided by a void that stands took no cash and is
/// not listed; one whose void was rejected with it is (the supervisor did
/// not take the officer's word).
#[tokio::test]
async fn cash_rejected_at_review_stays_on_the_queue_until_settled() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let (sup, mut lan, first_snap, l1) = lan_and_her_loan(&app).await;
        let repay = |lan: &mut Phone, amount: i64, n: i64| repayment(lan, &l1, amount, n);
        let void = |lan: &mut Phone, target: Uuid| {
            lan.record(RecordBody::Void(VoidPayload {
                target_id: target,
                reason: "Gõ nhầm".into(),
            }))
        };
        let taken = repay(&mut lan, 120_000, 1);
        let voided = repay(&mut lan, 70_000, 2);
        let voided_void = void(&mut lan, voided.client_id);
        let (rejected_batch, _) = lan
            .upload(&app, vec![taken.clone(), voided.clone(), voided_void])
            .await;
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{rejected_batch}/reject"),
                &sup,
                &json!({"reason": "Thiếu chữ ký người vay"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        // Its page gives the cash its repayments took, which the officer
        // still holds: not the one she voided (its void, rejected with it
        // in the same batch, stands: no cash changed hands).
        let (s, detail) = app
            .get(&format!("/api/v1/batches/{rejected_batch}"), &sup)
            .await;
        assert_eq!(s, StatusCode::OK, "{detail}");
        assert_eq!(
            money(&detail["cash_collected"]),
            120_000,
            "{backend:?}: {detail}"
        );
        assert_eq!(money(&detail["cash_held"]), 120_000, "{detail}");
        let left_out = repay(&mut lan, 80_000, 3);
        let kept = repay(&mut lan, 50_000, 4);
        let mistyped = repay(&mut lan, 999_000, 5);
        let mistyped_void = void(&mut lan, mistyped.client_id);
        let (approved_batch, _) = lan
            .upload(
                &app,
                vec![
                    left_out.clone(),
                    kept.clone(),
                    mistyped.clone(),
                    mistyped_void,
                ],
            )
            .await;
        // A record the officer voided needs no exclusion (its void says why).
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{approved_batch}/approve"),
                &sup,
                &json!({"cash_received": "50000",
                        "excluded": [{"record_id": mistyped.client_id, "reason": "thử"}]}),
            )
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("voided_not_excludable")
            ),
            "{body}"
        );
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{approved_batch}/approve"),
                &sup,
                &json!({"cash_received": "50000",
                        "excluded": [{"record_id": left_out.client_id, "reason": "Người vay không xác nhận"}]}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");

        let td = app.id_of("branches", "CN-TD").await;
        let since = chrono::Utc::now() - chrono::Duration::days(1);
        let listed = |app: &TestApp| {
            let db = app.db.clone();
            async move {
                let (rows, _) = db.refused_handovers(Some(td), since, 100).await.unwrap();
                rows.into_iter()
                    .map(|r| {
                        (
                            r.record.client_id,
                            r.record.code.unwrap_or_default(),
                            r.record.message_vi.unwrap_or_default(),
                        )
                    })
                    .collect::<Vec<_>>()
            }
        };
        let rows = listed(&app).await;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
        assert_eq!(ids.len(), 2, "{backend:?}: {rows:?}");
        for held in [&taken, &left_out] {
            assert!(ids.contains(&held.client_id), "{rows:?}");
        }
        let rejected = rows.iter().find(|r| r.0 == taken.client_id).unwrap();
        assert_eq!(rejected.1, "batch_rejected");
        assert!(
            rejected.2.ends_with("Thiếu chữ ký người vay"),
            "{rejected:?}"
        );
        let excluded = rows.iter().find(|r| r.0 == left_out.client_id).unwrap();
        assert_eq!(excluded.1, "excluded");

        // The officer gave the money back: settled, it leaves the list;
        // what was approved, or voided, cannot be settled.
        let settle = |id: Uuid| format!("/api/v1/records/{id}/settle");
        let (s, body) = app
            .post(
                &settle(taken.client_id),
                &sup,
                &json!({"note": "Đã trả lại người vay"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        // Its batch page says how, and holds its cash no more.
        let (_, detail) = app
            .get(&format!("/api/v1/batches/{rejected_batch}"), &sup)
            .await;
        assert_eq!(money(&detail["cash_held"]), 0, "{backend:?}: {detail}");
        let record = detail["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["record_id"] == taken.client_id.to_string())
            .expect("the settled record");
        assert_eq!(
            record["settled"]["note"], "Đã trả lại người vay",
            "{record}"
        );
        let (_, detail) = app
            .get(&format!("/api/v1/batches/{approved_batch}"), &sup)
            .await;
        assert_eq!(money(&detail["cash_held"]), 80_000, "{backend:?}: {detail}");
        for not_held in [kept.client_id, mistyped.client_id, voided.client_id] {
            let (s, body) = app
                .post(&settle(not_held), &sup, &json!({"note": "x"}))
                .await;
            assert_eq!(
                (s, body["code"].as_str()),
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some("not_refused_handover")
                ),
                "{body}"
            );
        }
        let rows = listed(&app).await;
        let left: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
        assert_eq!(left, [left_out.client_id], "{backend:?}: {rows:?}");

        // The borrower brings the 80.000 ₫ left out to the counter: taken
        // there, the officer's record is settled with the counter's receipt.
        let l1_id = app.id_of("loans", "L-001").await;
        let counter = |settles: Uuid| json!({"client_id": Uuid::now_v7(), "amount": "80000", "note": "Người vay nộp lại", "settles_record": settles});
        // Not a repayment on this loan: refused, nothing taken.
        let (s, body) = app
            .post(
                &format!("/api/v1/loans/{l1_id}/repayments"),
                &sup,
                &counter(Uuid::now_v7()),
            )
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("settles_another_loan")
            ),
            "{body}"
        );
        // Settled already: refused, nothing taken either.
        let (s, body) = app
            .post(
                &format!("/api/v1/loans/{l1_id}/repayments"),
                &sup,
                &counter(taken.client_id),
            )
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("already_settled")),
            "{body}"
        );
        // Another amount is not that cash.
        let (s, body) = app
            .post(
                &format!("/api/v1/loans/{l1_id}/repayments"),
                &sup,
                &json!({"client_id": Uuid::now_v7(), "amount": "1000", "settles_record": left_out.client_id}),
            )
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("settles_other_cash")),
            "{body}"
        );
        let taking = counter(left_out.client_id);
        let (s, receipt) = app
            .post(&format!("/api/v1/loans/{l1_id}/repayments"), &sup, &taking)
            .await;
        assert_eq!(s, StatusCode::OK, "{receipt}");
        // Sent again: the same receipt, nothing taken twice.
        let (s, again) = app
            .post(&format!("/api/v1/loans/{l1_id}/repayments"), &sup, &taking)
            .await;
        assert_eq!(
            (s, &again["id"]),
            (StatusCode::OK, &receipt["id"]),
            "{again}"
        );
        let rows = listed(&app).await;
        assert!(rows.is_empty(), "{backend:?}: {rows:?}");
        // Lan's phone hears it, with the counter's receipt.
        let page = lan.changes(&app, &first_snap.next).await;
        let note = page
            .record_statuses
            .iter()
            .find(|st| st.client_id == left_out.client_id)
            .and_then(|st| st.settled_note.clone())
            .unwrap_or_default();
        assert!(
            note.contains(receipt["receipt_no"].as_str().unwrap()),
            "{backend:?}: {note}"
        );
        assert_eq!(app.db.audit_count("counter.repayment").await.unwrap(), 1);
    }
}

/// A shortage counted at approval is paid back into the vault at the
/// branch, in parts, never more than is owed, by the officer's branch only;
/// the officer's phone hears the balance left.
#[tokio::test]
async fn an_officers_shortage_is_paid_back_into_the_vault() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let (sup, mut lan, snap, l1) = lan_and_her_loan(&app).await;
        assert_eq!(snap.officer.cash_short, Some(Dong(0)), "{backend:?}");
        let pay = repayment(&mut lan, &l1, 100_000, 1);
        let (batch, _) = lan.upload(&app, vec![pay]).await;
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{batch}/approve"),
                &sup,
                &json!({"cash_received": "90000"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let before = ledger(&app, &sup).await;
        let lan_id = app.id_of("users", "CB-TD-01").await;
        let path = format!("/api/v1/officers/{lan_id}/over-short");
        let ask = |amount: &str, id: Uuid| json!({"client_id": id, "amount": amount, "note": "Nộp bù tiền thiếu"});

        let (s, body) = app.post(&path, &sup, &ask("15000", Uuid::now_v7())).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("above_over_short")),
            "{body}"
        );
        assert!(
            body["detail"].as_str().unwrap().contains("10.000 ₫"),
            "{body}"
        );
        let part = Uuid::now_v7();
        let (s, first) = app.post(&path, &sup, &ask("4000", part)).await;
        assert_eq!(s, StatusCode::OK, "{first}");
        assert_eq!(first["direction"], "paid_in");
        assert_eq!(money(&first["balance_after"]), 6_000);
        // Sent again: the same settlement; the same id for another amount: refused.
        let (s, again) = app.post(&path, &sup, &ask("4000", part)).await;
        assert_eq!((s, &again["id"]), (StatusCode::OK, &first["id"]), "{again}");
        let (s, body) = app.post(&path, &sup, &ask("5000", part)).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("over_short_conflict")),
            "{body}"
        );
        // Another branch's supervisor does not reach her; an officer may not post.
        let other = app
            .token("giamsat.bt", "super-pass-2", &common::device(2))
            .await;
        let (s, _) = app.post(&path, &other, &ask("1000", Uuid::now_v7())).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        // Not even by naming their own branch: she never had an account there,
        // and her name is not said.
        let bt = app.id_of("branches", "CN-BT").await;
        let mut at_bt = ask("1000", Uuid::now_v7());
        at_bt["branch_id"] = json!(bt);
        let (s, body) = app.post(&path, &other, &at_bt).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
        // Nor does her settlement's id bring it back to another branch.
        let mut replay = ask("4000", part);
        replay["branch_id"] = json!(bt);
        let (s, body) = app.post(&path, &other, &replay).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
        let (s, _) = app
            .post(&path, &lan.token, &ask("1000", Uuid::now_v7()))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // Her phone hears what is left.
        let page = lan.changes(&app, &snap.next).await;
        assert_eq!(
            page.officer.unwrap().cash_short,
            Some(Dong(6_000)),
            "{backend:?}"
        );

        let (s, rest) = app.post(&path, &sup, &ask("6000", Uuid::now_v7())).await;
        assert_eq!(s, StatusCode::OK, "{rest}");
        assert_eq!(money(&rest["balance_after"]), 0);
        let (s, body) = app.post(&path, &sup, &ask("1000", Uuid::now_v7())).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("nothing_over_short")),
            "{body}"
        );
        let after = ledger(&app, &sup).await;
        assert_eq!(net(&after, "vault") - net(&before, "vault"), 10_000);
        assert_eq!(net(&after, "cash_over_short"), 0);
        assert!(app.db.ledger_balance_drift().await.unwrap().is_empty());
        assert_eq!(app.db.audit_count("over_short.settle").await.unwrap(), 2);
    }
}

/// An amount typed wrong and put right from the phone: the officer asks to
/// reverse the receipt already handed over and records the right amount.
/// She hands over only the difference (the first amount is in the vault
/// already); the books come out exact, with no false shortage. A batch of
/// a reversal alone leaves the branch owing her the amount (an overage on
/// her over/short account), paid out to her to give back to the borrower.
#[tokio::test]
async fn a_correction_from_the_phone_nets_against_the_cash_handed_over() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let (sup, mut lan, _, l1) = lan_and_her_loan(&app).await;
        let l1_id = app.id_of("loans", "L-001").await;
        let (_, before, _) = book(&app, &sup, l1_id).await;
        let start = ledger(&app, &sup).await;
        let typo = repayment(&mut lan, &l1, 150_000, 1);
        let (first, _) = lan.upload(&app, vec![typo.clone()]).await;
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{first}/approve"),
                &sup,
                &json!({"cash_received": "150000"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");

        let undo = lan.record(RecordBody::ReversalRequest(ReversalRequestPayload {
            target_id: typo.client_id,
            reason: "Gõ nhầm 150.000, đúng là 1.500.000".into(),
        }));
        let right = repayment(&mut lan, &l1, 1_500_000, 2);
        let (second, outcomes) = lan.upload(&app, vec![undo, right]).await;
        assert!(
            outcomes.iter().all(|o| o.0 == UploadOutcome::Accepted),
            "{outcomes:?}"
        );
        let (s, detail) = app.get(&format!("/api/v1/batches/{second}"), &sup).await;
        assert_eq!(s, StatusCode::OK, "{detail}");
        assert_eq!(
            money(&detail["cash_collected"]),
            1_350_000,
            "{backend:?}: {detail}"
        );
        assert_eq!(money(&detail["cash_taken_back"]), 150_000, "{detail}");
        let undo_row = detail["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["kind"] == "reversal_request")
            .unwrap();
        assert_eq!(undo_row["loan_code"], "L-001", "{undo_row}");
        assert!(undo_row["worker_name"].is_string(), "{undo_row}");
        // Its worker is the receipt's, so the batch page links to them.
        assert!(undo_row["worker_id"].is_i64(), "{undo_row}");
        let (s, outcome) = app
            .post(
                &format!("/api/v1/batches/{second}/approve"),
                &sup,
                &json!({"cash_received": "1350000"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{outcome}");
        assert_eq!(
            (
                money(&outcome["cash_expected"]),
                money(&outcome["discrepancy"])
            ),
            (1_350_000, 0),
            "{backend:?}: {outcome}"
        );
        let end = ledger(&app, &sup).await;
        assert_eq!(
            net(&end, "vault") - net(&start, "vault"),
            1_500_000,
            "{backend:?}"
        );
        assert_eq!(
            net(&end, "cash_over_short"),
            0,
            "{backend:?}: no false shortage"
        );
        assert_eq!(net(&end, "cash_in_hand"), 0, "{backend:?}");
        let (_, after, _) = book(&app, &sup, l1_id).await;
        assert_eq!(after, before - 1_500_000);

        // A reversal alone: the branch owes her the amount; nothing leaves
        // the vault until it is paid out to her.
        let again = repayment(&mut lan, &l1, 100_000, 3);
        let (third, _) = lan.upload(&app, vec![again.clone()]).await;
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{third}/approve"),
                &sup,
                &json!({"cash_received": "100000"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let alone = lan.record(RecordBody::ReversalRequest(ReversalRequestPayload {
            target_id: again.client_id,
            reason: "Người vay trả nhầm".into(),
        }));
        let (fourth, _) = lan.upload(&app, vec![alone]).await;
        let (_, detail) = app.get(&format!("/api/v1/batches/{fourth}"), &sup).await;
        assert_eq!(money(&detail["cash_collected"]), -100_000, "{detail}");
        assert_eq!(money(&detail["cash_taken_back"]), 100_000, "{detail}");
        let (s, outcome) = app
            .post(
                &format!("/api/v1/batches/{fourth}/approve"),
                &sup,
                &json!({"cash_received": "0"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{outcome}");
        assert_eq!(money(&outcome["discrepancy"]), 100_000, "{outcome}");
        let last = ledger(&app, &sup).await;
        assert_eq!(
            net(&last, "vault") - net(&end, "vault"),
            100_000,
            "{backend:?}"
        );
        assert_eq!(net(&last, "cash_over_short"), -100_000);
        assert_eq!(net(&last, "cash_in_hand"), 0);
        let lan_id = app.id_of("users", "CB-TD-01").await;
        let (s, paid) = app
            .post(
                &format!("/api/v1/officers/{lan_id}/over-short"),
                &sup,
                &json!({"client_id": Uuid::now_v7(), "amount": "100000", "note": "Trả lại người vay"}),
            )
            .await;
        assert_eq!(
            (s, paid["direction"].as_str()),
            (StatusCode::OK, Some("paid_out")),
            "{paid}"
        );
        let paid_out = ledger(&app, &sup).await;
        assert_eq!(net(&paid_out, "vault") - net(&end, "vault"), 0);
        assert_eq!(net(&paid_out, "cash_over_short"), 0);
        assert!(app.db.ledger_balance_drift().await.unwrap().is_empty());

        // Typed too high: 1.500.000 on the receipt, 150.000 taken and
        // counted (a shortage of 1.350.000 booked). Reversed and entered
        // again as 150.000, the batch asks nothing more and the shortage is
        // cancelled; the vault book stays what the vault holds.
        let start = ledger(&app, &sup).await;
        let high = repayment(&mut lan, &l1, 1_500_000, 4);
        let (fifth, _) = lan.upload(&app, vec![high.clone()]).await;
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{fifth}/approve"),
                &sup,
                &json!({"cash_received": "150000"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let undo = lan.record(RecordBody::ReversalRequest(ReversalRequestPayload {
            target_id: high.client_id,
            reason: "Gõ thừa một chữ số".into(),
        }));
        let low = repayment(&mut lan, &l1, 150_000, 5);
        let (sixth, _) = lan.upload(&app, vec![undo, low]).await;
        let (_, detail) = app.get(&format!("/api/v1/batches/{sixth}"), &sup).await;
        assert_eq!(money(&detail["cash_collected"]), -1_350_000, "{detail}");
        let (s, outcome) = app
            .post(
                &format!("/api/v1/batches/{sixth}/approve"),
                &sup,
                &json!({"cash_received": "0"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{outcome}");
        let fixed = ledger(&app, &sup).await;
        assert_eq!(
            net(&fixed, "vault") - net(&start, "vault"),
            150_000,
            "{backend:?}"
        );
        assert_eq!(
            net(&fixed, "cash_over_short"),
            0,
            "{backend:?}: the false shortage is gone"
        );
        assert_eq!(net(&fixed, "cash_in_hand"), 0);
        let (_, balance, _) = book(&app, &sup, l1_id).await;
        assert_eq!(balance, after - 100_000 + 100_000 - 150_000);
        assert!(app.db.ledger_balance_drift().await.unwrap().is_empty());

        // The last payment typed 100.000 short: reversed and entered again in
        // one upload, the right amount is more than the loan owes now but
        // exactly what it will owe; accepted, and the loan is paid off.
        let short = repayment(&mut lan, &l1, balance - 100_000, 6);
        let (seventh, _) = lan.upload(&app, vec![short.clone()]).await;
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{seventh}/approve"),
                &sup,
                &json!({"cash_received": (balance - 100_000).to_string()}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let undo = lan.record(RecordBody::ReversalRequest(ReversalRequestPayload {
            target_id: short.client_id,
            reason: "Gõ thiếu 100.000".into(),
        }));
        let whole = repayment(&mut lan, &l1, balance, 7);
        let (eighth, outcomes) = lan.upload(&app, vec![undo, whole]).await;
        assert!(
            outcomes.iter().all(|o| o.0 == UploadOutcome::Accepted),
            "{backend:?}: {outcomes:?}"
        );
        let (s, outcome) = app
            .post(
                &format!("/api/v1/batches/{eighth}/approve"),
                &sup,
                &json!({"cash_received": "100000"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{outcome}");
        assert_eq!(money(&outcome["discrepancy"]), 0, "{outcome}");
        let (_, balance, status) = book(&app, &sup, l1_id).await;
        assert_eq!((balance, status.as_str()), (0, "\"closed\""), "{backend:?}");
        assert!(app.db.ledger_balance_drift().await.unwrap().is_empty());
    }
}

/// A reversal request synced before the right amount is entered again (two
/// syncs): the re-entry may take what the wrong receipt took, as when both
/// come in one upload; approving the re-entry's batch first names the batch
/// to approve before it. A void of the request takes that back.
#[tokio::test]
async fn a_correction_synced_before_its_re_entry_gives_the_loan_back() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let (sup, mut lan, _, l1) = lan_and_her_loan(&app).await;
        let l1_id = app.id_of("loans", "L-001").await;
        let (_, balance, _) = book(&app, &sup, l1_id).await;
        let start = ledger(&app, &sup).await;
        // The last payment typed 100.000 short, approved.
        let short = repayment(&mut lan, &l1, balance - 100_000, 1);
        let (first, _) = lan.upload(&app, vec![short.clone()]).await;
        let (s, body) = approve(&app, &sup, first, balance - 100_000).await;
        assert_eq!(s, StatusCode::OK, "{body}");

        // The branch asked to reverse it first: her request is refused
        // while that one waits; the asker withdraws hers.
        let (_, entries) = app
            .get(&format!("/api/v1/ledger/entries?loan_id={l1_id}"), &sup)
            .await;
        let posted = entries
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == "repayment")
            .unwrap_or_else(|| panic!("{entries}"))["id"]
            .clone();
        let (s, branch) = app
            .post(
                "/api/v1/reversals",
                &sup,
                &json!({"entry_id": posted, "reason": "Thu nhầm"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{branch}");
        let early = reversal_request(&mut lan, &short, "Gõ thiếu 100.000");
        let (_, outcomes) = lan.upload(&app, vec![early]).await;
        assert_eq!(
            outcomes[0].1.as_deref(),
            Some("reversal_pending"),
            "{backend:?}: {outcomes:?}"
        );
        let (s, body) = app
            .post(
                &format!("/api/v1/reversals/{}/reject", branch["id"]),
                &sup,
                &json!({"reason": "Cán bộ tự đề nghị đảo"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "the asker withdraws it: {body}");

        // Its reversal requested in one sync, then voided along with a
        // re-entry in the next: the re-entry is above what the loan owes.
        let undo = reversal_request(&mut lan, &short, "Gõ thiếu 100.000");
        let (_, outcomes) = lan.upload(&app, vec![undo.clone()]).await;
        assert_eq!(outcomes[0].0, UploadOutcome::Accepted, "{outcomes:?}");
        let unasked = lan.record(RecordBody::Void(VoidPayload {
            target_id: undo.client_id,
            reason: "Chưa cần đảo".into(),
        }));
        let early = repayment(&mut lan, &l1, balance, 2);
        let (_, outcomes) = lan.upload(&app, vec![unasked, early]).await;
        assert_eq!(outcomes[0].0, UploadOutcome::Accepted, "{outcomes:?}");
        assert_eq!(
            (outcomes[1].0, outcomes[1].1.as_deref()),
            (UploadOutcome::Rejected, Some("amount_above_outstanding")),
            "{backend:?}: {outcomes:?}"
        );

        // Asked again in one sync, the whole amount entered in the next.
        let undo = reversal_request(&mut lan, &short, "Gõ thiếu 100.000");
        let (asked, _) = lan.upload(&app, vec![undo]).await;
        // While her request waits, the receipt is not reversed at the
        // branch as well (twice reversed, her batch stuck).
        let (s, body) = app
            .post(
                "/api/v1/reversals",
                &sup,
                &json!({"entry_id": posted, "reason": "Thu nhầm"}),
            )
            .await;
        let tail = &asked.simple().to_string()[26..];
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("reversal_pending")),
            "{backend:?}: {body}"
        );
        assert!(body.to_string().contains(tail), "{body}");
        let whole = repayment(&mut lan, &l1, balance, 3);
        let (reentered, outcomes) = lan.upload(&app, vec![whole]).await;
        assert_eq!(
            outcomes[0].0,
            UploadOutcome::Accepted,
            "{backend:?}: {outcomes:?}"
        );

        // Approved first, the re-entry is more than the loan owes: the
        // refusal names the batch with the request.
        let (s, refused) = approve(&app, &sup, reentered, 100_000).await;
        assert_eq!(s, StatusCode::CONFLICT, "{refused}");
        let said = refused.to_string();
        assert!(
            said.contains(&format!("mã …{tail}")) && said.contains(&lan.receipt(1)),
            "{backend:?}: {refused}"
        );

        let (s, body) = approve(&app, &sup, asked, 0).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, body) = approve(&app, &sup, reentered, 100_000).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (_, left, status) = book(&app, &sup, l1_id).await;
        assert_eq!((left, status.as_str()), (0, "\"closed\""), "{backend:?}");
        let end = ledger(&app, &sup).await;
        assert_eq!(net(&end, "vault") - net(&start, "vault"), balance);
        cash_accounts_even(&app, &sup).await;
    }
}

/// The same with a receipt still waiting for review when its reversal is
/// asked: the re-entry is judged as if that receipt were not there, and the
/// receipt can no longer be voided.
#[tokio::test]
async fn a_correction_of_a_receipt_waiting_for_review_gives_the_loan_back() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let (sup, mut lan, _, l1) = lan_and_her_loan(&app).await;
        let (l1_id, balance, short, typed, asked) =
            short_and_its_request(&app, &sup, &mut lan, &l1).await;
        // The receipt's batch says its reversal is asked for.
        let detail = batch_page(&app, &sup, typed).await;
        let tail = &asked.simple().to_string()[26..];
        assert!(
            detail["records"][0]["anomalies"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["code"] == "reversal_requested"
                    && a["message_vi"].as_str().unwrap().contains(tail)),
            "{backend:?}: {detail}"
        );
        // And the request's batch that its original waits in that one.
        let detail = batch_page(&app, &sup, asked).await;
        let tail = &typed.simple().to_string()[26..];
        let request = detail["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["kind"] == "reversal_request")
            .expect("the request");
        assert!(
            request["anomalies"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["code"] == "original_waiting"
                    && a["message_vi"].as_str().unwrap().contains(tail)),
            "{backend:?}: {detail}"
        );
        let whole = repayment(&mut lan, &l1, balance, 2);
        let (reentered, outcomes) = lan.upload(&app, vec![whole]).await;
        assert_eq!(
            outcomes[0],
            (UploadOutcome::Accepted, None),
            "{backend:?}: {outcomes:?}"
        );
        let void = lan.record(RecordBody::Void(VoidPayload {
            target_id: short.client_id,
            reason: "Gõ nhầm".into(),
        }));
        let (_, outcomes) = lan.upload(&app, vec![void]).await;
        assert_eq!(
            outcomes[0].1.as_deref(),
            Some("void_reversal_requested"),
            "{backend:?}: {outcomes:?}"
        );
        for (batch, cash) in [(typed, balance - 100_000), (asked, 0), (reentered, 100_000)] {
            let (s, body) = approve(&app, &sup, batch, cash).await;
            assert_eq!(s, StatusCode::OK, "{backend:?}: {body}");
        }
        let (_, left, status) = book(&app, &sup, l1_id).await;
        assert_eq!((left, status.as_str()), (0, "\"closed\""), "{backend:?}");
        cash_accounts_even(&app, &sup).await;
    }
}

/// A repayment of a rejected batch entered again: the new receipt is
/// flagged while the refused one's cash still counts as held, so it is not
/// taken a second time at the counter; settled, the flag goes.
#[tokio::test]
async fn a_repayment_entered_again_after_its_batch_was_rejected_is_flagged() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let (sup, mut lan, _, l1) = lan_and_her_loan(&app).await;
        let l1_id = app.id_of("loans", "L-001").await;
        // Last week's installment, of the same amount, approved.
        let earlier = repayment(&mut lan, &l1, 300_000, 10);
        let (last_week, _) = lan.upload(&app, vec![earlier]).await;
        let (s, body) = approve(&app, &sup, last_week, 300_000).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let first = repayment(&mut lan, &l1, 300_000, 1);
        let (rejected, _) = lan.upload(&app, vec![first.clone()]).await;
        reject(&app, &sup, rejected, "Thiếu tiền khi đếm").await;
        let other = repayment(&mut lan, &l1, 200_000, 2);
        let again = repayment(&mut lan, &l1, 300_000, 3);
        let (batch, _) = lan.upload(&app, vec![other, again]).await;
        let detail = batch_page(&app, &sup, batch).await;
        let flagged = anomaly_codes(&detail);
        assert!(
            !flagged[0]
                .iter()
                .any(|c| c == "refused_receipt_same_amount")
                && flagged[1]
                    .iter()
                    .any(|c| c == "refused_receipt_same_amount"),
            "{backend:?}: {detail}"
        );
        assert!(detail.to_string().contains(&lan.receipt(1)), "{detail}");
        // At the counter, the refused receipt's cash points at the receipt
        // recorded after it, not at last week's.
        let again_found: Vec<Option<String>> = app
            .db
            .officer_receipts_of(l1_id, 300_000, first.client_id)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.receipt_no)
            .collect();
        assert_eq!(again_found, vec![Some(lan.receipt(3))], "{backend:?}");
        let (s, body) = settle(
            &app,
            &sup,
            &first,
            json!({"note": "Đã ghi lại bằng phiếu mới"}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let detail = batch_page(&app, &sup, batch).await;
        assert!(
            anomaly_codes(&detail)
                .iter()
                .flatten()
                .all(|c| c != "refused_receipt_same_amount"),
            "{backend:?}: {detail}"
        );

        // Refused at upload (the server keeps no loan or amount of its
        // own for it), then entered again: flagged too.
        let wrong = lan.record(RecordBody::Repayment(RepaymentPayload {
            loan_id: l1.id,
            worker_id: l1.worker_id,
            amount: Dong(120_000),
            receipt_no: "ZZZZ-000001".into(),
        }));
        let wrong_id = wrong.client_id;
        let (_, outcomes) = lan.upload(&app, vec![wrong]).await;
        assert_eq!(
            outcomes[0].1.as_deref(),
            Some("receipt_invalid"),
            "{outcomes:?}"
        );
        let right = repayment(&mut lan, &l1, 120_000, 4);
        let (batch, _) = lan.upload(&app, vec![right]).await;
        let detail = batch_page(&app, &sup, batch).await;
        assert!(
            anomaly_codes(&detail)[0]
                .iter()
                .any(|c| c == "refused_receipt_same_amount")
                && detail.to_string().contains("ZZZZ-000001"),
            "{backend:?}: {detail}"
        );
        // Its cash taken at the counter meanwhile: the batch says the
        // re-entry would take it twice.
        let (s, body) = app
            .post(
                &format!("/api/v1/loans/{l1_id}/repayments"),
                &sup,
                &json!({"client_id": Uuid::now_v7(), "amount": "120000", "note": "",
                        "settles_record": wrong_id}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let detail = batch_page(&app, &sup, batch).await;
        assert_eq!(
            anomaly_codes(&detail)[0]
                .iter()
                .filter(|c| c.starts_with("refused_receipt"))
                .collect::<Vec<_>>(),
            vec!["refused_receipt_taken_at_counter"],
            "{backend:?}: {detail}"
        );
        // Its cash is in the vault: a counter note naming it is refused,
        // though the server kept no loan of its own for it.
        let (s, body) = app
            .post(
                &format!("/api/v1/loans/{l1_id}/repayments"),
                &sup,
                &json!({"client_id": Uuid::now_v7(), "amount": "120000",
                        "note": "Thu thay phiếu ZZZZ-000001"}),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{backend:?}: {body}");
        assert_eq!(body["code"], "refused_in_vault_already", "{body}");
    }
}

/// A refused repayment entered again, approved as such: the refused one
/// is marked settled with the approval (its cash came with the batch), so
/// it is neither cash the officer holds nor taken again at the counter.
#[tokio::test]
async fn approving_a_payment_entered_again_settles_the_refused_receipt() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let (sup, mut lan, _, l1) = lan_and_her_loan(&app).await;
        let l1_id = app.id_of("loans", "L-001").await;
        let first = repayment(&mut lan, &l1, 300_000, 1);
        let (rejected, _) = lan.upload(&app, vec![first.clone()]).await;
        reject(&app, &sup, rejected, "Thiếu tiền khi đếm").await;
        let other = repayment(&mut lan, &l1, 200_000, 2);
        let again = repayment(&mut lan, &l1, 300_000, 3);
        let (batch, _) = lan.upload(&app, vec![other.clone(), again.clone()]).await;
        // The flag names the refused receipt.
        let detail = batch_page(&app, &sup, batch).await;
        let flag = detail["records"][1]["anomalies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["code"] == "refused_receipt_same_amount")
            .cloned()
            .unwrap_or_else(|| panic!("{detail}"));
        assert_eq!(flag["refused_record"], json!(first.client_id), "{flag}");
        assert_eq!(flag["refused_receipt"], json!(lan.receipt(1)), "{flag}");
        let approve_with = |batch: Uuid, cash: i64, pairs: Value, excluded: Value| {
            let app = &app;
            let sup = sup.clone();
            async move {
                app.post(
                    &format!("/api/v1/batches/{batch}/approve"),
                    &sup,
                    &json!({"cash_received": cash.to_string(), "entered_again": pairs, "excluded": excluded}),
                )
                .await
            }
        };
        // Not with a receipt of another loan or amount, nor one not in the
        // batch: nothing is approved.
        let (s, body) = approve_with(
            batch,
            500_000,
            json!([{"record_id": other.client_id, "refused_record_id": first.client_id}]),
            json!([]),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["code"], "not_entered_again", "{body}");
        let (s, body) = approve_with(
            batch,
            500_000,
            json!([{"record_id": first.client_id, "refused_record_id": again.client_id}]),
            json!([]),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["code"], "entered_again_not_in_batch", "{body}");
        let settled = app
            .text("SELECT CAST(COUNT(*) AS TEXT) FROM refused_settlements")
            .await;
        assert_eq!(settled, "0", "{backend:?}");

        let (s, body) = approve_with(
            batch,
            500_000,
            json!([{"record_id": again.client_id, "refused_record_id": first.client_id}]),
            json!([]),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(
            body["entered_again_settled"],
            json!([lan.receipt(1)]),
            "{body}"
        );
        let note = app.text("SELECT note FROM refused_settlements").await;
        assert_eq!(note, format!("Đã ghi lại bằng phiếu {}", lan.receipt(3)));
        // Its cash is not taken again at the counter.
        let (s, body) = app
            .post(
                &format!("/api/v1/loans/{l1_id}/repayments"),
                &sup,
                &json!({"client_id": Uuid::now_v7(), "amount": "300000", "note": "",
                        "settles_record": first.client_id}),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["code"], "already_settled", "{body}");
        // Nor by a note naming it, as a cashier writes it.
        let (s, body) = app
            .post(
                &format!("/api/v1/loans/{l1_id}/repayments"),
                &sup,
                &json!({"client_id": Uuid::now_v7(), "amount": "300000",
                        "note": format!("Thu thay phiếu {} của cán bộ", lan.receipt(1).to_lowercase())}),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["code"], "refused_in_vault_already", "{body}");

        // A refused receipt settled in the meantime is not settled again by
        // an approval that names it: nothing posts, the supervisor looks again.
        let fourth = repayment(&mut lan, &l1, 150_000, 4);
        let (rejected, _) = lan.upload(&app, vec![fourth.clone()]).await;
        reject(&app, &sup, rejected, "Đếm lại").await;
        let fifth = repayment(&mut lan, &l1, 150_000, 5);
        let (batch, _) = lan.upload(&app, vec![fifth.clone()]).await;
        let (s, body) = settle(&app, &sup, &fourth, json!({"note": "Đã trả lại người vay"})).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{batch}/approve"),
                &sup,
                &json!({"cash_received": "150000",
                        "entered_again": [{"record_id": fifth.client_id, "refused_record_id": fourth.client_id}]}),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["code"], "entered_again_changed", "{body}");
        let (s, body) = approve(&app, &sup, batch, 150_000).await;
        assert_eq!(s, StatusCode::OK, "{body}");

        // Entered again and left out (the officer did not hand its cash
        // over): the re-entry is settled as the same cash, which counts
        // once, as the refused one's, held by the officer.
        let sixth = repayment(&mut lan, &l1, 110_000, 6);
        let (rejected, _) = lan.upload(&app, vec![sixth.clone()]).await;
        reject(&app, &sup, rejected, "Đếm lại").await;
        let seventh = repayment(&mut lan, &l1, 110_000, 7);
        let (batch, _) = lan.upload(&app, vec![seventh.clone()]).await;
        let (s, body) = approve_with(
            batch,
            0,
            json!([{"record_id": seventh.client_id, "refused_record_id": sixth.client_id}]),
            json!([{"record_id": seventh.client_id, "reason": "Chưa nộp tiền"}]),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(
            body["entered_again_settled"],
            json!([lan.receipt(7)]),
            "{body}"
        );
        let note = settlement_note(&app, &lan.receipt(7)).await;
        assert_eq!(note, format!("Trùng phiếu {}", lan.receipt(6)));
        // Its number in a counter note is said to be the original's cash.
        let (s, body) = app
            .post(
                &format!("/api/v1/loans/{l1_id}/repayments"),
                &sup,
                &json!({"client_id": Uuid::now_v7(), "amount": "110000",
                        "note": format!("Thu thay phiếu {}", lan.receipt(7))}),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["code"], "names_entered_again", "{body}");

        // A refused receipt whose cash the counter took, and a receipt of
        // the same loan and amount kept in a batch: approved only when the
        // reviewer says the borrower paid once more, as the console asks.
        let eighth = repayment(&mut lan, &l1, 90_000, 8);
        let (rejected, _) = lan.upload(&app, vec![eighth.clone()]).await;
        reject(&app, &sup, rejected, "Đếm lại").await;
        let (s, body) = app
            .post(
                &format!("/api/v1/loans/{l1_id}/repayments"),
                &sup,
                &json!({"client_id": Uuid::now_v7(), "amount": "90000",
                        "note": format!("Thu thay phiếu {}", lan.receipt(8))}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let ninth = repayment(&mut lan, &l1, 90_000, 9);
        let (batch, _) = lan.upload(&app, vec![ninth.clone()]).await;
        let (s, body) = approve(&app, &sup, batch, 90_000).await;
        assert_eq!(s, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["code"], "entered_again_unconfirmed", "{body}");
        assert!(
            body["detail"].as_str().unwrap().contains(&lan.receipt(8)),
            "{body}"
        );
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{batch}/approve"),
                &sup,
                &json!({"cash_received": "90000", "paid_again": [ninth.client_id]}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        cash_accounts_even(&app, &sup).await;
    }
}

/// A record's amount or receipt number changed in the database behind
/// the server's back (what a review and a posting read), or its body, is
/// found by the check.
#[tokio::test]
async fn a_record_altered_in_the_database_is_found() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let (_, mut lan, _, l1) = lan_and_her_loan(&app).await;
        let records = vec![
            repayment(&mut lan, &l1, 100_000, 1),
            repayment(&mut lan, &l1, 50_000, 2),
        ];
        lan.upload(&app, records).await;
        assert_eq!(
            app.db.record_body_drift().await.unwrap(),
            vec![],
            "{backend:?}"
        );
        let receipt = lan.receipt(2);
        // Only someone who first lifts the table's guard can.
        let lift = match backend {
            common::Backend::Sqlite => "DROP TRIGGER sync_records_no_update",
            common::Backend::Postgres => "DROP TRIGGER sync_records_append_only ON sync_records",
        };
        app.exec(lift).await;
        for (sql, undo, column) in [
            (
                "UPDATE sync_records SET amount = 1000000 WHERE amount = 100000".to_string(),
                "UPDATE sync_records SET amount = 100000 WHERE amount = 1000000".to_string(),
                "amount",
            ),
            (
                format!("UPDATE sync_records SET receipt_no = 'X' WHERE receipt_no = '{receipt}'"),
                format!("UPDATE sync_records SET receipt_no = '{receipt}' WHERE receipt_no = 'X'"),
                "receipt_no",
            ),
        ] {
            assert_eq!(app.exec(&sql).await, 1);
            let found = app.db.record_body_drift().await.unwrap();
            assert!(
                found.len() == 1 && found[0].1 == column,
                "{backend:?}: {sql}: {found:?}"
            );
            assert_eq!(app.exec(&undo).await, 1);
        }
        assert_eq!(
            app.db.record_body_drift().await.unwrap(),
            vec![],
            "{backend:?}"
        );
        let edited = app
            .exec("UPDATE sync_records SET body = REPLACE(body, '50000', '500000') WHERE kind = 'repayment'")
            .await;
        assert!(edited >= 1);
        let found = app.db.record_body_drift().await.unwrap();
        assert!(
            found.iter().any(|(_, c)| c == "body_hash"),
            "{backend:?}: {found:?}"
        );
    }
}

/// A repayment recorded days before its batch was rejected (a late sync, a
/// late review), entered again once the officer hears of it: flagged,
/// counting the days from the rejection as well as from the first receipt,
/// not the installments collected in between.
#[tokio::test]
async fn a_repayment_entered_again_days_after_it_was_first_recorded_is_flagged() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let (sup, mut lan, _, l1) = lan_and_her_loan(&app).await;
        let l1_id = app.id_of("loans", "L-001").await;
        let mut first = repayment(&mut lan, &l1, 100_000, 1);
        first.recorded_at = chrono::Utc::now() - chrono::Duration::days(10);
        let (rejected, _) = lan.upload(&app, vec![first.clone()]).await;
        reject(&app, &sup, rejected, "Thiếu tiền khi đếm").await;
        // The next installment, of the same amount, collected five days
        // ago (before she could know): not that payment entered again.
        let mut next = repayment(&mut lan, &l1, 100_000, 3);
        next.recorded_at = chrono::Utc::now() - chrono::Duration::days(5);
        let (next_batch, _) = lan.upload(&app, vec![next]).await;
        let detail = batch_page(&app, &sup, next_batch).await;
        assert!(
            anomaly_codes(&detail)[0]
                .iter()
                .all(|c| c != "refused_receipt_same_amount"),
            "{backend:?}: {detail}"
        );
        let again = repayment(&mut lan, &l1, 100_000, 2);
        let (batch, _) = lan.upload(&app, vec![again]).await;
        let detail = batch_page(&app, &sup, batch).await;
        assert!(
            anomaly_codes(&detail)[0]
                .iter()
                .any(|c| c == "refused_receipt_same_amount")
                && detail.to_string().contains(&lan.receipt(1)),
            "{backend:?}: {detail}"
        );
        let found: Vec<Option<String>> = app
            .db
            .officer_receipts_of(l1_id, 100_000, first.client_id)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.receipt_no)
            .collect();
        assert_eq!(found, vec![Some(lan.receipt(2))], "{backend:?}");
    }
}

/// A receipt typed wrong, asked to be reversed from the phone and left
/// out of its batch: the request, approved, settles it as the officer
/// asked, nothing reversed or netted, and its cash is not held.
#[tokio::test]
async fn a_request_to_reverse_a_receipt_left_out_settles_it() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let (sup, mut lan, _, l1) = lan_and_her_loan(&app).await;
        let td = app.id_of("branches", "CN-TD").await;
        let wrong = repayment(&mut lan, &l1, 500_000, 1);
        let (first, _) = lan.upload(&app, vec![wrong.clone()]).await;
        let request = reversal_request(&mut lan, &wrong, "Gõ nhầm 500.000, đúng là 50.000");
        let right = repayment(&mut lan, &l1, 50_000, 2);
        let (second, _) = lan.upload(&app, vec![request.clone(), right]).await;
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{first}/approve"),
                &sup,
                &json!({"cash_received": "0",
                        "excluded": [{"record_id": wrong.client_id, "reason": "Cán bộ đã đề nghị đảo"}]}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{backend:?}: {body}");
        let (s, body) = approve(&app, &sup, second, 50_000).await;
        assert_eq!(s, StatusCode::OK, "{backend:?}: {body}");
        assert_eq!(body["discrepancy"], "0", "{body}");
        let note = settlement_note(&app, &lan.receipt(1)).await;
        assert_eq!(note, "Cán bộ đề nghị đảo: Gõ nhầm 500.000, đúng là 50.000");
        let since = chrono::Utc::now() - chrono::Duration::days(1);
        let (held, _) = app
            .db
            .refused_handovers(Some(td), since, 100)
            .await
            .unwrap();
        assert!(held.is_empty(), "{backend:?}: nothing held: {held:?}");
        cash_accounts_even(&app, &sup).await;
    }
}

/// A batch holding a refused payment entered again, rejected in its turn:
/// the re-entry ticked is settled as the same cash, so the officer holds
/// it once, and the counter cannot take it twice.
#[tokio::test]
async fn rejecting_a_payment_entered_again_counts_its_cash_once() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let (sup, mut lan, _, l1) = lan_and_her_loan(&app).await;
        let l1_id = app.id_of("loans", "L-001").await;
        let td = app.id_of("branches", "CN-TD").await;
        let first = repayment(&mut lan, &l1, 100_000, 1);
        let odd = repayment(&mut lan, &l1, 120_000, 3);
        let (rejected, _) = lan.upload(&app, vec![first.clone(), odd.clone()]).await;
        reject(&app, &sup, rejected, "Thiếu chữ ký").await;
        let again = repayment(&mut lan, &l1, 100_000, 2);
        let (batch, _) = lan.upload(&app, vec![again.clone()]).await;
        // Not a pair the batch flags: nothing is rejected.
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{batch}/reject"),
                &sup,
                &json!({"reason": "Sai ngày",
                        "entered_again": [{"record_id": again.client_id, "refused_record_id": odd.client_id}]}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{backend:?}: {body}");
        assert_eq!(body["code"], "not_entered_again", "{body}");
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{batch}/reject"),
                &sup,
                &json!({"reason": "Sai ngày",
                        "entered_again": [{"record_id": again.client_id, "refused_record_id": first.client_id}]}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{backend:?}: {body}");
        assert_eq!(
            body["entered_again_settled"],
            json!([lan.receipt(2)]),
            "{body}"
        );
        let note = settlement_note(&app, &lan.receipt(2)).await;
        assert_eq!(note, format!("Trùng phiếu {}", lan.receipt(1)));
        let since = chrono::Utc::now() - chrono::Duration::days(1);
        let (held, _) = app
            .db
            .refused_handovers(Some(td), since, 100)
            .await
            .unwrap();
        let mut held: Vec<Uuid> = held.iter().map(|r| r.record.client_id).collect();
        held.sort();
        let mut expected = vec![first.client_id, odd.client_id];
        expected.sort();
        assert_eq!(held, expected, "{backend:?}");
        // Its number in a counter note is said to be the original's cash.
        let (s, body) = app
            .post(
                &format!("/api/v1/loans/{l1_id}/repayments"),
                &sup,
                &json!({"client_id": Uuid::now_v7(), "amount": "100000",
                        "note": format!("Thu thay phiếu {}", lan.receipt(2))}),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["code"], "names_entered_again", "{body}");
        cash_accounts_even(&app, &sup).await;
    }
}

/// A repayment refused as recorded in the future (the phone's clock ran
/// fast), entered again at its true time, earlier than the refused stamp
/// and its refusal: flagged, so the approval settles the refused one and
/// its cash counts once.
#[tokio::test]
async fn a_repayment_refused_as_recorded_in_the_future_entered_again_is_flagged() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let (sup, mut lan, _, l1) = lan_and_her_loan(&app).await;
        let mut fast = repayment(&mut lan, &l1, 300_000, 1);
        fast.recorded_at = chrono::Utc::now() + chrono::Duration::hours(3);
        let (_, outcomes) = lan.upload(&app, vec![fast.clone()]).await;
        assert_eq!(
            outcomes[0],
            (UploadOutcome::Rejected, Some("recorded_in_future".into())),
            "{backend:?}"
        );
        let mut again = repayment(&mut lan, &l1, 300_000, 2);
        again.recorded_at = chrono::Utc::now() - chrono::Duration::minutes(40);
        let (batch, _) = lan.upload(&app, vec![again.clone()]).await;
        let detail = batch_page(&app, &sup, batch).await;
        let flag = detail["records"][0]["anomalies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["code"] == "refused_receipt_same_amount")
            .cloned()
            .unwrap_or_else(|| panic!("{backend:?}: {detail}"));
        assert_eq!(flag["refused_record"], json!(fast.client_id), "{flag}");
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{batch}/approve"),
                &sup,
                &json!({"cash_received": "300000",
                        "entered_again": [{"record_id": again.client_id, "refused_record_id": fast.client_id}]}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{backend:?}: {body}");
        assert_eq!(
            body["entered_again_settled"],
            json!([lan.receipt(1)]),
            "{body}"
        );
        cash_accounts_even(&app, &sup).await;
    }
}

/// A gift to a worker whose earlier gift of the campaign was refused and
/// not settled is flagged: the worker may have had that package.
#[tokio::test]
async fn a_gift_after_a_refused_one_to_the_same_worker_is_flagged() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let (sup, mut lan, snap, _) = lan_and_her_loan(&app).await;
        let tet = snap
            .campaigns
            .iter()
            .find(|k| k.name.contains("Tết"))
            .unwrap()
            .id;
        let worker = snap.workers[0].clone();
        let gift = |lan: &mut Phone| {
            lan.record(RecordBody::GiftHandout(GiftHandoutPayload {
                campaign_id: tet,
                worker_id: worker.id,
                acknowledged_name: worker.full_name.clone(),
                signature_sha256: None,
            }))
        };
        let first = gift(&mut lan);
        let (rejected, _) = lan.upload(&app, vec![first.clone()]).await;
        reject(&app, &sup, rejected, "Thiếu biên bản").await;
        let second = gift(&mut lan);
        let (batch, outcomes) = lan.upload(&app, vec![second]).await;
        assert_eq!(outcomes[0].0, UploadOutcome::Accepted, "{outcomes:?}");
        let detail = batch_page(&app, &sup, batch).await;
        assert!(
            anomaly_codes(&detail)[0]
                .iter()
                .any(|c| c == "refused_gift_same_worker"),
            "{backend:?}: {detail}"
        );
        let (s, body) = settle(&app, &sup, &first, json!({"note": "Đã thu hồi suất quà"})).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let detail = batch_page(&app, &sup, batch).await;
        assert!(
            !anomaly_codes(&detail)[0]
                .iter()
                .any(|c| c == "refused_gift_same_worker"),
            "{backend:?}: {detail}"
        );
        // A gift to the worker sent after it is refused as a second one:
        // that says nothing of this one, which came first.
        let again = gift(&mut lan);
        let (_, outcomes) = lan.upload(&app, vec![again]).await;
        assert_eq!(
            outcomes[0].1.as_deref(),
            Some("already_received"),
            "{outcomes:?}"
        );
        let detail = batch_page(&app, &sup, batch).await;
        assert!(
            !anomaly_codes(&detail)[0]
                .iter()
                .any(|c| c == "refused_gift_same_worker"),
            "{backend:?}: {detail}"
        );

        // Settled as handed out for real, the refused gift is the worker's:
        // a later one waiting for review says to leave it out.
        let other = snap.workers[1].clone();
        let to_other = |lan: &mut Phone| {
            lan.record(RecordBody::GiftHandout(GiftHandoutPayload {
                campaign_id: tet,
                worker_id: other.id,
                acknowledged_name: other.full_name.clone(),
                signature_sha256: None,
            }))
        };
        let third = to_other(&mut lan);
        let (rejected, _) = lan.upload(&app, vec![third.clone()]).await;
        reject(&app, &sup, rejected, "Thiếu biên bản").await;
        let fourth = to_other(&mut lan);
        let (batch, _) = lan.upload(&app, vec![fourth.clone()]).await;
        let (s, body) = settle(
            &app,
            &sup,
            &third,
            json!({"note": "Đã nhận, có ký sổ giấy", "stock_out": true}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        // The phone hears it was handed out for real (the first, taken
        // back, was not).
        let page = lan.changes(&app, &snap.next).await;
        let handed = |id: Uuid| {
            page.record_statuses
                .iter()
                .find(|st| st.client_id == id)
                .and_then(|st| st.settled_handed_out)
        };
        assert_eq!(
            (handed(third.client_id), handed(first.client_id)),
            (Some(true), Some(false)),
            "{backend:?}"
        );
        let detail = batch_page(&app, &sup, batch).await;
        assert!(
            anomaly_codes(&detail)[0]
                .iter()
                .any(|c| c == "refused_gift_same_worker")
                && detail.to_string().contains("hãy loại bản ghi này"),
            "{backend:?}: {detail}"
        );
        // Left out as it says, the worker still has the campaign's gift:
        // the one handed out for real.
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{batch}/approve"),
                &sup,
                &json!({"cash_received": "0",
                        "excluded": [{"record_id": fourth.client_id, "reason": "Đã nhận suất trước"}]}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let k = lan
            .snapshot(&app)
            .await
            .campaigns
            .into_iter()
            .find(|k| k.id == tet)
            .unwrap();
        assert!(k.recipients.contains(&other.id), "{backend:?}: {k:?}");
    }
}

/// A receipt, its reversal request and the right amount in one batch (sent
/// again together after a restore): the request is netted against the
/// cash handed over, as for a receipt posted before, and the vault pays
/// nothing out.
#[tokio::test]
async fn a_receipt_and_its_correction_in_one_batch_net_against_the_cash() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let (sup, mut lan, _, l1) = lan_and_her_loan(&app).await;
        let l1_id = app.id_of("loans", "L-001").await;
        let (_, before, _) = book(&app, &sup, l1_id).await;
        let start = ledger(&app, &sup).await;
        let typo = repayment(&mut lan, &l1, 150_000, 1);
        let undo = reversal_request(&mut lan, &typo, "Gõ thiếu một chữ số");
        let right = repayment(&mut lan, &l1, 1_500_000, 2);
        let (batch, outcomes) = lan.upload(&app, vec![typo, undo, right]).await;
        assert!(
            outcomes.iter().all(|o| o.0 == UploadOutcome::Accepted),
            "{outcomes:?}"
        );
        let (s, detail) = app.get(&format!("/api/v1/batches/{batch}"), &sup).await;
        assert_eq!(s, StatusCode::OK, "{backend:?}: {detail}");
        assert_eq!(
            (
                money(&detail["cash_collected"]),
                money(&detail["cash_taken_back"])
            ),
            (1_500_000, 150_000),
            "{backend:?}: {detail}"
        );
        // Its request is decided with it: nothing to point at elsewhere.
        assert!(
            !detail.to_string().contains("reversal_requested"),
            "{detail}"
        );
        let (s, outcome) = approve(&app, &sup, batch, 1_500_000).await;
        assert_eq!(s, StatusCode::OK, "{outcome}");
        assert_eq!(money(&outcome["discrepancy"]), 0, "{backend:?}: {outcome}");
        let end = ledger(&app, &sup).await;
        assert_eq!(
            net(&end, "vault") - net(&start, "vault"),
            1_500_000,
            "{backend:?}"
        );
        let (_, after, _) = book(&app, &sup, l1_id).await;
        assert_eq!(after, before - 1_500_000, "{backend:?}");
        cash_accounts_even(&app, &sup).await;
    }
}

/// The right amount approved before the wrong receipt: that receipt no
/// longer fits the loan, and the refusal says to leave it out (its own
/// reversal was asked for), not to approve the request's batch first,
/// which would only point back.
#[tokio::test]
async fn a_wrong_receipt_approved_after_its_re_entry_is_left_out() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let (sup, mut lan, _, l1) = lan_and_her_loan(&app).await;
        let (l1_id, balance, short, typed, asked) =
            short_and_its_request(&app, &sup, &mut lan, &l1).await;
        let whole = repayment(&mut lan, &l1, balance, 2);
        let (reentered, _) = lan.upload(&app, vec![whole]).await;
        let leaving_out = |batch: Uuid, body: Value| {
            let app = &app;
            let sup = sup.clone();
            async move {
                app.post(&format!("/api/v1/batches/{batch}/approve"), &sup, &body)
                    .await
            }
        };
        let (s, body) = approve(&app, &sup, reentered, balance).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, refused) = approve(&app, &sup, typed, 0).await;
        assert_eq!(s, StatusCode::CONFLICT, "{refused}");
        let said = refused["detail"].as_str().unwrap();
        assert!(
            said.contains("đề nghị đảo chính phiếu này") && !said.contains("duyệt lô đó trước"),
            "{backend:?}: {said}"
        );
        let leave_out = json!({"cash_received": "0",
            "excluded": [{"record_id": short.client_id, "reason": "Cán bộ đã đề nghị đảo"}]});
        let (s, body) = leaving_out(typed, leave_out).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        // Its request, approved, reverses nothing and settles it as asked.
        let (s, body) = approve(&app, &sup, asked, 0).await;
        assert_eq!(s, StatusCode::OK, "{backend:?}: {body}");
        assert_eq!(
            (
                body["entries_posted"].as_i64(),
                body["discrepancy"].as_str()
            ),
            (Some(0), Some("0")),
            "{body}"
        );
        let settled = settlement_note(&app, &lan.receipt(1)).await;
        assert!(settled.starts_with("Cán bộ đề nghị đảo:"), "{settled}");
        let (_, left, _) = book(&app, &sup, l1_id).await;
        assert_eq!(left, 0, "{backend:?}");
        cash_accounts_even(&app, &sup).await;
    }
}

/// A shortage the officer cannot pay is written off on the fund's decision:
/// by an admin only, the vault unmoved, the loss on its own account; taking
/// it back needs an admin too.
#[tokio::test]
async fn an_officers_shortage_is_written_off_by_the_fund() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let admin = app.token("admin", "admin-pass-1", &common::device(3)).await;
        let (sup, mut lan, snap, l1) = lan_and_her_loan(&app).await;
        let pay = repayment(&mut lan, &l1, 100_000, 1);
        let (batch, _) = lan.upload(&app, vec![pay]).await;
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{batch}/approve"),
                &sup,
                &json!({"cash_received": "90000"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let before = ledger(&app, &sup).await;
        let lan_id = app.id_of("users", "CB-TD-01").await;
        let path = format!("/api/v1/officers/{lan_id}/over-short");
        let ask = |amount: &str, id: Uuid, write_off: bool| json!({"client_id": id, "amount": amount, "note": "QĐ 12/QĐ-QTV", "write_off": write_off});

        // The branch may not write it off.
        let (s, body) = app
            .post(&path, &sup, &ask("4000", Uuid::now_v7(), true))
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("write_off_admin_only")),
            "{body}"
        );
        let id = Uuid::now_v7();
        let (s, off) = app.post(&path, &admin, &ask("4000", id, true)).await;
        assert_eq!(s, StatusCode::OK, "{off}");
        assert_eq!(
            (off["direction"].as_str(), off["method"].as_str()),
            (Some("paid_in"), Some("write_off"))
        );
        assert_eq!(money(&off["balance_after"]), 6_000);
        // The same request in cash is another request.
        let (s, body) = app.post(&path, &admin, &ask("4000", id, false)).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("over_short_conflict")),
            "{body}"
        );
        let (s, again) = app.post(&path, &admin, &ask("4000", id, true)).await;
        assert_eq!((s, &again["id"]), (StatusCode::OK, &off["id"]), "{again}");

        let after = ledger(&app, &sup).await;
        assert_eq!(
            net(&after, "vault"),
            net(&before, "vault"),
            "{backend:?}: no cash moved"
        );
        assert_eq!(net(&after, "over_short_written_off"), 4_000);
        assert_eq!(net(&after, "cash_over_short"), 6_000);
        let page = lan.changes(&app, &snap.next).await;
        let officer = page.officer.unwrap();
        assert_eq!(
            (
                officer.cash_short,
                officer.short_written_off,
                officer.over_written_off
            ),
            (Some(Dong(6_000)), Some(Dong(4_000)), Some(Dong(0))),
            "{backend:?}: the phone hears what the fund bore"
        );
        assert_eq!(app.db.audit_count("over_short.write_off").await.unwrap(), 1);

        // Taken back: a supervisor asks, another supervisor may not approve.
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
        let (s, asked) = app
            .post(
                "/api/v1/reversals",
                &sup,
                &json!({"entry_id": off["entry_id"], "reason": "Quyết định bị hủy"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{asked}");
        let (s, listed) = app.get("/api/v1/reversals", &sup).await;
        assert_eq!(s, StatusCode::OK, "{listed}");
        assert_eq!(listed[0]["written_off"], true, "{listed}");
        let approve = format!("/api/v1/reversals/{}/approve", asked["id"]);
        let (s, body) = app.post(&approve, &deputy, &json!({})).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("admin_required")),
            "{body}"
        );
        let (s, body) = app.post(&approve, &admin, &json!({})).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let undone = ledger(&app, &sup).await;
        assert_eq!(net(&undone, "over_short_written_off"), 0);
        assert_eq!(net(&undone, "cash_over_short"), 10_000);
        assert!(app.db.ledger_balance_drift().await.unwrap().is_empty());
        let officer = lan.changes(&app, &snap.next).await.officer.unwrap();
        assert_eq!(
            (officer.cash_short, officer.short_written_off),
            (Some(Dong(10_000)), Some(Dong(0))),
            "{backend:?}: a reversed write-off is borne no more"
        );
    }
}

/// A repayment refused at upload because its worker had moved to another
/// officer before it was taken keeps its loan and amount only in its body: its cash
/// taken at the counter still settles it.
#[tokio::test]
async fn cash_of_a_record_refused_at_upload_settles_at_the_counter() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let admin = app.token("admin", "admin-pass-1", &common::device(3)).await;
        let (sup, mut lan, _, l1) = lan_and_her_loan(&app).await;
        // W-001 goes to Hùng while Lan's phone is offline; she takes a
        // repayment after the move.
        let text =
            String::from_utf8(std::fs::read(common::fixture_dir().join("workers.csv")).unwrap())
                .unwrap()
                .replace(",P.12,0,,CB-TD-01", ",P.12,0,,CB-TD-02");
        let (s, body) = app.post_csv("/api/v1/imports/workers", &admin, &text).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let pay = repayment(&mut lan, &l1, 120_000, 1);
        let (_, outcomes) = lan.upload(&app, vec![pay.clone()]).await;
        assert_eq!(outcomes[0].0, UploadOutcome::Rejected, "{outcomes:?}");
        let l1_id = app.id_of("loans", "L-001").await;
        let (s, receipt) = app
            .post(
                &format!("/api/v1/loans/{l1_id}/repayments"),
                &sup,
                &json!({"client_id": Uuid::now_v7(), "amount": "120000", "note": "Người vay nộp lại",
                        "settles_record": pay.client_id}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{backend:?}: {receipt}");
        assert_eq!(receipt["receipt_no"], "QUAY-CN-TD-000001", "{receipt}");
        // Each branch's counter numbers its own receipts from 1.
        let bt = app
            .token("giamsat.bt", "super-pass-2", &common::device(2))
            .await;
        let l4_id = app.id_of("loans", "L-004").await;
        let (s, theirs) = app
            .post(
                &format!("/api/v1/loans/{l4_id}/repayments"),
                &bt,
                &json!({"client_id": Uuid::now_v7(), "amount": "50000", "note": "Trả tại quầy"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{theirs}");
        assert_eq!(theirs["receipt_no"], "QUAY-CN-BT-000001", "{theirs}");
        let (s, body) = app
            .post(
                &format!("/api/v1/records/{}/settle", pay.client_id),
                &sup,
                &json!({"note": "x"}),
            )
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("already_settled")),
            "{body}"
        );
        // The counter receipt that settled it is not reversed at the
        // branch: the cash would be on no list.
        let (s, body) = app
            .post(
                "/api/v1/reversals",
                &sup,
                &json!({"entry_id": receipt["entry_id"], "reason": "Ghi nhầm"}),
            )
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("counter_settled_refused")),
            "{backend:?}: {body}"
        );
        assert!(
            body["detail"].as_str().unwrap().starts_with(&format!(
                "Phiếu QUAY-CN-TD-000001 là tiền của phiếu {} bị từ chối",
                lan.receipt(1)
            )),
            "{body}"
        );
        // Another counter receipt is.
        let (s, body) = app
            .post(
                "/api/v1/reversals",
                &bt,
                &json!({"entry_id": theirs["entry_id"], "reason": "Ghi nhầm"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");

        // Cash of another refused receipt taken at the counter as a plain
        // repayment naming it (the cashier's way): not taken again when
        // the supervisor settles it there.
        let again = repayment(&mut lan, &l1, 80_000, 2);
        let (_, outcomes) = lan.upload(&app, vec![again.clone()]).await;
        assert_eq!(outcomes[0].0, UploadOutcome::Rejected, "{outcomes:?}");
        let named = lan.receipt(2);
        let (s, plain) = app
            .post(
                &format!("/api/v1/loans/{l1_id}/repayments"),
                &sup,
                &json!({"client_id": Uuid::now_v7(), "amount": "80000",
                        "note": format!("Nộp thay phiếu {}", named.to_lowercase().replace('-', " "))}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{plain}");
        let (s, body) = app
            .post(
                &format!("/api/v1/loans/{l1_id}/repayments"),
                &sup,
                &json!({"client_id": Uuid::now_v7(), "amount": "80000", "note": "",
                        "settles_record": again.client_id}),
            )
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("taken_at_counter_already")),
            "{backend:?}: {body}"
        );
        assert!(
            body["detail"].as_str().unwrap().contains(&format!(
                "đánh dấu phiếu {named} đã xử lý (Thu tại quầy, phiếu {})",
                plain["receipt_no"].as_str().unwrap()
            )),
            "{body}"
        );
        // Marked settled so, as the refusal says (no amount in the note):
        // that counter receipt is not reversed either.
        let (s, body) = app
            .post(
                &format!("/api/v1/records/{}/settle", again.client_id),
                &sup,
                &json!({"note": format!("thu tại quầy, phiếu {}", plain["receipt_no"].as_str().unwrap().to_lowercase())}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, body) = app
            .post(
                "/api/v1/reversals",
                &sup,
                &json!({"entry_id": plain["entry_id"], "reason": "Ghi nhầm"}),
            )
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("counter_settled_refused")),
            "{backend:?}: {body}"
        );

        // A counter receipt whose own note names a refused receipt, settled
        // since in the supervisor's own words: not reversed either.
        let third = repayment(&mut lan, &l1, 60_000, 3);
        let (_, outcomes) = lan.upload(&app, vec![third.clone()]).await;
        assert_eq!(outcomes[0].0, UploadOutcome::Rejected, "{outcomes:?}");
        let (s, taken) = app
            .post(
                &format!("/api/v1/loans/{l1_id}/repayments"),
                &sup,
                &json!({"client_id": Uuid::now_v7(), "amount": "60000",
                        "note": format!("Thay phiếu {} cán bộ đã thu", lan.receipt(3))}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{taken}");
        let (s, body) = app
            .post(
                &format!("/api/v1/records/{}/settle", third.client_id),
                &sup,
                &json!({"note": "Người vay đã nộp ở chi nhánh"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, body) = app
            .post(
                "/api/v1/reversals",
                &sup,
                &json!({"entry_id": taken["entry_id"], "reason": "Ghi nhầm"}),
            )
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("counter_settled_refused")),
            "{backend:?}: {body}"
        );

        // The cash of a refused receipt is taken once at the counter: handed
        // in in parts, no more than the officer took, each part naming it.
        let fourth = repayment(&mut lan, &l1, 70_000, 4);
        let (_, outcomes) = lan.upload(&app, vec![fourth.clone()]).await;
        assert_eq!(outcomes[0].0, UploadOutcome::Rejected, "{outcomes:?}");
        let pay_naming = |amount: &str, note: String| json!({"client_id": Uuid::now_v7(), "amount": amount, "note": note});
        let counter = format!("/api/v1/loans/{l1_id}/repayments");
        let taken_already = |body: &Value, said: &str| {
            assert_eq!(
                body["code"], "taken_at_counter_already",
                "{backend:?}: {body}"
            );
            assert!(
                body["detail"].as_str().unwrap().contains(said),
                "{said}: {body}"
            );
        };
        let (s, first) = app
            .post(
                &counter,
                &sup,
                &pay_naming("40000", format!("Lan nộp lại {}", lan.receipt(4))),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{first}");
        let first_no = first["receipt_no"].as_str().unwrap().to_string();
        let (s, body) = app
            .post(
                &counter,
                &sup,
                &pay_naming("40000", lan.receipt(4).to_lowercase()),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{body}");
        taken_already(
            &body,
            &format!("(70.000 ₫) đã được thu tại quầy 40.000 ₫: phiếu {first_no} ghi số phiếu đó. Cán bộ chỉ còn nộp 30.000 ₫"),
        );
        let (s, rest) = app
            .post(
                &counter,
                &sup,
                &pay_naming(
                    "30000",
                    format!("nop lai {}", lan.receipt(4).replace('-', "")),
                ),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{rest}");
        let (s, body) = app
            .post(&counter, &sup, &pay_naming("10000", lan.receipt(4)))
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{body}");
        taken_already(
            &body,
            &format!(
                "đã được thu tại quầy 70.000 ₫: phiếu {first_no}, {} ghi số phiếu đó. Đừng thu lại",
                rest["receipt_no"].as_str().unwrap()
            ),
        );

        // Two counter receipts that named a receipt before it reached the
        // server, refused and settled in the supervisor's own words: only
        // the first is its cash; the second took other cash, and is
        // reversed.
        let fifth = repayment(&mut lan, &l1, 45_000, 5);
        let mut twice = Vec::new();
        for again in [false, true] {
            let mut pay = pay_naming("45000", format!("Nộp thay phiếu {}", lan.receipt(5)));
            pay["confirm_repeat"] = again.into();
            let (s, body) = app.post(&counter, &sup, &pay).await;
            assert_eq!(s, StatusCode::OK, "{body}");
            twice.push(body);
        }
        let (_, outcomes) = lan.upload(&app, vec![fifth.clone()]).await;
        assert_eq!(outcomes[0].0, UploadOutcome::Rejected, "{outcomes:?}");
        let (s, body) = app
            .post(
                &format!("/api/v1/records/{}/settle", fifth.client_id),
                &sup,
                &json!({"note": "Người vay đã nộp ở chi nhánh"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let reverse = |k: &Value| json!({"entry_id": k["entry_id"], "reason": "Thu trùng"});
        let (s, body) = app
            .post("/api/v1/reversals", &sup, &reverse(&twice[0]))
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("counter_settled_refused")),
            "{backend:?}: {body}"
        );
        let (s, body) = app
            .post("/api/v1/reversals", &sup, &reverse(&twice[1]))
            .await;
        assert_eq!(s, StatusCode::OK, "{backend:?}: {body}");
        // Settled so, its cash is not taken again, whatever the amount.
        let (s, body) = app
            .post(
                &counter,
                &sup,
                &pay_naming("5000", format!("Phiếu {}", lan.receipt(5))),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{body}");
        taken_already(&body, "Đừng thu lại");
    }
}

/// A gift refused with its batch that the worker really received: settled
/// as handed out, the branch's stock goes down by the package (a campaign
/// expense); a repayment has no package to take off the stock.
#[tokio::test]
async fn a_refused_gift_handed_out_for_real_is_taken_off_the_stock() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let (sup, mut lan, snap, l1) = lan_and_her_loan(&app).await;
        let tet = snap
            .campaigns
            .iter()
            .find(|k| k.name.contains("Tết"))
            .unwrap()
            .clone();
        let worker = snap.workers[0].clone();
        let gift = lan.record(RecordBody::GiftHandout(GiftHandoutPayload {
            campaign_id: tet.id,
            worker_id: worker.id,
            acknowledged_name: worker.full_name.clone(),
            signature_sha256: None,
        }));
        let pay = repayment(&mut lan, &l1, 50_000, 1);
        let (batch, outcomes) = lan.upload(&app, vec![gift.clone(), pay.clone()]).await;
        assert!(
            outcomes.iter().all(|o| o.0 == UploadOutcome::Accepted),
            "{outcomes:?}"
        );
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{batch}/reject"),
                &sup,
                &json!({"reason": "Thiếu biên bản"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let before = ledger(&app, &sup).await;
        let cursor = lan.snapshot(&app).await.next;
        let settle = |id: Uuid| format!("/api/v1/records/{id}/settle");
        let (s, body) = app
            .post(
                &settle(pay.client_id),
                &sup,
                &json!({"note": "x", "stock_out": true}),
            )
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("not_a_gift_package")),
            "{body}"
        );
        let (s, done) = app
            .post(
                &settle(gift.client_id),
                &sup,
                &json!({"note": "Người lao động đã nhận quà, có ký sổ giấy", "stock_out": true}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{done}");
        assert!(done["entry_id"].is_i64(), "{done}");
        let after = ledger(&app, &sup).await;
        let value = tet.gift_value.get();
        assert_eq!(
            net(&after, "gift_stock") - net(&before, "gift_stock"),
            -value,
            "{backend:?}"
        );
        assert_eq!(
            net(&after, "campaign_expense") - net(&before, "campaign_expense"),
            value
        );
        assert_eq!(net(&after, "vault"), net(&before, "vault"));
        assert!(app.db.ledger_balance_drift().await.unwrap().is_empty());

        // The package is the worker's gift of the campaign: the phone
        // hears it (her allocation used, the worker a recipient), another
        // is refused, and the reports count it.
        let page = lan.changes(&app, &cursor).await;
        let k = page.campaigns.iter().find(|k| k.id == tet.id).unwrap();
        assert!(k.recipients.contains(&worker.id), "{backend:?}: {k:?}");
        assert_eq!(k.officer_remaining, tet.officer_remaining - 1, "{k:?}");
        let again = lan.record(RecordBody::GiftHandout(GiftHandoutPayload {
            campaign_id: tet.id,
            worker_id: worker.id,
            acknowledged_name: worker.full_name.clone(),
            signature_sha256: None,
        }));
        let (_, outcomes) = lan.upload(&app, vec![again.clone()]).await;
        assert_eq!(
            (outcomes[0].0, outcomes[0].1.as_deref()),
            (UploadOutcome::Rejected, Some("already_received")),
            "{backend:?}"
        );
        // That second package handed out too, for real: it comes off the
        // stock, but is not a second gift of the worker's.
        let (s, body) = app
            .post(
                &settle(again.client_id),
                &sup,
                &json!({"note": "Máy khác trao lần hai, không thu hồi được", "stock_out": true}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let twice = ledger(&app, &sup).await;
        assert_eq!(
            net(&twice, "gift_stock") - net(&before, "gift_stock"),
            -2 * value,
            "{backend:?}"
        );
        let (s, progress) = app.get("/api/v1/reports/campaign-progress", &sup).await;
        assert_eq!(s, StatusCode::OK, "{progress}");
        let sheet = |report: &Value, key: &str| -> Vec<Value> {
            report["sheets"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["key"] == key)
                .unwrap()["rows"]
                .as_array()
                .unwrap()
                .clone()
        };
        let officer = sheet(&progress, "by_officer")
            .into_iter()
            .find(|o| o["officer_code"] == "CB-TD-01")
            .unwrap();
        assert_eq!(officer["handed_out"], 1, "{backend:?}: {progress}");
        // The second package is said apart: with the gifts, it is what the
        // ledger's campaign expense holds.
        assert_eq!(officer["stock_out"], 1, "{backend:?}: {progress}");
        let whole = sheet(&progress, "campaigns")
            .into_iter()
            .find(|k| k["code"] == "TET-2027")
            .unwrap();
        assert_eq!(
            (whole["handed_out"].as_i64(), whole["stock_out"].as_i64()),
            (Some(1), Some(1)),
            "{progress}"
        );
        let worker_id = app.id_of_uid("workers", worker.id).await;
        let (s, statement) = app
            .get(
                &format!("/api/v1/reports/worker-statement?worker_id={worker_id}"),
                &sup,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{statement}");
        let gifts = sheet(&statement, "gifts");
        assert_eq!(gifts.len(), 1, "{statement}");
        assert_eq!(money(&gifts[0]["value"]), value, "{statement}");

        // The stock-out reversed at the branch (entered by mistake): the
        // gift no longer counts, and the phone hears it.
        let cursor = lan.changes(&app, &cursor).await.next;
        let admin = app.token("admin", "admin-pass-1", &common::device(3)).await;
        let (s, body) = app
            .reversal(&sup, &admin, &done["entry_id"], "Ghi giảm kho nhầm")
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let page = lan.changes(&app, &cursor).await;
        let k = page
            .campaigns
            .iter()
            .find(|k| k.id == tet.id)
            .unwrap_or_else(|| panic!("{backend:?}: the campaign comes again: {page:?}"));
        assert!(!k.recipients.contains(&worker.id), "{k:?}");
        assert_eq!(k.officer_remaining, tet.officer_remaining, "{k:?}");
    }
}

/// The rank a batch page gives a gift against the officer's allocation
/// counts only gifts that still use it: not one rejected with its batch.
#[tokio::test]
async fn a_gift_rejected_with_its_batch_does_not_use_the_allocation_on_review() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let admin = app.token("admin", "admin-pass-1", &common::device(3)).await;
        let (sup, mut lan, _, _) = lan_and_her_loan(&app).await;
        app.import_ok(
            &admin,
            "campaigns",
            "code,name,kind,starts_on,ends_on,gift_value,target_count,eligibility,description\n\
                 QUA-2027,Quà Tháng Công nhân 2027,gift,01/11/2026,31/12/2030,300000,2,all,Quà\n",
        )
        .await;
        let (s, body) = app
            .post_csv(
                "/api/v1/imports/campaign-allocations",
                &admin,
                "campaign_code,branch_code,officer_code,quota\nQUA-2027,CN-TD,,2\nQUA-2027,CN-TD,CB-TD-01,2\n",
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let snap = lan.snapshot(&app).await;
        let qua = snap
            .campaigns
            .iter()
            .find(|k| k.name == "Quà Tháng Công nhân 2027")
            .unwrap()
            .id;
        let gift = |lan: &mut Phone, worker: &sotay_core::wire::Worker| {
            lan.record(RecordBody::GiftHandout(GiftHandoutPayload {
                campaign_id: qua,
                worker_id: worker.id,
                acknowledged_name: worker.full_name.clone(),
                signature_sha256: None,
            }))
        };
        let first = gift(&mut lan, &snap.workers[0]);
        let (rejected, _) = lan.upload(&app, vec![first]).await;
        reject(&app, &sup, rejected, "Chưa có biên bản").await;
        let second = gift(&mut lan, &snap.workers[1]);
        let (batch, outcomes) = lan.upload(&app, vec![second]).await;
        assert_eq!(outcomes[0].0, UploadOutcome::Accepted, "{outcomes:?}");
        let (s, detail) = app.get(&format!("/api/v1/batches/{batch}"), &sup).await;
        assert_eq!(s, StatusCode::OK, "{detail}");
        let flagged: Vec<&str> = detail["records"][0]["anomalies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["code"].as_str().unwrap())
            .collect();
        assert!(
            !flagged.contains(&"allocation_nearly_used"),
            "{backend:?}: the first gift of 2 that counts: {detail}"
        );
    }
}

/// A campaign whose packages came in and whose gifts were given keeps the
/// value and kind they were booked at, and dates that hold its gifts; an
/// import that would change them is refused, naming the column, while a
/// new name still goes through. A loan imported again with other terms is
/// refused naming each term that differs.
#[tokio::test]
async fn an_import_leaves_a_booked_campaign_and_a_loan_as_booked() {
    for backend in BACKENDS {
        let app = TestApp::start_with(backend, false).await;
        let admin = app.token("admin", "admin-pass-1", &common::device(3)).await;
        let (_, mut lan, snap, _) = lan_and_her_loan(&app).await;
        let header =
            "code,name,kind,starts_on,ends_on,gift_value,target_count,eligibility,description\n";
        let tet = |name: &str, kind: &str, starts: &str, ends: &str, value: &str| {
            format!("{header}TET-2027,{name},{kind},{starts},{ends},{value},100,union_members,Quà Tết cho đoàn viên\n")
        };
        // Before anything is booked, the value may still be put right.
        app.import_ok(
            &admin,
            "campaigns",
            &tet(
                "Tết Sum vầy 2027",
                "gift",
                "01/11/2026",
                "31/12/2030",
                "450000",
            ),
        )
        .await;

        let thu = snap
            .workers
            .iter()
            .find(|w| w.full_name == "Đặng Thị Thu")
            .unwrap()
            .id;
        let gift = lan.record(RecordBody::GiftHandout(GiftHandoutPayload {
            campaign_id: snap.campaigns[0].id,
            worker_id: thu,
            acknowledged_name: "Đặng Thị Thu".into(),
            signature_sha256: None,
        }));
        let (_, outcomes) = lan.upload(&app, vec![gift]).await;
        assert_eq!(outcomes[0].0, UploadOutcome::Accepted, "{outcomes:?}");
        let today = sotay_core::domain::time::local_date(chrono::Utc::now());
        let yesterday = sotay_core::domain::time::format_date(today - chrono::Duration::days(1));
        let tomorrow = sotay_core::domain::time::format_date(today + chrono::Duration::days(1));

        for (file, column) in [
            (
                tet(
                    "Tết Sum vầy 2027",
                    "gift",
                    "01/11/2026",
                    "31/12/2030",
                    "600000",
                ),
                "gift_value",
            ),
            (
                tet(
                    "Tết Sum vầy 2027",
                    "welfare",
                    "01/11/2026",
                    "31/12/2030",
                    "450000",
                ),
                "kind",
            ),
            (
                tet(
                    "Tết Sum vầy 2027",
                    "gift",
                    "01/11/2026",
                    &yesterday,
                    "450000",
                ),
                "ends_on",
            ),
            (
                tet(
                    "Tết Sum vầy 2027",
                    "gift",
                    &tomorrow,
                    "31/12/2030",
                    "450000",
                ),
                "starts_on",
            ),
        ] {
            let (s, body) = app
                .post_csv("/api/v1/imports/campaigns", &admin, &file)
                .await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{backend:?}: {body}");
            assert_eq!(body["errors"][0]["column"], column, "{body}");
            assert_eq!(body["errors"][0]["line"], 2, "{body}");
        }
        let (s, body) = app
            .post_csv(
                "/api/v1/imports/campaigns",
                &admin,
                &tet(
                    "Tết Sum vầy 2027",
                    "gift",
                    "01/11/2026",
                    "31/12/2030",
                    "600000",
                ),
            )
            .await;
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(
            s == StatusCode::UNPROCESSABLE_ENTITY
                && message.contains("450.000 ₫")
                && message.contains("600.000 ₫")
                && message.contains("mã mới"),
            "{body}"
        );
        let (s, body) = app
            .post_csv(
                "/api/v1/imports/campaigns",
                &admin,
                &tet(
                    "Tết Sum vầy 2027 (đợt 1)",
                    "gift",
                    "01/11/2026",
                    "31/12/2030",
                    "450000",
                ),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{backend:?}: a new name is fine: {body}");

        let csv = "code,worker_code,product_code,principal,disbursed_on,paid_to_date\n\
            L-001,W-001,SP-TUAN,10000000,02/09/2026,1000000\n";
        let (s, body) = app.post_csv("/api/v1/imports/loans", &admin, csv).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("ngày giải ngân đang là 01/09/2026, tệp ghi 02/09/2026")
                && !message.contains("số tiền vay"),
            "{body}"
        );
    }
}

/// A repayment of no cash (zero or below, as a broken phone might send) is
/// refused at upload and takes nothing off the cash the officer holds.
#[tokio::test]
async fn a_refused_repayment_below_zero_is_no_cash() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let (sup, mut lan, _, l1) = lan_and_her_loan(&app).await;
        let over = repayment(&mut lan, &l1, 100_000_000, 1);
        let below = repayment(&mut lan, &l1, -5_000_000, 2);
        let (batch, outcomes) = lan.upload(&app, vec![over, below]).await;
        assert_eq!(
            outcomes
                .iter()
                .map(|o| (o.0, o.1.as_deref()))
                .collect::<Vec<_>>(),
            [
                (UploadOutcome::Rejected, Some("amount_above_outstanding")),
                (UploadOutcome::Rejected, Some("amount_not_positive")),
            ],
            "{backend:?}"
        );
        let detail = batch_page(&app, &sup, batch).await;
        assert_eq!(
            money(&detail["refused_cash"]),
            100_000_000,
            "{backend:?}: {detail}"
        );
    }
}

/// A welfare grant refused at upload that the officer handed out for real
/// is settled as such: paid from the branch's vault to the campaign's
/// expense, as its approval would have posted it; a vault without the
/// cash says so.
#[tokio::test]
async fn a_refused_welfare_grant_handed_out_is_paid_from_the_vault() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let admin = app.token("admin", "admin-pass-1", &common::device(3)).await;
        // A grant of more than the vault holds: first refused for it.
        let sup = app
            .token("giamsat.td", "super-pass-1", &common::device(1))
            .await;
        let grant_value = net(&ledger(&app, &sup).await, "vault").max(0) + 2_000_000;
        app.import_ok(
            &admin,
            "campaigns",
            &format!(
                    "code,name,kind,starts_on,ends_on,gift_value,target_count,eligibility,description\n\
                     MAI-AM,Mái ấm Công đoàn,welfare,01/11/2026,31/12/2030,{grant_value},5,all,Hỗ trợ nhà ở\n"
                ),
        )
        .await;
        app.import_ok(
            &admin,
            "campaign_allocations",
            "campaign_code,branch_code,officer_code,quota\nMAI-AM,CN-TD,,5\nMAI-AM,CN-TD,CB-TD-01,1\n",
        )
        .await;
        let (_, mut lan, snap, _) = lan_and_her_loan(&app).await;
        let grant = snap
            .campaigns
            .iter()
            .find(|k| k.name == "Mái ấm Công đoàn")
            .unwrap()
            .id;
        let to = |lan: &mut Phone, name: &str| {
            let worker = snap.workers.iter().find(|w| w.full_name == name).unwrap();
            lan.record(RecordBody::GiftHandout(GiftHandoutPayload {
                campaign_id: grant,
                worker_id: worker.id,
                acknowledged_name: name.into(),
                signature_sha256: None,
            }))
        };
        let first = to(&mut lan, "Nguyễn Thị Lan");
        let second = to(&mut lan, "Đặng Thị Thu");
        let (batch, outcomes) = lan.upload(&app, vec![first, second.clone()]).await;
        assert_eq!(outcomes[1].0, UploadOutcome::Rejected, "{outcomes:?}");
        let detail = batch_page(&app, &sup, batch).await;
        assert_eq!(
            detail["refused_at_upload"][0]["campaign_kind"], "welfare",
            "{detail}"
        );
        let handed_out = json!({"note": "Đã trao thật, biên nhận số 12", "stock_out": true});
        let (s, body) = settle(&app, &sup, &second, handed_out.clone()).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("vault_short")),
            "{backend:?}: {body}"
        );
        let td = app.id_of("branches", "CN-TD").await;
        let (s, body) = app
            .post(
                "/api/v1/capital-receipts",
                &admin,
                &json!({"client_id": Uuid::now_v7(), "branch_id": td,
                        "amount": (grant_value + 1_000_000).to_string(),
                        "received_on": "01/12/2026", "source": "Vốn chuyển về"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let before = ledger(&app, &sup).await;
        let (s, body) = settle(&app, &sup, &second, handed_out).await;
        assert_eq!(s, StatusCode::OK, "{backend:?}: {body}");
        let after = ledger(&app, &sup).await;
        assert_eq!(
            (
                net(&before, "vault") - net(&after, "vault"),
                net(&after, "campaign_expense") - net(&before, "campaign_expense"),
                net(&after, "gift_stock") - net(&before, "gift_stock"),
            ),
            (grant_value, grant_value, 0),
            "{backend:?}"
        );
        let (_, entries) = app.get("/api/v1/ledger/entries", &sup).await;
        let posted = entries
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == body["entry_id"])
            .unwrap_or_else(|| panic!("the settlement's entry {body} in {entries}"));
        assert_eq!(posted["kind"], "welfare", "{posted}");
        assert!(app.db.ledger_balance_drift().await.unwrap().is_empty());
        // Lan has given 2 under a quota of 1 now: the allocations file sent
        // again as it was is taken (nothing changes), not refused.
        app.import_ok(
            &admin,
            "campaign_allocations",
            "campaign_code,branch_code,officer_code,quota\nMAI-AM,CN-TD,,5\nMAI-AM,CN-TD,CB-TD-01,1\n",
        )
        .await;
    }
}

/// A receipt or gift voided in a later upload than its own: the officer's
/// other phones hear it at once (the receipt's status without its loan,
/// the worker free for the campaign's gift again).
#[tokio::test]
async fn a_void_in_a_later_upload_reaches_the_officers_other_phones() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let (sup, mut lan, snap, l1) = lan_and_her_loan(&app).await;
        let other = Phone::sign_in(&app, "canbo.lan", "officer-pass-1").await;
        let cursor = other.snapshot(&app).await.next;
        let taken = repayment(&mut lan, &l1, 100_000, 1);
        let tet = snap
            .campaigns
            .iter()
            .find(|k| k.name.contains("Tết"))
            .unwrap()
            .id;
        let worker = &snap.workers[0];
        let gift = lan.record(RecordBody::GiftHandout(GiftHandoutPayload {
            campaign_id: tet,
            worker_id: worker.id,
            acknowledged_name: worker.full_name.clone(),
            signature_sha256: None,
        }));
        lan.upload(&app, vec![taken.clone(), gift.clone()]).await;
        let page = other.changes(&app, &cursor).await;
        let status = |page: &sotay_core::wire::ChangePage| {
            page.record_statuses
                .iter()
                .find(|s| s.client_id == taken.client_id)
                .map(|s| s.loan_id.and(s.amount.map(Dong::get)))
        };
        assert_eq!(status(&page), Some(Some(100_000)), "{backend:?}");
        let cursor = page.next;
        let voids: Vec<_> = [&taken, &gift]
            .into_iter()
            .map(|r| {
                lan.record(RecordBody::Void(VoidPayload {
                    target_id: r.client_id,
                    reason: "Ghi nhầm".into(),
                }))
            })
            .collect();
        let (void_batch, outcomes) = lan.upload(&app, voids).await;
        assert!(
            outcomes.iter().all(|o| o.0 == UploadOutcome::Accepted),
            "{outcomes:?}"
        );
        let page = other.changes(&app, &cursor).await;
        assert_eq!(status(&page), Some(None), "{backend:?}: {page:?}");
        let k = page
            .campaigns
            .iter()
            .find(|k| k.id == tet)
            .unwrap_or_else(|| panic!("{backend:?}: the campaign's change: {page:?}"));
        assert!(!k.recipients.contains(&worker.id), "{backend:?}: {k:?}");
        // The voids' batch rejected: they stand no more, and the other
        // phone hears the receipt and the gift count again.
        let cursor = page.next;
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{void_batch}/reject"),
                &sup,
                &json!({"reason": "Không có lý do hủy"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let page = other.changes(&app, &cursor).await;
        assert_eq!(status(&page), Some(Some(100_000)), "{backend:?}: {page:?}");
        let k = page
            .campaigns
            .iter()
            .find(|k| k.id == tet)
            .unwrap_or_else(|| panic!("{backend:?}: the campaign's change: {page:?}"));
        assert!(k.recipients.contains(&worker.id), "{backend:?}: {k:?}");
    }
}

/// An approval names the cash to hand over the supervisor was shown: a
/// void of the officer's that arrived since changes it, and the approval
/// is refused until she has looked again.
#[tokio::test]
async fn an_approval_is_refused_when_the_batch_changed_since_it_was_confirmed() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let (sup, mut lan, _, l1) = lan_and_her_loan(&app).await;
        let taken = repayment(&mut lan, &l1, 100_000, 1);
        let taken_receipt = match &taken.body {
            RecordBody::Repayment(p) => p.receipt_no.clone(),
            _ => unreachable!(),
        };
        let kept = repayment(&mut lan, &l1, 50_000, 2);
        let (batch, _) = lan.upload(&app, vec![taken.clone(), kept]).await;
        // Confirmed at 150.000 ₫; the officer's void arrives meanwhile, and
        // another supervisor approves its batch.
        let void = lan.record(RecordBody::Void(VoidPayload {
            target_id: taken.client_id,
            reason: "Gõ nhầm".into(),
        }));
        let (void_batch, outcomes) = lan.upload(&app, vec![void]).await;
        assert_eq!(outcomes[0].0, UploadOutcome::Accepted, "{outcomes:?}");
        let approve = |seen: &str| json!({"cash_received": "150000", "cash_expected": seen});
        let path = format!("/api/v1/batches/{batch}/approve");
        // The void's batch waits: it is decided first.
        let (s, body) = app.post(&path, &sup, &approve("150000")).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("void_waiting_in_other_batch")),
            "{backend:?}: {body}"
        );
        assert!(
            body["detail"]
                .as_str()
                .is_some_and(|d| d.starts_with(&format!("Phiếu thu {}", taken_receipt))),
            "{body}"
        );
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{void_batch}/approve"),
                &sup,
                &json!({"cash_received": "0"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{backend:?}: {body}");
        let (s, body) = app.post(&path, &sup, &approve("150000")).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("batch_changed")),
            "{backend:?}: {body}"
        );
        assert!(
            body["detail"]
                .as_str()
                .is_some_and(|d| d.contains("nay là 50.000 ₫, không phải 150.000 ₫")),
            "{body}"
        );
        let (s, body) = app.post(&path, &sup, &approve("50000")).await;
        assert_eq!(s, StatusCode::OK, "{backend:?}: {body}");
        assert_eq!(money(&body["cash_expected"]), 50_000, "{body}");
    }
}

/// A visit recorded twice (a command repeated, a tap twice) is flagged on
/// both; a visit alone is not, nor one for another purpose the same day
/// (a hardship visit in the morning, the gift delivered in the afternoon).
#[tokio::test]
async fn two_visits_to_a_worker_in_a_day_are_flagged() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let (sup, mut lan, snap, _) = lan_and_her_loan(&app).await;
        let visit = |lan: &mut Phone, worker: Uuid, purpose: VisitPurpose| {
            lan.record(RecordBody::Visit(VisitPayload {
                worker_id: worker,
                purpose,
                outcome: "Đã gặp".into(),
                notes: String::new(),
                location: None,
            }))
        };
        let (twice, once) = (snap.workers[0].id, snap.workers[1].id);
        let records = vec![
            visit(&mut lan, twice, VisitPurpose::RepaymentFollowUp),
            visit(&mut lan, twice, VisitPurpose::RepaymentFollowUp),
            visit(&mut lan, once, VisitPurpose::HardshipVisit),
            visit(&mut lan, once, VisitPurpose::GiftDelivery),
        ];
        let (batch, _) = lan.upload(&app, records).await;
        let detail = batch_page(&app, &sup, batch).await;
        let flagged: Vec<bool> = anomaly_codes(&detail)
            .iter()
            .map(|codes| codes.iter().any(|c| c == "several_visits_one_day"))
            .collect();
        assert_eq!(flagged, [true, true, false, false], "{backend:?}: {detail}");
    }
}

/// A record voided in a later batch still waiting holds its batch's
/// approval — unless the supervisor leaves it out, which posts nothing
/// whichever way the void is decided.
#[tokio::test]
async fn a_record_voided_in_a_waiting_batch_can_be_left_out_to_approve_the_rest() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let (sup, mut lan, _, l1) = lan_and_her_loan(&app).await;
        let taken = repayment(&mut lan, &l1, 100_000, 1);
        let kept = repayment(&mut lan, &l1, 50_000, 2);
        let (batch, _) = lan.upload(&app, vec![taken.clone(), kept]).await;
        let void = lan.record(RecordBody::Void(VoidPayload {
            target_id: taken.client_id,
            reason: "Gõ nhầm".into(),
        }));
        let (_, outcomes) = lan.upload(&app, vec![void]).await;
        assert_eq!(outcomes[0].0, UploadOutcome::Accepted, "{outcomes:?}");
        let path = format!("/api/v1/batches/{batch}/approve");
        let (s, body) = app
            .post(&path, &sup, &json!({"cash_received": "50000"}))
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("void_waiting_in_other_batch")),
            "{backend:?}: {body}"
        );
        assert!(
            body["detail"]
                .as_str()
                .is_some_and(|d| d.ends_with("hoặc loại bản ghi này rồi duyệt")),
            "{body}"
        );
        let leave_out = json!({"cash_received": "50000", "excluded": [
            {"record_id": taken.client_id, "reason": "Cán bộ đã hủy, lô hủy chưa duyệt"}
        ]});
        let (s, body) = app.post(&path, &sup, &leave_out).await;
        assert_eq!(s, StatusCode::OK, "{backend:?}: {body}");
        assert_eq!(money(&body["cash_expected"]), 50_000, "{body}");
    }
}

/// Two batches that wait for each other: the first holds a visit the
/// second voids, the second asks to reverse a receipt of the first. Each
/// refusal says the way through (leave the voided visit out of the first),
/// not "approve the other batch first" in a circle.
#[tokio::test]
async fn two_batches_waiting_for_each_other_say_the_way_through() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let (sup, mut lan, snap, l1) = lan_and_her_loan(&app).await;
        let visit = lan.record(RecordBody::Visit(VisitPayload {
            worker_id: snap.workers[1].id,
            purpose: VisitPurpose::RepaymentFollowUp,
            outcome: "Đã gặp".into(),
            notes: String::new(),
            location: None,
        }));
        let taken = repayment(&mut lan, &l1, 200_000, 1);
        let (first, _) = lan.upload(&app, vec![visit.clone(), taken.clone()]).await;
        let void = lan.record(RecordBody::Void(VoidPayload {
            target_id: visit.client_id,
            reason: "Ghi nhầm người".into(),
        }));
        let ask = reversal_request(&mut lan, &taken, "Thu nhầm khoản vay");
        let (second, outcomes) = lan.upload(&app, vec![void, ask.clone()]).await;
        assert!(
            outcomes.iter().all(|o| o.0 == UploadOutcome::Accepted),
            "{backend:?}: {outcomes:?}"
        );
        let (s, body) = approve(&app, &sup, first, 200_000).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("void_waiting_in_other_batch")),
            "{backend:?}: {body}"
        );
        let detail = body["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains("chỉ duyệt được sau lô này") && detail.contains("Hãy loại bản ghi này"),
            "{backend:?}: {body}"
        );
        // The request's batch says which record to leave out where.
        let page = batch_page(&app, &sup, second).await;
        let request = page["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["kind"] == "reversal_request")
            .expect("the request");
        assert!(
            request["anomalies"].as_array().unwrap().iter().any(|a| {
                a["code"] == "original_waiting"
                    && a["message_vi"]
                        .as_str()
                        .unwrap()
                        .contains("loại bản ghi bị hủy rồi duyệt lô đó trước")
            }),
            "{backend:?}: {page}"
        );
        let (s, body) = approve(&app, &sup, second, 0).await;
        assert!(s.is_client_error(), "{backend:?}: {s} {body}");
        assert!(
            body.to_string()
                .contains("loại bản ghi bị hủy rồi duyệt lô đó trước"),
            "{backend:?}: {body}"
        );
        // Following it, both go through.
        let leave_out = json!({"cash_received": "200000", "excluded": [
            {"record_id": visit.client_id, "reason": "Cán bộ đã hủy ở lô sau"}
        ]});
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{first}/approve"),
                &sup,
                &leave_out,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{backend:?}: {body}");
        let (s, body) = approve(&app, &sup, second, 0).await;
        assert_eq!(s, StatusCode::OK, "{backend:?}: {body}");
    }
}

/// Lan's (CB-TD-01) row of a campaign's progress: the gifts waiting for
/// review, those held in quarantine, and what her allocation has left.
async fn gift_progress(app: &TestApp, sup: &str, campaign: &str) -> (i64, i64, i64) {
    let (s, report) = app.get("/api/v1/reports/campaign-progress", sup).await;
    assert_eq!(s, StatusCode::OK, "{report}");
    let sheet = report["sheets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "by_officer")
        .unwrap();
    let row = sheet["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["campaign"] == campaign && r["officer_code"] == "CB-TD-01")
        .unwrap_or_else(|| panic!("her row: {sheet}"));
    let n = |k: &str| row[k].as_i64().unwrap_or_else(|| panic!("{k}: {row}"));
    (n("pending"), n("held"), n("remaining"))
}

/// A gift kept in quarantine (the officer's lost phone, revoked) holds
/// its worker's gift of the campaign and the officer's allocation until a
/// supervisor settles it: her new phone hears it, a second gift to that
/// worker is refused, a void on the lost phone frees what it held, and a
/// settlement as not handed out frees the worker for a gift again.
#[tokio::test]
async fn a_gift_kept_in_quarantine_holds_its_worker_until_settled() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let (sup, mut lost, snap, _) = lan_and_her_loan(&app).await;
        let tet = snap
            .campaigns
            .iter()
            .find(|k| k.name.contains("Tết"))
            .unwrap()
            .clone();
        let gift = |phone: &mut Phone, worker: &sotay_core::wire::Worker| {
            phone.record(RecordBody::GiftHandout(GiftHandoutPayload {
                campaign_id: tet.id,
                worker_id: worker.id,
                acknowledged_name: worker.full_name.clone(),
                signature_sha256: None,
            }))
        };
        let (_, _, left) = gift_progress(&app, &sup, &tet.name).await;
        assert_eq!(left, tet.officer_remaining, "{backend:?}");
        let (w1, w2) = (snap.workers[0].clone(), snap.workers[1].clone());
        let mut new = Phone::sign_in(&app, "canbo.lan", "officer-pass-1").await;
        let cursor = new.snapshot(&app).await.next;
        app.revoke(&sup, lost.device).await;
        // Given on the lost phone before it was revoked, synced after:
        // one to each worker, the second voided there (a wrong worker),
        // the void reaching the server in a later upload (a sync cut).
        let to_w1 = gift(&mut lost, &w1);
        let to_w2 = gift(&mut lost, &w2);
        let void = lost.record(RecordBody::Void(VoidPayload {
            target_id: to_w2.client_id,
            reason: "Nhầm người".into(),
        }));
        let (_, outcomes) = lost.upload(&app, vec![to_w1.clone(), to_w2.clone()]).await;
        let kept = (UploadOutcome::Rejected, Some("device_revoked".to_string()));
        assert_eq!(outcomes, vec![kept.clone(), kept.clone()], "{backend:?}");
        let page = new.changes(&app, &cursor).await;
        let k = page.campaigns.iter().find(|k| k.id == tet.id).unwrap();
        assert!(
            k.recipients.contains(&w1.id) && k.recipients.contains(&w2.id),
            "{backend:?}: {k:?}"
        );
        let cursor = page.next;
        // The campaign's report counts them against her allocation too.
        assert_eq!(
            gift_progress(&app, &sup, &tet.name).await,
            (0, 2, left - 2),
            "{backend:?}"
        );
        let (_, outcomes) = lost.upload(&app, vec![void]).await;
        assert_eq!(outcomes, vec![kept], "{backend:?}");
        assert_eq!(
            gift_progress(&app, &sup, &tet.name).await,
            (0, 1, left - 1),
            "{backend:?}"
        );

        let page = new.changes(&app, &cursor).await;
        let k = page
            .campaigns
            .iter()
            .find(|k| k.id == tet.id)
            .unwrap_or_else(|| {
                panic!("{backend:?}: the new phone hears of the campaign: {page:?}")
            });
        assert!(k.recipients.contains(&w1.id), "{backend:?}: {k:?}");
        assert!(!k.recipients.contains(&w2.id), "{k:?}");
        assert_eq!(k.officer_remaining, tet.officer_remaining - 1, "{k:?}");
        let cursor = page.next;
        let again = gift(&mut new, &w1);
        let other = gift(&mut new, &w2);
        let (_, outcomes) = new.upload(&app, vec![again, other]).await;
        assert_eq!(
            outcomes,
            vec![
                (UploadOutcome::Rejected, Some("already_received".into())),
                (UploadOutcome::Accepted, None)
            ],
            "{backend:?}"
        );
        assert_eq!(
            gift_progress(&app, &sup, &tet.name).await,
            (1, 1, left - 2),
            "{backend:?}"
        );

        // The supervisor finds the package was never handed out (the phone
        // was lost that morning): the worker may have the gift.
        let (s, body) = app
            .post(
                &format!("/api/v1/records/{}/settle", to_w1.client_id),
                &sup,
                &json!({"note": "Máy mất trước khi trao quà", "stock_out": false}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(
            gift_progress(&app, &sup, &tet.name).await,
            (1, 0, left - 1),
            "{backend:?}"
        );
        let page = new.changes(&app, &cursor).await;
        let k = page
            .campaigns
            .iter()
            .find(|k| k.id == tet.id)
            .unwrap_or_else(|| panic!("{backend:?}: the settlement frees the worker: {page:?}"));
        assert!(!k.recipients.contains(&w1.id), "{backend:?}: {k:?}");
        assert!(k.recipients.contains(&w2.id), "{k:?}");
        assert_eq!(k.officer_remaining, tet.officer_remaining - 1, "{k:?}");
        let third = gift(&mut new, &w1);
        let (_, outcomes) = new.upload(&app, vec![third]).await;
        assert_eq!(
            outcomes,
            vec![(UploadOutcome::Accepted, None)],
            "{backend:?}"
        );
    }
}

/// Signing in (or renewing the session) tells the phone the highest
/// receipt number the server holds of the device, refused ones too: a
/// field book started again on it numbers on from there.
#[tokio::test]
async fn a_sign_in_gives_the_devices_last_receipt_number() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let (_, mut lan, _, l1) = lan_and_her_loan(&app).await;
        let first = repayment(&mut lan, &l1, 10_000, 1);
        // Above what the loan owes: refused, its number used all the same.
        let refused = repayment(&mut lan, &l1, 900_000_000, 12);
        let (_, outcomes) = lan.upload(&app, vec![first, refused]).await;
        assert_eq!(outcomes[1].0, UploadOutcome::Rejected, "{outcomes:?}");
        let (s, body) = app
            .login_raw("canbo.lan", "officer-pass-1", &lan.device.to_string())
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["device"]["last_receipt"], 12, "{backend:?}: {body}");
        let (s, renewed) = app
            .refresh(&body["refresh_token"], &lan.device.to_string())
            .await;
        assert_eq!(s, StatusCode::OK, "{renewed}");
        assert_eq!(renewed["device"]["last_receipt"], 12, "{renewed}");
        // A new phone has none.
        let (_, other) = app
            .login_raw("canbo.lan", "officer-pass-1", &Uuid::now_v7().to_string())
            .await;
        assert!(other["device"].get("last_receipt").is_none(), "{other}");
    }
}

/// A refused receipt whose loan has since been paid down at the counter
/// below what the officer took: the counter takes all the loan still owes
/// (paying it off) and that settles the receipt, the rest going back to
/// the worker; any other amount is refused, saying what to take.
#[tokio::test]
async fn a_refused_receipt_above_what_the_loan_now_owes_settles_with_the_payoff() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let (sup, mut lan, _, l1) = lan_and_her_loan(&app).await;
        let l1_id = app.id_of("loans", "L-001").await;
        let owed = |loan: Value| {
            money(&loan["loan"]["outstanding_principal"])
                + money(&loan["loan"]["outstanding_interest"])
        };
        let (_, loan) = app.get(&format!("/api/v1/loans/{l1_id}"), &sup).await;
        let total = owed(loan);
        let taken = repayment(&mut lan, &l1, 300_000, 1);
        let (batch, _) = lan.upload(&app, vec![taken.clone()]).await;
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{batch}/reject"),
                &sup,
                &json!({"reason": "Thiếu chữ ký"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        // The worker paid most of the loan at the counter meanwhile.
        let (s, body) = app
            .post(
                &format!("/api/v1/loans/{l1_id}/repayments"),
                &sup,
                &json!({"client_id": Uuid::now_v7(), "amount": (total - 100_000).to_string()}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let counter = |amount: i64| {
            json!({"client_id": Uuid::now_v7(), "amount": amount.to_string(),
                   "settles_record": taken.client_id})
        };
        let path = format!("/api/v1/loans/{l1_id}/repayments");
        // A receipt of hers waiting for review on the loan may be that very
        // cash entered again: decided first.
        let again = repayment(&mut lan, &l1, 50_000, 2);
        let (waiting, _) = lan.upload(&app, vec![again]).await;
        let (s, body) = app.post(&path, &sup, &counter(50_000)).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("settles_other_cash")),
            "{backend:?}: {body}"
        );
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("50.000 ₫ cán bộ đã thu đang chờ duyệt"),
            "{body}"
        );
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{waiting}/reject"),
                &sup,
                &json!({"reason": "Ghi lại phiếu bị từ chối"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, body) = app.post(&path, &sup, &counter(50_000)).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("settles_other_cash")),
            "{backend:?}: {body}"
        );
        let detail = body["detail"].as_str().unwrap();
        assert!(
            detail.contains("chỉ còn thu được 100.000 ₫") && detail.contains("200.000 ₫ trả lại"),
            "{detail}"
        );
        let (s, body) = app.post(&path, &sup, &counter(100_000)).await;
        assert_eq!(s, StatusCode::OK, "{backend:?}: {body}");
        let (_, loan) = app.get(&format!("/api/v1/loans/{l1_id}"), &sup).await;
        assert_eq!(owed(loan), 0);
        let (settled, _) = app
            .db
            .refused_handovers(None, chrono::DateTime::UNIX_EPOCH, 100)
            .await
            .unwrap();
        assert!(
            !settled
                .iter()
                .any(|r| r.record.client_id == taken.client_id),
            "{backend:?}: {settled:?}"
        );
        assert!(app.db.ledger_balance_drift().await.unwrap().is_empty());
    }
}

/// A refused gift settled as handed out for real, beside a gift of the
/// worker's still waiting for review (from the officer's other phone), is
/// the worker's gift: the one waiting cannot be approved as a second; left
/// out, and handed out too, it comes off the stock as a second package.
#[tokio::test]
async fn a_gift_waiting_beside_one_settled_as_handed_out_is_not_approved_as_a_second() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let (sup, mut lan, snap, _) = lan_and_her_loan(&app).await;
        let mut other = Phone::sign_in(&app, "canbo.lan", "officer-pass-1").await;
        let tet = snap
            .campaigns
            .iter()
            .find(|k| k.name.contains("Tết"))
            .unwrap()
            .clone();
        let worker = snap.workers[0].clone();
        let gift = |phone: &mut Phone| {
            phone.record(RecordBody::GiftHandout(GiftHandoutPayload {
                campaign_id: tet.id,
                worker_id: worker.id,
                acknowledged_name: worker.full_name.clone(),
                signature_sha256: None,
            }))
        };
        let first = gift(&mut lan);
        let (batch, outcomes) = lan.upload(&app, vec![first.clone()]).await;
        assert_eq!(outcomes[0].0, UploadOutcome::Accepted, "{outcomes:?}");
        let second = gift(&mut other);
        let (_, outcomes) = other.upload(&app, vec![second.clone()]).await;
        assert_eq!(
            (outcomes[0].0, outcomes[0].1.as_deref()),
            (UploadOutcome::Rejected, Some("already_received")),
            "{backend:?}"
        );
        let settle = |id: Uuid| format!("/api/v1/records/{id}/settle");
        let handed_out = json!({"note": "Đã trao thật, có ký sổ giấy", "stock_out": true});
        let (s, body) = app.post(&settle(second.client_id), &sup, &handed_out).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, body) = approve(&app, &sup, batch, 0).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("posting_refused")),
            "{backend:?}: {body}"
        );
        assert_eq!(body["records"], json!([first.client_id]), "{body}");
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{batch}/approve"),
                &sup,
                &json!({"cash_received": "0",
                        "excluded": [{"record_id": first.client_id, "reason": "Đã có suất khác"}]}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, body) = app.post(&settle(first.client_id), &sup, &handed_out).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (_, report) = app.get("/api/v1/reports/campaign-progress", &sup).await;
        let k = report["sheets"][0]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["code"] == "TET-2027")
            .unwrap()
            .clone();
        assert_eq!(
            (k["handed_out"].as_i64(), k["stock_out"].as_i64()),
            (Some(1), Some(1)),
            "{backend:?}: {report}"
        );
    }
}

/// What an officer recorded about a worker is judged by whose the worker
/// was when she recorded it: before a move away, hers; after it, not hers
/// — until the worker is moved back to her.
#[tokio::test]
async fn a_record_is_judged_by_whose_the_worker_was_when_it_was_made() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let admin = app.token("admin", "admin-pass-1", &common::device(3)).await;
        let (sup, mut lan, _, l1) = lan_and_her_loan(&app).await;
        let workers =
            String::from_utf8(std::fs::read(common::fixture_dir().join("workers.csv")).unwrap())
                .unwrap();
        let move_to =
            |officer: &str| workers.replace(",P.12,0,,CB-TD-01", &format!(",P.12,0,,{officer}"));
        let visit = |lan: &mut Phone, minutes_ago: i64| {
            let mut v = lan.record(RecordBody::Visit(VisitPayload {
                worker_id: l1.worker_id,
                purpose: VisitPurpose::RepaymentFollowUp,
                outcome: "Đã gặp".into(),
                notes: String::new(),
                location: None,
            }));
            v.recorded_at -= chrono::Duration::minutes(minutes_ago);
            v
        };
        let (s, body) = app
            .post_csv("/api/v1/imports/workers", &admin, &move_to("CB-TD-02"))
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        // The move was an hour ago (written as the server writes a time).
        let an_hour_ago = (chrono::Utc::now() - chrono::Duration::minutes(60))
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false);
        let moved = app
            .exec(&format!(
                "UPDATE worker_moves SET moved_at = '{an_hour_ago}' WHERE worker_id = {}",
                app.id_of_uid("workers", l1.worker_id).await
            ))
            .await;
        assert_eq!(moved, 1);
        let records = vec![
            visit(&mut lan, 65),
            visit(&mut lan, 55),
            visit(&mut lan, 30),
        ];
        let (batch, outcomes) = lan.upload(&app, records).await;
        let got: Vec<(UploadOutcome, Option<&str>)> =
            outcomes.iter().map(|o| (o.0, o.1.as_deref())).collect();
        assert_eq!(
            got,
            [
                (UploadOutcome::Accepted, None),
                (UploadOutcome::Rejected, Some("worker_not_in_portfolio")),
                (UploadOutcome::Rejected, Some("worker_not_in_portfolio")),
            ],
            "{backend:?}"
        );
        // Only the officer vouches for when it was made: the supervisor
        // is told the worker has moved, to whom and when.
        let detail = batch_page(&app, &sup, batch).await;
        assert!(
            anomaly_codes(&detail)[0]
                .iter()
                .any(|c| c == "worker_moved"),
            "{backend:?}: {detail}"
        );
        let said = detail.to_string();
        assert!(
            said.contains("Người lao động đã chuyển sang cán bộ Đặng Văn Hùng lúc"),
            "{backend:?}: {said}"
        );
        // Those made after the move are refused, saying when it was.
        assert!(
            said.contains("Người lao động đã được chuyển sang cán bộ khác lúc"),
            "{backend:?}: {said}"
        );
        // Moved back to her, the worker is hers to record about again —
        // what she recorded while they were away too (it is hers to follow
        // up now).
        let (s, body) = app
            .post_csv("/api/v1/imports/workers", &admin, &move_to("CB-TD-01"))
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let again = vec![visit(&mut lan, 30), visit(&mut lan, 0)];
        let (batch, outcomes) = lan.upload(&app, again).await;
        assert!(
            outcomes.iter().all(|o| o.0 == UploadOutcome::Accepted),
            "{backend:?}: {outcomes:?}"
        );
        let detail = batch_page(&app, &sup, batch).await;
        assert!(
            anomaly_codes(&detail)
                .iter()
                .flatten()
                .all(|c| c != "worker_moved"),
            "{backend:?}: {detail}"
        );
        // Moved away again after those reached the server: they were hers
        // when they came, nothing to ask.
        let (s, body) = app
            .post_csv("/api/v1/imports/workers", &admin, &move_to("CB-TD-02"))
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let detail = batch_page(&app, &sup, batch).await;
        assert!(
            anomaly_codes(&detail)
                .iter()
                .flatten()
                .all(|c| c != "worker_moved"),
            "{backend:?}: {detail}"
        );
    }
}
