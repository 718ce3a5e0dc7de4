//! The master-data rows an import carries, already parsed and validated field
//! by field. Both the CSV reader and the demo generator produce these, so the
//! demo fund goes through exactly the path an admin's files do.
//!
//! References between rows are by external code (`branch_code`, ...). They are
//! resolved by the store inside the import transaction, against this import
//! and what the database already holds.

use chrono::NaiveDate;
use sotay_core::domain::gifts::{CampaignKind, Eligibility};
use sotay_core::domain::schedule::{Frequency, InterestMethod};

/// Where a row came from, for error messages: file name and 1-based line
/// number (the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: String,
    pub line: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Officer,
    Supervisor,
    /// Takes repayments at the branch counter (thủ quỹ / giao dịch viên).
    Cashier,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Officer => "officer",
            Role::Supervisor => "supervisor",
            Role::Cashier => "cashier",
            Role::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "officer" => Some(Role::Officer),
            "supervisor" => Some(Role::Supervisor),
            "cashier" => Some(Role::Cashier),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// A role as a file names it: its word (`officer`), or in Vietnamese
    /// as the console shows it, with or without diacritics (`Cán bộ tín
    /// dụng`, `cán bộ`, `giám sát`, `thủ quỹ`, `quản trị viên`).
    pub fn parse_label(s: &str) -> Option<Self> {
        Role::parse(s).or_else(|| match sotay_core::domain::text::fold(s).as_str() {
            "can bo" | "can bo tin dung" => Some(Role::Officer),
            "giam sat" | "giam sat chi nhanh" => Some(Role::Supervisor),
            "thu quy" | "thu quy chi nhanh" => Some(Role::Cashier),
            "quan tri" | "quan tri vien" => Some(Role::Admin),
            _ => None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchRow {
    pub origin: Origin,
    pub code: String,
    pub name: String,
    pub district: String,
    pub industrial_zone: String,
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub origin: Origin,
    pub code: String,
    pub username: String,
    pub full_name: String,
    pub role: Role,
    /// Required for officers and supervisors; empty for admins.
    pub branch_code: Option<String>,
    /// Canonical national form (`0912345678`).
    pub phone: Option<String>,
    /// Initial password, used only when the user is created.
    pub initial_password: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BoardingHouseRow {
    pub origin: Origin,
    pub code: String,
    pub name: String,
    pub address: String,
    pub ward: String,
    pub district: String,
    pub industrial_zone: String,
    pub landlord_name: String,
    pub landlord_phone: Option<String>,
    /// GPS position, degrees (not money: floating point is fine here).
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerRow {
    pub origin: Origin,
    pub code: String,
    /// NFC, family name first.
    pub full_name: String,
    /// 12 digits.
    pub cccd: String,
    pub phone: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    /// "nam" / "nu" / empty
    pub gender: Option<String>,
    pub union_member: bool,
    pub employer: String,
    pub industrial_zone: String,
    pub boarding_house_code: Option<String>,
    pub room: String,
    pub hardship: bool,
    pub hardship_note: String,
    pub officer_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanProductRow {
    pub origin: Origin,
    pub code: String,
    pub name: String,
    /// Yearly rate in basis points (12% = 1200); 0 for interest-free.
    pub annual_rate_bp: i64,
    pub method: InterestMethod,
    pub frequency: Frequency,
    pub installments: u32,
    pub min_principal: i64,
    pub max_principal: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanRow {
    pub origin: Origin,
    pub code: String,
    pub worker_code: String,
    pub product_code: String,
    /// Whole đồng, > 0.
    pub principal: i64,
    pub disbursed_on: NaiveDate,
    /// Whole đồng repaid before the loan was brought into Sổ Tay (opening
    /// balance), applied interest first, oldest installment first.
    pub paid_to_date: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignRow {
    pub origin: Origin,
    pub code: String,
    pub name: String,
    pub kind: CampaignKind,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// Whole đồng per gift.
    pub gift_value: i64,
    pub target_count: i64,
    pub eligibility: Eligibility,
    pub description: String,
}

/// A quota of gifts for a branch (officer empty) or for one officer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationRow {
    pub origin: Origin,
    pub campaign_code: String,
    pub branch_code: String,
    pub officer_code: Option<String>,
    pub quota: i64,
}

/// Everything one import brings, in dependency order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportSet {
    pub branches: Vec<BranchRow>,
    pub users: Vec<UserRow>,
    pub boarding_houses: Vec<BoardingHouseRow>,
    pub workers: Vec<WorkerRow>,
    pub loan_products: Vec<LoanProductRow>,
    pub loans: Vec<LoanRow>,
    pub campaigns: Vec<CampaignRow>,
    pub allocations: Vec<AllocationRow>,
    /// Codes of the rows that did not read, whatever their file: rows that
    /// refer to them are not also reported as referring to nothing.
    pub unread: std::collections::HashSet<String>,
    /// A file was not read to its end (its header, a line the CSV reader
    /// could not split, too many errors): what refers to its rows cannot
    /// be judged.
    pub incomplete: bool,
    /// Optional columns a file left out of its header: rows already stored
    /// keep what they hold there (a file of codes and officers moves
    /// workers without erasing their phones); only an empty cell clears.
    pub left_out: std::collections::HashSet<(crate::import::csv::ImportKind, &'static str)>,
}

/// How a branch's quota row of a campaign stands among [`ImportSet::unread`]
/// codes when it did not read: the officers' rows under it are not also
/// told the branch has no quota.
pub fn branch_quota_key(campaign_code: &str, branch_code: &str) -> String {
    format!("{campaign_code} / {branch_code}")
}

impl ImportSet {
    /// Whether the file of `kind` left out its optional `column`.
    pub fn left_out(&self, kind: crate::import::csv::ImportKind, column: &str) -> bool {
        self.left_out
            .iter()
            .any(|(k, c)| *k == kind && *c == column)
    }

    pub fn row_count(&self) -> usize {
        self.branches.len()
            + self.users.len()
            + self.boarding_houses.len()
            + self.workers.len()
            + self.loan_products.len()
            + self.loans.len()
            + self.campaigns.len()
            + self.allocations.len()
    }
}

/// One refused row: which file, line and column, and why, in Vietnamese and English.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RowError {
    pub file: String,
    pub line: u64,
    pub column: String,
    pub message_vi: String,
    pub message_en: String,
    /// The code a "not found" error is about: left out when that code's own
    /// row did not read (its error already says why).
    #[serde(skip)]
    pub refers_to: Option<Box<str>>,
    /// For the line that says errors were left out: how many (0 for an
    /// error of its own).
    #[serde(skip)]
    pub unlisted: usize,
}
