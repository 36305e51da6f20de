//! What an agent reads: each tool's compact answer, led by the verdict or
//! decision, its reason, the estimate with bounds and the next step, and
//! nothing the agent already has (the script is on disk at `path`; per-
//! process values, probes, environment and commands stay in the ledger).
//! `detail: "full"` adds the whole record as `record`, and
//! `benchmark_history` with `run_id` returns any filed record whole. Each
//! answer also renders the few lines a client that shows text shows.

use schemars::JsonSchema;
use serde::Serialize;

use crate::bench::RunResult;
use crate::domain::Domain;
use crate::e2e::E2eResult;
use crate::equivalence::{Equivalence, EquivalenceStatus};
use crate::generate::GeneratedScript;
use crate::history::HistoryResult;
use crate::keep::{ConditionName, Decision, KeepResult};
use crate::verdict::{Estimate, Verdict};

pub use crate::history::Detail;

/// An answer's few lines, for clients that show text.
pub trait Summary {
    /// Led by the verdict or decision.
    fn text(&self) -> String;
}

/// A tool's answer as MCP carries it: `structuredContent` (the compact
/// JSON an agent acts on) and a text block of its [`Summary`].
pub struct Answer<T>(pub T);

impl<T: Serialize + JsonSchema + Summary + 'static> rmcp::handler::server::tool::IntoCallToolResult
    for Answer<T>
{
    fn into_call_tool_result(self) -> Result<rmcp::model::CallToolResponse, rmcp::ErrorData> {
        let text = self.0.text();
        let value = serde_json::to_value(self.0).map_err(|e| {
            rmcp::ErrorData::internal_error(format!("cannot serialize the answer: {e}"), None)
        })?;
        let mut result = rmcp::model::CallToolResult::structured(value);
        result.content = vec![rmcp::model::ContentBlock::text(text)];
        Ok(result.into())
    }
}

/// The output schema of a tool whose answer is compact.
pub fn schema(tool: &str) -> Option<std::sync::Arc<rmcp::model::JsonObject>> {
    use rmcp::handler::server::common::schema_for_output as of;
    Some(match tool {
        "generate_ab_script" => of::<GenerateAnswer>(),
        "run_ab_benchmark" => of::<RunAnswer>(),
        "run_e2e_benchmark" => of::<E2eAnswer>(),
        "check_keep_conditions" => of::<KeepAnswer>(),
        "benchmark_history" => of::<HistoryAnswer>(),
        _ => return None,
    })
}

/// Whether B computes what A computes, in short.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Same {
    /// same | different | nondeterministic | not_checked.
    pub status: EquivalenceStatus,
    /// Where A and B differ (different, nondeterministic), or why nothing was compared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// What is worth knowing even when they agree (e.g. a generator where A returns a list).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl From<&Equivalence> for Same {
    fn from(e: &Equivalence) -> Self {
        Same {
            status: e.status,
            detail: e.first_difference.clone().or_else(|| e.reason.clone()),
            notes: e.notes.clone(),
        }
    }
}

/// The full record, when asked for.
fn record<T: Serialize>(detail: Detail, full: &T) -> Option<serde_json::Value> {
    (detail == Detail::Full).then(|| serde_json::to_value(full).expect("results serialize"))
}

fn bounded(name: &str, e: &Estimate, show: impl Fn(f64) -> String) -> String {
    let bound = |v: Option<f64>| v.map_or_else(|| "unbounded".into(), &show);
    format!(
        "{name} {} [{} .. {}]",
        show(e.estimate),
        bound(e.low),
        bound(e.high)
    )
}

/// `generate_ab_script`'s answer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GenerateAnswer {
    /// The script written (absolute path).
    pub path: String,
    /// Whether B computed what A computed when each ran once.
    pub equivalence: Same,
    /// Revision form: targets whose own definition is unchanged (the difference is elsewhere in their module).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unchanged_targets: Vec<String>,
    /// With `inputs_from`: the calls replayed, in one sentence (the record has the figures).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inputs: Option<String>,
    /// With `candidates`: each one's result when run once against A, or what it duplicates.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<CandidateLine>,
    /// What to call next.
    pub next_step: String,
    /// One sentence each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// With `include_script`: the script's text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    /// With `detail: "full"`: the whole record (commands, runner, targets, measurement, threshold).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    pub record: Option<serde_json::Value>,
}

impl GenerateAnswer {
    /// The answer to `generated`, with the script when asked for.
    pub fn of(
        g: &GeneratedScript,
        include_script: bool,
        detail: Detail,
        cwd: Option<&std::path::Path>,
    ) -> Self {
        let cwd = cwd
            .map(|c| format!(" and cwd {:?}", c.display().to_string()))
            .unwrap_or_default();
        let next_step = match g.equivalence.status {
            EquivalenceStatus::Different => format!(
                "make B compute what A computes (equivalence.detail), then generate again; run_ab_benchmark would answer different_results for {:?}",
                g.path
            ),
            _ => format!("run_ab_benchmark with script {:?}{cwd}", g.path),
        };
        GenerateAnswer {
            path: g.path.clone(),
            equivalence: Same::from(&g.equivalence),
            unchanged_targets: g
                .targets_checked
                .iter()
                .filter(|t| t.same_definition)
                .map(|t| t.target.clone())
                .collect(),
            inputs: g.inputs.as_ref().map(|i| i.sentence()),
            candidates: g
                .candidates
                .iter()
                .map(|c| CandidateLine {
                    label: c.label.clone(),
                    verdict: None,
                    speedup: None,
                    equivalence: c.equivalence.as_ref().map(|e| e.status),
                    detail: c
                        .equivalence
                        .as_ref()
                        .filter(|e| e.status == EquivalenceStatus::Different)
                        .and_then(|e| e.first_difference.as_deref())
                        .map(short),
                    processes: None,
                    duplicate_of: c.duplicate_of.clone(),
                })
                .collect(),
            next_step,
            warnings: g.warnings.clone(),
            script: include_script.then(|| g.script.clone()),
            record: record(detail, g),
        }
    }
}

impl Summary for GenerateAnswer {
    fn text(&self) -> String {
        let mut out = format!(
            "wrote {}\nsame result: {}{}\nnext: {}\n",
            self.path,
            self.equivalence.status.as_str(),
            self.equivalence
                .detail
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default(),
            self.next_step
        );
        if let Some(i) = &self.inputs {
            out.push_str(&format!("inputs: {i}\n"));
        }
        if !self.candidates.is_empty() {
            out.push_str("candidates:\n");
            for c in &self.candidates {
                out.push_str(&c.text());
            }
        }
        for w in &self.warnings {
            out.push_str(&format!("warning: {w}\n"));
        }
        out
    }
}

/// A verdict with its reason, estimate, bounds and threshold: how both
/// measuring tools' answers begin.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Verdicted {
    /// above_threshold | below_threshold | regression | inconclusive | different_results.
    pub verdict: Verdict,
    /// Why, with the figures.
    pub reason: String,
    /// Time: A / B (e2e: base / candidate; above 1: faster), with its one-sided bounds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speedup: Option<Estimate>,
    /// Memory: A - B in bytes (above 0: B uses less), with its bounds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saved_bytes: Option<Estimate>,
    /// Memory: (A - B) / A of A's own peak, with its bounds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saved_fraction: Option<Estimate>,
    /// One-sided confidence of each bound (null when nothing was measured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// The threshold applied.
    pub threshold: String,
}

impl Verdicted {
    fn of(
        c: &crate::verdict::Analysis,
        threshold: &crate::domain::Threshold,
        measured: bool,
    ) -> Self {
        Verdicted {
            verdict: c.verdict,
            reason: c.reason.clone(),
            speedup: c.speedup,
            saved_bytes: c.saved_bytes,
            saved_fraction: c.saved_fraction,
            confidence: measured.then_some(c.confidence),
            threshold: threshold.description.clone(),
        }
    }

    /// `VERDICT …` and the estimate with its bounds, one line each.
    fn text(&self) -> String {
        let mut out = format!("VERDICT {}: {}\n", self.verdict.as_str(), self.reason);
        if let Some(s) = &self.speedup {
            out.push_str(&bounded("speedup", s, |v| format!("{v:.3}x")));
            out.push('\n');
        }
        if let Some(b) = &self.saved_bytes {
            out.push_str(&bounded("saved", b, |v| {
                format!("{:.2} MiB", v / crate::domain::MIB as f64)
            }));
            out.push('\n');
        }
        out
    }
}

/// One candidate of a multi-candidate script or run, in short.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CandidateLine {
    /// Its label.
    pub label: String,
    /// Its verdict against A (runs only; null for a duplicate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// A / candidate with its bounds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speedup: Option<Estimate>,
    /// same | different | nondeterministic | not_checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub equivalence: Option<EquivalenceStatus>,
    /// Where it differs from A.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Processes it was timed in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processes: Option<usize>,
    /// "A" or the candidate whose code it repeats (not measured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
}

impl CandidateLine {
    fn of(c: &crate::bench::CandidateOutcome) -> Self {
        CandidateLine {
            label: c.label.clone(),
            verdict: c.verdict,
            speedup: c.speedup.map(|s| Estimate {
                estimate: round3(s.estimate),
                low: s.low.map(round3),
                high: s.high.map(round3),
            }),
            equivalence: c.equivalence.as_ref().map(|e| e.status),
            detail: c.first_difference.as_deref().map(short),
            processes: (c.duplicate_of.is_none()).then_some(c.processes),
            duplicate_of: c.duplicate_of.clone(),
        }
    }

    fn text(&self) -> String {
        let mut out = format!("  {}: ", self.label);
        match (&self.duplicate_of, self.verdict) {
            (Some(of), _) => out.push_str(&format!("duplicate of {of}, not measured")),
            (None, Some(v)) => {
                out.push_str(v.as_str());
                if let Some(s) = &self.speedup {
                    out.push_str(&format!(" {}", s.show(|v| format!("{v:.3}x"))));
                }
            }
            (None, None) => out.push_str(&format!(
                "same result: {}",
                self.equivalence.map_or("?", |e| e.as_str())
            )),
        }
        if let Some(d) = &self.detail {
            out.push_str(&format!(" ({d})"));
        }
        out.push('\n');
        out
    }
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// At most 160 characters of a difference.
fn short(text: &str) -> String {
    match text.char_indices().nth(157) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}

/// `run_ab_benchmark`'s answer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RunAnswer {
    /// The verdict, its reason and figures.
    #[serde(flatten)]
    pub head: Verdicted,
    /// Whether B computes what A computes on the script's input.
    pub equivalence: Same,
    /// Pairs (paired design: processes) measured.
    pub pairs: usize,
    /// Several candidates: each one against A, best first (the verdict above is the best's).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<CandidateLine>,
    /// Several candidates: the best one's label (the highest lower bound above the threshold).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best: Option<String>,
    /// The run's id (check_keep_conditions, benchmark_history).
    pub run_id: String,
    /// What to do next.
    pub next_step: String,
    /// Where the measurement is weak, one sentence each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// With `show_output`: what the first counted process of each role printed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub output: Vec<crate::bench::ProcessOutput>,
    /// With `detail: "full"`: the whole record (values, design, commands, environment).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    pub record: Option<serde_json::Value>,
}

impl RunAnswer {
    /// The answer to `r`.
    pub fn of(r: &RunResult, detail: Detail) -> Self {
        let c = &r.comparison;
        let next_step = match c.verdict {
            Verdict::AboveThreshold => format!("check_keep_conditions with run_id {:?}, the repo, the full test_command and target_test", r.run_id),
            Verdict::BelowThreshold => format!("any gain is under the threshold: try another candidate, or check_keep_conditions with run_id {:?} (it decides discard or needs_e2e)", r.run_id),
            Verdict::Regression => "drop B: it is worse than A".into(),
            Verdict::Inconclusive => "run again with a larger max_pairs or max_seconds, or more work per call; or confirm end to end with run_e2e_benchmark".into(),
            Verdict::DifferentResults => "make B compute what A computes (equivalence.detail), regenerate and run again; pass equivalence: \"unordered\" only if the order of a list does not matter".into(),
        };
        RunAnswer {
            head: Verdicted::of(c, &r.threshold, r.a.is_some()),
            equivalence: r.equivalence.as_ref().map_or(
                Same {
                    status: EquivalenceStatus::NotChecked,
                    detail: Some("run filed before abbench checked equivalence".into()),
                    notes: Vec::new(),
                },
                Same::from,
            ),
            pairs: c.pairs,
            candidates: r.candidates.iter().map(CandidateLine::of).collect(),
            best: r.best.clone(),
            run_id: r.run_id.clone(),
            next_step: match (&r.best, r.candidates.is_empty()) {
                (Some(best), _) => format!("the best candidate is {best:?}: put its code in place, then check_keep_conditions with run_id {:?}, the repo, the full test_command and target_test", r.run_id),
                (None, false) => "no candidate clears the threshold: try other ideas, or confirm the most promising end to end with run_e2e_benchmark".into(),
                (None, true) => next_step,
            },
            warnings: r.warnings.clone(),
            output: r.first_output.clone(),
            record: record(detail, r),
        }
    }
}

impl Summary for RunAnswer {
    fn text(&self) -> String {
        let mut out = self.head.text();
        if !self.candidates.is_empty() {
            out.push_str(&format!(
                "candidates, best first{}:\n",
                self.best
                    .as_deref()
                    .map(|b| format!(" (best: {b})"))
                    .unwrap_or_default()
            ));
            for c in &self.candidates {
                out.push_str(&c.text());
            }
        }
        out.push_str(&format!(
            "same result: {}\nrun_id {}; next: {}\n",
            self.equivalence.status.as_str(),
            self.run_id,
            self.next_step
        ));
        for w in &self.warnings {
            out.push_str(&format!("warning: {w}\n"));
        }
        out
    }
}

/// One condition, in short.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ConditionAnswer {
    /// improvement | tests | simplicity | hot_path.
    pub name: ConditionName,
    /// Whether it holds.
    pub passed: bool,
    /// Its figures in one sentence.
    pub summary: String,
}

/// `check_keep_conditions`'s answer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct KeepAnswer {
    /// keep | needs_e2e | discard.
    pub decision: Decision,
    /// Why.
    pub reason: String,
    /// What to do next.
    pub next_step: String,
    /// The conditions that blocked a keep.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocking: Vec<ConditionName>,
    /// Each condition.
    pub conditions: Vec<ConditionAnswer>,
    /// The decision's id in the ledger.
    pub check_id: String,
    /// One sentence each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// With `detail: "full"`: the whole record (every figure, limits, durations).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    pub record: Option<serde_json::Value>,
}

impl KeepAnswer {
    /// The answer to `k`.
    pub fn of(k: &KeepResult, detail: Detail) -> Self {
        KeepAnswer {
            decision: k.decision,
            reason: k.reason.clone(),
            next_step: k.next_step.clone(),
            blocking: k.blocking.clone(),
            conditions: k
                .conditions
                .iter()
                .map(|c| ConditionAnswer {
                    name: c.name,
                    passed: c.passed,
                    summary: c.summary.clone(),
                })
                .collect(),
            check_id: k.check_id.clone(),
            warnings: k.warnings.clone(),
            record: record(detail, k),
        }
    }
}

impl Summary for KeepAnswer {
    fn text(&self) -> String {
        let mut out = format!(
            "DECISION {}: {}\nnext: {}\n",
            self.decision.as_str(),
            self.reason,
            self.next_step
        );
        for c in &self.conditions {
            let mark = if c.passed { "PASS" } else { "FAIL" };
            out.push_str(&format!("{mark} {}: {}\n", c.name.as_str(), c.summary));
        }
        out
    }
}

/// `run_e2e_benchmark`'s answer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct E2eAnswer {
    /// The verdict (above_threshold | below_threshold | regression | inconclusive), its reason and figures, base as A.
    #[serde(flatten)]
    pub head: Verdicted,
    /// Each target function inside the workload, one sentence.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// With `compare_output`: whether both revisions printed the same stdout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub equivalence: Option<Same>,
    /// Pairs measured.
    pub pairs: usize,
    /// The run's id (check_keep_conditions' `e2e_run_id`).
    pub run_id: String,
    /// What to do next.
    pub next_step: String,
    /// One sentence each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// With `detail: "full"`: the whole record.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    pub record: Option<serde_json::Value>,
}

impl E2eAnswer {
    /// The answer to `r`.
    pub fn of(r: &E2eResult, detail: Detail) -> Self {
        let c = &r.comparison;
        E2eAnswer {
            head: Verdicted::of(c, &r.threshold, true),
            targets: r.targets.iter().map(|t| t.summary.clone()).collect(),
            equivalence: r
                .equivalence
                .as_ref()
                .filter(|e| e.status != EquivalenceStatus::NotChecked)
                .map(Same::from),
            pairs: c.pairs,
            run_id: r.run_id.clone(),
            next_step: format!(
                "check_keep_conditions with e2e_run_id {:?} (and the micro run's run_id)",
                r.run_id
            ),
            warnings: r.warnings.clone(),
            record: record(detail, r),
        }
    }
}

impl Summary for E2eAnswer {
    fn text(&self) -> String {
        let mut out = self.head.text();
        for t in &self.targets {
            out.push_str(&format!("target: {t}\n"));
        }
        out.push_str(&format!(
            "run_id {}; next: {}\n",
            self.run_id, self.next_step
        ));
        for w in &self.warnings {
            out.push_str(&format!("warning: {w}\n"));
        }
        out
    }
}

/// A run, as listed.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ListedRun {
    /// The run's id (`run_id` here returns it whole).
    pub run_id: String,
    /// When it finished, RFC 3339 UTC.
    pub created_at: String,
    /// The benchmark name, else the script.
    pub name: String,
    /// The domain.
    pub domain: Domain,
    /// The verdict.
    pub verdict: Verdict,
    /// The estimate in words with its bounds and unit.
    pub estimate: String,
    /// Keep decisions about it, newest first: "decision (function[, judged on e2e-…])".
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub decisions: Vec<String>,
    /// e2e runs that confirm it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub e2e_run_ids: Vec<String>,
    /// An e2e run: the micro run it confirms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirms: Option<String>,
    /// Several candidates: "label: verdict, estimate", best first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<String>,
}

/// `benchmark_history`'s answer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HistoryAnswer {
    /// Matching micro runs and e2e runs, newest first.
    pub runs: Vec<ListedRun>,
    /// With `run_id`: that run (or e2e run, or keep check) whole, as filed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    pub record: Option<serde_json::Value>,
    /// One sentence each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl HistoryAnswer {
    /// The listing of `h`.
    pub fn of(h: &HistoryResult) -> Self {
        let mut runs: Vec<ListedRun> = h
            .runs
            .iter()
            .map(|r| ListedRun {
                run_id: r.run_id.clone(),
                created_at: r.created_at.clone(),
                name: r.name.clone().unwrap_or_else(|| r.script.clone()),
                domain: r.domain,
                verdict: r.verdict,
                estimate: r.estimate.clone(),
                decisions: r
                    .decisions
                    .iter()
                    .map(|d| match &d.e2e_run_id {
                        Some(e2e) => format!(
                            "{} ({}, judged on {e2e})",
                            d.decision.as_str(),
                            d.target_function
                        ),
                        None => format!("{} ({})", d.decision.as_str(), d.target_function),
                    })
                    .collect(),
                e2e_run_ids: r.e2e_run_ids.clone(),
                confirms: None,
                candidates: r.candidates.clone(),
            })
            .collect();
        runs.extend(h.e2e_runs.iter().map(|e| ListedRun {
            run_id: e.run_id.clone(),
            created_at: e.created_at.clone(),
            name: shell_words::join(&e.command),
            domain: e.domain,
            verdict: e.verdict,
            estimate: e.estimate.clone(),
            decisions: Vec::new(),
            e2e_run_ids: Vec::new(),
            confirms: e.micro_run_id.clone(),
            candidates: Vec::new(),
        }));
        runs.sort_by(|a, b| b.created_at.cmp(&a.created_at));
        HistoryAnswer {
            runs,
            record: h.record.clone(),
            warnings: h.warnings.clone(),
        }
    }
}

impl Summary for HistoryAnswer {
    fn text(&self) -> String {
        let mut out = String::new();
        if let Some(record) = &self.record {
            out.push_str(&serde_json::to_string(record).unwrap_or_default());
            out.push('\n');
        }
        for r in &self.runs {
            out.push_str(&format!(
                "{} {} {} {}: {}\n",
                r.created_at,
                r.run_id,
                r.name,
                r.verdict.as_str(),
                r.estimate
            ));
            for c in &r.candidates {
                out.push_str(&format!("  {c}\n"));
            }
        }
        out
    }
}
