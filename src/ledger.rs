//! The ledger: every run (and, later, every keep decision) in SQLite, so a
//! `run_id` stays valid across server restarts and sessions.
//!
//! Location: `$ABBENCH_DATA_DIR/abbench.db`, else `$XDG_DATA_HOME/abbench/`,
//! else `~/.local/share/abbench/`. WAL mode and a busy timeout let several
//! servers share one file. Callers treat a ledger failure as a warning: a
//! measurement is never lost because it could not be filed.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension};

/// Why the ledger could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The data directory could not be created.
    #[error("cannot create the ledger directory {dir}: {source}")]
    Dir {
        /// The directory.
        dir: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// SQLite refused.
    #[error("ledger {path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// No HOME and no ABBENCH_DATA_DIR / XDG_DATA_HOME.
    #[error("no data directory: set ABBENCH_DATA_DIR")]
    NoDataDir,
}

/// The directory the ledger lives in, from the environment.
pub fn data_dir() -> Result<PathBuf, LedgerError> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = var("ABBENCH_DATA_DIR") {
        return Ok(dir);
    }
    if let Some(xdg) = var("XDG_DATA_HOME") {
        return Ok(xdg.join("abbench"));
    }
    var("HOME")
        .map(|home| home.join(".local/share/abbench"))
        .ok_or(LedgerError::NoDataDir)
}

/// A run as filed in the ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    /// The run's id.
    pub run_id: String,
    /// RFC 3339 UTC time the run finished.
    pub created_at: String,
    /// Absolute script path.
    pub script: String,
    /// Canonical domain name.
    pub domain: String,
    /// Verdict name.
    pub verdict: String,
    /// The arguments as given (JSON).
    pub arguments: serde_json::Value,
    /// The full result, every value included (JSON).
    pub result: serde_json::Value,
}

/// An open ledger.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
    /// Where an unreadable database file was moved when this ledger opened.
    set_aside: Option<PathBuf>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
    run_id     TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    script     TEXT NOT NULL,
    domain     TEXT NOT NULL,
    verdict    TEXT NOT NULL,
    arguments  TEXT NOT NULL,
    result     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_created_at ON runs (created_at);
CREATE TABLE IF NOT EXISTS decisions (
    check_id        TEXT PRIMARY KEY,
    run_id          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    decision        TEXT NOT NULL,
    target_function TEXT NOT NULL,
    repo            TEXT NOT NULL,
    result          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_run_id ON decisions (run_id);
";

/// A keep decision as filed in the ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRecord {
    /// The check's id.
    pub check_id: String,
    /// The run it judged.
    pub run_id: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// keep | needs_e2e | discard.
    pub decision: String,
    /// The function, as given.
    pub target_function: String,
    /// The repository root.
    pub repo: String,
    /// The full result (JSON).
    pub result: serde_json::Value,
}

/// Which runs `history` returns.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    /// Substring of the script path (e.g. the benchmark name).
    pub name: Option<String>,
    /// Canonical domain name.
    pub domain: Option<String>,
    /// Substring of a decision's target function.
    pub function: Option<String>,
    /// RFC 3339 UTC lower bound on the run time, as `rfc3339` writes it.
    pub since: Option<String>,
    /// Most runs.
    pub limit: usize,
}

fn json_column(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<serde_json::Value> {
    let text: String = row.get(i)?;
    Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}

fn run_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RunRecord> {
    Ok(RunRecord {
        run_id: row.get(0)?,
        created_at: row.get(1)?,
        script: row.get(2)?,
        domain: row.get(3)?,
        verdict: row.get(4)?,
        arguments: json_column(row, 5)?,
        result: json_column(row, 6)?,
    })
}

impl Ledger {
    /// Opens (creating if needed) the ledger in the configured data directory.
    pub fn open_default() -> Result<Ledger, LedgerError> {
        Self::open(&data_dir()?)
    }

    /// Opens (creating if needed) `dir/abbench.db`. A file there that is
    /// not a readable SQLite database is never overwritten: it is renamed
    /// to `abbench.db.corrupt-<time>` (see [`Ledger::set_aside`]) and a new
    /// ledger is started.
    pub fn open(dir: &Path) -> Result<Ledger, LedgerError> {
        std::fs::create_dir_all(dir).map_err(|source| LedgerError::Dir {
            dir: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join("abbench.db");
        match Self::open_file(&path) {
            Err(LedgerError::Sqlite { source, .. }) if is_unreadable(&source) => {
                let stamp: String = rfc3339(SystemTime::now())
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect();
                let aside = dir.join(format!("abbench.db.corrupt-{stamp}"));
                std::fs::rename(&path, &aside).map_err(|source| LedgerError::Dir {
                    dir: dir.to_path_buf(),
                    source,
                })?;
                for suffix in ["-wal", "-shm"] {
                    let side = dir.join(format!("abbench.db{suffix}"));
                    if side.exists() {
                        let _ = std::fs::rename(
                            &side,
                            dir.join(format!("abbench.db.corrupt-{stamp}{suffix}")),
                        );
                    }
                }
                let mut ledger = Self::open_file(&path)?;
                ledger.set_aside = Some(aside);
                Ok(ledger)
            }
            other => other,
        }
    }

    fn open_file(path: &Path) -> Result<Ledger, LedgerError> {
        let sqlite = |source| LedgerError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(sqlite)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(sqlite)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sqlite)?;
        conn.execute_batch(SCHEMA).map_err(sqlite)?;
        Ok(Ledger {
            conn,
            path: path.to_path_buf(),
            set_aside: None,
        })
    }

    /// The unreadable file this open moved aside, if it had to.
    pub fn set_aside(&self) -> Option<&Path> {
        self.set_aside.as_deref()
    }

    /// A warning for results, when this open had to move a bad file aside.
    pub fn set_aside_warning(&self) -> Option<String> {
        self.set_aside.as_ref().map(|aside| {
            format!(
                "the ledger {} was not a readable SQLite database: it was kept as {} and a new ledger was started (earlier run_ids are in the kept file)",
                self.path.display(),
                aside.display()
            )
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, source: rusqlite::Error) -> LedgerError {
        LedgerError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Files a finished run.
    pub fn record_run(&self, run: &RunRecord) -> Result<(), LedgerError> {
        self.conn
            .execute(
                "INSERT INTO runs (run_id, created_at, script, domain, verdict, arguments, result)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    run.run_id,
                    run.created_at,
                    run.script,
                    run.domain,
                    run.verdict,
                    run.arguments.to_string(),
                    run.result.to_string()
                ],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Reads a run back, if the ledger has it.
    pub fn get_run(&self, run_id: &str) -> Result<Option<RunRecord>, LedgerError> {
        self.conn
            .query_row(
                "SELECT run_id, created_at, script, domain, verdict, arguments, result
                 FROM runs WHERE run_id = ?1",
                [run_id],
                run_from_row,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Files a keep decision next to its run.
    pub fn record_decision(&self, d: &DecisionRecord) -> Result<(), LedgerError> {
        self.conn
            .execute(
                "INSERT INTO decisions (check_id, run_id, created_at, decision, target_function, repo, result)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    d.check_id,
                    d.run_id,
                    d.created_at,
                    d.decision,
                    d.target_function,
                    d.repo,
                    d.result.to_string()
                ],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Runs matching `filter`, newest first, each with its decisions (newest first).
    pub fn history(
        &self,
        filter: &HistoryFilter,
    ) -> Result<Vec<(RunRecord, Vec<DecisionRecord>)>, LedgerError> {
        let mut runs = self
            .conn
            .prepare(
                "SELECT run_id, created_at, script, domain, verdict, arguments, result FROM runs
                 WHERE (?1 IS NULL OR instr(script, ?1) > 0)
                   AND (?2 IS NULL OR domain = ?2)
                   AND (?3 IS NULL OR created_at >= ?3)
                   AND (?4 IS NULL OR run_id IN
                        (SELECT run_id FROM decisions WHERE instr(target_function, ?4) > 0))
                 ORDER BY created_at DESC, rowid DESC LIMIT ?5",
            )
            .map_err(|e| self.err(e))?;
        let rows = runs
            .query_map(
                params![
                    filter.name,
                    filter.domain,
                    filter.since,
                    filter.function,
                    filter.limit as i64
                ],
                run_from_row,
            )
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        let mut decisions = self
            .conn
            .prepare(
                "SELECT check_id, run_id, created_at, decision, target_function, repo, result
                 FROM decisions WHERE run_id = ?1 ORDER BY created_at DESC, rowid DESC",
            )
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for run in rows {
            let ds = decisions
                .query_map([&run.run_id], |row| {
                    Ok(DecisionRecord {
                        check_id: row.get(0)?,
                        run_id: row.get(1)?,
                        created_at: row.get(2)?,
                        decision: row.get(3)?,
                        target_function: row.get(4)?,
                        repo: row.get(5)?,
                        result: json_column(row, 6)?,
                    })
                })
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(|e| self.err(e))?;
            out.push((run, ds));
        }
        Ok(out)
    }
}

/// Normalises an RFC 3339 time (or a bare date) to the UTC form the ledger
/// stores, so string comparison orders correctly. `None` if unreadable.
pub fn normalize_rfc3339(text: &str) -> Option<String> {
    let t = text.trim();
    if !t.is_ascii() {
        return None; // also keeps the byte slicing below on char boundaries
    }
    let num = |s: &str| -> Option<i64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
    };
    let (date, rest) = t.split_at(t.len().min(10));
    let mut d = date.split('-');
    let (y, mo, da) = (num(d.next()?)?, num(d.next()?)?, num(d.next()?)?);
    if d.next().is_some() || !(1..=12).contains(&mo) || !(1..=31).contains(&da) {
        return None;
    }
    let (mut secs, mut offset) = (0i64, 0i64);
    if !rest.is_empty() {
        let rest = rest.strip_prefix(['T', 't', ' '])?;
        let (clock, zone) = match rest.find(['Z', 'z', '+', '-']) {
            Some(i) => rest.split_at(i),
            None => return None,
        };
        let clock = clock.split('.').next()?;
        let mut c = clock.split(':');
        let (h, mi, s) = (
            num(c.next()?)?,
            num(c.next()?)?,
            num(c.next().unwrap_or("0"))?,
        );
        if h > 23 || mi > 59 || s > 60 {
            return None;
        }
        secs = h * 3600 + mi * 60 + s;
        if !zone.eq_ignore_ascii_case("z") {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let mut z = zone[1..].split(':');
            offset = sign * (num(z.next()?)? * 3600 + num(z.next()?)? * 60);
        }
    }
    let days = days_from_civil(y, mo as u32, da as u32);
    let total = days * 86_400 + secs - offset;
    Some(rfc3339(
        UNIX_EPOCH + Duration::from_secs(u64::try_from(total).ok()?),
    ))
}

/// Days since 1970-01-01 of a civil date (Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn is_unreadable(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
    )
}

/// `(year, month, day)` of a day count since 1970-01-01 (Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `time` as RFC 3339 UTC with seconds, e.g. `2026-11-27T09:15:03Z`.
pub fn rfc3339(time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

/// A new run id: the UTC time and 16 random bits, e.g. `20261127-091503-a3f2`.
pub fn new_run_id(now: SystemTime, random: u64) -> String {
    let stamp = rfc3339(now);
    let digits: String = stamp.chars().filter(char::is_ascii_digit).collect();
    format!(
        "{}-{}-{:04x}",
        &digits[..8],
        &digits[8..14],
        random & 0xffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_795_770_903); // 2026-11-27T09:15:03Z
        assert_eq!(rfc3339(t), "2026-11-27T09:15:03Z");
        assert_eq!(new_run_id(t, 0xa3f2), "20261127-091503-a3f2");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(&rfc3339(leap)[..10], "2000-02-29");
    }

    #[test]
    fn round_trip_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let record = RunRecord {
            run_id: "r1".into(),
            created_at: "2026-11-27T09:15:03Z".into(),
            script: "/tmp/s.py".into(),
            domain: "cpu".into(),
            verdict: "above_threshold".into(),
            arguments: serde_json::json!({"script": "/tmp/s.py"}),
            result: serde_json::json!({"a": {"values": [1.0, 2.0]}}),
        };
        Ledger::open(dir.path())
            .unwrap()
            .record_run(&record)
            .unwrap();
        let again = Ledger::open(dir.path()).unwrap();
        assert_eq!(again.get_run("r1").unwrap(), Some(record));
        assert_eq!(again.get_run("nope").unwrap(), None);
        assert!(
            again
                .record_run(&again.get_run("r1").unwrap().unwrap())
                .is_err(),
            "ids are unique"
        );
    }

    #[test]
    fn decisions_and_history_filters() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path()).unwrap();
        for (id, at, script, domain) in [
            (
                "r1",
                "2026-11-27T09:00:00Z",
                "/tmp/micro_bench_parse.py",
                "cpu",
            ),
            (
                "r2",
                "2026-11-27T10:00:00Z",
                "/tmp/micro_bench_mem.py",
                "memory",
            ),
        ] {
            let run = RunRecord {
                run_id: id.into(),
                created_at: at.into(),
                script: script.into(),
                domain: domain.into(),
                verdict: "above_threshold".into(),
                arguments: serde_json::json!({}),
                result: serde_json::json!({}),
            };
            ledger.record_run(&run).unwrap();
        }
        let decision = DecisionRecord {
            check_id: "c1".into(),
            run_id: "r1".into(),
            created_at: "2026-11-27T09:20:00Z".into(),
            decision: "keep".into(),
            target_function: "shop/inventory.py::count_known".into(),
            repo: "/repo".into(),
            result: serde_json::json!({}),
        };
        ledger.record_decision(&decision).unwrap();
        let ids = |f: HistoryFilter| -> Vec<String> {
            ledger
                .history(&HistoryFilter { limit: 20, ..f })
                .unwrap()
                .into_iter()
                .map(|(r, _)| r.run_id)
                .collect()
        };
        assert_eq!(ids(HistoryFilter::default()), ["r2", "r1"], "newest first");
        assert_eq!(
            ledger
                .history(&HistoryFilter {
                    limit: 20,
                    ..Default::default()
                })
                .unwrap()[1]
                .1,
            vec![decision]
        );
        assert_eq!(
            ids(HistoryFilter {
                function: Some("count_known".into()),
                ..Default::default()
            }),
            ["r1"]
        );
        assert_eq!(
            ids(HistoryFilter {
                name: Some("parse".into()),
                ..Default::default()
            }),
            ["r1"]
        );
        assert_eq!(
            ids(HistoryFilter {
                domain: Some("memory".into()),
                ..Default::default()
            }),
            ["r2"]
        );
        assert_eq!(
            ids(HistoryFilter {
                since: Some("2026-11-27T09:30:00Z".into()),
                ..Default::default()
            }),
            ["r2"]
        );
        assert_eq!(
            ledger
                .history(&HistoryFilter {
                    limit: 1,
                    ..Default::default()
                })
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn a_corrupt_file_is_kept_aside_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = vec![0x5au8; 8192];
        std::fs::write(dir.path().join("abbench.db"), &garbage).unwrap();
        let ledger = Ledger::open(dir.path()).unwrap();
        let aside = ledger.set_aside().expect("moved aside").to_path_buf();
        assert_eq!(std::fs::read(&aside).unwrap(), garbage);
        assert!(ledger
            .set_aside_warning()
            .unwrap()
            .contains("abbench.db.corrupt-"));
        assert!(
            ledger.get_run("x").unwrap().is_none(),
            "the new ledger works"
        );
        assert!(Ledger::open(dir.path()).unwrap().set_aside().is_none());
    }

    #[test]
    fn since_is_normalised_to_utc() {
        assert_eq!(
            normalize_rfc3339("2026-11-27").as_deref(),
            Some("2026-11-27T00:00:00Z")
        );
        assert_eq!(
            normalize_rfc3339("2026-11-27T10:15:03+01:00").as_deref(),
            Some("2026-11-27T09:15:03Z")
        );
        assert_eq!(
            normalize_rfc3339("2026-11-27T09:15:03.25Z").as_deref(),
            Some("2026-11-27T09:15:03Z")
        );
        assert_eq!(
            normalize_rfc3339("2000-03-01T00:00:00Z").as_deref(),
            Some("2000-03-01T00:00:00Z")
        );
        for bad in [
            "yesterday",
            "2026-13-01",
            "2026-11-27T25:00:00Z",
            "2026-11-27T09:00",
            "",
        ] {
            assert_eq!(normalize_rfc3339(bad), None, "{bad:?}");
        }
    }
}
