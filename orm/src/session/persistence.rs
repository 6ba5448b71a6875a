//! The unit of work's statements (SQLAlchemy's `persistence.py`): INSERT, UPDATE of changed
//! columns, DELETE, each written once per shape; an UPDATE or DELETE that matches fewer rows than
//! it was meant for is `StaleData`.
//!
//! Many rows of one table go out in few statements, as SQLAlchemy 2's "insertmanyvalues" does
//! (its documentation, "Insert Many Values Behavior for INSERT statements"): pages of at most
//! [`PAGE_ROWS`] rows (SQLAlchemy's `insertmanyvalues_page_size`), fewer when the engine's
//! parameter limit needs it (`Batch::max_params`).
//!
//! - **INSERT, keys given:** `INSERT … VALUES (…), (…), …`.
//! - **INSERT, keys generated:** the keys come back through `RETURNING`, and neither database
//!   promises the order of `RETURNING` rows. They are paired with the objects as SQLAlchemy does
//!   ("Correlating RETURNING rows to parameter sets"): the keys are sorted, and the i-th smallest
//!   goes to the i-th object, which holds when the keys were generated in the order of the rows.
//!   PostgreSQL: the rows are fed through `INSERT … SELECT … FROM (VALUES (…, 0), (…, 1), …)
//!   ORDER BY sen_counter`, SQLAlchemy's sentinel form, so the identity column's sequence is
//!   drawn in the objects' order. SQLite: a `VALUES` list is inserted in its order and a rowid
//!   is one more than the largest so far, so the keys of one statement are consecutive; the
//!   unit of work checks that they are, and when they are not (a table whose largest rowid is
//!   already 2^63 - 1 gets random ones; SQLAlchemy does not batch SQLite at all here) it deletes
//!   the page's rows again and inserts them one by one. `RETURNING` needs SQLite 3.35 or later
//!   (the crate links the system's SQLite: 3.40 on Debian 12).
//! - **UPDATE:** objects with the same changed columns. PostgreSQL: one `UPDATE … FROM (VALUES
//!   …)` per page, the matched row count checked against the page. The `postgres` crate is
//!   synchronous and cannot pipeline statements (tokio-postgres could, with an async runtime in
//!   every notebook cell), and one set-based statement also spares the server a parse and plan
//!   per row. SQLite: one prepared statement run per row (`executemany`; an embedded database
//!   has no round trip to save).
//!   Composite keys and version counters go in pages too: the UPDATE joins on every key column
//!   and on the version loaded, and sets each row's next version from its `VALUES` row.
//! - **DELETE:** row count checked, a page that matches fewer rows than it names is
//!   `StaleData` and the flush rolls back. A single key on PostgreSQL: `DELETE … WHERE key =
//!   ANY($1)`, the keys in one array parameter, so one prepared statement serves every page size
//!   (as a hand-written psycopg program would write it). Otherwise `DELETE … WHERE key IN (…)`
//!   per page; a composite key, or a key and a version counter, is matched as a list of row
//!   values: `(a, b) IN (VALUES (…), …)` on SQLite (which reads `(a, b) IN ((…), …)` as matching
//!   nothing), `(a, b) IN ((…), …)` on PostgreSQL (where the parameters of a `VALUES` list
//!   would be typed `text` and the comparison refused).
//!
//! What stays one row a statement, and why: **the INSERT and UPDATE of a model with columns
//! the database computes** (`server_default`, `onupdate`). Each such row is read back by its
//! key after its write (SQLAlchemy's `eager_defaults`); a paged `RETURNING` of those columns
//! would have to pair returned rows with objects beyond the sorted generated keys that pair
//! them today (and SQLite's `UPDATE … RETURNING` of several rows gives no order at all).

use super::sql_cache::{SqlCache, SqlKind};
use crate::core::{Expr, Insert, SqlWriter, Statement, Table, Update};
use crate::engine::Batch;
use crate::error::{Error, Result};
use crate::model::{AnyTracked, Model, Tracked};
use crate::value::{Value, ValueRef};
use std::any::Any;
use std::borrow::Cow;
use std::cell::Ref;
use std::rc::Rc;

/// At most this many rows a statement: SQLAlchemy's default `insertmanyvalues_page_size`.
pub(crate) const PAGE_ROWS: usize = 1000;

/// Keys a statement when they go in one array parameter (PostgreSQL's `= ANY($1)`): no
/// parameter limit applies, and one round trip per 10,000 rows costs little beside the server's
/// work on them; the page only bounds the size of one message.
const ARRAY_PAGE_ROWS: usize = 10_000;

/// Rows of `params_per_row` parameters each that fit in one statement.
fn page_rows(params_per_row: usize, max_params: usize) -> usize {
    (max_params / params_per_row.max(1)).clamp(1, PAGE_ROWS)
}

/// What one phase of a flush writes with: the statements stay prepared from row to row.
#[doc(hidden)]
pub struct FlushContext<'a> {
    pub(crate) batch: Batch<'a>,
    pub(crate) writer: &'static dyn SqlWriter,
    pub(crate) cache: &'a mut SqlCache,
    /// The session transaction's number, marked on the objects it inserts.
    pub(crate) transaction: u32,
}

/// How many parameters fit on the stack: a model's columns, usually, so a flush of 100,000 rows
/// allocates nothing for them.
const STACK_PARAMS: usize = 16;

/// A statement's parameters, on the stack up to `STACK_PARAMS`, then on the heap.
struct Params<'v> {
    stack: [ValueRef<'v>; STACK_PARAMS],
    len: usize,
    heap: Vec<ValueRef<'v>>,
}

impl<'v> Params<'v> {
    fn new() -> Self {
        Params {
            stack: [ValueRef::Null; STACK_PARAMS],
            len: 0,
            heap: Vec::new(),
        }
    }
    fn push(&mut self, value: ValueRef<'v>) {
        if self.len < STACK_PARAMS {
            self.stack[self.len] = value;
        } else {
            if self.heap.is_empty() {
                self.heap.extend_from_slice(&self.stack);
            }
            self.heap.push(value);
        }
        self.len += 1;
    }
    fn as_slice(&self) -> &[ValueRef<'v>] {
        if self.len <= STACK_PARAMS {
            &self.stack[..self.len]
        } else {
            &self.heap
        }
    }
}

fn read<T: Model>(obj: &Tracked<T>) -> Result<Ref<'_, T>> {
    obj.value.try_borrow().map_err(|_| {
        Error::InvalidRequest(format!(
            "a {} object is still being changed (a borrow_mut() is alive): drop it before flush or commit",
            T::TABLE_NAME
        ))
    })
}

fn key_where<T: Model>() -> Expr {
    crate::query::key_filter::<T>(None)
}

/// `key_where`, and `AND version = ?` for a model with a version counter.
fn versioned_where<T: Model>() -> Expr {
    let key = key_where::<T>();
    let Some(v) = T::VERSION_ID else {
        return key;
    };
    let version = Expr::Binary {
        left: Box::new(Expr::Column {
            table: None,
            name: T::TABLE.columns[v].name.clone(),
        }),
        op: crate::core::expr::BinOp::Eq,
        right: Box::new(Expr::Placeholder),
    };
    match key {
        Expr::And(mut parts) => {
            parts.push(version);
            Expr::And(parts)
        }
        key => Expr::And(vec![key, version]),
    }
}

/// The error for an object still borrowed when the flush must set one of its columns.
fn busy<T: Model>() -> Error {
    Error::InvalidRequest(format!(
        "a {} object is still being changed (a borrow_mut() is alive) while the flush sets a \
         column the database computed: drop it before flush or commit",
        T::TABLE_NAME
    ))
}

/// Whether new rows of `T` are inserted one a statement: columns the database computes (server
/// defaults, `onupdate`) are read back row by row after the write.
fn computes_columns<T: Model>() -> bool {
    T::TABLE
        .columns
        .iter()
        .any(|c| c.server_default.is_some() || c.onupdate.is_some())
}

/// The columns an UPDATE of the `mask` columns sets, in its parameters' order: the changed
/// columns, then the version counter of a versioned model.
fn update_set<T: Model>(mask: u128) -> Vec<usize> {
    (0..T::COLUMN_COUNT.min(128))
        .filter(|i| bit(mask, *i) && Some(*i) != T::VERSION_ID)
        .chain(T::VERSION_ID)
        .collect()
}

/// The version a row was loaded at (its snapshot's counter), for a versioned model.
///
/// # Errors
/// `InvalidRequest` when the counter holds something other than a number.
fn loaded_version<T: Model>(before: &T) -> Result<Option<i64>> {
    let Some(v) = T::VERSION_ID else {
        return Ok(None);
    };
    match before.column_value(v) {
        ValueRef::Integer(old) => Ok(Some(old)),
        other => Err(Error::InvalidRequest(format!(
            "the version counter {}.{} holds {}, not a number: it is set at insert and counted \
             by every update",
            T::TABLE_NAME,
            T::TABLE.columns[v].name,
            other.describe()
        ))),
    }
}

/// The columns a DELETE of the unit of work matches a row by: every key column, and the version
/// counter of a versioned model (SQLAlchemy's `version_id_col` in the `WHERE`).
fn delete_match<T: Model>() -> Vec<usize> {
    T::PRIMARY_KEYS
        .iter()
        .copied()
        .chain(T::VERSION_ID)
        .collect()
}

/// The typed object behind a type-erased one of a run the unit of work grouped by table.
fn typed<T: Model>(obj: &Rc<dyn AnyTracked>) -> Result<&Tracked<T>> {
    obj.as_any_ref()
        .downcast_ref::<Tracked<T>>()
        .ok_or_else(|| {
            Error::InvalidRequest(format!(
                "this session holds {} rows of another model type with the same table name \
             (was the model defined again? start a new Session)",
                T::TABLE_NAME
            ))
        })
}

/// Whether the database assigns the object's key: an integer key of 0 (or NULL) is not
/// assigned yet.
fn assigns_key<T: Model>(value: &T) -> bool {
    T::TABLE.columns[T::PRIMARY_KEY].autoincrement
        && matches!(
            value.column_value(T::PRIMARY_KEY),
            ValueRef::Integer(0) | ValueRef::Null
        )
}

/// The columns an INSERT writes: all but a key the database assigns and the columns in
/// `omitted` (server defaults left to the database).
fn insert_columns<T: Model>(assign_key: bool, omitted: u128) -> Vec<usize> {
    (0..T::COLUMN_COUNT)
        .filter(|i| !(bit(omitted, *i) || assign_key && *i == T::PRIMARY_KEY))
        .collect()
}

/// Which columns of `obj` differ from the snapshot taken at its first `borrow_mut` (bit `i`:
/// column `i`, the first 128 columns). With none (changed, then changed back) the snapshot is
/// let go: there is nothing to write and nothing a rollback must restore.
pub(crate) fn changed_columns<T: Model>(obj: &Tracked<T>) -> Result<u128> {
    let mut snapshot = obj.snapshot.borrow_mut();
    let Some(before) = snapshot.as_deref() else {
        return Ok(0);
    };
    let value = read(obj)?;
    let mut mask: u128 = 0;
    for i in 0..T::COLUMN_COUNT.min(128) {
        if value.column_value(i) != before.column_value(i) {
            mask |= 1 << i;
        }
    }
    drop(value);
    if mask == 0 {
        *snapshot = None;
    }
    Ok(mask)
}

/// Writes `n`-th parameter, with `::type` after it when a cast is given.
fn write_param(writer: &dyn SqlWriter, n: usize, cast: Option<&str>, out: &mut String) {
    writer.placeholder(n, out);
    if let Some(ty) = cast {
        out.push_str("::");
        out.push_str(ty);
    }
}

/// `(p, p, …), (p, p, …), …`: `rows` rows of `width` parameters numbered from 1, each cast to
/// its column's type when `casts` are given, and the row's number after them with `sentinel`.
fn write_value_rows(
    writer: &dyn SqlWriter,
    rows: usize,
    width: usize,
    casts: Option<&[String]>,
    sentinel: bool,
    out: &mut String,
) {
    let mut n = 0;
    for r in 0..rows {
        out.push_str(if r > 0 { ", (" } else { "(" });
        for c in 0..width {
            if c > 0 {
                out.push_str(", ");
            }
            n += 1;
            write_param(writer, n, casts.map(|t| t[c].as_str()), out);
        }
        if sentinel {
            out.push_str(", ");
            out.push_str(&r.to_string());
        }
        out.push(')');
    }
}

/// `"a", "b", …` of the table's columns at `columns`.
fn write_column_list(writer: &dyn SqlWriter, table: &Table, columns: &[usize], out: &mut String) {
    for (i, c) in columns.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        writer.quote(&table.columns[*c].name, out);
    }
}

/// `"p0", "p1", …, "p{n-1}"`: the columns of a `VALUES` list named by position.
fn write_positional_names(writer: &dyn SqlWriter, n: usize, out: &mut String) {
    for i in 0..n {
        if i > 0 {
            out.push_str(", ");
        }
        writer.quote(&format!("p{i}"), out);
    }
}

/// A multi-row INSERT of `rows` rows (see the module's notes for the forms).
fn insert_rows_sql(
    writer: &dyn SqlWriter,
    table: &Table,
    columns: &[usize],
    rows: usize,
    returning: Option<&str>,
    casts: Option<&[String]>,
) -> String {
    let mut sql = String::from("INSERT INTO ");
    writer.quote(&table.name, &mut sql);
    sql.push_str(" (");
    write_column_list(writer, table, columns, &mut sql);
    sql.push_str(") ");
    if casts.is_some() {
        // PostgreSQL's sentinel form: the sequence is drawn in `sen_counter`'s order.
        sql.push_str("SELECT ");
        write_positional_names(writer, columns.len(), &mut sql);
        sql.push_str(" FROM (VALUES ");
        write_value_rows(writer, rows, columns.len(), casts, true, &mut sql);
        sql.push_str(") AS \"imp_sen\"(");
        write_positional_names(writer, columns.len(), &mut sql);
        sql.push_str(", \"sen_counter\") ORDER BY \"sen_counter\"");
    } else {
        sql.push_str("VALUES ");
        write_value_rows(writer, rows, columns.len(), None, false, &mut sql);
    }
    if let Some(key) = returning {
        sql.push_str(" RETURNING ");
        writer.quote(key, &mut sql);
    }
    sql
}

/// PostgreSQL: `UPDATE t SET a = v.p0, … FROM (VALUES (…), …) AS v(p0, …, pN) WHERE t.key =
/// v.pN`: the `set` columns first (the changed ones, then a version counter's new value), and
/// the `matched` columns last (the row's key as the database holds it, every column of a
/// composite one, then the version it was loaded at), each value cast as the one-row UPDATE's
/// parameters are typed.
fn update_rows_sql(
    writer: &dyn SqlWriter,
    table: &Table,
    set: &[usize],
    matched: &[usize],
    rows: usize,
    casts: &[String],
) -> String {
    let alias = "orm_values";
    let value = |i: usize, sql: &mut String| {
        writer.quote(alias, sql);
        sql.push('.');
        writer.quote(&format!("p{i}"), sql);
    };
    let mut sql = String::from("UPDATE ");
    writer.quote(&table.name, &mut sql);
    sql.push_str(" SET ");
    for (i, c) in set.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        writer.quote(&table.columns[*c].name, &mut sql);
        sql.push_str(" = ");
        value(i, &mut sql);
    }
    let width = set.len() + matched.len();
    sql.push_str(" FROM (VALUES ");
    write_value_rows(writer, rows, width, Some(casts), false, &mut sql);
    sql.push_str(") AS ");
    writer.quote(alias, &mut sql);
    sql.push('(');
    write_positional_names(writer, width, &mut sql);
    sql.push_str(") WHERE ");
    for (j, c) in matched.iter().enumerate() {
        if j > 0 {
            sql.push_str(" AND ");
        }
        writer.quote(&table.name, &mut sql);
        sql.push('.');
        writer.quote(&table.columns[*c].name, &mut sql);
        sql.push_str(" = ");
        value(set.len() + j, &mut sql);
    }
    sql
}

/// `DELETE FROM t WHERE key = ANY($1)`: the keys in one array parameter (PostgreSQL).
fn delete_any_sql(writer: &dyn SqlWriter, table: &Table, key: usize) -> String {
    let mut sql = String::from("DELETE FROM ");
    writer.quote(&table.name, &mut sql);
    sql.push_str(" WHERE ");
    writer.quote(&table.columns[key].name, &mut sql);
    sql.push_str(" = ANY(");
    writer.placeholder(1, &mut sql);
    sql.push(')');
    sql
}

/// `DELETE FROM t WHERE key IN (p, p, …)` of `rows` keys; with several `columns` (a composite
/// key, a version counter) a list of row values: `(a, b) IN (VALUES (p, p), …)` on SQLite,
/// `(a, b) IN ((p, p), …)` on PostgreSQL (see `SqlWriter::row_values_in_values_list`).
fn delete_rows_sql(
    writer: &dyn SqlWriter,
    table: &Table,
    columns: &[usize],
    rows: usize,
) -> String {
    let mut sql = String::from("DELETE FROM ");
    writer.quote(&table.name, &mut sql);
    sql.push_str(" WHERE ");
    if let [key] = columns {
        writer.quote(&table.columns[*key].name, &mut sql);
        sql.push_str(" IN (");
        for n in 1..=rows {
            if n > 1 {
                sql.push_str(", ");
            }
            writer.placeholder(n, &mut sql);
        }
        sql.push(')');
        return sql;
    }
    sql.push('(');
    write_column_list(writer, table, columns, &mut sql);
    sql.push_str(") IN (");
    if writer.row_values_in_values_list() {
        sql.push_str("VALUES ");
    }
    write_value_rows(writer, rows, columns.len(), None, false, &mut sql);
    sql.push(')');
    sql
}

impl FlushContext<'_> {
    /// The SQL of a statement of `rows` rows: written once per session for a full page (the
    /// shape a big flush repeats), written afresh for the last, shorter page of a flush.
    fn rows_sql(
        &mut self,
        table: &'static str,
        kind: SqlKind,
        full_page: bool,
        build: impl FnOnce(&dyn SqlWriter) -> String,
    ) -> Rc<str> {
        if full_page {
            self.cache.get_text(table, kind, || build(self.writer))
        } else {
            build(self.writer).into()
        }
    }

    /// The one-row INSERT of `T` (`assign_key`: without the key, which comes back; `omitted`:
    /// the columns left to their server defaults).
    fn insert_one_sql<T: Model>(&mut self, assign_key: bool, omitted: u128) -> Rc<str> {
        let table = T::TABLE;
        let kind = match (assign_key, omitted) {
            (true, 0) => SqlKind::InsertWithoutKey,
            (false, 0) => SqlKind::InsertWithKey,
            (assign_key, omitted) => SqlKind::InsertOmitting(assign_key, omitted),
        };
        let returning = (assign_key && self.writer.returns_generated_keys())
            .then(|| table.columns[T::PRIMARY_KEY].name.clone());
        self.cache.get(
            T::TABLE_NAME,
            kind,
            || {
                let columns: Vec<Cow<'static, str>> = insert_columns::<T>(assign_key, omitted)
                    .into_iter()
                    .map(|i| table.columns[i].name.clone())
                    .collect();
                let row = vec![Expr::Placeholder; columns.len()];
                Statement::Insert(Insert {
                    table: table.name.clone(),
                    columns,
                    rows: vec![row],
                    returning,
                })
            },
            self.writer,
        )
    }

    /// A new row's version counter starts at 1 (SQLAlchemy's first version id), unless given.
    fn start_version<T: Model>(obj: &Tracked<T>) -> Result<()> {
        if let Some(version) = T::VERSION_ID {
            let unset = matches!(
                read(obj)?.column_value(version),
                ValueRef::Integer(0) | ValueRef::Null
            );
            if unset {
                let mut value = obj.value.try_borrow_mut().map_err(|_| busy::<T>())?;
                crate::model::set_field::<T>(&mut value, version, ValueRef::Integer(1))?;
            }
        }
        Ok(())
    }

    /// Inserts one object in a statement of its own: a new row's version counter starts at 1,
    /// and what the database computed is read back.
    fn insert_one<T: Model>(&mut self, obj: &Tracked<T>) -> Result<()> {
        Self::start_version(obj)?;
        let value = read(obj)?;
        let assign_key = assigns_key::<T>(&value);
        // A column with a server default left unset (NULL) is left out, so that the database
        // fills it; it is read back after the INSERT (SQLAlchemy's `eager_defaults`).
        let omitted = server_defaulted::<T>(&value);
        let sql = self.insert_one_sql::<T>(assign_key, omitted);
        let mut params = Params::new();
        for i in insert_columns::<T>(assign_key, omitted) {
            params.push(value.column_value(i));
        }
        let id = if assign_key {
            Some(
                self.batch
                    .insert(&sql, params.as_slice(), Some(T::TABLE_NAME))?,
            )
        } else {
            self.batch
                .execute(&sql, params.as_slice(), Some(T::TABLE_NAME))?;
            None
        };
        drop(params);
        drop(value);
        if let Some(id) = id {
            obj.value.borrow_mut().set_primary_key(id);
        }
        obj.inserted_in.set(self.transaction);
        if omitted != 0 {
            self.read_back(obj, omitted)?;
        }
        Ok(())
    }

    /// Reads the columns in `mask` of the row just written and sets them on the object: what
    /// the database computed (a server default, an `onupdate` expression), as SQLAlchemy
    /// fetches server-generated values after a flush.
    fn read_back<T: Model>(&mut self, obj: &Tracked<T>, mask: u128) -> Result<()> {
        let table = T::TABLE;
        let sql = self.cache.get(
            T::TABLE_NAME,
            SqlKind::ReadBack(mask),
            || {
                Statement::Select(crate::core::Select {
                    columns: table
                        .columns
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| bit(mask, *i))
                        .map(|(_, c)| crate::core::SelectItem {
                            expr: Expr::column(T::TABLE_NAME, c.name.clone()),
                            alias: None,
                        })
                        .collect(),
                    from: vec![crate::core::FromItem::Table(Cow::Borrowed(T::TABLE_NAME))],
                    filter: Some(key_where::<T>()),
                    ..Default::default()
                })
            },
            self.writer,
        );
        let key: Vec<crate::value::Value> = {
            let value = read(obj)?;
            T::PRIMARY_KEYS
                .iter()
                .map(|&i| value.column_value(i).to_owned())
                .collect()
        };
        let params: Vec<ValueRef<'_>> = key.iter().map(|v| v.as_ref()).collect();
        let mut fetched = Vec::new();
        self.batch.query(&sql, &params, |row| {
            for j in 0..mask.count_ones() as usize {
                fetched.push(row.peek(j)?.to_owned());
            }
            Ok(())
        })?;
        let mut value = obj.value.try_borrow_mut().map_err(|_| busy::<T>())?;
        let columns = (0..T::COLUMN_COUNT).filter(|i| bit(mask, *i));
        for (i, fetched) in columns.zip(&fetched) {
            crate::model::set_field::<T>(&mut value, i, fetched.as_ref())?;
        }
        Ok(())
    }

    /// Inserts the objects of `run` (all of model `T`), in their order, a page of rows a
    /// statement; generated keys are set on the objects.
    pub(crate) fn insert_all<T: Model>(&mut self, run: &[Rc<dyn AnyTracked>]) -> Result<()> {
        let objs = run.iter().map(typed::<T>).collect::<Result<Vec<_>>>()?;
        if computes_columns::<T>() {
            for obj in objs {
                self.insert_one(obj)?;
            }
            return Ok(());
        }
        let mut assign = Vec::with_capacity(objs.len());
        for obj in &objs {
            Self::start_version(obj)?;
            assign.push(assigns_key::<T>(&*read(obj)?));
        }
        let mut start = 0;
        while start < objs.len() {
            // Rows whose key is given and rows whose key is generated go in statements apart.
            let assign_key = assign[start];
            let len = assign[start..]
                .iter()
                .take_while(|a| **a == assign_key)
                .count();
            let columns = insert_columns::<T>(assign_key, 0);
            let page = page_rows(columns.len(), self.batch.max_params());
            for chunk in objs[start..start + len].chunks(page) {
                self.insert_page::<T>(chunk, &columns, assign_key, chunk.len() == page)?;
            }
            start += len;
        }
        Ok(())
    }

    fn insert_page<T: Model>(
        &mut self,
        chunk: &[&Tracked<T>],
        columns: &[usize],
        assign_key: bool,
        full_page: bool,
    ) -> Result<()> {
        if chunk.len() == 1 {
            return self.insert_one(chunk[0]);
        }
        let table = T::TABLE;
        let key_name = table.columns[T::PRIMARY_KEY].name.as_ref();
        let casts = if assign_key {
            let one_row = self.insert_one_sql::<T>(true, 0);
            self.batch.param_types(&one_row, Some(T::TABLE_NAME))?
        } else {
            None
        };
        let rows = chunk.len();
        let kind = SqlKind::InsertRows {
            with_key: !assign_key,
            rows,
        };
        let sql = self.rows_sql(T::TABLE_NAME, kind, full_page, |writer| {
            insert_rows_sql(
                writer,
                &table,
                columns,
                rows,
                assign_key.then_some(key_name),
                casts.as_deref(),
            )
        });
        let values = chunk.iter().map(|o| read(o)).collect::<Result<Vec<_>>>()?;
        let mut params = Vec::with_capacity(rows * columns.len());
        for value in &values {
            params.extend(columns.iter().map(|c| value.column_value(*c)));
        }
        if !assign_key {
            self.batch.execute(&sql, &params, Some(T::TABLE_NAME))?;
            drop(params);
            drop(values);
            for obj in chunk {
                obj.inserted_in.set(self.transaction);
            }
            return Ok(());
        }
        let mut keys = self.batch.keys(&sql, &params, Some(T::TABLE_NAME))?;
        drop(params);
        drop(values);
        if keys.len() != rows {
            return Err(Error::InvalidRequest(format!(
                "an INSERT of {rows} rows into {} returned {} keys: {}",
                T::TABLE_NAME,
                keys.len(),
                crate::error::shown_sql(&sql)
            )));
        }
        keys.sort_unstable();
        let consecutive = keys.windows(2).all(|w| w[1] == w[0].wrapping_add(1));
        if casts.is_none() && !consecutive {
            // SQLite gave keys out of order (random rowids): pairing them with the objects
            // would be a guess, so the rows go again, one a statement.
            let undo = delete_rows_sql(self.writer, &table, &[T::PRIMARY_KEY], rows);
            let undo: Rc<str> = undo.into();
            let params: Vec<ValueRef<'_>> = keys.iter().map(|k| ValueRef::Integer(*k)).collect();
            self.batch.execute(&undo, &params, Some(T::TABLE_NAME))?;
            for obj in chunk {
                self.insert_one(obj)?;
            }
            return Ok(());
        }
        for (obj, key) in chunk.iter().zip(keys) {
            obj.value.borrow_mut().set_primary_key(key);
            obj.inserted_in.set(self.transaction);
        }
        Ok(())
    }

    /// The one-row UPDATE of the `mask` columns (and the version counter's next value), by key
    /// (and the version loaded): the statement `update_one` writes for a model without
    /// `onupdate` columns, under the same cache entry.
    fn update_one_sql<T: Model>(&mut self, mask: u128) -> Rc<str> {
        let table = T::TABLE;
        self.cache.get(
            T::TABLE_NAME,
            SqlKind::Update(mask),
            || {
                let set = update_set::<T>(mask)
                    .into_iter()
                    .map(|i| (table.columns[i].name.clone(), Expr::Placeholder))
                    .collect();
                Statement::Update(Update {
                    table: table.name.clone(),
                    set,
                    filter: Some(versioned_where::<T>()),
                })
            },
            self.writer,
        )
    }

    /// Writes the `mask` columns of every object of `group` (all of model `T`, each with those
    /// columns changed) and returns their snapshots, the values from before (what a rollback
    /// restores). On an error every object keeps its snapshot, so its change is still tracked.
    pub(crate) fn update_all<T: Model>(
        &mut self,
        group: &[Rc<dyn AnyTracked>],
        mask: u128,
    ) -> Result<Vec<Box<dyn Any>>> {
        let objs = group.iter().map(typed::<T>).collect::<Result<Vec<_>>>()?;
        if computes_columns::<T>() {
            return self.update_each(&objs);
        }
        let mut befores: Vec<Box<T>> = Vec::with_capacity(objs.len());
        let mut outcome = Ok(());
        for obj in &objs {
            match obj.snapshot.borrow_mut().take() {
                Some(before) => befores.push(before),
                None => {
                    outcome = Err(Error::InvalidRequest(format!(
                        "a {} object to update has no values from before its change",
                        T::TABLE_NAME
                    )));
                    break;
                }
            }
        }
        if outcome.is_ok() {
            outcome = self.write_updates(&objs, &befores, mask);
        }
        if let Err(e) = outcome {
            for (obj, before) in objs.iter().zip(befores) {
                *obj.snapshot.borrow_mut() = Some(before);
            }
            return Err(e);
        }
        Ok(befores
            .into_iter()
            .map(|before| before as Box<dyn Any>)
            .collect())
    }

    /// Writes the columns that differ from the snapshot taken at the first `borrow_mut`, and
    /// returns that snapshot (what a rollback restores) when it wrote them.
    fn update_one<T: Model>(&mut self, obj: &Tracked<T>) -> Result<Option<Box<T>>> {
        let Some(snapshot) = obj.snapshot.borrow_mut().take() else {
            return Ok(None);
        };
        let value = match read(obj) {
            Ok(v) => v,
            Err(e) => {
                *obj.snapshot.borrow_mut() = Some(snapshot);
                return Err(e);
            }
        };
        let mut mask: u128 = 0;
        let mut params = Params::new();
        for i in 0..T::COLUMN_COUNT.min(128) {
            let now = value.column_value(i);
            if now != snapshot.column_value(i) && Some(i) != T::VERSION_ID {
                mask |= 1 << i;
                params.push(now);
            }
        }
        if mask == 0 {
            return Ok(None);
        }
        // The version counter: set to the next one, and matched as it was loaded.
        let versions = match loaded_version::<T>(&snapshot) {
            Ok(old) => T::VERSION_ID.zip(old),
            Err(e) => {
                drop(params);
                drop(value);
                *obj.snapshot.borrow_mut() = Some(snapshot);
                return Err(e);
            }
        };
        if let Some((_, old)) = versions {
            params.push(ValueRef::Integer(old + 1));
        }
        // Columns with an `onupdate` expression that the change does not set itself.
        let recomputed = onupdate_columns::<T>() & !mask;
        for &i in T::PRIMARY_KEYS {
            params.push(snapshot.column_value(i));
        }
        if let Some((_, old)) = versions {
            params.push(ValueRef::Integer(old));
        }
        let table = T::TABLE;
        let sql = self.cache.get(
            T::TABLE_NAME,
            SqlKind::Update(mask),
            || {
                let mut set: Vec<_> = table
                    .columns
                    .iter()
                    .enumerate()
                    .filter_map(|(i, c)| match &c.onupdate {
                        _ if bit(mask, i) => Some((c.name.clone(), Expr::Placeholder)),
                        _ if Some(i) == T::VERSION_ID => None,
                        Some(sql) if bit(recomputed, i) => {
                            Some((c.name.clone(), Expr::Sql(sql.clone())))
                        }
                        _ => None,
                    })
                    .collect();
                // The version counter last among the SET columns, as its parameter is.
                if let Some(v) = T::VERSION_ID {
                    set.push((table.columns[v].name.clone(), Expr::Placeholder));
                }
                Statement::Update(Update {
                    table: table.name.clone(),
                    set,
                    filter: Some(versioned_where::<T>()),
                })
            },
            self.writer,
        );
        let result = self
            .batch
            .execute(&sql, params.as_slice(), Some(T::TABLE_NAME))
            .and_then(|matched| expect_rows::<T>("UPDATE", 1, matched));
        drop(params);
        drop(value);
        let result = result
            .and_then(|()| match versions {
                Some((v, old)) => {
                    let mut value = obj.value.try_borrow_mut().map_err(|_| busy::<T>())?;
                    crate::model::set_field::<T>(&mut value, v, ValueRef::Integer(old + 1))
                }
                None => Ok(()),
            })
            .and_then(|()| match recomputed {
                0 => Ok(()),
                _ => self.read_back(obj, recomputed),
            });
        if let Err(e) = result {
            *obj.snapshot.borrow_mut() = Some(snapshot);
            return Err(e);
        }
        Ok(Some(snapshot))
    }

    /// [`update_one`](Self::update_one) for each object of `objs`; on an error the objects
    /// written before it get their snapshots back, so their changes are still tracked.
    fn update_each<T: Model>(&mut self, objs: &[&Tracked<T>]) -> Result<Vec<Box<dyn Any>>> {
        let mut befores: Vec<(usize, Box<T>)> = Vec::with_capacity(objs.len());
        for (i, obj) in objs.iter().enumerate() {
            match self.update_one(obj) {
                Ok(Some(before)) => befores.push((i, before)),
                Ok(None) => {}
                Err(e) => {
                    for (i, before) in befores {
                        *objs[i].snapshot.borrow_mut() = Some(before);
                    }
                    return Err(e);
                }
            }
        }
        Ok(befores
            .into_iter()
            .map(|(_, before)| before as Box<dyn Any>)
            .collect())
    }

    /// Updates the `mask` columns of `objs` (each with its snapshot in `befores`), a page of
    /// rows a statement on PostgreSQL, one prepared statement a row on SQLite; a versioned
    /// model's rows are matched at the version loaded and set to the next, which the objects
    /// get once their page matched every row.
    fn write_updates<T: Model>(
        &mut self,
        objs: &[&Tracked<T>],
        befores: &[Box<T>],
        mask: u128,
    ) -> Result<()> {
        let mut versions: Vec<Option<i64>> = Vec::with_capacity(befores.len());
        for before in befores {
            versions.push(loaded_version::<T>(before)?);
        }
        let values = objs.iter().map(|o| read(o)).collect::<Result<Vec<_>>>()?;
        let set = update_set::<T>(mask);
        let matched_by = delete_match::<T>();
        let one_row = self.update_one_sql::<T>(mask);
        let casts = if objs.len() > 1 {
            self.batch.param_types(&one_row, Some(T::TABLE_NAME))?
        } else {
            None
        };
        let width = set.len() + matched_by.len();
        let page = match casts {
            Some(_) => page_rows(width, self.batch.max_params()),
            None => 1,
        };
        let table = T::TABLE;
        let mut params: Vec<ValueRef<'_>> = Vec::with_capacity(page * width);
        for (start, chunk) in (0..objs.len()).step_by(page).zip(values.chunks(page)) {
            params.clear();
            for (i, value) in chunk.iter().enumerate() {
                let (before, version) = (&befores[start + i], versions[start + i]);
                for &c in &set {
                    params.push(match version {
                        Some(old) if Some(c) == T::VERSION_ID => ValueRef::Integer(old + 1),
                        _ => value.column_value(c),
                    });
                }
                params.extend(matched_by.iter().map(|&c| before.column_value(c)));
            }
            let sql = match &casts {
                Some(casts) if chunk.len() > 1 => {
                    let rows = chunk.len();
                    self.rows_sql(
                        T::TABLE_NAME,
                        SqlKind::UpdateRows { mask, rows },
                        rows == page,
                        |writer| update_rows_sql(writer, &table, &set, &matched_by, rows, casts),
                    )
                }
                _ => one_row.clone(),
            };
            let matched = self.batch.execute(&sql, &params, Some(T::TABLE_NAME))?;
            expect_rows::<T>("UPDATE", chunk.len(), matched)?;
        }
        drop(params);
        drop(values);
        if let Some(v) = T::VERSION_ID {
            for (obj, old) in objs.iter().zip(versions) {
                let next = ValueRef::Integer(old.unwrap_or(0) + 1);
                let mut value = obj.value.try_borrow_mut().map_err(|_| busy::<T>())?;
                crate::model::set_field::<T>(&mut value, v, next)?;
            }
        }
        Ok(())
    }

    /// Deletes the rows of `run` (all of model `T`), a page of keys a statement, each row as
    /// the database holds it (by its key, and version, from before any change in memory). A
    /// page that matches fewer rows than it names is `StaleData` (a row deleted, or its version
    /// moved on, by another session), and the flush rolls back.
    pub(crate) fn delete_all<T: Model>(&mut self, run: &[Rc<dyn AnyTracked>]) -> Result<()> {
        let matched_by = delete_match::<T>();
        let width = matched_by.len();
        let mut keys: Vec<Value> = Vec::with_capacity(run.len() * width);
        for obj in run {
            let obj = typed::<T>(obj)?;
            let value = read(obj)?;
            let snapshot = obj.snapshot.borrow();
            let row = snapshot.as_deref().unwrap_or(&*value);
            keys.extend(matched_by.iter().map(|&i| row.column_value(i).to_owned()));
        }
        let table = T::TABLE;
        if width == 1 && self.batch.binds_arrays() {
            let sql = self.cache.get_text(T::TABLE_NAME, SqlKind::DeleteAny, || {
                delete_any_sql(self.writer, &table, matched_by[0])
            });
            for chunk in keys.chunks(ARRAY_PAGE_ROWS) {
                let params: Vec<ValueRef<'_>> = chunk.iter().map(Value::as_ref).collect();
                let matched = self
                    .batch
                    .execute_array(&sql, &params, Some(T::TABLE_NAME))?;
                expect_rows::<T>("DELETE", chunk.len(), matched)?;
            }
            return Ok(());
        }
        let page = page_rows(width, self.batch.max_params());
        for chunk in keys.chunks(page * width) {
            let rows = chunk.len() / width;
            let sql = if rows == 1 {
                self.cache.get(
                    T::TABLE_NAME,
                    SqlKind::Delete,
                    || {
                        Statement::Delete(crate::core::Delete {
                            table: table.name.clone(),
                            filter: Some(versioned_where::<T>()),
                        })
                    },
                    self.writer,
                )
            } else {
                self.rows_sql(
                    T::TABLE_NAME,
                    SqlKind::DeleteRows(rows),
                    rows == page,
                    |w| delete_rows_sql(w, &table, &matched_by, rows),
                )
            };
            let params: Vec<ValueRef<'_>> = chunk.iter().map(Value::as_ref).collect();
            let matched = self.batch.execute(&sql, &params, Some(T::TABLE_NAME))?;
            expect_rows::<T>("DELETE", rows, matched)?;
        }
        Ok(())
    }
}

/// A statement of the unit of work meant for `expected` rows: matching fewer means another
/// session deleted a row or changed its key (SQLAlchemy's `StaleDataError`, whose check of an
/// `executemany` compares the same two counts).
fn expect_rows<T: Model>(statement: &'static str, expected: usize, matched: usize) -> Result<()> {
    if matched == expected {
        return Ok(());
    }
    Err(Error::StaleData {
        statement,
        table: T::TABLE_NAME.to_string(),
        expected,
        matched,
    })
}

/// Whether column `i` is in the bit mask.
fn bit(mask: u128, i: usize) -> bool {
    i < 128 && mask & (1 << i) != 0
}

/// The columns of `value` with a server default and no value (NULL), as a bit mask.
fn server_defaulted<T: Model>(value: &T) -> u128 {
    let table = T::TABLE;
    let mut mask = 0;
    for (i, column) in table.columns.iter().enumerate().take(128) {
        if column.server_default.is_some() && value.column_value(i) == ValueRef::Null {
            mask |= 1 << i;
        }
    }
    mask
}

/// The columns with an `onupdate` expression, as a bit mask.
fn onupdate_columns<T: Model>() -> u128 {
    let table = T::TABLE;
    let mut mask = 0;
    for (i, column) in table.columns.iter().enumerate().take(128) {
        if column.onupdate.is_some() {
            mask |= 1 << i;
        }
    }
    mask
}
