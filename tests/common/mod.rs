//! Helpers shared by the integration tests: start the built binary, speak
//! MCP to it over real stdio, and read tool results.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;

use std::sync::{Arc, Mutex};

use rmcp::model::{CallToolRequestParams, CallToolResult, ProgressNotificationParam};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::Value;
use tokio::process::Command;

/// A client that records every progress notification it receives.
#[derive(Clone, Default)]
pub struct Recorder {
    pub progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
}

impl ClientHandler for Recorder {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.progress.lock().unwrap().push(params);
    }
}

/// A running `abbench serve` with its own data directory.
pub struct Server {
    pub client: RunningService<RoleClient, Recorder>,
    pub data_dir: tempfile::TempDir,
    pub progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
    pub pid: u32,
}

/// Starts `abbench serve` with a fresh `ABBENCH_DATA_DIR`.
pub async fn start() -> Server {
    let data_dir = tempfile::tempdir().unwrap();
    start_with_data_dir(data_dir).await
}

/// Starts `abbench serve` on an existing data directory.
pub async fn start_with_data_dir(data_dir: tempfile::TempDir) -> Server {
    start_with_env(data_dir, &[]).await
}

/// Where abbench provisions its tools (memray) for every test: shared by all
/// test binaries and runs, so each tool is downloaded once (abbench's own
/// lock keeps concurrent provisioning safe).
pub fn tools_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("abbench-tools")
}

/// Pinned Python packages the tests need beyond the standard library:
/// pytest (keep checks), maturin (the wheel), uv (the plugin's uvx path),
/// numpy and pandas (the equivalence check's comparisons of their results).
pub const TEST_PACKAGES: [&str; 6] = [
    "pytest==8.4.2",
    "pytest-benchmark==5.2.3",
    "maturin==1.16.0",
    "uv==0.13.9",
    "numpy==2.3.5",
    "pandas==2.3.3",
];

/// Holds an exclusive flock on `path` while `make` runs, so test binaries
/// that start together provision a shared folder once.
fn provisioned(root: &Path, marker: &str, make: impl FnOnce()) {
    use std::os::fd::AsRawFd;
    let done = root.join(".complete");
    if std::fs::read_to_string(&done).is_ok_and(|m| m == marker) {
        return;
    }
    std::fs::create_dir_all(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let lock = std::fs::File::create(root.with_extension("lock")).unwrap();
    // SAFETY: flock on a descriptor we own; released when `lock` closes.
    assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) }, 0);
    if std::fs::read_to_string(&done).is_ok_and(|m| m == marker) {
        return;
    }
    let _ = std::fs::remove_dir_all(root);
    make();
    std::fs::write(&done, marker).unwrap();
}

/// Runs a provisioning command; panics with its stderr when it fails.
pub fn must(cmd: &mut std::process::Command) -> String {
    let out = cmd.output().expect("start a command");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The Claude Code CLI (npm, pinned), installed under target/ once.
pub const CLAUDE_CODE: &str = "@anthropic-ai/claude-code@2.1.332";

/// Path of the pinned `claude` CLI, installed by the first test that needs it.
pub fn claude_cli() -> PathBuf {
    npm_tool("claude-code", CLAUDE_CODE, "claude")
}

/// `bin` of the npm `package` (pinned), installed under target/`dir` by the
/// first test that needs it.
fn npm_tool(dir: &str, package: &str, bin: &str) -> PathBuf {
    npm_tools(dir, &[package]).join(bin)
}

/// The npm `packages` (pinned) installed together under target/`dir` by the
/// first test that needs them; returns their `node_modules/.bin`.
pub fn npm_tools(dir: &str, packages: &[&str]) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(dir);
    provisioned(&root, &packages.join(" "), || {
        std::fs::create_dir_all(&root).unwrap();
        must(
            std::process::Command::new("npm")
                .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
                .arg(&root)
                .args(packages),
        );
    });
    root.join("node_modules/.bin")
}

/// The MCP Inspector (npm, pinned), installed under target/ once.
pub const INSPECTOR: &str = "@modelcontextprotocol/inspector@2.12.0";

/// Path of the pinned `mcp-inspector` CLI, installed by the first test that needs it.
pub fn inspector_cli() -> PathBuf {
    npm_tool("mcp-inspector", INSPECTOR, "mcp-inspector")
}

/// A virtualenv under target/ with [`TEST_PACKAGES`], created by the first
/// test that needs it (under an exclusive lock, so test binaries starting
/// together create it once) and reused after; returns its python.
pub fn test_python() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("test-venv");
    let python = root.join("bin").join("python");
    provisioned(&root, &TEST_PACKAGES.join("\n"), || {
        must(
            std::process::Command::new("python3")
                .args(["-m", "venv"])
                .arg(&root),
        );
        must(
            std::process::Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                ])
                .args(TEST_PACKAGES),
        );
    });
    python
}

/// Starts `abbench serve` with extra environment variables (they win over
/// the data directory's ABBENCH_DATA_DIR).
pub async fn start_with_env(data_dir: tempfile::TempDir, vars: &[(&str, &str)]) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_abbench"));
    cmd.arg("serve")
        .env("ABBENCH_DATA_DIR", data_dir.path())
        .env("ABBENCH_TOOLS_DIR", tools_dir());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let (transport, _stderr) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn abbench serve");
    let pid = transport.id().expect("the server has a pid");
    let recorder = Recorder::default();
    let progress = recorder.progress.clone();
    let client = recorder.serve(transport).await.expect("initialize");
    Server {
        client,
        data_dir,
        progress,
        pid,
    }
}

impl Server {
    /// Asserts the server still answers: tools/list lists the six tools.
    pub async fn assert_alive(&self) {
        let tools = self
            .client
            .list_all_tools()
            .await
            .expect("tools/list after the fault");
        assert_eq!(tools.len(), 6, "{tools:?}");
    }

    /// Peak resident memory of the server process, KiB (VmHWM).
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc status")
    }

    /// Calls a tool and returns the raw result.
    pub async fn call(&self, tool: &str, args: Value) -> CallToolResult {
        let Value::Object(args) = args else {
            panic!("tool arguments must be an object")
        };
        self.client
            .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args))
            .await
            .unwrap_or_else(|e| panic!("{tool}: protocol error {e}"))
    }

    /// Calls a tool that must succeed; returns the whole record of what it
    /// did (`detail: "full"`'s `record`) for the tools that answer in
    /// short, else the structured content: what the tests assert on.
    pub async fn call_ok(&self, tool: &str, args: Value) -> Value {
        let mut args = args;
        let full = FULL_RECORD_TOOLS.contains(&tool);
        if full {
            args["detail"] = Value::String("full".into());
        }
        let answer = self.call_answer(tool, args).await;
        if full {
            answer["record"].clone()
        } else {
            answer
        }
    }

    /// Calls a tool that must succeed; returns its structured content (the
    /// compact answer an agent reads).
    pub async fn call_answer(&self, tool: &str, args: Value) -> Value {
        let result = self.call(tool, args).await;
        assert_ne!(
            result.is_error,
            Some(true),
            "{tool} failed: {}",
            text_of(&result)
        );
        result
            .structured_content
            .clone()
            .unwrap_or_else(|| panic!("{tool}: no structured content"))
    }

    /// Calls a tool that must fail with `isError`; returns the message.
    pub async fn call_err(&self, tool: &str, args: Value) -> String {
        let result = self.call(tool, args).await;
        assert_eq!(
            result.is_error,
            Some(true),
            "{tool} should fail: {result:?}"
        );
        text_of(&result)
    }
}

/// The tools whose answer is compact, with the whole record on `detail: "full"`.
pub const FULL_RECORD_TOOLS: [&str; 4] = [
    "generate_ab_script",
    "run_ab_benchmark",
    "run_e2e_benchmark",
    "check_keep_conditions",
];

/// All text content of a tool result, joined.
pub fn text_of(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs `python3 script variant` in `cwd` and returns the parsed `ABBENCH` line.
pub fn run_variant(script: &str, variant: &str, cwd: &Path) -> Value {
    let out = std::process::Command::new("python3")
        .args([script, variant])
        .current_dir(cwd)
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{script} {variant}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("ABBENCH "))
        .unwrap_or_else(|| panic!("no ABBENCH line in {stdout}"));
    serde_json::from_str(line).unwrap()
}

/// Every file under `dir`, recursively (to prove nothing was written).
pub fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path.display().to_string());
        }
    }
    out.sort();
    out
}

/// Processes whose command line contains `marker` (from /proc), excluding this test.
pub fn processes_with(marker: &str) -> Vec<String> {
    let me = std::process::id().to_string();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.chars().all(|c| c.is_ascii_digit()) || name == me {
            continue;
        }
        if let Ok(raw) = std::fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&raw).replace('\0', " ");
            if cmdline.contains(marker) {
                found.push(format!("{name}: {cmdline}"));
            }
        }
    }
    found
}

/// Waits until no process's command line holds `marker`; fails once
/// `within` has passed since `since`.
pub async fn all_gone(marker: &str, since: std::time::Instant, within: std::time::Duration) {
    while !processes_with(marker).is_empty() {
        assert!(
            since.elapsed() < within,
            "still running: {:?}",
            processes_with(marker)
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A name unique to this test process and call, for markers and script names.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// Generates a script through the MCP tool and returns its path.
pub async fn generate(server: &Server, dir: &Path, args: Value) -> String {
    let mut args = args;
    args["dir"] = Value::String(dir.display().to_string());
    let out = server.call_ok("generate_ab_script", args).await;
    out["path"].as_str().unwrap().to_string()
}

/// Python setup lines that make every process append `tag start end` (epoch
/// seconds of its lifetime) to `log`, for overlap checks.
pub fn lifetime_logger(log: &Path, tag: &str) -> String {
    format!(
        "import atexit, time\n_t0 = time.time()\natexit.register(lambda: open({log:?}, 'a').write('{tag} %f %f\\n' % (_t0, time.time())))"
    )
}

/// Asserts that `log` (see [`lifetime_logger`]) holds `expected` lifetimes
/// and that no process of one tag overlapped a process of another.
pub fn assert_no_overlap(log: &Path, expected: usize) {
    let intervals: Vec<(String, f64, f64)> = std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .map(|l| {
            let p: Vec<&str> = l.split(' ').collect();
            (
                p[0].to_string(),
                p[1].parse().unwrap(),
                p[2].parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(intervals.len(), expected, "{intervals:?}");
    for x in &intervals {
        for y in intervals.iter().filter(|y| y.0 != x.0) {
            assert!(
                x.2 <= y.1 || y.2 <= x.1,
                "processes of two runs overlapped: {x:?} {y:?}"
            );
        }
    }
}

/// Runs git in `dir` (as user t), asserting success; returns its stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A sitecustomize hook as abbench writes it (`hook_common.py`, then the
/// hook's own part), installed as `dir/sitecustomize.py`.
pub fn install_hook(dir: &Path, own_part: &str) {
    let source = |name: &str| {
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("src/python")
                .join(name),
        )
        .unwrap()
    };
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("sitecustomize.py"),
        source("hook_common.py") + &source(own_part),
    )
    .unwrap();
}
