//! The demo fund: a small, realistic Ho Chi Minh City fund generated from a
//! fixed seed, so every run (and every machine) gets the same fund for the
//! same `today`. It is an [`ImportSet`] like an admin's files, and goes
//! through the same import path; `write_dir` exports it as sample files.

mod names;

use std::collections::HashSet;

use chrono::{Datelike, Days, Months, NaiveDate};
use sotay_core::domain::gifts::{CampaignKind, Eligibility};
use sotay_core::domain::schedule::{build_schedule, Frequency, InterestMethod, LoanTerms};

use crate::import::csv::ImportKind;
use crate::import::rows::{
    AllocationRow, BoardingHouseRow, BranchRow, CampaignRow, ImportSet, LoanProductRow, LoanRow,
    Origin, Role, UserRow, WorkerRow,
};
use names::*;

/// The initial password of every demo user.
pub const DEMO_PASSWORD: &str = "sotay-demo-2026";

const SEED: u64 = 0x5074_a7d0_2026;
const WORKERS: usize = 600;
const LOANS: usize = 500;
const HOUSES_PER_ZONE: usize = 30;

/// SplitMix64: tiny, fast and stable forever (unlike a library generator
/// whose stream may change between versions), which is all a demo needs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn weighted<'a>(&mut self, items: &'a [(&'a str, u32)]) -> &'a str {
        let total: u64 = items.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut r = self.below(total);
        for (item, w) in items {
            if r < u64::from(*w) {
                return item;
            }
            r -= u64::from(*w);
        }
        items[items.len() - 1].0
    }
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// A zone the fund works in, with its branch.
struct Zone {
    branch_code: &'static str,
    branch_name: &'static str,
    slug: &'static str,
    district: &'static str,
    zone: &'static str,
    address: &'static str,
    /// Centre of the zone in microdegrees.
    lat_micro: i64,
    lon_micro: i64,
    wards: &'static [&'static str],
    streets: &'static [&'static str],
    employers: &'static [&'static str],
    /// (code, username, full name, phone) of the officers.
    officers: [(&'static str, &'static str, &'static str, &'static str); 3],
    supervisor: (&'static str, &'static str, &'static str, &'static str),
    /// (code, username, full name, phone) of the cashier.
    cashier: (&'static str, &'static str, &'static str, &'static str),
}

const ZONES: [Zone; 2] = [
    Zone {
        branch_code: "CN-TD",
        branch_name: "Chi nhánh Thủ Đức",
        slug: "TD",
        district: "TP. Thủ Đức",
        zone: "KCX Linh Trung",
        address: "Số 10 Đường số 8, P. Linh Trung, TP. Thủ Đức, TP. Hồ Chí Minh",
        lat_micro: 10_869_700,
        lon_micro: 106_771_300,
        wards: &[
            "P. Linh Trung",
            "P. Linh Xuân",
            "P. Linh Chiểu",
            "P. Linh Tây",
            "P. Bình Chiểu",
        ],
        streets: &[
            "Đường số 8",
            "Đường số 11",
            "Đường số 17",
            "Hoàng Diệu 2",
            "Lê Văn Chí",
            "Kha Vạn Cân",
            "Đường Linh Trung",
            "Tô Vĩnh Diện",
        ],
        employers: &[
            "Công ty TNHH May mặc Linh Trung",
            "Công ty TNHH Điện tử Sao Việt",
            "Công ty TNHH Giày Hưng Phát",
            "Công ty CP Dệt may Thủ Đức",
            "Công ty TNHH Linh kiện Á Châu",
        ],
        officers: [
            ("CB-TD-01", "canbo.lan", "Võ Thị Lan", "0912345678"),
            ("CB-TD-02", "canbo.hung", "Đặng Văn Hùng", "0903456789"),
            ("CB-TD-03", "canbo.thao", "Huỳnh Thị Thảo", "0976543210"),
        ],
        supervisor: ("GS-TD", "giamsat.thuduc", "Lê Thị Hồng Nhung", "0918222333"),
        cashier: ("TQ-TD", "thuquy.thuduc", "Ngô Thị Thu Hà", "0917333444"),
    },
    Zone {
        branch_code: "CN-BT",
        branch_name: "Chi nhánh Bình Tân",
        slug: "BT",
        district: "Q. Bình Tân",
        zone: "KCN Tân Tạo",
        address: "Số 16 Đường số 2, P. Tân Tạo A, Q. Bình Tân, TP. Hồ Chí Minh",
        lat_micro: 10_751_300,
        lon_micro: 106_593_000,
        wards: &[
            "P. Tân Tạo",
            "P. Tân Tạo A",
            "P. Bình Hưng Hòa B",
            "P. An Lạc",
            "P. Bình Trị Đông B",
        ],
        streets: &[
            "Đường số 7",
            "Tỉnh lộ 10",
            "Hồ Văn Long",
            "Kinh Dương Vương",
            "Đường số 1A",
            "Bia Truyền Thống",
            "Lê Đình Cẩn",
            "Đường số 16",
        ],
        employers: &[
            "Công ty TNHH Pouyuen Việt Nam",
            "Công ty TNHH Bao bì Tân Tạo",
            "Công ty CP Thực phẩm Bình Tân",
            "Công ty TNHH May Tân Tạo",
            "Công ty TNHH Nhựa Phú Lâm",
        ],
        officers: [
            ("CB-BT-01", "canbo.minh", "Trần Quốc Minh", "0987654321"),
            ("CB-BT-02", "canbo.hoa", "Lê Thị Hoa", "0934567890"),
            ("CB-BT-03", "canbo.tuan", "Bùi Anh Tuấn", "0367123456"),
        ],
        supervisor: ("GS-BT", "giamsat.binhtan", "Phạm Văn Tài", "0908777666"),
        cashier: ("TQ-BT", "thuquy.binhtan", "Vũ Minh Châu", "0907555444"),
    },
];

/// The origin a generated row would have in its exported file, so that
/// exporting and re-importing the demo gives back exactly the same set.
fn origin(kind: ImportKind, index: usize) -> Origin {
    Origin {
        file: kind.file_name().to_string(),
        line: index as u64 + 2,
    }
}

/// Generates the demo fund as of `today`: 2 branches, 11 users, 60 boarding
/// houses, 600 workers, 4 loan products, 500 active loans (about one in
/// eight overdue on `today`) and 2 running campaigns.
pub fn demo_fund(today: NaiveDate) -> ImportSet {
    let mut rng = Rng(SEED);
    let mut set = ImportSet::default();
    branches_and_users(&mut set);
    boarding_houses(&mut set, &mut rng);
    workers(&mut set, &mut rng);
    loan_products(&mut set);
    loans(&mut set, &mut rng, today);
    campaigns(&mut set, today);
    set
}

fn branches_and_users(set: &mut ImportSet) {
    for z in &ZONES {
        set.branches.push(BranchRow {
            origin: origin(ImportKind::Branches, set.branches.len()),
            code: z.branch_code.into(),
            name: z.branch_name.into(),
            district: z.district.into(),
            industrial_zone: z.zone.into(),
            address: z.address.into(),
        });
    }
    let mut user =
        |code: &str, username: &str, name: &str, role, branch: Option<&str>, phone: &str| {
            set.users.push(UserRow {
                origin: origin(ImportKind::Users, set.users.len()),
                code: code.into(),
                username: username.into(),
                full_name: name.into(),
                role,
                branch_code: branch.map(str::to_string),
                phone: Some(phone.into()),
                initial_password: Some(DEMO_PASSWORD.into()),
            });
        };
    user(
        "AD-01",
        "admin",
        "Trương Minh Quân",
        Role::Admin,
        None,
        "0909111222",
    );
    for z in &ZONES {
        let (code, username, name, phone) = z.supervisor;
        user(
            code,
            username,
            name,
            Role::Supervisor,
            Some(z.branch_code),
            phone,
        );
        let (code, username, name, phone) = z.cashier;
        user(
            code,
            username,
            name,
            Role::Cashier,
            Some(z.branch_code),
            phone,
        );
        for (code, username, name, phone) in z.officers {
            user(
                code,
                username,
                name,
                Role::Officer,
                Some(z.branch_code),
                phone,
            );
        }
    }
}

/// A full name, family name first, and whether it is a woman's.
fn person_name(rng: &mut Rng, female: bool) -> String {
    let family = rng.weighted(FAMILY_NAMES);
    let (middle, given) = if female {
        (rng.pick(FEMALE_MIDDLE), rng.pick(FEMALE_GIVEN))
    } else {
        (rng.pick(MALE_MIDDLE), rng.pick(MALE_GIVEN))
    };
    format!("{family} {middle} {given}")
}

fn mobile(rng: &mut Rng, used: &mut HashSet<String>) -> String {
    loop {
        let p = format!("{}{:07}", rng.pick(MOBILE_PREFIXES), rng.below(10_000_000));
        if used.insert(p.clone()) {
            return p;
        }
    }
}

fn boarding_houses(set: &mut ImportSet, rng: &mut Rng) {
    let mut names: Vec<String> = HOUSE_PREFIXES
        .iter()
        .flat_map(|p| HOUSE_NAMES.iter().map(move |n| format!("{p} {n}")))
        .collect();
    rng.shuffle(&mut names);
    let mut phones = HashSet::new();
    for (zi, z) in ZONES.iter().enumerate() {
        for i in 0..HOUSES_PER_ZONE {
            let street = rng.pick(z.streets);
            let address = if rng.chance(60) {
                format!("{}/{} {street}", rng.range(2, 180), rng.range(1, 40))
            } else {
                format!("{} {street}", rng.range(2, 300))
            };
            let jitter = |rng: &mut Rng| rng.range(-12_000, 12_000);
            let lat = (z.lat_micro + jitter(rng)) as f64 / 1e6;
            let lon = (z.lon_micro + jitter(rng)) as f64 / 1e6;
            let landlord_female = rng.chance(60);
            set.boarding_houses.push(BoardingHouseRow {
                origin: origin(ImportKind::BoardingHouses, set.boarding_houses.len()),
                code: format!("NT-{}-{:03}", z.slug, i + 1),
                name: names[zi * HOUSES_PER_ZONE + i].clone(),
                address,
                ward: rng.pick(z.wards).to_string(),
                district: z.district.into(),
                industrial_zone: z.zone.into(),
                landlord_name: person_name(rng, landlord_female),
                landlord_phone: Some(mobile(rng, &mut phones)),
                latitude: Some(lat),
                longitude: Some(lon),
            });
        }
    }
}

/// A valid CCCD: province, gender/century digit, two-digit birth year,
/// six-digit serial; unique within the fund.
fn cccd(rng: &mut Rng, used: &mut HashSet<String>, female: bool, born: i32) -> String {
    let century_digit = match (born >= 2000, female) {
        (false, false) => 0,
        (false, true) => 1,
        (true, false) => 2,
        (true, true) => 3,
    };
    loop {
        let c = format!(
            "{}{}{:02}{:06}",
            rng.pick(PROVINCE_CODES),
            century_digit,
            born % 100,
            rng.below(1_000_000)
        );
        if used.insert(c.clone()) {
            return c;
        }
    }
}

fn workers(set: &mut ImportSet, rng: &mut Rng) {
    let mut ids = HashSet::new();
    let mut phones = HashSet::new();
    // Each boarding house is on one officer's round.
    let house_officer = |house: usize| {
        let z = &ZONES[house / HOUSES_PER_ZONE];
        z.officers[house % z.officers.len()].0
    };
    for i in 0..WORKERS {
        // The first two are a deliberate pair of namesakes, one per zone.
        let (name, female) = match i {
            0 | 1 => ("Nguyễn Thị Lan".to_string(), true),
            _ => {
                let female = rng.chance(68);
                (person_name(rng, female), female)
            }
        };
        let zi = if i < 2 {
            i
        } else {
            usize::from(rng.chance(50))
        };
        let z = &ZONES[zi];
        let (house, officer) = if rng.chance(92) {
            let h = zi * HOUSES_PER_ZONE + rng.below(HOUSES_PER_ZONE as u64) as usize;
            (Some(h), house_officer(h))
        } else {
            (None, rng.pick(&z.officers).0)
        };
        // Younger workers are more common on the factory floor.
        let born = 2005 - rng.below(31).min(rng.below(31)) as i32;
        let dob = NaiveDate::from_ymd_opt(born, 1, 1)
            .and_then(|d| d.checked_add_days(Days::new(rng.below(365))))
            .expect("a day of the year");
        let hardship = rng.chance(15);
        set.workers.push(WorkerRow {
            origin: origin(ImportKind::Workers, set.workers.len()),
            code: format!("NLD-{:05}", i + 1),
            full_name: name,
            cccd: cccd(rng, &mut ids, female, born),
            phone: rng.chance(97).then(|| mobile(rng, &mut phones)),
            date_of_birth: Some(dob),
            gender: Some(if female { "nu" } else { "nam" }.into()),
            union_member: rng.chance(70),
            employer: rng.pick(z.employers).to_string(),
            industrial_zone: z.zone.into(),
            boarding_house_code: house.map(|h| set.boarding_houses[h].code.clone()),
            room: house
                .map(|_| format!("P.{}", rng.range(1, 24)))
                .unwrap_or_default(),
            hardship,
            hardship_note: if hardship {
                rng.pick(HARDSHIP_NOTES).to_string()
            } else {
                String::new()
            },
            officer_code: officer.into(),
        });
    }
}

fn loan_products(set: &mut ImportSet) {
    let products = [
        (
            "VT-TUAN-12",
            "Vay tuần – dư nợ giảm dần",
            1200,
            InterestMethod::Declining,
            Frequency::Weekly,
            26,
            3_000_000,
            30_000_000,
        ),
        (
            "VT-THANG-9",
            "Vay tháng – lãi cố định",
            900,
            InterestMethod::Flat,
            Frequency::Monthly,
            12,
            5_000_000,
            30_000_000,
        ),
        (
            "VT-2TUAN-7.8",
            "Vay hai tuần – dư nợ giảm dần",
            780,
            InterestMethod::Declining,
            Frequency::Biweekly,
            24,
            5_000_000,
            20_000_000,
        ),
        (
            "TTDS-0",
            "Tương trợ đời sống (không lãi)",
            0,
            InterestMethod::Flat,
            Frequency::Biweekly,
            12,
            3_000_000,
            10_000_000,
        ),
    ];
    for (code, name, bp, method, frequency, n, min, max) in products {
        set.loan_products.push(LoanProductRow {
            origin: origin(ImportKind::LoanProducts, set.loan_products.len()),
            code: code.into(),
            name: name.into(),
            annual_rate_bp: bp,
            method,
            frequency,
            installments: n,
            min_principal: min,
            max_principal: max,
        });
    }
}

/// `today` minus `periods` installment periods and `days` days.
fn back(today: NaiveDate, frequency: Frequency, periods: u32, days: u64) -> NaiveDate {
    let d = match frequency {
        Frequency::Weekly => today.checked_sub_days(Days::new(7 * u64::from(periods))),
        Frequency::Biweekly => today.checked_sub_days(Days::new(14 * u64::from(periods))),
        Frequency::Monthly => today.checked_sub_months(Months::new(periods)),
    };
    d.and_then(|d| d.checked_sub_days(Days::new(days)))
        .expect("demo dates are near today")
}

fn loans(set: &mut ImportSet, rng: &mut Rng, today: NaiveDate) {
    let mut borrowers: Vec<usize> = (0..set.workers.len()).collect();
    rng.shuffle(&mut borrowers);
    borrowers.truncate(LOANS);
    borrowers.sort_unstable();
    for (n, w) in borrowers.into_iter().enumerate() {
        let p = &set.loan_products[match rng.below(100) {
            0..=44 => 0,
            45..=69 => 1,
            70..=89 => 2,
            _ => 3,
        }];
        // Small loans are the most common: the minimum of two draws.
        let steps = ((p.max_principal - p.min_principal) / 500_000) as u64 + 1;
        let principal = p.min_principal + 500_000 * rng.below(steps).min(rng.below(steps)) as i64;
        // Still running: fewer periods have passed than it has installments.
        let elapsed = rng.below(u64::from(p.installments)) as u32;
        let period_days = match p.frequency {
            Frequency::Weekly => 7,
            Frequency::Biweekly => 14,
            Frequency::Monthly => 28,
        };
        let disbursed_on = back(today, p.frequency, elapsed, rng.below(period_days));
        let schedule = build_schedule(&LoanTerms {
            principal,
            annual_rate_bp: p.annual_rate_bp,
            method: p.method,
            frequency: p.frequency,
            installments: p.installments,
            disbursed_on,
        })
        .expect("demo products give valid schedules");
        let amount = |i: &sotay_core::domain::schedule::Installment| i.principal + i.interest;
        let due: Vec<i64> = schedule
            .iter()
            .filter(|i| i.due_on < today)
            .map(amount)
            .collect();
        let total: i64 = schedule.iter().map(amount).sum();
        let due_total: i64 = due.iter().sum();
        let paid_to_date = if !due.is_empty() && rng.chance(13) {
            // Overdue: the last one to three installments (partly) unpaid.
            let missed = 1 + rng.below(due.len().min(3) as u64) as usize;
            let missed_amount: i64 = due[due.len() - missed..].iter().sum();
            let partial = if rng.chance(40) {
                (due[due.len() - 1] / 2 / 1_000) * 1_000
            } else {
                0
            };
            due_total - missed_amount + partial
        } else if rng.chance(8) {
            // A careful borrower a little ahead of the schedule.
            // (never the last installment: the loan stays active).
            let ahead: Vec<i64> = schedule
                .iter()
                .filter(|i| i.due_on >= today)
                .map(amount)
                .collect();
            due_total + if ahead.len() > 1 { ahead[0] } else { 0 }
        } else {
            due_total
        };
        set.loans.push(LoanRow {
            origin: origin(ImportKind::Loans, set.loans.len()),
            code: format!("KV-{:06}", n + 1),
            worker_code: set.workers[w].code.clone(),
            product_code: p.code.clone(),
            principal,
            disbursed_on,
            paid_to_date: paid_to_date.clamp(0, total),
        });
    }
}

fn campaigns(set: &mut ImportSet, today: NaiveDate) {
    let day = |d: i64| {
        if d >= 0 {
            today.checked_add_days(Days::new(d as u64))
        } else {
            today.checked_sub_days(Days::new(d.unsigned_abs()))
        }
        .expect("demo dates are near today")
    };
    let tet_end = day(75);
    let year = tet_end.year();
    let tet = format!("TET-{year}");
    let mai_am = format!("MAC-{year}");
    set.campaigns.push(CampaignRow {
        origin: origin(ImportKind::Campaigns, 0),
        code: tet.clone(),
        name: format!("Tết Sum vầy {year}"),
        kind: CampaignKind::Gift,
        starts_on: day(-7),
        ends_on: tet_end,
        gift_value: 500_000,
        target_count: 400,
        eligibility: Eligibility::UnionMembers,
        description: "Quà Tết cho đoàn viên công đoàn ở trọ tại KCX Linh Trung và KCN Tân Tạo"
            .into(),
    });
    set.campaigns.push(CampaignRow {
        origin: origin(ImportKind::Campaigns, 1),
        code: mai_am.clone(),
        name: format!("Mái ấm Công đoàn {year}"),
        kind: CampaignKind::Welfare,
        starts_on: day(-30),
        ends_on: day(180),
        gift_value: 50_000_000,
        target_count: 4,
        eligibility: Eligibility::UnionMembersInHardship,
        description: "Hỗ trợ xây, sửa nhà cho đoàn viên có hoàn cảnh khó khăn".into(),
    });
    let mut alloc = |campaign: &str, branch: &str, officer: Option<&str>, quota: i64| {
        set.allocations.push(AllocationRow {
            origin: origin(ImportKind::Allocations, set.allocations.len()),
            campaign_code: campaign.into(),
            branch_code: branch.into(),
            officer_code: officer.map(str::to_string),
            quota,
        });
    };
    for z in &ZONES {
        // 200 per branch; 60 per officer, 20 kept at the branch.
        alloc(&tet, z.branch_code, None, 200);
        for (officer, ..) in z.officers {
            alloc(&tet, z.branch_code, Some(officer), 60);
        }
        alloc(&mai_am, z.branch_code, None, 2);
    }
}

/// A demo login to print: user name, role and branch name (none for admin).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoLogin {
    pub username: String,
    pub full_name: String,
    pub role: Role,
    pub branch: Option<String>,
}

/// The users of `set` with their branch names, in file order. All share
/// the password [`DEMO_PASSWORD`] when `set` is the demo fund.
pub fn demo_logins(set: &ImportSet) -> Vec<DemoLogin> {
    set.users
        .iter()
        .map(|u| DemoLogin {
            username: u.username.clone(),
            full_name: u.full_name.clone(),
            role: u.role,
            branch: u.branch_code.as_ref().map(|code| {
                set.branches
                    .iter()
                    .find(|b| &b.code == code)
                    .map(|b| b.name.clone())
                    .unwrap_or_else(|| code.clone())
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests;
