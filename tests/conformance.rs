//! The official MCP conformance suite against the built server. The suite
//! speaks Streamable HTTP only, so the server runs behind a pinned
//! stdio-to-HTTP bridge (supergateway, stateful: one server process for
//! the session); the suite needs Node 22 (`fs.globSync`), which the npm
//! package `node` provides, pinned, next to it — the machine's own Node may
//! be older.

mod common;

use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What the suite needs, pinned and installed together under target/.
const PACKAGES: [&str; 3] = [
    "@modelcontextprotocol/conformance@0.1.16",
    "supergateway@4.0.0",
    "node@22.23.3",
];

/// The scenarios issue 15 names (and that a server with abbench's
/// capabilities can pass; the others need tools such a suite supplies).
const SCENARIOS: [&str; 7] = [
    "server-initialize",
    "ping",
    "tools-list",
    "resources-list",
    "prompts-list",
    "logging-set-level",
    "completion-complete",
];

/// The bridge's process group, killed on drop (with the server under it).
struct Bridge(Child);

impl Drop for Bridge {
    fn drop(&mut self) {
        // SAFETY: a signal to the process group this test started.
        unsafe { libc::kill(-(self.0.id() as i32), libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn the_conformance_suite_passes_the_server_scenarios() {
    let bin = common::npm_tools("mcp-conformance", &PACKAGES);
    let node = bin.join("node");
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = shell_words::join([env!("CARGO_BIN_EXE_abbench"), "serve"]);
    let bridge = Bridge(
        Command::new(&node)
            .arg(bin.join("supergateway"))
            .args(["--stdio", &server, "--outputTransport", "streamableHttp"])
            .args(["--port", &port.to_string(), "--stateful"])
            .env("ABBENCH_DATA_DIR", data.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start supergateway"),
    );
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the bridge did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let url = format!("http://127.0.0.1:{port}/mcp");
    for scenario in SCENARIOS {
        let out = Command::new(&node)
            .arg(bin.join("conformance"))
            .args(["server", "--url", &url, "--scenario", scenario])
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success() && text.contains("Passed: 1/1, 0 failed, 0 warnings"),
            "{scenario}: {text}"
        );
    }
    drop(bridge);
    // The bridge's group took the server with it.
    let dropped = Instant::now();
    while !common::processes_with(&server).is_empty() {
        assert!(
            dropped.elapsed() < Duration::from_secs(5),
            "left behind: {:?}",
            common::processes_with(&server)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
