//! The PostgreSQL driver side of an engine (feature `postgres`): connecting, binding each value
//! as the type the server asks for, reading any column as a [`ValueRef`], and naming errors from
//! the server's own fields (table, column, constraint).

use super::row::{ResultSet, RowAccess, RowReader};
use super::url::PostgresUrl;
use super::EngineInner;
use crate::error::{Error, Result};
use crate::value::ValueRef;
use bytes::{BufMut, BytesMut};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use postgres::config::SslMode;
use postgres::error::SqlState;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{to_sql_checked, FromSql, IsNull, Kind, ToSql, Type};
use postgres::{Client, NoTls, Row};
use rustc_hash::FxHashMap;
use std::sync::Arc;
use std::time::Duration;

type BoxError = Box<dyn std::error::Error + Sync + Send>;

/// Statement shapes known on this connection, by SQL text. A session runs a handful of shapes
/// many times; past this many distinct texts the cache starts again rather than grow without bound.
const STATEMENT_CACHE_CAPACITY: usize = 256;

/// What the server said about a statement: its parameters' types and its columns' names.
///
/// No named prepared statement stays on the server. The driver names the statements it prepares
/// from a global counter (`s0`, `s1`, …), and every notebook cell links its own copy of the
/// driver (DESIGN fact 1) while the connection lives on: a later cell's counter starts at `s0`
/// again and meets the name an earlier cell left ("prepared statement \"s0\" already exists").
/// So a statement is prepared once per connection only to learn its shape, closed at once, and
/// then run as the unnamed statement with its parameter types given (`query_typed`): the names
/// the driver draws never outlive the call that drew them.
struct Shape {
    params: Vec<Type>,
    columns: Vec<String>,
}

/// One connection to a PostgreSQL server, with the state SQLite would report by itself.
pub(crate) struct PgConnection {
    client: Client,
    statements: FxHashMap<String, Arc<Shape>>,
    /// The engine's schema generation the shapes above were learnt in: a schema change on any
    /// of the engine's connections makes every connection learn its shapes again.
    schema_generation: u64,
    /// PostgreSQL's client does not say whether a transaction is open: the engine keeps track
    /// from the transaction control it sends.
    in_transaction: bool,
    /// The URL without its password, for errors.
    shown_url: String,
}

pub(crate) fn open(url: &PostgresUrl) -> Result<PgConnection> {
    let mut config = postgres::Config::new();
    config.host(&url.host);
    if let Some(port) = url.port {
        config.port(port);
    }
    // libpq's default user is the operating system's user.
    let os_user = std::env::var("USER").unwrap_or_else(|_| "postgres".into());
    config.user(url.user.as_deref().unwrap_or(&os_user));
    if let Some(password) = &url.password {
        config.password(password);
    }
    if let Some(dbname) = &url.dbname {
        config.dbname(dbname);
    }
    if let Some(name) = &url.application_name {
        config.application_name(name);
    }
    if url.sslmode.as_deref() == Some("disable") {
        config.ssl_mode(SslMode::Disable);
    }
    // A server that does not answer must not hang a notebook cell.
    config.connect_timeout(Duration::from_secs(url.connect_timeout.unwrap_or(10)));
    let client = config.connect(NoTls).map_err(|e| Error::Database {
        message: format!("cannot connect to {url}: {}", describe(&e)),
        sql: None,
        source: Some(Box::new(e)),
    })?;
    Ok(PgConnection {
        client,
        statements: FxHashMap::default(),
        schema_generation: 0,
        in_transaction: false,
        shown_url: url.to_string(),
    })
}

/// A driver error in words: the server's message when there is one.
fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => match std::error::Error::source(e) {
            Some(source) => format!("{e}: {source}"),
            None => e.to_string(),
        },
    }
}

/// Whether a statement changes the schema: prepared statements may then describe tables that no
/// longer look that way, so the cache is emptied.
fn is_schema_change(sql: &str) -> bool {
    let head = sql.trim_start().get(..6).unwrap_or("").to_ascii_uppercase();
    matches!(head.as_str(), "CREATE" | "ALTER " | "DROP T" | "DROP I")
}

impl PgConnection {
    fn statement(
        &mut self,
        engine: &EngineInner,
        sql: &str,
        table: Option<&str>,
    ) -> Result<Arc<Shape>> {
        let generation = engine.schema_generation();
        if generation != self.schema_generation {
            self.statements.clear();
            self.schema_generation = generation;
        }
        if let Some(shape) = self.statements.get(sql) {
            return Ok(shape.clone());
        }
        let stmt = self
            .client
            .prepare(sql)
            .map_err(|e| self.error(e, table, sql))?;
        let shape = Arc::new(Shape {
            params: stmt.params().to_vec(),
            columns: stmt
                .columns()
                .iter()
                .map(|c| c.name().to_string())
                .collect(),
        });
        // Dropping the statement closes it on the server before the next request is sent.
        drop(stmt);
        if is_schema_change(sql) {
            self.schema_changed(engine);
        } else {
            if self.statements.len() >= STATEMENT_CACHE_CAPACITY {
                self.statements.clear();
            }
            self.statements.insert(sql.to_owned(), shape.clone());
        }
        Ok(shape)
    }

    /// Runs the statement unnamed, each value bound as the type the server asked for; hands
    /// each row to `each` and returns the number of rows changed.
    fn run(
        &mut self,
        shape: &Shape,
        sql: &str,
        params: &[ValueRef<'_>],
        table: Option<&str>,
        each: impl FnMut(&Row) -> Result<()>,
    ) -> Result<u64> {
        let params = params.iter().map(|p| p as &(dyn ToSql + Sync));
        self.run_dyn(shape, sql, params, table, each)
    }

    /// [`Self::run`] of parameters of any type the driver can send (an array of keys).
    fn run_dyn<'p>(
        &mut self,
        shape: &Shape,
        sql: &str,
        params: impl Iterator<Item = &'p (dyn ToSql + Sync)>,
        table: Option<&str>,
        mut each: impl FnMut(&Row) -> Result<()>,
    ) -> Result<u64> {
        let typed = params.zip(&shape.params).map(|(p, ty)| (p, ty.clone()));
        let outcome = (|| {
            let mut rows = self.client.query_typed_raw(sql, typed)?;
            let mut failed = None;
            while let Some(row) = rows.next()? {
                if let Err(e) = each(&row) {
                    failed = Some(e);
                    break;
                }
            }
            Ok((rows.rows_affected().unwrap_or(0), failed))
        })();
        match outcome {
            Ok((_, Some(e))) => Err(e),
            Ok((changed, None)) => Ok(changed),
            Err(e) => Err(self.error(e, table, sql)),
        }
    }

    /// Echoes, counts and prepares a statement about to run.
    fn prepare(
        &mut self,
        engine: &EngineInner,
        sql: &str,
        params: &[ValueRef<'_>],
        table: Option<&str>,
    ) -> Result<Arc<Shape>> {
        engine.log(sql, params);
        engine.count_statement();
        let shape = self.statement(engine, sql, table)?;
        if shape.params.len() != params.len() {
            return Err(Error::InvalidRequest(format!(
                "the statement expects {} parameters, {} were given: {}",
                shape.params.len(),
                params.len(),
                crate::error::shown_sql(sql)
            )));
        }
        Ok(shape)
    }

    pub(crate) fn execute(
        &mut self,
        engine: &EngineInner,
        sql: &str,
        params: &[ValueRef<'_>],
        table: Option<&str>,
    ) -> Result<usize> {
        let shape = self.prepare(engine, sql, params, table)?;
        let changed = self.run(&shape, sql, params, table, |_| Ok(()))?;
        Ok(changed as usize)
    }

    /// Runs a statement of one parameter, an array (`DELETE … WHERE "id" = ANY($1)`), bound to
    /// `items` as the array type the server asked for (`int8[]`: each item converted as a
    /// single value of the element type would be); the number of rows changed.
    pub(crate) fn execute_array(
        &mut self,
        engine: &EngineInner,
        sql: &str,
        items: &[ValueRef<'_>],
        table: Option<&str>,
    ) -> Result<usize> {
        let changed = self.run_array(engine, sql, items, table, |_| Ok(()))?;
        Ok(changed as usize)
    }

    /// Runs a query of one parameter, an array (select-in loading's `SELECT … WHERE "user_id"
    /// = ANY($1)`), bound to `items` as [`Self::execute_array`] binds them; hands each row to
    /// `each`.
    pub(crate) fn query_array(
        &mut self,
        engine: &EngineInner,
        sql: &str,
        items: &[ValueRef<'_>],
        mut each: impl FnMut(&mut RowReader<'_>) -> Result<()>,
    ) -> Result<()> {
        self.run_array(engine, sql, items, None, |row| {
            each(&mut RowReader::new(row))
        })?;
        Ok(())
    }

    /// Echoes, counts and runs a statement of one array parameter holding `items`; hands each
    /// row to `each` and returns the number of rows changed.
    fn run_array(
        &mut self,
        engine: &EngineInner,
        sql: &str,
        items: &[ValueRef<'_>],
        table: Option<&str>,
        each: impl FnMut(&Row) -> Result<()>,
    ) -> Result<u64> {
        engine.log(sql, items);
        engine.count_statement();
        let shape = self.statement(engine, sql, table)?;
        if shape.params.len() != 1 || !matches!(shape.params[0].kind(), Kind::Array(_)) {
            return Err(Error::InvalidRequest(format!(
                "the statement does not take one array parameter: {}",
                crate::error::shown_sql(sql)
            )));
        }
        let array: &(dyn ToSql + Sync) = &items;
        self.run_dyn(&shape, sql, std::iter::once(array), table, each)
    }

    /// Runs an `INSERT … RETURNING key` and returns the key.
    pub(crate) fn insert(
        &mut self,
        engine: &EngineInner,
        sql: &str,
        params: &[ValueRef<'_>],
        table: Option<&str>,
    ) -> Result<i64> {
        let shape = self.prepare(engine, sql, params, table)?;
        let keys = self.run_keys(&shape, sql, params, table)?;
        keys.first().copied().ok_or_else(|| {
            Error::InvalidRequest(format!(
                "the INSERT returned no key: {}",
                crate::error::shown_sql(sql)
            ))
        })
    }

    fn run_keys(
        &mut self,
        shape: &Shape,
        sql: &str,
        params: &[ValueRef<'_>],
        table: Option<&str>,
    ) -> Result<Vec<i64>> {
        let mut keys = Vec::new();
        self.run(shape, sql, params, table, |row| {
            keys.push(super::sqlite::integer_key(row.value_ref(0)?, sql)?);
            Ok(())
        })?;
        Ok(keys)
    }

    /// Runs a statement with a `RETURNING` clause, hands each returned row to `each` and
    /// returns their number (see [`Batch::returning`](super::connection::Batch::returning)).
    pub(crate) fn returning(
        &mut self,
        engine: &EngineInner,
        sql: &str,
        params: &[ValueRef<'_>],
        table: Option<&str>,
        mut each: impl FnMut(&mut RowReader<'_>) -> Result<()>,
    ) -> Result<usize> {
        let shape = self.prepare(engine, sql, params, table)?;
        let mut count = 0;
        self.run(&shape, sql, params, table, |row| {
            count += 1;
            each(&mut RowReader::new(row))
        })?;
        Ok(count)
    }

    /// The types the server gives the parameters of `sql` (learnt once per connection, not
    /// counted as a statement), spelt for a cast: `int8`, `varchar`, `"public"."mood"`. A
    /// multi-row statement whose values sit in a `VALUES` list of their own has no column to
    /// take their types from; the one-row statement of the same columns tells them.
    pub(crate) fn param_types(
        &mut self,
        engine: &EngineInner,
        sql: &str,
        table: Option<&str>,
    ) -> Result<Vec<String>> {
        let shape = self.statement(engine, sql, table)?;
        Ok(shape
            .params
            .iter()
            .map(|ty| {
                if ty.schema() == "pg_catalog" {
                    ty.name().to_string()
                } else {
                    format!(
                        "\"{}\".\"{}\"",
                        ty.schema().replace('"', "\"\""),
                        ty.name().replace('"', "\"\"")
                    )
                }
            })
            .collect())
    }

    pub(crate) fn query(
        &mut self,
        engine: &EngineInner,
        sql: &str,
        params: &[ValueRef<'_>],
        each: impl FnMut(&mut RowReader<'_>) -> Result<()>,
    ) -> Result<()> {
        self.returning(engine, sql, params, None, each).map(|_| ())
    }

    pub(crate) fn fetch_all(
        &mut self,
        engine: &EngineInner,
        sql: &str,
        params: &[ValueRef<'_>],
        table: Option<&str>,
    ) -> Result<ResultSet> {
        let shape = self.prepare(engine, sql, params, table)?;
        let mut result = ResultSet {
            columns: shape.columns.clone(),
            ..ResultSet::default()
        };
        let width = result.columns.len();
        let mut rows = Vec::new();
        let changed = self.run(&shape, sql, params, table, |row| {
            let values = (0..width)
                .map(|i| row.value_ref(i).map(|v| v.to_owned()))
                .collect::<Result<Vec<_>>>()?;
            rows.push(values);
            Ok(())
        })?;
        result.rows = rows;
        if width == 0 {
            result.rows_affected = changed as usize;
        }
        Ok(result)
    }

    /// Transaction control and schema statements without parameters.
    pub(crate) fn control(&mut self, engine: &EngineInner, sql: &str) -> Result<()> {
        engine.log(sql, &[]);
        let head = sql.trim_start().to_ascii_uppercase();
        let outcome = self
            .client
            .batch_execute(sql)
            .map_err(|e| self.error(e, None, sql));
        if head.starts_with("BEGIN") && outcome.is_ok() {
            self.in_transaction = true;
        } else if head.starts_with("COMMIT")
            || (head.starts_with("ROLLBACK") && !head.starts_with("ROLLBACK TO"))
        {
            // The transaction is over whether COMMIT succeeded or not.
            self.in_transaction = false;
        }
        if is_schema_change(sql) {
            self.schema_changed(engine);
        }
        outcome
    }

    /// Tables may no longer look as the shapes learnt so far say, here or on the engine's other
    /// connections.
    fn schema_changed(&mut self, engine: &EngineInner) {
        self.statements.clear();
        self.schema_generation = engine.bump_schema_generation();
    }

    pub(crate) fn is_autocommit(&self) -> bool {
        !self.in_transaction
    }

    /// Turns a driver error into a named one, from the fields PostgreSQL sends with it.
    fn error(&self, err: postgres::Error, table: Option<&str>, sql: &str) -> Error {
        // Class 08 (connection exception) and 57P (the server shutting down or ending this
        // backend) mean the connection is gone, however the driver reports it.
        let lost = err.is_closed()
            || self.client.is_closed()
            || err
                .code()
                .is_some_and(|c| c.code().starts_with("08") || c.code().starts_with("57P"));
        if lost {
            return Error::Database {
                message: format!(
                    "the connection to the PostgreSQL server {} was lost ({}); make a new engine once the server is back",
                    self.shown_url,
                    describe(&err)
                ),
                sql: Some(crate::error::shown_sql(sql)),
                source: Some(Box::new(err)),
            };
        }
        let Some(db) = err.as_db_error() else {
            return Error::Database {
                message: describe(&err),
                sql: Some(crate::error::shown_sql(sql)),
                source: Some(Box::new(err)),
            };
        };
        // Classified by SQLSTATE (PostgreSQL's Appendix A, "Error Codes"); the table, column
        // and constraint come from the fields the server sends with the error.
        let statement_table = table;
        let table = db.table().or(table).unwrap_or("?").to_string();
        let constraint = db.constraint().map(str::to_string);
        let code = db.code().clone();
        let column = db.column().map(str::to_string);
        let detail = db.detail().unwrap_or("").to_string();
        let server_message = db.message().to_string();
        let server_table = db.table().map(str::to_string);
        let source = Some(Box::new(err) as crate::error::DriverError);
        if code == SqlState::UNIQUE_VIOLATION {
            return Error::UniqueViolation {
                table,
                columns: key_columns(&detail),
                constraint,
                source,
            };
        }
        if code == SqlState::NOT_NULL_VIOLATION {
            return Error::NotNullViolation {
                table,
                column: column.unwrap_or_else(|| "?".into()),
                source,
            };
        }
        if code == SqlState::FOREIGN_KEY_VIOLATION {
            // PostgreSQL names the referencing table; the error names the statement's table, as
            // on SQLite, and says which table still refers to it.
            let detail = if sql.trim_start().starts_with("DELETE") {
                format!(
                    "rows in {} still refer to the row being deleted (delete them first, or declare a cascade)",
                    server_table.as_deref().unwrap_or("other tables")
                )
            } else {
                "the referenced row does not exist".to_string()
            };
            return Error::ForeignKeyViolation {
                table: statement_table.map_or(table, str::to_string),
                detail,
                constraint,
                source,
            };
        }
        if code == SqlState::CHECK_VIOLATION {
            let shown = constraint
                .as_ref()
                .map(|c| format!(" (constraint {c})"))
                .unwrap_or_default();
            return Error::ConstraintViolation {
                table,
                message: format!("{server_message}{shown}"),
                constraint,
                source,
            };
        }
        if code == SqlState::DEPENDENT_OBJECTS_STILL_EXIST {
            // `cannot drop table users because other objects depend on it`; the DETAIL names
            // each dependent object on a line of its own.
            return Error::DependentObjectsStillExist {
                table: statement_table
                    .map(str::to_string)
                    .or_else(|| dropped_name(&server_message))
                    .unwrap_or(table),
                dependents: detail
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect(),
                source,
            };
        }
        if code == SqlState::UNDEFINED_TABLE {
            return Error::NoSuchTable {
                table: quoted_name(&server_message).unwrap_or(table),
                source,
            };
        }
        if code == SqlState::UNDEFINED_COLUMN {
            return Error::NoSuchColumn {
                table,
                column: quoted_name(&server_message).unwrap_or_else(|| "?".into()),
                source,
            };
        }
        let message = if code == SqlState::IN_FAILED_SQL_TRANSACTION {
            "an earlier statement of this transaction failed, so PostgreSQL ignores the rest of it: \
             roll back first (session.rollback())"
                .to_string()
        } else {
            server_message
        };
        Error::Database {
            message,
            sql: Some(crate::error::shown_sql(sql)),
            source,
        }
    }
}

/// `Key (email)=(a@example.com) already exists.` gives `["email"]`.
fn key_columns(detail: &str) -> Vec<String> {
    detail
        .strip_prefix("Key (")
        .and_then(|rest| rest.split_once(")="))
        .map(|(columns, _)| columns.split(", ").map(str::to_string).collect())
        .unwrap_or_default()
}

/// The object named in `cannot drop table users because other objects depend on it`.
fn dropped_name(message: &str) -> Option<String> {
    let rest = message.strip_prefix("cannot drop ")?;
    let (object, _) = rest.split_once(" because ")?;
    Some(object.rsplit(' ').next()?.to_string())
}

/// The first double-quoted name in a server message: `relation "users" does not exist`.
fn quoted_name(message: &str) -> Option<String> {
    let start = message.find('"')? + 1;
    let end = start + message[start..].find('"')?;
    let name = &message[start..end];
    // `column users.nickname does not exist` style names keep only the column.
    Some(name.rsplit('.').next().unwrap_or(name).to_string())
}

impl RowAccess for Row {
    fn value_ref(&self, index: usize) -> Result<ValueRef<'_>> {
        self.try_get::<_, Cell<'_>>(index)
            .map(|cell| cell.0)
            .map_err(|e| Error::Database {
                message: format!("column {index}: {}", describe(&e)),
                sql: None,
                source: Some(Box::new(e)),
            })
    }
}

/// Any column, read as the value the ORM decodes from.
struct Cell<'a>(ValueRef<'a>);

impl<'a> FromSql<'a> for Cell<'a> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> std::result::Result<Self, BoxError> {
        let value = match *ty {
            Type::BOOL => ValueRef::Bool(bool::from_sql(ty, raw)?),
            Type::INT2 => ValueRef::Integer(i16::from_sql(ty, raw)?.into()),
            Type::INT4 => ValueRef::Integer(i32::from_sql(ty, raw)?.into()),
            Type::INT8 => ValueRef::Integer(i64::from_sql(ty, raw)?),
            Type::OID => ValueRef::Integer(u32::from_sql(ty, raw)?.into()),
            Type::FLOAT4 => ValueRef::Real(f32::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => ValueRef::Real(f64::from_sql(ty, raw)?),
            Type::NUMERIC => numeric::decode(raw)?,
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                ValueRef::Text(<&str>::from_sql(ty, raw)?)
            }
            // JSON comes back as its text; `serde_json::Value` fields parse it.
            Type::JSON => ValueRef::Text(std::str::from_utf8(raw)?),
            Type::JSONB => match raw.split_first() {
                Some((1, text)) => ValueRef::Text(std::str::from_utf8(text)?),
                _ => return Err("unknown JSONB format version".into()),
            },
            Type::BYTEA => ValueRef::Blob(raw),
            Type::TIMESTAMP => ValueRef::DateTime(NaiveDateTime::from_sql(ty, raw)?),
            // An instant: the ORM's datetimes are UTC.
            Type::TIMESTAMPTZ => {
                ValueRef::DateTime(DateTime::<Utc>::from_sql(ty, raw)?.naive_utc())
            }
            Type::DATE => ValueRef::Date(NaiveDate::from_sql(ty, raw)?),
            Type::TIME => ValueRef::Time(NaiveTime::from_sql(ty, raw)?),
            _ => return Err(format!("values of PostgreSQL type {ty} cannot be read").into()),
        };
        Ok(Cell(value))
    }

    fn from_sql_null(_: &Type) -> std::result::Result<Self, BoxError> {
        Ok(Cell(ValueRef::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Values are sent as the type the server inferred for each parameter (`$1` in `age > $1` is a
/// `bigint`), converting where the meaning is kept and refusing with both types named otherwise.
impl ToSql for ValueRef<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, BoxError> {
        let refuse = || -> BoxError {
            format!("{} cannot be sent as PostgreSQL type {ty}", self.describe()).into()
        };
        let narrow =
            |v: i64| -> BoxError { format!("{v} does not fit PostgreSQL type {ty}").into() };
        let is_text = matches!(
            *ty,
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN
        );
        match *self {
            ValueRef::Null => Ok(IsNull::Yes),
            ValueRef::Integer(v) => match *ty {
                Type::INT8 => v.to_sql(ty, out),
                Type::INT4 => i32::try_from(v).map_err(|_| narrow(v))?.to_sql(ty, out),
                Type::INT2 => i16::try_from(v).map_err(|_| narrow(v))?.to_sql(ty, out),
                Type::OID => u32::try_from(v).map_err(|_| narrow(v))?.to_sql(ty, out),
                Type::FLOAT8 => (v as f64).to_sql(ty, out),
                Type::FLOAT4 => (v as f32).to_sql(ty, out),
                Type::NUMERIC => numeric::encode(&v.to_string(), out),
                Type::BOOL => (v != 0).to_sql(ty, out),
                _ if is_text => v.to_string().as_str().to_sql(ty, out),
                _ => Err(refuse()),
            },
            ValueRef::Real(v) => match *ty {
                Type::FLOAT8 => v.to_sql(ty, out),
                Type::FLOAT4 => (v as f32).to_sql(ty, out),
                Type::NUMERIC if v.is_finite() => numeric::encode(&format!("{v}"), out),
                _ if is_text => v.to_string().as_str().to_sql(ty, out),
                _ => Err(refuse()),
            },
            ValueRef::Bool(v) => match *ty {
                Type::BOOL => v.to_sql(ty, out),
                Type::INT8 => (v as i64).to_sql(ty, out),
                Type::INT4 => (v as i32).to_sql(ty, out),
                _ => Err(refuse()),
            },
            ValueRef::Text(t) => match *ty {
                Type::JSON => {
                    out.put_slice(t.as_bytes());
                    Ok(IsNull::No)
                }
                Type::JSONB => {
                    out.put_u8(1);
                    out.put_slice(t.as_bytes());
                    Ok(IsNull::No)
                }
                _ if is_text => t.to_sql(ty, out),
                _ => Err(refuse()),
            },
            ValueRef::Blob(b) => match *ty {
                Type::BYTEA => b.to_sql(ty, out),
                _ => Err(refuse()),
            },
            ValueRef::DateTime(v) => match *ty {
                Type::TIMESTAMP => v.to_sql(ty, out),
                Type::TIMESTAMPTZ => v.and_utc().to_sql(ty, out),
                _ if is_text => v.to_string().as_str().to_sql(ty, out),
                _ => Err(refuse()),
            },
            ValueRef::Date(v) => match *ty {
                Type::DATE => v.to_sql(ty, out),
                _ if is_text => v.to_string().as_str().to_sql(ty, out),
                _ => Err(refuse()),
            },
            ValueRef::Time(v) => match *ty {
                Type::TIME => v.to_sql(ty, out),
                _ if is_text => v.to_string().as_str().to_sql(ty, out),
                _ => Err(refuse()),
            },
            ValueRef::Json(v) => match *ty {
                Type::JSON | Type::JSONB => v.to_sql(ty, out),
                _ if is_text => v.to_string().as_str().to_sql(ty, out),
                _ => Err(refuse()),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// PostgreSQL's binary `numeric`: what `avg` and `sum` of integers return. Written here because
/// the driver reads it only through a decimal crate, and the ORM wants an `f64` or an `i64`.
mod numeric {
    use super::BoxError;
    use crate::value::ValueRef;
    use bytes::{BufMut, BytesMut};
    use postgres::types::IsNull;

    const NEGATIVE: u16 = 0x4000;
    const NAN: u16 = 0xC000;

    /// Base-10000 digits with a weight (the power of the first digit) and a display scale.
    pub(super) fn decode(raw: &[u8]) -> Result<ValueRef<'static>, BoxError> {
        let word = |i: usize| -> Result<u16, BoxError> {
            raw.get(i * 2..i * 2 + 2)
                .map(|b| u16::from_be_bytes([b[0], b[1]]))
                .ok_or_else(|| "a truncated numeric value".into())
        };
        let (count, weight, sign, scale) = (word(0)?, word(1)? as i16, word(2)?, word(3)?);
        if sign == NAN {
            return Ok(ValueRef::Real(f64::NAN));
        }
        let mut integer: i128 = 0;
        let mut value = 0f64;
        let mut fits = true;
        for i in 0..count as usize {
            let digit = word(4 + i)?;
            let power = weight as i32 - i as i32;
            value += f64::from(digit) * 10000f64.powi(power);
            if power >= 0 {
                integer = integer
                    .checked_mul(10000)
                    .and_then(|n| n.checked_add(digit.into()))
                    .unwrap_or_else(|| {
                        fits = false;
                        0
                    });
            }
        }
        // Trailing zero groups are not sent: scale the integer part up to the weight.
        let sent_integer_groups = (weight as i32 + 1).min(count as i32).max(0);
        for _ in sent_integer_groups..(weight as i32 + 1) {
            integer = integer.checked_mul(10000).unwrap_or_else(|| {
                fits = false;
                0
            });
        }
        let negative = sign == NEGATIVE;
        if scale == 0 && fits {
            let signed = if negative { -integer } else { integer };
            if let Ok(v) = i64::try_from(signed) {
                return Ok(ValueRef::Integer(v));
            }
        }
        Ok(ValueRef::Real(if negative { -value } else { value }))
    }

    /// Encodes a plain decimal (`-12.5`, `300`) as `numeric`.
    pub(super) fn encode(text: &str, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let (negative, text) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        if text.contains(['e', 'E']) {
            return Err(format!("{text} is not a plain decimal").into());
        }
        let (int_part, frac_part) = text.split_once('.').unwrap_or((text, ""));
        let int_part = int_part.trim_start_matches('0');
        // Pad both parts to whole groups of four digits around the decimal point.
        let lead = (4 - int_part.len() % 4) % 4;
        let trail = (4 - frac_part.len() % 4) % 4;
        let digits: String = "0".repeat(lead) + int_part + frac_part + &"0".repeat(trail);
        let groups: Vec<u16> = digits
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).ok().and_then(|s| s.parse().ok()))
            .collect::<Option<_>>()
            .ok_or_else(|| format!("{text} is not a decimal number"))?;
        let weight = ((lead + int_part.len()) / 4) as i16 - 1;
        out.put_u16(groups.len() as u16);
        out.put_i16(weight);
        out.put_u16(if negative { NEGATIVE } else { 0 });
        out.put_u16(frac_part.len() as u16);
        for g in groups {
            out.put_u16(g);
        }
        Ok(IsNull::No)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn round_trip(text: &str) -> ValueRef<'static> {
            let mut out = BytesMut::new();
            encode(text, &mut out).unwrap();
            decode(&out).unwrap()
        }

        #[test]
        fn integers_and_decimals_survive_the_binary_form() {
            assert_eq!(round_trip("0"), ValueRef::Integer(0));
            assert_eq!(round_trip("42"), ValueRef::Integer(42));
            assert_eq!(round_trip("-120000"), ValueRef::Integer(-120000));
            assert_eq!(round_trip("12345678"), ValueRef::Integer(12345678));
            assert_eq!(round_trip("27.5"), ValueRef::Real(27.5));
            assert_eq!(round_trip("-0.25"), ValueRef::Real(-0.25));
        }
    }
}
