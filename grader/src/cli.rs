//! The command line: flag definitions only; the work is in the library modules.

// The doc comments of the arguments are clap's help text, read in a terminal, where `<stem>`
// is a placeholder and not an HTML tag.
#![allow(rustdoc::invalid_html_tags)]

use crate::grading::autograde::{EngineKind, GradeOptions, Replay};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

/// Exit codes, for scripts and classroom autograding.
pub mod exit {
    /// Grading ran (whatever the score).
    pub const GRADED: i32 = 0;
    /// Grading ran and the score is below `--min-score`.
    pub const BELOW_MIN_SCORE: i32 = 1;
    /// `check`: a public test failed.
    pub const PUBLIC_TEST_FAILED: i32 = 1;
    /// Wrong command-line use (clap's own code).
    pub const USAGE: i32 = 2;
    /// The submission could not be read as a notebook.
    pub const BAD_SUBMISSION: i32 = 3;
    /// The assignment could not be read, or has no hidden tests.
    pub const BAD_ASSIGNMENT: i32 = 4;
    /// The evaluator could not start, or a result file could not be written.
    pub const CANNOT_RUN: i32 = 5;
    /// `merge`: the partial gradebooks do not make one gradebook (missing, doubled or mixed).
    pub const CANNOT_MERGE: i32 = 6;
    /// `report`, `export`, `similarity`, `merge-manual`: the input (gradebook, results, roster) is unreadable
    /// or does not match (a learner missing from the roster).
    pub const BAD_INPUT: i32 = 7;
}

#[derive(Parser, Debug)]
#[command(
    name = "grader",
    version,
    about = "Grades Rust exercise notebooks against hidden tests, with the kernel's evaluator",
    after_help = "Exit codes: 0 graded, 1 below --min-score (check: a public test failed), 2 usage, 3 unreadable submission, \
                  4 unreadable assignment or no tests, 5 evaluator or output failure, \
                  6 partial gradebooks that do not merge, 7 unreadable or mismatched input of \
                  report, export, similarity or merge-manual."
)]
/// The command line: one subcommand.
pub struct Cli {
    /// The subcommand to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Grade one submission and report the result
    Run(RunArgs),
    /// Grade every *.ipynb in a folder with several workers and write a CSV gradebook
    Batch(BatchArgs),
    /// Join the partial gradebooks of a sharded batch into one gradebook
    Merge(MergeArgs),
    /// Add the teacher's scores of manually graded answers (the review sheet `batch` writes)
    /// to a gradebook
    MergeManual(MergeManualArgs),
    /// Make the learner's notebook from the solution notebook
    Assign(AssignArgs),
    /// The teacher's class report (HTML with SVG charts) from a gradebook or a results folder
    Report(ReportArgs),
    /// Export a gradebook for a learning management system (Canvas's gradebook import CSV)
    Export(ExportArgs),
    /// Rank pairs of submissions by how much answer code they share (informs; never scores)
    Similarity(SimilarityArgs),
    /// Run a learner's notebook and its public tests (Restart & Run All), as the check cells
    /// do; exit 1 when a public test fails
    Check(CheckArgs),
    /// Write the autograder zip Gradescope takes (setup.sh, run_autograder, the hidden tests)
    GradescopeBundle(GradescopeBundleArgs),
    /// Build `orm` and the grader's harness now (both engines), so that grading starts warm
    Prepare,
    /// Internal: run a command (the compiler) under resource limits and Landlock
    #[command(hide = true)]
    Confine(ConfineArgs),
    /// Internal: a batch worker reading jobs on stdin
    #[command(hide = true)]
    Worker(WorkerArgs),
}

/// `--assignment PATH`: the solution notebook.
#[derive(Args, Debug, Clone)]
pub struct AssignmentArg {
    /// The solution notebook with hidden tests
    #[arg(long, value_name = "NOTEBOOK", default_value_os_t = default_assignment())]
    pub assignment: PathBuf,
}

/// `grader/assignment/solution.ipynb` under the current folder when it is there, else the one
/// this binary was built from.
fn default_assignment() -> PathBuf {
    let local = PathBuf::from("grader/assignment/solution.ipynb");
    if local.is_file() {
        return local;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assignment/solution.ipynb")
}

/// The limits on grading one submission (time, memory, files) and the engine.
#[derive(Args, Debug, Clone)]
pub struct LimitArgs {
    /// `program`: the submission and the hidden tests compiled as one program (seconds);
    /// `evcxr`: every cell and test evaluated as the kernel does (minutes; also the fallback
    /// for what the program engine cannot compile)
    #[arg(long, value_enum, default_value_t = EngineArg::Program)]
    pub engine: EngineArg,
    /// Time limit of one of the submission's cells, in seconds (compiling included)
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub cell_timeout: u64,
    /// Time limit of one hidden test, in seconds (compiling included)
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub test_timeout: u64,
    /// Time limit of the whole submission, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 1800)]
    pub total_timeout: u64,
    /// Address-space limit of the evaluation process, in MiB
    #[arg(long, value_name = "MIB", default_value_t = 4096)]
    pub memory_mb: u64,
    /// Largest file the submission may write, in MiB
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    pub file_size_mb: u64,
    /// Do not apply Landlock file restrictions (resource limits still apply)
    #[arg(long)]
    pub no_landlock: bool,
    /// After a test crashed or timed out: run again only the cells whose variables the
    /// remaining tests may read (`needed`; evcxr keeps functions and types), or start a new
    /// evaluator and run every cell again (`all`)
    #[arg(long, value_enum, default_value_t = ReplayArg::Needed)]
    pub replay: ReplayArg,
    /// Do not print progress on stderr
    #[arg(long, short)]
    pub quiet: bool,
}

impl LimitArgs {
    /// The grading options these flags give.
    pub fn options(&self) -> GradeOptions {
        GradeOptions {
            engine: match self.engine {
                EngineArg::Program => EngineKind::Program,
                EngineArg::Evcxr => EngineKind::Evcxr,
            },
            // `grader confine` is this binary's own hidden command.
            confine_with: std::env::current_exe().ok(),
            cell_timeout: Duration::from_secs(self.cell_timeout.max(1)),
            test_timeout: Duration::from_secs(self.test_timeout.max(1)),
            total_timeout: Duration::from_secs(self.total_timeout.max(1)),
            memory_bytes: self.memory_mb.max(256) << 20,
            cpu_seconds: self.total_timeout.max(1) + 60,
            file_bytes: self.file_size_mb.max(1) << 20,
            landlock: !self.no_landlock,
            replay: match self.replay {
                ReplayArg::Needed => Replay::Needed,
                ReplayArg::All => Replay::All,
            },
            verbose: !self.quiet,
            ..GradeOptions::default()
        }
    }

    /// The same limits as arguments, for worker processes (`--quiet` is the caller's choice).
    pub fn to_args(&self) -> Vec<String> {
        let mut args = vec![
            format!(
                "--engine={}",
                match self.engine {
                    EngineArg::Program => "program",
                    EngineArg::Evcxr => "evcxr",
                }
            ),
            format!("--cell-timeout={}", self.cell_timeout),
            format!("--test-timeout={}", self.test_timeout),
            format!("--total-timeout={}", self.total_timeout),
            format!("--memory-mb={}", self.memory_mb),
            format!("--file-size-mb={}", self.file_size_mb),
        ];
        if self.replay == ReplayArg::All {
            args.push("--replay=all".into());
        }
        if self.no_landlock {
            args.push("--no-landlock".into());
        }
        args
    }
}

/// `--engine`: which engine grades: `program` (the submission compiled as one program, the
/// default) or `evcxr` (cell by cell, as in Jupyter).
// The variants carry no doc comment: clap would make it each value's help and switch every
// command's `--help` to the long layout; the flag's help already says what each value does.
#[allow(missing_docs)]
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineArg {
    Program,
    Evcxr,
}

/// `--replay`: which cells the evcxr engine runs again after a crash: `needed` (only the cells
/// the rest needs) or `all` (every cell before the crash).
// No doc comments on the variants, as for `EngineArg`.
#[allow(missing_docs)]
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayArg {
    Needed,
    All,
}

/// `--format`: what `grader run` prints on stdout.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A table on the terminal
    Table,
    /// The grader's JSON report (schema `orm-grader/1`) on stdout
    Json,
}

/// `grader run`'s arguments.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// The learner's notebook, or an upload folder holding it (Gradescope's `submission/`)
    pub submission: PathBuf,
    /// In an upload folder: the notebook's expected name (else the only notebook there, macOS
    /// zip debris and checkpoints left out)
    #[arg(long, value_name = "NAME")]
    pub notebook_name: Option<String>,
    /// The solution notebook.
    #[command(flatten)]
    pub assignment: AssignmentArg,
    /// What to print on stdout
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Also write the JSON report to this file
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Write Gradescope's results.json here
    #[arg(long, value_name = "PATH")]
    pub gradescope: Option<PathBuf>,
    /// Write a JUnit XML report here
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
    /// Write GitHub Classroom's runner result here (JSON; its base64 is the `result` output
    /// the autograding reporter reads)
    #[arg(long, value_name = "PATH")]
    pub classroom: Option<PathBuf>,
    /// Exit with 1 when the score is below this (GitHub Classroom's pass/fail)
    #[arg(long, value_name = "POINTS")]
    pub min_score: Option<f64>,
    /// Write the learner's feedback page here (self-contained HTML)
    #[arg(long, value_name = "FILE.html")]
    pub feedback: Option<PathBuf>,
    /// Write the submission annotated with the feedback (markdown cells) here
    #[arg(long, value_name = "FILE.ipynb")]
    pub annotated: Option<PathBuf>,
    /// Show each hidden (not public) test's outcome and points, but not its assertion message
    /// or output, in every report written
    #[arg(long)]
    pub hide_hidden_messages: bool,
    /// Limits and engine.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// `grader batch`'s arguments.
#[derive(Args, Debug)]
pub struct BatchArgs {
    /// The folder of submissions (*.ipynb, not recursive)
    pub dir: PathBuf,
    /// The solution notebook.
    #[command(flatten)]
    pub assignment: AssignmentArg,
    /// Worker processes grading at once
    #[arg(long, short, default_value_t = 1)]
    pub jobs: usize,
    /// The CSV gradebook (default: DIR/gradebook.csv)
    #[arg(long, value_name = "PATH")]
    pub csv: Option<PathBuf>,
    /// Write each submission's JSON report here, as <stem>.json
    #[arg(long, value_name = "DIR")]
    pub results_dir: Option<PathBuf>,
    /// Write each learner's feedback here: <stem>.html (a page) and <stem>.ipynb (the
    /// submission annotated with it)
    #[arg(long, value_name = "DIR")]
    pub feedback: Option<PathBuf>,
    /// Add one gradebook column per hidden test (`ex1: name`, the points earned)
    #[arg(long)]
    pub per_test: bool,
    /// Where to write the review sheet of manually graded answers (manual.csv, manual.html),
    /// when the assignment has manual questions (default: the gradebook's folder)
    #[arg(long, value_name = "DIR")]
    pub manual_sheet: Option<PathBuf>,
    /// Grade only the I-th of N slices (0-based) and write a partial gradebook
    /// (default DIR/gradebook.shard-I-of-N.csv) for `grader merge`
    #[arg(long, value_name = "I/N", conflicts_with = "shard_from_env")]
    pub shard: Option<String>,
    /// Take the shard from the engine's environment: JOB_COMPLETION_INDEX (Kubernetes indexed
    /// Job, with --shards) or SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT (Slurm job array)
    #[arg(long)]
    pub shard_from_env: bool,
    /// The number of shards, with --shard-from-env (a Kubernetes Job's `completions`)
    #[arg(long, value_name = "N", requires = "shard_from_env")]
    pub shards: Option<usize>,
    /// Limits and engine.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// `grader merge`'s arguments.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The partial gradebooks, one per shard, in any order
    #[arg(required = true, value_name = "PARTS")]
    pub parts: Vec<PathBuf>,
    /// The gradebook to write
    #[arg(short, long, value_name = "PATH")]
    pub output: PathBuf,
}

/// `grader merge-manual`'s arguments.
#[derive(Args, Debug)]
pub struct MergeManualArgs {
    /// The review sheet with the teacher's scores (`manual.csv` from `grader batch`)
    #[arg(value_name = "SHEET.csv")]
    pub sheet: PathBuf,
    /// The gradebook (`grader batch` or `grader merge`)
    #[arg(value_name = "GRADEBOOK.csv")]
    pub gradebook: PathBuf,
    /// Where to write the gradebook with the manual scores (default: over GRADEBOOK.csv)
    #[arg(short, long, value_name = "OUT.csv")]
    pub output: Option<PathBuf>,
    /// The solution notebook, for the manual questions and their points
    #[command(flatten)]
    pub assignment: AssignmentArg,
}

/// `grader gradescope-bundle`'s arguments.
#[derive(Args, Debug)]
pub struct GradescopeBundleArgs {
    /// The solution notebook with the hidden tests, or a folder holding `solution.ipynb`
    pub solution: PathBuf,
    /// Where to write the zip
    #[arg(short, long, value_name = "PATH", default_value = "autograder.zip")]
    pub output: PathBuf,
    /// Build the grader on Gradescope with `cargo install --git URL` instead of from the
    /// project's sources shipped in the zip
    #[arg(long, value_name = "URL")]
    pub git: Option<String>,
    /// With --git: the commit, tag or branch to build
    #[arg(long, value_name = "REV", requires = "git")]
    pub rev: Option<String>,
    /// The project's sources to ship (the workspace holding grader/; default: the one this
    /// binary was built from)
    #[arg(long, value_name = "DIR", conflicts_with = "git")]
    pub project: Option<PathBuf>,
    /// The learner's notebook's file name, graded when a submission holds several notebooks
    #[arg(long, value_name = "NAME", default_value = "exercises.ipynb")]
    pub notebook_name: String,
    /// Limits passed to `grader run` on Gradescope
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// `grader report`'s arguments.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A gradebook CSV (`grader batch`, with `--per-test` for the tests' pass rates) or a
    /// folder of JSON reports (`grader batch --results-dir`)
    pub input: PathBuf,
    /// Where to write the report
    #[arg(short, long, value_name = "FILE.html", default_value = "report.html")]
    pub output: PathBuf,
    /// A submission scoring below this share of the maximum is listed as failing (percent)
    #[arg(long, value_name = "PERCENT", default_value_t = 50.0)]
    pub pass_percent: f64,
    /// How many of the slowest submissions to list
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub slowest: usize,
    /// The solution notebook.
    #[command(flatten)]
    pub assignment: AssignmentArg,
}

/// `grader export`'s arguments.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The gradebook to export (`grader batch` or `grader merge`)
    #[arg(long, value_name = "GRADEBOOK.csv")]
    pub canvas: PathBuf,
    /// Where to write Canvas's import CSV
    #[arg(short, long, value_name = "PATH")]
    pub output: PathBuf,
    /// The class roster: Canvas's own gradebook export, or a CSV with `learner` and some of
    /// Student, ID, SIS User ID, SIS Login ID, Section
    #[arg(
        long,
        value_name = "CSV",
        required_unless_present = "submission_metadata"
    )]
    pub roster: Option<PathBuf>,
    /// A folder of Gradescope `submission_metadata.json` files, one per learner:
    /// `<learner>.json` or `<learner>/submission_metadata.json`
    #[arg(long, value_name = "DIR", conflicts_with = "roster")]
    pub submission_metadata: Option<PathBuf>,
    /// The assignment's name in Canvas
    #[arg(long, value_name = "NAME", default_value = "ORM exercises")]
    pub assignment_name: String,
    /// The Canvas assignment id, to update that assignment (without it Canvas creates one)
    #[arg(long, value_name = "ID")]
    pub assignment_id: Option<u64>,
    /// The solution notebook, for the points possible
    #[command(flatten)]
    pub assignment: AssignmentArg,
}

/// `grader similarity`'s arguments.
#[derive(Args, Debug)]
pub struct SimilarityArgs {
    /// The folder of submissions (*.ipynb)
    pub dir: PathBuf,
    /// Where to write the page
    #[arg(
        short,
        long,
        value_name = "FILE.html",
        default_value = "similarity.html"
    )]
    pub output: PathBuf,
    /// How many pairs to list
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub top: usize,
    /// Also write the ranked pairs as CSV
    #[arg(long, value_name = "PATH")]
    pub csv: Option<PathBuf>,
    /// The solution notebook.
    #[command(flatten)]
    pub assignment: AssignmentArg,
}

/// `grader assign`'s arguments.
#[derive(Args, Debug)]
pub struct AssignArgs {
    /// The solution notebook
    pub solution: PathBuf,
    /// Where to write the learner's notebook
    #[arg(short, long, value_name = "PATH")]
    pub output: PathBuf,
}

/// `grader check`'s arguments.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The learner's notebook (made by `grader assign`, with its check cells)
    pub notebook: PathBuf,
    /// Limits and engine.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// `grader confine`'s arguments (internal).
#[derive(Args, Debug)]
pub struct ConfineArgs {
    /// Address-space limit, in MiB
    #[arg(long, default_value_t = 4096)]
    pub memory_mb: u64,
    /// CPU-time limit, in seconds
    #[arg(long, default_value_t = 120)]
    pub cpu_seconds: u64,
    /// A folder the command may read (besides the system's libraries and tools)
    #[arg(long, value_name = "DIR")]
    pub read: Vec<PathBuf>,
    /// A folder the command may write
    #[arg(long, value_name = "DIR")]
    pub write: Vec<PathBuf>,
    /// Resource limits only
    #[arg(long)]
    pub no_landlock: bool,
    /// The command and its arguments
    #[arg(last = true, required = true)]
    pub command: Vec<std::ffi::OsString>,
}

/// `grader worker`'s arguments (internal).
#[derive(Args, Debug)]
pub struct WorkerArgs {
    /// The solution notebook.
    #[command(flatten)]
    pub assignment: AssignmentArg,
    /// Limits and engine.
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_accepts_the_limits_a_batch_passes_on() {
        let batch = Cli::try_parse_from([
            "grader",
            "batch",
            "dir",
            "--quiet",
            "--no-landlock",
            "--replay",
            "all",
            "--test-timeout",
            "7",
        ])
        .unwrap();
        let Command::Batch(args) = batch.command else {
            panic!("not a batch")
        };
        let mut worker = vec!["grader".to_owned(), "worker".to_owned()];
        worker.extend(args.limits.to_args());
        worker.push("--quiet".into());
        let parsed = Cli::try_parse_from(&worker).unwrap();
        let Command::Worker(worker) = parsed.command else {
            panic!("not a worker")
        };
        let options = worker.limits.options();
        assert_eq!(options.test_timeout, Duration::from_secs(7));
        assert!(!options.landlock);
        assert_eq!(options.replay, Replay::All);
        assert!(!options.verbose);
    }
}
