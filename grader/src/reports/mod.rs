//! A grading's result ([`report`]: the grader's own JSON and the terminal table), the formats
//! others read ([`formats`]: Gradescope, GitHub Classroom, JUnit XML), and the pages people
//! read: the learner's feedback ([`feedback`]) and the teacher's class report ([`class`]),
//! which share [`html`].

pub mod class;
pub mod feedback;
pub mod formats;
pub mod html;
pub mod report;
