//! The command line: the README's quick start, `template`, `run`, and
//! `abbench` with no subcommand serving MCP when stdin is not a terminal.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

fn abbench() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_abbench"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// Writes micro_bench_<name>.py (cpu domain) into `dir` with `abbench template`.
fn cpu_script(dir: &std::path::Path, name: &str, a: &str, b: &str) -> std::path::PathBuf {
    let out = abbench()
        .args([
            "template", "--name", name, "--domain", "cpu", "--a", a, "--b", b, "--dir",
        ])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join(format!("micro_bench_{name}.py"))
}

/// Runs `cmd`, asserts it succeeded, and parses the JSON it printed.
fn json_of(cmd: &mut Command) -> serde_json::Value {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
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
        "\"target\":\"shop/inventory.py::count_known\"",
        "tool call: run_ab_benchmark",
        "A as committed at",
        "VERDICT  above_threshold",
        "tool call: check_keep_conditions",
        "PASS  hot_path",
        "DECISION keep",
        "tool call: run_e2e_benchmark",
        "target   shop/inventory.py::count_known",
        "\"e2e_run_id\":\"e2e-",
        "improvement judged end to end",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
}

/// Ctrl-C during `abbench keep` (here while the base is profiled in its
/// temporary worktree) kills the profiled process, removes the worktree and
/// exits non-zero saying so.
#[test]
fn ctrl_c_interrupts_keep_and_leaves_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let (repo, data) = (tmp.path().join("repo"), tmp.path().join("data"));
    std::fs::create_dir_all(&repo).unwrap();
    let pid_file = tmp.path().join("profiled.pid");
    std::fs::write(repo.join("m.py"), "def f(n):\n    return sum(range(n))\n").unwrap();
    std::fs::write(
        repo.join("slow.py"),
        format!(
            "import os, time\nimport m\nopen({:?}, 'w').write(str(os.getpid()))\nm.f(10)\ntime.sleep(120)\n",
            pid_file.display().to_string()
        ),
    )
    .unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(&repo)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "base"]);
    std::fs::write(
        repo.join("m.py"),
        "def f(n):\n    return n * (n - 1) // 2\n",
    )
    .unwrap();

    // A run to decide about.
    let script = cpu_script(
        tmp.path(),
        "ctrl_c",
        "return sum(range(3000))",
        "return 3000 * 2999 // 2",
    );
    let run = json_of(
        abbench()
            .args(["run", "--json", "--max-pairs", "6"])
            .arg(&script)
            .env("ABBENCH_DATA_DIR", &data),
    );

    let mut keep = abbench()
        .args([
            "keep",
            "--run-id",
            run["run_id"].as_str().unwrap(),
            "--repo",
        ])
        .arg(&repo)
        .args([
            "--test-command",
            "python3 -c pass",
            "--function",
            "m.py::f",
            "--test",
            "slow.py",
        ])
        .env("ABBENCH_DATA_DIR", &data)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let profiled: i32 = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|p| p.trim().parse().ok())
        {
            break pid;
        }
        assert!(
            started.elapsed().as_secs() < 120,
            "the base was never profiled"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(
        git(&["worktree", "list"]).lines().count(),
        2,
        "the base worktree is in use"
    );
    // SAFETY: kill only sends a signal.
    unsafe { libc::kill(keep.id() as i32, libc::SIGINT) };
    let interrupted = std::time::Instant::now();
    let status = keep.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut keep.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(
        interrupted.elapsed().as_secs() < 10,
        "Ctrl-C took {:?}",
        interrupted.elapsed()
    );
    assert!(!status.success());
    assert!(stderr.contains("cancelled"), "{stderr}");
    // SAFETY: signal 0 only checks that the process exists.
    assert_ne!(
        unsafe { libc::kill(profiled, 0) },
        0,
        "the profiled test was killed"
    );
    assert_eq!(
        git(&["worktree", "list"]).lines().count(),
        1,
        "the worktree was removed"
    );
}

/// `--fail-on` gates CI with exit status 3; the exports hold the tables,
/// the units and the interval; a past run prints whole; two runs compare.
#[test]
fn fail_on_exports_history_run_and_compare() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let script = cpu_script(tmp.path(), "slower", "sum(range(2000))", "sum(range(6000))");
    let (md, csv, js) = (
        tmp.path().join("r.md"),
        tmp.path().join("r.csv"),
        tmp.path().join("r.json"),
    );
    let run = |fail_on: &str| {
        abbench()
            .arg("run")
            .arg(&script)
            .args([
                "--max-pairs",
                "12",
                "--show-output",
                "--fail-on",
                fail_on,
                "--export-markdown",
            ])
            .arg(&md)
            .arg("--export-csv")
            .arg(&csv)
            .arg("--export-json")
            .arg(&js)
            .env("ABBENCH_DATA_DIR", &data)
            .output()
            .unwrap()
    };
    let gated = run("regression,inconclusive");
    let stdout = String::from_utf8_lossy(&gated.stdout);
    assert!(stdout.contains("VERDICT  regression"), "{stdout}");
    assert_eq!(
        gated.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&gated.stderr)
    );
    assert!(String::from_utf8_lossy(&gated.stderr).contains("--fail-on"));
    assert!(
        stdout.contains("output of the first `ab` process"),
        "{stdout}"
    );
    let passed = run("below");
    assert_eq!(passed.status.code(), Some(0), "a regression is not `below`");

    let markdown = std::fs::read_to_string(&md).unwrap();
    for needle in [
        "| Variant | Median | Min | Max | CV | n |",
        "|:---|---:|",
        "| A (current) |",
        " µs |",
        "| Speedup (A / B) | 0.",
        "x [0.",
        "**regression**",
    ] {
        assert!(
            markdown.contains(needle),
            "{needle:?} missing from:\n{markdown}"
        );
    }
    let table = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("run_id,domain,variant,unit,n,median"),
        "{table}"
    );
    assert_eq!(lines.len(), 3, "{table}");
    assert!(
        lines[1].contains(",a,s,") && lines[2].contains(",b,s,"),
        "{table}"
    );
    let full: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&js).unwrap()).unwrap();
    assert_eq!(full["verdict"], "regression");
    // --show-output: the first counted process of each role, as it printed.
    assert_eq!(full["first_output"][0]["role"], "ab", "{full}");
    assert!(full["first_output"][0]["stdout"]
        .as_str()
        .unwrap()
        .contains("ABBENCH {"));
    let run_id = full["run_id"].as_str().unwrap().to_string();

    let past = abbench()
        .args(["history", "--run-id", &run_id])
        .env("ABBENCH_DATA_DIR", &data)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&past.stdout);
    assert!(
        past.status.success()
            && text.contains(&format!("abbench run {run_id}"))
            && text.contains("VERDICT  regression"),
        "{text}"
    );

    let listed = abbench()
        .args(["history", "--json"])
        .env("ABBENCH_DATA_DIR", &data)
        .output()
        .unwrap();
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let first = listed["runs"][1]["run_id"].as_str().unwrap().to_string();
    let c = json_of(
        abbench()
            .args(["compare", &first, &run_id, "--json"])
            .env("ABBENCH_DATA_DIR", &data),
    );
    assert_eq!(c["same_script"], true);
    assert_eq!(c["first"]["unit"], "x");
    assert!(c["change"].as_f64().unwrap().abs() < 0.5, "{c}");
    assert!(c["summary"].as_str().unwrap().contains("intervals"), "{c}");
    let unknown = abbench()
        .args(["history", "--run-id", "nope"])
        .env("ABBENCH_DATA_DIR", &data)
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("abbench history"));
}
