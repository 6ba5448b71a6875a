//! Grading a folder of submissions with worker processes, into a CSV gradebook.
//!
//! Each worker is this binary (`grader worker`) grading one submission at a time: environment
//! variables and the working folder of the evaluation process are per process, and a worker
//! that dies takes only its current submission with it. Each submission gets a fresh evaluator
//! started from the prepared `orm` build (orm-eval's cache), so nothing a learner's code did
//! can reach the next learner; `orm` is never rebuilt.

use crate::cli::{exit, BatchArgs, WorkerArgs};
use crate::containment::sandbox::SandboxReport;
use crate::grading::autograde;
use crate::points::Points;
use crate::reports::report::GradeReport;
use crate::scale::gradebook::{write_csv, write_partial, Columns, PartHeader, Row};
use crate::scale::shard::{self, Shard, ShardError};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The line a worker prints when a job's result file is written.
const DONE: &str = "ORM_GRADER_DONE";

/// Why one submission of a batch has no result: its worker failed, or its result file does
/// not read. The gradebook row says it.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// This program's own path is unknown, so no worker can start.
    #[error("cannot find the grader: {0}")]
    FindGrader(#[source] std::io::Error),
    /// The worker process could not start.
    #[error("cannot start a worker: {0}")]
    StartWorker(#[source] std::io::Error),
    /// The worker process has no pipe for `stream` (`stdin` or `stdout`).
    #[error("no worker {stream}")]
    NoPipe {
        /// `stdin` or `stdout`.
        stream: &'static str,
    },
    /// The job could not be written as JSON (a path that is not UTF-8).
    #[error("cannot send the job to a worker: {0}")]
    EncodeJob(#[source] serde_json::Error),
    /// The job could not be written to the worker: it has exited.
    #[error("the worker is gone: {0}")]
    WorkerGone(#[source] std::io::Error),
    /// The job took longer than the limit; the worker was killed.
    #[error("grading took longer than {seconds} s")]
    Timeout {
        /// The limit, in seconds.
        seconds: u64,
    },
    /// The worker process ended before it said the job was done.
    #[error("the worker process ended while grading")]
    WorkerEnded,
    /// The job's result file is missing.
    #[error("no result file: {0}")]
    NoResult(#[source] std::io::Error),
    /// The job's result file is not the grader's JSON.
    #[error("unreadable result: {0}")]
    UnreadableResult(#[source] serde_json::Error),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Job {
    id: usize,
    submission: PathBuf,
    result: PathBuf,
    /// Where the worker writes the learner's feedback page and annotated notebook.
    #[serde(default)]
    feedback: Option<(PathBuf, PathBuf)>,
}

impl Row {
    /// The row of a learner from their JSON report: exercise scores by exercise name, test
    /// points by the `ex1: name` column.
    fn from_report(learner: &str, columns: &Columns, report: &Value) -> Row {
        // The report's points are hundredths written as JSON numbers: read back exactly.
        let points_of = |value: &Value| {
            value
                .as_f64()
                .and_then(Points::from_f64)
                .unwrap_or(Points::ZERO)
        };
        let points = |list: &str, matches: &dyn Fn(&Value) -> bool, field: &str| {
            report[list]
                .as_array()
                .and_then(|all| all.iter().find(|e| matches(e)))
                .map_or(Points::ZERO, |e| points_of(&e[field]))
        };
        let scores: Vec<Points> = columns
            .exercises
            .iter()
            .map(|exercise| {
                points(
                    "exercises",
                    &|e| e["exercise"] == exercise.as_str(),
                    "score",
                )
            })
            .collect();
        let tests: Vec<Points> = columns
            .tests
            .iter()
            .map(|column| {
                let named = |t: &Value| {
                    Columns::test_column(
                        t["exercise"].as_str().unwrap_or_default(),
                        t["name"].as_str().unwrap_or_default(),
                    ) == *column
                };
                points("tests", &named, "points")
            })
            .collect();
        let status = match report["error"].as_str() {
            Some(error) => format!("not graded: {error}"),
            None => "graded".to_owned(),
        };
        Row {
            learner: learner.to_owned(),
            total: points_of(&report["score"]),
            scores,
            status,
            tests,
        }
    }
}

/// The submissions of a folder (`*.ipynb`, not recursive), sorted by file name so that every
/// shard sees them in the same order whatever order the folder lists them in.
pub fn list_submissions(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut submissions: Vec<PathBuf> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "ipynb"))
        .collect();
    sort_by_file_name(&mut submissions);
    Ok(submissions)
}

fn sort_by_file_name(paths: &mut [PathBuf]) {
    paths.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
}

/// The submissions of `shard`, from the folder's listing in any order.
pub fn slice_of(mut submissions: Vec<PathBuf>, shard: Shard) -> Vec<PathBuf> {
    sort_by_file_name(&mut submissions);
    shard
        .positions(submissions.len())
        .map(|k| submissions[k].clone())
        .collect()
}

/// The shard `batch` grades: `--shard`, `--shard-from-env`, or the whole batch.
fn shard_of(args: &BatchArgs) -> Result<Option<Shard>, ShardError> {
    if let Some(text) = &args.shard {
        return Shard::parse(text)
            .map(Some)
            .map_err(|e| ShardError::Flag(Box::new(e)));
    }
    if args.shard_from_env {
        return shard::from_env(|name| std::env::var(name).ok(), args.shards).map(Some);
    }
    Ok(None)
}

/// `grader batch`.
pub fn run(args: &BatchArgs) -> i32 {
    let assignment = match crate::read_assignment(&args.assignment.assignment) {
        Ok(assignment) => assignment,
        Err(message) => {
            eprintln!("grader: {message}");
            return exit::BAD_ASSIGNMENT;
        }
    };
    let shard = match shard_of(args) {
        Ok(shard) => shard,
        Err(message) => {
            eprintln!("grader: {message}");
            return exit::USAGE;
        }
    };
    let all_submissions = match list_submissions(&args.dir) {
        Ok(submissions) => submissions,
        Err(error) => {
            eprintln!("grader: cannot read {}: {error}", args.dir.display());
            return exit::BAD_SUBMISSION;
        }
    };
    let part_header = match shard {
        Some(shard) => {
            let names: Vec<String> = all_submissions
                .iter()
                .map(|p| {
                    p.file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned()
                })
                .collect();
            match std::fs::read(&args.assignment.assignment) {
                Ok(bytes) => Some(PartHeader::new(&bytes, shard, &names)),
                Err(error) => {
                    eprintln!(
                        "grader: cannot read {}: {error}",
                        args.assignment.assignment.display()
                    );
                    return exit::BAD_ASSIGNMENT;
                }
            }
        }
        None => None,
    };
    let submissions = slice_of(all_submissions, shard.unwrap_or(Shard::WHOLE));
    let scratch = match tempfile::Builder::new()
        .prefix("orm-grader-batch-")
        .tempdir()
    {
        Ok(dir) => dir,
        Err(error) => {
            eprintln!("grader: cannot make a temporary folder: {error}");
            return exit::CANNOT_RUN;
        }
    };
    let results_dir = args
        .results_dir
        .clone()
        .unwrap_or_else(|| scratch.path().join("results"));
    if let Err(error) = std::fs::create_dir_all(&results_dir) {
        eprintln!("grader: cannot make {}: {error}", results_dir.display());
        return exit::CANNOT_RUN;
    }
    let jobs: VecDeque<Job> = submissions
        .iter()
        .enumerate()
        .map(|(id, submission)| Job {
            id,
            submission: std::path::absolute(submission).unwrap_or_else(|_| submission.clone()),
            result: std::path::absolute(results_dir.join(format!("{}.json", stem(submission))))
                .unwrap_or_default(),
            feedback: args.feedback.as_ref().map(|dir| {
                let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
                (
                    dir.join(format!("{}.html", stem(submission))),
                    dir.join(format!("{}.ipynb", stem(submission))),
                )
            }),
        })
        .collect();
    let learners: Vec<String> = submissions.iter().map(|p| stem(p)).collect();

    let progress = ProgressBar::new(jobs.len() as u64);
    progress.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} graded  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    progress.enable_steady_tick(Duration::from_millis(250));

    let queue = Arc::new(Mutex::new(jobs));
    let (done_tx, done_rx) = mpsc::channel::<(Job, Result<(), BatchError>)>();
    let workers = args.jobs.clamp(1, submissions.len().max(1));
    let mut worker_args = vec![
        "worker".to_owned(),
        format!("--assignment={}", args.assignment.assignment.display()),
    ];
    worker_args.extend(args.limits.to_args());
    worker_args.push("--quiet".into());
    let job_limit = Duration::from_secs(args.limits.total_timeout + 300);
    // Workers' stderr (cargo's messages, errors) is kept with the results when those are kept.
    let logs = args
        .results_dir
        .clone()
        .unwrap_or_else(|| scratch.path().to_owned());
    let mut handles = Vec::new();
    for n in 0..workers {
        let queue = Arc::clone(&queue);
        let done_tx = done_tx.clone();
        let worker_args = worker_args.clone();
        let log = logs.join(format!("worker-{n}.log"));
        handles.push(std::thread::spawn(move || {
            drive_worker(&worker_args, &log, &queue, &done_tx, job_limit)
        }));
    }
    drop(done_tx);

    let columns = Columns {
        exercises: assignment.exercises.clone(),
        tests: if args.per_test {
            assignment
                .tests
                .iter()
                .map(|t| Columns::test_column(&t.exercise, &t.name))
                .collect()
        } else {
            Vec::new()
        },
    };
    let mut rows: Vec<Option<Row>> = vec![None; learners.len()];
    for (job, outcome) in done_rx {
        let learner = &learners[job.id];
        let row = match outcome.and_then(|()| read_result(&job.result)) {
            Ok(report) => Row::from_report(learner, &columns, &report),
            Err(why) => Row::failed(learner, &columns, &why.to_string()),
        };
        if row.status != "graded" {
            progress.println(format!("{learner}: {}", row.status));
        }
        progress.set_message(format!("last: {learner} {}", row.total));
        progress.inc(1);
        rows[job.id] = Some(row);
    }
    for handle in handles {
        let _ = handle.join();
    }
    progress.finish_with_message("done");
    let rows: Vec<Row> = rows
        .into_iter()
        .enumerate()
        .map(|(i, row)| row.unwrap_or_else(|| Row::failed(&learners[i], &columns, "no result")))
        .collect();
    let csv_path = args.csv.clone().unwrap_or_else(|| match shard {
        Some(shard) => args.dir.join(format!(
            "gradebook.shard-{}-of-{}.csv",
            shard.index, shard.count
        )),
        None => args.dir.join("gradebook.csv"),
    });
    if let Some(parent) = csv_path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let _ = std::fs::create_dir_all(parent);
    }
    let written = std::fs::File::create(&csv_path)
        .map_err(csv::Error::from)
        .and_then(|file| match &part_header {
            Some(header) => write_partial(file, header, &columns, &rows),
            None => write_csv(file, &columns, &rows),
        });
    if let Err(error) = written {
        eprintln!("grader: cannot write {}: {error}", csv_path.display());
        return exit::CANNOT_RUN;
    }
    if !assignment.manual.is_empty() {
        let answers: Vec<crate::scale::manual::Answer> = submissions
            .iter()
            .flat_map(|path| crate::scale::manual::answers_of(&assignment, &stem(path), path))
            .collect();
        let dir = args.manual_sheet.clone().unwrap_or_else(|| {
            csv_path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_owned)
        });
        let suffix = shard.map_or(String::new(), |s| {
            format!(".shard-{}-of-{}", s.index, s.count)
        });
        match crate::scale::manual::write_sheet(&dir, &suffix, &assignment, &answers) {
            Ok(path) => eprintln!(
                "manual questions: {} answers to score in {}",
                answers.len(),
                path.display()
            ),
            Err(error) => {
                eprintln!("grader: {error}");
                return exit::CANNOT_RUN;
            }
        }
    }
    let graded = rows.iter().filter(|r| r.status == "graded").count();
    let what = match shard {
        Some(shard) => format!("partial gradebook of shard {shard}"),
        None => "gradebook".to_owned(),
    };
    eprintln!(
        "graded {graded} of {} submissions; {what}: {}",
        rows.len(),
        csv_path.display()
    );
    exit::GRADED
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn read_result(path: &Path) -> Result<Value, BatchError> {
    let text = std::fs::read_to_string(path).map_err(BatchError::NoResult)?;
    serde_json::from_str(&text).map_err(BatchError::UnreadableResult)
}

/// A running worker process.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
}

impl Worker {
    fn spawn(args: &[String], log: &Path) -> Result<Worker, BatchError> {
        let exe = std::env::current_exe().map_err(BatchError::FindGrader)?;
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map(Stdio::from)
            .unwrap_or_else(|_| Stdio::null());
        let mut child = Command::new(exe)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(BatchError::StartWorker)?;
        let stdin = child
            .stdin
            .take()
            .ok_or(BatchError::NoPipe { stream: "stdin" })?;
        let stdout = child
            .stdout
            .take()
            .ok_or(BatchError::NoPipe { stream: "stdout" })?;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Worker {
            child,
            stdin,
            lines,
        })
    }

    /// Sends a job and waits for it; `Err` means the worker is gone or stuck (and is killed).
    fn grade(&mut self, job: &Job, limit: Duration) -> Result<(), BatchError> {
        let line = serde_json::to_string(job).map_err(BatchError::EncodeJob)?;
        writeln!(self.stdin, "{line}")
            .and_then(|()| self.stdin.flush())
            .map_err(BatchError::WorkerGone)?;
        let expected = format!("{DONE} {}", job.id);
        let deadline = std::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.trim() == expected => return Ok(()),
                Ok(_) => continue,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.kill();
                    return Err(BatchError::Timeout {
                        seconds: limit.as_secs(),
                    });
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    self.kill();
                    return Err(BatchError::WorkerEnded);
                }
            }
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn drive_worker(
    args: &[String],
    log: &Path,
    queue: &Mutex<VecDeque<Job>>,
    done: &mpsc::Sender<(Job, Result<(), BatchError>)>,
    limit: Duration,
) {
    let mut worker: Option<Worker> = None;
    loop {
        let Some(job) = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front() else {
            break;
        };
        if worker.is_none() {
            match Worker::spawn(args, log) {
                Ok(new) => worker = Some(new),
                Err(error) => {
                    let _ = done.send((job, Err(error)));
                    continue;
                }
            }
        }
        let outcome = worker
            .as_mut()
            .expect("a worker was started above")
            .grade(&job, limit);
        if outcome.is_err() {
            worker = None;
        }
        if done.send((job, outcome)).is_err() {
            break;
        }
    }
    if let Some(worker) = worker {
        drop_quietly(worker);
    }
}

fn drop_quietly(worker: Worker) {
    let Worker {
        mut child, stdin, ..
    } = worker;
    drop(stdin);
    for _ in 0..50 {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// `grader worker`: grades the jobs read on stdin, one JSON line each; writes each report to
/// the job's result file and then prints `ORM_GRADER_DONE <id>`.
pub fn worker(args: &WorkerArgs) -> i32 {
    let assignment_path = &args.assignment.assignment;
    let assignment = crate::read_assignment(assignment_path);
    let options = args.limits.options();
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let Ok(job) = serde_json::from_str::<Job>(&line) else {
            continue;
        };
        let report = match &assignment {
            Ok(assignment) => {
                match autograde::grade(assignment, assignment_path, &job.submission, &options) {
                    Ok(report) => report,
                    Err(error) => GradeReport::not_graded(
                        assignment,
                        &job.submission.display().to_string(),
                        &assignment_path.display().to_string(),
                        &error.to_string(),
                        SandboxReport::new(&autograde::sandbox_config(&options, Path::new("."))),
                    ),
                }
            }
            Err(message) => {
                eprintln!("grader worker: {message}");
                return exit::BAD_ASSIGNMENT;
            }
        };
        if let Err(error) = std::fs::write(&job.result, report.to_json()) {
            eprintln!(
                "grader worker: cannot write {}: {error}",
                job.result.display()
            );
        }
        if let Some((page, annotated)) = &job.feedback {
            if let Err(error) = crate::reports::feedback::write_feedback(
                &report,
                &job.submission,
                Some(page),
                Some(annotated),
            ) {
                eprintln!("grader worker: {error}");
            }
        }
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{DONE} {}", job.id);
        let _ = out.flush();
    }
    exit::GRADED
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::report::tests::sample_report;

    #[test]
    fn rows_come_from_reports() {
        let report: Value = serde_json::from_str(&sample_report().to_json()).unwrap();
        let columns = Columns {
            exercises: vec!["ex1".to_owned(), "ex2".to_owned()],
            tests: vec!["ex1: b".to_owned(), "ex1: a".to_owned()],
        };
        let row = Row::from_report("alice", &columns, &report);
        assert_eq!(row.scores, [Points::whole(2), Points::ZERO]);
        assert_eq!(
            row.tests,
            [Points::ZERO, Points::whole(2)],
            "points by test column"
        );
        assert_eq!(row.total, Points::whole(2));
        assert_eq!(row.status, "graded");
    }

    #[test]
    fn a_shard_gets_the_same_submissions_whatever_the_listing_order() {
        let names: Vec<PathBuf> = ["zoe", "amy", "Bob", "a.b", "a", "émile", "bob2", "c"]
            .iter()
            .map(|n| PathBuf::from(format!("/subs/{n}.ipynb")))
            .collect();
        let mut reversed = names.clone();
        reversed.reverse();
        let mut rotated = names.clone();
        rotated.rotate_left(3);
        let mut covered = Vec::new();
        for index in 0..3 {
            let shard = Shard::new(index, 3).unwrap();
            let slice = slice_of(names.clone(), shard);
            assert_eq!(slice, slice_of(reversed.clone(), shard));
            assert_eq!(slice, slice_of(rotated.clone(), shard));
            covered.extend(slice);
        }
        covered.sort();
        let mut all = names.clone();
        all.sort();
        assert_eq!(covered, all, "the shards cover the batch once");
        // Sorted by file name bytewise (Bob, a.b, a, amy, bob2, c, zoe, émile), then dealt.
        let second = slice_of(names, Shard::new(1, 3).unwrap());
        let expected: Vec<PathBuf> = ["a.b", "bob2", "émile"]
            .iter()
            .map(|n| PathBuf::from(format!("/subs/{n}.ipynb")))
            .collect();
        assert_eq!(second, expected);
    }

    #[test]
    fn the_gradebook_has_a_column_per_exercise() {
        let exercises = Columns::exercises(&["ex1".to_owned(), "ex2".to_owned()]);
        let rows = vec![
            Row {
                learner: "alice".into(),
                scores: vec![Points::from_hundredths(10), Points::from_hundredths(20)],
                total: Points::from_hundredths(30),
                status: "graded".into(),
                tests: Vec::new(),
            },
            Row::failed("bob, \"the\" broken", &exercises, "not JSON"),
        ];
        let mut out = Vec::new();
        write_csv(&mut out, &exercises, &rows).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(
            reader.headers().unwrap().iter().collect::<Vec<_>>(),
            ["learner", "ex1", "ex2", "total", "status"]
        );
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(&records[0][1], "0.1");
        assert_eq!(&records[0][3], "0.3", "exact sums, no float drift");
        assert_eq!(&records[1][0], "bob, \"the\" broken");
        assert_eq!(&records[1][3], "0");
        assert!(records[1][4].starts_with("not graded"));
    }
}
