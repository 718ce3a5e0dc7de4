//! Money is whole Vietnamese đồng. VND has no minor unit.
//!
//! At the edges (JSON, CSV, FFI) an amount is a decimal string parsed through
//! [`rust_decimal::Decimal`]; everywhere inside it is an `i64` count of đồng.

use std::fmt;
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The largest amount accepted at an edge: one million billion đồng.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000_000;

/// A whole number of đồng. Serialized in JSON as a string (`"1500000"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Dong(pub i64);

impl Dong {
    pub const ZERO: Dong = Dong(0);

    pub fn get(self) -> i64 {
        self.0
    }

    pub fn to_decimal(self) -> Decimal {
        Decimal::from(self.0)
    }

    /// `1.500.000 ₫`
    pub fn display_vi(self) -> String {
        format_vnd(self.0)
    }
}

impl fmt::Display for Dong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for Dong {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Dong {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_amount("amount", &text, AmountRule::Any)
            .map_err(|e| serde::de::Error::custom(e.message_en()))
    }
}

/// Which amounts a field accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountRule {
    /// Strictly greater than zero (a repayment, a loan principal).
    Positive,
    /// Zero or more (a gift value, cash counted).
    NonNegative,
    /// Any whole amount, negative included (a ledger figure).
    Any,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoneyErrorKind {
    Empty,
    /// Looks like a number written with thousands separators or a decimal comma.
    Separators,
    Malformed,
    Fractional,
    Negative,
    Zero,
    TooLarge,
    /// Typed by a person: a comma, which reads as a decimal comma (`1,5`).
    Comma,
    /// Typed by a person: commas grouping thousands the English way
    /// (`1,500,000`).
    CommaGrouping,
    /// Typed by a person: digits grouped other than in threes (`15.00.000`).
    Grouping,
    /// Typed by a person: a fraction after a dot (`650000.5`, `1.5`).
    Fraction,
    /// Typed by a person: a word for thousands or millions (`1,5 triệu`,
    /// `150k`, `200 nghìn`).
    WordUnit,
}

/// A refused amount, naming the field it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message_en())]
pub struct MoneyError {
    pub field: String,
    pub input: String,
    pub kind: MoneyErrorKind,
}

impl MoneyError {
    pub fn message_en(&self) -> String {
        let f = &self.field;
        let i = &self.input;
        match self.kind {
            MoneyErrorKind::Empty => format!("{f}: an amount in whole đồng is required"),
            MoneyErrorKind::Separators => format!(
                "{f}: \"{i}\" has separators; write whole đồng as plain digits, e.g. 1500000"
            ),
            MoneyErrorKind::Malformed => {
                format!(
                    "{f}: \"{i}\" is not an amount; write whole đồng as plain digits, e.g. 1500000"
                )
            }
            MoneyErrorKind::Fractional => {
                format!("{f}: \"{i}\" has a fraction; đồng has no minor unit, use a whole number")
            }
            MoneyErrorKind::Negative => {
                format!("{f}: \"{i}\" is negative; enter the amount without a minus sign")
            }
            MoneyErrorKind::Zero => format!("{f}: the amount must be greater than 0"),
            MoneyErrorKind::TooLarge => format!("{f}: \"{i}\" is too large"),
            MoneyErrorKind::Comma => format!(
                "{f}: \"{i}\" has a comma; đồng has no fraction, write whole đồng such as 1.500.000 or 1500000"
            ),
            MoneyErrorKind::CommaGrouping => {
                let (dots, plain) = comma_grouped_as_ours(i);
                format!("{f}: \"{i}\" groups thousands with commas, the English way; write {dots} or {plain}")
            }
            MoneyErrorKind::WordUnit => format!(
                "{f}: \"{i}\" says thousands or millions in words; write the whole amount in digits, e.g. 1.500.000 for 1,5 triệu"
            ),
            MoneyErrorKind::Grouping => format!(
                "{f}: \"{i}\" is not grouped in threes; write 1.500.000, 1 500 000 or 1500000"
            ),
            MoneyErrorKind::Fraction => format!(
                "{f}: \"{i}\" has a fraction after the dot; đồng has no fraction (the dot groups thousands), write whole đồng such as 1.500.000 or 1500000"
            ),
        }
    }

    pub fn message_vi(&self) -> String {
        let f = &self.field;
        let i = &self.input;
        match self.kind {
            MoneyErrorKind::Empty => format!("{f}: cần nhập số tiền (đồng, số nguyên)"),
            MoneyErrorKind::Separators => {
                format!("{f}: \"{i}\" có dấu phân cách; hãy viết số đồng liền nhau, ví dụ 1500000")
            }
            MoneyErrorKind::Malformed => {
                format!(
                    "{f}: \"{i}\" không phải số tiền; hãy viết số đồng liền nhau, ví dụ 1500000"
                )
            }
            MoneyErrorKind::Fractional => {
                format!("{f}: \"{i}\" có phần lẻ; tiền đồng không có đơn vị nhỏ hơn, hãy nhập số nguyên")
            }
            MoneyErrorKind::Negative => {
                format!("{f}: \"{i}\" là số âm; hãy nhập số tiền không có dấu trừ")
            }
            MoneyErrorKind::Zero => format!("{f}: số tiền phải lớn hơn 0"),
            MoneyErrorKind::TooLarge => format!("{f}: \"{i}\" quá lớn"),
            MoneyErrorKind::Comma => format!(
                "{f}: \"{i}\" có dấu phẩy; tiền đồng không có phần lẻ, hãy viết số đồng nguyên như 1.500.000 hoặc 1500000"
            ),
            MoneyErrorKind::CommaGrouping => {
                let (dots, plain) = comma_grouped_as_ours(i);
                format!("{f}: \"{i}\" dùng dấu phẩy ngăn hàng nghìn kiểu tiếng Anh; hãy viết {dots} hoặc {plain}")
            }
            MoneyErrorKind::WordUnit => format!(
                "{f}: \"{i}\" viết nghìn, triệu bằng chữ; hãy viết đủ số tiền bằng chữ số, ví dụ 1.500.000 cho 1,5 triệu"
            ),
            MoneyErrorKind::Grouping => format!(
                "{f}: \"{i}\" không nhóm đúng ba chữ số; hãy viết 1.500.000, 1 500 000 hoặc 1500000"
            ),
            MoneyErrorKind::Fraction => format!(
                "{f}: \"{i}\" có phần lẻ sau dấu chấm; tiền đồng không có phần lẻ (dấu chấm để nhóm hàng nghìn), hãy viết số đồng nguyên như 1.500.000 hoặc 1500000"
            ),
        }
    }
}

/// Parses an amount of whole đồng from its edge representation.
///
/// Accepts plain digits (`"1500000"`) and a decimal with a zero fraction
/// (`"1500000.00"`). Refuses, naming `field`: empty input, thousands
/// separators or a decimal comma (`"1.500.000"`, `"1,5"`), anything that is
/// not a number, fractions, and amounts outside `rule`.
pub fn parse_amount(field: &str, input: &str, rule: AmountRule) -> Result<Dong, MoneyError> {
    let err = |kind| MoneyError {
        field: field.to_string(),
        input: input.to_string(),
        kind,
    };
    let text = input.trim();
    if text.is_empty() {
        return Err(err(MoneyErrorKind::Empty));
    }
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let digits_and_seps = body
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == ',' || c == ' ');
    let dots = body.matches('.').count();
    if body.contains(',') || body.contains(' ') || (digits_and_seps && dots > 1) {
        return Err(err(
            if digits_and_seps && body.chars().any(|c| c.is_ascii_digit()) {
                MoneyErrorKind::Separators
            } else {
                MoneyErrorKind::Malformed
            },
        ));
    }
    if !body.chars().all(|c| c.is_ascii_digit() || c == '.')
        || !body.chars().any(|c| c.is_ascii_digit())
    {
        return Err(err(MoneyErrorKind::Malformed));
    }
    // "1.500" is ambiguous: a Vietnamese reader sees one thousand five
    // hundred. A fraction of more digits ("50.0000", a mistyped "500.000")
    // is no edge's way of writing whole đồng either, nor a bare dot.
    if let Some((_, frac)) = body.split_once('.') {
        if frac.len() >= 3 {
            return Err(err(MoneyErrorKind::Separators));
        }
        if frac.is_empty() {
            return Err(err(MoneyErrorKind::Malformed));
        }
    }
    let value = Decimal::from_str_exact(text).map_err(|_| err(MoneyErrorKind::TooLarge))?;
    if !value.fract().is_zero() {
        return Err(err(MoneyErrorKind::Fractional));
    }
    let whole = value
        .trunc()
        .to_i64()
        .filter(|v| v.abs() <= MAX_AMOUNT)
        .ok_or_else(|| err(MoneyErrorKind::TooLarge))?;
    match rule {
        AmountRule::Positive if whole == 0 => Err(err(MoneyErrorKind::Zero)),
        AmountRule::Positive | AmountRule::NonNegative if whole < 0 => {
            Err(err(MoneyErrorKind::Negative))
        }
        _ => Ok(Dong(whole)),
    }
}

/// An amount grouped with commas (`15,000,000`) as it is written here:
/// with dots, and in plain digits (`15.000.000`, `15000000`).
fn comma_grouped_as_ours(input: &str) -> (String, String) {
    let kept: String = input
        .trim()
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == ',')
        .collect();
    (kept.replace(',', "."), kept.replace(',', ""))
}

/// Parses an amount a person typed into a form, as Vietnamese write it:
/// plain digits (`1500000`) or digits grouped in threes with dots or spaces
/// (`1.500.000`, `1 500 000`), optionally followed by `₫`, `đ` or `VND`.
///
/// Refuses, naming `field`: a comma (`1,5` reads as a decimal), groups not
/// of three (`1.5`, `15.00.000`), letters, and amounts outside `rule`. The
/// digits then go through [`parse_amount`], so both edges agree on range.
pub fn parse_typed_amount(field: &str, input: &str, rule: AmountRule) -> Result<Dong, MoneyError> {
    let err = |kind| MoneyError {
        field: field.to_string(),
        input: input.to_string(),
        kind,
    };
    // Composed, as a keyboard typing base letters and marks apart may not.
    let composed: String = unicode_normalization::UnicodeNormalization::nfc(input).collect();
    let mut text = composed.trim();
    // The unit after the digits, in any case, with or without diacritics
    // (a phone without a Vietnamese keyboard types `1000000d`); the longer
    // ones first: "VNĐ" is not "Đ" after "VN".
    let lower = text.to_lowercase();
    for unit in ["vnđ", "vnd", "đồng", "dong", "₫", "đ", "d"] {
        if lower.ends_with(unit) && lower.chars().count() == text.chars().count() {
            let keep = text.chars().count() - unit.chars().count();
            let cut = text.char_indices().nth(keep).map_or(text.len(), |(i, _)| i);
            text = text[..cut].trim_end();
            break;
        }
    }
    if text.is_empty() {
        return Err(err(MoneyErrorKind::Empty));
    }
    let (sign, body) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest.trim_start()),
        None => ("", text.strip_prefix('+').unwrap_or(text).trim_start()),
    };
    // "1,5 triệu", "150k", "200 nghìn": a number, then a word for its size.
    let word = crate::domain::text::fold(
        body.trim_start_matches(|c: char| c.is_ascii_digit() || matches!(c, '.' | ',' | ' ')),
    );
    if body.starts_with(|c: char| c.is_ascii_digit())
        && matches!(
            word.as_str(),
            "k" | "nghin" | "ngan" | "ng" | "tr" | "trieu" | "cu" | "m" | "ty" | "ti"
        )
    {
        return Err(err(MoneyErrorKind::WordUnit));
    }
    if body.contains(',') {
        // "1,500,000": groups of three after a head of one to three digits.
        let groups: Vec<&str> = body.split(',').collect();
        let english = groups.len() > 1
            && (1..=3).contains(&groups[0].len())
            && groups.iter().all(|g| g.chars().all(|c| c.is_ascii_digit()))
            && groups[1..].iter().all(|g| g.len() == 3);
        return Err(err(if english {
            MoneyErrorKind::CommaGrouping
        } else {
            MoneyErrorKind::Comma
        }));
    }
    let is_space = |c: char| c == ' ' || c == '\u{a0}' || c == '\u{202f}';
    if !body
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.' || is_space(c))
        || !body.chars().any(|c| c.is_ascii_digit())
    {
        return Err(err(MoneyErrorKind::Malformed));
    }
    let groups: Vec<&str> = body.split(|c: char| c == '.' || is_space(c)).collect();
    if groups.len() > 1 {
        let one_kind = !(body.contains('.') && body.chars().any(is_space));
        let threes = groups[1..].iter().all(|g| g.len() == 3);
        let head = groups[0].len();
        // "0.500" or "000.500" is no way of writing five hundred.
        let zeros_first = groups[0].chars().all(|c| c == '0');
        // One dot and one or two digits after it: a fraction, not a group.
        let fraction = groups.len() == 2
            && !body.chars().any(is_space)
            && (1..=2).contains(&groups[1].len())
            && !groups[0].is_empty();
        if fraction {
            return Err(err(MoneyErrorKind::Fraction));
        }
        if !one_kind || !threes || head == 0 || head > 3 || zeros_first {
            return Err(err(MoneyErrorKind::Grouping));
        }
    }
    let digits: String = groups.concat();
    parse_amount(field, &format!("{sign}{digits}"), rule).map_err(|e| MoneyError {
        input: input.to_string(),
        ..e
    })
}

/// Converts a `Decimal` that crossed an edge (FFI, JSON) into whole đồng.
pub fn decimal_to_dong(field: &str, value: Decimal, rule: AmountRule) -> Result<Dong, MoneyError> {
    parse_amount(field, &value.normalize().to_string(), rule)
}

/// Formats whole đồng the way Vietnamese readers expect: `1.500.000 ₫`.
pub fn format_vnd(amount: i64) -> String {
    format!("{} ₫", group_thousands(amount))
}

/// `1500000` → `1.500.000`
pub fn group_thousands(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if amount < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// An amount in words, as a Vietnamese receipt writes it under the figures
/// ("Số tiền bằng chữ"): `1500000` → `Một triệu năm trăm nghìn đồng`.
///
/// Groups of three digits read with `trăm`, `mươi` (`mười` for ten to
/// nineteen), `linh` for a zero tens digit, `mốt` and `lăm` for a units
/// digit of one and five after a tens digit; a group after the first reads
/// its zero hundreds (`không trăm`); groups of zeros are left out; scales
/// `nghìn`, `triệu`, `tỷ`, and what is above a `tỷ` is read as a number of
/// `tỷ` (`1.500.000.000.000` → `Một nghìn năm trăm tỷ đồng`).
pub fn vnd_in_words(amount: i64) -> String {
    const DIGITS: [&str; 10] = [
        "không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín",
    ];
    const TY: u64 = 1_000_000_000;
    fn group(n: u64, first: bool, out: &mut Vec<&'static str>) {
        let (h, t, u) = (
            (n / 100) as usize,
            (n / 10 % 10) as usize,
            (n % 10) as usize,
        );
        if h > 0 || !first {
            out.extend([DIGITS[h], "trăm"]);
        }
        match t {
            0 if u > 0 && (h > 0 || !first) => out.push("linh"),
            0 => {}
            1 => out.push("mười"),
            _ => out.extend([DIGITS[t], "mươi"]),
        }
        match u {
            0 => {}
            1 if t >= 2 => out.push("mốt"),
            5 if t >= 1 => out.push("lăm"),
            _ => out.push(DIGITS[u]),
        }
    }
    /// `n` (> 0), whose first group is read without its zero hundreds
    /// when `lead`.
    fn read(n: u64, lead: bool, out: &mut Vec<&'static str>) {
        let (high, low) = (n / TY, n % TY);
        if high > 0 {
            read(high, lead, out);
            out.push("tỷ");
        }
        let mut lead = lead && high == 0;
        for (g, scale) in [
            (low / 1_000_000, "triệu"),
            (low / 1_000 % 1_000, "nghìn"),
            (low % 1_000, ""),
        ] {
            if g == 0 {
                continue;
            }
            group(g, lead, out);
            lead = false;
            if !scale.is_empty() {
                out.push(scale);
            }
        }
    }
    let mut words: Vec<&'static str> = Vec::new();
    if amount < 0 {
        words.push("âm");
    }
    match amount.unsigned_abs() {
        0 => words.push("không"),
        n => read(n, true, &mut words),
    }
    words.push("đồng");
    let text = words.join(" ");
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

impl FromStr for Dong {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_amount("amount", s, AmountRule::Any)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(input: &str, rule: AmountRule) -> MoneyErrorKind {
        parse_amount("amount", input, rule).unwrap_err().kind
    }

    #[test]
    fn accepts_plain_whole_dong() {
        assert_eq!(
            parse_amount("a", "1500000", AmountRule::Positive).unwrap(),
            Dong(1_500_000)
        );
        assert_eq!(
            parse_amount("a", " 500000 ", AmountRule::Positive).unwrap(),
            Dong(500_000)
        );
        assert_eq!(
            parse_amount("a", "1500000.00", AmountRule::Positive).unwrap(),
            Dong(1_500_000)
        );
        assert_eq!(
            parse_amount("a", "0", AmountRule::NonNegative).unwrap(),
            Dong(0)
        );
        assert_eq!(
            parse_amount("a", "-10000", AmountRule::Any).unwrap(),
            Dong(-10_000)
        );
    }

    #[test]
    fn refuses_what_a_person_might_mistype() {
        use MoneyErrorKind::*;
        assert_eq!(kind("", AmountRule::Positive), Empty);
        assert_eq!(kind("   ", AmountRule::Positive), Empty);
        assert_eq!(kind("1,5", AmountRule::Positive), Separators);
        assert_eq!(kind("1.500.000", AmountRule::Positive), Separators);
        assert_eq!(kind("1.500", AmountRule::Positive), Separators);
        assert_eq!(kind("1.000", AmountRule::Positive), Separators);
        assert_eq!(kind("1 500 000", AmountRule::Positive), Separators);
        assert_eq!(kind("abc", AmountRule::Positive), Malformed);
        assert_eq!(kind("12a", AmountRule::Positive), Malformed);
        assert_eq!(kind("1e6", AmountRule::Positive), Malformed);
        assert_eq!(kind(".", AmountRule::Positive), Malformed);
        assert_eq!(kind("1.5", AmountRule::Positive), Fractional);
        assert_eq!(kind("50.0000", AmountRule::Positive), Separators);
        assert_eq!(kind("1.0000", AmountRule::Positive), Separators);
        assert_eq!(kind("1500000.", AmountRule::Positive), Malformed);
        assert_eq!(kind("-5", AmountRule::Positive), Negative);
        assert_eq!(kind("-5", AmountRule::NonNegative), Negative);
        assert_eq!(kind("0", AmountRule::Positive), Zero);
        assert_eq!(
            kind("99999999999999999999999", AmountRule::Positive),
            TooLarge
        );
    }

    #[test]
    fn accepts_what_people_type() {
        let typed = |s: &str| parse_typed_amount("cash", s, AmountRule::NonNegative);
        for s in [
            "1500000",
            "1.500.000",
            "1 500 000",
            " 1.500.000 ₫",
            "1.500.000đ",
            "1500000 VND",
            "1.500.000 VNĐ",
            "1.500.000 vnđ",
            "1\u{a0}500\u{a0}000",
            "1500000d",
            "1.500.000 đồng",
            "1.500.000 ĐỒNG",
            "1.500.000 dong",
            "1.500.000 đo\u{302}\u{300}ng",
            "1.500.000\u{a0}₫",
        ] {
            assert_eq!(typed(s).unwrap(), Dong(1_500_000), "{s}");
        }
        assert_eq!(typed("0").unwrap(), Dong(0));
        assert_eq!(typed("500").unwrap(), Dong(500));
        assert_eq!(typed("12.000").unwrap(), Dong(12_000));
    }

    #[test]
    fn refuses_what_people_should_not_type() {
        use MoneyErrorKind::*;
        let kind = |s: &str| {
            parse_typed_amount("cash", s, AmountRule::NonNegative)
                .unwrap_err()
                .kind
        };
        assert_eq!(kind("1,5"), Comma);
        assert_eq!(kind("1.500,00"), Comma);
        assert_eq!(kind("1,500,000"), CommaGrouping);
        // Told as it is written here, the same amount: not an example
        // that reads as a correction.
        let e = parse_typed_amount("Số tiền vay", "15,000,000", AmountRule::Positive).unwrap_err();
        assert!(
            e.message_vi()
                .ends_with("hãy viết 15.000.000 hoặc 15000000"),
            "{}",
            e.message_vi()
        );
        assert_eq!(kind("1,50,000"), Comma);
        assert_eq!(kind("1.5"), Fraction);
        assert_eq!(kind("650000.5"), Fraction);
        assert_eq!(kind("650.000,5"), Comma);
        assert_eq!(kind("15.00.000"), Grouping);
        assert_eq!(kind("1.500 000"), Grouping);
        assert_eq!(kind("1500.000.0"), Grouping);
        assert_eq!(kind(".500"), Grouping);
        assert_eq!(kind("0.500"), Grouping);
        assert_eq!(kind("000.500"), Grouping);
        assert_eq!(kind("abc"), Malformed);
        assert_eq!(kind("1tr5"), Malformed);
        for words in [
            "1,5 triệu",
            "150k",
            "200 nghìn",
            "2 TR",
            "1.5tr",
            "1,5 triệu đồng",
            "200 nghìn đồng",
        ] {
            assert_eq!(kind(words), WordUnit, "{words}");
        }
        let e = parse_typed_amount("Số tiền", "1,5 triệu", AmountRule::Positive).unwrap_err();
        assert!(
            e.message_vi().contains("1.500.000 cho 1,5 triệu"),
            "{}",
            e.message_vi()
        );
        assert_eq!(kind(""), Empty);
        assert_eq!(kind("₫"), Empty);
        assert_eq!(kind("-5.000"), Negative);
        let e = parse_typed_amount("Tiền mặt", "1,5", AmountRule::NonNegative).unwrap_err();
        assert!(
            e.message_vi().starts_with("Tiền mặt: \"1,5\""),
            "{}",
            e.message_vi()
        );
        assert!(e.message_en().contains("1.500.000"), "{}", e.message_en());
    }

    #[test]
    fn messages_name_the_field() {
        let e = parse_amount("principal", "1,5", AmountRule::Positive).unwrap_err();
        assert!(
            e.message_en().starts_with("principal:"),
            "{}",
            e.message_en()
        );
        assert!(e.message_vi().contains("1,5"));
    }

    #[test]
    fn formats_vietnamese_style() {
        assert_eq!(format_vnd(1_500_000), "1.500.000 ₫");
        assert_eq!(format_vnd(500), "500 ₫");
        assert_eq!(format_vnd(0), "0 ₫");
        assert_eq!(format_vnd(-10_000), "-10.000 ₫");
        assert_eq!(format_vnd(100_000), "100.000 ₫");
    }

    #[test]
    fn amounts_in_words() {
        for (amount, words) in [
            (0, "Không đồng"),
            (5, "Năm đồng"),
            (10, "Mười đồng"),
            (11, "Mười một đồng"),
            (15, "Mười lăm đồng"),
            (20, "Hai mươi đồng"),
            (21, "Hai mươi mốt đồng"),
            (25, "Hai mươi lăm đồng"),
            (105, "Một trăm linh năm đồng"),
            (110, "Một trăm mười đồng"),
            (1_005, "Một nghìn không trăm linh năm đồng"),
            (1_050, "Một nghìn không trăm năm mươi đồng"),
            (150_000, "Một trăm năm mươi nghìn đồng"),
            (1_000_000, "Một triệu đồng"),
            (1_500_000, "Một triệu năm trăm nghìn đồng"),
            (1_000_500, "Một triệu năm trăm đồng"),
            (1_000_050, "Một triệu không trăm năm mươi đồng"),
            (1_000_000_000, "Một tỷ đồng"),
            (25_000_000_000, "Hai mươi lăm tỷ đồng"),
            (1_500_000_000_000, "Một nghìn năm trăm tỷ đồng"),
            (1_000_000_000_005, "Một nghìn tỷ không trăm linh năm đồng"),
            (2_000_000_000_000_000, "Hai triệu tỷ đồng"),
        ] {
            assert_eq!(vnd_in_words(amount), words, "{amount}");
        }
        assert_eq!(
            vnd_in_words(2_270_492),
            "Hai triệu hai trăm bảy mươi nghìn bốn trăm chín mươi hai đồng"
        );
        assert_eq!(
            vnd_in_words(12_500_000_000),
            "Mười hai tỷ năm trăm triệu đồng"
        );
        assert_eq!(vnd_in_words(-300_000), "Âm ba trăm nghìn đồng");
        assert!(vnd_in_words(i64::MIN).starts_with(
            "Âm chín tỷ hai trăm hai mươi ba triệu ba trăm bảy mươi hai nghìn không trăm ba mươi sáu tỷ tám trăm"
        ));
    }

    #[test]
    fn json_is_a_string() {
        assert_eq!(
            serde_json::to_string(&Dong(1_500_000)).unwrap(),
            "\"1500000\""
        );
        assert_eq!(
            serde_json::from_str::<Dong>("\"1500000\"").unwrap(),
            Dong(1_500_000)
        );
        assert!(serde_json::from_str::<Dong>("1.5").is_err());
        assert!(serde_json::from_str::<Dong>("\"1.5\"").is_err());
    }

    proptest::proptest! {
        #[test]
        fn round_trips(v in -MAX_AMOUNT..=MAX_AMOUNT) {
            let text = Dong(v).to_string();
            proptest::prop_assert_eq!(parse_amount("a", &text, AmountRule::Any).unwrap(), Dong(v));
        }

        #[test]
        fn what_is_shown_can_be_typed_back(v in -MAX_AMOUNT..=MAX_AMOUNT) {
            let shown = format_vnd(v);
            proptest::prop_assert_eq!(parse_typed_amount("a", &shown, AmountRule::Any).unwrap(), Dong(v));
            let spaced = group_thousands(v).replace('.', " ");
            proptest::prop_assert_eq!(parse_typed_amount("a", &spaced, AmountRule::Any).unwrap(), Dong(v));
        }
    }
}
