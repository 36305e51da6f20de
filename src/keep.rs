//! `check_keep_conditions`: the four conditions for keeping a candidate on
//! the micro-benchmark alone, every one evaluated and reported, and the
//! decision keep / needs_e2e / discard with the next step.
//!
//! 1. improvement — the ledger run's verdict is `above_threshold`.
//! 2. tests — the full test command exits 0.
//! 3. simplicity — few lines and files, no new dependency, no jump in
//!    complexity of any changed function (read with `ast`).
//! 4. hot_path — cProfile of the target test, on a temporary worktree of
//!    the base and on the candidate: the function takes a real share of the
//!    test's time on the base, and the candidate still calls it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::git::{FileChange, GitError, Repo};
use crate::ledger::{self, DecisionRecord, Ledger, LedgerError, RunRecord};
use crate::process::{self, Limits, ProcessError, ProcessSpec};
use crate::python_cmd::split_command;
use crate::runner::{self, Runner};
use crate::testsummary::{self, TestSummary};

const PYINFO_PY: &str = include_str!("python/pyinfo.py");
const PSTATS_PY: &str = include_str!("python/pstats_read.py");
/// Dependency files: touching one means the change is not "simple".
const DEPENDENCY_FILES: [&str; 4] = ["pyproject.toml", "setup.py", "setup.cfg", "poetry.lock"];

/// What to check; defaults as documented on the MCP tool.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct KeepRequest {
    /// A run recorded by run_ab_benchmark.
    pub run_id: String,
    /// The project's git work tree.
    pub repo: PathBuf,
    /// The full test suite command, split into argv words.
    pub test_command: String,
    /// `file.py::func`, `file.py::Class.method` or `pkg.module.func`.
    pub target_function: String,
    /// A pytest node id or path, or a script path.
    pub target_test: String,
    /// The base revision.
    pub base: String,
    /// The Python command; detected in `repo` when `None`.
    pub runner: Option<String>,
    /// Most net added lines.
    pub max_added_lines: i64,
    /// Most files changed.
    pub max_files: usize,
    /// Most McCabe complexity increase of any changed function.
    pub max_complexity_increase: i64,
    /// Least share of the target test's time on the base; by domain when `None`.
    pub min_hot_share: Option<f64>,
    /// Timeout of the test command, seconds.
    pub tests_timeout_s: f64,
}

impl Default for KeepRequest {
    fn default() -> Self {
        KeepRequest {
            run_id: String::new(),
            repo: PathBuf::new(),
            test_command: String::new(),
            target_function: String::new(),
            target_test: String::new(),
            base: "HEAD".into(),
            runner: None,
            max_added_lines: 30,
            max_files: 3,
            max_complexity_increase: 2,
            min_hot_share: None,
            tests_timeout_s: 900.0,
        }
    }
}

/// One condition, evaluated.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Condition {
    /// improvement, tests, simplicity or hot_path.
    pub name: String,
    /// Whether it holds.
    pub passed: bool,
    /// One sentence with the figures.
    pub summary: String,
    /// The figures behind the sentence.
    pub figures: Value,
}

/// The outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// All four conditions hold: keep on the micro-benchmark alone.
    Keep,
    /// Plausible, but an end-to-end comparison must confirm it.
    NeedsE2e,
    /// Drop it: tests fail, a regression, or no evidence of any gain.
    Discard,
}

impl Decision {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Keep => "keep",
            Decision::NeedsE2e => "needs_e2e",
            Decision::Discard => "discard",
        }
    }
}

/// The limits applied, as used.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct KeepLimits {
    /// Most net added lines.
    pub max_added_lines: i64,
    /// Most files changed.
    pub max_files: usize,
    /// Most complexity increase per function.
    pub max_complexity_increase: i64,
    /// Least share of the target test's time on the base.
    pub min_hot_share: f64,
    /// Timeout of the test command, seconds.
    pub tests_timeout_s: f64,
}

/// Wall seconds of each step.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Durations {
    /// The test command.
    pub tests_s: f64,
    /// Profiling the target test on the base.
    pub profile_base_s: f64,
    /// Profiling the target test on the candidate.
    pub profile_candidate_s: f64,
    /// The whole call.
    pub total_s: f64,
}

/// What `check_keep_conditions` returns.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct KeepResult {
    /// Id of this check in the ledger.
    pub check_id: String,
    /// The run it judged.
    pub run_id: String,
    /// keep | needs_e2e | discard.
    pub decision: Decision,
    /// Why, in one sentence.
    pub reason: String,
    /// The four conditions, each evaluated.
    pub conditions: Vec<Condition>,
    /// Names of the conditions that block a micro-only keep.
    pub blocking: Vec<String>,
    /// What to do now.
    pub next_step: String,
    /// What was compared: base commit and candidate.
    pub change: String,
    /// The base commit id.
    pub base_commit: String,
    /// The function checked, as given.
    pub target_function: String,
    /// The test profiled, as given.
    pub target_test: String,
    /// The Python used for profiling and helpers.
    pub runner: Runner,
    /// The limits applied.
    pub limits: KeepLimits,
    /// Wall seconds of each step.
    pub durations: Durations,
    /// Things worth knowing (e.g. the ledger could not record the decision).
    pub warnings: Vec<String>,
}

/// Why no decision could be made. Each message says what to change.
#[derive(Debug, thiserror::Error)]
pub enum KeepError {
    /// A bad argument.
    #[error("{0}")]
    Invalid(String),
    /// git failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// The ledger could not be read.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// Cancelled.
    #[error("cancelled; every process was killed")]
    Cancelled,
}

fn invalid(msg: impl Into<String>) -> KeepError {
    KeepError::Invalid(msg.into())
}

/// A function named by the caller, resolved to a file and a qualified name.
#[derive(Debug, Clone)]
struct Target {
    file: String,
    qualname: String,
}

impl Target {
    fn co_name(&self) -> &str {
        self.qualname.rsplit('.').next().unwrap_or(&self.qualname)
    }
}

/// Candidate (file, qualname) readings of `target_function`.
fn target_candidates(spec: &str, root: &Path) -> Vec<Target> {
    if let Some((file, qual)) = spec.split_once("::") {
        return vec![Target {
            file: file.trim_start_matches("./").to_string(),
            qualname: qual.replace("::", "."),
        }];
    }
    let parts: Vec<&str> = spec.split('.').collect();
    let mut found = Vec::new();
    for split in (1..parts.len()).rev() {
        let module = parts[..split].join("/");
        let qualname = parts[split..].join(".");
        for prefix in ["", "src/"] {
            for file in [
                format!("{prefix}{module}.py"),
                format!("{prefix}{module}/__init__.py"),
            ] {
                if root.join(&file).is_file() {
                    found.push(Target {
                        file,
                        qualname: qualname.clone(),
                    });
                }
            }
        }
    }
    found
}

/// How the target test is profiled.
#[derive(Debug, Clone)]
struct TargetTest {
    /// Arguments after `python -m cProfile -o <file>`.
    args: Vec<String>,
    pytest: bool,
    test_file: Option<String>,
    test_name: Option<String>,
}

fn target_test(spec: &str, root: &Path) -> TargetTest {
    let pytest_args = |s: &str| {
        vec![
            "-m".to_string(),
            "pytest".into(),
            "-q".into(),
            "-p".into(),
            "no:cacheprovider".into(),
            s.into(),
        ]
    };
    if let Some((file, rest)) = spec.split_once("::") {
        let name = rest.rsplit("::").next().unwrap_or(rest);
        let name = name.split('[').next().unwrap_or(name);
        return TargetTest {
            args: pytest_args(spec),
            pytest: true,
            test_file: Some(file.to_string()),
            test_name: Some(name.to_string()),
        };
    }
    let base = Path::new(spec)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let is_test_file = base.starts_with("test_") || base.ends_with("_test.py");
    if root.join(spec).is_dir() || is_test_file {
        TargetTest {
            args: pytest_args(spec),
            pytest: true,
            test_file: is_test_file.then(|| spec.to_string()),
            test_name: None,
        }
    } else {
        TargetTest {
            args: vec![spec.to_string()],
            pytest: false,
            test_file: None,
            test_name: None,
        }
    }
}

/// Runs an embedded helper with the runner's Python, JSON in and out.
async fn helper(runner: &Runner, source: &str, input: &Value, cwd: &Path) -> Result<Value, String> {
    let mut argv = runner.argv.clone();
    argv.extend(["-c".to_string(), source.to_string()]);
    let spec = ProcessSpec {
        argv,
        cwd: Some(cwd.to_path_buf()),
        stdin: Some(input.to_string().into_bytes()),
        ..Default::default()
    };
    let limits = Limits {
        timeout: Duration::from_secs(120),
        output_cap: 16 << 20,
    };
    let f = process::run(&spec, limits, &CancellationToken::new())
        .await
        .map_err(|e| e.to_string())?;
    if !f.exit.success() {
        return Err(format!("{}: {}", f.exit, f.stderr.last_lines(10)));
    }
    serde_json::from_str(f.stdout.text.trim())
        .map_err(|e| format!("unreadable helper output ({e})"))
}

/// The environment for running the project's Python in `dir`: that tree
/// first on PYTHONPATH (so a base worktree imports its own code, not an
/// editable install of the work tree), and the runner's bin directory first
/// on PATH (so `pytest` means the virtualenv's pytest).
fn project_env(runner: &Runner, dir: &Path) -> Vec<(String, String)> {
    let mut env = Vec::new();
    let mut paths = vec![dir.display().to_string()];
    if dir.join("src").is_dir() {
        paths.push(dir.join("src").display().to_string());
    }
    if let Ok(existing) = std::env::var("PYTHONPATH") {
        paths.push(existing);
    }
    env.push(("PYTHONPATH".into(), paths.join(":")));
    if let Some(bin) = Path::new(&runner.argv[0])
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        let path = std::env::var("PATH").unwrap_or_default();
        env.push(("PATH".into(), format!("{}:{path}", bin.display())));
    }
    env
}

/// Condition 1 from the ledger run; also says whether there is any evidence of a gain.
pub(crate) fn improvement(run: &RunRecord) -> (Condition, bool, bool) {
    let r = &run.result;
    let verdict = run.verdict.as_str();
    let conf = r["confidence"].as_f64().unwrap_or(0.95) * 100.0;
    let (what, est) = if r["gain"].is_object() {
        ("gain", &r["gain"])
    } else {
        ("saved_bytes", &r["saved_bytes"])
    };
    let fmt = |v: &Value| -> String {
        match v.as_f64() {
            None => "unbounded".into(),
            Some(x) if what == "gain" => format!("{:+.1} %", x * 100.0),
            Some(x) => format!("{:.2} MiB", x / crate::domain::MIB as f64),
        }
    };
    let low = est["low"].as_f64();
    let any_gain = low.is_some_and(|l| l > 0.0);
    let summary = format!(
        "verdict {verdict}: {what} {} (bounds {} to {}, {conf:.2} % one-sided) against the threshold {}, after {} pairs",
        fmt(&est["estimate"]),
        fmt(&est["low"]),
        fmt(&est["high"]),
        r["threshold"]["description"].as_str().unwrap_or("?"),
        r["pairs"]
    );
    let condition = Condition {
        name: "improvement".into(),
        passed: verdict == "above_threshold",
        summary,
        figures: json!({
            "run_id": run.run_id,
            "verdict": verdict,
            "reason": r["reason"],
            "speedup": r["speedup"],
            "gain": r["gain"],
            "saved_bytes": r["saved_bytes"],
            "saved_fraction": r["saved_fraction"],
            "threshold": r["threshold"],
            "pairs": r["pairs"],
        }),
    };
    (condition, verdict == "regression", any_gain)
}

/// Condition 2: run the full test command in the repository.
async fn tests_condition(
    req: &KeepRequest,
    repo: &Repo,
    runner: &Runner,
    cancel: &CancellationToken,
) -> Result<(Condition, f64, bool), KeepError> {
    let argv =
        split_command("test_command", &req.test_command).map_err(|e| invalid(e.to_string()))?;
    let spec = ProcessSpec {
        argv,
        cwd: Some(repo.root.clone()),
        env: project_env(runner, &repo.root),
        stdin: None,
    };
    let command = spec.display();
    let limits = Limits {
        timeout: Duration::from_secs_f64(req.tests_timeout_s),
        ..Limits::default()
    };
    let started = Instant::now();
    let (passed, summary, figures) = match process::run(&spec, limits, cancel).await {
        Ok(f) => {
            let output = format!("{}\n{}", f.stdout.text, f.stderr.text);
            let parsed = testsummary::parse(&output);
            let passed = f.exit.success();
            let counts = parsed.as_ref().map(|s: &TestSummary| {
                format!("{} passed, {} failed, {} errors", s.passed, s.failed, s.errors)
            });
            let failing = parsed.as_ref().map(|s| s.failing.clone()).unwrap_or_default();
            let summary = match (passed, counts) {
                (true, Some(c)) => format!("`{command}` passed ({c}) in {:.1} s", f.wall.as_secs_f64()),
                (true, None) => format!("`{command}` exited 0 in {:.1} s", f.wall.as_secs_f64()),
                (false, c) => format!(
                    "`{command}` failed with {}{}{}",
                    f.exit,
                    c.map(|c| format!(" ({c})")).unwrap_or_default(),
                    if failing.is_empty() { String::new() } else { format!("; failing: {}", failing.join(", ")) }
                ),
            };
            let tail = (!passed).then(|| {
                let stdout_tail = f.stdout.last_lines(40);
                if stdout_tail.trim().is_empty() { f.stderr.last_lines(40) } else { stdout_tail }
            });
            (passed, summary, json!({
                "command": command,
                "exit": f.exit.to_string(),
                "summary": parsed,
                "failing": failing,
                "duration_s": f.wall.as_secs_f64(),
                "output_tail": tail,
            }))
        }
        Err(ProcessError::TimedOut { after, stdout, .. }) => (
            false,
            format!("`{command}` timed out after {:.0} s (tests_timeout_s); its process group was killed", after.as_secs_f64()),
            json!({"command": command, "timed_out_after_s": after.as_secs_f64(), "output_tail": stdout.last_lines(40)}),
        ),
        Err(ProcessError::Cancelled) => return Err(KeepError::Cancelled),
        Err(e) => {
            return Err(invalid(format!(
                "`test_command` {:?} cannot start: {e}; give the command that runs the full suite from `repo`, e.g. \"python3 -m pytest -q\"",
                req.test_command
            )))
        }
    };
    Ok((
        Condition {
            name: "tests".into(),
            passed,
            summary,
            figures,
        },
        started.elapsed().as_secs_f64(),
        passed,
    ))
}

fn is_dependency_file(path: &str) -> bool {
    let base = Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    DEPENDENCY_FILES.contains(&base.as_str())
        || base == "uv.lock"
        || base.starts_with("Pipfile")
        || (base.starts_with("requirements") && base.ends_with(".txt"))
}

/// Condition 3: the size and shape of the change.
async fn simplicity(
    req: &KeepRequest,
    repo: &Repo,
    runner: &Runner,
    changes: &[FileChange],
    old: &str,
    new: Option<&str>,
) -> Condition {
    let added: u64 = changes.iter().map(|c| c.added).sum();
    let removed: u64 = changes.iter().map(|c| c.removed).sum();
    let net = added as i64 - removed as i64;
    let deps: Vec<&str> = changes
        .iter()
        .map(|c| c.path.as_str())
        .filter(|p| is_dependency_file(p))
        .collect();
    let mut files = Vec::new();
    for c in changes.iter().filter(|c| c.path.ends_with(".py")) {
        let new_text = match new {
            Some(rev) => repo.show(rev, &c.path).await,
            None => std::fs::read_to_string(repo.root.join(&c.path)).ok(),
        };
        files.push(json!({"path": c.path, "old": repo.show(old, &c.path).await, "new": new_text}));
    }
    let info = helper(runner, PYINFO_PY, &json!({"files": files}), &repo.root).await;
    let (mut functions, mut imports, mut problems) = (Vec::new(), Vec::new(), Vec::new());
    match &info {
        Ok(v) => {
            for f in v["files"].as_array().into_iter().flatten() {
                let path = f["path"].as_str().unwrap_or("?");
                for m in f["imports_added"].as_array().into_iter().flatten() {
                    imports.push(format!("{path}: {}", m.as_str().unwrap_or("?")));
                }
                for func in f["changed_functions"].as_array().into_iter().flatten() {
                    let before = func["before"].as_i64();
                    let after = func["after"].as_i64();
                    // A new function is measured against the simplest one (complexity 1).
                    let increase = after.map(|a| a - before.unwrap_or(1));
                    functions.push(json!({
                        "function": format!("{path}::{}", func["name"].as_str().unwrap_or("?")),
                        "complexity_before": before, "complexity_after": after, "increase": increase,
                    }));
                }
                if let Some(err) = f["parse_error"].as_str() {
                    problems.push(format!("{path} does not parse ({err})"));
                }
            }
        }
        Err(e) => problems.push(format!("could not read the changed files with Python: {e}")),
    }
    let worst = functions
        .iter()
        .filter_map(|f| Some((f["increase"].as_i64()?, f["function"].as_str()?.to_string())))
        .max();
    let mut blocking = Vec::new();
    if net > req.max_added_lines {
        blocking.push(format!("{net} net added lines > {}", req.max_added_lines));
    }
    if changes.len() > req.max_files {
        blocking.push(format!(
            "{} files changed > {}",
            changes.len(),
            req.max_files
        ));
    }
    if let Some((inc, name)) = &worst {
        if *inc > req.max_complexity_increase {
            blocking.push(format!(
                "complexity of {name} up by {inc} > {}",
                req.max_complexity_increase
            ));
        }
    }
    if !deps.is_empty() {
        blocking.push(format!("dependency file(s) changed: {}", deps.join(", ")));
    }
    blocking.extend(problems.iter().cloned());
    let shape = format!(
        "{} file(s), +{added} -{removed} lines (net {net:+}), largest complexity increase {}{}",
        changes.len(),
        worst
            .as_ref()
            .map(|(i, n)| format!("{i:+} ({n})"))
            .unwrap_or_else(|| "none".into()),
        if imports.is_empty() {
            String::new()
        } else {
            format!(", new imports: {}", imports.join("; "))
        }
    );
    Condition {
        name: "simplicity".into(),
        passed: blocking.is_empty(),
        summary: if blocking.is_empty() {
            format!("simple: {shape}, no dependency file touched")
        } else {
            format!("not simple: {}; {shape}", blocking.join("; "))
        },
        figures: json!({
            "files_changed": changes.len(),
            "files": changes.iter().map(|c| json!({"path": c.path, "added": c.added, "removed": c.removed, "untracked": c.untracked})).collect::<Vec<_>>(),
            "lines_added": added, "lines_removed": removed, "net_added_lines": net,
            "new_imports": imports, "dependency_files_changed": deps,
            "changed_functions": functions, "problems": problems,
        }),
    }
}

/// Profiles the target test in `dir` and reads the target's figures.
async fn profile(
    runner: &Runner,
    dir: &Path,
    target: &Target,
    line: Option<i64>,
    test: &TargetTest,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<Result<Value, String>, KeepError> {
    let tmp = tempfile::Builder::new()
        .prefix("abbench-prof-")
        .tempdir()
        .map_err(|e| invalid(e.to_string()))?;
    let prof = tmp.path().join("target.prof");
    let mut argv = runner.argv.clone();
    argv.extend([
        "-m".to_string(),
        "cProfile".into(),
        "-o".into(),
        prof.display().to_string(),
    ]);
    argv.extend(test.args.iter().cloned());
    let spec = ProcessSpec {
        argv,
        cwd: Some(dir.to_path_buf()),
        env: project_env(runner, dir),
        stdin: None,
    };
    let command = spec.display();
    let f = match process::run(
        &spec,
        Limits {
            timeout,
            ..Limits::default()
        },
        cancel,
    )
    .await
    {
        Ok(f) => f,
        Err(ProcessError::Cancelled) => return Err(KeepError::Cancelled),
        Err(e) => return Ok(Err(format!("`{command}`: {e}"))),
    };
    let output = format!("{}\n{}", f.stdout.text, f.stderr.text);
    // cProfile swallows SystemExit, so pytest's own summary says whether the test passed.
    let failed = !f.exit.success()
        || (test.pytest && !testsummary::parse(&output).is_some_and(|s| s.clean()));
    if failed || !prof.exists() {
        return Ok(Err(format!(
            "the target test failed under profiling (`{command}`):\n{}",
            f.stdout.last_lines(20)
        )));
    }
    let input = json!({
        "profile": prof, "root": dir,
        "target_file": dir.join(&target.file), "target_name": target.co_name(), "target_line": line,
        "test_file": test.test_file.as_ref().map(|t| dir.join(t)), "test_name": test.test_name,
    });
    Ok(helper(runner, PSTATS_PY, &input, dir).await.map(|mut v| {
        v["command"] = json!(command);
        v
    }))
}

pub(crate) fn share_text(v: &Value) -> String {
    format!(
        "{} calls, {:.3} s cumulative, {:.1} % of {} ({:.3} s), rank {} of {} repository functions",
        v["calls"],
        v["cumulative_s"].as_f64().unwrap_or(0.0),
        v["share"].as_f64().unwrap_or(0.0) * 100.0,
        v["basis"].as_str().unwrap_or("?"),
        v["basis_s"].as_f64().unwrap_or(0.0),
        v["rank"]
            .as_i64()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "-".into()),
        v["repo_functions"]
    )
}

/// Checks the four conditions and decides. `ledger_dir` overrides the configured one.
pub async fn check(
    req: &KeepRequest,
    ledger_dir: Option<&Path>,
    cancel: &CancellationToken,
) -> Result<KeepResult, KeepError> {
    let started = Instant::now();
    let open_ledger = || match ledger_dir {
        Some(d) => Ledger::open(d),
        None => Ledger::open_default(),
    };
    let run = open_ledger()?.get_run(&req.run_id)?.ok_or_else(|| {
        invalid(format!(
            "unknown run_id {:?}: use the run_id returned by run_ab_benchmark (benchmark_history lists recorded runs)",
            req.run_id
        ))
    })?;
    let timeout = req.tests_timeout_s;
    if !(timeout.is_finite() && timeout > 0.0) {
        return Err(invalid(format!(
            "`tests_timeout_s` = {timeout} must be a positive number of seconds"
        )));
    }
    let repo = Repo::open(&req.repo).await?;
    let base_commit = repo.commit_of(&req.base).await.map_err(|_| {
        invalid(format!(
            "`base` {:?} is not a commit in {}",
            req.base,
            repo.root.display()
        ))
    })?;
    // The change: the work tree against base; if that is empty and base is
    // HEAD, the last commit against its parent.
    let mut changes = repo.changes(&base_commit, None).await?;
    let head = repo.commit_of("HEAD").await?;
    let (old, new, change) = if changes.is_empty() && base_commit == head {
        let parent = repo.commit_of("HEAD^").await.map_err(|_| {
            invalid("the work tree is clean and HEAD has no parent: there is no change to check; make the change in the work tree")
        })?;
        changes = repo.changes(&parent, Some(&head)).await?;
        (
            parent.clone(),
            Some(head.clone()),
            format!(
                "HEAD ({}) against its parent {}",
                &head[..12],
                &parent[..12]
            ),
        )
    } else {
        (
            base_commit.clone(),
            None,
            format!(
                "the work tree (tracked changes and untracked files) against {} ({})",
                req.base,
                &base_commit[..12]
            ),
        )
    };

    let runner =
        runner::resolve(req.runner.as_deref(), &repo.root).map_err(|e| invalid(e.to_string()))?;
    // Resolve the target in the candidate before anything expensive.
    let candidates = target_candidates(&req.target_function, &repo.root);
    let mut located = None;
    for t in &candidates {
        let source = std::fs::read_to_string(repo.root.join(&t.file)).ok();
        let input = json!({"locate": [{"key": "c", "source": source, "qualname": t.qualname}]});
        let info = helper(&runner, PYINFO_PY, &input, &repo.root)
            .await
            .map_err(|e| {
                invalid(format!(
                    "runner `{}` could not read Python files: {e}",
                    shell_words::join(&runner.argv)
                ))
            })?;
        if let Some(line) = info["locate"]["c"].as_i64() {
            located = Some((t.clone(), line));
            break;
        }
    }
    let (target, candidate_line) = located.ok_or_else(|| {
        invalid(format!(
            "`target_function` {:?} was not found in the candidate{}: use path/to/file.py::func, path/to/file.py::Class.method or pkg.module.func",
            req.target_function,
            candidates.first().map(|t| format!(" (looked for {} in {})", t.qualname, t.file)).unwrap_or_default()
        ))
    })?;
    let test = target_test(&req.target_test, &repo.root);
    let min_hot_share = req.min_hot_share.unwrap_or(match run.domain.as_str() {
        "memory" | "structure" => 0.0,
        _ => 0.05,
    });

    // 1. improvement
    let (improvement, regression, any_gain) = improvement(&run);
    // 2. tests
    let (tests, tests_s, tests_passed) = tests_condition(req, &repo, &runner, cancel).await?;
    // 3. simplicity
    let simplicity = simplicity(req, &repo, &runner, &changes, &old, new.as_deref()).await;
    // 4. hot_path: the base in a temporary worktree, the candidate in place.
    let timeout = Duration::from_secs_f64(req.tests_timeout_s);
    let t0 = Instant::now();
    let worktree = repo.worktree(&old).await?;
    let base_line = {
        let source = std::fs::read_to_string(worktree.path.join(&target.file)).ok();
        let input =
            json!({"locate": [{"key": "b", "source": source, "qualname": target.qualname}]});
        helper(&runner, PYINFO_PY, &input, &worktree.path)
            .await
            .ok()
            .and_then(|v| v["locate"]["b"].as_i64())
    };
    let base_profile = profile(
        &runner,
        &worktree.path,
        &target,
        base_line,
        &test,
        timeout,
        cancel,
    )
    .await?;
    drop(worktree);
    let profile_base_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let cand_profile = profile(
        &runner,
        &repo.root,
        &target,
        Some(candidate_line),
        &test,
        timeout,
        cancel,
    )
    .await?;
    let profile_candidate_s = t1.elapsed().as_secs_f64();
    let hot_path = match (&base_profile, &cand_profile) {
        (Ok(b), Ok(c)) => {
            let share = b["share"].as_f64().unwrap_or(0.0);
            let cand_calls = c["calls"].as_u64().unwrap_or(0);
            let hot = share >= min_hot_share;
            let passed = hot && cand_calls > 0;
            let verdict = match (hot, cand_calls > 0) {
                (true, true) => "on the hot path".to_string(),
                (false, _) => format!(
                    "not hot enough: base share {:.1} % < min_hot_share {:.1} %",
                    share * 100.0,
                    min_hot_share * 100.0
                ),
                (true, false) => "the candidate no longer calls it in the target test".to_string(),
            };
            Condition {
                name: "hot_path".into(),
                passed,
                summary: format!(
                    "{verdict}. Base: {}. Candidate: {}",
                    share_text(b),
                    share_text(c)
                ),
                figures: json!({"base": b, "candidate": c, "min_hot_share": min_hot_share, "target": format!("{}::{}", target.file, target.qualname)}),
            }
        }
        (b, c) => Condition {
            name: "hot_path".into(),
            passed: false,
            summary: [b, c]
                .iter()
                .filter_map(|r| r.as_ref().err().cloned())
                .collect::<Vec<_>>()
                .join("\n"),
            figures: json!({"base": b.as_ref().ok(), "candidate": c.as_ref().ok(), "min_hot_share": min_hot_share}),
        },
    };

    let conditions = vec![improvement, tests, simplicity, hot_path];
    let blocking: Vec<String> = conditions
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name.clone())
        .collect();
    let target_shown = format!("{}::{}", target.file, target.qualname);
    let (decision, reason) = if blocking.is_empty() {
        (Decision::Keep, "all four conditions hold".to_string())
    } else if !tests_passed {
        (
            Decision::Discard,
            "the test suite fails with the change".to_string(),
        )
    } else if regression {
        (
            Decision::Discard,
            "the micro-benchmark shows a regression".to_string(),
        )
    } else if !any_gain {
        (
            Decision::Discard,
            "the micro-benchmark shows no evidence of any gain (its interval reaches zero)"
                .to_string(),
        )
    } else {
        (
            Decision::NeedsE2e,
            format!("a micro-only keep is blocked by: {}", blocking.join(", ")),
        )
    };
    let next_step = match decision {
        Decision::Keep => {
            "keep the change and commit it: the micro-benchmark alone justifies it".to_string()
        }
        Decision::Discard => format!("revert the change ({reason}) and try another candidate"),
        Decision::NeedsE2e => {
            let head = new
                .clone()
                .map(|h| h[..12].to_string())
                .unwrap_or_else(|| "<a commit of the work tree>".into());
            if runner::find_on_path("codeflash").is_some() {
                format!("confirm end to end: `codeflash compare {} {head} --functions '{target_shown}'`; keep only if it confirms the gain", &old[..12])
            } else {
                format!(
                    "confirm end to end: run the project's own benchmark (or time `{}`) on the base {} and on the candidate, and keep only if the end-to-end gain holds",
                    req.test_command,
                    &old[..12]
                )
            }
        }
    };
    let mut result = KeepResult {
        check_id: format!(
            "chk-{}",
            ledger::new_run_id(SystemTime::now(), crate::rng::seed_from_clock())
        ),
        run_id: req.run_id.clone(),
        decision,
        reason,
        conditions,
        blocking,
        next_step,
        change,
        base_commit: old,
        target_function: req.target_function.clone(),
        target_test: req.target_test.clone(),
        runner,
        limits: KeepLimits {
            max_added_lines: req.max_added_lines,
            max_files: req.max_files,
            max_complexity_increase: req.max_complexity_increase,
            min_hot_share,
            tests_timeout_s: req.tests_timeout_s,
        },
        durations: Durations {
            tests_s,
            profile_base_s,
            profile_candidate_s,
            total_s: started.elapsed().as_secs_f64(),
        },
        warnings: Vec::new(),
    };
    let record = DecisionRecord {
        check_id: result.check_id.clone(),
        run_id: result.run_id.clone(),
        created_at: ledger::rfc3339(SystemTime::now()),
        decision: decision.as_str().into(),
        target_function: req.target_function.clone(),
        repo: repo.root.display().to_string(),
        result: serde_json::to_value(&result).unwrap_or_default(),
    };
    match open_ledger().and_then(|l| l.record_decision(&record).map(|()| l.set_aside_warning())) {
        Ok(warning) => result.warnings.extend(warning),
        Err(e) => result
            .warnings
            .push(format!("the ledger could not record this decision: {e}")),
    }
    Ok(result)
}
