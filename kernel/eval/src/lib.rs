//! The evaluation layer shared by the Jupyter kernel and the grader: Rust cells run one after
//! another in an [evcxr](https://github.com/evcxr/evcxr) context with the `orm` crate preloaded.
//!
//! # Required in every binary
//!
//! evcxr runs cells in a subprocess that is the current binary started again. So the first line
//! of `main()` of every program that makes an [`Evaluator`] must be
//!
//! ```text
//! fn main() {
//!     orm_eval::runtime_hook();
//!     // ...
//! }
//! ```
//!
//! Build such binaries with `--release`: evcxr (with rust-analyzer inside) is slow unoptimised.
//!
//! # What it adds to evcxr
//!
//! - `orm` is a path dependency and `use orm::prelude::*;` is in scope. The built dependency is
//!   kept in a per-user cache and copied for each evaluator, so `orm` is compiled once, not at
//!   every start ([`default_cache_dir`], [`StartReport`]).
//! - `#[derive(Model)]` is expanded to plain Rust before evcxr sees a cell, so evcxr can infer
//!   the types of variables holding models and queries.
//! - evcxr's `:commands` and `!shell` lines are refused, never run: graded submissions are
//!   untrusted.
//! - Failures are values ([`EvalError`]): compile errors with places in the user's cell, panics
//!   (which evcxr reports as success), interrupts and crashes of the evaluation process.
//! - Output arrives while the cell runs ([`Event`]), in order: every `evcxr_display()` call and
//!   every `jupyter::display(mime, content)` is its own display, text printed without a newline
//!   shows at the end of the cell, `jupyter::display_with_id` / `jupyter::update_display` name
//!   an output and replace it, `jupyter::clear_output(wait)` clears.
//! - stdin: a cell's read sees end of input at once ([`Evaluator::eval`], the grader), or is
//!   answered line by line ([`Evaluator::eval_with_stdin`], a frontend's `input_request`).
//!
//! ```no_run
//! use orm_eval::{Evaluator, EvaluatorOptions, Event};
//!
//! let mut evaluator = Evaluator::start(&EvaluatorOptions::default())?;
//! let mut print = |event: Event| {
//!     if let Event::Stdout(text) = event {
//!         print!("{text}");
//!     }
//! };
//! evaluator.eval("let answer = 40 + 2;", &mut print)?;
//! let outputs = evaluator.eval("answer", &mut print)?;
//! assert_eq!(outputs.data["text/plain"], "42");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

mod analysis;
mod cells;
mod completeness;
mod derive;
mod diagnostics;
mod error;
mod evaluator;
mod guard;
mod interrupt;
mod output;
mod prepared;
mod render;
mod runtime_code;
mod start;

pub use analysis::{Completion, Completions, Inspection};
pub use cells::has_statements;
pub use completeness::{is_complete, Completeness};
pub use error::{CellSpan, Diagnostic, EvalError, StartError};
pub use evaluator::{lock, Evaluator, InputReader, StdinReader};
pub use interrupt::Interrupter;
pub use output::{Event, MimeBundle, Outputs};
pub use prepared::{default_cache_dir, source_files};
pub use render::render_error;
pub use runtime_code::unquote_debug;
pub use start::{default_orm_path, CacheUse, EvaluatorOptions, StartReport, DEFAULT_PRELUDE};

/// Must be the first call in `main()` of every binary using this crate: when the binary was
/// started as evcxr's evaluation subprocess, this runs that and never returns.
pub fn runtime_hook() {
    evcxr::runtime_hook();
}
