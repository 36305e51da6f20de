//! Captured inputs (`inputs_from`): run a test or a workload
//! command once on the base revision — a temporary worktree, so the work
//! tree is never touched — with the capture hook as its `sitecustomize`,
//! and keep the calls the targets really receive in abbench's data
//! directory, keyed by repository, base commit, targets and source (a
//! second capture with the same key reuses the file).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::git::Repo;
use crate::process::{self, Limits, ProcessError, ProcessSpec};
use crate::python::runner::Runner;
use crate::revision::Target;

/// What to run to see the targets' real calls.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A pytest node id or a unittest id (`path/test_x.py::Class::test`).
    Test(String),
    /// A workload command, e.g. `python bench/report.py`.
    Command(String),
}

// `inputs_from` of generate_ab_script: where the real calls come from. No
// doc comment: schemars would send it with every tools/list (the field's
// own description says it; references/tools.md has the rest).
#[allow(missing_docs)]
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InputsFrom {
    /// Test id calling the target.
    #[serde(default)]
    pub test: Option<String>,
    /// Or a workload command.
    #[serde(default)]
    pub command: Option<String>,
    /// Default 200.
    #[serde(default)]
    pub max_calls: Option<usize>,
    /// Default 300.
    #[serde(default)]
    pub timeout_s: Option<f64>,
}

impl InputsFrom {
    /// The source, checked: exactly one of `test` and `command`.
    fn source(&self) -> Result<Source, CaptureError> {
        match (&self.test, &self.command) {
            (Some(t), None) if !t.trim().is_empty() => Ok(Source::Test(t.trim().into())),
            (None, Some(c)) if !c.trim().is_empty() => Ok(Source::Command(c.trim().into())),
            _ => Err(CaptureError::Failed(
                "`inputs_from` takes exactly one of {\"test\": \"tests/test_x.py::test_y\"} and {\"command\": \"python bench/report.py\"}".into(),
            )),
        }
    }

    /// "the test tests/test_x.py::test_y" or "the command `…`".
    pub fn described(&self) -> String {
        match self.source() {
            Ok(Source::Test(t)) => format!("the test {t}"),
            Ok(Source::Command(c)) => format!("the command `{c}`"),
            Err(_) => "inputs_from".into(),
        }
    }
}

/// Captures the calls for a revision-form script: its repository, base
/// commit and targets, with the runner, into abbench's data directory.
pub async fn for_revision(
    from: &InputsFrom,
    rev: &crate::revision::ResolvedRevision,
    runner: &Runner,
) -> Result<Captured, CaptureError> {
    let source = from.source()?;
    let repo = Repo::open(Path::new(&rev.info.repo)).await?;
    let data = crate::ledger::data_dir().map_err(|e| CaptureError::Failed(e.to_string()))?;
    let cancel = CancellationToken::new();
    let req = CaptureRequest {
        repo: &repo,
        base_commit: &rev.info.base_commit,
        targets: &rev.targets,
        source: &source,
        runner,
        max_calls: from.max_calls.unwrap_or(200),
        timeout: Duration::from_secs_f64(from.timeout_s.unwrap_or(300.0)),
    };
    let mut captured = capture(&req, &data, &cancel).await?;
    captured.inputs.source = format!(
        "{} on base {}",
        from.described(),
        &rev.info.base_commit[..12]
    );
    Ok(captured)
}

impl Inputs {
    /// One sentence: how many calls, from where, their sizes, what was skipped.
    pub fn sentence(&self) -> String {
        let sizes = self
            .sizes
            .map(|[lo, hi]| format!(", main argument len {lo}..{hi}"))
            .unwrap_or_default();
        let skipped = match self.skipped.first() {
            None => String::new(),
            Some(s) => format!(
                "; {} skipped (first: call {}, {})",
                self.skipped_count, s.call, s.reason
            ),
        };
        format!(
            "{} distinct call(s) replayed of {} seen in {} ({} bytes{sizes}){skipped}",
            self.calls_kept, self.calls_seen, self.source, self.bytes
        )
    }
}

/// One capture to make (or find).
pub struct CaptureRequest<'a> {
    /// The repository (its work tree is never touched).
    pub repo: &'a Repo,
    /// The base commit (resolved).
    pub base_commit: &'a str,
    /// The functions whose calls are recorded; the first is the one replayed.
    pub targets: &'a [Target],
    /// The test or command that calls them.
    pub source: &'a Source,
    /// The project's Python.
    pub runner: &'a Runner,
    /// Most distinct calls kept.
    pub max_calls: usize,
    /// Of the test or command.
    pub timeout: Duration,
}

/// A call that was not kept, and why.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct Skipped {
    /// Its index among the calls seen (0-based).
    pub call: u64,
    /// Why, e.g. an argument that cannot be pickled.
    pub reason: String,
}

/// What was captured, as the hook reports it.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Inputs {
    /// Where they were captured: "the test …" or "the command `…`".
    #[serde(default)]
    pub source: String,
    /// Outermost calls of the targets seen.
    pub calls_seen: u64,
    /// Distinct calls kept.
    pub calls_kept: u64,
    /// Distinct calls seen.
    pub distinct: u64,
    /// Pickled bytes kept.
    pub bytes: u64,
    /// [smallest, largest] `len` of the main argument, where it has one.
    pub sizes: Option<[u64; 2]>,
    /// The first skipped calls, with why.
    pub skipped: Vec<Skipped>,
    /// All skipped calls.
    pub skipped_count: u64,
    /// SHA-256 of the calls file, checked by the script that replays it.
    #[serde(default)]
    pub sha256: String,
}

/// Where the calls are, and what they are.
#[derive(Debug, Clone)]
pub struct Captured {
    /// The pickle in the data directory.
    pub path: PathBuf,
    /// What was captured.
    pub inputs: Inputs,
    /// Reused from an earlier capture with the same key.
    pub reused: bool,
}

/// Why nothing was captured; each message says what to change.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The source failed, never called a target, or every call was skipped.
    #[error("{0}")]
    Failed(String),
    /// The base worktree could not be made.
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
    /// A command that cannot be split into words.
    #[error(transparent)]
    Command(#[from] crate::python::command::CommandError),
    /// The data directory could not be written.
    #[error("cannot write the captured calls: {0}")]
    Io(#[from] std::io::Error),
    /// Cancelled.
    #[error("cancelled; every process was killed")]
    Cancelled,
}

/// The hook, written as `sitecustomize.py` first on PYTHONPATH.
const HOOK: &str = concat!(
    include_str!("python/hook_common.py"),
    include_str!("python/capture_hook.py")
);

/// Captures (or finds) the calls; `data_dir` is abbench's data directory.
pub async fn capture(
    req: &CaptureRequest<'_>,
    data_dir: &Path,
    cancel: &CancellationToken,
) -> Result<Captured, CaptureError> {
    let dir = data_dir.join("captures");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{}.pkl", key(req)));
    let summary = path.with_extension("pkl.json");
    // The script checks the file's content (sha256) each time it loads it.
    if let (true, Ok(text)) = (path.is_file(), std::fs::read_to_string(&summary)) {
        if let Ok(inputs) = serde_json::from_str::<Inputs>(&text) {
            return Ok(Captured {
                path,
                inputs,
                reused: true,
            });
        }
    }
    let worktree = req.repo.worktree(req.base_commit).await?;
    let hook = tempfile::Builder::new()
        .prefix("abbench-capture-")
        .tempdir()?;
    std::fs::write(hook.path().join("sitecustomize.py"), HOOK)?;
    let out = hook.path().join("calls.pkl");
    let argv = argv(req, &worktree.path, cancel).await?;
    let spec = spec(req, argv, &worktree.path, hook.path(), &out);
    let command = spec.display();
    let limits = Limits {
        timeout: req.timeout,
        ..Limits::default()
    };
    let finished = match process::run(&spec, limits, cancel).await {
        Ok(f) => f,
        Err(ProcessError::Cancelled) => return Err(CaptureError::Cancelled),
        Err(ProcessError::TimedOut { after, .. }) => {
            return Err(CaptureError::Failed(format!(
                "`{command}` timed out after {:.0} s on the base; raise timeout_s or capture from a shorter test",
                after.as_secs_f64()
            )))
        }
        Err(e) => return Err(CaptureError::Failed(format!("`{command}` cannot run: {e}"))),
    };
    if !finished.exit.success() {
        let tail = match finished.stderr.last_lines(20) {
            t if t.trim().is_empty() => finished.stdout.last_lines(20),
            t => t,
        };
        return Err(CaptureError::Failed(format!(
            "`{command}` failed on the base ({}); its last lines:\n{tail}",
            finished.exit
        )));
    }
    let inputs: Inputs = std::fs::read_to_string(out.with_extension("pkl.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or_else(|| {
            CaptureError::Failed(format!(
                "`{command}` ran but the capture hook wrote nothing: the process may have ended by os._exit or a signal"
            ))
        })?;
    check(req, &inputs)?;
    let bytes = std::fs::read(&out)?;
    std::fs::write(&path, &bytes)?;
    std::fs::write(&summary, serde_json::to_string(&inputs).unwrap_or_default())?;
    Ok(Captured {
        path,
        inputs,
        reused: false,
    })
}

/// `python w.py` where `w.py` is a script the agent wrote and has not
/// committed: the base worktree gets it (it serves the capture, it is not
/// the change), as run_e2e_benchmark does.
fn copy_untracked_script(words: &[String], root: &Path, tree: &Path) -> Result<(), CaptureError> {
    let Some(script) = crate::python::command::script_of(words) else {
        return Ok(());
    };
    let relative = Path::new(script);
    let (from, to) = (root.join(relative), tree.join(relative));
    if relative.is_relative() && from.is_file() && !to.exists() {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(from, to)?;
    }
    Ok(())
}

/// The argv that runs the source in `tree`: a test id as
/// check_keep_conditions reads it (pytest when the runner imports it, else
/// unittest), a command with a bare `python` standing for the runner (and
/// its untracked script copied into the tree).
async fn argv(
    req: &CaptureRequest<'_>,
    tree: &Path,
    cancel: &CancellationToken,
) -> Result<Vec<String>, CaptureError> {
    let mut argv = req.runner.argv.clone();
    match req.source {
        Source::Test(id) => {
            let pytest = crate::python::probe::probe_python(
                &req.runner.argv,
                Some(tree.to_path_buf()),
                &[],
                None,
                cancel,
            )
            .await
            .is_ok_and(|p| p.pytest);
            let test = crate::keep::hot_path::target_test(id, tree, pytest)
                .map_err(CaptureError::Failed)?;
            argv.extend(test.args);
        }
        Source::Command(command) => {
            let words = crate::python::command::split_command("inputs_from.command", command)?;
            copy_untracked_script(&words, &req.repo.root, tree)?;
            argv = if crate::python::command::is_python(&words[0]) {
                argv.into_iter().chain(words.into_iter().skip(1)).collect()
            } else {
                words
            };
        }
    }
    Ok(argv)
}

/// The process: `argv` in the base worktree, the hook first on PYTHONPATH.
fn spec(
    req: &CaptureRequest<'_>,
    argv: Vec<String>,
    tree: &Path,
    hook: &Path,
    out: &Path,
) -> ProcessSpec {
    let mut paths = vec![hook.display().to_string(), tree.display().to_string()];
    if tree.join("src").is_dir() {
        paths.push(tree.join("src").display().to_string());
    }
    let targets: Vec<_> = req
        .targets
        .iter()
        .map(|t| serde_json::json!({"file": t.file, "qualname": t.qualname}))
        .collect();
    ProcessSpec {
        argv,
        cwd: Some(tree.to_path_buf()),
        env: vec![
            ("PYTHONPATH".into(), paths.join(":")),
            ("ABBENCH_CAPTURE_OUT".into(), out.display().to_string()),
            ("ABBENCH_CAPTURE_ROOT".into(), tree.display().to_string()),
            (
                "ABBENCH_CAPTURE_TARGETS".into(),
                serde_json::Value::from(targets).to_string(),
            ),
            (
                "ABBENCH_CAPTURE_MAX_CALLS".into(),
                req.max_calls.to_string(),
            ),
        ],
        stdin: None,
    }
}

/// A capture that saw nothing usable is an error that says why.
fn check(req: &CaptureRequest<'_>, inputs: &Inputs) -> Result<(), CaptureError> {
    let names: Vec<String> = req
        .targets
        .iter()
        .map(|t| format!("`{}`", t.qualname))
        .collect();
    let source = match req.source {
        Source::Test(id) => format!("the test {id}"),
        Source::Command(c) => format!("the command `{c}`"),
    };
    if inputs.calls_seen == 0 {
        return Err(CaptureError::Failed(format!(
            "{source} ran on the base but {} was never called: check the test id or the target",
            names.join(" / ")
        )));
    }
    if inputs.calls_kept == 0 {
        let why: Vec<String> = inputs
            .skipped
            .iter()
            .take(3)
            .map(|s| format!("call {}: {}", s.call, s.reason))
            .collect();
        return Err(CaptureError::Failed(format!(
            "{source} called {} {} time(s) but no call could be kept ({}): give `setup` and `call` instead",
            names.join(" / "),
            inputs.calls_seen,
            why.join("; ")
        )));
    }
    Ok(())
}

/// The key of a capture: repository, base commit, targets, source, cap.
fn key(req: &CaptureRequest<'_>) -> String {
    let mut parts = vec![
        req.repo.root.display().to_string().into_bytes(),
        req.base_commit.as_bytes().to_vec(),
        serde_json::to_vec(req.source).unwrap_or_default(),
        req.max_calls.to_string().into_bytes(),
        req.runner.argv.join("\0").into_bytes(),
    ];
    parts.extend(
        req.targets
            .iter()
            .map(|t| format!("{}::{}", t.file, t.qualname).into_bytes()),
    );
    format!("{:016x}", crate::git::fnv1a(&parts))
}

/// The line in a replaying script's setup that tells run_ab_benchmark what
/// it replays; JSON of [`Replayed`] follows.
pub const INPUTS_PREFIX: &str = "# abbench-inputs: ";

/// What a script replays, as its marker line says: the run names the calls
/// in `measured_by` and warns when they are not all the target received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replayed {
    /// The target's short name.
    pub target: String,
    /// "the test …" or "the command `…`".
    pub source: String,
    /// Outermost calls seen.
    pub calls_seen: u64,
    /// Distinct calls replayed.
    pub calls_kept: u64,
    /// Distinct calls seen.
    pub distinct: u64,
    /// Calls that could not be captured.
    pub skipped_count: u64,
    /// Why the first of them was skipped.
    pub first_skipped: Option<String>,
}

impl Replayed {
    /// Reads the marker line of a script's setup, if it has one.
    pub fn read(script: &str) -> Option<Replayed> {
        script
            .lines()
            .find_map(|line| line.trim_start().strip_prefix(INPUTS_PREFIX))
            .and_then(|json| serde_json::from_str(json).ok())
    }

    /// How a timed call is made of the captured calls (for `measured_by`).
    pub fn described(&self) -> String {
        format!(
            "each timed call replays the {} captured call(s) of {} from {}, with fresh copies of their arguments",
            self.calls_kept, self.target, self.source
        )
    }

    /// A warning when the replayed calls are not every kind of call the
    /// target received: some could not be captured, or the cap dropped some.
    pub fn shortfall(&self) -> Option<String> {
        let mut parts = Vec::new();
        if self.calls_kept < self.distinct {
            parts.push(format!(
                "{} of the {} distinct calls seen were kept (max_calls; the smallest and largest input among them)",
                self.calls_kept, self.distinct
            ));
        }
        if self.skipped_count > 0 {
            parts.push(format!(
                "{} call(s) could not be captured ({})",
                self.skipped_count,
                self.first_skipped
                    .as_deref()
                    .unwrap_or("see the generate record's inputs.skipped")
            ));
        }
        (!parts.is_empty()).then(|| {
            format!(
                "the verdict covers only the calls of {} replayed from {}: {}; A and B were neither timed nor compared on the rest — cover them with a setup and call of your own if they matter",
                self.target,
                self.source,
                parts.join(", and ")
            )
        })
    }
}

/// The `setup` and `call` that replay the first target's captured calls:
/// setup loads the file (refused when missing or changed since the
/// capture), call runs each call once with fresh copies of its arguments
/// (unpickled in the timed region) and returns the results keyed by the
/// call ("call 1 of 3: word_counts([])"), so the equivalence check compares
/// A and B call by call and names the call that differs. In the async
/// domain (`awaited`) each call is awaited.
pub fn replay(
    captured: &Captured,
    target_name: &str,
    described: &str,
    awaited: bool,
) -> (String, String) {
    let path = serde_json::to_string(&captured.path.display().to_string()).unwrap_or_default();
    let sha = serde_json::to_string(&captured.inputs.sha256).unwrap_or_default();
    let marker = Replayed {
        target: target_name.to_string(),
        source: captured.inputs.source.clone(),
        calls_seen: captured.inputs.calls_seen,
        calls_kept: captured.inputs.calls_kept,
        distinct: captured.inputs.distinct,
        skipped_count: captured.inputs.skipped_count,
        first_skipped: captured.inputs.skipped.first().map(|s| s.reason.clone()),
    };
    let setup = [
        format!(
            "# Captured inputs (abbench): {} distinct call(s) {target_name} received in {described}.",
            captured.inputs.calls_kept
        ),
        format!(
            "{INPUTS_PREFIX}{}",
            serde_json::to_string(&marker).unwrap_or_default()
        ),
        "import hashlib as _abbench_hashlib".into(),
        "import pickle as _abbench_pickle".into(),
        "try:".into(),
        format!("    with open({path}, 'rb') as _abbench_f:"),
        "        _abbench_data = _abbench_f.read()".into(),
        "except OSError as _abbench_e:".into(),
        "    raise SystemExit('abbench: the captured calls are missing (%s); generate the script again with inputs_from' % _abbench_e)".into(),
        format!("if _abbench_hashlib.sha256(_abbench_data).hexdigest() != {sha}:"),
        format!("    raise SystemExit('abbench: the captured calls at ' + {path} + ' changed since the script was generated; generate it again with inputs_from')"),
        "_abbench_calls = [c for c in _abbench_pickle.loads(_abbench_data)['calls'] if c['target'] == 0]".into(),
        "# (how a difference names the call, its pickled arguments)".into(),
        "CAPTURED_CALLS = [('call %d of %d: %s' % (i + 1, len(_abbench_calls), c['repr']), c['args']) for i, c in enumerate(_abbench_calls)]".into(),
        "del _abbench_data, _abbench_calls".into(),
    ]
    .join("\n");
    let call = [
        "results = {}".to_string(),
        "for label, blob in CAPTURED_CALLS:".into(),
        "    args, kwargs = _abbench_pickle.loads(blob)".into(),
        format!(
            "    results[label] = {}{target_name}(*args, **kwargs)",
            if awaited { "await " } else { "" }
        ),
        "return results".into(),
    ]
    .join("\n");
    (setup, call)
}
