// Storing uploaded batches: one transaction, every record re-checked with
// the same rules the phone applied. Included into each backend module.
//
// Batches stored together (one, or the group the upload queue took at once)
// cost a handful of statements whatever their size: the stored batches and
// records with their ids, then the workers, loans, what each loan owes, its
// pending repayments, receipt numbers, campaigns, quotas, gift counts and void /
// reversal targets they name, one query each; the rules run in memory,
// batch after batch and record after record, each seeing what the records
// before it did; then one multi-row INSERT each of the batches, records,
// change-feed rows and audit lines.

use sotay_core::domain::gifts::{Eligibility, WorkerFacts};
use sotay_core::domain::rules::{self, CampaignFacts, LoanStatus, RuleViolation};
use super::Uploader;
use sotay_core::wire::{RecordBody, UploadBatch, UploadOutcome, UploadRecord, UploadResponse, UploadResult};

type UMap<K, V> = std::collections::HashMap<K, V>;
type USet<T> = std::collections::HashSet<T>;

/// No live void targets `r` (or the record named). A void is live when it
/// is accepted and not excluded or rejected by the supervisor.
macro_rules! no_live_void_sql {
    () => {
        no_live_void_sql!(r)
    };
    ($r:ident) => {
        concat!(
            "NOT EXISTS (SELECT 1 FROM sync_records v WHERE v.target_client_id = ",
            stringify!($r),
            ".client_id AND v.kind = 'void'
             AND v.status = 'accepted'
             AND NOT EXISTS (SELECT 1 FROM record_reviews vd WHERE vd.record_id = v.id AND vd.decision <> 'approved'))"
        )
    };
}

/// Record `r` is LIVE: accepted, not excluded or rejected by the
/// supervisor, and no live void targets it.
macro_rules! live_sql {
    () => {
        concat!(
            "(r.status = 'accepted'
             AND NOT EXISTS (SELECT 1 FROM record_reviews rd WHERE rd.record_id = r.id AND rd.decision <> 'approved')
             AND ",
            no_live_void_sql!(),
            ")"
        )
    };
}

/// Record `r` is REVERSED: its journal entry has a reversing entry.
macro_rules! reversed_sql {
    () => {
        "(EXISTS (SELECT 1 FROM journal_entries je JOIN journal_entries jx ON jx.reverses = je.id
            WHERE je.record_id = r.id))"
    };
}

/// Record `$r`, refused (at upload or at review), is HANDED OUT after all:
/// a supervisor settled it as a package the worker really received
/// (`stock_out`), and that stock entry is not reversed (migration 0037).
macro_rules! handed_out_sql {
    ($r:ident) => {
        concat!(
            "EXISTS (SELECT 1 FROM refused_settlements ho WHERE ho.record_id = ",
            stringify!($r),
            ".id AND ho.handed_out
                 AND NOT EXISTS (SELECT 1 FROM journal_entries hx WHERE hx.reverses = ho.entry_id))"
        )
    };
}

/// Gift record `$r` kept in quarantine (from a revoked phone) that no
/// supervisor has settled yet and its officer did not void on that phone:
/// it holds its worker's gift of the campaign and the officer's allocation
/// until it is settled, as handed out for real (it is then HANDED OUT) or
/// not (they are free again). One whose batch a supervisor rejected (as
/// could be done before a revoked phone's batch had nothing to review)
/// holds nothing, as a gift rejected at review.
macro_rules! held_in_quarantine_sql {
    ($r:ident) => {
        concat!(
            "(",
            stringify!($r),
            ".status = 'quarantined' AND NOT EXISTS (SELECT 1 FROM refused_settlements hq WHERE hq.record_id = ",
            stringify!($r),
            ".id) AND NOT EXISTS (SELECT 1 FROM record_reviews hqr WHERE hqr.record_id = ",
            stringify!($r),
            ".id AND hqr.decision = 'rejected') AND NOT ",
            voided_in_quarantine_sql!($r),
            ")"
        )
    };
}

/// SQL: record `r` is LIVE.
const LIVE: &str = live_sql!();

/// SQL: record `r` is HELD IN QUARANTINE (when a gift).
const HELD_IN_QUARANTINE: &str = held_in_quarantine_sql!(r);

/// SQL: record `r` is PENDING: LIVE and not yet decided by the supervisor.
/// A record with no review at all is not excluded or rejected either, so
/// LIVE's review test is left out (one probe less a record).
const PENDING: &str = concat!(
    "(r.status = 'accepted'
     AND NOT EXISTS (SELECT 1 FROM record_reviews ud WHERE ud.record_id = r.id)
     AND ",
    no_live_void_sql!(),
    ")"
);

/// SQL: the `FROM` and `WHERE` of the PENDING repayments `r` (columns
/// `loan_id`, `record_id`, `client_id`, `amount`): the accepted ones no
/// supervisor has decided on (`undecided_repayments`, kept by triggers) that
/// no live void took back. A loan's are read by one range of its key, not
/// through its whole history.
const PENDING_REPAYMENTS: &str = concat!("FROM undecided_repayments r WHERE ", no_live_void_sql!());

/// SQL: record `r` is REVERSED.
const REVERSED: &str = reversed_sql!();

/// SQL: `r` is a gift handout that counts: LIVE and not REVERSED, HANDED
/// OUT after all, or HELD IN QUARANTINE.
const LIVE_HANDOUT: &str = concat!(
    "(r.kind = 'gift_handout' AND ((",
    live_sql!(),
    " AND NOT ",
    reversed_sql!(),
    ") OR ",
    handed_out_sql!(r),
    " OR ",
    held_in_quarantine_sql!(r),
    "))"
);

/// Values in one IN list on SQLite, which allows 32,766 bound parameters a
/// statement (PostgreSQL takes a whole list as one array parameter); a
/// power of two, as the lists are padded to one.
const LIST_CHUNK: usize = 16_384;

/// How a backend takes a list of values in one statement: an IN list of
/// parameters on SQLite, one array parameter on PostgreSQL (one statement
/// text whatever the length, so it is prepared once).
trait Lists: sqlx::Database {
    fn chunk_len() -> usize;
    fn uuids(qb: &mut sqlx::QueryBuilder<'_, Self>, column: &str, values: &[uuid::Uuid]);
    fn ints(qb: &mut sqlx::QueryBuilder<'_, Self>, column: &str, values: &[i64]);
    fn texts(qb: &mut sqlx::QueryBuilder<'_, Self>, column: &str, values: &[String]);
    /// Rows `rows` of `columns` as the source of an `INSERT INTO t (…)`.
    fn rows<'a>(qb: &mut sqlx::QueryBuilder<'a, Self>, columns: &'a [Column<'a>], rows: std::ops::Range<usize>);
    /// Rows written by one statement: all of them on PostgreSQL, as many as
    /// fit the parameter limit on SQLite.
    fn rows_per_insert(columns: usize) -> usize;
}

/// The values of one column of the rows an INSERT writes.
enum Column<'a> {
    Int(Vec<i64>),
    OptInt(Vec<Option<i64>>),
    Text(Vec<String>),
    /// Text bound from where it is, not copied.
    Str(Vec<&'a str>),
    OptText(Vec<Option<String>>),
    Uuid(Vec<uuid::Uuid>),
    OptUuid(Vec<Option<uuid::Uuid>>),
    Time(Vec<DateTime<Utc>>),
}

impl Column<'_> {
    fn len(&self) -> usize {
        match self {
            Column::Int(v) => v.len(),
            Column::OptInt(v) => v.len(),
            Column::Text(v) => v.len(),
            Column::Str(v) => v.len(),
            Column::OptText(v) => v.len(),
            Column::Uuid(v) => v.len(),
            Column::OptUuid(v) => v.len(),
            Column::Time(v) => v.len(),
        }
    }
}

/// `{head}` (an `INSERT INTO t (columns…) `) of every row of `columns`,
/// then `{tail}` (e.g. a `RETURNING`): one statement on PostgreSQL, chunks
/// of the same few sizes on SQLite so their prepared statements are reused.
/// Returns the rows `tail` returns.
async fn insert_rows<O>(c: &mut Conn, head: &str, columns: &[Column<'_>], tail: &str) -> DbResult<Vec<O>>
where
    O: for<'r> sqlx::FromRow<'r, <DB as sqlx::Database>::Row> + Send + Unpin,
{
    let n = columns.first().map_or(0, Column::len);
    if columns.iter().any(|c| c.len() != n) {
        return Err(DbError::Invariant("columns of an insert differ in length".into()));
    }
    let most = <DB as Lists>::rows_per_insert(columns.len()).max(1);
    let mut out = Vec::new();
    let mut at = 0;
    while at < n {
        let left = n - at;
        // Powers of two on SQLite: a handful of statement texts whatever the count.
        let take = if IS_SQLITE { 1usize << left.min(most).ilog2() } else { left.min(most) };
        let mut qb = sqlx::QueryBuilder::<DB>::new(head);
        <DB as Lists>::rows(&mut qb, columns, at..at + take);
        qb.push(tail);
        if tail.is_empty() {
            qb.build().execute(&mut *c).await?;
        } else {
            out.extend(qb.build_query_as::<O>().fetch_all(&mut *c).await?);
        }
        at += take;
    }
    Ok(out)
}

/// [`insert_rows`] without a `RETURNING`.
async fn insert_all(c: &mut Conn, head: &str, columns: &[Column<'_>]) -> DbResult<()> {
    insert_rows::<(i64,)>(c, head, columns, "").await.map(|_| ())
}

const INSERT_RECORDS: &str = "INSERT INTO sync_records (client_id, batch_id, device_id, officer_id, device_seq, kind,
    recorded_at, received_at, body, body_hash, status, code, message_vi, message_en, worker_id, loan_id, campaign_id,
    target_client_id, amount, receipt_no) ";
/// [`INSERT_RECORDS`] with the ids given (SQLite).
const INSERT_RECORDS_WITH_IDS: &str = "INSERT INTO sync_records (id, client_id, batch_id, device_id, officer_id,
    device_seq, kind, recorded_at, received_at, body, body_hash, status, code, message_vi, message_en, worker_id,
    loan_id, campaign_id, target_client_id, amount, receipt_no) ";

/// `column IN (…)` with `values`, the last one repeated up to a power of two
/// (an IN list means the same with a value repeated): a statement text for
/// a handful of lengths, prepared once each, instead of one to prepare for
/// every length a group's lists come in.
macro_rules! in_list {
    ($qb:expr, $column:expr, $values:expr) => {{
        let values = $values;
        let mut sep = $qb.push($column).push(" IN (").separated(", ");
        for v in values {
            sep.push_bind(v.clone());
        }
        if let Some(last) = values.last() {
            for _ in values.len()..values.len().next_power_of_two() {
                sep.push_bind(last.clone());
            }
        }
        sep.push_unseparated(")");
    }};
}

/// Parameters SQLite allows in one statement.
const SQLITE_MAX_PARAMS: usize = 32_766;

impl Lists for sqlx::Sqlite {
    fn chunk_len() -> usize {
        LIST_CHUNK
    }
    fn uuids(qb: &mut sqlx::QueryBuilder<'_, Self>, column: &str, values: &[uuid::Uuid]) {
        in_list!(qb, column, values)
    }
    fn ints(qb: &mut sqlx::QueryBuilder<'_, Self>, column: &str, values: &[i64]) {
        in_list!(qb, column, values)
    }
    fn texts(qb: &mut sqlx::QueryBuilder<'_, Self>, column: &str, values: &[String]) {
        in_list!(qb, column, values)
    }
    fn rows<'a>(qb: &mut sqlx::QueryBuilder<'a, Self>, columns: &'a [Column<'a>], rows: std::ops::Range<usize>) {
        // Text is bound by reference: SQLite copies it once, when bound.
        qb.push_values(rows, |mut b, i| {
            for col in columns {
                match col {
                    Column::Int(v) => b.push_bind(v[i]),
                    Column::OptInt(v) => b.push_bind(v[i]),
                    Column::Text(v) => b.push_bind(v[i].as_str()),
                    Column::Str(v) => b.push_bind(v[i]),
                    Column::OptText(v) => b.push_bind(v[i].as_deref()),
                    Column::Uuid(v) => b.push_bind(v[i]),
                    Column::OptUuid(v) => b.push_bind(v[i]),
                    Column::Time(v) => b.push_bind(v[i]),
                };
            }
        });
    }
    fn rows_per_insert(columns: usize) -> usize {
        SQLITE_MAX_PARAMS / columns.max(1)
    }
}

impl Lists for sqlx::Postgres {
    fn chunk_len() -> usize {
        usize::MAX
    }
    fn uuids(qb: &mut sqlx::QueryBuilder<'_, Self>, column: &str, values: &[uuid::Uuid]) {
        qb.push(column).push(" = ANY(").push_bind(values.to_vec()).push(")");
    }
    fn ints(qb: &mut sqlx::QueryBuilder<'_, Self>, column: &str, values: &[i64]) {
        qb.push(column).push(" = ANY(").push_bind(values.to_vec()).push(")");
    }
    fn texts(qb: &mut sqlx::QueryBuilder<'_, Self>, column: &str, values: &[String]) {
        qb.push(column).push(" = ANY(").push_bind(values.to_vec()).push(")");
    }
    fn rows<'a>(qb: &mut sqlx::QueryBuilder<'a, Self>, columns: &'a [Column<'a>], rows: std::ops::Range<usize>) {
        // One array a column: the statement is the same whatever the count.
        qb.push("SELECT * FROM UNNEST(");
        for (n, col) in columns.iter().enumerate() {
            if n > 0 {
                qb.push(", ");
            }
            let r = rows.clone();
            match col {
                Column::Int(v) => qb.push_bind(v[r].to_vec()).push("::int8[]"),
                Column::OptInt(v) => qb.push_bind(v[r].to_vec()).push("::int8[]"),
                Column::Text(v) => qb.push_bind(&v[r]).push("::text[]"),
                Column::Str(v) => qb.push_bind(&v[r]).push("::text[]"),
                Column::OptText(v) => qb.push_bind(&v[r]).push("::text[]"),
                Column::Uuid(v) => qb.push_bind(v[r].to_vec()).push("::uuid[]"),
                Column::OptUuid(v) => qb.push_bind(v[r].to_vec()).push("::uuid[]"),
                Column::Time(v) => qb.push_bind(v[r].to_vec()).push("::timestamptz[]"),
            };
        }
        qb.push(")");
    }
    fn rows_per_insert(_columns: usize) -> usize {
        usize::MAX
    }
}

/// The columns of `INSERT_RECORDS` for `rows`.
/// The bodies, hashes and receipt numbers are taken out of `rows`.
fn record_columns<'a>(now: DateTime<Utc>, rows: &mut [NewRecord<'a>]) -> Vec<Column<'a>> {
    let n = rows.len();
    let bodies = rows.iter_mut().map(|r| std::mem::take(&mut r.body)).collect();
    let hashes = rows.iter_mut().map(|r| std::mem::take(&mut r.hash)).collect();
    let receipts = rows.iter_mut().map(|r| r.verdict.receipt_no.take()).collect();
    vec![
        Column::Uuid(rows.iter().map(|r| r.client_id).collect()),
        Column::Uuid(rows.iter().map(|r| r.batch_id).collect()),
        Column::Str(rows.iter().map(|r| r.who.device_id.as_str()).collect()),
        Column::Int(rows.iter().map(|r| r.who.officer_id).collect()),
        Column::Int(rows.iter().map(|r| r.device_seq).collect()),
        Column::Str(rows.iter().map(|r| r.kind).collect()),
        Column::Time(rows.iter().map(|r| r.recorded_at).collect()),
        Column::Time(vec![now; n]),
        Column::Text(bodies),
        Column::Text(hashes),
        Column::Str(rows.iter().map(|r| r.verdict.status).collect()),
        Column::OptText(rows.iter().map(|r| r.verdict.code.clone()).collect()),
        Column::OptText(rows.iter().map(|r| r.verdict.message_vi.clone()).collect()),
        Column::OptText(rows.iter().map(|r| r.verdict.message_en.clone()).collect()),
        Column::OptInt(rows.iter().map(|r| r.verdict.worker_id).collect()),
        Column::OptInt(rows.iter().map(|r| r.verdict.loan_id).collect()),
        Column::OptInt(rows.iter().map(|r| r.verdict.campaign_id).collect()),
        Column::OptUuid(rows.iter().map(|r| r.verdict.target).collect()),
        Column::OptInt(rows.iter().map(|r| r.verdict.amount).collect()),
        Column::OptText(receipts),
    ]
}

/// How a record was judged before it is stored.
struct Verdict {
    status: &'static str,
    code: Option<String>,
    message_vi: Option<String>,
    message_en: Option<String>,
    worker_id: Option<i64>,
    loan_id: Option<i64>,
    campaign_id: Option<i64>,
    target: Option<uuid::Uuid>,
    amount: Option<i64>,
    receipt_no: Option<String>,
}

impl Verdict {
    fn accepted() -> Self {
        Verdict {
            status: "accepted",
            code: None,
            message_vi: None,
            message_en: None,
            worker_id: None,
            loan_id: None,
            campaign_id: None,
            target: None,
            amount: None,
            receipt_no: None,
        }
    }

    fn rejected(code: &str, vi: String, en: String) -> Self {
        Verdict {
            status: "rejected",
            code: Some(code.to_string()),
            message_vi: Some(vi),
            message_en: Some(en),
            ..Verdict::accepted()
        }
    }

    fn violation(v: RuleViolation) -> Self {
        Verdict::rejected(v.code(), v.message_vi(), v.message_en())
    }
}

/// A record about to be stored.
struct NewRecord<'a> {
    who: &'a Uploader,
    batch_id: uuid::Uuid,
    client_id: uuid::Uuid,
    device_seq: i64,
    kind: &'static str,
    recorded_at: DateTime<Utc>,
    body: String,
    hash: String,
    verdict: Verdict,
}

/// How far in the future a phone's clock may be.
const FUTURE_TOLERANCE_MINUTES: i64 = sotay_core::domain::time::CLOCK_TOLERANCE_MINUTES;

/// Stores uploaded batches, judged one after the other in the order given
/// (each sees what the ones before it stored), with one statement per kind
/// of fact read and one multi-row INSERT per table written for the lot.
/// Per batch: its answer, the stored answer when the same batch came
/// before (alone or earlier in `jobs`), or `Conflict("batch_conflict")`
/// when its batch id was used for other content. Each answered batch has
/// its line in the audit log. `Err` when a statement failed: then nothing
/// of it may be kept (the caller rolls the transaction back).
pub async fn store_batches(
    c: &mut Conn,
    jobs: &[super::UploadJob<'_>],
    now: DateTime<Utc>,
) -> DbResult<Vec<DbResult<UploadResponse>>> {
    // Uploads are serialized: gift uniqueness, allocations and pending
    // balances are checked against everything stored before.
    sqlx::query("UPDATE sync_counter SET value = value WHERE id = 1").execute(&mut *c).await?;
    // Where a group's time goes, in the debug log (see `uploads.rs`).
    let started = std::time::Instant::now();

    // Batches stored before, with their answers.
    let batch_ids = distinct(jobs.iter().map(|j| j.batch.batch.batch_id));
    let mut answered: UMap<uuid::Uuid, (String, UploadResponse)> = UMap::new();
    for chunk in batch_ids.chunks(<DB as Lists>::chunk_len()) {
        let mut qb = sqlx::QueryBuilder::<DB>::new("SELECT batch_id, body_hash, response FROM sync_batches WHERE ");
        <DB as Lists>::uuids(&mut qb, "batch_id", chunk);
        for (id, hash, response) in qb.build_query_as::<(uuid::Uuid, String, String)>().fetch_all(&mut *c).await? {
            let response =
                serde_json::from_str(&response).map_err(|e| DbError::Invalid(format!("stored response: {e}")))?;
            answered.insert(id, (hash, response));
        }
    }

    // The records of the new batches: the ones stored before, then what the
    // rules need to judge the others.
    let new_jobs = || jobs.iter().filter(|j| !answered.contains_key(&j.batch.batch.batch_id));
    let ids = distinct(new_jobs().flat_map(|j| j.batch.batch.records.iter().map(|r| r.client_id)));
    let mut seen = stored_records(c, &ids).await?;
    let replays = started.elapsed();
    let fresh: Vec<&UploadRecord> = new_jobs()
        .flat_map(|j| j.batch.batch.records.iter())
        .filter(|r| !seen.contains_key(&r.client_id))
        .collect();
    let officers = distinct(new_jobs().map(|j| j.who.officer_id));
    let mut facts = Facts::load(c, &officers, &fresh).await?;
    let read = started.elapsed();

    let mut out = Vec::with_capacity(jobs.len());
    let mut rows: Vec<NewRecord> = Vec::with_capacity(fresh.len());
    let mut new_batches: Vec<(&super::UploadJob<'_>, String)> = Vec::new();
    let mut audit: Vec<super::AuditEntry> = Vec::with_capacity(jobs.len());
    // Records the server had already (the same content): still flagged when
    // a phone says they were approved before a restore.
    let mut duplicates: USet<uuid::Uuid> = USet::default();
    for job in jobs {
        let (who, batch) = (job.who, &job.batch.batch);
        if let Some((hash, response)) = answered.get(&batch.batch_id) {
            if *hash != job.batch.hash {
                out.push(Err(DbError::Conflict("batch_conflict".into())));
            } else {
                audit.push(upload_audit(job, response));
                out.push(Ok(response.clone()));
            }
            continue;
        }
        let mut results = Vec::with_capacity(batch.records.len());
        // Each record's canonical JSON (what is stored) and its hash.
        for (record, (body, hash)) in batch.records.iter().zip(job.batch.records.iter().cloned()) {
            if let Some(s) = seen.get(&record.client_id) {
                let result = stored_result(record.client_id, s, &hash);
                if result.outcome == UploadOutcome::Duplicate {
                    duplicates.insert(record.client_id);
                }
                results.push(result);
                continue;
            }
            let mut verdict = facts.judge(who, batch, record, now);
            if who.device_revoked {
                // Kept whatever the rules say, but what they say is kept
                // with it: the supervisor weighs a record the server would
                // have refused anyway (a loan not this officer's, an amount
                // above what it owes).
                let (mut vi, mut en) = (
                    "Thiết bị đã bị thu hồi: bản ghi được giữ lại để giám sát xem xét".to_string(),
                    "the device was revoked: the record is kept for a supervisor to review".to_string(),
                );
                // A void names what it takes back even here: the repayment
                // or gift it voids is no cash or package the officer holds.
                let voided = match &record.body {
                    sotay_core::wire::RecordBody::Void(v) => Some(v.target_id),
                    _ => None,
                };
                if verdict.status != "accepted" && voided.is_none() {
                    if let Some(why) = &verdict.message_vi {
                        vi.push_str(&format!(". Ngoài ra máy chủ cũng sẽ từ chối bản ghi này: {why}"));
                    }
                    if let Some(why) = &verdict.message_en {
                        en.push_str(&format!("; the server would also have refused it: {why}"));
                    }
                }
                verdict = Verdict {
                    status: "quarantined",
                    code: Some("device_revoked".into()),
                    message_vi: Some(vi),
                    message_en: Some(en),
                    target: verdict.target.or(voided),
                    ..verdict
                };
            }
            match verdict.status {
                "accepted" => facts.accept(who, record, &verdict),
                "quarantined" => facts.hold(who, record, &verdict),
                _ => {}
            }
            seen.insert(
                record.client_id,
                StoredRecord {
                    body_hash: hash.clone(),
                    status: verdict.status.to_string(),
                    code: verdict.code.clone(),
                    message_vi: verdict.message_vi.clone(),
                    message_en: verdict.message_en.clone(),
                },
            );
            results.push(UploadResult {
                client_id: record.client_id,
                outcome: if verdict.status == "accepted" { UploadOutcome::Accepted } else { UploadOutcome::Rejected },
                code: verdict.code.clone(),
                message_vi: verdict.message_vi.clone(),
                message_en: verdict.message_en.clone(),
            });
            rows.push(NewRecord {
                who,
                batch_id: batch.batch_id,
                client_id: record.client_id,
                device_seq: record.device_seq,
                kind: record.body.kind().as_str(),
                recorded_at: record.recorded_at,
                body,
                hash,
                verdict,
            });
        }
        let response = UploadResponse { results, acknowledged: None };
        let json = serde_json::to_string(&response).map_err(|e| DbError::Invalid(e.to_string()))?;
        new_batches.push((job, json));
        audit.push(upload_audit(job, &response));
        answered.insert(batch.batch_id, (job.batch.hash.clone(), response.clone()));
        out.push(Ok(response));
    }

    let judged = started.elapsed();

    // Each batch is the branch's its officer works in now: a move to
    // another branch later leaves it with the branch it was collected for.
    let mut branch_of: UMap<i64, Option<i64>> = UMap::default();
    if !new_batches.is_empty() {
        let ids = distinct(new_batches.iter().map(|(j, _)| j.who.officer_id));
        let mut qb = sqlx::QueryBuilder::<DB>::new("SELECT id, branch_id FROM users WHERE ");
        <DB as Lists>::ints(&mut qb, "id", &ids);
        branch_of.extend(qb.build_query_as::<(i64, Option<i64>)>().fetch_all(&mut *c).await?);
    }
    // The batch rows first (the records refer to them), with their answers.
    let batch_columns = [
        Column::Uuid(new_batches.iter().map(|(j, _)| j.batch.batch.batch_id).collect()),
        Column::Str(new_batches.iter().map(|(j, _)| j.who.device_id.as_str()).collect()),
        Column::Int(new_batches.iter().map(|(j, _)| j.who.officer_id).collect()),
        Column::Str(new_batches.iter().map(|(j, _)| j.batch.hash.as_str()).collect()),
        Column::Int(new_batches.iter().map(|(j, _)| j.batch.batch.records.len() as i64).collect()),
        Column::Str(new_batches.iter().map(|(_, json)| json.as_str()).collect()),
        Column::Time(vec![now; new_batches.len()]),
        Column::OptInt(new_batches.iter().map(|(j, _)| branch_of.get(&j.who.officer_id).copied().flatten()).collect()),
    ];
    insert_all(
        c,
        "INSERT INTO sync_batches (batch_id, device_id, officer_id, body_hash, records, response, received_at, branch_id) ",
        &batch_columns,
    )
    .await?;

    let stored_ids: UMap<uuid::Uuid, i64> = if IS_SQLITE {
        // The ids after the last one: this transaction is the database's
        // only writer from its first statement on. Given rather than
        // returned, which SQLite's driver would hand over row by row.
        let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM sync_records").fetch_one(&mut *c).await?;
        let ids: Vec<i64> = (last + 1..).take(rows.len()).collect();
        let mut columns = record_columns(now, &mut rows);
        columns.insert(0, Column::Int(ids.clone()));
        insert_all(c, INSERT_RECORDS_WITH_IDS, &columns).await?;
        rows.iter().map(|r| r.client_id).zip(ids).collect()
    } else {
        insert_rows::<(uuid::Uuid, i64)>(c, INSERT_RECORDS, &record_columns(now, &mut rows), " RETURNING client_id, id")
            .await?
            .into_iter()
            .collect()
    };
    // Records a phone sends again after a restore that had been approved
    // before it (its own records of the batch, stored now or held already
    // with the same content, waiting for review again): the review says
    // their cash went into the vault then.
    let approved_before: Vec<uuid::Uuid> = new_batches
        .iter()
        .filter(|(j, _)| !j.batch.batch.approved_before.is_empty())
        .flat_map(|(j, _)| {
            let b = &j.batch.batch;
            let own: USet<uuid::Uuid> = b.records.iter().map(|r| r.client_id).collect();
            b.approved_before
                .iter()
                .filter(|id| own.contains(*id))
                .copied()
                .collect::<Vec<_>>()
        })
        .filter(|id| stored_ids.contains_key(id) || duplicates.contains(id))
        .collect();
    if !approved_before.is_empty() {
        let n = approved_before.len();
        insert_rows::<(i64,)>(
            c,
            "INSERT INTO approved_before_restore (client_id, noted_at) ",
            &[Column::Uuid(approved_before), Column::Time(vec![now; n])],
            " ON CONFLICT DO NOTHING",
        )
        .await?;
    }
    // The officer's phones learn the records' statuses from one change a
    // batch, named by its first record (a page reads all of the batch's
    // records), not one a record; and of one change a campaign they gave
    // gifts from (or kept one of in quarantine), not one a gift.
    let mut first: UMap<uuid::Uuid, (i64, i64)> = UMap::with_capacity(new_batches.len());
    let mut campaigns: USet<(i64, i64)> = USet::new();
    let mut voided: Vec<(i64, &'static str, i64)> = Vec::new();
    // Loans of workers moved to another officer since a receipt on them
    // was taken (or voided): hers, for her phone to count it.
    let mut moved_loans: USet<(i64, i64)> = USet::new();
    let mut voided_requests: Vec<uuid::Uuid> = Vec::new();
    for row in &rows {
        let id = *stored_ids
            .get(&row.client_id)
            .ok_or_else(|| DbError::Invalid("a stored record's id did not come back".into()))?;
        let head = first.entry(row.batch_id).or_insert((row.who.officer_id, id));
        head.1 = head.1.min(id);
        if let (Some(k), "accepted" | "quarantined") = (row.verdict.campaign_id, row.verdict.status) {
            campaigns.insert((row.who.officer_id, k));
            // A gift given before the worker moved: their officer now learns
            // they have it.
            if let Some(&now) = row.verdict.worker_id.and_then(|w| facts.now_officer.get(&w)) {
                campaigns.insert((now, k));
            }
        }
        if let ("repayment", "accepted", Some(loan)) = (row.kind, row.verdict.status, row.verdict.loan_id) {
            if let Some(&now) = row.verdict.worker_id.and_then(|w| facts.now_officer.get(&w)) {
                if now != row.who.officer_id {
                    moved_loans.insert((now, loan));
                }
            }
        }
        // A void of a record an earlier upload stored: the record's status
        // changes (its other phones count a receipt by it).
        // A reversal asked of a receipt on a moved worker's loan: it takes
        // nothing there any more.
        if let ("reversal_request", "accepted", Some(target)) = (row.kind, row.verdict.status, row.verdict.target) {
            if let Some(t) = facts.known.get(&target).filter(|t| t.kind == "repayment") {
                if let (Some(now), Some(loan)) = (t.worker_officer.filter(|&o| o != row.who.officer_id), t.loan_id) {
                    moved_loans.insert((now, loan));
                }
            }
        }
        if let ("void", "accepted" | "quarantined", Some(target)) = (row.kind, row.verdict.status, row.verdict.target) {
            let known = facts.known.get(&target);
            if let Some(id) = known.and_then(|t| t.id) {
                voided.push((row.who.officer_id, "record", id));
            }
            if let Some(t) = known.filter(|t| t.kind == "repayment") {
                if let (Some(now), Some(loan)) = (t.worker_officer.filter(|&o| o != row.who.officer_id), t.loan_id) {
                    moved_loans.insert((now, loan));
                }
            }
            // A void of a reversal request: its receipt waits again.
            if known.is_some_and(|t| t.kind == "reversal_request") {
                voided_requests.push(target);
            }
            // A gift voided frees its worker and the allocation.
            if let Some(t) = known.filter(|t| t.kind == "gift_handout") {
                if let Some(k) = t.campaign_id {
                    campaigns.insert((row.who.officer_id, k));
                    // The worker moved to another officer since: hers too.
                    if let Some(now) = t.worker_officer.filter(|&o| o != row.who.officer_id) {
                        campaigns.insert((now, k));
                    }
                }
            }
        }
    }
    // Those on a receipt of a worker moved since: the loan goes to the
    // worker's officer again (rare: read only then).
    for chunk in voided_requests.chunks(<DB as Lists>::chunk_len()) {
        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "SELECT DISTINCT w.officer_id, t.loan_id FROM sync_records q
                 JOIN sync_records t ON t.client_id = q.target_client_id
                 JOIN loans l ON l.id = t.loan_id JOIN workers w ON w.id = l.worker_id
             WHERE t.kind = 'repayment' AND w.officer_id <> t.officer_id AND ",
        );
        <DB as Lists>::uuids(&mut qb, "q.client_id", chunk);
        moved_loans.extend(qb.build_query_as::<(i64, i64)>().fetch_all(&mut *c).await?);
    }
    campaigns.extend(facts.released.iter().copied());
    let mut feed: Vec<(i64, &'static str, i64)> =
        first.into_values().map(|(officer, id)| (officer, "batch", id)).collect();
    feed.extend(distinct(campaigns).into_iter().map(|(officer, k)| (officer, "campaign", k)));
    feed.extend(voided);
    feed.extend(distinct(moved_loans).into_iter().map(|(officer, l)| (officer, "loan", l)));
    feed.sort_unstable_by_key(|&(officer, entity, id)| (entity, officer, id));
    append_changes(c, &feed).await?;
    audit_append_all(c, &audit, now).await?;
    tracing::debug!(
        target: "sotay_server::uploads",
        batches = jobs.len(),
        records = rows.len(),
        replays = ?replays,
        facts = ?(read - replays),
        judge = ?(judged - read),
        write = ?(started.elapsed() - judged),
        "upload group judged and written, not yet committed"
    );
    Ok(out)
}

/// The answer to a record stored before (by an earlier batch, or earlier in
/// this one): a duplicate when it is the same record and was accepted, its
/// stored rejection otherwise, a conflict when the id came with other content.
fn stored_result(client_id: uuid::Uuid, s: &StoredRecord, hash: &str) -> UploadResult {
    if s.body_hash != hash {
        UploadResult {
            client_id,
            outcome: UploadOutcome::Rejected,
            code: Some("conflict".into()),
            message_vi: Some("Mã bản ghi này đã được dùng cho một nội dung khác; bản ghi không được lưu".into()),
            message_en: Some("this record id was already used for other content; the record was not stored".into()),
        }
    } else if s.status == "accepted" {
        UploadResult { client_id, outcome: UploadOutcome::Duplicate, code: None, message_vi: None, message_en: None }
    } else {
        UploadResult {
            client_id,
            outcome: UploadOutcome::Rejected,
            code: s.code.clone(),
            message_vi: s.message_vi.clone(),
            message_en: s.message_en.clone(),
        }
    }
}

/// An answered upload's line in the audit log.
fn upload_audit(job: &super::UploadJob<'_>, response: &UploadResponse) -> super::AuditEntry {
    let (who, batch) = (job.who, &job.batch.batch);
    let count = |o: UploadOutcome| response.results.iter().filter(|r| r.outcome == o).count();
    super::AuditEntry {
        actor_user_id: Some(who.officer_id),
        actor_username: who.username.clone(),
        action: "upload",
        object_type: "sync_batch",
        object_id: batch.batch_id.to_string(),
        device_id: Some(who.device_id.clone()),
        ip: who.ip.clone(),
        detail: serde_json::json!({
            "records": batch.records.len(),
            "accepted": count(UploadOutcome::Accepted),
            "duplicate": count(UploadOutcome::Duplicate),
            "rejected": count(UploadOutcome::Rejected),
            "device_revoked": who.device_revoked,
        }),
    }
}

/// Lines of the audit log, one multi-row INSERT.
pub async fn audit_append_all(c: &mut Conn, entries: &[super::AuditEntry], now: DateTime<Utc>) -> DbResult<()> {
    let columns = [
        Column::Time(vec![now; entries.len()]),
        Column::OptInt(entries.iter().map(|e| e.actor_user_id).collect()),
        Column::Text(entries.iter().map(|e| e.actor_username.clone()).collect()),
        Column::Text(entries.iter().map(|e| e.action.to_string()).collect()),
        Column::Text(entries.iter().map(|e| e.object_type.to_string()).collect()),
        Column::Text(entries.iter().map(|e| e.object_id.clone()).collect()),
        Column::OptText(entries.iter().map(|e| e.device_id.clone()).collect()),
        Column::OptText(entries.iter().map(|e| e.ip.clone()).collect()),
        Column::Text(entries.iter().map(|e| e.detail.to_string()).collect()),
    ];
    insert_all(
        c,
        "INSERT INTO audit_log (at, actor_user_id, actor_username, action, object_type, object_id, device_id, ip, detail) ",
        &columns,
    )
    .await
}

/// What is stored of a record already uploaded.
#[derive(sqlx::FromRow)]
struct StoredRecord {
    body_hash: String,
    status: String,
    code: Option<String>,
    message_vi: Option<String>,
    message_en: Option<String>,
}

/// The stored records among `ids`, by client id.
async fn stored_records(c: &mut Conn, ids: &[uuid::Uuid]) -> DbResult<UMap<uuid::Uuid, StoredRecord>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        client_id: uuid::Uuid,
        #[sqlx(flatten)]
        stored: StoredRecord,
    }
    let mut out = UMap::with_capacity(ids.len());
    for chunk in ids.chunks(<DB as Lists>::chunk_len()) {
        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "SELECT client_id, body_hash, status, code, message_vi, message_en FROM sync_records WHERE ",
        );
        <DB as Lists>::uuids(&mut qb, "client_id", chunk);
        for row in qb.build_query_as::<Row>().fetch_all(&mut *c).await? {
            out.insert(row.client_id, row.stored);
        }
    }
    Ok(out)
}

/// Sorted, without repeats.
fn distinct<T: Ord + Clone>(values: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut v: Vec<T> = values.into_iter().collect();
    v.sort_unstable();
    v.dedup();
    v
}

#[derive(sqlx::FromRow)]
struct WorkerFactsRow {
    uid: uuid::Uuid,
    id: i64,
    officer_id: i64,
    union_member: bool,
    hardship: bool,
    boarding_house_id: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct LoanFactsRow {
    uid: uuid::Uuid,
    id: i64,
    worker_id: i64,
    officer_id: i64,
    worker_uid: uuid::Uuid,
    status: String,
    disbursed_on: NaiveDate,
}

#[derive(sqlx::FromRow)]
struct CampaignFactsRow {
    uid: uuid::Uuid,
    id: i64,
    eligibility: String,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
}

/// A stored record that a void or a reversal request of the batch names.
#[derive(sqlx::FromRow)]
struct TargetFactsRow {
    id: i64,
    client_id: uuid::Uuid,
    officer_id: i64,
    kind: String,
    target_client_id: Option<uuid::Uuid>,
    loan_id: Option<i64>,
    campaign_id: Option<i64>,
    worker_id: Option<i64>,
    amount: Option<i64>,
    live: bool,
    pending: bool,
    reversed: bool,
    held_by: Option<String>,
    other_branch: Option<String>,
    worker_officer: Option<i64>,
}

/// What the rules know of a record a void or a reversal request may name:
/// a stored one, or one accepted earlier in this batch.
struct Known {
    /// Its row's id, when stored by an earlier upload.
    id: Option<i64>,
    officer_id: i64,
    kind: &'static str,
    target: Option<uuid::Uuid>,
    loan_id: Option<i64>,
    campaign_id: Option<i64>,
    worker_id: Option<i64>,
    amount: Option<i64>,
    live: bool,
    pending: bool,
    reversed: bool,
    /// A gift HELD IN QUARANTINE: the device it came from.
    held_by: Option<String>,
    /// The branch whose books hold it, when its officer works at another
    /// one now (moved since): its name.
    other_branch: Option<String>,
    /// Its worker's officer now (another than its own when the worker
    /// moved since).
    worker_officer: Option<i64>,
}

/// A loan's book as the repayment rule sees it.
struct Book {
    status: LoanStatus,
    /// Paid out in error and taken back at the branch.
    cancelled: bool,
    /// What its installments still owe (principal and interest).
    owed: i64,
    /// The sum of the PENDING repayments on the loan.
    pending: i64,
}

impl Book {
    /// A reversal request of a posted receipt of `amount` on this loan
    /// (`sign` -1) gives it back to what can be collected, or its void (+1)
    /// takes it again; a loan the receipt closed opens again.
    fn give_back(&mut self, amount: i64, sign: i64) {
        self.pending += sign * amount;
        if matches!(self.status, LoanStatus::Closed) && self.owed - self.pending > 0 {
            self.status = LoanStatus::Active;
        }
    }
}

/// Everything the rules need about the batch's records, read with one query
/// per kind of fact, then kept up to date as the batch's records are
/// accepted one after the other.
#[derive(Default)]
struct Facts {
    workers: UMap<uuid::Uuid, WorkerFactsRow>,
    loans: UMap<uuid::Uuid, LoanFactsRow>,
    books: UMap<i64, Book>,
    /// Receipt numbers of accepted records.
    receipts: USet<String>,
    campaigns: UMap<uuid::Uuid, CampaignFactsRow>,
    /// Each uploading officer's quota per campaign, by (officer, campaign).
    quotas: UMap<(i64, i64), i64>,
    /// Handouts that count (LIVE_HANDOUT) of each uploading officer per
    /// campaign, by (officer, campaign).
    given: UMap<(i64, i64), i64>,
    /// Handouts that count (LIVE_HANDOUT) per (campaign, worker).
    received: UMap<(i64, i64), i64>,
    /// Gifts kept in quarantine in this upload, which hold their worker and
    /// allocation until a void from their phone: (officer, device,
    /// campaign, worker) by record.
    held: UMap<uuid::Uuid, (i64, String, i64, i64)>,
    /// (officer, campaign) of gifts held in quarantine that a void from
    /// their phone freed in this upload: the officer's phones hear it.
    released: USet<(i64, i64)>,
    /// Records that a void or a reversal request may name.
    known: UMap<uuid::Uuid, Known>,
    /// PENDING reversal requests per target.
    reversals: UMap<uuid::Uuid, USet<uuid::Uuid>>,
    /// Reversal requests accepted in this upload that gave their loan back
    /// what their receipt took (see [`Facts::take_back`]).
    taken_back: USet<uuid::Uuid>,
    /// Records whose posted entry a reversal asked for at the branch waits
    /// to be decided on.
    branch_asked: USet<uuid::Uuid>,
    /// Reversal requests stored earlier, waiting for review, that gave
    /// their loan back what their receipt took: the loan and the amount, by
    /// request (see [`Facts::load`]).
    stored_taken_back: UMap<uuid::Uuid, (i64, i64)>,
    /// The moves of the batch's workers made after its oldest record
    /// (0042), oldest first: (moved at, from officer) by worker. What an
    /// officer recorded about a worker while they were hers is hers.
    moves: UMap<i64, Vec<(DateTime<Utc>, i64)>>,
    /// The officer now of each worker in `moves`: her phones hear of the
    /// gifts the worker was given before the move.
    now_officer: UMap<i64, i64>,
}

impl Facts {
    /// Reads what the rules need to judge `records` (those not stored yet)
    /// uploaded by `officers` (sorted, without repeats).
    async fn load(c: &mut Conn, officers: &[i64], records: &[&UploadRecord]) -> DbResult<Facts> {
        let mut f = Facts::default();
        let (mut worker_uids, mut loan_uids, mut receipts, mut campaign_uids, mut targets) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut gift_workers = Vec::new();
        let mut reversal_targets = Vec::new();
        for r in records {
            match &r.body {
                RecordBody::Visit(v) => worker_uids.push(v.worker_id),
                RecordBody::Repayment(p) => {
                    loan_uids.push(p.loan_id);
                    receipts.push(p.receipt_no.clone());
                }
                RecordBody::GiftHandout(g) => {
                    worker_uids.push(g.worker_id);
                    gift_workers.push(g.worker_id);
                    campaign_uids.push(g.campaign_id);
                }
                RecordBody::Void(v) => {
                    targets.push(v.target_id);
                    reversal_targets.push(v.target_id);
                }
                RecordBody::ReversalRequest(q) => {
                    targets.push(q.target_id);
                    reversal_targets.push(q.target_id);
                }
            }
        }
        let (worker_uids, loan_uids, receipts, campaign_uids, targets, reversal_targets) = (
            distinct(worker_uids),
            distinct(loan_uids),
            distinct(receipts),
            distinct(campaign_uids),
            distinct(targets),
            distinct(reversal_targets),
        );
        let n = <DB as Lists>::chunk_len();

        for chunk in worker_uids.chunks(n) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "SELECT uid, id, officer_id, union_member, hardship, boarding_house_id FROM workers WHERE ",
            );
            <DB as Lists>::uuids(&mut qb, "uid", chunk);
            for w in qb.build_query_as::<WorkerFactsRow>().fetch_all(&mut *c).await? {
                f.workers.insert(w.uid, w);
            }
        }

        for chunk in loan_uids.chunks(n) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                concat!(
                    "SELECT l.uid, l.id, w.id AS worker_id, w.officer_id, w.uid AS worker_uid, ",
                    loan_status!(),
                    " AS status, l.disbursed_on FROM loans l JOIN workers w ON w.id = l.worker_id WHERE "
                ),
            );
            <DB as Lists>::uuids(&mut qb, "l.uid", chunk);
            for l in qb.build_query_as::<LoanFactsRow>().fetch_all(&mut *c).await? {
                f.loans.insert(l.uid, l);
            }
        }
        // Only an officer's own loans can take a repayment from their phone
        // (or the loans of a worker moved away from her since she took it).
        let uploading = |officer: i64| officers.binary_search(&officer).is_ok();
        // The moves of the batch's workers since its oldest record: who had
        // each worker when each record was made. (Read by the time of the
        // move, from its index: an upload with no worker moved since its
        // records were made reads nothing.)
        if let Some(oldest) = records.iter().map(|r| r.recorded_at).min() {
            let since = oldest;
            let mine: Vec<i64> = distinct(
                f.workers.values().map(|w| w.id).chain(f.loans.values().map(|l| l.worker_id)),
            );
            for chunk in mine.chunks(n) {
                // A reorganisation's thousands of moves are not read for
                // the batch's few workers.
                let mut qb = sqlx::QueryBuilder::<DB>::new(
                    "SELECT worker_id, moved_at, from_officer_id FROM worker_moves WHERE moved_at > ",
                );
                qb.push_bind(since).push(" AND ");
                <DB as Lists>::ints(&mut qb, "worker_id", chunk);
                qb.push(" ORDER BY worker_id, moved_at, id");
                let moves: Vec<(i64, DateTime<Utc>, i64)> = qb.build_query_as().fetch_all(&mut *c).await?;
                for (worker, at, from) in moves {
                    f.moves.entry(worker).or_default().push((at, from));
                }
            }
        }
        for (worker, officer) in f
            .workers
            .values()
            .map(|w| (w.id, w.officer_id))
            .chain(f.loans.values().map(|l| (l.worker_id, l.officer_id)))
        {
            if f.moves.contains_key(&worker) {
                f.now_officer.insert(worker, officer);
            }
        }
        let moved_from_uploader = |l: &LoanFactsRow| {
            f.moves.get(&l.worker_id).is_some_and(|moves| moves.iter().any(|&(_, from)| uploading(from)))
        };
        let loan_ids = distinct(
            f.loans.values().filter(|l| uploading(l.officer_id) || moved_from_uploader(l)).map(|l| l.id),
        );
        for l in f.loans.values().filter(|l| uploading(l.officer_id) || moved_from_uploader(l)) {
            let status = if l.status == "active" { LoanStatus::Active } else { LoanStatus::Closed };
            f.books.insert(l.id, Book { status, cancelled: l.status == "cancelled", owed: 0, pending: 0 });
        }
        for chunk in loan_ids.chunks(n) {
            // Whether a repayment is accepted depends on the schedule only
            // through what it still owes (`rules::check_collection`): one
            // sum a loan, not its installments. Paid installments add
            // nothing: the unpaid ones are read from the covering partial
            // index `installments_unpaid_loan` alone (0008), not every
            // installment's row (a loan with none unpaid owes 0).
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "SELECT loan_id, CAST(SUM(principal_due - principal_paid + interest_due - interest_paid) AS BIGINT)
                 FROM installments WHERE (principal_paid < principal_due OR interest_paid < interest_due) AND ",
            );
            <DB as Lists>::ints(&mut qb, "loan_id", chunk);
            qb.push(" GROUP BY loan_id");
            for (loan, owed) in qb.build_query_as::<(i64, i64)>().fetch_all(&mut *c).await? {
                if let Some(b) = f.books.get_mut(&loan) {
                    b.owed = owed;
                }
            }
            // Collections already accepted from any phone, not yet decided
            // (approved ones are in the installments already), less the
            // ones a live void took back: PENDING, summed per loan from the
            // undecided ones alone.
            let mut qb = sqlx::QueryBuilder::<DB>::new("SELECT r.loan_id, CAST(SUM(r.amount) AS BIGINT) ");
            qb.push(PENDING_REPAYMENTS).push(" AND ");
            <DB as Lists>::ints(&mut qb, "r.loan_id", chunk);
            qb.push(" GROUP BY r.loan_id");
            for (loan, sum) in qb.build_query_as::<(i64, i64)>().fetch_all(&mut *c).await? {
                if let Some(b) = f.books.get_mut(&loan) {
                    b.pending = sum;
                }
            }
        }

        // A receipt (posted already, or waiting for review) whose reversal
        // request, sent in an earlier upload, waits for review: a
        // repayment after it on the
        // loan (the right amount entered again) may take what that receipt
        // took, as the books will owe once both are approved, just as when
        // both come in one upload (`Facts::take_back`). Looked for only on
        // the loans this upload's repayments would otherwise take more of
        // than they have left, so an ordinary upload reads nothing more.
        let mut asked: UMap<uuid::Uuid, i64> = UMap::default();
        for r in records {
            if let RecordBody::Repayment(p) = &r.body {
                *asked.entry(p.loan_id).or_insert(0) += p.amount.get();
            }
        }
        let tight = distinct(asked.iter().filter_map(|(uid, sum)| {
            let l = f.loans.get(uid)?;
            let b = f.books.get(&l.id)?;
            (matches!(b.status, LoanStatus::Closed) || *sum > b.owed - b.pending).then_some(l.id)
        }));
        for chunk in tight.chunks(n) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(concat!(
                "SELECT q.client_id, t.loan_id, t.amount FROM sync_records t
                 JOIN sync_records q ON q.target_client_id = t.client_id AND q.kind = 'reversal_request'
                 WHERE t.kind = 'repayment' AND t.status = 'accepted' AND t.amount IS NOT NULL
                 AND NOT EXISTS (SELECT 1 FROM record_reviews td WHERE td.record_id = t.id AND td.decision <> 'approved')
                 AND ",
                no_live_void_sql!(t),
                " AND NOT EXISTS (SELECT 1 FROM journal_entries je JOIN journal_entries jx ON jx.reverses = je.id WHERE je.record_id = t.id)
                 AND q.status = 'accepted' AND NOT EXISTS (SELECT 1 FROM record_reviews qd WHERE qd.record_id = q.id)
                 AND ",
                no_live_void_sql!(q),
                " AND "
            ));
            <DB as Lists>::ints(&mut qb, "t.loan_id", chunk);
            for (request, loan, amount) in qb.build_query_as::<(uuid::Uuid, i64, i64)>().fetch_all(&mut *c).await? {
                if let Some(book) = f.books.get_mut(&loan) {
                    book.give_back(amount, -1);
                    f.stored_taken_back.insert(request, (loan, amount));
                }
            }
        }

        for chunk in receipts.chunks(n) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "SELECT receipt_no FROM sync_records WHERE status = 'accepted' AND receipt_no IS NOT NULL AND ",
            );
            <DB as Lists>::texts(&mut qb, "receipt_no", chunk);
            f.receipts.extend(qb.build_query_scalar::<String>().fetch_all(&mut *c).await?);
        }

        for chunk in campaign_uids.chunks(n) {
            let mut qb =
                sqlx::QueryBuilder::<DB>::new("SELECT uid, id, eligibility, starts_on, ends_on FROM campaigns WHERE ");
            <DB as Lists>::uuids(&mut qb, "uid", chunk);
            for k in qb.build_query_as::<CampaignFactsRow>().fetch_all(&mut *c).await? {
                f.campaigns.insert(k.uid, k);
            }
        }
        let campaign_ids = distinct(f.campaigns.values().map(|k| k.id));
        // Gift counts look at the group's campaigns and the group's gift workers.
        let gift_worker_ids = distinct(gift_workers.iter().filter_map(|u| f.workers.get(u)).map(|w| w.id));
        for chunk in campaign_ids.chunks(n) {
            for by in officers.chunks(n.saturating_sub(chunk.len()).max(1)) {
                let mut qb = sqlx::QueryBuilder::<DB>::new(
                    "SELECT officer_id, campaign_id, quota FROM campaign_officer_quotas WHERE ",
                );
                <DB as Lists>::ints(&mut qb, "officer_id", by);
                qb.push(" AND ");
                <DB as Lists>::ints(&mut qb, "campaign_id", chunk);
                for (officer, k, quota) in qb.build_query_as::<(i64, i64, i64)>().fetch_all(&mut *c).await? {
                    f.quotas.insert((officer, k), quota);
                }

                let mut qb = sqlx::QueryBuilder::<DB>::new(
                    "SELECT r.officer_id, r.campaign_id, COUNT(*) FROM sync_records r WHERE r.kind = 'gift_handout' AND ",
                );
                <DB as Lists>::ints(&mut qb, "r.officer_id", by);
                qb.push(" AND ");
                <DB as Lists>::ints(&mut qb, "r.campaign_id", chunk);
                qb.push(" AND ").push(LIVE_HANDOUT);
                qb.push(" GROUP BY r.officer_id, r.campaign_id");
                for (officer, k, count) in qb.build_query_as::<(i64, i64, i64)>().fetch_all(&mut *c).await? {
                    f.given.insert((officer, k), count);
                }
            }

            for workers in gift_worker_ids.chunks(n.saturating_sub(chunk.len()).max(1)) {
                let mut qb = sqlx::QueryBuilder::<DB>::new(
                    "SELECT r.campaign_id, r.worker_id, COUNT(*) FROM sync_records r WHERE r.kind = 'gift_handout' AND ",
                );
                <DB as Lists>::ints(&mut qb, "r.campaign_id", chunk);
                qb.push(" AND ");
                <DB as Lists>::ints(&mut qb, "r.worker_id", workers);
                qb.push(" AND ").push(LIVE_HANDOUT).push(" GROUP BY r.campaign_id, r.worker_id");
                for (k, w, count) in qb.build_query_as::<(i64, i64, i64)>().fetch_all(&mut *c).await? {
                    f.received.insert((k, w), count);
                }
            }
        }

        for chunk in targets.chunks(n) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "SELECT r.id, r.client_id, r.officer_id, r.kind, r.target_client_id, r.loan_id, r.campaign_id, r.worker_id, r.amount, ",
            );
            qb.push(LIVE).push(" AS live, ").push(PENDING).push(" AS pending, ").push(REVERSED);
            qb.push(" AS reversed, CASE WHEN r.kind = 'gift_handout' AND ")
                .push(HELD_IN_QUARANTINE)
                .push(" THEN r.device_id END AS held_by, ")
                .push(
                    "(SELECT br.name FROM sync_batches b JOIN branches br ON br.id = b.branch_id
                       JOIN users u ON u.id = r.officer_id
                      WHERE b.batch_id = r.batch_id AND b.branch_id <> u.branch_id) AS other_branch,
                     (SELECT w.officer_id FROM workers w WHERE w.id = r.worker_id) AS worker_officer
                     FROM sync_records r WHERE ",
                );
            <DB as Lists>::uuids(&mut qb, "r.client_id", chunk);
            for t in qb.build_query_as::<TargetFactsRow>().fetch_all(&mut *c).await? {
                let kind = sotay_core::wire::RecordKind::parse(&t.kind).map_or("", |k| k.as_str());
                f.known.insert(
                    t.client_id,
                    Known {
                        id: Some(t.id),
                        officer_id: t.officer_id,
                        kind,
                        target: t.target_client_id,
                        loan_id: t.loan_id,
                        campaign_id: t.campaign_id,
                        worker_id: t.worker_id,
                        amount: t.amount,
                        live: t.live,
                        pending: t.pending,
                        reversed: t.reversed,
                        held_by: t.held_by,
                        other_branch: t.other_branch,
                        worker_officer: t.worker_officer,
                    },
                );
            }
        }
        for chunk in reversal_targets.chunks(n) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "SELECT s.client_id FROM branch_reversals b JOIN journal_entries e ON e.id = b.entry_id
                 JOIN sync_records s ON s.id = e.record_id
                 WHERE NOT EXISTS (SELECT 1 FROM branch_reversal_decisions d WHERE d.reversal_id = b.id) AND ",
            );
            <DB as Lists>::uuids(&mut qb, "s.client_id", chunk);
            f.branch_asked.extend(qb.build_query_scalar::<uuid::Uuid>().fetch_all(&mut *c).await?);
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "SELECT r.target_client_id, r.client_id FROM sync_records r WHERE r.kind = 'reversal_request' AND ",
            );
            <DB as Lists>::uuids(&mut qb, "r.target_client_id", chunk);
            qb.push(" AND ").push(PENDING);
            for (target, request) in qb.build_query_as::<(uuid::Uuid, uuid::Uuid)>().fetch_all(&mut *c).await? {
                f.reversals.entry(target).or_default().insert(request);
            }
        }
        Ok(f)
    }

    /// Whether a record made at `at` about the worker is `officer`'s to
    /// send: the worker is hers now (`now_officer`), or was hers when she
    /// made it — the officer they were moved away from by the first move
    /// after `at`.
    fn was_theirs(&self, worker: i64, now_officer: i64, officer: i64, at: DateTime<Utc>) -> bool {
        let then = self
            .moves
            .get(&worker)
            .and_then(|moves| moves.iter().find(|&&(moved_at, _)| moved_at > at))
            .map_or(now_officer, |&(_, from)| from);
        now_officer == officer || then == officer
    }

    /// A record refused as not the officer's (`v`): when the worker was
    /// moved away from her before the time the record says, the refusal
    /// says when, so she knows it was the move (and not her phone).
    fn not_hers(&self, v: RuleViolation, worker: Option<i64>, officer: i64, at: DateTime<Utc>) -> Verdict {
        let mut verdict = Verdict::violation(v);
        let moved = worker
            .and_then(|w| self.moves.get(&w))
            .and_then(|moves| moves.iter().rfind(|&&(moved_at, from)| from == officer && moved_at <= at));
        if let Some(&(moved_at, _)) = moved {
            use sotay_core::domain::time::format_datetime;
            let (moved_at, at) = (format_datetime(moved_at), format_datetime(at));
            verdict.message_vi = verdict.message_vi.map(|m| {
                format!("{m}. Người lao động đã được chuyển sang cán bộ khác lúc {moved_at}, trước giờ ghi bản ghi ({at})")
            });
            verdict.message_en = verdict
                .message_en
                .map(|m| format!("{m}. The worker was moved to another officer at {moved_at}, before the record's time ({at})"));
        }
        verdict
    }

    /// Judges one record against what is stored and what the batch's
    /// earlier records did.
    fn judge(&mut self, who: &Uploader, batch: &UploadBatch, record: &UploadRecord, now: DateTime<Utc>) -> Verdict {
        if record.device_id != batch.device_id {
            return Verdict::rejected(
                "device_mismatch",
                "Bản ghi thuộc thiết bị khác với lô tải lên".into(),
                "the record belongs to another device than its batch".into(),
            );
        }
        if record.recorded_at > now + chrono::Duration::minutes(FUTURE_TOLERANCE_MINUTES) {
            use sotay_core::domain::time::format_datetime;
            let (at, received) = (format_datetime(record.recorded_at), format_datetime(now));
            return Verdict::rejected(
                "recorded_in_future",
                format!(
                    "Bản ghi mang giờ {at}, sau giờ máy chủ nhận nó ({received}): đồng hồ điện thoại chạy nhanh hoặc ngày giờ nhập sai. Bản ghi không được nhận; nếu việc này có thật, hãy chỉnh đồng hồ (bật ngày giờ tự động) rồi ghi lại với giờ đúng"
                ),
                format!(
                    "the record says {at}, after the server's time when it arrived ({received}): the phone's clock runs fast or the time typed is wrong. The record is refused; if it happened, set the clock right (automatic date and time) and record it again with the right time"
                ),
            );
        }
        if let Err(v) = record.body.check_text_lengths() {
            return Verdict::violation(v);
        }
        match &record.body {
            RecordBody::Visit(v) => {
                let Some(w) = self
                    .workers
                    .get(&v.worker_id)
                    .filter(|w| self.was_theirs(w.id, w.officer_id, who.officer_id, record.recorded_at))
                else {
                    let known = self.workers.get(&v.worker_id).map(|w| w.id);
                    return self.not_hers(RuleViolation::WorkerNotInPortfolio, known, who.officer_id, record.recorded_at);
                };
                Verdict { worker_id: Some(w.id), ..Verdict::accepted() }
            }
            RecordBody::Repayment(p) => {
                let Some(loan) = self.loans.get(&p.loan_id) else {
                    return Verdict::violation(RuleViolation::LoanNotInPortfolio);
                };
                if loan.worker_uid != p.worker_id {
                    return Verdict::violation(RuleViolation::LoanNotInPortfolio);
                }
                if !self.was_theirs(loan.worker_id, loan.officer_id, who.officer_id, record.recorded_at) {
                    return self.not_hers(
                        RuleViolation::LoanNotInPortfolio,
                        Some(loan.worker_id),
                        who.officer_id,
                        record.recorded_at,
                    );
                }
                let expected_prefix = format!("{}-", who.device_code);
                if !p.receipt_no.starts_with(&expected_prefix) {
                    return Verdict::rejected(
                        "receipt_invalid",
                        format!("Số phiếu thu {} không thuộc thiết bị này ({})", p.receipt_no, who.device_code),
                        format!("receipt number {} does not belong to this device ({})", p.receipt_no, who.device_code),
                    );
                }
                if self.receipts.contains(&p.receipt_no) {
                    return Verdict::rejected(
                        "receipt_duplicate",
                        format!("Số phiếu thu {} đã được dùng", p.receipt_no),
                        format!("receipt number {} was already used", p.receipt_no),
                    );
                }
                let (loan_id, worker_id) = (loan.id, loan.worker_id);
                let on = sotay_core::domain::time::local_date(record.recorded_at);
                if let Err(v) = rules::check_recorded_after_disbursement(on, loan.disbursed_on) {
                    return Verdict { loan_id: Some(loan_id), worker_id: Some(worker_id), ..Verdict::violation(v) };
                }
                let Some(book) = self.books.get_mut(&loan_id) else {
                    return Verdict::violation(RuleViolation::LoanNotInPortfolio);
                };
                let amount = p.amount.get();
                if book.cancelled {
                    return Verdict {
                        loan_id: Some(loan_id),
                        worker_id: Some(worker_id),
                        ..Verdict::rejected(
                            "loan_cancelled",
                            "Khoản vay này đã bị hủy giải ngân tại chi nhánh (giải ngân nhầm): không thu tiền trên khoản vay này; hãy trả lại tiền cho người lao động và báo giám sát chi nhánh".into(),
                            "this loan was taken back at the branch (paid out in error): nothing is collected on it; give the money back to the worker and tell the branch supervisor".into(),
                        )
                    };
                }
                // Below 0 when the pending collections already take more
                // than the loan owes (a repayment at the branch came in
                // between): nothing is left to collect.
                let owed = book.owed - book.pending;
                // (A repayment under 1.000 ₫ is refused on the phone as a
                // slip of the keyboard; one that reached here was printed
                // and handed over, and the phone may have seen it pay the
                // loan off: it is flagged for the supervisor who counts the
                // cash, not refused.)
                match rules::check_collection(book.status, owed, amount) {
                    Ok(_) => Verdict {
                        worker_id: Some(worker_id),
                        loan_id: Some(loan_id),
                        amount: Some(amount),
                        receipt_no: Some(p.receipt_no.clone()),
                        ..Verdict::accepted()
                    },
                    // Above the balance because of collections from other
                    // receipts waiting for review: said, so the officer
                    // knows why the phone showed more.
                    // The loan's own balance is said as it is (what stays
                    // true if those receipts are rejected), apart from
                    // what the others take of it.
                    Err(v @ RuleViolation::AboveOutstanding { .. }) if book.pending > 0 => {
                        use sotay_core::domain::money::format_vnd;
                        let (paying, owed) = (format_vnd(amount), format_vnd(book.owed));
                        let (waiting, left) = (format_vnd(book.pending), format_vnd((book.owed - book.pending).max(0)));
                        Verdict {
                            loan_id: Some(loan_id),
                            worker_id: Some(worker_id),
                            ..Verdict::rejected(
                                v.code(),
                                format!(
                                    "Số tiền {paying} lớn hơn số còn thu được trên khoản vay, {left}: khoản vay còn phải trả {owed} (gốc và lãi theo lịch) và các phiếu thu khác trên khoản vay đang chờ giám sát duyệt {waiting}"
                                ),
                                format!(
                                    "the amount {paying} is above what can still be collected on the loan, {left}: the loan has {owed} left to pay (principal and scheduled interest) and other receipts on it waiting for the supervisor's review take {waiting}"
                                ),
                            )
                        }
                    }
                    Err(v) => Verdict { loan_id: Some(loan_id), worker_id: Some(worker_id), ..Verdict::violation(v) },
                }
            }
            RecordBody::GiftHandout(g) => {
                if g.signature_sha256.as_deref().is_some_and(|h| !sotay_core::domain::gifts::is_sha256_hex(h)) {
                    return Verdict::rejected(
                        "invalid_signature_hash",
                        "Mã SHA-256 của ảnh chữ ký không hợp lệ (cần 64 chữ số hex thường)".into(),
                        "signature_sha256: must be 64 lowercase hex digits".into(),
                    );
                }
                let Some(w) = self
                    .workers
                    .get(&g.worker_id)
                    .filter(|w| self.was_theirs(w.id, w.officer_id, who.officer_id, record.recorded_at))
                else {
                    let known = self.workers.get(&g.worker_id).map(|w| w.id);
                    return self.not_hers(RuleViolation::WorkerNotInPortfolio, known, who.officer_id, record.recorded_at);
                };
                let Some(k) = self.campaigns.get(&g.campaign_id) else {
                    return Verdict::rejected(
                        "campaign_unknown",
                        "Không có chương trình quà này".into(),
                        "there is no such campaign".into(),
                    );
                };
                let received = self.received.get(&(k.id, w.id)).copied().unwrap_or(0);
                let quota = self.quotas.get(&(who.officer_id, k.id)).copied().unwrap_or(0);
                let given = self.given.get(&(who.officer_id, k.id)).copied().unwrap_or(0);
                let facts = CampaignFacts {
                    eligibility: Eligibility::parse(&k.eligibility).unwrap_or(Eligibility::All),
                    starts_on: k.starts_on,
                    ends_on: k.ends_on,
                    remaining: quota - given,
                    allocation: quota,
                };
                let worker = WorkerFacts {
                    union_member: w.union_member,
                    hardship: w.hardship,
                    lives_in_boarding_house: w.boarding_house_id.is_some(),
                };
                let on = sotay_core::domain::time::local_date(record.recorded_at);
                match rules::check_gift(&facts, &worker, received > 0, on) {
                    Ok(()) => Verdict { worker_id: Some(w.id), campaign_id: Some(k.id), ..Verdict::accepted() },
                    Err(v) => Verdict { worker_id: Some(w.id), campaign_id: Some(k.id), ..Verdict::violation(v) },
                }
            }
            RecordBody::Void(v) => {
                let target = self.known.get(&v.target_id).filter(|t| t.officer_id == who.officer_id);
                if target.is_some() && self.reversals.get(&v.target_id).is_some_and(|s| !s.is_empty()) {
                    return Verdict::rejected(
                        "void_reversal_requested",
                        "Không thể hủy: bản ghi đang có đề nghị đảo chờ giám sát duyệt".into(),
                        "cannot void: a reversal request of the record waits for the supervisor's review".into(),
                    );
                }
                match target {
                    Some(t) if t.pending => Verdict { target: Some(v.target_id), ..Verdict::accepted() },
                    Some(t) if t.live && t.kind == "visit" => Verdict::rejected(
                        "void_after_approval",
                        "Lượt thăm đã được duyệt trước khi lệnh hủy đến nên vẫn được tính; báo giám sát chi nhánh nếu cần"
                            .into(),
                        "the visit was approved before the void arrived, so it still counts; tell the branch supervisor if needed"
                            .into(),
                    ),
                    Some(t) if t.live => Verdict::rejected(
                        "void_after_approval",
                        "Bản ghi đã được duyệt nên không hủy được; hãy đề nghị đảo bút toán".into(),
                        "the record is already approved and cannot be voided; request a reversal instead".into(),
                    ),
                    _ => Verdict::rejected(
                        "void_target_invalid",
                        "Không thể hủy: bản ghi gốc không có, không phải của bạn, đã bị từ chối hoặc đã hủy".into(),
                        "cannot void: the record is unknown, not yours, rejected or already voided".into(),
                    ),
                }
            }
            RecordBody::ReversalRequest(q) => {
                let mine = self.known.get(&q.target_id).filter(|t| t.officer_id == who.officer_id);
                if mine.is_some() && self.branch_asked.contains(&q.target_id) {
                    return Verdict::rejected(
                        "reversal_pending",
                        "Chi nhánh đã đề nghị đảo bản ghi này, đang chờ duyệt: không cần đề nghị nữa; hỏi giám sát chi nhánh".into(),
                        "the branch already asked to reverse this record, waiting for approval: no need to ask again; ask the branch supervisor".into(),
                    );
                }
                if let Some(branch) = mine.and_then(|t| t.other_branch.as_deref()) {
                    return Verdict::rejected(
                        "reversal_other_branch",
                        format!(
                            "Bản ghi này thuộc sổ sách của {branch}, nơi bạn làm trước: nhờ giám sát {branch} đảo bút toán"
                        ),
                        format!(
                            "this record is on the books of {branch}, where you worked before: ask {branch}'s supervisor to reverse it"
                        ),
                    );
                }
                if mine.is_some_and(|t| t.live && t.reversed) {
                    return Verdict::rejected(
                        "reversal_target_invalid",
                        "Không thể đề nghị đảo: bản ghi này đã được đảo rồi (tại chi nhánh hoặc theo một đề nghị trước)".into(),
                        "cannot request a reversal: this record was reversed already (at the branch, or on an earlier request)".into(),
                    );
                }
                let requested = self.reversals.get(&q.target_id).is_some_and(|s| !s.is_empty());
                let ok = self.known.get(&q.target_id).is_some_and(|t| {
                    t.officer_id == who.officer_id
                        && t.live
                        && !t.reversed
                        && matches!(t.kind, "repayment" | "gift_handout")
                        && !requested
                });
                if ok {
                    Verdict { target: Some(q.target_id), ..Verdict::accepted() }
                } else {
                    Verdict::rejected(
                        "reversal_target_invalid",
                        "Không thể đề nghị đảo: bản ghi gốc không có, không phải của bạn, đã bị từ chối hoặc đã hủy".into(),
                        "cannot request a reversal: the record is unknown, not yours, rejected or voided".into(),
                    )
                }
            }
        }
    }

    /// What an accepted record changes for the records after it.
    fn accept(&mut self, who: &Uploader, record: &UploadRecord, verdict: &Verdict) {
        let known = Known {
            id: None,
            officer_id: who.officer_id,
            kind: record.body.kind().as_str(),
            target: verdict.target,
            loan_id: verdict.loan_id,
            campaign_id: verdict.campaign_id,
            worker_id: verdict.worker_id,
            amount: verdict.amount,
            live: true,
            pending: true,
            reversed: false,
            held_by: None,
            other_branch: None,
            worker_officer: verdict.worker_id.and_then(|w| self.now_officer.get(&w).copied()),
        };
        match &record.body {
            RecordBody::Visit(_) => {}
            RecordBody::Repayment(p) => {
                self.receipts.insert(p.receipt_no.clone());
                if let (Some(loan), Some(amount)) = (verdict.loan_id, verdict.amount) {
                    if let Some(book) = self.books.get_mut(&loan) {
                        book.pending += amount;
                    }
                }
            }
            RecordBody::GiftHandout(_) => {
                if let (Some(k), Some(w)) = (verdict.campaign_id, verdict.worker_id) {
                    *self.given.entry((who.officer_id, k)).or_insert(0) += 1;
                    *self.received.entry((k, w)).or_insert(0) += 1;
                }
            }
            RecordBody::Void(v) => self.void(v.target_id),
            RecordBody::ReversalRequest(q) => {
                self.reversals.entry(q.target_id).or_default().insert(record.client_id);
                if self.take_back(q.target_id, -1) {
                    self.taken_back.insert(record.client_id);
                }
            }
        }
        self.known.insert(record.client_id, known);
    }

    /// A record kept in quarantine: a gift holds its worker's gift and the
    /// officer's allocation (HELD IN QUARANTINE) until it is settled, and
    /// a void from the same revoked phone frees what its target held.
    fn hold(&mut self, who: &Uploader, record: &UploadRecord, verdict: &Verdict) {
        let ((officer, k, w), sign) = match &record.body {
            RecordBody::GiftHandout(_) => {
                let (Some(k), Some(w)) = (verdict.campaign_id, verdict.worker_id) else { return };
                self.held.insert(record.client_id, (who.officer_id, who.device_id.clone(), k, w));
                ((who.officer_id, k, w), 1)
            }
            RecordBody::Void(v) => match self.held.get(&v.target_id) {
                Some((officer, device, k, w)) if (*officer, device) == (who.officer_id, &who.device_id) => {
                    let keys = (*officer, *k, *w);
                    self.held.remove(&v.target_id);
                    (keys, -1)
                }
                Some(_) => return,
                // One stored by an earlier upload of the same phone.
                None => match self.known.get_mut(&v.target_id) {
                    Some(t)
                        if t.officer_id == who.officer_id && t.held_by.as_deref() == Some(who.device_id.as_str()) =>
                    {
                        t.held_by = None;
                        match (t.campaign_id, t.worker_id) {
                            (Some(k), Some(w)) => ((t.officer_id, k, w), -1),
                            _ => return,
                        }
                    }
                    _ => return,
                },
            },
            _ => return,
        };
        *self.given.entry((officer, k)).or_insert(0) += sign;
        *self.received.entry((k, w)).or_insert(0) += sign;
        if sign < 0 {
            self.released.insert((officer, k));
        }
    }

    /// A reversal request in this upload of a receipt, posted already or
    /// waiting for review (`sign` -1), or its void (+1): a repayment after
    /// it on the loan (the right amount entered again) may take what that
    /// receipt took, as the books will owe once both are approved — a loan
    /// the receipt closed opens again.
    fn take_back(&mut self, target: uuid::Uuid, sign: i64) -> bool {
        let Some(t) = self.known.get(&target) else { return false };
        if t.kind != "repayment" || !t.live || t.reversed {
            return false;
        }
        let (Some(book), Some(amount)) = (t.loan_id.and_then(|l| self.books.get_mut(&l)), t.amount) else {
            return false;
        };
        book.give_back(amount, sign);
        true
    }

    /// A live void of `target` was accepted: the target is no longer LIVE.
    fn void(&mut self, target: uuid::Uuid) {
        let Some(t) = self.known.get_mut(&target) else { return };
        let (was_live, was_pending) = (t.live, t.pending);
        t.live = false;
        t.pending = false;
        match t.kind {
            "repayment" if was_pending => {
                if let (Some(book), Some(amount)) = (t.loan_id.and_then(|l| self.books.get_mut(&l)), t.amount) {
                    book.pending -= amount;
                }
            }
            "gift_handout" if was_live && !t.reversed => {
                if let (Some(k), Some(w)) = (t.campaign_id, t.worker_id) {
                    // Counted when read (or when accepted) exactly when its keys are here.
                    if let Some(n) = self.given.get_mut(&(t.officer_id, k)) {
                        *n -= 1;
                    }
                    if let Some(n) = self.received.get_mut(&(k, w)) {
                        *n -= 1;
                    }
                }
            }
            "reversal_request" if was_pending => {
                let asked = t.target;
                if let Some(set) = asked.and_then(|x| self.reversals.get_mut(&x)) {
                    set.remove(&target);
                }
                if let Some(x) = asked.filter(|_| self.taken_back.remove(&target)) {
                    self.take_back(x, 1);
                }
                if let Some((loan, amount)) = self.stored_taken_back.remove(&target) {
                    if let Some(book) = self.books.get_mut(&loan) {
                        book.give_back(amount, 1);
                    }
                }
            }
            _ => {}
        }
    }
}
