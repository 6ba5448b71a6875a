//! Real cells through a real evaluator (cargo, rustc and the `orm` sources are needed; the
//! first run on a machine builds `orm` into the per-user cache, later runs start warm).
//!
//! One evaluator serves all tests, as one notebook would; each test uses its own variable
//! names. Run with `cargo test --release -p orm-eval --test cells [-- NAME_FILTER]`.

use orm_eval::{EvalError, Evaluator, EvaluatorOptions, Event, Outputs};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What one cell did: its events and its result.
struct Ran {
    events: Vec<Event>,
    result: Result<Outputs, EvalError>,
}

impl Ran {
    fn stdout(&self) -> String {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Stdout(text) => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    fn stderr(&self) -> String {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Stderr(text) => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    fn value(&self) -> String {
        match &self.result {
            Ok(outputs) => outputs.data.get("text/plain").cloned().unwrap_or_default(),
            Err(error) => panic!("the cell failed: {error}"),
        }
    }

    fn error(&self) -> &EvalError {
        match &self.result {
            Err(error) => error,
            Ok(outputs) => panic!("the cell succeeded: {outputs:?}"),
        }
    }
}

fn run(evaluator: &mut Evaluator, cell: &str) -> Ran {
    let events = Arc::new(Mutex::new(Vec::new()));
    let collected = Arc::clone(&events);
    let mut sink = move |event: Event| collected.lock().unwrap().push(event);
    let result = evaluator.eval(cell, &mut sink);
    let events = std::mem::take(&mut *events.lock().unwrap());
    Ran { events, result }
}

fn ok(evaluator: &mut Evaluator, cell: &str) -> Ran {
    let ran = run(evaluator, cell);
    if let Err(error) = &ran.result {
        panic!("cell {cell:?} failed: {error}\nstderr: {}", ran.stderr());
    }
    ran
}

fn value_defined_in_one_cell_is_used_in_later_cells(e: &mut Evaluator) {
    ok(e, "let mut greeting = String::from(\"hello\");");
    ok(e, "greeting.push_str(\", world\");");
    assert_eq!(ok(e, "greeting.len()").value(), "12");
    assert_eq!(ok(e, "greeting").value(), "\"hello, world\"");
}

fn output_streams_and_final_values_are_reported(e: &mut Evaluator) {
    let ran = ok(
        e,
        "println!(\"to stdout\"); eprintln!(\"to stderr\"); 6 * 7",
    );
    assert_eq!(ran.stdout(), "to stdout\n");
    assert!(ran.stderr().contains("to stderr"));
    assert_eq!(ran.value(), "42");
    let unit = ok(e, "println!(\"x\")");
    assert!(
        unit.result.as_ref().unwrap().data.is_empty(),
        "() is not shown"
    );
}

/// The lesson's section 2 (issue #21): a final expression that moves a variable the same cell
/// declares still shows its HTML table (evcxr alone fell back to the `{:?}` text), compile errors
/// in such a cell keep pointing at the learner's line, and the moved variable is gone as in Rust.
fn final_value_that_moves_a_variable_shows_its_html(e: &mut Evaluator) {
    let ran = ok(
        e,
        "let moved_engine = create_engine(\"sqlite:///:memory:\")?;\n\
         let moved_query = orm::core::text(\"SELECT 1 AS one\");\n\
         moved_engine.execute(moved_query)?.to_table()",
    );
    let data = &ran.result.as_ref().unwrap().data;
    assert!(
        data.get("text/html")
            .is_some_and(|html| html.contains("<th>one</th>")),
        "no HTML table: {data:?}"
    );
    assert!(!e.variables().iter().any(|(name, _)| name == "moved_query"));
    // A value borrowing a temporary of its own expression does not compile once bound: the
    // cell as written runs instead, as evcxr alone would run it.
    let borrowed = ok(
        e,
        "let numbers = vec![3, 1, 2];\nstd::convert::identity(numbers).iter().max()",
    );
    assert_eq!(borrowed.value(), "Some(3)");
    let failed = run(
        e,
        "let moved_again = orm::core::text(\"SELECT 1\");\nmoved_engine.execute(moved_again)?.no_such_method()",
    );
    let EvalError::Compile(errors) = failed.error() else {
        panic!("expected a compile error, got {}", failed.error());
    };
    // `no_such_method` starts at column 36 (1-based) of line 2, as the learner wrote it.
    let places: Vec<_> = errors
        .iter()
        .filter_map(|d| d.primary_span())
        .map(|span| (span.start_line, span.start_column))
        .collect();
    assert!(places.contains(&(2, 36)), "{places:?} in {errors:?}");
}

fn panicking_cell_is_an_error_and_the_next_cell_works(e: &mut Evaluator) {
    ok(e, "let kept_through_panic = 41;");
    let ran = run(e, "let lost = 1;\npanic!(\"boom {}\", 7);");
    match ran.error() {
        EvalError::Panic { message, location } => {
            assert_eq!(message, "boom 7");
            assert_eq!(location.as_deref(), Some("line 2"));
        }
        other => panic!("expected a panic, got {other:?}"),
    }
    assert_eq!(ok(e, "kept_through_panic + 1").value(), "42");
}

fn panic_in_a_joined_thread_does_not_fail_the_cell(e: &mut Evaluator) {
    let ran = ok(
        e,
        "std::thread::spawn(|| panic!(\"in a thread\")).join().is_err()",
    );
    assert_eq!(ran.value(), "true");
    assert!(ran.stderr().contains("in a thread"));
}

fn question_mark_error_is_an_error(e: &mut Evaluator) {
    let ran = run(e, "let parsed: i32 = \"forty\".parse()?;");
    match ran.error() {
        EvalError::ErrorReturned { message } => {
            assert_eq!(message, "invalid digit found in string")
        }
        other => panic!("expected ErrorReturned, got {other:?}"),
    }
    assert_eq!(
        ok(e, "let parsed: i32 = \"40\".parse()?; parsed + 2").value(),
        "42"
    );
}

fn compile_errors_point_at_the_users_lines(e: &mut Evaluator) {
    let ran = run(e, "let a = 1;\nlet b: i32 = \"two\";");
    let EvalError::Compile(diagnostics) = ran.error() else {
        panic!("expected a compile error, got {:?}", ran.error());
    };
    let span = diagnostics[0].primary_span().expect("a place in the cell");
    assert_eq!((span.start_line, span.start_column), (2, 14));
    let first_line = run(e, "let c: i32 = \"three\";");
    let EvalError::Compile(diagnostics) = first_line.error() else {
        panic!("expected a compile error");
    };
    let span = diagnostics[0].primary_span().unwrap();
    assert_eq!((span.start_line, span.start_column), (1, 14));
}

fn commands_and_shell_lines_are_rejected_without_running(e: &mut Evaluator) {
    let marker = std::env::temp_dir().join(format!("orm-eval-marker-{}", std::process::id()));
    let _ = std::fs::remove_file(&marker);
    for cell in [
        ":dep rand".to_owned(),
        ":quit".to_owned(),
        "  :vars".to_owned(),
        "// a comment\n:sccache 1".to_owned(),
        "!ls".to_owned(),
        format!("!touch {}", marker.display()),
        format!("\n\t!touch {}\nlet x = 1;", marker.display()),
    ] {
        let ran = run(e, &cell);
        assert!(
            matches!(ran.error(), EvalError::Rejected { .. }),
            "{cell:?} was not rejected: {:?}",
            ran.result
        );
    }
    assert!(!marker.exists(), "a shell line ran");
    assert_eq!(ok(e, "1 + 1").value(), "2");
}

fn endless_loop_is_interrupted_and_the_next_cell_works(e: &mut Evaluator) {
    ok(e, "let before_interrupt = 1;");
    let interrupter = e.interrupter();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(3));
        interrupter.interrupt()
    });
    let started = Instant::now();
    let ran = run(e, "loop {}");
    assert!(stopper.join().unwrap(), "nothing was running to interrupt");
    assert_eq!(ran.error(), &EvalError::Interrupted);
    assert!(started.elapsed() < Duration::from_secs(60));
    assert!(
        !e.interrupter().interrupt(),
        "interrupting while idle does nothing"
    );
    assert_eq!(ok(e, "2 + 2").value(), "4");
    // Variables are lost: the name is unknown to the compiler (E0425).
    let lost = run(e, "before_interrupt");
    let EvalError::Compile(errors) = lost.error() else {
        panic!("expected a compile error, got {}", lost.error());
    };
    assert_eq!(errors[0].code.as_deref(), Some("E0425"), "{errors:?}");
}

fn process_exit_is_reported_and_the_next_cell_works(e: &mut Evaluator) {
    let ran = run(e, "std::process::exit(3)");
    match ran.error() {
        EvalError::ProcessEnded { detail } => assert!(detail.contains("3"), "{detail}"),
        other => panic!("expected ProcessEnded, got {other:?}"),
    }
    assert!(ran.error().to_string().contains("variables were lost"));
    assert_eq!(ok(e, "3 + 3").value(), "6");
    // The panic hook lives in the process: it must have been installed again.
    assert!(matches!(
        run(e, "panic!(\"hook still there\")").error(),
        EvalError::Panic { .. }
    ));
}

fn display_and_clear_output_are_events(e: &mut Evaluator) {
    let ran = ok(
        e,
        "jupyter::display(\"text/html\", \"<b>hi</b>\");\njupyter::clear_output(true);",
    );
    assert!(ran
        .events
        .iter()
        .any(|ev| matches!(ev, Event::Display(d) if d["text/html"] == "<b>hi</b>")));
    assert!(ran.events.contains(&Event::ClearOutput { wait: true }));
}

const READ_LINE: &str = "let mut line = String::new();
let n = std::io::stdin().read_line(&mut line).unwrap();
println!(\"read {n}: {line:?}\");";

/// The grader's way (`eval`): a read of stdin sees end of input at once, never a hang.
fn stdin_is_at_end_of_input_by_default(e: &mut Evaluator) {
    let started = Instant::now();
    let ran = ok(e, READ_LINE);
    assert_eq!(ran.stdout(), "read 0: \"\"\n");
    assert!(started.elapsed() < Duration::from_secs(30));
}

fn stdin_lines_are_answered_when_a_reader_is_given(e: &mut Evaluator) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let collected = Arc::clone(&events);
    let mut sink = move |event: Event| collected.lock().unwrap().push(event);
    let asked = Mutex::new(0);
    let answer = |_prompt: &str, _password: bool| {
        *asked.lock().unwrap() += 1;
        Some("Ada".to_owned())
    };
    let code = format!("{READ_LINE}\nlet m = std::io::stdin().read_line(&mut line).unwrap();\nprintln!(\"then {{m}}\");");
    let result = e.eval_with_stdin(&code, &mut sink, &answer);
    assert!(result.is_ok(), "{result:?}");
    let out: String = events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            Event::Stdout(t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(out, "read 4: \"Ada\\n\"\nthen 4\n");
    assert_eq!(*asked.lock().unwrap(), 2);
}

fn text_without_newline_and_every_display_arrive_in_order(e: &mut Evaluator) {
    ok(
        e,
        "pub struct Shown(pub u8);\nimpl Shown { pub fn evcxr_display(&self) { println!(\"EVCXR_BEGIN_CONTENT text/plain\\nshown {}\\nEVCXR_END_CONTENT\", self.0); } }",
    );
    let ran = ok(e, "print!(\"a\");\nShown(1).evcxr_display();\nShown(2).evcxr_display();\nprint!(\"b\");\nShown(3)");
    let plain = |t: &str| orm_eval::MimeBundle::from([("text/plain".to_owned(), t.to_owned())]);
    assert_eq!(
        ran.events,
        vec![
            Event::Stdout("a".into()),
            Event::Display(plain("shown 1")),
            Event::Display(plain("shown 2")),
            Event::Stdout("b".into()),
        ]
    );
    assert_eq!(ran.value(), "shown 3");
    let ran = ok(e, "Shown(4).evcxr_display();");
    assert_eq!(ran.events, vec![Event::Display(plain("shown 4"))]);
    assert!(ran.result.unwrap().data.is_empty());
}

fn engine_made_in_one_cell_works_in_later_cells(e: &mut Evaluator) {
    ok(
        e,
        "#[derive(Model, Debug, Clone, Default)]\n#[orm(table = \"people\")]\npub struct Person {\n    #[orm(primary_key)] pub id: i64,\n    pub name: String,\n    #[orm(index)] pub age: Option<i64>,\n}",
    );
    ok(e, "let engine = create_engine(\"sqlite:///:memory:\")?;");
    ok(e, "MetaData::new().add::<Person>().create_all(&engine)?;");
    ok(
        e,
        "let session = Session::new(&engine);\nsession.add(Person { name: \"Ada\".into(), age: Some(36), ..Default::default() });\nsession.add(Person { name: \"Tim\".into(), age: Some(12), ..Default::default() });\nsession.commit()?;",
    );
    let adults = ok(
        e,
        "let adults = session.query::<Person>().filter(Person::age.ge(18)).all()?;\nadults.len()",
    );
    assert_eq!(adults.value(), "1");
    assert_eq!(ok(e, "session.query::<Person>().all()?.len()").value(), "2");
}

/// The lesson's CRUD and query examples, one step per cell, with no type annotations the
/// lesson's Python does not need (DESIGN fact 3: the derive is expanded before evcxr infers types).
fn lesson_crud_and_queries_run_cell_by_cell(e: &mut Evaluator) {
    ok(
        e,
        "#[derive(Model, Debug, Clone, Default)]\n#[orm(table = \"users\")]\npub struct User {\n    #[orm(primary_key)] pub id: i64,\n    pub name: String,\n    #[orm(unique)] pub email: Option<String>,\n    #[orm(index)] pub age: Option<i64>,\n}",
    );
    ok(e, "let lesson_engine = create_engine(\"sqlite:///:memory:\")?;\nMetaData::new().add::<User>().create_all(&lesson_engine)?;");
    ok(e, "let lesson_session = Session::new(&lesson_engine);");
    ok(
        e,
        "let user = User { name: \"Alice\".into(), email: Some(\"alice@example.com\".into()), age: Some(30), ..Default::default() };\nlesson_session.add(user);\nlesson_session.commit()?;",
    );
    ok(e, "lesson_session.add(User { name: \"Bob\".into(), age: Some(17), ..Default::default() });\nlesson_session.commit()?;");
    // The query of DESIGN fact 3, kept in a variable and run in a later cell.
    ok(
        e,
        "let q = lesson_session.query::<User>().filter(User::age.gt(21));",
    );
    assert_eq!(ok(e, "let users = q.all()?;\nusers.len()").value(), "1");
    assert_eq!(ok(e, "let alice = lesson_session.query::<User>().filter(User::name.eq(\"Alice\")).first()?.unwrap();\nalice.borrow().age").value(), "Some(30)");
    ok(
        e,
        "alice.borrow_mut().age = Some(31);\nlesson_session.commit()?;",
    );
    assert_eq!(
        ok(e, "lesson_session.get::<User>(1)?.unwrap().borrow().age").value(),
        "Some(31)"
    );
    assert_eq!(
        ok(
            e,
            "lesson_session.query_values(func::max(User::age)).scalar()?"
        )
        .value(),
        "Some(31)"
    );
    ok(
        e,
        "lesson_session.delete(&alice)?;\nlesson_session.commit()?;",
    );
    assert_eq!(
        ok(e, "lesson_session.query::<User>().count()?").value(),
        "1"
    );
}

fn completion_lists_model_columns(e: &mut Evaluator) {
    ok(
        e,
        "#[derive(Model, Debug, Clone, Default)]\n#[orm(table = \"pets\")]\npub struct Pet {\n    #[orm(primary_key)] pub id: i64,\n    pub nickname: String,\n}",
    );
    let code = "Pet::";
    let found = e.complete(code, code.len()).unwrap();
    let names: Vec<_> = found.matches.iter().map(|m| m.text.as_str()).collect();
    assert!(names.contains(&"nickname"), "{names:?}");
    assert_eq!((found.start, found.end), (5, 5));
}

fn inspection_shows_types(e: &mut Evaluator) {
    ok(e, "let numbers_for_hover = vec![1u8, 2];");
    let found = e
        .inspect("numbers_for_hover", 3)
        .unwrap()
        .expect("hover text");
    assert!(found.text.contains("Vec<u8>"), "{}", found.text);
}

type Test = (&'static str, fn(&mut Evaluator));

const TESTS: &[Test] = &[
    (
        "value_defined_in_one_cell_is_used_in_later_cells",
        value_defined_in_one_cell_is_used_in_later_cells,
    ),
    (
        "output_streams_and_final_values_are_reported",
        output_streams_and_final_values_are_reported,
    ),
    (
        "panicking_cell_is_an_error_and_the_next_cell_works",
        panicking_cell_is_an_error_and_the_next_cell_works,
    ),
    (
        "panic_in_a_joined_thread_does_not_fail_the_cell",
        panic_in_a_joined_thread_does_not_fail_the_cell,
    ),
    (
        "question_mark_error_is_an_error",
        question_mark_error_is_an_error,
    ),
    (
        "compile_errors_point_at_the_users_lines",
        compile_errors_point_at_the_users_lines,
    ),
    (
        "commands_and_shell_lines_are_rejected_without_running",
        commands_and_shell_lines_are_rejected_without_running,
    ),
    (
        "display_and_clear_output_are_events",
        display_and_clear_output_are_events,
    ),
    (
        "stdin_is_at_end_of_input_by_default",
        stdin_is_at_end_of_input_by_default,
    ),
    (
        "stdin_lines_are_answered_when_a_reader_is_given",
        stdin_lines_are_answered_when_a_reader_is_given,
    ),
    (
        "text_without_newline_and_every_display_arrive_in_order",
        text_without_newline_and_every_display_arrive_in_order,
    ),
    (
        "engine_made_in_one_cell_works_in_later_cells",
        engine_made_in_one_cell_works_in_later_cells,
    ),
    (
        "lesson_crud_and_queries_run_cell_by_cell",
        lesson_crud_and_queries_run_cell_by_cell,
    ),
    (
        "final_value_that_moves_a_variable_shows_its_html",
        final_value_that_moves_a_variable_shows_its_html,
    ),
    (
        "completion_lists_model_columns",
        completion_lists_model_columns,
    ),
    ("inspection_shows_types", inspection_shows_types),
    // These two lose every variable, so they come last.
    (
        "endless_loop_is_interrupted_and_the_next_cell_works",
        endless_loop_is_interrupted_and_the_next_cell_works,
    ),
    (
        "process_exit_is_reported_and_the_next_cell_works",
        process_exit_is_reported_and_the_next_cell_works,
    ),
];

fn main() -> ExitCode {
    orm_eval::runtime_hook();
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let selected: Vec<_> = TESTS
        .iter()
        .filter(|(name, _)| filter.as_ref().is_none_or(|f| name.contains(f.as_str())))
        .collect();
    if selected.is_empty() {
        println!("no tests match");
        return ExitCode::SUCCESS;
    }
    let started = Instant::now();
    let mut evaluator = match Evaluator::start(&EvaluatorOptions::default()) {
        Ok(evaluator) => evaluator,
        Err(error) => {
            eprintln!("the evaluator did not start: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "evaluator started in {:.1} s ({})",
        started.elapsed().as_secs_f64(),
        evaluator.start_report().cache.describe()
    );
    let mut failed = Vec::new();
    let count = selected.len();
    for (name, test) in selected {
        let started = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| test(&mut evaluator)));
        let status = if outcome.is_ok() { "ok" } else { "FAILED" };
        println!(
            "test {name} ... {status} ({:.1} s)",
            started.elapsed().as_secs_f64()
        );
        if outcome.is_err() {
            failed.push(*name);
        }
    }
    if failed.is_empty() {
        println!("\ntest result: ok. {count} passed");
        ExitCode::SUCCESS
    } else {
        println!("\ntest result: FAILED. failures: {}", failed.join(", "));
        ExitCode::FAILURE
    }
}
