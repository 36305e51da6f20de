//! `check_keep_conditions`: the four conditions for keeping a candidate on
//! the micro-benchmark alone, every one evaluated and reported, and the
//! decision keep / needs_e2e / discard with the next step.
//!
//! 1. improvement — the ledger run's verdict is `above_threshold`.
//! 2. tests — the full test command exits 0.
//! 3. simplicity — few lines and files, no new dependency, no jump in
//!    complexity of any changed function (read with `ast`).
//! 4. hot_path — cProfile of the target test, on a temporary worktree of
//!    the base and on the candidate: the function takes a real share of the
//!    test's time on the base, and the candidate still calls it.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::bench::FiledRun;
use crate::domain::Domain;
use crate::git::{GitError, Repo};
use crate::ledger::{self, DecisionRecord, Ledger, LedgerError};
use crate::python::helper::Helper;
use crate::python::runner::{self, Runner};

pub(crate) mod conditions;
mod decide;
mod e2e;
mod request;
mod reuse;
mod scope;

pub use request::KeepRequest;
pub(crate) mod hot_path;

/// The four keep conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConditionName {
    /// The micro-benchmark's verdict is `above_threshold`.
    Improvement,
    /// The full test command exits 0.
    Tests,
    /// Few lines and files, no new dependency, no jump in complexity.
    Simplicity,
    /// The function takes a real share of the target test on the base.
    HotPath,
}

impl ConditionName {
    /// In the order they are evaluated and reported.
    pub const ALL: [ConditionName; 4] = [
        ConditionName::Improvement,
        ConditionName::Tests,
        ConditionName::Simplicity,
        ConditionName::HotPath,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionName::Improvement => "improvement",
            ConditionName::Tests => "tests",
            ConditionName::Simplicity => "simplicity",
            ConditionName::HotPath => "hot_path",
        }
    }
}

/// One condition, evaluated.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Condition {
    /// improvement, tests, simplicity or hot_path.
    pub name: ConditionName,
    /// Whether it holds.
    pub passed: bool,
    /// One sentence with the figures.
    pub summary: String,
    /// The figures behind the sentence.
    #[schemars(with = "serde_json::Map<String, Value>")]
    pub figures: Value,
}

/// The outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// All four conditions hold: keep on the micro-benchmark alone.
    Keep,
    /// Plausible, but an end-to-end comparison must confirm it.
    NeedsE2e,
    /// Drop it: tests fail, a regression, or no evidence of any gain.
    Discard,
}

impl Decision {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Keep => "keep",
            Decision::NeedsE2e => "needs_e2e",
            Decision::Discard => "discard",
        }
    }
}

/// The limits applied, as used.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct KeepLimits {
    /// Most net added lines.
    pub max_added_lines: i64,
    /// Most files changed.
    pub max_files: usize,
    /// Most complexity increase per function.
    pub max_complexity_increase: i64,
    /// Least share of the target test's time on the base.
    pub min_hot_share: f64,
    /// Timeout of the test command, seconds.
    pub tests_timeout_s: f64,
}

impl KeepLimits {
    /// The request's limits, with the hot-path share resolved for the domain.
    fn of(req: &KeepRequest, min_hot_share: f64) -> Self {
        KeepLimits {
            max_added_lines: req.max_added_lines,
            max_files: req.max_files,
            max_complexity_increase: req.max_complexity_increase,
            min_hot_share,
            tests_timeout_s: req.tests_timeout_s,
        }
    }
}

/// Wall seconds of each step.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Durations {
    /// The test command.
    pub tests_s: f64,
    /// Profiling the target test on the base.
    pub profile_base_s: f64,
    /// Profiling the target test on the candidate.
    pub profile_candidate_s: f64,
    /// The whole call.
    pub total_s: f64,
}

/// What `check_keep_conditions` returns.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct KeepResult {
    /// Id of this check in the ledger.
    pub check_id: String,
    /// The run it judged.
    pub run_id: String,
    /// The e2e run the improvement was judged on, if any.
    #[serde(default)]
    pub e2e_run_id: Option<String>,
    /// keep | needs_e2e | discard.
    pub decision: Decision,
    /// Why, in one sentence.
    pub reason: String,
    /// The four conditions, each evaluated.
    pub conditions: Vec<Condition>,
    /// Names of the conditions that block a micro-only keep.
    pub blocking: Vec<ConditionName>,
    /// What to do now.
    pub next_step: String,
    /// What was compared: base commit and candidate.
    pub change: String,
    /// The base commit id.
    pub base_commit: String,
    /// The function checked, as given.
    pub target_function: String,
    /// The test profiled, as given.
    pub target_test: String,
    /// The Python used for profiling and helpers.
    pub runner: Runner,
    /// The limits applied.
    pub limits: KeepLimits,
    /// Wall seconds of each step.
    pub durations: Durations,
    /// Things worth knowing (e.g. the ledger could not record the decision).
    pub warnings: Vec<String>,
}

/// Why no decision could be made. Each message says what to change.
#[derive(Debug, thiserror::Error)]
pub enum KeepError {
    /// A bad argument.
    #[error("{0}")]
    Invalid(String),
    /// git failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// The ledger could not be read.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// No runner could be resolved.
    #[error(transparent)]
    Runner(#[from] crate::python::runner::RunnerError),
    /// A bad `test_command`.
    #[error(transparent)]
    Command(#[from] crate::python::command::CommandError),
    /// A temporary directory could not be made.
    #[error("cannot create a temporary directory")]
    TempDir(#[source] std::io::Error),
    /// Cancelled.
    #[error("cancelled; every process was killed")]
    Cancelled,
}

fn invalid(msg: impl Into<String>) -> KeepError {
    KeepError::Invalid(msg.into())
}

/// Runs an embedded helper with the runner's Python in `cwd`, JSON in and
/// out; the error says what went wrong, for a condition's summary.
async fn helper<T: serde::de::DeserializeOwned>(
    runner: &Runner,
    script: &str,
    input: &Value,
    cwd: &Path,
    cancel: &CancellationToken,
) -> Result<T, String> {
    Helper {
        python: &runner.argv,
        flags: &[],
        script,
        cwd: Some(cwd.to_path_buf()),
        env: Vec::new(),
        timeout: Duration::from_secs(120),
    }
    .call(Some(input), cancel)
    .await
    .map_err(|e| e.to_string())
}

/// The environment for running the project's Python in `dir`: that tree
/// first on PYTHONPATH (so a base worktree imports its own code, not an
/// editable install of the work tree), and the runner's bin directory first
/// on PATH (so `pytest` means the virtualenv's pytest).
fn project_env(runner: &Runner, dir: &Path) -> Vec<(String, String)> {
    let mut env = Vec::new();
    let mut paths = vec![dir.display().to_string()];
    if dir.join("src").is_dir() {
        paths.push(dir.join("src").display().to_string());
    }
    if let Ok(existing) = std::env::var("PYTHONPATH") {
        paths.push(existing);
    }
    env.push(("PYTHONPATH".into(), paths.join(":")));
    if let Some(bin) = Path::new(&runner.argv[0])
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        let path = std::env::var("PATH").unwrap_or_default();
        env.push(("PATH".into(), format!("{}:{path}", bin.display())));
    }
    env
}

/// What a check works on, resolved before anything expensive runs.
struct Context<'a> {
    req: &'a KeepRequest,
    run: &'a FiledRun,
    e2e: Option<&'a crate::e2e::FiledE2e>,
    repo: &'a Repo,
    change: &'a crate::git::Change,
    runner: &'a Runner,
    /// What identifies this check's test run and profiles.
    keys: reuse::Keys,
    /// The test command's result on this very content, from an earlier check.
    earlier_tests: Option<Condition>,
    /// The profiles of this very content and test, from an earlier check.
    earlier_profiles: Option<reuse::Earlier>,
}

/// The four conditions as evaluated, with what the decision needs beyond them.
struct Evaluated {
    conditions: Vec<Condition>,
    tests_passed: bool,
    regression: bool,
    any_gain: bool,
    durations: Durations,
    min_hot_share: f64,
    /// The target as `file::qualname`.
    target: String,
    /// Processes this check's test command left running outside its group.
    warnings: Vec<String>,
}

/// Checks the four conditions and decides. `ledger_dir` overrides the configured one.
pub async fn check(
    req: &KeepRequest,
    ledger_dir: Option<&Path>,
    cancel: &CancellationToken,
) -> Result<KeepResult, KeepError> {
    let started = Instant::now();
    let (run, e2e) = {
        let ledger = Ledger::open_in(ledger_dir)?;
        let run = filed_run(req, &ledger)?;
        let e2e = req
            .e2e_run_id
            .as_deref()
            .map(|id| e2e::filed_for(id, &run, &ledger))
            .transpose()?;
        (run, e2e)
    };
    let req = &req.completed_by(&run, e2e.as_ref())?;
    let repo = Repo::open(&req.repo).await?;
    let change = repo.change_against(req.base()).await?;
    if let Some(e2e) = &e2e {
        e2e::same_change(e2e, &repo, &change)?;
    }
    let runner = runner::resolve(
        req.runner.as_deref(),
        &repo.root,
        runner::active_virtualenv(&Default::default()).as_deref(),
    )?;
    let copied: &[String] = e2e.as_ref().map_or(&[], |e| &e.result.copied_to_base);
    let keys = reuse::Keys::of(req, &repo, &runner, &change, copied).await;
    let ctx = Context {
        req,
        run: &run,
        e2e: e2e.as_ref(),
        repo: &repo,
        change: &change,
        runner: &runner,
        earlier_tests: keys
            .tests
            .as_deref()
            .and_then(|k| reuse::tests(ledger_dir, &repo, k)),
        earlier_profiles: keys
            .profiles
            .as_deref()
            .and_then(|k| reuse::profiles(ledger_dir, &repo, k)),
        keys,
    };
    let mut evaluated = evaluate(&ctx, cancel).await?;
    evaluated.durations.total_s = started.elapsed().as_secs_f64();
    let mut result = decided(&ctx, evaluated);
    let filed = Ledger::open_in(ledger_dir)
        .and_then(|l| record(&l, &result, req, &repo).map(|()| l.set_aside_warning()));
    match filed {
        Ok(warning) => result.warnings.extend(warning),
        Err(e) => result
            .warnings
            .push(format!("the ledger could not record this decision: {e}")),
    }
    Ok(result)
}

/// The four conditions: the target and its test resolved first (errors
/// before anything expensive), then the tests, the change's shape and the
/// hot path at once (from the e2e run when it timed the target, else
/// cProfile); what failed beside another run is run again alone.
async fn evaluate(ctx: &Context<'_>, cancel: &CancellationToken) -> Result<Evaluated, KeepError> {
    let Context {
        req,
        run,
        e2e,
        repo,
        runner,
        ..
    } = *ctx;
    let (target, candidate_line) =
        hot_path::locate(&req.target_function, runner, &repo.root, cancel).await?;
    let e2e_target = e2e.and_then(|e| e2e::target_in(e, &target).map(|t| (e, t)));
    let test = match e2e_target {
        Some(_) => None,
        None => Some(target_test(req, runner, repo, cancel).await?),
    };
    // The hot-path bar by domain: memory and import time need no share of CPU time.
    let min_hot_share = req.min_hot_share.unwrap_or(match run.domain {
        Domain::Memory | Domain::Structure => 0.0,
        Domain::Cpu | Domain::Async => 0.05,
    });
    let (improvement, regression, any_gain) = match e2e {
        Some(e2e) => e2e::improvement(e2e, run),
        None => conditions::improvement(run),
    };
    let hot = HotPath {
        e2e_target,
        test: test.as_ref(),
        target: &target,
        candidate_line,
        min_hot_share,
    };
    let (tests, simplicity, hot_path) = tokio::try_join!(
        tests(ctx, cancel),
        async { Ok(simplicity(ctx, &target, cancel).await) },
        hot.condition(ctx, cancel),
    )?;
    let ((tests, tests_s), (hot_path, profile_base_s, profile_candidate_s)) =
        alone_if_failed(ctx, &hot, (tests, hot_path), cancel).await?;
    let warnings = match tests.figures.get("reused_from") {
        // Its processes were killed and named when it ran: no warning again.
        Some(_) => Vec::new(),
        None => tests.figures["left_behind"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|w| w.as_str().map(String::from))
            .collect(),
    };
    Ok(Evaluated {
        tests_passed: tests.passed,
        conditions: vec![improvement, tests, simplicity, hot_path],
        regression,
        any_gain,
        durations: Durations {
            tests_s,
            profile_base_s,
            profile_candidate_s,
            total_s: 0.0,
        },
        min_hot_share,
        target: format!("{}::{}", target.file, target.qualname),
        warnings,
    })
}

/// Condition 2 with its seconds: reused, or the test command run now.
async fn tests(
    ctx: &Context<'_>,
    cancel: &CancellationToken,
) -> Result<(Condition, f64), KeepError> {
    if let Some(earlier) = &ctx.earlier_tests {
        return Ok((earlier.clone(), 0.0));
    }
    let (mut tests, s, _) = conditions::tests(ctx.req, ctx.repo, ctx.runner, cancel).await?;
    if let Some(key) = &ctx.keys.tests {
        tests.figures["content_key"] = serde_json::json!(key);
    }
    Ok((tests, s))
}

/// Condition 3 over the files that are the change (see [`scope`]).
async fn simplicity(
    ctx: &Context<'_>,
    target: &hot_path::Target,
    cancel: &CancellationToken,
) -> Condition {
    let Context {
        req,
        e2e,
        repo,
        change,
        runner,
        ..
    } = *ctx;
    let copied: &[String] = e2e.map_or(&[], |e| e.result.copied_to_base.as_slice());
    let mut importers = Vec::new();
    for path in change
        .files
        .iter()
        .filter(|f| !f.untracked && f.path.ends_with(".py"))
        .map(|f| f.path.as_str())
        .chain([target.file.as_str()])
    {
        let text = match change.new.as_deref() {
            Some(rev) => repo.show(rev, path).await,
            None => std::fs::read_to_string(repo.root.join(path)).ok(),
        };
        importers.extend(text);
    }
    let scope = scope::split(&change.files, copied, &req.change_files, &importers);
    let revisions = (change.old.as_str(), change.new.as_deref());
    let mut c = conditions::simplicity(req, repo, runner, &scope.counted, revisions, cancel).await;
    c.summary.push_str(&scope.summary());
    if !scope.set_aside.is_empty() {
        c.figures["not_counted"] = serde_json::json!(scope
            .set_aside
            .iter()
            .map(|(path, why)| serde_json::json!({"path": path, "why": why}))
            .collect::<Vec<_>>());
    }
    c
}

/// What condition 4 is judged on.
struct HotPath<'a> {
    /// The e2e run and its report of the target, when it timed it.
    e2e_target: Option<(&'a crate::e2e::FiledE2e, &'a crate::e2e::TargetReport)>,
    /// The target test to profile, when no e2e run timed the target.
    test: Option<&'a hot_path::TargetTest>,
    target: &'a hot_path::Target,
    candidate_line: i64,
    min_hot_share: f64,
}

impl HotPath<'_> {
    /// Condition 4 with each profile's seconds: from the e2e run, from an
    /// earlier check's profiles of the same content, or profiled now.
    async fn condition(
        &self,
        ctx: &Context<'_>,
        cancel: &CancellationToken,
    ) -> Result<(Condition, f64, f64), KeepError> {
        if let Some((e2e, report)) = self.e2e_target {
            return Ok((e2e::hot_path(e2e, report, self.min_hot_share), 0.0, 0.0));
        }
        if let Some(c) = self.reused(ctx) {
            return Ok((c, 0.0, 0.0));
        }
        self.profiled(ctx, cancel).await
    }

    async fn profiled(
        &self,
        ctx: &Context<'_>,
        cancel: &CancellationToken,
    ) -> Result<(Condition, f64, f64), KeepError> {
        let test = self
            .test
            .expect("a test is resolved whenever no e2e target covers it");
        let profiles = hot_path::Profiles {
            runner: ctx.runner,
            target: self.target,
            test,
            timeout: Duration::from_secs_f64(ctx.req.tests_timeout_s),
        };
        let (mut c, base_s, cand_s) = profiles
            .condition(
                ctx.repo,
                &ctx.change.old,
                self.candidate_line,
                self.min_hot_share,
                cancel,
            )
            .await?;
        if let Some(key) = &ctx.keys.profiles {
            c.figures["content_key"] = serde_json::json!(key);
        }
        Ok((c, base_s, cand_s))
    }

    /// The condition judged anew on an earlier check's two profiles (the
    /// bar may differ); none when those profiles failed.
    fn reused(&self, ctx: &Context<'_>) -> Option<Condition> {
        let earlier = ctx.earlier_profiles.as_ref()?;
        let figures = &earlier.condition.figures;
        let read = |side: &str| serde_json::from_value::<hot_path::Profile>(figures[side].clone());
        let (base, candidate) = (read("base").ok()?, read("candidate").ok()?);
        let mut c = hot_path::condition(&Ok(base), &Ok(candidate), self.min_hot_share, self.target);
        c.summary = format!(
            "profiles reused from {} (same content, target test, target and runner): {}",
            earlier.from, c.summary
        );
        c.figures["content_key"] = figures["content_key"].clone();
        c.figures["reused_from"] = figures["reused_from"].clone();
        Some(c)
    }
}

/// The tests and profiles ran at once: a failure of either is confirmed by
/// running it again alone (a suite that writes fixed paths in the work
/// tree could trip over the profiled test), and the second answer stands.
async fn alone_if_failed(
    ctx: &Context<'_>,
    hot: &HotPath<'_>,
    ((tests, tests_s), (hot_path, base_s, cand_s)): ((Condition, f64), (Condition, f64, f64)),
    cancel: &CancellationToken,
) -> Result<((Condition, f64), (Condition, f64, f64)), KeepError> {
    let fresh = |c: &Condition| c.figures.get("reused_from").is_none();
    let profiled = fresh(&hot_path) && hot.e2e_target.is_none();
    if !(fresh(&tests) && profiled) {
        return Ok(((tests, tests_s), (hot_path, base_s, cand_s)));
    }
    let profile_failed =
        hot_path.figures["base"].is_null() || hot_path.figures["candidate"].is_null();
    let tests_failed = !tests.passed && tests.figures.get("timed_out_after_s").is_none();
    let tests = if tests_failed {
        let (mut again, s) = self::tests(ctx, cancel).await?;
        again.summary = format!(
            "{}; run again alone: it had failed while the target test was profiled beside it",
            again.summary
        );
        (again, tests_s + s)
    } else {
        (tests, tests_s)
    };
    let hot_path = if profile_failed {
        let (mut again, b, c) = hot.profiled(ctx, cancel).await?;
        again.summary = format!(
            "{}; profiled again alone: profiling had failed while the test suite ran beside it",
            again.summary
        );
        (again, base_s + b, cand_s + c)
    } else {
        (hot_path, base_s, cand_s)
    };
    Ok((tests, hot_path))
}

/// The decision from the evaluated conditions, with its next step.
fn decided(ctx: &Context<'_>, evaluated: Evaluated) -> KeepResult {
    let Context {
        req,
        run,
        e2e,
        change,
        runner,
        ..
    } = *ctx;
    let different = (run.result.comparison.verdict == crate::verdict::Verdict::DifferentResults)
        .then(|| {
            run.result
                .equivalence
                .as_ref()
                .and_then(|e| e.first_difference.as_deref())
                .unwrap_or("A and B compute different results")
        });
    let evidence = decide::Evidence {
        different,
        tests_passed: evaluated.tests_passed,
        regression: evaluated.regression,
        any_gain: evaluated.any_gain,
    };
    let conditions = evaluated.conditions;
    let warnings = evaluated.warnings;
    let (decision, reason, blocking) = match e2e {
        Some(e2e) => decide::decide_e2e(&conditions, evidence, e2e.verdict),
        None => decide::decide(&conditions, evidence),
    };
    let next_step = decide::next_step(
        decision,
        &reason,
        &decide::Revisions {
            base: &change.old,
            candidate: change.new.as_deref(),
            target: &evaluated.target,
            test_command: &req.test_command,
            codeflash: runner::find_on_path("codeflash").is_some(),
            run_id: &req.run_id,
            e2e_done: e2e.is_some(),
            blocking: &blocking,
        },
    );
    KeepResult {
        check_id: format!(
            "chk-{}",
            ledger::new_run_id(SystemTime::now(), crate::measure::rng::seed_from_clock())
        ),
        run_id: req.run_id.clone(),
        e2e_run_id: req.e2e_run_id.clone(),
        decision,
        reason,
        conditions,
        blocking,
        next_step,
        change: change.described.clone(),
        base_commit: change.old.clone(),
        target_function: req.target_function.clone(),
        target_test: req.target_test.clone(),
        runner: runner.clone(),
        limits: KeepLimits::of(req, evaluated.min_hot_share),
        durations: evaluated.durations,
        warnings,
    }
}

impl KeepRequest {
    /// The base revision, once [`KeepRequest::completed_by`] has run.
    fn base(&self) -> &str {
        self.base.as_deref().unwrap_or("HEAD")
    }

    /// The request with `target_function` and `base` taken from the run
    /// where they were left out (a revision-form script records both; an
    /// e2e run its base commit and first target).
    fn completed_by(
        &self,
        run: &FiledRun,
        e2e: Option<&crate::e2e::FiledE2e>,
    ) -> Result<KeepRequest, KeepError> {
        let mut req = self.clone();
        let recorded = run.result.revision.as_ref();
        if req.target_function.trim().is_empty() {
            req.target_function = recorded
                .and_then(|r| r.targets.first().cloned())
                .or_else(|| e2e.and_then(|e| e.request.target_functions.first().cloned()))
                .ok_or_else(|| invalid("`target_function` is required: the run's script was written in the free form (code_a/code_b), so it records no target; pass \"path/file.py::func\" (or generate the script with `target`, and the run remembers it)"))?;
        }
        if req.base.is_none() {
            req.base = Some(match (recorded, e2e) {
                (_, Some(e)) => e.result.revisions.base_commit.clone(),
                (Some(r), None) => r.base_commit.clone(),
                (None, None) => "HEAD".to_string(),
            });
        }
        Ok(req)
    }
}

/// The run to judge, from the ledger; and the request's timeout checked.
fn filed_run(req: &KeepRequest, ledger: &Ledger) -> Result<FiledRun, KeepError> {
    let run = ledger.get_run(&req.run_id)?.ok_or_else(|| {
        invalid(format!(
            "unknown run_id {:?}: use the run_id returned by run_ab_benchmark (benchmark_history lists recorded runs)",
            req.run_id
        ))
    })?;
    let timeout = req.tests_timeout_s;
    if !(timeout.is_finite() && timeout > 0.0) {
        return Err(invalid(format!(
            "`tests_timeout_s` = {timeout} must be a positive number of seconds"
        )));
    }
    Ok(run)
}

/// The target test as the runner will run it (pytest when it imports).
async fn target_test(
    req: &KeepRequest,
    runner: &Runner,
    repo: &Repo,
    cancel: &CancellationToken,
) -> Result<hot_path::TargetTest, KeepError> {
    if req.target_test.trim().is_empty() {
        return Err(invalid(match &req.e2e_run_id {
            Some(id) => format!("`target_test` is required: e2e run {id} did not time {} (it was not among its target_functions), so the hot path is profiled with cProfile; pass the test that exercises it", req.target_function),
            None => "`target_test` is required: the test that exercises the function (a pytest node id or a script), profiled for the hot-path condition".into(),
        }));
    }
    let pytest = crate::python::probe::probe_python(
        &runner.argv,
        Some(repo.root.clone()),
        &project_env(runner, &repo.root),
        None,
        cancel,
    )
    .await
    .map(|p| p.pytest)
    .map_err(|e| invalid(format!("runner `{}` {e}", runner.shown())))?;
    hot_path::target_test(&req.target_test, &repo.root, pytest).map_err(invalid)
}

/// Files the decision next to its run.
fn record(
    ledger: &Ledger,
    result: &KeepResult,
    req: &KeepRequest,
    repo: &Repo,
) -> Result<(), LedgerError> {
    ledger.record_decision(&DecisionRecord {
        check_id: result.check_id.clone(),
        run_id: result.run_id.clone(),
        created_at: ledger::rfc3339(SystemTime::now()),
        decision: result.decision.as_str().into(),
        target_function: req.target_function.clone(),
        repo: repo.root.display().to_string(),
        result: result.clone(),
        abbench_version: ledger::this_version(),
    })
}
