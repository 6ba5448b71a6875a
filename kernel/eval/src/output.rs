//! What a running cell shows: its streamed text, rich displays, and its final results by mime type.

use crossbeam_channel::Receiver;
use std::collections::BTreeMap;
use std::time::Duration;

/// A mime bundle: mime type → content (`text/plain`, `text/html`, …).
pub type MimeBundle = BTreeMap<String, String>;

/// Something a cell shows while it runs, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Text the cell wrote to stdout (whole lines, each ending in `\n`).
    Stdout(String),
    /// Text the cell wrote to stderr (whole lines, each ending in `\n`).
    Stderr(String),
    /// A rich output: a `jupyter::display(...)` call, an `evcxr_display()` call, or a value
    /// shown before the cell's end.
    Display(MimeBundle),
    /// A rich output with a name (`jupyter::display_with_id(id, …)`), or, with `update`, new
    /// content for the output of that name wherever it is (`jupyter::update_display(id, …)`);
    /// Jupyter's `display_id` and `update_display_data`.
    DisplayWithId {
        /// What to show, by mime type.
        data: MimeBundle,
        /// The output's name (Jupyter's `display_id`).
        id: String,
        /// Whether this replaces the content of the outputs of that name.
        update: bool,
    },
    /// The cell asked to clear its output (`jupyter::clear_output(wait)`).
    ClearOutput {
        /// Clear only when the next output arrives (no flicker), as IPython's `clear_output(wait=True)`.
        wait: bool,
    },
}

/// The results of a cell that ran to the end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outputs {
    /// The value of the cell's final expression and any `evcxr_display` blocks, by mime type.
    pub data: MimeBundle,
}

const STDERR_TAIL: usize = 8;

/// Markers printed by the `jupyter` helper module of the prelude (see `runtime_code`).
pub(crate) const DISPLAY_BEGIN: &str = "ORM_EVAL_DISPLAY_BEGIN";
pub(crate) const DISPLAY_MIME: &str = "ORM_EVAL_MIME ";
pub(crate) const DISPLAY_END: &str = "ORM_EVAL_DISPLAY_END";
pub(crate) const CLEAR_OUTPUT: &str = "ORM_EVAL_CLEAR_OUTPUT ";
/// After `DISPLAY_BEGIN`: the display is an `evcxr` content group, maybe the cell's value.
pub(crate) const DISPLAY_OF_VALUE: &str = " value";
/// Ends a line whose text had no newline (stdout at the end of a cell, or stderr after a pause).
pub(crate) const NO_NEWLINE: &str = "\u{1}ORM_EVAL_NOEOL";
/// Written at the end of every cell after flushing stdout; text before it on its line was
/// printed without a newline.
pub(crate) const END_MARK: &str = "\u{1}ORM_EVAL_END";

/// What a display block's header line says after `DISPLAY_BEGIN`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum DisplayKind {
    #[default]
    Plain,
    /// An evcxr content group: the cell's value if it is the last thing the cell shows.
    Value,
    Named {
        id: String,
        update: bool,
    },
}

impl DisplayKind {
    fn parse(rest: &str) -> DisplayKind {
        let rest = rest.trim();
        if rest == DISPLAY_OF_VALUE.trim() {
            return DisplayKind::Value;
        }
        let (update, rest) = match rest.strip_prefix("update ") {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        match rest.strip_prefix("id=") {
            Some(id) => DisplayKind::Named {
                id: id.to_owned(),
                update,
            },
            None => DisplayKind::Plain,
        }
    }
}
/// Collects lines from the evaluation process and hands them on as [`Event`]s, batching what
/// is already available so that a loop printing many lines yields few events.
pub(crate) struct Forwarder<'a> {
    sink: &'a mut (dyn FnMut(Event) + Send),
    display: Option<(MimeBundle, Option<String>, DisplayKind)>,
    /// The last evcxr content group, held back while nothing followed it: it is the cell's
    /// value if the cell ends in an expression.
    held_value: Option<MimeBundle>,
    pending_stdout: String,
    /// stderr lines of the default panic hook about the cell's own thread (a fallback for when
    /// a cell replaced our panic hook).
    panic_lines: Vec<String>,
    /// How the default hook names the cell's thread: cells run on the main thread of the
    /// evaluation process, whose thread id is the process id.
    cell_thread: String,
    /// The last few stderr lines (a `?` error is the last thing a failing cell prints there).
    stderr_tail: Vec<String>,
}

impl<'a> Forwarder<'a> {
    pub(crate) fn new(sink: &'a mut (dyn FnMut(Event) + Send), process_id: u32) -> Self {
        Forwarder {
            sink,
            display: None,
            held_value: None,
            pending_stdout: String::new(),
            panic_lines: Vec::new(),
            cell_thread: format!("' ({process_id}) panicked at "),
            stderr_tail: Vec::new(),
        }
    }

    /// What was noticed: the cell thread's panic lines, the last stderr lines, and the last
    /// display if nothing followed it (the cell's value, or a display the caller still sends).
    pub(crate) fn into_findings(self) -> Findings {
        Findings {
            panic_lines: self.panic_lines,
            stderr_tail: self.stderr_tail,
            last_display: self.held_value,
        }
    }

    /// Sends the held display: something followed it, so it was not the cell's value.
    fn release_held(&mut self) {
        if let Some(bundle) = self.held_value.take() {
            (self.sink)(Event::Display(bundle));
        }
    }

    fn emit(&mut self, event: Event) {
        self.release_held();
        (self.sink)(event);
    }

    /// Forwards until `done` fires (or is dropped), then drains: stdout is complete by then
    /// (evcxr waits for it), stderr comes through a reader thread, so it gets a short grace period.
    pub(crate) fn run(
        &mut self,
        stdout: &Receiver<String>,
        stderr: &Receiver<String>,
        done: &Receiver<()>,
    ) {
        loop {
            crossbeam_channel::select! {
                recv(stdout) -> line => match line {
                    Ok(line) => { self.stdout_line(line); self.drain_stdout(stdout); }
                    Err(_) => break,
                },
                recv(stderr) -> line => match line {
                    Ok(line) => { self.flush_stdout(); self.stderr_lines(line, stderr); }
                    Err(_) => break,
                },
                recv(done) -> _ => break,
            }
        }
        self.drain_stdout(stdout);
        const STDERR_GRACE: Duration = Duration::from_millis(15);
        while let Ok(line) = stderr.recv_timeout(STDERR_GRACE) {
            self.flush_stdout();
            self.stderr_lines(line, stderr);
        }
        self.finish();
    }

    fn drain_stdout(&mut self, stdout: &Receiver<String>) {
        while let Ok(line) = stdout.try_recv() {
            self.stdout_line(line);
        }
        self.flush_stdout();
    }

    fn stderr_lines(&mut self, first: String, stderr: &Receiver<String>) {
        let mut text = String::new();
        let mut line = Some(first);
        while let Some(mut current) = line {
            let whole = match current.strip_suffix(NO_NEWLINE) {
                Some(part) => {
                    current = part.to_owned();
                    false
                }
                None => true,
            };
            if current.starts_with("thread '") && current.contains(&self.cell_thread) {
                self.panic_lines.push(current.clone());
            }
            if !current.trim().is_empty() {
                if self.stderr_tail.len() == STDERR_TAIL {
                    self.stderr_tail.remove(0);
                }
                self.stderr_tail.push(current.clone());
            }
            text.push_str(&current);
            if whole {
                text.push('\n');
            }
            line = stderr.try_recv().ok();
        }
        // Sent without releasing a held value: stderr reaches us by another path than stdout, so
        // it may arrive after the value although it was written before.
        if !text.is_empty() {
            (self.sink)(Event::Stderr(text));
        }
    }

    fn stdout_line(&mut self, mut line: String) {
        if self.display.is_some() {
            if line == DISPLAY_END {
                let (bundle, _, kind) = self.display.take().unwrap_or_default();
                self.flush_stdout();
                match kind {
                    DisplayKind::Plain => self.emit(Event::Display(bundle)),
                    DisplayKind::Value => {
                        self.release_held();
                        self.held_value = Some(bundle);
                    }
                    DisplayKind::Named { id, update } => self.emit(Event::DisplayWithId {
                        data: bundle,
                        id,
                        update,
                    }),
                }
                return;
            }
            let Some((bundle, current, _)) = self.display.as_mut() else {
                return;
            };
            if let Some(mime) = line.strip_prefix(DISPLAY_MIME) {
                let mime = mime.trim().to_owned();
                bundle.entry(mime.clone()).or_default();
                *current = Some(mime);
            } else if let Some(mime) = current {
                let content = bundle.entry(mime.clone()).or_default();
                if !content.is_empty() {
                    content.push('\n');
                }
                content.push_str(&line);
            }
            return;
        }
        // A marker after text printed without a newline (`print!("x"); jupyter::html(..)`):
        // the text comes first, as it was printed.
        for marker in [DISPLAY_BEGIN, CLEAR_OUTPUT] {
            if let Some(at) = line.find(marker).filter(|&at| at > 0) {
                let rest = line.split_off(at);
                self.pending_stdout.push_str(&line);
                line = rest;
                break;
            }
        }
        if let Some(rest) = line.strip_prefix(DISPLAY_BEGIN) {
            self.display = Some((MimeBundle::new(), None, DisplayKind::parse(rest)));
        } else if let Some(wait) = line.strip_prefix(CLEAR_OUTPUT) {
            self.flush_stdout();
            self.emit(Event::ClearOutput {
                wait: wait.trim() == "true",
            });
        } else if let Some(text) = line.strip_suffix(END_MARK) {
            // The end of the cell: only text printed without a newline may precede the mark.
            self.pending_stdout.push_str(text);
        } else if let Some(text) = line.strip_suffix(NO_NEWLINE) {
            self.pending_stdout.push_str(text);
        } else {
            self.pending_stdout.push_str(&line);
            self.pending_stdout.push('\n');
        }
    }

    fn flush_stdout(&mut self) {
        if !self.pending_stdout.is_empty() {
            let text = std::mem::take(&mut self.pending_stdout);
            self.emit(Event::Stdout(text));
        }
    }

    /// A display cut short (the process died mid-way) is shown as the text it held.
    fn finish(&mut self) {
        if let Some((bundle, _, _)) = self.display.take() {
            if !bundle.is_empty() {
                self.emit(Event::Display(bundle));
            }
        }
        self.flush_stdout();
    }
}

/// What a [`Forwarder`] noticed while forwarding.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    pub panic_lines: Vec<String>,
    /// The last lines the cell wrote to stderr.
    pub stderr_tail: Vec<String>,
    /// The last thing the cell showed, if it was an evcxr content group.
    pub last_display: Option<MimeBundle>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stdout: &[&str], stderr: &[&str]) -> (Vec<Event>, Vec<String>) {
        let (out_tx, out_rx) = crossbeam_channel::unbounded();
        let (err_tx, err_rx) = crossbeam_channel::unbounded();
        let (done_tx, done_rx) = crossbeam_channel::bounded::<()>(0);
        for line in stdout {
            out_tx.send(line.to_string()).unwrap();
        }
        for line in stderr {
            err_tx.send(line.to_string()).unwrap();
        }
        drop(done_tx);
        let mut events = Vec::new();
        let mut sink = |e: Event| events.push(e);
        let mut forwarder = Forwarder::new(&mut sink, 8395);
        forwarder.run(&out_rx, &err_rx, &done_rx);
        let findings = forwarder.into_findings();
        if let Some(value) = findings.last_display {
            events.push(Event::Display(value));
        }
        (events, findings.panic_lines)
    }

    #[test]
    fn stdout_lines_are_batched() {
        let (events, _) = run(&["a", "b"], &[]);
        assert_eq!(events, vec![Event::Stdout("a\nb\n".into())]);
    }

    #[test]
    fn display_blocks_become_display_events() {
        let (events, _) = run(
            &[
                "before",
                DISPLAY_BEGIN,
                "ORM_EVAL_MIME text/html",
                "<b>x</b>",
                "<i>y</i>",
                "ORM_EVAL_MIME text/plain",
                "x y",
                DISPLAY_END,
                "ORM_EVAL_CLEAR_OUTPUT true",
                "after",
            ],
            &[],
        );
        let mut bundle = MimeBundle::new();
        bundle.insert("text/html".into(), "<b>x</b>\n<i>y</i>".into());
        bundle.insert("text/plain".into(), "x y".into());
        assert_eq!(
            events,
            vec![
                Event::Stdout("before\n".into()),
                Event::Display(bundle),
                Event::ClearOutput { wait: true },
                Event::Stdout("after\n".into()),
            ]
        );
    }

    #[test]
    fn text_without_newline_is_forwarded_as_is() {
        let (events, _) = run(
            &["loading...\u{1}ORM_EVAL_END", "a\u{1}ORM_EVAL_NOEOL"],
            &["warn\u{1}ORM_EVAL_NOEOL"],
        );
        let text: String = events
            .iter()
            .filter_map(|e| match e {
                Event::Stdout(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(text, "loading...a");
        assert!(events.contains(&Event::Stderr("warn".into())));
    }

    #[test]
    fn each_display_is_its_own_event_and_named_ones_keep_their_id() {
        let (events, _) = run(
            &[
                "ORM_EVAL_DISPLAY_BEGIN value",
                "ORM_EVAL_MIME text/plain",
                "first",
                DISPLAY_END,
                "ORM_EVAL_DISPLAY_BEGIN update id=p",
                "ORM_EVAL_MIME text/plain",
                "50%",
                DISPLAY_END,
                "ORM_EVAL_DISPLAY_BEGIN value",
                "ORM_EVAL_MIME text/plain",
                "second",
                DISPLAY_END,
            ],
            &[],
        );
        let plain = |t: &str| MimeBundle::from([("text/plain".to_owned(), t.to_owned())]);
        assert_eq!(
            events,
            vec![
                Event::Display(plain("first")),
                Event::DisplayWithId {
                    data: plain("50%"),
                    id: "p".into(),
                    update: true
                },
                Event::Display(plain("second")),
            ]
        );
    }

    #[test]
    fn panics_of_the_cell_thread_are_noticed() {
        let (events, panics) = run(
            &[],
            &[
                "thread '<unnamed>' (8395) panicked at src/lib.rs:3:5:",
                "boom",
                "thread '<unnamed>' (8396) panicked at src/lib.rs:4:5:",
            ],
        );
        assert_eq!(
            panics,
            ["thread '<unnamed>' (8395) panicked at src/lib.rs:3:5:"]
        );
        assert_eq!(events.len(), 1);
    }
}
