//! Grading one submission. Two engines: the program engine (default; [`crate::grading::program`])
//! compiles the submission and the hidden tests as one program; the evcxr engine (here) runs
//! its code cells in order, as the kernel runs them, then each hidden test as its own
//! evaluation in that context, with time limits and restarts after crashes. The evcxr engine
//! is also the fallback for what the program engine cannot compile.

use crate::assignment::{Assignment, HiddenTest};
use crate::containment::sandbox::{SandboxConfig, SandboxReport};
use crate::grading::analysis;
use crate::grading::testcode::{self, Verdict};
use crate::notebook::Notebook;
use crate::reports::report::{
    cut, CellResult, CellStatus, GradeReport, Outcome, TestResult, Timings, SCHEMA,
};
use orm_eval::lock;
use orm_eval::{EvalError, Evaluator, EvaluatorOptions, Event, Outputs};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Which engine grades.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    /// The submission and the hidden tests compiled as one program (about a second).
    Program,
    /// Every cell and test evaluated by evcxr, as the kernel does (a minute or more).
    Evcxr,
}

impl EngineKind {
    /// The name used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            EngineKind::Program => "program",
            EngineKind::Evcxr => "evcxr",
        }
    }
}

/// How to grade.
#[derive(Debug, Clone)]
pub struct GradeOptions {
    /// Which engine grades.
    pub engine: EngineKind,
    /// The grader binary, through which the program engine starts the compiler confined
    /// (`grader confine`); `None` compiles with resource limits only.
    pub confine_with: Option<PathBuf>,
    /// Longest a cell may run.
    pub cell_timeout: Duration,
    /// Longest a hidden test may run.
    pub test_timeout: Duration,
    /// For the whole submission; what is left when it runs out is not run.
    pub total_timeout: Duration,
    /// Address-space limit of the learner's code, in bytes.
    pub memory_bytes: u64,
    /// CPU-time limit of the learner's code, in seconds.
    pub cpu_seconds: u64,
    /// Largest file the learner's code may write, in bytes.
    pub file_bytes: u64,
    /// Most files the learner's code may hold open.
    pub open_files: u64,
    /// Output one evaluation process may send (see the sandbox).
    pub process_output_bytes: u64,
    /// Output kept per cell or test in the report.
    pub kept_output_bytes: usize,
    /// Whether Landlock rules confine the learner's code (when the kernel has Landlock).
    pub landlock: bool,
    /// Which cells the evcxr engine runs again after a crash.
    pub replay: Replay,
    /// The evcxr evaluator's options.
    pub evaluator: EvaluatorOptions,
    /// Where submissions' working folders are made (default: the system's temp folder).
    pub work_root: Option<PathBuf>,
    /// Progress lines on stderr.
    pub verbose: bool,
}

impl Default for GradeOptions {
    fn default() -> Self {
        GradeOptions {
            engine: EngineKind::Program,
            confine_with: None,
            cell_timeout: Duration::from_secs(120),
            test_timeout: Duration::from_secs(60),
            total_timeout: Duration::from_secs(1800),
            memory_bytes: 4 << 30,
            cpu_seconds: 1800,
            file_bytes: 64 << 20,
            open_files: 256,
            process_output_bytes: 64 << 20,
            kept_output_bytes: 16 << 10,
            landlock: true,
            replay: Replay::Needed,
            evaluator: EvaluatorOptions::default(),
            work_root: None,
            verbose: false,
        }
    }
}

/// Why a submission could not be graded at all.
#[derive(Debug, thiserror::Error)]
pub enum GradeError {
    /// The submission is not a readable notebook.
    #[error("the submission cannot be read: {0}")]
    Submission(#[source] crate::notebook::NotebookError),
    /// An upload folder without one notebook to grade.
    #[error("the submission cannot be read: {0}")]
    Upload(#[source] crate::grading::submission::DiscoveryError),
    /// The program engine's libraries could not be built.
    #[error("the evaluator could not start: the program engine: {0}")]
    Prepare(#[source] crate::grading::program::prepare::PrepareError),
    /// The graded program could not be started.
    #[error("the evaluator could not start: {0}")]
    Run(#[source] crate::grading::program::run::RunError),
    /// The evcxr evaluator could not start (no toolchain, `orm` does not build, …); orm-eval's
    /// error, with its own causes.
    #[error("the evaluator could not start: {0}")]
    Evaluator(#[source] orm_eval::StartError),
    /// A working folder or file could not be made.
    #[error("{what}: {source}")]
    Io {
        /// What failed (`cannot make FOLDER`).
        what: String,
        /// The operating system's error.
        source: std::io::Error,
    },
}

impl GradeError {
    /// `GradeError::Io { what, source }` as a `map_err` argument.
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> GradeError {
        let what = what.into();
        move |source| GradeError::Io { what, source }
    }
}

/// Grades the notebook at `submission` against `assignment`.
pub fn grade(
    assignment: &Assignment,
    assignment_path: &Path,
    submission: &Path,
    options: &GradeOptions,
) -> Result<GradeReport, GradeError> {
    let notebook = Notebook::read(submission).map_err(GradeError::Submission)?;
    grade_notebook(assignment, assignment_path, submission, &notebook, options)
}

/// The sandbox settings for `options` in `work_dir`.
pub fn sandbox_config(options: &GradeOptions, work_dir: &Path) -> SandboxConfig {
    SandboxConfig {
        work_dir: work_dir.to_owned(),
        memory_bytes: options.memory_bytes,
        cpu_seconds: options.cpu_seconds,
        file_bytes: options.file_bytes,
        open_files: options.open_files,
        output_bytes: options.process_output_bytes,
        landlock: options.landlock,
    }
}

/// Grades an already read `notebook` (at `submission`) against `assignment`.
///
/// # Errors
/// [`GradeError`] when the submission cannot be graded at all (no working folder, an
/// evaluator that cannot start).
pub fn grade_notebook(
    assignment: &Assignment,
    assignment_path: &Path,
    submission_path: &Path,
    submission: &Notebook,
    options: &GradeOptions,
) -> Result<GradeReport, GradeError> {
    let started = Instant::now();
    let work = match &options.work_root {
        Some(root) => tempfile::Builder::new()
            .prefix("orm-grader-")
            .tempdir_in(root),
        None => tempfile::Builder::new().prefix("orm-grader-").tempdir(),
    }
    .map_err(GradeError::io("cannot make a working folder"))?;
    let mut engine = options.engine;
    let mut fallback_note = None;
    let mut run = None;
    if engine == EngineKind::Program {
        let build = work.path().join("build");
        let run_dir = work.path().join("run");
        for dir in [&build, &run_dir] {
            std::fs::create_dir_all(dir)
                .map_err(GradeError::io(format!("cannot make {}", dir.display())))?;
        }
        let config = sandbox_config(options, &run_dir);
        match crate::grading::program::grade(
            assignment, submission, options, &config, &build, started,
        )? {
            Ok(graded) => {
                run = Some((config, graded));
            }
            Err(fallback) => {
                fallback_note = Some(format!(
                    "graded by the evcxr engine: the program engine could not build this \
                     submission ({})",
                    fallback.0
                ));
                engine = EngineKind::Evcxr;
            }
        }
    }
    let (config, mut run) = match run {
        Some(graded) => graded,
        None => {
            let config = sandbox_config(options, work.path());
            config.export();
            let result = Grading::new(assignment, submission, options, started).run();
            SandboxConfig::clear_env();
            let grading = result?;
            let graded = crate::grading::program::Graded {
                cells: grading.cells,
                tests: grading.tests,
                notes: grading.notes,
                restarts: grading.restarts,
                timings: grading.timings,
            };
            (config, graded)
        }
    };
    if let Some(note) = fallback_note {
        run.notes.insert(0, note);
    }
    let mut report = GradeReport {
        schema: SCHEMA,
        engine: engine.as_str(),
        submission: submission_path.display().to_string(),
        assignment: assignment_path.display().to_string(),
        score: crate::points::Points::ZERO,
        max_score: crate::points::Points::ZERO,
        exercises: Vec::new(),
        tests: std::mem::take(&mut run.tests),
        cells: std::mem::take(&mut run.cells),
        notes: std::mem::take(&mut run.notes),
        sandbox: SandboxReport::new(&config),
        restarts: run.restarts,
        timings: run.timings.clone(),
        error: None,
    };
    if options.landlock && report.sandbox.landlock_abi == 0 {
        report.notes.push(
            "Landlock is not available on this kernel: the submission's file access was not \
             restricted (resource limits still applied)"
                .into(),
        );
    }
    report.timings.total_seconds = started.elapsed().as_secs_f64();
    report.total_up(assignment);
    Ok(report)
}

/// One grading in progress.
struct Grading<'a> {
    assignment: &'a Assignment,
    submission: &'a Notebook,
    options: &'a GradeOptions,
    started: Instant,
    evaluator: Option<Evaluator>,
    cells: Vec<CellResult>,
    /// Learner cells by their index in `cells`, with their source.
    sources: Vec<String>,
    tests: Vec<TestResult>,
    notes: Vec<String>,
    restarts: u32,
    timings: Timings,
}

/// What one bounded evaluation gave.
struct Run {
    result: Result<Outputs, EvalError>,
    output: String,
    timed_out: bool,
    seconds: f64,
}

impl<'a> Grading<'a> {
    fn new(
        assignment: &'a Assignment,
        submission: &'a Notebook,
        options: &'a GradeOptions,
        started: Instant,
    ) -> Self {
        Grading {
            assignment,
            submission,
            options,
            started,
            evaluator: None,
            cells: Vec::new(),
            sources: Vec::new(),
            tests: Vec::new(),
            notes: Vec::new(),
            restarts: 0,
            timings: Timings::default(),
        }
    }

    fn run(mut self) -> Result<Self, GradeError> {
        let start = Instant::now();
        self.start_evaluator().map_err(GradeError::Evaluator)?;
        self.timings.start_seconds = start.elapsed().as_secs_f64();
        if let Some(evaluator) = &self.evaluator {
            self.timings.evaluator_cache = evaluator.start_report().cache.describe().to_owned();
        }
        let cells_started = Instant::now();
        self.run_learner_cells();
        self.timings.cells_seconds = cells_started.elapsed().as_secs_f64();
        let tests_started = Instant::now();
        self.run_tests();
        self.timings.tests_seconds = tests_started.elapsed().as_secs_f64();
        self.evaluator = None;
        Ok(self)
    }

    fn start_evaluator(&mut self) -> Result<(), orm_eval::StartError> {
        // The old process and its folder go first.
        self.evaluator = None;
        let evaluator = Evaluator::start(&self.options.evaluator)?;
        SandboxConfig::export_evcxr_dir(&evaluator.start_report().work_dir);
        self.evaluator = Some(evaluator);
        Ok(())
    }

    fn remaining(&self) -> Duration {
        self.options
            .total_timeout
            .saturating_sub(self.started.elapsed())
    }

    fn log(&self, message: impl AsRef<str>) {
        if self.options.verbose {
            eprintln!(
                "[{:>5.1}s] {}",
                self.started.elapsed().as_secs_f64(),
                message.as_ref()
            );
        }
    }

    fn run_learner_cells(&mut self) {
        let cells = crate::grading::submission::cells_to_run(
            self.assignment,
            &self.submission.cells,
            &mut self.notes,
        );
        let total = cells.len();
        for (number, cell) in cells.into_iter().enumerate() {
            let mut result = CellResult {
                index: cell.index,
                kind: cell.kind,
                exercise: cell.exercise.clone(),
                status: CellStatus::Skipped,
                error_kind: None,
                error: None,
                output: String::new(),
                seconds: 0.0,
            };
            if self.remaining().is_zero() {
                result.error = Some("not run: the time budget for the submission ran out".into());
                self.cells.push(result);
                self.sources.push(cell.source);
                continue;
            }
            let run = self.eval(&cell.source, self.options.cell_timeout);
            result.seconds = run.seconds;
            result.output = run.output;
            match (&run.result, run.timed_out) {
                (_, true) => {
                    result.status = CellStatus::Failed;
                    result.error_kind = Some("Timeout".into());
                    result.error = Some(format!(
                        "the cell ran longer than {} s and was stopped (variables were lost)",
                        self.options.cell_timeout.as_secs()
                    ));
                }
                (Ok(_), false) => result.status = CellStatus::Ok,
                (Err(error), false) => {
                    result.status = CellStatus::Failed;
                    result.error_kind = Some(error.kind_name().to_owned());
                    result.error = Some(orm_eval::render_error(error, &cell.source).join("\n"));
                }
            }
            self.log(format!(
                "cell {}/{total} (#{}): {} ({:.1} s)",
                number + 1,
                cell.index,
                match result.status {
                    CellStatus::Ok => "ok".to_owned(),
                    _ => format!("failed: {}", result.error_kind.as_deref().unwrap_or("")),
                },
                run.seconds
            ));
            self.cells.push(result);
            self.sources.push(cell.source);
        }
    }

    fn run_tests(&mut self) {
        let tests = self.assignment.tests.clone();
        let mut renewal = Renewal::None;
        let mut cannot_restart: Option<String> = None;
        for (i, test) in tests.iter().enumerate() {
            let mut result = TestResult::not_run(test);
            if let Some(reason) = &cannot_restart {
                result.feedback = format!("not run: the evaluator could not restart: {reason}");
                self.finish_test(i, result);
                continue;
            }
            if self.remaining().is_zero() {
                result.feedback = "not run: the time budget for the submission ran out".into();
                self.finish_test(i, result);
                continue;
            }
            let mut skipped = Vec::new();
            if renewal != Renewal::None {
                match self.renew(renewal, &tests[i..]) {
                    Ok(not_replayed) => skipped = not_replayed,
                    Err(error) => {
                        cannot_restart = Some(error.to_string());
                        result.feedback =
                            format!("not run: the evaluator could not restart: {error}");
                        self.finish_test(i, result);
                        continue;
                    }
                }
            }
            let (mut result, mut needs) = self.run_test(test, result.clone());
            // The analysis of what the test reads may have missed a variable: run the cells it
            // skipped and try once more.
            if result.outcome == Outcome::CompileError && !skipped.is_empty() {
                self.replay(&skipped);
                (result, needs) = self.run_test(test, result);
            }
            renewal = needs;
            // As in Jupyter, a failing draft above a working answer costs nothing; a test that
            // cannot compile because the answer cell failed says so.
            if result.outcome == Outcome::CompileError {
                if let Some(feedback) =
                    crate::grading::program::failed_cell_feedback(&self.cells, &test.exercise)
                {
                    result.outcome = Outcome::CellFailed;
                    result.feedback = feedback;
                }
            }
            self.finish_test(i, result);
        }
    }

    fn finish_test(&mut self, i: usize, result: TestResult) {
        self.log(format!(
            "test {}/{} {}: {:?} ({:.1} s)",
            i + 1,
            self.assignment.tests.len(),
            result.name,
            result.outcome,
            result.seconds
        ));
        self.tests.push(result);
    }

    /// Runs one test; returns its result and what the process needs before the next one.
    fn run_test(&mut self, test: &HiddenTest, mut result: TestResult) -> (TestResult, Renewal) {
        let nonce = testcode::nonce();
        let cell = testcode::wrap(&test.code, &nonce);
        let run = self.eval(&cell, self.options.test_timeout);
        let (outcome, feedback, renewal, fraction) = judge(&run, &nonce, self.options.test_timeout);
        result.seconds = run.seconds;
        result.output = run.output;
        result.judge(outcome, feedback, fraction);
        (result, renewal)
    }

    /// Learner cells worth running again: those that ran, or failed only at run time (a
    /// compile error defined nothing; a timeout or crash would strike again).
    fn replayable(&self) -> Vec<usize> {
        (0..self.cells.len())
            .filter(|&i| match self.cells[i].status {
                CellStatus::Ok => true,
                CellStatus::Skipped => false,
                CellStatus::Failed => matches!(
                    self.cells[i].error_kind.as_deref(),
                    Some("Panic") | Some("Error")
                ),
            })
            .collect()
    }

    /// Gives the next test a sound process after the last one crashed, timed out or lost
    /// step with evcxr; returns the replayable cells it chose not to run again.
    fn renew(
        &mut self,
        renewal: Renewal,
        remaining: &[HiddenTest],
    ) -> Result<Vec<usize>, orm_eval::StartError> {
        self.restarts += 1;
        let started = Instant::now();
        let replayable = self.replayable();
        let (replay, skipped): (Vec<usize>, Vec<usize>) = match self.options.replay {
            Replay::All => {
                self.start_evaluator()?;
                (replayable, Vec::new())
            }
            Replay::Needed => {
                if renewal == Renewal::OutOfStep {
                    // The process still runs but evcxr reads it out of step: end it, and let a
                    // trivial cell take the news, so that the next test gets a new process.
                    crate::containment::process::kill_children();
                    let _ = self.eval("()", self.options.cell_timeout);
                }
                let free: BTreeSet<String> = remaining
                    .iter()
                    .flat_map(|t| analysis::free_identifiers(&t.code))
                    .collect();
                replayable.into_iter().partition(|&i| {
                    let source = &self.sources[i];
                    analysis::has_statements(source)
                        && analysis::top_level_bindings(source)
                            .is_none_or(|names| names.iter().any(|n| free.contains(n)))
                })
            }
        };
        let skipped = skipped
            .into_iter()
            .filter(|&i| analysis::has_statements(&self.sources[i]))
            .collect();
        self.replay(&replay);
        self.log(format!(
            "renewed the evaluation process ({renewal:?}), replayed {} cell(s) ({:.1} s)",
            replay.len(),
            started.elapsed().as_secs_f64()
        ));
        Ok(skipped)
    }

    fn replay(&mut self, cells: &[usize]) {
        for &i in cells {
            if self.remaining().is_zero() {
                break;
            }
            let source = self.sources[i].clone();
            let run = self.eval(&source, self.options.cell_timeout);
            if run.timed_out || run.result.as_ref().is_err_and(EvalError::variables_lost) {
                self.notes.push(format!(
                    "cell {} ended the evaluation process when it was run again after a restart",
                    self.cells[i].index
                ));
            }
        }
    }

    /// Evaluates `code` with a time limit: past it the cell is interrupted, and if evcxr does
    /// not return soon after, every child process of the grader is killed.
    fn eval(&mut self, code: &str, limit: Duration) -> Run {
        let limit = limit.min(self.remaining()).max(Duration::from_secs(1));
        let cap = self.options.kept_output_bytes;
        let Some(evaluator) = self.evaluator.as_mut() else {
            return Run {
                result: Err(EvalError::Other("no evaluator".into())),
                output: String::new(),
                timed_out: false,
                seconds: 0.0,
            };
        };
        let output = Arc::new(Mutex::new(Captured::new(cap)));
        let sink_output = Arc::clone(&output);
        let mut sink = move |event: Event| {
            lock(&sink_output).add(event);
        };
        let interrupter = evaluator.interrupter();
        let timed_out = AtomicBool::new(false);
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let started = Instant::now();
        let result = std::thread::scope(|scope| {
            let (timed_out, interrupter) = (&timed_out, &interrupter);
            scope.spawn(move || {
                use std::sync::mpsc::RecvTimeoutError::Timeout;
                if done_rx.recv_timeout(limit) != Err(Timeout) {
                    return;
                }
                timed_out.store(true, Ordering::SeqCst);
                interrupter.interrupt();
                // evcxr may be stuck reading a process that keeps writing; end them all.
                while done_rx.recv_timeout(Duration::from_secs(10)) == Err(Timeout) {
                    crate::containment::process::kill_children();
                }
            });
            let result = evaluator.eval(code, &mut sink);
            drop(done_tx);
            result
        });
        let output = lock(&output).take();
        Run {
            result,
            output,
            timed_out: timed_out.load(Ordering::SeqCst),
            seconds: started.elapsed().as_secs_f64(),
        }
    }
}

/// What the evaluation process needs before the next test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Renewal {
    None,
    /// The process ended (crash, exit, interrupt); evcxr starts a new one for the next cell.
    ProcessEnded,
    /// The process may still run but its output is out of step with evcxr.
    OutOfStep,
}

/// How the learner's cells are run again after the evaluation process was renewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// evcxr keeps the learner's items across a new process; cells with statements run again
    /// when a remaining test may read one of their variables (see `analysis`).
    Needed,
    /// A new evaluator, and every learner cell that ran runs again.
    All,
}

/// Decides a test's outcome from its evaluation, and what the process needs before the next.
/// How a test's evaluation ended: the outcome, the feedback, what the process needs next, and
/// a partial credit's fraction.
fn judge(run: &Run, nonce: &str, limit: Duration) -> (Outcome, String, Renewal, Option<f64>) {
    if run.timed_out {
        return (
            Outcome::Timeout,
            format!(
                "the test ran longer than {} s and was stopped (an endless loop?)",
                limit.as_secs()
            ),
            Renewal::ProcessEnded,
            None,
        );
    }
    let outputs = match &run.result {
        Ok(outputs) => outputs,
        Err(EvalError::Panic { message, .. }) => {
            return (
                Outcome::Panicked,
                format!("panicked: {}", cut(message, 2000)),
                Renewal::None,
                None,
            )
        }
        Err(EvalError::Compile(diagnostics)) => {
            let errors = diagnostics
                .iter()
                .filter(|d| d.code.as_deref().is_none_or(|c| c.starts_with('E')))
                .map(|d| {
                    let label = d.primary_span().map_or("", |s| s.label.as_str());
                    (d.code.as_deref(), d.message.as_str(), label)
                });
            return (
                Outcome::CompileError,
                crate::grading::test_compile_feedback(errors),
                Renewal::None,
                None,
            );
        }
        Err(EvalError::ProcessEnded { detail }) => {
            return (
                Outcome::Crashed,
                format!(
                    "the evaluation process ended during the test: {}",
                    crash_reason(detail, &run.output)
                ),
                Renewal::ProcessEnded,
                None,
            )
        }
        Err(EvalError::Interrupted) => {
            return (
                Outcome::Timeout,
                "the test was interrupted".into(),
                Renewal::ProcessEnded,
                None,
            )
        }
        Err(other) => {
            let renewal = if other.variables_lost() {
                Renewal::ProcessEnded
            } else {
                Renewal::None
            };
            return (
                Outcome::NoResult,
                format!("the test could not run: {}", cut(&other.to_string(), 2000)),
                renewal,
                None,
            );
        }
    };
    let value = outputs.data.get("text/plain").map(String::as_str);
    match value.and_then(|v| testcode::read_verdict(v, nonce)) {
        Some(Verdict::Passed) => (Outcome::Passed, String::new(), Renewal::None, None),
        Some(Verdict::Error(message)) => (
            Outcome::ErrorReturned,
            format!("the test got an error: {}", cut(&message, 2000)),
            Renewal::None,
            None,
        ),
        Some(Verdict::Panicked(message)) => (
            Outcome::Panicked,
            format!("panicked: {}", cut(&message, 2000)),
            Renewal::None,
            None,
        ),
        Some(Verdict::Partial(fraction, message)) => (
            Outcome::Partial,
            cut(&message, 2000),
            Renewal::None,
            Some(fraction),
        ),
        None => (
            Outcome::NoResult,
            "the test's result did not come back (did the code print evcxr's protocol lines, \
             or close its output?)"
                .into(),
            Renewal::OutOfStep,
            None,
        ),
    }
}

/// Why the evaluation process ended, in words, from evcxr's status line and the last output.
pub(crate) fn crash_reason(detail: &str, output: &str) -> String {
    let has = |marker: &str| output.contains(marker) || detail.contains(marker);
    let reason = if has("memory allocation of") || has("out of memory") {
        "it ran out of memory (the memory limit was reached)".to_owned()
    } else if has("overflowed its stack") {
        "stack overflow (endless recursion?)".to_owned()
    } else if has("Segmentation fault") || has("SIGSEGV") {
        "segmentation fault (or a stack overflow from endless recursion)".to_owned()
    } else if has("SIGXCPU") {
        "the CPU time limit was reached".to_owned()
    } else if has("SIGABRT") {
        "the process aborted".to_owned()
    } else if has("SIGKILL") {
        "the process was killed".to_owned()
    } else if let Some(status) = detail.split("exit status: ").nth(1) {
        format!(
            "the code ended the process (std::process::exit({}))",
            status.trim()
        )
    } else {
        "it stopped unexpectedly".to_owned()
    };
    if detail.is_empty() {
        reason
    } else {
        format!("{reason} [{}]", cut(detail.trim(), 200))
    }
}

/// Output kept from one evaluation, up to a cap.
struct Captured {
    text: String,
    cap: usize,
    dropped: usize,
}

impl Captured {
    fn new(cap: usize) -> Self {
        Captured {
            text: String::new(),
            cap,
            dropped: 0,
        }
    }

    fn add(&mut self, event: Event) {
        let text = match event {
            Event::Stdout(text) | Event::Stderr(text) => text,
            Event::Display(bundle) | Event::DisplayWithId { data: bundle, .. } => {
                match bundle.get("text/plain") {
                    Some(text) => format!("{text}\n"),
                    None => format!(
                        "[display: {}]\n",
                        bundle.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                }
            }
            Event::ClearOutput { .. } => return,
        };
        let room = self.cap.saturating_sub(self.text.len());
        if text.len() <= room {
            self.text.push_str(&text);
        } else {
            let mut end = room;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            self.text.push_str(&text[..end]);
            self.dropped += text.len() - end;
        }
    }

    fn take(&mut self) -> String {
        let mut text = std::mem::take(&mut self.text);
        if self.dropped > 0 {
            text.push_str(&format!(
                "\n[… {} more bytes of output not kept]",
                self.dropped
            ));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn run_with(result: Result<Outputs, EvalError>, timed_out: bool) -> Run {
        Run {
            result,
            output: "a\nb\n".into(),
            timed_out,
            seconds: 1.0,
        }
    }

    fn value(text: &str) -> Outputs {
        let mut data = BTreeMap::new();
        data.insert("text/plain".to_owned(), text.to_owned());
        Outputs { data }
    }

    #[test]
    fn only_the_right_nonce_passes() {
        let limit = Duration::from_secs(5);
        let ok = run_with(Ok(value("\"ORM_GRADER_VERDICT n1 passed\"")), false);
        assert_eq!(judge(&ok, "n1", limit).0, Outcome::Passed);
        let (outcome, _, renewal, _) = judge(&ok, "n2", limit);
        assert_eq!(outcome, Outcome::NoResult);
        assert_eq!(
            renewal,
            Renewal::OutOfStep,
            "a lost verdict means the process is out of step"
        );
        let printed = run_with(Ok(value("PASSED 100/100")), false);
        assert_eq!(judge(&printed, "n1", limit).0, Outcome::NoResult);
    }

    #[test]
    fn crashes_and_timeouts_renew_the_process() {
        let limit = Duration::from_secs(5);
        let crash = run_with(
            Err(EvalError::ProcessEnded {
                detail: "signal 11".into(),
            }),
            false,
        );
        let (outcome, feedback, renewal, _) = judge(&crash, "n", limit);
        assert_eq!(outcome, Outcome::Crashed);
        assert_eq!(renewal, Renewal::ProcessEnded);
        assert!(feedback.contains("signal 11"), "{feedback}");
        let slow = run_with(Err(EvalError::Interrupted), true);
        assert_eq!(judge(&slow, "n", limit).0, Outcome::Timeout);
        let panic = run_with(
            Err(EvalError::Panic {
                message: "boom".into(),
                location: None,
            }),
            false,
        );
        let (outcome, feedback, renewal, _) = judge(&panic, "n", limit);
        assert_eq!((outcome, renewal), (Outcome::Panicked, Renewal::None));
        assert_eq!(feedback, "panicked: boom");
    }

    #[test]
    fn crashes_are_named() {
        assert!(crash_reason("", "memory allocation of 268435456 bytes failed").contains("memory"));
        assert!(
            crash_reason("Subprocess terminated with status: exit status: 0", "")
                .contains("exit(0)")
        );
        assert!(crash_reason("status: signal: 11 (SIGSEGV)", "").contains("segmentation"));
    }

    #[test]
    fn captured_output_is_capped() {
        let mut captured = Captured::new(10);
        captured.add(Event::Stdout("0123456789abcdef".into()));
        captured.add(Event::Stderr("more".into()));
        let text = captured.take();
        assert!(text.starts_with("0123456789\n[… 10 more bytes"), "{text}");
    }
}
