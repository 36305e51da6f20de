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
    /// Git work tree with the candidate.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// Default "HEAD" (HEAD^ when the tree is clean).
    #[serde(default)]
    #[arg(long)]
    pub base: Option<String>,
    /// The real workload, e.g. "python bench/report.py".
    #[arg(long)]
    pub command: String,
    /// "path/file.py::func" also timed inside.
    #[serde(default)]
    #[arg(long = "target", value_name = "FILE::FUNC")]
    pub target_functions: Vec<String>,
    /// Python command; default detected in `repo`.
    #[serde(default)]
    #[arg(long)]
    pub runner: Option<String>,
    /// Relative to the repository root.
    #[serde(default)]
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// Environment variables.
    #[serde(default)]
    #[arg(skip)]
    pub env: BTreeMap<String, String>,
    /// cpu (default) or memory.
    #[serde(default)]
    #[arg(long)]
    pub domain: Option<Domain>,
    /// Gain to beat. Default 0.05.
    #[serde(default)]
    #[schemars(range(min = 0.0))]
    #[arg(long)]
    pub min_gain: Option<f64>,
    /// Memory: bytes to save. Default 10485760.
    #[serde(default)]
    #[arg(long)]
    pub min_saved_bytes: Option<u64>,
    /// Memory: share to save. Default 0.10.
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 1.0))]
    #[arg(long)]
    pub min_saved_fraction: Option<f64>,
    /// First look. Default 5.
    #[serde(default = "defaults::min_pairs")]
    #[schemars(range(min = MIN_PAIRS_LIMIT, max = MAX_PAIRS_LIMIT))]
    #[arg(long, default_value_t = defaults::min_pairs())]
    pub min_pairs: usize,
    /// Most pairs. Default 30.
    #[serde(default = "defaults::max_pairs")]
    #[schemars(range(min = MIN_PAIRS_LIMIT, max = MAX_PAIRS_LIMIT))]
    #[arg(long, default_value_t = defaults::max_pairs())]
    pub max_pairs: usize,
    /// Wall budget. Default 600.
    #[serde(default = "defaults::max_seconds")]
    #[arg(long, default_value_t = defaults::max_seconds())]
    pub max_seconds: f64,
    /// Per process. Default 300.
    #[serde(default = "defaults::timeout_s")]
    #[arg(long, default_value_t = defaults::timeout_s())]
    pub timeout_s: f64,
    /// Fail if the outputs differ. Default false.
    #[serde(default)]
    #[arg(long)]
    pub compare_output: bool,
    /// Untracked paths the base needs.
    #[serde(default)]
    #[arg(long, value_name = "PATH")]
    pub copy_to_base: Vec<String>,
    /// The micro run this confirms.
    #[serde(default)]
    #[arg(long)]
    pub micro_run_id: Option<String>,
    /// Seed of the order.
    #[serde(default)]
    #[arg(long)]
    pub seed: Option<u64>,
    /// full: add the whole record.
    #[serde(default)]
    #[arg(skip)]
    pub detail: crate::history::Detail,
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
            detail: Default::default(),
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
