//! The e2e hook (`src/python/e2e_hook.py`) run as the workload's
//! `sitecustomize` by real Pythons: every python3.x on PATH, and on 3.12+
//! both of its ways of timing (sys.monitoring, and the wrapper it falls back
//! to when another tool holds every monitoring id). A generator target is
//! one call timed over its resumptions (not the consumer's time between
//! items); a coroutine target runs from its call to its completion.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use serde_json::{json, Value};

const MODULE: &str = r#"
import asyncio, time

def spin(s):
    end = time.perf_counter() + s
    while time.perf_counter() < end:
        pass

def as_list(n):
    out = []
    for i in range(n):
        spin(0.002)
        out.append(i)
    return out

def as_generator(n):
    for i in range(n):
        spin(0.002)
        yield i

async def waits():
    spin(0.002)
    await asyncio.sleep(0.03)
    spin(0.002)
"#;

/// The consumer spends 6 ms per item: were it counted, a generator's time
/// would triple.
const WORKLOAD: &str = r#"
import asyncio, mod
for _ in range(3):
    for item in mod.as_generator(5):
        mod.spin(0.006)
for _ in range(2):
    for item in mod.as_list(5):
        mod.spin(0.006)
asyncio.run(mod.waits())
"#;

/// Holds every sys.monitoring tool id the hook would use.
const CROWDED: &str =
    "import sys\nfor t in (2, 3, 4, 5):\n    sys.monitoring.use_tool_id(t, 'other')\n";

fn pythons() -> Vec<(String, (u32, u32))> {
    let mut found = Vec::new();
    for name in [
        "python3",
        "python3.9",
        "python3.10",
        "python3.11",
        "python3.12",
        "python3.13",
        "python3.14",
    ] {
        let Ok(out) = Command::new(name)
            .args([
                "-c",
                "import sys; print(sys.version_info[0], sys.version_info[1])",
            ])
            .output()
        else {
            continue;
        };
        let text = String::from_utf8_lossy(&out.stdout);
        let v: Vec<u32> = text
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        if out.status.success() && v.len() == 2 && !found.iter().any(|(_, f)| *f == (v[0], v[1])) {
            found.push((name.to_string(), (v[0], v[1])));
        }
    }
    found
}

/// Runs the workload under the hook with `python`; the hook's report.
fn report(python: &str, dir: &Path, crowded: bool) -> Value {
    let hook = dir.join("hook");
    common::install_hook(&hook, "e2e_hook.py");
    let chained = dir.join("chained");
    std::fs::create_dir_all(&chained).unwrap();
    if crowded {
        std::fs::write(chained.join("sitecustomize.py"), CROWDED).unwrap();
    }
    std::fs::write(dir.join("mod.py"), MODULE).unwrap();
    std::fs::write(dir.join("work.py"), WORKLOAD).unwrap();
    let out: PathBuf = dir.join("report.json");
    let targets = json!([
        {"file": "mod.py", "qualname": "as_generator"},
        {"file": "mod.py", "qualname": "as_list"},
        {"file": "mod.py", "qualname": "waits"},
    ]);
    let done = Command::new(python)
        .arg("work.py")
        .current_dir(dir)
        .env(
            "PYTHONPATH",
            format!("{}:{}:{}", hook.display(), chained.display(), dir.display()),
        )
        .env("ABBENCH_E2E_OUT", &out)
        .env("ABBENCH_E2E_ROOT", dir)
        .env("ABBENCH_E2E_TARGETS", targets.to_string())
        .output()
        .unwrap();
    assert!(
        done.status.success(),
        "{python}: {}",
        String::from_utf8_lossy(&done.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap()
}

#[test]
fn generators_are_one_call_timed_over_their_resumptions_and_coroutines_to_completion() {
    let pythons = pythons();
    assert!(!pythons.is_empty(), "no python3 on PATH");
    for (python, version) in pythons {
        let mut ways = vec![false];
        if version >= (3, 12) {
            ways.push(true);
        }
        for crowded in ways {
            let dir = tempfile::tempdir().unwrap();
            let r = report(&python, dir.path(), crowded);
            let expected = if version >= (3, 12) && !crowded {
                "sys.monitoring"
            } else {
                "wrapper"
            };
            let case = format!("{python} ({}.{}), {expected}", version.0, version.1);
            assert_eq!(r["hook"], expected, "{case}: {r}");
            let t = &r["targets"];
            // 3 calls of 5 items × 2 ms = 30 ms of its own; the consumer's
            // 90 ms between items are not its time.
            assert_eq!(t[0]["calls"], 3, "{case}: {r}");
            assert_eq!(t[0]["generator"], true, "{case}: {r}");
            let gen_s = t[0]["seconds"].as_f64().unwrap();
            assert!(
                (0.029..0.075).contains(&gen_s),
                "{case}: generator {gen_s} s: {r}"
            );
            // The list version: 2 calls of 10 ms each, no generator.
            assert_eq!(t[1]["calls"], 2, "{case}: {r}");
            assert_eq!(t[1]["generator"], false, "{case}: {r}");
            let list_s = t[1]["seconds"].as_f64().unwrap();
            assert!(
                (0.019..0.06).contains(&list_s),
                "{case}: list {list_s} s: {r}"
            );
            // The coroutine: 4 ms of work and a 30 ms await, awaits included.
            assert_eq!(t[2]["calls"], 1, "{case}: {r}");
            let co_s = t[2]["seconds"].as_f64().unwrap();
            assert!(
                (0.033..0.2).contains(&co_s),
                "{case}: coroutine {co_s} s: {r}"
            );
        }
    }
}
