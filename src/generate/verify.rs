//! generate_ab_script's equivalence check: setup, then each variant once,
//! in a fork of the import-check worker (else a fresh process), before the
//! script is published. An exception names the argument the agent wrote
//! and its own line; a difference between A and B becomes a warning the
//! agent reads in milliseconds instead of after a run.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::import_check::{self, Staged};
use super::GenerateError;
use crate::domain::Domain;
use crate::equivalence::{self, Equivalence, FailedPart, Failure, Options, Verified};
use crate::process::{self, Limits, ProcessSpec};
use crate::revision::ResolvedRevision;
use crate::template::{Part, RenderedScript};

/// Setup and three calls must finish within this, or the check is left to
/// run_ab_benchmark (which bounds it by its own `timeout_s`).
const VERIFY_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs the check on the staged script (as `final_path`, in `cwd`).
pub(super) async fn run(
    staged: &Staged<'_>,
    domain: Domain,
    options: &Options,
    rendered: &RenderedScript,
    rev: Option<&ResolvedRevision>,
    candidate: Option<(char, &str)>,
) -> Result<Equivalence, GenerateError> {
    if let Some(skipped) = options.skipped(domain) {
        return Ok(skipped);
    }
    let mut request = options.worker_request(domain);
    if let Some((letter, label)) = candidate {
        request["b"] = letter.to_string().into();
        request["b_label"] = label.into();
    }
    let request = Some(request);
    let output = match import_check::in_worker(staged, request, VERIFY_TIMEOUT).await {
        Some(done) if done.timed_out => return Ok(timed_out()),
        Some(done) => done.output,
        None => {
            let mut argv =
                equivalence::command(staged.python, staged.script, domain, options, true);
            argv.extend(equivalence::candidate_words(candidate));
            let spec = ProcessSpec {
                argv,
                cwd: Some(staged.cwd.to_path_buf()),
                env: import_check::with_no_bytecode(staged.env),
                stdin: None,
            };
            let limits = Limits {
                timeout: VERIFY_TIMEOUT,
                output_cap: 1 << 20,
            };
            match process::run(&spec, limits, &CancellationToken::new()).await {
                Ok(done) => format!("{}\n{}", done.stdout.text, done.stderr.text),
                Err(process::ProcessError::TimedOut { .. }) => return Ok(timed_out()),
                Err(e) => {
                    return Ok(Equivalence::not_checked(format!(
                        "the check could not start: {e}"
                    )))
                }
            }
        }
    };
    match equivalence::read(&output) {
        None => {
            let tail: Vec<&str> = output.lines().rev().take(6).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            Ok(Equivalence::not_checked(format!(
                "the check ended without an answer; its output ends: {}",
                tail.join(" | ")
            )))
        }
        // Setup could not import a module here: the run may give it the
        // `env` this call did not, so the script is written, with the fix.
        Some(Verified::Failed(failure))
            if failure.part == FailedPart::Setup && failure.error.starts_with("ModuleNotFoundError") =>
        {
            Ok(Equivalence::not_checked(format!(
                "setup raised {} here; if run_ab_benchmark gets `env` (e.g. PYTHONPATH) or another `cwd`, pass the same to generate_ab_script to have the variants checked now",
                failure.error
            )))
        }
        Some(Verified::Failed(failure)) => Err(raised(&failure, rendered, rev)),
        Some(Verified::Checked {
            failure: Some(failure),
            ..
        }) => Err(raised(&failure, rendered, rev)),
        Some(Verified::Checked {
            equivalence,
            failure: None,
        }) => Ok(equivalence),
    }
}

fn timed_out() -> Equivalence {
    Equivalence::not_checked(format!(
        "setup and one call of each variant took over {} s, so generate_ab_script left the check to run_ab_benchmark",
        VERIFY_TIMEOUT.as_secs()
    ))
}

/// The error for a part that raised: the argument the agent wrote, its own
/// line, the error and the project frame it came from.
fn raised(
    failure: &Failure,
    rendered: &RenderedScript,
    rev: Option<&ResolvedRevision>,
) -> GenerateError {
    let variant = |part: FailedPart| match (part, rev) {
        (FailedPart::A, Some(rev)) => format!(" (variant A: {})", rev.info.base_label()),
        (FailedPart::B, Some(rev)) => format!(" (variant B: {})", rev.info.candidate_label()),
        _ => String::new(),
    };
    let span = failure.script_line.and_then(|line| {
        rendered.spans.iter().find(|s| {
            let body = s.standalone.lines().count().saturating_sub(s.header_lines);
            (s.first_line..s.first_line + body.max(1)).contains(&line)
        })
    });
    let (part, line) = match span {
        Some(s) => (
            s.part.name(),
            failure.script_line.map(|l| l - s.first_line + 1),
        ),
        None => (
            match (failure.part, rev.is_some()) {
                (FailedPart::Setup, _) => Part::Setup,
                (_, true) => Part::Call,
                (FailedPart::A, false) => Part::CodeA,
                (FailedPart::B, false) => Part::CodeB,
            }
            .name(),
            None,
        ),
    };
    let mut context = String::new();
    if let Some(location) = &failure.location {
        context.push_str(&format!(" (raised in {location})"));
    }
    if failure.part == FailedPart::B {
        context.push_str("; A returns on this input, so B fails where the current code does not");
    }
    GenerateError::Raised {
        part: format!("{part}{}", variant(failure.part)),
        line: line.map(|l| format!(", line {l}")).unwrap_or_default(),
        error: failure.error.clone(),
        context,
    }
}
