//! Reading and writing the import CSV files.
//!
//! One file per kind of master data (`branches.csv`, `workers.csv`, ...):
//! UTF-8 (a byte-order mark is allowed), comma separated, a header row naming
//! the columns in any order. Text is stored NFC whatever form it arrives in.
//! Every problem is reported as a [`RowError`] naming the file, the 1-based
//! line (the header is line 1) and the column, in Vietnamese and English; all
//! problems of a file are collected (up to [`MAX_ERRORS`]) and a file with any
//! problem adds nothing to the [`ImportSet`].
//!
//! Column rules are those of [`ImportKind::columns`]: a column marked
//! required must be in the header; the others may be left out (their values
//! are then empty).

mod fields;
mod legacy;
mod parse;
mod write;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::io::Read;
use std::path::Path;

use sotay_core::domain::text::clean;

pub use parse::MIN_PASSWORD_CHARS;
pub use write::{write_dir, write_file};

use crate::import::rows::{ImportSet, RowError};
use fields::{error, Line};

/// At most this many errors are listed for one file (the last of them
/// says how many more the file has).
pub const MAX_ERRORS: usize = 200;

/// How often (in data rows) the progress callback is called.
const PROGRESS_EVERY: u64 = 1_000;

/// The kinds of import file, each with its fixed file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ImportKind {
    Branches,
    Users,
    BoardingHouses,
    Workers,
    LoanProducts,
    Loans,
    Campaigns,
    Allocations,
}

/// One column of an import file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    /// Must be present in the header.
    pub required: bool,
    /// What it holds, in Vietnamese and English, and an example value.
    pub vi: &'static str,
    pub en: &'static str,
    pub example: &'static str,
}

const fn col(
    name: &'static str,
    required: bool,
    vi: &'static str,
    en: &'static str,
    example: &'static str,
) -> Column {
    Column {
        name,
        required,
        vi,
        en,
        example,
    }
}

const BRANCH_COLUMNS: &[Column] = &[
    col("code", true, "mã chi nhánh", "branch code", "CN-TD"),
    col(
        "name",
        true,
        "tên chi nhánh",
        "branch name",
        "Chi nhánh Thủ Đức",
    ),
    col("district", true, "quận/huyện", "district", "TP. Thủ Đức"),
    col(
        "industrial_zone",
        true,
        "khu công nghiệp/khu chế xuất",
        "industrial zone",
        "KCX Linh Trung",
    ),
    col(
        "address",
        true,
        "địa chỉ",
        "address",
        "12 Kha Vạn Cân, P. Linh Trung",
    ),
];

const USER_COLUMNS: &[Column] = &[
    col("code", true, "mã người dùng", "user code", "CB-TD-01"),
    col("username", true, "tên đăng nhập", "login name", "canbo.lan"),
    col(
        "full_name",
        true,
        "họ và tên",
        "full name",
        "Nguyễn Thị Lan",
    ),
    col("role", true, "vai trò", "role", "officer"),
    col(
        "branch_code",
        true,
        "mã chi nhánh (để trống với quản trị viên)",
        "branch code (empty for an admin)",
        "CN-TD",
    ),
    col(
        "phone",
        false,
        "số điện thoại",
        "phone number",
        "0912 345 678",
    ),
    col(
        "password",
        false,
        "mật khẩu ban đầu",
        "initial password",
        "doi-mat-khau-ngay",
    ),
];

const BOARDING_HOUSE_COLUMNS: &[Column] = &[
    col(
        "code",
        true,
        "mã nhà trọ",
        "boarding house code",
        "NT-TD-001",
    ),
    col(
        "name",
        true,
        "tên nhà trọ",
        "boarding house name",
        "Nhà trọ Cô Ba",
    ),
    col("address", true, "địa chỉ", "address", "45/3 Đường số 8"),
    col("ward", true, "phường/xã", "ward", "P. Linh Trung"),
    col("district", true, "quận/huyện", "district", "TP. Thủ Đức"),
    col(
        "industrial_zone",
        true,
        "khu công nghiệp/khu chế xuất",
        "industrial zone",
        "KCX Linh Trung",
    ),
    col(
        "landlord_name",
        false,
        "tên chủ trọ",
        "landlord name",
        "Trần Thị Ba",
    ),
    col(
        "landlord_phone",
        false,
        "số điện thoại chủ trọ",
        "landlord phone",
        "0903 123 456",
    ),
    col("latitude", false, "vĩ độ", "latitude", "10.8702"),
    col("longitude", false, "kinh độ", "longitude", "106.7740"),
];

const WORKER_COLUMNS: &[Column] = &[
    col(
        "code",
        true,
        "mã người lao động",
        "worker code",
        "NLD-000123",
    ),
    col(
        "full_name",
        true,
        "họ và tên",
        "full name",
        "Nguyễn Thị Lan",
    ),
    col("cccd", true, "số CCCD", "citizen ID number", "079190012345"),
    col(
        "phone",
        false,
        "số điện thoại",
        "phone number",
        "0912 345 678",
    ),
    col(
        "date_of_birth",
        false,
        "ngày sinh",
        "date of birth",
        "15/08/1995",
    ),
    col("gender", false, "giới tính", "gender", "nữ"),
    col(
        "union_member",
        true,
        "đoàn viên công đoàn",
        "union member",
        "có",
    ),
    col(
        "employer",
        false,
        "công ty",
        "employer",
        "Công ty TNHH Pouyuen Việt Nam",
    ),
    col(
        "industrial_zone",
        false,
        "khu công nghiệp/khu chế xuất",
        "industrial zone",
        "KCN Tân Tạo",
    ),
    col(
        "boarding_house_code",
        false,
        "mã nhà trọ",
        "boarding house code",
        "NT-TD-001",
    ),
    col("room", false, "phòng", "room", "P.12"),
    col(
        "hardship",
        true,
        "hoàn cảnh khó khăn",
        "in hardship",
        "không",
    ),
    col(
        "hardship_note",
        false,
        "ghi chú hoàn cảnh",
        "hardship note",
        "Chồng bị tai nạn lao động",
    ),
    col(
        "officer_code",
        true,
        "mã cán bộ phụ trách",
        "officer code",
        "CB-TD-01",
    ),
];

const LOAN_PRODUCT_COLUMNS: &[Column] = &[
    col(
        "code",
        true,
        "mã sản phẩm vay",
        "loan product code",
        "VT-TUAN-12",
    ),
    col(
        "name",
        true,
        "tên sản phẩm vay",
        "loan product name",
        "Vay tuần dư nợ giảm dần",
    ),
    col(
        "annual_rate_percent",
        true,
        "lãi suất %/năm",
        "yearly rate in percent",
        "12",
    ),
    col(
        "method",
        true,
        "cách tính lãi",
        "interest method",
        "declining",
    ),
    col(
        "frequency",
        true,
        "kỳ trả",
        "installment frequency",
        "weekly",
    ),
    col(
        "installments",
        true,
        "số kỳ trả",
        "number of installments",
        "26",
    ),
    col(
        "min_principal",
        true,
        "mức vay tối thiểu (đồng)",
        "minimum principal (đồng)",
        "3000000",
    ),
    col(
        "max_principal",
        true,
        "mức vay tối đa (đồng)",
        "maximum principal (đồng)",
        "30000000",
    ),
];

const LOAN_COLUMNS: &[Column] = &[
    col("code", true, "mã khoản vay", "loan code", "KV-000123"),
    col(
        "worker_code",
        true,
        "mã người lao động",
        "worker code",
        "NLD-000123",
    ),
    col(
        "product_code",
        true,
        "mã sản phẩm vay",
        "loan product code",
        "VT-TUAN-12",
    ),
    col(
        "principal",
        true,
        "số tiền vay (đồng)",
        "principal (đồng)",
        "10000000",
    ),
    col(
        "disbursed_on",
        true,
        "ngày giải ngân",
        "disbursement date",
        "05/01/2026",
    ),
    col(
        "paid_to_date",
        false,
        "số tiền đã trả (đồng)",
        "amount repaid so far (đồng)",
        "1500000",
    ),
];

const CAMPAIGN_COLUMNS: &[Column] = &[
    col("code", true, "mã chương trình", "campaign code", "TET-2027"),
    col(
        "name",
        true,
        "tên chương trình",
        "campaign name",
        "Tết Sum vầy 2027",
    ),
    col("kind", true, "loại", "kind", "gift"),
    col(
        "starts_on",
        true,
        "ngày bắt đầu",
        "start date",
        "01/12/2026",
    ),
    col("ends_on", true, "ngày kết thúc", "end date", "31/01/2027"),
    col(
        "gift_value",
        true,
        "giá trị mỗi suất (đồng)",
        "value per gift (đồng)",
        "500000",
    ),
    col(
        "target_count",
        true,
        "chỉ tiêu số suất",
        "target number of gifts",
        "400",
    ),
    col(
        "eligibility",
        true,
        "đối tượng",
        "eligibility",
        "union_members",
    ),
    col(
        "description",
        false,
        "mô tả",
        "description",
        "Quà Tết cho đoàn viên",
    ),
];

const ALLOCATION_COLUMNS: &[Column] = &[
    col(
        "campaign_code",
        true,
        "mã chương trình",
        "campaign code",
        "TET-2027",
    ),
    col("branch_code", true, "mã chi nhánh", "branch code", "CN-TD"),
    col(
        "officer_code",
        false,
        "mã cán bộ",
        "officer code",
        "CB-TD-01",
    ),
    col("quota", true, "số suất được giao", "quota of gifts", "60"),
];

impl ImportKind {
    /// Every kind, in dependency order (a kind refers only to earlier ones).
    pub const ALL: [ImportKind; 8] = [
        ImportKind::Branches,
        ImportKind::Users,
        ImportKind::BoardingHouses,
        ImportKind::Workers,
        ImportKind::LoanProducts,
        ImportKind::Loans,
        ImportKind::Campaigns,
        ImportKind::Allocations,
    ];

    /// The file name, e.g. `loan_products.csv`.
    pub fn file_name(self) -> &'static str {
        match self {
            ImportKind::Branches => "branches.csv",
            ImportKind::Users => "users.csv",
            ImportKind::BoardingHouses => "boarding_houses.csv",
            ImportKind::Workers => "workers.csv",
            ImportKind::LoanProducts => "loan_products.csv",
            ImportKind::Loans => "loans.csv",
            ImportKind::Campaigns => "campaigns.csv",
            ImportKind::Allocations => "campaign_allocations.csv",
        }
    }

    /// The URL path segment, e.g. `loan-products`.
    pub fn slug(self) -> &'static str {
        match self {
            ImportKind::Branches => "branches",
            ImportKind::Users => "users",
            ImportKind::BoardingHouses => "boarding-houses",
            ImportKind::Workers => "workers",
            ImportKind::LoanProducts => "loan-products",
            ImportKind::Loans => "loans",
            ImportKind::Campaigns => "campaigns",
            ImportKind::Allocations => "campaign-allocations",
        }
    }

    /// Accepts the file name (`loan_products.csv`), its stem
    /// (`loan_products`) or the path segment (`loan-products`), any case;
    /// `allocations` for `campaign_allocations`.
    pub fn from_name(name: &str) -> Option<ImportKind> {
        let n = name.trim().to_ascii_lowercase().replace('-', "_");
        let stem = n.strip_suffix(".csv").unwrap_or(&n);
        // A browser's second download of it: `workers (1).csv`.
        let stem = match stem.strip_suffix(')').and_then(|s| s.rsplit_once(" (")) {
            Some((base, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => base,
            _ => stem,
        };
        if stem == "allocations" {
            return Some(ImportKind::Allocations);
        }
        Self::ALL
            .into_iter()
            .find(|k| k.file_name().strip_suffix(".csv") == Some(stem))
    }

    /// The columns of the file, in the order written.
    pub fn columns(self) -> &'static [Column] {
        match self {
            ImportKind::Branches => BRANCH_COLUMNS,
            ImportKind::Users => USER_COLUMNS,
            ImportKind::BoardingHouses => BOARDING_HOUSE_COLUMNS,
            ImportKind::Workers => WORKER_COLUMNS,
            ImportKind::LoanProducts => LOAN_PRODUCT_COLUMNS,
            ImportKind::Loans => LOAN_COLUMNS,
            ImportKind::Campaigns => CAMPAIGN_COLUMNS,
            ImportKind::Allocations => ALLOCATION_COLUMNS,
        }
    }

    /// The header line the file expects, e.g. `code,name,district,...`.
    pub fn header(self) -> String {
        self.columns()
            .iter()
            .map(|c| c.name)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Parses one CSV file of `kind` and appends the rows that read to `set`,
/// with the codes of those that did not in `set.unread` (so that the rest
/// can still be checked against the database and every error reported at
/// once; an import with any error writes nothing). `file_name` is used in
/// origins and errors. `on_row` is called every thousand data rows and at
/// the end with the rows read so far. Returns up to [`MAX_ERRORS`] errors.
pub fn parse_into(
    set: &mut ImportSet,
    kind: ImportKind,
    file_name: &str,
    reader: impl Read,
    on_row: &mut dyn FnMut(u64),
) -> Result<(), Vec<RowError>> {
    let mut parsed = ImportSet::default();
    let mut errors = Vec::new();
    if !read_file(kind, file_name, reader, on_row, &mut parsed, &mut errors) {
        parsed.incomplete = true;
    }
    append(set, parsed);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn append(set: &mut ImportSet, mut more: ImportSet) {
    set.branches.append(&mut more.branches);
    set.users.append(&mut more.users);
    set.boarding_houses.append(&mut more.boarding_houses);
    set.workers.append(&mut more.workers);
    set.loan_products.append(&mut more.loan_products);
    set.loans.append(&mut more.loans);
    set.campaigns.append(&mut more.campaigns);
    set.allocations.append(&mut more.allocations);
    set.unread.extend(more.unread);
    set.incomplete |= more.incomplete;
    set.left_out.extend(more.left_out);
}

/// The kind's columns, the optional ones said so in Vietnamese (`vi`) or
/// English.
fn expected_list(kind: ImportKind, vi: bool) -> String {
    kind.columns()
        .iter()
        .map(|c| match (c.required, vi) {
            // In Vietnamese each with what it holds, as a Vietnamese
            // spreadsheet may head it.
            (true, true) => format!("{} ({})", c.name, c.vi),
            (false, true) => format!("{} ({}, không bắt buộc)", c.name, c.vi),
            (true, false) => c.name.to_string(),
            (false, false) => format!("{} (optional)", c.name),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The column separator of a file from its first line that is not blank
/// (past a title above the table that has none): a comma, or a semicolon
/// or tab when those are more common in it.
fn delimiter_of(head: &[u8]) -> u8 {
    let lines = head
        .split(|b| *b == b'\n')
        .filter(|line| line.iter().any(|b| !b.is_ascii_whitespace()));
    let first = lines.clone().next().unwrap_or_default();
    let first = lines
        .take(HEADER_SEARCH_LINES as usize)
        .find(|line| line.iter().any(|b| matches!(b, b',' | b';' | b'\t')))
        .unwrap_or(first);
    let count = |d: u8| first.iter().filter(|b| **b == d).count();
    let (commas, semicolons, tabs) = (count(b','), count(b';'), count(b'\t'));
    if semicolons > commas && semicolons >= tabs {
        b';'
    } else if tabs > commas && tabs > semicolons {
        b'\t'
    } else {
        b','
    }
}

fn read_file(
    kind: ImportKind,
    file: &str,
    reader: impl Read,
    on_row: &mut dyn FnMut(u64),
    out: &mut ImportSet,
    errors: &mut Vec<RowError>,
) -> bool {
    // Spreadsheets saved as CSV with Vietnamese regional settings separate
    // columns with semicolons: the header line tells which.
    let mut reader = std::io::BufReader::with_capacity(64 * 1024, reader);
    let delimiter = match std::io::BufRead::fill_buf(&mut reader) {
        // An Excel workbook (XLSX is a ZIP archive, XLS an OLE2 file) sent
        // as it is: said as such, not as bytes that are not UTF-8.
        Ok(head)
            if head.starts_with(b"PK\x03\x04") || head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) =>
        {
            errors.push(error(
                file,
                1,
                "",
                format!(
                    "Tệp {file} là tệp Excel, không phải CSV: trong Excel chọn Tệp › Lưu thành › \"CSV UTF-8 (phân tách bằng dấu phẩy)\" rồi nhập tệp .csv đó"
                ),
                format!(
                    "{file} is an Excel workbook, not CSV: in Excel choose File › Save As › \"CSV UTF-8 (Comma delimited)\" and import that .csv file"
                ),
            ));
            return false;
        }
        Ok(head) => delimiter_of(head),
        Err(_) => b',',
    };
    let mut rdr = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(LineCounter::new(reader));
    let mut record = ::csv::ByteRecord::new();

    // The header.
    let header = match next_record(&mut rdr, &mut record, file, &[]) {
        Err(e) => {
            errors.push(e);
            return false;
        }
        Ok(None) => {
            errors.push(error(
                file,
                1,
                "",
                format!(
                    "Tệp {file} trống; dòng đầu tiên phải là tiêu đề các cột: {}",
                    kind.header()
                ),
                format!(
                    "{file} is empty; the first line must name the columns: {}",
                    kind.header()
                ),
            ));
            return false;
        }
        Ok(Some(h)) => h,
    };
    let (header_line, header) = header;
    // A title and blank rows above the table: its header row is said, not
    // taken (what is above it may be data the file should not hold).
    if !fits_names(kind, &header_names(&header)) {
        if let Some(at) = later_header(kind, &mut rdr, &mut record, file) {
            let above = match at - 1 {
                1 => "dòng 1".to_string(),
                n => format!("các dòng 1–{n}"),
            };
            let above_en = match at - 1 {
                1 => "line 1".to_string(),
                n => format!("lines 1–{n}"),
            };
            errors.push(error(
                file,
                1,
                "",
                format!(
                    "Dòng {at} mới là dòng tên cột của {file}: hãy xoá {above} phía trên (tiêu đề bảng, dòng trống) để dòng tên cột là dòng 1, rồi nhập lại"
                ),
                format!(
                    "line {at} of {file} is the header row (the column names): delete {above_en} above it (the table's title, blank rows) so that the header is line 1, and import again"
                ),
            ));
            return false;
        }
    }
    let Some(index) = read_header(kind, file, header_line, &header, errors) else {
        return false;
    };
    let names: Vec<&str> = header.iter().map(String::as_str).collect();
    // A spreadsheet's row numbers run on past its data: a row of a number
    // alone is a blank one.
    let numbered: Vec<usize> = header
        .iter()
        .enumerate()
        .filter(|(_, h)| is_row_number(&clean(h.trim_start_matches('\u{FEFF}')).to_lowercase()))
        .map(|(i, _)| i)
        .collect();
    // Where the named columns end: cells past it are no data, and a value
    // there is said (a column whose name was forgotten).
    let named = header
        .iter()
        .rposition(|h| !clean(h.trim_start_matches('\u{FEFF}')).is_empty())
        .map_or(0, |i| i + 1);
    out.left_out.extend(
        kind.columns()
            .iter()
            .filter(|c| !needed_in_header(kind, c) && !index.contains_key(c.name))
            .map(|c| (kind, c.name)),
    );

    // What separates the fields of this file, to name it.
    let (sep_vi, sep_en) = match delimiter {
        b';' => ("dấu chấm phẩy", "semicolon"),
        b'\t' => ("dấu tab", "tab"),
        _ => ("dấu phẩy", "comma"),
    };
    let mut state = parse::FileState::default();
    let mut date_order = DateOrder::new(&index);
    let mut rows: u64 = 0;
    // Errors found past the listed ones: counted, not kept.
    let mut unlisted = 0usize;
    let mut last_line = header_line;
    loop {
        let (line, fields) = match next_record(&mut rdr, &mut record, file, &names) {
            Err(e) => {
                // Why reading stopped comes first, kept whatever the cap
                // leaves out; the errors before it are still counted.
                errors.insert(0, e);
                if errors.len() > MAX_ERRORS {
                    unlisted += errors.len() - MAX_ERRORS;
                    errors.truncate(MAX_ERRORS);
                }
                say_unlisted(file, errors, unlisted, last_line);
                return false;
            }
            Ok(None) => break,
            Ok(Some(r)) => r,
        };
        if fields
            .iter()
            .enumerate()
            .all(|(i, f)| f.trim().is_empty() || numbered.contains(&i))
        {
            continue;
        }
        rows += 1;
        if rows % PROGRESS_EVERY == 0 {
            on_row(rows);
        }
        // A spreadsheet's totals row: no code (or `Tổng cộng` where the
        // code would be) and the word in another cell; said as such, once.
        let totals_word = |f: &str| {
            matches!(
                sotay_core::domain::text::fold(f).as_str(),
                "tong cong" | "tong" | "cong" | "total" | "totals"
            )
        };
        // No code of anything (each code cell empty or the word), the word
        // somewhere, and either in a cell that is no code or with the
        // references a row needs all empty: a branch coded TOTAL is a
        // branch, `;;Tổng cộng;120` under a quota sheet is its total.
        let code_cells: Vec<usize> = index
            .iter()
            .filter(|(name, _)| **name == "code" || name.ends_with("_code"))
            .map(|(_, &i)| i)
            .collect();
        let cell = |i: usize| fields.get(i).map_or(String::new(), |c| clean(c));
        let references: Vec<usize> = index
            .iter()
            .filter(|(name, _)| name.ends_with("_code"))
            .map(|(_, &i)| i)
            .collect();
        let totals_row = code_cells.iter().all(|&i| {
            let c = cell(i);
            c.is_empty() || totals_word(&c)
        }) && fields.iter().any(|f| totals_word(f))
            && (fields
                .iter()
                .enumerate()
                .any(|(i, f)| !code_cells.contains(&i) && totals_word(f))
                || (!references.is_empty() && references.iter().any(|&i| cell(i).is_empty())));
        if let Some(i) = (named..fields.len())
            .filter(|_| fields.len() == header.len())
            .find(|&i| !fields[i].trim().is_empty())
        {
            let letter = fields::column_letter(i);
            errors.push(error(
                file,
                line,
                "",
                format!("Dòng {line} có giá trị ở cột {letter} (cột thứ {}) mà dòng tiêu đề không đặt tên cho cột đó: hãy ghi tên cột ở dòng tiêu đề, hoặc xoá giá trị", i + 1),
                format!("line {line} has a value in column {letter} (column {}), which the header does not name: name the column in the header, or delete the value", i + 1),
            ));
            continue;
        }
        if totals_row {
            errors.push(error(
                file,
                line,
                "",
                format!("Dòng {line} là dòng tổng cộng của bảng tính, không phải dữ liệu: hãy xoá dòng này khỏi tệp rồi nhập lại"),
                format!("line {line} is the spreadsheet's totals row, not data: delete it from the file and import again"),
            ));
            continue;
        }
        if fields.len() != header.len() {
            // Its code, when the line has it where the header says.
            if let Some(code) = index.get("code").and_then(|&i| fields.get(i)) {
                let code = clean(code);
                if !code.is_empty() {
                    out.unread.insert(code);
                }
            }
            errors.push(error(
                file,
                line,
                "",
                format!(
                    "Dòng {line} có {} trường nhưng dòng tiêu đề có {} cột; kiểm tra {sep_vi} thừa hoặc thiếu (giá trị có {sep_vi} phải đặt trong ngoặc kép \"...\")",
                    fields.len(),
                    header.len()
                ),
                format!(
                    "line {line} has {} fields but the header has {} columns; check for a missing or extra {sep_en} (a value containing a {sep_en} must be quoted \"...\")",
                    fields.len(),
                    header.len()
                ),
            ));
        } else {
            let before = errors.len();
            let mut l = Line {
                file,
                line,
                columns: kind.columns(),
                index: &index,
                fields: &fields,
                errors,
                header: &header,
            };
            parse::parse_line(kind, &mut l, &mut state, out);
            let code = l.text("code");
            date_order.see(line, &fields, &code);
            // A branch's quota row, known by its campaign and branch.
            let quota = (kind == ImportKind::Allocations && l.text("officer_code").is_empty())
                .then(|| {
                    crate::import::rows::branch_quota_key(
                        &l.text("campaign_code"),
                        &l.text("branch_code"),
                    )
                });
            if errors.len() > before {
                out.unread.extend(quota);
                if !code.is_empty() {
                    out.unread.insert(code);
                }
            }
        }
        last_line = line;
        if errors.len() > MAX_ERRORS {
            unlisted += errors.len() - MAX_ERRORS;
            errors.truncate(MAX_ERRORS);
        }
    }
    // Day and month both 12 or less read day first: not in a column whose
    // other values show it is written month first.
    let refused = date_order.refuse_ambiguous(kind, file, &index, &header, errors);
    if !refused.is_empty() {
        out.unread
            .extend(date_order.refused_codes().map(str::to_string));
        drop_lines(out, &refused);
        // In the order of the lines, as the others.
        errors.sort_by_key(|e| e.line);
        if errors.len() > MAX_ERRORS {
            unlisted += errors.len() - MAX_ERRORS;
            errors.truncate(MAX_ERRORS);
        }
    }
    say_unlisted(file, errors, unlisted, last_line);
    on_row(rows);
    true
}

/// The columns that hold dates.
const DATE_COLUMNS: &[&str] = &["date_of_birth", "disbursed_on", "starts_on", "ends_on"];

/// How a file writes the days of its date columns (one spreadsheet, one
/// way): a value only month first can be (`3/25/2026`), with none only day
/// first can be (`25/3/2026`), shows the file is written month first, and
/// then its values whose day and month are both 12 or less (`3/5/2026`),
/// which read day first, cannot be trusted either, in any of its date
/// columns. A file with both is read day first, as the fund writes: its
/// values only month first can be are refused one by one (a slip).
struct DateOrder {
    /// Per date column (name, position): every ambiguous value with its
    /// line and its row's code.
    columns: Vec<DateColumn>,
    /// The first line, value and column that can only be month first.
    month_first: Option<(u64, String, &'static str)>,
    /// A value that can only be day first was seen.
    day_first: bool,
}

struct DateColumn {
    name: &'static str,
    at: usize,
    ambiguous: Vec<(u64, String, String)>,
}

/// What a date as written says of the order of its day and month.
#[derive(Debug, PartialEq, Eq)]
enum DayOrder {
    /// Its first two numbers are both 12 or less, and differ: either can
    /// be the month.
    Ambiguous { first: u32, second: u32, year: i32 },
    /// A month (≤ 12) then a day past 12 that the month has.
    MonthFirst,
    /// A day past 12 then a month (≤ 12).
    DayFirst,
    /// Anything else (day first past 12, the same two numbers, ISO, not a
    /// date).
    Other,
}

fn day_order(raw: &str) -> DayOrder {
    let t = fields::without_midnight(raw.trim());
    let Some(sep) = ['/', '-', '.'].into_iter().find(|c| t.contains(*c)) else {
        return DayOrder::Other;
    };
    let parts: Vec<&str> = t.split(sep).collect();
    let num = |s: &str, len: std::ops::RangeInclusive<usize>| {
        (len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let [a, b, y] = parts[..] else {
        return DayOrder::Other;
    };
    match (num(a, 1..=2), num(b, 1..=2), num(y, 4..=4)) {
        (Some(first), Some(second), Some(year))
            if (1..=12).contains(&first) && (1..=12).contains(&second) && first != second =>
        {
            DayOrder::Ambiguous {
                first,
                second,
                year: year as i32,
            }
        }
        (Some(month), Some(day), Some(year))
            if day > 12 && chrono::NaiveDate::from_ymd_opt(year as i32, month, day).is_some() =>
        {
            DayOrder::MonthFirst
        }
        (Some(day), Some(month), Some(year))
            if day > 12 && chrono::NaiveDate::from_ymd_opt(year as i32, month, day).is_some() =>
        {
            DayOrder::DayFirst
        }
        _ => DayOrder::Other,
    }
}

impl DateOrder {
    fn new(index: &HashMap<&'static str, usize>) -> Self {
        let mut columns: Vec<DateColumn> = index
            .iter()
            .filter(|(name, _)| DATE_COLUMNS.contains(name))
            .map(|(&name, &at)| DateColumn {
                name,
                at,
                ambiguous: Vec::new(),
            })
            .collect();
        columns.sort_by_key(|c| c.at);
        DateOrder {
            columns,
            month_first: None,
            day_first: false,
        }
    }

    /// The value that shows the file is written month first, when it is.
    fn shown_month_first(&self) -> Option<&(u64, String, &'static str)> {
        self.month_first.as_ref().filter(|_| !self.day_first)
    }

    /// Notes the date values of a data line.
    fn see(&mut self, line: u64, fields: &[String], code: &str) {
        for c in &mut self.columns {
            let Some(raw) = fields.get(c.at) else {
                continue;
            };
            match day_order(raw) {
                DayOrder::Ambiguous { .. } => {
                    c.ambiguous.push((line, clean(raw), code.to_string()))
                }
                DayOrder::MonthFirst if self.month_first.is_none() => {
                    self.month_first = Some((line, clean(raw), c.name));
                }
                DayOrder::DayFirst => self.day_first = true,
                _ => {}
            }
        }
    }

    /// Refuses the ambiguous values of each column shown month first;
    /// returns the lines refused.
    fn refuse_ambiguous(
        &self,
        kind: ImportKind,
        file: &str,
        index: &HashMap<&'static str, usize>,
        header: &[String],
        errors: &mut Vec<RowError>,
    ) -> std::collections::HashSet<u64> {
        let mut refused = std::collections::HashSet::new();
        let Some((shown_at, shown, shown_in)) = self.shown_month_first() else {
            return refused;
        };
        for c in &self.columns {
            for (line, raw, _) in &c.ambiguous {
                let DayOrder::Ambiguous {
                    first: a,
                    second: b,
                    year: y,
                } = day_order(raw)
                else {
                    continue;
                };
                let name = c.name;
                let mut l = Line {
                    file,
                    line: *line,
                    columns: kind.columns(),
                    index,
                    fields: &[],
                    errors,
                    header,
                };
                l.err(
                    name,
                    format!(
                        "Cột {name}: \"{raw}\" có thể là ngày {a} tháng {b} hoặc ngày {b} tháng {a}: dòng {shown_at} (\"{shown}\", cột {shown_in}) cho thấy tệp ghi tháng trước ngày, kiểu Mỹ, và không ngày nào của tệp chỉ đọc được ngày trước; hãy ghi rõ mọi ngày của tệp theo dd/mm/yyyy (ngày {b} tháng {a} là {b:02}/{a:02}/{y}) rồi nhập lại"
                    ),
                    format!(
                        "{name}: \"{raw}\" may be day {a} of month {b} or day {b} of month {a}: line {shown_at} (\"{shown}\", column {shown_in}) shows the file writes the month before the day, as in the US, and no date of the file reads only day first; write every date of the file as dd/mm/yyyy (day {b} of month {a} is {b:02}/{a:02}/{y}) and import again"
                    ),
                );
                refused.insert(*line);
            }
        }
        refused
    }

    /// The codes of the rows [`Self::refuse_ambiguous`] refuses.
    fn refused_codes(&self) -> impl Iterator<Item = &str> {
        let month_first = self.shown_month_first().is_some();
        self.columns
            .iter()
            .filter(move |_| month_first)
            .flat_map(|c| c.ambiguous.iter().map(|(_, _, code)| code.as_str()))
            .filter(|code| !code.is_empty())
    }
}

/// Takes the rows of `lines` out of what a file brought.
fn drop_lines(set: &mut ImportSet, lines: &std::collections::HashSet<u64>) {
    let keep = |o: &crate::import::rows::Origin| !lines.contains(&o.line);
    set.branches.retain(|r| keep(&r.origin));
    set.users.retain(|r| keep(&r.origin));
    set.boarding_houses.retain(|r| keep(&r.origin));
    set.workers.retain(|r| keep(&r.origin));
    set.loan_products.retain(|r| keep(&r.origin));
    set.loans.retain(|r| keep(&r.origin));
    set.campaigns.retain(|r| keep(&r.origin));
    set.allocations.retain(|r| keep(&r.origin));
}

/// Past [`MAX_ERRORS`], the last listed error makes way for a line saying
/// how many more there are, up to `last_line`.
fn say_unlisted(file: &str, errors: &mut Vec<RowError>, mut unlisted: usize, last_line: u64) {
    if unlisted == 0 {
        return;
    }
    let first = errors[MAX_ERRORS - 1].line;
    unlisted += 1;
    errors.truncate(MAX_ERRORS - 1);
    errors.push(RowError {
        unlisted,
        ..error(
            file,
            first,
            "",
            format!(
                "Quá nhiều lỗi: còn {unlisted} lỗi nữa trong {file} từ dòng {first} đến dòng {last_line} không liệt kê ở đây; hãy sửa các lỗi trên rồi nhập lại để xem tiếp"
            ),
            format!(
                "too many errors: {unlisted} more in {file} from line {first} to line {last_line} are not listed here; fix the errors above and import again to see them"
            ),
        )
    });
}

/// Counts lines in the bytes read. The CSV reader skips blank lines without
/// counting them, so its line numbers drift; this one counts every `\n`.
struct LineCounter<R> {
    inner: R,
    /// Bytes read so far.
    offset: u64,
    /// Offsets of the newlines read but not yet passed by [`Self::line_at`].
    newlines: VecDeque<u64>,
    /// Newlines before the last position asked for.
    passed: u64,
}

impl<R: Read> LineCounter<R> {
    fn new(inner: R) -> Self {
        LineCounter {
            inner,
            offset: 0,
            newlines: VecDeque::new(),
            passed: 0,
        }
    }

    /// The 1-based line of byte `byte`; positions must not go backwards.
    fn line_at(&mut self, byte: u64) -> u64 {
        while self.newlines.front().is_some_and(|&n| n < byte) {
            self.newlines.pop_front();
            self.passed += 1;
        }
        self.passed + 1
    }
}

impl<R: Read> Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for (i, _) in buf[..n].iter().enumerate().filter(|(_, &b)| b == b'\n') {
            self.newlines.push_back(self.offset + i as u64);
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// The next record as text, with the line it starts on; `None` at the end.
/// A byte sequence that is not UTF-8 is reported with the line it is on.
/// (Its error is the file's last: its size costs nothing.)
#[allow(clippy::result_large_err)]
fn next_record<R: Read>(
    rdr: &mut ::csv::Reader<LineCounter<R>>,
    record: &mut ::csv::ByteRecord,
    file: &str,
    names: &[&str],
) -> Result<Option<(u64, Vec<String>)>, RowError> {
    match rdr.read_byte_record(record) {
        Ok(false) => return Ok(None),
        Ok(true) => {}
        Err(e) => {
            let line = match e.position() {
                Some(p) => rdr.get_mut().line_at(p.byte()),
                None => 0,
            };
            return Err(error(
                file,
                line,
                "",
                format!("Không đọc được {file}: {e}"),
                format!("could not read {file}: {e}"),
            ));
        }
    }
    // The reader's record start can point at blank lines it skipped, so
    // count back from the record's last byte instead.
    let end = rdr.position().byte();
    let inner: u64 = record
        .iter()
        .map(|f| f.iter().filter(|&&b| b == b'\n').count() as u64)
        .sum();
    let start = rdr.get_mut().line_at(end.saturating_sub(1)) - inner;
    let mut fields = Vec::with_capacity(record.len());
    let mut line = start;
    for (i, bytes) in record.iter().enumerate() {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                line += s.matches('\n').count() as u64;
                fields.push(s.to_string());
            }
            Err(e) => {
                let bad_line = line
                    + bytes[..e.valid_up_to()]
                        .iter()
                        .filter(|&&b| b == b'\n')
                        .count() as u64;
                let column = names.get(i).copied().unwrap_or("");
                return Err(error(
                    file,
                    bad_line,
                    column,
                    format!(
                        "Tệp {file} không phải UTF-8: dòng {bad_line} có ký tự không đọc được; hãy lưu lại tệp dạng \"CSV UTF-8\" rồi nhập lại"
                    ),
                    format!(
                        "{file} is not UTF-8: line {bad_line} has bytes that are not valid UTF-8; save the file as \"CSV UTF-8\" and import again"
                    ),
                ));
            }
        }
    }
    Ok(Some((start, fields)))
}

/// Checks the header against the kind's columns; column name → position.
/// A spreadsheet's column of row numbers (`STT`, `TT`, `No.`, `#`),
/// which an import leaves aside.
/// Other names a column goes by in the spreadsheets people keep, beside
/// its own (`full_name`) and its Vietnamese label (`họ và tên`).
const OTHER_NAMES: &[(&str, &[&str])] = &[
    ("code", &["mã"]),
    ("full_name", &["họ tên"]),
    ("password", &["mật khẩu"]),
    ("phone", &["điện thoại", "sđt", "số đt"]),
    (
        "cccd",
        &[
            "căn cước",
            "số căn cước",
            "cccd",
            "số cmnd/cccd",
            "cmnd/cccd",
            "số cccd/cmnd",
            "cccd/cmnd",
            "số cmnd",
            "cmnd",
        ],
    ),
    ("union_member", &["đoàn viên", "là đoàn viên"]),
    ("gender", &["nam/nữ"]),
    ("district", &["quận", "huyện"]),
    ("ward", &["phường", "xã"]),
    (
        "industrial_zone",
        &["khu công nghiệp", "khu chế xuất", "kcn", "kcx"],
    ),
    ("annual_rate_percent", &["lãi suất"]),
    ("officer_code", &["mã cán bộ", "mã cán bộ phụ trách"]),
];

/// Other names of a column in one kind of file only: `Mã NLĐ` is a
/// worker's own code in `workers.csv`, the loan's worker in `loans.csv`.
const KIND_NAMES: &[(ImportKind, &str, &[&str])] = &[
    (
        ImportKind::Workers,
        "code",
        &["mã nlđ", "mã số nlđ", "mã người lao động"],
    ),
    (ImportKind::Loans, "worker_code", &["mã nlđ", "mã số nlđ"]),
    (ImportKind::LoanProducts, "code", &["mã sản phẩm", "mã sp"]),
    (
        ImportKind::LoanProducts,
        "name",
        &["tên sản phẩm", "tên sp"],
    ),
    (
        ImportKind::LoanProducts,
        "installments",
        &["số kỳ", "số kỳ hạn"],
    ),
    (
        ImportKind::LoanProducts,
        "method",
        &["phương thức tính lãi", "cách tính", "phương pháp tính lãi"],
    ),
    (
        ImportKind::LoanProducts,
        "frequency",
        &["kỳ hạn trả", "định kỳ trả", "kỳ hạn trả nợ"],
    ),
    (
        ImportKind::Loans,
        "principal",
        &[
            "số tiền gốc",
            "số tiền giải ngân",
            "mức vay",
            "số tiền cho vay",
        ],
    ),
    (
        ImportKind::Campaigns,
        "gift_value",
        &["giá trị suất quà", "giá trị mỗi suất quà", "giá trị suất"],
    ),
];

/// Whether a header cell of a file of `kind` names its column `c` (folded: any case, with or
/// without diacritics, `_` or spaces): by its name, its Vietnamese label
/// (without what the brackets add), or one of [`OTHER_NAMES`].
fn names_column(kind: ImportKind, c: &Column, header: &str) -> bool {
    use sotay_core::domain::text::fold;
    // What brackets add to a header is left aside too, as to a label:
    // `Số tiền vay (đồng)`, as the console lists it, or `(VNĐ)`.
    let bare = fold(header.split('(').next().unwrap_or(header));
    let header = fold(header);
    let label = c.vi.split(" (").next().unwrap_or(c.vi);
    // A rate's header names its period, or none: `Lãi suất (%/quý)` is no
    // yearly rate.
    if c.name == "annual_rate_percent" {
        return rate_period(&header).is_some() || header == fold(c.name);
    }
    header == fold(c.name)
        || header == fold(label)
        || (!bare.is_empty() && bare == fold(label))
        || OTHER_NAMES
            .iter()
            .filter(|(name, _)| *name == c.name)
            .flat_map(|(_, names)| names.iter())
            .chain(
                KIND_NAMES
                    .iter()
                    .filter(|(k, name, _)| *k == kind && *name == c.name)
                    .flat_map(|(_, _, names)| names.iter()),
            )
            .any(|n| header == fold(n) || (!bare.is_empty() && bare == fold(n)))
}

/// What the header of a rate column says of the rate's period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RatePeriod {
    /// `annual_rate_percent`, `Lãi suất (%/năm)`, `lãi suất năm`.
    Year,
    /// `Lãi suất (%/tháng)`, `lãi suất tháng`: funds quote rates so.
    Month,
    /// A bare `Lãi suất`, `Lãi suất (%)`.
    Unstated,
}

/// The period a header names a rate for, when it names the rate column
/// at all (folded: `%`, `/` and brackets are no words).
pub(crate) fn rate_period(header: &str) -> Option<RatePeriod> {
    let folded = sotay_core::domain::text::fold(header);
    if matches!(folded.as_str(), "annual rate percent" | "annual rate") {
        return Some(RatePeriod::Year);
    }
    let rest = folded
        .strip_prefix("lai suat")
        .or_else(|| folded.strip_prefix("ls"))?;
    if !rest.is_empty() && !rest.starts_with(' ') {
        return None;
    }
    let rest = rest.trim();
    // `Lãi suất cho vay (%/năm)`.
    let rest = rest.strip_prefix("cho vay").unwrap_or(rest).trim();
    match rest {
        "" => Some(RatePeriod::Unstated),
        "nam" | "theo nam" | "hang nam" | "mot nam" | "trong nam" => Some(RatePeriod::Year),
        "thang" | "theo thang" | "hang thang" | "mot thang" => Some(RatePeriod::Month),
        _ => None,
    }
}

/// A unit of money other than the đồng that an amount column's header
/// names in brackets.
struct ScaledUnit {
    vi: &'static str,
    en: &'static str,
    /// How many đồng one of its units is, when the header says.
    factor: Option<&'static str>,
}

/// The unit an amount column's header names in its brackets when it is
/// not the đồng: `(nghìn đồng)`, `(ngàn đồng)`, `(1.000 đ)`, `(triệu
/// đồng)`, `(tr.đ)`. `(đồng)`, `(VNĐ)`, `(₫)` are đồng.
fn scaled_unit(header: &str) -> Option<ScaledUnit> {
    use sotay_core::domain::text::fold;
    let (_, brackets) = header.split_once('(')?;
    // The first brackets only: `Số tiền vay (đồng) (5)` numbers a column.
    let brackets = brackets.split(')').next().unwrap_or(brackets);
    let unit = fold(brackets);
    let words: Vec<&str> = unit.split(' ').collect();
    let has = |w: &[&str]| words.iter().any(|x| w.contains(x));
    let digits: String = unit.chars().filter(char::is_ascii_digit).collect();
    let thousands = ScaledUnit {
        vi: "nghìn đồng",
        en: "thousands of đồng",
        factor: Some("1.000"),
    };
    let millions = ScaledUnit {
        vi: "triệu đồng",
        en: "millions of đồng",
        factor: Some("1.000.000"),
    };
    if has(&["nghin", "ngan", "k", "kvnd", "kd", "ngd", "nd"]) || digits == "1000" {
        Some(thousands)
    } else if has(&["trieu", "tr", "trd", "trvnd"]) || digits == "1000000" {
        Some(millions)
    } else if has(&["ty", "ti"]) {
        Some(ScaledUnit {
            vi: "tỷ đồng",
            en: "billions of đồng",
            factor: Some("1.000.000.000"),
        })
    } else if unit.contains("usd")
        || brackets.contains('$')
        || unit.contains("do la")
        || unit.contains("dola")
        || unit.contains("ngoai te")
        || has(&["eur", "euro", "yen", "cny", "rmb", "krw", "won"])
    {
        Some(ScaledUnit {
            vi: "ngoại tệ",
            en: "a foreign currency",
            factor: None,
        })
    } else if digits.len() >= 2 && digits.starts_with('1') && digits[1..].bytes().all(|b| b == b'0')
    {
        // `(x100 đ)`: a power of ten is a unit; `(đợt 1)` is not.
        Some(ScaledUnit {
            vi: "một đơn vị khác đồng",
            en: "a unit other than the đồng",
            factor: None,
        })
    } else {
        None
    }
}

/// `mức vay tối đa` → `Mức vay tối đa`.
fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Columns a new row needs that a file of rows already stored may leave
/// out, keeping what those rows hold: a file of workers' codes and officers
/// moves them.
pub(crate) const KEPT_WHEN_LEFT_OUT: &[(ImportKind, &str)] = &[
    (ImportKind::Workers, "full_name"),
    (ImportKind::Workers, "cccd"),
    (ImportKind::Workers, "union_member"),
    (ImportKind::Workers, "hardship"),
    (ImportKind::Workers, "officer_code"),
];

/// Whether a file of `kind` must have column `c` in its header.
fn needed_in_header(kind: ImportKind, c: &Column) -> bool {
    c.required && !KEPT_WHEN_LEFT_OUT.contains(&(kind, c.name))
}

fn is_row_number(name: &str) -> bool {
    name == "#"
        || matches!(
            sotay_core::domain::text::fold(name).as_str(),
            "stt" | "tt" | "no" | "so tt" | "so thu tu"
        )
}

/// The names a header line gives its columns, the row numbers' left
/// aside.
fn header_names(header: &[String]) -> Vec<String> {
    header
        .iter()
        .map(|raw| clean(raw.trim_start_matches('\u{FEFF}')).to_lowercase())
        .filter(|n| !n.is_empty() && !is_row_number(n))
        .collect()
}

/// Whether `names` are columns of `kind`, its needed ones all there.
fn fits_names(kind: ImportKind, names: &[String]) -> bool {
    names
        .iter()
        .all(|n| kind.columns().iter().any(|c| names_column(kind, c, n)))
        && kind
            .columns()
            .iter()
            .all(|c| !needed_in_header(kind, c) || names.iter().any(|n| names_column(kind, c, n)))
}

/// The lines among the first ones a header row is looked for in, when
/// line 1 is not one (a title above the table).
const HEADER_SEARCH_LINES: u64 = 10;

/// The line, past the first and among the first [`HEADER_SEARCH_LINES`],
/// that names the columns of `kind`: the header row, under a title.
fn later_header<R: Read>(
    kind: ImportKind,
    rdr: &mut ::csv::Reader<LineCounter<R>>,
    record: &mut ::csv::ByteRecord,
    file: &str,
) -> Option<u64> {
    loop {
        let (line, fields) = next_record(rdr, record, file, &[]).ok()??;
        if line > HEADER_SEARCH_LINES {
            return None;
        }
        let names = header_names(&fields);
        if !names.is_empty() && fits_names(kind, &names) {
            return Some(line);
        }
    }
}

fn read_header(
    kind: ImportKind,
    file: &str,
    line: u64,
    header: &[String],
    errors: &mut Vec<RowError>,
) -> Option<HashMap<&'static str, usize>> {
    let (expected, expected_en) = (expected_list(kind, true), expected_list(kind, false));
    let before = errors.len();
    // Another kind's file (workers sent as loans): said once, naming it,
    // rather than every column in turn.
    let names = header_names(header);
    let fits = |k: ImportKind| fits_names(k, &names);
    if !names.is_empty() && !fits(kind) {
        if let Some(other) = ImportKind::ALL.into_iter().find(|k| *k != kind && fits(*k)) {
            let (vi, en) = if file.eq_ignore_ascii_case(other.file_name()) {
                // Named for what it holds, chosen as another kind.
                (
                    format!(
                        "{file} đã được chọn nhập là {}: các cột của tệp là của {file}; hãy chọn loại dữ liệu {} cho tệp này rồi nhập lại",
                        kind.file_name(),
                        other.file_name()
                    ),
                    format!(
                        "{file} was chosen to be imported as {}: its columns are those of {file}; choose the kind {} for it and import again",
                        kind.file_name(),
                        other.file_name()
                    ),
                )
            } else {
                (
                    format!(
                        "Dòng tiêu đề của {file} là của tệp {}, không phải {}: hãy chọn đúng loại dữ liệu (hoặc đúng tệp) rồi nhập lại",
                        other.file_name(),
                        kind.file_name()
                    ),
                    format!(
                        "the header of {file} is that of {}, not {}: choose the right kind of data (or the right file) and import again",
                        other.file_name(),
                        kind.file_name()
                    ),
                )
            };
            errors.push(error(file, line, "", vi, en));
            return None;
        }
    }
    let mut index = HashMap::new();
    // Nameless columns after the last named one: the spreadsheet's cells
    // past the data that Excel saves as `;;`, not columns.
    let named = header
        .iter()
        .rposition(|raw| !clean(raw.trim_start_matches('\u{FEFF}')).is_empty())
        .map_or(0, |i| i + 1);
    for (i, raw) in header.iter().enumerate().take(named) {
        // A byte-order mark, when there is one, starts the first name.
        let written = clean(raw.trim_start_matches('\u{FEFF}'));
        // Lower case as a reader would write it (`sđt chủ trọ`, not
        // `sĐt chủ trọ`).
        let name = written.to_lowercase();
        let letter = fields::column_letter(i);
        if name.is_empty() {
            errors.push(error(
                file,
                line,
                "",
                format!(
                    "Cột {letter} (cột thứ {}) ở dòng tiêu đề không có tên; hãy xoá cột trống. Các cột của {file}: {expected}",
                    i + 1
                ),
                format!(
                    "column {letter} (column {}) of the header has no name; remove the empty column. Columns of {file}: {expected_en}",
                    i + 1
                ),
            ));
            continue;
        }
        match kind.columns().iter().find(|c| names_column(kind, c, &name)) {
            // A spreadsheet's row numbers: not data.
            None if is_row_number(&name) => {}
            None => errors.push(error(
                file,
                line,
                &name,
                format!("Cột \"{written}\" (cột {letter}) không thuộc {file}; các cột hợp lệ: {expected}"),
                format!(
                    "column \"{written}\" (column {letter}) is not a column of {file}; expected columns: {expected_en}"
                ),
            )),
            Some(c) => {
                if let Some(unit) = c.vi.ends_with("(đồng)").then(|| scaled_unit(&written)).flatten() {
                    // Read as đồng, its figures would be a thousand or a
                    // million times too small.
                    let label = c.vi.split(" (").next().unwrap_or(c.vi);
                    let label = upper_first(label);
                    let (times_vi, times_en) = match unit.factor {
                        Some(f) => (
                            format!(" (nhân mỗi số với {f})"),
                            format!(" (multiply each figure by {f})"),
                        ),
                        None => (String::new(), String::new()),
                    };
                    errors.push(error(
                        file,
                        line,
                        c.name,
                        format!(
                            "Cột \"{written}\" (cột {letter}, {}) ghi số tiền theo {}: số tiền trong tệp phải là đồng (ví dụ 15.000.000, không phải 15.000); hãy đổi các số của cột sang đồng{times_vi} và đặt tên cột là \"{label} (đồng)\" rồi nhập lại",
                            c.name, unit.vi
                        ),
                        format!(
                            "column \"{written}\" (column {letter}, {}) gives amounts in {}: amounts must be in đồng (e.g. 15.000.000, not 15.000); convert the column's figures to đồng{times_en} and head it \"{label} (đồng)\", then import again",
                            c.name, unit.en
                        ),
                    ));
                }
                if let Some(first) = index.insert(c.name, i) {
                    let before = fields::column_letter(first);
                    let other = clean(header[first].trim_start_matches('\u{FEFF}'));
                    errors.push(error(
                        file,
                        line,
                        c.name,
                        format!(
                            "Cột \"{other}\" (cột {before}) và cột \"{written}\" (cột {letter}) cùng là cột {} ({}): hãy giữ một",
                            c.name, c.vi
                        ),
                        format!(
                            "column \"{other}\" (column {before}) and column \"{written}\" (column {letter}) are both {} ({}): keep one",
                            c.name, c.en
                        ),
                    ));
                }
            }
        }
    }
    for c in kind.columns() {
        if needed_in_header(kind, c) && !index.contains_key(c.name) {
            errors.push(error(
                file,
                line,
                c.name,
                format!(
                    "Thiếu cột bắt buộc \"{}\" ({}) ở dòng tiêu đề; các cột của {file}: {expected}",
                    c.name, c.vi
                ),
                format!(
                    "the required column \"{}\" ({}) is missing from the header; columns of {file}: {expected_en}",
                    c.name, c.en
                ),
            ));
        }
    }
    (errors.len() == before).then_some(index)
}

/// Reads every known import file present in `dir` (`branches.csv`, ...;
/// also `loan-products.csv` style names), in dependency order. Fails when
/// the directory holds none, when a `.csv` file has a name that is not an
/// import file, or when two files are the same kind. `on_row` receives the
/// kind being read and its rows so far. Errors of all files are returned
/// together; on error no set is returned.
pub fn read_dir(
    dir: &Path,
    on_row: &mut dyn FnMut(ImportKind, u64),
) -> Result<ImportSet, Vec<RowError>> {
    let dir_name = dir.display().to_string();
    let io_error = |e: std::io::Error| {
        vec![error(
            &dir_name,
            0,
            "",
            format!("Không đọc được thư mục {dir_name}: {e}"),
            format!("could not read the directory {dir_name}: {e}"),
        )]
    };
    let known = ImportKind::ALL
        .iter()
        .map(|k| k.file_name())
        .collect::<Vec<_>>()
        .join(", ");
    let mut found: Vec<(ImportKind, String)> = Vec::new();
    let mut errors = Vec::new();
    let mut entries = std::fs::read_dir(dir)
        .map_err(io_error)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(io_error)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.to_ascii_lowercase().ends_with(".csv") || !entry.path().is_file() {
            continue;
        }
        match ImportKind::from_name(&name) {
            None => errors.push(error(
                &name,
                0,
                "",
                format!("Tệp {name} không phải tệp nhập liệu; tên tệp hợp lệ: {known}"),
                format!("{name} is not an import file; import files are named: {known}"),
            )),
            Some(kind) => {
                if let Some((_, other)) = found.iter().find(|(k, _)| *k == kind) {
                    errors.push(error(
                        &name,
                        0,
                        "",
                        format!(
                            "Tệp {name} và {other} cùng là {}; hãy giữ một tệp",
                            kind.file_name()
                        ),
                        format!(
                            "{name} and {other} are both {}; keep only one",
                            kind.file_name()
                        ),
                    ));
                } else {
                    found.push((kind, name));
                }
            }
        }
    }
    if found.is_empty() && errors.is_empty() {
        errors.push(error(
            &dir_name,
            0,
            "",
            format!("Thư mục {dir_name} không có tệp nhập liệu nào; tên tệp hợp lệ: {known}"),
            format!("{dir_name} holds no import file; import files are named: {known}"),
        ));
    }
    found.sort();
    let mut set = ImportSet::default();
    for (kind, name) in found {
        let file = match std::fs::File::open(dir.join(&name)) {
            Ok(f) => f,
            Err(e) => {
                errors.push(error(
                    &name,
                    0,
                    "",
                    format!("Không mở được tệp {name}: {e}"),
                    format!("could not open {name}: {e}"),
                ));
                continue;
            }
        };
        let reader = std::io::BufReader::new(file);
        if let Err(mut e) = parse_into(&mut set, kind, &name, reader, &mut |n| on_row(kind, n)) {
            errors.append(&mut e);
        }
    }
    if errors.is_empty() {
        Ok(set)
    } else {
        Err(errors)
    }
}
