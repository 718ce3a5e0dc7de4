//! Sổ Tay mobile core: the officer's offline field book.
//!
//! - [`domain`]: business rules shared with the server (money, schedules,
//!   allocation, repayment and gift rules, Vietnamese text and ids).
//! - [`wire`]: what the phone and the server exchange (JSON).
//! - [`cli`]: the command lines' usage errors said in Vietnamese.
//! - [`Store`]: the on-device SQLite field book, in pure Rust.
//! - [`FieldBook`]: the object the Android and iOS apps (and the officer
//!   CLI) use through uniffi; each method is one user action and delegates
//!   to [`Store`].

pub mod cli;
pub mod domain;
pub mod sync;
pub mod wire;

mod cipher;
mod db;
mod error;
mod query;
mod record;
mod schema;
mod search;
mod types;

use std::sync::{Arc, Mutex, TryLockError};

use chrono::{NaiveDate, Utc};
use uuid::Uuid;

pub use db::Store;
pub use error::{Error, FieldBookError};
pub use query::MAX_SEARCH_RESULTS;
pub use schema::VERSION as SCHEMA_VERSION;
pub use sync::{SyncOptions, Transport};
pub use types::*;
pub use wire::{GeoPoint, RecordKind, UploadOutcome, UploadResult, VisitPurpose};

uniffi::setup_scaffolding!();

type Result<T> = std::result::Result<T, FieldBookError>;

/// Told how a sync is going: records sent of those to send, change rows
/// received. Called on the syncing thread.
#[uniffi::export(callback_interface)]
pub trait SyncProgress: Send + Sync {
    fn on_progress(&self, sent: u32, total_to_send: u32, received: u64);
}

/// The officer's field book on this phone.
#[derive(uniffi::Object)]
pub struct FieldBook {
    store: Store,
    /// One sync at a time on the book's file, shared by every `FieldBook`
    /// of the process that opened it (the app may open the book twice, say
    /// for a background sync): two at once would renew the session with
    /// the same refresh token, and the server would end the first renewal's.
    syncing: Arc<Mutex<()>>,
}

/// The sync lock of the field book at `path`: one per file in the process.
fn sync_lock(path: &str) -> Arc<Mutex<()>> {
    type Locks = Mutex<std::collections::HashMap<std::path::PathBuf, std::sync::Weak<Mutex<()>>>>;
    static LOCKS: std::sync::OnceLock<Locks> = std::sync::OnceLock::new();
    let key = std::fs::canonicalize(path).unwrap_or_else(|_| std::path::PathBuf::from(path));
    let mut locks = LOCKS
        .get_or_init(Locks::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    locks.retain(|_, held| held.strong_count() > 0);
    if let Some(lock) = locks.get(&key).and_then(std::sync::Weak::upgrade) {
        return lock;
    }
    let lock = Arc::new(Mutex::new(()));
    locks.insert(key, Arc::downgrade(&lock));
    lock
}

impl FieldBook {
    /// The store underneath, for Rust callers.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The sync lock, or `Conflict` `sync_running` with these messages.
    fn exclusive(&self, vi: &str, en: &str) -> Result<std::sync::MutexGuard<'_, ()>> {
        match self.syncing.try_lock() {
            Ok(g) => Ok(g),
            Err(TryLockError::Poisoned(p)) => Ok(p.into_inner()),
            Err(TryLockError::WouldBlock) => Err(FieldBookError::Conflict {
                code: "sync_running".into(),
                message_vi: vi.into(),
                message_en: en.into(),
            }),
        }
    }

    /// [`FieldBook::login`] over any transport (tests use the fake server).
    pub fn login_with(
        &self,
        transport: &dyn Transport,
        server_url: &str,
        username: &str,
        password: &str,
        device_name: &str,
    ) -> Result<SessionInfo> {
        let _one = self.exclusive(
            "Đang đồng bộ; hãy đăng nhập khi đồng bộ xong",
            "a sync is running; sign in when it is done",
        )?;
        Ok(
            sync::SyncClient::new(&self.store, transport, SyncOptions::default()).login(
                server_url,
                username,
                password,
                device_name,
            )?,
        )
    }

    /// [`FieldBook::sync`] over any transport, with chosen options.
    pub fn sync_with(
        &self,
        transport: &dyn Transport,
        options: SyncOptions,
        progress: Option<&dyn SyncProgress>,
    ) -> Result<SyncReport> {
        let _one = self.exclusive(
            "Đang đồng bộ; hãy chờ lần đồng bộ này xong",
            "a sync is already running",
        )?;
        let report = |sent: u32, total: u32, received: u64| {
            if let Some(p) = progress {
                p.on_progress(sent, total, received)
            }
        };
        Ok(sync::SyncClient::new(&self.store, transport, options).sync(&report)?)
    }
}

#[uniffi::export]
impl FieldBook {
    /// Opens (creating or upgrading) the field book at `path` for this device.
    #[uniffi::constructor]
    pub fn open(path: String, device: DeviceIdentity) -> Result<Arc<Self>> {
        let store = Store::open(path.clone(), device)?;
        Ok(Arc::new(FieldBook {
            store,
            syncing: sync_lock(&path),
        }))
    }

    /// Opens (creating or upgrading) the field book at `path` encrypted at
    /// rest under `key`: 64 hex digits (a random 256-bit key the app keeps
    /// in the Android Keystore or the iOS Keychain) or a passphrase. A book
    /// written before without a key is encrypted on the way in. A wrong key
    /// is refused (`Storage`, `wrong_key`) and changes nothing; a build
    /// without SQLCipher refuses every key (`encryption_unavailable`).
    #[uniffi::constructor]
    pub fn open_encrypted(path: String, device: DeviceIdentity, key: String) -> Result<Arc<Self>> {
        let store = Store::open_encrypted(path.clone(), device, &key)?;
        Ok(Arc::new(FieldBook {
            store,
            syncing: sync_lock(&path),
        }))
    }

    /// Puts the field book under a new encryption key (64 hex digits or a
    /// passphrase, as for `open_encrypted`); a book opened without a key is
    /// encrypted. The book is copied whole under the new key and the copy
    /// replaces it: a failure before that changes nothing; once it is done
    /// only the new key opens the book (`Storage`, `reopen_failed`, if it
    /// could not be opened again at once). Keep the new key as pending
    /// before the call and as the key after it, so that a crash in between
    /// can try both. Refused while a sync runs (`Conflict`,
    /// `sync_running`) or while the book is open elsewhere in the app
    /// (`Storage`, `book_in_use`); a build without SQLCipher refuses it
    /// (`encryption_unavailable`).
    pub fn change_key(&self, new_key: String) -> Result<()> {
        let _one = self.exclusive(
            "Đang đồng bộ; hãy đổi khoá khi đồng bộ xong",
            "a sync is running; change the key when it is done",
        )?;
        Ok(self.store.change_key(&new_key)?)
    }

    /// Signs in to the server at `server_url` (`https://…`) as this device
    /// and keeps the session in the field book. The device code the server
    /// assigns becomes this book's receipt code if no receipt was issued
    /// yet; otherwise a different code is refused (`Conflict`,
    /// `device_code_mismatch`).
    pub fn login(
        &self,
        server_url: String,
        username: String,
        password: String,
        device_name: String,
    ) -> Result<SessionInfo> {
        self.login_with(
            &sync::HttpTransport::default(),
            &server_url,
            &username,
            &password,
            &device_name,
        )
    }

    /// The signed-in session, if any.
    pub fn session(&self) -> Result<Option<SessionInfo>> {
        Ok(self.store.session()?)
    }

    /// Forgets the tokens on this phone. What the book holds stays (records
    /// not sent yet go up after the next sign-in), but it records nothing
    /// until then (`Auth`, `signed_out`).
    pub fn logout(&self) -> Result<()> {
        // Not under a sync: a session it renews would be stored again.
        let _one = self.exclusive(
            "Đang đồng bộ; hãy đăng xuất khi đồng bộ xong",
            "a sync is running; sign out when it is done",
        )?;
        Ok(self.store.sign_out_officer()?)
    }

    /// Sends the outbox and receives the portfolio's changes (blocking:
    /// call it off the main thread). Safe to interrupt at any point and to
    /// call again.
    pub fn sync(&self, progress: Option<Box<dyn SyncProgress>>) -> Result<SyncReport> {
        self.sync_with(
            &sync::HttpTransport::default(),
            SyncOptions::default(),
            progress.as_deref(),
        )
    }

    /// Puts records set aside after repeated upload failures, and signature
    /// images the server refused, back in the queue for the next sync.
    /// Returns how many.
    pub fn retry_wedged(&self) -> Result<u32> {
        Ok(self.store.retry_wedged()?)
    }

    pub fn device(&self) -> Result<DeviceIdentity> {
        Ok(self.store.device())
    }

    /// The officer whose portfolio is loaded, if any.
    pub fn officer(&self) -> Result<Option<Officer>> {
        Ok(self.store.officer()?)
    }

    /// Replaces all master data with a portfolio snapshot ([`wire::PortfolioSnapshot`], JSON).
    pub fn apply_portfolio_json(&self, json: String) -> Result<ApplySummary> {
        Ok(self.store.apply_snapshot_json(&json)?)
    }

    /// Applies one change page ([`wire::ChangePage`], JSON).
    pub fn apply_changes_json(&self, json: String) -> Result<ApplySummary> {
        Ok(self.store.apply_changes_json(&json)?)
    }

    pub fn search(&self, query: String, limit: u32) -> Result<Vec<WorkerHit>> {
        self.store.refuse_portfolio_unless_signed_in()?;
        Ok(self.store.search(&query, limit)?)
    }

    /// Workers to see on `day`, by boarding house.
    pub fn route(&self, day: NaiveDate) -> Result<Vec<RouteStop>> {
        self.store.refuse_portfolio_unless_signed_in()?;
        Ok(self.store.route(day)?)
    }

    /// Today's route (Vietnam time).
    pub fn today_route(&self) -> Result<Vec<RouteStop>> {
        self.store.refuse_portfolio_unless_signed_in()?;
        Ok(self.store.route(domain::time::local_date(Utc::now()))?)
    }

    pub fn worker_detail(&self, worker_id: Uuid) -> Result<WorkerDetail> {
        self.store.refuse_portfolio_unless_signed_in()?;
        Ok(self.store.worker_detail(&worker_id)?)
    }

    pub fn campaigns(&self) -> Result<Vec<CampaignView>> {
        self.store.refuse_portfolio_unless_signed_in()?;
        Ok(self.store.campaigns()?)
    }

    /// Every record refuses on a phone the server revoked (see `sync`).
    pub fn record_visit(&self, input: VisitInput) -> Result<RecordedFact> {
        self.store.refuse_unless_recording()?;
        Ok(self.store.record_visit(&input)?)
    }

    /// Records cash received and returns the receipt at once.
    pub fn record_repayment(&self, input: RepaymentInput) -> Result<RepaymentReceipt> {
        self.store.refuse_unless_recording()?;
        Ok(self.store.record_repayment(&input)?)
    }

    pub fn record_gift(&self, input: GiftInput) -> Result<RecordedFact> {
        self.store.refuse_unless_recording()?;
        Ok(self.store.record_gift(&input)?)
    }

    /// Voids a record not yet synced.
    pub fn void_record(&self, input: CorrectionInput) -> Result<RecordedFact> {
        self.store.refuse_unless_recording()?;
        Ok(self.store.void_record(&input)?)
    }

    /// Asks the supervisor to reverse a synced record.
    pub fn request_reversal(&self, input: CorrectionInput) -> Result<RecordedFact> {
        self.store.refuse_unless_recording()?;
        Ok(self.store.request_reversal(&input)?)
    }

    pub fn receipt(&self, receipt_no: String) -> Result<RepaymentReceipt> {
        self.store.refuse_if_signed_out()?;
        Ok(self.store.receipt(&receipt_no)?)
    }

    pub fn outbox(&self, filter: OutboxFilter, limit: u32) -> Result<Vec<OutboxItem>> {
        self.store.refuse_if_signed_out()?;
        Ok(self.store.outbox(filter, limit)?)
    }

    /// The next records to upload, oldest first (see [`Store::next_pending_batch`]).
    pub fn next_pending_batch(&self, limit: u32) -> Result<Vec<OutboxItem>> {
        self.store.refuse_if_signed_out()?;
        Ok(self.store.outbox(OutboxFilter::Pending, limit)?)
    }

    /// Records the server's per-record upload results.
    pub fn mark_upload_results(&self, results: Vec<UploadResult>) -> Result<u32> {
        Ok(self.store.mark_upload_results(&results)?)
    }

    pub fn daily_summary(&self, day: NaiveDate) -> Result<DailySummary> {
        self.store.refuse_if_signed_out()?;
        Ok(self.store.daily_summary(day)?)
    }

    /// Today's summary (Vietnam time).
    pub fn today_summary(&self) -> Result<DailySummary> {
        self.store.refuse_if_signed_out()?;
        Ok(self
            .store
            .daily_summary(domain::time::local_date(Utc::now()))?)
    }
}
