//! Errors as text a learner can read, rustc-style, quoting the lines of their own cell.

use crate::error::{CellSpan, Diagnostic, EvalError};

/// Renders `error` for the cell `cell` as plain text lines (no colours), e.g.
///
/// ```text
/// error[E0308]: mismatched types
///  --> cell:1:14
///   |
/// 1 | let x: i32 = "s";
///   |              ^^^ expected `i32`, found `&str`
/// ```
pub fn render_error(error: &EvalError, cell: &str) -> Vec<String> {
    match error {
        EvalError::Compile(diagnostics) => {
            let mut lines = Vec::new();
            for diagnostic in diagnostics {
                if !lines.is_empty() {
                    lines.push(String::new());
                }
                render_diagnostic(diagnostic, cell, &mut lines);
            }
            lines
        }
        EvalError::Derive {
            line,
            column,
            message,
        } => quote_line(message, *line, *column, cell),
        EvalError::Rejected { line, message } => quote_line(message, *line, 1, cell),
        other => vec![other.to_string()],
    }
}

/// A message about one place, underlined from `column` to the end of its line.
fn quote_line(message: &str, line: usize, column: usize, cell: &str) -> Vec<String> {
    let mut lines = vec![format!("error: {message}")];
    let width = cell
        .lines()
        .nth(line.saturating_sub(1))
        .map_or(0, count_chars);
    let span = CellSpan {
        start_line: line,
        start_column: column.max(1),
        end_line: line,
        end_column: (width + 1).max(column + 1),
        label: String::new(),
        is_primary: true,
    };
    quote_span(&span, cell, &mut lines);
    lines
}

fn render_diagnostic(diagnostic: &Diagnostic, cell: &str, lines: &mut Vec<String>) {
    match &diagnostic.code {
        Some(code) => lines.push(format!("error[{code}]: {}", diagnostic.message)),
        None => lines.push(format!("error: {}", diagnostic.message)),
    }
    for span in &diagnostic.spans {
        quote_span(span, cell, lines);
    }
    for help in &diagnostic.help {
        lines.push(format!("help: {help}"));
    }
}

fn quote_span(span: &CellSpan, cell: &str, lines: &mut Vec<String>) {
    let Some(text) = cell.lines().nth(span.start_line.saturating_sub(1)) else {
        lines.push(format!(
            " --> cell:{}:{}",
            span.start_line, span.start_column
        ));
        return;
    };
    let number = span.start_line.to_string();
    let gutter = " ".repeat(number.len());
    lines.push(format!(
        "{gutter}--> cell:{}:{}",
        span.start_line, span.start_column
    ));
    lines.push(format!("{gutter} |"));
    lines.push(format!("{number} | {text}"));
    let width = if span.end_line == span.start_line {
        span.end_column.saturating_sub(span.start_column).max(1)
    } else {
        count_chars(text)
            .saturating_sub(span.start_column - 1)
            .max(1)
    };
    let mark = if span.is_primary { "^" } else { "-" };
    let mut underline = format!(
        "{gutter} | {}{}",
        " ".repeat(span.start_column.saturating_sub(1)),
        mark.repeat(width)
    );
    if !span.label.is_empty() {
        underline.push(' ');
        underline.push_str(&span.label);
    }
    lines.push(underline);
}

fn count_chars(text: &str) -> usize {
    text.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compile_errors_quote_the_cell() {
        let error = EvalError::Compile(vec![Diagnostic {
            message: "mismatched types".into(),
            code: Some("E0308".into()),
            spans: vec![CellSpan {
                start_line: 2,
                start_column: 14,
                end_line: 2,
                end_column: 17,
                label: "expected `i32`, found `&str`".into(),
                is_primary: true,
            }],
            help: vec![],
        }]);
        let cell = "let a = 1;\nlet x: i32 = \"s\";";
        assert_eq!(
            render_error(&error, cell),
            vec![
                "error[E0308]: mismatched types",
                " --> cell:2:14",
                "  |",
                "2 | let x: i32 = \"s\";",
                "  |              ^^^ expected `i32`, found `&str`",
            ]
        );
    }

    #[test]
    fn rejected_lines_are_quoted() {
        let error = EvalError::Rejected {
            line: 1,
            message: "no".into(),
        };
        let lines = render_error(&error, ":dep rand");
        assert_eq!(lines[0], "error: no");
        assert_eq!(lines[3], "1 | :dep rand");
        assert_eq!(lines[4], "  | ^^^^^^^^^");
    }
}
