//! One data line of a CSV file and the field parsers that read it. Every
//! parser records a [`RowError`] naming the line and column when it refuses a
//! value, and returns `None`; the caller builds the row only when all fields
//! parsed, so one pass reports every problem of the line.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sotay_core::domain::ids::{normalize_cccd, normalize_phone};
use sotay_core::domain::money::{parse_amount, parse_typed_amount, AmountRule, MoneyErrorKind};
use sotay_core::domain::text::{clean, fold};
use sotay_core::domain::time::{format_date, parse_date};

use super::legacy::{sign_of_old_font, what_to_do, NameKind};
use super::Column;
use crate::import::rows::{Origin, RowError};

/// The longest code accepted (branch, worker, loan, ... codes).
pub const MAX_CODE_CHARS: usize = 64;

pub(super) fn error(file: &str, line: u64, column: &str, vi: String, en: String) -> RowError {
    RowError {
        file: file.to_string(),
        line,
        column: column.to_string(),
        message_vi: vi,
        message_en: en,
        refers_to: None,
        unlisted: 0,
    }
}

/// A data line being read.
pub(super) struct Line<'a> {
    pub file: &'a str,
    pub line: u64,
    pub columns: &'static [Column],
    /// Column name → position in the record, for the columns the header has.
    pub index: &'a HashMap<&'static str, usize>,
    pub fields: &'a [String],
    pub errors: &'a mut Vec<RowError>,
    /// The header as the file writes it, to name a column as its reader
    /// knows it.
    pub header: &'a [String],
}

/// A spreadsheet's letter for the column at `i` (0 → A, 26 → AA).
pub(super) fn column_letter(i: usize) -> String {
    let mut n = i + 1;
    let mut out = Vec::new();
    while n > 0 {
        n -= 1;
        out.push(b'A' + (n % 26) as u8);
        n /= 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

impl Line<'_> {
    pub fn origin(&self) -> Origin {
        Origin {
            file: self.file.to_string(),
            line: self.line,
        }
    }

    /// A row error about `column`: its message names the column as the
    /// file's header writes it and by its spreadsheet letter (`Cột "Số
    /// tiền vay (đồng)" (cột D, principal)`), not by its name here alone.
    pub fn err(&mut self, column: &str, mut vi: String, mut en: String) {
        if let Some(&i) = self.index.get(column) {
            let written = sotay_core::domain::text::clean(
                self.header
                    .get(i)
                    .map_or("", |h| h.trim_start_matches('\u{FEFF}')),
            );
            let letter = column_letter(i);
            let (as_vi, as_en) = if written.is_empty() || written.eq_ignore_ascii_case(column) {
                (
                    format!("Cột {column} (cột {letter})"),
                    format!("{column} (column {letter})"),
                )
            } else {
                (
                    format!("Cột \"{written}\" (cột {letter}, {column})"),
                    format!("\"{written}\" (column {letter}, {column})"),
                )
            };
            if let Some(rest) = vi.strip_prefix(&format!("Cột {column}")) {
                // The label in brackets after the name says it again.
                let label = format!(" ({})", self.spec(column).vi);
                let rest = if written.is_empty() || written.eq_ignore_ascii_case(column) {
                    rest
                } else {
                    rest.strip_prefix(label.as_str()).unwrap_or(rest)
                };
                vi = format!("{as_vi}{rest}");
            }
            if let Some(rest) = en.strip_prefix(column) {
                let label = format!(" ({})", self.spec(column).en);
                let rest = if written.is_empty() || written.eq_ignore_ascii_case(column) {
                    rest
                } else {
                    rest.strip_prefix(label.as_str()).unwrap_or(rest)
                };
                en = format!("{as_en}{rest}");
            }
        }
        self.errors
            .push(error(self.file, self.line, column, vi, en));
    }

    fn spec(&self, column: &str) -> &'static Column {
        self.columns
            .iter()
            .find(|c| c.name == column)
            .expect("field parsers are called with the file's own column names")
    }

    /// The raw value of a column; empty when the header does not have it.
    pub fn raw(&self, column: &str) -> &str {
        self.index
            .get(column)
            .and_then(|&i| self.fields.get(i))
            .map(String::as_str)
            .unwrap_or("")
    }

    /// Text as stored: NFC, trimmed, inner white space collapsed. May be empty.
    pub fn text(&self, column: &str) -> String {
        clean(self.raw(column))
    }

    fn empty_error(&mut self, column: &str) {
        let c = self.spec(column);
        self.err(
            column,
            format!(
                "Cột {column} ({}) đang để trống; cần nhập {}, ví dụ \"{}\"",
                c.vi, c.vi, c.example
            ),
            format!(
                "{column} ({}) is empty; a value is required, e.g. \"{}\"",
                c.en, c.example
            ),
        );
    }

    /// Non-empty text.
    pub fn required_text(&mut self, column: &str) -> Option<String> {
        let t = self.text(column);
        if t.is_empty() {
            self.empty_error(column);
            return None;
        }
        Some(t)
    }

    /// A name (`kind` says whose), as [`Self::text`], refused when it
    /// looks typed in an old Vietnamese font (TCVN3, VNI) or damaged by a
    /// save (`Nguy?n`); empty when it is empty, unless `required`.
    pub fn name(&mut self, column: &str, kind: NameKind, required: bool) -> Option<String> {
        let raw = self.raw(column).to_string();
        let t = clean(&raw);
        if t.is_empty() {
            if required {
                self.empty_error(column);
                return None;
            }
            return Some(t);
        }
        if let Some((why_vi, why_en)) = sign_of_old_font(&raw, kind) {
            let (todo_vi, todo_en) = what_to_do();
            self.err(
                column,
                format!("Cột {column}: \"{t}\" {why_vi}; {todo_vi}"),
                format!("{column}: \"{t}\": {why_en}; {todo_en}"),
            );
            return None;
        }
        Some(t)
    }

    /// A code: trimmed, non-empty, no spaces, at most [`MAX_CODE_CHARS`].
    pub fn code(&mut self, column: &str) -> Option<String> {
        let t = self.text(column);
        if t.is_empty() {
            self.empty_error(column);
            return None;
        }
        self.check_code(column, t)
    }

    /// An optional code (a reference that may be left empty).
    pub fn opt_code(&mut self, column: &str) -> Option<Option<String>> {
        let t = self.text(column);
        if t.is_empty() {
            return Some(None);
        }
        self.check_code(column, t).map(Some)
    }

    fn check_code(&mut self, column: &str, t: String) -> Option<String> {
        if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            let example = self.spec(column).example;
            self.err(
                column,
                format!(
                    "Cột {column}: mã \"{t}\" có dấu cách; mã không được chứa khoảng trắng, ví dụ \"{example}\""
                ),
                format!(
                    "{column}: code \"{t}\" contains a space; codes have no spaces, e.g. \"{example}\""
                ),
            );
            return None;
        }
        if t.chars().count() > MAX_CODE_CHARS {
            self.err(
                column,
                format!("Cột {column}: mã \"{t}\" dài quá {MAX_CODE_CHARS} ký tự"),
                format!("{column}: code \"{t}\" is longer than {MAX_CODE_CHARS} characters"),
            );
            return None;
        }
        Some(t)
    }

    /// Whole đồng through the shared money rules, which name the column:
    /// plain digits (`1500000`, `1500000.00` as a program writes it) or
    /// grouped in threes as Vietnamese write it and Excel shows it
    /// (`1.500.000`, `1 500 000`, `1.500.000 ₫`), as the console and the
    /// phone take it.
    pub fn amount(&mut self, column: &str, rule: AmountRule) -> Option<i64> {
        let raw = excel_amount(self.raw(column));
        let raw = raw.as_ref();
        let parsed = parse_amount(column, raw, rule).or_else(|e| match e.kind {
            MoneyErrorKind::Separators | MoneyErrorKind::Malformed => {
                parse_typed_amount(column, raw, rule)
            }
            _ => Err(e),
        });
        match parsed {
            Ok(d) => Some(d.get()),
            Err(e) => {
                self.err(column, format!("Cột {}", e.message_vi()), e.message_en());
                None
            }
        }
    }

    /// An amount that may be left empty, meaning `default`.
    pub fn opt_amount(&mut self, column: &str, rule: AmountRule, default: i64) -> Option<i64> {
        if self.raw(column).trim().is_empty() {
            return Some(default);
        }
        self.amount(column, rule)
    }

    pub fn date(&mut self, column: &str) -> Option<NaiveDate> {
        let raw = self.raw(column).trim().to_string();
        if raw.is_empty() {
            self.empty_error(column);
            return None;
        }
        self.parse_date(column, &raw)
    }

    pub fn opt_date(&mut self, column: &str) -> Option<Option<NaiveDate>> {
        let raw = self.raw(column).trim().to_string();
        if raw.is_empty() {
            return Some(None);
        }
        self.parse_date(column, &raw).map(Some)
    }

    fn parse_date(&mut self, column: &str, raw: &str) -> Option<NaiveDate> {
        match parse_date(without_midnight(raw)) {
            Some(d) => Some(d),
            // A day Excel wrote as its serial number (days since 1900).
            None if raw.len() == 5 && raw.chars().all(|c| c.is_ascii_digit()) => {
                let serial: u64 = raw.parse().unwrap_or(0);
                let meant = NaiveDate::from_ymd_opt(1899, 12, 30)
                    .and_then(|d| d.checked_add_days(chrono::Days::new(serial)))
                    .map(format_date)
                    .unwrap_or_default();
                self.err(
                    column,
                    format!(
                        "Cột {column}: \"{raw}\" là ngày Excel ghi thành số (có lẽ là {meant}); trong Excel hãy định dạng cột này là Văn bản hoặc ngày dd/mm/yyyy rồi lưu lại tệp CSV"
                    ),
                    format!(
                        "{column}: \"{raw}\" is a day Excel wrote as a number (maybe {meant}); in Excel format the column as Text or as a dd/mm/yyyy date, then save the CSV again"
                    ),
                );
                None
            }
            None => {
                // What is wrong with it, when it says (a day the month has
                // not, a short year), else the form to write.
                let (hint_vi, hint_en) = match sotay_core::domain::time::date_hint(raw) {
                    (_, en) if en == "write dd/mm/yyyy" => (String::new(), String::new()),
                    (vi, en) => (format!(" ({vi})"), format!(" ({en})")),
                };
                self.err(
                    column,
                    format!(
                        "Cột {column}: \"{raw}\" không phải ngày hợp lệ{hint_vi}; hãy viết dd/mm/yyyy với năm đủ 4 chữ số (ví dụ 05/01/2026) hoặc yyyy-mm-dd"
                    ),
                    format!(
                        "{column}: \"{raw}\" is not a valid date{hint_en}; write dd/mm/yyyy with the year in full (e.g. 05/01/2026) or yyyy-mm-dd"
                    ),
                );
                None
            }
        }
    }

    /// Yes/no: 1/0, true/false, yes/no, có/không, x/empty, any case, with or
    /// without accents.
    pub fn boolean(&mut self, column: &str) -> Option<bool> {
        let raw = self.raw(column).trim().to_string();
        match fold(&raw).as_str() {
            "1" | "true" | "yes" | "y" | "co" | "x" => Some(true),
            "0" | "false" | "no" | "n" | "khong" | "" => Some(false),
            _ => {
                self.err(
                    column,
                    format!(
                        "Cột {column}: \"{raw}\" không phải có/không; hãy dùng 1/0, true/false, yes/no, có/không, hoặc x/để trống"
                    ),
                    format!(
                        "{column}: \"{raw}\" is not yes/no; use 1/0, true/false, yes/no, có/không, or x/empty"
                    ),
                );
                None
            }
        }
    }

    /// A whole count (installments, target, quota) within `min..=max`.
    pub fn count(&mut self, column: &str, min: i64, max: i64) -> Option<i64> {
        let raw = self.raw(column).trim().to_string();
        if raw.is_empty() {
            self.empty_error(column);
            return None;
        }
        let value = if raw.len() <= 15 && raw.chars().all(|c| c.is_ascii_digit()) {
            raw.parse::<i64>().ok()
        } else if raw
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | ' ' | '\u{a0}' | '\u{202f}'))
        {
            // "6.000" gifts, grouped in threes as Vietnamese write it (a
            // no-break space, as Excel groups them in some locales).
            parse_typed_amount(column, &raw, AmountRule::NonNegative)
                .ok()
                .map(|d| d.get())
        } else {
            None
        };
        match value {
            Some(v) if (min..=max).contains(&v) => Some(v),
            Some(_) => {
                self.err(
                    column,
                    format!("Cột {column}: {raw} nằm ngoài khoảng cho phép {min}–{max}"),
                    format!("{column}: {raw} is outside the allowed range {min}–{max}"),
                );
                None
            }
            None if raw
                .strip_prefix('-')
                .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit())) =>
            {
                self.err(
                    column,
                    format!("Cột {column}: {raw} là số âm; phải từ {min} đến {max}"),
                    format!("{column}: {raw} is negative; it must be {min} to {max}"),
                );
                None
            }
            None => {
                self.err(
                    column,
                    format!(
                        "Cột {column}: \"{raw}\" không phải số nguyên; hãy viết chữ số liền nhau hoặc nhóm ba chữ số bằng dấu chấm, ví dụ {}",
                        self.spec(column).example
                    ),
                    format!(
                        "{column}: \"{raw}\" is not a whole number; write digits, plain or grouped in threes with dots, e.g. {}",
                        self.spec(column).example
                    ),
                );
                None
            }
        }
    }

    pub fn cccd(&mut self, column: &str) -> Option<String> {
        let raw = self.raw(column).trim().to_string();
        if raw.is_empty() {
            self.empty_error(column);
            return None;
        }
        match normalize_cccd(&raw) {
            Ok(c) => Some(c),
            Err(e) => {
                let (vi, en) = excel_number_hint(&raw, 12);
                self.err(
                    column,
                    format!("Cột {column}: {}{vi}", e.message_vi()),
                    format!("{column}: {e}{en}"),
                );
                None
            }
        }
    }

    pub fn opt_phone(&mut self, column: &str) -> Option<Option<String>> {
        let raw = self.raw(column).trim().to_string();
        if raw.is_empty() {
            return Some(None);
        }
        match normalize_phone(&raw) {
            Ok(p) => Some(Some(p)),
            Err(e) => {
                let (vi, en) = excel_number_hint(&raw, 10);
                self.err(
                    column,
                    format!("Cột {column}: {}{vi}", e.message_vi()),
                    format!("{column}: {e}{en}"),
                );
                None
            }
        }
    }

    /// One of a closed list of words.
    pub fn choice<T>(
        &mut self,
        column: &str,
        parse: impl Fn(&str) -> Option<T>,
        accepted: &[&str],
    ) -> Option<T> {
        let raw = self.raw(column).trim().to_string();
        if let Some(v) = parse(&raw.to_lowercase()) {
            return Some(v);
        }
        let list = accepted.join(", ");
        if raw.is_empty() {
            self.err(
                column,
                format!(
                    "Cột {column} ({}) đang để trống; hãy chọn một trong: {list}",
                    self.spec(column).vi
                ),
                format!(
                    "{column} ({}) is empty; use one of: {list}",
                    self.spec(column).en
                ),
            );
        } else {
            self.err(
                column,
                format!("Cột {column}: \"{raw}\" không hợp lệ; hãy chọn một trong: {list}"),
                format!("{column}: \"{raw}\" is not accepted; use one of: {list}"),
            );
        }
        None
    }

    /// A yearly percentage with at most two decimals (`12`, `7.8`, `0`),
    /// returned in basis points, between 0 and 100 %. A column whose
    /// header says the rate is monthly (`Lãi suất (%/tháng)`) is made
    /// yearly, exactly (×12); one whose header does not say it is yearly
    /// (a bare `Lãi suất`) refuses a rate above 0 and below 3, almost
    /// surely a monthly one, as funds quote them.
    pub fn rate_bp(&mut self, column: &str) -> Option<i64> {
        use super::{rate_period, RatePeriod};
        let raw = self.raw(column).trim().to_string();
        if raw.is_empty() {
            self.empty_error(column);
            return None;
        }
        // A cell may say its period itself: `6 %/năm`, `0,5 %/tháng`.
        let folded = sotay_core::domain::text::fold(&raw);
        let in_cell = if folded.ends_with("nam") {
            Some(RatePeriod::Year)
        } else if folded.ends_with("thang") {
            Some(RatePeriod::Month)
        } else {
            None
        };
        let number = match in_cell {
            Some(_) => raw
                .split(|c: char| c == '/' || c.is_alphabetic())
                .next()
                .unwrap_or_default()
                .trim()
                .to_string(),
            None => raw.clone(),
        };
        let period = in_cell.unwrap_or_else(|| {
            self.index
                .get(column)
                .and_then(|&i| self.header.get(i))
                .and_then(|h| rate_period(h.trim_start_matches('\u{FEFF}')))
                .unwrap_or(RatePeriod::Unstated)
        });
        let value = parse_percent(&decimal_point(&number));
        match (period, value) {
            (RatePeriod::Month, Some(monthly)) => {
                let yearly = (monthly * Decimal::from(12)).normalize();
                let (m_vi, y_vi) = (percent_vi(monthly), percent_vi(yearly));
                if yearly > Decimal::from(100) {
                    self.err(
                        column,
                        format!("Cột {column}: {m_vi} %/tháng là {y_vi} %/năm, vượt quá 100%/năm; kiểm tra lại lãi suất"),
                        format!("{column}: {monthly} %/month is {yearly} %/year, above 100% a year; check the rate"),
                    );
                    return None;
                }
                match bp_of(yearly) {
                    Some(bp) => Some(bp),
                    None => {
                        self.err(
                            column,
                            format!(
                                "Cột {column}: {m_vi} %/tháng là {y_vi} %/năm, hơn 2 chữ số lẻ nên không lưu đúng được (lãi suất được lưu theo năm, tối đa 2 chữ số lẻ): hãy ghi lãi suất năm đã thống nhất (tối đa 2 chữ số lẻ) vào cột \"Lãi suất (%/năm)\""
                            ),
                            format!(
                                "{column}: {monthly} %/month is {yearly} %/year, more than 2 decimals, which cannot be stored exactly (rates are stored yearly with at most 2 decimals): write the agreed yearly rate (at most 2 decimals) in a \"Lãi suất (%/năm)\" column"
                            ),
                        );
                        None
                    }
                }
            }
            (RatePeriod::Unstated, Some(v)) if v > Decimal::ZERO && v < Decimal::from(3) => {
                let yearly = (v * Decimal::from(12)).normalize();
                let (m_vi, y_vi) = (percent_vi(v), percent_vi(yearly));
                self.err(
                    column,
                    format!(
                        "Cột {column}: {m_vi} %/tháng là {y_vi} %/năm: cột này là lãi suất năm; hãy ghi {y_vi} (lãi suất {m_vi} %/năm thấp khác thường, có lẽ là lãi suất tháng; nếu tệp ghi lãi suất tháng, có thể đặt tên cột là \"Lãi suất (%/tháng)\"; nếu đúng là {m_vi} %/năm, hãy đặt tên cột là \"Lãi suất (%/năm)\")"
                    ),
                    format!(
                        "{column}: {v} %/month is {yearly} %/year: this column is the yearly rate; write {yearly} (a rate of {v} % a year is unusually low, most likely a monthly rate; if the file gives monthly rates, head the column \"Lãi suất (%/tháng)\"; if it really is {v} % a year, head the column \"Lãi suất (%/năm)\")"
                    ),
                );
                None
            }
            (_, Some(v)) => match bp_of(v) {
                Some(bp) if bp <= 10_000 => Some(bp),
                Some(_) => {
                    self.err(
                        column,
                        format!("Cột {column}: lãi suất {raw}%/năm vượt quá 100%"),
                        format!("{column}: a rate of {raw}% a year is above 100%"),
                    );
                    None
                }
                None => {
                    self.err(
                        column,
                        format!(
                            "Cột {column}: \"{raw}\" có hơn 2 chữ số lẻ; lãi suất %/năm ghi tối đa 2 chữ số lẻ, ví dụ 12 hoặc 7.8 (0 = không lãi)"
                        ),
                        format!(
                            "{column}: \"{raw}\" has more than 2 decimals; a yearly percentage has at most 2 decimals, e.g. 12 or 7.8 (0 = interest-free)"
                        ),
                    );
                    None
                }
            },
            (period, None) => {
                let (per_vi, per_en) = match period {
                    RatePeriod::Month => ("%/tháng", "a monthly percentage"),
                    _ => ("%/năm", "a yearly percentage"),
                };
                self.err(
                    column,
                    format!(
                        "Cột {column}: \"{raw}\" không phải lãi suất {per_vi}; hãy viết số thập phân (dấu chấm hoặc phẩy), ví dụ 12 hoặc 7.8 (0 = không lãi)"
                    ),
                    format!(
                        "{column}: \"{raw}\" is not {per_en}; write a decimal number (point or comma), e.g. 12 or 7.8 (0 = interest-free)"
                    ),
                );
                None
            }
        }
    }

    /// A GPS coordinate in degrees within `-limit..=limit`, or empty.
    pub fn opt_degrees(&mut self, column: &str, limit: f64) -> Option<Option<f64>> {
        let raw = self.raw(column).trim().to_string();
        if raw.is_empty() {
            return Some(None);
        }
        let point = decimal_point(&raw);
        let plain = point
            .strip_prefix('-')
            .unwrap_or(&point)
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.');
        let value = if plain {
            point.parse::<f64>().ok().filter(|v| v.is_finite())
        } else {
            None
        };
        match value {
            Some(v) if v.abs() <= limit => Some(Some(v)),
            Some(_) => {
                self.err(
                    column,
                    format!(
                        "Cột {column}: {raw} nằm ngoài khoảng -{limit}..{limit} độ; kiểm tra xem vĩ độ và kinh độ có bị đổi chỗ không (TP.HCM: vĩ độ ~10.8, kinh độ ~106.7)"
                    ),
                    format!(
                        "{column}: {raw} is outside -{limit}..{limit} degrees; check whether latitude and longitude are swapped (Ho Chi Minh City: latitude ~10.8, longitude ~106.7)"
                    ),
                );
                None
            }
            None => {
                self.err(
                    column,
                    format!(
                        "Cột {column}: \"{raw}\" không phải toạ độ; hãy viết số độ thập phân với dấu chấm, ví dụ {}",
                        self.spec(column).example
                    ),
                    format!(
                        "{column}: \"{raw}\" is not a coordinate; write decimal degrees with a point, e.g. {}",
                        self.spec(column).example
                    ),
                );
                None
            }
        }
    }
}

/// A day as Excel writes a date cell with its time (`05/03/1995 00:00`,
/// `1995-03-05T00:00:00`): the day. Another hour is no day's date and is
/// left for the caller to refuse.
pub(super) fn without_midnight(raw: &str) -> &str {
    for midnight in [
        " 00:00:00",
        " 0:00:00",
        " 00:00",
        " 0:00",
        "T00:00:00",
        "T00:00",
        // Twelve in the morning, as Excel writes it in a Vietnamese (SA,
        // sáng) or English (AM) locale.
        " 12:00:00 SA",
        " 12:00 SA",
        " 12:00:00 AM",
        " 12:00 AM",
    ] {
        if let Some(day) = raw.strip_suffix(midnight) {
            return day.trim_end();
        }
    }
    raw
}

/// A decimal comma, as Excel writes numbers in a Vietnamese locale (`9,5`,
/// `10,8123`), made a point: where no thousands are grouped (a rate, a
/// coordinate), one comma and no point can only be that.
fn decimal_point(raw: &str) -> std::borrow::Cow<'_, str> {
    if raw.matches(',').count() == 1 && !raw.contains('.') {
        raw.replace(',', ".").into()
    } else {
        raw.into()
    }
}

/// A percentage as written (`7.8`, `0.75`, `12%`, after [`decimal_point`]),
/// exactly, with any number of decimals; `None` for anything else (signs,
/// exponents, grouping).
fn parse_percent(raw: &str) -> Option<Decimal> {
    let t = raw.trim();
    let t = t.strip_suffix('%').unwrap_or(t).trim_end();
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || whole.len() > 6 || !digits(whole) || frac.len() > 12 || !digits(frac) {
        return None;
    }
    if t.contains('.') && frac.is_empty() {
        return None;
    }
    Decimal::from_str_exact(t).ok()
}

/// A percentage in basis points, when it has at most two decimals.
fn bp_of(percent: Decimal) -> Option<i64> {
    use rust_decimal::prelude::ToPrimitive;
    let bp = percent * Decimal::from(100);
    (bp.fract().is_zero()).then(|| bp.to_i64()).flatten()
}

/// A percentage as Vietnamese write it: `0,75`, `9`, `7,2`.
fn percent_vi(percent: Decimal) -> String {
    percent.normalize().to_string().replace('.', ",")
}

/// `"12"` → 1200, `"7.8"` → 780, `"0.25"` → 25, `"12%"` → 1200. `None` for
/// anything else (comma, more than two decimals, signs, exponents).
#[cfg(test)]
pub(super) fn parse_percent_bp(raw: &str) -> Option<i64> {
    parse_percent(raw).and_then(bp_of)
}

/// Basis points → the percent text the CSV uses: 1200 → `12`, 780 → `7.8`.
pub(super) fn format_percent(bp: i64) -> String {
    let (whole, frac) = (bp / 100, bp % 100);
    match frac {
        0 => whole.to_string(),
        f if f % 10 == 0 => format!("{whole}.{}", f / 10),
        f => format!("{whole}.{f:02}"),
    }
}

/// Remembers the line each key was first seen on, to report duplicates
/// naming both lines.
#[derive(Default)]
pub(super) struct Seen(HashMap<String, u64>);

impl Seen {
    /// Records `key` for this line; on a repeat, reports it against `column`.
    pub fn check(
        &mut self,
        l: &mut Line<'_>,
        column: &str,
        key: &str,
        what_vi: &str,
        what_en: &str,
    ) {
        match self.0.get(key) {
            Some(&first) => l.err(
                column,
                format!(
                    "{what_vi} \"{key}\" trùng với dòng {first}; mỗi {what_vi_lower} chỉ được xuất hiện một lần trong tệp",
                    what_vi_lower = lower_first(what_vi)
                ),
                format!(
                    "{what_en} \"{key}\" is also on line {first}; each {what_en_lower} may appear only once in the file",
                    what_en_lower = what_en.to_lowercase()
                ),
            ),
            None => {
                self.0.insert(key.to_string(), l.line);
            }
        }
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// What to add when a number written with a leading zero (a CCCD, a phone
/// number, `digits` long) reads as Excel leaves it after taking it for a
/// number: the zero dropped (`79190012345`), or written as a power of ten
/// (`7.91901E+10`).
fn excel_number_hint(raw: &str, digits: usize) -> (&'static str, &'static str) {
    let lost_zero = raw.len() + 1 == digits && raw.bytes().all(|b| b.is_ascii_digit());
    let exponent = raw.to_ascii_uppercase().contains("E+");
    if lost_zero || exponent {
        (
            " — có vẻ Excel đã coi cột này là số (bỏ số 0 đầu, hoặc viết dạng 7,9E+10): trong Excel, định dạng cột là Text (Văn bản), gõ lại số rồi lưu lại CSV",
            " — Excel seems to have taken this column for a number (dropping the leading 0, or writing 7.9E+10): in Excel, format the column as Text, type the numbers again and save the CSV again",
        )
    } else {
        ("", "")
    }
}

/// What Excel's Vietnamese number formats add to whole đồng, taken off: a
/// zero decimal part after a comma (`10.000.000,00`, `500.000,00 ₫`), and
/// the accounting format's dash for nothing (`-`, `- ₫`), which is 0. A
/// part after the comma that is not zero (`1,5`) is left for the parser to
/// refuse.
pub fn excel_amount(raw: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    let t = raw.trim();
    let core = t.trim_end_matches(|c: char| c.is_alphabetic() || c == '₫' || c.is_whitespace());
    let unit = &t[core.len()..];
    if core == "-" {
        return Cow::Borrowed("0");
    }
    match core.rsplit_once(',') {
        Some((whole, zeros))
            if (1..=2).contains(&zeros.len())
                && zeros.chars().all(|c| c == '0')
                && !whole.contains(',')
                && whole.ends_with(|c: char| c.is_ascii_digit()) =>
        {
            Cow::Owned(format!("{whole}{unit}"))
        }
        _ => Cow::Borrowed(raw),
    }
}
