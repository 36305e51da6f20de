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
//! - **process** ([`crate::measure::schedule`]; always for memory): each process runs one
//!   variant, A and B processes interleaved in a seeded random order.
//!
//! Either stops at a planned look that settles the run
//! ([`crate::verdict::analyze`]), or at its budget.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio_util::sync::CancellationToken;

use crate::domain::Domain;
use crate::equivalence::{Equivalence, EquivalenceStatus, Verified};
use crate::ledger::{self, RunRecord};
use crate::measure::progress::{reporter, Event, Progress};
use crate::measure::rng::{self, SplitMix64};
use crate::measure::session::{self, Session};
use crate::measure::warnings::RunWarning;
use crate::measure::{schedule, RunError};
use crate::python::probe::Probe;

pub use candidates::CandidateOutcome;
pub use design::{BlockCandidate, BlockChoice, RoundsChoice, VarianceComponents};
pub use executor::{ProcessOutput, RunCommands};
pub use interference::{Interference, OrderEffect};
pub use request::{Isolation, RunRequest};
pub use result::{DesignReport, ProcessPeak, RunResult};

use executor::{MemoryMethod, PythonExecutor};
use plan::plan;
use result::{measured_by, Measured};

pub(crate) mod blocks;
mod candidates;
pub(crate) mod design;
mod executor;
mod interference;
mod paired;
mod plan;
mod request;
mod result;
#[cfg(test)]
mod schedule_tests;
mod warnings;

/// A run as the ledger files it and reads it back.
pub type FiledRun = RunRecord<RunRequest, RunResult>;

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
    let processes_total = match plan.isolation {
        Isolation::Paired => 1 + req.max_pairs,
        Isolation::Process => 2 + 2 * req.max_pairs,
    };
    let say = reporter(&*progress, req.max_pairs, processes_total);
    let notify = |event: Event| say(0, 0, event);

    let probe = session::probe(&plan.runner, &plan.cwd, &plan.env, None, cancel).await?;
    let mut warnings = Vec::new();
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

    let mut session = Session::begin(cancel, &notify).await?;
    let mut ex = PythonExecutor::new(&plan, &probe, memory.clone(), cancel)?;
    let seed = req.seed.unwrap_or_else(rng::seed_from_clock);
    let (equivalence, measured, ranked) = match &plan.candidates {
        Some(marker) => {
            let mut order_rng = SplitMix64::new(seed);
            let budget = Duration::from_secs_f64(req.max_seconds);
            let all = candidates::run(
                &mut ex,
                &plan,
                marker,
                &mut order_rng,
                started,
                budget,
                &say,
            )
            .await?;
            let sentence = all.equivalence.warning();
            warnings.extend(sentence.map(|sentence| RunWarning::Equivalence { sentence }));
            (
                all.equivalence,
                all.chosen,
                Some((all.candidates, all.best)),
            )
        }
        None => {
            let equivalence = check_equivalence(&mut ex, &plan, None).await?;
            let measured = match equivalence.status {
                EquivalenceStatus::Different => Measured::not_timed(
                    &plan,
                    equivalence.first_difference.as_deref().unwrap_or("?"),
                ),
                _ => {
                    let sentence = equivalence.warning();
                    warnings.extend(sentence.map(|sentence| RunWarning::Equivalence { sentence }));
                    measure(&mut ex, &plan, seed, started, req.max_seconds, &say).await?
                }
            };
            (equivalence, measured, None)
        }
    };
    let (candidates, best) = ranked.unwrap_or_default();
    session.release();

    warnings.extend(measured.warnings.iter().cloned());
    warnings.extend(warnings::process_warnings(
        &ex,
        &measured,
        plan.inputs.as_ref(),
    ));
    let measured_by = measured_by(&plan, memory.as_ref(), &probe, ex.external_timing);
    let runner = measured_runner(&plan, &probe);
    let lock_wait = session.lock_wait;
    let (environment, machine) = session.end(probe);
    warnings.extend(machine);

    let now = SystemTime::now();
    let unit = plan.domain.unit();
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
        a: result::arm(&measured.a, unit),
        b: result::arm(&measured.b, unit),
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
        candidates,
        best,
    };
    let filed = session::file(record(&result, req, now), ledger_dir).await;
    result.warnings.extend(filed.map(|w| w.to_string()));
    Ok(result)
}

/// The equivalence check before any timing (none when it is off or the
/// domain has nothing to compare). Setup or A raising is an error; B (or
/// the `candidate` checked in its place) raising where A returned is a
/// difference.
async fn check_equivalence(
    ex: &mut PythonExecutor<'_>,
    plan: &plan::Plan,
    candidate: Option<(char, &str)>,
) -> Result<Equivalence, RunError> {
    if let Some(skipped) = plan.equivalence.skipped(plan.domain) {
        return Ok(skipped);
    }
    let script = plan
        .script
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    match ex.verify(candidate).await? {
        Verified::Checked { equivalence, .. } => Ok(equivalence),
        Verified::Failed(failure) => Err(RunError::Raised {
            part: failure.part,
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
                schedule::run(ex, &plan.schedule(), &mut order_rng, started, budget, &say).await?;
            Measured::from_unpaired(out, plan)
        }
    })
}

/// The runner as reported: when the measured processes run the resolved
/// interpreter directly, its reason says so.
fn measured_runner(plan: &plan::Plan, probe: &Probe) -> crate::python::runner::Runner {
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
    probe: &Probe,
    allow_fallback: bool,
    cancel: &CancellationToken,
    notify: &(dyn Fn(Event) + Sync),
    warnings: &mut Vec<RunWarning>,
) -> Result<MemoryMethod, RunError> {
    match session::memray(&plan.runner, probe, cancel, notify).await {
        Ok(path) => Ok(MemoryMethod::Memray { path }),
        Err(RunError::Cancelled) => Err(RunError::Cancelled),
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

/// The run as the ledger files it.
fn record(result: &RunResult, req: &RunRequest, now: SystemTime) -> FiledRun {
    RunRecord {
        run_id: result.run_id.clone(),
        kind: ledger::RunKind::Micro,
        created_at: ledger::rfc3339(now),
        script: result.script.clone(),
        domain: result.domain,
        verdict: result.comparison.verdict,
        request: req.clone(),
        result: result.clone(),
        abbench_version: ledger::this_version(),
    }
}
