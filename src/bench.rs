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
use crate::measurement;
use crate::process::{self, Exit, Limits, ProcessError, ProcessSpec};
use crate::rng::{self, SplitMix64};
use crate::runner::{self, Runner};
use crate::stats;
use crate::template;
use crate::verdict::{self, Analysis};

const PROBE_PY: &str = include_str!("python/probe.py");
/// Largest `max_pairs`: keeps the exact rank distribution cheap and accurate.
pub const MAX_PAIRS_LIMIT: usize = 200;
/// Smallest `min_pairs`: 5 vs 5 is the first size whose exact test can pass a corrected level.
pub const MIN_PAIRS_LIMIT: usize = 5;
/// Lines of stderr quoted when a variant fails.
const STDERR_TAIL_LINES: usize = 30;

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

/// Checked, resolved inputs.
struct Plan {
    script: PathBuf,
    domain: Domain,
    cwd: PathBuf,
    runner: Runner,
    env: Vec<(String, String)>,
    threshold: Threshold,
    looks: Vec<usize>,
    limits: Limits,
}

fn check_env_name(key: &str) -> Result<(), RunError> {
    let ok = !key.is_empty()
        && !key.starts_with(|c: char| c.is_ascii_digit())
        && key.chars().all(|c| c == '_' || c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "`env` key {key:?} is not a valid environment variable name: use letters, digits and _ (not starting with a digit)"
        )))
    }
}

fn plan(req: &RunRequest) -> Result<Plan, RunError> {
    let cwd = match &req.cwd {
        Some(c) => c.clone(),
        None => std::env::current_dir()
            .map_err(|e| invalid(format!("no current directory: {e}; pass `cwd`")))?,
    };
    if !cwd.is_dir() {
        return Err(invalid(format!(
            "`cwd` {} does not exist or is not a directory",
            cwd.display()
        )));
    }
    let script = if req.script.is_absolute() {
        req.script.clone()
    } else {
        cwd.join(&req.script)
    };
    if script.is_dir() {
        return Err(invalid(format!(
            "`script` {} is a directory: give the path of a .py file",
            script.display()
        )));
    }
    let text = std::fs::read(&script).map_err(|e| {
        invalid(format!(
            "cannot read `script` {}: {e}; generate one with generate_ab_script",
            script.display()
        ))
    })?;
    let marker = template::read_marker(&String::from_utf8_lossy(&text[..text.len().min(4096)]));
    let domain = match (req.domain, marker) {
        (Some(given), Some(generated)) if given != generated => {
            return Err(invalid(format!(
                "`domain` {given} contradicts the script, which was generated for {generated}: drop `domain` or regenerate the script"
            )))
        }
        (Some(d), _) | (None, Some(d)) => d,
        (None, None) => {
            return Err(invalid(format!(
                "{} was not generated by abbench, so its domain is unknown: pass `domain` ({})",
                script.display(),
                crate::domain::DOMAIN_NAMES
            )))
        }
    };
    let mut env = Vec::new();
    for (k, v) in &req.env {
        check_env_name(k)?;
        if v.contains('\0') {
            return Err(invalid(format!("`env` value of {k} contains a NUL byte")));
        }
        env.push((k.clone(), v.clone()));
    }
    if req.min_pairs < MIN_PAIRS_LIMIT
        || req.min_pairs > req.max_pairs
        || req.max_pairs > MAX_PAIRS_LIMIT
    {
        return Err(invalid(format!(
            "`min_pairs` = {} and `max_pairs` = {} must satisfy {MIN_PAIRS_LIMIT} <= min_pairs <= max_pairs <= {MAX_PAIRS_LIMIT} (below 5 pairs per variant an exact rank test cannot reach a corrected 95 % level)",
            req.min_pairs, req.max_pairs
        )));
    }
    for (name, v) in [
        ("timeout_s", req.timeout_s),
        ("max_seconds", req.max_seconds),
    ] {
        if !(v.is_finite() && v > 0.0) {
            return Err(invalid(format!(
                "`{name}` = {v} must be a positive number of seconds"
            )));
        }
    }
    let threshold = match domain {
        Domain::Memory => {
            if req.min_gain.is_some() {
                return Err(invalid("`min_gain` applies to time domains; for memory use `min_saved_bytes` and `min_saved_fraction`"));
            }
            let d = domain.default_threshold();
            let fraction = req
                .min_saved_fraction
                .unwrap_or(d.min_saved_fraction.unwrap_or(0.1));
            if !(0.0..1.0).contains(&fraction) {
                return Err(invalid(format!(
                    "`min_saved_fraction` = {fraction} must be in [0, 1)"
                )));
            }
            Threshold::memory(
                req.min_saved_bytes
                    .unwrap_or(d.min_saved_bytes.unwrap_or(0)),
                fraction,
            )
        }
        _ => {
            if req.min_saved_bytes.is_some() || req.min_saved_fraction.is_some() {
                return Err(invalid(format!(
                    "`min_saved_bytes` / `min_saved_fraction` apply to memory; for {domain} use `min_gain`"
                )));
            }
            let gain = req.min_gain.unwrap_or(0.2);
            if !(gain.is_finite() && gain >= 0.0) {
                return Err(invalid(format!(
                    "`min_gain` = {gain} must be a fraction >= 0 (0.2 = 20 %)"
                )));
            }
            Threshold::time(gain)
        }
    };
    let runner =
        runner::resolve(req.runner.as_deref(), &cwd).map_err(|e| invalid(e.to_string()))?;
    Ok(Plan {
        script,
        domain,
        cwd,
        runner,
        env,
        threshold,
        looks: verdict::planned_looks(req.min_pairs, req.max_pairs),
        limits: Limits {
            timeout: Duration::from_secs_f64(req.timeout_s),
            ..Limits::default()
        },
    })
}

#[derive(Deserialize)]
struct Probe {
    version: String,
    implementation: String,
    executable: String,
    platform: String,
    memray: bool,
}

fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// How one variant process is run and read.
#[derive(Clone, Copy, PartialEq)]
enum Method {
    /// The ABBENCH line's value (falling back to process wall time when absent).
    Line,
    /// Under memray; memray's peak.
    Memray,
    /// Memory without memray: the script's tracemalloc figure.
    Tracemalloc,
}

/// Runs the processes of one run; holds what they leave behind.
struct Executor<'a> {
    plan: &'a Plan,
    method: Method,
    tmp: tempfile::TempDir,
    cancel: &'a CancellationToken,
    count: usize,
    external_timing: bool,
    stderr_seen: [Option<String>; 2],
    short_samples: [bool; 2],
    dropped_bytes: [u64; 2],
    first_commands: [Option<Vec<String>>; 2],
}

impl Executor<'_> {
    fn spec(&self, argv: Vec<String>, memray: bool) -> ProcessSpec {
        let mut env = self.plan.env.clone();
        if memray {
            env.push(("ABBENCH_MEMRAY".into(), "1".into()));
        }
        ProcessSpec {
            argv,
            cwd: Some(self.plan.cwd.clone()),
            env,
            stdin: None,
        }
    }

    async fn run_checked(
        &self,
        variant: char,
        spec: &ProcessSpec,
    ) -> Result<process::Finished, RunError> {
        let command = spec.display();
        match process::run(spec, self.plan.limits, self.cancel).await {
            Ok(f) if f.exit.success() => Ok(f),
            Ok(f) => Err(RunError::VariantFailed {
                variant,
                exit: f.exit,
                command,
                stderr_tail: f.stderr.last_lines(STDERR_TAIL_LINES),
            }),
            Err(ProcessError::TimedOut { after, stderr, .. }) => Err(RunError::VariantTimedOut {
                variant,
                after_s: after.as_secs_f64(),
                command,
                stderr_tail: stderr.last_lines(STDERR_TAIL_LINES),
            }),
            Err(ProcessError::Cancelled) => Err(RunError::Cancelled),
            Err(e) => Err(RunError::Runner(format!(
                "{e}; pass `runner` naming a working Python command (command: {command})"
            ))),
        }
    }

    /// Runs one process of `variant` and returns its value.
    async fn measure(&mut self, variant: char) -> Result<f64, RunError> {
        let idx = usize::from(variant == 'b');
        let v = variant.to_string();
        let script = self.plan.script.display().to_string();
        let mut argv = self.plan.runner.argv.clone();
        self.count += 1;
        let bin = self.tmp.path().join(format!("{v}-{}.bin", self.count));
        let json = self.tmp.path().join(format!("{v}-{}.json", self.count));
        let memray = self.method == Method::Memray;
        if memray {
            argv.extend(
                [
                    "-m",
                    "memray",
                    "run",
                    "-q",
                    "--native",
                    "--trace-python-allocators",
                    "-o",
                ]
                .map(String::from),
            );
            argv.push(bin.display().to_string());
        }
        argv.extend([script, v.clone()]);
        let spec = self.spec(argv, memray);
        let mut commands = vec![spec.display()];
        let finished = self.run_checked(variant, &spec).await?;
        let command = spec.display();
        let bad = |problem: String| RunError::BadOutput {
            variant,
            problem,
            command: command.clone(),
        };

        self.dropped_bytes[idx] += finished.stdout.dropped_bytes + finished.stderr.dropped_bytes;
        if self.stderr_seen[idx].is_none() {
            if let Some(line) = finished.stderr.text.lines().find(|l| !l.trim().is_empty()) {
                self.stderr_seen[idx] = Some(line.chars().take(200).collect());
            }
        }
        let line = match measurement::last_line(&finished.stdout.text) {
            None => None,
            Some(text) => {
                let parsed = measurement::parse_line(text).map_err(|why| {
                    bad(format!(
                        "malformed ABBENCH line ({why}): {:?}",
                        truncate(text, 300)
                    ))
                })?;
                if parsed.variant != v {
                    return Err(bad(format!(
                        "its ABBENCH line reports variant {:?}, not {v:?}: {:?}",
                        parsed.variant,
                        truncate(text, 300)
                    )));
                }
                Some(parsed)
            }
        };

        let value = match self.method {
            Method::Memray => {
                let mut stats_argv = self.plan.runner.argv.clone();
                stats_argv.extend(["-m", "memray", "stats", "--json", "-o"].map(String::from));
                stats_argv.extend([json.display().to_string(), "-f".into(), bin.display().to_string()]);
                let stats_spec = self.spec(stats_argv, false);
                commands.push(stats_spec.display());
                self.run_checked(variant, &stats_spec).await?;
                let text = std::fs::read_to_string(&json)
                    .map_err(|e| bad(format!("memray stats wrote no {}: {e}", json.display())))?;
                let _ = std::fs::remove_file(&bin);
                let _ = std::fs::remove_file(&json);
                measurement::memray_peak_bytes(&text).map_err(bad)? as f64
            }
            Method::Tracemalloc => line.and_then(|l| l.value).ok_or_else(|| {
                bad("without memray the value must come from the script's ABBENCH line, and it printed none with a value: install memray into the runner's environment, or use a script generated by generate_ab_script".into())
            })?,
            Method::Line => match line.and_then(|l| l.value.map(|value| (value, l.number))) {
                Some((value, number)) => {
                    if value <= 0.0 {
                        return Err(bad(format!("its ABBENCH value is {value}; a time must be > 0")));
                    }
                    let sample_s = value * number.unwrap_or(1) as f64;
                    self.short_samples[idx] |= sample_s < 1e-3;
                    value
                }
                None => {
                    self.external_timing = true;
                    let wall = finished.wall.as_secs_f64();
                    self.short_samples[idx] |= wall < 1e-3;
                    wall
                }
            },
        };
        if self.first_commands[idx].is_none() {
            self.first_commands[idx] = Some(commands);
        }
        Ok(value)
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
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

    let mut probe_argv = plan.runner.argv.clone();
    probe_argv.extend(["-c".to_string(), PROBE_PY.to_string()]);
    let probe_spec = ProcessSpec {
        argv: probe_argv,
        cwd: Some(plan.cwd.clone()),
        env: plan.env.clone(),
        stdin: None,
    };
    let runner_shown = shell_words::join(&plan.runner.argv);
    let probe = match process::run(&probe_spec, Limits { timeout: Duration::from_secs(60), ..Limits::default() }, cancel).await {
        Ok(f) if f.exit.success() => serde_json::from_str::<Probe>(f.stdout.text.trim()).map_err(|_| {
            RunError::Runner(format!("runner `{runner_shown}` did not behave like Python: stdout {:?}", truncate(&f.stdout.text, 200)))
        })?,
        Ok(f) => {
            return Err(RunError::Runner(format!(
                "runner `{runner_shown}` ({}) failed with {}: {}; pass `runner` naming a working Python command",
                plan.runner.chosen_because,
                f.exit,
                f.stderr.last_lines(5)
            )))
        }
        Err(ProcessError::Cancelled) => return Err(RunError::Cancelled),
        Err(e) => {
            return Err(RunError::Runner(format!(
                "runner `{runner_shown}` ({}): {e}; pass `runner` naming a working Python command",
                plan.runner.chosen_because
            )))
        }
    };

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

    let mut ex = Executor {
        plan: &plan,
        method,
        tmp: tempfile::Builder::new()
            .prefix("abbench-run-")
            .tempdir()
            .map_err(|e| RunError::Runner(format!("cannot create a temporary directory: {e}")))?,
        cancel,
        count: 0,
        external_timing: false,
        stderr_seen: [None, None],
        short_samples: [false, false],
        dropped_bytes: [0, 0],
        first_commands: [None, None],
    };
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
