//! `sotay-server`: serve the API, import master data, manage the database.

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use sotay_server::app::{self, AppState};
use sotay_server::client_addr::TrustedProxies;
use sotay_server::config::{DEFAULT_BIND, DEFAULT_DATABASE_URL};
use sotay_server::db::{AuditEntry, Db, Open};
use sotay_server::import::csv::ImportKind;
use sotay_server::importer::{self, ImportFile};
use sotay_server::{auth, demo, ops};

#[derive(Parser)]
#[command(name = "sotay-server", version, about = "Sổ Tay central server")]
struct Cli {
    /// `postgres://…` for PostgreSQL; otherwise a SQLite file (created on first use).
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    database_url: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server.
    Serve {
        /// The address and port to listen on.
        #[arg(long, env = "SOTAY_BIND", default_value = DEFAULT_BIND, value_parser = parse_bind)]
        bind: SocketAddr,
        /// Seed the demo fund (once) and print its logins.
        #[arg(long)]
        demo: bool,
        /// JWT signing secret; generated and kept in the database when unset.
        #[arg(long, env = "SOTAY_JWT_SECRET", hide_env_values = true)]
        jwt_secret: Option<String>,
        /// Proxies (addresses or networks, comma-separated, e.g.
        /// `127.0.0.1,10.0.0.0/8`) whose `X-Forwarded-For` names the client;
        /// set it to the TLS proxy's address when the server runs behind one.
        #[arg(long, env = "SOTAY_TRUSTED_PROXIES", default_value = "")]
        trusted_proxies: TrustedProxies,
    },
    /// Import master data from CSV files or folders of them (branches.csv,
    /// users.csv, boarding_houses.csv, workers.csv, loan_products.csv,
    /// loans.csv, campaigns.csv, campaign_allocations.csv). All or nothing.
    Import {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Write the demo fund as CSV files into a folder (sample import files).
    DemoExport { dir: PathBuf },
    /// Set a user's password; the new password is read from standard input.
    SetPassword { username: String },
    /// Apply database migrations and exit.
    Migrate,
    /// Copy the SQLite database into a new file while the server may be
    /// running (a consistent snapshot, checked before it takes its name).
    /// PostgreSQL: use pg_dump.
    Backup { file: PathBuf },
    /// Check the database and the books: storage, references, every entry
    /// balanced, kept balances, each loan's principal, pending collections.
    /// Exits with 1 when anything disagrees.
    Check,
}

/// `println!` for a command's output: when the reader has gone (`import |
/// head`, a pager quit early) the command stops quietly, with what it has
/// done kept, and exits as other command-line tools do when their reader
/// goes (141, a broken pipe; never 0, so `check | head` cannot pass),
/// instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(141);
            }
            panic!("writing to standard output: {e}");
        }
    }};
}

enum LogFormat {
    Text,
    Json,
}

/// `SOTAY_LOG_FORMAT`: `text` (the default) or `json`. Another value is
/// said, and text used, so the server still starts and logs.
fn log_format() -> LogFormat {
    match std::env::var("SOTAY_LOG_FORMAT") {
        Err(_) => LogFormat::Text,
        Ok(f) => match f.trim().to_ascii_lowercase().as_str() {
            "" | "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            _ => {
                eprintln!(
                    "SOTAY_LOG_FORMAT={f} không đọc được (text hoặc json); dùng text\nSOTAY_LOG_FORMAT={f} does not read (text or json); using text"
                );
                LogFormat::Text
            }
        },
    }
}

/// The log filter unless `RUST_LOG` says otherwise: a line per request and
/// the server's own events.
const DEFAULT_LOG: &str = "info,sqlx=warn";

/// Runs the command; a refusal is said in words (with its causes), never
/// with a backtrace, whatever `RUST_BACKTRACE` says: it is for a person
/// running the command, not for a developer.
fn main() -> std::process::ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("Lỗi: không khởi động được ({e})\nError: could not start ({e})");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Lỗi / Error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    use std::io::IsTerminal;
    // A filter that does not read is said, not silently replaced.
    let filter = match std::env::var("RUST_LOG") {
        Ok(f) if !f.trim().is_empty() => {
            tracing_subscriber::EnvFilter::try_new(&f).unwrap_or_else(|e| {
                eprintln!(
                    "RUST_LOG={f} không đọc được ({e}); dùng mặc định {DEFAULT_LOG}\nRUST_LOG={f} does not read ({e}); using the default {DEFAULT_LOG}"
                );
                DEFAULT_LOG.into()
            })
        }
        _ => DEFAULT_LOG.into(),
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match log_format() {
        LogFormat::Text => logs
            // Colours for a person at a terminal, not into a log file or journald.
            .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
            .init(),
        // One JSON object a line, for a log collector: the event's fields at
        // the top level, a request's method and path under `span`.
        LogFormat::Json => logs
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
    let cli = Cli::try_parse().unwrap_or_else(|e| {
        if let Some(vi) = sotay_core::cli::usage_error_vi(&e) {
            eprintln!("Lỗi: {vi}");
        }
        e.exit()
    });
    match cli.command {
        Command::Serve {
            bind,
            demo,
            jwt_secret,
            trusted_proxies,
        } => serve(&cli.database_url, bind, demo, jwt_secret, trusted_proxies).await,
        Command::Import { paths } => import(&cli.database_url, &paths).await,
        Command::DemoExport { dir } => {
            // The same day as `serve --demo` seeds: Vietnam's date.
            let set = demo::demo_fund(sotay_core::domain::time::local_date(chrono::Utc::now()));
            match sotay_server::import::csv::write_dir(&set, &dir) {
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => anyhow::bail!(
                    "{e} đã có: demo-export không ghi đè tệp nào, hãy chọn một thư mục mới (hoặc trống)\n\
                     {e} exists already: demo-export overwrites no file, choose a new (or empty) folder"
                ),
                r => r.with_context(|| {
                    format!(
                        "không ghi được các tệp mẫu vào {0} / could not write the demo files into {0}",
                        dir.display()
                    )
                })?,
            }
            out!(
                "Đã ghi {0} dòng của quỹ mẫu thành các tệp CSV trong {1}\nWrote {0} demo rows as CSV files into {1}",
                set.row_count(),
                dir.display()
            );
            Ok(())
        }
        Command::SetPassword { username } => set_password(&cli.database_url, &username).await,
        Command::Migrate => {
            use sotay_server::db::SchemaChange;
            let (db, change) = open_changing(&cli.database_url, Open::Migrate).await?;
            let backend = db.backend_name();
            match change {
                SchemaChange::SetUp { migrations } => out!(
                    "Đã tạo cấu trúc cho cơ sở dữ liệu mới ({backend}): {migrations} bước cấu trúc.\n\
                     Set up the new database ({backend}): {migrations} migrations applied."
                ),
                SchemaChange::Upgraded { from, migrations } => out!(
                    "Đã nâng cấp cơ sở dữ liệu ({backend}): thêm {migrations} bước cấu trúc (đã có {from}, nay {0}).\n\
                     Upgraded the database ({backend}): {migrations} migrations applied ({from} before, {0} now).",
                    from + migrations
                ),
                SchemaChange::None => out!(
                    "Cơ sở dữ liệu đã cập nhật ({backend}): không có bước cấu trúc nào phải làm.\n\
                     Database is up to date ({backend}): no migration to apply."
                ),
            }
            db.close().await;
            Ok(())
        }
        Command::Backup { file } => backup(&cli.database_url, &file).await,
        Command::Check => check(&cli.database_url).await,
    }
}

/// Opens an existing database: a SQLite file that is not there is named
/// (where it was looked for), not created.
async fn open_existing(url: &str, how: Open) -> anyhow::Result<Db> {
    Db::check_url(url)?;
    if let Some(path) = Db::sqlite_path(url) {
        // The file, without the URL's options (`?mode=…`).
        let path = std::path::Path::new(path.split('?').next().unwrap_or(path));
        if !path.exists() {
            let full = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
            let full = full.display();
            bail!(
                "Không có tệp cơ sở dữ liệu {full} (DATABASE_URL)\nno database file at {full} (DATABASE_URL)"
            );
        }
    }
    open(url, how).await
}

async fn backup(url: &str, file: &std::path::Path) -> anyhow::Result<()> {
    let db = open_existing(url, Open::AsIs).await?;
    match ops::backup(&db, file).await {
        Ok(b) => {
            out!(
                "Đã sao lưu / backed up {} into {} ({} bytes, {} ms); checked: intact.",
                redact(url),
                b.path.display(),
                b.bytes,
                b.millis
            );
            Ok(())
        }
        Err(e) => {
            eprintln!("{}", e.message());
            std::process::exit(1);
        }
    }
}

async fn check(url: &str) -> anyhow::Result<()> {
    let db = open_existing(url, Open::Current).await?;
    let started = Instant::now();
    let findings = ops::check(&db).await.context("checking the database")?;
    out!(
        "Kiểm tra / checking {} ({})",
        redact(url),
        db.backend_name()
    );
    for f in &findings {
        if f.holds() {
            out!("  ok    {} — {}", f.vi, f.en);
        } else {
            out!("  LỖI   {} — {}: {} (FAILED)", f.vi, f.en, f.total);
            for p in &f.problems {
                out!("          {p}");
            }
            if f.total > f.problems.len() {
                out!("          … {} more", f.total - f.problems.len());
            }
        }
    }
    let failed = findings.iter().filter(|f| !f.holds()).count();
    out!(
        "{} / {} checks hold ({} ms).",
        findings.len() - failed,
        findings.len(),
        started.elapsed().as_millis()
    );
    if failed > 0 {
        eprintln!(
            "Sổ sách không khớp ở {failed} mục (liệt kê ở trên): giữ nguyên cơ sở dữ liệu và các bản sao lưu, báo đội kỹ thuật.\n\
             the books disagree in {failed} check(s) (listed above): keep the database and its backups as they are and tell the engineers."
        );
        std::process::exit(1);
    }
    Ok(())
}

async fn open(url: &str, how: Open) -> anyhow::Result<Db> {
    open_changing(url, how).await.map(|(db, _)| db)
}

/// [`open`], saying what it did to the schema.
async fn open_changing(
    url: &str,
    how: Open,
) -> anyhow::Result<(Db, sotay_server::db::SchemaChange)> {
    let started = Instant::now();
    let (db, change) = Db::open_changing(url, how).await.map_err(|e| {
        let what = match Db::sqlite_path(url) {
            Some(path) if std::path::Path::new(path).is_dir() => {
                let full = std::path::absolute(path).unwrap_or_else(|_| path.into());
                format!(
                    "{0} là một thư mục, không phải tệp cơ sở dữ liệu: DATABASE_URL phải chỉ tới tệp, ví dụ sqlite://{1}\n\
                     {0} is a folder, not a database file: DATABASE_URL must name the file, e.g. sqlite://{1}",
                    full.display(),
                    full.join("sotay.db").display()
                )
            }
            Some(path) if cannot_write(&e) => {
                let full = std::path::absolute(path).unwrap_or_else(|_| path.into());
                format!(
                    "Không ghi được vào {} hoặc thư mục của nó: kiểm tra chủ sở hữu và quyền (tài khoản chạy sotay-server phải ghi được cả thư mục)\n\
                     cannot write {} or its folder: check their owner and permissions (the account running sotay-server must be able to write the folder too)",
                    full.display(),
                    full.display()
                )
            }
            _ => match cannot_open(&e, url) {
                Some((vi, en)) => format!("{vi}\n{en}"),
                None => format!("opening the database {}", redact(url)),
            },
        };
        anyhow::Error::new(e).context(what)
    })?;
    tracing::info!(
        backend = db.backend_name(),
        ms = started.elapsed().as_millis() as u64,
        "database ready"
    );
    Ok((db, change))
}

/// A SQLite file or folder this process may not write (read-only,
/// another owner).
fn cannot_write(e: &sotay_server::db::DbError) -> bool {
    use sotay_server::db::DbError;
    match e {
        DbError::Sqlx(sqlx::Error::Io(io)) => io.kind() == std::io::ErrorKind::PermissionDenied,
        DbError::Sqlx(sqlx::Error::Database(d))
        | DbError::Migrate(sqlx::migrate::MigrateError::Execute(sqlx::Error::Database(d))) => {
            // SQLITE_READONLY, SQLITE_CANTOPEN and their extended codes.
            let code = d.code().unwrap_or_default();
            let primary = code.parse::<i32>().map(|c| c & 0xff).unwrap_or(0);
            matches!(primary, 8 | 14)
        }
        _ => false,
    }
}

/// Why a database could not be opened, with what to do, when the cause is
/// a common one (Vietnamese, English): PostgreSQL not running or not
/// reachable, a wrong password or database name, a file that is no
/// SQLite database.
fn cannot_open(e: &sotay_server::db::DbError, url: &str) -> Option<(String, String)> {
    use sotay_server::db::DbError;
    let shown = redact(url);
    let DbError::Sqlx(e) = e else { return None };
    match e {
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => Some((
            format!("PostgreSQL tại {shown} từ chối kết nối: kiểm tra máy chủ PostgreSQL đang chạy, và máy chủ, cổng trong DATABASE_URL"),
            format!("PostgreSQL at {shown} refused the connection: check that the PostgreSQL server is running, and the host and port in DATABASE_URL"),
        )),
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => Some((
            format!("PostgreSQL tại {shown} không trả lời: kiểm tra đường mạng và tường lửa tới máy chủ đó"),
            format!("PostgreSQL at {shown} does not answer: check the network and firewall to that host"),
        )),
        sqlx::Error::Io(_) if Db::sqlite_path(url).is_none() => Some((
            format!("Không tới được PostgreSQL tại {shown} ({e}): kiểm tra tên máy chủ trong DATABASE_URL"),
            format!("cannot reach PostgreSQL at {shown} ({e}): check the host name in DATABASE_URL"),
        )),
        sqlx::Error::Database(d) => match d.code().as_deref() {
            Some("28P01" | "28000") => Some((
                format!("PostgreSQL từ chối đăng nhập của {shown} (sai người dùng hoặc mật khẩu): kiểm tra người dùng và mật khẩu trong DATABASE_URL"),
                format!("PostgreSQL refused the login of {shown} (wrong user or password): check the user and password in DATABASE_URL"),
            )),
            Some("3D000") => Some((
                format!("Cơ sở dữ liệu trong {shown} chưa có trên PostgreSQL: tạo nó (createdb), hoặc sửa tên trong DATABASE_URL"),
                format!("the database in {shown} does not exist on PostgreSQL: create it (createdb), or correct the name in DATABASE_URL"),
            )),
            Some("26") => Some((
                format!("{shown} không phải tệp cơ sở dữ liệu SQLite: kiểm tra DATABASE_URL trỏ đúng tệp (hoặc tệp sao lưu đã hỏng)"),
                format!("{shown} is not a SQLite database file: check that DATABASE_URL names the right file (or the backup copy is damaged)"),
            )),
            _ => None,
        },
        _ => None,
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    // Query parameters naming a password (`password=`, `sslpassword=`)
    // first, wherever they are: a value holding `@` is gone before the user
    // part is looked for.
    let mut masked = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(i) = rest.find(['?', '&']) {
        masked.push_str(&rest[..=i]);
        rest = &rest[i + 1..];
        let key_end = rest.find(['=', '&', '?']).unwrap_or(rest.len());
        let key = &rest[..key_end];
        if rest[key_end..].starts_with('=') && key.to_ascii_lowercase().contains("password") {
            // Its value runs to the next parameter (a `?` in it is its own).
            let end = rest.find('&').unwrap_or(rest.len());
            masked.push_str(key);
            masked.push_str("=…");
            rest = &rest[end..];
        }
    }
    masked.push_str(rest);
    // Then the user part, to the last `@` (a password may hold `?` or `/`).
    match (masked.find("://"), masked.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://…@{}", &masked[..s], &masked[at + 1..]),
        _ => masked,
    }
}

/// `--bind` / `SOTAY_BIND`: an address with its port.
fn parse_bind(value: &str) -> Result<SocketAddr, String> {
    value.trim().parse().map_err(|_| {
        let port = if value.trim().parse::<std::net::IpAddr>().is_ok() {
            " (thiếu cổng / the port is missing)"
        } else {
            ""
        };
        format!(
            "cần địa chỉ:cổng, ví dụ 127.0.0.1:8080 hoặc 0.0.0.0:8080{port} (--bind hoặc SOTAY_BIND) / \
             expected address:port, e.g. 127.0.0.1:8080 or 0.0.0.0:8080 (--bind or SOTAY_BIND)"
        )
    })
}

/// A signing secret shorter than this is refused: whoever guesses it signs
/// in as anyone.
const MIN_SECRET_CHARS: usize = 32;

async fn serve(
    url: &str,
    bind: SocketAddr,
    with_demo: bool,
    jwt_secret: Option<String>,
    trusted_proxies: TrustedProxies,
) -> anyhow::Result<()> {
    let started = Instant::now();
    if let Some(value) = sotay_server::console::ConsoleConfig::unreadable_env() {
        let name = sotay_server::console::SECURE_COOKIES_ENV;
        bail!(
            "{name}=\"{value}\" không đọc được: ghi true (mặc định, cookie Secure, dùng với HTTPS) hoặc false (chỉ để thử qua HTTP thường)\n\
             {name}=\"{value}\" does not read: write true (the default, Secure cookies, for HTTPS) or false (for trials over plain HTTP only)"
        );
    }
    if let Some(secret) = jwt_secret.as_deref().filter(|s| !s.is_empty()) {
        let n = secret.chars().count();
        if n < MIN_SECRET_CHARS {
            bail!(
                "SOTAY_JWT_SECRET quá ngắn ({n} ký tự): cần ít nhất {MIN_SECRET_CHARS} ký tự ngẫu nhiên, ví dụ `openssl rand -base64 48`\n\
                 SOTAY_JWT_SECRET is too short ({n} characters): it needs at least {MIN_SECRET_CHARS} random ones, e.g. `openssl rand -base64 48`"
            );
        }
        let distinct = secret
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<std::collections::HashSet<_>>()
            .len();
        if distinct < 10 {
            bail!(
                "SOTAY_JWT_SECRET không ngẫu nhiên ({distinct} ký tự khác nhau): dùng chuỗi ngẫu nhiên, ví dụ `openssl rand -base64 48`\n\
                 SOTAY_JWT_SECRET is not random ({distinct} different characters): use a random one, e.g. `openssl rand -base64 48`"
            );
        }
    }
    // The address first: a port in use is found before anything is changed.
    let listener = tokio::net::TcpListener::bind(bind).await.with_context(|| {
        format!(
            "Không nghe được ở {bind} (SOTAY_BIND; có thể cổng đang được chương trình khác dùng)\ncannot listen on {bind} (SOTAY_BIND; the port may be taken by another program)"
        )
    })?;
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        database = %redact(url),
        "starting"
    );
    let db = open(url, Open::Migrate).await?;
    db.open_sync_epoch().await.context("opening a sync epoch")?;
    if with_demo {
        let seed_started = Instant::now();
        let today = sotay_core::domain::time::local_date(chrono::Utc::now());
        match importer::seed_demo(&db, today)
            .await
            .context("seeding the demo fund")?
        {
            Some(report) => {
                let t = report.totals();
                out!(
                    "Seeded the demo fund: {} rows created in {} ms.",
                    t.created,
                    seed_started.elapsed().as_millis()
                );
            }
            None => out!("The demo fund is already in this database."),
        }
        out!("\nDemo logins (password: {}):", demo::DEMO_PASSWORD);
        for login in demo::demo_logins(&demo::demo_fund(today)) {
            out!(
                "  {:<18} {:<11} {:<22} {}",
                login.username,
                login.role.as_str(),
                login.full_name,
                login.branch.as_deref().unwrap_or("(toàn quỹ / whole fund)")
            );
        }
        out!();
    }
    let mut state = AppState::new(db, jwt_secret.as_deref()).await?;
    if !trusted_proxies.is_empty() {
        tracing::info!(proxies = ?trusted_proxies, "X-Forwarded-For believed from these proxies");
    }
    state.trusted_proxies = std::sync::Arc::new(trusted_proxies);
    tracing::info!(ms = started.elapsed().as_millis() as u64, "started");
    app::serve(state, listener).await.context("serving HTTP")?;
    Ok(())
}

async fn import(url: &str, paths: &[PathBuf]) -> anyhow::Result<()> {
    let names = || {
        ImportKind::ALL
            .iter()
            .map(|k| k.file_name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut files: Vec<ImportFile> = Vec::new();
    // Every file of a folder is read or refused: a CSV file whose name says
    // nothing (`khoan_vay.csv`) is not left out unseen.
    let mut unknown = Vec::new();
    for path in paths {
        let mut take = |path: &std::path::Path, named: bool| -> anyhow::Result<()> {
            let name = path
                .file_name()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            match ImportKind::from_name(name) {
                Some(kind) => {
                    if let Some(twin) = files.iter().find(|f| f.kind == kind) {
                        bail!(
                            "{} và {} cùng là tệp {}: chỉ nhập một tệp mỗi loại\n{} and {} are both {}: import one file of each kind",
                            twin.name,
                            path.display(),
                            kind.file_name(),
                            twin.name,
                            path.display(),
                            kind.file_name()
                        );
                    }
                    files.push(read_file(kind, path)?);
                }
                None if named
                    && [".xlsx", ".xls"]
                        .iter()
                        .any(|x| name.to_ascii_lowercase().ends_with(x)) =>
                {
                    bail!(
                        "{0} là tệp Excel, không phải CSV: trong Excel chọn Tệp › Lưu thành › \"CSV UTF-8 (phân tách bằng dấu phẩy)\", đặt một trong các tên {1}, rồi nhập tệp .csv đó\n\
                         {0} is an Excel file, not CSV: in Excel choose File › Save As › \"CSV UTF-8 (Comma delimited)\", named one of {1}, and import that .csv file",
                        path.display(),
                        names()
                    );
                }
                None if named || name.to_ascii_lowercase().ends_with(".csv") => {
                    unknown.push(path.display().to_string())
                }
                // Not a CSV file (a note, a spreadsheet kept beside them).
                None => {}
            }
            Ok(())
        };
        if !path.exists() {
            bail!(
                "Không có tệp hay thư mục {0}\nno such file or folder: {0}",
                path.display()
            );
        }
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| {
                    format!(
                        "Không đọc được thư mục {0}\ncannot read the folder {0}",
                        path.display()
                    )
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            entries.sort();
            for entry in entries {
                take(&entry, false)?;
            }
        } else {
            take(path, true)?;
        }
    }
    if !unknown.is_empty() {
        bail!(
            "Không biết tệp này chứa gì theo tên của nó: {0}; hãy đặt tên là một trong: {1}\n\
             cannot tell what these files hold from their names: {0}; name each one of: {1}",
            unknown.join(", "),
            names()
        );
    }
    if files.is_empty() {
        bail!(
            "Không có tệp nhập nào trong {0}; tên tệp phải là một trong: {1}\n\
             no import files in {0}; the files are named: {1}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            names()
        );
    }
    files.sort_by_key(|f| ImportKind::ALL.iter().position(|k| *k == f.kind));
    // A fund's first import sets up its new database; refused, it leaves
    // no empty one behind.
    let new_file = Db::sqlite_path(url)
        .map(|p| p.split('?').next().unwrap_or(p))
        .filter(|p| !p.is_empty() && !std::path::Path::new(p).exists())
        .map(PathBuf::from);
    let db = open(url, Open::Setup).await?;
    db.open_sync_epoch().await.context("opening a sync epoch")?;
    let total_bytes: u64 = files.iter().map(|f| f.bytes.len() as u64).sum();
    let bar = indicatif::ProgressBar::new(total_bytes.max(1));
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos} rows read")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_length(0);
    bar.set_message("Đọc tệp / reading");
    let audit = AuditEntry {
        actor_user_id: None,
        actor_username: std::env::var("USER").unwrap_or_else(|_| "cli".into()),
        action: "import",
        object_type: "import",
        object_id: files
            .iter()
            .map(|f| f.name.clone())
            .collect::<Vec<_>>()
            .join(","),
        device_id: None,
        ip: None,
        detail: serde_json::Value::Null,
    };
    let started = Instant::now();
    let result = importer::import_files(&db, &files, "cli", None, audit, &mut |rows| {
        bar.set_position(rows)
    })
    .await;
    bar.finish_and_clear();
    match result {
        Ok(report) => {
            let t = report.totals();
            let ms = started.elapsed().as_millis();
            out!(
                "Đã nhập trong {ms} ms: {} dòng tạo mới, {} cập nhật, {} không đổi.\nImported in {ms} ms: {} created, {} updated, {} unchanged.",
                t.created,
                t.updated,
                t.unchanged,
                t.created,
                t.updated,
                t.unchanged
            );
            for (name, n) in [
                ("branches.csv", &report.branches),
                ("users.csv", &report.users),
                ("boarding_houses.csv", &report.boarding_houses),
                ("workers.csv", &report.workers),
                ("loan_products.csv", &report.loan_products),
                ("loans.csv", &report.loans),
                ("campaigns.csv", &report.campaigns),
                ("campaign_allocations.csv", &report.allocations),
            ] {
                if n.created + n.updated + n.unchanged > 0 {
                    out!(
                        "  {name}: {0} tạo mới, {1} cập nhật, {2} không đổi / {0} created, {1} updated, {2} unchanged",
                        n.created,
                        n.updated,
                        n.unchanged
                    );
                }
            }
            if !report.workers_changed.is_empty() {
                out!("Người lao động đã có được tệp thay đổi, và các cột / workers already stored this import changed, and the columns:");
                for w in &report.workers_changed {
                    out!("  {}: {}", w.worker_code, w.columns.join(", "));
                }
                if report.workers.updated as usize > report.workers_changed.len() {
                    out!(
                        "  (chỉ liệt kê {0} người đầu tiên / the first {0} only)",
                        report.workers_changed.len()
                    );
                }
            }
            if !report.reassigned.is_empty() {
                out!(
                    "Đã chuyển {0} người lao động sang cán bộ khác (điện thoại của cán bộ nhận họ ở lần đồng bộ sau) / {0} workers moved to another officer:",
                    report.reassigned.len()
                );
                for r in &report.reassigned {
                    out!(
                        "  {} {}: {} → {}",
                        r.worker_code,
                        r.worker_name,
                        r.from_officer,
                        r.to_officer
                    );
                }
            }
            let locked_out = db.users_without_password().await?;
            if !locked_out.is_empty() {
                let shown = locked_out
                    .iter()
                    .take(20)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ");
                let more = if locked_out.len() > 20 { ", …" } else { "" };
                out!(
                    "{0} tài khoản chưa có mật khẩu nên chưa đăng nhập được: {shown}{more}; đặt mật khẩu bằng `sotay-server set-password TÊN_ĐĂNG_NHẬP` (hoặc cột password của users.csv khi tạo mới)\n\
                     {0} {1} no password yet, so no one can sign in to {2}: {shown}{more}; set one with `sotay-server set-password USERNAME` (or users.csv's password column when creating them)",
                    locked_out.len(),
                    if locked_out.len() == 1 { "account has" } else { "accounts have" },
                    if locked_out.len() == 1 { "it" } else { "them" },
                );
            }
            if !report.passwords_kept.is_empty() {
                out!(
                    "Mật khẩu trong tệp chỉ dùng khi tạo người dùng mới; không đổi mật khẩu của {0} (đặt lại bằng `set-password`) / passwords left unchanged for users already stored: {0}",
                    report.passwords_kept.join(", ")
                );
            }
            Ok(())
        }
        Err(e) => {
            eprintln!("{}", e.message_vi);
            eprintln!("{}", e.message_en);
            for r in &e.errors {
                eprintln!(
                    "  {}:{} [{}] {} — {}",
                    r.file, r.line, r.column, r.message_vi, r.message_en
                );
            }
            if let Some(i) = &e.internal {
                eprintln!("  ({i})");
            }
            if let Some(path) = new_file {
                db.close().await;
                for suffix in ["", "-wal", "-shm"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(file);
                }
                eprintln!(
                    "Tệp cơ sở dữ liệu mới {0} đã được xoá vì không có gì được nhập.\n\
                     The new database file {0} was removed, nothing having been imported.",
                    path.display()
                );
            }
            std::process::exit(1);
        }
    }
}

fn read_file(kind: ImportKind, path: &std::path::Path) -> anyhow::Result<ImportFile> {
    Ok(ImportFile {
        kind,
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        bytes: std::fs::read(path).with_context(|| {
            format!(
                "Không đọc được tệp {0}\ncannot read the file {0}",
                path.display()
            )
        })?,
    })
}

async fn set_password(url: &str, username: &str) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    // The database and the user first: nothing is asked for in vain.
    let db = open_existing(url, Open::Current).await?;
    let user = db
        .user_auth_by_username(&username.to_lowercase())
        .await?
        .with_context(|| format!("Không có người dùng {username}\nno user named {username}"))?;
    let password = if std::io::stdin().is_terminal() {
        // Typed by a person: asked twice (it is not shown).
        let first = ask_unseen(&format!(
            "Mật khẩu mới của {username}, rồi Enter / the new password for {username}, then Enter: "
        ))
        .await?;
        let again = ask_unseen("Gõ lại mật khẩu / type it again: ").await?;
        if first != again {
            bail!("Hai lần gõ không giống nhau; chưa đổi gì\nthe two did not match; nothing was changed");
        }
        first
    } else {
        let mut piped = String::new();
        std::io::stdin().read_to_string(&mut piped)?;
        let piped = piped.trim_end_matches(['\r', '\n']).to_string();
        if piped.contains(['\r', '\n']) {
            bail!("Mật khẩu là một dòng; đầu vào có nhiều dòng\nthe password is one line; the input has several");
        }
        piped
    };
    let password = password.as_str();
    if password.chars().count() < 8 {
        bail!("Mật khẩu phải có ít nhất 8 ký tự\nthe password must be at least 8 characters");
    }
    let hash =
        auth::password::hash(password).map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
    db.set_password(user.id, &hash).await?;
    db.audit(AuditEntry {
        actor_user_id: None,
        actor_username: std::env::var("USER").unwrap_or_else(|_| "cli".into()),
        action: "set_password",
        object_type: "user",
        object_id: user.id.to_string(),
        device_id: None,
        ip: None,
        detail: serde_json::Value::Null,
    })
    .await?;
    out!("Đã đặt mật khẩu cho {username} / password set for {username}.");
    if !user.active {
        out!(
            "Tài khoản này đang bị khóa: mở khóa nó (bảng điều khiển, Người dùng) để đăng nhập được\n\
             this account is deactivated: activate it (console, Users) before it can sign in"
        );
    }
    Ok(())
}

/// One line typed at the terminal with its echo off; Ctrl-C puts the echo
/// back before leaving.
async fn ask_unseen(prompt: &str) -> anyhow::Result<String> {
    fn stty(arg: &str) -> bool {
        std::process::Command::new("stty")
            .arg(arg)
            .stdin(std::process::Stdio::inherit())
            .status()
            .is_ok_and(|s| s.success())
    }
    // Ctrl-C is caught before the echo goes off, so it can come back.
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    eprint!("{prompt}");
    let hidden = stty("-echo");
    if !hidden {
        eprint!("(stty không có: mật khẩu sẽ hiện khi gõ / no stty: the password shows as typed) ");
    }
    let read = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    });
    let line = tokio::select! {
        line = read => line,
        _ = interrupt.recv() => {
            if hidden {
                stty("echo");
            }
            eprintln!();
            std::process::exit(130);
        }
    };
    if hidden {
        stty("echo");
        eprintln!();
    }
    Ok(line??.trim_end_matches(['\r', '\n']).to_string())
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn a_database_urls_password_is_never_shown() {
        assert_eq!(
            redact("postgres://fund:s3cret@db.example:5432/sotay"),
            "postgres://…@db.example:5432/sotay"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1:5432/sotay?sslmode=disable&password=TOPSECRET"),
            "postgres://…@127.0.0.1:5432/sotay?sslmode=disable&password=…"
        );
        assert_eq!(
            redact("postgres:///sotay?host=/run/pg&user=fund&PassWord=x&sslpassword=y"),
            "postgres:///sotay?host=/run/pg&user=fund&PassWord=…&sslpassword=…"
        );
        assert_eq!(redact("sqlite://data/sotay.db"), "sqlite://data/sotay.db");
        // A password holding `?` or `@`.
        assert_eq!(
            redact("postgres://fund:ab?cd@db/sotay"),
            "postgres://…@db/sotay"
        );
        assert_eq!(
            redact("postgres://fund:p@ss?word@db/x?sslmode=require"),
            "postgres://…@db/x?sslmode=require"
        );
        // A password in the query holding `@`.
        assert_eq!(
            redact("postgres:///sotay?host=/run/postgresql&user=fund&password=Xy@Secret123"),
            "postgres:///sotay?host=/run/postgresql&user=fund&password=…"
        );
        assert_eq!(
            redact("postgres://fund@db/sotay?password=a@b&sslmode=require"),
            "postgres://…@db/sotay?password=…&sslmode=require"
        );
        assert_eq!(
            redact("postgres://fund@db/sotay?password=ab?cd&sslmode=require"),
            "postgres://…@db/sotay?password=…&sslmode=require"
        );
    }
}
