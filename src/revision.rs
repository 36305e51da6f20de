//! The revision form of `generate_ab_script`: variant A is the target
//! modules as committed at `base`, variant B the work tree's (or
//! `candidate`'s), both exercised by the same `call`. This module turns the
//! arguments into the facts the template embeds — each target's module
//! name, import root and source at both revisions — reading git, never
//! writing anything. The script's own loader (templates/revision.py) does
//! the rest at run time.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::git::{self, GitError, Repo};

/// The revision form's arguments, as `generate_ab_script` received them.
#[derive(Debug, Clone, Default)]
pub struct RevisionForm {
    /// `path/file.py::func` or `path/file.py::Class.method`, one or more.
    pub targets: Vec<String>,
    /// The revision A runs (default `HEAD`).
    pub base: Option<String>,
    /// The revision B runs instead of the work tree.
    pub candidate: Option<String>,
    /// The git work tree (or a folder in it).
    pub repo: PathBuf,
}

/// What a run records of where its variants' code came from (the script
/// carries it on its second line, so `run_ab_benchmark` and
/// `check_keep_conditions` read it from there).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RevisionInfo {
    /// The repository's top-level directory.
    pub repo: String,
    /// The base revision as given (e.g. "HEAD").
    pub base: String,
    /// Its full commit id: what bench_a runs.
    pub base_commit: String,
    /// The candidate revision as given; absent: the work tree (as it was when the script was generated, and as it is when the script runs).
    pub candidate: Option<String>,
    /// The candidate's full commit id, when it is a revision.
    pub candidate_commit: Option<String>,
    /// The targets, as given: path/file.py::func or path/file.py::Class.method.
    pub targets: Vec<String>,
    /// The modules that differ between A and B (everything else is the work tree's, shared).
    pub modules: Vec<String>,
}

impl RevisionInfo {
    /// Where A's code comes from, e.g. "1a2b3c4d5e6f (HEAD)".
    pub fn base_label(&self) -> String {
        format!("{} ({})", short(&self.base_commit), self.base)
    }

    /// Where B's code comes from: its commit the same way, or "the work tree".
    pub fn candidate_label(&self) -> String {
        match (&self.candidate, &self.candidate_commit) {
            (Some(rev), Some(commit)) => format!("{} ({rev})", short(commit)),
            _ => "the work tree".to_string(),
        }
    }
}

/// One target: a definition in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Path relative to the repository root, with `/`.
    pub file: String,
    /// `func` or `Class.method`.
    pub qualname: String,
}

impl Target {
    /// Reads `path/file.py::func` or `path/file.py::Class.method`.
    pub fn parse(text: &str) -> Result<Target, RevisionError> {
        let bad = || RevisionError::BadTarget(text.to_string());
        let (file, qualname) = text.trim().split_once("::").ok_or_else(bad)?;
        let file = file.trim_start_matches("./");
        let identifier = |w: &str| {
            let mut chars = w.chars();
            matches!(chars.next(), Some(c) if c == '_' || c.is_alphabetic())
                && chars.all(|c| c == '_' || c.is_alphanumeric())
        };
        let relative = !file.starts_with('/')
            && file
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != "..");
        if !file.ends_with(".py") || !relative || !qualname.split('.').all(identifier) {
            return Err(bad());
        }
        Ok(Target {
            file: file.to_string(),
            qualname: qualname.to_string(),
        })
    }

    /// The name the target binds in `call`: a function's name, a method's class.
    pub fn binding(&self) -> &str {
        self.qualname.split('.').next().unwrap_or(&self.qualname)
    }
}

/// A target module: its name, where it imports from, and its source at
/// each revision.
#[derive(Debug, Clone)]
pub struct TargetModule {
    /// Dotted module name, e.g. `shop.report`.
    pub name: String,
    /// Path relative to the repository root.
    pub file: String,
    /// Absolute path in the work tree (the module's `__file__`).
    pub path: PathBuf,
    /// True for a package's `__init__.py`.
    pub is_package: bool,
    /// The directory its top-level package imports from (put on `sys.path`).
    pub import_root: PathBuf,
    /// Its text at the base revision.
    pub base_source: String,
    /// Its text at the candidate revision; `None`: the work tree's file.
    pub candidate_source: Option<String>,
}

/// Everything the template needs to render the revision form.
#[derive(Debug, Clone)]
pub struct ResolvedRevision {
    /// What the run records.
    pub info: RevisionInfo,
    /// The targets, in the order given.
    pub targets: Vec<Target>,
    /// One per file named by a target, in the order first named.
    pub modules: Vec<TargetModule>,
}

impl ResolvedRevision {
    /// The same with every embedded source empty (what the compile check needs).
    pub fn without_sources(&self) -> ResolvedRevision {
        let mut light = self.clone();
        for m in &mut light.modules {
            m.base_source.clear();
            if let Some(c) = &mut m.candidate_source {
                c.clear();
            }
        }
        light
    }

    /// The module holding `target`.
    pub fn module_of(&self, target: &Target) -> &TargetModule {
        self.modules
            .iter()
            .find(|m| m.file == target.file)
            .expect("every target's module was resolved")
    }
}

/// Why the revision form cannot be rendered; each message says what to change.
#[derive(Debug, thiserror::Error)]
pub enum RevisionError {
    /// A target that is not `path/file.py::name`.
    #[error("`target` {0:?} is not path/file.py::func or path/file.py::Class.method: a .py path relative to the repository root, `::`, then the function or Class.method name")]
    BadTarget(String),
    /// git failed, or the directory is not a work tree.
    #[error(transparent)]
    Git(#[from] GitError),
    /// `base` or `candidate` names no commit.
    #[error("`{which}` {rev:?} is not a commit in {repo}: pass a branch, tag, commit id or HEAD~N (`git log --oneline` lists them)")]
    NotACommit {
        /// `base` or `candidate`.
        which: &'static str,
        /// As given.
        rev: String,
        /// The repository.
        repo: String,
    },
    /// A target file that does not exist at a revision.
    #[error("{file} does not exist at {which} {rev} ({commit}): check the path (relative to {repo}) or pick a revision that has it")]
    MissingAtRevision {
        /// The file.
        file: String,
        /// `base` or `candidate`.
        which: &'static str,
        /// The revision as given.
        rev: String,
        /// Its short commit id.
        commit: String,
        /// The repository.
        repo: String,
    },
    /// A target file missing from the work tree.
    #[error("{file} is not in the work tree {repo}: check the path (relative to the repository root), or pass `candidate` to compare two revisions")]
    MissingInWorkTree {
        /// The file.
        file: String,
        /// The repository.
        repo: String,
    },
    /// A file that is not UTF-8 text.
    #[error("{file} at {rev} is not UTF-8 text; the revision form embeds Python source")]
    NotText {
        /// The file.
        file: String,
        /// Where.
        rev: String,
    },
    /// A target module identical in base and candidate.
    #[error("nothing changed: {file} is the same at base {base} and in {candidate}, so B would measure A{hint}")]
    NothingChanged {
        /// The file.
        file: String,
        /// The base label.
        base: String,
        /// The candidate label.
        candidate: String,
        /// What to do instead.
        hint: String,
    },
    /// Two targets in different modules with the same binding name.
    #[error("two targets bind the name `{name}` in `call` ({first} and {second}): benchmark them in separate scripts, or name one by its class")]
    NameClash {
        /// The name.
        name: String,
        /// One target.
        first: String,
        /// The other.
        second: String,
    },
}

/// One revision as read from git: its commit and each target file's text.
struct ReadRevision {
    which: &'static str,
    rev: String,
    commit: String,
    /// Per file, in order; `None` where the revision lacks it.
    texts: Vec<Option<String>>,
}

impl ReadRevision {
    /// File `i`'s text at this revision, or the error naming what is wrong.
    fn source(&self, i: usize, file: &str, repo: &str) -> Result<String, RevisionError> {
        let text = self.texts[i]
            .clone()
            .ok_or_else(|| RevisionError::MissingAtRevision {
                file: file.to_string(),
                which: self.which,
                rev: self.rev.clone(),
                commit: short(&self.commit).to_string(),
                repo: repo.to_string(),
            })?;
        // Read as lossy UTF-8: a replacement character means bytes that
        // were not text (or, rarely, one the file really holds).
        if text.contains('\u{FFFD}') {
            return Err(RevisionError::NotText {
                file: file.to_string(),
                rev: format!("{} {}", self.which, self.rev),
            });
        }
        Ok(text)
    }
}

/// The revisions to read (base, and candidate when given), checked to be
/// something git could take as a revision.
fn revisions(form: &RevisionForm) -> Result<Vec<(&'static str, String)>, RevisionError> {
    let mut revs = vec![(
        "base",
        form.base.clone().unwrap_or_else(|| "HEAD".to_string()),
    )];
    revs.extend(form.candidate.clone().map(|c| ("candidate", c)));
    if let Some((which, rev)) = revs
        .iter()
        .find(|(_, r)| r.is_empty() || r.contains(char::is_control))
    {
        return Err(RevisionError::NotACommit {
            which,
            rev: rev.clone(),
            repo: form.repo.display().to_string(),
        });
    }
    Ok(revs)
}

/// Reads git for every target: module names, import roots, sources (the
/// commits and every file at both revisions in one `git cat-file --batch`).
pub async fn resolve(form: &RevisionForm) -> Result<ResolvedRevision, RevisionError> {
    let targets = form
        .targets
        .iter()
        .map(|t| Target::parse(t))
        .collect::<Result<Vec<_>, _>>()?;
    check_bindings(&targets)?;
    let mut files: Vec<&str> = Vec::new();
    for t in &targets {
        if !files.contains(&t.file.as_str()) {
            files.push(&t.file);
        }
    }
    let revs = revisions(form)?;
    let mut names = Vec::new();
    for (_, rev) in &revs {
        names.push(format!("{rev}^{{commit}}"));
        names.extend(files.iter().map(|f| format!("{rev}:{f}")));
    }
    // The work tree's top and the objects at once: `REV:path` needs no top.
    let (repo, objects) = tokio::join!(Repo::open(&form.repo), git::objects_in(&form.repo, &names));
    let repo = repo?;
    let repo_name = repo.root.display().to_string();
    let mut objects = objects?.into_iter();
    // Per revision: its commit, then each file's text (None: not there).
    let mut read = Vec::new();
    for (which, rev) in revs {
        let Some((commit, _)) = objects.next().flatten() else {
            return Err(RevisionError::NotACommit {
                which,
                rev,
                repo: repo_name,
            });
        };
        let texts = files
            .iter()
            .map(|_| objects.next().flatten().map(|(_, text)| text))
            .collect();
        read.push(ReadRevision {
            which,
            rev,
            commit,
            texts,
        });
    }
    let info = RevisionInfo {
        repo: repo_name.clone(),
        base: read[0].rev.clone(),
        base_commit: read[0].commit.clone(),
        candidate: form.candidate.clone(),
        candidate_commit: read.get(1).map(|r| r.commit.clone()),
        targets: form.targets.iter().map(|t| t.trim().to_string()).collect(),
        modules: Vec::new(),
    };
    let mut modules: Vec<TargetModule> = Vec::new();
    for (i, file) in files.iter().enumerate() {
        modules.push(target_module(
            form,
            &repo,
            &read,
            &info,
            i,
            file,
            files.len(),
        )?);
    }
    Ok(ResolvedRevision {
        info: RevisionInfo {
            modules: modules.iter().map(|m| m.name.clone()).collect(),
            ..info
        },
        targets,
        modules,
    })
}

/// File `i`'s module in both variants; an error when it did not change.
fn target_module(
    form: &RevisionForm,
    repo: &Repo,
    read: &[ReadRevision],
    info: &RevisionInfo,
    i: usize,
    file: &str,
    file_count: usize,
) -> Result<TargetModule, RevisionError> {
    let repo_name = &info.repo;
    let base_source = read[0].source(i, file, repo_name)?;
    let path = repo.root.join(file);
    let candidate_source = match read.get(1) {
        Some(candidate) => Some(candidate.source(i, file, repo_name)?),
        None => None,
    };
    let current = match &candidate_source {
        Some(text) => text.clone(),
        None => std::fs::read_to_string(&path).map_err(|_| RevisionError::MissingInWorkTree {
            file: file.to_string(),
            repo: repo_name.clone(),
        })?,
    };
    if current.replace("\r\n", "\n") == base_source.replace("\r\n", "\n") {
        return Err(RevisionError::NothingChanged {
            file: file.to_string(),
            base: info.base_label(),
            candidate: info.candidate_label(),
            hint: nothing_changed_hint(form, file_count == 1),
        });
    }
    let (name, import_root, is_package) = module_name(&repo.root, file);
    Ok(TargetModule {
        name,
        file: file.to_string(),
        path,
        is_package,
        import_root,
        base_source,
        candidate_source,
    })
}

/// What to do when a target's module did not change.
fn nothing_changed_hint(form: &RevisionForm, only_target: bool) -> String {
    let mut hint = String::new();
    if form.candidate.is_none() && form.base.as_deref().unwrap_or("HEAD") == "HEAD" {
        hint.push_str(": edit the function in the work tree first, or, if the change is already committed, pass base \"HEAD~1\"");
    } else {
        hint.push_str(": pick revisions that differ in this file");
    }
    if !only_target {
        hint.push_str(
            ", or drop this target (only files named by `target` differ between A and B)",
        );
    }
    hint
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

/// Targets in different modules must not bind the same name in `call`.
fn check_bindings(targets: &[Target]) -> Result<(), RevisionError> {
    for (i, t) in targets.iter().enumerate() {
        if let Some(other) = targets[..i]
            .iter()
            .find(|o| o.binding() == t.binding() && o.file != t.file)
        {
            return Err(RevisionError::NameClash {
                name: t.binding().to_string(),
                first: format!("{}::{}", other.file, other.qualname),
                second: format!("{}::{}", t.file, t.qualname),
            });
        }
    }
    Ok(())
}

/// The module name of `file` (relative to `root`), the directory it
/// imports from, and whether it is a package: its directory and each parent
/// holding an `__init__.py` are packages, the first one without is the
/// import root (a `src/` layout gives `src`).
pub fn module_name(root: &Path, file: &str) -> (String, PathBuf, bool) {
    let path = root.join(file);
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut dir = path.parent().unwrap_or(root).to_path_buf();
    let is_package = stem == "__init__";
    let mut words = if is_package { vec![] } else { vec![stem] };
    while dir != root && dir.join("__init__.py").is_file() {
        words.push(
            dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        dir = dir.parent().unwrap_or(root).to_path_buf();
    }
    words.reverse();
    (words.join("."), dir, is_package)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_and_bind() {
        let t = Target::parse("src/shop/report.py::Report.total").unwrap();
        assert_eq!(
            (t.file.as_str(), t.binding()),
            ("src/shop/report.py", "Report")
        );
        assert_eq!(Target::parse("./a.py::f").unwrap().file, "a.py");
        for bad in [
            "a.py",
            "a.py::",
            "/abs/a.py::f",
            "../a.py::f",
            "a.txt::f",
            "a.py::1f",
            "a.py::f.",
            "a//b.py::f",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn same_name_in_two_modules_is_refused() {
        let t = |s| Target::parse(s).unwrap();
        assert!(check_bindings(&[t("a.py::f"), t("a.py::f")]).is_ok());
        assert!(check_bindings(&[t("a.py::C.m"), t("a.py::C.n")]).is_ok());
        let err = check_bindings(&[t("a.py::f"), t("b.py::f")]).unwrap_err();
        assert!(err.to_string().contains("a.py::f and b.py::f"), "{err}");
    }

    #[test]
    fn module_names_follow_the_packages() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("src/shop/sub")).unwrap();
        for f in ["src/shop/__init__.py", "src/shop/sub/__init__.py"] {
            std::fs::write(root.join(f), "").unwrap();
        }
        assert_eq!(
            module_name(root, "src/shop/sub/report.py"),
            ("shop.sub.report".into(), root.join("src"), false)
        );
        assert_eq!(
            module_name(root, "src/shop/__init__.py"),
            ("shop".into(), root.join("src"), true)
        );
        assert_eq!(
            module_name(root, "tool.py"),
            ("tool".into(), root.to_path_buf(), false)
        );
    }
}
