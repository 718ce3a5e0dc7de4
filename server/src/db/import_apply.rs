// Applying master data: one import, one transaction, all or nothing.
// Included into each backend module next to `queries.rs`.
//
// Rows are keyed by their external code. A row equal to what is stored
// changes nothing; a changed row updates the stored one (a worker moved to
// another officer, a renamed branch); loans are facts once disbursed, so a
// loan code that comes back with other terms is refused.

use std::collections::HashMap;

use crate::import::rows::{
    AllocationRow, BoardingHouseRow, BranchRow, CampaignRow, ImportSet, LoanProductRow, LoanRow, Origin,
    RowError, UserRow, WorkerRow,
};
use sotay_core::domain::schedule::{self as sched, InstallmentState, LoanTerms};
use sotay_core::domain::text;

/// More errors than this are not worth reading: fix these first.
const MAX_ERRORS: usize = 200;

fn row_error(origin: &Origin, column: &str, vi: String, en: String) -> RowError {
    RowError {
        file: origin.file.clone(),
        line: origin.line,
        column: column.to_string(),
        message_vi: vi,
        message_en: en,
        refers_to: None,
        unlisted: 0,
    }
}

/// A code that finds nothing among the `known` ones; one that differs
/// from it only in letter case is named (codes are matched exactly), while
/// `listed` (the errors found so far) are fewer than an answer lists: the
/// search goes through every known code, hundreds of thousands of workers.
fn missing<'a>(
    origin: &Origin,
    column: &str,
    what_vi: &str,
    what_en: &str,
    code: &str,
    known: impl IntoIterator<Item = &'a String>,
    listed: usize,
) -> RowError {
    let case_twin = if listed < crate::import::csv::MAX_ERRORS {
        known.into_iter().find(|k| k.eq_ignore_ascii_case(code))
    } else {
        None
    };
    let (hint_vi, hint_en) = match case_twin {
        Some(k) => (
            format!("; có mã \"{k}\": mã phân biệt chữ hoa và chữ thường, hãy ghi đúng như vậy"),
            format!("; there is \"{k}\": codes are case-sensitive, write it exactly so"),
        ),
        None => Default::default(),
    };
    RowError {
        refers_to: Some(code.into()),
        ..row_error(
            origin,
            column,
            format!("Không tìm thấy {what_vi} có mã \"{code}\" (trong tệp nhập này và trong dữ liệu đã có){hint_vi}"),
            format!("no {what_en} with code \"{code}\" in this import or in the database{hint_en}"),
        )
    }
}

/// Rows of `table` whose code is new but differs from a stored code, or
/// from an earlier row's, only in letter case: refused, naming the other.
async fn case_twins(
    c: &mut Conn,
    table: &str,
    (what_vi, what_en): (&str, &str),
    rows: &[(&Origin, &String)],
    errors: &mut Vec<RowError>,
) -> DbResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let stored: Vec<String> = sqlx::query_scalar(&format!("SELECT code FROM {table}")).fetch_all(&mut *c).await?;
    let exact: std::collections::HashSet<&str> = stored.iter().map(String::as_str).collect();
    // lower case → (the code as written, the line of the file that wrote it)
    let mut seen: HashMap<String, (&str, Option<u64>)> =
        stored.iter().map(|k| (k.to_lowercase(), (k.as_str(), None))).collect();
    for (origin, code) in rows {
        if exact.contains(code.as_str()) {
            continue;
        }
        match seen.get(&code.to_lowercase()) {
            Some((twin, at)) if *twin != code.as_str() => {
                let (where_vi, where_en) = match at {
                    None => ("đã có".to_string(), "already known".to_string()),
                    Some(line) => (format!("ở dòng {line}"), format!("on line {line}")),
                };
                errors.push(row_error(
                    origin,
                    "code",
                    format!(
                        "Mã \"{code}\" chỉ khác mã \"{twin}\" ({where_vi}) ở chữ hoa, chữ thường: nếu là cùng một {what_vi}, hãy ghi đúng \"{twin}\"; nếu là {what_vi} khác, hãy đặt mã khác hẳn"
                    ),
                    format!(
                        "code \"{code}\" differs from \"{twin}\" ({where_en}) only in letter case: if it is the same {what_en}, write \"{twin}\" exactly; if it is another {what_en}, give it a code of its own"
                    ),
                ));
            }
            Some(_) => {}
            None => {
                seen.insert(code.to_lowercase(), (code.as_str(), Some(origin.line)));
            }
        }
    }
    Ok(())
}

/// Row errors found so far and what changed for the phones.
#[derive(Default)]
struct Found {
    errors: Vec<RowError>,
    changes: Changes,
}

/// What an import changed in officers' portfolios, for their phones.
#[derive(Default)]
struct Changes {
    /// (officer, entity, entity id)
    feed: Vec<(i64, &'static str, i64)>,
    /// Campaigns whose terms or quotas changed: every officer hears of them.
    campaigns: std::collections::BTreeSet<i64>,
}

fn count(counts: &mut ImportCounts, existed: bool, changed: bool) {
    match (existed, changed) {
        (false, _) => counts.created += 1,
        (true, true) => counts.updated += 1,
        (true, false) => counts.unchanged += 1,
    }
}

/// Applies `set`. Returns what changed, or every row error found (the caller
/// rolls the transaction back).
/// `user` is who imports (none from the command line): it posts the new
/// loans' opening entries.
pub async fn apply_import(
    c: &mut Conn,
    set: &ImportSet,
    user: Option<i64>,
    now: DateTime<Utc>,
) -> DbResult<ImportReport> {
    // After every writer of the books (uploads, decisions, postings take
    // this row first): what an officer still holds is read as it stands.
    sqlx::query("UPDATE sync_counter SET value = value WHERE id = 1").execute(&mut *c).await?;
    let mut report = ImportReport::default();
    let mut found = Found::default();
    // A row's own code that differs from a stored one, or an earlier
    // row's, only in letter case: codes are matched exactly, and
    // `kv-0001` beside `KV-0001` would be a second loan of the worker.
    fn own<'a, R>(rows: &'a [R], f: impl Fn(&'a R) -> (&'a Origin, &'a String)) -> Vec<(&'a Origin, &'a String)> {
        rows.iter().map(f).collect()
    }
    let keyed = [
        ("branches", "chi nhánh", "branch", own(&set.branches, |r| (&r.origin, &r.code))),
        ("users", "người dùng", "user", own(&set.users, |r| (&r.origin, &r.code))),
        ("boarding_houses", "nhà trọ", "boarding house", own(&set.boarding_houses, |r| (&r.origin, &r.code))),
        ("workers", "người lao động", "worker", own(&set.workers, |r| (&r.origin, &r.code))),
        ("loan_products", "sản phẩm vay", "loan product", own(&set.loan_products, |r| (&r.origin, &r.code))),
        ("loans", "khoản vay", "loan", own(&set.loans, |r| (&r.origin, &r.code))),
        ("campaigns", "chương trình", "campaign", own(&set.campaigns, |r| (&r.origin, &r.code))),
    ];
    for (table, what_vi, what_en, rows) in keyed {
        case_twins(c, table, (what_vi, what_en), &rows, &mut found.errors).await?;
    }
    // Those rows' own error is the one said: nothing after it of the same
    // lines (the new code's missing columns, its CCCD already the stored
    // twin's).
    let twins = found.errors.len();
    let branches = import_branches(c, &set.branches, now, &mut report.branches).await?;
    use crate::import::csv::ImportKind as K;
    let (users, moved) = import_users(
        c,
        &set.users,
        &branches,
        &|col| set.left_out(K::Users, col),
        now,
        (&mut report.users, &mut report.passwords_kept),
        &mut found.errors,
    )
    .await?;
    let houses = import_boarding_houses(
        c,
        &set.boarding_houses,
        &|col| set.left_out(K::BoardingHouses, col),
        now,
        &mut report.boarding_houses,
        &mut found.changes,
    )
    .await?;
    let workers = if set.workers.is_empty() {
        // No workers file: only the workers the loans file names, not the
        // fund's hundreds of thousands under the write lock.
        let named: Vec<String> = set.loans.iter().map(|l| l.worker_code.clone()).collect();
        worker_ids(c, &named).await?
    } else {
        let left_out = |col: &str| set.left_out(K::Workers, col);
        import_workers(c, &set.workers, &houses, &users, &left_out, now, &mut report, &mut found).await?
    };
    let products = import_products(c, &set.loan_products, now, &mut report.loan_products).await?;
    let openings = import_loans(
        c,
        &set.loans,
        &workers,
        &products,
        &|col| set.left_out(K::Loans, col),
        now,
        &mut report.loans,
        &mut found,
    )
    .await?;
    let campaigns =
        import_campaigns(c, &set.campaigns, &|col| set.left_out(K::Campaigns, col), now, &mut report.campaigns, &mut found)
            .await?;
    import_allocations(c, &set.allocations, &campaigns, &branches, &users, &mut report.allocations, &mut found)
        .await?;
    // With every file applied: what a moved officer leaves behind.
    for m in &moved {
        if let Some(e) = left_behind(c, m).await? {
            found.errors.push(e);
        }
    }
    let Found { mut errors, mut changes } = found;
    if errors.is_empty() {
        if !changes.campaigns.is_empty() {
            let officers: Vec<i64> = sqlx::query_scalar("SELECT id FROM users WHERE role = 'officer'")
                .fetch_all(&mut *c)
                .await?;
            for campaign in &changes.campaigns {
                for officer in &officers {
                    changes.feed.push((*officer, "campaign", *campaign));
                }
            }
        }
        append_changes(c, &changes.feed).await?;
        post_loan_openings(c, &openings, user, now).await?;
        Ok(report)
    } else {
        let twin_lines: std::collections::HashSet<(String, u64)> =
            errors[..twins].iter().map(|e| (e.file.clone(), e.line)).collect();
        let mut at = 0;
        errors.retain(|e| {
            at += 1;
            at <= twins || !twin_lines.contains(&(e.file.clone(), e.line))
        });
        // A code whose own row did not read, or was refused, is not also
        // "not found": the row's own error says why (a loan is not blamed
        // for its worker, whose officer's phone number did not read).
        let mut failed: std::collections::HashSet<&str> = set.unread.iter().map(String::as_str).collect();
        let mut by_line: HashMap<(&str, u64), &str> = HashMap::new();
        let origins = set.branches.iter().map(|r| (&r.origin, &r.code))
            .chain(set.users.iter().map(|r| (&r.origin, &r.code)))
            .chain(set.boarding_houses.iter().map(|r| (&r.origin, &r.code)))
            .chain(set.workers.iter().map(|r| (&r.origin, &r.code)))
            .chain(set.loan_products.iter().map(|r| (&r.origin, &r.code)))
            .chain(set.loans.iter().map(|r| (&r.origin, &r.code)))
            .chain(set.campaigns.iter().map(|r| (&r.origin, &r.code)));
        for (origin, code) in origins {
            by_line.insert((origin.file.as_str(), origin.line), code.as_str());
        }
        failed.extend(errors.iter().filter_map(|e| by_line.get(&(e.file.as_str(), e.line)).copied()));
        let own: Vec<RowError> =
            errors.iter().filter(|e| e.refers_to.as_deref().is_none_or(|code| !failed.contains(code))).cloned().collect();
        // Never an import refused without a reason.
        if !own.is_empty() || !set.unread.is_empty() {
            errors = own;
        }
        // In the order a person reads the files: by file, as they import
        // (branches first), then by line.
        let rank = |file: &str| {
            crate::import::csv::ImportKind::from_name(file)
                .and_then(|kind| crate::import::csv::ImportKind::ALL.iter().position(|k| *k == kind))
                .unwrap_or(usize::MAX)
        };
        errors.sort_by(|a, b| (rank(&a.file), &a.file, a.line).cmp(&(rank(&b.file), &b.file, b.line)));
        if errors.len() > MAX_ERRORS {
            let more = errors.len() - MAX_ERRORS;
            errors.truncate(MAX_ERRORS);
            let last = &errors[MAX_ERRORS - 1];
            let (file, line) = (last.file.clone(), last.line);
            errors.push(RowError {
                file: file.clone(),
                line,
                column: String::new(),
                message_vi: format!(
                    "Quá nhiều lỗi: còn {more} lỗi nữa sau dòng {line} của {file} không được liệt kê; hãy sửa các lỗi trên rồi nhập lại"
                ),
                message_en: format!(
                    "too many errors: {more} more after line {line} of {file} are not listed; fix the errors above and import again"
                ),
                refers_to: None,
                unlisted: more,
            });
        }
        Err(DbError::Rows(errors))
    }
}

async fn import_branches(
    c: &mut Conn,
    rows: &[BranchRow],
    now: DateTime<Utc>,
    counts: &mut ImportCounts,
) -> DbResult<HashMap<String, i64>> {
    let stored: Vec<Branch> = sqlx::query_as("SELECT id, code, name, district, industrial_zone, address FROM branches")
        .fetch_all(&mut *c)
        .await?;
    let mut by_code: HashMap<String, Branch> = stored.into_iter().map(|b| (b.code.clone(), b)).collect();
    for r in rows {
        let existing = by_code.get(&r.code);
        let same = existing.is_some_and(|b| {
            (&b.name, &b.district, &b.industrial_zone, &b.address)
                == (&r.name, &r.district, &r.industrial_zone, &r.address)
        });
        count(counts, existing.is_some(), !same);
        if same {
            continue;
        }
        let id: i64 = match existing {
            Some(b) => {
                sqlx::query(
                    "UPDATE branches SET name = $1, district = $2, industrial_zone = $3, address = $4, updated_at = $5
                     WHERE id = $6",
                )
                .bind(&r.name)
                .bind(&r.district)
                .bind(&r.industrial_zone)
                .bind(&r.address)
                .bind(now)
                .bind(b.id)
                .execute(&mut *c)
                .await?;
                b.id
            }
            None => {
                sqlx::query_scalar(
                    "INSERT INTO branches (code, name, district, industrial_zone, address, created_at, updated_at, uid)
                     VALUES ($1, $2, $3, $4, $5, $6, $6, $7) RETURNING id",
                )
                .bind(&r.code)
                .bind(&r.name)
                .bind(&r.district)
                .bind(&r.industrial_zone)
                .bind(&r.address)
                .bind(now)
                .bind(super::stable_uid("branch", &r.code))
                .fetch_one(&mut *c)
                .await?
            }
        };
        by_code.insert(
            r.code.clone(),
            Branch {
                id,
                code: r.code.clone(),
                name: r.name.clone(),
                district: r.district.clone(),
                industrial_zone: r.industrial_zone.clone(),
                address: r.address.clone(),
            },
        );
    }
    Ok(by_code.into_iter().map(|(k, b)| (k, b.id)).collect())
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
struct StoredUser {
    id: i64,
    code: String,
    username: String,
    full_name: String,
    role: String,
    branch_id: Option<i64>,
    phone: Option<String>,
}

/// What other rows need to know of a user.
#[derive(Debug, Clone, Copy)]
pub struct UserRef {
    pub id: i64,
    pub is_officer: bool,
    pub branch_id: Option<i64>,
    /// The account is not locked (someone who left).
    pub active: bool,
}

/// An officer the import moves to another branch, or gives another role.
struct Moved<'a> {
    user_id: i64,
    code: String,
    origin: &'a Origin,
    /// The column that moves them: `role` when it changes, else
    /// `branch_code`.
    column: &'static str,
}

/// Why an officer cannot leave their branch (or their role) yet: the
/// workers still assigned to them outside it, their records waiting for
/// review and the refused cash or packages not settled. Each is the old
/// branch's business (its books, its queue); moved, the officer would take
/// them into the new branch's scope and post them on its books.
async fn left_behind(c: &mut Conn, m: &Moved<'_>) -> DbResult<Option<RowError>> {
    // Their records through their batches (indexed by officer).
    let (workers, waiting, refused): (i64, i64, i64) = sqlx::query_as(concat!(
        "SELECT
            (SELECT COUNT(*) FROM workers w WHERE w.officer_id = u.id
                AND (u.role <> 'officer' OR w.branch_id <> u.branch_id)),
            (SELECT COUNT(*) FROM sync_batches b JOIN sync_records s ON s.batch_id = b.batch_id
              WHERE b.officer_id = u.id AND s.status = 'accepted'
                AND NOT EXISTS (SELECT 1 FROM record_reviews r WHERE r.record_id = s.id)),
            (SELECT COUNT(*) FROM sync_batches b JOIN sync_records s ON s.batch_id = b.batch_id
              WHERE b.officer_id = u.id AND s.kind IN ('repayment', 'gift_handout')
                AND (s.status = 'rejected' OR (s.status = 'quarantined' AND NOT ",
        voided_in_quarantine_sql!(),
        ") OR ",
        held_at_review_sql!(),
        ")
                AND NOT EXISTS (SELECT 1 FROM record_reviews r WHERE r.record_id = s.id AND r.decision = 'approved')
                AND NOT EXISTS (SELECT 1 FROM refused_settlements x WHERE x.record_id = s.id))
         FROM users u WHERE u.id = $1",
    ))
    .bind(m.user_id)
    .fetch_one(&mut *c)
    .await?;
    // Their over/short account at each branch (a shortage at one does not
    // pay an overage at another).
    let by_branch: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT branch_id, CAST(SUM(debit - credit) AS BIGINT) FROM account_balances
         WHERE account = 'cash_over_short' AND officer_id = $1 GROUP BY branch_id",
    )
    .bind(m.user_id)
    .fetch_all(&mut *c)
    .await?;
    let short: i64 = by_branch.iter().map(|b| b.1.max(0)).sum();
    let over: i64 = by_branch.iter().map(|b| (-b.1).max(0)).sum();
    if workers == 0 && waiting == 0 && refused == 0 && short == 0 && over == 0 {
        return Ok(None);
    }
    let mut vi = Vec::new();
    let mut en = Vec::new();
    // A new role at the same branch: that branch's, not "the old" one's.
    let (branch_vi, branch_en) = if m.column == "branch_code" {
        ("chi nhánh cũ", "the old branch's")
    } else {
        ("chi nhánh", "the branch's")
    };
    if workers > 0 {
        vi.push(format!("{workers} người lao động được giao (giao họ cho cán bộ khác bằng một tệp workers.csv nhập trước, hoặc trong cùng thư mục khi nhập bằng `sotay-server import`)"));
        en.push(format!("{workers} workers assigned (give them to another officer with a workers.csv imported first, or in the same folder when importing with `sotay-server import`)"));
    }
    if waiting > 0 {
        vi.push(format!("{waiting} bản ghi chờ duyệt (giám sát {branch_vi} duyệt hoặc từ chối các lô trước)"));
        en.push(format!("{waiting} records waiting for review ({branch_en} supervisor decides the batches first)"));
    }
    if refused > 0 {
        vi.push(format!("{refused} khoản thu hay suất quà bị từ chối chưa xử lý (giám sát {branch_vi} đánh dấu đã xử lý trước)"));
        en.push(format!("{refused} refused repayments or gifts not settled ({branch_en} supervisor settles them first)"));
    }
    if short > 0 {
        vi.push(format!("khoản thiếu quỹ {} chưa nộp bù (ghi ở trang Sổ cái của {branch_vi} trước)", sotay_core::domain::money::format_vnd(short)));
        en.push(format!("a cash shortage of {} not paid back (record it on {branch_en} Ledger page first)", sotay_core::domain::money::format_vnd(short)));
    }
    if over > 0 {
        vi.push(format!("khoản thừa quỹ {} chưa trả lại (ghi ở trang Sổ cái của {branch_vi} trước)", sotay_core::domain::money::format_vnd(over)));
        en.push(format!("a cash overage of {} not paid back (record it on {branch_en} Ledger page first)", sotay_core::domain::money::format_vnd(over)));
    }
    Ok(Some(row_error(
        m.origin,
        m.column,
        format!("Cán bộ \"{}\" chưa chuyển chi nhánh hay vai trò được: còn {}", m.code, vi.join("; ")),
        format!("officer \"{}\" cannot move to another branch or role yet: they still have {}", m.code, en.join("; ")),
    )))
}

async fn import_users<'a>(
    c: &mut Conn,
    rows: &'a [UserRow],
    branches: &HashMap<String, i64>,
    left_out: &(dyn Fn(&str) -> bool + Sync),
    now: DateTime<Utc>,
    (counts, passwords_kept): (&mut ImportCounts, &mut Vec<String>),
    errors: &mut Vec<RowError>,
) -> DbResult<(HashMap<String, UserRef>, Vec<Moved<'a>>)> {
    let mut moved = Vec::new();
    let stored: Vec<StoredUser> =
        sqlx::query_as("SELECT id, code, username, full_name, role, branch_id, phone FROM users")
            .fetch_all(&mut *c)
            .await?;
    let mut username_owner: HashMap<String, String> =
        stored.iter().map(|u| (u.username.clone(), u.code.clone())).collect();
    let mut by_code: HashMap<String, StoredUser> = stored.into_iter().map(|u| (u.code.clone(), u)).collect();
    for r in rows {
        let before = errors.len();
        let branch_id = match &r.branch_code {
            Some(code) if r.role.as_str() != "admin" => {
                let id = branches.get(code).copied();
                if id.is_none() {
                    errors.push(missing(&r.origin, "branch_code", "chi nhánh", "branch", code, branches.keys(), errors.len()));
                }
                id
            }
            _ => None,
        };
        if let Some(owner) = username_owner.get(&r.username).filter(|owner| **owner != r.code) {
            errors.push(row_error(
                &r.origin,
                "username",
                format!("Tên đăng nhập \"{}\" đã thuộc về người dùng mã \"{owner}\"", r.username),
                format!("username \"{}\" already belongs to user \"{owner}\"", r.username),
            ));
        }
        if errors.len() > before {
            continue;
        }
        let existing = by_code.get(&r.code).cloned();
        if existing.is_some() && r.initial_password.is_some() {
            passwords_kept.push(r.username.clone());
        }
        let wanted = StoredUser {
            id: existing.as_ref().map_or(0, |u| u.id),
            code: r.code.clone(),
            username: r.username.clone(),
            full_name: r.full_name.clone(),
            role: r.role.as_str().to_string(),
            branch_id,
            phone: match &existing {
                Some(old) if left_out("phone") => old.phone.clone(),
                _ => r.phone.clone(),
            },
        };
        let same = existing.as_ref() == Some(&wanted);
        count(counts, existing.is_some(), !same);
        if same {
            continue;
        }
        let id: i64 = match &existing {
            Some(u) => {
                if u.role == "officer" && (wanted.role != u.role || wanted.branch_id != u.branch_id) {
                    let column = if wanted.role != u.role { "role" } else { "branch_code" };
                    moved.push(Moved { user_id: u.id, code: u.code.clone(), origin: &r.origin, column });
                }
                sqlx::query(
                    "UPDATE users SET username = $1, full_name = $2, name_key = $3, role = $4, branch_id = $5,
                         phone = $6, updated_at = $7 WHERE id = $8",
                )
                .bind(&wanted.username)
                .bind(&wanted.full_name)
                .bind(text::fold(&wanted.full_name))
                .bind(&wanted.role)
                .bind(wanted.branch_id)
                .bind(&wanted.phone)
                .bind(now)
                .bind(u.id)
                .execute(&mut *c)
                .await?;
                username_owner.remove(&u.username);
                u.id
            }
            None => {
                // The initial password is only used to create the user.
                let hash = match &r.initial_password {
                    Some(p) => Some(
                        crate::auth::password::hash(p)
                            .map_err(|e| DbError::Invalid(format!("password hashing failed: {e}")))?,
                    ),
                    None => None,
                };
                sqlx::query_scalar(
                    "INSERT INTO users (code, username, full_name, name_key, role, branch_id, phone, password_hash,
                         active, created_at, updated_at, uid)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11) RETURNING id",
                )
                .bind(&wanted.code)
                .bind(&wanted.username)
                .bind(&wanted.full_name)
                .bind(text::fold(&wanted.full_name))
                .bind(&wanted.role)
                .bind(wanted.branch_id)
                .bind(&wanted.phone)
                .bind(hash)
                .bind(true)
                .bind(now)
                .bind(super::stable_uid("user", &wanted.code))
                .fetch_one(&mut *c)
                .await?
            }
        };
        username_owner.insert(wanted.username.clone(), wanted.code.clone());
        by_code.insert(r.code.clone(), StoredUser { id, ..wanted });
    }
    let locked: std::collections::HashSet<i64> = sqlx::query_scalar::<DB, i64>("SELECT id FROM users WHERE active = $1")
        .bind(false)
        .fetch_all(&mut *c)
        .await?
        .into_iter()
        .collect();
    let refs = by_code
        .into_iter()
        .map(|(code, u)| {
            let r = UserRef {
                id: u.id,
                is_officer: u.role == "officer",
                branch_id: u.branch_id,
                active: !locked.contains(&u.id),
            };
            (code, r)
        })
        .collect();
    Ok((refs, moved))
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
struct StoredHouse {
    id: i64,
    code: String,
    name: String,
    address: String,
    ward: String,
    district: String,
    industrial_zone: String,
    landlord_name: String,
    landlord_phone: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
}

async fn import_boarding_houses(
    c: &mut Conn,
    rows: &[BoardingHouseRow],
    left_out: &(dyn Fn(&str) -> bool + Sync),
    now: DateTime<Utc>,
    counts: &mut ImportCounts,
    changes: &mut Changes,
) -> DbResult<HashMap<String, i64>> {
    let all: Vec<StoredHouse> = sqlx::query_as(
        "SELECT id, code, name, address, ward, district, industrial_zone, landlord_name, landlord_phone, latitude,
             longitude FROM boarding_houses",
    )
    .fetch_all(&mut *c)
    .await?;
    let mut ids: HashMap<String, i64> = all.iter().map(|h| (h.code.clone(), h.id)).collect();
    let by_code: HashMap<String, StoredHouse> = all.into_iter().map(|h| (h.code.clone(), h)).collect();
    for r in rows {
        let existing = by_code.get(&r.code);
        let mut wanted = StoredHouse {
            id: existing.map_or(0, |h| h.id),
            code: r.code.clone(),
            name: r.name.clone(),
            address: r.address.clone(),
            ward: r.ward.clone(),
            district: r.district.clone(),
            industrial_zone: r.industrial_zone.clone(),
            landlord_name: r.landlord_name.clone(),
            landlord_phone: r.landlord_phone.clone(),
            latitude: r.latitude,
            longitude: r.longitude,
        };
        if let Some(old) = existing {
            if left_out("landlord_name") {
                wanted.landlord_name = old.landlord_name.clone();
            }
            if left_out("landlord_phone") {
                wanted.landlord_phone = old.landlord_phone.clone();
            }
            // A position is its two figures together: one column left out
            // keeps both, never half of one.
            if left_out("latitude") || left_out("longitude") {
                wanted.latitude = old.latitude;
                wanted.longitude = old.longitude;
            }
        }
        let same = existing == Some(&wanted);
        count(counts, existing.is_some(), !same);
        if same {
            continue;
        }
        let id: i64 = match existing {
            Some(h) => {
                sqlx::query(
                    "UPDATE boarding_houses SET name = $1, address = $2, ward = $3, district = $4, industrial_zone = $5,
                         landlord_name = $6, landlord_phone = $7, latitude = $8, longitude = $9, updated_at = $10
                     WHERE id = $11",
                )
                .bind(&wanted.name)
                .bind(&wanted.address)
                .bind(&wanted.ward)
                .bind(&wanted.district)
                .bind(&wanted.industrial_zone)
                .bind(&wanted.landlord_name)
                .bind(&wanted.landlord_phone)
                .bind(wanted.latitude)
                .bind(wanted.longitude)
                .bind(now)
                .bind(h.id)
                .execute(&mut *c)
                .await?;
                let officers: Vec<i64> =
                    sqlx::query_scalar("SELECT DISTINCT officer_id FROM workers WHERE boarding_house_id = $1")
                        .bind(h.id)
                        .fetch_all(&mut *c)
                        .await?;
                changes.feed.extend(officers.into_iter().map(|o| (o, "boarding_house", h.id)));
                h.id
            }
            None => {
                sqlx::query_scalar(
                    "INSERT INTO boarding_houses (code, name, address, ward, district, industrial_zone, landlord_name,
                         landlord_phone, latitude, longitude, created_at, updated_at, uid)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12) RETURNING id",
                )
                .bind(&r.code)
                .bind(&wanted.name)
                .bind(&wanted.address)
                .bind(&wanted.ward)
                .bind(&wanted.district)
                .bind(&wanted.industrial_zone)
                .bind(&wanted.landlord_name)
                .bind(&wanted.landlord_phone)
                .bind(wanted.latitude)
                .bind(wanted.longitude)
                .bind(now)
                .bind(super::stable_uid("boarding_house", &r.code))
                .fetch_one(&mut *c)
                .await?
            }
        };
        ids.insert(r.code.clone(), id);
    }
    Ok(ids)
}


#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
struct StoredWorker {
    id: i64,
    code: String,
    full_name: String,
    cccd: String,
    phone: Option<String>,
    date_of_birth: Option<NaiveDate>,
    gender: Option<String>,
    union_member: bool,
    employer: String,
    industrial_zone: String,
    boarding_house_id: Option<i64>,
    room: String,
    hardship: bool,
    hardship_note: String,
    officer_id: i64,
    branch_id: i64,
}

/// The id and officer of each of the workers `codes` names that exists.
async fn worker_ids(c: &mut Conn, codes: &[String]) -> DbResult<HashMap<String, (i64, i64)>> {
    let mut codes = codes.to_vec();
    codes.sort_unstable();
    codes.dedup();
    let mut ids = HashMap::new();
    for chunk in codes.chunks(<DB as Lists>::chunk_len()) {
        add_workers(c, "code", chunk, &mut ids).await?;
    }
    // A code found only in another letter case: the stored one is kept
    // beside, for the error to name (the row's own code still finds
    // nothing). Only on the way to an error: this reads every worker.
    let unfound: Vec<String> = codes
        .iter()
        .filter(|c| !ids.contains_key(*c))
        .map(|c| c.to_ascii_uppercase())
        .take(crate::import::csv::MAX_ERRORS)
        .collect();
    if !unfound.is_empty() {
        add_workers(c, "UPPER(code)", &unfound, &mut ids).await?;
    }
    Ok(ids)
}

/// Adds the workers whose `key` (a column or an expression of it) is one
/// of `values`: code → (id, officer).
async fn add_workers(
    c: &mut Conn,
    key: &str,
    values: &[String],
    ids: &mut HashMap<String, (i64, i64)>,
) -> DbResult<()> {
    let mut qb = sqlx::QueryBuilder::<DB>::new("SELECT code, id, officer_id FROM workers WHERE ");
    <DB as Lists>::texts(&mut qb, key, values);
    for (code, id, officer) in qb.build_query_as::<(String, i64, i64)>().fetch_all(&mut *c).await? {
        ids.insert(code, (id, officer));
    }
    Ok(())
}

/// A stored worker's values of the optional columns the file left out.
/// The columns of a worker's row whose values differ (the officer apart).
fn changed_columns(old: &StoredWorker, new: &StoredWorker) -> Vec<String> {
    let mut out = Vec::new();
    let mut differ = |column: &str, differs: bool| {
        if differs {
            out.push(column.to_string());
        }
    };
    differ("full_name", old.full_name != new.full_name);
    differ("cccd", old.cccd != new.cccd);
    differ("phone", old.phone != new.phone);
    differ("date_of_birth", old.date_of_birth != new.date_of_birth);
    differ("gender", old.gender != new.gender);
    differ("union_member", old.union_member != new.union_member);
    differ("employer", old.employer != new.employer);
    differ("industrial_zone", old.industrial_zone != new.industrial_zone);
    differ("boarding_house_code", old.boarding_house_id != new.boarding_house_id);
    differ("room", old.room != new.room);
    differ("hardship", old.hardship != new.hardship);
    differ("hardship_note", old.hardship_note != new.hardship_note);
    out
}

fn keep_left_out(wanted: &mut StoredWorker, old: &StoredWorker, left_out: &(dyn Fn(&str) -> bool + Sync)) {
    macro_rules! keep {
        ($($column:literal => $field:ident),* $(,)?) => {
            $(if left_out($column) {
                wanted.$field = old.$field.clone();
            })*
        };
    }
    keep!(
        "full_name" => full_name,
        "cccd" => cccd,
        "union_member" => union_member,
        "hardship" => hardship,
        "phone" => phone,
        "date_of_birth" => date_of_birth,
        "gender" => gender,
        "employer" => employer,
        "industrial_zone" => industrial_zone,
        "boarding_house_code" => boarding_house_id,
        "room" => room,
        "hardship_note" => hardship_note,
    );
    // A room is a room of a house: moved to another house by a file
    // without rooms, the old house's room number does not follow.
    if left_out("room") && wanted.boarding_house_id != old.boarding_house_id {
        wanted.room = String::new();
    }
}

/// A CCCD as an error may show it: its last four digits (`********2345`).
fn masked_cccd(cccd: &str) -> String {
    let n = cccd.chars().count();
    cccd.chars().enumerate().map(|(i, c)| if i + 4 < n { '*' } else { c }).collect()
}

#[allow(clippy::too_many_arguments)]
async fn import_workers(
    c: &mut Conn,
    rows: &[WorkerRow],
    houses: &HashMap<String, i64>,
    users: &HashMap<String, UserRef>,
    left_out: &(dyn Fn(&str) -> bool + Sync),
    now: DateTime<Utc>,
    report: &mut ImportReport,
    found: &mut Found,
) -> DbResult<HashMap<String, (i64, i64)>> {
    let Found { errors, changes } = found;
    let ImportReport { workers: counts, reassigned: moves, workers_changed: changed, .. } = report;
    let all: Vec<StoredWorker> = sqlx::query_as(
        "SELECT id, code, full_name, cccd, phone, date_of_birth, gender, union_member, employer, industrial_zone,
             boarding_house_id, room, hardship, hardship_note, officer_id, branch_id FROM workers",
    )
    .fetch_all(&mut *c)
    .await?;
    let mut ids: HashMap<String, (i64, i64)> = all.iter().map(|w| (w.code.clone(), (w.id, w.officer_id))).collect();
    let mut cccd_owner: HashMap<String, String> = all.iter().map(|w| (w.cccd.clone(), w.code.clone())).collect();
    let by_code: HashMap<String, StoredWorker> = all.into_iter().map(|w| (w.code.clone(), w)).collect();
    let with_loans: std::collections::HashSet<i64> = sqlx::query_scalar::<DB, i64>("SELECT DISTINCT worker_id FROM loans")
        .fetch_all(&mut *c)
        .await?
        .into_iter()
        .collect();
    // What a new worker needs that the file left out (none in a full file).
    let lacking = crate::import::csv::KEPT_WHEN_LEFT_OUT
        .iter()
        .filter(|(k, col)| *k == crate::import::csv::ImportKind::Workers && left_out(col))
        .map(|(_, col)| *col)
        .collect::<Vec<&str>>()
        .join(", ");
    // A file without officers (`code,phone`, a correction) keeps each
    // worker's: found by id.
    let by_id: HashMap<i64, &UserRef> = users.values().map(|u| (u.id, u)).collect();
    let keep_officer = left_out("officer_code");
    for r in rows {
        // Every problem of the row is reported, not only the first.
        let before = errors.len();
        let looked_up = if keep_officer {
            // A new worker is refused below, for what the file lacks.
            by_code.get(&r.code).and_then(|w| by_id.get(&w.officer_id).copied())
        } else {
            users.get(&r.officer_code)
        };
        let officer = match looked_up {
            Some(u) if u.is_officer => Some(u),
            Some(_) if keep_officer => {
                errors.push(row_error(
                    &r.origin,
                    "code",
                    format!("Người phụ trách người lao động \"{}\" không còn là cán bộ tín dụng: hãy thêm cột officer_code với mã một cán bộ", r.code),
                    format!("whoever is in charge of worker \"{}\" is no longer an officer: add an officer_code column with an officer's code", r.code),
                ));
                None
            }
            Some(_) => {
                errors.push(row_error(
                    &r.origin,
                    "officer_code",
                    format!("Người dùng \"{}\" không phải cán bộ tín dụng (officer)", r.officer_code),
                    format!("user \"{}\" is not an officer", r.officer_code),
                ));
                None
            }
            None if keep_officer => None,
            None => {
                errors.push(missing(&r.origin, "officer_code", "cán bộ", "officer", &r.officer_code, users.keys(), errors.len()));
                None
            }
        };
        let boarding_house_id = match &r.boarding_house_code {
            Some(code) => {
                let id = houses.get(code).copied();
                if id.is_none() {
                    errors.push(missing(&r.origin, "boarding_house_code", "nhà trọ", "boarding house", code, houses.keys(), errors.len()));
                }
                id
            }
            None => None,
        };
        // A new worker from a file without what a new one needs.
        if !lacking.is_empty() && !by_code.contains_key(&r.code) {
            errors.push(row_error(
                &r.origin,
                "code",
                format!("Người lao động mới \"{}\": tệp thiếu cột {lacking}, cần có để thêm người mới (tệp không có các cột đó chỉ cập nhật người đã có)", r.code),
                format!("new worker \"{}\": the file has no {lacking} column, needed to add someone new (a file without them only updates workers already stored)", r.code),
            ));
            continue;
        }
        // Two branches' sheets both numbering from NLD-00001: a row under a
        // stored worker's code whose name and CCCD are both another's is
        // another person, not a correction (a CMND replaced by a CCCD, a
        // misspelt name change one of the two).
        if let Some(old) = by_code.get(&r.code).filter(|_| !left_out("cccd") && !left_out("full_name")) {
            if old.cccd != r.cccd && text::fold(&old.full_name) != text::fold(&r.full_name) {
                let cccd = masked_cccd(&old.cccd);
                errors.push(row_error(
                    &r.origin,
                    "code",
                    format!(
                        "Mã \"{}\" đã là của người lao động {} (CCCD {cccd}); dòng này có họ tên và số CCCD đều khác, là một người khác: hãy cấp cho người mới một mã riêng chưa dùng (nếu đúng là cùng một người, hãy sửa họ tên hoặc số CCCD cho khớp rồi nhập lại)",
                        r.code, old.full_name
                    ),
                    format!(
                        "code \"{}\" already belongs to worker {} (CCCD {cccd}); this row's name and CCCD both differ, so it is someone else: give the new person a code of their own not yet used (if it is the same person, correct the name or the CCCD to match and import again)",
                        r.code, old.full_name
                    ),
                ));
            }
        }
        if let Some(owner) = cccd_owner.get(&r.cccd).filter(|o| **o != r.code && !left_out("cccd")) {
            errors.push(row_error(
                &r.origin,
                "cccd",
                format!("Số CCCD {} đã thuộc về người lao động mã \"{owner}\"", r.cccd),
                format!("CCCD {} already belongs to worker \"{owner}\"", r.cccd),
            ));
        }
        if errors.len() > before {
            continue;
        }
        let Some((officer, branch_id)) = officer.and_then(|o| Some((o, o.branch_id?))) else {
            continue;
        };
        let existing = by_code.get(&r.code);
        // An officer who left (her account locked) is given no worker: a
        // worker staying with her (a file from before) is left as it is,
        // for the admin to move.
        if !officer.active && existing.is_none_or(|w| w.officer_id != officer.id) {
            errors.push(row_error(
                &r.origin,
                "officer_code",
                format!(
                    "Tài khoản của cán bộ \"{}\" đã bị khóa (đã nghỉ việc?): không giao người lao động \"{}\" cho cán bộ này; hãy ghi mã một cán bộ đang làm việc",
                    r.officer_code, r.code
                ),
                format!(
                    "officer \"{}\"'s account is locked (left?): worker \"{}\" is not given to them; write the code of an officer still working",
                    r.officer_code, r.code
                ),
            ));
            continue;
        }
        // A borrower's loans are on their branch's books: moving them to an
        // officer of another branch would split the books from the loans.
        if let Some(old) = existing.filter(|w| w.branch_id != branch_id) {
            if with_loans.contains(&old.id) {
                errors.push(row_error(
                    &r.origin,
                    "officer_code",
                    format!(
                        "Người lao động \"{}\" có khoản vay trên sổ của chi nhánh đang quản lý; không chuyển sang cán bộ \"{}\" của chi nhánh khác bằng tệp nhập (chỉ chuyển giữa các cán bộ trong cùng chi nhánh)",
                        r.code, r.officer_code
                    ),
                    format!(
                        "worker \"{}\" has loans on their branch's books; an import does not move them to officer \"{}\" of another branch (only between officers of the same branch)",
                        r.code, r.officer_code
                    ),
                ));
                continue;
            }
        }
        let mut wanted = StoredWorker {
            id: existing.map_or(0, |w| w.id),
            code: r.code.clone(),
            full_name: r.full_name.clone(),
            cccd: r.cccd.clone(),
            phone: r.phone.clone(),
            date_of_birth: r.date_of_birth,
            gender: r.gender.clone(),
            union_member: r.union_member,
            employer: r.employer.clone(),
            industrial_zone: r.industrial_zone.clone(),
            boarding_house_id,
            room: r.room.clone(),
            hardship: r.hardship,
            hardship_note: r.hardship_note.clone(),
            officer_id: officer.id,
            branch_id,
        };
        if let Some(old) = existing {
            keep_left_out(&mut wanted, old, left_out);
        }
        let same = existing == Some(&wanted);
        count(counts, existing.is_some(), !same);
        // What a stored worker's row changes (the officer is in the list
        // of moves): a file older than a correction shows what it undoes.
        if let Some(old) = existing.filter(|_| !same) {
            let columns = changed_columns(old, &wanted);
            if !columns.is_empty() && changed.len() < ImportReport::CHANGES_LISTED {
                changed.push(WorkerChanged { worker_code: r.code.clone(), columns });
            }
        }
        if same {
            continue;
        }
        if let Some(old) = existing {
            cccd_owner.remove(&old.cccd);
            sqlx::query(
                "UPDATE workers SET full_name = $1, name_key = $2, cccd = $3, phone = $4, date_of_birth = $5,
                     gender = $6, union_member = $7, employer = $8, industrial_zone = $9, boarding_house_id = $10,
                     room = $11, hardship = $12, hardship_note = $13, officer_id = $14, branch_id = $15,
                     updated_at = $16
                 WHERE id = $17",
            )
            .bind(&wanted.full_name)
            .bind(text::fold(&wanted.full_name))
            .bind(&wanted.cccd)
            .bind(&wanted.phone)
            .bind(wanted.date_of_birth)
            .bind(&wanted.gender)
            .bind(wanted.union_member)
            .bind(&wanted.employer)
            .bind(&wanted.industrial_zone)
            .bind(wanted.boarding_house_id)
            .bind(&wanted.room)
            .bind(wanted.hardship)
            .bind(&wanted.hardship_note)
            .bind(wanted.officer_id)
            .bind(wanted.branch_id)
            .bind(now)
            .bind(old.id)
            .execute(&mut *c)
            .await?;
            changes.feed.push((wanted.officer_id, "worker", old.id));
            if old.officer_id != wanted.officer_id {
                // The old officer's phone drops the worker.
                changes.feed.push((old.officer_id, "worker", old.id));
                // What the old officer recorded about them before now is
                // still hers to sync (0042).
                sqlx::query(
                    "INSERT INTO worker_moves (worker_id, from_officer_id, to_officer_id, moved_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(old.id)
                .bind(old.officer_id)
                .bind(wanted.officer_id)
                .bind(now)
                .execute(&mut *c)
                .await?;
                // The new one's learns the gifts they already had: each such
                // campaign comes again, with its recipients.
                let gifted: Vec<i64> = sqlx::query_scalar(&format!(
                    "SELECT DISTINCT r.campaign_id FROM sync_records r WHERE r.worker_id = $1 AND {LIVE_HANDOUT}"
                ))
                .bind(old.id)
                .fetch_all(&mut *c)
                .await?;
                for campaign in gifted {
                    changes.feed.push((wanted.officer_id, "campaign", campaign));
                }
                let code_of = |id: i64| {
                    users
                        .iter()
                        .find(|(_, u)| u.id == id)
                        .map_or_else(|| id.to_string(), |(code, _)| code.clone())
                };
                moves.push(Reassignment {
                    worker_code: r.code.clone(),
                    worker_name: wanted.full_name.clone(),
                    from_officer: code_of(old.officer_id),
                    to_officer: r.officer_code.clone(),
                });
            }
            ids.insert(r.code.clone(), (old.id, wanted.officer_id));
        } else {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO workers (code, full_name, name_key, cccd, phone, date_of_birth, gender, union_member,
                     employer, industrial_zone, boarding_house_id, room, hardship, hardship_note, officer_id,
                     branch_id, created_at, updated_at, uid)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17, $18)
                 RETURNING id",
            )
            .bind(&wanted.code)
            .bind(&wanted.full_name)
            .bind(text::fold(&wanted.full_name))
            .bind(&wanted.cccd)
            .bind(&wanted.phone)
            .bind(wanted.date_of_birth)
            .bind(&wanted.gender)
            .bind(wanted.union_member)
            .bind(&wanted.employer)
            .bind(&wanted.industrial_zone)
            .bind(wanted.boarding_house_id)
            .bind(&wanted.room)
            .bind(wanted.hardship)
            .bind(&wanted.hardship_note)
            .bind(wanted.officer_id)
            .bind(wanted.branch_id)
            .bind(now)
            .bind(super::stable_uid("worker", &wanted.code))
            .fetch_one(&mut *c)
            .await?;
            changes.feed.push((wanted.officer_id, "worker", id));
            ids.insert(r.code.clone(), (id, wanted.officer_id));
        }
        cccd_owner.insert(wanted.cccd.clone(), r.code.clone());
    }
    Ok(ids)
}

async fn import_products(
    c: &mut Conn,
    rows: &[LoanProductRow],
    now: DateTime<Utc>,
    counts: &mut ImportCounts,
) -> DbResult<HashMap<String, LoanProduct>> {
    let all: Vec<LoanProduct> = sqlx::query_as(
        "SELECT id, code, name, annual_rate_bp, method, frequency, installments, min_principal, max_principal
         FROM loan_products",
    )
    .fetch_all(&mut *c)
    .await?;
    let mut by_code: HashMap<String, LoanProduct> = all.into_iter().map(|p| (p.code.clone(), p)).collect();
    for r in rows {
        let existing = by_code.get(&r.code);
        let wanted = LoanProduct {
            id: existing.map_or(0, |p| p.id),
            code: r.code.clone(),
            name: r.name.clone(),
            annual_rate_bp: r.annual_rate_bp,
            method: r.method.as_str().to_string(),
            frequency: r.frequency.as_str().to_string(),
            installments: i64::from(r.installments),
            min_principal: r.min_principal,
            max_principal: r.max_principal,
        };
        let same = existing == Some(&wanted);
        count(counts, existing.is_some(), !same);
        if same {
            continue;
        }
        // Loans copy their product's terms when disbursed: changing a product
        // never changes a loan already given.
        let id: i64 = match existing {
            Some(p) => {
                sqlx::query(
                    "UPDATE loan_products SET name = $1, annual_rate_bp = $2, method = $3, frequency = $4,
                         installments = $5, min_principal = $6, max_principal = $7, updated_at = $8 WHERE id = $9",
                )
                .bind(&wanted.name)
                .bind(wanted.annual_rate_bp)
                .bind(&wanted.method)
                .bind(&wanted.frequency)
                .bind(wanted.installments)
                .bind(wanted.min_principal)
                .bind(wanted.max_principal)
                .bind(now)
                .bind(p.id)
                .execute(&mut *c)
                .await?;
                p.id
            }
            None => {
                sqlx::query_scalar(
                    "INSERT INTO loan_products (code, name, annual_rate_bp, method, frequency, installments,
                         min_principal, max_principal, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
                )
                .bind(&wanted.code)
                .bind(&wanted.name)
                .bind(wanted.annual_rate_bp)
                .bind(&wanted.method)
                .bind(&wanted.frequency)
                .bind(wanted.installments)
                .bind(wanted.min_principal)
                .bind(wanted.max_principal)
                .bind(now)
                .fetch_one(&mut *c)
                .await?
            }
        };
        by_code.insert(r.code.clone(), LoanProduct { id, ..wanted });
    }
    Ok(by_code)
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
struct StoredLoan {
    id: i64,
    code: String,
    worker_id: i64,
    product_id: i64,
    principal: i64,
    disbursed_on: NaiveDate,
    opening_paid: i64,
}

/// What a loan row changes of the stored loan, for people: each term, what
/// is stored and what the file says (Vietnamese, English).
fn loan_differences(old: &StoredLoan, r: &LoanRow, worker_id: i64, product_id: i64) -> (String, String) {
    use sotay_core::domain::money::format_vnd;
    use sotay_core::domain::time::format_date;
    let (mut vi, mut en) = (Vec::new(), Vec::new());
    if old.worker_id != worker_id {
        vi.push(format!("người vay khác, tệp ghi {}", r.worker_code));
        en.push(format!("another borrower, the file says {}", r.worker_code));
    }
    if old.product_id != product_id {
        vi.push(format!("sản phẩm vay khác, tệp ghi {}", r.product_code));
        en.push(format!("another loan product, the file says {}", r.product_code));
    }
    if old.principal != r.principal {
        let (was, now) = (format_vnd(old.principal), format_vnd(r.principal));
        vi.push(format!("số tiền vay đang là {was}, tệp ghi {now}"));
        en.push(format!("principal is {was}, the file says {now}"));
    }
    if old.disbursed_on != r.disbursed_on {
        let (was, now) = (format_date(old.disbursed_on), format_date(r.disbursed_on));
        vi.push(format!("ngày giải ngân đang là {was}, tệp ghi {now}"));
        en.push(format!("disbursed on {was}, the file says {now}"));
    }
    if old.opening_paid != r.paid_to_date {
        let (was, now) = (format_vnd(old.opening_paid), format_vnd(r.paid_to_date));
        vi.push(format!("đã trả trước khi nhập đang là {was}, tệp ghi {now}"));
        en.push(format!("paid before the import is {was}, the file says {now}"));
    }
    (vi.join("; "), en.join("; "))
}

#[allow(clippy::too_many_arguments)]
async fn import_loans(
    c: &mut Conn,
    rows: &[LoanRow],
    workers: &HashMap<String, (i64, i64)>,
    products: &HashMap<String, LoanProduct>,
    left_out: &(dyn Fn(&str) -> bool + Sync),
    now: DateTime<Utc>,
    counts: &mut ImportCounts,
    found: &mut Found,
) -> DbResult<Vec<LoanOpening>> {
    let Found { errors, changes } = found;
    let mut openings = Vec::new();
    if rows.is_empty() {
        return Ok(openings);
    }
    let all: Vec<StoredLoan> =
        sqlx::query_as("SELECT id, code, worker_id, product_id, principal, disbursed_on, opening_paid FROM loans")
            .fetch_all(&mut *c)
            .await?;
    let by_code: HashMap<String, StoredLoan> = all.into_iter().map(|l| (l.code.clone(), l)).collect();
    let mut pending_installments: Vec<(i64, InstallmentState)> = Vec::new();
    for r in rows {
        let worker = workers.get(&r.worker_code).copied();
        if worker.is_none() {
            errors.push(missing(&r.origin, "worker_code", "người lao động", "worker", &r.worker_code, workers.keys(), errors.len()));
        }
        let product = products.get(&r.product_code);
        match product {
            None => errors.push(missing(
                &r.origin,
                "product_code",
                "sản phẩm vay",
                "loan product",
                &r.product_code,
                products.keys(),
                errors.len(),
            )),
            // A loan already imported keeps the terms it had (below).
            Some(p) if !by_code.contains_key(&r.code) => {
                if let Some((vi, en)) = outside_limits(&p.code, r.principal, p.min_principal, p.max_principal) {
                    errors.push(row_error(&r.origin, "principal", vi, en));
                }
            }
            Some(_) => {}
        }
        let (Some((worker_id, officer_id)), Some(product)) = (worker, product) else {
            continue;
        };
        if let Some(old) = by_code.get(&r.code) {
            // Without the column, what was repaid before stays as stored.
            let kept;
            let r = if left_out("paid_to_date") {
                kept = LoanRow { paid_to_date: old.opening_paid, ..r.clone() };
                &kept
            } else {
                r
            };
            let same = (old.worker_id, old.product_id, old.principal, old.disbursed_on, old.opening_paid)
                == (worker_id, product.id, r.principal, r.disbursed_on, r.paid_to_date);
            // Asked only of a loan whose terms differ (a schema before
            // cancellations had none, and its upgrades import unchanged rows).
            let cancelled = !same
                && sqlx::query_scalar::<DB, i64>("SELECT COUNT(*) FROM loan_cancellations WHERE loan_id = $1")
                    .bind(old.id)
                    .fetch_one(&mut *c)
                    .await?
                    > 0;
            if same {
                count(counts, true, false);
            } else if cancelled {
                errors.push(row_error(
                    &r.origin,
                    "code",
                    format!("Khoản vay \"{}\" đã bị hủy; nhập khoản vay đúng với một mã mới", r.code),
                    format!("loan \"{}\" was cancelled; import the right loan under a new code", r.code),
                ));
            } else {
                let (vi, en) = loan_differences(old, r, worker_id, product.id);
                errors.push(row_error(
                    &r.origin,
                    "code",
                    format!(
                        "Khoản vay \"{}\" đã có với điều kiện khác ({vi}); khoản vay đã giải ngân không sửa bằng tệp nhập. Nếu đã nhập sai và chưa thu được gì trên khoản vay, quản trị viên hủy nó (đảo bút toán nhập khoản vay) rồi nhập lại với một mã mới",
                        r.code
                    ),
                    format!(
                        "loan \"{}\" already exists with other terms ({en}); a disbursed loan is not changed by an import. If it was imported wrong and nothing was collected on it, an administrator cancels it (a reversal of its opening entry), then imports it under a new code",
                        r.code
                    ),
                ));
            }
            continue;
        }
        if outside_limits(&product.code, r.principal, product.min_principal, product.max_principal).is_some() {
            continue;
        }
        let terms = LoanTerms {
            principal: r.principal,
            annual_rate_bp: product.annual_rate_bp,
            method: sched::InterestMethod::parse(&product.method).unwrap_or(sched::InterestMethod::Flat),
            frequency: sched::Frequency::parse(&product.frequency).unwrap_or(sched::Frequency::Monthly),
            installments: u32::try_from(product.installments).unwrap_or(0),
            disbursed_on: r.disbursed_on,
        };
        let schedule = match sched::build_schedule(&terms) {
            Ok(s) => s,
            Err(e) => {
                errors.push(row_error(
                    &r.origin,
                    "principal",
                    format!("Không lập được lịch trả nợ: {e}"),
                    format!("cannot build the repayment schedule: {e}"),
                ));
                continue;
            }
        };
        let mut states = InstallmentState::from_schedule(&schedule);
        if r.paid_to_date > 0 {
            match sched::allocate(&states, r.paid_to_date) {
                Ok(a) => sched::apply_allocation(&mut states, &a, 1),
                Err(_) => {
                    let total = sched::outstanding(&states).total();
                    errors.push(row_error(
                        &r.origin,
                        "paid_to_date",
                        format!(
                            "Số đã trả {} lớn hơn tổng phải trả của khoản vay {}",
                            sotay_core::domain::money::format_vnd(r.paid_to_date),
                            sotay_core::domain::money::format_vnd(total)
                        ),
                        format!(
                            "paid_to_date {} is above the loan's total due, {}",
                            sotay_core::domain::money::format_vnd(r.paid_to_date),
                            sotay_core::domain::money::format_vnd(total)
                        ),
                    ));
                    continue;
                }
            }
        }
        let status = if sched::outstanding(&states).total() == 0 { "closed" } else { "active" };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO loans (code, worker_id, product_id, principal, annual_rate_bp, method, frequency, installments,
                 disbursed_on, opening_paid, status, created_at, updated_at, uid)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13) RETURNING id",
        )
        .bind(&r.code)
        .bind(worker_id)
        .bind(product.id)
        .bind(r.principal)
        .bind(product.annual_rate_bp)
        .bind(&product.method)
        .bind(&product.frequency)
        .bind(product.installments)
        .bind(r.disbursed_on)
        .bind(r.paid_to_date)
        .bind(status)
        .bind(now)
        .bind(super::stable_uid("loan", &r.code))
                .fetch_one(&mut *c)
        .await?;
        count(counts, false, true);
        changes.feed.push((officer_id, "loan", id));
        openings.push(LoanOpening {
            loan_id: id,
            code: r.code.clone(),
            principal_owed: states.iter().map(|s| s.principal_due - s.principal_paid).sum(),
        });
        pending_installments.extend(states.into_iter().map(|s| (id, s)));
        if pending_installments.len() >= 2_000 {
            insert_installments(c, &pending_installments).await?;
            pending_installments.clear();
        }
    }
    insert_installments(c, &pending_installments).await?;
    Ok(openings)
}

/// Why `principal` cannot be lent on product `code` (Vietnamese, English),
/// if it is outside the product's limits: for loans imported and paid out.
fn outside_limits(code: &str, principal: i64, min: i64, max: i64) -> Option<(String, String)> {
    use sotay_core::domain::money::format_vnd;
    (principal < min || principal > max).then(|| {
        (
            format!(
                "Số tiền vay {} nằm ngoài hạn mức của sản phẩm \"{code}\" ({} – {})",
                format_vnd(principal),
                format_vnd(min),
                format_vnd(max)
            ),
            format!(
                "principal {} is outside product \"{code}\" limits ({} – {})",
                format_vnd(principal),
                format_vnd(min),
                format_vnd(max)
            ),
        )
    })
}

/// A loan an import created, for its opening entry.
struct LoanOpening {
    loan_id: i64,
    code: String,
    principal_owed: i64,
}

/// Brings the new loans into the books: one `loan_opening` entry each (see
/// [`ledger::loan_opening`]) at its worker's branch. A loan that owes no
/// principal posts nothing.
async fn post_loan_openings(
    c: &mut Conn,
    openings: &[LoanOpening],
    user: Option<i64>,
    now: DateTime<Utc>,
) -> DbResult<()> {
    use crate::ledger::{self, At, EntryKind};
    let openings: Vec<&LoanOpening> = openings.iter().filter(|o| o.principal_owed > 0).collect();
    let Some(first) = openings.iter().map(|o| o.loan_id).min() else {
        return Ok(());
    };
    let branches: HashMap<i64, i64> =
        sqlx::query_as::<_, (i64, i64)>("SELECT l.id, w.branch_id FROM loans l JOIN workers w ON w.id = l.worker_id WHERE l.id >= $1")
            .bind(first)
            .fetch_all(&mut *c)
            .await?
            .into_iter()
            .collect();
    // Entry ids are given here, the next after the highest, as the posting
    // code does (this transaction holds the database's write lock).
    let last: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM journal_entries").fetch_one(&mut *c).await?;
    let mut entries = Vec::with_capacity(openings.len());
    for (n, o) in openings.iter().enumerate() {
        let branch_id = *branches
            .get(&o.loan_id)
            .ok_or_else(|| DbError::Invalid(format!("loan {} has no worker's branch", o.code)))?;
        let lines = ledger::loan_opening(At { branch_id, loan_id: Some(o.loan_id), ..At::default() }, o.principal_owed);
        debug_assert_eq!(lines.imbalance(), 0);
        entries.push((last.unwrap_or(0) + 1 + n as i64, branch_id, *o, lines));
    }
    for chunk in entries.chunks(2_000) {
        let n = chunk.len();
        insert_all(
            c,
            "INSERT INTO journal_entries (id, branch_id, kind, loan_id, posted_by, posted_at, memo) ",
            &[
                Column::Int(chunk.iter().map(|e| e.0).collect()),
                Column::Int(chunk.iter().map(|e| e.1).collect()),
                Column::Str(vec![EntryKind::LoanOpening.as_str(); n]),
                Column::OptInt(chunk.iter().map(|e| Some(e.2.loan_id)).collect()),
                Column::OptInt(vec![user; n]),
                Column::Time(vec![now; n]),
                Column::Text(chunk.iter().map(|e| format!("Dư nợ gốc khoản vay {} khi nhập dữ liệu", e.2.code)).collect()),
            ],
        )
        .await?;
        let lines: Vec<(i64, &ledger::Line)> = chunk.iter().flat_map(|e| e.3 .0.iter().map(move |l| (e.0, l))).collect();
        review::insert_journal_lines(c, &lines).await?;
    }
    Ok(())
}

async fn insert_installments(c: &mut Conn, rows: &[(i64, InstallmentState)]) -> DbResult<()> {
    for chunk in rows.chunks(500) {
        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "INSERT INTO installments (loan_id, number, due_on, principal_due, interest_due, principal_paid, interest_paid) ",
        );
        qb.push_values(chunk, |mut b, (loan_id, s)| {
            b.push_bind(*loan_id)
                .push_bind(i64::from(s.number))
                .push_bind(s.due_on)
                .push_bind(s.principal_due)
                .push_bind(s.interest_due)
                .push_bind(s.principal_paid)
                .push_bind(s.interest_paid);
        });
        qb.build().execute(&mut *c).await?;
    }
    Ok(())
}

/// What a campaign already has on the books: packages received, anything
/// posted to its accounts, gifts recorded (refused ones too: settled as
/// handed out later, they post at the campaign's value); and the first and
/// last gift's time of those that stand (waiting, approved, in quarantine).
#[derive(sqlx::FromRow)]
struct CampaignHistory {
    received: bool,
    posted: bool,
    recorded: bool,
    first_gift: Option<DateTime<Utc>>,
    last_gift: Option<DateTime<Utc>>,
}

async fn campaign_history(c: &mut Conn, id: i64) -> DbResult<CampaignHistory> {
    Ok(sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM campaign_receipts WHERE campaign_id = $1) AS received,
             EXISTS (SELECT 1 FROM account_balances WHERE campaign_id = $1 AND (debit > 0 OR credit > 0)) AS posted,
             EXISTS (SELECT 1 FROM sync_records WHERE campaign_id = $1) AS recorded,
             (SELECT MIN(recorded_at) FROM sync_records
              WHERE campaign_id = $1 AND kind = 'gift_handout' AND status IN ('accepted', 'quarantined')) AS first_gift,
             (SELECT MAX(recorded_at) FROM sync_records
              WHERE campaign_id = $1 AND kind = 'gift_handout' AND status IN ('accepted', 'quarantined')) AS last_gift",
    )
    .bind(id)
    .fetch_one(&mut *c)
    .await?)
}

/// Why a campaign row may not change the stored campaign, if it may not:
/// once packages came in or gifts were given, each was valued and booked
/// at the value and kind it had, so those stay; the dates must keep every
/// gift given inside them.
fn campaign_change_refused(old: &Campaign, r: &CampaignRow, h: &CampaignHistory) -> Vec<(&'static str, String, String)> {
    use sotay_core::domain::money::format_vnd;
    use sotay_core::domain::time::{format_date, local_date};
    let mut out = Vec::new();
    let booked = h.received || h.posted || h.recorded;
    let fix_vi = "nếu cần giá trị hay loại khác, tạo một chương trình mới với mã mới";
    let fix_en = "for another value or kind, create a new campaign under a new code";
    if booked && old.gift_value != r.gift_value {
        out.push((
            "gift_value",
            format!(
                "Chương trình \"{}\" đã nhận quà vào kho hoặc đã có quà được trao, mỗi phần quà tính {}; tệp ghi {}: giá trị một phần quà không đổi được bằng tệp nhập ({fix_vi})",
                r.code,
                format_vnd(old.gift_value),
                format_vnd(r.gift_value)
            ),
            format!(
                "campaign \"{}\" already received packages or gave gifts valued at {} each; the file says {}: the value is not changed by an import ({fix_en})",
                r.code,
                format_vnd(old.gift_value),
                format_vnd(r.gift_value)
            ),
        ));
    }
    if booked && old.kind != r.kind.as_str() {
        use sotay_core::domain::gifts::CampaignKind;
        let was = CampaignKind::parse(&old.kind).map_or_else(|| old.kind.clone(), |k| k.label_vi().to_string());
        out.push((
            "kind",
            format!(
                "Chương trình \"{}\" đã nhận quà vào kho hoặc đã có quà được trao theo loại \"{was}\"; tệp ghi \"{}\": loại không đổi được bằng tệp nhập ({fix_vi})",
                r.code,
                r.kind.label_vi()
            ),
            format!(
                "campaign \"{}\" already received packages or gave gifts as {}; the file says {}: the kind is not changed by an import ({fix_en})",
                r.code,
                old.kind,
                r.kind.as_str()
            ),
        ));
    }
    if let Some(first) = h.first_gift.map(local_date).filter(|d| *d < r.starts_on) {
        out.push((
            "starts_on",
            format!(
                "Chương trình \"{}\" đã có quà trao ngày {}, trước ngày bắt đầu {} tệp ghi",
                r.code,
                format_date(first),
                format_date(r.starts_on)
            ),
            format!(
                "campaign \"{}\" has a gift given on {}, before the start date {} the file says",
                r.code,
                format_date(first),
                format_date(r.starts_on)
            ),
        ));
    }
    if let Some(last) = h.last_gift.map(local_date).filter(|d| *d > r.ends_on) {
        out.push((
            "ends_on",
            format!(
                "Chương trình \"{}\" đã có quà trao ngày {}, sau ngày kết thúc {} tệp ghi",
                r.code,
                format_date(last),
                format_date(r.ends_on)
            ),
            format!(
                "campaign \"{}\" has a gift given on {}, after the end date {} the file says",
                r.code,
                format_date(last),
                format_date(r.ends_on)
            ),
        ));
    }
    out
}

async fn import_campaigns(
    c: &mut Conn,
    rows: &[CampaignRow],
    left_out: &(dyn Fn(&str) -> bool + Sync),
    now: DateTime<Utc>,
    counts: &mut ImportCounts,
    found: &mut Found,
) -> DbResult<HashMap<String, i64>> {
    let Found { errors, changes } = found;
    let all: Vec<Campaign> = sqlx::query_as(
        "SELECT id, code, name, kind, starts_on, ends_on, gift_value, target_count, eligibility, description FROM campaigns",
    )
    .fetch_all(&mut *c)
    .await?;
    let mut ids: HashMap<String, i64> = all.iter().map(|k| (k.code.clone(), k.id)).collect();
    let by_code: HashMap<String, Campaign> = all.into_iter().map(|k| (k.code.clone(), k)).collect();
    for r in rows {
        let existing = by_code.get(&r.code);
        let wanted = Campaign {
            id: existing.map_or(0, |k| k.id),
            code: r.code.clone(),
            name: r.name.clone(),
            kind: r.kind.as_str().to_string(),
            starts_on: r.starts_on,
            ends_on: r.ends_on,
            gift_value: r.gift_value,
            target_count: r.target_count,
            eligibility: r.eligibility.as_str().to_string(),
            description: match existing {
                Some(old) if left_out("description") => old.description.clone(),
                _ => r.description.clone(),
            },
        };
        let same = existing == Some(&wanted);
        count(counts, existing.is_some(), !same);
        if same {
            continue;
        }
        match existing {
            Some(k) => {
                let history = campaign_history(c, k.id).await?;
                let refused = campaign_change_refused(k, r, &history);
                if !refused.is_empty() {
                    for (column, vi, en) in refused {
                        errors.push(row_error(&r.origin, column, vi, en));
                    }
                    continue;
                }
                sqlx::query(
                    "UPDATE campaigns SET name = $1, kind = $2, starts_on = $3, ends_on = $4, gift_value = $5,
                         target_count = $6, eligibility = $7, description = $8, updated_at = $9 WHERE id = $10",
                )
                .bind(&wanted.name)
                .bind(&wanted.kind)
                .bind(wanted.starts_on)
                .bind(wanted.ends_on)
                .bind(wanted.gift_value)
                .bind(wanted.target_count)
                .bind(&wanted.eligibility)
                .bind(&wanted.description)
                .bind(now)
                .bind(k.id)
                .execute(&mut *c)
                .await?;
                changes.campaigns.insert(k.id);
            }
            None => {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO campaigns (code, name, kind, starts_on, ends_on, gift_value, target_count, eligibility,
                         description, created_at, updated_at, uid)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11) RETURNING id",
                )
                .bind(&wanted.code)
                .bind(&wanted.name)
                .bind(&wanted.kind)
                .bind(wanted.starts_on)
                .bind(wanted.ends_on)
                .bind(wanted.gift_value)
                .bind(wanted.target_count)
                .bind(&wanted.eligibility)
                .bind(&wanted.description)
                .bind(now)
                .bind(super::stable_uid("campaign", &wanted.code))
                .fetch_one(&mut *c)
                .await?;
                changes.campaigns.insert(id);
                ids.insert(r.code.clone(), id);
            }
        }
    }
    Ok(ids)
}

async fn import_allocations(
    c: &mut Conn,
    rows: &[AllocationRow],
    campaigns: &HashMap<String, i64>,
    branches: &HashMap<String, i64>,
    users: &HashMap<String, UserRef>,
    counts: &mut ImportCounts,
    found: &mut Found,
) -> DbResult<()> {
    let Found { errors, changes } = found;
    let mut branch_quota: HashMap<(i64, i64), i64> = sqlx::query_as::<DB, (i64, i64, i64)>(
        "SELECT campaign_id, branch_id, quota FROM campaign_branch_quotas",
    )
    .fetch_all(&mut *c)
    .await?
    .into_iter()
    .map(|(k, b, q)| ((k, b), q))
    .collect();
    let mut officer_quota: HashMap<(i64, i64), (Option<i64>, i64)> = sqlx::query_as::<DB, (i64, i64, Option<i64>, i64)>(
        "SELECT q.campaign_id, q.officer_id, u.branch_id, q.quota FROM campaign_officer_quotas q
         JOIN users u ON u.id = q.officer_id",
    )
    .fetch_all(&mut *c)
    .await?
    .into_iter()
    .map(|(k, o, b, q)| ((k, o), (b, q)))
    .collect();
    // (campaign, branch) → the line of this import that set the branch's
    // quota, else the first that touched it: where a quota too small for
    // its officers' is pointed at.
    let mut touched: HashMap<(i64, i64), &Origin> = HashMap::new();
    // (campaign, branch) → their codes, as the file names them.
    let mut named: HashMap<(i64, i64), (&str, &str)> = HashMap::new();
    // Quotas set by this import: (campaign, officer or branch) → the line.
    let mut set_officer: HashMap<(i64, i64), (&Origin, &str)> = HashMap::new();
    for r in rows {
        let Some(&campaign_id) = campaigns.get(&r.campaign_code) else {
            errors.push(missing(&r.origin, "campaign_code", "chương trình", "campaign", &r.campaign_code, campaigns.keys(), errors.len()));
            continue;
        };
        let Some(&branch_id) = branches.get(&r.branch_code) else {
            errors.push(missing(&r.origin, "branch_code", "chi nhánh", "branch", &r.branch_code, branches.keys(), errors.len()));
            continue;
        };
        touched.entry((campaign_id, branch_id)).or_insert(&r.origin);
        named.entry((campaign_id, branch_id)).or_insert((&r.campaign_code, &r.branch_code));
        match &r.officer_code {
            None => {
                touched.insert((campaign_id, branch_id), &r.origin);
                let old = branch_quota.insert((campaign_id, branch_id), r.quota);
                count(counts, old.is_some(), old != Some(r.quota));
                if old != Some(r.quota) {
                    changes.campaigns.insert(campaign_id);
                    sqlx::query(
                        "INSERT INTO campaign_branch_quotas (campaign_id, branch_id, quota) VALUES ($1, $2, $3)
                         ON CONFLICT (campaign_id, branch_id) DO UPDATE SET quota = excluded.quota",
                    )
                    .bind(campaign_id)
                    .bind(branch_id)
                    .bind(r.quota)
                    .execute(&mut *c)
                    .await?;
                }
            }
            Some(code) => {
                let officer = match users.get(code) {
                    Some(u) if u.is_officer && u.branch_id == Some(branch_id) => u,
                    Some(u) if !u.is_officer => {
                        errors.push(row_error(
                            &r.origin,
                            "officer_code",
                            format!("\"{code}\" không phải cán bộ tín dụng (officer): chỉ cán bộ tín dụng trao quà và nhận chỉ tiêu; để trống officer_code cho dòng chỉ tiêu của chi nhánh"),
                            format!("\"{code}\" is not a loan officer: only officers hand out gifts and get a quota; leave officer_code empty for the branch's quota row"),
                        ));
                        continue;
                    }
                    Some(_) => {
                        errors.push(row_error(
                            &r.origin,
                            "officer_code",
                            format!("\"{code}\" không phải cán bộ của chi nhánh \"{}\"", r.branch_code),
                            format!("\"{code}\" is not an officer of branch \"{}\"", r.branch_code),
                        ));
                        continue;
                    }
                    None => {
                        errors.push(missing(&r.origin, "officer_code", "cán bộ", "officer", code, users.keys(), errors.len()));
                        continue;
                    }
                };
                // An officer who left gets no more gifts to hand out (her
                // quota may go down, to 0; a row as stored is let be).
                let before = officer_quota.get(&(campaign_id, officer.id)).map(|(_, q)| *q);
                if !officer.active && r.quota > before.unwrap_or(0) {
                    errors.push(row_error(
                        &r.origin,
                        "officer_code",
                        format!("Tài khoản của cán bộ \"{code}\" đã bị khóa (đã nghỉ việc?): không giao thêm suất quà cho cán bộ này; hãy giao cho một cán bộ đang làm việc"),
                        format!("officer \"{code}\"'s account is locked (left?): no more gifts are given to them to hand out; give them to an officer still working"),
                    ));
                    continue;
                }
                let old = officer_quota.insert((campaign_id, officer.id), (Some(branch_id), r.quota));
                let changed = old.map(|(_, q)| q) != Some(r.quota);
                // A row as stored is let be (the file sent again), even
                // under gifts settled as handed out past the quota since.
                if changed {
                    set_officer.insert((campaign_id, officer.id), (&r.origin, code.as_str()));
                }
                count(counts, old.is_some(), changed);
                if changed {
                    changes.campaigns.insert(campaign_id);
                    sqlx::query(
                        "INSERT INTO campaign_officer_quotas (campaign_id, officer_id, quota) VALUES ($1, $2, $3)
                         ON CONFLICT (campaign_id, officer_id) DO UPDATE SET quota = excluded.quota",
                    )
                    .bind(campaign_id)
                    .bind(officer.id)
                    .bind(r.quota)
                    .execute(&mut *c)
                    .await?;
                }
            }
        }
    }
    // Officers' quotas within a branch never exceed the branch's.
    for (&(campaign_id, branch_id), origin) in &touched {
        let officers: i64 = officer_quota
            .iter()
            .filter(|((k, _), (b, _))| *k == campaign_id && *b == Some(branch_id))
            .map(|(_, (_, q))| q)
            .sum();
        let branch = branch_quota.get(&(campaign_id, branch_id));
        match branch {
            None if officers > 0 => {
                let (k, b) = named.get(&(campaign_id, branch_id)).copied().unwrap_or_default();
                errors.push(RowError {
                    // Not said when the branch's row is there but did not read.
                    refers_to: Some(crate::import::rows::branch_quota_key(k, b).into()),
                    ..row_error(
                        origin,
                        "branch_code",
                        "Chi nhánh chưa có chỉ tiêu cho chương trình này: thêm một dòng không có officer_code trước".into(),
                        "the branch has no quota for this campaign: add a row without officer_code first".into(),
                    )
                })
            }
            Some(&q) if officers > q => {
                let (k, b) = named.get(&(campaign_id, branch_id)).copied().unwrap_or_default();
                errors.push(row_error(
                    origin,
                    "quota",
                    format!("Chương trình {k}, chi nhánh {b}: tổng chỉ tiêu của các cán bộ ({officers}) vượt chỉ tiêu của chi nhánh ({q}); giảm chỉ tiêu của cán bộ hoặc tăng chỉ tiêu chi nhánh"),
                    format!("campaign {k}, branch {b}: the officers' quotas add up to {officers}, above the branch's quota {q}; lower the officers' quotas or raise the branch's"),
                ))
            }
            _ => {}
        }
    }
    // No officer's quota below the gifts they have already handed out under
    // it (those waiting for review count: the packages are gone). A
    // branch's follows: it cannot be below its officers' quotas (above).
    if !set_officer.is_empty() {
        let given: Vec<(i64, i64, i64)> = sqlx::query_as(&format!(
            "SELECT r.campaign_id, r.officer_id, COUNT(*) FROM sync_records r
             WHERE {LIVE_HANDOUT} GROUP BY r.campaign_id, r.officer_id"
        ))
        .fetch_all(&mut *c)
        .await?;
        for (campaign_id, officer_id, n) in given {
            if let Some((origin, code)) = set_officer.get(&(campaign_id, officer_id)) {
                let quota = officer_quota.get(&(campaign_id, officer_id)).map_or(0, |q| q.1);
                if quota < n {
                    errors.push(row_error(
                        origin,
                        "quota",
                        format!("Chỉ tiêu {quota} suất thấp hơn {n} suất cán bộ \"{code}\" đã trao trong chương trình này: ghi ít nhất {n}"),
                        format!("a quota of {quota} is below the {n} gifts officer \"{code}\" has already handed out in this campaign: give at least {n}"),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The changes for the officers who have the workers of `records` now,
/// when another than the record's own (the worker moved since): of a gift,
/// the campaign (their phones learn whether the worker has it); of a
/// receipt, the loan (whether it still waits for review there).
pub async fn moved_workers_changes(c: &mut Conn, records: &[i64]) -> DbResult<Vec<(i64, &'static str, i64)>> {
    let mut feed = Vec::new();
    for chunk in records.chunks(<DB as Lists>::chunk_len()) {
        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "SELECT DISTINCT w.officer_id, r.campaign_id FROM sync_records r JOIN workers w ON w.id = r.worker_id
             WHERE r.kind = 'gift_handout' AND r.campaign_id IS NOT NULL AND w.officer_id <> r.officer_id AND ",
        );
        <DB as Lists>::ints(&mut qb, "r.id", chunk);
        for (officer, k) in qb.build_query_as::<(i64, i64)>().fetch_all(&mut *c).await? {
            feed.push((officer, "campaign", k));
        }
        // A receipt on a loan whose worker moved to another officer since:
        // her phone counts it as waiting (or not) with the loan.
        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "SELECT DISTINCT w.officer_id, r.loan_id FROM sync_records r JOIN loans l ON l.id = r.loan_id
                 JOIN workers w ON w.id = l.worker_id
             WHERE r.kind = 'repayment' AND w.officer_id <> r.officer_id AND ",
        );
        <DB as Lists>::ints(&mut qb, "r.id", chunk);
        for (officer, loan) in qb.build_query_as::<(i64, i64)>().fetch_all(&mut *c).await? {
            feed.push((officer, "loan", loan));
        }
        // A void or a reversal request of such a receipt: the same.
        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "SELECT DISTINCT w.officer_id, t.loan_id FROM sync_records r
                 JOIN sync_records t ON t.client_id = r.target_client_id
                 JOIN loans l ON l.id = t.loan_id JOIN workers w ON w.id = l.worker_id
             WHERE r.kind IN ('void', 'reversal_request') AND t.kind = 'repayment'
               AND w.officer_id <> t.officer_id AND ",
        );
        <DB as Lists>::ints(&mut qb, "r.id", chunk);
        for (officer, loan) in qb.build_query_as::<(i64, i64)>().fetch_all(&mut *c).await? {
            feed.push((officer, "loan", loan));
        }
    }
    feed.sort_unstable();
    feed.dedup();
    Ok(feed)
}

/// Appends to the change feed under the counter's lock: the lock is held to
/// the end of the transaction, so sequence numbers become visible in order
/// and a reader's cursor never skips a row (a bare BIGSERIAL could commit
/// out of order on PostgreSQL).
pub async fn append_changes(c: &mut Conn, feed: &[(i64, &'static str, i64)]) -> DbResult<()> {
    if feed.is_empty() {
        return Ok(());
    }
    let last: i64 = sqlx::query_scalar("UPDATE sync_counter SET value = value + $1 WHERE id = 1 RETURNING value")
        .bind(feed.len() as i64)
        .fetch_one(&mut *c)
        .await?;
    let first = last - feed.len() as i64 + 1;
    let columns = [
        Column::Int((first..=last).collect()),
        Column::Int(feed.iter().map(|f| f.0).collect()),
        Column::Str(feed.iter().map(|f| f.1).collect()),
        Column::Int(feed.iter().map(|f| f.2).collect()),
    ];
    insert_all(c, "INSERT INTO sync_changes (seq, officer_id, entity, entity_id) ", &columns).await?;
    Ok(())
}
