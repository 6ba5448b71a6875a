//! The run-time part of a graded program.
//!
//! The grader turns a submission into one Rust program: the learner's items at the top, then a
//! `main` that runs each learner cell's statements as a closure, in notebook order, and then
//! each hidden test as a closure. This crate is what that `main` calls:
//!
//! - [`Program::start`] confines the process ([`sandbox`]), reads the token that authenticates
//!   events ([`event`]) and installs a panic hook that records where a panic happened;
//! - [`Program::cell`] runs one cell under `catch_unwind`, with its output in a file of its own,
//!   and reports how it ended; a failing cell does not stop the ones after it;
//! - [`Program::test`] runs one hidden test in a forked child, so a test that crashes, loops,
//!   exits or corrupts memory affects only itself; the parent kills it at the time limit;
//! - [`take`] hands a later cell a variable an earlier cell left, as a notebook keeps it;
//! - [`partial!`] ends a test with part of its points.
//!
//! # What the learner's code cannot do
//!
//! Verdicts travel only on the event channel, and every line there carries a token that the
//! grader wrote to a pipe this process read and closed before any learner code ran. The token
//! lives in a private static of this crate; the program is compiled with `forbid(unsafe_code)`
//! around the learner's code, and the sandbox keeps `/proc` unreadable, so safe code cannot
//! reach it. What a learner prints goes to output files, never to the channel.
//!
//! ```no_run
//! let mut program = orm_grader_harness::Program::start();
//! let mut answer_slot = None;
//! program.cell(1, || {
//!     let answer = 40 + 2;
//!     answer_slot = Some(answer);
//!     Ok(())
//! });
//! program.test(0, || {
//!     let answer = orm_grader_harness::take(&mut answer_slot, "answer", 1)?;
//!     assert_eq!(answer, 42);
//!     Ok(())
//! });
//! program.finish();
//! ```

#![warn(missing_docs)]

pub mod event;
pub mod process;
pub mod sandbox;
pub mod show;

use event::{Ending, Event, Line};
use std::any::Any;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt;
use std::io::{Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// What a cell's or a test's closure returns: `?` works on any error.
pub type CellResult = Result<(), Box<dyn std::error::Error>>;

/// The token, read once at start; private so that no other code can name it.
static TOKEN: OnceLock<String> = OnceLock::new();

thread_local! {
    /// Where the last panic on this thread happened, set by the hook before unwinding.
    static LAST_PANIC_AT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The running program: its settings from the command line and the event channel.
pub struct Program {
    /// Cells the grader asked to skip (they hung or ended the process in an earlier run).
    skip: BTreeSet<usize>,
    test_timeout: Duration,
    /// Where each cell's and test's output goes (`cell-N.txt`, `test-N.txt`).
    output_dir: PathBuf,
    events: Option<std::fs::File>,
}

/// The settings the grader passes on the command line.
#[derive(Debug, Default)]
struct Arguments {
    skip: BTreeSet<usize>,
    test_timeout: Option<Duration>,
    output_dir: Option<PathBuf>,
}

fn parse_arguments(args: impl Iterator<Item = String>) -> Arguments {
    let mut parsed = Arguments::default();
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_default();
        match arg.as_str() {
            "--skip" => parsed.skip.extend(
                value()
                    .split(',')
                    .filter_map(|n| n.trim().parse::<usize>().ok()),
            ),
            "--test-timeout-ms" => {
                parsed.test_timeout = value().parse().ok().map(Duration::from_millis)
            }
            "--output-dir" => parsed.output_dir = Some(PathBuf::from(value())),
            _ => {}
        }
    }
    parsed
}

impl Program {
    /// Confines the process, reads the token and opens the event channel. Call it first.
    pub fn start() -> Program {
        sandbox::enter_program();
        let arguments = parse_arguments(std::env::args().skip(1));
        let _ = TOKEN.set(read_token());
        install_panic_hook();
        Program {
            skip: arguments.skip,
            test_timeout: arguments.test_timeout.unwrap_or(Duration::from_secs(60)),
            output_dir: arguments.output_dir.unwrap_or_else(|| PathBuf::from(".")),
            events: events_channel(),
        }
    }

    /// Runs the statements of the learner cell at notebook index `cell`, unless the grader
    /// asked to skip it. Panics and `?` errors are caught and reported; the program goes on.
    pub fn cell(&mut self, cell: usize, code: impl FnOnce() -> CellResult) {
        if self.skip.contains(&cell) {
            return;
        }
        redirect_output(&self.output_dir.join(format!("cell-{cell}.txt")));
        self.send(&Event::CellStarted { cell });
        let Caught {
            ending,
            message,
            location,
            ..
        } = run_caught(code);
        flush_output();
        self.send(&Event::CellFinished {
            cell,
            ending,
            message,
            location,
        });
    }

    /// Runs hidden test number `test` in a forked child with the time limit, and reports how
    /// it ended (the child reports its verdict itself).
    pub fn test(&mut self, test: usize, code: impl FnOnce() -> CellResult) {
        flush_output();
        self.send(&Event::TestStarted { test });
        let started = Instant::now();
        // SAFETY: the child only runs the test and then leaves with `_exit`; see `in_child`.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            self.in_child(test, code);
        }
        let (code, signal, timed_out) = if pid < 0 {
            (None, None, false)
        } else {
            wait_with_limit(pid, self.test_timeout)
        };
        self.send(&Event::TestExited {
            test,
            code,
            signal,
            timed_out,
            seconds: started.elapsed().as_secs_f64(),
        });
    }

    fn in_child(&mut self, test: usize, code: impl FnOnce() -> CellResult) -> ! {
        // Its own process group, so the parent can end whatever the test starts; and it ends
        // when the parent does (the grader killed the program).
        // SAFETY: plain system calls in the child.
        unsafe {
            libc::setpgid(0, 0);
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        }
        redirect_output(&self.output_dir.join(format!("test-{test}.txt")));
        let Caught {
            ending,
            message,
            location,
            fraction,
        } = run_caught(code);
        flush_output();
        self.send(&Event::TestFinished {
            test,
            ending,
            message,
            location,
            fraction,
        });
        // SAFETY: ends the child at once: no destructors or exit handlers of the parent's
        // state run twice, and learner threads started by the test end with it.
        unsafe { libc::_exit(0) }
    }

    /// Says that everything ran.
    pub fn finish(mut self) {
        flush_output();
        self.send(&Event::Done);
    }

    fn send(&mut self, event: &Event) {
        let Some(channel) = self.events.as_mut() else {
            return;
        };
        let line = Line {
            token: TOKEN.get().cloned().unwrap_or_default(),
            event: event.clone(),
        };
        if let Ok(mut text) = serde_json::to_string(&line) {
            text.push('\n');
            let _ = channel.write_all(text.as_bytes());
        }
    }
}

/// A test's partial credit: returned as the test's error by [`partial!`], read by the harness
/// (by its type: learner code cannot name this crate, the grader refuses it, so it cannot make
/// one).
#[derive(Debug, Clone, PartialEq)]
pub struct Partial {
    /// The fraction of the test's points awarded, from 0 to 1 (checked by the grader).
    pub fraction: f64,
    /// Why, for the learner (`found 3 of 6 rows`).
    pub message: String,
}

impl fmt::Display for Partial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "partial credit {}: {}", self.fraction, self.message)
    }
}

impl std::error::Error for Partial {}

/// Ends a test at once with part of its points: `partial!(0.5, "found {} of 6 rows", n)` awards
/// half of them with that message. The first argument is the fraction of the test's points
/// (a number from 0 to 1); the rest is a `format!` message. In a hidden test the grader
/// writes `partial!` as `::orm_grader_harness::partial!`.
///
/// ```
/// fn test() -> orm_grader_harness::CellResult {
///     let found = 3;
///     if found < 6 {
///         orm_grader_harness::partial!(found as f64 / 6.0, "found {found} of 6 rows");
///     }
///     Ok(())
/// }
/// let error = test().unwrap_err();
/// let partial = error.downcast_ref::<orm_grader_harness::Partial>().unwrap();
/// assert_eq!((partial.fraction, partial.message.as_str()), (0.5, "found 3 of 6 rows"));
/// ```
#[macro_export]
macro_rules! partial {
    ($fraction:expr, $($message:tt)+) => {
        return ::std::result::Result::Err(::std::convert::Into::into($crate::Partial {
            fraction: ($fraction) as f64,
            message: ::std::format!($($message)+),
        }))
    };
}

/// A variable an earlier cell left for later cells was not there.
#[derive(Debug)]
pub struct MissingVariable {
    name: String,
    cell: usize,
}

impl fmt::Display for MissingVariable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not defined: cell {} (which defines it) did not run to its end",
            self.name, self.cell
        )
    }
}

impl std::error::Error for MissingVariable {}

/// Takes the value of variable `name` that cell `cell` left in `slot`.
///
/// # Errors
/// [`MissingVariable`] when that cell failed or was skipped before it set the variable.
pub fn take<T>(slot: &mut Option<T>, name: &str, cell: usize) -> Result<T, MissingVariable> {
    slot.take().ok_or_else(|| MissingVariable {
        name: name.to_owned(),
        cell,
    })
}

/// How a cell's or test's code ended.
#[derive(Debug)]
struct Caught {
    ending: Ending,
    /// The panic's or the error's text (a partial credit's message).
    message: String,
    /// Where it panicked, when it did.
    location: Option<String>,
    /// A partial credit's fraction.
    fraction: Option<f64>,
}

/// Runs `code`, catching a panic (with where it happened), a returned error and a [`Partial`].
fn run_caught(code: impl FnOnce() -> CellResult) -> Caught {
    LAST_PANIC_AT.with(|at| at.borrow_mut().take());
    let caught = |ending, message, location, fraction| Caught {
        ending,
        message,
        location,
        fraction,
    };
    match catch_unwind(AssertUnwindSafe(code)) {
        Ok(Ok(())) => caught(Ending::Passed, String::new(), None, None),
        Ok(Err(error)) => match error.downcast_ref::<Partial>() {
            Some(partial) => caught(
                Ending::Partial,
                partial.message.clone(),
                None,
                Some(partial.fraction),
            ),
            None => caught(Ending::ErrorReturned, error.to_string(), None, None),
        },
        Err(payload) => {
            let location = LAST_PANIC_AT.with(|at| at.borrow_mut().take());
            caught(
                Ending::Panicked,
                panic_message(payload.as_ref()),
                location,
                None,
            )
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic with a value that is not text".to_owned()
    }
}

fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if let Some(location) = info.location() {
            let text = format!(
                "{}:{}:{}",
                location.file(),
                location.line(),
                location.column()
            );
            LAST_PANIC_AT.with(|at| *at.borrow_mut() = Some(text));
        }
        default(info);
    }));
}

/// Reads the token the grader wrote to [`event::TOKEN_FD`] and closes it. Empty when the
/// program was started by hand (then the grader would accept none of its events).
fn read_token() -> String {
    let Some(mut pipe) = descriptor(event::TOKEN_FD) else {
        return String::new();
    };
    let mut token = String::new();
    let _ = Read::by_ref(&mut pipe).take(256).read_to_string(&mut token);
    token.trim().to_owned()
}

fn events_channel() -> Option<std::fs::File> {
    descriptor(event::EVENTS_FD)
}

/// The inherited descriptor `fd` as a file, if it is open; marked close-on-exec.
fn descriptor(fd: i32) -> Option<std::fs::File> {
    use std::os::fd::FromRawFd;
    // SAFETY: `fcntl` only asks about the descriptor; it is owned from here on only if open,
    // and the grader opened it for this program alone.
    unsafe {
        if libc::fcntl(fd, libc::F_GETFD) < 0 {
            return None;
        }
        libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        Some(std::fs::File::from_raw_fd(fd))
    }
}

fn flush_output() {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
}

/// Sends fds 1 and 2 to a new file at `path` (best effort: output is feedback, not a verdict).
fn redirect_output(path: &std::path::Path) {
    use std::os::fd::AsRawFd;
    flush_output();
    if let Ok(file) = std::fs::File::create(path) {
        // SAFETY: `dup2` onto the standard descriptors; `file` stays open through the calls.
        unsafe {
            libc::dup2(file.as_raw_fd(), 1);
            libc::dup2(file.as_raw_fd(), 2);
        }
    }
}

/// Waits for child `pid`, killing its process group at `limit`; returns its exit code, the
/// signal that ended it, and whether it was killed for time.
///
/// The child is reaped only after its group was killed: until `waitpid` collects it, the exited
/// child is a zombie that keeps its process id (and so its group id) from being given to another
/// process. Signalling `-pid` after the reap could reach an unrelated process that was given the
/// same number meanwhile (a PostgreSQL backend, say, which leads a group of its own).
fn wait_with_limit(pid: libc::pid_t, limit: Duration) -> (Option<i32>, Option<i32>, bool) {
    let started = Instant::now();
    let mut timed_out = false;
    let mut pause = Duration::from_micros(200);
    loop {
        match process::exited_unreaped(pid) {
            Some(true) => break,
            Some(false) => {}
            // Not (or no longer) our child: nothing of it is ours to signal.
            None => return (None, None, timed_out),
        }
        if !timed_out && started.elapsed() >= limit {
            timed_out = true;
            process::kill_group(pid);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
    // Whatever the test started in its group ends with it, while `pid` is still ours.
    process::kill_group(pid);
    let mut status = 0;
    // SAFETY: reaping our own child, which has exited.
    let reaped = unsafe { libc::waitpid(pid, &mut status, 0) };
    if reaped != pid {
        (None, None, timed_out)
    } else if libc::WIFEXITED(status) {
        (Some(libc::WEXITSTATUS(status)), None, timed_out)
    } else if libc::WIFSIGNALED(status) {
        (None, Some(libc::WTERMSIG(status)), timed_out)
    } else {
        (None, None, timed_out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_read() {
        let args = parse_arguments(
            [
                "--skip",
                "3,7",
                "--test-timeout-ms",
                "1500",
                "--output-dir",
                "out",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        assert_eq!(args.skip.into_iter().collect::<Vec<_>>(), [3, 7]);
        assert_eq!(args.test_timeout, Some(Duration::from_millis(1500)));
        assert_eq!(args.output_dir, Some(PathBuf::from("out")));
    }

    #[test]
    fn a_missing_variable_names_its_cell() {
        let mut slot: Option<i64> = None;
        let error = take(&mut slot, "session", 4).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`session` is not defined: cell 4 (which defines it) did not run to its end"
        );
        let mut slot = Some(5);
        assert_eq!(take(&mut slot, "x", 1).unwrap(), 5);
        assert!(slot.is_none());
    }

    #[test]
    fn panics_errors_and_partial_credit_are_caught() {
        let caught = run_caught(|| panic!("boom {}", 1));
        assert_eq!(
            (caught.ending, caught.message.as_str()),
            (Ending::Panicked, "boom 1")
        );
        let caught = run_caught(|| Err("bad".into()));
        assert_eq!(
            (caught.ending, caught.message.as_str()),
            (Ending::ErrorReturned, "bad")
        );
        assert_eq!(run_caught(|| Ok(())).ending, Ending::Passed);
        let caught = run_caught(|| {
            let rows = 3;
            crate::partial!(rows as f64 / 6.0, "found {rows} of 6 rows");
        });
        assert_eq!(
            (caught.ending, caught.message.as_str(), caught.fraction),
            (Ending::Partial, "found 3 of 6 rows", Some(0.5))
        );
    }
}
