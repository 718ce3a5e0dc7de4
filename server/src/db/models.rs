//! Rows the store reads, shared by both backends.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// What a request may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// An officer: the workers and loans assigned to them.
    Officer(i64),
    /// A supervisor: their branch.
    Branch(i64),
    /// An admin: the whole fund.
    Fund,
}

impl Scope {
    /// (kind, id) as bound into scoped queries: 0 fund, 1 officer, 2 branch.
    pub fn bind(self) -> (i64, i64) {
        match self {
            Scope::Fund => (0, 0),
            Scope::Officer(id) => (1, id),
            Scope::Branch(id) => (2, id),
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserAuth {
    pub id: i64,
    pub username: String,
    pub full_name: String,
    pub role: String,
    pub branch_id: Option<i64>,
    pub password_hash: Option<String>,
    pub active: bool,
    /// Moves on when a password is set; access tokens carry it.
    pub token_version: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct DeviceRow {
    pub id: String,
    pub user_id: i64,
    pub username: String,
    pub user_full_name: String,
    /// The role of the device's user (`officer`, `cashier`, `supervisor`, `admin`).
    pub user_role: String,
    pub branch_id: Option<i64>,
    pub name: String,
    /// Short code printed in this device's receipt numbers.
    pub code: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoke_reason: Option<String>,
    /// Revoked because its account was closed (reopening the account
    /// lifts it), not for itself.
    pub revoked_with_account: bool,
}

impl DeviceRow {
    /// Whether user `user_id`, of `role` at `branch` (None: no branch),
    /// sees and revokes this device: an admin every one, a supervisor their
    /// own and those of their branch's officers and cashiers, not a fellow
    /// supervisor's or an admin's.
    pub fn looked_after_by(
        &self,
        user_id: i64,
        role: crate::import::rows::Role,
        branch: Option<i64>,
    ) -> bool {
        use crate::import::rows::Role;
        match role {
            Role::Admin => true,
            Role::Supervisor => {
                self.user_id == user_id
                    || branch.is_some()
                        && self.branch_id == branch
                        && matches!(
                            Role::parse(&self.user_role),
                            Some(Role::Officer | Role::Cashier)
                        )
            }
            Role::Officer | Role::Cashier => false,
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefreshRow {
    pub id: i64,
    pub family_id: String,
    pub device_id: String,
    pub user_id: i64,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Revoked with its device, still good for an upload-only access token.
    pub for_quarantine: bool,
}

/// What failed sign-ins are counted against.
#[derive(Debug, Clone, Copy)]
pub enum Throttled<'a> {
    Username(&'a str),
    /// A client address (see [`crate::client_addr::throttle_key`]).
    Address(&'a str),
}

impl<'a> Throttled<'a> {
    /// Its table, key column and key.
    pub(crate) fn parts(self) -> (&'static str, &'static str, &'a str) {
        match self {
            Throttled::Username(u) => ("login_throttle", "username", u),
            Throttled::Address(a) => ("login_throttle_addresses", "address", a),
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ThrottleRow {
    pub failures: i64,
    pub window_started_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Branch {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub district: String,
    pub industrial_zone: String,
    pub address: String,
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct UserView {
    pub id: i64,
    pub code: String,
    pub username: String,
    pub full_name: String,
    pub role: String,
    pub branch_id: Option<i64>,
    pub phone: Option<String>,
    pub active: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct WorkerView {
    pub id: i64,
    pub code: String,
    pub full_name: String,
    pub cccd: String,
    pub phone: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub gender: Option<String>,
    pub union_member: bool,
    pub employer: String,
    pub industrial_zone: String,
    pub boarding_house_id: Option<i64>,
    pub boarding_house_name: Option<String>,
    pub boarding_house_address: Option<String>,
    pub room: String,
    pub hardship: bool,
    pub hardship_note: String,
    pub officer_id: i64,
    pub officer_name: String,
    pub branch_id: i64,
    #[serde(skip)]
    pub name_key: String,
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct LoanView {
    pub id: i64,
    pub code: String,
    pub worker_id: i64,
    pub worker_name: String,
    pub product_code: String,
    pub product_name: String,
    /// Whole đồng.
    #[schema(value_type = String)]
    #[serde(serialize_with = "as_string")]
    pub principal: i64,
    /// Yearly interest in basis points (1% = 100).
    pub annual_rate_bp: i64,
    pub method: String,
    pub frequency: String,
    pub installments: i64,
    pub disbursed_on: NaiveDate,
    /// `active`, `closed`, or `cancelled`: paid out in error and taken back.
    pub status: String,
    pub officer_id: i64,
    pub branch_id: i64,
    #[schema(value_type = String)]
    #[serde(serialize_with = "as_string")]
    pub outstanding_principal: i64,
    #[schema(value_type = String)]
    #[serde(serialize_with = "as_string")]
    pub outstanding_interest: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct InstallmentView {
    pub number: i64,
    pub due_on: NaiveDate,
    #[schema(value_type = String)]
    #[serde(serialize_with = "as_string")]
    pub principal_due: i64,
    #[schema(value_type = String)]
    #[serde(serialize_with = "as_string")]
    pub interest_due: i64,
    #[schema(value_type = String)]
    #[serde(serialize_with = "as_string")]
    pub principal_paid: i64,
    #[schema(value_type = String)]
    #[serde(serialize_with = "as_string")]
    pub interest_paid: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct LoanProduct {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub annual_rate_bp: i64,
    pub method: String,
    pub frequency: String,
    pub installments: i64,
    #[schema(value_type = String)]
    #[serde(serialize_with = "as_string")]
    pub min_principal: i64,
    #[schema(value_type = String)]
    #[serde(serialize_with = "as_string")]
    pub max_principal: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Campaign {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    #[schema(value_type = String)]
    #[serde(serialize_with = "as_string")]
    pub gift_value: i64,
    pub target_count: i64,
    pub eligibility: String,
    pub description: String,
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Quota {
    pub campaign_id: i64,
    pub branch_id: Option<i64>,
    pub officer_id: Option<i64>,
    pub quota: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ImportRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub user_id: Option<i64>,
    pub source: String,
    pub files: String,
    pub rows: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
}

/// One line of the audit log to append.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub actor_user_id: Option<i64>,
    pub actor_username: String,
    pub action: &'static str,
    pub object_type: &'static str,
    pub object_id: String,
    pub device_id: Option<String>,
    pub ip: Option<String>,
    pub detail: serde_json::Value,
}

/// What an import did, per kind of row.
#[derive(Debug, Clone, Default, Serialize, ToSchema, PartialEq, Eq)]
pub struct ImportCounts {
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema, PartialEq, Eq)]
pub struct ImportReport {
    pub branches: ImportCounts,
    pub users: ImportCounts,
    pub boarding_houses: ImportCounts,
    pub workers: ImportCounts,
    pub loan_products: ImportCounts,
    pub loans: ImportCounts,
    pub campaigns: ImportCounts,
    pub allocations: ImportCounts,
    /// Workers this import moved to another officer: their phones follow.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reassigned: Vec<Reassignment>,
    /// Users already stored whose row carried a password: it is left as
    /// it was (a password is only set when a user is created; the console's
    /// Users page sets a new one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub passwords_kept: Vec<String>,
    /// Workers already stored that this import changed, with the columns
    /// it changed (the officer apart, in `reassigned`): a file older than
    /// a correction shows here what it takes back. The first 200 only
    /// (`workers.updated` counts them all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workers_changed: Vec<WorkerChanged>,
}

/// A worker an import changed, and which of its columns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct WorkerChanged {
    pub worker_code: String,
    pub columns: Vec<String>,
}

/// A worker moved from one officer to another by an import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Reassignment {
    pub worker_code: String,
    pub worker_name: String,
    /// The officers' codes.
    pub from_officer: String,
    pub to_officer: String,
}

impl ImportReport {
    /// Changed workers listed in a report, at most.
    pub const CHANGES_LISTED: usize = 200;

    pub fn totals(&self) -> ImportCounts {
        let all = [
            &self.branches,
            &self.users,
            &self.boarding_houses,
            &self.workers,
            &self.loan_products,
            &self.loans,
            &self.campaigns,
            &self.allocations,
        ];
        ImportCounts {
            created: all.iter().map(|c| c.created).sum(),
            updated: all.iter().map(|c| c.updated).sum(),
            unchanged: all.iter().map(|c| c.unchanged).sum(),
        }
    }
}

/// Money leaves the API as a JSON string of whole đồng.
pub fn as_string<S: serde::Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// Rows the sync feed is built from.
pub mod sync_rows {
    use chrono::{DateTime, NaiveDate, Utc};
    use uuid::Uuid;

    #[derive(Debug, Clone, sqlx::FromRow)]
    pub struct Officer {
        pub uid: Uuid,
        pub code: String,
        pub full_name: String,
        pub branch_uid: Uuid,
        pub branch_name: String,
        /// Over/short balance at the branch (positive: owed to it).
        pub cash_short: i64,
        /// Of the officer's shortages at the branch, what the fund bore
        /// (written off, not reversed).
        pub short_written_off: i64,
        /// Of the officer's overages, what the fund kept as its income.
        pub over_written_off: i64,
    }

    #[derive(Debug, Clone, sqlx::FromRow)]
    pub struct Worker {
        pub id: i64,
        pub uid: Uuid,
        pub full_name: String,
        pub phone: Option<String>,
        pub cccd: String,
        pub boarding_house_id: Option<i64>,
        pub house_uid: Option<Uuid>,
        pub room: String,
        pub employer: String,
        pub union_member: bool,
        pub hardship: bool,
        pub officer_id: i64,
        pub code: String,
    }

    #[derive(Debug, Clone, sqlx::FromRow)]
    pub struct House {
        pub id: i64,
        pub uid: Uuid,
        pub name: String,
        pub address: String,
        pub industrial_zone: String,
        pub landlord_name: String,
        pub landlord_phone: Option<String>,
    }

    #[derive(Debug, Clone, sqlx::FromRow)]
    pub struct Loan {
        pub id: i64,
        pub uid: Uuid,
        pub worker_uid: Uuid,
        pub code: String,
        pub product_name: String,
        pub principal: i64,
        pub annual_rate_bp: i64,
        pub method: String,
        pub frequency: String,
        /// Number of installments.
        pub installments: i64,
        pub disbursed_on: NaiveDate,
        pub status: String,
        /// Paid out in error and taken back: the phone drops it.
        pub cancelled: bool,
    }

    #[derive(Debug, Clone, sqlx::FromRow)]
    pub struct Installment {
        pub loan_id: i64,
        pub number: i64,
        pub due_on: NaiveDate,
        pub principal_due: i64,
        pub interest_due: i64,
        pub principal_paid: i64,
        pub interest_paid: i64,
    }

    #[derive(Debug, Clone, sqlx::FromRow)]
    pub struct Campaign {
        pub id: i64,
        pub uid: Uuid,
        pub name: String,
        pub kind: String,
        pub eligibility: String,
        pub gift_value: i64,
        pub starts_on: NaiveDate,
        pub ends_on: NaiveDate,
        pub officer_quota: i64,
        pub handed_out: i64,
    }

    #[derive(Debug, Clone, sqlx::FromRow)]
    pub struct Recipient {
        pub campaign_id: i64,
        pub worker_uid: Uuid,
    }

    #[derive(Debug, Clone, sqlx::FromRow)]
    pub struct RecordStatus {
        pub client_id: Uuid,
        pub status: String,
        pub code: Option<String>,
        pub message_vi: Option<String>,
        pub message_en: Option<String>,
        pub received_at: DateTime<Utc>,
        /// The supervisor's decision on it: approved, excluded or rejected.
        pub decision: Option<String>,
        pub decision_reason: Option<String>,
        pub decided_at: Option<DateTime<Utc>>,
        /// When an approved reversal took its posting back.
        pub reversed_at: Option<DateTime<Utc>>,
        /// Why, when the reversal was entered at the branch.
        pub reversal_reason: Option<String>,
        /// The loan it pays, or the loan of the record it voids or asks to
        /// reverse.
        pub loan_id: Option<i64>,
        /// What the branch did with a refused record's cash or package.
        pub settled_note: Option<String>,
        pub settled_at: Option<DateTime<Utc>>,
        /// A refused gift settled as handed out for real (1), or not (0).
        #[sqlx(default)]
        pub settled_handed_out: Option<i32>,
        /// A repayment's loan (its uid, as the phones know it) and amount.
        pub repaid_loan: Option<Uuid>,
        pub repaid_amount: Option<i64>,
        /// A repayment refused at upload, its columns empty: its body.
        #[sqlx(default)]
        pub refused_body: Option<String>,
    }

    /// A receipt another officer took on a loan now this officer's (taken
    /// before its worker moved), waiting for review: the loan owes that
    /// much less once it is approved.
    #[derive(Debug, Clone, sqlx::FromRow)]
    pub struct WaitingReceipt {
        pub loan_id: i64,
        pub client_id: Uuid,
        pub amount: i64,
        pub receipt_no: Option<String>,
    }

    /// The cash a supervisor counted for one of the officer's approved
    /// batches, and what its approved repayments came to.
    #[derive(Debug, Clone, sqlx::FromRow)]
    pub struct CashCount {
        pub batch_id: Uuid,
        pub decided_at: DateTime<Utc>,
        pub cash_expected: i64,
        pub cash_received: i64,
    }

    /// Which rows to read; `None` reads every row of the officer's portfolio.
    #[derive(Debug, Clone, Default)]
    pub struct Filter {
        pub workers: Option<Vec<i64>>,
        pub loans: Option<Vec<i64>>,
        pub houses: Option<Vec<i64>>,
        pub campaigns: Option<Vec<i64>>,
        pub records: Option<Vec<i64>>,
        /// Batches by their first record's id: all of their records.
        pub batches: Option<Vec<i64>>,
    }

    /// The rows of a snapshot or a change page.
    #[derive(Debug, Clone, Default)]
    pub struct Portfolio {
        pub officer: Option<Officer>,
        pub workers: Vec<Worker>,
        /// Workers that changed but are no longer this officer's.
        pub removed_workers: Vec<Uuid>,
        /// Loans that changed by being taken back (cancelled).
        pub removed_loans: Vec<Uuid>,
        pub houses: Vec<House>,
        pub loans: Vec<Loan>,
        pub installments: Vec<Installment>,
        /// Other officers' receipts waiting for review on these loans.
        pub waiting: Vec<WaitingReceipt>,
        pub campaigns: Vec<Campaign>,
        pub recipients: Vec<Recipient>,
        pub records: Vec<RecordStatus>,
        pub counts: Vec<CashCount>,
        /// The cursor after these rows: the latest sync epoch's tag and a
        /// change sequence.
        pub epoch: String,
        pub next: i64,
        pub has_more: bool,
    }
}
