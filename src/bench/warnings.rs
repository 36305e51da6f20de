//! Warnings where a run's measurement is weak: noisy units, short samples,
//! dropped output, stderr, external timing, a loaded machine.

use super::executor::Executor;
use super::result::Measured;
use crate::stats;

/// Warnings where the measurement is weak: noisy units, short samples,
/// output dropped, stderr, external timing.
pub(super) fn process_warnings(ex: &Executor, m: &Measured) -> Vec<String> {
    let mut warnings = Vec::new();
    match m.unit_spread {
        Some(sd) if sd > 0.10 => warnings.push(format!(
            "the per-process speedup varies by {:.1} % across processes (sd of ln(A/B) over 10 %) even with A and B paired: a noisy workload or machine; the interval accounts for it, at the cost of more processes",
            sd * 100.0
        )),
        Some(_) => {}
        None => {
            for (name, values) in [("A", &m.a), ("B", &m.b)] {
                let s = stats::summarize(values);
                if s.cv > 0.10 {
                    warnings.push(format!(
                        "{name}'s values vary by {:.1} % across processes (coefficient of variation over 10 %): a noisy machine or workload; the interval accounts for it, at the cost of more pairs",
                        s.cv * 100.0
                    ));
                }
            }
        }
    }
    // Process isolation keeps each variant's figures apart; a paired
    // process runs both, so its output is blamed from the pilot's counts.
    let (variants, paired): (&[(&str, usize)], bool) = match &m.printed {
        Some(_) => (&[("a", 0)], true),
        None => (&[("a", 0), ("b", 1)], false),
    };
    for &(name, idx) in variants {
        let (out_by, err_by) = match &m.printed {
            Some([out, err]) => (out.as_str(), err.as_str()),
            None => (name, name),
        };
        if ex.short_samples[idx] {
            warnings.push(format!(
                "{}: a measured interval was under 1 ms, where timer resolution and scheduling jitter dominate: raise `number` or the work per call",
                if paired { "a block".to_string() } else { name.to_uppercase() }
            ));
        }
        if ex.dropped_bytes[idx] > 0 {
            warnings.push(format!(
                "variant {out_by} printed more output than abbench keeps (1 MiB per stream per process): {} bytes were dropped unread; printing in the measured code also costs time",
                ex.dropped_bytes[idx]
            ));
        }
        if let Some(line) = &ex.stderr_seen[idx] {
            warnings.push(format!(
                "variant {err_by} wrote to stderr (first line: {line:?})"
            ));
        }
    }
    if ex.external_timing {
        warnings.push("fallback: the script printed no ABBENCH line, so values are whole-process wall times with interpreter start-up included, which dilutes the ratio; generate the script with generate_ab_script for an in-process measurement".into());
    }
    warnings
}

/// A warning when the 1-minute load average, at the start or the end,
/// was above the core count.
pub(super) fn machine_load(start: Option<f64>, end: Option<f64>, cores: usize) -> Option<String> {
    let load = [start, end].into_iter().flatten().reduce(f64::max)?;
    (load > cores as f64).then(|| format!("high machine load: 1-minute load average {load:.2} above {cores} cores; other work competed with the measurement"))
}
