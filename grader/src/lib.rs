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

pub mod assignment;
pub mod cli;
pub mod containment;
pub mod grading;
pub mod notebook;
pub mod points;
pub mod reports;
pub mod scale;
pub mod similarity;

use std::path::Path;

/// Reads and checks the solution notebook.
pub fn read_assignment(path: &Path) -> Result<assignment::Assignment, String> {
    let notebook = notebook::Notebook::read(path).map_err(|e| e.to_string())?;
    assignment::Assignment::from_notebook(notebook).map_err(|e| format!("{}: {e}", path.display()))
}
