//! Starting an evaluator: a working folder from the prepared cache, the evcxr context, the
//! `orm` dependency and the prelude.

use crate::error::{io_error, StartError};
use crate::evaluator::lock;
use crate::{diagnostics, prepared, runtime_code};
use evcxr::{CommandContext, EvalContext, EvalContextOutputs};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The prelude evaluated once per context (its `use` persists in evcxr's state).
pub const DEFAULT_PRELUDE: &str = "use orm::prelude::*;";

/// Cargo configuration in the folder above every working folder (cargo reads the
/// `.cargo/config.toml` of each folder above the one it runs in; evcxr writes the working
/// folder's own). It compiles cells (evcxr's `ctx` crate) unoptimised, where evcxr's profile says
/// `opt-level = 2`: a lesson's cells do little work and each is compiled once, so compiling them
/// fast matters more than running them fast. Only `ctx` is named, so every dependency (`orm`,
/// SQLite's bindings, build scripts, proc macros) is built exactly as before and a prepared
/// folder stays fresh.
const CELL_PROFILE: &str = "# Written by orm-eval: cells (the `ctx` crate) compiled unoptimised.
[profile.dev.package.ctx]
opt-level = 0
";

/// Where the `orm` sources are: `$ORM_EVAL_ORM_PATH`, else the workspace's `orm/` folder as it
/// was when this crate was compiled.
pub fn default_orm_path() -> PathBuf {
    match std::env::var_os("ORM_EVAL_ORM_PATH").filter(|p| !p.is_empty()) {
        Some(path) => PathBuf::from(path),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../orm"),
    }
}

/// The features of `orm` named in `$ORM_FEATURES` (`ORM_FEATURES=postgres`), separated by commas
/// or spaces; none by default, so cells link only what the SQLite lesson needs.
pub fn default_orm_features() -> Vec<String> {
    std::env::var("ORM_FEATURES")
        .unwrap_or_default()
        .split([',', ' '])
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect()
}

/// How to start an [`Evaluator`](crate::Evaluator).
#[derive(Debug, Clone)]
pub struct EvaluatorOptions {
    /// The `orm` crate's folder, added as a path dependency.
    pub orm_path: PathBuf,
    /// Cargo features of `orm` to build (`postgres` for the second engine).
    pub orm_features: Vec<String>,
    /// Where prepared folders are kept (see [`default_cache_dir`](crate::default_cache_dir)).
    pub cache_dir: PathBuf,
    /// Rust evaluated before the first cell; its `use` items stay in scope.
    pub prelude: String,
    /// Whether to start from (and save) a prepared folder. Without it every start builds `orm`.
    pub use_prepared: bool,
}

impl Default for EvaluatorOptions {
    fn default() -> Self {
        EvaluatorOptions {
            orm_path: default_orm_path(),
            orm_features: default_orm_features(),
            cache_dir: prepared::default_cache_dir(),
            prelude: DEFAULT_PRELUDE.to_owned(),
            use_prepared: true,
        }
    }
}

/// How a start went, for logs and for measuring cold against warm starts.
#[derive(Debug, Clone)]
pub struct StartReport {
    /// Which prepared folder the start began from.
    pub cache: CacheUse,
    /// Time to set up the working folder (copying the prepared folder).
    pub copy: Duration,
    /// Time for evcxr to create its context (it compiles a warm-up cell).
    pub context: Duration,
    /// Time to add `orm` and build and run the prelude.
    pub prelude: Duration,
    /// Time to save the prepared folder after a cold start.
    pub save: Duration,
    /// The whole start.
    pub total: Duration,
    /// This evaluator's working folder.
    pub work_dir: PathBuf,
    /// Things the user may want to know (an `evcxr.toml` in the current folder, …).
    pub notes: Vec<String>,
}

/// Which prepared folder an evaluator started from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheUse {
    /// The one for these `orm` sources: nothing to build (warm start).
    Exact,
    /// One for older `orm` sources: cargo rebuilds only `orm`, not its dependencies.
    Stale,
    /// None: everything was built (cold start).
    None,
}

impl CacheUse {
    /// A few words for logs.
    pub fn describe(self) -> &'static str {
        match self {
            CacheUse::Exact => "warm",
            CacheUse::Stale => "from an older build, orm rebuilt",
            CacheUse::None => "cold, orm and its dependencies built",
        }
    }
}

/// evcxr reads its folder and configuration from environment variables, so contexts are made
/// one at a time.
static CONTEXT_CREATION: Mutex<()> = Mutex::new(());

/// A started context and what it took.
pub(crate) struct Started {
    pub context: CommandContext,
    pub outputs: EvalContextOutputs,
    pub report: StartReport,
    pub work_dir: tempfile::TempDir,
}

/// Copies the prepared folder (or builds `orm` and saves one), makes the evcxr context and
/// evaluates the prelude.
pub(crate) fn start(options: &EvaluatorOptions) -> Result<Started, StartError> {
    let started = Instant::now();
    let mut notes = Vec::new();
    if Path::new("evcxr.toml").exists() {
        notes.push(
            "an evcxr.toml in the current folder overrides evcxr's settings; its `tmpdir` \
             would defeat the prepared build"
                .to_owned(),
        );
    }
    let key = prepared::cache_key(
        &options.orm_path,
        &orm_dependency(options)?,
        &options.prelude,
    )?;
    let copy_started = Instant::now();
    let (work_dir, cache) = work_dir(options, &key, &mut notes)?;
    let copy = copy_started.elapsed();

    let context_started = Instant::now();
    let (eval_context, outputs) = create_context(work_dir.path(), &options.cache_dir)?;
    let context_time = context_started.elapsed();

    let prelude_started = Instant::now();
    let context = add_orm(eval_context, options, &outputs)?;
    let prelude = prelude_started.elapsed();

    let mut save = Duration::ZERO;
    if options.use_prepared && cache != CacheUse::Exact {
        let save_started = Instant::now();
        prepared::save(&options.cache_dir, &key, work_dir.path())?;
        save = save_started.elapsed();
    }

    Ok(Started {
        report: StartReport {
            cache,
            copy,
            context: context_time,
            prelude,
            save,
            total: started.elapsed(),
            work_dir: work_dir.path().to_owned(),
            notes,
        },
        context,
        outputs,
        work_dir,
    })
}

/// A fresh working folder under the cache's `run/`, filled from the best prepared folder. A
/// failed copy (another process pruning a stale folder) falls back to an empty folder.
fn work_dir(
    options: &EvaluatorOptions,
    key: &str,
    notes: &mut Vec<String>,
) -> Result<(tempfile::TempDir, CacheUse), StartError> {
    let run_dir = options.cache_dir.join("run");
    std::fs::create_dir_all(&run_dir)
        .map_err(io_error(format!("creating {}", run_dir.display())))?;
    write_cell_profile(&run_dir)?;
    prepared::remove_abandoned_work_dirs(&run_dir);
    let new_dir = || {
        tempfile::Builder::new()
            .prefix(&format!("{}-", std::process::id()))
            .tempdir_in(&run_dir)
            .map_err(io_error(format!(
                "creating a folder in {}",
                run_dir.display()
            )))
    };
    let work_dir = new_dir()?;
    if !options.use_prepared {
        return Ok((work_dir, CacheUse::None));
    }
    let source = match prepared::find(&options.cache_dir, key) {
        Some(dir) => Some((dir, CacheUse::Exact)),
        None => prepared::find_newest(&options.cache_dir).map(|dir| (dir, CacheUse::Stale)),
    };
    let Some((dir, cache)) = source else {
        return Ok((work_dir, CacheUse::None));
    };
    match prepared::copy_tree(&dir, work_dir.path()) {
        Ok(()) => Ok((work_dir, cache)),
        Err(error) => {
            notes.push(format!(
                "could not copy {}: {error}; building afresh",
                dir.display()
            ));
            drop(work_dir);
            Ok((new_dir()?, CacheUse::None))
        }
    }
}

/// Writes [`CELL_PROFILE`] as `run_dir/.cargo/config.toml` unless it is there already (other
/// evaluators may be reading it).
fn write_cell_profile(run_dir: &Path) -> Result<(), StartError> {
    let dir = run_dir.join(".cargo");
    let file = dir.join("config.toml");
    if std::fs::read_to_string(&file).is_ok_and(|text| text == CELL_PROFILE) {
        return Ok(());
    }
    std::fs::create_dir_all(&dir).map_err(io_error(format!("creating {}", dir.display())))?;
    // Written aside and renamed, so that a cargo starting now reads the old file or the new one.
    let staging = dir.join(format!("config.toml.{}", std::process::id()));
    std::fs::write(&staging, CELL_PROFILE)
        .and_then(|()| std::fs::rename(&staging, &file))
        .map_err(io_error(format!("writing {}", file.display())))
}

/// Makes an evcxr context working in `work_dir`, with evcxr's configuration folder pointed at
/// an empty one so that a user's `~/.config/evcxr` cannot change what runs.
fn create_context(
    work_dir: &Path,
    cache_dir: &Path,
) -> Result<(EvalContext, EvalContextOutputs), StartError> {
    let config_dir = cache_dir.join("evcxr-config");
    std::fs::create_dir_all(&config_dir)
        .map_err(io_error(format!("creating {}", config_dir.display())))?;
    let _guard = lock(&CONTEXT_CREATION);
    put_std_on_library_path();
    let saved: Vec<_> = ["EVCXR_TMPDIR", "EVCXR_CONFIG_DIR"]
        .iter()
        .map(|name| (*name, std::env::var_os(name)))
        .collect();
    std::env::set_var("EVCXR_TMPDIR", work_dir);
    std::env::set_var("EVCXR_CONFIG_DIR", &config_dir);
    let created = EvalContext::new();
    for (name, value) in saved {
        match value {
            Some(value) => std::env::set_var(name, value),
            None => std::env::remove_var(name),
        }
    }
    created.map_err(StartError::Context)
}

/// Lets the evaluation process find Rust's shared `libstd` wherever the working folder is.
///
/// Cells are linked with an `$ORIGIN`-relative RUNPATH computed for cargo's `deps/` folder, but
/// evcxr loads them from the folder above; the path is only right by luck (when it climbs to
/// `/` first, e.g. from `/tmp`). With a working folder under `~/.cache` and rustup under `~`,
/// `dlopen` fails. The loader searches `LD_LIBRARY_PATH` first, so the toolchain's library
/// folders go there, in this process, whose environment the evaluation process inherits at
/// every (re)start. Set while `CONTEXT_CREATION` is held.
fn put_std_on_library_path() {
    if !cfg!(all(unix, not(target_os = "macos"))) {
        return;
    }
    let rustc = |args: &[&str]| {
        std::process::Command::new("rustc")
            .args(args)
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (Some(sysroot), Some(version)) = (rustc(&["--print", "sysroot"]), rustc(&["-vV"])) else {
        return;
    };
    let Some(host) = version.lines().find_map(|l| l.strip_prefix("host: ")) else {
        return;
    };
    let sysroot = PathBuf::from(sysroot.trim());
    let wanted = [
        sysroot
            .join("lib")
            .join("rustlib")
            .join(host.trim())
            .join("lib"),
        sysroot.join("lib"),
    ];
    let current = std::env::var_os("LD_LIBRARY_PATH").unwrap_or_default();
    let mut paths: Vec<PathBuf> = std::env::split_paths(&current).collect();
    for dir in wanted.into_iter().rev() {
        if !paths.contains(&dir) {
            paths.insert(0, dir);
        }
    }
    if let Ok(joined) = std::env::join_paths(paths) {
        std::env::set_var("LD_LIBRARY_PATH", joined);
    }
}

/// Adds `orm` as a dependency and evaluates the prelude, then wraps the context for completion
/// and hover (which evcxr offers only through `CommandContext`).
fn add_orm(
    mut context: EvalContext,
    options: &EvaluatorOptions,
    outputs: &EvalContextOutputs,
) -> Result<CommandContext, StartError> {
    let mut state = context.state();
    state
        .add_dep("orm", &orm_dependency(options)?)
        .map_err(|error| StartError::Prelude(diagnostics::from_evcxr(error)))?;
    // One evaluation for all of it (see `prelude_code`).
    let code = prelude_code(options);
    let result = context.eval_with_state(&code, state);
    // Whatever the prelude printed (cargo warnings are not captured) is not the user's output.
    while outputs.stdout.try_recv().is_ok() {}
    while outputs.stderr.try_recv().is_ok() {}
    result.map_err(|error| StartError::Prelude(diagnostics::from_evcxr(error)))?;
    Ok(CommandContext::with_eval_context(context))
}

/// What `clear` leaves: evcxr's state cleared (a new process), then `orm` and the prelude
/// loaded again, as at the start.
pub(crate) fn reload(
    context: &mut CommandContext,
    options: &EvaluatorOptions,
) -> Result<(), StartError> {
    let prelude = |error| StartError::Prelude(diagnostics::from_evcxr(error));
    context.execute(":clear").map_err(prelude)?;
    context
        .execute(&format!(":dep orm = {}", orm_dependency(options)?))
        .map_err(prelude)?;
    context.execute(&prelude_code(options)).map_err(prelude)?;
    Ok(())
}

/// The code of the prelude's one evaluation: the user's prelude, the `jupyter` helpers, the
/// panic hook, the io bridge, and the sentinel (whose type inference makes rust-analyzer load
/// the crate graph now rather than in the first cell).
fn prelude_code(options: &EvaluatorOptions) -> String {
    format!(
        "{}\n{}\n{}\n{}\n{}",
        options.prelude,
        runtime_code::helpers(),
        runtime_code::panic_hook(),
        runtime_code::io_bridge(),
        runtime_code::SENTINEL_PREFIX
    )
}

/// `orm`'s line of the cells' Cargo.toml: `{ path = "…", features = ["postgres"] }`.
pub(crate) fn orm_dependency(options: &EvaluatorOptions) -> Result<String, StartError> {
    let orm_path = options.orm_path.canonicalize().map_err(io_error(format!(
        "finding the orm crate at {}",
        options.orm_path.display()
    )))?;
    let features: Vec<String> = options
        .orm_features
        .iter()
        .map(|f| toml_string(Path::new(f)))
        .collect();
    Ok(format!(
        "{{ path = {}, features = [{}] }}",
        toml_string(&orm_path),
        features.join(", ")
    ))
}

/// A TOML basic string.
fn toml_string(path: &Path) -> String {
    let mut out = String::from("\"");
    for c in path.to_string_lossy().chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_strings_escape_quotes_and_backslashes() {
        assert_eq!(toml_string(Path::new("/a \"b\"\\c")), r#""/a \"b\"\\c""#);
    }
}
