//! Expands `#[derive(Model)]` into plain Rust before evcxr sees a cell (DESIGN fact 3: evcxr's
//! type inference cannot see through proc macros), keeping the user's line numbers. The same
//! generator serves the proc macro, so both spellings behave alike.

use crate::error::EvalError;

/// The cell with every `#[derive(Model)]` struct written out.
pub(crate) fn expand_models(cell: &str) -> Result<String, EvalError> {
    orm_codegen::rewrite_cell(cell).map_err(|error| EvalError::Derive {
        line: error.line,
        column: error.column,
        message: error.message,
    })
}
