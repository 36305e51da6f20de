//! The reference documents agents read, embedded in the binary and served
//! as MCP resources `abbench://references/<file>` (no path lookup at run time).

/// One embedded reference document.
#[derive(Debug, Clone, Copy)]
pub struct Reference {
    /// File name under `references/`.
    pub file: &'static str,
    /// Human title.
    pub title: &'static str,
    /// One line on what it is for.
    pub description: &'static str,
    /// The Markdown text.
    pub text: &'static str,
}

/// Every reference, in reading order.
pub const REFERENCES: &[Reference] = &[
    Reference {
        file: "micro-benchmark.md",
        title: "The A/B micro-benchmark method",
        description: "How abbench's A/B micro-benchmarks work: the script, the four domains, thresholds and the four keep conditions.",
        text: include_str!("../../references/micro-benchmark.md"),
    },
    Reference {
        file: "tools.md",
        title: "abbench tools",
        description: "Each tool's arguments and result fields, with an example call and result.",
        text: include_str!("../../references/tools.md"),
    },
    Reference {
        file: "statistics.md",
        title: "How abbench reaches a verdict",
        description: "The statistics behind run_ab_benchmark's verdicts: fresh interleaved processes, Hodges-Lehmann intervals, planned looks.",
        text: include_str!("../../references/statistics.md"),
    },
];

/// The MCP resource URI of a reference file.
pub fn uri(file: &str) -> String {
    format!("abbench://references/{file}")
}

/// The reference behind a resource URI.
pub fn by_uri(uri: &str) -> Option<&'static Reference> {
    let file = uri.strip_prefix("abbench://references/")?;
    REFERENCES.iter().find(|r| r.file == file)
}
