//! `abbench e2e`: the CLI mirror of run_e2e_benchmark.

use anyhow::Result;
use clap::Args;

use super::export::Exported;
use super::render;
use super::{cancel_on_ctrl_c, gate, progress_bar, EnvArgs, ExportArgs, FailOn};
use crate::e2e::{self, E2eRequest};

/// Flags of `abbench e2e`: the request's own, then what only the command
/// line has.
#[derive(Debug, Args)]
pub struct E2eArgs {
    /// What run_e2e_benchmark takes.
    #[command(flatten)]
    pub request: E2eRequest,
    /// Environment variables for the workload.
    #[command(flatten)]
    pub env: EnvArgs,
    /// Print the structured result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Exit with status 3 when the verdict is one of these (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "VERDICT")]
    pub fail_on: Vec<FailOn>,
    /// Files to write the result to.
    #[command(flatten)]
    pub export: ExportArgs,
}

/// Runs it and prints the verdict; the exit status follows `--fail-on`.
pub(super) async fn run(args: E2eArgs) -> Result<i32> {
    let (json, fail_on) = (args.json, args.fail_on.clone());
    let mut request = args.request;
    request.env = args.env.pairs()?;
    let (bar, progress) = progress_bar(2 + 2 * request.max_pairs as u64);
    let result = e2e::run_e2e(&request, None, &cancel_on_ctrl_c(), progress).await;
    bar.finish_and_clear();
    let result = result?;
    if json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print!("{}", render::e2e_summary(&result));
    }
    args.export.write(Exported::E2e(&result))?;
    Ok(gate(&fail_on, result.comparison.verdict))
}
