//! The libraries a graded program links, built once per machine: `orm` and the harness crate,
//! compiled by cargo into a cache folder keyed by their sources and the compiler's version
//! (`grader prepare`; the Gradescope `setup.sh` and the cluster images run it).

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What compiling a program needs: the compiler and the prepared libraries.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Prepared {
    /// The toolchain's own `rustc` (not rustup's proxy, so no environment is needed).
    pub rustc: PathBuf,
    /// The toolchain's root (read by the compiler).
    pub sysroot: PathBuf,
    /// `-L dependency=` folder with every library the two crates depend on.
    pub dependencies: PathBuf,
    /// `--extern NAME=PATH` for `orm` and `orm_grader_harness`.
    pub externs: Vec<(String, PathBuf)>,
}

/// Why the libraries could not be prepared.
#[derive(Debug)]
pub enum PrepareError {
    /// A tool could not be started or a file could not be written.
    Io {
        /// What failed.
        what: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// cargo failed; its last lines of output.
    Build(String),
}

impl std::fmt::Display for PrepareError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrepareError::Io { what, source } => write!(f, "{what}: {source}"),
            PrepareError::Build(output) => {
                write!(f, "building orm and the grader's harness failed:\n{output}")
            }
        }
    }
}

impl std::error::Error for PrepareError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PrepareError::Io { source, .. } => Some(source),
            PrepareError::Build(_) => None,
        }
    }
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> PrepareError {
    let what = what.into();
    move |source| PrepareError::Io { what, source }
}

/// The harness crate's folder: `$ORM_GRADER_HARNESS_PATH`, else `grader/harness` as it was
/// when this binary was built.
pub fn harness_path() -> PathBuf {
    match std::env::var_os("ORM_GRADER_HARNESS_PATH").filter(|p| !p.is_empty()) {
        Some(path) => PathBuf::from(path),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("harness"),
    }
}

/// Where prepared libraries are kept: `grader-program/` in orm-eval's cache folder.
pub fn cache_dir() -> PathBuf {
    orm_eval::default_cache_dir().join("grader-program")
}

/// The prepared libraries for the current sources, building them first when needed; the flag
/// says whether they were built now (a cold start).
///
/// # Errors
/// [`PrepareError`] when the toolchain cannot be found or cargo fails.
pub fn prepare(verbose: bool) -> Result<(Prepared, bool), PrepareError> {
    let harness = harness_path();
    let workspace = harness
        .parent()
        .and_then(Path::parent)
        .map(Path::to_owned)
        .unwrap_or_else(|| PathBuf::from("."));
    let sysroot = sysroot()?;
    let key = cache_key(&workspace, &harness, &sysroot)?;
    let folder = cache_dir().join(&key);
    let manifest = folder.join("prepared.json");
    if let Ok(text) = std::fs::read_to_string(&manifest) {
        if let Ok(prepared) = serde_json::from_str::<Prepared>(&text) {
            if prepared.dependencies.is_dir()
                && prepared.externs.iter().all(|(_, path)| path.is_file())
            {
                return Ok((prepared, false));
            }
        }
    }
    if verbose {
        eprintln!(
            "grader: building orm and the harness once (cache {})",
            folder.display()
        );
    }
    let prepared = build(&harness, &folder.join("target"), &sysroot)?;
    let text = serde_json::to_string_pretty(&prepared).expect("paths serialize");
    std::fs::write(&manifest, text).map_err(io(format!("writing {}", manifest.display())))?;
    Ok((prepared, true))
}

fn sysroot() -> Result<PathBuf, PrepareError> {
    let output = Command::new("rustc")
        .args(["--print", "sysroot"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(io("running `rustc --print sysroot` (is Rust installed?)"))?;
    Ok(PathBuf::from(
        String::from_utf8_lossy(&output.stdout).trim().to_owned(),
    ))
}

/// A short hash of everything the prepared libraries depend on.
fn cache_key(workspace: &Path, harness: &Path, sysroot: &Path) -> Result<String, PrepareError> {
    let mut hasher = Sha256::new();
    hasher.update(env!("CARGO_PKG_VERSION"));
    hasher.update(sysroot.to_string_lossy().as_bytes());
    let version = Command::new(sysroot.join("bin/rustc"))
        .arg("-vV")
        .output()
        .map_err(io("running rustc -vV"))?;
    hasher.update(&version.stdout);
    let mut files = Vec::new();
    for dir in [workspace.join("orm"), harness.to_owned()] {
        files.extend(
            orm_eval::source_files(&dir).map_err(io(format!("listing {}", dir.display())))?,
        );
    }
    files.push(workspace.join("Cargo.toml"));
    files.push(workspace.join("Cargo.lock"));
    for file in files.iter().filter(|f| f.is_file()) {
        let content = std::fs::read(file).map_err(io(format!("reading {}", file.display())))?;
        hasher.update(file.to_string_lossy().as_bytes());
        hasher.update((content.len() as u64).to_le_bytes());
        hasher.update(&content);
    }
    Ok(hasher.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn build(harness: &Path, target: &Path, sysroot: &Path) -> Result<Prepared, PrepareError> {
    let mut command = Command::new("cargo");
    command
        .args(["build", "--release", "--locked", "--message-format=json"])
        .arg("--manifest-path")
        .arg(harness.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Settings of an outer cargo (when the grader runs under `cargo test`) are not ours.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if (name.starts_with("CARGO_") && name != "CARGO_HOME") || name == "RUSTC_WRAPPER" {
            command.env_remove(&*name);
        }
    }
    let output = command.output().map_err(io("running cargo"))?;
    if !output.status.success() {
        let text = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = text.lines().rev().take(30).collect();
        return Err(PrepareError::Build(
            tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
        ));
    }
    let mut externs = Vec::new();
    let dependencies = target.join("release").join("deps");
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        let name = message["target"]["name"]
            .as_str()
            .unwrap_or("")
            .replace('-', "_");
        if name != "orm" && name != "orm_grader_harness" {
            continue;
        }
        let rlib = message["filenames"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f.as_str())
            .find(|f| f.ends_with(".rlib"));
        if let Some(rlib) = rlib {
            externs.push((name, PathBuf::from(rlib)));
        }
    }
    if externs.len() != 2 {
        return Err(PrepareError::Build(format!(
            "cargo did not report both libraries (found {externs:?})"
        )));
    }
    Ok(Prepared {
        rustc: sysroot.join("bin").join("rustc"),
        sysroot: sysroot.to_owned(),
        dependencies,
        externs,
    })
}
