//! [`KeepRequest`], the arguments of `check_keep_conditions` / `abbench
//! keep`: the MCP tool takes it as its parameters, the command line derives
//! its flags from it (doc comments are the help), and every default is
//! written once, in its `Default`.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Arguments of `check_keep_conditions` / `abbench keep`: the MCP tool
/// takes it as its parameters (the doc comments are the schema's
/// descriptions, and the help of `abbench keep`'s flags), and every default
/// is written once, in its `Default`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct KeepRequest {
    /// The run to decide on.
    #[arg(long)]
    pub run_id: String,
    /// Git work tree with the change applied.
    #[arg(long)]
    pub repo: PathBuf,
    /// The FULL test suite, e.g. "python -m pytest -q".
    #[arg(long)]
    pub test_command: String,
    /// "path/file.py::func". Default: the run's target.
    #[serde(default)]
    #[arg(long = "function", default_value = "", hide_default_value = true)]
    pub target_function: String,
    /// The test exercising it (pytest/unittest id, path or script), profiled.
    #[serde(default)]
    #[arg(long = "test", default_value = "", hide_default_value = true)]
    pub target_test: String,
    /// An e2e run of this change: judge the gain end to end.
    #[serde(default)]
    #[arg(long)]
    pub e2e_run_id: Option<String>,
    /// Which candidate to judge (default: the best).
    #[serde(default)]
    #[arg(long = "judge-candidate", value_name = "LABEL")]
    pub candidate: Option<String>,
    /// Default: the run's base, else "HEAD".
    #[serde(default)]
    #[arg(long)]
    pub base: Option<String>,
    /// Python command; default detected in `repo`.
    #[serde(default)]
    #[arg(long)]
    pub runner: Option<String>,
    /// Simplicity: net added lines. Default 30.
    #[serde(default = "defaults::max_added_lines")]
    #[arg(long, default_value_t = defaults::max_added_lines())]
    pub max_added_lines: i64,
    /// Simplicity: files changed. Default 3.
    #[serde(default = "defaults::max_files")]
    #[arg(long, default_value_t = defaults::max_files())]
    pub max_files: usize,
    /// Simplicity: McCabe increase. Default 2.
    #[serde(default = "defaults::max_complexity_increase")]
    #[arg(long, default_value_t = defaults::max_complexity_increase())]
    pub max_complexity_increase: i64,
    /// Hot path: least share of the test's time. Default 0.05 (0 for memory, structure).
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 1.0))]
    #[arg(long)]
    pub min_hot_share: Option<f64>,
    /// Files that are part of the change though no changed module imports
    /// them (untracked ones are otherwise not counted in simplicity).
    #[serde(default)]
    #[arg(long = "change-file")]
    pub change_files: Vec<String>,
    /// Per test run and profile. Default 900.
    #[serde(default = "defaults::tests_timeout_s")]
    #[arg(long, default_value_t = defaults::tests_timeout_s())]
    pub tests_timeout_s: f64,
    /// full: add the whole record.
    #[serde(default)]
    #[arg(skip)]
    pub detail: crate::history::Detail,
}

impl Default for KeepRequest {
    fn default() -> Self {
        KeepRequest {
            run_id: String::new(),
            repo: PathBuf::new(),
            test_command: String::new(),
            target_function: String::new(),
            target_test: String::new(),
            e2e_run_id: None,
            candidate: None,
            base: None,
            runner: None,
            max_added_lines: 30,
            max_files: 3,
            max_complexity_increase: 2,
            min_hot_share: None,
            change_files: Vec::new(),
            tests_timeout_s: 900.0,
            detail: Default::default(),
        }
    }
}

/// serde's per-field defaults, read from the one `Default`.
mod defaults {
    use super::KeepRequest;

    pub(super) fn max_added_lines() -> i64 {
        KeepRequest::default().max_added_lines
    }
    pub(super) fn max_files() -> usize {
        KeepRequest::default().max_files
    }
    pub(super) fn max_complexity_increase() -> i64 {
        KeepRequest::default().max_complexity_increase
    }
    pub(super) fn tests_timeout_s() -> f64 {
        KeepRequest::default().tests_timeout_s
    }
}
