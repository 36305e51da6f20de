//! The `ab_workflow` prompt's text: the loop for one function, told for its
//! domain, so it never asks for an argument that domain refuses or ignores
//! (`template::unused_arguments`; tests/answers.rs checks every domain).

use crate::domain::Domain;

/// The workflow for `function` in `domain` (`given`: the domain as the user
/// named it, e.g. `data_structures`).
pub fn workflow(function: &str, domain: Domain, given: &str) -> String {
    let threshold = domain.default_threshold().description;
    let generate = match domain {
        Domain::Structure => format!(
            "1. Make the import of the code around `{function}` cheaper, then call generate_ab_script in the free form \
             (the revision form cannot time imports): a short `name`, domain \"structure\", `modules` listing every module whose \
             import you changed and the modules it pulls in, `code_a` importing them as the committed code does and `code_b` \
             as your change does (e.g. `setup` puts a copy of the committed package first on sys.path for A). \
             `cwd` the project. Structure scripts compare import times, not results."
        ),
        _ => format!(
            "1. Edit `{function}` in the work tree, then call generate_ab_script in the revision form: a short `name`, domain \"{given}\", \
             `target` \"{function}\" (plus any helper you changed), and its REAL input: when a test or workload calls the function, \
             `inputs_from` {{\"test\": \"<its test id>\"}} (or {{\"command\": ...}}) replays the calls it really receives there, edge cases \
             included; else `setup` that builds the input it sees in production (not a toy) and `call` running it (e.g. \"return func(ROWS)\"). \
             `cwd` the project. A is then the committed \
             code (`base`, default HEAD), B the work tree's: do not copy the old code by hand. abbench runs each once and compares \
             results, inputs after the call and stdout: `equivalence` says whether B computes what A computes. \
             Only where the revision form cannot load the module (C extensions, modules that patch others on import) use `code_a`/`code_b`."
        ),
    };
    format!(
        "You are optimizing `{function}` in the {given} domain. Decide with abbench whether your optimized version may be kept.\n\n\
         {generate}\n\
         2. Call run_ab_benchmark with the returned `path` and the same `cwd` (abbench finds the project's Python: a virtualenv, \
         uv or poetry; pass `runner` only to override it, `env` for e.g. PYTHONPATH). Read `verdict`: only `above_threshold` \
         ({threshold}) counts as a clear, repeatable win; `different_results` means B computes something else (`equivalence.detail` \
         says where): fix B or drop it; read `warnings`.\n\
         3. Call check_keep_conditions as `next_step` says: the `run_id`, the repo, the full test command and the test that \
         exercises the function (a revision-form run supplies target_function and base; in the free form pass target_function \"{function}\").\n\
         4. Act on `decision`: keep → commit; discard → revert; needs_e2e → call run_e2e_benchmark as `next_step` says (the \
         project's real workload as `command`, target_functions [\"{function}\"]), then check_keep_conditions again with its \
         run_id as `e2e_run_id`.\n\n\
         Report the figures with their units and the verdict's reason; never round a gain up to the threshold."
    )
}
