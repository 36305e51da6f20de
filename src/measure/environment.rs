//! What a run records of its arms and its machine: each arm's values with
//! their summary ([`ArmSummary`]), and the interpreter and machine it ran
//! on ([`Environment`]). Both tools' results carry them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::python::probe::Probe;
use crate::stats;

/// One arm's values and their summary.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ArmSummary {
    /// n, median, mean, min, max, stdev, cv of the values.
    #[serde(flatten)]
    pub summary: stats::Summary,
    /// Unit of every figure here: `s` or `bytes`.
    pub unit: String,
    /// One value per counted process, in run order (pair i = index i).
    pub values: Vec<f64>,
}

impl ArmSummary {
    /// The summary of `values`, all in `unit`.
    pub fn new(values: &[f64], unit: &str) -> Self {
        ArmSummary {
            summary: stats::summarize(values),
            unit: unit.into(),
            values: values.to_vec(),
        }
    }
}

/// The machine and interpreter the run used.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Environment {
    /// Python version, e.g. 3.11.7.
    pub python_version: String,
    /// CPython, PyPy, ...
    pub python_implementation: String,
    /// The interpreter's sys.executable.
    pub python_executable: String,
    /// platform.platform() of that Python.
    pub platform: String,
    /// Logical cores available.
    pub cores: usize,
    /// 1-minute load average at the start (None where /proc/loadavg is missing).
    pub load_average_start: Option<f64>,
    /// 1-minute load average at the end.
    pub load_average_end: Option<f64>,
    /// The CPU model, frequency governor, turbo and kernel, where Linux exposes them.
    #[serde(flatten)]
    pub hardware: super::machine::Hardware,
}

impl Environment {
    /// From the runner's probe and the machine's figures.
    pub(crate) fn new(
        probe: Probe,
        cores: usize,
        load_average_start: Option<f64>,
        load_average_end: Option<f64>,
    ) -> Self {
        Environment {
            python_version: probe.version,
            python_implementation: probe.implementation,
            python_executable: probe.executable,
            platform: probe.platform,
            cores,
            load_average_start,
            load_average_end,
            hardware: super::machine::Hardware::read(),
        }
    }
}
