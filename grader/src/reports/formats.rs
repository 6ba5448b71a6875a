//! The report in other tools' formats: Gradescope's `results.json` and JUnit XML.

use crate::reports::report::{GradeReport, Status};
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use serde_json::{json, Value};
use std::time::Duration;

/// Gradescope's autograder `results.json`
/// (<https://gradescope-autograders.readthedocs.io/en/latest/specs/>): the total `score`,
/// `execution_time`, `output`, and one entry per test with `name`, `number`, `score`,
/// `max_score`, `status` ("passed"/"failed"; a partial credit is "failed" with its `score`),
/// `output` and `visibility` (the test header's: `visible`, `hidden`, `after_due_date`,
/// `after_published`). The total maximum is not a documented top-level field; it is kept in
/// `extra_data`.
pub fn gradescope(report: &GradeReport) -> Value {
    let tests: Vec<Value> = report
        .tests
        .iter()
        .enumerate()
        .map(|(i, test)| {
            let mut output = test.feedback.clone();
            if !test.output.is_empty() {
                if !output.is_empty() {
                    output.push_str("\n\n");
                }
                output.push_str("output:\n");
                output.push_str(&test.output);
            }
            json!({
                "name": format!("{}: {}", test.exercise, test.name),
                "number": format!("{}", i + 1),
                "score": test.points.as_f64(),
                "max_score": test.max_points.as_f64(),
                "status": match test.status { Status::Passed => "passed", Status::Partial | Status::Failed => "failed" },
                "output": output,
                "output_format": "text",
                "tags": [test.exercise],
                "visibility": test.visibility.as_str(),
            })
        })
        .collect();
    let mut output = format!("Score: {}/{}\n", report.score, report.max_score);
    for exercise in &report.exercises {
        output.push_str(&format!(
            "{}: {}/{}\n",
            exercise.exercise, exercise.score, exercise.max_score
        ));
    }
    for note in &report.notes {
        output.push_str(&format!("Note: {note}\n"));
    }
    if let Some(error) = &report.error {
        output.push_str(&format!("Not graded: {error}\n"));
    }
    json!({
        "score": report.score.as_f64(),
        "execution_time": report.timings.total_seconds.round() as u64,
        "output": output,
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {"max_score": report.max_score.as_f64(), "schema": crate::reports::report::SCHEMA},
        "tests": tests,
    })
}

/// GitHub Classroom's runner result, as `classroom-resources/autograding-command-grader` makes
/// it: `version`, `status` (`pass`, `fail`, `error`), `max_score`, and `tests[]` with `name`,
/// `status`, `score`, `message`. `autograding-grading-reporter` reads it base64-encoded from
/// the `<RUNNER>_RESULTS` variable, reports the sum of the tests' `score` out of `max_score`
/// as the points, and fails the workflow when `status` is not `pass`: here, when the score is
/// below `min_score` (the maximum when not given) or the submission could not be graded.
pub fn classroom(report: &GradeReport, min_score: Option<f64>) -> Value {
    let tests: Vec<Value> = report
        .tests
        .iter()
        .map(|test| {
            json!({
                "name": format!("{}: {}", test.exercise, test.name),
                "status": match test.status { Status::Passed => "pass", Status::Partial | Status::Failed => "fail" },
                "score": test.points,
                "message": test.feedback,
                "test_code": "",
                "filename": "",
                "line_no": 0,
                "execution_time": format!("{:.1}s", test.seconds),
            })
        })
        .collect();
    let enough = report.score.as_f64() >= min_score.unwrap_or(report.max_score.as_f64());
    let status = match (&report.error, enough) {
        (Some(_), _) => "error",
        (None, true) => "pass",
        (None, false) => "fail",
    };
    json!({
        "version": 1,
        "status": status,
        "max_score": report.max_score,
        "tests": tests,
    })
}

/// JUnit XML: one test suite per exercise, one test case per hidden test (a failure carries
/// the feedback), points as properties. quick-junit escapes the text and drops characters XML
/// cannot hold.
pub fn junit(report: &GradeReport) -> String {
    let mut junit = Report::new("grader");
    junit.set_time(Duration::from_secs_f64(
        report.timings.total_seconds.max(0.0),
    ));
    for exercise in &report.exercises {
        let mut suite = TestSuite::new(exercise.exercise.as_str());
        suite.add_property(Property::new("score", exercise.score.to_string()));
        suite.add_property(Property::new("max_score", exercise.max_score.to_string()));
        for test in report
            .tests
            .iter()
            .filter(|t| t.exercise == exercise.exercise)
        {
            let status = match test.status {
                Status::Passed => TestCaseStatus::success(),
                Status::Partial | Status::Failed => {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    status
                        .set_message(crate::reports::report::first_lines(&test.feedback, 1, 200))
                        .set_type(format!("{:?}", test.outcome))
                        .set_description(test.feedback.as_str());
                    status
                }
            };
            let mut case = TestCase::new(test.name.as_str(), status);
            case.set_classname(format!("{}.{}", report_name(report), test.exercise))
                .set_time(Duration::from_secs_f64(test.seconds.max(0.0)))
                .add_property(Property::new("points", test.points.to_string()))
                .add_property(Property::new("max_points", test.max_points.to_string()))
                .add_property(Property::new("visibility", test.visibility.as_str()))
                .add_property(Property::new("public", test.public.to_string()));
            if !test.output.is_empty() {
                case.set_system_out(test.output.as_str());
            }
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    junit
        .to_string()
        .unwrap_or_else(|e| format!("<!-- could not write JUnit XML: {e} -->\n"))
}

/// The submission's file stem, as a JUnit class name prefix.
fn report_name(report: &GradeReport) -> String {
    std::path::Path::new(&report.submission)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "submission".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::report::tests::sample_report;

    #[test]
    fn gradescope_has_the_documented_fields() {
        let value = gradescope(&sample_report());
        assert_eq!(value["score"], 2.0);
        let tests = value["tests"].as_array().unwrap();
        assert_eq!(tests.len(), 3);
        for test in tests {
            for field in [
                "name",
                "score",
                "max_score",
                "status",
                "output",
                "visibility",
            ] {
                assert!(test.get(field).is_some(), "missing {field}");
            }
        }
        assert_eq!(tests[0]["status"], "passed");
        assert_eq!(tests[1]["status"], "failed");
        assert_eq!(tests[1]["max_score"], 1.0);
    }

    #[test]
    fn classroom_points_are_the_tests_scores_out_of_the_maximum() {
        let report = sample_report();
        let value = classroom(&report, None);
        let tests = value["tests"].as_array().unwrap();
        let points: f64 = tests.iter().map(|t| t["score"].as_f64().unwrap()).sum();
        assert_eq!(points, report.score.as_f64());
        assert_eq!(
            value["max_score"],
            serde_json::to_value(report.max_score).unwrap()
        );
        assert_eq!(value["version"], 1);
        assert_eq!(value["status"], "fail", "below the maximum");
        assert_eq!(tests[0]["status"], "pass");
        assert_eq!(classroom(&report, Some(2.0))["status"], "pass");
    }

    #[test]
    fn junit_escapes_feedback() {
        let xml = junit(&sample_report());
        assert!(xml.contains("<testsuite name=\"ex1\""), "{xml}");
        assert!(xml.contains("&lt;&amp;&gt;"), "{xml}");
        assert!(
            !xml.contains('\u{1b}'),
            "control characters must not reach the XML"
        );
        assert!(xml.contains("<failure"), "{xml}");
    }
}
