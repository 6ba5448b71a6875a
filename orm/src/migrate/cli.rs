//! The command-line front end (cargo feature `cli`): Alembic's verbs over [`Migrations`].
//!
//! Rust cannot load a project's models at run time, so a project makes its own small binary
//! that hands its models over, as `sea-orm-migration` does with `cli::run_cli(Migrator)`:
//!
//! ```no_run
//! use orm::prelude::*;
//!
//! #[derive(Model, Debug, Clone, Default)]
//! #[orm(table = "users")]
//! pub struct User {
//!     #[orm(primary_key)] pub id: i64,
//!     pub name: String,
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     orm::migrate::cli::run(&MetaData::new().add::<User>())
//! }
//! ```
//!
//! Then `migrate init migrations`, `migrate --url sqlite:///app.db revision --autogenerate -m
//! "Add email column"`, `migrate --url sqlite:///app.db upgrade head`, and so on (the URL may
//! come from `DATABASE_URL` instead). Exit codes follow `diff`: 0 done (and, for `check`, no
//! differences), 1 `check` found differences, 2 an error (with its message on stderr).

use super::{Migrations, Revision};
use crate::engine::{create_engine, Engine};
use crate::error::{Error, Result};
use crate::metadata::MetaData;
use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(about = "Alembic-style migrations for orm models on SQLite")]
struct Cli {
    /// The migrations folder (made by `init`).
    #[arg(short, long, global = true, default_value = "migrations")]
    dir: PathBuf,
    /// The database, e.g. sqlite:///app.db [default: $DATABASE_URL].
    #[arg(long, global = true)]
    url: Option<String>,
    /// Print every SQL statement as it runs.
    #[arg(long, global = true)]
    echo: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make a migrations folder: DIRECTORY (default: --dir) and DIRECTORY/versions.
    Init { directory: Option<PathBuf> },
    /// Write a new revision file on top of the head.
    Revision {
        /// What the revision does; also names the file.
        #[arg(short, long)]
        message: String,
        /// Fill it with the SQL that brings the database to the models.
        #[arg(long)]
        autogenerate: bool,
    },
    /// Apply revisions: head, a revision id, or +N.
    Upgrade { revision: String },
    /// Undo revisions: base, a revision id, or -N.
    Downgrade {
        #[arg(allow_hyphen_values = true)]
        revision: String,
    },
    /// Show the revision the database is at.
    Current,
    /// List the revisions, newest first.
    History,
    /// Show the head revision(s).
    Heads,
    /// Record a revision as the database's without running anything.
    Stamp { revision: String },
    /// Exit 1 if the models and the database differ (what autogenerate would write).
    Check,
}

/// What a successful command found, for the exit code.
enum Outcome {
    Done,
    Differs,
}

/// Runs the command line of this process with the given models, printing results to stdout
/// and errors to stderr. Return its value from `main`.
pub fn run(metadata: &MetaData) -> ExitCode {
    run_from(metadata, std::env::args_os())
}

/// [`run`] with the arguments given (the first is the program name).
pub fn run_from<I, T>(metadata: &MetaData, args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let stdout = std::io::stdout();
    match execute(&cli, metadata, &mut stdout.lock()) {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Differs) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn engine(cli: &Cli) -> Result<Engine> {
    let url = match &cli.url {
        Some(url) => url.clone(),
        None => std::env::var("DATABASE_URL").map_err(|_| {
            Error::Migration(
                "no database given: pass --url sqlite:///app.db or set DATABASE_URL".into(),
            )
        })?,
    };
    Ok(create_engine(&url)?.echo(cli.echo))
}

fn head_mark(rev: &Revision, heads: &[Revision]) -> &'static str {
    if heads.iter().any(|h| h.id() == rev.id()) {
        " (head)"
    } else {
        ""
    }
}

fn execute(cli: &Cli, metadata: &MetaData, out: &mut dyn Write) -> Result<Outcome> {
    if let Command::Init { directory } = &cli.command {
        let dir = directory.as_ref().unwrap_or(&cli.dir);
        let migrations = Migrations::init(dir)?;
        writeln!(
            out,
            "Created {} and {}",
            migrations.dir().display(),
            migrations.versions_dir().display()
        )?;
        writeln!(
            out,
            "Next: revision --autogenerate -m \"Create tables\", then upgrade head"
        )?;
        return Ok(Outcome::Done);
    }
    let migrations = Migrations::open(&cli.dir)?;
    match &cli.command {
        Command::Init { .. } => unreachable!("handled above"),
        Command::Revision {
            message,
            autogenerate,
        } => {
            let revision = if *autogenerate {
                let engine = engine(cli)?;
                let changes = super::compare(&engine, metadata)?;
                let revision = migrations.autogenerate(&engine, metadata, message)?;
                if changes.is_empty() {
                    writeln!(out, "No changes in schema detected.")?;
                }
                for change in changes {
                    writeln!(out, "Detected {change}")?;
                }
                revision
            } else {
                migrations.revision(message)?
            };
            writeln!(out, "Generating {} ... done", revision.path().display())?;
        }
        Command::Upgrade { revision } => {
            let applied = migrations.upgrade(&engine(cli)?, revision)?;
            if applied.is_empty() {
                writeln!(
                    out,
                    "Nothing to upgrade: the database is already at {revision}"
                )?;
            }
            for rev in applied {
                writeln!(out, "Running upgrade {rev}")?;
            }
        }
        Command::Downgrade { revision } => {
            let undone = migrations.downgrade(&engine(cli)?, revision)?;
            if undone.is_empty() {
                writeln!(
                    out,
                    "Nothing to downgrade: the database is already at {revision}"
                )?;
            }
            for rev in undone {
                writeln!(
                    out,
                    "Running downgrade {} -> {}, {}",
                    rev.id(),
                    rev.down_revision().unwrap_or("<base>"),
                    rev.message()
                )?;
            }
        }
        Command::Current => {
            let heads = migrations.heads()?;
            match migrations.current(&engine(cli)?)? {
                Some(rev) => writeln!(out, "{}{}", rev.id(), head_mark(&rev, &heads))?,
                None => writeln!(out, "<base>")?,
            }
        }
        Command::History => {
            let heads = migrations.heads()?;
            for rev in migrations.history()? {
                let parent = rev.down_revision().unwrap_or("<base>");
                writeln!(
                    out,
                    "{parent} -> {}{}, {}",
                    rev.id(),
                    head_mark(&rev, &heads),
                    rev.message()
                )?;
            }
        }
        Command::Heads => {
            for rev in migrations.heads()? {
                writeln!(out, "{} (head), {}", rev.id(), rev.message())?;
            }
        }
        Command::Stamp { revision } => {
            let stamped = migrations.stamp(&engine(cli)?, revision)?;
            writeln!(
                out,
                "Stamped the database at {}",
                stamped.as_ref().map_or("<base>", |r| r.id())
            )?;
        }
        Command::Check => {
            let changes = migrations.check(&engine(cli)?, metadata)?;
            if changes.is_empty() {
                writeln!(out, "No new upgrade operations detected.")?;
                return Ok(Outcome::Done);
            }
            writeln!(out, "New upgrade operations detected:")?;
            for change in changes {
                writeln!(out, "  - {change}")?;
            }
            return Ok(Outcome::Differs);
        }
    }
    Ok(Outcome::Done)
}
