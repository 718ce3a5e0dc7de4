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
}

#[cfg(test)]
mod tests {
    use super::*;

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
