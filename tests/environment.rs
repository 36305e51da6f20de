//! Runner detection as users lay out projects, and `check_environment`,
//! over real MCP stdio with real virtualenvs the tests create.

mod common;

use std::path::Path;

use serde_json::{json, Value};

fn venv(dir: &Path) -> String {
    let ok = std::process::Command::new("python3")
        .args(["-m", "venv"])
        .arg(dir)
        .status()
        .unwrap()
        .success();
    assert!(ok, "python3 -m venv {}", dir.display());
    dir.join("bin/python").display().to_string()
}

fn tool<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no tool {name} in {report:#}"))
}

#[tokio::test]
async fn a_subfolder_of_a_project_uses_the_projects_venv_everywhere() {
    let server = common::start().await;
    let project = tempfile::tempdir().unwrap();
    let root = project.path();
    std::fs::write(root.join("pyproject.toml"), "[project]\nname = \"shop\"\n").unwrap();
    let python = venv(&root.join(".venv"));
    let sub = root.join("src/shop");
    std::fs::create_dir_all(&sub).unwrap();

    let report = server
        .call_ok("check_environment", json!({"cwd": sub}))
        .await;
    assert_eq!(report["runner"]["argv"], json!([python]), "{report:#}");
    assert_eq!(report["project_root"], root.display().to_string());
    let tried = report["runner"]["tried"].to_string();
    assert!(tried.contains("src/shop: no .venv"), "{tried}");
    assert_eq!(report["python"]["in_virtualenv"], true);
    assert!(tool(&report, "memray")["detail"]
        .as_str()
        .unwrap()
        .contains("provision"));
    assert_eq!(report["domains"].as_array().unwrap().len(), 4);
    assert!(report["machine"]["cores"].as_u64().unwrap() >= 1);

    // generate_ab_script shows the commands with the runner run_ab_benchmark will use.
    let bench = tempfile::tempdir().unwrap();
    let out = server
        .call_ok(
            "generate_ab_script",
            json!({"name": "sub", "domain": "cpu", "code_a": "return 1", "code_b": "return 2",
                   "number": 10, "dir": bench.path(), "cwd": sub}),
        )
        .await;
    assert_eq!(out["runner"]["argv"], json!([python]));
    let path = out["path"].as_str().unwrap();
    assert_eq!(out["commands"]["a"], json!([format!("{python} {path} a")]));
    let r = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": path, "cwd": sub, "max_pairs": 6, "min_gain": 0.5}),
        )
        .await;
    assert_eq!(r["runner"]["argv"], json!([python]));
    assert_eq!(r["environment"]["python_executable"], python);
}

#[tokio::test]
async fn an_active_virtualenv_wins_and_a_missing_uv_is_named() {
    let server = common::start().await;
    let active = tempfile::tempdir().unwrap();
    let python = venv(active.path());
    let project = tempfile::tempdir().unwrap();
    std::fs::write(project.path().join("uv.lock"), "version = 1\n").unwrap();

    let report = server
        .call_ok(
            "check_environment",
            json!({"cwd": project.path(), "env": {"VIRTUAL_ENV": active.path()}}),
        )
        .await;
    assert_eq!(report["runner"]["argv"], json!([python]), "{report:#}");
    assert!(report["runner"]["chosen_because"]
        .as_str()
        .unwrap()
        .contains("VIRTUAL_ENV"));

    if abbench::python::runner::find_on_path("uv").is_some() {
        return; // the rest is about a machine without uv
    }
    let report = server
        .call_ok("check_environment", json!({"cwd": project.path()}))
        .await;
    assert!(report["runner"].is_null());
    let problems = report["problems"].to_string();
    assert!(
        problems.contains("uv.lock")
            && problems.contains("`uv` is not on PATH")
            && problems.contains("pip install uv"),
        "{problems}"
    );
    let msg = server
        .call_err(
            "generate_ab_script",
            json!({"name": "uvp", "domain": "cpu", "code_a": "return 1", "code_b": "return 2",
                   "cwd": project.path()}),
        )
        .await;
    assert!(msg.contains("`uv` is not on PATH"), "{msg}");
}

#[test]
fn doctor_prints_the_report_and_its_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_abbench"))
        .args(["doctor", "--cwd"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for expected in ["runner   python3", "memray", "machine  ", "cores"] {
        assert!(text.contains(expected), "{expected:?} missing in:\n{text}");
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_abbench"))
        .args(["doctor", "--json", "--runner", "no-such-python", "--cwd"])
        .arg(dir.path())
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["python"].is_null());
    assert!(
        report["problems"]
            .to_string()
            .contains("does not start Python"),
        "{report:#}"
    );
}
