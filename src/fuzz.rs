//! Property tests for every parser of untrusted text: what user code prints
//! (the ABBENCH line, the paired design's pilot and counted reports, fed on
//! through the design), what tools print (pytest and unittest summaries,
//! the pstats helper's JSON), what clients send (JSON-RPC lines,
//! command strings, times), and what the ledger holds. None may panic, and
//! where there is a round trip it must hold.
//!
//! `ABBENCH_FUZZ_CASES=100000 cargo test --release --lib fuzz` runs the full
//! campaign; the default (2,000 cases per property) runs in CI.

use proptest::prelude::*;
use serde_json::Value;

fn config() -> ProptestConfig {
    let cases = std::env::var("ABBENCH_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Arbitrary JSON, nested a few levels, with the keys abbench looks for
/// mixed in so the interesting paths are reached.
fn json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("value".to_string()),
        Just("variant".to_string()),
        Just("metadata".to_string()),
        Just("peak_memory".to_string()),
        Just("estimate".to_string()),
        Just("low".to_string()),
        Just("high".to_string()),
        Just("share".to_string()),
        Just("calls".to_string()),
        Just("gain".to_string()),
        Just("speedup".to_string()),
        Just("saved_bytes".to_string()),
        "[a-z_]{1,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Text that looks like test-runner output: real summary words and noise.
fn runner_output() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        "[0-9]{1,3} (passed|failed|errors?|skipped)(, [0-9]{1,3} (passed|failed|errors?|skipped)){0,3} in [0-9.]{1,5}s",
        "=+ .{0,30} =+",
        "(FAILED|ERROR) [a-z/_.]{1,20}::[a-z_\\[\\]]{1,20}( - .{0,20})?",
        "Ran [0-9]{1,3} tests? in [0-9.]{1,5}s",
        "(OK|FAILED) \\((failures|errors|skipped)=[0-9]{1,3}(, (failures|errors|skipped)=[0-9]{1,3}){0,2}\\)",
        "(FAIL|ERROR): .{0,30}",
        ".{0,40}",
    ];
    prop::collection::vec(line, 0..12).prop_map(|lines| lines.join("\n"))
}

/// Per-op seconds: mostly plausible, sometimes zero, negative or huge.
fn seconds() -> impl Strategy<Value = Value> {
    prop_oneof![
        8 => (1e-7..1e-1f64).prop_map(Value::from),
        1 => Just(Value::from(0.0)),
        1 => (-1.0..1e-300f64).prop_map(Value::from),
        1 => (1e3..1e300f64).prop_map(Value::from),
    ]
}

/// The rounds of one paired process, usually well formed.
fn blocks_json() -> impl Strategy<Value = Value> {
    (1usize..12, prop::bool::weighted(0.9)).prop_flat_map(|(n, same)| {
        let nb = if same { n } else { n + 1 };
        (
            prop::collection::vec(seconds(), n),
            prop::collection::vec(seconds(), nb),
            prop::collection::vec(prop_oneof![Just("AB"), Just("BA"), Just("AA")], n),
            1u64..1_000_000,
            0.0..30.0f64,
        )
            .prop_map(|(a, b, order, number, timed)| {
                serde_json::json!({"a": a, "b": b, "order": order.concat(),
                    "number": {"a": number, "b": number}, "timed_s": timed})
            })
    })
}

/// A pilot report: one to three candidate lengths, the A/A rounds, the costs.
fn pilot_json() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(
            (
                prop_oneof![Just(0.005), Just(0.02), 0.0..1.0f64],
                blocks_json(),
            ),
            1..4,
        ),
        prop::collection::vec(seconds(), 0..6),
        0.0..5.0f64,
    )
        .prop_map(|(lengths, aa, setup)| {
            let lengths: Vec<Value> = lengths
                .into_iter()
                .map(|(len, mut b)| {
                    b["block_s"] = len.into();
                    b
                })
                .collect();
            let half = aa.len() / 2;
            serde_json::json!({"lengths": lengths, "aa": [aa[..half], aa[half..2 * half]],
                "setup_s": setup, "elapsed_s": setup + 1.0})
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn measurement_line_never_panics(text in ".{0,200}", json in json()) {
        let _ = crate::measurement::last_line(&text).map(crate::measurement::parse_line);
        let line = format!("noise\nABBENCH {json}\n");
        if let Some(found) = crate::measurement::last_line(&line) {
            if let Ok(parsed) = crate::measurement::parse_line(found) {
                prop_assert!(parsed.value.is_none_or(|v| v.is_finite() && v >= 0.0));
            }
        }
    }

    #[test]
    fn paired_reports_never_panic(
        pilot in pilot_json(),
        counted in prop::collection::vec(blocks_json(), 0..14),
        json in json(),
        seconds_left in prop_oneof![Just(0.0), 0.0..600.0f64, Just(f64::INFINITY)],
    ) {
        use crate::bench::blocks::{Counted, Pilot};
        use crate::bench::design::{PairedSchedule, ROUNDS_MAX, ROUNDS_MIN};
        let _ = serde_json::from_value::<Pilot>(json.clone()).map(|p| p.check());
        let _ = serde_json::from_value::<Counted>(json).map(|c| c.blocks.check());
        let Ok(mut pilot) = serde_json::from_value::<Pilot>(pilot) else { return Ok(()) };
        if pilot.check().is_err() {
            return Ok(());
        }
        pilot.wall_s = pilot.elapsed_s + 0.05;
        let threshold = crate::domain::Threshold::time(0.2);
        let mut schedule = PairedSchedule::new(&pilot, &threshold, None, 30, 1);
        prop_assert!(pilot.lengths.iter().any(|l| l.block_s == schedule.block().block_s));
        for c in counted {
            let Ok(mut c) = serde_json::from_value::<Counted>(c) else { continue };
            if c.blocks.check().is_err() {
                continue;
            }
            c.wall_s = c.timed_s.abs() + 0.1;
            let rounds = schedule.rounds();
            prop_assert!((ROUNDS_MIN..=ROUNDS_MAX).contains(&rounds), "{rounds} rounds");
            if let Some((_, analysis)) = schedule.add(&c, seconds_left) {
                prop_assert!(analysis.pairs == schedule.count());
            }
        }
        if schedule.count() > 0 {
            let (_, analysis) = schedule.final_look();
            prop_assert!(analysis.settled || !analysis.reason.is_empty());
        }
    }

    #[test]
    fn test_summaries_never_panic(output in runner_output()) {
        if let Some(s) = crate::testsummary::parse(&output) {
            prop_assert!(s.framework == "pytest" || s.framework == "unittest");
        }
    }

    #[test]
    fn pytest_counts_are_read_back(passed in 0u64..500, failed in 0u64..500, skipped in 0u64..50) {
        let line = format!("=== {passed} passed, {failed} failed, {skipped} skipped in 0.52s ===");
        let s = crate::testsummary::parse(&format!("....\n{line}\n")).unwrap();
        prop_assert_eq!((s.passed, s.failed, s.skipped), (passed, failed, skipped));
    }

    #[test]
    fn command_splitting_never_panics_and_round_trips(text in ".{0,80}", words in prop::collection::vec("[^\\x00]{1,12}", 1..6)) {
        let _ = crate::python::command::split_command("runner", &text);
        let joined = shell_words::join(&words);
        prop_assert_eq!(crate::python::command::split_command("runner", &joined).unwrap(), words);
    }

    #[test]
    fn json_rpc_lines_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300), id in any::<u32>(), method in "[a-z/]{1,20}") {
        if let Some(reply) = crate::mcp::stdio::check_message(&bytes) {
            let reply: Value = serde_json::from_slice(&reply).unwrap();
            prop_assert!(reply["error"]["code"].is_i64());
        }
        let valid = serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method}).to_string();
        prop_assert!(crate::mcp::stdio::check_message(valid.as_bytes()).is_none());
    }

    #[test]
    fn times_never_panic_and_round_trip(text in ".{0,40}", secs in 0u64..8_000_000_000) {
        let _ = crate::ledger::normalize_rfc3339(&text);
        let t = crate::ledger::rfc3339(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs));
        prop_assert_eq!(crate::ledger::normalize_rfc3339(&t), Some(t));
    }

    /// Whatever a ledger row holds, reading it back as a run is a record
    /// or an error that names it, never a panic.
    #[test]
    fn ledger_rows_never_panic(result in json(), verdict in ".{0,20}", domain in ".{0,12}") {
        let dir = tempfile::tempdir().unwrap();
        let ledger = crate::ledger::Ledger::open(dir.path()).unwrap();
        let conn = rusqlite::Connection::open(ledger.path()).unwrap();
        conn.execute(
            "INSERT INTO runs (run_id, created_at, script, domain, verdict, arguments, result) VALUES ('r', 't', 's', ?1, ?2, '{}', ?3)",
            rusqlite::params![domain, verdict, result.to_string()],
        ).unwrap();
        if let Err(e) = ledger.get_run::<crate::bench::RunRequest, crate::bench::RunResult>("r") {
            prop_assert!(e.to_string().contains("run r"), "{}", e);
        }
    }

    #[test]
    fn scripts_render_for_any_code(setup in ".{0,200}", a in "(.{0,40}\n){0,5}", b in "[ \t]{0,4}.{0,40}") {
        let _ = crate::template::read_marker(&setup);
        let spec = crate::template::ScriptSpec {
            name: "fuzz".into(),
            domain: Some(crate::domain::Domain::Cpu),
            setup,
            code_a: a,
            code_b: b,
            ..Default::default()
        };
        let domain = spec.validate().unwrap();
        let rendered = crate::template::render(&spec, domain);
        prop_assert!(rendered.text.contains("def bench_b():"));
        prop_assert_eq!(rendered.spans.len(), 3);
    }
}
