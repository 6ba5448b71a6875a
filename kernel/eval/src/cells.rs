//! What a cell's source says about it without running it: shared by the kernel (which cells to
//! replay in a new evaluation process) and the grader.

/// Whether the cell does anything at run time (has statements, not only items). evcxr keeps a
/// context's items when its process dies, so only such cells need to run again; code that does
/// not parse is taken to have statements.
///
/// ```
/// assert!(orm_eval::has_statements("let x = 1;"));
/// assert!(!orm_eval::has_statements("fn f() -> i32 { 1 }"));
/// ```
pub fn has_statements(cell: &str) -> bool {
    match syn::parse_str::<syn::Block>(&format!("{{\n{cell}\n}}")) {
        Ok(block) => block.stmts.iter().any(|s| !matches!(s, syn::Stmt::Item(_))),
        Err(_) => true,
    }
}

/// The name [`bind_final_value`] binds a cell's final value to (hidden from `:vars` by its
/// `__orm_eval` prefix).
pub(crate) const FINAL_VALUE: &str = "__orm_eval_value";

/// Rewrites a cell whose final expression uses a variable the same cell declares (as in
/// `let q = select(…); engine.execute(q)?.to_table()`, `let q = query(); q.filter(…).all()?`,
/// `{ engine.execute(q)? }.to_table()`, a `match` on it) to `let __orm_eval_value = <expr>;
/// __orm_eval_value`, and leaves every other cell alone (`None`): cells whose final expression
/// names none of the cell's variables, and final expressions that are a place (`t`, `t.field`,
/// `t[0]`) or a reference to one (`&rows`), which evcxr shows by reference as they are (binding
/// them would move the variable out of the cell, or keep a reference evcxr cannot store).
///
/// Why: evcxr 0.22 shows a final expression by compiling `(<expr>).evcxr_display();` with a
/// fallback to `{:?}` as text (`eval_context.rs`, `code_with_fallback`). A cell whose final
/// expression moves a new variable (as an argument, or as the receiver of a method taking
/// `self`, inside a block or a `match`) fails its first compile: evcxr stores the cell's
/// variables after the code, and the stored one was moved. The error names the display line, so
/// evcxr switches to the fallback, and a table that has an HTML display arrives as plain text.
/// Which methods take `self` is not visible in the syntax, so every final expression that names
/// a variable of the cell is bound: the move then happens in a statement of its own and the final
/// expression is a variable read, so the display is kept.
///
/// Lines stay where they were (compile errors and panics keep pointing at the learner's lines):
/// the binding goes at the end of the line before the expression when the expression starts its
/// line and that line has no comment, else just before it; `; __orm_eval_value` follows the
/// expression on its last line. A bound value that borrows a temporary of its own expression
/// (`f(v).iter().max()`) does not compile; the evaluator then runs the cell as written.
pub(crate) fn bind_final_value(code: &str) -> Option<String> {
    let block = syn::parse_str::<syn::Block>(&format!("{{\n{code}\n}}")).ok()?;
    let (syn::Stmt::Expr(tail, None), before) = block.stmts.split_last()? else {
        return None;
    };
    let declared: Vec<String> = before
        .iter()
        .filter_map(|stmt| match stmt {
            syn::Stmt::Local(local) => Some(&local.pat),
            _ => None,
        })
        .flat_map(pattern_names)
        .collect();
    if is_place(tail) {
        return None;
    }
    let span = syn::spanned::Spanned::span(tail);
    // The code sits one line down in the parsed block; columns count chars.
    let (start, end) = (span.start(), span.end());
    let start_at = byte_offset(code, start.line - 1, start.column)?;
    let end_at = byte_offset(code, end.line - 1, end.column)?;
    let tokens: proc_macro2::TokenStream = code[start_at..end_at].parse().ok()?;
    if !names_any(tokens, &declared) {
        return None;
    }
    let line_start = code[..start_at].rfind('\n').map_or(0, |i| i + 1);
    let starts_its_line = code[line_start..start_at].trim().is_empty();
    let binding = format!(" let {FINAL_VALUE} = ");
    let previous_line = &code[code[..line_start.saturating_sub(1)]
        .rfind('\n')
        .map_or(0, |i| i + 1)..line_start.saturating_sub(1)];
    let binding_at = if starts_its_line && line_start > 0 && !previous_line.contains("//") {
        line_start - 1
    } else {
        start_at
    };
    let mut out = String::with_capacity(code.len() + 2 * binding.len());
    out.push_str(&code[..binding_at]);
    out.push_str(&binding);
    out.push_str(&code[binding_at..end_at]);
    out.push_str(&format!("; {FINAL_VALUE}"));
    out.push_str(&code[end_at..]);
    Some(out)
}

/// The names a `let` pattern binds.
fn pattern_names(pat: &syn::Pat) -> Vec<String> {
    match pat {
        syn::Pat::Ident(ident) => {
            let mut names = vec![ident.ident.to_string()];
            if let Some((_, sub)) = &ident.subpat {
                names.extend(pattern_names(sub));
            }
            names
        }
        syn::Pat::Type(typed) => pattern_names(&typed.pat),
        syn::Pat::Tuple(tuple) => tuple.elems.iter().flat_map(pattern_names).collect(),
        syn::Pat::TupleStruct(tuple) => tuple.elems.iter().flat_map(pattern_names).collect(),
        syn::Pat::Struct(fields) => fields
            .fields
            .iter()
            .flat_map(|field| pattern_names(&field.pat))
            .collect(),
        syn::Pat::Slice(slice) => slice.elems.iter().flat_map(pattern_names).collect(),
        syn::Pat::Or(or) => or.cases.iter().flat_map(pattern_names).collect(),
        syn::Pat::Paren(inner) => pattern_names(&inner.pat),
        syn::Pat::Reference(reference) => pattern_names(&reference.pat),
        _ => Vec::new(),
    }
}

/// Whether `expr` is a place expression (a variable, a field, an index, through parentheses and
/// `*`) or a reference to one: evcxr calls `evcxr_display` on it by reference, moving nothing.
fn is_place(expr: &syn::Expr) -> bool {
    match expr {
        syn::Expr::Path(_) => true,
        syn::Expr::Field(field) => is_place(&field.base),
        syn::Expr::Index(index) => is_place(&index.expr) && is_place_or_literal(&index.index),
        syn::Expr::Paren(inner) => is_place(&inner.expr),
        syn::Expr::Reference(reference) => is_place(&reference.expr),
        syn::Expr::Unary(unary) if matches!(unary.op, syn::UnOp::Deref(_)) => is_place(&unary.expr),
        _ => false,
    }
}

/// An index that moves nothing either: a place, a literal, or a range of those (`t[1..]`).
fn is_place_or_literal(expr: &syn::Expr) -> bool {
    match expr {
        syn::Expr::Lit(_) => true,
        syn::Expr::Range(range) => [&range.start, &range.end]
            .into_iter()
            .flatten()
            .all(|bound| is_place_or_literal(bound)),
        other => is_place(other),
    }
}

/// Whether the tokens name one of `names` as a variable: an identifier anywhere (inside groups
/// and macro calls too), except right after `.` (a field or method of that name). Tokens, not
/// the syntax tree, so that macro arguments (`format!("{}", q)`) count.
fn names_any(tokens: proc_macro2::TokenStream, names: &[String]) -> bool {
    let mut after_dot = false;
    for token in tokens {
        let found = match &token {
            proc_macro2::TokenTree::Ident(ident) => !after_dot && names.iter().any(|n| ident == n),
            proc_macro2::TokenTree::Group(group) => names_any(group.stream(), names),
            _ => false,
        };
        if found {
            return true;
        }
        after_dot = matches!(&token, proc_macro2::TokenTree::Punct(p) if p.as_char() == '.');
    }
    false
}

/// The byte offset of 1-based `line` and char `column` in `code`.
fn byte_offset(code: &str, line: usize, column: usize) -> Option<usize> {
    let line_start = if line <= 1 {
        0
    } else {
        code.match_indices('\n').nth(line - 2)?.0 + 1
    };
    let rest = &code[line_start..];
    let within = rest
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(rest.len()))
        .nth(column)?;
    Some(line_start + within)
}

#[cfg(test)]
mod tests {
    use super::bind_final_value;

    #[test]
    fn a_final_expression_that_moves_a_new_variable_is_bound_first_on_the_same_lines() {
        let cell = "let q = select();\nengine.execute(q)?.to_table()";
        assert_eq!(
            bind_final_value(cell).as_deref(),
            Some("let q = select(); let __orm_eval_value = \nengine.execute(q)?.to_table(); __orm_eval_value")
        );
    }

    #[test]
    fn the_binding_goes_inline_after_a_comment_line_or_on_one_line() {
        assert_eq!(
            bind_final_value("let v = vec![1]; // a vector\n  take(v)").as_deref(),
            Some(
                "let v = vec![1]; // a vector\n   let __orm_eval_value = take(v); __orm_eval_value"
            )
        );
        assert_eq!(
            bind_final_value("let v = 1; take(v)").as_deref(),
            Some("let v = 1;  let __orm_eval_value = take(v); __orm_eval_value")
        );
    }

    #[test]
    fn final_expressions_naming_a_variable_of_the_cell_are_bound_whatever_their_shape() {
        for (cell, tail) in [
            // A method taking `self` on the receiver, a block, a match, a macro's argument.
            (
                "let q = query();\nq.filter(a).all()?.to_table()",
                "q.filter(a).all()?.to_table()",
            ),
            (
                "let q = text();\n{ engine.execute(q)? }.to_table()",
                "{ engine.execute(q)? }.to_table()",
            ),
            (
                "let q = text();\nmatch run(q) { Ok(r) => r, Err(e) => panic!() }",
                "match run(q) { Ok(r) => r, Err(e) => panic!() }",
            ),
            ("let q = text();\nshow!(q)", "show!(q)"),
            // Used by reference, through a method chain: bound too (moves nothing, costs nothing).
            (
                "let q = select();\nengine.execute(&q)?.to_table()",
                "engine.execute(&q)?.to_table()",
            ),
            ("let users = all();\nusers.to_table()", "users.to_table()"),
            // Names bound by tuple-struct, struct and slice patterns.
            (
                "let Some(row) = first() else { return };\nrow.to_table()",
                "row.to_table()",
            ),
            ("let P { a, b: c } = p();\nf(c)", "f(c)"),
            ("let [x, ..] = xs();\nf(x)", "f(x)"),
        ] {
            let bound = bind_final_value(cell).unwrap_or_else(|| panic!("not bound: {cell}"));
            // The binding ends the line before (lines stay where they were); the value follows.
            assert!(
                bound.contains(" let __orm_eval_value = ")
                    && bound.ends_with(&format!("{tail}; __orm_eval_value"))
                    && bound.lines().count() == cell.lines().count(),
                "{cell} -> {bound}"
            );
        }
    }

    #[test]
    fn places_references_and_cells_naming_no_variable_of_their_own_are_left_alone() {
        for cell in [
            "engine.execute(q)?.to_table()",
            "let x = 1;\nx",
            "let x = (1, 2);\nx.0",
            "let x = vec![1];\nx[0]",
            "let rows = all();\n&rows",
            "let x = 1;\nf(x);",
            // `rows` only as a method name of another value.
            "let rows = 1;\nengine.rows()",
        ] {
            assert_eq!(bind_final_value(cell), None, "{cell}");
        }
    }
}
