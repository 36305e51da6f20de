//! Several candidates in the memory domain: one fresh process per variant,
//! as for two (a peak would include what another variant left allocated).
//! After one uncounted `warmup` process (every variant once), each round
//! runs A and every candidate still undecided in a random order; each
//! candidate is compared with A's processes of the rounds it ran in (the
//! exact Mann–Whitney comparison of the process design), at looks whose
//! error rate is split among the candidates (Bonferroni, as in [`super::family`]),
//! and drops out of later rounds once a look settles it.

use std::time::{Duration, Instant};

use super::super::executor::PythonExecutor;
use super::super::plan::Plan;
use super::super::result::Measured;
use crate::domain::Threshold;
use crate::measure::executor::Executor;
use crate::measure::progress::Event;
use crate::measure::rng::SplitMix64;
use crate::measure::schedule::UnpairedOutcome;
use crate::measure::{invalid, RunError, Stop};
use crate::stats;
use crate::verdict::{self, Analysis, Look, Samples};

/// One candidate's processes and where it stands.
pub(crate) struct Member {
    pub(crate) letter: char,
    pub(crate) values: Vec<f64>,
    pub(crate) peaks: Vec<f64>,
    pub(crate) settled: Option<(usize, Analysis, Stop)>,
}

/// A and the candidates, round by round: a pure state machine (driven by
/// real processes in [`measure`], by simulated ones in the tests).
pub(crate) struct Rounds {
    pub(crate) looks: Vec<Look>,
    pub(crate) members: Vec<Member>,
    pub(crate) a: Vec<f64>,
    pub(crate) a_peaks: Vec<f64>,
    max_pairs: usize,
}

impl Rounds {
    pub(crate) fn new(looks: Vec<Look>, letters: &[char], max_pairs: usize) -> Rounds {
        Rounds {
            looks,
            members: letters
                .iter()
                .map(|&letter| Member {
                    letter,
                    values: Vec::new(),
                    peaks: Vec::new(),
                    settled: None,
                })
                .collect(),
            a: Vec::new(),
            a_peaks: Vec::new(),
            max_pairs,
        }
    }

    /// The letters of the candidates still undecided.
    pub(crate) fn active(&self) -> Vec<char> {
        self.members
            .iter()
            .filter(|m| m.settled.is_none() && m.values.len() < self.max_pairs)
            .map(|m| m.letter)
            .collect()
    }

    /// Counts one round (A's value and each active candidate's, with
    /// memray's whole-process peaks where there are) and judges every
    /// candidate at its look, if this round completes one.
    pub(crate) fn add(&mut self, values: &[(char, f64, Option<f64>)], threshold: &Threshold) {
        for &(letter, value, peak) in values {
            if letter == 'a' {
                self.a.push(value);
                self.a_peaks.extend(peak);
            } else if let Some(m) = self.members.iter_mut().find(|m| m.letter == letter) {
                m.values.push(value);
                m.peaks.extend(peak);
            }
        }
        for m in self.members.iter_mut().filter(|m| m.settled.is_none()) {
            let n = m.values.len();
            let Some(look) = self.looks.iter().position(|l| l.pairs == n) else {
                continue;
            };
            let last = look + 1 == self.looks.len();
            let analysis = verdict::analyze(
                Samples::Bytes {
                    a: &self.a[..n],
                    b: &m.values,
                },
                threshold,
                self.looks[look].alpha,
                last,
            );
            if analysis.settled {
                let stop = if last { Stop::MaxPairs } else { Stop::Verdict };
                m.settled = Some((look + 1, analysis, stop));
            }
        }
    }

    /// Settles every candidate still open with a final look.
    pub(crate) fn finish(&mut self, threshold: &Threshold, budget_spent: bool) {
        for m in self.members.iter_mut().filter(|m| m.settled.is_none()) {
            let n = m.values.len();
            let taken = self.looks.iter().filter(|l| l.pairs <= n).count();
            let alpha = verdict::remaining_alpha(&self.looks, taken);
            let analysis = verdict::analyze(
                Samples::Bytes {
                    a: &self.a[..n],
                    b: &m.values,
                },
                threshold,
                alpha,
                true,
            );
            let stop = if budget_spent {
                Stop::MaxSeconds
            } else {
                Stop::MaxPairs
            };
            m.settled = Some((taken + 1, analysis, stop));
        }
    }
}

/// The looks for `k` candidates: the first at the fewest pairs whose exact
/// rank test can reach the first look's share of 2 %/k (at least
/// `planned_first`), each look's alpha divided by k.
pub(crate) fn looks(
    planned_first: usize,
    min_pairs: Option<usize>,
    max_pairs: usize,
    k: usize,
) -> Vec<Look> {
    let share = k.max(1) as f64;
    let first = min_pairs.unwrap_or_else(|| {
        stats::mann_whitney_min_n(verdict::FIRST_LOOK_ALPHA / share).max(planned_first)
    });
    verdict::planned_looks(first.min(max_pairs), max_pairs)
        .into_iter()
        .map(|l| Look {
            alpha: l.alpha / share,
            ..l
        })
        .collect()
}

/// Measures every candidate of `timed` against A; each one's measurement.
pub(super) async fn measure(
    ex: &mut PythonExecutor<'_>,
    plan: &Plan,
    timed: &[(char, String)],
    rng: &mut SplitMix64,
    started: Instant,
    budget: Duration,
    say: &(dyn Fn(usize, usize, Event) + Sync),
) -> Result<Vec<(char, Measured)>, RunError> {
    ex.warm_up(None).await?;
    say(ex.started(), 0, Event::WarmedUp { variant: None });
    let letters: Vec<char> = timed.iter().map(|t| t.0).collect();
    let mut rounds = Rounds::new(
        looks(
            plan.looks[0].pairs,
            plan.min_pairs,
            plan.max_pairs,
            timed.len(),
        ),
        &letters,
        plan.max_pairs,
    );
    let mut orders = Vec::<String>::new();
    let measuring = Instant::now();
    let mut budget_spent = false;
    loop {
        let active = rounds.active();
        if active.is_empty() {
            break;
        }
        let done = orders.len();
        let per_round = if done > 0 {
            measuring.elapsed() / done as u32
        } else {
            Duration::ZERO
        };
        if started.elapsed() + per_round > budget {
            budget_spent = true;
            break;
        }
        let mut order: Vec<char> = std::iter::once('a').chain(active).collect();
        rng.shuffle(&mut order);
        let mut values = Vec::new();
        for &letter in &order {
            let single = ex.memory_single(letter).await?;
            values.push((letter, single.value, single.process_peak));
        }
        rounds.add(&values, &plan.threshold);
        orders.push(order.iter().map(char::to_ascii_uppercase).collect());
        say(
            ex.started(),
            orders.len(),
            Event::SingleProcess {
                pair: orders.len(),
                variant: crate::measure::Arm::B,
                value: values.last().map_or(0.0, |v| v.1),
                unit: plan.domain.unit(),
                so_far: None,
            },
        );
    }
    if rounds.a.is_empty() {
        return Err(invalid(format!(
            "max_seconds = {:.1} s was spent before the first round (warm-up included): raise `max_seconds` or make one process faster",
            budget.as_secs_f64()
        )));
    }
    rounds.finish(&plan.threshold, budget_spent);
    let Rounds {
        looks,
        members,
        a,
        a_peaks,
        ..
    } = rounds;
    let mut out = Vec::new();
    for m in members {
        let n = m.values.len();
        let (stopped_at_look, analysis, stopped_because) =
            m.settled.expect("finish settles every member");
        let upper = m.letter.to_ascii_uppercase();
        let outcome = UnpairedOutcome {
            a: a[..n].to_vec(),
            b: m.values,
            peaks: (a_peaks.len() == a.len() && m.peaks.len() == n && n > 0)
                .then(|| (a_peaks[..n].to_vec(), m.peaks)),
            // Each round's order reduced to A and this candidate.
            order: orders[..n]
                .iter()
                .map(|o| {
                    o.chars()
                        .filter_map(|c| match c {
                            'A' => Some('A'),
                            c if c == upper => Some('B'),
                            _ => None,
                        })
                        .collect()
                })
                .collect(),
            stopped_at_look,
            stopped_because,
            analysis,
        };
        let mut measured = Measured::from_unpaired(outcome, plan);
        measured.looks = looks.clone();
        measured.design.first_look_because = format!(
            "{} pairs: the fewest whose exact rank test can reach the first look's {:.2} % ({:.0} % split among {} candidates, Bonferroni)",
            looks[0].pairs,
            looks[0].alpha * 100.0,
            verdict::FIRST_LOOK_ALPHA * 100.0,
            timed.len()
        );
        out.push((m.letter, measured));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    //! The memory family simulated: peaks with 3 % lognormal noise and 5 %
    //! outlier processes at 1.3x (the process design's simulation), A/A
    //! candidates and candidates saving exactly the threshold.

    use super::*;
    use crate::measure::rng::SplitMix64;

    /// One run; whether any candidate was called above_threshold.
    fn run(savings: &[f64], rng: &mut SplitMix64) -> bool {
        let letters: Vec<char> = (0..savings.len())
            .map(crate::template::candidate_letter)
            .collect();
        let threshold = Threshold::memory(10 * crate::domain::MIB, 0.10);
        let mut rounds = Rounds::new(looks(4, None, 30, letters.len()), &letters, 30);
        let peak = |rng: &mut SplitMix64, saving: f64| {
            let outlier = if rng.next_f64() < 0.05 { 1.3 } else { 1.0 };
            100e6 * (1.0 - saving) * (0.03 * rng.normal()).exp() * outlier
        };
        loop {
            let active = rounds.active();
            if active.is_empty() {
                break;
            }
            let mut values = vec![('a', peak(rng, 0.0), None)];
            for l in active {
                let i = (l as u8 - b'b') as usize;
                values.push((l, peak(rng, savings[i]), None));
            }
            rounds.add(&values, &threshold);
        }
        rounds.finish(&threshold, false);
        rounds.members.iter().any(|m| {
            m.settled.as_ref().unwrap().1.verdict == crate::verdict::Verdict::AboveThreshold
        })
    }

    #[test]
    fn simulated_family_wise_error_of_memory_candidates() {
        for k in [1usize, 2, 4, 8] {
            let mut rng = SplitMix64::new(300 + k as u64);
            let trials = 400;
            let null = (0..trials).filter(|_| run(&vec![0.0; k], &mut rng)).count();
            let edge = (0..trials)
                .filter(|_| run(&vec![0.10; k], &mut rng))
                .count();
            let first = looks(4, None, 30, k)[0].pairs;
            println!(
                "memory, {k} candidates (first look at {first} pairs): any A/A above_threshold {:.1} %, any saving exactly 10 % above_threshold {:.1} %",
                null as f64 * 100.0 / trials as f64,
                edge as f64 * 100.0 / trials as f64
            );
            assert!(null as f64 / trials as f64 <= 0.01, "{k}: {null}");
            assert!(edge as f64 / trials as f64 <= 0.05, "{k}: {edge}");
        }
    }

    #[test]
    fn a_clear_saving_among_nulls_is_found_at_the_first_look() {
        let mut rng = SplitMix64::new(9);
        assert_eq!(looks(4, None, 30, 3)[0].pairs, 5);
        for _ in 0..50 {
            let letters = ['b', 'c', 'd'];
            let threshold = Threshold::memory(10 * crate::domain::MIB, 0.10);
            let mut rounds = Rounds::new(looks(4, None, 30, 3), &letters, 30);
            for _ in 0..5 {
                let v =
                    |s: f64, rng: &mut SplitMix64| 100e6 * (1.0 - s) * (0.01 * rng.normal()).exp();
                let values = vec![
                    ('a', v(0.0, &mut rng), None),
                    ('b', v(0.0, &mut rng), None),
                    ('c', v(0.5, &mut rng), None),
                    ('d', v(0.0, &mut rng), None),
                ];
                rounds.add(&values, &threshold);
            }
            let c = rounds.members[1]
                .settled
                .as_ref()
                .expect("settled at the first look");
            assert_eq!(c.1.verdict, crate::verdict::Verdict::AboveThreshold);
        }
    }
}
