//! Condition 4, the hot path: where `target_function` and `target_test`
//! point, and what cProfile says of the function on the base and on the
//! candidate.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::{helper, invalid, project_env, Condition, ConditionName, KeepError};
use crate::git::Repo;
use crate::process::{self, Limits, ProcessError, ProcessSpec};
use crate::python::runner::Runner;
use crate::python::scripts;
use crate::testsummary;

/// A function named by the caller, resolved to a file and a qualified name.
#[derive(Debug, Clone)]
pub(super) struct Target {
    pub(super) file: String,
    pub(super) qualname: String,
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
pub(crate) struct TargetTest {
    /// Arguments after `python -m cProfile -o <file>`.
    pub(crate) args: Vec<String>,
    /// The run prints a pytest or unittest summary that says whether it passed.
    summary: bool,
    test_file: Option<String>,
    test_name: Option<String>,
}

/// `tests/test_x.py` → `tests.test_x`.
fn module_of(path: &str) -> String {
    path.trim_start_matches("./")
        .trim_end_matches(".py")
        .replace('/', ".")
}

/// Reads `target_test`: a pytest node id, test file or directory, or a
/// script. Without pytest (`pytest` false) a test of a `unittest.TestCase`
/// (`path/test_x.py::Class::method`) or a test file runs under unittest.
pub(crate) fn target_test(spec: &str, root: &Path, pytest: bool) -> Result<TargetTest, String> {
    let pytest_args = |s: &str| -> Vec<String> {
        ["-m", "pytest", "-q", "-p", "no:cacheprovider", s]
            .map(String::from)
            .to_vec()
    };
    let unittest_args = |s: String| -> Vec<String> { vec!["-m".into(), "unittest".into(), s] };
    if let Some((file, rest)) = spec.split_once("::") {
        let name = rest.rsplit("::").next().unwrap_or(rest);
        let name = name.split('[').next().unwrap_or(name);
        let args = if pytest {
            pytest_args(spec)
        } else if rest.contains("::") && !rest.contains('[') {
            unittest_args(format!("{}.{}", module_of(file), rest.replace("::", ".")))
        } else {
            return Err(format!(
                "`target_test` {spec:?} needs pytest, which the runner cannot import: install pytest into that environment, or name a unittest test as path/test_x.py::TestCase::test_method"
            ));
        };
        return Ok(TargetTest {
            args,
            summary: true,
            test_file: Some(file.to_string()),
            test_name: Some(name.to_string()),
        });
    }
    let base = Path::new(spec)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let is_test_file = base.starts_with("test_") || base.ends_with("_test.py");
    let is_dir = root.join(spec).is_dir();
    Ok(if is_dir || is_test_file {
        TargetTest {
            args: match (pytest, is_dir) {
                (true, _) => pytest_args(spec),
                (false, false) => unittest_args(module_of(spec)),
                (false, true) => ["-m", "unittest", "discover", "-s", spec, "-t", "."]
                    .map(String::from)
                    .to_vec(),
            },
            summary: true,
            test_file: is_test_file.then(|| spec.to_string()),
            test_name: None,
        }
    } else {
        TargetTest {
            args: vec![spec.to_string()],
            summary: false,
            test_file: None,
            test_name: None,
        }
    })
}

/// Finds `spec` in the candidate (the work tree): its file, qualified name
/// and first line.
pub(super) async fn locate(
    spec: &str,
    runner: &Runner,
    root: &Path,
    cancel: &CancellationToken,
) -> Result<(Target, i64), KeepError> {
    let candidates = target_candidates(spec, root);
    let mut located = None;
    for t in &candidates {
        let source = std::fs::read_to_string(root.join(&t.file)).ok();
        let input = json!({"locate": [{"key": "c", "source": source, "qualname": t.qualname}]});
        let info: Located = helper(runner, scripts::PYINFO, &input, root, cancel)
            .await
            .map_err(|e| {
                invalid(format!(
                    "runner `{}` could not read Python files: {e}",
                    runner.shown()
                ))
            })?;
        if let Some(Some(line)) = info.locate.get("c") {
            located = Some((t.clone(), *line));
            break;
        }
    }
    located.ok_or_else(|| {
        invalid(format!(
            "`target_function` {:?} was not found in the candidate{}: use path/to/file.py::func, path/to/file.py::Class.method or pkg.module.func",
            spec,
            candidates.first().map(|t| format!(" (looked for {} in {})", t.qualname, t.file)).unwrap_or_default()
        ))
    })
}

/// The target's first line in the tree at `dir` (None when it is not there).
pub(super) async fn line_of(
    runner: &Runner,
    dir: &Path,
    target: &Target,
    cancel: &CancellationToken,
) -> Option<i64> {
    let source = std::fs::read_to_string(dir.join(&target.file)).ok();
    let input = json!({"locate": [{"key": "b", "source": source, "qualname": target.qualname}]});
    helper::<Located>(runner, scripts::PYINFO, &input, dir, cancel)
        .await
        .ok()
        .and_then(|v| v.locate.get("b").copied().flatten())
}

/// Profiles the target test in `dir` and reads the target's figures.
pub(super) async fn profile(
    runner: &Runner,
    dir: &Path,
    target: &Target,
    line: Option<i64>,
    test: &TargetTest,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<Result<Profile, String>, KeepError> {
    let tmp = tempfile::Builder::new()
        .prefix("abbench-prof-")
        .tempdir()
        .map_err(KeepError::TempDir)?;
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
    // cProfile swallows SystemExit, so the runner's own summary says whether the test passed.
    let failed = !f.exit.success()
        || (test.summary && !testsummary::parse(&output).is_some_and(|s| s.clean()));
    if failed || !prof.exists() {
        return Ok(Err(format!(
            "the target test failed under profiling (`{command}`):\n{}",
            {
                let lines: Vec<&str> = output.lines().collect();
                lines[lines.len().saturating_sub(20)..].join("\n")
            }
        )));
    }
    let input = json!({
        "profile": prof, "root": dir,
        "target_file": dir.join(&target.file), "target_name": target.co_name(), "target_line": line,
        "test_file": test.test_file.as_ref().map(|t| dir.join(t)), "test_name": test.test_name,
    });
    let answer = helper::<Profile>(runner, scripts::PSTATS_READ, &input, dir, cancel).await;
    Ok(match answer {
        Ok(profile) => Ok(Profile { command, ..profile }),
        Err(e) => Err(format!("the profile of `{command}` could not be read: {e}")),
    })
}

/// The pyinfo helper's answer to `locate`: each key's first line, if found.
#[derive(Debug, Deserialize)]
struct Located {
    locate: std::collections::BTreeMap<String, Option<i64>>,
}

/// The target function in one profile, as the pstats reader reports it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Profile {
    /// Calls, recursive ones included.
    pub(crate) calls: u64,
    /// Calls that were not recursive.
    pub(crate) primitive_calls: u64,
    /// Seconds inside it and what it called.
    pub(crate) cumulative_s: f64,
    /// Seconds inside it alone.
    pub(crate) self_s: f64,
    /// Seconds of everything profiled.
    pub(crate) total_s: f64,
    /// What the share is of: "test function test_x", or "total profiled time".
    pub(crate) basis: String,
    /// Seconds of the basis.
    pub(crate) basis_s: f64,
    /// cumulative_s / basis_s.
    pub(crate) share: f64,
    /// Its rank among the repository's functions by cumulative time (`None`: not called).
    pub(crate) rank: Option<u64>,
    /// Repository functions profiled.
    pub(crate) repo_functions: u64,
    /// The five repository functions with the most cumulative time.
    pub(crate) top: Vec<TopFunction>,
    /// The command that profiled it (set by abbench).
    #[serde(default)]
    pub(crate) command: String,
}

/// One of the repository's most expensive functions.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TopFunction {
    /// `path:line(name)`.
    pub(crate) function: String,
    /// Its cumulative seconds.
    pub(crate) cumulative_s: f64,
}

pub(crate) fn share_text(p: &Profile) -> String {
    format!(
        "{} calls, {:.3} s cumulative, {:.1} % of {} ({:.3} s), rank {} of {} repository functions",
        p.calls,
        p.cumulative_s,
        p.share * 100.0,
        p.basis,
        p.basis_s,
        p.rank.map_or_else(|| "-".into(), |r| r.to_string()),
        p.repo_functions
    )
}

/// What profiling the target test needs, on either side.
pub(super) struct Profiles<'a> {
    pub(super) runner: &'a Runner,
    pub(super) target: &'a Target,
    pub(super) test: &'a TargetTest,
    /// Of each profiling run.
    pub(super) timeout: Duration,
}

impl Profiles<'_> {
    /// Condition 4: profiles the base in a temporary worktree (removed on
    /// every exit) and the candidate in place, both at once (each profile
    /// is a share of its own process's time, so they need no quiet
    /// machine); with each side's seconds.
    pub(super) async fn condition(
        &self,
        repo: &Repo,
        base: &str,
        candidate_line: i64,
        min_hot_share: f64,
        cancel: &CancellationToken,
    ) -> Result<(Condition, f64, f64), KeepError> {
        let timed = |dir: &Path, line: Option<i64>| {
            let dir = dir.to_path_buf();
            async move {
                let t0 = std::time::Instant::now();
                let profile = self.profile(&dir, line, cancel).await?;
                Ok::<_, KeepError>((profile, t0.elapsed().as_secs_f64()))
            }
        };
        let t0 = std::time::Instant::now();
        let worktree = repo.worktree(base).await?;
        let base_line = line_of(self.runner, &worktree.path, self.target, cancel).await;
        let setup_s = t0.elapsed().as_secs_f64();
        let ((base_profile, base_s), (cand_profile, cand_s)) = tokio::try_join!(
            timed(&worktree.path, base_line),
            timed(&repo.root, Some(candidate_line))
        )?;
        drop(worktree);
        let c = condition(&base_profile, &cand_profile, min_hot_share, self.target);
        Ok((c, setup_s + base_s, cand_s))
    }

    async fn profile(
        &self,
        dir: &Path,
        line: Option<i64>,
        cancel: &CancellationToken,
    ) -> Result<Result<Profile, String>, KeepError> {
        profile(
            self.runner,
            dir,
            self.target,
            line,
            self.test,
            self.timeout,
            cancel,
        )
        .await
    }
}

/// Condition 4 from the two profiles: hot enough on the base, still called
/// by the candidate.
pub(super) fn condition(
    base_profile: &Result<Profile, String>,
    cand_profile: &Result<Profile, String>,
    min_hot_share: f64,
    target: &Target,
) -> Condition {
    match (base_profile, cand_profile) {
        (Ok(b), Ok(c)) => {
            let share = b.share;
            let cand_calls = c.calls;
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
                name: ConditionName::HotPath,
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
            name: ConditionName::HotPath,
            passed: false,
            summary: [b, c]
                .iter()
                .filter_map(|r| r.as_ref().err().cloned())
                .collect::<Vec<_>>()
                .join("\n"),
            figures: json!({"base": b.as_ref().ok(), "candidate": c.as_ref().ok(), "min_hot_share": min_hot_share}),
        },
    }
}
