//! Text typed in the old Vietnamese fonts (TCVN3 `.VnTime`, VNI-Times)
//! and text a lossy save damaged (`Nguy?n Th? Lan`): read as Unicode, it
//! is other letters and signs, and would be stored and shown so. What
//! gives it away in a name, and what to say.

use unicode_normalization::char::decompose_canonical;
use unicode_normalization::UnicodeNormalization;

/// How strictly a column is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// A Vietnamese person's name (a worker, a user, a landlord): every
    /// letter is one of the Vietnamese alphabet or plain Latin.
    Person,
    /// A name that may be a foreign one (an employer, a boarding house):
    /// any Latin letter (`Bühler`, `Nestlé`), but none of the signs the
    /// old fonts put in place of Vietnamese letters.
    Other,
}

/// Why `raw` looks like text in an old font or damaged by a save
/// (Vietnamese, English), or `None` when it reads as Unicode text.
pub fn sign_of_old_font(raw: &str, kind: NameKind) -> Option<(String, String)> {
    // NFC, soft hyphens and all (the stored form drops them).
    let text: String = raw.nfc().collect();
    let chars: Vec<char> = text.chars().collect();
    if let Some(c) = chars.iter().find(|c| matches!(c, '?' | '\u{FFFD}')) {
        return Some((
            format!("có dấu \"{c}\" ở chỗ chữ có dấu (tệp đã được lưu bằng bảng mã không giữ được tiếng Việt)"),
            format!("it has \"{c}\" where letters with diacritics were (the file was saved in an encoding without Vietnamese)"),
        ));
    }
    // A letter only Unicode writes (`ệ`, `ư`, `đ`: none of them is in the
    // 8-bit code pages the old fonts were read as) shows the text is
    // Unicode: its signs (`®`, `«`, `º`) are what they are.
    let unicode = chars
        .iter()
        .any(|&c| c as u32 > 0xFF && c.is_alphabetic() && vietnamese_letter(c));
    for (i, &c) in chars.iter().enumerate().filter(|_| !unicode) {
        // TCVN3 writes `ư` as a soft hyphen: `H­ng` for `Hưng`.
        if c == '\u{AD}' {
            let letter = |j: Option<usize>| {
                j.and_then(|j| chars.get(j))
                    .is_some_and(|c| c.is_alphabetic())
            };
            if letter(i.checked_sub(1)) && letter(Some(i + 1)) {
                return Some((
                    "có dấu gạch mềm (U+00AD) giữa hai chữ, là chữ \"ư\" của phông TCVN3".into(),
                    "it has a soft hyphen (U+00AD) between two letters, which is TCVN3's \"ư\""
                        .into(),
                ));
            }
            continue;
        }
        // The signs TCVN3 puts for Vietnamese letters (`«` ô, `¸` á, `¬`
        // ơ, `®` đ, `§` Đ, `Þ` ị, `×` ì, `÷` ữ, `þ` ỵ): no name has them.
        if ('\u{A1}'..='\u{BF}').contains(&c) || matches!(c, 'Þ' | 'þ' | '×' | '÷') {
            return Some((
                format!("có ký tự \"{c}\", không dùng trong chữ Việt"),
                format!("it has \"{c}\", which Vietnamese writing does not use"),
            ));
        }
    }
    // `NguyÔn`: TCVN3's letters with diacritics are capitals of Latin-1 in
    // the middle of a word.
    for word in text
        .split(|c: char| !c.is_alphabetic())
        .filter(|_| !unicode)
    {
        let mut lower_before = false;
        for c in word.chars() {
            if c.is_lowercase() {
                lower_before = true;
            } else if lower_before && c.is_uppercase() && !c.is_ascii() {
                return Some((
                    format!("có chữ hoa \"{c}\" giữa các chữ thường trong \"{word}\""),
                    format!("it has a capital \"{c}\" among small letters in \"{word}\""),
                ));
            }
        }
    }
    // VNI writes a diacritic as a second letter after the vowel:
    // `Nguyeãn` for `Nguyễn`, `Coâng` for `Công`, `Vaên` for `Văn`; no
    // Vietnamese word has those pairs (a foreign name may have `ée`,
    // `Renée`: only a person's name is looked at for all of them).
    for pair in chars.windows(2).filter(|_| !unicode) {
        let (a, b) = (pair[0].to_lowercase().next(), pair[1].to_lowercase().next());
        let vni = match (a, b) {
            (Some('a' | 'e'), Some('â' | 'ã' | 'ê')) => true,
            (Some('a' | 'e'), Some('á' | 'à' | 'é' | 'è')) => kind == NameKind::Person,
            (Some('o'), Some('â')) => true,
            _ => false,
        };
        if vni {
            let pair: String = pair.iter().collect();
            return Some((
                format!("có \"{pair}\", cách phông VNI ghi một chữ có dấu"),
                format!(
                    "it has \"{pair}\", the way the VNI fonts write one letter with diacritics"
                ),
            ));
        }
    }
    if kind == NameKind::Person {
        if let Some(c) = chars
            .iter()
            .find(|c| c.is_alphabetic() && !c.is_ascii() && !vietnamese_letter(**c))
        {
            return Some((
                format!("có chữ \"{c}\", không có trong chữ Việt"),
                format!("it has \"{c}\", which is not a Vietnamese letter"),
            ));
        }
    }
    None
}

/// A letter of the Vietnamese alphabet: a Latin letter with at most the
/// diacritics Vietnamese puts on it (`ắ`, `ữ`, `đ`); `ð`/`Ð` too, which
/// some type for `đ`; and those the scripts of the Central Highlands'
/// peoples add (Ê Đê, Bahnar: a breve on any vowel, `ŭ`, `ĭ`, `ĕ`; `ƀ`, `č`),
/// and the modifier apostrophe of `Kʼ Ră`.
fn vietnamese_letter(c: char) -> bool {
    if matches!(c, 'đ' | 'Đ' | 'ð' | 'Ð' | 'ƀ' | 'Ƀ' | 'č' | 'Č' | '\u{2BC}') {
        return true;
    }
    let mut base = None;
    let mut marks = Vec::new();
    decompose_canonical(c, |d| {
        if base.is_none() {
            base = Some(d);
        } else {
            marks.push(d);
        }
    });
    let Some(base) = base.filter(char::is_ascii_alphabetic) else {
        return false;
    };
    let b = base.to_ascii_lowercase();
    let vowel = matches!(b, 'a' | 'e' | 'i' | 'o' | 'u' | 'y');
    marks.iter().all(|m| match m {
        // The five tones.
        '\u{300}' | '\u{301}' | '\u{303}' | '\u{309}' | '\u{323}' => vowel,
        // â ê ô, ă, ơ ư.
        '\u{302}' => matches!(b, 'a' | 'e' | 'o'),
        '\u{306}' => vowel,
        '\u{31B}' => matches!(b, 'o' | 'u'),
        _ => false,
    })
}

/// What to do about it, after the reason (Vietnamese, English).
pub fn what_to_do() -> (&'static str, &'static str) {
    (
        "tệp có vẻ được gõ bằng phông chữ cũ (TCVN3/.VnTime hoặc VNI) hoặc đã hỏng khi lưu: hãy chuyển tệp sang Unicode (ví dụ bằng công cụ chuyển mã của Unikey: bảng mã nguồn TCVN3 hoặc VNI, bảng mã đích Unicode; chữ đã thành \"?\" thì phải lấy lại từ tệp gốc), lưu dạng \"CSV UTF-8\" rồi nhập lại",
        "the file seems typed in an old font encoding (TCVN3/.VnTime or VNI) or damaged when saved: convert it to Unicode (e.g. with Unikey's converter: source TCVN3 or VNI, target Unicode; letters already turned into \"?\" must be taken again from the original file), save it as \"CSV UTF-8\" and import again",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real names, in every form a file brings them, are names.
    #[test]
    fn vietnamese_names_in_any_form_are_not_taken_for_old_fonts() {
        let people = [
            "Nguyễn Thị Lan",
            "Trần Văn Hùng",
            "Đỗ Văn Thưởng",
            "Lương Văn Đức",
            "Phạm Thị Hoa",
            "Huỳnh Ngọc Ánh",
            "Võ Thị Tuyết Nhung",
            "Ngô Quốc Khánh",
            "Bùi Thị Ngọc Hân",
            "Dương Thị Mỹ Duyên",
            "Hoàng Thị Hoà",
            "Lê Hoàng Oanh",
            "Phan Thị Khoẻ",
            "Trương Thị Xoè",
            "Nguyễn Thị Hoãn",
            "Kiều Thị Thuý",
            "Quách Thị Huyền Trang",
            "Tô Thị Ngoãn",
            "Đặng Thị Thu",
            "Vũ Đức Anh-Tuấn",
            "K'Ră",
            "H'Hen Niê",
            "Y Bih Niê Kdăm",
            "Thạch Thị Sa Rươne",
            "Lý A Páo",
            "Ðỗ Văn An",
            "Ông Văn Út",
            "Ưng Hoàng Phúc",
            "Ứng Thị Ẩn",
            "Nguyễn Thị Ngọc Ý",
            "Y Blŭ Niê",
            "H'Nhĭ Niê",
            "Y Tlŭp Êban",
            "Ƀlơng H'Ni",
            "Kʼ Ră",
            "Y Čang Niê",
        ];
        for name in people {
            for form in [
                name.to_string(),
                name.nfd().collect::<String>(),
                name.to_uppercase(),
                name.to_uppercase().nfd().collect::<String>(),
                name.to_lowercase(),
            ] {
                assert_eq!(sign_of_old_font(&form, NameKind::Person), None, "{form}");
                assert_eq!(sign_of_old_font(&form, NameKind::Other), None, "{form}");
            }
        }
        let others = [
            "Samsung Electronics Việt Nam",
            "Công ty TNHH Pouyuen Việt Nam",
            "Công ty TNHH Bühler Việt Nam",
            "Nestlé Việt Nam",
            "L'Oréal Việt Nam",
            "LG Display Việt Nam Hải Phòng",
            "McDonald's",
            "Công ty CP Dệt may - Đầu tư - Thương mại Thành Công",
            "Nhà trọ Cô Ba (hẻm 45)",
            "Nhà trọ số 5/3, KP. Tân Lập",
            "Công ty TNHH Nidec Việt Nam & Cộng sự",
            "Maison Renée",
            "Société Générale",
            "Citroën",
            "Công ty TNHH Lock&Lock® Việt Nam",
            "Nhà máy Nº1 Đồng Nai",
            "Công ty «Việt Tiến»",
        ];
        for name in others {
            assert_eq!(sign_of_old_font(name, NameKind::Other), None, "{name}");
        }
    }

    #[test]
    fn old_fonts_and_lossy_saves_are_told() {
        for (raw, kind) in [
            ("Nguy?n Th? Lan", NameKind::Person),
            ("L??ng V?n ??c", NameKind::Person),
            ("Cong ty TNHH Gi?y H?ng Phat", NameKind::Other),
            ("Nguy\u{FFFD}n Lan", NameKind::Person),
            // TCVN3.
            ("NguyÔn ThÞ Lan", NameKind::Person),
            ("TrÇn V¨n Hïng", NameKind::Person),
            ("§ç V¨n Th\u{AD}ëng", NameKind::Person),
            ("C«ng ty TNHH GiÇy H\u{AD}ng Ph¸t", NameKind::Other),
            ("Coâng ty TNHH Giaày", NameKind::Other),
            ("H\u{AD}ng", NameKind::Person),
            ("Hoa ®µo", NameKind::Other),
            ("Lª V¨n T¬", NameKind::Person),
            // VNI.
            ("Nguyeãn Thò Lan", NameKind::Person),
            ("Coâng Vaên", NameKind::Person),
            ("Phaïm Vaên Ñöùc", NameKind::Person),
            ("Huøng", NameKind::Person),
        ] {
            assert!(sign_of_old_font(raw, kind).is_some(), "{raw}");
        }
        // A soft hyphen a chat left at a word's edge is no letter.
        assert_eq!(
            sign_of_old_font("Nguyễn Thị Lan\u{AD}", NameKind::Person),
            None
        );
    }
}
