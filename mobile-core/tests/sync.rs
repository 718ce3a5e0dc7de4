//! The sync client against the in-memory server: a day synced, answers
//! lost after the server stored a batch, random cuts, refusals, wedged
//! records, token refresh, device codes.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use rust_decimal::Decimal;
use sotay_core::sync::fake::{FakeServer, Fault};
use sotay_core::sync::{normalize_server_url, SyncOptions};
use sotay_core::wire::{ChangePage, PortfolioSnapshot};
use sotay_core::{
    DeviceIdentity, FieldBook, FieldBookError, GiftInput, OutboxFilter, RepaymentInput,
    SyncProgress, VisitInput, VisitPurpose,
};
use uuid::Uuid;

const USER: &str = "binh.tv";
const HUNG_LOAN: &str = "0193a000-0000-7000-8000-0000000000c2";
const PASSWORD: &str = "mat-khau-dai-1";

fn snapshot() -> PortfolioSnapshot {
    serde_json::from_str(PORTFOLIO).unwrap()
}

/// Change pages that move Hùng to room `P.1`, `P.2`, …
fn pages(n: usize) -> Vec<ChangePage> {
    let hung = snapshot()
        .workers
        .into_iter()
        .find(|w| w.id == id(HUNG))
        .unwrap();
    (1..=n)
        .map(|k| ChangePage {
            officer: None,
            boarding_houses: vec![],
            workers: vec![sotay_core::wire::Worker {
                room: Some(format!("P.{k}")),
                ..hung.clone()
            }],
            loans: vec![],
            campaigns: vec![],
            record_statuses: vec![],
            cash_counts: vec![],
            removed_workers: vec![],
            removed_loans: vec![],
            removed_campaigns: vec![],
            next: String::new(),
            has_more: false,
            server_time: None,
        })
        .collect()
}

fn server(pages_n: usize) -> FakeServer {
    FakeServer::new(USER, PASSWORD, "A7K2", snapshot(), pages(pages_n))
}

fn opts(batch_size: usize, retries: u32) -> SyncOptions {
    SyncOptions {
        batch_size,
        page_size: 500,
        retries,
        backoff: Duration::ZERO,
    }
}

fn open_at(path: &str) -> Arc<FieldBook> {
    FieldBook::open(path.to_string(), device()).unwrap()
}

/// A signed-in book that has received the portfolio from `fake`.
fn signed_in(fake: &FakeServer) -> (tempfile::TempDir, Arc<FieldBook>) {
    let dir = tempfile::tempdir().unwrap();
    let book = open_at(&dir.path().join("sotay.db").display().to_string());
    let s = book
        .login_with(fake, FakeServer::URL, USER, PASSWORD, "Điện thoại của Bình")
        .unwrap();
    assert_eq!(s.device_code, "A7K2");
    let r = book.sync_with(fake, opts(500, 0), None).unwrap();
    assert_eq!(r.sent, 0);
    assert!(r.received_changes > 0);
    (dir, book)
}

fn visit(book: &FieldBook, worker: &str, minute: u32) -> Uuid {
    book.record_visit(VisitInput {
        worker_id: id(worker),
        purpose: VisitPurpose::RepaymentFollowUp,
        outcome: "Hẹn trả tuần sau".into(),
        notes: String::new(),
        location: None,
        recorded_at: at(8, minute),
    })
    .unwrap()
    .client_id
}

fn pay(book: &FieldBook, loan: &str, amount: i64, minute: u32) -> Uuid {
    book.record_repayment(RepaymentInput {
        loan_id: id(loan),
        amount: Decimal::from(amount),
        recorded_at: at(9, minute),
    })
    .unwrap()
    .client_id
}

fn gift(book: &FieldBook, campaign: &str, worker: &str) -> Uuid {
    book.record_gift(GiftInput {
        campaign_id: id(campaign),
        worker_id: id(worker),
        acknowledged_name: "Người nhận".into(),
        signature_image: None,
        recorded_at: at(10, 0),
    })
    .unwrap()
    .client_id
}

/// An officer's day: visits, repayments, gifts. Returns the client ids.
fn record_day(book: &FieldBook) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for (i, w) in [LAN, HUNG, HOA, LAM].iter().enumerate() {
        ids.push(visit(book, w, i as u32));
    }
    ids.push(pay(book, LAN_LOAN, 100_000, 1));
    ids.push(pay(book, LAN_LOAN, 50_000, 2));
    ids.push(pay(book, HUNG_LOAN, 200_000, 3));
    ids.push(gift(book, TET, LAN));
    ids.push(gift(book, TET, LAM));
    ids.push(gift(book, MAI_AM, LAN));
    ids
}

fn states(book: &FieldBook, filter: OutboxFilter) -> Vec<Uuid> {
    book.outbox(filter, 10_000)
        .unwrap()
        .into_iter()
        .map(|i| i.client_id)
        .collect()
}

fn batch_calls(fake: &FakeServer) -> Vec<(Option<Uuid>, Option<Fault>)> {
    fake.calls()
        .into_iter()
        .filter(|c| c.path == "/api/v1/sync/batches")
        .map(|c| (c.batch_id, c.fault))
        .collect()
}

/// The number of the next sync's first upload call: each sync first looks
/// at the changes (one call), then sends.
fn first_upload(fake: &FakeServer) -> u64 {
    fake.calls().len() as u64 + 1
}

struct Recorder(Mutex<Vec<(u32, u32, u64)>>);

impl SyncProgress for Recorder {
    fn on_progress(&self, sent: u32, total_to_send: u32, received: u64) {
        self.0.lock().unwrap().push((sent, total_to_send, received));
    }
}

#[test]
fn a_day_is_synced_and_every_record_is_accepted() {
    let fake = server(2);
    let (_dir, book) = signed_in(&fake);
    assert_eq!(
        book.worker_detail(id(HUNG)).unwrap().room.as_deref(),
        Some("P.2")
    );
    let ids = record_day(&book);
    assert_eq!(states(&book, OutboxFilter::Pending), ids);

    let progress = Recorder(Mutex::new(Vec::new()));
    let report = book.sync_with(&fake, opts(4, 0), Some(&progress)).unwrap();
    assert_eq!(report.sent, 10);
    assert_eq!(report.accepted, 10);
    assert_eq!(
        (report.duplicates, report.rejected, report.wedged),
        (0, 0, 0)
    );
    assert_eq!(report.results.len(), 10);
    assert_eq!(states(&book, OutboxFilter::Accepted), ids);
    assert!(states(&book, OutboxFilter::Pending).is_empty());
    let stored: HashSet<Uuid> = fake.stored().into_iter().collect();
    assert_eq!(stored, ids.iter().copied().collect());

    // Three batches of at most four, in recording order, each sent once.
    let batches = batch_calls(&fake);
    assert_eq!(batches.len(), 3);
    let distinct: HashSet<_> = batches.iter().map(|b| b.0).collect();
    assert_eq!(distinct.len(), 3);
    let seen = progress.0.lock().unwrap().clone();
    assert_eq!(seen.first(), Some(&(0, 10, 0)));
    assert_eq!(
        seen.iter().map(|p| p.0).collect::<Vec<_>>()[..4],
        [0, 4, 8, 10]
    );
    assert_eq!(seen.last().unwrap().0, 10);

    // Nothing left: the next sync sends nothing and asks for changes only.
    let again = book.sync_with(&fake, opts(4, 0), None).unwrap();
    assert_eq!((again.sent, again.accepted), (0, 0));
    assert_eq!(batch_calls(&fake).len(), 3);

    let summary = book.daily_summary(day(2026, 11, 20)).unwrap();
    assert_eq!(summary.pending, 0);
    assert!(summary.rejected.is_empty() && summary.wedged.is_empty());
}

#[test]
fn a_server_restored_from_a_backup_is_sent_again_what_it_lost() {
    let fake = server(1);
    let (_dir, book) = signed_in(&fake);
    let ids = record_day(&book);
    let first = book.sync_with(&fake, opts(4, 0), None).unwrap();
    assert_eq!((first.accepted, first.portfolio_reloaded), (10, false));

    // The server goes back to a backup taken before the last three records
    // (the gifts) reached it; the phone records one more visit.
    fake.restore_from_backup(&ids[7..]);
    let later = visit(&book, LAN, 30);
    let calls_before = fake.calls().len();
    let progress = Recorder(Mutex::new(Vec::new()));
    let r = book.sync_with(&fake, opts(4, 0), Some(&progress)).unwrap();
    assert!(r.portfolio_reloaded);
    // The server refused the cursor before anything was sent: the ten
    // records it had answered went back in the queue, after them the
    // visit. The three it had lost are stored again, the others are
    // duplicates.
    assert_eq!(r.sent_again, 10);
    assert_eq!(r.sent, 11);
    assert_eq!(
        (r.accepted, r.duplicates, r.rejected, r.wedged),
        (4, 7, 0, 0)
    );
    let stored: HashSet<Uuid> = fake.stored().into_iter().collect();
    let mut all: HashSet<Uuid> = ids.iter().copied().collect();
    all.insert(later);
    assert_eq!(stored, all);
    let counts = fake.accept_counts();
    for (k, id) in ids.iter().enumerate() {
        assert_eq!(counts[id], if k >= 7 { 2 } else { 1 }, "record {k}");
    }
    assert_eq!(counts[&later], 1);
    let mut accepted = ids.clone();
    accepted.push(later);
    assert_eq!(states(&book, OutboxFilter::Accepted), accepted);
    // Downloads: the refused page, the whole portfolio again, then its page
    // (Hùng in P.1).
    let downloads: Vec<String> = fake.calls()[calls_before..]
        .iter()
        .filter(|c| c.path.starts_with("/api/v1/sync/changes"))
        .map(|c| c.path.clone())
        .collect();
    assert_eq!(downloads.len(), 3, "{downloads:?}");
    assert!(downloads[0].starts_with("/api/v1/sync/changes?since=c1&limit=1"));
    // (with the cursor of the answers the records just had)
    assert_eq!(downloads[1], "/api/v1/sync/changes?acked=c1.1");
    assert!(downloads[2].starts_with("/api/v1/sync/changes?since=c0"));
    assert_eq!(
        book.worker_detail(id(HUNG)).unwrap().room.as_deref(),
        Some("P.1")
    );
    assert_eq!(progress.0.lock().unwrap().last().unwrap().1, 11);
    // Nothing went before the refusal: the visit went last, after the
    // records recorded before it.
    let last_batch = batch_calls(&fake).last().unwrap().0.unwrap();
    assert_eq!(fake.sent_in()[&later], HashSet::from([last_batch]));

    // The new cursor is good: the next sync sends nothing and reloads nothing.
    let again = book.sync_with(&fake, opts(4, 0), None).unwrap();
    assert_eq!((again.sent, again.portfolio_reloaded), (0, false));
}

/// An app upgrade drops the download cursor (the portfolio is downloaded
/// again); a server restored meanwhile is still found out before anything
/// is sent, by the last upload's answer, and gets back what it lost.
#[test]
fn a_phone_upgraded_without_its_cursor_still_finds_a_restored_server() {
    let fake = server(1);
    let (dir, book) = signed_in(&fake);
    let ids = record_day(&book);
    let first = book.sync_with(&fake, opts(4, 0), None).unwrap();
    assert_eq!(first.accepted, 10);
    fake.restore_from_backup(&ids[7..]);
    // What the field book's upgrade to a new schema does.
    let db = rusqlite::Connection::open(dir.path().join("sotay.db")).unwrap();
    db.execute("DELETE FROM meta WHERE key = 'cursor'", [])
        .unwrap();
    drop(db);
    let later = visit(&book, LAN, 30);
    let calls_before = fake.calls().len();
    let r = book.sync_with(&fake, opts(4, 0), None).unwrap();
    assert!(r.portfolio_reloaded);
    assert_eq!((r.sent_again, r.accepted, r.duplicates), (10, 4, 7));
    let stored: HashSet<Uuid> = fake.stored().into_iter().collect();
    let mut all: HashSet<Uuid> = ids.iter().copied().collect();
    all.insert(later);
    assert_eq!(stored, all);
    // One change asked for with the last answer's cursor first, refused;
    // the portfolio after the records went.
    let downloads: Vec<String> = fake.calls()[calls_before..]
        .iter()
        .filter(|c| c.path.starts_with("/api/v1/sync/changes"))
        .map(|c| c.path.clone())
        .collect();
    assert_eq!(
        downloads[..2],
        [
            "/api/v1/sync/changes?since=c1&limit=1",
            "/api/v1/sync/changes?acked=c1.1"
        ],
        "{downloads:?}"
    );
    let again = book.sync_with(&fake, opts(4, 0), None).unwrap();
    assert_eq!((again.sent, again.portfolio_reloaded), (0, false));
}

/// After an upgrade that dropped the download cursor, on a server not
/// restored, the records go up first and the portfolio comes after: a weak
/// line that cannot carry the portfolio still carries the cash.
#[test]
fn a_phone_upgraded_without_its_cursor_sends_before_it_downloads() {
    let fake = server(1);
    let (dir, book) = signed_in(&fake);
    record_day(&book);
    book.sync_with(&fake, opts(500, 0), None).unwrap();
    let db = rusqlite::Connection::open(dir.path().join("sotay.db")).unwrap();
    db.execute("DELETE FROM meta WHERE key = 'cursor'", [])
        .unwrap();
    drop(db);
    let later = visit(&book, LAN, 30);
    let calls_before = fake.calls().len();
    let r = book.sync_with(&fake, opts(500, 0), None).unwrap();
    assert_eq!(
        (r.accepted, r.portfolio_reloaded, r.sent_again),
        (1, false, 0)
    );
    let paths: Vec<String> = fake.calls()[calls_before..]
        .iter()
        .map(|c| c.path.clone())
        .collect();
    let upload = paths.iter().position(|p| p == "/api/v1/sync/batches");
    let portfolio = paths
        .iter()
        .position(|p| p.starts_with("/api/v1/sync/changes?acked="));
    assert!(
        paths[0].contains("&limit=1") && upload.is_some() && upload < portfolio,
        "{paths:?}"
    );
    assert!(states(&book, OutboxFilter::Accepted).contains(&later));
}

#[test]
fn an_answer_lost_after_the_server_stored_the_batch_is_replayed_with_the_same_id() {
    let fake = server(1);
    let (dir, book) = signed_in(&fake);
    let ids = record_day(&book);
    fake.fault_at(first_upload(&fake), Fault::AnswerLost);
    let e = book.sync_with(&fake, opts(4, 0), None).unwrap_err();
    match &e {
        // The officer is told nothing is lost.
        FieldBookError::Network {
            message_vi,
            message_en,
            ..
        } => {
            assert!(
                message_vi.contains("Các bản ghi vẫn an toàn trên máy"),
                "{message_vi}"
            );
            assert!(message_en.contains("safe on the phone"), "{message_en}");
        }
        e => panic!("{e:?}"),
    }
    // The server stored the first four; the phone does not know it yet.
    assert_eq!(fake.stored().len(), 4);
    assert_eq!(states(&book, OutboxFilter::Pending), ids);

    // The app is killed and started again.
    drop(book);
    let book = open_at(&dir.path().join("sotay.db").display().to_string());
    let report = book.sync_with(&fake, opts(4, 0), None).unwrap();
    let batches = batch_calls(&fake);
    assert_eq!(batches[0].1, Some(Fault::AnswerLost));
    assert_eq!(
        batches[1].0, batches[0].0,
        "the same batch id is sent again first"
    );
    assert_eq!(batches.len(), 4);
    assert_eq!(report.sent, 10);
    assert_eq!(
        report.accepted, 10,
        "a replayed batch gets its stored results"
    );
    assert_eq!(states(&book, OutboxFilter::Accepted), ids);
    for (client, n) in fake.accept_counts() {
        assert_eq!(n, 1, "{client} stored {n} times");
    }
    assert_eq!(fake.stored().len(), 10);
}

#[test]
fn transient_failures_are_retried_within_one_sync_with_the_same_batch() {
    let fake = server(0);
    let (_dir, book) = signed_in(&fake);
    let ids = record_day(&book);
    let next = first_upload(&fake);
    fake.fault_at(next, Fault::NotSent);
    fake.fault_at(next + 1, Fault::Status(503));
    fake.fault_at(next + 2, Fault::AnswerLost);
    let report = book.sync_with(&fake, opts(500, 3), None).unwrap();
    let batches = batch_calls(&fake);
    assert_eq!(batches.len(), 4);
    assert!(batches.iter().all(|b| b.0 == batches[0].0));
    assert_eq!(report.accepted, 10);
    assert_eq!(states(&book, OutboxFilter::Accepted), ids);

    // Out of retries: a network error, nothing marked.
    let more = visit(&book, LAN, 30);
    let next = first_upload(&fake);
    fake.fault_at(next, Fault::Status(500));
    fake.fault_at(next + 1, Fault::Status(503));
    match book.sync_with(&fake, opts(500, 1), None).unwrap_err() {
        FieldBookError::Network { code, .. } => assert_eq!(code, "unavailable"),
        e => panic!("{e:?}"),
    }
    assert_eq!(states(&book, OutboxFilter::Pending), [more]);
}

#[test]
fn a_gift_already_handed_out_elsewhere_is_rejected_with_its_reason() {
    let fake = server(0);
    let (_dir, book) = signed_in(&fake);
    fake.gift_given(id(TET), id(LAM));
    let ids = record_day(&book);
    let report = book.sync_with(&fake, opts(500, 0), None).unwrap();
    assert_eq!((report.accepted, report.rejected), (9, 1));

    let rejected = book.outbox(OutboxFilter::Rejected, 10).unwrap();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].client_id, ids[8]);
    assert_eq!(rejected[0].code.as_deref(), Some("already_received"));
    let reason = "Người lao động đã nhận quà của chương trình này";
    assert_eq!(rejected[0].message.as_deref(), Some(reason));

    let summary = book.daily_summary(day(2026, 11, 20)).unwrap();
    assert_eq!(summary.rejected.len(), 1);
    assert!(summary.text_vi.contains(reason), "{}", summary.text_vi);
    assert!(summary.text_vi.contains("1 bản ghi bị từ chối"));
    // The day's gifts say how many were refused: one recorded again is
    // not a second package given.
    assert!(
        summary.text_vi.contains("suất quà (1 bị từ chối)"),
        "{}",
        summary.text_vi
    );
}

#[test]
fn cash_the_server_refused_is_not_counted_as_cash_to_hand_over() {
    let fake = server(0);
    let (_dir, book) = signed_in(&fake);
    // Hùng's loan was paid off at the branch while the phone was offline.
    fake.loan_paid_off(id(HUNG_LOAN));
    record_day(&book);
    let report = book.sync_with(&fake, opts(500, 0), None).unwrap();
    assert_eq!((report.accepted, report.rejected), (9, 1));

    // The next morning, before handing over: one more repayment.
    book.record_repayment(RepaymentInput {
        loan_id: id(LAN_LOAN),
        amount: Decimal::from(10_000),
        recorded_at: at(9, 50) + chrono::Duration::days(1),
    })
    .unwrap();
    let summary = book.daily_summary(day(2026, 11, 20)).unwrap();
    assert_eq!(summary.cash_collected, Decimal::from(350_000));
    assert_eq!(summary.cash_refused, Decimal::from(200_000));
    assert_eq!(summary.cash_to_hand_over, Decimal::from(150_000));
    // Every day's cash still to hand over, said beside the day's.
    assert_eq!(summary.cash_in_hand, Decimal::from(160_000));
    assert!(
        summary
            .text_vi
            .contains("cộng mọi ngày, còn phải nộp chi nhánh 160.000 ₫"),
        "{}",
        summary.text_vi
    );
    assert!(
        summary.text_vi.contains(
            "trong đó 200.000 ₫ bị từ chối — không nộp cùng lô: trả lại người vay hoặc làm theo hướng dẫn của giám sát chi nhánh; tiền mặt còn phải nộp chi nhánh 150.000 ₫"
        ),
        "{}",
        summary.text_vi
    );
    assert!(
        summary.text_vi.contains("Khoản vay đã tất toán"),
        "{}",
        summary.text_vi
    );
    // The day's route counts what stays collected: not Hùng's refused one.
    let paid: std::collections::HashMap<Uuid, Decimal> = book
        .route(day(2026, 11, 20))
        .unwrap()
        .into_iter()
        .flat_map(|s| s.workers)
        .map(|w| (w.worker_id, w.paid_today))
        .collect();
    assert_eq!(paid[&id(HUNG)], Decimal::ZERO);
    assert_eq!(paid[&id(LAN)], Decimal::from(150_000));
}

fn signed_gift(book: &FieldBook, campaign: &str, worker: &str, image: &[u8]) -> Uuid {
    book.record_gift(GiftInput {
        campaign_id: id(campaign),
        worker_id: id(worker),
        acknowledged_name: "Người nhận".into(),
        signature_image: Some(image.to_vec()),
        recorded_at: at(10, 0),
    })
    .unwrap()
    .client_id
}

#[test]
fn signature_images_follow_their_gifts_once_the_server_has_the_records() {
    let fake = server(0);
    let (_dir, book) = signed_in(&fake);
    fake.gift_given(id(TET), id(LAM));
    let lan_image = b"\x89PNG\r\n\x1a\nchu ky cua Lan".to_vec();
    let lam_image = b"\xff\xd8\xff\xe0chu ky cua Lam".to_vec();
    let lan = signed_gift(&book, TET, LAN, &lan_image);
    let lam = signed_gift(&book, TET, LAM, &lam_image);
    let unsigned = gift(&book, MAI_AM, LAN);
    let summary = book.daily_summary(day(2026, 11, 20)).unwrap();
    assert_eq!(summary.signatures_waiting, 2);
    assert!(
        summary.text_vi.contains("2 ảnh chữ ký nhận quà chưa gửi"),
        "{}",
        summary.text_vi
    );

    // The first image's answer is lost after the server stored it: the
    // images stop for this sync, nothing is marked sent, the changes are
    // still pulled, and the next sync sends both.
    let before = first_upload(&fake);
    fake.fault_at(before + 1, Fault::AnswerLost);
    let cut = book.sync_with(&fake, opts(500, 0), None).unwrap();
    assert_eq!(
        (cut.accepted, cut.signatures_sent, cut.signatures_waiting),
        (2, 0, 2)
    );
    assert_eq!(fake.signatures().len(), 1);
    assert!(
        fake.calls()
            .last()
            .unwrap()
            .path
            .starts_with("/api/v1/sync/changes"),
        "the pull went on"
    );

    let report = book.sync_with(&fake, opts(500, 0), None).unwrap();
    assert_eq!(report.sent, 0, "the records went in the first sync");
    assert_eq!(
        (
            report.signatures_sent,
            report.signatures_refused,
            report.signatures_waiting
        ),
        (2, 0, 0)
    );
    let held = fake.signatures();
    assert_eq!(held.len(), 2);
    assert_eq!(held[&lan], lan_image);
    // The gift the server refused still brings its evidence.
    assert_eq!(held[&lam], lam_image);
    assert!(!held.contains_key(&unsigned));
    assert_eq!(states(&book, OutboxFilter::Rejected), vec![lam]);

    // Nothing is sent twice.
    let puts = |f: &FakeServer| f.calls().iter().filter(|c| c.method == "PUT").count();
    let n = puts(&fake);
    let again = book.sync_with(&fake, opts(500, 0), None).unwrap();
    assert_eq!((again.signatures_sent, again.signatures_waiting), (0, 0));
    assert_eq!(puts(&fake), n);
    let summary = book.daily_summary(day(2026, 11, 20)).unwrap();
    assert_eq!(
        (summary.signatures_waiting, summary.signatures_refused),
        (0, 0)
    );
}

#[test]
fn a_signature_is_sent_only_after_its_record_reaches_the_server() {
    let fake = server(0);
    let (_dir, book) = signed_in(&fake);
    let image = b"\x89PNG\r\n\x1a\nchu ky".to_vec();
    let lan = signed_gift(&book, TET, LAN, &image);
    // The server refuses the record's batch until told otherwise.
    fake.refuse_record(lan);
    let report = book.sync_with(&fake, opts(500, 0), None).unwrap();
    assert_eq!((report.signatures_sent, report.signatures_waiting), (0, 1));
    assert!(fake.calls().iter().all(|c| c.method != "PUT"));
    fake.stop_refusing();
    let report = book.sync_with(&fake, opts(500, 0), None).unwrap();
    assert_eq!((report.accepted, report.signatures_sent), (1, 1));
    assert_eq!(fake.signatures()[&lan], image);
}

#[test]
fn a_signature_that_is_not_an_image_is_refused_on_the_phone() {
    let fake = server(0);
    let (_dir, book) = signed_in(&fake);
    let err = book
        .record_gift(GiftInput {
            campaign_id: id(TET),
            worker_id: id(LAN),
            acknowledged_name: "Người nhận".into(),
            signature_image: Some(b"<svg onload=alert(1)>".to_vec()),
            recorded_at: at(10, 0),
        })
        .unwrap_err();
    assert!(
        matches!(&err, FieldBookError::Validation { field, .. } if field == "signature_image"),
        "{err:?}"
    );
}

#[test]
fn a_record_the_server_keeps_refusing_is_wedged_and_the_others_go_on() {
    let fake = server(0);
    let (_dir, book) = signed_in(&fake);
    let ids = record_day(&book);
    let bad = ids[5];
    fake.refuse_record(bad);

    // The batch is split until the bad record is alone; the others go.
    let r = book.sync_with(&fake, opts(500, 0), None).unwrap();
    assert_eq!(r.accepted, 9);
    assert_eq!(r.wedged, 0);
    // Each record counted once as sent: the halves of a refused batch, not
    // the batch they were split from.
    assert_eq!(r.sent, 10);
    assert_eq!(states(&book, OutboxFilter::Pending), [bad]);

    // Records made later are not held up by it.
    let later = visit(&book, HOA, 40);
    let r = book.sync_with(&fake, opts(500, 0), None).unwrap();
    assert_eq!(r.accepted, 1);
    assert!(states(&book, OutboxFilter::Accepted).contains(&later));

    // After five syncs in which it was refused, it is set aside.
    for _ in 0..2 {
        assert_eq!(book.sync_with(&fake, opts(500, 0), None).unwrap().wedged, 0);
    }
    assert_eq!(book.sync_with(&fake, opts(500, 0), None).unwrap().wedged, 1);
    let wedged = book.outbox(OutboxFilter::Wedged, 10).unwrap();
    assert_eq!(wedged.len(), 1);
    assert_eq!(wedged[0].client_id, bad);
    assert_eq!(wedged[0].state, "wedged");
    assert_eq!(wedged[0].code.as_deref(), Some("invalid_record"));
    assert!(wedged[0].message.as_deref().unwrap().contains("5 lần"));
    let summary = book.daily_summary(day(2026, 11, 20)).unwrap();
    assert_eq!(summary.wedged.len(), 1);
    assert!(
        summary.text_vi.contains("gửi lỗi nhiều lần"),
        "{}",
        summary.text_vi
    );
    // The wedged repayment still counts against the balance on the phone.
    assert_eq!(summary.cash_collected, Decimal::from(350_000));

    // It stays aside; once the server is fixed the officer retries it.
    let r = book.sync_with(&fake, opts(500, 0), None).unwrap();
    assert_eq!(r.sent, 0);
    fake.stop_refusing();
    assert_eq!(book.retry_wedged().unwrap(), 1);
    let r = book.sync_with(&fake, opts(500, 0), None).unwrap();
    assert_eq!(r.accepted, 1);
    assert_eq!(states(&book, OutboxFilter::Accepted).len(), 11);
    for (client, n) in fake.accept_counts() {
        assert_eq!(n, 1, "{client}");
    }
}

#[test]
fn a_record_left_out_of_the_answer_is_wedged_not_resent_forever() {
    let fake = server(0);
    let (_dir, book) = signed_in(&fake);
    let ids = record_day(&book);
    fake.omit_result(ids[2]);
    let r = book.sync_with(&fake, opts(500, 0), None).unwrap();
    assert_eq!((r.accepted, r.wedged), (9, 1));
    let w = book.outbox(OutboxFilter::Wedged, 10).unwrap();
    assert_eq!(w[0].client_id, ids[2]);
    assert_eq!(w[0].code.as_deref(), Some("no_result"));
    assert_eq!(batch_calls(&fake).len(), 1);
}

#[test]
fn a_batch_conflict_wedges_the_batch_and_later_batches_go_on() {
    let fake = server(0);
    let (_dir, book) = signed_in(&fake);
    let ids = record_day(&book);
    fake.fault_at(first_upload(&fake), Fault::BatchConflict);
    let r = book.sync_with(&fake, opts(4, 0), None).unwrap();
    assert_eq!((r.wedged, r.accepted), (4, 6));
    assert_eq!(states(&book, OutboxFilter::Wedged), ids[..4]);
    assert_eq!(states(&book, OutboxFilter::Accepted), ids[4..]);
    let w = &book.outbox(OutboxFilter::Wedged, 10).unwrap()[0];
    assert_eq!(w.code.as_deref(), Some("batch_conflict"));
}

#[test]
fn an_expired_access_token_is_refreshed_once_and_the_new_refresh_token_kept() {
    let fake = server(0);
    let (dir, book) = signed_in(&fake);
    record_day(&book);
    fake.expire_access_tokens();
    let r = book.sync_with(&fake, opts(500, 0), None).unwrap();
    assert_eq!(r.accepted, 10);
    let paths: Vec<String> = fake.calls().into_iter().map(|c| c.path).collect();
    let n = paths.len();
    // The first call (the look at the changes) is refused, the token
    // refreshed, the call made again; then the upload.
    assert_eq!(
        paths[n - 5..n - 1],
        [
            "/api/v1/sync/changes?since=c0&limit=1",
            "/api/v1/auth/refresh",
            "/api/v1/sync/changes?since=c0&limit=1",
            "/api/v1/sync/batches"
        ]
    );
    // The rotated refresh token was kept: it works again after a restart,
    // where the first one would now be refused as reused.
    drop(book);
    let book = open_at(&dir.path().join("sotay.db").display().to_string());
    fake.expire_access_tokens();
    visit(&book, LAN, 50);
    assert_eq!(
        book.sync_with(&fake, opts(500, 0), None).unwrap().accepted,
        1
    );
    assert_eq!(fake.tokens_issued(), 3);
    assert!(book.session().unwrap().unwrap().signed_in);
}

#[test]
fn an_access_token_about_to_expire_is_renewed_before_it_is_refused() {
    let fake = server(0);
    // Signed in with an access token that runs out within the margin.
    fake.set_access_lifetime(10);
    let dir = tempfile::tempdir().unwrap();
    let book = open_at(&dir.path().join("sotay.db").display().to_string());
    book.login_with(&fake, FakeServer::URL, USER, PASSWORD, "Điện thoại")
        .unwrap();
    fake.set_access_lifetime(900);
    let paths = |from: usize| -> Vec<String> {
        fake.calls()[from..]
            .iter()
            .map(|c| c.path.clone())
            .collect()
    };
    let before = fake.calls().len();
    book.sync_with(&fake, opts(500, 0), None).unwrap();
    let calls = paths(before);
    assert_eq!(
        calls[..2],
        ["/api/v1/auth/refresh", "/api/v1/sync/changes"],
        "{calls:?}"
    );
    assert_eq!(
        calls
            .iter()
            .filter(|p| p.as_str() == "/api/v1/auth/refresh")
            .count(),
        1,
        "renewed once, then the new token serves: {calls:?}"
    );
    // The renewed token lasts: the next sync goes straight to work.
    record_day(&book);
    let before = fake.calls().len();
    assert_eq!(
        book.sync_with(&fake, opts(500, 0), None).unwrap().accepted,
        10
    );
    assert!(paths(before).iter().all(|p| p != "/api/v1/auth/refresh"));
    assert_eq!(fake.tokens_issued(), 2);
}

#[test]
fn a_reused_refresh_token_or_a_revoked_device_ends_the_session_with_the_servers_message() {
    let fake = server(0);
    let (_dir, book) = signed_in(&fake);
    visit(&book, LAN, 1);
    // The refresh reaches the server but its answer is lost: the phone
    // still holds the old refresh token, which the server has rotated.
    fake.expire_access_tokens();
    let n = fake.calls().len() as u64;
    fake.fault_at(n + 1, Fault::AnswerLost);
    assert!(matches!(
        book.sync_with(&fake, opts(500, 0), None).unwrap_err(),
        FieldBookError::Network { .. }
    ));
    match book.sync_with(&fake, opts(500, 0), None).unwrap_err() {
        FieldBookError::Auth {
            code,
            message_vi: message,
            ..
        } => {
            assert_eq!(code, "refresh_token_reused");
            assert_eq!(
                message,
                "Mã làm mới đã được dùng; phiên bị thu hồi, hãy đăng nhập lại"
            );
        }
        e => panic!("{e:?}"),
    }
    assert!(!book.session().unwrap().unwrap().signed_in);
    match book.sync_with(&fake, opts(500, 0), None).unwrap_err() {
        FieldBookError::Auth { code, .. } => assert_eq!(code, "not_signed_in"),
        e => panic!("{e:?}"),
    }

    // Signing in again works; then the device is revoked.
    book.login_with(&fake, FakeServer::URL, USER, PASSWORD, "Điện thoại")
        .unwrap();
    assert_eq!(
        book.sync_with(&fake, opts(500, 0), None).unwrap().accepted,
        1
    );
    fake.revoke_device(device().device_id);
    let held = visit(&book, LAN, 2);
    let image = b"\x89PNG\r\n\x1a\nchu ky nhan qua".to_vec();
    let handed = signed_gift(&book, TET, LAN, &image);
    // A repayment taken and then taken back by the officer (voided).
    let taken_back = pay(&book, LAN_LOAN, 50_000, 30);
    let void = book
        .void_record(sotay_core::CorrectionInput {
            target_id: taken_back,
            reason: "Thu nhầm người".into(),
            recorded_at: at(9, 31),
        })
        .unwrap()
        .client_id;
    // Offline long past its access token's life: the refresh still answers
    // (with a token that only uploads into quarantine).
    fake.expire_access_tokens();
    match book.sync_with(&fake, opts(500, 0), None).unwrap_err() {
        FieldBookError::Auth {
            code,
            message_vi: message,
            ..
        } => {
            assert_eq!(code, "device_revoked");
            // With what reached the server all the same (the repayment
            // voided: no cash).
            assert_eq!(
                message,
                "Thiết bị đã bị thu hồi quyền truy cập. Máy chủ đã nhận 4 bản ghi của máy này và giữ lại cho giám sát xem xét: đừng ghi lại chúng trên máy khác; báo giám sát chi nhánh"
            );
        }
        e => panic!("{e:?}"),
    }
    // What the phone held went up before it signed out, the gift's
    // signature with it: the server keeps it in quarantine for a
    // supervisor, and the phone says so.
    let mut kept = fake.quarantined();
    kept.sort();
    let mut sent = vec![held, handed, taken_back, void];
    sent.sort();
    assert_eq!(kept, sent);
    assert_eq!(fake.signatures().get(&handed), Some(&image));
    // The void held in quarantine still takes its repayment back: no cash
    // to give back for it, as the server counts.
    let summary = book.daily_summary(day(2026, 11, 20)).unwrap();
    assert_eq!(summary.cash_refused, Decimal::ZERO, "{}", summary.text_vi);
    assert!(
        !summary.text_vi.contains("Hủy bản ghi"),
        "the void did its work: {}",
        summary.text_vi
    );
    assert!(
        summary
            .text_vi
            .contains("2 bản ghi bị giữ lại để giám sát xem xét (điện thoại đã bị thu hồi):"),
        "{}",
        summary.text_vi
    );
    let rejected = book.outbox(OutboxFilter::Rejected, 10).unwrap();
    assert_eq!(rejected.len(), 4, "{rejected:?}");
    assert!(rejected
        .iter()
        .any(|r| r.client_id == taken_back && r.voided));
    assert!(rejected
        .iter()
        .all(|r| r.code.as_deref() == Some("device_revoked")));
    assert!(states(&book, OutboxFilter::Pending).is_empty());
    assert!(!book.session().unwrap().unwrap().signed_in);
    // Revoked, the phone takes no more cash: no receipt for money that
    // could never reach the books.
    let refused = book
        .record_repayment(RepaymentInput {
            loan_id: id(LAN_LOAN),
            amount: Decimal::from(10_000),
            recorded_at: at(10, 0),
        })
        .unwrap_err();
    match refused {
        FieldBookError::Auth {
            code, message_vi, ..
        } => {
            assert_eq!(code, "device_revoked");
            assert!(message_vi.contains("không ghi thêm được"), "{message_vi}");
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(book.outbox(OutboxFilter::All, 100).unwrap().len(), 5);
    // A revoked phone is most often a lost one: the workers left it (the
    // officer's own records stay, above).
    match book.search("lan".into(), 10) {
        Err(FieldBookError::Auth {
            code, message_vi, ..
        }) => {
            assert_eq!(code, "device_revoked");
            assert!(message_vi.contains("không còn danh sách"), "{message_vi}");
            assert!(
                message_vi.contains("Những gì máy giữ đã được gửi cho giám sát"),
                "{message_vi}"
            );
        }
        other => panic!("shown on a revoked phone: {other:?}"),
    }
    assert!(book.worker_detail(id(LAN)).is_err());
    // Not while it stays revoked; given back, it signs in, downloads the
    // portfolio again and records.
    assert!(book
        .login_with(&fake, FakeServer::URL, USER, PASSWORD, "Điện thoại")
        .is_err());
    fake.restore_device(device().device_id);
    book.login_with(&fake, FakeServer::URL, USER, PASSWORD, "Điện thoại")
        .unwrap();
    match book.worker_detail(id(LAN)) {
        Err(FieldBookError::NotFound { .. }) => {}
        other => panic!("the workers stayed on the revoked phone: {other:?}"),
    }
    book.sync_with(&fake, opts(500, 0), None).unwrap();
    assert!(!book.search("lan".into(), 10).unwrap().is_empty());
    pay(&book, LAN_LOAN, 10_000, 40);
}

/// A sync refused as revoked, its message saying `what`.
fn revoked_saying(book: &FieldBook, fake: &FakeServer, what: &str) {
    match book.sync_with(fake, opts(500, 0), None).unwrap_err() {
        FieldBookError::Auth {
            code, message_vi, ..
        } => {
            assert_eq!(code, "device_revoked");
            assert!(message_vi.contains(what), "{message_vi}");
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn a_revoked_phone_that_could_not_send_says_what_it_still_holds() {
    let fake = server(0);
    let (_dir, book) = signed_in(&fake);
    book.sync_with(&fake, opts(500, 0), None).unwrap();
    fake.revoke_device(device().device_id);
    let taken = book
        .record_repayment(RepaymentInput {
            loan_id: id(LAN_LOAN),
            amount: Decimal::from(50_000),
            recorded_at: at(9, 30),
        })
        .unwrap();
    // The upload is refused as revoked; sending it all the same (into
    // quarantine) never reaches the server: the signal went.
    let n = fake.calls().len() as u64;
    fake.fault_at(n + 1, Fault::NotSent);
    revoked_saying(&book, &fake, "Còn 1 bản ghi máy chủ chưa báo đã nhận");
    assert!(fake.quarantined().is_empty());
    // Its pages then say so, not that what it held was sent.
    for refused in [
        book.search("lan".into(), 10).map(|_| ()),
        book.record_repayment(RepaymentInput {
            loan_id: id(LAN_LOAN),
            amount: Decimal::from(10_000),
            recorded_at: at(10, 0),
        })
        .map(|_| ()),
    ] {
        match refused {
            Err(FieldBookError::Auth {
                code, message_vi, ..
            }) => {
                assert_eq!(code, "device_revoked");
                assert!(
                    message_vi.contains("Còn 1 bản ghi máy chủ chưa báo đã nhận (xem")
                        && !message_vi.contains("đã được gửi cho giám sát"),
                    "{message_vi}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
    // With a signal again, the next sync sends it into quarantine, then
    // the phone signs out.
    fake.clear_faults();
    revoked_saying(&book, &fake, "Máy chủ đã nhận 1 bản ghi");
    assert_eq!(fake.quarantined().len(), 1);
    assert!(!book.session().unwrap().unwrap().signed_in);
    // Its receipt shown again says it is held, not refused.
    let fate = book
        .receipt(taken.receipt_no)
        .unwrap()
        .fate_vi
        .unwrap_or_default();
    assert!(
        fate.starts_with("Phiếu thu này được giữ lại chờ giám sát"),
        "{fate}"
    );
}

#[test]
fn login_refuses_a_wrong_password_and_a_plain_http_server() {
    let fake = server(0);
    let dir = tempfile::tempdir().unwrap();
    let book = open_at(&dir.path().join("a.db").display().to_string());
    match book
        .login_with(&fake, FakeServer::URL, USER, "sai", "Điện thoại")
        .unwrap_err()
    {
        FieldBookError::Auth {
            code,
            message_vi: message,
            ..
        } => {
            assert_eq!(code, "invalid_credentials");
            assert_eq!(message, "Sai tên đăng nhập hoặc mật khẩu");
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(book.session().unwrap(), None);
    assert!(matches!(
        book.login_with(&fake, "http://sotay.example.vn", USER, PASSWORD, "x"),
        Err(FieldBookError::Validation { ref field, .. }) if field == "server_url"
    ));
    assert_eq!(
        normalize_server_url("https://sotay.example.vn/").unwrap(),
        "https://sotay.example.vn"
    );
    assert!(normalize_server_url("http://localhost:8080").is_ok());
    assert!(normalize_server_url("http://127.0.0.1:8080/").is_ok());
    assert!(normalize_server_url("http://[::1]/").is_ok());
    assert!(normalize_server_url("http://localhost.example.vn").is_err());
    assert!(normalize_server_url("https://").is_err());
    assert!(normalize_server_url("ftp://x").is_err());
    assert!(matches!(
        book.sync_with(&fake, opts(500, 0), None),
        Err(FieldBookError::Auth { ref code, .. }) if code == "not_signed_in"
    ));
}

#[test]
fn login_adopts_the_servers_device_code_before_any_receipt_and_refuses_it_after() {
    let fake = server(0);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db").display().to_string();
    let provisional = DeviceIdentity {
        device_code: "ZZ99".into(),
        ..device()
    };
    let book = FieldBook::open(path.clone(), provisional.clone()).unwrap();
    book.apply_portfolio_json(PORTFOLIO.into()).unwrap();
    visit(&book, LAN, 1);
    let s = book
        .login_with(&fake, FakeServer::URL, USER, PASSWORD, "Điện thoại")
        .unwrap();
    assert_eq!(s.device_code, "A7K2");
    assert_eq!(s.full_name, "Trần Văn Bình");
    assert_eq!(book.device().unwrap().device_code, "A7K2");
    let r = book
        .record_repayment(RepaymentInput {
            loan_id: id(LAN_LOAN),
            amount: Decimal::from(10_000),
            recorded_at: at(9, 0),
        })
        .unwrap();
    assert_eq!(r.receipt_no, "A7K2-000001");
    // Opened again with the provisional code, the server's code stays.
    drop(book);
    let book = FieldBook::open(path, provisional.clone()).unwrap();
    assert_eq!(book.device().unwrap().device_code, "A7K2");

    // A book that already printed receipts with its own code refuses.
    let other = FakeServer::new(USER, PASSWORD, "B8Z9", snapshot(), vec![]);
    match book
        .login_with(&other, FakeServer::URL, USER, PASSWORD, "Điện thoại")
        .unwrap_err()
    {
        FieldBookError::Conflict {
            code,
            message_vi: message,
            ..
        } => {
            assert_eq!(code, "device_code_mismatch");
            assert!(
                message.contains("B8Z9") && message.contains("A7K2"),
                "{message}"
            );
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(book.device().unwrap().device_code, "A7K2");
    // The session from before is dropped: it would upload under the code
    // the server now knows the phone by, and every receipt be refused.
    assert!(
        !book.session().unwrap().is_some_and(|s| s.signed_in),
        "{:?}",
        book.session()
    );
    assert!(book.sync(None).is_err());
}

/// xorshift64*: a reproducible stream of numbers for the cut points.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

#[test]
fn two_hundred_random_cuts_end_with_every_record_stored_exactly_once() {
    // A template book: signed in, portfolio received, a day recorded.
    let template_fake = server(1);
    let (dir, book) = signed_in(&template_fake);
    let ids = record_day(&book);
    for m in 0..4 {
        visit(&book, LAM, 20 + m);
    }
    let rejected_gift = ids[8];
    let template = dir.path().join("sotay.db");
    drop(book);
    let session = ("access-1", "refresh-1");

    let mut rng = Rng(0x005E_ED0F_C0DE);
    let mut cuts = 0;
    for trial in 0..200 {
        let tdir = tempfile::tempdir().unwrap();
        let path = tdir.path().join("sotay.db");
        std::fs::copy(&template, &path).unwrap();
        let path = path.display().to_string();
        let fake = server(3);
        fake.trust(session.0, session.1, device().device_id);
        fake.gift_given(id(TET), id(LAM));
        let faults = 1 + rng.below(3);
        for _ in 0..faults {
            let fault = match rng.below(5) {
                0 => Fault::NotSent,
                1 | 2 => Fault::AnswerLost,
                3 => Fault::Status(500),
                _ => Fault::Status(503),
            };
            fake.fault_at(rng.below(10), fault);
            cuts += 1;
        }
        let o = opts(1 + rng.below(6) as usize, rng.below(2) as u32);
        let mut book = open_at(&path);
        let mut attempts = 0;
        loop {
            attempts += 1;
            match book.sync_with(&fake, o.clone(), None) {
                Ok(_) => break,
                Err(FieldBookError::Network { .. }) if attempts < 10 => {
                    // The app dies after a failed sync and starts again.
                    drop(book);
                    book = open_at(&path);
                }
                Err(e) => panic!("trial {trial}: {e:?}"),
            }
        }
        // Converged: nothing pending or wedged, every record stored once.
        let accepted = states(&book, OutboxFilter::Accepted);
        let rejected = states(&book, OutboxFilter::Rejected);
        assert!(
            states(&book, OutboxFilter::Pending).is_empty(),
            "trial {trial}"
        );
        assert!(
            states(&book, OutboxFilter::Wedged).is_empty(),
            "trial {trial}"
        );
        assert_eq!(rejected, [rejected_gift], "trial {trial}");
        assert_eq!(accepted.len(), 13, "trial {trial}");
        let counts = fake.accept_counts();
        assert_eq!(counts.len(), 13, "trial {trial}");
        assert!(
            counts.values().all(|&n| n == 1),
            "trial {trial}: {counts:?}"
        );
        let stored: HashSet<Uuid> = fake.stored().into_iter().collect();
        assert_eq!(stored, accepted.into_iter().collect(), "trial {trial}");
        // Each record travelled in one batch only, however often it was
        // resent: an interrupted batch is resent as it was.
        for (client, batches) in fake.sent_in() {
            assert_eq!(batches.len(), 1, "trial {trial}: {client} in {batches:?}");
        }
        assert_eq!(
            book.worker_detail(id(HUNG)).unwrap().room.as_deref(),
            Some("P.3"),
            "trial {trial}"
        );
        // And idempotent: one more sync sends nothing.
        fake.clear_faults();
        let again = book.sync_with(&fake, o, None).unwrap();
        assert_eq!(again.sent, 0, "trial {trial}");
    }
    assert!(cuts >= 200);
}

/// Holds the first request until told to go on.
struct Gate {
    inner: FakeServer,
    entered: std::sync::mpsc::SyncSender<()>,
    go: Mutex<std::sync::mpsc::Receiver<()>>,
    held: std::sync::atomic::AtomicBool,
}

impl sotay_core::Transport for Gate {
    fn get(
        &self,
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<sotay_core::sync::Response, sotay_core::sync::TransportError> {
        self.inner.get(url, headers)
    }

    fn post_json(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<sotay_core::sync::Response, sotay_core::sync::TransportError> {
        if !self.held.swap(true, std::sync::atomic::Ordering::SeqCst) {
            self.entered.send(()).unwrap();
            self.go.lock().unwrap().recv().unwrap();
        }
        self.inner.post_json(url, headers, body)
    }

    fn put(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        content_type: &str,
        body: &[u8],
    ) -> Result<sotay_core::sync::Response, sotay_core::sync::TransportError> {
        self.inner.put(url, headers, content_type, body)
    }
}

#[test]
fn one_sync_at_a_time() {
    let fake = server(0);
    let (_dir, book) = signed_in(&fake);
    record_day(&book);
    let (entered_tx, entered_rx) = std::sync::mpsc::sync_channel(1);
    let (go_tx, go_rx) = std::sync::mpsc::channel();
    let gate = Gate {
        inner: fake,
        entered: entered_tx,
        go: Mutex::new(go_rx),
        held: Default::default(),
    };
    std::thread::scope(|s| {
        let first = s.spawn(|| book.sync_with(&gate, opts(500, 0), None));
        entered_rx.recv().unwrap();
        match book.sync_with(&gate, opts(500, 0), None).unwrap_err() {
            FieldBookError::Conflict { code, .. } => assert_eq!(code, "sync_running"),
            e => panic!("{e:?}"),
        }
        // Recording goes on while a sync is under way; the new record is
        // not in the batch in flight, it follows in the next one.
        let late = visit(&book, HOA, 45);
        go_tx.send(()).unwrap();
        let report = first.join().unwrap().unwrap();
        assert_eq!(report.accepted, 11);
        assert_eq!(report.results.last().unwrap().client_id, late);
    });
    assert!(states(&book, OutboxFilter::Pending).is_empty());
    assert_eq!(batch_calls(&gate.inner).len(), 2);
}

/// Holds every request of a sync until it is let go.
struct Held<'a> {
    inner: &'a FakeServer,
    started: std::sync::mpsc::SyncSender<()>,
    go: Mutex<std::sync::mpsc::Receiver<()>>,
}

impl Held<'_> {
    fn hold(&self) {
        let _ = self.started.try_send(());
        let _ = self
            .go
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(10));
    }
}

impl sotay_core::Transport for Held<'_> {
    fn get(
        &self,
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<sotay_core::sync::Response, sotay_core::sync::TransportError> {
        self.hold();
        self.inner.get(url, headers)
    }
    fn post_json(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<sotay_core::sync::Response, sotay_core::sync::TransportError> {
        self.hold();
        self.inner.post_json(url, headers, body)
    }
    fn put(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        content_type: &str,
        body: &[u8],
    ) -> Result<sotay_core::sync::Response, sotay_core::sync::TransportError> {
        self.hold();
        self.inner.put(url, headers, content_type, body)
    }
}

/// The app may open the book twice (a background sync): while one sync
/// runs on the file, the other book's sync, sign-in and sign-out are
/// refused, so the session is never renewed twice at once nor stored again
/// after signing out.
#[test]
fn one_sync_at_a_time_on_a_book_opened_twice() {
    let fake = server(0);
    let (dir, book) = signed_in(&fake);
    let again = open_at(&dir.path().join("sotay.db").display().to_string());
    pay(&book, LAN_LOAN, 100_000, 1);
    let (started, running) = std::sync::mpsc::sync_channel(1);
    let (go, held) = std::sync::mpsc::channel();
    let slow = Held {
        inner: &fake,
        started,
        go: Mutex::new(held),
    };
    std::thread::scope(|s| {
        let first = s.spawn(|| book.sync_with(&slow, opts(500, 0), None));
        running
            .recv_timeout(Duration::from_secs(10))
            .expect("the first sync started");
        let busy = |r: Result<(), FieldBookError>, what: &str| match r {
            Err(FieldBookError::Conflict { code, .. }) => {
                assert_eq!(code, "sync_running", "{what}")
            }
            other => panic!("{what}: {other:?}"),
        };
        busy(
            again.sync_with(&fake, opts(500, 0), None).map(|_| ()),
            "sync",
        );
        busy(again.logout(), "logout");
        busy(
            again
                .login_with(&fake, FakeServer::URL, USER, PASSWORD, "Máy tính bảng")
                .map(|_| ()),
            "login",
        );
        for _ in 0..64 {
            let _ = go.send(());
        }
        first.join().unwrap().expect("the first sync");
    });
    // Once it is done, the other book syncs.
    again
        .sync_with(&fake, opts(500, 0), None)
        .expect("the second sync");
    again.logout().expect("sign out");
}

/// Signed out, the book keeps what it holds but records nothing until the
/// officer signs in again; then what was waiting goes up.
#[test]
fn a_signed_out_book_keeps_its_records_and_records_nothing() {
    let fake = server(0);
    let (_dir, book) = signed_in(&fake);
    let kept = pay(&book, LAN_LOAN, 100_000, 1);
    book.logout().expect("sign out");
    let refused = book.record_repayment(RepaymentInput {
        loan_id: id(LAN_LOAN),
        amount: Decimal::from(50_000),
        recorded_at: at(9, 0),
    });
    match refused {
        Err(FieldBookError::Auth {
            code, message_vi, ..
        }) => {
            assert_eq!(code, "signed_out");
            assert!(message_vi.contains("đăng nhập lại"), "{message_vi}");
        }
        other => panic!("recorded while signed out: {other:?}"),
    }
    // Nor shows the workers, the receipts or the records (a phone handed
    // on or lost).
    match book.search("lan".into(), 10) {
        Err(FieldBookError::Auth { code, .. }) => assert_eq!(code, "signed_out"),
        other => panic!("shown while signed out: {other:?}"),
    }
    assert!(book.worker_detail(id(LAN)).is_err());
    assert!(book.today_route().is_err());
    assert!(book.campaigns().is_err());
    assert!(book.outbox(OutboxFilter::All, 10).is_err());
    assert!(book.today_summary().is_err());
    match book.daily_summary(day(2026, 11, 20)) {
        Err(FieldBookError::Auth { code, .. }) => assert_eq!(code, "signed_out"),
        other => panic!("shown while signed out: {other:?}"),
    }
    book.login_with(
        &fake,
        FakeServer::URL,
        USER,
        PASSWORD,
        "Điện thoại của Bình",
    )
    .expect("sign in again");
    assert_eq!(states(&book, OutboxFilter::Pending), vec![kept]);
    pay(&book, LAN_LOAN, 50_000, 2);
    let r = book.sync_with(&fake, opts(500, 0), None).unwrap();
    assert_eq!(r.accepted, 2, "{r:?}");
    assert!(!book.search("lan".into(), 10).unwrap().is_empty());
}

/// A receipt whose reversal was asked for is not voided as well, as the
/// server would refuse it.
#[test]
fn a_receipt_with_a_reversal_request_is_not_voided() {
    let fake = server(0);
    let (_dir, book) = signed_in(&fake);
    let paid = pay(&book, LAN_LOAN, 100_000, 1);
    book.sync_with(&fake, opts(500, 0), None).unwrap();
    let asked = |reason: &str| sotay_core::CorrectionInput {
        target_id: paid,
        reason: reason.into(),
        recorded_at: at(11, 0),
    };
    book.request_reversal(asked("Gõ nhầm"))
        .expect("reversal request");
    match book.void_record(asked("Hủy")) {
        Err(FieldBookError::Conflict { code, .. }) => assert_eq!(code, "void_reversal_requested"),
        other => panic!("{other:?}"),
    }
}

/// A record set aside after failing to send is corrected by putting it back
/// in the queue first: the phone says so, then voids it.
#[test]
fn a_wedged_record_is_voided_once_back_in_the_queue() {
    let fake = server(0);
    let (_dir, book) = signed_in(&fake);
    let r = pay(&book, LAN_LOAN, 100_000, 1);
    fake.omit_result(r);
    book.sync_with(&fake, opts(500, 0), None).unwrap();
    assert_eq!(states(&book, OutboxFilter::Wedged), vec![r]);
    let input = sotay_core::CorrectionInput {
        target_id: r,
        reason: "Gõ nhầm".into(),
        recorded_at: at(11, 0),
    };
    for refused in [
        book.void_record(input.clone()),
        book.request_reversal(input.clone()),
    ] {
        match refused {
            Err(FieldBookError::Conflict { message_vi, .. }) => {
                assert!(message_vi.contains("Gửi lại"), "{message_vi}")
            }
            other => panic!("{other:?}"),
        }
    }
    book.retry_wedged().unwrap();
    book.void_record(input)
        .expect("voided once back in the queue");
}

/// The boot clock follows the phone's clock only within the start of the
/// phone the sync was in: measured right before a restart, the phone
/// records after it whatever its boot clock reads now (it never guesses
/// the time since the sync from another start's reading, which would find
/// an honest clock fast and stop the officer recording).
#[cfg(target_os = "linux")]
#[test]
fn a_clock_measured_before_a_restart_is_not_followed_after_it() {
    let fake = server(1);
    let (dir, book) = signed_in(&fake);
    fake.set_clock(1);
    book.sync_with(&fake, opts(500, 0), None).unwrap();
    let db = rusqlite::Connection::open(dir.path().join("sotay.db")).unwrap();
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    let stored: String = db
        .query_row(
            "SELECT value FROM meta WHERE key = 'clock_checked_boot'",
            [],
            |r| r.get(0),
        )
        .expect("the sync kept the boot clock's reading");
    assert!(stored.starts_with(boot_id.trim()), "{stored}");
    // Measured right seven hours ago, an hour into a start of the phone
    // that was not this one.
    let seven_hours_ago = chrono::Utc::now().timestamp_millis() - 7 * 3_600_000;
    for (key, value) in [
        ("clock_ahead", "0".to_string()),
        ("clock_checked", seven_hours_ago.to_string()),
        (
            "clock_checked_boot",
            "0f0e0d0c-another-start 3600000".to_string(),
        ),
    ] {
        db.execute(
            "UPDATE meta SET value = ?2 WHERE key = ?1",
            [key, value.as_str()],
        )
        .unwrap();
    }
    book.record_repayment(RepaymentInput {
        loan_id: id(LAN_LOAN),
        amount: Decimal::from(20_000),
        recorded_at: chrono::Utc::now(),
    })
    .expect("an honest clock records after a restart");
}

/// A clock a sync found fast and put right since records at once, as the
/// boot clock shows; that measure stands after a restart too (the phone
/// does not go back to the sync's, which would stop an honest clock).
#[cfg(target_os = "linux")]
#[test]
fn a_clock_put_right_stays_right_after_a_restart() {
    let fake = server(1);
    let (dir, book) = signed_in(&fake);
    fake.set_clock(1);
    book.sync_with(&fake, opts(500, 0), None).unwrap();
    let db = rusqlite::Connection::open(dir.path().join("sotay.db")).unwrap();
    let meta = |key: &str| -> String {
        db.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .unwrap()
    };
    let set = |key: &str, value: String| {
        db.execute(
            "UPDATE meta SET value = ?2 WHERE key = ?1",
            [key, value.as_str()],
        )
        .unwrap();
    };
    // As if the sync was three hours ago, the phone's clock two hours
    // fast then, and put right since: its time at the sync read an hour
    // before now, its boot clock three hours less than at the real sync.
    let boot = meta("clock_checked_boot");
    let (boot_id, boot_ms) = boot.split_once(' ').unwrap();
    let boot_ms: i64 = boot_ms.parse().unwrap();
    let checked: i64 = meta("clock_checked").parse().unwrap();
    set("clock_ahead", (2 * 3_600).to_string());
    set("clock_checked", (checked - 3_600_000).to_string());
    set(
        "clock_checked_boot",
        format!("{boot_id} {}", boot_ms - 3 * 3_600_000),
    );
    let pay = |n: i64| {
        book.record_repayment(RepaymentInput {
            loan_id: id(LAN_LOAN),
            amount: Decimal::from(10_000 * n),
            recorded_at: chrono::Utc::now(),
        })
    };
    pay(1).expect("the clock is right now");
    // The phone restarts (another boot id): still right.
    set(
        "clock_checked_boot",
        "0f0e0d0c-another-start 3600000".to_string(),
    );
    pay(2).expect("still right after a restart");
}

/// Five weeks without a sync (an officer back from leave, out of signal):
/// the phone records when its boot clock counted those weeks too, since
/// the sync; after a restart, the five weeks are not believed without a
/// sync.
#[cfg(target_os = "linux")]
#[test]
fn weeks_without_a_sync_are_believed_when_the_boot_clock_counted_them() {
    let fake = server(1);
    let (dir, book) = signed_in(&fake);
    // The server sends its time: the clock is measured (right).
    fake.set_clock(0);
    book.sync_with(&fake, opts(500, 0), None).unwrap();
    let db = rusqlite::Connection::open(dir.path().join("sotay.db")).unwrap();
    let meta = |key: &str| -> String {
        db.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .unwrap()
    };
    let set = |key: &str, value: String| {
        db.execute(
            "UPDATE meta SET value = ?2 WHERE key = ?1",
            [key, value.as_str()],
        )
        .unwrap();
    };
    let weeks = 35 * 86_400_000_i64;
    let boot = meta("clock_checked_boot");
    let (boot_id, boot_ms) = boot.split_once(' ').unwrap();
    let boot_ms: i64 = boot_ms.parse().unwrap();
    for key in ["clock_synced_at", "clock_checked"] {
        let then: i64 = meta(key).parse().unwrap();
        set(key, (then - weeks).to_string());
    }
    set(
        "clock_checked_boot",
        format!("{boot_id} {}", boot_ms - weeks),
    );
    let pay = |n: i64| {
        book.record_repayment(RepaymentInput {
            loan_id: id(LAN_LOAN),
            amount: Decimal::from(10_000 * n),
            recorded_at: chrono::Utc::now(),
        })
    };
    pay(1).expect("the boot clock counted the five weeks");
    set(
        "clock_checked_boot",
        "0f0e0d0c-another-start 3600000".to_string(),
    );
    match pay(2) {
        Err(FieldBookError::Conflict { message_vi, .. }) => {
            assert!(
                message_vi.contains("hơn 31 ngày sau lần đồng bộ cuối"),
                "{message_vi}"
            )
        }
        other => panic!("{other:?}"),
    }
}

/// A field book started again on the same device (wiped, or restored from
/// an older copy) numbers its receipts on from the last one the server
/// holds of the device: a number already on a worker's paper is never
/// given again (the server would refuse the second as used).
#[test]
fn a_book_started_again_numbers_on_from_the_servers_last_receipt() {
    let fake = server(0);
    let (_old, book) = signed_in(&fake);
    let numbers: Vec<String> = (0..3)
        .map(|n| {
            book.record_repayment(RepaymentInput {
                loan_id: id(LAN_LOAN),
                amount: Decimal::from(10_000),
                recorded_at: at(9, n),
            })
            .unwrap()
            .receipt_no
        })
        .collect();
    assert_eq!(numbers.last().map(String::as_str), Some("A7K2-000003"));
    assert_eq!(
        book.sync_with(&fake, opts(500, 0), None).unwrap().accepted,
        3
    );

    let (_new, again) = signed_in(&fake);
    let next = again
        .record_repayment(RepaymentInput {
            loan_id: id(LAN_LOAN),
            amount: Decimal::from(10_000),
            recorded_at: at(10, 0),
        })
        .unwrap();
    assert_eq!(next.receipt_no, "A7K2-000004");
}

/// The void of a record the server keeps refusing waits for it: sent
/// alone, the server would refuse it as a void of a record it has not got
/// (and the receipt would stand on the phone); it goes up after its
/// record, once the record goes.
#[test]
fn a_void_waits_for_its_record_the_server_refused() {
    let fake = server(0);
    let (_dir, book) = signed_in(&fake);
    let r = pay(&book, LAN_LOAN, 100_000, 1);
    fake.refuse_record(r);
    let first = book.sync_with(&fake, opts(500, 0), None).unwrap();
    assert_eq!((first.sent, first.accepted), (1, 0), "{first:?}");
    let void = book
        .void_record(sotay_core::CorrectionInput {
            target_id: r,
            reason: "Gõ nhầm".into(),
            recorded_at: at(11, 0),
        })
        .expect("a record not sent yet can be voided")
        .client_id;
    let second = book.sync_with(&fake, opts(500, 0), None).unwrap();
    assert_eq!((second.sent, second.rejected), (1, 0), "{second:?}");
    assert_eq!(states(&book, OutboxFilter::Pending), [r, void]);
    fake.stop_refusing();
    let third = book.sync_with(&fake, opts(500, 0), None).unwrap();
    assert_eq!((third.accepted, third.rejected), (2, 0), "{third:?}");
    assert!(states(&book, OutboxFilter::Pending).is_empty());
}

/// A server whose change pages never move past the cursor they were asked
/// from.
struct Stuck<'a>(&'a FakeServer);

impl sotay_core::Transport for Stuck<'_> {
    fn get(
        &self,
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<sotay_core::sync::Response, sotay_core::sync::TransportError> {
        let mut r = self.0.get(url, headers)?;
        if let Some(since) = url
            .split("since=")
            .nth(1)
            .map(|s| s.split('&').next().unwrap_or(""))
        {
            let mut page: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            page["has_more"] = true.into();
            page["next"] = since.replace("%3A", ":").into();
            r.body = serde_json::to_vec(&page).unwrap();
        }
        Ok(r)
    }
    fn post_json(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<sotay_core::sync::Response, sotay_core::sync::TransportError> {
        self.0.post_json(url, headers, body)
    }
    fn put(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        content_type: &str,
        body: &[u8],
    ) -> Result<sotay_core::sync::Response, sotay_core::sync::TransportError> {
        self.0.put(url, headers, content_type, body)
    }
}

/// A gift refused at review and settled as handed out for real makes the
/// worker the campaign's recipient on the server: the worker's page shows
/// the gift once, as the refused record with its settlement, not again as
/// one the server knows of. One taken back is no gift: a recipient by
/// another officer's gift shows both.
#[test]
fn a_refused_gift_settled_as_handed_out_shows_once() {
    let fake = server(0);
    let (_dir, book) = signed_in(&fake);
    let given = gift(&book, TET, LAN);
    let taken_back = gift(&book, TET, LAM);
    book.sync_with(&fake, opts(500, 0), None).unwrap();
    let mut tet = fake
        .snapshot()
        .unwrap()
        .campaigns
        .into_iter()
        .find(|k| k.id == id(TET))
        .unwrap();
    tet.recipients.push(id(LAN));
    tet.recipients.push(id(LAM));
    let decided = chrono::Utc::now();
    let refused = |client_id: Uuid, note: &str, handed_out: bool| sotay_core::wire::RecordStatus {
        client_id,
        state: sotay_core::wire::RecordState::Rejected,
        code: Some("rejected_by_supervisor".into()),
        message_vi: Some("Thiếu biên bản".into()),
        message_en: Some("No receipt".into()),
        decided_at: decided,
        settled_note: Some(note.into()),
        settled_at: Some(decided),
        settled_handed_out: Some(handed_out),
        loan_id: None,
        amount: None,
    };
    fake.push_page(sotay_core::wire::ChangePage {
        campaigns: vec![tet],
        record_statuses: vec![
            refused(given, "Đã trao thật, có ký sổ giấy", true),
            refused(taken_back, "Đã thu hồi suất quà", false),
        ],
        ..Default::default()
    });
    book.sync_with(&fake, opts(500, 0), None).unwrap();
    let gifts = |worker: &str| -> Vec<(Option<Uuid>, String)> {
        book.worker_detail(id(worker))
            .unwrap()
            .gifts
            .into_iter()
            .filter(|g| g.campaign_id == id(TET))
            .map(|g| (g.client_id, g.state))
            .collect()
    };
    assert_eq!(gifts(LAN), [(Some(given), "rejected".to_string())]);
    assert_eq!(
        gifts(LAM),
        [
            (Some(taken_back), "rejected".to_string()),
            (None, "server".to_string())
        ]
    );
}

/// A second handle on the book (the app's background sync) brings a new
/// worker: the first one finds her by name at once, and no longer finds a
/// worker moved away.
#[test]
fn a_sync_through_another_handle_is_seen_by_search() {
    let fake = server(0);
    let (dir, book) = signed_in(&fake);
    let background = open_at(&dir.path().join("sotay.db").display().to_string());
    assert_eq!(book.search("Lan".into(), 10).unwrap().len(), 1);
    let lan = snapshot()
        .workers
        .into_iter()
        .find(|w| w.id == id(LAN))
        .unwrap();
    let newcomer = sotay_core::wire::Worker {
        id: Uuid::now_v7(),
        full_name: "Trịnh Thị Xuân".into(),
        code: Some("NLD-09999".into()),
        ..lan
    };
    fake.push_page(sotay_core::wire::ChangePage {
        workers: vec![newcomer],
        removed_workers: vec![id(LAN)],
        ..Default::default()
    });
    background.sync_with(&fake, opts(500, 0), None).unwrap();
    let found = book.search("xuan".into(), 10).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].full_name, "Trịnh Thị Xuân");
    assert!(book.search("Lan".into(), 10).unwrap().is_empty());
}

/// The cash a supervisor counted for a batch of the officer's other phone
/// comes down too: the day summary says whose it was, and what the day's
/// counts come to together.
#[test]
fn a_cash_count_of_another_phone_is_said_apart() {
    let fake = server(0);
    let (_dir, book) = signed_in(&fake);
    let now = chrono::Utc::now();
    fake.push_page(sotay_core::wire::ChangePage {
        cash_counts: vec![
            sotay_core::wire::CashCount {
                batch_id: Uuid::now_v7(),
                decided_at: now,
                cash_expected: sotay_core::domain::money::Dong(300_000),
                cash_received: sotay_core::domain::money::Dong(295_797),
            },
            sotay_core::wire::CashCount {
                batch_id: Uuid::now_v7(),
                decided_at: now,
                cash_expected: sotay_core::domain::money::Dong(100_000),
                cash_received: sotay_core::domain::money::Dong(150_000),
            },
        ],
        ..Default::default()
    });
    book.sync_with(&fake, opts(500, 0), None).unwrap();
    let text = book
        .daily_summary(sotay_core::domain::time::local_date(now))
        .unwrap()
        .text_vi;
    // Each batch on a line of its own, not one paragraph.
    assert!(
        text.lines()
            .filter(|l| l.starts_with("Lô duyệt lúc"))
            .count()
            >= 2,
        "{text}"
    );
    assert!(
        text.contains("(không gửi từ máy này): phải nộp 300.000 ₫"),
        "{text}"
    );
    // Two batches counted that day: what they come to together.
    assert!(
        text.contains("Cộng 2 lô duyệt trong ngày: thừa 45.797 ₫ (ghi có cho bạn tại chi nhánh)."),
        "{text}"
    );
}

/// A server's fault is not blamed on the connection, and says nothing on
/// the phone is lost.
#[test]
fn a_server_stuck_on_a_cursor_is_said_to_be_the_servers_fault() {
    let fake = server(1);
    let (_dir, book) = signed_in(&fake);
    match book.sync_with(&Stuck(&fake), opts(500, 0), None) {
        Err(FieldBookError::Network {
            code, message_vi, ..
        }) => {
            assert_eq!(code, "server_fault");
            assert!(
                message_vi.contains("không phải do mạng") && message_vi.contains("an toàn"),
                "{message_vi}"
            );
        }
        other => panic!("{other:?}"),
    }
}

/// A phone whose clock a sync found two days fast records nothing (the
/// server would refuse every record as dated in its future) until the clock
/// is put right and a sync measures it again; a slow one records.
#[test]
fn a_phone_clock_far_off_the_servers_records_nothing_until_put_right() {
    let fake = server(1);
    let (_dir, book) = signed_in(&fake);
    fake.set_clock(-2 * 86_400);
    let r = book.sync_with(&fake, opts(500, 0), None).unwrap();
    let ahead = r.clock_ahead_seconds.expect("measured");
    assert!(
        (2 * 86_400 - 5..=2 * 86_400 + 5).contains(&ahead),
        "{ahead}"
    );
    let refused = book.record_repayment(RepaymentInput {
        loan_id: id(LAN_LOAN),
        amount: Decimal::from(50_000),
        recorded_at: chrono::Utc::now(),
    });
    match refused {
        Err(FieldBookError::Conflict {
            code, message_vi, ..
        }) => {
            assert_eq!(code, "clock_wrong");
            assert!(message_vi.contains("nhanh 2 ngày"), "{message_vi}");
        }
        other => panic!("{other:?}"),
    }
    // Two hours slow: the server takes its records (only their time is
    // early), and the sync says so.
    fake.set_clock(2 * 3_600);
    let r = book.sync_with(&fake, opts(500, 0), None).unwrap();
    assert!(r.clock_ahead_seconds.unwrap() < -7_000, "{r:?}");
    book.record_repayment(RepaymentInput {
        loan_id: id(LAN_LOAN),
        amount: Decimal::from(20_000),
        recorded_at: chrono::Utc::now(),
    })
    .expect("a slow clock still records");
    // Three days slow is a clock set back (time does not run backwards
    // past the last sync): nothing is recorded with it.
    fake.set_clock(3 * 86_400);
    book.sync_with(&fake, opts(500, 0), None).unwrap();
    match book.record_visit(sotay_core::VisitInput {
        worker_id: id(LAN),
        purpose: sotay_core::VisitPurpose::Other,
        outcome: "x".into(),
        notes: String::new(),
        location: None,
        recorded_at: chrono::Utc::now(),
    }) {
        Err(FieldBookError::Conflict {
            code, message_vi, ..
        }) => {
            assert_eq!(code, "clock_wrong");
            assert!(
                message_vi.contains("trước cả lần đồng bộ cuối"),
                "{message_vi}"
            );
        }
        other => panic!("{other:?}"),
    }
    fake.set_clock(3);
    let r = book.sync_with(&fake, opts(500, 0), None).unwrap();
    assert!(r.clock_ahead_seconds.unwrap().abs() < 60, "{r:?}");
    book.record_repayment(RepaymentInput {
        loan_id: id(LAN_LOAN),
        amount: Decimal::from(50_000),
        recorded_at: chrono::Utc::now(),
    })
    .expect("recorded once the clock is right");
}
