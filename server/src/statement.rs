//! Bank statements (sao kê) of a branch's bank account: read from the CSV or
//! XLSX file the bank's internet banking exports, then reconciled with the
//! account's book, line by line.
//!
//! Banks name their columns differently and often in both languages
//! (`Ngày GD / Transaction Date`); a column is recognised when its header,
//! or one of its parts between `/` or line breaks, is one of the names
//! below once folded (lower case, no accents). Rows before the header (the
//! account's name, the period) and rows without a date after it (opening
//! balance, totals) are skipped; every dated row must be one movement, in
//! or out, in whole đồng.

use std::io::Cursor;

use calamine::{Data, Reader, Xls, Xlsx};
use chrono::NaiveDate;
use serde::Serialize;
use sotay_core::domain::money::{format_vnd, Dong, MAX_AMOUNT};
use sotay_core::domain::text::fold;
use utoipa::ToSchema;

use crate::db::{StatementBook, StatementSummary};

/// One movement of the account as the statement gives it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StatementLine {
    /// The row in the file (1-based, as a spreadsheet numbers it).
    pub line_no: i64,
    pub booked_on: NaiveDate,
    pub reference: String,
    pub description: String,
    pub money_in: i64,
    pub money_out: i64,
    /// The account's balance after this line, when the file gives it.
    pub balance: Option<i64>,
}

/// Why a file could not be read, at which row and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line_no: i64,
    pub column: String,
    pub vi: String,
    pub en: String,
}

/// At most this many errors are reported for one file.
pub const MAX_ERRORS: usize = 50;
/// Rows searched for the header, at most.
const HEADER_ROWS: usize = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Date,
    Reference,
    Description,
    MoneyIn,
    MoneyOut,
    Amount,
    Balance,
}

const NAMES: &[(Field, &[&str])] = &[
    (
        Field::Date,
        &[
            "ngay",
            "ngay giao dich",
            "ngay gd",
            "ngay hach toan",
            "ngay hieu luc",
            "ngay ghi so",
            "ngay thuc hien",
            "thoi gian",
            "thoi gian giao dich",
            "date",
            "transaction date",
            "txn date",
            "tnx date",
            "posting date",
            "value date",
            "effective date",
            "booking date",
        ],
    ),
    (
        Field::Reference,
        &[
            "so tham chieu",
            "ma tham chieu",
            "ma giao dich",
            "ma gd",
            "so giao dich",
            "so but toan",
            "so ct",
            "so chung tu",
            "reference",
            "reference no",
            "ref",
            "ref no",
            "transaction no",
            "transaction id",
            "txn id",
            "doc no",
        ],
    ),
    (
        Field::Description,
        &[
            "noi dung",
            "noi dung giao dich",
            "dien giai",
            "mo ta",
            "chi tiet",
            "description",
            "details",
            "transaction details",
            "remark",
            "remarks",
            "narrative",
        ],
    ),
    (
        Field::MoneyIn,
        &[
            "ghi co",
            "so tien ghi co",
            "phat sinh co",
            "co",
            "tien vao",
            "so tien vao",
            "credit",
            "credit amount",
            "money in",
            "deposit",
            "deposits",
            "cr",
        ],
    ),
    (
        Field::MoneyOut,
        &[
            "ghi no",
            "so tien ghi no",
            "phat sinh no",
            "no",
            "tien ra",
            "so tien ra",
            "debit",
            "debit amount",
            "money out",
            "withdrawal",
            "withdrawals",
            "dr",
        ],
    ),
    (
        Field::Amount,
        &[
            "so tien",
            "so tien giao dich",
            "amount",
            "transaction amount",
        ],
    ),
    (
        Field::Balance,
        &[
            "so du",
            "so du cuoi",
            "so du sau giao dich",
            "balance",
            "running balance",
            "closing balance",
        ],
    ),
];

/// Names of a row-number column (`STT / No.`): never read as money, even
/// though `No.` folds like `Nợ`.
const ROW_NUMBERS: &[&str] = &["stt", "so tt", "so thu tu", "tt", "seq", "no"];

impl Field {
    fn of(header: &str) -> Option<Field> {
        let parts: Vec<(String, String)> = header
            .split(['/', '\n', '\r', '|', '(', ')'])
            .map(|raw| {
                let raw = sotay_core::domain::text::clean(raw).to_lowercase();
                let folded = fold(&raw);
                (raw, folded)
            })
            .filter(|(_, folded)| !folded.is_empty())
            .collect();
        // `Nợ` and `Có` alone count only written with their accents; other
        // row-number names (`STT`, `No.`) say nothing of the column.
        let accented = |raw: &str, folded: &str| match folded {
            "no" => raw.contains('ợ'),
            "co" => raw.contains('ó'),
            _ => !ROW_NUMBERS.contains(&folded),
        };
        // A row-number half says nothing of the column (`Số CT/No.` is
        // still a reference); a row-number column has nothing else.
        parts
            .iter()
            .filter(|(raw, folded)| accented(raw, folded))
            .find_map(|(_, folded)| {
                NAMES
                    .iter()
                    .find(|(_, names)| names.contains(&folded.as_str()))
                    .map(|(f, _)| *f)
            })
    }

    fn label(self) -> &'static str {
        match self {
            Field::Date => "ngày giao dịch",
            Field::Reference => "số tham chiếu",
            Field::Description => "nội dung",
            Field::MoneyIn => "ghi có",
            Field::MoneyOut => "ghi nợ",
            Field::Amount => "số tiền",
            Field::Balance => "số dư",
        }
    }
}

/// A cell as read: text, or a number or date from a spreadsheet.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Text(String),
    Number(f64),
    Day(NaiveDate),
    Empty,
}

impl Cell {
    fn is_empty(&self) -> bool {
        match self {
            // Some exports put a dash in the column a line does not use.
            Cell::Text(t) => matches!(t.trim(), "" | "-" | "–" | "—"),
            Cell::Empty => true,
            _ => false,
        }
    }

    fn text(&self) -> String {
        match self {
            Cell::Text(t) => sotay_core::domain::text::clean(t),
            // A reference an export wrote as a number (`123456`).
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Cell::Number(n) => n.to_string(),
            Cell::Day(d) => d.format("%d/%m/%Y").to_string(),
            Cell::Empty => String::new(),
        }
    }
}

/// Reads a statement file: XLSX when it is one (a ZIP archive), else CSV
/// (UTF-8, with or without a byte order mark; comma, semicolon or tab).
pub fn read(bytes: &[u8]) -> Result<Vec<StatementLine>, Vec<LineError>> {
    if bytes.starts_with(b"PK\x03\x04") {
        read_sheet(Xlsx::new(Cursor::new(bytes)))
    } else if bytes.starts_with(b"\xD0\xCF\x11\xE0") {
        // Excel 97–2003 (.xls).
        read_sheet(Xls::new(Cursor::new(bytes)))
    } else if text_of(bytes).is_some_and(|t| t.trim_start().starts_with('<')) {
        // A web page saved with an .xls name, as some banks export.
        Err(file_error(
            "Tệp này là trang web (HTML) mang tên .xls, không phải bảng tính; hãy mở bằng Excel rồi lưu thành .xlsx hoặc CSV UTF-8",
            "this file is a web page (HTML) named .xls, not a spreadsheet; open it in Excel and save it as .xlsx or UTF-8 CSV",
        ))
    } else {
        read_csv(bytes)
    }
}

fn file_error(vi: impl Into<String>, en: impl Into<String>) -> Vec<LineError> {
    vec![LineError {
        line_no: 0,
        column: String::new(),
        vi: vi.into(),
        en: en.into(),
    }]
}

/// The text of a CSV file: UTF-8 (with or without a byte order mark), or
/// UTF-16 with its mark (Excel's "Unicode Text").
fn text_of(bytes: &[u8]) -> Option<String> {
    let utf16 = |rest: &[u8], word: fn([u8; 2]) -> u16| {
        if rest.len() % 2 != 0 {
            return None;
        }
        let units: Vec<u16> = rest.chunks_exact(2).map(|c| word([c[0], c[1]])).collect();
        String::from_utf16(&units).ok()
    };
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        utf16(rest, u16::from_le_bytes)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        utf16(rest, u16::from_be_bytes)
    } else {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        String::from_utf8(bytes.to_vec()).ok()
    }
}

fn read_csv(bytes: &[u8]) -> Result<Vec<StatementLine>, Vec<LineError>> {
    let Some(text) = text_of(bytes) else {
        return Err(file_error(
            "Tệp không phải CSV mã UTF-8 hay XLSX; khi lưu từ Excel hãy chọn \"CSV UTF-8\" hoặc giữ nguyên tệp .xlsx",
            "the file is neither UTF-8 CSV nor XLSX; when saving from Excel choose \"CSV UTF-8\", or keep the .xlsx file",
        ));
    };
    // The delimiter under which a header row is found (a semicolon file
    // may hold more commas, in its amounts, than semicolons).
    let mut first = None;
    for delimiter in [b',', b';', b'\t'] {
        let rows = csv_rows(&text, delimiter)?;
        if header_of(&rows).is_some() {
            return lines_of(rows);
        }
        first.get_or_insert(rows);
    }
    lines_of(first.unwrap_or_default())
}

fn csv_rows(text: &str, delimiter: u8) -> Result<Vec<(i64, Vec<Cell>)>, Vec<LineError>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, record) in rdr.records().enumerate() {
        let record = record.map_err(|e| {
            file_error(
                format!("Không đọc được dòng {} của tệp CSV: {e}", i + 1),
                format!("line {} of the CSV file cannot be read: {e}", i + 1),
            )
        })?;
        let line_no = record.position().map_or(i as u64 + 1, |p| p.line()) as i64;
        rows.push((
            line_no,
            record
                .iter()
                .map(|f| Cell::Text(f.to_string()))
                .collect::<Vec<_>>(),
        ));
    }
    Ok(rows)
}

/// The first worksheet of an XLSX or XLS workbook.
fn read_sheet<'a, R>(book: Result<R, R::Error>) -> Result<Vec<StatementLine>, Vec<LineError>>
where
    R: Reader<Cursor<&'a [u8]>>,
    R::Error: std::fmt::Display,
{
    let unreadable = |e: &dyn std::fmt::Display| {
        file_error(
            format!("Không đọc được bảng tính: {e}"),
            format!("the spreadsheet cannot be read: {e}"),
        )
    };
    let mut book = book.map_err(|e| unreadable(&e))?;
    let range = match book.worksheet_range_at(0) {
        Some(Ok(r)) => r,
        Some(Err(e)) => return Err(unreadable(&e)),
        None => {
            return Err(file_error(
                "Bảng tính không có trang tính nào",
                "the spreadsheet has no worksheet",
            ))
        }
    };
    let first_row = range.start().map_or(0, |(r, _)| r) as i64;
    let rows = range
        .rows()
        .enumerate()
        .map(|(i, row)| {
            let cells = row
                .iter()
                .map(|c| match c {
                    Data::String(s) | Data::DateTimeIso(s) => Cell::Text(s.clone()),
                    Data::Int(n) => Cell::Number(*n as f64),
                    Data::Float(f) => Cell::Number(*f),
                    Data::DateTime(d) => {
                        let (y, m, day, ..) = d.to_ymd_hms_milli();
                        NaiveDate::from_ymd_opt(y.into(), m.into(), day.into())
                            .map_or(Cell::Empty, Cell::Day)
                    }
                    Data::Bool(b) => Cell::Text(b.to_string()),
                    _ => Cell::Empty,
                })
                .collect();
            (first_row + i as i64 + 1, cells)
        })
        .collect();
    lines_of(rows)
}

type Header = (usize, Vec<Option<Field>>);

/// The header row (its index and each column's field): the first of the
/// first rows with a date column and an amount column.
fn header_of(rows: &[(i64, Vec<Cell>)]) -> Option<Header> {
    rows.iter()
        .take(HEADER_ROWS)
        .enumerate()
        .find_map(|(at, (_, cells))| {
            let fields: Vec<Option<Field>> = cells.iter().map(|c| Field::of(&c.text())).collect();
            let has = |f: Field| fields.contains(&Some(f));
            (has(Field::Date)
                && (has(Field::MoneyIn) || has(Field::MoneyOut) || has(Field::Amount)))
            .then_some((at, fields))
        })
}

/// The header, then the movements.
fn lines_of(rows: Vec<(i64, Vec<Cell>)>) -> Result<Vec<StatementLine>, Vec<LineError>> {
    let Some((at, fields)) = header_of(&rows) else {
        return Err(file_error(
            "Không tìm thấy dòng tiêu đề của sao kê: cần cột ngày giao dịch và cột ghi có / ghi nợ (hoặc số tiền), ví dụ \"Ngày giao dịch\", \"Số tham chiếu\", \"Nội dung\", \"Ghi nợ\", \"Ghi có\", \"Số dư\"",
            "the statement's header row was not found: it needs a transaction date column and credit / debit (or amount) columns, e.g. \"Transaction date\", \"Reference\", \"Description\", \"Debit\", \"Credit\", \"Balance\"",
        ));
    };
    // Two columns taken for the same amount would be read as one: refused,
    // naming them (a date or text column the first of its kind is taken).
    let header_line = rows[at].0;
    for f in [
        Field::MoneyIn,
        Field::MoneyOut,
        Field::Amount,
        Field::Balance,
    ] {
        let named: Vec<String> = fields
            .iter()
            .zip(&rows[at].1)
            .filter(|(x, _)| **x == Some(f))
            .map(|(_, c)| format!("\"{}\"", c.text()))
            .collect();
        if named.len() > 1 {
            return Err(vec![LineError {
                line_no: header_line,
                column: f.label().to_string(),
                vi: format!(
                    "Dòng tiêu đề {header_line}: các cột {} đều giống cột {}; hãy xoá hoặc đổi tên cột thừa",
                    named.join(", "),
                    f.label()
                ),
                en: format!(
                    "header line {header_line}: columns {} all look like the {} column; delete or rename the extra one",
                    named.join(", "),
                    f.label()
                ),
            }]);
        }
    }
    let column = |f: Field| fields.iter().position(|x| *x == Some(f));
    let date = column(Field::Date).unwrap_or_default();
    let (reference, description) = (column(Field::Reference), column(Field::Description));
    let (money_in, money_out, amount) = (
        column(Field::MoneyIn),
        column(Field::MoneyOut),
        column(Field::Amount),
    );
    let balance = column(Field::Balance);
    let signed_only = money_in.is_none() && money_out.is_none();
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for (line_no, cells) in &rows[at + 1..] {
        let line_no = *line_no;
        let cell = |i: Option<usize>| i.and_then(|i| cells.get(i)).unwrap_or(&Cell::Empty);
        let day_cell = cell(Some(date));
        // Undated rows (totals, an opening balance) and dated rows without
        // an amount (an opening or closing balance) move nothing.
        if day_cell.is_empty()
            || [money_in, money_out, amount]
                .iter()
                .all(|i| cell(*i).is_empty())
        {
            continue;
        }
        let mut fail = |f: Field, vi: String, en: String| {
            errors.push(LineError {
                line_no,
                column: f.label().to_string(),
                vi: format!("Dòng {line_no}, cột {}: {vi}", f.label()),
                en: format!("line {line_no}, column {}: {en}", f.label()),
            });
        };
        let booked_on = match day(day_cell) {
            Some(d) => d,
            // A totals row ("Tổng cộng", "Cộng phát sinh") under the lines.
            None if !day_cell.text().chars().any(|c| c.is_ascii_digit()) => continue,
            None => {
                fail(
                    Field::Date,
                    format!(
                        "\"{}\" không phải ngày (dd/mm/yyyy, năm đủ 4 chữ số)",
                        day_cell.text()
                    ),
                    format!(
                        "\"{}\" is not a date (dd/mm/yyyy, a four-digit year)",
                        day_cell.text()
                    ),
                );
                continue;
            }
        };
        let mut money = |f: Field, i: Option<usize>| -> Option<i64> {
            let c = cell(i);
            if c.is_empty() {
                return Some(0);
            }
            match whole_dong(c) {
                Ok(v) => Some(v),
                Err((vi, en)) => {
                    fail(f, vi, en);
                    None
                }
            }
        };
        let (Some(a_in), Some(a_out), Some(signed), Some(after)) = (
            money(Field::MoneyIn, money_in),
            money(Field::MoneyOut, money_out),
            money(Field::Amount, amount),
            money(Field::Balance, balance),
        ) else {
            continue;
        };
        let (a_in, a_out) = if signed_only {
            (signed.max(0), (-signed).max(0))
        } else if a_in < 0 {
            // Money out written as a negative is a common way; money in
            // below zero is no way the file can be read for sure (a credit
            // taken back?), and is not turned into money in.
            fail(
                Field::MoneyIn,
                format!(
                    "{} là số âm ở cột tiền vào; tiền ra ghi ở cột tiền ra: kiểm tra tệp sao kê",
                    format_vnd(a_in)
                ),
                format!(
                    "{} is negative in the money-in column; money out goes in the money-out column: check the statement file",
                    format_vnd(a_in)
                ),
            );
            continue;
        } else {
            (a_in, a_out.abs())
        };
        // An opening or closing balance written with zero amounts.
        if a_in == 0 && a_out == 0 {
            continue;
        }
        if a_in != 0 && a_out != 0 {
            errors.push(LineError {
                line_no,
                column: Field::MoneyIn.label().to_string(),
                vi: format!("Dòng {line_no}: mỗi dòng có đúng một số tiền, ghi có hoặc ghi nợ"),
                en: format!("line {line_no}: each line has exactly one amount, in or out"),
            });
            continue;
        }
        lines.push(StatementLine {
            line_no,
            booked_on,
            reference: cell(reference).text(),
            description: cell(description).text(),
            money_in: a_in,
            money_out: a_out,
            balance: (!cell(balance).is_empty()).then_some(after),
        });
        if errors.len() >= MAX_ERRORS {
            break;
        }
    }
    if !errors.is_empty() {
        errors.truncate(MAX_ERRORS);
        return Err(errors);
    }
    if lines.is_empty() {
        return Err(file_error(
            "Sao kê không có giao dịch nào dưới dòng tiêu đề",
            "the statement has no transaction under its header row",
        ));
    }
    // A signed amount column with no sign at all cannot tell money out
    // from money in, unless the balances say which is which.
    if signed_only
        && lines.iter().any(|l| l.balance.is_none())
        && lines.iter().all(|l| l.money_out == 0)
    {
        return Err(file_error(
            "Cột số tiền không có số âm nào, nên không phân biệt được tiền vào và tiền ra; hãy xuất sao kê có cột Ghi nợ và Ghi có, hoặc có cột Số dư",
            "the amount column has no negative value, so money in cannot be told from money out; export the statement with debit and credit columns, or with a balance column",
        ));
    }
    if let Some(e) = chain_break(&lines) {
        return Err(vec![e]);
    }
    Ok(lines)
}

/// The order the balances say the lines run in, when every line has one:
/// `Some(true)` newest first, `Some(false)` oldest first, `None` when they
/// say nothing (a line without a balance, both orders add up, or neither).
/// The balances are checked from end to end (the first balance plus the
/// movements after it gives the last), not line by line, so that lines of
/// one day may come in any order.
fn order_by_balances(lines: &[StatementLine]) -> Option<bool> {
    let (oldest_first, newest_first) = adds_up(lines)?;
    match (oldest_first, newest_first) {
        (true, false) => Some(false),
        (false, true) => Some(true),
        _ => None,
    }
}

/// Whether the balances add up taking the lines oldest first, and newest
/// first (`None`: fewer than two lines, or one without a balance).
fn adds_up(lines: &[StatementLine]) -> Option<(bool, bool)> {
    let (first, last) = (lines.first()?, lines.last()?);
    if lines.len() < 2 {
        return None;
    }
    let (b0, bn) = (first.balance?, last.balance?);
    if lines.iter().any(|l| l.balance.is_none()) {
        return None;
    }
    let net = |l: &StatementLine| l.money_in - l.money_out;
    let total: i64 = lines.iter().map(net).sum();
    Some((b0 + total - net(first) == bn, bn + total - net(last) == b0))
}

/// Whether the lines run newest first: as the balances say, else from the
/// first and last days.
fn newest_first(lines: &[StatementLine]) -> bool {
    let (Some(first), Some(last)) = (lines.first(), lines.last()) else {
        return false;
    };
    order_by_balances(lines).unwrap_or(first.booked_on > last.booked_on)
}

/// When every line has a balance and they add up in neither order: the
/// file was misread (an amount column not recognised, a fee in a column of
/// its own) or lines are missing.
fn chain_break(lines: &[StatementLine]) -> Option<LineError> {
    if adds_up(lines)? != (false, false) {
        return None;
    }
    let net = |l: &StatementLine| l.money_in - l.money_out;
    let total: i64 = lines.iter().map(net).sum();
    let (first, last) = (&lines[0], &lines[lines.len() - 1]);
    let (oldest, newest) = if first.booked_on > last.booked_on {
        (last, first)
    } else {
        (first, last)
    };
    let opening = oldest.balance.unwrap_or_default() - net(oldest);
    let closing = newest.balance.unwrap_or_default();
    let shown = sotay_core::domain::money::format_vnd;
    Some(LineError {
        line_no: newest.line_no,
        column: Field::Balance.label().to_string(),
        vi: format!(
            "Số dư không khớp: số dư đầu {} cộng các giao dịch đọc được là {}, nhưng sao kê ghi số dư cuối {}; có thể tệp thiếu dòng, đã bị sửa, hoặc có cột tiền (phí, thuế) không đọc được — hãy tải lại sao kê từ ngân hàng",
            shown(opening),
            shown(opening + total),
            shown(closing)
        ),
        en: format!(
            "the balances do not add up: the opening {} plus the transactions read is {}, but the statement closes at {}; the file may miss lines, have been edited, or have an amount column (fees, tax) that was not read — export the statement from the bank again",
            shown(opening),
            shown(opening + total),
            shown(closing)
        ),
    })
}

/// A day as banks write it: `dd/mm/yyyy` (also with `-` or `.`, with a
/// time after it), `yyyy-mm-dd`, or a spreadsheet date.
/// Only years from 2000 to next year are a statement's: `01/12/26` is
/// refused rather than read as the year 26.
fn day(cell: &Cell) -> Option<NaiveDate> {
    use chrono::Datelike;
    let d = match cell {
        Cell::Day(d) => Some(*d),
        Cell::Text(t) => {
            let t = t.trim();
            let first = t.split([' ', 'T']).next().unwrap_or(t);
            // `01 Dec 2026`, with a time after it or not.
            let named: Vec<&str> = t.split_whitespace().take(3).collect();
            NaiveDate::parse_from_str(&named.join(" "), "%d %b %Y")
                .ok()
                .or_else(|| {
                    [
                        "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%Y/%m/%d", "%d-%b-%Y",
                    ]
                    .iter()
                    .find_map(|f| NaiveDate::parse_from_str(first, f).ok())
                })
        }
        _ => None,
    }?;
    (2000..=chrono::Utc::now().year() + 1)
        .contains(&d.year())
        .then_some(d)
}

type Refusal = (String, String);

/// An amount in whole đồng as a statement writes it: `1.500.000`,
/// `1,500,000`, `1,500,000.00`, `1500000 VND`, `-1.500.000`, `(1.500.000)`,
/// or a spreadsheet number. Never a float beyond reading the cell: a value
/// with a fraction of a đồng is refused.
fn whole_dong(cell: &Cell) -> Result<i64, Refusal> {
    let lossy = |shown: &str| {
        (
            format!("\"{shown}\" có phần lẻ đồng; đồng Việt Nam không có đơn vị nhỏ hơn"),
            format!("\"{shown}\" has a fraction of a đồng; the đồng has no smaller unit"),
        )
    };
    // No line of a fund's account moves a million tỷ; the sums of the
    // lines must stay far inside what the books hold.
    let too_large = |shown: &str| {
        (
            format!("\"{shown}\" quá lớn (hơn {})", format_vnd(MAX_AMOUNT)),
            format!("\"{shown}\" is too large (over {})", format_vnd(MAX_AMOUNT)),
        )
    };
    match cell {
        Cell::Number(n) if n.abs() > MAX_AMOUNT as f64 => Err(too_large(&n.to_string())),
        Cell::Number(n) if n.fract() != 0.0 => Err(lossy(&n.to_string())),
        Cell::Number(n) => Ok(*n as i64),
        Cell::Text(t) => match dong_text(t) {
            Some(Typed::Whole(v)) if v.abs() > MAX_AMOUNT => Err(too_large(t.trim())),
            Some(Typed::Whole(v)) => Ok(v),
            Some(Typed::Fraction) => Err(lossy(t.trim())),
            None => Err((
                format!("\"{}\" không phải số tiền (ví dụ 1.500.000)", t.trim()),
                format!("\"{}\" is not an amount (e.g. 1,500,000)", t.trim()),
            )),
        },
        Cell::Day(d) => Err((
            format!("\"{}\" là ngày, không phải số tiền", d.format("%d/%m/%Y")),
            format!("\"{}\" is a date, not an amount", d.format("%d/%m/%Y")),
        )),
        Cell::Empty => Ok(0),
    }
}

/// What the text of an amount holds.
enum Typed {
    Whole(i64),
    /// A fraction of a đồng other than zeros (`100,50`).
    Fraction,
}

/// The text form of [`whole_dong`]: `None` when it is no amount.
fn dong_text(text: &str) -> Option<Typed> {
    let mut t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    for unit in ["₫", "VNĐ", "VND", "vnđ", "vnd", "đ", "Đ"] {
        if let Some(rest) = t.strip_suffix(unit) {
            t = rest.to_string();
            break;
        }
    }
    let (negative, body) =
        if let Some(inner) = t.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
            (true, inner)
        } else if let Some(rest) = t.strip_prefix('-') {
            (true, rest)
        } else {
            (false, t.strip_prefix('+').unwrap_or(&t))
        };
    if !body.starts_with(|c: char| c.is_ascii_digit())
        || !body
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    {
        return None;
    }
    // The decimal separator, if any: the last of `.` / `,` when both
    // appear, or the only one when it appears once and is not followed by
    // exactly three digits.
    let decimal = match (body.rfind('.'), body.rfind(',')) {
        (Some(d), Some(c)) => Some(d.max(c)),
        (Some(p), None) | (None, Some(p)) => {
            let sep = body.as_bytes()[p];
            let once = body.bytes().filter(|b| *b == sep).count() == 1;
            (once && body.len() - p - 1 != 3).then_some(p)
        }
        (None, None) => None,
    };
    let (whole, fraction) = match decimal {
        Some(p) => (&body[..p], &body[p + 1..]),
        None => (body, ""),
    };
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Grouping: one separator, every group after the first of three digits.
    let groups: Vec<&str> = whole.split(['.', ',']).collect();
    let one_separator = !(whole.contains('.') && whole.contains(','));
    if groups.len() > 1
        && (!one_separator
            || groups[0].is_empty()
            || groups[0].len() > 3
            || groups[1..].iter().any(|g| g.len() != 3))
    {
        return None;
    }
    let value: i64 = groups.concat().parse().ok()?;
    if fraction.bytes().any(|b| b != b'0') {
        return Some(Typed::Fraction);
    }
    Some(Typed::Whole(if negative { -value } else { value }))
}

// ---------------------------------------------------------------------------
// Reconciliation

/// A movement of the bank account's book (a journal line on `bank`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookItem {
    pub entry_id: i64,
    pub kind: String,
    /// The day it posted, Vietnam time.
    pub posted_on: NaiveDate,
    /// The day the bank booked it: the statement line's it was posted from
    /// (a charge posted days later), else the day it posted. Lines are
    /// matched, and periods told apart, by this day.
    pub booked_on: NaiveDate,
    /// Posted from a statement's line (any statement's): its day is the
    /// bank's, and its reference alone does not tie it to a line of
    /// another day (banks reuse references for monthly fees).
    pub from_statement: bool,
    /// Posted from this statement's line with this number.
    pub from_line: Option<i64>,
    pub memo: String,
    pub money_in: i64,
    pub money_out: i64,
    /// The bank's reference the entry was recorded with, if any.
    pub reference: Option<String>,
    /// The entry this one reverses, and the one that reversed it.
    pub reverses: Option<i64>,
    pub reversed_by: Option<i64>,
}

/// How a statement line was found in the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// Posted from this very line (the bank's charge, say).
    Line(usize),
    /// The bank's reference recorded with the entry is on the line.
    Reference(usize),
    /// No reference: the same amount, the same way, within
    /// [`DAYS_APART`] days; worth a look.
    AmountAndDay(usize),
}

impl Found {
    /// The book item's index.
    pub fn index(self) -> usize {
        match self {
            Found::Line(i) | Found::Reference(i) | Found::AmountAndDay(i) => i,
        }
    }
}

/// How far apart (in days) a line and an entry of the same amount may be
/// when no reference ties them: a transfer made in the evening is often
/// booked by the bank the next working day.
pub const DAYS_APART: i64 = 3;

/// Each statement line's match (by index into the book), the book's items
/// not on the statement, and those left out because they and their
/// reversal cancel out within the period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciliation {
    pub lines: Vec<Option<Found>>,
    pub not_on_statement: Vec<usize>,
    pub cancelled: Vec<usize>,
}

fn same_way(line: &StatementLine, item: &BookItem) -> bool {
    line.money_in == item.money_in && line.money_out == item.money_out
}

/// A reference as compared: its letters and digits in capitals
/// (`ft 2633-9000001` is `FT26339000001`, as the counter stores it).
fn squash(text: &str) -> String {
    crate::db::reference_key(text)
}

/// The line's reference is `reference`.
fn names(line: &StatementLine, reference: &str) -> bool {
    let r = squash(reference);
    !r.is_empty() && squash(&line.reference) == r
}

/// The line's reference is `reference`, or holds it, or its text does (for
/// references of 6 characters or more).
fn carries(line: &StatementLine, reference: &str) -> bool {
    let r = squash(reference);
    names(line, reference)
        || (r.chars().count() >= 6
            && (squash(&line.reference).contains(&r) || squash(&line.description).contains(&r)))
}

/// Matches each line to at most one book item and each item to at most one
/// line: first by the reference recorded with the entry, written as the
/// line's reference, then found in its text; then by amount and day, the
/// nearest day first. An entry reversed, or reversing, comes last among
/// equals. Items of the book outside `period` (the statement's first and
/// last day) may be matched (an entry recorded after the statement came, a
/// transfer the bank booked a day later); left unmatched, they are another
/// statement's.
pub fn reconcile(
    lines: &[StatementLine],
    book: &[BookItem],
    period: (NaiveDate, NaiveDate),
) -> Reconciliation {
    let mut taken = vec![false; book.len()];
    let mut found: Vec<Option<Found>> = vec![None; lines.len()];
    let apart = |l: &StatementLine, b: &BookItem| (l.booked_on - b.booked_on).num_days().abs();
    // Near enough to be the same movement: the same day when the bank's day
    // is known (posted from a statement line), else within a few days.
    let near = |l: &StatementLine, b: &BookItem| {
        if b.from_statement {
            l.booked_on == b.booked_on
        } else {
            apart(l, b) <= DAYS_APART
        }
    };
    let paired = |b: &BookItem| b.reversed_by.is_some() || b.reverses.is_some();
    let in_period = |b: &BookItem| (period.0..=period.1).contains(&b.booked_on);
    // An entry recorded with the bank's own reference of a transfer is
    // another transfer than a line with another reference.
    let other_transfer = |l: &StatementLine, b: &BookItem| {
        matches!(b.kind.as_str(), "counter_repayment" | "disbursement")
            && !squash(&l.reference).is_empty()
            && b.reference.as_deref().is_some_and(|r| !carries(l, r))
    };
    let by_reference = |l: &StatementLine, b: &BookItem, in_text: bool| {
        b.reference
            .as_deref()
            .is_some_and(|r| if in_text { carries(l, r) } else { names(l, r) })
            && (!b.from_statement || near(l, b))
    };
    // The passes in order: posted from the line itself, the reference as
    // the line's, in its text, then the amount and day alone.
    for pass in 0..4 {
        for (li, line) in lines.iter().enumerate() {
            if found[li].is_some() {
                continue;
            }
            let best = book
                .iter()
                .enumerate()
                .filter(|(bi, b)| {
                    !taken[*bi]
                        && same_way(line, b)
                        && match pass {
                            0 => b.from_line == Some(line.line_no) && !paired(b),
                            1 => by_reference(line, b, false),
                            2 => by_reference(line, b, true),
                            // Outside the period only a reference ties an
                            // entry to a line.
                            _ => in_period(b) && near(line, b) && !other_transfer(line, b),
                        }
                })
                .min_by_key(|(bi, b)| (paired(b), !in_period(b), apart(line, b), *bi));
            if let Some((bi, _)) = best {
                taken[bi] = true;
                found[li] = Some(match pass {
                    0 => Found::Line(bi),
                    1 | 2 => Found::Reference(bi),
                    _ => Found::AmountAndDay(bi),
                });
            }
        }
    }
    // An entry and its reversal, both in the period and neither on the
    // statement, moved no money: one was entered by mistake.
    let by_id: std::collections::HashMap<i64, usize> = book
        .iter()
        .enumerate()
        .map(|(i, b)| (b.entry_id, i))
        .collect();
    let mut rec = Reconciliation {
        lines: found,
        ..Reconciliation::default()
    };
    for (bi, b) in book.iter().enumerate() {
        if taken[bi] || !in_period(b) {
            continue;
        }
        let partner = b
            .reversed_by
            .or(b.reverses)
            .and_then(|id| by_id.get(&id).copied());
        if partner.is_some_and(|p| !taken[p] && in_period(&book[p])) {
            rec.cancelled.push(bi);
        } else {
            rec.not_on_statement.push(bi);
        }
    }
    rec
}

/// The balance before the first line and after the last, from the balance
/// column (when the file has one), whichever order the bank lists them in.
pub fn statement_balances(lines: &[StatementLine]) -> (Option<i64>, Option<i64>) {
    let (Some(first), Some(last)) = (lines.first(), lines.last()) else {
        return (None, None);
    };
    let (oldest, newest) = if newest_first(lines) {
        (last, first)
    } else {
        (first, last)
    };
    (
        oldest
            .balance
            .map(|b| b - oldest.money_in + oldest.money_out),
        newest.balance,
    )
}

// ---------------------------------------------------------------------------
// What a statement's page shows

/// How a statement line stands against the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LineStatus {
    /// The entry posted from this line.
    Posted,
    /// The entry recorded with the bank's reference on this line.
    Reference,
    /// An entry of the same amount, the same way, within a few days, with
    /// no reference to tie them: check it.
    AmountAndDay,
    /// No entry: money moved that the books do not have (a worker's
    /// transfer nobody recorded, a bank fee), or the bank's mistake.
    NotInBook,
}

/// A statement line and what it matched.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReconciledLine {
    pub line_no: i64,
    pub booked_on: NaiveDate,
    pub reference: String,
    pub description: String,
    #[schema(value_type = String)]
    pub money_in: Dong,
    #[schema(value_type = String)]
    pub money_out: Dong,
    #[schema(value_type = Option<String>)]
    pub balance: Option<Dong>,
    pub status: LineStatus,
    /// The matched entry.
    pub entry_id: Option<i64>,
    pub entry_memo: Option<String>,
}

/// A movement of the bank account's book.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BookEntry {
    pub entry_id: i64,
    pub kind: String,
    pub posted_on: NaiveDate,
    pub memo: String,
    #[schema(value_type = String)]
    pub money_in: Dong,
    #[schema(value_type = String)]
    pub money_out: Dong,
    pub reference: Option<String>,
}

impl From<&BookItem> for BookEntry {
    fn from(b: &BookItem) -> BookEntry {
        BookEntry {
            entry_id: b.entry_id,
            kind: b.kind.clone(),
            posted_on: b.posted_on,
            memo: b.memo.clone(),
            money_in: Dong(b.money_in),
            money_out: Dong(b.money_out),
            reference: b.reference.clone(),
        }
    }
}

/// A kept statement reconciled with the bank account's book as it is now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatementView {
    pub statement: StatementSummary,
    /// The balance before the first day and after the last, from the
    /// statement's balance column (absent when it has none).
    #[schema(value_type = Option<String>)]
    pub statement_opening: Option<Dong>,
    #[schema(value_type = Option<String>)]
    pub statement_closing: Option<Dong>,
    /// The same from the book, each movement on the day the bank booked
    /// it when known (one posted from a statement line, and its reversal),
    /// else on the day it was recorded.
    #[schema(value_type = String)]
    pub book_opening: Dong,
    #[schema(value_type = String)]
    pub book_closing: Dong,
    /// Net of the matched entries recorded after the statement's last day
    /// with no day of the bank's (a transfer found on the statement and
    /// recorded at the counter then): on the statement's closing balance,
    /// not on the book's.
    #[schema(value_type = String)]
    pub recorded_after: Dong,
    /// The statement's closing balance is the book's plus what was recorded
    /// after (absent when the statement gives no balance).
    pub balances_agree: Option<bool>,
    pub lines: Vec<ReconciledLine>,
    /// Entries of the book over the statement's days that no line matched.
    pub not_on_statement: Vec<BookEntry>,
    /// Entries and their reversals in the same days, neither on the
    /// statement: nothing moved (one was entered by mistake).
    pub cancelled: Vec<BookEntry>,
    /// Lines matched by the bank's reference or posted from the line.
    pub matched: usize,
    pub matched_by_amount: usize,
    pub not_in_book: usize,
}

impl StatementView {
    /// Everything agrees: every line matched by reference or amount, every
    /// entry on the statement, the balances equal (when given).
    pub fn agrees(&self) -> bool {
        self.not_in_book == 0
            && self.not_on_statement.is_empty()
            && self.balances_agree != Some(false)
    }
}

/// The book's balance at the start of `day` by the bank's days: the
/// balance posted before it (`posted_before`) and the items posted since
/// that the bank booked before it (a charge of last month posted today, or
/// its reversal). No item is booked after the day it posted.
fn by_bank_day(posted_before: i64, book: &[BookItem], day: NaiveDate) -> i64 {
    posted_before
        + book
            .iter()
            .filter(|b| b.posted_on >= day && b.booked_on < day)
            .map(|b| b.money_in - b.money_out)
            .sum::<i64>()
}

/// Reconciles a kept statement with its book.
pub fn view(sb: StatementBook) -> StatementView {
    let period = (sb.head.first_day, sb.head.last_day);
    let rec = reconcile(&sb.lines, &sb.book, period);
    // The book's balances by the day the bank booked each movement, as the
    // statement's are.
    let book_opening = by_bank_day(sb.opening, &sb.book, period.0);
    let book_closing = by_bank_day(sb.closing, &sb.book, period.1 + chrono::Duration::days(1));
    // Matched entries the bank booked in the period that the branch
    // recorded only after it (a transfer recorded later, its day
    // unknown): on the statement's closing balance, not yet on the book's.
    let recorded_after: i64 = rec
        .lines
        .iter()
        .flatten()
        .map(|f| &sb.book[f.index()])
        .filter(|b| b.booked_on > period.1 && !b.from_statement)
        .map(|b| b.money_in - b.money_out)
        .sum();
    let (opening, closing) = statement_balances(&sb.lines);
    let count = |f: fn(&Found) -> bool| rec.lines.iter().flatten().filter(|x| f(x)).count();
    let lines = sb
        .lines
        .iter()
        .zip(&rec.lines)
        .map(|(l, found)| {
            let (status, entry) = match found {
                Some(Found::Line(i)) => (LineStatus::Posted, Some(&sb.book[*i])),
                Some(Found::Reference(i)) => (LineStatus::Reference, Some(&sb.book[*i])),
                Some(Found::AmountAndDay(i)) => (LineStatus::AmountAndDay, Some(&sb.book[*i])),
                None => (LineStatus::NotInBook, None),
            };
            ReconciledLine {
                line_no: l.line_no,
                booked_on: l.booked_on,
                reference: l.reference.clone(),
                description: l.description.clone(),
                money_in: Dong(l.money_in),
                money_out: Dong(l.money_out),
                balance: l.balance.map(Dong),
                status,
                entry_id: entry.map(|e| e.entry_id),
                entry_memo: entry.map(|e| e.memo.clone()),
            }
        })
        .collect();
    StatementView {
        statement_opening: opening.map(Dong),
        statement_closing: closing.map(Dong),
        book_opening: Dong(book_opening),
        book_closing: Dong(book_closing),
        balances_agree: closing.map(|c| c == book_closing + recorded_after),
        recorded_after: Dong(recorded_after),
        matched: count(|f| matches!(f, Found::Line(_) | Found::Reference(_))),
        matched_by_amount: count(|f| matches!(f, Found::AmountAndDay(_))),
        not_in_book: rec.lines.iter().filter(|f| f.is_none()).count(),
        lines,
        not_on_statement: rec
            .not_on_statement
            .iter()
            .map(|i| BookEntry::from(&sb.book[*i]))
            .collect(),
        cancelled: rec
            .cancelled
            .iter()
            .map(|i| BookEntry::from(&sb.book[*i]))
            .collect(),
        statement: sb.head,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, day).unwrap()
    }

    #[test]
    fn amounts_as_banks_write_them() {
        let ok =
            |t: &str, v: i64| assert_eq!(whole_dong(&Cell::Text(t.into())), Ok(v), "{t} is {v}");
        ok("1.500.000", 1_500_000);
        ok("1,500,000", 1_500_000);
        ok("1,500,000.00", 1_500_000);
        ok("1.500.000,00", 1_500_000);
        ok("1500000", 1_500_000);
        ok("1500000.00", 1_500_000);
        ok("1.500", 1_500);
        ok("200 000 VND", 200_000);
        ok("200.000 ₫", 200_000);
        ok("-1.500.000", -1_500_000);
        ok("(1.500.000)", -1_500_000);
        ok("+50,000", 50_000);
        assert_eq!(whole_dong(&Cell::Number(2_000_000.0)), Ok(2_000_000));
        for bad in [
            "1.5",
            "1,500,000.50",
            "12.34.56",
            "abc",
            "1..000",
            ",500",
            "1,50,000",
        ] {
            assert!(whole_dong(&Cell::Text(bad.into())).is_err(), "{bad}");
        }
        assert!(whole_dong(&Cell::Number(10.5)).is_err());
        // Beyond any account's movement: refused as too large, as text
        // (whose sums would overflow) and as a spreadsheet number.
        ok("1.000.000.000.000.000", MAX_AMOUNT);
        for cell in [
            Cell::Text("9.000.000.000.000.000.000".into()),
            Cell::Text("-1.000.000.000.000.001".into()),
            Cell::Number(2e15),
        ] {
            let (vi, en) = whole_dong(&cell).unwrap_err();
            assert!(vi.contains("quá lớn") && en.contains("too large"), "{en}");
        }
    }

    #[test]
    fn money_in_below_zero_is_refused_not_turned_around() {
        let csv = "Ngày,Số tham chiếu,Ghi có,Ghi nợ,Số dư\n\
                   01/12/2026,A,-200.000,,9.800.000\n\
                   02/12/2026,B,,-300.000,9.500.000\n";
        let errors = read(csv.as_bytes()).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].line_no, 2);
        assert!(
            errors[0].en.contains("negative in the money-in column"),
            "{errors:?}"
        );
        // Money out written negative, as many banks do, reads as money out.
        let csv = "Ngày,Số tham chiếu,Ghi có,Ghi nợ\n02/12/2026,B,,-300.000\n";
        let lines = read(csv.as_bytes()).unwrap();
        assert_eq!((lines[0].money_in, lines[0].money_out), (0, 300_000));
    }

    #[test]
    fn headers_in_either_language() {
        assert_eq!(Field::of("Ngày GD / Transaction Date"), Some(Field::Date));
        assert_eq!(Field::of("NGÀY GIAO DỊCH"), Some(Field::Date));
        assert_eq!(Field::of("Số tiền ghi có\nCredit"), Some(Field::MoneyIn));
        assert_eq!(Field::of("Ghi nợ"), Some(Field::MoneyOut));
        assert_eq!(Field::of("Số dư"), Some(Field::Balance));
        assert_eq!(Field::of("Mã giao dịch"), Some(Field::Reference));
        assert_eq!(Field::of("Nội dung"), Some(Field::Description));
        assert_eq!(Field::of("Chi nhánh"), None);
    }

    #[test]
    fn a_csv_export_with_a_preamble_and_totals() {
        let csv = "\u{feff}SAO KÊ TÀI KHOẢN;;;;;\n\
                   Số tài khoản: 0071000999888;;;;;\n\
                   Ngày GD/TNX Date;Số tham chiếu;Nội dung;Ghi nợ;Ghi có;Số dư\n\
                   01/12/2026;FT26335000001;NGUYEN THI THU HA tra no L-002;;200.000;20.200.000\n\
                   02/12/2026 14:05;FT26336000009;Chi giai ngan GN-CN-TD-000001;6.000.000;;14.200.000\n\
                   Tổng cộng;;;6.000.000;200.000;\n";
        let lines = read(csv.as_bytes()).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0],
            StatementLine {
                line_no: 4,
                booked_on: d(1),
                reference: "FT26335000001".into(),
                description: "NGUYEN THI THU HA tra no L-002".into(),
                money_in: 200_000,
                money_out: 0,
                balance: Some(20_200_000),
            }
        );
        assert_eq!((lines[1].booked_on, lines[1].money_out), (d(2), 6_000_000));
        assert_eq!(
            statement_balances(&lines),
            (Some(20_000_000), Some(14_200_000))
        );
    }

    #[test]
    fn excel_unicode_text_is_read() {
        let text = "Ngày giao dịch\tSố tham chiếu\tGhi có\n03/12/2026\tFT1\t1.500.000\n";
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let lines = read(&bytes).unwrap();
        assert_eq!((lines[0].booked_on, lines[0].money_in), (d(3), 1_500_000));
        assert!(read(&[0xC3, 0x28, b'\n']).unwrap_err()[0]
            .vi
            .contains("UTF-8"));
    }

    #[test]
    fn a_signed_amount_column_and_newest_first() {
        let csv = "Date,Reference,Amount,Balance\n\
                   2026-12-03,B,\"-1,000,000\",\"9,000,000\"\n\
                   2026-12-01,A,\"10,000,000\",\"10,000,000\"\n";
        let lines = read(csv.as_bytes()).unwrap();
        assert_eq!((lines[0].money_in, lines[0].money_out), (0, 1_000_000));
        assert_eq!((lines[1].money_in, lines[1].money_out), (10_000_000, 0));
        assert_eq!(statement_balances(&lines), (Some(0), Some(9_000_000)));
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let csv = "Ngày,Nội dung,Ghi có,Ghi nợ\n\
                   31/11/2026,x,100,\n\
                   01/12/2026,y,100.5,\n\
                   02/12/2026,z,100,100\n";
        let errors = read(csv.as_bytes()).unwrap_err();
        let at: Vec<(i64, &str)> = errors
            .iter()
            .map(|e| (e.line_no, e.column.as_str()))
            .collect();
        assert_eq!(at, [(2, "ngày giao dịch"), (3, "ghi có"), (4, "ghi có")]);
        assert!(errors[1].vi.contains("lẻ đồng"), "{:?}", errors[1]);
        let none = read(b"a,b\n1,2\n").unwrap_err();
        assert!(none[0].vi.contains("tiêu đề"), "{none:?}");
    }

    #[test]
    fn an_xlsx_export_is_read_as_a_csv_one() {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        let date = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
        for (c, h) in [
            "Ngày giao dịch",
            "Số tham chiếu",
            "Diễn giải",
            "Ghi nợ",
            "Ghi có",
            "Số dư",
        ]
        .iter()
        .enumerate()
        {
            ws.write_string(2, c as u16, *h).unwrap();
        }
        ws.write_string(0, 0, "Sao kê tài khoản 0071000999888")
            .unwrap();
        let day = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 12, 1).unwrap();
        ws.write_datetime_with_format(3, 0, &day, &date).unwrap();
        ws.write_number(3, 1, 26335000001.0).unwrap();
        ws.write_string(3, 2, "Nop tien mat").unwrap();
        ws.write_number(3, 4, 25_000_000.0).unwrap();
        ws.write_number(3, 5, 25_000_000.0).unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        let lines = read(&bytes).unwrap();
        assert_eq!(
            lines,
            [StatementLine {
                line_no: 4,
                booked_on: d(1),
                reference: "26335000001".into(),
                description: "Nop tien mat".into(),
                money_in: 25_000_000,
                money_out: 0,
                balance: Some(25_000_000),
            }]
        );
    }

    #[test]
    fn a_row_number_column_is_never_money() {
        assert_eq!(Field::of("STT/No."), None);
        assert_eq!(Field::of("No."), None);
        assert_eq!(Field::of("Nợ"), Some(Field::MoneyOut));
        assert_eq!(Field::of("Có"), Some(Field::MoneyIn));
        assert_eq!(Field::of("Co"), None);
        assert_eq!(Field::of("Số CT/No."), Some(Field::Reference));
        assert_eq!(Field::of("STT"), None);
        let csv =
            "STT/No.,Ngày/Date,Nợ/Debit,Có/Credit\n1,01/12/2026,,500000\n2,02/12/2026,300000,\n";
        let lines = read(csv.as_bytes()).unwrap();
        assert_eq!(
            lines
                .iter()
                .map(|l| (l.money_in, l.money_out))
                .collect::<Vec<_>>(),
            [(500_000, 0), (0, 300_000)]
        );
        let twice = read(b"Ngay,Ghi co,So tien ghi co\n01/12/2026,1,1\n").unwrap_err();
        assert!(twice[0].vi.contains("đều giống cột ghi có"), "{twice:?}");
    }

    #[test]
    fn what_banks_put_around_the_lines() {
        // A dated opening balance, dashes in unused columns, a semicolon
        // file whose amounts hold commas, a one-day statement newest first.
        let csv = "Ngày;Số tham chiếu;Ghi nợ;Ghi có;Số dư\n\
                   01/12/2026;;;;1,000,000\n\
                   01/12/2026;B;200,000;-;1,300,000\n\
                   01/12/2026;A;-;500,000;1,500,000\n";
        let lines = read(csv.as_bytes()).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            (lines[0].reference.as_str(), lines[0].money_out),
            ("B", 200_000)
        );
        assert!(newest_first(&lines));
        assert_eq!(
            statement_balances(&lines),
            (Some(1_000_000), Some(1_300_000))
        );
        // Balances that do not follow: refused where they stop.
        let broken =
            "Ngày,Ghi nợ,Ghi có,Số dư\n01/12/2026,,500000,1500000\n02/12/2026,,100000,1700000\n";
        let e = read(broken.as_bytes()).unwrap_err();
        assert_eq!((e[0].line_no, e[0].column.as_str()), (3, "số dư"), "{e:?}");
        // A signed amount column without one minus sign.
        let unsigned = "Date,Amount\n01/12/2026,100000\n02/12/2026,200000\n";
        assert!(read(unsigned.as_bytes()).unwrap_err()[0]
            .vi
            .contains("số âm"));
        // Two-digit years are not guessed; month names are read.
        let e = read(b"Ngay,Ghi co\n01/12/26,100\n").unwrap_err();
        assert!(e[0].vi.contains("4 chữ số"), "{e:?}");
        let named = read(b"Date,Credit\n01-Dec-2026,100\n\"02 Dec 2026 10:30\",5\n").unwrap();
        assert_eq!((named[0].booked_on, named[1].booked_on), (d(1), d(2)));
        // Zero amounts move nothing; a balance column with a gap does not
        // make unsigned amounts readable; a two-line +X / −X statement
        // takes its order from the days; one day's lines in any order.
        let zero =
            read(b"Ngay,Ghi no,Ghi co,So du\n01/12/2026,0,0,700\n01/12/2026,,100,800\n").unwrap();
        assert_eq!(zero.len(), 1);
        let gap = "Date,Amount,Balance\n01/12/2026,100,100\n02/12/2026,50,\n";
        assert!(read(gap.as_bytes()).unwrap_err()[0].vi.contains("số âm"));
        let back = "Ngày,Ghi nợ,Ghi có,Số dư\n02/12/2026,100,,900\n01/12/2026,,100,1000\n";
        let back = read(back.as_bytes()).unwrap();
        assert!(newest_first(&back));
        assert_eq!(statement_balances(&back), (Some(900), Some(900)));
        let shuffled = "Ngày,Ghi nợ,Ghi có,Số dư\n\
                        01/12/2026,,100,1100\n01/12/2026,,300,1300\n01/12/2026,,200,1600\n02/12/2026,600,,1000\n";
        assert_eq!(
            statement_balances(&read(shuffled.as_bytes()).unwrap()),
            (Some(1000), Some(1000))
        );
        // A web page named .xls says so.
        let e = read(b"<html><table><tr><td>Ngay</td></tr></table></html>").unwrap_err();
        assert!(e[0].vi.contains("HTML"), "{e:?}");
        // UTF-16 cut in the middle of a character is no text.
        assert!(read(&[0xFF, 0xFE, b'N', 0, b'g']).is_err());
    }

    #[test]
    fn late_entries_and_other_periods() {
        // Recorded after the statement's last day: still matched. Another
        // period's unmatched entries are not this statement's.
        let mut late = item(1, 20, 200_000, 0, Some("FT7777777"));
        late.posted_on = d(20);
        let before = item(2, 1, 0, 90_000, None);
        let book = vec![late, before];
        let r = reconcile(
            &[line(5, 10, 200_000, 0, "FT7777777", "")],
            &book,
            (d(5), d(10)),
        );
        assert_eq!(r.lines, [Some(Found::Reference(0))]);
        assert!(
            r.not_on_statement.is_empty() && r.cancelled.is_empty(),
            "{r:?}"
        );
        // An exact reference is taken before one merely in a line's text.
        let book = vec![item(1, 5, 100_000, 0, Some("FT1234567"))];
        let lines = [
            line(2, 5, 100_000, 0, "X", "chuyen tien FT1234567 lan 2"),
            line(3, 5, 100_000, 0, "FT1234567", ""),
        ];
        let r = reconcile(&lines, &book, (d(5), d(5)));
        assert_eq!(r.lines, [None, Some(Found::Reference(0))]);
    }

    fn item(id: i64, day: u32, money_in: i64, money_out: i64, reference: Option<&str>) -> BookItem {
        BookItem {
            entry_id: id,
            kind: "counter_repayment".into(),
            posted_on: d(day),
            booked_on: d(day),
            from_statement: false,
            from_line: None,
            memo: String::new(),
            money_in,
            money_out,
            reference: reference.map(str::to_string),
            reverses: None,
            reversed_by: None,
        }
    }

    fn line(
        no: i64,
        day: u32,
        money_in: i64,
        money_out: i64,
        reference: &str,
        description: &str,
    ) -> StatementLine {
        StatementLine {
            line_no: no,
            booked_on: d(day),
            reference: reference.into(),
            description: description.into(),
            money_in,
            money_out,
            balance: None,
        }
    }

    #[test]
    fn references_first_then_amount_and_day() {
        let book = vec![
            item(1, 1, 200_000, 0, Some("FT1111111")),
            item(2, 1, 200_000, 0, Some("FT2222222")),
            item(3, 2, 0, 6_000_000, None),
            item(4, 4, 500_000, 0, None),
        ];
        let lines = vec![
            // The second transfer, found by the reference in the text.
            line(1, 1, 200_000, 0, "", "CK FT2222222 tra no"),
            line(2, 2, 200_000, 0, "FT1111111", ""),
            line(3, 3, 0, 6_000_000, "X", ""),
            // Not in the book at all.
            line(4, 3, 300_000, 0, "FT9", ""),
            // The same amount a week later is not a match.
            line(5, 12, 500_000, 0, "", ""),
        ];
        let r = reconcile(&lines, &book, (d(1), d(12)));
        assert_eq!(
            r.lines,
            [
                Some(Found::Reference(1)),
                Some(Found::Reference(0)),
                Some(Found::AmountAndDay(2)),
                None,
                None
            ]
        );
        assert_eq!(r.not_on_statement, [3]);
        assert!(r.cancelled.is_empty());
    }

    proptest::proptest! {
        /// Whatever the lines and the book: every item of the book is
        /// matched once, or left out once; a match is the same amount the
        /// same way (by a reference the line carries, or within a few
        /// days); a line left unmatched had no item left it could take;
        /// an item set aside as cancelled has its partner set aside too.
        #[test]
        fn matching_is_one_to_one_and_leaves_nothing_it_could_match(
            lines in proptest::collection::vec((1u32..12, 0usize..3, proptest::bool::ANY, 0usize..4), 0..14),
            items in proptest::collection::vec((1u32..12, 0usize..3, proptest::bool::ANY, 0usize..4, proptest::bool::ANY, proptest::option::of(0i64..16)), 0..14),
        ) {
            const AMOUNTS: [i64; 3] = [100_000, 200_000, 300_000];
            const REFS: [&str; 4] = ["", "FT1000001", "FT1000002", "FT1000003"];
            let way = |a: usize, out: bool| if out { (0, AMOUNTS[a]) } else { (AMOUNTS[a], 0) };
            let lines: Vec<StatementLine> = lines
                .iter()
                .enumerate()
                .map(|(n, &(day, a, out, r))| {
                    let (i, o) = way(a, out);
                    line(n as i64 + 2, day, i, o, REFS[r], "")
                })
                .collect();
            let mut book = Vec::new();
            for &(day, a, out, r, reversed, from) in &items {
                let (i, o) = way(a, out);
                let id = book.len() as i64 + 1;
                // Some posted from a line (of this statement or another),
                // days after the bank booked them.
                let mut it = item(id, day, i, o, (r > 0).then_some(REFS[r]));
                if let Some(n) = from {
                    it.from_statement = true;
                    it.from_line = (n < 14).then_some(n + 2);
                    it.posted_on = d(day + 4);
                }
                book.push(it);
                if reversed {
                    book[id as usize - 1].reversed_by = Some(id + 1);
                    let mut back = item(id + 1, day, o, i, None);
                    back.posted_on = d(day + 5);
                    back.reverses = Some(id);
                    book.push(back);
                }
            }
            let r = reconcile(&lines, &book, (d(2), d(10)));
            let mut seen = vec![0; book.len()];
            for (l, found) in lines.iter().zip(&r.lines) {
                match *found {
                    Some(Found::Line(i)) => {
                        seen[i] += 1;
                        let b = &book[i];
                        proptest::prop_assert!(same_way(l, b));
                        proptest::prop_assert_eq!(b.from_line, Some(l.line_no));
                        proptest::prop_assert!(b.reverses.is_none() && b.reversed_by.is_none());
                    }
                    Some(Found::Reference(i)) => {
                        seen[i] += 1;
                        let b = &book[i];
                        proptest::prop_assert!(same_way(l, b));
                        proptest::prop_assert!(carries(l, b.reference.as_deref().unwrap()));
                        proptest::prop_assert!(!b.from_statement || l.booked_on == b.booked_on);
                    }
                    Some(Found::AmountAndDay(i)) => {
                        seen[i] += 1;
                        let b = &book[i];
                        proptest::prop_assert!(same_way(l, b));
                        proptest::prop_assert!((l.booked_on - b.booked_on).num_days().abs() <= DAYS_APART);
                        proptest::prop_assert!(!b.from_statement || l.booked_on == b.booked_on);
                    }
                    None => {}
                }
            }
            for &i in r.not_on_statement.iter().chain(&r.cancelled) {
                seen[i] += 1;
            }
            // Every item of the period once; another period's only when
            // matched, and then by its reference or as posted from the line.
            for (i, n) in seen.iter().enumerate() {
                let within = (d(2)..=d(10)).contains(&book[i].booked_on);
                let matched = r.lines.iter().flatten().find(|f| f.index() == i);
                if within {
                    proptest::prop_assert_eq!(*n, 1, "{:?}", book[i]);
                } else {
                    proptest::prop_assert_eq!(*n, usize::from(matched.is_some()), "{:?}", book[i]);
                    proptest::prop_assert!(!matches!(matched, Some(Found::AmountAndDay(_))), "{:?}", book[i]);
                }
            }
            // A line left unmatched had no free item it could take: one
            // carrying its reference, or one of the period within a few
            // days that is not another transfer (a transfer's reference the
            // line, which has one, does not carry).
            for (l, found) in lines.iter().zip(&r.lines) {
                if found.is_none() {
                    for (i, b) in book.iter().enumerate() {
                        let free = !r.lines.iter().flatten().any(|f| f.index() == i);
                        let days = if b.from_statement {
                            l.booked_on == b.booked_on
                        } else {
                            (l.booked_on - b.booked_on).num_days().abs() <= DAYS_APART
                        };
                        let carried = b.reference.as_deref().is_some_and(|x| carries(l, x));
                        let reference = carried && (!b.from_statement || days);
                        let another = b.reference.is_some() && !l.reference.is_empty() && !carried;
                        let near = (d(2)..=d(10)).contains(&b.booked_on) && days && !another;
                        let own = b.from_line == Some(l.line_no) && b.reverses.is_none() && b.reversed_by.is_none();
                        proptest::prop_assert!(
                            !free || !same_way(l, b) || !(reference || near || own),
                            "line {:?} left while {:?} was free", l, b
                        );
                    }
                }
            }
            for &i in &r.cancelled {
                let partner = book[i].reversed_by.or(book[i].reverses).unwrap();
                proptest::prop_assert!(r.cancelled.iter().any(|&j| book[j].entry_id == partner));
            }
        }
    }

    #[test]
    fn an_entry_reversed_in_the_period_needs_no_line() {
        // Typed on the wrong loan, reversed, typed on the right one: the
        // bank has one transfer.
        let mut wrong = item(1, 1, 200_000, 0, Some("FT1111111"));
        wrong.reversed_by = Some(2);
        let mut back = item(2, 1, 0, 200_000, None);
        back.reverses = Some(1);
        let right = item(3, 1, 200_000, 0, Some("FT1111111"));
        let r = reconcile(
            &[line(1, 1, 200_000, 0, "FT1111111", "")],
            &[wrong, back, right],
            (d(1), d(1)),
        );
        assert_eq!(r.lines, [Some(Found::Reference(2))]);
        assert_eq!(r.cancelled, [0, 1]);
        assert!(r.not_on_statement.is_empty());
    }

    #[test]
    fn a_charge_posted_later_belongs_to_the_day_the_bank_took_it() {
        // The bank's fee of 30/11, posted from November's statement on
        // 5/12 with no reference.
        let mut fee = item(1, 30, 0, 22_000, None);
        fee.kind = "bank_move".into();
        fee.booked_on = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        fee.posted_on = d(5);
        let nov = |day: u32| NaiveDate::from_ymd_opt(2026, 11, day).unwrap();
        let mut fee_line = line(9, 1, 0, 22_000, "", "Phi quan ly tai khoan");
        fee_line.booked_on = nov(30);
        let r = reconcile(
            &[fee_line.clone()],
            std::slice::from_ref(&fee),
            (nov(1), nov(30)),
        );
        assert_eq!(r.lines, [Some(Found::AmountAndDay(0))]);
        // Posted from that line, it is that line's, before another of the
        // same amount and day.
        fee.from_line = Some(9);
        let mut first = fee_line.clone();
        first.line_no = 8;
        let r = reconcile(
            &[first, fee_line],
            std::slice::from_ref(&fee),
            (nov(1), nov(30)),
        );
        assert_eq!(r.lines, [None, Some(Found::Line(0))]);
        // December's statement neither has it nor misses it.
        let r = reconcile(&[line(2, 3, 500_000, 0, "FT1", "")], &[fee], (d(1), d(31)));
        assert_eq!(r.lines, [None]);
        assert!(r.not_on_statement.is_empty() && r.cancelled.is_empty());
    }

    /// A statement of `first`..`last` with `lines` and the book's balances
    /// posted before its first day and after its last.
    fn kept(
        first: NaiveDate,
        last: NaiveDate,
        lines: Vec<StatementLine>,
        book: Vec<BookItem>,
        (opening, closing): (i64, i64),
    ) -> crate::db::StatementBook {
        crate::db::StatementBook {
            head: crate::db::StatementSummary {
                id: 1,
                branch_id: 1,
                branch_name: "Thủ Đức".into(),
                file_name: "sao-ke.csv".into(),
                first_day: first,
                last_day: last,
                uploaded_by: "Lê Thị Hồng Nhung".into(),
                uploaded_at: chrono::Utc::now(),
                lines: lines.len() as i64,
                money_in: lines.iter().map(|l| l.money_in).sum(),
                money_out: lines.iter().map(|l| l.money_out).sum(),
            },
            lines,
            book,
            opening,
            closing,
        }
    }

    #[test]
    fn balances_count_each_movement_on_the_day_the_bank_booked_it() {
        let nov = |day: u32| NaiveDate::from_ymd_opt(2026, 11, day).unwrap();
        // November's SMS fee of 28/11, posted on 29/11 as a withdrawal by
        // mistake, reversed on 3/12 and posted again as a charge.
        let mut fee_line = line(2, 1, 0, 11_000, "", "Phi SMS Banking");
        fee_line.booked_on = nov(28);
        fee_line.balance = Some(989_000);
        let from_line = |id: i64, money_in: i64, money_out: i64, posted: NaiveDate| {
            let mut b = item(id, 1, money_in, money_out, None);
            b.kind = "bank_move".into();
            (b.booked_on, b.posted_on, b.from_statement) = (nov(28), posted, true);
            b
        };
        let mut wrong = from_line(1, 0, 11_000, nov(29));
        wrong.from_line = Some(2);
        wrong.reversed_by = Some(2);
        let mut back = from_line(2, 11_000, 0, d(3));
        back.reverses = Some(1);
        let mut fee = from_line(3, 0, 11_000, d(3));
        fee.from_line = Some(2);
        let book = vec![wrong, back, fee];
        // Posted before 1/11: 1.000.000; before 1/12: less the withdrawal.
        let v = view(kept(
            nov(1),
            nov(30),
            vec![fee_line],
            book.clone(),
            (1_000_000, 989_000),
        ));
        assert_eq!(v.lines[0].status, LineStatus::Posted);
        assert_eq!(v.lines[0].entry_id, Some(3));
        assert_eq!(v.cancelled.len(), 2);
        assert_eq!(
            (v.statement_opening, v.statement_closing),
            (Some(Dong(1_000_000)), Some(Dong(989_000)))
        );
        assert_eq!(
            (
                v.book_opening,
                v.book_closing,
                v.recorded_after,
                v.balances_agree
            ),
            (Dong(1_000_000), Dong(989_000), Dong(0), Some(true))
        );
        assert!(v.agrees());
        // December's statement: the reversal and the charge posted in its
        // days are November's; a transfer recorded at the counter is its.
        let mut transfer = item(4, 15, 500_000, 0, Some("FT5"));
        transfer.kind = "counter_repayment".into();
        let mut book = book;
        book.push(transfer);
        let mut line_in = line(2, 15, 500_000, 0, "FT5", "");
        line_in.balance = Some(1_489_000);
        let v = view(kept(d(1), d(31), vec![line_in], book, (989_000, 1_489_000)));
        assert_eq!(
            (v.book_opening, v.book_closing, v.balances_agree),
            (Dong(989_000), Dong(1_489_000), Some(true))
        );
        assert!(v.not_on_statement.is_empty() && v.cancelled.is_empty());
        assert!(v.agrees());
    }

    #[test]
    fn a_reference_banks_reuse_does_not_tie_a_posted_fee_to_another_month() {
        // The monthly fee always carries the same reference.
        let mut november = item(1, 1, 0, 11_000, Some("PHITHANG"));
        november.kind = "bank_move".into();
        november.booked_on = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        november.from_statement = true;
        let r = reconcile(
            &[line(2, 31, 0, 11_000, "PHITHANG", "")],
            std::slice::from_ref(&november),
            (d(1), d(31)),
        );
        assert_eq!(r.lines, [None]);
        // Not even two days apart: its day is the bank's own.
        let r = reconcile(
            &[line(2, 2, 0, 11_000, "PHITHANG", "")],
            &[november],
            (d(1), d(31)),
        );
        assert_eq!(r.lines, [None]);
    }
}
