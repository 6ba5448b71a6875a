//! The autograde step (nbgrader's name): which of a submission's cells run ([`submission`]),
//! and the engines that run them with the hidden tests: [`program`] (the submission compiled as
//! one program, the default) and evcxr, cell by cell ([`autograde`], which also chooses).

pub mod analysis;
pub mod autograde;
pub mod check;
pub mod program;
pub mod submission;
pub mod testcode;

/// What a learner reads when a hidden test does not compile against their code, from the
/// compiler's errors as (code, message, label of the primary place) — the same words from
/// both engines.
pub(crate) fn test_compile_feedback<'a>(
    errors: impl Iterator<Item = (Option<&'a str>, &'a str, &'a str)>,
) -> String {
    let lines: Vec<String> = errors
        .map(|(code, message, label)| {
            let label = if label.is_empty() {
                String::new()
            } else {
                format!(" ({label})")
            };
            match code {
                Some(code) => format!("error[{code}]: {message}{label}"),
                None => format!("error: {message}{label}"),
            }
        })
        .collect();
    format!(
        "the test does not compile against your code (check the names and signatures asked \
         for):\n{}",
        crate::reports::report::cut(&lines.join("\n"), 2000)
    )
}
