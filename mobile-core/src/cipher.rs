//! The field book encrypted at rest with SQLCipher: the phone holds workers'
//! ID numbers, phone numbers and the cash an officer collected. The phone
//! builds enable the `sqlcipher` feature (`sqlcipher-vendored-openssl` for
//! Android, where no system OpenSSL is offered); a build without it refuses
//! a key rather than writing the book in the clear.

use crate::error::Error;

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

#[cfg(feature = "sqlcipher")]
pub use with_cipher::open;

#[cfg(feature = "sqlcipher")]
mod with_cipher {
    use std::fs;
    use std::io::Read;
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;

    use rusqlite::{params, Connection, DatabaseName, ErrorCode};

    use super::unavailable;
    use crate::error::{Error, Result};

    /// What every unencrypted SQLite file starts with.
    const PLAIN_HEADER: &[u8; 16] = b"SQLite format 3\0";

    /// Opens `path` under `key`, encrypting a book written before without
    /// one. The key is checked before anything else is read or written.
    pub fn open(path: &Path, key: &str) -> Result<Connection> {
        if key.trim().is_empty() {
            return Err(Error::Key {
                code: "key_missing",
                message_vi: "Thiếu khoá mã hoá của sổ tay".into(),
                message_en: "the field book's encryption key is empty".into(),
            });
        }
        if is_plaintext(path)? {
            // One encryption at a time in this process (an app may open the
            // book twice, say for a background sync); the second finds the
            // book encrypted already.
            static ENCRYPTING: Mutex<()> = Mutex::new(());
            let _one = ENCRYPTING.lock().unwrap_or_else(|p| p.into_inner());
            if is_plaintext(path)? {
                encrypt_in_place(path, key)?;
            }
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
        let copy = sibling(path, ".encrypting");
        let io = |what: &str, e: std::io::Error| {
            Error::Corrupt(format!("{what} {}: {e}", copy.display()))
        };
        match fs::remove_file(&copy) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("cannot remove", e)),
        }
        {
            let plain = Connection::open(path)?;
            // Out of WAL mode: everything is in the main file and no log is
            // left beside it to be read with the encrypted one.
            plain.pragma_update(None, "journal_mode", "DELETE")?;
            let version: i64 = plain.pragma_query_value(None, "user_version", |r| r.get(0))?;
            let target = copy
                .to_str()
                .ok_or_else(|| Error::Corrupt(format!("path {} is not UTF-8", copy.display())))?;
            plain.execute(
                "ATTACH DATABASE ?1 AS encrypted KEY ?2",
                params![target, literal(key)],
            )?;
            plain.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
            plain.pragma_update(
                Some(DatabaseName::Attached("encrypted")),
                "user_version",
                version,
            )?;
            plain.execute("DETACH DATABASE encrypted", [])?;
            plain.close().map_err(|(_, e)| e)?;
        }
        fs::File::open(&copy)
            .and_then(|f| f.sync_all())
            .map_err(|e| io("cannot sync", e))?;
        fs::rename(&copy, path).map_err(|e| io("cannot rename", e))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| io("cannot sync the folder of", e))?;
        }
        Ok(())
    }
}
