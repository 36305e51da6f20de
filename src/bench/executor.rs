//! Executing one run's processes. [`Executor`] is the seam between the
//! schedules (which process next, when to stop: [`super::paired`],
//! [`crate::measure::schedule`]) and Python, so the schedules are unit-tested on a
//! mock; [`PythonExecutor`] is the real one: the warm-up, the paired
//! design's pilot and counted `ab` processes, single-variant processes
//! (process isolation), and memory processes under memray's in-process
//! tracker. Each is read into typed values; it notes what the warnings will
//! need (stderr, dropped output, short samples) and the exact command of
//! the first process of each role.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::blocks::{Counted, Pilot};
use super::plan::Plan;
use crate::equivalence::{self, Equivalence, Verified};
use crate::measure::executor::{
    blamed, tail_without_marks, truncate, Executor, Single, RUNNING_MARK, STDERR_TAIL_LINES,
};
use crate::measure::{Arm, Culprit, RunError};
use crate::measurement;
use crate::process::{self, ProcessError, ProcessSpec};
use crate::python::probe::Probe;

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
    /// The equivalence check: setup, A twice and B once, compared.
    #[serde(default)]
    pub verify: Option<String>,
}

/// What one process printed, for `show_output`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ProcessOutput {
    /// a, b (process isolation) or ab (paired).
    pub role: String,
    /// The exact command.
    pub command: String,
    /// Its stdout, up to 4 KiB (longer: the first 4 KiB, then a note of how much more).
    pub stdout: String,
    /// Its stderr, up to 4 KiB.
    pub stderr: String,
}

/// At most `OUTPUT_SHOWN` bytes of `text`, cut on a character boundary.
pub(crate) fn shown_output(text: &str) -> String {
    const OUTPUT_SHOWN: usize = 4096;
    if text.len() <= OUTPUT_SHOWN {
        return text.to_string();
    }
    let mut end = OUTPUT_SHOWN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n[... {} more bytes]", &text[..end], text.len() - end)
}

/// How memory processes are measured.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum MemoryMethod {
    /// memray's in-process tracker; `path` is a provisioned copy to import.
    Memray {
        /// The provisioned memray, when the runner's environment has none.
        path: Option<PathBuf>,
    },
    /// The script's own tracemalloc figure.
    Tracemalloc,
}

/// The paired design's processes too: both variants in one process.
pub(super) trait PairedExecutor: Executor {
    /// The paired design's uncounted pilot.
    async fn pilot(&mut self, seed: u64) -> Result<Pilot, RunError>;
    /// One counted process of the paired design.
    async fn paired(
        &mut self,
        rounds: usize,
        numbers: (u64, u64),
        block_s: f64,
        seed: u64,
    ) -> Result<Counted, RunError>;
}

/// Runs the processes of one run with the project's Python; holds what
/// they leave behind.
pub(super) struct PythonExecutor<'a> {
    plan: &'a Plan,
    /// The Python command of every process (see [`Probe::measured_with`]).
    python: Vec<String>,
    /// Variables the runner's launcher set, given to every process.
    launcher_env: Vec<(String, String)>,
    memory: Option<MemoryMethod>,
    tmp: tempfile::TempDir,
    cancel: &'a CancellationToken,
    /// Processes started (warm-ups and pilot included).
    pub(super) count: usize,
    /// A single-variant script printed no ABBENCH line: wall times were used.
    pub(super) external_timing: bool,
    /// The first non-empty stderr line of each variant (paired: both in `a`).
    pub(super) stderr_seen: [Option<String>; 2],
    /// A timed sample under 1 ms was seen, per variant.
    pub(super) short_samples: [bool; 2],
    /// Output bytes dropped at the cap, per variant.
    pub(super) dropped_bytes: [u64; 2],
    /// The exact command of the first process of each role.
    pub(super) commands: RunCommands,
    /// With `show_output`: what the first counted process of each role printed.
    pub(super) outputs: Vec<ProcessOutput>,
    /// Processes a variant's process left outside its group, killed, in words.
    pub(super) left_behind: Vec<String>,
}

impl<'a> PythonExecutor<'a> {
    pub(super) fn new(
        plan: &'a Plan,
        probe: &Probe,
        memory: Option<MemoryMethod>,
        cancel: &'a CancellationToken,
    ) -> Result<Self, RunError> {
        let (python, launcher_env) = probe.measured_with(&plan.runner);
        Ok(PythonExecutor {
            plan,
            python,
            launcher_env,
            memory,
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
            commands: RunCommands::default(),
            outputs: Vec::new(),
            left_behind: Vec::new(),
        })
    }
}

/// A command as a person would paste it: abbench's environment additions, then argv.
fn shown(spec: &ProcessSpec, added: &[(String, String)]) -> String {
    let env = added
        .iter()
        .map(|(k, v)| format!("{k}={} ", shell_words::quote(v)))
        .collect::<String>();
    format!(
        "{}{env}{}",
        if env.is_empty() { "" } else { "env " },
        spec.display()
    )
}

impl PythonExecutor<'_> {
    /// The spec for `script MODE ARGS…`, with `added` over the run's environment.
    fn spec(&self, args: &[String], added: &[(String, String)]) -> ProcessSpec {
        let mut argv = self.python.clone();
        argv.push(self.plan.script.display().to_string());
        argv.extend(args.iter().cloned());
        let mut env = self.launcher_env.clone();
        env.extend(self.plan.env.iter().cloned());
        env.extend(added.iter().cloned());
        ProcessSpec {
            argv,
            cwd: Some(self.plan.cwd.clone()),
            env,
            stdin: None,
        }
    }

    /// Runs `args` for `variant` (`None` for a process running both) and
    /// returns its stdout after recording stderr and dropped output.
    async fn run(
        &mut self,
        variant: Option<Arm>,
        args: &[String],
        added: &[(String, String)],
    ) -> Result<(process::Finished, String), RunError> {
        let spec = self.spec(args, added);
        let command = shown(&spec, added);
        self.count += 1;
        let idx = variant.unwrap_or(Arm::A).index();
        let name = |stderr: &str| match variant {
            Some(v) => Culprit::Variant(v),
            None => blamed(stderr).unwrap_or(Culprit::Either),
        };
        let finished = match process::run(&spec, self.plan.limits, self.cancel).await {
            Ok(f) if f.exit.success() => f,
            Ok(f) => {
                return Err(RunError::VariantFailed {
                    variant: name(&f.stderr.text),
                    exit: f.exit,
                    command,
                    stderr_tail: tail_without_marks(&f.stderr.text, STDERR_TAIL_LINES),
                })
            }
            Err(ProcessError::TimedOut { after, stderr, .. }) => {
                return Err(RunError::VariantTimedOut {
                    variant: name(&stderr.text),
                    after_s: after.as_secs_f64(),
                    command,
                    stderr_tail: tail_without_marks(&stderr.text, STDERR_TAIL_LINES),
                })
            }
            Err(ProcessError::Cancelled) => return Err(RunError::Cancelled),
            Err(e) => {
                return Err(RunError::Runner(format!(
                    "{e}; pass `runner` naming a working Python command (command: {command})"
                )))
            }
        };
        self.dropped_bytes[idx] += finished.stdout.dropped_bytes + finished.stderr.dropped_bytes;
        if !finished.leftovers.is_empty() {
            let who = match variant {
                Some(v) => format!("a process of variant {}", v.to_string().to_uppercase()),
                None => "a process of the script".to_string(),
            };
            self.left_behind
                .extend(finished.leftovers.iter().map(|l| l.describe(&who)));
        }
        if self.stderr_seen[idx].is_none() {
            if let Some(line) = finished
                .stderr
                .text
                .lines()
                .find(|l| !l.trim().is_empty() && !l.starts_with(RUNNING_MARK))
            {
                self.stderr_seen[idx] = Some(line.chars().take(200).collect());
            }
        }
        Ok((finished, command))
    }

    /// The JSON of the process's last ABBENCH line, as `T`.
    fn line<T: serde::de::DeserializeOwned>(
        stdout: &str,
        variant: Option<Arm>,
        command: &str,
    ) -> Result<T, RunError> {
        let bad = |problem: String| RunError::BadOutput {
            variant: variant.map_or(Culprit::Both, Culprit::Variant),
            problem,
            command: command.to_string(),
        };
        let text = measurement::last_line(stdout)
            .ok_or_else(|| bad("it printed no ABBENCH line".into()))?;
        serde_json::from_str(text).map_err(|e| {
            bad(format!(
                "malformed ABBENCH line ({e}): {:?}",
                truncate(text, 300)
            ))
        })
    }

    /// With `show_output`, what the first process of `role` printed.
    fn keep_output(&mut self, role: &str, command: &str, finished: &process::Finished) {
        if self.plan.show_output && !self.outputs.iter().any(|o| o.role == role) {
            self.outputs.push(ProcessOutput {
                role: role.into(),
                command: command.into(),
                stdout: shown_output(&finished.stdout.text),
                stderr: shown_output(&finished.stderr.text),
            });
        }
    }

    fn memory_env(&self) -> Vec<(String, String)> {
        match &self.memory {
            Some(MemoryMethod::Memray { path }) => {
                let mut env = vec![
                    ("ABBENCH_MEMRAY".to_string(), "1".to_string()),
                    (
                        "ABBENCH_MEMRAY_DIR".to_string(),
                        self.tmp.path().display().to_string(),
                    ),
                ];
                if let Some(p) = path {
                    env.push(("ABBENCH_MEMRAY_PATH".into(), p.display().to_string()));
                }
                env
            }
            _ => Vec::new(),
        }
    }
}

impl Executor for PythonExecutor<'_> {
    fn started(&self) -> usize {
        self.count
    }

    /// An uncounted warm-up: a single variant (time domains, process
    /// isolation) or, for memory, `warmup` (both once, nothing measured).
    async fn warm_up(&mut self, variant: Option<Arm>) -> Result<(), RunError> {
        let args = vec![variant.map_or("warmup".into(), |v| v.to_string())];
        let (_, command) = self.run(variant, &args, &[]).await?;
        if self.commands.warm_up.len() < 2 {
            self.commands.warm_up.push(command);
        }
        Ok(())
    }

    /// One process of `variant` alone; its value.
    async fn single(&mut self, variant: Arm) -> Result<Single, RunError> {
        let added = self.memory_env();
        let (finished, command) = self
            .run(Some(variant), &[variant.to_string()], &added)
            .await?;
        let slot = match variant {
            Arm::A => &mut self.commands.a,
            Arm::B => &mut self.commands.b,
        };
        slot.get_or_insert(command.clone());
        self.keep_output(&variant.to_string(), &command, &finished);
        let bad = |problem: String| RunError::BadOutput {
            variant: Culprit::Variant(variant),
            problem,
            command: command.clone(),
        };
        let line = own_line(&finished.stdout.text, &variant.to_string(), &bad)?;
        let idx = variant.index();
        match &self.memory {
            Some(method) => memory_value(method, line, &bad),
            None => match line.and_then(|l| l.value.map(|value| (value, l.number))) {
                Some((value, number)) => {
                    if value <= 0.0 {
                        return Err(bad(format!(
                            "its ABBENCH value is {value}; a time must be > 0"
                        )));
                    }
                    self.short_samples[idx] |= value * number.unwrap_or(1) as f64 <= 1e-3;
                    Ok(Single {
                        value,
                        process_peak: None,
                    })
                }
                None => {
                    self.external_timing = true;
                    let wall = finished.wall.as_secs_f64();
                    self.short_samples[idx] |= wall < 1e-3;
                    Ok(Single {
                        value: wall,
                        process_peak: None,
                    })
                }
            },
        }
    }
}

/// A single-variant process's last ABBENCH line, if it printed one; an
/// error (made by `bad`) when it is malformed or names the other variant.
fn own_line(
    stdout: &str,
    variant: &str,
    bad: &dyn Fn(String) -> RunError,
) -> Result<Option<measurement::MeasurementLine>, RunError> {
    let Some(text) = measurement::last_line(stdout) else {
        return Ok(None);
    };
    let parsed = measurement::parse_line(text).map_err(|why| {
        bad(format!(
            "malformed ABBENCH line ({why}): {:?}",
            truncate(text, 300)
        ))
    })?;
    if parsed.variant != variant {
        return Err(bad(format!(
            "its ABBENCH line reports variant {:?}, not {variant:?}: {:?}",
            parsed.variant,
            truncate(text, 300)
        )));
    }
    Ok(Some(parsed))
}

/// A memory process's value: its line must carry one, measured the way asked.
fn memory_value(
    method: &MemoryMethod,
    line: Option<measurement::MeasurementLine>,
    bad: &dyn Fn(String) -> RunError,
) -> Result<Single, RunError> {
    let line = line.ok_or_else(|| {
        bad("a memory script must print an ABBENCH line with its value: use a script generated by generate_ab_script".into())
    })?;
    let value = line.value.ok_or_else(|| {
        bad("its ABBENCH line has no value: the script did not measure (was it generated by an older abbench? regenerate it)".into())
    })?;
    if matches!(method, MemoryMethod::Memray { .. })
        && line.measured_by.as_deref() != Some("memray")
    {
        return Err(bad(format!(
            "asked to measure under memray, it reports {:?}: regenerate the script with generate_ab_script",
            line.measured_by
        )));
    }
    Ok(Single {
        value,
        process_peak: line.process_peak_bytes,
    })
}

impl PairedExecutor for PythonExecutor<'_> {
    /// The paired design's uncounted pilot.
    async fn pilot(&mut self, seed: u64) -> Result<Pilot, RunError> {
        let args: Vec<String> = ["ab", "--pilot", "--seed", &seed.to_string()]
            .map(String::from)
            .to_vec();
        let (finished, command) = self.run(None, &args, &[]).await?;
        self.commands.warm_up.push(command.clone());
        let mut pilot: Pilot = Self::line(&finished.stdout.text, None, &command)?;
        pilot.check().map_err(|problem| RunError::BadOutput {
            variant: Culprit::Both,
            problem,
            command: command.clone(),
        })?;
        pilot.wall_s = finished.wall.as_secs_f64();
        Ok(pilot)
    }

    /// One counted process of the paired design.
    async fn paired(
        &mut self,
        rounds: usize,
        numbers: (u64, u64),
        block_s: f64,
        seed: u64,
    ) -> Result<Counted, RunError> {
        let args: Vec<String> = [
            "ab".to_string(),
            "--rounds".into(),
            rounds.to_string(),
            "--number-a".into(),
            numbers.0.to_string(),
            "--number-b".into(),
            numbers.1.to_string(),
            "--block-s".into(),
            block_s.to_string(),
            "--seed".into(),
            seed.to_string(),
        ]
        .to_vec();
        let (finished, command) = self.run(None, &args, &[]).await?;
        self.commands.ab.get_or_insert(command.clone());
        self.keep_output("ab", &command, &finished);
        let mut counted: Counted = Self::line(&finished.stdout.text, None, &command)?;
        counted
            .blocks
            .check()
            .map_err(|problem| RunError::BadOutput {
                variant: Culprit::Both,
                problem,
                command: command.clone(),
            })?;
        if counted.blocks.a.len() != rounds {
            return Err(RunError::BadOutput {
                variant: Culprit::Both,
                problem: format!(
                    "asked for {rounds} rounds, it reported {}",
                    counted.blocks.a.len()
                ),
                command,
            });
        }
        let short = counted.blocks.shortest_block_s() <= 1e-3;
        self.short_samples[0] |= short;
        self.short_samples[1] |= short;
        counted.wall_s = finished.wall.as_secs_f64();
        Ok(counted)
    }
}

impl PythonExecutor<'_> {
    /// One memory process of variant `letter` alone (A, or a candidate of a
    /// multi-candidate script); its peak.
    pub(super) async fn memory_single(&mut self, letter: char) -> Result<Single, RunError> {
        let added = self.memory_env();
        let arm = if letter == 'a' { Arm::A } else { Arm::B };
        let culprit = match letter {
            'a' => Culprit::Variant(Arm::A),
            'b' => Culprit::Variant(Arm::B),
            c => Culprit::Candidate(c),
        };
        let (finished, command) = self
            .run(Some(arm), &[letter.to_string()], &added)
            .await
            .map_err(|e| e.blaming(culprit))?;
        let slot = match arm {
            Arm::A => &mut self.commands.a,
            Arm::B => &mut self.commands.b,
        };
        slot.get_or_insert(command.clone());
        self.keep_output(&letter.to_string(), &command, &finished);
        let bad = |problem: String| RunError::BadOutput {
            variant: culprit,
            problem,
            command: command.clone(),
        };
        let line = own_line(&finished.stdout.text, &letter.to_string(), &bad)?;
        let method = self.memory.as_ref().unwrap_or(&MemoryMethod::Tracemalloc);
        memory_value(method, line, &bad)
    }

    /// The pilot of a run of several candidates (`variants`: "a" and their
    /// letters): its ABBENCH line, every variant's figures, and its wall seconds.
    pub(super) async fn pilot_all(
        &mut self,
        seed: u64,
        variants: &str,
    ) -> Result<(serde_json::Value, f64), RunError> {
        let args: Vec<String> = [
            "ab",
            "--pilot",
            "--seed",
            &seed.to_string(),
            "--variants",
            variants,
        ]
        .map(String::from)
        .to_vec();
        let (finished, command) = self.run(None, &args, &[]).await?;
        self.commands.warm_up.push(command.clone());
        let line = Self::line(&finished.stdout.text, None, &command)?;
        Ok((line, finished.wall.as_secs_f64()))
    }

    /// One counted process of a run of several candidates: its ABBENCH
    /// line and wall seconds.
    pub(super) async fn paired_all(
        &mut self,
        rounds: usize,
        numbers: &[(char, u64)],
        block_s: f64,
        seed: u64,
        variants: &str,
    ) -> Result<(serde_json::Value, f64), RunError> {
        let mut args: Vec<String> = vec![
            "ab".into(),
            "--rounds".into(),
            rounds.to_string(),
            "--block-s".into(),
            block_s.to_string(),
            "--seed".into(),
            seed.to_string(),
            "--variants".into(),
            variants.into(),
        ];
        for (v, n) in numbers {
            args.extend([format!("--number-{v}"), n.to_string()]);
        }
        let (finished, command) = self.run(None, &args, &[]).await?;
        self.commands.ab.get_or_insert(command.clone());
        self.keep_output("ab", &command, &finished);
        let line = Self::line(&finished.stdout.text, None, &command)?;
        Ok((line, finished.wall.as_secs_f64()))
    }

    /// The equivalence check: one uncounted process before any timing
    /// (setup, A twice and B once, compared). A check that cannot answer
    /// is `not_checked` with the reason; the run goes on. `candidate`
    /// (letter, label) checks that candidate of a multi-candidate script
    /// in B's place.
    pub(super) async fn verify(
        &mut self,
        candidate: Option<(char, &str)>,
    ) -> Result<Verified, RunError> {
        let plan = self.plan;
        let mut env = self.launcher_env.clone();
        env.extend(plan.env.iter().cloned());
        let mut argv = equivalence::command(
            &self.python,
            &plan.script,
            plan.domain,
            &plan.equivalence,
            plan.generated,
        );
        argv.extend(equivalence::candidate_words(candidate));
        let spec = ProcessSpec {
            argv,
            cwd: Some(plan.cwd.clone()),
            env,
            stdin: None,
        };
        let command = equivalence::display(&spec.argv);
        self.commands.verify.get_or_insert(command.clone());
        let not_checked = |reason: String| Verified::Checked {
            equivalence: Equivalence::not_checked(reason),
            failure: None,
        };
        let outcome = process::run(&spec, plan.limits, self.cancel).await;
        if let Ok(f) = &outcome {
            self.left_behind.extend(
                f.leftovers
                    .iter()
                    .map(|l| l.describe("the equivalence check")),
            );
        }
        match outcome {
            Ok(f) => match equivalence::read(&f.stdout.text) {
                Some(answer) => Ok(answer),
                // Killed by a signal or exited on its own mid-call: the
                // timed processes, which make the same calls, would too.
                None if !f.exit.success() => Err(RunError::VariantFailed {
                    variant: blamed(&f.stderr.text)
                        .unwrap_or(Culprit::Setup),
                    exit: f.exit,
                    command,
                    stderr_tail: tail_without_marks(&f.stderr.text, STDERR_TAIL_LINES),
                }),
                None => Ok(not_checked(format!(
                    "the check ended before answering (did setup or a variant exit the process?); its stderr ends: {}",
                    tail_without_marks(&f.stderr.text, 3).replace('\n', " | ")
                ))),
            },
            // One call past timeout_s: the timed processes, which call it
            // many times, could not finish either.
            Err(ProcessError::TimedOut { after, stderr, .. }) => Err(RunError::VariantTimedOut {
                variant: blamed(&stderr.text)
                    .unwrap_or(Culprit::Setup),
                after_s: after.as_secs_f64(),
                command,
                stderr_tail: tail_without_marks(&stderr.text, STDERR_TAIL_LINES),
            }),
            Err(ProcessError::Cancelled) => Err(RunError::Cancelled),
            Err(e) => Err(RunError::Runner(format!(
                "{e}; pass `runner` naming a working Python command (command: {command})"
            ))),
        }
    }
}
