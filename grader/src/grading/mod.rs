//! The autograde step (nbgrader's name): which of a submission's cells run ([`submission`]),
//! and the engines that run them with the hidden tests: [`program`] (the submission compiled as
//! one program, the default) and evcxr, cell by cell ([`autograde`], which also chooses).

pub mod analysis;
pub mod autograde;
pub mod program;
pub mod submission;
pub mod testcode;
