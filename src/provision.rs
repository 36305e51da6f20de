//! Tools abbench provisions for the project's interpreter without touching
//! the project: a pinned memray, installed by that interpreter's own pip
//! (or by uv) into a folder of abbench's data directory, one folder per
//! interpreter ABI (`tools/memray-1.20.0/cpython-311-x86_64-linux-gnu/`).
//! The memory scripts append that folder to the END of `sys.path`, so it
//! can never shadow a package of the project's own.
//!
//! Installing goes into a fresh sibling folder that is renamed into place
//! once memray imports from it, under an exclusive lock, so two abbench
//! processes never see half a folder.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::process::{self, Limits, ProcessSpec};
use crate::python::runner::{self, Runner};

/// The memray abbench provisions.
pub const MEMRAY_VERSION: &str = "1.20.0";
/// How long one installer may take (a download over a slow network).
const INSTALL_TIMEOUT: Duration = Duration::from_secs(600);

/// Why memray could not be provisioned; the message names every attempt
/// and the command that would fix it.
#[derive(Debug, thiserror::Error)]
#[error("memray {MEMRAY_VERSION} could not be provisioned for `{runner}` ({executable}): {attempts}; to fix it, install memray into that environment (`{fix}`), or put uv on PATH (`python3 -m pip install uv`) so abbench can install it for this interpreter")]
pub struct ProvisionError {
    /// The runner as typed.
    pub runner: String,
    /// Its sys.executable.
    pub executable: String,
    /// What each installer said.
    pub attempts: String,
    /// The install command for the runner's environment.
    pub fix: String,
}

/// The folder tools are provisioned into: `$ABBENCH_TOOLS_DIR`, else
/// `tools/` in abbench's data directory.
pub fn tools_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("ABBENCH_TOOLS_DIR").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    crate::ledger::data_dir().ok().map(|d| d.join("tools"))
}

/// Where memray for the interpreter with ABI `tag` lives (or would).
pub fn memray_dir(tag: &str) -> Option<PathBuf> {
    let safe: String = tag
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    tools_dir().map(|t| t.join(format!("memray-{MEMRAY_VERSION}")).join(safe))
}

/// The folder is complete when its marker exists.
fn complete(dir: &Path) -> bool {
    dir.join(".abbench-complete").is_file()
}

/// Holds an exclusive flock on `path` until dropped.
struct FileLock {
    _file: File,
}

async fn lock(path: &Path, cancel: &CancellationToken) -> std::io::Result<FileLock> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    loop {
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(FileLock { _file: file });
        }
        tokio::select! {
            _ = cancel.cancelled() => return Err(std::io::Error::other("cancelled")),
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
}

/// The installers tried, in order: the runner's own pip (it knows its
/// interpreter's tags), then uv for that executable.
fn installers(runner: &Runner, executable: &str, target: &Path) -> Vec<(String, Vec<String>)> {
    let spec = format!("memray=={MEMRAY_VERSION}");
    let target = target.display().to_string();
    let mut pip = runner.argv.clone();
    pip.extend(
        [
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            "--target",
            &target,
            &spec,
        ]
        .map(String::from),
    );
    let mut out = vec![("pip".to_string(), pip)];
    if let Some(uv) = runner::find_on_path("uv") {
        out.push((
            "uv".into(),
            [
                &uv.display().to_string(),
                "pip",
                "install",
                "--quiet",
                "--target",
                &target,
                "--python",
                executable,
                &spec,
            ]
            .map(String::from)
            .to_vec(),
        ));
    }
    out
}

/// Does memray import from `dir` for this runner?
async fn imports(runner: &Runner, dir: &Path, cancel: &CancellationToken) -> Result<(), String> {
    let mut argv = runner.argv.clone();
    argv.extend([
        "-c".to_string(),
        format!(
            "import sys; sys.path.append({:?}); import memray; assert memray.__version__ == {MEMRAY_VERSION:?}, memray.__version__",
            dir.display().to_string()
        ),
    ]);
    let limits = Limits {
        timeout: Duration::from_secs(60),
        ..Limits::default()
    };
    match process::run(&ProcessSpec::new(argv), limits, cancel).await {
        Ok(f) if f.exit.success() => Ok(()),
        Ok(f) => Err(format!("it does not import: {}", f.stderr.last_lines(3))),
        Err(e) => Err(e.to_string()),
    }
}

/// A memray for `runner` (ABI `tag`, `executable`), provisioned if need be;
/// `notify` is called once before a download starts.
pub async fn memray(
    runner: &Runner,
    tag: &str,
    executable: &str,
    cancel: &CancellationToken,
    notify: impl FnOnce(&Path),
) -> Result<PathBuf, ProvisionError> {
    let fail = |attempts: String| ProvisionError {
        runner: runner.shown(),
        executable: executable.to_string(),
        attempts,
        fix: format!("{} -m pip install memray=={MEMRAY_VERSION}", runner.shown()),
    };
    let dir = memray_dir(tag).ok_or_else(|| {
        fail("no data directory to install into (set ABBENCH_TOOLS_DIR or HOME)".into())
    })?;
    if complete(&dir) {
        return Ok(dir);
    }
    let parent = dir.parent().expect("memray_dir has a parent");
    std::fs::create_dir_all(parent)
        .map_err(|e| fail(format!("cannot create {}: {e}", parent.display())))?;
    let _lock = lock(&parent.join(".lock"), cancel)
        .await
        .map_err(|e| fail(format!("cannot lock {}: {e}", parent.display())))?;
    if complete(&dir) {
        return Ok(dir); // another abbench finished it while we waited
    }
    notify(&dir);
    let mut attempts = Vec::new();
    let count = installers(runner, executable, &dir).len();
    for i in 0..count {
        let staging = tempfile::Builder::new()
            .prefix(".staging-")
            .tempdir_in(parent)
            .map_err(|e| {
                fail(format!(
                    "cannot create a folder in {}: {e}",
                    parent.display()
                ))
            })?;
        let (name, argv) = installers(runner, executable, staging.path()).swap_remove(i);
        let shown = shell_words::join(&argv);
        let limits = Limits {
            timeout: INSTALL_TIMEOUT,
            ..Limits::default()
        };
        let outcome = match process::run(&ProcessSpec::new(argv), limits, cancel).await {
            Ok(f) if f.exit.success() => imports(runner, staging.path(), cancel).await,
            Ok(f) => Err(format!("{}: {}", f.exit, f.stderr.last_lines(4))),
            Err(e) => Err(e.to_string()),
        };
        match outcome {
            Ok(()) => {
                let staged = staging.keep();
                let _ = std::fs::remove_dir_all(&dir); // an incomplete leftover
                std::fs::rename(&staged, &dir)
                    .and_then(|()| std::fs::write(dir.join(".abbench-complete"), &shown))
                    .map_err(|e| {
                        fail(format!(
                            "cannot move the install into {}: {e}",
                            dir.display()
                        ))
                    })?;
                return Ok(dir);
            }
            Err(why) => attempts.push(format!("{name} (`{shown}`) failed: {why}")),
        }
        if cancel.is_cancelled() {
            break;
        }
    }
    if runner::find_on_path("uv").is_none() {
        attempts.push("uv: not on PATH".into());
    }
    Err(fail(attempts.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_per_interpreter_and_safe() {
        let dir = memray_dir("cpython-311-x86_64-linux-gnu").unwrap();
        assert!(
            dir.ends_with("memray-1.20.0/cpython-311-x86_64-linux-gnu"),
            "{dir:?}"
        );
        let odd = memray_dir("../../etc").unwrap();
        assert!(odd.ends_with(".._.._etc"), "{odd:?}");
    }
}
