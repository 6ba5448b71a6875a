//! execute_request: runs a cell, streams what it prints, shows its result or its error.

use super::{After, Handled, Kernel};
use crate::protocol::message::Message;
use crate::protocol::sockets::Iopub;
use orm_eval::{render_error, EvalError, Event, Outputs};
use serde_json::{json, Value};

pub async fn execute(kernel: &Kernel, request: &Message) -> Handled {
    let code = request.str_field("code").to_owned();
    let silent = request.bool_field("silent", false);
    let store_history = !silent && request.bool_field("store_history", true);
    let stop_on_error = request.bool_field("stop_on_error", true);
    let count = kernel.next_execution_count(store_history);
    let parent = request.header.clone();
    if !silent {
        kernel.iopub.publish(kernel.session.broadcast(
            &parent,
            "execute_input",
            json!({"code": code, "execution_count": count}),
        ));
    }
    let sink = output_sink(kernel, &parent, silent);
    let result = kernel.worker.execute(code.clone(), sink).await;
    let (content, output) = match &result {
        Ok(outputs) => {
            if !silent && !outputs.data.is_empty() {
                kernel.iopub.publish(kernel.session.broadcast(
                    &parent,
                    "execute_result",
                    json!({"execution_count": count, "data": outputs.data, "metadata": {}}),
                ));
            }
            (ok_content(count), plain_text(outputs))
        }
        Err(error) => {
            let error_content = error_content(error, &code);
            if !silent {
                kernel.iopub.publish(kernel.session.broadcast(
                    &parent,
                    "error",
                    error_content.clone(),
                ));
            }
            let mut content = error_content;
            content["status"] = json!("error");
            content["execution_count"] = json!(count);
            (content, None)
        }
    };
    if store_history {
        super::history::record(kernel, count, &code, output);
    }
    kernel.iopub.flush().await;
    Handled {
        reply: Some(kernel.session.reply(request, "execute_reply", content)),
        after: if result.is_err() && stop_on_error {
            After::AbortQueued
        } else {
            After::Nothing
        },
    }
}

/// The reply to an execute request that is skipped because an earlier cell failed.
pub fn aborted(kernel: &Kernel, request: &Message) -> Message {
    let count = kernel.next_execution_count(false);
    kernel.session.reply(
        request,
        "execute_reply",
        json!({"status": "aborted", "execution_count": count}),
    )
}

fn ok_content(count: usize) -> Value {
    json!({
        "status": "ok",
        "execution_count": count,
        "payload": [],
        "user_expressions": {},
    })
}

fn plain_text(outputs: &Outputs) -> Option<String> {
    outputs.data.get("text/plain").cloned()
}

/// Publishes what the cell prints as it prints it (nothing for silent requests).
fn output_sink(kernel: &Kernel, parent: &Value, silent: bool) -> crate::worker::Sink {
    if silent {
        return Box::new(|_| {});
    }
    let iopub: Iopub = kernel.iopub.clone();
    let session = kernel.session.clone();
    let parent = parent.clone();
    Box::new(move |event: Event| {
        let (msg_type, content) = match event {
            Event::Stdout(text) => ("stream", json!({"name": "stdout", "text": text})),
            Event::Stderr(text) => ("stream", json!({"name": "stderr", "text": text})),
            Event::Display(data) => (
                "display_data",
                json!({"data": data, "metadata": {}, "transient": {}}),
            ),
            Event::ClearOutput { wait } => ("clear_output", json!({"wait": wait})),
        };
        iopub.publish(session.broadcast(&parent, msg_type, content));
    })
}

const RED: &str = "\u{1b}[0;31m";
const BOLD_RED: &str = "\u{1b}[1;31m";
const BLUE: &str = "\u{1b}[0;34m";
const RESET: &str = "\u{1b}[0m";

/// ename, evalue and a rustc-style traceback quoting the cell's own lines, coloured the way
/// frontends render tracebacks (ANSI).
pub fn error_content(error: &EvalError, code: &str) -> Value {
    let traceback: Vec<String> = render_error(error, code)
        .into_iter()
        .map(|line| colour(&line))
        .collect();
    json!({
        "ename": error.kind_name(),
        "evalue": error.to_string(),
        "traceback": traceback,
    })
}

fn colour(line: &str) -> String {
    if line.starts_with("error") {
        format!("{BOLD_RED}{line}{RESET}")
    } else if let Some((gutter, rest)) = line.split_once(" | ") {
        if gutter.trim().is_empty() {
            format!("{BLUE}{gutter} | {RESET}{RED}{rest}{RESET}")
        } else {
            format!("{BLUE}{gutter} | {RESET}{rest}")
        }
    } else if line.trim_start().starts_with("-->") || line.trim() == "|" {
        format!("{BLUE}{line}{RESET}")
    } else {
        line.to_owned()
    }
}
