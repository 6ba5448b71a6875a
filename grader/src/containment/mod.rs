//! What keeps a submission's code in its place: operating-system limits and Landlock
//! ([`sandbox`], shared with the graded program through the harness crate) and the last resort
//! against processes that will not stop ([`process`]).

pub mod process;
pub mod sandbox;
