//! The paired design's choices, made from what the processes measure, and
//! its stopping rule, as a pure state machine (driven by real processes in
//! [`super::paired`], by simulated ones in the tests below).
//!
//! Two variance components decide where the time goes (Kalibera & Jones,
//! "Rigorous Benchmarking in Reasonable Time", ISMM 2013): `σ_w`, the noise
//! of one round's `ln(A / B)` inside a process, and `σ_b`, how much a fresh
//! process's own ratio differs from the next one's (memory layout, hash
//! seed, warm-up). A process costs `c1` seconds before its rounds and `c2`
//! per round.
//!
//! 1. **Rounds, first phase**: enough that one process's ratio is precise
//!    to `ln(1 + t) / 2.5` (t the threshold), so the first look decides,
//!    with ~95 % probability, every change at least one threshold's width
//!    away from it (for 20 %: speedups under 1.00x or over 1.44x).
//! 2. **Block length**: the pilot runs rounds at each candidate length; the
//!    one whose process reaches that precision soonest (`c1 + r·c2`) wins,
//!    or, when none can, the one with the least `σ_w² × c2` (variance per
//!    second of rounds).
//! 3. **First look**: the smallest number of processes whose exact
//!    signed-rank test can reach the first look's level (6 at 2 %), or twice
//!    that when even the most rounds cannot reach the precision of step 2.
//! 4. **After an undecided look**: `σ_b` is estimated from the processes
//!    counted so far and the rounds become `sqrt(c1 σ_w² / (c2 σ_b²))`,
//!    the allocation that minimises the variance of the estimate per second
//!    spent, within the time left.
//!
//! None of these choices looks at where the estimate lies relative to the
//! threshold, only at spreads and costs, so the looks' error rates hold.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::blocks::{Counted, Pilot};
use crate::domain::Threshold;
use crate::stats;
use crate::verdict::{self, Analysis, Look, Samples};

/// Fewest rounds per process: the Hodges–Lehmann centre shrugs off one bad round in five.
pub const ROUNDS_MIN: usize = 5;
/// Most rounds per process.
pub const ROUNDS_MAX: usize = 40;
/// The first look resolves changes this many per-process sds from the threshold.
const FIRST_LOOK_Z: f64 = 2.5;
/// Variance of the Hodges–Lehmann centre relative to the mean's, for normal data (1 / 0.955).
const HL_FACTOR: f64 = 1.05;
/// Smallest between-process sd assumed, so the rounds stay finite.
const BETWEEN_FLOOR: f64 = 0.002;

/// One block length the pilot tried.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BlockCandidate {
    /// Target seconds of one block.
    pub block_s: f64,
    /// Calls (async: batches; structure: imports) per block of A.
    pub number_a: u64,
    /// Calls (async: batches; structure: imports) per block of B.
    pub number_b: u64,
    /// Robust sd of one round's ln(A/B) in the pilot (0.03 = 3 %).
    pub round_log_sd: f64,
    /// Mean seconds of one round (one block of each variant).
    pub round_s: f64,
}

impl BlockCandidate {
    /// Variance of a round's ratio times its cost: lower gives more precision per second.
    fn cost(&self) -> f64 {
        self.round_log_sd.powi(2) * self.round_s
    }
}

/// The block length chosen, from the candidates the pilot measured.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BlockChoice {
    /// Target seconds of one block.
    pub block_s: f64,
    /// Calls per block of A.
    pub number_a: u64,
    /// Calls per block of B.
    pub number_b: u64,
    /// Every candidate with its figures.
    pub candidates: Vec<BlockCandidate>,
    /// Why this one.
    pub why: String,
}

/// Rounds per process from one process on, and why.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RoundsChoice {
    /// 1-based index of the first counted process that ran with it.
    pub from_process: usize,
    /// Rounds (one block of each variant) per process.
    pub rounds: usize,
    /// Why.
    pub why: String,
}

/// The variance components and costs the design was chosen from (log scale: 0.03 ≈ 3 %).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct VarianceComponents {
    /// sd of one round's ln(A/B) inside a process.
    pub within_round_log_sd: f64,
    /// sd of a process's own ln(A/B) across fresh processes; null before any look.
    pub between_process_log_sd: Option<f64>,
    /// sd of the per-process ln(A/B) over the counted processes; null before any look.
    pub per_process_log_sd: Option<f64>,
    /// Seconds a process costs besides its rounds (start, setup, warm-up).
    pub process_fixed_s: f64,
    /// Seconds of one round.
    pub round_s: f64,
}

/// What one counted process contributes.
#[derive(Debug, Clone, Copy)]
struct Figures {
    centre: f64,
    within_sd: f64,
    rounds: usize,
    fixed_s: f64,
    round_s: f64,
}

/// The paired design of one run and where it stands.
#[derive(Debug, Clone)]
pub(crate) struct PairedSchedule {
    threshold: Threshold,
    looks: Vec<Look>,
    max_pairs: usize,
    block: BlockChoice,
    rounds_log: Vec<RoundsChoice>,
    variance: VarianceComponents,
    first_look_why: String,
    processes: Vec<Figures>,
    looks_taken: usize,
}

fn pct(log_sd: f64) -> String {
    format!("{:.1} %", log_sd * 100.0)
}

/// Rounds a process needs at round noise `within` to reach `target`, kept
/// within bounds, and whether the bounds let it.
fn rounds_for(within: f64, target: f64) -> (usize, bool) {
    let needed = (HL_FACTOR * within.powi(2) / target.powi(2)).ceil() as usize;
    let rounds = needed.clamp(ROUNDS_MIN, ROUNDS_MAX);
    (rounds, process_sd(within, rounds) <= target)
}

/// The candidate whose process reaches `target` soonest (see the module doc).
fn choose_block(pilot: &Pilot, target: f64) -> BlockChoice {
    let fixed = |c: &BlockCandidate| pilot.fixed_cost_s(c.block_s);
    let candidates: Vec<BlockCandidate> = pilot
        .lengths
        .iter()
        .map(|l| BlockCandidate {
            block_s: l.block_s,
            number_a: l.blocks.number.a,
            number_b: l.blocks.number.b,
            round_log_sd: l.blocks.within_sd(),
            round_s: l.blocks.round_s(),
        })
        .collect();
    let process_s =
        |c: &BlockCandidate| fixed(c) + rounds_for(c.round_log_sd, target).0 as f64 * c.round_s;
    let reachable: Vec<&BlockCandidate> = candidates
        .iter()
        .filter(|c| rounds_for(c.round_log_sd, target).1)
        .collect();
    let best = if reachable.is_empty() {
        candidates
            .iter()
            .min_by(|x, y| x.cost().total_cmp(&y.cost()))
    } else {
        reachable
            .into_iter()
            .min_by(|x, y| process_s(x).total_cmp(&process_s(y)))
    }
    .expect("the pilot reports at least one length")
    .clone();
    let ms = |c: &BlockCandidate| format!("{:.0} ms", c.block_s * 1e3);
    let figures = |c: &BlockCandidate| {
        format!(
            "{}: a round's ratio varies by {}, a round takes {:.1} ms, a process {:.2} s",
            ms(c),
            pct(c.round_log_sd),
            c.round_s * 1e3,
            process_s(c)
        )
    };
    let why = if candidates.len() == 1 {
        format!(
            "{} blocks ({} calls of A, {} of B): the only length tried, because the calls per block are fixed or one call already fills a block",
            ms(&best),
            best.number_a,
            best.number_b
        )
    } else {
        let all: Vec<String> = candidates.iter().map(figures).collect();
        format!(
            "{} blocks {} (pilot: {})",
            ms(&best),
            if rounds_for(best.round_log_sd, target).1 {
                "give the cheapest process that is precise enough for the first look"
            } else {
                "give the most precision per second (no length reaches the first look's precision)"
            },
            all.join("; ")
        )
    };
    BlockChoice {
        block_s: best.block_s,
        number_a: best.number_a,
        number_b: best.number_b,
        candidates,
        why,
    }
}

/// The gain the paired design is planned around: the paired design runs
/// only the time domains, whose bar is a gain.
fn paired_gain(threshold: &Threshold) -> f64 {
    threshold
        .min_gain()
        .unwrap_or(crate::domain::DEFAULT_MIN_GAIN)
}

/// The per-process precision the first look needs: ln(1 + t) / 2.5.
fn first_look_precision(threshold: &Threshold) -> f64 {
    (1.0 + paired_gain(threshold)).ln() / FIRST_LOOK_Z
}

/// sd of a process's centre from `rounds` rounds of sd `within`.
fn process_sd(within: f64, rounds: usize) -> f64 {
    within * (HL_FACTOR / rounds as f64).sqrt()
}

impl PairedSchedule {
    /// The design for a run, from its pilot. `family` is the number of
    /// candidates compared with A in the same run (1 for an A/B run): each
    /// look's error rate is split evenly among them (Bonferroni), so the
    /// chance that any of them is wrongly called stays within the run's 5 %.
    pub(crate) fn new(
        pilot: &Pilot,
        threshold: &Threshold,
        min_pairs: Option<usize>,
        max_pairs: usize,
        family: usize,
    ) -> Self {
        let share = family.max(1) as f64;
        let first_alpha = verdict::FIRST_LOOK_ALPHA / share;
        let shared = if family > 1 {
            format!(
                " ({:.0} % split among {family} candidates, Bonferroni)",
                verdict::FIRST_LOOK_ALPHA * 100.0
            )
        } else {
            String::new()
        };
        let target = first_look_precision(threshold);
        let block = choose_block(pilot, target);
        let chosen = &block.candidates[block
            .candidates
            .iter()
            .position(|c| c.block_s == block.block_s)
            .unwrap_or(0)];
        let within = chosen.round_log_sd;
        let (rounds, reachable) = rounds_for(within, target);
        let gain = paired_gain(threshold);
        let (lo, hi) = (1.0, (1.0 + gain).powi(2));
        let rounds_why = format!(
            "one round's ratio varies by {} in the pilot; {rounds} rounds make a process's ratio precise to about {}, {} the {} the first look needs to decide any speedup outside {lo:.2}x-{hi:.2}x",
            pct(within),
            pct(process_sd(within, rounds)),
            if reachable { "within" } else { "short of" },
            pct(target),
        );
        let exact_min = stats::signed_rank_min_n(first_alpha);
        let (first, first_look_why) = match min_pairs {
            Some(n) => (n, format!("{n} processes: given as `min_pairs`")),
            None if reachable => (
                exact_min,
                format!(
                    "{exact_min} processes: the fewest whose exact signed-rank test can reach the first look's {} %{shared} (when all {exact_min} agree, p = 1/{})",
                    format!("{:.2}", first_alpha * 100.0)
                        .trim_end_matches('0')
                        .trim_end_matches('.'),
                    1u64 << exact_min
                ),
            ),
            None => (
                (2 * exact_min).min(max_pairs),
                format!(
                    "{} processes: even {ROUNDS_MAX} rounds leave a process's ratio at {} against the {} that lets {exact_min} processes decide, so the first look waits for twice as many",
                    (2 * exact_min).min(max_pairs),
                    pct(process_sd(within, rounds)),
                    pct(target)
                ),
            ),
        };
        let variance = VarianceComponents {
            within_round_log_sd: within,
            between_process_log_sd: None,
            per_process_log_sd: None,
            process_fixed_s: pilot.fixed_cost_s(chosen.block_s),
            round_s: chosen.round_s,
        };
        PairedSchedule {
            threshold: threshold.clone(),
            looks: verdict::planned_looks(first.min(max_pairs), max_pairs)
                .into_iter()
                .map(|l| Look {
                    alpha: l.alpha / share,
                    ..l
                })
                .collect(),
            max_pairs,
            block,
            rounds_log: vec![RoundsChoice {
                from_process: 1,
                rounds,
                why: rounds_why,
            }],
            variance,
            first_look_why,
            processes: Vec::new(),
            looks_taken: 0,
        }
    }

    /// Rounds for the next process.
    pub(crate) fn rounds(&self) -> usize {
        self.rounds_log.last().map_or(ROUNDS_MIN, |r| r.rounds)
    }

    /// The block length and calls per block.
    pub(crate) fn block(&self) -> &BlockChoice {
        &self.block
    }

    /// The planned looks.
    pub(crate) fn looks(&self) -> &[Look] {
        &self.looks
    }

    /// Processes counted so far.
    pub(crate) fn count(&self) -> usize {
        self.processes.len()
    }

    /// Why the first look is where it is.
    pub(crate) fn first_look_why(&self) -> &str {
        &self.first_look_why
    }

    /// The rounds chosen so far.
    pub(crate) fn rounds_log(&self) -> &[RoundsChoice] {
        &self.rounds_log
    }

    /// The variance components as last estimated.
    pub(crate) fn variance(&self) -> &VarianceComponents {
        &self.variance
    }

    /// Each counted process's ln(A/B).
    pub(crate) fn log_ratios(&self) -> Vec<f64> {
        self.processes.iter().map(|p| p.centre).collect()
    }

    /// Counts a process; when it completes a planned look that settles the
    /// run, returns the 1-based look and its analysis. `seconds_left` is
    /// the time budget still open, for re-planning.
    pub(crate) fn add(&mut self, p: &Counted, seconds_left: f64) -> Option<(usize, Analysis)> {
        let rounds = p.blocks.a.len();
        self.processes.push(Figures {
            centre: p.blocks.centre(),
            within_sd: p.blocks.within_sd(),
            rounds,
            fixed_s: (p.wall_s - p.timed_s).max(0.0),
            round_s: p.timed_s / rounds as f64,
        });
        let n = self.processes.len();
        let look = self.looks.iter().position(|l| l.pairs == n)?;
        self.looks_taken = look + 1;
        let last = look + 1 == self.looks.len();
        let analysis = self.analyze(self.looks[look].alpha, last);
        if analysis.settled {
            return Some((look + 1, analysis));
        }
        self.replan(seconds_left);
        None
    }

    /// A look at what was measured, forced by the time budget: it spends
    /// the share of every planned look still ahead.
    pub(crate) fn final_look(&self) -> (usize, Analysis) {
        let alpha = verdict::remaining_alpha(&self.looks, self.looks_taken);
        (self.looks_taken + 1, self.analyze(alpha, true))
    }

    fn analyze(&self, alpha: f64, last: bool) -> Analysis {
        let d = self.log_ratios();
        verdict::analyze(
            Samples::Paired { log_ratios: &d },
            &self.threshold,
            alpha,
            last,
        )
    }

    /// Re-estimates the variance components and sets the rounds of the
    /// processes still to come (step 4 of the module doc).
    fn replan(&mut self, seconds_left: f64) {
        let n = self.processes.len();
        let centres: Vec<f64> = self.processes.iter().map(|p| p.centre).collect();
        let per_process = stats::robust_sd(&centres);
        let within_var = stats::median(
            &self
                .processes
                .iter()
                .map(|p| p.within_sd.powi(2))
                .collect::<Vec<_>>(),
        );
        let within_part = stats::median(
            &self
                .processes
                .iter()
                .map(|p| HL_FACTOR * p.within_sd.powi(2) / p.rounds as f64)
                .collect::<Vec<_>>(),
        );
        let between = (per_process.powi(2) - within_part)
            .max(0.0)
            .sqrt()
            .max(BETWEEN_FLOOR);
        let c1 = stats::median(&self.processes.iter().map(|p| p.fixed_s).collect::<Vec<_>>());
        let c2 = stats::median(&self.processes.iter().map(|p| p.round_s).collect::<Vec<_>>());
        self.variance = VarianceComponents {
            within_round_log_sd: within_var.sqrt(),
            between_process_log_sd: Some(between),
            per_process_log_sd: Some(per_process),
            process_fixed_s: c1,
            round_s: c2,
        };
        let optimal = (c1 * HL_FACTOR * within_var / (c2 * between.powi(2))).sqrt();
        let mut rounds = (optimal.round() as usize).clamp(ROUNDS_MIN, ROUNDS_MAX);
        let left = self.max_pairs.saturating_sub(n).max(1) as f64;
        let affordable = ((seconds_left / left - c1) / c2).floor();
        let capped = affordable.is_finite() && (affordable as usize) < rounds;
        if capped {
            rounds = (affordable.max(0.0) as usize).max(ROUNDS_MIN);
        }
        let why = format!(
            "after {n} processes: a process's own ratio varies by {} across processes and one round's by {} inside one; a process costs {:.2} s besides its rounds and {:.1} ms per round, so sqrt(c1·σw²/(c2·σb²)) = {optimal:.1} rounds per process give the narrowest interval per second{}",
            pct(between),
            pct(within_var.sqrt()),
            c1,
            c2 * 1e3,
            if capped {
                format!("; capped at {rounds} so the remaining processes fit in the time left")
            } else if optimal.round() as usize != rounds {
                format!(" (kept within {ROUNDS_MIN}-{ROUNDS_MAX})")
            } else {
                String::new()
            }
        );
        if rounds != self.rounds() {
            self.rounds_log.push(RoundsChoice {
                from_process: n + 1,
                rounds,
                why,
            });
        } else if let Some(last) = self.rounds_log.last_mut() {
            last.why = format!("{}; re-planned {why}: unchanged", last.why);
        }
    }
}

#[cfg(test)]
mod tests;
