//! An in-memory server for tests and demos: the sync and auth endpoints
//! with the server's contract (idempotent records by client id, replayed
//! batches answered from storage, one gift per worker per campaign, rotating
//! refresh tokens), and faults injected at chosen calls.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{Response, Transport, TransportError};
use crate::wire::{
    ChangePage, LoginRequest, PortfolioSnapshot, RecordBody, RefreshRequest, SessionDevice,
    SessionUser, TokenResponse, UploadBatch, UploadOutcome, UploadResponse, UploadResult,
};

/// Where a faulty call goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The request never reaches the server.
    NotSent,
    /// The server handles the request, the answer is lost.
    AnswerLost,
    /// The server answers with this status (500, 503…) without handling it.
    Status(u16),
    /// The server answers 409 `batch_conflict` (the batch id is taken).
    BatchConflict,
}

/// One call as the fake saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub method: &'static str,
    pub path: String,
    /// The upload batch id, for batch calls that parsed.
    pub batch_id: Option<Uuid>,
    pub fault: Option<Fault>,
}

#[derive(Default)]
struct State {
    username: String,
    password: String,
    device_code: String,
    user_id: u64,
    access: HashMap<String, Uuid>,
    refresh: HashMap<String, (Uuid, bool)>,
    revoked: HashSet<Uuid>,
    tokens_issued: u64,
    access_lifetime: i64,
    records: BTreeMap<Uuid, Value>,
    accepted: HashMap<Uuid, u32>,
    batches: HashMap<Uuid, (Value, Vec<u8>)>,
    gifts: HashSet<(Uuid, Uuid)>,
    closed_loans: HashSet<Uuid>,
    quarantined: BTreeSet<Uuid>,
    refuse: HashSet<Uuid>,
    omit: HashSet<Uuid>,
    /// Every record the fake answered for (accepted or rejected).
    answered: HashMap<Uuid, RecordBody>,
    signatures: HashMap<Uuid, Vec<u8>>,
    snapshot: Option<PortfolioSnapshot>,
    pages: Vec<ChangePage>,
    faults: BTreeMap<u64, Fault>,
    calls: Vec<Call>,
    sent_in: HashMap<Uuid, HashSet<Uuid>>,
    /// Restored from a backup: cursors given before are refused until the
    /// portfolio is downloaded again.
    restored: bool,
    /// Backups restored so far: an upload's `acknowledged` cursor names
    /// the one it was given under, and one given before a restore is
    /// refused with or without a download cursor.
    restores: u32,
    /// How far the server's clock is from the phone's, in seconds, when
    /// its change pages say what time it is (`None`: they do not).
    clock: Option<i64>,
}

/// The fake server. Its address is [`FakeServer::URL`].
pub struct FakeServer {
    state: Mutex<State>,
}

fn problem(status: u16, code: &str, detail: &str) -> Response {
    Response {
        status,
        body: json!({"type": "about:blank", "title": code, "status": status, "detail": detail, "code": code})
            .to_string()
            .into_bytes(),
    }
}

fn ok(v: &impl serde::Serialize) -> Response {
    Response {
        status: 200,
        body: serde_json::to_vec(v).expect("serialisable"),
    }
}

impl FakeServer {
    pub const URL: &'static str = "http://127.0.0.1:9";

    /// A server with one officer account (`username`/`password`) whose
    /// device gets `device_code`, serving `snapshot` then `pages` (their
    /// cursors are set by the fake: `c0`, `c1`, …).
    pub fn new(
        username: &str,
        password: &str,
        device_code: &str,
        snapshot: PortfolioSnapshot,
        pages: Vec<ChangePage>,
    ) -> Self {
        FakeServer {
            state: Mutex::new(State {
                username: username.into(),
                password: password.into(),
                device_code: device_code.into(),
                user_id: 42,
                access_lifetime: 900,
                snapshot: Some(snapshot),
                pages,
                ..Default::default()
            }),
        }
    }

    fn st(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Change pages say the server's time, `seconds` after the phone's.
    pub fn set_clock(&self, seconds: i64) {
        self.st().clock = Some(seconds);
    }

    /// Call number `n` (0-based, counting every call) goes wrong.
    pub fn fault_at(&self, n: u64, fault: Fault) {
        self.st().faults.insert(n, fault);
    }

    /// The next call goes wrong.
    pub fn fault_next(&self, fault: Fault) {
        let mut st = self.st();
        let n = st.calls.len() as u64;
        st.faults.insert(n, fault);
    }

    /// Faults not reached yet are dropped.
    pub fn clear_faults(&self) {
        self.st().faults.clear();
    }

    pub fn calls(&self) -> Vec<Call> {
        self.st().calls.clone()
    }

    /// Every access token stops working (as when it expires).
    /// Seconds the access tokens issued from now on are valid (900 at first).
    pub fn set_access_lifetime(&self, seconds: i64) {
        self.st().access_lifetime = seconds;
    }

    pub fn expire_access_tokens(&self) {
        self.st().access.clear();
    }

    /// The device is revoked, as by a supervisor: downloads answer
    /// `device_revoked`; an upload is kept in quarantine (each record
    /// answered rejected, `device_revoked`); a refresh still answers, with a
    /// token good only for that upload.
    pub fn revoke_device(&self, device_id: Uuid) {
        self.st().revoked.insert(device_id);
    }

    /// The device is given back its access, as when its officer's account
    /// is opened again.
    pub fn restore_device(&self, device_id: Uuid) {
        self.st().revoked.remove(&device_id);
    }

    /// Records kept in quarantine, from revoked devices.
    pub fn quarantined(&self) -> Vec<Uuid> {
        self.st().quarantined.iter().copied().collect()
    }

    /// Lets a session made elsewhere (another fake) in.
    pub fn trust(&self, access: &str, refresh: &str, device_id: Uuid) {
        let mut st = self.st();
        st.access.insert(access.into(), device_id);
        st.refresh.insert(refresh.into(), (device_id, false));
    }

    /// Serves one more change page after those given (a decision made on
    /// the server since).
    pub fn push_page(&self, page: ChangePage) {
        self.st().pages.push(page);
    }

    /// The portfolio first served.
    pub fn snapshot(&self) -> Option<PortfolioSnapshot> {
        self.st().snapshot.clone()
    }

    /// Another officer already handed out this gift.
    pub fn gift_given(&self, campaign_id: Uuid, worker_id: Uuid) {
        self.st().gifts.insert((campaign_id, worker_id));
    }

    /// The loan was paid off at the branch: repayments on it are refused.
    pub fn loan_paid_off(&self, loan_id: Uuid) {
        self.st().closed_loans.insert(loan_id);
    }

    /// Batches holding this record are refused with 422.
    pub fn refuse_record(&self, client_id: Uuid) {
        self.st().refuse.insert(client_id);
    }

    /// Answers leave this record's result out (a server bug).
    pub fn omit_result(&self, client_id: Uuid) {
        self.st().omit.insert(client_id);
    }

    pub fn stop_refusing(&self) {
        self.st().refuse.clear();
    }

    /// The batch ids each record was sent in (whether or not the call
    /// went through).
    pub fn sent_in(&self) -> HashMap<Uuid, HashSet<Uuid>> {
        self.st().sent_in.clone()
    }

    /// The server is restored from a backup taken before `lost` reached
    /// it: those records are gone, and every download cursor it gave is
    /// refused (410 `sync_cursor_reset`) until the portfolio is
    /// downloaded again.
    pub fn restore_from_backup(&self, lost: &[Uuid]) {
        let mut st = self.st();
        for id in lost {
            st.records.remove(id);
            if let Some(RecordBody::GiftHandout(g)) = st.answered.remove(id) {
                st.gifts.remove(&(g.campaign_id, g.worker_id));
            }
        }
        st.batches.clear();
        st.restored = true;
        st.restores += 1;
    }

    /// Client ids of the stored records.
    pub fn stored(&self) -> Vec<Uuid> {
        self.st().records.keys().copied().collect()
    }

    /// How many times each record was accepted (stored anew): exactly-once
    /// means 1 for each.
    pub fn accept_counts(&self) -> HashMap<Uuid, u32> {
        self.st().accepted.clone()
    }

    /// The signature images received, by the gift record they belong to.
    pub fn signatures(&self) -> HashMap<Uuid, Vec<u8>> {
        self.st().signatures.clone()
    }

    /// How many token pairs were issued (logins and refreshes).
    pub fn tokens_issued(&self) -> u64 {
        self.st().tokens_issued
    }

    fn issue(st: &mut State, device_id: Uuid, full: bool) -> TokenResponse {
        st.tokens_issued += 1;
        let n = st.tokens_issued;
        let access = format!("access-{n}");
        let refresh = format!("refresh-{n}");
        st.access.insert(access.clone(), device_id);
        st.refresh.insert(refresh.clone(), (device_id, false));
        TokenResponse {
            access_token: access,
            token_type: Some("Bearer".into()),
            expires_in: st.access_lifetime,
            refresh_token: refresh,
            refresh_expires_in: 30 * 86_400,
            user: full.then(|| SessionUser {
                id: st.user_id.to_string(),
                username: st.username.clone(),
                full_name: "Trần Văn Bình".into(),
                role: "officer".into(),
                branch_id: Some("7".into()),
            }),
            device: full.then(|| SessionDevice {
                id: device_id.to_string(),
                name: "Điện thoại".into(),
                code: st.device_code.clone(),
                last_receipt: st
                    .records
                    .values()
                    .filter_map(|r| r["payload"]["receipt_no"].as_str())
                    .filter_map(|n| crate::domain::rules::receipt_sequence(&st.device_code, n))
                    .max(),
            }),
        }
    }

    fn handle(
        st: &mut State,
        method: &str,
        url: &str,
        auth: Option<&str>,
        body: &[u8],
    ) -> Response {
        let path_q = url.strip_prefix(Self::URL).unwrap_or(url);
        let (path, query) = path_q.split_once('?').unwrap_or((path_q, ""));
        match (method, path) {
            ("POST", "/api/v1/auth/login") => {
                let Ok(req) = serde_json::from_slice::<LoginRequest>(body) else {
                    return problem(422, "invalid_body", "Dữ liệu đăng nhập không hợp lệ");
                };
                if req.username != st.username || req.password != st.password {
                    return problem(
                        401,
                        "invalid_credentials",
                        "Sai tên đăng nhập hoặc mật khẩu",
                    );
                }
                // As the server: a revoked device does not sign in.
                if st.revoked.contains(&req.device_id) {
                    return problem(
                        401,
                        "device_revoked",
                        "Thiết bị này đã bị thu hồi quyền truy cập; liên hệ giám sát chi nhánh",
                    );
                }
                ok(&Self::issue(st, req.device_id, true))
            }
            ("POST", "/api/v1/auth/refresh") => {
                let Ok(req) = serde_json::from_slice::<RefreshRequest>(body) else {
                    return problem(422, "invalid_body", "Dữ liệu không hợp lệ");
                };
                match st.refresh.get(&req.refresh_token).copied() {
                    None => problem(
                        401,
                        "invalid_refresh_token",
                        "Phiên đăng nhập không hợp lệ, hãy đăng nhập lại",
                    ),
                    Some((_, true)) => problem(
                        401,
                        "refresh_token_reused",
                        "Mã làm mới đã được dùng; phiên bị thu hồi, hãy đăng nhập lại",
                    ),
                    Some((d, _)) if d != req.device_id => problem(
                        401,
                        "invalid_refresh_token",
                        "Phiên đăng nhập không thuộc thiết bị này",
                    ),
                    Some((d, false)) => {
                        st.refresh.insert(req.refresh_token, (d, true));
                        ok(&Self::issue(st, d, false))
                    }
                }
            }
            (_, p) if p.starts_with("/api/v1/sync/") => {
                let device = match auth
                    .and_then(|a| a.strip_prefix("Bearer "))
                    .and_then(|t| st.access.get(t))
                {
                    Some(d) => *d,
                    None => return problem(401, "unauthenticated", "Phiên đăng nhập đã hết hạn"),
                };
                let revoked = st.revoked.contains(&device);
                match (method, p) {
                    ("POST", "/api/v1/sync/batches") if revoked => {
                        Self::quarantine(st, device, body)
                    }
                    ("PUT", p) if revoked && p.ends_with("/signature") => {
                        Self::signature(st, p, body)
                    }
                    _ if revoked => problem(
                        401,
                        "device_revoked",
                        "Thiết bị đã bị thu hồi quyền truy cập",
                    ),
                    ("POST", "/api/v1/sync/batches") => Self::batch(st, device, body),
                    ("GET", "/api/v1/sync/changes") => Self::changes(st, query),
                    ("PUT", p) if p.ends_with("/signature") => Self::signature(st, p, body),
                    _ => problem(404, "not_found", "Không có đường dẫn này"),
                }
            }
            _ => problem(404, "not_found", "Không có đường dẫn này"),
        }
    }

    /// An upload from a revoked device: kept, never stored as accepted.
    fn quarantine(st: &mut State, device: Uuid, body: &[u8]) -> Response {
        let Ok(batch) = serde_json::from_slice::<UploadBatch>(body) else {
            return problem(422, "invalid_batch", "Lô dữ liệu không đúng định dạng");
        };
        if batch.device_id != device {
            return problem(422, "invalid_batch", "Lô dữ liệu không hợp lệ");
        }
        let results = batch
            .records
            .iter()
            .map(|r| {
                st.quarantined.insert(r.client_id);
                // Kept, so its signature image is taken too.
                st.answered.insert(r.client_id, r.body.clone());
                UploadResult {
                    client_id: r.client_id,
                    outcome: UploadOutcome::Rejected,
                    code: Some("device_revoked".into()),
                    message_vi: Some(
                        "Thiết bị đã bị thu hồi: bản ghi được giữ riêng để giám sát xem xét".into(),
                    ),
                    message_en: Some("device revoked: the record is held for a supervisor".into()),
                }
            })
            .collect();
        ok(&UploadResponse {
            results,
            acknowledged: None,
        })
    }

    fn batch(st: &mut State, device: Uuid, body: &[u8]) -> Response {
        let Ok(batch) = serde_json::from_slice::<UploadBatch>(body) else {
            return problem(422, "invalid_batch", "Lô dữ liệu không đúng định dạng");
        };
        if batch.device_id != device || batch.records.len() > 1000 {
            return problem(422, "invalid_batch", "Lô dữ liệu không hợp lệ");
        }
        let content = serde_json::to_value(&batch.records).expect("serialisable");
        if let Some((stored, answer)) = st.batches.get(&batch.batch_id) {
            return if *stored == content {
                Response {
                    status: 200,
                    body: answer.clone(),
                }
            } else {
                problem(409, "batch_conflict", "Mã lô đã dùng cho nội dung khác")
            };
        }
        if let Some(r) = batch
            .records
            .iter()
            .find(|r| st.refuse.contains(&r.client_id))
        {
            return problem(
                422,
                "invalid_record",
                &format!("Bản ghi {} không hợp lệ", r.client_id),
            );
        }
        let mut results = Vec::new();
        for r in &batch.records {
            let v = serde_json::to_value(r).expect("serialisable");
            st.answered
                .entry(r.client_id)
                .or_insert_with(|| r.body.clone());
            let result = |outcome, code: Option<&str>, vi: Option<&str>| UploadResult {
                client_id: r.client_id,
                outcome,
                code: code.map(str::to_string),
                message_vi: vi.map(str::to_string),
                message_en: code.map(|c| c.replace('_', " ")),
            };
            if let Some(old) = st.records.get(&r.client_id) {
                results.push(if *old == v {
                    result(UploadOutcome::Duplicate, None, None)
                } else {
                    result(
                        UploadOutcome::Rejected,
                        Some("conflict"),
                        Some("Mã bản ghi đã dùng cho nội dung khác"),
                    )
                });
                continue;
            }
            if let RecordBody::GiftHandout(g) = &r.body {
                if !st.gifts.insert((g.campaign_id, g.worker_id)) {
                    results.push(result(
                        UploadOutcome::Rejected,
                        Some("already_received"),
                        Some("Người lao động đã nhận quà của chương trình này"),
                    ));
                    continue;
                }
            }
            if let RecordBody::Repayment(p) = &r.body {
                if st.closed_loans.contains(&p.loan_id) {
                    results.push(result(
                        UploadOutcome::Rejected,
                        Some("loan_closed"),
                        Some("Khoản vay đã tất toán"),
                    ));
                    continue;
                }
            }
            st.records.insert(r.client_id, v);
            *st.accepted.entry(r.client_id).or_default() += 1;
            results.push(result(UploadOutcome::Accepted, None, None));
        }
        results.retain(|r| !st.omit.contains(&r.client_id));
        let answer = serde_json::to_vec(&UploadResponse {
            results,
            acknowledged: Some(match st.restores {
                0 => format!("c{}", st.pages.len()),
                n => format!("c{}.{n}", st.pages.len()),
            }),
        })
        .expect("serialisable");
        st.batches.insert(batch.batch_id, (content, answer.clone()));
        Response {
            status: 200,
            body: answer,
        }
    }

    /// `PUT /api/v1/sync/records/{id}/signature`: the image whose SHA-256
    /// the gift record names.
    fn signature(st: &mut State, path: &str, image: &[u8]) -> Response {
        let id = path
            .strip_prefix("/api/v1/sync/records/")
            .and_then(|p| p.strip_suffix("/signature"))
            .and_then(|id| Uuid::parse_str(id).ok());
        let Some(body) = id.and_then(|id| st.answered.get(&id)) else {
            return problem(404, "record_not_found", "Máy chủ chưa có bản ghi này");
        };
        let RecordBody::GiftHandout(g) = body else {
            return problem(422, "no_signature_expected", "Bản ghi này không có chữ ký");
        };
        let Some(expected) = g.signature_sha256.clone() else {
            return problem(422, "no_signature_expected", "Bản ghi này không có chữ ký");
        };
        if hex::encode(Sha256::digest(image)) != expected {
            return problem(
                422,
                "signature_mismatch",
                "Ảnh chữ ký không khớp với bản ghi",
            );
        }
        let fresh = st
            .signatures
            .insert(id.expect("looked up"), image.to_vec())
            .is_none();
        Response {
            status: if fresh { 201 } else { 200 },
            body: json!({"sha256": expected, "bytes": image.len(), "duplicate": !fresh})
                .to_string()
                .into_bytes(),
        }
    }

    fn changes(st: &mut State, query: &str) -> Response {
        let since = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("since="))
            .map(str::to_string);
        let acked_before_restore = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("acked="))
            .is_some_and(|a| {
                let given_under = a.split_once('.').map_or(Some(0), |(_, n)| n.parse().ok());
                given_under != Some(st.restores)
            });
        match since {
            Some(_) if st.restored => problem(
                410,
                "sync_cursor_reset",
                "Máy chủ không nhận ra mốc đồng bộ",
            ),
            None if acked_before_restore => problem(
                410,
                "sync_cursor_reset",
                "Máy chủ không nhận ra mốc đồng bộ",
            ),
            None => {
                st.restored = false;
                let mut s = st.snapshot.clone().expect("a snapshot");
                s.next = "c0".into();
                ok(&s)
            }
            Some(c) => {
                let Some(k) = c.strip_prefix('c').and_then(|k| k.parse::<usize>().ok()) else {
                    return problem(400, "invalid_cursor", "Con trỏ đồng bộ không hợp lệ");
                };
                let mut page = st.pages.get(k).cloned().unwrap_or_default();
                page.server_time = st
                    .clock
                    .map(|s| chrono::Utc::now() + chrono::Duration::seconds(s));
                let next = (k + 1).min(st.pages.len());
                page.next = format!("c{next}");
                page.has_more = next < st.pages.len() && k < st.pages.len();
                ok(&page)
            }
        }
    }

    fn call(
        &self,
        method: &'static str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Response, TransportError> {
        let mut st = self.st();
        let n = st.calls.len() as u64;
        let fault = st.faults.remove(&n);
        let path = url.strip_prefix(Self::URL).unwrap_or(url).to_string();
        let batch = serde_json::from_slice::<UploadBatch>(body).ok();
        let batch_id = batch.as_ref().map(|b| b.batch_id);
        if let Some(b) = &batch {
            for r in &b.records {
                st.sent_in
                    .entry(r.client_id)
                    .or_default()
                    .insert(b.batch_id);
            }
        }
        st.calls.push(Call {
            method,
            path,
            batch_id,
            fault,
        });
        let auth = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            .map(|(_, v)| v.to_string());
        match fault {
            Some(Fault::NotSent) => Err(TransportError::NotSent("fake: no network".into())),
            Some(Fault::Status(s)) => {
                Ok(problem(s, "unavailable", "Máy chủ tạm thời không phục vụ"))
            }
            Some(Fault::BatchConflict) => Ok(problem(
                409,
                "batch_conflict",
                "Mã lô đã dùng cho nội dung khác",
            )),
            Some(Fault::AnswerLost) => {
                Self::handle(&mut st, method, url, auth.as_deref(), body);
                Err(TransportError::NoAnswer("fake: connection reset".into()))
            }
            None => Ok(Self::handle(&mut st, method, url, auth.as_deref(), body)),
        }
    }
}

impl Transport for FakeServer {
    fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<Response, TransportError> {
        self.call("GET", url, headers, &[])
    }

    fn post_json(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Response, TransportError> {
        self.call("POST", url, headers, body)
    }

    fn put(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        _content_type: &str,
        body: &[u8],
    ) -> Result<Response, TransportError> {
        self.call("PUT", url, headers, body)
    }
}
