//! `grader`: see `grader --help` and grader/README.md.

use clap::Parser;
use grader::cli::{exit, AssignArgs, Cli, Command, Format, RunArgs};
use grader::containment::sandbox::SandboxReport;
use grader::containment::{process, sandbox};
use grader::grading::autograde::{self, GradeError};
use grader::notebook;
use grader::reports::formats;
use grader::reports::report::GradeReport;
use std::path::Path;

fn main() {
    // This binary is also evcxr's evaluation process: confine it before any cell is loaded.
    if std::env::var_os("EVCXR_IS_RUNTIME").is_some() {
        sandbox::enter_runtime();
    }
    orm_eval::runtime_hook();
    let cli = Cli::parse();
    let code = match &cli.command {
        Command::Run(args) => run(args),
        Command::Batch(args) => {
            process::protect_memory();
            grader::scale::batch::run(args)
        }
        Command::Merge(args) => grader::scale::gradebook::merge_command(args),
        Command::MergeManual(args) => grader::scale::manual::merge_command(args),
        Command::Assign(args) => assign(args),
        Command::Report(args) => grader::reports::class::run(args),
        Command::Export(args) => grader::scale::canvas::run(args),
        Command::Similarity(args) => grader::similarity::run(args),
        Command::Check(args) => check(args),
        Command::GradescopeBundle(args) => grader::scale::gradescope::run(args),
        Command::Prepare => prepare(),
        Command::Confine(args) => confine(args),
        Command::Worker(args) => {
            process::protect_memory();
            grader::scale::batch::worker(args)
        }
    };
    std::process::exit(code);
}

fn run(args: &RunArgs) -> i32 {
    process::protect_memory();
    let assignment_path = &args.assignment.assignment;
    let assignment = match grader::read_assignment(assignment_path) {
        Ok(assignment) => assignment,
        Err(message) => {
            eprintln!("grader: {message}");
            return exit::BAD_ASSIGNMENT;
        }
    };
    let options = args.limits.options();
    // An upload folder: find the notebook; when that fails, the reports still say why.
    let (submission, found) = if args.submission.is_dir() {
        match grader::grading::submission::find_notebook(
            &args.submission,
            args.notebook_name.as_deref(),
        ) {
            Ok(path) => (path, Ok(())),
            Err(error) => (args.submission.clone(), Err(error)),
        }
    } else {
        (args.submission.clone(), Ok(()))
    };
    let graded = found
        .map_err(GradeError::Upload)
        .and_then(|()| autograde::grade(&assignment, assignment_path, &submission, &options));
    let (mut report, mut code) = match graded {
        Ok(report) => (report, exit::GRADED),
        Err(error) => {
            eprintln!("grader: {error}");
            let code = match error {
                GradeError::Submission(_) | GradeError::Upload(_) => exit::BAD_SUBMISSION,
                GradeError::Prepare(_)
                | GradeError::Run(_)
                | GradeError::Evaluator(_)
                | GradeError::Io { .. } => exit::CANNOT_RUN,
            };
            let report = GradeReport::not_graded(
                &assignment,
                &submission.display().to_string(),
                &assignment_path.display().to_string(),
                &error.to_string(),
                SandboxReport::new(&autograde::sandbox_config(&options, Path::new("."))),
            );
            (report, code)
        }
    };
    if args.hide_hidden_messages {
        report.hide_hidden_messages();
    }
    match args.format {
        Format::Table => print!("{}", report.to_table()),
        Format::Json => println!("{}", report.to_json()),
    }
    let mut outputs: Vec<(&Path, String)> = Vec::new();
    if let Some(path) = &args.json {
        outputs.push((path, report.to_json() + "\n"));
    }
    if let Some(path) = &args.gradescope {
        let text = serde_json::to_string_pretty(&formats::gradescope(&report))
            .expect("JSON values serialize");
        outputs.push((path, text + "\n"));
    }
    if let Some(path) = &args.classroom {
        let text = serde_json::to_string(&formats::classroom(&report, args.min_score))
            .expect("JSON values serialize");
        outputs.push((path, text + "\n"));
    }
    if let Some(path) = &args.junit {
        outputs.push((path, formats::junit(&report)));
    }
    if args.feedback.is_some() || args.annotated.is_some() {
        if let Err(error) = grader::reports::feedback::write_feedback(
            &report,
            &submission,
            args.feedback.as_deref(),
            args.annotated.as_deref(),
        ) {
            eprintln!("grader: {error}");
            code = exit::CANNOT_RUN;
        }
    }
    for (path, text) in outputs {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(parent);
        }
        if let Err(error) = std::fs::write(path, text) {
            eprintln!("grader: cannot write {}: {error}", path.display());
            code = exit::CANNOT_RUN;
        }
    }
    if code == exit::GRADED {
        if let Some(min) = args.min_score {
            if report.score.as_f64() < min {
                eprintln!("grader: score {} is below {min}", report.score);
                return exit::BELOW_MIN_SCORE;
            }
        }
    }
    code
}

fn assign(args: &AssignArgs) -> i32 {
    let student = match grader::learner_notebook(&args.solution) {
        Ok(student) => student,
        Err(error) => {
            eprintln!("grader: {error}");
            return exit::BAD_ASSIGNMENT;
        }
    };
    if let Err(error) = std::fs::write(&args.output, notebook::to_jupyter_json(&student)) {
        eprintln!("grader: cannot write {}: {error}", args.output.display());
        return exit::CANNOT_RUN;
    }
    exit::GRADED
}

/// `grader check NOTEBOOK`: the notebook with its own public tests.
fn check(args: &grader::cli::CheckArgs) -> i32 {
    process::protect_memory();
    let made = notebook::Notebook::read(&args.notebook)
        .map_err(|e| (exit::BAD_SUBMISSION, e.to_string()))
        .and_then(|nb| {
            grader::grading::check::public_assignment(nb).map_err(|e| {
                (
                    exit::BAD_ASSIGNMENT,
                    format!("{}: {e}", args.notebook.display()),
                )
            })
        });
    let assignment = match made {
        Ok(assignment) => assignment,
        Err((code, message)) => {
            eprintln!("grader: {message}");
            return code;
        }
    };
    let options = args.limits.options();
    match autograde::grade(&assignment, &args.notebook, &args.notebook, &options) {
        Ok(report) => {
            print!("{}", grader::grading::check::summary(&report));
            if report.score == report.max_score {
                exit::GRADED
            } else {
                exit::PUBLIC_TEST_FAILED
            }
        }
        Err(error) => {
            eprintln!("grader: {error}");
            exit::CANNOT_RUN
        }
    }
}

fn prepare() -> i32 {
    match grader::grading::program::prepare::prepare(true) {
        Ok((prepared, _)) => eprintln!(
            "program engine ready (libraries in {})",
            prepared.dependencies.display()
        ),
        Err(error) => {
            eprintln!("grader: {error}");
            return exit::CANNOT_RUN;
        }
    }
    match orm_eval::Evaluator::start(&orm_eval::EvaluatorOptions::default()) {
        Ok(evaluator) => {
            let report = evaluator.start_report();
            eprintln!(
                "evcxr engine ready ({}, {:.1} s)",
                report.cache.describe(),
                report.total.as_secs_f64()
            );
            exit::GRADED
        }
        Err(error) => {
            eprintln!("grader: {error}");
            exit::CANNOT_RUN
        }
    }
}

/// `grader confine … -- COMMAND`: limits and Landlock on this process, then COMMAND in its place.
fn confine(args: &grader::cli::ConfineArgs) -> i32 {
    use std::os::unix::process::CommandExt;
    let mut writable = args.write.clone();
    writable.push("/dev/null".into());
    if let Err(error) = sandbox::confine_tool(
        args.memory_mb << 20,
        args.cpu_seconds,
        &args.read,
        &writable,
        !args.no_landlock,
    ) {
        eprintln!("grader confine: {error}");
        return exit::CANNOT_RUN;
    }
    let error = std::process::Command::new(&args.command[0])
        .args(&args.command[1..])
        .exec();
    eprintln!("grader confine: cannot run {:?}: {error}", args.command[0]);
    exit::CANNOT_RUN
}
