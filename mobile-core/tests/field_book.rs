//! The officer's day through the exported `FieldBook` API.

mod common;

use common::*;
use rust_decimal::Decimal;
use sotay_core::domain::money::Dong;
use sotay_core::wire::{
    ChangePage, InstallmentLine, Loan, PortfolioSnapshot, RecordState, RecordStatus,
};
use sotay_core::{
    CorrectionInput, DeviceIdentity, FieldBook, FieldBookError, GeoPoint, GiftInput, OutboxFilter,
    RecordKind, RepaymentInput, UploadOutcome, UploadResult, VisitInput, VisitPurpose,
};
use std::sync::Arc;

fn open() -> (tempfile::TempDir, Arc<FieldBook>) {
    let dir = tempfile::tempdir().unwrap();
    let book =
        FieldBook::open(dir.path().join("sotay.db").display().to_string(), device()).unwrap();
    book.apply_portfolio_json(PORTFOLIO.to_string()).unwrap();
    (dir, book)
}

fn dec(v: i64) -> Decimal {
    Decimal::from(v)
}

fn pay(
    book: &FieldBook,
    loan: &str,
    amount: i64,
) -> Result<sotay_core::RepaymentReceipt, FieldBookError> {
    book.record_repayment(RepaymentInput {
        loan_id: id(loan),
        amount: dec(amount),
        recorded_at: at(9, 30),
    })
}

/// A page of changes that only brings the server's word on records.
fn statuses_page(record_statuses: Vec<RecordStatus>, next: &str) -> ChangePage {
    ChangePage {
        officer: None,
        boarding_houses: vec![],
        workers: vec![],
        loans: vec![],
        campaigns: vec![],
        record_statuses,
        cash_counts: vec![],
        removed_workers: vec![],
        removed_loans: vec![],
        removed_campaigns: vec![],
        next: next.into(),
        has_more: false,
        server_time: None,
    }
}

fn gift(
    book: &FieldBook,
    campaign: &str,
    worker: &str,
) -> Result<sotay_core::RecordedFact, FieldBookError> {
    book.record_gift(GiftInput {
        campaign_id: id(campaign),
        worker_id: id(worker),
        acknowledged_name: "Nguyễn Thị Lan".to_string(),
        signature_image: Some(b"\x89PNG\r\n\x1a\n\x01\x02\x03".to_vec()),
        recorded_at: at(10, 0),
    })
}

fn names(hits: &[sotay_core::WorkerHit]) -> Vec<String> {
    hits.iter().map(|h| h.full_name.clone()).collect()
}

#[test]
fn field_book_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<FieldBook>();
}

#[test]
fn applies_a_portfolio() {
    let dir = tempfile::tempdir().unwrap();
    let book = FieldBook::open(dir.path().join("a.db").display().to_string(), device()).unwrap();
    assert_eq!(book.officer().unwrap(), None);
    let s = book.apply_portfolio_json(PORTFOLIO.to_string()).unwrap();
    assert_eq!(
        (s.workers, s.loans, s.campaigns, s.boarding_houses),
        (4, 4, 2, 2)
    );
    assert_eq!(s.installments, 12 + 26 + 2 + 6);
    assert_eq!(s.next_cursor, "c-000001");
    assert_eq!(book.officer().unwrap().unwrap().full_name, "Trần Văn Minh");

    let bad = PORTFOLIO.replace("\"balance\": \"1120000\"", "\"balance\": \"1120001\"");
    match book.apply_portfolio_json(bad).unwrap_err() {
        FieldBookError::Validation { field, .. } => assert_eq!(field, "loans[0].balance"),
        e => panic!("{e:?}"),
    }
    let bad = PORTFOLIO.replace("0912 345 678", "12345");
    match book.apply_portfolio_json(bad).unwrap_err() {
        FieldBookError::Validation { field, .. } => assert_eq!(field, "workers[0].phone"),
        e => panic!("{e:?}"),
    }
    // Refused snapshots change nothing.
    assert_eq!(book.search("lan".into(), 10).unwrap().len(), 1);
}

/// Lan's loan line by line as the server's books hold it: 12 monthly
/// installments of 100.000 ₫ principal and 12.000 ₫ interest, `paid`
/// applied oldest first, interest before principal.
fn lan_lines(paid: i64) -> Vec<InstallmentLine> {
    let mut left = paid;
    (1..=12u32)
        .map(|k| {
            let interest = left.min(12_000);
            left -= interest;
            let principal = left.min(100_000);
            left -= principal;
            InstallmentLine {
                number: k,
                due_on: day(2026, 6, 1) + chrono::Months::new(k),
                principal_due: Dong(100_000),
                interest_due: Dong(12_000),
                principal_paid: Dong(principal),
                interest_paid: Dong(interest),
            }
        })
        .collect()
}

#[test]
fn a_loan_sent_by_its_terms_has_the_books_of_its_lines() {
    let snap: PortfolioSnapshot = serde_json::from_str(PORTFOLIO).unwrap();
    assert!(snap.loans.iter().all(|l| l.installments.is_empty()));
    for paid in [
        0,
        1,
        224_000,
        224_000 + 12_000 + 38_000,
        1_000_000,
        1_344_000,
    ] {
        let mut by_terms = snap.clone();
        by_terms.loans[0].paid = Dong(paid);
        by_terms.loans[0].balance = Dong(1_344_000 - paid);
        let mut by_lines = by_terms.clone();
        by_lines.loans[0].installments = lan_lines(paid);
        let detail = |s: &PortfolioSnapshot| {
            let (_d, book) = open();
            book.apply_portfolio_json(serde_json::to_string(s).unwrap())
                .unwrap();
            let d = book.worker_detail(id(LAN)).unwrap();
            let route = book.route(day(2026, 11, 20)).unwrap();
            (d, route)
        };
        assert_eq!(detail(&by_terms), detail(&by_lines), "paid {paid}");
    }
    let (_d, book) = open();
    let s = book
        .apply_portfolio_json(serde_json::to_string(&snap).unwrap())
        .unwrap();
    assert_eq!(s.installments, 12 + 26 + 2 + 6);
    let d = book.worker_detail(id(LAN)).unwrap();
    let lines: Vec<InstallmentLine> = d.loans[0]
        .schedule
        .iter()
        .map(|i| InstallmentLine {
            number: i.number,
            due_on: i.due_on,
            principal_due: Dong(i64::try_from(i.principal_due).unwrap()),
            interest_due: Dong(i64::try_from(i.interest_due).unwrap()),
            principal_paid: Dong(i64::try_from(i.principal_paid).unwrap()),
            interest_paid: Dong(i64::try_from(i.interest_paid).unwrap()),
        })
        .collect();
    assert_eq!(lines, lan_lines(224_000));
}

#[test]
fn a_loan_its_terms_cannot_rebuild_is_refused() {
    let (_d, book) = open();
    let snap: PortfolioSnapshot = serde_json::from_str(PORTFOLIO).unwrap();
    let refused = |edit: &dyn Fn(&mut Loan)| {
        let mut s = snap.clone();
        edit(&mut s.loans[0]);
        match book
            .apply_portfolio_json(serde_json::to_string(&s).unwrap())
            .unwrap_err()
        {
            FieldBookError::Validation { field, .. } => field,
            e => panic!("{e:?}"),
        }
    };
    // The rebuilt books leave another balance than the server's.
    assert_eq!(refused(&|l| l.paid = Dong(224_001)), "loans[0].balance");
    assert_eq!(refused(&|l| l.annual_rate_bp = 1300), "loans[0].balance");
    assert_eq!(refused(&|l| l.installment_count = 11), "loans[0].balance");
    assert_eq!(
        refused(&|l| l.installments = lan_lines(224_000 + 112_000)),
        "loans[0].balance"
    );
    assert_eq!(
        refused(&|l| {
            l.paid = Dong(1_344_001);
            l.balance = Dong(0);
        }),
        "loans[0].paid"
    );
    assert_eq!(refused(&|l| l.paid = Dong(-1)), "loans[0].paid");
    assert_eq!(
        refused(&|l| l.installment_count = 0),
        "loans[0].installment_count"
    );
    assert_eq!(
        refused(&|l| l.annual_rate_bp = 10_001),
        "loans[0].annual_rate_bp"
    );
    // Refused snapshots change nothing.
    assert_eq!(book.worker_detail(id(LAN)).unwrap().balance, dec(1_120_000));
}

#[test]
fn searches_names_phones_and_cccd() {
    let (_d, book) = open();
    for q in [
        "nguyen thi lan",
        "NGUYỄN THỊ",
        "lan thi",
        "Lan",
        "nguye\u{302}\u{303}n lan",
        "ng t l",
    ] {
        assert_eq!(
            names(&book.search(q.into(), 10).unwrap()),
            ["Nguyễn Thị Lan"],
            "{q}"
        );
    }
    assert_eq!(
        names(&book.search("NGUYỄN".into(), 10).unwrap()),
        ["Nguyễn Thị Lan", "Nguyễn Văn Lâm"]
    );
    assert_eq!(
        names(&book.search("Dang".into(), 10).unwrap()),
        ["Đặng Văn Hùng"]
    );
    assert_eq!(
        names(&book.search("đặng hùng".into(), 10).unwrap()),
        ["Đặng Văn Hùng"]
    );
    for q in [
        "0987 654 321",
        "+84 987 654 321",
        "84987654321",
        "0987.654.321",
        "654 321",
    ] {
        assert_eq!(
            names(&book.search(q.into(), 10).unwrap()),
            ["Đặng Văn Hùng"],
            "{q}"
        );
    }
    assert_eq!(
        names(&book.search("079 190 012 345".into(), 10).unwrap()),
        ["Nguyễn Thị Lan"]
    );
    // A loan's number, in any case, finds its borrower.
    for q in ["CEP-2026-000451", "cep-2026-000451", " Cep-2026-000451 "] {
        assert_eq!(
            names(&book.search(q.into(), 10).unwrap()),
            ["Nguyễn Thị Lan"],
            "{q}"
        );
    }
    assert_eq!(
        names(&book.search("TT-2026".into(), 10).unwrap()),
        ["Đặng Văn Hùng", "Trần Thị Hoa"]
    );
    assert!(book.search("KV-999999".into(), 10).unwrap().is_empty());
    assert!(book.search("".into(), 10).unwrap().is_empty());
    assert!(book.search("lan hoa".into(), 10).unwrap().is_empty());
    let lan = &book.search("lan".into(), 10).unwrap()[0];
    assert_eq!(lan.phone.as_deref(), Some("0912 345 678"));
    assert_eq!(lan.boarding_house.as_deref(), Some("Nhà trọ Cô Ba"));
    assert_eq!(lan.balance, dec(1_120_000));
}

#[test]
fn a_repayment_is_allocated_and_gets_a_receipt() {
    let (_d, book) = open();
    let r = pay(&book, LAN_LOAN, 500_000).unwrap();
    assert_eq!(r.receipt_no, "A7K2-000001");
    assert_eq!((r.interest, r.principal), (dec(60_000), dec(440_000)));
    let lines: Vec<_> = r
        .lines
        .iter()
        .map(|l| (l.installment, l.interest, l.principal))
        .collect();
    assert_eq!(
        lines,
        vec![
            (3, dec(12_000), dec(100_000)),
            (4, dec(12_000), dec(100_000)),
            (5, dec(12_000), dec(100_000)),
            (6, dec(12_000), dec(100_000)),
            (7, dec(12_000), dec(40_000)),
        ]
    );
    assert_eq!(r.lines[0].due_on, day(2026, 9, 1));
    assert_eq!(r.balance_after, dec(620_000));
    assert_eq!(
        r.text_vi,
        "PHIẾU THU số A7K2-000001, Nguyễn Thị Lan đã nộp, Quỹ đã nhận 500.000 ₫ trả nợ hợp đồng \
         CEP-2026-000451 (lãi 60.000 ₫, gốc 440.000 ₫) ngày 20/11/2026 09:30, còn phải trả 620.000 ₫ (dư nợ gốc 560.000 ₫). \
         Cán bộ thu: Trần Văn Minh (Chi nhánh Quận 7)."
    );
    assert!(r
        .text_en
        .starts_with("RECEIPT no. A7K2-000001: Nguyễn Thị Lan paid 500.000 ₫"));
    assert_eq!(r.state, "pending");
    assert_eq!(book.receipt("A7K2-000001".into()).unwrap(), r);

    // The next repayment counts this unsynced one.
    let over = pay(&book, LAN_LOAN, 620_001).unwrap_err();
    match &over {
        FieldBookError::Validation {
            field,
            code,
            message_vi: message,
            ..
        } => {
            assert_eq!(
                (field.as_str(), code.as_str()),
                ("amount", "amount_above_outstanding")
            );
            assert!(message.contains("620.000 ₫"), "{message}");
        }
        e => panic!("{e:?}"),
    }
    // A refusal changes nothing: no record, no receipt number used.
    assert_eq!(book.outbox(OutboxFilter::All, 100).unwrap().len(), 1);
    let r2 = pay(&book, LAN_LOAN, 620_000).unwrap();
    assert_eq!((r2.receipt_no.as_str(), r2.device_seq), ("A7K2-000002", 2));
    assert_eq!(r2.balance_after, dec(0));
    // Paid in full once the first receipt, waiting for review, is approved
    // too (turned down, the loan would owe its 500.000 ₫ again).
    assert!(
        r2.text_vi.contains(
            "còn phải trả 0 ₫ (dư nợ gốc 0 ₫). Khoản vay trả đủ khi các phiếu thu đang chờ duyệt được duyệt. Cán bộ thu"
        ),
        "{}",
        r2.text_vi
    );
    assert!(!r.text_vi.contains("trả đủ"), "{}", r.text_vi);
    assert!(matches!(
        pay(&book, LAN_LOAN, 1),
        Err(FieldBookError::Validation { ref code, .. }) if code == "amount_above_outstanding"
    ));
    // Paid in full by one receipt, nothing else waiting: said plainly.
    let owed = book
        .worker_detail(id(HUNG))
        .unwrap()
        .loans
        .iter()
        .find(|l| l.loan_id == id("0193a000-0000-7000-8000-0000000000c2"))
        .unwrap()
        .balance;
    let whole = pay(
        &book,
        "0193a000-0000-7000-8000-0000000000c2",
        owed.try_into().unwrap(),
    )
    .unwrap();
    assert!(
        whole
            .text_vi
            .contains("còn phải trả 0 ₫ (dư nợ gốc 0 ₫). Khoản vay đã trả đủ. Cán bộ thu"),
        "{}",
        whole.text_vi
    );
}

#[test]
fn repayments_refused_for_bad_amounts_closed_and_foreign_loans() {
    let (_d, book) = open();
    assert!(matches!(pay(&book, HOA_LOAN, 100_000),
        Err(FieldBookError::Validation { ref code, ref field, .. }) if code == "loan_closed" && field == "loan_id"));
    assert!(
        matches!(pay(&book, "0193a000-0000-7000-8000-0000000000ff", 100_000),
        Err(FieldBookError::NotFound { ref code, .. }) if code == "loan_not_in_portfolio")
    );
    for bad in [Decimal::new(15, 1), dec(0), dec(-5)] {
        let e = book
            .record_repayment(RepaymentInput {
                loan_id: id(LAN_LOAN),
                amount: bad,
                recorded_at: at(9, 0),
            })
            .unwrap_err();
        assert!(
            matches!(e, FieldBookError::Validation { ref field, .. } if field == "amount"),
            "{bad}: {e:?}"
        );
    }
    // A slip of the keyboard (`1` for 1.000.000 ₫) is not cash.
    match pay(&book, LAN_LOAN, 1) {
        Err(FieldBookError::Validation {
            code, message_vi, ..
        }) => {
            assert_eq!(code, "amount_too_small");
            assert!(message_vi.contains("gõ thiếu chữ số"), "{message_vi}");
        }
        other => panic!("{other:?}"),
    }
    let future = chrono::Utc::now() + chrono::Duration::days(1);
    assert!(matches!(
        book.record_repayment(RepaymentInput { loan_id: id(LAN_LOAN), amount: dec(1000), recorded_at: future }),
        Err(FieldBookError::Validation { ref field, .. }) if field == "recorded_at"
    ));
    assert!(book.outbox(OutboxFilter::All, 100).unwrap().is_empty());
}

#[test]
fn gifts_once_per_worker_within_the_allocation() {
    let (_d, book) = open();
    let g = gift(&book, TET, LAN).unwrap();
    assert_eq!(g.kind, RecordKind::GiftHandout);
    assert!(matches!(gift(&book, TET, LAN),
        Err(FieldBookError::Conflict { ref code, .. }) if code == "already_received"));
    // Hùng received it on another phone, per server data.
    assert!(matches!(gift(&book, TET, HUNG),
        Err(FieldBookError::Conflict { ref code, .. }) if code == "already_received"));
    assert!(matches!(gift(&book, TET, HOA),
        Err(FieldBookError::Validation { ref code, .. }) if code == "not_eligible"));
    let tet = |b: &FieldBook| {
        b.campaigns()
            .unwrap()
            .into_iter()
            .find(|c| c.name == "Tết Sum vầy 2027")
            .unwrap()
    };
    assert_eq!(tet(&book).remaining, 8);

    // Mái ấm: one allocated; Lan qualifies (member in hardship).
    gift(&book, MAI_AM, LAN).unwrap();
    assert!(matches!(gift(&book, MAI_AM, LAM),
        Err(FieldBookError::Validation { ref code, .. }) if code == "not_eligible"));
    // A void gives the gift back.
    book.void_record(CorrectionInput {
        target_id: g.client_id,
        reason: "Ghi nhầm người nhận".into(),
        recorded_at: at(10, 5),
    })
    .unwrap();
    assert_eq!(tet(&book).remaining, 9);
    gift(&book, TET, LAN).unwrap();
    assert_eq!(tet(&book).remaining, 8);

    let detail = book.worker_detail(id(LAN)).unwrap();
    let states: Vec<_> = detail.gifts.iter().map(|g| g.state.as_str()).collect();
    assert_eq!(detail.gifts.len(), 3, "{states:?}");
    assert!(states.contains(&"voided"));
    let hung = book.worker_detail(id(HUNG)).unwrap();
    assert_eq!(hung.gifts[0].state, "server");
    assert!(matches!(
        book.record_gift(GiftInput {
            campaign_id: id(TET), worker_id: id(LAM), acknowledged_name: "  ".into(),
            signature_image: None, recorded_at: at(10, 0)
        }),
        Err(FieldBookError::Validation { ref field, .. }) if field == "acknowledged_name"
    ));
}

#[test]
fn the_allocation_can_run_out() {
    let (_d, book) = open();
    let page = ChangePage {
        officer: None,
        boarding_houses: vec![],
        workers: vec![],
        loans: vec![],
        campaigns: {
            let snap: sotay_core::wire::PortfolioSnapshot =
                serde_json::from_str(PORTFOLIO).unwrap();
            let mut c = snap.campaigns[0].clone();
            c.officer_remaining = 1;
            vec![c]
        },
        record_statuses: vec![],
        cash_counts: vec![],
        removed_workers: vec![],
        removed_loans: vec![],
        removed_campaigns: vec![],
        next: "c-000002".into(),
        has_more: false,
        server_time: None,
    };
    book.apply_changes_json(serde_json::to_string(&page).unwrap())
        .unwrap();
    gift(&book, TET, LAN).unwrap();
    assert!(matches!(gift(&book, TET, LAM),
        Err(FieldBookError::Conflict { ref code, .. }) if code == "allocation_used_up"));
}

/// A gift the server took, to a worker since moved to another officer,
/// is in the server's figure already: the phone does not take it off again.
#[test]
fn a_gift_to_a_worker_moved_away_is_counted_once() {
    let (_d, book) = open();
    let g = gift(&book, TET, LAN).unwrap();
    let remaining = |book: &FieldBook| {
        book.campaigns()
            .unwrap()
            .into_iter()
            .find(|k| k.campaign_id == id(TET))
            .unwrap()
            .remaining
    };
    let before = remaining(&book);
    book.mark_upload_results(vec![UploadResult {
        client_id: g.client_id,
        outcome: UploadOutcome::Accepted,
        code: None,
        message_vi: None,
        message_en: None,
    }])
    .unwrap();
    // The server counts it, and Lan is no longer this officer's.
    let snap: sotay_core::wire::PortfolioSnapshot = serde_json::from_str(PORTFOLIO).unwrap();
    let mut tet = snap
        .campaigns
        .iter()
        .find(|k| k.id == id(TET))
        .unwrap()
        .clone();
    tet.officer_remaining -= 1;
    tet.recipients.retain(|w| *w != id(LAN));
    let page = ChangePage {
        officer: None,
        boarding_houses: vec![],
        workers: vec![],
        loans: vec![],
        campaigns: vec![tet.clone()],
        record_statuses: vec![],
        cash_counts: vec![],
        removed_workers: vec![id(LAN)],
        removed_loans: vec![],
        removed_campaigns: vec![],
        next: "c-000009".into(),
        has_more: false,
        server_time: None,
    };
    book.apply_changes_json(serde_json::to_string(&page).unwrap())
        .unwrap();
    assert_eq!(remaining(&book), before, "counted once");
    assert_eq!(remaining(&book), tet.officer_remaining);
}

/// The server's word that `client_id` was approved, at 17:00.
fn approved_at_five(client_id: uuid::Uuid) -> RecordStatus {
    RecordStatus {
        client_id,
        state: RecordState::Approved,
        code: None,
        message_vi: None,
        message_en: None,
        decided_at: at(17, 0),
        settled_note: None,
        settled_at: None,
        settled_handed_out: None,
        loan_id: None,
        amount: None,
    }
}

#[test]
fn a_voided_visit_shows_as_voided_on_the_workers_page() {
    let (_d, book) = open();
    let correction = |target, reason: &str| CorrectionInput {
        target_id: target,
        reason: reason.into(),
        recorded_at: at(11, 0),
    };
    let v = book
        .record_visit(VisitInput {
            worker_id: id(LAN),
            purpose: VisitPurpose::RepaymentFollowUp,
            outcome: "Đã gặp".into(),
            notes: String::new(),
            location: None,
            recorded_at: at(9, 35),
        })
        .unwrap();
    // A visit voided before it went up shows as voided on the worker's
    // page, not as a visit that happened.
    let twice = book
        .record_visit(VisitInput {
            worker_id: id(LAN),
            purpose: VisitPurpose::Other,
            outcome: "Ghi nhầm".into(),
            notes: String::new(),
            location: None,
            recorded_at: at(9, 40),
        })
        .unwrap();
    book.void_record(correction(twice.client_id, "Ghi hai lần"))
        .unwrap();
    let states: Vec<(uuid::Uuid, String)> = book
        .worker_detail(id(LAN))
        .unwrap()
        .visits
        .into_iter()
        .map(|v| (v.client_id, v.state))
        .collect();
    assert_eq!(
        states,
        [
            (twice.client_id, "voided".to_string()),
            (v.client_id, "pending".to_string())
        ]
    );
}

#[test]
fn voids_and_reversals() {
    let (_d, book) = open();
    let r = pay(&book, LAN_LOAN, 500_000).unwrap();
    let v = book
        .record_visit(VisitInput {
            worker_id: id(LAN),
            purpose: VisitPurpose::RepaymentFollowUp,
            outcome: "Đã thu 500.000 ₫".into(),
            notes: "Hẹn trả tiếp ngày 20".into(),
            location: Some(GeoPoint {
                latitude: 10.7469,
                longitude: 106.7260,
                accuracy_m: Some(12.0),
            }),
            recorded_at: at(9, 35),
        })
        .unwrap();
    let correction = |target, reason: &str| CorrectionInput {
        target_id: target,
        reason: reason.into(),
        recorded_at: at(11, 0),
    };
    assert!(matches!(book.void_record(correction(r.client_id, " ")),
        Err(FieldBookError::Validation { ref field, .. }) if field == "reason"));
    let void = book
        .void_record(correction(r.client_id, "Nhập sai số tiền"))
        .unwrap();
    assert_eq!(void.kind, RecordKind::Void);
    assert!(
        matches!(book.void_record(correction(r.client_id, "lần nữa")),
        Err(FieldBookError::Conflict { ref code, .. }) if code == "already_voided")
    );
    assert!(matches!(
        book.void_record(correction(void.client_id, "hủy cái hủy")),
        Err(FieldBookError::Validation { .. })
    ));
    // The voided repayment no longer counts: the whole balance can be paid.
    assert_eq!(book.worker_detail(id(LAN)).unwrap().balance, dec(1_120_000));
    assert!(book.receipt(r.receipt_no.clone()).unwrap().voided);
    let r2 = pay(&book, LAN_LOAN, 1_120_000).unwrap();

    // The server accepts the repayment: it can no longer be voided, only reversed.
    assert!(
        matches!(book.request_reversal(correction(r2.client_id, "Thu nhầm")),
        Err(FieldBookError::Conflict { ref code, .. }) if code == "not_synced")
    );
    let n = book
        .mark_upload_results(vec![
            UploadResult {
                client_id: r2.client_id,
                outcome: UploadOutcome::Accepted,
                code: None,
                message_vi: None,
                message_en: None,
            },
            UploadResult {
                client_id: v.client_id,
                outcome: UploadOutcome::Rejected,
                code: Some("worker_not_in_portfolio".into()),
                message_vi: Some("Người lao động không thuộc danh sách".into()),
                message_en: Some("not in portfolio".into()),
            },
        ])
        .unwrap();
    assert_eq!(n, 2);
    assert!(
        matches!(book.void_record(correction(r2.client_id, "Thu nhầm")),
        Err(FieldBookError::Conflict { ref code, .. }) if code == "already_synced")
    );
    // A visit the server refused is not voided: it counts nowhere.
    match book.void_record(correction(v.client_id, "Ghi nhầm người")) {
        Err(FieldBookError::Conflict {
            code, message_vi, ..
        }) => {
            assert_eq!(code, "already_refused");
            assert!(
                message_vi.contains("không có gì để hủy hay đảo; không cần làm gì thêm"),
                "{message_vi}"
            );
        }
        other => panic!("{other:?}"),
    }
    let rev = book
        .request_reversal(correction(r2.client_id, "Thu nhầm khoản vay"))
        .unwrap();
    assert_eq!(rev.kind, RecordKind::ReversalRequest);
    assert!(
        matches!(book.request_reversal(correction(r2.client_id, "lại")),
        Err(FieldBookError::Conflict { ref code, .. }) if code == "reversal_already_requested")
    );
    // Asked by mistake, not sent yet: voided, and asked again.
    book.void_record(correction(rev.client_id, "Chọn nhầm phiếu"))
        .expect("an unsent reversal request is voided");
    let rev = book
        .request_reversal(correction(r2.client_id, "Thu nhầm khoản vay"))
        .expect("asked again once the first is voided");

    let accepted = book.outbox(OutboxFilter::Accepted, 100).unwrap();
    assert_eq!(accepted.len(), 1);
    let rejected = book.outbox(OutboxFilter::Rejected, 100).unwrap();
    assert_eq!(
        rejected[0].message.as_deref(),
        Some("Người lao động không thuộc danh sách")
    );
    let pending = book.outbox(OutboxFilter::Pending, 100).unwrap();
    let kinds: Vec<_> = pending.iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        [
            RecordKind::Repayment,
            RecordKind::Void,
            RecordKind::ReversalRequest,
            RecordKind::Void,
            RecordKind::ReversalRequest
        ]
    );
    assert!(pending[0].voided && pending[2].voided && !pending[4].voided);
    assert_eq!(pending[4].client_id, rev.client_id);
    let env: serde_json::Value = serde_json::from_str(&pending[4].envelope_json).unwrap();
    assert_eq!(env["kind"], "reversal_request");
    assert_eq!(env["payload"]["target_id"], r2.client_id.to_string());
    assert_eq!(env["device_id"], device().device_id.to_string());
    assert_eq!(book.next_pending_batch(2).unwrap(), pending[..2].to_vec());
    // Results for records already acknowledged change nothing.
    assert_eq!(
        book.mark_upload_results(vec![UploadResult {
            client_id: r2.client_id,
            outcome: UploadOutcome::Rejected,
            code: None,
            message_vi: None,
            message_en: None
        }])
        .unwrap(),
        0
    );

    // Sent and waiting for review, a request of a receipt is left out by
    // the supervisor, with the receipt's cash; decided, nothing is left
    // to leave out.
    book.mark_upload_results(
        pending
            .iter()
            .map(|p| UploadResult {
                client_id: p.client_id,
                outcome: UploadOutcome::Accepted,
                code: None,
                message_vi: None,
                message_en: None,
            })
            .collect(),
    )
    .unwrap();
    let said = |book: &FieldBook| match book.void_record(correction(rev.client_id, "Nhầm")) {
        Err(FieldBookError::Conflict {
            code, message_vi, ..
        }) if code == "already_synced" => message_vi,
        other => panic!("{other:?}"),
    };
    let waiting = said(&book);
    assert!(
        waiting.contains("đang chờ duyệt") && waiting.contains("nộp đủ tiền của phiếu"),
        "{waiting}"
    );
    let approved = statuses_page(vec![approved_at_five(rev.client_id)], "c-000009");
    book.apply_changes_json(serde_json::to_string(&approved).unwrap())
        .unwrap();
    let decided = said(&book);
    assert!(
        decided.contains("đã được duyệt") && !decided.contains("loại nó khi duyệt lô"),
        "{decided}"
    );
}

/// A receipt another officer took on the loan before its worker moved
/// here, waiting for review, counts as the server counts it: the balance
/// shown, the receipt printed and the most that can be taken; once the
/// server stops sending it (decided), it counts no more.
#[test]
fn another_officers_receipt_waiting_on_a_moved_workers_loan_counts() {
    let (_d, book) = open();
    let before = book.worker_detail(id(LAN)).unwrap();
    let mut snap: PortfolioSnapshot = serde_json::from_str(PORTFOLIO).unwrap();
    let loan = snap
        .loans
        .iter_mut()
        .find(|l| l.id == id(LAN_LOAN))
        .unwrap();
    loan.waiting_elsewhere = vec![sotay_core::wire::WaitingReceipt {
        client_id: uuid::Uuid::now_v7(),
        amount: Dong(250_000),
        receipt_no: Some("ZCB4-000004".into()),
    }];
    book.apply_portfolio_json(serde_json::to_string(&snap).unwrap())
        .unwrap();
    let after = book.worker_detail(id(LAN)).unwrap();
    assert_eq!(after.balance, before.balance - dec(250_000));
    let l = after
        .loans
        .iter()
        .find(|l| l.loan_id == id(LAN_LOAN))
        .unwrap();
    assert_eq!(l.unsynced_paid, dec(250_000));
    // The most that can be taken is what is left after it.
    let left = before.balance - dec(250_000);
    let over = pay(&book, LAN_LOAN, 1_120_000).unwrap_err();
    assert!(
        matches!(over, FieldBookError::Validation { ref code, .. } if code == "amount_above_outstanding"),
        "{over:?}"
    );
    assert_eq!(left, dec(870_000));
    let r = pay(&book, LAN_LOAN, 870_000).unwrap();
    assert_eq!(r.balance_after, dec(0));
    assert!(
        r.text_vi
            .contains("Khoản vay trả đủ khi các phiếu thu đang chờ duyệt được duyệt."),
        "{}",
        r.text_vi
    );
    // Decided at the branch: no longer sent, no longer counted.
    let loan = snap
        .loans
        .iter_mut()
        .find(|l| l.id == id(LAN_LOAN))
        .unwrap();
    loan.waiting_elsewhere.clear();
    let page = ChangePage {
        officer: None,
        boarding_houses: vec![],
        workers: vec![],
        loans: vec![loan.clone()],
        campaigns: vec![],
        record_statuses: vec![],
        cash_counts: vec![],
        removed_workers: vec![],
        removed_loans: vec![],
        removed_campaigns: vec![],
        next: "c-9".into(),
        has_more: false,
        server_time: None,
    };
    book.apply_changes_json(serde_json::to_string(&page).unwrap())
        .unwrap();
    let l = book.worker_detail(id(LAN)).unwrap();
    let l = l.loans.iter().find(|l| l.loan_id == id(LAN_LOAN)).unwrap();
    assert_eq!(l.unsynced_paid, dec(870_000), "this phone's receipt only");
}

/// A receipt the server refused is on no books: neither voided nor
/// reversed, and the officer is told what is left to do with its cash.
#[test]
fn a_refused_receipt_is_neither_voided_nor_reversed() {
    let (_d, book) = open();
    let r = pay(&book, LAN_LOAN, 500_000).unwrap();
    book.mark_upload_results(vec![UploadResult {
        client_id: r.client_id,
        outcome: UploadOutcome::Rejected,
        code: Some("loan_not_open".into()),
        message_vi: Some("Khoản vay đã tất toán".into()),
        message_en: Some("loan closed".into()),
    }])
    .unwrap();
    let correction = CorrectionInput {
        target_id: r.client_id,
        reason: "Thu nhầm".into(),
        recorded_at: at(11, 0),
    };
    for refused in [
        book.void_record(correction.clone()),
        book.request_reversal(correction),
    ] {
        match refused {
            Err(FieldBookError::Conflict {
                code, message_vi, ..
            }) => {
                assert_eq!(code, "already_refused");
                assert!(
                    message_vi.contains(
                        "không có gì để hủy hay đảo; tiền của phiếu này hãy mang tới chi nhánh"
                    ),
                    "{message_vi}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn server_statuses_and_changes() {
    let (_d, book) = open();
    let r = pay(&book, LAN_LOAN, 112_000).unwrap();
    book.mark_upload_results(vec![UploadResult {
        client_id: r.client_id,
        outcome: UploadOutcome::Duplicate,
        code: None,
        message_vi: None,
        message_en: None,
    }])
    .unwrap();
    // Accepted but not approved: still deducted locally.
    assert_eq!(book.worker_detail(id(LAN)).unwrap().balance, dec(1_008_000));
    // Approved: the books now hold it (installment 3 paid) and it is not deducted twice.
    let mut snap: sotay_core::wire::PortfolioSnapshot = serde_json::from_str(PORTFOLIO).unwrap();
    let mut loan = snap.loans[0].clone();
    loan.paid = sotay_core::domain::money::Dong(loan.paid.get() + 112_000);
    loan.balance = sotay_core::domain::money::Dong(1_008_000);
    let page = ChangePage {
        officer: None,
        boarding_houses: vec![],
        workers: vec![],
        loans: vec![loan],
        campaigns: vec![],
        record_statuses: vec![approved_at_five(r.client_id)],
        cash_counts: vec![],
        removed_workers: vec![id(HOA)],
        // Hùng's loan was paid out in error and taken back at the branch.
        removed_loans: vec![id("0193a000-0000-7000-8000-0000000000c2")],
        removed_campaigns: vec![],
        next: "c-000002".into(),
        has_more: true,
        server_time: None,
    };
    assert_eq!(book.worker_detail(id(HUNG)).unwrap().loans.len(), 1);
    let s = book
        .apply_changes_json(serde_json::to_string(&page).unwrap())
        .unwrap();
    assert_eq!(
        (s.loans, s.record_statuses, s.removed_workers, s.has_more),
        (1, 1, 1, true)
    );
    assert_eq!(book.worker_detail(id(LAN)).unwrap().balance, dec(1_008_000));
    let approved = book.receipt(r.receipt_no).unwrap();
    assert_eq!(
        (approved.state.as_str(), approved.fate_vi),
        ("approved", None)
    );
    // Counted and approved: handed over, nothing left to hand over for it.
    let today = book.daily_summary(day(2026, 11, 20)).unwrap();
    assert_eq!(
        (
            today.cash_collected,
            today.cash_approved,
            today.cash_to_hand_over
        ),
        (dec(112_000), dec(112_000), dec(0))
    );
    assert!(
        today
            .text_vi
            .contains("112.000 ₫ của các phiếu trong lô đã được duyệt (không nộp lại)"),
        "{}",
        today.text_vi
    );
    assert!(book.search("hoa".into(), 10).unwrap().is_empty());
    let hung = book.worker_detail(id(HUNG)).unwrap();
    assert!(hung.loans.is_empty(), "{hung:?}");
    assert_eq!(hung.balance, dec(0));
    assert!(matches!(
        book.worker_detail(id(HOA)),
        Err(FieldBookError::NotFound { .. })
    ));
    snap.next = "x".into();
}

/// The day summary says of the day's visits which were refused and which
/// are held from a revoked phone, apart.
/// A visit's notes past what a record keeps are refused, naming the field,
/// before anything is recorded.
#[test]
fn a_visits_notes_have_a_length() {
    let (_d, book) = open();
    let refused = book
        .record_visit(VisitInput {
            worker_id: id(LAN),
            purpose: VisitPurpose::RepaymentFollowUp,
            outcome: "Đã gặp".into(),
            notes: "Chị Lan nói. ".repeat(200),
            location: None,
            recorded_at: at(9, 35),
        })
        .unwrap_err();
    match refused {
        FieldBookError::Validation { field, code, .. } => {
            assert_eq!((field.as_str(), code.as_str()), ("notes", "text_too_long"));
        }
        e => panic!("{e:?}"),
    }
    assert!(book.outbox(OutboxFilter::All, 10).unwrap().is_empty());
}

#[test]
fn a_day_summary_tells_refused_visits_from_held_ones() {
    let (_d, book) = open();
    let visit = || {
        book.record_visit(VisitInput {
            worker_id: id(LAN),
            purpose: VisitPurpose::RepaymentFollowUp,
            outcome: "Đã gặp".into(),
            notes: String::new(),
            location: None,
            recorded_at: at(9, 35),
        })
        .unwrap()
    };
    let (refused, held) = (visit(), visit());
    let status = |client_id: uuid::Uuid, code: &str| RecordStatus {
        client_id,
        state: RecordState::Rejected,
        code: Some(code.into()),
        message_vi: None,
        message_en: None,
        decided_at: at(17, 0),
        settled_note: None,
        settled_at: None,
        settled_handed_out: None,
        loan_id: None,
        amount: None,
    };
    let page = statuses_page(
        vec![
            status(refused.client_id, "batch_rejected"),
            status(held.client_id, "device_revoked"),
        ],
        "c-1",
    );
    book.apply_changes_json(serde_json::to_string(&page).unwrap())
        .unwrap();
    let summary = book.daily_summary(day(2026, 11, 20)).unwrap();
    assert!(
        summary
            .text_vi
            .contains("2 lượt thăm hỏi (1 bị từ chối, 1 bị giữ lại)"),
        "{}",
        summary.text_vi
    );
}

/// A repayment refused at review whose cash the branch has since dealt
/// with: the phone says so, and no longer tells the officer to give it back.
#[test]
fn refused_cash_the_branch_settled_is_said_settled() {
    let (_d, book) = open();
    let r = pay(&book, LAN_LOAN, 112_000).unwrap();
    let visit = book
        .record_visit(VisitInput {
            worker_id: id(LAN),
            purpose: VisitPurpose::RepaymentFollowUp,
            outcome: "Đã gặp".into(),
            notes: String::new(),
            location: None,
            recorded_at: at(9, 35),
        })
        .unwrap();
    let status = |settled_note: Option<&str>| RecordStatus {
        client_id: r.client_id,
        state: RecordState::Rejected,
        code: Some("batch_rejected".into()),
        message_vi: Some("Giám sát từ chối cả lô: thiếu chữ ký".into()),
        message_en: None,
        decided_at: at(17, 0),
        settled_note: settled_note.map(str::to_string),
        settled_at: settled_note.map(|_| at(18, 0)),
        settled_handed_out: None,
        loan_id: None,
        amount: None,
    };
    let page = |st: RecordStatus, next: &str| statuses_page(vec![st], next);
    book.apply_changes_json(serde_json::to_string(&page(status(None), "c-1")).unwrap())
        .unwrap();
    // A visit refused with the batch: said on its day, nothing to settle.
    let visit_refused = RecordStatus {
        client_id: visit.client_id,
        ..status(None)
    };
    book.apply_changes_json(serde_json::to_string(&page(visit_refused, "c-1b")).unwrap())
        .unwrap();
    let refused = book.daily_summary(day(2026, 11, 20)).unwrap();
    assert_eq!(
        (refused.cash_refused, refused.cash_refused_settled),
        (dec(112_000), dec(0))
    );
    assert!(
        refused.text_vi.contains("trả lại người vay"),
        "{}",
        refused.text_vi
    );
    // The next day still says it, until the branch deals with it.
    let next_day = book.daily_summary(day(2026, 11, 21)).unwrap();
    assert_eq!(next_day.cash_refused_open, dec(112_000));
    let listed: Vec<_> = next_day.rejected.iter().map(|r| r.client_id).collect();
    assert_eq!(listed, [r.client_id], "the cash listed until dealt with");
    assert!(
        next_day
            .text_vi
            .contains("Cộng mọi ngày, tiền bị từ chối chưa được chi nhánh xử lý: 112.000 ₫"),
        "{}",
        next_day.text_vi
    );

    let note = "Nộp tại quầy, phiếu QUAY-CN-TD-000001";
    book.apply_changes_json(serde_json::to_string(&page(status(Some(note)), "c-2")).unwrap())
        .unwrap();
    let settled = book.daily_summary(day(2026, 11, 20)).unwrap();
    assert_eq!(
        (
            settled.cash_refused,
            settled.cash_refused_settled,
            settled.cash_in_hand
        ),
        (dec(112_000), dec(112_000), dec(0))
    );
    assert!(
        settled
            .text_vi
            .contains("trong đó 112.000 ₫ bị từ chối, chi nhánh đã xử lý"),
        "{}",
        settled.text_vi
    );
    let next_day = book.daily_summary(day(2026, 11, 21)).unwrap();
    assert_eq!(next_day.cash_refused_open, dec(0));
    // Dealt with, it is the 20th's story: not listed on other days.
    assert_eq!(next_day.rejected.len(), 0, "{}", next_day.text_vi);
    assert_eq!(refused.rejected.len(), 2, "the day's own, the visit too");
    assert!(
        !settled.text_vi.contains("trả lại người vay"),
        "{}",
        settled.text_vi
    );
    assert!(
        settled
            .text_vi
            .contains(&format!("chi nhánh đã xử lý: {note}")),
        "{}",
        settled.text_vi
    );
    let item = &book.outbox(OutboxFilter::Rejected, 10).unwrap()[0];
    assert_eq!(item.settled_note.as_deref(), Some(note));
    // Shown again, its receipt says it was refused.
    let receipt = book.receipt(r.receipt_no.clone()).unwrap();
    assert!(
        receipt
            .fate_vi
            .as_deref()
            .is_some_and(|f| f.contains("đã bị từ chối")),
        "{receipt:?}"
    );
}

/// A refused receipt the officer entered again (a later receipt of its
/// loan and amount, made once she knew of the refusal) is handed over with
/// the new receipt: not also said to be given back to the borrower.
#[test]
fn refused_cash_entered_again_is_not_said_to_be_given_back() {
    let (_d, book) = open();
    let r = pay(&book, LAN_LOAN, 112_000).unwrap();
    let repay_at = |h, m| {
        book.record_repayment(RepaymentInput {
            loan_id: id(LAN_LOAN),
            amount: dec(112_000),
            recorded_at: at(h, m),
        })
        .unwrap()
    };
    // The next installment, of the same amount, taken before she knew.
    let next = repay_at(10, 0);
    let status = RecordStatus {
        client_id: r.client_id,
        state: RecordState::Rejected,
        code: Some("batch_rejected".into()),
        message_vi: Some("Giám sát từ chối cả lô: thiếu chữ ký".into()),
        message_en: None,
        decided_at: at(17, 0),
        settled_note: None,
        settled_at: None,
        settled_handed_out: None,
        loan_id: None,
        amount: None,
    };
    let page = statuses_page(vec![status], "c-1");
    book.apply_changes_json(serde_json::to_string(&page).unwrap())
        .unwrap();
    // Nor the installment of the same amount a week on.
    book.record_repayment(RepaymentInput {
        loan_id: id(LAN_LOAN),
        amount: dec(112_000),
        recorded_at: at(9, 0) + chrono::Duration::days(7),
    })
    .unwrap();
    let before = book.daily_summary(day(2026, 11, 20)).unwrap();
    assert_eq!(
        (before.cash_refused_open, before.cash_refused_entered_again),
        (dec(112_000), dec(0)),
        "{}",
        before.text_vi
    );
    let again = repay_at(17, 30);
    let summary = book.daily_summary(day(2026, 11, 20)).unwrap();
    assert_eq!(
        (
            summary.cash_refused_open,
            summary.cash_refused_entered_again,
            summary.cash_to_hand_over
        ),
        (dec(0), dec(112_000), dec(224_000)),
        "{}",
        summary.text_vi
    );
    assert!(
        summary.text_vi.contains(&format!(
            "đã ghi lại bằng phiếu {} (chờ duyệt)",
            again.receipt_no
        )) && !summary.text_vi.contains(&next.receipt_no)
            && !summary.text_vi.contains("— trả lại người vay"),
        "{}",
        summary.text_vi
    );
}

#[test]
fn changes_need_a_snapshot_first() {
    let dir = tempfile::tempdir().unwrap();
    let book = FieldBook::open(dir.path().join("c.db").display().to_string(), device()).unwrap();
    let e = book
        .apply_changes_json(r#"{"next":"c-2","has_more":false}"#.into())
        .unwrap_err();
    assert!(matches!(e, FieldBookError::Conflict { ref code, .. } if code == "no_snapshot"));
    assert!(matches!(book.apply_portfolio_json("{".into()),
        Err(FieldBookError::Validation { ref code, .. }) if code == "invalid_json"));
}

#[test]
fn route_and_worker_detail() {
    let (_d, book) = open();
    pay(&book, LAN_LOAN, 112_000).unwrap();
    let route = book.route(day(2026, 11, 20)).unwrap();
    let houses: Vec<_> = route.iter().map(|s| s.boarding_house.as_str()).collect();
    assert_eq!(houses, ["Nhà trọ Cô Ba", "Khu trọ Hòa Bình"]);
    let first: Vec<_> = route[0]
        .workers
        .iter()
        .map(|w| (w.full_name.as_str(), w.room.as_deref()))
        .collect();
    assert_eq!(
        first,
        [
            ("Nguyễn Văn Lâm", Some("P.2")),
            ("Nguyễn Thị Lan", Some("P.4"))
        ]
    );
    let lan = &route[0].workers[1];
    // Installments 3–5 (Sep–Nov) were due by 20/11; one was paid today.
    assert_eq!(
        (lan.due, lan.overdue, lan.paid_today),
        (dec(224_000), dec(224_000), dec(112_000))
    );
    assert!(!lan.visited_today);
    let hung = &route[1].workers[0];
    // Weekly from 12/09, 5 paid: 10 due by 20/11 (the 10th on 14/11), 5 unpaid.
    assert_eq!((hung.due, hung.overdue), (dec(500_000), dec(500_000)));
    let lam = &route[0].workers[0];
    assert_eq!((lam.due, lam.overdue), (dec(270_000), dec(270_000)));
    // On 02/09 only Lan had something due, and today's cash covers it.
    let early = book.route(day(2026, 9, 2)).unwrap();
    assert_eq!(early.len(), 1);
    assert_eq!(early[0].workers.len(), 1);
    assert_eq!(
        (
            early[0].workers[0].full_name.as_str(),
            early[0].workers[0].due
        ),
        ("Nguyễn Thị Lan", dec(0))
    );

    let d = book.worker_detail(id(LAN)).unwrap();
    assert_eq!(d.loans.len(), 1);
    assert_eq!(d.loans[0].unsynced_paid, dec(112_000));
    assert_eq!(d.loans[0].schedule[2].interest_paid, dec(12_000));
    assert_eq!(d.loans[0].schedule.len(), 12);
    assert_eq!(d.phone.as_deref(), Some("0912 345 678"));
}

#[test]
fn daily_summary_counts_what_to_hand_over() {
    let (_d, book) = open();
    pay(&book, LAN_LOAN, 112_000).unwrap();
    let voided = pay(&book, LAN_LOAN, 50_000).unwrap();
    book.void_record(CorrectionInput {
        target_id: voided.client_id,
        reason: "Nhập trùng".into(),
        recorded_at: at(12, 0),
    })
    .unwrap();
    book.record_visit(VisitInput {
        worker_id: id(HUNG),
        purpose: VisitPurpose::HardshipVisit,
        outcome: "Đang nghỉ ốm".into(),
        notes: String::new(),
        location: None,
        recorded_at: at(14, 0),
    })
    .unwrap();
    gift(&book, TET, LAN).unwrap();
    // A voided record has nothing to reverse, and says so.
    match book.request_reversal(CorrectionInput {
        target_id: voided.client_id,
        reason: "Thu nhầm".into(),
        recorded_at: at(15, 0),
    }) {
        Err(FieldBookError::Conflict {
            code, message_vi, ..
        }) => {
            assert_eq!(code, "already_voided");
            assert!(message_vi.contains("đã bị hủy"), "{message_vi}");
        }
        other => panic!("{other:?}"),
    }
    let s = book.daily_summary(day(2026, 11, 20)).unwrap();
    assert_eq!(s.cash_collected, dec(112_000));
    assert_eq!(
        (s.repayments, s.visits, s.gifts, s.voids, s.pending),
        (1, 1, 1, 1, 5)
    );
    assert!(s.text_vi.contains("thu 112.000 ₫"), "{}", s.text_vi);
    let other = book.daily_summary(day(2026, 11, 21)).unwrap();
    assert_eq!(other.cash_collected, dec(0));
}

#[test]
fn survives_reopening_and_refuses_another_device() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sotay.db").display().to_string();
    {
        let book = FieldBook::open(path.clone(), device()).unwrap();
        book.apply_portfolio_json(PORTFOLIO.to_string()).unwrap();
        pay(&book, LAN_LOAN, 100_000).unwrap();
    }
    let other = DeviceIdentity {
        device_code: "B8Z9".into(),
        ..device()
    };
    assert!(matches!(FieldBook::open(path.clone(), other),
        Err(FieldBookError::Conflict { ref code, .. }) if code == "device_mismatch"));
    assert!(matches!(
        FieldBook::open(path.clone(), DeviceIdentity { device_code: "a7k2".into(), ..device() }),
        Err(FieldBookError::Validation { ref field, .. }) if field == "device_code"
    ));
    let book = FieldBook::open(path, device()).unwrap();
    assert_eq!(book.search("lan".into(), 5).unwrap().len(), 1);
    assert_eq!(
        pay(&book, LAN_LOAN, 100_000).unwrap().receipt_no,
        "A7K2-000002"
    );
    assert_eq!(book.outbox(OutboxFilter::Pending, 10).unwrap().len(), 2);
}

#[test]
fn searches_a_large_portfolio() {
    let dir = tempfile::tempdir().unwrap();
    let book = FieldBook::open(dir.path().join("big.db").display().to_string(), device()).unwrap();
    let snap = big_portfolio(3_000);
    book.apply_portfolio_json(serde_json::to_string(&snap).unwrap())
        .unwrap();
    let hits = book.search("dang lan".into(), 200).unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| {
        let k = sotay_core::domain::text::fold(&h.full_name);
        k.starts_with("dang ") && k.ends_with(" lan")
    }));
    let expected = snap
        .workers
        .iter()
        .filter(|w| {
            sotay_core::domain::text::fold(&w.full_name).starts_with("dang")
                && w.full_name.ends_with(" Lan")
        })
        .count();
    assert_eq!(hits.len(), expected);
    // By the worker's code, as the branch's lists give it, in any case.
    let hits = book.search("nld-00042".into(), 20).unwrap();
    assert_eq!(
        hits.iter()
            .map(|h| (h.code.as_deref(), h.full_name.as_str()))
            .collect::<Vec<_>>(),
        vec![(Some("NLD-00042"), snap.workers[41].full_name.as_str())]
    );
}

#[test]
fn concurrent_collectors_never_overdraw_a_loan() {
    let (dir, book) = open();
    // 1.120.000 ₫ outstanding; 4 threads each try 5 × 100.000 ₫.
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let book = Arc::clone(&book);
            std::thread::spawn(move || {
                (0..5)
                    .filter(|_| pay(&book, LAN_LOAN, 100_000).is_ok())
                    .count()
            })
        })
        .collect();
    let ok: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(ok, 11);
    assert_eq!(book.worker_detail(id(LAN)).unwrap().balance, dec(20_000));
    // Every recorded fact is committed when the call returns: another
    // connection sees all of them, with receipt numbers 1..=11 and no gaps.
    let conn = rusqlite::Connection::open(dir.path().join("sotay.db")).unwrap();
    let receipts: Vec<String> = conn
        .prepare("SELECT receipt_no FROM repayments ORDER BY receipt_no")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let expected: Vec<String> = (1..=11).map(|i| format!("A7K2-{i:06}")).collect();
    assert_eq!(receipts, expected);
    // The database itself refuses to change a fact.
    let e = conn
        .execute("UPDATE repayments SET amount = 1", [])
        .unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
}

#[test]
fn refuses_a_database_from_a_newer_app() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", sotay_core::SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    assert!(matches!(
        FieldBook::open(path.display().to_string(), device()),
        Err(FieldBookError::Storage { ref code, .. }) if code == "schema_too_new"
    ));
}

#[derive(Debug, Clone)]
enum Op {
    Pay(i64),
    Void(usize),
}

fn ops() -> impl proptest::strategy::Strategy<Value = Vec<Op>> {
    use proptest::prelude::*;
    proptest::collection::vec(
        prop_oneof![
            3 => (1i64..600_000).prop_map(Op::Pay),
            1 => (0usize..20).prop_map(Op::Void),
        ],
        1..15,
    )
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// Whatever an officer records and voids, the balance shown is the
    /// books less the live repayments, never below zero, and a refused
    /// repayment records nothing.
    #[test]
    fn balances_follow_live_repayments(ops in ops()) {
        let book = FieldBook::open(":memory:".to_string(), device()).unwrap();
        book.apply_portfolio_json(PORTFOLIO.to_string()).unwrap();
        let mut live: Vec<(uuid::Uuid, i64)> = Vec::new();
        let mut recorded = Vec::new();
        for op in ops {
            let before = book.outbox(OutboxFilter::All, 1000).unwrap().len();
            match op {
                Op::Pay(amount) => {
                    let left = 1_120_000 - live.iter().map(|(_, a)| a).sum::<i64>();
                    match pay(&book, LAN_LOAN, amount) {
                        Ok(r) => {
                            proptest::prop_assert!(amount <= left);
                            proptest::prop_assert!(amount >= 1_000 || amount == left);
                            proptest::prop_assert_eq!(r.balance_after, dec(left - amount));
                            proptest::prop_assert_eq!(r.interest + r.principal, dec(amount));
                            live.push((r.client_id, amount));
                            recorded.push(r.client_id);
                        }
                        Err(FieldBookError::Validation { code, .. }) => {
                            if amount > left {
                                proptest::prop_assert_eq!(code, "amount_above_outstanding");
                            } else {
                                // Too small to be cash: a slip of the keyboard.
                                proptest::prop_assert!(amount < 1_000 && amount != left);
                                proptest::prop_assert_eq!(code, "amount_too_small");
                            }
                            proptest::prop_assert_eq!(book.outbox(OutboxFilter::All, 1000).unwrap().len(), before);
                        }
                        Err(e) => proptest::prop_assert!(false, "{e:?}"),
                    }
                }
                Op::Void(i) if !recorded.is_empty() => {
                    let target = recorded[i % recorded.len()];
                    let result = book.void_record(CorrectionInput {
                        target_id: target, reason: "Nhập sai".into(), recorded_at: at(12, 0),
                    });
                    match live.iter().position(|(c, _)| *c == target) {
                        Some(p) => {
                            proptest::prop_assert!(result.is_ok());
                            live.remove(p);
                        }
                        None => {
                            let conflict = matches!(result, Err(FieldBookError::Conflict { .. }));
                            proptest::prop_assert!(conflict, "{:?}", result);
                        }
                    }
                }
                Op::Void(_) => {}
            }
            let balance = book.worker_detail(id(LAN)).unwrap().balance;
            proptest::prop_assert_eq!(balance, dec(1_120_000 - live.iter().map(|(_, a)| a).sum::<i64>()));
        }
    }
}

/// A build without SQLCipher never writes the book in the clear when the
/// app asked for a key.
#[cfg(not(feature = "sqlcipher"))]
#[test]
fn a_key_is_refused_by_a_build_without_encryption() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sotay.db");
    let Err(e) = FieldBook::open_encrypted(path.display().to_string(), device(), "0".repeat(64))
    else {
        panic!("opened without encryption");
    };
    assert!(
        matches!(&e, FieldBookError::Storage { code, .. } if code == "encryption_unavailable"),
        "{e:?}"
    );
    assert!(!path.exists(), "nothing was written");
    // Nor is an open book given a key it cannot have.
    let book = FieldBook::open(path.display().to_string(), device()).unwrap();
    let e = book.change_key("0".repeat(64)).unwrap_err();
    assert!(
        matches!(&e, FieldBookError::Storage { code, .. } if code == "encryption_unavailable"),
        "{e:?}"
    );
    book.apply_portfolio_json(PORTFOLIO.to_string()).unwrap();
}

/// A receipt of the day before, typed 500.000 for 50.000 and not handed
/// over yet, reversed today with the right one entered again: today keeps
/// back more than it took, but the branch owes her nothing.
#[test]
fn a_day_keeping_back_another_days_receipt_owes_nothing() {
    let (_d, book) = open();
    let wrong = book
        .record_repayment(RepaymentInput {
            loan_id: id(LAN_LOAN),
            amount: dec(500_000),
            recorded_at: at(9, 30) - chrono::Duration::days(1),
        })
        .unwrap();
    book.mark_upload_results(vec![UploadResult {
        client_id: wrong.client_id,
        outcome: UploadOutcome::Accepted,
        code: None,
        message_vi: None,
        message_en: None,
    }])
    .unwrap();
    book.request_reversal(CorrectionInput {
        target_id: wrong.client_id,
        reason: "Gõ nhầm 500.000, đúng là 50.000".into(),
        recorded_at: at(10, 0),
    })
    .unwrap();
    pay(&book, LAN_LOAN, 50_000).unwrap();
    let today = book.daily_summary(day(2026, 11, 20)).unwrap();
    assert_eq!(today.cash_in_hand, dec(50_000), "{}", today.text_vi);
    assert!(
        !today.text_vi.contains("chi nhánh nợ lại bạn")
            && today.text_vi.contains(
                "số giữ lại hơn tiền thu trong ngày 450.000 ₫: trừ vào tiền còn phải nộp của các ngày khác"
            )
            && today.text_vi.contains("cộng mọi ngày, còn phải nộp chi nhánh 50.000 ₫"),
        "{}",
        today.text_vi
    );
}

/// A batch whose reversal requests took back more than it collected,
/// approved with nothing handed over: the day's summary says the branch
/// owes her the rest, not that she handed over too much.
#[test]
fn a_batch_the_branch_owes_for_is_said_so() {
    let (_d, book) = open();
    let page = ChangePage {
        officer: None,
        boarding_houses: vec![],
        workers: vec![],
        loans: vec![],
        campaigns: vec![],
        record_statuses: vec![],
        cash_counts: vec![sotay_core::wire::CashCount {
            batch_id: uuid::Uuid::now_v7(),
            decided_at: at(17, 0),
            cash_expected: Dong(-90_000),
            cash_received: Dong(0),
        }],
        removed_workers: vec![],
        removed_loans: vec![],
        removed_campaigns: vec![],
        next: "c-1".into(),
        has_more: false,
        server_time: None,
    };
    book.apply_changes_json(serde_json::to_string(&page).unwrap())
        .unwrap();
    let summary = book.daily_summary(day(2026, 11, 20)).unwrap();
    assert!(
        summary.text_vi.contains("chi nhánh nợ lại bạn 90.000 ₫")
            && !summary.text_vi.contains("thừa 90.000 ₫"),
        "{}",
        summary.text_vi
    );
    assert_eq!(summary.cash_counts.len(), 1);
}
