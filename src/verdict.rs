//! From per-process values to a verdict, at planned looks.
//!
//! - The estimate is a Hodges–Lehmann shift (see [`crate::stats`]). Time
//!   domains work on log values, so the shift is a ratio (`speedup = A/B`):
//!   paired (one `ln(A/B)` per process that ran both variants, Walsh
//!   averages and the signed-rank test) or unpaired (one variant per
//!   process, the Mann–Whitney test). Memory compares bytes, unpaired
//!   (`saved_bytes = A - B`).
//! - The run may stop only at planned looks (the first look, then doubling,
//!   then `max_pairs`). Each look tests one-sided at its own share of the
//!   family's 5 % (Bonferroni with unequal weights: 2 % at the first look,
//!   the remaining 3 % split evenly over the others), so over the whole run
//!   the chance of a false `above_threshold` stays under 5 %. The first look
//!   gets the larger share because it is where clear answers are taken, and
//!   it lets the smallest exact tests decide there: 6 paired processes
//!   (p = 1/64) or 4 against 4 unpaired (p = 1/70). A look forced by the time
//!   budget replaces the planned looks still ahead and spends their share.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::{Bar, Threshold, DEFAULT_MIN_GAIN};
use crate::stats::{self, ShiftBounds};

/// Family-wise one-sided error rate for a false verdict over all looks.
pub const FAMILY_ALPHA: f64 = 0.05;
/// The first look's share of [`FAMILY_ALPHA`] when there are later looks.
pub const FIRST_LOOK_ALPHA: f64 = 0.02;
/// Share of pairs B must win for `above_threshold`.
pub const MIN_B_WIN_SHARE: f64 = 0.8;

/// What the statistics say about B against A.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The lower bound clears the threshold and B won >= 80 % of pairs.
    AboveThreshold,
    /// The upper bound is under the threshold: too small to keep on the micro alone.
    BelowThreshold,
    /// B is significantly worse than A.
    Regression,
    /// The budget ran out with the interval straddling the threshold.
    Inconclusive,
}

impl Verdict {
    /// The snake_case name used in results and the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::AboveThreshold => "above_threshold",
            Verdict::BelowThreshold => "below_threshold",
            Verdict::Regression => "regression",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// One planned look: after how many pairs, at which one-sided level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Look {
    /// Pairs (paired design: processes) measured when the look is taken.
    pub pairs: usize,
    /// One-sided error rate spent at this look.
    pub alpha: f64,
}

/// The looks at which a run may stop: `first`, doubling, then `max`, with
/// the family's error rate spent as the module doc says.
pub fn planned_looks(first: usize, max: usize) -> Vec<Look> {
    let mut sizes = vec![first];
    let mut next = first * 2;
    while next < max {
        sizes.push(next);
        next *= 2;
    }
    if max > first {
        sizes.push(max);
    }
    let later = sizes.len() - 1;
    sizes
        .iter()
        .enumerate()
        .map(|(i, &pairs)| Look {
            pairs,
            alpha: match (later, i) {
                (0, _) => FAMILY_ALPHA,
                (_, 0) => FIRST_LOOK_ALPHA,
                _ => (FAMILY_ALPHA - FIRST_LOOK_ALPHA) / later as f64,
            },
        })
        .collect()
}

/// The level of a look forced by the budget after `taken` planned looks:
/// the share of every planned look it replaces.
pub fn remaining_alpha(looks: &[Look], taken: usize) -> f64 {
    looks[taken.min(looks.len() - 1)..]
        .iter()
        .map(|l| l.alpha)
        .sum()
}

/// A point estimate with its bounds, in the unit of the quantity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Estimate {
    /// Hodges–Lehmann point estimate.
    pub estimate: f64,
    /// Lower bound (null when the samples are too small to bound it).
    pub low: Option<f64>,
    /// Upper bound (null when the samples are too small to bound it).
    pub high: Option<f64>,
}

impl Estimate {
    /// `estimate  [low .. high]`, each figure through `f`; a missing bound reads "unbounded".
    pub fn show(&self, f: impl Fn(f64) -> String) -> String {
        let bound = |b: Option<f64>| b.map(&f).unwrap_or_else(|| "unbounded".into());
        format!(
            "{}  [{} .. {}]",
            f(self.estimate),
            bound(self.low),
            bound(self.high)
        )
    }

    fn map(b: ShiftBounds, f: impl Fn(f64) -> f64) -> Self {
        let finite = |v: f64| if v.is_finite() { Some(f(v)) } else { None };
        Estimate {
            estimate: f(b.estimate),
            low: finite(b.lower),
            high: finite(b.upper),
        }
    }
}

/// The per-process values one look compares.
#[derive(Debug, Clone, Copy)]
pub enum Samples<'a> {
    /// Time, both variants in every process: `ln(A / B)` of each process.
    Paired {
        /// One log-ratio per process.
        log_ratios: &'a [f64],
    },
    /// Time, one variant per process: seconds of A and of B (index i = pair i).
    Unpaired {
        /// A's values.
        a: &'a [f64],
        /// B's values.
        b: &'a [f64],
    },
    /// Memory, one variant per process: bytes of A and of B.
    Bytes {
        /// A's values.
        a: &'a [f64],
        /// B's values.
        b: &'a [f64],
    },
}

/// The comparison at one look.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Analysis {
    /// Time: `A / B` (> 1 means B is faster).
    pub speedup: Option<Estimate>,
    /// Time: `A / B - 1` as a fraction.
    pub gain: Option<Estimate>,
    /// Memory: `A - B` in bytes (> 0 means B uses less), of the variants' own peaks.
    pub saved_bytes: Option<Estimate>,
    /// Memory: `(A - B) / A`, using the median of A's own peak (the figure the threshold tests).
    pub saved_fraction: Option<Estimate>,
    /// Memory: the threshold in bytes actually tested, `min(min_saved_bytes, min_saved_fraction × median A)`.
    pub effective_min_saved_bytes: Option<f64>,
    /// One-sided confidence of each bound at this look (`1 -` the look's share of 5 %).
    pub confidence: f64,
    /// Pairs compared (paired design: processes, each measuring both variants).
    pub pairs: usize,
    /// Pairs in which B was better (lower) than A.
    pub pairs_b_better: usize,
    /// above_threshold | below_threshold | regression | inconclusive.
    pub verdict: Verdict,
    /// Why, in one sentence with the figures.
    pub reason: String,
    /// True when this look settles the run (always true at the final look).
    #[serde(skip)]
    pub settled: bool,
}

/// Analyzes one look at level `alpha` (one-sided, each bound).
/// `final_look` turns "no decision yet" into `inconclusive`.
pub fn analyze(samples: Samples, threshold: &Threshold, alpha: f64, final_look: bool) -> Analysis {
    let confidence = 1.0 - alpha;
    let conf_pct = format!("{:.2} %", confidence * 100.0);
    let (pairs, pairs_b_better) = match samples {
        Samples::Paired { log_ratios } => (
            log_ratios.len(),
            log_ratios.iter().filter(|&&r| r > 0.0).count(),
        ),
        Samples::Unpaired { a, b } | Samples::Bytes { a, b } => (
            a.len().min(b.len()),
            a.iter().zip(b).filter(|(x, y)| y < x).count(),
        ),
    };
    let mut analysis = Analysis {
        speedup: None,
        gain: None,
        saved_bytes: None,
        saved_fraction: None,
        effective_min_saved_bytes: None,
        confidence,
        pairs,
        pairs_b_better,
        verdict: Verdict::Inconclusive,
        reason: String::new(),
        settled: false,
    };

    // Everything below is phrased on one shift `s` (B better when s > 0)
    // against one limit `t`, with a formatter for the human figures.
    let (s, t, show) = shift(samples, threshold, alpha, &mut analysis);
    let what = if matches!(samples, Samples::Bytes { .. }) {
        "saving"
    } else {
        "speedup"
    };
    let (verdict, reason) = judge(
        &Reading {
            s,
            t,
            what,
            conf_pct: &conf_pct,
            pairs,
            pairs_b_better,
            final_look,
        },
        &*show,
    );
    analysis.settled = verdict.is_some();
    analysis.verdict = verdict.unwrap_or(Verdict::Inconclusive);
    analysis.reason = reason;
    analysis
}

/// The shift of B against A with its bounds at `alpha`, the limit it must
/// clear, and how to show a shift to people; the estimates go into `analysis`.
#[allow(clippy::type_complexity)]
fn shift(
    samples: Samples,
    threshold: &Threshold,
    alpha: f64,
    analysis: &mut Analysis,
) -> (ShiftBounds, f64, Box<dyn Fn(f64) -> String>) {
    let ratio = |analysis: &mut Analysis, s: ShiftBounds| {
        analysis.speedup = Some(Estimate::map(s, f64::exp));
        analysis.gain = Some(Estimate::map(s, |v| v.exp() - 1.0));
    };
    let time_limit = match threshold.bar {
        Bar::Gain(g) => (1.0 + g).ln(),
        // Plans never pair time samples with a memory bar; if one did, the default gain.
        Bar::Saving { .. } => (1.0 + DEFAULT_MIN_GAIN).ln(),
    };
    let show_ratio: Box<dyn Fn(f64) -> String> = Box::new(|v: f64| format!("{:.3}x", v.exp()));
    match samples {
        Samples::Paired { log_ratios } => {
            let s = stats::hodges_lehmann_paired(log_ratios, alpha);
            ratio(analysis, s);
            (s, time_limit, show_ratio)
        }
        Samples::Unpaired { a, b } => {
            let la: Vec<f64> = a.iter().map(|v| v.ln()).collect();
            let lb: Vec<f64> = b.iter().map(|v| v.ln()).collect();
            let s = stats::hodges_lehmann(&la, &lb, alpha);
            ratio(analysis, s);
            (s, time_limit, show_ratio)
        }
        Samples::Bytes { a, b } => {
            let s = stats::hodges_lehmann(a, b, alpha);
            let a_median = stats::median(a);
            let t = match threshold.bar {
                Bar::Saving { bytes, fraction } => (bytes as f64).min(fraction * a_median),
                // Plans never pair byte samples with a time bar; if one did, nothing passes.
                Bar::Gain(_) => f64::INFINITY,
            };
            analysis.saved_bytes = Some(Estimate::map(s, |v| v));
            analysis.saved_fraction = Some(Estimate::map(s, |v| v / a_median));
            analysis.effective_min_saved_bytes = Some(t);
            (
                s,
                t,
                Box::new(move |v: f64| {
                    format!(
                        "{:.2} MiB ({:.1} % of A)",
                        v / crate::domain::MIB as f64,
                        100.0 * v / a_median
                    )
                }),
            )
        }
    }
}

/// One look's shift and what it is compared with, for [`judge`].
struct Reading<'a> {
    /// The shift (B better when > 0) with its bounds.
    s: ShiftBounds,
    /// The limit it must clear.
    t: f64,
    /// "speedup" or "saving".
    what: &'a str,
    /// The confidence, e.g. "97.00 %".
    conf_pct: &'a str,
    pairs: usize,
    pairs_b_better: usize,
    final_look: bool,
}

/// The verdict of one look (`None`: undecided before the last) and its reason.
fn judge(r: &Reading, show: &dyn Fn(f64) -> String) -> (Option<Verdict>, String) {
    let Reading {
        s,
        t,
        what,
        conf_pct,
        pairs,
        pairs_b_better,
        final_look,
    } = *r;
    let won = pairs_b_better as f64 / pairs.max(1) as f64;
    if s.upper < 0.0 {
        (
            Some(Verdict::Regression),
            format!(
                "B is worse than A: the upper bound of the {what}, {}, is below {} at {conf_pct} confidence",
                show(s.upper),
                show(0.0)
            ),
        )
    } else if s.upper < t {
        (
            Some(Verdict::BelowThreshold),
            format!(
                "the {what} is at most {} at {conf_pct} confidence (estimate {}), under the threshold {}: too small to keep on the micro-benchmark alone",
                show(s.upper),
                show(s.estimate),
                show(t)
            ),
        )
    } else if s.lower > t && won >= MIN_B_WIN_SHARE {
        (
            Some(Verdict::AboveThreshold),
            format!(
                "the {what} is at least {} at {conf_pct} confidence (estimate {}), above the threshold {}, and B won {pairs_b_better} of {pairs} pairs",
                show(s.lower),
                show(s.estimate),
                show(t)
            ),
        )
    } else if !final_look {
        (None, format!("undecided after {pairs} pairs"))
    } else if s.lower > t {
        (
            Some(Verdict::Inconclusive),
            format!(
                "the {what}'s lower bound {} clears the threshold {}, but B won only {pairs_b_better} of {pairs} pairs (needs {:.0} %): the improvement is not repeatable enough",
                show(s.lower),
                show(t),
                MIN_B_WIN_SHARE * 100.0
            ),
        )
    } else {
        let bound = |v: f64| {
            if v.is_finite() {
                show(v)
            } else {
                "unbounded".to_string()
            }
        };
        (
            Some(Verdict::Inconclusive),
            format!(
                "after {pairs} pairs the {what}'s interval {} to {} ({conf_pct} each side) still straddles the threshold {}: more pairs or less noise are needed",
                bound(s.lower),
                bound(s.upper),
                show(t)
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    fn sizes(looks: &[Look]) -> Vec<usize> {
        looks.iter().map(|l| l.pairs).collect()
    }

    #[test]
    fn looks_double_up_to_the_budget_and_spend_five_percent() {
        assert_eq!(sizes(&planned_looks(5, 30)), [5, 10, 20, 30]);
        assert_eq!(sizes(&planned_looks(6, 30)), [6, 12, 24, 30]);
        assert_eq!(sizes(&planned_looks(5, 200)), [5, 10, 20, 40, 80, 160, 200]);
        assert_eq!(sizes(&planned_looks(8, 16)), [8, 16]);
        let one = planned_looks(5, 5);
        assert_eq!((sizes(&one), one[0].alpha), (vec![5], 0.05));
        for (first, max) in [(4, 30), (6, 30), (5, 200), (8, 16)] {
            let looks = planned_looks(first, max);
            let total: f64 = looks.iter().map(|l| l.alpha).sum();
            assert!((total - FAMILY_ALPHA).abs() < 1e-12, "{looks:?}");
            assert_eq!(looks[0].alpha, FIRST_LOOK_ALPHA);
        }
        let looks = planned_looks(6, 30);
        assert!((remaining_alpha(&looks, 2) - 0.02).abs() < 1e-12);
        assert!((remaining_alpha(&looks, 4) - 0.01).abs() < 1e-12);
        // The first look is decidable for the smallest exact tests.
        assert!(stats::signed_rank_min_n(FIRST_LOOK_ALPHA) <= 6);
        assert!(stats::mann_whitney_min_n(FIRST_LOOK_ALPHA) <= 4);
    }

    #[test]
    fn clear_cases() {
        let th = Threshold::time(0.2);
        let a = [2.0, 2.02, 1.98, 2.01, 1.99];
        let b = [1.0, 1.01, 0.99, 1.02, 0.98];
        let an = analyze(Samples::Unpaired { a: &a, b: &b }, &th, 0.02, false);
        assert_eq!(an.verdict, Verdict::AboveThreshold, "{}", an.reason);
        assert!((an.speedup.unwrap().estimate - 2.0).abs() < 0.05);
        let an = analyze(Samples::Unpaired { a: &b, b: &a }, &th, 0.02, false);
        assert_eq!(an.verdict, Verdict::Regression, "{}", an.reason);
        let an = analyze(Samples::Unpaired { a: &a, b: &a }, &th, 0.02, false);
        assert_eq!(an.verdict, Verdict::BelowThreshold, "{}", an.reason);

        let two = [0.69, 0.70, 0.68, 0.71, 0.69, 0.70];
        let an = analyze(Samples::Paired { log_ratios: &two }, &th, 0.02, false);
        assert_eq!(an.verdict, Verdict::AboveThreshold, "{}", an.reason);
        assert!((an.speedup.unwrap().estimate - 2.0).abs() < 0.02);
        assert_eq!((an.pairs, an.pairs_b_better), (6, 6));
        let null = [0.01, -0.02, 0.0, 0.015, -0.01, 0.005];
        let an = analyze(Samples::Paired { log_ratios: &null }, &th, 0.02, false);
        assert_eq!(an.verdict, Verdict::BelowThreshold, "{}", an.reason);
        let worse: Vec<f64> = two.iter().map(|v| -v).collect();
        let an = analyze(Samples::Paired { log_ratios: &worse }, &th, 0.02, false);
        assert_eq!(an.verdict, Verdict::Regression, "{}", an.reason);
        // Five processes cannot decide at 2 %: the run must go on.
        let an = analyze(
            Samples::Paired {
                log_ratios: &two[..5],
            },
            &th,
            0.02,
            false,
        );
        assert!(!an.settled, "{}", an.reason);
    }

    #[test]
    fn memory_uses_the_smaller_of_bytes_and_fraction() {
        let th = Threshold::memory(10 * 1_048_576, 0.10);
        let a = [60e6; 4];
        let b = [60e6 - 7e6; 4]; // 7 MB saved: under 10 MiB, but 11.7 % of A
        let an = analyze(Samples::Bytes { a: &a, b: &b }, &th, 0.02, false);
        assert_eq!(an.verdict, Verdict::AboveThreshold, "{}", an.reason);
        assert_eq!(an.effective_min_saved_bytes, Some(6e6));
        let an = analyze(Samples::Bytes { a: &a, b: &a }, &th, 0.02, false);
        assert_eq!(an.verdict, Verdict::BelowThreshold, "{}", an.reason);
    }

    /// One simulated run of either design. Unpaired: lognormal per-process
    /// noise on each value, 5 % outliers at 1.3x, optional linear drift,
    /// interleaved random order. Paired: one log-ratio per process with a
    /// between-process effect, within-process noise, and 5 % outlier
    /// processes whose ratio is off by a symmetric burst.
    struct Sim {
        true_speedup: f64,
        /// Unpaired: per-value sd (log). Paired: per-process sd (log).
        noise_sd: f64,
        drift: f64,
        min_gain: f64,
        paired: bool,
    }

    impl Sim {
        fn run(&self, rng: &mut SplitMix64) -> (Verdict, usize) {
            let first = if self.paired { 6 } else { 5 };
            let looks = planned_looks(first, 30);
            let th = Threshold::time(self.min_gain);
            let (mut a, mut b, mut d) = (Vec::new(), Vec::new(), Vec::new());
            let total = 60.0;
            let mut slot = 0.0;
            let draw = |base: f64, slot: f64, rng: &mut SplitMix64| {
                let outlier = if rng.next_f64() < 0.05 { 1.3 } else { 1.0 };
                base * (self.noise_sd * rng.normal()).exp()
                    * outlier
                    * (1.0 + self.drift * slot / total)
            };
            for (i, look) in looks.iter().enumerate() {
                let last = i + 1 == looks.len();
                let an = if self.paired {
                    while d.len() < look.pairs {
                        let burst = if rng.next_f64() < 0.05 {
                            0.2 * rng.normal()
                        } else {
                            0.0
                        };
                        d.push(self.true_speedup.ln() + self.noise_sd * rng.normal() + burst);
                    }
                    analyze(Samples::Paired { log_ratios: &d }, &th, look.alpha, last)
                } else {
                    while a.len() < look.pairs {
                        let (first_a, s) = (rng.coin(), slot);
                        slot += 2.0;
                        let (ta, tb) = if first_a { (s, s + 1.0) } else { (s + 1.0, s) };
                        a.push(draw(1.0, ta, rng));
                        b.push(draw(1.0 / self.true_speedup, tb, rng));
                    }
                    analyze(Samples::Unpaired { a: &a, b: &b }, &th, look.alpha, last)
                };
                if an.settled {
                    return (an.verdict, an.pairs);
                }
            }
            unreachable!("the final look always decides")
        }

        /// (share of runs declaring above_threshold, mean pairs)
        fn rate(&self, trials: usize, seed: u64) -> (f64, f64) {
            let mut rng = SplitMix64::new(seed);
            let (mut wins, mut pairs) = (0, 0);
            for _ in 0..trials {
                let (v, n) = self.run(&mut rng);
                wins += usize::from(v == Verdict::AboveThreshold);
                pairs += n;
            }
            (wins as f64 / trials as f64, pairs as f64 / trials as f64)
        }
    }

    fn case(name: &str, sim: Sim, seed: u64) -> (f64, f64) {
        let (rate, pairs) = sim.rate(2000, seed);
        println!(
            "{name}: above_threshold in {:.2} % of 2000 runs, mean {pairs:.1} pairs",
            rate * 100.0
        );
        (rate, pairs)
    }

    #[test]
    fn simulated_error_rates_and_power_unpaired() {
        let base = |true_speedup: f64| Sim {
            true_speedup,
            noise_sd: 0.03,
            drift: 0.0,
            min_gain: 0.2,
            paired: false,
        };
        let (aa, aa_pairs) = case("unpaired A/A, 20 % threshold", base(1.0), 1);
        assert!(aa <= 0.01);
        assert!(aa_pairs < 7.0, "A/A settles (below_threshold) early");
        let (g10, _) = case("unpaired gain 10 %", base(1.1), 2);
        assert!(g10 <= 0.05);
        let (g20, _) = case("unpaired gain exactly 20 %", base(1.2), 3);
        assert!(g20 <= 0.05);
        let (g40, g40_pairs) = case("unpaired gain 40 %, 3 % noise", base(1.4), 4);
        assert!(g40 >= 0.95);
        assert!(g40_pairs <= 10.0);
        let drift = Sim {
            true_speedup: 1.0,
            noise_sd: 0.03,
            drift: 0.10,
            min_gain: 0.05,
            paired: false,
        };
        let (dr, _) = case(
            "unpaired A/A with 10 % linear drift, 5 % threshold",
            drift,
            5,
        );
        assert!(dr <= 0.01);
        let (two, two_pairs) = case("unpaired 2x", base(2.0), 6);
        assert!(two >= 0.99 && two_pairs <= 8.0);
    }

    /// The paired design at the per-process spread measured on real code
    /// here (sd of ln(A/B) across fresh processes 1-5 %; 8 % as a noisy case).
    #[test]
    fn simulated_error_rates_and_power_paired() {
        let sim = |true_speedup: f64, noise_sd: f64| Sim {
            true_speedup,
            noise_sd,
            drift: 0.0,
            min_gain: 0.2,
            paired: true,
        };
        for (sd, seed) in [(0.03, 10), (0.08, 20)] {
            let (aa, aa_pairs) = case(&format!("paired A/A, sd {sd}"), sim(1.0, sd), seed);
            assert!(aa == 0.0 && aa_pairs < 7.0, "{aa} {aa_pairs}");
            let (g15, _) = case(
                &format!("paired gain 15 %, sd {sd}"),
                sim(1.15, sd),
                seed + 1,
            );
            assert!(g15 <= 0.01, "{g15}");
            let (g20, _) = case(
                &format!("paired gain exactly 20 %, sd {sd}"),
                sim(1.2, sd),
                seed + 2,
            );
            assert!(g20 <= 0.05, "{g20}");
            let (g45, g45_pairs) = case(
                &format!("paired gain 45 %, sd {sd}"),
                sim(1.45, sd),
                seed + 3,
            );
            assert!(g45 >= 0.9, "{g45}");
            if sd < 0.05 {
                assert!(g45_pairs <= 8.0, "{g45_pairs}");
            }
            let (two, two_pairs) = case(&format!("paired 2x, sd {sd}"), sim(2.0, sd), seed + 4);
            assert!(two >= 0.99 && two_pairs <= 8.0, "{two} {two_pairs}");
        }
    }
}
