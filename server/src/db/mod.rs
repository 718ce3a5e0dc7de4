//! Storage. One behaviour on two databases: an embedded SQLite file (the
//! default) and PostgreSQL (production, scale-out).
//!
//! The SQL lives once, in `queries.rs`, `import_apply.rs`, `review.rs`,
//! `reports.rs` and the others included below, and is compiled
//! twice — once against `sqlx::Sqlite`, once against `sqlx::Postgres` — so the
//! two backends cannot drift. Each backend has its own migrations under
//! `migrations/`. Writes on SQLite run in `BEGIN IMMEDIATE` transactions.

pub mod models;
pub mod review_types;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use models::*;
pub use review_types::*;

/// Compiles the shared SQL for one backend.
macro_rules! backend {
    ($module:ident, $db:ty, $is_sqlite:expr) => {
        #[allow(dead_code)]
        pub(crate) mod $module {
            use super::models::*;
            pub type DB = $db;
            pub type Conn = <$db as sqlx::Database>::Connection;
            pub const IS_SQLITE: bool = $is_sqlite;
            include!("queries.rs");
            include!("import_apply.rs");
            include!("sync.rs");
            include!("upload.rs");
            pub mod review {
                use super::*;
                include!("review.rs");
                include!("disburse.rs");
                include!("signatures.rs");
                include!("statements.rs");
                include!("vault.rs");
            }
            pub mod reports {
                use super::*;
                include!("reports.rs");
            }
            include!("console.rs");
        }
    };
}
backend!(sqlite_q, sqlx::Sqlite, true);
backend!(pg_q, sqlx::Postgres, false);

/// Runs `$body` (an expression of type `DbResult<T>`) with `$q` naming the
/// backend's query module and `$conn` a pooled connection.
macro_rules! with_conn {
    ($db:expr, $q:ident, $conn:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite(pool) => {
                #[allow(unused_imports)]
                use $crate::db::sqlite_q as $q;
                async {
                    let mut $conn = match pool.acquire().await {
                        Ok(c) => c,
                        Err(e) => return Err($crate::db::DbError::acquiring(e, pool).await),
                    };
                    $body
                }
                .await
            }
            $crate::db::Db::Postgres(pool) => {
                #[allow(unused_imports)]
                use $crate::db::pg_q as $q;
                async {
                    let mut $conn = match pool.acquire().await {
                        Ok(c) => c,
                        Err(e) => return Err($crate::db::DbError::acquiring(e, pool).await),
                    };
                    $body
                }
                .await
            }
        }
    };
}

/// Runs `$body` (a `DbResult<T>`) in a transaction opened with `$sqlite` /
/// `$postgres` and commits it when the body succeeds.
macro_rules! in_tx {
    ($db:expr, $sqlite:expr, $postgres:expr, $q:ident, $tx:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite(pool) => {
                #[allow(unused_imports)]
                use $crate::db::sqlite_q as $q;
                $crate::db::in_tx!(@on pool, $sqlite, $tx => $body)
            }
            $crate::db::Db::Postgres(pool) => {
                #[allow(unused_imports)]
                use $crate::db::pg_q as $q;
                $crate::db::in_tx!(@on pool, $postgres, $tx => $body)
            }
        }
    };
    (@on $pool:ident, $begin:expr, $tx:ident => $body:expr) => {
        async {
            let mut conn = match $pool.acquire().await {
                Ok(c) => c,
                Err(e) => return Err($crate::db::DbError::acquiring(e, $pool).await),
            };
            let result = async {
                let mut $tx = match sqlx::Connection::begin_with(&mut *conn, $begin).await {
                    Ok(t) => t,
                    Err(e) => return Err($crate::db::DbError::acquiring(e, $pool).await),
                };
                let out = $body?;
                $tx.commit().await?;
                Ok::<_, $crate::db::DbError>(out)
            }
            .await;
            $crate::db::drop_if_broken(&mut conn, &result);
            result
        }
        .await
    };
}

/// After a transaction that failed in the database (a full disk, a lost
/// connection, a commit refused), its connection is closed rather than
/// given back: SQLite may have rolled the transaction back by itself, and
/// sqlx, whose own rollback then fails, would go on counting it open and
/// refuse every later transaction on that connection — the upload
/// writer's only one (and a connection that does refuse one, however it
/// came to, is closed too). A refusal by the rules leaves it in use; a
/// constraint or a busy database closes it too, which costs the writer
/// its caches once.
pub(crate) fn drop_if_broken<D: sqlx::Database, T>(
    conn: &mut sqlx::pool::PoolConnection<D>,
    result: &DbResult<T>,
) {
    use sqlx::Error as E;
    if let Err(DbError::Sqlx(
        e @ (E::Database(_)
        | E::Io(_)
        | E::Protocol(_)
        | E::WorkerCrashed
        | E::InvalidSavePointStatement),
    )) = result
    {
        tracing::warn!(error = %e, "a transaction failed in the database; its connection is closed");
        conn.close_on_drop();
    }
}

/// A write transaction; on SQLite it takes the write lock up front
/// (`BEGIN IMMEDIATE`), so it never fails half-way on a busy database.
macro_rules! with_tx {
    ($db:expr, $q:ident, $tx:ident => $body:expr) => {
        $crate::db::in_tx!($db, "BEGIN IMMEDIATE", "BEGIN", $q, $tx => $body)
    };
}

/// A read-only transaction: one consistent snapshot (REPEATABLE READ on
/// PostgreSQL; on SQLite a deferred transaction reads one WAL snapshot).
macro_rules! with_read {
    ($db:expr, $q:ident, $tx:ident => $body:expr) => {
        $crate::db::in_tx!($db, "BEGIN", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", $q, $tx => $body)
    };
}

#[allow(unused_imports)]
pub(crate) use {in_tx, with_conn, with_read, with_tx};

/// A connection pool on one of the two backends.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("the import was refused: {} row error(s)", .0.len())]
    Rows(Vec<crate::import::rows::RowError>),
    #[error("{0}")]
    Invalid(String),
    /// No connection could be had, nor a new one opened: the database does
    /// not accept connections (down, or unreachable), rather than every
    /// connection being busy.
    #[error("the database does not accept connections ({0})")]
    Unreachable(String),
    /// A broken invariant (an unbalanced entry, say): nothing was written.
    #[error("invariant broken: {0}")]
    Invariant(String),
    /// A request the rules refuse, with what to tell the person.
    #[error("{}: {}", .0.code, .0.en)]
    Refused(Box<Refusal>),
}

/// Why a request was refused: HTTP status, stable code, Vietnamese and
/// English messages.
#[derive(Debug)]
pub struct Refusal {
    pub status: u16,
    pub code: &'static str,
    pub vi: String,
    pub en: String,
    /// The records the refusal is about (those that cannot post), for a
    /// client to point at without reading the message.
    pub records: Vec<uuid::Uuid>,
}

impl DbError {
    /// A failure to get a connection from `pool`. A connection refused for
    /// good (no route, a name that does not resolve, TLS, a password or
    /// database gone, the server shutting down) is said unreachable at
    /// once. When the wait timed out,
    /// one new connection is tried, briefly, by one request at a time (its
    /// answer kept a few seconds for the others): refused (nothing listens,
    /// no route, the database shutting down) or not answered within 2 s,
    /// the database is said unreachable, with its own error (for the log);
    /// opened, or refused as too many clients, it is only busy. (One
    /// answer for the process: it serves one database.)
    pub async fn acquiring<D: sqlx::Database>(e: sqlx::Error, pool: &sqlx::Pool<D>) -> DbError {
        use sqlx::{ConnectOptions, Connection};
        use std::time::{Duration, Instant};
        static PROBE: tokio::sync::Mutex<Option<(Instant, Option<String>)>> =
            tokio::sync::Mutex::const_new(None);
        match &e {
            sqlx::Error::PoolTimedOut => {}
            // A connection sqlx does not retry (no route, a name that does
            // not resolve, TLS refused, a password or database no longer
            // there, the server shutting down): said at once.
            sqlx::Error::Io(_) | sqlx::Error::Tls(_) => return DbError::Unreachable(e.to_string()),
            // SQLite cannot open its file for a new connection
            // (SQLITE_CANTOPEN, extended codes included): moved, deleted,
            // or its folder closed to the server since it started.
            sqlx::Error::Database(d)
                if d.code().is_some_and(|c| {
                    // SQLite's codes are numbers of up to 4 digits;
                    // PostgreSQL's SQLSTATE has five characters.
                    c.len() < 5 && c.parse::<i64>().is_ok_and(|c| c & 0xff == 14)
                }) =>
            {
                return DbError::Unreachable(format!(
                    "the SQLite database file cannot be opened for a new connection: moved, deleted or closed to the server while it ran? ({e})"
                ))
            }
            sqlx::Error::Database(d)
                if d.code().is_some_and(|c| {
                    // PostgreSQL's SQLSTATE (five characters; SQLite's
                    // codes are numbers).
                    c.len() == 5
                        && ["08", "28", "3D", "57P"]
                            .iter()
                            .any(|class| c.starts_with(class))
                }) =>
            {
                return DbError::Unreachable(e.to_string())
            }
            _ => return DbError::Sqlx(e),
        }
        let mut last = PROBE.lock().await;
        let down = match last
            .as_ref()
            .filter(|(at, _)| at.elapsed() < Duration::from_secs(5))
        {
            Some((_, down)) => down.clone(),
            None => {
                let probe = async {
                    let conn = pool.connect_options().connect().await?;
                    conn.close().await
                };
                let down = match tokio::time::timeout(Duration::from_secs(2), probe).await {
                    Ok(Ok(())) => None,
                    // "too many clients already": busy, not down.
                    Ok(Err(sqlx::Error::Database(d))) if d.code().as_deref() == Some("53300") => {
                        None
                    }
                    Ok(Err(cause)) => Some(cause.to_string()),
                    // Nothing answers at all (a host gone, a network cut).
                    Err(_) => Some("no answer to a new connection within 2 s".to_string()),
                };
                *last = Some((Instant::now(), down.clone()));
                down
            }
        };
        match down {
            Some(cause) => DbError::Unreachable(cause),
            None => DbError::Sqlx(e),
        }
    }

    /// The database's disk is full (SQLite's `SQLITE_FULL`, PostgreSQL's
    /// `disk_full`): nothing was written, and nothing will be until an
    /// administrator frees space.
    pub fn is_storage_full(&self) -> bool {
        matches!(self, DbError::Sqlx(sqlx::Error::Database(e))
            if matches!(e.code().as_deref(), Some("13" | "53100")))
    }

    /// A failure that may go away when retried (busy database, pool timeout,
    /// lost connection), as opposed to a bug or bad data.
    pub fn is_transient(&self) -> bool {
        match self {
            DbError::Unreachable(_) => true,
            DbError::Sqlx(
                sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed,
            ) => true,
            DbError::Sqlx(sqlx::Error::Database(e)) => {
                let code = e.code().unwrap_or_default();
                // SQLite BUSY/LOCKED; PostgreSQL serialization failure, deadlock, shutdown.
                matches!(
                    code.as_ref(),
                    "5" | "6" | "517" | "40001" | "40P01" | "57P01" | "57P03"
                )
            }
            _ => false,
        }
    }
}

pub type DbResult<T> = Result<T, DbError>;

/// Applies the SQLite migrations on a connection of its own with foreign
/// keys off, as SQLite's documented way of rebuilding a table requires (a
/// table that other tables refer to cannot be dropped and created again
/// otherwise, and the pragma cannot change inside the migration's
/// transaction). When a migration was applied, `PRAGMA foreign_key_check`
/// must then find no row that breaks a key, or the database is not used.
async fn migrate_sqlite(options: SqliteConnectOptions) -> DbResult<()> {
    use sqlx::{ConnectOptions, Connection};
    let mut conn = options.foreign_keys(false).connect().await?;
    async fn applied(c: &mut sqlx::SqliteConnection) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(c)
            .await
    }
    // No bookkeeping table yet on a new database.
    let before = applied(&mut conn).await.unwrap_or(0);
    sqlx::migrate!("../migrations/sqlite")
        .run(&mut conn)
        .await?;
    if applied(&mut conn).await? != before {
        let broken: Vec<(String, Option<i64>, String)> =
            sqlx::query_as("SELECT \"table\", rowid, parent FROM pragma_foreign_key_check")
                .fetch_all(&mut conn)
                .await?;
        if let Some((table, rowid, parent)) = broken.first() {
            return Err(DbError::Invariant(format!(
                "after the migrations, {} row(s) break a foreign key (the first: {table} row {rowid:?}, refers to {parent})",
                broken.len()
            )));
        }
    }
    conn.close().await?;
    Ok(())
}

/// The SQLite files this process opened, by the path it opened them at:
/// the file's device and inode then, and the path made absolute (to name
/// it).
static OPENED: std::sync::Mutex<std::collections::BTreeMap<std::path::PathBuf, Opened>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

/// A file's device and inode, and its path made absolute.
type Opened = ((u64, u64), std::path::PathBuf);

#[cfg(unix)]
fn file_identity(path: &Path) -> std::io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).map(|m| (m.dev(), m.ino()))
}

/// Notes which file `path` is now, for [`file_in_place`].
fn note_opened(path: &Path) {
    #[cfg(unix)]
    if let Ok(id) = file_identity(path) {
        let full = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        OPENED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path.to_path_buf(), (id, full));
    }
}

/// Whether the file at `path` is still the SQLite database this process
/// opened there: one moved or deleted while the server runs, or another
/// put in its place, is said (the server's open connections go on with
/// the file they opened; new ones would not find it), in words an
/// operator can act on. One `stat`, for the health check.
fn file_in_place(path: &Path) -> DbResult<()> {
    #[cfg(unix)]
    {
        let Some((opened, full)) = OPENED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(path)
            .cloned()
        else {
            return Ok(());
        };
        let full = full.display();
        return match file_identity(path) {
            Ok(now) if now == opened => Ok(()),
            Ok(_) => Err(DbError::Unreachable(format!(
                "the database file {full} is not the one the server opened: another file was put in its place while the server ran. \
                 Stop the server (it finishes with the file it opened), then start it again to serve the file now at {full}, if that is the one meant"
            ))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(DbError::Unreachable(format!(
                "the database file {full} is gone: it was moved or deleted while the server ran. \
                 Put it back at {full} (the server takes it up again), or stop the server and set DATABASE_URL to where it is now"
            ))),
            Err(e) => Err(DbError::Unreachable(format!(
                "the database file {full} cannot be looked at ({e}): check it and its folder's permissions"
            ))),
        };
    }
    #[allow(unreachable_code)]
    {
        let _ = path;
        Ok(())
    }
}

/// How a command opens the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Open {
    /// Applies the migrations this binary carries (the server, `migrate`):
    /// a SQLite file is created with its folder on first use.
    Migrate,
    /// Like [`Open::Current`], but a new database (no schema at all, its
    /// folder created if need be) is set up: a fund's first import.
    Setup,
    /// Uses the schema as it is, which must be this binary's: a maintenance
    /// command never changes the schema under a server still running the
    /// old one, nor sets one up in a database that has none.
    Current,
    /// Uses the database as it is, whatever its schema: a backup taken with
    /// a new binary before an upgrade is the old database, unchanged.
    AsIs,
}

/// Where a database's schema stands against this binary's migrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schema {
    /// No migration applied: a new database.
    Empty,
    /// No migration applied, but tables of something else: another
    /// application's database, never set up as a fund's.
    Foreign { tables: i64 },
    /// Exactly this binary's.
    Current,
    /// Older: `applied` of this binary's `known` migrations.
    Behind { applied: usize, known: usize },
    /// Migrated by a newer binary: a migration this one does not know.
    Newer { unknown: i64 },
    /// PostgreSQL: no fund in the connection's own schema (the first one
    /// its `search_path` names that exists, where the migrations would
    /// create their tables), but a fund's schema in another schema of the
    /// database (`found`, further along the `search_path` or not on it),
    /// or no schema to look in at all (`current` is `None`). A new empty
    /// fund there would hide the real one.
    Misdirected {
        search_path: String,
        current: Option<String>,
        found: Vec<String>,
    },
}

impl Schema {
    /// `place`: the SQLite file, or the PostgreSQL database's name.
    fn log_upgrade(&self, place: &str) {
        match self {
            // A mistyped or relative DATABASE_URL makes a new, empty fund
            // beside the real one: said loudly, naming where.
            Schema::Empty => tracing::warn!(
                "cơ sở dữ liệu mới, trống tại {place}: đang tạo cấu trúc; nếu dữ liệu của quỹ phải ở đây, hãy dừng lại và kiểm tra DATABASE_URL (hoặc --database-url) / \
                 a new, empty database at {place}: setting up its schema; if the fund's data should be here, stop and check DATABASE_URL (or --database-url)"
            ),
            Schema::Behind { applied, known } => tracing::info!(
                from = applied,
                to = known,
                "applying {} schema migration(s)",
                known - applied
            ),
            _ => {}
        }
    }

    /// What to tell the person running the command, when the schema is not
    /// what it needs.
    fn refusal(&self) -> Option<String> {
        match self {
            Schema::Current => None,
            Schema::Empty => Some(
                "Cơ sở dữ liệu này chưa có cấu trúc của Sổ Tay (chưa từng chạy máy chủ trên nó): kiểm tra DATABASE_URL, hoặc chạy `sotay-server migrate` trước\n\
                 this database has no Sổ Tay schema (no server ever ran on it): check DATABASE_URL, or run `sotay-server migrate` first"
                    .into(),
            ),
            Schema::Behind { applied, known } => Some(format!(
                "Cơ sở dữ liệu mới có {applied}/{known} bước cấu trúc mà bản sotay-server này cần: dừng máy chủ cũ, sao lưu, rồi chạy `sotay-server migrate` (hoặc khởi động máy chủ mới)\n\
                 the database has {applied} of the {known} schema migrations this sotay-server needs: stop the old server, back it up, then run `sotay-server migrate` (or start the new server)"
            )),
            Schema::Foreign { tables } => Some(format!(
                "Cơ sở dữ liệu này có {tables} bảng của một ứng dụng khác và không có cấu trúc của Sổ Tay: Sổ Tay không dùng nó; kiểm tra DATABASE_URL (Sổ Tay cần một cơ sở dữ liệu riêng, mới tạo)\n\
                 this database holds {tables} tables of something else and no Sổ Tay schema: Sổ Tay will not use it; check DATABASE_URL (Sổ Tay needs a database of its own, new and empty)"
            )),
            Schema::Newer { unknown } => Some(format!(
                "Cơ sở dữ liệu đã được một bản sotay-server mới hơn nâng cấp (bước cấu trúc {unknown} lạ với bản này): dùng bản mới đó\n\
                 the database was migrated by a newer sotay-server (migration {unknown} is unknown to this one): use that version"
            )),
            Schema::Misdirected {
                search_path,
                current: None,
                ..
            } => Some(format!(
                "search_path của kết nối ({search_path}) không chỉ tới schema nào có thật: sửa nó (ALTER ROLE … SET search_path, hoặc ?options=-csearch_path%3D… trong DATABASE_URL)\n\
                 the connection's search_path ({search_path}) names no schema that exists: correct it (ALTER ROLE … SET search_path, or ?options=-csearch_path%3D… in DATABASE_URL)"
            )),
            Schema::Misdirected {
                search_path,
                current: Some(current),
                found,
            } => {
                let found = found.join(", ");
                Some(format!(
                    "Dữ liệu của Sổ Tay nằm ở schema {found}, nhưng kết nối này (search_path {search_path}) nhìn vào schema {current}, nơi không có dữ liệu của Sổ Tay: Sổ Tay không lập một quỹ trống ở đó; đặt search_path bắt đầu bằng {found} (ALTER ROLE … SET search_path, hoặc ?options=-csearch_path%3D{found} trong DATABASE_URL), hoặc xoá schema {current} nếu nó được tạo nhầm và trống\n\
                     Sổ Tay's data is in schema {found}, but this connection (search_path {search_path}) looks in schema {current}, which holds none of it: Sổ Tay will not set up an empty fund there; make the search_path start with {found} (ALTER ROLE … SET search_path, or ?options=-csearch_path%3D{found} in DATABASE_URL), or drop schema {current} if it was created by mistake and is empty"
                ))
            }
        }
    }
}

/// What opening a database did to its schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaChange {
    /// Nothing: it was this binary's already (or was used as it is).
    None,
    /// A new database: all `migrations` applied.
    SetUp { migrations: usize },
    /// An older schema: `migrations` more applied after the `from` it had.
    Upgraded { from: usize, migrations: usize },
}

impl SchemaChange {
    /// After migrating a database whose schema was `schema` to all `known`
    /// migrations.
    fn of(schema: &Schema, known: usize) -> SchemaChange {
        match schema {
            Schema::Empty => SchemaChange::SetUp { migrations: known },
            Schema::Behind { applied, .. } => SchemaChange::Upgraded {
                from: *applied,
                migrations: known - applied,
            },
            _ => SchemaChange::None,
        }
    }
}

/// The schema of `applied` (the versions a database records) against this
/// binary's `known` migrations.
fn schema_of(applied: &[i64], known: &[i64], other_tables: i64) -> Schema {
    if let Some(&unknown) = applied.iter().find(|v| !known.contains(v)) {
        return Schema::Newer { unknown };
    }
    match applied.len() {
        0 if other_tables > 0 => Schema::Foreign {
            tables: other_tables,
        },
        0 => Schema::Empty,
        n if n == known.len() => Schema::Current,
        n => Schema::Behind {
            applied: n,
            known: known.len(),
        },
    }
}

/// Keeps a SQLite database from the machine's other users: it holds ID
/// numbers, password hashes and the token signing secret. A new file is
/// created 0600 (its WAL and shared-memory files take its mode); an
/// existing one every user may read is closed to them (its group keeps
/// what it had), with a warning, or only the warning when this process
/// may not change it.
/// An empty file (a database not set up yet) or one that starts as every
/// SQLite database does.
#[cfg(unix)]
fn is_sqlite_file(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 16];
    match std::fs::File::open(path) {
        Ok(mut f) => match f.read(&mut head) {
            Ok(0) => true,
            Ok(n) => head[..n] == b"SQLite format 3\0"[..n] && n == 16,
            Err(_) => false,
        },
        Err(_) => false,
    }
}

fn keep_private(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        if !path.exists() {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)?;
            return Ok(());
        }
        for suffix in ["", "-wal", "-shm"] {
            let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
            let Ok(meta) = std::fs::metadata(&file) else {
                continue;
            };
            // Only a database's own files: a folder or another file named
            // by mistake is left as it is (opening it then says what it is).
            if !meta.is_file() || (suffix.is_empty() && !is_sqlite_file(&file)) {
                continue;
            }
            let mode = meta.permissions().mode();
            if mode & 0o007 != 0 {
                let was = format!("{:o}", mode & 0o777);
                match std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode & 0o770))
                {
                    Ok(()) => tracing::warn!(
                        file = %file.display(),
                        was,
                        "the database file was open to every user of this machine; now closed to them"
                    ),
                    Err(e) => tracing::warn!(
                        file = %file.display(),
                        was,
                        error = %e,
                        "the database file is open to every user of this machine: close it to them (chmod o-rwx)"
                    ),
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

const APPLIED: &str = "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version";

/// The migration versions a SQLite database has applied (none before its
/// first: no bookkeeping table yet), and when none, how many tables it
/// holds all the same.
async fn applied_sqlite(c: &mut sqlx::SqliteConnection) -> DbResult<(Vec<i64>, i64)> {
    let kept: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_one(&mut *c)
    .await?;
    if kept == 0 {
        let tables: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        .fetch_one(&mut *c)
        .await?;
        return Ok((Vec::new(), tables));
    }
    Ok((sqlx::query_scalar(APPLIED).fetch_all(&mut *c).await?, 0))
}

/// [`applied_sqlite`] for PostgreSQL: the migrations table and tables of
/// the connection's own schema (`current_schema()`, where the migrations
/// create theirs), not one found further along its `search_path` — a
/// fund's schema seen through another schema first is not current.
async fn applied_postgres(pool: &PgPool) -> DbResult<(Vec<i64>, i64)> {
    let kept: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = current_schema() AND c.relname = '_sqlx_migrations'
           AND c.relkind IN ('r', 'p'))",
    )
    .fetch_one(pool)
    .await?;
    if !kept {
        // Tables of the schema, not views nor those an extension brings
        // (PostGIS' `spatial_ref_sys` in a new database).
        let tables: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')",
        )
        .fetch_one(pool)
        .await?;
        return Ok((Vec::new(), tables));
    }
    Ok((sqlx::query_scalar(APPLIED).fetch_all(pool).await?, 0))
}

/// On PostgreSQL, an empty schema where the connection looks may not be a
/// new database: its `search_path` may have changed (a schema named after
/// the role created later, an `ALTER ROLE`), or name no schema at all. A
/// fund's schema is known by its first migration (`first`: version and
/// checksum), not by any application's migration table.
async fn misdirected_postgres(
    pool: &PgPool,
    first: Option<&sqlx::migrate::Migration>,
) -> DbResult<Option<Schema>> {
    let (search_path, current): (String, Option<String>) =
        sqlx::query_as("SELECT current_setting('search_path'), current_schema()::text")
            .fetch_one(pool)
            .await?;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT n.nspname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relname = '_sqlx_migrations' AND c.relkind = 'r' ORDER BY 1",
    )
    .fetch_all(pool)
    .await?;
    let mut found = Vec::new();
    if let Some(first) = first {
        for schema in tables {
            let table = format!("\"{}\"._sqlx_migrations", schema.replace('"', "\"\""));
            let ours: i64 = sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM {table} WHERE version = $1 AND checksum = $2"
            ))
            .bind(first.version)
            .bind(first.checksum.as_ref())
            .fetch_one(pool)
            .await?;
            if ours > 0 {
                found.push(schema);
            }
        }
    }
    Ok(
        (current.is_none() || !found.is_empty()).then_some(Schema::Misdirected {
            search_path,
            current,
            found,
        }),
    )
}

/// Whether `how` may use a database whose schema is `schema`, migrating it
/// first (`Ok(true)`), as it is (`Ok(false)`), or not at all.
fn plan(how: Open, schema: &Schema) -> DbResult<bool> {
    let refuse = || Err(DbError::Invalid(schema.refusal().unwrap_or_default()));
    match (how, schema) {
        (Open::AsIs, _) => Ok(false),
        (_, Schema::Newer { .. } | Schema::Foreign { .. } | Schema::Misdirected { .. }) => refuse(),
        (Open::Migrate, _) | (Open::Setup, Schema::Empty) => Ok(true),
        (Open::Setup | Open::Current, Schema::Current) => Ok(false),
        (Open::Setup | Open::Current, _) => refuse(),
    }
}

fn known_versions(m: &sqlx::migrate::Migrator) -> Vec<i64> {
    m.iter().map(|m| m.version).collect()
}

impl Db {
    /// The SQLite file `url` names; `None` for PostgreSQL.
    ///
    /// `postgres://…` / `postgresql://…` selects PostgreSQL; `sqlite://path`,
    /// `sqlite:path` or a plain path a SQLite file.
    pub fn sqlite_path(url: &str) -> Option<&str> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return None;
        }
        Some(
            url.strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .unwrap_or(url),
        )
    }

    /// A URL of another kind (`mysql://…`, a mistyped `postgress://…`) is
    /// refused rather than taken for a file name.
    pub fn check_url(url: &str) -> DbResult<()> {
        match url.split_once("://") {
            Some((scheme, _)) if !matches!(scheme, "sqlite" | "postgres" | "postgresql") => {
                Err(DbError::Invalid(format!(
                    "DATABASE_URL bắt đầu bằng `{scheme}://`, không phải cơ sở dữ liệu mà Sổ Tay dùng: viết postgres://… cho PostgreSQL, hoặc sqlite://đường/dẫn.db (hay chỉ đường dẫn) cho SQLite\n\
                     DATABASE_URL starts with `{scheme}://`, not a database Sổ Tay uses: write postgres://… for PostgreSQL, or sqlite://path/to.db (or just the path) for SQLite"
                )))
            }
            _ => Ok(()),
        }
    }

    /// Opens the database named by `url` and applies its migrations.
    pub async fn connect(url: &str) -> DbResult<Db> {
        Db::open(url, Open::Migrate).await
    }

    /// Opens the database named by `url` as `how` says.
    pub async fn open(url: &str, how: Open) -> DbResult<Db> {
        Db::open_changing(url, how).await.map(|(db, _)| db)
    }

    /// [`Db::open`], saying what it did to the schema.
    pub async fn open_changing(url: &str, how: Open) -> DbResult<(Db, SchemaChange)> {
        let mut change = SchemaChange::None;
        Db::check_url(url)?;
        if Db::sqlite_path(url).is_none() {
            // The sync queries are short; JIT compiling them costs more than it saves.
            let options =
                sqlx::postgres::PgConnectOptions::from_str(url)?.options([("jit", "off")]);
            {
                // One connection first, for the real reason when there is
                // none (refused, unknown host, password) rather than the
                // pool's time-out.
                use sqlx::{ConnectOptions, Connection};
                options.connect().await?.close().await?;
            }
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            let migrator = sqlx::migrate!("../migrations/postgres");
            if how != Open::AsIs {
                let (applied, tables) = applied_postgres(&pool).await?;
                let mut schema = schema_of(&applied, &known_versions(&migrator), tables);
                // Nothing of a fund in the connection's own schema: the
                // fund may be in another (seen through the search_path
                // or not), and the migrations would set up an empty one
                // here, beside it.
                if matches!(schema, Schema::Empty | Schema::Foreign { .. }) {
                    if let Some(misdirected) =
                        misdirected_postgres(&pool, migrator.iter().next()).await?
                    {
                        schema = misdirected;
                    }
                }
                if plan(how, &schema)? {
                    let name = pool
                        .connect_options()
                        .get_database()
                        .unwrap_or("postgres")
                        .to_string();
                    schema.log_upgrade(&format!("PostgreSQL {name}"));
                    migrator.run(&pool).await?;
                    change = SchemaChange::of(&schema, migrator.iter().count());
                }
            }
            Ok((Db::Postgres(pool), change))
        } else {
            let path = Db::sqlite_path(url).unwrap_or(url);
            // The file itself, without the URL's options (`?mode=…`).
            let file = Path::new(path.split('?').next().unwrap_or(path));
            if matches!(how, Open::Migrate | Open::Setup) {
                if let Some(parent) = file.parent() {
                    if !parent.as_os_str().is_empty() {
                        std::fs::create_dir_all(parent)
                            .map_err(|e| DbError::Sqlx(sqlx::Error::Io(e)))?;
                    }
                }
            }
            if how != Open::AsIs {
                keep_private(file).map_err(|e| DbError::Sqlx(sqlx::Error::Io(e)))?;
            }
            let mut options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
                .create_if_missing(matches!(how, Open::Migrate | Open::Setup))
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            if how == Open::Migrate {
                // The server's mode; a maintenance command leaves the file's
                // own (a backup copy stays one file).
                options = options.journal_mode(SqliteJournalMode::Wal);
            }
            if how != Open::AsIs {
                let schema = {
                    use sqlx::{ConnectOptions, Connection};
                    let mut c = options.clone().connect().await?;
                    let applied = applied_sqlite(&mut c).await;
                    c.close().await?;
                    let (applied, tables) = applied?;
                    schema_of(
                        &applied,
                        &known_versions(&sqlx::migrate!("../migrations/sqlite")),
                        tables,
                    )
                };
                if plan(how, &schema)? {
                    let full = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
                    schema.log_upgrade(&full.display().to_string());
                    migrate_sqlite(options.clone()).await?;
                    change = SchemaChange::of(
                        &schema,
                        sqlx::migrate!("../migrations/sqlite").iter().count(),
                    );
                }
            }
            // The file is there now (set up above, or refused): a new
            // connection opens it or fails, never creates an empty one in
            // its place when it was moved or deleted under the server.
            let options = options.create_if_missing(false);
            if how != Open::AsIs {
                note_opened(options.get_filename());
            }
            // A connection to a file in this process does not go stale:
            // no ping (a round trip to its worker thread) on every acquire.
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .test_before_acquire(false)
                .connect_with(options)
                .await?;
            Ok((Db::Sqlite(pool), change))
        }
    }

    /// The upload writer's connection: a pool of one connection to the same
    /// database, opened lazily on the runtime that first uses it (the
    /// writer's own thread, so its I/O is not queued behind the request
    /// handlers).
    ///
    /// On SQLite it keeps a group's pages in memory until the commit: a
    /// cache of 64 MiB instead of 2 (a group of 5,000 records touches more
    /// than 2 MiB of table and index pages, and a full cache writes pages
    /// to the WAL before the commit), and the statement journal of the
    /// group's multi-row INSERTs in memory instead of a temporary file. It
    /// never checkpoints the WAL on its own: a commit that crossed the
    /// automatic checkpoint's threshold would copy the WAL into the
    /// database while the next group waits. [`Db::checkpoint`] does it, on
    /// another connection. Its prepared statements are kept for 256 texts
    /// (100 by default): a group's statements come in a few lengths each.
    pub fn upload_writer(&self) -> Db {
        match self {
            Db::Sqlite(p) => Db::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(10))
                    .test_before_acquire(false)
                    .connect_lazy_with(
                        (*p.connect_options())
                            .clone()
                            .statement_cache_capacity(256)
                            .pragma("cache_size", "-65536")
                            .pragma("temp_store", "memory")
                            .pragma("wal_autocheckpoint", "0"),
                    ),
            ),
            Db::Postgres(p) => Db::Postgres(
                PgPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(10))
                    // Each statement planned for the tables as they are
                    // now: a plan cached while `undecided_repayments` was
                    // all but empty (every collection decided) would go on
                    // scanning the whole of it for each loan once it fills.
                    .connect_lazy_with(
                        (*p.connect_options())
                            .clone()
                            .options([("plan_cache_mode", "force_custom_plan")]),
                    ),
            ),
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }

    /// Closes the pool; on SQLite after copying the whole WAL into the
    /// database file and emptying it (`wal_checkpoint(TRUNCATE)`).
    pub async fn shut_down(&self) -> DbResult<()> {
        let checkpoint = match self {
            Db::Sqlite(p) => {
                // (busy, frames in the WAL, frames copied): a checkpoint
                // blocked says so in its row, not as an error; one still
                // running from the last commit blocks it for a moment.
                let mut last = Ok(());
                for _ in 0..20 {
                    let row: (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                        .fetch_one(p)
                        .await?;
                    last = match row {
                        (0, log, copied) if copied >= log => Ok(()),
                        (busy, log, copied) => Err(DbError::Invalid(format!(
                            "the last checkpoint copied {copied} of the WAL's {log} frames (busy: {busy})"
                        ))),
                    };
                    if last.is_ok() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                last
            }
            Db::Postgres(_) => Ok(()),
        };
        self.close().await;
        checkpoint
    }

    /// Copies what the WAL holds into the SQLite database as far as no
    /// reader still needs it (`PRAGMA wal_checkpoint(PASSIVE)`: it waits for
    /// no one and no one waits for it), so the WAL can start over; nothing
    /// on PostgreSQL. The upload writer has it run after its commits.
    pub async fn checkpoint(&self) -> DbResult<()> {
        if let Db::Sqlite(p) = self {
            sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(p)
                .await?;
        }
        Ok(())
    }

    /// Whether the database answers; on SQLite, first whether the file at
    /// its path is still the one opened (see [`file_in_place`]).
    pub async fn ping(&self) -> DbResult<()> {
        if let Db::Sqlite(p) = self {
            file_in_place(p.connect_options().get_filename())?;
        }
        with_conn!(self, q, c => q::ping(&mut c).await)
    }
}

/// The store's operations. Each is one line: the SQL lives in `queries.rs`.
impl Db {
    pub async fn setting(&self, key: &str) -> DbResult<Option<String>> {
        with_conn!(self, q, c => q::setting_get(&mut c, key).await)
    }

    /// Sets `key` once; true when this call set it.
    pub async fn set_setting(&self, key: &str, value: &str) -> DbResult<()> {
        with_tx!(self, q, tx => q::setting_put(&mut tx, key, value).await)
    }

    /// Forgets `key`; true when it was set.
    pub async fn delete_setting(&self, key: &str) -> DbResult<bool> {
        with_tx!(self, q, tx => q::setting_delete(&mut tx, key).await)
    }

    pub async fn set_setting_once(&self, key: &str, value: &str) -> DbResult<bool> {
        with_tx!(self, q, tx => q::setting_put_if_absent(&mut tx, key, value).await)
    }

    pub async fn user_auth_by_username(&self, username: &str) -> DbResult<Option<UserAuth>> {
        with_conn!(self, q, c => q::user_auth_by_username(&mut c, username).await)
    }

    /// See [`queries::device_last_receipt`].
    pub async fn device_last_receipt(
        &self,
        officer_id: i64,
        device_id: &str,
        code: &str,
    ) -> DbResult<Option<i64>> {
        with_conn!(self, q, c => q::device_last_receipt(&mut c, officer_id, device_id, code).await)
    }

    pub async fn user_auth_by_id(&self, id: i64) -> DbResult<Option<UserAuth>> {
        with_conn!(self, q, c => q::user_auth_by_id(&mut c, id).await)
    }

    pub async fn set_password(&self, user_id: i64, hash: &str) -> DbResult<()> {
        with_tx!(self, q, tx => async {
            let now = Utc::now();
            q::user_set_password(&mut tx, user_id, hash, now).await?;
            q::user_sessions_end(&mut tx, user_id, now).await
        }.await)
    }

    pub async fn user(&self, id: i64) -> DbResult<Option<UserView>> {
        with_conn!(self, q, c => q::user_get(&mut c, id).await)
    }

    /// Open accounts no one can sign in to yet (no password), admins first.
    pub async fn users_without_password(&self) -> DbResult<Vec<String>> {
        with_conn!(self, q, c => q::users_without_password(&mut c).await)
    }

    pub async fn users(&self, branch_id: Option<i64>) -> DbResult<Vec<UserView>> {
        with_conn!(self, q, c => q::users_list(&mut c, branch_id).await)
    }

    pub async fn branches(&self, only: Option<i64>) -> DbResult<Vec<Branch>> {
        with_conn!(self, q, c => q::branches_list(&mut c, only).await)
    }

    pub async fn device(&self, id: &str) -> DbResult<Option<DeviceRow>> {
        with_conn!(self, q, c => q::device_get(&mut c, id).await)
    }

    /// A request's device and user, read on one connection (every
    /// authenticated request asks for both).
    /// Writes when devices were last seen, in one transaction; a later
    /// time already written (a sign-in since) is kept.
    pub async fn devices_seen(&self, seen: &[(String, chrono::DateTime<Utc>)]) -> DbResult<()> {
        // In id order, as every other writer of several devices' rows.
        let mut seen: Vec<_> = seen.iter().collect();
        seen.sort_by(|a, b| a.0.cmp(&b.0));
        with_tx!(self, q, tx => async {
            for (id, at) in seen {
                q::device_seen(&mut tx, id, *at).await?;
            }
            Ok::<_, DbError>(())
        }.await)
    }

    pub async fn device_and_user(
        &self,
        device_id: &str,
        user_id: i64,
    ) -> DbResult<(Option<DeviceRow>, Option<UserAuth>)> {
        with_conn!(self, q, c => async {
            let device = q::device_get(&mut c, device_id).await?;
            let user = q::user_auth_by_id(&mut c, user_id).await?;
            Ok::<_, DbError>((device, user))
        }.await)
    }

    pub async fn devices(&self, branch_id: Option<i64>, viewer: i64) -> DbResult<Vec<DeviceRow>> {
        with_conn!(self, q, c => q::devices_list(&mut c, branch_id, viewer).await)
    }

    pub async fn worker(&self, scope: Scope, id: i64) -> DbResult<Option<WorkerView>> {
        with_conn!(self, q, c => q::worker_get(&mut c, scope, id).await)
    }

    pub async fn find_workers(
        &self,
        scope: Scope,
        name_terms: &[String],
        digits: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> DbResult<Vec<WorkerView>> {
        with_conn!(self, q, c => q::workers_find(&mut c, scope, name_terms, digits, limit, offset).await)
    }

    /// Workers in scope with the code `code`, or with a loan of that code.
    pub async fn workers_by_code(&self, scope: Scope, code: &str) -> DbResult<Vec<WorkerView>> {
        with_conn!(self, q, c => q::workers_by_code(&mut c, scope, code).await)
    }

    pub async fn count_workers(&self, scope: Scope) -> DbResult<i64> {
        with_conn!(self, q, c => q::workers_count(&mut c, scope).await)
    }

    pub async fn loans(
        &self,
        scope: Scope,
        worker_id: Option<i64>,
        status: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> DbResult<Vec<LoanView>> {
        with_conn!(self, q, c => q::loans_list(&mut c, scope, worker_id, status, limit, offset).await)
    }

    pub async fn loan(&self, scope: Scope, id: i64) -> DbResult<Option<LoanView>> {
        with_conn!(self, q, c => q::loan_get(&mut c, scope, id).await)
    }

    /// The loan with this code (as written, case and all), if in scope.
    pub async fn loan_by_code(&self, scope: Scope, code: &str) -> DbResult<Option<LoanView>> {
        with_conn!(self, q, c => q::loan_by_code(&mut c, scope, code).await)
    }

    /// The loans in scope whose code is one of `codes` (at most 500), in
    /// one read.
    pub async fn loans_by_codes(&self, scope: Scope, codes: &[String]) -> DbResult<Vec<LoanView>> {
        with_conn!(self, q, c => q::loans_by_codes(&mut c, scope, codes).await)
    }

    pub async fn installments(&self, loan_id: i64) -> DbResult<Vec<InstallmentView>> {
        with_conn!(self, q, c => q::installments_of(&mut c, loan_id).await)
    }

    pub async fn overdue_loans(&self, scope: Scope, today: chrono::NaiveDate) -> DbResult<i64> {
        with_conn!(self, q, c => q::overdue_loan_count(&mut c, scope, today).await)
    }

    pub async fn products(&self) -> DbResult<Vec<LoanProduct>> {
        with_conn!(self, q, c => q::products_list(&mut c).await)
    }

    pub async fn campaigns(&self) -> DbResult<Vec<Campaign>> {
        with_conn!(self, q, c => q::campaigns_list(&mut c).await)
    }

    pub async fn quotas(&self) -> DbResult<Vec<Quota>> {
        with_conn!(self, q, c => q::quotas_list(&mut c).await)
    }

    pub async fn imports(&self, limit: i64) -> DbResult<Vec<ImportRecord>> {
        with_conn!(self, q, c => q::imports_list(&mut c, limit).await)
    }

    /// Whether `user` has ever had anything on `branch`'s books (the
    /// officer accounts of the kept balances: a small table).
    pub async fn on_branch_books(&self, user: i64, branch: i64) -> DbResult<bool> {
        with_conn!(self, q, c => q::on_branch_books(&mut c, user, branch).await)
    }

    pub async fn count(&self, table: &'static str) -> DbResult<i64> {
        with_conn!(self, q, c => q::table_count(&mut c, table).await)
    }

    pub async fn audit_count(&self, action: &str) -> DbResult<i64> {
        with_conn!(self, q, c => q::audit_count(&mut c, action).await)
    }

    pub async fn audit(&self, entry: AuditEntry) -> DbResult<()> {
        with_tx!(self, q, tx => q::audit_append(&mut tx, &entry, Utc::now()).await)
    }

    /// Applies an import in one transaction and records it (history and
    /// audit log) in the same transaction: all or nothing.
    /// What applying `set` would refuse, row by row; nothing is written.
    pub async fn import_errors(
        &self,
        set: &crate::import::rows::ImportSet,
    ) -> DbResult<Vec<crate::import::rows::RowError>> {
        let now = Utc::now();
        let tried = with_tx!(self, q, tx => async {
            q::apply_import(&mut tx, set, None, now).await?;
            // Never kept: the transaction is rolled back.
            Err::<(), _>(DbError::Rows(Vec::new()))
        }.await);
        match tried {
            Err(DbError::Rows(errors)) => Ok(errors),
            Err(e) => Err(e),
            Ok(()) => Ok(Vec::new()),
        }
    }

    pub async fn apply_import(
        &self,
        set: &crate::import::rows::ImportSet,
        meta: &ImportMeta,
        audit: AuditEntry,
    ) -> DbResult<ImportReport> {
        with_tx!(self, q, tx => async {
            // Stamped once the fund's write lock is held (the moves it
            // makes are read against records' times).
            let now = q::take_write_lock(&mut tx, Utc::now()).await?;
            let report = q::apply_import(&mut tx, set, meta.user_id, now).await?;
            q::import_record(&mut tx, meta, &report, now).await?;
            let mut audit = audit;
            audit.detail = serde_json::json!({ "meta": meta.files, "report": report });
            q::audit_append(&mut tx, &audit, now).await?;
            Ok::<_, DbError>(report)
        }.await)
    }
}

impl Db {
    /// Everything in an officer's portfolio, with the cursor of that moment.
    pub async fn sync_snapshot(
        &self,
        officer_id: i64,
        today: chrono::NaiveDate,
        acked: Option<(Option<&str>, i64)>,
    ) -> DbResult<Option<sync_rows::Portfolio>> {
        with_read!(self, q, tx => async {
            // A phone that lost its download cursor (an upgrade drops it to
            // download everything again) still holds its last upload's
            // answer: a server restored from before that upload says so.
            if let Some((epoch, seq)) = acked {
                if q::sync_cursor_check(&mut tx, epoch, seq).await?.is_none() {
                    return Ok(None);
                }
            }
            let next = q::sync_seq(&mut tx).await?;
            let epoch = q::sync_epoch(&mut tx).await?;
            let mut p = q::sync_read(&mut tx, officer_id, today, &sync_rows::Filter::default()).await?;
            p.next = next;
            p.epoch = epoch;
            Ok::<_, DbError>(Some(p))
        }.await)
    }

    /// The cursor of everything committed now: the latest epoch and the
    /// last change's sequence (`<epoch>.<seq>`).
    pub async fn sync_cursor_now(&self) -> DbResult<String> {
        with_read!(self, q, tx => async {
            let seq = q::sync_seq(&mut tx).await?;
            let epoch = q::sync_epoch(&mut tx).await?;
            Ok::<_, DbError>(format!("{epoch}.{seq}"))
        }.await)
    }

    /// Opens a sync epoch (migration 0027). Called when the server starts
    /// and before an import from the command line writes, so that after a
    /// restore from backup the cursors given after the backup are refused.
    pub async fn open_sync_epoch(&self) -> DbResult<()> {
        let tag = uuid::Uuid::new_v4().simple().to_string()[..16].to_string();
        let now = Utc::now();
        with_tx!(self, q, tx => q::open_sync_epoch(&mut tx, &tag, now).await)
    }

    /// What changed in an officer's portfolio after `since` (a sequence
    /// given in sync epoch `epoch`; none for cursors from before epochs;
    /// `acked`, the cursor of the phone's latest upload answer, checked
    /// the same way):
    /// at most `limit` changed entities, each in its current state (or
    /// removed). `None` when the cursor does not hold: beyond every change
    /// this database has made, or given after the backup it was restored
    /// from (or by another server).
    pub async fn sync_page(
        &self,
        officer_id: i64,
        today: chrono::NaiveDate,
        (epoch, since): (Option<&str>, i64),
        acked: Option<(Option<&str>, i64)>,
        limit: i64,
    ) -> DbResult<Option<sync_rows::Portfolio>> {
        with_read!(self, q, tx => async {
            let Some(latest) = q::sync_cursor_check(&mut tx, epoch, since).await? else {
                return Ok::<_, DbError>(None);
            };
            if let Some((epoch, seq)) = acked {
                if q::sync_cursor_check(&mut tx, epoch, seq).await?.is_none() {
                    return Ok(None);
                }
            }
            let mut changed = q::sync_changed(&mut tx, officer_id, since, limit + 1).await?;
            let has_more = changed.len() as i64 > limit;
            changed.truncate(limit as usize);
            let mut filter = sync_rows::Filter {
                workers: Some(Vec::new()),
                loans: Some(Vec::new()),
                houses: Some(Vec::new()),
                campaigns: Some(Vec::new()),
                records: Some(Vec::new()),
                batches: Some(Vec::new()),
            };
            for (entity, id, _) in &changed {
                let list = match entity.as_str() {
                    "worker" => &mut filter.workers,
                    "loan" => &mut filter.loans,
                    "boarding_house" => &mut filter.houses,
                    "campaign" => &mut filter.campaigns,
                    "batch" => &mut filter.batches,
                    _ => &mut filter.records,
                };
                list.get_or_insert_with(Vec::new).push(*id);
            }
            let mut p = q::sync_read(&mut tx, officer_id, today, &filter).await?;
            p.next = changed.last().map_or(since, |c| c.2);
            p.epoch = latest;
            p.has_more = has_more;
            Ok::<_, DbError>(Some(p))
        }.await)
    }
}

impl Db {
    /// Stores an uploaded batch in one transaction (see `upload.rs`).
    pub async fn upload(
        &self,
        who: &Uploader,
        batch: &CanonicalBatch,
    ) -> DbResult<sotay_core::wire::UploadResponse> {
        let job = [UploadJob { who, batch }];
        let now = Utc::now();
        let mut out = with_tx!(self, q, tx => q::store_batches(&mut tx, &job, now).await)?;
        out.pop()
            .ok_or_else(|| DbError::Invariant("a stored batch had no answer".into()))?
    }

    /// Stores several uploaded batches in one write transaction and one
    /// commit, each judged exactly as [`Db::upload`] would judge it after
    /// the batches before it in `jobs`. When a statement of the lot fails
    /// (say, a batch names a device that does not exist), the transaction
    /// is rolled back and the batches are stored again in one transaction
    /// with a savepoint each: a batch that fails is rolled back alone and
    /// gets its error, the others are stored. `Err` when the transaction as
    /// a whole failed (nothing of it was stored).
    pub async fn upload_group(
        &self,
        jobs: &[UploadJob<'_>],
    ) -> DbResult<Vec<DbResult<sotay_core::wire::UploadResponse>>> {
        use sqlx::Connection;
        let now = Utc::now();
        match with_tx!(self, q, tx => q::store_batches(&mut tx, jobs, now).await) {
            Ok(out) => return Ok(out),
            Err(e) => {
                tracing::info!(error = %e, batches = jobs.len(), "a group of uploads is stored again batch by batch")
            }
        }
        with_tx!(self, q, tx => async {
            let mut out = Vec::with_capacity(jobs.len());
            for job in jobs {
                let now = Utc::now();
                let mut sp = tx.begin().await?;
                match q::store_batches(&mut sp, std::slice::from_ref(job), now).await {
                    Ok(mut answer) => {
                        sp.commit().await?;
                        out.push(answer.pop().ok_or_else(|| DbError::Invariant("a stored batch had no answer".into()))?);
                    }
                    Err(e) => {
                        sp.rollback().await?;
                        out.push(Err(e));
                    }
                }
            }
            Ok::<_, DbError>(out)
        }.await)
    }
}

/// One batch of an [`Db::upload_group`].
#[derive(Debug, Clone, Copy)]
pub struct UploadJob<'a> {
    pub who: &'a Uploader,
    pub batch: &'a CanonicalBatch,
}

/// An uploaded batch with its canonical form: each record's canonical JSON
/// (what is stored) and content hash, and the batch's hash, the SHA-256 of
/// the batch's canonical JSON, which makes the batch id idempotent. Built
/// once, by the request handler, outside the serialised writer.
#[derive(Debug, Clone)]
pub struct CanonicalBatch {
    pub batch: sotay_core::wire::UploadBatch,
    /// Hex SHA-256 of `serde_json::to_vec(&batch)`.
    pub hash: String,
    /// Per record, in order: its canonical JSON and that JSON's hex SHA-256.
    pub records: Vec<(String, String)>,
}

impl CanonicalBatch {
    pub fn new(batch: sotay_core::wire::UploadBatch) -> Result<CanonicalBatch, serde_json::Error> {
        use sha2::{Digest, Sha256};
        let records = batch
            .records
            .iter()
            .map(|r| {
                let body = serde_json::to_string(r)?;
                let hash = hex::encode(Sha256::digest(body.as_bytes()));
                Ok((body, hash))
            })
            .collect::<Result<Vec<_>, serde_json::Error>>()?;
        // The bytes `serde_json::to_vec(&batch)` writes, from the records'
        // JSON already made (the unit test holds the two equal).
        let mut h = Sha256::new();
        h.update(b"{\"batch_id\":");
        h.update(serde_json::to_vec(&batch.batch_id)?);
        h.update(b",\"device_id\":");
        h.update(serde_json::to_vec(&batch.device_id)?);
        h.update(b",\"records\":[");
        for (i, (body, _)) in records.iter().enumerate() {
            if i > 0 {
                h.update(b",");
            }
            h.update(body.as_bytes());
        }
        h.update(b"]");
        if !batch.approved_before.is_empty() {
            h.update(b",\"approved_before\":");
            h.update(serde_json::to_vec(&batch.approved_before)?);
        }
        h.update(b"}");
        Ok(CanonicalBatch {
            batch,
            hash: hex::encode(h.finalize()),
            records,
        })
    }
}

/// Who uploads a batch.
#[derive(Debug, Clone)]
pub struct Uploader {
    pub officer_id: i64,
    pub username: String,
    pub device_id: String,
    pub device_code: String,
    pub device_revoked: bool,
    /// The client's address, for the audit log.
    pub ip: Option<String>,
}

/// What an import was: who ran it, from where, which files with which hash.
#[derive(Debug, Clone)]
pub struct ImportMeta {
    pub user_id: Option<i64>,
    /// `cli`, `api`, `console` or `demo`.
    pub source: &'static str,
    pub files: Vec<String>,
    pub sha256: String,
    pub rows: i64,
}

use chrono::Utc;

/// The id an entity has on the wire: a UUID derived from its kind and
/// external code, the same in every database and across re-imports.
pub fn stable_uid(kind: &str, code: &str) -> uuid::Uuid {
    const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x5f7a_2c1e_8d4b_4e6a_9b3c_1d2e_3f4a_5b6c);
    uuid::Uuid::new_v5(&NAMESPACE, format!("{kind}:{code}").as_bytes())
}

/// Supervisor review, the ledger and the audit log (SQL in `review.rs`).
impl Db {
    /// The repayments and gifts refused at upload since `since` in a branch
    /// (or the fund), newest first, at most `limit`: cash their officers
    /// hold and packages gone from their stock; with the names they point at.
    pub async fn refused_handovers(
        &self,
        branch: Option<i64>,
        since: chrono::DateTime<Utc>,
        limit: i64,
    ) -> DbResult<(Vec<RefusedHandoverRow>, RefusedNames)> {
        with_read!(self, q, tx => async {
            let rows = q::review::refused_handovers(&mut tx, branch, since, limit).await?;
            let refs: Vec<&RefusedRow> = rows.iter().map(|r| &r.record).collect();
            let names = q::review::refused_names(&mut tx, branch, &refs).await?;
            Ok::<_, DbError>((rows, names))
        }.await)
    }

    /// The officers' repayments on loan `loan` refused and not settled,
    /// with the names their rows show.
    pub async fn refused_on_loan(
        &self,
        branch: Option<i64>,
        loan: i64,
    ) -> DbResult<(Vec<RefusedHandoverRow>, RefusedNames)> {
        with_read!(self, q, tx => async {
            let rows = q::review::refused_on_loan(&mut tx, branch, loan).await?;
            let refs: Vec<&RefusedRow> = rows.iter().map(|r| &r.record).collect();
            let names = q::review::refused_names(&mut tx, branch, &refs).await?;
            Ok::<_, DbError>((rows, names))
        }.await)
    }

    pub async fn review_batches(
        &self,
        branch: Option<i64>,
        status: Option<BatchStatus>,
        limit: i64,
        offset: i64,
    ) -> DbResult<Vec<BatchSummary>> {
        with_read!(self, q, tx => async {
            let heads = q::review::review_batches(&mut tx, branch, status, limit, offset).await?;
            let ids: Vec<uuid::Uuid> = heads.iter().map(|h| h.batch_id).collect();
            let records = q::review::review_records(&mut tx, &ids).await?;
            let ctx = q::review::review_anomaly_context(&mut tx, &records).await?;
            Ok::<_, DbError>(crate::review::summaries(heads, &records, &ctx))
        }.await)
    }

    /// How many batches of a status a branch (or the fund) has.
    pub async fn review_batch_count(
        &self,
        branch: Option<i64>,
        status: Option<BatchStatus>,
    ) -> DbResult<i64> {
        with_conn!(self, q, c => q::review::review_batch_count(&mut c, branch, status).await)
    }

    pub async fn review_batch(&self, batch_id: uuid::Uuid) -> DbResult<Option<BatchDetail>> {
        with_read!(self, q, tx => async {
            let Some(head) = q::review::review_batch_head(&mut tx, batch_id).await? else {
                return Ok(None);
            };
            let records = q::review::review_records(&mut tx, &[batch_id]).await?;
            let refused = q::review::review_refused(&mut tx, batch_id).await?;
            let rows: Vec<&RefusedRow> = refused.iter().collect();
            let names = q::review::refused_names(&mut tx, head.branch_id.or(Some(-1)), &rows).await?;
            let ctx = q::review::review_anomaly_context(&mut tx, &records).await?;
            Ok::<_, DbError>(Some(crate::review::detail(head, &records, &refused, &names, &ctx)))
        }.await)
    }

    pub async fn approve_batch(
        &self,
        who: &Reviewer,
        batch_id: uuid::Uuid,
        cash_received: i64,
        excluded: &[(uuid::Uuid, String)],
        expected_seen: Option<i64>,
        entered_again: &EnteredAgainAnswers,
    ) -> DbResult<ApprovalOutcome> {
        let now = now_micros();
        with_tx!(self, q, tx => q::review::review_approve(&mut tx, who, batch_id, cash_received, excluded, expected_seen, entered_again, now).await)
    }

    /// Rejects a batch; `entered_again` pairs its receipts with the refused
    /// receipts they enter again, each then settled as the same cash.
    /// Gives the receipt numbers so settled.
    pub async fn reject_batch(
        &self,
        who: &Reviewer,
        batch_id: uuid::Uuid,
        reason: &str,
        entered_again: &[(uuid::Uuid, uuid::Uuid)],
    ) -> DbResult<Vec<String>> {
        let now = now_micros();
        with_tx!(self, q, tx => q::review::review_reject(&mut tx, who, batch_id, reason, entered_again, now).await)
    }

    pub async fn counter_repayment(
        &self,
        who: &Reviewer,
        loan_id: i64,
        pay: &CounterPayment,
    ) -> DbResult<CounterReceipt> {
        let now = now_micros();
        with_tx!(self, q, tx => q::review::counter_repayment(&mut tx, who, loan_id, pay, now).await)
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn campaign_receive(
        &self,
        who: &Reviewer,
        campaign_id: i64,
        branch_id: i64,
        client_id: uuid::Uuid,
        packages: i64,
        received_on: chrono::NaiveDate,
        source: &str,
    ) -> DbResult<CampaignReceipt> {
        let now = now_micros();
        with_tx!(self, q, tx => q::review::campaign_receive(&mut tx, who, campaign_id, branch_id, client_id, packages, received_on, source, now).await)
    }

    /// Whether a refused record of an officer of `branch` (any for
    /// `None`) was settled: by whom, when, how.
    /// See [`review::refused_receipt_no`].
    pub async fn refused_receipt_no(
        &self,
        record: uuid::Uuid,
        branch: Option<i64>,
    ) -> DbResult<Option<String>> {
        with_conn!(self, q, c => q::review::refused_receipt_no(&mut c, record, branch).await)
    }

    /// The entries of a loan's counter repayments that settled a refused
    /// receipt: never reversed.
    pub async fn counter_entries_settling(&self, loan_id: i64) -> DbResult<Vec<i64>> {
        with_conn!(self, q, c => q::review::counter_entries_settling(&mut c, loan_id).await)
    }

    /// Why entry `entry_id` cannot be reversed when it is a counter
    /// receipt that settled an officer's refused receipt; `None` otherwise.
    pub async fn counter_settling_refusal(&self, entry_id: i64) -> DbResult<Option<DbError>> {
        with_conn!(self, q, c => match q::review::settled_by_counter(&mut c, entry_id).await {
            Ok(()) => Ok(None),
            Err(e @ DbError::Refused(_)) => Ok(Some(e)),
            Err(e) => Err(e),
        })
    }

    pub async fn refused_settled(
        &self,
        record: uuid::Uuid,
        branch: Option<i64>,
    ) -> DbResult<Option<(String, chrono::DateTime<Utc>, String)>> {
        with_conn!(self, q, c => q::review::refused_settled(&mut c, record, branch).await)
    }

    /// Marks a refused record's cash or package settled (see
    /// `review::settle_refused`).
    pub async fn settle_refused(
        &self,
        who: &Reviewer,
        record: uuid::Uuid,
        note: &str,
        stock_out: bool,
    ) -> DbResult<RefusedSettlement> {
        let now = Utc::now();
        with_tx!(self, q, tx => q::review::settle_refused(&mut tx, who, record, note, stock_out, now).await)
    }

    /// A loan's collections by officers waiting for review.
    pub async fn pending_collections(&self, loan_id: i64) -> DbResult<Vec<PendingCollection>> {
        with_conn!(self, q, c => q::review::pending_collections(&mut c, loan_id).await)
    }

    /// Officers' receipts of `amount` on a loan that stand (waiting for
    /// review or approved, not voided or reversed), recorded and sent
    /// since the refused record `refused`, newest first, at most 5.
    pub async fn officer_receipts_of(
        &self,
        loan_id: i64,
        amount: i64,
        refused: uuid::Uuid,
    ) -> DbResult<Vec<OfficerReceipt>> {
        with_conn!(self, q, c => q::review::officer_receipts_of(&mut c, loan_id, amount, refused).await)
    }

    /// Repayments taken at the counter, newest first, at most `limit`: of
    /// one branch (`None`: every branch), of one loan (`None`: every loan).
    pub async fn counter_lines(
        &self,
        branch: Option<i64>,
        loan_id: Option<i64>,
        limit: i64,
    ) -> DbResult<Vec<CounterLine>> {
        with_conn!(self, q, c => q::review::counter_lines(&mut c, branch, loan_id, limit).await)
    }

    /// One counter repayment as its printed receipt shows it, if it is
    /// `branch`'s (`None`: any branch).
    pub async fn counter_slip(
        &self,
        branch: Option<i64>,
        id: i64,
    ) -> DbResult<Option<CounterSlip>> {
        with_conn!(self, q, c => q::review::counter_slip(&mut c, branch, id).await)
    }

    pub async fn campaign_receipts(
        &self,
        campaign_id: Option<i64>,
        branch: Option<i64>,
    ) -> DbResult<Vec<CampaignReceipt>> {
        with_conn!(self, q, c => q::review::campaign_receipts(&mut c, campaign_id, branch).await)
    }

    /// Lending capital sent to a branch's vault or bank account (admins),
    /// posted at once.
    #[allow(clippy::too_many_arguments)]
    pub async fn capital_receive(
        &self,
        who: &Reviewer,
        branch_id: i64,
        client_id: uuid::Uuid,
        amount: i64,
        received_on: chrono::NaiveDate,
        source: &str,
        method: PayMethod,
    ) -> DbResult<CapitalReceipt> {
        let now = now_micros();
        with_tx!(self, q, tx => q::review::capital_receive(&mut tx, who, branch_id, client_id, amount, received_on, source, method, now).await)
    }

    /// Stores the signature image of one of the uploader's gift records
    /// (the image whose SHA-256 the record names), once per image.
    pub async fn receive_signature(
        &self,
        who: &Uploader,
        client_id: uuid::Uuid,
        image: &[u8],
    ) -> DbResult<SignatureReceipt> {
        use sha2::Digest;
        let sha256 = hex::encode(sha2::Sha256::digest(image));
        let media_type = sotay_core::domain::gifts::signature_media_type(image);
        let now = now_micros();
        with_tx!(self, q, tx => q::review::signature_receive(&mut tx, who, client_id, image, &sha256, media_type, now).await)
    }

    /// A record's signature and whose record it is, if the record exists.
    pub async fn record_signature(
        &self,
        client_id: uuid::Uuid,
    ) -> DbResult<Option<RecordSignature>> {
        with_conn!(self, q, c => q::review::record_signature(&mut c, client_id).await)
    }

    pub async fn capital_receipts(&self, branch: Option<i64>) -> DbResult<Vec<CapitalReceipt>> {
        with_conn!(self, q, c => q::review::capital_receipts(&mut c, branch).await)
    }

    /// A movement of a branch's bank account, posted at once: cash paid in
    /// or drawn, or a charge or interest from a statement line.
    pub async fn bank_move(&self, who: &Reviewer, m: &NewBankMove<'_>) -> DbResult<BankMove> {
        let now = now_micros();
        with_tx!(self, q, tx => q::review::bank_move(&mut tx, who, m, now).await)
    }

    /// An officer's shortage paid back into the vault, or overage paid back
    /// out of it, posted at once.
    pub async fn over_short_settle(
        &self,
        who: &Reviewer,
        m: &NewOverShort<'_>,
    ) -> DbResult<OverShortSettlement> {
        let now = now_micros();
        with_tx!(self, q, tx => q::review::over_short_settle(&mut tx, who, m, now).await)
    }

    /// One over/short settlement in `branch` (`None`: any), with the
    /// officer's balance left.
    pub async fn over_short_settlement(
        &self,
        id: i64,
        branch: Option<i64>,
    ) -> DbResult<Option<OverShortSettlement>> {
        with_conn!(self, q, c => q::review::over_short_settlement(&mut c, id, branch).await)
    }

    /// The over/short settlements of a branch (`None`: the fund), newest
    /// first, at most `limit`.
    pub async fn over_short_settlements(
        &self,
        branch: Option<i64>,
        limit: i64,
    ) -> DbResult<Vec<OverShortSettlement>> {
        with_conn!(self, q, c => q::review::over_short_settlements(&mut c, branch, limit).await)
    }

    /// A count of a branch's vault (kiểm kê quỹ), with the vault's balance
    /// on the books read in the same transaction; posts nothing.
    pub async fn vault_count(&self, who: &Reviewer, m: &NewVaultCount<'_>) -> DbResult<VaultCount> {
        let now = now_micros();
        with_tx!(self, q, tx => q::review::vault_count(&mut tx, who, m, now).await)
    }

    /// One vault count of `branch` (`None`: any).
    pub async fn vault_count_get(
        &self,
        id: i64,
        branch: Option<i64>,
    ) -> DbResult<Option<VaultCount>> {
        with_conn!(self, q, c => q::review::vault_count_get(&mut c, id, branch).await)
    }

    /// The vault counts of a branch (`None`: the fund), newest first, at
    /// most `limit`.
    pub async fn vault_counts(&self, branch: Option<i64>, limit: i64) -> DbResult<Vec<VaultCount>> {
        with_conn!(self, q, c => q::review::vault_counts(&mut c, branch, limit).await)
    }

    /// The branch vault's balance on the books now.
    pub async fn vault_balance(&self, branch_id: i64) -> DbResult<i64> {
        with_conn!(self, q, c => q::review::vault_balance(&mut c, branch_id).await)
    }

    /// The bank moves of a branch (`None`: the fund), newest first.
    pub async fn bank_moves(&self, branch: Option<i64>) -> DbResult<Vec<BankMove>> {
        with_conn!(self, q, c => q::review::bank_moves(&mut c, branch).await)
    }

    /// Keeps a bank statement of `branch_id`'s account read from a file
    /// (see [`crate::statement`]): its id, and whether the same file was
    /// kept before.
    pub async fn statement_keep(
        &self,
        who: &Reviewer,
        branch_id: i64,
        file_name: &str,
        sha256: &str,
        lines: &[crate::statement::StatementLine],
    ) -> DbResult<(i64, bool)> {
        let now = now_micros();
        with_tx!(self, q, tx => q::review::statement_keep(&mut tx, who, branch_id, file_name, sha256, lines, now).await)
    }

    /// The bank statements kept, newest first: of one branch (`None`: all).
    pub async fn statements(&self, branch: Option<i64>) -> DbResult<Vec<StatementSummary>> {
        with_conn!(self, q, c => q::review::statements(&mut c, branch).await)
    }

    /// One kept statement, its lines, the bank account's book from a few
    /// days before its first day until now, and the book's balances before
    /// its first day and after its last, in one read transaction.
    pub async fn statement_with_book(
        &self,
        branch: Option<i64>,
        id: i64,
    ) -> DbResult<Option<StatementBook>> {
        with_read!(self, q, tx => async {
            let Some((head, lines)) = q::review::statement(&mut tx, branch, id).await? else {
                return Ok(None);
            };
            Ok::<_, DbError>(Some(q::review::statement_book(&mut tx, head, lines).await?))
        }.await)
    }

    /// Posts a statement line the books lack as a charge, interest, or
    /// cash paid in or drawn (see `statement_line_post`).
    pub async fn statement_line_post(
        &self,
        who: &Reviewer,
        statement_id: i64,
        line_no: i64,
        client_id: uuid::Uuid,
        direction: BankDirection,
    ) -> DbResult<BankMove> {
        let now = now_micros();
        with_tx!(self, q, tx => q::review::statement_line_post(&mut tx, who, statement_id, line_no, client_id, direction, now).await)
    }

    /// Asks for a new loan for a worker, paid out once someone else approves.
    #[allow(clippy::too_many_arguments)]
    pub async fn request_disbursement(
        &self,
        who: &Reviewer,
        worker_id: i64,
        client_id: uuid::Uuid,
        product_id: i64,
        principal: i64,
        note: &str,
        method: PayMethod,
        bank_account: Option<&str>,
    ) -> DbResult<Disbursement> {
        let now = now_micros();
        with_tx!(self, q, tx => q::review::disbursement_request(&mut tx, who, worker_id, client_id, product_id, principal, note, method, bank_account, now).await)
    }

    /// The schedule a loan would have if paid out today, checked as a
    /// request is.
    pub async fn disbursement_preview(
        &self,
        product_id: i64,
        principal: i64,
    ) -> DbResult<Vec<sotay_core::domain::schedule::Installment>> {
        let now = now_micros();
        with_conn!(self, q, c => q::review::disbursement_preview(&mut c, product_id, principal, now).await)
    }

    /// Approves (creating the loan, paying it out of the vault or, by
    /// transfer, the bank account) or
    /// rejects a disbursement.
    pub async fn decide_disbursement(
        &self,
        who: &Reviewer,
        id: i64,
        approve: bool,
        reason: Option<&str>,
        transfer_ref: Option<&str>,
    ) -> DbResult<Disbursement> {
        let now = now_micros();
        with_tx!(self, q, tx => q::review::disbursement_decide(&mut tx, who, id, approve, reason, transfer_ref, now).await)
    }

    /// Disbursements of a branch (`None`: the fund), of a worker (`None`:
    /// all), newest first.
    pub async fn disbursements(
        &self,
        branch: Option<i64>,
        worker_id: Option<i64>,
        pending_only: bool,
    ) -> DbResult<Vec<Disbursement>> {
        with_conn!(self, q, c => q::review::disbursements(&mut c, branch, worker_id, pending_only).await)
    }

    pub async fn request_reversal(
        &self,
        who: &Reviewer,
        entry_id: i64,
        reason: &str,
    ) -> DbResult<i64> {
        let now = now_micros();
        with_tx!(self, q, tx => q::review::branch_reversal_request(&mut tx, who, entry_id, reason, now).await)
    }

    pub async fn decide_reversal(
        &self,
        who: &Reviewer,
        id: i64,
        approve: bool,
        reason: Option<&str>,
    ) -> DbResult<Option<i64>> {
        let now = now_micros();
        with_tx!(self, q, tx => q::review::branch_reversal_decide(&mut tx, who, id, approve, reason, now).await)
    }

    /// What waits for a supervisor in a branch (`None`: the fund): batches
    /// to decide, refused cash and packages not settled (counted up to
    /// `most`), reversals and payouts asked for.
    pub async fn waiting(&self, branch: Option<i64>, me: i64, most: i64) -> DbResult<Waiting> {
        with_read!(self, q, tx => async {
            let batches = q::review::pending_batch_count(&mut tx, branch).await?;
            let held = q::review::refused_handovers(&mut tx, branch, chrono::DateTime::UNIX_EPOCH, most).await?;
            let refused = held.len() as i64;
            // Of those counted (one more is read to tell there are more).
            let refused_cash = held.iter().take((most - 1).max(0) as usize).filter_map(|r| r.record.cash()).sum();
            let asked = q::review::branch_reversals(&mut tx, branch, true).await?;
            let reversals = asked.len() as i64;
            let reversals_own = asked.iter().filter(|r| r.requested_by_id == me).count() as i64;
            let disbursements = q::review::disbursements(&mut tx, branch, None, true).await?.len() as i64;
            Ok::<_, DbError>(Waiting { batches, refused, refused_cash, reversals, reversals_own, disbursements })
        }.await)
    }

    pub async fn branch_reversals(
        &self,
        branch: Option<i64>,
        pending_only: bool,
    ) -> DbResult<Vec<BranchReversal>> {
        with_conn!(self, q, c => q::review::branch_reversals(&mut c, branch, pending_only).await)
    }

    /// One reversal request of `branch` (any: `None`), by its id.
    pub async fn branch_reversal(
        &self,
        branch: Option<i64>,
        id: i64,
    ) -> DbResult<Option<BranchReversal>> {
        with_conn!(self, q, c => q::review::branch_reversal(&mut c, branch, id).await)
    }

    pub async fn ledger_balances(&self, branch: Option<i64>) -> DbResult<Vec<AccountBalance>> {
        with_conn!(self, q, c => q::review::ledger_balances(&mut c, branch).await)
    }

    /// Entries whose debits and credits differ (none, unless something is broken).
    pub async fn ledger_unbalanced(&self) -> DbResult<Vec<i64>> {
        with_conn!(self, q, c => q::review::ledger_unbalanced(&mut c).await)
    }

    /// Sub-ledgers (account, branch) whose kept balance disagrees with their
    /// journal lines; empty when the books agree.
    pub async fn ledger_balance_drift(&self) -> DbResult<Vec<(String, String)>> {
        with_conn!(self, q, c => q::review::ledger_balance_drift(&mut c).await)
    }

    /// Loans whose ledger principal differs from their installments (see
    /// `review::loan_principal_drift`): empty when the books agree.
    pub async fn loan_principal_drift(&self) -> DbResult<Vec<(String, i64, i64)>> {
        with_conn!(self, q, c => q::review::loan_principal_drift(&mut c).await)
    }

    /// Loans with principal on a branch other than their borrower's:
    /// (loan, branch, net); empty when every branch's book holds its own.
    pub async fn loan_branch_drift(&self) -> DbResult<Vec<(String, String, i64)>> {
        with_conn!(self, q, c => q::review::loan_branch_drift(&mut c).await)
    }

    /// Records whose columns disagree with the body the phone sent, or
    /// whose body lost its hash: (record id, the column or `body_hash`).
    pub async fn record_body_drift(&self) -> DbResult<Vec<(i64, String)>> {
        with_conn!(self, q, c => q::review::record_body_drift(&mut c).await)
    }

    /// Records on which the undecided repayments kept by triggers disagree
    /// with sync_records and record_reviews; empty when they agree.
    pub async fn undecided_drift(&self) -> DbResult<Vec<i64>> {
        with_conn!(self, q, c => q::review::undecided_drift(&mut c).await)
    }

    pub async fn ledger_entries(
        &self,
        branch: Option<i64>,
        loan_id: Option<i64>,
        limit: i64,
        offset: i64,
    ) -> DbResult<Vec<EntryView>> {
        with_conn!(self, q, c => q::review::ledger_entries(&mut c, branch, loan_id, None, limit, offset).await)
    }

    /// One journal entry with its lines, if it is in `branch` (`None`: any).
    pub async fn ledger_entry(&self, branch: Option<i64>, id: i64) -> DbResult<Option<EntryView>> {
        let found = with_conn!(self, q, c => q::review::ledger_entries(&mut c, branch, None, Some(id), 1, 0).await)?;
        Ok(found.into_iter().next())
    }

    pub async fn audit_log(&self, filter: &AuditFilter) -> DbResult<Vec<AuditRow>> {
        with_conn!(self, q, c => q::review::audit_list(&mut c, filter).await)
    }
}

/// Now, to the microsecond: what PostgreSQL stores, so an answer built from
/// memory equals the same answer read back later.
fn now_micros() -> chrono::DateTime<Utc> {
    use chrono::SubsecRound;
    Utc::now().trunc_subsecs(6)
}

/// The reports' reads (SQL in `reports.rs`, shaping in `crate::reports`),
/// each in one consistent snapshot.
impl Db {
    pub async fn report_daily(
        &self,
        w: &crate::reports::Where,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> DbResult<(
        crate::reports::rows::Names,
        Vec<crate::reports::rows::DailyPostedRow>,
        Vec<crate::reports::rows::DailyDueRow>,
    )> {
        with_read!(self, q, tx => async {
            let names = q::reports::names(&mut tx).await?;
            let posted = q::reports::daily_posted(&mut tx, w, from, to).await?;
            let due = q::reports::daily_due(&mut tx, w, from, to).await?;
            Ok::<_, DbError>((names, posted, due))
        }.await)
    }

    pub async fn report_par(
        &self,
        w: &crate::reports::Where,
        as_of: chrono::NaiveDate,
    ) -> DbResult<(
        crate::reports::rows::Names,
        Vec<crate::reports::rows::PortfolioRow>,
        Vec<crate::reports::rows::OverdueRow>,
    )> {
        with_read!(self, q, tx => async {
            let names = q::reports::names(&mut tx).await?;
            let portfolio = q::reports::portfolio(&mut tx, w).await?;
            let overdue = q::reports::overdue(&mut tx, w, as_of).await?;
            Ok::<_, DbError>((names, portfolio, overdue))
        }.await)
    }

    pub async fn report_overdue_loans(
        &self,
        w: &crate::reports::Where,
        as_of: chrono::NaiveDate,
    ) -> DbResult<(
        crate::reports::rows::Names,
        Vec<crate::reports::rows::OverdueLoanRow>,
    )> {
        with_read!(self, q, tx => async {
            let names = q::reports::names(&mut tx).await?;
            let loans = q::reports::overdue_loans(&mut tx, w, as_of).await?;
            Ok::<_, DbError>((names, loans))
        }.await)
    }

    pub async fn report_campaigns(
        &self,
        w: &crate::reports::Where,
        campaign: Option<i64>,
        from: Option<chrono::DateTime<Utc>>,
        to: Option<chrono::DateTime<Utc>>,
    ) -> DbResult<crate::reports::CampaignData> {
        with_read!(self, q, tx => async {
            let names = q::reports::names(&mut tx).await?;
            let campaigns = q::reports::campaigns(&mut tx, campaign).await?;
            let gifts = q::reports::gifts(&mut tx, w, campaign, from, to).await?;
            let (branch_quotas, officer_quotas) = q::reports::quotas(&mut tx).await?;
            Ok::<_, DbError>(crate::reports::CampaignData { names, campaigns, gifts, branch_quotas, officer_quotas })
        }.await)
    }

    pub async fn report_visits(
        &self,
        w: &crate::reports::Where,
        from: chrono::DateTime<Utc>,
        to: chrono::DateTime<Utc>,
    ) -> DbResult<crate::reports::VisitData> {
        with_read!(self, q, tx => async {
            let names = q::reports::names(&mut tx).await?;
            let visits = q::reports::visits(&mut tx, w, from, to).await?;
            let officers = q::reports::visit_officers(&mut tx, w).await?;
            let hardship = q::reports::hardship_workers(&mut tx, w).await?;
            Ok::<_, DbError>(crate::reports::VisitData { names, visits, officers, hardship })
        }.await)
    }

    /// A book of one account of the branches (`vault` or `bank`): the
    /// names, each branch's balance at the end of `from`..`to` (its balance
    /// now, less what it took in since `to`), and its movements within it.
    pub async fn report_book(
        &self,
        w: &crate::reports::Where,
        account: crate::ledger::Account,
        from: chrono::DateTime<Utc>,
        to: chrono::DateTime<Utc>,
    ) -> DbResult<(
        crate::reports::rows::Names,
        Vec<(i64, i64)>,
        Vec<crate::reports::rows::BookMove>,
    )> {
        let account = account.as_str();
        with_read!(self, q, tx => async {
            let names = q::reports::names(&mut tx).await?;
            let mut closing: std::collections::BTreeMap<i64, i64> =
                q::reports::book_now(&mut tx, w, account).await?.into_iter().collect();
            for (b, since) in q::reports::book_since(&mut tx, w, account, to).await? {
                *closing.entry(b).or_default() -= since;
            }
            let moves = q::reports::book_moves(&mut tx, w, account, from, to).await?;
            Ok::<_, DbError>((names, closing.into_iter().collect(), moves))
        }.await)
    }

    pub async fn report_statement(
        &self,
        w: &crate::reports::Where,
        worker_id: i64,
    ) -> DbResult<Option<crate::reports::StatementData>> {
        with_read!(self, q, tx => async {
            let Some(worker) = q::reports::statement_worker(&mut tx, w, worker_id).await? else {
                return Ok(None);
            };
            Ok::<_, DbError>(Some(crate::reports::StatementData {
                names: q::reports::names(&mut tx).await?,
                worker,
                loans: q::reports::statement_loans(&mut tx, worker_id).await?,
                installments: q::reports::statement_installments(&mut tx, worker_id).await?,
                payments: q::reports::statement_payments(&mut tx, worker_id).await?,
                gifts: q::reports::statement_gifts(&mut tx, worker_id).await?,
            }))
        }.await)
    }
}

#[cfg(test)]
mod tests {
    use super::CanonicalBatch;
    use sotay_core::domain::money::Dong;
    use sotay_core::wire::{
        GeoPoint, GiftHandoutPayload, RecordBody, RepaymentPayload, UploadBatch, UploadRecord,
        VisitPayload, VisitPurpose, VoidPayload,
    };
    use uuid::Uuid;

    /// A transaction SQLite ended by itself (a full disk or an I/O error
    /// rolls it back) fails; the next one on the same connection — the
    /// upload writer has only one — runs, instead of every later upload
    /// failing until the server restarts.
    #[tokio::test]
    async fn a_transaction_that_failed_in_the_database_does_not_wedge_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = super::Db::connect(&url).await.unwrap();
        let writer = db.upload_writer();
        let failed = with_tx!(&writer, q, tx => async {
            sqlx::query("ROLLBACK").execute(&mut *tx).await?;
            Ok::<_, super::DbError>(())
        }
        .await);
        assert!(failed.is_err());
        for _ in 0..2 {
            let one: super::DbResult<i64> = with_tx!(&writer, q, tx => async {
                let one: i64 = sqlx::query_scalar("SELECT 1").fetch_one(&mut *tx).await?;
                Ok::<_, super::DbError>(one)
            }
            .await);
            assert_eq!(one.unwrap(), 1);
        }
    }

    /// A disk that fills in the middle of an upload's transaction (SQLite
    /// held to the pages it has, on this connection) is said to be full,
    /// and the next transaction on the writer's one connection runs (on a
    /// connection of its own: one with space again).
    #[tokio::test]
    async fn a_full_disk_is_said_so_and_the_writer_carries_on() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = super::Db::connect(&url).await.unwrap();
        let writer = db.upload_writer();
        let full = with_tx!(&writer, q, tx => async {
            let pages: i64 = sqlx::query_scalar("PRAGMA page_count").fetch_one(&mut *tx).await?;
            sqlx::query(&format!("PRAGMA max_page_count = {pages}")).execute(&mut *tx).await?;
            sqlx::query("CREATE TABLE filler (x BLOB)").execute(&mut *tx).await?;
            sqlx::query("INSERT INTO filler VALUES (randomblob(1000000))").execute(&mut *tx).await?;
            Ok::<_, super::DbError>(())
        }
        .await);
        let e = full.unwrap_err();
        assert!(e.is_storage_full(), "{e}");
        let said = crate::error::AppError::from(e);
        let detail = &*said;
        assert_eq!((detail.status.as_u16(), detail.code), (503, "storage_full"));
        assert!(detail.message_vi.contains("Ổ đĩa của máy chủ đã đầy"));
        let made = with_tx!(&writer, q, tx => async {
            sqlx::query("CREATE TABLE filler (x BLOB)").execute(&mut *tx).await?;
            sqlx::query("INSERT INTO filler VALUES (randomblob(100000))").execute(&mut *tx).await?;
            Ok::<_, super::DbError>(())
        }
        .await);
        assert!(made.is_ok(), "{made:?}");
    }

    fn digest(bytes: &[u8]) -> String {
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes))
    }

    /// The batch hash made from the records' JSON is the hash of the whole
    /// batch's JSON, as it was when the handler serialised the batch again
    /// (stored batches keep matching their replays).
    #[test]
    fn canonical_hash_is_the_whole_batch_json() {
        let device = Uuid::now_v7();
        let worker = Uuid::now_v7();
        let record = |seq: i64, body: RecordBody| UploadRecord {
            client_id: Uuid::now_v7(),
            device_id: device,
            device_seq: seq,
            recorded_at: chrono::Utc::now(),
            body,
        };
        let records = [
            record(
                1,
                RecordBody::Visit(VisitPayload {
                    worker_id: worker,
                    purpose: VisitPurpose::HardshipVisit,
                    outcome: "Gặp \"chị Hoa\"\n".into(),
                    notes: "Chủ trọ xác nhận — phòng 12\\B".into(),
                    location: Some(GeoPoint {
                        latitude: 10.85,
                        longitude: 106.75,
                        accuracy_m: None,
                    }),
                }),
            ),
            record(
                2,
                RecordBody::Repayment(RepaymentPayload {
                    loan_id: Uuid::now_v7(),
                    worker_id: worker,
                    amount: Dong(1_500_000),
                    receipt_no: "CB01-000002".into(),
                }),
            ),
            record(
                3,
                RecordBody::GiftHandout(GiftHandoutPayload {
                    campaign_id: Uuid::now_v7(),
                    worker_id: worker,
                    acknowledged_name: "Nguyễn Thị Hoa".into(),
                    signature_sha256: None,
                }),
            ),
            record(
                4,
                RecordBody::Void(VoidPayload {
                    target_id: Uuid::now_v7(),
                    reason: "ghi nhầm".into(),
                }),
            ),
        ];
        for n in [0, 1, 4] {
            let batch = UploadBatch {
                batch_id: Uuid::now_v7(),
                device_id: device,
                records: records[..n].to_vec(),
                // Sent again after a restore: said of some of them.
                approved_before: records[..n].iter().take(1).map(|r| r.client_id).collect(),
            };
            let whole = digest(&serde_json::to_vec(&batch).unwrap());
            let canonical = CanonicalBatch::new(batch.clone()).unwrap();
            assert_eq!(canonical.hash, whole, "{n} records");
            assert_eq!(canonical.records.len(), n);
            for (r, (body, hash)) in batch.records.iter().zip(&canonical.records) {
                assert_eq!(body, &serde_json::to_string(r).unwrap());
                assert_eq!(hash, &digest(body.as_bytes()));
            }
        }
    }
}
