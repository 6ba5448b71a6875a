//! Grading a class: [`batch`] (worker processes over a folder of submissions), [`shard`] (one
//! slice of a batch, for a cluster's tasks), [`gradebook`] (the CSV, partial gradebooks and
//! `merge`), [`manual`] (the review sheet of manually graded answers and `merge-manual`),
//! [`canvas`] (the gradebook as Canvas imports it) and [`gradescope`] (the
//! autograder bundle).

pub mod batch;
pub mod canvas;
pub mod gradebook;
pub mod gradescope;
pub mod manual;
pub mod shard;
