//! The evaluator: an evcxr context with `orm` as a dependency, started from a prepared folder.

use crate::analysis::{self, Completions, Inspection};
use crate::error::{EvalError, StartError};
use crate::interrupt::Interrupter;
use crate::output::{Event, Forwarder, Outputs};
use crate::start::{self, EvaluatorOptions, StartReport};
use crate::{derive, diagnostics, guard, runtime_code};
use evcxr::{CommandContext, EvalCallbacks, EvalContextOutputs};
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;

/// Runs Rust cells one after another, keeping variables between them.
///
/// Make it on the thread that will use it; hand [`Evaluator::interrupter`] to other threads.
///
/// The context is held as evcxr's `CommandContext` because evcxr 0.22 offers completion and
/// hover only there (`EvalContext::completions` is crate-private) and a `CommandContext` owns its
/// `EvalContext` for good. Cells reach it only after `guard` has refused every line evcxr would
/// take as a `:command` or `!shell` line, so what runs is exactly what `EvalContext::eval` runs.
pub struct Evaluator {
    // Dropped before `_work_dir`, so the process has ended before its folder goes.
    context: CommandContext,
    outputs: EvalContextOutputs,
    interrupter: Interrupter,
    /// Whether the panic hook is installed in the current evaluation process.
    hook_installed: bool,
    report: StartReport,
    _work_dir: tempfile::TempDir,
}

/// Answers a cell's request for input (`evcxr_input::get_string`); gets the prompt and whether it
/// is a password.
pub type InputReader<'a> = &'a dyn Fn(&str, bool) -> String;

impl Evaluator {
    /// Starts an evaluator: copies the prepared folder (or builds `orm` and saves one), makes
    /// the evcxr context and evaluates the prelude (see [`EvaluatorOptions`]).
    pub fn start(options: &EvaluatorOptions) -> Result<Evaluator, StartError> {
        let started = start::start(options)?;
        Ok(Evaluator {
            interrupter: Interrupter::new(started.context.process_handle()),
            context: started.context,
            outputs: started.outputs,
            hook_installed: true,
            report: started.report,
            _work_dir: started.work_dir,
        })
    }

    /// Completions at byte offset `cursor` of `code`.
    pub fn complete(&mut self, code: &str, cursor: usize) -> Result<Completions, EvalError> {
        analysis::complete(&mut self.context, code, cursor)
    }

    /// Hover text for the name at byte offset `cursor` of `code`, if rust-analyzer knows it.
    pub fn inspect(&mut self, code: &str, cursor: usize) -> Result<Option<Inspection>, EvalError> {
        analysis::inspect(&mut self.context, code, cursor)
    }

    /// How the start went.
    pub fn start_report(&self) -> &StartReport {
        &self.report
    }

    /// A handle to stop the running cell from another thread.
    pub fn interrupter(&self) -> Interrupter {
        self.interrupter.clone()
    }

    /// Runs one cell. `sink` receives what the cell prints, as it prints it (it is called from
    /// a helper thread while the cell runs).
    pub fn eval(
        &mut self,
        cell: &str,
        sink: &mut (dyn FnMut(Event) + Send),
    ) -> Result<Outputs, EvalError> {
        self.eval_with_input(cell, sink, &|_, _| String::new())
    }

    /// [`Evaluator::eval`], answering the cell's requests for input with `input`.
    pub fn eval_with_input(
        &mut self,
        cell: &str,
        sink: &mut (dyn FnMut(Event) + Send),
        input: InputReader<'_>,
    ) -> Result<Outputs, EvalError> {
        reject_commands(cell)?;
        let code = derive::expand_models(cell)?;
        reject_commands(&code)?;
        if !self.hook_installed {
            self.install_panic_hook()?;
        }
        let code = runtime_code::with_sentinel(&code);
        let run = self.run(&code, sink, input);
        self.interpret(run, cell)
    }

    /// Compiles and runs `code` (already checked: no command lines) while forwarding its output.
    fn run(
        &mut self,
        code: &str,
        sink: &mut (dyn FnMut(Event) + Send),
        input: InputReader<'_>,
    ) -> Run {
        let (done_tx, done_rx) = crossbeam_channel::bounded::<()>(0);
        let process_id = lock(&self.context.process_handle()).id();
        let outputs = &self.outputs;
        let context = &mut self.context;
        let interrupter = &self.interrupter;
        std::thread::scope(|scope| {
            let forwarder = scope.spawn(move || {
                let mut forwarder = Forwarder::new(sink, process_id);
                forwarder.run(&outputs.stdout, &outputs.stderr, &done_rx);
                forwarder.into_findings()
            });
            // evcxr does not export the request type; the closure's type is inferred from the field.
            let mut callbacks = EvalCallbacks {
                input_reader: &|request| input(&request.prompt, request.is_password),
            };
            interrupter.begin();
            // Safe to hand to evcxr only because `reject_commands` passed (see guard.rs): with
            // no command line at its head, evcxr evaluates the whole cell as Rust.
            let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
                context.execute_with_callbacks(code, &mut callbacks)
            }));
            let interrupted = interrupter.end();
            drop(done_tx);
            let (panic_lines, stderr_tail) = forwarder.join().unwrap_or_default();
            Run {
                result: result.unwrap_or_else(|panic| {
                    Err(evcxr::Error::Message(format!(
                        "internal error in evcxr: {}",
                        panic_text(&panic)
                    )))
                }),
                interrupted,
                panic_lines,
                stderr_tail,
            }
        })
    }

    fn interpret(&mut self, run: Run, cell: &str) -> Result<Outputs, EvalError> {
        let outputs = match run.result {
            Err(evcxr::Error::SubprocessTerminated(detail)) => {
                self.hook_installed = false;
                return Err(if run.interrupted {
                    EvalError::Interrupted
                } else {
                    EvalError::ProcessEnded {
                        detail: detail.trim().to_owned(),
                    }
                });
            }
            Err(error) => {
                return Err(diagnostics::shift_first_line(
                    diagnostics::from_evcxr(error),
                    runtime_code::SENTINEL_PREFIX.chars().count(),
                ))
            }
            Ok(outputs) => outputs,
        };
        if run.interrupted {
            // The cell finished as the process was being killed: the next cell would find it
            // dead, so report the loss now and let the next cell restart it.
            self.hook_installed = false;
            return Err(EvalError::Interrupted);
        }
        let mut data: crate::output::MimeBundle =
            outputs.content_by_mime_type.into_iter().collect();
        if let Some(block) = data.remove(runtime_code::PANIC_MIME) {
            let (location, message) = runtime_code::parse_panic(&block);
            let source = self.context.last_source().unwrap_or_default();
            return Err(EvalError::Panic {
                message,
                location: diagnostics::panic_location(&location, &source, cell),
            });
        }
        if let Some(first) = run.panic_lines.first() {
            return Err(EvalError::Panic {
                message: "see the message on stderr".to_owned(),
                location: first
                    .split("panicked at ")
                    .nth(1)
                    .map(|l| l.trim_end_matches(':').to_owned()),
            });
        }
        // evcxr drops the variables a cell defined when `?` returned an error from it (after
        // printing the error on stderr); the sentinel is such a variable.
        let sentinel_kept = self
            .context
            .variables_and_types()
            .any(|(name, _)| name == runtime_code::SENTINEL);
        if !sentinel_kept && code_has_tokens(cell) {
            return Err(EvalError::ErrorReturned {
                message: run.stderr_tail.last().cloned().unwrap_or_default(),
            });
        }
        // A cell ending in a call like `println!(..)` has the value `()`; showing it is noise.
        if data.len() == 1 && data.get("text/plain").map(String::as_str) == Some("()") {
            data.clear();
        }
        Ok(Outputs { data })
    }

    /// Installs the panic hook in the current process; a first failure may only be evcxr
    /// noticing that the process died (it restarts it), so it is tried twice.
    fn install_panic_hook(&mut self) -> Result<(), EvalError> {
        let code = runtime_code::panic_hook();
        let mut last = Ok(Outputs::default());
        for _ in 0..2 {
            let mut discard = |_event: Event| {};
            let run = self.run(&code, &mut discard, &|_, _| String::new());
            last = match run.result {
                Ok(_) => {
                    self.hook_installed = true;
                    return Ok(());
                }
                Err(evcxr::Error::SubprocessTerminated(detail)) => {
                    Err(EvalError::ProcessEnded { detail })
                }
                Err(error) => Err(diagnostics::from_evcxr(error)),
            };
        }
        last.map(drop)
    }
}

/// The outcome of one evcxr evaluation, before it is judged.
struct Run {
    result: Result<evcxr::EvalOutputs, evcxr::Error>,
    interrupted: bool,
    panic_lines: Vec<String>,
    /// The last lines the cell wrote to stderr.
    stderr_tail: Vec<String>,
}

/// Whether `code` holds anything but blanks (evcxr skips empty cells; they define nothing).
fn code_has_tokens(code: &str) -> bool {
    !code.trim().is_empty()
}

fn reject_commands(code: &str) -> Result<(), EvalError> {
    match guard::command_lines(code).first() {
        Some(command) => {
            let (line, message) = guard::rejection(command, code);
            Err(EvalError::Rejected { line, message })
        }
        None => Ok(()),
    }
}

/// A poisoned lock only means a thread panicked while holding it; the child handle is still valid.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}
