//! What `run_e2e_benchmark` returns, and the figures it is built from: the
//! verdict over the workload's values, and each target function's own time
//! inside the real call pattern.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::executor::Figures;
use crate::domain::{Domain, Threshold};
use crate::measure::environment::{ArmSummary, Environment};
use crate::measure::Stop;
use crate::python::runner::Runner;
use crate::stats;
use crate::verdict::{self, Analysis, Estimate, Look, Samples};

/// The two revisions compared.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Revisions {
    /// The base as given (or HEAD's parent, for a clean work tree).
    pub base: String,
    /// Its full commit id.
    pub base_commit: String,
    /// The candidate's commit when the work tree is clean (HEAD), else null: the work tree.
    pub candidate_commit: Option<String>,
    /// The change in words, with the commits.
    pub change: String,
    /// Files the change touches, relative to the root.
    pub files: Vec<String>,
}

/// The exact commands of the first process of each revision.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct E2eCommands {
    /// In the base worktree (a temporary directory, removed when the call ends).
    pub base: Option<String>,
    /// In the work tree.
    pub candidate: Option<String>,
}

/// One revision's figures for a target function.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TargetArm {
    /// Median calls per workload process.
    pub calls: f64,
    /// The function's own time per process (outermost calls), seconds.
    pub seconds: stats::Summary,
    /// Median share of the workload's wall time spent in it (0..1).
    pub share: f64,
    /// It ran as a generator: its time is the sum of its resumptions from
    /// the first call to exhaustion, and each call counts once.
    #[serde(default)]
    pub generator: bool,
}

/// A target function inside the real workload.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TargetReport {
    /// As given: path/file.py::qualname.
    pub function: String,
    /// On the base (null when it was never called there).
    pub base: Option<TargetArm>,
    /// On the candidate (null when it was never called there).
    pub candidate: Option<TargetArm>,
    /// Base time / candidate time of the function itself, with 95 % bounds (null when it was not called on both).
    pub speedup: Option<Estimate>,
    /// What the figures say, in one sentence.
    pub summary: String,
}

/// How the target functions were timed.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TargetHook {
    /// `sys.monitoring` (Python 3.12+) or `wrapper` (before 3.12).
    pub method: String,
    /// What it costs the workload.
    pub overhead: String,
}

/// How noisy the workload is from process to process, and what that lets a run see.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Noise {
    /// Standard deviation of ln(value) between processes of one revision, pooled (0.10 ≈ 10 %).
    pub process_log_sd: f64,
    /// The gain (time) or saved fraction (memory) this noise lets `max_pairs` pairs tell from zero with 80 % power at the 5 % level.
    pub detectable_at_max_pairs: f64,
}

/// What `run_e2e_benchmark` returns.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct E2eResult {
    /// Id of this e2e run in the ledger (pass it to check_keep_conditions as `e2e_run_id`).
    pub run_id: String,
    /// The run_ab_benchmark run it confirms, when given.
    pub micro_run_id: Option<String>,
    /// cpu (wall time) or memory (peak bytes).
    pub domain: Domain,
    /// The repository root.
    pub repo: String,
    /// What was compared.
    pub revisions: Revisions,
    /// The workload's words, as given.
    pub command: Vec<String>,
    /// The Python and why.
    pub runner: Runner,
    /// The exact commands run.
    pub commands: E2eCommands,
    /// What the value of one process is, and how it was taken.
    pub measured_by: String,
    /// A pytest-benchmark suite: the benchmarks whose medians are summed into each process's value (empty: wall time).
    pub pytest_benchmarks: Vec<String>,
    /// How processes were scheduled.
    pub design: String,
    /// The base's per-process values (seconds or bytes).
    pub base: ArmSummary,
    /// The candidate's per-process values.
    pub candidate: ArmSummary,
    /// Each target function inside the workload.
    pub targets: Vec<TargetReport>,
    /// How targets were timed (null without targets).
    pub target_hook: Option<TargetHook>,
    /// The bar, as used.
    pub threshold: Threshold,
    /// The verdict (above_threshold | below_threshold | regression | inconclusive), its reason and estimates (speedup = base / candidate).
    pub comparison: Analysis,
    /// Whether the base's and the candidate's stdout were compared (`compare_output`; a difference fails the call): status same, or not_checked with the reason (null in runs filed before this field).
    #[serde(default)]
    pub equivalence: Option<crate::equivalence::Equivalence>,
    /// Process-to-process noise and what it allows.
    pub noise: Option<Noise>,
    /// The planned looks.
    pub looks: Vec<Look>,
    /// The look that settled it (1-based).
    pub stopped_at_look: usize,
    /// verdict | max_pairs | max_seconds.
    pub stopped_because: Stop,
    /// Order inside each pair: AB = base first.
    pub order: Vec<String>,
    /// The seed of that order.
    pub seed: u64,
    /// Work-tree paths copied into the base worktree.
    pub copied_to_base: Vec<String>,
    /// The equivalent codeflash command, when codeflash is on PATH and the project configures `benchmarks-root`.
    pub codeflash_command: Option<String>,
    /// Wall seconds of the whole call.
    pub elapsed_s: f64,
    /// Seconds spent waiting for the machine lock.
    pub lock_wait_s: f64,
    /// Where the measurement is weak, and what to do.
    pub warnings: Vec<String>,
    /// The interpreter and the machine.
    pub environment: Environment,
}

/// Each target's report from the counted processes' figures.
pub(super) fn targets(functions: &[String], figures: &[Vec<Figures>; 2]) -> Vec<TargetReport> {
    functions
        .iter()
        .enumerate()
        .map(|(i, function)| target(function, i, figures))
        .collect()
}

/// (own seconds, calls, share) of target `i` in every process of one arm that reported it.
fn per_process(i: usize, arm: &[Figures]) -> Vec<(f64, f64, f64)> {
    arm.iter()
        .filter_map(|f| {
            let t = f.report.as_ref()?.targets.get(i)?;
            Some((t.seconds, t.calls as f64, t.seconds / f.wall_s.max(1e-9)))
        })
        .collect()
}

/// Whether target `i` ran as a generator in any process of one arm.
fn ran_as_generator(i: usize, arm: &[Figures]) -> bool {
    arm.iter()
        .filter_map(|f| f.report.as_ref()?.targets.get(i))
        .any(|t| t.generator)
}

fn target_arm(values: &[(f64, f64, f64)], generator: bool) -> Option<TargetArm> {
    let calls: Vec<f64> = values.iter().map(|v| v.1).collect();
    if values.is_empty() || stats::median(&calls) == 0.0 {
        return None;
    }
    let seconds: Vec<f64> = values.iter().map(|v| v.0).collect();
    let shares: Vec<f64> = values.iter().map(|v| v.2).collect();
    Some(TargetArm {
        calls: stats::median(&calls),
        seconds: stats::summarize(&seconds),
        share: stats::median(&shares),
        generator,
    })
}

fn target(function: &str, i: usize, figures: &[Vec<Figures>; 2]) -> TargetReport {
    let (a, b) = (per_process(i, &figures[0]), per_process(i, &figures[1]));
    let (base, candidate) = (
        target_arm(&a, ran_as_generator(i, &figures[0])),
        target_arm(&b, ran_as_generator(i, &figures[1])),
    );
    let positive = |v: &[(f64, f64, f64)]| -> Option<Vec<f64>> {
        let s: Vec<f64> = v.iter().map(|x| x.0).collect();
        (!s.is_empty() && s.iter().all(|&x| x > 0.0)).then_some(s)
    };
    let speedup = match (positive(&a), positive(&b)) {
        (Some(sa), Some(sb)) => {
            verdict::analyze(
                Samples::Unpaired { a: &sa, b: &sb },
                &Threshold::time(0.0),
                0.025,
                true,
            )
            .speedup
        }
        _ => None,
    };
    let pct = |x: f64| format!("{:.1} %", 100.0 * x);
    let summary = match (&base, &candidate, &speedup) {
        (None, None, _) => format!("{function} was never called by the workload on either revision: check the path and name (the workload may not reach it)"),
        (None, Some(_), _) => format!("{function} is not called on the base, only on the candidate"),
        (Some(b), None, _) => format!(
            "{function} takes {} of the base's workload and is no longer called on the candidate (inlined or renamed?)",
            pct(b.share)
        ),
        (Some(b), Some(c), Some(s)) => format!(
            "{function}: {} faster inside the workload ({:.0} → {:.0} calls per process); it takes {} of the base's time and {} of the candidate's",
            s.show(|v| format!("{v:.3}x")),
            b.calls,
            c.calls,
            pct(b.share),
            pct(c.share)
        ),
        (Some(b), Some(c), None) => format!(
            "{function} takes {} of the base's time and {} of the candidate's",
            pct(b.share),
            pct(c.share)
        ),
    };
    let lazy: Vec<&str> = [("base", &base), ("candidate", &candidate)]
        .iter()
        .filter(|(_, arm)| arm.as_ref().is_some_and(|a| a.generator))
        .map(|(name, _)| *name)
        .collect();
    let summary = match lazy.as_slice() {
        [] => summary,
        names => format!(
            "{summary} (a generator on the {}: its time is the sum of its resumptions from the first call to exhaustion, one call each)",
            names.join(" and the ")
        ),
    };
    TargetReport {
        function: function.to_string(),
        base,
        candidate,
        speedup,
        summary,
    }
}

/// The pooled process-to-process sd of ln(value), and the smallest effect
/// `max_pairs` pairs detect with 80 % power at 5 % (normal approximation,
/// two arms of `max_pairs` each).
pub(super) fn noise(a: &[f64], b: &[f64], max_pairs: usize) -> Option<Noise> {
    let sd = |v: &[f64]| -> Option<(f64, usize)> {
        let logs: Vec<f64> = v.iter().filter(|x| **x > 0.0).map(|x| x.ln()).collect();
        (logs.len() >= 2).then(|| {
            let mean = logs.iter().sum::<f64>() / logs.len() as f64;
            let ss: f64 = logs.iter().map(|l| (l - mean).powi(2)).sum();
            (ss, logs.len() - 1)
        })
    };
    let ((ssa, dfa), (ssb, dfb)) = (sd(a)?, sd(b)?);
    let pooled = ((ssa + ssb) / (dfa + dfb) as f64).sqrt();
    // z(0.95) + z(0.80), one-sided at the family's 5 %.
    let z = 1.645 + 0.842;
    let shift = z * pooled * (2.0 / max_pairs as f64).sqrt();
    Some(Noise {
        process_log_sd: pooled,
        detectable_at_max_pairs: shift.exp() - 1.0,
    })
}

#[cfg(test)]
mod tests {
    use super::super::executor::{HookReport, TargetFigures};
    use super::*;

    fn process(wall_s: f64, seconds: f64, calls: u64) -> Figures {
        lazy(wall_s, seconds, calls, false)
    }

    fn lazy(wall_s: f64, seconds: f64, calls: u64, generator: bool) -> Figures {
        Figures {
            wall_s,
            report: Some(HookReport {
                hook: Some("sys.monitoring".into()),
                targets: vec![TargetFigures {
                    calls,
                    seconds,
                    generator,
                }],
                ..Default::default()
            }),
        }
    }

    #[test]
    fn a_target_twice_as_fast_is_reported_with_its_share() {
        let base: Vec<Figures> = (0..8)
            .map(|i| process(1.0, 0.5 + 0.001 * i as f64, 10))
            .collect();
        let candidate: Vec<Figures> = (0..8)
            .map(|i| process(0.75, 0.25 + 0.001 * i as f64, 10))
            .collect();
        let r = &targets(&["m.py::f".into()], &[base, candidate])[0];
        let s = r.speedup.expect("called on both");
        assert!((s.estimate - 2.0).abs() < 0.05, "{s:?}");
        assert!((r.base.as_ref().unwrap().share - 0.5).abs() < 0.01);
        assert!(
            r.summary.contains("faster inside the workload"),
            "{}",
            r.summary
        );
    }

    #[test]
    fn a_target_that_became_a_generator_says_how_it_was_timed() {
        let base: Vec<Figures> = (0..6)
            .map(|i| lazy(1.0, 0.4 + 0.001 * i as f64, 20, false))
            .collect();
        let candidate: Vec<Figures> = (0..6)
            .map(|i| lazy(0.8, 0.2 + 0.001 * i as f64, 20, true))
            .collect();
        let r = &targets(&["m.py::f".into()], &[base, candidate])[0];
        assert!(!r.base.as_ref().unwrap().generator);
        assert!(r.candidate.as_ref().unwrap().generator);
        assert!(r.speedup.unwrap().estimate > 1.9, "{:?}", r.speedup);
        assert!(
            r.summary
                .contains("(a generator on the candidate: its time is the sum of its resumptions"),
            "{}",
            r.summary
        );
    }

    #[test]
    fn a_target_gone_from_the_candidate_says_so() {
        let base = vec![process(1.0, 0.5, 3), process(1.0, 0.5, 3)];
        let candidate = vec![process(0.5, 0.0, 0), process(0.5, 0.0, 0)];
        let r = &targets(&["m.py::f".into()], &[base, candidate])[0];
        assert!(r.candidate.is_none() && r.speedup.is_none());
        assert!(r.summary.contains("no longer called"), "{}", r.summary);
    }

    #[test]
    fn noise_gives_the_detectable_gain() {
        // ln-sd 0.1 each arm, 30 pairs: 2.487 * 0.1 * sqrt(2/30) = 0.0642 → 6.6 %.
        let a: Vec<f64> = (0..30)
            .map(|i| (0.1_f64 * if i % 2 == 0 { 1.0 } else { -1.0 }).exp())
            .collect();
        let n = noise(&a, &a, 30).unwrap();
        assert!((n.process_log_sd - 0.1017).abs() < 0.002, "{n:?}");
        assert!((n.detectable_at_max_pairs - 0.0674).abs() < 0.003, "{n:?}");
    }
}
