//! The measuring engine both tools stand on: the arms (A and B), the
//! process-isolation schedule ([`schedule`]) behind the [`executor::Executor`]
//! seam, how a run stops and fails ([`Stop`], [`RunError`]), the machine
//! lock and load ([`lock`], [`machine`]), typed progress events
//! ([`progress`]), the warnings ([`warnings`]), the environment record and
//! arm summaries ([`environment`]), the seeded order ([`rng`]), and the
//! session every run goes through ([`session`]: probe, memray, lock,
//! environment, ledger). `bench` (the micro run) and `e2e` (the workload
//! run) depend on it; it depends on neither.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::equivalence::FailedPart;
use crate::process::Exit;
use executor::STDERR_TAIL_LINES;
use progress::Event;
use warnings::RunWarning;

pub mod environment;
pub mod executor;
pub mod lock;
pub mod machine;
pub mod progress;
pub mod rng;
pub mod schedule;
pub mod session;
pub mod warnings;

/// Largest `max_pairs`: keeps the exact rank distribution cheap and accurate.
pub const MAX_PAIRS_LIMIT: usize = 200;
/// Smallest `min_pairs` of process isolation: 4 vs 4 is the first size whose
/// exact test can pass the first look's 2 % (the paired design needs 6).
pub const MIN_PAIRS_LIMIT: usize = 4;

/// One of the two arms: A (the current code, the base revision) or B (the
/// optimized code, the candidate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arm {
    /// The current approach.
    A,
    /// The optimized approach.
    B,
}

impl Arm {
    /// 0 for A, 1 for B.
    pub fn index(self) -> usize {
        self as usize
    }

    /// A then B, or B then A.
    pub fn in_order(a_first: bool) -> [Arm; 2] {
        if a_first {
            [Arm::A, Arm::B]
        } else {
            [Arm::B, Arm::A]
        }
    }
}

impl std::fmt::Display for Arm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Arm::A => "a",
            Arm::B => "b",
        })
    }
}

/// Who a failed process is blamed on, as its message names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Culprit {
    /// One variant of an A/B script: `a` or `b`.
    Variant(Arm),
    /// One revision of an end-to-end run: `base` or `candidate`.
    Revision(Arm),
    /// A process running both variants (the paired design's `ab`).
    Both,
    /// A process running both, whichever variant was at fault unknown.
    Either,
    /// Setup, before either variant ran.
    Setup,
    /// A candidate of a multi-candidate script other than `b`: its letter.
    Candidate(char),
}

impl std::fmt::Display for Culprit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Culprit::Candidate(letter) = self {
            return write!(f, "{letter}");
        }
        f.write_str(match self {
            Culprit::Variant(Arm::A) => "a",
            Culprit::Variant(Arm::B) => "b",
            Culprit::Revision(Arm::A) => "base",
            Culprit::Revision(Arm::B) => "candidate",
            Culprit::Both => "ab",
            Culprit::Either => "a or b",
            Culprit::Setup => "a or b (setup had not finished)",
            Culprit::Candidate(_) => unreachable!("written above"),
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

/// Why a run returned no result. Each message says what to change.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A bad argument.
    #[error("{0}")]
    Invalid(String),
    /// The runner could not be used.
    #[error("{0}")]
    Runner(String),
    /// No runner could be resolved.
    #[error(transparent)]
    NoRunner(#[from] crate::python::runner::RunnerError),
    /// A bad `env`.
    #[error(transparent)]
    Env(#[from] InvalidEnv),
    /// A variant exited non-zero or by a signal.
    #[error("variant {variant} failed with {exit}\ncommand: {command}\nlast {STDERR_TAIL_LINES} lines of its stderr:\n{stderr_tail}")]
    VariantFailed {
        /// Who failed.
        variant: Culprit,
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
        /// Who failed.
        variant: Culprit,
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
        /// Who failed.
        variant: Culprit,
        /// What is wrong, quoting the line.
        problem: String,
        /// The exact command.
        command: String,
    },
    /// Setup or variant A raised in the equivalence check: the benchmark
    /// cannot run on this input.
    #[error("{} raised before anything was timed: {error}; fix the script (generate_ab_script names the argument and its line for such errors)\ncommand: {command}", match .part {
        FailedPart::Setup => "setup",
        FailedPart::A => "variant a",
        FailedPart::B => "variant b",
    })]
    Raised {
        /// Setup or the variant that raised.
        part: FailedPart,
        /// The error and where it was raised.
        error: String,
        /// The exact command of the check.
        command: String,
    },
    /// The caller cancelled; every process was killed.
    #[error("cancelled; every process of the run was killed")]
    Cancelled,
}

pub(crate) fn invalid(msg: impl Into<String>) -> RunError {
    RunError::Invalid(msg.into())
}

impl RunError {
    /// The same failure, blamed on `who` (a candidate's own process).
    pub(crate) fn blaming(self, who: Culprit) -> RunError {
        match self {
            RunError::VariantFailed {
                exit,
                command,
                stderr_tail,
                ..
            } => RunError::VariantFailed {
                variant: who,
                exit,
                command,
                stderr_tail,
            },
            RunError::VariantTimedOut {
                after_s,
                command,
                stderr_tail,
                ..
            } => RunError::VariantTimedOut {
                variant: who,
                after_s,
                command,
                stderr_tail,
            },
            RunError::BadOutput {
                problem, command, ..
            } => RunError::BadOutput {
                variant: who,
                problem,
                command,
            },
            other => other,
        }
    }
}

/// The 1-minute load average, where Linux exposes it.
pub(crate) fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// An `env` argument a process cannot take; the message names the variable.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidEnv(String);

/// `env` as a process takes it, or the error naming the bad variable.
pub(crate) fn checked_variables(
    given: &std::collections::BTreeMap<String, String>,
) -> Result<Vec<(String, String)>, InvalidEnv> {
    let mut env = Vec::new();
    for (k, v) in given {
        let ok = !k.is_empty()
            && !k.starts_with(|c: char| c.is_ascii_digit())
            && k.chars().all(|c| c == '_' || c.is_ascii_alphanumeric());
        if !ok {
            return Err(InvalidEnv(format!(
                "`env` key {k:?} is not a valid environment variable name: use letters, digits and _ (not starting with a digit)"
            )));
        }
        if v.contains('\0') {
            return Err(InvalidEnv(format!(
                "`env` value of {k} contains a NUL byte"
            )));
        }
        env.push((k.clone(), v.clone()));
    }
    Ok(env)
}

/// The machine lock, so two measurements never overlap; without it (an
/// unusable lock file) the run goes on with a warning.
pub(crate) async fn machine_lock(
    cancel: &CancellationToken,
    notify: &(dyn Fn(Event) + Sync),
    warnings: &mut Vec<RunWarning>,
) -> Result<(Option<lock::MachineLock>, Duration), RunError> {
    let waiting = || notify(Event::WaitingForLock);
    match lock::acquire(cancel, waiting).await {
        Ok((lock, wait)) => Ok((Some(lock), wait)),
        Err(lock::LockError::Cancelled) => Err(RunError::Cancelled),
        Err(e) => {
            warnings.push(RunWarning::NoMachineLock {
                error: e.to_string(),
            });
            Ok((None, Duration::ZERO))
        }
    }
}
