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
//!   ("Correlating RETURNING rows to parameter sets", in its "Insert Many Values" notes): the
//!   keys are sorted, and the i-th smallest goes to the i-th object, which holds when the keys
//!   were generated in the order of the rows.
//!   PostgreSQL: the rows are fed through `INSERT … SELECT … FROM (VALUES (…, 0), (…, 1), …)
//!   ORDER BY sen_counter`, SQLAlchemy's sentinel form, so the identity column's sequence is
//!   drawn in the objects' order. SQLite: a `VALUES` list is inserted in its order and a rowid
//!   is one more than the largest so far, so the keys of one statement are consecutive; the
//!   unit of work checks that they are, and when they are not (a table whose largest rowid is
//!   already 2^63 - 1 gets random ones; SQLAlchemy does not batch SQLite at all here) it deletes
//!   the page's rows again and inserts them one by one. `RETURNING` needs SQLite 3.35 or later
//!   (the crate links the system's SQLite: 3.40 on Debian 12).
//! - **Columns the database computes** (`server_default` left unset, `onupdate`) come back in
//!   the same statement, SQLAlchemy's `eager_defaults` without a `SELECT` per row: `INSERT …
//!   RETURNING key, computed columns`, the rows paired with the objects by the key each row
//!   carries, as the same SQLAlchemy notes correlate rows whose keys the client gave (the key
//!   is the "sentinel" matched against each parameter set): a generated key by the sorted
//!   pairing above, the computed columns travelling in its row; a given key (every column of a
//!   composite one) by looking it up among the page's objects. Rows that leave different columns to the database
//!   go in statements apart, in the objects' order.
//! - **UPDATE:** objects with the same changed columns. PostgreSQL: one `UPDATE … FROM (VALUES
//!   …)` per page, the matched row count checked against the page. The `postgres` crate is
//!   synchronous and cannot pipeline statements (tokio-postgres could, with an async runtime in
//!   every notebook cell), and one set-based statement also spares the server a parse and plan
//!   per row. SQLite: one prepared statement run per row (`executemany`; an embedded database
//!   has no round trip to save).
//!   Composite keys and version counters go in pages too: the UPDATE joins on every key column
//!   and on the version loaded, and sets each row's next version from its `VALUES` row.
//!   A model with `onupdate` columns: the statement sets each one the change does not set
//!   itself to its expression and returns it. PostgreSQL: `UPDATE … FROM (VALUES …) RETURNING
//!   key, onupdate columns`, each row paired with its object by its key as it is after the
//!   change, never by the rows' order; the number of rows returned is the matched row count.
//!   SQLite: one prepared `UPDATE … WHERE key = ?` a row as its other updates, then `SELECT
//!   key, onupdate columns … WHERE key IN (…)` a page of keys a statement, paired by key: a
//!   `RETURNING` costs SQLite an ephemeral table per statement, and 20,000 one-row `UPDATE …
//!   RETURNING`s took 1.5 times as long as `UPDATE` + `SELECT` by key (`tests/bench_computed.sh`).
//!   A lone row: `UPDATE … RETURNING` (one statement instead of two).
//! - **DELETE:** row count checked, a page that matches fewer rows than it names is
//!   `StaleData` and the flush rolls back. A single key on PostgreSQL: `DELETE … WHERE key =
//!   ANY($1)`, the keys in one array parameter, so one prepared statement serves every page size
//!   (as a hand-written psycopg program would write it). Otherwise `DELETE … WHERE key IN (…)`
//!   per page; a composite key, or a key and a version counter, is matched as a list of row
//!   values: `(a, b) IN (VALUES (…), …)` on SQLite (which reads `(a, b) IN ((…), …)` as matching
//!   nothing), `(a, b) IN ((…), …)` on PostgreSQL (where the parameters of a `VALUES` list
//!   would be typed `text` and the comparison refused).

use super::sql_cache::{SqlCache, SqlKind};
use crate::core::{Expr, Insert, SqlWriter, Statement, Table, Update};
use crate::engine::{integer_key, Batch, RowReader};
use crate::error::{Error, Result};
use crate::model::{key_from, key_of, AnyTracked, Key, Model, Tracked};
use crate::value::{Value, ValueRef};
use rustc_hash::FxHashMap;
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

/// ` RETURNING "a", "b", …` of the table's columns at `columns` (nothing when there are none),
/// each qualified by the table's name with `qualified` (an `UPDATE … FROM`, whose `FROM` list
/// brings columns of its own).
fn write_returning(
    writer: &dyn SqlWriter,
    table: &Table,
    columns: &[usize],
    qualified: bool,
    out: &mut String,
) {
    for (i, c) in columns.iter().enumerate() {
        out.push_str(if i == 0 { " RETURNING " } else { ", " });
        if qualified {
            writer.quote(&table.name, out);
            out.push('.');
        }
        writer.quote(&table.columns[*c].name, out);
    }
}

/// A multi-row INSERT of `rows` rows (see the module's notes for the forms), returning the
/// columns at `returning`.
fn insert_rows_sql(
    writer: &dyn SqlWriter,
    table: &Table,
    columns: &[usize],
    rows: usize,
    returning: &[usize],
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
    write_returning(writer, table, returning, false, &mut sql);
    sql
}

/// The columns of a multi-row UPDATE (see [`update_rows_sql`]).
struct UpdateShape<'a> {
    /// The columns set from each row's values: the changed ones, then a version counter.
    set: &'a [usize],
    /// The columns set to their `onupdate` expression.
    recomputed: &'a [usize],
    /// The columns a row is matched by: its key, then the version it was loaded at.
    matched: &'a [usize],
    /// The columns returned: the key and the recomputed ones (none without recomputed ones).
    returning: &'a [usize],
}

/// PostgreSQL: `UPDATE t SET a = v.p0, …, c = <onupdate> FROM (VALUES (…), …) AS v(p0, …, pN)
/// WHERE t.key = v.pN [RETURNING t.key, t.c]`: the `set` columns' values first (the changed
/// ones, then a version counter's new value), and the `matched` columns' last (the row's key as
/// the database holds it, every column of a composite one, then the version it was loaded at),
/// each value cast as the one-row UPDATE's parameters are typed.
fn update_rows_sql(
    writer: &dyn SqlWriter,
    table: &Table,
    shape: &UpdateShape<'_>,
    rows: usize,
    casts: &[String],
) -> String {
    let UpdateShape {
        set,
        recomputed,
        matched,
        returning,
    } = *shape;
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
    for c in recomputed {
        if let Some(expr) = &table.columns[*c].onupdate {
            sql.push_str(", ");
            writer.quote(&table.columns[*c].name, &mut sql);
            sql.push_str(" = ");
            sql.push_str(expr);
        }
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
    write_returning(writer, table, returning, true, &mut sql);
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

/// `DELETE FROM t WHERE key IN (p, p, …)` of `rows` keys (see [`write_rows_match`]).
fn delete_rows_sql(
    writer: &dyn SqlWriter,
    table: &Table,
    columns: &[usize],
    rows: usize,
) -> String {
    let mut sql = String::from("DELETE FROM ");
    writer.quote(&table.name, &mut sql);
    write_rows_match(writer, table, columns, rows, &mut sql);
    sql
}

/// `SELECT k, c, … FROM t WHERE key IN (p, p, …)`: the `selected` columns of `rows` rows,
/// matched by their `key` columns (see [`write_rows_match`]).
fn select_rows_sql(
    writer: &dyn SqlWriter,
    table: &Table,
    selected: &[usize],
    key: &[usize],
    rows: usize,
) -> String {
    let mut sql = String::from("SELECT ");
    write_column_list(writer, table, selected, &mut sql);
    sql.push_str(" FROM ");
    writer.quote(&table.name, &mut sql);
    write_rows_match(writer, table, key, rows, &mut sql);
    sql
}

/// ` WHERE key IN (p, p, …)` of `rows` keys; with several `columns` (a composite key, a version
/// counter) a list of row values: `(a, b) IN (VALUES (p, p), …)` on SQLite, `(a, b) IN ((p, p),
/// …)` on PostgreSQL (see `SqlWriter::row_values_in_values_list`).
fn write_rows_match(
    writer: &dyn SqlWriter,
    table: &Table,
    columns: &[usize],
    rows: usize,
    sql: &mut String,
) {
    sql.push_str(" WHERE ");
    if let [key] = columns {
        writer.quote(&table.columns[*key].name, sql);
        sql.push_str(" IN (");
        for n in 1..=rows {
            if n > 1 {
                sql.push_str(", ");
            }
            writer.placeholder(n, sql);
        }
        sql.push(')');
        return;
    }
    sql.push('(');
    write_column_list(writer, table, columns, sql);
    sql.push_str(") IN (");
    if writer.row_values_in_values_list() {
        sql.push_str("VALUES ");
    }
    write_value_rows(writer, rows, columns.len(), None, false, sql);
    sql.push(')');
}

/// The columns of an INSERT of a run of rows of one shape (see [`FlushContext::insert_page`]).
#[derive(Clone, Copy)]
struct InsertShape<'a> {
    /// The columns written, in the parameters' order.
    columns: &'a [usize],
    /// Whether the database generates the key.
    assign_key: bool,
    /// The columns left to their server defaults, as a bit mask.
    omitted: u128,
}

/// The rows a statement's `RETURNING` gave, `width` values a row, held in one vector.
struct Returned {
    width: usize,
    values: Vec<Value>,
}

impl Returned {
    fn new(width: usize) -> Self {
        Returned {
            width,
            values: Vec::new(),
        }
    }

    /// Keeps the first `width` values of a returned row.
    fn push(&mut self, row: &mut RowReader<'_>) -> Result<()> {
        for j in 0..self.width {
            self.values.push(row.peek(j)?.to_owned());
        }
        Ok(())
    }

    /// Appends a row of `width` values.
    fn extend(&mut self, row: &[Value]) {
        self.values.extend_from_slice(row);
    }

    fn len(&self) -> usize {
        self.values.len() / self.width.max(1)
    }

    /// Row `r`.
    fn row(&self, r: usize) -> &[Value] {
        &self.values[r * self.width..(r + 1) * self.width]
    }

    /// For each object of an INSERT whose keys were generated, in the objects' order, the row
    /// holding its key (the first value of each row): the i-th smallest key goes to the i-th
    /// object (SQLAlchemy's pairing, see the module's notes). `None` when the keys were not
    /// drawn in the rows' order (`drawn_in_order`: PostgreSQL's sentinel form) and are not
    /// consecutive either: SQLite's random rowids, which nothing pairs.
    ///
    /// # Errors
    /// `InvalidRequest` when a key is not an integer.
    fn by_generated_key(&self, sql: &str, drawn_in_order: bool) -> Result<Option<Vec<usize>>> {
        let mut keyed = (0..self.len())
            .map(|r| Ok((integer_key(self.row(r)[0].as_ref(), sql)?, r)))
            .collect::<Result<Vec<(i64, usize)>>>()?;
        keyed.sort_unstable();
        let consecutive = keyed.windows(2).all(|w| w[1].0 == w[0].0.wrapping_add(1));
        if !drawn_in_order && !consecutive {
            return Ok(None);
        }
        Ok(Some(keyed.into_iter().map(|(_, r)| r).collect()))
    }

    /// For each of `keys` (the objects' keys, in their order), the row that carries it in its
    /// first values (every key column of `T`, in order): rows are matched by key, never by
    /// their order, which neither database promises.
    ///
    /// # Errors
    /// `InvalidRequest` naming the key when an object has no row (or no key), or two rows
    /// carry one key.
    fn by_key<T: Model>(
        &self,
        keys: impl Iterator<Item = Option<Key>>,
        statement: &str,
    ) -> Result<Vec<usize>> {
        let unpaired = |what: String| {
            Error::InvalidRequest(format!(
                "the rows an {statement} of {} returned cannot be paired with its objects: {what}",
                T::TABLE_NAME
            ))
        };
        let mut rows: FxHashMap<Key, usize> = FxHashMap::default();
        rows.reserve(self.len());
        for r in 0..self.len() {
            let row = self.row(r);
            let key = key_from::<T>(|column| {
                let at = T::PRIMARY_KEYS.iter().position(|&k| k == column);
                Ok(at.and_then(|at| Key::from_value_ref(row[at].as_ref())))
            })?
            .ok_or_else(|| unpaired(format!("a row's key {row:?} is not an integer or text")))?;
            if rows.insert(key.clone(), r).is_some() {
                return Err(unpaired(format!(
                    "two rows have the key {}",
                    key.to_value()
                )));
            }
        }
        keys.map(|key| {
            let key = key.ok_or_else(|| unpaired("an object's key is not set".into()))?;
            rows.remove(&key)
                .ok_or_else(|| unpaired(format!("no row has the key {}", key.to_value())))
        })
        .collect()
    }
}

/// The columns in the bit mask `mask`, in the table's order.
fn mask_columns<T: Model>(mask: u128) -> Vec<usize> {
    (0..T::COLUMN_COUNT.min(128))
        .filter(|i| bit(mask, *i))
        .collect()
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

    /// Inserts one object in a statement of its own (a model whose columns are all given, or
    /// whose server defaults are given values): a new row's version counter starts at 1.
    fn insert_one<T: Model>(&mut self, obj: &Tracked<T>) -> Result<()> {
        Self::start_version(obj)?;
        let value = read(obj)?;
        let assign_key = assigns_key::<T>(&value);
        let sql = self.insert_one_sql::<T>(assign_key, 0);
        let mut params = Params::new();
        for i in insert_columns::<T>(assign_key, 0) {
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
        Ok(())
    }

    /// Inserts the objects of `run` (all of model `T`), in their order, a page of rows a
    /// statement; generated keys, and the columns left to their server defaults, are set on the
    /// objects from the rows the statements return.
    pub(crate) fn insert_all<T: Model>(&mut self, run: &[Rc<dyn AnyTracked>]) -> Result<()> {
        let objs = run.iter().map(typed::<T>).collect::<Result<Vec<_>>>()?;
        let has_server_defaults = T::TABLE.columns.iter().any(|c| c.server_default.is_some());
        // Per object: whether its key is generated, and which columns it leaves to the
        // database (a column with a server default and no value, NULL).
        let mut shapes: Vec<(bool, u128)> = Vec::with_capacity(objs.len());
        for obj in &objs {
            Self::start_version(obj)?;
            let value = read(obj)?;
            let omitted = if has_server_defaults {
                server_defaulted::<T>(&value)
            } else {
                0
            };
            shapes.push((assigns_key::<T>(&value), omitted));
        }
        let mut start = 0;
        while start < objs.len() {
            // Rows of one shape go in statements of their own, in the objects' order.
            let (assign_key, omitted) = shapes[start];
            let len = shapes[start..]
                .iter()
                .take_while(|s| **s == (assign_key, omitted))
                .count();
            let columns = insert_columns::<T>(assign_key, omitted);
            let page = page_rows(columns.len(), self.batch.max_params());
            for chunk in objs[start..start + len].chunks(page) {
                let shape = InsertShape {
                    columns: &columns,
                    assign_key,
                    omitted,
                };
                self.insert_page::<T>(chunk, &shape, chunk.len() == page)?;
            }
            start += len;
        }
        Ok(())
    }

    /// Inserts `chunk` in one statement, returning the generated key, or the given key when
    /// columns the database computed come back with it, and those columns; each returned row
    /// is paired with its object as the module's notes say.
    fn insert_page<T: Model>(
        &mut self,
        chunk: &[&Tracked<T>],
        shape: &InsertShape<'_>,
        full_page: bool,
    ) -> Result<()> {
        let InsertShape {
            columns,
            assign_key,
            omitted,
        } = *shape;
        if chunk.len() == 1 && omitted == 0 {
            return self.insert_one(chunk[0]);
        }
        let table = T::TABLE;
        let rows = chunk.len();
        let computed = mask_columns::<T>(omitted);
        let generated_key = [T::PRIMARY_KEY];
        let keys: &[usize] = match (assign_key, omitted) {
            (true, _) => &generated_key,
            (false, 0) => &[],
            (false, _) => T::PRIMARY_KEYS,
        };
        let returning: Vec<usize> = keys.iter().chain(&computed).copied().collect();
        // PostgreSQL's sentinel form draws generated keys in the objects' order; its values
        // are cast as the one-row INSERT's parameters are typed.
        let casts = if assign_key && rows > 1 {
            let one_row = self.insert_one_sql::<T>(true, omitted);
            self.batch.param_types(&one_row, Some(T::TABLE_NAME))?
        } else {
            None
        };
        let kind = SqlKind::InsertRows {
            with_key: !assign_key,
            omitted,
            rows,
        };
        let sql = self.rows_sql(T::TABLE_NAME, kind, full_page || rows == 1, |writer| {
            insert_rows_sql(writer, &table, columns, rows, &returning, casts.as_deref())
        });
        let values = chunk.iter().map(|o| read(o)).collect::<Result<Vec<_>>>()?;
        let mut params = Vec::with_capacity(rows * columns.len());
        for value in &values {
            params.extend(columns.iter().map(|c| value.column_value(*c)));
        }
        if returning.is_empty() {
            self.batch.execute(&sql, &params, Some(T::TABLE_NAME))?;
            drop(params);
            drop(values);
            for obj in chunk {
                obj.inserted_in.set(self.transaction);
            }
            return Ok(());
        }
        let mut returned = Returned::new(returning.len());
        let count = self
            .batch
            .returning(&sql, &params, Some(T::TABLE_NAME), |row| returned.push(row))?;
        drop(params);
        if count != rows {
            return Err(Error::InvalidRequest(format!(
                "an INSERT of {rows} rows into {} returned {count} rows: {}",
                T::TABLE_NAME,
                crate::error::shown_sql(&sql)
            )));
        }
        let row_of = if assign_key {
            drop(values);
            let Some(row_of) = returned.by_generated_key(&sql, casts.is_some())? else {
                // SQLite gave keys out of order (random rowids): pairing them with the
                // objects would be a guess, so the rows go again, one a statement.
                return self.insert_again_one_by_one(chunk, shape, &returned);
            };
            row_of
        } else {
            let row_of = returned.by_key::<T>(values.iter().map(|v| key_of::<T>(v)), "INSERT")?;
            drop(values);
            row_of
        };
        for (obj, row) in chunk.iter().zip(row_of) {
            let mut value = obj.value.try_borrow_mut().map_err(|_| busy::<T>())?;
            let row = returned.row(row);
            if assign_key {
                value.set_primary_key(integer_key(row[0].as_ref(), &sql)?);
            }
            if !computed.is_empty() {
                let fetched: Vec<ValueRef<'_>> =
                    row[keys.len()..].iter().map(Value::as_ref).collect();
                crate::model::set_fields::<T>(&mut value, &computed, &fetched)?;
            }
            drop(value);
            obj.inserted_in.set(self.transaction);
        }
        Ok(())
    }

    /// SQLite, keys out of order: deletes the rows of `chunk` just inserted (their keys are the
    /// first value of each `returned` row) and inserts them again one a statement.
    fn insert_again_one_by_one<T: Model>(
        &mut self,
        chunk: &[&Tracked<T>],
        shape: &InsertShape<'_>,
        returned: &Returned,
    ) -> Result<()> {
        let rows = chunk.len();
        let undo = delete_rows_sql(self.writer, &T::TABLE, &[T::PRIMARY_KEY], rows);
        let undo: Rc<str> = undo.into();
        let params: Vec<ValueRef<'_>> = (0..rows).map(|r| returned.row(r)[0].as_ref()).collect();
        let deleted = self.batch.execute(&undo, &params, Some(T::TABLE_NAME))?;
        expect_rows::<T>("DELETE", rows, deleted)?;
        for obj in chunk {
            self.insert_page(std::slice::from_ref(obj), shape, false)?;
        }
        Ok(())
    }

    /// The one-row UPDATE of the `mask` columns (and the version counter's next value), by key
    /// (and the version loaded), setting the `onupdate` columns the change does not set itself
    /// to their expressions, and returning them with `returning`.
    fn update_one_sql<T: Model>(&mut self, mask: u128, returning: bool) -> Rc<str> {
        let table = T::TABLE;
        let writer = self.writer;
        self.cache
            .get_text(T::TABLE_NAME, SqlKind::Update { mask, returning }, || {
                let recomputed = mask_columns::<T>(onupdate_columns::<T>() & !mask);
                let placeholder = |i: usize| (table.columns[i].name.clone(), Expr::Placeholder);
                let set_from_values = update_set::<T>(mask);
                let (changed, version) =
                    set_from_values.split_at(set_from_values.len() - T::VERSION_ID.iter().len());
                // The parameters' order: the changed columns, then the version counter; the
                // `onupdate` expressions between them take none.
                let set = changed
                    .iter()
                    .map(|&i| placeholder(i))
                    .chain(recomputed.iter().filter_map(|&i| {
                        let expr = table.columns[i].onupdate.clone()?;
                        Some((table.columns[i].name.clone(), Expr::Sql(expr)))
                    }))
                    .chain(version.iter().map(|&i| placeholder(i)))
                    .collect();
                let mut sql = writer
                    .compile(&Statement::Update(Update {
                        table: table.name.clone(),
                        set,
                        filter: Some(versioned_where::<T>()),
                    }))
                    .sql;
                if returning {
                    write_returning(writer, &table, &recomputed, false, &mut sql);
                }
                sql
            })
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

    /// Updates the `mask` columns of `objs` (each with its snapshot in `befores`), a page of
    /// rows a statement on PostgreSQL, one prepared statement a row on SQLite; a versioned
    /// model's rows are matched at the version loaded and set to the next, and the `onupdate`
    /// columns the change does not set are recomputed by the database and returned, which the
    /// objects get once their page matched every row.
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
        let recomputed = mask_columns::<T>(onupdate_columns::<T>() & !mask);
        let matched_by = delete_match::<T>();
        // A page returns each row's key, to pair it with its object, and the recomputed columns.
        let returning: Vec<usize> = if recomputed.is_empty() {
            Vec::new()
        } else {
            T::PRIMARY_KEYS.iter().chain(&recomputed).copied().collect()
        };
        let shape = UpdateShape {
            set: &set,
            recomputed: &recomputed,
            matched: &matched_by,
            returning: &returning,
        };
        // SQLite: a `RETURNING` costs each statement an ephemeral table (measured by
        // `tests/bench_computed.sh`: 20,000 one-row `UPDATE … RETURNING`s took 1.5 times as long
        // as `UPDATE` + `SELECT` by key), so the rows of a group go one plain prepared `UPDATE`
        // each, and what the database recomputed is read afterwards a page of keys a `SELECT`.
        let read_after = !recomputed.is_empty() && objs.len() > 1 && self.batch.is_embedded();
        let one_row = self.update_one_sql::<T>(mask, !read_after);
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
        // What the database computed, the objects' rows in the objects' order.
        let mut fetched = Returned::new(recomputed.len());
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
            let (sql, keyed) = match &casts {
                Some(casts) if chunk.len() > 1 => {
                    let rows = chunk.len();
                    let sql = self.rows_sql(
                        T::TABLE_NAME,
                        SqlKind::UpdateRows { mask, rows },
                        rows == page,
                        |writer| update_rows_sql(writer, &table, &shape, rows, casts),
                    );
                    (sql, true)
                }
                _ => (one_row.clone(), false),
            };
            if recomputed.is_empty() || read_after {
                let matched = self.batch.execute(&sql, &params, Some(T::TABLE_NAME))?;
                expect_rows::<T>("UPDATE", chunk.len(), matched)?;
                continue;
            }
            let mut returned = Returned::new(if keyed {
                returning.len()
            } else {
                recomputed.len()
            });
            let matched = self
                .batch
                .returning(&sql, &params, Some(T::TABLE_NAME), |row| returned.push(row))?;
            expect_rows::<T>("UPDATE", chunk.len(), matched)?;
            if keyed {
                // The row's key as it is now (a changed key is matched at its old value, and
                // returned at its new one).
                let row_of =
                    returned.by_key::<T>(chunk.iter().map(|v| key_of::<T>(v)), "UPDATE")?;
                for row in row_of {
                    fetched.extend(&returned.row(row)[T::PRIMARY_KEYS.len()..]);
                }
            } else {
                fetched.extend(returned.row(0));
            }
        }
        drop(params);
        if read_after {
            self.read_computed::<T>(&values, &recomputed, &mut fetched)?;
        }
        drop(values);
        for (i, (obj, old)) in objs.iter().zip(versions).enumerate() {
            if T::VERSION_ID.is_none() && recomputed.is_empty() {
                break;
            }
            let mut value = obj.value.try_borrow_mut().map_err(|_| busy::<T>())?;
            if let Some(v) = T::VERSION_ID {
                let next = ValueRef::Integer(old.unwrap_or(0) + 1);
                crate::model::set_field::<T>(&mut value, v, next)?;
            }
            if !recomputed.is_empty() {
                let row: Vec<ValueRef<'_>> = fetched.row(i).iter().map(Value::as_ref).collect();
                crate::model::set_fields::<T>(&mut value, &recomputed, &row)?;
            }
        }
        Ok(())
    }

    /// The `columns` of the rows of `values` (found by their keys as they are now), a page of
    /// keys a `SELECT`, appended to `fetched` in the objects' order: what the database computed
    /// for rows just updated in this transaction, paired with the objects by key.
    fn read_computed<T: Model>(
        &mut self,
        values: &[Ref<'_, T>],
        columns: &[usize],
        fetched: &mut Returned,
    ) -> Result<()> {
        let table = T::TABLE;
        let key = T::PRIMARY_KEYS;
        let selected: Vec<usize> = key.iter().chain(columns).copied().collect();
        let mask = columns.iter().fold(0u128, |m, &c| m | 1 << c);
        let page = page_rows(key.len(), self.batch.max_params());
        for chunk in values.chunks(page) {
            let rows = chunk.len();
            let sql = self.rows_sql(
                T::TABLE_NAME,
                SqlKind::SelectRows { mask, rows },
                rows == page,
                |writer| select_rows_sql(writer, &table, &selected, key, rows),
            );
            let params: Vec<ValueRef<'_>> = chunk
                .iter()
                .flat_map(|v| key.iter().map(|&k| v.column_value(k)))
                .collect();
            let mut returned = Returned::new(selected.len());
            self.batch
                .returning(&sql, &params, Some(T::TABLE_NAME), |row| returned.push(row))?;
            let row_of = returned.by_key::<T>(chunk.iter().map(|v| key_of::<T>(v)), "UPDATE")?;
            for row in row_of {
                fetched.extend(&returned.row(row)[key.len()..]);
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
