//! The grader: runs a learner's exercises notebook (a submission) with Restart & Run All
//! semantics, then the assignment's hidden tests against what it defined, and reports a score.
//! Laid out by concern, as nbgrader's steps are:
//!
//! - [`assignment`] and [`notebook`]: the teacher's solution notebook read as exercises and
//!   hidden tests, and `assign`, which makes the learner's notebook from it;
//! - [`grading`]: the autograde step — what of a submission runs, and the two engines that run
//!   it (one compiled program, or evcxr cell by cell);
//! - [`containment`]: the sandbox and process housekeeping around the learner's code;
//! - [`points`]: points and scores counted exactly, in hundredths;
//! - [`reports`]: the result as a table, JSON, Gradescope JSON, GitHub Classroom and JUnit XML,
//!   the learner's feedback page and the teacher's class report;
//! - [`scale`]: many submissions — batches with workers, shards, gradebooks and `merge`, the
//!   Gradescope autograder bundle, the Canvas export;
//! - [`similarity`]: which learners' answers share code (MOSS's winnowing), for a teacher.

#![warn(missing_docs)]

pub mod assignment;
pub mod cli;
pub mod containment;
pub mod grading;
pub mod notebook;
pub mod points;
pub mod reports;
pub mod scale;
pub mod similarity;

use std::path::{Path, PathBuf};

/// A file or folder that could not be read or written: `cannot read PATH: why`. The
/// concerns' error enums carry it as a variant where a file is what failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} {}: {source}", path.display())]
pub struct FileError {
    /// `read`, `write`, `make` (a folder).
    pub action: &'static str,
    /// The file or folder.
    pub path: PathBuf,
    /// The operating system's error.
    pub source: std::io::Error,
}

impl FileError {
    /// `cannot read PATH`, as a `map_err` argument.
    pub fn read(path: &Path) -> impl FnOnce(std::io::Error) -> FileError + '_ {
        move |source| FileError {
            action: "read",
            path: path.to_owned(),
            source,
        }
    }

    /// `cannot write PATH`, as a `map_err` argument.
    pub fn write(path: &Path) -> impl FnOnce(std::io::Error) -> FileError + '_ {
        move |source| FileError {
            action: "write",
            path: path.to_owned(),
            source,
        }
    }
}

/// A CSV file whose text does not read as CSV: `PATH: why` (the csv crate's error names the
/// line).
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct CsvError {
    /// The file.
    pub path: PathBuf,
    /// The CSV reader's error.
    pub source: csv::Error,
}

impl CsvError {
    /// `PATH: why`, as a `map_err` argument.
    pub fn at(path: &Path) -> impl FnOnce(csv::Error) -> CsvError + '_ {
        move |source| CsvError {
            path: path.to_owned(),
            source,
        }
    }
}

/// A file that is not JSON: `PATH is not JSON: why`.
#[derive(Debug, thiserror::Error)]
#[error("{} is not JSON: {source}", path.display())]
pub struct JsonError {
    /// The file.
    pub path: PathBuf,
    /// The JSON reader's error.
    pub source: serde_json::Error,
}

/// Why the solution notebook could not be read as an assignment ([`read_assignment`]).
#[derive(Debug, thiserror::Error)]
pub enum ReadAssignmentError {
    /// The file is not a readable notebook (its message names the path).
    #[error(transparent)]
    Notebook(#[from] notebook::NotebookError),
    /// The notebook is not an assignment.
    #[error("{}: {source}", path.display())]
    Assignment {
        /// The solution notebook's path.
        path: PathBuf,
        /// What is wrong in it (boxed: a large error behind a small `Result`).
        source: Box<assignment::AssignmentError>,
    },
}

impl ReadAssignmentError {
    /// `ReadAssignmentError::Assignment` of the notebook at `path`, as a `map_err` argument.
    fn in_file(path: &Path) -> impl FnOnce(assignment::AssignmentError) -> Self + '_ {
        move |source| ReadAssignmentError::Assignment {
            path: path.to_owned(),
            source: Box::new(source),
        }
    }
}

/// Reads and checks the solution notebook.
///
/// # Errors
/// [`ReadAssignmentError`]: the file is not a notebook, or the notebook is not an assignment.
pub fn read_assignment(path: &Path) -> Result<assignment::Assignment, ReadAssignmentError> {
    let notebook = notebook::Notebook::read(path)?;
    assignment::Assignment::from_notebook(notebook).map_err(ReadAssignmentError::in_file(path))
}

/// The learner's notebook made from the solution notebook at `path` ([`assignment::assign`]),
/// as nbformat JSON.
///
/// # Errors
/// [`ReadAssignmentError`]: the file is not a notebook, or the notebook is not an assignment.
pub fn learner_notebook(path: &Path) -> Result<serde_json::Value, ReadAssignmentError> {
    assignment::assign(&read_assignment(path)?).map_err(ReadAssignmentError::in_file(path))
}
