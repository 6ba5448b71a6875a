//! The evaluator: an evcxr context with `orm` as a dependency, started from a prepared folder.

use crate::analysis::{self, Completions, Inspection};
use crate::error::{EvalError, StartError};
use crate::interrupt::Interrupter;
use crate::output::{Event, Findings, Forwarder, Outputs};
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
    /// Kept to load `orm` and the prelude again after [`Evaluator::clear`].
    options: EvaluatorOptions,
    _work_dir: tempfile::TempDir,
}

/// Answers a line a cell reads from stdin (without its newline); gets the prompt (empty for a
/// plain read of stdin) and whether it is a password. See [`StdinReader`] to answer end of input.
pub type InputReader<'a> = &'a dyn Fn(&str, bool) -> String;

/// Answers a cell's read of stdin with a line (without its newline), or `None` for end of input.
/// Gets the prompt (empty for a plain read) and whether it is a password.
pub type StdinReader<'a> = &'a dyn Fn(&str, bool) -> Option<String>;

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
            options: options.clone(),
            _work_dir: started.work_dir,
        })
    }

    /// Forgets every variable and item of earlier cells, as evcxr's `:clear` does, then loads
    /// `orm` and the prelude again (in a new evaluation process; the build cache is kept).
    pub fn clear(&mut self) -> Result<(), EvalError> {
        start::reload(&mut self.context, &self.options).map_err(|error| match error {
            crate::StartError::Prelude(error) => error,
            other => EvalError::Other(other.to_string()),
        })?;
        self.hook_installed = true;
        Ok(())
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
    /// a helper thread while the cell runs). A read of stdin sees end of input at once.
    pub fn eval(
        &mut self,
        cell: &str,
        sink: &mut (dyn FnMut(Event) + Send),
    ) -> Result<Outputs, EvalError> {
        self.eval_cell(cell, sink, None)
    }

    /// [`Evaluator::eval`], answering each line the cell reads from stdin with `input` (an empty
    /// answer is an empty line).
    pub fn eval_with_input(
        &mut self,
        cell: &str,
        sink: &mut (dyn FnMut(Event) + Send),
        input: InputReader<'_>,
    ) -> Result<Outputs, EvalError> {
        self.eval_with_stdin(cell, sink, &|prompt, password| {
            Some(input(prompt, password))
        })
    }

    /// [`Evaluator::eval`], answering each line the cell reads from stdin with `stdin`: a line,
    /// or `None` for end of input (Jupyter's `input_request` when the frontend allows stdin).
    pub fn eval_with_stdin(
        &mut self,
        cell: &str,
        sink: &mut (dyn FnMut(Event) + Send),
        stdin: StdinReader<'_>,
    ) -> Result<Outputs, EvalError> {
        self.eval_cell(cell, sink, Some(stdin))
    }

    fn eval_cell(
        &mut self,
        cell: &str,
        sink: &mut (dyn FnMut(Event) + Send),
        stdin: Option<StdinReader<'_>>,
    ) -> Result<Outputs, EvalError> {
        reject_commands(cell)?;
        let code = derive::expand_models(cell)?;
        reject_commands(&code)?;
        if !self.hook_installed {
            self.install_panic_hook()?;
        }
        let allow_stdin = stdin.is_some();
        let end_of_input = |_: &str, _: bool| None;
        let stdin = stdin.unwrap_or(&end_of_input);
        let input = |prompt: &str, password: bool| {
            stdin(prompt, password).unwrap_or_else(|| runtime_code::END_OF_INPUT.to_owned())
        };
        // A final value bound first keeps its rich display (see `bind_final_value`); if the
        // bound form does not compile (a value borrowing a temporary of its own expression),
        // the cell as written runs instead: a failed compile ran nothing.
        let bound = crate::cells::bind_final_value(&code);
        let first = bound.as_deref().unwrap_or(&code);
        let mut run = self.run(
            &runtime_code::with_sentinel(first, allow_stdin),
            sink,
            &input,
        );
        if bound.is_some() && matches!(run.result, Err(evcxr::Error::CompilationErrors(_))) {
            run = self.run(
                &runtime_code::with_sentinel(&code, allow_stdin),
                sink,
                &input,
            );
        }
        let value_expected = ends_in_value(&code);
        self.interpret(run, cell, allow_stdin, value_expected, sink)
    }

    /// The names and types of the variables cells have defined, in name order.
    pub fn variables(&self) -> Vec<(String, String)> {
        let mut found: Vec<(String, String)> = self
            .context
            .variables_and_types()
            .filter(|(name, _)| !name.starts_with("__orm_eval"))
            .map(|(name, ty)| (name.to_owned(), ty.to_owned()))
            .collect();
        found.sort();
        found
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
            let findings = forwarder.join().unwrap_or_default();
            Run {
                result: result.unwrap_or_else(|panic| {
                    Err(evcxr::Error::Message(format!(
                        "internal error in evcxr: {}",
                        panic_text(&panic)
                    )))
                }),
                interrupted,
                findings,
            }
        })
    }

    fn interpret(
        &mut self,
        run: Run,
        cell: &str,
        allow_stdin: bool,
        value_expected: bool,
        sink: &mut (dyn FnMut(Event) + Send),
    ) -> Result<Outputs, EvalError> {
        let Run {
            result,
            interrupted,
            mut findings,
        } = run;
        // The last display is the cell's value only when the cell ends in an expression and
        // succeeds; otherwise it is a display like the others.
        let value = match findings.last_display.take() {
            Some(bundle) if !value_expected => {
                sink(Event::Display(bundle));
                None
            }
            other => other,
        };
        let judged = self.judge(
            result,
            interrupted,
            &findings,
            cell,
            allow_stdin,
            value.clone(),
        );
        if judged.is_err() {
            if let Some(bundle) = value {
                sink(Event::Display(bundle));
            }
        }
        judged
    }

    fn judge(
        &mut self,
        result: Result<evcxr::EvalOutputs, evcxr::Error>,
        interrupted: bool,
        findings: &Findings,
        cell: &str,
        allow_stdin: bool,
        value: Option<crate::output::MimeBundle>,
    ) -> Result<Outputs, EvalError> {
        let outputs = match result {
            Err(evcxr::Error::SubprocessTerminated(detail)) => {
                self.hook_installed = false;
                return Err(if interrupted {
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
                    runtime_code::cell_prefix(allow_stdin).chars().count(),
                ))
            }
            Ok(outputs) => outputs,
        };
        if interrupted {
            // The cell finished as the process was being killed: the next cell would find it
            // dead, so report the loss now and let the next cell restart it.
            self.hook_installed = false;
            return Err(EvalError::Interrupted);
        }
        let mut data: crate::output::MimeBundle =
            outputs.content_by_mime_type.into_iter().collect();
        if let Some(bundle) = value {
            data.extend(bundle);
        }
        if let Some(block) = data.remove(runtime_code::PANIC_MIME) {
            let (location, message) = runtime_code::parse_panic(&block);
            let source = self.context.last_source().unwrap_or_default();
            return Err(EvalError::Panic {
                message,
                location: diagnostics::panic_location(&location, &source, cell),
            });
        }
        if let Some(first) = findings.panic_lines.first() {
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
                message: findings.stderr_tail.last().cloned().unwrap_or_default(),
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
        let code = format!(
            "{}\n{}",
            runtime_code::panic_hook(),
            runtime_code::io_bridge()
        );
        let mut last = Ok(Outputs::default());
        for _ in 0..2 {
            let mut discard = |_event: Event| {};
            let run = self.run(&code, &mut discard, &|_, _| {
                runtime_code::END_OF_INPUT.to_owned()
            });
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
    findings: Findings,
}

/// Whether evcxr shows a value for `code`: its last statement is an expression (or a macro
/// call) without a semicolon. Code that does not parse as a block is taken to end in one.
fn ends_in_value(code: &str) -> bool {
    let Ok(block) = syn::parse_str::<syn::Block>(&format!("{{\n{code}\n}}")) else {
        return true;
    };
    match block.stmts.last() {
        Some(syn::Stmt::Expr(_, None)) => true,
        Some(syn::Stmt::Macro(mac)) => mac.semi_token.is_none(),
        _ => false,
    }
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

/// Locks `mutex`, poisoned or not: a poisoned lock only means a thread panicked while holding
/// it, and what it guards here (the evaluator's child handle, interrupt flags, the kernel's
/// queues, the grader's progress) stays valid. The one copy the kernel and the grader use.
pub fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
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
