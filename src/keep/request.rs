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
    /// The run_id returned by run_ab_benchmark (it stays valid across server restarts).
    #[arg(long)]
    pub run_id: String,
    /// The project's git work tree, with the candidate change applied (e.g. "/home/me/shop").
    #[arg(long)]
    pub repo: PathBuf,
    /// The FULL test suite, run in `repo`, split into words without a shell, e.g. "python3 -m pytest -q" or ".venv/bin/pytest -q". Passes iff it exits 0.
    #[arg(long)]
    pub test_command: String,
    /// The optimized function: "path/to/file.py::func", "path/to/file.py::Class.method" or dotted "pkg.module.func" (paths relative to `repo`). Default: the run's first target, when its script was generated in the revision form (`target`).
    #[serde(default)]
    #[arg(long = "function", default_value = "", hide_default_value = true)]
    pub target_function: String,
    /// The test that exercises the function, profiled with cProfile on the base and on the candidate: a pytest node id ("tests/test_inv.py::test_count") or path, or a script path. Required unless `e2e_run_id` names a run that timed target_function (its share of the workload is then the hot-path evidence).
    #[serde(default)]
    #[arg(long = "test", default_value = "", hide_default_value = true)]
    pub target_test: String,
    /// A run_e2e_benchmark run of this change: the improvement condition is then judged on its end-to-end verdict (and hot_path on the target's share of the workload, when the run timed target_function). Default: none, the micro run alone.
    #[serde(default)]
    #[arg(long)]
    pub e2e_run_id: Option<String>,
    /// The base revision: the change is the work tree (tracked changes and untracked files) against it; when the work tree is clean and base is HEAD, HEAD against its parent. Default: the commit the run's variant A came from (revision-form scripts), else "HEAD".
    #[serde(default)]
    #[arg(long)]
    pub base: Option<String>,
    /// Command of the project's Python, split into words, e.g. ".venv/bin/python". Default: detected in `repo` as run_ab_benchmark does.
    #[serde(default)]
    #[arg(long)]
    pub runner: Option<String>,
    /// simplicity: most net added lines (added - removed, untracked files count). Default 30.
    #[serde(default = "defaults::max_added_lines")]
    #[arg(long, default_value_t = defaults::max_added_lines())]
    pub max_added_lines: i64,
    /// simplicity: most files changed. Default 3.
    #[serde(default = "defaults::max_files")]
    #[arg(long, default_value_t = defaults::max_files())]
    pub max_files: usize,
    /// simplicity: most McCabe complexity increase of any changed function (a new function counts from 1). Default 2.
    #[serde(default = "defaults::max_complexity_increase")]
    #[arg(long, default_value_t = defaults::max_complexity_increase())]
    pub max_complexity_increase: i64,
    /// hot_path: least share (fraction) of the target test's time the function must take on the base. Default 0.05 for cpu/data_structures/async, 0 for memory/structure.
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 1.0))]
    #[arg(long)]
    pub min_hot_share: Option<f64>,
    /// Timeout in seconds of the test command and of each profiling run. Default 900.
    #[serde(default = "defaults::tests_timeout_s")]
    #[arg(long, default_value_t = defaults::tests_timeout_s())]
    pub tests_timeout_s: f64,
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
            base: None,
            runner: None,
            max_added_lines: 30,
            max_files: 3,
            max_complexity_increase: 2,
            min_hot_share: None,
            tests_timeout_s: 900.0,
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
