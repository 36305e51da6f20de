//! `run_e2e_benchmark`: the second phase. The micro-benchmark is a
//! pre-screen; this runs the project's real workload on the base and on the
//! candidate and judges it with the same honesty.
//!
//! The base is checked out into a temporary `git worktree` (removed when
//! the call ends, however it ends; one left by a crash is pruned by the
//! next call), the candidate is the work tree. Both run the same command
//! in fresh processes: one uncounted warm-up each, then pairs in a seeded
//! random order with planned looks under the machine lock — the micro run's
//! process-isolation schedule ([`crate::bench::unpaired`]) driving a
//! [`executor::WorkloadExecutor`]. The value of a process is its wall
//! time (memory: its peak under memray); with `target_functions`, a hook
//! ([`crate::python::scripts::E2E_HOOK`]) also times each function inside
//! every process, so the result says how much the function itself gained
//! in the real call pattern and what share of the workload it is.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio_util::sync::CancellationToken;

use crate::domain::Domain;
use crate::git::{GitError, Repo};
use crate::ledger::{self, Ledger, RunKind, RunRecord};
use crate::measure::environment::ArmSummary;
use crate::measure::progress::{reporter, Event, Progress};
use crate::measure::rng::{self, SplitMix64};
use crate::measure::schedule::{self, Schedule};
use crate::measure::session::{self, Session};
use crate::measure::{Arm, Culprit, RunError};
use crate::process::Limits;
use crate::python::runner::{self, Runner};

mod executor;
mod plan;
mod request;
mod result;

pub use request::{E2eRequest, DEFAULT_E2E_MIN_GAIN};
pub use result::{E2eCommands, E2eResult, Noise, Revisions, TargetArm, TargetHook, TargetReport};

use executor::{Tree, WorkloadExecutor};
use plan::Checked;

/// Hooked processes per revision, after the counted ones, that time the
/// target functions (with the warm-up: 5 per revision, the least for which
/// the function's own speedup gets 95 % bounds).
const TARGET_PROCESSES: usize = 4;

/// An e2e run as the ledger files it and reads it back.
pub type FiledE2e = RunRecord<E2eRequest, E2eResult>;

/// Why an e2e run returned no result. Each message says what to change.
#[derive(Debug, thiserror::Error)]
pub enum E2eError {
    /// A bad argument, or nothing to compare.
    #[error("{0}")]
    Invalid(String),
    /// git failed or the revision cannot be used.
    #[error(transparent)]
    Git(#[from] GitError),
    /// No runner could be resolved.
    #[error(transparent)]
    Runner(#[from] crate::python::runner::RunnerError),
    /// A bad `command`.
    #[error(transparent)]
    Command(#[from] crate::python::command::CommandError),
    /// A bad `env`.
    #[error(transparent)]
    Env(#[from] crate::measure::InvalidEnv),
    /// A workload process failed, timed out, or the run was cancelled.
    #[error("{error}{hint}")]
    Run {
        /// What the schedule or a process said.
        error: RunError,
        /// What to try, when abbench can tell (e.g. files the base lacks).
        hint: String,
    },
}

impl From<RunError> for E2eError {
    fn from(error: RunError) -> Self {
        E2eError::Run {
            error,
            hint: String::new(),
        }
    }
}

fn invalid(msg: impl Into<String>) -> E2eError {
    E2eError::Invalid(msg.into())
}

/// The repository facts a run starts from, checked before anything runs.
struct Prepared {
    repo: Repo,
    change: crate::git::Change,
    copied: Vec<String>,
    candidate_cwd: PathBuf,
    runner: Runner,
}

/// What measuring left: the schedule's outcome and the executor's records.
struct Measured<'a> {
    out: schedule::UnpairedOutcome,
    ex: WorkloadExecutor<'a>,
}

/// Runs the comparison and files it in `ledger_dir` (the configured data
/// directory when `None`). A ledger failure becomes a warning.
pub async fn run_e2e(
    req: &E2eRequest,
    ledger_dir: Option<&Path>,
    cancel: &CancellationToken,
    progress: Arc<dyn Fn(Progress) + Send + Sync>,
) -> Result<E2eResult, E2eError> {
    let started = Instant::now();
    let checked = plan::check(req)?;
    let prepared = prepare(req, &checked).await?;
    let processes_total = 2 + 2 * req.max_pairs;
    let say = reporter(&*progress, req.max_pairs, processes_total);
    let notify = |event: Event| say(0, 0, event);
    let (runner, cwd) = (&prepared.runner, &prepared.candidate_cwd);
    let probe = session::probe(runner, cwd, &checked.env, None, cancel).await?;
    let memray = match checked.domain {
        Domain::Memory => Some(session::memray(runner, &probe, cancel, &notify).await?),
        _ => None,
    };

    let repo = &prepared.repo;
    let worktree = repo.worktree(&prepared.change.old).await?;
    plan::copy_into(&prepared.copied, &repo.root, &worktree.path)?;
    let mut ex = executor(
        &checked,
        req,
        &probe,
        &prepared,
        &worktree.path,
        memray,
        cancel,
    )?;
    let seed = req.seed.unwrap_or_else(rng::seed_from_clock);
    let mut session = Session::begin(cancel, &notify).await?;
    let schedule = Schedule {
        domain: checked.domain,
        looks: &checked.looks,
        threshold: &checked.threshold,
        max_pairs: req.max_pairs,
    };
    let budget = Duration::from_secs_f64(req.max_seconds);
    let mut order = SplitMix64::new(seed);
    let measured = schedule::run(&mut ex, &schedule, &mut order, started, budget, &say).await;
    let measured = match measured {
        Ok(out) => ex.profile(TARGET_PROCESSES).await.map(|()| out),
        Err(e) => Err(e),
    };
    session.release();
    let out = match measured {
        Ok(out) => out,
        Err(error) => {
            let hint = hint(&error, repo, &worktree.path, &checked).await;
            return Err(E2eError::Run { error, hint });
        }
    };
    drop(worktree);

    let lock_wait = session.lock_wait;
    let (environment, machine) = session.end(probe);
    let mut result = assemble(
        req,
        &checked,
        prepared,
        Measured { out, ex },
        environment,
        seed,
    );
    result
        .warnings
        .splice(0..0, machine.iter().map(ToString::to_string));
    result.elapsed_s = started.elapsed().as_secs_f64();
    result.lock_wait_s = lock_wait.as_secs_f64();
    let filed = session::file(record(&result, req), ledger_dir).await;
    result.warnings.extend(filed.map(|w| w.to_string()));
    Ok(result)
}

/// The repository, the change against the base, the files to copy, the
/// candidate's working directory and the runner; every problem an error.
async fn prepare(req: &E2eRequest, checked: &Checked) -> Result<Prepared, E2eError> {
    let repo = Repo::open(&req.repo).await?;
    let change = repo
        .change_against(req.base.as_deref().unwrap_or("HEAD"))
        .await?;
    if change.files.is_empty() {
        return Err(invalid(format!(
            "nothing to compare: the work tree is identical to `base` {} ({}); apply the candidate change in {} first",
            req.base.as_deref().unwrap_or("HEAD"),
            &change.old[..12],
            repo.root.display()
        )));
    }
    if repo.show(&change.old, ".gitmodules").await.is_some() {
        return Err(invalid("the repository has git submodules, which a temporary worktree of the base does not check out: run_e2e_benchmark does not support them yet; compare by hand, or vendor the submodule's files"));
    }
    let mut copied = plan::copies(checked, &repo.root)?;
    // A workload script the base lacks (one the agent wrote for this
    // measurement) runs in the base too: copied in, and said so.
    if let Some(script) = plan::python_script(checked) {
        let script = script.display().to_string();
        if repo.root.join(&script).is_file()
            && !copied.contains(&script)
            && repo.show(&change.old, &script).await.is_none()
        {
            copied.push(script);
        }
    }
    let candidate_cwd = checked.cwd_in(&repo.root);
    if !candidate_cwd.is_dir() {
        return Err(invalid(format!(
            "`cwd` {} is not a folder of {}",
            checked.cwd.display(),
            repo.root.display()
        )));
    }
    let runner = runner::resolve(
        req.runner.as_deref(),
        &candidate_cwd,
        runner::active_virtualenv(&req.env).as_deref(),
    )?;
    Ok(Prepared {
        repo,
        change,
        copied,
        candidate_cwd,
        runner,
    })
}

/// The workload executor over the base worktree and the work tree.
fn executor<'a>(
    checked: &'a Checked,
    req: &E2eRequest,
    probe: &crate::python::probe::Probe,
    prepared: &Prepared,
    base_tree: &Path,
    memray: Option<Option<PathBuf>>,
    cancel: &'a CancellationToken,
) -> Result<WorkloadExecutor<'a>, E2eError> {
    let (python, launcher_env) = probe.measured_with(&prepared.runner);
    let root = &prepared.repo.root;
    let arms = [
        arm(checked, &python, base_tree, root),
        arm(checked, &python, root, root),
    ];
    let mut env = launcher_env;
    env.extend(checked.env.iter().cloned());
    let limits = Limits {
        timeout: Duration::from_secs_f64(req.timeout_s),
        ..Limits::default()
    };
    let mut ex = WorkloadExecutor::new(
        arms,
        env,
        &checked.targets,
        memray,
        req.compare_output,
        limits,
        cancel,
    )?;
    // A pytest-benchmark suite reports its own medians: they are the value.
    ex.benchmark_json = checked.pytest && probe.pytest_benchmark && checked.domain.is_time();
    Ok(ex)
}

/// The result from what was measured (elapsed and lock wait are the caller's).
fn assemble(
    req: &E2eRequest,
    checked: &Checked,
    prepared: Prepared,
    measured: Measured<'_>,
    environment: crate::measure::environment::Environment,
    seed: u64,
) -> E2eResult {
    let Measured { out, ex } = measured;
    let Prepared {
        repo,
        change,
        copied,
        runner,
        ..
    } = prepared;
    let targets = result::targets(&req.target_functions, &ex.figures);
    let noise = result::noise(&out.a, &out.b, req.max_pairs);
    let values: Vec<f64> = out.a.iter().chain(&out.b).copied().collect();
    let warnings = plan::warnings(
        &ex,
        &values,
        &out.analysis,
        noise.as_ref(),
        checked,
        &targets,
    );
    let now = SystemTime::now();
    let unit = checked.domain.unit();
    E2eResult {
        run_id: format!("e2e-{}", ledger::new_run_id(now, rng::seed_from_clock())),
        micro_run_id: req.micro_run_id.clone(),
        domain: checked.domain,
        repo: repo.root.display().to_string(),
        revisions: Revisions {
            base: req.base.clone().unwrap_or_else(|| match change.new {
                Some(_) => "HEAD^".into(),
                None => "HEAD".into(),
            }),
            base_commit: change.old.clone(),
            candidate_commit: change.new.clone(),
            change: change.described.clone(),
            files: change.files.iter().map(|f| f.path.clone()).collect(),
        },
        command: checked.words.clone(),
        runner,
        commands: E2eCommands {
            base: ex.commands[0].clone(),
            candidate: ex.commands[1].clone(),
        },
        measured_by: plan::measured_by(checked.domain, ex.suite.as_deref()),
        pytest_benchmarks: ex.suite.clone().unwrap_or_default(),
        design: plan::design(checked, req),
        base: ArmSummary::new(&out.a, unit),
        candidate: ArmSummary::new(&out.b, unit),
        target_hook: target_hook(&ex, checked),
        targets,
        threshold: checked.threshold.clone(),
        comparison: out.analysis,
        equivalence: Some(ex.output_check()),
        noise,
        looks: checked.looks.clone(),
        stopped_at_look: out.stopped_at_look,
        stopped_because: out.stopped_because,
        order: out.order,
        seed,
        copied_to_base: copied,
        codeflash_command: codeflash_command(&repo.root, &change, &req.target_functions),
        elapsed_s: 0.0,
        lock_wait_s: 0.0,
        warnings,
        environment,
    }
}

/// One revision's arm: its tree, the working directory in it, the command
/// with its program resolved (python → the runner; a relative program path
/// from this tree when it has it, else from the work tree).
fn arm(checked: &Checked, python: &[String], root: &Path, work_tree: &Path) -> Tree {
    let cwd = checked.cwd_in(root);
    let mut argv = checked.words.clone();
    let program = argv[0].clone();
    if crate::python::command::is_python(&program) {
        argv.splice(0..1, python.iter().cloned());
    } else if program.contains('/') && !Path::new(&program).is_absolute() {
        let own = cwd.join(&program);
        let resolved = if own.exists() {
            own
        } else {
            checked.cwd_in(work_tree).join(&program)
        };
        argv[0] = resolved.display().to_string();
    }
    Tree {
        root: root.to_path_buf(),
        cwd,
        argv,
    }
}

/// How the targets were timed, from the processes' reports.
fn target_hook(ex: &WorkloadExecutor, checked: &Checked) -> Option<TargetHook> {
    if checked.targets.is_empty() {
        return None;
    }
    let method = ex
        .figures
        .iter()
        .flatten()
        .find_map(|f| f.report.as_ref()?.hook.clone())
        .unwrap_or_else(|| "none (no process reported)".into());
    let overhead = match method.as_str() {
        "sys.monitoring" => "Python 3.12+: a callback at the first event of each code object disables every one that is not a target; each target call pays two callbacks. Only the warm-up and 4 extra processes per revision are hooked; the counted processes run bare, so the verdict's wall times carry no hook cost",
        "wrapper" => "Python before 3.12: each target is wrapped in its module as the module is imported, so only target calls pay (one extra Python call each); a target defined in the command's own script (__main__) is not reached, and a coroutine target's time includes its awaits. Only the warm-up and 4 extra processes per revision are hooked; the counted processes run bare",
        _ => "none",
    };
    Some(TargetHook {
        method,
        overhead: overhead.into(),
    })
}

/// What to try after a failed process: a base that fails while the work
/// tree holds files the base lacks probably needs them.
async fn hint(error: &RunError, repo: &Repo, base_tree: &Path, checked: &Checked) -> String {
    let base_failed = matches!(
        error,
        RunError::VariantFailed {
            variant: Culprit::Revision(Arm::A),
            ..
        }
    );
    if !base_failed {
        return String::new();
    }
    let untracked = repo.untracked().await.unwrap_or_default();
    let missing: Vec<&String> = untracked
        .iter()
        .filter(|p| !base_tree.join(p).exists())
        .filter(|p| !checked.copies.iter().any(|c| p.starts_with(c.as_str())))
        .take(10)
        .collect();
    if missing.is_empty() {
        "\nthe base revision itself fails: fix the command, or choose a `base` where the workload runs".into()
    } else {
        format!(
            "\nthe base worktree holds committed files only; the work tree has untracked files it lacks: {}. If the workload needs them, pass them as `copy_to_base` (or commit them)",
            missing.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
        )
    }
}

/// `codeflash compare` for the same revisions, when codeflash is on PATH
/// and the project configures `[tool.codeflash] benchmarks-root`.
fn codeflash_command(
    root: &Path,
    change: &crate::git::Change,
    targets: &[String],
) -> Option<String> {
    runner::find_on_path("codeflash")?;
    let pyproject = std::fs::read_to_string(root.join("pyproject.toml")).ok()?;
    let configured =
        pyproject.contains("[tool.codeflash]") && pyproject.contains("benchmarks-root");
    if !configured {
        return None;
    }
    let head = change
        .new
        .as_deref()
        .map(|h| h[..12].to_string())
        .unwrap_or_else(|| "<a commit of the work tree>".into());
    let functions = if targets.is_empty() {
        String::new()
    } else {
        format!(" --functions '{}'", targets.join(","))
    };
    Some(format!(
        "codeflash compare {} {head}{functions}",
        &change.old[..12]
    ))
}

/// The run as the ledger files it.
fn record(result: &E2eResult, req: &E2eRequest) -> FiledE2e {
    RunRecord {
        run_id: result.run_id.clone(),
        kind: RunKind::E2e,
        created_at: ledger::rfc3339(SystemTime::now()),
        script: format!("{}: {}", result.repo, shell_words::join(&result.command)),
        domain: result.domain,
        verdict: result.comparison.verdict,
        request: req.clone(),
        result: result.clone(),
        abbench_version: ledger::this_version(),
    }
}

/// A filed e2e run, if `ledger` has it.
pub fn filed(run_id: &str, ledger: &Ledger) -> Result<Option<FiledE2e>, ledger::LedgerError> {
    ledger.get_run_of(RunKind::E2e, run_id)
}
