//! What a learner cell may not contain in a graded program, found by a scan of its tokens.
//!
//! The program holds the hidden tests, and the harness holds the verdict token, so learner code
//! must not read files at compile time (`include_str!` of the program's own source), read the
//! compiler's environment (`env!`), reach the harness or the generated glue by name, run code
//! before `main` (`#[link_section]`, `global_asm!`), or pull in other source files (`mod x;`,
//! `#[path]`). Every identifier is checked wherever it stands, also inside a `macro_rules!`
//! body, so a macro that wraps `include_str!` is caught (also one that takes the macro's name
//! as an argument, `$m!(…)`: the name itself is refused where it is passed); `#[derive(Model)]` output comes from
//! `orm`'s own generator and adds no such token. The rest (`unsafe`, `#[no_mangle]`,
//! `#[export_name]`) the compiler refuses through `#![forbid(unsafe_code)]`.

use proc_macro2::{Delimiter, TokenStream, TokenTree};

/// Identifiers refused anywhere, with the reason shown to the learner.
const REFUSED: &[(&str, &str)] = &[
    ("include", "reads a file when the program is compiled"),
    ("include_str", "reads a file when the program is compiled"),
    ("include_bytes", "reads a file when the program is compiled"),
    ("global_asm", "runs assembly outside the notebook's code"),
    ("asm", "runs assembly"),
    ("naked_asm", "runs assembly"),
    ("link_section", "places code outside the notebook's cells"),
    ("no_mangle", "exports a symbol"),
    ("export_name", "exports a symbol"),
    ("orm_grader_harness", "names the grader's harness"),
];

/// Macros refused when invoked (`env!`) or renamed (`use std::env as e;`): `env` alone is
/// the module `std::env`, which stays allowed.
const REFUSED_MACROS: &[&str] = &["env", "option_env"];

/// The prefix of every name the grader generates; learner code may not use it.
pub const RESERVED_PREFIX: &str = "__grader";

/// A refused construct: where it is in the cell (1-based line, 1-based column) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// 1-based line in the cell.
    pub line: usize,
    /// 0-based column.
    pub column: usize,
    /// What is refused, for the learner.
    pub message: String,
}

/// Every refused construct in `cell`, in order. A cell that does not tokenize gives none
/// (the parser reports it).
pub fn refusals(cell: &str) -> Vec<Refusal> {
    let mut found = Vec::new();
    if let Ok(tokens) = cell.parse::<TokenStream>() {
        scan(tokens, &mut found);
    }
    found
}

fn scan(tokens: TokenStream, found: &mut Vec<Refusal>) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, token) in tokens.iter().enumerate() {
        match token {
            TokenTree::Group(group) => {
                if group.delimiter() == Delimiter::Bracket && is_attribute_start(&tokens, i) {
                    check_attribute(group.stream(), found);
                }
                scan(group.stream(), found);
            }
            TokenTree::Ident(ident) => {
                let name = ident.to_string();
                let name = name.strip_prefix("r#").unwrap_or(&name);
                let next = tokens.get(i + 1);
                let refuse = |message: String, found: &mut Vec<Refusal>| {
                    let start = ident.span().start();
                    found.push(Refusal {
                        line: start.line,
                        column: start.column + 1,
                        message,
                    });
                };
                if let Some((_, why)) = REFUSED.iter().find(|(n, _)| *n == name) {
                    refuse(
                        format!("`{name}` is not allowed in a graded notebook: it {why}"),
                        found,
                    );
                } else if REFUSED_MACROS.contains(&name)
                    && (is_punct(next, '!') || is_ident(next, "as"))
                {
                    refuse(
                        format!(
                            "`{name}!` is not allowed in a graded notebook: it reads the \
                             compiler's environment (use `std::env::var` at run time)"
                        ),
                        found,
                    );
                } else if name.starts_with(RESERVED_PREFIX) {
                    refuse(
                        format!("names starting with `{RESERVED_PREFIX}` are the grader's own"),
                        found,
                    );
                } else if name == "extern" && is_ident(next, "crate") {
                    refuse(
                        "`extern crate` is not allowed in a graded notebook: `orm` and the \
                         standard library are already there"
                            .into(),
                        found,
                    );
                } else if name == "mod" && body_less_module(&tokens[i + 1..]) {
                    refuse(
                        "`mod name;` reads another source file; write the module's body here \
                         (`mod name { … }`)"
                            .into(),
                        found,
                    );
                }
            }
            TokenTree::Punct(_) | TokenTree::Literal(_) => {}
        }
    }
}

/// A `:command` or `!shell` line at the head of a cell, which the kernel refuses too (evcxr
/// would run it; as orm-eval's guard, blank and `//` lines are skipped to find it).
pub fn command_line(cell: &str) -> Option<Refusal> {
    for (number, line) in cell.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with("//") {
            continue;
        }
        if trimmed.starts_with(':') || trimmed.starts_with('!') {
            let what = trimmed.split_whitespace().next().unwrap_or(trimmed);
            return Some(Refusal {
                line: number + 1,
                column: line.len() - line.trim_start().len() + 1,
                message: format!(
                    "`{what}` is a notebook command, not Rust; graded notebooks run only Rust \
                     code (the `orm` crate is already a dependency)"
                ),
            });
        }
        return None;
    }
    None
}

/// Whether the bracket group at `i` is an attribute: `#[…]` or `#![…]`.
fn is_attribute_start(tokens: &[TokenTree], i: usize) -> bool {
    match i {
        0 => false,
        _ if is_punct(tokens.get(i - 1), '#') => true,
        _ => i >= 2 && is_punct(tokens.get(i - 1), '!') && is_punct(tokens.get(i - 2), '#'),
    }
}

fn check_attribute(attribute: TokenStream, found: &mut Vec<Refusal>) {
    if let Some(TokenTree::Ident(ident)) = attribute.into_iter().next() {
        if ident == "path" {
            let start = ident.span().start();
            found.push(Refusal {
                line: start.line,
                column: start.column + 1,
                message: "`#[path]` reads another source file; it is not allowed in a graded \
                          notebook"
                    .into(),
            });
        }
    }
}

/// `mod name;` (after `mod`): a name and then `;`, no body.
fn body_less_module(rest: &[TokenTree]) -> bool {
    matches!(rest.first(), Some(TokenTree::Ident(_))) && is_punct(rest.get(1), ';')
}

fn is_punct(token: Option<&TokenTree>, c: char) -> bool {
    matches!(token, Some(TokenTree::Punct(p)) if p.as_char() == c)
}

fn is_ident(token: Option<&TokenTree>, name: &str) -> bool {
    matches!(token, Some(TokenTree::Ident(i)) if i == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(cell: &str) -> Vec<String> {
        refusals(cell).into_iter().map(|r| r.message).collect()
    }

    #[test]
    fn file_and_environment_macros_are_refused_also_inside_macro_rules() {
        for cell in [
            "pub fn f() -> &'static str { include_str!(\"main.rs\") }",
            "macro_rules! sneak { () => { include_str!(\"lib.rs\") } }",
            "macro_rules! call { ($m:ident) => { $m!(\"main.rs\") } }\ncall!(include_bytes);",
            "let x = std::include_str!(\"/etc/passwd\");",
            "use std::include_str as read;",
            "let token = env!(\"HOME\");",
            "let t = option_env!(\"X\");",
            "use std::env as e;",
            "mod secrets;",
            "#[path = \"/tmp/x.rs\"]\nmod x { }",
            "extern crate orm;",
            "let __grader_program = 1;",
            "orm_grader_harness::take(&mut s, \"x\", 1);",
            "#[link_section = \".init_array\"]\nstatic F: fn() = f;",
            "std::arch::global_asm!(\"nop\");",
            "let r#include_str = 1;",
        ] {
            assert!(!refusals(cell).is_empty(), "not refused: {cell}");
        }
    }

    #[test]
    fn ordinary_cells_pass() {
        for cell in [
            "let dir = std::env::temp_dir();",
            "use std::env;\nlet home = env::var(\"HOME\");",
            "mod helpers { pub fn f() {} }",
            "#[derive(Debug)]\npub struct A { environment: String }",
            "let included = vec![1];",
            "println!(\"{}\", \"include_str!\");",
        ] {
            assert!(
                refused(cell).is_empty(),
                "refused: {cell}: {:?}",
                refused(cell)
            );
        }
    }

    #[test]
    fn the_place_is_given() {
        let found = refusals("let a = 1;\n  let s = include_str!(\"x\");");
        assert_eq!((found[0].line, found[0].column), (2, 11));
        assert!(found[0].message.contains("reads a file"), "{:?}", found[0]);
    }
}
