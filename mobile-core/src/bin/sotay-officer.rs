//! `sotay-officer`: the officer's field book on a terminal, over the same
//! `FieldBook` API the phone apps use.

use std::process::ExitCode;
use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use rust_decimal::Decimal;
use uuid::Uuid;

use sotay_core::domain::gifts::{CampaignKind, Eligibility};
use sotay_core::domain::money::format_vnd;
use sotay_core::domain::time::{format_date, format_datetime, local_date, parse_date, vn_offset};
use sotay_core::wire::state_label;
use sotay_core::{
    CorrectionInput, DeviceIdentity, FieldBook, FieldBookError, GeoPoint, GiftInput, OutboxFilter,
    OutboxItem, RecordedFact, RepaymentInput, RepaymentReceipt, SyncProgress, UploadOutcome,
    VisitInput, VisitPurpose,
};

#[derive(Parser)]
#[command(
    name = "sotay-officer",
    version,
    about = "Sổ Tay: sổ tay cán bộ tín dụng, ghi chép ngoại tuyến (the officer's offline field book)",
    after_help = "Đồng bộ / syncing: `login --server https://… --username U` (mật khẩu từ SOTAY_PASSWORD hoặc stdin / password from SOTAY_PASSWORD or stdin), then `sync`: sends the outbox and receives the portfolio and its changes."
)]
struct Cli {
    /// The field book database file.
    #[arg(long, env = "SOTAY_DB", default_value = "sotay.db")]
    db: String,
    /// This device's id: a UUID made once for the installation (e.g. by
    /// `uuidgen`), which numbers its records and signs it in to the server.
    #[arg(long, env = "SOTAY_DEVICE_ID")]
    device_id: String,
    /// This device's 4-character code, printed in receipt numbers (e.g.
    /// A7K2) until it signs in: the server then assigns the device its own
    /// code, kept by the book and used from then on (before any receipt was
    /// printed).
    #[arg(long, env = "SOTAY_DEVICE_CODE")]
    device_code: String,
    /// The field book's encryption key (64 hex digits or a passphrase), from
    /// the environment only; needs a build with the `sqlcipher` feature.
    #[arg(skip = std::env::var("SOTAY_DB_KEY").ok())]
    key: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load a portfolio snapshot (JSON) into the field book, replacing master data.
    LoadPortfolio { file: String },
    /// Apply a change page (JSON) on top of the loaded portfolio.
    ApplyChanges { file: String },
    /// Find workers by name fragments (any accents, any order), phone, CCCD,
    /// the worker's code (NLD-00119) or a loan's number (KV-000048).
    Search {
        query: String,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Workers with installments due or overdue, by boarding house.
    Route {
        /// dd/mm/yyyy or yyyy-mm-dd; today when left out.
        #[arg(long)]
        day: Option<String>,
    },
    /// A worker's loans, schedule, balances, visits and gifts.
    Worker {
        /// The worker's code (NLD-00119), CCCD, phone or name (one match), or id.
        worker_id: String,
    },
    /// Gift campaigns and this officer's remaining allocation.
    Campaigns,
    /// Record a visit.
    Visit {
        /// The worker's code (NLD-00119), CCCD, phone or name (one match), or id.
        #[arg(long)]
        worker: String,
        #[arg(long, value_enum)]
        purpose: Purpose,
        #[arg(long)]
        outcome: String,
        #[arg(long, default_value = "")]
        notes: String,
        #[arg(long, requires = "lon", allow_hyphen_values = true)]
        lat: Option<f64>,
        #[arg(long, requires = "lat", allow_hyphen_values = true)]
        lon: Option<f64>,
        #[command(flatten)]
        at: At,
    },
    /// Record a cash repayment and print its receipt.
    Repay {
        /// The loan's number (KV-000048) or id.
        #[arg(long)]
        loan: String,
        /// Whole đồng as people write it: 500000, 500.000, 500 000 or 500.000đ.
        #[arg(long, allow_hyphen_values = true)]
        amount: String,
        #[command(flatten)]
        at: At,
    },
    /// Record a gift handout.
    Gift {
        /// The campaign's name (or a part of it) or id.
        #[arg(long)]
        campaign: String,
        /// The worker's code (NLD-00119), CCCD, phone or name (one match), or id.
        #[arg(long)]
        worker: String,
        /// The recipient's name as they typed it.
        #[arg(long)]
        name: String,
        /// A signature image file.
        #[arg(long)]
        signature: Option<String>,
        #[command(flatten)]
        at: At,
    },
    /// Void a record not yet synced, or a synced visit waiting for review.
    Void {
        /// Its receipt number (A7K2-000123), its number in the outbox (#12)
        /// or its id.
        record: String,
        #[arg(long)]
        reason: String,
    },
    /// Ask the supervisor to reverse a synced record.
    Reverse {
        /// Its receipt number (A7K2-000123), its number in the outbox (#12)
        /// or its id.
        record: String,
        #[arg(long)]
        reason: String,
    },
    /// Show a receipt by its number (e.g. A7K2-000123).
    Receipt { receipt_no: String },
    /// List the outbox.
    Outbox {
        #[arg(long, value_enum, default_value_t = State::All)]
        state: State,
        /// How many of the newest records to show.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// The day's summary: cash to hand over, visits, gifts, rejected records.
    Summary {
        /// dd/mm/yyyy or yyyy-mm-dd; today when left out.
        #[arg(long)]
        day: Option<String>,
    },
    /// Sign in to the server as this device (password from SOTAY_PASSWORD or stdin).
    Login {
        /// https://… (http:// only for this machine)
        #[arg(long, env = "SOTAY_SERVER")]
        server: String,
        #[arg(long)]
        username: String,
        /// How supervisors will recognise this device: the name it had at
        /// the last sign-in unless given ("sotay-officer" the first time).
        #[arg(long)]
        device_name: Option<String>,
    },
    /// Send the outbox and receive the portfolio's changes. Refused and
    /// set-aside records are always listed; records the server took only
    /// up to 20 unless `--all`.
    Sync {
        /// List every record the server took.
        #[arg(long)]
        all: bool,
    },
    /// Put records set aside after repeated upload failures back in the queue.
    RetryWedged,
    /// Forget the session on this device.
    Logout,
}

#[derive(Clone, Copy, ValueEnum)]
enum Purpose {
    LoanAppraisal,
    RepaymentFollowUp,
    HardshipVisit,
    Condolence,
    GiftDelivery,
    Other,
}

#[derive(Clone, Copy, ValueEnum)]
enum State {
    All,
    Pending,
    Accepted,
    Rejected,
    Wedged,
}

type Res<T> = Result<T, FieldBookError>;

/// `println!` that stops quietly when the reader went away (`| head`).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

fn bad(field: &str, vi: String, en: String) -> FieldBookError {
    FieldBookError::Validation {
        field: field.to_string(),
        code: "invalid".to_string(),
        message_vi: vi,
        message_en: en,
    }
}

fn uuid(field: &str, s: &str) -> Res<Uuid> {
    Uuid::parse_str(s.trim()).map_err(|_| {
        bad(
            field,
            format!("\"{s}\" không phải mã định danh (UUID)"),
            format!("\"{s}\" is not a UUID"),
        )
    })
}

/// A worker by their id, or by what finds exactly one of them on this phone
/// (their CCCD, phone number or name, as `search` takes).
fn worker_id(book: &FieldBook, s: &str) -> Res<Uuid> {
    if let Ok(id) = Uuid::parse_str(s.trim()) {
        return Ok(id);
    }
    let hits = book.search(s.trim().to_string(), 6)?;
    match hits.as_slice() {
        [one] => Ok(one.worker_id),
        [] => Err(bad(
            "worker",
            format!(
                "Không có người lao động \"{s}\" trên máy này (đồng bộ để nhận danh mục mới nhất)"
            ),
            format!("no worker \"{s}\" on this phone (sync to get the latest portfolio)"),
        )),
        many => {
            let names: Vec<String> = many
                .iter()
                .take(5)
                .map(|h| match &h.code {
                    Some(code) => format!("{} ({code})", h.full_name),
                    None => format!("{} ({})", h.full_name, h.worker_id),
                })
                .collect();
            Err(bad(
                "worker",
                format!(
                    "\"{s}\" trùng với nhiều người: {}; ghi mã, CCCD hoặc mã định danh của người cần chọn",
                    names.join("; ")
                ),
                format!(
                    "\"{s}\" matches several workers: {}; give the code, CCCD or id of the one meant",
                    names.join("; ")
                ),
            ))
        }
    }
}

/// A campaign by its id or its name (or a part of it found in one name).
fn campaign_id(book: &FieldBook, s: &str) -> Res<Uuid> {
    if let Ok(id) = Uuid::parse_str(s.trim()) {
        return Ok(id);
    }
    let wanted = sotay_core::domain::text::fold(s.trim());
    let campaigns = book.campaigns()?;
    let exact: Vec<&_> = campaigns
        .iter()
        .filter(|c| sotay_core::domain::text::fold(&c.name) == wanted)
        .collect();
    let found: Vec<&_> = if exact.is_empty() {
        campaigns
            .iter()
            .filter(|c| sotay_core::domain::text::fold(&c.name).contains(&wanted))
            .collect()
    } else {
        exact
    };
    match found.as_slice() {
        [one] => Ok(one.campaign_id),
        _ => {
            let names: Vec<&str> = campaigns.iter().map(|c| c.name.as_str()).collect();
            Err(bad(
                "campaign",
                format!(
                    "\"{s}\" không chỉ đúng một chương trình trên máy này; các chương trình: {}",
                    names.join("; ")
                ),
                format!(
                    "\"{s}\" names no one campaign on this phone; the campaigns: {}",
                    names.join("; ")
                ),
            ))
        }
    }
}

/// A record of this phone by its id, its receipt number (A7K2-000123) or
/// its number in the outbox (`#12` or `12`).
fn record_id(book: &FieldBook, s: &str) -> Res<Uuid> {
    let t = s.trim();
    if let Ok(id) = Uuid::parse_str(t) {
        return Ok(id);
    }
    if let Ok(seq) = t.trim_start_matches('#').parse::<i64>() {
        if let Some(item) = book
            .outbox(OutboxFilter::All, u32::MAX)?
            .into_iter()
            .find(|i| i.device_seq == seq)
        {
            return Ok(item.client_id);
        }
    } else if let Ok(r) = book.receipt(t.to_uppercase()) {
        return Ok(r.client_id);
    }
    Err(bad(
        "record",
        format!("Không có bản ghi \"{s}\" trên máy này (ghi số phiếu thu như A7K2-000123, số thứ tự #12 trong outbox, hoặc mã định danh). Phiếu thu trên một máy khác của bạn thì hủy hay đề nghị đảo từ máy đó, hoặc nhờ giám sát chi nhánh"),
        format!("no record \"{s}\" on this phone (give a receipt number such as A7K2-000123, its number #12 in the outbox, or its id). A receipt taken on another phone of yours is voided or reversed from that phone, or by the branch supervisor"),
    ))
}

/// A loan by its id or its number, among the loans on this phone.
fn loan_id(book: &FieldBook, s: &str) -> Res<Uuid> {
    if let Ok(id) = Uuid::parse_str(s.trim()) {
        return Ok(id);
    }
    // Typed loosely as search takes it: `kv103`, `KV 000103`, `KV-103`.
    let number = s.trim().to_uppercase();
    let key = sotay_core::domain::ids::code_key(&number);
    let same = |contract: &str| {
        contract.to_uppercase() == number
            || key.is_some() && sotay_core::domain::ids::code_key(contract) == key
    };
    let hits = book.search(number.clone(), 50)?;
    for hit in &hits {
        for loan in book.worker_detail(hit.worker_id)?.loans {
            if same(&loan.contract_no) {
                return Ok(loan.loan_id);
            }
        }
    }
    // Several workers found by what was typed (a name): named, to choose.
    if hits.len() > 1 {
        let names: Vec<String> = hits
            .iter()
            .take(10)
            .map(|h| match &h.code {
                Some(code) => format!("{} ({code})", h.full_name),
                None => h.full_name.clone(),
            })
            .collect();
        let more = if hits.len() > 10 { ", …" } else { "" };
        let names = names.join(", ");
        return Err(bad(
            "loan",
            format!("Không có khoản vay số \"{s}\" trên máy này; {} người lao động khớp: {names}{more} — ghi --loan với số khoản vay (xem bằng `worker`)", hits.len()),
            format!("no loan numbered \"{s}\" on this phone; {} workers match: {names}{more} — give --loan the loan's number (see `worker`)", hits.len()),
        ));
    }
    // A worker's code (or name) typed for a loan: her open loans named.
    if let [hit] = hits.as_slice() {
        let open: Vec<String> = book
            .worker_detail(hit.worker_id)?
            .loans
            .into_iter()
            .filter(|l| l.status == "active")
            .map(|l| l.contract_no)
            .collect();
        let name = &hit.full_name;
        return Err(if open.is_empty() {
            bad(
                "loan",
                format!("Không có khoản vay số \"{s}\" trên máy này; tìm thấy người lao động {name}, người này không có khoản vay đang vay"),
                format!("no loan numbered \"{s}\" on this phone; found the worker {name}, who has no open loan"),
            )
        } else {
            let loans = open.join(", ");
            bad(
                "loan",
                format!("Không có khoản vay số \"{s}\" trên máy này; tìm thấy người lao động {name}, khoản vay đang vay của người này: {loans} — ghi --loan với số khoản vay"),
                format!("no loan numbered \"{s}\" on this phone; found the worker {name}, whose open loans are: {loans} — give --loan the loan's number"),
            )
        });
    }
    Err(bad(
        "loan",
        format!("Không có khoản vay số \"{s}\" trên máy này (đồng bộ để nhận danh mục mới nhất)"),
        format!("no loan numbered \"{s}\" on this phone (sync to get the latest portfolio)"),
    ))
}

/// When a record was made.
#[derive(clap::Args, Debug)]
struct At {
    /// When: "dd/mm/yyyy HH:MM" (Vietnam time) or RFC 3339; now when left out.
    #[arg(long)]
    at: Option<String>,
    /// The --at day is more than 7 days back, and meant so (a day and a
    /// month swapped is refused without it).
    #[arg(long, requires = "at")]
    late: bool,
}

/// The most days back a record's time is taken without `--late`.
const LATE_DAYS: i64 = 7;

fn when(at: &At) -> Res<DateTime<Utc>> {
    let t = when_written(at.at.as_deref())?;
    let back = Utc::now() - t;
    if back > chrono::Duration::days(LATE_DAYS) && !at.late {
        let (ago_vi, ago_en) = sotay_core::domain::time::duration_words(back.num_seconds());
        let shown = format_datetime(t);
        return Err(bad(
            "at",
            format!("Thời điểm {shown} là {ago_vi} trước, hơn {LATE_DAYS} ngày: hãy kiểm tra lại ngày (ngày trước, tháng sau: dd/mm/yyyy). Nếu đúng là ghi lùi hơn {LATE_DAYS} ngày, thêm --late"),
            format!("{shown} is {ago_en} ago, more than {LATE_DAYS} days: check the day (day first, then month: dd/mm/yyyy). If it really is more than {LATE_DAYS} days back, add --late"),
        ));
    }
    Ok(t)
}

fn when_written(at: Option<&str>) -> Res<DateTime<Utc>> {
    let Some(s) = at else {
        return Ok(Utc::now());
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(s.trim()) {
        return Ok(t.with_timezone(&Utc));
    }
    // The day as every date is read (the year in full), then the hour.
    let (d, t) = s.trim().split_once(' ').unwrap_or((s.trim(), ""));
    let Some(date) = parse_date(d) else {
        let (vi, en) = sotay_core::domain::time::date_hint(d);
        return Err(bad(
            "at",
            format!("\"{s}\" không phải thời điểm (dd/mm/yyyy HH:MM): {vi}"),
            format!("\"{s}\" is not a time (dd/mm/yyyy HH:MM or RFC 3339): {en}"),
        ));
    };
    chrono::NaiveTime::parse_from_str(t.trim(), "%H:%M")
        .ok()
        .and_then(|h| {
            NaiveDateTime::new(date, h)
                .and_local_timezone(vn_offset())
                .single()
        })
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| {
            bad(
                "at",
                format!("\"{s}\" không phải thời điểm: thiếu giờ hoặc giờ sai (dd/mm/yyyy HH:MM)"),
                format!("\"{s}\" is not a time: the hour is missing or wrong (dd/mm/yyyy HH:MM)"),
            )
        })
}

fn day(s: Option<&str>) -> Res<chrono::NaiveDate> {
    match s {
        None => Ok(local_date(Utc::now())),
        Some(s) => parse_date(s).ok_or_else(|| {
            let (vi, en) = sotay_core::domain::time::date_hint(s);
            bad(
                "day",
                format!("\"{s}\" không phải ngày: {vi}"),
                format!("\"{s}\" is not a date: {en}"),
            )
        }),
    }
}

fn money(d: Decimal) -> String {
    use rust_decimal::prelude::ToPrimitive;
    d.to_i64().map(format_vnd).unwrap_or_else(|| d.to_string())
}

fn read(path: &str) -> Res<String> {
    std::fs::read_to_string(path).map_err(|e| {
        bad(
            "file",
            format!("Không đọc được tệp {path}: {e}"),
            format!("cannot read {path}: {e}"),
        )
    })
}

fn print_fact(f: &RecordedFact) {
    out!(
        "Đã ghi #{} ({}) lúc {}: {}\n  mã bản ghi {}",
        f.device_seq,
        f.kind.label_vi(),
        format_datetime(f.recorded_at),
        f.summary,
        f.client_id
    );
}

fn print_receipt(r: &RepaymentReceipt) {
    out!("{}", r.text_vi);
    // Voided by the officer: that is its fate, whatever the server said.
    out!(
        "  mã bản ghi {}  trạng thái: {}",
        r.client_id,
        if r.voided {
            "ĐÃ HỦY"
        } else {
            state_label(&r.state).0
        }
    );
    // A receipt shown again after the fact: what became of the payment.
    if let Some(fate) = &r.fate_vi {
        out!("  LƯU Ý: {fate}");
    }
    for l in &r.lines {
        out!(
            "  kỳ {:>3} ({}): lãi {:>12}  gốc {:>12}",
            l.installment,
            format_date(l.due_on),
            money(l.interest),
            money(l.principal)
        );
    }
}

fn print_item(i: &OutboxItem) {
    out!(
        "#{:<5} {:<12} {:<16} {}  {}",
        i.device_seq,
        i.kind.label_vi(),
        // Voided by the officer: that is its fate, whatever the server said.
        // From a revoked phone: held for the supervisor, not refused.
        if i.voided {
            "ĐÃ HỦY"
        } else if i.code.as_deref() == Some("device_revoked") {
            "bị giữ lại"
        } else {
            state_label(&i.state).0
        },
        format_datetime(i.recorded_at),
        i.summary
    );
    if let Some(m) = &i.message {
        out!("       lý do: {m}");
    }
    if let Some(note) = &i.settled_note {
        out!("       chi nhánh đã xử lý: {note}");
    }
    out!("       {}", i.client_id);
}

fn run(cli: Cli) -> Res<()> {
    let device = DeviceIdentity {
        device_id: uuid("device_id", &cli.device_id)?,
        device_code: cli.device_code.clone(),
    };
    let book: Arc<FieldBook> = match cli.key.clone() {
        Some(key) => FieldBook::open_encrypted(cli.db.clone(), device, key)?,
        None => FieldBook::open(cli.db.clone(), device)?,
    };
    match cli.command {
        Command::LoadPortfolio { file } => {
            let s = book.apply_portfolio_json(read(&file)?)?;
            out!(
                "Đã tải danh sách: {} nhà trọ, {} người lao động, {} khoản vay ({} kỳ trả), {} chương trình quà; {} dòng.",
                s.boarding_houses, s.workers, s.loans, s.installments, s.campaigns, s.rows
            );
        }
        Command::ApplyChanges { file } => {
            let s = book.apply_changes_json(read(&file)?)?;
            out!(
                "Đã cập nhật {} dòng ({} người lao động bị chuyển đi); còn trang tiếp: {}",
                s.rows,
                s.removed_workers,
                if s.has_more { "có" } else { "không" }
            );
        }
        Command::Search { query, limit } => {
            if query.trim().is_empty() {
                return Err(bad(
                    "query",
                    "Hãy nhập điều cần tìm: tên, số điện thoại, CCCD, mã người lao động hoặc số hợp đồng".into(),
                    "type what to find: a name, phone number, CCCD, worker code or loan number".into(),
                ));
            }
            let hits = book.search(query, limit)?;
            if hits.is_empty() && book.officer()?.is_none() {
                // Nothing to search yet: said, with what to do.
                out!("Máy chưa có danh mục người lao động: đăng nhập (`login`) rồi đồng bộ (`sync`).");
            } else if hits.is_empty() {
                out!("Không tìm thấy.");
            }
            for h in hits {
                // Known by the code the officer types; the id when it has none.
                let known = h.code.unwrap_or_else(|| h.worker_id.to_string());
                out!(
                    "{known}  {}  {}  {}  {} {}  còn phải trả {}",
                    h.full_name,
                    h.phone.unwrap_or_default(),
                    h.cccd.unwrap_or_default(),
                    h.boarding_house.unwrap_or_default(),
                    h.room.unwrap_or_default(),
                    money(h.balance),
                );
            }
        }
        Command::Route { day: d } => {
            let d = day(d.as_deref())?;
            let route = book.route(d)?;
            out!("Lộ trình ngày {}:", format_date(d));
            for stop in route {
                if stop.address.is_empty() {
                    out!("\n{}", stop.boarding_house);
                } else {
                    out!("\n{} — {}", stop.boarding_house, stop.address);
                }
                for w in stop.workers {
                    out!(
                        "  {:<10} {:<24} {:<6} phải thu {:>12} (quá hạn {}){}{}",
                        w.code.unwrap_or_else(|| w.worker_id.to_string()),
                        w.full_name,
                        w.room.unwrap_or_default(),
                        money(w.due),
                        money(w.overdue),
                        if w.paid_today > Decimal::ZERO {
                            format!(", đã thu {}", money(w.paid_today))
                        } else {
                            String::new()
                        },
                        if w.visited_today { ", đã thăm" } else { "" },
                    );
                }
            }
        }
        Command::Worker { worker_id } => {
            let w = book.worker_detail(self::worker_id(&book, &worker_id)?)?;
            // Where to find them; said so when no boarding house is known.
            let lodging: Vec<String> = [w.boarding_house, w.room, w.address]
                .into_iter()
                .flatten()
                .filter(|s| !s.trim().is_empty())
                .collect();
            let lodging = if lodging.is_empty() {
                "Chưa có nhà trọ trong danh mục (hỏi chi nhánh địa chỉ)".to_string()
            } else {
                lodging.join(" ")
            };
            out!(
                "{}{}  {}  CCCD {}\n{}\nĐoàn viên: {}  Hoàn cảnh khó khăn: {}  Còn phải trả: {}",
                w.code.map(|c| format!("{c}  ")).unwrap_or_default(),
                w.full_name,
                w.phone.unwrap_or_default(),
                w.cccd.unwrap_or_default(),
                lodging,
                if w.union_member { "có" } else { "không" },
                if w.hardship { "có" } else { "không" },
                money(w.balance)
            );
            for l in w.loans {
                out!(
                    "\nHợp đồng {} ({}), {}: gốc {}, còn phải trả {}, quá hạn {}, chưa ghi sổ (chờ gửi hoặc chờ duyệt) {}\n  {}",
                    l.contract_no,
                    l.product_name,
                    if l.status == "closed" { "đã tất toán" } else { "đang vay" },
                    money(l.principal),
                    money(l.balance),
                    money(l.overdue),
                    money(l.unsynced_paid),
                    l.loan_id
                );
                if !l.unsynced_over_balance.is_zero() {
                    out!(
                        "  LƯU Ý: {} đang chờ duyệt vượt số còn phải trả, sẽ không được ghi sổ: báo giám sát chi nhánh loại phiếu đó và trả lại tiền cho người vay",
                        money(l.unsynced_over_balance)
                    );
                }
                for s in l.schedule {
                    out!(
                        "  kỳ {:>3} {}  gốc {:>12}/{:>12}  lãi {:>10}/{:>10}",
                        s.number,
                        format_date(s.due_on),
                        money(s.principal_paid),
                        money(s.principal_due),
                        money(s.interest_paid),
                        money(s.interest_due)
                    );
                }
            }
            for v in w.visits {
                out!(
                    "Thăm {} ({}, {}): {} {}",
                    format_datetime(v.recorded_at),
                    v.purpose.label_vi(),
                    state_label(&v.state).0,
                    v.outcome,
                    v.notes
                );
            }
            for g in w.gifts {
                match g.recorded_at {
                    Some(at) => out!(
                        "Quà: {} ({}, {})",
                        g.campaign_name,
                        format_datetime(at),
                        state_label(&g.state).0
                    ),
                    None => out!("Quà: {} ({})", g.campaign_name, state_label(&g.state).0),
                }
            }
        }
        Command::Campaigns => {
            for c in book.campaigns()? {
                let kind = CampaignKind::parse(&c.kind)
                    .map_or_else(|| c.kind.clone(), |k| k.label_vi().to_string());
                let eligibility = Eligibility::parse(&c.eligibility)
                    .map_or_else(|| c.eligibility.clone(), |e| e.describe_vi().to_string());
                out!(
                    "{} ({}), {} một suất, {} – {}; đối tượng: {}; còn {}/{} suất\n  {}",
                    c.name,
                    kind,
                    money(c.gift_value),
                    format_date(c.starts_on),
                    format_date(c.ends_on),
                    eligibility,
                    c.remaining,
                    c.allocation,
                    c.campaign_id
                );
            }
        }
        Command::Visit {
            worker,
            purpose,
            outcome,
            notes,
            lat,
            lon,
            at,
        } => {
            let purpose = match purpose {
                Purpose::LoanAppraisal => VisitPurpose::LoanAppraisal,
                Purpose::RepaymentFollowUp => VisitPurpose::RepaymentFollowUp,
                Purpose::HardshipVisit => VisitPurpose::HardshipVisit,
                Purpose::Condolence => VisitPurpose::Condolence,
                Purpose::GiftDelivery => VisitPurpose::GiftDelivery,
                Purpose::Other => VisitPurpose::Other,
            };
            let f = book.record_visit(VisitInput {
                worker_id: self::worker_id(&book, &worker)?,
                purpose,
                outcome,
                notes,
                location: lat.zip(lon).map(|(latitude, longitude)| GeoPoint {
                    latitude,
                    longitude,
                    accuracy_m: None,
                }),
                recorded_at: when(&at)?,
            })?;
            print_fact(&f);
        }
        Command::Repay { loan, amount, at } => {
            // Typed by a person: grouped with dots or spaces, or not. The
            // Vietnamese message names the field in Vietnamese.
            let amount = sotay_core::domain::money::parse_typed_amount(
                "amount",
                &amount,
                sotay_core::domain::money::AmountRule::Positive,
            )
            .map_err(|e| {
                let vi = sotay_core::domain::money::MoneyError {
                    field: "Số tiền".into(),
                    ..e.clone()
                }
                .message_vi();
                bad("amount", vi, e.message_en())
            })?;
            let r = book.record_repayment(RepaymentInput {
                loan_id: loan_id(&book, &loan)?,
                amount: amount.to_decimal(),
                recorded_at: when(&at)?,
            })?;
            print_receipt(&r);
        }
        Command::Gift {
            campaign,
            worker,
            name,
            signature,
            at,
        } => {
            let signature_image = match signature {
                Some(path) => Some(std::fs::read(&path).map_err(|e| {
                    bad(
                        "signature",
                        format!("Không đọc được ảnh chữ ký {path}: {e}"),
                        format!("cannot read {path}: {e}"),
                    )
                })?),
                None => None,
            };
            let f = book.record_gift(GiftInput {
                campaign_id: campaign_id(&book, &campaign)?,
                worker_id: self::worker_id(&book, &worker)?,
                acknowledged_name: name,
                signature_image,
                recorded_at: when(&at)?,
            })?;
            print_fact(&f);
        }
        Command::Void { record, reason } => {
            let f = book.void_record(CorrectionInput {
                target_id: record_id(&book, &record)?,
                reason,
                recorded_at: Utc::now(),
            })?;
            print_fact(&f);
        }
        Command::Reverse { record, reason } => {
            let f = book.request_reversal(CorrectionInput {
                target_id: record_id(&book, &record)?,
                reason,
                recorded_at: Utc::now(),
            })?;
            print_fact(&f);
        }
        // Receipt numbers are printed in capitals; typed in any case.
        Command::Receipt { receipt_no } => {
            print_receipt(&book.receipt(receipt_no.trim().to_uppercase())?)
        }
        Command::Outbox { state, limit } => {
            let filter = match state {
                State::All => OutboxFilter::All,
                State::Pending => OutboxFilter::Pending,
                State::Accepted => OutboxFilter::Accepted,
                State::Rejected => OutboxFilter::Rejected,
                State::Wedged => OutboxFilter::Wedged,
            };
            // The newest `limit`, oldest first: today's work is what an
            // officer looks for.
            let all = book.outbox(filter, u32::MAX)?;
            if all.is_empty() {
                out!("Hộp thư đi trống.");
            }
            let skipped = all.len().saturating_sub(limit as usize);
            for i in &all[skipped..] {
                print_item(i);
            }
            if skipped > 0 {
                out!("(hiện {limit} bản ghi mới nhất; còn {skipped} bản ghi cũ hơn: thêm --limit để xem / the newest {limit} shown; {skipped} older: raise --limit)");
            }
        }
        Command::Summary { day: d } => {
            let s = book.daily_summary(day(d.as_deref())?)?;
            out!("{}", s.text_vi);
        }
        Command::Login {
            server,
            username,
            device_name,
        } => {
            // Signing in again keeps the name the supervisors know it by.
            let device_name = match device_name {
                Some(name) => name,
                None => book
                    .session()?
                    .map(|s| s.device_name)
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| "sotay-officer".to_string()),
            };
            let s = book.login(server, username, password()?, device_name)?;
            out!(
                "Đã đăng nhập {} ({}, {}) tại {}; thiết bị {} mã {}.",
                s.full_name,
                s.username,
                s.role,
                s.server_url,
                s.device_name,
                s.device_code
            );
        }
        Command::Sync { all } => sync(&book, all)?,
        Command::RetryWedged => {
            let n = book.retry_wedged()?;
            out!("Đã đưa {n} bản ghi tạm gác trở lại hàng chờ gửi.");
        }
        Command::Logout => {
            // Counted first: signed out, the phone shows no records.
            let count = |f| book.outbox(f, u32::MAX).map_or(0, |r| r.len());
            let waiting = count(OutboxFilter::Pending) + count(OutboxFilter::Wedged);
            book.logout()?;
            out!("Đã đăng xuất trên thiết bị này; máy không ghi được cho đến khi đăng nhập lại.");
            if waiting > 0 {
                out!(
                    "{waiting} bản ghi chưa gửi vẫn ở trên máy: đăng nhập lại rồi đồng bộ để gửi."
                );
            }
        }
    }
    Ok(())
}

fn password() -> Res<String> {
    if let Ok(p) = std::env::var("SOTAY_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| {
        bad(
            "password",
            format!("Không đọc được mật khẩu: {e}"),
            format!("cannot read the password: {e}"),
        )
    })?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

struct StderrProgress;

impl SyncProgress for StderrProgress {
    fn on_progress(&self, sent: u32, total_to_send: u32, received: u64) {
        eprint!("\rĐã gửi {sent}/{total_to_send} bản ghi, đã nhận {received} dòng thay đổi   ");
    }
}

/// Records the server took that `sync` lists without `--all`.
const TAKEN_LISTED: usize = 20;

fn sync(book: &FieldBook, all: bool) -> Res<()> {
    let r = book.sync(Some(Box::new(StderrProgress)));
    eprintln!();
    let r = r?;
    out!(
        "Đồng bộ xong: gửi {} bản ghi — {} được nhận, {} đã có trên máy chủ, {} bị từ chối, {} tạm gác; nhận {} dòng thay đổi.",
        r.sent,
        r.accepted,
        r.duplicates,
        r.rejected,
        r.wedged,
        r.received_changes
    );
    let items: std::collections::HashMap<Uuid, OutboxItem> = book
        .outbox(OutboxFilter::All, u32::MAX)?
        .into_iter()
        .map(|i| (i.client_id, i))
        .collect();
    let taken = r
        .results
        .iter()
        .filter(|res| res.outcome != UploadOutcome::Rejected)
        .count();
    let list_taken = all || taken <= TAKEN_LISTED;
    for res in &r.results {
        let Some(i) = items.get(&res.client_id) else {
            continue;
        };
        match res.outcome {
            UploadOutcome::Accepted | UploadOutcome::Duplicate => {
                if list_taken {
                    out!("  nhận     #{:<5} {}", i.device_seq, i.summary)
                }
            }
            UploadOutcome::Rejected => out!(
                "  TỪ CHỐI  #{:<5} {}\n           lý do: {} ({})",
                i.device_seq,
                i.summary,
                res.message_vi.as_deref().unwrap_or("không rõ lý do"),
                res.code.as_deref().unwrap_or("?")
            ),
        }
    }
    if !list_taken {
        out!("  ({taken} bản ghi được nhận: xem `outbox`, hoặc `sync --all` để liệt kê từng bản ghi)");
    }
    for i in book.outbox(OutboxFilter::Wedged, u32::MAX)? {
        out!(
            "  TẠM GÁC  #{:<5} {}\n           lý do: {}",
            i.device_seq,
            i.summary,
            i.message.as_deref().unwrap_or("không rõ lý do")
        );
    }
    if r.portfolio_reloaded {
        out!(
            "Máy chủ không nhận ra mốc đồng bộ của máy này (dữ liệu máy chủ vừa được khôi phục?): \
             đã tải lại toàn bộ danh sách và gửi lại {} bản ghi máy chủ đã nhận trước đó.",
            r.sent_again
        );
    }
    if let Some(ahead) = r
        .clock_ahead_seconds
        .filter(|a| sotay_core::domain::time::clock_off(*a))
    {
        let off = sotay_core::domain::time::duration_words(ahead).0;
        if ahead > 0 {
            out!(
                "CẢNH BÁO: đồng hồ máy nhanh {off} so với máy chủ — máy sẽ không ghi cho đến khi chỉnh đồng hồ (bật ngày giờ tự động) rồi đồng bộ lại."
            );
        } else {
            // A slow clock records, with its own time: the receipts say it.
            out!(
                "CẢNH BÁO: đồng hồ máy chậm {off} so với máy chủ — phiếu thu và bản ghi sẽ mang giờ sai của máy (có thể sai cả ngày). Hãy chỉnh đồng hồ (bật ngày giờ tự động) trước khi ghi."
            );
        }
    }
    if r.signatures_sent + r.signatures_refused + r.signatures_waiting > 0 {
        out!(
            "Ảnh chữ ký nhận quà: gửi {}, bị từ chối {}, còn chờ gửi {} (xem `summary`).",
            r.signatures_sent,
            r.signatures_refused,
            r.signatures_waiting
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::try_parse().unwrap_or_else(|e| {
        if let Some(vi) = sotay_core::cli::usage_error_vi(&e) {
            eprintln!("Lỗi: {vi}");
        }
        e.exit()
    });
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Lỗi: {}\nError: {e}", e.message_vi());
            match e {
                FieldBookError::Validation { .. } | FieldBookError::Conflict { .. } => {
                    ExitCode::from(2)
                }
                FieldBookError::Auth { .. } => ExitCode::from(3),
                FieldBookError::Network { .. } => ExitCode::from(4),
                _ => ExitCode::FAILURE,
            }
        }
    }
}
