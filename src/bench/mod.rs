//! `run_ab_benchmark`: runs A and B in fresh processes until the statistics
//! give a verdict, and files the run in the ledger.
//!
//! A probe of the runner first (its version, what it imports; memray is
//! provisioned for a memory run that needs it), then the machine lock, then
//! one of two designs:
//!
//! - **paired** ([`paired`], the default for the time domains): every fresh
//!   process runs both variants in alternating blocks, the design chosen by
//!   [`design`] from an uncounted pilot, the pairing checked by
//!   [`interference`];
//! - **process** ([`unpaired`]; always for memory): each process runs one
//!   variant, A and B processes interleaved in a seeded random order.
//!
//! Either stops at a planned look that settles the run
//! ([`crate::verdict::analyze`]), or at its budget.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::domain::Domain;
use crate::equivalence::{Equivalence, EquivalenceStatus, FailedPart, Verified};
use crate::ledger::{self, RunRecord};
use crate::process::Exit;
use crate::rng::{self, SplitMix64};

pub use design::{BlockCandidate, BlockChoice, RoundsChoice, VarianceComponents};
pub use interference::{Interference, OrderEffect};
pub use progress::{Event, Progress, SoFar};
pub use request::{Isolation, RunRequest, MAX_PAIRS_LIMIT, MIN_PAIRS_LIMIT};
pub use result::{
    ArmSummary, DesignReport, Environment, ProcessOutput, ProcessPeak, RunCommands, RunResult,
};
pub use warnings::RunWarning;

use executor::{MemoryMethod, PythonExecutor, STDERR_TAIL_LINES};
use plan::plan;
use result::{measured_by, Measured};

pub(crate) mod blocks;
pub(crate) mod design;
pub(crate) mod executor;
mod interference;
mod paired;
pub(crate) mod plan;
mod progress;
mod request;
pub(crate) mod result;
#[cfg(test)]
mod schedule_tests;
pub(crate) mod unpaired;
pub(crate) mod warnings;

/// One of the two variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// The current approach.
    A,
    /// The optimized approach.
    B,
}

impl Variant {
    /// 0 for A, 1 for B.
    pub fn index(self) -> usize {
        self as usize
    }

    /// A then B, or B then A.
    pub fn in_order(a_first: bool) -> [Variant; 2] {
        if a_first {
            [Variant::A, Variant::B]
        } else {
            [Variant::B, Variant::A]
        }
    }
}

impl std::fmt::Display for Variant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Variant::A => "a",
            Variant::B => "b",
        })
    }
}

/// Why a run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// A planned look before the last one settled it.
    Verdict,
    /// The pair budget was reached.
    MaxPairs,
    /// The time budget would have been overrun by the next process.
    MaxSeconds,
    /// Before any timing: A and B compute different results.
    DifferentResults,
}

/// A run as the ledger files it and reads it back.
pub type FiledRun = RunRecord<RunRequest, RunResult>;

/// Why a run returned no result. Each message says what to change.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A bad argument.
    #[error("{0}")]
    Invalid(String),
    /// The runner could not be used.
    #[error("{0}")]
    Runner(String),
    /// A variant exited non-zero or by a signal.
    #[error("variant {variant} failed with {exit}\ncommand: {command}\nlast {STDERR_TAIL_LINES} lines of its stderr:\n{stderr_tail}")]
    VariantFailed {
        /// `a`, `b`, or `ab` for a process running both.
        variant: String,
        /// How it ended.
        exit: Exit,
        /// The exact command.
        command: String,
        /// The end of its stderr.
        stderr_tail: String,
    },
    /// A variant ran past `timeout_s`.
    #[error("variant {variant} timed out after {after_s:.1} s (timeout_s); its whole process group was killed\ncommand: {command}\nlast lines of its stderr:\n{stderr_tail}")]
    VariantTimedOut {
        /// `a`, `b` or `ab`.
        variant: String,
        /// The timeout, seconds.
        after_s: f64,
        /// The exact command.
        command: String,
        /// The end of its stderr.
        stderr_tail: String,
    },
    /// A malformed measurement line or memray output.
    #[error("variant {variant}: {problem}\ncommand: {command}")]
    BadOutput {
        /// `a`, `b` or `ab`.
        variant: String,
        /// What is wrong, quoting the line.
        problem: String,
        /// The exact command.
        command: String,
    },
    /// Setup or variant A raised in the equivalence check: the benchmark
    /// cannot run on this input.
    #[error("{who} raised before anything was timed: {error}; fix the script (generate_ab_script names the argument and its line for such errors)\ncommand: {command}")]
    Raised {
        /// "setup" or "variant a".
        who: String,
        /// The error and where it was raised.
        error: String,
        /// The exact command of the check.
        command: String,
    },
    /// The caller cancelled; every process was killed.
    #[error("cancelled; every process of the run was killed")]
    Cancelled,
}

fn invalid(msg: impl Into<String>) -> RunError {
    RunError::Invalid(msg.into())
}

pub(crate) fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Runs the benchmark and files it in `ledger_dir` (the configured data
/// directory when `None`). A ledger failure becomes a warning.
pub async fn run_ab(
    req: &RunRequest,
    ledger_dir: Option<&Path>,
    cancel: &CancellationToken,
    progress: Arc<dyn Fn(Progress) + Send + Sync>,
) -> Result<RunResult, RunError> {
    let started = Instant::now();
    let plan = plan(req)?;
    let mut warnings = Vec::new();
    let processes_total = match plan.isolation {
        Isolation::Paired => 1 + req.max_pairs,
        Isolation::Process => 2 + 2 * req.max_pairs,
    };
    let say = |processes_done: usize, pairs_done: usize, event: Event| {
        progress(Progress {
            processes_done,
            pairs_done,
            max_pairs: req.max_pairs,
            processes_total,
            event,
        })
    };
    let notify = |event: Event| say(0, 0, event);

    let probe = executor::probe(&plan, None, cancel).await?;
    let memory = match plan.domain {
        Domain::Memory => Some(
            memory_method(
                &plan,
                &probe,
                req.allow_fallback,
                cancel,
                &notify,
                &mut warnings,
            )
            .await?,
        ),
        _ => None,
    };

    let load_start = load_average();
    let (lock, lock_wait) = machine_lock(cancel, &notify, &mut warnings).await?;

    let mut ex = PythonExecutor::new(&plan, &probe, memory.clone(), cancel)?;
    let runner = measured_runner(&plan, &probe);
    let seed = req.seed.unwrap_or_else(rng::seed_from_clock);
    let equivalence = check_equivalence(&mut ex, &plan).await?;
    let measured = match equivalence.status {
        EquivalenceStatus::Different => Measured::not_timed(
            &plan,
            equivalence.first_difference.as_deref().unwrap_or("?"),
        ),
        _ => {
            warnings.extend(
                equivalence
                    .warning()
                    .map(|sentence| RunWarning::Equivalence { sentence }),
            );
            measure(&mut ex, &plan, seed, started, req.max_seconds, &say).await?
        }
    };
    drop(lock);

    warnings.extend(measured.warnings.iter().cloned());
    warnings.extend(warnings::process_warnings(&ex, &measured));
    let cores = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1);
    let load_end = load_average();
    warnings.extend(warnings::machine_load(load_start, load_end, cores));
    let measured_by = measured_by(&plan, memory.as_ref(), &probe, ex.external_timing);
    let environment = Environment::new(probe, cores, load_start, load_end);
    warnings.extend(warnings::governor(&environment.hardware));

    let now = SystemTime::now();
    let mut result = RunResult {
        run_id: ledger::new_run_id(now, rng::seed_from_clock()),
        domain: plan.domain,
        script: plan.script.display().to_string(),
        cwd: plan.cwd.display().to_string(),
        runner,
        commands: ex.commands.clone(),
        first_output: std::mem::take(&mut ex.outputs),
        measured_by,
        equivalence: Some(equivalence),
        a: (!measured.a.is_empty()).then(|| ArmSummary::new(&measured.a, plan.domain.unit())),
        b: (!measured.b.is_empty()).then(|| ArmSummary::new(&measured.b, plan.domain.unit())),
        design: measured.design,
        process_peak: measured.process_peak,
        threshold: plan.threshold.clone(),
        comparison: measured.analysis,
        looks: measured.looks,
        stopped_at_look: measured.stopped_at_look,
        stopped_because: measured.stopped_because,
        order: measured.order,
        seed,
        elapsed_s: started.elapsed().as_secs_f64(),
        lock_wait_s: lock_wait.as_secs_f64(),
        warnings: warnings.iter().map(ToString::to_string).collect(),
        environment,
        revision: plan.revision.clone(),
    };
    record(&mut result, req, ledger_dir, now).await;
    Ok(result)
}

/// The equivalence check before any timing (none when it is off or the
/// domain has nothing to compare). Setup or A raising is an error; B
/// raising where A returned is a difference.
async fn check_equivalence(
    ex: &mut PythonExecutor<'_>,
    plan: &plan::Plan,
) -> Result<Equivalence, RunError> {
    if let Some(skipped) = plan.equivalence.skipped(plan.domain) {
        return Ok(skipped);
    }
    let script = plan
        .script
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    match ex.verify().await? {
        Verified::Checked { equivalence, .. } => Ok(equivalence),
        Verified::Failed(failure) => Err(RunError::Raised {
            who: match failure.part {
                FailedPart::Setup => "setup".into(),
                FailedPart::A => "variant a".into(),
                FailedPart::B => "variant b".into(),
            },
            error: failure.describe(&script),
            command: ex.commands.verify.clone().unwrap_or_default(),
        }),
    }
}

/// Runs the plan's design to its stop.
async fn measure(
    ex: &mut PythonExecutor<'_>,
    plan: &plan::Plan,
    seed: u64,
    started: Instant,
    max_seconds: f64,
    say: &(dyn Fn(usize, usize, Event) + Sync),
) -> Result<Measured, RunError> {
    let mut order_rng = SplitMix64::new(seed);
    let budget = Duration::from_secs_f64(max_seconds);
    Ok(match plan.isolation {
        Isolation::Paired => {
            let out = paired::run(ex, plan, &mut order_rng, started, budget, &say).await?;
            Measured::from_paired(out, plan)
        }
        Isolation::Process => {
            let out =
                unpaired::run(ex, &plan.schedule(), &mut order_rng, started, budget, &say).await?;
            Measured::from_unpaired(out, plan)
        }
    })
}

/// The machine lock, so two measurements never overlap; without it (an
/// unusable lock file) the run goes on with a warning.
pub(crate) async fn machine_lock(
    cancel: &CancellationToken,
    notify: &(dyn Fn(Event) + Sync),
    warnings: &mut Vec<RunWarning>,
) -> Result<(Option<crate::lock::MachineLock>, Duration), RunError> {
    let waiting = || notify(Event::WaitingForLock);
    match crate::lock::acquire(cancel, waiting).await {
        Ok((lock, wait)) => Ok((Some(lock), wait)),
        Err(crate::lock::LockError::Cancelled) => Err(RunError::Cancelled),
        Err(e) => {
            warnings.push(RunWarning::NoMachineLock {
                error: e.to_string(),
            });
            Ok((None, Duration::ZERO))
        }
    }
}

/// The runner as reported: when the measured processes run the resolved
/// interpreter directly, its reason says so.
fn measured_runner(plan: &plan::Plan, probe: &executor::Probe) -> crate::python::runner::Runner {
    let mut runner = plan.runner.clone();
    if let Some(exe) = crate::python::runner::direct(&runner, &probe.executable) {
        runner.chosen_because = format!(
            "{}; the measured processes run {exe} directly (what `{}` resolved to, with the PATH and VIRTUAL_ENV it set), so its start-up is paid once, not per process",
            runner.chosen_because,
            runner.shown()
        );
    }
    runner
}

/// memray from the runner's environment, else provisioned for its
/// interpreter, else (when allowed) the script's tracemalloc figure.
async fn memory_method(
    plan: &plan::Plan,
    probe: &executor::Probe,
    allow_fallback: bool,
    cancel: &CancellationToken,
    notify: &(dyn Fn(Event) + Sync),
    warnings: &mut Vec<RunWarning>,
) -> Result<MemoryMethod, RunError> {
    if probe.memray {
        return Ok(MemoryMethod::Memray { path: None });
    }
    let provisioned =
        crate::provision::memray(&plan.runner, &probe.tag, &probe.executable, cancel, |dir| {
            notify(Event::ProvisioningMemray {
                runner: plan.runner.shown(),
                version: crate::provision::MEMRAY_VERSION,
                dir: dir.to_path_buf(),
            })
        })
        .await;
    match provisioned {
        Ok(dir) => Ok(MemoryMethod::Memray { path: Some(dir) }),
        Err(_) if cancel.is_cancelled() => Err(RunError::Cancelled),
        Err(e) if allow_fallback => {
            warnings.push(RunWarning::MemoryFallback {
                error: e.to_string(),
            });
            Ok(MemoryMethod::Tracemalloc)
        }
        Err(e) => Err(RunError::Runner(format!(
            "{e}; or pass allow_fallback: true to measure with tracemalloc"
        ))),
    }
}

/// Files the run; on failure adds a warning instead.
async fn record(
    result: &mut RunResult,
    req: &RunRequest,
    ledger_dir: Option<&Path>,
    now: SystemTime,
) {
    let record: FiledRun = RunRecord {
        run_id: result.run_id.clone(),
        kind: ledger::RunKind::Micro,
        created_at: ledger::rfc3339(now),
        script: result.script.clone(),
        domain: result.domain,
        verdict: result.comparison.verdict,
        request: req.clone(),
        result: result.clone(),
        abbench_version: ledger::this_version(),
    };
    let warning = match ledger::file_run(record, ledger_dir).await {
        Ok(set_aside) => set_aside.map(|message| RunWarning::LedgerSetAside { message }),
        Err(problem) => Some(RunWarning::NotRecorded {
            problem,
            run_id: result.run_id.clone(),
        }),
    };
    result.warnings.extend(warning.map(|w| w.to_string()));
}
