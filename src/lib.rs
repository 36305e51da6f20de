//! abbench: A/B micro-benchmarks for Python optimization agents.
//!
//! The core — script templates, process running, statistics, keep checks,
//! the ledger — knows nothing of MCP. [`mcp`] and [`cli`] are thin adapters
//! over it, so an agent's tool call and a person's command run the same code.
#![warn(missing_docs)]

pub mod bench;
pub mod cli;
pub mod demo;
pub mod doctor;
pub mod domain;
#[cfg(test)]
mod fuzz;
pub mod generate;
pub mod git;
pub mod history;
pub mod keep;
pub mod ledger;
pub mod lock;
pub mod mcp;
pub mod mcp_stdio;
pub mod measurement;
pub mod process;
pub mod provision;
pub mod python;
pub mod references;
pub mod render;
pub mod rng;
pub mod stats;
pub mod template;
pub mod testsummary;
pub mod verdict;
