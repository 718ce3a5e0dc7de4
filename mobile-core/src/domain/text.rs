//! Vietnamese text: NFC storage and accent-insensitive search keys.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// The stored form of any person-facing text: Unicode NFC, trimmed, inner
/// runs of white space collapsed to one space, without the characters no
/// one sees (zero-width spaces and joiners, a byte-order mark, a soft
/// hyphen: text copied from a chat or a web page brings them, and a code
/// holding one could never be typed again). Input may arrive in NFC or NFD.
pub fn clean(input: &str) -> String {
    let nfc: String = input.nfc().filter(|c| !is_invisible(*c)).collect();
    nfc.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
    )
}

/// The search key of a text: lower case, without diacritics, `đ`/`Đ` → `d`
/// (Unicode decomposition does not do that by itself), words separated by
/// one space. `Nguyễn Thị Lan` → `nguyen thi lan`; `ĐẶNG` → `dang`.
pub fn fold(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut pending_space = false;
    for c in input.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        let c = match c {
            'đ' | 'Đ' | 'ð' | 'Ð' => 'd',
            other => other,
        };
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(c.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

/// The words of a search query, folded.
pub fn query_terms(query: &str) -> Vec<String> {
    fold(query)
        .split(' ')
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// True when every query term starts a word of `folded_name` (a [`fold`]ed
/// name), in any order: `lan`, `thi lan`, `NGUYEN`, `ng lan` all match
/// `nguyen thi lan`. An empty query matches nothing.
pub fn name_matches(folded_name: &str, terms: &[String]) -> bool {
    !terms.is_empty()
        && terms
            .iter()
            .all(|t| folded_name.split(' ').any(|w| w.starts_with(t.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_stores_nfc() {
        let nfd = "Nguye\u{302}\u{303}n  Thi\u{323} Lan ";
        assert_eq!(clean(nfd), "Nguyễn Thị Lan");
        assert_eq!(clean("Nguyễn Thị Lan"), "Nguyễn Thị Lan");
    }

    #[test]
    fn clean_drops_what_no_one_sees() {
        assert_eq!(clean("NLD-90061\u{200B}"), "NLD-90061");
        assert_eq!(clean("\u{FEFF}KV-\u{2060}000103\u{00AD}"), "KV-000103");
        assert_eq!(clean("Lan \u{200B} Anh"), "Lan Anh");
    }

    #[test]
    fn fold_removes_accents_and_d_stroke() {
        assert_eq!(fold("Nguyễn Thị Lan"), "nguyen thi lan");
        assert_eq!(fold("ĐẶNG VĂN ĐỨC"), "dang van duc");
        assert_eq!(fold("Trương Thị Ngọc Ánh"), "truong thi ngoc anh");
        assert_eq!(
            fold("Nguye\u{302}\u{303}n Thi\u{323} Lan"),
            "nguyen thi lan"
        );
        assert_eq!(fold("  Lê—Hữu   Phước "), "le huu phuoc");
        assert_eq!(fold("Phòng 12A"), "phong 12a");
    }

    #[test]
    fn names_match_fragments_in_any_order() {
        let name = fold("Nguyễn Thị Lan");
        for q in [
            "nguyen thi lan",
            "NGUYỄN",
            "lan thi",
            "Lan",
            "NGUYEN",
            "ng lan",
            "nguyễn thị lan",
        ] {
            assert!(name_matches(&name, &query_terms(q)), "{q}");
        }
        for q in ["", "hoa", "lan hoa", "thi lan x"] {
            assert!(!name_matches(&name, &query_terms(q)), "{q}");
        }
        assert!(name_matches(&fold("Đặng Văn Hùng"), &query_terms("Dang")));
        assert!(name_matches(
            &fold("Đặng Văn Hùng"),
            &query_terms("đặng hùng")
        ));
    }
}
