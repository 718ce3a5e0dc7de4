//! The field book encrypted at rest (SQLCipher), with the `sqlcipher`
//! feature: nothing of a worker or a repayment can be read from the files on
//! the phone, a wrong key is refused and changes nothing, and a book written
//! before without a key is encrypted on the way in, with everything in it.
//!
//! `cargo test -p sotay-core --features sqlcipher --test encrypted`
//! (`scripts/test.sh` runs it).

#![cfg(feature = "sqlcipher")]

mod common;

use std::path::Path;

use common::*;
use rust_decimal::Decimal;
use sotay_core::{FieldBook, FieldBookError, OutboxFilter, RepaymentInput};

const KEY: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/// Every file of the book (the database, its write-ahead log), as bytes.
fn files(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        all.extend(std::fs::read(e.unwrap().path()).unwrap());
    }
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn pay(book: &FieldBook, amount: i64) -> String {
    book.record_repayment(RepaymentInput {
        loan_id: id(LAN_LOAN),
        amount: Decimal::from(amount),
        recorded_at: at(9, 30),
    })
    .unwrap()
    .receipt_no
}

/// The code of the storage error an open was refused with.
fn refused(opened: Result<std::sync::Arc<FieldBook>, FieldBookError>) -> String {
    match opened {
        Err(FieldBookError::Storage { code, .. }) => code,
        Err(other) => panic!("a storage error, not {other:?}"),
        Ok(_) => panic!("opened"),
    }
}

#[test]
fn nothing_can_be_read_from_the_files_and_a_wrong_key_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sotay.db").display().to_string();
    {
        let book = FieldBook::open_encrypted(path.clone(), device(), KEY.into()).unwrap();
        book.apply_portfolio_json(PORTFOLIO.to_string()).unwrap();
        assert_eq!(pay(&book, 500_000), "A7K2-000001");
        // While it is open (the write-ahead log holds the latest pages) and
        // after it is closed.
        let bytes = files(dir.path());
        assert!(!contains(&bytes, "SQLite format 3"));
        for secret in [
            "079190012345",
            "Nguyễn Thị Lan",
            "A7K2-000001",
            "CEP-2026-000451",
        ] {
            assert!(
                !contains(&bytes, secret),
                "{secret} is readable in the files"
            );
        }
    }
    let bytes = files(dir.path());
    assert!(!contains(&bytes, "079190012345") && !contains(&bytes, "A7K2-000001"));
    // The plain test: without any key the file is not even a database.
    assert!(FieldBook::open(path.clone(), device()).is_err());

    let wrong = "0".repeat(64);
    let before = std::fs::read(&path).unwrap();
    assert_eq!(
        refused(FieldBook::open_encrypted(path.clone(), device(), wrong)),
        "wrong_key"
    );
    assert_eq!(
        refused(FieldBook::open_encrypted(
            path.clone(),
            device(),
            "một câu mật khẩu".into()
        )),
        "wrong_key"
    );
    assert_eq!(
        refused(FieldBook::open_encrypted(
            path.clone(),
            device(),
            "  ".into()
        )),
        "key_missing"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "a wrong key wrote nothing"
    );

    let book = FieldBook::open_encrypted(path, device(), KEY.into()).unwrap();
    assert_eq!(book.search("lan".into(), 5).unwrap().len(), 1);
    assert_eq!(pay(&book, 100_000), "A7K2-000002");
    assert_eq!(book.outbox(OutboxFilter::Pending, 10).unwrap().len(), 2);
}

#[test]
fn a_book_written_without_a_key_is_encrypted_with_everything_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sotay.db").display().to_string();
    {
        let book = FieldBook::open(path.clone(), device()).unwrap();
        book.apply_portfolio_json(PORTFOLIO.to_string()).unwrap();
        pay(&book, 500_000);
    }
    assert!(contains(&std::fs::read(&path).unwrap(), "SQLite format 3"));
    let passphrase = "sổ tay của cán bộ Minh";
    {
        let book = FieldBook::open_encrypted(path.clone(), device(), passphrase.into()).unwrap();
        let pending = book.outbox(OutboxFilter::Pending, 10).unwrap();
        assert_eq!(pending.len(), 1, "the unsynced repayment came along");
        assert_eq!(book.search("lan".into(), 5).unwrap().len(), 1);
        assert_eq!(pay(&book, 100_000), "A7K2-000002", "receipt numbers go on");
    }
    let bytes = files(dir.path());
    assert!(!contains(&bytes, "SQLite format 3"));
    assert!(!contains(&bytes, "079190012345"));
    assert!(
        !dir.path().join("sotay.db.encrypting").exists(),
        "no copy is left behind"
    );
    assert_eq!(
        refused(FieldBook::open_encrypted(
            path.clone(),
            device(),
            KEY.into()
        )),
        "wrong_key"
    );
    let book = FieldBook::open_encrypted(path, device(), passphrase.into()).unwrap();
    assert_eq!(book.outbox(OutboxFilter::Pending, 10).unwrap().len(), 2);
}

/// What a failed call was refused with: the error's code.
fn code_of(result: Result<(), FieldBookError>) -> String {
    match result {
        Err(FieldBookError::Storage { code, .. } | FieldBookError::Conflict { code, .. }) => code,
        Err(other) => panic!("a storage error or a conflict, not {other:?}"),
        Ok(()) => panic!("done"),
    }
}

#[test]
fn the_key_is_changed_in_place_and_only_the_new_key_opens_the_book() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sotay.db").display().to_string();
    let new_key = "c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2";
    {
        let book = FieldBook::open_encrypted(path.clone(), device(), KEY.into()).unwrap();
        book.apply_portfolio_json(PORTFOLIO.to_string()).unwrap();
        pay(&book, 500_000);

        // Not while the book is open elsewhere: that connection would go on
        // writing to the replaced file.
        let other = FieldBook::open_encrypted(path.clone(), device(), KEY.into()).unwrap();
        assert_eq!(code_of(book.change_key(new_key.into())), "book_in_use");
        assert_eq!(pay(&other, 1_000), "A7K2-000002", "both still work");
        drop(other);
        assert_eq!(code_of(book.change_key(" ".into())), "key_missing");

        book.change_key(new_key.into()).unwrap();
        // The same book goes on, under the new key.
        assert_eq!(pay(&book, 100_000), "A7K2-000003");
        assert_eq!(book.outbox(OutboxFilter::Pending, 10).unwrap().len(), 3);
    }
    let bytes = files(dir.path());
    assert!(!contains(&bytes, "SQLite format 3") && !contains(&bytes, "A7K2-000003"));
    assert!(
        !dir.path().join("sotay.db.rekeying").exists(),
        "no copy is left behind"
    );
    assert_eq!(
        refused(FieldBook::open_encrypted(
            path.clone(),
            device(),
            KEY.into()
        )),
        "wrong_key",
        "the old key no longer opens it"
    );
    let book = FieldBook::open_encrypted(path.clone(), device(), new_key.into()).unwrap();
    assert_eq!(book.outbox(OutboxFilter::Pending, 10).unwrap().len(), 3);
    assert_eq!(book.search("lan".into(), 5).unwrap().len(), 1);
    drop(book);

    // A book written without a key gets one the same way.
    let plain_path = dir.path().join("plain.db").display().to_string();
    let book = FieldBook::open(plain_path.clone(), device()).unwrap();
    book.apply_portfolio_json(PORTFOLIO.to_string()).unwrap();
    pay(&book, 200_000);
    book.change_key(KEY.into()).unwrap();
    pay(&book, 10_000);
    drop(book);
    assert!(!contains(
        &std::fs::read(&plain_path).unwrap(),
        "SQLite format 3"
    ));
    let book = FieldBook::open_encrypted(plain_path, device(), KEY.into()).unwrap();
    assert_eq!(book.outbox(OutboxFilter::Pending, 10).unwrap().len(), 2);
}
