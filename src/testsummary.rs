//! Reads the closing summary of a pytest or unittest run (untrusted text):
//! counts and the ids of failing tests. Pure.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a test run's output says about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TestSummary {
    /// "pytest" or "unittest".
    pub framework: String,
    /// Tests that passed.
    pub passed: u64,
    /// Tests that failed.
    pub failed: u64,
    /// Tests that errored (setup/collection errors for pytest).
    pub errors: u64,
    /// Tests skipped.
    pub skipped: u64,
    /// Ids of failing or erroring tests, as the runner printed them.
    pub failing: Vec<String>,
}

impl TestSummary {
    /// True when no test failed or errored and at least one ran.
    pub fn clean(&self) -> bool {
        self.failed == 0 && self.errors == 0 && self.passed > 0
    }
}

/// `"3 passed, 1 failed in 0.1s"` → counts, from the last pytest summary line.
fn pytest(output: &str) -> Option<TestSummary> {
    let line = output
        .lines()
        .rev()
        .map(|l| l.trim().trim_matches('=').trim())
        .find(|l| {
            (l.contains(" in ")
                && l.split(' ').any(|w| {
                    let w = w.trim_end_matches(',');
                    matches!(w, "passed" | "failed" | "error" | "errors" | "skipped")
                }))
                || l.starts_with("no tests ran")
        })?;
    let mut s = TestSummary {
        framework: "pytest".into(),
        ..Default::default()
    };
    let words: Vec<&str> = line.split_whitespace().collect();
    for pair in words.windows(2) {
        let Ok(n) = pair[0].parse::<u64>() else {
            continue;
        };
        match pair[1].trim_end_matches(',') {
            "passed" => s.passed += n,
            "failed" => s.failed += n,
            "error" | "errors" => s.errors += n,
            "skipped" => s.skipped += n,
            _ => {}
        }
    }
    for l in output.lines() {
        for prefix in ["FAILED ", "ERROR "] {
            if let Some(rest) = l.strip_prefix(prefix) {
                let id = rest.split(" - ").next().unwrap_or(rest).trim();
                if !id.is_empty() && !s.failing.iter().any(|f| f == id) {
                    s.failing.push(id.to_string());
                }
            }
        }
    }
    Some(s)
}

/// `Ran 5 tests` … `FAILED (failures=1, errors=1, skipped=2)` or `OK`.
fn unittest(output: &str) -> Option<TestSummary> {
    let lines: Vec<&str> = output.lines().map(str::trim).collect();
    let ran_at = lines
        .iter()
        .rposition(|l| l.starts_with("Ran ") && l.contains(" test"))?;
    let ran: u64 = lines[ran_at].split_whitespace().nth(1)?.parse().ok()?;
    let status = lines[ran_at + 1..]
        .iter()
        .find(|l| l.starts_with("OK") || l.starts_with("FAILED"))?;
    let count = |key: &str| -> u64 {
        status
            .split(['(', ')', ','])
            .filter_map(|part| {
                part.trim()
                    .strip_prefix(key)?
                    .strip_prefix('=')?
                    .parse::<u64>()
                    .ok()
            })
            .sum()
    };
    let (failed, errors, skipped) = (count("failures"), count("errors"), count("skipped"));
    let failing = lines
        .iter()
        .filter_map(|l| {
            l.strip_prefix("FAIL: ")
                .or_else(|| l.strip_prefix("ERROR: "))
        })
        .map(str::to_string)
        .collect();
    Some(TestSummary {
        framework: "unittest".into(),
        passed: ran.saturating_sub(failed + errors + skipped),
        failed,
        errors,
        skipped,
        failing,
    })
}

/// Parses whichever summary the output ends with, if any.
pub fn parse(output: &str) -> Option<TestSummary> {
    pytest(output).or_else(|| unittest(output))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pytest_quiet_and_verbose() {
        let out = "..F.\n=================== short test summary info ===================\nFAILED tests/test_inv.py::test_count[big] - AssertionError: assert 3 == 4\nERROR tests/test_x.py::test_y - fixture 'db' not found\n========= 1 failed, 3 passed, 1 skipped, 1 error in 0.12s =========\n";
        let s = parse(out).unwrap();
        assert_eq!((s.passed, s.failed, s.errors, s.skipped), (3, 1, 1, 1));
        assert_eq!(
            s.failing,
            [
                "tests/test_inv.py::test_count[big]",
                "tests/test_x.py::test_y"
            ]
        );
        assert!(!s.clean());
        let ok = parse("....\n4 passed in 0.01s\n").unwrap();
        assert!(ok.clean());
        assert_eq!(ok.passed, 4);
        let none = parse("\nno tests ran in 0.01s\n").unwrap();
        assert!(!none.clean());
    }

    #[test]
    fn unittest_summaries() {
        let out = "F.E\n======\nFAIL: test_a (tests.test_m.T.test_a)\n----\nERROR: test_c (tests.test_m.T.test_c)\n----\nRan 3 tests in 0.001s\n\nFAILED (failures=1, errors=1)\n";
        let s = parse(out).unwrap();
        assert_eq!(
            (s.framework.as_str(), s.passed, s.failed, s.errors),
            ("unittest", 1, 1, 1)
        );
        assert_eq!(
            s.failing,
            [
                "test_a (tests.test_m.T.test_a)",
                "test_c (tests.test_m.T.test_c)"
            ]
        );
        let ok = parse("..\n----\nRan 2 tests in 0.000s\n\nOK (skipped=1)\n").unwrap();
        assert_eq!((ok.passed, ok.skipped), (1, 1));
    }

    #[test]
    fn no_summary() {
        assert_eq!(parse("Traceback (most recent call last):\n  boom\n"), None);
        assert_eq!(parse(""), None);
    }
}
