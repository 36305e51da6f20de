//! `check_keep_conditions`: the four conditions for keeping a candidate on
//! the micro-benchmark alone, every one evaluated and reported, and the
//! decision keep / needs_e2e / discard with the next step.
//!
//! 1. improvement — the ledger run's verdict is `above_threshold`.
//! 2. tests — the full test command exits 0.
//! 3. simplicity — few lines and files, no new dependency, no jump in
//!    complexity of any changed function (read with `ast`).
//! 4. hot_path — cProfile of the target test, on a temporary worktree of
//!    the base and on the candidate: the function takes a real share of the
//!    test's time on the base, and the candidate still calls it.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::bench::FiledRun;
use crate::git::{GitError, Repo};
use crate::ledger::{self, DecisionRecord, Ledger, LedgerError};
use crate::python::helper::Helper;
use crate::python::runner::{self, Runner};

pub(crate) mod conditions;
mod decide;
mod e2e;
mod evaluate;
mod request;
mod reuse;
mod scope;

pub use request::KeepRequest;
pub(crate) mod hot_path;

/// The four keep conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConditionName {
    /// The micro-benchmark's verdict is `above_threshold`.
    Improvement,
    /// The full test command exits 0.
    Tests,
    /// Few lines and files, no new dependency, no jump in complexity.
    Simplicity,
    /// The function takes a real share of the target test on the base.
    HotPath,
}

impl ConditionName {
    /// In the order they are evaluated and reported.
    pub const ALL: [ConditionName; 4] = [
        ConditionName::Improvement,
        ConditionName::Tests,
        ConditionName::Simplicity,
        ConditionName::HotPath,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionName::Improvement => "improvement",
            ConditionName::Tests => "tests",
            ConditionName::Simplicity => "simplicity",
            ConditionName::HotPath => "hot_path",
        }
    }
}

/// One condition, evaluated.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Condition {
    /// improvement, tests, simplicity or hot_path.
    pub name: ConditionName,
    /// Whether it holds.
    pub passed: bool,
    /// One sentence with the figures.
    pub summary: String,
    /// The figures behind the sentence.
    #[schemars(with = "serde_json::Map<String, Value>")]
    pub figures: Value,
}

/// The outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// All four conditions hold: keep on the micro-benchmark alone.
    Keep,
    /// Plausible, but an end-to-end comparison must confirm it.
    NeedsE2e,
    /// Drop it: tests fail, a regression, or no evidence of any gain.
    Discard,
}

impl Decision {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Keep => "keep",
            Decision::NeedsE2e => "needs_e2e",
            Decision::Discard => "discard",
        }
    }
}

/// The limits applied, as used.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct KeepLimits {
    /// Most net added lines.
    pub max_added_lines: i64,
    /// Most files changed.
    pub max_files: usize,
    /// Most complexity increase per function.
    pub max_complexity_increase: i64,
    /// Least share of the target test's time on the base.
    pub min_hot_share: f64,
    /// Timeout of the test command, seconds.
    pub tests_timeout_s: f64,
}

impl KeepLimits {
    /// The request's limits, with the hot-path share resolved for the domain.
    fn of(req: &KeepRequest, min_hot_share: f64) -> Self {
        KeepLimits {
            max_added_lines: req.max_added_lines,
            max_files: req.max_files,
            max_complexity_increase: req.max_complexity_increase,
            min_hot_share,
            tests_timeout_s: req.tests_timeout_s,
        }
    }
}

/// Wall seconds of each step.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Durations {
    /// The test command.
    pub tests_s: f64,
    /// Profiling the target test on the base.
    pub profile_base_s: f64,
    /// Profiling the target test on the candidate.
    pub profile_candidate_s: f64,
    /// The whole call.
    pub total_s: f64,
}

/// What `check_keep_conditions` returns.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct KeepResult {
    /// Id of this check in the ledger.
    pub check_id: String,
    /// The run it judged.
    pub run_id: String,
    /// The e2e run the improvement was judged on, if any.
    #[serde(default)]
    pub e2e_run_id: Option<String>,
    /// keep | needs_e2e | discard.
    pub decision: Decision,
    /// Why, in one sentence.
    pub reason: String,
    /// The four conditions, each evaluated.
    pub conditions: Vec<Condition>,
    /// Names of the conditions that block a micro-only keep.
    pub blocking: Vec<ConditionName>,
    /// What to do now.
    pub next_step: String,
    /// What was compared: base commit and candidate.
    pub change: String,
    /// The base commit id.
    pub base_commit: String,
    /// The function checked, as given.
    pub target_function: String,
    /// The test profiled, as given.
    pub target_test: String,
    /// The Python used for profiling and helpers.
    pub runner: Runner,
    /// The limits applied.
    pub limits: KeepLimits,
    /// Wall seconds of each step.
    pub durations: Durations,
    /// Things worth knowing (e.g. the ledger could not record the decision).
    pub warnings: Vec<String>,
}

/// Why no decision could be made. Each message says what to change.
#[derive(Debug, thiserror::Error)]
pub enum KeepError {
    /// A bad argument.
    #[error("{0}")]
    Invalid(String),
    /// git failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// The ledger could not be read.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// No runner could be resolved.
    #[error(transparent)]
    Runner(#[from] crate::python::runner::RunnerError),
    /// A bad `test_command`.
    #[error(transparent)]
    Command(#[from] crate::python::command::CommandError),
    /// A temporary directory could not be made.
    #[error("cannot create a temporary directory")]
    TempDir(#[source] std::io::Error),
    /// Cancelled.
    #[error("cancelled; every process was killed")]
    Cancelled,
}

fn invalid(msg: impl Into<String>) -> KeepError {
    KeepError::Invalid(msg.into())
}

/// Runs an embedded helper with the runner's Python in `cwd`, JSON in and
/// out; the error says what went wrong, for a condition's summary.
async fn helper<T: serde::de::DeserializeOwned>(
    runner: &Runner,
    script: &str,
    input: &Value,
    cwd: &Path,
    cancel: &CancellationToken,
) -> Result<T, String> {
    Helper {
        python: &runner.argv,
        flags: &[],
        script,
        cwd: Some(cwd.to_path_buf()),
        env: Vec::new(),
        timeout: Duration::from_secs(120),
    }
    .call(Some(input), cancel)
    .await
    .map_err(|e| e.to_string())
}

/// The environment for running the project's Python in `dir`: that tree
/// first on PYTHONPATH (so a base worktree imports its own code, not an
/// editable install of the work tree), and the runner's bin directory first
/// on PATH (so `pytest` means the virtualenv's pytest).
fn project_env(runner: &Runner, dir: &Path) -> Vec<(String, String)> {
    let mut env = Vec::new();
    let mut paths = vec![dir.display().to_string()];
    if dir.join("src").is_dir() {
        paths.push(dir.join("src").display().to_string());
    }
    if let Ok(existing) = std::env::var("PYTHONPATH") {
        paths.push(existing);
    }
    env.push(("PYTHONPATH".into(), paths.join(":")));
    if let Some(bin) = Path::new(&runner.argv[0])
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        let path = std::env::var("PATH").unwrap_or_default();
        env.push(("PATH".into(), format!("{}:{path}", bin.display())));
    }
    env
}

/// What a check works on, resolved before anything expensive runs.
struct Context<'a> {
    req: &'a KeepRequest,
    run: &'a FiledRun,
    /// A run of several candidates: the one judged (its figures are `run`'s).
    judged: Option<&'a str>,
    e2e: Option<&'a crate::e2e::FiledE2e>,
    repo: &'a Repo,
    change: &'a crate::git::Change,
    runner: &'a Runner,
    /// What identifies this check's test run and profiles.
    keys: reuse::Keys,
    /// The test command's result on this very content, from an earlier check.
    earlier_tests: Option<Condition>,
    /// The profiles of this very content and test, from an earlier check.
    earlier_profiles: Option<reuse::Earlier>,
}

/// Checks the four conditions and decides. `ledger_dir` overrides the configured one.
pub async fn check(
    req: &KeepRequest,
    ledger_dir: Option<&Path>,
    cancel: &CancellationToken,
) -> Result<KeepResult, KeepError> {
    let started = Instant::now();
    // One connection for the whole check (owned, so the future stays Send;
    // borrowed only between awaits).
    let ledger = Ledger::open_in(ledger_dir)?;
    let (run, judged) = filed_run(req, &ledger)?;
    let e2e = req
        .e2e_run_id
        .as_deref()
        .map(|id| e2e::filed_for(id, &run, &ledger))
        .transpose()?;
    let req = &req.completed_by(&run, e2e.as_ref())?;
    let repo = Repo::open(&req.repo).await?;
    let change = repo.change_against(req.base()).await?;
    if let Some(e2e) = &e2e {
        e2e::same_change(e2e, &repo, &change)?;
    }
    let runner = runner::resolve(
        req.runner.as_deref(),
        &repo.root,
        runner::active_virtualenv(&Default::default()).as_deref(),
    )?;
    let copied: &[String] = e2e.as_ref().map_or(&[], |e| &e.result.copied_to_base);
    let keys = reuse::Keys::of(req, &repo, &runner, &change, copied).await;
    let ctx = Context {
        req,
        run: &run,
        judged: judged.as_deref(),
        e2e: e2e.as_ref(),
        repo: &repo,
        change: &change,
        runner: &runner,
        earlier_tests: keys
            .tests
            .as_deref()
            .and_then(|k| reuse::tests(&ledger, &repo, k)),
        earlier_profiles: keys
            .profiles
            .as_deref()
            .and_then(|k| reuse::profiles(&ledger, &repo, k)),
        keys,
    };
    let mut evaluated = evaluate::evaluate(&ctx, cancel).await?;
    evaluated.durations.total_s = started.elapsed().as_secs_f64();
    let mut result = decided(&ctx, evaluated);
    let filed = record(&ledger, &result, req, &repo).map(|()| ledger.set_aside_warning());
    match filed {
        Ok(warning) => result.warnings.extend(warning),
        Err(e) => result
            .warnings
            .push(format!("the ledger could not record this decision: {e}")),
    }
    Ok(result)
}

/// The decision from the evaluated conditions, with its next step.
fn decided(ctx: &Context<'_>, evaluated: evaluate::Evaluated) -> KeepResult {
    let Context {
        req,
        run,
        e2e,
        change,
        runner,
        ..
    } = *ctx;
    let different = (run.result.comparison.verdict == crate::verdict::Verdict::DifferentResults)
        .then(|| {
            run.result
                .equivalence
                .as_ref()
                .and_then(|e| e.first_difference.as_deref())
                .unwrap_or("A and B compute different results")
        });
    let evidence = decide::Evidence {
        different,
        tests_passed: evaluated.tests_passed,
        regression: evaluated.regression,
        any_gain: evaluated.any_gain,
    };
    let conditions = evaluated.conditions;
    let warnings = evaluated.warnings;
    let (decision, reason, blocking) = match e2e {
        Some(e2e) => decide::decide_e2e(&conditions, evidence, e2e.verdict),
        None => decide::decide(&conditions, evidence),
    };
    let next_step = decide::next_step(
        decision,
        &reason,
        &decide::Revisions {
            base: &change.old,
            candidate: change.new.as_deref(),
            target: &evaluated.target,
            test_command: &req.test_command,
            codeflash: runner::find_on_path("codeflash").is_some(),
            run_id: &req.run_id,
            e2e_done: e2e.is_some(),
            blocking: &blocking,
        },
    );
    KeepResult {
        check_id: format!(
            "chk-{}",
            ledger::new_run_id(SystemTime::now(), crate::measure::rng::seed_from_clock())
        ),
        run_id: req.run_id.clone(),
        e2e_run_id: req.e2e_run_id.clone(),
        decision,
        reason,
        conditions,
        blocking,
        next_step,
        change: change.described.clone(),
        base_commit: change.old.clone(),
        target_function: req.target_function.clone(),
        target_test: req.target_test.clone(),
        runner: runner.clone(),
        limits: KeepLimits::of(req, evaluated.min_hot_share),
        durations: evaluated.durations,
        warnings,
    }
}

impl KeepRequest {
    /// The base revision, once [`KeepRequest::completed_by`] has run.
    fn base(&self) -> &str {
        self.base.as_deref().unwrap_or("HEAD")
    }

    /// The request with `target_function` and `base` taken from the run
    /// where they were left out (a revision-form script records both; an
    /// e2e run its base commit and first target).
    fn completed_by(
        &self,
        run: &FiledRun,
        e2e: Option<&crate::e2e::FiledE2e>,
    ) -> Result<KeepRequest, KeepError> {
        let mut req = self.clone();
        let recorded = run.result.revision.as_ref();
        if req.target_function.trim().is_empty() {
            req.target_function = recorded
                .and_then(|r| r.targets.first().cloned())
                .or_else(|| e2e.and_then(|e| e.request.target_functions.first().cloned()))
                .ok_or_else(|| invalid("`target_function` is required: the run's script was written in the free form (code_a/code_b), so it records no target; pass \"path/file.py::func\" (or generate the script with `target`, and the run remembers it)"))?;
        }
        if req.base.is_none() {
            req.base = Some(match (recorded, e2e) {
                (_, Some(e)) => e.result.revisions.base_commit.clone(),
                (Some(r), None) => r.base_commit.clone(),
                (None, None) => "HEAD".to_string(),
            });
        }
        Ok(req)
    }
}

/// The run to judge, from the ledger; and the request's timeout checked.
fn filed_run(req: &KeepRequest, ledger: &Ledger) -> Result<(FiledRun, Option<String>), KeepError> {
    let run = ledger.get_run(&req.run_id)?.ok_or_else(|| {
        invalid(format!(
            "unknown run_id {:?}: use the run_id returned by run_ab_benchmark (benchmark_history lists recorded runs)",
            req.run_id
        ))
    })?;
    let timeout = req.tests_timeout_s;
    if !(timeout.is_finite() && timeout > 0.0) {
        return Err(invalid(format!(
            "`tests_timeout_s` = {timeout} must be a positive number of seconds"
        )));
    }
    judged_candidate(run, req.candidate.as_deref())
}

/// A run of several candidates is judged on one of them (`candidate`, else
/// the best, else the first listed): its comparison, values and
/// equivalence take the run's top-level place; its label is returned.
fn judged_candidate(
    mut run: FiledRun,
    named: Option<&str>,
) -> Result<(FiledRun, Option<String>), KeepError> {
    let r = &mut run.result;
    if r.candidates.is_empty() {
        return match named {
            Some(label) => Err(invalid(format!(
                "run {} has no candidates, so there is no {label:?} to judge: drop `candidate`",
                run.run_id
            ))),
            None => Ok((run, None)),
        };
    }
    let labels: Vec<&str> = r.candidates.iter().map(|c| c.label.as_str()).collect();
    let label = named.or(r.b_candidate()).unwrap_or_default().to_string();
    let Some(c) = r.candidates.iter().find(|c| c.label == label).cloned() else {
        return Err(invalid(format!(
            "run {} has no candidate {label:?}: its candidates are {}",
            run.run_id,
            labels.join(", ")
        )));
    };
    if let Some(of) = &c.duplicate_of {
        return Err(invalid(format!(
            "candidate {label:?} was not measured: it is the same code as {of}; judge {of} instead"
        )));
    }
    if let Some(analysis) = c.analysis {
        r.comparison = analysis;
    }
    r.b = c.arm;
    r.equivalence = c.equivalence;
    Ok((run, Some(label)))
}

/// Files the decision next to its run.
fn record(
    ledger: &Ledger,
    result: &KeepResult,
    req: &KeepRequest,
    repo: &Repo,
) -> Result<(), LedgerError> {
    ledger.record_decision(&DecisionRecord {
        check_id: result.check_id.clone(),
        run_id: result.run_id.clone(),
        created_at: ledger::rfc3339(SystemTime::now()),
        decision: result.decision.as_str().into(),
        target_function: req.target_function.clone(),
        repo: repo.root.display().to_string(),
        result: result.clone(),
        abbench_version: ledger::this_version(),
    })
}
