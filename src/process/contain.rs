//! Containment: finding what a child left behind outside its process group.
//!
//! Killing a child's process group reaches the descendants that stayed in
//! it. One that calls `setsid()` (a daemon, `Popen(start_new_session=True)`,
//! a test fixture's server) leaves the group, and one whose parent dies is
//! re-parented away from abbench, to init or the nearest subreaper. So every
//! child abbench starts carries a tag in its environment,
//! `ABBENCH_TAG=<abbench pid>.<its start time>.<n>`, which its descendants
//! inherit wherever they move. When a child's call ends, [`sweep`] kills
//! every process still carrying that tag outside the (already killed)
//! group, and names it; when abbench itself dies — even by SIGKILL, when no
//! destructor runs — the watchdog it started ([`watch`]) sweeps every tag
//! of that abbench. A descendant that empties its own environment
//! (`env -i`, a daemon that sanitises it) is not found: docs/reliability.md
//! says so.
//!
//! Linux reads `/proc`; elsewhere the sweeps find nothing (the process
//! group and PDEATHSIG-free platforms' limits are documented).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// The environment variable that carries the tag.
pub const TAG_VAR: &str = "ABBENCH_TAG";

/// A process found alive after its call ended, and killed.
#[derive(Debug, Clone, PartialEq)]
pub struct Leftover {
    /// Its pid.
    pub pid: i32,
    /// Its command line (cut at 200 characters).
    pub command: String,
    /// How long it had lived, seconds.
    pub lived_s: f64,
}

impl Leftover {
    /// One sentence for a warning: `who` (e.g. "the test command") left it.
    pub fn describe(&self, who: &str) -> String {
        format!(
            "{who} left a process running outside its process group (it called setsid() or was re-parented), killed when {who} ended: `{}` (pid {}, alive {:.1} s)",
            self.command, self.pid, self.lived_s
        )
    }
}

/// `<pid>.<start time>.`: what every tag of this abbench starts with.
pub fn own_prefix() -> &'static str {
    static PREFIX: OnceLock<String> = OnceLock::new();
    PREFIX.get_or_init(|| {
        let pid = std::process::id() as i32;
        format!("{pid}.{}.", stat(pid).map_or(0, |s| s.start_ticks))
    })
}

/// A fresh tag for one child.
pub fn new_tag() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{}{}", own_prefix(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// What /proc/PID/stat says that containment needs.
struct Stat {
    pgid: i32,
    start_ticks: u64,
}

fn stat(pid: i32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command is in parentheses and may hold spaces: fields follow the last ')'.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // After the command: state(0) ppid(1) pgrp(2) … starttime(19).
    Some(Stat {
        pgid: fields.get(2)?.parse().ok()?,
        start_ticks: fields.get(19)?.parse().ok()?,
    })
}

/// The value of `ABBENCH_TAG` in `pid`'s environment, if any.
fn tag_of(pid: i32) -> Option<String> {
    let environ = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    let key = format!("{TAG_VAR}=");
    environ
        .split(|&b| b == 0)
        .find_map(|entry| entry.strip_prefix(key.as_bytes()))
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

fn command_of(pid: i32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let words: Vec<String> = raw
        .split(|&b| b == 0)
        .filter(|w| !w.is_empty())
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    let command = shell_words::join(&words);
    match command.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &command[..cut]),
        None => command,
    }
}

/// Seconds `start_ticks` (clock ticks after boot) lie in the past.
fn age_s(start_ticks: u64) -> f64 {
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let uptime = std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|u| u.split(' ').next()?.parse::<f64>().ok())
        .unwrap_or(0.0);
    (uptime - start_ticks as f64 / hz).max(0.0)
}

/// Every live process but this one whose tag `matches`, with its stat.
fn tagged(matches: &dyn Fn(&str) -> bool) -> Vec<(i32, Stat)> {
    let me = std::process::id() as i32;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| pid != me)
        .filter(|&pid| tag_of(pid).is_some_and(|t| matches(&t)))
        .filter_map(|pid| Some((pid, stat(pid)?)))
        .collect()
}

/// Kills every process whose tag `matches` and that is not in process
/// group `except` (the call's own group, killed already: its members may
/// not have exited yet); a few rounds, so a fork in flight is caught too.
/// Returns what was killed.
pub fn sweep(matches: &dyn Fn(&str) -> bool, except: Option<i32>) -> Vec<Leftover> {
    let mut killed: Vec<Leftover> = Vec::new();
    for round in 0..4 {
        let found: Vec<(i32, Stat)> = tagged(matches)
            .into_iter()
            .filter(|(_, s)| Some(s.pgid) != except)
            .filter(|(pid, _)| !killed.iter().any(|k| k.pid == *pid))
            .collect();
        if found.is_empty() {
            break;
        }
        for (pid, s) in found {
            let command = command_of(pid);
            // SAFETY: kill only sends a signal; a pid that is gone yields ESRCH.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
            killed.push(Leftover {
                pid,
                command,
                lived_s: age_s(s.start_ticks),
            });
        }
        std::thread::sleep(Duration::from_millis(5 << round));
    }
    killed
}

/// Kills what carries exactly `tag` outside group `pgid`.
pub fn sweep_tag(tag: &str, pgid: i32) -> Vec<Leftover> {
    sweep(&|t: &str| t == tag, Some(pgid))
}

/// What containment is in force on this platform, in one sentence.
pub fn in_force() -> String {
    if std::path::Path::new("/proc/self/environ").exists() {
        "process groups (killed after every call), PDEATHSIG on direct children, and environment tags: descendants that leave their group (setsid) are found through /proc and killed when their call ends, and by a watchdog when abbench itself dies (even by SIGKILL); a descendant that empties its own environment is not found".into()
    } else {
        "process groups (killed after every call) only: without /proc, descendants that leave their group (setsid) or outlive a killed abbench are not found".into()
    }
}

/// The watchdog's body (`abbench __watch PREFIX`): waits until stdin ends
/// — its abbench has exited, however it died — then kills every process
/// carrying one of that abbench's tags.
pub fn watch(prefix: &str) {
    use std::io::Read;
    let mut sink = [0u8; 64];
    let mut stdin = std::io::stdin();
    while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
    sweep(&|t: &str| t.starts_with(prefix), None);
}

/// Starts, once, the watchdog for this abbench: a process of its own
/// session, outside every group abbench kills, holding the read end of a
/// pipe whose write end only this process holds (close-on-exec, so no
/// child inherits it; never closed before abbench exits). Called before the
/// first child starts, so a command that starts none costs nothing. Best
/// effort: without it, a SIGKILLed abbench may leave escaped descendants
/// (docs/reliability.md). Not in unit tests, whose executable is not abbench.
pub fn ensure_watchdog() {
    static WATCHDOG: std::sync::OnceLock<Option<std::process::Child>> = std::sync::OnceLock::new();
    if cfg!(test) {
        return;
    }
    WATCHDOG.get_or_init(start_watchdog);
}

fn start_watchdog() -> Option<std::process::Child> {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe().ok()?;
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["__watch", own_prefix()])
        .env_remove(TAG_VAR)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // SAFETY: setsid is async-signal-safe and affects only the child.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    cmd.spawn().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_unique_and_share_this_process_prefix() {
        let (a, b) = (new_tag(), new_tag());
        assert_ne!(a, b);
        assert!(a.starts_with(own_prefix()) && b.starts_with(own_prefix()));
        assert!(own_prefix().starts_with(&format!("{}.", std::process::id())));
    }

    #[test]
    fn a_setsid_descendant_is_found_by_its_tag_and_killed() {
        let tag = new_tag();
        // A shell that starts a sleeper in a session of its own and exits.
        let status = std::process::Command::new("python3")
            .args([
                "-c",
                "import subprocess, sys; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], start_new_session=True)",
            ])
            .env(TAG_VAR, &tag)
            .status()
            .unwrap();
        assert!(status.success());
        let killed = sweep_tag(&tag, -1);
        assert_eq!(killed.len(), 1, "{killed:?}");
        assert!(killed[0].command.contains("time.sleep(60)"), "{killed:?}");
        assert!(killed[0]
            .describe("the test")
            .starts_with("the test left a process"));
        assert!(sweep_tag(&tag, -1).is_empty());
    }
}
