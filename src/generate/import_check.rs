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
pub(super) const NO_BYTECODE: (&str, &str) = ("PYTHONDONTWRITEBYTECODE", "1");

/// The staged script as the checks run it: with the project's Python, in
/// `cwd`, with the caller's `env`, under the name it is about to get.
#[derive(Clone, Copy)]
pub(super) struct Staged<'a> {
    /// The Python command.
    pub(super) python: &'a [String],
    /// The staged file.
    pub(super) script: &'a Path,
    /// Its final path.
    pub(super) final_path: &'a Path,
    /// Where the script will run.
    pub(super) cwd: &'a Path,
    /// The caller's variables.
    pub(super) env: &'a [(String, String)],
}

/// `env` and abbench's own: no bytecode beside the project's files.
pub(super) fn with_no_bytecode(env: &[(String, String)]) -> Vec<(String, String)> {
    let mut all = vec![(NO_BYTECODE.0.to_string(), NO_BYTECODE.1.to_string())];
    all.extend(env.iter().cloned());
    all
}

/// How long the check may take: it imports the project's modules.
pub(super) const CHECK_TIMEOUT: Duration = Duration::from_secs(120);

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

/// What a worker's fork printed and how it ended.
#[derive(Deserialize)]
pub(super) struct WorkerAnswer {
    /// stdout and stderr together, the last MiB.
    pub(super) output: String,
    /// True when it ran past its timeout and was killed.
    pub(super) timed_out: bool,
    /// Its exit status.
    pub(super) status: i32,
}

/// Runs the staged script's `check` mode in `cwd` (a worker's fork, else a
/// fresh `python <script> check`) and reads its answer. In the fork it runs
/// under `final_path`, the name it is about to get, so the compiled script
/// is cached across regenerations.
pub(super) async fn run(
    staged: &Staged<'_>,
    rev: &ResolvedRevision,
) -> Result<Vec<CheckedTarget>, GenerateError> {
    let Staged {
        python,
        script,
        cwd,
        env,
        ..
    } = *staged;
    let failed = |reason: String| GenerateError::Check {
        python: shell_words::join(python),
        reason,
    };
    let mut argv = python.to_vec();
    argv.extend([script.display().to_string(), "check".to_string()]);
    let spec = ProcessSpec {
        argv,
        cwd: Some(cwd.to_path_buf()),
        env: with_no_bytecode(env),
        stdin: None,
    };
    let command = spec.display();
    let (output, ended) = match in_worker(staged, None, CHECK_TIMEOUT).await {
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

/// The check (or, with `verify`, the equivalence check with those
/// options) in a fork of `python`'s worker; `None` when no worker answers.
pub(super) async fn in_worker(
    staged: &Staged<'_>,
    verify: Option<serde_json::Value>,
    timeout: Duration,
) -> Option<WorkerAnswer> {
    let Staged {
        python,
        script,
        final_path,
        cwd,
        env,
    } = *staged;
    let spawn = || {
        let script = format!(
            "{}\n\n{}\n\n{}",
            scripts::COMPILED,
            scripts::VERIFY,
            scripts::IMPORT_CHECK
        );
        let helper = Helper {
            python,
            flags: &[],
            script: &script,
            cwd: None,
            env: Vec::new(),
            timeout,
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
        "timeout_s": timeout.as_secs_f64(),
        "pycache_prefix": pycache,
        "env": env.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
        "verify": verify,
    });
    let line = IMPORT_WORKERS
        .ask(
            python,
            spawn,
            &request.to_string(),
            timeout + Duration::from_secs(5),
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
