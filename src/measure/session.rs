//! The frame every measurement runs in, whichever tool starts it: ask the
//! runner what it is ([`probe`]), provision memray for a memory run
//! ([`memray`]), hold the machine lock while the processes run and note
//! the load ([`Session`]), record the interpreter and machine
//! ([`Session::end`]), and file the result in the ledger ([`file`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::environment::Environment;
use super::lock::MachineLock;
use super::progress::Event;
use super::warnings::{self, RunWarning};
use super::{load_average, machine_lock, RunError};
use crate::ledger::{self, RunRecord};
use crate::python::probe::{probe_python, Probe};
use crate::python::runner::Runner;

/// Asks `runner` (in `cwd`, with `env`) for its version, executable and
/// what it imports; an error names the runner and why it was chosen.
pub(crate) async fn probe(
    runner: &Runner,
    cwd: &Path,
    env: &[(String, String)],
    memray_path: Option<&Path>,
    cancel: &CancellationToken,
) -> Result<Probe, RunError> {
    probe_python(
        &runner.argv,
        Some(cwd.to_path_buf()),
        env,
        memray_path,
        cancel,
    )
    .await
    .map_err(|e| {
        if cancel.is_cancelled() {
            RunError::Cancelled
        } else {
            RunError::Runner(format!(
                "runner `{}` ({}) {e}; pass `runner` naming a working Python command",
                runner.shown(),
                runner.chosen_because
            ))
        }
    })
}

/// memray for a memory run: `None` when the runner imports its own, else
/// a copy provisioned for its interpreter outside the project (announced
/// through `notify`); `Err` says why it could not be provisioned.
pub(crate) async fn memray(
    runner: &Runner,
    probe: &Probe,
    cancel: &CancellationToken,
    notify: &(dyn Fn(Event) + Sync),
) -> Result<Option<PathBuf>, RunError> {
    if probe.memray {
        return Ok(None);
    }
    crate::provision::memray(runner, &probe.tag, &probe.executable, cancel, |dir| {
        notify(Event::ProvisioningMemray {
            runner: runner.shown(),
            version: crate::provision::MEMRAY_VERSION,
            dir: dir.to_path_buf(),
        })
    })
    .await
    .map(Some)
    .map_err(|e| {
        if cancel.is_cancelled() {
            RunError::Cancelled
        } else {
            RunError::Runner(e.to_string())
        }
    })
}

/// A measurement under way: the machine lock held (when it could be
/// taken) and the load when it started.
pub(crate) struct Session {
    load_start: Option<f64>,
    lock: Option<MachineLock>,
    /// How long the run waited for another measurement.
    pub(crate) lock_wait: Duration,
    /// The session's own warnings (no lock).
    pub(crate) warnings: Vec<RunWarning>,
}

impl Session {
    /// Notes the load and takes the machine lock, waiting (cancellably, and
    /// said through `notify`) for another measurement; without a usable
    /// lock file the run goes on with a warning.
    pub(crate) async fn begin(
        cancel: &CancellationToken,
        notify: &(dyn Fn(Event) + Sync),
    ) -> Result<Session, RunError> {
        let load_start = load_average();
        let mut warnings = Vec::new();
        let (lock, lock_wait) = machine_lock(cancel, notify, &mut warnings).await?;
        Ok(Session {
            load_start,
            lock,
            lock_wait,
            warnings,
        })
    }

    /// Releases the lock as soon as the processes are done.
    pub(crate) fn release(&mut self) {
        self.lock = None;
    }

    /// The lock released; the interpreter and machine as the run saw them,
    /// and every warning of the session (no lock, a loaded machine, a
    /// frequency governor other than `performance`).
    pub(crate) fn end(mut self, probe: Probe) -> (Environment, Vec<RunWarning>) {
        self.release();
        let cores = std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1);
        let load_end = load_average();
        let mut found = self.warnings;
        found.extend(warnings::machine_load(self.load_start, load_end, cores));
        let environment = Environment::new(probe, cores, self.load_start, load_end);
        found.extend(warnings::governor(&environment.hardware));
        (environment, found)
    }
}

/// Files `record` in the ledger in `dir` (the configured one when `None`);
/// what went wrong, if anything, as the warning the result carries.
pub(crate) async fn file<Q, R>(record: RunRecord<Q, R>, dir: Option<&Path>) -> Option<RunWarning>
where
    Q: Serialize + Send + 'static,
    R: Serialize + Send + 'static,
{
    let run_id = record.run_id.clone();
    match ledger::file_run(record, dir).await {
        Ok(set_aside) => set_aside.map(|message| RunWarning::LedgerSetAside { message }),
        Err(problem) => Some(RunWarning::NotRecorded { problem, run_id }),
    }
}
