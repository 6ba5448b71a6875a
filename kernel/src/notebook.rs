//! Running a notebook headless (no Jupyter, no Python): each code cell through the evaluator,
//! its outputs written back in nbformat 4.

use crate::cli::RunArgs;
use crate::error::KernelError;
use crate::handlers::execution::{bundle_json, error_content};
use crate::install::{DISPLAY_NAME, KERNEL_NAME};
use orm_eval::{Evaluator, EvaluatorOptions, Event};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `orm-kernel run`: runs the notebook; returns how many cells failed (their errors are in the
/// written notebook).
///
/// # Errors
///
/// [`KernelError::Io`] when the notebook cannot be read or the output written,
/// [`KernelError::NotJson`] / [`KernelError::NotANotebook`] for a file that is not an nbformat 4
/// notebook (nothing is run or written then), [`KernelError::Start`] when the evaluator cannot
/// start.
pub fn run(args: &RunArgs) -> Result<usize, KernelError> {
    let path = &args.notebook;
    let text = std::fs::read_to_string(path).map_err(KernelError::io("cannot read", path))?;
    let mut notebook: Value =
        serde_json::from_str(&text).map_err(|source| KernelError::NotJson {
            path: path.clone(),
            source,
        })?;
    if notebook["nbformat"].as_u64() != Some(4) || !notebook["cells"].is_array() {
        return Err(KernelError::NotANotebook { path: path.clone() });
    }
    let mut evaluator = Evaluator::start(&EvaluatorOptions::default())?;
    let failures = run_cells(&mut evaluator, &mut notebook, args);
    set_kernel_metadata(&mut notebook);
    let out = args.output.as_ref().unwrap_or(path);
    let text = serde_json::to_string_pretty(&notebook).map_err(KernelError::Serialize)?;
    std::fs::write(out, text + "\n").map_err(KernelError::io("cannot write", out))?;
    if failures > 0 {
        eprintln!(
            "{failures} cell(s) failed; outputs written to {}",
            out.display()
        );
    }
    Ok(failures)
}

/// Runs the code cells in order; returns how many failed.
fn run_cells(evaluator: &mut Evaluator, notebook: &mut Value, args: &RunArgs) -> usize {
    let cells = notebook["cells"]
        .as_array_mut()
        .map(std::mem::take)
        .unwrap_or_default();
    let total = cells.iter().filter(|c| c["cell_type"] == "code").count();
    let mut done = Vec::with_capacity(cells.len());
    let (mut count, mut failures, mut stopped) = (0, 0, false);
    for mut cell in cells {
        if cell["cell_type"] != "code" {
            done.push(cell);
            continue;
        }
        cell["outputs"] = json!([]);
        cell["execution_count"] = Value::Null;
        if stopped {
            done.push(cell);
            continue;
        }
        count += 1;
        let source = source_text(&cell["source"]);
        let started = Instant::now();
        let (outputs, ok) = run_cell(evaluator, &source, count, args.timeout);
        eprintln!(
            "cell {count}/{total}: {} ({:.1} s)",
            if ok { "ok" } else { "failed" },
            started.elapsed().as_secs_f64()
        );
        cell["outputs"] = Value::Array(outputs);
        cell["execution_count"] = json!(count);
        if !ok {
            failures += 1;
            stopped = !args.allow_errors;
        }
        done.push(cell);
    }
    notebook["cells"] = Value::Array(done);
    failures
}

/// One cell's nbformat outputs and whether it succeeded.
fn run_cell(
    evaluator: &mut Evaluator,
    source: &str,
    count: usize,
    timeout: Option<u64>,
) -> (Vec<Value>, bool) {
    let outputs = Arc::new(Mutex::new(CellOutputs::default()));
    let collected = Arc::clone(&outputs);
    let mut sink = move |event: Event| {
        let mut outputs = collected.lock().unwrap_or_else(|p| p.into_inner());
        outputs.add(event);
    };
    let watchdog = timeout.map(|seconds| Watchdog::start(evaluator, Duration::from_secs(seconds)));
    let result = evaluator.eval(source, &mut sink);
    drop(watchdog);
    let mut outputs =
        std::mem::take(&mut *outputs.lock().unwrap_or_else(|p| p.into_inner())).outputs;
    match result {
        Ok(result) => {
            if !result.data.is_empty() {
                outputs.push(json!({
                    "output_type": "execute_result",
                    "execution_count": count,
                    "data": bundle_json(&result.data),
                    "metadata": {},
                }));
            }
            (outputs, true)
        }
        Err(error) => {
            let mut content = error_content(&error, source);
            content["output_type"] = json!("error");
            outputs.push(content);
            (outputs, false)
        }
    }
}

/// A cell's nbformat outputs as they accumulate, and where each named display is (an update
/// replaces it in place, as nbclient does).
#[derive(Default)]
struct CellOutputs {
    outputs: Vec<Value>,
    named: HashMap<String, Vec<usize>>,
}

impl CellOutputs {
    /// Adds an event as nbformat outputs, joining consecutive text of the same stream.
    fn add(&mut self, event: Event) {
        let (name, text) = match event {
            Event::Stdout(text) => ("stdout", text),
            Event::Stderr(text) => ("stderr", text),
            Event::Display(data) => {
                self.outputs.push(display(&data));
                return;
            }
            Event::DisplayWithId { data, id, update } => {
                if update {
                    for &index in self.named.get(&id).into_iter().flatten() {
                        self.outputs[index] = display(&data);
                    }
                } else {
                    self.named.entry(id).or_default().push(self.outputs.len());
                    self.outputs.push(display(&data));
                }
                return;
            }
            Event::ClearOutput { .. } => {
                self.outputs.clear();
                self.named.clear();
                return;
            }
        };
        if let Some(last) = self.outputs.last_mut() {
            if last["output_type"] == "stream" && last["name"] == name {
                let joined = format!("{}{text}", last["text"].as_str().unwrap_or(""));
                last["text"] = json!(joined);
                return;
            }
        }
        self.outputs
            .push(json!({"output_type": "stream", "name": name, "text": text}));
    }
}

fn display(data: &orm_eval::MimeBundle) -> Value {
    json!({"output_type": "display_data", "data": bundle_json(data), "metadata": {}})
}

/// nbformat allows the source as one string or as a list of lines.
fn source_text(source: &Value) -> String {
    match source {
        Value::String(text) => text.clone(),
        Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

fn set_kernel_metadata(notebook: &mut Value) {
    if !notebook["metadata"].is_object() {
        notebook["metadata"] = json!({});
    }
    let metadata = &mut notebook["metadata"];
    if metadata.get("kernelspec").is_none() {
        metadata["kernelspec"] =
            json!({"name": KERNEL_NAME, "display_name": DISPLAY_NAME, "language": "rust"});
    }
    metadata["language_info"] = json!({
        "name": "rust",
        "file_extension": ".rs",
        "mimetype": "text/rust",
        "pygments_lexer": "rust",
        "codemirror_mode": "rust",
    });
}

/// Interrupts the cell if it is still running when the time is up; dropping it cancels.
struct Watchdog {
    _cancel: std::sync::mpsc::Sender<()>,
}

impl Watchdog {
    fn start(evaluator: &Evaluator, limit: Duration) -> Watchdog {
        let interrupter = evaluator.interrupter();
        let (cancel, cancelled) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            // Dropping the sender disconnects: only a real timeout interrupts.
            if cancelled.recv_timeout(limit) == Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
                interrupter.interrupt();
            }
        });
        Watchdog { _cancel: cancel }
    }
}

/// `orm-kernel prepare`: starts an evaluator once (building `orm` if needed) and reports.
///
/// # Errors
///
/// [`KernelError::Start`] when the evaluator cannot start (e.g. `orm` does not build).
pub fn prepare() -> Result<(), KernelError> {
    let started = Instant::now();
    let evaluator = Evaluator::start(&EvaluatorOptions::default())?;
    let report = evaluator.start_report();
    println!(
        "{} start in {:.1} s (copy {:.2} s, context {:.1} s, prelude {:.1} s, save {:.2} s)",
        report.cache.describe(),
        started.elapsed().as_secs_f64(),
        report.copy.as_secs_f64(),
        report.context.as_secs_f64(),
        report.prelude.as_secs_f64(),
        report.save.as_secs_f64(),
    );
    Ok(())
}
