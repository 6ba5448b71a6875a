//! Reading nbformat 4 notebooks and the grader's cell metadata (`metadata.grader`).

use serde_json::Value;
use std::path::{Path, PathBuf};

/// What a cell is for, from `metadata.grader.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CellKind {
    /// The learner's answer (regions between `// BEGIN SOLUTION` and `// END SOLUTION`).
    Solution,
    /// Visible checks the learner runs.
    Check,
    /// Hidden tests (only in the teacher's notebook).
    Tests,
    /// The learner's self-check of an exercise's public tests, written by `grader assign`
    /// (`metadata.grader.tests` holds those tests, for `grader check`); not run at grading.
    Public,
    /// A manually graded answer (nbgrader's "manually graded answer" cell): a code or markdown
    /// cell whose first line is `// MANUAL <name> (<N> points)` (code) or
    /// `<!-- MANUAL <name> (<N> points) -->` (markdown). Kept for the learner's answer, never
    /// run at grading; `grader batch` collects the answers into a review sheet.
    Manual,
}

impl CellKind {
    fn parse(text: &str) -> Option<CellKind> {
        match text {
            "solution" => Some(CellKind::Solution),
            "check" => Some(CellKind::Check),
            "tests" => Some(CellKind::Tests),
            "public" => Some(CellKind::Public),
            "manual" => Some(CellKind::Manual),
            _ => None,
        }
    }

    /// The spelling in `metadata.grader.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            CellKind::Solution => "solution",
            CellKind::Check => "check",
            CellKind::Tests => "tests",
            CellKind::Public => "public",
            CellKind::Manual => "manual",
        }
    }
}

/// `metadata.grader` of a cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraderTag {
    /// What the cell is for.
    pub kind: CellKind,
    /// Which exercise it belongs to.
    pub exercise: String,
}

/// One cell, as the grader sees it.
#[derive(Debug, Clone)]
pub struct Cell {
    /// Position in the notebook (0-based, counting every cell).
    pub index: usize,
    /// nbformat 4.5's cell id, which Jupyter keeps while the cell is edited (`None` before 4.5).
    pub id: Option<String>,
    /// A code cell (else markdown or raw).
    pub is_code: bool,
    /// Its source, joined into one text.
    pub source: String,
    /// Its `metadata.grader`, when that names a known kind and an exercise.
    pub tag: Option<GraderTag>,
}

/// Why a notebook could not be read.
#[derive(Debug, thiserror::Error)]
pub enum NotebookError {
    /// The file could not be read (missing, unreadable).
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The notebook's path.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file is larger than a notebook may be (a submission is untrusted input).
    #[error("{} is {size} bytes, more than a notebook may be ({max})", path.display())]
    TooLarge {
        /// The notebook's path.
        path: PathBuf,
        /// Its size, in bytes.
        size: u64,
        /// The largest size read, in bytes.
        max: u64,
    },
    /// The text is not JSON.
    #[error("not a JSON notebook: {0}")]
    NotJson(#[source] serde_json::Error),
    /// The JSON has no `nbformat: 4` (nbformat 3 and other JSON are refused).
    #[error("not an nbformat 4 notebook")]
    NotNbformat4 {
        /// The `nbformat` the JSON has, if any.
        found: Option<u64>,
    },
    /// The JSON has no `cells` list.
    #[error("the notebook has no list of cells")]
    NoCells,
    /// The file's text is not a notebook ([`Notebook::read`]: the path, then why).
    #[error("{}: {source}", path.display())]
    InFile {
        /// The notebook's path.
        path: PathBuf,
        /// Why its text is not a notebook.
        source: Box<NotebookError>,
    },
}

/// A notebook: its JSON (kept whole, so that writing it back loses nothing) and its cells.
#[derive(Debug, Clone)]
pub struct Notebook {
    /// The notebook's JSON, whole.
    pub json: Value,
    /// Its cells, in order.
    pub cells: Vec<Cell>,
}

/// Reading a notebook file never trusts its size: a submission is untrusted input.
const MAX_NOTEBOOK_BYTES: u64 = 64 * 1024 * 1024;

impl Notebook {
    /// Reads the notebook at `path` (at most 64 MiB).
    ///
    /// # Errors
    /// [`NotebookError`]: the file cannot be read, is too large, or is not an nbformat 4
    /// notebook (then [`NotebookError::InFile`] names the path).
    pub fn read(path: &Path) -> Result<Notebook, NotebookError> {
        let unreadable = |source| NotebookError::Read {
            path: path.to_owned(),
            source,
        };
        let size = std::fs::metadata(path).map_err(unreadable)?.len();
        if size > MAX_NOTEBOOK_BYTES {
            return Err(NotebookError::TooLarge {
                path: path.to_owned(),
                size,
                max: MAX_NOTEBOOK_BYTES,
            });
        }
        let text = std::fs::read(path).map_err(unreadable)?;
        let text = String::from_utf8_lossy(&text);
        Notebook::parse(&text).map_err(|e| NotebookError::InFile {
            path: path.to_owned(),
            source: Box::new(e),
        })
    }

    /// Parses a notebook's text.
    ///
    /// # Errors
    /// [`NotebookError`]: not JSON, not nbformat 4, no `cells` list.
    pub fn parse(text: &str) -> Result<Notebook, NotebookError> {
        let json: Value = serde_json::from_str(text).map_err(NotebookError::NotJson)?;
        let nbformat = json["nbformat"].as_u64();
        if nbformat != Some(4) {
            return Err(NotebookError::NotNbformat4 { found: nbformat });
        }
        let Some(raw_cells) = json["cells"].as_array() else {
            return Err(NotebookError::NoCells);
        };
        let cells = raw_cells
            .iter()
            .enumerate()
            .map(|(index, cell)| Cell {
                index,
                id: cell["id"].as_str().map(str::to_owned),
                is_code: cell["cell_type"] == "code",
                source: source_text(&cell["source"]),
                tag: grader_tag(&cell["metadata"]),
            })
            .collect();
        Ok(Notebook { json, cells })
    }

    /// The code cells.
    pub fn code_cells(&self) -> impl Iterator<Item = &Cell> {
        self.cells.iter().filter(|c| c.is_code)
    }
}

/// nbformat allows the source as one string or as a list of lines.
pub fn source_text(source: &Value) -> String {
    match source {
        Value::String(text) => text.clone(),
        Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

/// The source as nbformat's list of lines (each but the last ending in `\n`), as Jupyter writes it.
pub fn source_lines(text: &str) -> Value {
    Value::Array(
        text.split_inclusive('\n')
            .map(|line| Value::String(line.to_owned()))
            .collect(),
    )
}

fn grader_tag(metadata: &Value) -> Option<GraderTag> {
    let grader = metadata.get("grader")?;
    let kind = CellKind::parse(grader.get("kind")?.as_str()?)?;
    let exercise = grader.get("exercise")?.as_str()?.trim();
    if exercise.is_empty() {
        return None;
    }
    Some(GraderTag {
        kind,
        exercise: exercise.to_owned(),
    })
}

/// Writes JSON as Jupyter does (keys sorted, one-space indent, a final newline), so files diff
/// well and the same notebook always gives the same bytes, whatever serde_json's features.
pub fn to_jupyter_json(value: &Value) -> String {
    let value = sorted(value);
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    serde::Serialize::serialize(&value, &mut serializer).expect("JSON values always serialize");
    let mut text = String::from_utf8(out).expect("serde_json writes UTF-8");
    text.push('\n');
    text
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&map[k])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cells_and_tags() {
        let nb = Notebook::parse(
            r##"{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
                {"cell_type": "markdown", "metadata": {}, "source": ["# Title"]},
                {"cell_type": "code", "metadata": {"grader": {"kind": "solution", "exercise": "ex1"}},
                 "source": ["let a = 1;\n", "a"], "outputs": [], "execution_count": null},
                {"cell_type": "code", "metadata": {"grader": {"kind": "bogus", "exercise": "ex1"}},
                 "source": "b", "outputs": [], "execution_count": null}
            ]}"##,
        )
        .unwrap();
        assert_eq!(nb.cells.len(), 3);
        assert!(!nb.cells[0].is_code);
        assert_eq!(nb.cells[1].source, "let a = 1;\na");
        assert_eq!(
            nb.cells[1].tag,
            Some(GraderTag {
                kind: CellKind::Solution,
                exercise: "ex1".into()
            })
        );
        assert_eq!(nb.cells[2].tag, None, "unknown kinds are no tag");
        assert_eq!(nb.code_cells().count(), 2);
    }

    #[test]
    fn rejects_what_is_not_a_notebook() {
        let error = Notebook::parse("not json").unwrap_err();
        assert!(matches!(error, NotebookError::NotJson(_)), "{error:?}");
        assert!(
            error.to_string().starts_with("not a JSON notebook: "),
            "{error}"
        );
        assert!(std::error::Error::source(&error).is_some());
        assert!(matches!(
            Notebook::parse(r#"{"nbformat": 3, "cells": []}"#),
            Err(NotebookError::NotNbformat4 { found: Some(3) })
        ));
        assert!(matches!(
            Notebook::parse(r#"{"cells": []}"#),
            Err(NotebookError::NotNbformat4 { found: None })
        ));
        assert!(matches!(
            Notebook::parse(r#"{"nbformat": 4}"#),
            Err(NotebookError::NoCells)
        ));
    }

    #[test]
    fn a_file_that_is_missing_or_not_a_notebook_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.ipynb");
        match Notebook::read(&missing) {
            Err(NotebookError::Read { path, source }) => {
                assert_eq!(path, missing);
                assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
            }
            other => panic!("{other:?}"),
        }
        let bad = dir.path().join("bad.ipynb");
        std::fs::write(&bad, r#"{"nbformat": 3, "cells": []}"#).unwrap();
        let error = Notebook::read(&bad).unwrap_err();
        match &error {
            NotebookError::InFile { path, source } => {
                assert_eq!(path, &bad);
                assert!(matches!(
                    **source,
                    NotebookError::NotNbformat4 { found: Some(3) }
                ));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            error.to_string(),
            format!("{}: not an nbformat 4 notebook", bad.display())
        );
    }

    #[test]
    fn source_lines_round_trip() {
        let text = "a\nb\n\nc";
        let lines = source_lines(text);
        assert_eq!(lines, serde_json::json!(["a\n", "b\n", "\n", "c"]));
        assert_eq!(source_text(&lines), text);
    }
}
