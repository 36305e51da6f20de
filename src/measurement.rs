//! The parser of the `ABBENCH {json}` line a generated script prints.
//! Pure and defensive: the input is untrusted text from user code.

use serde::Deserialize;

/// The prefix of the measurement line.
pub const LINE_PREFIX: &str = "ABBENCH ";

/// The fields of an `ABBENCH` line that abbench uses.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasurementLine {
    /// `a` or `b`.
    pub variant: String,
    /// The domain the script was generated for, when it says.
    pub domain: Option<String>,
    /// The unit of `value` (`s` or `bytes`).
    pub unit: Option<String>,
    /// The measured value; `None` when the script defers to memray.
    pub value: Option<f64>,
    /// Calls per repeat (cpu/structure), for the timer-resolution check.
    pub number: Option<u64>,
    /// Memory: who measured, `memray` or `tracemalloc`.
    pub measured_by: Option<String>,
    /// Memory under memray: setup's live bytes plus the variant's own peak.
    pub process_peak_bytes: Option<f64>,
}

#[derive(Deserialize)]
struct RawLine {
    variant: String,
    #[serde(default)]
    domain: Option<String>,
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    value: Option<f64>,
    #[serde(default)]
    number: Option<u64>,
    #[serde(default)]
    measured_by: Option<String>,
    #[serde(default)]
    process_peak_bytes: Option<f64>,
}

/// The JSON text of the last `ABBENCH` line in `stdout`, if any.
pub fn last_line(stdout: &str) -> Option<&str> {
    stdout
        .lines()
        .rev()
        .find_map(|l| l.trim_end_matches('\r').strip_prefix(LINE_PREFIX))
}

/// Parses the JSON text of an `ABBENCH` line; the error says what is wrong.
pub fn parse_line(json: &str) -> Result<MeasurementLine, String> {
    let raw: RawLine = serde_json::from_str(json).map_err(|e| {
        format!("not a JSON object with a string `variant` and a numeric or null `value` ({e})")
    })?;
    if let Some(v) = raw.value {
        if !v.is_finite() || v < 0.0 {
            return Err(format!("`value` must be a finite number >= 0, got {v}"));
        }
    }
    if let Some(v) = raw.process_peak_bytes {
        if !v.is_finite() || v < 0.0 {
            return Err(format!(
                "`process_peak_bytes` must be a finite number >= 0, got {v}"
            ));
        }
    }
    Ok(MeasurementLine {
        variant: raw.variant,
        domain: raw.domain,
        unit: raw.unit,
        value: raw.value,
        number: raw.number,
        measured_by: raw.measured_by,
        process_peak_bytes: raw.process_peak_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_last_line() {
        let out = "hello\nABBENCH {\"variant\":\"a\",\"value\":1}\nnoise\nABBENCH {\"variant\":\"a\",\"value\":2}\r\nbye\n";
        let line = parse_line(last_line(out).unwrap()).unwrap();
        assert_eq!(line.value, Some(2.0));
        assert_eq!(last_line("no line here\n"), None);
    }

    #[test]
    fn rejects_bad_lines() {
        for bad in [
            "{",
            "[]",
            "{\"value\": 1}",
            "{\"variant\": \"a\", \"value\": \"fast\"}",
            "{\"variant\":\"a\",\"value\":-1}",
        ] {
            assert!(parse_line(bad).is_err(), "{bad}");
        }
        let ok = parse_line(
            "{\"variant\":\"b\",\"domain\":\"memory\",\"value\":null,\"unit\":\"bytes\"}",
        )
        .unwrap();
        assert_eq!((ok.value, ok.unit.as_deref()), (None, Some("bytes")));
    }
}
