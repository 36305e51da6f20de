//! Distribution-free statistics for A/B verdicts. Pure functions over slices.
//!
//! Two estimates, each with one-sided bounds read from order statistics at
//! an exact critical value, so that a bound beyond a threshold is exactly the
//! matching rank test rejecting "the shift is at most the threshold" and
//! verdicts and intervals never disagree:
//!
//! - two independent samples ([`hodges_lehmann`]): the median of all
//!   pairwise differences `x_i - y_j`, bounds at the exact Mann–Whitney
//!   critical value (one variant per process);
//! - one sample of paired differences ([`hodges_lehmann_paired`]): the
//!   median of the Walsh averages `(d_i + d_j) / 2`, bounds at the exact
//!   Wilcoxon signed-rank critical value (both variants in each process).
//!
//! Why this and not a t-interval or a bootstrap: per-process timings are
//! skewed and carry outliers (a noisy neighbour, a page-cache miss); ranks
//! are unmoved by them, and the exact null distribution keeps the error
//! rate honest at 5 samples, where a bootstrap has nothing to resample.

/// Count, centre and spread of one arm's values.
#[derive(
    Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Summary {
    /// Number of values.
    pub n: usize,
    /// Median.
    pub median: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Sample standard deviation (n - 1); 0 for n < 2.
    pub stdev: f64,
    /// Coefficient of variation, stdev / mean; 0 when the mean is 0.
    pub cv: f64,
}

/// Median of a slice (any order); NaN for an empty slice.
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    median_sorted(&v)
}

fn median_sorted(v: &[f64]) -> f64 {
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Summarizes `values`; all fields NaN (n = 0) for an empty slice.
pub fn summarize(values: &[f64]) -> Summary {
    let n = values.len();
    if n == 0 {
        return Summary {
            n,
            median: f64::NAN,
            mean: f64::NAN,
            min: f64::NAN,
            max: f64::NAN,
            stdev: f64::NAN,
            cv: f64::NAN,
        };
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let stdev = if n < 2 {
        0.0
    } else {
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    };
    Summary {
        n,
        median: median(values),
        mean,
        min: values.iter().copied().fold(f64::INFINITY, f64::min),
        max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        stdev,
        cv: if mean != 0.0 { stdev / mean.abs() } else { 0.0 },
    }
}

/// Exact null distribution of the Mann–Whitney U statistic for samples of
/// sizes `m` and `n`: `cdf[u] = P(U <= u)` for u = 0..=m·n.
///
/// The counts are the coefficients of the Gaussian binomial
/// `[m+n choose m]_q = prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i)`, built one
/// factor at a time in O(m · m·n). f64 holds C(400, 200) ≈ 1e119 easily.
pub fn mann_whitney_cdf(m: usize, n: usize) -> Vec<f64> {
    let top = m * n;
    let mut poly = vec![0.0f64; top + 1];
    poly[0] = 1.0;
    for i in 1..=m {
        // multiply by (1 - q^(n+i)), highest degree first
        let k = n + i;
        for u in (k..=top).rev() {
            poly[u] -= poly[u - k];
        }
        // divide by (1 - q^i): a running sum with stride i
        for u in i..=top {
            poly[u] += poly[u - i];
        }
    }
    let total: f64 = poly.iter().sum();
    let mut acc = 0.0;
    poly.iter()
        .map(|c| {
            acc += c.max(0.0);
            (acc / total).min(1.0)
        })
        .collect()
}

/// The rank of the order statistic that gives a one-sided bound at level
/// `1 - alpha`: the largest k with `P(U <= k - 1) <= alpha`, or 0 when even
/// the most extreme arrangement is more likely than `alpha` (no bound).
pub fn critical_rank(m: usize, n: usize, alpha: f64) -> usize {
    let cdf = mann_whitney_cdf(m, n);
    // cdf[k - 1] <= alpha  <=>  k - 1 < (number of u with cdf[u] <= alpha)
    cdf.iter().take_while(|&&p| p <= alpha).count()
}

/// A shift estimate with one-sided bounds (each at the same level).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShiftBounds {
    /// Hodges–Lehmann estimate: the median of all `x_i - y_j`.
    pub estimate: f64,
    /// Lower bound; `-inf` when the samples are too small for the level.
    pub lower: f64,
    /// Upper bound; `+inf` when the samples are too small for the level.
    pub upper: f64,
}

/// Hodges–Lehmann shift of `x` over `y` (how much larger x is), with lower
/// and upper bounds each holding with probability at least `1 - alpha`.
pub fn hodges_lehmann(x: &[f64], y: &[f64], alpha: f64) -> ShiftBounds {
    let (m, n) = (x.len(), y.len());
    assert!(m > 0 && n > 0, "hodges_lehmann needs two non-empty samples");
    let mut d: Vec<f64> = x
        .iter()
        .flat_map(|xi| y.iter().map(move |yj| xi - yj))
        .collect();
    d.sort_by(f64::total_cmp);
    let k = critical_rank(m, n, alpha);
    let (lower, upper) = if k == 0 {
        (f64::NEG_INFINITY, f64::INFINITY)
    } else {
        (d[k - 1], d[d.len() - k])
    };
    ShiftBounds {
        estimate: median_sorted(&d),
        lower,
        upper,
    }
}

/// Exact null distribution of the Wilcoxon signed-rank statistic `W+` for
/// `n` non-zero differences: `cdf[w] = P(W+ <= w)` for w = 0..=n(n+1)/2.
///
/// The counts are the coefficients of `prod_{i=1..n} (1 + q^i)`: each rank
/// is in the positive sum or not, with probability 1/2 each under the null.
/// f64 holds 2^200 ≈ 1.6e60 exactly enough for every level used here.
pub fn signed_rank_cdf(n: usize) -> Vec<f64> {
    let top = n * (n + 1) / 2;
    let mut poly = vec![0.0f64; top + 1];
    poly[0] = 1.0;
    for i in 1..=n {
        let reach = i * (i + 1) / 2;
        for w in (i..=reach).rev() {
            poly[w] += poly[w - i];
        }
    }
    let total = 2f64.powi(n as i32);
    let mut acc = 0.0;
    poly.iter()
        .map(|c| {
            acc += c;
            (acc / total).min(1.0)
        })
        .collect()
}

/// The paired analogue of [`critical_rank`]: the largest k with
/// `P(W+ <= k - 1) <= alpha` for `n` differences, or 0 (no bound).
pub fn signed_rank_critical(n: usize, alpha: f64) -> usize {
    signed_rank_cdf(n)
        .iter()
        .take_while(|&&p| p <= alpha)
        .count()
}

/// The smallest number of paired differences whose exact signed-rank test
/// can reach `alpha` at all (every difference on one side: p = 2^-n).
pub fn signed_rank_min_n(alpha: f64) -> usize {
    (1..=64)
        .find(|&n| 0.5f64.powi(n as i32) <= alpha)
        .unwrap_or(64)
}

/// The smallest m for an m-vs-m Mann–Whitney test that can reach `alpha`
/// (the two samples completely separated: p = 1 / C(2m, m)).
pub fn mann_whitney_min_n(alpha: f64) -> usize {
    (1..=64)
        .find(|&m| mann_whitney_cdf(m, m)[0] <= alpha)
        .unwrap_or(64)
}

/// Hodges–Lehmann estimate of the centre of the paired differences `d`
/// (the median of the Walsh averages), with lower and upper bounds each
/// holding with probability at least `1 - alpha` when the differences are
/// independent and symmetric about that centre.
pub fn hodges_lehmann_paired(d: &[f64], alpha: f64) -> ShiftBounds {
    let n = d.len();
    assert!(n > 0, "hodges_lehmann_paired needs at least one difference");
    let mut walsh: Vec<f64> = (0..n)
        .flat_map(|i| (i..n).map(move |j| (d[i] + d[j]) / 2.0))
        .collect();
    walsh.sort_by(f64::total_cmp);
    let k = signed_rank_critical(n, alpha);
    let (lower, upper) = if k == 0 {
        (f64::NEG_INFINITY, f64::INFINITY)
    } else {
        (walsh[k - 1], walsh[walsh.len() - k])
    };
    ShiftBounds {
        estimate: median_sorted(&walsh),
        lower,
        upper,
    }
}

/// A robust standard deviation: 1.4826 × the median absolute deviation
/// (equal to the standard deviation for normal data, unmoved by outliers).
pub fn robust_sd(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let m = median(values);
    let dev: Vec<f64> = values.iter().map(|v| (v - m).abs()).collect();
    1.4826 * median(&dev)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// P(U <= u) by enumerating every arrangement of m x's among m+n slots.
    fn brute_force_cdf(m: usize, n: usize) -> Vec<f64> {
        let total = m + n;
        let mut counts = vec![0u64; m * n + 1];
        for mask in 0u32..(1 << total) {
            if mask.count_ones() as usize != m {
                continue;
            }
            // U = number of (x, y) pairs with the x ranked after the y.
            let mut u = 0;
            let mut ys_seen = 0;
            for slot in 0..total {
                if mask & (1 << slot) != 0 {
                    u += ys_seen;
                } else {
                    ys_seen += 1;
                }
            }
            counts[u] += 1;
        }
        let all: u64 = counts.iter().sum();
        let mut acc = 0;
        counts
            .iter()
            .map(|c| {
                acc += c;
                acc as f64 / all as f64
            })
            .collect()
    }

    #[test]
    fn exact_distribution_matches_enumeration() {
        for (m, n) in [(1, 1), (2, 3), (3, 3), (4, 6), (5, 5), (6, 7)] {
            let exact = mann_whitney_cdf(m, n);
            let brute = brute_force_cdf(m, n);
            for (u, (a, b)) in exact.iter().zip(&brute).enumerate() {
                assert!((a - b).abs() < 1e-12, "m={m} n={n} u={u}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn smallest_p_values_are_as_expected() {
        // 5 vs 5: P(U = 0) = 1/252, the floor the first look must beat.
        let cdf = mann_whitney_cdf(5, 5);
        assert!((cdf[0] - 1.0 / 252.0).abs() < 1e-15);
        assert_eq!(critical_rank(5, 5, 0.0125), 2); // P(U<=1)=2/252 <= .0125 < P(U<=2)=4/252
        assert_eq!(critical_rank(3, 3, 0.0125), 0); // 1/20 > .0125: no bound at all
                                                    // Large samples stay accurate enough: at 200 vs 200 (the largest
                                                    // max_pairs allows) cancellation costs ~2e-9 absolute, against
                                                    // per-look levels of ~1e-3.
        let big = mann_whitney_cdf(200, 200);
        assert!((big[big.len() - 1] - 1.0).abs() < 1e-9);
        assert!((big[20_000 - 1] + big[20_000] - 1.0).abs() < 1e-7);
    }

    #[test]
    fn hodges_lehmann_recovers_a_shift() {
        let x = [10.0, 11.0, 12.0, 13.0, 14.0];
        let y = [0.0, 1.0, 2.0, 3.0, 4.0];
        let s = hodges_lehmann(&x, &y, 0.0125);
        assert_eq!(s.estimate, 10.0);
        assert_eq!(s.lower, 7.0); // second smallest of the 25 differences
        assert_eq!(s.upper, 13.0);
    }

    /// P(W+ <= w) by enumerating every sign pattern of n ranks.
    fn brute_force_signed_rank(n: usize) -> Vec<f64> {
        let top = n * (n + 1) / 2;
        let mut counts = vec![0u64; top + 1];
        for mask in 0u32..(1 << n) {
            let w: usize = (0..n).filter(|i| mask & (1 << i) != 0).map(|i| i + 1).sum();
            counts[w] += 1;
        }
        let mut acc = 0;
        counts
            .iter()
            .map(|c| {
                acc += c;
                acc as f64 / (1u64 << n) as f64
            })
            .collect()
    }

    #[test]
    fn signed_rank_distribution_matches_enumeration() {
        for n in [1, 2, 5, 6, 7, 10, 14] {
            let exact = signed_rank_cdf(n);
            for (w, (a, b)) in exact.iter().zip(brute_force_signed_rank(n)).enumerate() {
                assert!((a - b).abs() < 1e-12, "n={n} w={w}: {a} vs {b}");
            }
        }
        assert_eq!(signed_rank_critical(6, 0.02), 1); // 1/64 <= .02 < 2/64
        assert_eq!(signed_rank_critical(5, 0.02), 0); // 1/32 > .02
        assert_eq!(signed_rank_min_n(0.02), 6);
        assert_eq!(signed_rank_min_n(0.0125), 7);
        assert_eq!(mann_whitney_min_n(0.02), 4); // 1/70
        assert_eq!(mann_whitney_min_n(0.0125), 5); // 1/252
        let big = signed_rank_cdf(200);
        assert!((big[big.len() - 1] - 1.0).abs() < 1e-12);
    }

    /// The bound and the test agree: the lower bound exceeds t exactly when
    /// the signed-rank test of d - t rejects at alpha (exact p by enumeration).
    #[test]
    fn paired_bounds_are_the_signed_rank_test() {
        let mut rng = crate::measure::rng::SplitMix64::new(11);
        for trial in 0..300 {
            let n = 6 + trial % 6;
            let d: Vec<f64> = (0..n).map(|_| 0.1 + 0.2 * rng.normal()).collect();
            let t = 0.2 * rng.normal();
            let alpha = 0.02;
            let b = hodges_lehmann_paired(&d, alpha);
            // W- of d - t: the sum of ranks of |d - t| over negative differences.
            let mut z: Vec<f64> = d.iter().map(|x| x - t).collect();
            z.sort_by(|x, y| x.abs().total_cmp(&y.abs()));
            let w_minus: usize = z
                .iter()
                .enumerate()
                .filter(|(_, v)| **v < 0.0)
                .map(|(i, _)| i + 1)
                .sum();
            let p = signed_rank_cdf(n)[w_minus];
            assert_eq!(
                b.lower > t,
                p <= alpha,
                "n={n} d={d:?} t={t} p={p} lower={}",
                b.lower
            );
        }
    }

    #[test]
    fn paired_estimate_recovers_a_centre() {
        let d = [0.9, 1.0, 1.1, 1.05, 0.95, 1.0];
        let b = hodges_lehmann_paired(&d, 0.02);
        assert!((b.estimate - 1.0).abs() < 1e-12);
        assert_eq!((b.lower, b.upper), (0.9, 1.1)); // k = 1: the extreme Walsh averages
        let b = hodges_lehmann_paired(&d[..5], 0.02);
        assert!(b.lower.is_infinite() && b.upper.is_infinite());
        assert!((robust_sd(&[1.0, 2.0, 3.0, 4.0, 100.0]) - 1.4826).abs() < 1e-9);
    }

    #[test]
    fn edge_cases() {
        // all values equal: a zero shift with a zero-width interval
        let s = hodges_lehmann(&[5.0; 5], &[5.0; 5], 0.0125);
        assert_eq!((s.estimate, s.lower, s.upper), (0.0, 0.0, 0.0));
        // too few values for the level: unbounded, never a verdict
        let s = hodges_lehmann(&[1.0, 2.0], &[0.0, 0.5], 0.0125);
        assert!(s.lower.is_infinite() && s.upper.is_infinite());
        // n = 1 summary
        let one = summarize(&[3.0]);
        assert_eq!((one.n, one.median, one.stdev, one.cv), (1, 3.0, 0.0, 0.0));
        let sum = summarize(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(sum.median, 2.5);
        assert!((sum.stdev - 1.2909944487).abs() < 1e-9);
        assert!(summarize(&[]).median.is_nan());
    }
}
