//! The four measurement domains, their aliases, what one process measures in
//! each, and the default threshold a candidate must beat there.
//!
//! The contract (names, aliases, thresholds) is fixed by the design document;
//! everything else in abbench asks this module instead of repeating it.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One MiB, the unit of the memory threshold (memray's text report uses
/// decimal MB; abbench reads bytes from its JSON and speaks MiB).
pub const MIB: u64 = 1_048_576;

/// What is being optimized, and so what one process measures. Read
/// with [`FromStr`] (so `data_structures` is accepted and a wrong name
/// lists the right ones), written as its canonical name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Domain {
    /// CPU time / data structures: seconds per call from `timeit`.
    Cpu,
    /// Peak memory of the process in bytes, from memray.
    Memory,
    /// Wall seconds of an `asyncio.gather` batch at a given concurrency.
    Async,
    /// Import time of named modules, seconds per import.
    Structure,
}

/// Every name `Domain::from_str` accepts, in the order schemas and completions list them.
pub const DOMAIN_LIST: [&str; 5] = ["cpu", "data_structures", "memory", "async", "structure"];

/// Every name `Domain::from_str` accepts, for error messages and schemas.
pub const DOMAIN_NAMES: &str = "cpu, data_structures (alias of cpu), memory, async, structure";

impl Domain {
    /// All domains, in the order the design lists them.
    pub const ALL: [Domain; 4] = [
        Domain::Cpu,
        Domain::Async,
        Domain::Memory,
        Domain::Structure,
    ];

    /// The canonical name used in scripts, results and the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            Domain::Cpu => "cpu",
            Domain::Memory => "memory",
            Domain::Async => "async",
            Domain::Structure => "structure",
        }
    }

    /// True for the domains whose value is a duration (lower is faster).
    pub fn is_time(self) -> bool {
        !matches!(self, Domain::Memory)
    }

    /// The unit of the per-process value.
    pub fn unit(self) -> &'static str {
        if self.is_time() {
            "s"
        } else {
            "bytes"
        }
    }

    /// The threshold from the design, before any per-call override.
    pub fn default_threshold(self) -> Threshold {
        match self {
            Domain::Memory => {
                Threshold::memory(DEFAULT_MIN_SAVED_BYTES, DEFAULT_MIN_SAVED_FRACTION)
            }
            _ => Threshold::time(DEFAULT_MIN_GAIN),
        }
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown domain name; the message lists the valid ones.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown domain {0:?}: use one of {DOMAIN_NAMES}")]
pub struct UnknownDomain(pub String);

impl FromStr for Domain {
    type Err = UnknownDomain;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cpu" | "data_structures" | "data-structures" => Ok(Domain::Cpu),
            "memory" => Ok(Domain::Memory),
            "async" => Ok(Domain::Async),
            "structure" => Ok(Domain::Structure),
            _ => Err(UnknownDomain(s.to_string())),
        }
    }
}

impl<'de> Deserialize<'de> for Domain {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Domain {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Domain".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "enum": DOMAIN_LIST,
        })
    }
}

/// The gain a time-domain candidate must beat by default (20 %).
pub const DEFAULT_MIN_GAIN: f64 = 0.20;
/// The memory saving a candidate must beat by default: 10 MiB ...
pub const DEFAULT_MIN_SAVED_BYTES: u64 = 10 * MIB;
/// ... or 10 % of A's peak.
pub const DEFAULT_MIN_SAVED_FRACTION: f64 = 0.10;

/// What B must beat, by kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bar {
    /// Time domains: `gain = A / B - 1` must exceed this fraction.
    Gain(f64),
    /// Memory: B passes when it saves more than either.
    Saving {
        /// Bytes (A - B).
        bytes: u64,
        /// Fraction of A's peak ((A - B) / A).
        fraction: f64,
    },
}

/// The bar a candidate must clear to be kept on the micro-benchmark alone,
/// and the same in words. On the wire (results, the ledger) it is the
/// flat [`ThresholdFields`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "ThresholdFields", try_from = "ThresholdFields")]
pub struct Threshold {
    /// What B must beat.
    pub bar: Bar,
    /// The same threshold in words, e.g. "gain > 20 % (speedup > 1.20x)".
    pub description: String,
}

/// A [`Threshold`] as results carry it.
///
/// Time domains use `min_gain` (`gain = A / B - 1`); memory passes when
/// either `min_saved_bytes` or `min_saved_fraction` is beaten.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "Threshold")]
pub struct ThresholdFields {
    /// Time domains: the gain B must beat, as a fraction (0.20 = 20 %, speedup 1.2x).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_gain: Option<f64>,
    /// Memory: bytes B must save (A - B) to pass; 10 MiB = 10485760 by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_saved_bytes: Option<u64>,
    /// Memory: fraction of A's peak B must save ((A - B) / A) to pass; 0.10 by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_saved_fraction: Option<f64>,
    /// The same threshold in words, e.g. "gain > 20 % (speedup > 1.20x)".
    pub description: String,
}

impl From<Threshold> for ThresholdFields {
    fn from(t: Threshold) -> Self {
        let (min_gain, min_saved_bytes, min_saved_fraction) = match t.bar {
            Bar::Gain(g) => (Some(g), None, None),
            Bar::Saving { bytes, fraction } => (None, Some(bytes), Some(fraction)),
        };
        ThresholdFields {
            min_gain,
            min_saved_bytes,
            min_saved_fraction,
            description: t.description,
        }
    }
}

impl TryFrom<ThresholdFields> for Threshold {
    type Error = String;

    fn try_from(f: ThresholdFields) -> Result<Self, String> {
        let bar = match (f.min_gain, f.min_saved_bytes, f.min_saved_fraction) {
            (Some(g), None, None) => Bar::Gain(g),
            (None, Some(bytes), Some(fraction)) => Bar::Saving { bytes, fraction },
            _ => {
                return Err("a threshold has either `min_gain` alone or both `min_saved_bytes` and `min_saved_fraction`".into())
            }
        };
        Ok(Threshold {
            bar,
            description: f.description,
        })
    }
}

impl JsonSchema for Threshold {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        ThresholdFields::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        ThresholdFields::json_schema(generator)
    }
}

impl Threshold {
    /// The bar for `domain` from a request's overrides, checked: a time
    /// domain takes `min_gain` (else `default_gain`), memory the two
    /// savings (else their defaults); an override of the other kind is an
    /// error that says which applies.
    pub fn checked(
        domain: Domain,
        min_gain: Option<f64>,
        min_saved_bytes: Option<u64>,
        min_saved_fraction: Option<f64>,
        default_gain: f64,
    ) -> Result<Threshold, String> {
        if domain == Domain::Memory {
            if min_gain.is_some() {
                return Err("`min_gain` applies to time domains; for memory use `min_saved_bytes` and `min_saved_fraction`".into());
            }
            let fraction = min_saved_fraction.unwrap_or(DEFAULT_MIN_SAVED_FRACTION);
            if !(0.0..=1.0).contains(&fraction) {
                return Err(format!(
                    "`min_saved_fraction` = {fraction} must be in [0, 1]"
                ));
            }
            return Ok(Threshold::memory(
                min_saved_bytes.unwrap_or(DEFAULT_MIN_SAVED_BYTES),
                fraction,
            ));
        }
        if min_saved_bytes.is_some() || min_saved_fraction.is_some() {
            return Err(format!(
                "`min_saved_bytes` / `min_saved_fraction` apply to memory; for {domain} use `min_gain`"
            ));
        }
        let gain = min_gain.unwrap_or(default_gain);
        if !(gain.is_finite() && gain >= 0.0) {
            return Err(format!(
                "`min_gain` = {gain} must be a fraction >= 0 (0.2 = 20 %)"
            ));
        }
        Ok(Threshold::time(gain))
    }

    /// A time threshold: `gain` must exceed `min_gain`.
    pub fn time(min_gain: f64) -> Self {
        Threshold {
            bar: Bar::Gain(min_gain),
            description: format!(
                "gain > {} % (speedup > {:.2}x)",
                fmt_percent(min_gain),
                1.0 + min_gain
            ),
        }
    }

    /// A memory threshold: either saving must be exceeded.
    pub fn memory(min_saved_bytes: u64, min_saved_fraction: f64) -> Self {
        Threshold {
            bar: Bar::Saving {
                bytes: min_saved_bytes,
                fraction: min_saved_fraction,
            },
            description: format!(
                "saving > {} MiB ({} bytes) or > {} % of A's peak",
                fmt_number(min_saved_bytes as f64 / MIB as f64),
                min_saved_bytes,
                fmt_percent(min_saved_fraction)
            ),
        }
    }

    /// Time domains: the gain to beat; memory: `None`.
    pub fn min_gain(&self) -> Option<f64> {
        match self.bar {
            Bar::Gain(g) => Some(g),
            Bar::Saving { .. } => None,
        }
    }
}

/// `0.2` → `"20"`, `0.125` → `"12.5"`: percentages without float noise.
fn fmt_percent(fraction: f64) -> String {
    fmt_number(fraction * 100.0)
}

fn fmt_number(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_and_errors() {
        assert_eq!("data_structures".parse::<Domain>().unwrap(), Domain::Cpu);
        assert_eq!(" Memory ".parse::<Domain>().unwrap(), Domain::Memory);
        let err = "gpu".parse::<Domain>().unwrap_err().to_string();
        assert!(
            err.contains("\"gpu\"") && err.contains("structure"),
            "{err}"
        );
    }

    #[test]
    fn thresholds_match_the_design() {
        assert_eq!(Domain::Cpu.default_threshold().bar, Bar::Gain(0.2));
        assert_eq!(
            Domain::Async.default_threshold().description,
            "gain > 20 % (speedup > 1.20x)"
        );
        let m = Domain::Memory.default_threshold();
        assert_eq!(
            m.bar,
            Bar::Saving {
                bytes: 10_485_760,
                fraction: 0.10
            }
        );
        assert_eq!(
            m.description,
            "saving > 10 MiB (10485760 bytes) or > 10 % of A's peak"
        );
    }

    /// On the wire a threshold is the flat fields; a mix of both kinds is refused.
    #[test]
    fn thresholds_round_trip_as_their_fields() {
        for t in [Threshold::time(0.25), Threshold::memory(1 << 20, 0.05)] {
            let wire = serde_json::to_value(&t).unwrap();
            assert_eq!(serde_json::from_value::<Threshold>(wire).unwrap(), t);
        }
        let wire = serde_json::to_value(Threshold::time(0.2)).unwrap();
        assert_eq!(wire["min_gain"], 0.2);
        assert!(wire.get("min_saved_bytes").is_none());
        let mixed = serde_json::json!({"min_gain": 0.2, "min_saved_bytes": 5, "description": "?"});
        assert!(serde_json::from_value::<Threshold>(mixed).is_err());
    }
}
