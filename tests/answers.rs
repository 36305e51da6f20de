//! What an agent pays to read: every answer of one optimization loop on a
//! small repository (generate in the revision form, run, keep with a real
//! test suite and profile, e2e, keep on the e2e run, history) within its
//! byte budget, led by the verdict, with the full record one call away;
//! `initialize` and `tools/list` within theirs; and advice that never names
//! an argument the domain refuses. Over real MCP stdio, real python3 and git.

mod common;

use rmcp::model::GetPromptRequestParams;
use serde_json::{json, Value};

const TEXT: &str = "def unique_words(words):\n    \"\"\"The distinct words, in first-seen order.\"\"\"\n    out = []\n    for w in words:\n        if w not in out:\n            out.append(w)\n    return out\n";
const FAST: &str = "def unique_words(words):\n    \"\"\"The distinct words, in first-seen order.\"\"\"\n    return list(dict.fromkeys(words))\n";
const TEST: &str = "import unittest\n\nfrom text import unique_words\n\n\nclass TextTest(unittest.TestCase):\n    def test_report(self):\n        words = [f\"w{i % 300}\" for i in range(6000)]\n        self.assertEqual(len(unique_words(words)), 300)\n";
const WORK: &str = "from text import unique_words\n\nwords = [f\"w{i % 400}\" for i in range(20000)]\nprint(len(unique_words(words)))\n";

/// A repository with the slow version committed and the fast one in the work tree.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [("text.py", TEXT), ("test_text.py", TEST), ("work.py", WORK)] {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    common::git(dir.path(), &["init", "-q"]);
    common::git(dir.path(), &["add", "-A"]);
    common::git(dir.path(), &["commit", "-qm", "base"]);
    std::fs::write(dir.path().join("text.py"), FAST).unwrap();
    dir
}

/// The answer's size as Claude Code hands it to the model (compact JSON),
/// warnings aside, after checking each warning is one sentence of ≤ 300 bytes.
fn size(tool: &str, answer: &Value) -> usize {
    let mut answer = answer.clone();
    if let Some(warnings) = answer.as_object_mut().and_then(|o| o.remove("warnings")) {
        for w in warnings.as_array().unwrap() {
            let w = w.as_str().unwrap();
            assert!(w.len() <= 300, "{tool}: a warning over 300 bytes: {w}");
        }
    }
    serde_json::to_string(&answer).unwrap().len()
}

/// Calls `tool`, checks the answer's budget and that its text leads with `lead`.
async fn answer(
    server: &common::Server,
    tool: &str,
    args: Value,
    budget: usize,
    lead: &str,
) -> Value {
    let result = server.call(tool, args).await;
    let text = common::text_of(&result);
    assert_ne!(result.is_error, Some(true), "{tool}: {text}");
    let value = result.structured_content.clone().unwrap();
    let bytes = size(tool, &value);
    assert!(
        bytes <= budget,
        "{tool}: {bytes} bytes over the {budget}-byte budget: {value:#}"
    );
    assert!(
        value.get("record").is_none(),
        "{tool}: the record by default"
    );
    assert!(
        text.starts_with(lead) && !text.starts_with('{'),
        "{tool}: the text should lead with {lead:?}: {text}"
    );
    value
}

#[tokio::test]
async fn a_loop_answers_within_budget_and_the_record_is_one_call_away() {
    let server = common::start().await;
    let repo = repo();
    let out = tempfile::tempdir().unwrap();
    let generate = json!({"name": "unique", "domain": "cpu", "target": "text.py::unique_words",
        "setup": "WORDS = [f'w{i % 400}' for i in range(3000)]", "call": "return unique_words(WORDS)",
        "cwd": repo.path(), "dir": out.path()});
    let g = answer(
        &server,
        "generate_ab_script",
        generate.clone(),
        1500,
        "wrote ",
    )
    .await;
    assert!(g.get("script").is_none(), "the script is on disk: {g}");
    assert_eq!(g["equivalence"]["status"], "same", "{g}");
    let path = g["path"].as_str().unwrap().to_string();
    assert!(g["next_step"].as_str().unwrap().contains(&path), "{g}");

    let r = answer(
        &server,
        "run_ab_benchmark",
        json!({"script": path, "cwd": repo.path()}),
        1500,
        "VERDICT ",
    )
    .await;
    assert_eq!(r["verdict"], "above_threshold", "{r}");
    assert!(r["speedup"]["low"].as_f64().unwrap() > 1.2, "{r}");
    for heavy in ["a", "b", "design", "commands", "environment", "runner"] {
        assert!(r.get(heavy).is_none(), "{heavy} belongs in the record: {r}");
    }
    let run_id = r["run_id"].as_str().unwrap().to_string();

    let keep = json!({"run_id": run_id, "repo": repo.path(), "test_command": "python3 -m unittest -q",
        "target_test": "test_text.py::TextTest::test_report"});
    let k = answer(
        &server,
        "check_keep_conditions",
        keep.clone(),
        1500,
        "DECISION ",
    )
    .await;
    assert_eq!(k["conditions"].as_array().unwrap().len(), 4, "{k}");
    assert!(k["conditions"][0].get("figures").is_none(), "{k}");

    let e = answer(
        &server,
        "run_e2e_benchmark",
        json!({"repo": repo.path(), "command": "python3 work.py", "runner": "python3",
               "target_functions": ["text.py::unique_words"], "micro_run_id": run_id}),
        2000,
        "VERDICT ",
    )
    .await;
    assert!(e["verdict"].is_string(), "a top-level verdict: {e}");
    let e2e_id = e["run_id"].as_str().unwrap().to_string();
    let mut keep_e2e = keep.clone();
    keep_e2e["e2e_run_id"] = json!(e2e_id);
    answer(
        &server,
        "check_keep_conditions",
        keep_e2e,
        1500,
        "DECISION ",
    )
    .await;

    // Three more runs, so the history lists five.
    for _ in 0..3 {
        server
            .call_answer(
                "run_ab_benchmark",
                json!({"script": path, "cwd": repo.path(), "max_pairs": 6}),
            )
            .await;
    }
    let h = answer(&server, "benchmark_history", json!({"limit": 5}), 3000, "").await;
    let runs = h["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 5, "{h}");
    assert!(runs
        .iter()
        .any(|x| x["run_id"] == e2e_id && x["confirms"] == run_id.as_str()));

    // The record, one call away: history by id, or detail "full" inline.
    let whole = server
        .call_answer("benchmark_history", json!({"run_id": run_id}))
        .await;
    let record = &whole["record"];
    assert_eq!(record["run_id"], run_id.as_str(), "{whole}");
    assert!(record["design"]["block"].is_object(), "{record}");
    assert!(record["commands"]["ab"].is_string(), "{record}");
    assert!(record["a"]["values"].as_array().unwrap().len() >= 6);
    let whole = server
        .call_answer("benchmark_history", json!({"run_id": e2e_id}))
        .await;
    assert_eq!(whole["record"]["comparison"]["verdict"], e["verdict"]);
    assert!(whole["record"]["targets"][0]["function"] == "text.py::unique_words");
    let full = server
        .call_answer("check_keep_conditions", {
            let mut k = keep;
            k["detail"] = json!("full");
            k
        })
        .await;
    assert!(full["record"]["durations"]["total_s"].is_number(), "{full}");
    assert!(
        full["record"]["conditions"][1]["figures"].is_object(),
        "{full}"
    );
    let mut with_script = generate;
    with_script["include_script"] = json!(true);
    let g = server.call_answer("generate_ab_script", with_script).await;
    assert!(g["script"]
        .as_str()
        .unwrap()
        .starts_with("# abbench-script: domain=cpu"));
}

#[tokio::test]
async fn initialize_and_tools_list_are_small() {
    let server = common::start().await;
    let info = server.client.peer_info().unwrap();
    // The reply on the wire adds {"jsonrpc":"2.0","id":N,"result":…}: ~40 bytes.
    let initialize = serde_json::to_string(&*info).unwrap().len() + 40;
    assert!(initialize <= 2000, "initialize: {initialize} bytes");
    let tools = server.client.list_all_tools().await.unwrap();
    let wire = serde_json::to_string(&json!({"tools": tools}))
        .unwrap()
        .len()
        + 40;
    assert!(wire <= 24_000, "tools/list: {wire} bytes on the wire");
    let model: usize = tools
        .iter()
        .map(|t| {
            serde_json::to_string(&json!({"name": t.name, "title": t.title,
                "description": t.description, "inputSchema": t.input_schema}))
            .unwrap()
            .len()
        })
        .sum();
    // 11,386 before `inputs_from` (issue 25) added ~720; `candidates` on
    // generate_ab_script and check_keep_conditions (issue 26) ~200 more.
    assert!(model <= 12_700, "tools/list: {model} bytes the model reads");
    for t in &tools {
        assert!(t.icons.is_none(), "{}: the icon is the server's", t.name);
    }
    assert_eq!(
        info.server_info
            .as_ref()
            .unwrap()
            .icons
            .as_ref()
            .map(Vec::len),
        Some(1)
    );
}

/// Backticked words of `text` that are arguments of generate_ab_script.
fn generate_arguments(text: &str, arguments: &[String]) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| arguments.iter().any(|a| a == w))
        .map(String::from)
        .collect()
}

#[tokio::test]
async fn advice_never_names_an_argument_the_domain_refuses() {
    let server = common::start().await;
    let tools = server.client.list_all_tools().await.unwrap();
    let generate = tools
        .iter()
        .find(|t| t.name == "generate_ab_script")
        .unwrap();
    let arguments: Vec<String> = generate.input_schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    for (given, domain) in [
        ("cpu", abbench::domain::Domain::Cpu),
        ("data_structures", abbench::domain::Domain::Cpu),
        ("async", abbench::domain::Domain::Async),
        ("memory", abbench::domain::Domain::Memory),
        ("structure", abbench::domain::Domain::Structure),
    ] {
        let mut args = serde_json::Map::new();
        args.insert("function".into(), json!("app/parse.py::parse_rows"));
        args.insert("domain".into(), json!(given));
        let prompt = server
            .client
            .get_prompt(GetPromptRequestParams::new("ab_workflow").with_arguments(args))
            .await
            .unwrap();
        let text = serde_json::to_value(&prompt.messages).unwrap()[0]["content"]["text"]
            .as_str()
            .unwrap()
            .to_string();
        let unused = abbench::template::unused_arguments(domain);
        let named = generate_arguments(&text, &arguments);
        let wrong: Vec<&String> = named
            .iter()
            .filter(|a| unused.contains(&a.as_str()))
            .collect();
        assert!(
            wrong.is_empty(),
            "{given}: the prompt names {wrong:?}: {text}"
        );
        assert!(
            !text.contains("pass `runner`") || text.contains("only to override"),
            "{text}"
        );
        if domain == abbench::domain::Domain::Structure {
            for needed in ["modules", "code_a", "code_b"] {
                assert!(
                    named.iter().any(|a| a == needed),
                    "structure: {needed}: {text}"
                );
            }
        } else {
            assert!(named.iter().any(|a| a == "target"), "{given}: {text}");
        }
    }
    // A tool description that names an argument some domain refuses names
    // that domain too.
    for tool in &tools {
        let description = tool.description.as_deref().unwrap_or_default();
        for domain in [
            abbench::domain::Domain::Cpu,
            abbench::domain::Domain::Async,
            abbench::domain::Domain::Memory,
            abbench::domain::Domain::Structure,
        ] {
            let unused = abbench::template::unused_arguments(domain);
            if tool.name == "generate_ab_script"
                && generate_arguments(description, &arguments)
                    .iter()
                    .any(|a| unused.contains(&a.as_str()))
            {
                assert!(
                    description.contains(domain.as_str()),
                    "{}: names an argument {} refuses without saying so: {description}",
                    tool.name,
                    domain.as_str()
                );
            }
        }
    }
}
