//! The HTTP application: state, router, middleware, serving.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{OnResponse, TraceLayer};

use crate::auth::JwtKeys;
use crate::db::Db;
use crate::error::{localize, AppError};

/// JSON bodies are small; imports have their own, larger limit.
pub const JSON_BODY_LIMIT: usize = 2 * 1024 * 1024;
/// An upload batch holds at most 1,000 records.
pub const UPLOAD_BODY_LIMIT: usize = 8 * 1024 * 1024;
pub const IMPORT_BODY_LIMIT: usize = 64 * 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub jwt: Arc<JwtKeys>,
    /// Uploads are stored by one writer, the ones that arrive meanwhile
    /// together in one transaction (see `uploads.rs`); waiting ones queue
    /// there rather than holding database connections that readers need.
    pub uploads: crate::uploads::UploadQueue,
    /// Proxies believed when they name the client (`X-Forwarded-For`);
    /// none unless configured.
    pub trusted_proxies: Arc<crate::client_addr::TrustedProxies>,
    /// When devices last connected, written together now and then.
    pub seen: Arc<SeenDevices>,
}

/// The devices seen since the last write of their last connection: noted by
/// each request in memory, written in one transaction every
/// [`SEEN_WRITE_EVERY`] (and at shutdown), never in a request's way.
#[derive(Default)]
pub struct SeenDevices {
    pending: std::sync::Mutex<std::collections::HashMap<String, chrono::DateTime<chrono::Utc>>>,
}

/// How long a stop waits for the requests in flight, then for the upload
/// writer: well within a service manager's time to stop (90 s for systemd).
const DRAIN: Duration = Duration::from_secs(20);
const WRITER_WAIT: Duration = Duration::from_secs(10);

/// How often the devices seen are written.
pub const SEEN_WRITE_EVERY: Duration = Duration::from_secs(60);

impl SeenDevices {
    pub fn note(&self, device_id: &str, at: chrono::DateTime<chrono::Utc>) {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(device_id.to_string(), at);
    }

    /// Writes what was noted; what fails to write is noted again.
    pub async fn write(&self, db: &Db) {
        let seen: Vec<_> =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()))
                .into_iter()
                .collect();
        if seen.is_empty() {
            return;
        }
        if let Err(e) = db.devices_seen(&seen).await {
            tracing::debug!(error = %e, "the devices' last connections were not written; next time");
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            for (id, at) in seen {
                pending.entry(id).or_insert(at);
            }
        }
    }
}

impl AppState {
    pub async fn new(db: Db, jwt_secret: Option<&str>) -> Result<Self, crate::db::DbError> {
        let (secret, warning) = crate::auth::load_secret(&db, jwt_secret).await?;
        if let Some(w) = warning {
            tracing::warn!("{w}");
        }
        Ok(AppState {
            uploads: crate::uploads::UploadQueue::start(db.clone()).map_err(|e| {
                crate::db::DbError::Invalid(format!("the upload writer could not start: {e}"))
            })?,
            db,
            jwt: Arc::new(JwtKeys::new(&secret)),
            trusted_proxies: Arc::default(),
            seen: Arc::default(),
        })
    }
}

pub fn router(state: AppState) -> Router {
    crate::api::routes()
        .merge(crate::console::routes())
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .layer(axum::middleware::from_fn(localize))
        .layer(CompressionLayer::new())
        .layer(CatchPanicLayer::custom(|_| {
            axum::response::IntoResponse::into_response(AppError::internal("handler panicked"))
        }))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(120),
        ))
        .layer(access_log())
        // Each request has an id (the client's `x-request-id`, or a new
        // one), in its log lines and in the answer's header: a user's
        // "my sync at 9:05 failed" is found in the logs of every instance.
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(axum::middleware::map_request(plain_request_id))
        .with_state(state)
}

/// A client's `x-request-id` is kept when it is 1 to 64 letters, digits or
/// `.`, `_`, `:`, `-`; another is dropped, and the request gets a new one:
/// what the log shows is what the answer carries, and no id writes fields
/// of its own into a log line.
async fn plain_request_id(
    mut req: axum::http::Request<axum::body::Body>,
) -> axum::http::Request<axum::body::Body> {
    let plain = |v: &axum::http::HeaderValue| {
        let b = v.as_bytes();
        (1..=64).contains(&b.len())
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b':' | b'-'))
    };
    if req.headers().get("x-request-id").is_some_and(|v| !plain(v)) {
        req.headers_mut().remove("x-request-id");
    }
    req
}

/// One line per request at `info`: its id, method, path (never the query
/// string, which may carry an ID number searched for), status and time
/// taken. Lines logged while a request runs (its errors) carry its id,
/// method and path.
fn access_log() -> TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    impl Fn(&axum::http::Request<axum::body::Body>) -> tracing::Span + Clone,
    (),
    RequestAnswered,
> {
    TraceLayer::new_for_http()
        .make_span_with(|req: &axum::http::Request<axum::body::Body>| {
            // Set by then (see `plain_request_id`).
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path())
        })
        .on_request(())
        .on_response(RequestAnswered)
}

/// The request's line: `status` and `latency_ms` as numbers, so that a log
/// collector can sum and compare them (in the request's span, which names it).
#[derive(Clone, Copy)]
struct RequestAnswered;

impl<B> OnResponse<B> for RequestAnswered {
    fn on_response(
        self,
        response: &axum::http::Response<B>,
        latency: Duration,
        _span: &tracing::Span,
    ) {
        tracing::info!(
            status = response.status().as_u16(),
            latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
            "finished processing request"
        );
    }
}

/// Serves until Ctrl-C / SIGTERM. Prints the address once listening.
///
/// Once the requests in flight are answered, the database is closed: on
/// SQLite the WAL is copied into the database file first, so the file alone
/// holds everything (a copy of it made while the server is stopped is whole).
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "listening");
    println!("Sổ Tay server listening on http://{addr}");
    let db = state.db.clone();
    let writer_stopped = state.uploads.stopped();
    let uploads = state.uploads.clone();
    let seen = state.seen.clone();
    let (stop_seen, mut seen_stops) = tokio::sync::watch::channel(false);
    let seen_writer = {
        let (seen, db) = (seen.clone(), db.clone());
        tokio::spawn(async move {
            let mut every = tokio::time::interval(SEEN_WRITE_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = every.tick() => seen.write(&db).await,
                    // Between writes, never in one.
                    _ = seen_stops.changed() => break,
                }
            }
        })
    };
    let (asked, stop_asked) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown_signal().await;
        tracing::info!(
            "stop asked: no new connections; answering the requests in flight (at most {} s)",
            DRAIN.as_secs()
        );
        let _ = asked.send(());
    };
    let server = axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(signal);
    let server = std::future::IntoFuture::into_future(server);
    tokio::pin!(server);
    // A client that never finishes sending its request (a phone gone out
    // of signal) does not hold the stop up past the deadline.
    let deadline = async {
        if stop_asked.await.is_ok() {
            tokio::time::sleep(DRAIN).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    let served = tokio::select! {
        served = &mut server => served,
        _ = deadline => {
            tracing::warn!(
                "connections still open after {} s are no longer waited for",
                DRAIN.as_secs()
            );
            Ok(())
        }
    };
    tracing::info!("shutting down: closing the database");
    uploads.close();
    drop(uploads);
    // The upload writer first (its queue closed with the last request):
    // its last group stored, its connection closed.
    if tokio::time::timeout(WRITER_WAIT, writer_stopped)
        .await
        .is_err()
    {
        tracing::warn!(
            "the upload writer did not stop within {} s",
            WRITER_WAIT.as_secs()
        );
    }
    let _ = stop_seen.send(true);
    let _ = seen_writer.await;
    seen.write(&db).await;
    if let Err(e) = db.shut_down().await {
        tracing::warn!(error = %e, "the database's last checkpoint failed; its WAL file holds the latest writes: keep it beside the database");
    }
    tracing::info!("stopped");
    served
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
