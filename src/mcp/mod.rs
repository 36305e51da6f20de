//! The MCP stdio server: a thin adapter that turns tool calls into calls of
//! the core and core errors into `isError` results the agent can act on.

use rmcp::handler::server::router::prompt::PromptRouter;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::model::{
    CompleteRequestParams, CompleteResult, CompletionInfo, Icon, Implementation,
    ListResourcesResult, PaginatedRequestParams, PromptMessage, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, Reference, Resource, ResourceContents, Role,
    ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::task_manager::TaskManager;
use rmcp::{prompt, prompt_handler, prompt_router, tool, tool_handler, tool_router};
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use schemars::JsonSchema;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use std::sync::Arc;

use rmcp::model::ProgressNotificationParam;

use crate::bench::{self, RunRequest, RunResult};
use crate::doctor::{self, DoctorRequest, EnvironmentReport};
use crate::e2e::{self, E2eRequest, E2eResult};
use crate::generate::{self, GenerateRequest, GeneratedScript};
use crate::history::{self, HistoryRequest, HistoryResult};
use crate::keep::{self, KeepRequest, KeepResult};
use crate::measure::progress::Progress;
use log::{Level, LogFloor};
use portable::{make_portable, Contract};
use references::REFERENCES;

mod log;
mod portable;
mod references;
pub(crate) mod stdio;
mod tasks;

const INSTRUCTIONS: &str = "abbench answers one question for an optimization loop: is variant B of this Python code a clear, repeatable improvement over variant A?\n\
1. generate_ab_script writes micro_bench_<name>.py: bench_a = current code, bench_b = optimized code, same real input (domains: cpu/data_structures, async, memory, structure); with `target` + `call`, A is the committed code taken from git and B the work tree's.\n\
2. run_ab_benchmark runs A and B in fresh, interleaved processes with the project's Python and returns a verdict with a confidence interval.\n\
3. check_keep_conditions decides keep / needs_e2e / discard from the four keep conditions (clear gain above the domain threshold, tests pass, simple change, hot path per cProfile).\n\
4. on needs_e2e, run_e2e_benchmark runs the project's real workload on the base (a temporary git worktree) and the work tree and judges it end to end; check_keep_conditions with its run as e2e_run_id then decides.\n\
check_environment (read-only) says which Python would run for a project and why, what each domain needs, and how noisy the machine is.\n\
Read abbench://references/micro-benchmark.md for the method and abbench://references/tools.md for every argument.";

/// Arguments of the `ab_workflow` prompt.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct WorkflowArgs {
    /// The function being optimized, e.g. "src/app/parse.py::parse_rows".
    pub function: String,
    /// The domain: cpu, data_structures, async, memory or structure.
    pub domain: String,
}

/// abbench's icon, an SVG served as a data URI.
fn icon() -> Icon {
    const SVG: &str = include_str!("../../assets/abbench.svg");
    let mut icon = Icon::new(format!(
        "data:image/svg+xml;base64,{}",
        base64(SVG.as_bytes())
    ));
    icon.mime_type = Some("image/svg+xml".into());
    icon.sizes = Some(vec!["any".into()]);
    icon
}

/// Standard base64 with padding (RFC 4648), for the icon's data URI (one
/// call, tested against the RFC's vectors: not worth a dependency).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The abbench MCP server.
#[derive(Clone)]
pub struct AbbenchServer {
    tool_router: ToolRouter<Self>,
    prompt_router: PromptRouter<Self>,
    /// Cancelled when the server shuts down (client gone, SIGTERM):
    /// every long-running call stops and kills its processes.
    shutdown: CancellationToken,
    /// The level the client set with `logging/setLevel`.
    log: LogFloor,
    /// Calls running as tasks (see `tasks`).
    tasks: TaskManager,
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
    /// The tools, as routed (the task path calls them through this).
    pub(crate) fn routes(&self) -> &ToolRouter<Self> {
        &self.tool_router
    }

    /// A server with every tool and prompt registered; `shutdown` stops
    /// its long-running calls.
    pub fn new(shutdown: CancellationToken) -> Self {
        let mut tool_router = Self::tool_router();
        for route in tool_router.map.values_mut() {
            let tool = &mut route.attr;
            make_portable(Arc::make_mut(&mut tool.input_schema), Contract::Input);
            if let Some(output) = &mut tool.output_schema {
                make_portable(Arc::make_mut(output), Contract::Output);
            }
            tool.icons = Some(vec![icon()]);
        }
        AbbenchServer {
            tool_router,
            prompt_router: Self::prompt_router(),
            shutdown,
            log: LogFloor::default(),
            tasks: TaskManager::new(),
        }
    }

    #[tool(
        name = "generate_ab_script",
        title = "Generate A/B micro-benchmark script",
        description = "Write an A/B micro-benchmark script micro_bench_<name>.py for one domain: bench_a runs the current code, bench_b the optimized code, both on the same input from `setup`; `python script.py a|b` runs one variant and prints one `ABBENCH {json}` line with the measured value. Preferred, the revision form: `target` (path/file.py::func) and `call` — A is the target's file as committed at `base` (default HEAD, taken from git and embedded), B the work tree's, so nothing is copied by hand; the free form takes `code_a`/`code_b`. The script is compile-checked first (a syntax error names setup/code_a/code_b/call and the line within it), and in the revision form both variants are import-checked (a missing target, an import error with file and line, or no change at all is an error; nothing is written). Then setup and each variant run once (A twice) on their own copies of setup's objects, and B's result is compared with A's: return value, setup's objects after the call, stdout (`equivalence`: strict, unordered or off; floats within `rel_tol`). An exception names its argument and line (nothing is written); a difference is a warning quoting the first difference. Returns the path, the full script, `equivalence`, the commands to run each variant, what the value means and the domain's threshold. Next: run_ab_benchmark with the path.",
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
        Parameters(request): Parameters<GenerateRequest>,
    ) -> Result<Json<GeneratedScript>, String> {
        generate::generate(&request)
            .await
            .map(Json)
            .map_err(|e| e.to_string())
    }

    #[tool(
        name = "run_ab_benchmark",
        title = "Run A/B micro-benchmark",
        description = "Run an A/B script with the project's Python until the statistics settle. Before any timing, one process checks that B computes what A computes on the script's input (return values, setup's objects after the call, stdout; see `equivalence`): when they differ the verdict is different_results, with the first difference, and nothing is timed. Time domains (cpu, async, structure) use the paired design by default: an uncounted pilot chooses block length and rounds, then every fresh process runs A and B in alternating blocks in a random order and its A/B ratio is one sample (exact signed-rank test; looks at 6, 12, 24, 30 processes with the 5 % error split over them). Memory runs each variant in its own processes under memray (its own peak above the setup baseline; memray is provisioned outside the project when missing). Returns run_id, verdict (above_threshold | below_threshold | regression | inconclusive | different_results) with its reason, `equivalence` (same | different | nondeterministic | not_checked), speedup/gain or saved_bytes/saved_fraction with confidence bounds, the design that ran and why, checks of the pairing, both arms' values, the exact commands, warnings and the environment. Only one measurement runs at a time on the machine. Sends progress after every process when given a progress token; cancelling kills the running processes. Next: check_keep_conditions with the run_id.",
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
        Parameters(request): Parameters<RunRequest>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<RunResult>, String> {
        let (progress, forwarder) = self.progress(&ctx);
        let cancel = request_token(&ctx.ct, &self.shutdown);
        let outcome = bench::run_ab(&request, None, &cancel, progress).await;
        // Every progress notification goes out before the result.
        let _ = forwarder.await;
        if let Ok(result) = &outcome {
            self.warn(&ctx, &result.warnings).await;
        }
        outcome.map(Json).map_err(|e| e.to_string())
    }

    #[tool(
        name = "run_e2e_benchmark",
        title = "Run end-to-end benchmark",
        description = "The second phase, for a needs_e2e decision: run the project's real workload (`command`: a benchmark script, a pytest test, a console script; no shell) on the base revision, checked out into a temporary git worktree, and on the work tree with the candidate, in fresh processes in a random order inside each pair, one uncounted warm-up each, with planned looks (5, 10, 20, 30 pairs) and the 5 % error split over them, under the machine lock. The value is the workload process's wall time (memory: its peak under memray); the threshold defaults to a 5 % end-to-end gain. With `target_functions`, each function's own time, calls, gain and share of the workload on base and candidate are measured inside every process (sys.monitoring on 3.12+, a sys.setprofile filter before). Returns run_id, verdict (above_threshold | below_threshold | regression | inconclusive) with its reason and bounds, both revisions' values, the exact commands, the noise and the gain it can detect, and warnings. A command failing on either revision is an error naming which, with its exit status and stderr. The worktree is removed however the call ends; nothing is written into the work tree. Next: check_keep_conditions with `e2e_run_id`.",
        annotations(
            title = "Run end-to-end benchmark",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn run_e2e_benchmark(
        &self,
        Parameters(request): Parameters<E2eRequest>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<E2eResult>, String> {
        let (progress, forwarder) = self.progress(&ctx);
        let cancel = request_token(&ctx.ct, &self.shutdown);
        let outcome = e2e::run_e2e(&request, None, &cancel, progress).await;
        let _ = forwarder.await;
        if let Ok(result) = &outcome {
            self.warn(&ctx, &result.warnings).await;
        }
        outcome.map(Json).map_err(|e| e.to_string())
    }

    #[tool(
        name = "check_keep_conditions",
        title = "Check keep conditions",
        description = "Decide whether a candidate optimization may be kept on the micro-benchmark alone. Evaluates all four conditions and reports each with its figures: improvement (the run's verdict is above_threshold), tests (the full test command exits 0; counts and failing test ids), simplicity (files and net lines changed, new imports, dependency files, McCabe complexity of every changed function, from git against `base`), hot_path (cProfile of target_test on a temporary worktree of the base and on the candidate: calls, cumulative seconds, share of the test's time, rank). A run whose verdict is different_results is discarded, whatever the tests say (the candidate changes behaviour). Returns decision keep | needs_e2e | discard with the reason, the blocking conditions and the next step; the decision is recorded in the ledger next to its run. Never modifies the work tree.",
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
        Parameters(request): Parameters<KeepRequest>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<KeepResult>, String> {
        let cancel = request_token(&ctx.ct, &self.shutdown);
        keep::check(&request, None, &cancel)
            .await
            .map(Json)
            .map_err(|e| e.to_string())
    }

    #[tool(
        name = "check_environment",
        title = "Check environment",
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
        Parameters(request): Parameters<DoctorRequest>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<EnvironmentReport>, String> {
        let cancel = request_token(&ctx.ct, &self.shutdown);
        Ok(Json(doctor::check(&request, &cancel).await))
    }

    #[tool(
        name = "benchmark_history",
        title = "Benchmark history",
        description = "List earlier run_ab_benchmark runs from the ledger, newest first, with their verdicts, estimates (speedup or saved bytes with bounds) and any keep decisions, and the run_e2e_benchmark runs (`e2e_runs`, each linked to the micro run it confirms). Filter by benchmark name, domain, function or time. Read-only.",
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
        Parameters(request): Parameters<HistoryRequest>,
    ) -> Result<Json<HistoryResult>, String> {
        tokio::task::spawn_blocking(move || history::history(&request, None))
            .await
            .map_err(|e| e.to_string())?
            .map(Json)
            .map_err(|e| e.to_string())
    }
}

impl AbbenchServer {
    /// A progress callback for a measuring tool, and the task forwarding
    /// what it reports as progress notifications (with the request's token)
    /// and info log lines; it ends when the callback is dropped.
    fn progress(
        &self,
        ctx: &RequestContext<RoleServer>,
    ) -> (
        Arc<dyn Fn(Progress) + Send + Sync>,
        tokio::task::JoinHandle<()>,
    ) {
        let token = ctx.meta.get_progress_token();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Progress>();
        let (peer, log) = (ctx.peer.clone(), self.log.clone());
        let forwarder = tokio::spawn(async move {
            while let Some(p) = rx.recv().await {
                let message = p.message();
                if let Some(token) = &token {
                    let param =
                        ProgressNotificationParam::new(token.clone(), p.processes_done as f64)
                            .with_total(p.processes_total as f64)
                            .with_message(message.clone());
                    let _ = peer.notify_progress(param).await;
                }
                log.send(&peer, Level::Info, &message).await;
            }
        });
        let progress: Arc<dyn Fn(Progress) + Send + Sync> = Arc::new(move |p| {
            let _ = tx.send(p);
        });
        (progress, forwarder)
    }

    /// A result's warnings as warning log lines.
    async fn warn(&self, ctx: &RequestContext<RoleServer>, warnings: &[String]) {
        for warning in warnings {
            self.log.send(&ctx.peer, Level::Warning, warning).await;
        }
    }
}

// The macro emits an undocumented `pub fn ab_workflow_prompt_attr`.
#[allow(missing_docs)]
#[prompt_router]
impl AbbenchServer {
    /// The `ab_workflow` prompt: generate → run → check keep for one function.
    #[prompt(
        name = "ab_workflow",
        title = "A/B decision for one function",
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
             1. Edit `{function}` in the work tree, then call generate_ab_script in the revision form: a short `name`, domain \"{domain}\", \
             `target` \"{function}\" (plus any helper you changed), `setup` that builds the REAL input the function sees in production (not a toy), \
             and `call` running it on that input (e.g. \"return func(ROWS)\"); `cwd` the project. A is then the committed code (`base`, default HEAD), \
             B the work tree's: do not copy the old code by hand. Keep both behaviourally identical: abbench runs each once and compares results, \
             inputs after the call and stdout, and a difference is a warning here and the verdict different_results in the run. \
             Only where the revision form cannot load the module (C extensions, the structure domain) use `code_a`/`code_b`.\n\
             2. Call run_ab_benchmark with the returned `path` (and `runner`/`cwd`/`env` if the project uses a virtualenv, uv, poetry or PYTHONPATH). \
             Read `verdict`: only `above_threshold` ({threshold}) counts as a clear, repeatable win; `different_results` means B computes something else \
             (`equivalence.first_difference` says where): fix B or drop it; look at `warnings`.\n\
             3. Call check_keep_conditions with the `run_id`, the repo, the full test command and the test that exercises it \
             (the run recorded target_function and base; in the free form pass target_function \"{function}\").\n\
             4. Act on `decision`: keep → commit; discard → revert; needs_e2e → call run_e2e_benchmark as `next_step` says (the project's real workload as `command`, \
             target_functions [\"{function}\"]), then check_keep_conditions again with its run_id as `e2e_run_id`.\n\n\
             Report the figures with their units and the verdict's reason; never round a gain up to the threshold."
        );
        Ok(vec![PromptMessage::new_text(Role::User, text)])
    }
}

#[tool_handler(router = self.tool_router)]
#[prompt_handler(router = self.prompt_router)]
impl ServerHandler for AbbenchServer {
    #[allow(deprecated)] // logging: see mcp_log
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_prompts()
                .enable_resources()
                .enable_completions()
                .enable_logging()
                .enable_tasks()
                .build(),
        )
        .with_server_info(
            Implementation::new(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
                .with_title("abbench: A/B micro-benchmarks")
                .with_description(env!("CARGO_PKG_DESCRIPTION"))
                .with_website_url(env!("CARGO_PKG_REPOSITORY"))
                .with_icons(vec![icon()]),
        )
        .with_instructions(INSTRUCTIONS)
    }

    async fn call_tool(
        &self,
        request: rmcp::model::CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::CallToolResponse, ErrorData> {
        if tasks::as_task(&request, &context) {
            let server = self.clone();
            let name = request.name.to_string();
            return Ok(tasks::spawn(&self.tasks, &name, move |cancel| async move {
                let mut context = context;
                context.ct = cancel;
                let call =
                    rmcp::handler::server::tool::ToolCallContext::new(&server, request, context);
                server.routes().call(call).await
            }));
        }
        let call = rmcp::handler::server::tool::ToolCallContext::new(self, request, context);
        self.tool_router.call(call).await
    }

    async fn get_task(
        &self,
        request: rmcp::model::GetTaskParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::GetTaskResult, ErrorData> {
        self.tasks
            .get_task(&request.task_id)
            .map(rmcp::model::GetTaskResult::new)
    }

    async fn cancel_task(
        &self,
        request: rmcp::model::CancelTaskParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.tasks.cancel_task(&request.task_id)
    }

    #[allow(deprecated)]
    async fn set_level(
        &self,
        request: rmcp::model::SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.log.set(request.level);
        Ok(())
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        let values = match &request.r#ref {
            Reference::Prompt(p) if p.name == "ab_workflow" => {
                let (name, typed) = (
                    request.argument.name.clone(),
                    request.argument.value.clone(),
                );
                tokio::task::spawn_blocking(move || history::complete(&name, &typed, None))
                    .await
                    .unwrap_or_default()
            }
            _ => Vec::new(),
        };
        let info = CompletionInfo::with_all_values(values)
            .map_err(|e| ErrorData::internal_error(e, None))?;
        Ok(CompleteResult::new(info))
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
        // The same MIME type as the listing (rmcp's `text` helper says text/plain).
        let contents = ResourceContents::TextResourceContents {
            uri: request.uri,
            mime_type: Some("text/markdown".into()),
            text: reference.text.into(),
            meta: None,
        };
        Ok(ReadResourceResult::new(vec![contents]).into())
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
    let io = stdio::guard(shutdown.clone());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_pads_as_rfc_4648_says() {
        for (text, encoded) in [("Man", "TWFu"), ("Ma", "TWE="), ("M", "TQ=="), ("", "")] {
            assert_eq!(base64(text.as_bytes()), encoded);
        }
        assert!(icon().src.starts_with("data:image/svg+xml;base64,PHN2Zy"));
    }
}
