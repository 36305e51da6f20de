//! The command line: the same core calls as the MCP tools, for people.
//! Raw flags here; the core gets the same request types the MCP adapter builds.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, CommandFactory, Parser, Subcommand};

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::bench::{self, Event, Isolation, Progress, RunRequest};
use self::export::{Exported, Exporter};
use crate::generate::{self, GenerateRequest};
use crate::history::{self, HistoryRequest};
use crate::keep::{self, KeepRequest};
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

/// How A's and B's results are compared before timing (template and run).
#[derive(Debug, Args, Default)]
pub struct EquivalenceArgs {
    /// Check that B computes what A computes before timing: strict (default), unordered (lists as multisets), off.
    #[arg(long, value_name = "MODE", default_value = "strict")]
    pub equivalence: crate::equivalence::EquivalenceMode,
    /// Relative tolerance for comparing floats (default 1e-9).
    #[arg(long, value_name = "F")]
    pub rel_tol: Option<f64>,
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

/// Flags of `abbench keep`.
#[derive(Debug, Args)]
pub struct KeepArgs {
    /// The run_id from `abbench run` / run_ab_benchmark.
    #[arg(long)]
    pub run_id: String,
    /// The project's git work tree, with the change applied.
    #[arg(long)]
    pub repo: PathBuf,
    /// The full test suite command, e.g. 'python3 -m pytest -q' (split into words, no shell).
    #[arg(long)]
    pub test_command: String,
    /// The optimized function: path/file.py::func, path/file.py::Class.method or pkg.module.func (default: the run's target, for a script generated with --target).
    #[arg(long = "function")]
    pub target_function: Option<String>,
    /// The test that exercises it: a pytest node id or path, or a script (not needed with --e2e-run-id of a run that timed the function).
    #[arg(long = "test")]
    pub target_test: Option<String>,
    /// An `abbench e2e` run of this change: the improvement is judged on its end-to-end verdict.
    #[arg(long)]
    pub e2e_run_id: Option<String>,
    /// The base revision (default: the commit the run's A came from, for a script generated with --target; else HEAD).
    #[arg(long)]
    pub base: Option<String>,
    /// The project's Python command (default: detected in --repo).
    #[arg(long)]
    pub runner: Option<String>,
    /// Most net added lines (default 30).
    #[arg(long)]
    pub max_added_lines: Option<i64>,
    /// Most files changed (default 3).
    #[arg(long)]
    pub max_files: Option<usize>,
    /// Most complexity increase of a changed function (default 2).
    #[arg(long)]
    pub max_complexity_increase: Option<i64>,
    /// Least share of the target test's time on the base (default by domain: 0.05 or 0).
    #[arg(long)]
    pub min_hot_share: Option<f64>,
    /// Timeout of the test command and each profile, seconds (default 900).
    #[arg(long)]
    pub tests_timeout_s: Option<f64>,
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
    /// The project directory, or a folder in it (default: the current one).
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// The project's Python command (default: detected from --cwd as `abbench run` does).
    #[arg(long)]
    pub runner: Option<String>,
    /// Print the structured report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `abbench history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only scripts whose path contains this (e.g. the benchmark name).
    #[arg(long)]
    pub name: Option<String>,
    /// Only this domain.
    #[arg(long)]
    pub domain: Option<String>,
    /// Only runs with a decision about a function containing this.
    #[arg(long)]
    pub function: Option<String>,
    /// Most runs (default 20).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Only runs at or after this RFC 3339 time.
    #[arg(long)]
    pub since: Option<String>,
    /// Print this one run whole, as `abbench run` printed it (the filters do not apply).
    #[arg(long, conflicts_with_all = ["name", "domain", "function", "limit", "since"])]
    pub run_id: Option<String>,
    /// Print the structured result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Files to write the listing (or the run) to.
    #[command(flatten)]
    pub export: ExportArgs,
}

/// Flags of `abbench run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The A/B script (`python SCRIPT a|b` runs a variant).
    pub script: PathBuf,
    /// cpu, data_structures, async, memory or structure (default: read from a generated script).
    #[arg(long)]
    pub domain: Option<String>,
    /// The project's Python command, e.g. ".venv/bin/python" or "uv run python" (default: detected in --cwd).
    #[arg(long)]
    pub runner: Option<String>,
    /// Working directory of every process (default: the current one).
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// An environment variable for the variants, KEY=VALUE (repeat for more).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Time domains: gain to beat, as a fraction (default 0.20).
    #[arg(long)]
    pub min_gain: Option<f64>,
    /// Memory: bytes to save (default 10485760 = 10 MiB).
    #[arg(long)]
    pub min_saved_bytes: Option<u64>,
    /// Memory: fraction of A's peak to save (default 0.10).
    #[arg(long)]
    pub min_saved_fraction: Option<f64>,
    /// paired (both variants in each process; default for time domains) or process (one variant per process; always for memory).
    #[arg(long)]
    pub isolation: Option<Isolation>,
    /// Pairs (paired: processes) before the first look (default: by design, 6 paired, 5 process, 4 memory).
    #[arg(long)]
    pub min_pairs: Option<usize>,
    /// Most pairs (default 30).
    #[arg(long)]
    pub max_pairs: Option<usize>,
    /// Wall-clock budget in seconds (default 300).
    #[arg(long)]
    pub max_seconds: Option<f64>,
    /// Timeout of one process in seconds (default 120).
    #[arg(long)]
    pub timeout_s: Option<f64>,
    /// Seed of the A/B order inside pairs.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Memory: fail instead of falling back to tracemalloc when memray is missing.
    #[arg(long)]
    pub no_fallback: bool,
    /// Print what the first counted process of each variant printed (stdout and stderr, up to 4 KiB each).
    #[arg(long)]
    pub show_output: bool,
    /// How A's and B's results are compared before timing.
    #[command(flatten)]
    pub equivalence: EquivalenceArgs,
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

/// Flags of `abbench template`.
#[derive(Debug, Args)]
pub struct TemplateArgs {
    /// Benchmark name, [A-Za-z0-9_]{1,64}; the file is micro_bench_<name>.py.
    #[arg(long)]
    pub name: String,
    /// cpu (alias data_structures), async, memory or structure.
    #[arg(long)]
    pub domain: String,
    /// Setup code run once at module level (imports, the real input).
    #[arg(long, conflicts_with = "setup_file")]
    pub setup: Option<String>,
    /// File holding the setup code.
    #[arg(long, value_name = "FILE")]
    pub setup_file: Option<PathBuf>,
    /// Revision form: what is optimised, path/file.py::func or path/file.py::Class.method (repeat for a helper changed with it). A runs it as committed at --base, B from the work tree.
    #[arg(long = "target", value_name = "FILE::NAME", conflicts_with_all = ["code_a", "a_file", "code_b", "b_file"])]
    pub targets: Vec<String>,
    /// Revision form: the statements both variants run, e.g. "return count_known(ORDERS, CATALOGUE)".
    #[arg(
        long,
        value_name = "CODE",
        conflicts_with = "call_file",
        requires = "targets"
    )]
    pub call: Option<String>,
    /// Revision form: file holding `call`.
    #[arg(long, value_name = "FILE", requires = "targets")]
    pub call_file: Option<PathBuf>,
    /// Revision form: the revision A runs (default HEAD).
    #[arg(long, value_name = "REV", requires = "targets")]
    pub base: Option<String>,
    /// Revision form: a revision B runs instead of the work tree.
    #[arg(long, value_name = "REV", requires = "targets")]
    pub candidate: Option<String>,
    /// Revision form: the git work tree (default: --cwd).
    #[arg(long, value_name = "DIR", requires = "targets")]
    pub repo: Option<PathBuf>,
    /// Free form: body of bench_a, the current approach.
    #[arg(
        long = "a",
        value_name = "CODE",
        conflicts_with = "a_file",
        required_unless_present_any = ["a_file", "targets"]
    )]
    pub code_a: Option<String>,
    /// File holding the body of bench_a.
    #[arg(long, value_name = "FILE")]
    pub a_file: Option<PathBuf>,
    /// Free form: body of bench_b, the optimized approach.
    #[arg(
        long = "b",
        value_name = "CODE",
        conflicts_with = "b_file",
        required_unless_present_any = ["b_file", "targets"]
    )]
    pub code_b: Option<String>,
    /// File holding the body of bench_b.
    #[arg(long, value_name = "FILE")]
    pub b_file: Option<PathBuf>,
    /// cpu/structure: calls per repeat (default: calibrated to ~0.05-0.2 s per repeat).
    #[arg(long)]
    pub number: Option<u32>,
    /// Repeats (cpu/structure) or timed batches (async) per process; default 5.
    #[arg(long)]
    pub repeat: Option<u32>,
    /// async: coroutines gathered at once; default 10.
    #[arg(long)]
    pub concurrency: Option<u32>,
    /// structure: a module whose import is timed (repeat the flag for more).
    #[arg(long = "module", value_name = "MODULE")]
    pub modules: Vec<String>,
    /// Directory to write into (default: the system temp directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// The project's Python command (default: detected from --cwd as `abbench run` does).
    #[arg(long, alias = "python")]
    pub runner: Option<String>,
    /// Where the script will run: the project root or a folder in it (default: the current directory).
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// An environment variable for the checks that run the script once, KEY=VALUE, as `abbench run --env` (repeat for more).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// How A's and B's results are compared when each runs once.
    #[command(flatten)]
    pub equivalence: EquivalenceArgs,
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

fn inline_or_file(inline: Option<String>, file: Option<PathBuf>, flag: &str) -> Result<String> {
    match (inline, file) {
        (Some(code), _) => Ok(code),
        (None, Some(path)) => std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read --{flag}-file {}", path.display())),
        (None, None) => Ok(String::new()),
    }
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
    let env = env_pairs(&args.env)?;
    let d = RunRequest::default();
    let request = RunRequest {
        script: args.script,
        domain: args.domain.map(|d| d.parse()).transpose()?,
        runner: args.runner,
        cwd: args.cwd,
        env,
        min_gain: args.min_gain,
        min_saved_bytes: args.min_saved_bytes,
        min_saved_fraction: args.min_saved_fraction,
        isolation: args.isolation,
        min_pairs: args.min_pairs,
        max_pairs: args.max_pairs.unwrap_or(d.max_pairs),
        max_seconds: args.max_seconds.unwrap_or(d.max_seconds),
        timeout_s: args.timeout_s.unwrap_or(d.timeout_s),
        seed: args.seed,
        allow_fallback: !args.no_fallback,
        show_output: args.show_output,
        equivalence: args.equivalence.equivalence,
        rel_tol: args.equivalence.rel_tol,
    };
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
    let d = KeepRequest::default();
    let request = KeepRequest {
        run_id: args.run_id,
        repo: args.repo,
        test_command: args.test_command,
        target_function: args.target_function.unwrap_or_default(),
        target_test: args.target_test.unwrap_or_default(),
        e2e_run_id: args.e2e_run_id,
        base: args.base,
        runner: args.runner,
        max_added_lines: args.max_added_lines.unwrap_or(d.max_added_lines),
        max_files: args.max_files.unwrap_or(d.max_files),
        max_complexity_increase: args
            .max_complexity_increase
            .unwrap_or(d.max_complexity_increase),
        min_hot_share: args.min_hot_share,
        tests_timeout_s: args.tests_timeout_s.unwrap_or(d.tests_timeout_s),
    };
    let result = keep::check(&request, None, &cancel_on_ctrl_c()).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print!("{}", render::keep_summary(&result));
    }
    args.export.write(Exported::Keep(&result))
}

fn history(args: HistoryArgs) -> Result<()> {
    if let Some(run_id) = &args.run_id {
        let run = history::run(run_id, None)?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&run)?);
        } else {
            print!("{}", render::run_summary(&run));
        }
        return args.export.write(Exported::Run(&run));
    }
    let d = HistoryRequest::default();
    let request = HistoryRequest {
        name: args.name,
        domain: args.domain.map(|d| d.parse()).transpose()?,
        function: args.function,
        limit: args.limit.unwrap_or(d.limit),
        since: args.since,
    };
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
    let request = GenerateRequest {
        name: args.name,
        domain: args.domain.parse()?,
        setup: inline_or_file(args.setup, args.setup_file, "setup")?,
        code_a: inline_or_file(args.code_a, args.a_file, "a")?,
        code_b: inline_or_file(args.code_b, args.b_file, "b")?,
        target: args.targets,
        call: inline_or_file(args.call, args.call_file, "call")?,
        base: args.base,
        candidate: args.candidate,
        repo: args.repo,
        number: args.number,
        repeat: args.repeat,
        concurrency: args.concurrency,
        modules: args.modules,
        dir: args.dir,
        runner: args.runner,
        cwd: args.cwd,
        env: env_pairs(&args.env)?,
        equivalence: args.equivalence.equivalence,
        rel_tol: args.equivalence.rel_tol,
    };
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
            let report = crate::doctor::check(
                &crate::doctor::DoctorRequest {
                    cwd: args.cwd,
                    runner: args.runner,
                    env: Default::default(),
                },
                &cancel_on_ctrl_c(),
            )
            .await;
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
    }
}
