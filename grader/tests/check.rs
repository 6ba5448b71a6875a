//! `grader check` through the real binary on the shipped learner's notebook: blank (every
//! public test fails, exit 1), partly answered (its exercise's public tests pass, the others
//! fail) and fully answered (every public test passes, exit 0). Nothing hidden is read: the
//! notebook is checked on its own, with no `--assignment`.

mod common;

use common::*;
use serde_json::Value;

/// The shipped exercises with the answers of `exercises` copied from the solution notebook.
fn answered(exercises: &[&str]) -> Value {
    let solution = read_json(&solution_path());
    let mut notebook = read_json(&exercises_path());
    for exercise in exercises {
        let answer = solution["cells"][find(&solution, "solution", exercise)]["source"].clone();
        let at = find(&notebook, "solution", exercise);
        notebook["cells"][at]["source"] = answer;
    }
    notebook
}

fn check(notebook: &Value) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("exercises.ipynb");
    write_json(&path, notebook);
    let output = run(&["check", path.to_str().unwrap(), "--quiet"]);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn check_runs_the_public_tests_of_blank_partial_and_full_notebooks() {
    let public = public_tests();
    assert_eq!(
        public,
        [
            "add_author_commits_and_assigns_a_key",
            "books_after_is_strict_and_ordered",
            "cheapest_books_first"
        ]
    );

    let (code, out) = check(&read_json(&exercises_path()));
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("ex2 results: 0 of 1 public tests passed"),
        "{out}"
    );
    assert!(
        out.contains(
            "    books_after_is_strict_and_ordered failed (0/2 points): panicked: not yet implemented"
        ),
        "{out}"
    );
    assert!(out.contains("Public tests: 0 of 4 points."), "{out}");
    assert!(out.contains("Hidden tests will be run when your notebook is graded"));
    for (_, name, _) in points() {
        if !public.contains(&name) {
            assert!(!out.contains(&name), "hidden test {name} ran");
        }
    }

    let (code, out) = check(&answered(&["ex2"]));
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("ex2 results: All public tests passed!"),
        "{out}"
    );
    assert!(
        out.contains("    add_author_commits_and_assigns_a_key passed (1/1 points)"),
        "{out}"
    );
    assert!(
        out.contains("ex3 results: 0 of 2 public tests passed"),
        "{out}"
    );
    assert!(out.contains("Public tests: 1 of 4 points."), "{out}");

    let all = [
        "ex1", "ex2", "ex3", "ex4", "ex5", "ex6", "ex7", "ex8", "ex9",
    ];
    let (code, out) = check(&answered(&all));
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("ex3 results: All public tests passed!"),
        "{out}"
    );
    assert!(out.contains("Public tests: 4 of 4 points."), "{out}");
}

#[test]
fn check_refuses_a_notebook_without_public_tests() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.ipynb");
    let mut notebook = read_json(&exercises_path());
    let cells: Vec<Value> = notebook["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| kind_of(c) != Some("public"))
        .cloned()
        .collect();
    notebook["cells"] = Value::Array(cells);
    write_json(&path, &notebook);
    let output = run(&["check", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(4));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the notebook has no public tests"),
        "{stderr}"
    );
}
