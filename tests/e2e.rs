//! `run_e2e_benchmark` over MCP stdio, on real git repositories the tests
//! create, with real python3 workloads whose end-to-end effect is known by
//! construction; every exit path leaves the repository with its main work
//! tree only and no workload process behind.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use rmcp::model::{CallToolRequestParams, ClientRequest};
use rmcp::service::PeerRequestOptions;
use serde_json::{json, Value};

/// The base: a character-by-character lower-casing that dominates the workload.
const SLOW: &str = "def normalize(words):\n    out = []\n    for w in words:\n        s = ''\n        for ch in w:\n            s += ch.lower()\n        out.append(s)\n    return out\n";
/// The candidate: the same result, several times faster.
const FAST: &str = "def normalize(words):\n    return [w.lower() for w in words]\n";
/// The base with a comment: the same code, a neutral change.
const NEUTRAL: &str = "def normalize(words):\n    # lower-case every word, one character at a time\n    out = []\n    for w in words:\n        s = ''\n        for ch in w:\n            s += ch.lower()\n        out.append(s)\n    return out\n";
/// Three times the base's work: a regression.
const SLOWER: &str = "def normalize(words):\n    for _ in range(3):\n        out = []\n        for w in words:\n            s = ''\n            for ch in w:\n                s += ch.lower()\n            out.append(s)\n    return out\n";
const REST: &str = "\n\ndef daily(n):\n    words = ['Alpha%dBeta' % i for i in range(n)]\n    return sum(sum(len(w) for w in normalize(words)) for _ in range(4))\n";
const WORKLOAD: &str =
    "import sys\nfrom shop.report import daily\nprint(daily(int(sys.argv[1])))\n";
const TEST: &str = "from shop.report import normalize\n\n\ndef test_normalize():\n    assert normalize(['AbC', 'x']) == ['abc', 'x']\n";
const TARGET: &str = "shop/report.py::normalize";

/// A repository with the slow base committed.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("shop")).unwrap();
    std::fs::create_dir_all(root.join("tests")).unwrap();
    std::fs::write(root.join("shop/__init__.py"), "").unwrap();
    std::fs::write(root.join("shop/report.py"), format!("{SLOW}{REST}")).unwrap();
    std::fs::write(root.join("work.py"), WORKLOAD).unwrap();
    std::fs::write(root.join("tests/test_report.py"), TEST).unwrap();
    common::git(root, &["init", "-q"]);
    common::git(root, &["add", "-A"]);
    common::git(root, &["commit", "-q", "-m", "base"]);
    dir
}

fn apply(repo: &Path, normalize: &str) {
    std::fs::write(repo.join("shop/report.py"), format!("{normalize}{REST}")).unwrap();
}

/// The repository has its main work tree only, and no workload runs.
fn nothing_left(repo: &Path, marker: &str) {
    let trees = common::git(repo, &["worktree", "list", "--porcelain"]);
    assert_eq!(
        trees.lines().filter(|l| l.starts_with("worktree ")).count(),
        1,
        "{trees}"
    );
    assert!(
        common::processes_with(marker).is_empty(),
        "{:?}",
        common::processes_with(marker)
    );
}

/// `python work.py N MARKER`: the marker names this test's processes.
fn args(repo: &Path, n: u32, marker: &str, extra: Value) -> Value {
    let mut args = json!({
        "repo": repo, "command": format!("python work.py {n} {marker}"), "runner": "python3",
    });
    for (k, v) in extra.as_object().unwrap() {
        args[k] = v.clone();
    }
    args
}

#[tokio::test]
async fn a_true_speedup_is_above_threshold_and_decides_the_keep() {
    let server = common::start().await;
    let repo = project();
    let marker = common::unique("e2e_fast");
    apply(repo.path(), FAST);
    let r = server
        .call_ok(
            "run_e2e_benchmark",
            args(
                repo.path(),
                20000,
                &marker,
                json!({"target_functions": [TARGET], "micro_run_id": "run-micro-1"}),
            ),
        )
        .await;
    assert_eq!(r["comparison"]["verdict"], "above_threshold", "{r:#}");
    assert!(
        r["comparison"]["speedup"]["estimate"].as_f64().unwrap() > 1.3,
        "{r:#}"
    );
    let t = &r["targets"][0];
    assert_eq!(t["function"], TARGET);
    assert!(t["speedup"]["estimate"].as_f64().unwrap() > 3.0, "{t:#}");
    assert!(t["base"]["share"].as_f64().unwrap() > 0.3, "{t:#}");
    assert!(t["base"]["share"].as_f64().unwrap() > t["candidate"]["share"].as_f64().unwrap());
    assert_eq!(t["base"]["calls"], 4.0, "{t:#}");
    assert!(
        ["sys.monitoring", "wrapper"].contains(&r["target_hook"]["method"].as_str().unwrap()),
        "{r:#}"
    );
    let base_cmd = r["commands"]["base"].as_str().unwrap();
    assert!(
        base_cmd.contains("abbench-base-") && base_cmd.contains(&marker),
        "{base_cmd}"
    );
    assert!(r["commands"]["candidate"]
        .as_str()
        .unwrap()
        .contains(&*repo.path().display().to_string()));
    assert_eq!(r["revisions"]["files"], json!(["shop/report.py"]));
    assert!(r["noise"]["process_log_sd"].as_f64().unwrap() > 0.0);
    nothing_left(repo.path(), &marker);
    // Nothing was written into the work tree.
    assert_eq!(
        common::git(repo.path(), &["status", "--porcelain"]),
        " M shop/report.py\n"
    );
    let e2e_id = r["run_id"].as_str().unwrap();

    // The history lists it, linked to the micro run it names.
    let h = server
        .call_ok("benchmark_history", json!({"function": "normalize"}))
        .await;
    assert_eq!(h["runs"][0]["run_id"], e2e_id, "{h:#}");
    assert_eq!(h["runs"][0]["confirms"], "run-micro-1");
}

/// A target that turns from building a list into a generator is timed per
/// call over its resumptions (the consumer's time between items is not its
/// own), so its figure agrees with the workload's.
#[tokio::test]
async fn a_target_that_becomes_a_generator_is_compared_call_for_call() {
    let server = common::start().await;
    let repo = project();
    let marker = common::unique("e2e_gen");
    apply(
        repo.path(),
        "def normalize(words):\n    for w in words:\n        yield w.lower()\n",
    );
    let r = server
        .call_ok(
            "run_e2e_benchmark",
            args(
                repo.path(),
                20000,
                &marker,
                json!({"target_functions": [TARGET]}),
            ),
        )
        .await;
    assert_eq!(r["comparison"]["verdict"], "above_threshold", "{r:#}");
    let t = &r["targets"][0];
    assert_eq!(t["base"]["calls"], 4.0, "{t:#}");
    assert_eq!(t["candidate"]["calls"], 4.0, "{t:#}");
    assert_eq!(t["base"]["generator"], false, "{t:#}");
    assert_eq!(t["candidate"]["generator"], true, "{t:#}");
    assert!(t["speedup"]["low"].as_f64().unwrap() > 1.0, "{t:#}");
    assert!(
        t["summary"]
            .as_str()
            .unwrap()
            .contains("(a generator on the candidate: its time is the sum of its resumptions"),
        "{t:#}"
    );
    nothing_left(repo.path(), &marker);
}

#[tokio::test]
async fn check_keep_conditions_judges_the_improvement_end_to_end() {
    let server = common::start().await;
    let repo = project();
    let marker = common::unique("e2e_keep");
    apply(repo.path(), FAST);
    // A micro run of the same change, in the revision form.
    let bench = tempfile::tempdir().unwrap();
    let script = common::generate(&server, bench.path(), json!({
        "name": common::unique("norm"), "domain": "cpu", "repo": repo.path(), "target": TARGET,
        "setup": "WORDS = ['Alpha%dBeta' % i for i in range(2000)]", "call": "return normalize(WORDS)",
    })).await;
    let micro = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": script, "cwd": repo.path()}),
        )
        .await;
    let micro_id = micro["run_id"].as_str().unwrap();
    let e2e = server
        .call_ok(
            "run_e2e_benchmark",
            args(
                repo.path(),
                20000,
                &marker,
                json!({"target_functions": [TARGET], "micro_run_id": micro_id}),
            ),
        )
        .await;
    assert_eq!(e2e["comparison"]["verdict"], "above_threshold", "{e2e:#}");
    let e2e_id = e2e["run_id"].as_str().unwrap();
    let test_command = format!(
        "{} -m pytest -q -p no:cacheprovider",
        common::test_python().display()
    );
    // No target_test: the e2e run timed the target, its share is the hot-path evidence.
    let k = server
        .call_ok(
            "check_keep_conditions",
            json!({"run_id": micro_id, "repo": repo.path(), "test_command": test_command,
                   "runner": common::test_python(), "e2e_run_id": e2e_id}),
        )
        .await;
    assert_eq!(k["decision"], "keep", "{k:#}");
    assert_eq!(k["e2e_run_id"], e2e_id);
    let improvement = &k["conditions"][0];
    assert!(
        improvement["summary"]
            .as_str()
            .unwrap()
            .starts_with("end to end"),
        "{improvement:#}"
    );
    assert_eq!(improvement["figures"]["e2e_run_id"], e2e_id);
    let hot = &k["conditions"][3];
    assert!(
        hot["summary"].as_str().unwrap().contains("end to end"),
        "{hot:#}"
    );
    assert_eq!(k["durations"]["profile_base_s"], 0.0);

    // The ledger links the three: the micro run lists its e2e run, the decision names it.
    let h = server
        .call_ok("benchmark_history", json!({"limit": 5}))
        .await;
    let run = h["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["run_id"] == micro_id)
        .unwrap();
    assert_eq!(run["e2e_run_ids"], json!([e2e_id]), "{h:#}");
    assert!(
        run["decisions"][0]
            .as_str()
            .unwrap()
            .contains(&format!("judged on {e2e_id}")),
        "{h:#}"
    );

    // An e2e run of another base is refused with the fix.
    let msg = server
        .call_err(
            "check_keep_conditions",
            json!({"run_id": micro_id, "repo": repo.path(), "test_command": test_command,
                   "runner": common::test_python(), "e2e_run_id": "e2e-nope"}),
        )
        .await;
    assert!(
        msg.contains("unknown e2e_run_id") && msg.contains("run_e2e_benchmark"),
        "{msg}"
    );
    nothing_left(repo.path(), &marker);
}

#[tokio::test]
async fn a_neutral_change_is_below_threshold_and_a_slower_one_a_regression() {
    let server = common::start().await;
    let repo = project();
    let marker = common::unique("e2e_null");
    apply(repo.path(), NEUTRAL);
    // A bar of 30 %: this machine's process-to-process noise (15-20 % for
    // a 0.2 s workload) cannot bound a null change under 5 % in 30 pairs.
    let r = server
        .call_ok(
            "run_e2e_benchmark",
            args(repo.path(), 20000, &marker, json!({"min_gain": 0.3})),
        )
        .await;
    assert_eq!(r["comparison"]["verdict"], "below_threshold", "{r:#}");
    let s = r["comparison"]["speedup"]["estimate"].as_f64().unwrap();
    assert!((0.85..1.15).contains(&s), "{r:#}");
    apply(repo.path(), SLOWER);
    let r = server
        .call_ok(
            "run_e2e_benchmark",
            args(repo.path(), 10000, &marker, json!({})),
        )
        .await;
    assert_eq!(r["comparison"]["verdict"], "regression", "{r:#}");
    assert!(
        r["comparison"]["speedup"]["high"].as_f64().unwrap() < 1.0,
        "{r:#}"
    );
    nothing_left(repo.path(), &marker);
}

#[tokio::test]
async fn a_base_that_fails_names_the_base_and_the_files_it_lacks() {
    let server = common::start().await;
    let repo = project();
    let marker = common::unique("e2e_fail");
    apply(repo.path(), FAST);
    // The workload reads an untracked input, which the base worktree lacks.
    std::fs::write(repo.path().join("sizes.txt"), "3000\n").unwrap();
    std::fs::write(
        repo.path().join("work.py"),
        format!("import sys\nfrom shop.report import daily\nprint(daily(int(open('sizes.txt').read())))  # {marker}\n"),
    )
    .unwrap();
    common::git(repo.path(), &["add", "work.py"]);
    common::git(repo.path(), &["commit", "-q", "-m", "read sizes"]);
    apply(repo.path(), FAST);
    let call = json!({"repo": repo.path(), "command": format!("python work.py {marker}"), "runner": "python3", "base": "HEAD"});
    let msg = server.call_err("run_e2e_benchmark", call.clone()).await;
    assert!(
        msg.contains("variant base failed with exit code 1"),
        "{msg}"
    );
    assert!(
        msg.contains("FileNotFoundError") && msg.contains("sizes.txt"),
        "{msg}"
    );
    assert!(
        msg.contains("untracked files it lacks: sizes.txt") && msg.contains("copy_to_base"),
        "{msg}"
    );
    nothing_left(repo.path(), &marker);
    // Copied into the base, it runs.
    let mut with_copy = call;
    with_copy["copy_to_base"] = json!(["sizes.txt"]);
    with_copy["max_pairs"] = json!(5);
    let r = server.call_ok("run_e2e_benchmark", with_copy).await;
    assert_eq!(r["copied_to_base"], json!(["sizes.txt"]));
    nothing_left(repo.path(), &marker);
}

#[tokio::test]
async fn bad_input_is_refused_with_the_fix() {
    let server = common::start().await;
    let repo = project();
    let plain = tempfile::tempdir().unwrap();
    let err = |args: Value| {
        let server = &server;
        async move { server.call_err("run_e2e_benchmark", args).await }
    };
    let msg = err(json!({"repo": plain.path(), "command": "python work.py"})).await;
    assert!(msg.contains("is not a git work tree"), "{msg}");
    let msg =
        err(json!({"repo": repo.path(), "command": "python work.py", "base": "no-such-branch"}))
            .await;
    assert!(msg.contains("is not a commit"), "{msg}");
    // A clean work tree at HEAD with one commit: nothing to compare.
    let msg = err(json!({"repo": repo.path(), "command": "python work.py"})).await;
    assert!(msg.contains("no change to check"), "{msg}");
    // A base whose tree is the work tree's: nothing to compare either.
    common::git(
        repo.path(),
        &["commit", "-q", "--allow-empty", "-m", "empty"],
    );
    let msg = err(json!({"repo": repo.path(), "command": "python work.py", "base": "HEAD^"})).await;
    assert!(
        msg.contains("nothing to compare") && msg.contains("identical"),
        "{msg}"
    );
    apply(repo.path(), FAST);
    let msg =
        err(json!({"repo": repo.path(), "command": "no-such-program-xyz 1", "max_pairs": 5})).await;
    assert!(
        msg.contains("did not start") && msg.contains("no-such-program-xyz"),
        "{msg}"
    );
    let msg = err(json!({"repo": repo.path(), "command": "python work.py", "target_functions": ["normalize"]})).await;
    assert!(msg.contains("`target_functions` entry"), "{msg}");
    let msg = err(
        json!({"repo": repo.path(), "command": "python work.py", "copy_to_base": ["nope.txt"]}),
    )
    .await;
    assert!(msg.contains("does not exist"), "{msg}");
    nothing_left(repo.path(), "no-such-program-xyz");
}

#[tokio::test]
async fn different_output_is_a_failed_check_not_a_win() {
    let server = common::start().await;
    let repo = project();
    let marker = common::unique("e2e_output");
    // Fast, but wrong: upper case.
    apply(
        repo.path(),
        "def normalize(words):\n    return [w.upper() for w in words]\n",
    );
    std::fs::write(
        repo.path().join("work.py"),
        "import sys\nfrom shop.report import normalize\nprint(normalize(['Alpha%d' % i for i in range(int(sys.argv[1]))])[:3])\n",
    )
    .unwrap();
    common::git(repo.path(), &["add", "work.py"]);
    common::git(repo.path(), &["commit", "-q", "-m", "print a sample"]);
    let msg = server
        .call_err(
            "run_e2e_benchmark",
            args(
                repo.path(),
                100,
                &marker,
                json!({"compare_output": true, "base": "HEAD"}),
            ),
        )
        .await;
    assert!(msg.contains("output differs from the base's"), "{msg}");
    assert!(msg.contains("line 1: base \"['alpha0'"), "{msg}");
    nothing_left(repo.path(), &marker);
}

#[tokio::test]
async fn a_hanging_workload_is_killed_at_its_timeout() {
    let server = common::start().await;
    let repo = project();
    let marker = common::unique("e2e_hang");
    apply(
        repo.path(),
        "import time\n\n\ndef normalize(words):\n    time.sleep(600)\n    return words\n",
    );
    let started = Instant::now();
    let msg = server
        .call_err(
            "run_e2e_benchmark",
            args(repo.path(), 10, &marker, json!({"timeout_s": 2.0})),
        )
        .await;
    assert!(
        msg.contains("variant candidate timed out after 2.0 s"),
        "{msg}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    nothing_left(repo.path(), &marker);
}

#[tokio::test]
async fn cancelling_kills_the_workload_and_removes_the_worktree() {
    let server = common::start().await;
    let repo = project();
    let marker = common::unique("e2e_cancel");
    apply(
        repo.path(),
        "import time\n\n\ndef normalize(words):\n    time.sleep(600)\n    return words\n",
    );
    let Value::Object(arguments) = args(repo.path(), 10, &marker, json!({})) else {
        unreachable!()
    };
    let request = ClientRequest::CallToolRequest(rmcp::model::Request::new(
        CallToolRequestParams::new("run_e2e_benchmark").with_arguments(arguments),
    ));
    let handle = server
        .client
        .send_request_with_option(request, PeerRequestOptions::default())
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while common::processes_with(&marker).is_empty() {
        assert!(Instant::now() < deadline, "the workload never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    handle.cancel(Some("test".into())).await.unwrap();
    let cancelled = Instant::now();
    common::all_gone(&marker, cancelled, Duration::from_secs(2)).await;
    // The worktree goes with the call.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let trees = common::git(repo.path(), &["worktree", "list", "--porcelain"]);
        if trees.lines().filter(|l| l.starts_with("worktree ")).count() == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the worktree outlived the call: {trees}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.assert_alive().await;
}

#[tokio::test]
async fn a_worktree_left_by_a_killed_server_is_pruned_by_the_next_run() {
    let repo = project();
    let marker = common::unique("e2e_stale");
    apply(repo.path(), FAST);
    // What a crash leaves: an abbench worktree whose owner no longer runs.
    let parent = std::env::temp_dir().join(format!("abbench-base-{marker}"));
    std::fs::create_dir_all(&parent).unwrap();
    std::fs::write(parent.join("owner.pid"), "2147483646").unwrap();
    let tree = parent.join("tree");
    common::git(
        repo.path(),
        &[
            "worktree",
            "add",
            "--detach",
            "-q",
            &tree.display().to_string(),
            "HEAD",
        ],
    );
    let server = common::start().await;
    server
        .call_ok(
            "run_e2e_benchmark",
            args(
                repo.path(),
                1000,
                &marker,
                json!({"max_pairs": 5, "min_gain": 0.0}),
            ),
        )
        .await;
    assert!(!parent.exists(), "the stale worktree is still there");
    nothing_left(repo.path(), &marker);
}

#[tokio::test]
async fn memory_compares_the_workloads_peaks_under_memray() {
    let server = common::start().await;
    let repo = project();
    let marker = common::unique("e2e_memory");
    let hungry =
        "import sys\nblocks = [bytearray(1000) for _ in range(60000)]\nprint(len(blocks))\n";
    std::fs::write(repo.path().join("work.py"), hungry).unwrap();
    common::git(repo.path(), &["commit", "-qam", "hungry"]);
    std::fs::write(
        repo.path().join("work.py"),
        "import sys\nprint(sum(1 for _ in (bytearray(1000) for _ in range(60000))))\n",
    )
    .unwrap();
    let r = server
        .call_ok(
            "run_e2e_benchmark",
            args(
                repo.path(),
                0,
                &marker,
                json!({"domain": "memory", "max_pairs": 8}),
            ),
        )
        .await;
    assert_eq!(r["comparison"]["verdict"], "above_threshold", "{r:#}");
    let base_peak = r["base"]["median"].as_f64().unwrap();
    assert!(base_peak > 55e6, "{r:#}");
    assert!(
        r["comparison"]["saved_fraction"]["estimate"]
            .as_f64()
            .unwrap()
            > 0.8,
        "{r:#}"
    );
    assert!(r["measured_by"].as_str().unwrap().contains("memray"));
    nothing_left(repo.path(), &marker);
}

#[tokio::test]
async fn a_pytest_benchmark_suite_reports_its_medians() {
    let server = common::start().await;
    let repo = project();
    std::fs::write(
        repo.path().join("tests/bench_normalize.py"),
        "from shop.report import normalize\n\nWORDS = ['Alpha%dBeta' % i for i in range(2000)]\n\n\ndef test_normalize(benchmark):\n    benchmark(normalize, WORDS)\n",
    )
    .unwrap();
    common::git(repo.path(), &["add", "-A"]);
    common::git(repo.path(), &["commit", "-q", "-m", "a benchmark"]);
    apply(repo.path(), FAST);
    let r = server
        .call_ok(
            "run_e2e_benchmark",
            json!({
                "repo": repo.path(), "runner": common::test_python(), "max_pairs": 10,
                "command": "python -m pytest -q -p no:cacheprovider tests/bench_normalize.py --benchmark-max-time=0.05",
            }),
        )
        .await;
    assert_eq!(
        r["pytest_benchmarks"],
        json!(["tests/bench_normalize.py::test_normalize"]),
        "{r:#}"
    );
    assert!(r["measured_by"]
        .as_str()
        .unwrap()
        .contains("pytest-benchmark"));
    // Per-round medians, not process wall times.
    assert!(r["base"]["median"].as_f64().unwrap() < 0.05, "{r:#}");
    assert_eq!(r["comparison"]["verdict"], "above_threshold", "{r:#}");
    assert!(
        r["comparison"]["speedup"]["estimate"].as_f64().unwrap() > 3.0,
        "{r:#}"
    );
    nothing_left(repo.path(), "bench_normalize.py");
    // abbench gives the JSON file itself.
    let msg = server
        .call_err(
            "run_e2e_benchmark",
            json!({"repo": repo.path(), "command": "python -m pytest tests/bench_normalize.py --benchmark-json=out.json"}),
        )
        .await;
    assert!(msg.contains("drop it"), "{msg}");
}

/// `abbench e2e` on the command line: the verdict printed, the exports
/// written (Markdown tables with units, CSV of both revisions in base
/// units, the full JSON), `--fail-on` gating.
#[test]
fn the_command_line_runs_and_exports_an_e2e_run() {
    let repo = project();
    let marker = common::unique("e2e_cli");
    apply(repo.path(), FAST);
    let data = tempfile::tempdir().unwrap();
    let (md, csv, js) = (
        data.path().join("e2e.md"),
        data.path().join("e2e.csv"),
        data.path().join("e2e.json"),
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_abbench"))
        .args([
            "e2e",
            "--runner",
            "python3",
            "--max-pairs",
            "5",
            "--target",
            TARGET,
        ])
        .arg("--repo")
        .arg(repo.path())
        .args(["--command", &format!("python work.py 20000 {marker}")])
        .args(["--fail-on", "below,regression"])
        .arg("--export-markdown")
        .arg(&md)
        .arg("--export-csv")
        .arg(&csv)
        .arg("--export-json")
        .arg(&js)
        .env("ABBENCH_DATA_DIR", data.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("VERDICT  above_threshold"), "{stdout}");
    let markdown = std::fs::read_to_string(&md).unwrap();
    for needle in [
        "**above_threshold**",
        "| Revision | Median | Min | Max | CV | n |",
        "| base | ",
        " ms |",
        "| Speedup (A / B) | ",
        "`shop/report.py::normalize`",
    ] {
        assert!(markdown.contains(needle), "{needle:?} missing:\n{markdown}");
    }
    let table = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("run_id,domain,revision,unit,n,median"),
        "{table}"
    );
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[1].contains(",base,s,") && lines[2].contains(",candidate,s,"));
    let full: Value = serde_json::from_str(&std::fs::read_to_string(&js).unwrap()).unwrap();
    assert_eq!(full["comparison"]["verdict"], "above_threshold");
    nothing_left(repo.path(), &marker);
}

/// The workload script the agent wrote for the e2e run (untracked, not
/// passed as `copy_to_base`) runs on the base too, and the keep check on
/// that run does not count it as part of the change.
#[tokio::test]
async fn an_untracked_workload_script_is_measured_on_both_and_not_counted_as_the_change() {
    let server = common::start().await;
    let repo = project();
    apply(repo.path(), FAST);
    let marker = common::unique("e2e_untracked");
    let bench = tempfile::tempdir().unwrap();
    let script = common::generate(&server, bench.path(), json!({
        "name": common::unique("untracked"), "domain": "cpu", "repo": repo.path(), "target": TARGET,
        "setup": "WORDS = ['Alpha%dBeta' % i for i in range(2000)]", "call": "return normalize(WORDS)",
    })).await;
    let micro = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": script, "cwd": repo.path(), "max_pairs": 6}),
        )
        .await;
    let test_command = format!(
        "{} -m pytest -q -p no:cacheprovider",
        common::test_python().display()
    );
    let first = server
        .call_ok(
            "check_keep_conditions",
            json!({"run_id": micro["run_id"], "repo": repo.path(), "test_command": test_command,
                   "runner": common::test_python(), "target_test": "tests/test_report.py::test_normalize"}),
        )
        .await;
    // The agent writes the workload only now, for the e2e run.
    std::fs::write(repo.path().join("bench_workload.py"), WORKLOAD).unwrap();
    let e2e = server
        .call_ok(
            "run_e2e_benchmark",
            json!({"repo": repo.path(), "command": format!("python bench_workload.py 20000 {marker}"),
                   "runner": "python3", "target_functions": [TARGET], "max_pairs": 6}),
        )
        .await;
    assert_eq!(
        e2e["copied_to_base"],
        json!(["bench_workload.py"]),
        "{e2e:#}"
    );
    nothing_left(repo.path(), &marker);
    let k = server
        .call_ok(
            "check_keep_conditions",
            json!({"run_id": micro["run_id"], "repo": repo.path(), "test_command": test_command,
                   "runner": common::test_python(), "e2e_run_id": e2e["run_id"]}),
        )
        .await;
    let simplicity = &k["conditions"][2];
    assert_eq!(simplicity["figures"]["files_changed"], 1, "{simplicity:#}");
    assert_eq!(
        simplicity["figures"]["not_counted"],
        json!([{"path": "bench_workload.py", "why": "copied into the e2e base to measure"}])
    );
    // The workload serves the measurement: the suite's result on the change
    // itself, from the first check, stands.
    let tests = &k["conditions"][1];
    assert!(
        tests["summary"].as_str().unwrap().starts_with(&format!(
            "reused from check {}",
            first["check_id"].as_str().unwrap()
        )),
        "{tests:#}"
    );
    assert_eq!(k["durations"]["tests_s"], 0.0);
}
