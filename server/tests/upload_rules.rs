//! Upload judging on SQLite and PostgreSQL: the rules applied across the
//! records of one batch, and the rules that depend on the supervisor's
//! decisions (record reviews and journal entries, written here straight
//! into the database).

mod common;

use chrono::Utc;
use common::{TestApp, BACKENDS};
use reqwest::StatusCode;
use sotay_core::domain::money::Dong;
use sotay_core::wire::{
    GiftHandoutPayload, PortfolioSnapshot, RecordBody, RepaymentPayload, ReversalRequestPayload,
    UploadBatch, UploadOutcome, UploadRecord, UploadResponse, UploadResult, VisitPayload,
    VisitPurpose, VoidPayload,
};
use sotay_server::db::Db;
use uuid::Uuid;

struct Phone {
    token: String,
    device: Uuid,
    code: String,
    seq: i64,
    receipts: i64,
}

async fn phone(app: &TestApp, username: &str, password: &str) -> Phone {
    let device = Uuid::now_v7();
    let (s, body) = app.login_raw(username, password, &device.to_string()).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    Phone {
        token: body["access_token"].as_str().unwrap().to_string(),
        device,
        code: body["device"]["code"].as_str().unwrap().to_string(),
        seq: 0,
        receipts: 0,
    }
}

/// Lan's portfolio in the fixture fund.
struct Lan {
    phone: Phone,
    /// Nguyễn Thị Lan (W-001) and her loan L-001.
    w1: Uuid,
    l1: Uuid,
    /// Đặng Thị Thu (W-002) and her loan L-002.
    w2: Uuid,
    l2: Uuid,
    l2_balance: i64,
    tet: Uuid,
}

async fn lan(app: &TestApp) -> Lan {
    let phone = phone(app, "canbo.lan", "officer-pass-1").await;
    let (s, body) = app.get("/api/v1/sync/changes", &phone.token).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let snap: PortfolioSnapshot = serde_json::from_value(body).unwrap();
    let loan = |no: &str| snap.loans.iter().find(|l| l.contract_no == no).unwrap();
    let (l1, l2) = (loan("L-001"), loan("L-002"));
    Lan {
        w1: l1.worker_id,
        l1: l1.id,
        w2: l2.worker_id,
        l2: l2.id,
        l2_balance: l2.balance.0,
        tet: snap.campaigns[0].id,
        phone,
    }
}

impl Phone {
    fn record(&mut self, body: RecordBody) -> UploadRecord {
        self.seq += 1;
        UploadRecord {
            client_id: Uuid::now_v7(),
            device_id: self.device,
            device_seq: self.seq,
            recorded_at: Utc::now(),
            body,
        }
    }

    fn pay(&mut self, loan: Uuid, worker: Uuid, amount: i64) -> UploadRecord {
        self.receipts += 1;
        let receipt_no = sotay_core::domain::rules::receipt_number(&self.code, self.receipts);
        self.record(RecordBody::Repayment(RepaymentPayload {
            loan_id: loan,
            worker_id: worker,
            amount: Dong(amount),
            receipt_no,
        }))
    }

    fn gift(&mut self, campaign: Uuid, worker: Uuid) -> UploadRecord {
        self.record(RecordBody::GiftHandout(GiftHandoutPayload {
            campaign_id: campaign,
            worker_id: worker,
            acknowledged_name: "Đã nhận".into(),
            signature_sha256: None,
        }))
    }

    fn visit(&mut self, worker: Uuid) -> UploadRecord {
        self.record(RecordBody::Visit(VisitPayload {
            worker_id: worker,
            purpose: VisitPurpose::RepaymentFollowUp,
            outcome: "Đã gặp".into(),
            notes: String::new(),
            location: None,
        }))
    }

    fn void(&mut self, target: &UploadRecord) -> UploadRecord {
        self.record(RecordBody::Void(VoidPayload {
            target_id: target.client_id,
            reason: "Nhập nhầm".into(),
        }))
    }

    fn reversal(&mut self, target: &UploadRecord) -> UploadRecord {
        self.record(RecordBody::ReversalRequest(ReversalRequestPayload {
            target_id: target.client_id,
            reason: "Thu nhầm khoản vay".into(),
        }))
    }
}

type Outcome = (UploadOutcome, Option<String>);

const OK: Outcome = (UploadOutcome::Accepted, None);
const DUP: Outcome = (UploadOutcome::Duplicate, None);

fn no(code: &str) -> Outcome {
    (UploadOutcome::Rejected, Some(code.to_string()))
}

/// The outcomes of batch `i` of a group stored by `Db::upload_group`.
fn outcomes_of(
    results: &[Result<UploadResponse, sotay_server::db::DbError>],
    i: usize,
) -> Vec<Outcome> {
    let r = results[i]
        .as_ref()
        .unwrap_or_else(|e| panic!("batch {i}: {e}"));
    r.results
        .iter()
        .map(|r| (r.outcome, r.code.clone()))
        .collect()
}

/// Uploads `records` as one new batch; the outcomes in order.
async fn up(app: &TestApp, p: &Phone, records: &[&UploadRecord]) -> Vec<Outcome> {
    results(app, p, records)
        .await
        .into_iter()
        .map(|r| (r.outcome, r.code))
        .collect()
}

/// Uploads `records` as one batch: the result of each, in order.
async fn results(app: &TestApp, p: &Phone, records: &[&UploadRecord]) -> Vec<UploadResult> {
    let batch = UploadBatch {
        batch_id: Uuid::now_v7(),
        device_id: p.device,
        records: records.iter().map(|r| (*r).clone()).collect(),
        approved_before: Vec::new(),
    };
    let (s, body) = app
        .post(
            "/api/v1/sync/batches",
            &p.token,
            &serde_json::to_value(&batch).unwrap(),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let r: UploadResponse = serde_json::from_value(body).unwrap();
    assert_eq!(
        r.results.iter().map(|r| r.client_id).collect::<Vec<_>>(),
        batch
            .records
            .iter()
            .map(|r| r.client_id)
            .collect::<Vec<_>>(),
        "one result per record, in order"
    );
    r.results
}

/// Runs `$body` with `$p` the app's pool, whichever the backend.
macro_rules! on_pool {
    ($app:expr, $p:ident => $body:expr) => {
        match &$app.db {
            Db::Sqlite($p) => $body,
            Db::Postgres($p) => $body,
        }
    };
}

/// A stored record's id and batch.
async fn stored(app: &TestApp, record: &UploadRecord) -> (i64, Uuid) {
    let sql = "SELECT id, batch_id FROM sync_records WHERE client_id = $1";
    on_pool!(app, p => sqlx::query_as(sql).bind(record.client_id).fetch_one(p).await.expect("stored record"))
}

async fn user_id(app: &TestApp, username: &str) -> (i64, i64) {
    let sql = "SELECT id, branch_id FROM users WHERE username = $1";
    on_pool!(app, p => sqlx::query_as(sql).bind(username).fetch_one(p).await.expect("user"))
}

/// The supervisor's decision on one record (and on its batch, once).
async fn decide(app: &TestApp, record: &UploadRecord, decision: &str) {
    let (id, batch) = stored(app, record).await;
    let (reviewer, _) = user_id(app, "giamsat.td").await;
    let now = Utc::now();
    let batch_sql = "INSERT INTO batch_reviews (batch_id, decision, reviewer_id, reason, cash_expected, cash_received, decided_at)
        VALUES ($1, 'approved', $2, NULL, 0, 0, $3) ON CONFLICT (batch_id) DO NOTHING";
    let record_sql =
        "INSERT INTO record_reviews (record_id, batch_id, decision, reason, decided_at)
        VALUES ($1, $2, $3, 'kiểm tra', $4)";
    on_pool!(app, p => {
        sqlx::query(batch_sql).bind(batch).bind(reviewer).bind(now).execute(p).await.expect("batch review");
        sqlx::query(record_sql).bind(id).bind(batch).bind(decision).bind(now).execute(p).await.expect("record review");
    });
}

/// Approves a record, posts it and posts the entry that reverses it.
async fn approve_and_reverse(app: &TestApp, record: &UploadRecord, kind: &str) {
    decide(app, record, "approved").await;
    let (id, batch) = stored(app, record).await;
    let (poster, branch) = user_id(app, "giamsat.td").await;
    let now = Utc::now();
    // Entry ids are assigned as the posting code does: the next after the last.
    let post = "INSERT INTO journal_entries (id, branch_id, kind, record_id, batch_id, posted_by, posted_at, memo)
        VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM journal_entries), $1, $2, $3, $4, $5, $6, 'ghi sổ') RETURNING id";
    let reverse =
        "INSERT INTO journal_entries (id, branch_id, kind, reverses, posted_by, posted_at, memo)
        VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM journal_entries), $1, 'reversal', $2, $3, $4, 'đảo bút toán')";
    on_pool!(app, p => {
        let entry: i64 = sqlx::query_scalar(post)
            .bind(branch).bind(kind).bind(id).bind(batch).bind(poster).bind(now)
            .fetch_one(p).await.expect("entry");
        sqlx::query(reverse).bind(branch).bind(entry).bind(poster).bind(now)
            .execute(p).await.expect("reversal entry");
    });
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    on_pool!(app, p => sqlx::query_scalar(sql).fetch_one(p).await.expect("count"))
}

async fn set_quota(app: &TestApp, quota: i64) {
    let sql = "UPDATE campaign_officer_quotas SET quota = $1
        WHERE officer_id = (SELECT id FROM users WHERE username = 'canbo.lan')";
    on_pool!(app, p => {
        sqlx::query(sql).bind(quota).execute(p).await.expect("quota");
    });
}

#[tokio::test]
async fn records_of_one_batch_see_the_records_before_them() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let mut lan = lan(&app).await;
        let (w1, w2, l1, l2, tet) = (lan.w1, lan.w2, lan.l1, lan.l2, lan.tet);
        let p = &mut lan.phone;

        // Two repayments on one loan that together pay more than is owed;
        // two gifts to one worker; one receipt number twice.
        let a = p.pay(l2, w2, lan.l2_balance - 100_000);
        let b = p.pay(l2, w2, 200_000);
        let c = p.pay(l2, w2, 100_000);
        let g1 = p.gift(tet, w1);
        let g2 = p.gift(tet, w1);
        let d = p.pay(l1, w1, 50_000);
        let mut same_receipt = p.pay(l1, w1, 60_000);
        if let (RecordBody::Repayment(x), RecordBody::Repayment(y)) =
            (&d.body, &mut same_receipt.body)
        {
            y.receipt_no = x.receipt_no.clone();
        }
        let got = up(&app, p, &[&a, &b, &c, &g1, &g2, &d, &same_receipt]).await;
        assert_eq!(
            got,
            [
                OK,
                no("amount_above_outstanding"),
                OK,
                OK,
                no("already_received"),
                OK,
                no("receipt_duplicate")
            ],
            "{backend:?}"
        );
        // A repayment dated before its loan was paid out (a phone's clock
        // gone back years) is refused, saying both days.
        let mut early = p.pay(l1, w1, 10_000);
        early.recorded_at = chrono::DateTime::parse_from_rfc3339("2020-01-01T01:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let refused = results(&app, p, &[&early]).await.remove(0);
        assert_eq!(
            refused.code.as_deref(),
            Some("recorded_before_disbursement"),
            "{refused:?}"
        );
        assert!(
            refused
                .message_vi
                .as_deref()
                .is_some_and(|m| m.starts_with("Ngày ghi 01/01/2020 trước ngày giải ngân")),
            "{refused:?}"
        );
        // A visit's notes longer than a record keeps: refused, saying so.
        let mut long = p.visit(w1);
        if let RecordBody::Visit(v) = &mut long.body {
            v.notes = "Ghi chú rất dài. ".repeat(200);
        }
        let refused = results(&app, p, &[&long]).await.remove(0);
        assert_eq!(
            refused.code.as_deref(),
            Some("text_too_long"),
            "{backend:?}: {refused:?}"
        );
        // A repayment of 5 ₫ (the phone refuses it unless it pays the loan
        // off, as the phone saw the loan): its receipt was handed over, so
        // it is taken, and flagged for the supervisor counting the cash.
        let small = p.pay(l1, w1, 5);
        assert_eq!(up(&app, p, &[&small]).await, [OK], "{backend:?}");
        let (_, batch) = stored(&app, &small).await;
        let sup = app
            .token("giamsat.td", "super-pass-1", "test-device-0051")
            .await;
        let (_, detail) = app.get(&format!("/api/v1/batches/{batch}"), &sup).await;
        let flags = detail["records"][0]["anomalies"].to_string();
        assert!(flags.contains("small_amount"), "{backend:?}: {detail}");
        assert!(flags.contains("Phiếu thu 5 ₫, dưới 1.000 ₫"), "{flags}");
        // The loan is now fully collected (pending review): nothing more
        // fits, and the refusal says what waits on it.
        let e = p.pay(l2, w2, 1);
        let refused = results(&app, p, &[&e]).await.remove(0);
        assert_eq!(
            refused.code.as_deref(),
            Some("amount_above_outstanding"),
            "{refused:?}"
        );
        let said = refused.message_vi.unwrap_or_default();
        assert!(
            said.contains("các phiếu thu khác trên khoản vay đang chờ giám sát duyệt"),
            "{said}"
        );

        // A void of a record earlier in the same batch frees what it took;
        // a void of a record later in the batch finds nothing yet.
        let v_a = p.void(&a);
        let f = p.pay(l2, w2, 300_000);
        let v_g1 = p.void(&g1);
        let g3 = p.gift(tet, w1);
        let h = p.visit(w2);
        let v_h_early = p.void(&h);
        let v_again = p.void(&a);
        let batch = [&v_a, &f, &v_g1, &g3, &v_h_early, &h, &v_again];
        assert_eq!(
            up(&app, p, &batch).await,
            [
                OK,
                OK,
                OK,
                OK,
                no("void_target_invalid"),
                OK,
                no("void_target_invalid")
            ],
            "{backend:?}"
        );
        // A void in the same batch as its target, then a void of that void.
        let i = p.pay(l1, w1, 10_000);
        let v_i = p.void(&i);
        let v_v_i = p.void(&v_i);
        let rr_i = p.reversal(&i);
        assert_eq!(
            up(&app, p, &[&i, &v_i, &v_v_i, &rr_i]).await,
            [OK, OK, OK, no("reversal_target_invalid")]
        );

        // The officer's allocation is used up as the batch goes.
        set_quota(&app, 2).await; // g3 holds one of the two
        let g4 = p.gift(tet, w2);
        let g5 = p.gift(tet, w2);
        let v_g3 = p.void(&g3);
        let g6 = p.gift(tet, w1);
        let g7 = p.gift(tet, w1);
        assert_eq!(
            up(&app, p, &[&g4, &g5, &v_g3, &g6, &g7]).await,
            [OK, no("already_received"), OK, OK, no("already_received")],
            "{backend:?}"
        );
        // Voiding g6 frees the worker but not the allocation: g4 holds the only one.
        let k = p.visit(w1);
        set_quota(&app, 1).await;
        let v_g6 = p.void(&g6);
        let g8 = p.gift(tet, w1);
        assert_eq!(
            up(&app, p, &[&k, &v_g6, &g8]).await,
            [OK, OK, no("allocation_used_up")],
            "{backend:?}"
        );

        // One record id twice in a batch: the second is a duplicate; with
        // other content, a conflict.
        let m = p.visit(w1);
        let mut m_other = m.clone();
        m_other.device_seq += 1000;
        let n_rejected = p.pay(l2, w2, 5_000_000);
        assert_eq!(
            up(&app, p, &[&m, &m, &m_other, &n_rejected, &n_rejected]).await,
            [
                OK,
                DUP,
                no("conflict"),
                no("amount_above_outstanding"),
                no("amount_above_outstanding")
            ]
        );
        // Each record is stored once.
        let count = app.db.count("sync_records").await.unwrap();
        // (the one dated before its loan, the long notes and the slip are
        // kept too, refused).
        assert_eq!(count, 7 + 1 + 1 + 1 + 1 + 7 + 4 + 5 + 3 + 2, "{backend:?}");
    }
}

#[tokio::test]
async fn a_revoked_phone_changes_nothing_for_the_records_after() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let mut lan = lan(&app).await;
        let sup = app
            .token("giamsat.td", "super-pass-1", "test-device-0050")
            .await;
        let mut other = phone(&app, "canbo.lan", "officer-pass-1").await;
        app.revoke(&sup, lan.phone.device).await;
        let p = &mut lan.phone;
        let g = p.gift(lan.tet, lan.w1);
        let a = p.pay(lan.l2, lan.w2, lan.l2_balance);
        assert_eq!(
            up(&app, p, &[&g, &a]).await,
            [no("device_revoked"), no("device_revoked")]
        );
        // A quarantined gift holds its worker's gift (the package may well
        // be in the worker's hands); a quarantined repayment holds nothing
        // of the balance.
        let g2 = other.gift(lan.tet, lan.w1);
        let b = other.pay(lan.l2, lan.w2, lan.l2_balance);
        assert_eq!(
            up(&app, &other, &[&g2, &b]).await,
            [no("already_received"), OK],
            "{backend:?}"
        );
        // The cash and the package are out there all the same: the batch
        // (nothing to decide, off the queue) counts the cash the officer
        // holds, lists both with the records refused at upload, and the
        // supervisor settles them once the worker's cash is taken at the
        // counter.
        let (_, queue) = app.get("/api/v1/batches?status=pending", &sup).await;
        assert!(
            !queue
                .as_array()
                .unwrap()
                .iter()
                .any(|b| b["device_id"] == lan.phone.device.to_string()),
            "{queue}"
        );
        let (_, queue) = app.get("/api/v1/batches?status=refused", &sup).await;
        let held = queue
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["device_id"] == lan.phone.device.to_string())
            .unwrap_or_else(|| panic!("{queue}"));
        assert_eq!(held["cash_collected"], "0", "{held}");
        let (s, detail) = app
            .get(
                &format!("/api/v1/batches/{}", held["batch_id"].as_str().unwrap()),
                &sup,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{detail}");
        assert_eq!(
            detail["refused_cash"],
            lan.l2_balance.to_string(),
            "{detail}"
        );
        let listed: Vec<&str> = detail["refused_at_upload"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["kind"].as_str().unwrap())
            .collect();
        assert_eq!(listed, ["gift_handout", "repayment"], "{detail}");
        let (s, body) = app
            .post(
                &format!("/api/v1/records/{}/settle", a.client_id),
                &sup,
                &serde_json::json!({"note": "Thu tại quầy, phiếu thu giữ nguyên"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (_, detail) = app
            .get(
                &format!("/api/v1/batches/{}", held["batch_id"].as_str().unwrap()),
                &sup,
            )
            .await;
        assert_eq!(detail["refused_cash"], "0", "{detail}");
        // A repayment the officer voided on the phone before it came back:
        // no cash held, not on the list.
        let taken_back = lan.phone.pay(lan.l2, lan.w2, 50_000);
        let void = lan.phone.void(&taken_back);
        assert_eq!(
            up(&app, &lan.phone, &[&taken_back, &void]).await,
            [no("device_revoked"), no("device_revoked")]
        );
        let (_, queue) = app.get("/api/v1/batches?status=refused", &sup).await;
        for batch in queue.as_array().unwrap() {
            let (_, detail) = app
                .get(
                    &format!("/api/v1/batches/{}", batch["batch_id"].as_str().unwrap()),
                    &sup,
                )
                .await;
            assert_eq!(detail["refused_cash"], "0", "{detail}");
            assert!(
                !detail["refused_at_upload"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r["record_id"] == taken_back.client_id.to_string()),
                "{detail}"
            );
        }
        // Nor on the queue's list.
        let (queue, _) = app
            .db
            .refused_handovers(None, chrono::DateTime::UNIX_EPOCH, 100)
            .await
            .unwrap();
        let listed: Vec<Uuid> = queue.iter().map(|r| r.record.client_id).collect();
        assert!(listed.contains(&g.client_id), "{listed:?}");
        assert!(!listed.contains(&taken_back.client_id), "{listed:?}");
        // What the rules would have said of a record is kept with it: an
        // amount above what the loan owes reads so to the supervisor.
        let over = lan.phone.pay(lan.l2, lan.w2, lan.l2_balance * 10);
        let r = results(&app, &lan.phone, &[&over]).await;
        assert_eq!(r[0].code.as_deref(), Some("device_revoked"), "{r:?}");
        let en = r[0].message_en.as_deref().unwrap_or_default();
        assert!(
            en.starts_with("the device was revoked")
                && en.contains("the server would also have refused it"),
            "{en}"
        );
    }
}

#[tokio::test]
async fn supervisor_decisions_shape_what_an_upload_may_do() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let mut lan = lan(&app).await;
        let (w1, w2, l1, l2, tet) = (lan.w1, lan.w2, lan.l1, lan.l2, lan.tet);
        let mut hung = phone(&app, "canbo.hung", "officer-pass-2").await;
        let p = &mut lan.phone;

        // Repayments: only pending ones count against the balance.
        let a = p.pay(l2, w2, lan.l2_balance - 100_000);
        assert_eq!(up(&app, p, &[&a]).await, [OK]);
        let b = p.pay(l2, w2, 200_000);
        assert_eq!(up(&app, p, &[&b]).await, [no("amount_above_outstanding")]);
        decide(&app, &a, "rejected").await;
        let c = p.pay(l2, w2, 200_000);
        assert_eq!(
            up(&app, p, &[&c]).await,
            [OK],
            "{backend:?}: a rejected repayment is not pending"
        );
        // An approved repayment is in the installments, not pending (this
        // test does not move it there, so the whole balance is free again).
        decide(&app, &c, "approved").await;
        let d = p.pay(l2, w2, lan.l2_balance);
        assert_eq!(
            up(&app, p, &[&d]).await,
            [OK],
            "{backend:?}: an approved repayment is not pending"
        );
        let e = p.pay(l1, w1, 10_000);
        assert_eq!(up(&app, p, &[&e]).await, [OK]);
        decide(&app, &e, "excluded").await;

        // Voids: only of a pending record.
        let v_c = p.void(&c);
        let v_a = p.void(&a);
        let v_e = p.void(&e);
        let v_d = p.void(&d);
        assert_eq!(
            up(&app, p, &[&v_c, &v_a, &v_e, &v_d]).await,
            [
                no("void_after_approval"),
                no("void_target_invalid"),
                no("void_target_invalid"),
                OK
            ],
            "{backend:?}"
        );
        // The approval message says what to do instead.
        let v_c2 = p.void(&c);
        let r = &results(&app, p, &[&v_c2]).await[0];
        assert_eq!(
            r.message_vi.as_deref(),
            Some("Bản ghi đã được duyệt nên không hủy được; hãy đề nghị đảo bút toán")
        );
        assert_eq!(
            r.message_en.as_deref(),
            Some("the record is already approved and cannot be voided; request a reversal instead")
        );

        // A void the supervisor rejected cancels nothing: the gift counts again.
        let g1 = p.gift(tet, w1);
        let v_g1 = p.void(&g1);
        assert_eq!(up(&app, p, &[&g1, &v_g1]).await, [OK, OK]);
        decide(&app, &v_g1, "rejected").await;
        let g2 = p.gift(tet, w1);
        assert_eq!(
            up(&app, p, &[&g2]).await,
            [no("already_received")],
            "{backend:?}"
        );
        // An approved void still cancels.
        let g3 = p.gift(tet, w2);
        let v_g3 = p.void(&g3);
        assert_eq!(up(&app, p, &[&g3, &v_g3]).await, [OK, OK]);
        decide(&app, &v_g3, "approved").await;
        let g4 = p.gift(tet, w2);
        assert_eq!(up(&app, p, &[&g4]).await, [OK], "{backend:?}");

        // A reversed gift is no longer received, and frees the allocation.
        set_quota(&app, 2).await; // g1 and g4 hold both
        approve_and_reverse(&app, &g1, "gift").await;
        let rr_g1 = p.reversal(&g1);
        let g5 = p.gift(tet, w1);
        let g6 = p.gift(tet, w1);
        assert_eq!(
            up(&app, p, &[&rr_g1, &g5, &g6]).await,
            [no("reversal_target_invalid"), OK, no("already_received")],
            "{backend:?}"
        );
        let g7 = p.gift(tet, w2);
        assert_eq!(up(&app, p, &[&g7]).await, [no("already_received")]);
        set_quota(&app, 3).await;
        decide(&app, &g4, "excluded").await;
        let g8 = p.gift(tet, w2);
        assert_eq!(
            up(&app, p, &[&g8]).await,
            [OK],
            "{backend:?}: an excluded gift is not live"
        );
        let g9 = p.gift(tet, w2);
        assert_eq!(up(&app, p, &[&g9]).await, [no("already_received")]);

        // Reversal requests: of this officer's live repayment or handout, not
        // reversed, once while a request waits.
        let visit = p.visit(w1);
        assert_eq!(up(&app, p, &[&visit]).await, [OK]);
        let rr1 = p.reversal(&c); // approved repayment
        let rr2 = p.reversal(&c); // the same target again in the batch
        let rr_visit = p.reversal(&visit);
        let rr_rejected = p.reversal(&a); // rejected by the supervisor
        let rr_voided = p.reversal(&d); // voided
        let rr_excluded = p.reversal(&e); // excluded
        let rr_pending = p.reversal(&g5); // pending handout
        assert_eq!(
            up(
                &app,
                p,
                &[
                    &rr1,
                    &rr2,
                    &rr_visit,
                    &rr_rejected,
                    &rr_voided,
                    &rr_excluded,
                    &rr_pending
                ]
            )
            .await,
            [
                OK,
                no("reversal_target_invalid"),
                no("reversal_target_invalid"),
                no("reversal_target_invalid"),
                no("reversal_target_invalid"),
                no("reversal_target_invalid"),
                OK
            ],
            "{backend:?}"
        );
        // Someone else's record.
        let hung_w = {
            let (_, body) = app.get("/api/v1/sync/changes", &hung.token).await;
            let s: PortfolioSnapshot = serde_json::from_value(body).unwrap();
            s.workers[0].id
        };
        let theirs = hung.visit(hung_w);
        assert_eq!(up(&app, &hung, &[&theirs]).await, [OK]);
        let rr_theirs = p.reversal(&theirs);
        let v_theirs = p.void(&theirs);
        assert_eq!(
            up(&app, p, &[&rr_theirs, &v_theirs]).await,
            [no("reversal_target_invalid"), no("void_target_invalid")]
        );
        // While rr1 waits, no second request; once it is rejected, or voided, a new one may go.
        let rr3 = p.reversal(&c);
        assert_eq!(up(&app, p, &[&rr3]).await, [no("reversal_target_invalid")]);
        decide(&app, &rr1, "rejected").await;
        let rr4 = p.reversal(&c);
        let rr5 = p.reversal(&c);
        assert_eq!(
            up(&app, p, &[&rr4, &rr5]).await,
            [OK, no("reversal_target_invalid")]
        );
        let v_rr4 = p.void(&rr4);
        let rr6 = p.reversal(&c);
        assert_eq!(up(&app, p, &[&v_rr4, &rr6]).await, [OK, OK], "{backend:?}");
        // An approved request is decided, so it no longer blocks; a reversed
        // record cannot be asked again.
        decide(&app, &rr6, "approved").await;
        let rr7 = p.reversal(&c);
        assert_eq!(up(&app, p, &[&rr7]).await, [OK]);
        approve_and_reverse(&app, &g5, "gift").await;
        decide(&app, &rr_pending, "approved").await;
        let rr8 = p.reversal(&g5);
        assert_eq!(
            up(&app, p, &[&rr8]).await,
            [no("reversal_target_invalid")],
            "{backend:?}"
        );
    }
}

/// A loan's collections pending review count against what it owes until
/// the supervisor decides them or a live void takes them back, whichever
/// batch the void came in; a void the supervisor rejected takes nothing back.
#[tokio::test]
async fn pending_collections_count_until_decided_or_voided() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let mut lan = lan(&app).await;
        let (w1, w2, l1, l2, balance) = (lan.w1, lan.w2, lan.l1, lan.l2, lan.l2_balance);
        let p = &mut lan.phone;

        let a = p.pay(l2, w2, balance - 100_000);
        assert_eq!(up(&app, p, &[&a]).await, [OK]);
        let b = p.pay(l2, w2, 100_001);
        assert_eq!(up(&app, p, &[&b]).await, [no("amount_above_outstanding")]);
        // A void in a later batch frees the whole amount.
        let v_a = p.void(&a);
        assert_eq!(up(&app, p, &[&v_a]).await, [OK]);
        let c = p.pay(l2, w2, balance);
        assert_eq!(
            up(&app, p, &[&c]).await,
            [OK],
            "{backend:?}: a voided collection is not pending"
        );
        // A void the supervisor rejected: the collection counts again.
        let v_c = p.void(&c);
        assert_eq!(up(&app, p, &[&v_c]).await, [OK]);
        decide(&app, &v_c, "rejected").await;
        let d = p.pay(l2, w2, 1);
        assert_eq!(
            up(&app, p, &[&d]).await,
            [no("amount_above_outstanding")],
            "{backend:?}: a collection whose void was rejected is pending"
        );
        // Two collections in one batch, the first voided in the next batch
        // with a third collection after the void.
        let e = p.pay(l1, w1, 10_000);
        let f = p.pay(l1, w1, 20_000);
        assert_eq!(up(&app, p, &[&e, &f]).await, [OK, OK]);
        let l1_owed: i64 = on_pool!(app, pool => sqlx::query_scalar(
            "SELECT CAST(SUM(principal_due + interest_due - principal_paid - interest_paid) AS BIGINT)
             FROM installments WHERE loan_id = (SELECT id FROM loans WHERE uid = $1)",
        )
        .bind(l1)
        .fetch_one(pool)
        .await
        .expect("owed"));
        let v_e = p.void(&e);
        let g = p.pay(l1, w1, l1_owed - 20_000);
        let h = p.pay(l1, w1, 1);
        assert_eq!(
            up(&app, p, &[&v_e, &g, &h]).await,
            [OK, OK, no("amount_above_outstanding")],
            "{backend:?}"
        );

        // The loan's installments paid off under its pending collections
        // (as a correction of the loan's books would): nothing is left to
        // collect, and the officer is told so.
        on_pool!(app, pool => {
            sqlx::query(
            "UPDATE installments SET principal_paid = principal_due, interest_paid = interest_due
             WHERE loan_id = (SELECT id FROM loans WHERE uid = $1)",
        )
        .bind(l1)
        .execute(pool)
        .await
        .expect("pay off");
        });
        let k = p.pay(l1, w1, 50_000);
        let r = &results(&app, p, &[&k]).await[0];
        assert_eq!(r.code.as_deref(), Some("amount_above_outstanding"));
        assert_eq!(
            r.message_vi.as_deref(),
            Some(
                "Số tiền 50.000 ₫ lớn hơn số còn thu được trên khoản vay, 0 ₫: khoản vay còn phải trả 0 ₫ \
                 (gốc và lãi theo lịch) và các phiếu thu khác trên khoản vay đang chờ giám sát duyệt 9.311.538 ₫"
            ),
            "{backend:?}"
        );
    }
}

/// Batches stored together (one transaction, a savepoint each, as the upload
/// queue stores the ones that arrive at once) are judged exactly as one
/// after the other: later batches see what earlier ones stored, a replay
/// gets the stored answer, a reused batch id or a batch that fails gets its
/// own error and leaves nothing behind, and the others are stored.
#[tokio::test]
async fn batches_stored_together_are_judged_one_after_the_other() {
    use sotay_server::db::{CanonicalBatch, UploadJob, Uploader};
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let mut lan = lan(&app).await;
        let (w1, l1, tet) = (lan.w1, lan.l1, lan.tet);
        let (officer, _) = user_id(&app, "canbo.lan").await;
        let p = &mut lan.phone;
        let who = Uploader {
            officer_id: officer,
            username: "canbo.lan".into(),
            device_id: p.device.to_string(),
            device_code: p.code.clone(),
            device_revoked: false,
            ip: None,
        };
        let unknown_device = Uploader {
            device_id: Uuid::now_v7().to_string(),
            ..who.clone()
        };
        let device = p.device;
        let batch = |records: Vec<UploadRecord>| UploadBatch {
            batch_id: Uuid::now_v7(),
            device_id: device,
            records,
            approved_before: Vec::new(),
        };
        let pay = p.pay(l1, w1, 50_000);
        let gift = p.gift(tet, w1);
        let first = batch(vec![pay.clone(), gift.clone()]);
        let mut reused_id = batch(vec![p.visit(w1)]);
        reused_id.batch_id = first.batch_id;
        let broken = batch(vec![p.visit(w1)]);
        let mut changed = pay.clone();
        if let RecordBody::Repayment(r) = &mut changed.body {
            r.amount = Dong(60_000);
        }
        let mut same_receipt = p.pay(l1, w1, 10_000);
        if let (RecordBody::Repayment(x), RecordBody::Repayment(y)) =
            (&pay.body, &mut same_receipt.body)
        {
            y.receipt_no = x.receipt_no.clone();
        }
        let second_gift = p.gift(tet, w1);
        let later = batch(vec![pay.clone(), changed, same_receipt, second_gift]);
        let canonical: Vec<CanonicalBatch> = [&first, &first, &reused_id, &broken, &later]
            .into_iter()
            .map(|b| CanonicalBatch::new(b.clone()).unwrap())
            .collect();
        let jobs = [
            UploadJob {
                who: &who,
                batch: &canonical[0],
            },
            UploadJob {
                who: &who,
                batch: &canonical[1],
            },
            UploadJob {
                who: &who,
                batch: &canonical[2],
            },
            UploadJob {
                who: &unknown_device,
                batch: &canonical[3],
            },
            UploadJob {
                who: &who,
                batch: &canonical[4],
            },
        ];
        let results = app
            .db
            .upload_group(&jobs)
            .await
            .expect("the group's transaction");
        let outcomes = |i: usize| outcomes_of(&results, i);
        assert_eq!(outcomes(0), [OK, OK], "{backend:?}");
        assert_eq!(
            outcomes(1),
            [OK, OK],
            "a replay gets the stored answer ({backend:?})"
        );
        assert!(
            matches!(&results[2], Err(sotay_server::db::DbError::Conflict(c)) if c == "batch_conflict"),
            "{backend:?}: {:?}",
            results[2]
        );
        assert!(
            results[3].is_err(),
            "a batch of an unknown device is refused by the keys ({backend:?})"
        );
        assert_eq!(
            outcomes(4),
            [
                DUP,
                no("conflict"),
                no("receipt_duplicate"),
                no("already_received")
            ],
            "{backend:?}"
        );

        // Stored: the first and the last batch, with their audit lines;
        // nothing of the two that failed.
        let batches = count(&app, "SELECT COUNT(*) FROM sync_batches").await;
        assert_eq!(batches, 2, "{backend:?}");
        let records = count(&app, "SELECT COUNT(*) FROM sync_records").await;
        assert_eq!(records, 2 + 2, "{backend:?}");
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'upload'"
            )
            .await,
            3,
            "the replay is audited too, the failed batches are not ({backend:?})"
        );
        // The same batch again, alone, still gets the stored answer.
        let again = app.db.upload(&who, &canonical[0]).await.expect("replay");
        assert_eq!(
            again,
            results[0].as_ref().cloned().expect("first"),
            "{backend:?}"
        );
    }
}

/// Batches of several officers stored together in one statement per table
/// (the upload queue's group) are judged as if each came alone, one after
/// the other: each officer's own quota, loans and workers, a replay in the
/// same group answered like the first, a reused batch id refused, a void
/// that frees a gift for a batch after it.
#[tokio::test]
async fn officers_stored_together_are_judged_as_if_alone() {
    use sotay_server::db::{CanonicalBatch, UploadJob, Uploader};
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let mut lan = lan(&app).await;
        let (w1, w2, l1, tet) = (lan.w1, lan.w2, lan.l1, lan.tet);
        let mut hung = phone(&app, "canbo.hung", "officer-pass-2").await;
        let (_, body) = app.get("/api/v1/sync/changes", &hung.token).await;
        let snap: PortfolioSnapshot = serde_json::from_value(body).unwrap();
        let (w3, l3) = (snap.workers[0].id, snap.loans[0].id);
        // One gift each: Lan's quota is hers, Hùng's is his.
        set_quota(&app, 1).await;
        let (lan_id, _) = user_id(&app, "canbo.lan").await;
        let (hung_id, _) = user_id(&app, "canbo.hung").await;
        let quota = "INSERT INTO campaign_officer_quotas (campaign_id, officer_id, quota)
            SELECT campaign_id, $1, 1 FROM campaign_officer_quotas WHERE officer_id = $2";
        let member = "UPDATE workers SET union_member = $1 WHERE uid = $2";
        on_pool!(app, p => {
            sqlx::query(quota).bind(hung_id).bind(lan_id).execute(p).await.expect("quota");
            sqlx::query(member).bind(true).bind(w3).execute(p).await.expect("member");
        });
        let uploader = |id: i64, username: &str, p: &Phone| Uploader {
            officer_id: id,
            username: username.into(),
            device_id: p.device.to_string(),
            device_code: p.code.clone(),
            device_revoked: false,
            ip: None,
        };
        let (lan_who, hung_who) = (
            uploader(lan_id, "canbo.lan", &lan.phone),
            uploader(hung_id, "canbo.hung", &hung),
        );
        let (lan_device, hung_device) = (lan.phone.device, hung.device);
        let batch = |device: Uuid, records: Vec<UploadRecord>| UploadBatch {
            batch_id: Uuid::now_v7(),
            device_id: device,
            records,
            approved_before: Vec::new(),
        };
        let p = &mut lan.phone;
        let lans_first = batch(lan_device, vec![p.gift(tet, w1), p.pay(l1, w1, 10_000)]);
        let hung_gift = hung.gift(tet, w3);
        let hungs = batch(
            hung_device,
            vec![hung_gift.clone(), hung.pay(l3, w3, 10_000), hung.visit(w1)],
        );
        let lans_second = batch(lan_device, vec![p.gift(tet, w2)]);
        let mut reused = batch(lan_device, vec![p.visit(w2)]);
        reused.batch_id = lans_first.batch_id;
        let hungs_void = batch(hung_device, vec![hung.void(&hung_gift), hung.gift(tet, w3)]);
        let canonical: Vec<CanonicalBatch> = [
            &lans_first,
            &hungs,
            &lans_second,
            &lans_first,
            &reused,
            &hungs_void,
        ]
        .into_iter()
        .map(|b| CanonicalBatch::new(b.clone()).unwrap())
        .collect();
        let who = [&lan_who, &hung_who, &lan_who, &lan_who, &lan_who, &hung_who];
        let jobs: Vec<UploadJob<'_>> = who
            .into_iter()
            .zip(&canonical)
            .map(|(who, batch)| UploadJob { who, batch })
            .collect();
        let results = app.db.upload_group(&jobs).await.expect("the group");
        let outcomes = |i: usize| outcomes_of(&results, i);
        assert_eq!(outcomes(0), [OK, OK], "{backend:?}");
        assert_eq!(
            outcomes(1),
            [OK, OK, no("worker_not_in_portfolio")],
            "{backend:?}: Hùng's quota is his own"
        );
        assert_eq!(outcomes(2), [no("allocation_used_up")], "{backend:?}");
        assert_eq!(outcomes(3), outcomes(0), "{backend:?}: the replay");
        assert!(
            matches!(&results[4], Err(sotay_server::db::DbError::Conflict(c)) if c == "batch_conflict"),
            "{backend:?}: {:?}",
            results[4]
        );
        assert_eq!(
            outcomes(5),
            [OK, OK],
            "{backend:?}: the void gives the gift back to the worker and the quota"
        );
        // Stored once each, in one statement per table at one moment.
        assert_eq!(count(&app, "SELECT COUNT(*) FROM sync_batches").await, 4);
        assert_eq!(count(&app, "SELECT COUNT(*) FROM sync_records").await, 8);
        assert_eq!(
            count(&app, "SELECT COUNT(DISTINCT received_at) FROM sync_batches").await,
            1,
            "{backend:?}: the group was stored as one"
        );
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'upload'"
            )
            .await,
            5,
            "{backend:?}: each answered batch is audited, the refused one is not"
        );
        // Alone again, each gets the same answer.
        for (i, job) in jobs.iter().enumerate().filter(|(i, _)| *i != 4) {
            let again = app.db.upload(job.who, job.batch).await.expect("replay");
            assert_eq!(
                Some(&again),
                results[i].as_ref().ok(),
                "{backend:?}: batch {i}"
            );
        }
    }
}
