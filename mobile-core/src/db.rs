//! The on-device store: one SQLite connection (WAL, one writer), master
//! data from the server, and the facts recorded on this device.
//!
//! Functions that write take a `&Transaction`, functions that read take a
//! `&Connection`. Recording lives in [`crate::record`], queries in
//! [`crate::query`].

use std::path::Path;
use std::sync::{Mutex, MutexGuard, RwLock};

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use uuid::Uuid;

use crate::domain::ids::{normalize_cccd, normalize_phone};
use crate::domain::money::Dong;
use crate::domain::rules::is_device_code;
use crate::domain::schedule::{
    installments_after, outstanding, InstallmentState, LoanTerms, RebuildError, ScheduleError,
};
use crate::domain::text::{clean, fold};
use crate::error::{Error, Result};
use crate::schema;
use crate::search::SearchIndex;
use crate::types::{ApplySummary, DeviceIdentity, Officer};
use crate::wire::{self, ChangePage, PortfolioSnapshot};

pub struct Store {
    conn: Mutex<Connection>,
    /// The code can change once: when the server assigns another one at
    /// the first sign-in, before any receipt was issued.
    pub(crate) device: RwLock<DeviceIdentity>,
    pub(crate) index: RwLock<SearchIndex>,
}

impl Store {
    /// Opens (creating or upgrading) the field book at `path` for `device`.
    /// A database first opened by another device identity is refused.
    pub fn open(path: impl AsRef<Path>, device: DeviceIdentity) -> Result<Store> {
        Store::open_with(path.as_ref(), device, None)
    }

    /// Puts the book under `new_key` (see [`crate::cipher`]): also a book
    /// opened without a key, which is then encrypted. After it, only
    /// `new_key` opens the book.
    pub fn change_key(&self, new_key: &str) -> Result<()> {
        let _files = crate::cipher::exclusive();
        let mut conn = self.conn();
        let path = conn
            .path()
            .filter(|p| !p.is_empty())
            .map(std::path::PathBuf::from)
            .ok_or_else(|| Error::Corrupt("the field book is not a file".into()))?;
        crate::cipher::change_key(&mut conn, &path, new_key)?;
        schema::configure(&conn)
    }

    /// Opens the field book at `path` encrypted with SQLCipher under `key`
    /// (64 hex digits: a raw 256-bit key, as a phone keeps in its keystore;
    /// anything else: a passphrase). A book written before without a key is
    /// encrypted on the way in; a wrong key is refused and changes nothing.
    pub fn open_encrypted(
        path: impl AsRef<Path>,
        device: DeviceIdentity,
        key: &str,
    ) -> Result<Store> {
        Store::open_with(path.as_ref(), device, Some(key))
    }

    fn open_with(path: &Path, device: DeviceIdentity, key: Option<&str>) -> Result<Store> {
        if !is_device_code(&device.device_code) {
            return Err(Error::invalid(
                "device_code",
                format!(
                    "Mã thiết bị \"{}\" phải gồm 4 chữ in hoa hoặc chữ số, ví dụ A7K2",
                    device.device_code
                ),
                format!(
                    "device_code: \"{}\" must be 4 capital letters or digits, e.g. A7K2",
                    device.device_code
                ),
            ));
        }
        let files = crate::cipher::exclusive();
        let mut conn = match key {
            None => Connection::open(path)?,
            Some(key) => crate::cipher::open(path, key)?,
        };
        // In WAL mode from here: a key change elsewhere sees this connection.
        schema::configure(&conn)?;
        drop(files);
        schema::init(&mut conn)?;
        let device = {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let bound = bind_device(&tx, &device)?;
            tx.commit()?;
            bound
        };
        let index = SearchIndex::load(&conn)?;
        Ok(Store {
            conn: Mutex::new(conn),
            device: RwLock::new(device),
            index: RwLock::new(index),
        })
    }

    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held cannot leave SQLite half-written:
        // the open transaction was rolled back when it was dropped.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` in an immediate transaction.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&Transaction) -> Result<T>) -> Result<T> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let v = f(&tx)?;
        tx.commit()?;
        Ok(v)
    }

    /// Runs `f` in an immediate transaction committed with
    /// `synchronous = FULL`: when this returns Ok, the fact survives a
    /// power cut.
    pub(crate) fn write_durable<T>(&self, f: impl FnOnce(&Transaction) -> Result<T>) -> Result<T> {
        let mut conn = self.conn();
        conn.pragma_update(None, "synchronous", "FULL")?;
        let result = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let v = f(&tx)?;
            tx.commit()?;
            Ok(v)
        })();
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        result
    }

    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        f(&self.conn())
    }

    /// This device's id and the code printed in its receipt numbers.
    pub fn device(&self) -> DeviceIdentity {
        self.device
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn device_id(&self) -> Uuid {
        self.device().device_id
    }

    pub fn officer(&self) -> Result<Option<Officer>> {
        self.read(officer)
    }

    /// Replaces all master data with a portfolio snapshot.
    pub fn apply_snapshot(&self, snapshot: &PortfolioSnapshot) -> Result<ApplySummary> {
        let summary = self.write(|tx| apply_snapshot(tx, snapshot))?;
        self.reload_index()?;
        Ok(summary)
    }

    /// Applies one change page on top of the master data.
    pub fn apply_changes(&self, page: &ChangePage) -> Result<ApplySummary> {
        let summary = self.write(|tx| apply_changes(tx, page))?;
        self.reload_index()?;
        Ok(summary)
    }

    pub fn apply_snapshot_json(&self, json: &str) -> Result<ApplySummary> {
        let s: PortfolioSnapshot = serde_json::from_str(json).map_err(|source| Error::Json {
            context: "portfolio",
            source,
        })?;
        self.apply_snapshot(&s)
    }

    pub fn apply_changes_json(&self, json: &str) -> Result<ApplySummary> {
        let p: ChangePage = serde_json::from_str(json).map_err(|source| Error::Json {
            context: "changes",
            source,
        })?;
        self.apply_changes(&p)
    }

    /// The cursor to download changes from, once a snapshot was applied.
    pub fn sync_cursor(&self) -> Result<Option<String>> {
        self.read(|c| meta(c, "cursor"))
    }

    pub(crate) fn reload_index(&self) -> Result<()> {
        let fresh = self.read(SearchIndex::load)?;
        *self.index.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(())
    }
}

/// Binds the file to `device` on first open; afterwards the same device id
/// must come back. Returns the identity to use: the code the server
/// assigned at sign-in wins over the provisional one the app opens with.
fn bind_device(tx: &Transaction, device: &DeviceIdentity) -> Result<DeviceIdentity> {
    let id = meta(tx, "device_id")?;
    let code = meta(tx, "device_code")?;
    let from_server = meta(tx, "device_code_from_server")?.is_some();
    match (id, code) {
        (None, None) => {
            set_meta(tx, "device_id", &device.device_id.to_string())?;
            set_meta(tx, "device_code", &device.device_code)?;
            Ok(device.clone())
        }
        (Some(id), Some(code))
            if id == device.device_id.to_string()
                && (code == device.device_code || from_server) =>
        {
            Ok(DeviceIdentity {
                device_id: device.device_id,
                device_code: code,
            })
        }
        (id, code) => Err(Error::conflict(
            "device_mismatch",
            format!(
                "Sổ này thuộc thiết bị {} ({}), không mở bằng thiết bị {} ({})",
                code.as_deref().unwrap_or("?"),
                id.as_deref().unwrap_or("?"),
                device.device_code,
                device.device_id
            ),
            format!(
                "this field book belongs to device {} ({}), not {} ({})",
                code.as_deref().unwrap_or("?"),
                id.as_deref().unwrap_or("?"),
                device.device_code,
                device.device_id
            ),
        )),
    }
}

pub(crate) fn meta(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

pub(crate) fn set_meta(tx: &Transaction, key: &str, value: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// The next value of a per-device counter (1, 2, 3…).
pub(crate) fn next_counter(tx: &Transaction, name: &str) -> Result<i64> {
    Ok(tx.query_row(
        "INSERT INTO counters (name, value) VALUES (?1, 1)
         ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
        [name],
        |r| r.get(0),
    )?)
}

pub(crate) fn officer(conn: &Connection) -> Result<Option<Officer>> {
    conn.query_row(
        "SELECT officer_id, code, full_name, branch_id, branch_name FROM officer WHERE id = 1",
        [],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        },
    )
    .optional()?
    .map(|(id, code, full_name, branch, branch_name)| {
        Ok(Officer {
            officer_id: parse_uuid(&id)?,
            code,
            full_name,
            branch_id: parse_uuid(&branch)?,
            branch_name,
        })
    })
    .transpose()
}

pub(crate) fn parse_uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|_| Error::Corrupt(format!("bad id {s:?}")))
}

pub(crate) fn parse_day(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| Error::Corrupt(format!("bad date {s:?}")))
}

pub(crate) fn from_millis(ms: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| Error::Corrupt(format!("bad instant {ms}")))
}

pub(crate) fn day_str(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The installments of a loan as the books stand.
pub(crate) fn booked_states(conn: &Connection, loan_id: &str) -> Result<Vec<InstallmentState>> {
    let mut st = conn.prepare_cached(
        "SELECT number, due_on, principal_due, interest_due, principal_paid, interest_paid
         FROM installments WHERE loan_id = ?1 ORDER BY number",
    )?;
    let rows = st.query_map([loan_id], |r| {
        Ok((
            r.get::<_, u32>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, i64>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (number, due, principal_due, interest_due, principal_paid, interest_paid) = row?;
        out.push(InstallmentState {
            number,
            due_on: parse_day(&due)?,
            principal_due,
            interest_due,
            principal_paid,
            interest_paid,
        });
    }
    Ok(out)
}

// ---- master data -------------------------------------------------------

fn opt_clean(v: &Option<String>) -> Option<String> {
    v.as_deref().map(clean).filter(|s| !s.is_empty())
}

fn required(field: String, v: &str) -> Result<String> {
    let c = clean(v);
    if c.is_empty() {
        return Err(Error::invalid(
            &field,
            format!("{field}: không được để trống"),
            format!("{field}: must not be empty"),
        ));
    }
    Ok(c)
}

fn upsert_officer(tx: &Transaction, o: &wire::OfficerIdentity) -> Result<u64> {
    tx.execute(
        "INSERT INTO officer (id, officer_id, code, full_name, branch_id, branch_name, cash_short,
             short_written_off, over_written_off)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (id) DO UPDATE SET officer_id = excluded.officer_id, code = excluded.code,
           full_name = excluded.full_name, branch_id = excluded.branch_id, branch_name = excluded.branch_name,
           cash_short = excluded.cash_short, short_written_off = excluded.short_written_off,
           over_written_off = excluded.over_written_off
         WHERE (officer.officer_id, officer.code, officer.full_name, officer.branch_id, officer.branch_name)
               IS NOT (excluded.officer_id, excluded.code, excluded.full_name, excluded.branch_id, excluded.branch_name)
            OR (officer.cash_short, officer.short_written_off, officer.over_written_off)
               IS NOT (excluded.cash_short, excluded.short_written_off, excluded.over_written_off)",
        params![
            o.officer_id.to_string(),
            required("officer.code".into(), &o.code)?,
            required("officer.full_name".into(), &o.full_name)?,
            o.branch_id.to_string(),
            clean(&o.branch_name),
            o.cash_short.map(|d| d.get()),
            o.short_written_off.map(|d| d.get()),
            o.over_written_off.map(|d| d.get())
        ],
    )
    .map(|n| n as u64)
    .map_err(Into::into)
}

fn upsert_houses(tx: &Transaction, houses: &[wire::BoardingHouse]) -> Result<u64> {
    let mut st = tx.prepare_cached(
        "INSERT OR REPLACE INTO boarding_houses (id, name, address, zone, route_order, landlord_name, landlord_phone)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for (i, h) in houses.iter().enumerate() {
        let phone = match &h.landlord_phone {
            Some(p) if !p.trim().is_empty() => {
                Some(normalize_phone(p).map_err(|source| Error::Id {
                    field: format!("boarding_houses[{i}].landlord_phone"),
                    source,
                })?)
            }
            _ => None,
        };
        st.execute(params![
            h.id.to_string(),
            required(format!("boarding_houses[{i}].name"), &h.name)?,
            clean(&h.address),
            opt_clean(&h.zone),
            h.route_order,
            opt_clean(&h.landlord_name),
            phone
        ])?;
    }
    Ok(houses.len() as u64)
}

fn upsert_workers(tx: &Transaction, workers: &[wire::Worker]) -> Result<u64> {
    let mut st = tx.prepare_cached(
        "INSERT OR REPLACE INTO workers (id, full_name, name_key, phone, cccd, boarding_house_id, room, factory, union_member, hardship, code)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for (i, w) in workers.iter().enumerate() {
        let name = required(format!("workers[{i}].full_name"), &w.full_name)?;
        let phone = match &w.phone {
            Some(p) if !p.trim().is_empty() => {
                Some(normalize_phone(p).map_err(|source| Error::Id {
                    field: format!("workers[{i}].phone"),
                    source,
                })?)
            }
            _ => None,
        };
        let cccd = match &w.cccd {
            Some(c) if !c.trim().is_empty() => {
                Some(normalize_cccd(c).map_err(|source| Error::Id {
                    field: format!("workers[{i}].cccd"),
                    source,
                })?)
            }
            _ => None,
        };
        st.execute(params![
            w.id.to_string(),
            name,
            fold(&name),
            phone,
            cccd,
            w.boarding_house_id.map(|h| h.to_string()),
            opt_clean(&w.room),
            opt_clean(&w.factory),
            w.union_member,
            w.hardship,
            w.code
                .as_deref()
                .map(|c| c.trim().to_uppercase())
                .filter(|c| !c.is_empty())
        ])?;
    }
    Ok(workers.len() as u64)
}

/// The installments of a loan sent by its terms and the amount paid.
fn rebuilt_states(l: &wire::Loan, field: &dyn Fn(&str) -> String) -> Result<Vec<InstallmentState>> {
    let terms = LoanTerms {
        principal: l.principal.get(),
        annual_rate_bp: l.annual_rate_bp,
        method: l.method,
        frequency: l.frequency,
        installments: l.installment_count,
        disbursed_on: l.disbursed_on,
    };
    installments_after(&terms, l.paid.get()).map_err(|e| {
        let (f, vi) = match &e {
            RebuildError::Schedule(ScheduleError::Principal) => {
                (field("principal"), "số tiền gốc phải lớn hơn 0".to_string())
            }
            RebuildError::Schedule(ScheduleError::Rate) => (
                field("annual_rate_bp"),
                "lãi suất phải từ 0 đến 100% một năm".to_string(),
            ),
            RebuildError::Schedule(ScheduleError::Installments) => (
                field("installment_count"),
                "số kỳ trả nợ phải từ 1 đến 520".to_string(),
            ),
            RebuildError::Schedule(ScheduleError::Calendar) => (
                field("disbursed_on"),
                "lịch trả nợ vượt quá lịch".to_string(),
            ),
            RebuildError::NegativePaid => (field("paid"), "số đã trả không được âm".to_string()),
            RebuildError::PaidAboveDue { paid, due } => (
                field("paid"),
                format!(
                    "số đã trả {} lớn hơn tổng phải trả của khoản vay {}",
                    Dong(*paid),
                    Dong(*due)
                ),
            ),
        };
        Error::invalid(&f, format!("{f}: {vi}"), format!("{f}: {e}"))
    })
}

/// The installments of a loan sent line by line.
fn sent_states(l: &wire::Loan, field: &dyn Fn(&str) -> String) -> Result<Vec<InstallmentState>> {
    let states: Vec<InstallmentState> = l
        .installments
        .iter()
        .map(|x| InstallmentState {
            number: x.number,
            due_on: x.due_on,
            principal_due: x.principal_due.get(),
            interest_due: x.interest_due.get(),
            principal_paid: x.principal_paid.get(),
            interest_paid: x.interest_paid.get(),
        })
        .collect();
    if let Some(bad) = states.iter().find(|s| {
        s.principal_due < 0
            || s.interest_due < 0
            || s.principal_paid < 0
            || s.interest_paid < 0
            || s.principal_left() < 0
            || s.interest_left() < 0
    }) {
        let f = field(&format!("installments[{}]", bad.number));
        return Err(Error::invalid(
            &f,
            format!("{f}: số đã trả không được âm hay vượt số phải trả"),
            format!("{f}: paid amounts must be between 0 and the amount due"),
        ));
    }
    Ok(states)
}

/// Returns (loans, installments) written.
fn upsert_loans(tx: &Transaction, loans: &[wire::Loan]) -> Result<(u64, u64)> {
    let mut loan_st = tx.prepare_cached(
        "INSERT OR REPLACE INTO loans (id, worker_id, contract_no, product_name, principal, annual_rate_bp, method, frequency, disbursed_on, status)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    let mut del_st = tx.prepare_cached("DELETE FROM installments WHERE loan_id = ?1")?;
    let mut del_waiting = tx.prepare_cached("DELETE FROM waiting_elsewhere WHERE loan_id = ?1")?;
    let mut waiting_st = tx.prepare_cached(
        "INSERT OR REPLACE INTO waiting_elsewhere (client_id, loan_id, amount, receipt_no) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut inst_st = tx.prepare_cached(
        "INSERT INTO installments (loan_id, number, due_on, principal_due, interest_due, principal_paid, interest_paid)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut n_inst = 0;
    for (i, l) in loans.iter().enumerate() {
        let field = |f: &str| format!("loans[{i}].{f}");
        if l.principal.get() <= 0 {
            return Err(Error::invalid(
                &field("principal"),
                format!("{}: số tiền gốc phải lớn hơn 0", field("principal")),
                format!("{}: must be greater than 0", field("principal")),
            ));
        }
        let states = if l.installments.is_empty() {
            rebuilt_states(l, &field)?
        } else {
            sent_states(l, &field)?
        };
        let total = outstanding(&states).total();
        if total != l.balance.get() {
            let f = field("balance");
            let (vi, en) = if l.installments.is_empty() {
                (
                    "lịch trả nợ lập từ điều kiện vay và số đã trả",
                    "the installments its terms and amount paid give",
                )
            } else {
                ("lịch trả nợ gửi kèm", "the installments sent")
            };
            return Err(Error::invalid(
                &f,
                format!("{f}: dư nợ {} không khớp {vi} ({})", l.balance, Dong(total)),
                format!(
                    "{f}: balance {} does not match {en} ({})",
                    l.balance,
                    Dong(total)
                ),
            ));
        }
        let id = l.id.to_string();
        loan_st.execute(params![
            id,
            l.worker_id.to_string(),
            required(field("contract_no"), &l.contract_no)?,
            clean(&l.product_name),
            l.principal.get(),
            l.annual_rate_bp,
            l.method.as_str(),
            l.frequency.as_str(),
            day_str(l.disbursed_on),
            l.status.as_str()
        ])?;
        del_st.execute([&id])?;
        for s in &states {
            inst_st.execute(params![
                id,
                s.number,
                day_str(s.due_on),
                s.principal_due,
                s.interest_due,
                s.principal_paid,
                s.interest_paid
            ])?;
        }
        n_inst += states.len() as u64;
        // The server's whole list for the loan: one no longer sent was
        // decided (or voided) since.
        del_waiting.execute([&id])?;
        for w in &l.waiting_elsewhere {
            if w.amount.get() <= 0 {
                let f = field("waiting_elsewhere");
                return Err(Error::invalid(
                    &f,
                    format!("{f}: số tiền phải lớn hơn 0"),
                    format!("{f}: the amount must be greater than 0"),
                ));
            }
            waiting_st.execute(params![
                w.client_id.to_string(),
                id,
                w.amount.get(),
                w.receipt_no
            ])?;
        }
    }
    Ok((loans.len() as u64, n_inst))
}

/// Returns (campaigns, recipient rows) written.
fn upsert_campaigns(tx: &Transaction, campaigns: &[wire::Campaign]) -> Result<(u64, u64)> {
    let mut st = tx.prepare_cached(
        "INSERT OR REPLACE INTO campaigns (id, name, kind, eligibility, gift_value, starts_on, ends_on, officer_allocation, officer_remaining)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    let mut del = tx.prepare_cached("DELETE FROM campaign_recipients WHERE campaign_id = ?1")?;
    let mut rec = tx.prepare_cached(
        "INSERT OR IGNORE INTO campaign_recipients (campaign_id, worker_id) VALUES (?1, ?2)",
    )?;
    let mut n = 0;
    for (i, c) in campaigns.iter().enumerate() {
        if c.ends_on < c.starts_on {
            let f = format!("campaigns[{i}].ends_on");
            return Err(Error::invalid(
                &f,
                format!("{f}: ngày kết thúc trước ngày bắt đầu"),
                format!("{f}: ends before it starts"),
            ));
        }
        let id = c.id.to_string();
        st.execute(params![
            id,
            required(format!("campaigns[{i}].name"), &c.name)?,
            c.kind.as_str(),
            c.eligibility.as_str(),
            c.gift_value.get(),
            day_str(c.starts_on),
            day_str(c.ends_on),
            c.officer_allocation,
            c.officer_remaining
        ])?;
        del.execute([&id])?;
        for w in &c.recipients {
            rec.execute(params![id, w.to_string()])?;
        }
        n += c.recipients.len() as u64;
    }
    Ok((campaigns.len() as u64, n))
}

/// Records the server's word on this device's records. Statuses of records
/// this device does not hold are ignored (they belong to a reinstall).
fn apply_statuses(tx: &Transaction, statuses: &[wire::RecordStatus]) -> Result<u64> {
    let mut st = tx.prepare_cached(
        "UPDATE record_states SET state = ?2, code = ?3, message_vi = ?4, message_en = ?5, updated_at = ?6
         WHERE client_id = ?1",
    )?;
    let mut settled = tx.prepare_cached(
        "INSERT OR REPLACE INTO record_settlements (client_id, note, settled_at, handed_out)
         SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM outbox WHERE client_id = ?1)",
    )?;
    // Another phone's repayment (or this phone's, from before its book was
    // started again): kept with its state, counted while it waits.
    let mut other = tx.prepare_cached(
        "INSERT INTO other_receipts (client_id, loan_id, amount, state, settled)
         SELECT ?1, ?2, ?3, ?4, ?5 WHERE NOT EXISTS (SELECT 1 FROM outbox WHERE client_id = ?1)
         ON CONFLICT (client_id) DO UPDATE SET state = excluded.state, settled = excluded.settled",
    )?;
    // One that no longer carries them (voided since) counts no more.
    let mut gone = tx.prepare_cached("DELETE FROM other_receipts WHERE client_id = ?1")?;
    let mut n = 0;
    for s in statuses {
        if let (Some(loan), Some(amount)) = (s.loan_id, s.amount.filter(|a| a.get() > 0)) {
            other.execute(params![
                s.client_id.to_string(),
                loan.to_string(),
                amount.get(),
                s.state.as_str(),
                s.settled_note.is_some()
            ])?;
        } else {
            gone.execute([s.client_id.to_string()])?;
        }
        n += st.execute(params![
            s.client_id.to_string(),
            s.state.as_str(),
            s.code,
            s.message_vi,
            s.message_en,
            s.decided_at.timestamp_millis()
        ])? as u64;
        if let Some(note) = &s.settled_note {
            let at = s.settled_at.unwrap_or(s.decided_at);
            settled.execute(params![
                s.client_id.to_string(),
                note,
                at.timestamp_millis(),
                s.settled_handed_out == Some(true)
            ])?;
        }
    }
    Ok(n)
}

/// Keeps the cash counted for the officer's approved batches.
fn apply_counts(tx: &Transaction, counts: &[wire::CashCount]) -> Result<u64> {
    let mut st = tx.prepare_cached(
        "INSERT OR REPLACE INTO cash_counts (batch_id, decided_at, cash_expected, cash_received)
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    for k in counts {
        st.execute(params![
            k.batch_id.to_string(),
            k.decided_at.timestamp_millis(),
            k.cash_expected.get(),
            k.cash_received.get()
        ])?;
    }
    Ok(counts.len() as u64)
}

pub(crate) fn apply_snapshot(tx: &Transaction, s: &PortfolioSnapshot) -> Result<ApplySummary> {
    tx.execute_batch(
        "DELETE FROM campaign_recipients; DELETE FROM campaigns; DELETE FROM installments;
         DELETE FROM waiting_elsewhere; DELETE FROM loans; DELETE FROM workers; DELETE FROM boarding_houses; DELETE FROM officer;
         DELETE FROM other_receipts;",
    )?;
    let mut sum = ApplySummary {
        rows: upsert_officer(tx, &s.officer)?,
        ..Default::default()
    };
    fill(
        tx,
        &mut sum,
        &s.boarding_houses,
        &s.workers,
        &s.loans,
        &s.campaigns,
        &s.record_statuses,
    )?;
    // The server's whole list: a count it no longer sends is gone.
    tx.execute("DELETE FROM cash_counts", [])?;
    sum.rows += apply_counts(tx, &s.cash_counts)?;
    set_meta(tx, "cursor", &s.next)?;
    set_meta(tx, "snapshot_at", &s.as_of.to_rfc3339())?;
    sum.next_cursor = s.next.clone();
    sum.has_more = false;
    Ok(sum)
}

fn fill(
    tx: &Transaction,
    sum: &mut ApplySummary,
    houses: &[wire::BoardingHouse],
    workers: &[wire::Worker],
    loans: &[wire::Loan],
    campaigns: &[wire::Campaign],
    statuses: &[wire::RecordStatus],
) -> Result<()> {
    sum.boarding_houses = upsert_houses(tx, houses)?;
    sum.workers = upsert_workers(tx, workers)?;
    let (l, i) = upsert_loans(tx, loans)?;
    sum.loans = l;
    sum.installments = i;
    let (c, r) = upsert_campaigns(tx, campaigns)?;
    sum.campaigns = c;
    sum.record_statuses = apply_statuses(tx, statuses)?;
    sum.rows += sum.boarding_houses + sum.workers + l + i + c + r + sum.record_statuses;
    Ok(())
}

pub(crate) fn apply_changes(tx: &Transaction, p: &ChangePage) -> Result<ApplySummary> {
    if meta(tx, "cursor")?.is_none() {
        return Err(Error::conflict(
            "no_snapshot",
            "Chưa tải danh sách khách hàng: cần áp dụng bản chụp trước các thay đổi",
            "no portfolio snapshot applied yet: apply a snapshot before change pages",
        ));
    }
    let mut sum = ApplySummary::default();
    if let Some(o) = &p.officer {
        sum.rows += upsert_officer(tx, o)?;
    }
    fill(
        tx,
        &mut sum,
        &p.boarding_houses,
        &p.workers,
        &p.loans,
        &p.campaigns,
        &p.record_statuses,
    )?;
    sum.rows += apply_counts(tx, &p.cash_counts)?;
    for w in &p.removed_workers {
        let id = w.to_string();
        tx.execute(
            "DELETE FROM installments WHERE loan_id IN (SELECT id FROM loans WHERE worker_id = ?1)",
            [&id],
        )?;
        tx.execute(
            "DELETE FROM waiting_elsewhere WHERE loan_id IN (SELECT id FROM loans WHERE worker_id = ?1)",
            [&id],
        )?;
        tx.execute("DELETE FROM loans WHERE worker_id = ?1", [&id])?;
        tx.execute(
            "DELETE FROM campaign_recipients WHERE worker_id = ?1",
            [&id],
        )?;
        sum.removed_workers += tx.execute("DELETE FROM workers WHERE id = ?1", [&id])? as u64;
    }
    for l in &p.removed_loans {
        let id = l.to_string();
        tx.execute("DELETE FROM installments WHERE loan_id = ?1", [&id])?;
        tx.execute("DELETE FROM waiting_elsewhere WHERE loan_id = ?1", [&id])?;
        sum.rows += tx.execute("DELETE FROM loans WHERE id = ?1", [&id])? as u64;
    }
    for c in &p.removed_campaigns {
        let id = c.to_string();
        tx.execute(
            "DELETE FROM campaign_recipients WHERE campaign_id = ?1",
            [&id],
        )?;
        tx.execute("DELETE FROM campaigns WHERE id = ?1", [&id])?;
    }
    sum.rows += sum.removed_workers;
    set_meta(tx, "cursor", &p.next)?;
    sum.next_cursor = p.next.clone();
    sum.has_more = p.has_more;
    Ok(sum)
}

/// `Dong` from a stored i64.
pub(crate) fn dong(v: i64) -> rust_decimal::Decimal {
    Dong(v).to_decimal()
}
