//! What can go wrong when a cell runs or an evaluator starts, as values a caller can show or grade.

/// A place in the user's own cell (1-based lines and columns, end column exclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellSpan {
    /// The first line.
    pub start_line: usize,
    /// The first column.
    pub start_column: usize,
    /// The last line.
    pub end_line: usize,
    /// The column after the last one.
    pub end_column: usize,
    /// What the compiler says about this place ("expected `i32`, found `&str`"); may be empty.
    pub label: String,
    /// Whether this is the main place of the diagnostic.
    pub is_primary: bool,
}

/// One compiler diagnostic, its places already mapped back to the user's cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The compiler's headline, e.g. "mismatched types".
    pub message: String,
    /// The error code, e.g. "E0308", when rustc gives one.
    pub code: Option<String>,
    /// Places in the cell; empty when the error is in code the user did not write.
    pub spans: Vec<CellSpan>,
    /// rustc's "help:" suggestions.
    pub help: Vec<String>,
}

impl Diagnostic {
    /// The primary place, or the first one, if any.
    pub fn primary_span(&self) -> Option<&CellSpan> {
        self.spans
            .iter()
            .find(|s| s.is_primary)
            .or_else(|| self.spans.first())
    }
}

/// Why a cell produced no result.
///
/// Its `Display` is one line for logs and the grader's reports ([`crate::render_error`] makes
/// the multi-line form frontends show); [`EvalError::kind_name`] is Jupyter's `ename`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// The cell did not compile.
    #[error("{}", compile_summary(.0))]
    Compile(Vec<Diagnostic>),
    /// `#[derive(Model)]` could not be expanded (the struct is malformed for the ORM).
    #[error("#[derive(Model)] error at line {line}, column {column}: {message}")]
    Derive {
        /// 1-based line in the cell.
        line: usize,
        /// 1-based column in the cell.
        column: usize,
        /// What is wrong with the struct.
        message: String,
    },
    /// The cell holds a `:command` or `!shell` line; those are never run.
    #[error("line {line}: {message}")]
    Rejected {
        /// 1-based line of the refused line in the cell.
        line: usize,
        /// Why it was refused, and what to do instead.
        message: String,
    },
    /// The cell panicked; variables defined by the cell are gone, earlier ones are kept.
    #[error("the cell panicked{}: {message}", at_location(.location))]
    Panic {
        /// The panic's message.
        message: String,
        /// Where it panicked (`line L, column C` of the cell, or a file), when known.
        location: Option<String>,
    },
    /// `?` returned an error from the cell (evcxr printed it on stderr); the variables the cell
    /// defined are gone, earlier ones are kept.
    #[error("error returned by `?`: {message}")]
    ErrorReturned {
        /// The error's `Debug` text, as evcxr printed it.
        message: String,
    },
    /// The cell was interrupted; the evaluation process was restarted and all variables are gone.
    #[error("the cell was interrupted (variables were lost)")]
    Interrupted,
    /// The evaluation process ended (exit, abort, crash); it was restarted and all variables are gone.
    #[error("the evaluation process ended (variables were lost){}", detail_suffix(.detail))]
    ProcessEnded {
        /// What evcxr said about the end (an exit status, a signal), may be empty.
        detail: String,
    },
    /// Anything else evcxr reports, e.g. a variable whose type it could not infer.
    #[error("{0}")]
    Other(String),
}

/// ` at line 2, column 5` for a known place, else nothing.
fn at_location(location: &Option<String>) -> String {
    location
        .as_ref()
        .map(|location| format!(" at {location}"))
        .unwrap_or_default()
}

/// `: <detail>` when evcxr said something, else nothing.
fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

/// `error[E0308]: mismatched types (line 2, column 5)`, one line per diagnostic.
fn compile_summary(diagnostics: &[Diagnostic]) -> String {
    let lines: Vec<String> = diagnostics
        .iter()
        .map(|d| {
            let mut line = match &d.code {
                Some(code) => format!("error[{code}]: {}", d.message),
                None => format!("error: {}", d.message),
            };
            if let Some(span) = d.primary_span() {
                line.push_str(&format!(
                    " (line {}, column {})",
                    span.start_line, span.start_column
                ));
            }
            line
        })
        .collect();
    lines.join("\n")
}

impl EvalError {
    /// A short name for the kind of error, used as Jupyter's `ename`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            EvalError::Compile(_) => "CompileError",
            EvalError::Derive { .. } => "DeriveError",
            EvalError::Rejected { .. } => "CommandRejected",
            EvalError::Panic { .. } => "Panic",
            EvalError::ErrorReturned { .. } => "Error",
            EvalError::Interrupted => "Interrupted",
            EvalError::ProcessEnded { .. } => "ProcessEnded",
            EvalError::Other(_) => "Error",
        }
    }

    /// Whether the variables of earlier cells were lost.
    pub fn variables_lost(&self) -> bool {
        matches!(
            self,
            EvalError::Interrupted | EvalError::ProcessEnded { .. }
        )
    }
}

/// Why an evaluator could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Files of the prepared cache or of the working copy could not be read or written.
    #[error("{what}: {source}")]
    Io {
        /// What was being done, e.g. "copying the prepared folder".
        what: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// evcxr could not create its context (no cargo/rustc on PATH, …).
    #[error("could not start the Rust evaluation context: {0}")]
    Context(#[source] evcxr::Error),
    /// The prelude (`use orm::prelude::*;`, the `orm` dependency) did not build or run.
    #[error("the orm prelude did not build: {0}")]
    Prelude(#[source] EvalError),
}

pub(crate) fn io_error(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> StartError {
    let what = what.into();
    move |source| StartError::Io { what, source }
}
