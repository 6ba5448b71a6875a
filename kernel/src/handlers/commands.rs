//! The kernel's own `:` commands, run before a cell's Rust: `:vars`, `:timing`, `:help`,
//! `:clear`. Only the kernel knows them; any other `:` or `!` line goes on to the evaluator,
//! which refuses it (as it refuses all of them when the grader evaluates).

/// A command the kernel runs itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// A table of the variables cells have defined, and their types.
    Vars,
    /// Turn the time shown after each cell on or off (`:timing`, `:timing on|off`).
    Timing(Option<bool>),
    /// List the commands (`:help`).
    Help,
    /// Forget every variable and item (orm and the prelude stay).
    Clear,
}

/// What `:help` shows.
pub const HELP: &str = "Commands this kernel runs (at the top of a cell, before any Rust):
  :vars            a table of the variables cells have defined, with their types
  :timing [on|off] show how long each cell took (no argument: switch)
  :clear           forget every variable, function and type of earlier cells (orm stays loaded)
  :help            this list
Other evcxr commands (:dep, :quit, ...) and !shell lines are refused: orm is already a
dependency and its prelude is imported. In cells: jupyter::display(mime, content),
jupyter::html(content), jupyter::display_with_id(id, mime, content),
jupyter::update_display(id, mime, content), jupyter::clear_output(wait).
";

/// The kernel commands at the head of `code` (in order, with their 1-based lines), and the
/// rest of the cell with those lines blanked (line numbers kept).
pub fn split(code: &str) -> (Vec<(usize, Command)>, String) {
    let mut found = Vec::new();
    let mut lines: Vec<&str> = code.split('\n').collect();
    for (index, line) in lines.iter_mut().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with("//") {
            continue;
        }
        match parse(trimmed) {
            Some(command) => {
                found.push((index + 1, command));
                *line = "";
            }
            None => break,
        }
    }
    (found, lines.join("\n"))
}

fn parse(line: &str) -> Option<Command> {
    let mut words = line.strip_prefix(':')?.split_whitespace();
    let command = match (words.next()?, words.next()) {
        ("vars", None) => Command::Vars,
        ("help", None) => Command::Help,
        ("clear", None) => Command::Clear,
        ("timing", None) => Command::Timing(None),
        ("timing", Some("on" | "1" | "true")) => Command::Timing(Some(true)),
        ("timing", Some("off" | "0" | "false")) => Command::Timing(Some(false)),
        _ => return None,
    };
    words.next().is_none().then_some(command)
}

/// `:vars` as text and HTML tables.
pub fn vars_table(variables: &[(String, String)]) -> (String, String) {
    if variables.is_empty() {
        return (
            "no variables yet".to_owned(),
            "<p>no variables yet</p>".to_owned(),
        );
    }
    let width = variables
        .iter()
        .map(|(name, _)| name.chars().count())
        .max()
        .unwrap_or(0)
        .max(8);
    let mut text = format!("{:width$}  type\n", "variable");
    let mut html =
        String::from("<table><thead><tr><th>variable</th><th>type</th></tr></thead><tbody>");
    for (name, ty) in variables {
        text.push_str(&format!("{name:width$}  {ty}\n"));
        html.push_str(&format!(
            "<tr><td><code>{}</code></td><td><code>{}</code></td></tr>",
            escape(name),
            escape(ty)
        ));
    }
    html.push_str("</tbody></table>");
    (text.trim_end().to_owned(), html)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_commands_are_taken_and_their_lines_blanked() {
        let (commands, rest) = split("// c\n:vars\n:timing on\nlet a = 1;\n:vars");
        assert_eq!(
            commands,
            [(2, Command::Vars), (3, Command::Timing(Some(true)))]
        );
        assert_eq!(rest, "// c\n\n\nlet a = 1;\n:vars");
    }

    #[test]
    fn other_commands_are_left_for_the_evaluator_to_refuse() {
        let (commands, rest) = split(":dep rand\n:vars");
        assert!(commands.is_empty());
        assert_eq!(rest, ":dep rand\n:vars");
        assert!(split(":vars x").0.is_empty());
        assert!(split("!ls").0.is_empty());
    }

    #[test]
    fn vars_are_a_table() {
        let (text, html) = vars_table(&[
            ("engine".into(), "Engine".into()),
            ("n".into(), "Vec<i64>".into()),
        ]);
        assert_eq!(text, "variable  type\nengine    Engine\nn         Vec<i64>");
        assert!(html.contains("<code>Vec&lt;i64&gt;</code>"));
    }
}
