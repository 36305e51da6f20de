//! Runs one child process the way a benchmark needs it run.
//!
//! - The child gets its own process group and a null stdin (or the bytes we
//!   hand it), so it can never block on the terminal and all of its
//!   descendants can be signalled together.
//! - stdout and stderr are read concurrently while it runs (a full pipe never
//!   deadlocks) into buffers capped at head + tail, cut while reading, so a
//!   flood of output costs bounded memory.
//! - One `select!` waits for exit, the timeout and cancellation together. On
//!   timeout the group gets SIGTERM, a short grace period, then SIGKILL; on
//!   cancellation SIGKILL at once.
//! - However the call ends — exit, timeout, cancellation, or the future being
//!   dropped — the whole group is killed, so nothing it started survives;
//!   and whatever left the group (`setsid()`) or was re-parented away is
//!   found by the tag every child carries in its environment, killed, and
//!   reported in [`Finished::leftovers`] (see [`contain`]).
//!
//! Nothing here ever goes through a shell: argv words are passed as they are.

use std::collections::VecDeque;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

pub mod contain;
pub use contain::Leftover;

/// How long a timed-out group gets between SIGTERM and SIGKILL.
const TERM_GRACE: Duration = Duration::from_millis(500);
/// How long to wait for the pipes to close once the group is dead.
const PIPE_DRAIN: Duration = Duration::from_secs(2);

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct ProcessSpec {
    /// Program and arguments, never given to a shell.
    pub argv: Vec<String>,
    /// Working directory; the server's own when `None`.
    pub cwd: Option<PathBuf>,
    /// Variables set over the inherited environment.
    pub env: Vec<(String, String)>,
    /// Bytes written to stdin (then closed); stdin is /dev/null when `None`.
    pub stdin: Option<Vec<u8>>,
}

impl ProcessSpec {
    /// A spec for `argv` with everything else default.
    pub fn new(argv: Vec<String>) -> Self {
        ProcessSpec {
            argv,
            ..Default::default()
        }
    }

    /// The command as a person would type it (shell-quoted, for display only).
    pub fn display(&self) -> String {
        shell_words::join(&self.argv)
    }
}

/// Bounds on one run.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Wall time after which the group is killed.
    pub timeout: Duration,
    /// Bytes kept per stream (half from the start, half from the end).
    pub output_cap: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(120),
            output_cap: 1 << 20,
        }
    }
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Exited with this code.
    Code(i32),
    /// Killed by this signal.
    Signal(i32),
}

impl Exit {
    /// True for exit code 0.
    pub fn success(self) -> bool {
        self == Exit::Code(0)
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Code(c) => write!(f, "exit code {c}"),
            Exit::Signal(s) => write!(f, "signal {s} ({})", signal_name(*s)),
        }
    }
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGABRT => "SIGABRT",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGILL => "SIGILL",
        libc::SIGPIPE => "SIGPIPE",
        _ => "signal",
    }
}

/// Output kept from one stream.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    /// Head and tail of the stream (lossy UTF-8), with a marker where bytes were cut.
    pub text: String,
    /// Bytes the stream produced in all.
    pub total_bytes: u64,
    /// Bytes dropped from the middle to stay under the cap.
    pub dropped_bytes: u64,
}

impl Captured {
    /// The last `n` lines of the kept text.
    pub fn last_lines(&self, n: usize) -> String {
        let lines: Vec<&str> = self.text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

/// A process that ran to its end.
#[derive(Debug, Clone)]
pub struct Finished {
    /// How it ended.
    pub exit: Exit,
    /// Its stdout, capped.
    pub stdout: Captured,
    /// Its stderr, capped.
    pub stderr: Captured,
    /// Wall time from spawn to exit.
    pub wall: Duration,
    /// Descendants found alive outside its group after it exited, and killed.
    pub leftovers: Vec<Leftover>,
}

/// Why a process did not run to its end.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// Empty argv.
    #[error("empty command: give at least the program to run")]
    EmptyCommand,
    /// The program does not exist (or is not on PATH).
    #[error("cannot start {program:?}: not found (check the path, or that it is on PATH)")]
    NotFound {
        /// argv\[0\].
        program: String,
    },
    /// The working directory does not exist.
    #[error("cannot start {program:?}: working directory {cwd:?} does not exist")]
    MissingCwd {
        /// argv\[0\].
        program: String,
        /// The directory asked for.
        cwd: PathBuf,
    },
    /// Any other spawn failure (permissions, exec format, limits).
    #[error("cannot start {program:?}: {source}")]
    Spawn {
        /// argv\[0\].
        program: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Ran past the timeout; the group was killed.
    #[error("timed out after {:.1} s; its process group was killed", after.as_secs_f64())]
    TimedOut {
        /// The timeout that expired.
        after: Duration,
        /// Output up to the kill.
        stdout: Captured,
        /// Error output up to the kill.
        stderr: Captured,
    },
    /// The caller cancelled; the group was killed.
    #[error("cancelled; its process group was killed")]
    Cancelled,
}

/// Process groups started by [`run`] and not yet killed, so a server that
/// is shutting down can kill them all before it exits.
static LIVE_GROUPS: std::sync::Mutex<Vec<libc::pid_t>> = std::sync::Mutex::new(Vec::new());

/// SIGKILLs every process group still running, and every descendant that
/// left its group. For shutdown paths where the tasks that own the groups
/// may never get to run their destructors.
pub fn kill_all_groups() {
    let groups = LIVE_GROUPS.lock().map(|g| g.clone()).unwrap_or_default();
    for pgid in groups {
        // SAFETY: killpg only sends a signal; a stale group yields ESRCH.
        unsafe {
            libc::killpg(pgid, libc::SIGKILL);
        }
    }
    let prefix = contain::own_prefix();
    contain::sweep(&|t: &str| t.starts_with(prefix), None);
}

/// Kills the whole process group, and what left it, when finished or
/// dropped: the last line of defence against a grandchild outliving its
/// call.
struct GroupGuard {
    pgid: libc::pid_t,
    /// The child's `ABBENCH_TAG`.
    tag: String,
    finished: bool,
}

impl GroupGuard {
    fn new(pgid: libc::pid_t, tag: String) -> Self {
        if let Ok(mut groups) = LIVE_GROUPS.lock() {
            groups.push(pgid);
        }
        GroupGuard {
            pgid,
            tag,
            finished: false,
        }
    }

    fn signal(&self, sig: libc::c_int) {
        // SAFETY: killpg only sends a signal; a stale group yields ESRCH.
        unsafe {
            libc::killpg(self.pgid, sig);
        }
    }

    /// Kills the group and every tagged process outside it; returns those.
    fn finish(&mut self) -> Vec<Leftover> {
        self.finished = true;
        self.signal(libc::SIGKILL);
        if let Ok(mut groups) = LIVE_GROUPS.lock() {
            groups.retain(|&g| g != self.pgid);
        }
        contain::sweep_tag(&self.tag, self.pgid)
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if !self.finished {
            self.finish();
        }
    }
}

/// Head + tail buffer, cut while reading so memory stays bounded.
struct CappedBuffer {
    half: usize,
    head: Vec<u8>,
    tail: VecDeque<u8>,
    total: u64,
}

impl CappedBuffer {
    fn new(cap: usize) -> Self {
        CappedBuffer {
            half: cap / 2,
            head: Vec::new(),
            tail: VecDeque::new(),
            total: 0,
        }
    }

    fn push(&mut self, mut data: &[u8]) {
        self.total += data.len() as u64;
        if self.head.len() < self.half {
            let take = (self.half - self.head.len()).min(data.len());
            self.head.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        if data.len() >= self.half {
            self.tail.clear();
            self.tail.extend(&data[data.len() - self.half..]);
        } else {
            self.tail.extend(data);
            let excess = self.tail.len().saturating_sub(self.half);
            self.tail.drain(..excess);
        }
    }

    fn finish(self) -> Captured {
        let kept = (self.head.len() + self.tail.len()) as u64;
        let dropped = self.total - kept;
        let mut bytes = self.head;
        if dropped > 0 {
            bytes.extend_from_slice(
                format!("\n[... abbench dropped {dropped} bytes of output here ...]\n").as_bytes(),
            );
        }
        bytes.extend(self.tail);
        Captured {
            text: String::from_utf8_lossy(&bytes).into_owned(),
            total_bytes: self.total,
            dropped_bytes: dropped,
        }
    }
}

async fn read_capped<R: AsyncRead + Unpin>(mut reader: R, cap: usize) -> Captured {
    let mut buffer = CappedBuffer::new(cap);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match reader.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buffer.push(&chunk[..n]),
        }
    }
    buffer.finish()
}

async fn collect(task: Option<tokio::task::JoinHandle<Captured>>) -> Captured {
    let Some(task) = task else {
        return Captured::default();
    };
    let abort = task.abort_handle();
    match tokio::time::timeout(PIPE_DRAIN, task).await {
        Ok(Ok(captured)) => captured,
        _ => {
            // A descendant that left the group still holds the pipe open.
            abort.abort();
            Captured {
                text: "[abbench: output unavailable: the pipe stayed open after the process group was killed]".into(),
                ..Default::default()
            }
        }
    }
}

/// Starts `spec` in a process group of its own, registered for shutdown,
/// with its stdout and stderr piped (`stderr` may be null instead).
fn spawn(
    spec: &ProcessSpec,
    program: &str,
    stdin: Stdio,
    stderr: Stdio,
) -> Result<(tokio::process::Child, GroupGuard), ProcessError> {
    contain::ensure_watchdog();
    let tag = contain::new_tag();
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(&spec.argv[1..])
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .env(contain::TAG_VAR, &tag)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .process_group(0)
        .kill_on_drop(true);
    // If abbench itself is killed outright (SIGKILL), no destructor runs:
    // the kernel then kills the direct child for us.
    #[cfg(target_os = "linux")]
    // SAFETY: prctl is async-signal-safe and touches only the child.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    if let Some(cwd) = &spec.cwd {
        cmd.current_dir(cwd);
    }
    let child = cmd.spawn().map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => ProcessError::NotFound {
            program: program.to_string(),
        },
        _ => ProcessError::Spawn {
            program: program.to_string(),
            source,
        },
    })?;
    let guard = GroupGuard::new(
        child.id().expect("a freshly spawned child has a pid") as libc::pid_t,
        tag,
    );
    Ok((child, guard))
}

/// A long-lived child that answers one line on stdout for each line on its
/// stdin (a worker that saves an interpreter start per request). Started as
/// [`run`] starts its children — own process group, killed with abbench,
/// in the shutdown registry — and its group is killed when it is dropped.
/// Its stderr is discarded.
pub struct LineWorker {
    stdin: tokio::process::ChildStdin,
    stdout: tokio::io::BufReader<tokio::process::ChildStdout>,
    _child: tokio::process::Child,
    _guard: GroupGuard,
}

impl LineWorker {
    /// Starts the worker; `spec.stdin` is ignored.
    pub fn spawn(spec: &ProcessSpec) -> Result<LineWorker, ProcessError> {
        let program = spec.argv.first().ok_or(ProcessError::EmptyCommand)?.clone();
        let (mut child, guard) = spawn(spec, &program, Stdio::piped(), Stdio::null())?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            unreachable!("both pipes were asked for");
        };
        Ok(LineWorker {
            stdin,
            stdout: tokio::io::BufReader::new(stdout),
            _child: child,
            _guard: guard,
        })
    }

    /// Sends `request` (one line, without its newline) and reads one line
    /// back; `None` when the worker is gone, or silent past `timeout`
    /// (then it should be dropped).
    pub async fn ask(&mut self, request: &str, timeout: Duration) -> Option<String> {
        use tokio::io::AsyncBufReadExt;
        let exchange = async {
            self.stdin.write_all(request.as_bytes()).await.ok()?;
            self.stdin.write_all(b"\n").await.ok()?;
            self.stdin.flush().await.ok()?;
            let mut line = String::new();
            match self.stdout.read_line(&mut line).await {
                Ok(n) if n > 0 => Some(line),
                _ => None,
            }
        };
        tokio::time::timeout(timeout, exchange).await.ok().flatten()
    }
}

/// The program `spec` starts, once its working directory is known to exist.
fn checked_program(spec: &ProcessSpec) -> Result<String, ProcessError> {
    let program = spec.argv.first().ok_or(ProcessError::EmptyCommand)?.clone();
    match &spec.cwd {
        Some(cwd) if !cwd.is_dir() => Err(ProcessError::MissingCwd {
            program,
            cwd: cwd.clone(),
        }),
        _ => Ok(program),
    }
}

/// How a process ended, from its wait status.
fn exit_of(status: std::process::ExitStatus) -> Exit {
    match (status.code(), status.signal()) {
        (Some(code), _) => Exit::Code(code),
        (None, Some(sig)) => Exit::Signal(sig),
        (None, None) => Exit::Code(-1),
    }
}

/// Runs `spec` to its end, its timeout, or cancellation.
pub async fn run(
    spec: &ProcessSpec,
    limits: Limits,
    cancel: &CancellationToken,
) -> Result<Finished, ProcessError> {
    let program = checked_program(spec)?;
    let stdin = if spec.stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    };
    let start = Instant::now();
    let (mut child, guard) = spawn(spec, &program, stdin, Stdio::piped())?;

    if let (Some(mut stdin), Some(data)) = (child.stdin.take(), spec.stdin.clone()) {
        // A child that exits without reading gets EPIPE here; that is fine.
        tokio::spawn(async move {
            let _ = stdin.write_all(&data).await;
        });
    }
    let cap = limits.output_cap;
    let out_task = child
        .stdout
        .take()
        .map(|r| tokio::spawn(read_capped(r, cap)));
    let err_task = child
        .stderr
        .take()
        .map(|r| tokio::spawn(read_capped(r, cap)));

    enum Ending {
        Exited(std::process::ExitStatus),
        TimedOut,
        Cancelled,
    }
    let ending = tokio::select! {
        status = child.wait() => match status {
            Ok(status) => Ending::Exited(status),
            Err(source) => return Err(ProcessError::Spawn { program, source }),
        },
        _ = tokio::time::sleep(limits.timeout) => Ending::TimedOut,
        _ = cancel.cancelled() => Ending::Cancelled,
    };
    let wall = start.elapsed();

    match ending {
        Ending::Exited(status) => {
            // The leader is gone; anything it left behind goes too (before
            // the pipes are drained: a leftover may hold them open).
            let mut guard = guard;
            let leftovers = guard.finish();
            Ok(Finished {
                exit: exit_of(status),
                stdout: collect(out_task).await,
                stderr: collect(err_task).await,
                wall,
                leftovers,
            })
        }
        Ending::TimedOut => {
            guard.signal(libc::SIGTERM);
            let _ = tokio::time::timeout(TERM_GRACE, child.wait()).await;
            drop(guard);
            let _ = child.wait().await;
            Err(ProcessError::TimedOut {
                after: limits.timeout,
                stdout: collect(out_task).await,
                stderr: collect(err_task).await,
            })
        }
        Ending::Cancelled => {
            drop(guard);
            let _ = child.wait().await;
            Err(ProcessError::Cancelled)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_buffer_keeps_head_and_tail() {
        let mut b = CappedBuffer::new(8);
        b.push(b"abcdef");
        b.push(b"ghijkl");
        b.push(b"mn");
        let c = b.finish();
        assert_eq!(c.total_bytes, 14);
        assert_eq!(c.dropped_bytes, 6);
        assert!(c.text.starts_with("abcd\n[... abbench dropped 6 bytes"));
        assert!(c.text.ends_with("klmn"));
    }

    #[test]
    fn capped_buffer_small_output_is_whole() {
        let mut b = CappedBuffer::new(100);
        b.push(b"hello\nworld\n");
        let c = b.finish();
        assert_eq!(c.text, "hello\nworld\n");
        assert_eq!(c.dropped_bytes, 0);
        assert_eq!(c.last_lines(1), "world");
    }

    #[tokio::test]
    async fn runs_and_captures() {
        let spec = ProcessSpec {
            argv: vec![
                "sh".into(),
                "-c".into(),
                "read x; echo out $x; echo err >&2; exit 3".into(),
            ],
            stdin: Some(b"in\n".to_vec()),
            ..Default::default()
        };
        let f = run(&spec, Limits::default(), &CancellationToken::new())
            .await
            .unwrap();
        assert_eq!(f.exit, Exit::Code(3));
        assert_eq!(f.stdout.text, "out in\n");
        assert_eq!(f.stderr.text, "err\n");
    }

    #[tokio::test]
    async fn timeout_kills_the_group() {
        let spec = ProcessSpec::new(vec!["sh".into(), "-c".into(), "sleep 30 & sleep 30".into()]);
        let limits = Limits {
            timeout: Duration::from_millis(200),
            ..Limits::default()
        };
        let t = Instant::now();
        let err = run(&spec, limits, &CancellationToken::new())
            .await
            .unwrap_err();
        assert!(matches!(err, ProcessError::TimedOut { .. }), "{err}");
        assert!(t.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn missing_program_is_named() {
        let spec = ProcessSpec::new(vec!["no-such-program-abbench".into()]);
        let err = run(&spec, Limits::default(), &CancellationToken::new())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("not found"), "{err}");
    }
}
