//! The helper's rules, case by case, on real `python3` (the standard
//! library only; numpy and pandas are checked by `tests/equivalence.rs`
//! with the pinned test venv), and the Rust side's reading of its answer.

use super::*;
use crate::template::{self, ScriptSpec};

/// Renders a cpu-domain script, runs the helper on it, returns its answer.
fn check(setup: &str, a: &str, b: &str, options: Options) -> Verified {
    check_in(Domain::Cpu, setup, a, b, options)
}

fn check_in(domain: Domain, setup: &str, a: &str, b: &str, options: Options) -> Verified {
    let spec = ScriptSpec {
        name: "t".into(),
        domain: Some(domain),
        setup: setup.into(),
        code_a: a.into(),
        code_b: b.into(),
        ..Default::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("micro_bench_t.py");
    std::fs::write(&path, template::render(&spec, domain).text).unwrap();
    let mut argv = vec!["python3".to_string(), "-c".to_string(), program()];
    argv.push(path.display().to_string());
    argv.extend(options.words(domain, true));
    let out = std::process::Command::new(&argv[0])
        .args(&argv[1..])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    read(&stdout).unwrap_or_else(|| {
        panic!(
            "no answer: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn strict() -> Options {
    Options::default()
}

/// The status and the first difference (or reason), for asserting.
fn outcome(v: &Verified) -> (EquivalenceStatus, String) {
    match v {
        Verified::Checked { equivalence, .. } => (
            equivalence.status,
            equivalence
                .first_difference
                .clone()
                .or_else(|| equivalence.reason.clone())
                .unwrap_or_default(),
        ),
        Verified::Failed(f) => panic!("failed: {f:?}"),
    }
}

fn notes(v: &Verified) -> Vec<String> {
    match v {
        Verified::Checked { equivalence, .. } => equivalence.notes.clone(),
        Verified::Failed(_) => Vec::new(),
    }
}

const WORDS: &str =
    "import random\nrandom.seed(1)\nwords = [f'w{random.randrange(300)}' for _ in range(600)]";
const FIRST_SEEN: &str = "seen = set(); out = []\nfor w in words:\n    if w not in seen:\n        seen.add(w); out.append(w)\nreturn out";

#[test]
fn a_lost_order_is_a_difference_and_unordered_mode_accepts_it() {
    let v = check(WORDS, FIRST_SEEN, "return list(set(words))", strict());
    let (status, diff) = outcome(&v);
    assert_eq!(status, EquivalenceStatus::Different, "{diff}");
    assert!(diff.starts_with("result["), "{diff}");
    assert!(
        diff.contains("(A) != ") && diff.contains("another order"),
        "{diff}"
    );

    let unordered = Options::new(EquivalenceMode::Unordered, None).unwrap();
    let v = check(WORDS, FIRST_SEEN, "return list(set(words))", unordered);
    assert_eq!(outcome(&v).0, EquivalenceStatus::Same);
    // Unordered still counts items: a lost duplicate is a difference.
    let v = check(
        WORDS,
        "return list(words)",
        "return list(set(words))",
        unordered,
    );
    let (status, diff) = outcome(&v);
    assert_eq!(status, EquivalenceStatus::Different);
    assert!(diff.contains("len(result)"), "{diff}");

    let v = check(
        WORDS,
        FIRST_SEEN,
        "return list(dict.fromkeys(words))",
        strict(),
    );
    assert_eq!(outcome(&v).0, EquivalenceStatus::Same);
}

#[test]
fn an_input_changed_in_place_is_named() {
    let v = check(
        "xs = [5, 3, 1, 4, 2] * 50",
        "return max(xs)",
        "xs.sort()\nreturn xs[-1]",
        strict(),
    );
    let (status, diff) = outcome(&v);
    assert_eq!(status, EquivalenceStatus::Different);
    assert!(diff.starts_with("`xs` sorted in place by B only"), "{diff}");
    // Both changing it the same way is no difference.
    let v = check(
        "xs = [5, 3, 1]",
        "xs.sort()\nreturn xs[0]",
        "xs.sort()\nreturn min(xs)",
        strict(),
    );
    assert_eq!(outcome(&v).0, EquivalenceStatus::Same);
    // A mutating where B does not is named too.
    let v = check("d = {}", "d['k'] = 1\nreturn 1", "return 1", strict());
    let (status, diff) = outcome(&v);
    assert_eq!(status, EquivalenceStatus::Different);
    assert!(diff.starts_with("`d` changed in place by A only"), "{diff}");
}

#[test]
fn floats_within_rel_tol_are_the_same() {
    let setup =
        "import math, random\nrandom.seed(2)\nvals = [random.random() for _ in range(20000)]";
    let loop_sum = "t = 0.0\nfor v in vals:\n    t += v\nreturn t";
    let v = check(setup, loop_sum, "return math.fsum(vals)", strict());
    assert_eq!(outcome(&v).0, EquivalenceStatus::Same);
    let v = check("", "return 1.0", "return 1.000001", strict());
    let (status, diff) = outcome(&v);
    assert_eq!(status, EquivalenceStatus::Different);
    assert!(diff.contains("1.0 (A) != 1.000001 (B)"), "{diff}");
    let loose = Options::new(EquivalenceMode::Strict, Some(1e-5)).unwrap();
    assert_eq!(
        outcome(&check("", "return 1.0", "return 1.000001", loose)).0,
        EquivalenceStatus::Same
    );
    let nan = "return [float('nan'), 1.0]";
    assert_eq!(
        outcome(&check("", nan, nan, strict())).0,
        EquivalenceStatus::Same
    );
}

#[test]
fn kinds_are_compared_not_only_values() {
    let (status, diff) = outcome(&check("", "return 3", "return 3.0", strict()));
    assert_eq!(status, EquivalenceStatus::Different);
    assert!(diff.contains("int 3 (A) != float 3.0 (B)"), "{diff}");
    let (status, _) = outcome(&check("", "return 1", "return True", strict()));
    assert_eq!(status, EquivalenceStatus::Different);
    let (status, diff) = outcome(&check("", "return {1, 2, 3}", "return {1, 2}", strict()));
    assert_eq!(status, EquivalenceStatus::Different);
    assert!(diff.contains("3 in A only"), "{diff}");
    let (status, diff) = outcome(&check(
        "",
        "return {'a': 1, 'b': [1, 2]}",
        "return {'a': 1, 'b': [1, 3]}",
        strict(),
    ));
    assert_eq!(status, EquivalenceStatus::Different);
    assert!(diff.starts_with("result['b'][1]: 2 (A) != 3 (B)"), "{diff}");
    // A generator with the same items is the same, with a note.
    let v = check(
        "xs = list(range(50))",
        "return [x * 2 for x in xs]",
        "return (x * 2 for x in xs)",
        strict(),
    );
    assert_eq!(outcome(&v).0, EquivalenceStatus::Same);
    assert!(
        notes(&v).iter().any(|n| n.contains("B a generator")),
        "{:?}",
        notes(&v)
    );
}

#[test]
fn objects_by_their_eq_else_their_attributes() {
    let point = "class P:\n    def __init__(self, x):\n        self.x = x\n";
    let (status, diff) = outcome(&check(point, "return P(1)", "return P(2)", strict()));
    assert_eq!(status, EquivalenceStatus::Different);
    assert!(diff.starts_with("result.x: 1 (A) != 2 (B)"), "{diff}");
    assert_eq!(
        outcome(&check(point, "return [P(1)]", "return [P(1)]", strict())).0,
        EquivalenceStatus::Same
    );
    let dataclass = "import dataclasses\n@dataclasses.dataclass\nclass D:\n    x: int\n";
    assert_eq!(
        outcome(&check(dataclass, "return D(1)", "return D(1)", strict())).0,
        EquivalenceStatus::Same
    );
    // A cycle compares without recursing forever.
    let node =
        "class N:\n    def __init__(self, v):\n        self.v = v\n        self.next = self\n";
    assert_eq!(
        outcome(&check(node, "return N(1)", "return N(1)", strict())).0,
        EquivalenceStatus::Same
    );
}

#[test]
fn what_cannot_be_compared_is_said_not_guessed() {
    let bad_eq = "class Bad:\n    def __eq__(self, other):\n        raise ValueError('no')\n";
    let (status, reason) = outcome(&check(bad_eq, "return Bad()", "return Bad()", strict()));
    assert_eq!(status, EquivalenceStatus::NotChecked);
    assert!(reason.contains("__eq__ raised ValueError"), "{reason}");
    let (status, reason) = outcome(&check(
        "import threading",
        "return threading.Lock()",
        "return threading.Lock()",
        strict(),
    ));
    assert_eq!(status, EquivalenceStatus::NotChecked);
    assert!(reason.contains("no __eq__ of its own"), "{reason}");
    let deep = "x = []\nfor _ in range(100000):\n    x = [x]\nreturn x";
    let (status, reason) = outcome(&check("", deep, deep, strict()));
    assert_eq!(status, EquivalenceStatus::NotChecked);
    assert!(reason.contains("nested too deeply"), "{reason}");
    // A difference elsewhere is still found.
    let (status, _) = outcome(&check(
        "import threading\nxs = [2, 1]",
        "return threading.Lock()",
        "xs.sort()\nreturn threading.Lock()",
        strict(),
    ));
    assert_eq!(status, EquivalenceStatus::Different);
    // An object setup made that cannot be copied is shared, and said.
    let v = check(
        "import threading\nlk = threading.Lock()\nxs = [1, 2]",
        "with lk:\n    return sum(xs)",
        "with lk:\n    return sum(xs)",
        strict(),
    );
    assert_eq!(outcome(&v).0, EquivalenceStatus::Same);
    assert!(
        notes(&v).iter().any(|n| n.contains("`lk`")),
        "{:?}",
        notes(&v)
    );
}

#[test]
fn randomness_and_time_are_told_apart_from_differences() {
    // Seeded alike, two samplers that draw the same way are the same.
    let setup = "import random\nxs = list(range(1000))";
    let v = check(
        setup,
        "return random.sample(xs, 5)",
        "return random.sample(xs, 5)",
        strict(),
    );
    assert_eq!(outcome(&v).0, EquivalenceStatus::Same);
    // Drawing another way: the result depends on the seed, so not "different".
    let v = check(
        setup,
        "return random.sample(xs, 5)",
        "return random.choices(xs, k=5)",
        strict(),
    );
    let (status, diff) = outcome(&v);
    assert_eq!(status, EquivalenceStatus::Nondeterministic, "{diff}");
    assert!(diff.contains("depends on the random numbers"), "{diff}");
    // Using randomness internally but returning a fixed answer: a wrong B is still caught.
    let v = check(
        setup,
        "random.shuffle(xs)\nreturn sorted(xs)[:3]",
        "random.shuffle(xs)\nreturn sorted(xs)[1:4]",
        strict(),
    );
    assert!(
        matches!(
            outcome(&v).0,
            EquivalenceStatus::Nondeterministic | EquivalenceStatus::Different
        ),
        "{:?}",
        outcome(&v)
    );
    let (status, diff) = outcome(&check(
        "import time",
        "return time.perf_counter()",
        "return time.perf_counter()",
        strict(),
    ));
    assert_eq!(status, EquivalenceStatus::Nondeterministic);
    assert!(diff.contains("two calls with the same seed"), "{diff}");
}

#[test]
fn caches_are_cleared_before_each_call() {
    // Without clearing, A's second call would be answered from the cache
    // and leave `calls` untouched: a false "nondeterministic".
    let setup = "import functools\ncalls = []\n@functools.lru_cache(maxsize=None)\ndef f(x):\n    calls.append(x)\n    return x * 2\n";
    let v = check(setup, "return f(3)", "return f(3)", strict());
    assert_eq!(outcome(&v).0, EquivalenceStatus::Same, "{:?}", outcome(&v));
}

#[test]
fn printed_output_is_compared() {
    let (status, diff) = outcome(&check(
        "",
        "print('total', 3)\nreturn 3",
        "print('total:', 3)\nreturn 3",
        strict(),
    ));
    assert_eq!(status, EquivalenceStatus::Different);
    assert!(diff.starts_with("stdout line 1"), "{diff}");
}

#[test]
fn exceptions_name_the_part_and_the_line() {
    match check("xs = [1]\nys = xs[5]", "return 1", "return 1", strict()) {
        Verified::Failed(f) => {
            assert_eq!(f.part, FailedPart::Setup);
            assert!(f.error.starts_with("IndexError"), "{f:?}");
            assert_eq!(f.text.as_deref(), Some("ys = xs[5]"));
        }
        other => panic!("{other:?}"),
    }
    match check("", "return word", "return 1", strict()) {
        Verified::Failed(f) => {
            assert_eq!(f.part, FailedPart::A);
            assert!(f.error.contains("name 'word' is not defined"), "{f:?}");
        }
        other => panic!("{other:?}"),
    }
    match check("xs = [1, 2]", "return sum(xs)", "return xs[9]", strict()) {
        Verified::Checked {
            equivalence,
            failure: Some(f),
        } => {
            assert_eq!(equivalence.status, EquivalenceStatus::Different);
            assert_eq!(f.part, FailedPart::B);
            let diff = equivalence.first_difference.unwrap();
            assert!(diff.starts_with("B raised IndexError"), "{diff}");
            assert!(diff.ends_with("where A returned 3"), "{diff}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn async_and_memory_scripts_are_checked_too() {
    let v = check_in(
        Domain::Async,
        "import asyncio",
        "await asyncio.sleep(0)\nreturn {'a': 1, 'b': 2}",
        "return {'b': 2, 'a': 1}",
        strict(),
    );
    assert_eq!(outcome(&v).0, EquivalenceStatus::Same);
    assert!(notes(&v).iter().any(|n| n.contains("another order")));
    let v = check_in(
        Domain::Async,
        "",
        "return [1, 2]",
        "return [2, 1]",
        strict(),
    );
    assert_eq!(outcome(&v).0, EquivalenceStatus::Different);
    let v = check_in(
        Domain::Memory,
        "n = 1000",
        "return list(range(n))",
        "return list(range(n + 1))",
        strict(),
    );
    let (status, diff) = outcome(&v);
    assert_eq!(status, EquivalenceStatus::Different);
    assert!(diff.contains("len(result) 1000 != 1001"), "{diff}");
}

#[test]
fn a_hand_written_script_without_variants_is_not_checked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.py");
    std::fs::write(&path, "import sys\nprint('hi')\n").unwrap();
    let mut argv = vec!["-c".to_string(), program(), path.display().to_string()];
    argv.extend(strict().words(Domain::Cpu, false));
    let out = std::process::Command::new("python3")
        .args(&argv)
        .output()
        .unwrap();
    let (status, reason) = outcome(&read(&String::from_utf8_lossy(&out.stdout)).unwrap());
    assert_eq!(status, EquivalenceStatus::NotChecked);
    assert!(reason.contains("no bench_a and bench_b"), "{reason}");
}

#[test]
fn answers_are_read_and_garbage_is_not() {
    assert!(read("nothing here").is_none());
    assert!(read("ABBENCH_VERIFY {not json").is_none());
    let out = "setup printed\nABBENCH_VERIFY {\"status\": \"same\", \"checked\": [\"result\"], \"notes\": []}\n";
    assert!(matches!(
        read(out),
        Some(Verified::Checked { equivalence, failure: None }) if equivalence.status == EquivalenceStatus::Same
    ));
    let failed = "ABBENCH_VERIFY {\"status\": \"failed\", \"failure\": {\"part\": \"setup\", \"error\": \"E: x\", \"script_line\": 3, \"text\": \"y = 1/0\", \"where\": null}}";
    match read(failed) {
        Some(Verified::Failed(f)) => {
            assert_eq!(f.describe("s.py"), "E: x (s.py, line 3: `y = 1/0`)")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn options_are_checked_and_skips_need_no_process() {
    assert!(Options::new(EquivalenceMode::Strict, Some(-1.0)).is_err());
    assert!(Options::new(EquivalenceMode::Strict, Some(f64::NAN)).is_err());
    assert!(Options::new(EquivalenceMode::Strict, Some(1.0)).is_err());
    let off = Options::new(EquivalenceMode::Off, None).unwrap();
    let skipped = off.skipped(Domain::Cpu).unwrap();
    assert_eq!(skipped.status, EquivalenceStatus::NotChecked);
    assert_eq!(
        skipped.warning(),
        None,
        "the agent asked for it: no warning"
    );
    assert!(strict().skipped(Domain::Structure).is_some());
    assert!(strict().skipped(Domain::Memory).is_none());
    let argv = vec!["python3".to_string(), "-c".into(), program(), "s.py".into()];
    assert_eq!(
        display(&argv),
        "python3 -c '<abbench'\\''s equivalence check>' s.py"
    );
}
