//! Is the pairing fair? A and B share a process in the paired design, so
//! one can change what the other meets: caches, the allocator's free lists,
//! garbage left for the collector, or the input itself. Four checks, each
//! reported with its figure and turned into a warning when it fails:
//!
//! - **order**: the ratio in rounds where A ran first against rounds where
//!   B ran first, per process, tested across processes (signed-rank, 95 %).
//!   Randomising the order balances any carry-over in the estimate, but a
//!   large one means the variants disturb each other.
//! - **state**: setup's objects (identity, size, the identity of each
//!   element of a container, a module's globals) before and after each
//!   variant's first blocks, in the pilot.
//! - **live objects**: objects a variant leaves alive after each block
//!   (a growing cache or a leak), in the pilot, after a collection.
//! - **A/A**: the faster variant measured against itself in the two slots
//!   of each round, in the pilot.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::blocks::{Counted, Pilot};
use crate::measure::warnings::RunWarning;
use crate::stats;

/// Carry-over between the variants, from the order of blocks inside rounds.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OrderEffect {
    /// Median speedup (A/B) of the rounds in which A ran first.
    pub a_first_speedup: f64,
    /// Median speedup (A/B) of the rounds in which B ran first.
    pub b_first_speedup: f64,
    /// Processes compared (each needs two rounds of each order).
    pub processes: usize,
    /// True when the two differ at 95 % confidence across processes.
    pub significant: bool,
}

/// The pairing's checks (paired design only).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Interference {
    /// Rounds with A first against rounds with B first; null with fewer than 6 comparable processes.
    pub order_effect: Option<OrderEffect>,
    /// The faster variant against itself in the pilot (1.0 when the two slots of a round are fair).
    pub aa_speedup: Option<f64>,
    /// Which variant the A/A check ran (the faster one, so it costs least): a or b.
    pub aa_variant: Option<String>,
    /// Names of setup's objects A changed (pilot: its calibration and first block).
    pub state_changed_by_a: Vec<String>,
    /// Names of setup's objects B changed (pilot: its calibration and first block).
    pub state_changed_by_b: Vec<String>,
    /// Names of setup's objects changed during the pilot's rounds.
    pub state_changed_during_rounds: Vec<String>,
    /// Fewest extra live objects A left after a block (pilot, two blocks).
    pub live_objects_per_block_a: Option<i64>,
    /// Fewest extra live objects B left after a block (pilot, two blocks).
    pub live_objects_per_block_b: Option<i64>,
}

/// A variant that leaves at least this many objects alive after every block is warned about.
const LIVE_OBJECTS_WARN: i64 = 100;
/// An order effect (ratio of the two orders' speedups) this large and significant is warned about.
const ORDER_WARN: f64 = 0.05;
/// An A/A ratio this far from 1, and beyond its noise, is warned about.
const AA_WARN: f64 = 0.03;

fn order_effect(processes: &[Counted]) -> Option<OrderEffect> {
    let (mut diffs, mut firsts, mut seconds) = (Vec::new(), Vec::new(), Vec::new());
    for p in processes {
        let lr = p.blocks.log_ratios();
        let order = p.blocks.a_first();
        let pick = |first: bool| -> Vec<f64> {
            lr.iter()
                .zip(&order)
                .filter(|(_, &o)| o == first)
                .map(|(v, _)| *v)
                .collect()
        };
        let (af, bf) = (pick(true), pick(false));
        if af.len() >= 2 && bf.len() >= 2 {
            let (ma, mb) = (stats::median(&af), stats::median(&bf));
            diffs.push(ma - mb);
            firsts.push(ma);
            seconds.push(mb);
        }
    }
    if diffs.len() < stats::signed_rank_min_n(0.025) {
        return None;
    }
    let b = stats::hodges_lehmann_paired(&diffs, 0.025);
    Some(OrderEffect {
        a_first_speedup: stats::median(&firsts).exp(),
        b_first_speedup: stats::median(&seconds).exp(),
        processes: diffs.len(),
        significant: b.lower > 0.0 || b.upper < 0.0,
    })
}

/// Runs the checks on the pilot and the counted processes.
pub(crate) fn check(pilot: Option<&Pilot>, processes: &[Counted]) -> Interference {
    let mut out = Interference {
        order_effect: order_effect(processes),
        ..Default::default()
    };
    if let Some(p) = pilot {
        let aa: Vec<f64> = p.aa[0]
            .iter()
            .zip(&p.aa[1])
            .filter(|(x, y)| **x > 0.0 && **y > 0.0)
            .map(|(x, y)| (x / y).ln())
            .collect();
        if !aa.is_empty() {
            out.aa_speedup = Some(stats::median(&aa).exp());
            out.aa_variant = Some(p.aa_variant.clone()).filter(|v| !v.is_empty());
        }
        out.state_changed_by_a = p.state.a.clone();
        out.state_changed_by_b = p.state.b.clone();
        out.state_changed_during_rounds = p.state.rounds.clone();
        out.live_objects_per_block_a = p.live_objects.a.iter().copied().min();
        out.live_objects_per_block_b = p.live_objects.b.iter().copied().min();
    }
    out
}

/// The warnings the checks call for; each says when to prefer `isolation: "process"`.
pub(crate) fn warnings(i: &Interference, aa_rounds_sd: Option<f64>) -> Vec<RunWarning> {
    let mut out = Vec::new();
    if let Some(o) = &i.order_effect {
        let ratio = o.a_first_speedup / o.b_first_speedup;
        if o.significant && (ratio - 1.0).abs() >= ORDER_WARN {
            out.push(RunWarning::OrderEffect {
                a_first: o.a_first_speedup,
                b_first: o.b_first_speedup,
                processes: o.processes,
            });
        }
    }
    for (variant, names) in [("a", &i.state_changed_by_a), ("b", &i.state_changed_by_b)] {
        if !names.is_empty() {
            out.push(RunWarning::StateChangedBy {
                variant,
                names: names.clone(),
            });
        }
    }
    if !i.state_changed_during_rounds.is_empty()
        && i.state_changed_by_a.is_empty()
        && i.state_changed_by_b.is_empty()
    {
        out.push(RunWarning::StateDrift {
            names: i.state_changed_during_rounds.clone(),
        });
    }
    for (variant, growth) in [
        ("a", i.live_objects_per_block_a),
        ("b", i.live_objects_per_block_b),
    ] {
        if let Some(per_block) = growth.filter(|&n| n >= LIVE_OBJECTS_WARN) {
            out.push(RunWarning::LiveObjects { variant, per_block });
        }
    }
    if let (Some(aa), Some(sd)) = (i.aa_speedup, aa_rounds_sd) {
        if aa.ln().abs() > AA_WARN.max(3.0 * sd) {
            out.push(RunWarning::AaMismatch {
                variant: i.aa_variant.clone().unwrap_or_else(|| "a".into()),
                speedup: aa,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::blocks::{Blocks, Numbers};
    use super::*;

    fn process(ab: f64, ba: f64) -> Counted {
        // Four rounds: A first twice (ratio ab), B first twice (ratio ba).
        Counted {
            blocks: Blocks {
                a: vec![ab, ab * 1.01, ba, ba * 0.99],
                b: vec![1.0; 4],
                order: "ABABBABA".into(),
                number: Numbers { a: 1, b: 1 },
            },
            timed_s: 0.1,
            wall_s: 0.2,
        }
    }

    #[test]
    fn an_order_effect_is_found_and_a_fair_pairing_is_not_flagged() {
        let biased: Vec<Counted> = (0..8)
            .map(|i| process(1.3 + 0.01 * i as f64, 1.0))
            .collect();
        let i = check(None, &biased);
        let o = i.order_effect.as_ref().unwrap();
        assert!(o.significant && o.a_first_speedup > 1.25, "{o:?}");
        assert!(warnings(&i, None)[0].to_string().contains("interfere"));

        let fair: Vec<Counted> = (0..8)
            .map(|i| {
                let w = if i % 2 == 0 { 0.01 } else { -0.01 };
                process(1.2 + w, 1.2 - w)
            })
            .collect();
        let i = check(None, &fair);
        assert!(!i.order_effect.as_ref().unwrap().significant);
        assert!(warnings(&i, None).is_empty());
        assert!(check(None, &fair[..3]).order_effect.is_none());
    }

    #[test]
    fn state_live_objects_and_aa_warnings_name_what_to_do() {
        let i = Interference {
            state_changed_by_a: vec!["data".into()],
            live_objects_per_block_b: Some(3000),
            aa_speedup: Some(1.2),
            ..Default::default()
        };
        let w: Vec<String> = warnings(&i, Some(0.01))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(w[0].contains("`data`") && w[0].contains("bench_a") && w[0].contains("isolation"));
        assert!(w[1].contains("3000"));
        assert!(w[2].contains("1.200x"));
    }
}
