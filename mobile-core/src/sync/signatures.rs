//! Gift signature images on their way to the server. An image is sent once
//! the server has answered for its gift record (accepted or rejected: the
//! image is evidence either way), and marked sent or refused.

use chrono::Utc;
use rusqlite::{params, Connection};
use uuid::Uuid;

use crate::db::{parse_uuid, Store};
use crate::error::{Error, Result};

/// A gift whose signature image the server does not hold yet.
#[derive(Debug, Clone)]
pub(crate) struct SignatureToSend {
    pub client_id: Uuid,
    pub sha256: String,
}

/// Gifts with a signature neither sent nor refused, `ready` ones only:
/// those whose record the server has answered for.
fn waiting_sql(ready: bool) -> String {
    format!(
        "FROM gift_handouts g JOIN record_states s ON s.client_id = g.client_id
         JOIN outbox o ON o.client_id = g.client_id
         WHERE g.signature_sha256 IS NOT NULL {}
           AND NOT EXISTS (SELECT 1 FROM signature_uploads u WHERE u.client_id = g.client_id)",
        if ready {
            "AND s.state NOT IN ('pending', 'wedged')"
        } else {
            ""
        }
    )
}

pub(crate) fn signatures_waiting(c: &Connection) -> Result<u32> {
    Ok(c.query_row(
        &format!("SELECT count(*) {}", waiting_sql(false)),
        [],
        |r| r.get(0),
    )?)
}

/// Gifts whose signature image the server refused, with the reason:
/// (device sequence, summary, reason).
pub(crate) fn signatures_refused(c: &Connection) -> Result<Vec<(i64, String, String)>> {
    let mut st = c.prepare(
        "SELECT o.device_seq, o.summary, coalesce(u.message_vi, u.code, '')
         FROM signature_uploads u JOIN outbox o ON o.client_id = u.client_id
         WHERE u.state = 'refused' ORDER BY o.device_seq",
    )?;
    let rows = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

impl Store {
    /// The images to send now, oldest gift first.
    pub(crate) fn signatures_to_send(&self) -> Result<Vec<SignatureToSend>> {
        self.read(|c| {
            let mut st = c.prepare(&format!(
                "SELECT g.client_id, g.signature_sha256 {} ORDER BY o.device_seq",
                waiting_sql(true)
            ))?;
            let rows = st
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .map(|(id, sha256)| {
                    Ok(SignatureToSend {
                        client_id: parse_uuid(&id)?,
                        sha256,
                    })
                })
                .collect()
        })
    }

    pub(crate) fn signature_image(&self, sha256: &str) -> Result<Vec<u8>> {
        self.read(|c| {
            c.query_row(
                "SELECT image FROM signatures WHERE sha256 = ?1",
                [sha256],
                |r| r.get(0),
            )
            .map_err(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => {
                    Error::Corrupt(format!("the signature image {sha256} is missing"))
                }
                e => e.into(),
            })
        })
    }

    /// Signature images still to send (refused ones excluded).
    pub fn signatures_waiting(&self) -> Result<u32> {
        self.read(signatures_waiting)
    }

    pub(crate) fn signature_sent(&self, client_id: Uuid) -> Result<()> {
        self.mark_signature(client_id, "sent", None, None, None)
    }

    pub(crate) fn signature_refused(
        &self,
        client_id: Uuid,
        code: &str,
        message_vi: &str,
        message_en: &str,
    ) -> Result<()> {
        self.mark_signature(
            client_id,
            "refused",
            Some(code),
            Some(message_vi),
            Some(message_en),
        )
    }

    fn mark_signature(
        &self,
        client_id: Uuid,
        state: &str,
        code: Option<&str>,
        vi: Option<&str>,
        en: Option<&str>,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO signature_uploads (client_id, state, code, message_vi, message_en, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (client_id) DO UPDATE SET state = excluded.state, code = excluded.code,
                     message_vi = excluded.message_vi, message_en = excluded.message_en,
                     updated_at = excluded.updated_at",
                params![
                    client_id.to_string(),
                    state,
                    code,
                    vi,
                    en,
                    Utc::now().timestamp_millis()
                ],
            )?;
            Ok(())
        })
    }
}
