//! The sandbox lives in the harness crate, which the graded program links too; re-exported here
//! for the evcxr engine and the reports.

pub use orm_grader_harness::sandbox::*;
