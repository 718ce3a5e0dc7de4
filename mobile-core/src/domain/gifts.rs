//! Who may receive a campaign's gift.

use serde::{Deserialize, Serialize};

/// A campaign's eligibility rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Eligibility {
    /// Every worker in the fund's portfolio.
    All,
    /// Union members (đoàn viên).
    UnionMembers,
    /// Workers flagged in hardship (hoàn cảnh khó khăn).
    Hardship,
    /// Union members in hardship.
    UnionMembersInHardship,
    /// Workers living in a boarding house (nhà trọ).
    BoardingHouseResidents,
}

impl Eligibility {
    pub const ALL: [Eligibility; 5] = [
        Eligibility::All,
        Eligibility::UnionMembers,
        Eligibility::Hardship,
        Eligibility::UnionMembersInHardship,
        Eligibility::BoardingHouseResidents,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Eligibility::All => "all",
            Eligibility::UnionMembers => "union_members",
            Eligibility::Hardship => "hardship",
            Eligibility::UnionMembersInHardship => "union_members_in_hardship",
            Eligibility::BoardingHouseResidents => "boarding_house_residents",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s.trim())
    }

    pub fn describe_en(self) -> &'static str {
        match self {
            Eligibility::All => "every worker",
            Eligibility::UnionMembers => "union members",
            Eligibility::Hardship => "workers in hardship",
            Eligibility::UnionMembersInHardship => "union members in hardship",
            Eligibility::BoardingHouseResidents => "workers living in boarding houses",
        }
    }

    pub fn describe_vi(self) -> &'static str {
        match self {
            Eligibility::All => "Mọi người lao động",
            Eligibility::UnionMembers => "Đoàn viên công đoàn",
            Eligibility::Hardship => "Người lao động có hoàn cảnh khó khăn",
            Eligibility::UnionMembersInHardship => "Đoàn viên có hoàn cảnh khó khăn",
            Eligibility::BoardingHouseResidents => "Người lao động ở nhà trọ",
        }
    }

    /// Whether a worker with these facts may receive the gift.
    pub fn admits(self, worker: &WorkerFacts) -> bool {
        match self {
            Eligibility::All => true,
            Eligibility::UnionMembers => worker.union_member,
            Eligibility::Hardship => worker.hardship,
            Eligibility::UnionMembersInHardship => worker.union_member && worker.hardship,
            Eligibility::BoardingHouseResidents => worker.lives_in_boarding_house,
        }
    }
}

/// What an eligibility rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WorkerFacts {
    pub union_member: bool,
    pub hardship: bool,
    pub lives_in_boarding_house: bool,
}

/// A campaign is either gifts (suất quà) or a welfare programme (e.g. Mái ấm
/// Công đoàn housing grants), which follows the same rules with its own approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignKind {
    Gift,
    Welfare,
}

impl CampaignKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignKind::Gift => "gift",
            CampaignKind::Welfare => "welfare",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "gift" => Some(CampaignKind::Gift),
            "welfare" => Some(CampaignKind::Welfare),
            _ => None,
        }
    }
    /// As the officer reads it.
    pub fn label_vi(self) -> &'static str {
        match self {
            CampaignKind::Gift => "tặng quà",
            CampaignKind::Welfare => "hỗ trợ",
        }
    }
}

/// A signature image larger than this is refused, on the phone and by the
/// server.
pub const MAX_SIGNATURE_BYTES: usize = 2 * 1024 * 1024;

/// A signature's SHA-256 as a gift record names it: 64 lowercase hex digits.
pub fn is_sha256_hex(h: &str) -> bool {
    h.len() == 64
        && h.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The media type of a signature image, read from its first bytes: PNG,
/// JPEG or WebP. Anything else is not taken as a signature (the server
/// shows the image to supervisors in a browser).
pub fn signature_media_type(image: &[u8]) -> Option<&'static str> {
    if image.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if image.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if image.len() >= 12 && image.starts_with(b"RIFF") && &image[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_images_are_png_jpeg_or_webp() {
        assert_eq!(
            signature_media_type(b"\x89PNG\r\n\x1a\n\0\0"),
            Some("image/png")
        );
        assert_eq!(
            signature_media_type(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some("image/jpeg")
        );
        assert_eq!(
            signature_media_type(b"RIFF\x10\0\0\0WEBPVP8 "),
            Some("image/webp")
        );
        assert_eq!(signature_media_type(b"RIFF\x10\0\0\0WAVE"), None);
        assert_eq!(signature_media_type(b"\x89PNG"), None);
        assert_eq!(signature_media_type(b"<svg onload=alert(1)>"), None);
        assert_eq!(signature_media_type(b""), None);
        assert!(is_sha256_hex(&"ab".repeat(32)));
        assert!(!is_sha256_hex(&"AB".repeat(32)));
        assert!(!is_sha256_hex("abc"));
    }

    #[test]
    fn rules_admit_the_right_workers() {
        let member_in_hardship = WorkerFacts {
            union_member: true,
            hardship: true,
            lives_in_boarding_house: false,
        };
        let member = WorkerFacts {
            union_member: true,
            ..Default::default()
        };
        assert!(Eligibility::UnionMembersInHardship.admits(&member_in_hardship));
        assert!(!Eligibility::UnionMembersInHardship.admits(&member));
        assert!(!Eligibility::BoardingHouseResidents.admits(&member));
        assert!(Eligibility::All.admits(&WorkerFacts::default()));
        for e in Eligibility::ALL {
            assert_eq!(Eligibility::parse(e.as_str()), Some(e));
        }
    }
}
