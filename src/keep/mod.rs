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

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::bench::FiledRun;
use crate::domain::Domain;
use crate::git::{GitError, Repo};
use crate::ledger::{self, DecisionRecord, Ledger, LedgerError};
use crate::python::helper::Helper;
use crate::python::runner::{self, Runner};

pub(crate) mod conditions;
pub(crate) mod hot_path;

/// Arguments of `check_keep_conditions` / `abbench keep`: the MCP tool
/// takes it as its parameters (the doc comments are the schema's
/// descriptions), the CLI converts its flags into it, and every default
/// is written once, in its `Default`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeepRequest {
    /// The run_id returned by run_ab_benchmark (it stays valid across server restarts).
    pub run_id: String,
    /// The project's git work tree, with the candidate change applied (e.g. "/home/me/shop").
    pub repo: PathBuf,
    /// The FULL test suite, run in `repo`, split into words without a shell, e.g. "python3 -m pytest -q" or ".venv/bin/pytest -q". Passes iff it exits 0.
    pub test_command: String,
    /// The optimized function: "path/to/file.py::func", "path/to/file.py::Class.method" or dotted "pkg.module.func" (paths relative to `repo`).
    pub target_function: String,
    /// The test that exercises the function, profiled with cProfile on the base and on the candidate: a pytest node id ("tests/test_inv.py::test_count") or path, or a script path.
    pub target_test: String,
    /// The base revision: the change is the work tree (tracked changes and untracked files) against it; when the work tree is clean and base is HEAD, HEAD against its parent. Default "HEAD".
    #[serde(default = "defaults::base")]
    pub base: String,
    /// Command of the project's Python, split into words, e.g. ".venv/bin/python". Default: detected in `repo` as run_ab_benchmark does.
    #[serde(default)]
    pub runner: Option<String>,
    /// simplicity: most net added lines (added - removed, untracked files count). Default 30.
    #[serde(default = "defaults::max_added_lines")]
    pub max_added_lines: i64,
    /// simplicity: most files changed. Default 3.
    #[serde(default = "defaults::max_files")]
    pub max_files: usize,
    /// simplicity: most McCabe complexity increase of any changed function (a new function counts from 1). Default 2.
    #[serde(default = "defaults::max_complexity_increase")]
    pub max_complexity_increase: i64,
    /// hot_path: least share (fraction) of the target test's time the function must take on the base. Default 0.05 for cpu/data_structures/async, 0 for memory/structure.
    #[serde(default)]
    pub min_hot_share: Option<f64>,
    /// Timeout in seconds of the test command and of each profiling run. Default 900.
    #[serde(default = "defaults::tests_timeout_s")]
    pub tests_timeout_s: f64,
}

impl Default for KeepRequest {
    fn default() -> Self {
        KeepRequest {
            run_id: String::new(),
            repo: PathBuf::new(),
            test_command: String::new(),
            target_function: String::new(),
            target_test: String::new(),
            base: "HEAD".into(),
            runner: None,
            max_added_lines: 30,
            max_files: 3,
            max_complexity_increase: 2,
            min_hot_share: None,
            tests_timeout_s: 900.0,
        }
    }
}

/// serde's per-field defaults, read from the one `Default`.
mod defaults {
    use super::KeepRequest;

    pub(super) fn base() -> String {
        KeepRequest::default().base
    }
    pub(super) fn max_added_lines() -> i64 {
        KeepRequest::default().max_added_lines
    }
    pub(super) fn max_files() -> usize {
        KeepRequest::default().max_files
    }
    pub(super) fn max_complexity_increase() -> i64 {
        KeepRequest::default().max_complexity_increase
    }
    pub(super) fn tests_timeout_s() -> f64 {
        KeepRequest::default().tests_timeout_s
    }
}

/// One condition, evaluated.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Condition {
    /// improvement, tests, simplicity or hot_path.
    pub name: String,
    /// Whether it holds.
    pub passed: bool,
    /// One sentence with the figures.
    pub summary: String,
    /// The figures behind the sentence.
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
    /// keep | needs_e2e | discard.
    pub decision: Decision,
    /// Why, in one sentence.
    pub reason: String,
    /// The four conditions, each evaluated.
    pub conditions: Vec<Condition>,
    /// Names of the conditions that block a micro-only keep.
    pub blocking: Vec<String>,
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

/// Checks the four conditions and decides. `ledger_dir` overrides the configured one.
pub async fn check(
    req: &KeepRequest,
    ledger_dir: Option<&Path>,
    cancel: &CancellationToken,
) -> Result<KeepResult, KeepError> {
    let started = Instant::now();
    let open_ledger = || match ledger_dir {
        Some(d) => Ledger::open(d),
        None => Ledger::open_default(),
    };
    let run: FiledRun = open_ledger()?.get_run(&req.run_id)?.ok_or_else(|| {
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
    let repo = Repo::open(&req.repo).await?;
    let base_commit = repo.commit_of(&req.base).await.map_err(|_| {
        invalid(format!(
            "`base` {:?} is not a commit in {}",
            req.base,
            repo.root.display()
        ))
    })?;
    // The change: the work tree against base; if that is empty and base is
    // HEAD, the last commit against its parent.
    let mut changes = repo.changes(&base_commit, None).await?;
    let head = repo.commit_of("HEAD").await?;
    let (old, new, change) = if changes.is_empty() && base_commit == head {
        let parent = repo.commit_of("HEAD^").await.map_err(|_| {
            invalid("the work tree is clean and HEAD has no parent: there is no change to check; make the change in the work tree")
        })?;
        changes = repo.changes(&parent, Some(&head)).await?;
        (
            parent.clone(),
            Some(head.clone()),
            format!(
                "HEAD ({}) against its parent {}",
                &head[..12],
                &parent[..12]
            ),
        )
    } else {
        (
            base_commit.clone(),
            None,
            format!(
                "the work tree (tracked changes and untracked files) against {} ({})",
                req.base,
                &base_commit[..12]
            ),
        )
    };

    let runner = runner::resolve(
        req.runner.as_deref(),
        &repo.root,
        runner::active_virtualenv(&Default::default()).as_deref(),
    )
    .map_err(|e| invalid(e.to_string()))?;
    // Resolve the target in the candidate before anything expensive.
    let (target, candidate_line) =
        hot_path::locate(&req.target_function, &runner, &repo.root, cancel).await?;
    let pytest = crate::bench::executor::probe_python(
        &runner.argv,
        Some(repo.root.clone()),
        &project_env(&runner, &repo.root),
        None,
        cancel,
    )
    .await
    .map(|p| p.pytest)
    .map_err(|e| invalid(format!("runner `{}` {e}", runner.shown())))?;
    let test = hot_path::target_test(&req.target_test, &repo.root, pytest).map_err(invalid)?;
    let min_hot_share = req.min_hot_share.unwrap_or(match run.domain {
        Domain::Memory | Domain::Structure => 0.0,
        Domain::Cpu | Domain::Async => 0.05,
    });

    // 1. improvement
    let (improvement, regression, any_gain) = conditions::improvement(&run);
    // 2. tests
    let (tests, tests_s, tests_passed) = conditions::tests(req, &repo, &runner, cancel).await?;
    // 3. simplicity
    let simplicity = conditions::simplicity(
        req,
        &repo,
        &runner,
        &changes,
        (&old, new.as_deref()),
        cancel,
    )
    .await;
    // 4. hot_path: the base in a temporary worktree, the candidate in place.
    let timeout = Duration::from_secs_f64(req.tests_timeout_s);
    let t0 = Instant::now();
    let worktree = repo.worktree(&old).await?;
    let base_line = hot_path::line_of(&runner, &worktree.path, &target, cancel).await;
    let base_profile = hot_path::profile(
        &runner,
        &worktree.path,
        &target,
        base_line,
        &test,
        timeout,
        cancel,
    )
    .await?;
    drop(worktree);
    let profile_base_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let cand_profile = hot_path::profile(
        &runner,
        &repo.root,
        &target,
        Some(candidate_line),
        &test,
        timeout,
        cancel,
    )
    .await?;
    let profile_candidate_s = t1.elapsed().as_secs_f64();
    let hot_path = hot_path::condition(&base_profile, &cand_profile, min_hot_share, &target);

    let conditions = vec![improvement, tests, simplicity, hot_path];
    let blocking: Vec<String> = conditions
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name.clone())
        .collect();
    let target_shown = format!("{}::{}", target.file, target.qualname);
    let (decision, reason) = if blocking.is_empty() {
        (Decision::Keep, "all four conditions hold".to_string())
    } else if !tests_passed {
        (
            Decision::Discard,
            "the test suite fails with the change".to_string(),
        )
    } else if regression {
        (
            Decision::Discard,
            "the micro-benchmark shows a regression".to_string(),
        )
    } else if !any_gain {
        (
            Decision::Discard,
            "the micro-benchmark shows no evidence of any gain (its interval reaches zero)"
                .to_string(),
        )
    } else {
        (
            Decision::NeedsE2e,
            format!("a micro-only keep is blocked by: {}", blocking.join(", ")),
        )
    };
    let next_step = match decision {
        Decision::Keep => {
            "keep the change and commit it: the micro-benchmark alone justifies it".to_string()
        }
        Decision::Discard => format!("revert the change ({reason}) and try another candidate"),
        Decision::NeedsE2e => {
            let head = new
                .clone()
                .map(|h| h[..12].to_string())
                .unwrap_or_else(|| "<a commit of the work tree>".into());
            if runner::find_on_path("codeflash").is_some() {
                format!("confirm end to end: `codeflash compare {} {head} --functions '{target_shown}'`; keep only if it confirms the gain", &old[..12])
            } else {
                format!(
                    "confirm end to end: run the project's own benchmark (or time `{}`) on the base {} and on the candidate, and keep only if the end-to-end gain holds",
                    req.test_command,
                    &old[..12]
                )
            }
        }
    };
    let mut result = KeepResult {
        check_id: format!(
            "chk-{}",
            ledger::new_run_id(SystemTime::now(), crate::rng::seed_from_clock())
        ),
        run_id: req.run_id.clone(),
        decision,
        reason,
        conditions,
        blocking,
        next_step,
        change,
        base_commit: old,
        target_function: req.target_function.clone(),
        target_test: req.target_test.clone(),
        runner,
        limits: KeepLimits {
            max_added_lines: req.max_added_lines,
            max_files: req.max_files,
            max_complexity_increase: req.max_complexity_increase,
            min_hot_share,
            tests_timeout_s: req.tests_timeout_s,
        },
        durations: Durations {
            tests_s,
            profile_base_s,
            profile_candidate_s,
            total_s: started.elapsed().as_secs_f64(),
        },
        warnings: Vec::new(),
    };
    let record = DecisionRecord {
        check_id: result.check_id.clone(),
        run_id: result.run_id.clone(),
        created_at: ledger::rfc3339(SystemTime::now()),
        decision: decision.as_str().into(),
        target_function: req.target_function.clone(),
        repo: repo.root.display().to_string(),
        result: result.clone(),
        abbench_version: ledger::this_version(),
    };
    match open_ledger().and_then(|l| l.record_decision(&record).map(|()| l.set_aside_warning())) {
        Ok(warning) => result.warnings.extend(warning),
        Err(e) => result
            .warnings
            .push(format!("the ledger could not record this decision: {e}")),
    }
    Ok(result)
}
