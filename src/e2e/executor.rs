//! The workload processes of an e2e run: the same command in the base
//! worktree (variant A) and in the work tree (variant B), each a fresh
//! process. It implements the process-isolation [`Executor`], so the micro
//! run's schedule drives it: warm-up, the seeded order inside pairs, the
//! planned looks.
//!
//! The counted time processes run the workload bare: a hook's cost grows
//! with the target's calls (a recursive target pays per call), so a hooked
//! wall time would bias the verdict. abbench's hook (first on PYTHONPATH)
//! runs in the warm-ups (the foreign-import check, and target figures), in
//! [`WorkloadExecutor::profile`]'s extra processes for target figures, and
//! in every memory process (memray's tracker is the measurement).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::measure::executor::{tail_without_marks, truncate, Executor, Single, STDERR_TAIL_LINES};
use crate::measure::{Arm, Culprit, RunError};
use crate::process::{self, Limits, ProcessError, ProcessSpec};
use crate::revision::Target;

/// One revision's tree and how its processes start.
pub(super) struct Tree {
    /// The tree's root (the base worktree, or the work tree).
    pub(super) root: PathBuf,
    /// The workload's working directory in it.
    pub(super) cwd: PathBuf,
    /// The command's words, the program resolved for this tree.
    pub(super) argv: Vec<String>,
}

/// What the hook wrote at the end of one process.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct HookReport {
    /// `sys.monitoring`, `wrapper`, or null (no targets).
    pub(super) hook: Option<String>,
    /// Per target, in the order given.
    #[serde(default)]
    pub(super) targets: Vec<TargetFigures>,
    /// Modules imported from the other tree.
    #[serde(default)]
    pub(super) foreign: Vec<String>,
    /// memory: the process's peak under memray.
    #[serde(default)]
    pub(super) peak_bytes: Option<f64>,
}

/// One target's figures in one process.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub(super) struct TargetFigures {
    /// Calls (every call, recursive ones included).
    pub(super) calls: u64,
    /// Own time of the outermost calls, seconds.
    pub(super) seconds: f64,
    /// It ran as a generator: timed over its resumptions, one call each.
    #[serde(default)]
    pub(super) generator: bool,
}

/// One finished process.
struct Ran {
    wall_s: f64,
    stdout: String,
    report: Option<HookReport>,
    /// pytest-benchmark's (name, median seconds), when it wrote its JSON.
    suite: Option<Vec<(String, f64)>>,
}

/// What one counted process measured beyond its value.
#[derive(Debug, Clone)]
pub(super) struct Figures {
    /// Wall seconds of the process.
    pub(super) wall_s: f64,
    /// The hook's report (`None`: the process wrote none).
    pub(super) report: Option<HookReport>,
}

/// Runs the workload processes of one e2e run.
pub(super) struct WorkloadExecutor<'a> {
    /// Base (A) and candidate (B).
    pub(super) arms: [Tree; 2],
    /// Environment of every process, before the per-tree variables.
    pub(super) env: Vec<(String, String)>,
    /// The targets, as the hook matches them.
    pub(super) targets: &'a [Target],
    /// memory: where memray is provisioned (`Some(None)`: the runner has it).
    pub(super) memray: Option<Option<PathBuf>>,
    /// Compare the warm-up processes' stdout.
    pub(super) compare_output: bool,
    pub(super) limits: Limits,
    pub(super) cancel: &'a CancellationToken,
    /// The hook and its output files.
    pub(super) tmp: tempfile::TempDir,
    /// Processes started.
    pub(super) count: usize,
    /// The exact command of each arm's first counted process.
    pub(super) commands: [Option<String>; 2],
    /// Per arm, each hooked process's figures (warm-ups and [`Self::profile`]'s; memory: the counted ones), in order.
    pub(super) figures: [Vec<Figures>; 2],
    /// The warm-ups' stdout, per arm (for `compare_output`).
    warm_stdout: [Option<String>; 2],
    /// The first non-empty stderr line of each arm.
    pub(super) stderr_seen: [Option<String>; 2],
    /// Processes a workload left outside its group, killed, in words.
    pub(super) left_behind: Vec<String>,
    /// A pytest workload with pytest-benchmark: give each process a
    /// `--benchmark-json` file (until the first warm-up shows no benchmark).
    pub(super) benchmark_json: bool,
    /// The suite's benchmark names, once the first warm-up reported some:
    /// the value of a process is then the sum of their medians.
    pub(super) suite: Option<Vec<String>>,
}

/// pytest-benchmark's `--benchmark-json` file, the parts abbench reads.
#[derive(Debug, Deserialize)]
struct BenchmarkFile {
    benchmarks: Vec<BenchmarkEntry>,
}

#[derive(Debug, Deserialize)]
struct BenchmarkEntry {
    fullname: String,
    stats: BenchmarkStats,
}

#[derive(Debug, Deserialize)]
struct BenchmarkStats {
    /// Seconds per round, the median over the process's rounds.
    median: f64,
}

impl<'a> WorkloadExecutor<'a> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        arms: [Tree; 2],
        env: Vec<(String, String)>,
        targets: &'a [Target],
        memray: Option<Option<PathBuf>>,
        compare_output: bool,
        limits: Limits,
        cancel: &'a CancellationToken,
    ) -> Result<Self, RunError> {
        let tmp = tempfile::Builder::new()
            .prefix("abbench-e2e-")
            .tempdir()
            .map_err(|e| RunError::Runner(format!("cannot create a temporary directory: {e}")))?;
        std::fs::write(
            tmp.path().join("sitecustomize.py"),
            crate::python::scripts::E2E_HOOK,
        )
        .map_err(|e| RunError::Runner(format!("cannot write the hook: {e}")))?;
        Ok(WorkloadExecutor {
            arms,
            env,
            targets,
            memray,
            compare_output,
            limits,
            cancel,
            tmp,
            count: 0,
            commands: [None, None],
            figures: [Vec::new(), Vec::new()],
            warm_stdout: [None, None],
            stderr_seen: [None, None],
            left_behind: Vec::new(),
            benchmark_json: false,
            suite: None,
        })
    }

    /// The process for `variant` (with abbench's hook when `hooked`), and
    /// the hook's output file.
    fn spec(&self, variant: Arm, hooked: bool) -> (ProcessSpec, PathBuf) {
        let arm = &self.arms[variant.index()];
        let other = &self.arms[1 - variant.index()];
        let out = self.tmp.path().join(format!("report-{}.json", self.count));
        let mut env = self.env.clone();
        let hook = hooked.then(|| self.tmp.path());
        env.push(("PYTHONPATH".into(), python_path(hook, &arm.root)));
        let mut argv = arm.argv.clone();
        if self.benchmark_json {
            argv.push(format!("--benchmark-json={}", self.bench_file().display()));
        }
        if !hooked {
            let spec = ProcessSpec {
                argv,
                cwd: Some(arm.cwd.clone()),
                env,
                stdin: None,
            };
            return (spec, out);
        }
        let targets: Vec<serde_json::Value> = self
            .targets
            .iter()
            .map(|t| serde_json::json!({"file": t.file, "qualname": t.qualname}))
            .collect();
        env.extend([
            ("ABBENCH_E2E_OUT".into(), out.display().to_string()),
            ("ABBENCH_E2E_ROOT".into(), arm.root.display().to_string()),
            ("ABBENCH_E2E_OTHER".into(), other.root.display().to_string()),
            (
                "ABBENCH_E2E_TARGETS".into(),
                serde_json::Value::from(targets).to_string(),
            ),
        ]);
        if let Some(path) = &self.memray {
            env.push((
                "ABBENCH_E2E_MEMRAY".into(),
                self.tmp.path().display().to_string(),
            ));
            if let Some(p) = path {
                env.push(("ABBENCH_MEMRAY_PATH".into(), p.display().to_string()));
            }
        }
        let spec = ProcessSpec {
            argv,
            cwd: Some(arm.cwd.clone()),
            env,
            stdin: None,
        };
        (spec, out)
    }

    /// The `--benchmark-json` file of the next process.
    fn bench_file(&self) -> PathBuf {
        self.tmp.path().join(format!("bench-{}.json", self.count))
    }

    /// The (name, median seconds) pytest-benchmark wrote for this process, if it wrote any.
    fn read_suite(
        &self,
        file: &Path,
        who: Culprit,
        command: &str,
    ) -> Result<Option<Vec<(String, f64)>>, RunError> {
        let Ok(text) = std::fs::read_to_string(file) else {
            return Ok(None);
        };
        let _ = std::fs::remove_file(file);
        let parsed: BenchmarkFile =
            serde_json::from_str(&text).map_err(|e| RunError::BadOutput {
                variant: who,
                problem: format!("its pytest-benchmark JSON is unreadable ({e})"),
                command: command.into(),
            })?;
        Ok(Some(
            parsed
                .benchmarks
                .into_iter()
                .map(|b| (b.fullname, b.stats.median))
                .collect(),
        ))
    }

    /// The command as a person would type it in the arm's directory: the
    /// variables that differ from the server's, then the words.
    fn shown(spec: &ProcessSpec) -> String {
        let env: String = spec
            .env
            .iter()
            .filter(|(k, _)| !k.starts_with("ABBENCH_E2E_"))
            .map(|(k, v)| format!("{k}={} ", shell_words::quote(v)))
            .collect();
        format!(
            "cd {} && {}{env}{}",
            shell_words::quote(&spec.cwd.as_ref().expect("set").display().to_string()),
            if env.is_empty() { "" } else { "env " },
            spec.display()
        )
    }

    /// Runs one process of `variant`; its wall time, stdout and hook report.
    async fn run(&mut self, variant: Arm, hooked: bool) -> Result<Ran, RunError> {
        let (spec, out) = self.spec(variant, hooked);
        let bench = self.bench_file();
        let command = Self::shown(&spec);
        self.count += 1;
        let idx = variant.index();
        if !hooked || self.memray.is_some() {
            self.commands[idx].get_or_insert(command.clone());
        }
        let who = Culprit::Revision(variant);
        let finished = match process::run(&spec, self.limits, self.cancel).await {
            Ok(f) if f.exit.success() => f,
            Ok(f) => {
                return Err(RunError::VariantFailed {
                    variant: who,
                    exit: f.exit,
                    command,
                    stderr_tail: tail_without_marks(&f.stderr.text, STDERR_TAIL_LINES),
                })
            }
            Err(ProcessError::TimedOut { after, stderr, .. }) => {
                return Err(RunError::VariantTimedOut {
                    variant: who,
                    after_s: after.as_secs_f64(),
                    command,
                    stderr_tail: tail_without_marks(&stderr.text, STDERR_TAIL_LINES),
                })
            }
            Err(ProcessError::Cancelled) => return Err(RunError::Cancelled),
            Err(e) => {
                return Err(RunError::Runner(format!(
                    "the {who}'s workload did not start: {e}; check `command` (it runs without a shell, in {})",
                    self.arms[idx].cwd.display()
                )))
            }
        };
        self.left_behind.extend(
            finished
                .leftovers
                .iter()
                .map(|l| l.describe(&format!("the {who}'s workload"))),
        );
        if self.stderr_seen[idx].is_none() {
            self.stderr_seen[idx] = finished
                .stderr
                .text
                .lines()
                .find(|l| !l.trim().is_empty())
                .map(|l| l.chars().take(200).collect());
        }
        let report = hook_report(&out, who, &command)?;
        let suite = if self.benchmark_json {
            self.read_suite(
                &bench,
                Culprit::Revision(variant),
                &self.commands[idx].clone().unwrap_or(command),
            )?
        } else {
            None
        };
        Ok(Ran {
            wall_s: finished.wall.as_secs_f64(),
            stdout: finished.stdout.text,
            report,
            suite,
        })
    }

    /// The suite of a process measured against the first warm-up's: the
    /// same benchmarks, or an error naming the difference; its value is the
    /// sum of their medians.
    fn suite_value(&mut self, variant: Arm, ran: &Ran) -> Result<Option<f64>, RunError> {
        if !self.benchmark_json {
            return Ok(None);
        }
        let found: Vec<(String, f64)> = ran.suite.clone().unwrap_or_default();
        let names: Vec<String> = found.iter().map(|b| b.0.clone()).collect();
        let Some(suite) = &self.suite else {
            if names.is_empty() {
                // No benchmark in this workload: its wall time is the value.
                self.benchmark_json = false;
                return Ok(None);
            }
            self.suite = Some(names);
            return Ok(Some(found.iter().map(|b| b.1).sum()));
        };
        if &names != suite {
            let only = |a: &[String], b: &[String]| {
                a.iter()
                    .filter(|n| !b.contains(n))
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(RunError::BadOutput {
                variant: Culprit::Revision(variant),
                problem: format!(
                    "its pytest-benchmark suite differs from the first process's, so their sums do not compare: only here: [{}], missing here: [{}]; run the same benchmarks on both revisions (select them by node id)",
                    only(&names, suite),
                    only(suite, &names)
                ),
                command: self.commands[variant.index()].clone().unwrap_or_default(),
            });
        }
        Ok(Some(found.iter().map(|b| b.1).sum()))
    }

    /// `per_arm` more hooked processes of each revision, alternated, for
    /// the target figures (time domains; memory processes are all hooked).
    pub(super) async fn profile(&mut self, per_arm: usize) -> Result<(), RunError> {
        if self.memray.is_some() || self.targets.is_empty() {
            return Ok(());
        }
        for i in 0..per_arm {
            for variant in Arm::in_order(i % 2 == 0) {
                let ran = self.run(variant, true).await?;
                self.figures[variant.index()].push(Figures {
                    wall_s: ran.wall_s,
                    report: ran.report,
                });
            }
        }
        Ok(())
    }

    /// Whether the two revisions' outputs were compared (they were equal,
    /// or the call failed), and what that means.
    pub(super) fn output_check(&self) -> crate::equivalence::Equivalence {
        use crate::equivalence::{Equivalence, EquivalenceStatus};
        match &self.warm_stdout {
            [Some(_), Some(_)] if self.compare_output => Equivalence {
                status: EquivalenceStatus::Same,
                first_difference: None,
                reason: None,
                checked: vec!["stdout".into()],
                notes: Vec::new(),
            },
            _ if self.compare_output => Equivalence::not_checked("the warm-ups did not both run"),
            _ => Equivalence::not_checked(
                "compare_output is off, so the workload's output was not compared; pass compare_output: true when the workload prints its results (not its timings)",
            ),
        }
    }

    /// With `compare_output`, once both warm-ups ran: equal stdout.
    fn check_output(&self) -> Result<(), RunError> {
        if let [Some(base), Some(candidate)] = &self.warm_stdout {
            if self.compare_output && base != candidate {
                return Err(RunError::BadOutput {
                    variant: Culprit::Revision(Arm::B),
                    problem: format!(
                        "its output differs from the base's, so the change alters behaviour and its timing is no win: {}; make the outputs equal, or drop `compare_output` if the workload prints timings",
                        first_difference(base, candidate)
                    ),
                    command: self.commands[1].clone().unwrap_or_default(),
                });
            }
        }
        Ok(())
    }
}

/// What the hook reported of one process, if it wrote a report; an error
/// when the report is unreadable or shows the process ran the other tree's code.
fn hook_report(out: &Path, who: Culprit, command: &str) -> Result<Option<HookReport>, RunError> {
    let report = match std::fs::read_to_string(out) {
        Ok(text) => {
            let _ = std::fs::remove_file(out);
            Some(
                serde_json::from_str::<HookReport>(&text).map_err(|e| RunError::BadOutput {
                    variant: who,
                    problem: format!("abbench's hook wrote an unreadable report ({e})"),
                    command: command.to_string(),
                })?,
            )
        }
        Err(_) => None,
    };
    if let Some(r) = &report {
        if !r.foreign.is_empty() {
            return Err(RunError::BadOutput {
                variant: who,
                problem: format!(
                    "it imported code from the other tree ({}), so it did not run its own revision: the project is probably installed in editable mode and its import path wins over PYTHONPATH; run the workload from the project root, or set `env` PYTHONPATH so that the tree's own code comes first",
                    r.foreign.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
                ),
                command: command.to_string(),
            });
        }
    }
    Ok(report)
}

/// The hook's folder first (when hooked), then the tree (and its `src/`),
/// then what the server's PYTHONPATH held: each revision imports its own code.
fn python_path(hook: Option<&Path>, root: &Path) -> String {
    let mut paths: Vec<String> = hook.iter().map(|h| h.display().to_string()).collect();
    paths.push(root.display().to_string());
    if root.join("src").is_dir() {
        paths.push(root.join("src").display().to_string());
    }
    if let Ok(existing) = std::env::var("PYTHONPATH") {
        if !existing.is_empty() {
            paths.push(existing);
        }
    }
    paths.join(":")
}

impl Executor for WorkloadExecutor<'_> {
    fn started(&self) -> usize {
        self.count
    }

    /// One uncounted process of a revision (`None`, memory: of each); with
    /// `compare_output`, the second revision's stdout must equal the first's.
    async fn warm_up(&mut self, variant: Option<Arm>) -> Result<(), RunError> {
        let variants = match variant {
            Some(v) => vec![v],
            None => vec![Arm::A, Arm::B],
        };
        for variant in variants {
            let ran = self.run(variant, true).await?;
            self.suite_value(variant, &ran)?;
            self.warm_stdout[variant.index()] = Some(ran.stdout);
            self.check_output()?;
            if self.memray.is_none() && !self.targets.is_empty() {
                self.figures[variant.index()].push(Figures {
                    wall_s: ran.wall_s,
                    report: ran.report,
                });
            }
        }
        Ok(())
    }

    /// One counted process: its wall seconds, or (memory) its peak bytes.
    async fn single(&mut self, variant: Arm) -> Result<Single, RunError> {
        let memory = self.memray.is_some();
        let ran = self.run(variant, memory).await?;
        let suite = self.suite_value(variant, &ran)?;
        let Ran { wall_s, report, .. } = ran;
        let value = match &self.memray {
            None => suite.unwrap_or(wall_s),
            Some(_) => report
                .as_ref()
                .and_then(|r| r.peak_bytes)
                .ok_or_else(|| RunError::BadOutput {
                    variant: Culprit::Revision(variant),
                    problem: "abbench's hook reported no memray peak: the workload must be a Python process that reads PYTHONPATH (not `python -I`/`-S`) and exits normally (not through os._exit or a signal)".into(),
                    command: self.commands[variant.index()].clone().unwrap_or_default(),
                })?,
        };
        if memory {
            self.figures[variant.index()].push(Figures { wall_s, report });
        }
        Ok(Single {
            value,
            process_peak: None,
        })
    }
}

/// Where two outputs first differ, quoted.
fn first_difference(a: &str, b: &str) -> String {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let line = la
        .iter()
        .zip(&lb)
        .position(|(x, y)| x != y)
        .unwrap_or(la.len().min(lb.len()));
    let at = |lines: &[&str]| {
        lines
            .get(line)
            .map(|l| format!("{:?}", truncate(l, 120)))
            .unwrap_or_else(|| "(no line)".into())
    };
    format!(
        "line {}: base {} , candidate {}",
        line + 1,
        at(&la),
        at(&lb)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_difference_is_quoted() {
        assert_eq!(
            first_difference("a\nb\nc\n", "a\nB\nc\n"),
            "line 2: base \"b\" , candidate \"B\""
        );
        assert_eq!(
            first_difference("a\n", "a\nmore\n"),
            "line 2: base (no line) , candidate \"more\""
        );
    }
}
