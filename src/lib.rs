//! abbench: A/B micro-benchmarks for Python optimization agents.
//!
//! The core knows nothing of MCP. Each tool is one request type and one
//! function in the core; [`mcp`] takes the request type as its parameters
//! and [`cli`] converts its flags into it, so an agent's tool call and a
//! person's command run the same code.
//!
//! | tool | request → result | module |
//! |---|---|---|
//! | `generate_ab_script` | [`generate::GenerateRequest`] → [`generate::GeneratedScript`] | [`generate`] over [`template`] (and [`revision`]: A from git) |
//! | `run_ab_benchmark` | [`bench::RunRequest`] → [`bench::RunResult`] | [`bench`] |
//! | `run_e2e_benchmark` | [`e2e::E2eRequest`] → [`e2e::E2eResult`] | [`e2e`] over [`git`] and [`bench`]'s schedule |
//! | `check_keep_conditions` | [`keep::KeepRequest`] → [`keep::KeepResult`] | [`keep`] over [`git`] |
//! | `benchmark_history` | [`history::HistoryRequest`] → [`history::HistoryResult`] | [`history`] |
//! | `check_environment` | [`doctor::DoctorRequest`] → [`doctor::EnvironmentReport`] | [`doctor`] |
//!
//! Underneath: [`bench`] plans a run ([`domain`]'s thresholds), lets a
//! schedule drive an `Executor` (the seam a mock replaces in tests), and
//! judges it with [`verdict`] over [`stats`]; every child process goes
//! through [`process`] (own process group, timeouts, cancellation, nothing
//! left behind); [`python`] knows the project's interpreter and runs
//! abbench's embedded helpers; [`ledger`] files runs and decisions in
//! SQLite and reads them back typed; [`provision`] installs memray outside
//! the project; [`render`] is the CLI's text; [`references`] the documents
//! served as MCP resources.
#![warn(missing_docs)]

pub mod bench;
pub mod cli;
pub mod doctor;
pub mod domain;
pub mod e2e;
pub mod equivalence;
#[cfg(test)]
mod fuzz;
pub mod generate;
pub mod git;
pub mod history;
pub mod keep;
pub mod ledger;
pub mod lock;
pub mod machine;
pub mod mcp;
pub mod measurement;
pub mod process;
pub mod provision;
pub mod python;
pub mod revision;
pub mod rng;
pub mod stats;
pub mod template;
pub mod testsummary;
pub mod verdict;
