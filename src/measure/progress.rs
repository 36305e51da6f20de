//! What a run reports while it goes, as typed events: the core sends
//! [`Progress`] after every process and at every notable wait; each adapter
//! decides how to show it (the MCP server as progress notifications whose
//! message is the event's `Display`, the CLI as a bar with notices above it).

use std::fmt;
use std::path::PathBuf;

use super::Arm;

/// One report: where the run is, and what just happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// Processes finished (warm-ups and the pilot included).
    pub processes_done: usize,
    /// Pairs (paired design: counted processes) finished.
    pub pairs_done: usize,
    /// The pair budget.
    pub max_pairs: usize,
    /// Processes the run may start in all (warm-up included).
    pub processes_total: usize,
    /// What happened.
    pub event: Event,
}

/// What a schedule reports through, `say(processes_done, pairs_done,
/// event)`, as [`Progress`] for `progress`.
pub(crate) fn reporter(
    progress: &(dyn Fn(Progress) + Send + Sync),
    max_pairs: usize,
    processes_total: usize,
) -> impl Fn(usize, usize, Event) + Sync + '_ {
    move |processes_done, pairs_done, event| {
        progress(Progress {
            processes_done,
            pairs_done,
            max_pairs,
            processes_total,
            event,
        })
    }
}

/// What happened; its `Display` is a line for people.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// memray is not importable by the runner and is being provisioned.
    ProvisioningMemray {
        /// The runner, as shown to people.
        runner: String,
        /// The memray version provisioned.
        version: &'static str,
        /// Where it goes (abbench's data directory, not the project).
        dir: PathBuf,
    },
    /// Another abbench measurement holds the machine lock.
    WaitingForLock,
    /// The paired design's pilot ran and the design was chosen.
    PilotDone {
        /// Target length of a block, seconds.
        block_s: f64,
        /// Calls of A per block.
        number_a: u64,
        /// Calls of B per block.
        number_b: u64,
        /// Rounds per counted process.
        rounds: usize,
        /// Processes at the first look.
        first_look: usize,
    },
    /// An uncounted warm-up finished: of one variant, or (memory) of both once.
    WarmedUp {
        /// The variant, or `None` for both.
        variant: Option<Arm>,
    },
    /// A counted process of the paired design finished.
    PairedProcess {
        /// Its number, from 1.
        process: usize,
        /// Its A/B speedup.
        speedup: f64,
        /// The median speedup so far.
        so_far: f64,
    },
    /// A single-variant process finished (process isolation).
    SingleProcess {
        /// The pair it belongs to, from 1.
        pair: usize,
        /// Which variant ran.
        variant: Arm,
        /// Its value, in `unit`.
        value: f64,
        /// "s" or "bytes".
        unit: &'static str,
        /// Once both arms have a value: A/B (time) or saved bytes (memory) of the medians.
        so_far: Option<SoFar>,
    },
}

/// The estimate so far of a process-isolation run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SoFar {
    /// Time: median A / median B.
    Speedup(f64),
    /// Memory: median A - median B, bytes.
    SavedBytes(f64),
}

impl Progress {
    /// The event's line with the budget, e.g. "process 3/30: speedup 1.980x (so far 1.975x)".
    pub fn message(&self) -> String {
        let max = self.max_pairs;
        match &self.event {
            Event::PairedProcess {
                process,
                speedup,
                so_far,
            } => format!("process {process}/{max}: speedup {speedup:.3}x (so far {so_far:.3}x)"),
            Event::SingleProcess { pair, .. } => format!("pair {pair}/{max}: {}", self.event),
            other => other.to_string(),
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::ProvisioningMemray { runner, version, dir } => write!(
                f,
                "memray is not importable by `{runner}`: provisioning memray {version} into {} (once per interpreter; the project's environment is not touched)",
                dir.display()
            ),
            Event::WaitingForLock => {
                f.write_str("waiting for another abbench measurement on this machine to finish")
            }
            Event::PilotDone {
                block_s,
                number_a,
                number_b,
                rounds,
                first_look,
            } => write!(
                f,
                "pilot done: {:.0} ms blocks ({number_a} calls of A, {number_b} of B), {rounds} rounds per process, first look at {first_look} processes",
                block_s * 1e3
            ),
            Event::WarmedUp { variant: None } => {
                f.write_str("warm-up done (both variants once, nothing measured)")
            }
            Event::WarmedUp { variant: Some(v) } => write!(f, "warm-up {v} done"),
            Event::PairedProcess {
                process,
                speedup,
                so_far,
            } => write!(f, "process {process}: speedup {speedup:.3}x (so far {so_far:.3}x)"),
            Event::SingleProcess {
                variant,
                value,
                unit,
                so_far,
                ..
            } => {
                write!(f, "{variant} = {value:.6e} {unit}")?;
                match so_far {
                    Some(SoFar::Speedup(x)) => write!(f, "; A/B so far {x:.3}x"),
                    Some(SoFar::SavedBytes(b)) => write!(
                        f,
                        "; saved so far {:.2} MiB",
                        b / crate::domain::MIB as f64
                    ),
                    None => Ok(()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_units_and_the_budget() {
        let p = |event| Progress {
            processes_done: 4,
            pairs_done: 3,
            max_pairs: 30,
            processes_total: 31,
            event,
        };
        assert_eq!(
            p(Event::PairedProcess {
                process: 3,
                speedup: 1.98,
                so_far: 1.975
            })
            .message(),
            "process 3/30: speedup 1.980x (so far 1.975x)"
        );
        assert_eq!(
            p(Event::SingleProcess {
                pair: 2,
                variant: Arm::B,
                value: 2.0 * 1_048_576.0,
                unit: "bytes",
                so_far: Some(SoFar::SavedBytes(1_048_576.0)),
            })
            .message(),
            "pair 2/30: b = 2.097152e6 bytes; saved so far 1.00 MiB"
        );
    }
}
