//! Rust source evaluated in every context before the user's cells.

use crate::output::{CLEAR_OUTPUT, DISPLAY_BEGIN, DISPLAY_END, DISPLAY_MIME};

/// The mime type under which our panic hook reports a panic (through evcxr's content blocks, so
/// it arrives in order with the cell's stdout, before evcxr says the cell is done).
pub(crate) const PANIC_MIME: &str = "application/x.orm-eval.panic";

/// Items that persist in evcxr's state: the `jupyter` helpers for rich output.
pub(crate) fn helpers() -> String {
    format!(
        r#"
/// Rich output from a cell, shown by Jupyter as `display_data`.
pub mod jupyter {{
    /// Shows `content` as one output of type `mime`, e.g. `jupyter::display("text/html", "<b>hi</b>")`.
    pub fn display(mime: &str, content: impl std::fmt::Display) {{
        display_bundle(&[(mime, &content.to_string())]);
    }}
    /// Shows `content` as HTML.
    pub fn html(content: impl std::fmt::Display) {{
        display("text/html", content);
    }}
    /// Shows one output offered in several types, e.g. `[("text/plain", "x"), ("text/html", "<i>x</i>")]`.
    pub fn display_bundle(items: &[(&str, &str)]) {{
        use std::io::Write;
        let mut block = String::from("{DISPLAY_BEGIN}\n");
        for (mime, content) in items {{
            block.push_str("{DISPLAY_MIME}");
            block.push_str(mime);
            block.push('\n');
            block.push_str(content);
            block.push('\n');
        }}
        block.push_str("{DISPLAY_END}\n");
        let _ = std::io::stdout().lock().write_all(block.as_bytes());
    }}
    /// Clears this cell's output; with `wait`, only once new output arrives.
    pub fn clear_output(wait: bool) {{
        println!("{CLEAR_OUTPUT}{{wait}}");
    }}
}}
"#
    )
}

/// A statement installing a panic hook that reports panics of the cell's thread as a content
/// block (message and location, Debug-quoted on one line). Cells run on the thread that installs
/// the hook (evcxr's runtime loop; its name is not "main" in the cells' copy of std); panics of
/// other threads go to the previous hook (stderr) and do not fail the cell. Run after every (re)start of the process,
/// since hooks live in the process, not in evcxr's state.
pub(crate) fn panic_hook() -> String {
    format!(
        r#"{{
    let previous = std::panic::take_hook();
    let cell_thread = std::thread::current().id();
    std::panic::set_hook(Box::new(move |info| {{
        if std::thread::current().id() != cell_thread {{
            return previous(info);
        }}
        let payload = info.payload();
        let message: String = if let Some(s) = payload.downcast_ref::<&str>() {{
            s.to_string()
        }} else if let Some(s) = payload.downcast_ref::<String>() {{
            s.clone()
        }} else {{
            String::from("Box<dyn Any>")
        }};
        let location = info
            .location()
            .map(|l| format!("{{}}:{{}}:{{}}", l.file(), l.line(), l.column()))
            .unwrap_or_default();
        use std::io::Write;
        let block = format!(
            "EVCXR_BEGIN_CONTENT {PANIC_MIME}\n{{:?}}\t{{:?}}\nEVCXR_END_CONTENT\n",
            location, message
        );
        let _ = std::io::stdout().lock().write_all(block.as_bytes());
    }}));
}};"#
    )
}

/// A variable every cell defines first: evcxr keeps a cell's new variables only when the cell
/// ran to its end, so its absence afterwards shows that `?` returned an error early.
pub(crate) const SENTINEL: &str = "__orm_eval_cell_ok";
/// Put on the cell's first line, so that the user's line numbers stay (columns on line 1 are
/// shifted back in diagnostics).
pub(crate) const SENTINEL_PREFIX: &str = "let __orm_eval_cell_ok = (); ";

/// The cell with the sentinel in front; blank cells stay blank (evcxr skips them).
pub(crate) fn with_sentinel(code: &str) -> String {
    if code.trim().is_empty() {
        return code.to_owned();
    }
    format!("{SENTINEL_PREFIX}{code}")
}

/// Reads back what the panic hook wrote: (location, message).
pub(crate) fn parse_panic(block: &str) -> (String, String) {
    let (location, message) = block.split_once('\t').unwrap_or(("\"\"", block));
    (unquote_debug(location), unquote_debug(message))
}

/// Undoes Rust's `{:?}` quoting of a string (as evcxr shows a `String` value, and as the panic
/// hook writes); text that is not quoted comes back as it is. Shared with the grader, which
/// reads its tests' verdicts this way.
pub fn unquote_debug(quoted: &str) -> String {
    let inner = quoted
        .trim()
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'));
    let Some(inner) = inner else {
        return quoted.to_owned();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('0') => out.push('\0'),
            Some('u') => {
                let hex: String = chars
                    .by_ref()
                    .skip_while(|&c| c == '{')
                    .take_while(|&c| c != '}')
                    .collect();
                if let Some(c) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    out.push(c);
                }
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_blocks_read_back() {
        let message = "bad \"value\"\n\ton line\\two é \u{7f}";
        let block = format!("{:?}\t{:?}", "src/lib.rs:3:5", message);
        assert_eq!(
            parse_panic(&block),
            ("src/lib.rs:3:5".to_owned(), message.to_owned())
        );
        assert_eq!(unquote_debug("not quoted"), "not quoted");
    }
}
