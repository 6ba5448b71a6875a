//! The code generator behind `#[derive(Model)]`, shared by two callers: the proc macro, and the
//! notebook evaluation layer, which expands derives into plain Rust before evcxr sees a cell
//! (evcxr's type inference does not expand proc macros: DESIGN fact 3).

mod cell;
mod db_enum;
mod from_row;
mod model;

pub use cell::{rewrite_cell, CellError};
pub use db_enum::expand_db_enum;
pub use from_row::expand_from_row;
pub use model::expand_model;

/// `OnHold` → `on_hold`: an identifier in lower snake case, as the derives name things by
/// default (a `DbEnum` variant's stored string; a model's table, before its `s`).
fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, ch) in name.chars().enumerate() {
        if ch.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(ch.to_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}
