//! Exports of a run, an end-to-end run, a keep decision or a history
//! listing. Each result becomes one [`Report`] (its heading, tables of
//! cells and sentences: [`reports`]); each format is one exporter over that
//! model, returning the bytes to write, as hyperfine's exporters do:
//! Markdown tables to paste into a pull request ([`markdown`]), CSV of the
//! first table in base units for a spreadsheet ([`csv`]), the full JSON
//! result ([`json`]). Every number carries its unit, in the column header
//! or beside it.

mod csv;
mod json;
mod markdown;
mod reports;

pub use self::csv::Csv;
pub use self::json::Json;
pub use self::markdown::Markdown;

use crate::bench::RunResult;
use crate::e2e::E2eResult;
use crate::history::HistoryResult;
use crate::keep::KeepResult;

/// What is exported.
#[derive(Debug, Clone, Copy)]
pub enum Exported<'a> {
    /// One run of `abbench run`.
    Run(&'a RunResult),
    /// One run of `abbench e2e`.
    E2e(&'a E2eResult),
    /// One decision of `abbench keep`.
    Keep(&'a KeepResult),
    /// A listing of `abbench history`.
    History(&'a HistoryResult),
}

/// A file format.
pub trait Exporter {
    /// The file's bytes.
    fn serialize(&self, what: Exported) -> Vec<u8>;
}

/// A result as every format sees it.
pub struct Report {
    /// The heading (Markdown).
    pub title: String,
    /// Sentences before the tables (Markdown).
    pub lead: Vec<String>,
    /// The figures; CSV writes the first.
    pub tables: Vec<Table>,
    /// Sentences after the tables: the verdict or decision, warnings (Markdown).
    pub tail: Vec<String>,
}

/// Rows of cells under named columns.
pub struct Table {
    /// The columns, in order.
    pub columns: Vec<Column>,
    /// One cell per column in each row.
    pub rows: Vec<Vec<Cell>>,
}

/// A column: its Markdown header (with the unit) and its CSV name (in base
/// units); a column may belong to one format only.
pub struct Column {
    /// The Markdown header, or `None` when only CSV has it.
    pub markdown: Option<&'static str>,
    /// The CSV header, or `None` when only Markdown has it.
    pub csv: Option<&'static str>,
    /// Numbers are right-aligned in Markdown.
    pub numeric: bool,
}

impl Column {
    /// In both formats.
    fn both(markdown: &'static str, csv: &'static str, numeric: bool) -> Self {
        Column {
            markdown: Some(markdown),
            csv: Some(csv),
            numeric,
        }
    }
    /// Markdown only.
    fn shown(markdown: &'static str, numeric: bool) -> Self {
        Column {
            markdown: Some(markdown),
            csv: None,
            numeric,
        }
    }
    /// CSV only.
    fn raw(csv: &'static str) -> Self {
        Column {
            markdown: None,
            csv: Some(csv),
            numeric: true,
        }
    }
}

/// One value: as shown (with its unit) and as raw (base units, for CSV).
#[derive(Clone)]
pub struct Cell {
    /// For people.
    pub shown: String,
    /// For a spreadsheet.
    pub raw: String,
}

impl Cell {
    /// The same text in both formats.
    fn text(text: impl Into<String>) -> Self {
        let text = text.into();
        Cell {
            shown: text.clone(),
            raw: text,
        }
    }
    /// A shown text and a raw value.
    fn value(shown: impl Into<String>, raw: impl Into<String>) -> Self {
        Cell {
            shown: shown.into(),
            raw: raw.into(),
        }
    }
}

impl Exported<'_> {
    /// The result as a report.
    fn report(self) -> Report {
        match self {
            Exported::Run(r) => reports::run(r),
            Exported::E2e(r) => reports::e2e(r),
            Exported::Keep(k) => reports::keep(k),
            Exported::History(h) => reports::history(h),
        }
    }
}
