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
            json!({"candidates": [{"label": "m", "code": COUNTER}], "domain": "memory"}),
            "one A/B script per candidate",
        ),
    ] {
        let err = server
            .call_err("generate_ab_script", with(extra.clone()))
            .await;
        assert!(err.contains(says), "{extra}: {err}");
    }
}
