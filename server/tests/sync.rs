//! Sync with the phones, on SQLite and on PostgreSQL: the snapshot, change
//! pages, idempotent uploads re-checked with the shared rules.

mod common;

use chrono::Utc;
use common::{TestApp, BACKENDS};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sotay_core::domain::money::Dong;
use sotay_core::domain::schedule::{installments_after, outstanding, InstallmentState, LoanTerms};
use sotay_core::wire::{
    ChangePage, GiftHandoutPayload, PortfolioSnapshot, RecordBody, RepaymentPayload,
    ReversalRequestPayload, UploadBatch, UploadOutcome, UploadRecord, UploadResponse, VisitPayload,
    VisitPurpose, VoidPayload,
};
use uuid::Uuid;

struct Phone {
    token: String,
    device: Uuid,
    code: String,
    seq: i64,
}

async fn phone(app: &TestApp, username: &str, password: &str) -> Phone {
    phone_and_refresh(app, username, password).await.0
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

    /// A visit to `worker_id` (an ordinary one, nothing to check but the worker).
    fn visit(&mut self, worker_id: Uuid) -> UploadRecord {
        self.record(RecordBody::Visit(VisitPayload {
            worker_id,
            purpose: VisitPurpose::Other,
            outcome: "Đã gặp".into(),
            notes: String::new(),
            location: None,
        }))
    }

    fn receipt(&self, n: i64) -> String {
        sotay_core::domain::rules::receipt_number(&self.code, n)
    }
}

async fn snapshot(app: &TestApp, p: &Phone) -> PortfolioSnapshot {
    let (s, body) = app.get("/api/v1/sync/changes", &p.token).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    serde_json::from_value(body).unwrap()
}

async fn changes(app: &TestApp, p: &Phone, since: &str) -> ChangePage {
    changes_up_to(app, p, since, 500).await
}

async fn changes_up_to(app: &TestApp, p: &Phone, since: &str, limit: usize) -> ChangePage {
    let (s, body) = app
        .get(
            &format!("/api/v1/sync/changes?since={since}&limit={limit}"),
            &p.token,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    serde_json::from_value(body).unwrap()
}

async fn upload(
    app: &TestApp,
    p: &Phone,
    batch_id: Uuid,
    records: Vec<UploadRecord>,
) -> (StatusCode, Value) {
    let batch = UploadBatch {
        batch_id,
        device_id: p.device,
        records,
        approved_before: Vec::new(),
    };
    app.post(
        "/api/v1/sync/batches",
        &p.token,
        &serde_json::to_value(&batch).unwrap(),
    )
    .await
}

fn outcomes(v: &Value) -> Vec<(UploadOutcome, Option<String>)> {
    let r: UploadResponse = serde_json::from_value(v.clone()).unwrap();
    r.results.into_iter().map(|r| (r.outcome, r.code)).collect()
}

#[tokio::test]
async fn an_upload_answer_carries_a_cursor_the_phone_sends_back() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let mut lan = phone(&app, "canbo.lan", "officer-pass-1").await;
        let snap = snapshot(&app, &lan).await;
        let visit = lan.visit(snap.workers[0].id);
        let batch = Uuid::now_v7();
        let (s, r) = upload(&app, &lan, batch, vec![visit.clone()]).await;
        assert_eq!(s, StatusCode::OK, "{r}");
        let acked = r["acknowledged"].as_str().expect("a cursor").to_string();
        let (epoch, seq) = acked.split_once('.').unwrap();
        let seq: i64 = seq.parse().unwrap();
        assert!(seq > snap.next.split_once('.').unwrap().1.parse::<i64>().unwrap());
        // The same batch again: the stored answer, with where the feed is now.
        let (_, again) = upload(&app, &lan, batch, vec![visit]).await;
        assert_eq!(again["results"], r["results"]);
        assert!(again["acknowledged"].is_string());
        let get = |acked: String| {
            let app = &app;
            let (since, token) = (snap.next.clone(), lan.token.clone());
            async move {
                app.get(
                    &format!("/api/v1/sync/changes?since={since}&acked={acked}"),
                    &token,
                )
                .await
            }
        };
        let (s, body) = get(acked.clone()).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        // An acknowledgement the server does not hold (it was restored from
        // a backup taken before that upload): refused like a cursor.
        for bad in [
            format!("{epoch}.{}", seq + 1_000),
            format!("0123456789abcdef.{seq}"),
            "nonsense".to_string(),
        ] {
            let (s, body) = get(bad.clone()).await;
            assert_eq!(s, StatusCode::GONE, "{bad}: {body}");
            assert_eq!(body["code"], "sync_cursor_reset");
            // So is it when the whole portfolio is asked for (a phone whose
            // upgrade dropped its download cursor).
            let (s, body) = app
                .get(&format!("/api/v1/sync/changes?acked={bad}"), &lan.token)
                .await;
            assert_eq!(s, StatusCode::GONE, "{bad}: {body}");
            assert_eq!(body["code"], "sync_cursor_reset");
        }
        let (s, body) = app
            .get(&format!("/api/v1/sync/changes?acked={acked}"), &lan.token)
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert!(
            body["workers"].as_array().is_some_and(|w| !w.is_empty()),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_day_goes_up_once_and_comes_back_as_statuses() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let mut lan = phone(&app, "canbo.lan", "officer-pass-1").await;
        let snap = snapshot(&app, &lan).await;
        assert_eq!(snap.officer.full_name, "Nguyễn Thị Lan");
        let mut names: Vec<&str> = snap.workers.iter().map(|w| w.full_name.as_str()).collect();
        names.sort();
        assert_eq!(names, ["Nguyễn Thị Lan", "Đặng Thị Thu"], "{backend:?}");
        assert_eq!(snap.loans.len(), 2);
        let l1 = snap
            .loans
            .iter()
            .find(|l| l.contract_no == "L-001")
            .unwrap();
        assert_eq!((l1.installment_count, l1.installments.len()), (26, 0));
        assert_eq!(snap.boarding_houses.len(), 1);
        let tet = &snap.campaigns[0];
        assert_eq!((tet.officer_allocation, tet.officer_remaining), (30, 30));
        let empty = changes(&app, &lan, &snap.next).await;
        assert!(empty.workers.is_empty() && empty.record_statuses.is_empty() && !empty.has_more);
        assert_eq!(empty.next, snap.next);

        let lan_worker = snap
            .workers
            .iter()
            .find(|w| w.full_name == "Nguyễn Thị Lan")
            .unwrap()
            .id;
        let thu = snap
            .workers
            .iter()
            .find(|w| w.full_name == "Đặng Thị Thu")
            .unwrap()
            .id;
        let visit = lan.record(RecordBody::Visit(VisitPayload {
            worker_id: lan_worker,
            purpose: VisitPurpose::RepaymentFollowUp,
            outcome: "Hẹn trả tuần sau".into(),
            notes: String::new(),
            location: None,
        }));
        let pay = lan.record(RecordBody::Repayment(RepaymentPayload {
            loan_id: l1.id,
            worker_id: lan_worker,
            amount: Dong(500_000),
            receipt_no: lan.receipt(1),
        }));
        let gift = lan.record(RecordBody::GiftHandout(GiftHandoutPayload {
            campaign_id: tet.id,
            worker_id: thu,
            acknowledged_name: "Đặng Thị Thu".into(),
            signature_sha256: None,
        }));
        let batch_id = Uuid::now_v7();
        let records = vec![visit.clone(), pay.clone(), gift.clone()];
        let (s, first) = upload(&app, &lan, batch_id, records.clone()).await;
        assert_eq!(s, StatusCode::OK, "{first}");
        assert!(
            outcomes(&first)
                .iter()
                .all(|(o, _)| *o == UploadOutcome::Accepted),
            "{first}"
        );
        // The same batch again: the stored answer, nothing stored twice.
        let (s, again) = upload(&app, &lan, batch_id, records.clone()).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(again, first);
        // The same records in a new batch: duplicates.
        let (_, dup) = upload(&app, &lan, Uuid::now_v7(), records.clone()).await;
        assert!(
            outcomes(&dup)
                .iter()
                .all(|(o, _)| *o == UploadOutcome::Duplicate),
            "{dup}"
        );
        // The batch id with other content: refused whole.
        let (s, body) = upload(&app, &lan, batch_id, vec![visit.clone()]).await;
        assert_eq!(s, StatusCode::CONFLICT);
        assert_eq!(body["code"], "batch_conflict");
        // The same record id with other content: a conflict.
        let mut changed = pay.clone();
        if let RecordBody::Repayment(p) = &mut changed.body {
            p.amount = Dong(600_000);
        }
        let (_, body) = upload(&app, &lan, Uuid::now_v7(), vec![changed]).await;
        assert_eq!(
            outcomes(&body),
            [(UploadOutcome::Rejected, Some("conflict".into()))]
        );
        assert_eq!(
            app.db.count("sync_records").await.unwrap(),
            3,
            "{backend:?}"
        );

        // The statuses and the campaign's remaining allocation come back down.
        let page = changes(&app, &lan, &snap.next).await;
        assert_eq!(page.record_statuses.len(), 3);
        let tet_now = &page.campaigns[0];
        assert_eq!(tet_now.officer_remaining, 29);
        assert_eq!(tet_now.recipients, [thu]);
        let after = changes(&app, &lan, &page.next).await;
        assert!(after.record_statuses.is_empty() && !after.has_more);
    }
}

/// An uploaded batch is one change: a page of `limit=1` brings all of its
/// records' statuses, accepted and rejected, to the officer's other phone.
#[tokio::test]
async fn an_uploaded_batch_comes_down_whole_as_one_change() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let mut lan = phone(&app, "canbo.lan", "officer-pass-1").await;
        let other = phone(&app, "canbo.lan", "officer-pass-1").await;
        let snap = snapshot(&app, &other).await;
        let worker = snap.workers[0].id;
        let first: Vec<UploadRecord> = vec![
            lan.visit(worker),
            lan.visit(Uuid::now_v7()),
            lan.visit(worker),
        ];
        let second: Vec<UploadRecord> = vec![lan.visit(worker), lan.visit(worker)];
        for records in [&first, &second] {
            let (s, body) = upload(&app, &lan, Uuid::now_v7(), records.clone()).await;
            assert_eq!(s, StatusCode::OK, "{body}");
        }
        let ids = |p: &ChangePage| {
            p.record_statuses
                .iter()
                .map(|r| r.client_id)
                .collect::<Vec<_>>()
        };
        let one = changes_up_to(&app, &other, &snap.next, 1).await;
        assert_eq!(
            ids(&one),
            first.iter().map(|r| r.client_id).collect::<Vec<_>>(),
            "{backend:?}"
        );
        assert!(one.has_more);
        let codes: Vec<Option<&str>> = one
            .record_statuses
            .iter()
            .map(|r| r.code.as_deref())
            .collect();
        assert_eq!(
            codes,
            [None, Some("worker_not_in_portfolio"), None],
            "{backend:?}"
        );
        let two = changes_up_to(&app, &other, &one.next, 1).await;
        assert_eq!(
            ids(&two),
            second.iter().map(|r| r.client_id).collect::<Vec<_>>(),
            "{backend:?}"
        );
        assert!(!two.has_more);
        let three = changes_up_to(&app, &other, &two.next, 1).await;
        assert!(three.record_statuses.is_empty() && !three.has_more);
        assert_eq!(three.next, two.next);
    }
}

#[tokio::test]
async fn the_server_rechecks_every_rule() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let mut lan = phone(&app, "canbo.lan", "officer-pass-1").await;
        let mut lan2 = phone(&app, "canbo.lan", "officer-pass-1").await;
        let snap = snapshot(&app, &lan).await;
        let l2 = snap
            .loans
            .iter()
            .find(|l| l.contract_no == "L-002")
            .unwrap()
            .clone();
        let thu = l2.worker_id;
        let tet = snap.campaigns[0].id;
        // Two phones collect on the same loan offline; together they pay more than is owed.
        let owed = l2.balance.0;
        let a = lan.record(RecordBody::Repayment(RepaymentPayload {
            loan_id: l2.id,
            worker_id: thu,
            amount: Dong(owed - 100_000),
            receipt_no: lan.receipt(1),
        }));
        let b = lan2.record(RecordBody::Repayment(RepaymentPayload {
            loan_id: l2.id,
            worker_id: thu,
            amount: Dong(200_000),
            receipt_no: lan2.receipt(1),
        }));
        let (_, r) = upload(&app, &lan, Uuid::now_v7(), vec![a.clone()]).await;
        assert_eq!(outcomes(&r)[0].0, UploadOutcome::Accepted);
        let (_, r) = upload(&app, &lan2, Uuid::now_v7(), vec![b.clone()]).await;
        assert_eq!(
            outcomes(&r),
            [(
                UploadOutcome::Rejected,
                Some("amount_above_outstanding".into())
            )],
            "{backend:?}"
        );
        // The refused receipt's cash reaches the officer's other phone, to
        // be said in its day summary until the branch settles it.
        let page = changes(&app, &lan, &snap.next).await;
        let refused = page
            .record_statuses
            .iter()
            .find(|s| s.client_id == b.client_id)
            .unwrap();
        assert_eq!(
            (refused.loan_id, refused.amount),
            (Some(l2.id), Some(Dong(200_000))),
            "{backend:?}: {refused:?}"
        );
        // The same gift to the same worker from two phones: exactly one.
        let g1 = lan.record(RecordBody::GiftHandout(GiftHandoutPayload {
            campaign_id: tet,
            worker_id: thu,
            acknowledged_name: "Thu".into(),
            signature_sha256: None,
        }));
        let g2 = lan2.record(RecordBody::GiftHandout(GiftHandoutPayload {
            campaign_id: tet,
            worker_id: thu,
            acknowledged_name: "Thu".into(),
            signature_sha256: None,
        }));
        let (_, r1) = upload(&app, &lan, Uuid::now_v7(), vec![g1.clone()]).await;
        let (_, r2) = upload(&app, &lan2, Uuid::now_v7(), vec![g2.clone()]).await;
        assert_eq!(outcomes(&r1)[0].0, UploadOutcome::Accepted);
        let r2 = outcomes(&r2);
        assert_eq!(
            r2,
            [(UploadOutcome::Rejected, Some("already_received".into()))]
        );
        // The phone sees why, in Vietnamese.
        let page = changes(&app, &lan2, &snap.next).await;
        let status = page
            .record_statuses
            .iter()
            .find(|s| s.client_id == g2.client_id)
            .unwrap();
        assert!(
            status.message_vi.as_deref().unwrap().contains("đã nhận"),
            "{status:?}"
        );
        // Voiding the first gift frees the worker for it again.
        let v = lan.record(RecordBody::Void(VoidPayload {
            target_id: g1.client_id,
            reason: "Nhập nhầm".into(),
        }));
        let (_, r) = upload(&app, &lan, Uuid::now_v7(), vec![v]).await;
        assert_eq!(outcomes(&r)[0].0, UploadOutcome::Accepted);
        let g3 = lan2.record(RecordBody::GiftHandout(GiftHandoutPayload {
            campaign_id: tet,
            worker_id: thu,
            acknowledged_name: "Thu".into(),
            signature_sha256: None,
        }));
        let (_, r) = upload(&app, &lan2, Uuid::now_v7(), vec![g3]).await;
        assert_eq!(outcomes(&r)[0].0, UploadOutcome::Accepted, "{r}");
        // Someone else's worker, a reused receipt, a future time, a foreign receipt number.
        let w3 = app.id_of("workers", "W-003").await;
        let w3_uid: Uuid = {
            let hung = phone(&app, "canbo.hung", "officer-pass-2").await;
            let s = snapshot(&app, &hung).await;
            assert!(
                s.workers.iter().all(|w| w.full_name == "Lê Văn Tâm"),
                "{w3}"
            );
            s.workers[0].id
        };
        let not_mine = lan.record(RecordBody::Visit(VisitPayload {
            worker_id: w3_uid,
            purpose: VisitPurpose::HardshipVisit,
            outcome: String::new(),
            notes: String::new(),
            location: None,
        }));
        let reused = lan.record(RecordBody::Repayment(RepaymentPayload {
            loan_id: l2.id,
            worker_id: thu,
            amount: Dong(1_000),
            receipt_no: lan.receipt(1),
        }));
        let mut future = lan.record(RecordBody::Visit(VisitPayload {
            worker_id: thu,
            purpose: VisitPurpose::Other,
            outcome: String::new(),
            notes: String::new(),
            location: None,
        }));
        future.recorded_at = Utc::now() + chrono::Duration::hours(2);
        let future_at = future.recorded_at;
        let foreign = lan.record(RecordBody::Repayment(RepaymentPayload {
            loan_id: l2.id,
            worker_id: thu,
            amount: Dong(1_000),
            receipt_no: "ZZZZ-000001".into(),
        }));
        let (_, r) = upload(
            &app,
            &lan,
            Uuid::now_v7(),
            vec![not_mine, reused, future, foreign],
        )
        .await;
        let codes: Vec<Option<String>> = outcomes(&r).into_iter().map(|(_, c)| c).collect();
        assert_eq!(
            codes,
            [
                Some("worker_not_in_portfolio".into()),
                Some("receipt_duplicate".into()),
                Some("recorded_in_future".into()),
                Some("receipt_invalid".into())
            ],
            "{backend:?}"
        );
        // The refusal says both times, and what to do.
        let said: UploadResponse = serde_json::from_value(r.clone()).unwrap();
        let said = said.results[2].message_vi.clone().unwrap_or_default();
        let at = sotay_core::domain::time::format_datetime(future_at);
        assert!(
            said.starts_with(&format!("Bản ghi mang giờ {at}, sau giờ máy chủ nhận nó ("))
                && said.ends_with("rồi ghi lại với giờ đúng"),
            "{said}"
        );
        // A batch naming another device, or too large, is refused whole.
        let other = UploadBatch {
            batch_id: Uuid::now_v7(),
            device_id: lan2.device,
            records: vec![],
            approved_before: Vec::new(),
        };
        let (s, _) = app
            .post(
                "/api/v1/sync/batches",
                &lan.token,
                &serde_json::to_value(&other).unwrap(),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let many: Vec<UploadRecord> = (0..1001)
            .map(|_| {
                lan.record(RecordBody::Void(VoidPayload {
                    target_id: Uuid::nil(),
                    reason: "x".into(),
                }))
            })
            .collect();
        let (s, body) = upload(&app, &lan, Uuid::now_v7(), many).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        // Recorded facts cannot be edited in the database.
        let sql = "UPDATE sync_records SET amount = 1";
        let refused = match &app.db {
            sotay_server::db::Db::Sqlite(p) => sqlx::query(sql).execute(p).await.is_err(),
            sotay_server::db::Db::Postgres(p) => sqlx::query(sql).execute(p).await.is_err(),
        };
        assert!(refused);
    }
}

/// A phone's first download carries the statuses of every record its
/// officer uploaded from any phone, accepted and rejected, and none of
/// another officer's (found through the officer's batches).
#[tokio::test]
async fn a_first_download_brings_the_officers_own_record_statuses() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let mut lan = phone(&app, "canbo.lan", "officer-pass-1").await;
        let mut hung = phone(&app, "canbo.hung", "officer-pass-2").await;
        let lan_worker = snapshot(&app, &lan).await.workers[0].id;
        let hung_worker = snapshot(&app, &hung).await.workers[0].id;
        let mut lans = Vec::new();
        for records in [
            vec![lan.visit(lan_worker), lan.visit(hung_worker)],
            vec![lan.visit(lan_worker)],
        ] {
            lans.extend(records.iter().map(|r| r.client_id));
            let (s, body) = upload(&app, &lan, Uuid::now_v7(), records).await;
            assert_eq!(s, StatusCode::OK, "{body}");
        }
        let hungs = vec![hung.visit(hung_worker)];
        let (s, body) = upload(&app, &hung, Uuid::now_v7(), hungs.clone()).await;
        assert_eq!(s, StatusCode::OK, "{body}");

        let statuses = |snap: PortfolioSnapshot| {
            snap.record_statuses
                .into_iter()
                .map(|r| (r.client_id, r.code))
                .collect::<Vec<_>>()
        };
        let new_lan = phone(&app, "canbo.lan", "officer-pass-1").await;
        assert_eq!(
            statuses(snapshot(&app, &new_lan).await),
            vec![
                (lans[0], None),
                (lans[1], Some("worker_not_in_portfolio".to_string())),
                (lans[2], None),
            ],
            "{backend:?}"
        );
        let new_hung = phone(&app, "canbo.hung", "officer-pass-2").await;
        assert_eq!(
            statuses(snapshot(&app, &new_hung).await),
            vec![(hungs[0].client_id, None)],
            "{backend:?}"
        );
    }
}

#[tokio::test]
async fn a_reassigned_worker_moves_between_phones() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let mut lan = phone(&app, "canbo.lan", "officer-pass-1").await;
        let hung = phone(&app, "canbo.hung", "officer-pass-2").await;
        let lan_snap = snapshot(&app, &lan).await;
        let hung_snap = snapshot(&app, &hung).await;
        let thu = lan_snap
            .workers
            .iter()
            .find(|w| w.full_name == "Đặng Thị Thu")
            .unwrap()
            .id;
        // Lan gave her the Tết gift and took a repayment (waiting for
        // review).
        let tet = lan_snap.campaigns[0].id;
        let gift = lan.record(RecordBody::GiftHandout(GiftHandoutPayload {
            campaign_id: tet,
            worker_id: thu,
            acknowledged_name: "Đặng Thị Thu".into(),
            signature_sha256: None,
        }));
        let thu_loan = lan_snap
            .loans
            .iter()
            .find(|l| l.worker_id == thu)
            .unwrap()
            .clone();
        let pay = lan.record(RecordBody::Repayment(RepaymentPayload {
            loan_id: thu_loan.id,
            worker_id: thu,
            amount: Dong(100_000),
            receipt_no: lan.receipt(1),
        }));
        let pay_id = pay.client_id;
        let batch = Uuid::now_v7();
        let (s, body) = upload(&app, &lan, batch, vec![gift, pay]).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let admin = app.token("admin", "admin-pass-1", "test-device-0099").await;
        let text = std::fs::read_to_string(common::fixture_dir().join("workers.csv")).unwrap();
        let moved = text.replace(
            "Chồng bị tai nạn lao động,CB-TD-01",
            "Chồng bị tai nạn lao động,CB-TD-02",
        );
        let (s, body) = app
            .post_csv("/api/v1/imports/workers", &admin, &moved)
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let lan_page = changes(&app, &lan, &lan_snap.next).await;
        assert_eq!(lan_page.removed_workers, [thu], "{backend:?}");
        assert!(lan_page.workers.is_empty());
        let hung_page = changes(&app, &hung, &hung_snap.next).await;
        assert_eq!(
            hung_page.workers.iter().map(|w| w.id).collect::<Vec<_>>(),
            [thu]
        );
        assert_eq!(hung_page.loans.len(), 1, "the worker's loan comes along");
        assert_eq!(hung_page.loans[0].contract_no, "L-002");
        // With Lan's receipt waiting for review: Hùng's phone counts it.
        let waiting = &hung_page.loans[0].waiting_elsewhere;
        assert_eq!(waiting.len(), 1, "{backend:?}: {waiting:?}");
        assert_eq!(
            (
                waiting[0].client_id,
                waiting[0].amount,
                waiting[0].receipt_no.clone()
            ),
            (pay_id, Dong(100_000), Some(lan.receipt(1)))
        );
        assert_eq!(hung_page.boarding_houses.len(), 1);
        // And the gift she already has: Hùng's phone will not give another.
        let campaign = hung_page
            .campaigns
            .iter()
            .find(|k| k.id == tet)
            .unwrap_or_else(|| panic!("{backend:?}: {hung_page:?}"));
        assert_eq!(campaign.recipients, [thu], "{backend:?}");
        // Lan asks to reverse it: it takes nothing any more; she voids her
        // request: it waits again. Hùng's phone hears both.
        let ask = lan.record(RecordBody::ReversalRequest(ReversalRequestPayload {
            target_id: pay_id,
            reason: "Thu nhầm".into(),
        }));
        let ask_id = ask.client_id;
        let (s, body) = upload(&app, &lan, Uuid::now_v7(), vec![ask]).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let asked = changes(&app, &hung, &hung_page.next).await;
        let loan = asked.loans.iter().find(|l| l.id == thu_loan.id);
        assert!(
            loan.is_some_and(|l| l.waiting_elsewhere.is_empty()),
            "{backend:?}: {asked:?}"
        );
        let void = lan.record(RecordBody::Void(VoidPayload {
            target_id: ask_id,
            reason: "Nhầm, phiếu đúng".into(),
        }));
        let void_batch = Uuid::now_v7();
        let (s, body) = upload(&app, &lan, void_batch, vec![void]).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["results"][0]["outcome"], "accepted", "{body}");
        let hung_page = changes(&app, &hung, &asked.next).await;
        let loan = hung_page
            .loans
            .iter()
            .find(|l| l.id == thu_loan.id)
            .unwrap_or_else(|| panic!("{backend:?}: the loan again: {hung_page:?}"));
        assert_eq!(
            loan.waiting_elsewhere
                .iter()
                .map(|w| w.client_id)
                .collect::<Vec<_>>(),
            [pay_id],
            "{backend:?}"
        );
        // The void turned down, the request stands again: not waiting.
        let sup = app
            .token("giamsat.td", "super-pass-1", "test-device-0050")
            .await;
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{void_batch}/reject"),
                &sup,
                &json!({"reason": "Đề nghị đảo là đúng"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let after = changes(&app, &hung, &hung_page.next).await;
        let loan = after.loans.iter().find(|l| l.id == thu_loan.id);
        assert!(
            loan.is_some_and(|l| l.waiting_elsewhere.is_empty()),
            "{backend:?}: {after:?}"
        );
        let hung_page = after;
        // Rejected, the receipt waits no more: Hùng's phone learns it.
        let (s, body) = app
            .post(
                &format!("/api/v1/batches/{batch}/reject"),
                &sup,
                &json!({"reason": "Thiếu chữ ký"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let after = changes(&app, &hung, &hung_page.next).await;
        let loan = after
            .loans
            .iter()
            .find(|l| l.id == thu_loan.id)
            .unwrap_or_else(|| panic!("{backend:?}: the loan again: {after:?}"));
        assert!(loan.waiting_elsewhere.is_empty(), "{backend:?}: {loan:?}");
    }
}

#[tokio::test]
async fn only_officers_sync_and_a_revoked_phone_is_quarantined() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let sup = app
            .token("giamsat.td", "super-pass-1", "test-device-0050")
            .await;
        let (s, _) = app.get("/api/v1/sync/changes", &sup).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = app.post("/api/v1/sync/batches", &sup, &json!({})).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // An officer signed in from a laptop (a device id that is not a
        // UUID) reads the portfolio but is told why a batch cannot go up.
        let laptop = app
            .token("canbo.lan", "officer-pass-1", "my-laptop-01")
            .await;
        let (s, body) = app.get("/api/v1/sync/changes", &laptop).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let batch = json!({"batch_id": Uuid::now_v7(), "device_id": Uuid::now_v7(), "records": []});
        let (s, body) = app.post("/api/v1/sync/batches", &laptop, &batch).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["code"], "device_not_a_phone", "{body}");
        assert!(
            body["detail"].as_str().unwrap().contains("my-laptop-01"),
            "{body}"
        );
        let mut lan = phone(&app, "canbo.lan", "officer-pass-1").await;
        let snap = snapshot(&app, &lan).await;
        // A cursor this server never gave: garbled, or beyond its last
        // change (a phone that synced with the server before it was
        // restored from a backup). The phone is told to start again.
        let (epoch, next) = snap.next.split_once('.').expect("<epoch>.<seq>");
        let next: i64 = next.parse().unwrap();
        let ahead = format!("{epoch}.{}", next + 1);
        let unknown = format!("0123456789abcdef.{next}");
        for since in ["abc", "-1", &ahead, &unknown, &(next + 1).to_string()] {
            let (s, body) = app
                .get(&format!("/api/v1/sync/changes?since={since}"), &lan.token)
                .await;
            assert_eq!(s, StatusCode::GONE, "{since}: {body}");
            assert_eq!(body["code"], "sync_cursor_reset", "{since}");
        }
        // The cursor itself holds after the server starts again (a new
        // epoch, beginning after it), and so does a bare sequence from a
        // phone that synced before cursors named their epoch.
        app.db.open_sync_epoch().await.unwrap();
        for since in [snap.next.clone(), next.to_string()] {
            let (s, body) = app
                .get(&format!("/api/v1/sync/changes?since={since}"), &lan.token)
                .await;
            assert_eq!(s, StatusCode::OK, "{body}");
        }
        app.revoke(&sup, lan.device).await;
        let visit = lan.record(RecordBody::Visit(VisitPayload {
            worker_id: snap.workers[0].id,
            purpose: VisitPurpose::Other,
            outcome: String::new(),
            notes: String::new(),
            location: None,
        }));
        let (s, r) = upload(&app, &lan, Uuid::now_v7(), vec![visit]).await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(
            outcomes(&r),
            [(UploadOutcome::Rejected, Some("device_revoked".into()))],
            "{backend:?}"
        );
        let kept = match &app.db {
            sotay_server::db::Db::Sqlite(p) => sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM sync_records WHERE status = 'quarantined'",
            )
            .fetch_one(p)
            .await
            .unwrap(),
            sotay_server::db::Db::Postgres(p) => sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM sync_records WHERE status = 'quarantined'",
            )
            .fetch_one(p)
            .await
            .unwrap(),
        };
        assert_eq!(kept, 1);
        // Everything else is closed to it.
        let (s, _) = app.get("/api/v1/sync/changes", &lan.token).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);

        // An officer whose account is deactivated (they left): their
        // phone's access token ends at once; renewed, it only uploads, and
        // its last records are quarantined too, not refused.
        let admin = app.token("admin", "admin-pass-1", "test-device-0051").await;
        let (hung, hung_refresh) = phone_and_refresh(&app, "canbo.hung", "officer-pass-2").await;
        let hung_snap = snapshot(&app, &hung).await;
        let hung_id = app.id_of("users", "CB-TD-02").await;
        let (s, body) = app
            .post(
                &format!("/api/v1/users/{hung_id}/deactivate"),
                &admin,
                &json!({"reason": "Nghỉ việc"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let mut hung = hung;
        let visit = hung.visit(hung_snap.workers[0].id);
        let (s, body) = upload(&app, &hung, Uuid::now_v7(), vec![visit]).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["code"], "unauthenticated", "{body}");
        let (s, renewed) = app.refresh(&hung_refresh, &hung.device.to_string()).await;
        assert_eq!(s, StatusCode::OK, "{renewed}");
        hung.token = renewed["access_token"].as_str().unwrap().to_string();
        let visit = hung.visit(hung_snap.workers[0].id);
        let (_, r) = upload(&app, &hung, Uuid::now_v7(), vec![visit]).await;
        let quarantined = [(UploadOutcome::Rejected, Some("device_revoked".into()))];
        assert_eq!(outcomes(&r), quarantined, "{backend:?}: {r}");
        let (s, _) = app.get("/api/v1/sync/changes", &hung.token).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
}

/// Signs in on a new phone; also the refresh token as answered.
async fn phone_and_refresh(app: &TestApp, username: &str, password: &str) -> (Phone, Value) {
    let device = Uuid::now_v7();
    let (s, body) = app.login_raw(username, password, &device.to_string()).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let phone = Phone {
        token: body["access_token"].as_str().unwrap().to_string(),
        device,
        code: body["device"]["code"].as_str().unwrap().to_string(),
        seq: 0,
    };
    (phone, body["refresh_token"].clone())
}

async fn quarantined(app: &TestApp) -> i64 {
    let sql = "SELECT COUNT(*) FROM sync_records WHERE status = 'quarantined'";
    match &app.db {
        sotay_server::db::Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        sotay_server::db::Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await,
    }
    .unwrap()
}

#[tokio::test]
async fn a_revoked_phone_offline_past_its_access_token_still_sends_into_quarantine() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let sup = app
            .token("giamsat.td", "super-pass-1", "test-device-0060")
            .await;
        let admin = app.token("admin", "admin-pass-1", "test-device-0061").await;
        let (mut lan, first) = phone_and_refresh(&app, "canbo.lan", "officer-pass-1").await;
        let worker = snapshot(&app, &lan).await.workers[0].id;
        app.revoke(&sup, lan.device).await;
        // Hours later the phone is back online, its access token long
        // expired: its refresh token still answers, with a token that only
        // uploads, and what it sends is kept for the supervisor.
        let device = lan.device.to_string();
        let (s, second) = app.refresh(&first, &device).await;
        assert_eq!(s, StatusCode::OK, "{backend:?}: {second}");
        assert_eq!(second["device"]["revoked"], true, "{second}");
        // No longer than the token the phone held when it was revoked.
        let (s, third_try) = app.refresh(&second["refresh_token"], &device).await;
        assert_eq!(s, StatusCode::OK, "{third_try}");
        assert!(
            third_try["refresh_expires_in"].as_i64() <= second["refresh_expires_in"].as_i64()
                && second["refresh_expires_in"].as_i64() < Some(30 * 86_400),
            "{second} {third_try}"
        );
        let second = third_try;
        lan.token = second["access_token"].as_str().unwrap().to_string();
        let visit = lan.visit(worker);
        let (s, r) = upload(&app, &lan, Uuid::now_v7(), vec![visit]).await;
        assert_eq!(s, StatusCode::OK, "{r}");
        let held = [(UploadOutcome::Rejected, Some("device_revoked".into()))];
        assert_eq!(outcomes(&r), held, "{backend:?}");
        assert_eq!(quarantined(&app).await, 1);
        for path in ["/api/v1/sync/changes", "/api/v1/me", "/api/v1/workers"] {
            let (s, body) = app.get(path, &lan.token).await;
            assert_eq!(s, StatusCode::UNAUTHORIZED, "{path}: {body}");
            assert_eq!(body["code"], "device_revoked", "{path}");
        }
        assert_eq!(
            app.db.audit_count("refresh_revoked_device").await.unwrap(),
            2
        );
        // An answer lost on the way is given again, however late the phone
        // asks (here an hour after the first try).
        let (s, lost) = app.refresh(&second["refresh_token"], &device).await;
        assert_eq!(s, StatusCode::OK, "{lost}");
        app.exec(&format!(
            "UPDATE refresh_tokens SET used_at = '{}' WHERE used_at IS NOT NULL AND device_id = '{device}'",
            (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339()
        ))
        .await;
        let (s, second) = app.refresh(&second["refresh_token"], &device).await;
        assert_eq!(s, StatusCode::OK, "{second}");
        // Rotation and replay hold as for any phone: the token it replaced
        // is refused, and replaying it ends the quarantine road too.
        let (s, third) = app.refresh(&second["refresh_token"], &device).await;
        assert_eq!(s, StatusCode::OK, "{third}");
        let (s, _) = app.refresh(&third["refresh_token"], &device).await;
        assert_eq!(s, StatusCode::OK);
        let (s, body) = app.refresh(&second["refresh_token"], &device).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["code"], "refresh_token_reused");
        let (s, body) = app.refresh(&third["refresh_token"], &device).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");

        // An officer who left: the account closed, then its password set
        // (to hand the account over): the phone still sends what it holds.
        let (mut hung, hung_refresh) =
            phone_and_refresh(&app, "canbo.hung", "officer-pass-2").await;
        let hung_worker = snapshot(&app, &hung).await.workers[0].id;
        let hung_id = app.id_of("users", "CB-TD-02").await;
        // Her other phone, lost before she left: revoked for itself, with a
        // reason that reads like the one a closed account's phones get; it
        // stays revoked when the account opens again.
        let lost_phone = "test-device-0077";
        app.token("canbo.hung", "officer-pass-2", lost_phone).await;
        let (s, body) = app
            .post(
                &format!("/api/v1/devices/{lost_phone}/revoke"),
                &admin,
                &json!({"reason": "Tài khoản bị khóa: mất máy"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        // And a third, revoked with the account, reported lost after.
        let lost_later = "test-device-0078";
        app.token("canbo.hung", "officer-pass-2", lost_later).await;
        for (path, body) in [
            ("deactivate", json!({"reason": "Nghỉ việc"})),
            ("password", json!({"password": "mat-khau-moi-2026"})),
        ] {
            let (s, body) = app
                .post(&format!("/api/v1/users/{hung_id}/{path}"), &admin, &body)
                .await;
            assert_eq!(s, StatusCode::OK, "{path}: {body}");
        }
        let (s, body) = app
            .post(
                &format!("/api/v1/devices/{lost_later}/revoke"),
                &admin,
                &json!({"reason": "Mất máy sau khi nghỉ"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["revoked_with_account"], false, "{body}");
        let hung_device = hung.device.to_string();
        let (s, renewed) = app.refresh(&hung_refresh, &hung_device).await;
        assert_eq!(s, StatusCode::OK, "{backend:?}: {renewed}");
        hung.token = renewed["access_token"].as_str().unwrap().to_string();
        let visit = hung.visit(hung_worker);
        let (_, r) = upload(&app, &hung, Uuid::now_v7(), vec![visit]).await;
        assert_eq!(outcomes(&r), held, "{backend:?}: {r}");
        assert_eq!(quarantined(&app).await, 2);
        // The account opened again brings the phone back, but only through
        // a sign-in: the upload-only token and its refresh token are done.
        let (s, body) = app
            .post(
                &format!("/api/v1/users/{hung_id}/activate"),
                &admin,
                &json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let visit = hung.visit(hung_worker);
        let (s, body) = upload(&app, &hung, Uuid::now_v7(), vec![visit]).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["code"], "unauthenticated", "{body}");
        let (s, body) = app.refresh(&renewed["refresh_token"], &hung_device).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["code"], "invalid_refresh_token", "{body}");
        let (s, body) = app
            .login_raw("canbo.hung", "mat-khau-moi-2026", &hung_device)
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert!(body["device"].get("revoked").is_none(), "{body}");
        for lost in [lost_phone, lost_later] {
            let (s, body) = app.login_raw("canbo.hung", "mat-khau-moi-2026", lost).await;
            assert_eq!(
                (s, body["code"].as_str()),
                (StatusCode::UNAUTHORIZED, Some("device_revoked")),
                "{backend:?}: {lost}: {body}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_cursor_never_skips_a_change_under_concurrent_writers() {
    for backend in BACKENDS {
        let app = std::sync::Arc::new(TestApp::start(backend).await);
        let reader = phone(&app, "canbo.lan", "officer-pass-1").await;
        let snap = snapshot(&app, &reader).await;
        let worker = snap.workers[0].id;
        let mut writers = Vec::new();
        for _ in 0..4 {
            let app = app.clone();
            let mut p = phone(&app, "canbo.lan", "officer-pass-1").await;
            writers.push(tokio::spawn(async move {
                let mut sent = Vec::new();
                for _ in 0..15 {
                    let records: Vec<UploadRecord> = (0..3)
                        .map(|_| {
                            p.record(RecordBody::Visit(VisitPayload {
                                worker_id: worker,
                                purpose: VisitPurpose::RepaymentFollowUp,
                                outcome: String::new(),
                                notes: String::new(),
                                location: None,
                            }))
                        })
                        .collect();
                    sent.extend(records.iter().map(|r| r.client_id));
                    let (s, body) = upload(&app, &p, Uuid::now_v7(), records).await;
                    assert_eq!(s, StatusCode::OK, "{body}");
                }
                sent
            }));
        }
        // Follow the feed while the writers write.
        let mut cursor = snap.next.clone();
        let mut seen = std::collections::HashSet::new();
        let mut done = false;
        let mut expected = std::collections::HashSet::new();
        while !done {
            done = writers.iter().all(|w| w.is_finished());
            loop {
                let page = changes(&app, &reader, &cursor).await;
                seen.extend(page.record_statuses.iter().map(|s| s.client_id));
                cursor = page.next;
                if !page.has_more {
                    break;
                }
            }
        }
        for w in writers {
            expected.extend(w.await.unwrap());
        }
        assert_eq!(expected.len(), 4 * 15 * 3);
        let missing: Vec<_> = expected.difference(&seen).collect();
        assert!(
            missing.is_empty(),
            "{backend:?}: the feed skipped {} records",
            missing.len()
        );
    }
}

#[tokio::test]
async fn downloads_are_compressed_as_the_phone_asks() {
    let app = TestApp::start(common::Backend::Sqlite).await;
    let lan = phone(&app, "canbo.lan", "officer-pass-1").await;
    let raw = reqwest::Client::builder()
        .no_gzip()
        .no_zstd()
        .build()
        .unwrap();
    let plain = raw
        .get(app.url("/api/v1/sync/changes"))
        .bearer_auth(&lan.token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .len();
    for encoding in ["gzip", "zstd"] {
        let resp = raw
            .get(app.url("/api/v1/sync/changes"))
            .bearer_auth(&lan.token)
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.headers()["content-encoding"], encoding);
        let size = resp.bytes().await.unwrap().len();
        // A 2 KB snapshot (two loans as terms): about half.
        assert!(size * 3 < plain * 2, "{encoding}: {size} of {plain} bytes");
    }
}

async fn execute(app: &TestApp, sql: &str) {
    match &app.db {
        sotay_server::db::Db::Sqlite(p) => sqlx::query(sql).execute(p).await.map(drop),
        sotay_server::db::Db::Postgres(p) => sqlx::query(sql).execute(p).await.map(drop),
    }
    .unwrap();
}

/// Loans travel as their terms and total paid, which rebuild the server's
/// installments exactly; a loan whose installments they do not rebuild
/// travels line by line.
#[tokio::test]
async fn loans_travel_as_terms_and_paid() {
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let lan = phone(&app, "canbo.lan", "officer-pass-1").await;
        let id = app.id_of("loans", "L-001").await;
        let stored = || async {
            app.db
                .installments(id)
                .await
                .unwrap()
                .into_iter()
                .map(|i| InstallmentState {
                    number: u32::try_from(i.number).unwrap(),
                    due_on: i.due_on,
                    principal_due: i.principal_due,
                    interest_due: i.interest_due,
                    principal_paid: i.principal_paid,
                    interest_paid: i.interest_paid,
                })
                .collect::<Vec<_>>()
        };
        let terms = |l: &sotay_core::wire::Loan| LoanTerms {
            principal: l.principal.get(),
            annual_rate_bp: l.annual_rate_bp,
            method: l.method,
            frequency: l.frequency,
            installments: l.installment_count,
            disbursed_on: l.disbursed_on,
        };
        let snap = snapshot(&app, &lan).await;
        for l in &snap.loans {
            assert!(l.installments.is_empty(), "{backend:?} {}", l.contract_no);
            let rebuilt = installments_after(&terms(l), l.paid.get()).unwrap();
            assert_eq!(outstanding(&rebuilt).total(), l.balance.get());
        }
        let l1 = snap
            .loans
            .iter()
            .find(|l| l.contract_no == "L-001")
            .unwrap();
        assert_eq!((l1.paid, l1.installment_count), (Dong(1_000_000), 26));
        assert_eq!(
            installments_after(&terms(l1), l1.paid.get()).unwrap(),
            stored().await,
            "{backend:?}"
        );

        // The last installment paid instead of the first: not what an
        // oldest-first allocation leaves.
        execute(
            &app,
            &format!(
                "UPDATE installments SET principal_paid = 0, interest_paid = 0 WHERE loan_id = {id} AND number = 1"
            ),
        )
        .await;
        execute(
            &app,
            &format!(
                "UPDATE installments SET principal_paid = principal_due, interest_paid = interest_due
                 WHERE loan_id = {id} AND number = 26"
            ),
        )
        .await;
        let books = stored().await;
        let snap = snapshot(&app, &lan).await;
        let l1 = snap
            .loans
            .iter()
            .find(|l| l.contract_no == "L-001")
            .unwrap();
        let lines: Vec<InstallmentState> = l1
            .installments
            .iter()
            .map(|i| InstallmentState {
                number: i.number,
                due_on: i.due_on,
                principal_due: i.principal_due.get(),
                interest_due: i.interest_due.get(),
                principal_paid: i.principal_paid.get(),
                interest_paid: i.interest_paid.get(),
            })
            .collect();
        assert_eq!(lines, books, "{backend:?}");
        assert_eq!(l1.balance.get(), outstanding(&books).total());
        assert_eq!(
            l1.paid.get(),
            books
                .iter()
                .map(|i| i.principal_paid + i.interest_paid)
                .sum::<i64>()
        );
        let l2 = snap
            .loans
            .iter()
            .find(|l| l.contract_no == "L-002")
            .unwrap();
        assert!(l2.installments.is_empty());
    }
}

async fn put_signature(
    app: &TestApp,
    token: &str,
    record: Uuid,
    image: &[u8],
) -> (StatusCode, Value) {
    let resp = app
        .http
        .put(app.url(&format!("/api/v1/sync/records/{record}/signature")))
        .bearer_auth(token)
        .header("Content-Type", "image/png")
        .body(image.to_vec())
        .send()
        .await
        .expect("PUT");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn get_signature(app: &TestApp, path: &str, token: &str) -> (StatusCode, Vec<u8>, String) {
    let resp = app
        .http
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET");
    let status = resp.status();
    let kind = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, resp.bytes().await.unwrap().to_vec(), kind)
}

#[tokio::test]
async fn a_gifts_signature_image_follows_its_record_and_only_its_branch_sees_it() {
    use sha2::Digest;
    for backend in BACKENDS {
        let app = TestApp::start(backend).await;
        let mut lan = phone(&app, "canbo.lan", "officer-pass-1").await;
        let mut hung = phone(&app, "canbo.hung", "officer-pass-2").await;
        let snap = snapshot(&app, &lan).await;
        let thu = snap
            .workers
            .iter()
            .find(|w| w.full_name == "Đặng Thị Thu")
            .unwrap()
            .id;
        let image = b"\x89PNG\r\n\x1a\nthe recipient's signature".to_vec();
        let sha = hex::encode(sha2::Sha256::digest(&image));
        let gift = lan.record(RecordBody::GiftHandout(GiftHandoutPayload {
            campaign_id: snap.campaigns[0].id,
            worker_id: thu,
            acknowledged_name: "Đặng Thị Thu".into(),
            signature_sha256: Some(sha.clone()),
        }));
        let visit = lan.visit(thu);

        // A record naming no real hash is refused.
        let bad = lan.record(RecordBody::GiftHandout(GiftHandoutPayload {
            campaign_id: snap.campaigns[0].id,
            worker_id: thu,
            acknowledged_name: "Đặng Thị Thu".into(),
            signature_sha256: Some("chu-ky".into()),
        }));
        let (_, body) = upload(&app, &lan, Uuid::now_v7(), vec![bad]).await;
        assert_eq!(
            outcomes(&body),
            [(
                UploadOutcome::Rejected,
                Some("invalid_signature_hash".into())
            )]
        );
        // Before its record: the server does not know the record.
        let (s, body) = put_signature(&app, &lan.token, gift.client_id, &image).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("record_not_found")),
            "{body}"
        );
        let (s, body) = upload(
            &app,
            &lan,
            Uuid::now_v7(),
            vec![gift.clone(), visit.clone()],
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{body}");

        let sup = app
            .token("giamsat.td", "super-pass-1", &common::device(1))
            .await;
        let batch = body_of_batch(&app, &sup, gift.client_id).await;
        assert_eq!(
            record_field(&batch, gift.client_id, "signature"),
            json!("waiting")
        );
        assert_eq!(
            record_field(&batch, visit.client_id, "signature"),
            Value::Null
        );
        // What the phone recorded, as recorded.
        let payload = record_field(&batch, gift.client_id, "payload");
        assert_eq!(payload["acknowledged_name"], "Đặng Thị Thu", "{payload}");
        assert_eq!(payload["signature_sha256"], json!(sha));
        let thu_id = app.id_of("workers", "W-002").await;
        let statement = format!("/api/v1/reports/worker-statement?worker_id={thu_id}");
        let (_, st) = app.get(&statement, &sup).await;
        assert_eq!(gifts_of(&st)[0]["signature"], "Chưa gửi lên", "{st}");
        let read = format!("/api/v1/records/{}/signature", gift.client_id);
        let (s, _, _) = get_signature(&app, &read, &sup).await;
        assert_eq!(s, StatusCode::NOT_FOUND);

        // Not the image the record names; not an image; too large; another
        // officer's record; a record without a signature.
        let mut other = image.clone();
        other.push(b'!');
        let (s, body) = put_signature(&app, &lan.token, gift.client_id, &other).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("signature_mismatch")),
            "{body}"
        );
        let (s, body) = put_signature(&app, &hung.token, gift.client_id, &image).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("record_not_found")),
            "{body}"
        );
        let (s, body) = put_signature(&app, &lan.token, visit.client_id, &image).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("no_signature_expected")
            ),
            "{body}"
        );
        let huge = vec![0u8; sotay_core::domain::gifts::MAX_SIGNATURE_BYTES + 1];
        let (s, _) = put_signature(&app, &lan.token, gift.client_id, &huge).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
        let sup_put = put_signature(&app, &sup, gift.client_id, &image).await;
        assert_eq!(sup_put.0, StatusCode::FORBIDDEN);

        // The image: stored once, then answered as already held.
        let (s, body) = put_signature(&app, &lan.token, gift.client_id, &image).await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        assert_eq!(body["sha256"], json!(sha));
        assert_eq!(
            (body["bytes"].as_i64(), body["duplicate"].as_bool()),
            (Some(image.len() as i64), Some(false))
        );
        assert_eq!(body["media_type"], "image/png");
        let (s, body) = put_signature(&app, &lan.token, gift.client_id, &image).await;
        assert_eq!(
            (s, body["duplicate"].as_bool()),
            (StatusCode::OK, Some(true)),
            "{body}"
        );
        assert_eq!(app.db.audit_count("signature.receive").await.unwrap(), 1);

        // Seen by the officer, the branch's supervisor and an admin; not by
        // another branch's supervisor nor another officer.
        let admin = app.token("admin", "admin-pass-1", &common::device(3)).await;
        for token in [&lan.token, &sup, &admin] {
            let (s, bytes, kind) = get_signature(&app, &read, token).await;
            assert_eq!((s, kind.as_str()), (StatusCode::OK, "image/png"));
            assert_eq!(bytes, image);
        }
        let bt = app
            .token("giamsat.bt", "super-pass-2", &common::device(2))
            .await;
        for token in [&bt, &hung.token] {
            let (s, _, _) = get_signature(&app, &read, token).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{backend:?}");
        }
        let batch = body_of_batch(&app, &sup, gift.client_id).await;
        assert_eq!(
            record_field(&batch, gift.client_id, "signature"),
            json!("received")
        );
        // Another officer's record naming the same hash does not show Lan's
        // image: each officer's images are their own.
        let hung_snap = snapshot(&app, &hung).await;
        let copy = hung.record(RecordBody::GiftHandout(GiftHandoutPayload {
            campaign_id: hung_snap.campaigns[0].id,
            worker_id: hung_snap.workers[0].id,
            acknowledged_name: "Ai đó".into(),
            signature_sha256: Some(sha.clone()),
        }));
        let (s, body) = upload(&app, &hung, Uuid::now_v7(), vec![copy.clone()]).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let theirs = format!("/api/v1/records/{}/signature", copy.client_id);
        let (s, _, _) = get_signature(&app, &theirs, &hung.token).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{backend:?}");
        let (s, body) = put_signature(&app, &hung.token, copy.client_id, &image).await;
        assert_eq!(
            (s, body["duplicate"].as_bool()),
            (StatusCode::CREATED, Some(false)),
            "{body}"
        );
        let (s, bytes, _) = get_signature(&app, &theirs, &hung.token).await;
        assert_eq!((s, bytes), (StatusCode::OK, image.clone()));
        let (_, st) = app.get(&statement, &sup).await;
        assert_eq!(gifts_of(&st)[0]["signature"], "Đã nhận", "{st}");
        assert_eq!(gifts_of(&st)[0]["acknowledged_by"], "Đặng Thị Thu");
        let (s, _, _) = get_signature(
            &app,
            &format!("/api/v1/records/{}/signature", visit.client_id),
            &sup,
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
}

/// The review of the batch holding `record`, as `token` sees it.
async fn body_of_batch(app: &TestApp, token: &str, record: Uuid) -> Value {
    let (s, list) = app.get("/api/v1/batches?status=pending", token).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    for b in list.as_array().into_iter().flatten() {
        let id = b["batch_id"].as_str().unwrap();
        let (s, detail) = app.get(&format!("/api/v1/batches/{id}"), token).await;
        assert_eq!(s, StatusCode::OK, "{detail}");
        if detail["records"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["record_id"] == json!(record))
        {
            return detail;
        }
    }
    panic!("no batch holds {record}: {list}");
}

fn record_field(batch: &Value, record: Uuid, field: &str) -> Value {
    batch["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["record_id"] == json!(record))
        .unwrap()[field]
        .clone()
}

/// The rows of a worker statement's gifts sheet.
fn gifts_of(statement: &Value) -> Vec<Value> {
    statement["sheets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "gifts")
        .unwrap_or_else(|| panic!("no gifts sheet: {statement}"))["rows"]
        .as_array()
        .unwrap()
        .clone()
}
