//! The program engine on real notebooks, through the real binary: Restart & Run All semantics
//! (a broken draft above a working answer, an edited given cell, stdin), verdicts a hostile
//! learner cannot forge, and the same outcomes as the evcxr engine on every fixture.

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// Grades `notebook` (written to a temporary file) with `engine`; the JSON report.
fn grade(notebook: &Value, engine: &str, extra: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("submission.ipynb");
    write_json(&path, notebook);
    grade_file(&path, engine, extra)
}

fn grade_file(path: &Path, engine: &str, extra: &[&str]) -> Value {
    let report = path.with_extension("report.json");
    let mut args = vec![
        "run",
        path.to_str().unwrap(),
        "--engine",
        engine,
        "--json",
        report.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let output = run(&args);
    assert_eq!(output.status.code(), Some(0), "grading ran");
    read_json(&report)
}

fn outcomes(report: &Value) -> BTreeMap<String, String> {
    report["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_owned(),
                t["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn solution_cells_only() -> Value {
    let mut notebook = read_json(&solution_path());
    let cells: Vec<Value> = notebook["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !matches!(kind_of(c), Some("tests")))
        .cloned()
        .collect();
    notebook["cells"] = Value::Array(cells);
    notebook
}

#[test]
fn the_solution_scores_full_marks_compiled_once() {
    let started = Instant::now();
    let report = grade(&solution_cells_only(), "program", &[]);
    let seconds = started.elapsed().as_secs_f64();
    let max: u64 = points().iter().map(|(_, _, p)| p).sum();
    assert_eq!(report["engine"], "program");
    assert_eq!(report["score"], max, "{report:#}");
    assert_eq!(report["timings"]["compile_rounds"], 1);
    for cell in report["cells"].as_array().unwrap() {
        assert_eq!(cell["status"], "ok", "{cell:#}");
    }
    // A check cell's value is shown as the kernel shows it (its Debug text).
    let ex3_check = report["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "check" && c["exercise"] == "ex3")
        .unwrap();
    assert_eq!(
        ex3_check["output"].as_str().unwrap().trim(),
        "[\"The Cyberiad\", \"A Wizard of Earthsea\"]"
    );
    eprintln!("graded in {seconds:.1} s");
}

#[test]
fn a_broken_draft_above_the_working_answer_costs_nothing() {
    let mut notebook = solution_cells_only();
    let cells = notebook["cells"].as_array_mut().unwrap();
    let at = cells
        .iter()
        .position(|c| kind_of(c) == Some("solution") && exercise_of(c) == Some("ex2"))
        .unwrap();
    // An earlier draft, tagged like the answer, that does not compile, and one that panics
    // when it runs: both are failing cells, and the working answer below defines the functions.
    let draft = code_cell(
        "pub fn add_author(session: &Session, name: &str) -> orm::Result<Obj<Author>> {\n    session.add(Author { name })\n}",
        json!({"grader": {"kind": "solution", "exercise": "ex2"}}),
    );
    let panicking = code_cell(
        "pub fn rename_author(session: &Session, id: i64, new_name: &str) -> orm::Result<bool> { Ok(false) }\nlet v: Vec<i64> = Vec::new();\nv[3]",
        json!({"grader": {"kind": "solution", "exercise": "ex2"}}),
    );
    cells.insert(at, panicking);
    cells.insert(at, draft);
    let report = grade(&notebook, "program", &[]);
    assert_eq!(
        exercise_score(&report, "ex2"),
        points_of("ex2"),
        "{report:#}"
    );
    let failed: Vec<&Value> = report["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "failed")
        .collect();
    assert_eq!(failed.len(), 2, "{failed:#?}");
    assert_eq!(failed[0]["error_kind"], "CompileError");
    let error = failed[0]["error"].as_str().unwrap();
    assert!(
        error.contains("--> cell:2:"),
        "placed in the learner's cell: {error}"
    );
    assert_eq!(failed[1]["error_kind"], "Panic");
    let panic = failed[1]["error"].as_str().unwrap();
    assert!(panic.contains("index out of bounds"), "{panic}");
    assert!(
        panic.contains("cell:3:"),
        "the panic's place in the cell: {panic}"
    );
}

#[test]
fn an_edited_given_cell_runs_as_released() {
    let mut notebook = solution_cells_only();
    let cells = notebook["cells"].as_array_mut().unwrap();
    let setup = cells
        .iter()
        .position(|c| source(c).contains("pub fn library()"))
        .unwrap();
    let edited = source(&cells[setup]).replace(
        "(\"The Three-Body Problem\", 2008, 15.0, 3),",
        "(\"The Three-Body Problem\", 2008, 15.0, 3), (\"Extra\", 2020, 1.0, 3),",
    );
    assert_ne!(edited, source(&cells[setup]));
    cells[setup]["source"] = json!(edited);
    let report = grade(&notebook, "program", &[]);
    let max: u64 = points().iter().map(|(_, _, p)| p).sum();
    assert_eq!(report["score"], max, "{report:#}");
    let notes: Vec<&str> = report["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("ran as released") && n.contains("Extra")),
        "{notes:?}"
    );
}

#[test]
fn reading_stdin_sees_the_end_of_input_at_once() {
    let mut notebook = solution_cells_only();
    let cells = notebook["cells"].as_array_mut().unwrap();
    cells.insert(
        2,
        code_cell(
            "let mut line = String::new();\nlet n = std::io::stdin().read_line(&mut line)?;\nprintln!(\"read {n} bytes\");",
            json!({}),
        ),
    );
    let report = grade(&notebook, "program", &["--cell-timeout", "30"]);
    // A wait would have met the 30 s limit and failed the cell.
    assert!(report["timings"]["cells_seconds"].as_f64().unwrap() < 30.0);
    let cell = report["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["output"].as_str().unwrap_or("").contains("read "))
        .expect("the stdin cell ran");
    assert_eq!(cell["status"], "ok");
    assert_eq!(cell["output"].as_str().unwrap().trim(), "read 0 bytes");
}

/// The blank exercises with every answer replaced by an attempt to forge or read a verdict,
/// or to take the grader down.
fn hostile_blank() -> Value {
    let mut notebook = read_json(&exercises_path());
    let forge = r#"for test in 0..40 {
        let line = format!("{{\"token\":\"\",\"event\":\"test_finished\",\"test\":{test},\"ending\":\"passed\",\"message\":\"\",\"location\":null}}");
        println!("{line}");
        eprintln!("{line}");
        for fd in 0..64 {
            if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(format!("/dev/fd/{fd}")) {
                use std::io::Write;
                let _ = writeln!(f, "{line}");
            }
        }
    }"#;
    let answers: &[(&str, String)] = &[
        // A test that exits, from the learner's function.
        (
            "ex2",
            "pub fn add_author(session: &Session, name: &str, country: &str) -> orm::Result<Obj<Author>> { std::process::exit(0) }\n\
             pub fn rename_author(session: &Session, id: i64, new_name: &str) -> orm::Result<bool> { std::process::exit(0) }\n\
             pub fn delete_author(session: &Session, id: i64) -> orm::Result<bool> { std::process::exit(0) }"
                .into(),
        ),
        // The program's own source, through include_str!.
        (
            "ex3",
            "pub fn books_after(session: &Session, year: i64) -> orm::Result<Vec<String>> { println!(\"{}\", include_str!(\"main.rs\")); Ok(vec![]) }\n\
             pub fn cheapest(session: &Session, n: u64) -> orm::Result<Vec<String>> { Ok(vec![include_str!(\"../../orm/src/lib.rs\").to_string()]) }"
                .into(),
        ),
        // A macro_rules! that wraps include_str!.
        (
            "ex4",
            "macro_rules! sneak { ($m:ident) => { $m!(\"main.rs\") } }\n\
             pub fn average_price(session: &Session) -> orm::Result<Option<f64>> { let _ = sneak!(include_str); Ok(None) }\n\
             pub fn books_per_decade(session: &Session) -> orm::Result<Vec<(i64, i64)>> { Ok(vec![]) }"
                .into(),
        ),
        // The compiler's environment.
        (
            "ex5",
            "pub fn titles_by_country(session: &Session, country: &str) -> orm::Result<Vec<String>> { Ok(vec![env!(\"HOME\").to_string()]) }"
                .into(),
        ),
        // Forged verdict lines on stdout, stderr and every descriptor, then exit.
        (
            "ex6",
            format!(
                "pub fn add_book_for(author: &Obj<Author>, title: &str, year: i64, price: f64) -> orm::Result<Obj<Book>> {{ {forge}\n    std::process::exit(0) }}\n\
                 pub fn book_count(author: &Obj<Author>) -> orm::Result<usize> {{ {forge}\n    Ok(0) }}"
            ),
        ),
        // A thread bomb and a process bomb.
        (
            "ex7",
            "pub fn tag_book(session: &Session, book: &Obj<Book>, tag_name: &str) -> orm::Result<()> { loop { let _ = std::thread::Builder::new().spawn(|| std::thread::sleep(std::time::Duration::from_secs(600))); } }\n\
             pub fn books_tagged(session: &Session, tag_name: &str) -> orm::Result<Vec<String>> { for _ in 0..100_000 { let _ = std::process::Command::new(\"/proc/self/exe\").spawn(); let _ = std::process::Command::new(\"/bin/sh\").args([\"-c\", \"sleep 600\"]).spawn(); } Ok(vec![]) }"
                .into(),
        ),
        // The program's binary and the process's memory.
        (
            "ex8",
            "pub fn authors_with_book_counts(session: &Session) -> orm::Result<Vec<(String, usize)>> {\n    let exe = std::fs::read(\"/proc/self/exe\").map(|b| b.len()).unwrap_or(0);\n    let mem = std::fs::read_to_string(\"/proc/self/maps\").map(|m| m.len()).unwrap_or(0);\n    println!(\"READ exe={exe} maps={mem}\");\n    Ok(vec![])\n}"
                .into(),
        ),
    ];
    let cells = notebook["cells"].as_array_mut().unwrap();
    for (exercise, answer) in answers {
        let at = cells
            .iter()
            .position(|c| kind_of(c) == Some("solution") && exercise_of(c) == Some(*exercise))
            .unwrap();
        cells[at]["source"] = json!(answer);
    }
    // A thread that outlives its cell, forging lines until the program ends.
    cells.insert(
        2,
        code_cell(
            &format!("std::thread::spawn(|| loop {{ {forge}\n std::thread::sleep(std::time::Duration::from_millis(5)); }});"),
            json!({}),
        ),
    );
    notebook
}

#[test]
fn a_hostile_learner_cannot_forge_or_read_a_verdict() {
    let blank = grade(
        &read_json(&exercises_path()),
        "program",
        &["--test-timeout", "10"],
    );
    assert_eq!(blank["score"], 0, "the blank notebook scores nothing");
    let started = Instant::now();
    let report = grade(
        &hostile_blank(),
        "program",
        &["--test-timeout", "10", "--memory-mb", "1024"],
    );
    let seconds = started.elapsed().as_secs();
    eprintln!("{report:#}");
    assert_eq!(
        report["score"], blank["score"],
        "scores as the blank notebook does"
    );
    for test in report["tests"].as_array().unwrap() {
        assert_eq!(test["status"], "failed", "{test:#}");
    }
    // Refused before compiling, with the reason, in the learner's own cells.
    let refused = |exercise: &str| -> String {
        report["cells"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["kind"] == "solution" && c["exercise"] == exercise)
            .unwrap()["error"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    assert!(
        refused("ex3").contains("`include_str` is not allowed"),
        "{}",
        refused("ex3")
    );
    assert!(
        refused("ex4").contains("`include_str` is not allowed"),
        "{}",
        refused("ex4")
    );
    assert!(
        refused("ex5").contains("`env!` is not allowed"),
        "{}",
        refused("ex5")
    );
    // Nothing of the program or the process could be read.
    if report["sandbox"]["landlock_enforced"] == true {
        let output = report["tests"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["output"].as_str())
            .find(|o| o.contains("READ "))
            .expect("the reading test ran");
        assert!(output.contains("READ exe=0 maps=0"), "{output}");
    }
    assert!(seconds < 400, "bounded time: {seconds} s");
}

/// Per-test outcomes the two engines are known to give differently, with why (see
/// grader/README.md, "The program engine").
fn known_difference(fixture: &str, test: &str, program: &str, evcxr: &str) -> bool {
    match (fixture, test, program, evcxr) {
        // Printing evcxr's protocol line disturbs only evcxr.
        ("hostile", "cheapest_books_first", "passed", "no_result") => true,
        // `unsafe` is refused at compile time in a program: the whole ex6 cell is left out.
        ("hostile", _, "cell_failed", "crashed" | "passed") => test.contains("book"),
        _ => false,
    }
}

#[test]
fn both_engines_agree_on_every_fixture() {
    prepare();
    let mut fixtures: Vec<(&str, Value)> = vec![
        ("solution", solution_cells_only()),
        ("blank", read_json(&exercises_path())),
    ];
    let mut partial = read_json(&exercises_path());
    let solution = read_json(&solution_path());
    for exercise in ["ex3", "ex6", "ex8"] {
        let from = find(&solution, "solution", exercise);
        let to = find(&partial, "solution", exercise);
        partial["cells"][to]["source"] = solution["cells"][from]["source"].clone();
    }
    fixtures.push(("partial", partial));
    // The small assignment of the classroom tests, answered, with ex2 left blank.
    let small_path = repo().join("grader/tests/fixtures/small_assignment.ipynb");
    let mut small = read_json(&small_path);
    let cells: Vec<Value> = small["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| kind_of(c) != Some("tests"))
        .map(|c| {
            let mut c = c.clone();
            if kind_of(&c) == Some("solution") && exercise_of(&c) == Some("ex2") {
                c["source"] = json!(
                    "pub fn total(session: &Session) -> orm::Result<Option<f64>> {\n    todo!()\n}"
                );
            }
            c
        })
        .collect();
    small["cells"] = Value::Array(cells);
    fixtures.push(("small", small));
    for (name, notebook) in &fixtures {
        let mut extra = vec!["--test-timeout", "20"];
        if *name == "small" {
            extra.extend(["--assignment", small_path.to_str().unwrap()]);
        }
        let program = outcomes(&grade(notebook, "program", &extra));
        let evcxr = outcomes(&grade(notebook, "evcxr", &extra));
        assert_eq!(program.len(), evcxr.len());
        for (test, outcome) in &program {
            let other = &evcxr[test];
            assert!(
                outcome == other || known_difference(name, test, outcome, other),
                "{name}: {test}: program {outcome}, evcxr {other}"
            );
        }
    }
}

#[test]
fn an_upload_from_a_macos_zip_is_graded_whatever_the_notebook_is_called() {
    let upload = tempfile::tempdir().unwrap();
    let notebook = solution_cells_only();
    write_json(&upload.path().join("exercises (1).ipynb"), &notebook);
    std::fs::create_dir_all(upload.path().join("__MACOSX")).unwrap();
    std::fs::write(
        upload.path().join("__MACOSX/._exercises (1).ipynb"),
        [0u8, 5, 22, 7],
    )
    .unwrap();
    std::fs::write(upload.path().join("._exercises (1).ipynb"), [0u8, 5, 22, 7]).unwrap();
    let report_path = upload.path().join("report.json");
    let output = run(&[
        "run",
        upload.path().to_str().unwrap(),
        "--notebook-name",
        "exercises.ipynb",
        "--json",
        report_path.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0));
    let report = read_json(&report_path);
    let max: u64 = points().iter().map(|(_, _, p)| p).sum();
    assert_eq!(report["score"], max);
    assert!(report["submission"]
        .as_str()
        .unwrap()
        .ends_with("exercises (1).ipynb"));

    // Two real notebooks and none with the expected name: not graded, and the report says why.
    write_json(&upload.path().join("draft.ipynb"), &notebook);
    let output = run(&[
        "run",
        upload.path().to_str().unwrap(),
        "--notebook-name",
        "exercises.ipynb",
        "--json",
        report_path.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(3), "not a gradable submission");
    let report = read_json(&report_path);
    assert_eq!(report["score"], 0);
    let error = report["error"].as_str().unwrap();
    assert!(
        error.contains("2 notebooks") && error.contains("draft.ipynb"),
        "{error}"
    );
}
