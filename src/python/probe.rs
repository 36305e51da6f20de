//! What an interpreter is and what it can import, asked of it with
//! abbench's probe script: version, executable, ABI tag, virtualenv,
//! memray / pytest / pip, and the PATH and VIRTUAL_ENV a launcher gave it.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::helper::Helper;
use super::scripts;

/// What the runner says about itself.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Probe {
    pub(crate) version: String,
    pub(crate) implementation: String,
    pub(crate) executable: String,
    pub(crate) platform: String,
    /// The interpreter's ABI tag, e.g. cpython-311-x86_64-linux-gnu.
    pub(crate) tag: String,
    #[serde(default)]
    pub(crate) in_virtualenv: bool,
    /// memray importable from the runner's own environment.
    pub(crate) memray: bool,
    #[serde(default)]
    pub(crate) memray_version: Option<String>,
    /// memray's version when the provisioned copy (ABBENCH_MEMRAY_PATH) imports.
    #[serde(default)]
    pub(crate) memray_provisioned: Option<String>,
    #[serde(default)]
    pub(crate) pytest: bool,
    #[serde(default)]
    pub(crate) pip: bool,
    /// pytest-benchmark importable (an e2e pytest workload reports its JSON).
    #[serde(default)]
    pub(crate) pytest_benchmark: bool,
    /// PATH as the interpreter saw it (a launcher may have changed it).
    #[serde(default)]
    pub(crate) path: Option<String>,
    /// VIRTUAL_ENV as the interpreter saw it.
    #[serde(default)]
    pub(crate) virtual_env: Option<String>,
}

impl Probe {
    /// The command measured processes run, and the environment the
    /// launcher set for it: the resolved interpreter when the runner is a
    /// launcher or shim (see [`super::runner::direct`]), else the runner.
    pub(crate) fn measured_with(
        &self,
        runner: &super::runner::Runner,
    ) -> (Vec<String>, Vec<(String, String)>) {
        match super::runner::direct(runner, &self.executable) {
            Some(exe) => {
                let mut env = Vec::new();
                if let Some(path) = &self.path {
                    env.push(("PATH".to_string(), path.clone()));
                }
                if let Some(venv) = &self.virtual_env {
                    env.push(("VIRTUAL_ENV".to_string(), venv.clone()));
                }
                (vec![exe], env)
            }
            None => (runner.argv.clone(), Vec::new()),
        }
    }
}

/// Asks `argv` (a Python command) about itself; `memray_path` is a
/// provisioned memray to try.
pub(crate) async fn probe_python(
    argv: &[String],
    cwd: Option<PathBuf>,
    env: &[(String, String)],
    memray_path: Option<&std::path::Path>,
    cancel: &CancellationToken,
) -> Result<Probe, String> {
    let mut env = env.to_vec();
    if let Some(p) = memray_path {
        env.push(("ABBENCH_MEMRAY_PATH".into(), p.display().to_string()));
    }
    let helper = Helper {
        python: argv,
        flags: &[],
        script: scripts::PROBE,
        cwd,
        env,
        timeout: Duration::from_secs(60),
    };
    helper
        .call(None::<&()>, cancel)
        .await
        .map_err(|e| e.to_string())
}
