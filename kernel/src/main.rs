//! orm-kernel: a Jupyter kernel for Rust cells with the `orm` crate preloaded.

#![warn(missing_docs)]

mod cli;
mod error;
mod handlers;
mod install;
mod notebook;
mod nplus1;
mod protocol;
mod server;
mod standby;
mod stdin;
mod worker;

use clap::Parser;
use cli::{Cli, Command};
use error::KernelError;
use std::process::ExitCode;

/// Exit status of `run` when cells failed (the notebook is written with their errors); anything
/// that stops a command from doing its work exits with 2.
const CELLS_FAILED: u8 = 1;
const COULD_NOT_RUN: u8 = 2;

fn main() -> ExitCode {
    // First, always: evcxr starts this binary again as its evaluation process.
    orm_eval::runtime_hook();
    let cli = Cli::parse();
    let result = match (cli.command, cli.connection_file) {
        (Some(Command::Install(location)), _) => install::install(&location),
        (Some(Command::Uninstall(location)), _) => install::uninstall(&location),
        (Some(Command::Run(args)), _) => match notebook::run(&args) {
            Ok(0) => Ok(()),
            Ok(_) => return ExitCode::from(CELLS_FAILED),
            Err(error) => Err(error),
        },
        (Some(Command::Prepare), _) => notebook::prepare(),
        (Some(Command::Standby(args)), _) if args.stop => standby::stop_waiting(),
        (Some(Command::Standby(_)), _) => standby::run(),
        (None, Some(connection_file)) => server::serve(&connection_file),
        (None, None) => Err(KernelError::NoCommand),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // The message names its cause already (as today's text did); a deeper cause of a
            // wrapped error (the evaluator's start) is printed below it.
            eprintln!("orm-kernel: {error}");
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                if !error.to_string().contains(&cause.to_string()) {
                    eprintln!("  caused by: {cause}");
                }
                source = cause.source();
            }
            ExitCode::from(COULD_NOT_RUN)
        }
    }
}
