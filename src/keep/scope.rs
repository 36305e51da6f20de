//! Which files are the change, for the simplicity condition. What serves
//! the measurement is not the change: files the agent copied into the e2e
//! base (a workload script, its data), and untracked Python files that no
//! changed module imports (a scratch script, a workload not yet copied).
//! Files the agent names in `change_files` always count.

use crate::git::FileChange;

/// The change's files split into those counted and those set aside, each
/// with why.
#[derive(Debug, Default)]
pub(super) struct Scope {
    pub(super) counted: Vec<FileChange>,
    /// (path, why it is not counted).
    pub(super) set_aside: Vec<(String, &'static str)>,
}

/// Why a file was set aside, as the summary says it.
const COPIED: &str = "copied into the e2e base to measure";
const UNIMPORTED: &str = "untracked and imported by no changed module";

/// Splits `files`: `copied` are the e2e run's `copied_to_base`, `named` the
/// request's `change_files`, `importers` the candidate's text of the
/// changed tracked Python files and the target's file.
pub(super) fn split(
    files: &[FileChange],
    copied: &[String],
    named: &[String],
    importers: &[String],
) -> Scope {
    let imported: Vec<Vec<&str>> = importers.iter().map(|t| imported_names(t)).collect();
    let mut scope = Scope::default();
    for f in files {
        let why = if under(&f.path, named) {
            None
        } else if under(&f.path, copied) {
            Some(COPIED)
        } else if f.untracked && f.path.ends_with(".py") && !imported_anywhere(&f.path, &imported) {
            Some(UNIMPORTED)
        } else {
            None
        };
        match why {
            Some(why) => scope.set_aside.push((f.path.clone(), why)),
            None => scope.counted.push(f.clone()),
        }
    }
    scope
}

/// Whether `path` is one of `paths` or lies under one of them.
pub(super) fn under(path: &str, paths: &[String]) -> bool {
    paths.iter().any(|d| {
        let d = d.trim_start_matches("./").trim_end_matches('/');
        path == d || path.starts_with(&format!("{d}/"))
    })
}

impl Scope {
    /// "; not counted: a.py (why), b.py (why)", or nothing.
    pub(super) fn summary(&self) -> String {
        if self.set_aside.is_empty() {
            return String::new();
        }
        let listed: Vec<String> = self
            .set_aside
            .iter()
            .map(|(p, why)| format!("{p} ({why})"))
            .collect();
        let hint = if self.set_aside.iter().any(|(_, why)| *why == UNIMPORTED) {
            "; name a file in change_files if it is part of the change"
        } else {
            ""
        };
        format!("; not counted: {}{hint}", listed.join(", "))
    }
}

/// Whether the module `path` names (`pkg/helpers.py` → `helpers`, a
/// package's `__init__.py` → its directory) appears in any import.
fn imported_anywhere(path: &str, imported: &[Vec<&str>]) -> bool {
    let p = std::path::Path::new(path);
    let stem = match p.file_stem().and_then(|s| s.to_str()) {
        Some("__init__") => p
            .parent()
            .and_then(|d| d.file_name())
            .and_then(|s| s.to_str()),
        other => other,
    };
    stem.is_some_and(|stem| imported.iter().flatten().any(|name| *name == stem))
}

/// Every identifier in the import statements of `source` (module paths and
/// imported names, parenthesised continuations included): a rough reading
/// that errs on the side of counting a file.
fn imported_names(source: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut open = false;
    for line in source.lines() {
        let t = line.trim_start();
        let starts = t.starts_with("import ") || t.starts_with("from ");
        if !(starts || open) {
            continue;
        }
        let code = t.split('#').next().unwrap_or("");
        if starts {
            open = code.contains('(') && !code.contains(')');
        } else if code.contains(')') {
            open = false;
        }
        names.extend(
            code.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .filter(|w| !w.is_empty()),
        );
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, untracked: bool) -> FileChange {
        FileChange {
            path: path.into(),
            added: 10,
            removed: 0,
            untracked,
        }
    }

    #[test]
    fn an_unimported_untracked_script_and_copied_files_are_set_aside() {
        let files = [
            file("pkg/core.py", false),
            file("pkg/fast.py", true),
            file("bench_workload.py", true),
            file("data/input.json", true),
            file("notes.txt", true),
        ];
        let core = "import os\nfrom . import (\n    util,\n    fast,\n)\n".to_string();
        let s = split(&files, &["data".into()], &[], &[core]);
        let counted: Vec<&str> = s.counted.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(counted, ["pkg/core.py", "pkg/fast.py", "notes.txt"]);
        assert_eq!(
            s.set_aside,
            [
                ("bench_workload.py".to_string(), UNIMPORTED),
                ("data/input.json".to_string(), COPIED)
            ]
        );
        assert!(s
            .summary()
            .contains("bench_workload.py (untracked and imported by no changed module)"));
        assert!(s.summary().contains("change_files"));
    }

    #[test]
    fn a_named_file_always_counts() {
        let files = [file("pkg/core.py", false), file("tools/gen.py", true)];
        let s = split(
            &files,
            &["tools".into()],
            &["tools/gen.py".into()],
            &[String::new()],
        );
        assert_eq!(s.counted.len(), 2);
        assert!(s.set_aside.is_empty() && s.summary().is_empty());
    }

    #[test]
    fn a_new_package_imported_by_its_directory_name_counts() {
        let files = [file("pkg/accel/__init__.py", true)];
        let s = split(
            &files,
            &[],
            &[],
            &["from pkg.accel import run  # fast path".into()],
        );
        assert_eq!(s.counted.len(), 1);
    }
}
