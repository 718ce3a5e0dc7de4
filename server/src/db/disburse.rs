// Loans paid out at the branch: lending capital received into a vault, and
// disbursements asked for by one person and decided by another. Included
// into each backend's review module after `review.rs` (see `mod.rs`).

const CAPITAL_VIEW: &str = "SELECT r.id, r.client_id, r.branch_id, b.name AS branch_name, r.amount, r.received_on,
        r.source, r.method, u.full_name AS recorded_by, r.recorded_at, r.entry_id,
        EXISTS (SELECT 1 FROM journal_entries x WHERE x.reverses = r.entry_id) AS reversed
    FROM capital_receipts r JOIN branches b ON b.id = r.branch_id JOIN users u ON u.id = r.recorded_by";

/// Lending capital the fund sends a branch (admins): cash into its vault or
/// a transfer into its bank account, posted at once against the fund's
/// lending capital. A retry with the same `client_id` returns the same
/// receipt.
#[allow(clippy::too_many_arguments)]
pub async fn capital_receive(
    c: &mut Conn,
    who: &rv::Reviewer,
    branch_id: i64,
    client_id: uuid::Uuid,
    amount: i64,
    received_on: NaiveDate,
    source: &str,
    method: rv::PayMethod,
    now: DateTime<Utc>,
) -> DbResult<rv::CapitalReceipt> {
    let now = take_write_lock(c, now).await?;
    if !who.is_admin {
        return Err(refused(
            403,
            "forbidden",
            "Chỉ quản trị viên được ghi nhận vốn cho vay chuyển về chi nhánh".into(),
            "only an administrator may record lending capital sent to a branch".into(),
        ));
    }
    received_day(received_on, now)?;
    branch_in_reach(c, who, branch_id).await?;
    let stored: Option<(i64, i64, i64, String)> =
        sqlx::query_as("SELECT id, branch_id, amount, method FROM capital_receipts WHERE client_id = $1")
            .bind(client_id)
            .fetch_optional(&mut *c)
            .await?;
    if let Some((id, b, a, m)) = stored {
        if (b, a, m.as_str()) != (branch_id, amount, method.as_str()) {
            return Err(refused(
                409,
                "receipt_conflict",
                "Mã giao dịch này đã được dùng cho một lần nhận vốn khác".into(),
                "this transaction id was already used for another capital receipt".into(),
            ));
        }
        return capital_receipt_view(c, id).await;
    }
    let mut poster = Poster::new(c, who.user_id).await?;
    let at = At { branch_id, ..At::default() };
    let memo = match method {
        rv::PayMethod::Cash => format!("Nhận vốn cho vay {} từ {source}", format_vnd(amount)),
        rv::PayMethod::Transfer => {
            format!("Nhận vốn cho vay {} vào tài khoản ngân hàng từ {source}", format_vnd(amount))
        }
    };
    let lines = ledger::capital_receipt(at, amount, method.account());
    let entry_id = poster.plan(EntryKind::CapitalReceipt, branch_id, memo, lines).id;
    poster.write(c, now).await?;
    let id: i64 = sqlx::query_scalar::<DB, Option<i64>>("SELECT MAX(id) FROM capital_receipts")
        .fetch_one(&mut *c)
        .await?
        .unwrap_or(0)
        + 1;
    sqlx::query(
        "INSERT INTO capital_receipts (id, client_id, branch_id, amount, received_on, source, entry_id, recorded_by,
             recorded_at, method)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(id)
    .bind(client_id)
    .bind(branch_id)
    .bind(amount)
    .bind(received_on)
    .bind(source)
    .bind(entry_id)
    .bind(who.user_id)
    .bind(now)
    .bind(method.as_str())
    .execute(&mut *c)
    .await?;
    let detail = serde_json::json!({
        "branch": branch_id, "amount": amount, "source": source, "entry": entry_id, "method": method.as_str(),
    });
    audit_append(c, &who.audit("capital.receive", "capital_receipt", id.to_string(), detail), now).await?;
    capital_receipt_view(c, id).await
}

async fn capital_receipt_view(c: &mut Conn, id: i64) -> DbResult<rv::CapitalReceipt> {
    let sql = format!("{CAPITAL_VIEW} WHERE r.id = $1");
    Ok(sqlx::query_as(&sql).bind(id).fetch_one(&mut *c).await?)
}

/// Lending capital received, of a branch (or the fund), newest first.
pub async fn capital_receipts(c: &mut Conn, branch: Option<i64>) -> DbResult<Vec<rv::CapitalReceipt>> {
    let (kind, id) = branch.map_or((0, 0), |b| (1, b));
    let sql = format!("{CAPITAL_VIEW} WHERE ($1 = 0 OR r.branch_id = $2) ORDER BY r.id DESC LIMIT 500");
    Ok(sqlx::query_as(&sql).bind(kind).bind(id).fetch_all(&mut *c).await?)
}

const BANK_MOVE_VIEW: &str = "SELECT m.id, m.client_id, m.branch_id, b.name AS branch_name, m.direction, m.amount,
        m.reference, u.full_name AS recorded_by, m.recorded_at, m.entry_id, m.booked_on, m.statement_id, m.line_no,
        EXISTS (SELECT 1 FROM journal_entries x WHERE x.reverses = m.entry_id) AS reversed
    FROM bank_moves m JOIN branches b ON b.id = m.branch_id JOIN users u ON u.id = m.recorded_by";

/// Whether branch `branch_id` exists and is within `who`'s reach.
async fn branch_covered(c: &mut Conn, who: &rv::Reviewer, branch_id: i64) -> DbResult<bool> {
    let branch: Option<String> = sqlx::query_scalar("SELECT name FROM branches WHERE id = $1")
        .bind(branch_id)
        .fetch_optional(&mut *c)
        .await?;
    Ok(branch.is_some() && who.covers(Some(branch_id)))
}

/// Refuses (422 `unknown_branch`) a branch that does not exist or is not
/// within `who`'s reach.
async fn branch_in_reach(c: &mut Conn, who: &rv::Reviewer, branch_id: i64) -> DbResult<()> {
    if !branch_covered(c, who, branch_id).await? {
        return Err(refused(
            422,
            "unknown_branch",
            format!("Không có chi nhánh số {branch_id} trong phạm vi của bạn"),
            format!("there is no branch {branch_id} within your reach"),
        ));
    }
    Ok(())
}

/// A movement of a branch's bank account posted at once by a supervisor
/// of the branch or an admin: cash paid into it from the vault
/// (`deposit`) or drawn from it into the vault, with the bank slip's
/// reference; or, from a statement line, a charge the bank took or the
/// interest it paid. The account it leaves must hold the amount. A retry
/// with the same `client_id` returns the same move.
pub async fn bank_move(
    c: &mut Conn,
    who: &rv::Reviewer,
    m: &rv::NewBankMove<'_>,
    now: DateTime<Utc>,
) -> DbResult<rv::BankMove> {
    let now = take_write_lock(c, now).await?;
    branch_in_reach(c, who, m.branch_id).await?;
    if !m.direction.is_cash() && m.from_line.is_none() {
        return Err(refused(
            422,
            "bank_charge_from_statement",
            "Phí và lãi ngân hàng được ghi từ dòng của sao kê ngân hàng (trang Ngân hàng → Sao kê ngân hàng)".into(),
            "bank charges and interest are posted from the bank statement's line (Bank page → Bank statements)".into(),
        ));
    }
    let line = m.from_line.map(|l| (l.statement_id, l.line_no));
    type Stored = (i64, i64, String, i64, String, Option<i64>, Option<i64>);
    let stored: Option<Stored> = sqlx::query_as(
        "SELECT id, branch_id, direction, amount, reference, statement_id, line_no FROM bank_moves
         WHERE client_id = $1",
    )
    .bind(m.client_id)
    .fetch_optional(&mut *c)
    .await?;
    if let Some((id, b, d, a, r, s, l)) = stored {
        let asked = (m.branch_id, m.direction.as_str(), m.amount, m.reference, line);
        if (b, d.as_str(), a, r.as_str(), s.zip(l)) != asked {
            return Err(refused(
                409,
                "bank_move_conflict",
                "Yêu cầu này (client_id) đã được gửi cho một giao dịch ngân hàng khác; xem danh sách rồi ghi lại".into(),
                "this request (client_id) was already sent for another bank movement; check the list, then post again".into(),
            ));
        }
        return bank_move_view(c, id).await;
    }
    // One slip or statement line posts once: the same again (a reload, a
    // second tab, a colleague) is refused while its move stands. A charge
    // or interest is known by its statement line, not its reference (banks
    // give a fee and its VAT, or each month's fee, the same one); cash paid
    // in or drawn from a line is also checked against the slips recorded
    // by hand (one typed with another amount is reversed first).
    if !m.reference.is_empty() && crate::db::reference_key(m.reference).is_empty() {
        return Err(refused(
            422,
            "bank_slip_invalid",
            format!("\"{}\" không phải số chứng từ: hãy ghi số in trên giấy nộp tiền hoặc séc (có chữ hoặc số)", m.reference),
            format!("\"{}\" is no slip number: write the number printed on the paying-in slip or cheque (letters or digits)", m.reference),
        ));
    }
    let standing = "NOT EXISTS (SELECT 1 FROM journal_entries x WHERE x.reverses = m.entry_id)";
    let by_slip = if line.is_some() { " AND m.statement_id IS NULL" } else { "" };
    let posted: Option<(i64, i64)> = if m.reference.is_empty() || !m.direction.is_cash() {
        None
    } else {
        // Compared as one slip however it was typed (`gnt 002`, `GNT-002`
        // and `GNT002` are one slip): here, the same on both databases.
        let key = crate::db::reference_key(m.reference);
        let candidates: Vec<(i64, i64, String)> = sqlx::query_as(&format!(
            "SELECT m.id, m.amount, m.reference FROM bank_moves m WHERE m.branch_id = $1 AND m.direction = $2
               AND {standing}{by_slip}"
        ))
        .bind(m.branch_id)
        .bind(m.direction.as_str())
        .fetch_all(&mut *c)
        .await?;
        candidates
            .into_iter()
            .find(|(_, _, r)| !key.is_empty() && crate::db::reference_key(r) == key)
            .map(|(id, a, _)| (id, a))
    };
    if let Some((id, a)) = posted {
        let reference = m.reference;
        return Err(refused(
            409,
            "bank_slip_used",
            format!("Chứng từ {reference} đã được ghi sổ (giao dịch ngân hàng số {id}, {}); không ghi lại lần nữa; nếu đã ghi sai, đề nghị đảo giao dịch đó trước", format_vnd(a)),
            format!("slip {reference} was already posted (move {id}, {}); it is not posted again; if it was posted wrong, ask to reverse that move first", format_vnd(a)),
        ));
    }
    if let Some((statement_id, line_no)) = line {
        let posted: Option<i64> = sqlx::query_scalar(&format!(
            "SELECT m.id FROM bank_moves m WHERE m.statement_id = $1 AND m.line_no = $2 AND {standing}"
        ))
        .bind(statement_id)
        .bind(line_no)
        .fetch_optional(&mut *c)
        .await?;
        if let Some(id) = posted {
            return Err(refused(
                409,
                "statement_line_posted",
                format!("Dòng {line_no} của sao kê đã được ghi sổ (giao dịch ngân hàng số {id}); không ghi lại lần nữa"),
                format!("line {line_no} of the statement was already posted (move {id}); it is not posted again"),
            ));
        }
    }
    let (into, from) = m.direction.accounts();
    let mut poster = Poster::new(c, who.user_id).await?;
    poster.load_guard(c, m.branch_id).await?;
    if from.never_negative() {
        let held = poster.guarded((from, m.branch_id, None, None));
        if held < m.amount {
            let (code, vi, en) = if from == Account::Vault {
                ("vault_short", "Quỹ tiền mặt chi nhánh", "the branch vault")
            } else {
                ("bank_short", "Tài khoản ngân hàng chi nhánh", "the branch's bank account")
            };
            return Err(refused(
                409,
                code,
                format!("{vi} còn {}, không đủ {}", format_vnd(held), format_vnd(m.amount)),
                format!("{en} holds {}, not {}", format_vnd(held), format_vnd(m.amount)),
            ));
        }
    }
    let at = At { branch_id: m.branch_id, ..At::default() };
    let amount = format_vnd(m.amount);
    let what = match m.direction {
        rv::BankDirection::Deposit => format!("Nộp {amount} tiền mặt vào tài khoản ngân hàng"),
        rv::BankDirection::Withdrawal => format!("Rút {amount} tiền mặt từ tài khoản ngân hàng"),
        rv::BankDirection::Charge => format!("Phí ngân hàng {amount}"),
        rv::BankDirection::Interest => format!("Lãi tiền gửi ngân hàng {amount}"),
    };
    let mut memo = what;
    if !m.reference.is_empty() {
        memo.push_str(&format!(", chứng từ {}", m.reference));
    }
    if let Some(l) = m.from_line {
        memo.push_str(&format!(", sao kê số {} dòng {} ngày {}", l.statement_id, l.line_no, l.booked_on.format("%d/%m/%Y")));
    }
    let entry_id = poster.plan(EntryKind::BankMove, m.branch_id, memo, ledger::bank_move(at, m.amount, (into, from))).id;
    poster.write(c, now).await?;
    let id: i64 = sqlx::query_scalar::<DB, Option<i64>>("SELECT MAX(id) FROM bank_moves")
        .fetch_one(&mut *c)
        .await?
        .unwrap_or(0)
        + 1;
    sqlx::query(
        "INSERT INTO bank_moves (id, client_id, branch_id, direction, amount, reference, entry_id, recorded_by,
             recorded_at, booked_on, statement_id, line_no)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(id)
    .bind(m.client_id)
    .bind(m.branch_id)
    .bind(m.direction.as_str())
    .bind(m.amount)
    .bind(m.reference)
    .bind(entry_id)
    .bind(who.user_id)
    .bind(now)
    .bind(m.from_line.map(|l| l.booked_on))
    .bind(m.from_line.map(|l| l.statement_id))
    .bind(m.from_line.map(|l| l.line_no))
    .execute(&mut *c)
    .await?;
    let action = match m.direction {
        rv::BankDirection::Deposit => "bank.deposit",
        rv::BankDirection::Withdrawal => "bank.withdraw",
        rv::BankDirection::Charge => "bank.charge",
        rv::BankDirection::Interest => "bank.interest",
    };
    let mut detail = serde_json::json!({
        "branch": m.branch_id, "amount": m.amount, "reference": m.reference, "entry": entry_id,
    });
    if let Some(l) = m.from_line {
        detail["statement"] = l.statement_id.into();
        detail["line"] = l.line_no.into();
        detail["booked_on"] = l.booked_on.to_string().into();
    }
    audit_append(c, &who.audit(action, "bank_move", id.to_string(), detail), now).await?;
    bank_move_view(c, id).await
}

async fn bank_move_view(c: &mut Conn, id: i64) -> DbResult<rv::BankMove> {
    let sql = format!("{BANK_MOVE_VIEW} WHERE m.id = $1");
    Ok(sqlx::query_as(&sql).bind(id).fetch_one(&mut *c).await?)
}

/// The bank moves of a branch (or the fund), newest first.
pub async fn bank_moves(c: &mut Conn, branch: Option<i64>) -> DbResult<Vec<rv::BankMove>> {
    let (kind, id) = branch.map_or((0, 0), |b| (1, b));
    let sql = format!("{BANK_MOVE_VIEW} WHERE ($1 = 0 OR m.branch_id = $2) ORDER BY m.id DESC LIMIT 500");
    Ok(sqlx::query_as(&sql).bind(kind).bind(id).fetch_all(&mut *c).await?)
}

const OVER_SHORT_VIEW: &str = "SELECT s.id, s.client_id, s.branch_id, s.officer_id, o.full_name AS officer_name,
        s.direction, s.method, s.amount, s.note, s.entry_id, u.full_name AS recorded_by, s.recorded_at,
        EXISTS (SELECT 1 FROM journal_entries x WHERE x.reverses = s.entry_id) AS reversed
    FROM over_short_settlements s JOIN users o ON o.id = s.officer_id JOIN users u ON u.id = s.recorded_by";

/// One settlement of an officer's over/short account, with the balance
/// left, if it is in `branch` (any for `None`).
pub async fn over_short_settlement(
    c: &mut Conn,
    id: i64,
    branch: Option<i64>,
) -> DbResult<Option<rv::OverShortSettlement>> {
    let sql = format!("{OVER_SHORT_VIEW} WHERE s.id = $1");
    let found: Option<rv::OverShortSettlement> = sqlx::query_as(&sql).bind(id).fetch_optional(&mut *c).await?;
    match found.filter(|v| branch.is_none_or(|b| b == v.branch_id)) {
        Some(v) => Ok(Some(over_short_view(c, v.id).await?)),
        None => Ok(None),
    }
}

/// The settlements of officers' over/short accounts of a branch (or the
/// fund), newest first, at most `limit`.
pub async fn over_short_settlements(
    c: &mut Conn,
    branch: Option<i64>,
    limit: i64,
) -> DbResult<Vec<rv::OverShortSettlement>> {
    let (kind, id) = branch.map_or((0, 0), |b| (1, b));
    let sql = format!("{OVER_SHORT_VIEW} WHERE ($1 = 0 OR s.branch_id = $2) ORDER BY s.id DESC LIMIT $3");
    Ok(sqlx::query_as(&sql).bind(kind).bind(id).bind(limit).fetch_all(&mut *c).await?)
}

/// An officer's over/short balance at a branch: what supervisors counted
/// short less what they counted over, less what was settled since
/// (positive: the officer owes the branch).
pub async fn over_short_balance(c: &mut Conn, officer_id: i64, branch_id: i64) -> DbResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(debit - credit), 0) AS BIGINT) FROM account_balances
         WHERE account = 'cash_over_short' AND officer_id = $1 AND branch_id = $2",
    )
    .bind(officer_id)
    .bind(branch_id)
    .fetch_one(&mut *c)
    .await?)
}

async fn over_short_view(c: &mut Conn, id: i64) -> DbResult<rv::OverShortSettlement> {
    let sql = format!("{OVER_SHORT_VIEW} WHERE s.id = $1");
    let mut v: rv::OverShortSettlement = sqlx::query_as(&sql).bind(id).fetch_one(&mut *c).await?;
    v.balance_after = over_short_balance(c, v.officer_id, v.branch_id).await?;
    Ok(v)
}

/// Settles an officer's over/short account, posted at once. In cash, by a
/// supervisor or the cashier of the officer's branch, or an admin: the
/// officer pays a shortage (or part of it) into the vault, or the vault
/// pays an overage back to the officer. Written off, by an admin only (the
/// fund's decision): the fund bears the shortage or keeps the overage, the
/// vault unmoved. Never more than the balance; the direction follows it.
/// A retry with the same `client_id` returns the same settlement.
pub async fn over_short_settle(
    c: &mut Conn,
    who: &rv::Reviewer,
    m: &rv::NewOverShort<'_>,
    now: DateTime<Utc>,
) -> DbResult<rv::OverShortSettlement> {
    if m.write_off && !who.is_admin {
        return Err(refused(
            403,
            "write_off_admin_only",
            "Chỉ quản trị viên của quỹ được xử lý (xóa) khoản thừa/thiếu quỹ theo quyết định của quỹ; chi nhánh ghi khoản cán bộ nộp bù hoặc nhận lại bằng tiền mặt".into(),
            "only the fund's admin may write a shortage or overage off, on the fund's decision; the branch records cash paid in or out".into(),
        ));
    }
    if m.officer_id == who.user_id {
        return Err(refused(
            403,
            "maker_checker",
            "Không được tự xử lý khoản thừa/thiếu quỹ của chính mình; cần một người khác của chi nhánh hoặc quản trị viên".into(),
            "you cannot settle your own over/short account; someone else at the branch, or an admin, must".into(),
        ));
    }
    let now = take_write_lock(c, now).await?;
    // The officer (anyone who ever held cash, whatever their role now)
    // and the branch whose over/short account is settled: the one named,
    // or theirs. Someone of another branch who never had an over/short
    // account at this one is not found (their name is not said).
    let officer: Option<(String, Option<i64>)> =
        sqlx::query_as("SELECT full_name, branch_id FROM users WHERE id = $1")
            .bind(m.officer_id)
            .fetch_optional(&mut *c)
            .await?;
    let Some((name, current, Some(branch_id))) = officer
        .map(|(name, current)| (name, current, m.branch_id.or(current)))
        .filter(|o| who.covers(o.2))
    else {
        return Err(DbError::NotFound);
    };
    if current != Some(branch_id) {
        let had_account: Option<i64> = sqlx::query_scalar(
            "SELECT officer_id FROM account_balances WHERE account = 'cash_over_short' AND officer_id = $1
                 AND branch_id = $2",
        )
        .bind(m.officer_id)
        .bind(branch_id)
        .fetch_optional(&mut *c)
        .await?;
        if had_account.is_none() {
            return Err(DbError::NotFound);
        }
    }
    let method = if m.write_off { "write_off" } else { "cash" };
    let stored: Option<(i64, i64, i64, i64, String)> = sqlx::query_as(
        "SELECT id, branch_id, officer_id, amount, method FROM over_short_settlements WHERE client_id = $1",
    )
    .bind(m.client_id)
    .fetch_optional(&mut *c)
    .await?;
    if let Some((id, stored_branch, officer_id, amount, stored_method)) = stored {
        if (stored_branch, officer_id, amount, stored_method.as_str())
            != (branch_id, m.officer_id, m.amount, method)
        {
            return Err(refused(
                409,
                "over_short_conflict",
                "Yêu cầu này (client_id) đã được gửi cho một khoản thanh toán thừa/thiếu quỹ khác; xem sổ cái rồi ghi lại".into(),
                "this request (client_id) was already sent for another over/short settlement; check the ledger, then post again".into(),
            ));
        }
        return over_short_view(c, id).await;
    }
    let balance = over_short_balance(c, m.officer_id, branch_id).await?;
    if balance == 0 {
        return Err(refused(
            409,
            "nothing_over_short",
            format!("Cán bộ {name} không còn khoản thừa hay thiếu quỹ nào chưa thanh toán"),
            format!("officer {name} has no shortage or overage left to settle"),
        ));
    }
    let paid_in = balance > 0;
    let (what_vi, what_en) = if paid_in { ("thiếu", "shortage") } else { ("thừa", "overage") };
    if m.amount > balance.abs() {
        return Err(refused(
            409,
            "above_over_short",
            format!(
                "Số tiền {} lớn hơn khoản {what_vi} quỹ còn lại của cán bộ {name}, {}",
                format_vnd(m.amount),
                format_vnd(balance.abs())
            ),
            format!(
                "{} is above the {what_en} officer {name} has left, {}",
                format_vnd(m.amount),
                format_vnd(balance.abs())
            ),
        ));
    }
    let mut poster = Poster::new(c, who.user_id).await?;
    poster.load_guard(c, branch_id).await?;
    if !paid_in && !m.write_off {
        let held = poster.guarded((Account::Vault, branch_id, None, None));
        if held < m.amount {
            return Err(refused(
                409,
                "vault_short",
                format!("Quỹ tiền mặt chi nhánh còn {}, không đủ {}", format_vnd(held), format_vnd(m.amount)),
                format!("the branch vault holds {}, not {}", format_vnd(held), format_vnd(m.amount)),
            ));
        }
    }
    let memo = match (paid_in, m.write_off) {
        (true, false) => format!("Cán bộ {name} nộp bù {} tiền thiếu quỹ: {}", format_vnd(m.amount), m.note),
        (false, false) => format!("Trả lại cán bộ {name} {} tiền thừa quỹ: {}", format_vnd(m.amount), m.note),
        (true, true) => format!("Quỹ chịu {} tiền thiếu quỹ của cán bộ {name}: {}", format_vnd(m.amount), m.note),
        (false, true) => format!("Quỹ ghi thu {} tiền thừa quỹ của cán bộ {name}: {}", format_vnd(m.amount), m.note),
    };
    let lines = ledger::over_short_settlement(branch_id, m.officer_id, m.amount, paid_in, m.write_off);
    let e = poster.plan(EntryKind::OverShortSettlement, branch_id, memo, lines);
    e.officer_id = Some(m.officer_id);
    let entry_id = e.id;
    poster.write(c, now).await?;
    let id: i64 = sqlx::query_scalar::<DB, Option<i64>>("SELECT MAX(id) FROM over_short_settlements")
        .fetch_one(&mut *c)
        .await?
        .unwrap_or(0)
        + 1;
    let direction = if paid_in { "paid_in" } else { "paid_out" };
    sqlx::query(
        "INSERT INTO over_short_settlements (id, client_id, branch_id, officer_id, direction, method, amount, note,
             entry_id, recorded_by, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(id)
    .bind(m.client_id)
    .bind(branch_id)
    .bind(m.officer_id)
    .bind(direction)
    .bind(method)
    .bind(m.amount)
    .bind(m.note)
    .bind(entry_id)
    .bind(who.user_id)
    .bind(now)
    .execute(&mut *c)
    .await?;
    // In the audit log a write-off says which way the fund took it.
    let said = match (paid_in, m.write_off) {
        (true, true) => "borne_by_fund",
        (false, true) => "kept_by_fund",
        _ => direction,
    };
    let detail = serde_json::json!({
        "officer": name, "direction": said, "amount": m.amount, "note": m.note, "entry": entry_id,
        "branch": branch_id,
    });
    let action = if m.write_off { "over_short.write_off" } else { "over_short.settle" };
    audit_append(c, &who.audit(action, "user", m.officer_id.to_string(), detail), now).await?;
    over_short_view(c, id).await
}

const DISBURSEMENT_VIEW: &str = "SELECT d.id, d.client_id, d.branch_id, d.worker_id, w.code AS worker_code,
        w.full_name AS worker_name, d.product_id, p.code AS product_code, p.name AS product_name, d.principal, d.note,
        d.method, d.bank_account, ru.full_name AS requested_by, d.requested_by AS requested_by_id, d.requested_at, x.decision,
        xu.full_name AS reviewer, x.reason, x.decided_at, x.loan_id, l.code AS loan_code, x.entry_id,
        x.transfer_ref, lc.entry_id AS taken_back_by
    FROM disbursements d JOIN workers w ON w.id = d.worker_id JOIN loan_products p ON p.id = d.product_id
        JOIN users ru ON ru.id = d.requested_by LEFT JOIN disbursement_decisions x ON x.disbursement_id = d.id
        LEFT JOIN users xu ON xu.id = x.reviewer_id LEFT JOIN loans l ON l.id = x.loan_id
        LEFT JOIN loan_cancellations lc ON lc.loan_id = x.loan_id";

async fn disbursement_view(c: &mut Conn, id: i64) -> DbResult<rv::Disbursement> {
    let sql = format!("{DISBURSEMENT_VIEW} WHERE d.id = $1");
    Ok(sqlx::query_as(&sql).bind(id).fetch_one(&mut *c).await?)
}

/// Disbursements of a branch (or the fund), of one worker (or all), newest
/// first; only those waiting for a decision if `pending_only`.
pub async fn disbursements(
    c: &mut Conn,
    branch: Option<i64>,
    worker_id: Option<i64>,
    pending_only: bool,
) -> DbResult<Vec<rv::Disbursement>> {
    let (bk, bid) = branch.map_or((0, 0), |b| (1, b));
    let (wk, wid) = worker_id.map_or((0, 0), |w| (1, w));
    let pending = if pending_only { " AND x.disbursement_id IS NULL" } else { "" };
    let sql = format!(
        "{DISBURSEMENT_VIEW} WHERE ($1 = 0 OR d.branch_id = $2) AND ($3 = 0 OR d.worker_id = $4){pending}
         ORDER BY d.id DESC LIMIT 500"
    );
    Ok(sqlx::query_as(&sql).bind(bk).bind(bid).bind(wk).bind(wid).fetch_all(&mut *c).await?)
}

#[derive(sqlx::FromRow)]
struct ProductTerms {
    code: String,
    name: String,
    annual_rate_bp: i64,
    method: String,
    frequency: String,
    installments: i64,
    min_principal: i64,
    max_principal: i64,
}

/// Kept terms (`rate_bp method frequency installments`) in words.
fn terms_words(terms: &str, vi: bool) -> String {
    use crate::reports::{percent, Lang};
    let parts: Vec<&str> = terms.split(' ').collect();
    let [rate, method, frequency, n] = parts.as_slice() else {
        return terms.to_string();
    };
    let lang = if vi { Lang::Vi } else { Lang::En };
    let rate = rate.parse().map_or_else(|_| rate.to_string(), |bp| percent(bp, lang));
    let method = match (*method, vi) {
        ("flat", true) => "lãi trên vốn gốc ban đầu",
        ("flat", false) => "flat",
        ("declining", true) => "lãi trên dư nợ giảm dần",
        ("declining", false) => "declining balance",
        (other, _) => other,
    };
    let frequency = match (*frequency, vi) {
        ("weekly", true) => "hằng tuần",
        ("biweekly", true) => "hai tuần một lần",
        ("monthly", true) => "hằng tháng",
        ("biweekly", false) => "every two weeks",
        (other, _) => other,
    };
    if vi {
        format!("lãi {rate}/năm, {method}, trả {frequency}, {n} kỳ")
    } else {
        format!("{rate} a year, {method}, paid {frequency}, {n} installments")
    }
}

impl ProductTerms {
    /// What a loan's schedule is made of, kept with a request as
    /// `rate_bp method frequency installments`.
    fn terms(&self) -> String {
        format!("{} {} {} {}", self.annual_rate_bp, self.method, self.frequency, self.installments)
    }
}

async fn product_terms(c: &mut Conn, product_id: i64) -> DbResult<ProductTerms> {
    let found: Option<ProductTerms> = sqlx::query_as(
        "SELECT code, name, annual_rate_bp, method, frequency, installments, min_principal, max_principal
         FROM loan_products WHERE id = $1",
    )
    .bind(product_id)
    .fetch_optional(&mut *c)
    .await?;
    found.ok_or_else(|| {
        refused(
            422,
            "unknown_product",
            format!("Không có sản phẩm vay số {product_id}"),
            format!("there is no loan product {product_id}"),
        )
    })
}

/// The schedule of `principal` lent on `product` on `disbursed_on`, or why
/// it cannot be lent (outside the product's limits).
fn disbursement_schedule(
    product: &ProductTerms,
    principal: i64,
    disbursed_on: NaiveDate,
) -> DbResult<Vec<sotay_core::domain::schedule::Installment>> {
    use sotay_core::domain::schedule as sched;
    if let Some((vi, en)) =
        super::outside_limits(&product.code, principal, product.min_principal, product.max_principal)
    {
        return Err(refused(422, "principal_out_of_range", vi, en));
    }
    let terms = sched::LoanTerms {
        principal,
        annual_rate_bp: product.annual_rate_bp,
        method: sched::InterestMethod::parse(&product.method)
            .ok_or_else(|| DbError::Invalid(format!("product {} has method {}", product.code, product.method)))?,
        frequency: sched::Frequency::parse(&product.frequency)
            .ok_or_else(|| DbError::Invalid(format!("product {} has frequency {}", product.code, product.frequency)))?,
        installments: u32::try_from(product.installments).unwrap_or(0),
        disbursed_on,
    };
    sched::build_schedule(&terms).map_err(|e| {
        refused(
            422,
            "schedule_invalid",
            format!("Không lập được lịch trả nợ cho sản phẩm {}: {e}", product.name),
            format!("cannot build the repayment schedule of product {}: {e}", product.code),
        )
    })
}

#[derive(sqlx::FromRow)]
struct WorkerAt {
    branch_id: i64,
    officer_id: i64,
    full_name: String,
}

/// Asks for a new loan for a worker of the asker's branch (a supervisor or
/// an admin), from a loan product, paid out in cash or by transfer to
/// `bank_account` (the worker's; given exactly for a transfer): checked
/// against the product's limits now, paid out when someone else approves
/// it. A retry with the same `client_id` returns the same request.
#[allow(clippy::too_many_arguments)]
pub async fn disbursement_request(
    c: &mut Conn,
    who: &rv::Reviewer,
    worker_id: i64,
    client_id: uuid::Uuid,
    product_id: i64,
    principal: i64,
    note: &str,
    method: rv::PayMethod,
    bank_account: Option<&str>,
    now: DateTime<Utc>,
) -> DbResult<rv::Disbursement> {
    let now = take_write_lock(c, now).await?;
    if (method == rv::PayMethod::Transfer) != bank_account.is_some() {
        return Err(DbError::Invalid("a transfer names the worker's bank account, cash does not".into()));
    }
    let worker: WorkerAt = sqlx::query_as("SELECT branch_id, officer_id, full_name FROM workers WHERE id = $1")
        .bind(worker_id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or(DbError::NotFound)?;
    if !who.covers(Some(worker.branch_id)) {
        return Err(DbError::NotFound);
    }
    let stored: Option<(i64, i64, i64, i64, String, Option<String>)> = sqlx::query_as(
        "SELECT id, worker_id, product_id, principal, method, bank_account FROM disbursements WHERE client_id = $1",
    )
    .bind(client_id)
    .fetch_optional(&mut *c)
    .await?;
    if let Some((id, w, p, a, m, account)) = stored {
        if (w, p, a, m.as_str(), account.as_deref())
            != (worker_id, product_id, principal, method.as_str(), bank_account)
        {
            return Err(refused(
                409,
                "disbursement_conflict",
                "Mã giao dịch này đã được dùng cho một đề nghị giải ngân khác".into(),
                "this transaction id was already used for another disbursement".into(),
            ));
        }
        return disbursement_view(c, id).await;
    }
    let product = product_terms(c, product_id).await?;
    disbursement_schedule(&product, principal, sotay_core::domain::time::local_date(now))?;
    let waiting: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM disbursements d WHERE d.worker_id = $1
         AND NOT EXISTS (SELECT 1 FROM disbursement_decisions x WHERE x.disbursement_id = d.id)",
    )
    .bind(worker_id)
    .fetch_one(&mut *c)
    .await?;
    if waiting > 0 {
        return Err(refused(
            409,
            "disbursement_pending",
            format!("{} đã có một đề nghị giải ngân đang chờ duyệt", worker.full_name),
            format!("{} already has a disbursement waiting for approval", worker.full_name),
        ));
    }
    let id: i64 = sqlx::query_scalar::<DB, Option<i64>>("SELECT MAX(id) FROM disbursements")
        .fetch_one(&mut *c)
        .await?
        .unwrap_or(0)
        + 1;
    sqlx::query(
        "INSERT INTO disbursements (id, client_id, branch_id, worker_id, product_id, principal, note, requested_by,
             requested_at, method, bank_account, terms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(id)
    .bind(client_id)
    .bind(worker.branch_id)
    .bind(worker_id)
    .bind(product_id)
    .bind(principal)
    .bind(note)
    .bind(who.user_id)
    .bind(now)
    .bind(method.as_str())
    .bind(bank_account)
    .bind(product.terms())
    .execute(&mut *c)
    .await?;
    let detail = serde_json::json!({
        "worker": worker_id, "product": product.code, "principal": principal, "method": method.as_str(),
        "bank_account": bank_account,
    });
    audit_append(c, &who.audit("disbursement.request", "disbursement", id.to_string(), detail), now).await?;
    disbursement_view(c, id).await
}

/// Approves a disbursement (the loan and its schedule are created, the cash
/// leaves the vault or the transfer the bank account) or rejects it with a
/// reason. The person who asked cannot decide; the vault (the bank account)
/// must hold the principal; a transfer is approved with the bank's
/// reference of it (`transfer_ref`).
pub async fn disbursement_decide(
    c: &mut Conn,
    who: &rv::Reviewer,
    id: i64,
    approve: bool,
    reason: Option<&str>,
    transfer_ref: Option<&str>,
    now: DateTime<Utc>,
) -> DbResult<rv::Disbursement> {
    let now = take_write_lock(c, now).await?;
    let sql = format!("{DISBURSEMENT_VIEW} WHERE d.id = $1");
    let head: rv::Disbursement =
        sqlx::query_as(&sql).bind(id).fetch_optional(&mut *c).await?.ok_or(DbError::NotFound)?;
    if !who.covers(Some(head.branch_id)) {
        return Err(DbError::NotFound);
    }
    if head.requested_by_id == who.user_id {
        return Err(refused(
            403,
            "maker_checker",
            "Người đề nghị giải ngân không được tự duyệt; cần một người khác".into(),
            "whoever asked for the disbursement cannot decide it; someone else must".into(),
        ));
    }
    if head.decision.is_some() {
        return Err(refused(
            409,
            "disbursement_already_decided",
            "Đề nghị giải ngân này đã được quyết định".into(),
            "this disbursement was already decided".into(),
        ));
    }
    let (mut loan_id, mut entry_id, mut reference) = (None, None, None);
    if approve {
        // Everything that could refuse the payment is checked before a
        // transfer's reference is asked for: the approver sends the money
        // only once nothing else stands in the way.
        let ready = match payable(c, who, &head, now).await {
            Ok(ready) => ready,
            // A transfer's reference given: the money was sent already, and
            // nothing is on the books for it. Said, with what to do.
            Err(DbError::Refused(mut r)) if transfer_ref.is_some() && head.method == "transfer" => {
                let r_ref = transfer_ref.unwrap_or_default();
                r.vi = format!(
                    "{}. Khoản chuyển khoản {r_ref} đã thực hiện chưa được ghi sổ: đừng chuyển lại; khi đã xử lý được điều trên (hoặc lập đề nghị mới), duyệt với cùng mã giao dịch {r_ref}",
                    r.vi.trim_end_matches('.')
                );
                r.en = format!(
                    "{}. The transfer {r_ref} already made is not on the books: do not send it again; once the above is dealt with (or a new request made), approve with the same reference {r_ref}",
                    r.en.trim_end_matches('.')
                );
                return Err(DbError::Refused(r));
            }
            Err(e) => return Err(e),
        };
        reference = match (ready.method, transfer_ref) {
            (rv::PayMethod::Transfer, None) => {
                return Err(refused(
                    422,
                    "transfer_ref_required",
                    format!(
                        "Giải ngân này bằng chuyển khoản: hãy chuyển {} từ tài khoản ngân hàng chi nhánh (đang có {}) tới tài khoản {}, rồi ghi mã giao dịch của ngân hàng khi duyệt",
                        format_vnd(head.principal),
                        format_vnd(ready.held),
                        head.bank_account.as_deref().unwrap_or("")
                    ),
                    format!(
                        "this disbursement is a transfer: send {} from the branch's bank account (holding {}) to account {}, then give the bank's transaction reference when approving",
                        format_vnd(head.principal),
                        format_vnd(ready.held),
                        head.bank_account.as_deref().unwrap_or("")
                    ),
                ))
            }
            (rv::PayMethod::Cash, Some(_)) => {
                return Err(refused(
                    422,
                    "transfer_ref_unexpected",
                    "Giải ngân này bằng tiền mặt, không có mã giao dịch ngân hàng".into(),
                    "this disbursement is paid in cash; it takes no bank transaction reference".into(),
                ))
            }
            (_, given) => given,
        };
        if let Some(r) = reference {
            transfer_ref_free(c, head.branch_id, r).await?;
        }
        let (loan, entry) = pay_out(c, ready, &head, reference, now).await?;
        (loan_id, entry_id) = (Some(loan), Some(entry));
    }
    sqlx::query(
        "INSERT INTO disbursement_decisions (disbursement_id, decision, reviewer_id, reason, loan_id, entry_id, decided_at,
             transfer_ref)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(if approve { "approved" } else { "rejected" })
    .bind(who.user_id)
    .bind(reason)
    .bind(loan_id)
    .bind(entry_id)
    .bind(now)
    .bind(reference)
    .execute(&mut *c)
    .await?;
    let action = if approve { "disbursement.approve" } else { "disbursement.reject" };
    let detail = serde_json::json!({ "loan": loan_id, "entry": entry_id, "reason": reason, "transfer_ref": reference });
    audit_append(c, &who.audit(action, "disbursement", id.to_string(), detail), now).await?;
    disbursement_view(c, id).await
}

/// A disbursement checked as payable now: its worker still at its branch,
/// its schedule from today, the money in the vault (cash) or the bank
/// account (a transfer), its loan code free.
struct Payable {
    poster: Poster,
    worker: WorkerAt,
    product: ProductTerms,
    schedule: Vec<sotay_core::domain::schedule::Installment>,
    disbursed_on: NaiveDate,
    method: rv::PayMethod,
    /// What the account it is paid from holds.
    held: i64,
    code: String,
}

async fn payable(c: &mut Conn, who: &rv::Reviewer, d: &rv::Disbursement, now: DateTime<Utc>) -> DbResult<Payable> {
    let worker: WorkerAt = sqlx::query_as("SELECT branch_id, officer_id, full_name FROM workers WHERE id = $1")
        .bind(d.worker_id)
        .fetch_one(&mut *c)
        .await?;
    if worker.branch_id != d.branch_id {
        return Err(refused(
            409,
            "worker_moved",
            format!(
                "{} đã chuyển sang chi nhánh khác từ khi đề nghị; hãy từ chối và đề nghị lại ở chi nhánh mới",
                worker.full_name
            ),
            format!(
                "{} moved to another branch since the request; reject it and ask again at the new branch",
                worker.full_name
            ),
        ));
    }
    let product = product_terms(c, d.product_id).await?;
    let asked: Option<String> = sqlx::query_scalar("SELECT terms FROM disbursements WHERE id = $1")
        .bind(d.id)
        .fetch_one(&mut *c)
        .await?;
    if let Some(asked) = asked.filter(|t| *t != product.terms()) {
        let now_terms = product.terms();
        return Err(refused(
            409,
            "product_terms_changed",
            format!(
                "Sản phẩm vay {} đã đổi điều khoản từ khi đề nghị (lúc đề nghị: {}; nay: {}): lịch trả người vay đã xem không còn đúng. Hãy từ chối đề nghị này và lập đề nghị mới",
                product.code,
                terms_words(&asked, true),
                terms_words(&now_terms, true)
            ),
            format!(
                "loan product {} changed its terms since the request (then: {}; now: {}): the schedule the worker was shown no longer holds. Reject this request and ask again",
                product.code,
                terms_words(&asked, false),
                terms_words(&now_terms, false)
            ),
        ));
    }
    let disbursed_on = sotay_core::domain::time::local_date(now);
    let schedule = disbursement_schedule(&product, d.principal, disbursed_on)?;
    let mut poster = Poster::new(c, who.user_id).await?;
    poster.load_guard(c, d.branch_id).await?;
    let method = rv::PayMethod::parse(&d.method)
        .ok_or_else(|| DbError::Invalid(format!("disbursement {} has method {}", d.id, d.method)))?;
    let held = poster.guarded((method.account(), d.branch_id, None, None));
    if held < d.principal {
        return Err(match method {
            rv::PayMethod::Transfer => refused(
                409,
                "bank_short",
                format!(
                    "Tài khoản ngân hàng chi nhánh còn {}, không đủ chuyển {}; ghi nhận vốn cho vay chuyển về tài khoản hoặc nộp tiền mặt vào ngân hàng trước, rồi duyệt lại",
                    format_vnd(held),
                    format_vnd(d.principal)
                ),
                format!(
                    "the branch's bank account holds {}, not enough to transfer {}; receive lending capital into the account or pay cash into the bank first, then approve again",
                    format_vnd(held),
                    format_vnd(d.principal)
                ),
            ),
            rv::PayMethod::Cash => refused(
                409,
                "vault_short",
                format!(
                    "Quỹ tiền mặt chi nhánh còn {}, không đủ giải ngân {}; nhận vốn cho vay hoặc tiền cán bộ nộp trước, rồi duyệt lại",
                    format_vnd(held),
                    format_vnd(d.principal)
                ),
                format!(
                    "the branch vault holds {}, not enough to pay out {}; receive lending capital or officers' cash first, then approve again",
                    format_vnd(held),
                    format_vnd(d.principal)
                ),
            ),
        });
    }
    let branch_code: String = sqlx::query_scalar("SELECT code FROM branches WHERE id = $1")
        .bind(d.branch_id)
        .fetch_one(&mut *c)
        .await?;
    let code = format!("GN-{branch_code}-{:06}", d.id);
    let taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM loans WHERE code = $1")
        .bind(&code)
        .fetch_one(&mut *c)
        .await?;
    if taken > 0 {
        return Err(refused(
            409,
            "loan_code_taken",
            format!("Mã khoản vay {code} đã có trong dữ liệu nhập; hãy đổi mã khoản vay đã nhập đó"),
            format!("loan code {code} is already used by an imported loan; rename that loan"),
        ));
    }
    Ok(Payable { poster, worker, product, schedule, disbursed_on, method, held, code })
}

/// Creates the approved loan with its schedule from today and posts its
/// money out of the vault (cash) or the bank account (a transfer, with the
/// bank's reference). Returns (loan, entry).
async fn pay_out(
    c: &mut Conn,
    ready: Payable,
    d: &rv::Disbursement,
    transfer_ref: Option<&str>,
    now: DateTime<Utc>,
) -> DbResult<(i64, i64)> {
    let Payable { mut poster, worker, product, schedule, disbursed_on, method, code, .. } = ready;
    let loan_id: i64 = sqlx::query_scalar(
        "INSERT INTO loans (code, worker_id, product_id, principal, annual_rate_bp, method, frequency, installments,
             disbursed_on, opening_paid, status, created_at, updated_at, uid)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, 'active', $10, $10, $11) RETURNING id",
    )
    .bind(&code)
    .bind(d.worker_id)
    .bind(d.product_id)
    .bind(d.principal)
    .bind(product.annual_rate_bp)
    .bind(&product.method)
    .bind(&product.frequency)
    .bind(product.installments)
    .bind(disbursed_on)
    .bind(now)
    .bind(crate::db::stable_uid("loan", &code))
    .fetch_one(&mut *c)
    .await?;
    let states: Vec<(i64, InstallmentState)> =
        InstallmentState::from_schedule(&schedule).into_iter().map(|s| (loan_id, s)).collect();
    super::insert_installments(c, &states).await?;
    let at = At { branch_id: d.branch_id, loan_id: Some(loan_id), ..At::default() };
    let memo = match transfer_ref {
        None => format!("Giải ngân {} khoản vay {code} cho {}", format_vnd(d.principal), worker.full_name),
        Some(r) => format!(
            "Giải ngân {} khoản vay {code} cho {} bằng chuyển khoản, mã giao dịch {r}",
            format_vnd(d.principal),
            worker.full_name
        ),
    };
    let lines = ledger::disbursement(at, d.principal, method.account());
    let planned = poster.plan(EntryKind::Disbursement, d.branch_id, memo, lines);
    planned.loan_id = Some(loan_id);
    let entry_id = planned.id;
    poster.write(c, now).await?;
    append_changes(c, &[(worker.officer_id, "loan", loan_id)]).await?;
    Ok((loan_id, entry_id))
}

/// The schedule a loan of `principal` on `product_id` would have if paid
/// out today, or why it cannot be lent (the request's own checks).
pub async fn disbursement_preview(
    c: &mut Conn,
    product_id: i64,
    principal: i64,
    now: DateTime<Utc>,
) -> DbResult<Vec<sotay_core::domain::schedule::Installment>> {
    let product = product_terms(c, product_id).await?;
    disbursement_schedule(&product, principal, sotay_core::domain::time::local_date(now))
}

