use std::collections::{HashMap, HashSet};

use sotay_core::domain::ids::{normalize_cccd, normalize_phone};
use sotay_core::domain::schedule::{build_schedule, overdue, InstallmentState, LoanTerms};
use sotay_core::domain::text::fold;

use super::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}

fn unique<'a>(what: &str, items: impl IntoIterator<Item = &'a str>) -> HashSet<&'a str> {
    let mut seen = HashSet::new();
    for i in items {
        assert!(seen.insert(i), "duplicate {what} {i}");
    }
    seen
}

#[test]
fn is_deterministic() {
    assert_eq!(demo_fund(today()), demo_fund(today()));
    // Another day moves the dates, not the people.
    let later = demo_fund(today() + Days::new(40));
    assert_eq!(later.workers, demo_fund(today()).workers);
}

#[test]
fn has_the_promised_size() {
    let s = demo_fund(today());
    assert_eq!(s.branches.len(), 2);
    let count = |role| s.users.iter().filter(|u| u.role == role).count();
    assert_eq!(count(Role::Officer), 6);
    assert_eq!(count(Role::Supervisor), 2);
    assert_eq!(count(Role::Admin), 1);
    for b in &s.branches {
        let in_branch = |role| {
            s.users
                .iter()
                .filter(|u| u.role == role && u.branch_code.as_deref() == Some(b.code.as_str()))
                .count()
        };
        assert_eq!(in_branch(Role::Officer), 3, "{}", b.code);
        assert_eq!(in_branch(Role::Supervisor), 1, "{}", b.code);
    }
    assert!((50..=70).contains(&s.boarding_houses.len()));
    assert!((550..=650).contains(&s.workers.len()));
    assert!((3..=4).contains(&s.loan_products.len()));
    assert!((450..=550).contains(&s.loans.len()));
    assert_eq!(s.campaigns.len(), 2);

    let share = |n: usize| n * 100 / s.workers.len();
    let members = share(s.workers.iter().filter(|w| w.union_member).count());
    assert!((60..=80).contains(&members), "{members}% union members");
    let hardship: Vec<_> = s.workers.iter().filter(|w| w.hardship).collect();
    assert!(
        (10..=20).contains(&share(hardship.len())),
        "{}",
        hardship.len()
    );
    assert!(hardship.iter().all(|w| !w.hardship_note.is_empty()));
    assert!(s.workers.iter().any(|w| w.full_name == "Nguyễn Thị Lan"));
    let dang = s
        .workers
        .iter()
        .filter(|w| fold(&w.full_name).starts_with("dang "))
        .count();
    assert!(dang >= 3, "{dang} Đặng");
    assert!(s.users.iter().any(|u| u.username == "admin"));
    assert!(s
        .users
        .iter()
        .all(|u| u.initial_password.as_deref() == Some(DEMO_PASSWORD)));
}

#[test]
fn codes_and_identity_numbers_are_unique_and_valid() {
    let s = demo_fund(today());
    unique("branch", s.branches.iter().map(|r| r.code.as_str()));
    unique("user", s.users.iter().map(|r| r.code.as_str()));
    unique("username", s.users.iter().map(|r| r.username.as_str()));
    unique("house", s.boarding_houses.iter().map(|r| r.code.as_str()));
    unique("worker", s.workers.iter().map(|r| r.code.as_str()));
    unique("cccd", s.workers.iter().map(|r| r.cccd.as_str()));
    unique("phone", s.workers.iter().filter_map(|r| r.phone.as_deref()));
    unique("product", s.loan_products.iter().map(|r| r.code.as_str()));
    unique("loan", s.loans.iter().map(|r| r.code.as_str()));
    unique("campaign", s.campaigns.iter().map(|r| r.code.as_str()));
    for w in &s.workers {
        assert_eq!(normalize_cccd(&w.cccd).unwrap(), w.cccd);
        if let Some(p) = &w.phone {
            assert_eq!(&normalize_phone(p).unwrap(), p);
        }
        let dob = w.date_of_birth.unwrap();
        assert!((1975..=2005).contains(&dob.year()), "{dob}");
        // Gender/century digit and birth year are encoded in the CCCD.
        let female = w.gender.as_deref() == Some("nu");
        let expected = match (dob.year() >= 2000, female) {
            (false, false) => '0',
            (false, true) => '1',
            (true, false) => '2',
            (true, true) => '3',
        };
        assert_eq!(w.cccd.chars().nth(3), Some(expected), "{}", w.cccd);
        assert_eq!(&w.cccd[4..6], &format!("{:02}", dob.year() % 100));
    }
}

#[test]
fn every_reference_resolves_within_the_fund() {
    let s = demo_fund(today());
    let branches: HashMap<_, _> = s.branches.iter().map(|b| (b.code.as_str(), b)).collect();
    let officers: HashMap<_, _> = s
        .users
        .iter()
        .filter(|u| u.role == Role::Officer)
        .map(|u| (u.code.as_str(), u.branch_code.as_deref().unwrap()))
        .collect();
    for u in &s.users {
        if let Some(b) = &u.branch_code {
            assert!(branches.contains_key(b.as_str()));
        }
    }
    let houses: HashMap<_, _> = s
        .boarding_houses
        .iter()
        .map(|h| (h.code.as_str(), h))
        .collect();
    for w in &s.workers {
        let branch = branches[officers[w.officer_code.as_str()]];
        // The officer belongs to the branch of the zone the worker lives in.
        assert_eq!(branch.industrial_zone, w.industrial_zone, "{}", w.code);
        if let Some(h) = &w.boarding_house_code {
            assert_eq!(houses[h.as_str()].industrial_zone, w.industrial_zone);
            assert!(w.room.starts_with("P."));
        }
    }
    let workers: HashSet<_> = s.workers.iter().map(|w| w.code.as_str()).collect();
    let products: HashSet<_> = s.loan_products.iter().map(|p| p.code.as_str()).collect();
    for l in &s.loans {
        assert!(workers.contains(l.worker_code.as_str()));
        assert!(products.contains(l.product_code.as_str()));
    }
    let campaigns: HashMap<_, _> = s.campaigns.iter().map(|c| (c.code.as_str(), c)).collect();
    let mut per_campaign: HashMap<&str, i64> = HashMap::new();
    for a in &s.allocations {
        assert!(campaigns.contains_key(a.campaign_code.as_str()));
        assert!(branches.contains_key(a.branch_code.as_str()));
        if let Some(o) = &a.officer_code {
            assert_eq!(officers[o.as_str()], a.branch_code);
        } else {
            *per_campaign.entry(a.campaign_code.as_str()).or_default() += a.quota;
        }
    }
    for (code, c) in &campaigns {
        assert!(per_campaign[code] <= c.target_count, "{code}");
        assert!(
            c.starts_on <= today() && today() <= c.ends_on,
            "{code} runs today"
        );
    }
    // Officer quotas stay within their branch's quota.
    for b in s.allocations.iter().filter(|a| a.officer_code.is_none()) {
        let officers_sum: i64 = s
            .allocations
            .iter()
            .filter(|a| {
                a.officer_code.is_some()
                    && a.campaign_code == b.campaign_code
                    && a.branch_code == b.branch_code
            })
            .map(|a| a.quota)
            .sum();
        assert!(officers_sum <= b.quota);
    }
    let tet = s
        .campaigns
        .iter()
        .find(|c| c.name == "Tết Sum vầy 2027")
        .unwrap();
    assert_eq!((tet.gift_value, tet.target_count), (500_000, 400));
    let welfare = s
        .campaigns
        .iter()
        .find(|c| c.name == "Mái ấm Công đoàn 2027")
        .unwrap();
    assert_eq!(welfare.eligibility, Eligibility::UnionMembersInHardship);
}

#[test]
fn loans_are_active_mostly_current_and_some_overdue() {
    let s = demo_fund(today());
    let products: HashMap<_, _> = s
        .loan_products
        .iter()
        .map(|p| (p.code.as_str(), p))
        .collect();
    let mut overdue_count = 0;
    for l in &s.loans {
        let p = products[l.product_code.as_str()];
        assert!((p.min_principal..=p.max_principal).contains(&l.principal));
        assert_eq!(l.principal % 500_000, 0);
        assert!(l.disbursed_on <= today());
        let schedule = build_schedule(&LoanTerms {
            principal: l.principal,
            annual_rate_bp: p.annual_rate_bp,
            method: p.method,
            frequency: p.frequency,
            installments: p.installments,
            disbursed_on: l.disbursed_on,
        })
        .unwrap();
        let total: i64 = schedule.iter().map(|i| i.principal + i.interest).sum();
        assert!(
            (0..total).contains(&l.paid_to_date),
            "{} paid in full",
            l.code
        );
        assert!(
            schedule.last().unwrap().due_on >= today(),
            "{} still running",
            l.code
        );
        // Apply the opening payment the way the books will.
        let mut states = InstallmentState::from_schedule(&schedule);
        if l.paid_to_date > 0 {
            let allocation =
                sotay_core::domain::schedule::allocate(&states, l.paid_to_date).unwrap();
            sotay_core::domain::schedule::apply_allocation(&mut states, &allocation, 1);
        }
        if overdue(&states, today()).total() > 0 {
            overdue_count += 1;
        }
    }
    let share = overdue_count * 100 / s.loans.len();
    assert!((10..=15).contains(&share), "{share}% overdue");
}

#[test]
fn logins_name_the_branch() {
    let s = demo_fund(today());
    let logins = demo_logins(&s);
    assert_eq!(logins.len(), 11);
    let lan = logins.iter().find(|l| l.username == "canbo.lan").unwrap();
    assert_eq!(lan.branch.as_deref(), Some("Chi nhánh Thủ Đức"));
    let admin = logins.iter().find(|l| l.username == "admin").unwrap();
    assert_eq!((admin.role, admin.branch.as_deref()), (Role::Admin, None));
    assert!(logins.iter().any(|l| l.username == "giamsat.thuduc"));
    let cashier = logins
        .iter()
        .find(|l| l.username == "thuquy.thuduc")
        .unwrap();
    assert_eq!(
        (cashier.role, cashier.branch.as_deref()),
        (Role::Cashier, Some("Chi nhánh Thủ Đức"))
    );
}
