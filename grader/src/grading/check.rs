//! `grader check NOTEBOOK`: the learner's notebook against its own public tests, from the
//! command line (nbgrader's `validate`, otter's `check`): Restart & Run All, then every public
//! test, on the same engines as grading. Needs nothing hidden: the public tests are in the
//! notebook's check cells (`metadata.grader.tests`, written by `grader assign`).

use crate::assignment::{parse_tests, Assignment, AssignmentError};
use crate::notebook::{CellKind, Notebook};
use crate::reports::report::{first_lines, GradeReport, Status};

/// The learner's notebook as an assignment whose tests are its public tests.
///
/// # Errors
/// [`AssignmentError`] when a check cell's tests do not parse, or there are none.
pub fn public_assignment(notebook: Notebook) -> Result<Assignment, AssignmentError> {
    let mut exercises: Vec<String> = Vec::new();
    let mut tests = Vec::new();
    for cell in &notebook.cells {
        let Some(tag) = &cell.tag else { continue };
        if !exercises.contains(&tag.exercise) {
            exercises.push(tag.exercise.clone());
        }
        if tag.kind != CellKind::Public {
            continue;
        }
        let text = notebook.json["cells"][cell.index]["metadata"]["grader"]["tests"]
            .as_str()
            .unwrap_or_default();
        let found = parse_tests(text, &tag.exercise).map_err(|source| AssignmentError::Check {
            cell: cell.index,
            exercise: tag.exercise.clone(),
            source,
        })?;
        tests.extend(found);
    }
    if tests.is_empty() {
        return Err(AssignmentError::NoPublicTests);
    }
    Ok(Assignment {
        notebook,
        exercises,
        tests,
        // A learner's self-check scores no manual question.
        manual: Vec::new(),
    })
}

/// The result as otter's `check` prints it: per exercise, each public test passed or failed
/// with its message, the public points earned, and that the hidden tests run at grading.
pub fn summary(report: &GradeReport) -> String {
    let mut out = String::new();
    for exercise in &report.exercises {
        let tests: Vec<_> = report
            .tests
            .iter()
            .filter(|t| t.exercise == exercise.exercise)
            .collect();
        if tests.is_empty() {
            continue;
        }
        let passed = tests.iter().filter(|t| t.status == Status::Passed).count();
        if passed == tests.len() {
            out.push_str(&format!(
                "{} results: All public tests passed!\n",
                exercise.exercise
            ));
        } else {
            out.push_str(&format!(
                "{} results: {passed} of {} public tests passed\n",
                exercise.exercise,
                tests.len()
            ));
        }
        for test in tests {
            match test.status {
                Status::Passed => out.push_str(&format!(
                    "    {} passed ({}/{} points)\n",
                    test.name, test.points, test.max_points
                )),
                _ => {
                    let feedback = first_lines(&test.feedback, 6, 200);
                    let mut lines = feedback.lines();
                    out.push_str(&format!(
                        "    {} failed ({}/{} points): {}\n",
                        test.name,
                        test.points,
                        test.max_points,
                        lines.next().unwrap_or_default()
                    ));
                    for line in lines {
                        out.push_str(&format!("        {line}\n"));
                    }
                }
            }
        }
    }
    for note in &report.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    if let Some(error) = &report.error {
        out.push_str(&format!("not checked: {error}\n"));
    }
    out.push_str(&format!(
        "Public tests: {} of {} points.\nHidden tests will be run when your notebook is graded; \
         passing the public tests does not mean they pass.\n",
        report.score, report.max_score
    ));
    out
}
