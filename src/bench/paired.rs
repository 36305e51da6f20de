//! The paired schedule: one uncounted pilot process (it warms the page
//! cache and `.pyc` files, and measures what the design is chosen from),
//! then counted processes that each run A and B in alternating blocks, in a
//! seeded random order, until a planned look settles the run or the budget
//! is spent. The choices and the stopping rule are [`PairedSchedule`]'s.

use std::time::{Duration, Instant};

use super::blocks::{Counted, Pilot};
use super::design::PairedSchedule;
use super::executor::PairedExecutor;
use super::plan::Plan;
use crate::measure::progress::Event;
use crate::measure::rng::SplitMix64;
use crate::measure::{RunError, Stop};
use crate::verdict::Analysis;

/// What the paired schedule measured.
pub(super) struct PairedOutcome {
    pub(super) schedule: PairedSchedule,
    pub(super) pilot: Pilot,
    pub(super) processes: Vec<Counted>,
    pub(super) stopped_at_look: usize,
    pub(super) stopped_because: Stop,
    pub(super) analysis: Analysis,
}

/// What the pilot chose, for progress.
fn pilot_done(schedule: &PairedSchedule) -> Event {
    let block = schedule.block();
    Event::PilotDone {
        block_s: block.block_s,
        number_a: block.number_a,
        number_b: block.number_b,
        rounds: schedule.rounds(),
        first_look: schedule.looks()[0].pairs,
    }
}

/// A counted process done, from the per-process log-ratios so far.
fn counted(log_ratios: &[f64]) -> Event {
    let n = log_ratios.len();
    Event::PairedProcess {
        process: n,
        speedup: log_ratios[n - 1].exp(),
        so_far: crate::stats::median(log_ratios).exp(),
    }
}

/// Runs the pilot and the counted processes.
pub(super) async fn run(
    ex: &mut impl PairedExecutor,
    plan: &Plan,
    rng: &mut SplitMix64,
    started: Instant,
    budget: Duration,
    say: &(dyn Fn(usize, usize, Event) + Sync),
) -> Result<PairedOutcome, RunError> {
    let pilot = ex.pilot(rng.next_u64() >> 33).await?;
    let mut schedule =
        PairedSchedule::new(&pilot, &plan.threshold, plan.min_pairs, plan.max_pairs, 1);
    let block = schedule.block().clone();
    say(ex.started(), 0, pilot_done(&schedule));
    let mut processes: Vec<Counted> = Vec::new();
    let mut stopped_because = Stop::MaxPairs;
    let mut settled = None;
    while schedule.count() < plan.max_pairs {
        // Stop before a process that would overrun the budget: the next one
        // costs about its fixed part plus its rounds.
        let v = schedule.variance();
        let next =
            Duration::from_secs_f64(v.process_fixed_s + schedule.rounds() as f64 * v.round_s);
        if started.elapsed() + next > budget {
            stopped_because = Stop::MaxSeconds;
            break;
        }
        let p = ex
            .paired(
                schedule.rounds(),
                (block.number_a, block.number_b),
                block.block_s,
                rng.next_u64() >> 33,
            )
            .await?;
        let left = budget.saturating_sub(started.elapsed()).as_secs_f64();
        let outcome = schedule.add(&p, left);
        processes.push(p);
        let d = schedule.log_ratios();
        say(ex.started(), d.len(), counted(&d));
        if let Some((look, analysis)) = outcome {
            if look < schedule.looks().len() {
                stopped_because = Stop::Verdict;
            }
            settled = Some((look, analysis));
            break;
        }
    }
    let (stopped_at_look, analysis) = match settled {
        Some(found) => found,
        None if processes.is_empty() => {
            return Err(crate::measure::invalid(format!(
                "max_seconds = {:.1} s was spent before the first counted process (pilot included): raise `max_seconds` or make one call faster",
                budget.as_secs_f64()
            )))
        }
        None => schedule.final_look(),
    };
    Ok(PairedOutcome {
        schedule,
        pilot,
        processes,
        stopped_at_look,
        stopped_because,
        analysis,
    })
}
