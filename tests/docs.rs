//! references/tools.md against the schemas the server publishes: every
//! tool's argument table names exactly the schema's properties, marks the
//! required ones, and states the defaults the schema states, so neither can
//! drift from the other.

mod common;

use std::collections::BTreeSet;

use serde_json::Value;

/// The argument rows of one tool's section: (name, second column, the
/// rest). The second column is `required` ("yes"/"no"/a domain) or
/// `default` ("required" when there is none).
fn rows(doc: &str, tool: &str) -> Vec<(String, String, String)> {
    let heading = format!("## `{tool}`");
    let start = doc
        .find(&heading)
        .unwrap_or_else(|| panic!("references/tools.md has no section {heading}"));
    let section = &doc[start + heading.len()..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    section
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.trim().trim_matches('|').split(" | ").collect();
            let name = cells.first()?.trim().strip_prefix('`')?.strip_suffix('`')?;
            (cells.len() >= 3).then(|| {
                (
                    name.to_string(),
                    cells[1].trim().to_string(),
                    cells[1..].join(" | "),
                )
            })
        })
        .collect()
}

/// Numbers written after "Default" / "default" in a description.
fn defaults(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (i, _) in text.match_indices("efault ") {
        let rest = &text[i + "efault ".len()..];
        let number: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let number = number.trim_end_matches('.');
        if !number.is_empty() {
            found.push(number.to_string());
        }
    }
    found
}

#[tokio::test]
async fn tools_md_matches_the_published_schemas() {
    let doc = include_str!("../references/tools.md");
    let server = common::start().await;
    let tools = server.client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 6);
    for tool in tools {
        let schema = Value::Object((*tool.input_schema).clone());
        let props = schema["properties"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let required: BTreeSet<String> = schema["required"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let table = rows(doc, &tool.name);
        let documented: BTreeSet<String> = table.iter().map(|r| r.0.clone()).collect();
        let published: BTreeSet<String> = props.keys().cloned().collect();
        assert_eq!(
            documented, published,
            "{}: the argument table of references/tools.md against the schema",
            tool.name
        );
        for (name, req, meaning) in &table {
            assert_eq!(
                req == "yes" || req == "required",
                required.contains(name),
                "{}.{name}: tools.md says required = {req:?}",
                tool.name
            );
            let described = props[name]["description"].as_str().unwrap_or_default();
            for d in defaults(described) {
                assert!(
                    meaning.contains(&d),
                    "{}.{name}: the schema says default {d}, tools.md says: {meaning}",
                    tool.name
                );
            }
        }
    }
}

#[test]
fn the_table_reader_reads_tables() {
    let doc = "## `t`\n\n| argument | required | meaning |\n|---|---|---|\n| `a` | yes | x, default 5 |\n| `b` | no | y |\n\n## `u`\n| `c` | no | z |\n";
    let r = rows(doc, "t");
    assert_eq!(r.len(), 2);
    assert_eq!((r[0].0.as_str(), r[0].1.as_str()), ("a", "yes"));
    assert_eq!(defaults("Default 0.20 (20 %). default 30."), ["0.20", "30"]);
}

/// Every published schema is portable: the pinned MCP Inspector finds
/// nothing to warn about, no call prints an `unknown format` line, the
/// structured results validate against their output schemas, and the
/// ranges the server enforces are the schema's (one constant for both).
#[tokio::test]
async fn schemas_are_portable_and_state_the_enforced_ranges() {
    let inspector = common::inspector_cli();
    let abbench = env!("CARGO_BIN_EXE_abbench");
    let data = tempfile::tempdir().unwrap();
    let inspect = |args: &[&str]| {
        let out = std::process::Command::new(&inspector)
            .arg("--cli")
            .args(["-e", &format!("ABBENCH_DATA_DIR={}", data.path().display())])
            .args([abbench, "serve"])
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        assert!(!stderr.contains("unknown format"), "{stderr}");
        (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
    };
    let (_, stderr) = inspect(&["--method", "tools/list", "--strict"]);
    assert!(
        !stderr.contains("Warning") && !stderr.contains("warning"),
        "{stderr}"
    );
    for tool in ["check_environment", "benchmark_history"] {
        let (stdout, stderr) = inspect(&["--method", "tools/call", "--tool-name", tool]);
        assert!(
            stdout.contains("\"isError\": false"),
            "{tool}: {stdout}\n{stderr}"
        );
    }

    let server = common::start().await;
    let tools = server.client.list_all_tools().await.unwrap();
    let property = |tool: &str, name: &str| -> Value {
        let t = tools.iter().find(|t| t.name == tool).unwrap();
        Value::Object((*t.input_schema).clone())["properties"][name].clone()
    };
    let max = abbench::measure::MAX_PAIRS_LIMIT;
    let min = abbench::measure::MIN_PAIRS_LIMIT;
    for (tool, name) in [
        ("run_ab_benchmark", "min_pairs"),
        ("run_ab_benchmark", "max_pairs"),
        ("run_e2e_benchmark", "min_pairs"),
        ("run_e2e_benchmark", "max_pairs"),
    ] {
        let p = property(tool, name);
        assert_eq!(
            (p["minimum"].as_u64(), p["maximum"].as_u64()),
            (Some(min as u64), Some(max as u64)),
            "{name}: {p}"
        );
    }
    let limit = property("benchmark_history", "limit");
    assert_eq!(
        limit["maximum"].as_u64(),
        Some(abbench::history::MAX_LIMIT as u64)
    );
    // Past the schema's bound, the server refuses too, naming the bound.
    let msg = server
        .call_err(
            "benchmark_history",
            serde_json::json!({"limit": abbench::history::MAX_LIMIT + 1}),
        )
        .await;
    assert!(
        msg.contains(&abbench::history::MAX_LIMIT.to_string()),
        "{msg}"
    );
}

/// Every default is written once, in the request's `Default`: the numbers
/// the schema's descriptions state ("Default 30") and the command line's
/// defaults are the same values.
#[test]
fn defaults_are_the_requests_own() {
    use abbench::bench::RunRequest;
    use abbench::cli::{Cli, Command};
    use abbench::e2e::E2eRequest;
    use abbench::history::HistoryRequest;
    use abbench::keep::KeepRequest;
    use clap::Parser;

    fn stated<T: schemars::JsonSchema + serde::Serialize>(value: &T) {
        let schema = serde_json::to_value(schemars::schema_for!(T)).unwrap();
        let value = serde_json::to_value(value).unwrap();
        for (name, prop) in schema["properties"].as_object().unwrap() {
            let description = prop["description"].as_str().unwrap_or_default();
            let Some(default) = value[name].as_f64() else {
                continue;
            };
            for d in defaults(description) {
                assert_eq!(
                    d.parse::<f64>().unwrap(),
                    default,
                    "{name}: the description says default {d}, `Default` says {default}"
                );
            }
        }
    }
    stated(&RunRequest::default());
    stated(&E2eRequest::default());
    stated(&KeepRequest::default());
    stated(&HistoryRequest::default());

    let parse = |words: &[&str]| Cli::try_parse_from(words).unwrap().command.unwrap();
    match parse(&["abbench", "run", "s.py"]) {
        Command::Run(args) => assert_eq!(
            serde_json::to_value(&args.request).unwrap(),
            serde_json::to_value(RunRequest {
                script: "s.py".into(),
                ..RunRequest::default()
            })
            .unwrap()
        ),
        other => panic!("{other:?}"),
    }
    match parse(&["abbench", "e2e", "--command", "python w.py"]) {
        Command::E2e(args) => assert_eq!(
            serde_json::to_value(&args.request).unwrap(),
            serde_json::to_value(E2eRequest {
                repo: ".".into(), // the command line's own default: the current directory
                command: "python w.py".into(),
                ..E2eRequest::default()
            })
            .unwrap()
        ),
        other => panic!("{other:?}"),
    }
    match parse(&[
        "abbench",
        "keep",
        "--run-id",
        "r",
        "--repo",
        ".",
        "--test-command",
        "t",
    ]) {
        Command::Keep(args) => assert_eq!(
            serde_json::to_value(&args.request).unwrap(),
            serde_json::to_value(KeepRequest {
                run_id: "r".into(),
                repo: ".".into(),
                test_command: "t".into(),
                ..KeepRequest::default()
            })
            .unwrap()
        ),
        other => panic!("{other:?}"),
    }
    match parse(&["abbench", "history"]) {
        Command::History(args) => assert_eq!(
            serde_json::to_value(&args.request).unwrap(),
            serde_json::to_value(HistoryRequest::default()).unwrap()
        ),
        other => panic!("{other:?}"),
    }
}
