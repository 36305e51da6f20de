//! Same result, or no speed verdict: the equivalence check over MCP stdio,
//! with real python3, git and pytest (and the test venv's pinned numpy and
//! pandas). B computing something else is said by generate_ab_script in
//! milliseconds, by run_ab_benchmark before anything is timed, and by
//! check_keep_conditions even when the tests pass.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The current code: first occurrences, in order (quadratic).
const UNIQUE_WORDS: &str = "def unique_words(words):\n    \"\"\"The distinct words, in the order they first appear.\"\"\"\n    out = []\n    for w in words:\n        if w not in out:\n            out.append(w)\n    return out\n";
/// A test that checks the members but not their order (a common kind).
const TEST_TEXT: &str = "import unittest\n\nfrom text import unique_words\n\n\nclass TextTest(unittest.TestCase):\n    def test_members(self):\n        self.assertEqual(sorted(unique_words(['b', 'a', 'b', 'c', 'a'])), ['a', 'b', 'c'])\n\n    def test_report(self):\n        words = [f'w{i % 300}' for i in range(6000)]\n        self.assertEqual(len(unique_words(words)), 300)\n";
const WORDS: &str =
    "import random\nrandom.seed(3)\nWORDS = [f'w{random.randrange(400)}' for _ in range(3000)]";

/// A repository with `unique_words` committed and its test.
fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("text.py"), UNIQUE_WORDS).unwrap();
    std::fs::write(dir.path().join("test_text.py"), TEST_TEXT).unwrap();
    common::git(dir.path(), &["init", "-q"]);
    common::git(dir.path(), &["add", "-A"]);
    common::git(dir.path(), &["commit", "-q", "-m", "base"]);
    dir
}

fn candidate(repo: &Path, body: &str) {
    let text = format!("def unique_words(words):\n    \"\"\"The distinct words, in the order they first appear.\"\"\"\n    {body}\n");
    std::fs::write(repo.join("text.py"), text).unwrap();
}

async fn generate_revision(server: &common::Server, repo: &Path, out: &Path, name: &str) -> Value {
    server
        .call_ok(
            "generate_ab_script",
            json!({"name": name, "domain": "cpu", "target": "text.py::unique_words",
                   "setup": WORDS, "call": "return unique_words(WORDS)", "cwd": repo, "dir": out}),
        )
        .await
}

fn warnings(v: &Value) -> String {
    v["warnings"].to_string()
}

/// The issue's own case: the order-losing `list(set(words))` is
/// different_results in generate's warning and in the run, and discarded by
/// keep although the tests pass; `list(dict.fromkeys(words))` is still a
/// clear win with `equivalence.status` same.
#[tokio::test]
async fn an_order_losing_candidate_is_never_certified() {
    let server = common::start().await;
    let repo_dir = repository();
    let repo = repo_dir.path();
    let out = tempfile::tempdir().unwrap();

    candidate(repo, "return list(set(words))");
    let generated = generate_revision(&server, repo, out.path(), "unique_set").await;
    assert_eq!(
        generated["equivalence"]["status"], "different",
        "{generated:#}"
    );
    let difference = generated["equivalence"]["first_difference"]
        .as_str()
        .unwrap();
    assert!(
        difference.starts_with("result[")
            && difference.contains(" (A) != ")
            && difference.contains("another order"),
        "{difference}"
    );
    assert!(
        warnings(&generated).contains("A and B compute different results"),
        "{generated:#}"
    );
    let script = generated["path"].as_str().unwrap();
    let started = Instant::now();
    let run = server
        .call_ok("run_ab_benchmark", json!({"script": script, "cwd": repo}))
        .await;
    assert_eq!(run["verdict"], "different_results", "{run:#}");
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(
        run["a"].is_null() && run["b"].is_null(),
        "nothing timed: {run:#}"
    );
    assert_eq!(run["pairs"], 0);
    assert_eq!(run["stopped_because"], "different_results");
    assert!(run["speedup"].is_null());
    assert!(
        run["reason"].as_str().unwrap().contains("no speed verdict"),
        "{}",
        run["reason"]
    );
    assert!(run["equivalence"]["first_difference"]
        .as_str()
        .unwrap()
        .starts_with("result["));

    let keep = server
        .call_ok(
            "check_keep_conditions",
            json!({"run_id": run["run_id"], "repo": repo, "runner": common::test_python(),
                   "test_command": format!("{} -m pytest -q -p no:cacheprovider", common::test_python().display()),
                   "target_test": "test_text.py::TextTest::test_report"}),
        )
        .await;
    assert_eq!(keep["decision"], "discard", "{keep:#}");
    let tests = keep["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "tests")
        .unwrap();
    assert_eq!(
        tests["passed"], true,
        "the tests do not cover the order: {keep:#}"
    );
    let reason = keep["reason"].as_str().unwrap();
    assert!(
        reason.contains("changes behaviour on the benchmark input")
            && reason.contains("result[")
            && reason.contains("although the tests pass"),
        "{reason}"
    );

    candidate(repo, "return list(dict.fromkeys(words))");
    let generated = generate_revision(&server, repo, out.path(), "unique_dict").await;
    assert_eq!(generated["equivalence"]["status"], "same", "{generated:#}");
    assert_eq!(warnings(&generated), "[]");
    let run = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": generated["path"], "cwd": repo}),
        )
        .await;
    assert_eq!(run["verdict"], "above_threshold", "{run:#}");
    assert_eq!(run["equivalence"]["status"], "same");
    assert_eq!(
        run["equivalence"]["checked"],
        json!(["result", "WORDS", "stdout"])
    );
}

/// A B that sorts its input in place but returns the same value.
#[tokio::test]
async fn an_input_sorted_in_place_is_named() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let args = json!({"name": "median", "domain": "cpu", "dir": dir.path(),
        "setup": "import random\nrandom.seed(5)\nXS = [random.random() for _ in range(5001)]",
        "code_a": "return sorted(XS)[len(XS) // 2]",
        "code_b": "XS.sort()\nreturn XS[len(XS) // 2]"});
    let generated = server.call_ok("generate_ab_script", args).await;
    assert_eq!(generated["equivalence"]["status"], "different");
    let run = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": generated["path"], "cwd": dir.path()}),
        )
        .await;
    assert_eq!(run["verdict"], "different_results", "{run:#}");
    let difference = run["equivalence"]["first_difference"].as_str().unwrap();
    assert!(
        difference.starts_with("`XS` sorted in place by B only: XS[0]: "),
        "{difference}"
    );
}

/// Floats within `rel_tol` are the same (a loop's sum against math.fsum,
/// numpy results reordered by rounding), NaN equals NaN; numpy results of
/// another shape or dtype, or pandas frames with other values, differ.
#[tokio::test]
async fn floats_numpy_and_pandas_by_tolerance_shape_and_kind() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let python = common::test_python();
    let equivalence = |setup: &'static str, a: &'static str, b: &'static str| {
        let server = &server;
        let dir = dir.path().to_path_buf();
        let python = python.clone();
        async move {
            let g = server
                .call_ok(
                    "generate_ab_script",
                    json!({"name": "num", "domain": "cpu", "setup": setup, "code_a": a,
                           "code_b": b, "dir": dir, "cwd": dir, "runner": python}),
                )
                .await;
            g["equivalence"].clone()
        }
    };
    let fsum = equivalence(
        "import math, random\nrandom.seed(2)\nVALS = [random.uniform(0, 1e6) for _ in range(50000)]",
        "t = 0.0\nfor v in VALS:\n    t += v\nreturn t",
        "return math.fsum(VALS)",
    )
    .await;
    assert_eq!(fsum["status"], "same", "{fsum}");

    const M: &str =
        "import numpy as np\nrng = np.random.default_rng(0)\nM = rng.random((300, 200))";
    let close = equivalence(
        M,
        "return (M * 3.0).sum(axis=0)",
        "return M.sum(axis=0) * 3.0",
    )
    .await;
    assert_eq!(close["status"], "same", "{close}");
    let nan = equivalence(
        M,
        "return np.where(M > 0.5, np.nan, M)",
        "x = M.copy()\nx[x > 0.5] = np.nan\nreturn x",
    )
    .await;
    assert_eq!(nan["status"], "same", "{nan}");
    let shape = equivalence(
        M,
        "return M.sum(axis=0)",
        "return M.sum(axis=0).reshape(1, -1)",
    )
    .await;
    assert_eq!(shape["status"], "different", "{shape}");
    assert_eq!(
        shape["first_difference"],
        "result.shape (200,) (A) != (1, 200) (B)"
    );
    let dtype = equivalence(
        M,
        "return M.sum(axis=0)",
        "return M.sum(axis=0).astype(np.float32)",
    )
    .await;
    assert_eq!(dtype["status"], "different", "{dtype}");
    assert!(dtype["first_difference"]
        .as_str()
        .unwrap()
        .contains("dtype float64 (A) != float32 (B)"));
    let value = equivalence(
        M,
        "return M.sum(axis=0)",
        "s = M.sum(axis=0)\ns[7] += 1e-3\nreturn s",
    )
    .await;
    assert!(
        value["first_difference"]
            .as_str()
            .unwrap()
            .starts_with("result[7]: ")
            && value["first_difference"]
                .as_str()
                .unwrap()
                .ends_with("1 of 200 elements differ"),
        "{value}"
    );

    const DF: &str = "import pandas as pd\nDF = pd.DataFrame({'k': [i % 7 for i in range(2000)], 'v': [i * 0.1 for i in range(2000)]})";
    let grouped = equivalence(
        DF,
        "return DF.groupby('k')['v'].sum()",
        "return DF.groupby('k')['v'].agg('sum')",
    )
    .await;
    assert_eq!(grouped["status"], "same", "{grouped}");
    let frame = equivalence(
        DF,
        "return DF.assign(w=DF.v * 2)",
        "return DF.assign(w=DF.v * 2.001)",
    )
    .await;
    assert_eq!(frame["status"], "different", "{frame}");
    assert!(
        frame["first_difference"]
            .as_str()
            .unwrap()
            .contains("\"w\""),
        "{frame}"
    );

    // The run agrees with generate, and a tolerant answer is measured.
    let g = server
        .call_ok(
            "generate_ab_script",
            json!({"name": "npsum", "domain": "cpu", "setup": M,
                   "code_a": "return [float(sum(row)) for row in M.tolist()]",
                   "code_b": "return M.sum(axis=1).tolist()", "dir": dir.path(), "cwd": dir.path(), "runner": python}),
        )
        .await;
    let run = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": g["path"], "cwd": dir.path(), "runner": python}),
        )
        .await;
    assert_eq!(run["equivalence"]["status"], "same", "{run:#}");
    assert_eq!(run["verdict"], "above_threshold", "{run:#}");
}

/// Functions that draw random numbers are seeded alike, so they are not
/// called different; drawing in another way is `nondeterministic`, measured
/// with a warning.
#[tokio::test]
async fn functions_that_draw_random_numbers_are_not_called_different() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let python = common::test_python();
    let setup = "import random\nimport numpy as np\nXS = list(range(100000))";
    let same = server
        .call_ok(
            "generate_ab_script",
            json!({"name": "draws", "domain": "cpu", "setup": setup, "dir": dir.path(), "cwd": dir.path(), "runner": python,
                   "code_a": "return [XS[random.randrange(len(XS))] for _ in range(50)] + np.random.rand(3).tolist()",
                   "code_b": "n = len(XS)\nreturn [XS[random.randrange(n)] for _ in range(50)] + np.random.rand(3).tolist()"}),
        )
        .await;
    assert_eq!(same["equivalence"]["status"], "same", "{same:#}");
    let other = server
        .call_ok(
            "generate_ab_script",
            json!({"name": "draws2", "domain": "cpu", "setup": setup, "dir": dir.path(), "cwd": dir.path(), "runner": python,
                   "code_a": "return random.sample(XS, 50)", "code_b": "return random.choices(XS, k=50)"}),
        )
        .await;
    assert_eq!(
        other["equivalence"]["status"], "nondeterministic",
        "{other:#}"
    );
    let run = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": other["path"], "cwd": dir.path(), "runner": python, "max_pairs": 6}),
        )
        .await;
    assert_ne!(run["verdict"], "different_results", "{run:#}");
    assert!(run["pairs"].as_u64().unwrap() >= 6);
    assert!(
        warnings(&run).contains("depends on the random numbers"),
        "{}",
        warnings(&run)
    );
}

/// Results that are huge, deeply nested, cyclic, or whose `__eq__` raises
/// are answered (same, not_checked with the reason), never a crash or a
/// hang; the run measures them with a warning.
#[tokio::test]
async fn hostile_results_are_answered() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let check = |name: &'static str, setup: &'static str, a: &'static str, b: &'static str| {
        let server = &server;
        let dir = dir.path().to_path_buf();
        async move {
            let started = Instant::now();
            let g = server
                .call_ok(
                    "generate_ab_script",
                    json!({"name": name, "domain": "cpu", "setup": setup, "code_a": a, "code_b": b, "dir": dir}),
                )
                .await;
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{name} took {:?}",
                started.elapsed()
            );
            g
        }
    };
    let huge = check(
        "huge",
        "",
        "return bytes(300 << 20)",
        "return b'\\0' * (300 << 20)",
    )
    .await;
    assert_eq!(huge["equivalence"]["status"], "same", "{huge:#}");
    let kind = check(
        "kind",
        "",
        "return bytes(300 << 20)",
        "return bytearray(300 << 20)",
    )
    .await;
    assert_eq!(kind["equivalence"]["status"], "different", "{kind:#}");
    assert!(
        kind["equivalence"]["first_difference"]
            .as_str()
            .unwrap()
            .starts_with("result: bytes bytes of 314,572,800 bytes"),
        "{kind:#}"
    );
    let big_list = check(
        "biglist",
        "",
        "return list(range(3_000_000))",
        "return [*range(3_000_000)]",
    )
    .await;
    assert_eq!(big_list["equivalence"]["status"], "same", "{big_list:#}");
    let deep = "x = []\nfor _ in range(200000):\n    x = [x]\nreturn x";
    let nested = check("nested", "", deep, deep).await;
    assert_eq!(nested["equivalence"]["status"], "not_checked", "{nested:#}");
    assert!(
        warnings(&nested).contains("nested too deeply"),
        "{nested:#}"
    );
    let cyclic = check(
        "cyclic",
        "",
        "d = {'k': 1}\nd['self'] = d\nreturn [d, d]",
        "d = {'k': 1}\nd['self'] = d\nreturn [d, d]",
    )
    .await;
    assert_eq!(cyclic["equivalence"]["status"], "same", "{cyclic:#}");
    let raising = check(
        "raising_eq",
        "class Odd:\n    def __init__(self, v):\n        self.v = v\n    def __eq__(self, other):\n        raise TypeError('not comparable')\n",
        "return Odd(1)",
        "return Odd(1)",
    )
    .await;
    assert_eq!(
        raising["equivalence"]["status"], "not_checked",
        "{raising:#}"
    );
    assert!(
        raising["equivalence"]["reason"]
            .as_str()
            .unwrap()
            .contains("__eq__ raised TypeError"),
        "{raising:#}"
    );
    let run = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": nested["path"], "cwd": dir.path(), "max_pairs": 6, "timeout_s": 60}),
        )
        .await;
    assert_eq!(run["equivalence"]["status"], "not_checked", "{run:#}");
    assert_ne!(run["verdict"], "different_results");
    assert!(warnings(&run).contains("not checked to compute the same result"));
}

/// An exception in setup or A is an error naming the argument and its
/// line; the command line gates CI on different_results.
#[tokio::test]
async fn errors_name_the_part_and_the_cli_gates_on_different_results() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let msg = server
        .call_err(
            "generate_ab_script",
            json!({"name": "typo", "domain": "cpu", "dir": dir.path(),
                   "setup": "words = ['a', 'b']", "code_a": "return sorted(word)", "code_b": "return sorted(words)"}),
        )
        .await;
    assert!(
        msg.starts_with("in `code_a`, line 1: NameError: name 'word' is not defined"),
        "{msg}"
    );
    assert!(
        common::files_under(dir.path()).is_empty(),
        "nothing was written"
    );

    let data = tempfile::tempdir().unwrap();
    let script = dir.path().join("micro_bench_gate.py");
    let template = std::process::Command::new(env!("CARGO_BIN_EXE_abbench"))
        .args([
            "template",
            "--name",
            "gate",
            "--domain",
            "cpu",
            "--a",
            "return [1, 2]",
            "--b",
            "return [2, 1]",
            "--dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(template.status.success());
    assert!(String::from_utf8_lossy(&template.stderr).contains("result[0]: 1 (A) != 2 (B)"));
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_abbench"))
        .arg("run")
        .arg(&script)
        .args(["--fail-on", "different"])
        .env("ABBENCH_DATA_DIR", data.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("VERDICT  different_results"), "{stdout}");
    let unordered = std::process::Command::new(env!("CARGO_BIN_EXE_abbench"))
        .arg("run")
        .arg(&script)
        .args([
            "--fail-on",
            "different",
            "--equivalence",
            "unordered",
            "--max-pairs",
            "6",
            "--json",
        ])
        .env("ABBENCH_DATA_DIR", data.path())
        .output()
        .unwrap();
    let result: Value = serde_json::from_slice(&unordered.stdout).unwrap();
    assert_eq!(result["equivalence"]["status"], "same", "{result:#}");
    assert_ne!(result["verdict"], "different_results");
}

/// generate_ab_script runs the variants once: what they start is killed
/// with the check (its own process group), and stdin is not the worker's.
#[tokio::test]
async fn generate_leaves_no_process_behind() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let marker = common::unique("genchild");
    let g = server
        .call_ok(
            "generate_ab_script",
            json!({"name": marker, "domain": "cpu", "dir": dir.path(),
                   "setup": format!("import subprocess, sys\nMARK = {marker:?}"),
                   "code_a": "return 1",
                   "code_b": "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', MARK])\nreturn 1"}),
        )
        .await;
    assert_eq!(g["equivalence"]["status"], "same", "{g:#}");
    common::all_gone(&marker, Instant::now(), Duration::from_secs(2)).await;
    // A variant that reads stdin gets EOF, not the worker's next request.
    let g = server
        .call_ok(
            "generate_ab_script",
            json!({"name": "stdin", "domain": "cpu", "dir": dir.path(), "setup": "import sys",
                   "code_a": "return sys.stdin.read()", "code_b": "return ''"}),
        )
        .await;
    assert_eq!(g["equivalence"]["status"], "same", "{g:#}");
    server.assert_alive().await;
}
