//! Grading real notebooks with the real release binary: the solution scores full marks in every
//! output format; a batch grades the shipped exercises (zero), a partial submission (exactly
//! its points) and a broken file; a hostile submission is contained test by test.
//!
//! Each notebook is graded once (a cell compiles in 1–8 s) and checked for several things.

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::Path;

#[test]
fn full_marks_for_the_solution_in_every_format() {
    prepare();
    let dir = tempfile::tempdir().unwrap();
    let gradescope = dir.path().join("results/results.json");
    let junit = dir.path().join("junit.xml");
    let max: u64 = points().iter().map(|(_, _, p)| p).sum();
    let output = run(&[
        "run",
        solution_path().to_str().unwrap(),
        "--format",
        "json",
        "--gradescope",
        gradescope.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
        "--min-score",
        &(max + 1).to_string(),
    ]);
    // GitHub Classroom's pass/fail: a full score is still below a minimum above the maximum.
    assert_eq!(
        output.status.code(),
        Some(1),
        "--min-score above the score exits 1"
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["schema"], "orm-grader/1");
    assert_eq!(report["max_score"], max);
    for test in report["tests"].as_array().unwrap() {
        assert_eq!(test["status"], "passed", "{test:#}");
    }
    assert_eq!(report["score"], max);
    assert!(report["error"].is_null());
    assert!(
        report["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("marked as hidden tests")),
        "the solution's own tests cells are not run as part of the submission"
    );

    // Gradescope's documented fields.
    let results = read_json(&gradescope);
    assert_eq!(results["score"].as_f64(), Some(max as f64));
    assert!(results["execution_time"].is_u64());
    assert!(results["output"].as_str().unwrap().contains("Score:"));
    let tests = results["tests"].as_array().unwrap();
    assert_eq!(tests.len(), points().len());
    for test in tests {
        assert_eq!(test["status"], "passed");
        assert_eq!(test["score"], test["max_score"]);
        assert!(test["name"].as_str().unwrap().starts_with("ex"));
        assert!(test["output"].is_string());
        assert!(["visible", "hidden", "after_due_date", "after_published"]
            .contains(&test["visibility"].as_str().unwrap()));
    }

    // JUnit XML, read by a real XML parser.
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("well-formed JUnit XML");
    let suites: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 9, "one suite per exercise");
    let cases = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .count();
    assert_eq!(cases, points().len());
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("failure"))
            .count(),
        0
    );
    assert_eq!(doc.root_element().attribute("failures"), Some("0"));
}

/// The shipped exercises with ex2 and ex5 answered from the solution, ex1 answered with a
/// compile error on its sixth line, and the check cells left out (they only cost time).
fn partial_submission() -> Value {
    let solution = read_json(&solution_path());
    let mut notebook = read_json(&exercises_path());
    for exercise in ["ex2", "ex5"] {
        let answer = solution["cells"][find(&solution, "solution", exercise)]["source"].clone();
        let at = find(&notebook, "solution", exercise);
        notebook["cells"][at]["source"] = answer;
    }
    let at = find(&notebook, "solution", "ex1");
    let ex1 =
        source(&notebook["cells"][at]).replace("    // your fields here", "    pub name: Strng,");
    assert_eq!(ex1.lines().nth(5), Some("    pub name: Strng,"));
    notebook["cells"][at]["source"] = json!(ex1);
    let cells: Vec<Value> = notebook["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| kind_of(c) != Some("check"))
        .cloned()
        .collect();
    notebook["cells"] = Value::Array(cells);
    notebook
}

#[test]
fn batch_grades_each_learner_and_survives_a_broken_file() {
    prepare();
    let dir = tempfile::tempdir().unwrap();
    let submissions = dir.path().join("submissions");
    let results = dir.path().join("results");
    std::fs::create_dir_all(&submissions).unwrap();
    std::fs::copy(exercises_path(), submissions.join("untouched.ipynb")).unwrap();
    write_json(&submissions.join("partial.ipynb"), &partial_submission());
    std::fs::write(submissions.join("broken.ipynb"), "{\"cells\": [").unwrap();
    std::fs::write(submissions.join("notes.txt"), "not a notebook").unwrap();
    let csv_path = dir.path().join("gradebook.csv");
    let output = run(&[
        "batch",
        submissions.to_str().unwrap(),
        "--jobs",
        "2",
        "--csv",
        csv_path.to_str().unwrap(),
        "--results-dir",
        results.to_str().unwrap(),
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "a batch with a broken file still succeeds"
    );

    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let exercises: Vec<String> = (1..=9).map(|i| format!("ex{i}")).collect();
    let mut expected_header = vec!["learner".to_owned()];
    expected_header.extend(exercises.iter().cloned());
    expected_header.extend(["total".to_owned(), "status".to_owned()]);
    assert_eq!(header, expected_header);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let learners: Vec<&str> = rows.iter().map(|r| &r[0]).collect();
    assert_eq!(
        learners,
        ["broken", "partial", "untouched"],
        "one row per learner, *.ipynb only"
    );
    let column = |row: &csv::StringRecord, name: &str| -> String {
        row[header.iter().position(|h| h == name).unwrap()].to_owned()
    };

    // The broken file: a row of zeros saying why.
    assert_eq!(column(&rows[0], "total"), "0");
    assert!(column(&rows[0], "status").starts_with("not graded"));

    // The shipped exercises score zero, and are graded without an error.
    assert_eq!(column(&rows[2], "status"), "graded");
    assert_eq!(column(&rows[2], "total"), "0");
    let untouched = read_json(&results.join("untouched.json"));
    assert_eq!(untouched["score"], 0);
    assert!(untouched["error"].is_null());
    let cells = untouched["cells"].as_array().unwrap();
    assert!(
        cells
            .iter()
            .filter(|c| c["kind"] == "solution")
            .all(|c| c["status"] == "ok"),
        "todo!() answers compile"
    );
    assert!(untouched["tests"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["feedback"]
            .as_str()
            .unwrap()
            .contains("not yet implemented")));

    // The partial submission scores exactly ex2 and ex5.
    let partial = read_json(&results.join("partial.json"));
    assert_eq!(column(&rows[1], "status"), "graded");
    assert_eq!(column(&rows[1], "ex2"), points_of("ex2").to_string());
    assert_eq!(column(&rows[1], "ex5"), points_of("ex5").to_string());
    let expected = points_of("ex2") + points_of("ex5");
    assert_eq!(column(&rows[1], "total"), expected.to_string());
    assert_eq!(partial["score"], expected);
    for exercise in ["ex1", "ex3", "ex4", "ex6", "ex7", "ex8", "ex9"] {
        assert_eq!(exercise_score(&partial, exercise), 0, "{exercise}");
    }
    // ex1's cell does not compile: its tests fail with that error, placed in the learner's cell.
    for test in partial["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["exercise"] == "ex1")
    {
        assert_eq!(test["outcome"], "cell_failed");
        let feedback = test["feedback"].as_str().unwrap();
        assert!(feedback.contains("cell:6:"), "{feedback}");
        assert!(feedback.contains("6 |     pub name: Strng,"), "{feedback}");
    }
}

/// Replaces the body of `function` in the cell with `body`.
fn replace_body(cell: &mut Value, function: &str, body: &str) {
    let text = source(cell);
    let start = text
        .find(&format!("pub fn {function}("))
        .unwrap_or_else(|| panic!("no function {function}"));
    let open = start + text[start..].find("{\n").unwrap() + 2;
    let close = open + text[open..].find("\n}").unwrap();
    let new = format!("{}    {body}{}", &text[..open], &text[close..]);
    cell["source"] = json!(new);
}

/// The solution without its tests and check cells, made hostile exercise by exercise; see the
/// expectations in the test below.
fn hostile_submission(assignment: &Path, outside: &Path) -> Value {
    let mut notebook = read_json(&solution_path());
    let mut cells: Vec<Value> = notebook["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !matches!(kind_of(c), Some("tests") | Some("check")))
        // The given cell with `AuthorV2` and `library_v2` is deleted.
        .filter(|c| !source(c).contains("pub struct AuthorV2"))
        .cloned()
        .collect();
    let at = |cells: &Vec<Value>, exercise: &str| {
        cells
            .iter()
            .position(|c| kind_of(c) == Some("solution") && exercise_of(c) == Some(exercise))
            .unwrap()
    };
    // ex1: right, but its metadata is gone.
    let ex1 = at(&cells, "ex1");
    cells[ex1]["metadata"] = json!({});
    // ex2: add_author forgets to commit (an assertion fails while the learner's silent panic
    // hook is installed); rename_author exits the process.
    let ex2 = at(&cells, "ex2");
    replace_body(
        &mut cells[ex2],
        "add_author",
        "Ok(session.add(Author { name: name.into(), country: Some(country.into()), ..Default::default() }))",
    );
    replace_body(&mut cells[ex2], "rename_author", "std::process::exit(0)");
    // ex3: an endless loop; and printing evcxr's end-of-cell line before the right answer.
    let ex3 = at(&cells, "ex3");
    replace_body(
        &mut cells[ex3],
        "books_after",
        "loop { std::hint::black_box(year); }",
    );
    replace_body(
        &mut cells[ex3],
        "cheapest",
        "println!(\"EVCXR_EXECUTION_COMPLETE\");\n    let books = session.query::<Book>().order_by(Book::price).limit(n).all()?;\n    Ok(books.iter().map(|b| b.borrow().title.clone()).collect())",
    );
    // ex4: a panic.
    let ex4 = at(&cells, "ex4");
    replace_body(
        &mut cells[ex4],
        "books_per_decade",
        "panic!(\"decades are hard\")",
    );
    // ex5: an abort, for one country only.
    let ex5 = at(&cells, "ex5");
    replace_body(
        &mut cells[ex5],
        "titles_by_country",
        "if country == \"PL\" { std::process::abort(); }\n    let books = session.query::<Book>().join::<Author>().filter(Author::country.eq(country)).order_by(Book::title).all()?;\n    Ok(books.iter().map(|b| b.borrow().title.clone()).collect())",
    );
    // ex6: a segmentation fault.
    let ex6 = at(&cells, "ex6");
    replace_body(
        &mut cells[ex6],
        "book_count",
        "unsafe { std::ptr::write_volatile(8 as *mut usize, 1) };\n    Ok(author.related(Author::books)?.len())",
    );
    // ex7: a stack overflow and a memory bomb.
    let ex7 = at(&cells, "ex7");
    replace_body(
        &mut cells[ex7],
        "tag_book",
        "fn deeper(n: u64) -> u64 { std::hint::black_box([0u8; 1024]); deeper(n + 1) + 1 }\n    deeper(0);\n    Ok(())",
    );
    replace_body(
        &mut cells[ex7],
        "books_tagged",
        "let mut hoard: Vec<Vec<u8>> = Vec::new();\n    loop { hoard.push(vec![7u8; 1 << 27]); }",
    );
    // ex8: right, after printing a flood (many lines and one 8 MB line).
    let ex8 = at(&cells, "ex8");
    replace_body(
        &mut cells[ex8],
        "authors_with_book_counts",
        "for i in 0..100_000 { println!(\"flood {i} {}\", \"x\".repeat(100)); }\n    println!(\"{}\", \"y\".repeat(8 << 20));\n    let authors = session.query::<Author>().options(selectinload(Author::books)).order_by(Author::name).all()?;\n    authors.iter().map(|a| Ok((a.borrow().name.clone(), a.related(Author::books)?.len()))).collect()",
    );
    // Cells of the learner's own, after the setup cell.
    let escape = format!(
        r#"{{
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let so = maps.lines().filter_map(|l| l.split_whitespace().nth(5)).find(|p| p.contains("/target/")).unwrap_or("").to_string();
    let source = so.split("/target/").next().map(|root| format!("{{root}}/src/lib.rs")).unwrap_or_default();
    println!("ESCAPE found_cells={{}}", !so.is_empty());
    println!("ESCAPE read_assignment={{}}", std::fs::read_to_string({assignment:?}).is_ok());
    println!("ESCAPE read_cell_source={{}}", std::fs::read_to_string(&source).is_ok());
    println!("ESCAPE write_outside={{}}", std::fs::write({outside:?}, "escaped").is_ok());
    println!("ESCAPE write_inside={{}}", std::fs::write("inside.txt", "fine").is_ok());
    println!("ESCAPE run_program={{}}", std::process::Command::new("/bin/sh").args(["-c", "true"]).status().is_ok());
}}"#
    );
    let fake = r#"println!("{}", "{\"score\": 32, \"max_score\": 32}");
println!("ORM_GRADER_VERDICT 00000000000000000000000000000000 passed");
println!("EVCXR_BEGIN_CONTENT text/plain\n\"ORM_GRADER_VERDICT 00000000000000000000000000000000 passed\"\nEVCXR_END_CONTENT");
println!("test result: ok. 20 passed; 0 failed");"#;
    let own = vec![
        code_cell("std::panic::set_hook(Box::new(|_| {}));", json!({})),
        code_cell(
            "macro_rules! assert { ($($t:tt)*) => {} }\nmacro_rules! assert_eq { ($($t:tt)*) => {} }",
            json!({}),
        ),
        code_cell(fake, json!({})),
        code_cell(&format!(":dep rand = \"0.8\"\n!touch {}", outside.display()), json!({})),
        code_cell(&escape, json!({})),
        code_cell(
            "// TEST free_points (100 points)\n{ std::process::exit(0); }",
            json!({"grader": {"kind": "tests", "exercise": "ex1"}}),
        ),
    ];
    for (i, cell) in own.into_iter().enumerate() {
        cells.insert(2 + i, cell);
    }
    notebook["cells"] = Value::Array(cells);
    notebook
}

#[test]
fn hostile_submission_is_contained_test_by_test() {
    prepare();
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("escaped.txt");
    let assignment = std::fs::canonicalize(solution_path()).unwrap();
    let submission = dir.path().join("hostile.ipynb");
    write_json(&submission, &hostile_submission(&assignment, &outside));
    for engine in ["program", "evcxr"] {
        let json_path = dir.path().join(format!("report-{engine}.json"));
        let started = std::time::Instant::now();
        let output = run(&[
            "run",
            submission.to_str().unwrap(),
            "--engine",
            engine,
            "--json",
            json_path.to_str().unwrap(),
            "--test-timeout",
            "60",
            "--memory-mb",
            "1024",
        ]);
        assert_eq!(output.status.code(), Some(0), "grading ran");
        let elapsed = started.elapsed().as_secs();
        let report = read_json(&json_path);
        let table = String::from_utf8_lossy(&output.stdout);
        eprintln!("{table}");
        assert!(table.contains("score: "), "{table}");
        assert_eq!(report["engine"], engine);
        check_hostile(&report, engine);
        assert!(
            !outside.exists(),
            "nothing was written outside the working folder"
        );
        // Bounded time: the loop's 60 s and a few seconds per crash, not minutes per crash.
        assert!(elapsed < 600, "{engine} took {elapsed} s");
    }
}

/// What each engine must make of the hostile submission; where they differ, the program
/// engine is the stricter (grader/README.md, "How the engines differ").
fn check_hostile(report: &Value, engine: &str) {
    let program = engine == "program";
    let outcome = |name: &str| {
        test_result(report, name)["outcome"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let feedback = |name: &str| {
        test_result(report, name)["feedback"]
            .as_str()
            .unwrap()
            .to_owned()
    };

    // ex1: metadata removed, answer right: graded all the same.
    assert_eq!(exercise_score(report, "ex1"), points_of("ex1"));
    // ex2: a failed assertion is seen although the learner silenced the panic hook; exit(0)
    // ends the test's process, and the next test runs in a new one.
    assert_eq!(outcome("add_author_commits_and_assigns_a_key"), "panicked");
    let add = feedback("add_author_commits_and_assigns_a_key");
    assert!(add.contains("left: 0") && add.contains("right: 5"), "{add}");
    assert_eq!(outcome("rename_author_changes_the_row"), "crashed");
    let rename = feedback("rename_author_changes_the_row");
    assert!(rename.contains("exit(0)"), "{rename}");
    assert_eq!(outcome("delete_author_removes_only_that_row"), "panicked");
    // ex3: the endless loop is stopped; printing evcxr's end-of-cell line loses the result in
    // evcxr only.
    assert_eq!(outcome("books_after_is_strict_and_ordered"), "timeout");
    let protocol = if program { "passed" } else { "no_result" };
    assert_eq!(outcome("cheapest_books_first"), protocol);
    // ex4: a panic fails only its test; the tests after a lost result run normally.
    assert_eq!(outcome("books_per_decade_in_order"), "panicked");
    let decades = feedback("books_per_decade_in_order");
    assert!(decades.contains("decades are hard"), "{decades}");
    assert_eq!(outcome("average_price_of_the_library"), "passed");
    assert_eq!(outcome("average_price_of_nothing_is_none"), "passed");
    // ex5: an abort.
    assert_eq!(outcome("titles_by_country_uses_the_author"), "crashed");
    let abort = feedback("titles_by_country_uses_the_author");
    assert!(abort.contains("abort"), "{abort}");
    assert_eq!(outcome("titles_by_country_is_one_statement"), "passed");
    // ex6: a segmentation fault through `unsafe`: the program engine refuses `unsafe` when
    // compiling, so the whole answer cell fails; evcxr runs it and the test crashes.
    if program {
        assert_eq!(
            outcome("book_count_navigates_the_relationship"),
            "cell_failed"
        );
        let refused = feedback("book_count_navigates_the_relationship");
        assert!(refused.contains("unsafe"), "{refused}");
        assert_eq!(
            outcome("add_book_for_sets_the_author_at_commit"),
            "cell_failed"
        );
    } else {
        assert_eq!(outcome("book_count_navigates_the_relationship"), "crashed");
        let segv = feedback("book_count_navigates_the_relationship");
        assert!(segv.contains("segmentation"), "{segv}");
        assert_eq!(outcome("add_book_for_sets_the_author_at_commit"), "passed");
    }
    // ex7: a stack overflow and a memory bomb (the address-space limit).
    assert_eq!(outcome("tag_book_writes_the_association_row"), "crashed");
    assert_eq!(outcome("books_tagged_lists_titles"), "crashed");
    let bomb = feedback("books_tagged_lists_titles");
    assert!(bomb.contains("memory"), "{bomb}");
    // ex8: a flood of output passes, and only a little of it is kept.
    assert_eq!(exercise_score(report, "ex8"), points_of("ex8"));
    let kept = test_result(report, "authors_with_book_counts_is_right")["output"]
        .as_str()
        .unwrap();
    assert!(kept.len() < 64 * 1024, "kept {} bytes", kept.len());
    assert!(kept.contains("more bytes of output not kept"));
    // ex9: the given cell it needs was deleted; it runs as released (as nbgrader runs locked
    // cells), and the report says so.
    assert_eq!(exercise_score(report, "ex9"), points_of("ex9"));
    assert!(
        report["notes"].as_array().unwrap().iter().any(|n| n
            .as_str()
            .unwrap()
            .contains("was missing from the submission")),
        "{:#}",
        report["notes"]
    );

    // The score is what the tests gave, whatever the learner printed.
    let mut passing = vec![
        "member_columns_have_the_right_options",
        "members_round_trip_and_email_is_unique",
        "average_price_of_the_library",
        "average_price_of_nothing_is_none",
        "titles_by_country_is_one_statement",
        "authors_with_book_counts_is_right",
        "authors_with_book_counts_uses_at_most_two_statements",
        "migrate_library_adds_the_column_and_keeps_rows",
        "migrate_library_records_the_revision",
    ];
    passing.push(if program {
        "cheapest_books_first"
    } else {
        "add_book_for_sets_the_author_at_commit"
    });
    for test in report["tests"].as_array().unwrap() {
        let name = test["name"].as_str().unwrap();
        let expected = if passing.contains(&name) {
            "passed"
        } else {
            "failed"
        };
        assert_eq!(test["status"], expected, "{engine}: {name}: {test:#}");
    }
    let expected: u64 = points()
        .iter()
        .filter(|(_, name, _)| passing.contains(&name.as_str()))
        .map(|(_, _, p)| p)
        .sum();
    assert_eq!(report["score"], expected);
    assert!(report["tests"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["name"] != "free_points"));
    if !program {
        assert!(report["restarts"].as_u64().unwrap() >= 6);
    }

    // The learner's `:` and `!` lines were refused, never run.
    let cells = report["cells"].as_array().unwrap();
    let refused = cells
        .iter()
        .find(|c| c["error_kind"] == "CommandRejected")
        .expect("the :dep cell is refused");
    assert_eq!(refused["status"], "failed");
    // The file-system probe: only the working folder is writable, the assignment and the
    // compiled test sources are unreadable, no program runs. The program engine also keeps
    // `/proc` (so the process's own memory map) unreadable.
    let escape = cells
        .iter()
        .find(|c| c["output"].as_str().unwrap_or("").contains("ESCAPE"))
        .unwrap()["output"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(escape.contains("ESCAPE write_inside=true"), "{escape}");
    if report["sandbox"]["landlock_enforced"] == true {
        let found_cells = if program {
            "ESCAPE found_cells=false"
        } else {
            "ESCAPE found_cells=true"
        };
        for line in [
            found_cells,
            "ESCAPE read_assignment=false",
            "ESCAPE read_cell_source=false",
            "ESCAPE write_outside=false",
            "ESCAPE run_program=false",
        ] {
            assert!(escape.contains(line), "{engine}: {line} in {escape}");
        }
    } else {
        eprintln!("Landlock is not available here: file restrictions were not checked");
    }
}

/// A one-exercise assignment and its answer, small enough to grade in seconds.
fn tiny_assignment() -> (Value, Value) {
    let answer = code_cell(
        "pub fn answer() -> i64 {\n    // BEGIN SOLUTION\n    42\n    // END SOLUTION\n}",
        json!({"grader": {"kind": "solution", "exercise": "ex1"}}),
    );
    let tests = code_cell(
        "// TEST the_answer (1 point)\n{\n    let engine = create_engine(\"sqlite:///:memory:\")?;\n    assert_eq!(engine.execute(orm::core::text(\"SELECT 42\"))?.scalar(), Some(&orm::Value::Integer(answer())));\n}",
        json!({"grader": {"kind": "tests", "exercise": "ex1"}}),
    );
    let notebook = |cells: Vec<Value>| json!({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells});
    (
        notebook(vec![answer.clone(), tests]),
        notebook(vec![answer]),
    )
}

#[test]
fn a_cold_start_builds_orm_and_grades_inside_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let (assignment, submission) = tiny_assignment();
    let assignment_path = dir.path().join("assignment.ipynb");
    let submission_path = dir.path().join("answer.ipynb");
    write_json(&assignment_path, &assignment);
    write_json(&submission_path, &submission);
    let output = grader()
        .env("ORM_EVAL_CACHE_DIR", dir.path().join("empty-cache"))
        .args([
            "run",
            submission_path.to_str().unwrap(),
            "--assignment",
            assignment_path.to_str().unwrap(),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["score"], 1, "{report:#}");
    assert!(report["timings"]["evaluator_cache"]
        .as_str()
        .unwrap()
        .starts_with("cold"));
}
