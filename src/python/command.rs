//! Turns a user's command string (`python3`, `.venv/bin/python`,
//! `uv run python`) into argv words, the way a shell would split them but
//! without a shell ever seeing them.

/// A command string that cannot be split or is empty.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CommandError {
    /// Nothing to run.
    #[error("`{field}` is empty: give a command such as \"python3\"")]
    Empty {
        /// The argument holding the command.
        field: &'static str,
    },
    /// Unbalanced quotes or a trailing backslash.
    #[error(
        "`{field}` = {value:?} cannot be split into words: {reason} (quotes must be balanced)"
    )]
    Unsplittable {
        /// The argument holding the command.
        field: &'static str,
        /// The string given.
        value: String,
        /// What the splitter said.
        reason: String,
    },
    /// A NUL byte, which no argv word can hold.
    #[error("`{field}` contains a NUL byte")]
    Nul {
        /// The argument holding the command.
        field: &'static str,
    },
}

/// Splits `value` into argv words; `field` names the argument in errors.
pub fn split_command(field: &'static str, value: &str) -> Result<Vec<String>, CommandError> {
    if value.contains('\0') {
        return Err(CommandError::Nul { field });
    }
    let words = shell_words::split(value).map_err(|e| CommandError::Unsplittable {
        field,
        value: value.to_string(),
        reason: e.to_string(),
    })?;
    if words.is_empty() {
        return Err(CommandError::Empty { field });
    }
    Ok(words)
}

/// `python`, `python3`, `python3.12`: the runner stands in for it.
pub(crate) fn is_python(program: &str) -> bool {
    let rest = match program.strip_prefix("python") {
        Some(rest) => rest,
        None => return false,
    };
    rest.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// What an interpreter's arguments run, past its own options.
pub(crate) enum PythonRuns<'a> {
    /// `-m MODULE`.
    Module(&'a str),
    /// A script path.
    Script(&'a str),
    /// `-c CODE`, or nothing.
    Other,
}

pub(crate) fn python_runs(args: &[String]) -> PythonRuns<'_> {
    let mut rest = args.iter();
    while let Some(w) = rest.next() {
        match w.as_str() {
            "-m" => {
                return rest
                    .next()
                    .map_or(PythonRuns::Other, |m| PythonRuns::Module(m))
            }
            "-c" => return PythonRuns::Other,
            // Options that take a value.
            "-X" | "-W" => {
                rest.next();
            }
            w if w.starts_with('-') => {}
            script => return PythonRuns::Script(script),
        }
    }
    PythonRuns::Other
}

/// The script a `python SCRIPT …` command runs (`python3`, or an
/// interpreter named by its path); `None` for `-m`/`-c` and other programs.
pub(crate) fn script_of(words: &[String]) -> Option<&str> {
    let program = std::path::Path::new(words.first()?).file_name()?.to_str()?;
    if !is_python(program) {
        return None;
    }
    match python_runs(&words[1..]) {
        PythonRuns::Script(script) => Some(script),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_a_shell_without_one() {
        assert_eq!(
            split_command("runner", "uv run python").unwrap(),
            ["uv", "run", "python"]
        );
        assert_eq!(
            split_command("runner", "python3; touch /tmp/pwned").unwrap(),
            ["python3;", "touch", "/tmp/pwned"]
        );
        assert_eq!(
            split_command("runner", "'/opt/my py/python'").unwrap(),
            ["/opt/my py/python"]
        );
        assert!(matches!(
            split_command("runner", "  "),
            Err(CommandError::Empty { .. })
        ));
        assert!(matches!(
            split_command("runner", "\"python"),
            Err(CommandError::Unsplittable { .. })
        ));
    }

    #[test]
    fn python_words_are_recognised() {
        for p in ["python", "python3", "python3.12"] {
            assert!(is_python(p), "{p}");
        }
        for p in ["pytest", "pythonista", ".venv/bin/python", "ipython"] {
            assert!(!is_python(p), "{p}");
        }
    }
}
