//! Long tool calls as tasks (the `io.modelcontextprotocol/tasks` extension,
//! SEP-2663, as rmcp 3.11 implements it): when the client declares the
//! extension, `run_ab_benchmark` and `check_keep_conditions` answer at once
//! with a task; the client polls `tasks/get` (the result arrives inlined
//! when the task completes) and may `tasks/cancel` it, which cancels the
//! call as a request cancellation does: its processes are killed and its
//! worktrees removed. A client that does not declare it gets a normal call.

use std::time::Duration;

use std::future::Future;

use rmcp::model::{CallToolRequestParams, CallToolResponse, CreateTaskResult};
use rmcp::service::RequestContext;
use rmcp::task_manager::{TaskExit, TaskManager, TaskOptions};
use rmcp::{ErrorData, RoleServer};
use tokio_util::sync::CancellationToken;

/// The tools a task-capable client gets as tasks.
pub const TASK_TOOLS: [&str; 3] = [
    "run_ab_benchmark",
    "run_e2e_benchmark",
    "check_keep_conditions",
];

/// How long a task and its result are kept: longer than any run's budget.
const TASK_TTL: Duration = Duration::from_secs(4 * 3600);

/// Whether this call should become a task.
pub fn as_task(request: &CallToolRequestParams, context: &RequestContext<RoleServer>) -> bool {
    TASK_TOOLS.contains(&request.name.as_ref())
        && context
            .client_capabilities()
            .is_some_and(|c| c.supports_tasks())
}

/// Starts `call` (tool `name`) as a task of `tasks` and returns its
/// handle; `call` gets the token that tasks/cancel cancels.
pub fn spawn<F, Fut>(tasks: &TaskManager, name: &str, call: F) -> CallToolResponse
where
    F: FnOnce(CancellationToken) -> Fut + Send + 'static,
    Fut: Future<Output = Result<CallToolResponse, ErrorData>> + Send + 'static,
{
    let options = TaskOptions::new()
        .with_ttl_ms(TASK_TTL.as_millis() as u64)
        .with_poll_interval_ms(1000)
        .with_status_message(format!("{name} running"));
    let task = tasks.spawn(options, move |task| {
        Box::pin(async move {
            // The call's own token: cancelled by tasks/cancel (the request
            // itself has already been answered with the task).
            let cancel = CancellationToken::new();
            let watched = task.clone();
            let token = cancel.clone();
            let watcher = tokio::spawn(async move {
                watched.cancelled().await;
                token.cancel();
            });
            let outcome = call(cancel).await;
            watcher.abort();
            if task.is_cancel_requested() {
                return Err(TaskExit::Cancelled);
            }
            match outcome {
                Ok(CallToolResponse::Complete(result)) => Ok(result),
                Ok(_) => Err(TaskExit::Error(ErrorData::internal_error(
                    "a tool answered a task with something other than a result",
                    None,
                ))),
                Err(e) => Err(TaskExit::Error(e)),
            }
        })
    });
    CallToolResponse::Task(CreateTaskResult::new(task))
}
