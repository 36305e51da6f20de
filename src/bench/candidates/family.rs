//! The paired design for A and several candidates, as a pure state machine
//! (driven by real processes in [`super::run`], by simulated ones in the
//! tests): every process runs A and each candidate still undecided in
//! blocks whose order is a fresh random permutation per round; each
//! candidate is judged by its own [`PairedSchedule`] on its two-variant
//! view of the processes ([`super::project`]), with each look's error rate
//! split among the candidates (Bonferroni), and drops out of later
//! processes once a look settles it.
//!
//! The process is shared, so its shape is the most any candidate asks for:
//! the longest block length chosen and the most rounds. A candidate's
//! schedule reads what its processes really ran, so more rounds than it
//! asked for only make its ratio more precise.

use serde_json::Value;

use super::super::blocks::{Counted, Pilot};
use super::super::design::PairedSchedule;
use super::project::project;
use crate::domain::Threshold;
use crate::measure::Stop;
use crate::verdict::Analysis;

/// One candidate and where its comparison with A stands.
pub(crate) struct Member {
    /// Its function is `bench_<letter>`.
    pub(crate) letter: char,
    /// The pilot, seen as A against this candidate.
    pub(crate) pilot: Pilot,
    /// Its design and looks.
    pub(crate) schedule: PairedSchedule,
    /// The processes it was counted in, seen as A against it.
    pub(crate) processes: Vec<Counted>,
    /// The look that settled it, its analysis and why it stopped.
    pub(crate) settled: Option<(usize, Analysis, Stop)>,
}

/// What the next process runs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NextProcess {
    /// "a" and the letters of the candidates still undecided.
    pub(crate) variants: String,
    /// Rounds: the most any of them asks for.
    pub(crate) rounds: usize,
    /// Block length: the longest any of them chose.
    pub(crate) block_s: f64,
    /// Calls per block of each variant at that length, from the pilot.
    pub(crate) numbers: Vec<(char, u64)>,
}

/// A and several candidates.
pub(crate) struct Family {
    pub(crate) members: Vec<Member>,
    max_pairs: usize,
    /// Rounds and wall seconds of the last process (for the budget).
    last: Option<(usize, f64)>,
}

fn read<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, String> {
    serde_json::from_value(v).map_err(|e| format!("malformed ABBENCH line ({e})"))
}

impl Family {
    /// The design for every candidate from the pilot's line (`wall_s`: the
    /// pilot process's wall time).
    pub(crate) fn new(
        pilot_line: &Value,
        wall_s: f64,
        candidates: &[(char, String)],
        threshold: &Threshold,
        min_pairs: Option<usize>,
        max_pairs: usize,
    ) -> Result<Family, String> {
        let mut members = Vec::new();
        for (letter, _) in candidates {
            let mut pilot: Pilot = read(project(pilot_line, *letter)?)?;
            pilot.check()?;
            pilot.wall_s = wall_s;
            let schedule =
                PairedSchedule::new(&pilot, threshold, min_pairs, max_pairs, candidates.len());
            members.push(Member {
                letter: *letter,
                pilot,
                schedule,
                processes: Vec::new(),
                settled: None,
            });
        }
        Ok(Family {
            members,
            max_pairs,
            last: None,
        })
    }

    fn active(&self) -> impl Iterator<Item = &Member> {
        self.members
            .iter()
            .filter(|m| m.settled.is_none() && m.schedule.count() < self.max_pairs)
    }

    /// The next process, or `None` when every candidate is settled.
    pub(crate) fn next(&self) -> Option<NextProcess> {
        let active: Vec<&Member> = self.active().collect();
        if active.is_empty() {
            return None;
        }
        let block_s = active
            .iter()
            .map(|m| m.schedule.block().block_s)
            .fold(0.0, f64::max);
        let rounds = active.iter().map(|m| m.schedule.rounds()).max()?;
        // Calls per block at that length, from the pilot's view of each
        // candidate (A's are the same in every view).
        let number = |m: &Member| {
            m.pilot
                .lengths
                .iter()
                .find(|l| l.block_s == block_s)
                .map(|l| l.blocks.number)
        };
        let a = active.iter().find_map(|m| number(m)).map_or(1, |n| n.a);
        let variants: String = std::iter::once('a')
            .chain(active.iter().map(|m| m.letter))
            .collect();
        let numbers = std::iter::once(('a', a))
            .chain(
                active
                    .iter()
                    .map(|m| (m.letter, number(m).map_or(1, |n| n.b))),
            )
            .collect();
        Some(NextProcess {
            variants,
            rounds,
            block_s,
            numbers,
        })
    }

    /// Seconds the next process will take, about: the last process scaled
    /// to its rounds, else the candidates' own estimates added up.
    pub(crate) fn estimate_s(&self, next: &NextProcess) -> f64 {
        match self.last {
            Some((rounds, wall)) => wall * (next.rounds as f64 / rounds.max(1) as f64).max(1.0),
            None => self
                .active()
                .map(|m| {
                    let v = m.schedule.variance();
                    v.process_fixed_s / 2.0 + next.rounds as f64 * v.round_s / 2.0
                })
                .sum(),
        }
    }

    /// Counts a process that ran `next`; each candidate in it is judged at
    /// its look, if this process completes one.
    pub(crate) fn add(
        &mut self,
        next: &NextProcess,
        line: &Value,
        wall_s: f64,
        seconds_left: f64,
    ) -> Result<(), String> {
        self.last = Some((next.rounds, wall_s));
        for m in self.members.iter_mut() {
            if !next.variants.contains(m.letter) {
                continue;
            }
            let mut counted: Counted = read(project(line, m.letter)?)?;
            counted.blocks.check()?;
            if counted.blocks.a.len() != next.rounds {
                return Err(format!(
                    "asked for {} rounds, it reported {}",
                    next.rounds,
                    counted.blocks.a.len()
                ));
            }
            counted.wall_s = wall_s;
            let outcome = m.schedule.add(&counted, seconds_left);
            m.processes.push(counted);
            if let Some((look, analysis)) = outcome {
                let stop = if look < m.schedule.looks().len() {
                    Stop::Verdict
                } else {
                    Stop::MaxPairs
                };
                m.settled = Some((look, analysis, stop));
            }
        }
        Ok(())
    }

    /// Settles every candidate still open with a final look (the budget
    /// ran out, `budget_spent`, or max_pairs was reached).
    pub(crate) fn finish(&mut self, budget_spent: bool) {
        for m in self.members.iter_mut() {
            if m.settled.is_none() && !m.processes.is_empty() {
                let (look, analysis) = m.schedule.final_look();
                let stop = if budget_spent {
                    Stop::MaxSeconds
                } else {
                    Stop::MaxPairs
                };
                m.settled = Some((look, analysis, stop));
            }
        }
    }
}

#[cfg(test)]
mod tests;
