//! What `run_ab_benchmark` returns, and how a schedule's outcome becomes it.
//!
//! [`RunResult`] is the wire format (its JSON is the MCP result and the
//! ledger's record); [`Measured`] is the shape both designs reduce to.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::design::{BlockChoice, RoundsChoice, VarianceComponents};
use super::executor::{MemoryMethod, ProcessOutput, RunCommands};
use super::interference::{self, Interference};
use super::request::Isolation;
use super::{blocks, paired, plan};
use crate::domain::{Domain, Threshold};
use crate::measure::environment::{ArmSummary, Environment};
use crate::measure::schedule;
use crate::measure::warnings::RunWarning;
use crate::measure::Stop;
use crate::python::probe::Probe;
use crate::python::runner::Runner;
use crate::stats;
use crate::verdict::{Analysis, Estimate, Look};

/// Which design ran, why, and what it was chosen from.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DesignReport {
    /// paired | process.
    pub isolation: Isolation,
    /// Why this design ran.
    pub chosen_because: String,
    /// Why the first look is where it is.
    pub first_look_because: String,
    /// Paired: the block length and calls per block, from the pilot.
    pub block: Option<BlockChoice>,
    /// Paired: rounds per process, as first chosen and as re-planned.
    pub rounds: Vec<RoundsChoice>,
    /// Paired: the variance components and costs the choices came from.
    pub variance: Option<VarianceComponents>,
    /// Paired: the speedup (A/B) of each counted process, the unit the statistics use.
    pub process_speedups: Vec<f64>,
    /// Paired: sd of ln(speedup) across the counted processes (0.03 ≈ 3 %).
    pub process_log_sd: Option<f64>,
    /// Paired: the checks that the pairing is fair.
    pub interference: Option<Interference>,
}

impl DesignReport {
    /// A design without the paired design's blocks, rounds and checks.
    fn without_blocks(
        isolation: Isolation,
        chosen_because: String,
        first_look_because: String,
    ) -> Self {
        DesignReport {
            isolation,
            chosen_because,
            first_look_because,
            block: None,
            rounds: Vec::new(),
            variance: None,
            process_speedups: Vec::new(),
            process_log_sd: None,
            interference: None,
        }
    }
}

/// Memory under memray: the whole process's peak, next to the variants' own.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ProcessPeak {
    /// A's process peaks: setup's live bytes plus A's own peak.
    pub a: ArmSummary,
    /// B's process peaks.
    pub b: ArmSummary,
    /// `saved_bytes / median(A's process peak)`: the saving against the whole process.
    pub saved_fraction: Option<Estimate>,
}

/// What `run_ab_benchmark` returns.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RunResult {
    /// Id of this run in the ledger (for check_keep_conditions and benchmark_history).
    pub run_id: String,
    /// The canonical domain.
    pub domain: Domain,
    /// Absolute path of the script.
    pub script: String,
    /// The working directory the variants ran in.
    pub cwd: String,
    /// The Python command (argv) and why it was chosen.
    pub runner: Runner,
    /// The exact command of the first process of each role.
    pub commands: RunCommands,
    /// With `show_output`: what the first counted process of each role printed.
    #[serde(default)]
    pub first_output: Vec<ProcessOutput>,
    /// How values were obtained, in words (the script's blocks, its ABBENCH line, process wall time, memray or tracemalloc).
    pub measured_by: String,
    /// Whether B computes what A computes on the script's input, checked before any timing (null in runs filed before the check existed).
    #[serde(default)]
    pub equivalence: Option<crate::equivalence::Equivalence>,
    /// Variant A (current approach): one value per counted process (paired: the median of its blocks); null when nothing was timed (different_results).
    pub a: Option<ArmSummary>,
    /// Variant B (optimized approach); null when nothing was timed.
    pub b: Option<ArmSummary>,
    /// Which design ran and why, with what it was chosen from.
    pub design: DesignReport,
    /// Memory under memray: the whole process's peak and the saving against it.
    pub process_peak: Option<ProcessPeak>,
    /// The threshold applied.
    pub threshold: Threshold,
    /// The comparison: speedup and gain (time) or saved_bytes and
    /// saved_fraction (memory) with bounds, confidence, pairs, verdict, reason.
    #[serde(flatten)]
    pub comparison: Analysis,
    /// The planned looks: pairs (paired: processes) and the error rate each spends.
    pub looks: Vec<Look>,
    /// 1-based index of the look that decided (a budget stop counts as the last look).
    pub stopped_at_look: usize,
    /// Why the run stopped: verdict, max_pairs or max_seconds.
    pub stopped_because: Stop,
    /// Order inside each pair, e.g. ["AB", "BA", ...]; paired: each process's rounds, e.g. "ABBAAB".
    pub order: Vec<String>,
    /// The seed of that order (pass it again to repeat the schedule).
    pub seed: u64,
    /// Wall seconds of the whole call, lock wait included.
    pub elapsed_s: f64,
    /// Seconds spent waiting for another abbench measurement.
    pub lock_wait_s: f64,
    /// Where the measurement is weak, and fallbacks used.
    pub warnings: Vec<String>,
    /// Interpreter and machine.
    pub environment: Environment,
    /// Revision-form scripts: where each variant's code comes from (base revision and commit, candidate, targets), as the script records it.
    #[serde(default)]
    pub revision: Option<crate::revision::RevisionInfo>,
    /// A script of several candidates: each one's verdict and speedup
    /// against A, best first (the top-level figures are the best's, else
    /// the first listed's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<super::CandidateOutcome>,
    /// The label of the best candidate: the highest lower bound among those above_threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best: Option<String>,
}

/// An arm's summary, or none when nothing was timed.
impl RunResult {
    /// Whose figures `b` holds: the best candidate, else the first listed;
    /// `None` for an A/B run.
    pub fn b_candidate(&self) -> Option<&str> {
        self.best
            .as_deref()
            .or(self.candidates.first().map(|c| c.label.as_str()))
    }

    /// `b`'s name in tables: "counter (best)", "x (listed first)" or "B (optimized)".
    pub fn b_name(&self) -> String {
        match (self.b_candidate(), &self.best) {
            (Some(label), Some(_)) => format!("{label} (best)"),
            (Some(label), None) => format!("{label} (listed first)"),
            (None, _) => "B (optimized)".to_string(),
        }
    }
}

pub(super) fn arm(values: &[f64], unit: &str) -> Option<ArmSummary> {
    (!values.is_empty()).then(|| ArmSummary::new(values, unit))
}

pub(super) fn measured_by(
    plan: &plan::Plan,
    memory: Option<&MemoryMethod>,
    probe: &Probe,
    external_timing: bool,
) -> String {
    let method = method(plan, memory, probe, external_timing);
    match &plan.inputs {
        Some(replayed) => format!("{method}; {}", replayed.described()),
        None => method,
    }
}

fn method(
    plan: &plan::Plan,
    memory: Option<&MemoryMethod>,
    probe: &Probe,
    external_timing: bool,
) -> String {
    match (memory, plan.isolation) {
        (Some(MemoryMethod::Memray { path: None }), _) => format!(
            "memray {} from the runner's environment, in-process: the variant's own peak (only the variant tracked, every Python allocation traced), above what setup left alive",
            probe.memray_version.as_deref().unwrap_or("?")
        ),
        (Some(MemoryMethod::Memray { path: Some(dir) }), _) => format!(
            "memray {} provisioned by abbench in {} (the project's environment is unchanged), in-process: the variant's own peak (only the variant tracked, every Python allocation traced), above what setup left alive",
            crate::provision::MEMRAY_VERSION,
            dir.display()
        ),
        (Some(MemoryMethod::Tracemalloc), _) => {
            "tracemalloc peak of the call (fallback: no memray)".into()
        }
        (None, Isolation::Paired) => {
            "the script's `ab` mode: per-call seconds of alternating blocks of A and B in each process".into()
        }
        (None, Isolation::Process) if external_timing => {
            "process wall time (fallback: no ABBENCH line)".into()
        }
        (None, Isolation::Process) => "the script's ABBENCH line".into(),
    }
}

/// A schedule's outcome, in the shape of the result.
pub(super) struct Measured {
    pub(super) a: Vec<f64>,
    pub(super) b: Vec<f64>,
    pub(super) design: DesignReport,
    pub(super) process_peak: Option<ProcessPeak>,
    pub(super) analysis: Analysis,
    pub(super) looks: Vec<Look>,
    pub(super) stopped_at_look: usize,
    pub(super) stopped_because: Stop,
    pub(super) order: Vec<String>,
    /// Paired: sd of the per-process log-ratios (the unit's spread).
    pub(super) unit_spread: Option<f64>,
    /// Paired: who printed to stdout and to stderr in the pilot ("a", "b", "a and b", "a or b").
    pub(super) printed: Option<[String; 2]>,
    pub(super) warnings: Vec<RunWarning>,
}

impl Measured {
    /// Nothing timed: A and B compute different results (`difference`).
    pub(super) fn not_timed(plan: &plan::Plan, difference: &str) -> Self {
        Measured {
            a: Vec::new(),
            b: Vec::new(),
            design: DesignReport::without_blocks(
                plan.isolation,
                plan.isolation_why.clone(),
                "no look: nothing was timed".into(),
            ),
            process_peak: None,
            analysis: crate::verdict::different_results(difference),
            looks: Vec::new(),
            stopped_at_look: 0,
            stopped_because: Stop::DifferentResults,
            order: Vec::new(),
            unit_spread: None,
            printed: None,
            warnings: Vec::new(),
        }
    }

    pub(super) fn from_paired(out: paired::PairedOutcome, plan: &plan::Plan) -> Self {
        let s = &out.schedule;
        let median_of = |v: &[f64]| stats::median(v);
        let a: Vec<f64> = out
            .processes
            .iter()
            .map(|p| median_of(&p.blocks.a))
            .collect();
        let b: Vec<f64> = out
            .processes
            .iter()
            .map(|p| median_of(&p.blocks.b))
            .collect();
        let d = s.log_ratios();
        let spread = (d.len() > 1).then(|| stats::summarize(&d).stdev);
        let checks = interference::check(Some(&out.pilot), &out.processes);
        let aa_sd = {
            let aa: Vec<f64> = out.pilot.aa[0]
                .iter()
                .zip(&out.pilot.aa[1])
                .map(|(x, y)| (x / y).ln())
                .collect();
            (aa.len() > 1).then(|| stats::robust_sd(&aa) / (aa.len() as f64).sqrt())
        };
        let warnings = interference::warnings(&checks, aa_sd);
        Measured {
            a,
            b,
            design: DesignReport {
                isolation: Isolation::Paired,
                chosen_because: plan.isolation_why.clone(),
                first_look_because: s.first_look_why().to_string(),
                block: Some(s.block().clone()),
                rounds: s.rounds_log().to_vec(),
                variance: Some(s.variance().clone()),
                process_speedups: d.iter().map(|v| v.exp()).collect(),
                process_log_sd: spread,
                interference: Some(checks),
            },
            process_peak: None,
            analysis: out.analysis,
            looks: s.looks().to_vec(),
            stopped_at_look: out.stopped_at_look,
            stopped_because: out.stopped_because,
            order: out
                .processes
                .iter()
                .map(|p| p.blocks.order.clone())
                .collect(),
            unit_spread: spread,
            printed: Some(printers(&out.pilot)),
            warnings,
        }
    }

    pub(super) fn from_unpaired(out: schedule::UnpairedOutcome, plan: &plan::Plan) -> Self {
        let process_peak = out.peaks.map(|(pa, pb)| {
            let median = stats::median(&pa);
            ProcessPeak {
                saved_fraction: out.analysis.saved_bytes.map(|s| Estimate {
                    estimate: s.estimate / median,
                    low: s.low.map(|v| v / median),
                    high: s.high.map(|v| v / median),
                }),
                a: ArmSummary::new(&pa, "bytes"),
                b: ArmSummary::new(&pb, "bytes"),
            }
        });
        Measured {
            design: DesignReport::without_blocks(
                Isolation::Process,
                plan.isolation_why.clone(),
                match plan.min_pairs {
                    Some(n) => format!("{n} pairs: given as `min_pairs`"),
                    None => format!(
                        "{} pairs: the default first look of this design (an exact rank test of {0} against {0} can reach the first look's {:.0} %)",
                        plan.looks[0].pairs,
                        crate::verdict::FIRST_LOOK_ALPHA * 100.0
                    ),
                },
            ),
            a: out.a,
            b: out.b,
            process_peak,
            analysis: out.analysis,
            looks: plan.looks.clone(),
            stopped_at_look: out.stopped_at_look,
            stopped_because: out.stopped_because,
            order: out.order,
            unit_spread: None,
            printed: None,
            warnings: Vec::new(),
        }
    }
}

/// Which variant printed to stdout and to stderr, from the pilot's counts.
fn printers(pilot: &blocks::Pilot) -> [String; 2] {
    let who = |a: u64, b: u64| {
        match (a > 0, b > 0) {
            (true, false) => "a",
            (false, true) => "b",
            (true, true) => "a and b",
            (false, false) => "a or b",
        }
        .to_string()
    };
    let o = &pilot.output;
    [who(o.a.stdout, o.b.stdout), who(o.a.stderr, o.b.stderr)]
}
