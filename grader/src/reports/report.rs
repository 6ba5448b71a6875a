//! The result of grading one submission (the grader's own JSON schema) and its terminal table.

use crate::assignment::{Assignment, HiddenTest, Visibility};
use crate::containment::sandbox::SandboxReport;
use crate::notebook::CellKind;
use crate::points::Points;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, Color, ContentArrangement, Table};
use serde::Serialize;

/// The name and version of the JSON schema written by `--format json`.
pub const SCHEMA: &str = "orm-grader/1";

/// A grading's result: the grader's own JSON report (schema `orm-grader/…`).
#[derive(Debug, Clone, Serialize)]
pub struct GradeReport {
    /// The JSON schema's name and version.
    pub schema: &'static str,
    /// Which engine graded: `program` or `evcxr`.
    pub engine: &'static str,
    /// The submission's path.
    pub submission: String,
    /// The solution notebook's path.
    pub assignment: String,
    /// Points earned.
    pub score: Points,
    /// Points possible (the hidden tests').
    pub max_score: Points,
    /// Each exercise's score.
    pub exercises: Vec<ExerciseScore>,
    /// Each hidden test's result.
    pub tests: Vec<TestResult>,
    /// The submission's code cells, in the order they ran.
    pub cells: Vec<CellResult>,
    /// Things the teacher or learner should know (edited given cells, restarts, …).
    pub notes: Vec<String>,
    /// The limits the learner's code ran under.
    pub sandbox: SandboxReport,
    /// Times the evaluation process was restarted (and the learner's cells replayed) after a
    /// test crashed it or was stopped.
    pub restarts: u32,
    /// Where the time went.
    pub timings: Timings,
    /// Set when the submission could not be graded at all (then every test failed with it).
    pub error: Option<String>,
}

/// One exercise's score.
#[derive(Debug, Clone, Serialize)]
pub struct ExerciseScore {
    /// The exercise.
    pub exercise: String,
    /// Points earned.
    pub score: Points,
    /// Points possible.
    pub max_score: Points,
}

/// A test's status, as reports show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// All its points.
    Passed,
    /// The test awarded part of its points (`partial!`).
    Partial,
    /// No points.
    Failed,
}

/// Why a test passed or failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It passed.
    Passed,
    /// The test ended with `partial!(fraction, message)`: that part of its points.
    Partial,
    /// An assertion failed or the code panicked.
    Panicked,
    /// `?` returned an error.
    ErrorReturned,
    /// The test did not compile against the learner's code (a missing or misnamed item).
    CompileError,
    /// Stopped after the time limit.
    Timeout,
    /// The evaluation process ended (exit, abort, segfault, stack overflow, out of memory).
    Crashed,
    /// The test's value never came back (its output was disturbed).
    NoResult,
    /// The learner's cell for this exercise failed, so the test was not run.
    CellFailed,
    /// Not run: the time budget was used up or the evaluator could not start.
    NotRun,
}

/// One hidden test's result.
#[derive(Debug, Clone, Serialize)]
pub struct TestResult {
    /// The test's name.
    pub name: String,
    /// Its exercise.
    pub exercise: String,
    /// Points earned (part of `max_points` for a partial credit).
    pub points: Points,
    /// Its points.
    pub max_points: Points,
    /// Whether the test is public (in the learner's notebook) rather than hidden.
    pub public: bool,
    /// When a learner on Gradescope sees it (the test header's `visibility=`).
    pub visibility: Visibility,
    /// Passed, partial or failed.
    pub status: Status,
    /// How its code ended.
    pub outcome: Outcome,
    /// What the learner reads: why the test failed (empty when it passed).
    pub feedback: String,
    /// What the test printed (capped).
    pub output: String,
    /// How long it ran, in seconds.
    pub seconds: f64,
}

impl TestResult {
    /// A failed, not yet run result of `test`.
    pub fn not_run(test: &HiddenTest) -> TestResult {
        TestResult {
            name: test.name.clone(),
            exercise: test.exercise.clone(),
            points: Points::ZERO,
            max_points: test.points,
            public: test.public,
            visibility: test.visibility,
            status: Status::Failed,
            outcome: Outcome::NotRun,
            feedback: String::new(),
            output: String::new(),
            seconds: 0.0,
        }
    }

    /// Sets the outcome, and the points it earns: all of them when passed; `fraction` of them
    /// for [`Outcome::Partial`] (a fraction outside 0 to 1 fails the test, saying why).
    pub fn judge(&mut self, outcome: Outcome, feedback: String, fraction: Option<f64>) {
        self.outcome = outcome;
        self.feedback = feedback;
        match outcome {
            Outcome::Passed => {
                self.status = Status::Passed;
                self.points = self.max_points;
            }
            Outcome::Partial => match self.max_points.part(fraction.unwrap_or(f64::NAN)) {
                Ok(points) => {
                    self.points = points;
                    self.status = if points == self.max_points {
                        Status::Passed
                    } else {
                        Status::Partial
                    };
                    self.feedback = format!(
                        "partial credit: {points} of {} points: {}",
                        self.max_points, self.feedback
                    );
                }
                Err(why) => {
                    self.outcome = Outcome::Panicked;
                    self.feedback = format!("the test's partial! is wrong: {why}");
                }
            },
            _ => {}
        }
    }

    /// The feedback without what a hidden test's assertion says (its outcome only).
    fn hide_message(&mut self) {
        if self.public || self.status == Status::Passed {
            return;
        }
        let outcome = serde_json::to_value(self.outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        self.feedback = format!(
            "{}: {outcome} (a hidden test: its message is not shown)",
            match self.status {
                Status::Partial => format!(
                    "partial credit, {} of {} points",
                    self.points, self.max_points
                ),
                _ => "failed".to_owned(),
            }
        );
        self.output.clear();
    }
}

/// How a learner cell ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CellStatus {
    /// It ran without error.
    Ok,
    /// It failed (a panic, an error, a compile error, a timeout).
    Failed,
    /// Not run: tagged as hidden tests in the submission, or the time budget was used up.
    Skipped,
}

/// One learner cell's result.
#[derive(Debug, Clone, Serialize)]
pub struct CellResult {
    /// Position in the submission notebook (0-based, counting every cell).
    pub index: usize,
    /// `metadata.grader.kind`, if any.
    pub kind: Option<CellKind>,
    /// `metadata.grader.exercise`, if any.
    pub exercise: Option<String>,
    /// How it ran.
    pub status: CellStatus,
    /// orm-eval's name for the error (`CompileError`, `Panic`, `ProcessEnded`, …).
    pub error_kind: Option<String>,
    /// The error as the learner reads it, with places in their own cell (`--> cell:3:9`).
    pub error: Option<String>,
    /// What the cell printed (capped).
    pub output: String,
    /// How long it ran, in seconds.
    pub seconds: f64,
}

/// Where a grading's time went, in seconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Timings {
    /// `warm` (the prepared build reused) or what orm-eval reports for a cold start; the
    /// program engine says the same of its prepared libraries.
    pub evaluator_cache: String,
    /// Starting the evaluator (evcxr), or finding the prepared libraries (program).
    pub start_seconds: f64,
    /// Program engine: compiling, all rounds together.
    pub compile_seconds: f64,
    /// Program engine: compilations (one more for each round that left a cell or test out).
    pub compile_rounds: u32,
    /// Running the learner's cells.
    pub cells_seconds: f64,
    /// Running the hidden tests.
    pub tests_seconds: f64,
    /// The whole grading.
    pub total_seconds: f64,
}

impl GradeReport {
    /// A report for a submission that could not be graded: every test failed with `error`.
    pub fn not_graded(
        assignment: &Assignment,
        submission: &str,
        assignment_path: &str,
        error: &str,
        sandbox: SandboxReport,
    ) -> GradeReport {
        let tests = assignment
            .tests
            .iter()
            .map(|t| TestResult {
                feedback: format!("not graded: {error}"),
                ..TestResult::not_run(t)
            })
            .collect();
        let mut report = GradeReport {
            schema: SCHEMA,
            engine: "none",
            submission: submission.to_owned(),
            assignment: assignment_path.to_owned(),
            score: Points::ZERO,
            max_score: Points::ZERO,
            exercises: Vec::new(),
            tests,
            cells: Vec::new(),
            notes: Vec::new(),
            sandbox,
            restarts: 0,
            timings: Timings::default(),
            error: Some(error.to_owned()),
        };
        report.total_up(assignment);
        report
    }

    /// Computes the score and the per-exercise scores from the tests.
    pub fn total_up(&mut self, assignment: &Assignment) {
        self.score = self.tests.iter().map(|t| t.points).sum();
        self.max_score = self.tests.iter().map(|t| t.max_points).sum();
        self.exercises = assignment
            .exercises
            .iter()
            .map(|exercise| ExerciseScore {
                exercise: exercise.clone(),
                score: self
                    .tests
                    .iter()
                    .filter(|t| &t.exercise == exercise)
                    .map(|t| t.points)
                    .sum(),
                max_score: assignment.max_score_of(exercise),
            })
            .collect();
    }

    /// `--hide-hidden-messages`: every test that is not public keeps its outcome and points
    /// but not its assertion message or output (nbgrader #917: hidden tests' details).
    pub fn hide_hidden_messages(&mut self) {
        for test in &mut self.tests {
            test.hide_message();
        }
    }

    /// The report as the grader's JSON (one line).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("reports serialize")
    }

    /// The summary shown on a terminal.
    pub fn to_table(&self) -> String {
        let mut table = Table::new();
        table
            .load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(120)
            .set_header(vec!["test", "points", "status", "feedback"]);
        for test in &self.tests {
            let (status, color) = match test.status {
                Status::Passed => ("passed", Color::Green),
                Status::Partial => ("partial", Color::Yellow),
                Status::Failed => ("failed", Color::Red),
            };
            table.add_row(vec![
                Cell::new(format!("{} {}", test.exercise, test.name)),
                Cell::new(format!("{}/{}", test.points, test.max_points)),
                Cell::new(status).fg(color),
                Cell::new(first_lines(&test.feedback, 3, 200)),
            ]);
        }
        let mut out = format!("{}\n", self.submission);
        out.push_str(&table.to_string());
        out.push('\n');
        let failed_cells: Vec<String> = self
            .cells
            .iter()
            .filter(|c| c.status == CellStatus::Failed)
            .map(|c| {
                format!(
                    "{} ({})",
                    c.index,
                    c.error_kind.as_deref().unwrap_or("error")
                )
            })
            .collect();
        if !failed_cells.is_empty() {
            out.push_str(&format!("cells that failed: {}\n", failed_cells.join(", ")));
        }
        for note in &self.notes {
            out.push_str(&format!("note: {note}\n"));
        }
        if let Some(error) = &self.error {
            out.push_str(&format!("not graded: {error}\n"));
        }
        out.push_str(&format!(
            "score: {}/{}  ({:.0} s)\n",
            self.score, self.max_score, self.timings.total_seconds
        ));
        out
    }
}

/// The first `lines` lines of `text`, each cut to `width` characters.
pub fn first_lines(text: &str, lines: usize, width: usize) -> String {
    text.lines()
        .take(lines)
        .map(|line| cut(line, width))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` cut to at most `max` characters, marked when cut.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::assignment::Assignment;
    use crate::notebook::Notebook;

    pub(crate) fn two_test_assignment() -> Assignment {
        let nb = Notebook::parse(
            r#"{"nbformat": 4, "metadata": {}, "cells": [
              {"cell_type": "code", "metadata": {"grader": {"kind": "tests", "exercise": "ex1"}},
               "source": "// TEST a (2 points)\n{}\n// TEST b (1 point)\n{}", "outputs": []},
              {"cell_type": "code", "metadata": {"grader": {"kind": "tests", "exercise": "ex2"}},
               "source": "// TEST c (3 points)\n{}", "outputs": []}
            ]}"#,
        )
        .unwrap();
        Assignment::from_notebook(nb).unwrap()
    }

    pub(crate) fn sample_report() -> GradeReport {
        let assignment = two_test_assignment();
        let sandbox = SandboxReport {
            landlock_abi: 0,
            landlock_enforced: false,
            memory_bytes: 1,
            cpu_seconds: 1,
            file_bytes: 1,
            open_files: 1,
            output_bytes: 1,
        };
        let mut report =
            GradeReport::not_graded(&assignment, "alice.ipynb", "a.ipynb", "x", sandbox);
        report.error = None;
        report.tests[0].status = Status::Passed;
        report.tests[0].outcome = Outcome::Passed;
        report.tests[0].points = Points::whole(2);
        report.tests[0].feedback = String::new();
        report.tests[1].outcome = Outcome::Panicked;
        report.tests[1].feedback =
            "panicked: assertion `left == right` failed <&> \"q\"\n  left: 1\u{1b}[0m".into();
        report.total_up(&assignment);
        report
    }

    #[test]
    fn scores_add_up_by_exercise() {
        let report = sample_report();
        assert_eq!(report.score, Points::whole(2));
        assert_eq!(report.max_score, Points::whole(6));
        assert_eq!(report.exercises[0].score, Points::whole(2));
        assert_eq!(report.exercises[0].max_score, Points::whole(3));
        assert_eq!(report.exercises[1].score, Points::ZERO);
        assert_eq!(report.exercises[1].max_score, Points::whole(3));
    }

    #[test]
    fn the_table_lists_every_test_and_the_score() {
        let table = sample_report().to_table();
        assert!(table.contains("ex1 a"));
        assert!(table.contains("2/2"));
        assert!(table.contains("0/3"));
        assert!(table.contains("score: 2/6"));
    }

    #[test]
    fn json_has_the_schema_name() {
        let value: serde_json::Value = serde_json::from_str(&sample_report().to_json()).unwrap();
        assert_eq!(value["schema"], SCHEMA);
        assert_eq!(value["tests"][1]["outcome"], "panicked");
        assert_eq!(value["tests"][0]["status"], "passed");
    }

    #[test]
    fn partial_credit_is_part_of_the_points_and_a_bad_fraction_fails() {
        let mut report = sample_report();
        let test = &mut report.tests[2];
        test.judge(Outcome::Partial, "found 3 of 6 rows".into(), Some(0.5));
        assert_eq!(test.points.to_string(), "1.5");
        assert_eq!(test.status, Status::Partial);
        assert_eq!(
            test.feedback,
            "partial credit: 1.5 of 3 points: found 3 of 6 rows"
        );
        report.total_up(&two_test_assignment());
        assert_eq!(report.score.to_string(), "3.5");
        let table = report.to_table();
        assert!(
            table.contains("1.5/3") && table.contains("partial"),
            "{table}"
        );
        let value: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(value["score"], 3.5);
        assert_eq!(value["tests"][2]["status"], "partial");
        assert_eq!(value["tests"][2]["outcome"], "partial");
        let test = &mut report.tests[2];
        test.points = Points::ZERO;
        test.status = Status::Failed;
        test.judge(Outcome::Partial, "x".into(), Some(2.0));
        assert_eq!(test.outcome, Outcome::Panicked);
        assert_eq!(test.points, Points::ZERO);
        assert!(test.feedback.contains("from 0 to 1"), "{}", test.feedback);
    }

    #[test]
    fn hidden_messages_can_be_hidden_keeping_the_outcome() {
        let mut report = sample_report();
        report.tests[1].output = "expected 42".into();
        report.hide_hidden_messages();
        assert_eq!(
            report.tests[1].feedback,
            "failed: panicked (a hidden test: its message is not shown)"
        );
        assert!(report.tests[1].output.is_empty());
        assert_eq!(report.tests[0].status, Status::Passed);
    }

    #[test]
    fn cutting_marks_the_cut() {
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abc", 4), "abc");
        assert_eq!(first_lines("a\nb\nc", 2, 10), "a\nb");
    }
}
