//! Nothing escapes: a child that leaves its process group with `setsid()`
//! (a daemon, `Popen(start_new_session=True)`, a fixture's server) is found
//! by the tag abbench puts in every child's environment, killed when its
//! call ends, and named in a warning — in a micro run, an e2e workload and
//! a test run by keep. Real python3, git and processes; each case asserts
//! by a marker in the command line that nothing survives.

mod common;

use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Python that starts a sleeper in a session of its own, carrying `marker`.
fn escaper(marker: &str) -> String {
    format!(
        "import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', {marker:?}], start_new_session=True)\n"
    )
}

/// Asserts nothing with `marker` runs (2 s after the call returned at the
/// latest) and that some warning names it.
async fn nothing_left(marker: &str, warnings: &Value, who: &str) {
    common::all_gone(marker, Instant::now(), Duration::from_secs(2)).await;
    let named = warnings.as_array().unwrap().iter().any(|w| {
        let w = w.as_str().unwrap();
        w.contains(who)
            && w.contains("left a process running outside its process group")
            && w.contains(marker)
    });
    assert!(named, "no warning names the escaped process: {warnings:#}");
}

#[tokio::test]
async fn a_variant_whose_child_calls_setsid_leaves_nothing() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let marker = common::unique("setsidvariant");
    let s = common::generate(
        &server,
        dir.path(),
        json!({"name": marker, "domain": "cpu", "setup": escaper(&marker),
               "code_a": "return sum(range(2000))", "code_b": "return sum(range(2000))",
               "equivalence": "off"}),
    )
    .await;
    // generate ran setup once too: its escaped child is gone already.
    common::all_gone(&marker, Instant::now(), Duration::from_secs(2)).await;
    let r = server
        .call_answer(
            "run_ab_benchmark",
            json!({"script": s, "cwd": dir.path(), "max_pairs": 6}),
        )
        .await;
    nothing_left(&marker, &r["warnings"], "a process of the script").await;
    server.assert_alive().await;
}

/// A repository whose work tree changes `slow.py`, with `extra` files.
fn repo(extra: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("slow.py"),
        "def total(n):\n    s = 0\n    for i in range(n):\n        s += i\n    return s\n",
    )
    .unwrap();
    for (name, text) in extra {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    common::git(dir.path(), &["init", "-q"]);
    common::git(dir.path(), &["add", "-A"]);
    common::git(dir.path(), &["commit", "-qm", "base"]);
    std::fs::write(
        dir.path().join("slow.py"),
        "def total(n):\n    return n * (n - 1) // 2\n",
    )
    .unwrap();
    dir
}

#[tokio::test]
async fn an_e2e_workload_whose_child_calls_setsid_leaves_nothing() {
    let server = common::start().await;
    let marker = common::unique("setsidworkload");
    let work = format!(
        "{}from slow import total\nprint(total(200000))\n",
        escaper(&marker)
    );
    let repo = repo(&[("work.py", &work)]);
    let r = server
        .call_answer(
            "run_e2e_benchmark",
            json!({"repo": repo.path(), "command": "python3 work.py", "runner": "python3",
                   "min_pairs": 4, "max_pairs": 4}),
        )
        .await;
    nothing_left(&marker, &r["warnings"], "workload").await;
}

#[tokio::test]
async fn a_test_run_by_keep_whose_child_calls_setsid_leaves_nothing() {
    let server = common::start().await;
    let marker = common::unique("setsidtest");
    let test = format!(
        "import unittest\n{}from slow import total\n\nclass T(unittest.TestCase):\n    def test_total(self):\n        self.assertEqual(total(10), 45)\n",
        escaper(&marker)
    );
    let repo = repo(&[("test_slow.py", &test)]);
    let out = tempfile::tempdir().unwrap();
    let g = server
        .call_answer(
            "generate_ab_script",
            json!({"name": "total", "domain": "cpu", "target": "slow.py::total",
                   "call": "return total(20000)", "cwd": repo.path(), "dir": out.path()}),
        )
        .await;
    let r = server
        .call_answer(
            "run_ab_benchmark",
            json!({"script": g["path"], "cwd": repo.path(), "max_pairs": 6}),
        )
        .await;
    let k = server
        .call_answer(
            "check_keep_conditions",
            json!({"run_id": r["run_id"], "repo": repo.path(), "runner": "python3",
                   "test_command": "python3 -m unittest -q", "target_test": "test_slow.py::T::test_total"}),
        )
        .await;
    nothing_left(&marker, &k["warnings"], "the test command").await;
}
