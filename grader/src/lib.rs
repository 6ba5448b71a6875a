//! The grader: runs a learner's exercises notebook (a submission) with the kernel's evaluator,
//! then the assignment's hidden tests in the same context, and reports a score.
//!
//! - [`assignment`]: the teacher's solution notebook read as exercises and hidden tests, and
//!   `assign`, which makes the learner's notebook from it;
//! - [`engine`]: grading one submission, by the [`program`] engine (the submission compiled as
//!   one program) or by evcxr (time limits, restarts after crashes, verdicts);
//! - [`submission`]: what of a submission runs (given cells restored, the notebook in an upload);
//! - [`sandbox`]: operating-system limits on the process that runs the submission's code;
//! - [`report`] and [`formats`]: the result as a table, JSON, Gradescope JSON and JUnit XML;
//! - [`batch`]: a folder of submissions with worker processes, into a CSV gradebook, whole or
//!   one [`shard`] of it; [`gradebook`]: the CSV, partial gradebooks and `merge`;
//! - [`gradescope`]: the autograder zip for Gradescope.

pub mod analysis;
pub mod assignment;
pub mod batch;
pub mod cli;
pub mod engine;
pub mod formats;
pub mod gradebook;
pub mod gradescope;
pub mod notebook;
pub mod process;
pub mod program;
pub mod report;
pub mod sandbox;
pub mod shard;
pub mod submission;
pub mod testcode;

use std::path::Path;

/// Reads and checks the solution notebook.
pub fn read_assignment(path: &Path) -> Result<assignment::Assignment, String> {
    let notebook = notebook::Notebook::read(path).map_err(|e| e.to_string())?;
    assignment::Assignment::from_notebook(notebook).map_err(|e| format!("{}: {e}", path.display()))
}
