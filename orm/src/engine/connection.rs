//! A connection in use, whatever the database: the one door every statement passes through, so
//! echo and statement counting see them all. Each method hands the work to its driver module.

use super::row::{ResultSet, RowReader};
use super::sqlite::{self, SqliteBatch};
use super::EngineInner;
use crate::error::Result;
use crate::value::ValueRef;
use std::rc::Rc;
use std::sync::MutexGuard;

#[cfg(feature = "postgres")]
use super::postgres::PgConnection;

/// A driver connection.
pub(crate) enum Backend {
    Sqlite(rusqlite::Connection),
    /// Boxed: the client and its statement cache are much larger than a SQLite handle.
    #[cfg(feature = "postgres")]
    Postgres(Box<PgConnection>),
}

/// The one connection of an in-memory SQLite database, and which session's transaction is open
/// on it (SQLAlchemy's `StaticPool`: every session uses this connection).
pub(crate) struct Shared {
    pub(crate) backend: Backend,
    /// The session whose transaction is open on the connection, if any.
    pub(crate) owner: Option<u64>,
}

enum Slot<'e> {
    /// The in-memory database's connection, locked for one operation.
    Shared(MutexGuard<'e, Shared>),
    /// A connection taken from the engine's pool: back to the pool when dropped, unless a
    /// session keeps it ([`Conn::into_held`]).
    Owned(Option<Box<Backend>>),
}

/// A connection in use: every statement goes through here, counted and echoed.
pub(crate) struct Conn<'e> {
    slot: Slot<'e>,
    engine: &'e EngineInner,
}

/// A run of statements that keeps the last one prepared (see [`SqliteBatch`]); PostgreSQL keeps
/// prepared statements on the connection itself.
pub(crate) enum Batch<'c> {
    Sqlite(SqliteBatch<'c>),
    #[cfg(feature = "postgres")]
    Postgres(&'c mut PgConnection, &'c EngineInner),
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        if let Slot::Owned(backend) = &mut self.slot {
            if let Some(backend) = backend.take() {
                self.engine.give_back(backend);
            }
        }
    }
}

impl Backend {
    pub(crate) fn is_autocommit(&self) -> bool {
        match self {
            Backend::Sqlite(conn) => conn.is_autocommit(),
            #[cfg(feature = "postgres")]
            Backend::Postgres(conn) => conn.is_autocommit(),
        }
    }

    /// Transaction control outside a `Conn` (the pool ending a forgotten transaction).
    pub(crate) fn control(&mut self, engine: &EngineInner, sql: &str) -> Result<()> {
        match self {
            Backend::Sqlite(conn) => sqlite::control(conn, engine, sql),
            #[cfg(feature = "postgres")]
            Backend::Postgres(conn) => conn.control(engine, sql),
        }
    }
}

impl<'e> Conn<'e> {
    pub(crate) fn shared(guard: MutexGuard<'e, Shared>, engine: &'e EngineInner) -> Self {
        Conn {
            slot: Slot::Shared(guard),
            engine,
        }
    }

    pub(crate) fn owned(backend: Box<Backend>, engine: &'e EngineInner) -> Self {
        Conn {
            slot: Slot::Owned(Some(backend)),
            engine,
        }
    }

    /// Hands a pooled connection back to the session that keeps it between operations (`None`
    /// for the in-memory database's shared connection, which stays with the engine).
    pub(crate) fn into_held(mut self) -> Option<Box<Backend>> {
        match &mut self.slot {
            Slot::Owned(backend) => backend.take(),
            Slot::Shared(_) => None,
        }
    }

    /// The session whose transaction is open on the in-memory database's connection; `None`
    /// for a pooled connection (each session has its own).
    pub(crate) fn shared_owner(&mut self) -> Option<&mut Option<u64>> {
        match &mut self.slot {
            Slot::Shared(guard) => Some(&mut guard.owner),
            Slot::Owned(_) => None,
        }
    }

    fn backend(&mut self) -> &mut Backend {
        match &mut self.slot {
            Slot::Shared(guard) => &mut guard.backend,
            Slot::Owned(backend) => backend
                .as_mut()
                .expect("a connection is held until dropped"),
        }
    }

    fn backend_ref(&self) -> &Backend {
        match &self.slot {
            Slot::Shared(guard) => &guard.backend,
            Slot::Owned(backend) => backend
                .as_ref()
                .expect("a connection is held until dropped"),
        }
    }

    pub(crate) fn batch(&mut self) -> Batch<'_> {
        let engine = self.engine;
        match self.backend() {
            Backend::Sqlite(conn) => Batch::Sqlite(SqliteBatch::new(conn, engine)),
            #[cfg(feature = "postgres")]
            Backend::Postgres(conn) => Batch::Postgres(conn, engine),
        }
    }

    /// Runs a statement that returns no rows; the number of rows changed.
    pub(crate) fn execute(
        &mut self,
        sql: &str,
        params: &[ValueRef<'_>],
        table: Option<&str>,
    ) -> Result<usize> {
        let engine = self.engine;
        match self.backend() {
            Backend::Sqlite(conn) => sqlite::execute(conn, engine, sql, params, table),
            #[cfg(feature = "postgres")]
            Backend::Postgres(conn) => conn.execute(engine, sql, params, table),
        }
    }

    /// Runs a query and hands each row to `each`.
    pub(crate) fn query(
        &mut self,
        sql: &str,
        params: &[ValueRef<'_>],
        each: impl FnMut(&mut RowReader<'_>) -> Result<()>,
    ) -> Result<()> {
        let engine = self.engine;
        match self.backend() {
            Backend::Sqlite(conn) => sqlite::query(conn, engine, sql, params, each),
            #[cfg(feature = "postgres")]
            Backend::Postgres(conn) => conn.query(engine, sql, params, each),
        }
    }

    /// Runs a query of one array parameter holding `items` (PostgreSQL's `= ANY($1)`, see
    /// [`Batch::binds_arrays`]) and hands each row to `each`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`](crate::Error::InvalidRequest) on SQLite, which has no array
    /// parameters, or when the statement does not take one array; the database's error if the
    /// query fails.
    #[cfg_attr(not(feature = "postgres"), allow(unused_variables))]
    pub(crate) fn query_array(
        &mut self,
        sql: &str,
        items: &[ValueRef<'_>],
        each: impl FnMut(&mut RowReader<'_>) -> Result<()>,
    ) -> Result<()> {
        let engine = self.engine;
        match self.backend() {
            Backend::Sqlite(_) => Err(no_arrays(sql)),
            #[cfg(feature = "postgres")]
            Backend::Postgres(conn) => conn.query_array(engine, sql, items, each),
        }
    }

    /// Runs any statement and collects its rows as values (the Core result).
    pub(crate) fn fetch_all(
        &mut self,
        sql: &str,
        params: &[ValueRef<'_>],
        table: Option<&str>,
    ) -> Result<ResultSet> {
        let engine = self.engine;
        match self.backend() {
            Backend::Sqlite(conn) => sqlite::fetch_all(conn, engine, sql, params, table),
            #[cfg(feature = "postgres")]
            Backend::Postgres(conn) => conn.fetch_all(engine, sql, params, table),
        }
    }

    /// Transaction control: echoed like any statement, but not counted as work.
    pub(crate) fn control(&mut self, sql: &str) -> Result<()> {
        let engine = self.engine;
        match self.backend() {
            Backend::Sqlite(conn) => sqlite::control(conn, engine, sql),
            #[cfg(feature = "postgres")]
            Backend::Postgres(conn) => conn.control(engine, sql),
        }
    }

    /// Runs `work` in a transaction, or in a savepoint inside the one already open.
    pub(crate) fn atomically<R>(&mut self, work: impl FnOnce(&mut Self) -> Result<R>) -> Result<R> {
        let outer = self.is_autocommit();
        self.control(if outer {
            "BEGIN"
        } else {
            "SAVEPOINT orm_atomic"
        })?;
        match work(self) {
            Ok(r) => {
                self.control(if outer {
                    "COMMIT"
                } else {
                    "RELEASE SAVEPOINT orm_atomic"
                })?;
                Ok(r)
            }
            Err(e) => {
                let _ = self.control(if outer {
                    "ROLLBACK"
                } else {
                    "ROLLBACK TO SAVEPOINT orm_atomic; RELEASE SAVEPOINT orm_atomic"
                });
                Err(e)
            }
        }
    }

    /// Whether no transaction is open on the connection.
    pub(crate) fn is_autocommit(&self) -> bool {
        self.backend_ref().is_autocommit()
    }
}

/// The error of a statement with an array parameter sent to SQLite.
fn no_arrays(sql: &str) -> crate::error::Error {
    crate::error::Error::InvalidRequest(format!(
        "SQLite has no array parameters: {}",
        crate::error::shown_sql(sql)
    ))
}

impl Batch<'_> {
    /// Runs a statement that returns no rows; the number of rows changed.
    pub(crate) fn execute(
        &mut self,
        sql: &Rc<str>,
        params: &[ValueRef<'_>],
        table: Option<&str>,
    ) -> Result<usize> {
        match self {
            Batch::Sqlite(batch) => batch.execute(sql, params, table),
            #[cfg(feature = "postgres")]
            Batch::Postgres(conn, engine) => conn.execute(engine, sql, params, table),
        }
    }

    /// Whether the database is embedded in the process (SQLite): a statement costs no round
    /// trip, so many small prepared statements are cheap beside one big one.
    pub(crate) fn is_embedded(&self) -> bool {
        matches!(self, Batch::Sqlite(_))
    }

    /// Whether the engine binds an array as one parameter (PostgreSQL: `= ANY($1)`), so a
    /// statement over many keys has one shape whatever their number.
    pub(crate) fn binds_arrays(&self) -> bool {
        match self {
            Batch::Sqlite(_) => false,
            #[cfg(feature = "postgres")]
            Batch::Postgres(..) => true,
        }
    }

    /// Runs a statement of one array parameter (see [`Batch::binds_arrays`]) holding `items`;
    /// the number of rows changed.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] on SQLite, which has no array parameters; the database's
    /// error if the statement fails.
    #[cfg_attr(not(feature = "postgres"), allow(unused_variables))]
    pub(crate) fn execute_array(
        &mut self,
        sql: &Rc<str>,
        items: &[ValueRef<'_>],
        table: Option<&str>,
    ) -> Result<usize> {
        match self {
            Batch::Sqlite(_) => Err(no_arrays(sql)),
            #[cfg(feature = "postgres")]
            Batch::Postgres(conn, engine) => conn.execute_array(engine, sql, items, table),
        }
    }

    /// Runs a statement with a `RETURNING` clause (the unit of work's INSERTs and UPDATEs that
    /// learn generated keys and what the database computed), hands each returned row to `each`
    /// and returns their number: the rows written. Neither database promises the order of the
    /// rows; `session/persistence.rs` says how they are paired with the objects.
    pub(crate) fn returning(
        &mut self,
        sql: &Rc<str>,
        params: &[ValueRef<'_>],
        table: Option<&str>,
        each: impl FnMut(&mut RowReader<'_>) -> Result<()>,
    ) -> Result<usize> {
        match self {
            Batch::Sqlite(batch) => batch.returning(sql, params, table, each),
            #[cfg(feature = "postgres")]
            Batch::Postgres(conn, engine) => conn.returning(engine, sql, params, table, each),
        }
    }

    /// Runs an `INSERT` and returns the key the database assigned (SQLite's rowid, or the
    /// column of the statement's `RETURNING`).
    pub(crate) fn insert(
        &mut self,
        sql: &Rc<str>,
        params: &[ValueRef<'_>],
        table: Option<&str>,
    ) -> Result<i64> {
        match self {
            Batch::Sqlite(batch) => batch.insert(sql, params, table),
            #[cfg(feature = "postgres")]
            Batch::Postgres(conn, engine) => conn.insert(engine, sql, params, table),
        }
    }

    /// The most parameters one statement may bind: SQLite's `SQLITE_MAX_VARIABLE_NUMBER`
    /// (32,766 by default since SQLite 3.32), PostgreSQL's 65,535 (the protocol's 16-bit count).
    pub(crate) fn max_params(&self) -> usize {
        match self {
            Batch::Sqlite(_) => 32_766,
            #[cfg(feature = "postgres")]
            Batch::Postgres(..) => 65_535,
        }
    }

    /// PostgreSQL: the parameter types of `sql` as the server resolves them, spelt for a cast
    /// (see `PgConnection::param_types`). SQLite: `None` (its values carry their own types).
    #[cfg_attr(not(feature = "postgres"), allow(unused_variables))]
    pub(crate) fn param_types(
        &mut self,
        sql: &str,
        table: Option<&str>,
    ) -> Result<Option<Vec<String>>> {
        match self {
            Batch::Sqlite(_) => Ok(None),
            #[cfg(feature = "postgres")]
            Batch::Postgres(conn, engine) => conn.param_types(engine, sql, table).map(Some),
        }
    }
}
