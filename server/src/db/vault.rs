// Counts of a branch's vault (kiểm kê quỹ tiền mặt): the cash the cashier
// found beside the vault's balance on the books, read in the same
// transaction. Nothing is posted. Included into each backend's review
// module after `review.rs` (see `mod.rs`).

const VAULT_COUNT_VIEW: &str = "SELECT v.id, v.client_id, v.branch_id, b.name AS branch_name, v.counted,
        v.book_balance, v.note, v.denominations, u.full_name AS counted_by, v.counted_at
    FROM vault_counts v JOIN branches b ON b.id = v.branch_id JOIN users u ON u.id = v.counted_by";

/// Refuses (404) a branch that does not exist or is not within `who`'s
/// reach: another branch's vault is not theirs to see.
async fn vault_branch(c: &mut Conn, who: &rv::Reviewer, branch_id: i64) -> DbResult<()> {
    if !branch_covered(c, who, branch_id).await? {
        return Err(refused(
            404,
            "not_found",
            "Không tìm thấy chi nhánh, hoặc bạn không có quyền xem".into(),
            "branch not found, or not yours to see".into(),
        ));
    }
    Ok(())
}

/// The branch vault's balance on the books now (debits − credits of the
/// kept balances): the vault cash book's closing balance for today.
pub async fn vault_balance(c: &mut Conn, branch_id: i64) -> DbResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(debit - credit), 0) AS BIGINT) FROM account_balances
         WHERE account = 'vault' AND branch_id = $1",
    )
    .bind(branch_id)
    .fetch_one(&mut *c)
    .await?)
}

/// The count by denomination checked and put in order (largest first,
/// only those counted): each a Vietnamese note or coin, counted once, and
/// together the total counted.
fn denominations_checked(counted: i64, given: &[rv::Denomination]) -> DbResult<Vec<rv::Denomination>> {
    let mut out: Vec<rv::Denomination> = Vec::new();
    for d in given {
        if !rv::DENOMINATIONS.contains(&d.value) {
            return Err(refused(
                422,
                "denomination_unknown",
                format!("{} không phải mệnh giá tiền Việt Nam đang lưu hành (500.000 ₫ đến 200 ₫)", format_vnd(d.value)),
                format!("{} is not a Vietnamese note or coin in use (500.000 ₫ down to 200 ₫)", format_vnd(d.value)),
            ));
        }
        if !(0..=10_000_000).contains(&d.count) {
            return Err(refused(
                422,
                "denomination_count",
                format!("Số tờ loại {} phải từ 0 đến 10.000.000", format_vnd(d.value)),
                format!("the count of {} must be 0 to 10.000.000", format_vnd(d.value)),
            ));
        }
        if out.iter().any(|o| o.value == d.value) {
            return Err(refused(
                422,
                "denomination_twice",
                format!("Mệnh giá {} được ghi hai lần", format_vnd(d.value)),
                format!("{} is given twice", format_vnd(d.value)),
            ));
        }
        if d.count > 0 {
            out.push(*d);
        }
    }
    out.sort_by_key(|d| std::cmp::Reverse(d.value));
    if !given.is_empty() {
        let sum: i64 = out.iter().map(|d| d.value * d.count).sum();
        if sum != counted {
            return Err(refused(
                422,
                "denominations_total",
                format!(
                    "Cộng theo mệnh giá được {}, khác số tiền kiểm kê {}: đếm lại hoặc sửa cho khớp",
                    format_vnd(sum),
                    format_vnd(counted)
                ),
                format!(
                    "the denominations add up to {}, not the {} counted: count again or correct them",
                    format_vnd(sum),
                    format_vnd(counted)
                ),
            ));
        }
    }
    Ok(out)
}

/// Records a count of a branch's vault (its cashier or supervisor, or an
/// admin): the cash found and the vault's balance on the books, read under
/// the write lock so no posting falls between. Posts nothing. A retry with
/// the same `client_id` returns the same count; with another content 409.
pub async fn vault_count(
    c: &mut Conn,
    who: &rv::Reviewer,
    m: &rv::NewVaultCount<'_>,
    now: DateTime<Utc>,
) -> DbResult<rv::VaultCount> {
    let now = take_write_lock(c, now).await?;
    vault_branch(c, who, m.branch_id).await?;
    if m.counted < 0 {
        return Err(refused(
            422,
            "invalid_field",
            "Số tiền kiểm kê không được âm".into(),
            "the cash counted cannot be negative".into(),
        ));
    }
    if m.note.chars().count() > 200 {
        return Err(refused(
            422,
            "invalid_field",
            "Ghi chú dài quá 200 ký tự".into(),
            "the note is longer than 200 characters".into(),
        ));
    }
    let denominations = denominations_checked(m.counted, &m.denominations)?;
    let as_json = (!m.denominations.is_empty())
        .then(|| serde_json::to_string(&denominations))
        .transpose()
        .map_err(|e| DbError::Invalid(e.to_string()))?;
    let stored: Option<(i64, i64, i64, String, Option<String>)> = sqlx::query_as(
        "SELECT id, branch_id, counted, note, denominations FROM vault_counts WHERE client_id = $1",
    )
    .bind(m.client_id)
    .fetch_optional(&mut *c)
    .await?;
    if let Some((id, b, counted, note, denoms)) = stored {
        if (b, counted, note.as_str(), denoms.as_deref()) != (m.branch_id, m.counted, m.note, as_json.as_deref()) {
            return Err(refused(
                409,
                "vault_count_conflict",
                format!("Yêu cầu này (client_id) đã ghi biên bản kiểm kê số {id} với nội dung khác ({}); xem danh sách rồi ghi lại", format_vnd(counted)),
                format!("this request (client_id) already recorded count {id} with other content ({}); check the list, then record again", format_vnd(counted)),
            ));
        }
        return vault_count_view(c, id).await;
    }
    let book = vault_balance(c, m.branch_id).await?;
    let id: i64 = sqlx::query_scalar::<DB, Option<i64>>("SELECT MAX(id) FROM vault_counts")
        .fetch_one(&mut *c)
        .await?
        .unwrap_or(0)
        + 1;
    sqlx::query(
        "INSERT INTO vault_counts (id, client_id, branch_id, counted, book_balance, denominations, note, counted_by,
             counted_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(m.client_id)
    .bind(m.branch_id)
    .bind(m.counted)
    .bind(book)
    .bind(as_json.as_deref())
    .bind(m.note)
    .bind(who.user_id)
    .bind(now)
    .execute(&mut *c)
    .await?;
    let detail = serde_json::json!({
        "branch": m.branch_id, "counted": m.counted, "book_balance": book, "difference": m.counted - book,
    });
    audit_append(c, &who.audit("vault.count", "vault_count", id.to_string(), detail), now).await?;
    vault_count_view(c, id).await
}

async fn vault_count_view(c: &mut Conn, id: i64) -> DbResult<rv::VaultCount> {
    let sql = format!("{VAULT_COUNT_VIEW} WHERE v.id = $1");
    let v: rv::VaultCount = sqlx::query_as(&sql).bind(id).fetch_one(&mut *c).await?;
    Ok(v.derived())
}

/// One count, if it is of `branch` (any for `None`).
pub async fn vault_count_get(c: &mut Conn, id: i64, branch: Option<i64>) -> DbResult<Option<rv::VaultCount>> {
    let sql = format!("{VAULT_COUNT_VIEW} WHERE v.id = $1");
    let found: Option<rv::VaultCount> = sqlx::query_as(&sql).bind(id).fetch_optional(&mut *c).await?;
    Ok(found.filter(|v| branch.is_none_or(|b| b == v.branch_id)).map(rv::VaultCount::derived))
}

/// The counts of a branch (or the fund), newest first, at most `limit`.
pub async fn vault_counts(c: &mut Conn, branch: Option<i64>, limit: i64) -> DbResult<Vec<rv::VaultCount>> {
    let (kind, id) = branch.map_or((0, 0), |b| (1, b));
    let sql = format!("{VAULT_COUNT_VIEW} WHERE ($1 = 0 OR v.branch_id = $2) ORDER BY v.id DESC LIMIT $3");
    let rows: Vec<rv::VaultCount> = sqlx::query_as(&sql).bind(kind).bind(id).bind(limit).fetch_all(&mut *c).await?;
    Ok(rows.into_iter().map(rv::VaultCount::derived).collect())
}
