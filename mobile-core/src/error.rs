//! Two error layers: [`Error`], rich and internal, and [`FieldBookError`],
//! the few cases a caller acts on. [`From<Error> for FieldBookError`] is the
//! one place where one becomes the other.

use crate::domain::ids::IdError;
use crate::domain::money::MoneyError;
use crate::domain::rules::RuleViolation;

/// Everything that can go wrong inside the core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{field}: {message_en}")]
    Invalid {
        field: String,
        message_vi: String,
        message_en: String,
    },
    #[error(transparent)]
    Money(#[from] MoneyError),
    #[error("{field}: {source}")]
    Id { field: String, source: IdError },
    #[error(transparent)]
    Rule(#[from] RuleViolation),
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("{message_en}")]
    Conflict {
        code: &'static str,
        message_vi: String,
        message_en: String,
    },
    /// The book's encryption key: missing, wrong, or not supported by
    /// this build.
    #[error("{message_en}")]
    Key {
        code: &'static str,
        message_vi: String,
        message_en: String,
    },
    #[error("the database is at schema version {found}; this app knows up to {supported}")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("{context}: {source}")]
    Json {
        context: &'static str,
        source: serde_json::Error,
    },
    #[error("not signed in: {0}")]
    Auth(String),
    #[error("network: {0}")]
    Network(String),
    /// The server (or the way to it) said no, with its own code and message.
    #[error("{code}: {message_en}")]
    Remote {
        class: RemoteClass,
        code: String,
        message_vi: String,
        message_en: String,
    },
}

/// Which public error a server answer becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteClass {
    Auth,
    Conflict,
    Network,
    Validation,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(
        field: &str,
        message_vi: impl Into<String>,
        message_en: impl Into<String>,
    ) -> Self {
        Error::Invalid {
            field: field.to_string(),
            message_vi: message_vi.into(),
            message_en: message_en.into(),
        }
    }

    pub fn not_found(what: &'static str, id: impl ToString) -> Self {
        Error::NotFound {
            what,
            id: id.to_string(),
        }
    }

    pub fn conflict(
        code: &'static str,
        message_vi: impl Into<String>,
        message_en: impl Into<String>,
    ) -> Self {
        Error::Conflict {
            code,
            message_vi: message_vi.into(),
            message_en: message_en.into(),
        }
    }
}

fn what_vi(what: &str) -> &str {
    match what {
        "worker" => "Người lao động",
        "loan" => "Khoản vay",
        "campaign" => "Chương trình quà",
        "record" => "Bản ghi",
        "receipt" => "Phiếu thu",
        "officer" => "Cán bộ (chưa tải danh sách)",
        other => other,
    }
}

/// What a caller of the core (the app, the CLI) sees. Messages are
/// Vietnamese in `message_vi`, English in `message_en`; `code` is stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum FieldBookError {
    /// Bad input or a business rule said no: nothing was recorded.
    /// `message_en` starts with the field name.
    #[error("{message_en}")]
    Validation {
        field: String,
        code: String,
        message_vi: String,
        message_en: String,
    },
    #[error("{message_en}")]
    NotFound {
        code: String,
        message_vi: String,
        message_en: String,
    },
    /// The request contradicts what is already recorded.
    #[error("{message_en}")]
    Conflict {
        code: String,
        message_vi: String,
        message_en: String,
    },
    /// The on-device database failed or is unusable.
    #[error("{message_en}")]
    Storage {
        code: String,
        message_vi: String,
        message_en: String,
    },
    #[error("{message_en}")]
    Auth {
        code: String,
        message_vi: String,
        message_en: String,
    },
    #[error("{message_en}")]
    Network {
        code: String,
        message_vi: String,
        message_en: String,
    },
}

impl From<Error> for FieldBookError {
    fn from(e: Error) -> Self {
        let s = |v: &str| v.to_string();
        match e {
            Error::Invalid {
                field,
                message_vi,
                message_en,
            } => FieldBookError::Validation {
                field,
                code: s("invalid"),
                message_vi,
                message_en,
            },
            Error::Money(m) => FieldBookError::Validation {
                field: m.field.clone(),
                code: s("invalid_amount"),
                message_vi: m.message_vi(),
                message_en: m.message_en(),
            },
            Error::Id { field, source } => FieldBookError::Validation {
                field: field.clone(),
                code: s("invalid_id"),
                message_vi: format!("{field}: {}", source.message_vi()),
                message_en: format!("{field}: {source}"),
            },
            Error::Rule(r) => match r {
                RuleViolation::AlreadyReceived
                | RuleViolation::AllocationUsedUp
                | RuleViolation::NoAllocation => {
                    FieldBookError::Conflict {
                        code: s(r.code()),
                        message_vi: r.message_vi(),
                        message_en: r.message_en(),
                    }
                }
                RuleViolation::LoanNotInPortfolio | RuleViolation::WorkerNotInPortfolio => {
                    FieldBookError::NotFound {
                        code: s(r.code()),
                        message_vi: r.message_vi(),
                        message_en: r.message_en(),
                    }
                }
                _ => FieldBookError::Validation {
                    field: s(r.field()),
                    code: s(r.code()),
                    message_vi: r.message_vi(),
                    message_en: r.message_en(),
                },
            },
            Error::NotFound { what, id } => FieldBookError::NotFound {
                code: format!("{what}_not_found"),
                message_vi: format!("{} {id}: không tìm thấy", what_vi(what)),
                message_en: format!("{what} {id} not found"),
            },
            Error::Conflict {
                code,
                message_vi,
                message_en,
            } => FieldBookError::Conflict {
                code: s(code),
                message_vi,
                message_en,
            },
            Error::SchemaTooNew { found, supported } => FieldBookError::Storage {
                code: s("schema_too_new"),
                message_vi: format!(
                    "Dữ liệu trên máy thuộc phiên bản mới hơn ({found} > {supported}); hãy cập nhật ứng dụng"
                ),
                message_en: e_to_string(found, supported),
            },
            Error::Json { context, source } => FieldBookError::Validation {
                field: s(context),
                code: s("invalid_json"),
                message_vi: format!("{context}: dữ liệu không đúng định dạng ({source})"),
                message_en: format!("{context}: {source}"),
            },
            Error::Key {
                code,
                message_vi,
                message_en,
            } => FieldBookError::Storage {
                code: s(code),
                message_vi,
                message_en,
            },
            Error::Sqlite(e) => storage_error(&e),
            other @ Error::Corrupt(_) => FieldBookError::Storage {
                code: s("storage"),
                message_vi: format!(
                    "Lỗi dữ liệu trên máy: thao tác chưa thực hiện được. Đừng xoá ứng dụng (các bản ghi chưa gửi ở trong đó); thử lại, nếu còn lỗi hãy báo chi nhánh (chi tiết: {other})"
                ),
                message_en: format!(
                    "a data error on the phone: nothing was done. Do not delete the app (records not sent yet are in it); try again, and tell the branch if it goes on (detail: {other})"
                ),
            },
            Error::Auth(m) => FieldBookError::Auth {
                code: s("auth"),
                message_vi: format!("Chưa đăng nhập hoặc phiên đã hết hạn: {m}"),
                message_en: format!("not signed in: {m}"),
            },
            Error::Remote {
                class,
                code,
                message_vi,
                message_en,
            } => match class {
                RemoteClass::Auth => FieldBookError::Auth {
                    code,
                    message_vi,
                    message_en,
                },
                RemoteClass::Conflict => FieldBookError::Conflict {
                    code,
                    message_vi,
                    message_en,
                },
                RemoteClass::Network => FieldBookError::Network {
                    code,
                    message_vi,
                    message_en,
                },
                RemoteClass::Validation => FieldBookError::Validation {
                    field: s("server"),
                    code,
                    message_vi,
                    message_en,
                },
            },
            Error::Network(m) => FieldBookError::Network {
                code: s("network"),
                message_vi: format!("Không kết nối được máy chủ: {m}"),
                message_en: format!("network: {m}"),
            },
        }
    }
}

/// A storage failure as the officer can act on it; the engine's words stay
/// at the end, for the branch.
fn storage_error(e: &rusqlite::Error) -> FieldBookError {
    use rusqlite::ErrorCode as C;
    let code = match e {
        rusqlite::Error::SqliteFailure(f, _) => Some(f.code),
        _ => None,
    };
    let (code, vi, en) = match code {
        Some(C::DiskFull) => (
            "storage_full",
            "Bộ nhớ điện thoại đã đầy: chưa ghi được gì. Hãy xoá bớt ảnh hoặc ứng dụng khác rồi ghi lại",
            "the phone's storage is full: nothing was written. Free some space (photos, other apps) and try again",
        ),
        Some(C::DatabaseBusy | C::DatabaseLocked) => (
            "storage_busy",
            "Sổ trên máy đang bận (đang đồng bộ hoặc một màn hình khác đang ghi): chưa ghi được gì, hãy thử lại sau giây lát",
            "the book on the phone is busy (a sync, or another screen writing): nothing was written; try again in a moment",
        ),
        Some(C::ReadOnly | C::CannotOpen | C::PermissionDenied | C::SystemIoFailure) => (
            "storage_unavailable",
            "Không ghi được vào bộ nhớ điện thoại: chưa ghi được gì. Hãy khởi động lại điện thoại rồi thử lại; nếu còn lỗi, báo chi nhánh",
            "the phone's storage cannot be written: nothing was written. Restart the phone and try again; if it goes on, tell the branch",
        ),
        Some(C::DatabaseCorrupt | C::NotADatabase) => (
            "storage_corrupt",
            "Dữ liệu trên máy không đọc được: đừng xoá ứng dụng (các bản ghi chưa gửi ở trong đó), hãy báo chi nhánh",
            "the data on the phone cannot be read: do not delete the app (records not sent yet are in it); tell the branch",
        ),
        _ => (
            "storage",
            "Lỗi lưu trữ trên máy: thao tác chưa thực hiện được; hãy thử lại, nếu còn lỗi hãy báo chi nhánh",
            "a storage error on the phone: nothing was done; try again, and tell the branch if it goes on",
        ),
    };
    FieldBookError::Storage {
        code: code.to_string(),
        message_vi: format!("{vi} (chi tiết: {e})"),
        message_en: format!("{en} (detail: {e})"),
    }
}

fn e_to_string(found: i64, supported: i64) -> String {
    Error::SchemaTooNew { found, supported }.to_string()
}

impl FieldBookError {
    pub fn code(&self) -> &str {
        match self {
            FieldBookError::Validation { code, .. }
            | FieldBookError::NotFound { code, .. }
            | FieldBookError::Conflict { code, .. }
            | FieldBookError::Storage { code, .. }
            | FieldBookError::Auth { code, .. }
            | FieldBookError::Network { code, .. } => code,
        }
    }

    /// The Vietnamese message.
    pub fn message_vi(&self) -> &str {
        match self {
            FieldBookError::Validation { message_vi, .. }
            | FieldBookError::NotFound { message_vi, .. }
            | FieldBookError::Conflict { message_vi, .. }
            | FieldBookError::Storage { message_vi, .. }
            | FieldBookError::Auth { message_vi, .. }
            | FieldBookError::Network { message_vi, .. } => message_vi,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: std::os::raw::c_int) -> FieldBookError {
        Error::Sqlite(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(code),
            None,
        ))
        .into()
    }

    /// A full phone, a busy book or a broken file each say what to do, in
    /// Vietnamese, not the engine's English.
    #[test]
    fn storage_failures_say_what_to_do() {
        let full = failure(rusqlite::ffi::SQLITE_FULL);
        assert_eq!(full.code(), "storage_full");
        let FieldBookError::Storage { message_vi, .. } = &full else {
            panic!("{full:?}")
        };
        assert!(
            message_vi.starts_with("Bộ nhớ điện thoại đã đầy"),
            "{message_vi}"
        );
        assert_eq!(failure(rusqlite::ffi::SQLITE_BUSY).code(), "storage_busy");
        assert_eq!(
            failure(rusqlite::ffi::SQLITE_NOTADB).code(),
            "storage_corrupt"
        );
        assert_eq!(failure(rusqlite::ffi::SQLITE_INTERNAL).code(), "storage");
    }
}
