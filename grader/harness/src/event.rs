//! The private channel from a graded program to the grader: one JSON object per line, each
//! carrying the token the grader gave the program at start.
//!
//! The learner's code runs in the same process and may write anything to any descriptor it
//! finds, but it cannot know the token (see the crate docs), so a line it forges is dropped by
//! the grader and can only make a test fail.

use serde::{Deserialize, Serialize};

/// The descriptor the grader writes the token to (then closes); read once at start.
pub const TOKEN_FD: i32 = 3;
/// The descriptor events are written to.
pub const EVENTS_FD: i32 = 4;

/// How a cell or a test's code ended, as seen by the harness around it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// It returned `Ok`.
    Passed,
    /// It panicked (an assertion, `todo!()`, an index out of range, …).
    Panicked,
    /// `?` returned an error.
    ErrorReturned,
    /// A test ended with `partial!(fraction, message)`: it earns that fraction of its points.
    Partial,
}

/// One thing that happened in the program.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A learner cell (by its index in the notebook) started.
    CellStarted {
        /// The cell's index in the notebook.
        cell: usize,
    },
    /// That cell ended; `message` is the panic's or the error's text.
    CellFinished {
        /// The cell's index in the notebook.
        cell: usize,
        /// How it ended.
        ending: Ending,
        /// The panic's or the error's text (empty when it passed).
        message: String,
        /// Where it panicked, `main.rs:LINE:COLUMN` of the program, when known.
        location: Option<String>,
    },
    /// A hidden test (by its position in the assignment) is about to run in a child process.
    TestStarted {
        /// The test's position in the assignment.
        test: usize,
    },
    /// The test's code ended in the child (written by the child).
    TestFinished {
        /// The test's position in the assignment.
        test: usize,
        /// How it ended.
        ending: Ending,
        /// The panic's, the error's or `partial!`'s text.
        message: String,
        /// Where it panicked, `main.rs:LINE:COLUMN` of the program, when known.
        location: Option<String>,
        /// With [`Ending::Partial`]: the fraction of the test's points (0 to 1) it awards.
        #[serde(default)]
        fraction: Option<f64>,
    },
    /// The child process of a test is gone (written by the parent after it waited).
    TestExited {
        /// The test's position in the assignment.
        test: usize,
        /// The exit code, when it exited.
        code: Option<i32>,
        /// The signal that ended it, when one did.
        signal: Option<i32>,
        /// Whether the parent killed it at the test's time limit.
        timed_out: bool,
        /// How long the child ran, in seconds.
        seconds: f64,
    },
    /// Every cell and test was run.
    Done,
}

/// A line on the channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// The run's secret token: a line without it is not the harness's.
    pub token: String,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
}

impl Line {
    /// Reads a line; `None` for anything that is not an event carrying `token`.
    pub fn parse(text: &str, token: &str) -> Option<Event> {
        let line: Line = serde_json::from_str(text.trim_end()).ok()?;
        (!token.is_empty() && line.token == token).then_some(line.event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_lines_with_the_token_are_read() {
        let event = Event::TestFinished {
            test: 2,
            ending: Ending::Passed,
            message: String::new(),
            location: None,
            fraction: None,
        };
        let text = serde_json::to_string(&Line {
            token: "secret".into(),
            event: event.clone(),
        })
        .unwrap();
        assert_eq!(Line::parse(&text, "secret"), Some(event));
        assert_eq!(Line::parse(&text, "other"), None);
        assert_eq!(Line::parse(&text, ""), None);
        assert_eq!(Line::parse("{\"event\":\"done\"}", "secret"), None);
        assert_eq!(Line::parse("passed", "secret"), None);
    }
}
