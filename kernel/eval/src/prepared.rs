//! The per-user cache of evcxr folders in which `orm` is already built (DESIGN facts 4 and 8).
//!
//! The first evaluator builds `orm` in its own working folder and then saves a copy as
//! `prepared-<key>`; each later evaluator starts from a fresh copy of that folder (file times kept,
//! so cargo sees everything as fresh). The key hashes the `orm` sources, the prelude and the
//! versions of evcxr and of this crate, so a change to any of them prepares a new folder.

use crate::error::{io_error, StartError};
use sha2::{Digest, Sha256};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The folder holding prepared folders: `$ORM_EVAL_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/orm-kernel`, else `~/.cache/orm-kernel`, else the system temp folder.
pub fn default_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("ORM_EVAL_CACHE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("orm-kernel");
    }
    if let Some(home) = std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(home).join(".cache").join("orm-kernel");
    }
    std::env::temp_dir().join("orm-kernel-cache")
}

/// A short hash naming the prepared folder for these sources, this dependency line (its
/// features) and this prelude.
pub(crate) fn cache_key(
    orm_path: &Path,
    dependency: &str,
    prelude: &str,
) -> Result<String, StartError> {
    let mut hasher = Sha256::new();
    hasher.update(concat!(
        "orm-eval ",
        env!("CARGO_PKG_VERSION"),
        " evcxr 0.22.0\n"
    ));
    hasher.update(dependency.as_bytes());
    hasher.update([0]);
    hasher.update(prelude.as_bytes());
    hasher.update([0]);
    let mut files = Vec::new();
    list_sources(orm_path, &mut files).map_err(io_error(format!(
        "reading the orm sources in {}",
        orm_path.display()
    )))?;
    // orm inherits fields from its workspace manifest, so that file shapes the build too.
    if let Some(parent) = orm_path.parent() {
        let workspace_manifest = parent.join("Cargo.toml");
        if workspace_manifest.is_file() {
            files.push(workspace_manifest);
        }
    }
    files.sort();
    for file in files {
        let content = fs::read(&file).map_err(io_error(format!("reading {}", file.display())))?;
        hasher.update(file.to_string_lossy().as_bytes());
        hasher.update([0]);
        hasher.update((content.len() as u64).to_le_bytes());
        hasher.update(&content);
    }
    let digest = hasher.finalize();
    Ok(digest[..8].iter().map(|b| format!("{b:02x}")).collect())
}

/// Source files under `dir` (build output and hidden folders left out), sorted: what a cache
/// key over a crate's sources hashes.
///
/// # Errors
/// The I/O error of a folder that cannot be listed.
pub fn source_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    list_sources(dir, &mut files)?;
    files.sort();
    Ok(files)
}

/// Source files under `dir`, leaving out build output and hidden folders.
fn list_sources(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        let file_type = entry.file_type()?;
        if file_type.is_dir() {
            list_sources(&entry.path(), out)?;
        } else if file_type.is_file() {
            out.push(entry.path());
        }
    }
    Ok(())
}

/// Copies `from` to `to` the way `cp -a` does for our purpose: files with their modification
/// times (cargo decides freshness on them), symlinks as symlinks.
pub(crate) fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let source = entry.path();
        let target = to.join(entry.file_name());
        let file_type = entry.file_type()?;
        if file_type.is_dir() {
            copy_tree(&source, &target)?;
        } else if file_type.is_symlink() {
            let link = fs::read_link(&source)?;
            #[cfg(unix)]
            std::os::unix::fs::symlink(&link, &target)?;
            #[cfg(not(unix))]
            fs::copy(&source, &target).map(drop)?;
        } else {
            fs::copy(&source, &target)?;
            let meta = entry.metadata()?;
            let times = fs::FileTimes::new()
                .set_modified(meta.modified()?)
                .set_accessed(meta.accessed()?);
            fs::File::options()
                .write(true)
                .open(&target)?
                .set_times(times)?;
        }
    }
    Ok(())
}

/// The prepared folder for `key` under `cache_dir`, if one is complete.
pub(crate) fn find(cache_dir: &Path, key: &str) -> Option<PathBuf> {
    let dir = cache_dir.join(format!("prepared-{key}"));
    dir.join(READY_MARKER).is_file().then_some(dir)
}

const READY_MARKER: &str = "orm-eval-ready";

/// The most recently saved complete prepared folder of any key: a start for older sources, in
/// which cargo rebuilds only what changed.
pub(crate) fn find_newest(cache_dir: &Path) -> Option<PathBuf> {
    fs::read_dir(cache_dir)
        .ok()?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("prepared-"))
        .filter_map(|e| {
            let marker = fs::metadata(e.path().join(READY_MARKER)).ok()?;
            Some((marker.modified().ok()?, e.path()))
        })
        .max()
        .map(|(_, path)| path)
}

/// Saves `work_dir` (where the prelude just built) as the prepared folder for `key`, and removes
/// prepared folders of other keys. Another process may save the same key at the same time: the
/// folder is written under a private name and renamed, and the first one to land wins.
pub(crate) fn save(cache_dir: &Path, key: &str, work_dir: &Path) -> Result<PathBuf, StartError> {
    let final_dir = cache_dir.join(format!("prepared-{key}"));
    let staging = cache_dir.join(format!("staging-{key}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    copy_tree(work_dir, &staging).map_err(io_error(format!(
        "saving the prepared folder {}",
        staging.display()
    )))?;
    drop_incremental_data(&staging);
    fs::write(staging.join(READY_MARKER), key)
        .map_err(io_error(format!("writing {}", staging.display())))?;
    if fs::rename(&staging, &final_dir).is_err() {
        // Someone else saved it first (or an incomplete folder is in the way: replace it).
        if find(cache_dir, key).is_none() {
            let _ = fs::remove_dir_all(&final_dir);
            fs::rename(&staging, &final_dir)
                .map_err(io_error(format!("renaming to {}", final_dir.display())))?;
        } else {
            let _ = fs::remove_dir_all(&staging);
        }
    }
    remove_stale(cache_dir, key);
    Ok(final_dir)
}

/// Leaves out cargo's incremental-compilation data (about 40% of the folder): with the sources
/// unchanged cargo does not need it, and each kernel start copies less.
fn drop_incremental_data(dir: &Path) {
    let Ok(targets) = fs::read_dir(dir.join("target")) else {
        return;
    };
    for target in targets.flatten() {
        for profile in ["debug", "release"] {
            let _ = fs::remove_dir_all(target.path().join(profile).join("incremental"));
        }
        let _ = fs::remove_dir_all(target.path().join("incremental"));
    }
}

/// Removes prepared folders of other keys (older orm sources); errors are ignored, since a kernel
/// may be copying from one right now and the folder is only an optimisation.
fn remove_stale(cache_dir: &Path, key: &str) {
    let Ok(entries) = fs::read_dir(cache_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("prepared-") && name != format!("prepared-{key}") {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Removes working folders (`run/<pid>-…`) left by evaluators whose process has ended without
/// cleaning up (killed kernels). Only where `/proc` tells which processes live.
pub(crate) fn remove_abandoned_work_dirs(run_dir: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = fs::read_dir(run_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.split('-').next().filter(|p| p.parse::<u32>().is_ok()) else {
            continue;
        };
        if !Path::new("/proc").join(pid).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_keeps_modification_times() {
        let from = tempfile::tempdir().unwrap();
        fs::create_dir_all(from.path().join("a/b")).unwrap();
        let file = from.path().join("a/b/f.txt");
        fs::write(&file, "x").unwrap();
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let to = tempfile::tempdir().unwrap();
        copy_tree(from.path(), to.path()).unwrap();
        let copied = fs::metadata(to.path().join("a/b/f.txt")).unwrap();
        assert_eq!(copied.modified().unwrap(), old);
    }

    #[test]
    fn key_changes_with_sources() {
        let dir = tempfile::tempdir().unwrap();
        let orm = dir.path().join("orm");
        fs::create_dir_all(orm.join("src")).unwrap();
        fs::write(orm.join("src/lib.rs"), "pub fn a() {}").unwrap();
        let dep = "{ path = \"orm\", features = [] }";
        let first = cache_key(&orm, dep, "use orm::*;").unwrap();
        assert_eq!(first, cache_key(&orm, dep, "use orm::*;").unwrap());
        let postgres = "{ path = \"orm\", features = [\"postgres\"] }";
        assert_ne!(first, cache_key(&orm, postgres, "use orm::*;").unwrap());
        fs::write(orm.join("src/lib.rs"), "pub fn b() {}").unwrap();
        assert_ne!(first, cache_key(&orm, dep, "use orm::*;").unwrap());
        assert_ne!(first, cache_key(&orm, dep, "use orm::prelude::*;").unwrap());
    }
}
