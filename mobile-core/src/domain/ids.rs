//! Identity numbers people carry: the CCCD and Vietnamese phone numbers.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdError {
    #[error("CCCD \"{0}\" must be exactly 12 digits")]
    Cccd(String),
    #[error(
        "phone number \"{0}\" is not a Vietnamese number (e.g. 0912 345 678 or +84 912 345 678)"
    )]
    Phone(String),
}

impl IdError {
    pub fn message_vi(&self) -> String {
        match self {
            IdError::Cccd(v) => format!("Số CCCD \"{v}\" phải gồm đúng 12 chữ số"),
            IdError::Phone(v) => {
                format!(
                    "Số điện thoại \"{v}\" không hợp lệ (ví dụ 0912 345 678 hoặc +84 912 345 678)"
                )
            }
        }
    }
}

/// A citizen identity card number (căn cước công dân): exactly 12 digits.
/// Spaces and dots people type between groups are removed.
pub fn normalize_cccd(input: &str) -> Result<String, IdError> {
    let digits: String = input
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-'))
        .collect();
    if digits.len() == 12 && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(digits)
    } else {
        Err(IdError::Cccd(input.trim().to_string()))
    }
}

/// A Vietnamese phone number in its canonical national form, `0912345678`.
/// `0912 345 678`, `0912.345.678`, `+84 912 345 678`, `84912345678` and
/// `(+84) 912-345-678` are the same number.
pub fn normalize_phone(input: &str) -> Result<String, IdError> {
    let bad = || IdError::Phone(input.trim().to_string());
    let mut body: String = input
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
        .collect();
    if let Some(rest) = body.strip_prefix("+84") {
        body = format!("0{rest}");
    } else if body.starts_with("84") && body.len() == 11 {
        body = format!("0{}", &body[2..]);
    } else if body.starts_with("0084") {
        body = format!("0{}", &body[4..]);
    }
    let ok = body.starts_with('0')
        && !body.starts_with("00")
        && (10..=11).contains(&body.len())
        && body.chars().all(|c| c.is_ascii_digit());
    if ok {
        Ok(body)
    } else {
        Err(bad())
    }
}

/// `0912345678` → `0912 345 678`
pub fn format_phone(canonical: &str) -> String {
    if canonical.len() == 10 {
        format!(
            "{} {} {}",
            &canonical[..4],
            &canonical[4..7],
            &canonical[7..]
        )
    } else {
        canonical.to_string()
    }
}

/// The digits of any phone-like search query in canonical form, when the
/// query looks like a phone number or a fragment of one.
pub fn phone_query(query: &str) -> Option<String> {
    let digits: String = query.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() < 3 || query.chars().any(|c| c.is_alphabetic()) {
        return None;
    }
    Some(normalize_phone(query).unwrap_or_else(|_| {
        digits
            .strip_prefix("84")
            .filter(|_| query.trim_start().starts_with('+'))
            .map(|r| format!("0{r}"))
            .unwrap_or(digits)
    }))
}

/// A code as the fund writes it (`NLD-00519`, `KV-000103`) read from how a
/// person typed it: its letters in upper case and its number without
/// leading zeros, whatever stands between them (`nld00519`, `nld 519`,
/// `NLD‑00519` with a non-breaking hyphen). `None` for a query not shaped
/// so (letters, then digits, nothing after them).
pub fn code_key(query: &str) -> Option<(String, String)> {
    let q = query.trim();
    let letters: String = q.chars().take_while(|c| c.is_alphabetic()).collect();
    let rest = &q[letters.len()..];
    let rest = rest.trim_start_matches(|c: char| !c.is_alphanumeric());
    if letters.is_empty() || rest.is_empty() || !rest.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let number = rest.trim_start_matches('0');
    let number = if number.is_empty() { "0" } else { number };
    Some((letters.to_uppercase(), number.to_string()))
}

/// The ways of writing a code that `query` stands for (see [`code_key`]),
/// for looking it up as written: letters, a hyphen or not, the number with
/// up to 12 digits of leading zeros. Empty when the query is not a code.
pub fn code_forms(query: &str) -> Vec<String> {
    let Some((letters, number)) = code_key(query) else {
        return Vec::new();
    };
    (number.len()..=12.max(number.len()))
        .flat_map(|width| {
            let padded = format!("{number:0>width$}");
            [format!("{letters}-{padded}"), format!("{letters}{padded}")]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_in_every_common_format_are_one_number() {
        for p in [
            "0912 345 678",
            "0912345678",
            "+84 912 345 678",
            "+84912345678",
            "84912345678",
            "0912.345.678",
            "(+84) 912-345-678",
            "0084912345678",
        ] {
            assert_eq!(normalize_phone(p).unwrap(), "0912345678", "{p}");
        }
        assert_eq!(normalize_phone("028 3823 4567").unwrap(), "02838234567");
        for p in [
            "",
            "12345",
            "0912 345 67a",
            "+1 555 123 4567",
            "09123456789012",
        ] {
            assert!(normalize_phone(p).is_err(), "{p}");
        }
        assert_eq!(format_phone("0912345678"), "0912 345 678");
    }

    #[test]
    fn phone_queries() {
        assert_eq!(
            phone_query("+84 912 345 678").as_deref(),
            Some("0912345678")
        );
        assert_eq!(phone_query("345 678").as_deref(), Some("345678"));
        assert_eq!(phone_query("lan"), None);
    }

    #[test]
    fn cccd_is_twelve_digits() {
        assert_eq!(normalize_cccd("079 190 012 345").unwrap(), "079190012345");
        for c in ["", "07919001234", "0791900123456", "07919001234a"] {
            assert!(normalize_cccd(c).is_err(), "{c}");
        }
    }

    #[test]
    fn a_code_typed_any_way_reads_as_the_funds() {
        let key = |q: &str| code_key(q);
        let nld = Some(("NLD".to_string(), "519".to_string()));
        for typed in [
            "NLD-00519",
            "nld00519",
            "nld 00519",
            "nld-519",
            "NLD\u{2011}00519",
            " Nld.00519 ",
        ] {
            assert_eq!(key(typed), nld, "{typed}");
        }
        for not_code in ["00519", "nguyen thi", "nld-519a", "519-nld", ""] {
            assert_eq!(key(not_code), None, "{not_code}");
        }
        let forms = code_forms("kv 103");
        assert!(forms.contains(&"KV-000103".to_string()), "{forms:?}");
        assert!(forms.contains(&"KV103".to_string()), "{forms:?}");
        assert!(code_forms("lan").is_empty());
    }
}
