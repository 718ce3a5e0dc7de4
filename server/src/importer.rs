//! Running an import: parse the files, then apply them in one transaction.
//! Used by the API, the CLI and the demo seed alike.

use sha2::{Digest, Sha256};

use crate::db::{AuditEntry, Db, DbError, ImportMeta, ImportReport, PayMethod};
use crate::error::AppError;
use crate::import::csv::{self, ImportKind};
use crate::import::rows::{ImportSet, RowError};

/// One CSV file to import.
#[derive(Debug, Clone)]
pub struct ImportFile {
    pub kind: ImportKind,
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Parses every file: the rows that read, and the errors of all files
/// together.
pub fn parse_files(
    files: &[ImportFile],
    on_row: &mut dyn FnMut(u64),
) -> (ImportSet, Vec<RowError>) {
    let mut set = ImportSet::default();
    let mut errors = Vec::new();
    for f in files {
        if let Err(mut e) = csv::parse_into(&mut set, f.kind, &f.name, f.bytes.as_slice(), on_row) {
            errors.append(&mut e);
        }
    }
    (set, errors)
}

fn sha256_of(files: &[ImportFile]) -> String {
    let mut h = Sha256::new();
    for f in files {
        h.update(f.name.as_bytes());
        h.update([0]);
        h.update(&f.bytes);
    }
    hex::encode(h.finalize())
}

/// Parses and applies `files`; nothing is written unless every row is good.
/// A refused import is audited too (`import_refused`, with its files and
/// its first errors), with who tried it.
pub async fn import_files(
    db: &Db,
    files: &[ImportFile],
    source: &'static str,
    user_id: Option<i64>,
    audit: AuditEntry,
    on_row: &mut (dyn FnMut(u64) + Send),
) -> Result<ImportReport, AppError> {
    let outcome = import_checked(db, files, source, user_id, audit.clone(), on_row).await;
    if let Err(e) = &outcome {
        if e.code == "import_rejected" {
            let refused = AuditEntry {
                action: "import_refused",
                detail: serde_json::json!({
                    "files": files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
                    "errors": e.errors.len(),
                    "first": e.errors.iter().take(5).map(|r| serde_json::json!({
                        "file": r.file, "line": r.line, "column": r.column, "message": masked(&r.message_vi),
                    })).collect::<Vec<_>>(),
                }),
                ..audit
            };
            if let Err(err) = db.audit(refused).await {
                tracing::warn!(error = %err, "could not audit a refused import");
            }
        }
    }
    outcome
}

/// A message with the citizen ID and phone numbers it quotes (runs of 9
/// digits or more) masked but for their last 4 digits: the audit log
/// keeps it for good, and needs no one's identity number.
fn masked(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if digits.len() >= 9 {
            out.extend(std::iter::repeat_n('•', digits.len() - 4));
            out.push_str(&digits[digits.len() - 4..]);
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for ch in message.chars() {
        if ch.is_ascii_digit() {
            digits.push(ch);
        } else {
            flush(&mut digits, &mut out);
            out.push(ch);
        }
    }
    flush(&mut digits, &mut out);
    out
}

async fn import_checked(
    db: &Db,
    files: &[ImportFile],
    source: &'static str,
    user_id: Option<i64>,
    audit: AuditEntry,
    on_row: &mut (dyn FnMut(u64) + Send),
) -> Result<ImportReport, AppError> {
    let (set, mut errors) = parse_files(files, on_row);
    if !errors.is_empty() {
        // The rows that read are still checked against the database (and
        // nothing is written), so that one answer lists every error: a bad
        // role beside an unknown branch, a bad date beside an unknown worker.
        // Not when a file could not be read to its end: what refers to its
        // rows would all be "not found".
        if !set.incomplete {
            // New users' passwords are not hashed for a check.
            let mut dry = set.clone();
            for u in &mut dry.users {
                u.initial_password = None;
            }
            // A row already refused (a code or CCCD twice in the file) is
            // left out of the check: its error is said, and the database
            // would only refuse it again.
            let refused: std::collections::HashSet<(String, u64)> =
                errors.iter().map(|e| (e.file.clone(), e.line)).collect();
            let kept =
                |o: &crate::import::rows::Origin| !refused.contains(&(o.file.clone(), o.line));
            dry.branches.retain(|r| kept(&r.origin));
            dry.users.retain(|r| kept(&r.origin));
            dry.boarding_houses.retain(|r| kept(&r.origin));
            dry.workers.retain(|r| kept(&r.origin));
            dry.loan_products.retain(|r| kept(&r.origin));
            dry.loans.retain(|r| kept(&r.origin));
            dry.campaigns.retain(|r| kept(&r.origin));
            dry.allocations.retain(|r| kept(&r.origin));
            match db.import_errors(&dry).await {
                Ok(more) => errors.extend(more),
                Err(e) => {
                    tracing::warn!(error = %e, "could not check a refused import against the database")
                }
            }
        }
        // Cut to the cap keeping the rows that did not read (found first),
        // then ordered by file and line; what was left out, by each stage
        // and by the cap here, is said last, in one line with its number.
        let (notices, mut errors): (Vec<_>, Vec<_>) =
            errors.into_iter().partition(|e| e.unlisted > 0);
        let cap = crate::import::csv::MAX_ERRORS;
        let more =
            errors.len().saturating_sub(cap) + notices.iter().map(|n| n.unlisted).sum::<usize>();
        errors.truncate(cap);
        errors.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        if more > 0 {
            let last = errors
                .last()
                .map(|e| (e.file.clone(), e.line))
                .unwrap_or_default();
            errors.push(crate::import::rows::RowError {
                file: last.0,
                line: last.1,
                column: String::new(),
                message_vi: format!("Quá nhiều lỗi: còn {more} lỗi nữa không được liệt kê; hãy sửa các lỗi trên rồi nhập lại để xem tiếp"),
                message_en: format!("too many errors: {more} more are not listed; fix the errors above and import again to see them"),
                refers_to: None,
                unlisted: more,
            });
        }
        return Err(AppError::import_rejected(errors));
    }
    // Files with their header and no row under it: most likely the wrong
    // sheet or an empty template, said rather than answered "0 created".
    // (One such file beside others with rows is taken: nothing of its kind
    // to import.)
    if set.row_count() == 0 && !files.is_empty() {
        let errors = files
            .iter()
            .map(|f| crate::import::rows::RowError {
                file: f.name.clone(),
                line: 2,
                column: String::new(),
                message_vi: format!(
                    "Tệp {} chỉ có dòng tiêu đề, không có dòng dữ liệu nào: không có gì để nhập; hãy kiểm tra đã lưu đúng trang tính",
                    f.name
                ),
                message_en: format!(
                    "{} has its header row and no data rows: nothing to import; check that the right sheet was saved",
                    f.name
                ),
                refers_to: None,
                unlisted: 0,
            })
            .collect();
        return Err(AppError::import_rejected(errors));
    }
    let meta = ImportMeta {
        user_id,
        source,
        files: files.iter().map(|f| f.name.clone()).collect(),
        sha256: sha256_of(files),
        rows: set.row_count() as i64,
    };
    Ok(db.apply_import(&set, &meta, audit).await?)
}

/// Seeds the demo fund once; returns the report when this call seeded it.
///
/// Only into an empty database (no branch, account or import), or one
/// whose own marker (`demo_seeding`, set before anything else) says a
/// demo seeding started there and was cut short: a fund's own database
/// gets no demo accounts (their password is in the README) nor demo money
/// on its books, even when its branches and accounts kept the demo's codes
/// and names (a real fund built from `demo-export`'s files).
pub async fn seed_demo(db: &Db, today: chrono::NaiveDate) -> Result<Option<ImportReport>, DbError> {
    if db.setting("demo_seeded").await?.is_some() {
        return Ok(None);
    }
    let set = crate::demo::demo_fund(today);
    let started = db.setting("demo_seeding").await?.is_some();
    // A seeding cut short left only the demo's own branches and accounts;
    // anything else is a fund's.
    let branches = db
        .branches(None)
        .await?
        .into_iter()
        .filter(|b| !started || !set.branches.iter().any(|d| d.code == b.code))
        .count();
    let accounts = db
        .users(None)
        .await?
        .into_iter()
        .filter(|u| !started || !set.users.iter().any(|d| d.username == u.username))
        .count();
    let imports = if started {
        0
    } else {
        db.count("imports").await?
    };
    if branches + accounts > 0 || imports > 0 {
        return Err(DbError::Invalid(format!(
            "cơ sở dữ liệu này đã có một quỹ ({branches} chi nhánh, {accounts} tài khoản, {imports} lần nhập): --demo chỉ tạo quỹ mẫu trong một cơ sở dữ liệu trống; \
             bỏ --demo để chạy quỹ này, hoặc đặt DATABASE_URL tới một tệp mới để thử quỹ mẫu\n\
             this database holds a fund already ({branches} branches, {accounts} accounts, {imports} imports): --demo seeds the demo fund into an empty database only; \
             leave --demo out to serve this fund, or set DATABASE_URL to a new file to try the demo"
        )));
    }
    // Said first: a seeding stopped half-way is finished by the next
    // `serve --demo`, and only then.
    db.set_setting_once("demo_seeding", &today.to_string())
        .await?;
    let meta = ImportMeta {
        user_id: None,
        source: "demo",
        files: vec!["demo".into()],
        sha256: String::new(),
        rows: set.row_count() as i64,
    };
    let audit = AuditEntry {
        actor_user_id: None,
        actor_username: "system".into(),
        action: "import",
        object_type: "import",
        object_id: "demo".into(),
        device_id: None,
        ip: None,
        detail: serde_json::Value::Null,
    };
    let report = db.apply_import(&set, &meta, audit).await?;
    // The branches hold what their campaigns allocate them: packages in
    // stock, grant cash in the vault.
    let admin = set
        .users
        .iter()
        .find(|u| u.role == crate::import::rows::Role::Admin)
        .ok_or_else(|| DbError::Invalid("the demo fund has no administrator".into()))?;
    receive_allocations(db, &admin.username, today, "LĐLĐ thành phố (dữ liệu mẫu)").await?;
    // And lending capital in each vault and bank account, to pay new loans
    // out of.
    let who = admin_reviewer(db, &admin.username).await?;
    for b in db.branches(None).await? {
        for (kind, amount, method) in [
            ("capital_receipt", DEMO_CAPITAL, PayMethod::Cash),
            ("capital_transfer", DEMO_BANK_CAPITAL, PayMethod::Transfer),
        ] {
            db.capital_receive(
                &who,
                b.id,
                crate::db::stable_uid(kind, &b.code),
                amount,
                today,
                "Quỹ chuyển vốn cho vay (dữ liệu mẫu)",
                method,
            )
            .await?;
        }
    }
    db.set_setting_once("demo_seeded", &today.to_string())
        .await?;
    Ok(Some(report))
}

/// Lending capital the demo fund sends each branch's vault in cash.
const DEMO_CAPITAL: i64 = 500_000_000;
/// And each branch's bank account by transfer.
const DEMO_BANK_CAPITAL: i64 = 1_000_000_000;

/// The administrator `admin` acting from the command line.
async fn admin_reviewer(db: &Db, admin: &str) -> Result<crate::db::Reviewer, DbError> {
    let user = db
        .user_auth_by_username(admin)
        .await?
        .filter(|u| u.role == "admin")
        .ok_or_else(|| DbError::Invalid(format!("{admin} is not an administrator")))?;
    Ok(crate::db::Reviewer {
        user_id: user.id,
        username: user.username,
        is_admin: true,
        branch_id: None,
        device_id: None,
        ip: None,
    })
}

/// Receives, for every campaign's allocation to a branch, that many gift
/// packages (or grants) into the branch, recorded by the administrator
/// `admin`: a new fund's stock to hand out. Returns the receipts made.
pub async fn receive_allocations(
    db: &Db,
    admin: &str,
    received_on: chrono::NaiveDate,
    source: &str,
) -> Result<usize, DbError> {
    let who = admin_reviewer(db, admin).await?;
    let mut made = 0;
    for q in db.quotas().await? {
        let (Some(branch), None) = (q.branch_id, q.officer_id) else {
            continue;
        };
        if q.quota <= 0 {
            continue;
        }
        let client_id =
            crate::db::stable_uid("campaign_receipt", &format!("{}:{branch}", q.campaign_id));
        db.campaign_receive(
            &who,
            q.campaign_id,
            branch,
            client_id,
            q.quota,
            received_on,
            source,
        )
        .await?;
        made += 1;
    }
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::masked;

    #[test]
    fn identity_numbers_are_masked_in_the_audit_log() {
        assert_eq!(
            masked("Số CCCD 079190012345 đã thuộc về người lao động mã \"NLD-00001\""),
            "Số CCCD ••••••••2345 đã thuộc về người lao động mã \"NLD-00001\""
        );
        assert_eq!(
            masked("điện thoại 0912345678, dòng 12, 1.500.000 ₫"),
            "điện thoại ••••••5678, dòng 12, 1.500.000 ₫"
        );
    }
}
