//! What a cell defines and what a test uses, to decide which learner cells must run again
//! after the evaluation process was renewed.
//!
//! evcxr keeps a context's items (functions, types, `use`s) when its process dies and
//! recompiles them into every later cell; what dies with the process are variables and other
//! run-time effects. So after a crash only cells with statements need to run again, and only
//! when a remaining test may read one of their variables. Every question here errs on the side
//! of "yes": code that does not parse is taken to define and use anything.

use proc_macro2::{TokenStream, TokenTree};
use std::collections::BTreeSet;
use syn::visit::Visit;

/// The variables a cell's top-level `let` statements bind; `None` when the cell does not parse
/// (it may bind anything).
pub fn top_level_bindings(cell: &str) -> Option<BTreeSet<String>> {
    let block = parse_cell(cell)?;
    let mut names = BTreeSet::new();
    for stmt in &block.stmts {
        if let syn::Stmt::Local(local) = stmt {
            let mut collector = Bindings::default();
            collector.visit_pat(&local.pat);
            names.extend(collector.names);
        }
    }
    Some(names)
}

/// Whether the cell does anything at run time (has statements, not only items).
pub fn has_statements(cell: &str) -> bool {
    orm_eval::has_statements(cell)
}

/// Identifiers a test may read from outside itself: every identifier it mentions, less the
/// names its own patterns bind (`let`, closure parameters, `for`, `match` arms).
pub fn free_identifiers(test: &str) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    if let Ok(tokens) = test.parse::<TokenStream>() {
        collect_idents(tokens, &mut used);
    }
    if let Ok(block) = syn::parse_str::<syn::Block>(test) {
        let mut bound = Bindings::default();
        bound.visit_block(&block);
        for name in bound.names {
            used.remove(&name);
        }
    }
    used
}

/// The variables a block may read from outside itself: names used as values (a one-segment
/// path such as `session` in `session.query()` or `&session`, a shorthand field `Author { name }`),
/// less the names its own patterns bind. Field and method names (`a.borrow().id`) are not reads.
/// Macro arguments are read as comma-separated expressions; those that are not (a pattern in
/// `matches!`) give every identifier not after a `.` — erring, as elsewhere here, on "yes".
/// Code that does not parse gives every identifier.
pub fn variable_reads(block: &str) -> BTreeSet<String> {
    let Ok(parsed) = syn::parse_str::<syn::Block>(block) else {
        return free_identifiers(block);
    };
    let mut reads = Reads::default();
    reads.visit_block(&parsed);
    let mut bound = Bindings::default();
    bound.visit_block(&parsed);
    for name in bound.names {
        reads.names.remove(&name);
    }
    reads.names
}

#[derive(Default)]
struct Reads {
    names: BTreeSet<String>,
}

impl<'ast> Visit<'ast> for Reads {
    fn visit_expr_path(&mut self, path: &'ast syn::ExprPath) {
        if path.qself.is_none() && path.path.leading_colon.is_none() {
            if let Some(ident) = path.path.get_ident() {
                self.names.insert(ident.to_string());
            }
        }
        syn::visit::visit_expr_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        use syn::parse::Parser;
        let arguments = syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
        match arguments.parse2(mac.tokens.clone()) {
            Ok(expressions) => {
                for expression in &expressions {
                    self.visit_expr(expression);
                }
            }
            Err(_) => idents_not_after_a_dot(mac.tokens.clone(), &mut self.names),
        }
    }
}

fn idents_not_after_a_dot(tokens: TokenStream, out: &mut BTreeSet<String>) {
    let mut after_dot = false;
    for token in tokens {
        match &token {
            TokenTree::Ident(ident) if !after_dot => {
                out.insert(ident.to_string());
            }
            TokenTree::Group(group) => idents_not_after_a_dot(group.stream(), out),
            _ => {}
        }
        after_dot = matches!(&token, TokenTree::Punct(p) if p.as_char() == '.');
    }
}

/// A cell as a block: cells are what a block holds (items, statements, a final expression).
fn parse_cell(cell: &str) -> Option<syn::Block> {
    syn::parse_str::<syn::Block>(&format!("{{\n{cell}\n}}")).ok()
}

fn collect_idents(tokens: TokenStream, out: &mut BTreeSet<String>) {
    for token in tokens {
        match token {
            TokenTree::Ident(ident) => {
                out.insert(ident.to_string());
            }
            TokenTree::Group(group) => collect_idents(group.stream(), out),
            _ => {}
        }
    }
}

#[derive(Default)]
struct Bindings {
    names: BTreeSet<String>,
}

impl<'ast> Visit<'ast> for Bindings {
    fn visit_pat_ident(&mut self, pat: &'ast syn::PatIdent) {
        self.names.insert(pat.ident.to_string());
        syn::visit::visit_pat_ident(self, pat);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_level_lets_are_found() {
        let cell = "pub fn f() -> i32 { let inner = 1; inner }\nlet (engine, session) = library()?;\nlet mut n = 3;\nsession.query::<Book>()";
        let names = top_level_bindings(cell).unwrap();
        assert_eq!(
            names.into_iter().collect::<Vec<_>>(),
            ["engine", "n", "session"]
        );
        assert!(top_level_bindings("let x = ;").is_none());
    }

    #[test]
    fn item_only_cells_have_no_statements() {
        assert!(!has_statements(
            "#[derive(Debug)]\npub struct A { x: i64 }\nimpl A { fn f(&self) {} }\nuse std::fmt;\nfn g() {}"
        ));
        assert!(has_statements("fn g() {}\ng();"));
        assert!(has_statements("let a = 1;"));
        assert!(has_statements("a"));
        assert!(has_statements("this does not parse ("));
    }

    #[test]
    fn fields_and_methods_are_not_variable_reads() {
        let test = "{ let (engine, session) = library()?; let a = add_author(&session, \"x\")?; assert_eq!(a.borrow().id, 5); let s = Author { name, ..Default::default() }; assert!(matches!(s.commit(), Err(orm::Error::UniqueViolation { .. }))); println!(\"{}\", outer); }";
        let reads = variable_reads(test);
        for read in ["library", "add_author", "name", "outer"] {
            assert!(reads.contains(read), "{read} is read: {reads:?}");
        }
        for not_read in ["id", "borrow", "engine", "session", "a", "commit", "s"] {
            assert!(
                !reads.contains(not_read),
                "{not_read} is not read: {reads:?}"
            );
        }
    }

    #[test]
    fn a_tests_own_locals_are_not_free() {
        let test = "{ let (engine, session) = library()?; let counts: Vec<usize> = (1..=4).map(|id| book_count(&session, id)).collect(); assert_eq!(counts, [3]); assert!(learner_var > 0); }";
        let free = free_identifiers(test);
        for own in ["engine", "session", "counts", "id"] {
            assert!(!free.contains(own), "{own} is the test's own");
        }
        for outside in ["library", "book_count", "learner_var"] {
            assert!(free.contains(outside), "{outside} comes from outside");
        }
    }
}
