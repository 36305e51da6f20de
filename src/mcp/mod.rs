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

use crate::bench::{self, RunRequest};
use crate::doctor::{self, DoctorRequest, EnvironmentReport};
use crate::e2e::{self, E2eRequest};
use crate::generate::{self, GenerateRequest};
use crate::history::{self, HistoryRequest};
use crate::keep::{self, KeepRequest};
use crate::measure::progress::Progress;
use answers::{Answer, E2eAnswer, GenerateAnswer, HistoryAnswer, KeepAnswer, RunAnswer};
use log::{Level, LogFloor};
use portable::{make_portable, plain_choices, terse, Contract};
use references::REFERENCES;

mod answers;
mod log;
mod portable;
mod prompt;
mod references;
pub(crate) mod stdio;
mod tasks;

const INSTRUCTIONS: &str = "abbench tells an optimization loop whether variant B of Python code is a clear, repeatable improvement over A. 1. generate_ab_script (revision form: `target` + `call`) writes the A/B script and checks B computes what A computes. 2. run_ab_benchmark runs A and B alternately inside fresh processes (paired design) to a verdict with bounds. 3. check_keep_conditions decides keep / needs_e2e / discard. 4. On needs_e2e, run_e2e_benchmark times the real workload on the base and the work tree; then check_keep_conditions with `e2e_run_id`. Pass `cwd` (the project); abbench finds its Python. Details: abbench://references/tools.md.";

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
            if let Some(answer) = answers::schema(&tool.name) {
                tool.output_schema = Some(answer);
            }
            make_portable(Arc::make_mut(&mut tool.input_schema), Contract::Input);
            plain_choices(Arc::make_mut(&mut tool.input_schema));
            if let Some(output) = &mut tool.output_schema {
                make_portable(Arc::make_mut(output), Contract::Output);
                terse(Arc::make_mut(output));
            }
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
        description = "Write the A/B script micro_bench_<name>.py after editing a hot function: bench_a = current code, bench_b = optimized, same real input from `setup`. Prefer the revision form (`target` + `call`: A from git, B the work tree) for cpu, async and memory; structure takes `modules` with `code_a`/`code_b`. Runs each variant once and compares their results. Returns `path`, `equivalence`, `next_step`.",
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
    ) -> Result<Answer<GenerateAnswer>, String> {
        let generated = generate::generate(&request)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Answer(GenerateAnswer::of(
            &generated,
            request.include_script,
            request.detail,
            request.cwd.as_deref(),
        )))
    }

    #[tool(
        name = "run_ab_benchmark",
        title = "Run A/B micro-benchmark",
        description = "Run an A/B script to an honest verdict: first checks B computes what A computes (else different_results), then runs A and B alternately in fresh processes. Returns `verdict`, `reason`, `speedup` or `saved_bytes` with bounds, `run_id`, `next_step`, `warnings`.",
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
    ) -> Result<Answer<RunAnswer>, String> {
        let (progress, forwarder) = self.progress(&ctx);
        let cancel = request_token(&ctx.ct, &self.shutdown);
        let outcome = bench::run_ab(&request, None, &cancel, progress).await;
        // Every progress notification goes out before the result.
        let _ = forwarder.await;
        let result = outcome.map_err(|e| e.to_string())?;
        self.warn(&ctx, &result.warnings).await;
        Ok(Answer(RunAnswer::of(&result, request.detail)))
    }

    #[tool(
        name = "run_e2e_benchmark",
        title = "Run end-to-end benchmark",
        description = "After needs_e2e: time the project's real workload (`command`) on the base (a temporary git worktree) and the work tree to an end-to-end verdict, with `target_functions`' own gain inside it. Returns `verdict`, `reason`, bounds, `targets`, `run_id`, `next_step`.",
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
    ) -> Result<Answer<E2eAnswer>, String> {
        let (progress, forwarder) = self.progress(&ctx);
        let cancel = request_token(&ctx.ct, &self.shutdown);
        let outcome = e2e::run_e2e(&request, None, &cancel, progress).await;
        let _ = forwarder.await;
        let result = outcome.map_err(|e| e.to_string())?;
        self.warn(&ctx, &result.warnings).await;
        Ok(Answer(E2eAnswer::of(&result, request.detail)))
    }

    #[tool(
        name = "check_keep_conditions",
        title = "Check keep conditions",
        description = "Decide keep | needs_e2e | discard after run_ab_benchmark (change in the work tree): verdict above the threshold, full tests pass, simple change, function on the hot path of `target_test`. Returns `decision`, `reason`, `next_step`, each condition.",
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
    ) -> Result<Answer<KeepAnswer>, String> {
        let cancel = request_token(&ctx.ct, &self.shutdown);
        let result = keep::check(&request, None, &cancel)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Answer(KeepAnswer::of(&result, request.detail)))
    }

    #[tool(
        name = "check_environment",
        title = "Check environment",
        description = "Read-only: which Python abbench would use for a project and why, what each domain needs (with fixes), and how noisy the machine is.",
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
        description = "Earlier runs, newest first: verdicts, estimates, decisions. `run_id` returns one run's whole record.",
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
    ) -> Result<Answer<HistoryAnswer>, String> {
        let result = tokio::task::spawn_blocking(move || history::history(&request, None))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        Ok(Answer(HistoryAnswer::of(&result)))
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
        let text = prompt::workflow(&args.function, domain, &args.domain);
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

/// How long calls cancelled by a signal get to answer (rmcp's own drain
/// bound on cancellation).
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// How long the last answers get to reach a client that stopped reading.
const FLUSH_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Serves MCP on stdin/stdout until the client closes stdin or the process
/// gets SIGTERM/SIGINT. Either way every request read so far is answered
/// (calls in flight are cancelled first, their processes killed, and answer
/// that they were), stdout is flushed, and any process group still running
/// is killed. An idle server stops at once on a signal.
pub async fn serve_stdio() -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};

    let shutdown = CancellationToken::new();
    let signalled = CancellationToken::new();
    let io = stdio::guard(shutdown.clone());
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let (on_signal, stop) = (shutdown.clone(), signalled.clone());
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        on_signal.cancel();
        stop.cancel();
    });

    let service = AbbenchServer::new(shutdown.clone())
        .serve((io.reader, io.writer))
        .await?;
    let rmcp_stop = service.cancellation_token();
    let waiting = service.waiting();
    tokio::pin!(waiting);
    tokio::select! {
        // stdin ended: rmcp answered what it had read and stopped.
        _ = &mut waiting => {}
        _ = signalled.cancelled() => {
            // Calls in flight were cancelled with `shutdown`; rmcp stops
            // reading and sends their answers before it ends.
            rmcp_stop.cancel();
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, &mut waiting).await;
        }
    }
    crate::process::kill_all_groups();
    io.input.abort();
    let _ = tokio::time::timeout(FLUSH_GRACE, io.output).await;
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
