//! The records the ledger files and reads back: generic over the request
//! and result types so the ledger depends on neither tool, with the rows
//! as SQLite holds them (their JSON still text) in between.

use serde::Serialize;

use super::LedgerError;
use crate::domain::Domain;
use crate::verdict::Verdict;

/// Which tool filed a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RunKind {
    /// run_ab_benchmark: the micro-benchmark.
    #[default]
    Micro,
    /// run_e2e_benchmark: the project's workload on base and candidate.
    E2e,
}

impl RunKind {
    /// The column's text.
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Micro => "micro",
            RunKind::E2e => "e2e",
        }
    }
}

/// A run as filed: the columns that are searched, and the request and
/// result it was written from (`Q` and `R`: `RunRequest` and `RunResult`,
/// or `E2eRequest` and `E2eResult`).
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord<Q, R> {
    /// The run's id.
    pub run_id: String,
    /// Which tool filed it.
    pub kind: RunKind,
    /// RFC 3339 UTC time the run finished.
    pub created_at: String,
    /// Absolute script path (e2e: the workload's command line, in the repository).
    pub script: String,
    /// The canonical domain.
    pub domain: Domain,
    /// The verdict.
    pub verdict: Verdict,
    /// The arguments as given.
    pub request: Q,
    /// The full result, every value included.
    pub result: R,
    /// The abbench that wrote it (`None`: before ledger schema 1).
    pub abbench_version: Option<String>,
}

/// A keep decision as filed, next to its run (`R`: `KeepResult`).
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRecord<R> {
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
    /// The full result.
    pub result: R,
    /// The abbench that wrote it (`None`: before ledger schema 1).
    pub abbench_version: Option<String>,
}

/// The abbench writing records now.
pub fn this_version() -> Option<String> {
    Some(env!("CARGO_PKG_VERSION").to_string())
}

/// Which runs `history` returns.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    /// Substring of the script path (e.g. the benchmark name).
    pub name: Option<String>,
    /// Only this domain.
    pub domain: Option<Domain>,
    /// Substring of a decision's target function.
    pub function: Option<String>,
    /// RFC 3339 UTC lower bound on the run time, as `rfc3339` writes it.
    pub since: Option<String>,
    /// Most runs.
    pub limit: usize,
    /// Runs of this tool.
    pub kind: RunKind,
}

/// A run with its decisions, newest first.
pub type HistoryRow<Q, R, D> = (RunRecord<Q, R>, Vec<DecisionRecord<D>>);

/// What `history` found: the rows it could read, and an error for each it could not.
pub struct History<Q, R, D> {
    /// Runs newest first, each with its decisions.
    pub rows: Vec<HistoryRow<Q, R, D>>,
    /// Runs (or their decisions) this abbench cannot read.
    pub unreadable: Vec<LedgerError>,
}

/// A run's row, its JSON still text.
pub(super) struct RunRow {
    pub(super) run_id: String,
    pub(super) created_at: String,
    pub(super) script: String,
    pub(super) domain: String,
    pub(super) verdict: String,
    pub(super) arguments: String,
    pub(super) result: String,
    pub(super) abbench_version: Option<String>,
    pub(super) kind: String,
}

pub(super) const RUN_COLUMNS: &str =
    "run_id, created_at, script, domain, verdict, arguments, result, abbench_version, kind";

pub(super) fn run_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RunRow> {
    Ok(RunRow {
        run_id: row.get(0)?,
        created_at: row.get(1)?,
        script: row.get(2)?,
        domain: row.get(3)?,
        verdict: row.get(4)?,
        arguments: row.get(5)?,
        result: row.get(6)?,
        abbench_version: row.get(7)?,
        kind: row.get(8)?,
    })
}

/// A decision's row, its JSON still text.
pub(super) struct DecisionRow {
    pub(super) check_id: String,
    pub(super) run_id: String,
    pub(super) created_at: String,
    pub(super) decision: String,
    pub(super) target_function: String,
    pub(super) repo: String,
    pub(super) result: String,
    pub(super) abbench_version: Option<String>,
}

pub(super) fn decision_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<DecisionRow> {
    Ok(DecisionRow {
        check_id: row.get(0)?,
        run_id: row.get(1)?,
        created_at: row.get(2)?,
        decision: row.get(3)?,
        target_function: row.get(4)?,
        repo: row.get(5)?,
        result: row.get(6)?,
        abbench_version: row.get(7)?,
    })
}

pub(super) fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("records serialize: their types have string keys")
}
