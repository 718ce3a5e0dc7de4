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

/// A code as the fund writes it (`NLD-00519`, `KV-000103`,
/// `GN-CN-TD-000001`, `GN-CN-Q1-000001`) read from how a person typed it:
/// its groups in upper case, whatever stands between them, and its number
/// without leading zeros (`nld00519`, `nld 519`, `NLD‑00519` with a
/// non-breaking hyphen, `gn cn td 1`). The key joins the groups, so that
/// `gncntd1` is the same code on the phone, which compares keys; the
/// server looks codes up as written (see [`code_forms`]), with their
/// groups apart. `None` for a query not shaped so (groups each beginning
/// with a letter, then the number, nothing after it).
pub fn code_key(query: &str) -> Option<(String, String)> {
    code_parts(query).map(|(groups, number)| (groups.concat(), number))
}

/// A code's groups, in upper case, and its number without leading zeros
/// (see [`code_key`]).
fn code_parts(query: &str) -> Option<(Vec<String>, String)> {
    let mut tokens: Vec<&str> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .collect();
    let last = tokens.pop()?;
    // The number: the last group's digits, after its letters when they
    // stand together (`kv8`, `nld00519`).
    let digits_at = last
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_digit())
        .last()
        .map(|(i, _)| i)?;
    let (head, digits) = last.split_at(digits_at);
    if !head.is_empty() {
        if !head.chars().all(char::is_alphabetic) {
            return None;
        }
        tokens.push(head);
    }
    let begins_with_letter = |t: &&str| t.chars().next().is_some_and(char::is_alphabetic);
    if tokens.is_empty() || !tokens.iter().all(begins_with_letter) {
        return None;
    }
    let number = digits.trim_start_matches('0');
    let number = if number.is_empty() { "0" } else { number };
    Some((
        tokens.iter().map(|t| t.to_uppercase()).collect(),
        number.to_string(),
    ))
}

/// The ways of writing a code that `query` stands for (see [`code_key`]),
/// for looking it up as written: its groups of letters with hyphens
/// between them or not, a hyphen before the number or not, the number with
/// up to 12 digits of leading zeros. Empty when the query is not a code.
pub fn code_forms(query: &str) -> Vec<String> {
    let Some((groups, number)) = code_parts(query) else {
        return Vec::new();
    };
    let (hyphened, joined) = (groups.join("-"), groups.concat());
    let mut forms: Vec<String> = (number.len()..=12.max(number.len()))
        .flat_map(|width| {
            let padded = format!("{number:0>width$}");
            [format!("{hyphened}-{padded}"), format!("{joined}{padded}")]
        })
        .collect();
    forms.dedup();
    forms
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
        // A code of several groups of letters (a loan paid out at a branch).
        let gn = Some(("GNCNTD".to_string(), "1".to_string()));
        for typed in [
            "GN-CN-TD-000001",
            "gn cn td 1",
            "gncntd1",
            "GN-CN-TD-1",
            "gn.cn.td.000001",
        ] {
            assert_eq!(key(typed), gn, "{typed}");
        }
        let q1 = Some(("GNCNQ1".to_string(), "7".to_string()));
        assert_eq!(key("gn-cn-q1-000007"), q1);
        assert!(code_forms("gn cn q1 7").contains(&"GN-CN-Q1-000007".to_string()));
        for typed in ["gn cn td 1", "GN-CN-TD-1", "gn.cn.td/1"] {
            let forms = code_forms(typed);
            assert!(
                forms.contains(&"GN-CN-TD-000001".to_string()),
                "{typed}: {forms:?}"
            );
        }
        let forms = code_forms("kv 103");
        assert!(forms.contains(&"KV-000103".to_string()), "{forms:?}");
        assert!(forms.contains(&"KV103".to_string()), "{forms:?}");
        assert!(code_forms("lan").is_empty());
    }
}
