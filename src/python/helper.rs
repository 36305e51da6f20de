//! One way to run an embedded helper script with the project's Python:
//! JSON on stdin, one JSON document on stdout, read into the type the
//! caller expects; cancellable, bounded in time and output. Or, for the
//! checks a server repeats, a pool of long-lived line workers.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::process::{self, Exit, Limits, LineWorker, ProcessError, ProcessSpec};

/// A helper script and how to run it.
pub(crate) struct Helper<'a> {
    /// The Python command.
    pub(crate) python: &'a [String],
    /// Interpreter flags before `-c`, e.g. `["-S"]`.
    pub(crate) flags: &'a [&'a str],
    /// The script, from [`super::scripts`].
    pub(crate) script: &'a str,
    /// Working directory; the server's own when `None`.
    pub(crate) cwd: Option<PathBuf>,
    /// Variables set over the inherited environment.
    pub(crate) env: Vec<(String, String)>,
    /// Past it, the process group is killed.
    pub(crate) timeout: Duration,
}

/// Why a helper gave no answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HelperError {
    /// The caller cancelled; the process group was killed.
    #[error("cancelled")]
    Cancelled,
    /// It did not start, or ran past its timeout.
    #[error(transparent)]
    Process(ProcessError),
    /// It exited with an error.
    #[error("failed with {exit}: {stderr_tail}")]
    Failed {
        /// How it ended.
        exit: Exit,
        /// The end of its stderr.
        stderr_tail: String,
    },
    /// It printed something that is not its answer.
    #[error("did not behave like Python running abbench's helper ({problem}): stdout {stdout:?}")]
    Unreadable {
        /// serde's message.
        problem: String,
        /// The start of what it printed.
        stdout: String,
    },
}

impl Helper<'_> {
    /// The full argv: the command, the flags, `-c` and the script.
    pub(crate) fn argv(&self) -> Vec<String> {
        let mut argv = self.python.to_vec();
        argv.extend(self.flags.iter().map(|f| f.to_string()));
        argv.extend(["-c".to_string(), self.script.to_string()]);
        argv
    }

    /// Runs it with `input` on stdin (none: /dev/null) and reads its answer.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        input: Option<&impl Serialize>,
        cancel: &CancellationToken,
    ) -> Result<T, HelperError> {
        let spec = ProcessSpec {
            argv: self.argv(),
            cwd: self.cwd.clone(),
            env: self.env.clone(),
            stdin: input.map(|i| serde_json::to_vec(i).expect("helper inputs serialize")),
        };
        let limits = Limits {
            timeout: self.timeout,
            output_cap: 16 << 20,
        };
        let f = process::run(&spec, limits, cancel)
            .await
            .map_err(|e| match e {
                ProcessError::Cancelled => HelperError::Cancelled,
                e => HelperError::Process(e),
            })?;
        if !f.exit.success() {
            return Err(HelperError::Failed {
                exit: f.exit,
                stderr_tail: f.stderr.last_lines(10),
            });
        }
        serde_json::from_str(f.stdout.text.trim()).map_err(|e| HelperError::Unreadable {
            problem: e.to_string(),
            stdout: f.stdout.text.chars().take(200).collect(),
        })
    }
}

/// Long-lived helpers (`python -c <script> --serve`-style line workers),
/// one per Python command, each started on first use in its own process
/// group and killed with the server. A worker that fails or falls silent is
/// dropped, and the caller falls back to a one-shot process.
pub(crate) struct WorkerPool {
    workers: tokio::sync::Mutex<Option<HashMap<Vec<String>, LineWorker>>>,
}

impl WorkerPool {
    /// An empty pool (for a `static`).
    pub(crate) const fn new() -> Self {
        WorkerPool {
            workers: tokio::sync::Mutex::const_new(None),
        }
    }

    /// The answer of `python`'s worker (started from `spawn` when there is
    /// none) to `request`, if it gives one within `timeout`.
    pub(crate) async fn ask(
        &self,
        python: &[String],
        spawn: impl FnOnce() -> ProcessSpec,
        request: &str,
        timeout: Duration,
    ) -> Option<String> {
        let mut guard = self.workers.lock().await;
        let workers = guard.get_or_insert_with(HashMap::new);
        // Out of the pool while it works: if this call is dropped half-way
        // (a cancelled request), the worker goes with it instead of handing
        // its late answer to the next caller.
        let mut worker = match workers.remove(python) {
            Some(worker) => worker,
            None => LineWorker::spawn(&spawn()).ok()?,
        };
        let answer = worker.ask(request, timeout).await;
        if answer.is_some() {
            workers.insert(python.to_vec(), worker);
        }
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn helper(script: &str) -> Helper<'_> {
        Helper {
            python: &[],
            flags: &["-S"],
            script,
            cwd: None,
            env: Vec::new(),
            timeout: Duration::from_secs(30),
        }
    }

    #[tokio::test]
    async fn answers_errors_and_cancellation() {
        let python = ["python3".to_string()];
        let echo = Helper {
            python: &python,
            ..helper(
                "import json, sys; d = json.load(sys.stdin); print(json.dumps({'n': d['n'] + 1}))",
            )
        };
        #[derive(Debug, serde::Deserialize)]
        struct N {
            n: i64,
        }
        let cancel = CancellationToken::new();
        let n: N = echo
            .call(Some(&serde_json::json!({"n": 41})), &cancel)
            .await
            .unwrap();
        assert_eq!(n.n, 42);

        let failing = Helper {
            python: &python,
            ..helper("import sys; sys.exit('no luck')")
        };
        let err = failing.call::<N>(None::<&()>, &cancel).await.unwrap_err();
        assert!(err.to_string().contains("no luck"), "{err}");

        let chatty = Helper {
            python: &python,
            ..helper("print('hello')")
        };
        let err = chatty.call::<N>(None::<&()>, &cancel).await.unwrap_err();
        assert!(err.to_string().contains("hello"), "{err}");

        let slow = Helper {
            python: &python,
            ..helper("import time; time.sleep(30)")
        };
        cancel.cancel();
        assert!(matches!(
            slow.call::<N>(None::<&()>, &cancel).await,
            Err(HelperError::Cancelled)
        ));
    }

    /// A call dropped mid-answer takes its worker with it: the next call
    /// gets a fresh worker and its own answer, not the late one.
    #[tokio::test]
    async fn a_dropped_call_never_hands_its_answer_to_the_next() {
        static POOL: WorkerPool = WorkerPool::new();
        let python = ["python3".to_string()];
        let script = "import sys, time\nfor line in sys.stdin:\n    time.sleep(1 if line.startswith('slow') else 0)\n    print(line.strip(), flush=True)";
        let spawn = || {
            let worker = Helper {
                python: &python,
                ..helper(script)
            };
            ProcessSpec::new(worker.argv())
        };
        let dropped = tokio::time::timeout(
            Duration::from_millis(300),
            POOL.ask(&python, spawn, "slow", Duration::from_secs(10)),
        )
        .await;
        assert!(dropped.is_err(), "the slow call was meant to be dropped");
        let answer = POOL
            .ask(&python, spawn, "fast", Duration::from_secs(10))
            .await;
        assert_eq!(answer.as_deref().map(str::trim), Some("fast"));
        let again = POOL
            .ask(&python, spawn, "again", Duration::from_secs(10))
            .await;
        assert_eq!(
            again.as_deref().map(str::trim),
            Some("again"),
            "the worker stays for the next call"
        );
    }
}
