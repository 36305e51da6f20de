//! Checking an e2e run's arguments before anything starts, and the words
//! its result uses to say how it measured and where it is weak.

use std::path::{Component, Path, PathBuf};

use super::executor::WorkloadExecutor;
use super::result::{Noise, TargetReport};
use super::{invalid, E2eError, E2eRequest, DEFAULT_E2E_MIN_GAIN};
use crate::domain::{Domain, Threshold};
use crate::measure::{MAX_PAIRS_LIMIT, MIN_PAIRS_LIMIT};
use crate::python::command::{python_runs, script_of, PythonRuns};
use crate::revision::Target;
use crate::verdict::{self, Analysis, Look, Verdict};

/// The arguments, checked and resolved.
pub(super) struct Checked {
    /// The command's words.
    pub(super) words: Vec<String>,
    /// The targets, parsed.
    pub(super) targets: Vec<Target>,
    /// The working directory, relative to the root.
    pub(super) cwd: PathBuf,
    /// The caller's variables.
    pub(super) env: Vec<(String, String)>,
    /// cpu (time) or memory.
    pub(super) domain: Domain,
    pub(super) threshold: Threshold,
    pub(super) looks: Vec<Look>,
    /// `copy_to_base`, normalized.
    pub(super) copies: Vec<String>,
    /// The command runs pytest (`python -m pytest`, `pytest`, `py.test`).
    pub(super) pytest: bool,
}

impl Checked {
    /// The workload's directory in the tree at `root`.
    pub(super) fn cwd_in(&self, root: &Path) -> PathBuf {
        if self.cwd.as_os_str().is_empty() {
            root.to_path_buf()
        } else {
            root.join(&self.cwd)
        }
    }
}

/// A path inside the repository: relative, no `..`.
fn inside(field: &str, path: &Path) -> Result<PathBuf, E2eError> {
    let fine = path
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if !fine || path.is_absolute() {
        return Err(invalid(format!(
            "`{field}` {} must be a path relative to the repository root, without `..`",
            path.display()
        )));
    }
    Ok(path
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect())
}

/// Every argument that can be checked without git or Python.
pub(super) fn check(req: &E2eRequest) -> Result<Checked, E2eError> {
    let words = crate::python::command::split_command("command", &req.command)?;
    let targets = req
        .target_functions
        .iter()
        .map(|t| {
            Target::parse(t).map_err(|e| {
                invalid(
                    e.to_string()
                        .replacen("`target`", "`target_functions` entry", 1),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let domain = match req.domain.unwrap_or(Domain::Cpu) {
        Domain::Structure => return Err(invalid("`domain` structure times imports in a micro script; an e2e run times the whole workload, which includes its imports: use cpu")),
        d => d,
    };
    let threshold = threshold(req, domain)?;
    if req.min_pairs < MIN_PAIRS_LIMIT
        || req.min_pairs > req.max_pairs
        || req.max_pairs > MAX_PAIRS_LIMIT
    {
        return Err(invalid(format!(
            "`min_pairs` = {} and `max_pairs` = {} must satisfy {MIN_PAIRS_LIMIT} <= min_pairs <= max_pairs <= {MAX_PAIRS_LIMIT}",
            req.min_pairs, req.max_pairs
        )));
    }
    for (name, v) in [
        ("timeout_s", req.timeout_s),
        ("max_seconds", req.max_seconds),
    ] {
        if !(v.is_finite() && v > 0.0) {
            return Err(invalid(format!(
                "`{name}` = {v} must be a positive number of seconds"
            )));
        }
    }
    let cwd = inside("cwd", req.cwd.as_deref().unwrap_or(Path::new(".")))?;
    let copies = req
        .copy_to_base
        .iter()
        .map(|c| inside("copy_to_base", Path::new(c)).map(|p| p.display().to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    if copies.iter().any(|c| c.is_empty()) {
        return Err(invalid("`copy_to_base` cannot copy the whole repository: name the files or folders the base lacks"));
    }
    let env = crate::measure::checked_variables(&req.env)?;
    if env.iter().any(|(k, _)| k.starts_with("ABBENCH_E2E_")) {
        return Err(invalid(
            "`env` names starting with ABBENCH_E2E_ are abbench's own: rename them",
        ));
    }
    let pytest = runs_pytest(&words);
    if pytest && words.iter().any(|w| w.starts_with("--benchmark-json")) {
        return Err(invalid("`command` passes --benchmark-json: drop it, abbench gives pytest-benchmark a file of its own in every process and reads the suite's medians from it"));
    }
    Ok(Checked {
        pytest,
        words,
        targets,
        cwd,
        env,
        domain,
        threshold,
        looks: verdict::planned_looks(req.min_pairs, req.max_pairs),
        copies,
    })
}

/// The bar: the e2e default gain for time, the domain's for memory.
fn threshold(req: &E2eRequest, domain: Domain) -> Result<Threshold, E2eError> {
    Threshold::checked(
        domain,
        req.min_gain,
        req.min_saved_bytes,
        req.min_saved_fraction,
        DEFAULT_E2E_MIN_GAIN,
    )
    .map_err(E2eError::Invalid)
}

/// The script a `python SCRIPT …` workload runs, relative to the root
/// (`cwd` joined), when it is a relative path; `None` for `-m`/`-c` and
/// for other programs (their relative paths are resolved per tree).
pub(super) fn python_script(checked: &Checked) -> Option<PathBuf> {
    let script = script_of(&checked.words)?;
    inside("command", &checked.cwd.join(script)).ok()
}

/// `copy_to_base` entries that exist in the work tree (an error names one that does not).
pub(super) fn copies(checked: &Checked, root: &Path) -> Result<Vec<String>, E2eError> {
    for c in &checked.copies {
        if !root.join(c).exists() {
            return Err(invalid(format!(
                "`copy_to_base` {c} does not exist in {}",
                root.display()
            )));
        }
    }
    Ok(checked.copies.clone())
}

/// Copies the work tree's `paths` into the base worktree (files and whole folders).
pub(super) fn copy_into(paths: &[String], from: &Path, to: &Path) -> Result<(), E2eError> {
    fn copy(src: &Path, dst: &Path) -> std::io::Result<()> {
        if src.is_dir() {
            std::fs::create_dir_all(dst)?;
            for entry in std::fs::read_dir(src)? {
                let entry = entry?;
                copy(&entry.path(), &dst.join(entry.file_name()))?;
            }
            Ok(())
        } else {
            if let Some(parent) = dst.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::copy(src, dst).map(drop)
        }
    }
    for p in paths {
        copy(&from.join(p), &to.join(p)).map_err(|e| {
            invalid(format!(
                "cannot copy `copy_to_base` {p} into the base worktree: {e}"
            ))
        })?;
    }
    Ok(())
}

/// `python -m pytest …`, `pytest …` or `py.test …`.
fn runs_pytest(words: &[String]) -> bool {
    let program = Path::new(&words[0])
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if matches!(program, "pytest" | "py.test") {
        return true;
    }
    program.starts_with("python")
        && matches!(python_runs(&words[1..]), PythonRuns::Module("pytest"))
}

/// What one process's value is.
pub(super) fn measured_by(domain: Domain, suite: Option<&[String]>) -> String {
    match (domain, suite) {
        (Domain::Memory, _) => "the workload process's peak memory under memray's tracker (every Python allocation, from interpreter start-up to exit; child processes not included), bytes".into(),
        (_, Some(names)) => format!(
            "the sum of pytest-benchmark's per-benchmark medians over the suite's {} benchmark(s), from the --benchmark-json file abbench gives each process, seconds (not the process's wall time)",
            names.len()
        ),
        _ => "the wall time of the whole workload process, start-up and exit included (child processes it waits for included), seconds".into(),
    }
}

/// How the processes were scheduled, in one sentence.
pub(super) fn design(checked: &Checked, req: &E2eRequest) -> String {
    let looks: Vec<String> = checked.looks.iter().map(|l| l.pairs.to_string()).collect();
    format!(
        "each process runs one revision: the base in a temporary git worktree, the candidate in the work tree; one uncounted warm-up each, then pairs in a seeded random order (AB = base first), with looks at {} pairs (the 5 % error split over them), at most {} pairs or {:.0} s",
        looks.join(", "),
        req.max_pairs,
        req.max_seconds
    )
}

/// Where the measurement is weak, and what to do.
pub(super) fn warnings(
    ex: &WorkloadExecutor,
    values: &[f64],
    analysis: &Analysis,
    noise: Option<&Noise>,
    checked: &Checked,
    targets: &[TargetReport],
) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(n) = noise {
        if analysis.verdict == Verdict::Inconclusive {
            out.push(format!(
                "the workload's value varies {:.1} % from process to process, so {} pairs can only tell a change of about {:.1} % from none: lengthen the workload (more iterations per process), raise `max_pairs`, or accept that the end-to-end effect is smaller than that",
                100.0 * n.process_log_sd,
                analysis.pairs.max(1),
                100.0 * n.detectable_at_max_pairs
            ));
        }
    }
    if checked.domain.is_time() && crate::stats::median(values) < 0.05 {
        out.push("a workload process takes under 50 ms, mostly interpreter start-up: the end-to-end value says little about the code; make the workload do more".into());
    }
    let missing = ex
        .figures
        .iter()
        .flatten()
        .filter(|f| f.report.is_none())
        .count();
    if missing > 0 && (!checked.targets.is_empty() || checked.domain == Domain::Memory) {
        out.push(format!(
            "{missing} workload process(es) wrote no hook report (a `python -I`/`-S` command, a non-Python program, or an exit through os._exit): their target figures are missing"
        ));
    }
    for t in targets {
        if t.base.is_none() || t.candidate.is_none() {
            out.push(t.summary.clone());
        }
    }
    out.extend(
        crate::measure::warnings::RunWarning::left_behind(&ex.left_behind)
            .iter()
            .map(|w| w.to_string()),
    );
    for (i, seen) in ex.stderr_seen.iter().enumerate() {
        if let Some(line) = seen {
            out.push(format!(
                "the {}'s workload wrote to stderr (first line: {line:?}); check that it is not a warning that changes what runs",
                if i == 0 { "base" } else { "candidate" }
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(command: &str) -> E2eRequest {
        E2eRequest {
            repo: "/r".into(),
            command: command.into(),
            ..Default::default()
        }
    }

    #[test]
    fn arguments_are_checked_before_anything_runs() {
        let c = check(&req("python -m pytest -q 'tests/a b.py'")).unwrap();
        assert_eq!(c.words, ["python", "-m", "pytest", "-q", "tests/a b.py"]);
        assert!(c.pytest);
        assert!(check(&req(".venv/bin/pytest -q")).unwrap().pytest);
        assert!(check(&req("python3 -X dev -m pytest")).unwrap().pytest);
        assert!(!check(&req("python bench.py -m pytest")).unwrap().pytest);
        assert!(!check(&req("python bench.py")).unwrap().pytest);
        assert_eq!(c.threshold.min_gain(), Some(DEFAULT_E2E_MIN_GAIN));
        assert_eq!(c.looks.first().map(|l| l.pairs), Some(5));
        let err = |r: E2eRequest| check(&r).err().expect("refused").to_string();
        assert!(err(req("  ")).contains("`command` is empty"));
        assert!(err(req("pytest --benchmark-json=x.json")).contains("drop it"));
        assert!(err(E2eRequest {
            target_functions: vec!["nope".into()],
            ..req("python w.py")
        })
        .contains("`target_functions` entry"));
        assert!(err(E2eRequest {
            cwd: Some("../up".into()),
            ..req("python w.py")
        })
        .contains("without `..`"));
        assert!(err(E2eRequest {
            copy_to_base: vec!["/etc".into()],
            ..req("python w.py")
        })
        .contains("relative"));
        assert!(err(E2eRequest {
            domain: Some(Domain::Structure),
            ..req("python w.py")
        })
        .contains("use cpu"));
        assert!(err(E2eRequest {
            min_saved_bytes: Some(1),
            ..req("python w.py")
        })
        .contains("apply to memory"));
        assert!(err(E2eRequest {
            min_pairs: 40,
            ..req("python w.py")
        })
        .contains("min_pairs"));
    }

    #[test]
    fn the_script_of_an_interpreter_named_by_its_path_is_found() {
        for command in [
            "python3 w.py",
            "/usr/bin/python3.12 -X dev w.py",
            ".venv/bin/python w.py",
        ] {
            let c = check(&req(command)).unwrap();
            assert_eq!(python_script(&c), Some(PathBuf::from("w.py")), "{command}");
        }
        assert_eq!(python_script(&check(&req("./w.sh")).unwrap()), None);
        assert_eq!(python_script(&check(&req("python -m w")).unwrap()), None);
    }
}
