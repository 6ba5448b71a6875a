//! Engines: where the database is, how to reach it, and the one place every statement passes
//! through (so echo and statement counting see them all).

mod connection;
#[cfg(feature = "postgres")]
mod postgres;
mod row;
mod sqlite;
mod url;

use connection::Shared;
pub(crate) use connection::{Backend, Batch, Conn};
pub use row::{ResultSet, RowAccess, RowReader};
pub(crate) use sqlite::integer_key;

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
/// An engine is a cheap handle (clone it freely, send it to other threads). It keeps a pool of
/// connections, as SQLAlchemy's engine does: a session takes a connection at its first statement
/// and gives it back at commit, rollback or close, so two sessions have two transactions,
/// isolated as the database isolates them. SQLite files are opened in WAL mode with a busy
/// timeout of [`SQLITE_BUSY_TIMEOUT`]: a writer waits that long for another one, then gets
/// [`Error::DatabaseLocked`].
///
/// An in-memory SQLite database lives only as long as its connection, so there the engine keeps
/// one connection for every session (SQLAlchemy's `StaticPool`): one session's transaction at a
/// time. A session that would write while another one's transaction is open, or commit and roll
/// back work that is not its own, gets [`Error::TransactionConflict`] instead.
///
/// Why not the `r2d2` crate: every notebook cell links the crate's dependencies again (DESIGN
/// fact 1), and the pool needed here (take, give back, open when empty) is a `Vec` behind a
/// mutex; `r2d2`'s background threads, health checks and timeouts buy nothing for it.
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

/// How long a writer on a SQLite file waits for another connection's transaction (SQLAlchemy's
/// `pysqlite` default, `timeout=5`) before [`Error::DatabaseLocked`].
pub const SQLITE_BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Idle connections kept for the next session; more than this are closed when given back.
const POOL_IDLE: usize = 8;

/// Where the engine's connections come from.
enum Pool {
    /// `sqlite:///:memory:`: the database is its one connection (SQLAlchemy's `StaticPool`).
    Static(Mutex<Shared>),
    /// Files and servers: idle connections, opened as needed (SQLAlchemy's `QueuePool`). Boxed
    /// as sessions hold them: a session's state stays one pointer wide for its connection.
    #[allow(clippy::vec_box)]
    Queue(Mutex<Vec<Box<Backend>>>),
}

pub(crate) struct EngineInner {
    url: DatabaseUrl,
    pool: Pool,
    echo: AtomicBool,
    statements: AtomicU64,
    sessions: AtomicU64,
    /// Bumped by a schema change on any connection (PostgreSQL connections then forget the
    /// statement shapes they learnt).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    schema_generation: AtomicU64,
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
///
/// # Errors
///
/// [`Error::InvalidUrl`] for a URL of another scheme, a malformed `postgresql://` URL, or a
/// PostgreSQL URL in a build without the `postgres` feature; [`Error::Database`] (or
/// [`Error::Io`]) when the first connection cannot be opened: a SQLite file in a folder that does
/// not exist, a PostgreSQL server that refuses the connection or the password.
///
/// # Examples
///
/// ```
/// use orm::prelude::*;
/// let memory = create_engine("sqlite:///:memory:")?;
/// assert_eq!(memory.dialect(), "sqlite");
/// // A file database, created when missing (three slashes: a path relative to the current folder).
/// let folder = tempfile::tempdir().expect("a temporary folder");
/// let path = folder.path().join("app.db");
/// let file = create_engine(&format!("sqlite:///{}", path.display()))?;
/// file.execute(orm::core::text("CREATE TABLE t (x INTEGER)"))?;
/// assert!(path.exists());
/// // A URL of another scheme is refused, saying why.
/// match create_engine("mysql://localhost/app") {
///     Err(Error::InvalidUrl { url, .. }) => assert_eq!(url, "mysql://localhost/app"),
///     other => panic!("expected an invalid URL, got {:?}", other.map(|e| e.url())),
/// }
/// # Ok::<(), orm::Error>(())
/// ```
pub fn create_engine(url: &str) -> Result<Engine> {
    let parsed = DatabaseUrl::parse(url)?;
    // The first connection is opened now, so a wrong URL or a server that is down is reported by
    // `create_engine`; it waits in the pool for the first session.
    let first = open_backend(&parsed)?;
    let pool = match &parsed {
        DatabaseUrl::SqliteMemory => Pool::Static(Mutex::new(Shared {
            backend: first,
            owner: None,
        })),
        _ => Pool::Queue(Mutex::new(vec![Box::new(first)])),
    };
    Ok(Engine {
        inner: Arc::new(EngineInner {
            url: parsed,
            pool,
            echo: AtomicBool::new(false),
            statements: AtomicU64::new(0),
            sessions: AtomicU64::new(1),
            schema_generation: AtomicU64::new(0),
            statement_log: open_statement_log(),
        }),
    })
}

/// A new driver connection to the database a URL names.
fn open_backend(url: &DatabaseUrl) -> Result<Backend> {
    Ok(match url {
        DatabaseUrl::SqliteMemory => Backend::Sqlite(sqlite::open(url, None)?),
        DatabaseUrl::SqliteFile(path) => Backend::Sqlite(sqlite::open(url, Some(path))?),
        #[cfg(feature = "postgres")]
        DatabaseUrl::Postgres(pg) => Backend::Postgres(Box::new(postgres::open(pg)?)),
        #[cfg(not(feature = "postgres"))]
        DatabaseUrl::Postgres(_) => {
            return Err(Error::InvalidUrl {
                url: url.to_string(),
                reason: "this build of orm has no PostgreSQL driver: enable the cargo feature \
                         `postgres` (orm = { features = [\"postgres\"] })"
                    .into(),
            })
        }
    })
}

/// The lesson's advice in one line: the URL comes from an environment variable, with a default.
///
/// ```
/// // MY_APP_DATABASE_URL is not set here: the default is used.
/// let engine = orm::create_engine_from_env("MY_APP_DATABASE_URL", "sqlite:///:memory:")?;
/// assert_eq!(engine.url(), "sqlite:///:memory:");
/// # Ok::<(), orm::Error>(())
/// ```
///
/// # Errors
///
/// As [`create_engine`], for the variable's URL (trimmed) or, when it is unset or blank, for
/// `default`.
pub fn create_engine_from_env(variable: &str, default: &str) -> Result<Engine> {
    match std::env::var(variable) {
        Ok(url) if !url.trim().is_empty() => create_engine(url.trim()),
        _ => create_engine(default),
    }
}

impl Engine {
    /// Turns echo on or off and returns the engine: `create_engine(url)?.echo(true)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let engine = orm::create_engine("sqlite:///:memory:")?.echo(true);
    /// assert!(engine.echo_enabled());
    /// engine.execute(orm::core::text("SELECT 1"))?;   // printed with its parameters first
    /// engine.set_echo(false);
    /// assert!(!engine.echo_enabled());
    /// # Ok::<(), orm::Error>(())
    /// ```
    pub fn echo(self, on: bool) -> Engine {
        self.set_echo(on);
        self
    }

    /// When on, every statement is printed with its parameters before it runs.
    pub fn set_echo(&self, on: bool) {
        self.inner.echo.store(on, Ordering::Relaxed);
    }

    /// Whether statements are echoed ([`Engine::set_echo`]).
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

    /// Sets [`Engine::statement_count`] back to 0, to count the statements of one step.
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
    ///
    /// # Errors
    ///
    /// The database's error for the statement; on `sqlite:///:memory:`, a statement other than
    /// a `SELECT` while a session's transaction is open gets [`Error::TransactionConflict`] (it
    /// would be undone by that session's rollback).
    pub fn execute(&self, stmt: impl Into<Statement>) -> Result<ResultSet> {
        let stmt = stmt.into();
        stmt.check()?;
        let compiled = self.writer().compile(&stmt);
        let params: Vec<ValueRef<'_>> = compiled.params.iter().map(Value::as_ref).collect();
        let mut conn = self.connect()?;
        if !only_reads(&stmt) {
            refuse_in_session_transaction(&mut conn)?;
        }
        conn.fetch_all(&compiled.sql, &params, stmt.target_table())
    }

    /// Runs statements in one transaction: all or nothing.
    ///
    /// # Errors
    ///
    /// The first statement's error (nothing is then written); [`Error::TransactionConflict`] on
    /// `sqlite:///:memory:` while a session's transaction is open.
    ///
    /// # Examples
    ///
    /// ```
    /// use orm::core::text;
    /// use orm::Value;
    /// let engine = orm::create_engine("sqlite:///:memory:")?;
    /// engine.execute(text("CREATE TABLE t (x INTEGER NOT NULL)"))?;
    /// // The second statement fails, so the first is not written either.
    /// let failed = engine.run_all(&[
    ///     text("INSERT INTO t (x) VALUES (1)").into(),
    ///     text("INSERT INTO t (x) VALUES (NULL)").into(),
    /// ]);
    /// assert!(matches!(failed, Err(orm::Error::NotNullViolation { .. })));
    /// assert_eq!(engine.execute(text("SELECT count(*) FROM t"))?.scalar(), Some(&Value::Integer(0)));
    /// # Ok::<(), orm::Error>(())
    /// ```
    pub fn run_all(&self, statements: &[Statement]) -> Result<()> {
        let mut conn = self.connect()?;
        refuse_in_session_transaction(&mut conn)?;
        conn.atomically(|conn| {
            for stmt in statements {
                stmt.check()?;
                let compiled = self.writer().compile(stmt);
                let params: Vec<ValueRef<'_>> = compiled.params.iter().map(Value::as_ref).collect();
                conn.execute(&compiled.sql, &params, stmt.target_table())?;
            }
            Ok(())
        })
    }

    /// A number unique among this engine's sessions (names them in errors).
    pub(crate) fn next_session_id(&self) -> u64 {
        self.inner.sessions.fetch_add(1, Ordering::Relaxed)
    }

    /// A connection for one engine-level operation: given back when dropped.
    pub(crate) fn connect(&self) -> Result<Conn<'_>> {
        self.session_conn(None)
    }

    /// The connection a session keeps (`held`), or a connection from the pool; for an in-memory
    /// database, its one connection, locked for this operation.
    pub(crate) fn session_conn(&self, held: Option<Box<Backend>>) -> Result<Conn<'_>> {
        match &self.inner.pool {
            Pool::Static(shared) => {
                // A panic while the lock was held cannot leave SQLite inconsistent: keep going.
                let guard = shared.lock().unwrap_or_else(|p| p.into_inner());
                Ok(Conn::shared(guard, &self.inner))
            }
            Pool::Queue(idle) => {
                let backend = match held {
                    Some(backend) => backend,
                    None => {
                        let reused = idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
                        match reused {
                            Some(backend) => backend,
                            None => Box::new(open_backend(&self.inner.url)?),
                        }
                    }
                };
                Ok(Conn::owned(backend, &self.inner))
            }
        }
    }

    pub(crate) fn inner(&self) -> &EngineInner {
        &self.inner
    }

    /// Whether the engine binds an array as one parameter (PostgreSQL's `= ANY($1)`): a
    /// statement over a list of keys then has one shape whatever their number.
    pub(crate) fn binds_arrays(&self) -> bool {
        matches!(self.inner.url, DatabaseUrl::Postgres(_))
    }

    /// Whether this engine is a SQLite file (writers take the lock at `BEGIN IMMEDIATE`).
    pub(crate) fn is_sqlite_file(&self) -> bool {
        matches!(self.inner.url, DatabaseUrl::SqliteFile(_))
    }
}

/// Whether a statement only reads: a `select`, or `text()` that starts as a query does.
pub(crate) fn only_reads(stmt: &Statement) -> bool {
    match stmt {
        Statement::Select(_) => true,
        Statement::Raw { sql, .. } | Statement::Text(crate::core::TextClause { sql, .. }) => {
            let head: String = sql
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            ["select", "with", "pragma", "explain", "values", "show"]
                .iter()
                .any(|word| head.eq_ignore_ascii_case(word))
        }
        _ => false,
    }
}

/// An engine-level write on the in-memory database would join a session's open transaction and
/// be undone by its rollback: refused.
fn refuse_in_session_transaction(conn: &mut Conn<'_>) -> Result<()> {
    if let Some(Some(owner)) = conn.shared_owner().map(|o| *o) {
        return Err(Error::TransactionConflict {
            detail: format!(
                "the engine cannot write to sqlite:///:memory: while session {owner}'s transaction \
                 is open on its one connection: commit or roll back that session first"
            ),
        });
    }
    Ok(())
}

impl EngineInner {
    /// A connection back into the pool; a transaction left open on it is rolled back first, so
    /// the next session starts clean.
    pub(crate) fn give_back(&self, mut backend: Box<Backend>) {
        let Pool::Queue(idle) = &self.pool else {
            return;
        };
        if !backend.is_autocommit() && backend.control(self, "ROLLBACK").is_err() {
            return;
        }
        let mut idle = idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < POOL_IDLE {
            idle.push(backend);
        }
    }

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

    #[cfg(feature = "postgres")]
    pub(crate) fn schema_generation(&self) -> u64 {
        self.schema_generation.load(Ordering::Acquire)
    }

    /// A schema change happened: the new generation.
    #[cfg(feature = "postgres")]
    pub(crate) fn bump_schema_generation(&self) -> u64 {
        self.schema_generation.fetch_add(1, Ordering::AcqRel) + 1
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
