//! One way to run an embedded helper script with the project's Python:
//! JSON on stdin, one JSON document on stdout, read into the type the
//! caller expects; cancellable, bounded in time and output.

use std::path::PathBuf;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::process::{self, Exit, Limits, ProcessError, ProcessSpec};

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
}
