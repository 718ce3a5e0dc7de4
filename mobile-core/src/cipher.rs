//! The field book encrypted at rest with SQLCipher: the phone holds workers'
//! ID numbers, phone numbers and the cash an officer collected. The phone
//! builds enable the `sqlcipher` feature (`sqlcipher-vendored-openssl` for
//! Android, where no system OpenSSL is offered); a build without it refuses
//! a key rather than writing the book in the clear.

use std::sync::{Mutex, MutexGuard};

use crate::error::Error;

/// Opening a field book and changing its key happen one at a time in this
/// process (an app may open the book twice, say for a background sync): a
/// book is never opened while its file is being replaced, and the second
/// of two opens finds the first one's encryption done.
static BOOK_FILES: Mutex<()> = Mutex::new(());

/// Held by whoever opens a field book or changes its key.
pub(crate) fn exclusive() -> MutexGuard<'static, ()> {
    BOOK_FILES.lock().unwrap_or_else(|p| p.into_inner())
}

fn unavailable() -> Error {
    Error::Key {
        code: "encryption_unavailable",
        message_vi: "Bản ứng dụng này không có mã hoá dữ liệu (SQLCipher); không mở sổ tay không mã hoá khi đã yêu cầu khoá".into(),
        message_en: "this build has no database encryption (SQLCipher); the book is not opened unencrypted when a key was given".into(),
    }
}

#[cfg(not(feature = "sqlcipher"))]
pub fn open(_path: &std::path::Path, _key: &str) -> crate::error::Result<rusqlite::Connection> {
    Err(unavailable())
}

#[cfg(not(feature = "sqlcipher"))]
pub fn change_key(
    _conn: &mut rusqlite::Connection,
    _path: &std::path::Path,
    _new_key: &str,
) -> crate::error::Result<()> {
    Err(unavailable())
}

#[cfg(feature = "sqlcipher")]
pub use with_cipher::{change_key, open};

#[cfg(feature = "sqlcipher")]
mod with_cipher {
    use std::fs;
    use std::io::Read;
    use std::path::{Path, PathBuf};

    use rusqlite::{params, Connection, DatabaseName, ErrorCode};

    use super::unavailable;

    fn key_missing() -> Error {
        Error::Key {
            code: "key_missing",
            message_vi: "Thiếu khoá mã hoá của sổ tay".into(),
            message_en: "the field book's encryption key is empty".into(),
        }
    }
    use crate::error::{Error, Result};

    /// What every unencrypted SQLite file starts with.
    const PLAIN_HEADER: &[u8; 16] = b"SQLite format 3\0";

    /// Opens `path` under `key`, encrypting a book written before without
    /// one. The key is checked before anything else is read or written. The
    /// caller holds [`super::exclusive`].
    pub fn open(path: &Path, key: &str) -> Result<Connection> {
        if key.trim().is_empty() {
            return Err(key_missing());
        }
        if is_plaintext(path)? {
            encrypt_in_place(path, key)?;
        }
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "key", literal(key))?;
        let version: Option<String> = conn
            .query_row("PRAGMA cipher_version", [], |r| r.get(0))
            .ok();
        if version.is_none() {
            return Err(unavailable());
        }
        // A wrong key reads noise: the first read says so.
        match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)) {
            Ok(_) => Ok(conn),
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == ErrorCode::NotADatabase => Err(Error::Key {
                code: "wrong_key",
                message_vi: "Khoá mã hoá không mở được sổ tay trên máy này; dữ liệu không bị thay đổi".into(),
                message_en: "the encryption key does not open the field book on this device; nothing was changed".into(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// The key as SQLCipher reads it: 64 hex digits are a raw 256-bit key
    /// (no key derivation), anything else a passphrase.
    fn literal(key: &str) -> String {
        if key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()) {
            format!("x'{key}'")
        } else {
            key.to_string()
        }
    }

    fn is_plaintext(path: &Path) -> Result<bool> {
        let mut head = [0u8; 16];
        match fs::File::open(path) {
            Ok(mut f) => Ok(f.read_exact(&mut head).is_ok() && &head == PLAIN_HEADER),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::Corrupt(format!(
                "cannot read {}: {e}",
                path.display()
            ))),
        }
    }

    fn sibling(path: &Path, suffix: &str) -> PathBuf {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    }

    /// Encrypts an unencrypted book: a full copy under the key next to it,
    /// synced, then renamed over it. Until the rename the old file is
    /// untouched, so a crash or a full disk loses nothing.
    fn encrypt_in_place(path: &Path, key: &str) -> Result<()> {
        let plain = Connection::open(path)?;
        let copy = export(&plain, path, key, ".encrypting")?;
        plain.close().map_err(|(_, e)| e)?;
        swap(&copy, path)
    }

    /// Puts the open book `conn` (the file at `path`) under `new_key`,
    /// whatever key it had (none, for a book written without one): a full
    /// copy under the new key, synced, renamed over the book, and `conn`
    /// replaced by a connection to it. Refused (`book_in_use`), with nothing
    /// changed, while another connection has the book open: it would go on
    /// writing to the old file. The caller holds [`super::exclusive`], so
    /// no connection opens meanwhile.
    pub fn change_key(conn: &mut Connection, path: &Path, new_key: &str) -> Result<()> {
        if new_key.trim().is_empty() {
            return Err(key_missing());
        }
        let version: Option<String> = conn
            .query_row("PRAGMA cipher_version", [], |r| r.get(0))
            .ok();
        if version.is_none() {
            return Err(unavailable());
        }
        let copy = match export(conn, path, new_key, ".rekeying") {
            Ok(copy) => copy,
            Err(e) => {
                // Back to how it was opened.
                let _ = conn.pragma_update(None, "journal_mode", "WAL");
                return Err(e);
            }
        };
        if let Err(e) = swap(&copy, path) {
            let _ = fs::remove_file(&copy);
            let _ = conn.pragma_update(None, "journal_mode", "WAL");
            return Err(e);
        }
        // From here the book is under the new key: the old connection,
        // which still reads the replaced file, never writes again.
        match open(path, new_key) {
            Ok(new) => {
                let old = std::mem::replace(conn, new);
                let _ = old.close();
                Ok(())
            }
            Err(e) => {
                let old = std::mem::replace(conn, Connection::open_in_memory()?);
                let _ = old.close();
                Err(Error::Key {
                    code: "reopen_failed",
                    message_vi: format!(
                        "Đã đổi khoá nhưng chưa mở lại được sổ tay ({e}); hãy mở lại ứng dụng với khoá mới"
                    ),
                    message_en: format!(
                        "the key was changed but the book could not be opened again ({e}); open it again with the new key"
                    ),
                })
            }
        }
    }

    /// A full copy of `conn`'s book under `key`, beside `path`, synced.
    /// Takes the book out of WAL mode first: everything is then in the main
    /// file, and no other connection has it open (SQLite refuses to leave
    /// WAL mode otherwise).
    fn export(conn: &Connection, path: &Path, key: &str, suffix: &str) -> Result<PathBuf> {
        let copy = sibling(path, suffix);
        let io = |what: &str, e: std::io::Error| {
            Error::Corrupt(format!("{what} {}: {e}", copy.display()))
        };
        match fs::remove_file(&copy) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("cannot remove", e)),
        }
        let mode: std::result::Result<String, _> =
            conn.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0));
        match mode {
            Ok(m) if m.eq_ignore_ascii_case("delete") => {}
            Ok(_) | Err(rusqlite::Error::SqliteFailure(_, _)) => return Err(in_use()),
            Err(e) => return Err(e.into()),
        }
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let target = copy
            .to_str()
            .ok_or_else(|| Error::Corrupt(format!("path {} is not UTF-8", copy.display())))?;
        let exported = (|| -> Result<()> {
            conn.execute(
                "ATTACH DATABASE ?1 AS rekeyed KEY ?2",
                params![target, literal(key)],
            )?;
            conn.query_row("SELECT sqlcipher_export('rekeyed')", [], |_| Ok(()))?;
            conn.pragma_update(
                Some(DatabaseName::Attached("rekeyed")),
                "user_version",
                version,
            )?;
            conn.execute("DETACH DATABASE rekeyed", [])?;
            Ok(())
        })();
        if let Err(e) = exported {
            let _ = conn.execute("DETACH DATABASE rekeyed", []);
            let _ = fs::remove_file(&copy);
            return Err(e);
        }
        if let Err(e) = fs::File::open(&copy).and_then(|f| f.sync_all()) {
            let _ = fs::remove_file(&copy);
            return Err(io("cannot sync", e));
        }
        Ok(copy)
    }

    fn in_use() -> Error {
        Error::Key {
            code: "book_in_use",
            message_vi: "Sổ tay đang được mở ở nơi khác trong ứng dụng; hãy đóng nơi đó rồi đổi khoá. Chưa có gì thay đổi".into(),
            message_en: "the field book is open elsewhere in the app; close it there, then change the key. Nothing was changed".into(),
        }
    }

    /// Renames the synced `copy` over `path`, then syncs the folder so the
    /// rename survives a power cut. Once renamed the book is the copy, so a
    /// folder that cannot be synced is not reported as a failure.
    fn swap(copy: &Path, path: &Path) -> Result<()> {
        fs::rename(copy, path)
            .map_err(|e| Error::Corrupt(format!("cannot rename {}: {e}", copy.display())))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = fs::File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(())
    }
}
