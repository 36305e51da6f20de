//! Process isolation: each process runs one variant. Warm-up first (time
//! domains: one uncounted process per variant; memory: one `warmup`
//! process running both once), then pairs whose order inside the pair is
//! drawn from the seeded generator (A B B A …), with a look at each planned
//! pair count: the unpaired Hodges–Lehmann shift and the Mann–Whitney test.

use std::time::{Duration, Instant};

use super::executor::Executor;
use super::progress::{Event, SoFar};
use super::rng::SplitMix64;
use super::{invalid, Arm, RunError, Stop};
use crate::domain::{Domain, Threshold};
use crate::stats;
use crate::verdict::{self, Analysis, Look, Samples};

/// What the schedule needs to know: the micro run's plan and the e2e
/// run's both give one.
pub(crate) struct Schedule<'a> {
    /// Time (log-ratio shift) or bytes.
    pub(crate) domain: Domain,
    /// The planned looks, by pair count.
    pub(crate) looks: &'a [Look],
    /// What B must clear.
    pub(crate) threshold: &'a Threshold,
    /// The pair budget.
    pub(crate) max_pairs: usize,
}

/// What the process-isolation schedule measured.
pub(crate) struct UnpairedOutcome {
    pub(crate) a: Vec<f64>,
    pub(crate) b: Vec<f64>,
    /// Memory under memray: each process's whole peak, per arm.
    pub(crate) peaks: Option<(Vec<f64>, Vec<f64>)>,
    pub(crate) order: Vec<String>,
    pub(crate) stopped_at_look: usize,
    pub(crate) stopped_because: Stop,
    pub(crate) analysis: Analysis,
}

fn samples<'a>(domain: Domain, a: &'a [f64], b: &'a [f64]) -> Samples<'a> {
    if domain.is_time() {
        Samples::Unpaired { a, b }
    } else {
        Samples::Bytes { a, b }
    }
}

/// The uncounted warm-up: memory runs both variants once in one process;
/// the time domains one process per variant, in a random order.
async fn warm_up(
    ex: &mut impl Executor,
    domain: Domain,
    a_first: bool,
    say: &(dyn Fn(usize, usize, Event) + Sync),
) -> Result<(), RunError> {
    if domain == Domain::Memory {
        ex.warm_up(None).await?;
        say(ex.started(), 0, Event::WarmedUp { variant: None });
        return Ok(());
    }
    for v in Arm::in_order(a_first) {
        ex.warm_up(Some(v)).await?;
        say(ex.started(), 0, Event::WarmedUp { variant: Some(v) });
    }
    Ok(())
}

/// The estimate so far, for progress.
fn so_far(domain: Domain, a: &[f64], b: &[f64]) -> SoFar {
    let (a, b) = (stats::median(a), stats::median(b));
    if domain.is_time() {
        SoFar::Speedup(a / b)
    } else {
        SoFar::SavedBytes(a - b)
    }
}

/// A look forced by the time budget: it spends the share of every planned
/// look still ahead.
fn final_look(plan: &Schedule, a: &[f64], b: &[f64]) -> (usize, Analysis) {
    let taken = plan.looks.iter().filter(|l| l.pairs <= a.len()).count();
    let alpha = verdict::remaining_alpha(plan.looks, taken);
    (
        taken + 1,
        verdict::analyze(samples(plan.domain, a, b), plan.threshold, alpha, true),
    )
}

/// The values so far: one per process of each arm, and memory's whole-process peaks.
#[derive(Default)]
struct Values {
    a: Vec<f64>,
    b: Vec<f64>,
    peak_a: Vec<f64>,
    peak_b: Vec<f64>,
}

/// One pair: a process of each arm in the order given, each reported.
async fn pair(
    ex: &mut impl Executor,
    plan: &Schedule<'_>,
    a_first: bool,
    values: &mut Values,
    say: &(dyn Fn(usize, usize, Event) + Sync),
) -> Result<(), RunError> {
    let pairs_done = values.a.len().min(values.b.len());
    for v in Arm::in_order(a_first) {
        let single = ex.single(v).await?;
        let (arm, peaks) = match v {
            Arm::A => (&mut values.a, &mut values.peak_a),
            Arm::B => (&mut values.b, &mut values.peak_b),
        };
        arm.push(single.value);
        peaks.extend(single.process_peak);
        let done = values.a.len().min(values.b.len());
        let so_far = (done > 0).then(|| so_far(plan.domain, &values.a, &values.b));
        say(
            ex.started(),
            done,
            Event::SingleProcess {
                pair: pairs_done + 1,
                variant: v,
                value: single.value,
                unit: plan.domain.unit(),
                so_far,
            },
        );
    }
    Ok(())
}

/// The planned look at this many pairs, if there is one and it settles
/// the run: its 1-based number, whether it is the last, and its analysis.
fn settling_look(plan: &Schedule, a: &[f64], b: &[f64]) -> Option<(usize, bool, Analysis)> {
    let look = plan.looks.iter().position(|l| l.pairs == a.len())?;
    let last = look + 1 == plan.looks.len();
    let an = verdict::analyze(
        samples(plan.domain, a, b),
        plan.threshold,
        plan.looks[look].alpha,
        last,
    );
    an.settled.then_some((look + 1, last, an))
}

/// Runs the warm-up and the pairs.
pub(crate) async fn run(
    ex: &mut impl Executor,
    plan: &Schedule<'_>,
    rng: &mut SplitMix64,
    started: Instant,
    budget: Duration,
    say: &(dyn Fn(usize, usize, Event) + Sync),
) -> Result<UnpairedOutcome, RunError> {
    warm_up(ex, plan.domain, rng.coin(), say).await?;
    let mut values = Values::default();
    let mut order = Vec::new();
    let mut settled = None;
    let mut stopped_because = Stop::MaxPairs;
    let measuring_started = Instant::now();
    while values.a.len() < plan.max_pairs {
        let pairs_done = values.a.len();
        // Stop before a pair that would overrun the budget (a pair ~ the mean pair so far).
        let per_pair = if pairs_done > 0 {
            measuring_started.elapsed() / pairs_done as u32
        } else {
            Duration::ZERO
        };
        if started.elapsed() + per_pair > budget {
            stopped_because = Stop::MaxSeconds;
            break;
        }
        let a_first = rng.coin();
        order.push(if a_first { "AB" } else { "BA" }.to_string());
        pair(ex, plan, a_first, &mut values, say).await?;
        if let Some((look, last, analysis)) = settling_look(plan, &values.a, &values.b) {
            if !last {
                stopped_because = Stop::Verdict;
            }
            settled = Some((look, analysis));
            break;
        }
    }
    let Values {
        a,
        b,
        peak_a,
        peak_b,
    } = values;
    let (stopped_at_look, analysis) = match settled {
        Some(found) => found,
        None if a.is_empty() => {
            return Err(invalid(format!(
                "max_seconds = {:.1} s was spent before the first pair (warm-up included): raise `max_seconds` or make one process faster",
                budget.as_secs_f64()
            )))
        }
        None => final_look(plan, &a, &b),
    };
    let peaks = (peak_a.len() == a.len() && peak_b.len() == b.len() && !peak_a.is_empty())
        .then_some((peak_a, peak_b));
    Ok(UnpairedOutcome {
        a,
        b,
        peaks,
        order,
        stopped_at_look,
        stopped_because,
        analysis,
    })
}
