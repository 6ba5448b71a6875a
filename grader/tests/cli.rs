//! The grader's quick paths through the real binary: making the learner's notebook, and
//! refusing what cannot be graded, with the documented exit codes. No cell is evaluated here.

mod common;

use common::*;

#[test]
fn regenerating_the_exercises_gives_the_shipped_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("exercises.ipynb");
    let output = run(&[
        "assign",
        solution_path().to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success());
    let made = std::fs::read(&out).unwrap();
    let shipped = std::fs::read(exercises_path()).unwrap();
    assert!(
        made == shipped,
        "notebooks/exercises.ipynb is stale: run `grader assign grader/assignment/solution.ipynb -o notebooks/exercises.ipynb`"
    );
}

#[test]
fn the_shipped_exercises_hold_no_answers_and_no_hidden_tests() {
    let text = std::fs::read_to_string(exercises_path()).unwrap();
    let notebook: serde_json::Value = serde_json::from_str(&text).unwrap();
    let public = public_tests();
    assert!(!public.is_empty(), "the assignment has public tests");
    for (_, name, _) in points() {
        if public.contains(&name) {
            assert!(text.contains(&name), "public test {name} is missing");
        } else {
            assert!(!text.contains(&name), "hidden test {name} leaked");
        }
    }
    for marker in ["BEGIN SOLUTION", "END SOLUTION"] {
        assert!(!text.contains(marker), "{marker} leaked");
    }
    // `// TEST` headers only of public tests, in the check cells' metadata.
    for line in text.split("// TEST ").skip(1) {
        let header = line.split("\\n").next().unwrap();
        assert!(
            header.ends_with(" public"),
            "a hidden header leaked: {header}"
        );
    }
    let solution = read_json(&solution_path());
    let answer = source(&solution["cells"][find(&solution, "solution", "ex5")]);
    let answer_line = answer
        .lines()
        .find(|l| l.contains(".join::<Author>()"))
        .unwrap();
    assert!(!text.contains(answer_line.trim()), "an answer leaked");
    for cell in notebook["cells"].as_array().unwrap() {
        assert_ne!(kind_of(cell), Some("tests"));
        if cell["cell_type"] == "code" {
            assert_eq!(cell["outputs"], serde_json::json!([]));
            assert!(cell["execution_count"].is_null());
        }
        if let Some(grader) = cell["metadata"].get("grader") {
            let keys: Vec<&String> = grader.as_object().unwrap().keys().collect();
            let expected: &[&str] = if kind_of(cell) == Some("public") {
                &["exercise", "kind", "tests"]
            } else {
                &["exercise", "kind"]
            };
            assert_eq!(
                keys, expected,
                "only kind and exercise (and public tests) are kept"
            );
        }
    }
    let ex1 = source(&notebook["cells"][find(&notebook, "solution", "ex1")]);
    assert!(ex1.contains("    // your fields here\n}"), "{ex1}");
    let ex2 = source(&notebook["cells"][find(&notebook, "solution", "ex2")]);
    assert!(
        ex2.contains("-> orm::Result<Obj<Author>> {\n    todo!()\n}"),
        "{ex2}"
    );
}

#[test]
fn an_unreadable_submission_is_not_graded_but_reported() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.ipynb");
    std::fs::write(&broken, "{ this is not a notebook").unwrap();
    let gradescope = dir.path().join("results.json");
    let output = run(&[
        "run",
        broken.to_str().unwrap(),
        "--format",
        "json",
        "--gradescope",
        gradescope.to_str().unwrap(),
    ]);
    assert_eq!(
        output.status.code(),
        Some(3),
        "exit code for a bad submission"
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["score"], 0);
    assert!(report["error"]
        .as_str()
        .unwrap()
        .contains("not a JSON notebook"));
    let results = read_json(&gradescope);
    assert_eq!(results["score"], 0.0);
    assert!(results["tests"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["status"] == "failed"));
    let missing = run(&["run", "/nonexistent/x.ipynb", "--quiet"]);
    assert_eq!(missing.status.code(), Some(3));
}

#[test]
fn an_assignment_without_tests_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let exercises = exercises_path();
    let output = run(&[
        "run",
        exercises.to_str().unwrap(),
        "--assignment",
        exercises.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no hidden tests"));
    let output = run(&[
        "assign",
        exercises.to_str().unwrap(),
        "-o",
        dir.path().join("x.ipynb").to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(4));
    let usage = run(&["run"]);
    assert_eq!(usage.status.code(), Some(2), "clap's usage error");
}

/// What a teacher reads when the solution notebook is missing, is not a notebook, or has a
/// test header that does not read: the file, then the cell and line, then what is wrong (the
/// typed errors' messages, as the binary prints them).
#[test]
fn assign_names_the_file_cell_and_line_of_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.ipynb");
    let assign = |solution: &std::path::Path| {
        let output = run(&[
            "assign",
            solution.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        assert_eq!(
            output.status.code(),
            Some(4),
            "exit code for a bad assignment"
        );
        assert!(!out.exists(), "nothing is written for a bad assignment");
        String::from_utf8(output.stderr).unwrap()
    };
    let missing = dir.path().join("missing.ipynb");
    assert_eq!(
        assign(&missing),
        format!(
            "grader: cannot read {}: No such file or directory (os error 2)\n",
            missing.display()
        )
    );
    let old = dir.path().join("old.ipynb");
    std::fs::write(&old, r#"{"nbformat": 3, "worksheets": []}"#).unwrap();
    assert_eq!(
        assign(&old),
        format!("grader: {}: not an nbformat 4 notebook\n", old.display())
    );
    let bad_points = dir.path().join("bad-points.ipynb");
    let notebook = serde_json::json!({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        code_cell("// TEST first (1 point)\n{}\n// TEST second (1.234 points)\n{}",
                  serde_json::json!({"grader": {"kind": "tests", "exercise": "ex1"}}))
    ]});
    write_json(&bad_points, &notebook);
    assert_eq!(
        assign(&bad_points),
        format!(
            "grader: {}: tests cell 0 (ex1): line 3: `1.234` is not a number of points (a \
             decimal with at most two places, like 2 or 1.5) in `// TEST second (1.234 points)`\n",
            bad_points.display()
        )
    );
}
