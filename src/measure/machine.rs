//! What Linux says about the machine a measurement runs on: the CPU model,
//! the frequency governor, turbo / boost, and the kernel. Every run records
//! them (two runs of the same code on two machines differ for these
//! reasons), and `check_environment` shows them with advice.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The machine's CPU and kernel, where Linux exposes them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Hardware {
    /// The CPU model (from /proc/cpuinfo).
    #[serde(default)]
    pub cpu_model: Option<String>,
    /// The frequency governor of cpu0, e.g. "performance" or "powersave".
    #[serde(default)]
    pub governor: Option<String>,
    /// Turbo / boost: true when on.
    #[serde(default)]
    pub turbo: Option<bool>,
    /// The kernel release (from /proc/sys/kernel/osrelease).
    #[serde(default)]
    pub kernel: Option<String>,
}

/// A file's text, trimmed, if it can be read.
pub(crate) fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

impl Hardware {
    /// Reads it now.
    pub fn read() -> Hardware {
        Hardware {
            cpu_model: read("/proc/cpuinfo").and_then(|c| {
                c.lines().find_map(|l| {
                    l.strip_prefix("model name")
                        .map(|r| r.trim_start_matches([' ', '\t', ':']).to_string())
                })
            }),
            governor: read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
            turbo: read("/sys/devices/system/cpu/intel_pstate/no_turbo")
                .map(|v| v == "0")
                .or_else(|| read("/sys/devices/system/cpu/cpufreq/boost").map(|v| v == "1")),
            kernel: read("/proc/sys/kernel/osrelease"),
        }
    }
}

/// How to make the machine quieter, for a warning: the exact commands.
pub const QUIETER: &str = "to make the machine quieter: `python3 -m pyperf system tune` (as root; it sets the governor, disables turbo and moves interrupts away), run on an isolated core (boot with `isolcpus=1`, then `taskset -c 1 abbench run ...`), and stop other work (builds, tests, browsers) while measuring";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_linux_exposes_and_old_records_still_read() {
        let h = Hardware::read();
        if std::path::Path::new("/proc/sys/kernel/osrelease").exists() {
            assert!(h.kernel.is_some());
        }
        let old: Hardware = serde_json::from_str("{}").unwrap();
        assert_eq!(old, Hardware::default());
    }
}
