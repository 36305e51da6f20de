//! The ledger: every run and every keep decision in SQLite, so a `run_id`
//! stays valid across server restarts and sessions. Records are written
//! from the typed request and result and read back as them ([`RunRecord`],
//! [`DecisionRecord`], generic so the ledger depends on neither tool); a
//! row this abbench cannot read is an error that names it, never a silent
//! default. The schema is versioned ([`schema`]).
//!
//! Location: `$ABBENCH_DATA_DIR/abbench.db`, else `$XDG_DATA_HOME/abbench/`,
//! else `~/.local/share/abbench/`. WAL mode and a busy timeout let several
//! servers share one file. Callers treat a ledger failure as a warning: a
//! measurement is never lost because it could not be filed.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rusqlite::{params, Connection, OptionalExtension};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::domain::Domain;

mod records;
pub mod schema;
mod time;

use records::{decision_row, json, run_row, DecisionRow, RunRow, RUN_COLUMNS};
pub use records::{
    this_version, DecisionRecord, History, HistoryFilter, HistoryRow, RunKind, RunRecord,
};
pub use time::{age_s, new_run_id, normalize_rfc3339, rfc3339};

/// Files `record` in the ledger in `dir` (the configured one when `None`)
/// off the async threads. `Ok` carries the warning that an unreadable file
/// was kept aside, if one was; `Err` what went wrong, for the run's warning.
pub async fn file_run<Q, R>(
    record: RunRecord<Q, R>,
    dir: Option<&Path>,
) -> Result<Option<String>, String>
where
    Q: Serialize + Send + 'static,
    R: Serialize + Send + 'static,
{
    let dir = dir.map(Path::to_path_buf);
    let outcome = tokio::task::spawn_blocking(move || {
        let ledger = Ledger::open_in(dir.as_deref())?;
        ledger
            .record_run(&record)
            .map(|()| ledger.set_aside_warning())
    })
    .await;
    match outcome {
        Ok(Ok(set_aside)) => Ok(set_aside),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

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
    /// The file's schema cannot be used by this abbench.
    #[error("ledger {path}: {source}")]
    Schema {
        /// The database file.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: schema::SchemaError,
    },
    /// A row this abbench cannot read as the record it should be.
    #[error("ledger {path}: {what} {id} cannot be read by this abbench ({problem}); it was written by {written_by}: rerun the tool to record it again")]
    Unreadable {
        /// The database file.
        path: PathBuf,
        /// "run" or "decision".
        what: &'static str,
        /// Its id.
        id: String,
        /// serde's message: the field and what was wrong.
        problem: String,
        /// "abbench 0.1.0", or "an abbench before ledger schema 1".
        written_by: String,
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

/// An open ledger.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
    /// Where an unreadable database file was moved when this ledger opened.
    set_aside: Option<PathBuf>,
}

impl Ledger {
    /// Opens (creating if needed) the ledger in the configured data directory.
    pub fn open_default() -> Result<Ledger, LedgerError> {
        Self::open(&data_dir()?)
    }

    /// Opens the ledger in `dir`, or in the configured data directory when `None`.
    pub fn open_in(dir: Option<&Path>) -> Result<Ledger, LedgerError> {
        match dir {
            Some(d) => Self::open(d),
            None => Self::open_default(),
        }
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
        let mut conn = conn;
        schema::migrate(&mut conn).map_err(|source| match source {
            schema::SchemaError::Sqlite(e) => sqlite(e),
            source => LedgerError::Schema {
                path: path.to_path_buf(),
                source,
            },
        })?;
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

    fn unreadable(
        &self,
        what: &'static str,
        id: &str,
        written_by: &Option<String>,
        problem: impl std::fmt::Display,
    ) -> LedgerError {
        LedgerError::Unreadable {
            path: self.path.clone(),
            what,
            id: id.to_string(),
            problem: problem.to_string(),
            written_by: match written_by {
                Some(v) => format!("abbench {v}"),
                None => "an abbench before ledger schema 1".into(),
            },
        }
    }

    /// Files a finished run.
    pub fn record_run<Q: Serialize, R: Serialize>(
        &self,
        run: &RunRecord<Q, R>,
    ) -> Result<(), LedgerError> {
        self.conn
            .execute(
                &format!(
                    "INSERT INTO runs ({RUN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                ),
                params![
                    run.run_id,
                    run.created_at,
                    run.script,
                    run.domain.as_str(),
                    run.verdict.as_str(),
                    json(&run.request),
                    json(&run.result),
                    run.abbench_version,
                    run.kind.as_str(),
                ],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    fn read_run<Q: DeserializeOwned, R: DeserializeOwned>(
        &self,
        row: RunRow,
    ) -> Result<RunRecord<Q, R>, LedgerError> {
        let bad =
            |problem: String| self.unreadable("run", &row.run_id, &row.abbench_version, problem);
        let column = |name: &str, e: &dyn std::fmt::Display| bad(format!("`{name}`: {e}"));
        let kind = match row.kind.as_str() {
            "micro" => RunKind::Micro,
            "e2e" => RunKind::E2e,
            other => return Err(bad(format!("`kind`: unknown kind {other:?}"))),
        };
        Ok(RunRecord {
            kind,
            domain: row.domain.parse().map_err(|e| column("domain", &e))?,
            verdict: serde_json::from_value(serde_json::Value::String(row.verdict.clone()))
                .map_err(|e| column("verdict", &e))?,
            request: serde_json::from_str(&row.arguments).map_err(|e| column("arguments", &e))?,
            result: serde_json::from_str(&row.result).map_err(|e| column("result", &e))?,
            run_id: row.run_id,
            created_at: row.created_at,
            script: row.script,
            abbench_version: row.abbench_version,
        })
    }

    fn read_decision<D: DeserializeOwned>(
        &self,
        row: DecisionRow,
    ) -> Result<DecisionRecord<D>, LedgerError> {
        Ok(DecisionRecord {
            result: serde_json::from_str(&row.result).map_err(|e| {
                self.unreadable(
                    "decision",
                    &row.check_id,
                    &row.abbench_version,
                    format!("`result`: {e}"),
                )
            })?,
            check_id: row.check_id,
            run_id: row.run_id,
            created_at: row.created_at,
            decision: row.decision,
            target_function: row.target_function,
            repo: row.repo,
            abbench_version: row.abbench_version,
        })
    }

    /// Reads a micro run back, if the ledger has it.
    pub fn get_run<Q: DeserializeOwned, R: DeserializeOwned>(
        &self,
        run_id: &str,
    ) -> Result<Option<RunRecord<Q, R>>, LedgerError> {
        self.get_run_of(RunKind::Micro, run_id)
    }

    /// Reads a run of `kind` back, if the ledger has it.
    pub fn get_run_of<Q: DeserializeOwned, R: DeserializeOwned>(
        &self,
        kind: RunKind,
        run_id: &str,
    ) -> Result<Option<RunRecord<Q, R>>, LedgerError> {
        let row = self
            .conn
            .query_row(
                &format!("SELECT {RUN_COLUMNS} FROM runs WHERE run_id = ?1 AND kind = ?2"),
                params![run_id, kind.as_str()],
                run_row,
            )
            .optional()
            .map_err(|e| self.err(e))?;
        row.map(|r| self.read_run(r)).transpose()
    }

    /// Files a keep decision next to its run.
    pub fn record_decision<D: Serialize>(&self, d: &DecisionRecord<D>) -> Result<(), LedgerError> {
        self.conn
            .execute(
                "INSERT INTO decisions (check_id, run_id, created_at, decision, target_function, repo, result, abbench_version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    d.check_id,
                    d.run_id,
                    d.created_at,
                    d.decision,
                    d.target_function,
                    d.repo,
                    json(&d.result),
                    d.abbench_version,
                ],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// The newest decision about `repo` whose result has `value` at the
    /// JSON path `path`: (check id, created at, result).
    pub fn decision_where(
        &self,
        repo: &str,
        path: &str,
        value: &str,
    ) -> Result<Option<(String, String, serde_json::Value)>, LedgerError> {
        let found = self
            .conn
            .query_row(
                "SELECT check_id, created_at, result FROM decisions
                 WHERE repo = ?1 AND json_extract(result, ?2) = ?3
                 ORDER BY created_at DESC LIMIT 1",
                params![repo, path, value],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(found.and_then(|(id, at, result)| Some((id, at, serde_json::from_str(&result).ok()?))))
    }

    /// Target functions of recorded decisions that contain `part`, most
    /// recently decided first (at most `limit`), for completion.
    pub fn target_functions(&self, part: &str, limit: usize) -> Result<Vec<String>, LedgerError> {
        let mut q = self
            .conn
            .prepare(
                "SELECT f FROM (
                   SELECT target_function AS f, created_at FROM decisions
                   UNION ALL
                   SELECT t.value, r.created_at FROM runs r,
                     json_each(CASE WHEN json_valid(r.result) THEN r.result ELSE '{}' END, '$.revision.targets') t
                 ) WHERE instr(f, ?1) > 0
                 GROUP BY f ORDER BY max(created_at) DESC LIMIT ?2",
            )
            .map_err(|e| self.err(e))?;
        q.query_map(params![part, limit as i64], |row| row.get(0))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }

    /// Runs matching `filter`, newest first, each with its decisions
    /// (newest first); a run this abbench cannot read is left out and
    /// reported in `unreadable`.
    pub fn history<Q: DeserializeOwned, R: DeserializeOwned, D: DeserializeOwned>(
        &self,
        filter: &HistoryFilter,
    ) -> Result<History<Q, R, D>, LedgerError> {
        let mut runs = self
            .conn
            .prepare(&format!(
                "SELECT {RUN_COLUMNS} FROM runs
                 WHERE kind = ?6 AND (?1 IS NULL OR instr(script, ?1) > 0)
                   AND (?2 IS NULL OR domain = ?2)
                   AND (?3 IS NULL OR created_at >= ?3)
                   AND (?4 IS NULL OR run_id IN
                        (SELECT run_id FROM decisions WHERE instr(target_function, ?4) > 0)
                        OR CASE WHEN json_valid(result) AND json_valid(arguments)
                           THEN instr(ifnull(json_extract(result, '$.revision.targets'), ''), ?4) > 0
                             OR instr(ifnull(json_extract(arguments, '$.target_functions'), ''), ?4) > 0
                           ELSE 0 END)
                 ORDER BY created_at DESC, rowid DESC LIMIT ?5"
            ))
            .map_err(|e| self.err(e))?;
        let rows = runs
            .query_map(
                params![
                    filter.name,
                    filter.domain.map(Domain::as_str),
                    filter.since,
                    filter.function,
                    filter.limit as i64,
                    filter.kind.as_str(),
                ],
                run_row,
            )
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        let mut decisions = self
            .conn
            .prepare(
                "SELECT check_id, run_id, created_at, decision, target_function, repo, result, abbench_version
                 FROM decisions WHERE run_id = ?1 ORDER BY created_at DESC, rowid DESC",
            )
            .map_err(|e| self.err(e))?;
        let mut out = History {
            rows: Vec::new(),
            unreadable: Vec::new(),
        };
        for row in rows {
            let ds = decisions
                .query_map([&row.run_id], decision_row)
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(|e| self.err(e))?;
            let read = self.read_run(row).and_then(|run| {
                let ds = ds
                    .into_iter()
                    .map(|d| self.read_decision(d))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((run, ds))
            });
            match read {
                Ok(found) => out.rows.push(found),
                Err(e) => out.unreadable.push(e),
            }
        }
        Ok(out)
    }
}

fn is_unreadable(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Verdict;
    use serde_json::{json, Value};

    type Run = RunRecord<Value, Value>;

    fn run(id: &str, at: &str, script: &str, domain: Domain) -> Run {
        RunRecord {
            run_id: id.into(),
            kind: RunKind::Micro,
            created_at: at.into(),
            script: script.into(),
            domain,
            verdict: Verdict::AboveThreshold,
            request: json!({"script": script}),
            result: json!({"a": {"values": [1.0, 2.0]}}),
            abbench_version: this_version(),
        }
    }

    #[test]
    fn round_trip_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let record = run("r1", "2026-11-27T09:15:03Z", "/tmp/s.py", Domain::Cpu);
        Ledger::open(dir.path())
            .unwrap()
            .record_run(&record)
            .unwrap();
        let again = Ledger::open(dir.path()).unwrap();
        assert_eq!(again.get_run("r1").unwrap(), Some(record.clone()));
        assert_eq!(again.get_run::<Value, Value>("nope").unwrap(), None);
        assert!(again.record_run(&record).is_err(), "ids are unique");
    }

    /// A row that is not the type asked for is an error naming the run,
    /// the column, the field and who wrote it; never a default.
    #[test]
    fn an_unreadable_row_names_itself() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Wanted {
            confidence: f64,
        }
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path()).unwrap();
        ledger
            .record_run(&run("r1", "2026-11-27T09:15:03Z", "/tmp/s.py", Domain::Cpu))
            .unwrap();
        let err = ledger
            .get_run::<Value, Wanted>("r1")
            .unwrap_err()
            .to_string();
        for part in [
            "run r1",
            "`result`",
            "missing field `confidence`",
            "abbench 0.",
        ] {
            assert!(err.contains(part), "{part}: {err}");
        }
        let listed: History<Value, Wanted, Value> = ledger
            .history(&HistoryFilter {
                limit: 5,
                ..Default::default()
            })
            .unwrap();
        assert!(listed.rows.is_empty());
        assert_eq!(listed.unreadable.len(), 1);
    }

    #[test]
    fn decisions_and_history_filters() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path()).unwrap();
        ledger
            .record_run(&run(
                "r1",
                "2026-11-27T09:00:00Z",
                "/tmp/micro_bench_parse.py",
                Domain::Cpu,
            ))
            .unwrap();
        ledger
            .record_run(&run(
                "r2",
                "2026-11-27T10:00:00Z",
                "/tmp/micro_bench_mem.py",
                Domain::Memory,
            ))
            .unwrap();
        let decision = DecisionRecord {
            check_id: "c1".into(),
            run_id: "r1".into(),
            created_at: "2026-11-27T09:20:00Z".into(),
            decision: "keep".into(),
            target_function: "shop/inventory.py::count_known".into(),
            repo: "/repo".into(),
            result: json!({"decision": "keep"}),
            abbench_version: this_version(),
        };
        ledger.record_decision(&decision).unwrap();
        let history = |f: HistoryFilter| -> History<Value, Value, Value> {
            ledger.history(&HistoryFilter { limit: 20, ..f }).unwrap()
        };
        let ids = |f: HistoryFilter| -> Vec<String> {
            history(f).rows.into_iter().map(|(r, _)| r.run_id).collect()
        };
        assert_eq!(ids(HistoryFilter::default()), ["r2", "r1"], "newest first");
        assert_eq!(history(HistoryFilter::default()).rows[1].1, vec![decision]);
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
                domain: Some(Domain::Memory),
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
        let one: History<Value, Value, Value> = ledger
            .history(&HistoryFilter {
                limit: 1,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(one.rows.len(), 1);
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
            ledger.get_run::<Value, Value>("x").unwrap().is_none(),
            "the new ledger works"
        );
        assert!(Ledger::open(dir.path()).unwrap().set_aside().is_none());
    }
}
