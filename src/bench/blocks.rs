//! What a process of the paired design reports on its `ABBENCH` line, read
//! and checked: per-operation seconds of every block of A and of B, round by
//! round, the order inside each round, and from the uncounted pilot the
//! candidate block lengths and the interference checks.
//!
//! The statistical unit is one process: [`Blocks::centre`] is the
//! Hodges–Lehmann centre of its rounds' `ln(A / B)`.

use serde::Deserialize;

use crate::stats;

/// Calls (or batches, or imports) per block of each variant.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
pub(crate) struct Numbers {
    pub(crate) a: u64,
    pub(crate) b: u64,
}

/// The rounds of one process: block i of A and block i of B ran next to each other.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Blocks {
    /// Per-operation seconds of each block of A.
    pub(crate) a: Vec<f64>,
    /// Per-operation seconds of each block of B.
    pub(crate) b: Vec<f64>,
    /// "AB" or "BA" per round, concatenated.
    pub(crate) order: String,
    /// Operations per block.
    pub(crate) number: Numbers,
}

impl Blocks {
    /// Checks what untrusted output claims: equal lengths, one order per
    /// round, positive finite times.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.a.is_empty() || self.a.len() != self.b.len() {
            return Err(format!(
                "{} blocks of A and {} of B: every round has one of each",
                self.a.len(),
                self.b.len()
            ));
        }
        if self.order.len() != 2 * self.a.len()
            || !self
                .order
                .as_bytes()
                .chunks(2)
                .all(|c| c == b"AB" || c == b"BA")
        {
            return Err(format!(
                "`order` {:?} does not name AB or BA for each of {} rounds",
                self.order,
                self.a.len()
            ));
        }
        if let Some(bad) = self
            .a
            .iter()
            .chain(&self.b)
            .find(|v| !(v.is_finite() && **v > 0.0))
        {
            return Err(format!("a block time of {bad}: times must be > 0"));
        }
        if self.number.a == 0 || self.number.b == 0 {
            return Err("`number` must be at least 1 for both variants".into());
        }
        Ok(())
    }

    /// `ln(A / B)` of each round.
    pub(crate) fn log_ratios(&self) -> Vec<f64> {
        self.a
            .iter()
            .zip(&self.b)
            .map(|(a, b)| (a / b).ln())
            .collect()
    }

    /// The process's value: the Hodges–Lehmann centre of its rounds' ratios
    /// (robust to a burst that hits a few blocks, more efficient than their median).
    pub(crate) fn centre(&self) -> f64 {
        stats::hodges_lehmann_paired(&self.log_ratios(), 0.5).estimate
    }

    /// The spread of one round's `ln(A / B)` (robust sd).
    pub(crate) fn within_sd(&self) -> f64 {
        stats::robust_sd(&self.log_ratios())
    }

    /// Mean seconds of one round (one block of each variant).
    pub(crate) fn round_s(&self) -> f64 {
        let total: f64 = self
            .a
            .iter()
            .zip(&self.b)
            .map(|(a, b)| a * self.number.a as f64 + b * self.number.b as f64)
            .sum();
        total / self.a.len() as f64
    }

    /// True for the rounds in which A ran first.
    pub(crate) fn a_first(&self) -> Vec<bool> {
        self.order
            .as_bytes()
            .chunks(2)
            .map(|c| c == b"AB")
            .collect()
    }

    /// The shortest block, seconds (for the timer-resolution warning).
    pub(crate) fn shortest_block_s(&self) -> f64 {
        let a = self.a.iter().map(|v| v * self.number.a as f64);
        let b = self.b.iter().map(|v| v * self.number.b as f64);
        a.chain(b).fold(f64::INFINITY, f64::min)
    }
}

/// A counted process of the paired design.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Counted {
    /// Its rounds.
    #[serde(flatten)]
    pub(crate) blocks: Blocks,
    /// Seconds inside the counted rounds.
    pub(crate) timed_s: f64,
    /// Wall seconds of the whole process, spawn to exit (set by abbench, not read).
    #[serde(skip)]
    pub(crate) wall_s: f64,
}

/// One candidate block length the pilot tried.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PilotLength {
    /// The target length of a block, seconds.
    pub(crate) block_s: f64,
    /// Its rounds.
    #[serde(flatten)]
    pub(crate) blocks: Blocks,
}

/// Setup's objects each variant changed, from the pilot's fingerprints.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct StateChanges {
    /// Names changed while A calibrated and warmed up.
    #[serde(default)]
    pub(crate) a: Vec<String>,
    /// Names changed while B calibrated and warmed up.
    #[serde(default)]
    pub(crate) b: Vec<String>,
    /// Names changed during the rounds, by either.
    #[serde(default)]
    pub(crate) rounds: Vec<String>,
}

/// Live objects left behind per block, two blocks per variant, after a collection.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct LiveObjects {
    /// Growth per block of A.
    #[serde(default)]
    pub(crate) a: Vec<i64>,
    /// Growth per block of B.
    #[serde(default)]
    pub(crate) b: Vec<i64>,
}

/// Characters one variant wrote through sys.stdout and sys.stderr while the pilot calibrated it.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub(crate) struct Written {
    #[serde(default)]
    pub(crate) stdout: u64,
    #[serde(default)]
    pub(crate) stderr: u64,
}

/// Output per variant, from the pilot.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub(crate) struct Output {
    #[serde(default)]
    pub(crate) a: Written,
    #[serde(default)]
    pub(crate) b: Written,
}

/// What the uncounted pilot process reports.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Pilot {
    /// Each candidate block length, shortest first.
    pub(crate) lengths: Vec<PilotLength>,
    /// The faster variant against itself: per-op seconds in the two slots of each round.
    pub(crate) aa: [Vec<f64>; 2],
    /// Which variant the A/A check ran: `a` or `b`.
    #[serde(default)]
    pub(crate) aa_variant: String,
    /// Setup's objects the variants changed.
    #[serde(default)]
    pub(crate) state: StateChanges,
    /// Live objects left per block.
    #[serde(default)]
    pub(crate) live_objects: LiveObjects,
    /// What each variant printed.
    #[serde(default)]
    pub(crate) output: Output,
    /// Seconds from the script's start to the measurement (imports and setup).
    pub(crate) setup_s: f64,
    /// Wall seconds of the whole process (set by abbench, not read).
    #[serde(skip)]
    pub(crate) wall_s: f64,
    /// Seconds from the script's start to its report.
    pub(crate) elapsed_s: f64,
}

impl Pilot {
    /// Checks every candidate's blocks.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.lengths.is_empty() {
            return Err("the pilot reported no block length".into());
        }
        for l in &self.lengths {
            l.blocks.check()?;
        }
        Ok(())
    }

    /// Seconds a counted process with `block_s` blocks spends outside its
    /// rounds: interpreter start, imports and setup, and both warm-ups.
    pub(crate) fn fixed_cost_s(&self, block_s: f64) -> f64 {
        let warm = self
            .lengths
            .iter()
            .find(|l| l.block_s == block_s)
            .map_or(0.0, |l| {
                let b = &l.blocks;
                warm_up_s(b.number.a, stats::median(&b.a))
                    + warm_up_s(b.number.b, stats::median(&b.b))
            });
        (self.wall_s - self.elapsed_s).max(0.0) + self.setup_s + warm
    }
}

/// The warm-up of `paired.py` (`_WARM_CALLS`, `_WARM_S`): uncounted blocks
/// of a variant until it has made this many calls or spent this long.
const WARM_CALLS: u64 = 10;
const WARM_S: f64 = 0.25;

/// Seconds that warm-up takes for blocks of `number` calls of `per_op_s` each.
fn warm_up_s(number: u64, per_op_s: f64) -> f64 {
    let number = number.max(1);
    let block = number as f64 * per_op_s.max(0.0);
    let for_calls = WARM_CALLS.div_ceil(number) as f64;
    // Infinite for a zero block: the call count decides.
    let for_time = (WARM_S / block).ceil();
    for_calls.min(for_time) * block
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(a: &[f64], b: &[f64], order: &str) -> Blocks {
        Blocks {
            a: a.to_vec(),
            b: b.to_vec(),
            order: order.into(),
            number: Numbers { a: 2, b: 4 },
        }
    }

    #[test]
    fn figures_of_a_process() {
        let p = blocks(&[2.0, 2.0, 4.0], &[1.0, 1.0, 2.0], "ABBAAB");
        p.check().unwrap();
        assert!((p.centre() - 2f64.ln()).abs() < 1e-12);
        assert_eq!(p.a_first(), [true, false, true]);
        assert!((p.round_s() - 32.0 / 3.0).abs() < 1e-12); // rounds of 4+4, 4+4, 8+8 s
        assert_eq!(p.shortest_block_s(), 4.0);
    }

    #[test]
    fn warm_up_cost_follows_the_script() {
        let script = include_str!("../templates/paired.py");
        assert!(script.contains(&format!("_WARM_CALLS = {WARM_CALLS}\n")));
        assert!(script.contains(&format!("_WARM_S = {WARM_S}\n")));
        // 3 ms calls, 2 per block: 5 blocks make the 10 calls, 30 ms.
        assert!((warm_up_s(2, 0.003) - 0.030).abs() < 1e-12);
        // 40 ms calls: 0.25 s is reached after 7 calls (0.28 s).
        assert!((warm_up_s(1, 0.040) - 0.280).abs() < 1e-12);
        // A 1 s block: one block, whatever the counts.
        assert!((warm_up_s(100, 0.01) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn bad_reports_are_named() {
        for (p, what) in [
            (blocks(&[1.0], &[1.0, 1.0], "AB"), "blocks of A"),
            (blocks(&[1.0], &[1.0], "AA"), "order"),
            (blocks(&[1.0], &[0.0], "AB"), "block time"),
        ] {
            let err = p.check().unwrap_err();
            assert!(err.contains(what), "{err}");
        }
    }
}
