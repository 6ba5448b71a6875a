//! The evaluator: an evcxr context with `orm` as a dependency, started from a prepared folder.

use crate::error::{io_error, EvalError, StartError};
use crate::interrupt::Interrupter;
use crate::output::{Event, Forwarder, Outputs};
use crate::{derive, diagnostics, guard, prepared, runtime_code};
use evcxr::{CommandContext, EvalCallbacks, EvalContext, EvalContextOutputs};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The prelude evaluated once per context (its `use` persists in evcxr's state).
pub const DEFAULT_PRELUDE: &str = "use orm::prelude::*;";

/// Where the `orm` sources are: `$ORM_EVAL_ORM_PATH`, else the workspace's `orm/` folder as it
/// was when this crate was compiled.
pub fn default_orm_path() -> PathBuf {
    match std::env::var_os("ORM_EVAL_ORM_PATH").filter(|p| !p.is_empty()) {
        Some(path) => PathBuf::from(path),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../orm"),
    }
}

/// How to start an [`Evaluator`].
#[derive(Debug, Clone)]
pub struct EvaluatorOptions {
    /// The `orm` crate's folder, added as a path dependency.
    pub orm_path: PathBuf,
    /// Where prepared folders are kept (see [`prepared`](crate::default_cache_dir)).
    pub cache_dir: PathBuf,
    /// Rust evaluated before the first cell; its `use` items stay in scope.
    pub prelude: String,
    /// Whether to start from (and save) a prepared folder. Without it every start builds `orm`.
    pub use_prepared: bool,
}

impl Default for EvaluatorOptions {
    fn default() -> Self {
        EvaluatorOptions {
            orm_path: default_orm_path(),
            cache_dir: prepared::default_cache_dir(),
            prelude: DEFAULT_PRELUDE.to_owned(),
            use_prepared: true,
        }
    }
}

/// How a start went, for logs and for measuring cold against warm starts.
#[derive(Debug, Clone)]
pub struct StartReport {
    /// Whether a prepared folder was found and copied (warm start).
    pub warm: bool,
    /// Time to copy the prepared folder.
    pub copy: Duration,
    /// Time for evcxr to create its context (it compiles a warm-up cell).
    pub context: Duration,
    /// Time to add `orm` and build and run the prelude.
    pub prelude: Duration,
    /// Time to save the prepared folder after a cold start.
    pub save: Duration,
    pub total: Duration,
    /// This evaluator's working folder.
    pub work_dir: PathBuf,
    /// Things the user may want to know (an `evcxr.toml` in the current folder, …).
    pub notes: Vec<String>,
}

/// Runs Rust cells one after another, keeping variables between them.
///
/// Make it on the thread that will use it; hand [`Evaluator::interrupter`] to other threads.
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

/// A completion candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The text to insert.
    pub text: String,
    /// What it is: "function", "struct", "variable", …
    pub kind: String,
}

/// Completions for the text between byte offsets `start` and `end` of the cell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Completions {
    pub matches: Vec<Completion>,
    pub start: usize,
    pub end: usize,
}

/// What hover shows for the name at the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    pub text: String,
    /// The same as HTML.
    pub html: String,
}

/// Answers a cell's request for input (`evcxr_input::get_string`); gets the prompt and whether it
/// is a password.
pub type InputReader<'a> = &'a dyn Fn(&str, bool) -> String;

/// evcxr reads its folder and configuration from environment variables, so contexts are made
/// one at a time.
static CONTEXT_CREATION: Mutex<()> = Mutex::new(());

impl Evaluator {
    /// Starts an evaluator: copies the prepared folder (or builds `orm` and saves one), makes
    /// the evcxr context and evaluates the prelude.
    pub fn start(options: &EvaluatorOptions) -> Result<Evaluator, StartError> {
        let started = Instant::now();
        let mut notes = Vec::new();
        if Path::new("evcxr.toml").exists() {
            notes.push(
                "an evcxr.toml in the current folder overrides evcxr's settings; its `tmpdir` \
                 would defeat the prepared build"
                    .to_owned(),
            );
        }
        let key = prepared::cache_key(&options.orm_path, &options.prelude)?;
        let run_dir = options.cache_dir.join("run");
        std::fs::create_dir_all(&run_dir)
            .map_err(io_error(format!("creating {}", run_dir.display())))?;
        prepared::remove_abandoned_work_dirs(&run_dir);
        let work_dir = tempfile::Builder::new()
            .prefix(&format!("{}-", std::process::id()))
            .tempdir_in(&run_dir)
            .map_err(io_error(format!("creating a folder in {}", run_dir.display())))?;

        let found = options
            .use_prepared
            .then(|| prepared::find(&options.cache_dir, &key))
            .flatten();
        let copy_started = Instant::now();
        if let Some(prepared_dir) = &found {
            prepared::copy_tree(prepared_dir, work_dir.path()).map_err(io_error(format!(
                "copying the prepared folder {}",
                prepared_dir.display()
            )))?;
        }
        let copy = copy_started.elapsed();

        let context_started = Instant::now();
        let (eval_context, outputs) = create_context(work_dir.path(), &options.cache_dir)?;
        let context_time = context_started.elapsed();

        let prelude_started = Instant::now();
        let context = add_orm(eval_context, &options.orm_path, &options.prelude, &outputs)?;
        let prelude = prelude_started.elapsed();

        let mut save = Duration::ZERO;
        if options.use_prepared && found.is_none() {
            let save_started = Instant::now();
            prepared::save(&options.cache_dir, &key, work_dir.path())?;
            save = save_started.elapsed();
        }

        let interrupter = Interrupter::new(context.process_handle());
        let mut evaluator = Evaluator {
            context,
            outputs,
            interrupter,
            hook_installed: false,
            report: StartReport {
                warm: found.is_some(),
                copy,
                context: context_time,
                prelude,
                save,
                total: Duration::ZERO,
                work_dir: work_dir.path().to_owned(),
                notes,
            },
            _work_dir: work_dir,
        };
        evaluator.install_panic_hook().map_err(StartError::Prelude)?;
        evaluator.report.total = started.elapsed();
        Ok(evaluator)
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
                std::mem::take(&mut forwarder.panic_lines)
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
            let panic_lines = forwarder.join().unwrap_or_default();
            Run {
                result: result.unwrap_or_else(|panic| {
                    Err(evcxr::Error::Message(format!(
                        "internal error in evcxr: {}",
                        panic_text(&panic)
                    )))
                }),
                interrupted,
                panic_lines,
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
            Err(error) => return Err(diagnostics::from_evcxr(error)),
            Ok(outputs) => outputs,
        };
        if run.interrupted {
            // The cell finished as the process was being killed: the next cell would find it
            // dead, so report the loss now and let the next cell restart it.
            self.hook_installed = false;
            return Err(EvalError::Interrupted);
        }
        let mut data: crate::output::MimeBundle = outputs.content_by_mime_type.into_iter().collect();
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

    /// Completions at byte offset `cursor` of `code`.
    pub fn complete(&mut self, code: &str, cursor: usize) -> Result<Completions, EvalError> {
        let cursor = floor_char_boundary(code, cursor);
        let analysed = Analysed::new(code, cursor);
        let context = &mut self.context;
        let found = std::panic::catch_unwind(AssertUnwindSafe(|| {
            context.completions(&analysed.text, analysed.cursor)
        }))
        .map_err(|panic| EvalError::Other(format!("completion failed: {}", panic_text(&panic))))?
        .map_err(|error| EvalError::Other(format!("completion failed: {error}")))?;
        let start = analysed.back(found.start_offset).unwrap_or(cursor);
        let end = analysed.back(found.end_offset).unwrap_or(cursor);
        Ok(Completions {
            matches: found
                .completions
                .into_iter()
                .map(|c| Completion {
                    text: c.code,
                    kind: c.kind.to_owned(),
                })
                .collect(),
            start: start.min(end),
            end: end.max(start),
        })
    }

    /// Hover text for the name at byte offset `cursor` of `code`, if rust-analyzer knows it.
    pub fn inspect(&mut self, code: &str, cursor: usize) -> Result<Option<Inspection>, EvalError> {
        let cursor = end_of_word(code, floor_char_boundary(code, cursor));
        if code[..cursor].trim().is_empty() {
            return Ok(None);
        }
        let analysed = Analysed::new(code, cursor);
        let context = &mut self.context;
        let found = std::panic::catch_unwind(AssertUnwindSafe(|| {
            context.hover_at(&analysed.text, analysed.cursor)
        }))
        .map_err(|panic| EvalError::Other(format!("inspection failed: {}", panic_text(&panic))))?
        .map_err(|error| EvalError::Other(format!("inspection failed: {error}")))?;
        let (text, html) = found;
        if text.trim().is_empty() || text == "No documentation found" {
            return Ok(None);
        }
        Ok(Some(Inspection { text, html }))
    }
}

/// The outcome of one evcxr evaluation, before it is judged.
struct Run {
    result: Result<evcxr::EvalOutputs, evcxr::Error>,
    interrupted: bool,
    panic_lines: Vec<String>,
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

/// A cell as handed to rust-analyzer: command lines blanked, models expanded when that leaves
/// the cursor's line in place (the expansion keeps line numbers, not columns).
struct Analysed {
    text: String,
    cursor: usize,
    /// Line starts of the original and analysed text for the cursor's line.
    original_line_start: usize,
    analysed_line_start: usize,
}

impl Analysed {
    fn new(code: &str, cursor: usize) -> Analysed {
        let masked = guard::mask_commands(code);
        let line_index = code[..cursor].matches('\n').count();
        let original_line_start = code[..cursor].rfind('\n').map_or(0, |i| i + 1);
        let identity = Analysed {
            text: masked.clone(),
            cursor,
            original_line_start,
            analysed_line_start: original_line_start,
        };
        let Ok(expanded) = derive::expand_models(&masked) else {
            return identity;
        };
        let same_line = expanded.split('\n').nth(line_index) == masked.split('\n').nth(line_index);
        if expanded == masked || !same_line {
            return identity;
        }
        let analysed_line_start = line_start(&expanded, line_index);
        Analysed {
            cursor: analysed_line_start + (cursor - original_line_start),
            text: expanded,
            original_line_start,
            analysed_line_start,
        }
    }

    /// An offset in the analysed text back to the original, when it is on the cursor's line.
    fn back(&self, offset: usize) -> Option<usize> {
        offset
            .checked_sub(self.analysed_line_start)
            .map(|column| self.original_line_start + column)
    }
}

/// The byte offset where line `index` (0-based) of `text` starts.
fn line_start(text: &str, index: usize) -> usize {
    match index {
        0 => 0,
        _ => text
            .match_indices('\n')
            .nth(index - 1)
            .map_or(text.len(), |(i, _)| i + 1),
    }
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// Moves the cursor to the end of the identifier it is in, so hover sees the whole name.
fn end_of_word(text: &str, cursor: usize) -> usize {
    cursor
        + text[cursor..]
            .char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
            .map_or(text.len() - cursor, |(i, _)| i)
}

/// A poisoned lock only means a thread panicked while holding it; the child handle is still valid.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

/// Makes an evcxr context working in `work_dir`, with evcxr's configuration folder pointed at
/// an empty one so that a user's `~/.config/evcxr` cannot change what runs.
fn create_context(
    work_dir: &Path,
    cache_dir: &Path,
) -> Result<(EvalContext, EvalContextOutputs), StartError> {
    let config_dir = cache_dir.join("evcxr-config");
    std::fs::create_dir_all(&config_dir)
        .map_err(io_error(format!("creating {}", config_dir.display())))?;
    let _guard = lock(&CONTEXT_CREATION);
    let saved: Vec<_> = ["EVCXR_TMPDIR", "EVCXR_CONFIG_DIR"]
        .iter()
        .map(|name| (*name, std::env::var_os(name)))
        .collect();
    std::env::set_var("EVCXR_TMPDIR", work_dir);
    std::env::set_var("EVCXR_CONFIG_DIR", &config_dir);
    let created = EvalContext::new();
    for (name, value) in saved {
        match value {
            Some(value) => std::env::set_var(name, value),
            None => std::env::remove_var(name),
        }
    }
    created.map_err(|error| StartError::Context(error.to_string()))
}

/// Adds `orm` as a dependency and evaluates the prelude, then wraps the context for completion
/// and hover (which evcxr offers only through `CommandContext`).
fn add_orm(
    mut context: EvalContext,
    orm_path: &Path,
    prelude: &str,
    outputs: &EvalContextOutputs,
) -> Result<CommandContext, StartError> {
    let orm_path = orm_path
        .canonicalize()
        .map_err(io_error(format!("finding the orm crate at {}", orm_path.display())))?;
    let mut state = context.state();
    state
        .add_dep("orm", &format!("{{ path = {} }}", toml_string(&orm_path)))
        .map_err(|error| StartError::Prelude(diagnostics::from_evcxr(error)))?;
    let code = format!("{prelude}\n{}", runtime_code::helpers());
    let result = context.eval_with_state(&code, state);
    // Whatever the prelude printed (cargo warnings are not captured) is not the user's output.
    while outputs.stdout.try_recv().is_ok() {}
    while outputs.stderr.try_recv().is_ok() {}
    result.map_err(|error| StartError::Prelude(diagnostics::from_evcxr(error)))?;
    Ok(CommandContext::with_eval_context(context))
}

/// A TOML basic string.
fn toml_string(path: &Path) -> String {
    let mut out = String::from("\"");
    for c in path.to_string_lossy().chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_strings_escape_quotes_and_backslashes() {
        assert_eq!(toml_string(Path::new("/a \"b\"\\c")), r#""/a \"b\"\\c""#);
    }

    #[test]
    fn words_extend_to_their_end() {
        assert_eq!(end_of_word("String::new()", 3), 6);
        assert_eq!(end_of_word("Vec", 3), 3);
        assert_eq!(end_of_word("été x", 2), 5);
    }
}
