//! Finding a worker fast, offline: an in-memory index over the folded name
//! key (accent- and case-insensitive, `đ` = `d`), the canonical phone, the
//! CCCD, the worker's code and loan numbers, rebuilt whenever master data
//! changes.

use rusqlite::Connection;

use crate::domain::ids::phone_query;
use crate::domain::text::{name_matches, query_terms};
use crate::error::Result;

struct Entry {
    id: String,
    name_key: String,
    phone: Option<String>,
    cccd: Option<String>,
    /// The fund's code for the worker (`NLD-00119`), upper case.
    code: Option<String>,
    /// The worker's loan numbers, upper case.
    loans: Vec<String>,
}

#[derive(Default)]
pub struct SearchIndex {
    /// Ordered by name key, then id.
    entries: Vec<Entry>,
    /// The download cursor the master data stood at when it was read: a
    /// sync through another handle on the same book moves it on.
    pub(crate) cursor: Option<String>,
}

impl SearchIndex {
    pub fn load(conn: &Connection) -> Result<SearchIndex> {
        let mut st = conn.prepare(
            "SELECT w.id, w.name_key, w.phone, w.cccd,
                    (SELECT group_concat(l.contract_no, char(10)) FROM loans l WHERE l.worker_id = w.id),
                    w.code
             FROM workers w ORDER BY w.name_key, w.id",
        )?;
        let entries = st
            .query_map([], |r| {
                let loans: Option<String> = r.get(4)?;
                Ok(Entry {
                    id: r.get(0)?,
                    name_key: r.get(1)?,
                    phone: r.get(2)?,
                    cccd: r.get(3)?,
                    code: r.get(5)?,
                    loans: loans
                        .unwrap_or_default()
                        .lines()
                        .map(str::to_uppercase)
                        .collect(),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let cursor = crate::db::meta(conn, "cursor")?;
        Ok(SearchIndex { entries, cursor })
    }

    /// Ids of the workers matching `query`, at most `limit`, by name.
    ///
    /// A query of digits (with the spaces, dots, dashes and `+84` people
    /// type) matches phone numbers and CCCDs containing it; one word of
    /// letters and digits (`KV-000048`, `kv-000048`) the workers with a loan
    /// numbered so; any other query matches names where every term starts a
    /// word, in any order. First of all, a word that is a worker's code
    /// (`NLD-00119`, `00119`, in any case) finds that worker.
    pub fn find(&self, query: &str, limit: usize) -> Vec<String> {
        let code = query.trim().to_uppercase();
        // A worker's code, whatever its shape (`00119`, `NLD-00119`).
        if !code.is_empty() && !code.contains(char::is_whitespace) {
            let exact: Vec<String> = self
                .entries
                .iter()
                .filter(|e| e.code.as_deref() == Some(code.as_str()))
                .take(limit)
                .map(|e| e.id.clone())
                .collect();
            if !exact.is_empty() {
                return exact;
            }
        }
        // A worker's or a loan's code typed another way (`nld00519`,
        // `nld 519`, `kv000103`).
        if let Some(key) = crate::domain::ids::code_key(query) {
            let same = |c: &str| crate::domain::ids::code_key(c).as_ref() == Some(&key);
            let hits: Vec<String> = self
                .entries
                .iter()
                .filter(|e| e.code.as_deref().is_some_and(same) || e.loans.iter().any(|l| same(l)))
                .take(limit)
                .map(|e| e.id.clone())
                .collect();
            if !hits.is_empty() {
                return hits;
            }
        }
        if !code.contains(char::is_whitespace)
            && code.chars().any(|c| c.is_ascii_digit())
            && code.chars().any(char::is_alphabetic)
        {
            let hits: Vec<String> = self
                .entries
                .iter()
                .filter(|e| e.loans.iter().any(|l| l.contains(&code)))
                .take(limit)
                .map(|e| e.id.clone())
                .collect();
            if !hits.is_empty() {
                return hits;
            }
        }
        if let Some(digits) = phone_query(query) {
            let raw: String = query.chars().filter(|c| c.is_ascii_digit()).collect();
            let hits: Vec<String> = self
                .entries
                .iter()
                .filter(|e| {
                    e.phone.as_deref().is_some_and(|p| p.contains(&digits))
                        || e.cccd.as_deref().is_some_and(|c| c.contains(&raw))
                })
                .take(limit)
                .map(|e| e.id.clone())
                .collect();
            if !hits.is_empty() || !query.trim().chars().all(|c| c.is_ascii_digit()) {
                return hits;
            }
            // No phone or CCCD has them: the number of a worker's code
            // (`00119` or `119` for NLD-00119).
            let number = raw.trim_start_matches('0');
            return self
                .entries
                .iter()
                .filter(|e| {
                    e.code.as_deref().is_some_and(|c| {
                        let tail = c.trim_end_matches(|ch: char| !ch.is_ascii_digit());
                        let digits =
                            &tail[tail.trim_end_matches(|ch: char| ch.is_ascii_digit()).len()..];
                        !digits.is_empty() && digits.trim_start_matches('0') == number
                    })
                })
                .take(limit)
                .map(|e| e.id.clone())
                .collect();
        }
        let terms = query_terms(query);
        if terms.is_empty() {
            return Vec::new();
        }
        self.entries
            .iter()
            .filter(|e| name_matches(&e.name_key, &terms))
            .take(limit)
            .map(|e| e.id.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> SearchIndex {
        let entry = |id: &str, name: &str, code: &str, loans: &[&str]| Entry {
            id: id.into(),
            name_key: name.into(),
            phone: Some("0901009001".into()),
            cccd: None,
            code: Some(code.into()),
            loans: loans.iter().map(|l| l.to_string()).collect(),
        };
        SearchIndex {
            entries: vec![
                entry("a", "nguyen thi lan", "00119", &["KV-000119"]),
                entry("b", "tran van hung", "NLD-7", &["KV-000007"]),
                entry("c", "le thi mai", "ABC", &[]),
            ],
            cursor: None,
        }
    }

    #[test]
    fn a_workers_code_of_any_shape_finds_the_worker() {
        let ix = index();
        // All digits: the code, not a phone's digits.
        assert_eq!(ix.find("00119", 10), vec!["a".to_string()]);
        assert_eq!(ix.find(" nld-7 ", 10), vec!["b".to_string()]);
        assert_eq!(ix.find("abc", 10), vec!["c".to_string()]);
        // Typed without its hyphen, with a space, without its zeros.
        assert_eq!(ix.find("nld7", 10), vec!["b".to_string()]);
        assert_eq!(ix.find("NLD 0007", 10), vec!["b".to_string()]);
        assert_eq!(ix.find("kv000007", 10), vec!["b".to_string()]);
        assert_eq!(ix.find("kv 119", 10), vec!["a".to_string()]);
        // Not a code: the loan's number, the phone, the name, as before.
        assert_eq!(ix.find("kv-000119", 10), vec!["a".to_string()]);
        assert_eq!(ix.find("0901 009 001", 10).len(), 3);
        assert_eq!(ix.find("mai", 10), vec!["c".to_string()]);
        // A code's number alone, no phone or CCCD holding those digits.
        assert_eq!(ix.find("00007", 10), vec!["b".to_string()]);
        assert_eq!(ix.find("007", 10), vec!["b".to_string()]);
        assert!(ix.find("008", 10).is_empty());
    }
}
