//! What the grader shows people, through the real binary on real notebooks: the learner's
//! feedback page and annotated notebook, the per-test gradebook, the class report's numbers,
//! the Canvas export (and its refusal of learners missing from the roster), and the similarity
//! ranking of a renamed copy against independent answers.

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// The solution's answers, without its hidden tests: a full-marks submission.
fn full() -> Value {
    let mut notebook = read_json(&solution_path());
    let cells: Vec<Value> = notebook["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| kind_of(c) != Some("tests"))
        .cloned()
        .collect();
    notebook["cells"] = Value::Array(cells);
    notebook
}

/// The full answers with ex3's cell calling a missing function on its third line, with a
/// `<script>` in a string.
fn broken() -> Value {
    let mut notebook = full();
    let index = find(&notebook, "solution", "ex3");
    let mut lines: Vec<String> = source(&notebook["cells"][index])
        .split('\n')
        .map(str::to_owned)
        .collect();
    assert!(lines[2].trim().starts_with("let books"), "{}", lines[2]);
    lines[2] = "    let books = no_such_query(session, \"<script>alert(1)</script>\")?;".into();
    notebook["cells"][index]["source"] = Value::String(lines.join("\n"));
    notebook
}

fn write(dir: &Path, name: &str, notebook: &Value) -> std::path::PathBuf {
    let path = dir.join(name);
    write_json(&path, notebook);
    path
}

/// The text of `html` between the first `open` and the next `close`.
fn between<'a>(html: &'a str, open: &str, close: &str) -> &'a str {
    let start = html.find(open).unwrap_or_else(|| panic!("no {open}")) + open.len();
    let end = html[start..].find(close).unwrap() + start;
    &html[start..end]
}

#[test]
fn the_feedback_page_puts_the_error_under_its_line_and_escapes_the_learner() {
    prepare();
    let dir = tempfile::tempdir().unwrap();
    let submission = write(dir.path(), "broken.ipynb", &broken());
    let (page, annotated, json) = (
        dir.path().join("feedback/broken.html"),
        dir.path().join("feedback/broken.ipynb"),
        dir.path().join("broken.json"),
    );
    let output = run(&[
        "run",
        submission.to_str().unwrap(),
        "--quiet",
        "--json",
        json.to_str().unwrap(),
        "--feedback",
        page.to_str().unwrap(),
        "--annotated",
        annotated.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0));
    let report = read_json(&json);
    let html = std::fs::read_to_string(&page).unwrap();

    // The ex3 cell: its lines 1-3, then the error, then line 4.
    let ex3 = find(&broken(), "solution", "ex3");
    let cell = between(&html, &format!("data-cell=\"{ex3}\">"), "</table>");
    let rows: Vec<&str> = cell.split("<tr").skip(1).collect();
    assert!(rows[2].contains("<td class=\"line\">3</td>"), "{}", rows[2]);
    assert!(rows[2].contains("no_such_query"), "{}", rows[2]);
    assert!(rows[3].starts_with(" class=\"diagnostic\""), "{}", rows[3]);
    assert!(
        rows[3].contains("cannot find function `no_such_query`"),
        "{}",
        rows[3]
    );
    assert!(rows[3].contains("--&gt; cell:3:17"), "{}", rows[3]);
    assert!(rows[4].contains("<td class=\"line\">4</td>"), "{}", rows[4]);

    // What the learner wrote is shown, never run.
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;"));
    assert!(
        !html.contains("<script>"),
        "a learner's tag reached the page"
    );

    // Every test, with its points and message, and the score per exercise.
    for test in report["tests"].as_array().unwrap() {
        let name = test["name"].as_str().unwrap();
        let row = between(&html, &format!("data-test=\"{name}\""), "</tr>");
        assert!(
            row.contains(&format!(
                "<td class=\"num\">{}/{}</td>",
                test["points"], test["max_points"]
            )),
            "{name}: {row}"
        );
        assert!(row.contains(test["status"].as_str().unwrap()), "{row}");
        let first_line = test["feedback"].as_str().unwrap().lines().next();
        if let Some(line) = first_line {
            let shown = line
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;");
            let shown = shown.split(['"', '\'', '/']).next().unwrap();
            assert!(row.contains(shown), "{name}: {shown} not in {row}");
        }
    }
    assert_eq!(exercise_score(&report, "ex3"), 0);
    for exercise in report["exercises"].as_array().unwrap() {
        let row = between(
            &html,
            &format!("<tr><td>{}</td>", exercise["exercise"].as_str().unwrap()),
            "</tr>",
        );
        assert!(
            row.contains(&format!("{}/{}", exercise["score"], exercise["max_score"])),
            "{row}"
        );
    }
    assert!(html.contains(&format!(
        "Score: {} of {} points",
        report["score"], report["max_score"]
    )));

    // The annotated notebook: the error in a markdown cell right after the ex3 cell.
    let annotated = read_json(&annotated);
    let cells = annotated["cells"].as_array().unwrap();
    let at = cells
        .iter()
        .position(|c| source(c).contains("no_such_query(session"))
        .unwrap();
    assert_eq!(cells[at]["cell_type"], "code");
    let note = source(&cells[at + 1]);
    assert_eq!(cells[at + 1]["cell_type"], "markdown");
    assert!(
        note.contains("**This cell failed** (CompileError)"),
        "{note}"
    );
    assert!(note.contains("--> cell:3:17"), "{note}");
    let tests = cells
        .iter()
        .position(|c| source(c).starts_with("**Tests of ex3: 0/"))
        .expect("the tests of ex3");
    assert!(tests > at + 1, "after the ex3 cell and its error");
    assert!(source(&cells[0]).contains(&format!(
        "**Score: {} of {} points**",
        report["score"], report["max_score"]
    )));
}

/// Reads a CSV file into its header and rows.
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn shown(value: f64) -> String {
    let text = format!("{:.2}", (value * 100.0).round() / 100.0);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[test]
fn a_class_batch_gives_per_test_columns_a_report_and_a_canvas_export() {
    prepare();
    let dir = tempfile::tempdir().unwrap();
    let submissions = dir.path().join("submissions");
    std::fs::create_dir(&submissions).unwrap();
    write(&submissions, "full.ipynb", &full());
    write(&submissions, "broken.ipynb", &broken());
    std::fs::copy(exercises_path(), submissions.join("blank.ipynb")).unwrap();
    let (gradebook, results, feedback) = (
        dir.path().join("gradebook.csv"),
        dir.path().join("results"),
        dir.path().join("feedback"),
    );
    let output = run(&[
        "batch",
        submissions.to_str().unwrap(),
        "--quiet",
        "--jobs",
        "2",
        "--per-test",
        "--csv",
        gradebook.to_str().unwrap(),
        "--results-dir",
        results.to_str().unwrap(),
        "--feedback",
        feedback.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0));
    for learner in ["full", "broken", "blank"] {
        assert!(feedback.join(format!("{learner}.html")).is_file());
        assert!(feedback.join(format!("{learner}.ipynb")).is_file());
    }

    // Per-test columns: the points each test earned, adding up to the exercise and the total.
    let all_tests = points();
    let (header, rows) = read_csv(&gradebook);
    let exercises: Vec<String> =
        header[1..header.iter().position(|c| c == "total").unwrap()].to_vec();
    let test_columns: Vec<String> = all_tests
        .iter()
        .map(|(e, n, _)| format!("{e}: {n}"))
        .collect();
    let status = header.iter().position(|c| c == "status").unwrap();
    assert_eq!(header[status + 1..], test_columns[..]);
    let by_learner: BTreeMap<&str, &Vec<String>> =
        rows.iter().map(|r| (r[0].as_str(), r)).collect();
    assert_eq!(
        by_learner.keys().copied().collect::<Vec<_>>(),
        ["blank", "broken", "full"]
    );
    let test_points = |learner: &str| -> Vec<u64> {
        by_learner[learner][status + 1..]
            .iter()
            .map(|v| v.parse().unwrap())
            .collect()
    };
    let maxima: Vec<u64> = all_tests.iter().map(|(_, _, p)| *p).collect();
    assert_eq!(test_points("full"), maxima);
    for (i, (exercise, name, max)) in all_tests.iter().enumerate() {
        let broken_points = test_points("broken")[i];
        if exercise == "ex3" {
            assert_eq!(broken_points, 0, "{name}");
        } else {
            assert_eq!(broken_points, *max, "{name}");
        }
        let report = read_json(&results.join("blank.json"));
        assert_eq!(
            test_points("blank")[i],
            test_result(&report, name)["points"].as_u64().unwrap()
        );
    }
    for learner in ["full", "broken", "blank"] {
        let row = by_learner[learner];
        let total: u64 = row[exercises.len() + 1].parse().unwrap();
        assert_eq!(test_points(learner).iter().sum::<u64>(), total, "{learner}");
        for (e, exercise) in exercises.iter().enumerate() {
            let sum: u64 = all_tests
                .iter()
                .zip(test_points(learner))
                .filter(|((ex, _, _), _)| ex == exercise)
                .map(|(_, p)| p)
                .sum();
            assert_eq!(
                row[1 + e].parse::<u64>().unwrap(),
                sum,
                "{learner} {exercise}"
            );
        }
    }

    // The class report, from the JSON reports and from the gradebook: the same numbers,
    // computed here from the gradebook.
    let max_total: u64 = maxima.iter().sum();
    let mut totals: Vec<f64> = rows
        .iter()
        .map(|r| r[exercises.len() + 1].parse().unwrap())
        .collect();
    let mean = totals.iter().sum::<f64>() / 3.0;
    let median_total = median(&mut totals);
    for input in [&results, &gradebook] {
        let page = dir.path().join("report.html");
        let output = run(&[
            "report",
            input.to_str().unwrap(),
            "-o",
            page.to_str().unwrap(),
        ]);
        assert_eq!(output.status.code(), Some(0));
        let html = std::fs::read_to_string(&page).unwrap();
        let summary = between(&html, "<table id=\"summary\">", "</table>");
        let cells: Vec<&str> = summary
            .split("<td class=\"num\">")
            .skip(1)
            .map(|c| c.split('<').next().unwrap())
            .collect();
        assert_eq!(
            cells,
            vec![
                "3".to_owned(),
                "3".to_owned(),
                shown(mean),
                shown(median_total),
                max_total.to_string()
            ]
        );
        assert!(html.matches("<svg").count() >= 3, "three charts");
        for (e, exercise) in exercises.iter().enumerate() {
            let mut scores: Vec<f64> = rows.iter().map(|r| r[1 + e].parse().unwrap()).collect();
            let mean = scores.iter().sum::<f64>() / 3.0;
            let row = between(
                &html,
                &format!("<tr data-exercise=\"{exercise}\">"),
                "</tr>",
            );
            assert!(
                row.contains(&format!("<td class=\"num mean\">{}</td>", shown(mean))),
                "{row}"
            );
            assert!(
                row.contains(&format!(
                    "<td class=\"num median\">{}</td>",
                    shown(median(&mut scores))
                )),
                "{row}"
            );
        }
        // Pass rates, lowest first: ex3's tests are passed by `full` only.
        let mut expected: Vec<(String, usize)> = test_columns
            .iter()
            .enumerate()
            .map(|(i, column)| {
                let passed = ["full", "broken", "blank"]
                    .iter()
                    .filter(|l| test_points(l)[i] == maxima[i])
                    .count();
                (column.clone(), passed)
            })
            .collect();
        expected.sort_by_key(|(_, passed)| *passed);
        let tests = between(&html, "<table id=\"tests\">", "</table>");
        let shown_rates: Vec<(String, usize)> = tests
            .split("<tr data-test=\"")
            .skip(1)
            .map(|row| {
                let name = row.split('"').next().unwrap().replace("&#x27;", "'");
                let passed = between(row, "<td class=\"num\">", "/3</td>")
                    .parse()
                    .unwrap();
                (name, passed)
            })
            .collect();
        let mut sorted = shown_rates.clone();
        sorted.sort_by_key(|(_, passed)| *passed);
        assert_eq!(shown_rates, sorted, "lowest first");
        let mut expected_sorted = expected.clone();
        expected_sorted.sort();
        let mut shown_sorted = shown_rates.clone();
        shown_sorted.sort();
        assert_eq!(shown_sorted, expected_sorted);
        let failing = html.split("<h2>Failing submissions</h2>").nth(1).unwrap();
        assert!(failing.contains("data-learner=\"blank\""));
        assert!(!failing.contains("data-learner=\"full\""));
        if input == &results {
            let slowest = between(&html, "<table id=\"slowest\">", "</table>");
            assert_eq!(slowest.matches("data-learner=").count(), 3);
        }
    }

    // Canvas: a learner missing from the roster is refused by name, and nothing is written.
    let roster = dir.path().join("roster.csv");
    std::fs::write(
        &roster,
        "Student,ID,SIS User ID,SIS Login ID,Section\n\
         \"    Points Possible\",,,,\n\
         \"Lovelace, Ada\",101,S101,full,Sec 1\n\
         Brian Kernighan,102,S102,broken,Sec 2\n",
    )
    .unwrap();
    let canvas = dir.path().join("canvas.csv");
    let refused = run(&[
        "export",
        "--canvas",
        gradebook.to_str().unwrap(),
        "--roster",
        roster.to_str().unwrap(),
        "-o",
        canvas.to_str().unwrap(),
    ]);
    assert_eq!(refused.status.code(), Some(7));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("1 learner(s) of the gradebook are not on the roster")
            && stderr.contains(": blank"),
        "{stderr}"
    );
    assert!(!canvas.exists(), "nothing written for a refused export");
    let mut text = std::fs::read_to_string(&roster).unwrap();
    text.push_str("Grace Hopper,103,S103,blank,Sec 1\n");
    std::fs::write(&roster, text).unwrap();
    let output = run(&[
        "export",
        "--canvas",
        gradebook.to_str().unwrap(),
        "--roster",
        roster.to_str().unwrap(),
        "--assignment-name",
        "ORM exercises",
        "--assignment-id",
        "4242",
        "-o",
        canvas.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0));
    let (header, exported) = read_csv(&canvas);
    assert_eq!(
        header,
        [
            "Student",
            "ID",
            "SIS User ID",
            "SIS Login ID",
            "Section",
            "ORM exercises (4242)"
        ]
    );
    assert_eq!(
        exported[0],
        [
            "    Points Possible",
            "",
            "",
            "",
            "",
            max_total.to_string().as_str()
        ]
    );
    let total_of = |learner: &str| by_learner[learner][exercises.len() + 1].clone();
    assert_eq!(
        exported[1],
        [
            "Grace Hopper",
            "103",
            "S103",
            "blank",
            "Sec 1",
            total_of("blank").as_str()
        ]
    );
    assert_eq!(
        exported[2],
        [
            "Brian Kernighan",
            "102",
            "S102",
            "broken",
            "Sec 2",
            total_of("broken").as_str()
        ]
    );
    assert_eq!(
        exported[3],
        [
            "Lovelace, Ada",
            "101",
            "S101",
            "full",
            "Sec 1",
            total_of("full").as_str()
        ]
    );
}

/// Renames whole words (not after `::`, so the library's `Author::books` stays).
fn rename(source: &str, from: &str, to: &str) -> String {
    let mut out = String::new();
    let mut rest = source;
    let word = |c: char| c.is_alphanumeric() || c == '_';
    while let Some(at) = rest.find(from) {
        let before = rest[..at].chars().last();
        let after = rest[at + from.len()..].chars().next();
        let whole =
            !before.is_some_and(word) && !after.is_some_and(word) && !rest[..at].ends_with("::");
        out.push_str(&rest[..at]);
        out.push_str(if whole { to } else { from });
        rest = &rest[at + from.len()..];
    }
    out.push_str(rest);
    out
}

/// The solution's answers with the learner's own names renamed and literals changed, as a
/// copier hides a copy.
fn renamed_copy() -> Value {
    let mut notebook = full();
    for cell in notebook["cells"].as_array_mut().unwrap() {
        if kind_of(cell) != Some("solution") {
            continue;
        }
        let mut text = source(cell);
        for (from, to) in [
            ("author", "writer"),
            ("books", "volumes"),
            ("titles", "names"),
            ("tag", "label"),
            ("decade", "period"),
            ("migrations", "migs"),
            ("revision", "rev"),
            ("b", "item"),
            ("a", "entry"),
        ] {
            text = rename(&text, from, to);
        }
        text = text.replace("\"Add born column\"", "\"born column added\"");
        text = text.replace("modulo(10)", "modulo(0xA)");
        cell["source"] = Value::String(text);
    }
    notebook
}

/// Answers written independently of the solution (another style: loops, matches, builders),
/// for ex2, ex3, ex5 and ex7; the rest as handed out.
fn independent() -> Value {
    let mut notebook = read_json(&exercises_path());
    let answers = [
        (
            "ex2",
            r#"pub fn add_author(session: &Session, name: &str, country: &str) -> orm::Result<Obj<Author>> {
    let mut fresh = Author::default();
    fresh.name = name.to_string();
    fresh.country = Some(country.to_string());
    let stored = session.add(fresh);
    match session.commit() {
        Ok(()) => Ok(stored),
        Err(e) => Err(e),
    }
}

pub fn rename_author(session: &Session, id: i64, new_name: &str) -> orm::Result<bool> {
    match session.get::<Author>(id)? {
        None => Ok(false),
        Some(found) => {
            found.borrow_mut().name = new_name.to_string();
            session.commit()?;
            Ok(true)
        }
    }
}

pub fn delete_author(session: &Session, id: i64) -> orm::Result<bool> {
    let found = session.get::<Author>(id)?;
    if found.is_none() {
        return Ok(false);
    }
    session.delete(&found.unwrap())?;
    session.commit().map(|_| true)
}"#,
        ),
        (
            "ex3",
            r#"pub fn books_after(session: &Session, year: i64) -> orm::Result<Vec<String>> {
    let mut out = Vec::new();
    let query = session.query::<Book>().filter(Book::year.gt(year));
    for book in query.order_by(Book::year).order_by(Book::title).all()? {
        out.push(book.borrow().title.clone());
    }
    Ok(out)
}

pub fn cheapest(session: &Session, n: u64) -> orm::Result<Vec<String>> {
    let mut out = Vec::with_capacity(n as usize);
    let sorted = session.query::<Book>().order_by(Book::price);
    for book in sorted.limit(n).all()? {
        let title = book.borrow().title.clone();
        out.push(title);
    }
    Ok(out)
}"#,
        ),
        (
            "ex5",
            r#"pub fn titles_by_country(session: &Session, country: &str) -> orm::Result<Vec<String>> {
    let mut out = Vec::new();
    let joined = session.query::<Book>().join::<Author>();
    for book in joined.filter(Author::country.eq(country)).all()? {
        out.push(book.borrow().title.clone());
    }
    out.sort();
    Ok(out)
}"#,
        ),
        (
            "ex7",
            r#"pub fn tag_book(session: &Session, book: &Obj<Book>, tag_name: &str) -> orm::Result<()> {
    let existing = session.query::<Tag>().filter(Tag::name.eq(tag_name)).first()?;
    let chosen = if let Some(found) = existing {
        found
    } else {
        let mut fresh = Tag::default();
        fresh.name = tag_name.to_string();
        session.add(fresh)
    };
    book.append(Book::tags, &chosen)?;
    session.commit()
}

pub fn books_tagged(session: &Session, tag_name: &str) -> orm::Result<Vec<String>> {
    let mut out = Vec::new();
    if let Some(found) = session.query::<Tag>().filter(Tag::name.eq(tag_name)).first()? {
        for book in found.related(Tag::books)? {
            out.push(book.borrow().title.clone());
        }
    }
    out.sort();
    Ok(out)
}"#,
        ),
    ];
    for (exercise, answer) in answers {
        let index = find(&notebook, "solution", exercise);
        notebook["cells"][index]["source"] = Value::String(answer.to_owned());
    }
    notebook
}

#[test]
fn similarity_ranks_a_renamed_copy_first_and_independent_answers_low() {
    let dir = tempfile::tempdir().unwrap();
    let submissions = dir.path().join("submissions");
    std::fs::create_dir(&submissions).unwrap();
    write(&submissions, "ada.ipynb", &full());
    write(&submissions, "copier.ipynb", &renamed_copy());
    write(&submissions, "grace.ipynb", &independent());
    std::fs::copy(exercises_path(), submissions.join("blank.ipynb")).unwrap();
    let page = dir.path().join("similarity.html");
    let pairs_csv = dir.path().join("pairs.csv");
    let output = run(&[
        "similarity",
        submissions.to_str().unwrap(),
        "-o",
        page.to_str().unwrap(),
        "--csv",
        pairs_csv.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0));
    let (_, pairs) = read_csv(&pairs_csv);
    assert_eq!(pairs.len(), 6, "every pair of four");
    for pair in &pairs {
        eprintln!("similarity {} {}: {}", pair[0], pair[1], pair[2]);
    }
    let similarity = |a: &str, b: &str| -> f64 {
        pairs
            .iter()
            .find(|p| (p[0] == a && p[1] == b) || (p[0] == b && p[1] == a))
            .map(|p| p[2].parse().unwrap())
            .unwrap()
    };
    assert_eq!(
        (pairs[0][0].as_str(), pairs[0][1].as_str()),
        ("ada", "copier"),
        "{pairs:?}"
    );
    assert!(similarity("ada", "copier") > 0.9, "{pairs:?}");
    assert!(similarity("ada", "grace") < 0.25, "{pairs:?}");
    assert!(similarity("copier", "grace") < 0.25, "{pairs:?}");
    for other in ["ada", "copier", "grace"] {
        assert!(
            similarity("blank", other) < 0.05,
            "the given code is left out: {pairs:?}"
        );
    }
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("it never changes a score"));
    let first = between(&html, "<tr class=\"pair\"", "</tr>");
    assert!(
        first.contains("data-a=\"ada\" data-b=\"copier\""),
        "{first}"
    );
    let shared = html.split("<h2 id=\"pair-1\">").nth(1).unwrap();
    let shared = shared.split("<h2 id=\"pair-2\">").next().unwrap();
    assert!(shared.contains("<mark>"), "the shared code is marked");
    assert!(
        shared.contains("writer") && shared.contains("author"),
        "both sides shown"
    );
}
