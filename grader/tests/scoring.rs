//! Scoring through the real binary on a real notebook: fractional points summed exactly (the
//! CSV gradebook has no float drift), `partial!` credit on both engines, Gradescope's
//! per-test `visibility` in results.json (checked against Gradescope's documented fields),
//! JUnit and our JSON, and `--hide-hidden-messages`.

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// A small assignment: one answer, five tests with fractional points, a partial credit,
/// every visibility and a public test.
const TESTS: &str = "// TEST tenth (0.1 points)
{ assert_eq!(rows().len(), 3); }
// TEST fifth (0.2 points) visibility=after_due_date
{ assert!(rows().contains(&2)); }
// TEST found_big_rows (3 points) visibility=hidden
{
    let found = rows().iter().filter(|&&r| r > 2).count();
    if found < 6 {
        partial!(found as f64 / 6.0, \"found {found} of 6 rows\");
    }
}
// TEST first_is_seven (1 point) visibility=after_published
{ assert_eq!(rows()[0], 7, \"the first row should be 7\"); }
// TEST third_is_three (1 point) public
{ assert_eq!(rows()[2], 3); }";

fn notebook(answer: &str, with_tests: bool) -> Value {
    let mut cells = vec![
        json!({"cell_type": "markdown", "metadata": {}, "source": "# Rows"}),
        code_cell(
            &format!("pub fn rows() -> Vec<i64> {{\n    // BEGIN SOLUTION\n    {answer}\n    // END SOLUTION\n}}"),
            json!({"grader": {"kind": "solution", "exercise": "ex1"}}),
        ),
    ];
    if with_tests {
        cells.push(code_cell(
            TESTS,
            json!({"grader": {"kind": "tests", "exercise": "ex1"}}),
        ));
    }
    json!({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells})
}

struct Setup {
    _dir: tempfile::TempDir,
    assignment: PathBuf,
    submissions: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let assignment = dir.path().join("solution.ipynb");
    write_json(&assignment, &notebook("vec![1, 2, 3]", true));
    let submissions = dir.path().join("submissions");
    std::fs::create_dir(&submissions).unwrap();
    // alice: 0.1 + 0.2 + 0.5 (1 of 6 rows: a sixth of 3 points) + 0 + 1 = 1.8
    write_json(
        &submissions.join("alice.ipynb"),
        &notebook("vec![1, 2, 3]", false),
    );
    // bob: 0.1 + 0.2 and nothing else = 0.3 (as floats, 0.30000000000000004)
    write_json(
        &submissions.join("bob.ipynb"),
        &notebook("vec![2, 2, 2]", false),
    );
    Setup {
        _dir: dir,
        assignment,
        submissions,
    }
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Every field Gradescope documents for results.json
/// (<https://gradescope-autograders.readthedocs.io/en/latest/specs/#output-format>), with the
/// values it takes; anything else is refused.
fn check_against_gradescope_spec(results: &Value) {
    const VISIBILITY: [&str; 4] = ["hidden", "after_due_date", "after_published", "visible"];
    const TOP: [&str; 11] = [
        "score",
        "execution_time",
        "output",
        "output_format",
        "test_output_format",
        "test_name_format",
        "visibility",
        "stdout_visibility",
        "extra_data",
        "tests",
        "leaderboard",
    ];
    const TEST: [&str; 11] = [
        "score",
        "max_score",
        "status",
        "name",
        "name_format",
        "number",
        "output",
        "output_format",
        "tags",
        "visibility",
        "extra_data",
    ];
    const FORMATS: [&str; 4] = ["text", "html", "simple_format", "md"];
    for key in results.as_object().unwrap().keys() {
        assert!(TOP.contains(&key.as_str()), "undocumented field {key}");
    }
    assert!(results["score"].is_number());
    assert!(results["execution_time"].is_u64());
    assert!(VISIBILITY.contains(&results["visibility"].as_str().unwrap()));
    assert!(VISIBILITY.contains(&results["stdout_visibility"].as_str().unwrap()));
    assert!(FORMATS.contains(&results["output_format"].as_str().unwrap()));
    for test in results["tests"].as_array().unwrap() {
        for key in test.as_object().unwrap().keys() {
            assert!(
                TEST.contains(&key.as_str()),
                "undocumented test field {key}"
            );
        }
        assert!(test["score"].is_number() && test["max_score"].is_number());
        assert!(test["name"].is_string() && test["output"].is_string());
        assert!(test["number"].is_string());
        assert!(test["tags"]
            .as_array()
            .unwrap()
            .iter()
            .all(Value::is_string));
        assert!(["passed", "failed"].contains(&test["status"].as_str().unwrap()));
        assert!(VISIBILITY.contains(&test["visibility"].as_str().unwrap()));
        assert!(FORMATS.contains(&test["output_format"].as_str().unwrap()));
    }
}

fn by_name<'a>(tests: &'a Value, name: &str) -> &'a Value {
    tests
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"].as_str().unwrap().ends_with(name))
        .unwrap_or_else(|| panic!("no test {name}: {tests:#}"))
}

#[test]
fn fractional_and_partial_points_visibility_and_hidden_messages_in_every_report() {
    let setup = setup();
    let out = tempfile::tempdir().unwrap();
    let (json_path, gradescope, junit) = (
        out.path().join("alice.json"),
        out.path().join("results.json"),
        out.path().join("junit.xml"),
    );
    let output = run(&[
        "run",
        s(&setup.submissions.join("alice.ipynb")),
        "--assignment",
        s(&setup.assignment),
        "--json",
        s(&json_path),
        "--gradescope",
        s(&gradescope),
        "--junit",
        s(&junit),
    ]);
    assert_eq!(output.status.code(), Some(0));
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains("0.5/3") && table.contains("partial"),
        "{table}"
    );
    assert!(table.contains("score: 1.8/5.3"), "{table}");

    let report = read_json(&json_path);
    assert_eq!(report["score"], 1.8, "{report:#}");
    assert_eq!(report["max_score"], 5.3);
    assert_eq!(report["exercises"][0]["score"], 1.8);
    let tests = &report["tests"];
    let found = by_name(tests, "found_big_rows");
    assert_eq!(
        (&found["status"], &found["outcome"], &found["points"]),
        (&json!("partial"), &json!("partial"), &json!(0.5))
    );
    assert_eq!(
        found["feedback"],
        "partial credit: 0.5 of 3 points: found 1 of 6 rows"
    );
    assert_eq!(found["visibility"], "hidden");
    assert_eq!(by_name(tests, "fifth")["visibility"], "after_due_date");
    assert_eq!(
        by_name(tests, "first_is_seven")["visibility"],
        "after_published"
    );
    assert_eq!(by_name(tests, "tenth")["visibility"], "visible");
    assert_eq!(by_name(tests, "third_is_three")["public"], true);
    assert_eq!(by_name(tests, "tenth")["public"], false);

    let results = read_json(&gradescope);
    check_against_gradescope_spec(&results);
    let gs_tests = &results["tests"];
    assert_eq!(by_name(gs_tests, "found_big_rows")["visibility"], "hidden");
    assert_eq!(by_name(gs_tests, "found_big_rows")["score"], 0.5);
    assert_eq!(by_name(gs_tests, "found_big_rows")["status"], "failed");
    assert_eq!(by_name(gs_tests, "fifth")["visibility"], "after_due_date");
    assert_eq!(
        by_name(gs_tests, "first_is_seven")["visibility"],
        "after_published"
    );
    assert_eq!(by_name(gs_tests, "tenth")["visibility"], "visible");
    assert_eq!(by_name(gs_tests, "tenth")["score"], 0.1);
    assert_eq!(results["score"], 1.8);

    let xml = std::fs::read_to_string(&junit).unwrap();
    let document = roxmltree::Document::parse(&xml).unwrap();
    let case = document
        .descendants()
        .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some("found_big_rows"))
        .unwrap();
    let property = |name: &str| {
        case.descendants()
            .find(|n| n.has_tag_name("property") && n.attribute("name") == Some(name))
            .and_then(|n| n.attribute("value"))
            .map(str::to_owned)
    };
    assert_eq!(property("points").as_deref(), Some("0.5"));
    assert_eq!(property("max_points").as_deref(), Some("3"));
    assert_eq!(property("visibility").as_deref(), Some("hidden"));
    assert!(
        case.descendants().any(|n| n.has_tag_name("failure")
            && n.attribute("message")
                .is_some_and(|m| m.contains("partial credit: 0.5 of 3 points"))),
        "{xml}"
    );

    // The same grading with the hidden tests' messages held back: outcomes and points stay.
    let hidden = out.path().join("hidden.json");
    let output = run(&[
        "run",
        s(&setup.submissions.join("alice.ipynb")),
        "--assignment",
        s(&setup.assignment),
        "--hide-hidden-messages",
        "--gradescope",
        s(&hidden),
    ]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("the first row should be 7"), "{stdout}");
    let results = read_json(&hidden);
    let seven = by_name(&results["tests"], "first_is_seven");
    assert_eq!(seven["status"], "failed");
    assert_eq!(
        seven["output"],
        "failed: panicked (a hidden test: its message is not shown)"
    );
    assert_eq!(results["score"], 1.8);
}

#[test]
fn the_gradebook_sums_fractional_points_exactly() {
    let setup = setup();
    let csv_path = setup.submissions.join("gradebook.csv");
    let output = run(&[
        "batch",
        s(&setup.submissions),
        "--assignment",
        s(&setup.assignment),
        "--quiet",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let text = std::fs::read_to_string(&csv_path).unwrap();
    assert_eq!(0.1_f64 + 0.2, 0.30000000000000004, "floats would drift");
    assert_eq!(
        text,
        "learner,ex1,total,status\nalice,1.8,1.8,graded\nbob,0.3,0.3,graded\n"
    );
}

#[test]
fn partial_credit_through_the_evcxr_engine_too() {
    prepare();
    let setup = setup();
    let json_path = setup.submissions.join("alice.json");
    let output = run(&[
        "run",
        s(&setup.submissions.join("alice.ipynb")),
        "--assignment",
        s(&setup.assignment),
        "--engine",
        "evcxr",
        "--json",
        s(&json_path),
    ]);
    assert_eq!(output.status.code(), Some(0));
    let report = read_json(&json_path);
    assert_eq!(report["engine"], "evcxr");
    let found = by_name(&report["tests"], "found_big_rows");
    assert_eq!(found["points"], 0.5, "{report:#}");
    assert_eq!(
        found["feedback"],
        "partial credit: 0.5 of 3 points: found 1 of 6 rows"
    );
    assert_eq!(report["score"], 1.8);
}
