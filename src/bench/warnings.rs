//! The micro run's own warnings, from what its processes left behind:
//! noisy units, short samples, dropped output, stderr, external timing,
//! captured calls that are not all the target received
//! (the sentences are [`RunWarning`]'s).

use super::executor::PythonExecutor;
use super::result::Measured;
use crate::measure::warnings::RunWarning;
use crate::stats;

/// Warnings where the measurement is weak: noisy units, short samples,
/// output dropped, stderr, external timing.
pub(super) fn process_warnings(
    ex: &PythonExecutor,
    m: &Measured,
    plan_inputs: Option<&crate::capture::Replayed>,
) -> Vec<RunWarning> {
    let mut warnings = Vec::new();
    match m.unit_spread {
        Some(sd) if sd > 0.10 => warnings.push(RunWarning::NoisyProcesses { sd }),
        Some(_) => {}
        None => {
            for (arm, values) in [("A", &m.a), ("B", &m.b)] {
                let cv = stats::summarize(values).cv;
                if cv > 0.10 {
                    warnings.push(RunWarning::NoisyArm { arm, cv });
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
            warnings.push(RunWarning::ShortSamples {
                who: if paired {
                    "a block".to_string()
                } else {
                    name.to_uppercase()
                },
            });
        }
        if ex.dropped_bytes[idx] > 0 {
            warnings.push(RunWarning::DroppedOutput {
                variant: out_by.to_string(),
                bytes: ex.dropped_bytes[idx],
            });
        }
        if let Some(line) = &ex.stderr_seen[idx] {
            warnings.push(RunWarning::Stderr {
                variant: err_by.to_string(),
                first_line: line.clone(),
            });
        }
    }
    if let Some(sentence) = plan_inputs.and_then(crate::capture::Replayed::shortfall) {
        warnings.push(RunWarning::CapturedInputs { sentence });
    }
    if ex.external_timing {
        warnings.push(RunWarning::ExternalTiming);
    }
    warnings.extend(RunWarning::left_behind(&ex.left_behind));
    warnings
}
