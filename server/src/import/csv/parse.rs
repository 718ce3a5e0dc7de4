//! One parser per file kind: a data line → a typed row, or errors.

use chrono::{Datelike, NaiveDate};
use sotay_core::domain::gifts::{CampaignKind, Eligibility};
use sotay_core::domain::money::AmountRule;
use sotay_core::domain::schedule::{Frequency, InterestMethod};
use sotay_core::domain::text::fold;
use sotay_core::domain::time::format_date;

use super::fields::{Line, Seen};
use super::legacy::NameKind;
use super::ImportKind;
use crate::import::rows::{
    AllocationRow, BoardingHouseRow, BranchRow, CampaignRow, ImportSet, LoanProductRow, LoanRow,
    Role, UserRow, WorkerRow,
};

/// Shortest initial password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Largest target / quota of a campaign.
const MAX_GIFTS: i64 = 10_000_000;
/// The youngest a worker may be, in years: the Labour Code's working age.
const MIN_WORKING_AGE: i32 = 15;

/// Per-file state across lines: the keys already seen.
#[derive(Default)]
pub(super) struct FileState {
    codes: Seen,
    second: Seen,
}

/// Parses one line of `kind` into `out`; errors go to the line's sink.
pub(super) fn parse_line(
    kind: ImportKind,
    l: &mut Line<'_>,
    st: &mut FileState,
    out: &mut ImportSet,
) {
    match kind {
        ImportKind::Branches => {
            if let Some(r) = branch(l, st) {
                out.branches.push(r);
            }
        }
        ImportKind::Users => {
            if let Some(r) = user(l, st) {
                out.users.push(r);
            }
        }
        ImportKind::BoardingHouses => {
            if let Some(r) = boarding_house(l, st) {
                out.boarding_houses.push(r);
            }
        }
        ImportKind::Workers => {
            if let Some(r) = worker(l, st) {
                out.workers.push(r);
            }
        }
        ImportKind::LoanProducts => {
            if let Some(r) = loan_product(l, st) {
                out.loan_products.push(r);
            }
        }
        ImportKind::Loans => {
            if let Some(r) = loan(l, st) {
                out.loans.push(r);
            }
        }
        ImportKind::Campaigns => {
            if let Some(r) = campaign(l, st) {
                out.campaigns.push(r);
            }
        }
        ImportKind::Allocations => {
            if let Some(r) = allocation(l, st) {
                out.allocations.push(r);
            }
        }
    }
}

/// The `code` column, checked for repeats within the file.
fn unique_code(l: &mut Line<'_>, st: &mut FileState, vi: &str, en: &str) -> Option<String> {
    let code = l.code("code")?;
    st.codes.check(l, "code", &code, vi, en);
    Some(code)
}

fn branch(l: &mut Line<'_>, st: &mut FileState) -> Option<BranchRow> {
    let code = unique_code(l, st, "Mã chi nhánh", "Branch code");
    let name = l.required_text("name");
    let district = l.required_text("district");
    let industrial_zone = l.required_text("industrial_zone");
    let address = l.required_text("address");
    Some(BranchRow {
        origin: l.origin(),
        code: code?,
        name: name?,
        district: district?,
        industrial_zone: industrial_zone?,
        address: address?,
    })
}

fn user(l: &mut Line<'_>, st: &mut FileState) -> Option<UserRow> {
    let code = unique_code(l, st, "Mã người dùng", "User code");
    let username = username(l, st);
    let full_name = l.name("full_name", NameKind::Person, true);
    let role = l.choice(
        "role",
        Role::parse_label,
        &[
            "officer (cán bộ)",
            "supervisor (giám sát)",
            "cashier (thủ quỹ)",
            "admin (quản trị)",
        ],
    );
    let branch_code = l.opt_code("branch_code");
    let phone = l.opt_phone("phone");
    let password = password(l);
    let (role, branch_code) = (role?, branch_code?);
    match (role, &branch_code) {
        (Role::Officer | Role::Supervisor | Role::Cashier, None) => {
            l.err(
                "branch_code",
                format!(
                    "Cột branch_code đang để trống; người dùng vai trò {} phải thuộc một chi nhánh, hãy nhập mã chi nhánh (ví dụ CN-TD)",
                    role.as_str()
                ),
                format!(
                    "branch_code is empty; a user with role {} must belong to a branch, enter its code (e.g. CN-TD)",
                    role.as_str()
                ),
            );
            return None;
        }
        (Role::Admin, Some(b)) => {
            l.err(
                "branch_code",
                format!(
                    "Cột branch_code: quản trị viên (admin) không thuộc chi nhánh nào; hãy để trống thay vì \"{b}\""
                ),
                format!("branch_code: an admin belongs to no branch; leave it empty instead of \"{b}\""),
            );
            return None;
        }
        _ => {}
    }
    Some(UserRow {
        origin: l.origin(),
        code: code?,
        username: username?,
        full_name: full_name?,
        role,
        branch_code,
        phone: phone?,
        initial_password: password?,
    })
}

/// Lower-case ASCII letters, digits, `.`, `_`, `-`; 3 to 64 characters;
/// unique within the file.
fn username(l: &mut Line<'_>, st: &mut FileState) -> Option<String> {
    let raw = l.text("username");
    if raw.is_empty() {
        l.err(
            "username",
            "Cột username (tên đăng nhập) đang để trống; cần nhập tên đăng nhập, ví dụ \"canbo.lan\"".into(),
            "username is empty; a login name is required, e.g. \"canbo.lan\"".into(),
        );
        return None;
    }
    let name = raw.to_ascii_lowercase();
    let allowed = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if !allowed || !(3..=64).contains(&name.len()) {
        l.err(
            "username",
            format!(
                "Cột username: \"{raw}\" không hợp lệ; tên đăng nhập dài 3–64 ký tự, chỉ gồm chữ không dấu, chữ số và . _ - (ví dụ \"canbo.lan\")"
            ),
            format!(
                "username: \"{raw}\" is not accepted; a login name has 3–64 characters: letters without accents, digits and . _ - (e.g. \"canbo.lan\")"
            ),
        );
        return None;
    }
    st.second
        .check(l, "username", &name, "Tên đăng nhập", "Username");
    Some(name)
}

/// Kept exactly as written (no trimming: spaces may be part of it).
fn password(l: &mut Line<'_>) -> Option<Option<String>> {
    let raw = l.raw("password");
    if raw.is_empty() {
        return Some(None);
    }
    if raw.chars().count() < MIN_PASSWORD_CHARS {
        l.err(
            "password",
            format!(
                "Cột password: mật khẩu ban đầu phải có ít nhất {MIN_PASSWORD_CHARS} ký tự (đang có {}); hoặc để trống",
                raw.chars().count()
            ),
            format!(
                "password: an initial password needs at least {MIN_PASSWORD_CHARS} characters (this one has {}); or leave it empty",
                raw.chars().count()
            ),
        );
        return None;
    }
    Some(Some(raw.to_string()))
}

fn boarding_house(l: &mut Line<'_>, st: &mut FileState) -> Option<BoardingHouseRow> {
    let code = unique_code(l, st, "Mã nhà trọ", "Boarding house code");
    let name = l.name("name", NameKind::Other, true);
    let address = l.required_text("address");
    let ward = l.required_text("ward");
    let district = l.required_text("district");
    let industrial_zone = l.required_text("industrial_zone");
    let landlord_name = l.name("landlord_name", NameKind::Person, false);
    let landlord_phone = l.opt_phone("landlord_phone");
    let latitude = l.opt_degrees("latitude", 90.0);
    let longitude = l.opt_degrees("longitude", 180.0);
    let (latitude, longitude) = (latitude?, longitude?);
    if latitude.is_some() != longitude.is_some() {
        let missing = if latitude.is_none() {
            "latitude"
        } else {
            "longitude"
        };
        l.err(
            missing,
            format!(
                "Cột {missing} đang để trống; hãy nhập cả vĩ độ và kinh độ, hoặc để trống cả hai"
            ),
            format!("{missing} is empty; give both latitude and longitude, or neither"),
        );
        return None;
    }
    Some(BoardingHouseRow {
        origin: l.origin(),
        code: code?,
        name: name?,
        address: address?,
        ward: ward?,
        district: district?,
        industrial_zone: industrial_zone?,
        landlord_name: landlord_name?,
        landlord_phone: landlord_phone?,
        latitude,
        longitude,
    })
}

fn worker(l: &mut Line<'_>, st: &mut FileState) -> Option<WorkerRow> {
    let code = unique_code(l, st, "Mã người lao động", "Worker code");
    // Left out of the file, these keep what a stored worker holds (a new
    // one is refused when the file is applied).
    let full_name = if l.index.contains_key("full_name") {
        l.name("full_name", NameKind::Person, true)
    } else {
        Some(String::new())
    };
    let cccd = if l.index.contains_key("cccd") {
        l.cccd("cccd")
    } else {
        Some(String::new())
    };
    if let Some(c) = cccd.as_ref().filter(|c| !c.is_empty()) {
        st.second.check(l, "cccd", c, "Số CCCD", "CCCD");
    }
    let phone = l.opt_phone("phone");
    let date_of_birth = l.opt_date("date_of_birth");
    if let Some(Some(d)) = date_of_birth {
        let today = sotay_core::domain::time::local_date(chrono::Utc::now());
        // The youngest a worker may be: 15 (the Labour Code's working age).
        let youngest = today
            .with_year(today.year() - MIN_WORKING_AGE)
            .or_else(|| today.pred_opt()?.with_year(today.year() - MIN_WORKING_AGE))
            .unwrap_or(today);
        if d.year_ce().1 >= 1900 && d <= today && d > youngest {
            l.err(
                "date_of_birth",
                format!(
                    "Cột date_of_birth: ngày sinh {} là của người chưa đủ {MIN_WORKING_AGE} tuổi (tuổi lao động); kiểm tra lại năm sinh",
                    format_date(d)
                ),
                format!(
                    "date_of_birth: {} is the birth date of someone under {MIN_WORKING_AGE} (the working age); check the year",
                    format_date(d)
                ),
            );
        } else if d.year_ce().1 < 1900 || d > today {
            l.err(
                "date_of_birth",
                format!(
                    "Cột date_of_birth: ngày sinh {} không hợp lý (phải từ 01/01/1900 đến hôm nay)",
                    format_date(d)
                ),
                format!(
                    "date_of_birth: {} is not a plausible birth date (must be between 01/01/1900 and today)",
                    format_date(d)
                ),
            );
        }
    }
    let gender = gender(l);
    let union_member = if l.index.contains_key("union_member") {
        l.boolean("union_member")
    } else {
        Some(false)
    };
    let employer = l.name("employer", NameKind::Other, false);
    let industrial_zone = l.text("industrial_zone");
    let boarding_house_code = l.opt_code("boarding_house_code");
    let room = l.text("room");
    let hardship = if l.index.contains_key("hardship") {
        l.boolean("hardship")
    } else {
        Some(false)
    };
    let hardship_note = l.text("hardship_note");
    // Left out of a file of corrections: each worker keeps hers.
    let officer_code = if l.index.contains_key("officer_code") {
        l.code("officer_code")
    } else {
        Some(String::new())
    };
    Some(WorkerRow {
        origin: l.origin(),
        code: code?,
        full_name: full_name?,
        cccd: cccd?,
        phone: phone?,
        date_of_birth: date_of_birth?,
        gender: gender?,
        union_member: union_member?,
        employer: employer?,
        industrial_zone,
        boarding_house_code: boarding_house_code?,
        room,
        hardship: hardship?,
        hardship_note,
        officer_code: officer_code?,
    })
}

/// `nam` / `nu` (from nam, nữ, nu, male, female, m, f, any case) or empty.
fn gender(l: &mut Line<'_>) -> Option<Option<String>> {
    let raw = l.text("gender");
    match fold(&raw).as_str() {
        "" => Some(None),
        "nam" | "male" | "m" => Some(Some("nam".into())),
        "nu" | "female" | "f" => Some(Some("nu".into())),
        _ => {
            l.err(
                "gender",
                format!("Cột gender: \"{raw}\" không hợp lệ; hãy ghi nam, nữ hoặc để trống"),
                format!("gender: \"{raw}\" is not accepted; write nam (male), nữ (female) or leave it empty"),
            );
            None
        }
    }
}

fn loan_product(l: &mut Line<'_>, st: &mut FileState) -> Option<LoanProductRow> {
    let code = unique_code(l, st, "Mã sản phẩm vay", "Loan product code");
    let name = l.required_text("name");
    let annual_rate_bp = l.rate_bp("annual_rate_percent");
    let method = l.choice(
        "method",
        |m| {
            InterestMethod::parse(m).or_else(|| match fold(m).as_str() {
                "lai tinh tren von goc ban dau"
                | "von goc ban dau"
                | "co dinh"
                | "lai co dinh"
                | "lai phang"
                | "du no ban dau"
                | "lai tinh tren du no ban dau"
                | "tren du no ban dau" => Some(InterestMethod::Flat),
                "lai tinh tren du no giam dan" | "du no giam dan" | "giam dan" => {
                    Some(InterestMethod::Declining)
                }
                _ => None,
            })
        },
        &["flat (vốn gốc ban đầu)", "declining (dư nợ giảm dần)"],
    );
    let frequency = l.choice(
        "frequency",
        |f| {
            Frequency::parse(f).or_else(|| match fold(f).as_str() {
                "hang tuan" | "moi tuan" | "tuan" => Some(Frequency::Weekly),
                "hai tuan mot lan" | "2 tuan mot lan" | "hai tuan" | "2 tuan" => {
                    Some(Frequency::Biweekly)
                }
                "hang thang" | "moi thang" | "thang" => Some(Frequency::Monthly),
                _ => None,
            })
        },
        &[
            "weekly (hằng tuần)",
            "biweekly (hai tuần một lần)",
            "monthly (hằng tháng)",
        ],
    );
    let installments = l.count("installments", 1, 520);
    let min_principal = l.amount("min_principal", AmountRule::Positive);
    let max_principal = l.amount("max_principal", AmountRule::Positive);
    let (min_principal, max_principal) = (min_principal?, max_principal?);
    if min_principal > max_principal {
        l.err(
            "max_principal",
            format!(
                "Cột max_principal: mức vay tối đa {max_principal} nhỏ hơn mức tối thiểu min_principal {min_principal}; mức tối đa phải lớn hơn hoặc bằng mức tối thiểu"
            ),
            format!(
                "max_principal: the maximum {max_principal} is below min_principal {min_principal}; the maximum must be at least the minimum"
            ),
        );
        return None;
    }
    Some(LoanProductRow {
        origin: l.origin(),
        code: code?,
        name: name?,
        annual_rate_bp: annual_rate_bp?,
        method: method?,
        frequency: frequency?,
        installments: u32::try_from(installments?).ok()?,
        min_principal,
        max_principal,
    })
}

/// No loan a fund still carries was paid out before this day.
pub const EARLIEST_DISBURSEMENT: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => panic!("a valid date"),
};

fn loan(l: &mut Line<'_>, st: &mut FileState) -> Option<LoanRow> {
    let code = unique_code(l, st, "Mã khoản vay", "Loan code");
    let worker_code = l.code("worker_code");
    let product_code = l.code("product_code");
    let principal = l.amount("principal", AmountRule::Positive);
    let disbursed_on = l.date("disbursed_on");
    if let Some(d) = disbursed_on {
        let today = sotay_core::domain::time::local_date(chrono::Utc::now());
        if d < EARLIEST_DISBURSEMENT {
            // A mistyped year (1926 for 2026) would bring in a loan a
            // century overdue, on the books at once.
            l.err(
                "disbursed_on",
                format!(
                    "Cột disbursed_on: ngày giải ngân {} quá xa (trước {}); kiểm tra năm",
                    format_date(d),
                    format_date(EARLIEST_DISBURSEMENT)
                ),
                format!(
                    "disbursed_on: {} is too long ago (before {}); check the year",
                    format_date(d),
                    format_date(EARLIEST_DISBURSEMENT)
                ),
            );
        } else if d > today {
            l.err(
                "disbursed_on",
                format!(
                    "Cột disbursed_on: ngày giải ngân {} sau hôm nay ({}); khoản vay nhập từ tệp là khoản đã giải ngân",
                    format_date(d),
                    format_date(today)
                ),
                format!(
                    "disbursed_on: {} is after today ({}); loans imported from a file were paid out already",
                    format_date(d),
                    format_date(today)
                ),
            );
        }
    }
    let paid_to_date = l.opt_amount("paid_to_date", AmountRule::NonNegative, 0);
    Some(LoanRow {
        origin: l.origin(),
        code: code?,
        worker_code: worker_code?,
        product_code: product_code?,
        principal: principal?,
        disbursed_on: disbursed_on?,
        paid_to_date: paid_to_date?,
    })
}

fn campaign(l: &mut Line<'_>, st: &mut FileState) -> Option<CampaignRow> {
    let code = unique_code(l, st, "Mã chương trình", "Campaign code");
    let name = l.required_text("name");
    let kind = l.choice(
        "kind",
        |k| {
            CampaignKind::parse(k).or_else(|| match fold(k).as_str() {
                "tang qua" | "qua" | "qua tang" => Some(CampaignKind::Gift),
                "ho tro" | "phuc loi" => Some(CampaignKind::Welfare),
                _ => None,
            })
        },
        &["gift (tặng quà)", "welfare (hỗ trợ)"],
    );
    let starts_on = l.date("starts_on");
    let ends_on = l.date("ends_on");
    let gift_value = l.amount("gift_value", AmountRule::Positive);
    let target_count = l.count("target_count", 1, MAX_GIFTS);
    let accepted: Vec<String> = Eligibility::ALL
        .iter()
        .map(|e| format!("{} ({})", e.as_str(), e.describe_vi()))
        .collect();
    let accepted: Vec<&str> = accepted.iter().map(String::as_str).collect();
    let eligibility = l.choice(
        "eligibility",
        |e| {
            Eligibility::parse(e).or_else(|| {
                let folded = fold(e);
                Eligibility::ALL
                    .into_iter()
                    .find(|x| fold(x.describe_vi()) == folded)
            })
        },
        &accepted,
    );
    let description = l.text("description");
    let (starts_on, ends_on) = (starts_on?, ends_on?);
    if ends_on < starts_on {
        l.err(
            "ends_on",
            format!(
                "Cột ends_on: ngày kết thúc {} trước ngày bắt đầu {}; ngày kết thúc phải từ ngày bắt đầu trở đi",
                format_date(ends_on),
                format_date(starts_on)
            ),
            format!(
                "ends_on: the end {} is before the start {}; it must be on or after the start",
                format_date(ends_on),
                format_date(starts_on)
            ),
        );
        return None;
    }
    Some(CampaignRow {
        origin: l.origin(),
        code: code?,
        name: name?,
        kind: kind?,
        starts_on,
        ends_on,
        gift_value: gift_value?,
        target_count: target_count?,
        eligibility: eligibility?,
        description,
    })
}

fn allocation(l: &mut Line<'_>, st: &mut FileState) -> Option<AllocationRow> {
    let campaign_code = l.code("campaign_code");
    let branch_code = l.code("branch_code");
    let officer_code = l.opt_code("officer_code");
    let quota = l.count("quota", 0, MAX_GIFTS);
    let (campaign_code, branch_code, officer_code) = (campaign_code?, branch_code?, officer_code?);
    let key = format!(
        "{campaign_code} / {branch_code}{}",
        officer_code
            .as_deref()
            .map(|o| format!(" / {o}"))
            .unwrap_or_default()
    );
    let column = if officer_code.is_some() {
        "officer_code"
    } else {
        "branch_code"
    };
    st.codes.check(l, column, &key, "Phân bổ", "Allocation");
    Some(AllocationRow {
        origin: l.origin(),
        campaign_code,
        branch_code,
        officer_code,
        quota: quota?,
    })
}
