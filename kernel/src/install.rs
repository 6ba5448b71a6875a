//! Installing the `rust-orm` kernelspec where Jupyter looks for kernels.

use crate::cli::Location;
use crate::error::KernelError;
use serde_json::json;
use std::path::{Path, PathBuf};

/// The kernelspec's name (its folder under `kernels/`, `jupyter console --kernel rust-orm`).
pub const KERNEL_NAME: &str = "rust-orm";
/// The name frontends show in their kernel menus.
pub const DISPLAY_NAME: &str = "Rust (orm)";

/// `orm-kernel install`: writes `kernels/rust-orm/kernel.json` at `location`.
///
/// # Errors
///
/// [`KernelError::Io`] when the folder or file cannot be written, [`KernelError::ProgramPath`]
/// when this program's path is unknown, and the errors of finding the location
/// ([`KernelError::MissingVariable`], [`KernelError::NoPython`], [`KernelError::NoSysPrefix`]).
pub fn install(location: &Location) -> Result<(), KernelError> {
    let dir = kernels_dir(location)?.join(KERNEL_NAME);
    let exe = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map_err(KernelError::ProgramPath)?;
    std::fs::create_dir_all(&dir).map_err(KernelError::io("cannot create", &dir))?;
    let spec = kernelspec(&exe);
    let file = dir.join("kernel.json");
    let text = serde_json::to_string_pretty(&spec).map_err(KernelError::Serialize)?;
    std::fs::write(&file, text + "\n").map_err(KernelError::io("cannot write", &file))?;
    println!("installed kernelspec {KERNEL_NAME} in {}", dir.display());
    Ok(())
}

/// `orm-kernel uninstall`: removes `kernels/rust-orm` at `location` (nothing to do if absent).
///
/// # Errors
///
/// [`KernelError::Io`] when the folder cannot be removed, and the errors of finding the
/// location (as [`install`]).
pub fn uninstall(location: &Location) -> Result<(), KernelError> {
    let dir = kernels_dir(location)?.join(KERNEL_NAME);
    if !dir.exists() {
        println!("no kernelspec {KERNEL_NAME} in {}", dir.display());
        return Ok(());
    }
    std::fs::remove_dir_all(&dir).map_err(KernelError::io("cannot remove", &dir))?;
    println!("removed kernelspec {KERNEL_NAME} from {}", dir.display());
    Ok(())
}

/// Interrupts arrive as messages on the control socket (SIGINT is handled too).
fn kernelspec(exe: &Path) -> serde_json::Value {
    json!({
        "argv": [exe, "--connection-file", "{connection_file}"],
        "display_name": DISPLAY_NAME,
        "language": "rust",
        "interrupt_mode": "message",
        "metadata": {"debugger": false},
    })
}

/// The `kernels` folder for the chosen location, following `jupyter --data-dir` conventions.
fn kernels_dir(location: &Location) -> Result<PathBuf, KernelError> {
    let data_dir = if let Some(prefix) = &location.prefix {
        prefix.join("share").join("jupyter")
    } else if location.sys_prefix {
        sys_prefix()?.join("share").join("jupyter")
    } else {
        user_data_dir()?
    };
    Ok(data_dir.join("kernels"))
}

fn user_data_dir() -> Result<PathBuf, KernelError> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = var("JUPYTER_DATA_DIR") {
        return Ok(dir);
    }
    if cfg!(windows) {
        return var("APPDATA")
            .map(|d| d.join("jupyter"))
            .ok_or(KernelError::MissingVariable("APPDATA"));
    }
    let home = var("HOME").ok_or(KernelError::MissingVariable("HOME"))?;
    if cfg!(target_os = "macos") {
        return Ok(home.join("Library").join("Jupyter"));
    }
    Ok(var("XDG_DATA_HOME")
        .unwrap_or_else(|| home.join(".local").join("share"))
        .join("jupyter"))
}

fn sys_prefix() -> Result<PathBuf, KernelError> {
    for name in ["VIRTUAL_ENV", "CONDA_PREFIX"] {
        if let Some(dir) = std::env::var_os(name).filter(|v| !v.is_empty()) {
            return Ok(PathBuf::from(dir));
        }
    }
    let output = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.prefix)"])
        .output()
        .map_err(KernelError::NoPython)?;
    let prefix = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if !output.status.success() || prefix.is_empty() {
        return Err(KernelError::NoSysPrefix);
    }
    Ok(PathBuf::from(prefix))
}
