//! Requests about code rather than runs of it: is_complete, complete, inspect.

use super::{Handled, Kernel};
use crate::protocol::message::{byte_to_char, char_to_byte, Message};
use orm_eval::Completeness;
use serde_json::json;

/// is_complete_reply: `complete`, `incomplete` (with an indent) or `invalid`.
pub fn is_complete(kernel: &Kernel, request: &Message) -> Handled {
    let content = match orm_eval::is_complete(request.str_field("code")) {
        Completeness::Complete => json!({"status": "complete"}),
        Completeness::Incomplete { indent } => json!({"status": "incomplete", "indent": indent}),
        Completeness::Invalid => json!({"status": "invalid"}),
    };
    Handled::reply(kernel.session.reply(request, "is_complete_reply", content))
}

/// Completions from rust-analyzer through evcxr, with the variables and items of earlier cells.
pub async fn complete(kernel: &Kernel, request: &Message) -> Handled {
    let code = request.str_field("code").to_owned();
    let cursor_chars = request.usize_field("cursor_pos", code.chars().count());
    let cursor = char_to_byte(&code, cursor_chars);
    let content = match kernel.worker.complete(code.clone(), cursor).await {
        Ok(found) => {
            let (start, end) = (
                byte_to_char(&code, found.start),
                byte_to_char(&code, found.end),
            );
            let types: Vec<_> = found
                .matches
                .iter()
                .map(|m| json!({"start": start, "end": end, "text": m.text, "type": m.kind}))
                .collect();
            json!({
                "status": "ok",
                "matches": found.matches.iter().map(|m| &m.text).collect::<Vec<_>>(),
                "cursor_start": start,
                "cursor_end": end,
                "metadata": {"_jupyter_types_experimental": types},
            })
        }
        // A failed completion is an empty one: the user is typing, not asking for an error.
        Err(error) => {
            eprintln!("orm-kernel: completion failed: {error}");
            json!({
                "status": "ok",
                "matches": [],
                "cursor_start": cursor_chars,
                "cursor_end": cursor_chars,
                "metadata": {},
            })
        }
    };
    Handled::reply(kernel.session.reply(request, "complete_reply", content))
}

/// Hover documentation for the name at the cursor.
pub async fn inspect(kernel: &Kernel, request: &Message) -> Handled {
    let code = request.str_field("code").to_owned();
    let cursor = char_to_byte(
        &code,
        request.usize_field("cursor_pos", code.chars().count()),
    );
    let content = match kernel.worker.inspect(code, cursor).await {
        Ok(Some(found)) => json!({
            "status": "ok",
            "found": true,
            "data": {"text/plain": found.text, "text/html": found.html},
            "metadata": {},
        }),
        Ok(None) => json!({"status": "ok", "found": false, "data": {}, "metadata": {}}),
        Err(error) => {
            eprintln!("orm-kernel: inspection failed: {error}");
            json!({"status": "ok", "found": false, "data": {}, "metadata": {}})
        }
    };
    Handled::reply(kernel.session.reply(request, "inspect_reply", content))
}
