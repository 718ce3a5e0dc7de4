//! The `sotay-officer` binary over a real field book file.

use std::process::{Command, Output};

const PORTFOLIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/portfolio.json");

fn run(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sotay-officer"))
        .env("SOTAY_DB", db)
        .env("SOTAY_DEVICE_ID", "0193a000-0000-7000-8000-0000000000e1")
        .env("SOTAY_DEVICE_CODE", "A7K2")
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn an_officer_records_a_day_from_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sotay.db").display().to_string();
    // Before any portfolio, a search says what to do first.
    let out = stdout(&run(&db, &["search", "lan"]));
    assert!(
        out.contains("đăng nhập (`login`) rồi đồng bộ (`sync`)"),
        "{out}"
    );
    let out = stdout(&run(&db, &["load-portfolio", PORTFOLIO]));
    assert!(out.contains("4 người lao động"), "{out}");
    let out = stdout(&run(&db, &["search", "nguyen lan"]));
    assert!(
        out.contains("Nguyễn Thị Lan") && !out.contains("Hùng"),
        "{out}"
    );

    let loan = "0193a000-0000-7000-8000-0000000000c1";
    let out = stdout(&run(
        &db,
        &[
            "repay",
            "--loan",
            loan,
            "--amount",
            "500.000",
            "--at",
            "20/11/2026 09:30",
            "--late",
        ],
    ));
    assert!(
        out.starts_with("PHIẾU THU số A7K2-000001, Nguyễn Thị Lan"),
        "{out}"
    );

    // The loan by its number, as printed on the contract.
    let refused = run(
        &db,
        &[
            "repay",
            "--loan",
            "cep-2026-000451",
            "--amount",
            "900000",
            "--at",
            "20/11/2026 09:31",
            "--late",
        ],
    );
    assert_eq!(refused.status.code(), Some(2));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("lớn hơn số còn phải trả của khoản vay 620.000 ₫"),
        "{err}"
    );
    // The worker typed for her loan: her open loans are named.
    let worker = run(
        &db,
        &["repay", "--loan", "nguyen thi lan", "--amount", "100000"],
    );
    assert_eq!(worker.status.code(), Some(2));
    let err = String::from_utf8_lossy(&worker.stderr);
    assert!(
        err.contains("tìm thấy người lao động Nguyễn Thị Lan, khoản vay đang vay của người này: CEP-2026-000451"),
        "{err}"
    );
    // Dated before the loan was paid out: a clock or a typo, refused.
    let early = run(
        &db,
        &[
            "repay",
            "--loan",
            loan,
            "--amount",
            "100000",
            "--at",
            "01/01/2020 08:00",
            "--late",
        ],
    );
    assert_eq!(early.status.code(), Some(2));
    let err = String::from_utf8_lossy(&early.stderr);
    assert!(
        err.contains("Ngày ghi 01/01/2020 trước ngày giải ngân khoản vay"),
        "{err}"
    );
    // Weeks back without --late: a day and a month swapped, most likely.
    let back = (chrono::Utc::now() - chrono::Duration::days(30))
        .with_timezone(&sotay_core::domain::time::vn_offset())
        .format("%d/%m/%Y %H:%M")
        .to_string();
    let swapped = run(
        &db,
        &["repay", "--loan", loan, "--amount", "100000", "--at", &back],
    );
    assert_eq!(swapped.status.code(), Some(2));
    let err = String::from_utf8_lossy(&swapped.stderr);
    assert!(
        err.contains(&format!(
            "Thời điểm {back} là 30 ngày 0 giờ trước, hơn 7 ngày"
        )) && err.contains("--late"),
        "{err}"
    );
    // A year not in full is no time: said, with the day meant.
    let short = run(
        &db,
        &[
            "repay",
            "--loan",
            loan,
            "--amount",
            "100000",
            "--at",
            "20/11/26 09:30",
        ],
    );
    assert_eq!(short.status.code(), Some(2));
    let err = String::from_utf8_lossy(&short.stderr);
    assert!(
        err.contains("ghi năm đủ 4 chữ số, ví dụ 20/11/2026"),
        "{err}"
    );
    // Amounts as people type them; one that is no amount is said so in
    // Vietnamese, naming the field in Vietnamese.
    for (typed, said) in [
        ("-5.000", "Số tiền: \"-5.000\" là số âm"),
        ("1,5", "Số tiền: \"1,5\" có dấu phẩy"),
    ] {
        let refused = run(&db, &["repay", "--loan", loan, "--amount", typed]);
        assert_eq!(refused.status.code(), Some(2), "{typed}");
        let err = String::from_utf8_lossy(&refused.stderr);
        assert!(err.contains(said), "{typed}: {err}");
    }
    let unknown = run(&db, &["repay", "--loan", "KV-000048", "--amount", "100000"]);
    assert_eq!(unknown.status.code(), Some(2));
    let err = String::from_utf8_lossy(&unknown.stderr);
    assert!(err.contains("Không có khoản vay số \"KV-000048\""), "{err}");
    let out = stdout(&run(&db, &["search", "CEP-2026-000451"]));
    assert!(out.contains("Nguyễn Thị Lan"), "{out}");

    let out = stdout(&run(&db, &["receipt", "a7k2-000001"]));
    assert!(out.contains("còn phải trả 620.000 ₫ (dư nợ gốc"), "{out}");
    let out = stdout(&run(&db, &["outbox", "--state", "pending"]));
    assert_eq!(out.matches("thu nợ       chờ gửi").count(), 1, "{out}");
    assert!(!out.contains("cũ hơn"), "{out}");

    let out = stdout(&run(&db, &["summary", "--day", "20/11/2026"]));
    assert!(
        out.contains("thu 500.000 ₫ (1 phiếu) — tiền mặt phải nộp chi nhánh 500.000 ₫"),
        "{out}"
    );

    // A gift by the campaign's name and the worker's; a name that finds
    // two workers is refused, naming them.
    stdout(&run(
        &db,
        &[
            "gift",
            "--campaign",
            "tet sum vay",
            "--worker",
            "van lam",
            "--name",
            "Nguyễn Văn Lâm",
            "--at",
            "20/11/2026 10:00",
            "--late",
        ],
    ));
    let two = run(
        &db,
        &[
            "visit",
            "--worker",
            "nguyen",
            "--purpose",
            "other",
            "--outcome",
            "x",
        ],
    );
    assert_eq!(two.status.code(), Some(2));
    let err = String::from_utf8_lossy(&two.stderr);
    assert!(
        err.contains("trùng với nhiều người") && err.contains("Nguyễn Thị Lan"),
        "{err}"
    );
    // The repayment voided by its receipt number, as the officer has it.
    stdout(&run(
        &db,
        &["void", "A7K2-000001", "--reason", "Gõ nhầm số tiền"],
    ));
    let out = stdout(&run(&db, &["summary", "--day", "20/11/2026"]));
    assert!(out.contains("thu 0 ₫ (0 phiếu)"), "{out}");
    assert!(out.contains("1 suất quà"), "{out}");
    let unknown = run(&db, &["void", "A7K2-000099", "--reason", "x"]);
    assert_eq!(unknown.status.code(), Some(2));
    let err = String::from_utf8_lossy(&unknown.stderr);
    assert!(err.contains("Không có bản ghi \"A7K2-000099\""), "{err}");

    // The outbox shows the newest records: the one shown is the last recorded.
    let all = stdout(&run(&db, &["outbox"]));
    let newest = all
        .lines()
        .rfind(|l| l.starts_with('#'))
        .unwrap()
        .to_string();
    let out = stdout(&run(&db, &["outbox", "--limit", "1"]));
    assert!(out.contains("hiện 1 bản ghi mới nhất; còn"), "{out}");
    assert!(out.contains(&newest), "{out}");
}
