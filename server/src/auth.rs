//! Authentication: Argon2id passwords, short-lived JWT access tokens, rotating
//! refresh tokens bound to a device, login throttling, device revocation.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::db::{
    with_read, with_tx, AuditEntry, Db, DbError, DeviceRow, Scope, ThrottleRow, Throttled,
    UserAuth, UserView,
};
use crate::error::AppError;
use crate::import::rows::Role;

pub const ISSUER: &str = "sotay";
pub const AUDIENCE: &str = "sotay-api";
/// Access tokens live 15 minutes.
pub const ACCESS_TTL_SECS: i64 = 15 * 60;
/// Refresh tokens live 30 days (an officer may stay offline for days).
pub const REFRESH_TTL_DAYS: i64 = 30;
/// How late a revoked phone may ask again for a refresh answer it lost.
const QUARANTINE_GRACE_DAYS: i64 = 3;
/// Failed logins allowed per username within [`THROTTLE_WINDOW_MINS`].
pub const MAX_FAILURES: i64 = 5;
pub const THROTTLE_WINDOW_MINS: i64 = 15;
pub const LOCK_MINS: i64 = 15;
/// Failed logins allowed from one client address (an IPv6 /64) within
/// [`THROTTLE_WINDOW_MINS`], whatever the usernames: more than a
/// username's, since a branch office or a mobile carrier puts many people
/// behind one address.
pub const MAX_ADDRESS_FAILURES: i64 = 30;
/// A used refresh token presented again within this many seconds, while
/// its successor is still unused, is a retry after a lost answer, not theft.
pub const REFRESH_GRACE_SECS: i64 = 120;

pub mod password {
    use argon2::password_hash::rand_core::OsRng;
    use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
    use argon2::Argon2;

    /// Argon2id with the crate's recommended parameters, PHC string format.
    pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
        let salt = SaltString::generate(&mut OsRng);
        Ok(Argon2::default()
            .hash_password(password.as_bytes(), &salt)?
            .to_string())
    }

    pub fn verify(password: &str, phc: &str) -> bool {
        PasswordHash::new(phc)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    }

    /// A hash to verify against when the user does not exist, so that a
    /// wrong username costs as much time as a wrong password.
    pub fn dummy() -> &'static str {
        static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        DUMMY.get_or_init(|| hash("not a real password").expect("hashing a constant"))
    }
}

/// What an access token says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    pub role: String,
    pub branch: Option<i64>,
    /// Device id.
    pub did: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// The user's token version when issued: a token of an older version
    /// (a password set since) is refused.
    #[serde(default)]
    pub tv: i64,
    /// Issued to a revoked device: good only for uploading into quarantine.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub upload_only: bool,
}

/// Signing keys; HS256 only.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    pub fn issue(
        &self,
        user: &UserAuth,
        device_id: &str,
        now: DateTime<Utc>,
        upload_only: bool,
    ) -> Result<String, AppError> {
        let claims = Claims {
            sub: user.id.to_string(),
            role: user.role.clone(),
            branch: user.branch_id,
            did: device_id.to_string(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now.timestamp(),
            exp: now.timestamp() + ACCESS_TTL_SECS,
            tv: user.token_version,
            upload_only,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(AppError::internal)
    }

    pub fn verify(&self, token: &str) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|d| d.claims)
    }
}

/// The signing secret: `SOTAY_JWT_SECRET` when set, otherwise one generated
/// on first start and kept in the database, so every instance on the same
/// database agrees.
/// The token signing secret: `from_env` (`SOTAY_JWT_SECRET`), else the one
/// kept in the database (generated on the first start). With it, what to
/// warn the operator of when this instance signs with another secret than
/// the last one started on the database with `SOTAY_JWT_SECRET` did.
pub async fn load_secret(
    db: &Db,
    from_env: Option<&str>,
) -> Result<(Vec<u8>, Option<&'static str>), DbError> {
    // Which secret the last instance given one signed with, as a
    // fingerprint (never the secret): instances of one database that sign
    // with different secrets refuse each other's tokens, so a start that
    // would do so says it.
    // `db` when the last start signed with the secret kept in the database.
    const FINGERPRINT: &str = "jwt_secret_env_fingerprint";
    const FROM_DB: &str = "db";
    let known = db.setting(FINGERPRINT).await?;
    if let Some(s) = from_env.filter(|s| !s.is_empty()) {
        // A secret generated before is signed with no more: not kept in
        // the database (nor in its backups) for anyone to sign with.
        if db.delete_setting("jwt_secret").await? {
            tracing::info!("SOTAY_JWT_SECRET is set: the secret generated earlier was removed from the database");
        }
        let mine = sha256_hex(&format!("sotay-jwt-fingerprint:{s}"))[..16].to_string();
        if known.as_deref() == Some(FROM_DB) {
            db.set_setting(FINGERPRINT, &mine).await?;
            return Ok((
                s.as_bytes().to_vec(),
                Some(
                    "SOTAY_JWT_SECRET được đặt, nhưng máy chủ trước đó trên cơ sở dữ liệu này ký bằng khoá lưu trong cơ sở dữ liệu: nếu nó còn chạy, hai bên từ chối mã truy cập của nhau — đặt cùng một SOTAY_JWT_SECRET cho mọi máy chủ / \
                     SOTAY_JWT_SECRET is set, but the last instance on this database signed with the secret kept in the database: if it still runs, each refuses the other's tokens — give every instance the same SOTAY_JWT_SECRET",
                ),
            ));
        }
        let warning = known.as_deref().is_some_and(|k| k != mine).then_some(
            "SOTAY_JWT_SECRET khác với lần khởi động trước trên cơ sở dữ liệu này: nếu một máy chủ khác còn chạy với khoá cũ, hai bên từ chối mã truy cập của nhau — đặt cùng một SOTAY_JWT_SECRET cho mọi máy chủ / \
             SOTAY_JWT_SECRET differs from the last start on this database: if another instance still runs with the old one, each refuses the other's tokens — give every instance the same SOTAY_JWT_SECRET",
        );
        db.set_setting(FINGERPRINT, &mine).await?;
        return Ok((s.as_bytes().to_vec(), warning));
    }
    let warning = known.as_deref().is_some_and(|k| k != FROM_DB).then_some(
        "SOTAY_JWT_SECRET chưa đặt, nhưng máy chủ trước đó trên cơ sở dữ liệu này đã dùng nó: máy chủ này ký bằng khoá lưu trong cơ sở dữ liệu, nên hai bên từ chối mã truy cập của nhau — đặt cùng một SOTAY_JWT_SECRET cho mọi máy chủ / \
         SOTAY_JWT_SECRET is not set, but an earlier instance on this database used one: this one signs with the secret kept in the database, so each refuses the other's tokens — give every instance the same SOTAY_JWT_SECRET",
    );
    if known.as_deref() != Some(FROM_DB) {
        db.set_setting(FINGERPRINT, FROM_DB).await?;
    }
    let fresh = random_token(48);
    db.set_setting_once("jwt_secret", &fresh).await?;
    let stored = db.setting("jwt_secret").await?.ok_or(DbError::NotFound)?;
    Ok((stored.into_bytes(), warning))
}

pub(crate) fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill(&mut buf[..]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

pub(crate) fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// A new device's code, printed in its receipt numbers (`A7K2-000123`):
/// four capital letters and digits, without the look-alikes 0/O and 1/I.
/// Uniqueness is kept by the database; a taken code is drawn again.
fn device_code() -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut rng = rand::rng();
    let code: String = (0..4)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    debug_assert!(sotay_core::domain::rules::is_device_code(&code));
    code
}

/// The signed-in caller of a request.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub branch_id: Option<i64>,
    pub device_id: String,
}

impl AuthUser {
    /// What this user may see.
    pub fn scope(&self) -> Scope {
        match (self.role, self.branch_id) {
            (Role::Officer, _) => Scope::Officer(self.id),
            (Role::Supervisor | Role::Cashier, Some(b)) => Scope::Branch(b),
            (Role::Admin, _) => Scope::Fund,
            // A supervisor or cashier without a branch sees nothing of any branch.
            (Role::Supervisor | Role::Cashier, None) => Scope::Branch(-1),
        }
    }

    /// Refuses roles not in `allowed`.
    pub fn require(&self, allowed: &[Role]) -> Result<(), AppError> {
        if allowed.contains(&self.role) {
            Ok(())
        } else {
            Err(AppError::forbidden_role())
        }
    }

    pub fn audit(
        &self,
        action: &'static str,
        object_type: &'static str,
        object_id: String,
        ip: Option<String>,
    ) -> AuditEntry {
        AuditEntry {
            actor_user_id: Some(self.id),
            actor_username: self.username.clone(),
            action,
            object_type,
            object_id,
            device_id: Some(self.device_id.clone()),
            ip,
            detail: serde_json::Value::Null,
        }
    }
}

fn unauthenticated() -> AppError {
    AppError::unauthorized(
        "unauthenticated",
        "Cần đăng nhập (thiếu hoặc sai mã truy cập, hoặc đã hết hạn)",
        "sign in first: the access token is missing, invalid or expired",
    )
}

/// Checks the bearer token, the device and the user. A revoked device is
/// refused unless `allow_revoked` (an upload from it is quarantined, never
/// dropped).
async fn authenticate(
    parts: &Parts,
    state: &AppState,
    allow_revoked: bool,
) -> Result<(AuthUser, DeviceRow), AppError> {
    let token = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(unauthenticated)?;
    let claims = state.jwt.verify(token.trim()).ok_or_else(unauthenticated)?;
    let user_id: i64 = claims.sub.parse().map_err(|_| unauthenticated())?;
    // Revocation and deactivation take effect at once, not at expiry.
    let (device, user) = state.db.device_and_user(&claims.did, user_id).await?;
    let Some(device) = device else {
        return Err(unknown_device());
    };
    if device.user_id != user_id {
        return Err(device_revoked());
    }
    if device.revoked_at.is_some() && !allow_revoked {
        return Err(revoked(&device));
    }
    if claims.upload_only && device.revoked_at.is_none() {
        // Issued while the device was revoked; it has come back since (with
        // its account): a full session needs a sign-in.
        return Err(unauthenticated());
    }
    // A deactivated account's devices are revoked with it: what one of them
    // still uploads is quarantined like any revoked device's.
    let user = user
        .filter(|u| u.active || (allow_revoked && device.revoked_at.is_some()))
        .ok_or_else(unauthenticated)?;
    if claims.tv != user.token_version {
        return Err(AppError::unauthorized(
            "unauthenticated",
            "Phiên đăng nhập đã kết thúc (mật khẩu vừa được đặt lại, hoặc tài khoản vừa bị khóa); hãy đăng nhập lại",
            "this session has ended (the password was just set, or the account closed); sign in again",
        ));
    }
    let role = Role::parse(&user.role).ok_or_else(unauthenticated)?;
    // Let in: the devices page's "last connection" moves (noted in memory,
    // written with the others now and then).
    let now = Utc::now();
    if now - device.last_seen_at > SEEN_EVERY {
        state.seen.note(&device.id, now);
    }
    Ok((
        AuthUser {
            id: user.id,
            username: user.username,
            role,
            branch_id: user.branch_id,
            device_id: claims.did,
        },
        device,
    ))
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(authenticate(parts, state, false).await?.0)
    }
}

/// The caller of an upload: like [`AuthUser`], but a revoked device still
/// gets in, so that what it carries is kept in quarantine.
#[derive(Debug, Clone)]
pub struct UploadingUser {
    pub user: AuthUser,
    pub device_code: String,
    pub revoked: bool,
}

impl FromRequestParts<AppState> for UploadingUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (user, device) = authenticate(parts, state, true).await?;
        Ok(UploadingUser {
            user,
            device_code: device.code,
            revoked: device.revoked_at.is_some(),
        })
    }
}

/// A device's last connection is noted when the one written is older.
const SEEN_EVERY: Duration = Duration::minutes(5);

/// How the reason starts of a device revoked with its account.
pub(crate) const DEACTIVATED: &str = "Tài khoản bị khóa: ";

/// A device never registered here: the database was restored from a
/// backup taken before it first signed in. A new sign-in registers it again
/// (keeping the code its receipts carry).
fn unknown_device() -> AppError {
    AppError::unauthorized(
        "device_unknown",
        "Máy chủ không nhận ra thiết bị này (dữ liệu máy chủ có thể vừa được khôi phục từ bản sao lưu); hãy đăng nhập lại — dữ liệu trên máy vẫn còn",
        "the server does not know this device (its data may have just been restored from a backup); sign in again — what the device holds is safe",
    )
}

fn device_revoked() -> AppError {
    AppError::unauthorized(
        "device_revoked",
        "Thiết bị này đã bị thu hồi quyền truy cập; liên hệ giám sát chi nhánh",
        "this device's access was revoked; contact your branch supervisor",
    )
}

/// [`device_revoked`], saying so when the device went with its account
/// (the officer left): then it is the administrator to see, not the branch.
fn revoked(device: &DeviceRow) -> AppError {
    if device.revoked_with_account {
        AppError::unauthorized(
            "device_revoked",
            "Tài khoản của bạn đã bị khóa nên thiết bị này không dùng được nữa; những gì máy còn giữ được gửi cho giám sát khi đồng bộ; liên hệ quản trị viên của quỹ",
            "your account is closed, so this device can no longer be used; what it still holds goes to your supervisor when it syncs; contact the fund's administrator",
        )
    } else {
        device_revoked()
    }
}

fn invalid_credentials() -> AppError {
    AppError::unauthorized(
        "invalid_credentials",
        "Sai tên đăng nhập hoặc mật khẩu",
        "wrong username or password",
    )
}

/// A login request.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// A stable id the app generates once per installation (8–64 characters:
    /// letters, digits, `-`, `_`). A phone's is the UUID its records carry;
    /// a device whose id is not a UUID cannot upload.
    pub device_id: String,
    /// A name a supervisor recognises, e.g. "Samsung A15 của Lan".
    pub device_name: String,
    /// The code the device already printed receipts with (4 capital
    /// letters and digits): a device the server does not know (a server
    /// restored from a backup older than the device) is registered under
    /// it when no other device has it, so its receipt numbers stay its own.
    #[serde(default)]
    pub device_code: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
    pub device_id: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    /// Seconds.
    pub expires_in: i64,
    pub refresh_token: String,
    /// Seconds.
    pub refresh_expires_in: i64,
    pub user: SessionUser,
    pub device: SessionDevice,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionUser {
    pub id: i64,
    pub username: String,
    pub full_name: String,
    pub role: String,
    pub branch_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionDevice {
    pub id: String,
    pub name: String,
    /// Printed in this device's receipt numbers.
    pub code: String,
    /// The device is revoked: its access token only uploads, and what it
    /// sends is kept in quarantine for a supervisor.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub revoked: bool,
    /// The highest sequence of the receipt numbers this device sent up
    /// (`A7K2-000123` → 123): a field book restored from an older copy, or
    /// started again on this device, numbers its receipts on from there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_receipt: Option<i64>,
}

fn check_device_fields(device_id: &str, device_name: Option<&str>) -> Result<(), AppError> {
    let ok = (8..=64).contains(&device_id.len())
        && device_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        return Err(AppError::invalid_field(
            "device_id",
            "device_id phải dài 8–64 ký tự, chỉ gồm chữ, số, '-' và '_'",
            "device_id must be 8–64 characters of letters, digits, '-' and '_'",
        ));
    }
    if let Some(name) = device_name {
        if name.trim().is_empty() || name.chars().count() > 100 {
            return Err(AppError::invalid_field(
                "device_name",
                "device_name không được để trống và tối đa 100 ký tự",
                "device_name must be 1–100 characters",
            ));
        }
    }
    Ok(())
}

/// A username as stored: trimmed and lower-case; an empty one is refused.
pub fn normalize_username(raw: &str) -> Result<String, AppError> {
    let username = raw.trim().to_lowercase();
    if username.is_empty() {
        return Err(AppError::invalid_field(
            "username",
            "Cần nhập tên đăng nhập",
            "username is required",
        ));
    }
    Ok(username)
}

/// What keeps sign-in attempts in step: each username's attempts take
/// turns, and password checks (Argon2id, about 19 MiB each) run at most one
/// a core at once, however many sign-ins arrive together. Within this
/// process: instances sharing a PostgreSQL database each keep their own.
mod attempts {
    use std::hash::BuildHasher;
    use std::sync::{Arc, OnceLock};
    use tokio::sync::{Mutex, MutexGuard, OwnedSemaphorePermit, Semaphore};

    /// Usernames share these locks by hash, keyed at random when the
    /// process starts (no one can pick names that share a victim's): a
    /// few unrelated sign-ins wait for each other now and then, none for
    /// long.
    const STRIPES: usize = 64;

    /// The turn of `username`'s attempts (case folded, as sign-in is).
    pub async fn turn(username: &str) -> MutexGuard<'static, ()> {
        type Locks = (std::collections::hash_map::RandomState, Vec<Mutex<()>>);
        static LOCKS: OnceLock<Locks> = OnceLock::new();
        let (keys, locks) = LOCKS.get_or_init(|| {
            (
                Default::default(),
                (0..STRIPES).map(|_| Mutex::new(())).collect(),
            )
        });
        let h = keys.hash_one(username.to_lowercase());
        locks[(h % STRIPES as u64) as usize].lock().await
    }

    /// A core to check one password on, held until the check ends.
    pub async fn core() -> OwnedSemaphorePermit {
        static CORES: OnceLock<Arc<Semaphore>> = OnceLock::new();
        let cores = CORES.get_or_init(|| {
            Arc::new(Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            ))
        });
        Arc::clone(cores)
            .acquire_owned()
            .await
            .expect("the semaphore is never closed")
    }
}

/// Checks a username and password (Argon2id), with the login throttling:
/// a locked username, or a locked client address, is refused without
/// checking; a wrong password counts as a failure of both (written to the
/// audit log) and locks the username after [`MAX_FAILURES`], the address
/// after [`MAX_ADDRESS_FAILURES`]. Used by the phones' login and the web
/// console alike. The right password clears the username's throttle; an
/// address's failures only age out.
pub async fn check_credentials(
    db: &Db,
    username: &str,
    password: &str,
    now: DateTime<Utc>,
    ip: Option<String>,
) -> Result<UserAuth, AppError> {
    let address = ip.as_deref().and_then(crate::client_addr::throttle_key);
    let address_throttle = || async {
        match address.as_deref() {
            Some(a) => with_read!(db, q, tx => async {
                q::throttle_get(&mut tx, Throttled::Address(a)).await
            }.await),
            None => Ok(None),
        }
    };
    let locked = |t: &Option<ThrottleRow>| {
        t.as_ref()
            .and_then(|t| t.locked_until)
            .filter(|u| *u > now)
            .map(|until| (until - now).num_seconds().max(1) as u64)
    };
    // A 429 with the minutes to wait, in words and in `Retry-After`.
    let refused = |code: &'static str, vi: &str, en: &str, secs: u64| {
        let minutes = secs.div_ceil(60);
        let mut e = AppError::new(
            StatusCode::TOO_MANY_REQUESTS,
            code,
            format!("{vi}; thử lại sau {minutes} phút"),
            format!("{en}; try again in {minutes} minute(s)"),
        );
        e.retry_after = Some(secs);
        e
    };
    let address_locked = |secs| {
        refused(
            "too_many_attempts_from_address",
            "Có quá nhiều lần đăng nhập sai từ địa chỉ mạng này",
            "too many failed sign-ins from this network address",
            secs,
        )
    };
    // A locked address is refused at once, waiting for no turn.
    if let Some(secs) = locked(&address_throttle().await?) {
        return Err(address_locked(secs));
    }
    // One username's attempts are checked one after the other, from
    // reading its lock to counting a failure: a burst of guesses sent at
    // once meets the lock after the fifth, as guesses sent in turn do.
    let _turn = attempts::turn(username).await;
    let throttle = with_read!(db, q, tx => async {
        q::throttle_get(&mut tx, Throttled::Username(username)).await
    }.await)?;
    if let Some(secs) = locked(&throttle) {
        return Err(refused(
            "too_many_attempts",
            "Đăng nhập sai quá nhiều lần",
            "too many failed sign-ins",
            secs,
        ));
    }

    let user = db.user_auth_by_username(username).await?;
    let password = password.to_string();
    let hash = user
        .as_ref()
        .and_then(|u| u.password_hash.clone())
        .unwrap_or_else(|| password::dummy().to_string());
    // The core is held by the check itself, which runs on even if this
    // request is dropped (a timeout, a client gone), and by this attempt
    // until its failure is counted: no more attempts read the address's
    // lock before the failures of those checking count than there are
    // cores.
    let core = std::sync::Arc::new(attempts::core().await);
    // Read again once it is this attempt's turn: guesses sent at once from
    // one address at many usernames meet its lock as guesses sent in turn.
    if let Some(secs) = locked(&address_throttle().await?) {
        return Err(address_locked(secs));
    }
    let checking = std::sync::Arc::clone(&core);
    let verified = tokio::task::spawn_blocking(move || {
        let _core = checking;
        password::verify(&password, &hash)
    })
    .await
    .map_err(AppError::internal)?;
    match user {
        Some(u) if verified && u.active && u.password_hash.is_some() => {
            // Cleared within the username's turn: a wrong guess sent at
            // the same time counts after it, not before it and then lost.
            with_tx!(db, q, tx => async {
                q::throttle_clear(&mut tx, username).await
            }.await)?;
            Ok(u)
        }
        // Told only to whoever knows the password.
        Some(u) if verified && !u.active && u.password_hash.is_some() => Err(AppError::new(
            StatusCode::FORBIDDEN,
            "account_inactive",
            "Tài khoản này đã bị khóa; liên hệ quản trị viên của quỹ",
            "this account is deactivated; contact the fund's administrator",
        )),
        _ => {
            record_failure(db, username, address.as_deref(), now, ip).await?;
            drop(core);
            Err(invalid_credentials())
        }
    }
}

/// Signs a user in on a device.
pub async fn login(
    state: &AppState,
    req: LoginRequest,
    ip: Option<String>,
) -> Result<TokenResponse, AppError> {
    let username = normalize_username(&req.username)?;
    check_device_fields(&req.device_id, Some(&req.device_name))?;
    let now = Utc::now();
    let db = &state.db;
    let user = check_credentials(db, &username, &req.password, now, ip.clone()).await?;

    let device_name = req.device_name.trim().to_string();
    let device_id = req.device_id.clone();
    let refresh = random_token(32);
    let family = uuid::Uuid::now_v7().to_string();
    let asked_code = req
        .device_code
        .as_deref()
        .map(str::trim)
        .unwrap_or_default()
        .to_string();
    let (device, last_receipt): (DeviceRow, Option<i64>) = with_tx!(db, q, tx => async {
        q::throttle_clear(&mut tx, &username).await?;
        let device = match q::device_get(&mut tx, &device_id).await? {
            Some(d) if d.user_id != user.id => {
                return Err(DbError::Conflict("device_other_user".into()));
            }
            Some(d) if d.revoked_at.is_some() => return Err(DbError::Conflict("device_revoked".into())),
            Some(_) => {
                q::device_touch(&mut tx, &device_id, Some(&device_name), now).await?;
                q::device_get(&mut tx, &device_id).await?.ok_or(DbError::NotFound)?
            }
            None => {
                let mut tries = 0;
                let mut kept = req
                    .device_code
                    .as_deref()
                    .map(str::trim)
                    .filter(|c| sotay_core::domain::rules::is_device_code(c))
                    .map(str::to_string);
                while !q::device_insert(&mut tx, &device_id, user.id, &device_name,
                    &kept.take().unwrap_or_else(device_code), now).await? {
                    tries += 1;
                    if tries > 8 {
                        return Err(DbError::Conflict("device_code_exhausted".into()));
                    }
                }
                q::device_get(&mut tx, &device_id).await?.ok_or(DbError::NotFound)?
            }
        };
        q::refresh_insert(&mut tx, &sha256_hex(&refresh), &family, &device_id, user.id, now,
            now + Duration::days(REFRESH_TTL_DAYS), false).await?;
        q::audit_append(&mut tx, &AuditEntry {
            actor_user_id: Some(user.id),
            actor_username: user.username.clone(),
            action: "login",
            object_type: "device",
            object_id: device_id.clone(),
            device_id: Some(device_id.clone()),
            ip: ip.clone(),
            // A code the phone asked to keep (it printed receipts with it
            // before the server's data was restored), whether kept.
            detail: if asked_code.is_empty() {
                serde_json::json!({ "device_name": device_name })
            } else {
                serde_json::json!({ "device_name": device_name, "device_code": device.code,
                                    "asked_code": asked_code })
            },
        }, now).await?;
        // Read in the sign-in's transaction: failing, nothing of it stays
        // and it is tried again whole (a book started again must not number
        // receipts already on paper).
        let last = q::device_last_receipt(&mut tx, user.id, &device.id, &device.code).await?;
        Ok::<_, DbError>((device, last))
    }.await)
    .map_err(|e| match e {
        DbError::Conflict(c) if c == "device_other_user" => AppError::conflict(
            "device_registered_to_other_user",
            "Thiết bị này đã được đăng ký cho người dùng khác; liên hệ quản trị viên",
            "this device is registered to another user; contact your administrator",
        ),
        DbError::Conflict(c) if c == "device_revoked" => device_revoked(),
        other => other.into(),
    })?;

    tokens(
        state,
        &user,
        &device,
        refresh,
        now,
        now + Duration::days(REFRESH_TTL_DAYS),
        last_receipt,
    )
}

fn tokens(
    state: &AppState,
    user: &UserAuth,
    device: &DeviceRow,
    refresh: String,
    now: DateTime<Utc>,
    refresh_expires: DateTime<Utc>,
    last_receipt: Option<i64>,
) -> Result<TokenResponse, AppError> {
    Ok(TokenResponse {
        access_token: state
            .jwt
            .issue(user, &device.id, now, device.revoked_at.is_some())?,
        token_type: "Bearer",
        expires_in: ACCESS_TTL_SECS,
        refresh_token: refresh,
        refresh_expires_in: (refresh_expires - now).num_seconds().max(0),
        user: SessionUser {
            id: user.id,
            username: user.username.clone(),
            full_name: user.full_name.clone(),
            role: user.role.clone(),
            branch_id: user.branch_id,
        },
        device: SessionDevice {
            id: device.id.clone(),
            name: device.name.clone(),
            code: device.code.clone(),
            revoked: device.revoked_at.is_some(),
            last_receipt,
        },
    })
}

/// `previous` with one more failure: a new window once the last one is
/// over, locked at `max` failures.
fn one_more_failure(previous: Option<ThrottleRow>, max: i64, now: DateTime<Utc>) -> ThrottleRow {
    let window = Duration::minutes(THROTTLE_WINDOW_MINS);
    let mut row = match previous {
        Some(t) if now - t.window_started_at < window => t,
        _ => ThrottleRow {
            failures: 0,
            window_started_at: now,
            locked_until: None,
        },
    };
    row.failures += 1;
    if row.failures >= max {
        row.locked_until = Some(now + Duration::minutes(LOCK_MINS));
    }
    row
}

/// Counts a failed sign-in against the username tried and the client's
/// address (its throttle key), each read again in the transaction that
/// writes it: attempts sent at the same instant each count.
async fn record_failure(
    db: &Db,
    username: &str,
    address: Option<&str>,
    now: DateTime<Utc>,
    ip: Option<String>,
) -> Result<(), AppError> {
    with_tx!(db, q, tx => async {
        let name = Throttled::Username(username);
        let row = one_more_failure(Some(q::throttle_lock(&mut tx, name, now).await?), MAX_FAILURES, now);
        q::throttle_put(&mut tx, name, &row).await?;
        let mut detail =
            serde_json::json!({ "failures": row.failures, "locked": row.locked_until.is_some() });
        if let Some(key) = address {
            let at = Throttled::Address(key);
            let previous = q::throttle_lock(&mut tx, at, now).await?;
            let a = one_more_failure(Some(previous), MAX_ADDRESS_FAILURES, now);
            q::throttle_put(&mut tx, at, &a).await?;
            detail["address_failures"] = a.failures.into();
            detail["address_locked"] = a.locked_until.is_some().into();
        }
        let entry = AuditEntry {
            actor_user_id: None,
            actor_username: username.to_string(),
            action: "login_failed",
            object_type: "user",
            object_id: username.to_string(),
            device_id: None,
            ip,
            detail,
        };
        q::audit_append(&mut tx, &entry, now).await
    }.await)?;
    Ok(())
}

fn invalid_refresh() -> AppError {
    AppError::unauthorized(
        "invalid_refresh_token",
        "Phiên đăng nhập đã hết hạn hoặc không hợp lệ; hãy đăng nhập lại",
        "the session expired or is invalid; sign in again",
    )
}

/// Exchanges a refresh token for a new pair. A refresh token is used once:
/// presenting a used one again revokes its whole chain (it was stolen, or
/// the legitimate holder is replaying), and both holders must sign in again —
/// except within [`REFRESH_GRACE_SECS`] of its use while its successor is
/// still unused: then the answer was lost on the way, and the successor is
/// replaced.
///
/// A revoked device's refresh token (revoked with it) still answers, with
/// an access token that only uploads: a phone offline past its access
/// token's life sends what it holds into quarantine for a supervisor,
/// whatever else it is refused. A token superseded or replayed never does.
pub async fn refresh(
    state: &AppState,
    req: RefreshRequest,
    ip: Option<String>,
) -> Result<TokenResponse, AppError> {
    check_device_fields(&req.device_id, None)?;
    let now = Utc::now();
    let db = &state.db;
    let presented = sha256_hex(req.refresh_token.trim());
    let next = random_token(32);
    enum Outcome {
        Ok(Box<(UserAuth, DeviceRow, DateTime<Utc>)>),
        Reused,
        Invalid,
        UnknownDevice,
    }
    let outcome = with_tx!(db, q, tx => async {
        let Some(row) = q::refresh_by_hash(&mut tx, &presented).await? else {
            // A device never registered here: a restore from a backup
            // taken before it first signed in.
            if q::device_get(&mut tx, &req.device_id).await?.is_none() {
                return Ok(Outcome::UnknownDevice);
            }
            return Ok(Outcome::Invalid);
        };
        if row.device_id != req.device_id {
            return Ok(Outcome::Invalid);
        }
        // The device's row held first, then the token read again: a
        // revocation or a password set in flight lands before or after this
        // refresh, never across it.
        q::device_lock(&mut tx, &row.device_id).await?;
        let Some(row) = q::refresh_by_hash(&mut tx, &presented).await? else { return Ok(Outcome::Invalid) };
        if row.device_id != req.device_id
            || (row.revoked_at.is_some() && !row.for_quarantine)
            || row.expires_at <= now
        {
            return Ok(Outcome::Invalid);
        }
        let already_used = row.used_at.is_some() || !q::refresh_mark_used(&mut tx, row.id, now).await?;
        // A revoked phone's token (good only for quarantine) is given its
        // lost answer again days later: ending its road would strand what
        // it holds, and a thief gains only a quarantine upload.
        let grace = if row.revoked_at.is_some() {
            Duration::days(QUARANTINE_GRACE_DAYS)
        } else {
            Duration::seconds(REFRESH_GRACE_SECS)
        };
        let answer_lost = already_used
            && row.used_at.is_none_or(|u| now - u < grace)
            && !q::refresh_successor_used(&mut tx, &row.family_id, row.id).await?;
        if answer_lost {
            // The phone never got the answer to its first use (no signal in
            // the boarding house): its unused successor goes, a new one comes.
            q::refresh_revoke_successors(&mut tx, &row.family_id, row.id, now).await?;
        } else if already_used {
            q::refresh_revoke_family(&mut tx, &row.family_id, now).await?;
            q::audit_append(&mut tx, &AuditEntry {
                actor_user_id: Some(row.user_id),
                actor_username: String::new(),
                action: "refresh_reused",
                object_type: "device",
                object_id: row.device_id.clone(),
                device_id: Some(row.device_id.clone()),
                ip: ip.clone(),
                detail: serde_json::json!({ "family": row.family_id }),
            }, now).await?;
            return Ok(Outcome::Reused);
        }
        let Some(device) = q::device_get(&mut tx, &row.device_id).await? else { return Ok(Outcome::Invalid) };
        let quarantine = device.revoked_at.is_some();
        if row.revoked_at.is_some() && !quarantine {
            // Revoked with a device that has since come back with its
            // account: its officer signs in again.
            return Ok(Outcome::Invalid);
        }
        // A closed account's phone still sends into quarantine.
        let Some(user) = q::user_auth_by_id(&mut tx, row.user_id).await?.filter(|u| u.active || quarantine) else {
            return Ok(Outcome::Invalid);
        };
        // Sending into quarantine lasts no longer than the token the phone
        // held when it was revoked.
        let expires = if quarantine { row.expires_at } else { now + Duration::days(REFRESH_TTL_DAYS) };
        q::refresh_insert(&mut tx, &sha256_hex(&next), &row.family_id, &row.device_id, row.user_id, now,
            expires, quarantine).await?;
        q::device_touch(&mut tx, &row.device_id, None, now).await?;
        q::audit_append(&mut tx, &AuditEntry {
            actor_user_id: Some(user.id),
            actor_username: user.username.clone(),
            // The supervisor sees a revoked phone call in, and from where.
            action: if quarantine { "refresh_revoked_device" } else { "refresh" },
            object_type: "device",
            object_id: row.device_id.clone(),
            device_id: Some(row.device_id.clone()),
            ip: ip.clone(),
            detail: serde_json::Value::Null,
        }, now).await?;
        Ok::<_, DbError>(Outcome::Ok(Box::new((user, device, expires))))
    }.await)?;
    match outcome {
        Outcome::Ok(found) => {
            let (user, device, expires) = *found;
            // Read after the refresh token was spent: failing here would
            // leave the phone with a spent token, so the number is left
            // out instead (the phone numbers on from its own book).
            let last_receipt = match state.db.device_last_receipt(user.id, &device.id, &device.code).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, device = %device.id, "the device's last receipt number could not be read");
                    None
                }
            };
            tokens(state, &user, &device, next, now, expires, last_receipt)
        }
        Outcome::Reused => Err(AppError::unauthorized(
            "refresh_token_reused",
            "Mã làm mới đã được dùng trước đó; để an toàn phiên này đã bị thu hồi, hãy đăng nhập lại",
            "this refresh token was already used; the session was revoked for safety, sign in again",
        )),
        Outcome::Invalid => Err(invalid_refresh()),
        Outcome::UnknownDevice => Err(unknown_device()),
    }
}

/// Revokes a device: an admin any, a supervisor their branch's.
pub async fn revoke_device(
    state: &AppState,
    by: &AuthUser,
    device_id: &str,
    reason: &str,
    ip: Option<String>,
) -> Result<DeviceRow, AppError> {
    by.require(&[Role::Admin, Role::Supervisor])?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid_field(
            "reason",
            "Cần ghi lý do thu hồi thiết bị",
            "a reason for revoking the device is required",
        ));
    }
    let device = state
        .db
        .device(device_id)
        .await?
        .filter(|d| d.looked_after_by(by.id, by.role, by.branch_id))
        .ok_or_else(|| AppError::not_found("thiết bị", "device"))?;
    let now = Utc::now();
    let mut entry = by.audit("device_revoke", "device", device.id.clone(), ip);
    entry.detail = serde_json::json!({ "reason": reason, "device_user": device.username });
    let db = &state.db;
    let user_id = by.id;
    let changed = with_tx!(db, q, tx => async {
        let changed = q::device_revoke(&mut tx, device_id, user_id, reason, false, now).await?;
        if changed {
            q::audit_append(&mut tx, &entry, now).await?;
        }
        Ok::<_, DbError>(changed)
    }.await)?;
    if !changed {
        return Err(AppError::conflict(
            "already_revoked",
            "Thiết bị này đã bị thu hồi trước đó",
            "this device was already revoked",
        ));
    }
    db.device(device_id)
        .await?
        .ok_or_else(|| AppError::not_found("thiết bị", "device"))
}

/// What an administrator does to an account.
#[derive(Debug, Clone, Copy)]
pub enum AccountChange<'a> {
    /// Someone who left or must not work any more: the account cannot sign
    /// in, its tokens and console sessions stop working at once, and each of
    /// its devices is revoked with the reason (what a revoked phone still
    /// uploads is quarantined for a supervisor, never dropped).
    Deactivate { reason: &'a str },
    /// Back at work: signs in again (on a device not revoked, or a new one).
    Activate,
    /// A new password for someone who forgot theirs; a lock after failed
    /// sign-ins is lifted.
    SetPassword { password: &'a str },
}

/// Applies `change` to account `user_id` (administrators only), audited.
pub async fn change_account(
    state: &AppState,
    by: &AuthUser,
    user_id: i64,
    change: AccountChange<'_>,
    ip: Option<String>,
) -> Result<UserView, AppError> {
    by.require(&[Role::Admin])?;
    let db = &state.db;
    let target = db
        .user(user_id)
        .await?
        .ok_or_else(|| AppError::not_found("người dùng", "user"))?;
    let now = Utc::now();
    let (action, detail) = match change {
        AccountChange::Deactivate { reason } => {
            if user_id == by.id {
                return Err(AppError::conflict(
                    "cannot_deactivate_self",
                    "Không thể tự khóa tài khoản của chính mình; nhờ một quản trị viên khác",
                    "you cannot deactivate your own account; ask another administrator",
                ));
            }
            if reason.trim().is_empty() {
                return Err(AppError::invalid_field(
                    "reason",
                    "Cần ghi lý do khóa tài khoản (nghỉ việc, chuyển công tác, ...)",
                    "a reason for deactivating the account is required (left, moved, ...)",
                ));
            }
            (
                "user_deactivate",
                serde_json::json!({ "reason": reason.trim() }),
            )
        }
        AccountChange::Activate => ("user_activate", serde_json::Value::Null),
        AccountChange::SetPassword { .. } if user_id == by.id => {
            return Err(AppError::conflict(
                "own_password",
                "Không đặt lại mật khẩu của chính mình ở đây; nhờ một quản trị viên khác, hoặc dùng lệnh sotay-server set-password trên máy chủ",
                "you cannot reset your own password here; ask another administrator, or use the sotay-server set-password command on the server",
            ));
        }
        AccountChange::SetPassword { password } => {
            let n = password.chars().count();
            if n < crate::import::csv::MIN_PASSWORD_CHARS {
                return Err(AppError::invalid_field(
                    "password",
                    format!(
                        "Mật khẩu mới phải có ít nhất {} ký tự (đang có {n})",
                        crate::import::csv::MIN_PASSWORD_CHARS
                    ),
                    format!(
                        "the new password needs at least {} characters (this one has {n})",
                        crate::import::csv::MIN_PASSWORD_CHARS
                    ),
                ));
            }
            ("user_set_password", serde_json::Value::Null)
        }
    };
    let hash = match change {
        AccountChange::SetPassword { password } => {
            let password = password.to_string();
            Some(
                tokio::task::spawn_blocking(move || password::hash(&password))
                    .await
                    .map_err(AppError::internal)?
                    .map_err(AppError::internal)?,
            )
        }
        _ => None,
    };
    let mut entry = by.audit(action, "user", user_id.to_string(), ip);
    entry.detail = detail;
    let by_id = by.id;
    let username = target.username.clone();
    let changed = with_tx!(db, q, tx => async {
        let changed = match change {
            AccountChange::Deactivate { reason } => {
                let admins = q::admins_active(&mut tx).await?;
                let changed = q::user_set_active(&mut tx, user_id, false, now).await?;
                if changed {
                    if admins == [user_id] {
                        return Err(DbError::Refused(Box::new(crate::db::Refusal {
                            status: 409,
                            code: "last_admin",
                            vi: "Đây là quản trị viên cuối cùng còn hoạt động; mở khóa hoặc tạo một quản trị viên khác trước".into(),
                            en: "this is the last active administrator; activate or create another one first".into(),
                            records: Vec::new(),
                        })));
                    }
                    let why = format!("{DEACTIVATED}{}", reason.trim());
                    for device in q::devices_in_use(&mut tx, user_id).await? {
                        q::device_revoke(&mut tx, &device, by_id, &why, true, now).await?;
                    }
                    q::user_sessions_end(&mut tx, user_id, now).await?;
                }
                changed
            }
            AccountChange::Activate => {
                let changed = q::user_set_active(&mut tx, user_id, true, now).await?;
                if changed {
                    // The phones the deactivation revoked come back with the
                    // account (their officer signs in again); a phone
                    // revoked for itself (lost) stays revoked.
                    q::devices_restore(&mut tx, user_id).await?;
                }
                changed
            }
            AccountChange::SetPassword { .. } => {
                q::user_set_password(&mut tx, user_id, hash.as_deref().unwrap_or_default(), now).await?;
                q::throttle_clear(&mut tx, &username).await?;
                // Whoever signed in with the old password signs in again.
                q::user_sessions_end(&mut tx, user_id, now).await?;
                true
            }
        };
        if changed {
            q::audit_append(&mut tx, &entry, now).await?;
        }
        Ok::<_, DbError>(changed)
    }.await)?;
    if !changed {
        return Err(match change {
            AccountChange::Deactivate { .. } => AppError::conflict(
                "already_inactive",
                "Tài khoản này đã bị khóa trước đó",
                "this account was already deactivated",
            ),
            _ => AppError::conflict(
                "already_active",
                "Tài khoản này đang hoạt động",
                "this account is already active",
            ),
        });
    }
    db.user(user_id)
        .await?
        .ok_or_else(|| AppError::not_found("người dùng", "user"))
}

pub type Keys = Arc<JwtKeys>;
