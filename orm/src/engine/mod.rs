//! Engines: where the database is, how to reach it, and the one place every statement passes
//! through (so echo and statement counting see them all).

mod connection;
#[cfg(feature = "postgres")]
mod postgres;
mod row;
mod sqlite;
mod url;

pub(crate) use connection::{Backend, Batch, Conn};
pub use row::{ResultSet, RowAccess, RowReader};

use crate::core::{PostgresWriter, SqlWriter, SqliteWriter, Statement};
use crate::error::{Error, Result};
use crate::value::{Value, ValueRef};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub use url::{DatabaseUrl, PostgresUrl};

/// A database and how to reach it: `create_engine("sqlite:///app.db")`, or
/// `create_engine("postgresql://user:pass@localhost/dbname")` with the `postgres` feature.
///
/// An engine is a cheap handle (clone it freely); all its sessions share one connection, as
/// SQLAlchemy's `StaticPool` does for SQLite, because SQLite allows one writer at a time and an
/// in-memory database lives only as long as its connection. On PostgreSQL the one connection
/// keeps the same model: a session's transaction is the engine's.
///
/// ```
/// let engine = orm::create_engine("sqlite:///:memory:")?;
/// assert_eq!(engine.url(), "sqlite:///:memory:");
/// # Ok::<(), orm::Error>(())
/// ```
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

pub(crate) struct EngineInner {
    url: DatabaseUrl,
    conn: Mutex<Backend>,
    echo: AtomicBool,
    statements: AtomicU64,
    sessions: AtomicU64,
    /// Where every statement's SQL is appended, one per line, when `$ORM_STATEMENT_LOG` names
    /// a file as the engine is made (the kernel's N+1 note reads it; off otherwise).
    statement_log: Option<Mutex<std::fs::File>>,
}

/// The environment variable naming a file to which engines append the SQL of each statement.
pub const STATEMENT_LOG_VAR: &str = "ORM_STATEMENT_LOG";

fn open_statement_log() -> Option<Mutex<std::fs::File>> {
    let path = std::env::var_os(STATEMENT_LOG_VAR).filter(|p| !p.is_empty())?;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .ok()
        .map(Mutex::new)
}

/// Opens the database a URL names. Supported: `sqlite:///:memory:` (or `sqlite://`),
/// `sqlite:///relative/path.db`, `sqlite:////absolute/path.db`, and with the `postgres` feature
/// `postgresql://user:password@host:port/dbname` (also `postgres://`; options `sslmode`,
/// `host=/socket/folder`, `connect_timeout`, `application_name`).
pub fn create_engine(url: &str) -> Result<Engine> {
    let parsed = DatabaseUrl::parse(url)?;
    let conn = match &parsed {
        DatabaseUrl::SqliteMemory => Backend::Sqlite(sqlite::open(&parsed, None)?),
        DatabaseUrl::SqliteFile(path) => Backend::Sqlite(sqlite::open(&parsed, Some(path))?),
        #[cfg(feature = "postgres")]
        DatabaseUrl::Postgres(pg) => Backend::Postgres(Box::new(postgres::open(pg)?)),
        #[cfg(not(feature = "postgres"))]
        DatabaseUrl::Postgres(_) => {
            return Err(Error::InvalidUrl {
                url: parsed.to_string(),
                reason: "this build of orm has no PostgreSQL driver: enable the cargo feature \
                         `postgres` (orm = { features = [\"postgres\"] })"
                    .into(),
            })
        }
    };
    Ok(Engine {
        inner: Arc::new(EngineInner {
            url: parsed,
            conn: Mutex::new(conn),
            echo: AtomicBool::new(false),
            statements: AtomicU64::new(0),
            sessions: AtomicU64::new(1),
            statement_log: open_statement_log(),
        }),
    })
}

/// The lesson's advice in one line: the URL comes from an environment variable, with a default.
///
/// ```
/// let engine = orm::create_engine_from_env("MY_APP_DATABASE_URL", "sqlite:///:memory:")?;
/// # Ok::<(), orm::Error>(())
/// ```
pub fn create_engine_from_env(variable: &str, default: &str) -> Result<Engine> {
    match std::env::var(variable) {
        Ok(url) if !url.trim().is_empty() => create_engine(url.trim()),
        _ => create_engine(default),
    }
}

impl Engine {
    /// Turns echo on or off and returns the engine: `create_engine(url)?.echo(true)`.
    pub fn echo(self, on: bool) -> Engine {
        self.set_echo(on);
        self
    }

    /// When on, every statement is printed with its parameters before it runs.
    pub fn set_echo(&self, on: bool) {
        self.inner.echo.store(on, Ordering::Relaxed);
    }

    pub fn echo_enabled(&self) -> bool {
        self.inner.echo.load(Ordering::Relaxed)
    }

    /// The URL this engine was made from (never shows a password).
    pub fn url(&self) -> String {
        self.inner.url.to_string()
    }

    /// How many SQL statements this engine has run (transaction control excluded): the figure
    /// that makes the N+1 problem visible.
    pub fn statement_count(&self) -> u64 {
        self.inner.statements.load(Ordering::Relaxed)
    }

    pub fn reset_statement_count(&self) {
        self.inner.statements.store(0, Ordering::Relaxed);
    }

    /// The database kind, as SQLAlchemy names dialects: `"sqlite"` or `"postgresql"`.
    pub fn dialect(&self) -> &'static str {
        match self.inner.url {
            DatabaseUrl::Postgres(_) => "postgresql",
            DatabaseUrl::SqliteMemory | DatabaseUrl::SqliteFile(_) => "sqlite",
        }
    }

    pub(crate) fn writer(&self) -> &'static dyn SqlWriter {
        match self.inner.url {
            DatabaseUrl::Postgres(_) => &PostgresWriter,
            DatabaseUrl::SqliteMemory | DatabaseUrl::SqliteFile(_) => &SqliteWriter,
        }
    }

    /// Runs a Core statement outside any session and returns its rows (empty for writes).
    ///
    /// ```
    /// use orm::core::{text, Statement};
    /// let engine = orm::create_engine("sqlite:///:memory:")?;
    /// let rows = engine.execute(text("SELECT 1 + 1 AS two"))?;
    /// assert_eq!(rows.rows[0][0], orm::Value::Integer(2));
    /// # Ok::<(), orm::Error>(())
    /// ```
    pub fn execute(&self, stmt: impl Into<Statement>) -> Result<ResultSet> {
        let stmt = stmt.into();
        let compiled = self.writer().compile(&stmt);
        let params: Vec<ValueRef<'_>> = compiled.params.iter().map(Value::as_ref).collect();
        self.connect()
            .fetch_all(&compiled.sql, &params, stmt.target_table())
    }

    /// Runs statements in one transaction (a savepoint if one is already open): all or nothing.
    pub fn run_all(&self, statements: &[Statement]) -> Result<()> {
        let mut conn = self.connect();
        conn.atomically(|conn| {
            for stmt in statements {
                let compiled = self.writer().compile(stmt);
                let params: Vec<ValueRef<'_>> = compiled.params.iter().map(Value::as_ref).collect();
                conn.execute(&compiled.sql, &params, stmt.target_table())?;
            }
            Ok(())
        })
    }

    /// A number unique among this engine's sessions (names their savepoints).
    pub(crate) fn next_session_id(&self) -> u64 {
        self.inner.sessions.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn connect(&self) -> Conn<'_> {
        // A panic while the lock was held cannot leave SQLite inconsistent: keep going.
        let guard = self
            .inner
            .conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Conn::new(guard, &self.inner)
    }
}

impl EngineInner {
    pub(crate) fn log(&self, sql: &str, params: &[ValueRef<'_>]) {
        if self.echo.load(Ordering::Relaxed) {
            println!("{}", format_echo(sql, params));
        }
        if let Some(file) = &self.statement_log {
            use std::io::Write;
            let line = format!("{}\n", sql.replace(['\n', '\r'], " "));
            let mut file = file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let _ = file.write_all(line.as_bytes());
        }
    }

    pub(crate) fn count_statement(&self) {
        self.statements.fetch_add(1, Ordering::Relaxed);
    }
}

/// `SQL: …` then the parameters, as SQLAlchemy's echo prints them.
fn format_echo(sql: &str, params: &[ValueRef<'_>]) -> String {
    if params.is_empty() {
        return format!("SQL: {sql}");
    }
    let shown: Vec<String> = params
        .iter()
        .map(|p| match p {
            ValueRef::Text(t) => format!("'{}'", t.replace('\'', "\\'")),
            other => other.to_string(),
        })
        .collect();
    format!("SQL: {sql}\n     [{}]", shown.join(", "))
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Engine({})", self.inner.url)
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Engine({})", self.inner.url)
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::from_sqlite(e, None, "")
    }
}
