//! The command line: flags only; what each command does lives in its own module.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// The command line (the `about` below is what `--help` shows).
#[derive(Debug, Parser)]
#[command(
    long_about = None,
    name = "orm-kernel",
    version,
    about = "A Jupyter kernel for Rust with the orm crate preloaded",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// Serve a kernel on the sockets named in this connection file (Jupyter passes it).
    #[arg(long, value_name = "FILE")]
    pub connection_file: Option<PathBuf>,

    /// A command instead of serving a kernel.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands besides serving a kernel.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the `rust-orm` kernelspec so Jupyter can start this kernel.
    Install(Location),
    /// Remove the `rust-orm` kernelspec.
    Uninstall(Location),
    /// Run a notebook's code cells headless and write it back with their outputs
    /// (exit status 1 if a cell failed, 2 if the notebook could not be run).
    Run(RunArgs),
    /// Build `orm` into the per-user cache now, so the first kernel starts warm.
    Prepare,
    /// Wait with a started evaluator for the next kernel Jupyter starts (it answers its first
    /// cell at once), then serve it and start the next standby.
    Standby(StandbyArgs),
}

/// Where the kernelspec goes (default: the user's Jupyter data folder).
#[derive(Debug, Args)]
#[group(multiple = false)]
pub struct Location {
    /// The user's Jupyter data folder ($JUPYTER_DATA_DIR or ~/.local/share/jupyter).
    #[arg(long)]
    pub user: bool,
    /// PREFIX/share/jupyter.
    #[arg(long, value_name = "PREFIX")]
    pub prefix: Option<PathBuf>,
    /// The active Python environment's share/jupyter ($VIRTUAL_ENV, $CONDA_PREFIX or python3's sys.prefix).
    #[arg(long)]
    pub sys_prefix: bool,
}

/// `orm-kernel standby [--stop]`.
#[derive(Debug, Args)]
pub struct StandbyArgs {
    /// Stop the standby that is waiting instead.
    #[arg(long)]
    pub stop: bool,
}

/// `orm-kernel run NOTEBOOK [-o OUT] [--allow-errors] [--timeout SECONDS]`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The notebook (.ipynb, nbformat 4) to run.
    pub notebook: PathBuf,
    /// Where to write the executed notebook (default: over the input).
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Keep running after a failing cell (the exit status is still non-zero).
    #[arg(long)]
    pub allow_errors: bool,
    /// Interrupt a cell that runs longer than this many seconds.
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
}
