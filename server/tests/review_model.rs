//! A state-machine property test of review and posting: random sequences of
//! record / upload / retry / approve (with exclusions and a cash count) /
//! reject / counter repayment / branch reversal run against the real store
//! and a small model. After every step: no record posts twice, every entry
//! and the whole ledger balance, each loan's balance matches the model and
//! its installments are paid oldest first, and the vault and the officer's
//! shortage account hold exactly the cash counted and the discrepancies.
//! Gift packages are received into the branch's stock now and then; a gift
//! posts only from stock (an approval naming gifts beyond it is refused and
//! then made without them), a reversal that would take more cash out of the
//! vault than it holds is refused, and no vault, cash-in-hand or stock
//! balance is ever below zero.
//!
//! Thousands of sequences on SQLite, and fewer on PostgreSQL (each needs
//! its own database); `SOTAY_MODEL_CASES` overrides the SQLite count.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use chrono::Utc;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sotay_core::domain::money::Dong;
use sotay_core::domain::schedule::{outstanding, InstallmentState};
use sotay_core::wire::{
    GiftHandoutPayload, RecordBody, RepaymentPayload, UploadBatch, UploadOutcome, UploadRecord,
    UploadResponse,
};
use sotay_server::db::{CanonicalBatch, CounterPayment, Db, PayMethod, Reviewer, Scope, Uploader};
use sotay_server::ledger;
use uuid::Uuid;

#[derive(Debug, Clone)]
enum Op {
    Repay {
        loan: usize,
        amount: i64,
    },
    Gift {
        worker: usize,
    },
    Upload,
    Retry,
    Approve {
        pick: usize,
        exclude: u8,
        cash_delta: i64,
    },
    Reject {
        pick: usize,
    },
    Counter {
        loan: usize,
        amount: i64,
        /// Paid into the branch's bank account instead of the vault.
        transfer: bool,
    },
    Reverse {
        pick: usize,
    },
    Stock {
        packages: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0usize..2, 1i64..=80).prop_map(|(loan, k)| Op::Repay { loan, amount: k * 50_000 }),
        1 => (0usize..2).prop_map(|worker| Op::Gift { worker }),
        3 => Just(Op::Upload),
        1 => Just(Op::Retry),
        3 => (any::<usize>(), any::<u8>(), -2i64..=2).prop_map(|(pick, exclude, d)| Op::Approve {
            pick,
            exclude,
            cash_delta: d * 10_000
        }),
        1 => any::<usize>().prop_map(|pick| Op::Reject { pick }),
        1 => (0usize..2, 1i64..=40, any::<bool>()).prop_map(|(loan, k, transfer)| Op::Counter { loan, amount: k * 50_000, transfer }),
        1 => any::<usize>().prop_map(|pick| Op::Reverse { pick }),
        1 => (1i64..=2).prop_map(|packages| Op::Stock { packages }),
    ]
}

/// Ids the fixture fund gives, read once.
#[derive(Clone)]
struct Fixture {
    officer: i64,
    device: Uuid,
    device_code: String,
    supervisor: Reviewer,
    admin: Reviewer,
    loans: [(i64, Uuid, Uuid); 2],
    workers: [Uuid; 2],
    campaign: Uuid,
    campaign_id: i64,
    branch_id: i64,
    gift_value: i64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Repay { loan: usize, amount: i64 },
    Gift { worker: usize },
}

#[derive(Debug)]
struct Batch {
    id: Uuid,
    body: UploadBatch,
    response: UploadResponse,
    /// Accepted records, in order.
    accepted: Vec<(Uuid, Kind)>,
    decided: bool,
}

#[derive(Debug)]
struct Posted {
    entry: i64,
    kind: Kind,
    reversed: bool,
    /// The money went into the branch's bank account, not the vault.
    bank: bool,
}

struct Model {
    fx: Fixture,
    seq: i64,
    receipts: i64,
    outbox: Vec<UploadRecord>,
    kinds: HashMap<Uuid, Kind>,
    batches: Vec<Batch>,
    posted: Vec<Posted>,
    /// Outstanding balance per loan, as the books stand.
    balance: [i64; 2],
    /// Collections accepted and not decided, per loan.
    pending: [i64; 2],
    /// Whether a worker holds a live gift (pending or posted).
    gifted: [bool; 2],
    vault: i64,
    bank: i64,
    over_short: i64,
    repaid: i64,
    gifts_net: i64,
    entries: i64,
    records: i64,
    /// Gift packages in the branch's stock, and all it ever received.
    stock: i64,
    received: i64,
}

async fn scalar_uuid(db: &Db, sql: &str) -> Uuid {
    match db {
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}

async fn exec(db: &Db, sql: &str) {
    match db {
        Db::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()).unwrap(),
        Db::Postgres(p) => sqlx::query(sql).execute(p).await.map(|_| ()).unwrap(),
    }
}

async fn prepare(db: &Db) -> Fixture {
    common::import_fixture(db).await;
    let user =
        |name: &'static str| async move { db.user_auth_by_username(name).await.unwrap().unwrap() };
    let officer = user("canbo.lan").await;
    let sup = user("giamsat.td").await;
    let admin = user("admin").await;
    let device = Uuid::now_v7();
    exec(
        db,
        &format!(
            "INSERT INTO devices (id, user_id, name, code, created_at, last_seen_at)
             VALUES ('{device}', {}, 'model', 'MDL1', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z')",
            officer.id
        ),
    )
    .await;
    let loans = db.loans(Scope::Fund, None, None, 100, 0).await.unwrap();
    let loan = |code: &str| loans.iter().find(|l| l.code == code).unwrap().id;
    let mut ids = Vec::new();
    for code in ["L-001", "L-002"] {
        let uid = scalar_uuid(db, &format!("SELECT uid FROM loans WHERE code = '{code}'")).await;
        let worker = scalar_uuid(
            db,
            &format!("SELECT w.uid FROM loans l JOIN workers w ON w.id = l.worker_id WHERE l.code = '{code}'"),
        )
        .await;
        ids.push((loan(code), uid, worker));
    }
    let reviewer = |u: &sotay_server::db::UserAuth, admin: bool| Reviewer {
        user_id: u.id,
        username: u.username.clone(),
        is_admin: admin,
        branch_id: u.branch_id,
        device_id: None,
        ip: Some("127.0.0.1".into()),
    };
    Fixture {
        officer: officer.id,
        device,
        device_code: "MDL1".into(),
        supervisor: reviewer(&sup, false),
        admin: reviewer(&admin, true),
        loans: [ids[0], ids[1]],
        workers: [
            scalar_uuid(db, "SELECT uid FROM workers WHERE code = 'W-001'").await,
            scalar_uuid(db, "SELECT uid FROM workers WHERE code = 'W-002'").await,
        ],
        campaign: scalar_uuid(db, "SELECT uid FROM campaigns WHERE code = 'TET-2027'").await,
        campaign_id: db
            .campaigns()
            .await
            .unwrap()
            .iter()
            .find(|k| k.code == "TET-2027")
            .unwrap()
            .id,
        branch_id: sup.branch_id.unwrap(),
        gift_value: 500_000,
    }
}

async fn book(db: &Db, loan: i64) -> Vec<InstallmentState> {
    db.installments(loan)
        .await
        .unwrap()
        .into_iter()
        .map(|i| InstallmentState {
            number: i.number as u32,
            due_on: i.due_on,
            principal_due: i.principal_due,
            interest_due: i.interest_due,
            principal_paid: i.principal_paid,
            interest_paid: i.interest_paid,
        })
        .collect()
}

impl Model {
    async fn new(db: &Db, fx: Fixture) -> Model {
        let mut balance = [0; 2];
        for (i, (id, _, _)) in fx.loans.iter().enumerate() {
            balance[i] = outstanding(&book(db, *id).await).total();
        }
        Model {
            fx,
            seq: 0,
            receipts: 0,
            outbox: Vec::new(),
            kinds: HashMap::new(),
            batches: Vec::new(),
            posted: Vec::new(),
            balance,
            pending: [0; 2],
            gifted: [false; 2],
            vault: 0,
            bank: 0,
            over_short: 0,
            repaid: 0,
            gifts_net: 0,
            // The imported loans' opening entries.
            entries: db.count("journal_entries").await.unwrap(),
            records: 0,
            stock: 0,
            received: 0,
        }
    }

    fn uploader(&self) -> Uploader {
        Uploader {
            officer_id: self.fx.officer,
            username: "canbo.lan".into(),
            device_id: self.fx.device.to_string(),
            device_code: self.fx.device_code.clone(),
            device_revoked: false,
            ip: None,
        }
    }

    fn record(&mut self, kind: Kind) {
        self.seq += 1;
        let body = match kind {
            Kind::Repay { loan, amount } => {
                self.receipts += 1;
                RecordBody::Repayment(RepaymentPayload {
                    loan_id: self.fx.loans[loan].1,
                    worker_id: self.fx.loans[loan].2,
                    amount: Dong(amount),
                    receipt_no: sotay_core::domain::rules::receipt_number(
                        &self.fx.device_code,
                        self.receipts,
                    ),
                })
            }
            Kind::Gift { worker } => RecordBody::GiftHandout(GiftHandoutPayload {
                campaign_id: self.fx.campaign,
                worker_id: self.fx.workers[worker],
                acknowledged_name: "Người nhận".into(),
                signature_sha256: None,
            }),
        };
        let r = UploadRecord {
            client_id: Uuid::now_v7(),
            device_id: self.fx.device,
            device_seq: self.seq,
            recorded_at: Utc::now(),
            body,
        };
        self.kinds.insert(r.client_id, kind);
        self.outbox.push(r);
    }

    async fn upload(&mut self, db: &Db) {
        if self.outbox.is_empty() {
            return;
        }
        let batch = UploadBatch {
            batch_id: Uuid::now_v7(),
            device_id: self.fx.device,
            records: std::mem::take(&mut self.outbox),
            approved_before: Vec::new(),
        };
        let response = db
            .upload(
                &self.uploader(),
                &CanonicalBatch::new(batch.clone()).unwrap(),
            )
            .await
            .unwrap();
        let mut accepted = Vec::new();
        for (r, result) in batch.records.iter().zip(&response.results) {
            let kind = self.kinds[&r.client_id];
            // What the rules must have said.
            let fits = match kind {
                Kind::Repay { loan, amount } => amount <= self.balance[loan] - self.pending[loan],
                Kind::Gift { worker } => !self.gifted[worker],
            };
            assert_eq!(
                result.outcome == UploadOutcome::Accepted,
                fits,
                "{kind:?} balance {:?} pending {:?} gifted {:?}: {result:?}",
                self.balance,
                self.pending,
                self.gifted
            );
            self.records += 1;
            if fits {
                match kind {
                    Kind::Repay { loan, amount } => self.pending[loan] += amount,
                    Kind::Gift { worker } => self.gifted[worker] = true,
                }
                accepted.push((r.client_id, kind));
            }
        }
        self.batches.push(Batch {
            id: batch.batch_id,
            body: batch,
            response,
            accepted,
            decided: false,
        });
    }

    async fn retry(&mut self, db: &Db) {
        let Some(last) = self.batches.last() else {
            return;
        };
        let again = db
            .upload(
                &self.uploader(),
                &CanonicalBatch::new(last.body.clone()).unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(
            again, last.response,
            "a replayed batch gets its stored answer"
        );
        // The same records in a new batch: duplicates or the same refusals.
        let fresh = UploadBatch {
            batch_id: Uuid::now_v7(),
            ..last.body.clone()
        };
        let dup = db
            .upload(
                &self.uploader(),
                &CanonicalBatch::new(fresh.clone()).unwrap(),
            )
            .await
            .unwrap();
        for (d, first) in dup.results.iter().zip(&last.response.results) {
            match first.outcome {
                UploadOutcome::Accepted => assert_eq!(d.outcome, UploadOutcome::Duplicate),
                _ => assert_eq!((d.outcome, &d.code), (first.outcome, &first.code)),
            }
        }
    }

    fn open_batches(&self) -> Vec<usize> {
        (0..self.batches.len())
            .filter(|&i| !self.batches[i].decided && !self.batches[i].accepted.is_empty())
            .collect()
    }

    async fn approve(&mut self, db: &Db, pick: usize, exclude: u8, cash_delta: i64) {
        let open = self.open_batches();
        if open.is_empty() {
            return;
        }
        let i = open[pick % open.len()];
        let records = self.batches[i].accepted.clone();
        let mut excluded = Vec::new();
        let mut expected = 0;
        let mut posted = Vec::new();
        for (n, (id, kind)) in records.iter().enumerate() {
            if n < 8 && exclude & (1 << n) != 0 {
                excluded.push((*id, "Không khớp tiền".to_string()));
                continue;
            }
            posted.push(*kind);
            if let Kind::Repay { amount, .. } = kind {
                expected += amount;
            }
        }
        let cash = (expected + cash_delta).max(0);
        // Gifts beyond the stock cannot post: the approval names them, and
        // the supervisor approves again without them.
        let mut left = self.stock;
        let mut beyond = Vec::new();
        for (id, kind) in &records {
            if matches!(kind, Kind::Gift { .. }) && !excluded.iter().any(|e| e.0 == *id) {
                if left > 0 {
                    left -= 1;
                } else {
                    beyond.push(*id);
                }
            }
        }
        if !beyond.is_empty() {
            let refused = db
                .approve_batch(
                    &self.fx.supervisor,
                    self.batches[i].id,
                    cash,
                    &excluded,
                    None,
                    &Default::default(),
                )
                .await;
            match refused {
                Err(sotay_server::db::DbError::Refused(ref r)) if r.code == "posting_refused" => {
                    assert_eq!(r.records, beyond, "the gifts beyond the stock: {}", r.en);
                    // Each named as the supervisor knows it.
                    assert_eq!(r.en.matches("Gift of ").count(), beyond.len(), "{}", r.en);
                }
                other => panic!("gifts beyond the stock must be refused: {other:?}"),
            }
            excluded.extend(
                beyond
                    .iter()
                    .map(|id| (*id, "Hết quà trong kho".to_string())),
            );
            posted = records
                .iter()
                .filter(|(id, _)| !excluded.iter().any(|e| e.0 == *id))
                .map(|(_, k)| *k)
                .collect();
        }
        let outcome = db
            .approve_batch(
                &self.fx.supervisor,
                self.batches[i].id,
                cash,
                &excluded,
                None,
                &Default::default(),
            )
            .await
            .expect("an accepted batch posts once what cannot post is excluded");
        assert_eq!(outcome.cash_expected, expected);
        assert_eq!(outcome.cash_received - outcome.discrepancy, expected);
        // Twice: refused.
        let again = db
            .approve_batch(
                &self.fx.supervisor,
                self.batches[i].id,
                cash,
                &[],
                None,
                &Default::default(),
            )
            .await;
        assert!(
            matches!(again, Err(sotay_server::db::DbError::Refused(ref r)) if r.code == "batch_already_decided")
        );
        self.batches[i].decided = true;
        let excluded_ids: Vec<Uuid> = excluded.iter().map(|e| e.0).collect();
        let first_entry = self.entries + 1;
        for (id, kind) in &records {
            let was_excluded = excluded_ids.contains(id);
            match *kind {
                Kind::Repay { loan, amount } => {
                    self.pending[loan] -= amount;
                    if !was_excluded {
                        self.balance[loan] -= amount;
                        self.repaid += amount;
                    }
                }
                Kind::Gift { worker } => {
                    if was_excluded {
                        self.gifted[worker] = false;
                    } else {
                        self.gifts_net += self.fx.gift_value;
                        self.stock -= 1;
                    }
                }
            }
        }
        for (n, kind) in posted.iter().enumerate() {
            self.posted.push(Posted {
                entry: first_entry + n as i64,
                kind: *kind,
                reversed: false,
                bank: false,
            });
        }
        self.entries += posted.len() as i64 + i64::from(expected > 0 || cash > 0);
        self.vault += cash;
        self.over_short += expected - cash;
    }

    async fn reject(&mut self, db: &Db, pick: usize) {
        let open = self.open_batches();
        if open.is_empty() {
            return;
        }
        let i = open[pick % open.len()];
        db.reject_batch(
            &self.fx.supervisor,
            self.batches[i].id,
            "Thiếu chứng từ",
            &[],
        )
        .await
        .unwrap();
        self.batches[i].decided = true;
        for (_, kind) in self.batches[i].accepted.clone() {
            match kind {
                Kind::Repay { loan, amount } => self.pending[loan] -= amount,
                Kind::Gift { worker } => self.gifted[worker] = false,
            }
        }
    }

    async fn counter(&mut self, db: &Db, loan: usize, amount: i64, transfer: bool) {
        let fits = amount <= self.balance[loan] - self.pending[loan];
        let pay = CounterPayment {
            client_id: Uuid::now_v7(),
            amount,
            note: String::new(),
            method: if transfer {
                PayMethod::Transfer
            } else {
                PayMethod::Cash
            },
            transfer_ref: transfer.then(|| format!("FT{}", self.entries + 1)),
            confirm_payoff: true,
            // The model's payments are each its own.
            confirm_repeat: true,
            settles: None,
        };
        let r = db
            .counter_repayment(&self.fx.supervisor, self.fx.loans[loan].0, &pay)
            .await;
        assert_eq!(r.is_ok(), fits, "counter {amount} on {loan}: {r:?}");
        if let Ok(receipt) = r {
            self.entries += 1;
            assert_eq!(receipt.entry_id, self.entries);
            self.balance[loan] -= amount;
            self.repaid += amount;
            if transfer {
                self.bank += amount;
            } else {
                self.vault += amount;
            }
            self.posted.push(Posted {
                entry: receipt.entry_id,
                kind: Kind::Repay { loan, amount },
                reversed: false,
                bank: transfer,
            });
        }
    }

    async fn reverse(&mut self, db: &Db, pick: usize) {
        let open: Vec<usize> = (0..self.posted.len())
            .filter(|&i| !self.posted[i].reversed)
            .collect();
        if open.is_empty() {
            return;
        }
        let i = open[pick % open.len()];
        let entry = self.posted[i].entry;
        let id = db
            .request_reversal(&self.fx.supervisor, entry, "Ghi nhầm")
            .await
            .unwrap();
        // Whoever asked cannot approve.
        assert!(db
            .decide_reversal(&self.fx.supervisor, id, true, None)
            .await
            .is_err());
        let decided = db.decide_reversal(&self.fx.admin, id, true, None).await;
        // Giving a repayment back takes its money out of the vault (or the
        // bank account it went into): not more than that holds.
        let holds = if self.posted[i].bank {
            self.bank
        } else {
            self.vault
        };
        if let Kind::Repay { amount, .. } = self.posted[i].kind {
            if amount > holds {
                assert!(
                    matches!(decided, Err(sotay_server::db::DbError::Refused(ref r)) if r.code == "balance_negative"),
                    "reversing {amount} with {holds} where it went: {decided:?}",
                );
                db.decide_reversal(&self.fx.admin, id, false, Some("Quỹ không đủ tiền"))
                    .await
                    .unwrap();
                return;
            }
        }
        let reversal = decided.unwrap();
        self.entries += 1;
        assert_eq!(reversal, Some(self.entries));
        self.posted[i].reversed = true;
        match self.posted[i].kind {
            Kind::Repay { loan, amount } => {
                self.balance[loan] += amount;
                self.repaid -= amount;
                if self.posted[i].bank {
                    self.bank -= amount;
                } else {
                    self.vault -= amount;
                }
            }
            Kind::Gift { worker } => {
                self.gifted[worker] = false;
                self.gifts_net -= self.fx.gift_value;
                self.stock += 1;
            }
        }
    }

    async fn receive(&mut self, db: &Db, packages: i64) {
        let receipt = db
            .campaign_receive(
                &self.fx.admin,
                self.fx.campaign_id,
                self.fx.branch_id,
                Uuid::now_v7(),
                packages,
                chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
                "LĐLĐ",
            )
            .await
            .unwrap();
        assert_eq!(receipt.amount, packages * self.fx.gift_value);
        self.entries += 1;
        assert_eq!(receipt.entry_id, Some(self.entries));
        self.stock += packages;
        self.received += packages;
    }

    async fn check(&self, db: &Db) {
        assert!(
            db.ledger_unbalanced().await.unwrap().is_empty(),
            "every entry balances"
        );
        assert_eq!(
            db.ledger_balance_drift().await.unwrap(),
            vec![],
            "the kept balances are the sums of the journal lines"
        );
        assert_eq!(
            db.undecided_drift().await.unwrap(),
            Vec::<i64>::new(),
            "the undecided repayments are the accepted ones without a review"
        );
        assert_eq!(
            db.record_body_drift().await.unwrap(),
            vec![],
            "every record's columns are what its phone sent"
        );
        let rows = db.ledger_balances(None).await.unwrap();
        let net = |account: &str| -> i64 {
            rows.iter()
                .filter(|r| r.account == account)
                .map(|r| r.debit - r.credit)
                .sum()
        };
        let debit: i64 = rows.iter().map(|r| r.debit).sum();
        let credit: i64 = rows.iter().map(|r| r.credit).sum();
        assert_eq!(debit, credit, "the ledger balances");
        assert_eq!(net("vault"), self.vault, "vault");
        assert_eq!(net("bank"), self.bank, "bank account");
        assert_eq!(
            net("cash_over_short"),
            self.over_short,
            "shortages and overages"
        );
        assert_eq!(
            net("cash_in_hand"),
            0,
            "no cash left in the officer's hands after a count"
        );
        assert_eq!(
            net("loan_principal") + net("loan_capital") + net("interest_income"),
            -self.repaid,
            "repaid"
        );
        assert_eq!(
            db.loan_principal_drift().await.unwrap(),
            vec![],
            "each loan's principal in the ledger is what its installments still owe"
        );
        assert_eq!(net("campaign_expense"), self.gifts_net, "gifts");
        assert_eq!(
            net("gift_stock"),
            self.stock * self.fx.gift_value,
            "packages in stock"
        );
        assert_eq!(
            net("campaign_funding"),
            -self.received * self.fx.gift_value,
            "packages received"
        );
        for r in &rows {
            if ["vault", "bank", "cash_in_hand", "gift_stock"].contains(&r.account.as_str()) {
                assert!(r.debit >= r.credit, "{} never below zero: {r:?}", r.account);
            }
        }
        assert_eq!(
            db.count("journal_entries").await.unwrap(),
            self.entries,
            "entries posted once"
        );
        assert_eq!(
            db.count("sync_records").await.unwrap(),
            self.records,
            "records stored once"
        );
        for (i, (id, _, _)) in self.fx.loans.iter().enumerate() {
            let states = book(db, *id).await;
            assert_eq!(outstanding(&states).total(), self.balance[i], "loan {i}");
            assert_eq!(
                states,
                ledger::states_with_paid(&states, ledger::paid(&states)),
                "loan {i} is paid oldest installment first"
            );
        }
    }

    async fn apply(&mut self, db: &Db, op: &Op) {
        match *op {
            Op::Repay { loan, amount } => self.record(Kind::Repay { loan, amount }),
            Op::Gift { worker } => self.record(Kind::Gift { worker }),
            Op::Upload => self.upload(db).await,
            Op::Retry => self.retry(db).await,
            Op::Approve {
                pick,
                exclude,
                cash_delta,
            } => self.approve(db, pick, exclude, cash_delta).await,
            Op::Reject { pick } => self.reject(db, pick).await,
            Op::Counter {
                loan,
                amount,
                transfer,
            } => self.counter(db, loan, amount, transfer).await,
            Op::Reverse { pick } => self.reverse(db, pick).await,
            Op::Stock { packages } => self.receive(db, packages).await,
        }
        self.check(db).await;
    }
}

/// Where each case gets its own copy of a prepared database.
enum Template {
    Sqlite {
        file: PathBuf,
        _dir: tempfile::TempDir,
    },
    Postgres {
        admin: String,
        name: String,
    },
}

impl Template {
    async fn fresh(&self) -> (Db, Option<tempfile::TempDir>, Option<String>) {
        match self {
            Template::Sqlite { file, .. } => {
                let dir = tempfile::tempdir_in(shm()).unwrap();
                let path = dir.path().join("case.db");
                std::fs::copy(file, &path).unwrap();
                (
                    Db::connect(path.to_str().unwrap()).await.unwrap(),
                    Some(dir),
                    None,
                )
            }
            Template::Postgres { admin, name } => {
                let case = format!("sotay_model_{}", Uuid::now_v7().simple());
                admin_exec(admin, &format!("CREATE DATABASE {case} TEMPLATE {name}")).await;
                let base = &admin[..admin.rfind('/').unwrap()];
                (
                    Db::connect(&format!("{base}/{case}")).await.unwrap(),
                    None,
                    Some(case),
                )
            }
        }
    }
}

async fn admin_exec(admin: &str, sql: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin)
        .await
        .expect("the test cluster");
    sqlx::query(sql).execute(&mut conn).await.expect(sql);
    conn.close().await.ok();
}

fn shm() -> PathBuf {
    let p = PathBuf::from("/dev/shm");
    if p.is_dir() {
        p
    } else {
        std::env::temp_dir()
    }
}

fn run(backend: common::Backend, cases: u32) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (template, fx) = rt.block_on(async {
        match backend {
            common::Backend::Sqlite => {
                let dir = tempfile::tempdir_in(shm()).unwrap();
                let work = dir.path().join("work.db");
                let file = dir.path().join("template.db");
                let db = Db::connect(work.to_str().unwrap()).await.unwrap();
                let fx = prepare(&db).await;
                // One self-contained file, whatever is still in the WAL.
                exec(&db, &format!("VACUUM INTO '{}'", file.display())).await;
                db.close().await;
                (Template::Sqlite { file, _dir: dir }, fx)
            }
            common::Backend::Postgres => {
                let admin = std::env::var("SOTAY_TEST_POSTGRES").expect(
                    "SOTAY_TEST_POSTGRES is not set: run `bash scripts/test.sh`, which starts a throwaway cluster",
                );
                let name = format!("sotay_model_tpl_{}", Uuid::now_v7().simple());
                admin_exec(&admin, &format!("CREATE DATABASE {name}")).await;
                let base = &admin[..admin.rfind('/').unwrap()];
                let db = Db::connect(&format!("{base}/{name}")).await.unwrap();
                let fx = prepare(&db).await;
                db.close().await;
                (Template::Postgres { admin, name }, fx)
            }
        }
    });
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let steps = std::sync::atomic::AtomicUsize::new(0);
    let started = std::time::Instant::now();
    let result = runner.run(&proptest::collection::vec(op(), 1..40), |ops| {
        rt.block_on(async {
            let (db, _dir, case) = template.fresh().await;
            let mut model = Model::new(&db, fx.clone()).await;
            for op in &ops {
                model.apply(&db, op).await;
            }
            db.close().await;
            if let (Some(case), Template::Postgres { admin, .. }) = (case, &template) {
                admin_exec(admin, &format!("DROP DATABASE {case} WITH (FORCE)")).await;
            }
        });
        steps.fetch_add(ops.len(), std::sync::atomic::Ordering::Relaxed);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{backend:?}: {e}");
    }
    println!(
        "review model on {backend:?}: {cases} sequences, {} steps, {:.1} s",
        steps.into_inner(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn review_and_posting_follow_the_model_on_sqlite() {
    let cases = std::env::var("SOTAY_MODEL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    run(common::Backend::Sqlite, cases);
}

#[test]
fn review_and_posting_follow_the_model_on_postgres() {
    run(common::Backend::Postgres, 25);
}
