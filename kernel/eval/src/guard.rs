//! Keeps evcxr's `:command` and `!shell` lines from ever running.
//!
//! evcxr reads such lines only at the head of a cell: it walks the lines in order, skips blank lines
//! and lines starting with `//`, treats a line starting with `!` as a shell command and a line
//! matching `^ *:` as a command, and stops at the first other line (the rest is Rust). The check here
//! walks the same `str::lines()` and continues over a superset of what evcxr skips (any line whose
//! trimmed text is empty or starts with `//`), and refuses any line whose trimmed text starts with
//! `:` or `!`. So every line evcxr would run as a command is refused before evcxr sees the cell.

/// A command line found at the head of a cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CommandLine {
    /// 1-based line number in the cell.
    pub line: usize,
    /// Byte range of the line in the cell.
    pub start: usize,
    pub end: usize,
    pub shell: bool,
}

/// Every head line that evcxr could take as a command, in order.
pub(crate) fn command_lines(code: &str) -> Vec<CommandLine> {
    let mut found = Vec::new();
    let base = code.as_ptr() as usize;
    for (index, line) in code.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with("//") {
            continue;
        }
        if trimmed.starts_with(':') || trimmed.starts_with('!') {
            let start = line.as_ptr() as usize - base;
            found.push(CommandLine {
                line: index + 1,
                start,
                end: start + line.len(),
                shell: trimmed.starts_with('!'),
            });
            continue;
        }
        break;
    }
    found
}

/// The message shown for a refused line.
pub(crate) fn rejection(command: &CommandLine, code: &str) -> (usize, String) {
    let text = code[command.start..command.end].trim();
    let message = if command.shell {
        format!("shell commands are not run here: `{text}` (this kernel runs only Rust code)")
    } else {
        format!(
            "evcxr commands such as `{}` are not run here: the `orm` crate is already a \
             dependency and its prelude is imported",
            text.split_whitespace().next().unwrap_or(text)
        )
    };
    (command.line, message)
}

/// The cell with every command line blanked out (same byte offsets), for completion and hover,
/// which would otherwise process them.
pub(crate) fn mask_commands(code: &str) -> String {
    let commands = command_lines(code);
    if commands.is_empty() {
        return code.to_owned();
    }
    let mut masked = String::with_capacity(code.len());
    let mut at = 0;
    for command in commands {
        masked.push_str(&code[at..command.start]);
        masked.extend(std::iter::repeat_n(' ', command.end - command.start));
        at = command.end;
    }
    masked.push_str(&code[at..]);
    masked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_commands_evcxr_would_run() {
        for cell in [
            ":dep rand",
            "   :quit",
            "\t:vars",
            "!ls",
            "  !ls -la",
            "\n\n// a comment\n:dep x = \"1\"\nlet a = 1;",
            "  // indented comment\n!rm -rf /tmp/x",
        ] {
            assert!(
                !command_lines(cell).is_empty(),
                "missed a command in {cell:?}"
            );
        }
    }

    #[test]
    fn rust_code_is_not_a_command() {
        for cell in [
            "let a = 1;\n:dep rand",
            "println!(\"hi\");",
            "let x = !true;",
            "/* c */ :x",
            "",
        ] {
            assert!(command_lines(cell).is_empty(), "false command in {cell:?}");
        }
    }

    #[test]
    fn masking_keeps_offsets() {
        let cell = ":dep x\nlet a = 1;\n";
        let masked = mask_commands(cell);
        assert_eq!(masked.len(), cell.len());
        assert_eq!(masked, "      \nlet a = 1;\n");
        assert!(command_lines(&masked).is_empty());
    }

    #[test]
    fn crlf_lines_are_handled() {
        let cell = "// c\r\n:dep x\r\nlet a = 1;";
        let commands = command_lines(cell);
        assert_eq!(commands.len(), 1);
        assert_eq!(commands[0].line, 2);
        assert!(command_lines(&mask_commands(cell)).is_empty());
    }
}
