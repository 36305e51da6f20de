//! The `abbench` binary: logging to stderr (stdout carries MCP), then the CLI.

use clap::Parser;

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ABBENCH_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let code = match abbench::cli::main(abbench::cli::Cli::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    };
    // Exit here rather than by returning: the runtime's shutdown would wait
    // for a blocking stdin read that may never end.
    std::process::exit(code)
}
