//! `grader gradescope-bundle`: the autograder zip Gradescope takes. Gradescope unpacks it into
//! `/autograder/source`, runs `setup.sh` once when it builds the image, then `run_autograder`
//! for each submission (in `/autograder/submission`), which must write
//! `/autograder/results/results.json`. The scripts are `templates/gradescope/`; what differs
//! between bundles is in `grader.conf`, which both source. The hidden tests travel as
//! `solution.ipynb` in the zip only: the learner's notebook is made by `grader assign`.

use crate::cli::{exit, GradescopeBundleArgs};
use std::io::Write;
use std::path::{Path, PathBuf};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// Gradescope's `setup.sh` of the bundle (installs Rust and builds the grader).
pub const SETUP_SH: &str = include_str!("../../templates/gradescope/setup.sh");
/// Gradescope's `run_autograder` of the bundle (grades `/autograder/submission`).
pub const RUN_AUTOGRADER: &str = include_str!("../../templates/gradescope/run_autograder");

/// Folders of a project never shipped: build output, virtual environments, caches.
const SKIPPED_DIRS: &[&str] = &["target", "node_modules", "__pycache__"];

/// Where the grader is built from on Gradescope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraderSource {
    /// The project's sources, shipped in the zip under `project/`.
    Shipped(PathBuf),
    /// `cargo install --git URL [--rev REV] grader`.
    Git {
        /// The repository's URL.
        url: String,
        /// The revision (`--rev`), else the default branch.
        rev: Option<String>,
    },
}

/// What goes into `grader.conf`.
#[derive(Debug, Clone)]
pub struct BundleConfig {
    /// Where the grader is built from.
    pub source: GraderSource,
    /// The notebook's expected name in the upload.
    pub notebook_name: String,
    /// The limits passed to `grader run`.
    pub limits: Vec<String>,
}

impl BundleConfig {
    fn conf(&self) -> String {
        let (git, rev) = match &self.source {
            GraderSource::Shipped(_) => (String::new(), String::new()),
            GraderSource::Git { url, rev } => (url.clone(), rev.clone().unwrap_or_default()),
        };
        let limits: Vec<String> = self.limits.iter().map(|l| shell_quote(l)).collect();
        format!(
            "# Written by `grader gradescope-bundle`; sourced by setup.sh and run_autograder.\n\
             # Empty GRADER_GIT: the grader is built from project/ in this bundle.\n\
             GRADER_GIT={}\nGRADER_REV={}\nNOTEBOOK_NAME={}\nGRADER_LIMITS=({})\n",
            shell_quote(&git),
            shell_quote(&rev),
            shell_quote(&self.notebook_name),
            limits.join(" ")
        )
    }
}

/// Single-quotes a value for bash.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

/// Why the autograder bundle could not be written.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// A file to ship (or the zip itself) cannot be read or written.
    #[error(transparent)]
    File(#[from] crate::FileError),
    /// A file could not be added to the zip.
    #[error("cannot add {name} to the zip: {source}")]
    Add {
        /// Its name in the zip.
        name: String,
        /// The zip writer's error.
        source: zip::result::ZipError,
    },
    /// The zip's central directory could not be written.
    #[error("cannot finish the zip: {0}")]
    Finish(#[source] zip::result::ZipError),
    /// The folder shipped is not the project's workspace.
    #[error(
        "{} is not the project's workspace (no {missing}); pass --project DIR or --git URL",
        project.display()
    )]
    NotWorkspace {
        /// The folder.
        project: PathBuf,
        /// The file it lacks.
        missing: &'static str,
    },
}

/// Writes the zip.
///
/// # Errors
/// [`BundleError`] naming the file that could not be read or written.
pub fn write_bundle(
    out: impl Write + std::io::Seek,
    solution: &Path,
    config: &BundleConfig,
) -> Result<(), BundleError> {
    let mut zip = ZipWriter::new(out);
    // A fixed date, so the same inputs give the same zip.
    let file = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644);
    let script = file.unix_permissions(0o755);
    let mut add = |name: &str, options: SimpleFileOptions, bytes: &[u8]| {
        zip.start_file(name, options)
            .and_then(|()| zip.write_all(bytes).map_err(Into::into))
            .map_err(|source| BundleError::Add {
                name: name.to_owned(),
                source,
            })
    };
    add("setup.sh", script, SETUP_SH.as_bytes())?;
    add("run_autograder", script, RUN_AUTOGRADER.as_bytes())?;
    add("grader.conf", file, config.conf().as_bytes())?;
    let solution_bytes = std::fs::read(solution).map_err(crate::FileError::read(solution))?;
    add("solution.ipynb", file, &solution_bytes)?;
    if let GraderSource::Shipped(project) = &config.source {
        for (relative, path) in project_files(project)? {
            let bytes = std::fs::read(&path).map_err(crate::FileError::read(&path))?;
            add(&format!("project/{relative}"), file, &bytes)?;
        }
    }
    zip.finish().map_err(BundleError::Finish)?;
    Ok(())
}

/// The project's files to ship (relative name, path), sorted: everything but hidden entries
/// (`.git`, `.venv`, …), build output and caches. The workspace must be whole: cargo reads
/// every member's manifest to build one.
///
/// # Errors
/// [`BundleError::NotWorkspace`] for a folder that is not the workspace, [`BundleError::File`]
/// for one that cannot be listed.
pub fn project_files(project: &Path) -> Result<Vec<(String, PathBuf)>, BundleError> {
    for needed in [
        "Cargo.toml",
        "Cargo.lock",
        "grader/Cargo.toml",
        "orm/Cargo.toml",
    ] {
        if !project.join(needed).is_file() {
            return Err(BundleError::NotWorkspace {
                project: project.to_owned(),
                missing: needed,
            });
        }
    }
    let mut files = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let dir = project.join(&relative);
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .map_err(crate::FileError::read(&dir))?
            .flatten()
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if name.starts_with('.') || name.ends_with(".db") {
                continue;
            }
            let child = relative.join(&name);
            if kind.is_dir() && !SKIPPED_DIRS.contains(&name.as_str()) {
                pending.push(child);
            } else if kind.is_file() {
                files.push((child.to_string_lossy().into_owned(), entry.path()));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The workspace this binary was built from.
fn own_project() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `grader gradescope-bundle`.
pub fn run(args: &GradescopeBundleArgs) -> i32 {
    let solution = if args.solution.is_dir() {
        args.solution.join("solution.ipynb")
    } else {
        args.solution.clone()
    };
    if let Err(message) = crate::read_assignment(&solution) {
        eprintln!("grader: {message}");
        return exit::BAD_ASSIGNMENT;
    }
    let source = match &args.git {
        Some(url) => GraderSource::Git {
            url: url.clone(),
            rev: args.rev.clone(),
        },
        None => GraderSource::Shipped(args.project.clone().unwrap_or_else(own_project)),
    };
    let config = BundleConfig {
        source,
        notebook_name: args.notebook_name.clone(),
        limits: args.limits.to_args(),
    };
    let written = std::fs::File::create(&args.output)
        .map_err(|e| BundleError::from(crate::FileError::write(&args.output)(e)))
        .and_then(|file| write_bundle(file, &solution, &config));
    match written {
        Ok(()) => {
            eprintln!(
                "wrote {} (upload it as the autograder of a Gradescope programming assignment)",
                args.output.display()
            );
            exit::GRADED
        }
        Err(message) => {
            eprintln!("grader: {message}");
            exit::CANNOT_RUN
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_conf_quotes_what_it_holds() {
        let config = BundleConfig {
            source: GraderSource::Git {
                url: "https://example.org/it's.git".into(),
                rev: None,
            },
            notebook_name: "my notebook.ipynb".into(),
            limits: vec!["--cell-timeout=5".into()],
        };
        let conf = config.conf();
        assert!(
            conf.contains("GRADER_GIT='https://example.org/it'\\''s.git'"),
            "{conf}"
        );
        assert!(conf.contains("NOTEBOOK_NAME='my notebook.ipynb'"), "{conf}");
        assert!(
            conf.contains("GRADER_LIMITS=('--cell-timeout=5')"),
            "{conf}"
        );
    }

    #[test]
    fn the_shipped_project_leaves_out_hidden_folders_and_build_output() {
        let files = project_files(&own_project()).unwrap();
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        for needed in [
            "Cargo.toml",
            "Cargo.lock",
            "grader/src/main.rs",
            "orm/src/lib.rs",
        ] {
            assert!(names.contains(&needed), "{needed} not shipped");
        }
        assert!(names
            .iter()
            .all(|n| !n.starts_with('.') && !n.contains("/.") && !n.starts_with("target/")));
        let not_a_project = tempfile::tempdir().unwrap();
        let error = project_files(not_a_project.path()).unwrap_err();
        assert!(
            matches!(&error, BundleError::NotWorkspace { project, missing: "Cargo.toml" }
                if project == not_a_project.path()),
            "{error:?}"
        );
        assert!(error.to_string().contains("--git URL"), "{error}");
    }
}
