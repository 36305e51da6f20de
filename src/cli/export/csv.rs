//! Comma-separated values (RFC 4180 quoting): the report's first table,
//! its CSV columns, numbers raw in base units (seconds, bytes).

use super::{Exported, Exporter};

/// Comma-separated values with a header row.
pub struct Csv;

impl Exporter for Csv {
    fn serialize(&self, what: Exported) -> Vec<u8> {
        let report = what.report();
        let Some(table) = report.tables.first() else {
            return Vec::new();
        };
        let kept: Vec<usize> = (0..table.columns.len())
            .filter(|&i| table.columns[i].csv.is_some())
            .collect();
        let header: Vec<String> = kept
            .iter()
            .map(|&i| table.columns[i].csv.unwrap_or_default().to_string())
            .collect();
        let mut out = row(&header);
        for cells in &table.rows {
            let raw: Vec<String> = kept.iter().map(|&i| cells[i].raw.clone()).collect();
            out.push_str(&row(&raw));
        }
        out.into_bytes()
    }
}

/// One CSV field, quoted when it must be.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn row(cells: &[String]) -> String {
    let mut line = cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(",");
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_what_it_must() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(row(&["x".into(), "1\n2".into()]), "x,\"1\n2\"\n");
    }
}
