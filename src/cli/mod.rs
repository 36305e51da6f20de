//! The command line: the same core calls as the MCP tools, for people.
//! Raw flags here; the core gets the same request types the MCP adapter builds.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, CommandFactory, Parser, Subcommand};

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use self::export::{Exported, Exporter};
use crate::bench::{self, RunRequest};
use crate::doctor::DoctorRequest;
use crate::generate::{self, GenerateRequest};
use crate::history::{self, HistoryRequest};
use crate::keep::{self, KeepRequest};
use crate::measure::progress::{Event, Progress};
use crate::verdict::Verdict;

pub mod demo;
mod e2e;
pub mod export;
pub mod render;

/// A/B micro-benchmarks for Python optimization agents: generate the script,
/// run both variants with an honest verdict, decide whether to keep.
#[derive(Debug, Parser)]
#[command(name = "abbench", version, about, long_about = None)]
pub struct Cli {
    /// What to do; with none, serve MCP when stdin is not a terminal.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the MCP tools over stdio (what an MCP client starts).
    Serve,
    /// Write an A/B micro-benchmark script (the CLI mirror of generate_ab_script).
    Template(Box<TemplateArgs>),
    /// Run an A/B script and print the verdict (the CLI mirror of run_ab_benchmark).
    Run(Box<RunArgs>),
    /// Check the four keep conditions and decide (the CLI mirror of check_keep_conditions).
    Keep(Box<KeepArgs>),
    /// List earlier runs and decisions (the CLI mirror of benchmark_history).
    History(Box<HistoryArgs>),
    /// What would run here and would it work: interpreter and why, tools, domains, machine noise (the CLI mirror of check_environment).
    Doctor(DoctorArgs),
    /// Put two recorded runs side by side: the change in the estimate and whether the intervals overlap.
    Compare(CompareArgs),
    /// Run the project's real workload on the base (a temporary git worktree) and on the work tree, and print the end-to-end verdict (the CLI mirror of run_e2e_benchmark).
    E2e(Box<e2e::E2eArgs>),
    /// Run the whole loop on a bundled example project: generate, run, apply, check keep.
    Demo {
        /// Keep the demo's temporary directory and say where it is.
        #[arg(long)]
        keep: bool,
    },
    /// Internal: the watchdog an abbench starts; when its stdin ends (that
    /// abbench exited, however), it kills what carries that abbench's tags.
    #[command(name = "__watch", hide = true)]
    Watch {
        /// The tag prefix of the abbench to watch.
        prefix: String,
    },
}

/// Files to write the result to, besides what is printed.
#[derive(Debug, Args, Default)]
pub struct ExportArgs {
    /// Write the result as Markdown tables (for a pull request).
    #[arg(long, value_name = "FILE")]
    pub export_markdown: Option<PathBuf>,
    /// Write the result as CSV (one header row).
    #[arg(long, value_name = "FILE")]
    pub export_csv: Option<PathBuf>,
    /// Write the full structured result as JSON.
    #[arg(long, value_name = "FILE")]
    pub export_json: Option<PathBuf>,
}

impl ExportArgs {
    /// Writes every file asked for.
    fn write(&self, what: Exported) -> Result<()> {
        let formats: [(&Option<PathBuf>, &dyn Exporter); 3] = [
            (&self.export_markdown, &export::Markdown),
            (&self.export_csv, &export::Csv),
            (&self.export_json, &export::Json),
        ];
        for (path, exporter) in formats {
            if let Some(path) = path {
                std::fs::write(path, exporter.serialize(what))
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
        Ok(())
    }
}

/// `--env KEY=VALUE`, repeatable: a request's `env` map, on the command line.
#[derive(Debug, Args, Default)]
pub struct EnvArgs {
    /// An environment variable for the processes, KEY=VALUE (repeat for more).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
}

impl EnvArgs {
    /// The variables as the requests take them.
    fn pairs(&self) -> Result<std::collections::BTreeMap<String, String>> {
        env_pairs(&self.env)
    }
}

/// A verdict that makes `abbench run` exit with [`EXIT_GATE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// A and B compute different results (nothing was timed).
    #[value(alias = "different_results")]
    Different,
    /// B is significantly slower (or bigger) than A.
    Regression,
    /// The budget ran out before the statistics settled.
    Inconclusive,
    /// The gain is real or not, but under the threshold.
    #[value(alias = "below_threshold")]
    Below,
}

impl FailOn {
    fn matches(self, verdict: Verdict) -> bool {
        matches!(
            (self, verdict),
            (FailOn::Regression, Verdict::Regression)
                | (FailOn::Inconclusive, Verdict::Inconclusive)
                | (FailOn::Below, Verdict::BelowThreshold)
                | (FailOn::Different, Verdict::DifferentResults)
        )
    }
}

/// The exit status of `abbench run` when its verdict is one `--fail-on` names.
pub const EXIT_GATE: i32 = 3;

/// Flags of `abbench compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The first run_id (e.g. the older run).
    pub first: String,
    /// The second run_id.
    pub second: String,
    /// Print the structured comparison as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `abbench keep`: the request's own, then what only the command
/// line has.
#[derive(Debug, Args)]
pub struct KeepArgs {
    /// What check_keep_conditions takes.
    #[command(flatten)]
    pub request: KeepRequest,
    /// Print the structured result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Files to write the decision to.
    #[command(flatten)]
    pub export: ExportArgs,
}

/// Flags of `abbench doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// What check_environment takes.
    #[command(flatten)]
    pub request: DoctorRequest,
    /// Print the structured report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `abbench history`: the request's filters, or one run whole.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Which runs to list.
    #[command(flatten)]
    pub request: HistoryRequest,
    /// Print the structured result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Files to write the listing (or the run) to.
    #[command(flatten)]
    pub export: ExportArgs,
}

/// Flags of `abbench run`: the request's own, then what only the command
/// line has.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// What run_ab_benchmark takes.
    #[command(flatten)]
    pub request: RunRequest,
    /// Environment variables for the variants.
    #[command(flatten)]
    pub env: EnvArgs,
    /// Exit with status 3 when the verdict is one of these (comma-separated), e.g. `--fail-on regression,inconclusive` to gate CI.
    #[arg(long, value_delimiter = ',', value_name = "VERDICT")]
    pub fail_on: Vec<FailOn>,
    /// Print the structured result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Files to write the result to.
    #[command(flatten)]
    pub export: ExportArgs,
}

/// Flags of `abbench template`: the request's own, code from files, and
/// what only the command line has.
#[derive(Debug, Args)]
pub struct TemplateArgs {
    /// What generate_ab_script takes.
    #[command(flatten)]
    pub request: GenerateRequest,
    /// File holding `--setup`.
    #[arg(long, value_name = "FILE", conflicts_with = "setup")]
    pub setup_file: Option<PathBuf>,
    /// File holding `--call`.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "call",
        requires = "target"
    )]
    pub call_file: Option<PathBuf>,
    /// File holding `--a`, the body of bench_a.
    #[arg(long, value_name = "FILE", conflicts_with = "code_a")]
    pub a_file: Option<PathBuf>,
    /// File holding `--b`, the body of bench_b.
    #[arg(long, value_name = "FILE", conflicts_with = "code_b")]
    pub b_file: Option<PathBuf>,
    /// Replay the target's calls in this test (pytest/unittest id), captured on the base, instead of --call.
    #[arg(long, value_name = "ID", requires = "target", conflicts_with_all = ["call", "call_file", "inputs_from_command"])]
    pub inputs_from_test: Option<String>,
    /// Replay the target's calls in this workload command, captured on the base, instead of --call.
    #[arg(long, value_name = "COMMAND", requires = "target", conflicts_with_all = ["call", "call_file"])]
    pub inputs_from_command: Option<String>,
    /// With --inputs-from-*: most distinct calls kept. Default 200.
    #[arg(long, value_name = "N")]
    pub max_calls: Option<usize>,
    /// Environment variables for the checks that run the script once.
    #[command(flatten)]
    pub env: EnvArgs,
    /// Print the script instead of its path.
    #[arg(long, conflicts_with = "json")]
    pub print: bool,
    /// Print the structured result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// A token that Ctrl-C cancels: the command's process groups are killed
/// and its temporary worktrees removed before it exits with the error.
fn cancel_on_ctrl_c() -> CancellationToken {
    let cancel = CancellationToken::new();
    let on_interrupt = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_interrupt.cancel();
        }
    });
    cancel
}

/// A bar on stderr (hidden when it is not a terminal) and the progress
/// callback that drives it: waits, provisioning and the pilot's design are
/// printed above the bar; measurements go on it.
fn progress_bar(total: u64) -> (indicatif::ProgressBar, Arc<dyn Fn(Progress) + Send + Sync>) {
    let bar = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(total)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed:>4} [{bar:30}] {pos}/{len} processes  {msg}",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    let shown = bar.clone();
    let progress: Arc<dyn Fn(Progress) + Send + Sync> = Arc::new(move |p: Progress| {
        shown.set_length(p.processes_total as u64);
        shown.set_position(p.processes_done as u64);
        match &p.event {
            Event::WaitingForLock | Event::ProvisioningMemray { .. } | Event::PilotDone { .. } => {
                let line = format!("abbench: {}", p.event);
                if shown.is_hidden() {
                    eprintln!("{line}");
                } else {
                    shown.println(line);
                }
            }
            _ => shown.set_message(p.message()),
        }
    });
    (bar, progress)
}

/// `--env KEY=VALUE` flags as the requests take them.
fn env_pairs(pairs: &[String]) -> Result<std::collections::BTreeMap<String, String>> {
    let mut env = std::collections::BTreeMap::new();
    for pair in pairs {
        let (k, v) = pair
            .split_once('=')
            .with_context(|| format!("--env {pair:?}: use KEY=VALUE"))?;
        env.insert(k.to_string(), v.to_string());
    }
    Ok(env)
}

/// Exit status for a verdict: 0, or [`EXIT_GATE`] when `--fail-on` names it.
fn gate(fail_on: &[FailOn], verdict: Verdict) -> i32 {
    if !fail_on.iter().any(|f| f.matches(verdict)) {
        return 0;
    }
    eprintln!(
        "abbench: verdict {} is one --fail-on names: exit status {EXIT_GATE}",
        verdict.as_str()
    );
    EXIT_GATE
}

async fn run(args: RunArgs) -> Result<i32> {
    let mut request = args.request;
    request.env = args.env.pairs()?;
    let (bar, progress) = progress_bar(1 + request.max_pairs as u64);
    let result = bench::run_ab(&request, None, &cancel_on_ctrl_c(), progress).await;
    bar.finish_and_clear();
    let result = result?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print!("{}", render::run_summary(&result));
        for o in &result.first_output {
            print!("{}", render::process_output(o));
        }
    }
    args.export.write(Exported::Run(&result))?;
    Ok(gate(&args.fail_on, result.comparison.verdict))
}

async fn keep(args: KeepArgs) -> Result<()> {
    let request = args.request;
    let result = keep::check(&request, None, &cancel_on_ctrl_c()).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print!("{}", render::keep_summary(&result));
    }
    args.export.write(Exported::Keep(&result))
}

fn history(args: HistoryArgs) -> Result<()> {
    if let Some(run_id) = &args.request.run_id {
        let filed = history::filed(run_id, None)?;
        let (json, summary, exported) = match &filed {
            history::Filed::Run(r) => (
                serde_json::to_string_pretty(r)?,
                render::run_summary(r),
                Exported::Run(r),
            ),
            history::Filed::E2e(e) => (
                serde_json::to_string_pretty(e)?,
                render::e2e_summary(e),
                Exported::E2e(e),
            ),
        };
        if args.json {
            println!("{json}");
        } else {
            print!("{summary}");
        }
        return args.export.write(exported);
    }
    let request = args.request;
    let result = history::history(&request, None)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print!("{}", render::history_summary(&result));
    }
    args.export.write(Exported::History(&result))
}

fn compare(args: CompareArgs) -> Result<()> {
    let comparison = history::compare(&args.first, &args.second, None)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&comparison)?);
    } else {
        print!("{}", render::compare_summary(&comparison));
    }
    Ok(())
}

async fn template(args: TemplateArgs) -> Result<()> {
    let mut request = args.request;
    for (file, code, name) in [
        (args.setup_file, &mut request.setup, "setup"),
        (args.call_file, &mut request.call, "call"),
        (args.a_file, &mut request.code_a, "a"),
        (args.b_file, &mut request.code_b, "b"),
    ] {
        if let Some(file) = file {
            *code = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read --{name}-file {}", file.display()))?;
        }
    }
    request.env = args.env.pairs()?;
    if args.inputs_from_test.is_some() || args.inputs_from_command.is_some() {
        request.inputs_from = Some(crate::capture::InputsFrom {
            test: args.inputs_from_test,
            command: args.inputs_from_command,
            max_calls: args.max_calls,
            timeout_s: None,
        });
    }
    let generated = generate::generate(&request).await?;
    for warning in &generated.warnings {
        eprintln!("warning: {warning}");
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&generated)?);
    } else if args.print {
        print!("{}", generated.script);
    } else {
        println!("{}", generated.path);
        eprintln!("run A: {}", generated.commands.a.join(" && "));
        eprintln!("run B: {}", generated.commands.b.join(" && "));
    }
    Ok(())
}

/// Runs the command line; returns the process exit code.
pub async fn main(cli: Cli) -> Result<i32> {
    if let Some(Command::Watch { prefix }) = &cli.command {
        crate::process::contain::watch(prefix);
        return Ok(0);
    }
    match cli.command {
        Some(Command::Serve) => crate::mcp::serve_stdio().await.map(|()| 0),
        None if !std::io::stdin().is_terminal() => crate::mcp::serve_stdio().await.map(|()| 0),
        None => {
            Cli::command().print_help()?;
            println!("\n\nMCP clients start `abbench serve`; see `abbench help serve`.");
            Ok(0)
        }
        Some(Command::Template(args)) => template(*args).await.map(|()| 0),
        Some(Command::Run(args)) => run(*args).await,
        Some(Command::Keep(args)) => keep(*args).await.map(|()| 0),
        Some(Command::E2e(args)) => e2e::run(*args).await,
        Some(Command::History(args)) => history(*args).map(|()| 0),
        Some(Command::Compare(args)) => compare(args).map(|()| 0),
        Some(Command::Doctor(args)) => {
            let report = crate::doctor::check(&args.request, &cancel_on_ctrl_c()).await;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", render::doctor_summary(&report));
            }
            Ok(0)
        }
        Some(Command::Demo { keep }) => {
            demo::run(&mut |line| println!("{line}"), keep, &cancel_on_ctrl_c())
                .await
                .map(|()| 0)
        }
        Some(Command::Watch { .. }) => unreachable!("handled above"),
    }
}
