//! Conditions 1 to 3: the ledger run's improvement, the full test suite,
//! and the size and shape of the change.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::{helper, invalid, project_env, Condition, ConditionName, KeepError, KeepRequest};
use crate::bench::FiledRun;
use crate::git::{FileChange, Repo};
use crate::process::{self, Limits, ProcessError, ProcessSpec};
use crate::python::command::split_command;
use crate::python::runner::Runner;
use crate::python::scripts;
use crate::testsummary::{self, TestSummary};
use crate::verdict::Verdict;
use serde::Deserialize;

/// Dependency files: touching one means the change is not "simple".
const DEPENDENCY_FILES: [&str; 4] = ["pyproject.toml", "setup.py", "setup.cfg", "poetry.lock"];

/// Condition 1 from the ledger run (`judged`: the candidate whose figures
/// it holds, in a run of several); also says whether it is a
/// regression and whether there is any evidence of a gain.
pub(crate) fn improvement(run: &FiledRun, judged: Option<&str>) -> (Condition, bool, bool) {
    let r = &run.result;
    let c = &r.comparison;
    let verdict = c.verdict;
    let (what, est) = match (c.gain, c.saved_bytes) {
        (Some(gain), _) => ("gain", Some(gain)),
        (None, saved) => ("saved_bytes", saved),
    };
    let fmt = |v: Option<f64>| -> String {
        match v {
            None => "unbounded".into(),
            Some(x) if what == "gain" => format!("{:+.1} %", x * 100.0),
            Some(x) => format!("{:.2} MiB", x / crate::domain::MIB as f64),
        }
    };
    let any_gain = est.and_then(|e| e.low).is_some_and(|l| l > 0.0);
    let summary = judged
        .map(|label| format!("candidate {label:?}: "))
        .unwrap_or_default()
        + &if verdict == Verdict::DifferentResults {
            format!("verdict different_results: {}", c.reason)
        } else {
            format!(
        "verdict {}: {what} {} (bounds {} to {}, {:.2} % one-sided) against the threshold {}, after {} pairs",
        verdict.as_str(),
        fmt(est.map(|e| e.estimate)),
        fmt(est.and_then(|e| e.low)),
        fmt(est.and_then(|e| e.high)),
        c.confidence * 100.0,
        r.threshold.description,
        c.pairs
    )
        };
    let condition = Condition {
        name: ConditionName::Improvement,
        passed: verdict == Verdict::AboveThreshold,
        summary,
        figures: json!({
            "run_id": run.run_id,
            "verdict": verdict,
            "reason": c.reason,
            "speedup": c.speedup,
            "gain": c.gain,
            "saved_bytes": c.saved_bytes,
            "saved_fraction": c.saved_fraction,
            "threshold": r.threshold,
            "pairs": c.pairs,
            "equivalence": r.equivalence,
            "candidate": judged,
        }),
    };
    (condition, verdict == Verdict::Regression, any_gain)
}

/// Condition 2: run the full test command in the repository.
pub(super) async fn tests(
    req: &KeepRequest,
    repo: &Repo,
    runner: &Runner,
    cancel: &CancellationToken,
) -> Result<(Condition, f64, bool), KeepError> {
    let argv = split_command("test_command", &req.test_command)?;
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
            let left_behind: Vec<String> = f.leftovers.iter().map(|l| l.describe("the test command")).collect();
            (passed, summary, json!({
                "command": command,
                "exit": f.exit.to_string(),
                "summary": parsed,
                "failing": failing,
                "duration_s": f.wall.as_secs_f64(),
                "output_tail": tail,
                "left_behind": left_behind,
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
            name: ConditionName::Tests,
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

/// The pyinfo helper's answer about the changed files.
#[derive(Debug, Deserialize)]
struct ChangedFiles {
    files: Vec<ChangedFile>,
}

/// One changed Python file.
#[derive(Debug, Deserialize)]
struct ChangedFile {
    path: String,
    imports_added: Vec<String>,
    changed_functions: Vec<ChangedFunction>,
    parse_error: Option<String>,
}

/// A function whose code changed, with its McCabe complexity on each side
/// (`None`: absent there).
#[derive(Debug, Deserialize)]
struct ChangedFunction {
    name: String,
    before: Option<i64>,
    after: Option<i64>,
}

/// From the helper's answer: each changed function with its complexity
/// before and after, the new imports, and files that do not parse.
fn read_changes(answer: &ChangedFiles) -> (Vec<Value>, Vec<String>, Vec<String>) {
    let (mut functions, mut imports, mut problems) = (Vec::new(), Vec::new(), Vec::new());
    for f in &answer.files {
        let path = &f.path;
        imports.extend(f.imports_added.iter().map(|m| format!("{path}: {m}")));
        for func in &f.changed_functions {
            // A new function is measured against the simplest one (complexity 1).
            let increase = func.after.map(|a| a - func.before.unwrap_or(1));
            functions.push(json!({
                "function": format!("{path}::{}", func.name),
                "complexity_before": func.before, "complexity_after": func.after, "increase": increase,
            }));
        }
        if let Some(err) = &f.parse_error {
            problems.push(format!("{path} does not parse ({err})"));
        }
    }
    (functions, imports, problems)
}

/// What makes the change not simple, each with its figure and limit.
fn over_limits(
    req: &KeepRequest,
    net: i64,
    files: usize,
    worst: Option<&(i64, String)>,
    deps: &[&str],
    problems: &[String],
) -> Vec<String> {
    let mut blocking = Vec::new();
    if net > req.max_added_lines {
        blocking.push(format!("{net} net added lines > {}", req.max_added_lines));
    }
    if files > req.max_files {
        blocking.push(format!("{files} files changed > {}", req.max_files));
    }
    if let Some((inc, name)) = worst {
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
    blocking
}

/// Condition 3: the size and shape of the change.
pub(super) async fn simplicity(
    req: &KeepRequest,
    repo: &Repo,
    runner: &Runner,
    changes: &[FileChange],
    (old, new): (&str, Option<&str>),
    cancel: &CancellationToken,
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
    let info: Result<ChangedFiles, String> = helper(
        runner,
        scripts::PYINFO,
        &json!({"files": files}),
        &repo.root,
        cancel,
    )
    .await;
    let (functions, imports, problems) = match &info {
        Ok(answer) => read_changes(answer),
        Err(e) => (
            Vec::new(),
            Vec::new(),
            vec![format!("could not read the changed files with Python: {e}")],
        ),
    };
    let worst = functions
        .iter()
        .filter_map(|f| Some((f["increase"].as_i64()?, f["function"].as_str()?.to_string())))
        .max();
    let blocking = over_limits(req, net, changes.len(), worst.as_ref(), &deps, &problems);
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
        name: ConditionName::Simplicity,
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
