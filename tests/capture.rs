//! Capturing a target's real calls from a test on the base revision (`inputs_from`):
//! real git, python3 and unittest; nothing written into
//! the repository; the capture reused on the same key; a test that never
//! calls the target, or fails, is an error that says so.

use std::path::Path;
use std::time::Duration;

use abbench::capture::{capture, CaptureError, CaptureRequest, Source};
use abbench::git::Repo;
use abbench::python::runner::Runner;
use abbench::revision::Target;
use tokio_util::sync::CancellationToken;

const MODULE: &str = "def word_counts(words):\n    counts = {}\n    for w in words:\n        counts[w] = counts.get(w, 0) + 1\n    return counts\n";
const TEST: &str = "import unittest\nfrom text.count import word_counts\n\n\nclass CountTest(unittest.TestCase):\n    def test_sizes(self):\n        self.assertEqual(word_counts([]), {})\n        self.assertEqual(word_counts(['a']), {'a': 1})\n        self.assertEqual(len(word_counts(['w%d' % (i % 50) for i in range(5000)])), 50)\n\n    def test_other(self):\n        self.assertTrue(True)\n\n    def test_broken(self):\n        self.assertEqual(word_counts(['a']), {})\n\n    def test_slow(self):\n        import time\n        word_counts(['a'])\n        time.sleep(60)\n";

async fn repo(dir: &Path) -> Repo {
    std::fs::create_dir_all(dir.join("text")).unwrap();
    std::fs::create_dir_all(dir.join("tests")).unwrap();
    std::fs::write(dir.join("text/__init__.py"), "").unwrap();
    std::fs::write(dir.join("text/count.py"), MODULE).unwrap();
    std::fs::write(dir.join("tests/__init__.py"), "").unwrap();
    std::fs::write(dir.join("tests/test_count.py"), TEST).unwrap();
    Repo::init_with_commit(dir, "base").await.unwrap()
}

async fn run(
    repo: &Repo,
    data: &Path,
    test: &str,
) -> Result<abbench::capture::Captured, CaptureError> {
    run_for(repo, data, test, Duration::from_secs(60)).await
}

async fn run_for(
    repo: &Repo,
    data: &Path,
    test: &str,
    timeout: Duration,
) -> Result<abbench::capture::Captured, CaptureError> {
    let commit = abbench::git::Repo::open(&repo.root)
        .await
        .unwrap()
        .commit_of("HEAD")
        .await
        .unwrap();
    let runner = Runner {
        argv: vec!["python3".into()],
        chosen_because: "test".into(),
        tried: Vec::new(),
    };
    let targets = [Target {
        file: "text/count.py".into(),
        qualname: "word_counts".into(),
    }];
    let source = Source::Test(test.into());
    let req = CaptureRequest {
        repo,
        base_commit: &commit,
        targets: &targets,
        source: &source,
        runner: &runner,
        max_calls: 200,
        timeout,
    };
    capture(&req, data, &CancellationToken::new()).await
}

#[tokio::test]
async fn a_test_s_calls_are_captured_on_the_base_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let repo = repo(dir.path()).await;
    // An uncommitted edit: the capture runs the committed base, not this.
    std::fs::write(
        dir.path().join("text/count.py"),
        "def word_counts(words):\n    raise SystemExit('work tree')\n",
    )
    .unwrap();
    let c = run(
        &repo,
        data.path(),
        "tests/test_count.py::CountTest::test_sizes",
    )
    .await
    .unwrap();
    assert!(!c.reused);
    assert_eq!(c.inputs.calls_seen, 3, "{:?}", c.inputs);
    assert_eq!(c.inputs.calls_kept, 3);
    assert_eq!(c.inputs.sizes, Some([0, 5000]));
    assert!(c.path.starts_with(data.path()) && c.path.exists());
    // Nothing written into the repository, ignored files included.
    let status = std::process::Command::new("git")
        .args(["status", "--porcelain", "--ignored"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&status.stdout),
        " M text/count.py\n"
    );
    let trees = std::process::Command::new("git")
        .args(["worktree", "list"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&trees.stdout).lines().count(),
        1,
        "the base worktree is removed"
    );
    let again = run(
        &repo,
        data.path(),
        "tests/test_count.py::CountTest::test_sizes",
    )
    .await
    .unwrap();
    assert!(again.reused);
    assert_eq!(again.inputs.sha256, c.inputs.sha256);
    assert_eq!(c.inputs.sha256.len(), 64);
}

#[tokio::test]
async fn a_test_that_never_calls_the_target_or_fails_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let repo = repo(dir.path()).await;
    let err = run(
        &repo,
        data.path(),
        "tests/test_count.py::CountTest::test_other",
    )
    .await
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("`word_counts` was never called"), "{err}");
    let err = run(
        &repo,
        data.path(),
        "tests/test_count.py::CountTest::test_broken",
    )
    .await
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("failed on the base") && err.contains("AssertionError"),
        "{err}"
    );
}

mod common;

/// `abbench template --json` capturing from `python3 work.py` in `dir`.
fn template_from_work(dir: &Path, data: &Path, out: &Path, target: &str) -> serde_json::Value {
    template_in_domain(dir, data, out, target, "cpu")
}

fn template_in_domain(
    dir: &Path,
    data: &Path,
    out: &Path,
    target: &str,
    domain: &str,
) -> serde_json::Value {
    let done = std::process::Command::new(env!("CARGO_BIN_EXE_abbench"))
        .args([
            "template", "--json", "--name", domain, "--domain", domain, "--target", target,
        ])
        .args([
            "--inputs-from-command",
            "python3 work.py",
            "--runner",
            "python3",
        ])
        .arg("--cwd")
        .arg(dir)
        .arg("--dir")
        .arg(out)
        .env("ABBENCH_DATA_DIR", data)
        .output()
        .unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    serde_json::from_slice(&done.stdout).unwrap()
}

/// A repository whose one commit holds `text/<module>` and the workload `work.py`.
async fn committed_workload(dir: &Path, module: &str, source: &str, work: &str) {
    std::fs::create_dir_all(dir.join("text")).unwrap();
    std::fs::write(dir.join("text/__init__.py"), "").unwrap();
    std::fs::write(dir.join("text").join(module), source).unwrap();
    std::fs::write(dir.join("work.py"), work).unwrap();
    Repo::init_with_commit(dir, "base").await.unwrap();
}

/// Runs the generated script's variant A; its stderr, after checking it failed.
fn run_a_fails(script: &str, dir: &Path) -> String {
    let ran = std::process::Command::new("python3")
        .arg(script)
        .arg("a")
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(!ran.status.success());
    String::from_utf8_lossy(&ran.stderr).into_owned()
}

const FAST: &str = "from collections import Counter\n\n\ndef word_counts(words):\n    return dict(Counter(words))\n";
const WRONG_WHEN_EMPTY: &str = "from collections import Counter\n\n\ndef word_counts(words):\n    return dict(Counter(words)) or None\n";

/// Over MCP: generate with `inputs_from`, run; a candidate wrong only for
/// the empty list the test passes is `different_results` naming that call.
#[tokio::test]
async fn captured_calls_are_replayed_and_a_candidate_wrong_on_one_is_caught() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    repo(dir.path()).await;
    let out = tempfile::tempdir().unwrap();
    let mut verdicts = Vec::new();
    for (name, code) in [("fast", FAST), ("wrong", WRONG_WHEN_EMPTY)] {
        std::fs::write(dir.path().join("text/count.py"), code).unwrap();
        let g = server
            .call_ok(
                "generate_ab_script",
                serde_json::json!({
                    "name": name, "domain": "cpu", "target": "text/count.py::word_counts",
                    "repo": dir.path(), "cwd": dir.path(), "dir": out.path(), "runner": "python3",
                    "inputs_from": {"test": "tests/test_count.py::CountTest::test_sizes"},
                }),
            )
            .await;
        assert_eq!(g["inputs"]["calls_kept"], 3, "{g:#}");
        assert!(
            g["inputs"]["source"]
                .as_str()
                .unwrap()
                .starts_with("the test tests/test_count.py::CountTest::test_sizes on base "),
            "{g:#}"
        );
        let r = server
            .call_ok(
                "run_ab_benchmark",
                serde_json::json!({"script": g["path"], "cwd": dir.path(), "runner": "python3"}),
            )
            .await;
        verdicts.push((
            r["verdict"].clone(),
            r["equivalence"].clone(),
            g["equivalence"].clone(),
        ));
    }
    assert_eq!(verdicts[0].0, "above_threshold", "{verdicts:#?}");
    assert_eq!(verdicts[1].0, "different_results", "{verdicts:#?}");
    let difference = verdicts[1].1["first_difference"].as_str().unwrap();
    assert!(
        difference.contains("call 1 of 3: word_counts([])") && difference.contains("None"),
        "{difference}"
    );
    let status = std::process::Command::new("git")
        .args(["status", "--porcelain", "--ignored"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&status.stdout),
        " M text/count.py\n"
    );
}

/// The command line, from a workload command: a generator argument is
/// skipped with its reason, the other calls kept and replayed; a calls file
/// changed after generation is refused when the script runs.
#[tokio::test]
async fn the_command_line_captures_from_a_workload_and_the_script_checks_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    repo(dir.path()).await;
    std::fs::write(
        dir.path().join("work.py"),
        "from text.count import word_counts\nword_counts(['a', 'b'])\nword_counts(w for w in 'xy')\nword_counts(['c'] * 100)\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("text/count.py"), FAST).unwrap();
    let out = tempfile::tempdir().unwrap();
    let g = template_from_work(
        dir.path(),
        data.path(),
        out.path(),
        "text/count.py::word_counts",
    );
    let inputs = &g["inputs"];
    assert_eq!(inputs["calls_seen"], 3, "{inputs:#}");
    assert_eq!(inputs["calls_kept"], 2, "{inputs:#}");
    assert_eq!(inputs["skipped"][0]["call"], 1, "{inputs:#}");
    assert!(
        inputs["skipped"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("generator"),
        "{inputs:#}"
    );
    assert_eq!(g["equivalence"]["status"], "same", "{g:#}");
    // The run names what it replays, and warns that the skipped call is
    // covered by neither the timing nor the comparison.
    let ran = std::process::Command::new(env!("CARGO_BIN_EXE_abbench"))
        .args(["run", "--json", "--max-pairs", "6", "--runner", "python3"])
        .arg(g["path"].as_str().unwrap())
        .arg("--cwd")
        .arg(dir.path())
        .env("ABBENCH_DATA_DIR", data.path())
        .output()
        .unwrap();
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&ran.stdout).unwrap();
    assert!(
        r["measured_by"].as_str().unwrap().contains(
            "replays the 2 captured call(s) of word_counts from the command `python3 work.py`"
        ),
        "{r:#}"
    );
    let warned = r["warnings"].as_array().unwrap().iter().any(|w| {
        let w = w.as_str().unwrap();
        w.contains("1 call(s) could not be captured") && w.contains("generator")
    });
    assert!(warned, "{:#}", r["warnings"]);
    // The calls file changed behind the script's back: it refuses to run.
    let calls = std::fs::read_dir(data.path().join("captures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "pkl"))
        .unwrap();
    let mut bytes = std::fs::read(&calls).unwrap();
    bytes.push(b'\n');
    std::fs::write(&calls, bytes).unwrap();
    let stderr = run_a_fails(g["path"].as_str().unwrap(), dir.path());
    assert!(
        stderr.contains("changed since the script was generated"),
        "{stderr}"
    );
}

/// A method target: `self` is pickled with the arguments and the call
/// replays through the class; a calls file removed after generation is
/// refused by the script with the fix.
#[tokio::test]
async fn a_method_is_replayed_with_its_instance_and_a_missing_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    committed_workload(
        dir.path(),
        "index.py",
        "class Index:\n    def __init__(self, stop):\n        self.stop = set(stop)\n\n    def keep(self, words):\n        out = []\n        for w in words:\n            if w not in self.stop:\n                out.append(w)\n        return out\n",
        "from text.index import Index\nix = Index(['a', 'the'])\nix.keep(['a', 'cat', 'the', 'hat'])\nix.keep([])\n",
    )
    .await;
    std::fs::write(
        dir.path().join("text/index.py"),
        "class Index:\n    def __init__(self, stop):\n        self.stop = set(stop)\n\n    def keep(self, words):\n        stop = self.stop\n        return [w for w in words if w not in stop]\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let g = template_from_work(
        dir.path(),
        data.path(),
        out.path(),
        "text/index.py::Index.keep",
    );
    assert_eq!(g["inputs"]["calls_kept"], 2, "{g:#}");
    assert_eq!(g["equivalence"]["status"], "same", "{g:#}");
    std::fs::remove_dir_all(data.path().join("captures")).unwrap();
    let stderr = run_a_fails(g["path"].as_str().unwrap(), dir.path());
    assert!(
        stderr.contains("the captured calls are missing"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_test_that_outlives_timeout_s_is_killed_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let repo = repo(dir.path()).await;
    let started = std::time::Instant::now();
    let err = run_for(
        &repo,
        data.path(),
        "tests/test_count.py::CountTest::test_slow",
        Duration::from_secs(2),
    )
    .await
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("timed out after 2 s") && err.contains("timeout_s"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let trees = std::process::Command::new("git")
        .args(["worktree", "list"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&trees.stdout).lines().count(), 1);
}

/// The async domain awaits each replayed call: a coroutine target's calls
/// captured from a workload that drives it with asyncio.run; a candidate
/// wrong only for the empty input is caught and the call named.
#[tokio::test]
async fn an_async_target_s_captured_calls_are_awaited() {
    let dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    committed_workload(
        dir.path(),
        "fetch.py",
        "import asyncio\n\n\nasync def lengths(words):\n    out = []\n    for w in words:\n        await asyncio.sleep(0)\n        out.append(len(w))\n    return out\n",
        "import asyncio\nfrom text.fetch import lengths\nasyncio.run(lengths([]))\nasyncio.run(lengths(['ab', 'c']))\n",
    )
    .await;
    let out = tempfile::tempdir().unwrap();
    let mut answers = Vec::new();
    for body in [
        "async def lengths(words):\n    return [len(w) for w in words]\n",
        "async def lengths(words):\n    return [len(w) for w in words] or None\n",
    ] {
        std::fs::write(
            dir.path().join("text/fetch.py"),
            format!("import asyncio\n\n\n{body}"),
        )
        .unwrap();
        answers.push(template_in_domain(
            dir.path(),
            data.path(),
            out.path(),
            "text/fetch.py::lengths",
            "async",
        ));
    }
    assert_eq!(answers[0]["inputs"]["calls_kept"], 2, "{:#}", answers[0]);
    assert_eq!(
        answers[0]["equivalence"]["status"], "same",
        "{:#}",
        answers[0]
    );
    assert_eq!(
        answers[1]["equivalence"]["status"], "different",
        "{:#}",
        answers[1]
    );
    let difference = answers[1]["equivalence"]["first_difference"]
        .as_str()
        .unwrap();
    assert!(
        difference.contains("call 1 of 2: lengths([])") && difference.contains("None"),
        "{difference}"
    );
}
