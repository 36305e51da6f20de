//! Executing one run's processes: the runner probe, then each variant
//! process (under memray for memory), read into one value per process,
//! noting what the warnings will need (stderr, dropped output, short samples).

use std::time::Duration;

use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::plan::Plan;
use super::RunError;
use crate::measurement;
use crate::process::{self, Limits, ProcessError, ProcessSpec};

const PROBE_PY: &str = include_str!("../python/probe.py");
/// Lines of stderr quoted when a variant fails.
pub(super) const STDERR_TAIL_LINES: usize = 30;

/// What the runner says about itself.
#[derive(Deserialize)]
pub(super) struct Probe {
    pub(super) version: String,
    pub(super) implementation: String,
    pub(super) executable: String,
    pub(super) platform: String,
    pub(super) memray: bool,
}

/// Asks the runner for its version, executable and whether memray imports.
pub(super) async fn probe(plan: &Plan, cancel: &CancellationToken) -> Result<Probe, RunError> {
    let mut probe_argv = plan.runner.argv.clone();
    probe_argv.extend(["-c".to_string(), PROBE_PY.to_string()]);
    let probe_spec = ProcessSpec {
        argv: probe_argv,
        cwd: Some(plan.cwd.clone()),
        env: plan.env.clone(),
        stdin: None,
    };
    let runner_shown = plan.runner.shown();
    match process::run(&probe_spec, Limits { timeout: Duration::from_secs(60), ..Limits::default() }, cancel).await {
        Ok(f) if f.exit.success() => serde_json::from_str::<Probe>(f.stdout.text.trim()).map_err(|_| {
            RunError::Runner(format!("runner `{runner_shown}` did not behave like Python: stdout {:?}", truncate(&f.stdout.text, 200)))
        }),
        Ok(f) => Err(RunError::Runner(format!(
                "runner `{runner_shown}` ({}) failed with {}: {}; pass `runner` naming a working Python command",
                plan.runner.chosen_because,
                f.exit,
                f.stderr.last_lines(5)
            ))),
        Err(ProcessError::Cancelled) => Err(RunError::Cancelled),
        Err(e) => Err(RunError::Runner(format!(
                "runner `{runner_shown}` ({}): {e}; pass `runner` naming a working Python command",
                plan.runner.chosen_because
            ))),
    }
}

/// How one variant process is run and read.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Method {
    /// The ABBENCH line's value (falling back to process wall time when absent).
    Line,
    /// Under memray; memray's peak.
    Memray,
    /// Memory without memray: the script's tracemalloc figure.
    Tracemalloc,
}

/// Runs the processes of one run; holds what they leave behind.
pub(super) struct Executor<'a> {
    plan: &'a Plan,
    method: Method,
    tmp: tempfile::TempDir,
    cancel: &'a CancellationToken,
    pub(super) count: usize,
    pub(super) external_timing: bool,
    pub(super) stderr_seen: [Option<String>; 2],
    pub(super) short_samples: [bool; 2],
    pub(super) dropped_bytes: [u64; 2],
    pub(super) first_commands: [Option<Vec<String>>; 2],
}

impl<'a> Executor<'a> {
    pub(super) fn new(
        plan: &'a Plan,
        method: Method,
        cancel: &'a CancellationToken,
    ) -> Result<Self, RunError> {
        Ok(Executor {
            plan,
            method,
            tmp: tempfile::Builder::new()
                .prefix("abbench-run-")
                .tempdir()
                .map_err(|e| {
                    RunError::Runner(format!("cannot create a temporary directory: {e}"))
                })?,
            cancel,
            count: 0,
            external_timing: false,
            stderr_seen: [None, None],
            short_samples: [false, false],
            dropped_bytes: [0, 0],
            first_commands: [None, None],
        })
    }
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
    pub(super) async fn measure(&mut self, variant: char) -> Result<f64, RunError> {
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

pub(super) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}
