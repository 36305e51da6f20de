//! One measurement at a time on a machine: an advisory `flock` on a file
//! shared by every abbench process, so two agents never disturb each
//! other's numbers. Waiting is polled, so it can be cancelled and reported.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

/// Held while measuring; dropping it (closing the file) releases the lock.
#[derive(Debug)]
pub struct MachineLock {
    _file: File,
}

/// The lock file: `$ABBENCH_LOCK_FILE`, else `abbench-measure.lock` in the
/// system temp directory (machine-wide, whatever the data directory).
pub fn lock_path() -> PathBuf {
    std::env::var_os("ABBENCH_LOCK_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("abbench-measure.lock"))
}

fn try_lock(file: &File) -> bool {
    // SAFETY: flock on a file descriptor we own.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// The lock file cannot be opened.
    #[error("cannot open the lock file {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The caller cancelled while waiting.
    #[error("cancelled while waiting for another abbench measurement to finish")]
    Cancelled,
}

/// Takes the machine lock, calling `waiting` once if another process holds it.
/// Returns the lock and how long it waited.
pub async fn acquire(
    cancel: &CancellationToken,
    waiting: impl FnOnce(),
) -> Result<(MachineLock, Duration), LockError> {
    let path = lock_path();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .or_else(|_| File::open(&path)) // someone else's file: flock works read-only too
        .map_err(|source| LockError::Open {
            path: path.clone(),
            source,
        })?;
    let start = Instant::now();
    let mut waiting = Some(waiting);
    while !try_lock(&file) {
        if let Some(notify) = waiting.take() {
            notify();
        }
        tokio::select! {
            _ = cancel.cancelled() => return Err(LockError::Cancelled),
            _ = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    }
    Ok((MachineLock { _file: file }, start.elapsed()))
}
