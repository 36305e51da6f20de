//! Human-readable summaries for the CLI. Returns strings; never prints.

use crate::bench::{Isolation, RunResult};
use crate::doctor::EnvironmentReport;
use crate::domain::MIB;
use crate::history::HistoryResult;
use crate::keep::KeepResult;
use crate::measure::environment::ArmSummary;

/// Formats a value in its unit: seconds scaled to s/ms/µs/ns, bytes to MiB.
pub fn quantity(value: f64, unit: &str) -> String {
    match unit {
        "s" => {
            let a = value.abs();
            if a >= 1.0 {
                format!("{value:.3} s")
            } else if a >= 1e-3 {
                format!("{:.3} ms", value * 1e3)
            } else if a >= 1e-6 {
                format!("{:.3} µs", value * 1e6)
            } else {
                format!("{:.1} ns", value * 1e9)
            }
        }
        "bytes" => format!("{:.2} MiB", value / MIB as f64),
        _ => format!("{value} {unit}"),
    }
}

fn arm_row(label: &str, arm: &ArmSummary) -> String {
    format!(
        "  {label:<16} {:>12}  {:>12}  {:>12}  {:>7.1} %  {:>3}\n",
        quantity(arm.summary.median, &arm.unit),
        quantity(arm.summary.min, &arm.unit),
        quantity(arm.summary.max, &arm.unit),
        arm.summary.cv * 100.0,
        arm.summary.n
    )
}

/// The summary table `abbench run` prints.
pub fn run_summary(r: &RunResult) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "abbench run {}  ({} domain)\n",
        r.run_id, r.domain
    ));
    out.push_str(&format!("  script   {}\n", r.script));
    if let Some(rev) = &r.revision {
        out.push_str(&format!(
            "  code     {}: A as committed at {}, B from {}\n",
            rev.targets.join(", "),
            rev.base_label(),
            rev.candidate_label()
        ));
    }
    out.push_str(&format!(
        "  runner   {}  ({})\n",
        r.runner.shown(),
        r.runner.chosen_because
    ));
    if !r.candidates.is_empty() {
        out.push_str(&format!(
            "  candidates, best first (the table below is {}'s):\n",
            r.b_candidate().unwrap_or("?")
        ));
        for c in &r.candidates {
            let figure = c
                .speedup
                .map(|s| format!("  {}", s.show(|x| format!("{x:.3}x"))))
                .unwrap_or_default();
            out.push_str(&format!("    {:<16} {}{figure}\n", c.label, c.status()));
        }
    }
    let (Some(arm_a), Some(arm_b)) = (&r.a, &r.b) else {
        // Nothing was timed: the check found that B computes something else.
        out.push_str("  nothing timed\n\n");
        out.push_str(&verdict_and_warnings(r));
        return out;
    };
    out.push_str(&format!("  measured {}\n", r.measured_by));
    out.push_str(&format!("  design   {}\n\n", design_line(r)));
    out.push_str(&format!(
        "  {:<16} {:>12}  {:>12}  {:>12}  {:>9}  {:>3}\n",
        "variant", "median", "min", "max", "cv", "n"
    ));
    out.push_str(&arm_row("A (current)", arm_a));
    out.push_str(&arm_row(&r.b_name(), arm_b));
    out.push('\n');
    if let Some(e) = &r.equivalence {
        out.push_str(&equivalence_line(e));
    }
    let c = &r.comparison;
    let level = format!("{:.2} % one-sided bounds", c.confidence * 100.0);
    out.push_str(&time_lines(c, &level));
    out.push_str(&memory_lines(r, &level));
    out.push_str(&format!("  threshold {}\n", r.threshold.description));
    out.push_str(&stop_line(r));
    out.push_str(&verdict_and_warnings(r));
    out
}

/// Memory: the saving with its bounds, and against the whole process.
fn memory_lines(r: &RunResult, level: &str) -> String {
    let c = &r.comparison;
    let mut out = String::new();
    if let (Some(bytes), Some(frac)) = (&c.saved_bytes, &c.saved_fraction) {
        out.push_str(&format!(
            "  saved    {}   ({level})\n",
            bytes.show(|v| quantity(v, "bytes"))
        ));
        out.push_str(&format!(
            "  saved    {} of A's own peak\n",
            frac.show(|v| format!("{:.1} %", v * 100.0))
        ));
    }
    if let Some(peak) = &r.process_peak {
        out.push_str(&format!(
            "  process  A {} / B {} whole-process peak (median){}\n",
            quantity(peak.a.summary.median, "bytes"),
            quantity(peak.b.summary.median, "bytes"),
            peak.saved_fraction
                .map(|f| format!(", saving {:.1} % of it", f.estimate * 100.0))
                .unwrap_or_default()
        ));
    }
    out
}

/// How many pairs, where the run stopped and why, its time and seed.
fn stop_line(r: &RunResult) -> String {
    let c = &r.comparison;
    let mut out = String::new();
    let looks: Vec<String> = r.looks.iter().map(|l| l.pairs.to_string()).collect();
    let unit = match r.design.isolation {
        Isolation::Paired => "processes",
        Isolation::Process => "pairs",
    };
    // With several candidates the figures are the best's (else the first listed's).
    let b = r.b_candidate().unwrap_or("B");
    out.push_str(&format!(
        "  {unit:<8} {} ({b} better in {}), stopped at look {} of [{}] ({}), {:.1} s, lock wait {:.1} s, seed {}\n\n",
        c.pairs,
        c.pairs_b_better,
        r.stopped_at_look,
        looks.join(", "),
        serde_json::to_value(r.stopped_because).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default(),
        r.elapsed_s,
        r.lock_wait_s,
        r.seed
    ));
    out
}

fn verdict_and_warnings(r: &RunResult) -> String {
    let c = &r.comparison;
    let mut out = format!("  VERDICT  {}: {}\n", c.verdict.as_str(), c.reason);
    for w in &r.warnings {
        out.push_str(&format!("  warning: {w}\n"));
    }
    out
}

/// The equivalence check in one line: its status and what it found.
fn equivalence_line(e: &crate::equivalence::Equivalence) -> String {
    let detail = e
        .first_difference
        .as_deref()
        .or(e.reason.as_deref())
        .map(|d| format!(": {d}"))
        .unwrap_or_else(|| format!(" ({} compared)", e.checked.join(", ")));
    format!("  results  {}{detail}\n", e.status.as_str())
}

/// What `abbench e2e` prints.
pub fn e2e_summary(r: &crate::e2e::E2eResult) -> String {
    let mut out = format!("abbench e2e {}  ({} domain)\n", r.run_id, r.domain);
    out.push_str(&format!("  repo     {}\n", r.repo));
    out.push_str(&format!("  change   {}\n", r.revisions.change));
    out.push_str(&format!(
        "  runner   {}  ({})\n",
        r.runner.shown(),
        r.runner.chosen_because
    ));
    for (label, command) in [
        ("base", &r.commands.base),
        ("candidate", &r.commands.candidate),
    ] {
        if let Some(c) = command {
            out.push_str(&format!("  {label:<10} {c}\n"));
        }
    }
    out.push_str(&format!("  measured {}\n", r.measured_by));
    out.push_str(&format!("  design   {}\n\n", r.design));
    out.push_str(&format!(
        "  {:<16} {:>12}  {:>12}  {:>12}  {:>9}  {:>3}\n",
        "revision", "median", "min", "max", "cv", "n"
    ));
    out.push_str(&arm_row("base", &r.base));
    out.push_str(&arm_row("candidate", &r.candidate));
    out.push('\n');
    let c = &r.comparison;
    let level = format!("{:.2} % one-sided bounds", c.confidence * 100.0);
    out.push_str(&time_lines(c, &level));
    if let (Some(bytes), Some(frac)) = (&c.saved_bytes, &c.saved_fraction) {
        out.push_str(&format!(
            "  saved    {} ({} of the base's peak)   ({level})\n",
            bytes.show(|v| quantity(v, "bytes")),
            frac.show(|v| format!("{:.1} %", v * 100.0))
        ));
    }
    for t in &r.targets {
        out.push_str(&format!("  target   {}\n", t.summary));
    }
    if let Some(hook) = &r.target_hook {
        out.push_str(&format!("  timed by {}: {}\n", hook.method, hook.overhead));
    }
    out.push_str(&format!("  threshold {}\n", r.threshold.description));
    out.push_str(&format!(
        "  pairs    {} (candidate better in {}), stopped at look {}, {:.1} s, lock wait {:.1} s, seed {}\n\n",
        c.pairs, c.pairs_b_better, r.stopped_at_look, r.elapsed_s, r.lock_wait_s, r.seed
    ));
    out.push_str(&format!(
        "  VERDICT  {}: {}\n",
        c.verdict.as_str(),
        c.reason
    ));
    if let Some(cf) = &r.codeflash_command {
        out.push_str(&format!("  codeflash equivalent: {cf}\n"));
    }
    for w in &r.warnings {
        out.push_str(&format!("  warning: {w}\n"));
    }
    out
}

/// The speedup and gain lines of a time comparison (empty for memory).
fn time_lines(c: &crate::verdict::Analysis, level: &str) -> String {
    match (&c.speedup, &c.gain) {
        (Some(speedup), Some(gain)) => format!(
            "  speedup  {}   ({level})\n  gain     {}\n",
            speedup.show(|v| format!("{v:.3}x")),
            gain.show(|v| format!("{:+.1} %", v * 100.0))
        ),
        _ => String::new(),
    }
}

/// One line saying which design ran and its main choices.
fn design_line(r: &RunResult) -> String {
    let d = &r.design;
    match (&d.block, d.rounds.first()) {
        (Some(block), Some(rounds)) => {
            let later = d
                .rounds
                .iter()
                .skip(1)
                .map(|c| format!(", {} from process {}", c.rounds, c.from_process))
                .collect::<String>();
            format!(
                "paired: {:.0} ms blocks ({} calls of A, {} of B), {} rounds per process{later}; per-process speedups vary by {:.1} % (sd of ln)",
                block.block_s * 1e3,
                block.number_a,
                block.number_b,
                rounds.rounds,
                d.process_log_sd.unwrap_or(0.0) * 100.0
            )
        }
        _ => format!("process isolation: {}", d.chosen_because),
    }
}

/// The table `abbench keep` prints: each condition, the decision, the next step.
pub fn keep_summary(k: &KeepResult) -> String {
    let mut out = format!(
        "keep check {} of run {}\n  change   {}\n",
        k.check_id, k.run_id, k.change
    );
    if let Some(e2e) = &k.e2e_run_id {
        out.push_str(&format!(
            "  e2e run  {e2e} (the improvement judged end to end)\n"
        ));
    }
    for c in &k.conditions {
        let mark = if c.passed { "PASS" } else { "FAIL" };
        out.push_str(&format!(
            "  {mark}  {:<12} {}\n",
            c.name.as_str(),
            c.summary.replace('\n', "\n                     ")
        ));
    }
    out.push_str(&format!(
        "\n  DECISION {}: {}\n  next     {}\n",
        k.decision.as_str(),
        k.reason,
        k.next_step
    ));
    for w in &k.warnings {
        out.push_str(&format!("  warning: {w}\n"));
    }
    out
}

/// The report `abbench doctor` prints.
pub fn doctor_summary(r: &EnvironmentReport) -> String {
    let mut out = format!("abbench doctor for {}\n", r.cwd);
    if let Some(root) = &r.project_root {
        out.push_str(&format!("  project  {root}\n"));
    }
    match (&r.runner, &r.python) {
        (Some(runner), python) => {
            out.push_str(&format!(
                "  runner   {}  ({})\n",
                runner.shown(),
                runner.chosen_because
            ));
            for t in &runner.tried {
                out.push_str(&format!("           - {t}\n"));
            }
            if let Some(p) = python {
                out.push_str(&format!(
                    "  python   {} {} at {}{}\n",
                    p.implementation,
                    p.version,
                    p.executable,
                    if p.in_virtualenv {
                        " (a virtualenv)"
                    } else {
                        ""
                    }
                ));
            }
        }
        (None, _) => out.push_str("  runner   none (see problems)\n"),
    }
    out.push('\n');
    for t in &r.tools {
        let mark = if t.available { "ok " } else { "-- " };
        out.push_str(&format!("  {mark} {:<10} {}\n", t.name, t.detail));
    }
    out.push('\n');
    for d in &r.domains {
        let mark = if d.ready { "ok " } else { "-- " };
        out.push_str(&format!("  {mark} {:<10} {}\n", d.domain.as_str(), d.how));
    }
    let m = &r.machine;
    out.push_str(&format!(
        "\n  machine  {} cores{}, load {}, busy {}, steal {}, governor {}, turbo {}, {} other abbench process(es), lock {}\n",
        m.cores,
        m.cpu_model.as_ref().map(|c| format!(" ({c})")).unwrap_or_default(),
        m.load_average
            .map(|l| format!("{:.2} {:.2} {:.2}", l[0], l[1], l[2]))
            .unwrap_or_else(|| "?".into()),
        m.busy_fraction.map(|b| format!("{:.0} %", b * 100.0)).unwrap_or_else(|| "?".into()),
        m.steal_fraction.map(|s| format!("{:.0} %", s * 100.0)).unwrap_or_else(|| "?".into()),
        m.governor.as_deref().unwrap_or("not exposed"),
        m.turbo.map(|t| if t { "on" } else { "off" }).unwrap_or("not exposed"),
        m.abbench_processes,
        if m.lock_held { "held" } else { "free" }
    ));
    if r.problems.is_empty() {
        out.push_str("\n  no problems found\n");
    }
    for p in &r.problems {
        out.push_str(&format!(
            "\n  problem: {}\n      fix: {}\n",
            p.problem, p.fix
        ));
    }
    for a in &r.advice {
        out.push_str(&format!("  advice:  {a}\n"));
    }
    out
}

/// The list `abbench history` prints, newest first.
pub fn history_summary(h: &HistoryResult) -> String {
    let mut out = format!("{} run(s) from {}\n", h.count, h.ledger);
    for r in &h.runs {
        out.push_str(&format!(
            "{}  {}  {:<9} {:<16} {}  ({} pairs)  {}\n",
            r.created_at,
            r.run_id,
            r.domain.as_str(),
            r.verdict.as_str(),
            r.estimate,
            r.pairs,
            r.name.as_deref().unwrap_or(&r.script)
        ));
        for d in &r.decisions {
            out.push_str(&format!(
                "    {}  {}  {} for {}\n",
                d.created_at,
                d.check_id,
                d.decision.as_str(),
                d.target_function
            ));
        }
    }
    out
}

/// What one process printed, for `abbench run --show-output`.
pub fn process_output(o: &crate::bench::ProcessOutput) -> String {
    let block = |name: &str, text: &str| {
        if text.trim().is_empty() {
            format!("  {name}: (nothing)\n")
        } else {
            let body: String = text.lines().map(|l| format!("    | {l}\n")).collect();
            format!("  {name}:\n{body}")
        }
    };
    format!(
        "\n  output of the first `{}` process: {}\n{}{}",
        o.role,
        o.command,
        block("stdout", &o.stdout),
        block("stderr", &o.stderr)
    )
}

/// Two runs side by side, as `abbench compare` prints them.
pub fn compare_summary(c: &crate::history::Comparison) -> String {
    let show = |r: &crate::history::ComparedRun| {
        let f = |v: f64| {
            if r.unit == "x" {
                format!("{v:.3}x")
            } else {
                quantity(v, "bytes")
            }
        };
        r.estimate.show(f)
    };
    let (a, b) = (&c.first, &c.second);
    let mut out = format!("abbench compare {} {}\n", a.run_id, b.run_id);
    for (label, x, y) in [
        ("run", a.run_id.clone(), b.run_id.clone()),
        (
            "verdict",
            a.verdict.as_str().into(),
            b.verdict.as_str().into(),
        ),
        ("estimate", show(a), show(b)),
        ("pairs", a.pairs.to_string(), b.pairs.to_string()),
        (
            "elapsed",
            format!("{:.1} s", a.elapsed_s),
            format!("{:.1} s", b.elapsed_s),
        ),
        ("python", a.python.clone(), b.python.clone()),
        ("machine", a.machine.clone(), b.machine.clone()),
        ("script", a.script.clone(), b.script.clone()),
    ] {
        out.push_str(&format!("  {label:<9} {x:<40} {y}\n"));
    }
    out.push_str(&format!(
        "\n  change   {:+.1} % (second against first); intervals overlap: {}{}\n  {}\n",
        c.change * 100.0,
        if c.intervals_overlap { "yes" } else { "no" },
        if c.same_script {
            ""
        } else {
            "; the scripts differ"
        },
        c.summary
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_carry_units() {
        assert_eq!(quantity(1.5, "s"), "1.500 s");
        assert_eq!(quantity(0.0012, "s"), "1.200 ms");
        assert_eq!(quantity(3.2e-6, "s"), "3.200 µs");
        assert_eq!(quantity(52_428_800.0, "bytes"), "50.00 MiB");
    }
}
