//! Human-readable summaries for the CLI. Returns strings; never prints.

use crate::bench::{ArmSummary, RunResult};
use crate::domain::MIB;
use crate::history::HistoryResult;
use crate::keep::KeepResult;

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
    out.push_str(&format!(
        "  runner   {}  ({})\n",
        r.runner.shown(),
        r.runner.chosen_because
    ));
    out.push_str(&format!("  measured {}\n\n", r.measured_by));
    out.push_str(&format!(
        "  {:<16} {:>12}  {:>12}  {:>12}  {:>9}  {:>3}\n",
        "variant", "median", "min", "max", "cv", "n"
    ));
    out.push_str(&arm_row("A (current)", &r.a));
    out.push_str(&arm_row("B (optimized)", &r.b));
    out.push('\n');
    let c = &r.comparison;
    let level = format!("{:.2} % one-sided bounds", c.confidence * 100.0);
    if let (Some(speedup), Some(gain)) = (&c.speedup, &c.gain) {
        out.push_str(&format!(
            "  speedup  {}   ({level})\n",
            speedup.show(|v| format!("{v:.3}x"))
        ));
        out.push_str(&format!(
            "  gain     {}\n",
            gain.show(|v| format!("{:+.1} %", v * 100.0))
        ));
    }
    if let (Some(bytes), Some(frac)) = (&c.saved_bytes, &c.saved_fraction) {
        out.push_str(&format!(
            "  saved    {}   ({level})\n",
            bytes.show(|v| quantity(v, "bytes"))
        ));
        out.push_str(&format!(
            "  saved    {}\n",
            frac.show(|v| format!("{:.1} %", v * 100.0))
        ));
    }
    out.push_str(&format!("  threshold {}\n", r.threshold.description));
    out.push_str(&format!(
        "  pairs    {} (B better in {}), stopped at look {} of {:?} ({}), {:.1} s, lock wait {:.1} s, seed {}\n\n",
        c.pairs, c.pairs_b_better, r.stopped_at_look, r.looks, r.stopped_because, r.elapsed_s, r.lock_wait_s, r.seed
    ));
    out.push_str(&format!(
        "  VERDICT  {}: {}\n",
        c.verdict.as_str(),
        c.reason
    ));
    for w in &r.warnings {
        out.push_str(&format!("  warning: {w}\n"));
    }
    out
}

/// The table `abbench keep` prints: each condition, the decision, the next step.
pub fn keep_summary(k: &KeepResult) -> String {
    let mut out = format!(
        "keep check {} of run {}\n  change   {}\n",
        k.check_id, k.run_id, k.change
    );
    for c in &k.conditions {
        let mark = if c.passed { "PASS" } else { "FAIL" };
        out.push_str(&format!(
            "  {mark}  {:<12} {}\n",
            c.name,
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

/// The list `abbench history` prints, newest first.
pub fn history_summary(h: &HistoryResult) -> String {
    let mut out = format!("{} run(s) from {}\n", h.count, h.ledger);
    for r in &h.runs {
        out.push_str(&format!(
            "{}  {}  {:<9} {:<16} {}  ({} pairs)  {}\n",
            r.created_at,
            r.run_id,
            r.domain,
            r.verdict,
            r.estimate,
            r.pairs,
            r.name.as_deref().unwrap_or(&r.script)
        ));
        for d in &r.decisions {
            out.push_str(&format!(
                "    {}  {}  {} for {}\n",
                d.created_at, d.check_id, d.decision, d.target_function
            ));
        }
    }
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
