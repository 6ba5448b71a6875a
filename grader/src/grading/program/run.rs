//! Running a compiled program: the token in, the events out, and the time limits of cells
//! (the harness enforces those of tests; the grader is the backstop).

use orm_grader_harness::event::{Event, Line, EVENTS_FD, TOKEN_FD};
use orm_grader_harness::process;
use orm_grader_harness::sandbox::{SandboxConfig, SANDBOX_ENV};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How to run the program once.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// The program compiled from the submission.
    pub binary: PathBuf,
    /// Limits and rules applied before learner code runs.
    pub sandbox: SandboxConfig,
    /// Where cells' and tests' output files go (inside the sandbox's working folder).
    pub output_dir: PathBuf,
    /// Cells (by notebook index) not to run: they hung or ended the program before.
    pub skip: BTreeSet<usize>,
    /// Longest a cell may run.
    pub cell_timeout: Duration,
    /// Longest a hidden test may run.
    pub test_timeout: Duration,
    /// When the whole submission's time is up.
    pub deadline: Instant,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Every cell and test ran (`Done` was seen).
    Finished,
    /// A cell ran past its limit and the program was killed.
    CellTimeout {
        /// The cell's index in the notebook.
        cell: usize,
    },
    /// The submission's time ran out and the program was killed.
    OutOfTime,
    /// The program ended before `Done`; `status` says how, `during_cell` which cell was running.
    Died {
        /// The exit status or signal, as text.
        status: String,
        /// The cell that was running, if one was.
        during_cell: Option<usize>,
    },
}

/// What one run gave: the authenticated events in order and how it stopped.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// What the program reported, in order.
    pub events: Vec<Event>,
    /// How the run ended.
    pub stop: Stop,
}

/// Why the graded program could not be started at all.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {source}")]
pub struct RunError {
    /// What failed (`cannot start the program`, `cannot make FOLDER`, `pipe`).
    pub what: String,
    /// The operating system's error.
    pub source: std::io::Error,
}

/// `RunError { what, source }` as a `map_err` argument.
fn failed(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> RunError {
    let what = what.into();
    move |source| RunError { what, source }
}

/// Runs the program once.
///
/// # Errors
/// [`RunError`] when the program could not be started at all.
pub fn run(settings: &RunSettings) -> Result<RunOutcome, RunError> {
    let token = crate::grading::testcode::nonce();
    let (token_read, token_write) = pipe()?;
    let (events_read, events_write) = pipe()?;
    std::fs::create_dir_all(&settings.output_dir).map_err(failed(format!(
        "cannot make {}",
        settings.output_dir.display()
    )))?;
    let main_output = std::fs::File::create(settings.output_dir.join("program.txt"))
        .map_err(failed("cannot make the program's output file"))?;
    let skip: Vec<String> = settings.skip.iter().map(usize::to_string).collect();
    let mut command = Command::new(&settings.binary);
    command
        .arg("--skip")
        .arg(skip.join(","))
        .arg("--test-timeout-ms")
        .arg(settings.test_timeout.as_millis().to_string())
        .arg("--output-dir")
        .arg(&settings.output_dir)
        .current_dir(&settings.sandbox.work_dir)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("LANG", "C.UTF-8")
        .env(
            SANDBOX_ENV,
            serde_json::to_string(&settings.sandbox).expect("the config serializes"),
        )
        .stdin(Stdio::null())
        .stdout(
            main_output
                .try_clone()
                .map_err(failed("cannot share the program's output file"))?,
        )
        .stderr(main_output)
        .process_group(0);
    let (token_fd, events_fd) = (token_read.as_raw_fd(), events_write.as_raw_fd());
    // SAFETY: only async-signal-safe calls (fcntl, dup2) between fork and exec.
    unsafe {
        command.pre_exec(move || {
            // Move both ends above the target numbers first, then onto them (dup2 clears
            // close-on-exec), so neither overwrites the other.
            let token = libc::fcntl(token_fd, libc::F_DUPFD, 10);
            let events = libc::fcntl(events_fd, libc::F_DUPFD, 10);
            if token < 0
                || events < 0
                || libc::dup2(token, TOKEN_FD) < 0
                || libc::dup2(events, EVENTS_FD) < 0
            {
                return Err(std::io::Error::last_os_error());
            }
            libc::close(token);
            libc::close(events);
            Ok(())
        });
    }
    let mut child = command
        .spawn()
        .map_err(failed("cannot start the program"))?;
    drop(token_read);
    drop(events_write);
    let mut token_write = std::fs::File::from(token_write);
    let _ = token_write.write_all(format!("{token}\n").as_bytes());
    drop(token_write);

    let (sender, receiver) = mpsc::channel();
    let reader_token = token.clone();
    std::thread::spawn(move || read_events(events_read, &reader_token, sender));

    let mut events = Vec::new();
    let mut current_cell: Option<usize> = None;
    let mut since = Instant::now();
    let mut limit = settings.cell_timeout;
    let stop = loop {
        let now = Instant::now();
        let until = (since + limit).min(settings.deadline);
        match receiver.recv_timeout(until.saturating_duration_since(now)) {
            Ok(event) => {
                since = Instant::now();
                match &event {
                    Event::CellStarted { cell } => {
                        current_cell = Some(*cell);
                        limit = settings.cell_timeout;
                    }
                    Event::TestStarted { .. } => {
                        current_cell = None;
                        // The harness stops the test at its limit; this is the backstop.
                        limit = settings.test_timeout + Duration::from_secs(10);
                    }
                    _ => {
                        current_cell = None;
                        limit = settings.cell_timeout;
                    }
                }
                let done = event == Event::Done;
                events.push(event);
                if done {
                    break Stop::Finished;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                process::kill_and_reap(&mut child);
                break match current_cell {
                    Some(cell) if Instant::now() < settings.deadline => Stop::CellTimeout { cell },
                    _ => Stop::OutOfTime,
                };
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = wait_briefly(&mut child);
                break Stop::Died {
                    status,
                    during_cell: current_cell,
                };
            }
        }
    };
    process::kill_and_reap(&mut child);
    Ok(RunOutcome { events, stop })
}

/// Reads event lines (each at most 1 MiB; longer ones are skipped) and passes on those that
/// carry the token.
fn read_events(pipe: OwnedFd, token: &str, sender: mpsc::Sender<Event>) {
    let mut reader = BufReader::new(std::fs::File::from(pipe));
    let mut line = Vec::new();
    loop {
        line.clear();
        match std::io::Read::take(&mut reader, 1 << 20).read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if !line.ends_with(b"\n") {
            // Overlong: skip to the end of the line.
            let mut rest = Vec::new();
            if reader.read_until(b'\n', &mut rest).is_err() {
                return;
            }
            continue;
        }
        if let Some(event) = Line::parse(&String::from_utf8_lossy(&line), token) {
            if sender.send(event).is_err() {
                return;
            }
        }
    }
}

/// Waits up to 5 s for the program to end, then kills its process group (before reaping it,
/// see `orm_grader_harness::process`) and describes how it ended.
fn wait_briefly(child: &mut std::process::Child) -> String {
    let started = Instant::now();
    let pid = child.id() as libc::pid_t;
    let mut exited = false;
    while started.elapsed() < Duration::from_secs(5) {
        match process::exited_unreaped(pid) {
            Some(false) => std::thread::sleep(Duration::from_millis(5)),
            Some(true) | None => {
                exited = true;
                break;
            }
        }
    }
    process::kill_and_reap(child);
    match child.try_wait() {
        Ok(Some(status)) if exited => describe_status(status),
        _ => "it stopped answering".into(),
    }
}

fn describe_status(status: std::process::ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status: {code}"),
        (None, Some(signal)) => format!("signal: {signal} ({})", signal_name(signal)),
        _ => status.to_string(),
    }
}

/// The usual name of a signal number.
pub fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        libc::SIGKILL => "SIGKILL",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGTERM => "SIGTERM",
        _ => "signal",
    }
}

fn pipe() -> Result<(OwnedFd, OwnedFd), RunError> {
    let mut ends = [0; 2];
    // SAFETY: `pipe2` fills the two descriptors, owned from here on.
    unsafe {
        if libc::pipe2(ends.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            return Err(failed("pipe")(std::io::Error::last_os_error()));
        }
        Ok((OwnedFd::from_raw_fd(ends[0]), OwnedFd::from_raw_fd(ends[1])))
    }
}

/// What a cell or test printed, at most `cap` bytes, with a note of what was left out.
pub fn read_output(path: &Path, cap: usize) -> String {
    use std::io::Read;
    let Ok(file) = std::fs::File::open(path) else {
        return String::new();
    };
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut bytes = Vec::new();
    let _ = file.take(cap as u64).read_to_end(&mut bytes);
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    if total > cap as u64 {
        text.push_str(&format!(
            "\n[… {} more bytes of output not kept]",
            total - cap as u64
        ));
    }
    text
}
