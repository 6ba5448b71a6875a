//! Helpers shared by the grader's tests: the real binary, the assignment and fixtures made
//! from it.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Once;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn solution_path() -> PathBuf {
    repo().join("grader/assignment/solution.ipynb")
}

pub fn exercises_path() -> PathBuf {
    repo().join("notebooks/exercises.ipynb")
}

pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

pub fn write_json(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
}

pub fn grader() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_grader"));
    command.current_dir(repo());
    command
}

pub fn run(args: &[&str]) -> Output {
    let output = grader().args(args).output().expect("the grader runs");
    eprintln!(
        "grader {args:?} exited with {:?}\n--- stderr (tail) ---\n{}",
        output.status.code(),
        tail(&String::from_utf8_lossy(&output.stderr), 60)
    );
    output
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Builds `orm` into the evaluator's cache once, before tests start evaluators side by side.
pub fn prepare() {
    static PREPARE: Once = Once::new();
    PREPARE.call_once(|| {
        let output = run(&["prepare"]);
        assert!(output.status.success(), "grader prepare failed");
    });
}

/// The source of a notebook cell as one string.
pub fn source(cell: &Value) -> String {
    match &cell["source"] {
        Value::String(s) => s.clone(),
        Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

pub fn code_cell(source: &str, metadata: Value) -> Value {
    serde_json::json!({
        "cell_type": "code",
        "metadata": metadata,
        "source": source,
        "outputs": [],
        "execution_count": null,
    })
}

pub fn kind_of(cell: &Value) -> Option<&str> {
    cell["metadata"]["grader"]["kind"].as_str()
}

pub fn exercise_of(cell: &Value) -> Option<&str> {
    cell["metadata"]["grader"]["exercise"].as_str()
}

/// The index of the cell of `kind` for `exercise`.
pub fn find(notebook: &Value, kind: &str, exercise: &str) -> usize {
    notebook["cells"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| kind_of(c) == Some(kind) && exercise_of(c) == Some(exercise))
        .unwrap_or_else(|| panic!("no {kind} cell for {exercise}"))
}

/// The points of each hidden test, by name, read from the solution notebook.
pub fn points() -> Vec<(String, String, u64)> {
    let solution = read_json(&solution_path());
    let mut out = Vec::new();
    for cell in solution["cells"].as_array().unwrap() {
        if kind_of(cell) != Some("tests") {
            continue;
        }
        for line in source(cell).lines() {
            let Some(header) = line.trim().strip_prefix("// TEST ") else {
                continue;
            };
            let (name, rest) = header.split_once(" (").unwrap();
            let points: u64 = rest.split_whitespace().next().unwrap().parse().unwrap();
            out.push((
                exercise_of(cell).unwrap().to_owned(),
                name.to_owned(),
                points,
            ));
        }
    }
    out
}

/// The names of the tests the solution notebook marks `public`.
pub fn public_tests() -> Vec<String> {
    let solution = std::fs::read_to_string(solution_path()).unwrap();
    solution
        .split("// TEST ")
        .skip(1)
        .filter_map(|rest| {
            let header = rest.split("\\n").next().unwrap();
            header
                .ends_with(" public")
                .then(|| header.split(" (").next().unwrap().to_owned())
        })
        .collect()
}

pub fn points_of(exercise: &str) -> u64 {
    points()
        .iter()
        .filter(|(e, _, _)| e == exercise)
        .map(|(_, _, p)| p)
        .sum()
}

/// A test's entry in a JSON report.
pub fn test_result<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no test {name} in the report"))
}

pub fn exercise_score(report: &Value, exercise: &str) -> u64 {
    report["exercises"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["exercise"] == exercise)
        .and_then(|e| e["score"].as_u64())
        .unwrap_or_else(|| panic!("no exercise {exercise} in the report"))
}
