//! Turns evcxr's errors into [`EvalError`]s that point into the user's cell.

use crate::error::{CellSpan, Diagnostic, EvalError};

pub(crate) fn from_evcxr(error: evcxr::Error) -> EvalError {
    match error {
        evcxr::Error::CompilationErrors(errors) => {
            let all: Vec<Diagnostic> = errors.iter().map(diagnostic).collect();
            EvalError::Compile(all)
        }
        evcxr::Error::SubprocessTerminated(detail) => EvalError::ProcessEnded {
            detail: detail.trim().to_owned(),
        },
        evcxr::Error::TypeRedefinedVariablesLost(variables) => EvalError::Other(format!(
            "redefining a type lost these variables: {}",
            variables.join(", ")
        )),
        evcxr::Error::Message(message) => EvalError::Other(message),
    }
}

/// Moves columns on line 1 back by `chars`, the width of what was put in front of the cell.
pub(crate) fn shift_first_line(error: EvalError, chars: usize) -> EvalError {
    let EvalError::Compile(mut diagnostics) = error else {
        return error;
    };
    for span in diagnostics.iter_mut().flat_map(|d| d.spans.iter_mut()) {
        if span.start_line == 1 {
            span.start_column = span.start_column.saturating_sub(chars).max(1);
        }
        if span.end_line == 1 {
            span.end_column = span.end_column.saturating_sub(chars).max(1);
        }
    }
    EvalError::Compile(diagnostics)
}

fn diagnostic(error: &evcxr::CompilationError) -> Diagnostic {
    Diagnostic {
        message: error.message(),
        code: error.code().map(str::to_owned),
        spans: error
            .spanned_messages()
            .iter()
            .filter_map(|spanned| {
                let span = spanned.span?;
                Some(CellSpan {
                    start_line: span.start_line,
                    start_column: span.start_column,
                    end_line: span.end_line,
                    end_column: span.end_column,
                    label: sanitize(&spanned.label),
                    is_primary: spanned.is_primary,
                })
            })
            .collect(),
        help: error.help(),
    }
}

/// evcxr appends `evcxr_variable_store` after the user's code; "found `evcxr_variable_store`"
/// means the cell ended too early (evcxr fixes the headline, not the labels).
fn sanitize(label: &str) -> String {
    label.replace("`evcxr_variable_store`", "<end of input>")
}

/// Where a panic happened, in the user's terms: "line N" of the cell when the panic is in the
/// code evcxr generated from the cell (`src/lib.rs`) and that line's text occurs once in the cell;
/// the location as is when it is in a library (e.g. `orm`); nothing when it cannot be told.
pub(crate) fn panic_location(location: &str, generated: &str, cell: &str) -> Option<String> {
    let mut parts = location.rsplitn(3, ':');
    let (_column, line, file) = (parts.next()?, parts.next()?, parts.next()?);
    if file != "src/lib.rs" {
        return (!location.is_empty()).then(|| location.to_owned());
    }
    let line: usize = line.parse().ok()?;
    let text = without_cell_prefix(generated.lines().nth(line.checked_sub(1)?)?).trim();
    if text.is_empty() {
        return None;
    }
    let mut matches = cell
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == text || (text.len() > 8 && l.contains(text)));
    match (matches.next(), matches.next()) {
        (Some((index, _)), None) => Some(format!("line {}", index + 1)),
        _ => None,
    }
}

/// A generated line without what the evaluator put before the cell's first line.
fn without_cell_prefix(line: &str) -> &str {
    const SCOPE: &str = "jupyter::__cell_scope!(";
    let Some(rest) = line
        .trim_start()
        .strip_prefix(crate::runtime_code::SENTINEL_PREFIX)
    else {
        return line;
    };
    match rest.strip_prefix(SCOPE).and_then(|r| r.split_once("); ")) {
        Some((_, cell)) => cell,
        None => rest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_in_cell_code_maps_to_cell_line() {
        let generated = "fn x() {\nlet a = 1;\npanic!(\"boom\");\n}";
        let cell = "let a = 1;\n\npanic!(\"boom\");";
        assert_eq!(
            panic_location("src/lib.rs:3:1", generated, cell),
            Some("line 3".to_owned())
        );
    }

    #[test]
    fn panic_on_the_first_line_maps_past_the_prefix() {
        let generated = format!(
            "fn x() {{\n{}let b = u.borrow();\n}}",
            crate::runtime_code::cell_prefix(false)
        );
        let cell = "let b = u.borrow();\nlet m = u.borrow_mut();";
        assert_eq!(
            panic_location("src/lib.rs:2:40", &generated, cell),
            Some("line 1".to_owned())
        );
    }

    #[test]
    fn panic_in_a_library_keeps_its_location() {
        assert_eq!(
            panic_location("/work/orm/src/session.rs:10:5", "", "x"),
            Some("/work/orm/src/session.rs:10:5".to_owned())
        );
    }

    #[test]
    fn ambiguous_lines_give_no_location() {
        let generated = "panic!();";
        assert_eq!(
            panic_location("src/lib.rs:1:1", generated, "panic!();\npanic!();"),
            None
        );
    }
}
