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
            other @ (Error::Sqlite(_) | Error::Corrupt(_)) => FieldBookError::Storage {
                code: s("storage"),
                message_vi: format!("Lỗi lưu trữ trên máy: {other}"),
                message_en: other.to_string(),
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
