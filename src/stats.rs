//! Distribution-free statistics for A/B verdicts. Pure functions over slices.
//!
//! Method: the Hodges–Lehmann estimate of the shift between two independent
//! samples (the median of all pairwise differences `x_i - y_j`), with
//! one-sided confidence bounds read from the order statistics of those
//! differences at the exact Mann–Whitney critical value. A bound beyond a
//! threshold is exactly a one-sided Mann–Whitney test rejecting "the shift is
//! at most the threshold", so verdicts and intervals never disagree.
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
