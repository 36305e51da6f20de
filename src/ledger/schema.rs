//! The ledger's tables and their versions. The version is SQLite's
//! `PRAGMA user_version`; [`migrate`] brings any older file up to
//! [`VERSION`] in one immediate transaction (so two servers opening the
//! same file never migrate it twice) and refuses a file from a newer
//! abbench rather than misread it.
//!
//! - 0: the tables as abbench 0.1.0 first wrote them (no version set).
//! - 1: every row records the abbench version that wrote it.
//! - 2: runs say which tool filed them (`kind`: micro, e2e).

use rusqlite::{Connection, TransactionBehavior};

/// The schema this abbench writes.
pub const VERSION: i64 = 2;

/// Version 0, as first shipped; a new file starts here and is migrated.
const V0: &str = "
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

/// Each step `n` takes version `n` to `n + 1`.
const STEPS: [&str; 2] = [
    "
ALTER TABLE runs ADD COLUMN abbench_version TEXT;
ALTER TABLE decisions ADD COLUMN abbench_version TEXT;
",
    "
ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'micro';
",
];

/// What [`migrate`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Migration {
    /// Already at [`VERSION`].
    Current,
    /// Brought from this version to [`VERSION`].
    From(i64),
}

/// Why the file cannot be used at this version.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// Written by a newer abbench.
    #[error("the ledger has schema version {found}, newer than this abbench's {VERSION}: upgrade abbench, or set ABBENCH_DATA_DIR to use another ledger")]
    Newer {
        /// The file's version.
        found: i64,
    },
    /// SQLite refused.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Brings the file to [`VERSION`].
pub fn migrate(conn: &mut Connection) -> Result<Migration, SchemaError> {
    let version =
        |c: &Connection| c.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0));
    if version(conn)? == VERSION {
        return Ok(Migration::Current);
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Read again under the write lock: another process may have migrated.
    let found = version(&tx)?;
    if found > VERSION {
        return Err(SchemaError::Newer { found });
    }
    if found == VERSION {
        return Ok(Migration::Current);
    }
    if found == 0 {
        tx.execute_batch(V0)?;
    }
    for step in &STEPS[found as usize..] {
        tx.execute_batch(step)?;
    }
    tx.pragma_update(None, "user_version", VERSION)?;
    tx.commit()?;
    Ok(Migration::From(found))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::{FiledRun, RunResult};
    use crate::keep::KeepResult;
    use crate::ledger::{History, HistoryFilter, Ledger};

    /// A ledger as abbench 0.1.0 wrote it before schema versions (the demo's
    /// cpu run and keep decision, and a memory run), dumped as SQL.
    const V0_LEDGER: &str = include_str!("../../tests/fixtures/ledger-v0.sql");

    fn v0_ledger(dir: &std::path::Path) {
        let conn = Connection::open(dir.join("abbench.db")).unwrap();
        conn.execute_batch(V0_LEDGER).unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, 0);
    }

    /// Today's files open, migrate once, and read back as the typed
    /// records they were written from.
    #[test]
    fn version_0_files_migrate_and_read_back_typed() {
        let dir = tempfile::tempdir().unwrap();
        v0_ledger(dir.path());
        let mut conn = Connection::open(dir.path().join("abbench.db")).unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), Migration::From(0));
        assert_eq!(migrate(&mut conn).unwrap(), Migration::Current);
        drop(conn);

        let ledger = Ledger::open(dir.path()).unwrap();
        let found: History<crate::bench::RunRequest, RunResult, KeepResult> = ledger
            .history(&HistoryFilter {
                limit: 10,
                ..Default::default()
            })
            .unwrap();
        assert!(found.unreadable.is_empty(), "{:?}", found.unreadable);
        assert_eq!(found.rows.len(), 2);
        let domains: Vec<_> = found.rows.iter().map(|(r, _)| r.domain).collect();
        assert!(domains.contains(&crate::domain::Domain::Memory));
        assert!(domains.contains(&crate::domain::Domain::Cpu));
        let decided: Vec<_> = found.rows.iter().flat_map(|(_, d)| d).collect();
        assert_eq!(decided.len(), 1);
        assert_eq!(decided[0].result.decision, crate::keep::Decision::Keep);
        for (run, _) in &found.rows {
            assert_eq!(run.abbench_version, None, "written before schema 1");
            assert_eq!(run.result.run_id, run.run_id);
            assert!(run.result.comparison.confidence > 0.9);
            let again: FiledRun = ledger.get_run(&run.run_id).unwrap().unwrap();
            assert_eq!(again.verdict, run.result.comparison.verdict);
        }
    }

    /// Completions and the `function` filter see a revision-form run's
    /// targets, and a row whose result is not JSON breaks neither.
    #[test]
    fn revision_targets_are_found_and_bad_rows_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        v0_ledger(dir.path());
        let ledger = Ledger::open(dir.path()).unwrap();
        let conn = Connection::open(dir.path().join("abbench.db")).unwrap();
        conn.execute_batch(
            "UPDATE runs SET result = json_set(result, '$.revision', json('{\"repo\": \"/r\", \"base\": \"HEAD\", \"base_commit\": \"abc\", \"candidate\": null, \"candidate_commit\": null, \"targets\": [\"src/x.py::tally_rows\"], \"modules\": [\"x\"]}'))
               WHERE domain = 'memory';
             INSERT INTO runs (run_id, created_at, script, domain, verdict, arguments, result)
               VALUES ('bad', '2026-01-01T00:00:00Z', 's', 'cpu', 'inconclusive', '{}', 'not json');",
        )
        .unwrap();
        assert_eq!(
            ledger.target_functions("tally", 10).unwrap(),
            vec!["src/x.py::tally_rows".to_string()]
        );
        let found: History<crate::bench::RunRequest, RunResult, KeepResult> = ledger
            .history(&HistoryFilter {
                limit: 10,
                function: Some("tally_rows".into()),
                ..Default::default()
            })
            .unwrap();
        assert!(found.unreadable.is_empty(), "{:?}", found.unreadable);
        assert_eq!(found.rows.len(), 1);
        assert_eq!(found.rows[0].0.domain, crate::domain::Domain::Memory);
        let revision = found.rows[0].0.result.revision.as_ref().expect("read back");
        assert_eq!(revision.targets, ["src/x.py::tally_rows"]);
    }

    #[test]
    fn a_new_file_starts_at_the_current_version() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("abbench.db")).unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), Migration::From(0));
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, VERSION);
    }

    #[test]
    fn a_file_from_a_newer_abbench_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        v0_ledger(dir.path());
        let conn = Connection::open(dir.path().join("abbench.db")).unwrap();
        conn.pragma_update(None, "user_version", VERSION + 1)
            .unwrap();
        drop(conn);
        let err = Ledger::open(dir.path()).err().expect("refused").to_string();
        assert!(
            err.contains("newer than this abbench") && err.contains("ABBENCH_DATA_DIR"),
            "{err}"
        );
        let conn = Connection::open(dir.path().join("abbench.db")).unwrap();
        let runs: i64 = conn
            .query_row("SELECT count(*) FROM runs", [], |r| r.get(0))
            .unwrap();
        assert_eq!(runs, 2, "nothing was changed or set aside");
    }
}
