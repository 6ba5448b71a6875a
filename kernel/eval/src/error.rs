//! What can go wrong when a cell runs or an evaluator starts, as values a caller can show or grade.

use std::fmt;

/// A place in the user's own cell (1-based lines and columns, end column exclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellSpan {
    pub start_line: usize,
    pub start_column: usize,
    pub end_line: usize,
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvalError {
    /// The cell did not compile.
    Compile(Vec<Diagnostic>),
    /// `#[derive(Model)]` could not be expanded (the struct is malformed for the ORM).
    Derive {
        line: usize,
        column: usize,
        message: String,
    },
    /// The cell holds a `:command` or `!shell` line; those are never run.
    Rejected { line: usize, message: String },
    /// The cell panicked; variables defined by the cell are gone, earlier ones are kept.
    Panic {
        message: String,
        location: Option<String>,
    },
    /// `?` returned an error from the cell (evcxr printed it on stderr); the variables the cell
    /// defined are gone, earlier ones are kept.
    ErrorReturned { message: String },
    /// The cell was interrupted; the evaluation process was restarted and all variables are gone.
    Interrupted,
    /// The evaluation process ended (exit, abort, crash); it was restarted and all variables are gone.
    ProcessEnded { detail: String },
    /// Anything else evcxr reports, e.g. a variable whose type it could not infer.
    Other(String),
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

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalError::Compile(diagnostics) => {
                for (i, d) in diagnostics.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    match &d.code {
                        Some(code) => write!(f, "error[{code}]: {}", d.message)?,
                        None => write!(f, "error: {}", d.message)?,
                    }
                    if let Some(span) = d.primary_span() {
                        write!(
                            f,
                            " (line {}, column {})",
                            span.start_line, span.start_column
                        )?;
                    }
                }
                Ok(())
            }
            EvalError::Derive {
                line,
                column,
                message,
            } => write!(
                f,
                "#[derive(Model)] error at line {line}, column {column}: {message}"
            ),
            EvalError::Rejected { line, message } => write!(f, "line {line}: {message}"),
            EvalError::Panic { message, location } => match location {
                Some(location) => write!(f, "the cell panicked at {location}: {message}"),
                None => write!(f, "the cell panicked: {message}"),
            },
            EvalError::ErrorReturned { message } => write!(f, "error returned by `?`: {message}"),
            EvalError::Interrupted => {
                write!(f, "the cell was interrupted (variables were lost)")
            }
            EvalError::ProcessEnded { detail } => {
                write!(f, "the evaluation process ended (variables were lost)")?;
                if !detail.is_empty() {
                    write!(f, ": {detail}")?;
                }
                Ok(())
            }
            EvalError::Other(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for EvalError {}

/// Why an evaluator could not start.
#[derive(Debug)]
pub enum StartError {
    /// Files of the prepared cache or of the working copy could not be read or written.
    Io {
        what: String,
        source: std::io::Error,
    },
    /// evcxr could not create its context (no cargo/rustc on PATH, …).
    Context(String),
    /// The prelude (`use orm::prelude::*;`, the `orm` dependency) did not build or run.
    Prelude(EvalError),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Io { what, source } => write!(f, "{what}: {source}"),
            StartError::Context(message) => {
                write!(f, "could not start the Rust evaluation context: {message}")
            }
            StartError::Prelude(error) => {
                write!(f, "the orm prelude did not build: {error}")
            }
        }
    }
}

impl std::error::Error for StartError {}

pub(crate) fn io_error(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> StartError {
    let what = what.into();
    move |source| StartError::Io { what, source }
}
