//! Everything abbench knows about the project's Python, in one place:
//! which interpreter runs ([`runner`], detected with every rule tried),
//! how a command string becomes argv words ([`command`]), what that
//! interpreter is and imports ([`probe`]), and abbench's embedded helper
//! scripts run with it, JSON in and out, cancellable ([`helper`]).

pub mod command;
pub(crate) mod helper;
pub(crate) mod probe;
pub mod runner;

/// abbench's embedded Python, run with `python -c`.
pub(crate) mod scripts {
    /// Compile-checks a script's parts and skeleton (one-shot or `--serve`).
    pub(crate) const COMPILE_CHECK: &str = include_str!("compile_check.py");
    /// Runs a revision-form script's `check` mode in a fork per request (a
    /// line worker); run it after [`COMPILED`], whose `_compiled` it calls.
    pub(crate) const IMPORT_CHECK: &str = include_str!("import_check.py");
    /// The equivalence check (`_verify`, `_main`): does B compute what A
    /// computes? Run as a program by run_ab_benchmark, inside the
    /// import-check worker by generate_ab_script.
    pub(crate) const VERIFY: &str = include_str!("verify.py");
    /// `_compiled`: compile() with a content-keyed bytecode cache, shared by
    /// the import-check worker and the generated scripts' loader.
    pub(crate) const COMPILED: &str = include_str!("../templates/compiled.py");
    /// run_e2e_benchmark's hook, written as `sitecustomize.py` first on the
    /// workload's PYTHONPATH: target timers, memray, foreign imports.
    pub(crate) const E2E_HOOK: &str =
        concat!(include_str!("hook_common.py"), include_str!("e2e_hook.py"));
    /// What an interpreter is and imports.
    pub(crate) const PROBE: &str = include_str!("probe.py");
    /// Changed functions, their complexity, new imports, a function's line.
    pub(crate) const PYINFO: &str = include_str!("pyinfo.py");
    /// A target function's figures from a cProfile file.
    pub(crate) const PSTATS_READ: &str = include_str!("pstats_read.py");
}
