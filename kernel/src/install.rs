//! Installing the `rust-orm` kernelspec where Jupyter looks for kernels.

use crate::cli::Location;
use serde_json::json;
use std::path::{Path, PathBuf};

pub const KERNEL_NAME: &str = "rust-orm";
pub const DISPLAY_NAME: &str = "Rust (orm)";

pub fn install(location: &Location) -> Result<(), String> {
    let dir = kernels_dir(location)?.join(KERNEL_NAME);
    let exe = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map_err(|e| format!("cannot find this program's path: {e}"))?;
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let spec = kernelspec(&exe);
    let file = dir.join("kernel.json");
    let text = serde_json::to_string_pretty(&spec).map_err(|e| e.to_string())?;
    std::fs::write(&file, text + "\n")
        .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    println!("installed kernelspec {KERNEL_NAME} in {}", dir.display());
    Ok(())
}

pub fn uninstall(location: &Location) -> Result<(), String> {
    let dir = kernels_dir(location)?.join(KERNEL_NAME);
    if !dir.exists() {
        println!("no kernelspec {KERNEL_NAME} in {}", dir.display());
        return Ok(());
    }
    std::fs::remove_dir_all(&dir).map_err(|e| format!("cannot remove {}: {e}", dir.display()))?;
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
fn kernels_dir(location: &Location) -> Result<PathBuf, String> {
    let data_dir = if let Some(prefix) = &location.prefix {
        prefix.join("share").join("jupyter")
    } else if location.sys_prefix {
        sys_prefix()?.join("share").join("jupyter")
    } else {
        user_data_dir()?
    };
    Ok(data_dir.join("kernels"))
}

fn user_data_dir() -> Result<PathBuf, String> {
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
            .ok_or_else(|| "APPDATA is not set".to_owned());
    }
    let home = var("HOME").ok_or_else(|| "HOME is not set".to_owned())?;
    if cfg!(target_os = "macos") {
        return Ok(home.join("Library").join("Jupyter"));
    }
    Ok(var("XDG_DATA_HOME")
        .unwrap_or_else(|| home.join(".local").join("share"))
        .join("jupyter"))
}

fn sys_prefix() -> Result<PathBuf, String> {
    for name in ["VIRTUAL_ENV", "CONDA_PREFIX"] {
        if let Some(dir) = std::env::var_os(name).filter(|v| !v.is_empty()) {
            return Ok(PathBuf::from(dir));
        }
    }
    let output = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.prefix)"])
        .output()
        .map_err(|e| format!("--sys-prefix needs python3 or $VIRTUAL_ENV: {e}"))?;
    let prefix = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if !output.status.success() || prefix.is_empty() {
        return Err("python3 did not tell its sys.prefix".to_owned());
    }
    Ok(PathBuf::from(prefix))
}
