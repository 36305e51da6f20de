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
//! Underneath, one measuring engine, [`measure`], which both measuring
//! tools stand on and which depends on neither: the arms, the
//! process-isolation schedule behind the `Executor` seam (the seam a mock
//! replaces in tests), the machine lock and load, progress events,
//! warnings, the environment record, and the session every run goes
//! through (probe, memray, lock, environment, ledger). [`bench`] adds the
//! micro run's paired design and its Python executor, [`e2e`] the
//! workload executor over a base worktree; both judge with [`verdict`]
//! over [`stats`]. Before anything is timed, [`equivalence`] checks that B
//! computes what A computes. Every child process goes through [`process`]
//! (own process group, timeouts, cancellation, nothing left behind);
//! [`python`] knows the project's interpreter and runs abbench's embedded
//! helpers; [`ledger`] files runs and decisions in SQLite and reads them
//! back typed; [`provision`] installs memray outside the project.
//!
//! The two adapters live in their own folders: [`mcp`] (the server, tasks,
//! the stdio guard, logging, portable schemas, the reference documents) and
//! [`cli`] (commands, the text summaries, exports, the demo).
#![warn(missing_docs)]

pub mod bench;
pub mod capture;
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
pub mod measure;

pub mod mcp;
pub mod measurement;
pub mod process;
pub mod provision;
pub mod python;
pub mod revision;

pub mod stats;
pub mod template;
pub mod testsummary;
pub mod verdict;
