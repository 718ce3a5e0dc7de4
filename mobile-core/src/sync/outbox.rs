//! The sync client's state in the field book: the session (settings
//! table) and upload batches, each written in one transaction before the
//! network is touched.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use uuid::Uuid;

use crate::db::{from_millis, meta, parse_uuid, set_meta, Store};
use crate::domain::rules::is_device_code;
use crate::error::{Error, Result};
use crate::types::SessionInfo;
use crate::wire::{TokenResponse, UploadBatch, UploadOutcome, UploadRecord, UploadResult};

/// A batch written down and not yet answered for good.
#[derive(Debug, Clone)]
pub(crate) struct OpenBatch {
    pub seq: i64,
    pub batch_id: Uuid,
    /// The exact bytes to send (an [`UploadBatch`], JSON).
    pub body: String,
    pub records: u32,
}

/// How the server answered the records of one batch.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Tally {
    pub accepted: u32,
    pub duplicates: u32,
    pub rejected: u32,
    /// Records of the batch the answer left out (wedged).
    pub unanswered: u32,
}

/// What the sync client needs to call the server.
#[derive(Debug, Clone)]
pub(crate) struct Tokens {
    pub server_url: String,
    pub access: Option<String>,
    /// When the access token expires, by this phone's clock.
    pub access_expires_at: Option<chrono::DateTime<Utc>>,
    pub refresh: Option<String>,
}

fn setting(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?)
}

fn set_setting(tx: &Transaction, key: &str, value: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

fn store_tokens(tx: &Transaction, t: &TokenResponse) -> Result<()> {
    let now = Utc::now();
    set_setting(tx, "access_token", &t.access_token)?;
    set_setting(
        tx,
        "access_expires_at",
        &(now + Duration::seconds(t.expires_in.max(0)))
            .timestamp_millis()
            .to_string(),
    )?;
    set_setting(tx, "refresh_token", &t.refresh_token)?;
    set_setting(
        tx,
        "refresh_expires_at",
        &(now + Duration::seconds(t.refresh_expires_in.max(0)))
            .timestamp_millis()
            .to_string(),
    )?;
    // The server holds receipts of this device numbered beyond this book's
    // counter (the book restored from an older copy, or started again on
    // the same device): number on from there, never a number used twice.
    if let Some(d) = &t.device {
        if let Some(last) = d.last_receipt {
            if meta(tx, "device_code")?.as_deref() == Some(d.code.as_str())
                && last > receipts_printed(tx)?
            {
                tx.execute(
                    "INSERT INTO counters (name, value) VALUES ('receipt_seq', ?1)
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    [last],
                )?;
            }
        }
    }
    Ok(())
}

fn millis_setting(conn: &Connection, key: &str) -> Result<Option<chrono::DateTime<Utc>>> {
    setting(conn, key)?
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| Error::Corrupt(format!("setting {key} = {v:?}")))
                .and_then(from_millis)
        })
        .transpose()
}

impl Store {
    /// The signed-in session, if any (tokens are not shown).
    pub fn session(&self) -> Result<Option<SessionInfo>> {
        let device = self.device();
        self.read(|c| {
            let (Some(server_url), Some(username)) =
                (setting(c, "server_url")?, setting(c, "username")?)
            else {
                return Ok(None);
            };
            Ok(Some(SessionInfo {
                server_url,
                username,
                user_id: setting(c, "user_id")?,
                full_name: setting(c, "full_name")?.unwrap_or_default(),
                role: setting(c, "role")?.unwrap_or_default(),
                branch_id: setting(c, "branch_id")?,
                device_id: device.device_id,
                device_name: setting(c, "device_name")?.unwrap_or_default(),
                device_code: device.device_code.clone(),
                signed_in: setting(c, "refresh_token")?.is_some(),
                access_expires_at: millis_setting(c, "access_expires_at")?,
                refresh_expires_at: millis_setting(c, "refresh_expires_at")?,
            }))
        })
    }

    /// This book's device code once it printed receipts with it: a
    /// sign-in asks the server to keep it (a server restored from a backup
    /// taken before this phone first signed in no longer knows it).
    pub(crate) fn printed_code(&self) -> Result<Option<String>> {
        let code = self.device().device_code;
        self.read(|c| Ok((receipts_printed(c)? > 0 && is_device_code(&code)).then_some(code)))
    }

    pub(crate) fn tokens(&self) -> Result<Option<Tokens>> {
        self.read(|c| {
            let Some(server_url) = setting(c, "server_url")? else {
                return Ok(None);
            };
            Ok(Some(Tokens {
                server_url,
                access: setting(c, "access_token")?,
                access_expires_at: millis_setting(c, "access_expires_at")?,
                refresh: setting(c, "refresh_token")?,
            }))
        })
    }

    /// Keeps a new session. The device code the server assigned becomes
    /// this book's receipt code if no receipt was issued yet; otherwise a
    /// different code is a conflict and nothing is kept.
    pub(crate) fn save_login(
        &self,
        server_url: &str,
        username: &str,
        device_name: &str,
        t: &TokenResponse,
    ) -> Result<()> {
        let me = self.device();
        let assigned = match &t.device {
            Some(d) if !d.id.trim().eq_ignore_ascii_case(&me.device_id.to_string()) => {
                return Err(Error::conflict(
                    "device_mismatch",
                    format!(
                        "Máy chủ cấp phiên cho thiết bị {}, không phải thiết bị này ({})",
                        d.id, me.device_id
                    ),
                    format!(
                        "the server bound the session to device {}, not this one ({})",
                        d.id, me.device_id
                    ),
                ))
            }
            Some(d) if !is_device_code(&d.code) => {
                return Err(Error::conflict(
                    "bad_device_code",
                    format!("Máy chủ trả mã thiết bị không hợp lệ \"{}\"", d.code),
                    format!("the server sent an invalid device code \"{}\"", d.code),
                ))
            }
            Some(d) => Some(d.code.clone()),
            None => None,
        };
        let code = self.write_durable(|tx| {
            let current = meta(tx, "device_code")?.unwrap_or_default();
            let mut code = current.clone();
            if let Some(assigned) = assigned {
                if assigned != current {
                    let receipts = receipts_printed(tx)?;
                    if receipts > 0 {
                        return Err(Error::conflict(
                            "device_code_mismatch",
                            format!(
                                "Máy chủ cấp mã thiết bị {assigned} nhưng sổ này đã in {receipts} phiếu thu với mã {current}; \
                                 không đổi số phiếu thu. Hãy báo quản trị viên cấp lại mã {current} cho thiết bị này"
                            ),
                            format!(
                                "the server assigned device code {assigned} but this book already issued {receipts} \
                                 receipts with code {current}; receipt numbering is not changed. Ask an admin to give \
                                 this device code {current}"
                            ),
                        ));
                    }
                    set_meta(tx, "device_code", &assigned)?;
                    code = assigned;
                }
                set_meta(tx, "device_code_from_server", "1")?;
            }
            set_setting(tx, "server_url", server_url)?;
            set_setting(tx, "username", username)?;
            set_setting(tx, "device_name", device_name)?;
            if let Some(u) = &t.user {
                set_setting(tx, "user_id", &u.id)?;
                set_setting(tx, "full_name", &u.full_name)?;
                set_setting(tx, "role", &u.role)?;
                match &u.branch_id {
                    Some(b) => set_setting(tx, "branch_id", b)?,
                    None => {
                        tx.execute("DELETE FROM settings WHERE key = 'branch_id'", [])?;
                    }
                }
            }
            store_tokens(tx, t)?;
            // Signed in again: the device is not (or no longer) revoked,
            // and records again.
            tx.execute("DELETE FROM meta WHERE key IN ('revoked', 'signed_out')", [])?;
            Ok(code)
        })?;
        self.device
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .device_code = code;
        Ok(())
    }

    /// Keeps rotated tokens (durably, before they are used).
    pub(crate) fn save_tokens(&self, t: &TokenResponse) -> Result<()> {
        self.write_durable(|tx| store_tokens(tx, t))
    }

    /// Signs out a phone the server revoked, once what it held was sent to
    /// quarantine, and remembers it: it records nothing more (no receipt a
    /// worker would hold for cash that could never reach the books) until
    /// a sign-in succeeds again (the device restored).
    /// A revoked phone is most often a lost one: the portfolio leaves it
    /// (workers' names, phone and ID numbers, balances), to come down again
    /// whole if the device is restored; the officer's own records stay, and
    /// the cash her other phones' refused receipts hold (amounts only), for
    /// the day summary to go on saying it.
    /// With `keep_session`, records it could not send yet keep the
    /// session, whose refresh still lets them go up into quarantine at the
    /// next sync (then it signs out): nothing stays on a lost phone for
    /// want of a signal.
    pub(crate) fn sign_out_revoked(&self, keep_session: bool) -> Result<()> {
        if !keep_session {
            self.sign_out()?;
        }
        self.write_durable(|tx| {
            set_meta(tx, "revoked", "1")?;
            tx.execute_batch(
                "DELETE FROM campaign_recipients; DELETE FROM campaigns; DELETE FROM installments;
                 DELETE FROM waiting_elsewhere; DELETE FROM loans; DELETE FROM workers;
                 DELETE FROM boarding_houses; DELETE FROM meta WHERE key = 'cursor';",
            )?;
            Ok(())
        })
    }

    /// The officer signed out: what the book holds stays (records not sent
    /// yet go up after the next sign-in), but it records nothing until then
    /// (no receipt in the name of an officer who left the phone).
    pub fn sign_out_officer(&self) -> Result<()> {
        self.sign_out()?;
        self.write_durable(|tx| set_meta(tx, "signed_out", "1"))
    }

    /// Keeps how far the phone's clock is ahead of the server's (behind
    /// when negative), in seconds, from the time the server said it was
    /// while a request sent at `sent` (phone time) was answered: the
    /// request's time on the road never counts as the clock being off (the
    /// server's time lies between the phone's `sent` and now).
    pub(crate) fn note_clock(&self, server: DateTime<Utc>, sent: DateTime<Utc>) -> Result<i64> {
        let now = Utc::now();
        let ahead = if sent > server {
            (sent - server).num_seconds()
        } else if now < server {
            (now - server).num_seconds()
        } else {
            0
        };
        let boot = boot_clock();
        self.write(|tx| {
            set_meta(tx, "clock_ahead", &ahead.to_string())?;
            set_meta(tx, "clock_checked", &now.timestamp_millis().to_string())?;
            // The server's time of this sync, to name it (the measure may be
            // followed on by the boot clock since).
            set_meta(
                tx,
                "clock_synced_at",
                &server.timestamp_millis().to_string(),
            )?;
            match boot {
                // `<boot id> <milliseconds since that start>`
                Some((id, millis)) => set_meta(tx, "clock_checked_boot", &format!("{id} {millis}")),
                None => {
                    tx.execute("DELETE FROM meta WHERE key = 'clock_checked_boot'", [])?;
                    Ok(())
                }
            }
        })?;
        Ok(ahead)
    }

    /// Refuses a new record while the phone's clock runs fast beyond what
    /// the server allows (it would refuse every record as dated in its
    /// future). How fast it runs now is followed from what the last sync
    /// measured by the boot clock, so that a clock put right (or set wrong)
    /// since is seen at once, without a sync; after a restart, the last
    /// sync's measure holds until a sync measures it again or the clock is
    /// seen to move back (put right).
    fn refuse_if_clock_fast(&self) -> Result<()> {
        let (ahead, checked, checked_boot, synced_at) = self.read(|c| {
            Ok((
                meta(c, "clock_ahead")?,
                meta(c, "clock_checked")?,
                meta(c, "clock_checked_boot")?,
                meta(c, "clock_synced_at")?,
            ))
        })?;
        let now = Utc::now();
        // The server's time at the last sync, to say when it was.
        let synced_at = synced_at
            .and_then(|t| t.parse::<i64>().ok())
            .and_then(DateTime::<Utc>::from_timestamp_millis);
        let measure = ahead.and_then(|a| a.parse::<i64>().ok()).zip(
            checked
                .and_then(|t| t.parse::<i64>().ok())
                .and_then(DateTime::<Utc>::from_timestamp_millis),
        );
        // Followed by the boot clock only within the boot the sync was in:
        // after a restart the time since the sync is unknown.
        let then = checked_boot.and_then(|b| {
            let (id, millis) = b.split_once(' ')?;
            Some((id.to_string(), millis.parse::<i64>().ok()?))
        });
        let ahead_now = match (measure, then, boot_clock()) {
            (Some((ahead, checked)), Some((then_id, then_ms)), Some((id, ms))) if then_id == id => {
                crate::domain::time::clock_ahead_now(
                    ahead,
                    checked.timestamp_millis(),
                    then_ms,
                    now.timestamp_millis(),
                    ms,
                )
            }
            _ => None,
        };
        // A clock set back before that sync, or far past it with no sync
        // since, is wrong whatever the measure said (also after a restart,
        // and after the measure was dropped as put right); far past it is
        // believed when the boot clock, running since the sync, agrees (an
        // officer back from weeks of leave, her phone never restarted).
        let followed = ahead_now.is_some_and(|a| !crate::domain::time::clock_off(a));
        if let Some((vi, en)) =
            synced_at.and_then(|at| crate::domain::time::clock_unbelievable(now, at, followed))
        {
            return Err(Error::conflict("clock_wrong", vi, en));
        }
        let Some((ahead, checked)) = measure else {
            return Ok(());
        };
        let synced_at = synced_at
            .or_else(|| {
                chrono::Duration::try_seconds(ahead).and_then(|d| checked.checked_sub_signed(d))
            })
            .unwrap_or(checked);
        if let (Some(a), Some((id, ms))) = (ahead_now, boot_clock()) {
            if crate::domain::time::clock_too_fast(a) != crate::domain::time::clock_too_fast(ahead)
            {
                // Put right (or set wrong) since the sync: what the boot
                // clock found stands as the measure, also after a restart.
                self.write(|tx| {
                    set_meta(tx, "clock_ahead", &a.to_string())?;
                    set_meta(tx, "clock_checked", &now.timestamp_millis().to_string())?;
                    set_meta(tx, "clock_checked_boot", &format!("{id} {ms}"))
                })?;
            }
        }
        let ahead = match ahead_now {
            Some(a) if crate::domain::time::clock_too_fast(a) => a,
            Some(_) => return Ok(()),
            None if !crate::domain::time::clock_too_fast(ahead) => return Ok(()),
            None => ahead,
        };
        if ahead_now.is_none() && now < checked {
            // The clock went back since it was measured: put right.
            self.write(|tx| {
                tx.execute(
                    "DELETE FROM meta WHERE key IN ('clock_ahead', 'clock_checked')",
                    [],
                )?;
                Ok(())
            })?;
            return Ok(());
        }
        let off = crate::domain::time::duration_words(ahead);
        Err(Error::conflict(
            "clock_wrong",
            format!(
                "Đồng hồ điện thoại đang nhanh {} so với máy chủ (theo giờ máy chủ đo được lúc đồng bộ {}): máy chủ sẽ từ chối mọi bản ghi vì ghi giờ ở tương lai. Hãy bật \"Ngày và giờ tự động\" trong Cài đặt (hoặc chỉnh lại giờ) rồi ghi",
                off.0,
                crate::domain::time::format_datetime(synced_at)
            ),
            format!(
                "the phone's clock is {} fast against the server's (from the server's time measured at the sync of {}): the server would refuse every record as dated in its future. Turn on automatic date and time in Settings (or set the time right), then record",
                off.1,
                crate::domain::time::format_datetime(synced_at)
            ),
        ))
    }

    /// Refuses to show the portfolio (workers, their loans, campaigns) on
    /// a phone whose officer signed out or that the server revoked: a
    /// phone handed on or lost shows nothing of the workers (names, phones,
    /// CCCD numbers). What it holds stays.
    pub(crate) fn refuse_portfolio_unless_signed_in(&self) -> Result<()> {
        if self.read(|c| meta(c, "revoked"))?.is_some() {
            return Err(self.revoked(
                "Điện thoại này đã bị thu hồi nên không còn danh sách người lao động",
                "this phone was revoked, so it holds no workers any more",
            )?);
        }
        self.refuse_if_signed_out()
    }

    /// A revoked phone's refusal: `head` (Vietnamese, English), then what
    /// became of what it held — sent to the supervisor, or records still on
    /// it that the branch must see.
    fn revoked(&self, head_vi: &str, head_en: &str) -> Result<Error> {
        // Waiting to go up, or set aside after failing: on the phone only.
        let unsent: u32 = self.read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM record_states WHERE state IN ('pending', 'wedged')",
                [],
                |r| r.get(0),
            )?)
        })?;
        let (vi, en) = if unsent == 0 {
            (
                format!("{head_vi}. Những gì máy giữ đã được gửi cho giám sát (xem trong hộp thư đi và tổng kết ngày). Báo chi nhánh; làm việc tiếp trên một máy khác"),
                format!("{head_en}. What it held was sent to the supervisor (see the outbox and the day summary). Tell the branch; work on another phone"),
            )
        } else {
            (
                format!("{head_vi}. Còn {unsent} bản ghi máy chủ chưa báo đã nhận (xem trong hộp thư đi): đồng bộ lại khi có mạng để gửi chúng cho giám sát, hoặc mang máy tới chi nhánh; làm việc tiếp trên một máy khác"),
                format!("{head_en}. {unsent} records the server has not confirmed yet (see the outbox): sync again when there is a connection to send them to the supervisor, or bring the phone to the branch; work on another phone"),
            )
        };
        Ok(Error::Remote {
            class: crate::error::RemoteClass::Auth,
            code: "device_revoked".into(),
            message_vi: vi,
            message_en: en,
        })
    }

    /// Refuses to show anything of the officer's work (workers, receipts,
    /// records) on a phone whose officer signed out. A revoked phone still
    /// shows its own records: what it held and sent, for its officer to
    /// account for with the branch.
    pub(crate) fn refuse_if_signed_out(&self) -> Result<()> {
        if self.read(|c| meta(c, "signed_out"))?.is_some() {
            return Err(Error::Remote {
                class: crate::error::RemoteClass::Auth,
                code: "signed_out".into(),
                message_vi: "Bạn đã đăng xuất nên máy không hiện người lao động, phiếu thu hay bản ghi nào: \
                             hãy đăng nhập lại (những bản ghi chưa gửi vẫn còn trên máy)"
                    .into(),
                message_en: "you signed out, so the phone shows no workers, receipts or records: sign in again \
                             (records not sent yet stay on the phone)"
                    .into(),
            });
        }
        Ok(())
    }

    /// Refuses a new record on a phone the server revoked, or whose officer
    /// signed out, or whose clock is wrong.
    pub(crate) fn refuse_unless_recording(&self) -> Result<()> {
        self.refuse_if_clock_fast()?;
        if self.read(|c| meta(c, "signed_out"))?.is_some() {
            return Err(Error::Remote {
                class: crate::error::RemoteClass::Auth,
                code: "signed_out".into(),
                message_vi: "Bạn đã đăng xuất nên máy không ghi được: hãy đăng nhập lại để ghi \
                             (những bản ghi chưa gửi vẫn còn trên máy và được gửi sau khi đăng nhập)"
                    .into(),
                message_en: "you signed out, so the phone records nothing: sign in again to record \
                             (records not sent yet stay on the phone and go up after signing in)"
                    .into(),
            });
        }
        if self.read(|c| meta(c, "revoked"))?.is_some() {
            return Err(self.revoked(
                "Điện thoại này đã bị thu hồi nên không ghi thêm được (không thu tiền, không trao quà trên máy này)",
                "this phone was revoked, so it records nothing more (take no cash, hand out no gift with it)",
            )?);
        }
        Ok(())
    }

    /// Forgets the tokens (the server and user name stay for the next sign-in).
    pub fn sign_out(&self) -> Result<()> {
        self.write_durable(|tx| {
            tx.execute(
                "DELETE FROM settings WHERE key IN ('access_token', 'access_expires_at', 'refresh_token', 'refresh_expires_at')",
                [],
            )?;
            Ok(())
        })
    }

    /// Records waiting to be sent (pending, including those in open batches).
    /// What the server holds of this phone in quarantine (it was revoked):
    /// how many records, and the cash of their repayments not voided.
    pub(crate) fn held_in_quarantine(&self) -> Result<(u32, i64)> {
        self.read(|c| {
            Ok(c.query_row(
                &format!(
                    "SELECT count(*), COALESCE(SUM(CASE WHEN p.client_id IN ({}) THEN 0 ELSE p.amount END), 0)
                     FROM record_states s LEFT JOIN repayments p ON p.client_id = s.client_id
                     WHERE s.state = 'rejected' AND s.code = 'device_revoked'",
                    crate::record::VOIDED
                ),
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
    }

    pub(crate) fn to_send(&self) -> Result<u32> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM record_states WHERE state = 'pending'",
                [],
                |r| r.get(0),
            )?)
        })
    }

    /// The oldest batch written down and not answered for good, skipping
    /// `skip` (batches that already failed during this sync).
    pub(crate) fn next_open_batch(&self, skip: &HashSet<i64>) -> Result<Option<OpenBatch>> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT seq, batch_id, body, records FROM upload_batches WHERE state = 'open' ORDER BY seq",
            )?;
            let rows = st
                .query_map([], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, u32>(3)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .find(|(seq, ..)| !skip.contains(seq))
                .map(|(seq, id, body, records)| {
                    Ok(OpenBatch {
                        seq,
                        batch_id: parse_uuid(&id)?,
                        body,
                        records,
                    })
                })
                .transpose()
        })
    }

    /// Writes down the next batch: up to `limit` pending records that are
    /// in no open batch (one that failed in this sync waits for the next),
    /// oldest first, with a new batch id (UUID v7). Not a void of a record
    /// that waits so or is set aside: the server would refuse a void of a
    /// record it has not got; the void goes up with or after its record.
    pub(crate) fn create_batch(&self, limit: usize) -> Result<Option<OpenBatch>> {
        let device_id = self.device_id();
        self.write_durable(|tx| {
            let mut st = tx.prepare_cached(
                "SELECT o.client_id, o.envelope FROM outbox o JOIN record_states s ON s.client_id = o.client_id
                 WHERE s.state = 'pending' AND o.client_id NOT IN (
                     SELECT r.client_id FROM upload_batch_records r
                     JOIN upload_batches b ON b.seq = r.batch_seq WHERE b.state = 'open')
                   AND NOT EXISTS (SELECT 1 FROM voids v JOIN record_states ts ON ts.client_id = v.target_id
                       WHERE v.client_id = o.client_id
                         AND (ts.state = 'wedged' OR v.target_id IN (
                             SELECT r.client_id FROM upload_batch_records r
                             JOIN upload_batches b ON b.seq = r.batch_seq WHERE b.state = 'open')))
                 ORDER BY o.device_seq LIMIT ?1",
            )?;
            let rows = st
                .query_map([limit as i64], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            if rows.is_empty() {
                return Ok(None);
            }
            let records = rows
                .iter()
                .map(|(_, env)| {
                    serde_json::from_str::<UploadRecord>(env).map_err(|source| Error::Json {
                        context: "envelope",
                        source,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let ids: Vec<String> = rows.into_iter().map(|(id, _)| id).collect();
            insert_batch(tx, device_id, records, &ids).map(Some)
        })
    }

    /// The `acknowledged` cursor of the latest upload answer, sent back
    /// with downloads.
    pub(crate) fn acked_cursor(&self) -> Result<Option<String>> {
        self.read(|c| crate::db::meta(c, "acked"))
    }

    /// Records the server's answer to a batch and closes it, in one
    /// transaction, with the answer's `acknowledged` cursor. Results for
    /// records outside the batch are ignored.
    pub(crate) fn finish_batch(
        &self,
        b: &OpenBatch,
        results: &[UploadResult],
        acknowledged: Option<&str>,
    ) -> Result<Tally> {
        self.write_durable(|tx| {
            if let Some(a) = acknowledged {
                crate::db::set_meta(tx, "acked", a)?;
            }
            let members = batch_members(tx, b.seq)?;
            let mut st = tx.prepare_cached(
                "UPDATE record_states SET state = ?2, code = ?3, message_vi = ?4, message_en = ?5, updated_at = ?6
                 WHERE client_id = ?1 AND state = 'pending'",
            )?;
            let now = Utc::now().timestamp_millis();
            let mut tally = Tally::default();
            for r in results {
                let id = r.client_id.to_string();
                if !members.contains(&id) {
                    continue;
                }
                let state = match r.outcome {
                    UploadOutcome::Accepted => {
                        tally.accepted += 1;
                        "accepted"
                    }
                    UploadOutcome::Duplicate => {
                        tally.duplicates += 1;
                        "accepted"
                    }
                    UploadOutcome::Rejected => {
                        tally.rejected += 1;
                        "rejected"
                    }
                };
                st.execute(params![id, state, r.code, r.message_vi, r.message_en, now])?;
            }
            // The server owes one result per record; a record left out is
            // set aside rather than resent in a loop.
            let answered: HashSet<String> =
                results.iter().map(|r| r.client_id.to_string()).collect();
            let mut wedge = tx.prepare_cached(
                "UPDATE record_states SET state = 'wedged', code = 'no_result', message_vi = ?2, message_en = ?3, updated_at = ?4
                 WHERE client_id = ?1 AND state = 'pending'",
            )?;
            for id in members.difference(&answered) {
                tally.unanswered += wedge.execute(params![
                    id,
                    format!("Máy chủ không trả kết quả cho bản ghi này (lô {})", b.batch_id),
                    format!("the server's answer left this record out (batch {})", b.batch_id),
                    now
                ])? as u32;
            }
            close_batch(tx, b.seq, "done", None)?;
            Ok(tally)
        })
    }

    /// Replaces a refused batch of several records by its two halves, so
    /// that a bad record ends up alone and the others go through.
    pub(crate) fn split_batch(&self, b: &OpenBatch, reason: &str) -> Result<()> {
        let device_id = self.device_id();
        let batch: UploadBatch = serde_json::from_str(&b.body).map_err(|source| Error::Json {
            context: "upload batch",
            source,
        })?;
        self.write_durable(|tx| {
            close_batch(tx, b.seq, "split", Some(reason))?;
            let mut records = batch.records.clone();
            let second = records.split_off(records.len() / 2);
            for half in [records, second] {
                let ids: Vec<String> = half.iter().map(|r| r.client_id.to_string()).collect();
                insert_batch(tx, device_id, half, &ids)?;
            }
            Ok(())
        })
    }

    /// Counts a failed attempt at a batch; returns the attempts so far.
    pub(crate) fn fail_batch(&self, b: &OpenBatch, reason: &str) -> Result<i64> {
        self.write_durable(|tx| {
            Ok(tx.query_row(
                "UPDATE upload_batches SET attempts = attempts + 1, last_error = ?2, updated_at = ?3
                 WHERE seq = ?1 RETURNING attempts",
                params![b.seq, reason, Utc::now().timestamp_millis()],
                |r| r.get(0),
            )?)
        })
    }

    /// Sets a batch aside: its pending records become `wedged` with the
    /// reason, and later records go on. Returns how many were wedged.
    pub(crate) fn wedge_batch(
        &self,
        b: &OpenBatch,
        code: &str,
        message_vi: &str,
        message_en: &str,
    ) -> Result<u32> {
        self.write_durable(|tx| {
            close_batch(tx, b.seq, "wedged", Some(message_en))?;
            let n = tx.execute(
                "UPDATE record_states SET state = 'wedged', code = ?2, message_vi = ?3, message_en = ?4, updated_at = ?5
                 WHERE state = 'pending' AND client_id IN (SELECT client_id FROM upload_batch_records WHERE batch_seq = ?1)",
                params![b.seq, code, message_vi, message_en, Utc::now().timestamp_millis()],
            )?;
            Ok(n as u32)
        })
    }

    /// After the server refused this phone's cursors (its database was
    /// restored from a backup): the cursors are dropped (the next pull
    /// downloads the whole portfolio), every record the server had stored
    /// — acknowledged, then approved, reversed or rejected at review — goes
    /// back in the queue, and the signature images it had go back to be
    /// sent, in one transaction. The server answers "duplicate" (with its
    /// stored result) for what it still has and stores again what the
    /// restore lost; the portfolio's statuses then bring back each
    /// decision. A record refused at upload stays refused (the officer may
    /// have recorded it again, corrected), and wedged records stay set
    /// aside. Returns how many records.
    pub(crate) fn restart_sync(&self) -> Result<u32> {
        self.write_durable(|tx| {
            tx.execute("DELETE FROM meta WHERE key IN ('cursor', 'acked')", [])?;
            // Their cash was handed over at that approval: kept in mind
            // while they wait for review again, and said when sent.
            tx.execute(
                "INSERT OR IGNORE INTO approved_before_restore (client_id)
                 SELECT client_id FROM record_states WHERE state = 'approved'",
                [],
            )?;
            let records = tx.execute(
                "UPDATE record_states SET state = 'pending', code = NULL, message_vi = NULL, message_en = NULL, updated_at = ?1
                 WHERE state IN ('accepted', 'approved', 'reversed')
                    OR (state = 'rejected' AND code IN ('excluded_by_supervisor', 'batch_rejected'))",
                [Utc::now().timestamp_millis()],
            )?;
            tx.execute("DELETE FROM signature_uploads WHERE state = 'sent'", [])?;
            Ok(records as u32)
        })
    }

    /// Puts wedged records back in the queue (in new batches), and refused
    /// signature images, for the next sync. Returns how many.
    pub fn retry_wedged(&self) -> Result<u32> {
        self.write_durable(|tx| {
            let records = tx.execute(
                "UPDATE record_states SET state = 'pending', code = NULL, message_vi = NULL, message_en = NULL, updated_at = ?1
                 WHERE state = 'wedged'",
                [Utc::now().timestamp_millis()],
            )?;
            let signatures =
                tx.execute("DELETE FROM signature_uploads WHERE state = 'refused'", [])?;
            Ok((records + signatures) as u32)
        })
    }
}

/// How many receipts this book printed.
fn receipts_printed(c: &Connection) -> Result<i64> {
    Ok(c.query_row(
        "SELECT value FROM counters WHERE name = 'receipt_seq'",
        [],
        |r| r.get(0),
    )
    .optional()?
    .unwrap_or(0))
}

fn insert_batch(
    tx: &Transaction,
    device_id: Uuid,
    records: Vec<UploadRecord>,
    ids: &[String],
) -> Result<OpenBatch> {
    let mut approved_before = Vec::new();
    {
        let mut st =
            tx.prepare_cached("SELECT 1 FROM approved_before_restore WHERE client_id = ?1")?;
        for r in &records {
            if st.exists([r.client_id.to_string()])? {
                approved_before.push(r.client_id);
            }
        }
    }
    let batch = UploadBatch {
        batch_id: Uuid::now_v7(),
        device_id,
        records,
        approved_before,
    };
    let body = serde_json::to_string(&batch).map_err(|source| Error::Json {
        context: "upload batch",
        source,
    })?;
    let now = Utc::now().timestamp_millis();
    let seq: i64 = tx.query_row(
        "INSERT INTO upload_batches (batch_id, body, records, state, created_at, updated_at)
         VALUES (?1, ?2, ?3, 'open', ?4, ?4) RETURNING seq",
        params![batch.batch_id.to_string(), body, ids.len() as i64, now],
        |r| r.get(0),
    )?;
    let mut st = tx.prepare_cached(
        "INSERT INTO upload_batch_records (batch_seq, client_id) VALUES (?1, ?2)",
    )?;
    for id in ids {
        st.execute(params![seq, id])?;
    }
    Ok(OpenBatch {
        seq,
        batch_id: batch.batch_id,
        body,
        records: ids.len() as u32,
    })
}

fn batch_members(conn: &Connection, seq: i64) -> Result<HashSet<String>> {
    let mut st =
        conn.prepare_cached("SELECT client_id FROM upload_batch_records WHERE batch_seq = ?1")?;
    let v = st
        .query_map([seq], |r| r.get::<_, String>(0))?
        .collect::<Result<HashSet<_>, _>>()?;
    Ok(v)
}

/// Closes a batch. The bytes of an answered or split batch are dropped
/// (they are never sent again); a wedged batch keeps them for diagnosis.
fn close_batch(tx: &Transaction, seq: i64, state: &str, reason: Option<&str>) -> Result<()> {
    tx.execute(
        "UPDATE upload_batches SET state = ?2, last_error = coalesce(?3, last_error), updated_at = ?4,
           body = CASE WHEN ?2 = 'wedged' THEN body ELSE '' END
         WHERE seq = ?1",
        params![seq, state, reason, Utc::now().timestamp_millis()],
    )?;
    Ok(())
}

/// The boot clock: which boot of the phone this is (an id that changes
/// at every start), and the time since that start in milliseconds, asleep
/// or not, which no one sets. Linux and Android: the kernel's `boot_id`
/// and `CLOCK_BOOTTIME`. `None` elsewhere, or when either cannot be read:
/// the clock is then known only from the last sync.
fn boot_clock() -> Option<(String, i64)> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
        let id = id.trim();
        if id.is_empty() {
            return None;
        }
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec for the call's
        // duration, and CLOCK_BOOTTIME a clock these kernels define.
        let read = unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) };
        // `time_t` and `c_long` are 32 bits on 32-bit Android.
        #[allow(clippy::unnecessary_cast)]
        let millis = ts.tv_sec as i64 * 1000 + ts.tv_nsec as i64 / 1_000_000;
        (read == 0).then(|| (id.to_string(), millis))
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    None
}
