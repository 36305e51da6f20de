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
}
