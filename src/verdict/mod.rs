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
    /// A and B compute different results on the benchmark's input: nothing was timed, no speed verdict is given.
    DifferentResults,
}

impl Verdict {
    /// The snake_case name used in results and the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::AboveThreshold => "above_threshold",
            Verdict::BelowThreshold => "below_threshold",
            Verdict::Regression => "regression",
            Verdict::Inconclusive => "inconclusive",
            Verdict::DifferentResults => "different_results",
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

/// The analysis of a run that timed nothing because A and B compute
/// different results: no estimate, no bounds, the difference as the reason.
pub fn different_results(difference: &str) -> Analysis {
    Analysis {
        speedup: None,
        gain: None,
        saved_bytes: None,
        saved_fraction: None,
        effective_min_saved_bytes: None,
        confidence: 0.0,
        pairs: 0,
        pairs_b_better: 0,
        verdict: Verdict::DifferentResults,
        reason: format!(
            "A and B compute different results on the script's input, so nothing was timed and no speed verdict is given: {difference}"
        ),
        settled: true,
    }
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
mod tests;
