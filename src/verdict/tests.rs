//! Unit tests and simulations of the parent module.

use super::*;
use crate::measure::rng::SplitMix64;

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
