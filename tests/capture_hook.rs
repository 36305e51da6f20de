//! The capture hook (`src/python/capture_hook.py`)
//! run as a test's `sitecustomize` by the real python3: the calls the target
//! receives, pickled at entry, outermost only, sampled to the cap; calls
//! that cannot be pickled or are too large skipped with why.

use std::path::Path;
use std::process::Command;

mod common;

use serde_json::{json, Value};

const MODULE: &str = r#"
def word_counts(words):
    counts = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    if isinstance(words, list):
        words.clear()  # mutates its input: the capture must hold it as it came in
    return counts

def depth(n):
    return 0 if n == 0 else 1 + depth(n - 1)
"#;

const TEST: &str = r#"
import mod
mod.word_counts([])
mod.word_counts(["a"])
mod.word_counts(["a", "b", "a"] * 1000)
mod.word_counts(w for w in ["x"])        # a generator: cannot be pickled
mod.word_counts(["big"] * 200000)        # over the per-call cap
mod.depth(30)                            # recursion: one outermost call
for i in range(500):
    mod.depth(i % 7)
"#;

/// Reads the pickled calls back with python3: (call, target, args) each.
const READ: &str = r#"
import json, pickle, sys
data = pickle.load(open(sys.argv[1], "rb"))
print(json.dumps([[c["call"], c["target"], pickle.loads(c["args"])[0], c["weight"]] for c in data["calls"]], default=list))
"#;

fn capture(dir: &Path, max_calls: u32) -> (Value, Value) {
    let hook = dir.join("hook");
    common::install_hook(&hook, "capture_hook.py");
    std::fs::write(dir.join("mod.py"), MODULE).unwrap();
    std::fs::write(dir.join("test_mod.py"), TEST).unwrap();
    let out = dir.join("calls.pkl");
    let targets = json!([
        {"file": "mod.py", "qualname": "word_counts"},
        {"file": "mod.py", "qualname": "depth"},
    ]);
    let done = Command::new("python3")
        .arg("test_mod.py")
        .current_dir(dir)
        .env(
            "PYTHONPATH",
            format!("{}:{}", hook.display(), dir.display()),
        )
        .env("ABBENCH_CAPTURE_OUT", &out)
        .env("ABBENCH_CAPTURE_ROOT", dir)
        .env("ABBENCH_CAPTURE_TARGETS", targets.to_string())
        .env("ABBENCH_CAPTURE_MAX_CALLS", max_calls.to_string())
        .env("ABBENCH_CAPTURE_CALL_BYTES", "100000")
        .output()
        .unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("calls.pkl.json")).unwrap())
            .unwrap();
    let read = Command::new("python3")
        .args(["-c", READ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    (summary, serde_json::from_slice(&read.stdout).unwrap())
}

#[test]
fn the_calls_a_test_makes_are_captured_as_they_came_in() {
    let dir = tempfile::tempdir().unwrap();
    let (summary, calls) = capture(dir.path(), 1000);
    // 5 word_counts calls + 1 outer depth(30) + 500 depth calls; no inner recursion.
    assert_eq!(summary["calls_seen"], 506, "{summary}");
    // Identical calls once: 3 word_counts, depth(30), depth(0..6).
    assert_eq!(summary["calls_kept"], 11, "{summary}");
    assert_eq!(summary["distinct"], 11, "{summary}");
    let reasons: Vec<&str> = summary["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons.len(), 2, "{summary}");
    assert!(
        reasons[0].contains("cannot be pickled") && reasons[0].contains("generator"),
        "{reasons:?}"
    );
    assert!(reasons[1].contains("over the per-call cap"), "{reasons:?}");
    assert_eq!(summary["skipped"][0]["call"], 3);
    // Held as they came in, before word_counts cleared them.
    assert_eq!(calls[0], json!([0, 0, [[]], 1]));
    assert_eq!(calls[1], json!([1, 0, [["a"]], 1]));
    assert_eq!(calls[2][2][0].as_array().unwrap().len(), 3000);
    assert_eq!(calls[3], json!([5, 1, [30], 1]));
    // depth(i % 7), 500 times: 7 entries whose weights add up to 500.
    let weights: u64 = calls.as_array().unwrap()[4..]
        .iter()
        .map(|c| c[3].as_u64().unwrap())
        .sum();
    assert_eq!(weights, 500);
    assert_eq!(summary["sizes"], json!([0, 3000]), "{summary}");
}

#[test]
fn over_the_cap_the_smallest_and_largest_inputs_stay() {
    let dir = tempfile::tempdir().unwrap();
    let (summary, calls) = capture(dir.path(), 4);
    assert_eq!(summary["calls_seen"], 506);
    assert_eq!(summary["distinct"], 11, "{summary}");
    assert_eq!(summary["calls_kept"], 4, "{summary}");
    let indices: Vec<u64> = calls
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c[0].as_u64().unwrap())
        .collect();
    assert!(
        indices.windows(2).all(|w| w[0] < w[1]),
        "in call order: {indices:?}"
    );
    // The empty list and the 3000-word list are never the ones dropped.
    assert!(indices.contains(&0) && indices.contains(&2), "{indices:?}");
}
