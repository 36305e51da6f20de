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
    /// The A/B script's path (relative to `cwd`).
    #[arg(value_name = "SCRIPT")]
    pub script: PathBuf,
    /// Default: from a generated script.
    #[serde(default)]
    #[arg(long)]
    pub domain: Option<Domain>,
    /// Python command; default detected in `cwd`.
    #[serde(default)]
    #[arg(long)]
    pub runner: Option<String>,
    /// The project root. Default: the server's.
    #[serde(default)]
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// Environment variables, e.g. {"PYTHONPATH": "src"}.
    #[serde(default)]
    #[arg(skip)]
    pub env: BTreeMap<String, String>,
    /// Gain to beat (A/B - 1). Default 0.20.
    #[serde(default)]
    #[schemars(range(min = 0.0))]
    #[arg(long)]
    pub min_gain: Option<f64>,
    /// Memory: bytes to save. Default 10485760.
    #[serde(default)]
    #[arg(long)]
    pub min_saved_bytes: Option<u64>,
    /// Memory: share of A's peak to save. Default 0.10.
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 1.0))]
    #[arg(long)]
    pub min_saved_fraction: Option<f64>,
    /// paired (default, time domains) or process.
    #[serde(default)]
    #[arg(long)]
    pub isolation: Option<Isolation>,
    /// First look. Default: by design.
    #[serde(default)]
    #[schemars(range(min = MIN_PAIRS_LIMIT, max = MAX_PAIRS_LIMIT))]
    #[arg(long)]
    pub min_pairs: Option<usize>,
    /// Most pairs (to 200). Default 30.
    #[serde(default = "defaults::max_pairs")]
    #[schemars(range(min = MIN_PAIRS_LIMIT, max = MAX_PAIRS_LIMIT))]
    #[arg(long, default_value_t = defaults::max_pairs())]
    pub max_pairs: usize,
    /// Wall budget. Default 300.
    #[serde(default = "defaults::max_seconds")]
    #[arg(long, default_value_t = defaults::max_seconds())]
    pub max_seconds: f64,
    /// Per process. Default 120.
    #[serde(default = "defaults::timeout_s")]
    #[arg(long, default_value_t = defaults::timeout_s())]
    pub timeout_s: f64,
    /// Seed of the A/B order.
    #[serde(default)]
    #[arg(long)]
    pub seed: Option<u64>,
    /// Memory: tracemalloc without memray. Default true.
    #[serde(default = "defaults::allow_fallback")]
    #[arg(long = "no-fallback", action = clap::ArgAction::SetFalse, help = "memory: fail instead of measuring with tracemalloc when memray can be neither imported nor provisioned")]
    pub allow_fallback: bool,
    /// Return the processes' output. Default false.
    #[serde(default)]
    #[arg(long)]
    pub show_output: bool,
    /// Check that B computes what A computes: strict (default), unordered, off.
    #[serde(default)]
    #[arg(long, default_value = "strict")]
    pub equivalence: EquivalenceMode,
    /// Float tolerance. Default 1e-9.
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 1.0))]
    #[arg(long)]
    pub rel_tol: Option<f64>,
    /// full: add the whole record.
    #[serde(default)]
    #[arg(skip)]
    pub detail: crate::history::Detail,
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
            detail: Default::default(),
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
