//! The four conditions evaluated for one check: the target and its test
//! resolved first (errors before anything expensive), then the test suite,
//! the change's shape and the hot path at once — each from an earlier
//! check on the same content when there is one ([`super::reuse`]).

use std::time::Duration;

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::{
    conditions, e2e, hot_path, invalid, project_env, scope, Condition, Context, Durations,
    KeepError, KeepRequest,
};
use crate::domain::Domain;
use crate::git::Repo;
use crate::python::runner::Runner;

/// The four conditions as evaluated, with what the decision needs beyond them.
pub(super) struct Evaluated {
    pub(super) conditions: Vec<Condition>,
    pub(super) tests_passed: bool,
    pub(super) regression: bool,
    pub(super) any_gain: bool,
    pub(super) durations: Durations,
    pub(super) min_hot_share: f64,
    /// The target as `file::qualname`.
    pub(super) target: String,
    /// Processes this check's test command left running outside its group.
    pub(super) warnings: Vec<String>,
}

/// The four conditions: the target and its test resolved first (errors
/// before anything expensive), then the tests, the change's shape and the
/// hot path at once (from the e2e run when it timed the target, else
/// cProfile); what failed beside another run is run again alone.
pub(super) async fn evaluate(
    ctx: &Context<'_>,
    cancel: &CancellationToken,
) -> Result<Evaluated, KeepError> {
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
        None => conditions::improvement(run, ctx.judged),
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

/// The tests and profiles ran at once: a failure of one while the other
/// passed is confirmed by running it again alone (a suite that writes
/// fixed paths in the work tree could trip over the profiled test), and the
/// second answer stands. Not re-run: both failing (the candidate breaks the
/// target test), a suite whose failing tests lie outside the profiled
/// test's file, a suite that timed out.
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
    let tests_failed = !tests.passed;
    let test_file = ctx.req.target_test.split("::").next().unwrap_or_default();
    let beside = |id: &Value| id.as_str().is_some_and(|id| id.starts_with(test_file));
    let failing = tests.figures["failing"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let collided = tests.figures.get("timed_out_after_s").is_none()
        && (failing.is_empty() || failing.iter().any(beside));
    let (tests_again, profiles_again) = match (tests_failed, profile_failed) {
        (true, false) => (collided, false),
        (false, true) => (false, true),
        _ => (false, false),
    };
    let tests = if tests_again {
        let (mut again, s) = self::tests(ctx, cancel).await?;
        again.summary = format!(
            "{}; run again alone: it had failed while the target test was profiled beside it",
            again.summary
        );
        (again, tests_s + s)
    } else {
        (tests, tests_s)
    };
    let hot_path = if profiles_again {
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
