//! The one error type of the crate: every variant carries what a learner needs to act on it.
//!
//! `Display` and `std::error::Error` come from `thiserror` (the derive most Rust libraries use,
//! rusqlite's own errors among them) rather than hand-written impls: the messages sit next to
//! their variants, and `source()` is derived from the `source` fields. A driver error is kept as
//! the `source` of the variant it became ([`DriverError`]), so a caller can downcast it to
//! `rusqlite::Error` or `postgres::Error` and read the code the database gave.

use std::path::PathBuf;

/// The database driver's own error: a `rusqlite::Error`, or a `postgres::Error` with the
/// `postgres` feature. Reach it through [`std::error::Error::source`] and
/// [`downcast_ref`](https://doc.rust-lang.org/std/error/trait.Error.html#method.downcast_ref).
pub type DriverError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in `orm`, in words that name the table, column or constraint.
///
/// Constraint errors are classified by the driver's codes, never by the message's words:
/// SQLite's extended result codes (`SQLITE_CONSTRAINT_UNIQUE` 2067 and `_PRIMARYKEY` 1555,
/// `_FOREIGNKEY` 787, `_NOTNULL` 1299, `_CHECK` 275) and PostgreSQL's SQLSTATE (23505, 23503,
/// 23502, 23514).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `create_engine` was given a URL it cannot use.
    #[error(
        "cannot use database URL {url:?}: {reason}. Supported: sqlite:///:memory:, \
         sqlite:///relative/path.db, sqlite:////absolute/path.db, \
         postgresql://user:password@host:port/dbname"
    )]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A `UNIQUE` constraint (or a primary key) refused a row.
    #[error(
        "UNIQUE constraint failed on {table}.{}: another row already has this value",
        .columns.join(", ")
    )]
    UniqueViolation {
        /// The table of the row refused.
        table: String,
        /// The columns of the constraint.
        columns: Vec<String>,
        /// The constraint's name, when the database gives it (PostgreSQL does).
        constraint: Option<String>,
        /// The driver's error.
        source: Option<DriverError>,
    },
    /// A `NOT NULL` column got no value.
    #[error("NOT NULL constraint failed: {table}.{column} needs a value")]
    NotNullViolation {
        /// The table of the row refused.
        table: String,
        /// The column that got no value.
        column: String,
        /// The driver's error (none when the model refused the value before any SQL ran).
        source: Option<DriverError>,
    },
    /// A row points at a parent that does not exist, or a parent still has children.
    #[error("FOREIGN KEY constraint failed on table {table}: {detail}{}", constraint_shown(.constraint))]
    ForeignKeyViolation {
        /// The table the statement was about (for a `DELETE`, the parent's).
        table: String,
        /// Which of the two happened, and what to do.
        detail: String,
        /// The constraint's name, when the database gives it (PostgreSQL does).
        constraint: Option<String>,
        /// The driver's error.
        source: Option<DriverError>,
    },
    /// A `CHECK` constraint (or another kind of constraint) refused a row.
    #[error("constraint failed on table {table}: {message}")]
    ConstraintViolation {
        /// The table of the row refused.
        table: String,
        /// The database's words about it.
        message: String,
        /// The constraint's name (on SQLite, the name or the expression of the `CHECK`).
        constraint: Option<String>,
        /// The driver's error.
        source: Option<DriverError>,
    },
    /// The table does not exist in the database.
    #[error(
        "no such table: {table} (did you call metadata.create_all(&engine) for this database?)"
    )]
    NoSuchTable {
        /// The table's name.
        table: String,
        /// The driver's error.
        source: Option<DriverError>,
    },
    /// The column does not exist (in the database or the model).
    #[error("no such column: {table}.{column}")]
    NoSuchColumn {
        /// The table's name.
        table: String,
        /// The column's name.
        column: String,
        /// The driver's error, when the database refused the statement.
        source: Option<DriverError>,
    },
    /// A value read from a column does not fit the model's field type.
    #[error("column {table}.{column} holds {found}, but the model expects {expected}")]
    WrongType {
        /// The table's name.
        table: String,
        /// The column's name.
        column: String,
        /// The field's type.
        expected: String,
        /// What the column holds.
        found: String,
    },
    /// `one()` found no row.
    #[error("one() found no row, exactly one was required: {query}")]
    NoResultFound {
        /// The query's SQL.
        query: String,
    },
    /// `one()` or `one_or_none()` found more than one row.
    #[error("found {count} rows where at most one was expected (use first() or all()): {query}")]
    MultipleResultsFound {
        /// How many rows were found.
        count: usize,
        /// The query's SQL.
        query: String,
    },
    /// A relationship or query was used in a way the models do not allow.
    #[error("{0}")]
    InvalidRequest(String),
    /// A migrations folder, a target or a version table that cannot be used (unknown revision,
    /// two heads, a folder that is not one…). Revision files that cannot be read are
    /// [`Error::MigrationScript`]; revisions that fail to run, [`Error::MigrationFailed`].
    #[error("migration: {0}")]
    Migration(String),
    /// A revision file that cannot be read as one: its file and line say where.
    #[error("migration: {}:{line}: {message}", .file.display())]
    MigrationScript {
        /// The revision file.
        file: PathBuf,
        /// The line (from 1) the problem is on.
        line: usize,
        /// What is wrong there.
        message: String,
    },
    /// A revision's upgrade or downgrade failed and was rolled back: the database is still at
    /// `run.from`, its data as it was.
    #[error(
        "migration: {} failed {}{detail}. The revision was rolled back: the database is still at \
         {}, its data as it was",
        .run, at_line(&.run.file, .line), shown_revision(&.run.from)
    )]
    MigrationFailed {
        /// The revision, the way it ran and its file.
        run: Box<RevisionRun>,
        /// The line of the statement that failed, when one did (not the foreign key check).
        line: Option<usize>,
        /// What failed, in words.
        detail: String,
        /// The statement's error (an [`Error`]: `source().and_then(|e| e.downcast_ref::<Error>())`),
        /// when a statement failed. Boxed as a trait object so that `source()` hands out the
        /// `Error` itself, not its box.
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
    /// A revision refused before anything ran (a batch block on PostgreSQL).
    #[error(
        "migration: {} refused: {}:{line}: {reason}. Nothing was run: the database is still at {}",
        .run, .run.file.display(), shown_revision(&.run.from)
    )]
    MigrationRefused {
        /// The revision, the way it would have run and its file.
        run: Box<RevisionRun>,
        /// The line of the step refused.
        line: usize,
        /// Why, and what to do.
        reason: String,
    },
    /// Any other error from the database, with the statement that caused it.
    #[error("{message}{}", in_sql(.sql))]
    Database {
        /// The database's words.
        message: String,
        /// The statement, cut after 500 characters.
        sql: Option<String>,
        /// The driver's error.
        source: Option<DriverError>,
    },
    /// A file could not be read or written.
    #[error("{}{source}", .what.as_deref().map(|w| format!("{w}: ")).unwrap_or_default())]
    Io {
        /// What was being done (`cannot write app/versions/…`), when known.
        what: Option<String>,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A session would act on a transaction that is not its own: on `sqlite:///:memory:` every
    /// session shares the one connection, and only one of them may have a transaction open.
    #[error("transaction conflict: {detail}")]
    TransactionConflict {
        /// Which sessions and what to do.
        detail: String,
    },
    /// A SQLite file stayed locked by another connection's transaction for the whole busy
    /// timeout ([`crate::engine::SQLITE_BUSY_TIMEOUT`]).
    #[error(
        "{message}: another connection's transaction held the database for longer than the busy \
         timeout; commit or roll back the other session{}",
        in_sql(.sql)
    )]
    DatabaseLocked {
        /// SQLite's words.
        message: String,
        /// The statement, cut after 500 characters.
        sql: Option<String>,
        /// The driver's error.
        source: Option<DriverError>,
    },
    /// PostgreSQL refused to drop a table that other objects still depend on (SQLSTATE 2BP01,
    /// `dependent_objects_still_exist`): a foreign key of a table that is not in the metadata
    /// being dropped (left over by another program or an interrupted run), a view. As
    /// SQLAlchemy's `drop_all`, `MetaData::drop_all` drops only its own tables and never
    /// cascades to others; its transaction is rolled back, so nothing was dropped.
    #[error(
        "cannot drop table {table}: other objects depend on it ({}); drop them first, or with          the metadata that declares them. Nothing of this transaction stays dropped          (PostgreSQL rolls it back)",
        .dependents.join("; ")
    )]
    DependentObjectsStillExist {
        /// The table that was to be dropped.
        table: String,
        /// What depends on it, in the server's words, one entry an object: `constraint
        /// posts_user_id_fkey on table posts depends on table users`.
        dependents: Vec<String>,
        /// The driver's error.
        source: Option<DriverError>,
    },
    /// An UPDATE or DELETE of the unit of work matched another number of rows than expected:
    /// the row was deleted or its key changed by someone else (SQLAlchemy's `StaleDataError`).
    #[error(
        "{statement} statement on table '{table}' expected to {} {expected} row(s); {matched} were \
         matched.",
        .statement.to_ascii_lowercase()
    )]
    StaleData {
        /// `"UPDATE"` or `"DELETE"`.
        statement: &'static str,
        /// The table.
        table: String,
        /// How many rows the unit of work meant to change.
        expected: usize,
        /// How many the database matched.
        matched: usize,
    },
}

/// The revision a migration error is about: shown as `upgrade a1 -> b2 (Add email)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionRun {
    /// `"upgrade"` or `"downgrade"`.
    pub way: &'static str,
    /// The revision's id.
    pub revision: String,
    /// The revision's message (its title).
    pub title: String,
    /// The revision the database was at (`None`: base).
    pub from: Option<String>,
    /// The revision it was going to (`None`: base).
    pub to: Option<String>,
    /// The revision file.
    pub file: PathBuf,
}

impl std::fmt::Display for RevisionRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} -> {} ({})",
            self.way,
            shown_revision(&self.from),
            shown_revision(&self.to),
            self.title
        )
    }
}

fn in_sql(sql: &Option<String>) -> String {
    sql.as_ref()
        .map(|sql| format!(" (in: {sql})"))
        .unwrap_or_default()
}

fn constraint_shown(constraint: &Option<String>) -> String {
    constraint
        .as_ref()
        .map(|c| format!(" (constraint {c})"))
        .unwrap_or_default()
}

fn shown_revision(revision: &Option<String>) -> &str {
    revision.as_deref().unwrap_or("<base>")
}

fn at_line(file: &std::path::Path, line: &Option<usize>) -> String {
    match line {
        Some(line) => format!("at {}:{line}: ", file.display()),
        None => String::new(),
    }
}

/// Error messages show at most this much of a statement: an `IN (…)` of many keys is long.
pub(crate) const SQL_SHOWN: usize = 500;

/// The statement as an error shows it: cut after [`SQL_SHOWN`] characters, saying how much more.
/// The table an `INSERT`, `UPDATE` or `DELETE` writes, read from the statement's head
/// (`INSERT [OR …] INTO t`, `UPDATE [OR …] t`, `DELETE FROM t`, with or without quotes), for
/// errors of hand-written SQL; `None` for anything else.
fn written_table(sql: &str) -> Option<String> {
    let mut words = sql.split_whitespace();
    let first = words.next()?.to_ascii_uppercase();
    let mut next = words.next()?;
    if next.eq_ignore_ascii_case("OR") {
        words.next()?; // OR REPLACE / ABORT / IGNORE …
        next = words.next()?;
    }
    let name = match first.as_str() {
        "INSERT" | "REPLACE" if next.eq_ignore_ascii_case("INTO") => words.next()?,
        "DELETE" if next.eq_ignore_ascii_case("FROM") => words.next()?,
        "UPDATE" => next,
        _ => return None,
    };
    let name = name
        .split('(')
        .next()?
        .trim_matches(|c| c == '"' || c == '`');
    (!name.is_empty()).then(|| name.to_string())
}

pub(crate) fn shown_sql(sql: &str) -> String {
    match sql.char_indices().nth(SQL_SHOWN) {
        None => sql.to_string(),
        Some((cut, _)) => format!(
            "{}… ({} more characters)",
            &sql[..cut],
            sql[cut..].chars().count()
        ),
    }
}

/// The crate's result: [`Error`] unless said otherwise.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<std::io::Error> for Error {
    fn from(source: std::io::Error) -> Self {
        Error::Io { what: None, source }
    }
}

impl Error {
    /// Turns a driver error into a named one, using the table the statement was about
    /// (SQLite's foreign-key message names none).
    ///
    /// Constraint errors are told apart by their extended result code
    /// (<https://www.sqlite.org/rescode.html#extrc>); SQLite gives the table and columns only
    /// in the message, which its source forms as `UNIQUE constraint failed: users.email` (or
    /// `NOT NULL …: t.c`, `CHECK …: name`), so the names are read from there. Missing tables
    /// and columns have no code of their own (`SQLITE_ERROR`): they are recognised by the
    /// message's fixed prefix, as SQLite writes it.
    pub(crate) fn from_sqlite(err: rusqlite::Error, table: Option<&str>, sql: &str) -> Error {
        use rusqlite::ffi;
        let message = match &err {
            rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.clone(),
            other => other.to_string(),
        };
        // Raw `text()` SQL carries no table: the statement's own target names it.
        let statement_table = written_table(sql);
        let table_or = |t: Option<&str>| {
            t.or(statement_table.as_deref())
                .unwrap_or("(the statement's table)")
                .to_string()
        };
        let extended_code = match &err {
            rusqlite::Error::SqliteFailure(e, _) => Some(e.extended_code),
            _ => None,
        };
        // The names after the message's `…: ` (`users.email, users.name`).
        let names = message
            .split_once(": ")
            .map_or("", |(_, rest)| rest)
            .to_string();
        let source = Some(Box::new(err) as DriverError);
        match extended_code {
            Some(code) if code & 0xff == ffi::SQLITE_BUSY || code & 0xff == ffi::SQLITE_LOCKED => {
                Error::DatabaseLocked {
                    message,
                    sql: (!sql.is_empty()).then(|| shown_sql(sql)),
                    source,
                }
            }
            Some(ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY) => {
                let cols: Vec<&str> = names.split(", ").collect();
                let table = cols[0]
                    .split_once('.')
                    .map_or_else(|| table_or(table), |(t, _)| t.to_string());
                let columns = cols
                    .iter()
                    .map(|c| c.rsplit('.').next().unwrap_or(c).to_string())
                    .collect();
                Error::UniqueViolation {
                    table,
                    columns,
                    constraint: None,
                    source,
                }
            }
            Some(ffi::SQLITE_CONSTRAINT_NOTNULL) => {
                let (t, c) = names
                    .split_once('.')
                    .map_or((table_or(table), names.clone()), |(t, c)| {
                        (t.to_string(), c.to_string())
                    });
                Error::NotNullViolation {
                    table: t,
                    column: c,
                    source,
                }
            }
            Some(ffi::SQLITE_CONSTRAINT_FOREIGNKEY) => {
                let head = sql.trim_start();
                let detail = if head.starts_with("DELETE") {
                    "rows in other tables still refer to the row being deleted (delete them first, or declare a cascade)"
                } else if head.starts_with("DROP") {
                    // SQLite deletes a table's rows before dropping it ("The DROP TABLE
                    // Statement": an implicit DELETE FROM, checked like any DELETE).
                    "rows in other tables still refer to rows of the table being dropped (drop                      or empty those tables first)"
                } else {
                    "the referenced row does not exist"
                };
                Error::ForeignKeyViolation {
                    table: table_or(table),
                    detail: detail.to_string(),
                    constraint: None,
                    source,
                }
            }
            Some(ffi::SQLITE_CONSTRAINT_CHECK) => Error::ConstraintViolation {
                table: table_or(table),
                message: names.clone(),
                constraint: (!names.is_empty()).then_some(names),
                source,
            },
            Some(code) if code & 0xff == ffi::SQLITE_CONSTRAINT => Error::ConstraintViolation {
                table: table_or(table),
                message,
                constraint: None,
                source,
            },
            _ => {
                if let Some(rest) = message.strip_prefix("no such table: ") {
                    return Error::NoSuchTable {
                        table: rest.trim_start_matches("main.").to_string(),
                        source,
                    };
                }
                if let Some(rest) = message.strip_prefix("no such column: ") {
                    let (t, c) = rest
                        .split_once('.')
                        .map_or((table_or(table), rest.to_string()), |(t, c)| {
                            (t.to_string(), c.to_string())
                        });
                    return Error::NoSuchColumn {
                        table: t,
                        column: c,
                        source,
                    };
                }
                Error::Database {
                    message,
                    sql: Some(shown_sql(sql)),
                    source,
                }
            }
        }
    }

    /// A copy of an error a query met while being built, returned when it runs (queries are
    /// `Clone`, their deferred error with them). Such errors carry no driver error; any other
    /// keeps its words.
    pub(crate) fn copy_deferred(&self) -> Error {
        match self {
            Error::NoSuchColumn {
                table,
                column,
                source: None,
            } => Error::NoSuchColumn {
                table: table.clone(),
                column: column.clone(),
                source: None,
            },
            Error::InvalidRequest(message) => Error::InvalidRequest(message.clone()),
            other => Error::InvalidRequest(other.to_string()),
        }
    }

    /// The driver's error behind this one, when there is one: a `rusqlite::Error` or a
    /// `postgres::Error` to downcast (`err.driver_error().and_then(|e| e.downcast_ref::<rusqlite::Error>())`).
    pub fn driver_error(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        match self {
            Error::UniqueViolation { source, .. }
            | Error::NotNullViolation { source, .. }
            | Error::ForeignKeyViolation { source, .. }
            | Error::ConstraintViolation { source, .. }
            | Error::NoSuchTable { source, .. }
            | Error::NoSuchColumn { source, .. }
            | Error::Database { source, .. }
            | Error::DatabaseLocked { source, .. } => source.as_deref(),
            Error::MigrationFailed {
                source: Some(inner),
                ..
            } => inner.downcast_ref::<Error>().and_then(Error::driver_error),
            _ => None,
        }
    }
}
