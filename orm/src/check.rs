//! The self-check a learner runs in the exercises notebook: an exercise's public tests, each
//! under `catch_unwind`, reported as otter-grader's `grader.check("q1")` reports them.
//!
//! `grader assign` writes one check cell per exercise that has public tests (tests marked
//! `public` in the teacher's solution notebook): the tests' blocks as closures handed to
//! [`Check::test`], then [`Check::run`]. Nothing hidden is in it; the hidden tests run when
//! the notebook is graded.
//!
//! ```
//! use orm::check::Check;
//! fn answer() -> i64 { 42 }
//! let report = Check::new("ex1")
//!     .test("answer_is_42", 2.0, || { assert_eq!(answer(), 42); Ok(()) })
//!     .test("answer_is_odd", 1.0, || { assert!(answer() % 2 == 1, "42 is even"); Ok(()) })
//!     .report();
//! assert_eq!(report.earned_hundredths(), 200);
//! assert!(report.to_string().contains("answer_is_odd failed (0/1 points): 42 is even"));
//! ```

use std::any::Any;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// What a public test's closure returns: `?` works on any error.
pub type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// A public test's code, boxed.
type TestCode<'a> = Box<dyn FnOnce() -> TestResult + 'a>;

/// An exercise's public tests, to run and report.
pub struct Check<'a> {
    exercise: String,
    /// (name, points in hundredths, code), in order.
    tests: Vec<(String, i64, TestCode<'a>)>,
}

/// How one public test ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The test's name.
    pub name: String,
    /// Its points, in hundredths.
    pub points_hundredths: i64,
    /// `None` when it passed; else the panic's or the error's message.
    pub failure: Option<String>,
}

/// The outcomes of an exercise's public tests; its `Display` is the check cell's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The exercise (`ex1`).
    pub exercise: String,
    /// One per test, in order.
    pub outcomes: Vec<Outcome>,
}

impl<'a> Check<'a> {
    /// An empty check of `exercise`.
    pub fn new(exercise: &str) -> Check<'a> {
        Check {
            exercise: exercise.to_owned(),
            tests: Vec::new(),
        }
    }

    /// Adds public test `name` worth `points` (rounded to hundredths).
    pub fn test(
        mut self,
        name: &str,
        points: f64,
        code: impl FnOnce() -> TestResult + 'a,
    ) -> Check<'a> {
        let hundredths = (points * 100.0).round() as i64;
        self.tests
            .push((name.to_owned(), hundredths, Box::new(code)));
        self
    }

    /// Runs the tests in order, each under `catch_unwind` with the panic message kept off
    /// stderr (the report says it), and returns their outcomes.
    pub fn report(self) -> Report {
        let outcomes = self
            .tests
            .into_iter()
            .map(|(name, points_hundredths, code)| Outcome {
                name,
                points_hundredths,
                failure: run_quietly(code),
            })
            .collect();
        Report {
            exercise: self.exercise,
            outcomes,
        }
    }

    /// Runs the tests and prints the report (what the check cell shows).
    pub fn run(self) {
        print!("{}", self.report());
    }
}

impl Report {
    /// The points of the tests that passed, in hundredths.
    pub fn earned_hundredths(&self) -> i64 {
        self.outcomes
            .iter()
            .filter(|o| o.failure.is_none())
            .map(|o| o.points_hundredths)
            .sum()
    }

    /// The points of every public test, in hundredths.
    pub fn total_hundredths(&self) -> i64 {
        self.outcomes.iter().map(|o| o.points_hundredths).sum()
    }
}

/// `hundredths` written as points: `2`, `1.5`, `0.25`.
pub fn points_text(hundredths: i64) -> String {
    let text = format!("{}.{:02}", hundredths / 100, (hundredths % 100).abs());
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

impl fmt::Display for Report {
    /// otter-grader's shape: the exercise, each test passed or failed with its message, the
    /// public points earned, and that the hidden tests run at grading.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let passed = self.outcomes.iter().filter(|o| o.failure.is_none()).count();
        if passed == self.outcomes.len() {
            writeln!(f, "{} results: All public tests passed!", self.exercise)?;
        } else {
            writeln!(
                f,
                "{} results: {passed} of {} public tests passed",
                self.exercise,
                self.outcomes.len()
            )?;
        }
        for outcome in &self.outcomes {
            let points = points_text(outcome.points_hundredths);
            match &outcome.failure {
                None => writeln!(f, "    {} passed ({points}/{points} points)", outcome.name)?,
                Some(message) => {
                    let mut lines = message.lines();
                    writeln!(
                        f,
                        "    {} failed (0/{points} points): {}",
                        outcome.name,
                        lines.next().unwrap_or_default()
                    )?;
                    for line in lines {
                        writeln!(f, "        {line}")?;
                    }
                }
            }
        }
        writeln!(
            f,
            "Public tests: {} of {} points.",
            points_text(self.earned_hundredths()),
            points_text(self.total_hundredths())
        )?;
        writeln!(
            f,
            "Hidden tests will be run when your notebook is graded; passing the public tests \
             does not mean they pass."
        )
    }
}

/// Runs `code`; `None` when it returned `Ok`, else the panic's or error's message. The panic
/// hook is silenced for the call and put back after.
fn run_quietly(code: TestCode<'_>) -> Option<String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = catch_unwind(AssertUnwindSafe(code));
    std::panic::set_hook(hook);
    match result {
        Ok(Ok(())) => None,
        Ok(Err(error)) => Some(format!("the test got an error: {error}")),
        Err(payload) => Some(panic_text(payload.as_ref())),
    }
}

fn panic_text(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic with a value that is not text".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_reads_like_otter() {
        let report = Check::new("ex2")
            .test("adds", 1.5, || Ok(()))
            .test("renames", 0.25, || {
                assert_eq!(1, 2, "renamed");
                Ok(())
            })
            .test("deletes", 1.0, || Err("no such table: authors".into()))
            .report();
        let expected = [
            "ex2 results: 1 of 3 public tests passed",
            "    adds passed (1.5/1.5 points)",
            "    renames failed (0/0.25 points): assertion `left == right` failed: renamed",
            "          left: 1",
            "         right: 2",
            "    deletes failed (0/1 points): the test got an error: no such table: authors",
            "Public tests: 1.5 of 2.75 points.",
            "Hidden tests will be run when your notebook is graded; passing the public tests \
             does not mean they pass.",
            "",
        ];
        assert_eq!(report.to_string(), expected.join("\n"));
        assert_eq!(points_text(300), "3");
        assert_eq!(points_text(5), "0.05");
    }
}
