//! Compiling a program with rustc against the prepared libraries, under limits, and reading
//! its errors (rustc's JSON diagnostics, `--error-format=json`).

use crate::grading::program::prepare::Prepared;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// One place of a diagnostic in the program's source (1-based lines and columns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// First line.
    pub line_start: usize,
    /// Last line.
    pub line_end: usize,
    /// First column.
    pub column_start: usize,
    /// Column after the last.
    pub column_end: usize,
    /// The place the error is about (else a secondary place).
    pub is_primary: bool,
    /// rustc's label at this place (may be empty).
    pub label: String,
}

/// One error rustc reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// rustc's message.
    pub message: String,
    /// rustc's error code (`E0425`), when it has one.
    pub code: Option<String>,
    /// Places in the program's `main.rs` (places in other files are followed back through
    /// their macro expansion to the call in `main.rs`).
    pub places: Vec<Place>,
    /// rustc's `help:` notes.
    pub help: Vec<String>,
}

impl CompileError {
    /// The primary place, or the first.
    pub fn primary(&self) -> Option<&Place> {
        self.places
            .iter()
            .find(|p| p.is_primary)
            .or_else(|| self.places.first())
    }
}

/// How a compilation ended.
#[derive(Debug)]
pub enum Compiled {
    /// The program binary.
    Binary(PathBuf),
    /// rustc's errors.
    Errors(Vec<CompileError>),
    /// rustc could not run, ran out of time or memory, or failed without a readable error.
    Failed(CompileFailure),
}

/// Why rustc gave no binary and no error about the code.
#[derive(Debug, thiserror::Error)]
pub enum CompileFailure {
    /// rustc (or `grader confine` around it) could not start.
    #[error("cannot start rustc: {0}")]
    Start(#[source] std::io::Error),
    /// rustc ran longer than the limit and was killed.
    #[error("compiling took longer than {seconds} s and was stopped")]
    Timeout {
        /// The limit, in seconds.
        seconds: u64,
    },
    /// Waiting for rustc failed.
    #[error("waiting for rustc: {0}")]
    Wait(#[source] std::io::Error),
    /// rustc failed with no JSON error (killed for memory, an internal error); its last
    /// 20 lines of stderr.
    #[error("rustc failed without an error about the code: {stderr_tail}")]
    NoDiagnostic {
        /// The last lines rustc wrote.
        stderr_tail: String,
    },
}

/// Limits and confinement of the compiler.
#[derive(Debug, Clone)]
pub struct CompileLimits {
    /// Longest the compiler may run.
    pub timeout: Duration,
    /// Address-space limit of the compiler, in bytes.
    pub memory_bytes: u64,
    /// The grader binary, to start rustc through `grader confine` (Landlock and limits
    /// applied in a process of its own before rustc starts); `None` runs rustc with limits only.
    pub confine_with: Option<PathBuf>,
    /// Whether Landlock rules confine the compiler.
    pub landlock: bool,
}

/// Compiles `dir/main.rs` into `dir/program`.
pub fn compile(prepared: &Prepared, dir: &Path, limits: &CompileLimits) -> Compiled {
    let binary = dir.join("program");
    let mut args: Vec<String> = vec![
        "main.rs".into(),
        "--edition=2021".into(),
        "--crate-type=bin".into(),
        "--crate-name=submission".into(),
        "-Copt-level=0".into(),
        "-Cdebuginfo=0".into(),
        "--error-format=json".into(),
        format!("-Ldependency={}", prepared.dependencies.display()),
        "-o".into(),
        binary.display().to_string(),
    ];
    for (name, path) in &prepared.externs {
        args.push(format!("--extern={name}={}", path.display()));
    }
    let mut command = match &limits.confine_with {
        Some(grader) => {
            let mut command = Command::new(grader);
            command.arg("confine");
            command.arg(format!("--memory-mb={}", limits.memory_bytes >> 20));
            command.arg(format!("--cpu-seconds={}", limits.timeout.as_secs() + 5));
            if !limits.landlock {
                command.arg("--no-landlock");
            }
            let libraries = prepared
                .externs
                .iter()
                .filter_map(|(_, path)| path.parent());
            for readable in [&*prepared.sysroot, &*prepared.dependencies]
                .into_iter()
                .chain(libraries)
            {
                command.arg(format!("--read={}", readable.display()));
            }
            command.arg(format!("--write={}", dir.display()));
            command.arg("--");
            command.arg(&prepared.rustc);
            command
        }
        None => Command::new(&prepared.rustc),
    };
    command
        .args(&args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("TMPDIR", dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let child = match command.spawn() {
        Ok(child) => child,
        Err(error) => return Compiled::Failed(CompileFailure::Start(error)),
    };
    let output = match wait_output(child, limits.timeout) {
        Ok(output) => output,
        Err(failure) => return Compiled::Failed(failure),
    };
    let errors = parse_diagnostics(&output.1);
    if output.0 && binary.is_file() {
        return Compiled::Binary(binary);
    }
    if errors.is_empty() {
        let text: Vec<&str> = output.1.lines().rev().take(20).collect();
        return Compiled::Failed(CompileFailure::NoDiagnostic {
            stderr_tail: text.into_iter().rev().collect::<Vec<_>>().join("\n"),
        });
    }
    Compiled::Errors(errors)
}

/// Waits for the compiler with a time limit; returns whether it succeeded and its stderr.
fn wait_output(
    mut child: std::process::Child,
    limit: Duration,
) -> Result<(bool, String), CompileFailure> {
    use std::io::Read;
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stderr.by_ref().take(16 << 20).read_to_end(&mut text);
        String::from_utf8_lossy(&text).into_owned()
    });
    let started = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let text = reader.join().unwrap_or_default();
                return Ok((status.success(), text));
            }
            Ok(None) if started.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(CompileFailure::Timeout {
                    seconds: limit.as_secs(),
                });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(error) => return Err(CompileFailure::Wait(error)),
        }
    }
}

/// The errors in rustc's JSON output (warnings and notes left out).
pub fn parse_diagnostics(stderr: &str) -> Vec<CompileError> {
    stderr
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|d| d["level"] == "error" && d["$message_type"] == "diagnostic")
        .filter_map(|d| {
            let message = d["message"].as_str()?.to_owned();
            if message.starts_with("aborting due to") {
                return None;
            }
            let places = d["spans"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(place_in_main)
                .collect();
            let help = d["children"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|c| c["level"] == "help")
                .filter_map(|c| c["message"].as_str().map(str::to_owned))
                .collect();
            Some(CompileError {
                message,
                code: d["code"]["code"].as_str().map(str::to_owned),
                places,
                help,
            })
        })
        .collect()
}

/// A span in `main.rs`, or the `main.rs` call its macro expansion came from.
fn place_in_main(span: &Value) -> Option<Place> {
    let mut span = span;
    let primary = span["is_primary"].as_bool().unwrap_or(false);
    let label = span["label"].as_str().unwrap_or("").to_owned();
    for _ in 0..32 {
        if span["file_name"].as_str() == Some("main.rs") {
            let number = |key: &str| span[key].as_u64().unwrap_or(1) as usize;
            return Some(Place {
                line_start: number("line_start"),
                line_end: number("line_end"),
                column_start: number("column_start"),
                column_end: number("column_end"),
                is_primary: primary,
                label,
            });
        }
        span = &span["expansion"]["span"];
        if span.is_null() {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_read_and_followed_back_to_main() {
        let stderr = r#"{"$message_type":"diagnostic","message":"cannot find value `x` in this scope","code":{"code":"E0425"},"level":"error","spans":[{"file_name":"main.rs","line_start":12,"line_end":12,"column_start":5,"column_end":6,"is_primary":true,"label":"not found in this scope"}],"children":[{"level":"help","message":"a local variable with a similar name exists","spans":[],"children":[]}]}
{"$message_type":"diagnostic","message":"unused variable","code":null,"level":"warning","spans":[],"children":[]}
{"$message_type":"diagnostic","message":"mismatched types","code":{"code":"E0308"},"level":"error","spans":[{"file_name":"/x/orm/src/lib.rs","line_start":3,"line_end":3,"column_start":1,"column_end":2,"is_primary":true,"label":"","expansion":{"span":{"file_name":"main.rs","line_start":40,"line_end":41,"column_start":2,"column_end":9,"is_primary":false,"label":""}}}],"children":[]}
{"$message_type":"diagnostic","message":"aborting due to 2 previous errors","code":null,"level":"error","spans":[],"children":[]}
not json"#;
        let errors = parse_diagnostics(stderr);
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].code.as_deref(), Some("E0425"));
        assert_eq!(errors[0].primary().unwrap().line_start, 12);
        assert_eq!(
            errors[0].help,
            ["a local variable with a similar name exists"]
        );
        assert_eq!(errors[1].primary().unwrap().line_start, 40);
    }
}
