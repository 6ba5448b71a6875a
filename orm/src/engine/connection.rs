//! A locked connection, whatever the database: the one door every statement passes through, so
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

/// The driver connection an engine owns.
pub(crate) enum Backend {
    Sqlite(rusqlite::Connection),
    /// Boxed: the client and its statement cache are much larger than a SQLite handle.
    #[cfg(feature = "postgres")]
    Postgres(Box<PgConnection>),
}

/// A locked connection: every statement goes through here, counted and echoed.
pub(crate) struct Conn<'e> {
    backend: MutexGuard<'e, Backend>,
    engine: &'e EngineInner,
}

/// A run of statements that keeps the last one prepared (see [`SqliteBatch`]); PostgreSQL keeps
/// prepared statements on the connection itself.
pub(crate) enum Batch<'c> {
    Sqlite(SqliteBatch<'c>),
    #[cfg(feature = "postgres")]
    Postgres(&'c mut PgConnection, &'c EngineInner),
}

impl<'e> Conn<'e> {
    pub(crate) fn new(backend: MutexGuard<'e, Backend>, engine: &'e EngineInner) -> Self {
        Conn { backend, engine }
    }

    pub(crate) fn batch(&mut self) -> Batch<'_> {
        match &mut *self.backend {
            Backend::Sqlite(conn) => Batch::Sqlite(SqliteBatch::new(conn, self.engine)),
            #[cfg(feature = "postgres")]
            Backend::Postgres(conn) => Batch::Postgres(conn, self.engine),
        }
    }

    /// Runs a statement that returns no rows; the number of rows changed.
    pub(crate) fn execute(
        &mut self,
        sql: &str,
        params: &[ValueRef<'_>],
        table: Option<&str>,
    ) -> Result<usize> {
        match &mut *self.backend {
            Backend::Sqlite(conn) => sqlite::execute(conn, self.engine, sql, params, table),
            #[cfg(feature = "postgres")]
            Backend::Postgres(conn) => conn.execute(self.engine, sql, params, table),
        }
    }

    /// Runs a query and hands each row to `each`.
    pub(crate) fn query(
        &mut self,
        sql: &str,
        params: &[ValueRef<'_>],
        each: impl FnMut(&mut RowReader<'_>) -> Result<()>,
    ) -> Result<()> {
        match &mut *self.backend {
            Backend::Sqlite(conn) => sqlite::query(conn, self.engine, sql, params, each),
            #[cfg(feature = "postgres")]
            Backend::Postgres(conn) => conn.query(self.engine, sql, params, each),
        }
    }

    /// Runs any statement and collects its rows as values (the Core result).
    pub(crate) fn fetch_all(
        &mut self,
        sql: &str,
        params: &[ValueRef<'_>],
        table: Option<&str>,
    ) -> Result<ResultSet> {
        match &mut *self.backend {
            Backend::Sqlite(conn) => sqlite::fetch_all(conn, self.engine, sql, params, table),
            #[cfg(feature = "postgres")]
            Backend::Postgres(conn) => conn.fetch_all(self.engine, sql, params, table),
        }
    }

    /// Transaction control: echoed like any statement, but not counted as work.
    pub(crate) fn control(&mut self, sql: &str) -> Result<()> {
        match &mut *self.backend {
            Backend::Sqlite(conn) => sqlite::control(conn, self.engine, sql),
            #[cfg(feature = "postgres")]
            Backend::Postgres(conn) => conn.control(self.engine, sql),
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
        match &*self.backend {
            Backend::Sqlite(conn) => conn.is_autocommit(),
            #[cfg(feature = "postgres")]
            Backend::Postgres(conn) => conn.is_autocommit(),
        }
    }
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
}
