//! `abbench e2e`: the CLI mirror of run_e2e_benchmark.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::{cancel_on_ctrl_c, env_pairs, gate, progress_bar, FailOn};
use crate::e2e::{self, E2eRequest};
use super::render;

/// Flags of `abbench e2e`.
#[derive(Debug, Args)]
pub struct E2eArgs {
    /// The git work tree with the candidate change applied (default: the current directory).
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// The base revision (default HEAD; HEAD's parent when the work tree is clean).
    #[arg(long)]
    pub base: Option<String>,
    /// The project's real workload, e.g. 'python bench/report.py' (split into words, no shell; python means the runner).
    #[arg(long)]
    pub command: String,
    /// A function to time inside the workload: path/file.py::func (repeatable).
    #[arg(long = "target", value_name = "FILE::FUNC")]
    pub target_functions: Vec<String>,
    /// The project's Python command (default: detected in --repo).
    #[arg(long)]
    pub runner: Option<String>,
    /// The workload's working directory, relative to the repository root.
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// An environment variable for the workload (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// cpu (wall time, the default) or memory (peak under memray).
    #[arg(long)]
    pub domain: Option<String>,
    /// Time: the end-to-end gain to beat (default 0.05).
    #[arg(long)]
    pub min_gain: Option<f64>,
    /// Memory: bytes to save (default 10 MiB).
    #[arg(long)]
    pub min_saved_bytes: Option<u64>,
    /// Memory: fraction of the base's peak to save (default 0.10).
    #[arg(long)]
    pub min_saved_fraction: Option<f64>,
    /// Pairs before the first look (default 5).
    #[arg(long)]
    pub min_pairs: Option<usize>,
    /// Most pairs (default 30).
    #[arg(long)]
    pub max_pairs: Option<usize>,
    /// Budget of the whole run, seconds (default 600).
    #[arg(long)]
    pub max_seconds: Option<f64>,
    /// Timeout of one workload process, seconds (default 300).
    #[arg(long)]
    pub timeout_s: Option<f64>,
    /// Fail when base and candidate print different output.
    #[arg(long)]
    pub compare_output: bool,
    /// A work-tree file or folder the base worktree needs (repeatable).
    #[arg(long, value_name = "PATH")]
    pub copy_to_base: Vec<String>,
    /// The `abbench run` run this confirms.
    #[arg(long)]
    pub micro_run_id: Option<String>,
    /// Seed of the base/candidate order.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print the structured result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Exit with status 3 when the verdict is one of these (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "VERDICT")]
    pub fail_on: Vec<FailOn>,
}

impl E2eArgs {
    /// The request these flags ask for.
    fn request(self) -> Result<E2eRequest> {
        let d = E2eRequest::default();
        Ok(E2eRequest {
            env: env_pairs(&self.env)?,
            repo: self.repo,
            base: self.base,
            command: self.command,
            target_functions: self.target_functions,
            runner: self.runner,
            cwd: self.cwd,
            domain: self.domain.map(|d| d.parse()).transpose()?,
            min_gain: self.min_gain,
            min_saved_bytes: self.min_saved_bytes,
            min_saved_fraction: self.min_saved_fraction,
            min_pairs: self.min_pairs.unwrap_or(d.min_pairs),
            max_pairs: self.max_pairs.unwrap_or(d.max_pairs),
            max_seconds: self.max_seconds.unwrap_or(d.max_seconds),
            timeout_s: self.timeout_s.unwrap_or(d.timeout_s),
            compare_output: self.compare_output,
            copy_to_base: self.copy_to_base,
            micro_run_id: self.micro_run_id,
            seed: self.seed,
        })
    }
}

/// Runs it and prints the verdict; the exit status follows `--fail-on`.
pub(super) async fn run(args: E2eArgs) -> Result<i32> {
    let (json, fail_on) = (args.json, args.fail_on.clone());
    let request = args.request()?;
    let (bar, progress) = progress_bar(2 + 2 * request.max_pairs as u64);
    let result = e2e::run_e2e(&request, None, &cancel_on_ctrl_c(), progress).await;
    bar.finish_and_clear();
    let result = result?;
    if json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print!("{}", render::e2e_summary(&result));
    }
    Ok(gate(&fail_on, result.comparison.verdict))
}
