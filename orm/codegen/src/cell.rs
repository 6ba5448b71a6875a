//! Rewriting a notebook cell: every `#[derive(Model)]` (and `#[derive(FromRow)]`) struct becomes
//! plain Rust (the struct without the derive, plus the generated impls), keeping each line of the user's code on the
//! same line so compiler errors still point at the learner's own lines.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use std::fmt;
use std::ops::Range;

/// A `#[derive(Model)]` that cannot be expanded: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellError {
    /// 1-based line in the cell.
    pub line: usize,
    /// 1-based column in the cell.
    pub column: usize,
    pub message: String,
}

impl fmt::Display for CellError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for CellError {}

/// Expands every top-level `#[derive(Model)]` struct in `source`. A cell that does not lex is
/// returned unchanged, so the compiler reports its errors in its own words.
///
/// ```
/// let cell = "#[derive(Model, Clone)]\n#[orm(table = \"users\")]\npub struct User { #[orm(primary_key)] pub id: i64 }\nlet x = 1;";
/// let out = orm_codegen::rewrite_cell(cell).unwrap();
/// assert!(out.contains("impl :: orm :: Model for User"));
/// assert_eq!(out.lines().count(), cell.lines().count());
/// assert!(!out.contains("#[orm("));
/// ```
pub fn rewrite_cell(source: &str) -> Result<String, CellError> {
    let Ok(tokens) = source.parse::<TokenStream>() else {
        return Ok(source.to_string());
    };
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let base = trees.first().map_or(0, |t| t.span().byte_range().start);
    let offset = |span: Span| {
        let r = span.byte_range();
        r.start - base + leading_offset(source)..r.end - base + leading_offset(source)
    };
    let mut blanks: Vec<Range<usize>> = Vec::new();
    let mut inserts: Vec<(usize, String)> = Vec::new();
    for (i, tree) in trees.iter().enumerate() {
        let TokenTree::Ident(kw) = tree else { continue };
        if kw != "struct" && kw != "enum" {
            continue;
        }
        let start = item_start(&trees, i);
        let attrs = attributes(&trees[start..i]);
        let (model_path, from_row_path, db_enum_path) = if kw == "struct" {
            // Expanded with the model when both are derived: the `#[orm(…)]` attributes it
            // reads are blanked below, so the proc macro would no longer see them.
            (
                attrs.iter().find_map(|a| derive_path(a, "Model")),
                attrs.iter().find_map(|a| derive_path(a, "FromRow")),
                None,
            )
        } else {
            (
                None,
                None,
                attrs.iter().find_map(|a| derive_path(a, "DbEnum")),
            )
        };
        if model_path.is_none() && from_row_path.is_none() && db_enum_path.is_none() {
            continue;
        }
        let Some(body_end) = (i + 1..trees.len()).find(
            |&j| matches!(&trees[j], TokenTree::Group(g) if g.delimiter() == Delimiter::Brace),
        ) else {
            continue;
        };
        let item: TokenStream = trees[start..=body_end].iter().cloned().collect();
        let input: syn::DeriveInput = syn::parse2(item).map_err(|e| cell_error(&e, source))?;
        let mut generated = TokenStream::new();
        if let Some(path) = &model_path {
            generated.extend(crate::expand_model(&input).map_err(|e| cell_error(&e, source))?);
            blanks.push(offset_range(path, &offset));
        }
        if let Some(path) = &from_row_path {
            generated.extend(crate::expand_from_row(&input).map_err(|e| cell_error(&e, source))?);
            blanks.push(offset_range(path, &offset));
        }
        if let Some(path) = &db_enum_path {
            generated.extend(crate::expand_db_enum(&input).map_err(|e| cell_error(&e, source))?);
            blanks.push(offset_range(path, &offset));
        }
        for attr in &attrs {
            if attr_name(attr) == Some("orm") {
                blanks.push(offset(attr.0.span()).start..offset(attr.1.span()).end);
            }
        }
        if let TokenTree::Group(body) = &trees[body_end] {
            let fields: Vec<TokenTree> = body.stream().into_iter().collect();
            for attr in attributes(&fields) {
                if attr_name(&attr) == Some("orm") {
                    blanks.push(offset(attr.0.span()).start..offset(attr.1.span()).end);
                }
            }
        }
        inserts.push((offset(trees[body_end].span()).end, format!(" {generated}")));
    }
    if inserts.is_empty() {
        return Ok(source.to_string());
    }
    let mut out = source.as_bytes().to_vec();
    for range in blanks {
        for b in &mut out[range] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    }
    let mut text = String::from_utf8(out).unwrap_or_else(|_| source.to_string());
    inserts.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    for (at, code) in inserts {
        text.insert_str(at, &code);
    }
    Ok(text)
}

/// proc-macro2 numbers bytes from the first token; the source may start with whitespace or comments.
fn leading_offset(source: &str) -> usize {
    match source
        .parse::<TokenStream>()
        .ok()
        .and_then(|t| t.into_iter().next())
    {
        Some(first) => {
            let lc = first.span().start();
            line_col_to_byte(source, lc.line, lc.column)
        }
        None => 0,
    }
}

fn line_col_to_byte(source: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (n, l) in source.split_inclusive('\n').enumerate() {
        if n + 1 == line {
            return offset + l.char_indices().nth(column).map_or(l.len(), |(b, _)| b);
        }
        offset += l.len();
    }
    offset
}

fn cell_error(e: &syn::Error, _source: &str) -> CellError {
    let start = e.span().start();
    CellError {
        line: start.line.max(1),
        column: start.column + 1,
        message: e.to_string(),
    }
}

/// Walks back from `struct` over visibility and attributes to where the item begins.
fn item_start(trees: &[TokenTree], struct_at: usize) -> usize {
    let mut i = struct_at;
    while i > 0 {
        match &trees[i - 1] {
            TokenTree::Ident(id) if id == "pub" => i -= 1,
            TokenTree::Group(g)
                if g.delimiter() == Delimiter::Parenthesis
                    && i >= 2
                    && matches!(&trees[i - 2], TokenTree::Ident(id) if id == "pub") =>
            {
                i -= 1
            }
            TokenTree::Group(g)
                if g.delimiter() == Delimiter::Bracket
                    && i >= 2
                    && matches!(&trees[i - 2], TokenTree::Punct(p) if p.as_char() == '#') =>
            {
                i -= 2
            }
            _ => break,
        }
    }
    i
}

/// `#` and its bracket group, for each outer attribute in `trees`.
fn attributes(trees: &[TokenTree]) -> Vec<(TokenTree, TokenTree)> {
    let mut out = Vec::new();
    for pair in trees.windows(2) {
        if let (TokenTree::Punct(p), TokenTree::Group(g)) = (&pair[0], &pair[1]) {
            if p.as_char() == '#' && g.delimiter() == Delimiter::Bracket {
                out.push((pair[0].clone(), pair[1].clone()));
            }
        }
    }
    out
}

fn attr_name(attr: &(TokenTree, TokenTree)) -> Option<&'static str> {
    let TokenTree::Group(g) = &attr.1 else {
        return None;
    };
    match g.stream().into_iter().next() {
        Some(TokenTree::Ident(id)) if id == "orm" => Some("orm"),
        Some(TokenTree::Ident(id)) if id == "derive" => Some("derive"),
        _ => None,
    }
}

/// The tokens to blank out of `#[derive(…)]` to remove `Model` (or `orm::Model`) and one comma.
/// The tokens of the derive `name` in a `#[derive(…)]` list, with the comma that separates it.
fn derive_path(attr: &(TokenTree, TokenTree), name: &str) -> Option<Vec<TokenTree>> {
    if attr_name(attr) != Some("derive") {
        return None;
    }
    let TokenTree::Group(g) = &attr.1 else {
        return None;
    };
    let list = g.stream().into_iter().find_map(|t| match t {
        TokenTree::Group(inner) if inner.delimiter() == Delimiter::Parenthesis => Some(inner),
        _ => None,
    })?;
    let items: Vec<TokenTree> = list.stream().into_iter().collect();
    let at = items
        .iter()
        .position(|t| matches!(t, TokenTree::Ident(id) if id == name))?;
    let mut start = at;
    while start >= 2 && matches!(&items[start - 1], TokenTree::Punct(p) if p.as_char() == ':') {
        start -= 1;
        while start >= 1 && !matches!(&items[start - 1], TokenTree::Punct(p) if p.as_char() == ',')
        {
            start -= 1;
        }
    }
    let mut end = at;
    if matches!(items.get(at + 1), Some(TokenTree::Punct(p)) if p.as_char() == ',') {
        end = at + 1;
    } else if start >= 1 && matches!(&items[start - 1], TokenTree::Punct(p) if p.as_char() == ',') {
        start -= 1;
    }
    Some(items[start..=end].to_vec())
}

fn offset_range(tokens: &[TokenTree], offset: &impl Fn(Span) -> Range<usize>) -> Range<usize> {
    let first = offset(tokens[0].span());
    let last = offset(tokens[tokens.len() - 1].span());
    first.start..last.end
}

#[cfg(test)]
mod tests {
    use super::*;

    const CELL: &str = "// the users table\n#[derive(Model, Debug, Clone, Default)]\n#[orm(table = \"users\")]\npub struct User {\n    #[orm(primary_key)] pub id: i64,\n    pub name: String,\n    #[orm(unique)] pub email: Option<String>,\n}\nlet n = 1;\n";

    #[test]
    fn keeps_every_line_of_the_cell_in_place() {
        let out = rewrite_cell(CELL).unwrap();
        assert_eq!(out.lines().count(), CELL.lines().count());
        for (before, after) in CELL.lines().zip(out.lines()) {
            if !before.contains("orm(") && !before.contains("derive") && !before.starts_with('}') {
                assert_eq!(before, after);
            }
        }
        assert!(
            out.contains("#[derive(       Debug, Clone, Default)]"),
            "{out}"
        );
        assert!(!out.contains("#[orm"), "{out}");
        assert!(out.contains("pub const email"), "{out}");
    }

    #[test]
    fn derive_last_in_the_list_and_qualified() {
        let cell = "#[derive(Clone, orm::Model)] struct Item { id: i64 }";
        let out = rewrite_cell(cell).unwrap();
        let blanked = format!(
            "#[derive(Clone{})] struct Item {{ id: i64 }}",
            " ".repeat(", orm::Model".len())
        );
        assert!(out.starts_with(&blanked), "{out}");
    }

    #[test]
    fn cells_without_models_and_cells_that_do_not_lex_are_unchanged() {
        assert_eq!(
            rewrite_cell("let x = 1;\nx + 1").unwrap(),
            "let x = 1;\nx + 1"
        );
        assert_eq!(
            rewrite_cell("let s = \"unterminated;").unwrap(),
            "let s = \"unterminated;"
        );
    }

    #[test]
    fn db_enum_is_expanded_with_its_variant_attributes_blanked() {
        let cell = "#[derive(Debug, DbEnum, Clone)]\nenum Status {\n  Open,\n  #[orm(rename = \"done\")] Closed,\n}";
        let out = rewrite_cell(cell).unwrap();
        assert!(out.contains("impl :: orm :: SqlType for Status"), "{out}");
        assert!(out.contains("\"done\""), "{out}");
        assert!(!out.contains("DbEnum") && !out.contains("#[orm"), "{out}");
        assert_eq!(out.lines().count(), cell.lines().count());
    }

    #[test]
    fn from_row_is_expanded_alone_or_with_the_model() {
        let cell = "#[derive(Model, FromRow, Clone)]\nstruct P {\n  #[orm(primary_key)] id: i64,\n  #[orm(column = \"full_name\")] name: String,\n}\n#[derive(orm::FromRow)]\nstruct Q { n: i64 }";
        let out = rewrite_cell(cell).unwrap();
        assert_eq!(out.lines().count(), cell.lines().count());
        assert!(out.contains("impl :: orm :: Model for P"), "{out}");
        assert!(
            out.contains("impl :: orm :: core :: FromRow for P"),
            "{out}"
        );
        assert!(out.contains("row . get (\"full_name\")"), "{out}");
        assert!(
            out.contains("impl :: orm :: core :: FromRow for Q"),
            "{out}"
        );
        assert!(!out.contains("FromRow,") && !out.contains("#[orm"), "{out}");
        let blanked = format!("#[derive({}Clone)]", " ".repeat("Model, FromRow, ".len()));
        assert!(out.contains(&blanked), "{out}");
    }

    #[test]
    fn a_bad_option_is_reported_at_its_line() {
        let cell = "let a = 1;\n#[derive(Model)]\nstruct T {\n  #[orm(primary_key, colour = 3)] id: i64,\n}";
        let err = rewrite_cell(cell).unwrap_err();
        assert_eq!(err.line, 4, "{err}");
        assert!(
            err.message.contains("unknown column option `colour`"),
            "{err}"
        );
    }
}
