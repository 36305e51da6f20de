//! `run_ab_benchmark` over real MCP stdio, with real python3 and memray.

mod common;

use std::time::{Duration, Instant};

use rmcp::model::{CallToolRequestParams, ClientRequest};
use rmcp::service::PeerRequestOptions;
use serde_json::{json, Value};

const WORK: &str =
    "def work(n):\n    t = 0\n    for i in range(n):\n        t += i * i\n    return t";

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[tokio::test]
async fn cpu_3x_speedup_is_above_threshold_with_every_figure() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let script = common::generate(
        &server,
        dir.path(),
        json!({
            "name": "work3x", "domain": "cpu", "setup": WORK,
            "code_a": "work(30000)", "code_b": "work(10000)", "repeat": 3,
        }),
    )
    .await;
    let r = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": script, "cwd": dir.path(), "seed": 42}),
        )
        .await;
    assert_eq!(r["verdict"], "above_threshold", "{r:#}");
    assert_eq!(r["domain"], "cpu");
    let speedup = &r["speedup"];
    assert!((2.4..3.6).contains(&f(&speedup["estimate"])), "{speedup}");
    assert!(f(&speedup["low"]) > 1.2 && f(&speedup["low"]) <= f(&speedup["estimate"]));
    assert!((f(&r["gain"]["estimate"]) - (f(&speedup["estimate"]) - 1.0)).abs() < 1e-9);
    assert_eq!(r["pairs"], 6, "a clear 3x stops at the first look");
    assert_eq!(r["stopped_at_look"], 1);
    assert_eq!(r["stopped_because"], "verdict");
    assert_eq!(r["seed"], 42);
    let looks: Vec<u64> = r["looks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["pairs"].as_u64().unwrap())
        .collect();
    assert_eq!(looks, [6, 12, 24, 30]);
    assert_eq!(r["looks"][0]["alpha"], 0.02);
    assert!((f(&r["confidence"]) - 0.98).abs() < 1e-12);

    // The paired design, why it ran, and what it was chosen from.
    let design = &r["design"];
    assert_eq!(design["isolation"], "paired");
    assert!(design["chosen_because"]
        .as_str()
        .unwrap()
        .contains("the default for cpu"));
    assert!(design["block"]["why"]
        .as_str()
        .unwrap()
        .contains("ms blocks"));
    assert!(f(&design["block"]["block_s"]) > 0.0);
    assert!(design["rounds"][0]["rounds"].as_u64().unwrap() >= 5);
    assert!(design["first_look_because"]
        .as_str()
        .unwrap()
        .contains("signed-rank"));
    assert!(f(&design["variance"]["within_round_log_sd"]) > 0.0);
    let per_process = design["process_speedups"].as_array().unwrap();
    assert_eq!(per_process.len(), 6);
    assert!(per_process.iter().all(|s| f(s) > 1.2));
    let checks = &design["interference"];
    assert!(
        checks["state_changed_by_a"].as_array().unwrap().is_empty(),
        "{checks}"
    );
    assert!((0.8..1.25).contains(&f(&checks["aa_speedup"])), "{checks}");

    let order = r["order"].as_array().unwrap();
    assert_eq!(order.len(), 6);
    assert!(order.iter().all(|o| {
        let o = o.as_str().unwrap();
        o.len() >= 10 && o.as_bytes().chunks(2).all(|c| c == b"AB" || c == b"BA")
    }));
    assert_eq!(r["a"]["unit"], "s");
    assert_eq!(r["a"]["values"].as_array().unwrap().len(), 6);
    assert!(f(&r["a"]["median"]) > f(&r["b"]["median"]));
    assert_eq!(r["runner"]["argv"], json!(["python3"]));
    assert!(r["runner"]["chosen_because"]
        .as_str()
        .unwrap()
        .contains("python3 from PATH"));
    let ab = r["commands"]["ab"].as_str().unwrap();
    assert!(ab.contains(&format!("{script} ab --rounds ")), "{ab}");
    assert!(r["commands"]["warm_up"][0]
        .as_str()
        .unwrap()
        .contains(&format!("{script} ab --pilot --seed ")));
    assert!(r["measured_by"].as_str().unwrap().contains("`ab` mode"));
    assert!(r["environment"]["python_version"]
        .as_str()
        .unwrap()
        .starts_with('3'));
    assert!(r["reason"]
        .as_str()
        .unwrap()
        .contains("above the threshold 1.200x"));
    assert!(r["run_id"].as_str().unwrap().len() > 10);

    // Progress went out after every process: the pilot + 6 counted.
    let progress = server.progress.lock().unwrap().clone();
    assert!(
        progress.len() >= 7,
        "{} progress notifications",
        progress.len()
    );
    assert!(progress.windows(2).all(|w| w[1].progress >= w[0].progress));
    assert_eq!(progress.last().unwrap().total, Some(31.0));
}

#[tokio::test]
async fn process_isolation_runs_each_variant_alone_when_asked() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let script = common::generate(
        &server,
        dir.path(),
        json!({
            "name": "work3x_iso", "domain": "cpu", "setup": WORK,
            "code_a": "work(30000)", "code_b": "work(10000)", "repeat": 3,
        }),
    )
    .await;
    let r = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": script, "cwd": dir.path(), "isolation": "process"}),
        )
        .await;
    assert_eq!(r["verdict"], "above_threshold", "{r:#}");
    assert_eq!(r["design"]["isolation"], "process");
    assert!(r["design"]["chosen_because"]
        .as_str()
        .unwrap()
        .contains("given as `isolation`"));
    assert_eq!(r["pairs"], 5, "a clear 3x stops at the first look");
    assert_eq!(r["looks"][0]["pairs"], 5);
    assert_eq!(r["order"].as_array().unwrap().len(), 5);
    assert_eq!(r["measured_by"], "the script's ABBENCH line");
    assert!(r["commands"]["a"]
        .as_str()
        .unwrap()
        .ends_with(&format!("{script} a")));
    assert_eq!(r["commands"]["warm_up"].as_array().unwrap().len(), 2);
    assert!(r["design"]["interference"].is_null());
}

#[tokio::test]
async fn identical_variants_are_not_above_threshold() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let script = common::generate(
        &server,
        dir.path(),
        json!({
            "name": "same", "domain": "cpu", "setup": WORK,
            "code_a": "work(5000)", "code_b": "work(5000)", "repeat": 3,
        }),
    )
    .await;
    let r = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": script, "cwd": dir.path()}),
        )
        .await;
    assert_ne!(r["verdict"], "above_threshold", "{r:#}");
    let speedup = f(&r["speedup"]["estimate"]);
    assert!((0.85..1.18).contains(&speedup), "A/A speedup {speedup}");
}

#[tokio::test]
async fn memory_50_mib_saving_is_measured_by_memray() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let script = common::generate(
        &server,
        dir.path(),
        json!({
            "name": "mem50", "domain": "memory",
            "code_a": "block = [0] * (50 * 1048576 // 8)\nreturn len(block)",
            "code_b": "return 50 * 1048576 // 8",
        }),
    )
    .await;
    let r = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": script, "cwd": dir.path()}),
        )
        .await;
    assert_eq!(r["verdict"], "above_threshold", "{r:#}");
    let measured_by = r["measured_by"].as_str().unwrap();
    assert!(
        measured_by.contains("memray 1.20.0") && measured_by.contains("the variant's own peak"),
        "{measured_by}"
    );
    let saved = f(&r["saved_bytes"]["estimate"]);
    let mib50 = 50.0 * 1_048_576.0;
    assert!(
        (saved - mib50).abs() / mib50 < 0.01,
        "saved {saved} bytes vs 50 MiB"
    );
    // Against the variant's own footprint the saving is nearly all of it;
    // against the whole process (interpreter and setup included) less.
    assert!(f(&r["saved_fraction"]["estimate"]) > 0.95, "{r:#}");
    let whole = f(&r["process_peak"]["saved_fraction"]["estimate"]);
    assert!(
        (0.5..f(&r["saved_fraction"]["estimate"])).contains(&whole),
        "{r:#}"
    );
    assert!(f(&r["process_peak"]["a"]["median"]) > f(&r["a"]["median"]));
    assert_eq!(r["a"]["unit"], "bytes");
    assert_eq!(r["design"]["isolation"], "process");
    assert_eq!(
        r["pairs"], 4,
        "exactly repeatable peaks decide at the first look"
    );
    let cmd = r["commands"]["a"].as_str().unwrap();
    assert!(cmd.starts_with("env ABBENCH_MEMRAY=1 "), "{cmd}");
    assert!(cmd.ends_with(&format!("{script} a")), "{cmd}");
    assert!(r["commands"]["warm_up"][0]
        .as_str()
        .unwrap()
        .ends_with(&format!("{script} warmup")));
    assert!(r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|w| !w.as_str().unwrap().contains("fallback")));
}

#[tokio::test]
async fn async_gather_beats_sequential_awaits() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let script = common::generate(
        &server,
        dir.path(),
        json!({
            "name": "gather", "domain": "async", "setup": "import asyncio",
            "code_a": "for _ in range(5):\n    await asyncio.sleep(0.005)",
            "code_b": "await asyncio.gather(*(asyncio.sleep(0.005) for _ in range(5)))",
            "concurrency": 10, "repeat": 3,
        }),
    )
    .await;
    let r = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": script, "cwd": dir.path()}),
        )
        .await;
    assert_eq!(r["verdict"], "above_threshold", "{r:#}");
    assert!(f(&r["speedup"]["estimate"]) > 2.0);
}

#[tokio::test]
async fn deferred_heavy_import_beats_eager_import() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("heavy_dep.py"),
        "TABLE = [i * i for i in range(200_000)]\n",
    )
    .unwrap();
    std::fs::write(
        d.join("eager_app.py"),
        "import heavy_dep\n\ndef f():\n    return heavy_dep.TABLE[3]\n",
    )
    .unwrap();
    std::fs::write(
        d.join("lazy_app.py"),
        "def f():\n    import heavy_dep\n    return heavy_dep.TABLE[3]\n",
    )
    .unwrap();
    let script = common::generate(
        &server,
        d,
        json!({
            "name": "imports", "domain": "structure",
            "code_a": "import eager_app", "code_b": "import lazy_app",
            "modules": ["eager_app", "lazy_app", "heavy_dep"], "number": 5, "repeat": 3,
        }),
    )
    .await;
    let r = server
        .call_ok("run_ab_benchmark", json!({"script": script, "cwd": d}))
        .await;
    assert_eq!(r["verdict"], "above_threshold", "{r:#}");
}

/// A candidate that raises where A returns: generate names the argument
/// and its line, the run says different_results without timing anything,
/// and with the check off the pilot's failure is an error with its traceback.
#[tokio::test]
async fn a_raising_variant_is_named_by_generate_and_run() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let args = json!({
        "name": "raises", "domain": "cpu", "dir": dir.path(),
        "code_a": "return 1", "code_b": "x = 1\nraise ValueError('candidate is broken')", "number": 10,
    });
    let msg = server.call_err("generate_ab_script", args.clone()).await;
    assert!(
        msg.starts_with("in `code_b`, line 2: ValueError: candidate is broken")
            && msg.contains("nothing was written"),
        "{msg}"
    );
    let mut off = args.clone();
    off["equivalence"] = json!("off");
    let script = common::generate(&server, dir.path(), off).await;
    let r = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": script, "cwd": dir.path()}),
        )
        .await;
    assert_eq!(r["verdict"], "different_results", "{r:#}");
    let difference = r["equivalence"]["first_difference"].as_str().unwrap();
    assert!(
        difference.starts_with("B raised ValueError: candidate is broken")
            && difference.ends_with("where A returned 1"),
        "{difference}"
    );
    assert!(
        r["a"].is_null() && r["pairs"] == 0,
        "nothing was timed: {r:#}"
    );
    assert!(r["commands"]["verify"].as_str().unwrap().contains(&script));

    let msg = server
        .call_err(
            "run_ab_benchmark",
            json!({"script": script, "cwd": dir.path(), "equivalence": "off"}),
        )
        .await;
    assert!(msg.contains("variant b failed with exit code 1"), "{msg}");
    assert!(
        msg.contains("Traceback") && msg.contains("ValueError: candidate is broken"),
        "{msg}"
    );
    assert!(msg.contains(&format!("{script} ab --pilot")), "{msg}");
    assert!(!msg.contains("ABBENCH-R"), "markers are not quoted: {msg}");
}

#[tokio::test]
async fn a_hanging_variant_times_out_and_leaves_nothing_running() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let name = common::unique("hang");
    let script = common::generate(
        &server,
        dir.path(),
        json!({
            "name": name, "domain": "cpu", "setup": "import time",
            "code_a": "return 1", "code_b": "time.sleep(600)", "number": 1, "equivalence": "off",
        }),
    )
    .await;
    let start = Instant::now();
    let msg = server
        .call_err(
            "run_ab_benchmark",
            json!({"script": script, "cwd": dir.path(), "timeout_s": 1.5}),
        )
        .await;
    assert!(msg.contains("variant b timed out after 1.5 s"), "{msg}");
    assert!(start.elapsed() < Duration::from_secs(30));
    assert!(
        common::processes_with(&name).is_empty(),
        "{:?}",
        common::processes_with(&name)
    );
}

#[tokio::test]
async fn a_cancelled_request_kills_its_processes_within_a_second() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let name = common::unique("cancel");
    let script = common::generate(
        &server,
        dir.path(),
        json!({
            "name": name, "domain": "cpu", "setup": "import time",
            "code_a": "time.sleep(600)", "code_b": "time.sleep(600)", "number": 1, "equivalence": "off",
        }),
    )
    .await;
    let Value::Object(args) = json!({"script": script, "cwd": dir.path()}) else {
        unreachable!()
    };
    let request = ClientRequest::CallToolRequest(rmcp::model::Request::new(
        CallToolRequestParams::new("run_ab_benchmark").with_arguments(args),
    ));
    let handle = server
        .client
        .send_request_with_option(request, PeerRequestOptions::default())
        .await
        .unwrap();
    // Wait until the variant is really running, then cancel.
    let deadline = Instant::now() + Duration::from_secs(20);
    while common::processes_with(&name).is_empty() {
        assert!(Instant::now() < deadline, "the variant never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    handle.cancel(Some("test".into())).await.unwrap();
    let cancelled = Instant::now();
    common::all_gone(&name, cancelled, Duration::from_secs(1)).await;
    // The server is still there.
    assert!(!server.client.list_all_tools().await.unwrap().is_empty());
}

#[tokio::test]
async fn hand_written_scripts_need_a_domain_and_fall_back_to_wall_time() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("bench.py");
    std::fs::write(&script, "import sys\nn = 300000 if sys.argv[1] == 'a' else 100000\nt = 0\nfor i in range(n):\n    t += i\n").unwrap();
    let msg = server
        .call_err(
            "run_ab_benchmark",
            json!({"script": script, "cwd": dir.path()}),
        )
        .await;
    assert!(msg.contains("pass `domain`"), "{msg}");
    let r = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": script, "cwd": dir.path(), "domain": "cpu", "min_gain": 0.05}),
        )
        .await;
    assert_eq!(
        r["measured_by"],
        "process wall time (fallback: no ABBENCH line)"
    );
    let warnings = r["warnings"].to_string();
    assert!(
        warnings.contains("interpreter start-up included"),
        "{warnings}"
    );

    std::fs::write(&script, "print('ABBENCH {not json')\n").unwrap();
    let msg = server
        .call_err(
            "run_ab_benchmark",
            json!({"script": script, "cwd": dir.path(), "domain": "cpu"}),
        )
        .await;
    assert!(
        msg.contains("malformed ABBENCH line") && msg.contains("{not json"),
        "{msg}"
    );
}

#[tokio::test]
async fn bad_arguments_are_clear_errors() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let script = common::generate(&server, dir.path(), json!({
        "name": "args", "domain": "cpu", "code_a": "return 1", "code_b": "return 2", "number": 10,
    })).await;
    let cases = [
        (
            json!({"script": dir.path().join("nope.py")}),
            "cannot read `script`",
        ),
        (json!({"script": dir.path()}), "is a directory"),
        (
            json!({"script": script, "cwd": "/nonexistent/dir"}),
            "`cwd`",
        ),
        (
            json!({"script": script, "runner": "no-such-python"}),
            "not found",
        ),
        (
            json!({"script": script, "env": {"BAD=KEY": "1"}}),
            "not a valid environment variable name",
        ),
        (json!({"script": script, "min_pairs": 3}), "min_pairs"),
        (json!({"script": script, "min_pairs": 5}), "6 <= min_pairs"),
        (
            json!({"script": script, "isolation": "together"}),
            "expected `paired` or `process`",
        ),
        (
            json!({"script": script, "domain": "memory"}),
            "contradicts the script",
        ),
        (
            json!({"script": script, "min_saved_bytes": 5}),
            "apply to memory",
        ),
    ];
    for (args, expected) in cases {
        let msg = server.call_err("run_ab_benchmark", args.clone()).await;
        assert!(msg.contains(expected), "{args}: {msg}");
    }
}

#[tokio::test]
async fn runs_survive_a_server_restart_in_the_ledger() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let script = common::generate(
        &server,
        dir.path(),
        json!({
            "name": "ledger", "domain": "cpu", "setup": WORK,
            "code_a": "work(20000)", "code_b": "work(5000)", "repeat": 3,
        }),
    )
    .await;
    let r = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": script, "cwd": dir.path()}),
        )
        .await;
    let run_id = r["run_id"].as_str().unwrap().to_string();
    let common::Server {
        client, data_dir, ..
    } = server;
    client.cancel().await.unwrap();

    // A new server on the same data directory records into the same ledger.
    let server = common::start_with_data_dir(data_dir).await;
    let r2 = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": script, "cwd": dir.path()}),
        )
        .await;
    let ledger = abbench::ledger::Ledger::open(server.data_dir.path()).unwrap();
    // Read back as the typed run it was written from.
    let stored: abbench::bench::FiledRun = ledger
        .get_run(&run_id)
        .unwrap()
        .expect("first run still in the ledger");
    assert_eq!(stored.verdict, abbench::verdict::Verdict::AboveThreshold);
    assert_eq!(json!(stored.result.a.unwrap().values), r["a"]["values"]);
    assert_eq!(stored.request.script.to_str(), Some(script.as_str()));
    assert!(ledger
        .get_run::<serde_json::Value, serde_json::Value>(r2["run_id"].as_str().unwrap())
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn memory_without_memray_falls_back_to_tracemalloc_or_fails_as_asked() {
    // A tools folder of its own: the shared one may already hold a memray
    // that `python3 -S` (the same interpreter) could import.
    let tools = tempfile::tempdir().unwrap();
    let server = common::start_with_env(
        tempfile::tempdir().unwrap(),
        &[("ABBENCH_TOOLS_DIR", tools.path().to_str().unwrap())],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let script = common::generate(
        &server,
        dir.path(),
        json!({
            "name": "nomemray", "domain": "memory",
            "code_a": "block = [0] * (40 * 1048576 // 8)\nreturn len(block)",
            "code_b": "return 40 * 1048576 // 8",
        }),
    )
    .await;
    // `python3 -S` skips site-packages: no memray there, and no pip to
    // provision one with (nor uv on this machine's PATH, as in CI).
    if abbench::python::runner::find_on_path("uv").is_some() {
        return;
    }
    let msg = server.call_err("run_ab_benchmark", json!({
        "script": script, "cwd": dir.path(), "runner": "python3 -S", "allow_fallback": false,
    })).await;
    assert!(
        msg.contains("memray 1.20.0 could not be provisioned for `python3 -S`")
            && msg.contains("python3 -S -m pip install memray==1.20.0")
            && msg.contains("allow_fallback"),
        "{msg}"
    );
    let r = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": script, "cwd": dir.path(), "runner": "python3 -S"}),
        )
        .await;
    assert_eq!(r["verdict"], "above_threshold", "{r:#}");
    assert_eq!(
        r["measured_by"],
        "tracemalloc peak of the call (fallback: no memray)"
    );
    assert!(
        r["warnings"]
            .to_string()
            .contains("fallback: memray 1.20.0 could not be provisioned"),
        "{}",
        r["warnings"]
    );
    let saved = f(&r["saved_bytes"]["estimate"]);
    assert!(
        (saved - 40.0 * 1_048_576.0).abs() < 2.0 * 1_048_576.0,
        "{saved}"
    );
}

#[tokio::test]
async fn concurrent_runs_take_turns_on_the_machine_lock() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("intervals.log");
    let mut scripts = Vec::new();
    for tag in ["first", "second"] {
        // Every process logs its own lifetime, so overlap can be checked.
        let setup = format!("{}\n{WORK}", common::lifetime_logger(&log, tag));
        scripts.push(
            common::generate(
                &server,
                dir.path(),
                json!({
                    "name": format!("lock_{tag}"), "domain": "cpu", "setup": setup,
                    "code_a": "work(9000)", "code_b": "work(3000)", "number": 20, "repeat": 3,
                }),
            )
            .await,
        );
    }
    let (r1, r2) = tokio::join!(
        server.call_ok(
            "run_ab_benchmark",
            json!({"script": scripts[0], "cwd": dir.path()})
        ),
        server.call_ok(
            "run_ab_benchmark",
            json!({"script": scripts[1], "cwd": dir.path()})
        ),
    );
    assert_eq!(r1["verdict"], "above_threshold");
    assert_eq!(r2["verdict"], "above_threshold");
    let waited = f(&r1["lock_wait_s"]).max(f(&r2["lock_wait_s"]));
    assert!(waited > 0.5, "one run waited for the other: {waited}");
    // Every process of both runs: the equivalence check, the pilot and the counted processes.
    let processes = r1["pairs"].as_u64().unwrap() + r2["pairs"].as_u64().unwrap() + 4;
    common::assert_no_overlap(&log, processes as usize);
}

#[tokio::test]
async fn a_venv_without_memray_is_measured_with_a_provisioned_one_and_left_unchanged() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let venv = dir.path().join("venv");
    let made = std::process::Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(made.success());
    let python = venv.join("bin/python");
    let pip_list = || {
        let out = std::process::Command::new(&python)
            .args([
                "-m",
                "pip",
                "list",
                "--format=freeze",
                "--disable-pip-version-check",
            ])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let before = pip_list();
    assert!(!before.contains("memray"), "{before}");
    let script = common::generate(
        &server,
        dir.path(),
        json!({
            "name": "slots", "domain": "memory",
            "setup": "def point_class(slots):\n    class P:\n        if slots:\n            __slots__ = ('x',)\n        def __init__(self, x):\n            self.x = x\n    return P\nP = point_class(False)\nS = point_class(True)\nXS = list(range(20000))",
            "code_a": "return [P(x) for x in XS]", "code_b": "return [S(x) for x in XS]",
        }),
    )
    .await;
    let r = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": script, "cwd": dir.path(), "runner": python}),
        )
        .await;
    let measured_by = r["measured_by"].as_str().unwrap();
    assert!(
        measured_by.contains("provisioned by abbench in")
            && measured_by.contains(common::tools_dir().to_str().unwrap()),
        "{measured_by}"
    );
    assert_eq!(r["verdict"], "above_threshold", "{r:#}");
    assert_eq!(pip_list(), before, "the venv's packages are unchanged");
    assert!(
        !r["warnings"].to_string().contains("fallback"),
        "{}",
        r["warnings"]
    );
}
