//! [`RunRequest`], the arguments of `run_ab_benchmark` / `abbench run`:
//! the MCP tool takes it as its parameters (its doc comments are the
//! schema's descriptions), the CLI converts its flags into it, and every
//! default is written once, in its `Default`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::Domain;
use crate::equivalence::EquivalenceMode;

use crate::measure::{MAX_PAIRS_LIMIT, MIN_PAIRS_LIMIT};

/// How the variants share processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Isolation {
    /// Each process runs A and B in alternating blocks; its A/B ratio is the unit.
    Paired,
    /// Each process runs one variant; A and B processes are interleaved.
    Process,
}

impl std::str::FromStr for Isolation {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "paired" => Ok(Isolation::Paired),
            "process" => Ok(Isolation::Process),
            other => Err(format!(
                "unknown isolation {other:?}: use paired or process"
            )),
        }
    }
}

impl Isolation {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Isolation::Paired => "paired",
            Isolation::Process => "process",
        }
    }
}

/// Arguments of `run_ab_benchmark`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// Path of the A/B script (from generate_ab_script, or hand-written so that `python script.py a|b` runs a variant), e.g. "/tmp/micro_bench_parse_rows.py". Relative paths are taken from `cwd`.
    #[arg(value_name = "SCRIPT")]
    pub script: PathBuf,
    /// cpu, data_structures, async, memory or structure. Default: read from a generated script; required for a hand-written one.
    #[serde(default)]
    #[arg(long)]
    pub domain: Option<Domain>,
    /// Command that runs the project's Python, split into words without a shell, e.g. "python3", ".venv/bin/python", "uv run python", "poetry run python". Default: detected in `cwd` (.venv/bin/python, venv/bin/python, uv run python with uv.lock, poetry run python with poetry.lock, else python3); the result says which and why.
    #[serde(default)]
    #[arg(long)]
    pub runner: Option<String>,
    /// Working directory of every process (the project root, so its imports resolve). Default: the server's working directory.
    #[serde(default)]
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// Environment variables merged over the server's, e.g. {"PYTHONPATH": "src"}.
    #[serde(default)]
    #[arg(skip)]
    pub env: BTreeMap<String, String>,
    /// cpu/async/structure: the gain B must beat, as a fraction (gain = A/B - 1). Default 0.20 (20 %, i.e. speedup 1.2x).
    #[serde(default)]
    #[schemars(range(min = 0.0))]
    #[arg(long)]
    pub min_gain: Option<f64>,
    /// memory: bytes B must save (A - B) to pass. Default 10485760 (10 MiB). Passing either memory threshold suffices.
    #[serde(default)]
    #[arg(long)]
    pub min_saved_bytes: Option<u64>,
    /// memory: fraction of A's peak B must save ((A - B) / A) to pass. Default 0.10.
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 1.0))]
    #[arg(long)]
    pub min_saved_fraction: Option<f64>,
    /// How the variants share processes. "paired" (default for cpu, async and structure with a generated script): every fresh process runs A and B in alternating blocks in a random order, and its A/B ratio is one sample, which cancels the machine's noise A and B share. "process" (always for memory, and for hand-written scripts): each process runs one variant, A and B processes interleaved. The result's `design` says which ran and why.
    #[serde(default)]
    #[arg(long)]
    pub isolation: Option<Isolation>,
    /// Pairs (paired design: processes) before the first look at the statistics. Default: chosen by the design (paired: 6, or 12 for very noisy code; process: 5; memory: 4); at least 6 paired, 4 otherwise.
    #[serde(default)]
    #[schemars(range(min = MIN_PAIRS_LIMIT, max = MAX_PAIRS_LIMIT))]
    #[arg(long)]
    pub min_pairs: Option<usize>,
    /// Most pairs (paired design: processes each running both; process design: one A and one B process) before giving up as inconclusive (min_pairs to 200). Default 30.
    #[serde(default = "defaults::max_pairs")]
    #[schemars(range(min = MIN_PAIRS_LIMIT, max = MAX_PAIRS_LIMIT))]
    #[arg(long, default_value_t = defaults::max_pairs())]
    pub max_pairs: usize,
    /// Wall-clock budget of the whole run in seconds; the run stops with the pairs it has when the next pair would exceed it. Default 300.
    #[serde(default = "defaults::max_seconds")]
    #[arg(long, default_value_t = defaults::max_seconds())]
    pub max_seconds: f64,
    /// Timeout of one process in seconds; past it the process group is killed and the call fails naming the variant. Default 120.
    #[serde(default = "defaults::timeout_s")]
    #[arg(long, default_value_t = defaults::timeout_s())]
    pub timeout_s: f64,
    /// Seed of the random A/B order inside pairs; the result reports the seed used, pass it again to repeat the schedule. Default: from the clock.
    #[serde(default)]
    #[arg(long)]
    pub seed: Option<u64>,
    /// memory: when memray is not importable by the runner, measure with the script's tracemalloc figure instead (with a warning) rather than fail. Default true.
    #[serde(default = "defaults::allow_fallback")]
    #[arg(long = "no-fallback", action = clap::ArgAction::SetFalse, help = "memory: fail instead of measuring with tracemalloc when memray can be neither imported nor provisioned")]
    pub allow_fallback: bool,
    /// Return in `first_output` what the first counted process of each role (a and b, or ab) printed: its stdout and stderr, up to 4 KiB each, the ABBENCH line included. Default false.
    #[serde(default)]
    #[arg(long)]
    pub show_output: bool,
    /// Before any timing, one process runs setup, A twice and B once on their own copies of setup's objects and compares the results, setup's objects after each call and stdout; when they differ the verdict is different_results and nothing is timed. "strict" (default), "unordered" (lists compared as multisets, when order does not matter), or "off".
    #[serde(default)]
    #[arg(long, default_value = "strict")]
    pub equivalence: EquivalenceMode,
    /// Relative tolerance for comparing floats in that check. Default 1e-9.
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 1.0))]
    #[arg(long)]
    pub rel_tol: Option<f64>,
}

impl Default for RunRequest {
    fn default() -> Self {
        RunRequest {
            script: PathBuf::new(),
            domain: None,
            runner: None,
            cwd: None,
            env: BTreeMap::new(),
            min_gain: None,
            min_saved_bytes: None,
            min_saved_fraction: None,
            isolation: None,
            min_pairs: None,
            max_pairs: 30,
            max_seconds: 300.0,
            timeout_s: 120.0,
            seed: None,
            allow_fallback: true,
            show_output: false,
            equivalence: EquivalenceMode::Strict,
            rel_tol: None,
        }
    }
}

/// serde's per-field defaults, read from the one `Default`.
mod defaults {
    use super::RunRequest;

    pub(super) fn max_pairs() -> usize {
        RunRequest::default().max_pairs
    }
    pub(super) fn max_seconds() -> f64 {
        RunRequest::default().max_seconds
    }
    pub(super) fn timeout_s() -> f64 {
        RunRequest::default().timeout_s
    }
    pub(super) fn allow_fallback() -> bool {
        RunRequest::default().allow_fallback
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A call naming only the script gets exactly the `Default`.
    #[test]
    fn missing_fields_take_the_one_default() {
        let req: RunRequest =
            serde_json::from_value(serde_json::json!({"script": "s.py"})).unwrap();
        let d = RunRequest::default();
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            serde_json::to_value(RunRequest {
                script: "s.py".into(),
                ..d
            })
            .unwrap()
        );
    }
}
