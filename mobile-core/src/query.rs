//! Reading the field book: search, today's route, a worker's page, the
//! outbox and the officer's day. Also the two outbox calls the sync client
//! makes: take the next pending batch, record the server's results.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use uuid::Uuid;

use crate::db::{day_str, dong, from_millis, parse_day, parse_uuid, Store};
use crate::domain::gifts::{CampaignKind, Eligibility};
use crate::domain::ids::format_phone;
use crate::domain::money::format_vnd;
use crate::domain::schedule::{due_by, outstanding, overdue};
use crate::domain::time::format_date;
use crate::error::{Error, Result};
use crate::record::{campaign_remaining, effective_states, VOIDED};
use crate::types::{
    CampaignView, CashCountView, DailySummary, GiftView, InstallmentView, LoanView, OutboxFilter,
    OutboxItem, RouteStop, RouteWorker, VisitView, WorkerDetail, WorkerHit,
};
use crate::wire::{GeoPoint, RecordKind, UploadOutcome, UploadRecord, UploadResult, VisitPurpose};

/// (route order, house name, house id): how stops are ordered.
type StopKey = (i64, String, String);

/// At most this many search results.
pub const MAX_SEARCH_RESULTS: u32 = 200;

/// Outstanding on all the worker's loans, unbooked repayments deducted.
fn worker_balance(conn: &Connection, worker_id: &str) -> Result<i64> {
    let mut st = conn.prepare_cached("SELECT id FROM loans WHERE worker_id = ?1")?;
    let loans = st
        .query_map([worker_id], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut total = 0;
    for l in loans {
        total += outstanding(&effective_states(conn, &l)?.states).total();
    }
    Ok(total)
}

fn hit(conn: &Connection, id: &str) -> Result<Option<WorkerHit>> {
    let row = conn
        .prepare_cached(
            "SELECT w.full_name, w.phone, w.cccd, h.name, w.room, w.code FROM workers w
             LEFT JOIN boarding_houses h ON h.id = w.boarding_house_id WHERE w.id = ?1",
        )?
        .query_row([id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<String>>(5)?,
            ))
        })
        .optional()?;
    let Some((full_name, phone, cccd, house, room, code)) = row else {
        return Ok(None);
    };
    Ok(Some(WorkerHit {
        worker_id: parse_uuid(id)?,
        code,
        full_name,
        phone: phone.as_deref().map(format_phone),
        cccd,
        boarding_house: house,
        room,
        balance: dong(worker_balance(conn, id)?),
    }))
}

fn item(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawItem> {
    Ok(RawItem {
        client_id: r.get(0)?,
        device_seq: r.get(1)?,
        kind: r.get(2)?,
        recorded_at: r.get(3)?,
        summary: r.get(4)?,
        state: r.get(5)?,
        code: r.get(6)?,
        message: r.get(7)?,
        message_en: r.get(8)?,
        voided: r.get(9)?,
        envelope: r.get(10)?,
        settled_note: r.get(11)?,
    })
}

struct RawItem {
    client_id: String,
    device_seq: i64,
    kind: String,
    recorded_at: i64,
    summary: String,
    state: String,
    code: Option<String>,
    message: Option<String>,
    message_en: Option<String>,
    voided: bool,
    envelope: String,
    settled_note: Option<String>,
}

impl RawItem {
    fn into_item(self) -> Result<OutboxItem> {
        Ok(OutboxItem {
            client_id: parse_uuid(&self.client_id)?,
            device_seq: self.device_seq,
            kind: RecordKind::parse(&self.kind)
                .ok_or_else(|| Error::Corrupt(format!("kind {:?}", self.kind)))?,
            recorded_at: from_millis(self.recorded_at)?,
            summary: self.summary,
            state: self.state,
            code: self.code,
            message: self.message,
            message_en: self.message_en,
            voided: self.voided,
            settled_note: self.settled_note,
            envelope_json: self.envelope,
        })
    }
}

fn outbox_items(conn: &Connection, where_sql: &str, limit: u32) -> Result<Vec<OutboxItem>> {
    let mut st = conn.prepare(&format!(
        "SELECT o.client_id, o.device_seq, o.kind, o.recorded_at, o.summary, s.state, s.code,
                s.message_vi, s.message_en, o.client_id IN ({VOIDED}), o.envelope, x.note
         FROM outbox o JOIN record_states s ON s.client_id = o.client_id
             LEFT JOIN record_settlements x ON x.client_id = o.client_id
         WHERE {where_sql} ORDER BY o.device_seq LIMIT ?1"
    ))?;
    let raw = st
        .query_map([i64::from(limit)], item)?
        .collect::<Result<Vec<_>, _>>()?;
    raw.into_iter().map(RawItem::into_item).collect()
}

impl Store {
    /// Workers whose name has every fragment of `query` (any order, any
    /// accents or case), or whose phone or CCCD contains its digits.
    pub fn search(&self, query: &str, limit: u32) -> Result<Vec<WorkerHit>> {
        let limit = limit.clamp(1, MAX_SEARCH_RESULTS) as usize;
        // The book synced through another handle (the app's background
        // sync) since the index was read: read it again.
        let now = self.read(|c| crate::db::meta(c, "cursor"))?;
        let stale = self.index.read().unwrap_or_else(|p| p.into_inner()).cursor != now;
        if stale {
            self.reload_index()?;
        }
        let ids = self
            .index
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .find(query, limit);
        self.read(|c| {
            let mut out = Vec::with_capacity(ids.len());
            for id in &ids {
                if let Some(h) = hit(c, id)? {
                    out.push(h);
                }
            }
            Ok(out)
        })
    }

    /// Workers with installments due or overdue on `day`, grouped by
    /// boarding house in route order, then by room and name.
    pub fn route(&self, day: NaiveDate) -> Result<Vec<RouteStop>> {
        self.read(|c| {
            let d = day_str(day);
            let mut st = c.prepare(
                "SELECT DISTINCT l.id, w.id, w.full_name, w.room, w.phone, w.boarding_house_id,
                        coalesce(h.name, ''), coalesce(h.address, ''), coalesce(h.route_order, 1000000000), w.code
                 FROM installments i JOIN loans l ON l.id = i.loan_id JOIN workers w ON w.id = l.worker_id
                 LEFT JOIN boarding_houses h ON h.id = w.boarding_house_id
                 WHERE i.due_on <= ?1 AND l.status = 'active'
                   AND (i.principal_paid < i.principal_due OR i.interest_paid < i.interest_due)",
            )?;
            type Row = (
                String,
                String,
                String,
                Option<String>,
                Option<String>,
                Option<String>,
                String,
                String,
                i64,
                Option<String>,
            );
            let rows: Vec<Row> = st
                .query_map([&d], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                        r.get(9)?,
                    ))
                })?
                .collect::<Result<_, _>>()?;
            // (route_order, house name, house id) → worker id → worker
            let mut stops: BTreeMap<StopKey, (RouteStop, BTreeMap<String, RouteWorker>)> = BTreeMap::new();
            for (loan, wid, name, room, phone, house_id, house, address, order, code) in rows {
                let states = effective_states(c, &loan)?.states;
                let key = (order, house.clone(), house_id.clone().unwrap_or_default());
                let entry = stops.entry(key).or_insert_with(|| {
                    (
                        RouteStop {
                            boarding_house_id: house_id.as_deref().and_then(|h| Uuid::parse_str(h).ok()),
                            boarding_house: if house.is_empty() {
                                "Chưa có nhà trọ".to_string()
                            } else {
                                house.clone()
                            },
                            address: address.clone(),
                            workers: Vec::new(),
                        },
                        BTreeMap::new(),
                    )
                });
                let wkey = format!(
                    "{}\u{0}{}\u{0}{wid}",
                    room.clone().unwrap_or_default(),
                    crate::domain::text::fold(&name)
                );
                if !entry.1.contains_key(&wkey) {
                    let (paid_today, visited_today) = today_activity(c, &wid, &d)?;
                    entry.1.insert(
                        wkey.clone(),
                        RouteWorker {
                            worker_id: parse_uuid(&wid)?,
                            code: code.clone(),
                            full_name: name.clone(),
                            room: room.clone(),
                            phone: phone.as_deref().map(format_phone),
                            due: dong(0),
                            overdue: dong(0),
                            balance: dong(worker_balance(c, &wid)?),
                            paid_today: dong(paid_today),
                            visited_today,
                        },
                    );
                }
                let w = entry.1.get_mut(&wkey).expect("inserted above");
                w.due += dong(due_by(&states, day).total());
                w.overdue += dong(overdue(&states, day).total());
            }
            Ok(stops
                .into_values()
                .map(|(mut stop, workers)| {
                    stop.workers = workers.into_values().collect();
                    stop
                })
                .collect())
        })
    }

    pub fn worker_detail(&self, worker_id: &Uuid) -> Result<WorkerDetail> {
        let id = worker_id.to_string();
        self.read(|c| {
            let row = c
                .query_row(
                    "SELECT w.full_name, w.phone, w.cccd, h.name, h.address, w.room, w.factory, w.union_member, w.hardship, w.code
                     FROM workers w LEFT JOIN boarding_houses h ON h.id = w.boarding_house_id WHERE w.id = ?1",
                    [&id],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, Option<String>>(1)?,
                            r.get::<_, Option<String>>(2)?,
                            r.get::<_, Option<String>>(3)?,
                            r.get::<_, Option<String>>(4)?,
                            r.get::<_, Option<String>>(5)?,
                            r.get::<_, Option<String>>(6)?,
                            r.get::<_, bool>(7)?,
                            r.get::<_, bool>(8)?,
                            r.get::<_, Option<String>>(9)?,
                        ))
                    },
                )
                .optional()?
                .ok_or_else(|| Error::not_found("worker", &id))?;
            let today = crate::domain::time::local_date(Utc::now());
            let mut loans = Vec::new();
            let mut st = c.prepare(
                "SELECT id, contract_no, product_name, principal, annual_rate_bp, status, disbursed_on
                 FROM loans WHERE worker_id = ?1 ORDER BY disbursed_on, contract_no",
            )?;
            let rows = st
                .query_map([&id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, String>(6)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let mut balance = 0;
            for (lid, contract_no, product_name, principal, rate, status, disbursed) in rows {
                let effective = effective_states(c, &lid)?;
                let (states, unsynced) = (effective.states, effective.applied);
                let left = outstanding(&states).total();
                let over_balance: i64 = effective.stuck.iter().map(|u| u.amount).sum();
                balance += left;
                loans.push(LoanView {
                    loan_id: parse_uuid(&lid)?,
                    contract_no,
                    product_name,
                    principal: dong(principal),
                    annual_rate_bp: rate,
                    status,
                    disbursed_on: parse_day(&disbursed)?,
                    balance: dong(left),
                    overdue: dong(overdue(&states, today).total()),
                    unsynced_paid: dong(unsynced),
                    unsynced_over_balance: dong(over_balance),
                    schedule: states
                        .iter()
                        .map(|s| InstallmentView {
                            number: s.number,
                            due_on: s.due_on,
                            principal_due: dong(s.principal_due),
                            interest_due: dong(s.interest_due),
                            principal_paid: dong(s.principal_paid),
                            interest_paid: dong(s.interest_paid),
                        })
                        .collect(),
                });
            }
            // Voided ones said so, as gifts are: a visit taken back did
            // not happen.
            let mut st = c.prepare(&format!(
                "SELECT v.client_id, v.purpose, v.outcome, v.notes, v.latitude, v.longitude, v.accuracy_m, v.recorded_at,
                        CASE WHEN v.client_id IN ({VOIDED}) THEN 'voided' ELSE s.state END
                 FROM visits v JOIN record_states s ON s.client_id = v.client_id
                 WHERE v.worker_id = ?1 ORDER BY v.recorded_at DESC"
            ))?;
            let raw = st
                .query_map([&id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, Option<f64>>(4)?,
                        r.get::<_, Option<f64>>(5)?,
                        r.get::<_, Option<f64>>(6)?,
                        r.get::<_, i64>(7)?,
                        r.get::<_, String>(8)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let mut visits = Vec::new();
            for (cid, purpose, outcome, notes, lat, lon, acc, at, state) in raw {
                visits.push(VisitView {
                    client_id: parse_uuid(&cid)?,
                    purpose: VisitPurpose::parse(&purpose)
                        .ok_or_else(|| Error::Corrupt(format!("purpose {purpose:?}")))?,
                    outcome,
                    notes,
                    location: lat.zip(lon).map(|(latitude, longitude)| GeoPoint {
                        latitude,
                        longitude,
                        accuracy_m: acc,
                    }),
                    recorded_at: from_millis(at)?,
                    state,
                });
            }
            let mut st = c.prepare(&format!(
                "SELECT g.campaign_id, coalesce(c.name, ''), g.client_id, g.recorded_at,
                        CASE WHEN g.client_id IN ({VOIDED}) THEN 'voided' ELSE s.state END
                 FROM gift_handouts g JOIN record_states s ON s.client_id = g.client_id
                 LEFT JOIN campaigns c ON c.id = g.campaign_id WHERE g.worker_id = ?1
                 UNION ALL
                 SELECT r.campaign_id, c.name, NULL, NULL, 'server' FROM campaign_recipients r
                 JOIN campaigns c ON c.id = r.campaign_id WHERE r.worker_id = ?1
                   AND NOT EXISTS (SELECT 1 FROM gift_handouts g JOIN record_states s ON s.client_id = g.client_id
                                   WHERE g.worker_id = r.worker_id AND g.campaign_id = r.campaign_id
                                     AND g.client_id NOT IN ({VOIDED})
                                     -- Refused and settled since as handed out for real
                                     -- (it is the server's gift): shown once, as refused.
                                     AND (s.state <> 'rejected'
                                          OR EXISTS (SELECT 1 FROM record_settlements x
                                                     WHERE x.client_id = g.client_id AND x.handed_out = 1)))
                 ORDER BY 2"
            ))?;
            let raw = st
                .query_map([&id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, Option<i64>>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let mut gifts = Vec::new();
            for (camp, name, cid, at, state) in raw {
                gifts.push(GiftView {
                    campaign_id: parse_uuid(&camp)?,
                    campaign_name: name,
                    client_id: cid.as_deref().map(parse_uuid).transpose()?,
                    recorded_at: at.map(from_millis).transpose()?,
                    state,
                });
            }
            let (full_name, phone, cccd, house, address, room, factory, union_member, hardship, code) = row;
            Ok(WorkerDetail {
                worker_id: *worker_id,
                code,
                full_name,
                phone: phone.as_deref().map(format_phone),
                cccd,
                boarding_house: house,
                address,
                room,
                factory,
                union_member,
                hardship,
                balance: dong(balance),
                loans,
                visits,
                gifts,
            })
        })
    }

    pub fn campaigns(&self) -> Result<Vec<CampaignView>> {
        self.read(|c| {
            let mut st = c.prepare(
                "SELECT id, name, kind, eligibility, gift_value, starts_on, ends_on, officer_allocation
                 FROM campaigns ORDER BY starts_on, name",
            )?;
            let rows = st
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, String>(6)?,
                        r.get::<_, i64>(7)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .map(|(id, name, kind, elig, value, starts, ends, alloc)| {
                    Ok(CampaignView {
                        campaign_id: parse_uuid(&id)?,
                        remaining: campaign_remaining(c, &id)?,
                        name,
                        kind: CampaignKind::parse(&kind)
                            .map(|k| k.as_str().to_string())
                            .unwrap_or(kind),
                        eligibility: Eligibility::parse(&elig)
                            .map(|e| e.describe_vi().to_string())
                            .unwrap_or(elig),
                        gift_value: dong(value),
                        starts_on: parse_day(&starts)?,
                        ends_on: parse_day(&ends)?,
                        allocation: alloc,
                    })
                })
                .collect()
        })
    }

    pub fn outbox(&self, filter: OutboxFilter, limit: u32) -> Result<Vec<OutboxItem>> {
        let where_sql = match filter {
            OutboxFilter::All => "1",
            OutboxFilter::Pending => "s.state = 'pending'",
            OutboxFilter::Accepted => "s.state IN ('accepted', 'approved')",
            OutboxFilter::Rejected => "s.state = 'rejected'",
            OutboxFilter::Wedged => "s.state = 'wedged'",
        };
        self.read(|c| outbox_items(c, where_sql, limit))
    }

    /// The oldest records the server has not acknowledged, in device
    /// sequence order, for the sync client to upload. They stay in the
    /// outbox until [`Store::mark_upload_results`] records the answer.
    pub fn next_pending_batch(&self, limit: u32) -> Result<Vec<UploadRecord>> {
        self.read(|c| {
            let mut st = c.prepare(
                "SELECT o.envelope FROM outbox o JOIN record_states s ON s.client_id = o.client_id
                 WHERE s.state = 'pending' ORDER BY o.device_seq LIMIT ?1",
            )?;
            let rows = st
                .query_map([i64::from(limit)], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            rows.iter()
                .map(|j| {
                    serde_json::from_str(j).map_err(|source| Error::Json {
                        context: "envelope",
                        source,
                    })
                })
                .collect()
        })
    }

    /// Records the server's answer for uploaded records: accepted and
    /// duplicate leave the outbox as accepted, rejected keeps the reason.
    /// Results for unknown or already acknowledged records change nothing.
    /// Returns how many records changed state.
    pub fn mark_upload_results(&self, results: &[UploadResult]) -> Result<u32> {
        self.write(|tx| {
            let mut st = tx.prepare_cached(
                "UPDATE record_states SET state = ?2, code = ?3, message_vi = ?4, message_en = ?5, updated_at = ?6
                 WHERE client_id = ?1 AND state = 'pending'",
            )?;
            let now = Utc::now().timestamp_millis();
            let mut n = 0;
            for r in results {
                let state = match r.outcome {
                    UploadOutcome::Accepted | UploadOutcome::Duplicate => "accepted",
                    UploadOutcome::Rejected => "rejected",
                };
                n += st.execute(params![
                    r.client_id.to_string(),
                    state,
                    r.code,
                    r.message_vi,
                    r.message_en,
                    now
                ])? as u32;
            }
            Ok(n)
        })
    }

    pub fn daily_summary(&self, day: NaiveDate) -> Result<DailySummary> {
        let d = day_str(day);
        self.read(|c| {
            let (cash, repayments): (i64, u32) = c.query_row(
                &format!(
                    "SELECT coalesce(sum(r.amount), 0), count(*) FROM repayments r JOIN outbox o ON o.client_id = r.client_id
                     WHERE o.local_day = ?1 AND r.client_id NOT IN ({VOIDED})"
                ),
                [&d],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            // Of it, what the server or the supervisor refused: not handed
            // over with the batch.
            let refused_cash: i64 = c.query_row(
                &format!(
                    "SELECT coalesce(sum(r.amount), 0) FROM repayments r JOIN outbox o ON o.client_id = r.client_id
                     JOIN record_states s ON s.client_id = r.client_id
                     WHERE o.local_day = ?1 AND s.state = 'rejected' AND r.client_id NOT IN ({VOIDED})"
                ),
                [&d],
                |r| r.get(0),
            )?;
            // Of that, what the branch has since dealt with.
            let refused_settled: i64 = c.query_row(
                &format!(
                    "SELECT coalesce(sum(r.amount), 0) FROM repayments r JOIN outbox o ON o.client_id = r.client_id
                     JOIN record_states s ON s.client_id = r.client_id
                     JOIN record_settlements x ON x.client_id = r.client_id
                     WHERE o.local_day = ?1 AND s.state = 'rejected' AND r.client_id NOT IN ({VOIDED})"
                ),
                [&d],
                |r| r.get(0),
            )?;
            // Every day's refused cash the branch has not dealt with yet.
            let refused_open_all: i64 = c.query_row(
                &format!(
                    "SELECT coalesce(sum(r.amount), 0) FROM repayments r JOIN record_states s ON s.client_id = r.client_id
                     WHERE s.state = 'rejected' AND r.client_id NOT IN ({VOIDED})
                       AND NOT EXISTS (SELECT 1 FROM record_settlements x WHERE x.client_id = r.client_id)"
                ),
                [],
                |r| r.get(0),
            )?;
            // Refused receipts the officer entered again on this phone,
            // waiting for review: their cash goes with the new receipts,
            // whose approval settles them; not to give back as well.
            let again = entered_again_here(c)?;
            let again_all: i64 = again.values().map(|a| a.amount).sum();
            let again_day: i64 = again.values().filter(|a| a.day == d).map(|a| a.amount).sum();
            let refused_open_all = refused_open_all - again_all;
            // Of it, what is in batches the supervisor approved.
            let approved_cash: i64 = c.query_row(
                &format!(
                    "SELECT coalesce(sum(r.amount), 0) FROM repayments r JOIN outbox o ON o.client_id = r.client_id
                     JOIN record_states s ON s.client_id = r.client_id
                     WHERE o.local_day = ?1 AND s.state IN ('approved', 'reversed') AND r.client_id NOT IN ({VOIDED})"
                ),
                [&d],
                |r| r.get(0),
            )?;
            // Every day's: not refused, not handed over in an approved
            // batch, not voided.
            let in_hand: i64 = c.query_row(
                &format!(
                    "SELECT coalesce(sum(r.amount), 0) FROM repayments r JOIN record_states s ON s.client_id = r.client_id
                     WHERE s.state NOT IN ('rejected', 'approved', 'reversed') AND r.client_id NOT IN ({VOIDED})"
                ),
                [],
                |r| r.get(0),
            )?;
            // Receipts (handed over already, or waiting for review) that
            // this phone's reversal requests take back (not one set aside
            // after failing to send): the officer keeps that much back from
            // what she hands over next (to give back to the borrower, or
            // because it is in the vault already, as when she enters again
            // an amount typed wrong) — as the server nets them; beyond what
            // she holds, the branch owes her the rest.
            // `open`: not decided yet; `netted`: approved, netted.
            let taken_back = |day: Option<&str>, open: bool| -> Result<i64> {
                let state = if open {
                    "vs.state IN ('pending', 'accepted') AND ts.state IN ('pending', 'accepted', 'approved')"
                } else {
                    "vs.state = 'approved' AND vs.code = 'netted'"
                };
                Ok(c.query_row(
                    &format!(
                        "SELECT coalesce(sum(r.amount), 0) FROM reversal_requests v
                         JOIN outbox o ON o.client_id = v.client_id
                         JOIN record_states vs ON vs.client_id = v.client_id
                         JOIN repayments r ON r.client_id = v.target_id
                         JOIN record_states ts ON ts.client_id = r.client_id
                         WHERE {state} AND (?1 IS NULL OR o.local_day = ?1) AND v.client_id NOT IN ({VOIDED})
                           AND r.client_id NOT IN ({VOIDED})"
                    ),
                    [day],
                    |r| r.get(0),
                )?)
            };
            let open_all = taken_back(None, true)?;
            let open_day = taken_back(Some(&d), true)?;
            let netted_day = taken_back(Some(&d), false)?;
            // Receipts approved before the server's data was restored, sent
            // again and waiting for review once more: handed over then.
            let handed_before = |day: Option<&str>| -> Result<i64> {
                Ok(c.query_row(
                    &format!(
                        "SELECT coalesce(sum(r.amount), 0) FROM repayments r
                         JOIN approved_before_restore a ON a.client_id = r.client_id
                         JOIN outbox o ON o.client_id = r.client_id
                         JOIN record_states s ON s.client_id = r.client_id
                         WHERE s.state NOT IN ('rejected', 'approved', 'reversed')
                           AND (?1 IS NULL OR o.local_day = ?1) AND r.client_id NOT IN ({VOIDED})"
                    ),
                    [day],
                    |r| r.get(0),
                )?)
            };
            let handed_before_day = handed_before(Some(&d))?;
            let in_hand = in_hand - open_all - handed_before(None)?;
            let kept_back = open_day + netted_day;
            let approved_cash = approved_cash - netted_day;
            let to_hand_over =
                cash - refused_cash - approved_cash - kept_back - handed_before_day;
            let count = |kind: &str| -> Result<u32> {
                Ok(c.query_row(
                    &format!(
                        "SELECT count(*) FROM outbox o WHERE o.local_day = ?1 AND o.kind = ?2
                         AND o.client_id NOT IN ({VOIDED})"
                    ),
                    params![d, kind],
                    |r| r.get(0),
                )?)
            };
            let visits = count("visit")?;
            let gifts = count("gift_handout")?;
            // Of them, refused (by the server or at review): an officer may
            // record one again, so the day would seem to hold two.
            // (refused, held from a revoked phone, settled by the branch since)
            let refused = |kind: &str| -> Result<(u32, u32, u32)> {
                Ok(c.query_row(
                    &format!(
                        "SELECT coalesce(sum(x.client_id IS NULL AND coalesce(s.code, '') <> 'device_revoked'), 0),
                                coalesce(sum(x.client_id IS NULL AND s.code = 'device_revoked'), 0),
                                coalesce(sum(x.client_id IS NOT NULL), 0)
                         FROM outbox o JOIN record_states s ON s.client_id = o.client_id
                         LEFT JOIN record_settlements x ON x.client_id = o.client_id
                         WHERE o.local_day = ?1 AND o.kind = ?2 AND s.state = 'rejected'
                           AND o.client_id NOT IN ({VOIDED})"
                    ),
                    params![d, kind],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )?)
            };
            let of_them = |(refused, held, settled): (u32, u32, u32)| {
                let said: Vec<String> = [
                    (refused, "bị từ chối"),
                    (held, "bị giữ lại"),
                    (settled, "chi nhánh đã xử lý"),
                ]
                .into_iter()
                .filter(|(n, _)| *n > 0)
                .map(|(n, how)| format!("{n} {how}"))
                .collect();
                if said.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", said.join(", "))
                }
            };
            let (visits_refused, gifts_refused) = (refused("visit")?, refused("gift_handout")?);
            let voids = count("void")?;
            let reversal_requests = count("reversal_request")?;
            let pending: u32 = c.query_row(
                "SELECT count(*) FROM record_states WHERE state = 'pending'",
                [],
                |r| r.get(0),
            )?;
            // Refused records, not those the officer voided (nothing to
            // give back or do again for them), nor a void kept in
            // quarantine (it did its work); of other days, only cash and
            // gifts the branch has not dealt with yet (a refused visit or
            // request was said on its own day, and leaves nothing in hand).
            let rejected = outbox_items(
                c,
                &format!(
                    "s.state = 'rejected' AND o.client_id NOT IN ({VOIDED})
                     AND NOT (o.kind = 'void' AND s.code = 'device_revoked')
                     AND (o.local_day = '{d}'
                          OR (o.kind IN ('repayment', 'gift_handout')
                              AND o.client_id NOT IN (SELECT client_id FROM record_settlements)))"
                ),
                u32::MAX,
            )?;
            let wedged = outbox_items(c, "s.state = 'wedged'", u32::MAX)?;
            let mut parts = Vec::new();
            let open_refused = refused_cash - refused_settled - again_day;
            if refused_cash > 0 && open_refused == 0 {
                let how = match (refused_settled > 0, again_day > 0) {
                    (true, true) => format!(
                        "chi nhánh đã xử lý {}, {} đã ghi lại bằng phiếu mới chờ duyệt",
                        format_vnd(refused_settled),
                        format_vnd(again_day)
                    ),
                    (false, true) => "đã ghi lại bằng phiếu mới chờ duyệt".to_string(),
                    _ => "chi nhánh đã xử lý".to_string(),
                };
                parts.push(format!(
                    "trong đó {} bị từ chối, {how}",
                    format_vnd(refused_cash)
                ));
            } else if refused_cash > 0 {
                let dealt: Vec<String> = [
                    (refused_settled, "chi nhánh đã xử lý"),
                    (again_day, "đã ghi lại bằng phiếu mới chờ duyệt"),
                ]
                .into_iter()
                .filter(|(v, _)| *v > 0)
                .map(|(v, how)| format!("{} {how}", format_vnd(v)))
                .collect();
                let settled = if dealt.is_empty() {
                    String::new()
                } else {
                    format!(" ({}, còn {})", dealt.join(", "), format_vnd(open_refused))
                };
                // Cash held because this phone was revoked was taken rightly:
                // it goes to the supervisor, not back to the borrower.
                let revoked: i64 = c.query_row(
                    &format!(
                        "SELECT coalesce(sum(r.amount), 0) FROM repayments r JOIN outbox o ON o.client_id = r.client_id
                         JOIN record_states s ON s.client_id = r.client_id
                         WHERE o.local_day = ?1 AND s.state = 'rejected' AND s.code = 'device_revoked'
                           AND r.client_id NOT IN ({VOIDED})"
                    ),
                    [&d],
                    |r| r.get(0),
                )?;
                let what = if revoked == refused_cash {
                    "thu trên máy đã bị thu hồi, được giữ lại chờ giám sát — không nộp cùng lô: mang nộp giám sát chi nhánh".to_string()
                } else if revoked > 0 {
                    format!(
                        "bị từ chối — không nộp cùng lô: {} thu trên máy đã bị thu hồi mang nộp giám sát chi nhánh, phần còn lại trả lại người vay hoặc làm theo hướng dẫn của giám sát",
                        format_vnd(revoked)
                    )
                } else {
                    "bị từ chối — không nộp cùng lô: trả lại người vay hoặc làm theo hướng dẫn của giám sát chi nhánh".to_string()
                };
                parts.push(format!(
                    "trong đó {}{settled} {what}",
                    format_vnd(refused_cash)
                ));
            }
            if kept_back > 0 {
                parts.push(format!(
                    "giữ lại {} của các phiếu đề nghị đảo (trả lại người vay, hoặc đã nộp quỹ trước đó), trừ vào tiền nộp",
                    format_vnd(kept_back)
                ));
            }
            if approved_cash > 0 {
                parts.push(format!(
                    "{} của các phiếu trong lô đã được duyệt (không nộp lại)",
                    format_vnd(approved_cash)
                ));
            }
            if handed_before_day > 0 {
                parts.push(format!(
                    "{} đã nộp khi được duyệt trước lúc dữ liệu máy chủ được khôi phục (nay chờ duyệt lại, không nộp lại)",
                    format_vnd(handed_before_day)
                ));
            }
            // What is left to hand over; below zero, the reversals took back
            // more than was collected: the branch owes the officer.
            let left = |v: i64, cash: &str| {
                if v < 0 {
                    format!("chi nhánh nợ lại bạn {} (trả cho bạn để trả lại người vay, hoặc bù khoản thiếu đã ghi)", format_vnd(-v))
                } else {
                    format!("{cash}còn phải nộp chi nhánh {}", format_vnd(v))
                }
            };
            // A day that keeps back more than it took, while other days'
            // cash covers it (a receipt of another day, not handed over
            // yet, reversed today): nothing is owed to her.
            let day_left = |v: i64| {
                if v < 0 && in_hand >= 0 {
                    format!(
                        "số giữ lại hơn tiền thu trong ngày {}: trừ vào tiền còn phải nộp của các ngày khác",
                        format_vnd(-v)
                    )
                } else {
                    left(v, "tiền mặt ")
                }
            };
            let mut hand_over = if parts.is_empty() {
                format!("tiền mặt phải nộp chi nhánh {}", format_vnd(to_hand_over))
            } else {
                parts.push(day_left(to_hand_over));
                parts.join("; ")
            };
            if in_hand != to_hand_over {
                hand_over.push_str(&format!("; cộng mọi ngày, {}", left(in_hand, "")));
            }
            let mut text_vi = format!(
                "Ngày {}: thu {} ({} phiếu) — {}; {} lượt thăm hỏi{}, {} suất quà{}, {} bản ghi hủy, {} đề nghị đảo; {} bản ghi chờ gửi.",
                format_date(day),
                format_vnd(cash),
                repayments,
                hand_over,
                visits,
                of_them(visits_refused),
                gifts,
                of_them(gifts_refused),
                voids,
                reversal_requests,
                pending
            );
            let main_len = text_vi.len();
            if !rejected.is_empty() {
                // Held from a revoked phone, not refused: said so.
                let held = rejected
                    .iter()
                    .filter(|r| r.code.as_deref() == Some("device_revoked"))
                    .count();
                let how = if held == 0 {
                    "bị từ chối"
                } else if held == rejected.len() {
                    "bị giữ lại để giám sát xem xét (điện thoại đã bị thu hồi)"
                } else {
                    "bị từ chối hoặc giữ lại"
                };
                text_vi.push_str(&format!("\n{} bản ghi {how}:", rejected.len()));
                for r in &rejected {
                    text_vi.push_str(&format!(
                        "\n- #{} {}: {}",
                        r.device_seq,
                        r.summary,
                        r.message.as_deref().unwrap_or("không rõ lý do")
                    ));
                    if let Some(note) = &r.settled_note {
                        text_vi.push_str(&format!(" — chi nhánh đã xử lý: {note}"));
                    } else if let Some(a) = again.get(&r.client_id.to_string()) {
                        text_vi.push_str(&format!(
                            " — đã ghi lại bằng phiếu {} (chờ duyệt)",
                            a.receipt_no
                        ));
                    }
                }
            }
            if !wedged.is_empty() {
                text_vi.push_str(&format!(
                    "\n{} bản ghi gửi lỗi nhiều lần, đã tạm gác lại:",
                    wedged.len()
                ));
                for r in &wedged {
                    text_vi.push_str(&format!(
                        "\n- #{} {}: {}",
                        r.device_seq,
                        r.summary,
                        r.message.as_deref().unwrap_or("không rõ lý do")
                    ));
                }
            }
            // Said right after the day's sentence (before the lists of
            // records): cash refused on any day the branch has not dealt
            // with, the cash counted for the batches approved that day, and
            // what the officer owes the branch.
            let mut money_text = String::new();
            if refused_open_all > 0 && refused_open_all != open_refused {
                // Of it, cash held because this phone was revoked: taken
                // rightly, it goes to the supervisor, not back.
                let held_all: i64 = c.query_row(
                    &format!(
                        "SELECT coalesce(sum(r.amount), 0) FROM repayments r JOIN record_states s ON s.client_id = r.client_id
                         WHERE s.state = 'rejected' AND s.code = 'device_revoked' AND r.client_id NOT IN ({VOIDED})
                           AND NOT EXISTS (SELECT 1 FROM record_settlements x WHERE x.client_id = r.client_id)"
                    ),
                    [],
                    |r| r.get(0),
                )?;
                let what = if held_all == refused_open_all {
                    "thu trên máy đã bị thu hồi, được giữ lại chờ giám sát: mang nộp giám sát chi nhánh".to_string()
                } else if held_all > 0 {
                    format!(
                        "{} thu trên máy đã bị thu hồi mang nộp giám sát chi nhánh, phần còn lại trả lại người vay hoặc làm theo hướng dẫn của giám sát",
                        format_vnd(held_all)
                    )
                } else {
                    "trả lại người vay hoặc làm theo hướng dẫn của giám sát chi nhánh".to_string()
                };
                money_text.push_str(&format!(
                    "\nCộng mọi ngày, tiền bị từ chối chưa được chi nhánh xử lý: {} — {what}.",
                    format_vnd(refused_open_all)
                ));
            }
            if again_all > 0 {
                money_text.push_str(&format!(
                    "\nTiền của {} phiếu bị từ chối đã ghi lại bằng phiếu mới chờ duyệt: {} — nộp cùng phiếu mới (đã tính trong tiền phải nộp), không trả lại người vay; khi duyệt, chi nhánh đánh dấu phiếu cũ đã xử lý.",
                    again.len(),
                    format_vnd(again_all)
                ));
            }
            // Of her other phones (a lost one, its receipts held), or of
            // this phone before its book was started again.
            let refused_elsewhere: i64 = c.query_row(
                "SELECT COALESCE(SUM(amount), 0) FROM other_receipts WHERE state = 'rejected' AND settled = 0",
                [],
                |r| r.get(0),
            )?;
            if refused_elsewhere > 0 {
                money_text.push_str(&format!(
                    "\nTiền bị từ chối hoặc giữ lại của các phiếu thu ghi trên máy khác của bạn (hoặc trên máy này trước khi cài lại), chưa được chi nhánh xử lý: {} — mang tới chi nhánh hoặc làm theo hướng dẫn của giám sát.",
                    format_vnd(refused_elsewhere)
                ));
            }
            let mut cash_counts = Vec::new();
            let (mut cash_short, mut day_short) = (0, 0);
            let mut st = c.prepare_cached(
                "SELECT batch_id, decided_at, cash_expected, cash_received,
                        EXISTS (SELECT 1 FROM upload_batches u WHERE u.batch_id = cash_counts.batch_id)
                 FROM cash_counts ORDER BY decided_at",
            )?;
            let counts = st
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, bool>(4)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            for (batch, at, expected, received, sent_here) in counts {
                // The officer's batches from her other phones come down
                // too: said apart, their cash is not this phone's.
                let whose = if sent_here { "" } else { " (không gửi từ máy này)" };
                cash_short += expected - received;
                let at = from_millis(at)?;
                // A batch without cash (visits, gifts) has nothing counted.
                if crate::domain::time::local_date(at) != day || (expected == 0 && received == 0) {
                    continue;
                }
                let short = expected - received;
                day_short += short;
                // Below zero: the batch's reversals took back more than it
                // collected, and the branch owed the officer the rest.
                cash_counts.push(CashCountView {
                    batch_id: parse_uuid(&batch)?,
                    decided_at: at,
                    cash_expected: dong(expected),
                    cash_received: dong(received),
                    short: dong(short),
                });
                if expected < 0 && received == 0 {
                    // Nothing to hand over, nothing handed over: the
                    // branch keeps what it owes her as her overage.
                    money_text.push_str(&format!(
                        "\nLô duyệt lúc {}{whose}: các phiếu đề nghị đảo lấy lại nhiều hơn số đã thu, chi nhánh nợ lại bạn {} (ghi vào khoản thừa của bạn tại chi nhánh, trả khi bạn nhận).",
                        crate::domain::time::format_datetime(at),
                        format_vnd(-expected)
                    ));
                    continue;
                }
                let asked = if expected < 0 {
                    format!("chi nhánh nợ lại {}", format_vnd(-expected))
                } else {
                    format!("phải nộp {}", format_vnd(expected))
                };
                money_text.push_str(&format!(
                    "\nLô duyệt lúc {}{whose}: {asked}, giám sát đếm được {}{}.",
                    crate::domain::time::format_datetime(at),
                    format_vnd(received),
                    match short.cmp(&0) {
                        std::cmp::Ordering::Greater => format!(
                            " — thiếu {}, ghi nợ cán bộ tại chi nhánh",
                            format_vnd(short)
                        ),
                        std::cmp::Ordering::Less => format!(" — thừa {}", format_vnd(-short)),
                        std::cmp::Ordering::Equal => " — đủ".to_string(),
                    }
                ));
            }
            // Several batches counted that day: what they come to together.
            if cash_counts.len() > 1 {
                money_text.push_str(&format!(
                    "\nCộng {} lô duyệt trong ngày: {}.",
                    cash_counts.len(),
                    match day_short.cmp(&0) {
                        std::cmp::Ordering::Greater => format!("thiếu {}", format_vnd(day_short)),
                        // Credited to her over/short account: the branch's
                        // to give her, not cash she handed in by mistake.
                        std::cmp::Ordering::Less => format!(
                            "thừa {} (ghi có cho bạn tại chi nhánh)",
                            format_vnd(-day_short)
                        ),
                        std::cmp::Ordering::Equal => "đủ".to_string(),
                    }
                ));
            }
            // The server's balance, settlements since counted, when it
            // sends one; else what the counts add up to.
            let (sent, short_written_off, over_written_off): (Option<i64>, i64, i64) = c
                .query_row(
                    "SELECT cash_short, COALESCE(short_written_off, 0), COALESCE(over_written_off, 0)
                     FROM officer WHERE id = 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?
                .unwrap_or((None, 0, 0));
            let cash_short = sent.unwrap_or(cash_short);
            if cash_short != day_short {
                money_text.push_str(&match cash_short.cmp(&0) {
                    std::cmp::Ordering::Greater => format!(
                        "\nKhoản thiếu quỹ cán bộ còn nợ chi nhánh (mọi lô, sau các lần nộp bù): {}.",
                        format_vnd(cash_short)
                    ),
                    std::cmp::Ordering::Less => format!(
                        "\nKhoản thừa quỹ chi nhánh còn giữ của cán bộ: {}.",
                        format_vnd(-cash_short)
                    ),
                    std::cmp::Ordering::Equal if short_written_off + over_written_off > 0 => {
                        "\nKhoản thừa/thiếu quỹ không còn gì phải thanh toán với chi nhánh.".to_string()
                    }
                    std::cmp::Ordering::Equal => {
                        "\nKhoản thừa/thiếu quỹ đã được thanh toán hết với chi nhánh.".to_string()
                    }
                });
            }
            // A write-off is the fund's decision, not the officer's
            // payment: said with the balance, and on a day with cash
            // counted, so "settled" is not read as paid.
            if cash_short != day_short || !cash_counts.is_empty() {
                if short_written_off > 0 {
                    money_text.push_str(&format!(
                        "\nTrong các khoản thiếu quỹ, quỹ đã chịu {} theo quyết định xử lý: cán bộ không phải nộp số này.",
                        format_vnd(short_written_off)
                    ));
                }
                if over_written_off > 0 {
                    money_text.push_str(&format!(
                        "\nTrong các khoản thừa quỹ, quỹ đã ghi thu {} theo quyết định xử lý: chi nhánh không trả lại số này.",
                        format_vnd(over_written_off)
                    ));
                }
            }
            text_vi.insert_str(main_len, &money_text);
            let signatures_waiting = crate::sync::signatures::signatures_waiting(c)?;
            let refused = crate::sync::signatures::signatures_refused(c)?;
            // A sentence after a list item (the server's words, which may
            // end without a full stop) begins as one.
            let end_sentence = |t: &mut String| {
                if !t.trim_end().ends_with(['.', ':', '!', '?']) {
                    t.push('.');
                }
            };
            if signatures_waiting > 0 {
                end_sentence(&mut text_vi);
                text_vi.push_str(&format!(
                    "\n{signatures_waiting} ảnh chữ ký nhận quà chưa gửi lên máy chủ."
                ));
            }
            if !refused.is_empty() {
                end_sentence(&mut text_vi);
                text_vi.push_str(&format!(
                    "\n{} ảnh chữ ký bị máy chủ từ chối:",
                    refused.len()
                ));
                for (seq, summary, why) in &refused {
                    text_vi.push_str(&format!("\n- #{seq} {summary}: {why}"));
                }
            }
            Ok(DailySummary {
                day,
                cash_collected: dong(cash),
                cash_refused: dong(refused_cash),
                cash_refused_settled: dong(refused_settled),
                cash_refused_open: dong(refused_open_all),
                cash_refused_entered_again: dong(again_all),
                cash_approved: dong(approved_cash),
                cash_approved_before_restore: dong(handed_before_day),
                cash_taken_back: dong(kept_back),
                cash_to_hand_over: dong(to_hand_over),
                cash_in_hand: dong(in_hand),
                cash_counts,
                cash_short: dong(cash_short),
                short_written_off: dong(short_written_off),
                over_written_off: dong(over_written_off),
                repayments,
                visits,
                gifts,
                voids,
                reversal_requests,
                pending,
                rejected,
                wedged,
                signatures_waiting,
                signatures_refused: refused.len() as u32,
                text_vi,
            })
        })
    }
}

/// Cash collected from and visits to a worker on this device on a day.
fn today_activity(conn: &Connection, worker_id: &str, day: &str) -> Result<(i64, bool)> {
    let paid: i64 = conn.query_row(
        &format!(
            "SELECT coalesce(sum(r.amount), 0) FROM repayments r JOIN outbox o ON o.client_id = r.client_id
             JOIN record_states s ON s.client_id = r.client_id
             WHERE r.worker_id = ?1 AND o.local_day = ?2 AND s.state NOT IN ('rejected', 'reversed') AND r.client_id NOT IN ({VOIDED})"
        ),
        [worker_id, day],
        |r| r.get(0),
    )?;
    let visited: bool = conn.query_row(
        &format!(
            "SELECT EXISTS (SELECT 1 FROM visits v JOIN outbox o ON o.client_id = v.client_id
             JOIN record_states s ON s.client_id = v.client_id
             WHERE v.worker_id = ?1 AND o.local_day = ?2 AND s.state <> 'rejected' AND v.client_id NOT IN ({VOIDED}))"
        ),
        [worker_id, day],
        |r| r.get(0),
    )?;
    Ok((paid, visited))
}

/// A refused receipt entered again on this phone.
struct EnteredAgain {
    /// The refused receipt's local day.
    day: String,
    amount: i64,
    /// The new receipt's number.
    receipt_no: String,
}

/// The refused receipts on this phone not dealt with yet that the officer
/// entered again, by the refused receipt's client id: each paired with one
/// later receipt of the same loan and amount waiting for review, oldest
/// first, stamped in the days after she could know of the refusal (for
/// one refused as stamped in the future, the days before that too), as
/// the server's `refused_receipt_same_amount` flag looks at them: not the
/// next installment of the same amount.
fn entered_again_here(c: &Connection) -> Result<HashMap<String, EnteredAgain>> {
    // The server's spans; of them, on the phone, only the days after she
    // could know of the refusal (not the same day's next installment of
    // the same amount, which the supervisor may untick on the server),
    // unless it was refused as stamped in the future.
    let spans = |at: i64, known: i64| -> Result<Vec<(i64, i64)>> {
        let (at, known) = (from_millis(at)?, from_millis(known)?);
        let all = crate::domain::rules::entered_again_spans(at, known);
        let fast = crate::domain::rules::entered_again_after(at, known).is_some();
        Ok(all
            .iter()
            .skip(usize::from(!fast))
            .map(|(from, to)| (from.timestamp_millis(), to.timestamp_millis()))
            .collect())
    };
    let mut refused = c.prepare(&format!(
        "SELECT r.client_id, r.loan_id, r.amount, o.device_seq, o.local_day, o.recorded_at, s.updated_at
         FROM repayments r JOIN outbox o ON o.client_id = r.client_id JOIN record_states s ON s.client_id = r.client_id
         WHERE s.state = 'rejected' AND coalesce(s.code, '') <> 'device_revoked' AND r.client_id NOT IN ({VOIDED})
           AND NOT EXISTS (SELECT 1 FROM record_settlements x WHERE x.client_id = r.client_id)
         ORDER BY o.device_seq"
    ))?;
    type Refused = (String, String, i64, i64, String, i64, i64);
    let refused: Vec<Refused> = refused
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = HashMap::new();
    if refused.is_empty() {
        return Ok(out);
    }
    let mut waiting = c.prepare(&format!(
        "SELECT r.client_id, r.loan_id, r.amount, o.device_seq, o.recorded_at, r.receipt_no
         FROM repayments r JOIN outbox o ON o.client_id = r.client_id JOIN record_states s ON s.client_id = r.client_id
         WHERE s.state IN ('pending', 'accepted') AND r.client_id NOT IN ({VOIDED})
         ORDER BY o.device_seq"
    ))?;
    type Waiting = (String, String, i64, i64, i64, String);
    let waiting: Vec<Waiting> = waiting
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut used = std::collections::HashSet::new();
    for (id, loan, amount, seq, day, at, known) in refused {
        let spans = spans(at, known)?;
        let found = waiting.iter().find(|(x, l, a, s, x_at, _)| {
            !used.contains(x)
                && *l == loan
                && *a == amount
                && *s > seq
                && spans.iter().any(|&(from, to)| from <= *x_at && *x_at < to)
        });
        if let Some((x, .., receipt_no)) = found {
            used.insert(x.clone());
            out.insert(
                id,
                EnteredAgain {
                    day,
                    amount,
                    receipt_no: receipt_no.clone(),
                },
            );
        }
    }
    Ok(out)
}
