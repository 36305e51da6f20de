//! Where a run's measurement is weak, as [`RunWarning`]: noisy units, short
//! samples, dropped output, stderr, external timing, interference between
//! the paired variants, a loaded machine, fallbacks. Each kind has its own
//! `Display` sentence, which is what the result carries on the wire.

use std::fmt;

use super::machine::{Hardware, QUIETER};

/// What to do about an interference warning, when the pairing is doubtful.
const ISOLATE: &str =
    "or pass isolation: \"process\" to measure each variant in processes of its own";

/// One way a run's measurement is weak, or a fallback it used.
#[derive(Debug, Clone, PartialEq)]
pub enum RunWarning {
    /// Paired: the sd of the per-process ln(A/B) is over 10 %.
    NoisyProcesses {
        /// That sd.
        sd: f64,
    },
    /// Process isolation: one arm's coefficient of variation is over 10 %.
    NoisyArm {
        /// "A" or "B".
        arm: &'static str,
        /// Its coefficient of variation.
        cv: f64,
    },
    /// The frequency governor lets the clock change.
    Governor {
        /// Its name, e.g. "powersave".
        governor: String,
    },
    /// A measured interval was under 1 ms.
    ShortSamples {
        /// "a block" (paired), "A" or "B".
        who: String,
    },
    /// Output past the cap was dropped.
    DroppedOutput {
        /// Who printed it: "a", "b", "a and b", "a or b".
        variant: String,
        /// Bytes dropped.
        bytes: u64,
    },
    /// A variant wrote to stderr.
    Stderr {
        /// Who wrote it.
        variant: String,
        /// Its first line.
        first_line: String,
    },
    /// No ABBENCH line: whole-process wall times were used.
    ExternalTiming,
    /// A process outlived its call outside its process group, and was killed.
    LeftBehind {
        /// Who left what, in words.
        sentence: String,
    },
    /// The 1-minute load average was above the core count.
    HighLoad {
        /// The highest load average seen, at the start or the end.
        load: f64,
        /// Cores.
        cores: usize,
    },
    /// The machine lock could not be used.
    NoMachineLock {
        /// Why.
        error: String,
    },
    /// memray could not be provisioned; tracemalloc was used.
    MemoryFallback {
        /// Why.
        error: String,
    },
    /// The speedup differs with the order inside a round.
    OrderEffect {
        /// Speedup in rounds where A ran first.
        a_first: f64,
        /// Speedup in rounds where B ran first.
        b_first: f64,
        /// Processes it was judged on.
        processes: usize,
    },
    /// A variant changed setup's objects while it ran.
    StateChangedBy {
        /// "a" or "b".
        variant: &'static str,
        /// The names changed.
        names: Vec<String>,
    },
    /// Setup's objects kept changing during the rounds.
    StateDrift {
        /// The names changed.
        names: Vec<String>,
    },
    /// A variant leaves live objects behind after every block.
    LiveObjects {
        /// "a" or "b".
        variant: &'static str,
        /// Objects per block.
        per_block: i64,
    },
    /// The A/A check of the pilot did not read 1.
    AaMismatch {
        /// The variant measured against itself.
        variant: String,
        /// Its reading.
        speedup: f64,
    },
    /// The equivalence check could not establish that A and B compute the
    /// same result (nondeterministic, or not compared).
    Equivalence {
        /// [`crate::equivalence::Equivalence::warning`]'s sentence.
        sentence: String,
    },
    /// The script replays captured calls that are not every call the
    /// target received (some skipped, or over max_calls).
    CapturedInputs {
        /// [`crate::capture::Replayed::shortfall`]'s sentence.
        sentence: String,
    },
    /// The ledger set aside an unreadable database and started a new one.
    LedgerSetAside {
        /// The ledger's own sentence, with both paths.
        message: String,
    },
    /// The ledger could not record the run.
    NotRecorded {
        /// Why.
        problem: String,
        /// The run that will not be found.
        run_id: String,
    },
}

impl RunWarning {
    /// The first three processes left behind, each a warning, and how many more.
    pub fn left_behind(found: &[String]) -> Vec<RunWarning> {
        let mut out: Vec<RunWarning> = found
            .iter()
            .take(3)
            .map(|sentence| RunWarning::LeftBehind {
                sentence: sentence.clone(),
            })
            .collect();
        if found.len() > 3 {
            out.push(RunWarning::LeftBehind {
                sentence: format!(
                    "{} more processes were left behind and killed the same way",
                    found.len() - 3
                ),
            });
        }
        out
    }
}

impl fmt::Display for RunWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use RunWarning::*;
        match self {
            NoisyProcesses { sd } => write!(f, "the per-process speedup varies by {:.1} % across processes (sd of ln(A/B) over 10 %) even with A and B paired: a noisy workload or machine; the interval accounts for it, at the cost of more processes; {QUIETER}", sd * 100.0),
            NoisyArm { arm, cv } => write!(f, "{arm}'s values vary by {:.1} % across processes (coefficient of variation over 10 %): a noisy machine or workload; the interval accounts for it, at the cost of more pairs; {QUIETER}", cv * 100.0),
            Governor { governor } => write!(f, "the CPU frequency governor is `{governor}`, not `performance`: the clock speed changes under the measurement; `sudo cpupower frequency-set --governor performance`, or {QUIETER}"),
            ShortSamples { who } => write!(f, "{who}: a measured interval was under 1 ms, where timer resolution and scheduling jitter dominate: raise `number` or the work per call"),
            DroppedOutput { variant, bytes } => write!(f, "variant {variant} printed more output than abbench keeps (1 MiB per stream per process): {bytes} bytes were dropped unread; printing in the measured code also costs time"),
            Stderr { variant, first_line } => write!(f, "variant {variant} wrote to stderr (first line: {first_line:?})"),
            ExternalTiming => f.write_str("fallback: the script printed no ABBENCH line, so values are whole-process wall times with interpreter start-up included, which dilutes the ratio; generate the script with generate_ab_script for an in-process measurement"),
            HighLoad { load, cores } => write!(f, "high machine load: 1-minute load average {load:.2} above {cores} cores; other work competed with the measurement"),
            NoMachineLock { error } => write!(f, "{error}: measured without the machine lock, so another measurement may have overlapped"),
            MemoryFallback { error } => write!(f, "fallback: {error}; so values are tracemalloc's peak of the call (Python allocations only)"),
            OrderEffect { a_first, b_first, processes } => write!(f, "the variants interfere: the speedup is {a_first:.3}x in rounds where A runs first and {b_first:.3}x where B runs first (significant over {processes} processes), so one variant leaves caches, allocator or collector state that the other meets; the estimate averages both orders, but if production runs one variant alone, {ISOLATE}"),
            StateChangedBy { variant: v, names } => write!(f, "variant {v} changed setup's {} while it ran (identity, size or elements), so the other variant measured on what {v} left behind: make bench_{v} work on a copy (e.g. sorted(x) instead of x.sort()), {ISOLATE}", quote(names)),
            StateDrift { names } => write!(f, "setup's {} kept changing while the variants ran: each block meets a different input; keep the input fixed, {ISOLATE}", quote(names)),
            LiveObjects { variant, per_block } => write!(f, "variant {variant} leaves about {per_block} more live objects after every block (a cache that grows, or a leak): later blocks run against more state than the first; if production does not, {ISOLATE}"),
            AaMismatch { variant, speedup } => write!(f, "variant {variant} measured against itself in the two slots of a round reads {speedup:.3}x, not 1.000x: the slots are not alike for this code, so the pairing may be biased; {ISOLATE}"),
            Equivalence { sentence } | CapturedInputs { sentence } => f.write_str(sentence),
            LeftBehind { sentence } => write!(f, "{sentence}; a measured process that leaves work running disturbs the processes after it"),
            LedgerSetAside { message } => f.write_str(message),
            NotRecorded { problem, run_id } => write!(f, "the ledger could not record this run ({problem}): the result above is complete, but run_id {run_id} will not be found by check_keep_conditions or benchmark_history"),
        }
    }
}

fn quote(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A warning when the frequency governor is not `performance`.
pub(crate) fn governor(hardware: &Hardware) -> Option<RunWarning> {
    let g = hardware.governor.as_deref()?;
    (g != "performance").then(|| RunWarning::Governor {
        governor: g.to_string(),
    })
}

/// A warning when the 1-minute load average, at the start or the end,
/// was above the core count.
pub(crate) fn machine_load(
    start: Option<f64>,
    end: Option<f64>,
    cores: usize,
) -> Option<RunWarning> {
    let load = [start, end].into_iter().flatten().reduce(f64::max)?;
    (load > cores as f64).then_some(RunWarning::HighLoad { load, cores })
}
