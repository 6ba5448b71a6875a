//! The program engine: a submission graded as one compiled Rust program.
//!
//! 1. [`source`] writes the learner's cells (given cells as released) and the hidden tests as
//!    one program; [`scan`] refuses what could read the hidden tests or the verdict token.
//! 2. [`compile`] builds it with rustc against `orm` and the harness, [`prepare`]d once per
//!    machine. A compile error costs the cell or test it is in: that one is left out and the
//!    program compiled again (at most [`MAX_ROUNDS`] times; then the evcxr engine grades).
//! 3. [`run`] runs it in the sandbox: cells in order in one process, each test in a forked
//!    child (the harness crate). A cell that hangs or ends the process is skipped in a new run.
//! 4. The events become the same report the evcxr engine writes.

pub mod compile;
pub mod prepare;
pub mod run;
pub mod scan;
pub mod source;

use crate::assignment::Assignment;
use crate::grading::analysis;
use crate::grading::autograde::{crash_reason, GradeError, GradeOptions};
use crate::grading::submission::{self, RunCell};
use crate::notebook::{CellKind, Notebook};
use crate::reports::report::{cut, CellResult, CellStatus, Outcome, TestResult, Timings};
use compile::{CompileError, CompileLimits, Compiled};
use orm_grader_harness::event::{Ending, Event};
use orm_grader_harness::sandbox::SandboxConfig;
use source::{Origin, ParsedCell, Plan, ProgramTest};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Instant;

/// Compilations tried before the submission goes to the evcxr engine.
pub const MAX_ROUNDS: usize = 8;
/// Runs tried (each skipping one more cell that hung or ended the program).
const MAX_RUNS: usize = 6;

/// What the program engine found, for the report.
pub struct Graded {
    /// Each learner cell's result.
    pub cells: Vec<CellResult>,
    /// Each hidden test's result.
    pub tests: Vec<TestResult>,
    /// Notes for the report (cells left out, restarts).
    pub notes: Vec<String>,
    /// How many times the program was started again after a crash.
    pub restarts: u32,
    /// Where the time went.
    pub timings: Timings,
}

/// Why the program engine hands a submission to the evcxr engine.
#[derive(Debug)]
pub struct Fallback(pub String);

/// Grades `submission` as one program.
///
/// # Errors
/// [`GradeError`] when nothing could be graded (the libraries cannot be prepared, no working
/// folder); [`Fallback`] (inside `Ok(Err(..))`) when the program could not be compiled within
/// [`MAX_ROUNDS`] and the evcxr engine should grade it.
pub fn grade(
    assignment: &Assignment,
    submission: &Notebook,
    options: &GradeOptions,
    config: &SandboxConfig,
    build_dir: &Path,
    started: Instant,
) -> Result<Result<Graded, Fallback>, GradeError> {
    let mut notes = Vec::new();
    let mut timings = Timings::default();
    let run_cells = submission::cells_to_run(assignment, &submission.cells, &mut notes);
    let parsed: Vec<ParsedCell> = run_cells
        .iter()
        .map(|c| ParsedCell::parse(c.index, &c.source))
        .collect();
    let tests: Vec<ProgramTest> = assignment
        .tests
        .iter()
        .map(|t| ProgramTest {
            code: crate::grading::testcode::qualify_test_macros(
                &t.code,
                "::orm_grader_harness::partial",
            ),
            free: analysis::variable_reads(&t.code),
        })
        .collect();
    let prepare_started = Instant::now();
    let (prepared, built) = prepare::prepare(options.verbose).map_err(GradeError::Prepare)?;
    // The words orm-eval uses for its own cache, so reports read alike.
    timings.evaluator_cache = if built {
        "cold, orm and its dependencies built"
    } else {
        "warm"
    }
    .into();
    timings.start_seconds = prepare_started.elapsed().as_secs_f64();

    // Compile, leaving out what does not compile.
    let compile_started = Instant::now();
    let limits = CompileLimits {
        timeout: options.cell_timeout,
        memory_bytes: options.memory_bytes.max(4 << 30),
        confine_with: options.confine_with.clone(),
        landlock: options.landlock,
    };
    let mut plan = Plan::default();
    let mut cell_errors: BTreeMap<usize, Vec<orm_eval::Diagnostic>> = BTreeMap::new();
    let mut test_errors: BTreeMap<usize, Vec<CompileError>> = BTreeMap::new();
    let mut binary = None;
    let mut program = None;
    for round in 1..=MAX_ROUNDS {
        timings.compile_rounds = round as u32;
        let generated = source::generate(&parsed, &tests, &plan);
        let main = build_dir.join("main.rs");
        std::fs::write(&main, &generated.text)
            .map_err(GradeError::io(format!("cannot write {}", main.display())))?;
        match compile::compile(&prepared, build_dir, &limits) {
            Compiled::Binary(path) => {
                binary = Some(path);
                program = Some(generated);
                break;
            }
            Compiled::Failed(message) => {
                return Ok(Err(Fallback(format!("the compiler failed: {message}"))))
            }
            Compiled::Errors(errors) => {
                let first = errors.first().map(|e| {
                    let line = e.primary().map_or(0, |p| p.line_start);
                    format!("{} (program line {line})", e.message)
                });
                if !leave_out(
                    &generated,
                    errors,
                    &mut plan,
                    &mut cell_errors,
                    &mut test_errors,
                ) {
                    return Ok(Err(Fallback(format!(
                        "the program had an error outside any cell or test: {}",
                        first.unwrap_or_default()
                    ))));
                }
            }
        }
        if options.verbose {
            eprintln!(
                "[{:>5.1}s] compile round {round}: {} cell(s), {} test(s) left out",
                started.elapsed().as_secs_f64(),
                plan.dropped_cells.len(),
                plan.dropped_tests.len()
            );
        }
    }
    timings.compile_seconds = compile_started.elapsed().as_secs_f64();
    let (Some(binary), Some(program)) = (binary, program) else {
        return Ok(Err(Fallback(format!(
            "the program still did not compile after {MAX_ROUNDS} rounds"
        ))));
    };

    // Run, skipping cells that hang or end the program.
    let output_dir = config.work_dir.join(".grader-output");
    let mut skipped: BTreeMap<usize, (String, String)> = BTreeMap::new();
    let mut restarts = 0;
    let run_started = Instant::now();
    let outcome = loop {
        let settings = run::RunSettings {
            binary: binary.clone(),
            sandbox: config.clone(),
            output_dir: output_dir.clone(),
            skip: skipped.keys().copied().collect(),
            cell_timeout: options.cell_timeout,
            test_timeout: options.test_timeout,
            deadline: started + options.total_timeout,
        };
        let outcome = run::run(&settings).map_err(GradeError::Run)?;
        let reason = match &outcome.stop {
            run::Stop::CellTimeout { cell } => Some((
                *cell,
                "Timeout".to_owned(),
                format!(
                    "the cell ran longer than {} s and was stopped; the cells after it ran \
                     without it",
                    options.cell_timeout.as_secs()
                ),
            )),
            run::Stop::Died {
                status,
                during_cell: Some(cell),
            } => {
                let output = run::read_output(
                    &output_dir.join(format!("cell-{cell}.txt")),
                    options.kept_output_bytes,
                );
                Some((
                    *cell,
                    "ProcessEnded".to_owned(),
                    format!(
                        "the cell ended the program: {}; the cells after it ran without it",
                        crash_reason(status, &output)
                    ),
                ))
            }
            _ => None,
        };
        match reason {
            Some((cell, kind, message)) if restarts + 1 < MAX_RUNS as u32 => {
                skipped.insert(cell, (kind, message));
                restarts += 1;
                if options.verbose {
                    eprintln!(
                        "[{:>5.1}s] cell {cell} stopped the program; running again without it",
                        started.elapsed().as_secs_f64()
                    );
                }
            }
            _ => break outcome,
        }
    };
    let tests_started = outcome
        .events
        .iter()
        .position(|e| matches!(e, Event::TestStarted { .. }));
    timings.cells_seconds = run_started.elapsed().as_secs_f64();

    let found = Found {
        run_cells: &run_cells,
        parsed: &parsed,
        program: &program,
        plan: &plan,
        cell_errors: &cell_errors,
        test_errors: &test_errors,
        skipped: &skipped,
        outcome: &outcome,
        output_dir: &output_dir,
        options,
    };
    let cells = found.cell_results();
    let tests = found.test_results(assignment, &cells);
    if tests_started.is_none() && !matches!(outcome.stop, run::Stop::Finished) {
        notes.push(format!(
            "the program stopped before the hidden tests ran ({})",
            describe_stop(&outcome.stop)
        ));
    }
    Ok(Ok(Graded {
        cells,
        tests,
        notes,
        restarts,
        timings,
    }))
}

fn describe_stop(stop: &run::Stop) -> String {
    match stop {
        run::Stop::Finished => "it finished".into(),
        run::Stop::CellTimeout { cell } => format!("cell {cell} ran out of time"),
        run::Stop::OutOfTime => "the time budget for the submission ran out".into(),
        run::Stop::Died { status, .. } => format!("it ended: {status}"),
    }
}

/// Leaves out the cells and tests the errors are in; false when an error is in neither.
fn leave_out(
    program: &source::Program,
    errors: Vec<CompileError>,
    plan: &mut Plan,
    cell_errors: &mut BTreeMap<usize, Vec<orm_eval::Diagnostic>>,
    test_errors: &mut BTreeMap<usize, Vec<CompileError>>,
) -> bool {
    let mut progress = false;
    for error in errors {
        let Some(place) = error.primary() else {
            continue;
        };
        match program.origin(place.line_start) {
            Origin::Cell { cell, .. } | Origin::CellGlue { cell } => {
                progress |= plan.dropped_cells.insert(cell);
                let diagnostic = in_cell(program, &error, cell);
                cell_errors.entry(cell).or_default().push(diagnostic);
            }
            Origin::Store { cell, variable } => {
                // The cell moved the variable away: later readers cannot have it.
                progress |= plan.moved.insert((cell, variable));
            }
            Origin::Test { test } => {
                progress |= plan.dropped_tests.insert(test);
                test_errors.entry(test).or_default().push(error);
            }
            Origin::Frame => {}
        }
    }
    progress
}

/// A compile error as orm-eval's diagnostic, with its places in cell `cell` (as that round's
/// program maps them).
fn in_cell(program: &source::Program, error: &CompileError, cell: usize) -> orm_eval::Diagnostic {
    orm_eval::Diagnostic {
        message: error.message.clone(),
        code: error.code.clone(),
        spans: error
            .places
            .iter()
            .filter_map(|place| match program.origin(place.line_start) {
                Origin::Cell { cell: c, line } if c == cell => Some(orm_eval::CellSpan {
                    start_line: line,
                    start_column: place.column_start,
                    end_line: line + (place.line_end - place.line_start),
                    end_column: place.column_end,
                    label: place.label.clone(),
                    is_primary: place.is_primary,
                }),
                _ => None,
            })
            .collect(),
        help: error.help.clone(),
    }
}

/// Everything compiling and running found, from which the report's cells and tests are made.
struct Found<'a> {
    run_cells: &'a [RunCell],
    parsed: &'a [ParsedCell],
    /// The program that ran (its line map places panics).
    program: &'a source::Program,
    plan: &'a Plan,
    cell_errors: &'a BTreeMap<usize, Vec<orm_eval::Diagnostic>>,
    test_errors: &'a BTreeMap<usize, Vec<CompileError>>,
    /// Cells skipped in the last run, with the error kind and message of why.
    skipped: &'a BTreeMap<usize, (String, String)>,
    outcome: &'a run::RunOutcome,
    output_dir: &'a Path,
    options: &'a GradeOptions,
}

impl Found<'_> {
    fn cell_results(&self) -> Vec<CellResult> {
        let Found {
            run_cells,
            parsed,
            program,
            cell_errors,
            skipped,
            outcome,
            output_dir,
            options,
            ..
        } = *self;
        let finished: BTreeMap<usize, (&Ending, &String, &Option<String>)> = outcome
            .events
            .iter()
            .filter_map(|e| match e {
                Event::CellFinished {
                    cell,
                    ending,
                    message,
                    location,
                } => Some((*cell, (ending, message, location))),
                _ => None,
            })
            .collect();
        run_cells
            .iter()
            .enumerate()
            .map(|(position, cell)| {
                let mut result = CellResult {
                    index: cell.index,
                    kind: cell.kind,
                    exercise: cell.exercise.clone(),
                    status: CellStatus::Ok,
                    error_kind: None,
                    error: None,
                    output: relocate(
                        &run::read_output(
                            &output_dir.join(format!("cell-{}.txt", cell.index)),
                            options.kept_output_bytes,
                        ),
                        program,
                        run_cells,
                    ),
                    seconds: 0.0,
                };
                let mut fail = |kind: &str, error: String| {
                    result.status = CellStatus::Failed;
                    result.error_kind = Some(kind.to_owned());
                    result.error = Some(error);
                };
                if let Some(unusable) = &parsed[position].unusable {
                    let error = orm_eval::EvalError::Rejected {
                        line: unusable.line,
                        message: unusable.message.clone(),
                    };
                    fail(
                        unusable.kind,
                        orm_eval::render_error(&error, &cell.source).join("\n"),
                    );
                } else if let Some(diagnostics) = cell_errors.get(&position) {
                    fail(
                        "CompileError",
                        orm_eval::render_error(
                            &orm_eval::EvalError::Compile(diagnostics.clone()),
                            &cell.source,
                        )
                        .join("\n"),
                    );
                } else if let Some((kind, message)) = skipped.get(&cell.index) {
                    fail(kind, message.clone());
                } else {
                    match finished.get(&cell.index) {
                        // Learner code cannot name the harness's `Partial`: only tests end so.
                        Some((Ending::Passed | Ending::Partial, _, _)) => {}
                        Some((Ending::Panicked, message, location)) => fail(
                            "Panic",
                            orm_eval::EvalError::Panic {
                                message: (*message).clone(),
                                location: location
                                    .as_deref()
                                    .and_then(|l| map_location(program, l)),
                            }
                            .to_string(),
                        ),
                        Some((Ending::ErrorReturned, message, _)) => fail(
                            "Error",
                            orm_eval::EvalError::ErrorReturned {
                                message: (*message).clone(),
                            }
                            .to_string(),
                        ),
                        None => {
                            result.status = CellStatus::Skipped;
                            result.error =
                                Some(format!("not run: {}", describe_stop(&outcome.stop)));
                        }
                    }
                }
                result
            })
            .collect()
    }

    fn test_results(&self, assignment: &Assignment, cells: &[CellResult]) -> Vec<TestResult> {
        let Found {
            run_cells,
            program,
            plan,
            test_errors,
            outcome,
            output_dir,
            options,
            ..
        } = *self;
        let mut verdicts: BTreeMap<usize, (&Ending, &String, Option<f64>)> = BTreeMap::new();
        let mut exits: BTreeMap<usize, &Event> = BTreeMap::new();
        for event in &outcome.events {
            match event {
                Event::TestFinished {
                    test,
                    ending,
                    message,
                    fraction,
                    ..
                } => {
                    verdicts.insert(*test, (ending, message, *fraction));
                }
                Event::TestExited { test, .. } => {
                    exits.insert(*test, event);
                }
                _ => {}
            }
        }
        let started: BTreeSet<usize> = outcome
            .events
            .iter()
            .filter_map(|e| match e {
                Event::TestStarted { test } => Some(*test),
                _ => None,
            })
            .collect();
        assignment
            .tests
            .iter()
            .enumerate()
            .map(|(position, test)| {
                let output = relocate(
                    &run::read_output(
                        &output_dir.join(format!("test-{position}.txt")),
                        options.kept_output_bytes,
                    ),
                    program,
                    run_cells,
                );
                let mut result = TestResult {
                    output: output.clone(),
                    ..TestResult::not_run(test)
                };
                let mut fraction = None;
                if let Event::TestExited { seconds, .. } =
                    exits.get(&position).copied().unwrap_or(&Event::Done)
                {
                    result.seconds = *seconds;
                }
                let (outcome_kind, feedback) = if plan.dropped_tests.contains(&position) {
                    match failed_cell_feedback(cells, &test.exercise) {
                        Some(feedback) => (Outcome::CellFailed, feedback),
                        None => (
                            Outcome::CompileError,
                            compile_feedback(test_errors.get(&position).map_or(&[][..], |e| e)),
                        ),
                    }
                } else if let Some((ending, message, awarded)) = verdicts.get(&position) {
                    fraction = *awarded;
                    match ending {
                        Ending::Passed => (Outcome::Passed, String::new()),
                        Ending::Partial => (Outcome::Partial, cut(message, 2000)),
                        Ending::Panicked => (
                            Outcome::Panicked,
                            format!("panicked: {}", cut(message, 2000)),
                        ),
                        Ending::ErrorReturned => (
                            Outcome::ErrorReturned,
                            format!("the test got an error: {}", cut(message, 2000)),
                        ),
                    }
                } else if let Some(Event::TestExited {
                    code,
                    signal,
                    timed_out,
                    ..
                }) = exits.get(&position)
                {
                    if *timed_out {
                        (
                            Outcome::Timeout,
                            format!(
                                "the test ran longer than {} s and was stopped (an endless loop?)",
                                options.test_timeout.as_secs()
                            ),
                        )
                    } else {
                        let detail = match (code, signal) {
                            (Some(code), _) => format!("exit status: {code}"),
                            (None, Some(signal)) => {
                                format!("signal: {signal} ({})", run::signal_name(*signal))
                            }
                            _ => String::new(),
                        };
                        (
                            Outcome::Crashed,
                            format!(
                                "the test's process ended: {}",
                                crash_reason(&detail, &output)
                            ),
                        )
                    }
                } else if started.contains(&position) {
                    (
                        Outcome::NoResult,
                        format!(
                            "the test's result did not come back: the program ended ({})",
                            describe_stop(&outcome.stop)
                        ),
                    )
                } else {
                    (
                        Outcome::NotRun,
                        format!("not run: {}", describe_stop(&outcome.stop)),
                    )
                };
                result.judge(outcome_kind, feedback, fraction);
                result
            })
            .collect()
    }
}

/// Places in the program's source mentioned in `text` (a panic message, `main.rs:L:C`), said
/// as the learner knows them: `cell N:L:C` for a learner's line (N is the notebook index), else
/// `the grader's code`, so that nothing of the hidden tests' layout shows.
fn relocate(text: &str, program: &source::Program, cells: &[RunCell]) -> String {
    const MARK: &str = "main.rs:";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(MARK) {
        out.push_str(&rest[..at]);
        let after = &rest[at + MARK.len()..];
        let digits = |t: &str| t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let line_end = digits(after);
        let column_end = after[line_end..]
            .strip_prefix(':')
            .map(|t| line_end + 1 + digits(t));
        match (after[..line_end].parse::<usize>(), column_end) {
            (Ok(line), Some(end)) if end > line_end + 1 => {
                let column = &after[line_end + 1..end];
                match program.origin(line) {
                    Origin::Cell { cell, line } => {
                        let index = cells.get(cell).map_or(cell, |c| c.index);
                        out.push_str(&format!("cell {index}:{line}:{column}"));
                    }
                    _ => out.push_str("the grader's code"),
                }
                rest = &after[end..];
            }
            _ => {
                out.push_str(MARK);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `main.rs:LINE:COLUMN` of the program as `cell:LINE:COLUMN` when it is a learner's line.
fn map_location(program: &source::Program, location: &str) -> Option<String> {
    let mut parts = location.rsplitn(3, ':');
    let column = parts.next()?;
    let line: usize = parts.next()?.parse().ok()?;
    match program.origin(line) {
        Origin::Cell { line, .. } => Some(format!("cell:{line}:{column}")),
        _ => None,
    }
}

/// Feedback for a test that could not compile because a learner's answer cell for its
/// exercise failed.
pub(crate) fn failed_cell_feedback(cells: &[CellResult], exercise: &str) -> Option<String> {
    let cell = cells.iter().rev().find(|c| {
        c.kind == Some(CellKind::Solution)
            && c.exercise.as_deref() == Some(exercise)
            && c.status == CellStatus::Failed
    })?;
    Some(format!(
        "your cell for {exercise} (cell {}) failed, so this test could not use it:\n{}",
        cell.index,
        cell.error.as_deref().unwrap_or("it was not run")
    ))
}

/// Feedback for a test that does not compile against the learner's code.
fn compile_feedback(errors: &[CompileError]) -> String {
    crate::grading::test_compile_feedback(errors.iter().map(|error| {
        let label = error.primary().map_or("", |p| p.label.as_str());
        (error.code.as_deref(), error.message.as_str(), label)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_places_in_output_become_cell_places() {
        let parsed = vec![ParsedCell::parse(
            4,
            "let v: Vec<i64> = Vec::new();\nlet x = v[3];",
        )];
        let cells = vec![RunCell {
            index: 4,
            kind: None,
            exercise: None,
            source: parsed[0].source.clone(),
            given: false,
        }];
        let program = source::generate(&parsed, &[], &Plan::default());
        let line = program
            .text
            .lines()
            .position(|l| l.contains("let x = v[3];"))
            .unwrap()
            + 1;
        let text = format!(
            "panicked at main.rs:{line}:9:\nindex out of bounds; main.rs:2:1 and main.rs:x"
        );
        assert_eq!(
            relocate(&text, &program, &cells),
            "panicked at cell 4:2:9:\nindex out of bounds; the grader's code and main.rs:x"
        );
    }
}
