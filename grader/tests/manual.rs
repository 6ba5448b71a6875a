//! Manually graded answers through the real binary on real notebooks: `grader assign` keeps the
//! manual cells (prompt kept, answer emptied), `grader batch` writes the review sheet
//! (`manual.csv`, `manual.html`) with every learner's answer, escaped, and leaves the manual
//! points out of the autograded total, and `grader merge-manual` adds the teacher's scores
//! exactly, or refuses a bad sheet naming its line and writes nothing.

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const WHY: &str = "<!-- MANUAL why_vec (2 points) -->
Why does `rows` return a `Vec` rather than a slice?
<!-- BEGIN SOLUTION -->
Because the rows are made inside the function: it must own them.
<!-- END SOLUTION -->";

const EXPLAIN: &str = "// MANUAL explain_code (1.5 points)
// Write `double`, which doubles a row.
// BEGIN SOLUTION
fn double(row: i64) -> i64 { row * 2 }
// END SOLUTION";

fn with_id(mut cell: Value, id: &str) -> Value {
    cell["id"] = json!(id);
    cell
}

/// A solution notebook: one autograded answer (1 point) and two manual questions, a markdown
/// one (2 points) and a code one (1.5 points).
fn solution() -> Value {
    let cells = vec![
        json!({"cell_type": "markdown", "id": "intro", "metadata": {}, "source": "# Rows"}),
        with_id(
            code_cell(
                "pub fn rows() -> Vec<i64> {\n    // BEGIN SOLUTION\n    vec![1, 2, 3]\n    // END SOLUTION\n}",
                json!({"grader": {"kind": "solution", "exercise": "ex1"}}),
            ),
            "rows-answer",
        ),
        with_id(
            code_cell(
                "// TEST three_rows (1 point)\n{ assert_eq!(rows().len(), 3); }",
                json!({"grader": {"kind": "tests", "exercise": "ex1"}}),
            ),
            "rows-tests",
        ),
        json!({"cell_type": "markdown", "id": "why-cell",
               "metadata": {"grader": {"kind": "manual", "exercise": "ex1"}}, "source": WHY}),
        with_id(
            code_cell(
                EXPLAIN,
                json!({"grader": {"kind": "manual", "exercise": "ex1"}}),
            ),
            "explain-cell",
        ),
    ];
    json!({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells})
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

struct Setup {
    dir: tempfile::TempDir,
    assignment: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let assignment = dir.path().join("solution.ipynb");
    write_json(&assignment, &solution());
    Setup { dir, assignment }
}

/// `grader assign` on the solution: the learner's notebook.
fn assign(setup: &Setup) -> Value {
    let learner = setup.dir.path().join("learner.ipynb");
    let output = run(&["assign", s(&setup.assignment), "-o", s(&learner)]);
    assert_eq!(output.status.code(), Some(0));
    read_json(&learner)
}

fn cell_by_id<'a>(notebook: &'a mut Value, id: &str) -> &'a mut Value {
    notebook["cells"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no cell {id}"))
}

#[test]
fn assign_keeps_manual_cells_with_the_prompt_and_without_the_answer() {
    let setup = setup();
    let mut learner = assign(&setup);
    let text = learner.to_string();
    assert!(
        !text.contains("must own them"),
        "the markdown answer leaked"
    );
    assert!(!text.contains("row * 2"), "the code answer leaked");
    let why = cell_by_id(&mut learner, "why-cell").clone();
    assert_eq!(why["cell_type"], "markdown");
    assert_eq!(
        source(&why),
        "<!-- MANUAL why_vec (2 points) -->\nWhy does `rows` return a `Vec` rather than a slice?\nYOUR ANSWER HERE"
    );
    assert_eq!(
        why["metadata"]["grader"],
        json!({"kind": "manual", "exercise": "ex1", "name": "why_vec"})
    );
    let explain = cell_by_id(&mut learner, "explain-cell").clone();
    assert_eq!(
        source(&explain),
        "// MANUAL explain_code (1.5 points)\n// Write `double`, which doubles a row.\n// YOUR ANSWER HERE"
    );
    assert_eq!(explain["outputs"], json!([]));
    assert_eq!(explain["metadata"]["grader"]["name"], "explain_code");
}

fn answer(notebook: &mut Value, id: &str, released: &str, text: &str) {
    let cell = cell_by_id(notebook, id);
    let header = released.lines().next().unwrap();
    cell["source"] = json!(format!("{header}\n{text}"));
}

/// A learner's notebook from the assigned one, with `rows` and the two manual answers.
fn submission(learner: &Value, rows: &str, why: &str, explain: &str) -> Value {
    let mut notebook = learner.clone();
    cell_by_id(&mut notebook, "rows-answer")["source"] =
        json!(format!("pub fn rows() -> Vec<i64> {{\n    {rows}\n}}"));
    answer(&mut notebook, "why-cell", WHY, why);
    answer(&mut notebook, "explain-cell", EXPLAIN, explain);
    notebook
}

fn sheet_rows(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "learner",
            "question",
            "max_points",
            "score",
            "comment",
            "answer"
        ]
    );
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

fn write_sheet(path: &Path, rows: &[Vec<String>]) {
    let mut writer = csv::Writer::from_path(path).unwrap();
    writer
        .write_record([
            "learner",
            "question",
            "max_points",
            "score",
            "comment",
            "answer",
        ])
        .unwrap();
    for row in rows {
        writer.write_record(row).unwrap();
    }
    writer.flush().unwrap();
}

#[test]
fn batch_writes_the_review_sheet_and_merge_manual_adds_the_scores_exactly() {
    let setup = setup();
    let learner = assign(&setup);
    let submissions = setup.dir.path().join("submissions");
    std::fs::create_dir(&submissions).unwrap();
    write_json(
        &submissions.join("alice.ipynb"),
        &submission(
            &learner,
            "vec![1, 2, 3]",
            "<script>alert(\"x\")</script> it owns & drops them",
            "fn double(row: i64) -> i64 { row + row }",
        ),
    );
    // Bob's code answer does not compile: a manual cell is never run, so it costs no points.
    write_json(
        &submissions.join("bob.ipynb"),
        &submission(&learner, "vec![7, 8, 9]", "no idea", "fn double( {"),
    );
    let sheets = setup.dir.path().join("sheets");
    let output = run(&[
        "batch",
        s(&submissions),
        "--assignment",
        s(&setup.assignment),
        "--manual-sheet",
        s(&sheets),
        "--quiet",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let gradebook = submissions.join("gradebook.csv");
    assert_eq!(
        std::fs::read_to_string(&gradebook).unwrap(),
        "learner,ex1,total,status\nalice,1,1,graded\nbob,1,1,graded\n",
        "manual points are not in the autograded total"
    );

    let rows = sheet_rows(&sheets.join("manual.csv"));
    let expected: Vec<Vec<&str>> = vec![
        vec![
            "alice",
            "why_vec",
            "2",
            "",
            "",
            "<script>alert(\"x\")</script> it owns & drops them",
        ],
        vec![
            "alice",
            "explain_code",
            "1.5",
            "",
            "",
            "fn double(row: i64) -> i64 { row + row }",
        ],
        vec!["bob", "why_vec", "2", "", "", "no idea"],
        vec!["bob", "explain_code", "1.5", "", "", "fn double( {"],
    ];
    assert_eq!(rows, expected);
    let html = std::fs::read_to_string(sheets.join("manual.html")).unwrap();
    assert!(
        html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;&#x2F;script&gt; it owns &amp; drops"),
        "{html}"
    );
    assert!(
        !html.contains("<script>"),
        "a learner's answer opened a tag"
    );
    assert!(html.contains("fn double( {") && html.contains("no idea"));
    assert_eq!(html.matches("<section class=\"question\"").count(), 2);
    let why_section =
        &html[html.find("id=\"why_vec\"").unwrap()..html.find("id=\"explain_code\"").unwrap()];
    assert!(why_section.contains("alice") && why_section.contains("bob"));
    assert!(
        why_section.contains("rather than a slice?"),
        "the prompt is shown"
    );
    assert!(
        !html.contains("must own them"),
        "the teacher's answer is not shown"
    );

    // The teacher scores, with points that drift as floats (0.1 + 0.2).
    let scores = ["1.5", "1.25", "0.1", "0.2"];
    let scored: Vec<Vec<String>> = rows
        .iter()
        .zip(scores)
        .map(|(row, score)| {
            let mut row = row.clone();
            row[3] = score.to_owned();
            row[4] = "a comment".to_owned();
            row
        })
        .collect();
    let sheet = setup.dir.path().join("scored.csv");
    write_sheet(&sheet, &scored);
    let merged = setup.dir.path().join("final.csv");
    let output = run(&[
        "merge-manual",
        s(&sheet),
        s(&gradebook),
        "-o",
        s(&merged),
        "--assignment",
        s(&setup.assignment),
    ]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&merged).unwrap(),
        "learner,ex1,manual: why_vec,manual: explain_code,total,status\n\
         alice,1,1.5,1.25,3.75,graded\nbob,1,0.1,0.2,1.3,graded\n"
    );

    // A second pass over the merged gradebook replaces the manual columns (alice regraded).
    let mut regraded = scored.clone();
    regraded[0][3] = "2".to_owned();
    write_sheet(&sheet, &regraded);
    let output = run(&[
        "merge-manual",
        s(&sheet),
        s(&merged),
        "--assignment",
        s(&setup.assignment),
    ]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&merged).unwrap(),
        "learner,ex1,manual: why_vec,manual: explain_code,total,status\n\
         alice,1,2,1.25,4.25,graded\nbob,1,0.1,0.2,1.3,graded\n"
    );

    // Canvas's points possible count the merged manual questions: 1 + 2 + 1.5.
    let roster = setup.dir.path().join("roster.csv");
    std::fs::write(
        &roster,
        "Student,ID,SIS User ID,SIS Login ID,Section\nAlice,1,S1,alice,A\nBob,2,S2,bob,A\n",
    )
    .unwrap();
    let canvas = setup.dir.path().join("canvas.csv");
    let output = run(&[
        "export",
        "--canvas",
        s(&merged),
        "--roster",
        s(&roster),
        "--assignment",
        s(&setup.assignment),
        "-o",
        s(&canvas),
    ]);
    assert_eq!(output.status.code(), Some(0));
    let exported = std::fs::read_to_string(&canvas).unwrap();
    let last = |line: &str| line.rsplit(',').next().unwrap().to_owned();
    let lines: Vec<&str> = exported.lines().collect();
    assert_eq!(
        lines[1..].iter().map(|l| last(l)).collect::<Vec<_>>(),
        ["4.5", "4.25", "1.3"],
        "{exported}"
    );
}

/// A review sheet's rows, header left out.
type Sheet = Vec<Vec<String>>;

/// A refusal case: what is wrong, how the good sheet is spoilt, the error expected.
type Case = (&'static str, fn(&mut Sheet), &'static str);

fn row(cells: [&str; 6]) -> Vec<String> {
    cells.iter().map(|c| (*c).to_owned()).collect()
}

fn good_sheet() -> Sheet {
    vec![
        row(["alice", "why_vec", "2", "1", "", "a"]),
        row(["alice", "explain_code", "1.5", "1.5", "", "b"]),
        row(["bob", "why_vec", "2", "0", "", "c"]),
        row(["bob", "explain_code", "1.5", "0.5", "", "d"]),
    ]
}

#[test]
fn merge_manual_refuses_a_bad_sheet_naming_the_line_and_writes_nothing() {
    let setup = setup();
    let gradebook = setup.dir.path().join("gradebook.csv");
    let original = "learner,ex1,total,status\nalice,1,1,graded\nbob,0,0,graded\n";
    let sheet = setup.dir.path().join("manual.csv");
    let out = setup.dir.path().join("out.csv");
    let cases: Vec<Case> = vec![
        (
            "unknown learner",
            |rows| rows[2][0] = "carol".into(),
            "manual.csv:4: learner `carol` is not in the gradebook",
        ),
        (
            "unknown question",
            |rows| rows[1][1] = "essay".into(),
            "manual.csv:3: question `essay` is not a manual question of the assignment \
             (they are: why_vec, explain_code)",
        ),
        (
            "above the maximum",
            |rows| rows[3][3] = "1.75".into(),
            "manual.csv:5: score 1.75 of bob, `explain_code` is above the question's 1.5 points",
        ),
        (
            "negative",
            |rows| rows[0][3] = "-1".into(),
            "manual.csv:2: score -1 of alice, `why_vec` is negative",
        ),
        (
            "not a number",
            |rows| rows[0][3] = "good".into(),
            "manual.csv:2: score of alice, `why_vec`: `good` is not a number of points",
        ),
        (
            "duplicate row",
            |rows| rows[3] = rows[2].clone(),
            "manual.csv:5: a second row for bob, `why_vec`",
        ),
        (
            "not graded yet",
            |rows| rows[2][3] = String::new(),
            "manual.csv:4: bob's answer to `why_vec` is not graded yet (empty score)",
        ),
        (
            "a missing row",
            |rows| {
                rows.pop();
            },
            "no row for bob, `explain_code`",
        ),
        (
            "max_points of another version",
            |rows| rows[0][2] = "3".into(),
            "manual.csv:2: max_points `3` is not the 2 points the assignment gives `why_vec`",
        ),
    ];
    for (what, change, message) in cases {
        std::fs::write(&gradebook, original).unwrap();
        let mut rows = good_sheet();
        change(&mut rows);
        write_sheet(&sheet, &rows);
        for with_output in [false, true] {
            let mut args = vec![
                "merge-manual",
                s(&sheet),
                s(&gradebook),
                "--assignment",
                s(&setup.assignment),
            ];
            if with_output {
                args.extend(["-o", s(&out)]);
            }
            let output = run(&args);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(7), "{what}: {stderr}");
            assert!(stderr.contains(message), "{what}: {stderr}");
            assert_eq!(
                std::fs::read_to_string(&gradebook).unwrap(),
                original,
                "{what}: the gradebook was changed"
            );
            assert!(!out.exists(), "{what}: an output was written");
            let left: Vec<_> = std::fs::read_dir(setup.dir.path())
                .unwrap()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".tmp"))
                .collect();
            assert!(left.is_empty(), "{what}: temporary files left: {left:?}");
        }
    }
    // The same sheet, fixed, is accepted: the refusals came from the faults.
    write_sheet(&sheet, &good_sheet());
    let output = run(&[
        "merge-manual",
        s(&sheet),
        s(&gradebook),
        "--assignment",
        s(&setup.assignment),
    ]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&gradebook).unwrap(),
        "learner,ex1,manual: why_vec,manual: explain_code,total,status\n\
         alice,1,1,1.5,3.5,graded\nbob,0,0,0.5,0.5,graded\n"
    );
}
