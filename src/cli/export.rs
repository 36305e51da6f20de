//! Exports of a run, a keep decision or a history listing, one exporter
//! per format, each returning the bytes to write (as hyperfine's exporters
//! do): Markdown tables to paste into a pull request, CSV for a
//! spreadsheet, the full JSON result. Every number carries its unit, in
//! the column header or beside it.

use super::render::quantity;
use crate::bench::RunResult;
use crate::history::HistoryResult;
use crate::keep::KeepResult;
use crate::verdict::Estimate;

/// What is exported.
#[derive(Debug, Clone, Copy)]
pub enum Exported<'a> {
    /// One run of `abbench run`.
    Run(&'a RunResult),
    /// One decision of `abbench keep`.
    Keep(&'a KeepResult),
    /// A listing of `abbench history`.
    History(&'a HistoryResult),
}

/// A file format.
pub trait Exporter {
    /// The file's bytes.
    fn serialize(&self, what: Exported) -> Vec<u8>;
}

/// GitHub-flavoured Markdown tables.
pub struct Markdown;
/// Comma-separated values with a header row (RFC 4180 quoting).
pub struct Csv;
/// The full structured result, pretty-printed.
pub struct Json;

impl Exporter for Json {
    fn serialize(&self, what: Exported) -> Vec<u8> {
        let value = match what {
            Exported::Run(r) => serde_json::to_vec_pretty(r),
            Exported::Keep(k) => serde_json::to_vec_pretty(k),
            Exported::History(h) => serde_json::to_vec_pretty(h),
        };
        let mut bytes = value.expect("results serialize");
        bytes.push(b'\n');
        bytes
    }
}

/// A cell: `|` and newlines would break the table.
fn md(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// `estimate [low, high]` through `f`; "unbounded" for a missing bound.
fn interval(e: &Estimate, f: impl Fn(f64) -> String) -> String {
    let bound = |v: Option<f64>| v.map_or_else(|| "unbounded".to_string(), &f);
    format!("{} [{}, {}]", f(e.estimate), bound(e.low), bound(e.high))
}

impl Exporter for Markdown {
    fn serialize(&self, what: Exported) -> Vec<u8> {
        match what {
            Exported::Run(r) => markdown_run(r),
            Exported::Keep(k) => markdown_keep(k),
            Exported::History(h) => markdown_history(h),
        }
        .into_bytes()
    }
}

fn markdown_run(r: &RunResult) -> String {
    let c = &r.comparison;
    let mut out = format!(
        "### abbench `{}` ({} domain): **{}**\n\n",
        r.run_id,
        r.domain,
        c.verdict.as_str()
    );
    if let Some(e) = &r.equivalence {
        let detail = e.first_difference.as_deref().or(e.reason.as_deref());
        out.push_str(&format!(
            "Same result: **{}**{}\n\n",
            e.status.as_str(),
            detail.map(|d| format!(" — `{d}`")).unwrap_or_default()
        ));
    }
    out.push_str("| Variant | Median | Min | Max | CV | n |\n|:---|---:|---:|---:|---:|---:|\n");
    for (label, arm) in [("A (current)", &r.a), ("B (optimized)", &r.b)] {
        let Some(arm) = arm else { continue };
        out.push_str(&format!(
            "| {label} | {} | {} | {} | {:.1} % | {} |\n",
            quantity(arm.summary.median, &arm.unit),
            quantity(arm.summary.min, &arm.unit),
            quantity(arm.summary.max, &arm.unit),
            arm.summary.cv * 100.0,
            arm.summary.n
        ));
    }
    let level = format!("{:.2} % one-sided bounds", c.confidence * 100.0);
    out.push_str("\n| Comparison | Estimate [interval] |\n|:---|:---|\n");
    if let (Some(s), Some(g)) = (&c.speedup, &c.gain) {
        out.push_str(&format!(
            "| Speedup (A / B) | {} |\n",
            interval(s, |v| format!("{v:.3}x"))
        ));
        out.push_str(&format!(
            "| Gain | {} |\n",
            interval(g, |v| format!("{:+.1} %", v * 100.0))
        ));
    }
    if let (Some(b), Some(f)) = (&c.saved_bytes, &c.saved_fraction) {
        out.push_str(&format!(
            "| Saved (A - B) | {} |\n",
            interval(b, |v| quantity(v, "bytes"))
        ));
        out.push_str(&format!(
            "| Saved, of A's peak | {} |\n",
            interval(f, |v| format!("{:.1} %", v * 100.0))
        ));
    }
    out.push_str(&format!(
        "| Threshold | {} |\n",
        md(&r.threshold.description)
    ));
    let counted = match r.design.isolation {
        crate::bench::Isolation::Paired => "processes",
        crate::bench::Isolation::Process => "pairs",
    };
    out.push_str(&format!(
        "| Design | {}: {} {counted} in {:.1} s; interval: {level} |\n",
        r.design.isolation.as_str(),
        c.pairs,
        r.elapsed_s
    ));
    out.push_str(&format!("\n**Verdict:** {}\n", md(&c.reason)));
    for w in &r.warnings {
        out.push_str(&format!("\n> warning: {}\n", md(w)));
    }
    out
}

fn markdown_keep(k: &KeepResult) -> String {
    let mut out = format!(
        "### abbench keep `{}`: **{}**\n\n{} (run `{}`, {})\n\n| Condition | Holds | Figures |\n|:---|:---:|:---|\n",
        k.check_id,
        k.decision.as_str(),
        md(&k.reason),
        k.run_id,
        md(&k.change)
    );
    for c in &k.conditions {
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            c.name.as_str(),
            if c.passed { "yes" } else { "**no**" },
            md(&c.summary)
        ));
    }
    out.push_str(&format!("\n**Next:** {}\n", md(&k.next_step)));
    out
}

fn markdown_history(h: &HistoryResult) -> String {
    let mut out = String::from(
        "| When (UTC) | Run | Domain | Verdict | Estimate [interval] | Pairs | Benchmark | Decisions |\n|:---|:---|:---|:---|:---|---:|:---|:---|\n",
    );
    for r in &h.runs {
        let decisions: Vec<String> = r
            .decisions
            .iter()
            .map(|d| format!("{} ({})", d.decision.as_str(), d.target_function))
            .collect();
        out.push_str(&format!(
            "| {} | `{}` | {} | {} | {} | {} | {} | {} |\n",
            r.created_at,
            r.run_id,
            r.domain,
            r.verdict.as_str(),
            md(&r.estimate),
            r.pairs,
            md(r.name.as_deref().unwrap_or(&r.script)),
            md(&decisions.join("; "))
        ));
    }
    out
}

/// One CSV field, quoted when it must be.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn row(cells: &[String]) -> String {
    let mut line = cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(",");
    line.push('\n');
    line
}

fn number(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

impl Exporter for Csv {
    fn serialize(&self, what: Exported) -> Vec<u8> {
        match what {
            Exported::Run(r) => csv_run(r),
            Exported::Keep(k) => csv_keep(k),
            Exported::History(h) => csv_history(h),
        }
        .into_bytes()
    }
}

/// One row per variant; the comparison repeated on each, in base units (s or bytes).
fn csv_run(r: &RunResult) -> String {
    let c = &r.comparison;
    let (what, est) = match (&c.speedup, &c.saved_bytes) {
        (Some(s), _) => ("speedup", Some(s)),
        (None, Some(b)) => ("saved_bytes", Some(b)),
        (None, None) => ("", None),
    };
    let mut out = row(&[
        "run_id",
        "domain",
        "variant",
        "unit",
        "n",
        "median",
        "mean",
        "min",
        "max",
        "stdev",
        "cv",
        "comparison",
        "estimate",
        "low",
        "high",
        "verdict",
    ]
    .map(String::from));
    for (variant, arm) in [("a", &r.a), ("b", &r.b)] {
        let Some(arm) = arm else { continue };
        let s = &arm.summary;
        out.push_str(&row(&[
            r.run_id.clone(),
            r.domain.to_string(),
            variant.into(),
            arm.unit.clone(),
            s.n.to_string(),
            s.median.to_string(),
            s.mean.to_string(),
            s.min.to_string(),
            s.max.to_string(),
            s.stdev.to_string(),
            s.cv.to_string(),
            what.into(),
            number(est.map(|e| e.estimate)),
            number(est.and_then(|e| e.low)),
            number(est.and_then(|e| e.high)),
            c.verdict.as_str().into(),
        ]));
    }
    out
}

fn csv_keep(k: &KeepResult) -> String {
    let mut out = row(&[
        "check_id",
        "run_id",
        "decision",
        "condition",
        "passed",
        "summary",
    ]
    .map(String::from));
    for c in &k.conditions {
        out.push_str(&row(&[
            k.check_id.clone(),
            k.run_id.clone(),
            k.decision.as_str().into(),
            c.name.as_str().into(),
            c.passed.to_string(),
            c.summary.clone(),
        ]));
    }
    out
}

fn csv_history(h: &HistoryResult) -> String {
    let mut out = row(&[
        "created_at",
        "run_id",
        "domain",
        "verdict",
        "comparison",
        "estimate",
        "low",
        "high",
        "pairs",
        "name",
        "script",
        "decisions",
    ]
    .map(String::from));
    for r in &h.runs {
        let (what, est) = match (&r.speedup, &r.saved_bytes) {
            (Some(s), _) => ("speedup", Some(s)),
            (None, Some(b)) => ("saved_bytes", Some(b)),
            (None, None) => ("", None),
        };
        let decisions: Vec<&str> = r.decisions.iter().map(|d| d.decision.as_str()).collect();
        out.push_str(&row(&[
            r.created_at.clone(),
            r.run_id.clone(),
            r.domain.to_string(),
            r.verdict.as_str().into(),
            what.into(),
            number(est.map(|e| e.estimate)),
            number(est.and_then(|e| e.low)),
            number(est.and_then(|e| e.high)),
            r.pairs.to_string(),
            r.name.clone().unwrap_or_default(),
            r.script.clone(),
            decisions.join(";"),
        ]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_it_must() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(row(&["x".into(), "1\n2".into()]), "x,\"1\n2\"\n");
    }

    #[test]
    fn markdown_cells_cannot_break_the_table() {
        assert_eq!(md("a|b\nc"), "a\\|b c");
        let e = Estimate {
            estimate: 2.0,
            low: Some(1.9),
            high: None,
        };
        assert_eq!(
            interval(&e, |v| format!("{v:.1}x")),
            "2.0x [1.9x, unbounded]"
        );
    }
}
