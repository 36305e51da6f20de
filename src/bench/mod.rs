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

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::domain::{Domain, Threshold};
use crate::ledger::{self, Ledger, RunRecord};
use crate::process::Exit;
use crate::rng::{self, SplitMix64};
use crate::runner::Runner;
use crate::stats;
use crate::verdict::{Analysis, Estimate, Look};

pub use design::{BlockCandidate, BlockChoice, RoundsChoice, VarianceComponents};
pub use interference::{Interference, OrderEffect};

use executor::{Executor, MemoryMethod, STDERR_TAIL_LINES};
use plan::plan;

pub(crate) mod blocks;
mod design;
pub(crate) mod executor;
mod interference;
mod paired;
mod plan;
mod unpaired;

/// Largest `max_pairs`: keeps the exact rank distribution cheap and accurate.
pub const MAX_PAIRS_LIMIT: usize = 200;
/// Smallest `min_pairs` of process isolation: 4 vs 4 is the first size whose
/// exact test can pass the first look's 2 % (the paired design needs 6).
pub const MIN_PAIRS_LIMIT: usize = 4;

/// How the variants share processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Isolation {
    /// Each process runs A and B in alternating blocks; its A/B ratio is the unit.
    Paired,
    /// Each process runs one variant; A and B processes are interleaved.
    Process,
}

impl std::str::FromStr for Isolation {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "paired" => Ok(Isolation::Paired),
            "process" => Ok(Isolation::Process),
            other => Err(format!(
                "unknown isolation {other:?}: use paired or process"
            )),
        }
    }
}

impl Isolation {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Isolation::Paired => "paired",
            Isolation::Process => "process",
        }
    }
}

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
}

/// What to run and how; defaults as documented on the MCP tool.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RunRequest {
    /// The A/B script.
    pub script: PathBuf,
    /// The domain; read from a generated script when `None`.
    pub domain: Option<Domain>,
    /// The Python command; detected in `cwd` when `None`.
    pub runner: Option<String>,
    /// Working directory; the current one when `None`.
    pub cwd: Option<PathBuf>,
    /// Variables merged over the inherited environment.
    pub env: BTreeMap<String, String>,
    /// Time domains: gain to beat (fraction).
    pub min_gain: Option<f64>,
    /// Memory: bytes to save.
    pub min_saved_bytes: Option<u64>,
    /// Memory: fraction of A's peak to save.
    pub min_saved_fraction: Option<f64>,
    /// Paired (both variants in each process) or process (one each); by domain and script when `None`.
    pub isolation: Option<Isolation>,
    /// First look, in pairs (paired: processes); chosen by the design when `None`.
    pub min_pairs: Option<usize>,
    /// Budget in pairs.
    pub max_pairs: usize,
    /// Budget in wall seconds.
    pub max_seconds: f64,
    /// Timeout of one process, seconds.
    pub timeout_s: f64,
    /// Seed for the order inside pairs.
    pub seed: Option<u64>,
    /// Memory: fall back to the script's tracemalloc figure without memray.
    pub allow_fallback: bool,
}

impl Default for RunRequest {
    fn default() -> Self {
        RunRequest {
            script: PathBuf::new(),
            domain: None,
            runner: None,
            cwd: None,
            env: BTreeMap::new(),
            min_gain: None,
            min_saved_bytes: None,
            min_saved_fraction: None,
            isolation: None,
            min_pairs: None,
            max_pairs: 30,
            max_seconds: 300.0,
            timeout_s: 120.0,
            seed: None,
            allow_fallback: true,
        }
    }
}

/// The exact command of the first process of each role, shell-quoted for
/// display (never run through a shell), abbench's environment additions first.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct RunCommands {
    /// The uncounted warm-up processes (paired: the pilot).
    pub warm_up: Vec<String>,
    /// Process isolation: a process of variant A.
    pub a: Option<String>,
    /// Process isolation: a process of variant B.
    pub b: Option<String>,
    /// Paired: a counted process running both.
    pub ab: Option<String>,
}

/// Which design ran, why, and what it was chosen from.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DesignReport {
    /// paired | process.
    pub isolation: Isolation,
    /// Why this design ran.
    pub chosen_because: String,
    /// Why the first look is where it is.
    pub first_look_because: String,
    /// Paired: the block length and calls per block, from the pilot.
    pub block: Option<BlockChoice>,
    /// Paired: rounds per process, as first chosen and as re-planned.
    pub rounds: Vec<RoundsChoice>,
    /// Paired: the variance components and costs the choices came from.
    pub variance: Option<VarianceComponents>,
    /// Paired: the speedup (A/B) of each counted process, the unit the statistics use.
    pub process_speedups: Vec<f64>,
    /// Paired: sd of ln(speedup) across the counted processes (0.03 ≈ 3 %).
    pub process_log_sd: Option<f64>,
    /// Paired: the checks that the pairing is fair.
    pub interference: Option<Interference>,
}

/// Memory under memray: the whole process's peak, next to the variants' own.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ProcessPeak {
    /// A's process peaks: setup's live bytes plus A's own peak.
    pub a: ArmSummary,
    /// B's process peaks.
    pub b: ArmSummary,
    /// `saved_bytes / median(A's process peak)`: the saving against the whole process.
    pub saved_fraction: Option<Estimate>,
}

/// One arm's values and their summary.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ArmSummary {
    /// n, median, mean, min, max, stdev, cv of the values.
    #[serde(flatten)]
    pub summary: stats::Summary,
    /// Unit of every figure here: `s` or `bytes`.
    pub unit: String,
    /// One value per counted process, in run order (pair i = index i).
    pub values: Vec<f64>,
}

impl ArmSummary {
    fn new(values: &[f64], unit: &str) -> Self {
        ArmSummary {
            summary: stats::summarize(values),
            unit: unit.into(),
            values: values.to_vec(),
        }
    }
}

/// The machine and interpreter the run used.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Environment {
    /// Python version, e.g. 3.11.7.
    pub python_version: String,
    /// CPython, PyPy, ...
    pub python_implementation: String,
    /// The interpreter's sys.executable.
    pub python_executable: String,
    /// platform.platform() of that Python.
    pub platform: String,
    /// Logical cores available.
    pub cores: usize,
    /// 1-minute load average at the start (None where /proc/loadavg is missing).
    pub load_average_start: Option<f64>,
    /// 1-minute load average at the end.
    pub load_average_end: Option<f64>,
}

/// What `run_ab_benchmark` returns.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RunResult {
    /// Id of this run in the ledger (for check_keep_conditions and benchmark_history).
    pub run_id: String,
    /// The canonical domain.
    pub domain: Domain,
    /// Absolute path of the script.
    pub script: String,
    /// The working directory the variants ran in.
    pub cwd: String,
    /// The Python command (argv) and why it was chosen.
    pub runner: Runner,
    /// The exact command of the first process of each role.
    pub commands: RunCommands,
    /// How values were obtained, in words (the script's blocks, its ABBENCH line, process wall time, memray or tracemalloc).
    pub measured_by: String,
    /// Variant A (current approach): one value per counted process (paired: the median of its blocks).
    pub a: ArmSummary,
    /// Variant B (optimized approach).
    pub b: ArmSummary,
    /// Which design ran and why, with what it was chosen from.
    pub design: DesignReport,
    /// Memory under memray: the whole process's peak and the saving against it.
    pub process_peak: Option<ProcessPeak>,
    /// The threshold applied.
    pub threshold: Threshold,
    /// The comparison: speedup and gain (time) or saved_bytes and
    /// saved_fraction (memory) with bounds, confidence, pairs, verdict, reason.
    #[serde(flatten)]
    pub comparison: Analysis,
    /// The planned looks: pairs (paired: processes) and the error rate each spends.
    pub looks: Vec<Look>,
    /// 1-based index of the look that decided (a budget stop counts as the last look).
    pub stopped_at_look: usize,
    /// Why the run stopped: verdict, max_pairs or max_seconds.
    pub stopped_because: Stop,
    /// Order inside each pair, e.g. ["AB", "BA", ...]; paired: each process's rounds, e.g. "ABBAAB".
    pub order: Vec<String>,
    /// The seed of that order (pass it again to repeat the schedule).
    pub seed: u64,
    /// Wall seconds of the whole call, lock wait included.
    pub elapsed_s: f64,
    /// Seconds spent waiting for another abbench measurement.
    pub lock_wait_s: f64,
    /// Where the measurement is weak, and fallbacks used.
    pub warnings: Vec<String>,
    /// Interpreter and machine.
    pub environment: Environment,
}

/// A progress report, sent after every process.
#[derive(Debug, Clone)]
pub struct Progress {
    /// Processes finished (warm-ups included).
    pub processes_done: usize,
    /// Pairs finished.
    pub pairs_done: usize,
    /// The pair budget.
    pub max_pairs: usize,
    /// Processes the run may start in all (warm-up included).
    pub processes_total: usize,
    /// A line for humans, e.g. "pair 3/30: speedup so far 1.98x".
    pub message: String,
}

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
    /// The caller cancelled; every process was killed.
    #[error("cancelled; every process of the run was killed")]
    Cancelled,
}

fn invalid(msg: impl Into<String>) -> RunError {
    RunError::Invalid(msg.into())
}

fn load_average() -> Option<f64> {
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
    let notify = |message: String| {
        progress(Progress {
            processes_done: 0,
            pairs_done: 0,
            max_pairs: req.max_pairs,
            processes_total,
            message,
        })
    };

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
    let (lock, lock_wait) = match crate::lock::acquire(cancel, || {
        notify("waiting for another abbench measurement on this machine to finish".into())
    })
    .await
    {
        Ok((lock, wait)) => (Some(lock), wait),
        Err(crate::lock::LockError::Cancelled) => return Err(RunError::Cancelled),
        Err(e) => {
            warnings.push(format!("{e}: measured without the machine lock, so another measurement may have overlapped"));
            (None, Duration::ZERO)
        }
    };

    let mut ex = Executor::new(&plan, &probe, memory.clone(), cancel)?;
    let mut runner = plan.runner.clone();
    if let Some(exe) = crate::runner::direct(&runner, &probe.executable) {
        runner.chosen_because = format!(
            "{}; the measured processes run {exe} directly (what `{}` resolved to, with the PATH and VIRTUAL_ENV it set), so its start-up is paid once, not per process",
            runner.chosen_because,
            runner.shown()
        );
    }
    let seed = req.seed.unwrap_or_else(rng::seed_from_clock);
    let mut order_rng = SplitMix64::new(seed);
    let say = |ex: &Executor, pairs_done: usize, message: String| {
        progress(Progress {
            processes_done: ex.count,
            pairs_done,
            max_pairs: req.max_pairs,
            processes_total,
            message,
        })
    };
    let budget = Duration::from_secs_f64(req.max_seconds);
    let measured = match plan.isolation {
        Isolation::Paired => {
            let out = paired::run(&mut ex, &plan, &mut order_rng, started, budget, &say).await?;
            Measured::from_paired(out, &plan)
        }
        Isolation::Process => {
            let out = unpaired::run(&mut ex, &plan, &mut order_rng, started, budget, &say).await?;
            Measured::from_unpaired(out, &plan)
        }
    };
    drop(lock);

    warnings.extend(measured.warnings.iter().cloned());
    warnings.extend(process_warnings(&ex, &measured));
    let cores = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1);
    let load_end = load_average();
    if let Some(load) = [load_start, load_end]
        .into_iter()
        .flatten()
        .reduce(f64::max)
    {
        if load > cores as f64 {
            warnings.push(format!("high machine load: 1-minute load average {load:.2} above {cores} cores; other work competed with the measurement"));
        }
    }

    let unit = plan.domain.unit();
    let now = SystemTime::now();
    let mut result = RunResult {
        run_id: ledger::new_run_id(now, rng::seed_from_clock()),
        domain: plan.domain,
        script: plan.script.display().to_string(),
        cwd: plan.cwd.display().to_string(),
        runner,
        commands: ex.commands.clone(),
        measured_by: measured_by(&plan, memory.as_ref(), &probe, ex.external_timing),
        a: ArmSummary::new(&measured.a, unit),
        b: ArmSummary::new(&measured.b, unit),
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
        warnings,
        environment: Environment {
            python_version: probe.version,
            python_implementation: probe.implementation,
            python_executable: probe.executable,
            platform: probe.platform,
            cores,
            load_average_start: load_start,
            load_average_end: load_end,
        },
    };
    record(&mut result, req, ledger_dir, now).await;
    Ok(result)
}

/// memray from the runner's environment, else provisioned for its
/// interpreter, else (when allowed) the script's tracemalloc figure.
async fn memory_method(
    plan: &plan::Plan,
    probe: &executor::Probe,
    allow_fallback: bool,
    cancel: &CancellationToken,
    notify: &(dyn Fn(String) + Sync),
    warnings: &mut Vec<String>,
) -> Result<MemoryMethod, RunError> {
    if probe.memray {
        return Ok(MemoryMethod::Memray { path: None });
    }
    let provisioned = crate::provision::memray(&plan.runner, &probe.tag, &probe.executable, cancel, |dir| {
        notify(format!(
            "memray is not importable by `{}`: provisioning memray {} into {} (once per interpreter; the project's environment is not touched)",
            plan.runner.shown(),
            crate::provision::MEMRAY_VERSION,
            dir.display()
        ))
    })
    .await;
    match provisioned {
        Ok(dir) => Ok(MemoryMethod::Memray { path: Some(dir) }),
        Err(_) if cancel.is_cancelled() => Err(RunError::Cancelled),
        Err(e) if allow_fallback => {
            warnings.push(format!(
                "fallback: {e}; so values are tracemalloc's peak of the call (Python allocations only)"
            ));
            Ok(MemoryMethod::Tracemalloc)
        }
        Err(e) => Err(RunError::Runner(format!(
            "{e}; or pass allow_fallback: true to measure with tracemalloc"
        ))),
    }
}

fn measured_by(
    plan: &plan::Plan,
    memory: Option<&MemoryMethod>,
    probe: &executor::Probe,
    external_timing: bool,
) -> String {
    match (memory, plan.isolation) {
        (Some(MemoryMethod::Memray { path: None }), _) => format!(
            "memray {} from the runner's environment, in-process: the variant's own peak (only the variant tracked, every Python allocation traced), above what setup left alive",
            probe.memray_version.as_deref().unwrap_or("?")
        ),
        (Some(MemoryMethod::Memray { path: Some(dir) }), _) => format!(
            "memray {} provisioned by abbench in {} (the project's environment is unchanged), in-process: the variant's own peak (only the variant tracked, every Python allocation traced), above what setup left alive",
            crate::provision::MEMRAY_VERSION,
            dir.display()
        ),
        (Some(MemoryMethod::Tracemalloc), _) => {
            "tracemalloc peak of the call (fallback: no memray)".into()
        }
        (None, Isolation::Paired) => {
            "the script's `ab` mode: per-call seconds of alternating blocks of A and B in each process".into()
        }
        (None, Isolation::Process) if external_timing => {
            "process wall time (fallback: no ABBENCH line)".into()
        }
        (None, Isolation::Process) => "the script's ABBENCH line".into(),
    }
}

/// A schedule's outcome, in the shape of the result.
struct Measured {
    a: Vec<f64>,
    b: Vec<f64>,
    design: DesignReport,
    process_peak: Option<ProcessPeak>,
    analysis: Analysis,
    looks: Vec<Look>,
    stopped_at_look: usize,
    stopped_because: Stop,
    order: Vec<String>,
    /// Paired: sd of the per-process log-ratios (the unit's spread).
    unit_spread: Option<f64>,
    /// Paired: who printed to stdout and to stderr in the pilot ("a", "b", "a and b", "a or b").
    printed: Option<[String; 2]>,
    warnings: Vec<String>,
}

impl Measured {
    fn from_paired(out: paired::PairedOutcome, plan: &plan::Plan) -> Self {
        let s = &out.schedule;
        let median_of = |v: &[f64]| stats::median(v);
        let a: Vec<f64> = out
            .processes
            .iter()
            .map(|p| median_of(&p.blocks.a))
            .collect();
        let b: Vec<f64> = out
            .processes
            .iter()
            .map(|p| median_of(&p.blocks.b))
            .collect();
        let d = s.log_ratios();
        let spread = (d.len() > 1).then(|| stats::summarize(&d).stdev);
        let checks = interference::check(Some(&out.pilot), &out.processes);
        let aa_sd = {
            let aa: Vec<f64> = out.pilot.aa[0]
                .iter()
                .zip(&out.pilot.aa[1])
                .map(|(x, y)| (x / y).ln())
                .collect();
            (aa.len() > 1).then(|| stats::robust_sd(&aa) / (aa.len() as f64).sqrt())
        };
        let warnings = interference::warnings(&checks, aa_sd);
        Measured {
            a,
            b,
            design: DesignReport {
                isolation: Isolation::Paired,
                chosen_because: plan.isolation_why.clone(),
                first_look_because: s.first_look_why().to_string(),
                block: Some(s.block().clone()),
                rounds: s.rounds_log().to_vec(),
                variance: Some(s.variance().clone()),
                process_speedups: d.iter().map(|v| v.exp()).collect(),
                process_log_sd: spread,
                interference: Some(checks),
            },
            process_peak: None,
            analysis: out.analysis,
            looks: s.looks().to_vec(),
            stopped_at_look: out.stopped_at_look,
            stopped_because: out.stopped_because,
            order: out
                .processes
                .iter()
                .map(|p| p.blocks.order.clone())
                .collect(),
            unit_spread: spread,
            printed: Some(printers(&out.pilot)),
            warnings,
        }
    }

    fn from_unpaired(out: unpaired::UnpairedOutcome, plan: &plan::Plan) -> Self {
        let process_peak = out.peaks.map(|(pa, pb)| {
            let median = stats::median(&pa);
            ProcessPeak {
                saved_fraction: out.analysis.saved_bytes.map(|s| Estimate {
                    estimate: s.estimate / median,
                    low: s.low.map(|v| v / median),
                    high: s.high.map(|v| v / median),
                }),
                a: ArmSummary::new(&pa, "bytes"),
                b: ArmSummary::new(&pb, "bytes"),
            }
        });
        Measured {
            design: DesignReport {
                isolation: Isolation::Process,
                chosen_because: plan.isolation_why.clone(),
                first_look_because: match plan.min_pairs {
                    Some(n) => format!("{n} pairs: given as `min_pairs`"),
                    None => format!(
                        "{} pairs: the default first look of this design (an exact rank test of {0} against {0} can reach the first look's {:.0} %)",
                        plan.looks[0].pairs,
                        crate::verdict::FIRST_LOOK_ALPHA * 100.0
                    ),
                },
                block: None,
                rounds: Vec::new(),
                variance: None,
                process_speedups: Vec::new(),
                process_log_sd: None,
                interference: None,
            },
            a: out.a,
            b: out.b,
            process_peak,
            analysis: out.analysis,
            looks: plan.looks.clone(),
            stopped_at_look: out.stopped_at_look,
            stopped_because: out.stopped_because,
            order: out.order,
            unit_spread: None,
            printed: None,
            warnings: Vec::new(),
        }
    }
}

/// Which variant printed to stdout and to stderr, from the pilot's counts.
fn printers(pilot: &blocks::Pilot) -> [String; 2] {
    let who = |a: u64, b: u64| {
        match (a > 0, b > 0) {
            (true, false) => "a",
            (false, true) => "b",
            (true, true) => "a and b",
            (false, false) => "a or b",
        }
        .to_string()
    };
    let o = &pilot.output;
    [who(o.a.stdout, o.b.stdout), who(o.a.stderr, o.b.stderr)]
}

/// Warnings where the measurement is weak: noisy units, short samples,
/// output dropped, stderr, external timing.
fn process_warnings(ex: &Executor, m: &Measured) -> Vec<String> {
    let mut warnings = Vec::new();
    match m.unit_spread {
        Some(sd) if sd > 0.10 => warnings.push(format!(
            "the per-process speedup varies by {:.1} % across processes (sd of ln(A/B) over 10 %) even with A and B paired: a noisy workload or machine; the interval accounts for it, at the cost of more processes",
            sd * 100.0
        )),
        Some(_) => {}
        None => {
            for (name, values) in [("A", &m.a), ("B", &m.b)] {
                let s = stats::summarize(values);
                if s.cv > 0.10 {
                    warnings.push(format!(
                        "{name}'s values vary by {:.1} % across processes (coefficient of variation over 10 %): a noisy machine or workload; the interval accounts for it, at the cost of more pairs",
                        s.cv * 100.0
                    ));
                }
            }
        }
    }
    // Process isolation keeps each variant's figures apart; a paired
    // process runs both, so its output is blamed from the pilot's counts.
    let (variants, paired): (&[(&str, usize)], bool) = match &m.printed {
        Some(_) => (&[("a", 0)], true),
        None => (&[("a", 0), ("b", 1)], false),
    };
    for &(name, idx) in variants {
        let (out_by, err_by) = match &m.printed {
            Some([out, err]) => (out.as_str(), err.as_str()),
            None => (name, name),
        };
        if ex.short_samples[idx] {
            warnings.push(format!(
                "{}: a measured interval was under 1 ms, where timer resolution and scheduling jitter dominate: raise `number` or the work per call",
                if paired { "a block".to_string() } else { name.to_uppercase() }
            ));
        }
        if ex.dropped_bytes[idx] > 0 {
            warnings.push(format!(
                "variant {out_by} printed more output than abbench keeps (1 MiB per stream per process): {} bytes were dropped unread; printing in the measured code also costs time",
                ex.dropped_bytes[idx]
            ));
        }
        if let Some(line) = &ex.stderr_seen[idx] {
            warnings.push(format!(
                "variant {err_by} wrote to stderr (first line: {line:?})"
            ));
        }
    }
    if ex.external_timing {
        warnings.push("fallback: the script printed no ABBENCH line, so values are whole-process wall times with interpreter start-up included, which dilutes the ratio; generate the script with generate_ab_script for an in-process measurement".into());
    }
    warnings
}

/// Files the run; on failure adds a warning instead.
async fn record(
    result: &mut RunResult,
    req: &RunRequest,
    ledger_dir: Option<&Path>,
    now: SystemTime,
) {
    let record = RunRecord {
        run_id: result.run_id.clone(),
        created_at: ledger::rfc3339(now),
        script: result.script.clone(),
        domain: result.domain.as_str().into(),
        verdict: result.comparison.verdict.as_str().into(),
        arguments: serde_json::to_value(req).unwrap_or_default(),
        result: serde_json::to_value(&*result).unwrap_or_default(),
    };
    let dir = ledger_dir.map(Path::to_path_buf);
    let outcome = tokio::task::spawn_blocking(move || {
        let ledger = match dir {
            Some(d) => Ledger::open(&d),
            None => Ledger::open_default(),
        }?;
        ledger
            .record_run(&record)
            .map(|()| ledger.set_aside_warning())
    })
    .await;
    let problem = match outcome {
        Ok(Ok(warning)) => {
            result.warnings.extend(warning);
            return;
        }
        Ok(Err(e)) => e.to_string(),
        Err(e) => e.to_string(),
    };
    result.warnings.push(format!(
        "the ledger could not record this run ({problem}): the result above is complete, but run_id {} will not be found by check_keep_conditions or benchmark_history",
        result.run_id
    ));
}
