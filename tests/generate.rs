//! `generate_ab_script`, the server's identity, resources and prompt, over
//! real MCP stdio against the built binary, with real python3.

mod common;

use rmcp::model::{GetPromptRequestParams, ReadResourceRequestParams};
use serde_json::{json, Value};

#[tokio::test]
async fn initialize_reports_identity_capabilities_and_described_tools() {
    let server = common::start().await;
    let info = server.client.peer_info().expect("peer info");
    let me = info.server_info.as_ref().expect("server info");
    assert_eq!(me.name, "abbench");
    assert_eq!(me.version, env!("CARGO_PKG_VERSION"));
    assert!(info.capabilities.tools.is_some());
    assert!(info.capabilities.resources.is_some());
    assert!(info.capabilities.prompts.is_some());
    assert!(info
        .instructions
        .as_deref()
        .unwrap()
        .contains("run_ab_benchmark"));

    let tools = server.client.list_all_tools().await.unwrap();
    let tool = tools
        .iter()
        .find(|t| t.name == "generate_ab_script")
        .expect("tool listed");
    let annotations = tool.annotations.as_ref().expect("annotations");
    assert_eq!(annotations.read_only_hint, Some(false));
    assert!(annotations.title.is_some());
    let props = tool.input_schema["properties"].as_object().unwrap();
    for arg in [
        "name",
        "domain",
        "setup",
        "code_a",
        "code_b",
        "number",
        "repeat",
        "concurrency",
        "modules",
        "dir",
        "runner",
        "cwd",
    ] {
        let desc = props[arg]["description"].as_str().unwrap_or_default();
        assert!(
            desc.len() > 20,
            "argument {arg} lacks a useful description: {desc:?}"
        );
    }
    assert!(tool.output_schema.is_some(), "structured output advertised");
}

async fn generate(server: &common::Server, args: Value) -> Value {
    server.call_ok("generate_ab_script", args).await
}

#[tokio::test]
async fn cpu_script_runs_and_reports_per_call_seconds() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let out = generate(
        &server,
        json!({
            "name": "sum_loop",
            "domain": "data_structures",
            "setup": "data = list(range(20000))",
            "code_a": "total = 0\nfor x in data:\n    total += x\nreturn total",
            "code_b": "return sum(data)",
            "dir": dir.path(),
        }),
    )
    .await;
    assert_eq!(out["domain"], "cpu");
    assert_eq!(out["threshold"]["min_gain"], 0.2);
    let path = out["path"].as_str().unwrap();
    assert_eq!(
        path,
        dir.path().join("micro_bench_sum_loop.py").to_str().unwrap()
    );
    assert_eq!(out["commands"]["a"][0], format!("python3 {path} a"));
    assert!(out["measurement"]
        .as_str()
        .unwrap()
        .contains("seconds per call"));
    assert_eq!(
        std::fs::read_to_string(path).unwrap(),
        out["script"].as_str().unwrap()
    );
    let script = out["script"].as_str().unwrap();
    assert!(script.contains("def bench_a():\n    \"\"\"Current approach.\"\"\""));
    assert!(script.contains("{\"a\": bench_a, \"b\": bench_b}[sys.argv[1]]"));

    let a = common::run_variant(path, "a", dir.path());
    let b = common::run_variant(path, "b", dir.path());
    for (line, variant) in [(&a, "a"), (&b, "b")] {
        assert_eq!(line["variant"], variant);
        assert_eq!(line["unit"], "s");
        assert_eq!(line["metric"], "time_per_call");
        assert!(line["value"].as_f64().unwrap() > 0.0);
        assert_eq!(line["values"].as_array().unwrap().len(), 5);
        assert!(line["number"].as_u64().unwrap() >= 1);
    }
    // sum() beats the Python loop by far; a sanity check that A and B are the right bodies.
    assert!(a["value"].as_f64().unwrap() > 1.5 * b["value"].as_f64().unwrap());
}

#[tokio::test]
async fn explicit_number_is_used_as_given() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let out = generate(
        &server,
        json!({
            "name": "fixed", "domain": "cpu", "code_a": "return 1", "code_b": "return 2",
            "number": 1000, "repeat": 3, "dir": dir.path(),
        }),
    )
    .await;
    let line = common::run_variant(out["path"].as_str().unwrap(), "b", dir.path());
    assert_eq!(line["number"], 1000);
    assert_eq!(line["values"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn memory_script_reports_tracemalloc_bytes_outside_memray() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let out = generate(
        &server,
        json!({
            "name": "list_vs_gen",
            "domain": "memory",
            "code_a": "data = [i for i in range(2_000_000)]\nreturn sum(data)",
            "code_b": "return sum(i for i in range(2_000_000))",
            "dir": dir.path(),
        }),
    )
    .await;
    assert_eq!(out["threshold"]["min_saved_bytes"], 10 * 1_048_576);
    let path = out["path"].as_str().unwrap();
    assert_eq!(
        out["commands"]["a"],
        json!([format!("ABBENCH_MEMRAY=1 python3 {path} a")])
    );
    assert!(out["commands"]["ab"].is_null(), "memory has no paired mode");
    let a = common::run_variant(path, "a", dir.path());
    let b = common::run_variant(path, "b", dir.path());
    assert_eq!(a["unit"], "bytes");
    assert_eq!(a["measured_by"], "tracemalloc");
    let (a, b) = (a["value"].as_u64().unwrap(), b["value"].as_u64().unwrap());
    assert!(
        a > 50_000_000,
        "a list of 2M ints peaks above 50 MB, got {a}"
    );
    assert!(b < a / 10, "the generator peaks far lower: a={a} b={b}");
}

#[tokio::test]
async fn async_script_times_a_gather_batch() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let out = generate(
        &server,
        json!({
            "name": "sleeps",
            "domain": "async",
            "setup": "import asyncio",
            "code_a": "for _ in range(4):\n    await asyncio.sleep(0.005)",
            "code_b": "await asyncio.gather(*(asyncio.sleep(0.005) for _ in range(4)))",
            "concurrency": 10,
            "repeat": 3,
            "dir": dir.path(),
        }),
    )
    .await;
    assert!(out["script"]
        .as_str()
        .unwrap()
        .contains("async def bench_a():"));
    let path = out["path"].as_str().unwrap();
    let a = common::run_variant(path, "a", dir.path());
    let b = common::run_variant(path, "b", dir.path());
    assert_eq!(a["concurrency"], 10);
    assert_eq!(a["unit"], "s");
    let (a, b) = (a["value"].as_f64().unwrap(), b["value"].as_f64().unwrap());
    assert!(
        a >= 0.019,
        "four sequential 5 ms sleeps take >= 20 ms, got {a}"
    );
    assert!(b < a, "gathered sleeps are faster: a={a} b={b}");
}

#[tokio::test]
async fn structure_script_times_imports_with_clearing() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("heavy_mod.py"),
        "TABLE = [i * i for i in range(200_000)]\n",
    )
    .unwrap();
    std::fs::write(
        d.join("app_eager.py"),
        "import heavy_mod\n\ndef f():\n    return heavy_mod.TABLE[3]\n",
    )
    .unwrap();
    std::fs::write(
        d.join("app_lazy.py"),
        "def f():\n    import heavy_mod\n    return heavy_mod.TABLE[3]\n",
    )
    .unwrap();
    let out = generate(
        &server,
        json!({
            "name": "lazy_import",
            "domain": "structure",
            "code_a": "import app_eager",
            "code_b": "import app_lazy",
            "modules": ["app_eager", "app_lazy", "heavy_mod"],
            "number": 10,
            "dir": d,
        }),
    )
    .await;
    let path = out["path"].as_str().unwrap();
    let a = common::run_variant(path, "a", d);
    let b = common::run_variant(path, "b", d);
    assert_eq!(a["metric"], "import_time");
    assert_eq!(a["number"], 10);
    let (a, b) = (a["value"].as_f64().unwrap(), b["value"].as_f64().unwrap());
    assert!(
        a > 3.0 * b,
        "deferring the heavy import is much faster: a={a} b={b}"
    );
}

#[tokio::test]
async fn script_without_a_variant_prints_usage_and_exits_2() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let out = generate(
        &server,
        json!({
            "name": "usage", "domain": "cpu", "code_a": "pass", "code_b": "pass", "dir": dir.path(),
        }),
    )
    .await;
    for args in [vec![], vec!["c"]] {
        let o = std::process::Command::new("python3")
            .arg(out["path"].as_str().unwrap())
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&o.stderr).contains("usage:"));
    }
}

#[tokio::test]
async fn bad_names_are_refused_and_nothing_is_written() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let long = "x".repeat(65);
    for name in [
        "../evil",
        "a/b",
        "",
        long.as_str(),
        "/tmp/abs",
        "nul\u{0}byte",
        "..",
    ] {
        let msg = server.call_err("generate_ab_script", json!({
            "name": name, "domain": "cpu", "code_a": "pass", "code_b": "pass", "dir": dir.path(),
        })).await;
        assert!(msg.contains("invalid name"), "{name:?}: {msg}");
        assert!(
            msg.contains("A-Z"),
            "the message says what is allowed: {msg}"
        );
    }
    assert!(common::files_under(dir.path()).is_empty());
    assert!(!dir.path().parent().unwrap().join("evil").exists());
}

#[tokio::test]
async fn unknown_domain_lists_the_valid_ones() {
    let server = common::start().await;
    let msg = server
        .call_err(
            "generate_ab_script",
            json!({
                "name": "x", "domain": "gpu", "code_a": "pass", "code_b": "pass",
            }),
        )
        .await;
    for valid in ["cpu", "data_structures", "memory", "async", "structure"] {
        assert!(msg.contains(valid), "{msg}");
    }
}

#[tokio::test]
async fn syntax_error_names_the_part_and_its_line_and_writes_nothing() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let msg = server
        .call_err(
            "generate_ab_script",
            json!({
                "name": "broken", "domain": "cpu",
                "setup": "import os\nx = 1",
                "code_a": "return x",
                "code_b": "y = x + 1\nreturn y +\n",
                "dir": dir.path(),
            }),
        )
        .await;
    assert!(msg.contains("code_b, line 2"), "{msg}");
    assert!(msg.contains("nothing was written"), "{msg}");
    assert!(
        common::files_under(dir.path()).is_empty(),
        "no file, no .pyc"
    );

    let msg = server.call_err("generate_ab_script", json!({
        "name": "broken", "domain": "cpu", "setup": "a = 1\nb = (\n", "code_a": "pass", "code_b": "pass",
        "dir": dir.path(),
    })).await;
    assert!(msg.contains("setup, line 2"), "{msg}");

    // `await` outside an async body is an error in cpu, fine in async.
    let msg = server.call_err("generate_ab_script", json!({
        "name": "broken", "domain": "cpu", "code_a": "pass", "code_b": "x = 1\nawait f()", "dir": dir.path(),
    })).await;
    assert!(msg.contains("code_b, line 2"), "{msg}");
    assert!(common::files_under(dir.path()).is_empty());
}

#[tokio::test]
async fn structure_without_modules_is_refused() {
    let server = common::start().await;
    let msg = server.call_err("generate_ab_script", json!({
        "name": "imports", "domain": "structure", "code_a": "import json", "code_b": "import json",
    })).await;
    assert!(msg.contains("`modules`"), "{msg}");
}

#[tokio::test]
async fn missing_dir_and_missing_python_are_clear_errors() {
    let server = common::start().await;
    let msg = server.call_err("generate_ab_script", json!({
        "name": "x", "domain": "cpu", "code_a": "pass", "code_b": "pass", "dir": "/nonexistent/abbench",
    })).await;
    assert!(msg.contains("does not exist"), "{msg}");
    let dir = tempfile::tempdir().unwrap();
    let msg = server
        .call_err(
            "generate_ab_script",
            json!({
                "name": "x", "domain": "cpu", "code_a": "pass", "code_b": "pass", "dir": dir.path(),
                "python": "no-such-python3 -X dev",
            }),
        )
        .await;
    assert!(
        msg.contains("not found") && msg.contains("`runner`"),
        "{msg}"
    );
    assert!(common::files_under(dir.path()).is_empty());
}

#[tokio::test]
async fn references_are_resources_and_the_prompt_walks_the_workflow() {
    let server = common::start().await;
    let resources = server.client.list_all_resources().await.unwrap();
    let uris: Vec<&str> = resources.iter().map(|r| r.uri.as_str()).collect();
    for file in ["micro-benchmark.md", "tools.md", "statistics.md"] {
        let uri = format!("abbench://references/{file}");
        assert!(uris.contains(&uri.as_str()), "{uris:?}");
        let read = server
            .client
            .read_resource(ReadResourceRequestParams::new(uri.clone()))
            .await
            .unwrap();
        let text = match &read.contents[0] {
            rmcp::model::ResourceContents::TextResourceContents { text, .. } => text.clone(),
            other => panic!("{other:?}"),
        };
        assert!(text.len() > 500, "{uri} has real content");
    }
    assert!(server
        .client
        .read_resource(ReadResourceRequestParams::new(
            "abbench://references/nope.md"
        ))
        .await
        .is_err());

    let prompts = server.client.list_all_prompts().await.unwrap();
    assert!(prompts.iter().any(|p| p.name == "ab_workflow"));
    let mut args = serde_json::Map::new();
    args.insert("function".into(), json!("app/parse.py::parse_rows"));
    args.insert("domain".into(), json!("memory"));
    let prompt = server
        .client
        .get_prompt(GetPromptRequestParams::new("ab_workflow").with_arguments(args))
        .await
        .unwrap();
    let text = serde_json::to_string(&prompt.messages).unwrap();
    for step in [
        "generate_ab_script",
        "run_ab_benchmark",
        "check_keep_conditions",
        "app/parse.py::parse_rows",
        "10 MiB",
    ] {
        assert!(text.contains(step), "prompt mentions {step}: {text}");
    }
}
