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
