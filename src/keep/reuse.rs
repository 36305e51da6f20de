//! Nothing run twice: the test suite's result and the two profiles of an
//! earlier check on the very same content are reused, and the condition
//! says so (which check, how long ago).
//!
//! A key is the change's content (base commit, the tracked diff, the
//! untracked files' bytes: [`Repo::fingerprint`]) with what else decides
//! the outcome: the test command and the runner for the tests; the target
//! test, the target and the runner for the profiles. It is filed in the
//! condition's figures as `content_key` and looked up there. What an e2e
//! run copied into its base (the workload script the agent wrote after the
//! first check, its data) serves the measurement and is left out, so the
//! check after the e2e run finds the first one's results.

use serde_json::json;

use super::{Condition, KeepRequest};
use crate::git::{Change, Repo};
use crate::ledger::{self, Ledger};
use crate::python::runner::Runner;

/// Where each key is filed in a decision's result, and the condition's index.
const TESTS: (&str, usize) = ("$.conditions[1].figures.content_key", 1);
const PROFILES: (&str, usize) = ("$.conditions[3].figures.content_key", 3);

/// The keys of this check's test run and profiles (`None` when git cannot
/// fingerprint the change).
#[derive(Debug, Default)]
pub(super) struct Keys {
    pub(super) tests: Option<String>,
    pub(super) profiles: Option<String>,
}

impl Keys {
    pub(super) async fn of(
        req: &KeepRequest,
        repo: &Repo,
        runner: &Runner,
        change: &Change,
        copied_to_base: &[String],
    ) -> Keys {
        let mut change = change.clone();
        change
            .files
            .retain(|f| !super::scope::under(&f.path, copied_to_base));
        let Ok(content) = repo.fingerprint(&change).await else {
            return Keys::default();
        };
        let python = runner.argv.join("\0");
        let key = |parts: &[&str]| {
            let parts: Vec<Vec<u8>> = parts.iter().map(|p| p.as_bytes().to_vec()).collect();
            Some(format!("{:016x}", crate::git::fnv1a(&parts)))
        };
        Keys {
            tests: key(&[&content, &req.test_command, &python]),
            profiles: key(&[
                &content,
                "profiles",
                &req.target_test,
                &req.target_function,
                &python,
            ]),
        }
    }
}

/// A condition an earlier check evaluated on the same key.
pub(super) struct Earlier {
    pub(super) condition: Condition,
    /// "check chk-…, 12 s ago".
    pub(super) from: String,
}

/// The tests condition of the newest check with `key`, said to be reused.
pub(super) fn tests(ledger: &Ledger, repo: &Repo, key: &str) -> Option<Condition> {
    let Earlier {
        mut condition,
        from,
    } = earlier(ledger, repo, TESTS, key)?;
    condition.summary = format!(
        "reused from {from} (same content, command and runner): {}",
        condition.summary
    );
    Some(condition)
}

/// The hot-path condition of the newest check whose profiles had `key`.
pub(super) fn profiles(ledger: &Ledger, repo: &Repo, key: &str) -> Option<Earlier> {
    earlier(ledger, repo, PROFILES, key)
}

fn earlier(
    ledger: &Ledger,
    repo: &Repo,
    (path, index): (&str, usize),
    key: &str,
) -> Option<Earlier> {
    let root = repo.root.display().to_string();
    let (check_id, at, result) = ledger.decision_where(&root, path, key).ok()??;
    let mut condition: Condition =
        serde_json::from_value(result["conditions"][index].clone()).ok()?;
    condition.figures["reused_from"] = json!(check_id);
    let age = ledger::age_s(&at).map_or_else(String::new, |s| format!(", {s:.0} s ago"));
    Some(Earlier {
        condition,
        from: format!("check {check_id}{age}"),
    })
}
