//! Simulations of the multi-candidate design: the family-wise error rate
//! (any null or exactly-at-threshold candidate called `above_threshold`)
//! for 1, 2, 4 and 8 candidates, and a clear winner among nulls.

use serde_json::{json, Value};

use super::*;
use crate::measure::rng::SplitMix64;
use crate::verdict::Verdict;

/// A simulated machine: per-round noise on each variant (10 % of rounds hit
/// by a burst 4x wider), the machine's noise common to every block of a
/// round, and a between-process effect per variant.
struct World {
    speedups: Vec<f64>,
    within: f64,
    between: f64,
    fixed_s: f64,
    block_s: f64,
}

fn letter(i: usize) -> char {
    crate::template::candidate_letter(i)
}

impl World {
    /// One process's line for `variants` ("a" + letters).
    fn line(&self, variants: &str, rounds: usize, rng: &mut SplitMix64) -> Value {
        let effect: Vec<f64> = variants
            .chars()
            .map(|_| self.between / 2f64.sqrt() * rng.normal())
            .collect();
        let mut values: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
        let mut order = String::new();
        for _ in 0..rounds {
            let common = (0.2 * rng.normal()).exp();
            for (i, v) in variants.chars().enumerate() {
                let burst = if rng.next_f64() < 0.1 { 4.0 } else { 1.0 };
                let noise = self.within / 2f64.sqrt() * burst * rng.normal();
                let speedup = match v {
                    'a' => 1.0,
                    c => self.speedups[(c as u8 - b'b') as usize],
                };
                values[i].push(self.block_s * common * (noise + effect[i]).exp() / speedup);
            }
            // A random permutation of the round.
            let mut seq: Vec<char> = variants.chars().collect();
            rng.shuffle(&mut seq);
            order.extend(seq.iter().map(char::to_ascii_uppercase));
        }
        let mut line = json!({"order": order, "number": {}, "timed_s": rounds as f64 * variants.len() as f64 * self.block_s});
        for (i, v) in variants.chars().enumerate() {
            line[v.to_string()] = json!(values[i]);
            line["number"][v.to_string()] = json!(1);
        }
        line
    }

    fn pilot(&self, variants: &str, rng: &mut SplitMix64) -> Value {
        let mut length = self.line(variants, 10, rng);
        length["block_s"] = json!(self.block_s);
        json!({"lengths": [length], "aa": [[1.0], [1.0]], "aa_variant": "a",
               "setup_s": self.fixed_s / 2.0, "elapsed_s": self.fixed_s / 2.0})
    }

    /// One run: each candidate's verdict and the processes run.
    fn run(&self, rng: &mut SplitMix64) -> (Vec<Verdict>, usize) {
        let all: String = std::iter::once('a')
            .chain((0..self.speedups.len()).map(letter))
            .collect();
        let candidates: Vec<(char, String)> = (0..self.speedups.len())
            .map(|i| (letter(i), format!("c{i}")))
            .collect();
        let pilot = self.pilot(&all, rng);
        let mut family = Family::new(
            &pilot,
            self.fixed_s,
            &candidates,
            &Threshold::time(0.2),
            None,
            30,
        )
        .unwrap();
        let mut processes = 0;
        while let Some(next) = family.next() {
            let line = self.line(&next.variants, next.rounds, rng);
            let wall = self.fixed_s + line["timed_s"].as_f64().unwrap();
            family.add(&next, &line, wall, 300.0).unwrap();
            processes += 1;
        }
        family.finish(false);
        let verdicts = family
            .members
            .iter()
            .map(|m| m.settled.as_ref().unwrap().1.verdict)
            .collect();
        (verdicts, processes)
    }
}

fn world(speedups: Vec<f64>) -> World {
    World {
        speedups,
        within: 0.15,
        between: 0.02,
        fixed_s: 0.12,
        block_s: 0.005,
    }
}

/// (share of runs with any of `wrong` called above_threshold, mean processes)
fn family_error(speedups: Vec<f64>, trials: usize, seed: u64) -> (f64, f64) {
    let w = world(speedups);
    let mut rng = SplitMix64::new(seed);
    let (mut any, mut processes) = (0, 0);
    for _ in 0..trials {
        let (verdicts, n) = w.run(&mut rng);
        any += usize::from(verdicts.contains(&Verdict::AboveThreshold));
        processes += n;
    }
    (any as f64 / trials as f64, processes as f64 / trials as f64)
}

/// `cargo test --release --lib simulated -- --nocapture` prints the table
/// in BENCHMARKS.md.
#[test]
fn simulated_family_wise_error_of_several_candidates() {
    for k in [1usize, 2, 4, 8] {
        let null = family_error(vec![1.0; k], 500, 100 + k as u64);
        let edge = family_error(vec![1.2; k], 500, 200 + k as u64);
        println!(
            "candidates {k}: any null above_threshold {:.1} % (mean {:.1} processes); any at exactly +20 % above_threshold {:.1} % (mean {:.1} processes)",
            null.0 * 100.0,
            null.1,
            edge.0 * 100.0,
            edge.1
        );
        assert!(null.0 <= 0.01, "{k} nulls: {null:?}");
        assert!(edge.0 <= 0.05, "{k} at the threshold: {edge:?}");
    }
}

#[test]
fn a_clear_winner_among_nulls_is_found_and_the_nulls_do_not_win() {
    let w = world(vec![1.0, 2.0, 1.0]);
    let mut rng = SplitMix64::new(7);
    let mut found = 0;
    for _ in 0..200 {
        let (v, _) = w.run(&mut rng);
        assert_ne!(v[0], Verdict::AboveThreshold);
        assert_ne!(v[2], Verdict::AboveThreshold);
        found += usize::from(v[1] == Verdict::AboveThreshold);
    }
    assert!(found >= 196, "2x found in {found} of 200 runs");
}

#[test]
fn a_settled_candidate_drops_out_of_later_processes() {
    let w = world(vec![3.0, 1.19]);
    let mut rng = SplitMix64::new(11);
    let pilot = w.pilot("abc", &mut rng);
    let candidates = [('b', "fast".to_string()), ('c', "close".to_string())];
    let mut family =
        Family::new(&pilot, 0.1, &candidates, &Threshold::time(0.2), None, 30).unwrap();
    let first = family.next().unwrap();
    assert_eq!(first.variants, "abc");
    let mut seen = Vec::new();
    while let Some(next) = family.next() {
        seen.push(next.variants.clone());
        let line = w.line(&next.variants, next.rounds, &mut rng);
        family.add(&next, &line, 0.2, 300.0).unwrap();
    }
    assert_eq!(
        family.members[0].settled.as_ref().unwrap().1.verdict,
        Verdict::AboveThreshold
    );
    // The fast one settled at its first look; the close one went on alone.
    let first_look = family.members[0].processes.len();
    assert!(seen[first_look..].iter().all(|v| v == "ac"), "{seen:?}");
    assert!(family.members[1].processes.len() > first_look);
}
