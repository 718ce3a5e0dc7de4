//! Supervisor review end to end: the real server binary (SQLite and
//! PostgreSQL), a real mobile-core field book for the officer and the
//! supervisor's HTTP API. An officer's day is synced, counted 10.000 ₫ short
//! and approved; the loans move by exactly the shared allocation, the ledger
//! balances, the phone hears "approved", a second approval is refused, and a
//! reversal from the phone and one at the branch each restore a loan exactly.

use std::collections::HashMap;

use chrono::Utc;
use reqwest::StatusCode;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sotay_core::domain::money::format_vnd;
use sotay_core::domain::schedule::{allocate, apply_allocation, InstallmentState};
use sotay_core::{
    CorrectionInput, GiftInput, OutboxFilter, OutboxItem, RepaymentInput, VisitInput, VisitPurpose,
};
use sotay_tests::{fresh_database, Phone, Server, BACKENDS};

const PASSWORD: &str = "sotay-demo-2026";
const SHORT: i64 = 10_000;

fn money(v: &Value) -> i64 {
    v.as_str()
        .unwrap_or_else(|| panic!("money as a string: {v}"))
        .parse()
        .unwrap_or_else(|e| panic!("money {v}: {e}"))
}

fn dong(d: Decimal) -> i64 {
    d.to_i64().expect("whole đồng")
}

/// The supervisor's (or admin's) side: bearer-token HTTP calls.
struct Api {
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
    base: String,
}

impl Api {
    /// Calls to `server`, on a runtime of their own.
    fn of(server: &Server) -> Api {
        Api {
            rt: tokio::runtime::Runtime::new().expect("runtime"),
            http: reqwest::Client::new(),
            base: server.base.clone(),
        }
    }

    fn login(&self, username: &str, device: &str) -> String {
        let (s, body) = self.call(
            reqwest::Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": username, "password": PASSWORD, "device_id": device, "device_name": "Máy chi nhánh"})),
        );
        assert_eq!(s, StatusCode::OK, "login {username}: {body}");
        body["access_token"].as_str().expect("token").to_string()
    }

    fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.rt.block_on(async {
            let mut req = self.http.request(method, format!("{}{path}", self.base));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            if let Some(b) = body {
                req = req.json(&b);
            }
            let resp = req.send().await.expect("HTTP request");
            let status = resp.status();
            (status, resp.json().await.unwrap_or(Value::Null))
        })
    }

    fn get(&self, path: &str, token: &str) -> Value {
        let (s, body) = self.call(reqwest::Method::GET, path, Some(token), None);
        assert_eq!(s, StatusCode::OK, "GET {path}: {body}");
        body
    }

    fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, path, Some(token), Some(body))
    }

    /// A loan's installments as the server's books hold them, and its
    /// outstanding (principal, interest).
    fn installments(&self, token: &str, loan_id: i64) -> (Vec<InstallmentState>, (i64, i64)) {
        let body = self.get(&format!("/api/v1/loans/{loan_id}"), token);
        let states = body["installments"]
            .as_array()
            .expect("installments")
            .iter()
            .map(|i| InstallmentState {
                number: i["number"].as_u64().expect("number") as u32,
                due_on: i["due_on"]
                    .as_str()
                    .and_then(|d| d.parse().ok())
                    .expect("due_on"),
                principal_due: money(&i["principal_due"]),
                interest_due: money(&i["interest_due"]),
                principal_paid: money(&i["principal_paid"]),
                interest_paid: money(&i["interest_paid"]),
            })
            .collect();
        let loan = &body["loan"];
        (
            states,
            (
                money(&loan["outstanding_principal"]),
                money(&loan["outstanding_interest"]),
            ),
        )
    }

    /// Net (debit − credit) per (account, officer) over the branch, after
    /// checking that debits equal credits.
    fn ledger(&self, token: &str) -> HashMap<(String, Option<i64>), i64> {
        let rows = self.get("/api/v1/ledger/balances", token);
        let rows = rows.as_array().expect("balances");
        let debit: i64 = rows.iter().map(|r| money(&r["debit"])).sum();
        let credit: i64 = rows.iter().map(|r| money(&r["credit"])).sum();
        assert_eq!(debit, credit, "debits = credits: {rows:?}");
        let mut net = HashMap::new();
        for r in rows {
            let key = (
                r["account"].as_str().expect("account").to_string(),
                r["officer_id"].as_i64(),
            );
            *net.entry(key).or_default() += money(&r["debit"]) - money(&r["credit"]);
        }
        net
    }
}

fn account(net: &HashMap<(String, Option<i64>), i64>, name: &str) -> i64 {
    net.iter()
        .filter(|((a, _), _)| a == name)
        .map(|(_, v)| *v)
        .sum()
}

fn delta(
    after: &HashMap<(String, Option<i64>), i64>,
    before: &HashMap<(String, Option<i64>), i64>,
    name: &str,
) -> i64 {
    account(after, name) - account(before, name)
}

/// An open loan on the phone with nothing collected on it yet, none of
/// `used` (the server's ids, by `loan_ids` of contract numbers), owing more
/// than `above` đồng: its phone id, its server id and its balance.
fn another_loan(
    phone: &Phone,
    loan_ids: &HashMap<String, i64>,
    used: &[i64],
    above: i64,
) -> (uuid::Uuid, i64, i64) {
    phone
        .book
        .search("thi".into(), 200)
        .expect("search")
        .into_iter()
        .find_map(|hit| {
            let detail = phone.book.worker_detail(hit.worker_id).ok()?;
            detail.loans.into_iter().find(|l| {
                l.status == "active"
                    && l.unsynced_paid == Decimal::ZERO
                    && !used.contains(&loan_ids[&l.contract_no])
                    && l.balance > Decimal::from(above)
            })
        })
        .map(|l| (l.loan_id, loan_ids[&l.contract_no], dong(l.balance)))
        .expect("another loan")
}

fn states_of(phone: &Phone) -> HashMap<uuid::Uuid, OutboxItem> {
    phone
        .book
        .outbox(OutboxFilter::All, 10_000)
        .expect("outbox")
        .into_iter()
        .map(|i| (i.client_id, i))
        .collect()
}

/// A repayment recorded on the phone, with the loan's books before it.
struct Paid {
    client_id: uuid::Uuid,
    /// The loan's id on the phone and on the server.
    phone_loan: uuid::Uuid,
    loan_id: i64,
    amount: i64,
    before: Vec<InstallmentState>,
    outstanding_before: (i64, i64),
}

#[test]
fn a_synced_day_is_approved_posted_heard_by_the_phone_and_reversed_exactly() {
    let _turn = sotay_tests::one_at_a_time();
    let api_rt = tokio::runtime::Runtime::new().expect("runtime");
    for backend in BACKENDS {
        let db = api_rt.block_on(fresh_database(backend));
        let server = api_rt.block_on(Server::start(&db.url, &["--demo"]));
        let api = Api::of(&server);
        let sup = api.login("giamsat.thuduc", "e2e-branch-pc-01");
        let admin = api.login("admin", "e2e-admin-pc-01");

        // The officer's phone: signed in and synced.
        let phone = Phone::new();
        phone.login(&server.base, "canbo.lan", PASSWORD);
        phone.book.sync(None).expect("first sync");
        let officer_id: i64 = phone
            .book
            .session()
            .unwrap()
            .and_then(|s| s.user_id)
            .and_then(|id| id.parse().ok())
            .expect("the officer's server id");
        let mut loan_ids: HashMap<String, i64> = HashMap::new();
        loop {
            let page = api.get(
                &format!(
                    "/api/v1/loans?status=active&limit=500&offset={}",
                    loan_ids.len()
                ),
                &sup,
            );
            let page = page.as_array().expect("loans");
            if page.is_empty() {
                break;
            }
            for l in page {
                loan_ids.insert(
                    l["code"].as_str().unwrap().to_string(),
                    l["id"].as_i64().unwrap(),
                );
            }
        }
        let ledger_before = api.ledger(&sup);

        // The day: three repayments, a gift and a visit.
        let mut paid: Vec<Paid> = Vec::new();
        let mut gift = None;
        let mut visit = None;
        let campaign = phone.gift_campaign();
        for hit in phone.book.search("thi".into(), 200).expect("search") {
            let detail = phone.book.worker_detail(hit.worker_id).expect("detail");
            if paid.len() < 3 {
                if let Some(loan) = detail
                    .loans
                    .iter()
                    .find(|l| l.status == "active" && l.balance > Decimal::from(1_000_000))
                {
                    let loan_id = loan_ids[&loan.contract_no];
                    let (before, outstanding_before) = api.installments(&sup, loan_id);
                    // More than one installment for the first: interest and
                    // principal of several installments move.
                    let amount = [420_000, 150_000, 87_000][paid.len()];
                    let receipt = phone
                        .book
                        .record_repayment(RepaymentInput {
                            loan_id: loan.loan_id,
                            amount: Decimal::from(amount),
                            recorded_at: Utc::now(),
                        })
                        .expect("repayment");
                    // The phone's receipt is the shared allocation over the
                    // server's books.
                    let shared = allocate(&before, amount).expect("allocation");
                    assert_eq!(
                        (dong(receipt.interest), dong(receipt.principal)),
                        (shared.interest, shared.principal),
                        "{backend:?}: the receipt is the shared allocation"
                    );
                    paid.push(Paid {
                        client_id: receipt.client_id,
                        phone_loan: loan.loan_id,
                        loan_id,
                        amount,
                        before,
                        outstanding_before,
                    });
                    continue;
                }
            }
            if gift.is_none() && detail.union_member && detail.gifts.is_empty() {
                let fact = phone
                    .book
                    .record_gift(GiftInput {
                        campaign_id: campaign.campaign_id,
                        worker_id: detail.worker_id,
                        acknowledged_name: detail.full_name.clone(),
                        signature_image: None,
                        recorded_at: Utc::now(),
                    })
                    .expect("gift");
                gift = Some(fact.client_id);
                continue;
            }
            if visit.is_none() {
                let fact = phone
                    .book
                    .record_visit(VisitInput {
                        worker_id: detail.worker_id,
                        purpose: VisitPurpose::HardshipVisit,
                        outcome: "Đã thăm hỏi".into(),
                        notes: String::new(),
                        location: None,
                        recorded_at: Utc::now(),
                    })
                    .expect("visit");
                visit = Some(fact.client_id);
            }
            if paid.len() == 3 && gift.is_some() && visit.is_some() {
                break;
            }
        }
        let (gift, visit) = (gift.expect("a gift"), visit.expect("a visit"));
        assert_eq!(paid.len(), 3);
        let cash: i64 = paid.iter().map(|p| p.amount).sum();
        let report = phone.book.sync(None).expect("sync");
        assert_eq!((report.accepted, report.rejected), (5, 0), "{report:?}");
        assert_eq!(
            dong(phone.book.today_summary().unwrap().cash_collected),
            cash
        );

        // The supervisor's queue: one batch of Lan's, with its cash.
        let queue = api.get("/api/v1/batches?status=pending", &sup);
        let mine: Vec<&Value> = queue
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["officer_id"].as_i64() == Some(officer_id))
            .collect();
        assert_eq!(mine.len(), 1, "{queue}");
        let item = mine[0];
        assert_eq!(money(&item["cash_collected"]), cash);
        assert_eq!(item["counts"]["repayments"], 3, "{item}");
        assert_eq!(item["counts"]["gift_handouts"], 1, "{item}");
        assert_eq!(item["counts"]["visits"], 1, "{item}");
        let batch = item["batch_id"].as_str().unwrap().to_string();

        // Approved, counted 10.000 ₫ short.
        let approve = json!({ "cash_received": (cash - SHORT).to_string() });
        let (s, outcome) = api.post(
            &format!("/api/v1/batches/{batch}/approve"),
            &sup,
            approve.clone(),
        );
        assert_eq!(s, StatusCode::OK, "{outcome}");
        assert_eq!(outcome["approved"], 5, "{outcome}");
        assert_eq!(money(&outcome["cash_expected"]), cash);
        assert_eq!(money(&outcome["discrepancy"]), -SHORT);

        // Each loan moved by exactly the shared allocation.
        let (mut principal, mut interest) = (0, 0);
        for p in &paid {
            let shared = allocate(&p.before, p.amount).unwrap();
            let mut expected = p.before.clone();
            apply_allocation(&mut expected, &shared, 1);
            let (now, outstanding) = api.installments(&sup, p.loan_id);
            assert_eq!(now, expected, "{backend:?}: installments after approval");
            assert_eq!(
                outstanding,
                (
                    p.outstanding_before.0 - shared.principal,
                    p.outstanding_before.1 - shared.interest
                ),
                "{backend:?}: balance dropped by the allocated principal and interest"
            );
            principal += shared.principal;
            interest += shared.interest;
        }
        assert!(principal > 0, "{principal} {interest}");

        // The ledger balances: the vault got what was counted, the shortage
        // is on Lan's over/short account.
        let ledger = api.ledger(&sup);
        assert_eq!(delta(&ledger, &ledger_before, "vault"), cash - SHORT);
        assert_eq!(delta(&ledger, &ledger_before, "cash_in_hand"), 0);
        assert_eq!(delta(&ledger, &ledger_before, "loan_principal"), -principal);
        assert_eq!(delta(&ledger, &ledger_before, "interest_income"), -interest);
        let key = ("cash_over_short".to_string(), Some(officer_id));
        assert_eq!(
            ledger.get(&key).copied().unwrap_or(0) - ledger_before.get(&key).copied().unwrap_or(0),
            SHORT,
            "the shortage is on the officer's over/short account"
        );
        let gift_value = dong(campaign.gift_value);
        assert_eq!(
            delta(&ledger, &ledger_before, "campaign_expense"),
            gift_value
        );

        // A second approval is refused and posts nothing.
        let (s, again) = api.post(&format!("/api/v1/batches/{batch}/approve"), &sup, approve);
        assert_eq!(s, StatusCode::CONFLICT, "{again}");
        assert_eq!(again["code"], "batch_already_decided");
        assert_eq!(api.ledger(&sup), ledger);

        // The phone hears it on its next sync.
        phone.book.sync(None).expect("sync after approval");
        // Nothing new since: an idle sync receives nothing.
        let idle = phone.book.sync(None).expect("an idle sync");
        assert_eq!(idle.received_changes, 0, "{backend:?}: {idle:?}");
        let states = states_of(&phone);
        for id in paid.iter().map(|p| p.client_id).chain([gift, visit]) {
            assert_eq!(
                states[&id].state, "approved",
                "{backend:?}: {:?}",
                states[&id]
            );
        }
        let summary = phone.book.today_summary().unwrap();
        assert_eq!(
            (summary.pending, summary.rejected.len()),
            (0, 0),
            "{summary:?}"
        );
        // With the cash the supervisor counted, and the shortage.
        let counted: Vec<_> = summary
            .cash_counts
            .iter()
            .map(|k| {
                (
                    k.batch_id.to_string(),
                    dong(k.cash_expected),
                    dong(k.cash_received),
                    dong(k.short),
                )
            })
            .collect();
        assert_eq!(
            counted,
            vec![(batch.clone(), cash, cash - SHORT, SHORT)],
            "{summary:?}"
        );
        assert_eq!(dong(summary.cash_short), SHORT);
        assert!(
            summary
                .text_vi
                .contains(&format!("thiếu {}", format_vnd(SHORT))),
            "{}",
            summary.text_vi
        );
        // A phone signed in afresh has it from its first download.
        let other = Phone::new();
        other.login(&server.base, "canbo.lan", PASSWORD);
        other.book.sync(None).expect("a second phone's first sync");
        assert_eq!(dong(other.book.today_summary().unwrap().cash_short), SHORT);
        // The fund writes part of it off: the phone says the officer does
        // not pay that part, and once the decision is taken back, no more.
        const BORNE: i64 = 4_000;
        let (s, off) = api.post(
            &format!("/api/v1/officers/{officer_id}/over-short"),
            &admin,
            json!({"client_id": uuid::Uuid::now_v7(), "amount": BORNE.to_string(),
                   "note": "QĐ 7/QĐ-QTV", "write_off": true}),
        );
        assert_eq!(s, StatusCode::OK, "{off}");
        phone.book.sync(None).expect("sync after the write-off");
        let summary = phone.book.today_summary().unwrap();
        assert_eq!(
            (dong(summary.cash_short), dong(summary.short_written_off)),
            (SHORT - BORNE, BORNE),
            "{backend:?}: {summary:?}"
        );
        assert!(
            summary.text_vi.contains(&format!(
                "quỹ đã chịu {} theo quyết định xử lý",
                format_vnd(BORNE)
            )),
            "{}",
            summary.text_vi
        );
        let (s, asked) = api.post(
            "/api/v1/reversals",
            &sup,
            json!({"entry_id": off["entry_id"], "reason": "Quyết định bị hủy"}),
        );
        assert_eq!(s, StatusCode::OK, "{asked}");
        let (s, body) = api.post(
            &format!("/api/v1/reversals/{}/approve", asked["id"]),
            &admin,
            json!({}),
        );
        assert_eq!(s, StatusCode::OK, "{body}");
        phone
            .book
            .sync(None)
            .expect("sync after the write-off is undone");
        let summary = phone.book.today_summary().unwrap();
        assert_eq!(
            (dong(summary.cash_short), dong(summary.short_written_off)),
            (SHORT, 0),
            "{backend:?}: {summary:?}"
        );
        assert!(
            !summary.text_vi.contains("quỹ đã chịu"),
            "{}",
            summary.text_vi
        );
        assert_eq!(
            phone
                .book
                .outbox(OutboxFilter::Accepted, 100)
                .unwrap()
                .len(),
            5
        );

        // 1. The officer asks, from the phone, to reverse the first repayment;
        // the supervisor approves the batch it comes in.
        let first = &paid[0];
        let request = phone
            .book
            .request_reversal(CorrectionInput {
                target_id: first.client_id,
                reason: "Thu nhầm khoản vay".into(),
                recorded_at: Utc::now(),
            })
            .expect("reversal request");
        let report = phone.book.sync(None).expect("sync the request");
        assert_eq!(report.accepted, 1, "{report:?}");
        let queue = api.get("/api/v1/batches?status=pending", &sup);
        let rev_batch = queue
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["officer_id"].as_i64() == Some(officer_id))
            .map(|b| b["batch_id"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("the request's batch in the queue: {queue}"));
        let (s, outcome) = api.post(
            &format!("/api/v1/batches/{rev_batch}/approve"),
            &sup,
            json!({"cash_received": "0"}),
        );
        assert_eq!(s, StatusCode::OK, "{outcome}");
        let (now, outstanding) = api.installments(&sup, first.loan_id);
        assert_eq!(
            now, first.before,
            "{backend:?}: the loan is as before the repayment"
        );
        assert_eq!(outstanding, first.outstanding_before);
        // Nothing left the vault: the branch owes Lan the amount, less the
        // shortage she owed, and pays it out to her to give back.
        let over_short = |l: &HashMap<(String, Option<i64>), i64>| {
            l.get(&("cash_over_short".to_string(), Some(officer_id)))
                .copied()
                .unwrap_or(0)
        };
        assert_eq!(over_short(&api.ledger(&sup)), SHORT - first.amount);
        let owed = first.amount - SHORT;
        let (s, paid_out) = api.post(
            &format!("/api/v1/officers/{officer_id}/over-short"),
            &sup,
            json!({"client_id": uuid::Uuid::now_v7(), "amount": owed.to_string(), "note": "Trả lại người vay"}),
        );
        assert_eq!(s, StatusCode::OK, "{paid_out}");
        assert_eq!(
            (
                paid_out["direction"].as_str(),
                money(&paid_out["balance_after"])
            ),
            (Some("paid_out"), 0)
        );
        phone.book.sync(None).expect("sync after the reversal");
        let states = states_of(&phone);
        assert_eq!(states[&first.client_id].state, "reversed");
        assert_eq!(states[&request.client_id].state, "approved");

        // 2. A supervisor asks at the branch to reverse the second repayment;
        // not they but the admin approves it.
        let second = &paid[1];
        let entries = api.get(
            &format!("/api/v1/ledger/entries?loan_id={}", second.loan_id),
            &sup,
        );
        let entry = entries
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["record_id"] == second.client_id.to_string())
            .and_then(|e| e["id"].as_i64())
            .unwrap_or_else(|| panic!("the repayment's entry: {entries}"));
        let (s, created) = api.post(
            "/api/v1/reversals",
            &sup,
            json!({"entry_id": entry, "reason": "Nhập sai số tiền"}),
        );
        assert_eq!(s, StatusCode::OK, "{created}");
        let id = created["id"].as_i64().unwrap();
        let (s, body) = api.post(&format!("/api/v1/reversals/{id}/approve"), &sup, json!({}));
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("maker_checker"))
        );
        let (s, body) = api.post(
            &format!("/api/v1/reversals/{id}/approve"),
            &admin,
            json!({}),
        );
        assert_eq!(s, StatusCode::OK, "{body}");
        let (now, outstanding) = api.installments(&sup, second.loan_id);
        assert_eq!(
            now, second.before,
            "{backend:?}: the loan is as before the repayment"
        );
        assert_eq!(outstanding, second.outstanding_before);
        // The third loan keeps its repayment.
        let third = &paid[2];
        let mut expected = third.before.clone();
        apply_allocation(
            &mut expected,
            &allocate(&third.before, third.amount).unwrap(),
            1,
        );
        assert_eq!(api.installments(&sup, third.loan_id).0, expected);

        // The books still balance; the reversed amounts left the vault (the
        // first paid out to the officer, the second at the branch).
        let ledger = api.ledger(&sup);
        assert_eq!(
            delta(&ledger, &ledger_before, "vault"),
            cash - first.amount - second.amount
        );
        let third_shared = allocate(&third.before, third.amount).unwrap();
        assert_eq!(
            delta(&ledger, &ledger_before, "loan_principal"),
            -third_shared.principal
        );
        phone
            .book
            .sync(None)
            .expect("sync after the branch reversal");
        assert_eq!(states_of(&phone)[&second.client_id].state, "reversed");

        // 3. The third repayment was typed ten times too low: the officer asks
        // to reverse it and records the right amount. The receipt counts the
        // first one taken back; she hands over only the difference, the
        // vault pays nothing out and no shortage is booked.
        let vault_before = delta(&api.ledger(&sup), &ledger_before, "vault");
        let typo = phone
            .book
            .request_reversal(CorrectionInput {
                target_id: third.client_id,
                reason: "Gõ thiếu một chữ số".into(),
                recorded_at: Utc::now(),
            })
            .expect("reversal request");
        let right_amount = third.amount * 10;
        let right = phone
            .book
            .record_repayment(RepaymentInput {
                loan_id: third.phone_loan,
                amount: Decimal::from(right_amount),
                recorded_at: Utc::now(),
            })
            .expect("the right amount");
        let shared = allocate(&third.before, right_amount).expect("allocation");
        assert_eq!(
            (dong(right.interest), dong(right.principal)),
            (shared.interest, shared.principal),
            "{backend:?}: the receipt takes the typo back first"
        );
        let summary = phone.book.today_summary().unwrap();
        // The day's reversal requests: the first (netted, approved) and
        // this one (waiting).
        assert_eq!(
            (dong(summary.cash_taken_back), dong(summary.cash_in_hand)),
            (first.amount + third.amount, right_amount - third.amount),
            "{summary:?}"
        );
        phone.book.sync(None).expect("sync the correction");
        let queue = api.get("/api/v1/batches?status=pending", &sup);
        let fix_batch = queue
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["officer_id"].as_i64() == Some(officer_id))
            .map(|b| b["batch_id"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("the correction's batch in the queue: {queue}"));
        let detail = api.get(&format!("/api/v1/batches/{fix_batch}"), &sup);
        assert_eq!(
            money(&detail["cash_collected"]),
            right_amount - third.amount,
            "{detail}"
        );
        let (s, outcome) = api.post(
            &format!("/api/v1/batches/{fix_batch}/approve"),
            &sup,
            json!({"cash_received": (right_amount - third.amount).to_string()}),
        );
        assert_eq!(s, StatusCode::OK, "{outcome}");
        assert_eq!(money(&outcome["discrepancy"]), 0, "{outcome}");
        let mut expected = third.before.clone();
        apply_allocation(&mut expected, &shared, 1);
        assert_eq!(api.installments(&sup, third.loan_id).0, expected);
        let ledger = api.ledger(&sup);
        assert_eq!(
            delta(&ledger, &ledger_before, "vault") - vault_before,
            right_amount - third.amount,
            "{backend:?}"
        );
        assert_eq!(
            over_short(&ledger),
            0,
            "{backend:?}: no shortage from the correction"
        );
        phone.book.sync(None).expect("sync after the correction");
        let states = states_of(&phone);
        assert_eq!(
            (
                states[&third.client_id].state.as_str(),
                states[&typo.client_id].state.as_str(),
                states[&right.client_id].state.as_str()
            ),
            ("reversed", "approved", "approved")
        );
        let summary = phone.book.today_summary().unwrap();
        assert_eq!(
            (
                dong(summary.cash_taken_back),
                dong(summary.cash_to_hand_over)
            ),
            (first.amount + third.amount, 0),
            "{summary:?}"
        );

        // 4. A payoff typed for the whole balance when only 100.000 was
        // taken: counted 100.000, the loan shows paid off and a shortage is
        // booked. Reversed and the 100.000 entered again, the phone takes it
        // on the loan it still shows closed, and the shortage cancels.
        let used: Vec<i64> = paid.iter().map(|p| p.loan_id).collect();
        let (payoff_loan, loan_id, balance) = another_loan(&phone, &loan_ids, &used, 500_000);
        let taken = 100_000;
        let vault_at = delta(&api.ledger(&sup), &ledger_before, "vault");
        let wrong = phone
            .book
            .record_repayment(RepaymentInput {
                loan_id: payoff_loan,
                amount: Decimal::from(balance),
                recorded_at: Utc::now(),
            })
            .expect("the payoff typed");
        let batch_of = |what: &str| {
            phone.book.sync(None).expect(what);
            let queue = api.get("/api/v1/batches?status=pending", &sup);
            queue
                .as_array()
                .unwrap()
                .iter()
                .find(|b| b["officer_id"].as_i64() == Some(officer_id))
                .map(|b| b["batch_id"].as_str().unwrap().to_string())
                .unwrap_or_else(|| panic!("{what}: {queue}"))
        };
        let typed_batch = batch_of("sync the payoff");
        let (s, outcome) = api.post(
            &format!("/api/v1/batches/{typed_batch}/approve"),
            &sup,
            json!({"cash_received": taken.to_string()}),
        );
        assert_eq!(s, StatusCode::OK, "{outcome}");
        assert_eq!(api.installments(&sup, loan_id).1, (0, 0), "paid off");
        phone.book.sync(None).expect("hear the payoff");
        phone
            .book
            .request_reversal(CorrectionInput {
                target_id: wrong.client_id,
                reason: "Gõ nhầm cả dư nợ".into(),
                recorded_at: Utc::now(),
            })
            .expect("reversal request");
        phone
            .book
            .record_repayment(RepaymentInput {
                loan_id: payoff_loan,
                amount: Decimal::from(taken),
                recorded_at: Utc::now(),
            })
            .expect("the phone takes the right amount on the loan the typo closed");
        let fix_batch = batch_of("sync the fix");
        let detail = api.get(&format!("/api/v1/batches/{fix_batch}"), &sup);
        assert_eq!(
            money(&detail["cash_collected"]),
            taken - balance,
            "{detail}"
        );
        let (s, outcome) = api.post(
            &format!("/api/v1/batches/{fix_batch}/approve"),
            &sup,
            json!({"cash_received": "0"}),
        );
        assert_eq!(s, StatusCode::OK, "{outcome}");
        let ledger = api.ledger(&sup);
        assert_eq!(
            over_short(&ledger),
            0,
            "{backend:?}: the shortage cancelled"
        );
        assert_eq!(delta(&ledger, &ledger_before, "vault") - vault_at, taken);
        let (p, i) = api.installments(&sup, loan_id).1;
        assert_eq!(p + i, balance - taken, "{backend:?}");
        phone.book.sync(None).expect("sync after the fix");

        // Lan's shortage was set off against what the branch owed her for
        // the reversal she asked for: her phone hears it is all settled.
        let summary = phone.book.today_summary().unwrap();
        assert_eq!(dong(summary.cash_short), 0, "{summary:?}");
        assert!(!summary.text_vi.contains("còn nợ"), "{}", summary.text_vi);
        assert!(
            summary.text_vi.contains("đã được thanh toán hết"),
            "{}",
            summary.text_vi
        );

        // 5. A receipt typed wrong and synced, its reversal asked in a
        // later sync before anyone reviewed it, the right amount entered in
        // a third: the phone's receipt splits as the books will, the day
        // keeps back the typo's cash, and the three batches approved in
        // turn leave no shortage.
        let used: Vec<i64> = paid.iter().map(|p| p.loan_id).chain([loan_id]).collect();
        let (fourth_loan, fourth_id, _) = another_loan(&phone, &loan_ids, &used, 2_000_000);
        let (before, _) = api.installments(&sup, fourth_id);
        let over_short_at = over_short(&api.ledger(&sup));
        let (typed, meant) = (150_000, 1_500_000);
        let wrong = phone
            .book
            .record_repayment(RepaymentInput {
                loan_id: fourth_loan,
                amount: Decimal::from(typed),
                recorded_at: Utc::now(),
            })
            .expect("the typo");
        // Each sync's batch: the officer's pending one not seen before.
        let mut seen: Vec<String> = Vec::new();
        let mut next_batch = |what: &str| {
            phone.book.sync(None).expect(what);
            let queue = api.get("/api/v1/batches?status=pending", &sup);
            let id = queue
                .as_array()
                .unwrap()
                .iter()
                .filter(|b| b["officer_id"].as_i64() == Some(officer_id))
                .map(|b| b["batch_id"].as_str().unwrap().to_string())
                .find(|b| !seen.contains(b))
                .unwrap_or_else(|| panic!("{what}: {queue}"));
            seen.push(id.clone());
            id
        };
        let typo_batch = next_batch("sync the typo");
        phone
            .book
            .request_reversal(CorrectionInput {
                target_id: wrong.client_id,
                reason: "Gõ thiếu một chữ số".into(),
                recorded_at: Utc::now(),
            })
            .expect("reversal request of a receipt waiting for review");
        let asked_batch = next_batch("sync the reversal request");
        let right = phone
            .book
            .record_repayment(RepaymentInput {
                loan_id: fourth_loan,
                amount: Decimal::from(meant),
                recorded_at: Utc::now(),
            })
            .expect("the right amount");
        let shared = allocate(&before, meant).expect("allocation");
        assert_eq!(
            (dong(right.interest), dong(right.principal)),
            (shared.interest, shared.principal),
            "{backend:?}: the receipt leaves the typo out"
        );
        let kept = dong(phone.book.today_summary().unwrap().cash_taken_back);
        let right_batch = next_batch("sync the right amount");
        assert_eq!(states_of(&phone)[&right.client_id].state, "accepted");
        for (batch, cash) in [
            (typo_batch, typed),
            (asked_batch, 0),
            (right_batch, meant - typed),
        ] {
            let (s, outcome) = api.post(
                &format!("/api/v1/batches/{batch}/approve"),
                &sup,
                json!({"cash_received": cash.to_string()}),
            );
            assert_eq!(s, StatusCode::OK, "{backend:?}: {outcome}");
        }
        let mut expected = before.clone();
        apply_allocation(&mut expected, &shared, 1);
        assert_eq!(api.installments(&sup, fourth_id).0, expected, "{backend:?}");
        assert_eq!(over_short(&api.ledger(&sup)), over_short_at, "{backend:?}");
        phone.book.sync(None).expect("sync after the approvals");
        let summary = phone.book.today_summary().unwrap();
        assert_eq!(
            dong(summary.cash_taken_back),
            kept,
            "{backend:?}: kept back before the approval as after: {summary:?}"
        );

        println!(
            "{backend:?}: batch of 3 repayments ({cash} ₫), 1 gift, 1 visit approved {SHORT} ₫ short; \
             loans moved by the shared allocation (principal {principal}, interest {interest}); \
             ledger balanced, vault +{}, officer over/short {SHORT}; phone shows approved; \
             second approval 409 batch_already_decided; phone reversal and branch reversal \
             restored their loans' installments exactly; a mistyped receipt corrected from the \
             phone netted against the cash handed over",
            cash - SHORT
        );
    }
}

/// A receipt the officer voided before syncing stays cancelled when the
/// supervisor rejects the batch that carried both: the phone does not tell
/// her she holds its cash, and the server does not list it as cash to take.
#[test]
fn a_void_rejected_with_its_receipt_keeps_it_cancelled() {
    let _turn = sotay_tests::one_at_a_time();
    let api_rt = tokio::runtime::Runtime::new().expect("runtime");
    for backend in BACKENDS {
        let db = api_rt.block_on(fresh_database(backend));
        let server = api_rt.block_on(Server::start(&db.url, &["--demo"]));
        let api = Api::of(&server);
        let sup = api.login("giamsat.thuduc", "e2e-branch-pc-02");
        let phone = Phone::new();
        phone.login(&server.base, "canbo.lan", PASSWORD);
        phone.book.sync(None).expect("first sync");
        let (_, loan) = phone.loan_owing_more_than(400_000);
        let pay = |amount: i64| {
            phone
                .book
                .record_repayment(RepaymentInput {
                    loan_id: loan.loan_id,
                    amount: Decimal::from(amount),
                    recorded_at: Utc::now(),
                })
                .expect("repayment")
        };
        let wrong = pay(100_000);
        phone
            .book
            .void_record(CorrectionInput {
                target_id: wrong.client_id,
                reason: "Gõ nhầm, người vay chưa trả".into(),
                recorded_at: Utc::now(),
            })
            .expect("void");
        pay(200_000);
        let report = phone.book.sync(None).expect("sync");
        assert_eq!((report.accepted, report.rejected), (3, 0), "{report:?}");
        let queue = api.get("/api/v1/batches?status=pending", &sup);
        let batch = queue.as_array().expect("queue")[0]["batch_id"]
            .as_str()
            .expect("batch id")
            .to_string();
        let (s, body) = api.post(
            &format!("/api/v1/batches/{batch}/reject"),
            &sup,
            json!({"reason": "Cán bộ chưa nộp tiền"}),
        );
        assert_eq!(s, StatusCode::OK, "{body}");
        let detail = api.get(&format!("/api/v1/batches/{batch}"), &sup);
        assert_eq!(
            money(&detail["cash_collected"]),
            200_000,
            "{backend:?}: {detail}"
        );

        phone.book.sync(None).expect("sync after the rejection");
        let item = &states_of(&phone)[&wrong.client_id];
        assert!(item.voided, "{backend:?}: {item:?}");
        // Her other phone says the same of the cash she holds.
        let other = Phone::new();
        other.login(&server.base, "canbo.lan", PASSWORD);
        other.book.sync(None).expect("sync");
        let text = other.book.today_summary().expect("summary").text_vi;
        assert!(
            text.contains("trên máy khác của bạn (hoặc trên máy này trước khi cài lại), chưa được chi nhánh xử lý: 200.000 ₫"),
            "{backend:?}: {text}"
        );
        let summary = phone.book.today_summary().expect("summary");
        assert_eq!(
            (summary.cash_collected, summary.cash_refused),
            (Decimal::from(200_000), Decimal::from(200_000)),
            "{backend:?}: {}",
            summary.text_vi
        );
    }
}

/// A visit recorded on the wrong worker and synced is voided from the phone
/// while its batch waits for review: the batch's page marks it voided, the
/// approval leaves it out and the visits report never counts it. One
/// approved before its void arrives stays, and the phone says why.
#[test]
fn a_visit_waiting_for_review_is_voided_from_the_phone() {
    let _turn = sotay_tests::one_at_a_time();
    let api_rt = tokio::runtime::Runtime::new().expect("runtime");
    for backend in BACKENDS {
        let db = api_rt.block_on(fresh_database(backend));
        let server = api_rt.block_on(Server::start(&db.url, &["--demo"]));
        let api = Api::of(&server);
        let sup = api.login("giamsat.thuduc", "e2e-branch-pc-03");
        let phone = Phone::new();
        phone.login(&server.base, "canbo.lan", PASSWORD);
        phone.book.sync(None).expect("first sync");
        let hits = phone.book.search("thi".into(), 3).expect("search");
        // The server sends each worker's code: found by it, in any case.
        let code = hits[0].code.clone().expect("the worker's code came down");
        let by_code = phone.book.search(code.to_lowercase(), 3).expect("search");
        assert_eq!(
            by_code.iter().map(|h| h.worker_id).collect::<Vec<_>>(),
            vec![hits[0].worker_id],
            "{backend:?}: {code}"
        );
        let visit = |n: usize| {
            phone
                .book
                .record_visit(VisitInput {
                    worker_id: hits[n].worker_id,
                    purpose: VisitPurpose::RepaymentFollowUp,
                    outcome: "Đã gặp".into(),
                    notes: String::new(),
                    location: None,
                    recorded_at: Utc::now(),
                })
                .expect("visit")
        };
        let void = |target: uuid::Uuid| {
            phone.book.void_record(CorrectionInput {
                target_id: target,
                reason: "Ghi nhầm người".into(),
                recorded_at: Utc::now(),
            })
        };
        let wrong = visit(0);
        let right = visit(1);
        let report = phone.book.sync(None).expect("sync");
        assert_eq!(report.accepted, 2, "{backend:?}: {report:?}");
        // (approved, waiting for review): the report counts the approved
        // ones, those waiting apart.
        let visits_counted = || {
            let report = api.get("/api/v1/reports/visits", &sup);
            report["sheets"][0]["rows"]
                .as_array()
                .expect("rows")
                .iter()
                .find(|r| r["officer_code"] == "CB-TD-01")
                .map_or((0, 0), |r| {
                    (
                        r["total"].as_i64().expect("total"),
                        r["pending"].as_i64().expect("pending"),
                    )
                })
        };
        assert_eq!(visits_counted(), (0, 2), "{backend:?}");

        void(wrong.client_id).expect("a visit waiting for review is voided");
        assert_eq!(phone.book.today_summary().expect("summary").visits, 1);
        let report = phone.book.sync(None).expect("sync the void");
        assert_eq!(
            (report.accepted, report.rejected),
            (1, 0),
            "{backend:?}: {report:?}"
        );
        assert_eq!(visits_counted(), (0, 1), "{backend:?}");
        let queue = api.get("/api/v1/batches?status=pending", &sup);
        let batches: Vec<String> = queue
            .as_array()
            .expect("queue")
            .iter()
            .map(|b| b["batch_id"].as_str().expect("batch id").to_string())
            .collect();
        let first = batches
            .iter()
            .find(|b| {
                let detail = api.get(&format!("/api/v1/batches/{b}"), &sup);
                detail["records"]
                    .as_array()
                    .expect("records")
                    .iter()
                    .any(|r| r["record_id"] == wrong.client_id.to_string())
            })
            .expect("the visits' batch")
            .clone();
        let detail = api.get(&format!("/api/v1/batches/{first}"), &sup);
        let record = detail["records"]
            .as_array()
            .expect("records")
            .iter()
            .find(|r| r["record_id"] == wrong.client_id.to_string())
            .expect("the wrong visit");
        assert_eq!(record["voided"], true, "{backend:?}: {record}");
        // The void waits in a later batch, which the batch's page names:
        // that one is decided first.
        let waiting_in = record["void_waiting_in"]
            .as_str()
            .expect("the void's batch")
            .to_string();
        assert!(
            batches.contains(&waiting_in) && waiting_in != first,
            "{record}"
        );
        let (s, outcome) = api.post(
            &format!("/api/v1/batches/{first}/approve"),
            &sup,
            json!({"cash_received": "0"}),
        );
        assert_eq!(
            (s, outcome["code"].as_str()),
            (StatusCode::CONFLICT, Some("void_waiting_in_other_batch")),
            "{backend:?}: {outcome}"
        );
        assert!(
            outcome["detail"]
                .as_str()
                .is_some_and(|m| m.starts_with("Lượt thăm")),
            "{outcome}"
        );
        for batch in batches.iter().rev() {
            let (s, outcome) = api.post(
                &format!("/api/v1/batches/{batch}/approve"),
                &sup,
                json!({"cash_received": "0"}),
            );
            assert_eq!(s, StatusCode::OK, "{backend:?}: {outcome}");
        }
        assert_eq!(visits_counted(), (1, 0), "{backend:?}");
        phone.book.sync(None).expect("sync after the approval");
        let states = states_of(&phone);
        assert!(states[&wrong.client_id].voided, "{backend:?}");
        assert_eq!(states[&right.client_id].state, "approved", "{backend:?}");
        // Approved: it stays, and the phone says so.
        match void(right.client_id) {
            Err(sotay_core::FieldBookError::Conflict {
                code, message_vi, ..
            }) => {
                assert_eq!(code, "already_synced");
                assert!(
                    message_vi.contains("chỉ hủy được khi còn chờ duyệt"),
                    "{message_vi}"
                );
            }
            other => panic!("{backend:?}: {other:?}"),
        }

        // Voided on the phone, approved at the branch before the void
        // reaches it: the void is refused, saying the visit still counts.
        let late = visit(2);
        phone.book.sync(None).expect("sync");
        void(late.client_id).expect("void");
        let queue = api.get("/api/v1/batches?status=pending", &sup);
        let batch = queue.as_array().expect("queue")[0]["batch_id"]
            .as_str()
            .expect("batch id")
            .to_string();
        let (s, outcome) = api.post(
            &format!("/api/v1/batches/{batch}/approve"),
            &sup,
            json!({"cash_received": "0"}),
        );
        assert_eq!(s, StatusCode::OK, "{backend:?}: {outcome}");
        let report = phone.book.sync(None).expect("sync the late void");
        assert_eq!(report.rejected, 1, "{backend:?}: {report:?}");
        let states = states_of(&phone);
        assert!(!states[&late.client_id].voided, "{backend:?}");
        let refused = states
            .values()
            .find(|i| i.code.as_deref() == Some("void_after_approval"))
            .expect("the refused void");
        assert!(
            refused
                .message
                .as_deref()
                .is_some_and(|m| m.contains("Lượt thăm đã được duyệt trước khi lệnh hủy đến")),
            "{backend:?}: {refused:?}"
        );
        assert_eq!(visits_counted(), (2, 0), "{backend:?}");

        // Voided in a later batch that the supervisor turns down (the void
        // was wrong): the visit counts again, and is approved.
        let batch_of = |record: uuid::Uuid| {
            let queue = api.get("/api/v1/batches?status=pending", &sup);
            queue
                .as_array()
                .expect("queue")
                .iter()
                .map(|b| b["batch_id"].as_str().expect("batch id").to_string())
                .find(|b| {
                    let detail = api.get(&format!("/api/v1/batches/{b}"), &sup);
                    detail["records"]
                        .as_array()
                        .expect("records")
                        .iter()
                        .any(|r| r["record_id"] == record.to_string())
                })
                .expect("the record's batch")
        };
        let again = visit(1);
        phone.book.sync(None).expect("sync");
        let visit_batch = batch_of(again.client_id);
        let undo = void(again.client_id).expect("void");
        phone.book.sync(None).expect("sync the void");
        assert_eq!(visits_counted(), (2, 0), "{backend:?}");
        let void_batch = batch_of(undo.client_id);
        let (s, body) = api.post(
            &format!("/api/v1/batches/{void_batch}/reject"),
            &sup,
            json!({"reason": "Có thăm thật, không hủy"}),
        );
        assert_eq!(s, StatusCode::OK, "{backend:?}: {body}");
        assert_eq!(
            visits_counted(),
            (2, 1),
            "{backend:?}: the void stands no more: it waits for review"
        );
        let (s, outcome) = api.post(
            &format!("/api/v1/batches/{visit_batch}/approve"),
            &sup,
            json!({"cash_received": "0"}),
        );
        assert_eq!(s, StatusCode::OK, "{backend:?}: {outcome}");
        assert_eq!(visits_counted(), (3, 0), "{backend:?}");
        phone.book.sync(None).expect("sync after the decisions");
        let state = &states_of(&phone)[&again.client_id];
        assert!(!state.voided, "{backend:?}: {state:?}");
        assert_eq!(state.state, "approved", "{backend:?}: {state:?}");
    }
}

/// A receipt taken while a reversal of an earlier one waited, when the
/// reversal is turned down, no longer fits what the loan owes: the phone
/// says so on the loan, and refuses another collection naming it (not with
/// the amount the officer did not type).
#[test]
fn a_receipt_left_above_the_balance_by_a_reversal_turned_down_is_named() {
    let _turn = sotay_tests::one_at_a_time();
    let api_rt = tokio::runtime::Runtime::new().expect("runtime");
    for backend in BACKENDS {
        let db = api_rt.block_on(fresh_database(backend));
        let server = api_rt.block_on(Server::start(&db.url, &["--demo"]));
        let api = Api::of(&server);
        let sup = api.login("giamsat.thuduc", "e2e-branch-pc-04");
        let phone = Phone::new();
        phone.login(&server.base, "canbo.lan", PASSWORD);
        phone.book.sync(None).expect("first sync");
        let (worker, loan) = phone.loan_owing_more_than(400_000);
        let loan_now = || {
            phone
                .book
                .worker_detail(worker)
                .expect("detail")
                .loans
                .into_iter()
                .find(|l| l.loan_id == loan.loan_id)
                .expect("the loan")
        };
        let pay = |amount: Decimal| {
            phone.book.record_repayment(RepaymentInput {
                loan_id: loan.loan_id,
                amount,
                recorded_at: Utc::now(),
            })
        };
        let pending_batch = || {
            let queue = api.get("/api/v1/batches?status=pending", &sup);
            queue.as_array().expect("queue")[0]["batch_id"]
                .as_str()
                .expect("batch id")
                .to_string()
        };
        // All but 50.000 ₫ paid, approved.
        let most = loan.balance - Decimal::from(50_000);
        let first = pay(most).expect("repayment");
        phone.book.sync(None).expect("sync");
        let (s, body) = api.post(
            &format!("/api/v1/batches/{}/approve", pending_batch()),
            &sup,
            json!({"cash_received": most.to_string()}),
        );
        assert_eq!(s, StatusCode::OK, "{body}");
        phone.book.sync(None).expect("sync");
        // Asked back as typed wrong; meanwhile 100.000 ₫ taken on the books
        // as they would be.
        phone
            .book
            .request_reversal(CorrectionInput {
                target_id: first.client_id,
                reason: "Gõ nhầm số tiền".into(),
                recorded_at: Utc::now(),
            })
            .expect("reversal request");
        phone.book.sync(None).expect("sync");
        let asked = pending_batch();
        let taken = pay(Decimal::from(100_000)).expect("repayment on the books as they would be");
        phone.book.sync(None).expect("sync");
        let (s, body) = api.post(
            &format!("/api/v1/batches/{asked}/reject"),
            &sup,
            json!({"reason": "Phiếu đúng, không đảo"}),
        );
        assert_eq!(s, StatusCode::OK, "{body}");
        phone.book.sync(None).expect("sync");
        let l = loan_now();
        assert_eq!(
            (l.balance, l.unsynced_paid, l.unsynced_over_balance),
            (Decimal::from(50_000), Decimal::ZERO, Decimal::from(100_000)),
            "{backend:?}"
        );
        match pay(Decimal::from(50_000)) {
            Err(sotay_core::FieldBookError::Conflict {
                code, message_vi, ..
            }) => {
                assert_eq!(code, "receipt_waiting_over_balance", "{message_vi}");
                assert!(
                    message_vi.contains(&taken.receipt_no)
                        && message_vi.contains("100.000 ₫")
                        && message_vi.contains("50.000 ₫"),
                    "{backend:?}: {message_vi}"
                );
            }
            other => panic!("{backend:?}: {other:?}"),
        }
    }
}
