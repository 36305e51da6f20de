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

use crate::generate::{self, GenerateRequest, GeneratedScript};
use crate::references::{self, REFERENCES};
use crate::template::ScriptSpec;

const INSTRUCTIONS: &str = "abbench answers one question for an optimization loop: is variant B of this Python code a clear, repeatable improvement over variant A?\n\
1. generate_ab_script writes micro_bench_<name>.py: bench_a = current code, bench_b = optimized code, same real input (domains: cpu/data_structures, async, memory, structure).\n\
2. run_ab_benchmark runs A and B in fresh, interleaved processes with the project's Python and returns a verdict with a confidence interval.\n\
3. check_keep_conditions decides keep / needs_e2e / discard from the four keep conditions (clear gain above the domain threshold, tests pass, simple change, hot path per cProfile).\n\
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
    /// Command of the Python that compile-checks the script, split into words without a shell (e.g. "python3", ".venv/bin/python", "uv run python"). Default "python3".
    #[serde(default)]
    pub python: Option<String>,
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
            python: a.python,
        }
    }
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
}

impl Default for AbbenchServer {
    fn default() -> Self {
        Self::new()
    }
}

#[tool_router]
impl AbbenchServer {
    /// A server with every tool and prompt registered.
    pub fn new() -> Self {
        AbbenchServer {
            tool_router: Self::tool_router(),
            prompt_router: Self::prompt_router(),
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

/// Serves MCP on stdin/stdout until the client disconnects.
pub async fn serve_stdio() -> anyhow::Result<()> {
    let service = AbbenchServer::new().serve(rmcp::transport::stdio()).await?;
    service.waiting().await?;
    Ok(())
}
