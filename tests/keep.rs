//! `check_keep_conditions` and `benchmark_history` over MCP stdio, on real
//! git repositories the tests create, with real runs, real pytest and cProfile.

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use abbench::cli::demo::{OPTIMIZED_INVENTORY as OPTIMIZED, PROJECT};

const RESTOCK: &str = "\n\ndef restock(levels, minimum):\n    \"\"\"SKUs below the minimum level (no test calls this).\"\"\"\n    return [sku for sku, n in levels.items() if n < minimum]\n";
const TARGET: &str = "shop/inventory.py::count_known";
const TARGET_TEST: &str = "tests/test_inventory.py::InventoryTest::test_daily_report";

/// The test venv's pytest, as a project with pytest installed would run it.
fn test_command() -> String {
    format!(
        "{} -m pytest -q -p no:cacheprovider",
        common::test_python().display()
    )
}

/// The demo shop (plus an uncalled `restock`) as a fresh repository with one commit.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in PROJECT {
        let file = dir.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        let text = if path == "shop/inventory.py" {
            format!("{text}{RESTOCK}")
        } else {
            text.to_string()
        };
        std::fs::write(file, text).unwrap();
    }
    common::git(dir.path(), &["init", "-q"]);
    common::git(dir.path(), &["add", "-A"]);
    common::git(dir.path(), &["commit", "-q", "-m", "base"]);
    dir
}

fn write(repo: &Path, path: &str, text: &str) {
    std::fs::write(repo.join(path), text).unwrap();
}

fn optimized_with_restock() -> String {
    format!("{OPTIMIZED}{RESTOCK}")
}

/// A real run of the repository's function against the set-based candidate.
async fn run(
    server: &common::Server,
    repo: &Path,
    name: &str,
    code_b: &str,
    extra: Value,
) -> Value {
    let bench = tempfile::tempdir().unwrap();
    let setup = "from shop.inventory import count_known\nCATALOGUE = [f'SKU-{i:06d}' for i in range(3000)]\nORDERS = [f'SKU-{i * 7 % 6000:06d}' for i in range(2000)]\n\ndef count_known_set(orders, catalogue):\n    catalogue = set(catalogue)\n    return sum(1 for sku in orders if sku in catalogue)";
    let script = common::generate(server, bench.path(), json!({
        "name": name, "domain": "cpu", "setup": setup,
        "code_a": "return count_known(ORDERS, CATALOGUE)", "code_b": code_b, "number": 3, "repeat": 3,
        "env": {"PYTHONPATH": repo},
    })).await;
    let mut args = json!({"script": script, "cwd": repo, "env": {"PYTHONPATH": repo}});
    for (k, v) in extra.as_object().unwrap() {
        args[k] = v.clone();
    }
    server.call_ok("run_ab_benchmark", args).await
}

async fn check(server: &common::Server, run_id: &str, repo: &Path, target: &str) -> Value {
    server
        .call_ok(
            "check_keep_conditions",
            json!({
                "run_id": run_id, "repo": repo, "test_command": test_command(), "runner": common::test_python(),
                "target_function": target, "target_test": TARGET_TEST,
            }),
        )
        .await
}

fn condition<'a>(result: &'a Value, name: &str) -> &'a Value {
    result["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()
}

fn git_status(repo: &Path) -> String {
    String::from_utf8(
        Command::new("git")
            .arg("-C")
            .arg(repo)
            .args(["status", "--porcelain"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
}

#[tokio::test]
async fn keep_needs_e2e_and_discard_over_real_runs() {
    let server = common::start().await;
    let repo_dir = project();
    let repo = repo_dir.path();
    let good = run(
        &server,
        repo,
        "good",
        "return count_known_set(ORDERS, CATALOGUE)",
        json!({}),
    )
    .await;
    assert_eq!(good["verdict"], "above_threshold", "{good:#}");
    let good_id = good["run_id"].as_str().unwrap();

    // A good candidate: hot, simple, tests pass, large gain → keep.
    write(repo, "shop/inventory.py", &optimized_with_restock());
    let status_before = git_status(repo);
    let r = check(&server, good_id, repo, TARGET).await;
    assert_eq!(r["decision"], "keep", "{r:#}");
    assert!(r["blocking"].as_array().unwrap().is_empty());
    for name in ["improvement", "tests", "simplicity", "hot_path"] {
        assert_eq!(condition(&r, name)["passed"], true, "{name}: {r:#}");
    }
    let tests = &condition(&r, "tests")["figures"];
    assert_eq!(tests["summary"]["passed"], 3);
    let simple = &condition(&r, "simplicity")["figures"];
    assert_eq!(simple["files_changed"], 1);
    assert_eq!(simple["net_added_lines"], 1);
    let hot = &condition(&r, "hot_path")["figures"];
    assert_eq!(hot["base"]["calls"], 1);
    assert!(hot["base"]["share"].as_f64().unwrap() > 0.5, "{hot}");
    assert_eq!(hot["base"]["basis"], "test function test_daily_report");
    assert_eq!(hot["candidate"]["calls"], 1);
    assert!(r["check_id"].as_str().unwrap().starts_with("chk-"));
    assert_eq!(
        git_status(repo),
        status_before,
        "the work tree is untouched"
    );
    let worktrees = String::from_utf8(
        Command::new("git")
            .arg("-C")
            .arg(repo)
            .args(["worktree", "list"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(
        worktrees.lines().count(),
        1,
        "the base worktree was removed: {worktrees}"
    );

    // A candidate that breaks a test → discard, naming the failing test.
    write(
        repo,
        "shop/inventory.py",
        &optimized_with_restock().replace("if sku in catalogue)", "if sku in catalogue) + 1"),
    );
    let r = check(&server, good_id, repo, TARGET).await;
    assert_eq!(r["decision"], "discard", "{r:#}");
    let tests = condition(&r, "tests");
    assert_eq!(tests["passed"], false);
    assert_eq!(
        tests["figures"]["failing"],
        json!([
            "tests/test_inventory.py::InventoryTest::test_count_known_small",
            "tests/test_inventory.py::InventoryTest::test_daily_report"
        ])
    );
    assert!(tests["summary"]
        .as_str()
        .unwrap()
        .contains("test_daily_report"));
    // The profiled test failed too: a real failure, not run a second time.
    let summary = tests["summary"].as_str().unwrap();
    assert!(!summary.contains("again alone"), "{summary}");
    assert!(tests["figures"]["output_tail"]
        .as_str()
        .unwrap()
        .contains("assert"));

    // 200 added lines in a new module the target's module imports →
    // needs_e2e, simplicity failing with its figures.
    write(
        repo,
        "shop/inventory.py",
        &format!(
            "from shop import constants  # noqa\n{}",
            optimized_with_restock()
        ),
    );
    let extra: String = (0..200).map(|i| format!("CONSTANT_{i} = {i}\n")).collect();
    write(repo, "shop/constants.py", &extra);
    let r = check(&server, good_id, repo, TARGET).await;
    assert_eq!(r["decision"], "needs_e2e", "{r:#}");
    assert_eq!(r["blocking"], json!(["simplicity"]));
    let simple = &condition(&r, "simplicity")["figures"];
    assert_eq!(simple["net_added_lines"], 202);
    assert_eq!(simple["files_changed"], 2);
    write(repo, "shop/inventory.py", &optimized_with_restock());
    assert!(r["next_step"].as_str().unwrap().contains("end to end"));
    std::fs::remove_file(repo.join("shop/constants.py")).unwrap();

    // A new dependency → needs_e2e.
    write(repo, "requirements.txt", "numpy==2.1.0\n");
    let r = check(&server, good_id, repo, TARGET).await;
    assert_eq!(r["decision"], "needs_e2e", "{r:#}");
    assert_eq!(
        condition(&r, "simplicity")["figures"]["dependency_files_changed"],
        json!(["requirements.txt"])
    );
    std::fs::remove_file(repo.join("requirements.txt")).unwrap();

    // A function the target test never calls → needs_e2e, hot_path failing with 0 calls.
    write(
        repo,
        "shop/inventory.py",
        &format!(
            "{}{}",
            PROJECT[1].1,
            RESTOCK.replace("n < minimum]", "n < minimum]  # same")
        ),
    );
    let r = check(&server, good_id, repo, "shop/inventory.py::restock").await;
    assert_eq!(r["decision"], "needs_e2e", "{r:#}");
    assert_eq!(r["blocking"], json!(["hot_path"]));
    let hot = &condition(&r, "hot_path")["figures"];
    assert_eq!(hot["base"]["calls"], 0);
    assert_eq!(hot["candidate"]["calls"], 0);

    // A real gain below the threshold → needs_e2e; identical variants → discard.
    // (Runs measure the base: bench_a imports the repository's current code.)
    common::git(repo, &["checkout", "--", "shop/inventory.py"]);
    let small = run(
        &server,
        repo,
        "small",
        "return count_known_set(ORDERS, CATALOGUE)",
        json!({"min_gain": 5000.0}),
    )
    .await;
    assert_eq!(small["verdict"], "below_threshold", "{small:#}");
    let same = run(
        &server,
        repo,
        "same",
        "return count_known(ORDERS, CATALOGUE)",
        json!({}),
    )
    .await;
    assert_ne!(same["verdict"], "above_threshold");
    write(repo, "shop/inventory.py", &optimized_with_restock());
    let r = check(&server, small["run_id"].as_str().unwrap(), repo, TARGET).await;
    assert_eq!(r["decision"], "needs_e2e", "{r:#}");
    assert_eq!(r["blocking"], json!(["improvement"]));
    let r = check(&server, same["run_id"].as_str().unwrap(), repo, TARGET).await;
    assert_eq!(r["decision"], "discard", "{r:#}");

    // benchmark_history lists the runs, newest first, with their decisions.
    let h = server.call_ok("benchmark_history", json!({})).await;
    let runs = h["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3);
    assert_eq!(runs[0]["name"], "same");
    assert_eq!(runs[2]["run_id"], good["run_id"]);
    let decisions: Vec<&str> = runs[2]["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().split(' ').next().unwrap())
        .collect();
    assert_eq!(
        decisions,
        ["needs_e2e", "needs_e2e", "needs_e2e", "discard", "keep"]
    );
    let h = server
        .call_ok("benchmark_history", json!({"function": "restock"}))
        .await;
    assert_eq!(h["runs"].as_array().unwrap().len(), 1, "{h}");
    let h = server
        .call_ok(
            "benchmark_history",
            json!({"name": "small", "domain": "cpu"}),
        )
        .await;
    assert_eq!(h["runs"][0]["verdict"], "below_threshold");
    let h = server
        .call_ok("benchmark_history", json!({"since": "2999-01-01"}))
        .await;
    assert_eq!(h["runs"], json!([]), "{h}");
}

#[tokio::test]
async fn a_clean_work_tree_checks_head_against_its_parent() {
    let server = common::start().await;
    let repo_dir = project();
    let repo = repo_dir.path();
    let good = run(
        &server,
        repo,
        "committed",
        "return count_known_set(ORDERS, CATALOGUE)",
        json!({}),
    )
    .await;
    write(repo, "shop/inventory.py", &optimized_with_restock());
    common::git(repo, &["commit", "-q", "-am", "use a set"]);
    let r = check(
        &server,
        good["run_id"].as_str().unwrap(),
        repo,
        "shop.inventory.count_known",
    )
    .await;
    assert_eq!(r["decision"], "keep", "{r:#}");
    assert!(
        r["change"].as_str().unwrap().starts_with("HEAD ("),
        "{}",
        r["change"]
    );
}

#[tokio::test]
async fn bad_inputs_are_clear_errors() {
    let server = common::start().await;
    let repo_dir = project();
    let repo = repo_dir.path();
    let msg = server.call_err("check_keep_conditions", json!({
        "run_id": "no-such-run", "repo": repo, "test_command": test_command(), "runner": common::test_python(), "target_function": TARGET, "target_test": TARGET_TEST,
    })).await;
    assert!(
        msg.contains("unknown run_id") && msg.contains("benchmark_history"),
        "{msg}"
    );

    let good = run(
        &server,
        repo,
        "errs",
        "return count_known_set(ORDERS, CATALOGUE)",
        json!({"max_pairs": 6}),
    )
    .await;
    let id = good["run_id"].as_str().unwrap();
    let not_git = tempfile::tempdir().unwrap();
    let cases = [
        (json!({"repo": not_git.path()}), "is not a git work tree"),
        (
            json!({"target_function": "shop/inventory.py::no_such_function"}),
            "was not found",
        ),
        (
            json!({"target_function": "shop.nowhere.func"}),
            "was not found",
        ),
        (
            json!({"test_command": "no-such-test-runner -q"}),
            "cannot start",
        ),
        (json!({"base": "no-such-branch"}), "is not a commit"),
    ];
    write(repo, "shop/inventory.py", &optimized_with_restock());
    for (overrides, expected) in cases {
        let mut args = json!({
            "run_id": id, "repo": repo, "test_command": test_command(), "runner": common::test_python(), "target_function": TARGET, "target_test": TARGET_TEST,
        });
        for (k, v) in overrides.as_object().unwrap() {
            args[k] = v.clone();
        }
        let msg = server.call_err("check_keep_conditions", args).await;
        assert!(msg.contains(expected), "{overrides}: {msg}");
    }
    let msg = server
        .call_err("benchmark_history", json!({"since": "yesterday"}))
        .await;
    assert!(msg.contains("RFC 3339"), "{msg}");
}

/// A second check of the same change (same content, test command and
/// runner) reuses the first one's test result instead of running the suite
/// again, and says so; a change to the content runs the tests again.
#[tokio::test]
async fn the_same_change_is_not_tested_twice() {
    let server = common::start().await;
    let repo = project();
    write(repo.path(), "shop/inventory.py", &optimized_with_restock());
    let r = run(
        &server,
        repo.path(),
        "twice",
        "return count_known_set(ORDERS, CATALOGUE)",
        json!({"max_pairs": 6}),
    )
    .await;
    let run_id = r["run_id"].as_str().unwrap();
    let first = check(&server, run_id, repo.path(), TARGET).await;
    let tests = condition(&first, "tests");
    assert!(tests["figures"]["content_key"].is_string(), "{tests:#}");
    assert!(first["durations"]["tests_s"].as_f64().unwrap() > 0.0);

    let second = check(&server, run_id, repo.path(), TARGET).await;
    let tests = condition(&second, "tests");
    let summary = tests["summary"].as_str().unwrap();
    assert!(
        summary.starts_with(&format!(
            "reused from check {}",
            first["check_id"].as_str().unwrap()
        )),
        "{summary}"
    );
    assert_eq!(second["durations"]["tests_s"], 0.0);
    assert_eq!(tests["passed"], condition(&first, "tests")["passed"]);
    // The profiles too, judged again on the same figures.
    let hot = condition(&second, "hot_path");
    let summary = hot["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("profiles reused from check"),
        "{summary}"
    );
    assert_eq!(hot["passed"], condition(&first, "hot_path")["passed"]);
    assert_eq!(second["durations"]["profile_base_s"], 0.0);
    assert_eq!(second["durations"]["profile_candidate_s"], 0.0);

    // An untracked script no changed module imports: a different content,
    // so tested and profiled again, but not counted as the change.
    write(
        repo.path(),
        "scratch.py",
        "import shop.inventory\nprint(1)\n",
    );
    let third = check(&server, run_id, repo.path(), TARGET).await;
    for name in ["tests", "hot_path"] {
        let summary = condition(&third, name)["summary"].as_str().unwrap();
        assert!(!summary.contains("reused"), "{summary}");
    }
    let simplicity = condition(&third, "simplicity");
    assert_eq!(simplicity["figures"]["files_changed"], 1, "{simplicity:#}");
    assert_eq!(
        simplicity["figures"]["not_counted"][0]["path"], "scratch.py",
        "{simplicity:#}"
    );
    assert!(
        simplicity["summary"]
            .as_str()
            .unwrap()
            .contains("not counted: scratch.py (untracked and imported by no changed module)"),
        "{simplicity:#}"
    );
    // Named as part of the change, it counts; the content is the same, so
    // nothing runs again.
    let fourth = server
        .call_ok(
            "check_keep_conditions",
            json!({
                "run_id": run_id, "repo": repo.path(), "test_command": test_command(),
                "runner": common::test_python(), "target_function": TARGET,
                "target_test": TARGET_TEST, "change_files": ["scratch.py"],
            }),
        )
        .await;
    assert_eq!(
        condition(&fourth, "simplicity")["figures"]["files_changed"],
        2
    );
    assert_eq!(fourth["durations"]["tests_s"], 0.0);
}

/// The suite and the profiles run at once. A test that writes a fixed path
/// in the work tree collides with its profiled twin; the failure is
/// confirmed by running it again alone, so the check comes out clean.
#[tokio::test]
async fn a_test_that_collides_with_its_profiled_twin_is_confirmed_alone() {
    let server = common::start().await;
    let repo = project();
    write(repo.path(), "shop/inventory.py", &optimized_with_restock());
    write(
        repo.path(),
        "tests/test_shared.py",
        "import os, time, unittest\nfrom shop.inventory import count_known\n\n\n\
         class SharedFileTest(unittest.TestCase):\n    def test_owns_the_file(self):\n        \
         with open('shared.txt', 'w') as f:\n            f.write(str(os.getpid()))\n        \
         end, n = time.time() + 3, 0\n        while time.time() < end:\n            \
         n += count_known(['a', 'b'], ['a'])\n        with open('shared.txt') as f:\n            \
         self.assertEqual(f.read(), str(os.getpid()))\n",
    );
    write(repo.path(), ".gitignore", "shared.txt\n");
    common::git(repo.path(), &["add", "tests/test_shared.py", ".gitignore"]);
    common::git(
        repo.path(),
        &["commit", "-q", "-m", "a test that owns a file"],
    );
    let r = run(
        &server,
        repo.path(),
        "collide",
        "return count_known_set(ORDERS, CATALOGUE)",
        json!({"max_pairs": 6}),
    )
    .await;
    let k = server
        .call_ok(
            "check_keep_conditions",
            json!({
                "run_id": r["run_id"], "repo": repo.path(), "test_command": test_command(),
                "runner": common::test_python(), "target_function": TARGET,
                "target_test": "tests/test_shared.py::SharedFileTest::test_owns_the_file",
            }),
        )
        .await;
    let (tests, hot) = (condition(&k, "tests"), condition(&k, "hot_path"));
    assert_eq!(tests["passed"], true, "{k:#}");
    assert_eq!(hot["passed"], true, "{k:#}");
    let again = [tests, hot]
        .iter()
        .filter(|c| c["summary"].as_str().unwrap().contains("again alone"))
        .count();
    assert!(again >= 1, "nothing collided: {k:#}");
}

/// A run of several candidates: keep judges the best one by default, or the
/// one named by `candidate`; an unknown label lists the candidates.
#[tokio::test]
async fn a_run_of_several_candidates_is_judged_on_the_best_or_the_one_named() {
    let server = common::start().await;
    let repo = project();
    let repo = repo.path();
    let bench = tempfile::tempdir().unwrap();
    let setup = "from shop.inventory import count_known\nCATALOGUE = [f'SKU-{i:06d}' for i in range(3000)]\nORDERS = [f'SKU-{i * 7 % 6000:06d}' for i in range(2000)]\n\ndef count_known_set(orders, catalogue):\n    catalogue = set(catalogue)\n    return sum(1 for sku in orders if sku in catalogue)";
    let script = common::generate(
        &server,
        bench.path(),
        json!({
            "name": "many", "domain": "cpu", "setup": setup,
            "code_a": "return count_known(ORDERS, CATALOGUE)",
            "candidates": [
                {"label": "set", "code": "return count_known_set(ORDERS, CATALOGUE)"},
                {"label": "copy", "code": "return count_known(ORDERS, CATALOGUE[:])"},
            ],
            "env": {"PYTHONPATH": repo},
        }),
    )
    .await;
    let run = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": script, "cwd": repo, "env": {"PYTHONPATH": repo}}),
        )
        .await;
    assert_eq!(run["best"], "set", "{run:#}");
    let run_id = run["run_id"].as_str().unwrap();
    write(repo, "shop/inventory.py", &optimized_with_restock());
    let keep = |candidate: Option<&str>| {
        let mut args = json!({
            "run_id": run_id, "repo": repo, "test_command": test_command(), "runner": common::test_python(),
            "target_function": TARGET, "target_test": TARGET_TEST,
        });
        if let Some(c) = candidate {
            args["candidate"] = json!(c);
        }
        args
    };
    let best = server.call_ok("check_keep_conditions", keep(None)).await;
    let improvement = condition(&best, "improvement");
    assert_eq!(improvement["passed"], true, "{best:#}");
    assert!(
        improvement["summary"]
            .as_str()
            .unwrap()
            .starts_with("candidate \"set\": verdict above_threshold"),
        "{best:#}"
    );
    let copy = server
        .call_ok("check_keep_conditions", keep(Some("copy")))
        .await;
    let improvement = condition(&copy, "improvement");
    assert_eq!(improvement["passed"], false, "{copy:#}");
    assert!(
        improvement["summary"]
            .as_str()
            .unwrap()
            .starts_with("candidate \"copy\""),
        "{copy:#}"
    );
    assert_ne!(copy["decision"], "keep", "{copy:#}");
    let err = server
        .call_err("check_keep_conditions", keep(Some("nope")))
        .await;
    assert!(err.contains("its candidates are set, copy"), "{err}");
}
