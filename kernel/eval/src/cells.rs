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

/// Rewrites a cell whose final expression moves a variable the same cell declares (as in
/// `let q = select(…); engine.execute(q)?.to_table()`) to `let __orm_eval_value = <expr>;
/// __orm_eval_value`, and leaves every other cell alone (`None`).
///
/// Why: evcxr 0.22 shows a final expression by compiling `(<expr>).evcxr_display();` with a
/// fallback to `{:?}` as text (`eval_context.rs`, `code_with_fallback`). A cell whose final
/// expression moves a new variable fails its first compile (evcxr stores the cell's variables
/// after the code, and the stored one was moved); the error names the display line, so evcxr
/// switches to the fallback, and a table that has an HTML display arrives as plain text. With the
/// value bound first, the move happens in a statement of its own and the final expression is a
/// variable read, so the display is kept.
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
    if !moves_any(tail, &declared) {
        return None;
    }
    let span = syn::spanned::Spanned::span(tail);
    // The code sits one line down in the parsed block; columns count chars.
    let (start, end) = (span.start(), span.end());
    let start_at = byte_offset(code, start.line - 1, start.column)?;
    let end_at = byte_offset(code, end.line - 1, end.column)?;
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
        syn::Pat::Ident(ident) => vec![ident.ident.to_string()],
        syn::Pat::Type(typed) => pattern_names(&typed.pat),
        syn::Pat::Tuple(tuple) => tuple.elems.iter().flat_map(pattern_names).collect(),
        syn::Pat::Reference(reference) => pattern_names(&reference.pat),
        _ => Vec::new(),
    }
}

/// Whether `expr` passes one of `names` by value to a function or method (`f(q)`, `x.g(q)`),
/// looking through the receivers, `?`, fields and parentheses of a call chain. A name behind
/// `&` is borrowed; a receiver is left out (most methods take `&self`, which moves nothing).
fn moves_any(expr: &syn::Expr, names: &[String]) -> bool {
    let passed_by_value = |arg: &syn::Expr| match arg {
        syn::Expr::Path(path) => path
            .path
            .get_ident()
            .is_some_and(|ident| names.iter().any(|n| ident == n)),
        other => moves_any(other, names),
    };
    match expr {
        syn::Expr::Call(call) => {
            call.args.iter().any(passed_by_value) || moves_any(&call.func, names)
        }
        syn::Expr::MethodCall(call) => {
            call.args.iter().any(passed_by_value) || moves_any(&call.receiver, names)
        }
        syn::Expr::Try(inner) => moves_any(&inner.expr, names),
        syn::Expr::Field(field) => moves_any(&field.base, names),
        syn::Expr::Paren(inner) => moves_any(&inner.expr, names),
        _ => false,
    }
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
    fn cells_that_move_nothing_new_are_left_alone() {
        for cell in [
            "let q = select();\nengine.execute(&q)?.to_table()",
            "engine.execute(q)?.to_table()",
            "let users = all();\nusers.to_table()",
            "let x = 1;\nx",
            "let x = 1;\nf(x);",
        ] {
            assert_eq!(bind_final_value(cell), None, "{cell}");
        }
    }
}
