//! The git facts the keep checks need: the change against a base, old file
//! contents, and a temporary worktree of the base. Every call goes through
//! [`crate::process`] with argv words; the user's work tree is never changed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::process::{self, Limits, ProcessError, ProcessSpec};

/// A git failure, with what git said.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// Not inside a git work tree.
    #[error(
        "`repo` {0} is not a git work tree (run `git init` there, or pass the project's root)"
    )]
    NotARepo(PathBuf),
    /// git could not be started.
    #[error("cannot run git: {0}")]
    Spawn(String),
    /// A revision that cannot be used, or no change to judge; says what to pass.
    #[error("{0}")]
    Revision(String),
    /// git refused.
    #[error("`git {args}` failed: {stderr}")]
    Failed {
        /// The arguments.
        args: String,
        /// What git printed.
        stderr: String,
    },
}

/// One file's line counts in a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// Path relative to the repository root.
    pub path: String,
    /// Lines added (0 for binary files).
    pub added: u64,
    /// Lines removed (0 for binary files).
    pub removed: u64,
    /// True for a new file git does not track yet.
    pub untracked: bool,
}

/// The change being judged: the work tree against a base, or (a clean
/// work tree and base HEAD) the last commit against its parent.
#[derive(Debug, Clone)]
pub struct Change {
    /// The base commit.
    pub old: String,
    /// The candidate commit, or `None` for the work tree.
    pub new: Option<String>,
    /// The files it touches.
    pub files: Vec<FileChange>,
    /// In words, with the commits.
    pub described: String,
}

/// A git work tree.
#[derive(Debug, Clone)]
pub struct Repo {
    /// Its top-level directory.
    pub root: PathBuf,
}

/// FNV-1a, 64 bits, over `parts` (each followed by a NUL): stable across
/// builds, unlike std's hasher, and enough to tell contents apart.
pub fn fnv1a(parts: &[Vec<u8>]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in parts
        .iter()
        .flat_map(|p| p.iter().chain(std::iter::once(&0u8)))
    {
        h ^= u64::from(*byte);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

async fn git_in(dir: &Path, args: &[&str]) -> Result<String, GitError> {
    git_with_input(dir, args, None).await
}

async fn git_with_input(
    dir: &Path,
    args: &[&str],
    stdin: Option<Vec<u8>>,
) -> Result<String, GitError> {
    let mut argv = vec![
        "git".to_string(),
        "-C".to_string(),
        dir.display().to_string(),
    ];
    argv.extend(args.iter().map(|a| a.to_string()));
    let spec = ProcessSpec {
        argv,
        // Never prompt, never page, never pick up a user's diff drivers.
        env: vec![
            ("GIT_TERMINAL_PROMPT".into(), "0".into()),
            ("GIT_PAGER".into(), "cat".into()),
            ("LC_ALL".into(), "C".into()),
        ],
        stdin,
        ..Default::default()
    };
    let limits = Limits {
        timeout: Duration::from_secs(120),
        output_cap: 64 << 20,
    };
    match process::run(&spec, limits, &CancellationToken::new()).await {
        Ok(f) if f.exit.success() => Ok(f.stdout.text),
        Ok(f) => Err(GitError::Failed {
            args: args.join(" "),
            stderr: f.stderr.last_lines(5),
        }),
        Err(e @ ProcessError::NotFound { .. }) => Err(GitError::Spawn(e.to_string())),
        Err(e) => Err(GitError::Failed {
            args: args.join(" "),
            stderr: e.to_string(),
        }),
    }
}

/// `git cat-file --batch` output: per name, `<id> <type> <size>\n<bytes>\n`
/// or `<name> missing\n`. A size that does not land on a character boundary
/// (the text was not UTF-8) ends the parse: the rest reads as missing.
fn parse_batch(out: &str, count: usize) -> Vec<Option<(String, String)>> {
    let mut found = Vec::with_capacity(count);
    let mut rest = out;
    while found.len() < count {
        let Some((header, body)) = rest.split_once('\n') else {
            break;
        };
        let words: Vec<&str> = header.split(' ').collect();
        let size = match words.as_slice() {
            [_, _, size] => size.parse::<usize>().ok(),
            _ => None,
        };
        match size {
            Some(size) if body.is_char_boundary(size.min(body.len())) && size <= body.len() => {
                found.push(Some((words[0].to_string(), body[..size].to_string())));
                rest = body[size..].strip_prefix('\n').unwrap_or(&body[size..]);
            }
            Some(_) => break,
            None => {
                found.push(None);
                rest = body;
            }
        }
    }
    found.resize(count, None);
    found
}

/// Objects by name (`REV^{commit}`, `REV:path`, paths from the top of the
/// work tree), all from one git process run in `dir` (the work tree or a
/// folder in it): each one's id and text, or `None` where it does not exist
/// (or is not UTF-8 text).
pub async fn objects_in(
    dir: &Path,
    names: &[String],
) -> Result<Vec<Option<(String, String)>>, GitError> {
    let input: String = names.iter().map(|n| format!("{n}\n")).collect();
    let out = git_with_input(dir, &["cat-file", "--batch"], Some(input.into_bytes())).await?;
    Ok(parse_batch(&out, names.len()))
}

impl Repo {
    /// Opens the work tree holding `path`.
    pub async fn open(path: &Path) -> Result<Repo, GitError> {
        if !path.is_dir() {
            return Err(GitError::NotARepo(path.to_path_buf()));
        }
        match git_in(path, &["rev-parse", "--show-toplevel"]).await {
            Ok(top) => Ok(Repo {
                root: PathBuf::from(top.trim()),
            }),
            Err(GitError::Failed { .. }) => Err(GitError::NotARepo(path.to_path_buf())),
            Err(e) => Err(e),
        }
    }

    /// Makes `dir` a repository holding everything in it as one commit.
    pub async fn init_with_commit(dir: &Path, message: &str) -> Result<Repo, GitError> {
        git_in(dir, &["init", "--quiet"]).await?;
        git_in(dir, &["add", "--all"]).await?;
        let who = [
            "-c",
            "user.name=abbench",
            "-c",
            "user.email=abbench@example.invalid",
        ];
        let mut args = who.to_vec();
        args.extend(["commit", "--quiet", "--no-verify", "-m", message]);
        git_in(dir, &args).await?;
        Repo::open(dir).await
    }

    /// Runs git in the work tree; returns stdout.
    pub async fn git(&self, args: &[&str]) -> Result<String, GitError> {
        git_in(&self.root, args).await
    }

    /// The full commit id of `rev`.
    pub async fn commit_of(&self, rev: &str) -> Result<String, GitError> {
        let spec = format!("{rev}^{{commit}}");
        Ok(self
            .git(&["rev-parse", "--verify", "--quiet", &spec])
            .await?
            .trim()
            .to_string())
    }

    /// Untracked, not ignored files.
    pub async fn untracked(&self) -> Result<Vec<String>, GitError> {
        let out = self
            .git(&["ls-files", "--others", "--exclude-standard", "-z"])
            .await?;
        Ok(out
            .split('\0')
            .filter(|p| !p.is_empty())
            .map(String::from)
            .collect())
    }

    /// Line counts of `old` → `new` (a commit), or `old` → the work tree
    /// (untracked files included) when `new` is `None`.
    pub async fn changes(&self, old: &str, new: Option<&str>) -> Result<Vec<FileChange>, GitError> {
        let mut args = vec!["diff", "--numstat", "-z", "--no-renames", old];
        args.extend(new);
        let out = self.git(&args).await?;
        let mut changes: Vec<FileChange> = out
            .split('\0')
            .filter_map(|rec| {
                let mut it = rec.trim_start_matches('\n').splitn(3, '\t');
                let (a, r, p) = (it.next()?, it.next()?, it.next()?);
                Some(FileChange {
                    path: p.to_string(),
                    added: a.parse().unwrap_or(0),
                    removed: r.parse().unwrap_or(0),
                    untracked: false,
                })
            })
            .collect();
        if new.is_none() {
            for path in self.untracked().await? {
                let text = std::fs::read(self.root.join(&path)).unwrap_or_default();
                let lines = String::from_utf8_lossy(&text).lines().count() as u64;
                changes.push(FileChange {
                    path,
                    added: lines,
                    removed: 0,
                    untracked: true,
                });
            }
        }
        Ok(changes)
    }

    /// A fingerprint of the change's content: the base commit, and the
    /// candidate commit or (the work tree) the binary diff of the tracked
    /// files and every untracked file's bytes. Equal fingerprints mean the
    /// same files, so a test result can be reused (ignored files are not in
    /// it).
    pub async fn fingerprint(&self, change: &Change) -> Result<String, GitError> {
        let mut parts: Vec<Vec<u8>> = vec![change.old.clone().into_bytes()];
        match &change.new {
            Some(new) => parts.push(new.clone().into_bytes()),
            None => {
                let diff = self
                    .git(&["diff", "--binary", "--no-renames", &change.old])
                    .await?;
                parts.push(diff.into_bytes());
                for f in change.files.iter().filter(|f| f.untracked) {
                    parts.push(f.path.clone().into_bytes());
                    parts.push(std::fs::read(self.root.join(&f.path)).unwrap_or_default());
                }
            }
        }
        Ok(format!("{:016x}", fnv1a(&parts)))
    }

    /// The work tree against `base`; if that is empty and `base` is HEAD,
    /// the last commit against its parent.
    pub async fn change_against(&self, base: &str) -> Result<Change, GitError> {
        let base_commit = self.commit_of(base).await.map_err(|_| {
            GitError::Revision(format!(
                "`base` {base:?} is not a commit in {}",
                self.root.display()
            ))
        })?;
        let files = self.changes(&base_commit, None).await?;
        let head = self.commit_of("HEAD").await?;
        if !files.is_empty() || base_commit != head {
            return Ok(Change {
                described: format!(
                    "the work tree (tracked changes and untracked files) against {base} ({})",
                    &base_commit[..12]
                ),
                old: base_commit,
                new: None,
                files,
            });
        }
        let parent = self.commit_of("HEAD^").await.map_err(|_| {
            GitError::Revision("the work tree is clean and HEAD has no parent: there is no change to check; make the change in the work tree".into())
        })?;
        Ok(Change {
            files: self.changes(&parent, Some(&head)).await?,
            described: format!(
                "HEAD ({}) against its parent {}",
                &head[..12],
                &parent[..12]
            ),
            old: parent,
            new: Some(head),
        })
    }

    /// A file's text at `rev`, or `None` where it does not exist.
    pub async fn show(&self, rev: &str, path: &str) -> Option<String> {
        self.git(&["show", &format!("{rev}:{path}")]).await.ok()
    }

    /// A detached worktree of `rev` in a temporary directory; first, any
    /// abbench worktree whose owner process is gone (a crash) is removed.
    pub async fn worktree(&self, rev: &str) -> Result<Worktree, GitError> {
        self.prune_stale().await;
        let parent = tempfile::Builder::new()
            .prefix(WORKTREE_PREFIX)
            .tempdir()
            .map_err(|e| GitError::Spawn(format!("cannot create a temporary directory: {e}")))?;
        std::fs::write(
            parent.path().join(OWNER_FILE),
            std::process::id().to_string(),
        )
        .map_err(|e| GitError::Spawn(format!("cannot write in a temporary directory: {e}")))?;
        let path = parent.path().join("tree");
        let shown = path.display().to_string();
        self.git(&["worktree", "add", "--detach", "--quiet", &shown, rev])
            .await?;
        Ok(Worktree {
            repo: self.clone(),
            path,
            _parent: parent,
        })
    }
}

/// The temporary folder of an abbench worktree starts so.
const WORKTREE_PREFIX: &str = "abbench-base-";
/// Beside the worktree: the PID of the abbench that made it.
const OWNER_FILE: &str = "owner.pid";

impl Repo {
    /// Removes abbench worktrees of this repository whose owner process no
    /// longer runs (a killed server leaves its worktree behind), then lets
    /// git forget the ones whose folder is gone.
    async fn prune_stale(&self) {
        let Ok(list) = self.git(&["worktree", "list", "--porcelain"]).await else {
            return;
        };
        for tree in list.lines().filter_map(|l| l.strip_prefix("worktree ")) {
            let tree = Path::new(tree);
            let Some(parent) = tree.parent() else {
                continue;
            };
            let ours = parent
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(WORKTREE_PREFIX));
            if !ours || tree.file_name() != Some("tree".as_ref()) {
                continue;
            }
            let owner = std::fs::read_to_string(parent.join(OWNER_FILE))
                .ok()
                .and_then(|s| s.trim().parse::<i32>().ok());
            if owner.is_some_and(alive) {
                continue;
            }
            let shown = tree.display().to_string();
            let _ = self.git(&["worktree", "remove", "--force", &shown]).await;
            let _ = std::fs::remove_dir_all(parent);
        }
        let _ = self.git(&["worktree", "prune"]).await;
    }
}

/// The process exists (signal 0 reaches it, or it is someone else's).
fn alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks for the process.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// A temporary worktree; removed (and pruned from the repository) on drop.
pub struct Worktree {
    repo: Repo,
    /// Its directory.
    pub path: PathBuf,
    _parent: tempfile::TempDir,
}

impl Drop for Worktree {
    fn drop(&mut self) {
        // Synchronous on purpose: it must happen even when a task is torn down.
        let _ = std::process::Command::new("git")
            .arg("-C")
            .arg(&self.repo.root)
            .args(["worktree", "remove", "--force"])
            .arg(&self.path)
            .output();
        let _ = std::process::Command::new("git")
            .arg("-C")
            .arg(&self.repo.root)
            .args(["worktree", "prune"])
            .output();
    }
}

#[cfg(test)]
mod tests {
    use super::parse_batch;

    #[test]
    fn batch_output_parses_found_missing_and_multibyte_text() {
        let out = "aaa blob 6\nx = 1\n\nHEAD:nope.py missing\nbbb blob 9\ns = 'é'\n\n";
        assert_eq!(
            parse_batch(out, 3),
            vec![
                Some(("aaa".into(), "x = 1\n".into())),
                None,
                Some(("bbb".into(), "s = 'é'\n".into())),
            ]
        );
        // A size inside a character (the text was not UTF-8): the rest reads as missing.
        assert_eq!(parse_batch("ccc blob 1\né\n", 2), vec![None, None]);
        assert_eq!(parse_batch("", 1), vec![None]);
    }
}
