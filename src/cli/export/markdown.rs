//! GitHub-flavoured Markdown: the heading, the sentences and every table,
//! numbers with their units.

use super::{Exported, Exporter, Table};

/// GitHub-flavoured Markdown tables.
pub struct Markdown;

impl Exporter for Markdown {
    fn serialize(&self, what: Exported) -> Vec<u8> {
        let report = what.report();
        let mut out = String::new();
        if !report.title.is_empty() {
            out.push_str(&format!("### {}\n\n", report.title));
        }
        for sentence in &report.lead {
            out.push_str(&format!("{sentence}\n\n"));
        }
        for (i, table) in report.tables.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&render(table));
        }
        for sentence in &report.tail {
            out.push_str(&format!("\n{sentence}\n"));
        }
        out.into_bytes()
    }
}

/// A table's Markdown columns.
fn render(table: &Table) -> String {
    let shown: Vec<usize> = (0..table.columns.len())
        .filter(|&i| table.columns[i].markdown.is_some())
        .collect();
    let header: Vec<&str> = shown
        .iter()
        .map(|&i| table.columns[i].markdown.unwrap_or_default())
        .collect();
    let align: Vec<&str> = shown
        .iter()
        .map(|&i| {
            if table.columns[i].numeric {
                "---:"
            } else {
                ":---"
            }
        })
        .collect();
    let mut out = format!("| {} |\n|{}|\n", header.join(" | "), align.join("|"));
    for row in &table.rows {
        let cells: Vec<String> = shown.iter().map(|&i| cell(&row[i].shown)).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

/// A cell: `|` and newlines would break the table.
pub(super) fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }
}
