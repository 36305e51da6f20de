//! The MCP stdio server: a thin adapter that turns tool calls into calls of
//! the core and core errors into `isError` results the agent can act on.

use rmcp::handler::server::router::prompt::PromptRouter;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::model::{
    Implementation, ListResourcesResult, PaginatedRequestParams, PromptMessage,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource,
    ResourceContents, Role, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{prompt, prompt_handler, prompt_router, tool, tool_handler, tool_router};
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use schemars::JsonSchema;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use std::collections::BTreeMap;
use std::sync::Arc;

use rmcp::model::ProgressNotificationParam;

use crate::bench::{self, Isolation, Progress, RunRequest, RunResult};
use crate::doctor::{self, DoctorRequest, EnvironmentReport};
use crate::generate::{self, GenerateRequest, GeneratedScript};
use crate::history::{self, HistoryRequest, HistoryResult};
use crate::keep::{self, KeepRequest, KeepResult};
use crate::references::{self, REFERENCES};
use crate::template::ScriptSpec;

const INSTRUCTIONS: &str = "abbench answers one question for an optimization loop: is variant B of this Python code a clear, repeatable improvement over variant A?\n\
1. generate_ab_script writes micro_bench_<name>.py: bench_a = current code, bench_b = optimized code, same real input (domains: cpu/data_structures, async, memory, structure).\n\
2. run_ab_benchmark runs A and B in fresh, interleaved processes with the project's Python and returns a verdict with a confidence interval.\n\
3. check_keep_conditions decides keep / needs_e2e / discard from the four keep conditions (clear gain above the domain threshold, tests pass, simple change, hot path per cProfile).\n\
check_environment (read-only) says which Python would run for a project and why, what each domain needs, and how noisy the machine is.\n\
Read abbench://references/micro-benchmark.md for the method and abbench://references/tools.md for every argument.";

/// Arguments of `generate_ab_script`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateArgs {
    /// Short identifier of the benchmark, 1-64 characters from A-Z a-z 0-9 _ (e.g. "parse_rows"). The file is micro_bench_<name>.py.
    pub name: String,
    /// What is measured: "cpu" (per-call seconds via timeit; "data_structures" is an alias), "async" (wall seconds of an asyncio.gather batch), "memory" (peak bytes under memray), "structure" (import seconds).
    pub domain: String,
    /// Python run once at module level before either variant: imports and building the real input (e.g. "import json\nrows = load_rows('data.csv')"). Both variants see the same objects. Default: none.
    #[serde(default)]
    pub setup: Option<String>,
    /// Body of bench_a, the CURRENT approach, as Python statements (e.g. "return slow_parse(rows)"). For async, the body of an `async def` (may `await`). Indentation is normalised.
    pub code_a: String,
    /// Body of bench_b, the OPTIMIZED approach, on the same input (e.g. "return fast_parse(rows)"). For async, the body of an `async def`.
    pub code_b: String,
    /// cpu/structure: calls (imports) per timeit repeat, used as given (the reference uses 1000 for cpu, 10 for structure). Default: calibrated at run time so one repeat takes ~0.05-0.2 s.
    #[serde(default)]
    pub number: Option<u32>,
    /// cpu/structure: timeit repeats per process; async: timed gather batches per process. The process reports the median. Default 5.
    #[serde(default)]
    pub repeat: Option<u32>,
    /// async only: coroutines run at once with asyncio.gather inside asyncio.run. Default 10.
    #[serde(default)]
    pub concurrency: Option<u32>,
    /// structure only (required there): module names whose import is timed, e.g. ["mypkg.heavy", "pandas"]; they and their submodules are removed from sys.modules before each import.
    #[serde(default)]
    pub modules: Option<Vec<String>>,
    /// Directory to write the script into (must exist). Default: the system temp directory (e.g. /tmp).
    #[serde(default)]
    pub dir: Option<String>,
    /// Command of the project's Python, split into words without a shell (e.g. "python3", ".venv/bin/python", "uv run python"): it compile-checks the script and the returned commands use it. Default: detected from `cwd` exactly as run_ab_benchmark detects it. ("python" is accepted as an old name.)
    #[serde(default, alias = "python")]
    pub runner: Option<String>,
    /// Where the script will run: the project root or a folder in it (the runner is detected from here). Default: the server's working directory.
    #[serde(default)]
    pub cwd: Option<String>,
}

impl From<GenerateArgs> for GenerateRequest {
    fn from(a: GenerateArgs) -> Self {
        GenerateRequest {
            spec: ScriptSpec {
                name: a.name,
                domain: None,
                setup: a.setup.unwrap_or_default(),
                code_a: a.code_a,
                code_b: a.code_b,
                number: a.number,
                repeat: a.repeat,
                concurrency: a.concurrency,
                modules: a.modules.unwrap_or_default(),
            },
            dir: a.dir.map(Into::into),
            runner: a.runner,
            cwd: a.cwd.map(Into::into),
        }
    }
}

/// Arguments of `run_ab_benchmark`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunArgs {
    /// Path of the A/B script (from generate_ab_script, or hand-written so that `python script.py a|b` runs a variant), e.g. "/tmp/micro_bench_parse_rows.py". Relative paths are taken from `cwd`.
    pub script: String,
    /// cpu, data_structures, async, memory or structure. Default: read from a generated script; required for a hand-written one.
    #[serde(default)]
    pub domain: Option<String>,
    /// Command that runs the project's Python, split into words without a shell, e.g. "python3", ".venv/bin/python", "uv run python", "poetry run python". Default: detected in `cwd` (.venv/bin/python, venv/bin/python, uv run python with uv.lock, poetry run python with poetry.lock, else python3); the result says which and why.
    #[serde(default)]
    pub runner: Option<String>,
    /// Working directory of every process (the project root, so its imports resolve). Default: the server's working directory.
    #[serde(default)]
    pub cwd: Option<String>,
    /// Environment variables merged over the server's, e.g. {"PYTHONPATH": "src"}.
    #[serde(default)]
    pub env: Option<BTreeMap<String, String>>,
    /// cpu/async/structure: the gain B must beat, as a fraction (gain = A/B - 1). Default 0.20 (20 %, i.e. speedup 1.2x).
    #[serde(default)]
    pub min_gain: Option<f64>,
    /// memory: bytes B must save (A - B) to pass. Default 10485760 (10 MiB). Passing either memory threshold suffices.
    #[serde(default)]
    pub min_saved_bytes: Option<u64>,
    /// memory: fraction of A's peak B must save ((A - B) / A) to pass. Default 0.10.
    #[serde(default)]
    pub min_saved_fraction: Option<f64>,
    /// How the variants share processes. "paired" (default for cpu, async and structure with a generated script): every fresh process runs A and B in alternating blocks in a random order, and its A/B ratio is one sample, which cancels the machine's noise A and B share. "process" (always for memory, and for hand-written scripts): each process runs one variant, A and B processes interleaved. The result's `design` says which ran and why.
    #[serde(default)]
    pub isolation: Option<Isolation>,
    /// Pairs (paired design: processes) before the first look at the statistics. Default: chosen by the design (paired: 6, or 12 for very noisy code; process: 5; memory: 4); at least 6 paired, 4 otherwise.
    #[serde(default)]
    pub min_pairs: Option<usize>,
    /// Most pairs (paired design: processes each running both; process design: one A and one B process) before giving up as inconclusive (min_pairs to 200). Default 30.
    #[serde(default)]
    pub max_pairs: Option<usize>,
    /// Wall-clock budget of the whole run in seconds; the run stops with the pairs it has when the next pair would exceed it. Default 300.
    #[serde(default)]
    pub max_seconds: Option<f64>,
    /// Timeout of one process in seconds; past it the process group is killed and the call fails naming the variant. Default 120.
    #[serde(default)]
    pub timeout_s: Option<f64>,
    /// Seed of the random A/B order inside pairs; the result reports the seed used, pass it again to repeat the schedule. Default: from the clock.
    #[serde(default)]
    pub seed: Option<u64>,
    /// memory: when memray is not importable by the runner, measure with the script's tracemalloc figure instead (with a warning) rather than fail. Default true.
    #[serde(default)]
    pub allow_fallback: Option<bool>,
}

impl RunArgs {
    fn into_request(self) -> Result<RunRequest, String> {
        let d = RunRequest::default();
        Ok(RunRequest {
            script: self.script.into(),
            domain: self
                .domain
                .map(|s| s.parse())
                .transpose()
                .map_err(|e| format!("{e}"))?,
            runner: self.runner,
            cwd: self.cwd.map(Into::into),
            env: self.env.unwrap_or_default(),
            min_gain: self.min_gain,
            min_saved_bytes: self.min_saved_bytes,
            min_saved_fraction: self.min_saved_fraction,
            isolation: self.isolation,
            min_pairs: self.min_pairs,
            max_pairs: self.max_pairs.unwrap_or(d.max_pairs),
            max_seconds: self.max_seconds.unwrap_or(d.max_seconds),
            timeout_s: self.timeout_s.unwrap_or(d.timeout_s),
            seed: self.seed,
            allow_fallback: self.allow_fallback.unwrap_or(d.allow_fallback),
        })
    }
}

/// Arguments of `check_keep_conditions`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeepArgs {
    /// The run_id returned by run_ab_benchmark (it stays valid across server restarts).
    pub run_id: String,
    /// The project's git work tree, with the candidate change applied (e.g. "/home/me/shop").
    pub repo: String,
    /// The FULL test suite, run in `repo`, split into words without a shell, e.g. "python3 -m pytest -q" or ".venv/bin/pytest -q". Passes iff it exits 0.
    pub test_command: String,
    /// The optimized function: "path/to/file.py::func", "path/to/file.py::Class.method" or dotted "pkg.module.func" (paths relative to `repo`).
    pub target_function: String,
    /// The test that exercises the function, profiled with cProfile on the base and on the candidate: a pytest node id ("tests/test_inv.py::test_count") or path, or a script path.
    pub target_test: String,
    /// The base revision: the change is the work tree (tracked changes and untracked files) against it; when the work tree is clean and base is HEAD, HEAD against its parent. Default "HEAD".
    #[serde(default)]
    pub base: Option<String>,
    /// Command of the project's Python, split into words, e.g. ".venv/bin/python". Default: detected in `repo` as run_ab_benchmark does.
    #[serde(default)]
    pub runner: Option<String>,
    /// simplicity: most net added lines (added - removed, untracked files count). Default 30.
    #[serde(default)]
    pub max_added_lines: Option<i64>,
    /// simplicity: most files changed. Default 3.
    #[serde(default)]
    pub max_files: Option<usize>,
    /// simplicity: most McCabe complexity increase of any changed function (a new function counts from 1). Default 2.
    #[serde(default)]
    pub max_complexity_increase: Option<i64>,
    /// hot_path: least share (fraction) of the target test's time the function must take on the base. Default 0.05 for cpu/data_structures/async, 0 for memory/structure.
    #[serde(default)]
    pub min_hot_share: Option<f64>,
    /// Timeout in seconds of the test command and of each profiling run. Default 900.
    #[serde(default)]
    pub tests_timeout_s: Option<f64>,
}

impl From<KeepArgs> for KeepRequest {
    fn from(a: KeepArgs) -> Self {
        let d = KeepRequest::default();
        KeepRequest {
            run_id: a.run_id,
            repo: a.repo.into(),
            test_command: a.test_command,
            target_function: a.target_function,
            target_test: a.target_test,
            base: a.base.unwrap_or(d.base),
            runner: a.runner,
            max_added_lines: a.max_added_lines.unwrap_or(d.max_added_lines),
            max_files: a.max_files.unwrap_or(d.max_files),
            max_complexity_increase: a
                .max_complexity_increase
                .unwrap_or(d.max_complexity_increase),
            min_hot_share: a.min_hot_share,
            tests_timeout_s: a.tests_timeout_s.unwrap_or(d.tests_timeout_s),
        }
    }
}

/// Arguments of `benchmark_history`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryArgs {
    /// Only runs whose script path contains this, e.g. the benchmark name "parse_rows".
    #[serde(default)]
    pub name: Option<String>,
    /// Only runs of this domain: cpu, data_structures, async, memory or structure.
    #[serde(default)]
    pub domain: Option<String>,
    /// Only runs with a keep decision about a function whose name contains this, e.g. "parse_rows".
    #[serde(default)]
    pub function: Option<String>,
    /// Most runs returned, newest first (1 to 1000). Default 20.
    #[serde(default)]
    pub limit: Option<usize>,
    /// Only runs at or after this RFC 3339 time, e.g. "2026-11-27T09:00:00Z" (a bare date means its midnight UTC).
    #[serde(default)]
    pub since: Option<String>,
}

/// Arguments of `check_environment`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentArgs {
    /// The project directory (or a folder in it) whose Python would run, e.g. "/home/me/shop". Default: the server's working directory.
    #[serde(default)]
    pub cwd: Option<String>,
    /// A Python command to check instead of the detected one, e.g. ".venv/bin/python" or "uv run python".
    #[serde(default)]
    pub runner: Option<String>,
    /// Environment variables as run_ab_benchmark would get them (an active VIRTUAL_ENV here counts).
    #[serde(default)]
    pub env: Option<BTreeMap<String, String>>,
}

/// Arguments of the `ab_workflow` prompt.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct WorkflowArgs {
    /// The function being optimized, e.g. "src/app/parse.py::parse_rows".
    pub function: String,
    /// The domain: cpu, data_structures, async, memory or structure.
    pub domain: String,
}

/// The abbench MCP server.
#[derive(Clone)]
pub struct AbbenchServer {
    tool_router: ToolRouter<Self>,
    prompt_router: PromptRouter<Self>,
    /// Cancelled when the server shuts down (client gone, SIGTERM):
    /// every long-running call stops and kills its processes.
    shutdown: CancellationToken,
}

impl Default for AbbenchServer {
    fn default() -> Self {
        Self::new(CancellationToken::new())
    }
}

/// A token cancelled by either the request's own cancellation or the
/// server's shutdown, whichever comes first.
fn request_token(request: &CancellationToken, shutdown: &CancellationToken) -> CancellationToken {
    let token = shutdown.child_token();
    let (request, linked) = (request.clone(), token.clone());
    tokio::spawn(async move {
        tokio::select! {
            _ = request.cancelled() => linked.cancel(),
            _ = linked.cancelled() => {}
        }
    });
    token
}

#[tool_router]
impl AbbenchServer {
    /// A server with every tool and prompt registered; `shutdown` stops
    /// its long-running calls.
    pub fn new(shutdown: CancellationToken) -> Self {
        AbbenchServer {
            tool_router: Self::tool_router(),
            prompt_router: Self::prompt_router(),
            shutdown,
        }
    }

    #[tool(
        name = "generate_ab_script",
        description = "Write an A/B micro-benchmark script micro_bench_<name>.py for one domain: bench_a holds the current code, bench_b the optimized code, both on the same input from `setup`; `python script.py a|b` runs one variant and prints one `ABBENCH {json}` line with the measured value. The script is compile-checked first (a syntax error names setup/code_a/code_b and the line within it; nothing is written). Returns the path, the full script, the commands to run each variant, what the value means and the domain's threshold. Next: run_ab_benchmark with the path.",
        annotations(
            title = "Generate A/B micro-benchmark script",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn generate_ab_script(
        &self,
        Parameters(args): Parameters<GenerateArgs>,
    ) -> Result<Json<GeneratedScript>, String> {
        let domain = args.domain.parse().map_err(|e| format!("{e}"))?;
        let mut request = GenerateRequest::from(args);
        request.spec.domain = Some(domain);
        generate::generate(&request)
            .await
            .map(Json)
            .map_err(|e| e.to_string())
    }

    #[tool(
        name = "run_ab_benchmark",
        description = "Run an A/B script with the project's Python until the statistics settle. Time domains (cpu, async, structure) use the paired design by default: an uncounted pilot chooses block length and rounds, then every fresh process runs A and B in alternating blocks in a random order and its A/B ratio is one sample (exact signed-rank test; looks at 6, 12, 24, 30 processes with the 5 % error split over them). Memory runs each variant in its own processes under memray (its own peak above the setup baseline; memray is provisioned outside the project when missing). Returns run_id, verdict (above_threshold | below_threshold | regression | inconclusive) with its reason, speedup/gain or saved_bytes/saved_fraction with confidence bounds, the design that ran and why, checks of the pairing, both arms' values, the exact commands, warnings and the environment. Only one measurement runs at a time on the machine. Sends progress after every process when given a progress token; cancelling kills the running processes. Next: check_keep_conditions with the run_id.",
        annotations(
            title = "Run A/B micro-benchmark",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn run_ab_benchmark(
        &self,
        Parameters(args): Parameters<RunArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<RunResult>, String> {
        let request = args.into_request()?;
        let token = ctx.meta.get_progress_token();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Progress>();
        let peer = ctx.peer.clone();
        let forwarder = tokio::spawn(async move {
            while let Some(p) = rx.recv().await {
                if let Some(token) = &token {
                    let param =
                        ProgressNotificationParam::new(token.clone(), p.processes_done as f64)
                            .with_total(p.processes_total as f64)
                            .with_message(p.message);
                    let _ = peer.notify_progress(param).await;
                }
            }
        });
        let progress: Arc<dyn Fn(Progress) + Send + Sync> = Arc::new(move |p| {
            let _ = tx.send(p);
        });
        let cancel = request_token(&ctx.ct, &self.shutdown);
        let outcome = bench::run_ab(&request, None, &cancel, progress).await;
        // Every progress notification goes out before the result.
        let _ = forwarder.await;
        outcome.map(Json).map_err(|e| e.to_string())
    }

    #[tool(
        name = "check_keep_conditions",
        description = "Decide whether a candidate optimization may be kept on the micro-benchmark alone. Evaluates all four conditions and reports each with its figures: improvement (the run's verdict is above_threshold), tests (the full test command exits 0; counts and failing test ids), simplicity (files and net lines changed, new imports, dependency files, McCabe complexity of every changed function, from git against `base`), hot_path (cProfile of target_test on a temporary worktree of the base and on the candidate: calls, cumulative seconds, share of the test's time, rank). Returns decision keep | needs_e2e | discard with the reason, the blocking conditions and the next step; the decision is recorded in the ledger next to its run. Never modifies the work tree.",
        annotations(
            title = "Check keep conditions",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn check_keep_conditions(
        &self,
        Parameters(args): Parameters<KeepArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<KeepResult>, String> {
        let cancel = request_token(&ctx.ct, &self.shutdown);
        keep::check(&KeepRequest::from(args), None, &cancel)
            .await
            .map(Json)
            .map_err(|e| e.to_string())
    }

    #[tool(
        name = "check_environment",
        description = "Read-only: what abbench would run for a project directory, and whether it would work. Returns the runner and why (every detection rule tried: runner, VIRTUAL_ENV, .venv / venv / uv.lock / poetry.lock from cwd up to the project root, python3), the interpreter's version, whether memray, pytest and pip import and what abbench would provision (memray, outside the project), git / uv / codeflash on PATH, each domain's readiness, and how noisy the machine is (cores, CPU model, load, CPU time taken by other work and by the hypervisor, frequency governor, turbo, other abbench runs and the machine lock). Every problem comes with the command that fixes it. Installs and writes nothing.",
        annotations(
            title = "Check environment",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn check_environment(
        &self,
        Parameters(args): Parameters<EnvironmentArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<EnvironmentReport>, String> {
        let request = DoctorRequest {
            cwd: args.cwd.map(Into::into),
            runner: args.runner,
            env: args.env.unwrap_or_default(),
        };
        let cancel = request_token(&ctx.ct, &self.shutdown);
        Ok(Json(doctor::check(&request, &cancel).await))
    }

    #[tool(
        name = "benchmark_history",
        description = "List earlier run_ab_benchmark runs from the ledger, newest first, with their verdicts, estimates (speedup or saved bytes with bounds) and any keep decisions. Filter by benchmark name, domain, function or time. Read-only.",
        annotations(
            title = "Benchmark history",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn benchmark_history(
        &self,
        Parameters(args): Parameters<HistoryArgs>,
    ) -> Result<Json<HistoryResult>, String> {
        let request = HistoryRequest {
            name: args.name,
            domain: args
                .domain
                .map(|d| d.parse())
                .transpose()
                .map_err(|e| format!("{e}"))?,
            function: args.function,
            limit: args.limit.unwrap_or(history::DEFAULT_LIMIT),
            since: args.since,
        };
        tokio::task::spawn_blocking(move || history::history(&request, None))
            .await
            .map_err(|e| e.to_string())?
            .map(Json)
            .map_err(|e| e.to_string())
    }
}

// The macro emits an undocumented `pub fn ab_workflow_prompt_attr`.
#[allow(missing_docs)]
#[prompt_router]
impl AbbenchServer {
    /// The `ab_workflow` prompt: generate → run → check keep for one function.
    #[prompt(
        name = "ab_workflow",
        description = "Walk through one A/B decision for a function: generate the script, run it, check the keep conditions."
    )]
    async fn ab_workflow(
        &self,
        Parameters(args): Parameters<WorkflowArgs>,
    ) -> Result<Vec<PromptMessage>, ErrorData> {
        let domain: crate::domain::Domain = args
            .domain
            .parse()
            .map_err(|e| ErrorData::invalid_params(format!("{e}"), None))?;
        let threshold = domain.default_threshold().description;
        let function = &args.function;
        let text = format!(
            "You are optimizing `{function}` in the {domain} domain. Decide with abbench whether your optimized version may be kept.\n\n\
             1. Call generate_ab_script with a short `name`, domain \"{domain}\", `setup` that builds the REAL input the function sees in production \
             (not a toy), `code_a` calling the current `{function}`, and `code_b` calling your optimized version on the same input. \
             Keep both variants behaviourally identical.\n\
             2. Call run_ab_benchmark with the returned `path` (and `runner`/`cwd`/`env` if the project uses a virtualenv, uv, poetry or PYTHONPATH). \
             Read `verdict`: only `above_threshold` ({threshold}) counts as a clear, repeatable win; look at `warnings`.\n\
             3. Apply the change in the work tree and call check_keep_conditions with the `run_id`, the repo, the full test command, \
             target_function \"{function}\" and the test that exercises it.\n\
             4. Act on `decision`: keep → commit; needs_e2e → run the end-to-end comparison named in `next_step`; discard → revert.\n\n\
             Report the figures with their units and the verdict's reason; never round a gain up to the threshold."
        );
        Ok(vec![PromptMessage::new_text(Role::User, text)])
    }
}

#[tool_handler(router = self.tool_router)]
#[prompt_handler(router = self.prompt_router)]
impl ServerHandler for AbbenchServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_prompts()
                .enable_resources()
                .build(),
        )
        .with_server_info(Implementation::new(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
        ))
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let resources = REFERENCES
            .iter()
            .map(|r| {
                Resource::new(references::uri(r.file), r.file)
                    .with_title(r.title)
                    .with_description(r.description)
                    .with_mime_type("text/markdown")
                    .with_size(r.text.len() as u64)
            })
            .collect();
        Ok(ListResourcesResult::with_all_items(resources))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let reference = references::by_uri(&request.uri).ok_or_else(|| {
            let known: Vec<String> = REFERENCES.iter().map(|r| references::uri(r.file)).collect();
            ErrorData::resource_not_found(
                format!("no resource {:?}; known: {}", request.uri, known.join(", ")),
                None,
            )
        })?;
        Ok(
            ReadResourceResult::new(vec![ResourceContents::text(reference.text, request.uri)])
                .into(),
        )
    }
}

/// How long in-flight calls get to wind down after the client has gone.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Serves MCP on stdin/stdout until the client disconnects or the process
/// gets SIGTERM/SIGINT; then cancels in-flight calls, kills any process
/// group still running, and returns.
pub async fn serve_stdio() -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};

    let shutdown = CancellationToken::new();
    let io = crate::mcp_stdio::guard(shutdown.clone());
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let on_signal = shutdown.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        on_signal.cancel();
    });

    let service = AbbenchServer::new(shutdown.clone())
        .serve((io.reader, io.writer))
        .await?;
    let waiting = service.waiting();
    tokio::pin!(waiting);
    tokio::select! {
        _ = &mut waiting => {}
        _ = shutdown.cancelled() => {
            // In-flight calls were cancelled with it; let them report and stop.
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, &mut waiting).await;
        }
    }
    crate::process::kill_all_groups();
    Ok(())
}
