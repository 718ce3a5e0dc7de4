// Bank statements of a branch's bank account: kept as imported, read back
// with the bank account's book for the same days (see `crate::statement`).

/// Keeps a statement read from a file of `branch_id`'s bank account.
/// Returns its id, and whether the same file was kept before (then nothing
/// is written again).
#[allow(clippy::too_many_arguments)]
pub async fn statement_keep(
    c: &mut Conn,
    who: &rv::Reviewer,
    branch_id: i64,
    file_name: &str,
    sha256: &str,
    lines: &[crate::statement::StatementLine],
    now: DateTime<Utc>,
) -> DbResult<(i64, bool)> {
    take_write_lock(c).await?;
    branch_in_reach(c, who, branch_id).await?;
    let kept: Option<i64> = sqlx::query_scalar("SELECT id FROM bank_statements WHERE branch_id = $1 AND sha256 = $2")
        .bind(branch_id)
        .bind(sha256)
        .fetch_optional(&mut *c)
        .await?;
    if let Some(id) = kept {
        return Ok((id, true));
    }
    let (Some(first), Some(last)) = (
        lines.iter().map(|l| l.booked_on).min(),
        lines.iter().map(|l| l.booked_on).max(),
    ) else {
        return Err(DbError::Invalid("a statement without lines".into()));
    };
    let id: i64 = sqlx::query_scalar::<DB, Option<i64>>("SELECT MAX(id) FROM bank_statements")
        .fetch_one(&mut *c)
        .await?
        .unwrap_or(0)
        + 1;
    sqlx::query(
        "INSERT INTO bank_statements (id, branch_id, file_name, sha256, first_day, last_day, uploaded_by, uploaded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(branch_id)
    .bind(file_name)
    .bind(sha256)
    .bind(first)
    .bind(last)
    .bind(who.user_id)
    .bind(now)
    .execute(&mut *c)
    .await?;
    for chunk in lines.chunks(500) {
        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "INSERT INTO bank_statement_lines (statement_id, line_no, booked_on, reference, description, money_in,
                 money_out, balance) ",
        );
        qb.push_values(chunk, |mut b, l| {
            b.push_bind(id)
                .push_bind(l.line_no)
                .push_bind(l.booked_on)
                .push_bind(l.reference.as_str())
                .push_bind(l.description.as_str())
                .push_bind(l.money_in)
                .push_bind(l.money_out)
                .push_bind(l.balance);
        });
        qb.build().execute(&mut *c).await?;
    }
    let detail = serde_json::json!({
        "branch": branch_id, "file": file_name, "sha256": sha256, "lines": lines.len(),
        "first_day": first, "last_day": last,
    });
    audit_append(c, &who.audit("bank.statement", "bank_statement", id.to_string(), detail), now).await?;
    Ok((id, false))
}

const STATEMENT_VIEW: &str = "SELECT s.id, s.branch_id, b.name AS branch_name, s.file_name, s.first_day, s.last_day,
        u.full_name AS uploaded_by, s.uploaded_at,
        (SELECT COUNT(*) FROM bank_statement_lines x WHERE x.statement_id = s.id) AS lines,
        CAST((SELECT COALESCE(SUM(x.money_in), 0) FROM bank_statement_lines x WHERE x.statement_id = s.id) AS BIGINT)
            AS money_in,
        CAST((SELECT COALESCE(SUM(x.money_out), 0) FROM bank_statement_lines x WHERE x.statement_id = s.id) AS BIGINT)
            AS money_out
    FROM bank_statements s JOIN branches b ON b.id = s.branch_id JOIN users u ON u.id = s.uploaded_by";

/// The statements kept, newest first (at most 200): of one branch, or of
/// every branch (`None`).
pub async fn statements(c: &mut Conn, branch: Option<i64>) -> DbResult<Vec<rv::StatementSummary>> {
    let (kind, id) = branch.map_or((0, 0), |b| (1, b));
    let sql = format!("{STATEMENT_VIEW} WHERE ($1 = 0 OR s.branch_id = $2) ORDER BY s.id DESC LIMIT 200");
    Ok(sqlx::query_as(&sql).bind(kind).bind(id).fetch_all(&mut *c).await?)
}

/// One statement with its lines in file order, if it is `branch`'s
/// (`None`: any branch).
pub async fn statement(
    c: &mut Conn,
    branch: Option<i64>,
    id: i64,
) -> DbResult<Option<(rv::StatementSummary, Vec<crate::statement::StatementLine>)>> {
    let (kind, bid) = branch.map_or((0, 0), |b| (1, b));
    let sql = format!("{STATEMENT_VIEW} WHERE s.id = $1 AND ($2 = 0 OR s.branch_id = $3)");
    let Some(head): Option<rv::StatementSummary> =
        sqlx::query_as(&sql).bind(id).bind(kind).bind(bid).fetch_optional(&mut *c).await?
    else {
        return Ok(None);
    };
    let lines: Vec<crate::statement::StatementLine> = sqlx::query_as(
        "SELECT line_no, booked_on, reference, description, money_in, money_out, balance
         FROM bank_statement_lines WHERE statement_id = $1 ORDER BY line_no",
    )
    .bind(id)
    .fetch_all(&mut *c)
    .await?;
    Ok(Some((head, lines)))
}

/// The movements of `branch_id`'s bank account posted in [`from`, `to`),
/// with the bank's reference each was recorded with (a transfer taken at
/// the branch, a loan paid out by transfer, a slip paid in or drawn).
pub async fn bank_book_items(
    c: &mut Conn,
    branch_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> DbResult<Vec<crate::statement::BookItem>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        entry_id: i64,
        kind: String,
        posted_at: DateTime<Utc>,
        memo: String,
        debit: i64,
        credit: i64,
        reverses: Option<i64>,
        reversed_by: Option<i64>,
        reference: Option<String>,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT e.id AS entry_id, e.kind, e.posted_at, e.memo, l.debit, l.credit, e.reverses,
             (SELECT x.id FROM journal_entries x WHERE x.reverses = e.id) AS reversed_by,
             COALESCE(cr.transfer_ref, dd.transfer_ref, bm.reference) AS reference
         FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id
             LEFT JOIN counter_repayments cr ON cr.id = e.counter_id
             LEFT JOIN disbursement_decisions dd ON dd.entry_id = e.id
             LEFT JOIN bank_moves bm ON bm.entry_id = e.id
         WHERE l.account = 'bank' AND l.branch_id = $1 AND e.posted_at >= $2 AND e.posted_at < $3
         ORDER BY e.posted_at, e.id, l.id",
    )
    .bind(branch_id)
    .bind(from)
    .bind(to)
    .fetch_all(&mut *c)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| crate::statement::BookItem {
            entry_id: r.entry_id,
            kind: r.kind,
            posted_on: sotay_core::domain::time::local_date(r.posted_at),
            memo: r.memo,
            money_in: r.debit,
            money_out: r.credit,
            reference: r.reference,
            reverses: r.reverses,
            reversed_by: r.reversed_by,
        })
        .collect())
}

/// `branch_id`'s bank account balance (debits − credits) from the entries
/// posted before `before`.
pub async fn bank_balance_before(c: &mut Conn, branch_id: i64, before: DateTime<Utc>) -> DbResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(l.debit - l.credit), 0) AS BIGINT)
         FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id
         WHERE l.account = 'bank' AND l.branch_id = $1 AND e.posted_at < $2",
    )
    .bind(branch_id)
    .bind(before)
    .fetch_one(&mut *c)
    .await?)
}
