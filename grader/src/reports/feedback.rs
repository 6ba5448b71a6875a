//! Learner feedback, as nbgrader's `generate_feedback` gives it: a self-contained HTML page per
//! submission (the learner's cells, each compile error or panic under the line it is about,
//! every hidden test with its points and message, the score per exercise), and an annotated
//! copy of the notebook with the same feedback as markdown cells after the cells concerned.
//!
//! The places come from the engines: both render a cell's error with orm-eval's
//! `render_error`, whose diagnostics start with an `error…:` headline and give their place
//! in the learner's own cell as `--> cell:LINE:COLUMN`; a panic says `panicked at
//! cell:LINE:COLUMN`. [`placed_errors`] reads those places back.

use crate::notebook::{source_lines, Notebook};
use crate::points::Points;
use crate::reports::html::{self, text};
use crate::reports::report::{CellResult, CellStatus, GradeReport, Status, TestResult};
use crate::FileError;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// Points of a test as a number for charts and pages: the one conversion from the report's
/// exact [`Points`] (hundredths).
pub fn as_points(points: Points) -> f64 {
    points.as_f64()
}

/// One diagnostic of a failed cell: the line of the cell it is about (1-based; `None` when the
/// error has no place, such as a time limit) and its text as the learner reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedError {
    /// The line of the cell it is about, when known.
    pub line: Option<usize>,
    /// What the learner reads.
    pub text: String,
}

/// Splits a cell's rendered error into its diagnostics and finds the line each is about.
///
/// ```
/// use grader::reports::feedback::placed_errors;
/// let error = "error[E0425]: cannot find value `y`\n --> cell:3:5\n  |\n3 | y\n  | ^\n\n\
///              error: second\n --> cell:1:1";
/// let placed = placed_errors(error);
/// assert_eq!(placed.len(), 2);
/// assert_eq!(placed[0].line, Some(3));
/// assert_eq!(placed[1].line, Some(1));
/// assert_eq!(placed_errors("the cell panicked at cell:2:9: boom")[0].line, Some(2));
/// ```
pub fn placed_errors(error: &str) -> Vec<PlacedError> {
    let mut blocks: Vec<Vec<&str>> = Vec::new();
    for line in error.lines() {
        let starts = line.starts_with("error:") || line.starts_with("error[");
        match blocks.last_mut() {
            Some(block) if !starts => block.push(line),
            _ => blocks.push(vec![line]),
        }
    }
    blocks
        .into_iter()
        .map(|block| {
            let text = block.join("\n").trim_end().to_owned();
            let line = block
                .iter()
                .find_map(|l| {
                    l.trim_start()
                        .strip_prefix("--> cell:")
                        .and_then(first_number)
                })
                .or_else(|| {
                    text.find("panicked at cell:")
                        .and_then(|at| first_number(&text[at + "panicked at cell:".len()..]))
                });
            PlacedError { line, text }
        })
        .filter(|placed| !placed.text.is_empty())
        .collect()
}

fn first_number(text: &str) -> Option<usize> {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    text[..end].parse().ok().filter(|&n| n > 0)
}

/// Where feedback goes in the notebook: the tests of each exercise after the last cell tagged
/// with it, the rest at the end.
struct Layout<'a> {
    /// Cell results by notebook index.
    results: BTreeMap<usize, Vec<&'a CellResult>>,
    /// Exercise → the index of its last tagged cell.
    last_cell_of: BTreeMap<String, usize>,
}

impl<'a> Layout<'a> {
    fn new(report: &'a GradeReport, notebook: Option<&Notebook>) -> Layout<'a> {
        let mut results: BTreeMap<usize, Vec<&CellResult>> = BTreeMap::new();
        for cell in &report.cells {
            results.entry(cell.index).or_default().push(cell);
        }
        let mut last_cell_of = BTreeMap::new();
        if let Some(notebook) = notebook {
            for cell in &notebook.cells {
                if let Some(tag) = &cell.tag {
                    last_cell_of.insert(tag.exercise.clone(), cell.index);
                }
            }
        }
        Layout {
            results,
            last_cell_of,
        }
    }

    /// The exercises whose tests come right after cell `index`.
    fn exercises_after(&self, index: usize) -> Vec<&str> {
        self.last_cell_of
            .iter()
            .filter(|(_, &last)| last == index)
            .map(|(exercise, _)| exercise.as_str())
            .collect()
    }
}

fn tests_of<'a>(report: &'a GradeReport, exercise: &str) -> Vec<&'a TestResult> {
    report
        .tests
        .iter()
        .filter(|t| t.exercise == exercise)
        .collect()
}

fn score_line(report: &GradeReport, exercise: &str) -> String {
    let score = report.exercises.iter().find(|e| e.exercise == exercise);
    match score {
        Some(e) => format!(
            "{}/{}",
            html::points(as_points(e.score)),
            html::points(as_points(e.max_score))
        ),
        None => String::new(),
    }
}

/// The feedback page of one graded submission. `notebook` is the submission as the learner
/// handed it in (`None` when it could not be read: the page then has the tests only).
pub fn feedback_html(report: &GradeReport, notebook: Option<&Notebook>) -> String {
    let layout = Layout::new(report, notebook);
    let mut body = String::new();
    body.push_str(&format!(
        "<h1>Feedback: {}</h1>\n<p class=\"score\" id=\"score\">Score: {} of {} points</p>\n",
        text(&submission_name(report)),
        html::points(as_points(report.score)),
        html::points(as_points(report.max_score))
    ));
    body.push_str(
        "<table id=\"exercises\"><tr><th>exercise</th><th class=\"num\">points</th></tr>\n",
    );
    for exercise in &report.exercises {
        body.push_str(&format!(
            "<tr><td>{}</td><td class=\"num\">{}</td></tr>\n",
            text(&exercise.exercise),
            score_line(report, &exercise.exercise)
        ));
    }
    body.push_str("</table>\n");
    if let Some(error) = &report.error {
        body.push_str(&format!(
            "<p class=\"note\">Not graded: {}</p>\n",
            text(error)
        ));
    }
    for note in &report.notes {
        body.push_str(&format!("<p class=\"note\">Note: {}</p>\n", text(note)));
    }
    let mut shown: Vec<&str> = Vec::new();
    if let Some(notebook) = notebook {
        body.push_str("<h2>Your notebook</h2>\n");
        for cell in &notebook.cells {
            let results = layout
                .results
                .get(&cell.index)
                .map_or(&[][..], |r| r.as_slice());
            body.push_str(&cell_html(cell, results));
            for exercise in layout.exercises_after(cell.index) {
                body.push_str(&tests_html(report, exercise));
                shown.push(exercise);
            }
        }
    }
    let rest: Vec<&String> = report
        .exercises
        .iter()
        .map(|e| &e.exercise)
        .filter(|e| !shown.contains(&e.as_str()))
        .collect();
    if !rest.is_empty() {
        body.push_str("<h2>Tests</h2>\n");
        for exercise in rest {
            body.push_str(&tests_html(report, exercise));
        }
    }
    html::page(&format!("Feedback: {}", submission_name(report)), &body)
}

fn submission_name(report: &GradeReport) -> String {
    std::path::Path::new(&report.submission)
        .file_name()
        .map_or_else(
            || report.submission.clone(),
            |n| n.to_string_lossy().into_owned(),
        )
}

fn cell_html(cell: &crate::notebook::Cell, results: &[&CellResult]) -> String {
    if !cell.is_code {
        return format!(
            "<div class=\"cell markdown\" data-cell=\"{}\"><pre>{}</pre></div>\n",
            cell.index,
            text(&cell.source)
        );
    }
    let failed: Vec<&CellResult> = results
        .iter()
        .copied()
        .filter(|r| r.status == CellStatus::Failed)
        .collect();
    let mut under_line: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut at_end: Vec<String> = Vec::new();
    let line_count = cell.source.lines().count().max(1);
    for result in &failed {
        for placed in placed_errors(result.error.as_deref().unwrap_or("failed")) {
            match placed.line {
                Some(line) if line <= line_count => {
                    under_line.entry(line).or_default().push(placed.text)
                }
                _ => at_end.push(placed.text),
            }
        }
    }
    let mut rows = String::new();
    let lines: Vec<&str> = if cell.source.is_empty() {
        vec![""]
    } else {
        cell.source.lines().collect()
    };
    for (i, line) in lines.iter().enumerate() {
        rows.push_str(&format!(
            "<tr><td class=\"line\">{}</td><td><pre>{}</pre></td></tr>\n",
            i + 1,
            text(line)
        ));
        for diagnostic in under_line.get(&(i + 1)).into_iter().flatten() {
            rows.push_str(&diagnostic_row(diagnostic));
        }
    }
    for diagnostic in &at_end {
        rows.push_str(&diagnostic_row(diagnostic));
    }
    let tag = cell.tag.as_ref().map_or(String::new(), |t| {
        format!(" · {} {}", t.kind.as_str(), text(&t.exercise))
    });
    let state = if failed.is_empty() {
        String::new()
    } else {
        format!(
            " · failed ({})",
            text(
                &failed
                    .iter()
                    .filter_map(|r| r.error_kind.as_deref())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        )
    };
    let output: String = results
        .iter()
        .filter(|r| !r.output.trim().is_empty())
        .map(|r| {
            format!(
                "<details><summary>output</summary><pre>{}</pre></details>",
                text(&r.output)
            )
        })
        .collect();
    format!(
        "<div class=\"cell{}\" data-cell=\"{}\"><div class=\"head\">cell {}{tag}{state}</div>\
         <table class=\"code\">\n{rows}</table>{output}</div>\n",
        if failed.is_empty() { "" } else { " failed" },
        cell.index,
        cell.index,
    )
}

fn diagnostic_row(diagnostic: &str) -> String {
    format!(
        "<tr class=\"diagnostic\"><td class=\"line\"></td><td><pre>{}</pre></td></tr>\n",
        text(diagnostic)
    )
}

fn tests_html(report: &GradeReport, exercise: &str) -> String {
    let mut out = format!(
        "<div class=\"tests\" data-exercise=\"{}\"><h3>Tests of {}: {} points</h3>\n\
         <table><tr><th>test</th><th class=\"num\">points</th><th>status</th><th>message</th></tr>\n",
        html::attribute(exercise),
        text(exercise),
        score_line(report, exercise)
    );
    for test in tests_of(report, exercise) {
        let (class, status) = match test.status {
            Status::Passed => ("passed", "passed"),
            Status::Partial => ("partial", "partial credit"),
            Status::Failed => ("failed", "failed"),
        };
        out.push_str(&format!(
            "<tr class=\"test {class}\" data-test=\"{}\"><td>{}</td><td class=\"num\">{}/{}</td>\
             <td class=\"status\">{status}</td><td><pre>{}</pre></td></tr>\n",
            html::attribute(&test.name),
            text(&test.name),
            html::points(as_points(test.points)),
            html::points(as_points(test.max_points)),
            text(&test.feedback)
        ));
    }
    out.push_str("</table></div>\n");
    out
}

/// The submission with the feedback as markdown cells: after a failed cell its errors, after
/// each exercise's last cell the exercise's tests. Outputs are kept; the added cells carry
/// `metadata.grader.kind = "feedback"`, which grading ignores.
pub fn annotated_notebook(report: &GradeReport, notebook: &Notebook) -> Value {
    let layout = Layout::new(report, Some(notebook));
    let mut json = notebook.json.clone();
    let raw = json["cells"].as_array().cloned().unwrap_or_default();
    let mut cells = Vec::new();
    for (index, cell) in raw.into_iter().enumerate() {
        cells.push(cell);
        let mut notes = Vec::new();
        for result in layout.results.get(&index).into_iter().flatten() {
            if result.status == CellStatus::Failed {
                notes.push(format!(
                    "**This cell failed** ({}):\n\n{}",
                    md_text(result.error_kind.as_deref().unwrap_or("error")),
                    fenced(result.error.as_deref().unwrap_or(""))
                ));
            }
        }
        for exercise in layout.exercises_after(index) {
            notes.push(tests_markdown(report, exercise));
        }
        for note in notes {
            cells.push(json!({
                "cell_type": "markdown",
                "metadata": {"grader": {"kind": "feedback"}},
                "source": source_lines(&note),
            }));
        }
    }
    let mut head = format!(
        "## Feedback\n\n**Score: {} of {} points**\n\n",
        html::points(as_points(report.score)),
        html::points(as_points(report.max_score))
    );
    for exercise in &report.exercises {
        head.push_str(&format!(
            "- {}: {}\n",
            md_text(&exercise.exercise),
            score_line(report, &exercise.exercise)
        ));
    }
    for note in &report.notes {
        head.push_str(&format!("\nNote: {}\n", md_text(note)));
    }
    if let Some(error) = &report.error {
        head.push_str(&format!("\nNot graded:\n\n{}\n", fenced(error)));
    }
    cells.insert(
        0,
        json!({
            "cell_type": "markdown",
            "metadata": {"grader": {"kind": "feedback"}},
            "source": source_lines(&head),
        }),
    );
    // nbformat 4.5 wants an id on every cell; the added ones get ids of their own.
    if json["nbformat_minor"].as_u64().unwrap_or(0) >= 5 {
        for (n, cell) in cells.iter_mut().enumerate() {
            if cell.get("id").is_none() {
                cell["id"] = Value::String(format!("grader-feedback-{n}"));
            }
        }
    }
    json["cells"] = Value::Array(cells);
    json
}

fn tests_markdown(report: &GradeReport, exercise: &str) -> String {
    let mut out = format!(
        "**Tests of {}: {} points**\n\n",
        md_text(exercise),
        score_line(report, exercise)
    );
    for test in tests_of(report, exercise) {
        let status = match test.status {
            Status::Passed => "passed",
            Status::Partial => "partial credit",
            Status::Failed => "failed",
        };
        out.push_str(&format!(
            "- `{}` {}/{} {status}\n",
            test.name.replace('`', "'"),
            html::points(as_points(test.points)),
            html::points(as_points(test.max_points))
        ));
        if !test.feedback.is_empty() {
            out.push('\n');
            for line in fenced(&test.feedback).lines() {
                out.push_str(&format!("  {line}\n"));
            }
            out.push('\n');
        }
    }
    out
}

/// Text shown as markdown: HTML escaped (Jupyter renders HTML in markdown) and markdown's
/// emphasis and link characters backslash-escaped.
fn md_text(value: &str) -> String {
    let escaped = text(value);
    let mut out = String::with_capacity(escaped.len());
    for c in escaped.chars() {
        if "\\`*_[]#|!".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `value` as a fenced code block whose fence is longer than any run of backticks in it, so
/// nothing inside can close it (CommonMark, "Fenced code blocks").
/// Inside a fence, HTML is shown as text (CommonMark), so nothing is escaped there.
fn fenced(value: &str) -> String {
    let longest = value.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}text\n{value}\n{fence}")
}

/// Writes the feedback of `report` for the notebook at `submission`: the page to `page`, the
/// annotated notebook to `annotated` (each when given; their folders are made).
///
/// # Errors
/// A file that cannot be written, or an annotated notebook asked for a submission that is not
/// a readable notebook (the page is still written then, with the tests only).
pub fn write_feedback(
    report: &GradeReport,
    submission: &Path,
    page: Option<&Path>,
    annotated: Option<&Path>,
) -> Result<(), FeedbackError> {
    let notebook = Notebook::read(submission);
    let mut problems: Vec<FeedbackError> = Vec::new();
    if let Some(path) = page {
        if let Err(e) = write_file(path, &feedback_html(report, notebook.as_ref().ok())) {
            problems.push(e.into());
        }
    }
    if let Some(path) = annotated {
        match notebook {
            Ok(notebook) => {
                let text = crate::notebook::to_jupyter_json(&annotated_notebook(report, &notebook));
                if let Err(e) = write_file(path, &text) {
                    problems.push(e.into());
                }
            }
            Err(source) => problems.push(FeedbackError::NoNotebook {
                submission: submission.to_owned(),
                source,
            }),
        }
    }
    match problems.len() {
        0 => Ok(()),
        1 => Err(problems.remove(0)),
        _ => Err(FeedbackError::Several(problems)),
    }
}

/// Why the learner's feedback was not (all) written ([`write_feedback`]).
#[derive(Debug, thiserror::Error)]
pub enum FeedbackError {
    /// A page or notebook could not be written.
    #[error(transparent)]
    File(#[from] FileError),
    /// An annotated notebook was asked for a submission that is not a readable notebook.
    #[error("no annotated notebook for {}: {source}", submission.display())]
    NoNotebook {
        /// The submission.
        submission: std::path::PathBuf,
        /// Why it does not read.
        source: crate::notebook::NotebookError,
    },
    /// Both of the above, in that order (`; ` between their messages).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Several(Vec<FeedbackError>),
}

/// Writes `text` to `path`, making its folder.
///
/// # Errors
/// [`FileError`] naming the folder or the file that cannot be made or written.
pub fn write_file(path: &Path, text: &str) -> Result<(), FileError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| FileError {
            action: "make",
            path: parent.to_owned(),
            source,
        })?;
    }
    std::fs::write(path, text).map_err(FileError::write(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::report::tests::sample_report;

    fn notebook() -> Notebook {
        Notebook::parse(
            r##"{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
              {"id": "m", "cell_type": "markdown", "metadata": {}, "source": "# <Title>"},
              {"id": "a", "cell_type": "code", "metadata": {"grader": {"kind": "solution", "exercise": "ex1"}},
               "source": "let a = 1;\nlet b: i32 = \"<b>\";", "outputs": [], "execution_count": null}
            ]}"##,
        )
        .unwrap()
    }

    fn failing_report() -> GradeReport {
        let mut report = sample_report();
        report.cells.push(CellResult {
            index: 1,
            kind: Some(crate::notebook::CellKind::Solution),
            exercise: Some("ex1".into()),
            status: CellStatus::Failed,
            error_kind: Some("CompileError".into()),
            error: Some(
                "error[E0308]: mismatched types\n --> cell:2:14\n  |\n2 | let b: i32 = \"<b>\";\n  |              ^^^^^ expected `i32`".into(),
            ),
            output: String::new(),
            seconds: 0.0,
        });
        report
    }

    #[test]
    fn the_error_sits_under_its_line_and_everything_is_escaped() {
        let page = feedback_html(&failing_report(), Some(&notebook()));
        let line2 = page
            .find("let b: i32 = &quot;&lt;b&gt;&quot;;</pre>")
            .unwrap();
        let diagnostic = page.find("error[E0308]: mismatched types").unwrap();
        let line1 = page.find("let a = 1;").unwrap();
        assert!(line1 < line2 && line2 < diagnostic, "{page}");
        assert!(!page.contains("<b>"), "learner text is escaped");
        assert!(page.contains("# &lt;Title&gt;"));
        assert!(page.contains("data-test=\"a\""));
        assert!(page.contains("Score: 2 of 6 points"));
        // ex2 has no cell in the notebook: its tests come at the end.
        let ex2 = page.find("Tests of ex2").unwrap();
        assert!(ex2 > diagnostic);
    }

    #[test]
    fn the_annotated_notebook_adds_markdown_after_the_failed_cell() {
        let annotated = annotated_notebook(&failing_report(), &notebook());
        let cells = annotated["cells"].as_array().unwrap();
        let kinds: Vec<&str> = cells
            .iter()
            .map(|c| c["cell_type"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            ["markdown", "markdown", "code", "markdown", "markdown"]
        );
        let after = crate::notebook::source_text(&cells[3]["source"]);
        assert!(after.contains("This cell failed"), "{after}");
        assert!(after.contains("```text\nerror[E0308]"), "{after}");
        let tests = crate::notebook::source_text(&cells[4]["source"]);
        assert!(tests.contains("`b` 0/1 failed"), "{tests}");
        assert!(cells.iter().all(|c| c.get("id").is_some()));
        Notebook::parse(&annotated.to_string()).unwrap();
    }

    #[test]
    fn a_fence_outlasts_the_backticks_inside() {
        let fenced = fenced("a ```` b");
        assert!(fenced.starts_with("`````text"), "{fenced}");
    }
}
