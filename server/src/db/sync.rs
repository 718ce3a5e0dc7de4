// The sync feed's SQL. Included into each backend module (see `mod.rs`).

use super::sync_rows as rows;

/// How a backend takes a list of ids as one bound parameter, so that a
/// query's text, and with it its prepared statement, is the same whatever
/// the ids: an array on PostgreSQL, a JSON array read by `json_each` on
/// SQLite. (Ids written into the text made each change page prepare new
/// statements and push the request handlers' ones out of the connection's
/// cache.) The upload's facts use `Lists` (upload.rs) instead: lists of up
/// to 16,384 values on the writer's one connection, as IN lists of bound
/// parameters padded to a power of two.
trait IdParam: sqlx::Database {
    type Ids: for<'q> sqlx::Encode<'q, Self> + sqlx::Type<Self> + Send;
    fn ids(ids: &[i64]) -> Self::Ids;
    /// SQL: `column` is one of the ids in parameter `$n`.
    fn one_of(column: &str, n: usize) -> String;
    /// SQL: the ids in parameter `$n` as the rows of a subquery.
    fn rows_of(n: usize) -> String;
}

impl IdParam for sqlx::Sqlite {
    type Ids = String;
    fn ids(ids: &[i64]) -> String {
        format!("[{}]", ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","))
    }
    fn one_of(column: &str, n: usize) -> String {
        format!("{column} IN ({})", Self::rows_of(n))
    }
    fn rows_of(n: usize) -> String {
        format!("SELECT value FROM json_each(${n})")
    }
}

impl IdParam for sqlx::Postgres {
    type Ids = Vec<i64>;
    fn ids(ids: &[i64]) -> Vec<i64> {
        ids.to_vec()
    }
    fn one_of(column: &str, n: usize) -> String {
        format!("{column} = ANY(${n})")
    }
    fn rows_of(n: usize) -> String {
        format!("SELECT unnest(${n}::BIGINT[])")
    }
}

fn id_param(ids: &[i64]) -> <DB as IdParam>::Ids {
    <DB as IdParam>::ids(ids)
}

fn one_of(column: &str, n: usize) -> String {
    <DB as IdParam>::one_of(column, n)
}

/// An empty list was asked for: the answer is empty without asking the
/// database (a change page names only what changed; most of its readers
/// have nothing to read).
fn nothing_asked(ids: &Option<Vec<i64>>) -> bool {
    ids.as_ref().is_some_and(Vec::is_empty)
}

pub async fn sync_officer(c: &mut Conn, officer_id: i64) -> DbResult<Option<rows::Officer>> {
    Ok(sqlx::query_as(
        "SELECT u.uid, u.code, u.full_name, b.uid AS branch_uid, b.name AS branch_name,
             (SELECT CAST(COALESCE(SUM(a.debit - a.credit), 0) AS BIGINT) FROM account_balances a
              WHERE a.account = 'cash_over_short' AND a.officer_id = u.id AND a.branch_id = u.branch_id) AS cash_short,
             (SELECT CAST(COALESCE(SUM(CASE WHEN s.direction = 'paid_in' THEN s.amount ELSE 0 END), 0) AS BIGINT)
              FROM over_short_settlements s
              WHERE s.officer_id = u.id AND s.branch_id = u.branch_id AND s.method = 'write_off'
                AND NOT EXISTS (SELECT 1 FROM journal_entries r WHERE r.reverses = s.entry_id)) AS short_written_off,
             (SELECT CAST(COALESCE(SUM(CASE WHEN s.direction = 'paid_out' THEN s.amount ELSE 0 END), 0) AS BIGINT)
              FROM over_short_settlements s
              WHERE s.officer_id = u.id AND s.branch_id = u.branch_id AND s.method = 'write_off'
                AND NOT EXISTS (SELECT 1 FROM journal_entries r WHERE r.reverses = s.entry_id)) AS over_written_off
         FROM users u JOIN branches b ON b.id = u.branch_id WHERE u.id = $1",
    )
    .bind(officer_id)
    .fetch_optional(&mut *c)
    .await?)
}

pub async fn sync_seq(c: &mut Conn) -> DbResult<i64> {
    Ok(sqlx::query_scalar("SELECT value FROM sync_counter WHERE id = 1")
        .fetch_one(&mut *c)
        .await?)
}

/// Opens a sync epoch (migration 0027): its first sequence is the one after
/// the last change committed, the counter's row locked so that no writer
/// commits a change in between.
pub async fn open_sync_epoch(c: &mut Conn, tag: &str, now: DateTime<Utc>) -> DbResult<()> {
    sqlx::query("UPDATE sync_counter SET value = value WHERE id = 1").execute(&mut *c).await?;
    sqlx::query(
        "INSERT INTO sync_epochs (tag, first_seq, opened_at) SELECT $1, value + 1, $2 FROM sync_counter WHERE id = 1",
    )
    .bind(tag)
    .bind(now)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// The tag of the latest sync epoch, which new cursors name.
pub async fn sync_epoch(c: &mut Conn) -> DbResult<String> {
    Ok(sqlx::query_scalar("SELECT tag FROM sync_epochs ORDER BY id DESC LIMIT 1")
        .fetch_one(&mut *c)
        .await?)
}

/// Whether a cursor at sequence `seq`, given in epoch `tag` (none: from
/// before epochs), still holds — `seq` is not beyond the last change, and
/// the epoch is known and no later one begins at or before `seq` — and if
/// so the latest epoch's tag, for the next cursor. One statement.
pub async fn sync_cursor_check(c: &mut Conn, tag: Option<&str>, seq: i64) -> DbResult<Option<String>> {
    let (counter, latest, holds): (i64, String, i64) = sqlx::query_as(
        "SELECT (SELECT value FROM sync_counter WHERE id = 1),
                (SELECT tag FROM sync_epochs ORDER BY id DESC LIMIT 1),
                (SELECT COUNT(*) FROM sync_epochs e WHERE e.tag = $1
                   AND NOT EXISTS (SELECT 1 FROM sync_epochs l WHERE l.id > e.id AND l.first_seq <= $2))",
    )
    .bind(tag.unwrap_or(""))
    .bind(seq)
    .fetch_one(&mut *c)
    .await?;
    Ok((seq <= counter && (tag.is_none() || holds > 0)).then_some(latest))
}

/// (entity, entity id, last seq) of what changed for `officer_id` after
/// `since`, oldest last change first, at most `limit`.
pub async fn sync_changed(c: &mut Conn, officer_id: i64, since: i64, limit: i64) -> DbResult<Vec<(String, i64, i64)>> {
    Ok(sqlx::query_as(
        "SELECT entity, entity_id, MAX(seq) AS last FROM sync_changes WHERE officer_id = $1 AND seq > $2
         GROUP BY entity, entity_id ORDER BY last LIMIT $3",
    )
    .bind(officer_id)
    .bind(since)
    .bind(limit)
    .fetch_all(&mut *c)
    .await?)
}

const SYNC_WORKER: &str = "SELECT w.id, w.uid, w.full_name, w.phone, w.cccd, w.boarding_house_id, b.uid AS house_uid,
        w.room, w.employer, w.union_member, w.hardship, w.officer_id, w.code
    FROM workers w LEFT JOIN boarding_houses b ON b.id = w.boarding_house_id";

/// Workers by id whoever they belong to now (a change page needs to know
/// who left), or the officer's whole portfolio.
pub async fn sync_workers(c: &mut Conn, officer_id: i64, ids: &Option<Vec<i64>>) -> DbResult<Vec<rows::Worker>> {
    if nothing_asked(ids) {
        return Ok(Vec::new());
    }
    Ok(match ids {
        None => {
            sqlx::query_as(&format!("{SYNC_WORKER} WHERE w.officer_id = $1 ORDER BY w.id"))
                .bind(officer_id)
                .fetch_all(&mut *c)
                .await?
        }
        Some(list) => {
            sqlx::query_as(&format!("{SYNC_WORKER} WHERE {} ORDER BY w.id", one_of("w.id", 1)))
                .bind(id_param(list))
                .fetch_all(&mut *c)
                .await?
        }
    })
}

pub async fn sync_houses(c: &mut Conn, ids: &[i64]) -> DbResult<Vec<rows::House>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, uid, name, address, industrial_zone, landlord_name, landlord_phone FROM boarding_houses
         WHERE {} ORDER BY id",
        one_of("id", 1)
    );
    Ok(sqlx::query_as(&sql).bind(id_param(ids)).fetch_all(&mut *c).await?)
}

/// The officer's loans (of workers assigned to them now), all or by id.
pub async fn sync_loans(c: &mut Conn, officer_id: i64, ids: &Option<Vec<i64>>) -> DbResult<Vec<rows::Loan>> {
    if nothing_asked(ids) {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT l.id, l.uid, w.uid AS worker_uid, l.code, p.name AS product_name, l.principal, l.annual_rate_bp,
             l.method, l.frequency, l.installments, l.disbursed_on, l.status,
             EXISTS (SELECT 1 FROM loan_cancellations x WHERE x.loan_id = l.id) AS cancelled
         FROM loans l JOIN workers w ON w.id = l.worker_id JOIN loan_products p ON p.id = l.product_id
         WHERE w.officer_id = $1{} ORDER BY l.id",
        ids.as_ref().map_or(String::new(), |_| format!(" AND {}", one_of("l.id", 2)))
    );
    let query = sqlx::query_as(&sql).bind(officer_id);
    Ok(match ids {
        Some(list) => query.bind(id_param(list)),
        None => query,
    }
    .fetch_all(&mut *c)
    .await?)
}

pub async fn sync_installments(c: &mut Conn, loan_ids: &[i64]) -> DbResult<Vec<rows::Installment>> {
    if loan_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT loan_id, number, due_on, principal_due, interest_due, principal_paid, interest_paid
         FROM installments WHERE {} ORDER BY loan_id, number",
        one_of("loan_id", 1)
    );
    Ok(sqlx::query_as(&sql).bind(id_param(loan_ids)).fetch_all(&mut *c).await?)
}

/// Receipts other officers took on `loan_ids` (before their workers moved
/// to `officer_id`) that wait for review and are not voided.
pub async fn sync_waiting_receipts(
    c: &mut Conn,
    officer_id: i64,
    loan_ids: &[i64],
) -> DbResult<Vec<rows::WaitingReceipt>> {
    if loan_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT s.loan_id, s.client_id, s.amount, s.receipt_no FROM sync_records s
         WHERE s.kind = 'repayment' AND s.status = 'accepted' AND s.officer_id <> $1 AND {}
           AND NOT EXISTS (SELECT 1 FROM record_reviews d WHERE d.record_id = s.id)
           AND NOT EXISTS (SELECT 1 FROM sync_records v WHERE v.target_client_id = s.client_id AND v.kind = 'void' AND {})
           -- Nor one whose reversal its officer asked for: it takes nothing.
           AND NOT EXISTS (SELECT 1 FROM sync_records q WHERE q.target_client_id = s.client_id
                 AND q.kind = 'reversal_request' AND q.status = 'accepted'
                 AND NOT EXISTS (SELECT 1 FROM record_reviews qd WHERE qd.record_id = q.id AND qd.decision <> 'approved')
                 AND NOT EXISTS (SELECT 1 FROM sync_records w WHERE w.target_client_id = q.client_id AND w.kind = 'void' AND {}))
         ORDER BY s.id",
        one_of("s.loan_id", 2),
        void_stands_sql!(v, s),
        void_stands_sql!(w, q)
    );
    Ok(sqlx::query_as(&sql).bind(officer_id).bind(id_param(loan_ids)).fetch_all(&mut *c).await?)
}

/// Campaigns running on or after `from`, with this officer's quota and
/// the gifts the server has counted for them.
pub async fn sync_campaigns(
    c: &mut Conn,
    officer_id: i64,
    from: NaiveDate,
    ids: &Option<Vec<i64>>,
) -> DbResult<Vec<rows::Campaign>> {
    if nothing_asked(ids) {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT k.id, k.uid, k.name, k.kind, k.eligibility, k.gift_value, k.starts_on, k.ends_on,
             COALESCE((SELECT q.quota FROM campaign_officer_quotas q WHERE q.campaign_id = k.id AND q.officer_id = $1), 0)
                 AS officer_quota,
             (SELECT COUNT(*) FROM sync_records r WHERE r.campaign_id = k.id AND r.officer_id = $1 AND {LIVE_HANDOUT})
                 AS handed_out
         FROM campaigns k WHERE k.ends_on >= $2{} ORDER BY k.id",
        ids.as_ref().map_or(String::new(), |_| format!(" AND {}", one_of("k.id", 3)))
    );
    let query = sqlx::query_as(&sql).bind(officer_id).bind(from);
    Ok(match ids {
        Some(list) => query.bind(id_param(list)),
        None => query,
    }
    .fetch_all(&mut *c)
    .await?)
}

/// Workers of this officer who already have a campaign's gift, from any phone.
pub async fn sync_recipients(c: &mut Conn, officer_id: i64, campaign_ids: &[i64]) -> DbResult<Vec<rows::Recipient>> {
    if campaign_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT DISTINCT r.campaign_id, w.uid AS worker_uid FROM sync_records r JOIN workers w ON w.id = r.worker_id
         WHERE w.officer_id = $1 AND {LIVE_HANDOUT} AND {}",
        one_of("r.campaign_id", 2)
    );
    Ok(sqlx::query_as(&sql).bind(officer_id).bind(id_param(campaign_ids)).fetch_all(&mut *c).await?)
}

/// The officer's records: all of them when `ids` and `batches` are both
/// `None`, else those with one of `ids` and those of the batches whose
/// first records are `batches`.
pub async fn sync_record_statuses(
    c: &mut Conn,
    officer_id: i64,
    ids: &Option<Vec<i64>>,
    batches: &Option<Vec<i64>>,
) -> DbResult<Vec<rows::RecordStatus>> {
    const STATUS: &str = concat!("SELECT s.client_id, s.status, s.code, s.message_vi, s.message_en, s.received_at,
             d.decision, d.reason AS decision_reason, d.decided_at,
             (SELECT x.posted_at FROM journal_entries e JOIN journal_entries x ON x.reverses = e.id
                 WHERE e.record_id = s.id) AS reversed_at,
             (SELECT r.reason FROM journal_entries e JOIN branch_reversals r ON r.entry_id = e.id
                 JOIN branch_reversal_decisions rd ON rd.reversal_id = r.id AND rd.decision = 'approved'
                 WHERE e.record_id = s.id) AS reversal_reason,
             COALESCE(s.loan_id, t.loan_id) AS loan_id, x.note AS settled_note, x.settled_at,
             -- A refused gift settled as handed out for real, its stock
             -- entry not reversed since: the worker has the gift by it.
             CASE WHEN x.record_id IS NULL THEN NULL
                  WHEN s.kind = 'gift_handout' AND x.handed_out
                       AND NOT EXISTS (SELECT 1 FROM journal_entries xr WHERE xr.reverses = x.entry_id) THEN 1
                  ELSE 0 END AS settled_handed_out,
             -- A repayment's loan and amount, for the officer's other
             -- phones, unless a void that stands cancels it.
             CASE WHEN s.kind = 'repayment' AND NOT EXISTS (SELECT 1 FROM sync_records v
                     WHERE v.target_client_id = s.client_id AND v.kind = 'void' AND ",
        void_stands_sql!(v, s),
        ")
                  THEN rl.uid END AS repaid_loan,
             CASE WHEN s.kind = 'repayment' THEN s.amount END AS repaid_amount,
             -- One refused at upload keeps no amount in its columns (nor,
             -- at times, its loan): its body says them.
             CASE WHEN s.kind = 'repayment' AND s.amount IS NULL AND NOT EXISTS (SELECT 1 FROM sync_records v
                     WHERE v.target_client_id = s.client_id AND v.kind = 'void' AND ",
        void_stands_sql!(v, s),
        ")
                  THEN s.body END AS refused_body
         FROM sync_records s LEFT JOIN record_reviews d ON d.record_id = s.id
             LEFT JOIN sync_records t ON t.client_id = s.target_client_id
             LEFT JOIN refused_settlements x ON x.record_id = s.id
             LEFT JOIN loans rl ON rl.id = s.loan_id
         WHERE s.officer_id = $1");
    if ids.is_none() && batches.is_none() {
        // All of them: the officer's batches' records (their batch key
        // carries the officer; records are not indexed by officer).
        let sql = format!(
            "{STATUS} AND s.batch_id IN (SELECT b.batch_id FROM sync_batches b WHERE b.officer_id = $1) ORDER BY s.id"
        );
        return Ok(sqlx::query_as(&sql).bind(officer_id).fetch_all(&mut *c).await?);
    }
    let (ids, heads) = (ids.as_deref().unwrap_or_default(), batches.as_deref().unwrap_or_default());
    if ids.is_empty() && heads.is_empty() {
        return Ok(Vec::new());
    }
    // One set of record ids, read by the primary key: `s.id IN (…) OR
    // s.batch_id IN (…)` would have PostgreSQL read the whole table.
    let sql = format!(
        "{STATUS} AND s.id IN ({} UNION ALL
             SELECT r.id FROM sync_records h JOIN sync_records r ON r.batch_id = h.batch_id WHERE {})
         ORDER BY s.id",
        <DB as IdParam>::rows_of(2),
        one_of("h.id", 3)
    );
    Ok(sqlx::query_as(&sql)
        .bind(officer_id)
        .bind(id_param(ids))
        .bind(id_param(heads))
        .fetch_all(&mut *c)
        .await?)
}

/// The cash counted for the officer's approved batches: all of them, or
/// those of the batches named by their first record's id.
pub async fn sync_cash_counts(c: &mut Conn, officer_id: i64, batches: &Option<Vec<i64>>) -> DbResult<Vec<rows::CashCount>> {
    if nothing_asked(batches) {
        return Ok(Vec::new());
    }
    const COUNT: &str = "SELECT br.batch_id, br.decided_at, br.cash_expected, br.cash_received FROM batch_reviews br";
    let rows = match batches {
        None => {
            let sql = format!(
                "{COUNT} JOIN sync_batches b ON b.batch_id = br.batch_id
                 WHERE b.officer_id = $1 AND br.decision = 'approved' ORDER BY br.decided_at"
            );
            sqlx::query_as(&sql).bind(officer_id).fetch_all(&mut *c).await?
        }
        Some(heads) => {
            let sql = format!(
                "{COUNT} JOIN sync_records h ON h.batch_id = br.batch_id
                 WHERE h.officer_id = $1 AND {} AND br.decision = 'approved' ORDER BY br.decided_at",
                one_of("h.id", 2)
            );
            sqlx::query_as(&sql).bind(officer_id).bind(id_param(heads)).fetch_all(&mut *c).await?
        }
    };
    Ok(rows)
}

/// Reads the rows of a snapshot (`filter` all `None`) or of a change page.
pub async fn sync_read(
    c: &mut Conn,
    officer_id: i64,
    today: NaiveDate,
    filter: &rows::Filter,
) -> DbResult<rows::Portfolio> {
    let mut out = rows::Portfolio {
        officer: sync_officer(c, officer_id).await?,
        ..Default::default()
    };
    let mut loan_ids: Option<Vec<i64>> = filter.loans.clone();
    let mut house_ids: Vec<i64> = filter.houses.clone().unwrap_or_default();
    for w in sync_workers(c, officer_id, &filter.workers).await? {
        if w.officer_id != officer_id {
            out.removed_workers.push(w.uid);
            continue;
        }
        if let (Some(ids), Some(_)) = (loan_ids.as_mut(), filter.workers.as_ref()) {
            // A worker who arrived brings their loans.
            let theirs: Vec<i64> =
                sqlx::query_scalar("SELECT id FROM loans WHERE worker_id = $1").bind(w.id).fetch_all(&mut *c).await?;
            ids.extend(theirs);
        }
        house_ids.extend(w.boarding_house_id);
        out.workers.push(w);
    }
    if filter.workers.is_some() && loan_ids.is_none() {
        loan_ids = Some(Vec::new());
    }
    // The records' statuses, and with a page the loans a decision on them
    // moved: a phone never has a record approved (or its reversal) without
    // the loan's books that hold it, whatever page the loan's own change
    // falls in and wherever a sync is cut.
    out.records = sync_record_statuses(c, officer_id, &filter.records, &filter.batches).await?;
    if let Some(ids) = loan_ids.as_mut() {
        ids.extend(
            out.records
                .iter()
                .filter(|r| r.decision.as_deref() == Some("approved") || r.reversed_at.is_some())
                .filter_map(|r| r.loan_id),
        );
        ids.sort_unstable();
        ids.dedup();
    }
    // A loan taken back leaves the phone (a snapshot simply has not got it).
    let (cancelled, loans): (Vec<rows::Loan>, Vec<rows::Loan>) =
        sync_loans(c, officer_id, &loan_ids).await?.into_iter().partition(|l| l.cancelled);
    out.removed_loans = cancelled.into_iter().map(|l| l.uid).collect();
    out.loans = loans;
    let ids: Vec<i64> = out.loans.iter().map(|l| l.id).collect();
    out.installments = sync_installments(c, &ids).await?;
    out.waiting = sync_waiting_receipts(c, officer_id, &ids).await?;
    if filter.houses.is_none() && filter.workers.is_none() {
        house_ids = out.workers.iter().filter_map(|w| w.boarding_house_id).collect();
    }
    house_ids.sort_unstable();
    house_ids.dedup();
    out.houses = sync_houses(c, &house_ids).await?;
    let from = today - chrono::Days::new(30);
    out.campaigns = sync_campaigns(c, officer_id, from, &filter.campaigns).await?;
    let ids: Vec<i64> = out.campaigns.iter().map(|k| k.id).collect();
    out.recipients = sync_recipients(c, officer_id, &ids).await?;
    out.counts = sync_cash_counts(c, officer_id, &filter.batches).await?;
    Ok(out)
}
