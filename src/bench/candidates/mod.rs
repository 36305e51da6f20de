//! `run_ab_benchmark` on a script with several candidates (its
//! `# abbench-candidates:` line): each candidate is checked against A
//! first — one that computes something else is `different_results` and
//! never timed — then A and every remaining candidate run in one paired
//! run ([`family`]; memory: one process per variant, [`memory`]), each judged on its own view of the processes with the
//! looks' error rate split among them. The answer ranks them best first
//! and names the best: the highest lower bound among those
//! `above_threshold`, ties broken by the smaller change.

use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::executor::PythonExecutor;
use super::paired::PairedOutcome;
use super::plan::Plan;
use super::result::Measured;
use crate::equivalence::{Equivalence, EquivalenceStatus};
use crate::measure::environment::ArmSummary;
use crate::measure::executor::Executor;
use crate::measure::progress::Event;
use crate::measure::rng::SplitMix64;
use crate::measure::{Culprit, RunError};
use crate::template::CandidatesMarker;
use crate::verdict::{Analysis, Estimate, Verdict};

mod family;
mod memory;
mod project;

pub(crate) use family::Family;

/// One candidate's outcome, as the answer lists it (best first).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CandidateOutcome {
    /// The agent's label.
    pub label: String,
    /// Its verdict against A; null for a duplicate (not measured).
    pub verdict: Option<Verdict>,
    /// A / candidate (> 1: the candidate is faster), with its bounds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speedup: Option<Estimate>,
    /// Why, in one sentence with the figures.
    pub reason: String,
    /// Whether it computes what A computes; null for a duplicate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub equivalence: Option<Equivalence>,
    /// Where it differs from A (different_results).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_difference: Option<String>,
    /// Processes it was timed in.
    pub processes: usize,
    /// "A" or the label of the candidate whose code it repeats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    /// Non-empty lines of its code (the tie-break for the best).
    #[serde(default)]
    pub lines: usize,
    /// Its per-process values (medians of its blocks), as the run's `b`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arm: Option<ArmSummary>,
    /// Its whole comparison with A (check_keep_conditions judges it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<Analysis>,
}

impl CandidateOutcome {
    /// Its verdict in words: "above_threshold", or "duplicate of counter,
    /// not measured".
    pub fn status(&self) -> String {
        match (&self.duplicate_of, self.verdict) {
            (Some(of), _) => format!("duplicate of {of}, not measured"),
            (None, Some(v)) => v.as_str().to_string(),
            (None, None) => "not measured".into(),
        }
    }
}

/// What a run of several candidates measured.
pub(super) struct AllMeasured {
    /// The best candidate's measurement (else the first ranked's): the
    /// run's top-level figures.
    pub(super) chosen: Measured,
    /// That candidate's equivalence.
    pub(super) equivalence: Equivalence,
    /// Every candidate, best first.
    pub(super) candidates: Vec<CandidateOutcome>,
    /// The best one's label.
    pub(super) best: Option<String>,
}

/// Checks, measures and ranks every candidate of `marker`.
pub(super) async fn run(
    ex: &mut PythonExecutor<'_>,
    plan: &Plan,
    marker: &CandidatesMarker,
    rng: &mut SplitMix64,
    started: Instant,
    budget: Duration,
    say: &(dyn Fn(usize, usize, Event) + Sync),
) -> Result<AllMeasured, RunError> {
    let mut equivalences = Vec::new();
    for (letter, label) in &marker.variants {
        equivalences.push(super::check_equivalence(ex, plan, Some((*letter, label))).await?);
    }
    let timed: Vec<(char, String)> = marker
        .variants
        .iter()
        .zip(&equivalences)
        .filter(|(_, e)| e.status != EquivalenceStatus::Different)
        .map(|((l, label), _)| (*l, label.clone()))
        .collect();
    let mut measured: Vec<(char, Measured)> = Vec::new();
    if !timed.is_empty() && plan.domain == crate::domain::Domain::Memory {
        measured = memory::measure(ex, plan, &timed, rng, started, budget, say).await?;
    } else if !timed.is_empty() {
        let family = measure(ex, plan, &timed, rng, started, budget, say).await?;
        for m in family.members {
            let (stopped_at_look, analysis, stopped_because) =
                m.settled.expect("finish settles every member");
            let out = PairedOutcome {
                schedule: m.schedule,
                pilot: m.pilot,
                processes: m.processes,
                stopped_at_look,
                stopped_because,
                analysis,
            };
            measured.push((m.letter, Measured::from_paired(out, plan)));
        }
    }
    Ok(rank(plan, marker, equivalences, measured))
}

/// The pilot and the counted processes, until every candidate is settled.
async fn measure(
    ex: &mut PythonExecutor<'_>,
    plan: &Plan,
    timed: &[(char, String)],
    rng: &mut SplitMix64,
    started: Instant,
    budget: Duration,
    say: &(dyn Fn(usize, usize, Event) + Sync),
) -> Result<Family, RunError> {
    let variants: String = std::iter::once('a')
        .chain(timed.iter().map(|t| t.0))
        .collect();
    let (pilot, wall) = ex.pilot_all(rng.next_u64() >> 33, &variants).await?;
    let bad = |problem: String| RunError::BadOutput {
        variant: Culprit::Both,
        problem,
        command: ex.commands.warm_up.last().cloned().unwrap_or_default(),
    };
    let mut family = Family::new(
        &pilot,
        wall,
        timed,
        &plan.threshold,
        plan.min_pairs,
        plan.max_pairs,
    )
    .map_err(bad)?;
    if let Some(next) = family.next() {
        let first = &family.members[0].schedule;
        say(
            ex.started(),
            0,
            Event::PilotDone {
                block_s: next.block_s,
                number_a: next.numbers[0].1,
                number_b: next.numbers.get(1).map_or(0, |n| n.1),
                rounds: next.rounds,
                first_look: first.looks()[0].pairs,
            },
        );
    }
    let mut budget_spent = false;
    let mut count = 0;
    while let Some(next) = family.next() {
        let estimate = Duration::from_secs_f64(family.estimate_s(&next));
        if started.elapsed() + estimate > budget {
            budget_spent = true;
            break;
        }
        let (line, wall) = ex
            .paired_all(
                next.rounds,
                &next.numbers,
                next.block_s,
                rng.next_u64() >> 33,
                &next.variants,
            )
            .await?;
        let left = budget.saturating_sub(started.elapsed()).as_secs_f64();
        family
            .add(&next, &line, wall, left)
            .map_err(|problem| RunError::BadOutput {
                variant: Culprit::Both,
                problem,
                command: ex.commands.ab.clone().unwrap_or_default(),
            })?;
        count += 1;
        for m in &family.members {
            if let Some(p) = m.processes.last() {
                let short = p.blocks.shortest_block_s() <= 1e-3;
                ex.short_samples[0] |= short;
                ex.short_samples[1] |= short;
            }
        }
        let d = family.members[0].schedule.log_ratios();
        if let Some(last) = d.last() {
            say(
                ex.started(),
                count,
                Event::PairedProcess {
                    process: count,
                    speedup: last.exp(),
                    so_far: crate::stats::median(&d).exp(),
                },
            );
        }
    }
    if family.members.iter().all(|m| m.processes.is_empty()) {
        return Err(crate::measure::invalid(format!(
            "max_seconds = {:.1} s was spent before the first counted process (pilot included): raise `max_seconds` or make one call faster",
            budget.as_secs_f64()
        )));
    }
    family.finish(budget_spent);
    Ok(family)
}

/// The analysis with the candidate named where the two-variant reason
/// says "B".
fn named(mut analysis: Analysis, label: &str) -> Analysis {
    analysis.reason = analysis
        .reason
        .replace(" B won ", &format!(" {label} won "));
    analysis
}

/// Each candidate's line, best first, the best, and the run's top-level figures.
fn rank(
    plan: &Plan,
    marker: &CandidatesMarker,
    equivalences: Vec<Equivalence>,
    mut measured: Vec<(char, Measured)>,
) -> AllMeasured {
    let lines_of = |i: usize| marker.lines.get(i).copied().unwrap_or(0);
    let mut outcomes: Vec<(CandidateOutcome, Option<char>)> = Vec::new();
    for (i, ((letter, label), eq)) in marker.variants.iter().zip(&equivalences).enumerate() {
        let m = measured.iter().find(|(l, _)| l == letter).map(|(_, m)| m);
        let analysis = match m {
            Some(m) => named(m.analysis.clone(), label),
            None => crate::verdict::different_results(
                eq.first_difference.as_deref().unwrap_or_default(),
            ),
        };
        outcomes.push((
            CandidateOutcome {
                label: label.clone(),
                verdict: Some(analysis.verdict),
                speedup: analysis.speedup,
                reason: analysis.reason.clone(),
                equivalence: Some(eq.clone()),
                first_difference: eq.first_difference.clone(),
                processes: analysis.pairs,
                duplicate_of: None,
                lines: lines_of(i),
                arm: m.and_then(|m| super::result::arm(&m.b, plan.domain.unit())),
                analysis: Some(analysis),
            },
            Some(*letter),
        ));
    }
    let low = |o: &CandidateOutcome| o.speedup.and_then(|s| s.low).unwrap_or(f64::NEG_INFINITY);
    let unmeasured = |o: &CandidateOutcome| o.verdict == Some(Verdict::DifferentResults);
    outcomes.sort_by(|(x, _), (y, _)| {
        unmeasured(x)
            .cmp(&unmeasured(y))
            .then(low(y).total_cmp(&low(x)))
            .then(x.lines.cmp(&y.lines))
    });
    let best = outcomes
        .iter()
        .find(|(o, _)| o.verdict == Some(Verdict::AboveThreshold))
        .map(|(o, _)| o.label.clone());
    let (top, top_letter) = outcomes[0].clone();
    let top_index = marker
        .variants
        .iter()
        .position(|(l, _)| Some(*l) == top_letter)
        .unwrap_or(0);
    let equivalence = equivalences[top_index].clone();
    let chosen = match measured.iter().position(|(l, _)| Some(*l) == top_letter) {
        Some(i) => {
            let mut chosen = measured.swap_remove(i).1;
            chosen.analysis = named(chosen.analysis, &top.label);
            chosen
        }
        None => Measured::not_timed(plan, top.first_difference.as_deref().unwrap_or("?")),
    };
    let mut candidates: Vec<CandidateOutcome> = outcomes.into_iter().map(|(o, _)| o).collect();
    candidates.extend(
        marker
            .duplicates
            .iter()
            .map(|(label, of)| CandidateOutcome {
                label: label.clone(),
                verdict: None,
                speedup: None,
                reason: format!("the same code as {of} (the same syntax tree): not measured"),
                equivalence: None,
                first_difference: None,
                processes: 0,
                duplicate_of: Some(of.clone()),
                lines: 0,
                arm: None,
                analysis: None,
            }),
    );
    AllMeasured {
        chosen,
        equivalence,
        candidates,
        best,
    }
}
