//! From per-process values to a verdict, at planned looks.
//!
//! - The estimate is the Hodges–Lehmann shift between the A and B samples
//!   (unpaired): of log values for time (so it is a ratio, `speedup = A/B`),
//!   of bytes for memory (`saved_bytes = A - B`). See [`crate::stats`].
//! - The run may stop only at planned looks (min_pairs, then doubling, then
//!   max_pairs). Each look tests at `alpha / looks` one-sided (Bonferroni),
//!   so over the whole run the chance of a false `above_threshold` stays
//!   under `alpha` = 5 %. An extra look forced by the time budget replaces
//!   the remaining planned ones, so the count never grows.
//! - Unpaired Mann–Whitney rather than the paired signed-rank test: with 5
//!   pairs the signed-rank test cannot go below p = 1/32 one-sided, above any
//!   corrected per-look level, so it could never stop at the first look; an
//!   unpaired 5-vs-5 test reaches 1/252. Pairs are still interleaved in fresh
//!   processes, which is what protects against drift.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::Threshold;
use crate::stats::{self, ShiftBounds};

/// Family-wise one-sided error rate for a false verdict over all looks.
pub const FAMILY_ALPHA: f64 = 0.05;
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

/// The pair counts at which the run may stop: `min_pairs`, doubling, then `max_pairs`.
pub fn planned_looks(min_pairs: usize, max_pairs: usize) -> Vec<usize> {
    let mut looks = vec![min_pairs];
    let mut next = min_pairs * 2;
    while next < max_pairs {
        looks.push(next);
        next *= 2;
    }
    if max_pairs > min_pairs {
        looks.push(max_pairs);
    }
    looks
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

/// The comparison at one look.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Analysis {
    /// Time: `A / B` (> 1 means B is faster).
    pub speedup: Option<Estimate>,
    /// Time: `A / B - 1` as a fraction.
    pub gain: Option<Estimate>,
    /// Memory: `A - B` in bytes (> 0 means B uses less).
    pub saved_bytes: Option<Estimate>,
    /// Memory: `(A - B) / A`, using A's median peak.
    pub saved_fraction: Option<Estimate>,
    /// Memory: the threshold in bytes actually tested, `min(min_saved_bytes, min_saved_fraction × median A)`.
    pub effective_min_saved_bytes: Option<f64>,
    /// One-sided confidence of each bound at this look (`1 - 0.05 / looks`).
    pub confidence: f64,
    /// Pairs compared.
    pub pairs: usize,
    /// Pairs in which B's value was lower (better) than A's.
    pub pairs_b_better: usize,
    /// above_threshold | below_threshold | regression | inconclusive.
    pub verdict: Verdict,
    /// Why, in one sentence with the figures.
    pub reason: String,
    /// True when this look settles the run (always true at the final look).
    #[serde(skip)]
    pub settled: bool,
}

/// Analyzes `a` and `b` (per-process values, index i = pair i) at one look.
///
/// `time` selects ratio estimates on log values; otherwise bytes.
/// `final_look` turns "no decision yet" into `inconclusive`.
pub fn analyze(
    time: bool,
    a: &[f64],
    b: &[f64],
    threshold: &Threshold,
    looks: usize,
    final_look: bool,
) -> Analysis {
    let alpha = FAMILY_ALPHA / looks.max(1) as f64;
    let confidence = 1.0 - alpha;
    let pairs = a.len().min(b.len());
    let pairs_b_better = a.iter().zip(b).filter(|(x, y)| y < x).count();
    let won = pairs_b_better as f64 / pairs.max(1) as f64;
    let conf_pct = format!("{:.2} %", confidence * 100.0);

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
    let (s, t, show): (ShiftBounds, f64, Box<dyn Fn(f64) -> String>) = if time {
        let la: Vec<f64> = a.iter().map(|v| v.ln()).collect();
        let lb: Vec<f64> = b.iter().map(|v| v.ln()).collect();
        let s = stats::hodges_lehmann(&la, &lb, alpha);
        analysis.speedup = Some(Estimate::map(s, f64::exp));
        analysis.gain = Some(Estimate::map(s, |v| v.exp() - 1.0));
        let min_gain = threshold.min_gain.unwrap_or(0.2);
        (
            s,
            (1.0 + min_gain).ln(),
            Box::new(|v: f64| format!("{:.3}x", v.exp())),
        )
    } else {
        let s = stats::hodges_lehmann(a, b, alpha);
        let a_median = stats::median(a);
        let t = (threshold.min_saved_bytes.unwrap_or(u64::MAX) as f64)
            .min(threshold.min_saved_fraction.unwrap_or(f64::INFINITY) * a_median);
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
    };
    let what = if time { "speedup" } else { "saving" };

    let (verdict, reason) = if s.upper < 0.0 {
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
    };
    analysis.settled = verdict.is_some();
    analysis.verdict = verdict.unwrap_or(Verdict::Inconclusive);
    analysis.reason = reason;
    analysis
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    #[test]
    fn looks_double_up_to_the_budget() {
        assert_eq!(planned_looks(5, 30), [5, 10, 20, 30]);
        assert_eq!(planned_looks(5, 5), [5]);
        assert_eq!(planned_looks(5, 200), [5, 10, 20, 40, 80, 160, 200]);
        assert_eq!(planned_looks(8, 16), [8, 16]);
    }

    #[test]
    fn clear_cases() {
        let th = Threshold::time(0.2);
        let a = [2.0, 2.02, 1.98, 2.01, 1.99];
        let b = [1.0, 1.01, 0.99, 1.02, 0.98];
        let an = analyze(true, &a, &b, &th, 4, false);
        assert_eq!(an.verdict, Verdict::AboveThreshold, "{}", an.reason);
        assert!((an.speedup.unwrap().estimate - 2.0).abs() < 0.05);
        let an = analyze(true, &b, &a, &th, 4, false);
        assert_eq!(an.verdict, Verdict::Regression, "{}", an.reason);
        let an = analyze(true, &a, &a, &th, 4, false);
        assert_eq!(an.verdict, Verdict::BelowThreshold, "{}", an.reason);
    }

    #[test]
    fn memory_uses_the_smaller_of_bytes_and_fraction() {
        let th = Threshold::memory(10 * 1_048_576, 0.10);
        let a = [60e6; 5];
        let b = [60e6 - 7e6; 5]; // 7 MB saved: under 10 MiB, but 11.7 % of A
        let an = analyze(false, &a, &b, &th, 4, false);
        assert_eq!(an.verdict, Verdict::AboveThreshold, "{}", an.reason);
        assert_eq!(an.effective_min_saved_bytes, Some(6e6));
        let an = analyze(false, &a, &a, &th, 4, false);
        assert_eq!(an.verdict, Verdict::BelowThreshold, "{}", an.reason);
    }

    /// One simulated run: lognormal per-process noise, occasional outliers,
    /// optional linear drift over the session, interleaved random order.
    struct Sim {
        true_speedup: f64,
        noise_sd: f64,
        drift: f64,
        min_gain: f64,
    }

    impl Sim {
        fn run(&self, rng: &mut SplitMix64) -> (Option<Verdict>, usize) {
            let looks = planned_looks(5, 30);
            let th = Threshold::time(self.min_gain);
            let (mut a, mut b) = (Vec::new(), Vec::new());
            let total = 60.0;
            let mut slot = 0.0;
            let draw = |base: f64, slot: f64, rng: &mut SplitMix64| {
                let outlier = if rng.next_f64() < 0.05 { 1.3 } else { 1.0 };
                base * (self.noise_sd * rng.normal()).exp()
                    * outlier
                    * (1.0 + self.drift * slot / total)
            };
            for (i, &look) in looks.iter().enumerate() {
                while a.len() < look {
                    let (first_a, s) = (rng.coin(), slot);
                    slot += 2.0;
                    let (ta, tb) = if first_a { (s, s + 1.0) } else { (s + 1.0, s) };
                    a.push(draw(1.0, ta, rng));
                    b.push(draw(1.0 / self.true_speedup, tb, rng));
                }
                let an = analyze(true, &a, &b, &th, looks.len(), i + 1 == looks.len());
                if an.settled {
                    return (Some(an.verdict), a.len());
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
                wins += usize::from(v == Some(Verdict::AboveThreshold));
                pairs += n;
            }
            (wins as f64 / trials as f64, pairs as f64 / trials as f64)
        }
    }

    #[test]
    fn simulated_error_rates_and_power() {
        let case = |name: &str, sim: Sim, seed: u64| {
            let (rate, pairs) = sim.rate(1000, seed);
            println!(
                "{name}: above_threshold in {:.1} % of 1000 runs, mean {pairs:.1} pairs",
                rate * 100.0
            );
            (rate, pairs)
        };
        let base = |true_speedup: f64| Sim {
            true_speedup,
            noise_sd: 0.03,
            drift: 0.0,
            min_gain: 0.2,
        };
        let (aa, aa_pairs) = case("A/A, 20 % threshold", base(1.0), 1);
        assert!(aa <= 0.01);
        assert!(aa_pairs < 7.0, "A/A settles (below_threshold) early");
        let (g10, _) = case("true gain 10 %, 20 % threshold", base(1.1), 2);
        assert!(g10 <= 0.05);
        let (g20, _) = case("true gain exactly 20 %, 20 % threshold", base(1.2), 3);
        assert!(g20 <= 0.05);
        let (g40, g40_pairs) = case("true gain 40 %, 3 % noise", base(1.4), 4);
        assert!(g40 >= 0.95);
        assert!(g40_pairs <= 10.0);
        let drift = Sim {
            true_speedup: 1.0,
            noise_sd: 0.03,
            drift: 0.10,
            min_gain: 0.05,
        };
        let (dr, _) = case("A/A with 10 % linear drift, 5 % threshold", drift, 5);
        assert!(dr <= 0.01);
        let (two, two_pairs) = case("true 2x", base(2.0), 6);
        assert!(two >= 0.99 && two_pairs <= 8.0);
    }
}
