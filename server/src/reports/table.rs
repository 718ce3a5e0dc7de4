//! The shape every report has: sheets of typed cells with Vietnamese and
//! English headers and a totals row. JSON, CSV and XLSX are made from it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use sotay_core::domain::time::{format_date, format_datetime};

/// The language of headers and labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    pub fn pick(self, vi: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }
}

/// Vietnamese and English forms of a label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Text {
    pub vi: String,
    pub en: String,
}

impl Text {
    pub fn new(vi: impl Into<String>, en: impl Into<String>) -> Text {
        Text {
            vi: vi.into(),
            en: en.into(),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Vi => &self.vi,
            Lang::En => &self.en,
        }
    }
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Text,
    /// Whole đồng (JSON: a string of digits; XLSX: a number formatted `#,##0`).
    Money,
    /// A count (JSON and XLSX: a number).
    Count,
    /// A day (JSON: `yyyy-mm-dd`; CSV: `dd/mm/yyyy`; XLSX: a date cell `dd/mm/yyyy`).
    Date,
    /// A moment (JSON: RFC 3339; CSV and XLSX: `dd/mm/yyyy HH:MM` in Asia/Ho_Chi_Minh).
    DateTime,
    /// A ratio in basis points, exact integer math (JSON: the integer;
    /// CSV: a percent with two decimals; XLSX: a number formatted `0.00%`).
    BasisPoints,
}

#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub key: &'static str,
    pub vi: &'static str,
    pub en: &'static str,
    pub kind: Kind,
}

pub const fn col(key: &'static str, vi: &'static str, en: &'static str, kind: Kind) -> Column {
    Column { key, vi, en, kind }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Empty,
    Text(String),
    /// Words the report writes itself, in Vietnamese and English.
    Words(String, String),
    /// Text that names a record of the console (a loan's or a worker's
    /// code) and the console's page of it; the files have the text alone.
    Link(String, String),
    Money(i64),
    Count(i64),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
    BasisPoints(i64),
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    pub fn link(text: impl Into<String>, href: impl Into<String>) -> Cell {
        Cell::Link(text.into(), href.into())
    }

    pub fn words(vi: impl Into<String>, en: impl Into<String>) -> Cell {
        Cell::Words(vi.into(), en.into())
    }

    /// The cell as CSV text. Text that a spreadsheet would take for a
    /// formula (a name typed on a phone as `=HYPERLINK(…)`, an imported note
    /// starting `+`, `-`, `@`) is written after an apostrophe, so Excel shows
    /// it as the text it is and runs nothing.
    pub fn csv(&self, lang: Lang) -> String {
        let text = |s: &str| {
            if s.len() > 1 && s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                format!("'{s}")
            } else {
                s.to_string()
            }
        };
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) | Cell::Link(s, _) => text(s),
            Cell::Words(vi, en) => match lang {
                Lang::Vi => text(vi),
                Lang::En => text(en),
            },
            Cell::Money(v) | Cell::Count(v) => v.to_string(),
            Cell::Date(d) => format_date(*d),
            Cell::DateTime(t) => format_datetime(*t),
            Cell::BasisPoints(bp) => percent(*bp, lang),
        }
    }

    fn json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Cell::Empty => Value::Null,
            Cell::Text(s) | Cell::Words(s, _) | Cell::Link(s, _) => Value::String(s.clone()),
            Cell::Money(v) => Value::String(v.to_string()),
            Cell::Count(v) | Cell::BasisPoints(v) => Value::from(*v),
            Cell::Date(d) => Value::String(d.format("%Y-%m-%d").to_string()),
            Cell::DateTime(t) => Value::String(t.to_rfc3339()),
        }
    }
}

/// `1234` basis points as `12,34%` (Vietnamese) or `12.34%`.
pub fn percent(bp: i64, lang: Lang) -> String {
    let sign = if bp < 0 { "-" } else { "" };
    let a = bp.unsigned_abs();
    let sep = lang.pick(",", ".");
    format!("{sign}{}{sep}{:02}%", a / 100, a % 100)
}

/// `numerator / denominator` in basis points, rounded half up; 0 when the
/// denominator is 0.
pub fn basis_points(numerator: i64, denominator: i64) -> i64 {
    if denominator == 0 {
        return 0;
    }
    let n = i128::from(numerator) * 10_000 * 2 + i128::from(denominator);
    let d = i128::from(denominator) * 2;
    i64::try_from(n.div_euclid(d)).unwrap_or(i64::MAX)
}

/// One table of a report.
#[derive(Debug, Clone)]
pub struct Sheet {
    pub key: &'static str,
    pub title: Text,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    /// The totals row (its first cell a label), when the table has one.
    pub totals: Option<Vec<Cell>>,
}

impl Sheet {
    pub fn new(key: &'static str, title: Text, columns: Vec<Column>) -> Sheet {
        Sheet {
            key,
            title,
            columns,
            rows: Vec::new(),
            totals: None,
        }
    }

    /// Sums the money and count columns into the totals row, labelled in
    /// the first column.
    pub fn sum_totals(&mut self) {
        let mut totals: Vec<Cell> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| match c.kind {
                Kind::Money => Cell::Money(self.rows.iter().map(|r| r[i].amount()).sum()),
                Kind::Count => Cell::Count(self.rows.iter().map(|r| r[i].amount()).sum()),
                _ => Cell::Empty,
            })
            .collect();
        totals[0] = Cell::text("Tổng cộng");
        self.totals = Some(totals);
    }

    /// The value of column `key` in `row`.
    pub fn value(&self, row: &[Cell], key: &str) -> Option<Cell> {
        self.columns
            .iter()
            .position(|c| c.key == key)
            .map(|i| row[i].clone())
    }
}

impl Cell {
    fn amount(&self) -> i64 {
        match self {
            Cell::Money(v) | Cell::Count(v) => *v,
            _ => 0,
        }
    }
}

/// A report: what it is, the filter it was made with, its sheets.
#[derive(Debug, Clone)]
pub struct Report {
    /// The report's name in the API (`daily-collections`, ...).
    pub name: &'static str,
    pub title: Text,
    /// The filter, in words (`01/12/2026 – 07/12/2026, Chi nhánh Thủ Đức`).
    pub subtitle: Text,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Whom it is about, in its file name: a worker's code; the branch's
    /// code and the officer's user name it is narrowed to.
    pub subject: Vec<String>,
    /// What a reader must know to read the figures right (a day to come
    /// measured as if nothing more were paid): under the subtitle on the
    /// page, `notes` in JSON, after the sheets in CSV and under each sheet
    /// in XLSX.
    pub notes: Vec<Text>,
    pub sheets: Vec<Sheet>,
}

impl Report {
    pub fn sheet(&self, key: &str) -> Option<&Sheet> {
        self.sheets.iter().find(|s| s.key == key)
    }

    /// A download's file name: `daily-collections_01-12-2026_07-12-2026.xlsx`,
    /// `vault-cash-book_CN-TD_01-12-2026_08-12-2026.xlsx`,
    /// `visits_CN-TD_canbo.lan_01-11-2026_30-11-2026.xlsx`,
    /// `worker-statement_NLD-00119.xlsx`.
    pub fn file_name(&self, ext: &str) -> String {
        let mut name = self.name.to_string();
        for code in &self.subject {
            let code = file_safe(code);
            if !code.is_empty() {
                name.push('_');
                name.push_str(&code);
            }
        }
        for d in [self.from, self.to].into_iter().flatten() {
            name.push('_');
            name.push_str(&d.format("%d-%m-%Y").to_string());
        }
        format!("{name}.{ext}")
    }
}

/// A code as a part of a file name: ASCII letters, digits, dashes and
/// dots only (a code is the fund's own text, and a file name travels in a
/// header): accents dropped, `Đ` → `D`, spaces → `-`, anything else left
/// out.
fn file_safe(code: &str) -> String {
    use unicode_normalization::char::is_combining_mark;
    use unicode_normalization::UnicodeNormalization;
    let mut out = String::with_capacity(code.len());
    for c in code.nfd().filter(|c| !is_combining_mark(*c)) {
        match c {
            'Đ' => out.push('D'),
            'đ' => out.push('d'),
            c if c.is_ascii_alphanumeric() || c == '-' || c == '.' => out.push(c),
            c if c.is_whitespace() => out.push('-'),
            _ => {}
        }
    }
    out.trim_matches(['-', '.']).to_string()
}

struct Row<'a>(&'a [Column], &'a [Cell]);

impl Serialize for Row<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (c, v) in self.0.iter().zip(self.1) {
            m.serialize_entry(c.key, &v.json())?;
        }
        m.end()
    }
}

impl Serialize for Sheet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(5))?;
        m.serialize_entry("key", self.key)?;
        m.serialize_entry("title", &self.title)?;
        m.serialize_entry("columns", &self.columns)?;
        let rows: Vec<Row<'_>> = self.rows.iter().map(|r| Row(&self.columns, r)).collect();
        m.serialize_entry("rows", &rows)?;
        m.serialize_entry(
            "totals",
            &self.totals.as_ref().map(|t| Row(&self.columns, t)),
        )?;
        m.end()
    }
}

impl Serialize for Report {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(7))?;
        m.serialize_entry("name", self.name)?;
        m.serialize_entry("title", &self.title)?;
        m.serialize_entry("subtitle", &self.subtitle)?;
        m.serialize_entry("notes", &self.notes)?;
        m.serialize_entry("from", &self.from)?;
        m.serialize_entry("to", &self.to)?;
        m.serialize_entry("sheets", &self.sheets)?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_download_is_named_by_its_report_subject_and_dates() {
        let report = |subject: Option<&str>, from: Option<NaiveDate>| Report {
            name: "worker-statement",
            title: Text::new("Sao kê", "Statement"),
            subtitle: Text::new("", ""),
            from,
            to: from,
            subject: subject.map(str::to_string).into_iter().collect(),
            notes: Vec::new(),
            sheets: Vec::new(),
        };
        assert_eq!(
            report(None, None).file_name("xlsx"),
            "worker-statement.xlsx"
        );
        let day = NaiveDate::from_ymd_opt(2026, 12, 7);
        assert_eq!(
            report(Some("NLD-00119"), day).file_name("csv"),
            "worker-statement_NLD-00119_07-12-2026_07-12-2026.csv"
        );
        assert_eq!(
            report(Some("A\"/B\r\n"), None).file_name("csv"),
            "worker-statement_AB.csv"
        );
        // A branch's code and an officer's user name, ASCII only.
        let book = Report {
            name: "vault-cash-book",
            subject: vec!["CN-TĐ".into(), "canbo.lan".into(), "Quỹ 1/2".into()],
            ..report(None, day)
        };
        assert_eq!(
            book.file_name("xlsx"),
            "vault-cash-book_CN-TD_canbo.lan_Quy-12_07-12-2026_07-12-2026.xlsx"
        );
    }

    #[test]
    fn ratios_are_exact_basis_points() {
        assert_eq!(basis_points(1, 3), 3333);
        assert_eq!(basis_points(2, 3), 6667);
        assert_eq!(basis_points(1, 20_000), 1); // 0.5 bp rounds up
        assert_eq!(basis_points(0, 0), 0);
        assert_eq!(basis_points(i64::MAX, i64::MAX), 10_000);
        assert_eq!(percent(1234, Lang::Vi), "12,34%");
        assert_eq!(percent(5, Lang::En), "0.05%");
    }

    #[test]
    fn text_a_spreadsheet_would_run_is_written_as_text() {
        let csv = |s: &str| Cell::text(s).csv(Lang::Vi);
        assert_eq!(
            csv("=HYPERLINK(\"http://x.example/\",\"Xem\")"),
            "'=HYPERLINK(\"http://x.example/\",\"Xem\")"
        );
        assert_eq!(csv("=cmd|'/c calc'!A1"), "'=cmd|'/c calc'!A1");
        assert_eq!(csv("+84901234567"), "'+84901234567");
        assert_eq!(csv("-1+2"), "'-1+2");
        assert_eq!(csv("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv("Nguyễn Thị Lan"), "Nguyễn Thị Lan");
        assert_eq!(csv("-"), "-");
        assert_eq!(Cell::Money(-150_000).csv(Lang::Vi), "-150000");
        assert_eq!(
            Cell::words("=1+2", "=1+2").csv(Lang::En),
            "'=1+2",
            "an officer's name in words too"
        );
    }
}
