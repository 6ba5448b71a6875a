//! Rust source evaluated in every context before the user's cells.

use crate::output::{
    CLEAR_OUTPUT, DISPLAY_BEGIN, DISPLAY_END, DISPLAY_MIME, DISPLAY_OF_VALUE, END_MARK, NO_NEWLINE,
};

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
        send_bundle("", items);
    }}
    /// Shows `content` as an output named `id`, which later calls of [`update_display`] replace
    /// in place (a progress line, a table that fills up).
    pub fn display_with_id(id: &str, mime: &str, content: impl std::fmt::Display) {{
        send_bundle(&format!(" id={{}}", one_word(id)), &[(mime, &content.to_string())]);
    }}
    /// Replaces what the output named `id` (made by [`display_with_id`]) shows, wherever it is.
    pub fn update_display(id: &str, mime: &str, content: impl std::fmt::Display) {{
        send_bundle(&format!(" update id={{}}", one_word(id)), &[(mime, &content.to_string())]);
    }}
    fn one_word(id: &str) -> String {{
        id.replace(['\n', '\r', ' '], "_")
    }}
    fn send_bundle(header: &str, items: &[(&str, &str)]) {{
        use std::io::Write;
        let mut block = format!("{DISPLAY_BEGIN}{{header}}\n");
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

    /// Made first in every cell by the evaluator (see `cell_scope!`): the cell's stdin is a
    /// pipe the io bridge fills on request, or at end of input at once.
    #[doc(hidden)]
    pub fn __begin_cell(allow_stdin: bool) -> __CellGuard {{
        let Some([_commands, devnull]) = io_fds() else {{ return __CellGuard }};
        unsafe {{
            let mut pipe = [0i32; 2];
            if allow_stdin && pipe2(pipe.as_mut_ptr(), 0o2000000) == 0 {{
                dup2(pipe[0], 0);
                close(pipe[0]);
                std::env::set_var("{STDIN_WRITER_VAR}", pipe[1].to_string());
            }} else {{
                dup2(devnull, 0);
            }}
        }}
        __CellGuard
    }}
    unsafe extern "C" {{
        fn dup2(old: i32, new: i32) -> i32;
        fn pipe2(fds: *mut i32, flags: i32) -> i32;
        fn close(fd: i32) -> i32;
    }}
    /// The io bridge's descriptors: evcxr's command pipe (the process's stdin between cells)
    /// and /dev/null.
    fn io_fds() -> Option<[i32; 2]> {{
        let io = std::env::var("{IO_VAR}").ok()?;
        let mut fds = io.split(' ').filter_map(|fd| fd.parse().ok());
        Some([fds.next()?, fds.next()?])
    }}
    /// Ends the cell when dropped, at the end of the cell's code whichever way it ends (value,
    /// `?`, panic), before evcxr's runtime reads its next command from stdin: what the cell
    /// printed without a newline is flushed and marked, and stdin is evcxr's again.
    #[doc(hidden)]
    pub struct __CellGuard;
    impl Drop for __CellGuard {{
        fn drop(&mut self) {{
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(b"{END_MARK}\n");
            let _ = out.flush();
            let Some([commands, _devnull]) = io_fds() else {{ return }};
            unsafe {{
                if let Some(writer) = std::env::var("{STDIN_WRITER_VAR}").ok().and_then(|w| w.parse::<i32>().ok()) {{
                    std::env::remove_var("{STDIN_WRITER_VAR}");
                    close(writer);
                }}
                dup2(commands, 0);
            }}
        }}
    }}
    /// `let` in a macro is hygienic: evcxr does not see it, so it does not keep the guard as a
    /// variable, and the guard lives to the end of the cell's code.
    #[doc(hidden)]
    macro_rules! __cell_scope {{
        ($allow_stdin:expr) => {{
            let __orm_eval_guard = crate::jupyter::__begin_cell($allow_stdin);
        }};
    }}
    #[doc(hidden)]
    pub(crate) use __cell_scope;
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

/// The environment variable through which the io bridge tells cells its file descriptors
/// (`"<commands> <devnull> <pid>"`): the evaluation process's environment is one for all cells,
/// while each cell has its own copy of statics (DESIGN fact 1).
const IO_VAR: &str = "ORM_EVAL_IO";
/// Set while a cell that may read stdin runs: the write end of the cell's stdin pipe.
const STDIN_WRITER_VAR: &str = "ORM_EVAL_STDIN_WRITER";
/// What the evaluator answers an input request with to mean "end of input".
pub(crate) const END_OF_INPUT: &str = "\u{4}ORM_EVAL_EOF";

/// A statement that puts the io bridge between the evaluation process and evcxr, once per
/// process (run after every (re)start, like the panic hook). evcxr reads the process's stdout
/// line by line and keeps rich content blocks in one map by mime type; its stderr line by line.
/// The bridge's threads read the pipes that fds 1 and 2 now are:
///
/// - every group of `EVCXR_BEGIN_CONTENT` blocks (one `evcxr_display()` call, or the cell's
///   value) becomes an `ORM_EVAL_DISPLAY` block, so displays arrive in order and none replaces
///   another (the panic block passes as it is); text before a block on its line is forwarded
///   as text without newline;
/// - stderr text without newline is forwarded after a short pause, marked as such;
/// - while a cell that may read stdin (`__begin_cell(true)`) waits reading it (its thread is
///   in `read(0)` on its pipe, seen in `/proc`), it asks evcxr for a line
///   (`EVCXR_INPUT_REQUEST`), whose answer arrives on evcxr's command pipe; end of input
///   closes the pipe.
pub(crate) fn io_bridge() -> String {
    format!(
        r#"{{
    use std::io::{{BufRead, Read, Write}};
    use std::os::fd::FromRawFd;
    unsafe extern "C" {{
        fn dup2(old: i32, new: i32) -> i32;
        fn fcntl(fd: i32, cmd: i32, ...) -> i32;
        fn pipe2(fds: *mut i32, flags: i32) -> i32;
        fn close(fd: i32) -> i32;
        fn ioctl(fd: i32, request: u64, ...) -> i32;
        fn getpid() -> i32;
    }}
    const CLOEXEC: i32 = 0o2000000;
    const DUPFD_CLOEXEC: i32 = 1030;
    const FIONREAD: u64 = 0x541B;
    let pid = unsafe {{ getpid() }}.to_string();
    let installed = std::env::var("{IO_VAR}").is_ok_and(|v| v.split(' ').nth(2) == Some(pid.as_str()));
    if !installed {{ unsafe {{
        let real_out = fcntl(1, DUPFD_CLOEXEC, 10);
        let real_err = fcntl(2, DUPFD_CLOEXEC, 10);
        let commands = fcntl(0, DUPFD_CLOEXEC, 10);
        let devnull = std::fs::File::open("/dev/null").map(std::os::fd::IntoRawFd::into_raw_fd).unwrap_or(-1);
        let mut out_pipe = [0i32; 2];
        let mut err_pipe = [0i32; 2];
        if real_out >= 0 && real_err >= 0 && commands >= 0 && devnull >= 0
            && pipe2(out_pipe.as_mut_ptr(), CLOEXEC) == 0
            && pipe2(err_pipe.as_mut_ptr(), CLOEXEC) == 0
        {{
            let _ = std::io::stdout().flush();
            dup2(out_pipe[1], 1);
            close(out_pipe[1]);
            dup2(err_pipe[1], 2);
            close(err_pipe[1]);
            std::env::set_var("{IO_VAR}", format!("{{commands}} {{devnull}} {{pid}}"));
            // stderr: chunks as they come; text without newline waits briefly for the rest.
            let (chunks, chunk_rx) = std::sync::mpsc::channel::<Vec<u8>>();
            std::thread::spawn(move || {{
                let mut pipe = std::fs::File::from_raw_fd(err_pipe[0]);
                let mut buffer = [0u8; 8192];
                loop {{
                    match pipe.read(&mut buffer) {{
                        Ok(0) => break,
                        Ok(n) => if chunks.send(buffer[..n].to_vec()).is_err() {{ break }},
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {{}}
                        Err(_) => break,
                    }}
                }}
            }});
            std::thread::spawn(move || {{
                let mut out = std::fs::File::from_raw_fd(real_err);
                let mut pending: Vec<u8> = Vec::new();
                loop {{
                    let (chunk, whole) = if pending.is_empty() {{
                        match chunk_rx.recv() {{ Ok(chunk) => (chunk, false), Err(_) => break }}
                    }} else {{
                        match chunk_rx.recv_timeout(std::time::Duration::from_millis(5)) {{
                            Ok(chunk) => (chunk, false),
                            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => (Vec::new(), true),
                            Err(_) => (Vec::new(), true),
                        }}
                    }};
                    pending.extend_from_slice(&chunk);
                    let cut = if whole {{ pending.len() }} else {{ pending.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) }};
                    let rest = pending.split_off(cut);
                    if !pending.is_empty() {{
                        if !pending.ends_with(b"
") {{ pending.extend_from_slice(b"{NO_NEWLINE}
"); }}
                        let _ = out.write_all(&pending);
                    }}
                    pending = rest;
                }}
            }});
            // stdin of a cell that may read it: a line asked for whenever its thread waits.
            let main_thread = format!("/proc/{{pid}}/task/{{pid}}/syscall");
            std::thread::spawn(move || {{
                let mut commands = std::mem::ManuallyDrop::new(std::fs::File::from_raw_fd(commands));
                let pipe_of = |fd: i32| std::fs::read_link(format!("/proc/self/fd/{{fd}}")).ok();
                loop {{
                    std::thread::sleep(std::time::Duration::from_millis(30));
                    let Some(writer) = std::env::var("{STDIN_WRITER_VAR}").ok().and_then(|w| w.parse::<i32>().ok()) else {{ continue }};
                    let reading = std::fs::read_to_string(&main_thread).is_ok_and(|s| s.starts_with("0 0x0 "));
                    let mut unread: i32 = 0;
                    if !reading || pipe_of(0).is_none() || pipe_of(0) != pipe_of(writer)
                        || ioctl(writer, FIONREAD, &mut unread as *mut i32) != 0 || unread > 0
                    {{
                        continue;
                    }}
                    let _ = std::io::stdout().flush();
                    let _ = std::io::stdout().lock().write_all(b"EVCXR_INPUT_REQUEST:
");
                    let _ = std::io::stdout().flush();
                    let mut line = Vec::new();
                    let mut byte = [0u8; 1];
                    while let Ok(1) = commands.read(&mut byte) {{
                        if byte[0] == b'\n' {{ break; }}
                        line.push(byte[0]);
                    }}
                    if line == "{END_OF_INPUT}".as_bytes() {{
                        std::env::remove_var("{STDIN_WRITER_VAR}");
                        close(writer);
                    }} else {{
                        line.push(b'\n');
                        let mut pipe = std::mem::ManuallyDrop::new(std::fs::File::from_raw_fd(writer));
                        let _ = pipe.write_all(&line);
                    }}
                }}
            }});
            // stdout: content blocks grouped into displays.
            std::thread::spawn(move || {{
                let mut out = std::fs::File::from_raw_fd(real_out);
                let mut lines = std::io::BufReader::new(std::fs::File::from_raw_fd(out_pipe[0]));
                let mut group: Vec<(String, String)> = Vec::new();
                let send_group = |out: &mut std::fs::File, group: &mut Vec<(String, String)>| {{
                    if group.is_empty() {{ return; }}
                    let mut block = String::from("{DISPLAY_BEGIN}{DISPLAY_OF_VALUE}
");
                    for (mime, content) in group.drain(..) {{
                        block.push_str(&format!("{DISPLAY_MIME}{{mime}}
{{content}}
"));
                    }}
                    block.push_str("{DISPLAY_END}
");
                    let _ = out.write_all(block.as_bytes());
                }};
                let read_line = |lines: &mut std::io::BufReader<std::fs::File>| -> Option<String> {{
                    let mut bytes = Vec::new();
                    match lines.read_until(b'\n', &mut bytes) {{
                        Ok(0) | Err(_) => None,
                        Ok(_) => {{
                            if bytes.ends_with(b"
") {{ bytes.pop(); }}
                            Some(String::from_utf8_lossy(&bytes).into_owned())
                        }}
                    }}
                }};
                const BEGIN: &str = "EVCXR_BEGIN_CONTENT ";
                while let Some(mut line) = read_line(&mut lines) {{
                    if let Some(at) = line.find(BEGIN).filter(|&at| at > 0) {{
                        send_group(&mut out, &mut group);
                        let _ = out.write_all(format!("{{}}{NO_NEWLINE}
", &line[..at]).as_bytes());
                        line = line[at..].to_owned();
                    }}
                    if let Some(mime) = line.strip_prefix(BEGIN).map(|m| m.trim().to_owned()) {{
                        if mime != "{PANIC_MIME}" {{
                            let mut content = String::new();
                            let mut cut_short = None;
                            while let Some(line) = read_line(&mut lines) {{
                                if line == "EVCXR_END_CONTENT" {{ break; }}
                                if line == "EVCXR_PANIC_NOTIFICATION" {{ cut_short = Some(line); break; }}
                                if !content.is_empty() {{ content.push('\n'); }}
                                content.push_str(&line);
                            }}
                            if group.iter().any(|(m, _)| *m == mime) {{ send_group(&mut out, &mut group); }}
                            group.push((mime, content));
                            if let Some(line) = cut_short {{
                                send_group(&mut out, &mut group);
                                let _ = out.write_all(format!("{{line}}
").as_bytes());
                            }}
                            continue;
                        }}
                    }}
                    send_group(&mut out, &mut group);
                    let _ = out.write_all(format!("{{line}}
").as_bytes());
                }}
            }});
        }}
    }} }}
}};"#
    )
}

/// A variable every cell defines first: evcxr keeps a cell's new variables only when the cell
/// ran to its end, so its absence afterwards shows that `?` returned an error early.
pub(crate) const SENTINEL: &str = "__orm_eval_cell_ok";
/// Put on the cell's first line, so that the user's line numbers stay (columns on line 1 are
/// shifted back in diagnostics).
pub(crate) const SENTINEL_PREFIX: &str = "let __orm_eval_cell_ok = (); ";

/// What goes before a cell on its first line: the sentinel and the cell's scope guard (stdin,
/// the end-of-cell flush; see `helpers`). Diagnostics shift line 1 back by its width.
pub(crate) fn cell_prefix(allow_stdin: bool) -> String {
    format!("{SENTINEL_PREFIX}jupyter::__cell_scope!({allow_stdin}); ")
}

/// The cell with its prefix in front; blank cells stay blank (evcxr skips them).
pub(crate) fn with_sentinel(code: &str, allow_stdin: bool) -> String {
    if code.trim().is_empty() {
        return code.to_owned();
    }
    format!("{}{code}", cell_prefix(allow_stdin))
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
