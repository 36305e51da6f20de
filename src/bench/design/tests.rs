//! Unit tests and simulations of the parent module.

use super::super::blocks::{Blocks, Numbers, PilotLength};
use super::*;
use crate::measure::rng::SplitMix64;
use crate::verdict::Verdict;

/// A simulated machine and workload: per-round noise (10 % of rounds
/// hit by a burst 4x wider), a between-process effect, costs.
#[derive(Clone, Copy)]
struct World {
    speedup: f64,
    within: f64,
    between: f64,
    fixed_s: f64,
    block_s: f64,
}

impl World {
    fn blocks(&self, rounds: usize, process_effect: f64, rng: &mut SplitMix64) -> Blocks {
        let (mut a, mut b, mut order) = (Vec::new(), Vec::new(), String::new());
        for _ in 0..rounds {
            let burst = if rng.next_f64() < 0.1 { 4.0 } else { 1.0 };
            let noise = self.within * burst * rng.normal();
            let common = (0.2 * rng.normal()).exp(); // the machine's noise, shared by A and B
            let ratio = (self.speedup.ln() + process_effect + noise).exp();
            a.push(self.block_s * common);
            b.push(self.block_s * common / ratio);
            order.push_str(if rng.coin() { "AB" } else { "BA" });
        }
        Blocks {
            a,
            b,
            order,
            number: Numbers { a: 1, b: 1 },
        }
    }

    fn pilot(&self, rng: &mut SplitMix64) -> Pilot {
        Pilot {
            lengths: vec![PilotLength {
                block_s: self.block_s,
                blocks: self.blocks(10, self.between * rng.normal(), rng),
            }],
            aa: [vec![1.0], vec![1.0]],
            aa_variant: "b".into(),
            state: Default::default(),
            live_objects: Default::default(),
            output: Default::default(),
            setup_s: self.fixed_s / 2.0,
            wall_s: self.fixed_s,
            elapsed_s: self.fixed_s / 2.0,
        }
    }

    /// One run: (verdict, processes, simulated seconds).
    fn run(&self, rng: &mut SplitMix64) -> (Verdict, usize, f64) {
        let pilot = self.pilot(rng);
        let mut seconds = pilot.wall_s + 10.0 * 2.0 * self.block_s;
        let mut s = PairedSchedule::new(&pilot, &Threshold::time(0.2), None, 30, 1);
        loop {
            let rounds = s.rounds();
            let blocks = self.blocks(rounds, self.between * rng.normal(), rng);
            let timed_s = rounds as f64 * 2.0 * self.block_s;
            let wall_s = self.fixed_s + timed_s;
            seconds += wall_s;
            let p = Counted {
                blocks,
                timed_s,
                wall_s,
            };
            if let Some((_, an)) = s.add(&p, 300.0 - seconds) {
                return (an.verdict, an.pairs, seconds);
            }
        }
    }
}

/// (share above_threshold, share decided either way, mean processes, median seconds)
fn rates(world: World, trials: usize, seed: u64) -> (f64, f64, f64, f64) {
    let mut rng = SplitMix64::new(seed);
    let (mut above, mut decided, mut n) = (0, 0, 0);
    let mut secs = Vec::new();
    for _ in 0..trials {
        let (v, pairs, s) = world.run(&mut rng);
        above += usize::from(v == Verdict::AboveThreshold);
        decided += usize::from(v != Verdict::Inconclusive);
        n += pairs;
        secs.push(s);
    }
    let t = trials as f64;
    (
        above as f64 / t,
        decided as f64 / t,
        n as f64 / t,
        stats::median(&secs),
    )
}

/// The whole adaptive design, simulated at the noise measured on real
/// code here (one round 3-17 %, between processes 0-1.5 %) and noisier.
#[test]
fn simulated_error_rates_and_time_of_the_adaptive_design() {
    let world = |speedup: f64, within: f64, between: f64| World {
        speedup,
        within,
        between,
        fixed_s: 0.12,
        block_s: 0.005,
    };
    for (within, between, seed) in [(0.05, 0.01, 1), (0.15, 0.02, 2), (0.3, 0.04, 3)] {
        let report = |name: &str, w: World, seed: u64| {
            let r = rates(w, 1000, seed);
            println!(
                "paired design, round sd {within}, between sd {between}, {name}: above_threshold {:.1} %, decided {:.1} %, mean {:.1} processes, median {:.2} s simulated",
                r.0 * 100.0, r.1 * 100.0, r.2, r.3
            );
            r
        };
        let aa = report("A/A", world(1.0, within, between), seed * 10);
        assert!(aa.0 == 0.0 && aa.1 >= 0.99, "{aa:?}");
        let g15 = report("gain 15 %", world(1.15, within, between), seed * 10 + 1);
        assert!(g15.0 <= 0.01, "{g15:?}");
        let g20 = report(
            "gain exactly 20 %",
            world(1.2, within, between),
            seed * 10 + 2,
        );
        assert!(g20.0 <= 0.05, "{g20:?}");
        let g45 = report("gain 45 %", world(1.45, within, between), seed * 10 + 3);
        assert!(g45.0 >= 0.9, "{g45:?}");
        let two = report("2x", world(2.0, within, between), seed * 10 + 4);
        assert!(two.0 >= 0.99, "{two:?}");
        if within <= 0.15 {
            assert!(
                aa.2 <= 7.0 && two.2 <= 7.0,
                "clear cases decide at the first look"
            );
        }
    }
}

#[test]
fn replanning_follows_the_variance_components() {
    let mut rng = SplitMix64::new(5);
    // Noisy rounds, quiet processes: the rounds grow after the first look.
    let w = World {
        speedup: 1.2,
        within: 0.3,
        between: 0.002,
        fixed_s: 0.2,
        block_s: 0.005,
    };
    let pilot = w.pilot(&mut rng);
    let mut s = PairedSchedule::new(&pilot, &Threshold::time(0.2), None, 30, 1);
    let first = s.rounds();
    while s.count() < s.looks()[0].pairs {
        let p = Counted {
            blocks: w.blocks(s.rounds(), 0.0, &mut rng),
            timed_s: 0.1,
            wall_s: 0.3,
        };
        s.add(&p, 300.0);
    }
    assert!(s.rounds() > first, "{:?}", s.rounds_log());
    assert!(s.variance().between_process_log_sd.is_some());
    // A tight budget caps them.
    let mut tight = PairedSchedule::new(&pilot, &Threshold::time(0.2), None, 30, 1);
    while tight.count() < tight.looks()[0].pairs {
        let p = Counted {
            blocks: w.blocks(tight.rounds(), 0.0, &mut rng),
            timed_s: 0.1,
            wall_s: 0.3,
        };
        tight.add(&p, 1.0);
    }
    assert_eq!(tight.rounds(), ROUNDS_MIN, "{:?}", tight.rounds_log());
}
