//! Installing abbench without Rust: the wheel maturin builds (pip, uvx)
//! and the Claude Code plugin and marketplace, checked with the real
//! Claude Code CLI. Everything runs in temporary homes and venvs.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Speaks `initialize` to a server started by `cmd` and returns the result.
fn initialize(cmd: &mut Command) -> Value {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the server");
    let request = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "install-test", "version": "0"}}});
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{request}").unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();
    let reply: Value =
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON-RPC: {line:?}"));
    reply["result"].clone()
}

/// Builds the wheel with maturin (its own target folder: the one of the
/// running `cargo test` is locked) and returns the folder it is in.
fn build_wheel(out: &Path) -> PathBuf {
    let maturin = common::test_python().with_file_name("maturin");
    common::must(
        Command::new(maturin)
            .args(["build", "--release", "--quiet", "--out"])
            .arg(out)
            .current_dir(repo())
            .env(
                "CARGO_TARGET_DIR",
                Path::new(env!("CARGO_TARGET_TMPDIR")).join("wheel-target"),
            ),
    );
    let wheels: Vec<_> = std::fs::read_dir(out).unwrap().flatten().collect();
    assert_eq!(wheels.len(), 1, "one wheel built");
    let name = wheels[0].file_name().into_string().unwrap();
    assert!(
        name.starts_with(&format!("abbench-{}-py3-none-", env!("CARGO_PKG_VERSION"))),
        "{name}"
    );
    out.to_path_buf()
}

/// A PATH with uv's `uvx` and node but no `abbench`, plus the environment
/// that makes uvx take the local wheel, offline, with caches in `tmp`.
fn uvx_env(cmd: &mut Command, wheels: &Path, tmp: &Path) {
    let uv_bin = common::test_python().parent().unwrap().to_path_buf();
    let mut dirs = vec![uv_bin];
    if let Some(node) = abbench::python::runner::find_on_path("node") {
        dirs.push(node.parent().unwrap().to_path_buf());
    }
    dirs.extend(["/usr/bin", "/bin"].map(PathBuf::from));
    let path = std::env::join_paths(&dirs).unwrap();
    for dir in &dirs {
        assert!(
            !dir.join("abbench").exists(),
            "abbench is on the test PATH in {dir:?}"
        );
    }
    cmd.env("PATH", path)
        .env("UV_FIND_LINKS", wheels)
        .env("UV_OFFLINE", "1")
        .env("UV_NO_CONFIG", "1")
        .env("UV_CACHE_DIR", tmp.join("uv-cache"))
        .env("UV_TOOL_DIR", tmp.join("uv-tools"))
        .env("XDG_CACHE_HOME", tmp.join("cache"))
        .env("ABBENCH_DATA_DIR", tmp.join("data"));
}

#[test]
fn the_wheel_installs_and_serves_and_the_plugin_connects_through_uvx() {
    let tmp = tempfile::tempdir().unwrap();
    let wheels = build_wheel(&tmp.path().join("wheels"));

    // pip: a fresh venv, the wheel, the same program.
    let venv = tmp.path().join("venv");
    common::must(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    common::must(
        Command::new(venv.join("bin/python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-index",
                "--find-links",
            ])
            .arg(&wheels)
            .arg("abbench"),
    );
    let abbench = venv.join("bin/abbench");
    let version = common::must(Command::new(&abbench).arg("--version"));
    assert_eq!(
        version.trim(),
        format!("abbench {}", env!("CARGO_PKG_VERSION"))
    );
    let info = initialize(
        Command::new(&abbench)
            .arg("serve")
            .env("ABBENCH_DATA_DIR", tmp.path().join("data")),
    );
    assert_eq!(info["serverInfo"]["name"], "abbench", "{info}");
    assert_eq!(info["protocolVersion"], "2025-11-25");

    // The plugin's check proves uvx resolves the pinned version: silent.
    let mut check = Command::new(repo().join("plugin/bin/abbench-mcp"));
    uvx_env(&mut check, &wheels, tmp.path());
    let said = check.arg("--check").output().unwrap();
    assert!(
        said.status.success() && said.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&said.stdout)
    );

    // The plugin's launcher with uvx and no abbench on PATH.
    let mut launcher = Command::new(repo().join("plugin/bin/abbench-mcp"));
    uvx_env(&mut launcher, &wheels, tmp.path());
    let info = initialize(&mut launcher);
    assert_eq!(
        info["serverInfo"]["version"],
        env!("CARGO_PKG_VERSION"),
        "{info}"
    );

    // Claude Code itself: marketplace, install, and a connected server.
    let claude = common::claude_cli();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let run_claude = |args: &[&str]| {
        let mut cmd = Command::new(&claude);
        cmd.args(args)
            .env("HOME", &home)
            .env_remove("CLAUDE_CONFIG_DIR");
        uvx_env(&mut cmd, &wheels, tmp.path());
        common::must(&mut cmd)
    };
    run_claude(&["plugin", "marketplace", "add", repo().to_str().unwrap()]);
    let installed = run_claude(&["plugin", "install", "abbench@abbench"]);
    assert!(installed.contains("abbench@abbench"), "{installed}");
    let listed = run_claude(&["mcp", "list"]);
    let line = listed
        .lines()
        .find(|l| l.contains("plugin:abbench:abbench"))
        .unwrap_or_else(|| panic!("the plugin's server is not listed:\n{listed}"));
    assert!(line.contains("Connected"), "{listed}");
}

#[test]
fn the_plugin_and_the_marketplace_validate() {
    let claude = common::claude_cli();
    let home = tempfile::tempdir().unwrap();
    for dir in [repo(), repo().join("plugin")] {
        let out = Command::new(&claude)
            .args(["plugin", "validate"])
            .arg(&dir)
            .env("HOME", home.path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{dir:?}:\n{text}");
        assert!(
            text.contains("Validation passed") && !text.contains('⚠') && !text.contains('✘'),
            "{dir:?}:\n{text}"
        );
    }
}

/// What the SessionStart check tells the user, run with `path` as PATH.
fn check_with(path: &str, vars: &[(&str, &Path)]) -> Option<String> {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg(repo().join("plugin/bin/abbench-mcp"))
        .arg("--check")
        .env_clear()
        .env("PATH", path);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success());
    if out.stdout.is_empty() {
        return None;
    }
    let said: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(said["hookSpecificOutput"]["hookEventName"], "SessionStart");
    Some(said["systemMessage"].as_str().unwrap().to_string())
}

#[test]
fn the_session_start_check_says_why_and_what_to_run_and_is_silent_otherwise() {
    let tmp = tempfile::tempdir().unwrap();
    let from_source = format!("cargo install --locked --path {}", repo().display());

    // Nothing on PATH at all (the message needs no tool).
    let msg = check_with("/nonexistent", &[("HOME", tmp.path())]).unwrap();
    assert!(
        msg.contains("none of abbench, uvx or pipx is on PATH")
            && msg.contains("uv tool install abbench==")
            && msg.contains(&from_source)
            && !msg.contains("pip install --user"),
        "{msg}"
    );

    // uvx on PATH, but abbench does not resolve: the reason, and a command that works.
    let uv_bin = common::test_python().parent().unwrap().to_path_buf();
    let links = tmp.path().join("links");
    std::fs::create_dir_all(&links).unwrap();
    let path = format!("{}:/usr/bin:/bin", uv_bin.display());
    let uv_cache = tmp.path().join("uv-cache");
    let cache = tmp.path().join("cache");
    let vars: [(&str, &Path); 5] = [
        ("HOME", tmp.path()),
        ("UV_OFFLINE", Path::new("1")),
        ("UV_FIND_LINKS", &links),
        ("UV_CACHE_DIR", &uv_cache),
        ("XDG_CACHE_HOME", &cache),
    ];
    let msg = check_with(&path, &vars).unwrap();
    assert!(
        msg.contains("`uvx --from abbench==")
            && msg.contains("abbench")
            && msg.contains(&from_source),
        "{msg}"
    );
    assert!(
        msg.contains("cause:") || msg.contains("error:"),
        "the reason: {msg}"
    );
    // The answer is cached: the launcher refuses at once, saying the same.
    let started = std::time::Instant::now();
    let mut launcher = Command::new("/bin/sh");
    launcher
        .arg(repo().join("plugin/bin/abbench-mcp"))
        .env_clear()
        .env("PATH", &path)
        .stdin(Stdio::null());
    for (k, v) in vars {
        launcher.env(k, v);
    }
    let out = launcher.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains(&from_source),
        "{stderr}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(2));

    // An abbench on PATH: nothing to say.
    let bin = Path::new(env!("CARGO_BIN_EXE_abbench")).parent().unwrap();
    let found = check_with(
        &format!("{}:/usr/bin:/bin", bin.display()),
        &[("HOME", tmp.path())],
    );
    assert_eq!(found, None);
}
