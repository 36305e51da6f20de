//! Each result as a [`Report`]: what every format draws from. The first
//! table of a run is one row per arm with the comparison repeated on each
//! (CSV's row model); the others are for people.

use super::markdown::cell as md;
use super::{Cell, Column, Report, Table};
use crate::bench::{Isolation, RunResult};
use crate::cli::render::quantity;
use crate::e2e::E2eResult;
use crate::history::HistoryResult;
use crate::keep::KeepResult;
use crate::measure::environment::ArmSummary;
use crate::verdict::{Analysis, Estimate};

/// `estimate [low, high]` through `f`; "unbounded" for a missing bound.
fn interval(e: &Estimate, f: impl Fn(f64) -> String) -> String {
    let bound = |v: Option<f64>| v.map_or_else(|| "unbounded".to_string(), &f);
    format!("{} [{}, {}]", f(e.estimate), bound(e.low), bound(e.high))
}

fn number(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The comparison's headline figure: its name and estimate.
fn headline(c: &Analysis) -> (&'static str, Option<&Estimate>) {
    match (&c.speedup, &c.saved_bytes) {
        (Some(s), _) => ("speedup", Some(s)),
        (None, Some(b)) => ("saved_bytes", Some(b)),
        (None, None) => ("", None),
    }
}

/// One row per arm with the comparison repeated: `label` is the first
/// column's header (Variant, Revision), `arms` its (shown, raw, summary).
fn arms_table(
    label: &'static str,
    id: &str,
    domain: &str,
    arms: &[(&str, &str, &ArmSummary)],
    c: &Analysis,
) -> Table {
    let columns = vec![
        Column::raw("run_id"),
        Column::raw("domain"),
        Column::both(
            label,
            if label == "Variant" {
                "variant"
            } else {
                "revision"
            },
            false,
        ),
        Column::raw("unit"),
        Column::raw("n"),
        Column::both("Median", "median", true),
        Column::raw("mean"),
        Column::both("Min", "min", true),
        Column::both("Max", "max", true),
        Column::raw("stdev"),
        Column::both("CV", "cv", true),
        Column::shown("n", true),
        Column::raw("comparison"),
        Column::raw("estimate"),
        Column::raw("low"),
        Column::raw("high"),
        Column::raw("verdict"),
    ];
    let (what, est) = headline(c);
    let rows = arms
        .iter()
        .map(|(shown, raw, arm)| {
            let s = &arm.summary;
            let q = |v: f64| Cell::value(quantity(v, &arm.unit), v.to_string());
            vec![
                Cell::text(id),
                Cell::text(domain),
                Cell::value(*shown, *raw),
                Cell::text(arm.unit.clone()),
                Cell::text(s.n.to_string()),
                q(s.median),
                Cell::text(s.mean.to_string()),
                q(s.min),
                q(s.max),
                Cell::text(s.stdev.to_string()),
                Cell::value(format!("{:.1} %", s.cv * 100.0), s.cv.to_string()),
                Cell::text(s.n.to_string()),
                Cell::text(what),
                Cell::text(number(est.map(|e| e.estimate))),
                Cell::text(number(est.and_then(|e| e.low))),
                Cell::text(number(est.and_then(|e| e.high))),
                Cell::text(c.verdict.as_str()),
            ]
        })
        .collect();
    Table { columns, rows }
}

/// The estimates with their intervals, then `extra` rows.
fn comparison_table(c: &Analysis, extra: Vec<(&str, String)>) -> Table {
    let mut rows: Vec<(&str, String)> = Vec::new();
    if let (Some(s), Some(g)) = (&c.speedup, &c.gain) {
        rows.push(("Speedup (A / B)", interval(s, |v| format!("{v:.3}x"))));
        rows.push(("Gain", interval(g, |v| format!("{:+.1} %", v * 100.0))));
    }
    if let (Some(b), Some(f)) = (&c.saved_bytes, &c.saved_fraction) {
        rows.push(("Saved (A - B)", interval(b, |v| quantity(v, "bytes"))));
        rows.push((
            "Saved, of A's peak",
            interval(f, |v| format!("{:.1} %", v * 100.0)),
        ));
    }
    rows.extend(extra);
    Table {
        columns: vec![
            Column::shown("Comparison", false),
            Column::shown("Estimate [interval]", false),
        ],
        rows: rows
            .into_iter()
            .map(|(k, v)| vec![Cell::text(k), Cell::text(v)])
            .collect(),
    }
}

/// The verdict's reason and every warning.
fn verdict_and_warnings(reason: &str, warnings: &[String]) -> Vec<String> {
    let mut tail = vec![format!("**Verdict:** {}", md(reason))];
    tail.extend(warnings.iter().map(|w| format!("> warning: {}", md(w))));
    tail
}

/// A run of several candidates: one row for A and one per candidate, each
/// with its own comparison with A (CSV writes this table).
fn candidates_table(r: &RunResult) -> Table {
    let columns = vec![
        Column::raw("run_id"),
        Column::raw("domain"),
        Column::both("Candidate", "candidate", false),
        Column::raw("unit"),
        Column::both("Median", "median", true),
        Column::both("CV", "cv", true),
        Column::both("Processes", "processes", true),
        Column::both("Speedup (A / candidate)", "speedup", true),
        Column::raw("low"),
        Column::raw("high"),
        Column::both("Verdict", "verdict", false),
        Column::both("Same result", "equivalence", false),
        Column::both("Duplicate of", "duplicate_of", false),
    ];
    let arm_cells = |arm: Option<&ArmSummary>| match arm {
        Some(arm) => vec![
            Cell::text(arm.unit.clone()),
            Cell::value(
                quantity(arm.summary.median, &arm.unit),
                arm.summary.median.to_string(),
            ),
            Cell::value(
                format!("{:.1} %", arm.summary.cv * 100.0),
                arm.summary.cv.to_string(),
            ),
        ],
        None => vec![Cell::text(""), Cell::text(""), Cell::text("")],
    };
    let mut rows = Vec::new();
    let mut a = vec![
        Cell::text(&r.run_id),
        Cell::text(r.domain.to_string()),
        Cell::value("A (current)", "A"),
    ];
    a.extend(arm_cells(r.a.as_ref()));
    a.extend(["", "", "", "", "baseline", "", ""].map(Cell::text));
    rows.push(a);
    for c in &r.candidates {
        let mut row = vec![
            Cell::text(&r.run_id),
            Cell::text(r.domain.to_string()),
            Cell::text(&c.label),
        ];
        row.extend(arm_cells(c.arm.as_ref()));
        let best = r.best.as_deref() == Some(c.label.as_str());
        row.extend([
            Cell::text(if c.duplicate_of.is_some() {
                String::new()
            } else {
                c.processes.to_string()
            }),
            Cell::value(
                c.speedup
                    .map(|s| interval(&s, |v| format!("{v:.3}x")))
                    .unwrap_or_default(),
                number(c.speedup.map(|s| s.estimate)),
            ),
            Cell::text(number(c.speedup.and_then(|s| s.low))),
            Cell::text(number(c.speedup.and_then(|s| s.high))),
            Cell::value(
                format!(
                    "{}{}",
                    c.verdict.map_or("not measured", |v| v.as_str()),
                    if best { " (best)" } else { "" }
                ),
                c.verdict.map_or("", |v| v.as_str()),
            ),
            Cell::text(c.equivalence.as_ref().map_or("", |e| e.status.as_str())),
            Cell::text(c.duplicate_of.clone().unwrap_or_default()),
        ]);
        rows.push(row);
    }
    Table { columns, rows }
}

pub(super) fn run(r: &RunResult) -> Report {
    let c = &r.comparison;
    let mut lead = Vec::new();
    if let Some(e) = &r.equivalence {
        let detail = e.first_difference.as_deref().or(e.reason.as_deref());
        lead.push(format!(
            "Same result: **{}**{}",
            e.status.as_str(),
            detail.map(|d| format!(" — `{d}`")).unwrap_or_default()
        ));
    }
    let mut arms = Vec::new();
    let b_name = r.b_name();
    if let (Some(a), Some(b)) = (&r.a, &r.b) {
        arms = vec![("A (current)", "a", a), (b_name.as_str(), "b", b)];
    }
    let level = format!("{:.2} % one-sided bounds", c.confidence * 100.0);
    let counted = match r.design.isolation {
        Isolation::Paired => "processes",
        Isolation::Process => "pairs",
    };
    let extra = vec![
        ("Threshold", md(&r.threshold.description)),
        (
            "Design",
            format!(
                "{}: {} {counted} in {:.1} s; interval: {level}",
                r.design.isolation.as_str(),
                c.pairs,
                r.elapsed_s
            ),
        ),
    ];
    Report {
        title: format!(
            "abbench `{}` ({} domain): **{}**",
            r.run_id,
            r.domain,
            c.verdict.as_str()
        ),
        lead,
        tables: {
            let mut tables = vec![
                arms_table("Variant", &r.run_id, &r.domain.to_string(), &arms, c),
                comparison_table(c, extra),
            ];
            if !r.candidates.is_empty() {
                tables.insert(0, candidates_table(r));
            }
            tables
        },
        tail: verdict_and_warnings(&c.reason, &r.warnings),
    }
}

pub(super) fn e2e(r: &E2eResult) -> Report {
    let c = &r.comparison;
    let arms = [
        ("base", "base", &r.base),
        ("candidate", "candidate", &r.candidate),
    ];
    let extra = vec![
        ("Threshold", md(&r.threshold.description)),
        ("Design", md(&r.design)),
    ];
    let targets = Table {
        columns: vec![
            Column::shown("Target", false),
            Column::shown("Inside the workload", false),
        ],
        rows: r
            .targets
            .iter()
            .map(|t| {
                vec![
                    Cell::text(format!("`{}`", t.function)),
                    Cell::text(&t.summary),
                ]
            })
            .collect(),
    };
    let mut tables = vec![
        arms_table("Revision", &r.run_id, &r.domain.to_string(), &arms, c),
        comparison_table(c, extra),
    ];
    if !targets.rows.is_empty() {
        tables.push(targets);
    }
    Report {
        title: format!(
            "abbench e2e `{}` ({} domain): **{}**",
            r.run_id,
            r.domain,
            c.verdict.as_str()
        ),
        lead: vec![format!(
            "{}; workload `{}`",
            md(&r.revisions.change),
            md(&shell_words::join(&r.command))
        )],
        tables,
        tail: verdict_and_warnings(&c.reason, &r.warnings),
    }
}

pub(super) fn keep(k: &KeepResult) -> Report {
    let columns = vec![
        Column::raw("check_id"),
        Column::raw("run_id"),
        Column::raw("decision"),
        Column::both("Condition", "condition", false),
        Column {
            markdown: Some("Holds"),
            csv: Some("passed"),
            numeric: false,
        },
        Column::both("Figures", "summary", false),
    ];
    let rows = k
        .conditions
        .iter()
        .map(|c| {
            vec![
                Cell::text(&k.check_id),
                Cell::text(&k.run_id),
                Cell::text(k.decision.as_str()),
                Cell::text(c.name.as_str()),
                Cell::value(
                    if c.passed { "yes" } else { "**no**" },
                    c.passed.to_string(),
                ),
                Cell::text(&c.summary),
            ]
        })
        .collect();
    Report {
        title: format!("abbench keep `{}`: **{}**", k.check_id, k.decision.as_str()),
        lead: vec![format!(
            "{} (run `{}`, {})",
            md(&k.reason),
            k.run_id,
            md(&k.change)
        )],
        tables: vec![Table { columns, rows }],
        tail: vec![format!("**Next:** {}", md(&k.next_step))],
    }
}

pub(super) fn history(h: &HistoryResult) -> Report {
    let columns = vec![
        Column::both("When (UTC)", "created_at", false),
        Column::both("Run", "run_id", false),
        Column::both("Domain", "domain", false),
        Column::both("Verdict", "verdict", false),
        Column::raw("comparison"),
        Column::shown("Estimate [interval]", false),
        Column::raw("estimate"),
        Column::raw("low"),
        Column::raw("high"),
        Column::both("Pairs", "pairs", true),
        Column::raw("name"),
        Column::both("Benchmark", "script", false),
        Column::both("Decisions", "decisions", false),
    ];
    let rows = h
        .runs
        .iter()
        .map(|r| {
            let (what, est) = match (&r.speedup, &r.saved_bytes) {
                (Some(s), _) => ("speedup", Some(s)),
                (None, Some(b)) => ("saved_bytes", Some(b)),
                (None, None) => ("", None),
            };
            let shown: Vec<String> = r
                .decisions
                .iter()
                .map(|d| format!("{} ({})", d.decision.as_str(), d.target_function))
                .collect();
            let raw: Vec<&str> = r.decisions.iter().map(|d| d.decision.as_str()).collect();
            vec![
                Cell::text(&r.created_at),
                Cell::value(format!("`{}`", r.run_id), &r.run_id),
                Cell::text(r.domain.to_string()),
                Cell::text(r.verdict.as_str()),
                Cell::text(what),
                Cell::text(&r.estimate),
                Cell::text(number(est.map(|e| e.estimate))),
                Cell::text(number(est.and_then(|e| e.low))),
                Cell::text(number(est.and_then(|e| e.high))),
                Cell::text(r.pairs.to_string()),
                Cell::text(r.name.clone().unwrap_or_default()),
                Cell::value(r.name.as_deref().unwrap_or(&r.script), &r.script),
                Cell::value(shown.join("; "), raw.join(";")),
            ]
        })
        .collect();
    Report {
        title: String::new(),
        lead: Vec::new(),
        tables: vec![Table { columns, rows }],
        tail: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_say_unbounded() {
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
