//! The decision from the four evaluated conditions, and the next step it
//! calls for: pure, so every branch is unit-tested.

use super::{Condition, ConditionName, Decision};
use crate::verdict::Verdict;

/// What the conditions say beyond passed / failed.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Evidence<'a> {
    /// The micro run found that B computes something else: the first difference.
    pub(super) different: Option<&'a str>,
    /// The full test suite passed.
    pub(super) tests_passed: bool,
    /// The micro-benchmark's verdict is `regression`.
    pub(super) regression: bool,
    /// The interval's lower bound shows some gain.
    pub(super) any_gain: bool,
}

/// keep / needs_e2e / discard, why, and the conditions that blocked a keep.
pub(super) fn decide(
    conditions: &[Condition],
    evidence: Evidence,
) -> (Decision, String, Vec<ConditionName>) {
    let blocking: Vec<ConditionName> = conditions
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name)
        .collect();
    let (decision, reason) = if let Some(difference) = evidence.different {
        (Decision::Discard, changes_behaviour(difference, evidence))
    } else if blocking.is_empty() {
        (Decision::Keep, "all four conditions hold".to_string())
    } else if !evidence.tests_passed {
        (
            Decision::Discard,
            "the test suite fails with the change".into(),
        )
    } else if evidence.regression {
        (
            Decision::Discard,
            "the micro-benchmark shows a regression".into(),
        )
    } else if !evidence.any_gain {
        (
            Decision::Discard,
            "the micro-benchmark shows no evidence of any gain (its interval reaches zero)".into(),
        )
    } else {
        let names: Vec<&str> = blocking.iter().map(|n| n.as_str()).collect();
        (
            Decision::NeedsE2e,
            format!("a micro-only keep is blocked by: {}", names.join(", ")),
        )
    };
    (decision, reason, blocking)
}

/// Why a candidate that computes something else is discarded, tests or not.
fn changes_behaviour(difference: &str, evidence: Evidence) -> String {
    format!(
        "the candidate changes behaviour on the benchmark input ({difference}){}",
        if evidence.tests_passed {
            ", although the tests pass: they do not cover this difference"
        } else {
            ""
        }
    )
}

/// The decision when an e2e run judged the improvement: it settles what
/// the micro run could not; `needs_e2e` stays only for an inconclusive e2e
/// run, or a confirmed gain whose change is not simple, each with its reason.
pub(super) fn decide_e2e(
    conditions: &[Condition],
    evidence: Evidence,
    e2e: Verdict,
) -> (Decision, String, Vec<ConditionName>) {
    let blocking: Vec<ConditionName> = conditions
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name)
        .collect();
    let names = || {
        blocking
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (decision, reason) = if let Some(difference) = evidence.different {
        (Decision::Discard, changes_behaviour(difference, evidence))
    } else if blocking.is_empty() {
        (
            Decision::Keep,
            "all four conditions hold, the improvement judged end to end".to_string(),
        )
    } else if !evidence.tests_passed {
        (
            Decision::Discard,
            "the test suite fails with the change".into(),
        )
    } else {
        match e2e {
            Verdict::Regression => (
                Decision::Discard,
                "the end-to-end run shows a regression".into(),
            ),
            Verdict::BelowThreshold => (
                Decision::Discard,
                "the end-to-end gain is below the threshold: the micro gain does not carry over to the workload".into(),
            ),
            Verdict::Inconclusive if !evidence.any_gain => (
                Decision::Discard,
                "the end-to-end run shows no evidence of any gain (its interval reaches zero)".into(),
            ),
            Verdict::Inconclusive => (
                Decision::NeedsE2e,
                "the end-to-end run shows a gain but cannot tell whether it clears the threshold".into(),
            ),
            Verdict::AboveThreshold => (
                Decision::NeedsE2e,
                format!("the end-to-end gain clears the threshold, but a keep is blocked by: {}", names()),
            ),
            Verdict::DifferentResults => (
                Decision::Discard,
                "the end-to-end run found that the candidate's workload output differs from the base's".into(),
            ),
        }
    };
    (decision, reason, blocking)
}

/// The revisions and commands the next step names.
pub(super) struct Revisions<'a> {
    /// The base commit.
    pub(super) base: &'a str,
    /// The candidate commit; `None` for the work tree.
    pub(super) candidate: Option<&'a str>,
    /// `file.py::qualname` of the target.
    pub(super) target: &'a str,
    /// The test command, for timing end to end by hand.
    pub(super) test_command: &'a str,
    /// `codeflash` is on PATH.
    pub(super) codeflash: bool,
    /// The micro run judged.
    pub(super) run_id: &'a str,
    /// An e2e run was given.
    pub(super) e2e_done: bool,
    /// The conditions that blocked a keep.
    pub(super) blocking: &'a [ConditionName],
}

/// After an e2e run, only the actions that can change the decision: more
/// measurement cannot make a change simpler.
fn after_e2e(reason: &str, blocking: &[ConditionName]) -> String {
    let mut actions = Vec::new();
    if blocking.contains(&ConditionName::Improvement) {
        actions.push("lengthen the workload or raise max_pairs and run run_e2e_benchmark again");
    }
    if blocking.contains(&ConditionName::HotPath) {
        actions.push("give run_e2e_benchmark a workload in which the function takes a larger share (with target_functions), or pass a target_test that exercises it");
    }
    let measure = !actions.is_empty();
    if blocking.contains(&ConditionName::Simplicity) {
        actions.push(if measure {
            "simplify the change"
        } else {
            "simplify the change (more measurement cannot change this decision), or let a person accept it as it is"
        });
    }
    if actions.is_empty() {
        actions.push("run run_e2e_benchmark again with a longer workload");
    }
    format!(
        "{reason}: {}; then check_keep_conditions again{}",
        actions.join("; or "),
        if measure {
            " with the new e2e_run_id"
        } else {
            ""
        }
    )
}

/// What the agent should do next.
pub(super) fn next_step(decision: Decision, reason: &str, r: &Revisions) -> String {
    let base = &r.base[..r.base.len().min(12)];
    match decision {
        Decision::Keep if r.e2e_done => {
            "keep the change and commit it: the end-to-end run confirms the gain".to_string()
        }
        Decision::Keep => {
            "keep the change and commit it: the micro-benchmark alone justifies it".to_string()
        }
        Decision::Discard => format!("revert the change ({reason}) and try another candidate"),
        Decision::NeedsE2e if r.e2e_done => after_e2e(reason, r.blocking),
        Decision::NeedsE2e => {
            let codeflash = match (r.codeflash, r.candidate) {
                (true, Some(h)) => format!(
                    " (or `codeflash compare {base} {} --functions '{}'`)",
                    &h[..h.len().min(12)],
                    r.target
                ),
                _ => String::new(),
            };
            format!(
                "confirm end to end: call run_e2e_benchmark with this repo, base {base}, `command` the project's real workload (its benchmark script, or a test such as `{}`), target_functions [\"{}\"] and micro_run_id {:?}{codeflash}; then call check_keep_conditions again with its run_id as e2e_run_id",
                r.test_command, r.target, r.run_id
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conditions(passed: [bool; 4]) -> Vec<Condition> {
        ConditionName::ALL
            .iter()
            .zip(passed)
            .map(|(&name, passed)| Condition {
                name,
                passed,
                summary: String::new(),
                figures: serde_json::Value::Null,
            })
            .collect()
    }

    #[test]
    fn every_branch_of_the_decision() {
        let fine = Evidence {
            different: None,
            tests_passed: true,
            regression: false,
            any_gain: true,
        };
        let d = |passed, e| decide(&conditions(passed), e);
        assert_eq!(d([true; 4], fine).0, Decision::Keep);
        let (decision, reason, blocking) = d([true, true, false, false], fine);
        assert_eq!(decision, Decision::NeedsE2e);
        assert_eq!(
            blocking,
            [ConditionName::Simplicity, ConditionName::HotPath]
        );
        assert!(reason.ends_with("simplicity, hot_path"), "{reason}");
        let failing = Evidence {
            tests_passed: false,
            ..fine
        };
        assert_eq!(d([true, false, true, true], failing).0, Decision::Discard);
        let regression = Evidence {
            regression: true,
            ..fine
        };
        assert!(d([false, true, true, true], regression)
            .1
            .contains("regression"));
        let nothing = Evidence {
            any_gain: false,
            ..fine
        };
        assert!(d([false, true, true, true], nothing)
            .1
            .contains("no evidence"));
    }

    #[test]
    fn an_e2e_run_settles_what_the_micro_run_could_not() {
        let fine = Evidence {
            different: None,
            tests_passed: true,
            regression: false,
            any_gain: true,
        };
        let d = |passed, e, v| decide_e2e(&conditions(passed), e, v);
        assert_eq!(
            d([true; 4], fine, Verdict::AboveThreshold).0,
            Decision::Keep
        );
        let (decision, reason, _) = d([false, true, true, true], fine, Verdict::BelowThreshold);
        assert_eq!(decision, Decision::Discard);
        assert!(reason.contains("below the threshold"), "{reason}");
        let regression = Evidence {
            regression: true,
            any_gain: false,
            ..fine
        };
        assert_eq!(
            d([false, true, true, true], regression, Verdict::Regression).0,
            Decision::Discard
        );
        assert_eq!(
            d([false, true, true, true], fine, Verdict::Inconclusive).0,
            Decision::NeedsE2e
        );
        let nothing = Evidence {
            any_gain: false,
            ..fine
        };
        assert_eq!(
            d([false, true, true, true], nothing, Verdict::Inconclusive).0,
            Decision::Discard
        );
        let (decision, reason, blocking) =
            d([true, true, false, true], fine, Verdict::AboveThreshold);
        assert_eq!(
            (decision, blocking),
            (Decision::NeedsE2e, vec![ConditionName::Simplicity])
        );
        assert!(reason.ends_with("blocked by: simplicity"), "{reason}");
        let failing = Evidence {
            tests_passed: false,
            ..fine
        };
        assert_eq!(
            d([true, false, true, true], failing, Verdict::AboveThreshold).0,
            Decision::Discard
        );
    }

    /// A candidate that computes something else is discarded whatever the
    /// other conditions say, with the difference in the reason.
    #[test]
    fn different_results_discard_even_when_tests_pass() {
        let wrong = Evidence {
            different: Some("result[0]: 'w1' (A) != 'w9' (B)"),
            tests_passed: true,
            regression: false,
            any_gain: true,
        };
        for decide_with in [
            |c: &[Condition], e| decide(c, e),
            |c: &[Condition], e| decide_e2e(c, e, Verdict::AboveThreshold),
        ] {
            let (decision, reason, _) = decide_with(&conditions([false, true, true, true]), wrong);
            assert_eq!(decision, Decision::Discard);
            assert!(
                reason.contains("changes behaviour")
                    && reason.contains("'w9' (B)")
                    && reason.contains("tests pass"),
                "{reason}"
            );
        }
    }

    #[test]
    fn next_steps_name_the_revisions() {
        let r = Revisions {
            base: "0123456789abcdef",
            candidate: Some("fedcba9876543210"),
            target: "shop/inv.py::count",
            test_command: "python3 -m pytest -q",
            codeflash: true,
            run_id: "run-1",
            e2e_done: false,
            blocking: &[ConditionName::Improvement],
        };
        let s = next_step(Decision::NeedsE2e, "", &r);
        assert!(
            s.contains(
                "codeflash compare 0123456789ab fedcba987654 --functions 'shop/inv.py::count'"
            ),
            "{s}"
        );
        assert!(
            s.contains("run_e2e_benchmark") && s.contains("micro_run_id \"run-1\""),
            "{s}"
        );
        let again = next_step(
            Decision::NeedsE2e,
            "it is inconclusive",
            &Revisions {
                e2e_done: true,
                ..r
            },
        );
        assert!(again.starts_with("it is inconclusive: lengthen"), "{again}");
        let simplicity_only = next_step(
            Decision::NeedsE2e,
            "confirmed but not simple",
            &Revisions {
                e2e_done: true,
                blocking: &[ConditionName::Simplicity],
                ..r
            },
        );
        assert!(
            simplicity_only.contains("simplify the change (more measurement cannot")
                && !simplicity_only.contains("max_pairs")
                && !simplicity_only.contains("e2e_run_id"),
            "{simplicity_only}"
        );
        let s = next_step(
            Decision::NeedsE2e,
            "",
            &Revisions {
                codeflash: false,
                ..r
            },
        );
        assert!(
            s.contains("base 0123456789ab") && s.contains("`python3 -m pytest -q`"),
            "{s}"
        );
        let r = Revisions {
            codeflash: false,
            ..r
        };
        assert!(next_step(Decision::Discard, "it fails", &r).contains("(it fails)"));
    }
}
