//! The revision form's import check: the staged script is run as
//! `python script.py check`, which loads both variants' modules exactly as
//! a measured run will, resolves every target in each, and compares the
//! targets' own definitions — without running setup. An error names the
//! variant, the file and the line.

use std::path::Path;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::GenerateError;
use crate::process::{self, Limits, ProcessSpec};
use crate::python::helper::{Helper, WorkerPool};
use crate::python::scripts;
use crate::revision::ResolvedRevision;

/// The check writes no bytecode beside the project's files (the worker's
/// children write theirs under abbench's own `pycache_prefix`).
const NO_BYTECODE: (&str, &str) = ("PYTHONDONTWRITEBYTECODE", "1");

/// How long the check may take: it imports the project's modules.
const CHECK_TIMEOUT: Duration = Duration::from_secs(120);

/// One target as the check found it in both variants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CheckedTarget {
    /// The target, as given.
    pub target: String,
    /// Line of its definition (decorators included) in variant A's source; absent for a class (its methods have lines, the class object does not).
    pub a_line: Option<usize>,
    /// The same in variant B's source.
    pub b_line: Option<usize>,
    /// True when its own definition is the same in A and B, formatting and comments aside (its module differs elsewhere, e.g. in a helper).
    pub same_definition: bool,
}

#[derive(Deserialize)]
struct Answer {
    ok: bool,
    variant: Option<String>,
    kind: Option<String>,
    message: Option<String>,
    file: Option<String>,
    line: Option<usize>,
    target: Option<String>,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    targets: Vec<CheckedTarget>,
}

/// Forks of one long-lived interpreter per Python command (without `-S`:
/// the project's modules may need site-packages), so a check in a running
/// server costs a fork and the imports themselves, not an interpreter start.
static IMPORT_WORKERS: WorkerPool = WorkerPool::new();

#[derive(Deserialize)]
struct WorkerAnswer {
    output: String,
    timed_out: bool,
    status: i32,
}

/// Runs the staged script's `check` mode in `cwd` (a worker's fork, else a
/// fresh `python <script> check`) and reads its answer. In the fork it runs
/// under `final_path`, the name it is about to get, so the compiled script
/// is cached across regenerations.
pub(super) async fn run(
    python: &[String],
    script: &Path,
    final_path: &Path,
    cwd: &Path,
    rev: &ResolvedRevision,
) -> Result<Vec<CheckedTarget>, GenerateError> {
    let failed = |reason: String| GenerateError::Check {
        python: shell_words::join(python),
        reason,
    };
    let mut argv = python.to_vec();
    argv.extend([script.display().to_string(), "check".to_string()]);
    let spec = ProcessSpec {
        argv,
        cwd: Some(cwd.to_path_buf()),
        env: vec![(NO_BYTECODE.0.into(), NO_BYTECODE.1.into())],
        stdin: None,
    };
    let command = spec.display();
    let (output, ended) = match in_worker(python, script, final_path, cwd).await {
        Some(done) if done.timed_out => {
            return Err(failed(format!(
                "`{command}` ran past {} s (the targets' modules do slow work at import time?)",
                CHECK_TIMEOUT.as_secs()
            )))
        }
        Some(done) => (done.output, format!("exit status {}", done.status)),
        None => {
            let limits = Limits {
                timeout: CHECK_TIMEOUT,
                output_cap: 4 << 20,
            };
            let done = process::run(&spec, limits, &CancellationToken::new())
                .await
                .map_err(|e| failed(e.to_string()))?;
            let text = format!("{}\n{}", done.stdout.text, done.stderr.text);
            (text, done.exit.to_string())
        }
    };
    let answer = output
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("ABBENCH_CHECK "))
        .and_then(|json| serde_json::from_str::<Answer>(json).ok())
        .ok_or_else(|| {
            let tail: Vec<&str> = output.lines().rev().take(8).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            failed(format!(
                "`{command}` printed no ABBENCH_CHECK line ({ended}); its output ends: {}",
                tail.join("\n")
            ))
        })?;
    interpret(answer, rev)
}

/// The check in a fork of `python`'s worker; `None` when no worker answers.
async fn in_worker(
    python: &[String],
    script: &Path,
    final_path: &Path,
    cwd: &Path,
) -> Option<WorkerAnswer> {
    let spawn = || {
        let script = format!("{}\n\n{}", scripts::COMPILED, scripts::IMPORT_CHECK);
        let helper = Helper {
            python,
            flags: &[],
            script: &script,
            cwd: None,
            env: Vec::new(),
            timeout: CHECK_TIMEOUT,
        };
        ProcessSpec {
            env: vec![(NO_BYTECODE.0.into(), NO_BYTECODE.1.into())],
            ..ProcessSpec::new(helper.argv())
        }
    };
    // The worker's children compile into abbench's data directory, never
    // beside the project's files (without one, they write no bytecode).
    let pycache = crate::ledger::data_dir().ok().map(|d| d.join("pycache"));
    let request = serde_json::json!({
        "script": script,
        "path": final_path,
        "cwd": cwd,
        "timeout_s": CHECK_TIMEOUT.as_secs(),
        "pycache_prefix": pycache,
    });
    let line = IMPORT_WORKERS
        .ask(
            python,
            spawn,
            &request.to_string(),
            CHECK_TIMEOUT + Duration::from_secs(5),
        )
        .await?;
    serde_json::from_str(line.trim()).ok()
}

fn interpret(answer: Answer, rev: &ResolvedRevision) -> Result<Vec<CheckedTarget>, GenerateError> {
    if answer.ok {
        return Ok(answer.targets);
    }
    let b = answer.variant.as_deref() == Some("b");
    let variant = if b { 'B' } else { 'A' };
    let origin = if b {
        rev.info.candidate_label()
    } else {
        rev.info.base_label()
    };
    let message = answer.message.unwrap_or_default();
    if answer.kind.as_deref() == Some("missing") {
        return Err(GenerateError::MissingTarget {
            target: answer.target.unwrap_or_default(),
            variant,
            origin,
            message,
            file: answer.file.unwrap_or_default(),
            names: if answer.names.is_empty() {
                "no public names".to_string()
            } else {
                answer.names.join(", ")
            },
        });
    }
    let at = match (answer.file, answer.line) {
        (Some(f), Some(l)) => format!(" (file {f}, line {l})"),
        (Some(f), None) => format!(" (file {f})"),
        _ => String::new(),
    };
    Err(GenerateError::Import {
        variant,
        origin,
        message,
        at,
    })
}

/// A warning for each target whose own definition did not change.
pub(super) fn warnings(rev: &ResolvedRevision, checked: &[CheckedTarget]) -> Vec<String> {
    checked
        .iter()
        .filter(|t| t.same_definition)
        .map(|t| {
            format!(
                "`{}` itself is the same at {} and in {}; only other code in its module differs, so any difference measured comes from there",
                t.target, rev.info.base_label(), rev.info.candidate_label()
            )
        })
        .collect()
}
