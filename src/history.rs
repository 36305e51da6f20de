//! `benchmark_history`: earlier runs and their keep decisions, newest first,
//! from the ledger. Read-only.

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::bench::{RunRequest, RunResult};
use crate::domain::Domain;
use crate::e2e::{E2eRequest, E2eResult};
use crate::keep::{ConditionName, Decision, KeepResult};
use crate::ledger::{self, History, HistoryFilter, HistoryRow, Ledger, LedgerError, RunKind};
use crate::verdict::{Estimate, Verdict};

/// Runs listed when the caller gives no `limit`.
pub const DEFAULT_LIMIT: usize = 20;
/// Most runs one listing returns.
pub const MAX_LIMIT: usize = 1000;

/// Arguments of `benchmark_history` / `abbench history`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct HistoryRequest {
    /// Script or command contains this.
    #[serde(default)]
    #[arg(long)]
    pub name: Option<String>,
    /// Only this domain.
    #[serde(default)]
    #[arg(long)]
    pub domain: Option<Domain>,
    /// About a function containing this.
    #[serde(default)]
    #[arg(long)]
    pub function: Option<String>,
    /// Most runs (1-1000). Default 20.
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = MAX_LIMIT))]
    #[arg(long, default_value_t = DEFAULT_LIMIT)]
    pub limit: usize,
    /// At or after this RFC 3339 time.
    #[serde(default)]
    #[arg(long)]
    pub since: Option<String>,
    /// One run or e2e run, whole: as `record` (the CLI prints it as its command did); the filters do not apply.
    #[serde(default)]
    #[arg(long, conflicts_with_all = ["name", "domain", "function", "limit", "since"])]
    pub run_id: Option<String>,
}

/// How much of a result a tool returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Detail {
    /// The answer an agent acts on (the default).
    #[default]
    Compact,
    /// The answer plus the whole record as `record`.
    Full,
}

fn default_limit() -> usize {
    DEFAULT_LIMIT
}

impl Default for HistoryRequest {
    fn default() -> Self {
        HistoryRequest {
            name: None,
            domain: None,
            function: None,
            limit: DEFAULT_LIMIT,
            since: None,
            run_id: None,
        }
    }
}

/// A keep decision, as listed.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct HistoryDecision {
    /// The check's id.
    pub check_id: String,
    /// When, RFC 3339 UTC.
    pub created_at: String,
    /// keep | needs_e2e | discard.
    pub decision: Decision,
    /// The function checked.
    pub target_function: String,
    /// Why.
    pub reason: String,
    /// Conditions that blocked a micro-only keep.
    pub blocking: Vec<ConditionName>,
    /// The e2e run it judged the improvement on, if any.
    pub e2e_run_id: Option<String>,
}

/// A run, as listed.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct HistoryEntry {
    /// The run's id.
    pub run_id: String,
    /// When it finished, RFC 3339 UTC.
    pub created_at: String,
    /// The script path.
    pub script: String,
    /// The benchmark name (from micro_bench_<name>.py), when it has one.
    pub name: Option<String>,
    /// The domain.
    pub domain: Domain,
    /// The verdict.
    pub verdict: Verdict,
    /// Why.
    pub reason: String,
    /// The estimate in words, e.g. "speedup 1.987x [1.850x .. 2.100x]".
    pub estimate: String,
    /// Time: A / B with bounds.
    pub speedup: Option<Estimate>,
    /// Memory: A - B in bytes with bounds.
    pub saved_bytes: Option<Estimate>,
    /// Pairs measured.
    pub pairs: usize,
    /// Keep decisions about this run, newest first.
    pub decisions: Vec<HistoryDecision>,
    /// Listed e2e runs that confirm this one (their `micro_run_id`).
    pub e2e_run_ids: Vec<String>,
    /// Several candidates: each one's verdict and estimate, best first
    /// (the verdict above is the best's), e.g. "counter: above_threshold, speedup 1.99x [1.93x .. 2.03x]".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<String>,
}

/// An e2e run, as listed.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct E2eEntry {
    /// The e2e run's id.
    pub run_id: String,
    /// When it finished, RFC 3339 UTC.
    pub created_at: String,
    /// The micro run it confirms, when given.
    pub micro_run_id: Option<String>,
    /// The repository root.
    pub repo: String,
    /// The workload's words.
    pub command: Vec<String>,
    /// The base commit.
    pub base_commit: String,
    /// The domain.
    pub domain: Domain,
    /// The verdict.
    pub verdict: Verdict,
    /// Why.
    pub reason: String,
    /// The estimate in words, e.g. "speedup 1.231x [1.180x .. 1.290x]".
    pub estimate: String,
    /// Pairs measured.
    pub pairs: usize,
    /// Each target function's figures in one sentence.
    pub targets: Vec<String>,
}

/// What `benchmark_history` returns.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct HistoryResult {
    /// Matching micro runs, newest first.
    pub runs: Vec<HistoryEntry>,
    /// Matching run_e2e_benchmark runs, newest first (`name` matches their command, `function` their target functions).
    pub e2e_runs: Vec<E2eEntry>,
    /// How many runs are listed.
    pub count: usize,
    /// The ledger file read.
    pub ledger: String,
    /// Things worth knowing (e.g. an unreadable ledger file was kept aside, or a run this abbench cannot read).
    pub warnings: Vec<String>,
    /// With `run_id`: that run's filed result, whole.
    #[serde(default)]
    pub record: Option<serde_json::Value>,
}

/// Why no history could be listed.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// A bad argument.
    #[error("{0}")]
    Invalid(String),
    /// The ledger could not be read.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// Lists runs and decisions from the ledger in `ledger_dir` (the configured one when `None`).
pub fn history(
    req: &HistoryRequest,
    ledger_dir: Option<&Path>,
) -> Result<HistoryResult, HistoryError> {
    if !(1..=MAX_LIMIT).contains(&req.limit) {
        return Err(HistoryError::Invalid(format!(
            "`limit` = {} must be 1 to {MAX_LIMIT}",
            req.limit
        )));
    }
    let since = match &req.since {
        None => None,
        Some(s) => Some(ledger::normalize_rfc3339(s).ok_or_else(|| {
            HistoryError::Invalid(format!("`since` {s:?} is not an RFC 3339 time: use e.g. \"2026-11-27T09:00:00Z\" or \"2026-11-27\""))
        })?),
    };
    let ledger = Ledger::open_in(ledger_dir)?;
    if let Some(run_id) = &req.run_id {
        return Ok(HistoryResult {
            runs: Vec::new(),
            e2e_runs: Vec::new(),
            count: 1,
            ledger: ledger.path().display().to_string(),
            warnings: ledger.set_aside_warning().into_iter().collect(),
            record: Some(record(&ledger, run_id)?),
        });
    }
    let filter = HistoryFilter {
        name: req.name.clone(),
        domain: req.domain,
        function: req.function.clone(),
        since,
        limit: req.limit,
        kind: RunKind::Micro,
    };
    let found: History<RunRequest, RunResult, KeepResult> = ledger.history(&filter)?;
    let e2e: History<E2eRequest, E2eResult, KeepResult> = ledger.history(&HistoryFilter {
        kind: RunKind::E2e,
        ..filter
    })?;
    let e2e_runs: Vec<E2eEntry> = e2e
        .rows
        .into_iter()
        .map(|(run, _)| e2e_entry(run.created_at, run.result))
        .collect();
    let mut runs: Vec<HistoryEntry> = found.rows.into_iter().map(entry).collect();
    for run in &mut runs {
        run.e2e_run_ids = e2e_runs
            .iter()
            .filter(|e| e.micro_run_id.as_deref() == Some(run.run_id.as_str()))
            .map(|e| e.run_id.clone())
            .collect();
    }
    let mut warnings: Vec<String> = ledger.set_aside_warning().into_iter().collect();
    warnings.extend(found.unreadable.iter().map(|e| format!("left out: {e}")));
    warnings.extend(e2e.unreadable.iter().map(|e| format!("left out: {e}")));
    Ok(HistoryResult {
        count: runs.len(),
        runs,
        e2e_runs,
        ledger: ledger.path().display().to_string(),
        warnings,
        record: None,
    })
}

/// The estimate in words.
fn estimate_text(c: &crate::verdict::Analysis) -> String {
    match (c.speedup, c.saved_bytes) {
        (Some(s), _) => format!("speedup {}", s.show(|x| format!("{x:.3}x"))),
        (None, Some(s)) => format!(
            "saved {}",
            s.show(|x| format!("{:.2} MiB", x / crate::domain::MIB as f64))
        ),
        (None, None) => "no estimate".into(),
    }
}

/// One e2e run as listed.
fn e2e_entry(created_at: String, r: E2eResult) -> E2eEntry {
    E2eEntry {
        estimate: estimate_text(&r.comparison),
        reason: r.comparison.reason.clone(),
        pairs: r.comparison.pairs,
        verdict: r.comparison.verdict,
        targets: r.targets.into_iter().map(|t| t.summary).collect(),
        run_id: r.run_id,
        created_at,
        micro_run_id: r.micro_run_id,
        repo: r.repo,
        command: r.command,
        base_commit: r.revisions.base_commit,
        domain: r.domain,
    }
}

/// One run as listed.
fn entry((run, decisions): HistoryRow<RunRequest, RunResult, KeepResult>) -> HistoryEntry {
    let c = &run.result.comparison;
    let estimate = estimate_text(c);
    let name = Path::new(&run.script)
        .file_name()
        .and_then(|f| f.to_str())
        .and_then(|f| f.strip_prefix("micro_bench_")?.strip_suffix(".py"))
        .map(String::from);
    HistoryEntry {
        name,
        estimate,
        reason: c.reason.clone(),
        speedup: c.speedup,
        saved_bytes: c.saved_bytes,
        pairs: c.pairs,
        decisions: decisions
            .into_iter()
            .map(|d| HistoryDecision {
                decision: d.result.decision,
                reason: d.result.reason,
                blocking: d.result.blocking,
                e2e_run_id: d.result.e2e_run_id,
                check_id: d.check_id,
                created_at: d.created_at,
                target_function: d.target_function,
            })
            .collect(),
        e2e_run_ids: Vec::new(),
        candidates: run
            .result
            .candidates
            .iter()
            .map(|c| {
                let verdict = c.status();
                let estimate = c
                    .speedup
                    .map(|s| format!(", speedup {}", s.show(|x| format!("{x:.3}x"))))
                    .unwrap_or_default();
                let best = if run.result.best.as_deref() == Some(c.label.as_str()) {
                    " (best)"
                } else {
                    ""
                };
                format!("{}: {verdict}{estimate}{best}", c.label)
            })
            .collect(),
        run_id: run.run_id,
        created_at: run.created_at,
        script: run.script,
        domain: run.domain,
        verdict: run.verdict,
    }
}

/// A filed run of either kind, whole.
#[derive(Debug)]
pub enum Filed {
    /// A `run_ab_benchmark` run.
    Run(Box<RunResult>),
    /// A `run_e2e_benchmark` run.
    E2e(Box<E2eResult>),
}

/// The run (micro or e2e) filed under `run_id`, whole.
pub fn filed(run_id: &str, ledger_dir: Option<&Path>) -> Result<Filed, HistoryError> {
    filed_in(&Ledger::open_in(ledger_dir)?, run_id)
}

fn filed_in(ledger: &Ledger, run_id: &str) -> Result<Filed, HistoryError> {
    let micro: Option<crate::bench::FiledRun> = ledger.get_run(run_id)?;
    if let Some(run) = micro {
        return Ok(Filed::Run(Box::new(run.result)));
    }
    let e2e: Option<ledger::RunRecord<E2eRequest, E2eResult>> =
        ledger.get_run_of(RunKind::E2e, run_id)?;
    e2e.map(|r| Filed::E2e(Box::new(r.result)))
        .ok_or_else(|| no_run(ledger, run_id))
}

/// The error for an id the ledger does not hold, saying where to look.
fn no_run(ledger: &Ledger, run_id: &str) -> HistoryError {
    HistoryError::Invalid(format!(
        "no run {run_id:?} in {}: benchmark_history without run_id (`abbench history`) lists the recorded runs",
        ledger.path().display()
    ))
}

/// The result filed under `run_id` (a micro or an e2e run), whole, as JSON.
fn record(ledger: &Ledger, run_id: &str) -> Result<serde_json::Value, HistoryError> {
    let value = match filed_in(ledger, run_id)? {
        Filed::Run(r) => serde_json::to_value(r),
        Filed::E2e(e) => serde_json::to_value(e),
    };
    Ok(value.expect("results serialize"))
}

/// A run's result from an open ledger; unknown ids are an error that says where to look.
fn recorded(ledger: &Ledger, run_id: &str) -> Result<RunResult, HistoryError> {
    let run: Option<crate::bench::FiledRun> = ledger.get_run(run_id)?;
    run.map(|r| r.result).ok_or_else(|| no_run(ledger, run_id))
}

/// One side of a [`Comparison`].
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ComparedRun {
    /// The run's id.
    pub run_id: String,
    /// The script it ran.
    pub script: String,
    /// Its verdict.
    pub verdict: Verdict,
    /// Time: the speedup A / B; memory: the bytes saved (A - B); with bounds.
    pub estimate: Estimate,
    /// "x" (a ratio) or "bytes".
    pub unit: String,
    /// Processes (paired) or pairs measured.
    pub pairs: usize,
    /// The interpreter, e.g. "CPython 3.11.2 (/usr/bin/python3)".
    pub python: String,
    /// The platform and core count, e.g. "Linux-6.1-x86_64, 2 cores".
    pub machine: String,
    /// Wall seconds of the run.
    pub elapsed_s: f64,
}

/// Two runs side by side: the same script at two times, or on two machines.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Comparison {
    /// The earlier (or first named) run.
    pub first: ComparedRun,
    /// The other run.
    pub second: ComparedRun,
    /// The second estimate against the first, as a fraction (0.05 = 5 % higher).
    pub change: f64,
    /// Whether the two intervals share any value: if they do, these runs give no evidence that anything changed.
    pub intervals_overlap: bool,
    /// Both runs ran the same script path.
    pub same_script: bool,
    /// The comparison in one sentence.
    pub summary: String,
}

fn compared(r: RunResult) -> Result<ComparedRun, HistoryError> {
    let c = &r.comparison;
    let (estimate, unit) = match (c.speedup, c.saved_bytes) {
        (Some(s), _) => (s, "x"),
        (None, Some(b)) => (b, "bytes"),
        (None, None) if c.verdict == crate::verdict::Verdict::DifferentResults => {
            return Err(HistoryError::Invalid(format!(
                "run {} timed nothing (different_results: A and B compute different results), so it has no estimate to compare",
                r.run_id
            )))
        }
        (None, None) => {
            return Err(HistoryError::Invalid(format!(
                "run {} has no estimate to compare",
                r.run_id
            )))
        }
    };
    let e = &r.environment;
    Ok(ComparedRun {
        verdict: c.verdict,
        pairs: c.pairs,
        estimate,
        unit: unit.into(),
        python: format!(
            "{} {} ({})",
            e.python_implementation, e.python_version, e.python_executable
        ),
        machine: format!("{}, {} cores", e.platform, e.cores),
        elapsed_s: r.elapsed_s,
        run_id: r.run_id,
        script: r.script,
    })
}

/// Puts two recorded runs of one domain side by side.
pub fn compare(
    first: &str,
    second: &str,
    ledger_dir: Option<&Path>,
) -> Result<Comparison, HistoryError> {
    let ledger = Ledger::open_in(ledger_dir)?;
    let (a, b) = (recorded(&ledger, first)?, recorded(&ledger, second)?);
    if a.domain.is_time() != b.domain.is_time() {
        return Err(HistoryError::Invalid(format!(
            "run {first} is {} and run {second} is {}: compare runs that measure the same thing (time or memory)",
            a.domain, b.domain
        )));
    }
    let (a, b) = (compared(a)?, compared(b)?);
    let change = b.estimate.estimate / a.estimate.estimate - 1.0;
    let overlap = a.estimate.low.unwrap_or(f64::NEG_INFINITY)
        <= b.estimate.high.unwrap_or(f64::INFINITY)
        && b.estimate.low.unwrap_or(f64::NEG_INFINITY) <= a.estimate.high.unwrap_or(f64::INFINITY);
    let what = if a.unit == "x" { "speedup" } else { "saving" };
    let summary = format!(
        "the {what} of {} is {:+.1} % against {}; the intervals {}",
        b.run_id,
        change * 100.0,
        a.run_id,
        if overlap {
            "overlap, so these runs give no evidence that it changed"
        } else {
            "do not overlap: it changed between the runs (check the machine and runner columns before blaming the code)"
        }
    );
    Ok(Comparison {
        same_script: a.script == b.script,
        first: a,
        second: b,
        change,
        intervals_overlap: overlap,
        summary,
    })
}

/// What completes a prompt argument: the domains, or the functions the
/// ledger has decisions about, that start with (domains) or contain
/// (functions) `typed`; at most 100.
pub fn complete(argument: &str, typed: &str, ledger_dir: Option<&Path>) -> Vec<String> {
    match argument {
        "domain" => crate::domain::DOMAIN_LIST
            .into_iter()
            .filter(|d| d.starts_with(typed))
            .map(String::from)
            .collect(),
        "function" => Ledger::open_in(ledger_dir)
            .and_then(|l| l.target_functions(typed, 100))
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}
