//! The command line: the same core calls as the MCP tools, for people.
//! Raw flags here; the core gets the same request types the MCP adapter builds.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::generate::{self, GenerateRequest};
use crate::template::ScriptSpec;

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
    /// Body of bench_a, the current approach.
    #[arg(
        long = "a",
        value_name = "CODE",
        conflicts_with = "a_file",
        required_unless_present = "a_file"
    )]
    pub code_a: Option<String>,
    /// File holding the body of bench_a.
    #[arg(long, value_name = "FILE")]
    pub a_file: Option<PathBuf>,
    /// Body of bench_b, the optimized approach.
    #[arg(
        long = "b",
        value_name = "CODE",
        conflicts_with = "b_file",
        required_unless_present = "b_file"
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
    /// Python command used for the compile check (default python3).
    #[arg(long)]
    pub python: Option<String>,
    /// Print the script instead of its path.
    #[arg(long, conflicts_with = "json")]
    pub print: bool,
    /// Print the structured result as JSON.
    #[arg(long)]
    pub json: bool,
}

fn inline_or_file(inline: Option<String>, file: Option<PathBuf>, flag: &str) -> Result<String> {
    match (inline, file) {
        (Some(code), _) => Ok(code),
        (None, Some(path)) => std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read --{flag}-file {}", path.display())),
        (None, None) => Ok(String::new()),
    }
}

async fn template(args: TemplateArgs) -> Result<()> {
    let domain = args.domain.parse()?;
    let request = GenerateRequest {
        spec: ScriptSpec {
            name: args.name,
            domain: Some(domain),
            setup: inline_or_file(args.setup, args.setup_file, "setup")?,
            code_a: inline_or_file(args.code_a, args.a_file, "a")?,
            code_b: inline_or_file(args.code_b, args.b_file, "b")?,
            number: args.number,
            repeat: args.repeat,
            concurrency: args.concurrency,
            modules: args.modules,
        },
        dir: args.dir,
        python: args.python,
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
pub async fn main(cli: Cli) -> Result<()> {
    match cli.command {
        Some(Command::Serve) => crate::mcp::serve_stdio().await,
        None if !std::io::stdin().is_terminal() => crate::mcp::serve_stdio().await,
        None => {
            Cli::command().print_help()?;
            println!("\n\nMCP clients start `abbench serve`; see `abbench help serve`.");
            Ok(())
        }
        Some(Command::Template(args)) => template(*args).await,
    }
}
