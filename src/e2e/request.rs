//! [`E2eRequest`], the arguments of `run_e2e_benchmark` / `abbench e2e`:
//! the MCP tool takes it as its parameters (its doc comments are the
//! schema's descriptions), the CLI converts its flags into it, and every
//! default is written once, in its `Default`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::Domain;
use crate::measure::{MAX_PAIRS_LIMIT, MIN_PAIRS_LIMIT};

/// The gain an end-to-end run must beat by default: 5 %, a quarter of the
/// micro-benchmark's 20 %, because everything else the workload does
/// dilutes a function's gain.
pub const DEFAULT_E2E_MIN_GAIN: f64 = 0.05;

/// Arguments of `run_e2e_benchmark`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct E2eRequest {
    /// The project's git work tree with the candidate change applied (e.g. "/home/me/shop"). The candidate runs here; the base runs in a temporary `git worktree` that is removed when the call ends. Nothing is written into the work tree.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// The base revision (branch, tag, commit, HEAD~N). The candidate is the work tree; when the work tree is clean and base is HEAD, HEAD's parent is the base (the last commit is the candidate). Default "HEAD".
    #[serde(default)]
    #[arg(long)]
    pub base: Option<String>,
    /// The project's real workload, split into words without a shell, e.g. "python bench/report.py --days 30", "python -m pytest -q tests/test_report.py::test_daily" or a console script of the virtualenv. A leading python/python3 runs the `runner`; a relative program path the base lacks (a virtualenv, an untracked script) is taken from the work tree.
    #[arg(long)]
    pub command: String,
    /// Functions whose own time inside the workload is measured too: "path/file.py::func" or "path/file.py::Class.method", relative to `repo` (sys.monitoring on Python 3.12+, a sys.setprofile filter before). The result gives each one's time, calls, gain and share of the workload on base and candidate. Default: none (wall time only).
    #[serde(default)]
    #[arg(long = "target", value_name = "FILE::FUNC")]
    pub target_functions: Vec<String>,
    /// Command that runs the project's Python, split into words, e.g. ".venv/bin/python" or "uv run python". Default: detected in `repo` as run_ab_benchmark does.
    #[serde(default)]
    #[arg(long)]
    pub runner: Option<String>,
    /// Working directory of the workload, relative to the repository root (the same folder in the base worktree). Default: the root.
    #[serde(default)]
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// Environment variables merged over the server's, e.g. {"REPORT_DAYS": "30"}.
    #[serde(default)]
    #[arg(skip)]
    pub env: BTreeMap<String, String>,
    /// cpu (default; also data_structures, async: the workload's wall time) or memory (the workload's peak under memray).
    #[serde(default)]
    #[arg(long)]
    pub domain: Option<Domain>,
    /// Time: the end-to-end gain the candidate must beat, as a fraction (gain = base / candidate - 1). Default 0.05 (5 %).
    #[serde(default)]
    #[schemars(range(min = 0.0))]
    #[arg(long)]
    pub min_gain: Option<f64>,
    /// Memory: bytes the candidate must save. Default 10485760 (10 MiB); passing either memory threshold suffices.
    #[serde(default)]
    #[arg(long)]
    pub min_saved_bytes: Option<u64>,
    /// Memory: fraction of the base's peak the candidate must save. Default 0.10.
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 1.0))]
    #[arg(long)]
    pub min_saved_fraction: Option<f64>,
    /// Pairs (one base and one candidate process) before the first look. Default 5.
    #[serde(default = "defaults::min_pairs")]
    #[schemars(range(min = MIN_PAIRS_LIMIT, max = MAX_PAIRS_LIMIT))]
    #[arg(long, default_value_t = defaults::min_pairs())]
    pub min_pairs: usize,
    /// Most pairs before giving up as inconclusive. Default 30.
    #[serde(default = "defaults::max_pairs")]
    #[schemars(range(min = MIN_PAIRS_LIMIT, max = MAX_PAIRS_LIMIT))]
    #[arg(long, default_value_t = defaults::max_pairs())]
    pub max_pairs: usize,
    /// Wall-clock budget of the whole run in seconds; the run stops with the pairs it has when the next pair would exceed it. Default 600.
    #[serde(default = "defaults::max_seconds")]
    #[arg(long, default_value_t = defaults::max_seconds())]
    pub max_seconds: f64,
    /// Timeout of one workload process in seconds; past it its process group is killed and the call fails naming base or candidate. Default 300.
    #[serde(default = "defaults::timeout_s")]
    #[arg(long, default_value_t = defaults::timeout_s())]
    pub timeout_s: f64,
    /// Fail when the base and the candidate print different standard output in their warm-up processes (a behaviour change is not a win). Default false (workloads often print their own timings).
    #[serde(default)]
    #[arg(long)]
    pub compare_output: bool,
    /// Files or folders of the work tree (relative to `repo`) copied into the base worktree before it runs: untracked or ignored inputs the workload needs (data files, a local config). Default: none; the base has only committed files.
    #[serde(default)]
    #[arg(long, value_name = "PATH")]
    pub copy_to_base: Vec<String>,
    /// The run_ab_benchmark run this confirms, so the ledger links them. Default: none.
    #[serde(default)]
    #[arg(long)]
    pub micro_run_id: Option<String>,
    /// Seed of the random base/candidate order inside pairs; the result reports the seed used. Default: from the clock.
    #[serde(default)]
    #[arg(long)]
    pub seed: Option<u64>,
}

impl Default for E2eRequest {
    fn default() -> Self {
        E2eRequest {
            repo: PathBuf::new(),
            base: None,
            command: String::new(),
            target_functions: Vec::new(),
            runner: None,
            cwd: None,
            env: BTreeMap::new(),
            domain: None,
            min_gain: None,
            min_saved_bytes: None,
            min_saved_fraction: None,
            min_pairs: 5,
            max_pairs: 30,
            max_seconds: 600.0,
            timeout_s: 300.0,
            compare_output: false,
            copy_to_base: Vec::new(),
            micro_run_id: None,
            seed: None,
        }
    }
}

/// serde's per-field defaults, read from the one `Default`.
mod defaults {
    use super::E2eRequest;

    pub(super) fn min_pairs() -> usize {
        E2eRequest::default().min_pairs
    }
    pub(super) fn max_pairs() -> usize {
        E2eRequest::default().max_pairs
    }
    pub(super) fn max_seconds() -> f64 {
        E2eRequest::default().max_seconds
    }
    pub(super) fn timeout_s() -> f64 {
        E2eRequest::default().timeout_s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A call naming only the required fields gets exactly the `Default`.
    #[test]
    fn missing_fields_take_the_one_default() {
        let req: E2eRequest =
            serde_json::from_value(serde_json::json!({"repo": "/r", "command": "python w.py"}))
                .unwrap();
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            serde_json::to_value(E2eRequest {
                repo: "/r".into(),
                command: "python w.py".into(),
                ..E2eRequest::default()
            })
            .unwrap()
        );
    }
}
