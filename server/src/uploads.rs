//! The upload queue: batches that arrive while another is being stored wait
//! here and are then stored together, one write transaction and one commit
//! for the lot (group commit).
//!
//! Uploads are serialised anyway (each takes the change counter first, see
//! `db/upload.rs`), so storing them one transaction each pays a commit — an
//! fsync on SQLite — a lock hand-over and a dozen statements per batch.
//! Grouped, the batches are judged one after the other with the same checks
//! and the same answer as alone, from facts read once for the lot, and
//! written by one multi-row INSERT per table: a batch is stored whole or not
//! at all, a replay gets the stored answer, a batch that fails gets its own
//! error (see [`Db::upload_group`]). No answer is sent before the commit.
//! When the group's transaction fails as a whole, each of its batches is
//! tried again alone.
//!
//! `RUST_LOG=sotay_server::uploads=debug` logs each group: its batches and
//! records, the time reading replays and facts, judging and writing took,
//! and the time to its answers, commit included; `=trace` also logs each
//! batch as a handler queues it (when the writer could first have it).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use crate::db::{CanonicalBatch, Db, DbError, DbResult, UploadJob, Uploader};
use sotay_core::wire::UploadResponse;

/// Batches waiting to be stored, at most (senders wait beyond that).
const QUEUE: usize = 1_024;
/// Records stored by one transaction, at most (a batch is never split; the
/// first batch of a group is taken whatever its size).
pub const GROUP_RECORDS: usize = 5_000;

struct Job {
    who: Uploader,
    batch: CanonicalBatch,
    reply: oneshot::Sender<DbResult<UploadResponse>>,
}

/// The handle the handlers send batches to; one writer task behind it.
#[derive(Clone)]
pub struct UploadQueue {
    jobs: mpsc::Sender<Job>,
    /// Told once the writer has stored its last group and closed its
    /// connection (taken by whoever shuts the server down).
    stopped: Arc<std::sync::Mutex<Option<oneshot::Receiver<()>>>>,
    /// Set when the server stops: the writer stores what is queued, takes
    /// nothing more, and ends.
    closing: Arc<tokio::sync::watch::Sender<bool>>,
}

impl UploadQueue {
    /// Starts the writer (it ends when the last handle is dropped).
    ///
    /// The writer runs on a thread of its own with its own connection: every
    /// upload waits for it, so it must not wait in the request handlers'
    /// queue each time one of its statements returns.
    pub fn start(db: Db) -> std::io::Result<UploadQueue> {
        let (jobs, rx) = mpsc::channel(QUEUE);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let own = db.upload_writer();
        let (done, stopped) = oneshot::channel();
        let (closing, closed) = tokio::sync::watch::channel(false);
        let checkpoints = Checkpoints {
            db,
            runtime: tokio::runtime::Handle::current(),
            running: Arc::new(AtomicBool::new(false)),
            last: None,
        };
        std::thread::Builder::new()
            .name("sotay-upload-writer".into())
            .spawn(move || {
                runtime.block_on(async move {
                    writer(own.clone(), rx, closed, checkpoints).await;
                    own.close().await;
                });
                let _ = done.send(());
            })?;
        Ok(UploadQueue {
            jobs,
            stopped: Arc::new(std::sync::Mutex::new(Some(stopped))),
            closing: Arc::new(closing),
        })
    }

    /// Stops taking uploads (the server is stopping): what is queued is
    /// stored, a later upload is answered 503 (the phone sends it again).
    pub fn close(&self) {
        let _ = self.closing.send(true);
    }

    /// Resolves once the writer has stopped: after every handle to the
    /// queue is dropped, its last group stored and its connection closed.
    pub fn stopped(&self) -> impl std::future::Future<Output = ()> + use<> {
        let rx = self
            .stopped
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        async move {
            if let Some(rx) = rx {
                let _ = rx.await;
            }
        }
    }

    /// Stores `batch` (see [`Db::upload`]) once its group is committed.
    pub async fn upload(&self, who: Uploader, batch: CanonicalBatch) -> DbResult<UploadResponse> {
        let (reply, answer) = oneshot::channel();
        tracing::trace!(records = batch.batch.records.len(), "upload batch queued");
        let job = Job { who, batch, reply };
        self.jobs
            .send(job)
            .await
            // The server is stopping: a transient failure, sent again.
            .map_err(|_| DbError::Sqlx(sqlx::Error::PoolClosed))?;
        answer
            .await
            .map_err(|_| DbError::Invalid("the upload was dropped by the writer".into()))?
    }
}

/// The WAL's checkpoints, off the writer's path (see [`Db::upload_writer`]):
/// after a commit, one on the request handlers' runtime and pool when none
/// is running and the last one started at least [`CHECKPOINT_EVERY`] ago.
struct Checkpoints {
    db: Db,
    runtime: tokio::runtime::Handle,
    running: Arc<AtomicBool>,
    last: Option<Instant>,
}

/// Checkpoints start at most this often. What the last commits wrote stays
/// in the WAL (durable there) until a later commit starts one.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

impl Checkpoints {
    fn after_commit(&mut self) {
        if self.last.is_some_and(|t| t.elapsed() < CHECKPOINT_EVERY)
            || self.running.swap(true, Ordering::AcqRel)
        {
            return;
        }
        self.last = Some(Instant::now());
        let (db, running) = (self.db.clone(), self.running.clone());
        self.runtime.spawn(async move {
            if let Err(e) = db.checkpoint().await {
                tracing::warn!(error = %e, "the WAL checkpoint failed; the next commit tries again");
            }
            running.store(false, Ordering::Release);
        });
    }
}

async fn writer(
    db: Db,
    mut rx: mpsc::Receiver<Job>,
    mut closing: tokio::sync::watch::Receiver<bool>,
    mut checkpoints: Checkpoints,
) {
    let mut closed = false;
    loop {
        let next = tokio::select! {
            job = rx.recv() => job,
            _ = closing.changed(), if !closed => {
                // Nothing more comes in; what is queued is still stored.
                closed = true;
                rx.close();
                continue;
            }
        };
        let Some(first) = next else { break };
        let mut records = first.batch.batch.records.len();
        let mut group = vec![first];
        while records < GROUP_RECORDS {
            match rx.try_recv() {
                Ok(job) => {
                    records += job.batch.batch.records.len();
                    group.push(job);
                }
                Err(_) => break,
            }
        }
        // Its own task: a panic while storing drops this group's replies
        // (their requests fail) and leaves the writer running.
        let (batches, started) = (group.len(), Instant::now());
        let _ = tokio::spawn(store(db.clone(), group)).await;
        tracing::debug!(batches, records, took = ?started.elapsed(), "upload group stored and answered");
        checkpoints.after_commit();
    }
}

async fn store(db: Db, group: Vec<Job>) {
    if group.len() > 1 {
        let jobs: Vec<UploadJob<'_>> = group
            .iter()
            .map(|j| UploadJob {
                who: &j.who,
                batch: &j.batch,
            })
            .collect();
        match db.upload_group(&jobs).await {
            Ok(results) => {
                for (job, result) in group.into_iter().zip(results) {
                    let _ = job.reply.send(result);
                }
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, batches = group.len(), "a grouped upload failed; its batches are stored one by one");
            }
        }
    }
    for job in group {
        let result = db.upload(&job.who, &job.batch).await;
        let _ = job.reply.send(result);
    }
}
