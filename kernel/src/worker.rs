//! The thread that owns the evaluator. evcxr blocks while it compiles and runs, so every
//! evaluation, completion and inspection runs here, one at a time, while the sockets stay served.

use crate::error::KernelError;
use orm_eval::lock;
use orm_eval::{
    Completions, EvalError, Evaluator, EvaluatorOptions, Event, Inspection, Interrupter, Outputs,
};
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

/// Receives what a running cell shows.
pub type Sink = Box<dyn FnMut(Event) + Send>;

/// Answers a line the cell reads from stdin (prompt, is password), `None` for end of input.
pub type Stdin = Box<dyn Fn(&str, bool) -> Option<String> + Send>;

/// What the kernel adds around the evaluator, each with its switch in the kernelspec's env.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// Replay the cells that succeeded after the evaluation process was replaced
    /// (`ORM_KERNEL_REPLAY=0` turns it off).
    pub replay: bool,
    /// The file engines append their statements to (`ORM_STATEMENT_LOG`), read after each
    /// cell for the N+1 note (`ORM_KERNEL_NPLUS1=0` turns it off).
    pub statement_log: Option<PathBuf>,
}

/// A cell's result and the notes the kernel adds after its output.
pub struct Executed {
    /// The cell's value, or why it has none.
    pub result: Result<Outputs, EvalError>,
    /// Text shown after the cell's output (a replay, the N+1 note).
    pub notes: Vec<String>,
}

enum Job {
    Execute {
        code: String,
        sink: Sink,
        stdin: Option<Stdin>,
        reply: oneshot::Sender<Executed>,
    },
    Variables {
        reply: oneshot::Sender<Result<Vec<(String, String)>, EvalError>>,
    },
    Clear {
        reply: oneshot::Sender<Result<(), EvalError>>,
    },
    EnterDir {
        dir: PathBuf,
    },
    Complete {
        code: String,
        cursor: usize,
        reply: oneshot::Sender<Result<Completions, EvalError>>,
    },
    Inspect {
        code: String,
        cursor: usize,
        reply: oneshot::Sender<Result<Option<Inspection>, EvalError>>,
    },
}

/// The evaluator's thread and the queue of jobs it takes one at a time.
pub struct Worker {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    interrupter: Arc<Mutex<Option<Interrupter>>>,
    finished: Mutex<Option<mpsc::Receiver<()>>>,
}

impl Worker {
    /// Starts the thread; the evaluator starts on it at once (building `orm` on a first run), and
    /// requests wait for it.
    pub fn spawn(options: EvaluatorOptions, extras: Extras) -> Worker {
        let (jobs, queue) = mpsc::channel();
        let (finished_tx, finished) = mpsc::channel();
        let interrupter = Arc::new(Mutex::new(None));
        let slot = Arc::clone(&interrupter);
        std::thread::Builder::new()
            .name("evaluator".into())
            .spawn(move || {
                run(options, extras, queue, slot);
                let _ = finished_tx.send(());
            })
            .expect("the evaluator thread could not be started");
        Worker {
            jobs: Mutex::new(Some(jobs)),
            interrupter,
            finished: Mutex::new(Some(finished)),
        }
    }

    /// Runs a cell; with `stdin`, its reads of stdin are answered by it, else see end of input.
    pub async fn execute(&self, code: String, sink: Sink, stdin: Option<Stdin>) -> Executed {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Execute {
            code,
            sink,
            stdin,
            reply,
        });
        answer.await.unwrap_or_else(|_| Executed {
            result: Err(gone()),
            notes: Vec::new(),
        })
    }

    /// The variables cells have defined, with their types.
    ///
    /// # Errors
    ///
    /// The evaluator's error, or [`EvalError::Other`] when it is gone (shutting down).
    pub async fn variables(&self) -> Result<Vec<(String, String)>, EvalError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Variables { reply });
        answer.await.unwrap_or_else(|_| Err(gone()))
    }

    /// Forgets every variable and item of earlier cells (`orm` and its prelude stay).
    ///
    /// # Errors
    ///
    /// The evaluator's error, or [`EvalError::Other`] when it is gone (shutting down).
    pub async fn clear(&self) -> Result<(), EvalError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Clear { reply });
        answer.await.unwrap_or_else(|_| Err(gone()))
    }

    /// Completions at char `cursor` of `code`.
    ///
    /// # Errors
    ///
    /// The evaluator's error, or [`EvalError::Other`] when it is gone (shutting down).
    pub async fn complete(&self, code: String, cursor: usize) -> Result<Completions, EvalError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Complete {
            code,
            cursor,
            reply,
        });
        answer.await.unwrap_or_else(|_| Err(gone()))
    }

    /// Hover documentation at char `cursor` of `code`.
    ///
    /// # Errors
    ///
    /// The evaluator's error, or [`EvalError::Other`] when it is gone (shutting down).
    pub async fn inspect(
        &self,
        code: String,
        cursor: usize,
    ) -> Result<Option<Inspection>, EvalError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Inspect {
            code,
            cursor,
            reply,
        });
        answer.await.unwrap_or_else(|_| Err(gone()))
    }

    /// Makes `dir` the current folder of this process (inherited by later evaluation
    /// processes) now, and of the evaluation process before the next job (a standby adopted by
    /// a kernel started in another folder). Does not wait for the evaluator.
    ///
    /// # Errors
    ///
    /// [`KernelError::Io`] when this process cannot enter `dir` (the job is then not queued).
    pub fn enter_dir(&self, dir: PathBuf) -> Result<(), KernelError> {
        std::env::set_current_dir(&dir).map_err(KernelError::io("cannot enter", &dir))?;
        self.submit(Job::EnterDir { dir });
        Ok(())
    }

    /// Stops the running cell, if any (blocks briefly: call it off the async threads).
    pub fn interrupt(&self) -> bool {
        let interrupter = lock(&self.interrupter).clone();
        interrupter.is_some_and(|i| i.interrupt())
    }

    /// Stops taking jobs, stops a running cell, and waits (at most `patience`) for the evaluator
    /// to end its process and remove its working folder.
    pub fn shut_down(&self, patience: Duration) {
        lock(&self.jobs).take();
        self.interrupt();
        if let Some(finished) = lock(&self.finished).take() {
            let _ = finished.recv_timeout(patience);
        }
    }

    fn submit(&self, job: Job) {
        // Without a sender (shutting down) the job is dropped and its reply reports `gone`.
        if let Some(jobs) = lock(&self.jobs).as_ref() {
            let _ = jobs.send(job);
        }
    }
}

fn gone() -> EvalError {
    EvalError::Other("the evaluator has stopped".to_owned())
}

fn run(
    options: EvaluatorOptions,
    extras: Extras,
    queue: mpsc::Receiver<Job>,
    slot: Arc<Mutex<Option<Interrupter>>>,
) {
    let mut evaluator = match Evaluator::start(&options) {
        Ok(evaluator) => evaluator,
        Err(error) => {
            eprintln!("orm-kernel: the evaluator did not start: {error}");
            answer_failed_start(&queue, &error.to_string());
            return;
        }
    };
    log_start(&evaluator);
    *lock(&slot) = Some(evaluator.interrupter());
    // The cells that succeeded since the start (or `:clear`), in order: what a new evaluation
    // process replays.
    let mut journal: Vec<String> = Vec::new();
    while let Ok(job) = queue.recv() {
        match job {
            Job::Execute {
                code,
                mut sink,
                stdin,
                reply,
            } => {
                if let Some(log) = &extras.statement_log {
                    let _ = std::fs::write(log, "");
                }
                let result = match &stdin {
                    Some(stdin) => evaluator.eval_with_stdin(&code, &mut *sink, &**stdin),
                    None => evaluator.eval(&code, &mut *sink),
                };
                let mut notes = Vec::new();
                if let Some(log) = &extras.statement_log {
                    let statements = std::fs::read_to_string(log).unwrap_or_default();
                    notes.extend(crate::nplus1::note(&statements));
                }
                match &result {
                    Ok(_) => {
                        if orm_eval::has_statements(&code) {
                            journal.push(code);
                        }
                    }
                    Err(error) if error.variables_lost() && extras.replay => {
                        notes.push(replay(&mut evaluator, &journal));
                    }
                    Err(_) => {}
                }
                let _ = reply.send(Executed { result, notes });
            }
            Job::Variables { reply } => {
                let _ = reply.send(Ok(evaluator.variables()));
            }
            Job::EnterDir { dir } => {
                let code = format!(
                    "std::env::set_current_dir({:?}).ok();",
                    dir.to_string_lossy()
                );
                let mut discard = |_event: Event| {};
                if let Err(error) = evaluator.eval(&code, &mut discard) {
                    eprintln!("orm-kernel: cannot enter {}: {error}", dir.display());
                }
            }
            Job::Clear { reply } => {
                journal.clear();
                let _ = reply.send(evaluator.clear());
            }
            Job::Complete {
                code,
                cursor,
                reply,
            } => {
                let _ = reply.send(evaluator.complete(&code, cursor));
            }
            Job::Inspect {
                code,
                cursor,
                reply,
            } => {
                let _ = reply.send(evaluator.inspect(&code, cursor));
            }
        }
    }
}

/// Runs the journal's cells again in the new evaluation process, output discarded, stdin at
/// end of input; says what it did. A cell that fails now is left out of the journal's future.
fn replay(evaluator: &mut Evaluator, journal: &[String]) -> String {
    if journal.is_empty() {
        return "The evaluation process was replaced; no earlier cell defined variables to restore."
            .to_owned();
    }
    let mut failed = Vec::new();
    for (index, cell) in journal.iter().enumerate() {
        let mut discard = |_event: Event| {};
        if let Err(error) = evaluator.eval(cell, &mut discard) {
            failed.push(format!("#{} ({})", index + 1, error.kind_name()));
            if error.variables_lost() {
                break;
            }
        }
    }
    let first_lines: Vec<String> = journal
        .iter()
        .map(|cell| {
            let line = cell.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            let short: String = line.trim().chars().take(40).collect();
            format!("  {short}")
        })
        .collect();
    let mut note = format!(
        "The evaluation process was replaced: replayed {} earlier cell{} that had succeeded, to \
         restore their variables (set ORM_KERNEL_REPLAY=0 in the kernelspec's env to turn this off):\n{}",
        journal.len(),
        if journal.len() == 1 { "" } else { "s" },
        first_lines.join("\n")
    );
    if !failed.is_empty() {
        note.push_str(&format!(
            "\nThese failed this time, their variables are lost: {}",
            failed.join(", ")
        ));
    }
    note
}

/// Without an evaluator every request gets the start error, so the notebook shows why.
fn answer_failed_start(queue: &mpsc::Receiver<Job>, message: &str) {
    let error = || EvalError::Other(format!("the Rust evaluator did not start: {message}"));
    while let Ok(job) = queue.recv() {
        match job {
            Job::Execute { reply, .. } => drop(reply.send(Executed {
                result: Err(error()),
                notes: Vec::new(),
            })),
            Job::Variables { reply } => drop(reply.send(Err(error()))),
            Job::Clear { reply } => drop(reply.send(Err(error()))),
            Job::EnterDir { .. } => {}
            Job::Complete { reply, .. } => drop(reply.send(Err(error()))),
            Job::Inspect { reply, .. } => drop(reply.send(Err(error()))),
        }
    }
}

fn log_start(evaluator: &Evaluator) {
    let report = evaluator.start_report();
    eprintln!(
        "orm-kernel: evaluator ready in {:.1} s ({}: copy {:.2} s, context {:.1} s, prelude {:.1} s, save {:.2} s)",
        report.total.as_secs_f64(),
        report.cache.describe(),
        report.copy.as_secs_f64(),
        report.context.as_secs_f64(),
        report.prelude.as_secs_f64(),
        report.save.as_secs_f64(),
    );
    for note in &report.notes {
        eprintln!("orm-kernel: note: {note}");
    }
}
