//! Running the server for years: copies of the embedded database taken
//! while it serves (`sotay-server backup`), and the checks that the stored
//! books agree with themselves (`sotay-server check`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::db::{Db, DbError};

/// One check of [`check`]: what it verifies, in Vietnamese and English,
/// and what it found wrong (empty: it holds).
#[derive(Debug, Clone)]
pub struct Finding {
    pub vi: &'static str,
    pub en: &'static str,
    /// What disagrees, at most [`SHOWN`] items, and how many in all.
    pub problems: Vec<String>,
    pub total: usize,
}

impl Finding {
    pub fn holds(&self) -> bool {
        self.total == 0
    }
}

/// Problems listed per check, at most.
pub const SHOWN: usize = 10;

/// A check's result: each item found wrong said as `say` puts it (both
/// languages, for the person running the check).
fn finding<T>(
    vi: &'static str,
    en: &'static str,
    found: Vec<T>,
    say: impl Fn(&T) -> String,
) -> Finding {
    Finding {
        vi,
        en,
        total: found.len(),
        problems: found.iter().take(SHOWN).map(say).collect(),
    }
}

fn dong(amount: i64) -> String {
    sotay_core::domain::money::format_vnd(amount)
}

/// Everything the database can say about its own consistency: SQLite's
/// storage and references (PostgreSQL checks those itself), every journal
/// entry balanced, the kept account balances equal to the journal lines,
/// each loan's principal in the ledger equal to what its installments
/// still owe and standing on its borrower's branch, each record's columns
/// equal to the body the phone sent, and the undecided repayments equal to
/// their definition.
pub async fn check(db: &Db) -> Result<Vec<Finding>, DbError> {
    let mut out = Vec::new();
    if let Db::Sqlite(pool) = db {
        let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(pool)
            .await?;
        let integrity: Vec<String> = integrity.into_iter().filter(|l| l != "ok").collect();
        out.push(finding(
            "Tệp cơ sở dữ liệu nguyên vẹn (PRAGMA integrity_check)",
            "the database file is intact (PRAGMA integrity_check)",
            integrity,
            String::clone,
        ));
        let orphans: Vec<(String, Option<i64>, String)> =
            sqlx::query_as("SELECT \"table\", rowid, parent FROM pragma_foreign_key_check")
                .fetch_all(pool)
                .await?;
        out.push(finding(
            "Mọi tham chiếu trỏ tới dòng có thật (PRAGMA foreign_key_check)",
            "every reference points to a row that exists (PRAGMA foreign_key_check)",
            orphans,
            |(table, row, parent)| {
                let row = row.map_or("?".to_string(), |r| r.to_string());
                format!("bảng {table}, dòng {row}: trỏ tới {parent} không có / table {table}, row {row}: refers to a missing {parent} row")
            },
        ));
    }
    out.push(finding(
        "Mỗi bút toán cân Nợ/Có",
        "every journal entry balances",
        db.ledger_unbalanced().await?,
        |id| format!("bút toán số {id} / journal entry {id}"),
    ));
    out.push(finding(
        "Số dư tài khoản lưu sẵn bằng tổng các dòng bút toán",
        "the kept account balances equal their journal lines",
        db.ledger_balance_drift().await?,
        |(account, branch)| {
            format!("tài khoản {account}, chi nhánh {branch} / account {account}, branch {branch}")
        },
    ));
    out.push(finding(
        "Dư nợ gốc của mỗi khoản vay trên sổ cái bằng lịch trả nợ",
        "each loan's principal in the ledger equals its installments",
        db.loan_principal_drift().await?,
        |(loan, ledger, owed)| {
            let (ledger, owed) = (dong(*ledger), dong(*owed));
            format!("khoản vay {loan}: sổ cái {ledger}, lịch trả nợ {owed} / loan {loan}: ledger {ledger}, installments {owed}")
        },
    ));
    out.push(finding(
        "Dư nợ gốc của mỗi khoản vay nằm trên sổ chi nhánh của người vay",
        "each loan's principal stands on its borrower's branch's books",
        db.loan_branch_drift().await?,
        |(loan, branch, net)| {
            let net = dong(*net);
            format!("khoản vay {loan}: {net} nằm trên sổ chi nhánh {branch} / loan {loan}: {net} on the books of branch {branch}")
        },
    ));
    out.push(finding(
        "Mỗi bản ghi lưu đúng như điện thoại đã gửi (nội dung, mã băm, số tiền, số phiếu)",
        "each record is stored as the phone sent it (its body, hash, amount, receipt number)",
        db.record_body_drift().await?,
        |(id, column)| {
            format!("bản ghi số {id} (sync_records): {column} khác với nội dung đã gửi / record {id} (sync_records): {column} disagrees with what was sent")
        },
    ));
    out.push(finding(
        "Các khoản thu chờ duyệt khớp với bản ghi và quyết định duyệt",
        "the undecided repayments agree with the records and the reviews",
        db.undecided_drift().await?,
        |id| format!("bản ghi số {id} (sync_records) / record {id} (sync_records)"),
    ));
    Ok(out)
}

/// What [`backup`] wrote.
#[derive(Debug, Clone)]
pub struct Backup {
    pub path: PathBuf,
    pub bytes: u64,
    pub millis: u128,
}

/// Why a backup was not made, in Vietnamese and English.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{en}")]
    Refused { vi: String, en: String },
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl BackupError {
    fn refused(vi: String, en: String) -> Self {
        BackupError::Refused { vi, en }
    }

    /// The reason in Vietnamese, then in English.
    pub fn message(&self) -> String {
        match self {
            BackupError::Refused { vi, en } => format!("{vi}\n{en}"),
            other => other.to_string(),
        }
    }
}

/// Copies the SQLite database into a new file `to` while the server may be
/// serving: one consistent snapshot (`VACUUM INTO`, a read transaction, so
/// uploads go on meanwhile), written beside `to` first and checked
/// (`PRAGMA integrity_check`) before it takes its name, readable by its
/// owner only. An existing file is never overwritten. PostgreSQL is backed
/// up with its own tools.
pub async fn backup(db: &Db, to: &Path) -> Result<Backup, BackupError> {
    let Db::Sqlite(pool) = db else {
        return Err(BackupError::refused(
            "Lệnh backup sao chép cơ sở dữ liệu SQLite nhúng; với PostgreSQL hãy dùng pg_dump \
             (ví dụ: pg_dump --format=custom --file=sotay.dump \"$DATABASE_URL\") và pg_restore"
                .into(),
            "backup copies the embedded SQLite database; for PostgreSQL use pg_dump \
             (e.g. pg_dump --format=custom --file=sotay.dump \"$DATABASE_URL\") and pg_restore"
                .into(),
        ));
    };
    if to.is_dir() {
        return Err(BackupError::refused(
            format!(
                "{} là một thư mục; hãy ghi tên tệp sao lưu trong đó, ví dụ {}",
                to.display(),
                to.join("sotay.db").display()
            ),
            format!(
                "{} is a folder; name the backup file in it, e.g. {}",
                to.display(),
                to.join("sotay.db").display()
            ),
        ));
    }
    if to.exists() {
        return Err(BackupError::refused(
            format!(
                "Đã có tệp {}; hãy chọn tên khác (bản sao lưu không ghi đè)",
                to.display()
            ),
            format!(
                "{} already exists; choose another name (a backup never overwrites)",
                to.display()
            ),
        ));
    }
    if let Some(dir) = to
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.is_dir())
    {
        return Err(BackupError::refused(
            format!(
                "Không có thư mục {}; hãy tạo nó trước (ví dụ mkdir -p {})",
                dir.display(),
                dir.display()
            ),
            format!(
                "there is no folder {}; create it first (e.g. mkdir -p {})",
                dir.display(),
                dir.display()
            ),
        ));
    }
    let started = Instant::now();
    let failed = |e: std::io::Error| write_failed(to, e);
    let mut partial = to.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    if partial.exists() {
        // Left by a backup that did not finish: never a backup itself.
        std::fs::remove_file(&partial).map_err(failed)?;
    }
    let target = partial
        .to_str()
        .ok_or_else(|| {
            BackupError::refused(
                format!("Tên tệp {} không phải UTF-8", to.display()),
                format!("the file name {} is not UTF-8", to.display()),
            )
        })?
        .to_string();
    // Created empty and its owner's only before the copy goes in: the
    // workers' ID numbers are never readable by others, even for a moment.
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&partial)
            .map_err(failed)?;
    }
    let copied = async {
        sqlx::query("VACUUM INTO ?")
            .bind(&target)
            .execute(pool)
            .await
            .map_err(|e| match DbError::from(e) {
                e if e.is_storage_full() => disk_full(to),
                e => BackupError::Db(e),
            })?;
        verify_copy(&partial).await?;
        std::fs::File::open(&partial)
            .and_then(|f| f.sync_all())
            .map_err(failed)?;
        std::fs::rename(&partial, to).map_err(failed)?;
        Ok::<_, BackupError>(())
    }
    .await;
    if let Err(e) = copied {
        // A copy cut short (a full disk) is never left to be taken for one.
        let _ = std::fs::remove_file(&partial);
        // Nor SQLite's journal of the copy, which a failed VACUUM INTO
        // leaves beside it.
        let mut journal = partial.as_os_str().to_owned();
        journal.push("-journal");
        let _ = std::fs::remove_file(PathBuf::from(journal));
        return Err(e);
    }
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        // The new name is durable only once the folder is.
        std::fs::File::open(dir)
            .and_then(|f| f.sync_all())
            .map_err(failed)?;
    }
    Ok(Backup {
        path: to.to_path_buf(),
        bytes: std::fs::metadata(to)?.len(),
        millis: started.elapsed().as_millis(),
    })
}

/// The folder a backup named `to` is written into, to name it.
fn folder_of(to: &Path) -> String {
    let dir = to
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::path::absolute(dir)
        .unwrap_or_else(|_| dir.to_path_buf())
        .display()
        .to_string()
}

/// The disk a backup named `to` goes onto is full: no copy was kept.
fn disk_full(to: &Path) -> BackupError {
    let dir = folder_of(to);
    BackupError::refused(
        format!(
            "Ổ đĩa chứa thư mục {dir} đã đầy: chưa có bản sao lưu nào được tạo (bản chép dở đã xoá); hãy giải phóng chỗ trống, hoặc sao lưu vào ổ khác"
        ),
        format!(
            "the disk holding {dir} is full: no backup was made (the unfinished copy was removed); free space, or back up onto another disk"
        ),
    )
}

/// Writing the backup named `to` (or its unfinished copy beside it)
/// failed: said with the file and its folder, in both languages.
fn write_failed(to: &Path, e: std::io::Error) -> BackupError {
    use std::io::ErrorKind;
    let dir = folder_of(to);
    let file = to.display();
    match e.kind() {
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => disk_full(to),
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => BackupError::refused(
            format!(
                "Không được phép ghi bản sao lưu {file} vào thư mục {dir} ({e}): tài khoản chạy sotay-server backup phải ghi được vào thư mục đó; hãy chọn thư mục khác hoặc sửa quyền của nó"
            ),
            format!(
                "not allowed to write the backup {file} into the folder {dir} ({e}): the account running sotay-server backup must be able to write into that folder; choose another folder or change its permissions"
            ),
        ),
        _ => BackupError::refused(
            format!("Không ghi được bản sao lưu {file} vào thư mục {dir} ({e})"),
            format!("could not write the backup {file} into the folder {dir} ({e})"),
        ),
    }
}

/// Opens the copy read-only and asks SQLite whether it is intact.
async fn verify_copy(path: &Path) -> Result<(), BackupError> {
    use sqlx::sqlite::SqliteConnectOptions;
    use sqlx::{ConnectOptions, Connection};
    let mut c = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await
        .map_err(DbError::from)?;
    let lines: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut c)
        .await
        .map_err(DbError::from)?;
    c.close().await.map_err(DbError::from)?;
    if lines != ["ok"] {
        return Err(BackupError::refused(
            format!("Bản sao không nguyên vẹn, đã bỏ: {}", lines.join("; ")),
            format!(
                "the copy is not intact and was discarded: {}",
                lines.join("; ")
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A backup that cannot be written names the file and its folder and
    /// says why, in Vietnamese and English; a full disk is said as such.
    #[test]
    fn a_backup_that_cannot_be_written_says_where_and_why() {
        let to = Path::new("/backups/sotay-2026-12-07.db");
        let denied = write_failed(to, std::io::ErrorKind::PermissionDenied.into()).message();
        assert!(
            denied.contains("Không được phép ghi bản sao lưu /backups/sotay-2026-12-07.db vào thư mục /backups")
                && denied.contains("not allowed to write the backup /backups/sotay-2026-12-07.db into the folder /backups"),
            "{denied}"
        );
        let full = write_failed(to, std::io::ErrorKind::StorageFull.into()).message();
        assert!(
            full.contains("Ổ đĩa chứa thư mục /backups đã đầy")
                && full.contains("the disk holding /backups is full: no backup was made"),
            "{full}"
        );
    }
}
