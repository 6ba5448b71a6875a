//! The grader in the engines teachers grade with, driven through the real release binary on a
//! small assignment (`fixtures/small_assignment.ipynb`: one model, two exercises, three hidden
//! tests), so that a submission costs seconds, not minutes:
//! - a sharded batch (4 shard processes at once) merges into the unsharded gradebook, byte for
//!   byte, and `merge` refuses missing, doubled and mixed parts;
//! - the Gradescope bundle grades a submission in a Gradescope-shaped temporary root;
//! - the GitHub Classroom workflow, the Kubernetes manifest and the Slurm script parse, and the
//!   commands in them, run here in order, grade real submissions.

mod common;

use base64::Engine as _;
use common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Instant;
use yaml_rust2::{Yaml, YamlLoader};

/// Short enough that the hostile loop costs little, long enough for a busy machine to compile.
const LIMITS: [&str; 4] = ["--cell-timeout", "20", "--test-timeout", "40"];

fn small_assignment() -> PathBuf {
    repo().join("grader/tests/fixtures/small_assignment.ipynb")
}

fn templates() -> PathBuf {
    repo().join("grader/templates")
}

/// `exercise`'s answer region replaced by `todo!()`, as `grader assign` does.
fn without_answer(source: &str) -> String {
    let mut out = Vec::new();
    let mut inside = false;
    for line in source.lines() {
        if line.trim() == "// BEGIN SOLUTION" {
            inside = true;
            out.push("    todo!()");
        } else if line.trim() == "// END SOLUTION" {
            inside = false;
        } else if !inside {
            out.push(line);
        }
    }
    out.join("\n")
}

/// A learner's notebook of the small assignment: the answers of `answered` (others are
/// `todo!()`), no hidden tests, and `extra` cells of the learner's own at the end.
fn learner(answered: &[&str], extra: &[&str]) -> Value {
    let mut notebook = read_json(&small_assignment());
    let mut cells = Vec::new();
    for cell in notebook["cells"].as_array().unwrap() {
        match (kind_of(cell), exercise_of(cell)) {
            (Some("tests"), _) => continue,
            (Some("solution"), Some(exercise)) if !answered.contains(&exercise) => {
                let mut cell = cell.clone();
                cell["source"] = json!(without_answer(&source(&cell)));
                cells.push(cell);
            }
            _ => cells.push(cell.clone()),
        }
    }
    for code in extra {
        cells.push(code_cell(code, json!({})));
    }
    notebook["cells"] = Value::Array(cells);
    notebook
}

/// The graded part of the batch: (file stem, notebook, expected total; None: not graded).
fn graded_submissions(submissions: &Path, assignment: &Path) -> Vec<(String, Value, Option<u32>)> {
    let victim = submissions.join("b01-not-json.ipynb");
    let vandal = format!(
        r#"let hidden = std::fs::read_to_string({assignment:?});
println!("read_hidden_tests={{}}", hidden.is_ok());
println!("deleted_a_submission={{}}", std::fs::remove_file({victim:?}).is_ok());
println!("deleted_the_folder={{}}", std::fs::remove_dir_all({submissions:?}).is_ok());"#
    );
    vec![
        ("r01-full".into(), learner(&["ex1", "ex2"], &[]), Some(5)),
        ("r02-zero".into(), learner(&[], &[]), Some(0)),
        ("r03-ex1-only".into(), learner(&["ex1"], &[]), Some(3)),
        ("r04-ex2-only".into(), learner(&["ex2"], &[]), Some(2)),
        (
            "r05-exits".into(),
            learner(&["ex1", "ex2"], &["std::process::exit(0);"]),
            Some(5),
        ),
        (
            "r06-loops".into(),
            learner(&["ex1"], &["loop { std::hint::spin_loop(); }"]),
            Some(3),
        ),
        (
            "r07-vandal".into(),
            learner(&["ex1", "ex2"], &[vandal.as_str()]),
            Some(5),
        ),
    ]
}

/// Files that are not notebooks: each is a row of zeros saying why, at no grading cost.
fn broken_submissions() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("b01-not-json", b"this is not a notebook".to_vec()),
        ("b02-truncated", b"{\"cells\": [".to_vec()),
        ("b03-empty", Vec::new()),
        ("b04-empty-object", b"{}".to_vec()),
        ("b05-array", b"[1, 2, 3]".to_vec()),
        ("b06-null", b"null".to_vec()),
        (
            "b07-cells-not-a-list",
            b"{\"cells\": 7, \"nbformat\": 4}".to_vec(),
        ),
        ("b08-binary", vec![0x50, 0x4b, 0x03, 0x04, 0xff, 0x00, 0x9c]),
        (
            "b09-nbformat-3",
            b"{\"cells\": [], \"nbformat\": 3}".to_vec(),
        ),
        (
            "b10-utf16",
            "\u{feff}{}"
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect(),
        ),
        ("b11-number", b"42".to_vec()),
        ("b12-string", b"\"notebook\"".to_vec()),
        ("b13-html", b"<html><body>404</body></html>".to_vec()),
        ("b14-yaml", b"cells:\n  - print\n".to_vec()),
        (
            "b15-nested-garbage",
            b"{\"cells\": [{\"cell_type\": 3}]}".to_vec(),
        ),
        ("b16-deep", "[".repeat(10_000).into_bytes()),
        ("b17-no-cells", b"{\"nbformat\": 4}".to_vec()),
    ]
}

fn spawn(args: &[&str]) -> Child {
    grader()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the grader starts")
}

fn finish(name: &str, child: Child) -> Output {
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
    eprintln!(
        "{name}: exit {:?}\n{}",
        output.status.code(),
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    );
    output
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn four_shards_merge_into_the_unsharded_gradebook_and_bad_parts_are_refused() {
    prepare();
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let submissions = dir.path().join("submissions");
    let parts = dir.path().join("parts");
    std::fs::create_dir_all(&submissions).unwrap();
    let assignment = std::fs::canonicalize(small_assignment()).unwrap();
    let graded = graded_submissions(&submissions, &assignment);
    for (stem, notebook, _) in &graded {
        write_json(&submissions.join(format!("{stem}.ipynb")), notebook);
    }
    for (stem, bytes) in broken_submissions() {
        std::fs::write(submissions.join(format!("{stem}.ipynb")), bytes).unwrap();
    }
    std::fs::write(submissions.join("notes.txt"), "not a submission").unwrap();
    let count = graded.len() + broken_submissions().len();
    assert!(count >= 24);

    // The whole batch and its four shards, five grader processes at once.
    let common_args = |extra: Vec<String>| -> Vec<String> {
        let mut args: Vec<String> = vec!["batch".into(), s(&submissions).into()];
        args.extend([
            "--assignment".into(),
            s(&assignment).into(),
            "--jobs".into(),
            "1".into(),
        ]);
        args.extend(LIMITS.iter().map(|a| a.to_string()));
        args.push("--quiet".into());
        args.extend(extra);
        args
    };
    let whole_csv = dir.path().join("whole.csv");
    let whole_results = dir.path().join("results-whole");
    let whole_args = common_args(vec![
        "--csv".into(),
        s(&whole_csv).into(),
        "--results-dir".into(),
        s(&whole_results).into(),
    ]);
    let whole = spawn(&whole_args.iter().map(String::as_str).collect::<Vec<_>>());
    let shards: Vec<(String, Child)> = (0..4)
        .map(|i| {
            let args = common_args(vec![
                "--shard".into(),
                format!("{i}/4"),
                "--csv".into(),
                s(&parts.join(format!("part-{i}.csv"))).into(),
                "--results-dir".into(),
                s(&dir.path().join("results-shards")).into(),
            ]);
            let child = spawn(&args.iter().map(String::as_str).collect::<Vec<_>>());
            (format!("shard {i}/4"), child)
        })
        .collect();
    assert_eq!(finish("whole batch", whole).status.code(), Some(0));
    for (name, child) in shards {
        assert_eq!(finish(&name, child).status.code(), Some(0), "{name}");
    }
    eprintln!(
        "graded {count} submissions twice in {:.0?}",
        started.elapsed()
    );

    let part_paths: Vec<PathBuf> = (0..4)
        .map(|i| parts.join(format!("part-{i}.csv")))
        .collect();
    let part_text = std::fs::read_to_string(&part_paths[2]).unwrap();
    assert!(
        part_text.starts_with("# orm-grader partial gradebook"),
        "{part_text}"
    );
    assert!(
        part_text.contains(&format!("# shard: 2/4\n# batch-size: {count}\n")),
        "{part_text}"
    );

    // Merged in any order: the unsharded gradebook, byte for byte.
    let merged = dir.path().join("merged.csv");
    let mut merge_args = vec!["merge".to_owned()];
    merge_args.extend([3, 1, 0, 2].iter().map(|&i| s(&part_paths[i]).to_owned()));
    merge_args.extend(["-o".into(), s(&merged).into()]);
    let output = run(&merge_args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(output.status.code(), Some(0));
    let whole_bytes = std::fs::read(&whole_csv).unwrap();
    assert!(
        std::fs::read(&merged).unwrap() == whole_bytes,
        "merged:\n{}\nunsharded:\n{}",
        std::fs::read_to_string(&merged).unwrap(),
        String::from_utf8_lossy(&whole_bytes)
    );

    // The gradebook itself: every learner once, in file-name order, with the expected totals.
    let mut reader = csv::Reader::from_reader(whole_bytes.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), count);
    let learners: Vec<&str> = rows.iter().map(|r| &r[0]).collect();
    let mut sorted = learners.clone();
    sorted.sort();
    assert_eq!(learners, sorted);
    for (stem, _, total) in &graded {
        let row = rows.iter().find(|r| &r[0] == stem).unwrap();
        assert_eq!(&row[4], "graded", "{stem}: {row:?}");
        assert_eq!(row[3].parse::<u32>().ok(), *total, "{stem}: {row:?}");
    }
    for (stem, _) in broken_submissions() {
        let row = rows.iter().find(|r| &r[0] == stem).unwrap();
        assert_eq!(&row[3], "0", "{stem}");
        assert!(row[4].starts_with("not graded"), "{stem}: {row:?}");
    }

    // The hostile submissions were contained: the loop and the exit failed only their cells,
    // the vandal could neither read the hidden tests nor delete anything.
    let cells =
        |stem: &str| read_json(&whole_results.join(format!("{stem}.json")))["cells"].clone();
    let kinds = |stem: &str| -> Vec<String> {
        cells(stem)
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["error_kind"].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(kinds("r05-exits"), ["ProcessEnded"]);
    assert_eq!(kinds("r06-loops"), ["Timeout"]);
    let vandal_output: String = cells("r07-vandal")
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["output"].as_str())
        .collect();
    for line in [
        "read_hidden_tests=false",
        "deleted_a_submission=false",
        "deleted_the_folder=false",
    ] {
        assert!(vandal_output.contains(line), "{vandal_output}");
    }
    assert!(submissions.join("b01-not-json.ipynb").is_file());

    // merge refuses what does not make one gradebook, naming the files; no grading needed.
    let refused = |parts: &[&Path], expected: &[&str]| {
        let mut args = vec!["merge"];
        args.extend(parts.iter().map(|p| s(p)));
        let out = dir.path().join("refused.csv");
        args.extend(["-o", s(&out)]);
        let output = run(&args);
        assert_eq!(output.status.code(), Some(6), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        for text in expected {
            assert!(stderr.contains(text), "`{text}` not in: {stderr}");
        }
        assert!(!out.exists(), "nothing is written when merge refuses");
    };
    let [p0, p1, p2, p3] = [0, 1, 2, 3].map(|i| part_paths[i].as_path());
    refused(&[p0, p1, p3], &["gap", "2/4", "part-0.csv", "part-3.csv"]);
    let again = dir.path().join("part-1-again.csv");
    std::fs::copy(p1, &again).unwrap();
    refused(
        &[p0, p1, p2, p3, &again],
        &["overlap", "1/4", "part-1.csv", "part-1-again.csv"],
    );
    let other_assignment = dir.path().join("part-3-other-assignment.csv");
    let text = std::fs::read_to_string(p3).unwrap();
    let hash_line = text
        .lines()
        .find(|l| l.starts_with("# assignment-sha256: "))
        .unwrap();
    let changed = text.replace(
        hash_line,
        &format!("# assignment-sha256: {}", "0".repeat(64)),
    );
    std::fs::write(&other_assignment, changed).unwrap();
    refused(
        &[p0, p1, p2, &other_assignment],
        &[
            "mixed assignments",
            "part-0.csv",
            "part-3-other-assignment.csv",
        ],
    );
    refused(&[&whole_csv], &["not a partial gradebook", "whole.csv"]);

    // Bad shard settings are usage errors, said before anything is graded.
    let usage = |args: &[&str], env: &[(&str, &str)], expected: &str| {
        let mut command = grader();
        command
            .args(["batch", s(&submissions), "--assignment", s(&assignment)])
            .args(args)
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("SLURM_ARRAY_TASK_ID")
            .envs(env.iter().copied());
        let output = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?} {env:?}: {stderr}");
        assert!(stderr.contains(expected), "`{expected}` not in: {stderr}");
    };
    usage(&["--shard", "4/4"], &[], "out of range");
    usage(&["--shard", "one/4"], &[], "not a whole number");
    usage(
        &["--shard-from-env", "--shards", "4"],
        &[],
        "neither JOB_COMPLETION_INDEX",
    );
    usage(
        &["--shard-from-env", "--shards", "4"],
        &[("JOB_COMPLETION_INDEX", "4")],
        "JOB_COMPLETION_INDEX=4",
    );
    usage(
        &["--shard-from-env"],
        &[("JOB_COMPLETION_INDEX", "0")],
        "--shards",
    );
    usage(
        &["--shard-from-env"],
        &[
            ("SLURM_ARRAY_TASK_ID", "0"),
            ("SLURM_ARRAY_TASK_COUNT", "x"),
        ],
        "SLURM_ARRAY_TASK_COUNT=x",
    );
    eprintln!("sharded test: {:.0?}", started.elapsed());
}

/// Gradescope's documented `results.json` fields and their types
/// (<https://gradescope-autograders.readthedocs.io/en/latest/specs/>).
fn check_gradescope_results(results: &Value) {
    const VISIBILITY: [&str; 4] = ["hidden", "after_due_date", "after_published", "visible"];
    assert!(results["score"].is_number(), "{results:#}");
    assert!(results["execution_time"].is_number());
    assert!(results["output"].is_string());
    assert!(VISIBILITY.contains(&results["visibility"].as_str().unwrap()));
    assert!(VISIBILITY.contains(&results["stdout_visibility"].as_str().unwrap()));
    let tests = results["tests"].as_array().unwrap();
    assert!(!tests.is_empty());
    let mut sum = 0.0;
    for test in tests {
        for number in ["score", "max_score"] {
            assert!(test[number].is_number(), "{number}: {test:#}");
        }
        for text in ["name", "output"] {
            assert!(test[text].is_string(), "{text}: {test:#}");
        }
        assert!(["passed", "failed"].contains(&test["status"].as_str().unwrap()));
        assert!(VISIBILITY.contains(&test["visibility"].as_str().unwrap()));
        sum += test["score"].as_f64().unwrap();
    }
    assert_eq!(results["score"].as_f64(), Some(sum));
}

#[test]
fn the_gradescope_bundle_grades_a_submission_in_a_gradescope_root() {
    prepare();
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let assignment = small_assignment();
    let zip_path = dir.path().join("autograder.zip");
    let mut args = vec!["gradescope-bundle", s(&assignment), "-o", s(&zip_path)];
    args.extend(LIMITS);
    assert_eq!(run(&args).status.code(), Some(0));

    // Gradescope's layout: the zip in source/, the learner's files in submission/.
    let root = dir.path().join("autograder");
    let source = root.join("source");
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
    let names: Vec<String> = archive.file_names().map(str::to_owned).collect();
    for needed in [
        "setup.sh",
        "run_autograder",
        "grader.conf",
        "solution.ipynb",
        "project/Cargo.lock",
        "project/grader/src/main.rs",
        "project/orm/src/lib.rs",
    ] {
        assert!(names.iter().any(|n| n == needed), "{needed} not in the zip");
    }
    assert!(names
        .iter()
        .all(|n| !n.contains(".git/") && !n.starts_with("project/target/")));
    let mode = archive
        .by_name("run_autograder")
        .unwrap()
        .unix_mode()
        .unwrap();
    assert_eq!(mode & 0o777, 0o755);
    archive.extract(&source).unwrap();
    assert_eq!(
        std::fs::read(source.join("solution.ipynb")).unwrap(),
        std::fs::read(small_assignment()).unwrap(),
        "the hidden tests are in the bundle"
    );

    // The learner's notebook, as `grader assign` makes it, holds no hidden test.
    let exercises = dir.path().join("exercises.ipynb");
    let made = run(&["assign", s(&small_assignment()), "-o", s(&exercises)]);
    assert_eq!(made.status.code(), Some(0));
    let learner_text = std::fs::read_to_string(&exercises).unwrap();
    for hidden in ["// TEST", "cheap_names_are_sorted", "total_of_the_shop"] {
        assert!(!learner_text.contains(hidden), "{hidden} leaked");
    }

    // A learner answered ex1 only, and uploaded it with another file.
    let submission = root.join("submission");
    std::fs::create_dir_all(&submission).unwrap();
    let answer = learner(&["ex1"], &[]);
    write_json(&submission.join("exercises.ipynb"), &answer);
    std::fs::write(submission.join("notes.md"), "my notes").unwrap();
    std::fs::create_dir_all(root.join("results")).unwrap();

    // setup.sh without the system installs and the build (the binary under test stands in).
    let setup = Command::new("bash")
        .arg(source.join("setup.sh"))
        .env("AUTOGRADER_ROOT", &root)
        .env("GRADER_SKIP_INSTALL", "1")
        .env("GRADER_BIN", env!("CARGO_BIN_EXE_grader"))
        .output()
        .unwrap();
    assert!(
        setup.status.success(),
        "{}",
        String::from_utf8_lossy(&setup.stderr)
    );
    assert!(root.join("bin/grader").exists());

    // Gradescope copies run_autograder to the root and runs it there.
    std::fs::copy(source.join("run_autograder"), root.join("run_autograder")).unwrap();
    let graded = Command::new(root.join("run_autograder"))
        .env("AUTOGRADER_ROOT", &root)
        .output()
        .unwrap();
    assert!(
        graded.status.success(),
        "{}",
        String::from_utf8_lossy(&graded.stderr)
    );
    let results = read_json(&root.join("results/results.json"));
    check_gradescope_results(&results);

    // The same score as `grader run` on the same notebook.
    let alone = dir.path().join("alone.ipynb");
    write_json(&alone, &answer);
    let mut args = vec![
        "run",
        s(&alone),
        "--assignment",
        s(&assignment),
        "--format",
        "json",
    ];
    args.extend(LIMITS);
    let output = run(&args);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["score"], 3);
    assert_eq!(results["score"].as_f64(), report["score"].as_f64());
    eprintln!("gradescope test: {:.0?}", started.elapsed());
}

fn load_yaml(path: &Path) -> Vec<Yaml> {
    let text = std::fs::read_to_string(path).unwrap();
    YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn text<'a>(yaml: &'a Yaml, what: &str) -> &'a str {
    yaml.as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {yaml:?}"))
}

/// A folder holding `grader` (the binary under test), for PATH.
fn grader_on_path(dir: &Path) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_grader"), bin.join("grader")).unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Runs `bash -c script` as GitHub Actions runs a `run:` step.
fn bash_step(script: &str, cwd: &Path, env: &[(String, String)]) -> Output {
    Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
        .current_dir(cwd)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap()
}

#[test]
fn the_github_classroom_workflow_grades_and_reports_points() {
    prepare();
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let path = grader_on_path(dir.path());
    let workflow = &load_yaml(&templates().join("classroom.yml"))[0];
    assert_eq!(text(&workflow["name"], "name"), "Autograding Tests");
    let job = &workflow["jobs"]["run-autograding-tests"];
    let steps = job["steps"].as_vec().unwrap();

    // The reporter reads the grading step's `result` output from <RUNNER>_RESULTS.
    let reporter = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("classroom-resources/autograding-grading-reporter@"))
        })
        .expect("the reporter step");
    let runner = text(&reporter["with"]["runners"], "runners");
    let variable = format!("{}_RESULTS", runner.to_uppercase());
    assert_eq!(
        text(&reporter["env"][variable.as_str()], &variable),
        format!("${{{{ steps.{runner}.outputs.result }}}}")
    );
    assert_eq!(text(&reporter["if"], "the reporter's if"), "always()");

    // The learner's repository, with the hidden tests checked out beside it.
    let repository = dir.path().join("learner-repo");
    let workflow_env = workflow["env"].as_hash().unwrap();
    let setting = |name: &str| text(&workflow_env[&Yaml::String(name.into())], name).to_owned();
    let notebook = repository.join(setting("NOTEBOOK"));
    let tests = repository.join(setting("TESTS"));
    std::fs::create_dir_all(tests.parent().unwrap()).unwrap();
    std::fs::copy(small_assignment(), &tests).unwrap();
    write_json(&notebook, &learner(&["ex1", "ex2"], &[]));
    let github_output = dir.path().join("github_output");
    std::fs::write(&github_output, "").unwrap();
    let mut env: Vec<(String, String)> = workflow_env
        .iter()
        .map(|(k, v)| (text(k, "env").to_owned(), text(v, "env value").to_owned()))
        .collect();
    // The teacher's threshold for this 5-point assignment.
    env.retain(|(k, _)| k != "MIN_SCORE");
    env.push(("MIN_SCORE".into(), "5".into()));
    env.push(("GITHUB_OUTPUT".into(), s(&github_output).into()));
    env.push(("PATH".into(), path));

    // Every `run:` step in order, but the system installs and the build (done here already).
    let mut ran = Vec::new();
    for step in steps {
        let Some(script) = step["run"].as_str() else {
            continue;
        };
        let id = step["id"].as_str().unwrap_or("");
        if ["system-packages", "install-grader"].contains(&id) {
            assert!(script.contains("libsqlite3-dev") || script.contains("cargo install"));
            continue;
        }
        let output = bash_step(script, &repository, &env);
        assert!(
            output.status.success(),
            "step {:?}: {}",
            step["name"],
            String::from_utf8_lossy(&output.stderr)
        );
        ran.push(id.to_owned());
    }
    assert!(
        ran.contains(&runner.to_owned()),
        "the grading step ran: {ran:?}"
    );

    let outputs = std::fs::read_to_string(&github_output).unwrap();
    let encoded = outputs
        .lines()
        .find_map(|l| l.strip_prefix("result="))
        .expect("the grading step sets `result`");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    let result: Value = serde_json::from_slice(&decoded).unwrap();
    assert_eq!(result["max_score"], 5);
    assert_eq!(result["status"], "pass");
    let points: u64 = result["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["score"].as_u64().unwrap())
        .sum();
    assert_eq!(points, 5, "{result:#}");
    eprintln!("classroom test: {:.0?}", started.elapsed());
}

/// A stand-in for Slurm's `sbatch`: runs the job here at once (an array's tasks side by side,
/// with the variables Slurm sets), refuses to start a job whose `afterok` dependency failed,
/// logs what it was asked, and prints the job id as `--parsable` does.
const FAKE_SBATCH: &str = r#"#!/usr/bin/env bash
set -u
state="$FAKE_SLURM_DIR"
id=$(cat "$state/next" 2> /dev/null || echo 100)
echo $((id + 1)) > "$state/next"
array= dependency= wrap=
while [ $# -gt 0 ]; do
  case "$1" in
    --array=*) array=${1#--array=} ;;
    --dependency=*) dependency=${1#--dependency=} ;;
    --wrap) wrap=$2; shift ;;
    --*) ;;
    *) break ;;
  esac
  shift
done
echo "job $id array=$array dependency=$dependency wrap=$wrap args=$*" >> "$state/log"
if [ -n "$dependency" ] && [ "$(cat "$state/${dependency#afterok:}.status")" != 0 ]; then
  echo "sbatch: dependency $dependency never satisfied" >&2
  exit 1
fi
status=0
if [ -n "$wrap" ]; then
  sh -c "$wrap" > "$state/$id.out" 2>&1 || status=$?
else
  first=${array%-*} last=${array#*-}
  pids=()
  for ((task = first; task <= last; task++)); do
    SLURM_ARRAY_JOB_ID=$id SLURM_ARRAY_TASK_ID=$task SLURM_ARRAY_TASK_MIN=$first \
      SLURM_ARRAY_TASK_MAX=$last SLURM_ARRAY_TASK_COUNT=$((last - first + 1)) \
      bash "$@" > "$state/$id-$task.out" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
fi
echo "$status" > "$state/$id.status"
echo "$id"
"#;

#[test]
fn the_cluster_templates_grade_shards_and_merge_them() {
    prepare();
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let path = grader_on_path(dir.path());
    for script in [
        "slurm-grade.sh",
        "gradescope/setup.sh",
        "gradescope/run_autograder",
    ] {
        let check = Command::new("bash")
            .arg("-n")
            .arg(templates().join(script))
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&check.stderr)
        );
    }
    // One shared folder per engine, with the same two submissions.
    let shared = |name: &str| {
        let data = dir.path().join(name);
        std::fs::create_dir_all(data.join("submissions")).unwrap();
        std::fs::copy(small_assignment(), data.join("solution.ipynb")).unwrap();
        write_json(
            &data.join("submissions/ada.ipynb"),
            &learner(&["ex1", "ex2"], &[]),
        );
        write_json(&data.join("submissions/bob.ipynb"), &learner(&["ex2"], &[]));
        data
    };

    // Kubernetes: the storage claim, the indexed Job (one shard per index, side by side as its
    // parallelism allows), then the merge Job.
    let documents = load_yaml(&templates().join("k8s-grading-job.yaml"));
    let step = |name: &str| {
        documents
            .iter()
            .find(|d| d["metadata"]["labels"]["step"].as_str() == Some(name))
            .unwrap_or_else(|| panic!("no document labelled step={name}"))
    };
    assert_eq!(
        text(&step("storage")["kind"], "kind"),
        "PersistentVolumeClaim"
    );
    let grade = step("grade");
    assert_eq!(text(&grade["apiVersion"], "apiVersion"), "batch/v1");
    assert_eq!(
        text(&grade["spec"]["completionMode"], "completionMode"),
        "Indexed"
    );
    let completions = grade["spec"]["completions"].as_i64().unwrap();
    assert_eq!(grade["spec"]["parallelism"].as_i64(), Some(completions));
    let container = &grade["spec"]["template"]["spec"]["containers"][0];
    let shards_setting = container["env"]
        .as_vec()
        .unwrap()
        .iter()
        .find(|e| e["name"].as_str() == Some("SHARDS"))
        .unwrap();
    assert_eq!(
        text(&shards_setting["value"], "SHARDS"),
        completions.to_string()
    );
    let k8s_data = shared("k8s");
    let on_volume = |container: &Yaml| {
        assert_eq!(
            text(&container["volumeMounts"][0]["mountPath"], "mountPath"),
            "/data"
        );
        assert_eq!(text(&container["command"][0], "command"), "/bin/sh");
        text(&container["args"][0], "args").replace("/data", s(&k8s_data))
    };
    let shard_script = on_volume(container);
    let pods: Vec<Child> = (0..completions)
        .map(|index| {
            Command::new("sh")
                .args(["-c", &shard_script])
                .env("PATH", &path)
                .env("JOB_COMPLETION_INDEX", index.to_string())
                .env("SHARDS", text(&shards_setting["value"], "SHARDS"))
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (index, pod) in pods.into_iter().enumerate() {
        assert!(finish(&format!("pod {index}"), pod).status.success());
    }
    let merge_container = &step("merge")["spec"]["template"]["spec"]["containers"][0];
    let merged = Command::new("sh")
        .args(["-c", &on_volume(merge_container)])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(
        merged.status.success(),
        "{}",
        String::from_utf8_lossy(&merged.stderr)
    );
    let k8s_gradebook = std::fs::read_to_string(k8s_data.join("gradebook.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(k8s_gradebook.as_bytes());
    let totals: Vec<(String, String)> = reader
        .records()
        .map(|r| r.unwrap())
        .map(|r| (r[0].to_owned(), r[3].to_owned()))
        .collect();
    assert_eq!(
        totals,
        [("ada".into(), "5".into()), ("bob".into(), "2".into())]
    );

    // Slurm: the script submits the array and the merge through sbatch (a stand-in here).
    let slurm_data = shared("slurm");
    let state = dir.path().join("fake-slurm");
    std::fs::create_dir_all(&state).unwrap();
    let sbatch = dir.path().join("bin/sbatch");
    std::fs::write(&sbatch, FAKE_SBATCH).unwrap();
    let executable = std::os::unix::fs::PermissionsExt::from_mode(0o755);
    std::fs::set_permissions(&sbatch, executable).unwrap();
    let submitted = Command::new("bash")
        .arg(templates().join("slurm-grade.sh"))
        .current_dir(dir.path())
        .env("PATH", &path)
        .env("FAKE_SLURM_DIR", &state)
        .env("DATA", &slurm_data)
        .env("SHARDS", "2")
        .output()
        .unwrap();
    let log = std::fs::read_to_string(state.join("log")).unwrap_or_default();
    assert!(
        submitted.status.success(),
        "{}\n{log}",
        String::from_utf8_lossy(&submitted.stderr)
    );
    let jobs: Vec<&str> = log.lines().collect();
    assert_eq!(jobs.len(), 2, "{log}");
    assert!(jobs[0].starts_with("job 100 array=0-1 "), "{log}");
    assert!(jobs[1].contains("dependency=afterok:100 wrap="), "{log}");
    assert_eq!(
        std::fs::read_to_string(slurm_data.join("gradebook.csv")).unwrap(),
        k8s_gradebook,
        "both engines make the same gradebook"
    );
    eprintln!("cluster templates test: {:.0?}", started.elapsed());
}
