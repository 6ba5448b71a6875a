//! Showing a cell's final value as a notebook would: its `Debug` text when it has one.
//!
//! The generated program cannot know whether a value implements `Debug`, so it asks through
//! autoref-based specialisation (described by David Tolnay, "Autoref-based stable
//! specialization", 2019): `(&Probe(&value)).describe()` resolves to [`ViaDebug`] when the value
//! is `Debug` and to [`ViaNothing`] otherwise. Both traits must be in scope at the call.
//!
//! ```
//! use orm_grader_harness::show::{Probe, ViaDebug, ViaNothing};
//! struct Opaque;
//! assert_eq!((&Probe(&vec![1, 2])).describe(), Some("[1, 2]".to_owned()));
//! assert_eq!((&Probe(&Opaque)).describe(), None);
//! ```

use std::fmt::Debug;

/// A reference to a cell's value, asked how it can be shown.
pub struct Probe<'a, T>(pub &'a T);

/// Chosen when the value is `Debug`.
pub trait ViaDebug {
    /// The value's `Debug` text.
    fn describe(&self) -> Option<String>;
}

impl<T: Debug> ViaDebug for Probe<'_, T> {
    fn describe(&self) -> Option<String> {
        Some(format!("{:?}", self.0))
    }
}

/// Chosen otherwise.
pub trait ViaNothing {
    /// Nothing to show.
    fn describe(&self) -> Option<String>;
}

impl<T> ViaNothing for &Probe<'_, T> {
    fn describe(&self) -> Option<String> {
        None
    }
}

/// Prints a cell's value (when it has a text) on the cell's output, as Jupyter shows it.
pub fn print_value(text: Option<String>) {
    if let Some(text) = text {
        println!("{text}");
    }
}
