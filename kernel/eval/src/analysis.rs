//! Completion and hover: rust-analyzer through evcxr, on the cell as evcxr would see it.

use crate::error::EvalError;
use crate::evaluator::panic_text;
use crate::{derive, guard};
use evcxr::CommandContext;
use std::panic::AssertUnwindSafe;

/// A completion candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The text to insert.
    pub text: String,
    /// What it is: "function", "struct", "variable", …
    pub kind: String,
}

/// Completions for the text between byte offsets `start` and `end` of the cell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Completions {
    /// The candidates, best first.
    pub matches: Vec<Completion>,
    /// Byte offset where the replaced text starts.
    pub start: usize,
    /// Byte offset where it ends.
    pub end: usize,
}

/// What hover shows for the name at the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// The documentation as plain text.
    pub text: String,
    /// The same as HTML.
    pub html: String,
}

/// Completions at byte offset `cursor` of `code`.
pub(crate) fn complete(
    context: &mut CommandContext,
    code: &str,
    cursor: usize,
) -> Result<Completions, EvalError> {
    let cursor = floor_char_boundary(code, cursor);
    let analysed = Analysed::new(code, cursor);
    let found = std::panic::catch_unwind(AssertUnwindSafe(|| {
        context.completions(&analysed.text, analysed.cursor)
    }))
    .map_err(|panic| EvalError::Other(format!("completion failed: {}", panic_text(&panic))))?
    .map_err(|error| EvalError::Other(format!("completion failed: {error}")))?;
    let start = analysed.back(found.start_offset).unwrap_or(cursor);
    let end = analysed.back(found.end_offset).unwrap_or(cursor);
    Ok(Completions {
        matches: found
            .completions
            .into_iter()
            .map(|c| Completion {
                text: c.code,
                kind: c.kind.to_owned(),
            })
            .collect(),
        start: start.min(end),
        end: end.max(start),
    })
}

/// Hover text for the name at byte offset `cursor` of `code`, if rust-analyzer knows it.
pub(crate) fn inspect(
    context: &mut CommandContext,
    code: &str,
    cursor: usize,
) -> Result<Option<Inspection>, EvalError> {
    let cursor = end_of_word(code, floor_char_boundary(code, cursor));
    if code[..cursor].trim().is_empty() {
        return Ok(None);
    }
    let analysed = Analysed::new(code, cursor);
    let found = std::panic::catch_unwind(AssertUnwindSafe(|| {
        context.hover_at(&analysed.text, analysed.cursor)
    }))
    .map_err(|panic| EvalError::Other(format!("inspection failed: {}", panic_text(&panic))))?
    .map_err(|error| EvalError::Other(format!("inspection failed: {error}")))?;
    let (text, html) = found;
    if text.trim().is_empty() || text == "No documentation found" {
        return Ok(None);
    }
    Ok(Some(Inspection { text, html }))
}

/// A cell as handed to rust-analyzer: command lines blanked, models expanded when that leaves
/// the cursor's line in place (the expansion keeps line numbers, not columns).
struct Analysed {
    text: String,
    cursor: usize,
    /// Line starts of the original and analysed text for the cursor's line.
    original_line_start: usize,
    analysed_line_start: usize,
}

impl Analysed {
    fn new(code: &str, cursor: usize) -> Analysed {
        let masked = guard::mask_commands(code);
        let line_index = code[..cursor].matches('\n').count();
        let original_line_start = code[..cursor].rfind('\n').map_or(0, |i| i + 1);
        let identity = Analysed {
            text: masked.clone(),
            cursor,
            original_line_start,
            analysed_line_start: original_line_start,
        };
        let Ok(expanded) = derive::expand_models(&masked) else {
            return identity;
        };
        let same_line = expanded.split('\n').nth(line_index) == masked.split('\n').nth(line_index);
        if expanded == masked || !same_line {
            return identity;
        }
        let analysed_line_start = line_start(&expanded, line_index);
        Analysed {
            cursor: analysed_line_start + (cursor - original_line_start),
            text: expanded,
            original_line_start,
            analysed_line_start,
        }
    }

    /// An offset in the analysed text back to the original, when it is on the cursor's line.
    fn back(&self, offset: usize) -> Option<usize> {
        offset
            .checked_sub(self.analysed_line_start)
            .map(|column| self.original_line_start + column)
    }
}

/// The byte offset where line `index` (0-based) of `text` starts.
fn line_start(text: &str, index: usize) -> usize {
    match index {
        0 => 0,
        _ => text
            .match_indices('\n')
            .nth(index - 1)
            .map_or(text.len(), |(i, _)| i + 1),
    }
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// Moves the cursor to the end of the identifier it is in, so hover sees the whole name.
fn end_of_word(text: &str, cursor: usize) -> usize {
    cursor
        + text[cursor..]
            .char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
            .map_or(text.len() - cursor, |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_extend_to_their_end() {
        assert_eq!(end_of_word("String::new()", 3), 6);
        assert_eq!(end_of_word("Vec", 3), 3);
        assert_eq!(end_of_word("été x", 2), 5);
    }
}
