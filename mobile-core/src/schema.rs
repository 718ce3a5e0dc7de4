//! The on-device schema: created whole on a fresh install, upgraded step by
//! step otherwise, tracked by `PRAGMA user_version`. A database written by a
//! newer app is refused rather than guessed at.

use rusqlite::Connection;

use crate::error::{Error, Result};

pub const VERSION: i64 = 10;

const CREATE: &str = include_str!("schema/create.sql");
const V1_TO_V2: &str = include_str!("schema/v1_to_v2.sql");
const V2_TO_V3: &str = include_str!("schema/v2_to_v3.sql");
const V3_TO_V4: &str = include_str!("schema/v3_to_v4.sql");
const V4_TO_V5: &str = include_str!("schema/v4_to_v5.sql");
const V5_TO_V6: &str = include_str!("schema/v5_to_v6.sql");
const V6_TO_V7: &str = include_str!("schema/v6_to_v7.sql");
const V7_TO_V8: &str = include_str!("schema/v7_to_v8.sql");
const V8_TO_V9: &str = include_str!("schema/v8_to_v9.sql");
const V9_TO_V10: &str = include_str!("schema/v9_to_v10.sql");

/// Connection settings: WAL, foreign keys, a busy timeout. `synchronous`
/// is NORMAL for master data; facts are committed with FULL (see
/// [`crate::db::durable_commit`]).
pub fn configure(conn: &Connection) -> Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

/// Brings the schema to [`VERSION`].
pub fn init(conn: &mut Connection) -> Result<()> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > VERSION {
        return Err(Error::SchemaTooNew {
            found,
            supported: VERSION,
        });
    }
    if found == VERSION {
        return Ok(());
    }
    let tx = conn.transaction()?;
    if found == 0 {
        tx.execute_batch(CREATE)?;
    } else {
        upgrade_from(&tx, found)?;
    }
    tx.pragma_update(None, "user_version", VERSION)?;
    tx.commit()?;
    Ok(())
}

fn upgrade_from(conn: &Connection, from: i64) -> Result<()> {
    if from < 2 {
        conn.execute_batch(V1_TO_V2)?;
    }
    if from < 3 {
        conn.execute_batch(V2_TO_V3)?;
    }
    if from < 4 {
        conn.execute_batch(V3_TO_V4)?;
    }
    if from < 5 {
        conn.execute_batch(V4_TO_V5)?;
    }
    if from < 6 {
        conn.execute_batch(V5_TO_V6)?;
    }
    if from < 7 {
        conn.execute_batch(V6_TO_V7)?;
    }
    if from < 8 {
        conn.execute_batch(V7_TO_V8)?;
    }
    if from < 9 {
        conn.execute_batch(V8_TO_V9)?;
    }
    if from < 10 {
        conn.execute_batch(V9_TO_V10)?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rusqlite::OptionalExtension;

    pub const V1: &str = include_str!("schema/v1.sql");
    pub const V2: &str = include_str!("schema/v2.sql");
    pub const V3: &str = include_str!("schema/v3.sql");
    pub const V4: &str = include_str!("schema/v4.sql");
    pub const V5: &str = include_str!("schema/v5.sql");
    pub const V6: &str = include_str!("schema/v6.sql");
    pub const V7: &str = include_str!("schema/v7.sql");
    pub const V8: &str = include_str!("schema/v8.sql");
    pub const V9: &str = include_str!("schema/v9.sql");

    /// Tables, columns, indexes and triggers of a database, comparable.
    fn describe(conn: &Connection) -> Vec<String> {
        let mut out = Vec::new();
        let mut st = conn
            .prepare("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")
            .unwrap();
        let rows: Vec<(String, String, String, Option<String>)> = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for (kind, name, table, sql) in rows {
            match kind.as_str() {
                "table" => {
                    let mut c = conn
                        .prepare(&format!("PRAGMA table_xinfo({name})"))
                        .unwrap();
                    let cols: Vec<String> = c
                        .query_map([], |r| {
                            Ok(format!(
                                "{}:{}:{}:{:?}:{}",
                                r.get::<_, String>(1)?,
                                r.get::<_, String>(2)?,
                                r.get::<_, i64>(3)?,
                                r.get::<_, Option<String>>(4)?,
                                r.get::<_, i64>(5)?
                            ))
                        })
                        .unwrap()
                        .collect::<Result<_, _>>()
                        .unwrap();
                    out.push(format!("table {name} {}", cols.join(",")));
                }
                "index" => {
                    let mut c = conn
                        .prepare(&format!("PRAGMA index_xinfo({name})"))
                        .unwrap();
                    let cols: Vec<String> = c
                        .query_map([], |r| Ok(format!("{:?}", r.get::<_, Option<String>>(2)?)))
                        .unwrap()
                        .collect::<Result<_, _>>()
                        .unwrap();
                    out.push(format!("index {name} on {table} {}", cols.join(",")));
                }
                _ => {
                    let sql = sql.unwrap_or_default();
                    out.push(format!(
                        "{kind} {name} on {table} {}",
                        sql.split_whitespace().collect::<Vec<_>>().join(" ")
                    ));
                }
            }
        }
        out
    }

    #[test]
    fn upgrading_from_v1_equals_a_fresh_install() {
        let mut fresh = Connection::open_in_memory().unwrap();
        init(&mut fresh).unwrap();

        let mut old = Connection::open_in_memory().unwrap();
        old.execute_batch(V1).unwrap();
        old.pragma_update(None, "user_version", 1).unwrap();
        old.execute(
            "INSERT INTO workers (id, full_name, name_key, union_member, hardship) VALUES ('w', 'Nguyễn Thị Lan', 'nguyen thi lan', 1, 0)",
            [],
        )
        .unwrap();
        init(&mut old).unwrap();

        assert_eq!(describe(&old), describe(&fresh));
        let v: i64 = old
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, VERSION);
        let name: String = old
            .query_row("SELECT full_name FROM workers WHERE id = 'w'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(name, "Nguyễn Thị Lan");
    }

    #[test]
    fn upgrading_from_v2_equals_a_fresh_install_and_keeps_record_states() {
        let mut fresh = Connection::open_in_memory().unwrap();
        init(&mut fresh).unwrap();

        let mut old = Connection::open_in_memory().unwrap();
        old.execute_batch(V2).unwrap();
        old.pragma_update(None, "user_version", 2).unwrap();
        old.execute_batch(
            "INSERT INTO outbox VALUES ('c', 1, 'visit', 0, '2026-01-01', 'Thăm', '{}');
             INSERT INTO record_states VALUES ('c', 'rejected', 'already_received', 'Đã nhận quà', 'already received', 5);",
        )
        .unwrap();
        init(&mut old).unwrap();

        assert_eq!(describe(&old), describe(&fresh));
        let row: (String, String, i64) = old
            .query_row(
                "SELECT state, message_vi, updated_at FROM record_states WHERE client_id = 'c'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(row, ("rejected".into(), "Đã nhận quà".into(), 5));
        old.execute(
            "UPDATE record_states SET state = 'wedged' WHERE client_id = 'c'",
            [],
        )
        .unwrap();
    }

    #[test]
    fn upgrading_from_v3_equals_a_fresh_install_and_keeps_signatures_to_send() {
        let mut fresh = Connection::open_in_memory().unwrap();
        init(&mut fresh).unwrap();

        let mut old = Connection::open_in_memory().unwrap();
        old.execute_batch(V3).unwrap();
        old.pragma_update(None, "user_version", 3).unwrap();
        old.execute_batch(
            "INSERT INTO outbox VALUES ('g', 1, 'gift_handout', 0, '2026-01-01', 'Trao quà', '{}');
             INSERT INTO gift_handouts VALUES ('g', 'k', 'w', 'Lan', 0, 'ab');
             INSERT INTO signatures VALUES ('ab', x'89504e47');",
        )
        .unwrap();
        init(&mut old).unwrap();

        assert_eq!(describe(&old), describe(&fresh));
        let waiting: i64 = old
            .query_row(
                "SELECT COUNT(*) FROM gift_handouts g JOIN signatures s ON s.sha256 = g.signature_sha256
                 WHERE NOT EXISTS (SELECT 1 FROM signature_uploads u WHERE u.client_id = g.client_id)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(waiting, 1);
    }

    #[test]
    fn upgrading_from_v4_equals_a_fresh_install() {
        let mut fresh = Connection::open_in_memory().unwrap();
        init(&mut fresh).unwrap();

        let mut old = Connection::open_in_memory().unwrap();
        old.execute_batch(V4).unwrap();
        old.pragma_update(None, "user_version", 4).unwrap();
        old.execute(
            "INSERT INTO outbox VALUES ('r', 1, 'repayment', 0, '2026-01-01', 'Thu', '{}')",
            [],
        )
        .unwrap();
        old.execute("INSERT INTO meta VALUES ('cursor', 'e.42')", [])
            .unwrap();
        init(&mut old).unwrap();

        assert_eq!(describe(&old), describe(&fresh));
        let kept: i64 = old
            .query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kept, 1);
        let counts: i64 = old
            .query_row("SELECT COUNT(*) FROM cash_counts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(counts, 0);
        // What was decided before comes with the snapshot the next sync asks for.
        let cursor: i64 = old
            .query_row("SELECT COUNT(*) FROM meta WHERE key = 'cursor'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(cursor, 0);
    }

    #[test]
    fn upgrading_from_v5_equals_a_fresh_install_and_keeps_the_cursor() {
        let mut fresh = Connection::open_in_memory().unwrap();
        init(&mut fresh).unwrap();

        let mut old = Connection::open_in_memory().unwrap();
        old.execute_batch(V5).unwrap();
        old.pragma_update(None, "user_version", 5).unwrap();
        old.execute(
            "INSERT INTO officer VALUES (1, 'o', 'CB-01', 'Lan', 'b', 'Thủ Đức', 20000)",
            [],
        )
        .unwrap();
        old.execute("INSERT INTO meta VALUES ('cursor', 'e.42')", [])
            .unwrap();
        init(&mut old).unwrap();

        assert_eq!(describe(&old), describe(&fresh));
        let (short, off): (i64, Option<i64>) = old
            .query_row(
                "SELECT cash_short, short_written_off FROM officer",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((short, off), (20000, None));
        // Schema 7 downloads the portfolio again, once (the statuses with
        // their loans and amounts).
        let cursor: Option<String> = old
            .query_row("SELECT value FROM meta WHERE key = 'cursor'", [], |r| {
                r.get(0)
            })
            .optional()
            .unwrap();
        assert_eq!(cursor, None);
    }

    #[test]
    fn upgrading_from_v6_equals_a_fresh_install() {
        let mut fresh = Connection::open_in_memory().unwrap();
        init(&mut fresh).unwrap();

        let mut old = Connection::open_in_memory().unwrap();
        old.execute_batch(V6).unwrap();
        old.pragma_update(None, "user_version", 6).unwrap();
        old.execute("INSERT INTO meta VALUES ('cursor', 'e.42')", [])
            .unwrap();
        init(&mut old).unwrap();

        assert_eq!(describe(&old), describe(&fresh));
        // The next sync downloads the portfolio again: the statuses it
        // holds carry no loan or amount.
        let cursor: Option<String> = old
            .query_row("SELECT value FROM meta WHERE key = 'cursor'", [], |r| {
                r.get(0)
            })
            .optional()
            .unwrap();
        assert_eq!(cursor, None);
    }

    #[test]
    fn upgrading_from_v8_equals_a_fresh_install_and_keeps_settlements() {
        let mut fresh = Connection::open_in_memory().unwrap();
        init(&mut fresh).unwrap();
        let mut old = Connection::open_in_memory().unwrap();
        old.execute_batch(V8).unwrap();
        old.pragma_update(None, "user_version", 8).unwrap();
        old.execute_batch(
            "INSERT INTO outbox VALUES ('g', 1, 'gift_handout', 0, '2026-01-01', 'Trao quà', '{}');
             INSERT INTO record_settlements VALUES ('g', 'Đã trao thật', 1);",
        )
        .unwrap();
        init(&mut old).unwrap();
        assert_eq!(describe(&old), describe(&fresh));
        let kept: (String, i64) = old
            .query_row(
                "SELECT note, handed_out FROM record_settlements WHERE client_id = 'g'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(kept, ("Đã trao thật".to_string(), 0), "not known so before");
    }

    #[test]
    fn upgrading_from_v9_downloads_the_portfolio_again() {
        let mut fresh = Connection::open_in_memory().unwrap();
        init(&mut fresh).unwrap();
        let mut old = Connection::open_in_memory().unwrap();
        old.execute_batch(V9).unwrap();
        old.pragma_update(None, "user_version", 9).unwrap();
        old.execute_batch(
            "INSERT INTO meta VALUES ('cursor', 'e.42');
             INSERT INTO outbox VALUES ('g', 1, 'gift_handout', 0, '2026-01-01', 'Trao quà', '{}');",
        )
        .unwrap();
        init(&mut old).unwrap();
        assert_eq!(describe(&old), describe(&fresh));
        let cursor: Option<String> = old
            .query_row("SELECT value FROM meta WHERE key = 'cursor'", [], |r| {
                r.get(0)
            })
            .optional()
            .unwrap();
        assert_eq!(cursor, None, "the next sync downloads the portfolio");
        let kept: i64 = old
            .query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kept, 1, "the officer's records stay");
    }

    #[test]
    fn upgrading_from_v7_equals_a_fresh_install_and_downloads_the_codes() {
        let mut fresh = Connection::open_in_memory().unwrap();
        init(&mut fresh).unwrap();

        let mut old = Connection::open_in_memory().unwrap();
        old.execute_batch(V7).unwrap();
        old.pragma_update(None, "user_version", 7).unwrap();
        old.execute_batch(
            "INSERT INTO meta VALUES ('cursor', 'e.42');
             INSERT INTO workers (id, full_name, name_key, union_member, hardship) VALUES ('w', 'Nguyễn Thị Lan', 'nguyen thi lan', 1, 0);",
        )
        .unwrap();
        init(&mut old).unwrap();

        assert_eq!(describe(&old), describe(&fresh));
        let kept: (String, Option<String>) = old
            .query_row(
                "SELECT full_name, code FROM workers WHERE id = 'w'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(kept, ("Nguyễn Thị Lan".to_string(), None));
        // The next sync downloads the portfolio again, with the codes.
        let cursor: Option<String> = old
            .query_row("SELECT value FROM meta WHERE key = 'cursor'", [], |r| {
                r.get(0)
            })
            .optional()
            .unwrap();
        assert_eq!(cursor, None);
    }

    #[test]
    fn refuses_a_newer_database() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", VERSION + 1)
            .unwrap();
        assert!(matches!(
            init(&mut conn),
            Err(Error::SchemaTooNew { found, supported: VERSION }) if found == VERSION + 1
        ));
    }

    #[test]
    fn facts_are_append_only() {
        let mut conn = Connection::open_in_memory().unwrap();
        init(&mut conn).unwrap();
        conn.execute_batch(
            "INSERT INTO outbox VALUES ('c', 1, 'void', 0, '2026-01-01', 'Hủy', '{}');
             INSERT INTO voids VALUES ('c', 't', 'sai', 0);",
        )
        .unwrap();
        for sql in [
            "UPDATE outbox SET kind = 'visit'",
            "DELETE FROM outbox",
            "UPDATE voids SET reason = 'x'",
            "DELETE FROM voids",
        ] {
            let e = conn.execute(sql, []).unwrap_err().to_string();
            assert!(e.contains("append-only"), "{sql}: {e}");
        }
        for table in ["visits", "repayments", "gift_handouts", "reversal_requests"] {
            let n: i64 = conn
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?1",
                    [table],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(n, 2, "{table}");
        }
    }
}
