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
    let now = take_write_lock(c, now).await?;
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
/// the branch, a loan paid out by transfer, a slip paid in or drawn, a
/// statement line's charge or interest) and the day the bank booked it
/// when known (a move posted from a statement line, lending capital on the
/// day it was received, and their reversals), and the line of
/// `statement_id` it was posted from.
pub async fn bank_book_items(
    c: &mut Conn,
    statement_id: i64,
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
        booked_on: Option<NaiveDate>,
        from_statement: bool,
        from_line: Option<i64>,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT e.id AS entry_id, e.kind, e.posted_at, e.memo, l.debit, l.credit, e.reverses,
             (SELECT x.id FROM journal_entries x WHERE x.reverses = e.id) AS reversed_by,
             COALESCE(cr.transfer_ref, dd.transfer_ref, NULLIF(bm.reference, '')) AS reference,
             COALESCE(bm.booked_on, rbm.booked_on, cap.received_on, rcap.received_on) AS booked_on,
             (bm.statement_id IS NOT NULL OR rbm.statement_id IS NOT NULL) AS from_statement,
             CASE WHEN bm.statement_id = $4 THEN bm.line_no END AS from_line
         FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id
             LEFT JOIN counter_repayments cr ON cr.id = e.counter_id
             LEFT JOIN disbursement_decisions dd ON dd.entry_id = e.id
             LEFT JOIN bank_moves bm ON bm.entry_id = e.id
             LEFT JOIN bank_moves rbm ON rbm.entry_id = e.reverses
             LEFT JOIN capital_receipts cap ON cap.entry_id = e.id
             LEFT JOIN capital_receipts rcap ON rcap.entry_id = e.reverses
         WHERE l.account = 'bank' AND l.branch_id = $1 AND e.posted_at >= $2 AND e.posted_at < $3
         ORDER BY e.posted_at, e.id, l.id",
    )
    .bind(branch_id)
    .bind(from)
    .bind(to)
    .bind(statement_id)
    .fetch_all(&mut *c)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let posted_on = sotay_core::domain::time::local_date(r.posted_at);
            crate::statement::BookItem {
                entry_id: r.entry_id,
                kind: r.kind,
                booked_on: r.booked_on.unwrap_or(posted_on),
                from_statement: r.from_statement,
                from_line: r.from_line,
                posted_on,
                memo: r.memo,
                money_in: r.debit,
                money_out: r.credit,
                reference: r.reference,
                reverses: r.reverses,
                reversed_by: r.reversed_by,
            }
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

/// A kept statement with the bank account's book from a few days before
/// its first day until now, and the book's balances before its first day
/// and after its last.
pub async fn statement_book(
    c: &mut Conn,
    head: rv::StatementSummary,
    lines: Vec<crate::statement::StatementLine>,
) -> DbResult<rv::StatementBook> {
    let (from, to) = (
        crate::reports::day_start(head.first_day),
        crate::reports::day_start(head.last_day + chrono::Duration::days(1)),
    );
    // A few days before the first (booked later by the bank), and
    // everything since (recorded once the statement came).
    let window = crate::reports::day_start(head.first_day - chrono::Duration::days(crate::statement::DAYS_APART));
    let until = Utc::now() + chrono::Duration::days(1);
    let book = bank_book_items(c, head.id, head.branch_id, window, until).await?;
    let opening = bank_balance_before(c, head.branch_id, from).await?;
    let closing = bank_balance_before(c, head.branch_id, to).await?;
    Ok(rv::StatementBook { head, lines, book, opening, closing })
}

/// Posts a line of a kept statement that the books lack as what it is: a
/// charge the bank took or interest it paid, or cash paid in or drawn that
/// nobody recorded; with the line's amount, reference and day. The line
/// must bring money in for a deposit or interest, take it out for a
/// withdrawal or a charge, and match nothing in the books now. A retry
/// with the same `client_id` returns the same move.
pub async fn statement_line_post(
    c: &mut Conn,
    who: &rv::Reviewer,
    statement_id: i64,
    line_no: i64,
    client_id: uuid::Uuid,
    direction: rv::BankDirection,
    now: DateTime<Utc>,
) -> DbResult<rv::BankMove> {
    let now = take_write_lock(c, now).await?;
    let Some((head, lines)) = statement(c, None, statement_id).await? else {
        return Err(DbError::NotFound);
    };
    if !who.covers(Some(head.branch_id)) {
        return Err(DbError::NotFound);
    }
    let Some(line) = lines.iter().find(|l| l.line_no == line_no).cloned() else {
        return Err(refused(
            404,
            "statement_line_not_found",
            format!("Sao kê số {statement_id} không có dòng {line_no}"),
            format!("statement {statement_id} has no line {line_no}"),
        ));
    };
    let reference: String = line.reference.trim().chars().take(100).collect();
    let m = rv::NewBankMove {
        branch_id: head.branch_id,
        client_id,
        direction,
        amount: line.money_in.max(line.money_out),
        reference: &reference,
        from_line: Some(rv::FromLine { statement_id, line_no, booked_on: line.booked_on }),
    };
    let today = sotay_core::domain::time::local_date(now);
    if line.booked_on > today {
        return Err(refused(
            422,
            "statement_line_future",
            format!(
                "Dòng {line_no} ghi ngày {}, sau hôm nay; kiểm tra lại tệp sao kê",
                line.booked_on.format("%d/%m/%Y")
            ),
            format!(
                "line {line_no} is dated {}, after today; check the statement file",
                line.booked_on.format("%d/%m/%Y")
            ),
        ));
    }
    let replay: Option<i64> = sqlx::query_scalar("SELECT id FROM bank_moves WHERE client_id = $1")
        .bind(client_id)
        .fetch_optional(&mut *c)
        .await?;
    if replay.is_none() {
        if direction.money_in() != (line.money_in > 0) {
            let (vi, en) = direction.name();
            let (way_vi, way_en, kinds_vi, kinds_en) = if line.money_in > 0 {
                ("tiền vào", "money in", "Lãi tiền gửi hoặc Nộp tiền mặt vào ngân hàng", "interest or cash paid in")
            } else {
                ("tiền ra", "money out", "Phí ngân hàng hoặc Rút tiền mặt về quỹ", "a charge or cash drawn")
            };
            return Err(refused(
                422,
                "statement_line_way",
                format!("Dòng {line_no} là {way_vi}, không ghi được là \"{vi}\"; chọn {kinds_vi}"),
                format!("line {line_no} is {way_en} and cannot be posted as \"{en}\"; choose {kinds_en}"),
            ));
        }
        // Matched to an entry that stands (not one reversed, or reversing:
        // a posting of the wrong kind, reversed, leaves the line to post
        // again).
        let period = (head.first_day, head.last_day);
        let sb = statement_book(c, head, lines).await?;
        let rec = crate::statement::reconcile(&sb.lines, &sb.book, period);
        let standing = sb.lines.iter().zip(&rec.lines).find_map(|(l, found)| {
            let i = found.filter(|_| l.line_no == line_no)?.index();
            let b = &sb.book[i];
            (b.reversed_by.is_none() && b.reverses.is_none()).then_some(b.entry_id)
        });
        if let Some(entry) = standing {
            return Err(refused(
                409,
                "statement_line_in_book",
                format!(
                    "Dòng {line_no} của sao kê đã khớp với bút toán số {entry}, nên không ghi thêm; nếu bút toán đó sai, đề nghị đảo nó (trang Đảo bút toán) rồi ghi lại dòng này"
                ),
                format!(
                    "line {line_no} of the statement already matches entry {entry}, so nothing more is posted; if that entry is wrong, ask to reverse it (Reversals page), then post this line again"
                ),
            ));
        }
    }
    bank_move(c, who, &m, now).await
}
