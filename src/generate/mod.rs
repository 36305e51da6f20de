//! `generate_ab_script`: validate a spec, render it, compile-check it with
//! the project's Python, and write it atomically. Nothing is written unless
//! every step succeeded.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::domain::{Domain, Threshold};
use crate::equivalence::{Equivalence, EquivalenceMode, Options};
use crate::process::ProcessSpec;
use crate::python::helper::{Helper, WorkerPool};
use crate::python::runner::{self, Runner, RunnerError};
use crate::python::scripts;
use crate::revision::{self, RevisionError, RevisionForm, RevisionInfo};
use crate::template::{self, ScriptSpec, SpecError};

pub mod candidates;
mod import_check;
mod verify;
pub use import_check::CheckedTarget;

/// Arguments of `generate_ab_script` / `abbench template`: the MCP tool
/// takes it as its parameters (the doc comments are the schema's
/// descriptions), the CLI converts its flags into it.
#[derive(Debug, Clone, Deserialize, JsonSchema, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct GenerateRequest {
    /// 1-64 of [A-Za-z0-9_]: micro_bench_<name>.py.
    #[arg(long)]
    pub name: String,
    /// cpu (alias data_structures), async, memory or structure.
    #[arg(long)]
    pub domain: Domain,
    #[serde(default)]
    #[arg(
        long,
        value_name = "CODE",
        default_value = "",
        hide_default_value = true
    )]
    /// Run once first: imports and the REAL input.
    pub setup: String,
    #[serde(default)]
    #[arg(
        long = "a",
        value_name = "CODE",
        default_value = "",
        hide_default_value = true
    )]
    /// Free form: body of bench_a (current code).
    pub code_a: String,
    #[serde(default)]
    #[arg(
        long = "b",
        value_name = "CODE",
        default_value = "",
        hide_default_value = true
    )]
    /// Free form: body of bench_b (optimized code).
    pub code_b: String,
    /// Up to 8 {label, code} (free form) or {label, revision|worktree} measured in one run.
    #[serde(default)]
    #[arg(long = "candidate-code", value_name = "LABEL=CODE", value_parser = candidates::parse_arg, conflicts_with_all = ["code_b", "b_file"])]
    pub candidates: Vec<candidates::Candidate>,
    /// Revision form: "path/file.py::func" (or ::Class.method; a list with a helper). A = committed, B = work tree.
    #[serde(default, deserialize_with = "one_or_many")]
    #[schemars(with = "Vec<String>")]
    #[arg(long, value_name = "FILE::NAME", conflicts_with_all = ["code_a", "a_file", "code_b", "b_file"])]
    pub target: Vec<String>,
    #[serde(default)]
    #[arg(
        long,
        value_name = "CODE",
        default_value = "",
        hide_default_value = true,
        requires = "target"
    )]
    /// Revision form: what both run, e.g. "return f(ROWS)".
    pub call: String,
    /// Revision A runs. Default "HEAD".
    #[serde(default)]
    #[arg(long, value_name = "REV", requires = "target")]
    pub base: Option<String>,
    /// Revision B runs instead of the work tree.
    #[serde(default)]
    #[arg(long, value_name = "REV", requires = "target")]
    pub candidate: Option<String>,
    /// Git work tree. Default: `cwd`.
    #[serde(default)]
    #[arg(long, value_name = "DIR", requires = "target")]
    pub repo: Option<PathBuf>,
    /// Calls per repeat. Default: calibrated.
    #[serde(default)]
    #[arg(long)]
    pub number: Option<u32>,
    /// Repeats in `a`/`b` mode. Default 5.
    #[serde(default)]
    #[arg(long)]
    pub repeat: Option<u32>,
    /// async: coroutines gathered. Default 10.
    #[serde(default)]
    #[arg(long)]
    pub concurrency: Option<u32>,
    /// structure (required): modules whose import is timed.
    #[serde(default)]
    #[arg(long = "module", value_name = "MODULE")]
    pub modules: Vec<String>,
    /// Where to write. Default: the temp directory.
    #[serde(default)]
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Revision form: replay the target's real calls in a test or workload
    /// (captured on the base) instead of `call`.
    #[serde(default)]
    #[arg(skip)]
    pub inputs_from: Option<crate::capture::InputsFrom>,
    /// Python command; default detected in `cwd`.
    #[serde(default, alias = "python")]
    #[arg(long, alias = "python")]
    pub runner: Option<String>,
    /// The project root. Default: the server's.
    #[serde(default)]
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// Environment variables, as for run_ab_benchmark.
    #[serde(default)]
    #[arg(skip)]
    pub env: std::collections::BTreeMap<String, String>,
    /// strict (default), unordered (lists as multisets), off.
    #[serde(default)]
    #[arg(long, default_value = "strict")]
    pub equivalence: EquivalenceMode,
    /// Float tolerance. Default 1e-9.
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 1.0))]
    #[arg(long)]
    pub rel_tol: Option<f64>,
    /// Return the script's text. Default false.
    #[serde(default)]
    #[arg(skip)]
    pub include_script: bool,
    /// full: add the whole record.
    #[serde(default)]
    #[arg(skip)]
    pub detail: crate::history::Detail,
}

impl GenerateRequest {
    /// What goes into the script.
    pub fn spec(&self) -> ScriptSpec {
        ScriptSpec {
            name: self.name.clone(),
            domain: Some(self.domain),
            setup: self.setup.clone(),
            code_a: self.code_a.clone(),
            code_b: self.code_b.clone(),
            number: self.number,
            repeat: self.repeat,
            concurrency: self.concurrency,
            modules: self.modules.clone(),
            call: self.call.clone(),
            revision: None,
            candidates: Vec::new(),
            candidate_revisions: Vec::new(),
            duplicates: Vec::new(),
        }
    }

    /// True when the request uses the revision form.
    pub fn is_revision_form(&self) -> bool {
        !self.target.is_empty()
    }

    /// Refuses a mix of the two forms, naming what to drop.
    fn check_form(&self) -> Result<(), GenerateError> {
        let form = |m: &str| Err(GenerateError::Form(m.to_string()));
        if !self.candidates.is_empty() {
            if self.is_revision_form() {
                if self.candidate.is_some() {
                    return form("pass either `candidate` (one revision for B) or `candidates` (several), not both");
                }
            } else if !self.code_b.trim().is_empty() {
                return form(
                    "pass either `code_b` (one candidate) or `candidates` (several), not both",
                );
            }
            if !self.is_revision_form() && self.code_a.trim().is_empty() {
                return form(
                    "`candidates` are measured against `code_a`: pass it (the current approach)",
                );
            }
        }
        if self.is_revision_form() {
            if !self.code_a.trim().is_empty() || !self.code_b.trim().is_empty() {
                return form("pass either `target` with `call` (the revision form: A is the committed code) or `code_a` with `code_b` (the free form), not both");
            }
            if self.inputs_from.is_some() && !self.call.trim().is_empty() {
                return form("with `inputs_from` the script replays the captured calls: drop `call` (a `setup` of your own still runs first)");
            }
            if self.call.trim().is_empty() && self.inputs_from.is_none() {
                return form("the revision form needs `call`: the statements both variants run, e.g. \"return count_known(ORDERS, CATALOGUE)\"");
            }
            return Ok(());
        }
        let stray: Vec<&str> = [
            ("call", !self.call.is_empty()),
            ("base", self.base.is_some()),
            ("candidate", self.candidate.is_some()),
            ("repo", self.repo.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
        .collect();
        if !stray.is_empty() {
            return form(&format!("`{}` belong to the revision form: pass `target` too (e.g. \"src/shop/report.py::count_known\"), or drop them and give code_a/code_b", stray.join("`, `")));
        }
        if self.code_a.trim().is_empty() && self.code_b.trim().is_empty() {
            return form("nothing to benchmark: pass `target` and `call` (the revision form), or `code_a` and `code_b`");
        }
        Ok(())
    }
}

/// A list of strings, or one string alone.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// The commands that run each variant, ready to paste into a shell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VariantCommands {
    /// Commands for variant A (current approach), in order.
    pub a: Vec<String>,
    /// Commands for variant B (optimized approach), in order.
    pub b: Vec<String>,
    /// Time domains: both variants in alternating blocks in one process, as run_ab_benchmark runs them.
    pub ab: Option<Vec<String>>,
}

/// What `generate_ab_script` returns.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct GeneratedScript {
    /// Absolute path of the script written.
    pub path: String,
    /// The canonical domain (`data_structures` becomes `cpu`).
    pub domain: Domain,
    /// The full text of the script.
    pub script: String,
    /// Commands that run A, B (and both, paired) by hand; memory: under memray as abbench measures it.
    pub commands: VariantCommands,
    /// What the measured value means, with its unit.
    pub measurement: String,
    /// The domain's default threshold (overridable in run_ab_benchmark).
    pub threshold: Threshold,
    /// True when a script of the same name was replaced.
    pub replaced_existing: bool,
    /// The Python the commands use, and why (the runner run_ab_benchmark detects for the same `cwd`).
    pub runner: Runner,
    /// The interpreter that compile-checked the script, with its version.
    pub compile_checked_with: String,
    /// Revision form: where each variant's code comes from (recorded by run_ab_benchmark, read by check_keep_conditions).
    pub revision: Option<RevisionInfo>,
    /// Revision form: each target as the import check found it in both variants.
    pub targets_checked: Vec<CheckedTarget>,
    /// Whether B computed what A computed when setup and each variant ran once (run_ab_benchmark checks again before timing).
    pub equivalence: Equivalence,
    /// Things worth knowing, e.g. arguments this domain ignores.
    pub warnings: Vec<String>,
    /// With `candidates`: each one's function letter and equivalence, or what it duplicates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<candidates::GeneratedCandidate>,
    /// With `inputs_from`: what was captured and replayed.
    #[serde(default)]
    pub inputs: Option<crate::capture::Inputs>,
}

/// Why no script was written.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The capture of `inputs_from` failed.
    #[error(transparent)]
    Capture(#[from] crate::capture::CaptureError),
    /// The spec itself is wrong.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The `runner` argument is wrong, or no runner can be detected.
    #[error(transparent)]
    Runner(#[from] RunnerError),
    /// A syntax error in a part the caller wrote.
    #[error("syntax error in {part}, line {line}{column}: {message}{text}; nothing was written")]
    Syntax {
        /// `setup`, `code_a`, `code_b` or `script`.
        part: String,
        /// Line within that part (1-based).
        line: usize,
        /// ", column N" when known.
        column: String,
        /// Python's message.
        message: String,
        /// "\n    <offending line>" when known.
        text: String,
    },
    /// The compile check could not run.
    #[error("could not compile-check the script with {python:?}: {reason}; pass `runner` naming a working interpreter")]
    Python {
        /// The interpreter command.
        python: String,
        /// What went wrong.
        reason: String,
    },
    /// A bad `env`.
    #[error(transparent)]
    Env(#[from] crate::measure::InvalidEnv),
    /// The two forms mixed, or one incomplete.
    #[error("{0}")]
    Form(String),
    /// The revision form's git facts.
    #[error(transparent)]
    Revision(#[from] RevisionError),
    /// A variant's modules do not import.
    #[error("variant {variant} ({origin}) does not import: {message}{at}; nothing was written. Fix the import, or use the free form (code_a/code_b) when a module cannot be loaded twice in one process")]
    Import {
        /// `A` or `B`.
        variant: char,
        /// Where its code comes from.
        origin: String,
        /// Python's message.
        message: String,
        /// " (file F, line N)" when known.
        at: String,
    },
    /// A target that is not in a variant's module.
    #[error("`{target}` is not in variant {variant} ({origin}): {message}; {file} has {names}. Check the name (func or Class.method); nothing was written")]
    MissingTarget {
        /// The target.
        target: String,
        /// `A` or `B`.
        variant: char,
        /// Where its code comes from.
        origin: String,
        /// Python's message.
        message: String,
        /// The file.
        file: String,
        /// The names the module has.
        names: String,
    },
    /// Setup or a variant raised when run once.
    #[error("in `{part}`{line}: {error}{context}; nothing was written")]
    Raised {
        /// The argument, e.g. `code_b` or `call (variant B: the work tree)`.
        part: String,
        /// ", line N" within it, when known.
        line: String,
        /// `Type: message`.
        error: String,
        /// Where in the project it was raised, and what it means.
        context: String,
    },
    /// The import check could not run or answered nothing.
    #[error("could not check the script's imports with {python:?}: {reason}")]
    Check {
        /// The interpreter command.
        python: String,
        /// What went wrong.
        reason: String,
    },
    /// The target directory is unusable.
    #[error("cannot write into `dir` {dir:?}: {reason}")]
    Dir {
        /// The directory.
        dir: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

#[derive(Deserialize)]
struct CompileAnswer {
    ok: bool,
    python: String,
    part: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    message: Option<String>,
    text: Option<String>,
}

/// A long-lived `python -S -c <compile_check.py> --serve` per Python
/// command, so a check in a running server costs a pipe round trip instead
/// of an interpreter start (~10-40 ms here).
static COMPILE_WORKERS: WorkerPool = WorkerPool::new();
const WORKER_TIMEOUT: Duration = Duration::from_secs(30);

/// The compile-check helper run with `python`.
fn compile_helper(python: &[String]) -> Helper<'_> {
    Helper {
        python,
        // -S: the compiler needs no site-packages, and skipping them (and
        // their .pth hooks) cuts the interpreter's start-up by about 30 ms here.
        flags: &["-S"],
        script: scripts::COMPILE_CHECK,
        cwd: None,
        env: Vec::new(),
        timeout: Duration::from_secs(60),
    }
}

/// The compile worker's answer to `request` (one line of JSON), if a worker could give one.
async fn ask_worker(python: &[String], request: &str) -> Option<String> {
    let spawn = || {
        let mut argv = compile_helper(python).argv();
        argv.push("--serve".into());
        ProcessSpec::new(argv)
    };
    COMPILE_WORKERS
        .ask(python, spawn, request, WORKER_TIMEOUT)
        .await
}

/// The compile-check helper's request: every part alone, then the script
/// around them (its fixed measurement sections are abbench's own, checked by
/// its tests, so they are left out of the per-call check).
fn check_request(rendered: &template::RenderedScript) -> serde_json::Value {
    let parts: Vec<_> = rendered
        .spans
        .iter()
        .map(|s| {
            serde_json::json!({
                "part": s.part.name(),
                "source": s.standalone,
                "header_lines": s.header_lines,
            })
        })
        .collect();
    serde_json::json!({ "parts": parts, "script": rendered.skeleton })
}

/// Compile-checks every part and the whole script in one Python process.
async fn compile_check(
    python: &[String],
    rendered: &template::RenderedScript,
) -> Result<String, GenerateError> {
    let input = check_request(rendered);
    if let Some(line) = ask_worker(python, &input.to_string()).await {
        if let Ok(answer) = serde_json::from_str::<CompileAnswer>(line.trim()) {
            return interpret(python, answer);
        }
    }
    compile_check_once(python, &input).await
}

/// The same check in a fresh one-shot process (the worker's fallback).
async fn compile_check_once(
    python: &[String],
    input: &serde_json::Value,
) -> Result<String, GenerateError> {
    let answer: CompileAnswer = compile_helper(python)
        .call(Some(input), &CancellationToken::new())
        .await
        .map_err(|e| GenerateError::Python {
            python: shell_words::join(python),
            reason: e.to_string(),
        })?;
    interpret(python, answer)
}

/// Turns the helper's answer into the interpreter's name or a syntax error.
fn interpret(python: &[String], answer: CompileAnswer) -> Result<String, GenerateError> {
    if answer.ok {
        return Ok(format!(
            "{} (Python {})",
            shell_words::join(python),
            answer.python
        ));
    }
    Err(GenerateError::Syntax {
        part: answer.part.unwrap_or_else(|| "script".into()),
        line: answer.line.unwrap_or(1),
        column: answer
            .column
            .map(|c| format!(", column {c}"))
            .unwrap_or_default(),
        message: answer.message.unwrap_or_else(|| "invalid syntax".into()),
        text: answer
            .text
            .filter(|t| !t.trim().is_empty())
            .map(|t| format!("\n    {}", t.trim()))
            .unwrap_or_default(),
    })
}

/// The script in a temporary file beside its final path: the import check
/// runs it there, and a rename then publishes it whole (a reader never sees
/// half a script; a failed check leaves nothing, the file is removed on drop).
fn stage(dir: &Path, text: &str) -> std::io::Result<tempfile::NamedTempFile> {
    use std::os::unix::fs::PermissionsExt;
    let mut tmp = tempfile::Builder::new()
        .prefix(".abbench-")
        .suffix(".py.tmp")
        .tempfile_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    Ok(tmp)
}

/// The commands a person would run for each variant.
pub fn variant_commands(python: &[String], path: &Path, domain: Domain) -> VariantCommands {
    let script = path.display().to_string();
    let command = |mode: &str| -> Vec<String> {
        let mut run = python.to_vec();
        run.extend([script.clone(), mode.to_string()]);
        let run = shell_words::join(run);
        // Memory: the variant's own peak under memray, as abbench measures
        // it (memray must import); without the variable, tracemalloc's.
        vec![if domain == Domain::Memory {
            format!("ABBENCH_MEMRAY=1 {run}")
        } else {
            run
        }]
    };
    VariantCommands {
        a: command("a"),
        b: command("b"),
        ab: domain.is_time().then(|| command("ab")),
    }
}

/// Where the script goes: the checked `dir` and the file's path in it.
fn destination(req: &GenerateRequest, name: &str) -> Result<(PathBuf, PathBuf), GenerateError> {
    let dir = req.dir.clone().unwrap_or_else(std::env::temp_dir);
    let dir_error = |reason: &str| GenerateError::Dir {
        dir: dir.clone(),
        reason: reason.to_string(),
    };
    if !dir.is_dir() {
        return Err(dir_error("it does not exist or is not a directory"));
    }
    let dir = std::path::absolute(&dir).map_err(|e| dir_error(&e.to_string()))?;
    let path = dir.join(template::script_file_name(name));
    if path.is_dir() {
        return Err(dir_error("a directory already has the script's name"));
    }
    Ok((dir, path))
}

/// What the checks of a staged script found.
struct Checked {
    compiled_with: String,
    targets_checked: Vec<CheckedTarget>,
    /// A against B, or against each candidate in order (never empty).
    equivalences: Vec<Equivalence>,
    warnings: Vec<String>,
}

/// The compile check beside the import check and then the equivalence
/// check (both in the import worker); a syntax error is reported from the
/// compile check, which names the part and its line, then an import error,
/// then what running the parts found.
async fn checks(
    staged: &import_check::Staged<'_>,
    spec: &ScriptSpec,
    domain: Domain,
    options: &Options,
    rendered: &template::RenderedScript,
) -> Result<Checked, GenerateError> {
    let runs = async {
        let imports = match &spec.revision {
            Some(rev) => Some(import_check::run(staged, rev).await?),
            None => None,
        };
        let equivalence = if spec.candidates.is_empty() {
            verify::run(
                staged,
                domain,
                options,
                rendered,
                spec.revision.as_ref(),
                None,
            )
            .await
            .map(|e| vec![e])
        } else {
            let mut each = Vec::new();
            for (i, c) in spec.candidates.iter().enumerate() {
                let letter = template::candidate_letter(i);
                each.push(
                    verify::run(
                        staged,
                        domain,
                        options,
                        rendered,
                        None,
                        Some((letter, &c.label)),
                    )
                    .await?,
                );
            }
            Ok(each)
        };
        Ok::<_, GenerateError>((imports, equivalence))
    };
    let (compiled_with, runs) = tokio::join!(compile_check(staged.python, rendered), runs);
    let compiled_with = compiled_with?;
    let (imports, equivalence) = runs?;
    let mut warnings: Vec<String> = spec
        .ignored_arguments(domain)
        .into_iter()
        .map(|arg| format!("`{arg}` does not apply to the {domain} domain and was ignored"))
        .collect();
    let targets_checked = match (&spec.revision, imports) {
        (Some(rev), Some(checked)) => {
            warnings.extend(import_check::warnings(rev, &checked));
            checked
        }
        _ => Vec::new(),
    };
    let equivalences = equivalence?;
    for (i, e) in equivalences.iter().enumerate() {
        warnings.extend(match spec.candidates.get(i) {
            Some(c) => e.candidate_warning(&c.label),
            None => e.warning(),
        });
    }
    Ok(Checked {
        compiled_with,
        targets_checked,
        equivalences,
        warnings,
    })
}

/// Validates, renders, compile-checks and writes the script.
pub async fn generate(req: &GenerateRequest) -> Result<GeneratedScript, GenerateError> {
    req.check_form()?;
    let options = Options::new(req.equivalence, req.rel_tol).map_err(GenerateError::Form)?;
    let env = crate::measure::checked_variables(&req.env)?;
    let mut spec = req.spec();
    // The structure domain is refused before git is asked anything.
    if req.is_revision_form() && spec.domain == Some(Domain::Structure) {
        return Err(SpecError::RevisionStructure.into());
    }
    let domain = spec.validate()?;
    let cwd = match &req.cwd {
        Some(c) => c.clone(),
        None => std::env::current_dir().map_err(|e| GenerateError::Dir {
            dir: PathBuf::from("."),
            reason: format!("no current directory ({e}); pass `cwd`"),
        })?,
    };
    let runner = runner::resolve(
        req.runner.as_deref(),
        &cwd,
        runner::active_virtualenv(&Default::default()).as_deref(),
    )?;
    let (dir, path) = destination(req, &spec.name)?;
    if !req.candidates.is_empty() {
        candidates::check(&req.candidates, domain, req.is_revision_form())?;
    }
    if req.is_revision_form() {
        let form = RevisionForm {
            targets: req.target.clone(),
            base: req.base.clone(),
            candidate: req.candidate.clone(),
            repo: req.repo.clone().unwrap_or_else(|| cwd.clone()),
        };
        if req.candidates.is_empty() {
            spec.revision = Some(revision::resolve(&form).await?);
        } else {
            let (kept, revisions, duplicates) =
                candidates::resolve_revisions(&runner.argv, &form, &req.candidates).await?;
            if kept.is_empty() {
                return Err(candidates::nothing_left(&duplicates));
            }
            spec.revision = revisions.first().cloned();
            spec.candidates = kept;
            spec.candidate_revisions = revisions;
            spec.duplicates = duplicates;
        }
    }
    let inputs = match (&req.inputs_from, &spec.revision) {
        (Some(from), Some(rev)) => {
            let captured = crate::capture::for_revision(from, rev, &runner).await?;
            let (setup, call) = crate::capture::replay(
                &captured,
                &rev.targets[0].qualname,
                &from.described(),
                domain == Domain::Async,
            );
            spec.setup = [spec.setup.trim_end(), setup.as_str()].join("\n");
            spec.call = call;
            Some(captured.inputs)
        }
        (Some(_), None) => {
            return Err(GenerateError::Form(
                "`inputs_from` belongs to the revision form: pass `target` too".into(),
            ))
        }
        _ => None,
    };
    if !req.candidates.is_empty() && !req.is_revision_form() {
        let bodies: Vec<String> = std::iter::once(req.code_a.clone())
            .chain(req.candidates.iter().map(|c| c.code.clone()))
            .collect();
        let indexed: Vec<(usize, &candidates::Candidate)> =
            req.candidates.iter().enumerate().collect();
        let (kept, duplicates) = candidates::deduplicate(&runner.argv, &bodies, &indexed).await?;
        if kept.is_empty() {
            return Err(candidates::nothing_left(&duplicates));
        }
        spec.candidates = kept;
        spec.duplicates = duplicates;
    }
    let rendered = template::render(&spec, domain);
    let dir_error = |reason: String| GenerateError::Dir {
        dir: dir.clone(),
        reason,
    };
    let staged = stage(&dir, &rendered.text).map_err(|e| dir_error(e.to_string()))?;
    let staging = import_check::Staged {
        python: &runner.argv,
        script: staged.path(),
        final_path: &path,
        cwd: &cwd,
        env: &env,
    };
    let checked = checks(&staging, &spec, domain, &options, &rendered).await?;
    let replaced_existing = path.exists();
    staged
        .persist(&path)
        .map_err(|e| dir_error(e.error.to_string()))?;
    Ok(GeneratedScript {
        path: path.display().to_string(),
        domain,
        commands: variant_commands(&runner.argv, &path, domain),
        measurement: match &inputs {
            Some(i) => format!(
                "{} One timed call replays the {} captured call(s) from {}, each with fresh copies of its arguments (unpickling them is inside the timed region, the same for A and B).",
                template::measurement_sentence(&spec, domain),
                i.calls_kept,
                i.source
            ),
            None => template::measurement_sentence(&spec, domain),
        },
        threshold: domain.default_threshold(),
        script: rendered.text,
        replaced_existing,
        compile_checked_with: checked.compiled_with,
        revision: spec.revision.as_ref().map(|r| r.info.clone()),
        targets_checked: checked.targets_checked,
        equivalence: checked.equivalences[0].clone(),
        candidates: match spec.candidates.is_empty() {
            true => Vec::new(),
            false => candidates::answer(
                &req.candidates,
                &spec.candidates,
                &spec.duplicates,
                checked.equivalences,
            ),
        },
        warnings: checked.warnings,
        runner,
        inputs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Domain;

    fn request(code_b: &str) -> serde_json::Value {
        let spec = ScriptSpec {
            name: "t".into(),
            domain: Some(Domain::Cpu),
            code_a: "return 1".into(),
            code_b: code_b.into(),
            ..Default::default()
        };
        check_request(&template::render(&spec, Domain::Cpu))
    }

    /// Every domain's full script compiles (the per-call check compiles
    /// only the skeleton around the caller's parts).
    #[tokio::test]
    async fn every_domains_full_script_compiles() {
        for domain in Domain::ALL {
            let spec = ScriptSpec {
                name: "t".into(),
                domain: Some(domain),
                setup: "from __future__ import annotations".into(),
                code_a: "return 1".into(),
                code_b: "return 2".into(),
                modules: vec!["json".into()],
                ..Default::default()
            };
            let rendered = template::render(&spec, domain);
            let full = serde_json::json!({"parts": [], "script": rendered.text});
            let err = compile_check_once(&["python3".to_string()], &full)
                .await
                .unwrap_err();
            // `from __future__` must open a file: the skeleton catches what the full text does.
            let skeleton = serde_json::json!({"parts": [], "script": rendered.skeleton});
            let err2 = compile_check_once(&["python3".to_string()], &skeleton)
                .await
                .unwrap_err();
            assert!(
                err.to_string().contains("from __future__")
                    && err2.to_string().contains("from __future__"),
                "{err} / {err2}"
            );
            let mut ok_spec = spec.clone();
            ok_spec.setup = "import json".into();
            let rendered = template::render(&ok_spec, domain);
            let full = serde_json::json!({"parts": [], "script": rendered.text});
            compile_check_once(&["python3".to_string()], &full)
                .await
                .unwrap_or_else(|e| panic!("{domain}: {e}"));
        }
    }

    /// The worker and the one-shot fallback give the same answers.
    #[tokio::test]
    async fn worker_and_one_shot_agree() {
        let python = vec!["python3".to_string()];
        for code_b in ["return 2", "x = 1\nreturn x +"] {
            let input = request(code_b);
            let once = compile_check_once(&python, &input).await;
            let line = ask_worker(&python, &input.to_string())
                .await
                .expect("a worker answers");
            let worker = interpret(&python, serde_json::from_str(line.trim()).unwrap());
            assert_eq!(format!("{once:?}"), format!("{worker:?}"));
        }
        let err = compile_check_once(&python, &request("x = 1\nreturn x +"))
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("syntax error in code_b, line 2"),
            "{err}"
        );
    }
}
