//! Which Python runs the variants: the caller's `runner`, or the project's
//! own interpreter detected in the working directory, with the reason.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::python_cmd::{split_command, CommandError};

/// The Python command and why it was chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Runner {
    /// argv words, never given to a shell.
    pub argv: Vec<String>,
    /// How it was chosen, e.g. "given as `runner`" or ".venv/bin/python exists in /proj".
    pub chosen_because: String,
}

impl Runner {
    /// The command as a person would type it (shell-quoted; only ever shown).
    pub fn shown(&self) -> String {
        shell_words::join(&self.argv)
    }
}

/// Finds `program` on PATH like a shell would (an executable regular file).
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

/// The caller's runner, or the detected one for `cwd`.
///
/// Detection order: `.venv/bin/python`, `venv/bin/python`, `uv run python`
/// (uv.lock and `uv` on PATH), `poetry run python` (poetry.lock and
/// `poetry` on PATH), else `python3`.
pub fn resolve(given: Option<&str>, cwd: &Path) -> Result<Runner, CommandError> {
    if let Some(given) = given {
        return Ok(Runner {
            argv: split_command("runner", given)?,
            chosen_because: "given as `runner`".into(),
        });
    }
    let cwd_shown = cwd.display();
    for venv in [".venv", "venv"] {
        let python = cwd.join(venv).join("bin").join("python");
        if python.exists() {
            return Ok(Runner {
                argv: vec![python.display().to_string()],
                chosen_because: format!("{venv}/bin/python exists in {cwd_shown}"),
            });
        }
    }
    for (lock, tool) in [("uv.lock", "uv"), ("poetry.lock", "poetry")] {
        if cwd.join(lock).exists() && find_on_path(tool).is_some() {
            return Ok(Runner {
                argv: vec![tool.into(), "run".into(), "python".into()],
                chosen_because: format!("{lock} exists in {cwd_shown} and `{tool}` is on PATH"),
            });
        }
    }
    Ok(Runner {
        argv: vec!["python3".into()],
        chosen_because: format!(
            "no .venv/bin/python, venv/bin/python, uv.lock (with uv) or poetry.lock (with poetry) in {cwd_shown}: python3 from PATH"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_order() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let r = resolve(None, d).unwrap();
        assert_eq!(r.argv, ["python3"]);
        assert!(r.chosen_because.contains("python3 from PATH"));

        std::fs::write(d.join("poetry.lock"), "").unwrap();
        // poetry is not installed here: the lock file alone does not choose it
        if find_on_path("poetry").is_none() {
            assert_eq!(resolve(None, d).unwrap().argv, ["python3"]);
        }
        std::fs::create_dir_all(d.join("venv/bin")).unwrap();
        std::fs::write(d.join("venv/bin/python"), "").unwrap();
        assert!(resolve(None, d).unwrap().argv[0].ends_with("venv/bin/python"));
        std::fs::create_dir_all(d.join(".venv/bin")).unwrap();
        std::fs::write(d.join(".venv/bin/python"), "").unwrap();
        let r = resolve(None, d).unwrap();
        assert!(r.argv[0].ends_with(".venv/bin/python"));
        assert!(r.chosen_because.starts_with(".venv/bin/python exists"));

        let given = resolve(Some("uv run python"), d).unwrap();
        assert_eq!(given.argv, ["uv", "run", "python"]);
    }
}
