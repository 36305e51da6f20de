//! `run_ab_benchmark`: runs A and B in fresh, interleaved processes until the
//! statistics give a verdict, and files the run in the ledger.
//!
//! The schedule: a probe of the runner (its version, whether memray
//! imports), one uncounted warm-up process per variant, then pairs whose
//! order inside the pair is drawn from a seeded generator. After each pair
//! that completes a planned look, [`crate::verdict::analyze`] may stop the
//! run. The machine lock is held from the warm-up to the last process.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::domain::{Domain, Threshold};
use crate::generate::VariantCommands;
use crate::ledger::{self, Ledger, RunRecord};
use crate::process::Exit;
use crate::rng::{self, SplitMix64};
use crate::runner::Runner;
use crate::stats;
use crate::verdict::{self, Analysis};

use executor::{Executor, Method, STDERR_TAIL_LINES};
use plan::plan;

mod executor;
mod plan;

/// Largest `max_pairs`: keeps the exact rank distribution cheap and accurate.
pub const MAX_PAIRS_LIMIT: usize = 200;
/// Smallest `min_pairs`: 5 vs 5 is the first size whose exact test can pass a corrected level.
pub const MIN_PAIRS_LIMIT: usize = 5;

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
    /// First look, in pairs.
    pub min_pairs: usize,
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
            min_pairs: 5,
            max_pairs: 30,
            max_seconds: 300.0,
            timeout_s: 120.0,
            seed: None,
            allow_fallback: true,
        }
    }
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
    /// The exact commands of the first process of each variant (shell-quoted for display; never run through a shell).
    pub commands: VariantCommands,
    /// How values were obtained: "ABBENCH line", "process wall time", "memray peak_memory", "tracemalloc (fallback)".
    pub measured_by: String,
    /// Variant A (current approach).
    pub a: ArmSummary,
    /// Variant B (optimized approach).
    pub b: ArmSummary,
    /// The threshold applied.
    pub threshold: Threshold,
    /// The comparison: speedup and gain (time) or saved_bytes and
    /// saved_fraction (memory) with bounds, confidence, pairs, verdict, reason.
    #[serde(flatten)]
    pub comparison: Analysis,
    /// The planned looks, in pairs.
    pub looks: Vec<usize>,
    /// 1-based index of the look that decided (a budget stop counts as the last look).
    pub stopped_at_look: usize,
    /// Why the run stopped: "verdict", "max_pairs" or "max_seconds".
    pub stopped_because: String,
    /// Order inside each pair, e.g. ["AB", "BA", ...].
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
        /// `a` or `b`.
        variant: char,
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
        /// `a` or `b`.
        variant: char,
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
        /// `a` or `b`.
        variant: char,
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

    let probe = executor::probe(&plan, cancel).await?;
    let runner_shown = plan.runner.shown();

    let method = match plan.domain {
        Domain::Memory if probe.memray => Method::Memray,
        Domain::Memory => {
            let install = format!("{runner_shown} -m pip install memray");
            if !req.allow_fallback {
                return Err(RunError::Runner(format!(
                    "memray is not importable by `{runner_shown}` ({}): install it into that environment (`{install}`), or pass allow_fallback: true to use tracemalloc",
                    probe.executable
                )));
            }
            warnings.push(format!(
                "fallback: memray is not importable by `{runner_shown}`, so values are tracemalloc's peak of the call (Python allocations only, not the whole process); install memray into that environment for the real measurement: `{install}`"
            ));
            Method::Tracemalloc
        }
        _ => Method::Line,
    };

    let load_start = load_average();
    let lock_wait_notice = {
        let progress = progress.clone();
        let max_pairs = req.max_pairs;
        move || {
            progress(Progress {
                processes_done: 0,
                pairs_done: 0,
                max_pairs,
                message: "waiting for another abbench measurement on this machine to finish".into(),
            })
        }
    };
    let (lock, lock_wait) = match crate::lock::acquire(cancel, lock_wait_notice).await {
        Ok((lock, wait)) => (Some(lock), wait),
        Err(crate::lock::LockError::Cancelled) => return Err(RunError::Cancelled),
        Err(e) => {
            warnings.push(format!("{e}: measured without the machine lock, so another measurement may have overlapped"));
            (None, Duration::ZERO)
        }
    };

    let mut ex = Executor::new(&plan, method, cancel)?;
    let seed = req.seed.unwrap_or_else(rng::seed_from_clock);
    let mut order_rng = SplitMix64::new(seed);
    let unit = plan.domain.unit();
    let send = |ex: &Executor, pairs_done: usize, message: String| {
        progress(Progress {
            processes_done: ex.count,
            pairs_done,
            max_pairs: req.max_pairs,
            message,
        })
    };

    // Warm-up: one uncounted process per variant.
    let warm_first = if order_rng.coin() {
        ['a', 'b']
    } else {
        ['b', 'a']
    };
    for v in warm_first {
        ex.measure(v).await?;
        send(&ex, 0, format!("warm-up {v} done"));
    }

    let (mut a, mut b, mut order) = (Vec::new(), Vec::new(), Vec::new());
    let mut analysis = None;
    let mut stopped_because = "max_pairs";
    let measuring_started = Instant::now();
    let budget = Duration::from_secs_f64(req.max_seconds);
    while a.len() < req.max_pairs {
        let pairs_done = a.len();
        // Stop before a pair that would overrun the budget (a pair ~ the mean pair so far).
        let per_pair = if pairs_done > 0 {
            measuring_started.elapsed() / pairs_done as u32
        } else {
            Duration::ZERO
        };
        if started.elapsed() + per_pair > budget {
            stopped_because = "max_seconds";
            break;
        }
        let a_first = order_rng.coin();
        order.push(if a_first { "AB" } else { "BA" }.to_string());
        for v in if a_first { ['a', 'b'] } else { ['b', 'a'] } {
            let value = ex.measure(v).await?;
            if v == 'a' {
                a.push(value)
            } else {
                b.push(value)
            }
            let done = a.len().min(b.len());
            let so_far = if done > 0 {
                let (ma, mb) = (stats::median(&a), stats::median(&b));
                if plan.domain.is_time() {
                    format!("; A/B so far {:.3}x", ma / mb)
                } else {
                    format!(
                        "; saved so far {:.2} MiB",
                        (ma - mb) / crate::domain::MIB as f64
                    )
                }
            } else {
                String::new()
            };
            send(
                &ex,
                done,
                format!(
                    "pair {}/{}: {v} = {value:.6e} {unit}{so_far}",
                    pairs_done + 1,
                    req.max_pairs
                ),
            );
        }
        if let Some(look) = plan.looks.iter().position(|&l| l == a.len()) {
            let last = look + 1 == plan.looks.len();
            let an = verdict::analyze(
                plan.domain.is_time(),
                &a,
                &b,
                &plan.threshold,
                plan.looks.len(),
                last,
            );
            if an.settled {
                if !last {
                    stopped_because = "verdict";
                }
                analysis = Some((look + 1, an));
                break;
            }
        }
    }
    drop(lock);

    let (stopped_at_look, analysis) = match analysis {
        Some(found) => found,
        None if a.is_empty() => {
            return Err(invalid(format!(
                "max_seconds = {} s was spent before the first pair (warm-up included): raise `max_seconds` or make one process faster",
                req.max_seconds
            )))
        }
        // Budget stop: a final look replacing the planned ones still ahead.
        None => {
            let look = plan.looks.iter().filter(|&&l| l < a.len()).count() + 1;
            (look, verdict::analyze(plan.domain.is_time(), &a, &b, &plan.threshold, plan.looks.len(), true))
        }
    };

    // Warnings where the measurement is weak.
    for (name, values, idx) in [("A", &a, 0), ("B", &b, 1)] {
        let s = stats::summarize(values);
        if s.cv > 0.10 {
            warnings.push(format!(
                "{name}'s values vary by {:.1} % across processes (coefficient of variation over 10 %): a noisy machine or workload; the interval accounts for it, at the cost of more pairs",
                s.cv * 100.0
            ));
        }
        if ex.short_samples[idx] {
            warnings.push(format!(
                "{name}: a measured interval was under 1 ms per sample, where timer resolution and scheduling jitter dominate: raise `number` or the work per call"
            ));
        }
        if ex.dropped_bytes[idx] > 0 {
            warnings.push(format!(
                "variant {} printed more output than abbench keeps (1 MiB per stream per process): {} bytes were dropped unread; printing in the measured code also costs time",
                name.to_lowercase(),
                ex.dropped_bytes[idx]
            ));
        }
        if let Some(line) = &ex.stderr_seen[idx] {
            warnings.push(format!(
                "variant {} wrote to stderr (first line: {line:?})",
                name.to_lowercase()
            ));
        }
    }
    if ex.external_timing {
        warnings.push("fallback: the script printed no ABBENCH line, so values are whole-process wall times with interpreter start-up included, which dilutes the ratio; generate the script with generate_ab_script for an in-process measurement".into());
    }
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

    let measured_by = match (method, ex.external_timing) {
        (Method::Memray, _) => "memray peak_memory (whole process)",
        (Method::Tracemalloc, _) => "tracemalloc peak of the call (fallback: no memray)",
        (Method::Line, true) => "process wall time (fallback: no ABBENCH line)",
        (Method::Line, false) => "the script's ABBENCH line",
    };
    let [cmd_a, cmd_b] = ex.first_commands.clone();
    let now = SystemTime::now();
    let mut result = RunResult {
        run_id: ledger::new_run_id(now, rng::seed_from_clock()),
        domain: plan.domain,
        script: plan.script.display().to_string(),
        cwd: plan.cwd.display().to_string(),
        runner: plan.runner.clone(),
        commands: VariantCommands {
            a: cmd_a.unwrap_or_default(),
            b: cmd_b.unwrap_or_default(),
        },
        measured_by: measured_by.into(),
        a: ArmSummary::new(&a, unit),
        b: ArmSummary::new(&b, unit),
        threshold: plan.threshold.clone(),
        comparison: analysis,
        looks: plan.looks.clone(),
        stopped_at_look,
        stopped_because: stopped_because.into(),
        order,
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
