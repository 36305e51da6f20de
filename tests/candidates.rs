//! Several candidates in one run, over MCP with the built binary and the
//! real python3: a null one, a faster one, a wrong one and a duplicate of
//! the faster one written differently.

use std::time::Instant;

use serde_json::json;

mod common;

const SETUP: &str =
    "from collections import Counter\nWORDS = ['w%d' % (i % 300) for i in range(20000)]";
const A: &str = "counts = {}\nfor w in WORDS:\n    if w in counts:\n        counts[w] += 1\n    else:\n        counts[w] = 1\nreturn counts";
/// A's algorithm under other names: the same speed, not the same tree.
const NULL: &str = "seen = {}\nfor word in WORDS:\n    if word in seen:\n        seen[word] += 1\n    else:\n        seen[word] = 1\nreturn seen";
const COUNTER: &str = "return dict(Counter(WORDS))";
const WRONG: &str = "return dict(Counter(WORDS[1:]))";
/// COUNTER with a comment and other spacing: the same syntax tree.
const COUNTER_AGAIN: &str = "# the C counter\nreturn dict( Counter( WORDS ) )";

fn candidates() -> serde_json::Value {
    json!([
        {"label": "null", "code": NULL},
        {"label": "counter", "code": COUNTER},
        {"label": "wrong", "code": WRONG},
        {"label": "counter_again", "code": COUNTER_AGAIN},
    ])
}

#[tokio::test]
async fn four_candidates_are_ranked_the_wrong_one_caught_and_the_duplicate_dropped() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let g = server
        .call_answer(
            "generate_ab_script",
            json!({
                "name": "many", "domain": "cpu", "setup": SETUP, "code_a": A,
                "candidates": candidates(), "dir": dir.path(), "runner": "python3",
            }),
        )
        .await;
    let listed = g["candidates"].as_array().unwrap();
    assert_eq!(listed.len(), 4, "{g:#}");
    assert_eq!(listed[3]["duplicate_of"], "counter", "{g:#}");
    assert_eq!(listed[2]["equivalence"], "different", "{g:#}");
    assert_eq!(listed[1]["equivalence"], "same", "{g:#}");
    let script = std::fs::read_to_string(g["path"].as_str().unwrap()).unwrap();
    assert!(script.contains("def bench_d():") && !script.contains("def bench_e():"));

    let started = Instant::now();
    let r = server
        .call_answer(
            "run_ab_benchmark",
            json!({"script": g["path"], "cwd": dir.path(), "runner": "python3"}),
        )
        .await;
    let wall = started.elapsed().as_secs_f64();
    let bytes = serde_json::to_string(&r).unwrap().len();
    println!("four candidates: {wall:.1} s, answer {bytes} bytes\n{r:#}");
    assert_eq!(r["best"], "counter", "{r:#}");
    assert_eq!(r["verdict"], "above_threshold", "{r:#}");
    let by_label = |label: &str| {
        r["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["label"] == label)
            .unwrap()
            .clone()
    };
    assert_eq!(r["candidates"][0]["label"], "counter", "{r:#}");
    assert_eq!(by_label("wrong")["verdict"], "different_results", "{r:#}");
    assert!(by_label("wrong")["detail"]
        .as_str()
        .unwrap()
        .contains("result"));
    // A's algorithm under other names: no gain. (Its speed can differ by
    // a fraction of a percent, which tight bounds call a regression.)
    let null = by_label("null");
    let high = null["speedup"]["high"].as_f64().unwrap();
    assert!(
        ["below_threshold", "inconclusive", "regression"]
            .contains(&null["verdict"].as_str().unwrap())
            && high < 1.2
            && high > 0.95,
        "{r:#}"
    );
    assert_eq!(by_label("counter_again")["duplicate_of"], "counter");
    // The compact answer's budget: 1.5 KB and 250 bytes per candidate.
    assert!(bytes <= 1536 + 4 * 250, "{bytes} bytes: {r:#}");

    // The history lists every candidate; the filed record has them whole.
    let listed = server
        .call_answer("benchmark_history", json!({"name": "many"}))
        .await;
    let text = serde_json::to_string(&listed).unwrap();
    assert!(
        text.contains("counter: above_threshold")
            && text.contains("(best)")
            && text.contains("counter_again: duplicate of counter"),
        "{listed:#}"
    );
    let whole = server
        .call_answer("benchmark_history", json!({"run_id": r["run_id"]}))
        .await;
    let text = serde_json::to_string(&whole).unwrap();
    assert!(text.contains("\"best\":\"counter\""), "{whole:#}");
}

#[tokio::test]
async fn bad_candidate_lists_are_refused_with_the_fix() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let base = json!({"name": "bad", "domain": "cpu", "setup": SETUP, "code_a": A, "dir": dir.path(), "runner": "python3"});
    let with = |extra: serde_json::Value| {
        let mut req = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            req[k] = v.clone();
        }
        req
    };
    for (extra, says) in [
        (
            json!({"candidates": [{"label": "x y", "code": COUNTER}]}),
            "label",
        ),
        (
            json!({"candidates": [{"label": "a", "code": COUNTER}]}),
            "baseline",
        ),
        (
            json!({"candidates": [{"label": "c", "code": COUNTER}, {"label": "C", "code": NULL}]}),
            "must differ",
        ),
        (
            json!({"candidates": [{"label": "c", "code": COUNTER}], "code_b": COUNTER}),
            "not both",
        ),
        (
            json!({"candidates": [{"label": "same", "code": A}]}),
            "nothing to measure",
        ),
        (
            json!({"candidates": [{"label": "m", "code": COUNTER}], "domain": "structure", "modules": ["json"]}),
            "one A/B script per candidate",
        ),
        (
            json!({"candidates": [{"label": "r", "revision": "HEAD"}]}),
            "free form takes `code`",
        ),
    ] {
        let err = server
            .call_err("generate_ab_script", with(extra.clone()))
            .await;
        assert!(err.contains(says), "{extra}: {err}");
    }
}

/// A process after a look settled a candidate runs only A and those still
/// undecided (`--variants`), in a random order per round.
#[tokio::test]
async fn a_settled_candidate_drops_out_of_the_processes() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let g = server
        .call_answer(
            "generate_ab_script",
            json!({
                "name": "drop", "domain": "cpu", "setup": SETUP, "code_a": A,
                "candidates": [{"label": "null", "code": NULL}, {"label": "counter", "code": COUNTER}],
                "dir": dir.path(), "runner": "python3",
            }),
        )
        .await;
    let out = std::process::Command::new("python3")
        .arg(g["path"].as_str().unwrap())
        .args([
            "ab",
            "--rounds",
            "4",
            "--variants",
            "ac",
            "--number-a",
            "2",
            "--number-c",
            "3",
            "--seed",
            "5",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line: serde_json::Value = serde_json::from_str(
        stdout
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("ABBENCH "))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(line["a"].as_array().unwrap().len(), 4, "{line}");
    assert_eq!(line["c"].as_array().unwrap().len(), 4, "{line}");
    assert!(line.get("b").is_none(), "{line}");
    assert_eq!(line["number"], json!({"a": 2, "c": 3}));
    let order = line["order"].as_str().unwrap();
    assert!(
        order.len() == 8 && order.as_bytes().chunks(2).all(|r| r == b"AC" || r == b"CA"),
        "{order}"
    );
}

const SLOW_MODULE: &str = "def word_counts(words):\n    counts = {}\n    for w in words:\n        if w in counts:\n            counts[w] += 1\n        else:\n            counts[w] = 1\n    return counts\n";
const COUNTER_MODULE: &str = "from collections import Counter\n\n\ndef word_counts(words):\n    return dict(Counter(words))\n";
const COUNTER_MODULE_AGAIN: &str = "from collections import Counter\n\n\ndef word_counts(words):\n    # the C counter\n    return dict(Counter( words ))\n";
const WRONG_MODULE: &str = "from collections import Counter\n\n\ndef word_counts(words):\n    return dict(Counter(words)) or None\n";

/// The revision form: candidates from branches and the work tree; a branch
/// equal to the base and one equal to another candidate are duplicates.
#[tokio::test]
async fn candidates_from_revisions_and_the_work_tree_are_ranked() {
    let server = common::start().await;
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path();
    let git = |args: &[&str]| common::git(root, args);
    std::fs::create_dir_all(root.join("text")).unwrap();
    std::fs::write(root.join("text/__init__.py"), "").unwrap();
    std::fs::write(root.join("text/count.py"), SLOW_MODULE).unwrap();
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "base"]);
    for (branch, text) in [
        ("counter", COUNTER_MODULE),
        ("counter2", COUNTER_MODULE_AGAIN),
    ] {
        git(&["checkout", "-q", "-b", branch, "main"]);
        std::fs::write(root.join("text/count.py"), text).unwrap();
        git(&["commit", "-q", "-am", branch]);
    }
    git(&["checkout", "-q", "main"]);
    std::fs::write(root.join("text/count.py"), WRONG_MODULE).unwrap();
    let out = tempfile::tempdir().unwrap();
    let g = server
        .call_answer(
            "generate_ab_script",
            json!({
                "name": "revs", "domain": "cpu", "target": "text/count.py::word_counts",
                "setup": "WORDS = ['w%d' % (i % 300) for i in range(20000)]",
                "call": "return word_counts(WORDS), word_counts([])",
                "candidates": [
                    {"label": "counter", "revision": "counter"},
                    {"label": "unchanged", "revision": "main"},
                    {"label": "counter2", "revision": "counter2"},
                    {"label": "edited", "worktree": true},
                ],
                "repo": root, "cwd": root, "dir": out.path(), "runner": "python3",
            }),
        )
        .await;
    let listed = g["candidates"].as_array().unwrap();
    assert_eq!(listed[1]["duplicate_of"], "A", "{g:#}");
    assert_eq!(listed[2]["duplicate_of"], "counter", "{g:#}");
    assert_eq!(listed[3]["equivalence"], "different", "{g:#}");
    let r = server
        .call_answer(
            "run_ab_benchmark",
            json!({"script": g["path"], "cwd": root, "runner": "python3"}),
        )
        .await;
    assert_eq!(r["best"], "counter", "{r:#}");
    let verdicts: Vec<(String, String)> = r["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["label"].as_str().unwrap().to_string(),
                c["verdict"]
                    .as_str()
                    .or(c["duplicate_of"].as_str())
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("counter".to_string(), "above_threshold".to_string()),
            ("edited".into(), "different_results".into()),
            ("unchanged".into(), "A".into()),
            ("counter2".into(), "counter".into()),
        ],
        "{r:#}"
    );
}

/// The memory domain: one process per variant and candidate under memray;
/// the saving found, the null one below the threshold, the wrong one caught.
#[tokio::test]
async fn memory_candidates_run_one_process_each() {
    let server = common::start().await;
    let dir = tempfile::tempdir().unwrap();
    let g = server
        .call_answer(
            "generate_ab_script",
            json!({
                "name": "mem", "domain": "memory",
                "code_a": "block = [0] * (20 * 1048576 // 8)\nreturn len(block)",
                "candidates": [
                    {"label": "small", "code": "return 20 * 1048576 // 8"},
                    {"label": "same", "code": "blk = [0] * (20 * 1048576 // 8)\nreturn len(blk)"},
                    {"label": "wrong", "code": "return 1"},
                ],
                "dir": dir.path(),
            }),
        )
        .await;
    let r = server
        .call_ok(
            "run_ab_benchmark",
            json!({"script": g["path"], "cwd": dir.path()}),
        )
        .await;
    assert_eq!(r["best"], "small", "{r:#}");
    assert_eq!(r["design"]["isolation"], "process", "{r:#}");
    let by_label = |label: &str| {
        r["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["label"] == label)
            .unwrap()
            .clone()
    };
    assert_eq!(by_label("small")["verdict"], "above_threshold", "{r:#}");
    assert_eq!(by_label("same")["verdict"], "below_threshold", "{r:#}");
    assert_eq!(by_label("wrong")["verdict"], "different_results", "{r:#}");
    // Two candidates timed: the first look needs 5 pairs (2 %/2 = 1 %: 1/252).
    assert_eq!(by_label("small")["processes"], 5, "{r:#}");
    assert!(
        r["commands"]["warm_up"][0]
            .as_str()
            .unwrap()
            .ends_with("warmup"),
        "{r:#}"
    );
}
