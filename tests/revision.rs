//! The revision form of `generate_ab_script` (bench_a from git, bench_b
//! from the work tree or another revision) over MCP stdio, on real git
//! repositories with real python3: the variants really run the base's and
//! the candidate's code (asserted on what they compute, not on timing),
//! every error names what to change, and nothing lands in the work tree.

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

fn write(repo: &Path, path: &str, text: &str) {
    let file = repo.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, text).unwrap();
}

/// `shop` in a src layout. `report.count_known` uses `norm` from `.util`
/// (a relative import); `Report.total` is a method. Every function says
/// which revision it is, so a variant's output proves whose code ran.
const UTIL: &str = "def norm(s):\n    return s.strip().lower()\n\nTAG = 'base-util'\n";
const REPORT: &str = "\
from .util import norm, TAG

REVISION = 'base'


def count_known(orders, catalogue):
    n = 0
    for o in orders:
        if norm(o) in [norm(c) for c in catalogue]:
            n += 1
    return (REVISION, TAG, n)


class Report:
    def __init__(self, rows):
        self.rows = rows

    def total(self):
        return (REVISION, sum(r for r in self.rows))
";

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "src/shop/__init__.py", "");
    write(dir.path(), "src/shop/util.py", UTIL);
    write(dir.path(), "src/shop/report.py", REPORT);
    common::git(dir.path(), &["init", "-q"]);
    common::git(dir.path(), &["add", "-A"]);
    common::git(dir.path(), &["commit", "-q", "-m", "base"]);
    dir
}

/// The candidate: a set instead of a list in `count_known`, `total` with
/// the builtin, `norm` with casefold; each now says "cand".
fn apply_candidate(repo: &Path) {
    let report = REPORT
        .replace("REVISION = 'base'", "REVISION = 'cand'")
        .replace(
            "    n = 0\n",
            "    n = 0\n    known = {norm(c) for c in catalogue}\n",
        )
        .replace("[norm(c) for c in catalogue]", "known")
        .replace("sum(r for r in self.rows)", "sum(self.rows)");
    write(repo, "src/shop/report.py", &report);
    write(
        repo,
        "src/shop/util.py",
        &UTIL
            .replace("s.strip().lower()", "s.strip().casefold()")
            .replace("base-util", "cand-util"),
    );
}

const SETUP: &str =
    "ORDERS = ['A', 'b ', 'zz'] * 50\nCATALOGUE = [f'x{i}' for i in range(40)] + ['a', 'B']";

/// Runs `python3 script mode` and returns what `call` wrote to `out`.
fn computed(script: &str, mode: &str, out: &Path) -> String {
    let _ = std::fs::remove_file(out);
    let _ = common::run_variant(script, mode, out.parent().unwrap());
    std::fs::read_to_string(out).unwrap()
}

/// A `call` that records what the variant computed, then returns it.
fn recording_call(expr: &str, out: &Path) -> String {
    format!(
        "result = {expr}\nwith open({:?}, 'w') as f:\n    f.write(repr(result))\nreturn result",
        out.display().to_string()
    )
}

async fn generate(server: &common::Server, args: Value) -> Value {
    server.call_ok("generate_ab_script", args).await
}

#[tokio::test]
async fn base_and_work_tree_run_their_own_code_with_relative_imports_and_methods() {
    let server = common::start().await;
    let repo = project();
    apply_candidate(repo.path());
    let status_before = common::git(
        repo.path(),
        &["status", "--porcelain", "--untracked-files=all"],
    );
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("computed.txt");

    // Two targets in two files: A's report must use A's util (its relative import).
    let made = generate(
        &server,
        json!({
            "name": "count_known", "domain": "cpu", "setup": SETUP,
            "target": ["src/shop/report.py::count_known", "src/shop/util.py::norm"],
            "call": recording_call("count_known(ORDERS, CATALOGUE)", &out),
            "number": 1, "repeat": 1,
            "cwd": repo.path(), "dir": out_dir.path(),
        }),
    )
    .await;
    let script = made["path"].as_str().unwrap();
    let head = common::git(repo.path(), &["rev-parse", "HEAD"]);
    assert_eq!(made["revision"]["base_commit"], head.trim());
    assert_eq!(
        made["revision"]["modules"],
        json!(["shop.report", "shop.util"])
    );
    assert_eq!(made["targets_checked"][0]["a_line"], 6);
    assert_eq!(made["targets_checked"][0]["same_definition"], false);
    let text = made["script"].as_str().unwrap();
    assert!(text.contains(&format!(
        "src/shop/report.py as committed at {}",
        &head[..12]
    )));
    assert!(text.contains("Only these modules differ between A and B: shop.report, shop.util"));

    assert_eq!(computed(script, "a", &out), "('base', 'base-util', 100)");
    assert_eq!(computed(script, "b", &out), "('cand', 'cand-util', 100)");

    // A method on a class: the call names the class, bound per variant.
    let made = generate(
        &server,
        json!({
            "name": "total", "domain": "cpu", "setup": "ROWS = list(range(100))",
            "target": "src/shop/report.py::Report.total",
            "call": recording_call("Report(ROWS).total()", &out),
            "number": 1, "repeat": 1,
            "cwd": repo.path(), "dir": out_dir.path(),
        }),
    )
    .await;
    let script = made["path"].as_str().unwrap();
    assert_eq!(computed(script, "a", &out), "('base', 4950)");
    assert_eq!(computed(script, "b", &out), "('cand', 4950)");
    // The paired mode abbench runs: both variants in one process.
    let paired = Command::new("python3")
        .args([
            script,
            "ab",
            "--rounds",
            "2",
            "--number-a",
            "1",
            "--number-b",
            "1",
        ])
        .output()
        .unwrap();
    assert!(
        paired.status.success(),
        "{}",
        String::from_utf8_lossy(&paired.stderr)
    );

    // The work tree holds exactly the candidate: no script, no __pycache__.
    assert_eq!(
        common::git(
            repo.path(),
            &[
                "status",
                "--porcelain",
                "--untracked-files=all",
                "--ignored"
            ]
        ),
        status_before
    );

    // run_ab_benchmark records where the code came from.
    let run = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": made["path"], "cwd": repo.path(), "max_pairs": 6}),
        )
        .await;
    assert_eq!(run["revision"], made["revision"]);

    // benchmark_history finds it by its target before any keep decision.
    let history = server
        .call_ok("benchmark_history", json!({"function": "Report.total"}))
        .await;
    assert_eq!(history["runs"][0]["run_id"], run["run_id"], "{history}");
    let none = server
        .call_ok("benchmark_history", json!({"function": "no_such_function"}))
        .await;
    assert_eq!(none["runs"], json!([]), "{none}");
}

#[tokio::test]
async fn committed_revisions_compare_without_the_work_tree() {
    let server = common::start().await;
    let repo = project();
    apply_candidate(repo.path());
    common::git(repo.path(), &["commit", "-q", "-am", "candidate"]);
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("computed.txt");
    let args = |extra: Value| {
        let mut args = json!({
            "name": "rev", "domain": "cpu", "setup": SETUP,
            "target": ["src/shop/report.py::count_known"],
            "call": recording_call("count_known(ORDERS, CATALOGUE)", &out),
            "number": 1, "repeat": 1, "cwd": repo.path(), "dir": out_dir.path(),
        });
        args.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        args
    };

    // A clean tree with base HEAD: nothing to compare, and the fix is named.
    let err = server.call_err("generate_ab_script", args(json!({}))).await;
    assert!(
        err.contains("nothing changed") && err.contains("HEAD~1"),
        "{err}"
    );

    // base HEAD~1 against the work tree (= HEAD).
    let made = generate(&server, args(json!({"base": "HEAD~1"}))).await;
    let script = made["path"].as_str().unwrap();
    assert_eq!(computed(script, "a", &out), "('base', 'cand-util', 100)");
    assert_eq!(computed(script, "b", &out), "('cand', 'cand-util', 100)");

    // base HEAD~1 against candidate HEAD, with the work tree edited since:
    // B is HEAD's code, embedded, not the work tree's.
    write(
        repo.path(),
        "src/shop/report.py",
        &REPORT.replace("REVISION = 'base'", "REVISION = 'dirty'"),
    );
    let made = generate(
        &server,
        args(json!({"base": "HEAD~1", "candidate": "HEAD"})),
    )
    .await;
    assert_eq!(made["revision"]["candidate"], "HEAD");
    let script = made["path"].as_str().unwrap();
    assert_eq!(computed(script, "a", &out), "('base', 'cand-util', 100)");
    assert_eq!(computed(script, "b", &out), "('cand', 'cand-util', 100)");
}

#[tokio::test]
async fn every_bad_revision_request_is_an_error_that_names_the_fix_and_writes_nothing() {
    let server = common::start().await;
    let repo = project();
    apply_candidate(repo.path());
    let out_dir = tempfile::tempdir().unwrap();
    let base = json!({
        "name": "bad", "domain": "cpu", "setup": SETUP,
        "target": ["src/shop/report.py::count_known"],
        "call": "return count_known(ORDERS, CATALOGUE)",
        "cwd": repo.path(), "dir": out_dir.path(),
    });
    let with = |extra: Value| {
        let mut args = base.clone();
        args.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        args
    };
    let cases = [
        (
            with(json!({"target": ["src/shop/report.py::nope"]})),
            vec![
                "`src/shop/report.py::nope` is not in variant",
                "count_known",
            ],
        ),
        (
            with(json!({"target": ["src/shop/report.py::Report.nope"]})),
            vec!["Report.nope", "not in variant"],
        ),
        (
            with(json!({"target": ["src/shop/missing.py::f"]})),
            vec!["src/shop/missing.py does not exist at base HEAD"],
        ),
        (
            with(json!({"target": ["report.py"]})),
            vec!["is not path/file.py::func"],
        ),
        (
            with(json!({"base": "no-such-branch"})),
            vec!["`base` \"no-such-branch\" is not a commit"],
        ),
        (
            with(json!({"candidate": "v9"})),
            vec!["`candidate` \"v9\" is not a commit"],
        ),
        (with(json!({"code_a": "return 1"})), vec!["either `target`"]),
        (with(json!({"call": ""})), vec!["needs `call`"]),
        (
            with(json!({"domain": "structure", "modules": ["shop"]})),
            vec!["structure times imports"],
        ),
        (
            with(json!({"target": ["src/shop/report.py::norm", "src/shop/util.py::norm"]})),
            vec!["two targets bind the name `norm`"],
        ),
        (
            with(json!({"call": "return count_known(ORDERS,"})),
            vec!["syntax error in call, line 1"],
        ),
        (
            with(json!({"repo": out_dir.path()})),
            vec!["is not a git work tree"],
        ),
        (
            json!({"name": "x", "domain": "cpu", "code_a": "return 1", "code_b": "return 2", "base": "HEAD"}),
            vec!["belong to the revision form"],
        ),
    ];
    for (args, expected) in cases {
        let err = server.call_err("generate_ab_script", args.clone()).await;
        for needle in expected {
            assert!(
                err.contains(needle),
                "{args}\n→ {err}\n(missing {needle:?})"
            );
        }
    }

    // A target unchanged in a module that changed elsewhere: a warning, not an error.
    let made = generate(&server, with(json!({"target": ["src/shop/report.py::Report.__init__"], "call": "return Report(ORDERS)"}))).await;
    assert_eq!(made["targets_checked"][0]["same_definition"], true);
    let warnings = made["warnings"].to_string();
    assert!(
        warnings.contains("Report.__init__` itself is the same"),
        "{warnings}"
    );

    // A module with the same text in both: B would measure A.
    let err = server
        .call_err(
            "generate_ab_script",
            with(json!({"target": ["src/shop/report.py::count_known", "src/shop/__init__.py::x"]})),
        )
        .await;
    assert!(
        err.contains("nothing changed: src/shop/__init__.py") && err.contains("drop this target"),
        "{err}"
    );

    // An import error in the base's module names the variant, file and line.
    write(
        repo.path(),
        "src/shop/report.py",
        &format!("{REPORT}\nimport shop.nonexistent\n"),
    );
    common::git(repo.path(), &["commit", "-q", "-am", "broken base"]);
    apply_candidate(repo.path());
    let err = server.call_err("generate_ab_script", base.clone()).await;
    assert!(
        err.contains("variant A")
            && err.contains("src/shop/report.py @ ")
            && err.contains("line 21")
            && err.contains("No module named 'shop.nonexistent'"),
        "{err}"
    );

    // Only the script of the one successful call was written, nothing else.
    let files = common::files_under(out_dir.path());
    assert!(
        files.iter().all(|f| f.ends_with("micro_bench_bad.py")),
        "{files:?}"
    );
}

#[tokio::test]
async fn keep_takes_the_target_and_base_from_a_revision_run() {
    let server = common::start().await;
    let repo = project();
    apply_candidate(repo.path());
    write(
        repo.path(),
        "bench_call.py",
        "import sys\nsys.path.insert(0, 'src')\nfrom shop.report import count_known\nfor _ in range(200):\n    count_known(['A', 'b'] * 50, [f'x{i}' for i in range(40)])\n",
    );
    common::git(repo.path(), &["add", "bench_call.py"]);
    common::git(
        repo.path(),
        &["commit", "-q", "-m", "bench helper", "--", "bench_call.py"],
    );
    let head = common::git(repo.path(), &["rev-parse", "HEAD"])
        .trim()
        .to_string();
    let out_dir = tempfile::tempdir().unwrap();
    let made = generate(
        &server,
        json!({
            "name": "keep_rev", "domain": "cpu", "setup": SETUP,
            "target": "src/shop/report.py::count_known",
            "call": "return count_known(ORDERS, CATALOGUE)",
            "cwd": repo.path(), "dir": out_dir.path(),
        }),
    )
    .await;
    let run = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": made["path"], "cwd": repo.path(), "max_pairs": 6}),
        )
        .await;
    // Committing after the run does not move the base: the run recorded its commit.
    common::git(
        repo.path(),
        &["commit", "-q", "--allow-empty", "-m", "later"],
    );
    let kept = server
        .call_ok(
            "check_keep_conditions",
            json!({
                "run_id": run["run_id"], "repo": repo.path(),
                "test_command": "python3 -c pass", "target_test": "bench_call.py",
            }),
        )
        .await;
    assert_eq!(kept["target_function"], "src/shop/report.py::count_known");
    assert_eq!(kept["base_commit"], head);
    assert_ne!(kept["decision"], Value::Null);

    // A free-form run records no target: the error says to pass one.
    let free = generate(
        &server,
        json!({"name": "free", "domain": "cpu", "code_a": "return 1", "code_b": "return 2", "dir": out_dir.path()}),
    )
    .await;
    let run = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": free["path"], "max_pairs": 6}),
        )
        .await;
    let err = server
        .call_err(
            "check_keep_conditions",
            json!({"run_id": run["run_id"], "repo": repo.path(), "test_command": "python3 -c pass", "target_test": "bench_call.py"}),
        )
        .await;
    assert!(err.contains("`target_function` is required"), "{err}");
}

/// The command line's revision form: `abbench template --target --call`
/// writes the same script, and `abbench run` records the revision.
#[test]
fn the_command_line_takes_the_revision_form() {
    let repo = project();
    apply_candidate(repo.path());
    let out_dir = tempfile::tempdir().unwrap();
    let abbench = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_abbench"))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let cwd = repo.path().display().to_string();
    let dir = out_dir.path().display().to_string();
    let (code, stdout, stderr) = abbench(&[
        "template",
        "--name",
        "cli_rev",
        "--domain",
        "cpu",
        "--setup",
        SETUP,
        "--target",
        "src/shop/report.py::count_known",
        "--target",
        "src/shop/util.py::norm",
        "--call",
        "return count_known(ORDERS, CATALOGUE)",
        "--cwd",
        &cwd,
        "--dir",
        &dir,
        "--json",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let made: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        made["revision"]["targets"],
        json!(["src/shop/report.py::count_known", "src/shop/util.py::norm"])
    );
    let script = made["path"].as_str().unwrap();
    let (code, stdout, stderr) =
        abbench(&["run", script, "--cwd", &cwd, "--max-pairs", "6", "--json"]);
    assert_eq!(code, Some(0), "{stderr}");
    let run: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(run["revision"], made["revision"]);

    // The two forms do not mix, and the flags say so before anything runs.
    let (code, _, stderr) = abbench(&[
        "template", "--name", "x", "--domain", "cpu", "--target", "a.py::f", "--a", "return 1",
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}
