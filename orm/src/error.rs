//! The one error type of the crate: every variant carries what a learner needs to act on it.

use std::fmt;

/// Everything that can go wrong in `orm`, in words that name the table, column or constraint.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// `create_engine` was given a URL it cannot use.
    InvalidUrl { url: String, reason: String },
    /// A `UNIQUE` constraint refused a row.
    UniqueViolation { table: String, columns: Vec<String> },
    /// A `NOT NULL` column got no value.
    NotNullViolation { table: String, column: String },
    /// A row points at a parent that does not exist, or a parent still has children.
    ForeignKeyViolation { table: String, detail: String },
    /// Another constraint (`CHECK`, …) refused a row.
    ConstraintViolation { table: String, message: String },
    /// The table does not exist in the database.
    NoSuchTable { table: String },
    /// The column does not exist (in the database or the model).
    NoSuchColumn { table: String, column: String },
    /// A value read from a column does not fit the model's field type.
    WrongType {
        table: String,
        column: String,
        expected: String,
        found: String,
    },
    /// `one()` found no row.
    NoResultFound { query: String },
    /// `one()` or `one_or_none()` found more than one row.
    MultipleResultsFound { count: usize, query: String },
    /// A relationship or query was used in a way the models do not allow.
    InvalidRequest(String),
    /// A migration problem (unknown revision, two heads, a failed step…).
    Migration(String),
    /// Any other error from the database, with the statement that caused it.
    Database {
        message: String,
        sql: Option<String>,
    },
    /// A file could not be read or written.
    Io(String),
    /// A session would act on a transaction that is not its own: on `sqlite:///:memory:` every
    /// session shares the one connection, and only one of them may have a transaction open.
    TransactionConflict { detail: String },
    /// A SQLite file stayed locked by another connection's transaction for the whole busy
    /// timeout ([`crate::engine::SQLITE_BUSY_TIMEOUT`]).
    DatabaseLocked {
        message: String,
        sql: Option<String>,
    },
    /// An UPDATE or DELETE of the unit of work matched another number of rows than expected:
    /// the row was deleted or its key changed by someone else (SQLAlchemy's `StaleDataError`).
    StaleData {
        statement: &'static str,
        table: String,
        expected: usize,
        matched: usize,
    },
}

/// Error messages show at most this much of a statement: an `IN (…)` of many keys is long.
pub(crate) const SQL_SHOWN: usize = 500;

/// The statement as an error shows it: cut after [`SQL_SHOWN`] characters, saying how much more.
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

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidUrl { url, reason } => write!(
                f,
                "cannot use database URL {url:?}: {reason}. Supported: sqlite:///:memory:, \
                 sqlite:///relative/path.db, sqlite:////absolute/path.db, \
                 postgresql://user:password@host:port/dbname"
            ),
            Error::UniqueViolation { table, columns } => write!(
                f,
                "UNIQUE constraint failed on {table}.{}: another row already has this value",
                columns.join(", ")
            ),
            Error::NotNullViolation { table, column } => {
                write!(f, "NOT NULL constraint failed: {table}.{column} needs a value")
            }
            Error::ForeignKeyViolation { table, detail } => {
                write!(f, "FOREIGN KEY constraint failed on table {table}: {detail}")
            }
            Error::ConstraintViolation { table, message } => {
                write!(f, "constraint failed on table {table}: {message}")
            }
            Error::NoSuchTable { table } => write!(
                f,
                "no such table: {table} (did you call metadata.create_all(&engine) for this database?)"
            ),
            Error::NoSuchColumn { table, column } => write!(f, "no such column: {table}.{column}"),
            Error::WrongType { table, column, expected, found } => {
                write!(f, "column {table}.{column} holds {found}, but the model expects {expected}")
            }
            Error::NoResultFound { query } => {
                write!(f, "one() found no row, exactly one was required: {query}")
            }
            Error::MultipleResultsFound { count, query } => write!(
                f,
                "found {count} rows where at most one was expected (use first() or all()): {query}"
            ),
            Error::InvalidRequest(msg) => f.write_str(msg),
            Error::Migration(msg) => write!(f, "migration: {msg}"),
            Error::Database { message, sql: Some(sql) } => write!(f, "{message} (in: {sql})"),
            Error::Database { message, sql: None } => f.write_str(message),
            Error::Io(msg) => f.write_str(msg),
            Error::TransactionConflict { detail } => write!(f, "transaction conflict: {detail}"),
            Error::DatabaseLocked { message, sql } => {
                write!(
                    f,
                    "{message}: another connection's transaction held the database for longer \
                     than the busy timeout; commit or roll back the other session"
                )?;
                match sql {
                    Some(sql) => write!(f, " (in: {sql})"),
                    None => Ok(()),
                }
            }
            Error::StaleData {
                statement,
                table,
                expected,
                matched,
            } => write!(
                f,
                "{statement} statement on table '{table}' expected to {} {expected} row(s); \
                 {matched} were matched.",
                statement.to_ascii_lowercase()
            ),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e.to_string())
    }
}

impl Error {
    /// Turns a driver error into a named one, using the table the statement was about
    /// (SQLite's foreign-key message names none).
    pub(crate) fn from_sqlite(err: rusqlite::Error, table: Option<&str>, sql: &str) -> Error {
        let message = match &err {
            rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.clone(),
            other => other.to_string(),
        };
        let table_or = |t: Option<&str>| t.unwrap_or("?").to_string();
        if matches!(&err, rusqlite::Error::SqliteFailure(e, _)
            if matches!(e.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
        {
            return Error::DatabaseLocked {
                message,
                sql: (!sql.is_empty()).then(|| shown_sql(sql)),
            };
        }
        if let Some(rest) = message.strip_prefix("UNIQUE constraint failed: ") {
            let cols: Vec<&str> = rest.split(", ").collect();
            let table = cols[0].split('.').next().unwrap_or("?").to_string();
            let columns = cols
                .iter()
                .map(|c| c.rsplit('.').next().unwrap_or(c).to_string())
                .collect();
            return Error::UniqueViolation { table, columns };
        }
        if let Some(rest) = message.strip_prefix("NOT NULL constraint failed: ") {
            let (t, c) = rest.split_once('.').unwrap_or(("?", rest));
            return Error::NotNullViolation {
                table: t.to_string(),
                column: c.to_string(),
            };
        }
        if message.starts_with("FOREIGN KEY constraint failed") {
            let detail = if sql.trim_start().starts_with("DELETE") {
                "rows in other tables still refer to the row being deleted (delete them first, or declare a cascade)"
            } else {
                "the referenced row does not exist"
            };
            return Error::ForeignKeyViolation {
                table: table_or(table),
                detail: detail.to_string(),
            };
        }
        if let Some(rest) = message.strip_prefix("CHECK constraint failed: ") {
            return Error::ConstraintViolation {
                table: table_or(table),
                message: rest.to_string(),
            };
        }
        if let Some(rest) = message.strip_prefix("no such table: ") {
            return Error::NoSuchTable {
                table: rest.trim_start_matches("main.").to_string(),
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
            };
        }
        Error::Database {
            message,
            sql: Some(shown_sql(sql)),
        }
    }
}
