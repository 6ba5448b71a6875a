//! execute_request: runs a cell, streams what it prints, shows its result or its error.

use super::commands::{self, Command};
use super::{After, Handled, Kernel};
use crate::protocol::message::Message;
use crate::protocol::sockets::Iopub;
use orm_eval::{render_error, EvalError, Event, MimeBundle, Outputs};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::time::Instant;

/// execute_request: runs the cell (the kernel's own `:commands` first), publishes its
/// outputs, and replies with its status.
pub async fn execute(kernel: &Kernel, request: &Message) -> Handled {
    let code = request.str_field("code").to_owned();
    let silent = request.bool_field("silent", false);
    let store_history = !silent && request.bool_field("store_history", true);
    let stop_on_error = request.bool_field("stop_on_error", true);
    // As ipykernel: a request that does not say it allows stdin does not.
    let allow_stdin = request.bool_field("allow_stdin", false);
    let count = kernel.next_execution_count(store_history);
    let parent = request.header.clone();
    if !silent {
        kernel.iopub.publish(kernel.session.broadcast(
            &parent,
            "execute_input",
            json!({"code": code, "execution_count": count}),
        ));
    }
    let (commands, rest) = commands::split(&code);
    let mut result: Result<Outputs, EvalError> = Ok(Outputs::default());
    for (_, command) in commands {
        if let Err(error) = run_command(kernel, &parent, command, silent).await {
            result = Err(error);
            break;
        }
    }
    let mut notes = Vec::new();
    if result.is_ok() && !rest.trim().is_empty() {
        let sink = output_sink(kernel, &parent, silent);
        let stdin = (allow_stdin && !silent).then(|| kernel.stdin.reader(request));
        let started = Instant::now();
        let executed = kernel.worker.execute(rest.clone(), sink, stdin).await;
        if kernel.timing.load(Ordering::Relaxed) {
            notes.push(format!("took {:.2} s\n", started.elapsed().as_secs_f64()));
        }
        result = executed.result;
        notes.splice(0..0, executed.notes);
    }
    let (content, output) = match &result {
        Ok(outputs) => {
            if !silent && !outputs.data.is_empty() {
                kernel.iopub.publish(kernel.session.broadcast(
                    &parent,
                    "execute_result",
                    json!({"execution_count": count, "data": bundle_json(&outputs.data), "metadata": {}}),
                ));
            }
            (ok_content(count), plain_text(outputs))
        }
        Err(error) => {
            let error_content = error_content(error, &rest);
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
    if !silent {
        for note in notes {
            kernel.iopub.publish(kernel.session.broadcast(
                &parent,
                "stream",
                json!({"name": "stderr", "text": note}),
            ));
        }
    }
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

/// Runs one of the kernel's own commands, publishing what it shows.
async fn run_command(
    kernel: &Kernel,
    parent: &Value,
    command: Command,
    silent: bool,
) -> Result<(), EvalError> {
    let publish = |msg_type: &str, content: Value| {
        if !silent {
            kernel
                .iopub
                .publish(kernel.session.broadcast(parent, msg_type, content));
        }
    };
    let stdout = |text: String| json!({"name": "stdout", "text": text});
    match command {
        Command::Vars => {
            let (text, html) = commands::vars_table(&kernel.worker.variables().await?);
            publish(
                "display_data",
                json!({"data": {"text/plain": text, "text/html": html}, "metadata": {}, "transient": {}}),
            );
        }
        Command::Timing(wanted) => {
            let on = wanted.unwrap_or(!kernel.timing.load(Ordering::Relaxed));
            kernel.timing.store(on, Ordering::Relaxed);
            publish(
                "stream",
                stdout(format!("timing {}\n", if on { "on" } else { "off" })),
            );
        }
        Command::Help => publish("stream", stdout(commands::HELP.to_owned())),
        Command::Clear => {
            kernel.worker.clear().await?;
            publish(
                "stream",
                stdout(
                    "cleared: every variable, function and type is gone; orm is loaded\n".into(),
                ),
            );
        }
    }
    Ok(())
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
                json!({"data": bundle_json(&data), "metadata": {}, "transient": {}}),
            ),
            Event::DisplayWithId { data, id, update } => (
                if update {
                    "update_display_data"
                } else {
                    "display_data"
                },
                json!({"data": bundle_json(&data), "metadata": {}, "transient": {"display_id": id}}),
            ),
            Event::ClearOutput { wait } => ("clear_output", json!({"wait": wait})),
        };
        iopub.publish(session.broadcast(&parent, msg_type, content));
    })
}

/// A mime bundle as Jupyter sends it: JSON types (`application/json`, `…+json`) as JSON values,
/// not strings; content that is not valid JSON stays a string.
pub fn bundle_json(data: &MimeBundle) -> Value {
    let bundle: serde_json::Map<String, Value> = data
        .iter()
        .map(|(mime, content)| {
            let value = if is_json_type(mime) {
                serde_json::from_str(content).unwrap_or_else(|_| json!(content))
            } else {
                json!(content)
            };
            (mime.clone(), value)
        })
        .collect();
    Value::Object(bundle)
}

fn is_json_type(mime: &str) -> bool {
    let essence = mime.split(';').next().unwrap_or("").trim();
    essence == "application/json" || essence.ends_with("+json")
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
