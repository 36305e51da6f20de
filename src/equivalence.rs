//! Does B compute what A computes? The check that comes before any timing:
//! a speed figure means something only for two variants that do the same
//! job.
//!
//! abbench's helper (`python/verify.py`, embedded) loads an A/B script
//! without its `__main__` block, calls A twice and B once, each on its own
//! deep copy of the objects setup made, with `random` (and numpy's legacy
//! generator) seeded alike, and compares the return values, setup's objects
//! as each call left them, and what each call printed. Its header states the
//! comparison rules; `references/tools.md` restates them for agents. This
//! module holds what both tools report ([`Equivalence`]), the options an
//! agent sets ([`Options`]), how the helper is started and how its one
//! answer line is read. `generate_ab_script` runs it in the import-check
//! worker, `run_ab_benchmark` in one fresh process before its pilot.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::Domain;
use crate::python::scripts;

/// Default relative tolerance for floats (as Codeflash's comparator).
pub const DEFAULT_REL_TOL: f64 = 1e-9;
/// Seconds the helper may spend copying setup's objects and comparing
/// (the calls themselves are bounded by the process timeout).
pub const BUDGET_S: f64 = 20.0;
/// The prefix of the helper's answer line.
const ANSWER_PREFIX: &str = "ABBENCH_VERIFY ";

/// How strictly A and B are compared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EquivalenceMode {
    /// Values, types, order and setup's objects after the call must match (floats within `rel_tol`).
    #[default]
    Strict,
    /// As strict, but lists and tuples are compared as multisets: for changes where order is declared irrelevant.
    Unordered,
    /// No check: the speed verdict is given whatever B computes.
    Off,
}

impl EquivalenceMode {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            EquivalenceMode::Strict => "strict",
            EquivalenceMode::Unordered => "unordered",
            EquivalenceMode::Off => "off",
        }
    }
}

impl std::str::FromStr for EquivalenceMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "strict" => Ok(EquivalenceMode::Strict),
            "unordered" => Ok(EquivalenceMode::Unordered),
            "off" => Ok(EquivalenceMode::Off),
            other => Err(format!(
                "unknown equivalence {other:?}: use strict, unordered or off"
            )),
        }
    }
}

/// What the check concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EquivalenceStatus {
    /// A and B gave the same results (and left setup's objects alike).
    Same,
    /// They differ: `first_difference` says where.
    Different,
    /// A disagrees with itself with the same seed, or depends on its random draws where B differs: A and B cannot be compared value by value.
    Nondeterministic,
    /// Not compared: `reason` says why.
    NotChecked,
}

impl EquivalenceStatus {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            EquivalenceStatus::Same => "same",
            EquivalenceStatus::Different => "different",
            EquivalenceStatus::Nondeterministic => "nondeterministic",
            EquivalenceStatus::NotChecked => "not_checked",
        }
    }
}

/// Whether B computes what A computes on the benchmark's input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Equivalence {
    /// same | different | nondeterministic | not_checked.
    pub status: EquivalenceStatus,
    /// different / nondeterministic: the first difference, as a path and both values, e.g. "result[3]: 'w17' (A) != 'w402' (B)" or "`xs` sorted in place by B only: …".
    #[serde(default)]
    pub first_difference: Option<String>,
    /// not_checked: why.
    #[serde(default)]
    pub reason: Option<String>,
    /// What was compared: "result", setup's names, "stdout".
    #[serde(default)]
    pub checked: Vec<String>,
    /// Things worth knowing that are not differences (a generator where A returns a list, names that could not be copied, …).
    #[serde(default)]
    pub notes: Vec<String>,
}

impl Equivalence {
    /// Not compared, for `reason`.
    pub fn not_checked(reason: impl Into<String>) -> Self {
        Equivalence {
            status: EquivalenceStatus::NotChecked,
            first_difference: None,
            reason: Some(reason.into()),
            checked: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// One sentence for a warning, or `None` when there is nothing to warn
    /// of (same, or a check the caller turned off or the domain excludes).
    pub fn warning(&self) -> Option<String> {
        match self.status {
            EquivalenceStatus::Same => None,
            EquivalenceStatus::Different => Some(format!(
                "A and B compute different results on this input, so run_ab_benchmark will give no speed verdict: {}",
                self.first_difference.as_deref().unwrap_or("?")
            )),
            EquivalenceStatus::Nondeterministic => Some(format!(
                "equivalence not established: {}; seed or fix what varies (random numbers, time, ids) in setup, or compare the results yourself",
                self.first_difference.as_deref().unwrap_or("A is nondeterministic")
            )),
            EquivalenceStatus::NotChecked => match self.reason.as_deref() {
                Some(r) if r == OFF_REASON || r == STRUCTURE_REASON => None,
                Some(r) => Some(format!(
                    "A and B were not checked to compute the same result: {r}"
                )),
                None => None,
            },
        }
    }
}

impl Equivalence {
    /// [`Equivalence::warning`] for one candidate of several, `label`: a
    /// candidate that computes something else is not timed, the others are.
    pub fn candidate_warning(&self, label: &str) -> Option<String> {
        match self.status {
            EquivalenceStatus::Different => Some(format!(
                "candidate {label:?}: it computes something else than A on this input, so run_ab_benchmark will call it different_results and time only the others: {}",
                self.first_difference.as_deref().unwrap_or("?")
            )),
            _ => self
                .warning()
                .map(|w| format!("candidate {label:?}: {w}")),
        }
    }
}

const OFF_REASON: &str = "equivalence: \"off\" was given";
const STRUCTURE_REASON: &str =
    "the structure domain times imports, whose results are modules: nothing to compare";

/// What an agent sets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// strict, unordered or off.
    pub mode: EquivalenceMode,
    /// Relative tolerance for floats.
    pub rel_tol: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            mode: EquivalenceMode::Strict,
            rel_tol: DEFAULT_REL_TOL,
        }
    }
}

impl Options {
    /// From the tools' arguments; a bad `rel_tol` is named.
    pub fn new(mode: EquivalenceMode, rel_tol: Option<f64>) -> Result<Self, String> {
        let rel_tol = rel_tol.unwrap_or(DEFAULT_REL_TOL);
        if !(rel_tol.is_finite() && (0.0..1.0).contains(&rel_tol)) {
            return Err(format!(
                "`rel_tol` = {rel_tol} is out of range: use a relative tolerance from 0 to below 1, e.g. 1e-9 (the default) or 1e-6"
            ));
        }
        Ok(Options { mode, rel_tol })
    }

    /// The answer when no process is needed: the check is off, or the
    /// domain has nothing to compare.
    pub fn skipped(&self, domain: Domain) -> Option<Equivalence> {
        if self.mode == EquivalenceMode::Off {
            Some(Equivalence::not_checked(OFF_REASON))
        } else if domain == Domain::Structure {
            Some(Equivalence::not_checked(STRUCTURE_REASON))
        } else {
            None
        }
    }

    /// The helper's options, as its command-line words after the script.
    fn words(&self, domain: Domain, generated: bool) -> Vec<String> {
        vec![
            "--domain".into(),
            domain.to_string(),
            "--mode".into(),
            self.mode.as_str().into(),
            "--rel-tol".into(),
            format!("{:e}", self.rel_tol),
            "--budget-s".into(),
            BUDGET_S.to_string(),
            "--generated".into(),
            if generated { "1" } else { "0" }.into(),
        ]
    }

    /// The same options as the import-check worker's request takes them.
    pub(crate) fn worker_request(&self, domain: Domain) -> serde_json::Value {
        serde_json::json!({
            "domain": domain.to_string(),
            "mode": self.mode.as_str(),
            "rel_tol": self.rel_tol,
            "budget_s": BUDGET_S,
            "generated": true,
        })
    }
}

/// Which part of the script raised, as the helper reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailedPart {
    /// Setup (module-level code, the revision loader included).
    Setup,
    /// bench_a.
    A,
    /// bench_b.
    B,
}

/// An exception a part raised while the check ran it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Failure {
    /// Who raised.
    pub part: FailedPart,
    /// `Type: message`.
    pub error: String,
    /// The innermost line of the script on the way (1-based).
    pub script_line: Option<usize>,
    /// That line's text.
    pub text: Option<String>,
    /// The innermost frame in the project's own code, "file, line N".
    #[serde(rename = "where")]
    pub location: Option<String>,
}

impl Failure {
    /// `Type: message (script line N: `text`; raised in file, line M)`.
    pub fn describe(&self, script: &str) -> String {
        let mut at = Vec::new();
        if let Some(line) = self.script_line {
            match self.text.as_deref().filter(|t| !t.is_empty()) {
                Some(text) => at.push(format!("{script}, line {line}: `{text}`")),
                None => at.push(format!("{script}, line {line}")),
            }
        }
        if let Some(location) = &self.location {
            at.push(format!("raised in {location}"));
        }
        if at.is_empty() {
            self.error.clone()
        } else {
            format!("{} ({})", self.error, at.join("; "))
        }
    }
}

/// The helper's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Verified {
    /// Compared (or not, with the reason); `failure` when B raised where A
    /// returned (then the status is `different`).
    Checked {
        /// The outcome.
        equivalence: Equivalence,
        /// B's exception, when it raised.
        failure: Option<Failure>,
    },
    /// Setup or A raised: the benchmark itself cannot run.
    Failed(Failure),
}

#[derive(Deserialize)]
struct Answer {
    status: String,
    first_difference: Option<String>,
    reason: Option<String>,
    #[serde(default)]
    checked: Vec<String>,
    #[serde(default)]
    notes: Vec<String>,
    failure: Option<Failure>,
}

/// Reads the helper's last answer line from `output`.
pub fn read(output: &str) -> Option<Verified> {
    let line = output
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix(ANSWER_PREFIX))?;
    let answer: Answer = serde_json::from_str(line).ok()?;
    let status = match answer.status.as_str() {
        "failed" => return answer.failure.map(Verified::Failed),
        "same" => EquivalenceStatus::Same,
        "different" => EquivalenceStatus::Different,
        "nondeterministic" => EquivalenceStatus::Nondeterministic,
        "not_checked" => EquivalenceStatus::NotChecked,
        _ => return None,
    };
    Some(Verified::Checked {
        equivalence: Equivalence {
            status,
            first_difference: answer.first_difference,
            reason: answer.reason,
            checked: answer.checked,
            notes: answer.notes,
        },
        failure: answer.failure,
    })
}

/// The helper as a program: the embedded source with its entry point.
fn program() -> String {
    format!(
        "{}\n\nif __name__ == \"__main__\":\n    _main()\n",
        scripts::VERIFY
    )
}

/// The helper as a file in abbench's data directory, named by its content,
/// so the command a result records can be run again by hand; `None` when
/// the directory cannot be written (the helper then runs with `-c`).
fn helper_file() -> Option<PathBuf> {
    use std::hash::{Hash, Hasher};
    let text = program();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    let dir = crate::ledger::data_dir().ok()?.join("helpers");
    let path = dir.join(format!("abbench_verify_{:016x}.py", hasher.finish()));
    if std::fs::read_to_string(&path).is_ok_and(|t| t == text) {
        return Some(path);
    }
    std::fs::create_dir_all(&dir).ok()?;
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).ok()?;
    std::io::Write::write_all(&mut tmp, text.as_bytes()).ok()?;
    tmp.persist(&path).ok()?;
    // Helpers of other abbench builds are not needed any more.
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("abbench_verify_") && entry.path() != path {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Some(path)
}

/// A check's command as a person would paste it (the helper's source,
/// when it runs with `-c`, stands as a placeholder).
pub fn display(argv: &[String]) -> String {
    let mut words = argv.to_vec();
    if let Some(i) = words.iter().position(|w| w == "-c") {
        if let Some(program) = words.get_mut(i + 1) {
            *program = "<abbench's equivalence check>".into();
        }
    }
    shell_words::join(words)
}

/// The argv that checks `script` with `python`.
pub fn command(
    python: &[String],
    script: &Path,
    domain: Domain,
    options: &Options,
    generated: bool,
) -> Vec<String> {
    let mut argv = python.to_vec();
    match helper_file() {
        Some(path) => argv.push(path.display().to_string()),
        None => argv.extend(["-c".to_string(), program()]),
    }
    argv.push(script.display().to_string());
    argv.extend(options.words(domain, generated));
    argv
}

/// The check's words for a candidate of a multi-candidate script checked
/// in B's place: its function letter and the label its messages use.
pub fn candidate_words(candidate: Option<(char, &str)>) -> Vec<String> {
    match candidate {
        Some((letter, label)) => vec![
            "--b".into(),
            letter.to_string(),
            "--b-label".into(),
            label.into(),
        ],
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
