//! Showing rows as tables: plain text (comfy-table) for terminals, HTML for notebooks.

use crate::engine::ResultSet;
use crate::model::{Model, Obj};
use crate::value::Value;
use std::fmt;

/// Rows ready to show: a header and cells as text.
#[derive(Clone, PartialEq)]
pub struct TableView {
    /// The column names.
    pub header: Vec<String>,
    /// The cells, row by row, as text.
    pub rows: Vec<Vec<String>>,
}

impl TableView {
    /// The table as HTML (`<table>` with a `<thead>`), as Jupyter shows a `text/html` result.
    pub fn to_html(&self) -> String {
        let mut html = String::from("<table>\n<thead><tr>");
        for h in &self.header {
            html.push_str(&format!("<th>{}</th>", escape_html(h)));
        }
        html.push_str("</tr></thead>\n<tbody>\n");
        for row in &self.rows {
            html.push_str("<tr>");
            for cell in row {
                html.push_str(&format!("<td>{}</td>", escape_html(cell)));
            }
            html.push_str("</tr>\n");
        }
        html.push_str(&format!(
            "</tbody>\n</table>\n<p>{} row{}</p>",
            self.rows.len(),
            if self.rows.len() == 1 { "" } else { "s" }
        ));
        html
    }

    /// evcxr's rich-output protocol: a notebook shows the HTML, a terminal the text.
    pub fn evcxr_display(&self) {
        println!(
            "EVCXR_BEGIN_CONTENT text/html\n{}\nEVCXR_END_CONTENT",
            self.to_html()
        );
        println!("EVCXR_BEGIN_CONTENT text/plain\n{self}\nEVCXR_END_CONTENT");
    }
}

impl fmt::Display for TableView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut table = comfy_table::Table::new();
        table.load_preset(comfy_table::presets::ASCII_MARKDOWN);
        table.set_header(&self.header);
        for row in &self.rows {
            table.add_row(row);
        }
        write!(f, "{table}")
    }
}

/// Debug shows the table too: it is what a notebook falls back to when rich output is unavailable.
impl fmt::Debug for TableView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn cell(value: &Value) -> String {
    value.to_string()
}

/// Anything that can be shown as a table: `users.to_table()`.
pub trait Tabulate {
    /// The rows as a table of text, ready to print or render as HTML.
    fn to_table(&self) -> TableView;
}

impl<T: Model> Tabulate for [Obj<T>] {
    fn to_table(&self) -> TableView {
        let header = T::TABLE
            .columns
            .iter()
            .map(|c| c.name.to_string())
            .collect();
        let rows = self
            .iter()
            .map(|o| {
                let v = o.borrow();
                (0..T::COLUMN_COUNT)
                    .map(|i| cell(&v.column_value(i).to_owned()))
                    .collect()
            })
            .collect();
        TableView { header, rows }
    }
}

impl<T: Model> Tabulate for Vec<Obj<T>> {
    fn to_table(&self) -> TableView {
        self.as_slice().to_table()
    }
}

impl Tabulate for ResultSet {
    fn to_table(&self) -> TableView {
        TableView {
            header: self.columns.clone(),
            rows: self
                .rows
                .iter()
                .map(|r| r.iter().map(cell).collect())
                .collect(),
        }
    }
}

impl ResultSet {
    /// Core results render as a table in a notebook.
    pub fn evcxr_display(&self) {
        self.to_table().evcxr_display()
    }
}

impl fmt::Display for ResultSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_table())
    }
}
