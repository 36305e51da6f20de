//! `abbench demo`: the whole loop an optimization agent runs, on a bundled
//! example project, with the tool call an agent would make at each step.
//! Everything happens in a temporary directory with its own ledger.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::render;
use crate::bench::{self, RunRequest};
use crate::e2e::{self, E2eRequest};
use crate::generate;
use crate::git::Repo;
use crate::keep::{self, KeepRequest};
use crate::process::{self, Limits, ProcessSpec};

/// The example project, embedded: (path, text). Its suite needs only the
/// standard library (unittest), so the demo runs on a bare machine.
pub const PROJECT: [(&str, &str); 6] = [
    (
        "shop/__init__.py",
        include_str!("../../demo/shop/__init__.py"),
    ),
    (
        "shop/inventory.py",
        include_str!("../../demo/shop/inventory.py"),
    ),
    ("shop/report.py", include_str!("../../demo/shop/report.py")),
    (
        "tests/__init__.py",
        include_str!("../../demo/tests/__init__.py"),
    ),
    (
        "tests/test_inventory.py",
        include_str!("../../demo/tests/test_inventory.py"),
    ),
    (
        "bench_report.py",
        include_str!("../../demo/bench_report.py"),
    ),
];
/// The demo's full test suite and the test that exercises the target.
pub const TEST_COMMAND: &str = "python3 -m unittest -q";
/// The test of `count_known`, profiled on the base and on the candidate.
pub const TARGET_TEST: &str = "tests/test_inventory.py::InventoryTest::test_daily_report";
/// `shop/inventory.py` with the candidate optimization applied.
pub const OPTIMIZED_INVENTORY: &str = include_str!("../../demo/optimized/inventory.py");

const SETUP: &str = "# The real input: the test suite's catalogue and a day of orders.
from shop.inventory import normalise

CATALOGUE = [f\"SKU-{i:06d}\" for i in range(3000)]
ORDERS = [normalise(f\" sku-{i * 7 % 6000:06d}\") for i in range(2000)]";

fn step(say: &mut dyn FnMut(&str), n: u32, title: &str, call: Option<(&str, &serde_json::Value)>) {
    say(&format!("\n== {n}. {title}"));
    if let Some((tool, args)) = call {
        say(&format!(
            "   tool call: {tool} {}",
            serde_json::to_string(&args).unwrap_or_default()
        ));
    }
}

/// The request a tool call with these arguments gets: the demo makes
/// exactly the calls it shows.
fn as_request<T: serde::de::DeserializeOwned>(args: &serde_json::Value) -> Result<T> {
    serde_json::from_value(args.clone()).context("the demo's own arguments")
}

/// The example project, committed in a fresh git repository at `dir`.
async fn write_project(dir: &std::path::Path) -> Result<Repo> {
    for (path, text) in PROJECT {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().expect("files have parents"))?;
        std::fs::write(&file, text)?;
    }
    Ok(Repo::init_with_commit(dir, "the shop, before optimization").await?)
}

async fn python_runs() -> Result<()> {
    let spec = ProcessSpec::new(vec!["python3".into(), "-c".into(), "pass".into()]);
    match process::run(&spec, Limits::default(), &CancellationToken::new()).await {
        Ok(f) if f.exit.success() => Ok(()),
        Ok(f) => bail!(
            "abbench demo needs a working python3 on PATH; `python3 -c pass` failed with {}",
            f.exit
        ),
        Err(e) => bail!("abbench demo needs python3 on PATH (install Python 3.8 or newer): {e}"),
    }
}

/// Runs the demo, reporting each step through `say`. With `keep_dir`, the
/// temporary directory is left in place (and named) for inspection.
pub async fn run(
    say: &mut dyn FnMut(&str),
    keep_dir: bool,
    cancel: &CancellationToken,
) -> Result<()> {
    python_runs().await?;
    let tmp = tempfile::Builder::new().prefix("abbench-demo-").tempdir()?;
    let root = tmp.path();
    let (bench_dir, ledger_dir) = (root.join("bench"), root.join("ledger"));
    std::fs::create_dir_all(&bench_dir)?;
    let repo = write_project(&root.join("shop")).await?;
    say(&format!(
        "abbench demo: a small shop whose daily report checks 2,000 order SKUs against a\n\
         3,000-item catalogue held in a list. Working in {} (a fresh git repository).",
        root.display()
    ));
    say("The agent found shop/inventory.py::count_known on the hot path and wrote a\ncandidate: build a set of the catalogue once per call.");

    step(
        say,
        1,
        "Apply the candidate to the work tree (shop/inventory.py)",
        None,
    );
    std::fs::write(repo.root.join("shop/inventory.py"), OPTIMIZED_INVENTORY)?;
    let diff = repo.git(&["diff", "--stat"]).await?;
    for line in diff.trim_end().lines() {
        say(&format!("   {}", line.trim()));
    }

    let keep_args = micro_phase(say, &repo, &bench_dir, &ledger_dir, cancel).await?;
    e2e_phase(say, &repo, keep_args, &ledger_dir, cancel).await?;
    say("\nThat is the loop: edit → generate → run → check keep, and when the micro run is not enough, run end to end and decide again; each answer with its figures.");
    if keep_dir {
        let kept = tmp.keep();
        say(&format!("The demo's files are kept in {}.", kept.display()));
    }
    Ok(())
}

/// `text`, each line indented under its step.
fn indented(say: &mut dyn FnMut(&str), text: &str) {
    for line in text.lines() {
        say(&format!("   {line}"));
    }
}

/// Steps 2 to 4: generate, run, check keep; the keep call's arguments.
async fn micro_phase(
    say: &mut dyn FnMut(&str),
    repo: &Repo,
    bench_dir: &Path,
    ledger_dir: &Path,
    cancel: &CancellationToken,
) -> Result<serde_json::Value> {
    let gen_args = json!({
        "name": "count_known", "domain": "cpu", "setup": SETUP,
        "target": "shop/inventory.py::count_known",
        "call": "return count_known(ORDERS, CATALOGUE)",
        "dir": bench_dir, "cwd": repo.root,
    });
    step(
        say,
        2,
        "Write the A/B script: bench_a = count_known as committed (HEAD), bench_b = the work tree's",
        Some(("generate_ab_script", &gen_args)),
    );
    let generated = generate::generate(&as_request(&gen_args)?)
        .await
        .context("generate_ab_script")?;
    say(&format!(
        "   wrote {} ({})",
        generated.path, generated.measurement
    ));
    let e = &generated.equivalence;
    say(&format!(
        "   ran setup and each variant once: {} ({} compared){}",
        e.status.as_str(),
        e.checked.join(", "),
        e.first_difference
            .as_deref()
            .map(|d| format!(": {d}"))
            .unwrap_or_default()
    ));

    let run_args = json!({"script": generated.path, "cwd": repo.root});
    step(
        say,
        3,
        "Run A and B in fresh, interleaved processes",
        Some(("run_ab_benchmark", &run_args)),
    );
    let request: RunRequest = as_request(&run_args)?;
    let run = bench::run_ab(&request, Some(ledger_dir), cancel, Arc::new(|_| {}))
        .await
        .context("run_ab_benchmark")?;
    indented(say, &render::run_summary(&run));

    let keep_args = json!({
        "run_id": run.run_id, "repo": repo.root, "test_command": TEST_COMMAND,
        "target_test": TARGET_TEST,
    });
    let keep_request: KeepRequest = as_request(&keep_args)?;
    step(
        say,
        4,
        "Check the four keep conditions (the run recorded the target and the base)",
        Some(("check_keep_conditions", &keep_args)),
    );
    let checked = keep::check(&keep_request, Some(ledger_dir), cancel)
        .await
        .context("check_keep_conditions")?;
    indented(say, &render::keep_summary(&checked));

    Ok(keep_args)
}

/// Steps 5 and 6: the workload end to end, then keep again with it.
async fn e2e_phase(
    say: &mut dyn FnMut(&str),
    repo: &Repo,
    keep_args: serde_json::Value,
    ledger_dir: &Path,
    cancel: &CancellationToken,
) -> Result<()> {
    let run_id = keep_args["run_id"].clone();
    let e2e_args = json!({
        "repo": repo.root, "command": "python3 bench_report.py",
        "target_functions": ["shop/inventory.py::count_known"], "micro_run_id": run_id,
    });
    step(
        say,
        5,
        "The second phase: does the micro gain carry over to the shop's own workload? Run it on the base (a temporary git worktree) and on the work tree",
        Some(("run_e2e_benchmark", &e2e_args)),
    );
    let e2e_request: E2eRequest = as_request(&e2e_args)?;
    let confirmed = e2e::run_e2e(&e2e_request, Some(ledger_dir), cancel, Arc::new(|_| {}))
        .await
        .context("run_e2e_benchmark")?;
    indented(say, &render::e2e_summary(&confirmed));

    let mut final_args = keep_args;
    final_args["e2e_run_id"] = json!(confirmed.run_id);
    step(
        say,
        6,
        "Decide again with the end-to-end run: its verdict judges the improvement, the target's share of the workload the hot path",
        Some(("check_keep_conditions", &final_args)),
    );
    let decided = keep::check(&as_request(&final_args)?, Some(ledger_dir), cancel)
        .await
        .context("check_keep_conditions")?;
    indented(say, &render::keep_summary(&decided));

    Ok(())
}
