//! The seam between a schedule (which process next, when to stop) and the
//! processes themselves: [`Executor`] is what [`super::schedule`] drives —
//! the micro run's Python processes and the e2e run's workload processes
//! each implement it, a mock does in the tests — and the helpers both
//! executors share for reporting a failed process.

use super::{Arm, Culprit, RunError};

/// Lines of stderr quoted when a variant fails.
pub(crate) const STDERR_TAIL_LINES: usize = 30;

/// One single-variant process's value.
pub(crate) struct Single {
    /// Seconds (time domains) or the variant's own peak bytes (memory).
    pub(crate) value: f64,
    /// Memory under memray: the process's peak (setup's live bytes + the variant's own peak).
    pub(crate) process_peak: Option<f64>,
}

/// The processes of process isolation, each returning its typed report:
/// what [`super::schedule`] asks for (and `run_e2e_benchmark`'s workload
/// processes provide).
pub(crate) trait Executor {
    /// Processes started so far (warm-ups and the pilot included).
    fn started(&self) -> usize;
    /// An uncounted warm-up: of one variant, or (`None`, memory) both once.
    async fn warm_up(&mut self, variant: Option<Arm>) -> Result<(), RunError>;
    /// One process of `variant` alone; its value.
    async fn single(&mut self, variant: Arm) -> Result<Single, RunError>;
}

/// Marker lines a paired script writes to stderr: which variant was
/// running, and which raised.
pub(crate) const RUNNING_MARK: &str = "ABBENCH-RUNNING ";
const RAISED_MARK: &str = "ABBENCH-RAISED ";

/// The variant a process running both was busy with when it failed.
pub(crate) fn blamed(stderr: &str) -> Option<Culprit> {
    let last = |mark: &str| {
        stderr
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix(mark).map(|v| v.trim().to_string()))
    };
    let culprit = |v: String| match v.as_str() {
        "a" => Some(Culprit::Variant(Arm::A)),
        "b" => Some(Culprit::Variant(Arm::B)),
        c if c.len() == 1 && ('c'..='i').contains(&c.chars().next()?) => {
            Some(Culprit::Candidate(c.chars().next()?))
        }
        _ => None,
    };
    last(RAISED_MARK)
        .and_then(culprit)
        .or_else(|| last(RUNNING_MARK).and_then(culprit))
}

/// The last `n` lines of stderr without abbench's own marker lines.
pub(crate) fn tail_without_marks(stderr: &str, n: usize) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with(RUNNING_MARK) && !l.starts_with(RAISED_MARK))
        .collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// At most `max` characters of `s`, with an ellipsis when cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}
