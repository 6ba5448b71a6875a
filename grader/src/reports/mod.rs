//! A grading's result ([`report`]: the grader's own JSON and the terminal table) and the
//! formats others read ([`formats`]: Gradescope, GitHub Classroom, JUnit XML).

pub mod formats;
pub mod report;
