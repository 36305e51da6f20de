//! Conditions 1 to 3: the ledger run's improvement, the full test suite,
//! and the size and shape of the change.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::{helper, invalid, project_env, Condition, KeepError, KeepRequest, PYINFO_PY};
use crate::git::{FileChange, Repo};
use crate::ledger::RunRecord;
use crate::process::{self, Limits, ProcessError, ProcessSpec};
use crate::python_cmd::split_command;
use crate::runner::Runner;
use crate::testsummary::{self, TestSummary};

/// Dependency files: touching one means the change is not "simple".
const DEPENDENCY_FILES: [&str; 4] = ["pyproject.toml", "setup.py", "setup.cfg", "poetry.lock"];

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
pub(super) async fn tests(
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
pub(super) async fn simplicity(
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
