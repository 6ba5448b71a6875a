//! The SQLite driver side of an engine: opening, binding, running, reading rows.

use super::row::{ResultSet, RowAccess, RowReader};
use super::url::DatabaseUrl;
use super::EngineInner;
use crate::error::{Error, Result};
use crate::value::ValueRef;
use rusqlite::types::{ToSqlOutput, ValueRef as SqliteRef};
use std::path::Path;
use std::rc::Rc;

/// Opens the file at `path`, or a database in memory when there is none.
pub(crate) fn open(url: &DatabaseUrl, path: Option<&Path>) -> Result<rusqlite::Connection> {
    let conn = match path {
        None => rusqlite::Connection::open_in_memory(),
        Some(path) => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                if !parent.is_dir() {
                    return Err(Error::InvalidUrl {
                        url: url.to_string(),
                        reason: format!("the folder {} does not exist", parent.display()),
                    });
                }
            }
            rusqlite::Connection::open(path)
        }
    }
    .map_err(|e| Error::Database {
        message: format!("cannot open {url}: {e}"),
        sql: None,
        source: Some(Box::new(e)),
    })?;
    // Foreign keys are off by default in SQLite; the lesson's relationships rely on them.
    conn.execute_batch("PRAGMA foreign_keys = ON")?;
    if path.is_some() {
        // One connection per session: readers must not block the writer (WAL), and a writer
        // waits for another one a while before "database is locked".
        conn.busy_timeout(super::SQLITE_BUSY_TIMEOUT)?;
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
        // WAL's recommended durability: a commit survives a crash of the program, and the
        // database stays consistent even on power loss (SQLite's documentation on WAL).
        conn.execute_batch("PRAGMA synchronous = NORMAL")?;
    }
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn)
}

impl rusqlite::ToSql for ValueRef<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match *self {
            ValueRef::Null => ToSqlOutput::Borrowed(SqliteRef::Null),
            ValueRef::Integer(v) => ToSqlOutput::Borrowed(SqliteRef::Integer(v)),
            ValueRef::Real(v) => ToSqlOutput::Borrowed(SqliteRef::Real(v)),
            ValueRef::Text(v) => ToSqlOutput::Borrowed(SqliteRef::Text(v.as_bytes())),
            ValueRef::Blob(v) => ToSqlOutput::Borrowed(SqliteRef::Blob(v)),
            ValueRef::Bool(v) => ToSqlOutput::Borrowed(SqliteRef::Integer(v as i64)),
            ValueRef::DateTime(v) => {
                ToSqlOutput::from(v.format("%Y-%m-%d %H:%M:%S%.6f").to_string())
            }
            ValueRef::Date(v) => ToSqlOutput::from(v.format("%Y-%m-%d").to_string()),
            ValueRef::Time(v) => ToSqlOutput::from(v.format("%H:%M:%S%.6f").to_string()),
            ValueRef::Json(v) => ToSqlOutput::from(v.to_string()),
        })
    }
}

impl RowAccess for rusqlite::Row<'_> {
    fn value_ref(&self, index: usize) -> Result<ValueRef<'_>> {
        let v = self.get_ref(index).map_err(|e| Error::Database {
            message: e.to_string(),
            sql: None,
            source: Some(Box::new(e)),
        })?;
        Ok(match v {
            SqliteRef::Null => ValueRef::Null,
            SqliteRef::Integer(i) => ValueRef::Integer(i),
            SqliteRef::Real(f) => ValueRef::Real(f),
            SqliteRef::Text(t) => {
                ValueRef::Text(std::str::from_utf8(t).map_err(|e| Error::Database {
                    message: format!("column {index} holds text that is not UTF-8"),
                    sql: None,
                    source: Some(Box::new(e)),
                })?)
            }
            SqliteRef::Blob(b) => ValueRef::Blob(b),
        })
    }
}

/// Echoes, counts and binds a statement about to run.
fn bind(
    engine: &EngineInner,
    stmt: &mut rusqlite::Statement<'_>,
    sql: &str,
    params: &[ValueRef<'_>],
    table: Option<&str>,
) -> Result<()> {
    engine.log(sql, params);
    engine.count_statement();
    if stmt.parameter_count() != params.len() {
        return Err(Error::InvalidRequest(format!(
            "the statement expects {} parameters, {} were given: {sql}",
            stmt.parameter_count(),
            params.len()
        )));
    }
    for (i, p) in params.iter().enumerate() {
        stmt.raw_bind_parameter(i + 1, p)
            .map_err(|e| Error::from_sqlite(e, table, sql))?;
    }
    Ok(())
}

/// Many rows through few statements (the unit of work's INSERTs, UPDATEs and DELETEs): the
/// statement of the previous row stays prepared while rows of the same SQL follow, instead of
/// going back to the connection's statement cache and out again for every row (two hashes of
/// the SQL text and a reset of the bindings each time). Echo and counting see every row.
pub(crate) struct SqliteBatch<'c> {
    pub(super) conn: &'c rusqlite::Connection,
    pub(super) engine: &'c EngineInner,
    held: Option<(Rc<str>, rusqlite::CachedStatement<'c>)>,
}

impl<'c> SqliteBatch<'c> {
    pub(crate) fn new(conn: &'c rusqlite::Connection, engine: &'c EngineInner) -> Self {
        SqliteBatch {
            conn,
            engine,
            held: None,
        }
    }

    /// The prepared statement of `sql`, bound to `params` (echoed and counted).
    fn bound(
        &mut self,
        sql: &Rc<str>,
        params: &[ValueRef<'_>],
        table: Option<&str>,
    ) -> Result<&mut rusqlite::CachedStatement<'c>> {
        let same =
            matches!(&self.held, Some((held, _)) if Rc::ptr_eq(held, sql) || **held == **sql);
        if !same {
            // Dropping the previous statement hands it back to the connection's cache.
            self.held = None;
            let stmt = self
                .conn
                .prepare_cached(sql)
                .map_err(|e| Error::from_sqlite(e, table, sql))?;
            self.held = Some((sql.clone(), stmt));
        }
        let (_, stmt) = self.held.as_mut().expect("prepared above");
        bind(self.engine, stmt, sql, params, table)?;
        Ok(stmt)
    }

    /// Runs a statement that returns no rows; the number of rows changed.
    pub(crate) fn execute(
        &mut self,
        sql: &Rc<str>,
        params: &[ValueRef<'_>],
        table: Option<&str>,
    ) -> Result<usize> {
        self.bound(sql, params, table)?
            .raw_execute()
            .map_err(|e| Error::from_sqlite(e, table, sql))
    }

    /// Runs a statement with a `RETURNING` clause, hands each returned row to `each` and
    /// returns their number (see [`Batch::returning`](super::connection::Batch::returning)).
    pub(crate) fn returning(
        &mut self,
        sql: &Rc<str>,
        params: &[ValueRef<'_>],
        table: Option<&str>,
        mut each: impl FnMut(&mut RowReader<'_>) -> Result<()>,
    ) -> Result<usize> {
        let stmt = self.bound(sql, params, table)?;
        let mut rows = stmt.raw_query();
        let mut count = 0;
        while let Some(row) = rows.next().map_err(|e| Error::from_sqlite(e, table, sql))? {
            each(&mut RowReader::new(row))?;
            count += 1;
        }
        Ok(count)
    }

    /// Runs an `INSERT` and returns the rowid SQLite assigned.
    pub(crate) fn insert(
        &mut self,
        sql: &Rc<str>,
        params: &[ValueRef<'_>],
        table: Option<&str>,
    ) -> Result<i64> {
        self.execute(sql, params, table)?;
        Ok(self.conn.last_insert_rowid())
    }
}

/// A generated key as returned by `RETURNING`: an integer, else the statement is not one the
/// unit of work wrote.
pub(crate) fn integer_key(value: ValueRef<'_>, sql: &str) -> Result<i64> {
    match value {
        ValueRef::Integer(key) => Ok(key),
        other => Err(Error::InvalidRequest(format!(
            "the INSERT returned {other:?} where an integer key was expected: {}",
            crate::error::shown_sql(sql)
        ))),
    }
}

fn prepare<'c>(
    conn: &'c rusqlite::Connection,
    engine: &EngineInner,
    sql: &str,
    params: &[ValueRef<'_>],
    table: Option<&str>,
) -> Result<rusqlite::CachedStatement<'c>> {
    let mut stmt = conn
        .prepare_cached(sql)
        .map_err(|e| Error::from_sqlite(e, table, sql))?;
    bind(engine, &mut stmt, sql, params, table)?;
    Ok(stmt)
}

/// Runs a statement that returns no rows; the number of rows changed.
pub(crate) fn execute(
    conn: &rusqlite::Connection,
    engine: &EngineInner,
    sql: &str,
    params: &[ValueRef<'_>],
    table: Option<&str>,
) -> Result<usize> {
    let mut stmt = prepare(conn, engine, sql, params, table)?;
    stmt.raw_execute()
        .map_err(|e| Error::from_sqlite(e, table, sql))
}

/// Runs a query and hands each row to `each`.
pub(crate) fn query(
    conn: &rusqlite::Connection,
    engine: &EngineInner,
    sql: &str,
    params: &[ValueRef<'_>],
    mut each: impl FnMut(&mut RowReader<'_>) -> Result<()>,
) -> Result<()> {
    let mut stmt = prepare(conn, engine, sql, params, None)?;
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next().map_err(|e| Error::from_sqlite(e, None, sql))? {
        each(&mut RowReader::new(row))?;
    }
    Ok(())
}

/// Runs any statement and collects its rows as values (the Core result).
pub(crate) fn fetch_all(
    conn: &rusqlite::Connection,
    engine: &EngineInner,
    sql: &str,
    params: &[ValueRef<'_>],
    table: Option<&str>,
) -> Result<ResultSet> {
    let mut stmt = prepare(conn, engine, sql, params, table)?;
    let columns: Vec<String> = stmt.column_names().iter().map(|c| c.to_string()).collect();
    let mut result = ResultSet {
        columns,
        ..ResultSet::default()
    };
    if result.columns.is_empty() {
        result.rows_affected = stmt
            .raw_execute()
            .map_err(|e| Error::from_sqlite(e, table, sql))?;
        return Ok(result);
    }
    let width = result.columns.len();
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next().map_err(|e| Error::from_sqlite(e, table, sql))? {
        let mut values = Vec::with_capacity(width);
        for i in 0..width {
            values.push(row.value_ref(i)?.to_owned());
        }
        result.rows.push(values);
    }
    Ok(result)
}

/// Transaction control: echoed like any statement, but not counted as work.
pub(crate) fn control(conn: &rusqlite::Connection, engine: &EngineInner, sql: &str) -> Result<()> {
    engine.log(sql, &[]);
    conn.execute_batch(sql)
        .map_err(|e| Error::from_sqlite(e, None, sql))
}
