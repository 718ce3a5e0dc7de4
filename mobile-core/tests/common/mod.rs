//! Shared by the integration tests and the benchmark: a small hand-written
//! portfolio (`tests/fixtures/portfolio.json`) and a generated large one.

#![allow(dead_code)]

use chrono::{NaiveDate, TimeZone, Utc};
use sotay_core::domain::gifts::{CampaignKind, Eligibility};
use sotay_core::domain::money::Dong;
use sotay_core::domain::rules::LoanStatus;
use sotay_core::domain::schedule::{
    build_schedule, installments_after, outstanding, Frequency, InterestMethod, LoanTerms,
};
use sotay_core::wire::{BoardingHouse, Campaign, Loan, OfficerIdentity, PortfolioSnapshot, Worker};
use sotay_core::{DeviceIdentity, Timestamp};
use uuid::Uuid;

pub const PORTFOLIO: &str = include_str!("../fixtures/portfolio.json");

pub const LAN: &str = "0193a000-0000-7000-8000-000000000001";
pub const HUNG: &str = "0193a000-0000-7000-8000-000000000002";
pub const HOA: &str = "0193a000-0000-7000-8000-000000000003";
pub const LAM: &str = "0193a000-0000-7000-8000-000000000004";
pub const LAN_LOAN: &str = "0193a000-0000-7000-8000-0000000000c1";
pub const HOA_LOAN: &str = "0193a000-0000-7000-8000-0000000000c3";
pub const TET: &str = "0193a000-0000-7000-8000-0000000000d1";
pub const MAI_AM: &str = "0193a000-0000-7000-8000-0000000000d2";

pub fn id(s: &str) -> Uuid {
    Uuid::parse_str(s).unwrap()
}

pub fn device() -> DeviceIdentity {
    DeviceIdentity {
        device_id: id("0193a000-0000-7000-8000-0000000000e1"),
        device_code: "A7K2".to_string(),
    }
}

/// 20/11/2026 at `hour`:`minute`, Vietnam time.
pub fn at(hour: u32, minute: u32) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 20, hour, minute, 0).unwrap() - chrono::Duration::hours(7)
}

pub fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

const FAMILY: [&str; 14] = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
    "Hồ", "Ngô",
];
const MIDDLE: [&str; 8] = ["Thị", "Văn", "Ngọc", "Minh", "Thu", "Hữu", "Thanh", "Đức"];
const GIVEN: [&str; 24] = [
    "Lan", "Hùng", "Hoa", "Mai", "Tuấn", "Hương", "Dũng", "Linh", "Nam", "Trang", "Phúc", "Thảo",
    "Quân", "Yến", "Sơn", "Nhung", "Bình", "Hạnh", "Khoa", "Vy", "Long", "Ánh", "Đạt", "Loan",
];

/// A generated portfolio of `workers` workers in houses of 20, each with
/// one loan (weekly, biweekly or monthly) partly repaid.
pub fn big_portfolio(workers: usize) -> PortfolioSnapshot {
    let houses: Vec<BoardingHouse> = (0..workers.div_ceil(20))
        .map(|h| BoardingHouse {
            id: Uuid::from_u128(0xA000_0000 + h as u128),
            name: format!("Nhà trọ số {}", h + 1),
            address: format!("{} Đường số {}, Quận 7", h + 1, h % 30 + 1),
            zone: Some("KCX Tân Thuận".to_string()),
            route_order: h as i64,
            landlord_name: None,
            landlord_phone: None,
        })
        .collect();
    let mut ws = Vec::with_capacity(workers);
    let mut loans = Vec::with_capacity(workers);
    for i in 0..workers {
        let wid = Uuid::from_u128(0xB000_0000 + i as u128);
        ws.push(Worker {
            id: wid,
            full_name: format!(
                "{} {} {}",
                FAMILY[i % FAMILY.len()],
                MIDDLE[(i / 14) % MIDDLE.len()],
                GIVEN[(i / 112) % GIVEN.len()]
            ),
            phone: Some(format!("09{:08}", i * 7919 % 100_000_000)),
            cccd: Some(format!("079{:09}", i)),
            boarding_house_id: Some(houses[i / 20].id),
            room: Some(format!("P.{}", i % 20 + 1)),
            factory: None,
            union_member: i % 3 != 0,
            hardship: i % 7 == 0,
            code: Some(format!("NLD-{:05}", i + 1)),
        });
        let (frequency, n) = match i % 3 {
            0 => (Frequency::Weekly, 26),
            1 => (Frequency::Biweekly, 24),
            _ => (Frequency::Monthly, 12),
        };
        let terms = LoanTerms {
            principal: 5_000_000 + (i as i64 % 20) * 500_000,
            annual_rate_bp: if i % 5 == 0 { 0 } else { 1200 },
            method: if i % 2 == 0 {
                InterestMethod::Flat
            } else {
                InterestMethod::Declining
            },
            frequency,
            installments: n,
            disbursed_on: day(2026, 6, 1) + chrono::Days::new((i % 60) as u64),
        };
        // Paid up to date on the first `i % 5` installments.
        let schedule = build_schedule(&terms).unwrap();
        let paid: i64 = schedule
            .iter()
            .take(i % 5)
            .map(|s| s.principal + s.interest)
            .sum();
        let states = installments_after(&terms, paid).unwrap();
        let balance = outstanding(&states).total();
        loans.push(Loan {
            id: Uuid::from_u128(0xC000_0000 + i as u128),
            worker_id: wid,
            contract_no: format!("CEP-2026-{i:06}"),
            product_name: "Vay vốn công nhân".to_string(),
            principal: Dong(terms.principal),
            annual_rate_bp: terms.annual_rate_bp,
            method: terms.method,
            frequency: terms.frequency,
            installment_count: terms.installments,
            disbursed_on: terms.disbursed_on,
            status: LoanStatus::Active,
            paid: Dong(paid),
            installments: Vec::new(),
            balance: Dong(balance),
            waiting_elsewhere: Vec::new(),
        });
    }
    PortfolioSnapshot {
        officer: OfficerIdentity {
            officer_id: Uuid::from_u128(0xF1),
            code: "CB-0001".to_string(),
            full_name: "Trần Văn Minh".to_string(),
            branch_id: Uuid::from_u128(0xB1),
            branch_name: "Chi nhánh Quận 7".to_string(),
            cash_short: None,
            short_written_off: None,
            over_written_off: None,
        },
        as_of: Utc.with_ymd_and_hms(2026, 11, 20, 1, 0, 0).unwrap(),
        boarding_houses: houses,
        workers: ws,
        loans,
        campaigns: vec![Campaign {
            id: Uuid::from_u128(0xD1),
            name: "Tết Sum vầy 2027".to_string(),
            kind: CampaignKind::Gift,
            eligibility: Eligibility::All,
            gift_value: Dong(500_000),
            starts_on: day(2026, 11, 15),
            ends_on: day(2027, 2, 28),
            officer_allocation: 1000,
            officer_remaining: 1000,
            recipients: vec![],
        }],
        record_statuses: vec![],
        cash_counts: vec![],
        next: "c-1".to_string(),
    }
}
