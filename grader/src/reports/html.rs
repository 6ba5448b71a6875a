//! What the grader's HTML pages share: the page shell (inline CSS, no external asset, so a page
//! can be mailed, uploaded to an LMS or opened offline), escaping, and how points are written.
//!
//! The pages are built with `format!` and the `html-escape` crate rather than a template crate
//! (askama, maud): they are a few tables and code listings whose structure is code (loops over
//! cells, lines and tests), so a template would add a build step and a second language without
//! taking work away. Everything that comes from a learner or a test (sources, messages, names,
//! output) goes through [`text`] or [`attribute`].

/// The style every page carries inline.
const STYLE: &str = r#"
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 72em; color: #1b1b1b; line-height: 1.4; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.3em; margin-top: 1.6em; border-bottom: 1px solid #ddd; } h3 { font-size: 1.1em; }
table { border-collapse: collapse; margin: 0.6em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.passed td.status { color: #176317; font-weight: bold; }
tr.failed td.status { color: #a40e0e; font-weight: bold; }
tr.partial td.status { color: #8a5a00; font-weight: bold; }
pre { margin: 0; white-space: pre-wrap; word-break: break-word; font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: 0.9em; }
.cell { border: 1px solid #ccc; border-radius: 4px; margin: 0.8em 0; }
.cell .head { background: #f3f3f3; padding: 0.2em 0.6em; font-size: 0.85em; color: #555; }
.cell.failed { border-color: #c33; } .cell.failed .head { background: #fbe9e9; color: #7a0c0c; }
.markdown { padding: 0.4em 0.6em; color: #333; background: #fafafa; }
table.code { border: none; margin: 0; width: 100%; }
table.code td { border: none; padding: 0 0.5em; }
table.code td.line { color: #888; text-align: right; width: 3em; user-select: none; }
tr.diagnostic td { background: #fdf0f0; border-left: 3px solid #c33; padding: 0.3em 0.6em; }
.tests { margin: 0.4em 0 1.4em 0; }
.note { background: #fff8e1; border-left: 3px solid #e0a800; padding: 0.3em 0.6em; margin: 0.4em 0; }
.score { font-size: 1.2em; font-weight: bold; }
.side { display: flex; gap: 1em; } .side > div { flex: 1; min-width: 0; }
mark { background: #ffe58a; }
.chart svg { max-width: 100%; height: auto; }
"#;

/// A whole HTML page: `title` (escaped here) and `body` (already HTML).
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n",
        text(title)
    )
}

/// `value` escaped for HTML text content (`<`, `>`, `&`, quotes), with the terminal's control
/// characters (ANSI colours a test may print) left out.
pub fn text(value: &str) -> String {
    html_escape::encode_safe(&without_controls(value)).into_owned()
}

/// `value` escaped for a double-quoted attribute.
pub fn attribute(value: &str) -> String {
    html_escape::encode_double_quoted_attribute(&without_controls(value)).into_owned()
}

/// Control characters other than newline and tab are dropped (an ANSI escape's `ESC [ 0 m`
/// loses its `ESC`; the rest stays readable text).
fn without_controls(value: &str) -> String {
    value
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect()
}

/// Points as every page and export writes them: `2`, `0.5` (no trailing zeros, at most two
/// decimals). The one place that decides how a number of points reads.
pub fn points(value: f64) -> String {
    let rounded = (value * 100.0).round() / 100.0;
    let mut out = format!("{rounded:.2}");
    while out.ends_with('0') {
        out.pop();
    }
    if out.ends_with('.') {
        out.pop();
    }
    if out == "-0" {
        out = "0".into();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learner_text_cannot_open_a_tag() {
        assert_eq!(
            text("<script>alert(\"x\")</script> & \u{1b}[31m"),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;&#x2F;script&gt; &amp; [31m"
        );
        assert_eq!(attribute("a\"b"), "a&quot;b");
    }

    #[test]
    fn points_read_without_trailing_zeros() {
        assert_eq!(points(2.0), "2");
        assert_eq!(points(0.5), "0.5");
        assert_eq!(points(1.0 / 3.0), "0.33");
        assert_eq!(points(-0.0), "0");
    }

    #[test]
    fn a_page_is_self_contained() {
        let html = page("a <b>", "<p>x</p>");
        assert!(html.contains("<title>a &lt;b&gt;</title>"));
        assert!(!html.contains("<link"), "no external stylesheet");
        assert!(!html.contains("src="), "no external script or image");
    }
}
