//! Which Python runs the variants: the caller's `runner`, or the project's
//! own interpreter, detected as [`resolve`] says, with every rule tried.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::python::command::{split_command, CommandError};

/// The Python command and why it was chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Runner {
    /// argv words, never given to a shell.
    pub argv: Vec<String>,
    /// How it was chosen, e.g. "given as `runner`" or ".venv/bin/python exists in /proj".
    pub chosen_because: String,
    /// Every detection rule tried, in order, with what it found.
    #[serde(default)]
    pub tried: Vec<String>,
}

/// Why no runner could be chosen.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunnerError {
    /// `runner` cannot be split into words.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// A lock file names a tool that is not installed.
    #[error("{lock} in {dir} makes this a {tool} project, but `{tool}` is not on PATH, so abbench cannot run the project's own Python: install {tool} ({install}), or pass `runner` naming the interpreter to use (e.g. \"{dir}/.venv/bin/python\")")]
    MissingTool {
        /// The lock file.
        lock: &'static str,
        /// The tool it needs.
        tool: &'static str,
        /// Where the lock file is.
        dir: String,
        /// How to install the tool.
        install: &'static str,
    },
}

/// Files that mark a project's root: detection walks up from `cwd` to the
/// first directory that holds one.
pub const PROJECT_MARKERS: [&str; 6] = [
    ".git",
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
    "uv.lock",
    "poetry.lock",
];

/// `cwd` and its parents up to the project root; just `cwd` when no
/// parent is a project root (a stray ~/.venv is never picked up).
pub fn project_dirs(cwd: &Path) -> Vec<PathBuf> {
    let cwd = std::path::absolute(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let mut dirs = Vec::new();
    for dir in cwd.ancestors() {
        dirs.push(dir.to_path_buf());
        if PROJECT_MARKERS.iter().any(|m| dir.join(m).exists()) {
            return dirs;
        }
    }
    vec![cwd]
}

impl Runner {
    /// The command as a person would type it (shell-quoted; only ever shown).
    pub fn shown(&self) -> String {
        shell_words::join(&self.argv)
    }
}

/// Finds `program` on PATH like a shell would (an executable regular file).
/// Unix only, as the rest of process handling is; the `which` crate's value
/// is Windows' PATHEXT, which abbench does not run on.
pub fn find_on_path(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| {
            p.metadata()
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

/// Launchers that start an interpreter and step aside.
const LAUNCHERS: [&str; 7] = ["uv", "poetry", "pdm", "hatch", "pipenv", "rye", "pyenv"];

/// True for a text script (`#!` first), such as a pyenv shim.
fn is_script(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 2];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head == b"#!"
}

/// What measured processes can run instead of `runner`: the interpreter it
/// resolved to (`executable`, from the probe), when the runner is a
/// launcher (`uv run python`, `poetry run python`, …) or a shim script in
/// front of a Python (pyenv's `python3`). Each measured process then skips
/// the launcher's own start-up (130 ms for a pyenv shim here, more for
/// poetry) and runs the same interpreter in the same environment. `None`
/// when the runner already is an interpreter, or is something abbench does
/// not recognise (a container, a remote shell), which it runs as given.
pub fn direct(runner: &Runner, executable: &str) -> Option<String> {
    let exe = Path::new(executable);
    if !exe.is_absolute() || !exe.is_file() {
        return None;
    }
    let first = runner.argv.first()?;
    let name = Path::new(first).file_name()?.to_str()?;
    if LAUNCHERS.contains(&name) {
        return Some(executable.to_string());
    }
    if !name.starts_with("python") || runner.argv.len() != 1 {
        return None;
    }
    let program = if first.contains('/') {
        PathBuf::from(first)
    } else {
        find_on_path(first)?
    };
    is_script(&program).then(|| executable.to_string())
}

/// The project's own Python in `dir`: a virtualenv there, or the launcher
/// its lock file names (an error when that tool is missing); else why not.
#[allow(clippy::type_complexity)]
fn in_dir(dir: &Path) -> Result<Result<(Vec<String>, String), String>, RunnerError> {
    let shown = dir.display();
    for venv in [".venv", "venv"] {
        let python = dir.join(venv).join("bin").join("python");
        if python.exists() {
            return Ok(Ok((
                vec![python.display().to_string()],
                format!("{venv}/bin/python exists in {shown}"),
            )));
        }
    }
    for (lock, tool, install) in [
        (
            "uv.lock",
            "uv",
            "`python3 -m pip install uv`, or see https://docs.astral.sh/uv/",
        ),
        (
            "poetry.lock",
            "poetry",
            "`pipx install poetry`, or see https://python-poetry.org/docs/",
        ),
    ] {
        if dir.join(lock).exists() {
            if find_on_path(tool).is_none() {
                return Err(RunnerError::MissingTool {
                    lock,
                    tool,
                    dir: shown.to_string(),
                    install,
                });
            }
            return Ok(Ok((
                vec![tool.into(), "run".into(), "python".into()],
                format!("{lock} exists in {shown} and `{tool}` is on PATH"),
            )));
        }
    }
    let root = PROJECT_MARKERS
        .iter()
        .find(|m| dir.join(m).exists())
        .map(|m| format!(" (the project root: {m})"))
        .unwrap_or_default();
    Ok(Err(format!(
        "{shown}{root}: no .venv/bin/python, venv/bin/python, uv.lock or poetry.lock"
    )))
}

/// The caller's runner, or the detected one for `cwd`.
///
/// In order: `given`; an active virtualenv (`virtual_env`, from the
/// request's environment or abbench's own); then, from `cwd` up to the
/// project root, in each directory `.venv/bin/python`, `venv/bin/python`,
/// `uv run python` (uv.lock) and `poetry run python` (poetry.lock) — a lock
/// file whose tool is missing is an error, never a silent fallback; else
/// `python3` from PATH.
pub fn resolve(
    given: Option<&str>,
    cwd: &Path,
    virtual_env: Option<&Path>,
) -> Result<Runner, RunnerError> {
    let mut tried = Vec::new();
    let found = |argv: Vec<String>, why: String, mut tried: Vec<String>| {
        tried.push(format!("{why}: chosen"));
        Runner {
            argv,
            chosen_because: why,
            tried,
        }
    };
    if let Some(given) = given {
        return Ok(found(
            split_command("runner", given)?,
            "given as `runner`".into(),
            tried,
        ));
    }
    tried.push("`runner` not given".into());
    match virtual_env {
        Some(venv) => {
            let python = venv.join("bin").join("python");
            if python.exists() {
                return Ok(found(
                    vec![python.display().to_string()],
                    format!("the active virtualenv VIRTUAL_ENV={}", venv.display()),
                    tried,
                ));
            }
            tried.push(format!(
                "VIRTUAL_ENV={} has no bin/python: ignored",
                venv.display()
            ));
        }
        None => tried.push("no active virtualenv (VIRTUAL_ENV unset)".into()),
    }
    let dirs = project_dirs(cwd);
    for dir in &dirs {
        match in_dir(dir)? {
            Ok((argv, why)) => return Ok(found(argv, why, tried)),
            Err(not_here) => tried.push(not_here),
        }
    }
    let on_path = find_on_path("python3")
        .map(|p| format!(" ({})", p.display()))
        .unwrap_or_default();
    Ok(found(
        vec!["python3".into()],
        format!(
            "no virtualenv, uv.lock or poetry.lock from {} up to the project root: python3 from PATH{on_path}",
            cwd.display()
        ),
        tried,
    ))
}

/// The active virtualenv: `VIRTUAL_ENV` from `env` (the request's
/// variables), else from abbench's own environment.
pub fn active_virtualenv(env: &std::collections::BTreeMap<String, String>) -> Option<PathBuf> {
    env.get("VIRTUAL_ENV")
        .cloned()
        .or_else(|| std::env::var("VIRTUAL_ENV").ok())
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "").unwrap();
    }

    #[test]
    fn detection_order() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        touch(&d.join(".git/HEAD"));
        let r = resolve(None, d, None).unwrap();
        assert_eq!(r.argv, ["python3"]);
        assert!(r.chosen_because.contains("python3 from PATH"));
        assert!(
            r.tried.iter().any(|t| t.contains("the project root: .git")),
            "{:?}",
            r.tried
        );

        std::fs::write(d.join("poetry.lock"), "").unwrap();
        if find_on_path("poetry").is_none() {
            let err = resolve(None, d, None).unwrap_err().to_string();
            assert!(
                err.contains("poetry.lock")
                    && err.contains("not on PATH")
                    && err.contains("install poetry"),
                "{err}"
            );
        }
        touch(&d.join("venv/bin/python"));
        assert!(resolve(None, d, None).unwrap().argv[0].ends_with("venv/bin/python"));
        touch(&d.join(".venv/bin/python"));
        let r = resolve(None, d, None).unwrap();
        assert!(r.argv[0].ends_with(".venv/bin/python"));
        assert!(r.chosen_because.starts_with(".venv/bin/python exists"));

        // From a subfolder, detection walks up to the project root.
        let sub = d.join("src/pkg");
        std::fs::create_dir_all(&sub).unwrap();
        let r = resolve(None, &sub, None).unwrap();
        assert!(r.argv[0].ends_with(".venv/bin/python"), "{r:?}");
        assert!(
            r.tried.iter().any(|t| t.contains("src/pkg: no .venv")),
            "{:?}",
            r.tried
        );

        // An active virtualenv wins over the project's.
        let active = tempfile::tempdir().unwrap();
        touch(&active.path().join("bin/python"));
        let r = resolve(None, &sub, Some(active.path())).unwrap();
        assert!(
            r.argv[0].starts_with(&active.path().display().to_string()),
            "{r:?}"
        );
        assert!(r.chosen_because.contains("VIRTUAL_ENV"));

        let given = resolve(Some("uv run python"), d, None).unwrap();
        assert_eq!(given.argv, ["uv", "run", "python"]);
    }

    #[test]
    fn outside_a_project_only_cwd_is_searched() {
        let dir = tempfile::tempdir().unwrap();
        touch(&dir.path().join(".venv/bin/python"));
        let sub = dir.path().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        // No project marker anywhere up the tree: the parent's .venv is not taken.
        if project_dirs(&sub).len() == 1 {
            assert_eq!(resolve(None, &sub, None).unwrap().argv, ["python3"]);
        }
    }

    #[test]
    fn launchers_and_shims_resolve_to_their_interpreter() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("python3.11");
        std::fs::write(&exe, [0x7f, b'E', b'L', b'F']).unwrap();
        let shim = dir.path().join("python3");
        std::fs::write(&shim, "#!/bin/sh\nexec python3.11 \"$@\"\n").unwrap();
        let exe_s = exe.display().to_string();
        let runner = |argv: &[&str]| Runner {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            chosen_because: String::new(),
            tried: Vec::new(),
        };
        let via = |argv: &[&str]| direct(&runner(argv), &exe_s);
        assert_eq!(via(&[&shim.display().to_string()]), Some(exe_s.clone()));
        assert_eq!(via(&["uv", "run", "python"]), Some(exe_s.clone()));
        assert_eq!(via(&[&exe_s]), None, "an interpreter runs as it is");
        assert_eq!(via(&["docker", "run", "img", "python"]), None);
        assert_eq!(
            direct(&runner(&["uv", "run", "python"]), "/no/such/python"),
            None
        );
    }
}
