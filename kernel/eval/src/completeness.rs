//! Whether a cell is ready to run (Jupyter's `is_complete`), without compiling it.
//!
//! A bracket-, string- and comment-aware scan finds what is still open (the console then waits for
//! more lines); `syn` then parses the balanced text as block statements and tells "needs more"
//! (the parser ran out of input) from "can never be valid".

use syn::parse::Parser;

/// The answer to "can this cell run as it is?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completeness {
    /// The cell can run as it is.
    Complete,
    /// More input is needed.
    Incomplete {
        /// A suggested indent for the next line.
        indent: String,
    },
    /// The text can never parse (a stray closing bracket, an evcxr `:command`, …).
    Invalid,
}

/// Judges `code` as a whole cell.
pub fn is_complete(code: &str) -> Completeness {
    if !crate::guard::command_lines(code).is_empty() {
        // Sent as is, the cell gets the clear "commands are not run" error.
        return Completeness::Invalid;
    }
    let depth = match scan(code) {
        Scan::Mismatched => return Completeness::Invalid,
        Scan::Open { depth } => {
            return Completeness::Incomplete {
                indent: "    ".repeat(depth),
            };
        }
        Scan::Balanced => 0,
    };
    if code.trim().is_empty() {
        return Completeness::Complete;
    }
    match syn::Block::parse_within.parse_str(code) {
        Ok(_) => Completeness::Complete,
        Err(error) if error_at_end(code, &error) => Completeness::Incomplete {
            indent: "    ".repeat(depth),
        },
        Err(_) => Completeness::Invalid,
    }
}

/// Whether the parser gave up at the last token: more text (a `;`, an expression after `=`)
/// could still make the cell valid.
fn error_at_end(code: &str, error: &syn::Error) -> bool {
    if error.to_string().contains("unexpected end of input") {
        return true;
    }
    let Ok(tokens) = code.parse::<proc_macro2::TokenStream>() else {
        return false;
    };
    let last_start = match tokens.into_iter().last() {
        Some(proc_macro2::TokenTree::Group(group)) => group.span_close().start(),
        Some(tree) => tree.span().start(),
        None => return false,
    };
    // Errors at the end of the input carry the zero-width call-site span.
    let (at, end) = (error.span().start(), error.span().end());
    at == end || (at.line, at.column) >= (last_start.line, last_start.column)
}

enum Scan {
    Balanced,
    Open { depth: usize },
    Mismatched,
}

/// Tracks brackets outside strings, chars and comments.
fn scan(code: &str) -> Scan {
    let chars: Vec<char> = code.chars().collect();
    let mut stack: Vec<char> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '/' if next == Some('/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if next == Some('*') => {
                let mut nesting = 1;
                i += 2;
                while nesting > 0 {
                    match (chars.get(i), chars.get(i + 1)) {
                        (None, _) => return Scan::Open { depth: stack.len() },
                        (Some('/'), Some('*')) => {
                            nesting += 1;
                            i += 2;
                        }
                        (Some('*'), Some('/')) => {
                            nesting -= 1;
                            i += 2;
                        }
                        _ => i += 1,
                    }
                }
                continue;
            }
            'r' | 'b' | 'c' if starts_raw_string(&chars, i) => {
                match skip_raw_string(&chars, i) {
                    Some(end) => i = end,
                    None => return Scan::Open { depth: stack.len() },
                }
                continue;
            }
            '"' => match skip_quoted(&chars, i + 1, '"') {
                Some(end) => {
                    i = end;
                    continue;
                }
                None => return Scan::Open { depth: stack.len() },
            },
            '\'' => {
                // A char literal ('a', '\n', '\u{1F600}') or a lifetime ('a); a lifetime has no
                // closing quote right after its name.
                if let Some(end) = char_literal_end(&chars, i) {
                    i = end;
                    continue;
                }
            }
            '(' | '[' | '{' => stack.push(c),
            ')' | ']' | '}' => {
                let open = match c {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                if stack.pop() != Some(open) {
                    return Scan::Mismatched;
                }
            }
            _ => {}
        }
        i += 1;
    }
    if stack.is_empty() {
        Scan::Balanced
    } else {
        Scan::Open { depth: stack.len() }
    }
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `r"`, `r#"`, `br"`, `cr#"` at `i`, not inside an identifier such as `for"`.
fn starts_raw_string(chars: &[char], i: usize) -> bool {
    if i > 0 && is_ident_char(chars[i - 1]) {
        return false;
    }
    let mut j = i;
    if chars[j] == 'b' || chars[j] == 'c' {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return false;
    }
    j += 1;
    while chars.get(j) == Some(&'#') {
        j += 1;
    }
    chars.get(j) == Some(&'"')
}

/// The index after a raw string starting at `i`, or None when it never closes.
fn skip_raw_string(chars: &[char], i: usize) -> Option<usize> {
    let mut j = i;
    while chars[j] != 'r' {
        j += 1;
    }
    j += 1;
    let mut hashes = 0;
    while chars[j] == '#' {
        hashes += 1;
        j += 1;
    }
    j += 1; // the opening quote
    while j < chars.len() {
        if chars[j] == '"' && (1..=hashes).all(|k| chars.get(j + k) == Some(&'#')) {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    None
}

/// The index after the closing `quote`, honouring backslash escapes, or None when unclosed.
fn skip_quoted(chars: &[char], mut j: usize, quote: char) -> Option<usize> {
    while j < chars.len() {
        match chars[j] {
            '\\' => j += 2,
            c if c == quote => return Some(j + 1),
            _ => j += 1,
        }
    }
    None
}

/// The index after a char literal starting at `i`, or None if `i` starts a lifetime.
fn char_literal_end(chars: &[char], i: usize) -> Option<usize> {
    match chars.get(i + 1) {
        Some('\\') => skip_quoted(chars, i + 1, '\''),
        Some(_) if chars.get(i + 2) == Some(&'\'') => Some(i + 3),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: &str) -> &'static str {
        match is_complete(code) {
            Completeness::Complete => "complete",
            Completeness::Incomplete { .. } => "incomplete",
            Completeness::Invalid => "invalid",
        }
    }

    #[test]
    fn complete_cells() {
        for code in [
            "println!(\"hello\");",
            "let x = 1;",
            "fn f() -> i32 { 1 }",
            "1 + 1",
            "let s = \"}\";",
            "let c = '{';",
            "fn f<'a>(x: &'a str) -> &'a str { x }",
            "let r = r#\"a \" { b\"#;",
            "// just a comment",
            "",
            "#[derive(Debug)]\nstruct A { x: i32 }",
        ] {
            assert_eq!(status(code), "complete", "{code:?}");
        }
    }

    #[test]
    fn incomplete_cells() {
        for code in [
            "fn f() {",
            "let s = \"abc",
            "/* open comment",
            "let v = vec![1, 2,",
            "let x =",
            "let x = 1",
            "let r = r#\"abc\"",
        ] {
            assert_eq!(status(code), "incomplete", "{code:?}");
        }
    }

    #[test]
    fn invalid_cells() {
        for code in [
            "let x = 1 );",
            "}",
            "fn f() { ] }",
            ":dep rand",
            "let = 5;",
            "f(1 2);",
            "let x = 1 2;",
        ] {
            assert_eq!(status(code), "invalid", "{code:?}");
        }
    }

    #[test]
    fn indent_follows_open_brackets() {
        assert_eq!(
            is_complete("fn f() {\n    if x {"),
            Completeness::Incomplete {
                indent: "        ".into()
            }
        );
    }
}
