//! The keep check with an e2e run (`e2e_run_id`): the run must measure
//! this change, and then it — not the micro run — decides the improvement
//! condition, and the target's share of the real workload is the hot-path
//! evidence when the run timed the target.

use serde_json::json;

use super::hot_path::Target;
use super::{invalid, Condition, ConditionName, KeepError};
use crate::bench::FiledRun;
use crate::e2e::{FiledE2e, TargetReport};
use crate::git::{Change, Repo};
use crate::ledger::Ledger;
use crate::revision;
use crate::verdict::Verdict;

/// The e2e run from the ledger, checked against the micro run it is to confirm.
pub(super) fn filed_for(
    id: &str,
    micro: &FiledRun,
    ledger: &Ledger,
) -> Result<FiledE2e, KeepError> {
    let e2e = crate::e2e::filed(id, ledger)?.ok_or_else(|| {
        invalid(format!(
            "unknown e2e_run_id {id:?}: use the run_id returned by run_e2e_benchmark (benchmark_history lists them under e2e_runs)"
        ))
    })?;
    if e2e.domain.is_time() != micro.domain.is_time() {
        return Err(invalid(format!(
            "e2e run {id} measured {} and micro run {} measured {}: confirm a micro run with an e2e run of the same kind (time or memory)",
            e2e.domain, micro.run_id, micro.domain
        )));
    }
    Ok(e2e)
}

/// The e2e run compared this repository's base with this work tree.
pub(super) fn same_change(e2e: &FiledE2e, repo: &Repo, change: &Change) -> Result<(), KeepError> {
    let r = &e2e.result;
    if std::path::Path::new(&r.repo) != repo.root {
        return Err(invalid(format!(
            "e2e run {} measured the repository {}, not {}: pass the e2e run of this repository",
            r.run_id,
            r.repo,
            repo.root.display()
        )));
    }
    if r.revisions.base_commit != change.old {
        return Err(invalid(format!(
            "e2e run {} compared against base {}, this check against {}: pass base \"{}\", or run run_e2e_benchmark again with this base",
            r.run_id,
            &r.revisions.base_commit[..12],
            &change.old[..12],
            r.revisions.base_commit
        )));
    }
    Ok(())
}

/// The e2e run's report of `target`, when it timed it.
pub(super) fn target_in<'a>(e2e: &'a FiledE2e, target: &Target) -> Option<&'a TargetReport> {
    e2e.result.targets.iter().find(|t| {
        revision::Target::parse(&t.function)
            .is_ok_and(|p| p.file == target.file && p.qualname == target.qualname)
    })
}

/// Condition 1 judged end to end; also regression and any-gain evidence.
pub(super) fn improvement(e2e: &FiledE2e, micro: &FiledRun) -> (Condition, bool, bool) {
    let r = &e2e.result;
    let c = &r.comparison;
    let (estimate, low) = match (c.gain, c.saved_bytes) {
        (Some(g), _) => (g.show(|x| format!("{:+.1} %", 100.0 * x)), g.low),
        (None, Some(s)) => (
            s.show(|x| format!("{:.2} MiB", x / crate::domain::MIB as f64)),
            s.low,
        ),
        (None, None) => ("no estimate".into(), None),
    };
    let summary = format!(
        "end to end (e2e run {}): verdict {}: {} against the threshold {}, after {} pairs; the micro run {} said {}",
        r.run_id,
        c.verdict.as_str(),
        estimate,
        r.threshold.description,
        c.pairs,
        micro.run_id,
        micro.verdict.as_str()
    );
    let condition = Condition {
        name: ConditionName::Improvement,
        passed: c.verdict == Verdict::AboveThreshold,
        summary,
        figures: json!({
            "e2e_run_id": r.run_id,
            "verdict": c.verdict,
            "reason": c.reason,
            "speedup": c.speedup,
            "gain": c.gain,
            "saved_bytes": c.saved_bytes,
            "threshold": r.threshold,
            "pairs": c.pairs,
            "micro_run_id": micro.run_id,
            "micro_verdict": micro.verdict,
        }),
    };
    let any_gain = low.is_some_and(|l| l > 0.0);
    (condition, c.verdict == Verdict::Regression, any_gain)
}

/// Condition 4 from the target's share of the real workload on the base.
pub(super) fn hot_path(e2e: &FiledE2e, t: &TargetReport, min_hot_share: f64) -> Condition {
    let share = t.base.as_ref().map_or(0.0, |b| b.share);
    let passed = t.base.is_some() && share >= min_hot_share;
    Condition {
        name: ConditionName::HotPath,
        passed,
        summary: format!(
            "end to end (e2e run {}): {}; the bar is {:.1} % of the workload on the base",
            e2e.result.run_id,
            t.summary,
            100.0 * min_hot_share
        ),
        figures: json!({
            "e2e_run_id": e2e.result.run_id,
            "share_base": t.base.as_ref().map(|b| b.share),
            "share_candidate": t.candidate.as_ref().map(|c| c.share),
            "calls_base": t.base.as_ref().map(|b| b.calls),
            "function_speedup": t.speedup,
            "min_hot_share": min_hot_share,
        }),
    }
}
