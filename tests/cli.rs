//! The command line: the README's quick start, `template`, `run`, and
//! `abbench` with no subcommand serving MCP when stdin is not a terminal.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

fn abbench() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_abbench"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

#[test]
fn quick_start_runs_the_bundled_example_to_a_verdict() {
    let data = tempfile::tempdir().unwrap();
    let out = abbench()
        .args([
            "run",
            "examples/micro_bench_known_skus.py",
            "--json",
            "--seed",
            "1",
        ])
        .env("ABBENCH_DATA_DIR", data.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["verdict"], "above_threshold", "{r:#}");
    assert!(r["speedup"]["low"].as_f64().unwrap() > 10.0);

    // The human summary names the verdict, the figures and their units.
    let out = abbench()
        .args([
            "run",
            "examples/micro_bench_known_skus.py",
            "--max-pairs",
            "5",
        ])
        .env("ABBENCH_DATA_DIR", data.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "VERDICT  above_threshold",
        "speedup",
        "ms",
        "A (current)",
        "B (optimized)",
        "gain > 20 %",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
}

#[test]
fn template_writes_and_prints() {
    let dir = tempfile::tempdir().unwrap();
    let out = abbench()
        .args([
            "template",
            "--name",
            "cli",
            "--domain",
            "async",
            "--setup",
            "import asyncio",
        ])
        .args(["--a", "await asyncio.sleep(0)", "--b", "pass", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(
        path,
        dir.path().join("micro_bench_cli.py").display().to_string()
    );
    assert!(std::fs::read_to_string(&path)
        .unwrap()
        .contains("async def bench_b():"));

    let out = abbench()
        .args([
            "template", "--name", "../x", "--domain", "cpu", "--a", "pass", "--b", "pass",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid name"));
}

#[test]
fn run_errors_exit_non_zero_with_the_reason() {
    let out = abbench()
        .args(["run", "/nonexistent/script.py", "--domain", "cpu"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read `script`"));
}

#[test]
fn no_subcommand_serves_mcp_when_stdin_is_a_pipe() {
    let mut child = abbench()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"2025-11-25","capabilities":{{}},"clientInfo":{{"name":"t","version":"0"}}}}}}"#
    )
    .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    drop(stdin); // EOF: the server exits
    assert!(line.contains(r#""name":"abbench""#), "{line}");
    assert!(child.wait().unwrap().success());
}

#[test]
fn demo_runs_the_whole_loop_to_a_keep() {
    let out = abbench().arg("demo").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for needle in [
        "tool call: generate_ab_script",
        "tool call: run_ab_benchmark",
        "VERDICT  above_threshold",
        "tool call: check_keep_conditions",
        "PASS  hot_path",
        "DECISION keep",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
}
