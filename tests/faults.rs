//! The fault suite: every fault gets a clear answer, nothing is left running,
//! nothing is lost, and the server keeps serving (each test ends by checking
//! that tools/list still answers). See docs/reliability.md for the table.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// Generates a cpu script whose processes are quick (one call, one repeat).
async fn script(
    server: &common::Server,
    dir: &std::path::Path,
    name: &str,
    setup: &str,
    a: &str,
    b: &str,
) -> String {
    // The faults are the run's to meet: generate does not try the variants.
    common::generate(server, dir, json!({
        "name": name, "domain": "cpu", "setup": setup, "code_a": a, "code_b": b, "number": 1, "repeat": 1,
        "equivalence": "off",
    })).await
}

#[tokio::test]
async fn a_hanging_variant_is_killed_with_everything_it_started() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let marker = common::unique("hanggrand");
    let setup = format!("import subprocess, sys, time\nMARK = {marker:?}");
    let b = "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', MARK])\ntime.sleep(300)";
    let s = script(&server, dir.path(), &marker, &setup, "return 1", b).await;
    let msg = server
        .call_err(
            "run_ab_benchmark",
            json!({"script": s, "cwd": dir.path(), "timeout_s": 1.0}),
        )
        .await;
    assert!(msg.contains("variant b timed out after 1.0 s"), "{msg}");
    assert!(
        common::processes_with(&marker).is_empty(),
        "{:?}",
        common::processes_with(&marker)
    );
    server.assert_alive().await;
}

#[tokio::test]
async fn a_grandchild_that_outlives_its_variant_is_killed() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let marker = common::unique("orphan");
    let setup = format!("import subprocess, sys\nMARK = {marker:?}");
    let b =
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', MARK])\nreturn 1";
    let s = script(&server, dir.path(), &marker, &setup, "return 1", b).await;
    let r = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": s, "cwd": dir.path(), "max_pairs": 6}),
        )
        .await;
    assert_eq!(r["pairs"], 6);
    assert!(
        common::processes_with(&marker).is_empty(),
        "{:?}",
        common::processes_with(&marker)
    );
    server.assert_alive().await;
}

#[tokio::test]
async fn a_flood_of_output_is_capped_and_the_server_stays_small() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    // 200 MB on stdout from every A process, then the measurement line.
    let a = "chunk = 'x' * 1048575 + '\\n'\nfor _ in range(200):\n    sys.stdout.write(chunk)\nreturn 1";
    let s = script(&server, dir.path(), "flood", "", a, "return 1").await;
    // (What A prints differs from B's: the check would say so and time nothing.)
    let r = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": s, "cwd": dir.path(), "max_pairs": 6, "equivalence": "off"}),
        )
        .await;
    let warnings = r["warnings"].to_string();
    assert!(
        warnings.contains("variant a printed more output than abbench keeps"),
        "{warnings}"
    );
    let peak_mib = server.peak_rss_kib() / 1024;
    assert!(
        peak_mib < 64,
        "server peak RSS {peak_mib} MiB after 1.2 GB of output"
    );
    server.assert_alive().await;
}

#[tokio::test]
async fn variants_killed_by_signals_are_named() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    for (name, b, expected) in [
        (
            "abort",
            "os.abort()",
            "variant b failed with signal 6 (SIGABRT)",
        ),
        (
            "sigkill",
            "os.kill(os.getpid(), signal.SIGKILL)",
            "variant b failed with signal 9 (SIGKILL)",
        ),
    ] {
        let s = script(
            &server,
            dir.path(),
            name,
            "import os, signal",
            "return 1",
            b,
        )
        .await;
        let msg = server
            .call_err("run_ab_benchmark", json!({"script": s, "cwd": dir.path()}))
            .await;
        assert!(msg.contains(expected), "{msg}");
        // The process that failed ran both (the equivalence check, before
        // any timing); the marker it wrote names the variant at fault, and
        // is not quoted back.
        assert!(msg.contains(&format!("{s} --domain cpu")), "{msg}");
        assert!(!msg.contains("ABBENCH-R"), "{msg}");
    }
    server.assert_alive().await;
}

#[tokio::test]
async fn a_long_traceback_is_cut_to_its_last_lines() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let b = "raise RuntimeError('\\n'.join(f'detail {i}' for i in range(5000)))";
    let s = script(&server, dir.path(), "longtb", "", "return 1", b).await;
    // With the check, B raising is different_results (tests/equivalence.rs);
    // without it, the pilot fails and its traceback is quoted.
    let msg = server
        .call_err(
            "run_ab_benchmark",
            json!({"script": s, "cwd": dir.path(), "equivalence": "off"}),
        )
        .await;
    assert!(msg.contains("variant b failed with exit code 1"), "{msg}");
    assert!(
        msg.contains("detail 4999"),
        "the end of the traceback is kept"
    );
    assert!(!msg.contains("detail 100\n"), "the middle is not");
    assert!(msg.lines().count() < 45, "{} lines", msg.lines().count());
    server.assert_alive().await;
}

#[tokio::test]
async fn a_malformed_measurement_line_is_quoted() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("bench.py");
    std::fs::write(
        &s,
        "print('ABBENCH {\"variant\": \"a\", \"value\": \"fast\"}')\n",
    )
    .unwrap();
    let msg = server
        .call_err(
            "run_ab_benchmark",
            json!({"script": s, "cwd": dir.path(), "domain": "cpu"}),
        )
        .await;
    assert!(
        msg.contains("malformed ABBENCH line") && msg.contains("\\\"fast\\\""),
        "{msg}"
    );
    server.assert_alive().await;
}

#[tokio::test]
async fn a_script_deleted_during_the_run_is_a_clear_error() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let s = script(
        &server,
        dir.path(),
        "vanish",
        "import os",
        "return 1",
        "if os.path.exists(__file__):\n    os.remove(__file__)\nreturn 1",
    )
    .await;
    let msg = server
        .call_err("run_ab_benchmark", json!({"script": s, "cwd": dir.path()}))
        .await;
    assert!(
        msg.contains("failed with exit code 2") && msg.contains("can't open file"),
        "{msg}"
    );
    server.assert_alive().await;
}

#[tokio::test]
async fn a_variant_reading_stdin_gets_eof_at_once() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let b = "data = sys.stdin.read()\nassert data == ''\nreturn 1";
    let s = script(&server, dir.path(), "stdin", "", "return 1", b).await;
    let r = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": s, "cwd": dir.path(), "timeout_s": 10, "max_pairs": 6}),
        )
        .await;
    assert_eq!(r["pairs"], 6);
    server.assert_alive().await;
}

#[tokio::test]
async fn an_unwritable_ledger_still_returns_the_measurement() {
    let data = tempfile::tempdir().unwrap();
    let blocker = data.path().join("a-file");
    std::fs::write(&blocker, "not a directory").unwrap();
    let ledger_dir = blocker.join("ledger");
    let server =
        common::start_with_env(data, &[("ABBENCH_DATA_DIR", ledger_dir.to_str().unwrap())]).await;
    let dir = tempfile::tempdir().unwrap();
    let s = script(&server, dir.path(), "noledger", "", "return 1", "return 1").await;
    let r = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": s, "cwd": dir.path(), "max_pairs": 6}),
        )
        .await;
    assert_eq!(r["a"]["n"], 6, "the measurement came back");
    assert!(
        r["warnings"]
            .to_string()
            .contains("the ledger could not record this run"),
        "{}",
        r["warnings"]
    );
    server.assert_alive().await;
}

#[tokio::test]
async fn a_corrupt_ledger_is_kept_aside_and_named() {
    let data = tempfile::tempdir().unwrap();
    let garbage = b"this is not SQLite ".repeat(500);
    std::fs::write(data.path().join("abbench.db"), &garbage).unwrap();
    let server = common::start_with_data_dir(data).await;
    let dir = tempfile::tempdir().unwrap();
    let s = script(&server, dir.path(), "corrupt", "", "return 1", "return 1").await;
    let r = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": s, "cwd": dir.path(), "max_pairs": 6}),
        )
        .await;
    let warnings = r["warnings"].to_string();
    assert!(
        warnings.contains("was not a readable SQLite database")
            && warnings.contains("abbench.db.corrupt-"),
        "{warnings}"
    );
    let kept: Vec<_> = std::fs::read_dir(server.data_dir.path())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("abbench.db.corrupt-")
        })
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(
        std::fs::read(kept[0].path()).unwrap(),
        garbage,
        "the bad file is kept intact"
    );
    let ledger = abbench::ledger::Ledger::open(server.data_dir.path()).unwrap();
    assert!(
        ledger
            .get_run::<abbench::bench::RunRequest, abbench::bench::RunResult>(
                r["run_id"].as_str().unwrap()
            )
            .unwrap()
            .is_some(),
        "the new ledger has the run"
    );
    server.assert_alive().await;
}

#[tokio::test]
async fn two_servers_never_measure_at_the_same_time() {
    let (one, two) = tokio::join!(common::start(), common::start());
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("intervals.log");
    let mut scripts = Vec::new();
    for (server, tag) in [(&one, "one"), (&two, "two")] {
        let setup = common::lifetime_logger(&log, tag);
        scripts.push(
            script(
                server,
                dir.path(),
                &format!("servers_{tag}"),
                &setup,
                "time.sleep(0.02)",
                "time.sleep(0.01)",
            )
            .await,
        );
    }
    let (r1, r2) = tokio::join!(
        one.call_ok(
            "run_ab_benchmark",
            json!({"script": scripts[0], "cwd": dir.path(), "max_pairs": 6})
        ),
        two.call_ok(
            "run_ab_benchmark",
            json!({"script": scripts[1], "cwd": dir.path(), "max_pairs": 6})
        ),
    );
    assert!(
        r1["lock_wait_s"]
            .as_f64()
            .unwrap()
            .max(r2["lock_wait_s"].as_f64().unwrap())
            > 0.3
    );
    // Every process of both runs: the equivalence check, the pilot and the counted processes.
    let processes = r1["pairs"].as_u64().unwrap() + r2["pairs"].as_u64().unwrap() + 4;
    common::assert_no_overlap(&log, processes as usize);
    one.assert_alive().await;
    two.assert_alive().await;
}

#[tokio::test]
async fn generate_answers_promptly_during_a_long_run() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let marker = common::unique("slowrun");
    let s = script(
        &server,
        dir.path(),
        &marker,
        "import time",
        "time.sleep(0.4)",
        "time.sleep(0.4)",
    )
    .await;
    let run = server.call_ok(
        "run_ab_benchmark",
        json!({"script": s, "cwd": dir.path(), "max_pairs": 6}),
    );
    let meanwhile = async {
        while common::processes_with(&marker).is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let t = Instant::now();
        server.call_ok("generate_ab_script", json!({
            "name": "meanwhile", "domain": "cpu", "code_a": "pass", "code_b": "pass", "dir": dir.path(),
        })).await;
        t.elapsed()
    };
    let (r, took) = tokio::join!(run, meanwhile);
    assert_eq!(r["pairs"], 6);
    assert!(
        took < Duration::from_secs(2),
        "generate took {took:?} during a run"
    );
    server.assert_alive().await;
}

/// A hand-written cpu script in `dir` whose variants hang, named with a
/// unique marker (returned with its path) to find its processes by.
fn hanging_script(dir: &std::path::Path, prefix: &str) -> (String, std::path::PathBuf) {
    let marker = common::unique(prefix);
    let path = dir.join(format!("micro_bench_{marker}.py"));
    std::fs::write(
        &path,
        "# abbench-script: domain=cpu\nimport time\ntime.sleep(300)\n",
    )
    .unwrap();
    (marker, path)
}

/// Waits (up to 20 s) for a process whose command line holds `marker`.
async fn variant_started(marker: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while common::processes_with(marker).is_empty() {
        assert!(Instant::now() < deadline, "the variant never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A client speaking raw JSON-RPC lines to `abbench serve`.
struct Raw {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Lines<BufReader<ChildStdout>>,
    _data: tempfile::TempDir,
}

impl Raw {
    async fn start() -> Raw {
        Raw::start_with(json!({})).await
    }

    /// A client declaring `capabilities` at initialization.
    async fn start_with(capabilities: Value) -> Raw {
        Raw::start_with_env(capabilities, &[]).await
    }

    /// The same with extra environment variables for the server.
    async fn start_with_env(capabilities: Value, vars: &[(&str, &std::path::Path)]) -> Raw {
        let data = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_abbench"))
            .arg("serve")
            .envs(vars.iter().copied())
            .env("ABBENCH_DATA_DIR", data.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut raw = Raw {
            child,
            stdin,
            lines,
            _data: data,
        };
        let init = raw
            .request(json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": "2025-11-25", "capabilities": capabilities, "clientInfo": {"name": "raw", "version": "0"}}}))
            .await;
        assert_eq!(init["result"]["serverInfo"]["name"], "abbench");
        raw.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string())
            .await;
        raw
    }

    async fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(line.as_bytes()).await.unwrap();
        stdin.write_all(b"\n").await.unwrap();
        stdin.flush().await.unwrap();
    }

    async fn recv(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(60), self.lines.next_line())
            .await
            .expect("a reply within 60 s")
            .unwrap()
            .expect("the server is still there");
        serde_json::from_str(&line).unwrap()
    }

    async fn request(&mut self, message: Value) -> Value {
        self.request_noting(message).await.0
    }

    /// The reply, and every message the server sent before it.
    async fn request_noting(&mut self, message: Value) -> (Value, Vec<Value>) {
        self.send(&message.to_string()).await;
        let mut before = Vec::new();
        loop {
            let reply = self.recv().await;
            if reply.get("id") == message.get("id") {
                return (reply, before);
            }
            before.push(reply);
        }
    }

    /// `tasks/get` of `task_id`.
    async fn task(&mut self, id: u64, task_id: &str) -> Value {
        self.request(json!({"jsonrpc": "2.0", "id": id, "method": "tasks/get", "params": {"taskId": task_id}}))
            .await
    }

    /// `tasks/get` every `pause` (request ids from `id` on) until the task
    /// is no longer `working`; its last answer.
    async fn settled(&mut self, id: &mut u64, task_id: &str, pause: Duration) -> Value {
        loop {
            *id += 1;
            let r = self.task(*id, task_id).await;
            if r["result"]["status"].as_str() != Some("working") {
                return r;
            }
            tokio::time::sleep(pause).await;
        }
    }

    async fn call(&mut self, id: u64, tool: &str, args: Value) -> Value {
        self.request(json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": tool, "arguments": args}}))
            .await
    }
}

#[tokio::test]
async fn protocol_faults_get_error_responses() {
    let mut raw = Raw::start().await;
    raw.send("{this is not json").await;
    let r = raw.recv().await;
    assert_eq!(
        (r["error"]["code"].as_i64(), &r["id"]),
        (Some(-32700), &Value::Null),
        "{r}"
    );
    raw.send(r#"{"id": 9, "hello": "world"}"#).await;
    let r = raw.recv().await;
    assert_eq!(
        (r["error"]["code"].as_i64(), &r["id"]),
        (Some(-32600), &json!(9)),
        "{r}"
    );
    let r = raw
        .request(json!({"jsonrpc": "2.0", "id": 10, "method": "no/such/method"}))
        .await;
    assert_eq!(r["error"]["code"], -32601, "{r}");
    let r = raw.call(11, "no_such_tool", json!({})).await;
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("tool not found"),
        "{r}"
    );
    let r = raw
        .call(
            12,
            "generate_ab_script",
            json!({"name": 5, "domain": "cpu", "code_a": "pass", "code_b": "pass"}),
        )
        .await;
    assert_eq!(r["result"]["isError"], true, "{r}");
    assert!(
        r["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("invalid type"),
        "{r}"
    );
    let ten_mb = "x = 1\n".repeat(10 << 20 >> 3);
    let t = Instant::now();
    let r = raw
        .call(
            13,
            "generate_ab_script",
            json!({"name": "big", "domain": "cpu", "code_a": ten_mb, "code_b": "pass"}),
        )
        .await;
    assert_eq!(r["result"]["isError"], true, "{r}");
    assert!(
        r["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("the limit is 1048576 bytes"),
        "{r}"
    );
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "refused quickly, not compiled: {:?}",
        t.elapsed()
    );
    let huge = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":14,\"method\":\"tools/list\",\"pad\":\"{}\"}}",
        "y".repeat(70 << 20)
    );
    raw.send(&huge).await;
    let r = raw.recv().await;
    assert_eq!(r["error"]["code"], -32600, "a 70 MB line is refused");
    let r = raw
        .request(json!({"jsonrpc": "2.0", "id": 15, "method": "tools/list"}))
        .await;
    assert_eq!(
        r["result"]["tools"].as_array().unwrap().len(),
        6,
        "still serving: {r}"
    );
}

/// A client that writes a batch of lines and closes stdin gets an answer to
/// every request in it, whole, before the server exits: 50 times over.
#[test]
fn every_request_read_before_stdin_closes_is_answered() {
    use std::io::{Read, Write};
    let data = tempfile::tempdir().unwrap();
    let batch = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "batch", "version": "0"}}})
        .to_string(),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string(),
        "{not json".to_string(),
        json!({"jsonrpc": "2.0", "id": 2, "method": "no/such/method"}).to_string(),
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}).to_string(),
        json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {
            "name": "benchmark_history", "arguments": {"limit": 1}}})
        .to_string(),
        json!({"jsonrpc": "2.0", "id": 5, "method": "ping"}).to_string(),
    ]
    .join("\n")
        + "\n";
    for attempt in 0..50 {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_abbench"))
            .arg("serve")
            .env("ABBENCH_DATA_DIR", data.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(batch.as_bytes()).unwrap();
        drop(stdin);
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert!(child.wait().unwrap().success());
        let mut ids: Vec<String> = out
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("attempt {attempt}: a cut line ({e}): {l}"));
                v["id"].to_string()
            })
            .collect();
        ids.sort();
        assert_eq!(
            ids,
            ["1", "2", "3", "4", "5", "null"],
            "attempt {attempt}: {out}"
        );
    }
}

/// An idle server stops within 0.2 s of SIGINT or SIGTERM (Claude Code
/// escalates to SIGKILL after a grace).
#[tokio::test]
async fn an_idle_server_exits_at_once_on_a_signal() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let mut raw = Raw::start().await;
        raw.request(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
            .await;
        let pid = raw.child.id().unwrap() as i32;
        let t = Instant::now();
        unsafe { libc::kill(pid, signal) };
        let status = tokio::time::timeout(Duration::from_secs(5), raw.child.wait())
            .await
            .expect("the server exits")
            .unwrap();
        let took = t.elapsed();
        assert!(status.success(), "signal {signal}: {status:?}");
        assert!(
            took < Duration::from_millis(200),
            "signal {signal}: {took:?}"
        );
    }
}

#[tokio::test]
async fn a_client_that_disconnects_mid_run_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let (marker, s) = hanging_script(dir.path(), "disconnect");
    let mut raw = Raw::start().await;
    raw.send(
        &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "run_ab_benchmark", "arguments": {"script": s, "cwd": dir.path()}}})
        .to_string(),
    )
    .await;
    variant_started(&marker).await;
    drop(raw.stdin.take()); // the client goes away
    let gone = Instant::now();
    let status = tokio::time::timeout(Duration::from_secs(2), raw.child.wait())
        .await
        .expect("the server exits within 2 s of the disconnect")
        .unwrap();
    assert!(status.success(), "{status}");
    common::all_gone(&marker, gone, Duration::from_secs(2)).await;
}

/// A server killed outright (SIGKILL: no destructor runs) while a variant
/// runs that started a child in a session of its own: the variant dies by
/// PDEATHSIG, the escaped grandchild by the server's watchdog.
#[tokio::test]
async fn a_sigkilled_server_leaves_no_escaped_grandchild() {
    let dir = tempfile::tempdir().unwrap();
    let marker = common::unique("sigkilled");
    let path = dir.path().join(format!("micro_bench_{marker}.py"));
    std::fs::write(
        &path,
        format!(
            "# abbench-script: domain=cpu\nimport subprocess, sys, time\n\
             subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', {marker:?}], start_new_session=True)\n\
             time.sleep(300)  # {marker}\n"
        ),
    )
    .unwrap();
    let mut raw = Raw::start().await;
    raw.send(
        &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "run_ab_benchmark", "arguments": {"script": path, "cwd": dir.path()}}})
        .to_string(),
    )
    .await;
    // The grandchild's own command line holds the marker.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !common::processes_with(&marker)
        .iter()
        .any(|p| p.contains("time.sleep(300)"))
    {
        assert!(Instant::now() < deadline, "the grandchild never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = raw.child.id().unwrap() as i32;
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let _ = raw.child.wait().await;
    let killed = Instant::now();
    common::all_gone(&marker, killed, Duration::from_secs(3)).await;
}

#[tokio::test]
async fn shell_metacharacters_stay_argv_words() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let pwned = std::env::temp_dir().join(common::unique("pwned"));
    let s = script(&server, dir.path(), "meta", "", "return 1", "return 1").await;
    let evil = format!("python3; touch {}", pwned.display());
    let msg = server
        .call_err(
            "run_ab_benchmark",
            json!({"script": s, "cwd": dir.path(), "runner": evil}),
        )
        .await;
    assert!(
        msg.contains("\"python3;\"") && msg.contains("not found"),
        "{msg}"
    );
    let msg = server.call_err("generate_ab_script", json!({
        "name": "meta2", "domain": "cpu", "code_a": "pass", "code_b": "pass", "dir": dir.path(), "python": evil,
    })).await;
    assert!(msg.contains("not found"), "{msg}");

    // test_command in check_keep_conditions: a repository with one tested function.
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(repo.path().join("tests")).unwrap();
    std::fs::write(repo.path().join("mod.py"), "def f():\n    return 1\n").unwrap();
    std::fs::write(
        repo.path().join("tests/test_mod.py"),
        "from mod import f\n\ndef test_f():\n    assert f() == 1\n",
    )
    .unwrap();
    for args in [
        vec!["init", "-q"],
        vec!["add", "-A"],
        vec![
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@e.invalid",
            "commit",
            "-qm",
            "base",
        ],
    ] {
        assert!(std::process::Command::new("git")
            .arg("-C")
            .arg(repo.path())
            .args(&args)
            .status()
            .unwrap()
            .success());
    }
    std::fs::write(repo.path().join("mod.py"), "def f():\n    return 2 - 1\n").unwrap();
    let run = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": s, "cwd": dir.path(), "max_pairs": 6}),
        )
        .await;
    let r = server
        .call_ok(
            "check_keep_conditions",
            json!({
                "run_id": run["run_id"], "repo": repo.path(),
                "test_command": format!("{} -m pytest -q; touch {}", common::test_python().display(), pwned.display()),
                "runner": common::test_python(),
                "target_function": "mod.py::f", "target_test": "tests/test_mod.py::test_f",
            }),
        )
        .await;
    assert_eq!(
        r["conditions"][1]["passed"], false,
        "pytest got `-q;` as an argument: {r:#}"
    );
    assert!(!pwned.exists(), "no shell ran the metacharacters");
    server.assert_alive().await;
}

#[tokio::test]
async fn unreadable_scripts_are_clear_errors() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let dangling = dir.path().join("micro_bench_gone.py");
    std::os::unix::fs::symlink(dir.path().join("nowhere.py"), &dangling).unwrap();
    let msg = server
        .call_err(
            "run_ab_benchmark",
            json!({"script": dangling, "domain": "cpu"}),
        )
        .await;
    assert!(msg.contains("cannot read `script`"), "{msg}");
    let msg = server
        .call_err(
            "run_ab_benchmark",
            json!({"script": dir.path(), "domain": "cpu"}),
        )
        .await;
    assert!(msg.contains("is a directory"), "{msg}");
    server.assert_alive().await;
}

/// `logging/setLevel` and `completion/complete` answer; at `info` a run's
/// per-process lines arrive as `notifications/message` before its result.
#[tokio::test]
async fn logging_levels_and_completions() {
    let mut raw = Raw::start().await;
    let r = raw
        .request(
            json!({"jsonrpc": "2.0", "id": 1, "method": "completion/complete", "params": {
            "ref": {"type": "ref/prompt", "name": "ab_workflow"},
            "argument": {"name": "domain", "value": "m"}}}),
        )
        .await;
    assert_eq!(
        r["result"]["completion"]["values"],
        json!(["memory"]),
        "{r}"
    );
    let r = raw
        .request(
            json!({"jsonrpc": "2.0", "id": 2, "method": "completion/complete", "params": {
            "ref": {"type": "ref/prompt", "name": "ab_workflow"},
            "argument": {"name": "function", "value": "count"}}}),
        )
        .await;
    assert!(r["result"]["completion"]["values"].is_array(), "{r}");

    let dir = tempfile::tempdir().unwrap();
    let generated = raw
        .call(
            3,
            "generate_ab_script",
            json!({"name": "logged", "domain": "cpu",
            "code_a": "sum(range(4000))", "code_b": "sum(range(1000))", "dir": dir.path()}),
        )
        .await;
    let script = generated["result"]["structuredContent"]["path"]
        .as_str()
        .unwrap()
        .to_string();
    let run = |id: u64| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": "run_ab_benchmark", "arguments": {"script": script, "max_pairs": 6}}})
    };
    let logged = |messages: &[Value]| -> Vec<Value> {
        messages
            .iter()
            .filter(|m| m["method"] == "notifications/message")
            .cloned()
            .collect()
    };
    // By default only warnings are sent.
    let (_, before) = raw.request_noting(run(4)).await;
    assert!(
        logged(&before)
            .iter()
            .all(|m| m["params"]["level"] == "warning"),
        "{before:?}"
    );

    let r = raw
        .request(json!({"jsonrpc": "2.0", "id": 5, "method": "logging/setLevel", "params": {"level": "info"}}))
        .await;
    assert!(r.get("error").is_none(), "{r}");
    let (reply, before) = raw.request_noting(run(6)).await;
    assert_eq!(reply["result"]["isError"], false, "{reply}");
    let lines = logged(&before);
    assert!(
        lines.iter().any(|m| m["params"]["level"] == "info"
            && m["params"]["logger"] == "abbench"
            && m["params"]["data"]
                .as_str()
                .is_some_and(|d| d.starts_with("process "))),
        "{lines:?}"
    );
}

/// A client that declares the tasks extension gets long calls as tasks:
/// the result arrives through `tasks/get`, and `tasks/cancel` kills the
/// running processes. A client that does not gets a normal call.
#[tokio::test]
async fn long_calls_run_as_tasks_for_a_client_that_asks() {
    let mut raw =
        Raw::start_with(json!({"extensions": {"io.modelcontextprotocol/tasks": {}}})).await;
    let dir = tempfile::tempdir().unwrap();
    let generated = raw
        .call(
            1,
            "generate_ab_script",
            json!({"name": "tasked", "domain": "cpu",
            "code_a": "sum(range(4000))", "code_b": "sum(range(1000))", "dir": dir.path()}),
        )
        .await;
    assert!(
        generated["result"]["structuredContent"].is_object(),
        "generate stays a plain call: {generated}"
    );
    let script = generated["result"]["structuredContent"]["path"]
        .as_str()
        .unwrap()
        .to_string();
    let started = raw
        .call(
            2,
            "run_ab_benchmark",
            json!({"script": script, "max_pairs": 6}),
        )
        .await;
    assert_eq!(started["result"]["resultType"], "task", "{started}");
    let task_id = started["result"]["taskId"].as_str().unwrap().to_string();
    let mut id = 10;
    let done = raw
        .settled(&mut id, &task_id, Duration::from_millis(200))
        .await;
    assert_eq!(done["result"]["status"], "completed", "{done}");
    assert_eq!(
        done["result"]["result"]["structuredContent"]["verdict"], "above_threshold",
        "{done}"
    );

    // Cancelled mid-run: the variant's process is killed.
    let (marker, hanging) = hanging_script(dir.path(), "tasked");
    let started = raw
        .call(
            3,
            "run_ab_benchmark",
            json!({"script": hanging, "cwd": dir.path()}),
        )
        .await;
    let task_id = started["result"]["taskId"].as_str().unwrap().to_string();
    variant_started(&marker).await;
    let r = raw
        .request(json!({"jsonrpc": "2.0", "id": 4, "method": "tasks/cancel", "params": {"taskId": task_id}}))
        .await;
    assert!(r.get("error").is_none(), "{r}");
    let cancelled = Instant::now();
    let settled = raw
        .settled(&mut id, &task_id, Duration::from_millis(50))
        .await;
    let status = settled["result"]["status"].as_str().map(String::from);
    assert_eq!(status.as_deref(), Some("cancelled"));
    common::all_gone(&marker, cancelled, Duration::from_secs(2)).await;

    // Without the extension, the same call is a plain call.
    let mut plain = Raw::start().await;
    let r = plain
        .call(
            1,
            "run_ab_benchmark",
            json!({"script": script, "max_pairs": 6}),
        )
        .await;
    assert_eq!(
        r["result"]["structuredContent"]["verdict"], "above_threshold",
        "{r}"
    );
}

/// A run longer than the 60 s a request-bound client (the Inspector CLI)
/// waits completes through the task API: each process sleeps 12 s in
/// setup, so the pilot and six counted processes take about 90 s. It holds
/// a machine lock of its own, so the other tests' runs do not wait 90 s for it.
#[tokio::test]
async fn a_90_second_run_completes_through_the_task_api() {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("own.lock");
    let mut raw = Raw::start_with_env(
        json!({"extensions": {"io.modelcontextprotocol/tasks": {}}}),
        &[("ABBENCH_LOCK_FILE", &lock)],
    )
    .await;
    let generated = raw
        .call(
            1,
            "generate_ab_script",
            json!({"name": "ninety", "domain": "cpu", "equivalence": "off",
            "setup": "import time\ntime.sleep(12)",
            "code_a": "sum(range(4000))", "code_b": "sum(range(1000))", "dir": dir.path()}),
        )
        .await;
    let script = generated["result"]["structuredContent"]["path"]
        .as_str()
        .unwrap()
        .to_string();
    let started_at = Instant::now();
    let started = raw
        .call(
            2,
            "run_ab_benchmark",
            json!({"script": script, "min_pairs": 6, "max_pairs": 6, "detail": "full"}),
        )
        .await;
    assert_eq!(started["result"]["resultType"], "task", "{started}");
    let task_id = started["result"]["taskId"].as_str().unwrap().to_string();
    let mut id = 10;
    let done = raw.settled(&mut id, &task_id, Duration::from_secs(2)).await;
    let took = started_at.elapsed();
    assert_eq!(done["result"]["status"], "completed", "{done}");
    let result = &done["result"]["result"]["structuredContent"];
    assert_eq!(result["verdict"], "above_threshold", "{done}");
    assert!(took > Duration::from_secs(75), "the run took only {took:?}");
    assert!(
        result["record"]["elapsed_s"].as_f64().unwrap() > 75.0,
        "{result}"
    );
}
