//! The decision from the four evaluated conditions, and the next step it
//! calls for: pure, so every branch is unit-tested.

use super::{Condition, ConditionName, Decision};

/// What the conditions say beyond passed / failed.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Evidence {
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
    let (decision, reason) = if blocking.is_empty() {
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
}

/// What the agent should do next.
pub(super) fn next_step(decision: Decision, reason: &str, r: &Revisions) -> String {
    let base = &r.base[..r.base.len().min(12)];
    match decision {
        Decision::Keep => {
            "keep the change and commit it: the micro-benchmark alone justifies it".to_string()
        }
        Decision::Discard => format!("revert the change ({reason}) and try another candidate"),
        Decision::NeedsE2e if r.codeflash => {
            let head = r
                .candidate
                .map(|h| h[..h.len().min(12)].to_string())
                .unwrap_or_else(|| "<a commit of the work tree>".into());
            format!(
                "confirm end to end: `codeflash compare {base} {head} --functions '{}'`; keep only if it confirms the gain",
                r.target
            )
        }
        Decision::NeedsE2e => format!(
            "confirm end to end: run the project's own benchmark (or time `{}`) on the base {base} and on the candidate, and keep only if the end-to-end gain holds",
            r.test_command
        ),
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
    fn next_steps_name_the_revisions() {
        let r = Revisions {
            base: "0123456789abcdef",
            candidate: Some("fedcba9876543210"),
            target: "shop/inv.py::count",
            test_command: "python3 -m pytest -q",
            codeflash: true,
        };
        let s = next_step(Decision::NeedsE2e, "", &r);
        assert!(
            s.contains(
                "codeflash compare 0123456789ab fedcba987654 --functions 'shop/inv.py::count'"
            ),
            "{s}"
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
            s.contains("`python3 -m pytest -q`) on the base 0123456789ab"),
            "{s}"
        );
        let r = Revisions {
            codeflash: false,
            ..r
        };
        assert!(next_step(Decision::Discard, "it fails", &r).contains("(it fails)"));
    }
}
