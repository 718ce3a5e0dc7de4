//! Recording facts offline. Each fact is checked against the shared rules
//! ([`crate::domain::rules`]), gets a client UUID v7 and the next device
//! sequence, and is written with its upload envelope in one durable
//! transaction. A refusal writes nothing.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db::{
    booked_states, day_str, dong, from_millis, next_counter, officer, parse_day, parse_uuid, Store,
};
use crate::domain::gifts::{signature_media_type, CampaignKind, Eligibility, WorkerFacts};
use crate::domain::money::{decimal_to_dong, format_vnd, AmountRule, Dong};
use crate::domain::rules::{
    check_gift, check_repayment, check_text_length, receipt_number, states_after, CampaignFacts,
    LoanStatus, RuleViolation,
};
use crate::domain::schedule::{outstanding, Allocation, InstallmentState};
use crate::domain::text::clean;
use crate::domain::time::{format_datetime, local_date};
use crate::error::{Error, Result};
use crate::types::{
    AllocationPart, CorrectionInput, GiftInput, RecordedFact, RepaymentInput, RepaymentReceipt,
    VisitInput,
};
use crate::wire::{
    GiftHandoutPayload, RecordBody, RecordKind, RepaymentPayload, ReversalRequestPayload,
    UploadRecord, VisitPayload, VoidPayload,
};

pub use crate::domain::gifts::MAX_SIGNATURE_BYTES;

/// Client ids of this device's records cancelled by a void the server has
/// not rejected. A void kept in quarantine (the phone revoked) still
/// cancels a record kept there too, as the server counts it; not one the
/// server took in before (that one is live there). A void rejected with
/// its batch still cancels a record the server took in that same batch
/// (a batch it answered, the record rejected with it), as the server
/// counts it.
pub(crate) const VOIDED: &str = "SELECT v.target_id FROM voids v JOIN record_states vs ON vs.client_id = v.client_id
    WHERE vs.state <> 'rejected'
       OR (vs.code = 'device_revoked' AND EXISTS (SELECT 1 FROM record_states ts
           WHERE ts.client_id = v.target_id AND ts.state = 'rejected' AND ts.code = 'device_revoked'))
       OR (vs.code = 'batch_rejected' AND EXISTS (SELECT 1 FROM upload_batch_records bv
           JOIN upload_batch_records bt ON bt.batch_seq = bv.batch_seq
           JOIN upload_batches b ON b.seq = bv.batch_seq AND b.state = 'done'
           JOIN record_states ts ON ts.client_id = bt.client_id
           WHERE bv.client_id = v.client_id AND bt.client_id = v.target_id
             AND ts.state = 'rejected' AND ts.code = 'batch_rejected'))";

fn check_time(at: DateTime<Utc>) -> Result<()> {
    if at > Utc::now() + Duration::minutes(10) {
        return Err(Error::invalid(
            "recorded_at",
            format!(
                "Thời điểm ghi {} ở sau lúc này ({}): hãy ghi đúng ngày giờ đã xảy ra (hoặc kiểm tra đồng hồ điện thoại)",
                format_datetime(at),
                format_datetime(Utc::now())
            ),
            format!(
                "the record's time {} is after now ({}): give the day and time it happened (or check the phone's clock)",
                format_datetime(at),
                format_datetime(Utc::now())
            ),
        ));
    }
    Ok(())
}

/// What to do with a record set aside after failing to send, to correct
/// it: put it back in the queue first (then void it, before the next sync,
/// or request its reversal once the server took it).
fn wedged_hint(seq: i64) -> (String, String) {
    (
        format!(
            "Bản ghi #{seq} đang tạm gác vì gửi lỗi: hãy đưa các bản ghi tạm gác trở lại hàng chờ (Gửi lại) rồi hủy bản ghi này trước lần đồng bộ sau; nếu đã đồng bộ được thì lập đề nghị đảo"
        ),
        format!(
            "record #{seq} is set aside after failing to send: put the records set aside back in the queue (Retry), then void it before the next sync; once it is synced, request its reversal instead"
        ),
    )
}

/// What to say to a void or a reversal asked of a record the server
/// refused (at upload or at review): nothing of it is on the books, so
/// there is nothing to correct; what is left is its cash or package, unless
/// the branch settled it.
fn refused_hint(tx: &Connection, id: &str, t: &TargetRow) -> Result<(String, String)> {
    let seq = t.device_seq;
    // Held from a revoked phone, not refused.
    let held = tx
        .query_row(
            "SELECT code FROM record_states WHERE client_id = ?1",
            [id],
            |r| r.get::<_, Option<String>>(0),
        )
        .optional()?
        .flatten()
        .is_some_and(|c| c == "device_revoked");
    let (how_vi, how_en) = if held {
        (
            "bị giữ lại (điện thoại đã bị thu hồi)",
            "held (the phone was revoked)",
        )
    } else {
        ("bị từ chối", "refused")
    };
    let settled: Option<String> = tx
        .query_row(
            "SELECT note FROM record_settlements WHERE client_id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    let (then_vi, then_en) = match (settled, t.kind) {
        (Some(note), _) => (
            format!("chi nhánh đã xử lý ({note}), không cần làm gì thêm"),
            format!("the branch settled it ({note}), nothing more to do"),
        ),
        (None, RecordKind::Repayment) => (
            "tiền của phiếu này hãy mang tới chi nhánh hoặc làm theo hướng dẫn của giám sát (nếu người lao động vẫn trả khoản này, ghi phiếu mới)".to_string(),
            "bring its cash to the branch or do as the supervisor says (if the worker still pays it, record a new receipt)".to_string(),
        ),
        (None, RecordKind::GiftHandout) => (
            "gói quà đã trao (nếu có) hãy báo giám sát để xử lý".to_string(),
            "tell the supervisor of a package already handed over".to_string(),
        ),
        (None, _) => (
            "không cần làm gì thêm".to_string(),
            "nothing more to do".to_string(),
        ),
    };
    Ok((
        format!("Bản ghi #{seq} đã {how_vi} nên không vào sổ: không có gì để hủy hay đảo; {then_vi}"),
        format!("record #{seq} was {how_en}, so nothing of it is on the books: there is nothing to void or reverse; {then_en}"),
    ))
}

fn required_text(field: &str, label_vi: &str, v: &str) -> Result<String> {
    let c = clean(v);
    if c.is_empty() {
        return Err(Error::invalid(
            field,
            format!("{label_vi}: không được để trống"),
            format!("{field}: must not be empty"),
        ));
    }
    Ok(c)
}

pub(crate) struct WorkerRow {
    pub name: String,
    pub facts: WorkerFacts,
}

pub(crate) fn worker_row(conn: &Connection, id: &str) -> Result<Option<WorkerRow>> {
    Ok(conn
        .query_row(
            "SELECT full_name, union_member, hardship, boarding_house_id IS NOT NULL FROM workers WHERE id = ?1",
            [id],
            |r| {
                Ok(WorkerRow {
                    name: r.get(0)?,
                    facts: WorkerFacts {
                        union_member: r.get(1)?,
                        hardship: r.get(2)?,
                        lives_in_boarding_house: r.get(3)?,
                    },
                })
            },
        )
        .optional()?)
}

pub(crate) struct LoanRow {
    pub worker_id: String,
    pub contract_no: String,
    pub status: LoanStatus,
    pub disbursed_on: chrono::NaiveDate,
}

pub(crate) fn loan_row(conn: &Connection, id: &str) -> Result<Option<LoanRow>> {
    conn.query_row(
        "SELECT worker_id, contract_no, status, disbursed_on FROM loans WHERE id = ?1",
        [id],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        },
    )
    .optional()?
    .map(|(worker_id, contract_no, status, disbursed_on)| {
        Ok(LoanRow {
            worker_id,
            contract_no,
            status: LoanStatus::parse(&status)
                .ok_or_else(|| Error::Corrupt(format!("loan status {status:?}")))?,
            disbursed_on: crate::db::parse_day(&disbursed_on)?,
        })
    })
    .transpose()
}

/// SQL: the targets of this device's reversal requests not decided yet
/// (waiting to be sent, or for approval): a receipt they name is taken
/// back, as the books will have it once both are approved. One set aside
/// after failing to send is not: the server has not got it.
pub(crate) const REVERSAL_ASKED: &str = "SELECT v.target_id FROM reversal_requests v
    JOIN record_states vs ON vs.client_id = v.client_id WHERE vs.state IN ('pending', 'accepted')";

/// Repayments on a loan that the books do not hold yet: first those of
/// the officer's other phones the server took in and that wait for review
/// (as their statuses came down), then this device's (waiting for the
/// server or for approval), not voided, not taken back by a reversal
/// request at the server, in recording order.
pub(crate) fn unbooked_repayments(conn: &Connection, loan_id: &str) -> Result<Vec<Unbooked>> {
    // Another officer's, taken before the worker moved here: first, as
    // they were taken first.
    let mut elsewhere = conn.prepare_cached(
        // Client ids are UUIDv7: in the order they were made.
        "SELECT amount, receipt_no FROM waiting_elsewhere WHERE loan_id = ?1 ORDER BY client_id",
    )?;
    let before = elsewhere
        .query_map([loan_id], |r| {
            Ok(Unbooked {
                amount: r.get(0)?,
                receipt_no: r.get(1)?,
                whose: Whose::OtherOfficer,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut others = conn.prepare_cached(
        "SELECT amount FROM other_receipts WHERE loan_id = ?1 AND state = 'accepted' ORDER BY client_id",
    )?;
    let mut v = others
        .query_map([loan_id], |r| {
            Ok(Unbooked {
                amount: r.get(0)?,
                receipt_no: None,
                whose: Whose::OtherPhone,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut st = conn.prepare_cached(&format!(
        "SELECT r.amount, r.receipt_no FROM repayments r
         JOIN record_states s ON s.client_id = r.client_id
         JOIN outbox o ON o.client_id = r.client_id
         WHERE r.loan_id = ?1 AND s.state IN ('pending', 'accepted', 'wedged')
           AND r.client_id NOT IN ({VOIDED})
           AND r.client_id NOT IN ({REVERSAL_ASKED} AND v.client_id NOT IN ({VOIDED}))
         ORDER BY o.device_seq"
    ))?;
    let mine = st.query_map([loan_id], |r| {
        Ok(Unbooked {
            amount: r.get(0)?,
            receipt_no: Some(r.get(1)?),
            whose: Whose::Mine,
        })
    })?;
    for u in mine {
        v.push(u?);
    }
    Ok(before.into_iter().chain(v).collect())
}

/// A repayment the books do not hold yet (see [`unbooked_repayments`]).
#[derive(Debug, Clone)]
pub(crate) struct Unbooked {
    pub amount: i64,
    /// Its receipt's number: `None` for one of the officer's other phones.
    pub receipt_no: Option<String>,
    pub whose: Whose,
}

/// Who took a receipt waiting for review, and so holds its cash.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Whose {
    /// This phone.
    Mine,
    /// The officer, on another of her phones.
    OtherPhone,
    /// The worker's officer before they moved to this one.
    OtherOfficer,
}

/// A loan's books as they will be once what waits for review is approved.
pub(crate) struct Effective {
    pub states: Vec<InstallmentState>,
    /// What the repayments waiting for review take from the loan.
    pub applied: i64,
    /// Repayments waiting for review that no longer fit what the loan owes
    /// (the books moved under them: a reversal turned down, a payment at
    /// the counter): they will not post, and their cash goes back.
    pub stuck: Vec<Unbooked>,
}

/// This device's booked repayments on a loan that a reversal request of
/// this device, not decided yet (waiting to be sent or for approval; not
/// one set aside after failing to send), not voided, takes back: what they
/// took in, in recording order.
pub(crate) fn reversals_unbooked(conn: &Connection, loan_id: &str) -> Result<Vec<i64>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT r.amount FROM reversal_requests v
         JOIN record_states vs ON vs.client_id = v.client_id
         JOIN repayments r ON r.client_id = v.target_id
         JOIN record_states ts ON ts.client_id = r.client_id
         JOIN outbox o ON o.client_id = v.client_id
         WHERE r.loan_id = ?1 AND vs.state IN ('pending', 'accepted') AND ts.state = 'approved'
           AND v.client_id NOT IN ({VOIDED})
         ORDER BY o.device_seq"
    ))?;
    let v = st
        .query_map([loan_id], |r| r.get(0))?
        .collect::<Result<Vec<i64>, _>>()?;
    Ok(v)
}

/// A loan's installments with this device's undecided reversal requests
/// taken back and its unbooked repayments applied (as the books will be
/// once they are approved). When the books moved under them (a
/// server-side correction), those that no longer fit are left out rather
/// than failing.
pub(crate) fn effective_states(conn: &Connection, loan_id: &str) -> Result<Effective> {
    let mut states = booked_states(conn, loan_id)?;
    for amount in reversals_unbooked(conn, loan_id)? {
        if let Some(u) = crate::domain::schedule::unwind(&states, amount) {
            states = u.states;
        }
    }
    Ok(apply_unbooked(states, unbooked_repayments(conn, loan_id)?))
}

/// A repayment refused because an earlier one waiting for review no longer
/// fits what the loan owes (`owed`): the loan takes nothing more until the
/// supervisor has left that one out (the server would refuse it too).
fn stuck_receipt(u: &Unbooked, owed: i64) -> Error {
    let n = u.receipt_no.as_deref().unwrap_or("");
    if u.whose == Whose::OtherOfficer {
        // Its cash is with that officer, not with this one.
        return Error::conflict(
            "receipt_waiting_over_balance",
            format!(
                "Phiếu {n} ({}) của cán bộ phụ trách người này trước đây đang chờ duyệt nhưng vượt số khoản vay còn phải trả ({}), vì sổ sách đã thay đổi: phiếu đó sẽ không được ghi sổ, và tiền của nó ở cán bộ kia. Báo giám sát chi nhánh; chưa thu thêm trên khoản vay này",
                format_vnd(u.amount),
                format_vnd(owed)
            ),
            format!(
                "receipt {n} ({}) of the worker's previous officer waits for review but is above what the loan still owes ({}), as the books changed under it: it will not post, and its cash is with that officer. Tell the branch supervisor; collect nothing more on this loan yet",
                format_vnd(u.amount),
                format_vnd(owed)
            ),
        );
    }
    let (which_vi, which_en) = match u.whose {
        Whose::Mine => (format!("Phiếu {n}"), format!("receipt {n}")),
        _ => (
            "Một phiếu trên máy khác của bạn".to_string(),
            "a receipt on your other phone".to_string(),
        ),
    };
    Error::conflict(
        "receipt_waiting_over_balance",
        format!(
            "{which_vi} ({}) đang chờ duyệt nhưng vượt số khoản vay còn phải trả ({}), vì sổ sách đã thay đổi (đề nghị đảo bị từ chối, hay khoản trả tại chi nhánh): phiếu đó sẽ không được ghi sổ. Báo giám sát chi nhánh loại nó khi duyệt và trả lại tiền cho người vay; chưa thu thêm trên khoản vay này",
            format_vnd(u.amount),
            format_vnd(owed)
        ),
        format!(
            "{which_en} ({}) waits for review but is above what the loan still owes ({}), as the books changed under it (a reversal turned down, a payment at the branch): it will not post. Ask the branch supervisor to leave it out and give its cash back to the borrower; collect nothing more on this loan yet",
            format_vnd(u.amount),
            format_vnd(owed)
        ),
    )
}

/// `states` with the repayments waiting for review applied, in order; those
/// that no longer fit are left out, and named.
fn apply_unbooked(mut states: Vec<InstallmentState>, earlier: Vec<Unbooked>) -> Effective {
    let mut applied = 0;
    let mut stuck = Vec::new();
    for u in earlier {
        match states_after(&states, &[u.amount]) {
            Ok(next) => {
                states = next;
                applied += u.amount;
            }
            Err(_) => stuck.push(u),
        }
    }
    Effective {
        states,
        applied,
        stuck,
    }
}

/// Writes the upload envelope and the pending state of a new fact.
fn insert_outbox(
    tx: &Transaction,
    store: &Store,
    client_id: Uuid,
    device_seq: i64,
    recorded_at: DateTime<Utc>,
    body: RecordBody,
    summary: &str,
) -> Result<()> {
    let kind = body.kind();
    let envelope = UploadRecord {
        client_id,
        device_id: store.device_id(),
        device_seq,
        recorded_at,
        body,
    };
    let json = serde_json::to_string(&envelope).map_err(|source| Error::Json {
        context: "envelope",
        source,
    })?;
    tx.execute(
        "INSERT INTO outbox (client_id, device_seq, kind, recorded_at, local_day, summary, envelope)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            client_id.to_string(),
            device_seq,
            kind.as_str(),
            recorded_at.timestamp_millis(),
            day_str(local_date(recorded_at)),
            summary,
            json
        ],
    )?;
    tx.execute(
        "INSERT INTO record_states (client_id, state, updated_at) VALUES (?1, 'pending', ?2)",
        params![client_id.to_string(), Utc::now().timestamp_millis()],
    )?;
    Ok(())
}

fn receipt_texts(
    receipt_no: &str,
    worker: &str,
    contract: &str,
    amount: i64,
    a: &Allocation,
    at: DateTime<Utc>,
    others_waiting: bool,
) -> (String, String) {
    let balance = a.remaining.total();
    let when = format_datetime(at);
    // Paid in full by this receipt with others waiting for review: only
    // once they are approved (one turned down leaves the loan owing).
    let (paid_vi, paid_en) = match (balance, others_waiting) {
        (0, false) => (" Khoản vay đã trả đủ.", " The loan is paid in full."),
        (0, true) => (
            " Khoản vay trả đủ khi các phiếu thu đang chờ duyệt được duyệt.",
            " The loan is paid in full once the receipts waiting for review are approved.",
        ),
        _ => ("", ""),
    };
    let vi = format!(
        "PHIẾU THU số {receipt_no}, {worker} đã nộp, Quỹ đã nhận {} trả nợ hợp đồng {contract} (lãi {}, gốc {}) ngày {when}, còn phải trả {} (dư nợ gốc {}).{paid_vi}",
        format_vnd(amount),
        format_vnd(a.interest),
        format_vnd(a.principal),
        format_vnd(balance),
        format_vnd(a.remaining.principal),
    );
    let en = format!(
        "RECEIPT no. {receipt_no}: {worker} paid {} on loan {contract} (interest {}, principal {}) on {when}; left to pay {} (principal {}).{paid_en}",
        format_vnd(amount),
        format_vnd(a.interest),
        format_vnd(a.principal),
        format_vnd(balance),
        format_vnd(a.remaining.principal),
    );
    (vi, en)
}

impl Store {
    pub fn record_visit(&self, input: &VisitInput) -> Result<RecordedFact> {
        check_time(input.recorded_at)?;
        let outcome = required_text("outcome", "Kết quả", &input.outcome)?;
        let notes = clean(&input.notes);
        check_text_length("outcome", &outcome)?;
        check_text_length("notes", &notes)?;
        if let Some(p) = &input.location {
            let ok = p.latitude.is_finite()
                && p.longitude.is_finite()
                && (-90.0..=90.0).contains(&p.latitude)
                && (-180.0..=180.0).contains(&p.longitude)
                && p.accuracy_m.is_none_or(|a| a.is_finite() && a >= 0.0);
            if !ok {
                return Err(Error::invalid(
                    "location",
                    "Tọa độ GPS không hợp lệ: vĩ độ trong khoảng ±90, kinh độ trong khoảng ±180, độ chính xác không âm (TP.HCM: vĩ độ ~10.8, kinh độ ~106.7)",
                    "location: latitude must be within ±90, longitude within ±180, accuracy ≥ 0",
                ));
            }
        }
        let worker_id = input.worker_id.to_string();
        self.write_durable(|tx| {
            let worker = worker_row(tx, &worker_id)?.ok_or(RuleViolation::WorkerNotInPortfolio)?;
            let seq = next_counter(tx, "device_seq")?;
            let client_id = Uuid::now_v7();
            let summary = format!(
                "Thăm hỏi ({}) — {}",
                input.purpose.label_vi(),
                worker.name
            );
            insert_outbox(
                tx,
                self,
                client_id,
                seq,
                input.recorded_at,
                RecordBody::Visit(VisitPayload {
                    worker_id: input.worker_id,
                    purpose: input.purpose,
                    outcome: outcome.clone(),
                    notes: notes.clone(),
                    location: input.location,
                }),
                &summary,
            )?;
            tx.execute(
                "INSERT INTO visits (client_id, worker_id, purpose, outcome, notes, latitude, longitude, accuracy_m, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    client_id.to_string(),
                    worker_id,
                    input.purpose.as_str(),
                    outcome,
                    notes,
                    input.location.map(|p| p.latitude),
                    input.location.map(|p| p.longitude),
                    input.location.and_then(|p| p.accuracy_m),
                    input.recorded_at.timestamp_millis()
                ],
            )?;
            Ok(RecordedFact {
                client_id,
                device_seq: seq,
                kind: RecordKind::Visit,
                recorded_at: input.recorded_at,
                summary,
            })
        })
    }

    pub fn record_repayment(&self, input: &RepaymentInput) -> Result<RepaymentReceipt> {
        let amount = decimal_to_dong("amount", input.amount, AmountRule::Positive)?.get();
        check_time(input.recorded_at)?;
        let loan_id = input.loan_id.to_string();
        let client_id = self.write_durable(|tx| {
            let loan = loan_row(tx, &loan_id)?.ok_or(RuleViolation::LoanNotInPortfolio)?;
            crate::domain::rules::check_recorded_after_disbursement(
                crate::domain::time::local_date(input.recorded_at),
                loan.disbursed_on,
            )?;
            let worker = worker_row(tx, &loan.worker_id)?.ok_or(RuleViolation::WorkerNotInPortfolio)?;
            // The books as they will be: this phone's reversal requests
            // not decided yet taken back (a receipt typed wrong, entered
            // again), then its repayments not booked yet.
            let mut booked = booked_states(tx, &loan_id)?;
            let mut status = loan.status;
            for taken_back in reversals_unbooked(tx, &loan_id)? {
                if let Some(u) = crate::domain::schedule::unwind(&booked, taken_back) {
                    booked = u.states;
                    // A loan the reversed receipt paid off owes again.
                    status = crate::domain::rules::LoanStatus::Active;
                }
            }
            let Effective {
                states: after,
                stuck,
                applied,
            } = apply_unbooked(booked, unbooked_repayments(tx, &loan_id)?);
            if let Some(first) = stuck.first() {
                return Err(stuck_receipt(first, outstanding(&after).total()));
            }
            let allocation = check_repayment(status, &after, amount)?;
            crate::domain::rules::check_not_a_slip(outstanding(&after).total(), amount)?;

            let seq = next_counter(tx, "device_seq")?;
            let code = crate::db::meta(tx, "device_code")?
                .ok_or_else(|| Error::Corrupt("no device code".into()))?;
            let receipt_no = receipt_number(&code, next_counter(tx, "receipt_seq")?);
            let client_id = Uuid::now_v7();
            let (mut text_vi, mut text_en) = receipt_texts(
                &receipt_no,
                &worker.name,
                &loan.contract_no,
                amount,
                &allocation,
                input.recorded_at,
                applied > 0,
            );
            if let Some(o) = officer(tx)? {
                let (name, branch) = (o.full_name, o.branch_name);
                text_vi.push_str(&format!(" Cán bộ thu: {name} ({branch})."));
                text_en.push_str(&format!(" Collected by {name} ({branch})."));
            }
            let lines: Vec<serde_json::Value> = allocation
                .lines
                .iter()
                .map(|l| {
                    let due = after
                        .iter()
                        .find(|s| s.number == l.installment)
                        .map(|s| day_str(s.due_on))
                        .unwrap_or_default();
                    serde_json::json!({
                        "installment": l.installment,
                        "due_on": due,
                        "interest": l.interest,
                        "principal": l.principal,
                    })
                })
                .collect();
            let summary = format!(
                "Thu nợ {} — {} — phiếu {receipt_no}",
                format_vnd(amount),
                worker.name
            );
            insert_outbox(
                tx,
                self,
                client_id,
                seq,
                input.recorded_at,
                RecordBody::Repayment(RepaymentPayload {
                    loan_id: input.loan_id,
                    worker_id: parse_uuid(&loan.worker_id)?,
                    amount: Dong(amount),
                    receipt_no: receipt_no.clone(),
                }),
                &summary,
            )?;
            tx.execute(
                "INSERT INTO repayments (client_id, loan_id, worker_id, amount, receipt_no, interest, principal, balance_after, allocation, receipt_text, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    client_id.to_string(),
                    loan_id,
                    loan.worker_id,
                    amount,
                    receipt_no,
                    allocation.interest,
                    allocation.principal,
                    allocation.remaining.total(),
                    serde_json::Value::Array(lines).to_string(),
                    format!("{text_vi}\n{text_en}"),
                    input.recorded_at.timestamp_millis()
                ],
            )?;
            Ok(client_id)
        })?;
        self.read(|c| receipt_by(c, "r.client_id", &client_id.to_string()))
    }

    pub fn record_gift(&self, input: &GiftInput) -> Result<RecordedFact> {
        check_time(input.recorded_at)?;
        let acknowledged = required_text(
            "acknowledged_name",
            "Họ tên người nhận xác nhận",
            &input.acknowledged_name,
        )?;
        check_text_length("acknowledged_name", &acknowledged)?;
        let signature = match &input.signature_image {
            Some(img) if img.is_empty() || img.len() > MAX_SIGNATURE_BYTES => {
                return Err(Error::invalid(
                    "signature_image",
                    "Ảnh chữ ký trống hoặc quá lớn (tối đa 2 MB)",
                    "signature_image: empty or larger than 2 MiB",
                ))
            }
            Some(img) if signature_media_type(img).is_none() => {
                return Err(Error::invalid(
                    "signature_image",
                    "Ảnh chữ ký phải là ảnh PNG, JPEG hoặc WebP",
                    "signature_image: must be a PNG, JPEG or WebP image",
                ))
            }
            Some(img) => Some((hex::encode(Sha256::digest(img)), img)),
            None => None,
        };
        let campaign_id = input.campaign_id.to_string();
        let worker_id = input.worker_id.to_string();
        let on = local_date(input.recorded_at);
        self.write_durable(|tx| {
            let (name, eligibility, starts, ends, allocation, kind) = tx
                .query_row(
                    "SELECT name, eligibility, starts_on, ends_on, officer_allocation, kind FROM campaigns WHERE id = ?1",
                    [&campaign_id],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, String>(3)?,
                            r.get::<_, i64>(4)?,
                            r.get::<_, String>(5)?,
                        ))
                    },
                )
                .optional()?
                .ok_or_else(|| Error::not_found("campaign", &campaign_id))?;
            let worker = worker_row(tx, &worker_id)?.ok_or(RuleViolation::WorkerNotInPortfolio)?;
            let campaign = CampaignFacts {
                eligibility: Eligibility::parse(&eligibility)
                    .ok_or_else(|| Error::Corrupt(format!("eligibility {eligibility:?}")))?,
                starts_on: parse_day(&starts)?,
                ends_on: parse_day(&ends)?,
                remaining: campaign_remaining(tx, &campaign_id)?,
                allocation,
            };
            let received = already_received(tx, &campaign_id, &worker_id)?;
            check_gift(&campaign, &worker.facts, received, on)?;

            let seq = next_counter(tx, "device_seq")?;
            let client_id = Uuid::now_v7();
            // A welfare programme's grant is support, not a gift.
            let what = if kind == CampaignKind::Welfare.as_str() { "Hỗ trợ" } else { "Trao quà" };
            let summary = format!("{what} {name} — {}", worker.name);
            let sha = signature.as_ref().map(|(h, _)| h.clone());
            insert_outbox(
                tx,
                self,
                client_id,
                seq,
                input.recorded_at,
                RecordBody::GiftHandout(GiftHandoutPayload {
                    campaign_id: input.campaign_id,
                    worker_id: input.worker_id,
                    acknowledged_name: acknowledged.clone(),
                    signature_sha256: sha.clone(),
                }),
                &summary,
            )?;
            tx.execute(
                "INSERT INTO gift_handouts (client_id, campaign_id, worker_id, acknowledged_name, recorded_at, signature_sha256)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    client_id.to_string(),
                    campaign_id,
                    worker_id,
                    acknowledged,
                    input.recorded_at.timestamp_millis(),
                    sha
                ],
            )?;
            if let Some((hash, img)) = &signature {
                tx.execute(
                    "INSERT OR IGNORE INTO signatures (sha256, image) VALUES (?1, ?2)",
                    params![hash, img],
                )?;
            }
            Ok(RecordedFact {
                client_id,
                device_seq: seq,
                kind: RecordKind::GiftHandout,
                recorded_at: input.recorded_at,
                summary,
            })
        })
    }

    /// Voids one of this device's records that the server has not
    /// acknowledged yet (a reversal request asked by mistake too), or a
    /// visit it took in that waits for review. Nothing is deleted: a void
    /// record is added.
    pub fn void_record(&self, input: &CorrectionInput) -> Result<RecordedFact> {
        check_time(input.recorded_at)?;
        let reason = required_text("reason", "Lý do hủy", &input.reason)?;
        check_text_length("reason", &reason)?;
        let target = input.target_id.to_string();
        self.write_durable(|tx| {
            let t = target_row(tx, &target)?;
            if t.kind == RecordKind::Void {
                return Err(Error::invalid(
                    "target_id",
                    "Không thể hủy một bản ghi hủy",
                    "target_id: a void cannot be voided",
                ));
            }
            // (One set aside after failing to send is told below how to
            // put it back first.)
            if t.kind == RecordKind::ReversalRequest
                && !matches!(t.state.as_str(), "pending" | "wedged")
                && !t.voided
            {
                let n = t.device_seq;
                // What the request asks to take back: a receipt has cash.
                let of_receipt: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM reversal_requests q JOIN outbox o ON o.client_id = q.target_id
                     WHERE q.client_id = ?1 AND o.kind = 'repayment')",
                    [&target],
                    |r| r.get(0),
                )?;
                let (vi, en) = match t.state.as_str() {
                    "approved" => (
                        format!("Đề nghị đảo #{n} đã được duyệt, bản ghi đã được đảo: không hủy được nữa. Nếu đảo nhầm, báo giám sát chi nhánh và ghi lại bản ghi đúng"),
                        format!("reversal request #{n} was approved and the record reversed: it can no longer be voided. If it was a mistake, tell the branch supervisor and record the right one again"),
                    ),
                    "rejected" | "reversed" => (
                        format!("Đề nghị đảo #{n} đã bị từ chối: bản ghi gốc vẫn giữ nguyên, không cần hủy gì thêm"),
                        format!("reversal request #{n} was refused: the original record stands, nothing to void"),
                    ),
                    _ if of_receipt => (
                        format!("Đề nghị đảo #{n} đã gửi lên máy chủ, đang chờ duyệt: báo giám sát chi nhánh loại nó khi duyệt lô, và nộp đủ tiền của phiếu"),
                        format!("reversal request #{n} has been synced and waits for review: ask the branch supervisor to leave it out of the batch, and hand over the receipt's cash in full"),
                    ),
                    _ => (
                        format!("Đề nghị đảo #{n} đã gửi lên máy chủ, đang chờ duyệt: báo giám sát chi nhánh loại nó khi duyệt lô"),
                        format!("reversal request #{n} has been synced and waits for review: ask the branch supervisor to leave it out of the batch"),
                    ),
                };
                return Err(Error::conflict("already_synced", vi, en));
            }
            if t.voided {
                return Err(Error::conflict(
                    "already_voided",
                    format!("Bản ghi #{} đã bị hủy", t.device_seq),
                    format!("record #{} is already voided", t.device_seq),
                ));
            }
            // A reversal of it was asked for (a receipt sent again with its
            // request after a restore): the server would refuse the void
            // (`void_reversal_requested`).
            let asked: bool = tx.query_row(
                &format!(
                    "SELECT EXISTS (SELECT 1 FROM reversal_requests v JOIN record_states vs ON vs.client_id = v.client_id
                     WHERE v.target_id = ?1 AND vs.state <> 'rejected' AND v.client_id NOT IN ({VOIDED}))"
                ),
                [&target],
                |r| r.get(0),
            )?;
            if asked {
                return Err(Error::conflict(
                    "void_reversal_requested",
                    format!("Không thể hủy bản ghi #{}: đã có đề nghị đảo bản ghi này", t.device_seq),
                    format!("record #{} cannot be voided: its reversal was already requested", t.device_seq),
                ));
            }
            if t.state == "wedged" {
                let (vi, en) = wedged_hint(t.device_seq);
                return Err(Error::conflict("wedged", vi, en));
            }
            // A visit the server took in, waiting for review, is voided
            // like one not sent yet: it moves no cash and posts nothing, and
            // the server takes the void until the visit's batch is approved.
            let visit_waiting = t.kind == RecordKind::Visit && t.state == "accepted";
            if t.state == "rejected" {
                let (vi, en) = refused_hint(tx, &target, &t)?;
                return Err(Error::conflict("already_refused", vi, en));
            }
            if t.state != "pending" && !visit_waiting {
                // A repayment or a gift is reversed (asked from the phone);
                // a visit decided (or refused) stays as it is.
                let (vi, en) = if matches!(t.kind, RecordKind::Repayment | RecordKind::GiftHandout) {
                    ("hãy lập đề nghị đảo bút toán", "request a reversal instead")
                } else {
                    (
                        "lượt thăm chỉ hủy được khi còn chờ duyệt; nếu ghi sai, báo giám sát chi nhánh (ghi lượt thăm đúng như một lượt mới)",
                        "a visit can be voided only while it waits for review; if it is wrong, tell the branch supervisor (and record the right visit as a new one)",
                    )
                };
                return Err(Error::conflict(
                    "already_synced",
                    format!(
                        "Bản ghi #{} đã gửi lên máy chủ ({}); {vi}",
                        t.device_seq,
                        crate::wire::state_label(&t.state).0
                    ),
                    format!(
                        "record #{} has been synced ({}); {en}",
                        t.device_seq,
                        crate::wire::state_label(&t.state).1
                    ),
                ));
            }
            let seq = next_counter(tx, "device_seq")?;
            let client_id = Uuid::now_v7();
            let summary = format!("Hủy bản ghi #{} ({}): {reason}", t.device_seq, t.summary);
            insert_outbox(
                tx,
                self,
                client_id,
                seq,
                input.recorded_at,
                RecordBody::Void(VoidPayload {
                    target_id: input.target_id,
                    reason: reason.clone(),
                }),
                &summary,
            )?;
            tx.execute(
                "INSERT INTO voids (client_id, target_id, reason, recorded_at) VALUES (?1, ?2, ?3, ?4)",
                params![client_id.to_string(), target, reason, input.recorded_at.timestamp_millis()],
            )?;
            Ok(RecordedFact {
                client_id,
                device_seq: seq,
                kind: RecordKind::Void,
                recorded_at: input.recorded_at,
                summary,
            })
        })
    }

    /// Asks the supervisor to reverse a repayment or gift handout the server
    /// has accepted.
    pub fn request_reversal(&self, input: &CorrectionInput) -> Result<RecordedFact> {
        check_time(input.recorded_at)?;
        let reason = required_text("reason", "Lý do đề nghị đảo", &input.reason)?;
        check_text_length("reason", &reason)?;
        let target = input.target_id.to_string();
        self.write_durable(|tx| {
            let t = target_row(tx, &target)?;
            if !matches!(t.kind, RecordKind::Repayment | RecordKind::GiftHandout) {
                return Err(Error::invalid(
                    "target_id",
                    "Chỉ đề nghị đảo được phiếu thu nợ hoặc trao quà; một lượt thăm ghi sai thì hủy khi còn chờ duyệt, hoặc báo giám sát chi nhánh",
                    "target_id: only a repayment or a gift handout can be reversed; a wrong visit is voided while it waits for review, or tell the branch supervisor",
                ));
            }
            if t.voided {
                return Err(Error::conflict(
                    "already_voided",
                    format!("Bản ghi #{} đã bị hủy, không có gì để đảo", t.device_seq),
                    format!("record #{} was voided: there is nothing to reverse", t.device_seq),
                ));
            }
            if t.state == "rejected" {
                let (vi, en) = refused_hint(tx, &target, &t)?;
                return Err(Error::conflict("already_refused", vi, en));
            }
            if !matches!(t.state.as_str(), "accepted" | "approved") {
                let (vi, en) = if t.state == "pending" {
                    (
                        format!("Bản ghi #{} chưa gửi lên máy chủ; hãy hủy bản ghi thay vì đề nghị đảo", t.device_seq),
                        format!("record #{} has not been synced; void it instead", t.device_seq),
                    )
                } else if t.state == "wedged" {
                    wedged_hint(t.device_seq)
                } else {
                    (
                        format!(
                            "Bản ghi #{} {}, không đảo được",
                            t.device_seq,
                            crate::wire::state_label(&t.state).0
                        ),
                        format!(
                            "record #{} is {}, it cannot be reversed",
                            t.device_seq,
                            crate::wire::state_label(&t.state).1
                        ),
                    )
                };
                return Err(Error::conflict("not_synced", vi, en));
            }
            let open: i64 = tx.query_row(
                &format!(
                    "SELECT count(*) FROM reversal_requests r JOIN record_states s ON s.client_id = r.client_id
                     WHERE r.target_id = ?1 AND s.state <> 'rejected' AND r.client_id NOT IN ({VOIDED})"
                ),
                [&target],
                |r| r.get(0),
            )?;
            if open > 0 {
                return Err(Error::conflict(
                    "reversal_already_requested",
                    format!("Đã có đề nghị đảo bản ghi #{}", t.device_seq),
                    format!("a reversal of record #{} is already requested", t.device_seq),
                ));
            }
            let seq = next_counter(tx, "device_seq")?;
            let client_id = Uuid::now_v7();
            let summary = format!("Đề nghị đảo bản ghi #{} ({}): {reason}", t.device_seq, t.summary);
            insert_outbox(
                tx,
                self,
                client_id,
                seq,
                input.recorded_at,
                RecordBody::ReversalRequest(ReversalRequestPayload {
                    target_id: input.target_id,
                    reason: reason.clone(),
                }),
                &summary,
            )?;
            tx.execute(
                "INSERT INTO reversal_requests (client_id, target_id, reason, recorded_at) VALUES (?1, ?2, ?3, ?4)",
                params![client_id.to_string(), target, reason, input.recorded_at.timestamp_millis()],
            )?;
            Ok(RecordedFact {
                client_id,
                device_seq: seq,
                kind: RecordKind::ReversalRequest,
                recorded_at: input.recorded_at,
                summary,
            })
        })
    }

    /// A receipt recorded on this device, by its number (`A7K2-000123`).
    pub fn receipt(&self, receipt_no: &str) -> Result<RepaymentReceipt> {
        self.read(|c| receipt_by(c, "r.receipt_no", receipt_no.trim()))
    }
}

struct TargetRow {
    kind: RecordKind,
    device_seq: i64,
    summary: String,
    state: String,
    voided: bool,
}

fn target_row(conn: &Connection, id: &str) -> Result<TargetRow> {
    conn.query_row(
        &format!(
            "SELECT o.kind, o.device_seq, o.summary, s.state, o.client_id IN ({VOIDED})
             FROM outbox o JOIN record_states s ON s.client_id = o.client_id WHERE o.client_id = ?1"
        ),
        [id],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, bool>(4)?,
            ))
        },
    )
    .optional()?
    .map(
        |(kind, device_seq, summary, state, voided)| -> Result<TargetRow> {
            Ok(TargetRow {
                kind: RecordKind::parse(&kind)
                    .ok_or_else(|| Error::Corrupt(format!("kind {kind:?}")))?,
                device_seq,
                summary,
                state,
                voided,
            })
        },
    )
    .transpose()?
    .ok_or_else(|| Error::not_found("record", id))
}

/// This device's live handouts (not voided, not refused, not reversed).
const LIVE_HANDOUTS: &str = "SELECT g.campaign_id, g.worker_id FROM gift_handouts g
    JOIN record_states s ON s.client_id = g.client_id
    WHERE s.state IN ('pending', 'accepted', 'approved', 'wedged') AND g.client_id NOT IN (VOIDED_)";

fn live_handouts() -> String {
    LIVE_HANDOUTS.replace("VOIDED_", VOIDED)
}

/// Whether the worker has the campaign's gift, per server data or on this device.
pub(crate) fn already_received(
    conn: &Connection,
    campaign_id: &str,
    worker_id: &str,
) -> Result<bool> {
    Ok(conn.query_row(
        &format!(
            "SELECT EXISTS (SELECT 1 FROM campaign_recipients WHERE campaign_id = ?1 AND worker_id = ?2)
                 OR EXISTS (SELECT 1 FROM ({}) h WHERE h.campaign_id = ?1 AND h.worker_id = ?2)",
            live_handouts()
        ),
        params![campaign_id, worker_id],
        |r| r.get(0),
    )?)
}

/// The officer's remaining allocation: the server's figure less this
/// device's live handouts the server does not count yet (their worker,
/// still in this portfolio, is not among the server's recipients). A
/// worker moved to another officer is no longer listed: a handout to them
/// the server took is in its figure already, one it did not take will be
/// refused.
pub(crate) fn campaign_remaining(conn: &Connection, campaign_id: &str) -> Result<i64> {
    Ok(conn.query_row(
        &format!(
            "SELECT c.officer_remaining - (SELECT count(*) FROM ({}) h WHERE h.campaign_id = c.id
                 AND h.worker_id IN (SELECT id FROM workers)
                 AND h.worker_id NOT IN (SELECT worker_id FROM campaign_recipients r WHERE r.campaign_id = c.id))
             FROM campaigns c WHERE c.id = ?1",
            live_handouts()
        ),
        [campaign_id],
        |r| r.get(0),
    )?)
}

pub(crate) fn receipt_by(conn: &Connection, column: &str, value: &str) -> Result<RepaymentReceipt> {
    let row = conn
        .query_row(
            &format!(
                "SELECT r.client_id, o.device_seq, r.receipt_no, r.loan_id, coalesce(l.contract_no, ''), r.worker_id,
                        coalesce(w.full_name, ''), r.amount, r.interest, r.principal, r.allocation, r.balance_after,
                        r.recorded_at, r.receipt_text, s.state, r.client_id IN ({VOIDED}),
                        coalesce(s.code, '')
                 FROM repayments r JOIN outbox o ON o.client_id = r.client_id
                 JOIN record_states s ON s.client_id = r.client_id
                 LEFT JOIN loans l ON l.id = r.loan_id LEFT JOIN workers w ON w.id = r.worker_id
                 WHERE {column} = ?1"
            ),
            [value],
            |r| {
                Ok((
                    (
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, String>(6)?,
                    ),
                    (
                        r.get::<_, i64>(7)?,
                        r.get::<_, i64>(8)?,
                        r.get::<_, i64>(9)?,
                        r.get::<_, String>(10)?,
                        r.get::<_, i64>(11)?,
                        r.get::<_, i64>(12)?,
                        r.get::<_, String>(13)?,
                        r.get::<_, String>(14)?,
                        r.get::<_, bool>(15)?,
                        r.get::<_, String>(16)?,
                    ),
                ))
            },
        )
        .optional()?
        .ok_or_else(|| Error::not_found("receipt", value))?;
    let ((client_id, device_seq, receipt_no, loan_id, contract_no, worker_id, worker_name), rest) =
        row;
    let (amount, interest, principal, allocation, balance_after, at, text, state, voided, code) =
        rest;
    let parts: Vec<serde_json::Value> =
        serde_json::from_str(&allocation).map_err(|source| Error::Json {
            context: "allocation",
            source,
        })?;
    let mut lines = Vec::new();
    for p in parts {
        let int = |k: &str| p.get(k).and_then(serde_json::Value::as_i64);
        lines.push(AllocationPart {
            installment: int("installment").unwrap_or_default() as u32,
            due_on: parse_day(p.get("due_on").and_then(|v| v.as_str()).unwrap_or_default())?,
            interest: dong(int("interest").unwrap_or_default()),
            principal: dong(int("principal").unwrap_or_default()),
        });
    }
    let (text_vi, text_en) = text.split_once('\n').unwrap_or((text.as_str(), ""));
    let fate = if voided {
        Some((
            "Phiếu thu này đã bị hủy trên máy: số tiền không vào sổ của Quỹ; số còn phải trả in trên phiếu không còn đúng.",
            "This receipt was voided on the phone: the amount is not on the fund's books; the balance printed on it no longer holds.",
        ))
    } else {
        match state.as_str() {
            // Sent by a revoked phone: held for the supervisor, not refused.
            "rejected" if code == "device_revoked" => Some((
                "Phiếu thu này được giữ lại chờ giám sát (điện thoại đã bị thu hồi): tiền mang nộp giám sát chi nhánh; số tiền chưa vào sổ của Quỹ.",
                "This receipt is held for the supervisor (the phone was revoked): the cash goes to the branch supervisor; the amount is not on the fund's books yet.",
            )),
            "rejected" => Some((
                "Phiếu thu này đã bị từ chối: số tiền không vào sổ của Quỹ (xem lý do trong hộp thư đi); số còn phải trả in trên phiếu không còn đúng.",
                "This receipt was refused: the amount is not on the fund's books (see why in the outbox); the balance printed on it no longer holds.",
            )),
            "reversed" => Some((
                "Khoản thu này đã được đảo: số tiền đã ra khỏi sổ của Quỹ; số còn phải trả in trên phiếu không còn đúng.",
                "This payment was reversed: the amount has left the fund's books; the balance printed on it no longer holds.",
            )),
            _ => None,
        }
    };
    Ok(RepaymentReceipt {
        client_id: parse_uuid(&client_id)?,
        device_seq,
        receipt_no,
        loan_id: parse_uuid(&loan_id)?,
        contract_no,
        worker_id: parse_uuid(&worker_id)?,
        worker_name,
        amount: dong(amount),
        interest: dong(interest),
        principal: dong(principal),
        lines,
        balance_after: dong(balance_after),
        recorded_at: from_millis(at)?,
        text_vi: text_vi.to_string(),
        text_en: text_en.to_string(),
        state,
        voided,
        fate_vi: fate.map(|f| f.0.to_string()),
        fate_en: fate.map(|f| f.1.to_string()),
    })
}
