//! `check_environment` and `abbench doctor`: read-only answers to "what
//! would abbench run here, and would it work?" — the interpreter for a
//! `cwd` and why (every detection rule tried), what it imports, what each
//! domain needs and what abbench would provision, the tools around it (git,
//! uv, codeflash), and how noisy the machine is. Every problem comes with
//! the command that fixes it. Nothing is installed or written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::domain::Domain;
use crate::provision;
use crate::python::probe::{probe_python, Probe};
use crate::python::runner::{self, Runner};

/// Arguments of `check_environment` / `abbench doctor`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct DoctorRequest {
    /// The project. Default: the server's.
    #[serde(default)]
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// A Python command to check.
    #[serde(default)]
    #[arg(long)]
    pub runner: Option<String>,
    /// Environment variables.
    #[serde(default)]
    #[arg(skip)]
    pub env: BTreeMap<String, String>,
}

/// The interpreter the runner starts.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PythonInfo {
    /// e.g. 3.11.7.
    pub version: String,
    /// CPython, PyPy, ...
    pub implementation: String,
    /// Its sys.executable.
    pub executable: String,
    /// True inside a virtualenv.
    pub in_virtualenv: bool,
    /// Its ABI tag, which keys the tools abbench provisions for it.
    pub tag: String,
}

/// One tool and whether it can be used.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Tool {
    /// memray, pytest, pip, git, uv or codeflash.
    pub name: String,
    /// Usable now.
    pub available: bool,
    /// What was found, where, or why not.
    pub detail: String,
}

/// Whether a domain can be measured, and how.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DomainReadiness {
    /// The domain.
    pub domain: Domain,
    /// Measurable now (memory: also when abbench can provision memray).
    pub ready: bool,
    /// How it would be measured.
    pub how: String,
}

/// How quiet the machine is.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Machine {
    /// Logical cores.
    pub cores: usize,
    /// The CPU model (from /proc/cpuinfo), when Linux says.
    pub cpu_model: Option<String>,
    /// 1-, 5- and 15-minute load averages.
    pub load_average: Option<[f64; 3]>,
    /// Share of CPU time used by other work over a 0.25 s sample (0.5 = 50 %).
    pub busy_fraction: Option<f64>,
    /// Share of CPU time the hypervisor took away over that sample (virtual machines).
    pub steal_fraction: Option<f64>,
    /// The frequency governor of cpu0, when Linux exposes it.
    pub governor: Option<String>,
    /// Turbo / boost: true when on, null when not exposed.
    pub turbo: Option<bool>,
    /// Other abbench processes running now.
    pub abbench_processes: usize,
    /// True when another abbench measurement holds the machine lock (a run would wait).
    pub lock_held: bool,
    /// The lock file.
    pub lock_file: String,
}

/// A problem and the command (or step) that fixes it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Problem {
    /// What is wrong, and what it affects.
    pub problem: String,
    /// What fixes it.
    pub fix: String,
}

/// What `check_environment` returns.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct EnvironmentReport {
    /// The directory checked.
    pub cwd: String,
    /// The project root detection stopped at (null outside a project).
    pub project_root: Option<String>,
    /// The runner and why, with every rule tried; null when none can be chosen (see problems).
    pub runner: Option<Runner>,
    /// The interpreter it starts; null when it does not start.
    pub python: Option<PythonInfo>,
    /// memray, pytest, pip, git, uv, codeflash.
    pub tools: Vec<Tool>,
    /// Each domain's readiness.
    pub domains: Vec<DomainReadiness>,
    /// How noisy the machine is.
    pub machine: Machine,
    /// Every problem found, each with its fix; empty when all is well.
    pub problems: Vec<Problem>,
    /// How to make the numbers steadier on this machine.
    pub advice: Vec<String>,
    /// How abbench makes sure no process it started outlives its call, here.
    pub containment: String,
}

use crate::measure::machine::read;

/// (idle, steal, total) jiffies of all CPUs.
fn cpu_times() -> Option<(u64, u64, u64)> {
    let stat = read("/proc/stat")?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<u64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    let idle = v.get(3)? + v.get(4).unwrap_or(&0);
    Some((idle, *v.get(7).unwrap_or(&0), v.iter().take(8).sum()))
}

fn abbench_processes() -> usize {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| {
                    e.file_name()
                        .to_str()
                        .is_some_and(|n| n != me && n.bytes().all(|b| b.is_ascii_digit()))
                })
                .filter(|e| {
                    std::fs::read_to_string(e.path().join("comm"))
                        .is_ok_and(|c| c.trim() == "abbench")
                })
                .count()
        })
        .unwrap_or(0)
}

/// True when another process holds the machine lock (never waits, never creates it).
fn lock_held(path: &Path) -> bool {
    use std::os::fd::AsRawFd;
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    // SAFETY: flock on a descriptor we own; closing it releases the lock.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) != 0 }
}

async fn machine() -> Machine {
    let before = cpu_times();
    tokio::time::sleep(Duration::from_millis(250)).await;
    let after = cpu_times();
    let (busy_fraction, steal_fraction) = match (before, after) {
        (Some((i0, s0, t0)), Some((i1, s1, t1))) if t1 > t0 => {
            let total = (t1 - t0) as f64;
            (
                Some(1.0 - (i1 - i0) as f64 / total),
                Some((s1 - s0) as f64 / total),
            )
        }
        _ => (None, None),
    };
    let load_average = read("/proc/loadavg").and_then(|l| {
        let v: Vec<f64> = l
            .split_whitespace()
            .take(3)
            .filter_map(|w| w.parse().ok())
            .collect();
        (v.len() == 3).then(|| [v[0], v[1], v[2]])
    });
    let hardware = crate::measure::machine::Hardware::read();
    let lock_file = crate::measure::lock::lock_path();
    Machine {
        cores: std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1),
        cpu_model: hardware.cpu_model,
        load_average,
        busy_fraction,
        steal_fraction,
        governor: hardware.governor,
        turbo: hardware.turbo,
        abbench_processes: abbench_processes(),
        lock_held: lock_held(&lock_file),
        lock_file: lock_file.display().to_string(),
    }
}

fn tool(name: &str, available: bool, detail: impl Into<String>) -> Tool {
    Tool {
        name: name.into(),
        available,
        detail: detail.into(),
    }
}

/// Runs every check. Never fails: what cannot be checked is a problem in the report.
pub async fn check(req: &DoctorRequest, cancel: &CancellationToken) -> EnvironmentReport {
    let cwd = req
        .cwd
        .clone()
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."));
    let mut problems = Vec::new();
    let mut advice = Vec::new();
    let dirs = runner::project_dirs(&cwd);
    let project_root = dirs
        .last()
        .filter(|d| runner::PROJECT_MARKERS.iter().any(|m| d.join(m).exists()))
        .map(|d| d.display().to_string());
    if !cwd.is_dir() {
        problems.push(Problem {
            problem: format!("`cwd` {} is not a directory", cwd.display()),
            fix: "pass the project's directory as `cwd`".into(),
        });
    }
    let runner = match runner::resolve(
        req.runner.as_deref(),
        &cwd,
        runner::active_virtualenv(&req.env).as_deref(),
    ) {
        Ok(r) => Some(r),
        Err(e) => {
            problems.push(Problem {
                problem: format!("no runner: {e}"),
                fix: "install the tool the message names, or pass `runner`".into(),
            });
            None
        }
    };
    let (python, mut tools, domains) = match &runner {
        Some(r) => match probe_runner(r, &cwd, &req.env, cancel).await {
            Ok(p) => {
                let (tools, domains) = python_tools(&p, r, &mut problems);
                (Some(python_info(&p)), tools, domains)
            }
            Err(e) => {
                problems.push(Problem {
                    problem: format!(
                        "the runner `{}` ({}) does not start Python: {e}",
                        r.shown(),
                        r.chosen_because
                    ),
                    fix: "pass `runner` naming a working Python command, e.g. \".venv/bin/python\""
                        .into(),
                });
                (None, Vec::new(), Vec::new())
            }
        },
        None => (None, Vec::new(), Vec::new()),
    };
    tools.extend(path_tools(&mut problems));
    let machine = machine().await;
    machine_checks(&machine, &mut problems, &mut advice);
    EnvironmentReport {
        cwd: cwd.display().to_string(),
        project_root,
        runner,
        python,
        tools,
        domains,
        machine,
        problems,
        advice,
        containment: crate::process::contain::in_force(),
    }
}

/// Probes the runner; when memray is missing but abbench provisioned it,
/// probes again with the provisioned folder.
async fn probe_runner(
    r: &Runner,
    cwd: &Path,
    env: &BTreeMap<String, String>,
    cancel: &CancellationToken,
) -> Result<Probe, String> {
    let env: Vec<(String, String)> = env.clone().into_iter().collect();
    let cwd = Some(cwd.to_path_buf());
    let p = probe_python(&r.argv, cwd.clone(), &env, None, cancel).await?;
    if p.memray {
        return Ok(p);
    }
    match provision::memray_dir(&p.tag).filter(|d| d.is_dir()) {
        Some(dir) => probe_python(&r.argv, cwd, &env, Some(&dir), cancel)
            .await
            .or(Ok(p)),
        None => Ok(p),
    }
}

fn python_info(p: &Probe) -> PythonInfo {
    PythonInfo {
        version: p.version.clone(),
        implementation: p.implementation.clone(),
        executable: p.executable.clone(),
        in_virtualenv: p.in_virtualenv,
        tag: p.tag.clone(),
    }
}

/// memray, pytest and pip as the runner sees them, and what each domain
/// would measure with them.
fn python_tools(
    p: &Probe,
    r: &Runner,
    problems: &mut Vec<Problem>,
) -> (Vec<Tool>, Vec<DomainReadiness>) {
    let shown = r.shown();
    let install = |pkg: &str| format!("{shown} -m pip install {pkg}");
    let dir_shown = provision::memray_dir(&p.tag)
        .map(|d| d.display().to_string())
        .unwrap_or_else(|| "(no data directory)".into());
    let uv = runner::find_on_path("uv");
    let (memray_ok, memray_detail) = match (&p.memray_version, &p.memray_provisioned) {
        (Some(v), _) => (true, format!("memray {v} in the runner's environment")),
        (None, Some(v)) => (true, format!("memray {v} provisioned by abbench in {dir_shown}")),
        (None, None) if p.pip || uv.is_some() => (
            true,
            format!(
                "not in the runner's environment: the first memory run provisions memray {} into {dir_shown} with {} (the project's environment is not touched)",
                provision::MEMRAY_VERSION,
                if p.pip { format!("`{}`", install("--target … memray")) } else { "uv".into() }
            ),
        ),
        (None, None) => (false, "not importable, and neither pip (in the runner) nor uv (on PATH) is there to provision it".into()),
    };
    if !memray_ok {
        problems.push(Problem {
            problem: "memory runs would fall back to tracemalloc (Python allocations only): memray is missing and cannot be provisioned".into(),
            fix: format!("`{}`, or put uv on PATH (`python3 -m pip install uv`)", install(&format!("memray=={}", provision::MEMRAY_VERSION))),
        });
    }
    let mut tools = vec![tool("memray", memray_ok, memray_detail)];
    tools.push(tool(
        "pytest",
        p.pytest,
        if p.pytest {
            "importable: check_keep_conditions profiles pytest tests".to_string()
        } else {
            format!("not importable: check_keep_conditions can profile unittest tests (path::Class::method) and scripts only; to profile pytest tests: `{}`", install("pytest"))
        },
    ));
    tools.push(tool(
        "pip",
        p.pip,
        if p.pip { "importable by the runner" } else { "not importable by the runner (a uv environment has none; abbench then provisions with uv)" },
    ));
    let memory_how = match (&p.memray_version, &p.memray_provisioned, memray_ok) {
        (Some(_), _, _) | (None, Some(_), _) => "memray's in-process tracker around the variant alone (its own peak above setup), one variant per process",
        (None, None, true) => "memray, provisioned on the first memory run; the variant alone tracked, one variant per process",
        (None, None, false) => "tracemalloc's peak of the call (fallback: no memray)",
    };
    let domains = Domain::ALL
        .into_iter()
        .map(|d| DomainReadiness {
            domain: d,
            ready: d != Domain::Memory || memray_ok,
            how: match d {
                Domain::Memory => memory_how.to_string(),
                _ => "the paired design: both variants in alternating blocks in each fresh process (scripts from generate_ab_script)".to_string(),
            },
        })
        .collect();
    (tools, domains)
}

/// git, uv and codeflash on PATH.
fn path_tools(problems: &mut Vec<Problem>) -> Vec<Tool> {
    let git = runner::find_on_path("git");
    if git.is_none() {
        problems.push(Problem {
            problem: "git is not on PATH: check_keep_conditions cannot read the change or profile the base".into(),
            fix: "install git (e.g. `apt-get install git`)".into(),
        });
    }
    [
        (
            "git",
            git,
            "check_keep_conditions reads the change and profiles the base with it",
        ),
        (
            "uv",
            runner::find_on_path("uv"),
            "runs uv projects; provisions memray when the runner has no pip",
        ),
        (
            "codeflash",
            runner::find_on_path("codeflash"),
            "when present, needs_e2e names the `codeflash compare` command",
        ),
    ]
    .into_iter()
    .map(|(name, found, why)| {
        let detail = match &found {
            Some(p) => format!("{} ({why})", p.display()),
            None => format!("not on PATH ({why})"),
        };
        tool(name, found.is_some(), detail)
    })
    .collect()
}

/// What about the machine stops a measurement (problems) or makes it noisier (advice).
fn machine_checks(machine: &Machine, problems: &mut Vec<Problem>, advice: &mut Vec<String>) {
    if let Some([one, ..]) = machine.load_average {
        if one > machine.cores as f64 {
            problems.push(Problem {
                problem: format!("the 1-minute load average {one:.2} is above the {} cores: measurements compete with other work", machine.cores),
                fix: "finish or pause other work (builds, tests, other benchmarks) before measuring".into(),
            });
        }
    }
    if machine.lock_held {
        problems.push(Problem {
            problem: format!("another abbench measurement holds the machine lock ({}): a run now would wait for it", machine.lock_file),
            fix: "wait for it to finish (runs report how long they waited)".into(),
        });
    }
    if let Some(steal) = machine.steal_fraction.filter(|s| *s > 0.05) {
        advice.push(format!("this is a virtual machine whose host took {:.0} % of the CPU time while sampled: expect noisy numbers; the paired design cancels most of it, process isolation does not", steal * 100.0));
    }
    if let Some(busy) = machine.busy_fraction.filter(|b| *b > 0.25) {
        advice.push(format!(
            "other work used {:.0} % of the CPUs while sampled: measure when the machine is idle",
            busy * 100.0
        ));
    }
    match machine.governor.as_deref() {
        Some("performance") | None => {}
        Some(g) => advice.push(format!("the CPU frequency governor is `{g}`: `sudo cpupower frequency-set --governor performance` keeps the clock steady while measuring")),
    }
    if machine.turbo == Some(true) {
        advice.push("turbo boost is on: its clock changes with temperature and load; disabling it (`echo 1 | sudo tee /sys/devices/system/cpu/intel_pstate/no_turbo`, or `echo 0 | sudo tee /sys/devices/system/cpu/cpufreq/boost`) makes runs steadier".into());
    }
    if machine.cores <= 2 {
        advice.push(format!("{} cores: abbench runs one measurement at a time (the lock), but anything else running shares the CPUs with it", machine.cores));
    }
}
