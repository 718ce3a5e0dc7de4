//! The sync client: sign in, push the outbox in batches, pull the
//! portfolio and its changes.
//!
//! - [`Transport`] is how bytes reach the server: [`HttpTransport`] (rustls,
//!   gzip) on phones and in the CLI, [`fake::FakeServer`] in tests.
//! - Every batch is written down (id and exact bytes) before it is sent, so
//!   after an interruption at any point the same batch is sent again first;
//!   the server answers a replayed batch with the results it stored.
//! - A batch the server refuses with a 4xx is split in halves until the bad
//!   record is alone; a record that is still refused after
//!   [`MAX_ATTEMPTS`] syncs (or whose batch conflicts) is `wedged` with the
//!   reason and the others go on.
//! - Change pages are applied with their cursor in one transaction.

pub mod fake;
pub mod http;
pub(crate) mod outbox;
pub(crate) mod signatures;

use std::collections::HashSet;
use std::time::Duration;

use serde::de::DeserializeOwned;

pub use http::HttpTransport;

use crate::db::Store;
use crate::domain::gifts::signature_media_type;
use crate::error::{Error, RemoteClass, Result};
use crate::types::{SessionInfo, SyncReport};
use crate::wire::{
    ChangePage, LoginRequest, PortfolioSnapshot, Problem, RefreshRequest, TokenResponse,
    UploadResponse,
};
use outbox::OpenBatch;

/// Records per upload batch (the server takes up to 1,000).
pub const BATCH_SIZE: usize = 500;
/// Change rows asked for per page.
pub const PAGE_SIZE: u32 = 500;
/// Syncs in which a lone record may be refused before it is wedged.
pub const MAX_ATTEMPTS: i64 = 5;
/// An access token expiring within this is renewed before a request.
const ACCESS_MARGIN: chrono::TimeDelta = chrono::TimeDelta::seconds(30);
/// Refused batches in a row after which this sync stops pushing.
const MAX_FAILURES_IN_A_ROW: u32 = 16;

/// An HTTP answer, whatever its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// The request did not get an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// Nothing reached the server (no network, DNS, refused connection).
    #[error("not sent: {0}")]
    NotSent(String),
    /// The request may have reached the server, but no answer came back.
    #[error("no answer: {0}")]
    NoAnswer(String),
    /// The request may have reached the server, but it did not start
    /// answering in the time given, or the transfer stalled that long: not
    /// tried again in the same sync (a server that hangs would keep the
    /// officer waiting that long again).
    #[error("timed out: {0}")]
    TimedOut(String),
}

/// How requests reach the server. `headers` are sent as given; the
/// transport adds nothing but what HTTP needs (and `Accept-Encoding`).
pub trait Transport: Send + Sync {
    fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<Response, TransportError>;
    /// POSTs a JSON body.
    fn post_json(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Response, TransportError>;
    /// PUTs a body of the given media type (a signature image).
    fn put(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        content_type: &str,
        body: &[u8],
    ) -> Result<Response, TransportError>;
}

/// The server answered in a way a working server never does: not the
/// connection's fault, and nothing on the phone is lost.
fn server_fault(detail: String) -> Error {
    Error::Remote {
        class: crate::error::RemoteClass::Network,
        code: "server_fault".into(),
        message_vi: format!(
            "Máy chủ trả lời sai (lỗi của máy chủ, không phải do mạng): mọi bản ghi trên máy vẫn an toàn; hãy báo quản trị viên rồi đồng bộ lại sau (chi tiết: {detail})"
        ),
        message_en: format!(
            "the server answered wrongly (its fault, not the network's): every record on the phone is safe; tell the administrator and sync again later (detail: {detail})"
        ),
    }
}

/// The code of a sync error when the server did not answer in time.
pub const TIMED_OUT: &str = "timed_out";

fn is_timeout(e: &Error) -> bool {
    matches!(e, Error::Remote { code, .. } if code == TIMED_OUT)
}

/// Knobs of one sync; [`SyncOptions::default`] is what the apps use.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    pub batch_size: usize,
    pub page_size: u32,
    /// Extra tries after a network failure, a 5xx, 408 or 429.
    pub retries: u32,
    /// Wait before the first extra try; doubled each time.
    pub backoff: Duration,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            batch_size: BATCH_SIZE,
            page_size: PAGE_SIZE,
            retries: 2,
            backoff: Duration::from_millis(500),
        }
    }
}

/// Progress of a sync: records sent of those to send, change rows received.
pub type Progress<'a> = &'a dyn Fn(u32, u32, u64);

/// Checks and normalises a server address: `https://…`, or `http://` to
/// this machine only (tests, a server on the laptop).
pub fn normalize_server_url(url: &str) -> Result<String> {
    let u = url.trim().trim_end_matches('/');
    let host = |rest: &str| {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        match authority.strip_prefix('[') {
            Some(v6) => format!("[{}]", v6.split(']').next().unwrap_or("")),
            None => authority.split(':').next().unwrap_or("").to_string(),
        }
    };
    let ok = if let Some(rest) = u.strip_prefix("https://") {
        !host(rest).is_empty()
    } else if let Some(rest) = u.strip_prefix("http://") {
        let h = host(rest);
        h == "localhost" || h.starts_with("127.") || h == "[::1]"
    } else {
        false
    };
    if !ok {
        return Err(Error::invalid(
            "server_url",
            format!("Địa chỉ máy chủ \"{url}\" phải bắt đầu bằng https:// (http:// chỉ dùng cho máy này)"),
            format!("server_url: \"{url}\" must start with https:// (http:// only for localhost)"),
        ));
    }
    Ok(u.to_string())
}

/// The server's answer (410) to a download cursor it does not know.
const CURSOR_RESET: &str = "sync_cursor_reset";

/// How a pull ended.
#[derive(Debug, PartialEq, Eq)]
enum Pulled {
    CaughtUp,
    /// The server refused the cursor: start again from the portfolio.
    CursorReset,
}

/// `%`-encodes a query value (the cursor is opaque).
fn encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn parse<T: DeserializeOwned>(context: &'static str, body: &[u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|source| Error::Json { context, source })
}

fn problem(r: &Response) -> Problem {
    serde_json::from_slice(&r.body).unwrap_or(Problem {
        type_: None,
        title: None,
        status: Some(r.status),
        detail: None,
        detail_en: None,
        code: None,
        errors: None,
    })
}

/// The server's error as ours: its code, its (Vietnamese) detail.
/// The server says this device was revoked.
fn is_revoked(e: &Error) -> bool {
    matches!(e, Error::Remote { code, .. } if code == "device_revoked")
}

fn remote(class: RemoteClass, status: u16, p: &Problem) -> Error {
    let code = p.code.clone().unwrap_or_else(|| format!("http_{status}"));
    let vi = p
        .detail
        .clone()
        .or_else(|| p.title.clone())
        .unwrap_or_else(|| format!("Máy chủ trả lỗi {status}"));
    let en = p.detail_en.clone().unwrap_or_else(|| {
        format!(
            "server answered {status} {code}: {}",
            p.title.as_deref().or(p.detail.as_deref()).unwrap_or("")
        )
    });
    Error::Remote {
        class,
        code,
        message_vi: vi,
        message_en: en,
    }
}

fn not_signed_in() -> Error {
    Error::Remote {
        class: RemoteClass::Auth,
        code: "not_signed_in".into(),
        message_vi: "Chưa đăng nhập: hãy đăng nhập để đồng bộ".into(),
        message_en: "not signed in: sign in to sync".into(),
    }
}

fn transient(status: u16) -> bool {
    status >= 500 || status == 408 || status == 429
}

/// What a request carries.
#[derive(Clone, Copy)]
enum Req<'a> {
    Get,
    /// A JSON body, POSTed.
    Json(&'a [u8]),
    /// A body of this media type, PUT.
    Put(&'a str, &'a [u8]),
}

/// One sync (or sign-in) against one transport.
pub struct SyncClient<'a> {
    store: &'a Store,
    transport: &'a dyn Transport,
    opts: SyncOptions,
}

impl<'a> SyncClient<'a> {
    pub fn new(store: &'a Store, transport: &'a dyn Transport, opts: SyncOptions) -> Self {
        SyncClient {
            store,
            transport,
            opts,
        }
    }

    /// Signs in and keeps the tokens in the field book.
    pub fn login(
        &self,
        server_url: &str,
        username: &str,
        password: &str,
        device_name: &str,
    ) -> Result<SessionInfo> {
        let base = normalize_server_url(server_url)?;
        if username.trim().is_empty() || password.is_empty() {
            return Err(Error::invalid(
                "username",
                "Cần tên đăng nhập và mật khẩu",
                "username and password are required",
            ));
        }
        let body = serde_json::to_vec(&LoginRequest {
            username: username.trim().to_string(),
            password: password.to_string(),
            device_id: self.store.device_id(),
            device_name: device_name.trim().to_string(),
            device_code: self.store.printed_code()?,
        })
        .map_err(|source| Error::Json {
            context: "login",
            source,
        })?;
        let r = self.send_once(&format!("{base}/api/v1/auth/login"), None, Req::Json(&body))?;
        if r.status != 200 {
            let class = if r.status == 401 || r.status == 403 {
                RemoteClass::Auth
            } else if transient(r.status) {
                RemoteClass::Network
            } else {
                RemoteClass::Validation
            };
            return Err(remote(class, r.status, &problem(&r)));
        }
        let t: TokenResponse = parse("login", &r.body)?;
        // The account's name as the server knows it (`canbo.lan`), not as
        // typed (`CANBO.LAN`).
        let username = t
            .user
            .as_ref()
            .map_or(username.trim(), |u| u.username.as_str())
            .to_string();
        if let Err(e) = self
            .store
            .save_login(&base, &username, device_name.trim(), &t)
        {
            // The server knows this phone by another receipt code now: a
            // session kept from before would upload under it, and every
            // receipt would be refused as another device's. Signed out
            // instead; what the book holds stays.
            if matches!(
                e,
                Error::Conflict {
                    code: "device_code_mismatch",
                    ..
                }
            ) {
                self.store.sign_out()?;
            }
            return Err(e);
        }
        self.store.session()?.ok_or_else(not_signed_in)
    }

    /// Pushes the outbox, then pulls the portfolio and its changes.
    pub fn sync(&self, progress: Progress<'_>) -> Result<SyncReport> {
        let tokens = self.store.tokens()?.ok_or_else(not_signed_in)?;
        if tokens.refresh.is_none() && tokens.access.is_none() {
            return Err(not_signed_in());
        }
        let base = tokens.server_url;
        let mut report = SyncReport::default();
        match self.sync_steps(&base, &mut report, progress) {
            Ok(()) => Ok(report),
            Err(e) if is_revoked(&e) => {
                // A revoked phone (lost, or its officer's account closed)
                // still sends what it holds: the server keeps it in
                // quarantine for a supervisor, never drops it, gifts'
                // signature images with their records. Only then does the
                // phone sign out.
                let total = self.store.to_send()?;
                let pushed = self.push(&base, &mut report, total, progress);
                if pushed.is_ok() {
                    let _ = self.push_signatures(&base, &mut report);
                }
                // Not all of it sent (no signal): the session stays for the
                // next sync to send the rest into quarantine.
                self.store.sign_out_revoked(self.store.to_send()? > 0)?;
                Err(self.revoked_with_what_was_sent(e, pushed.err())?)
            }
            Err(e) => Err(e),
        }
    }

    /// The server's refusal of a revoked phone, with what the phone sent
    /// it all the same (the officer must not record it again elsewhere)
    /// and what it could not send.
    fn revoked_with_what_was_sent(&self, e: Error, unsent_because: Option<Error>) -> Result<Error> {
        let Error::Remote {
            class,
            code,
            mut message_vi,
            mut message_en,
        } = e
        else {
            return Ok(e);
        };
        let (held, cash) = self.store.held_in_quarantine()?;
        if held > 0 {
            let (cash_vi, cash_en) = match cash {
                0 => (String::new(), String::new()),
                _ => {
                    let cash = crate::domain::money::format_vnd(cash);
                    (
                        format!(", tiền thu {cash}"),
                        format!(", cash collected {cash}"),
                    )
                }
            };
            message_vi.push_str(&format!(
                ". Máy chủ đã nhận {held} bản ghi của máy này{cash_vi} và giữ lại cho giám sát xem xét: đừng ghi lại chúng trên máy khác; báo giám sát chi nhánh"
            ));
            let records = if held == 1 { "record" } else { "records" };
            message_en.push_str(&format!(
                ". The server has {held} {records} of this phone{cash_en}, held for a supervisor to review: do not record them again on another phone; tell the branch supervisor"
            ));
        }
        let unsent = self.store.to_send()?;
        if unsent > 0 {
            // Why, when the sending itself failed (no signal, the server
            // down): the branch can tell what to do with the phone.
            let (why_vi, why_en) = match &unsent_because {
                Some(Error::Remote {
                    message_vi,
                    message_en,
                    ..
                }) => (format!(" ({message_vi})"), format!(" ({message_en})")),
                Some(other) => (format!(" ({other})"), format!(" ({other})")),
                None => (String::new(), String::new()),
            };
            message_vi.push_str(&format!(
                ". Còn {unsent} bản ghi máy chủ chưa báo đã nhận{why_vi}: đồng bộ lại khi có mạng để gửi chúng cho giám sát, hoặc mang máy tới chi nhánh"
            ));
            message_en.push_str(&format!(
                ". {unsent} records the server has not confirmed{why_en}: sync again when there is a connection to send them to the supervisor, or bring the phone to the branch"
            ));
        }
        Ok(Error::Remote {
            class,
            code,
            message_vi,
            message_en,
        })
    }

    fn sync_steps(
        &self,
        base: &str,
        report: &mut SyncReport,
        progress: Progress<'_>,
    ) -> Result<()> {
        let base = base.to_string();
        let mut total = self.store.to_send()?;
        progress(0, total, 0);
        // First one change (if any) with the cursors: a server restored
        // from a backup since the last sync is found out before anything is
        // sent, so that what it lost goes back before what was recorded
        // after (a void after its repayment), and an upload's answer never
        // replaces an acknowledgement not yet checked.
        if self.store.sync_cursor()?.is_some() {
            if self.pull(&base, report, total, progress, 1)? == Pulled::CursorReset {
                total = self.restart(report)?;
            }
        } else if let Some(acked) = self.store.acked_cursor()? {
            // A phone whose download cursor an upgrade dropped (to download
            // the portfolio again) asks with its last upload's answer, for
            // one change it does not keep: the portfolio comes after its
            // records went, as always.
            let url = format!(
                "{base}/api/v1/sync/changes?since={}&limit=1",
                encode(&acked)
            );
            let r = self.call(&base, &url, Req::Get)?;
            if r.status == 410 && problem(&r).code.as_deref() == Some(CURSOR_RESET) {
                total = self.restart(report)?;
            } else {
                self.ok_json::<ChangePage>("changes", r)?;
            }
        }
        self.push(&base, report, total, progress)?;
        self.push_signatures(&base, report)?;
        let pages = usize::MAX;
        if self.pull(&base, report, total, progress, pages)? == Pulled::CursorReset {
            // Restored during this sync.
            total = self.restart(report)?;
            self.push(&base, report, total, progress)?;
            self.push_signatures(&base, report)?;
            if self.pull(&base, report, total, progress, pages)? == Pulled::CursorReset {
                return Err(server_fault(
                    "the server refused the cursor of the portfolio it had just sent".into(),
                ));
            }
        }
        report.signatures_waiting = self.store.signatures_waiting()?;
        Ok(())
    }

    /// The server does not know this phone's cursors: its database was
    /// restored from a backup (or the phone was pointed at another
    /// server). Everything it had answered goes back in the queue and the
    /// whole portfolio is downloaded again. Returns what is to send now.
    fn restart(&self, report: &mut SyncReport) -> Result<u32> {
        report.sent_again += self.store.restart_sync()?;
        report.portfolio_reloaded = true;
        self.store.to_send()
    }

    fn push(
        &self,
        base: &str,
        report: &mut SyncReport,
        total: u32,
        progress: Progress<'_>,
    ) -> Result<()> {
        let url = format!("{base}/api/v1/sync/batches");
        let mut skip: HashSet<i64> = HashSet::new();
        let mut failures = 0;
        loop {
            let batch = match self.store.next_open_batch(&skip)? {
                Some(b) => b,
                None => match self.store.create_batch(self.opts.batch_size)? {
                    Some(b) => b,
                    None => return Ok(()),
                },
            };
            let r = self.call(base, &url, Req::Json(batch.body.as_bytes()))?;
            if r.status == 200 {
                let answer: UploadResponse = parse("upload response", &r.body)?;
                let t = self.store.finish_batch(
                    &batch,
                    &answer.results,
                    answer.acknowledged.as_deref(),
                )?;
                report.sent += batch.records;
                report.accepted += t.accepted;
                report.duplicates += t.duplicates;
                report.rejected += t.rejected;
                report.wedged += t.unanswered;
                report.results.extend(answer.results);
                failures = 0;
            } else if matches!(r.status, 400 | 409 | 413 | 422) {
                failures += 1;
                // A batch split in two is sent again as its halves, which
                // count then.
                if !self.refused(&batch, r.status, &problem(&r), report, &mut skip)? {
                    report.sent += batch.records;
                }
                if failures >= MAX_FAILURES_IN_A_ROW {
                    return Ok(());
                }
            } else {
                // Not about the records (a wrong address, a server that does
                // not know the route): nothing is counted against them.
                return Err(remote(RemoteClass::Network, r.status, &problem(&r)));
            }
            progress(
                (report.accepted + report.duplicates + report.rejected + report.wedged).min(total),
                total,
                report.received_changes,
            );
        }
    }

    /// Sends the signature image of each gift the server has the record
    /// of. An image the server refuses for good (it does not match its
    /// record) stays on the phone, marked with the reason. A network
    /// failure, a 404 (the server does not have the record, or is older
    /// than image uploads) or an unexpected answer ends the images for this
    /// sync, and the pull goes on: one image that cannot get through never
    /// keeps the phone from receiving its changes.
    fn push_signatures(&self, base: &str, report: &mut SyncReport) -> Result<()> {
        for s in self.store.signatures_to_send()? {
            let image = self.store.signature_image(&s.sha256)?;
            let Some(media_type) = signature_media_type(&image) else {
                self.store.signature_refused(
                    s.client_id,
                    "signature_not_image",
                    "Ảnh chữ ký không phải ảnh PNG, JPEG hay WebP",
                    "the signature is not a PNG, JPEG or WebP image",
                )?;
                report.signatures_refused += 1;
                continue;
            };
            let url = format!("{base}/api/v1/sync/records/{}/signature", s.client_id);
            let r = match self.call(base, &url, Req::Put(media_type, &image)) {
                Ok(r) => r,
                Err(Error::Remote {
                    class: RemoteClass::Network,
                    ..
                }) => return Ok(()),
                Err(e) => return Err(e),
            };
            match r.status {
                200 | 201 => {
                    self.store.signature_sent(s.client_id)?;
                    report.signatures_sent += 1;
                }
                400 | 409 | 413 | 415 | 422 => {
                    let p = problem(&r);
                    let code = p
                        .code
                        .clone()
                        .unwrap_or_else(|| format!("http_{}", r.status));
                    let vi = p
                        .detail
                        .clone()
                        .or_else(|| p.title.clone())
                        .unwrap_or_else(|| {
                            format!("Máy chủ từ chối ảnh chữ ký (lỗi {})", r.status)
                        });
                    let en = format!(
                        "server refused the signature: {} {code} {}",
                        r.status,
                        p.title.as_deref().unwrap_or("")
                    );
                    self.store.signature_refused(s.client_id, &code, &vi, &en)?;
                    report.signatures_refused += 1;
                }
                _ => return Ok(()),
            }
        }
        Ok(())
    }

    /// A batch the server refused (4xx other than sign-in trouble): true
    /// when it was split in two, to be sent again as its halves.
    fn refused(
        &self,
        b: &OpenBatch,
        status: u16,
        p: &Problem,
        report: &mut SyncReport,
        skip: &mut HashSet<i64>,
    ) -> Result<bool> {
        let code = p.code.clone().unwrap_or_else(|| format!("http_{status}"));
        let vi = p
            .detail
            .clone()
            .or_else(|| p.title.clone())
            .unwrap_or_else(|| format!("Máy chủ từ chối lô dữ liệu (lỗi {status})"));
        let en = format!(
            "server refused the batch: {status} {code} {}",
            p.title.as_deref().unwrap_or("")
        );
        if status == 409 && code == "batch_conflict" {
            // The same batch id with other content: it should never happen,
            // so it is not retried.
            report.wedged += self.store.wedge_batch(
                b,
                &code,
                &format!(
                    "Lô {} bị máy chủ coi là trùng mã với nội dung khác: {vi}",
                    b.batch_id
                ),
                &en,
            )?;
        } else if b.records > 1 {
            self.store.split_batch(b, &en)?;
            return Ok(true);
        } else {
            let attempts = self.store.fail_batch(b, &en)?;
            if attempts >= MAX_ATTEMPTS {
                report.wedged += self.store.wedge_batch(
                    b,
                    &code,
                    &format!("Máy chủ từ chối {attempts} lần: {vi}"),
                    &format!("refused {attempts} times: {en}"),
                )?;
            } else {
                skip.insert(b.seq);
            }
        }
        Ok(false)
    }

    /// Downloads the portfolio when there is no cursor, then change pages
    /// until caught up or `pages` pages (one change a page then: a probe).
    fn pull(
        &self,
        base: &str,
        report: &mut SyncReport,
        total: u32,
        progress: Progress<'_>,
        pages: usize,
    ) -> Result<Pulled> {
        let sent =
            (report.accepted + report.duplicates + report.rejected + report.wedged).min(total);
        if self.store.sync_cursor()?.is_none() {
            // With the last upload's answer, if any: a server restored from
            // a backup taken before it refuses it.
            let url = match self.store.acked_cursor()? {
                Some(acked) => format!("{base}/api/v1/sync/changes?acked={}", encode(&acked)),
                None => format!("{base}/api/v1/sync/changes"),
            };
            let r = self.call(base, &url, Req::Get)?;
            if r.status == 410 && problem(&r).code.as_deref() == Some(CURSOR_RESET) {
                return Ok(Pulled::CursorReset);
            }
            let snapshot: PortfolioSnapshot = self.ok_json("portfolio", r)?;
            report.received_changes += self.store.apply_snapshot(&snapshot)?.rows;
            progress(sent, total, report.received_changes);
        }
        let limit = if pages == 1 { 1 } else { self.opts.page_size };
        for _ in 0..pages {
            let cursor = self
                .store
                .sync_cursor()?
                .ok_or_else(|| Error::Corrupt("no cursor after the snapshot".into()))?;
            let mut url = format!(
                "{base}/api/v1/sync/changes?since={}&limit={limit}",
                encode(&cursor),
            );
            // The latest upload answer's cursor: a server restored from a
            // backup taken before that upload refuses it, even when the
            // download cursor is older than the backup.
            if let Some(acked) = self.store.acked_cursor()? {
                url.push_str(&format!("&acked={}", encode(&acked)));
            }
            let asked_at = chrono::Utc::now();
            let r = self.call(base, &url, Req::Get)?;
            if r.status == 410 && problem(&r).code.as_deref() == Some(CURSOR_RESET) {
                return Ok(Pulled::CursorReset);
            }
            let page: ChangePage = self.ok_json("changes", r)?;
            if let Some(at) = page.server_time {
                report.clock_ahead_seconds = Some(self.store.note_clock(at, asked_at)?);
            }
            let stuck = page.has_more && page.next == cursor;
            let rows = self.store.apply_changes(&page)?.rows;
            report.received_changes += rows;
            // A look before sending that brought nothing is not progress.
            if pages != 1 || rows > 0 {
                progress(sent, total, report.received_changes);
            }
            if stuck {
                return Err(server_fault(format!(
                    "the server's change cursor did not move past {cursor}"
                )));
            }
            if !page.has_more {
                return Ok(Pulled::CaughtUp);
            }
        }
        Ok(Pulled::CaughtUp)
    }

    fn ok_json<T: DeserializeOwned>(&self, context: &'static str, r: Response) -> Result<T> {
        if r.status != 200 {
            return Err(remote(RemoteClass::Network, r.status, &problem(&r)));
        }
        parse(context, &r.body)
    }

    /// An authorised request: retried while transient, refreshed once on
    /// an expired access token. Answers other than 401/403 are returned.
    fn call(&self, base: &str, url: &str, body: Req<'_>) -> Result<Response> {
        let mut refreshed = false;
        loop {
            let tokens = self.store.tokens()?.ok_or_else(not_signed_in)?;
            // An access token about to expire is renewed first, rather than
            // sent to be refused.
            let expiring = tokens
                .access_expires_at
                .is_some_and(|at| at <= chrono::Utc::now() + ACCESS_MARGIN);
            if expiring && tokens.refresh.is_some() && !refreshed {
                self.refresh(base, tokens.refresh.as_deref())?;
                refreshed = true;
                continue;
            }
            let r = match &tokens.access {
                Some(access) => self.send(url, Some(access), body)?,
                None => Response {
                    status: 401,
                    body: br#"{"code":"unauthenticated"}"#.to_vec(),
                },
            };
            match r.status {
                401 => {
                    let p = problem(&r);
                    if p.code.as_deref() == Some("unauthenticated") && !refreshed {
                        self.refresh(base, tokens.refresh.as_deref())?;
                        refreshed = true;
                        continue;
                    }
                    // A revoked device is signed out by `sync`, once what
                    // it holds has been sent to quarantine.
                    return Err(remote(RemoteClass::Auth, r.status, &p));
                }
                403 => return Err(remote(RemoteClass::Auth, r.status, &problem(&r))),
                _ => return Ok(r),
            }
        }
    }

    /// Trades the refresh token for new tokens, kept before they are used.
    fn refresh(&self, base: &str, refresh: Option<&str>) -> Result<()> {
        let refresh = refresh.ok_or_else(not_signed_in)?;
        let body = serde_json::to_vec(&RefreshRequest {
            refresh_token: refresh.to_string(),
            device_id: self.store.device_id(),
        })
        .map_err(|source| Error::Json {
            context: "refresh",
            source,
        })?;
        // Sent once: a refresh that reached the server has rotated the token.
        let r = self.send_once(
            &format!("{base}/api/v1/auth/refresh"),
            None,
            Req::Json(&body),
        )?;
        if r.status == 200 {
            let t: TokenResponse = parse("refresh", &r.body)?;
            return self.store.save_tokens(&t);
        }
        let p = problem(&r);
        if transient(r.status) {
            return Err(remote(RemoteClass::Network, r.status, &p));
        }
        if matches!(
            p.code.as_deref(),
            Some("refresh_token_reused" | "invalid_refresh_token" | "device_revoked")
        ) || r.status == 401
        {
            self.store.sign_out()?;
        }
        Err(remote(RemoteClass::Auth, r.status, &p))
    }

    /// Sends with retries on network failures and transient statuses.
    fn send(&self, url: &str, access: Option<&str>, body: Req<'_>) -> Result<Response> {
        let mut wait = self.opts.backoff;
        let mut tries = 0;
        loop {
            let last = tries >= self.opts.retries;
            match self.send_once(url, access, body) {
                Ok(r) if transient(r.status) && !last => {}
                Ok(r) if transient(r.status) => {
                    return Err(remote(RemoteClass::Network, r.status, &problem(&r)))
                }
                Ok(r) => return Ok(r),
                Err(e) if last || is_timeout(&e) => return Err(e),
                Err(_) => {}
            }
            tries += 1;
            if !wait.is_zero() {
                std::thread::sleep(wait);
            }
            wait *= 2;
        }
    }

    fn send_once(&self, url: &str, access: Option<&str>, body: Req<'_>) -> Result<Response> {
        let timed_out = |e: &TransportError| matches!(e, TransportError::TimedOut(_));
        let bearer = access.map(|a| format!("Bearer {a}"));
        let mut headers: Vec<(&str, &str)> =
            vec![("Accept", "application/json"), ("Accept-Language", "vi")];
        if let Some(b) = &bearer {
            headers.push(("Authorization", b));
        }
        let r = match body {
            Req::Get => self.transport.get(url, &headers),
            Req::Json(b) => self.transport.post_json(url, &headers, b),
            Req::Put(media_type, b) => self.transport.put(url, &headers, media_type, b),
        };
        // Said so an officer knows nothing is lost, the cause last.
        r.map_err(|e| Error::Remote {
            class: RemoteClass::Network,
            code: if timed_out(&e) { TIMED_OUT.into() } else { "network".into() },
            message_vi: match &e {
                TransportError::NotSent(m) => format!(
                    "Không kết nối được máy chủ. Các bản ghi vẫn an toàn trên máy; đồng bộ lại khi có mạng ({m})"
                ),
                TransportError::NoAnswer(m) => format!(
                    "Mất kết nối trước khi máy chủ trả lời. Các bản ghi vẫn an toàn trên máy; đồng bộ lại khi có mạng, không có gì bị ghi hai lần ({m})"
                ),
                TransportError::TimedOut(m) => format!(
                    "Máy chủ không trả lời kịp (mạng quá chậm hoặc máy chủ đang bận). Các bản ghi vẫn an toàn trên máy; đồng bộ lại sau ít phút, không có gì bị ghi hai lần ({m})"
                ),
            },
            message_en: match &e {
                TransportError::NotSent(m) => format!(
                    "cannot reach the server. The records are safe on the phone; sync again when there is a connection ({m})"
                ),
                TransportError::NoAnswer(m) => format!(
                    "the connection was lost before the server answered. The records are safe on the phone; sync again when there is a connection, nothing is stored twice ({m})"
                ),
                TransportError::TimedOut(m) => format!(
                    "the server did not answer in time (a very slow network or a busy server). The records are safe on the phone; sync again in a few minutes, nothing is stored twice ({m})"
                ),
            },
        })
    }
}
