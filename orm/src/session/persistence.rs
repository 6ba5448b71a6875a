//! The unit of work's statements (SQLAlchemy's `persistence.py`): INSERT, UPDATE of changed
//! columns, DELETE, each prepared once; an UPDATE or DELETE that matches no row is `StaleData`.

use super::sql_cache::{SqlCache, SqlKind};
use crate::core::{Expr, Insert, SqlWriter, Statement, Update};
use crate::engine::Batch;
use crate::error::{Error, Result};
use crate::model::{Model, Tracked};
use crate::value::ValueRef;
use std::borrow::Cow;
use std::cell::Ref;

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

/// `WHERE` every primary key column `= ?` (the full key of a composite key).
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

impl FlushContext<'_> {
    pub(crate) fn insert<T: Model>(&mut self, obj: &Tracked<T>) -> Result<()> {
        if let Some(version) = T::VERSION_ID {
            // A new row starts at version 1 (SQLAlchemy's first version id).
            let unset = matches!(
                read(obj)?.column_value(version),
                ValueRef::Integer(0) | ValueRef::Null
            );
            if unset {
                let mut value = obj.value.try_borrow_mut().map_err(|_| busy::<T>())?;
                crate::model::set_field::<T>(&mut value, version, ValueRef::Integer(1))?;
            }
        }
        let value = read(obj)?;
        let table = T::TABLE;
        let pk = T::PRIMARY_KEY;
        // An integer key of 0 (or NULL) is not assigned yet: SQLite picks the rowid.
        let assign_key = table.columns[pk].autoincrement
            && matches!(
                value.column_value(pk),
                ValueRef::Integer(0) | ValueRef::Null
            );
        // A column with a server default left unset (NULL) is left out, so that the database
        // fills it; it is read back after the INSERT (SQLAlchemy's `eager_defaults`).
        let omitted = server_defaulted::<T>(&value);
        let kind = match (assign_key, omitted) {
            (true, 0) => SqlKind::InsertWithoutKey,
            (false, 0) => SqlKind::InsertWithKey,
            (assign_key, omitted) => SqlKind::InsertOmitting(assign_key, omitted),
        };
        let written = |i: usize| !(bit(omitted, i) || assign_key && i == pk);
        let sql = self.cache.get(
            T::TABLE_NAME,
            kind,
            || {
                let columns: Vec<Cow<'static, str>> = table
                    .columns
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| written(*i))
                    .map(|(_, c)| c.name.clone())
                    .collect();
                let row = vec![Expr::Placeholder; columns.len()];
                let returning = (assign_key && self.writer.returns_generated_keys())
                    .then(|| table.columns[pk].name.clone());
                Statement::Insert(Insert {
                    table: table.name.clone(),
                    columns,
                    rows: vec![row],
                    returning,
                })
            },
            self.writer,
        );
        let mut params = Params::new();
        for i in (0..T::COLUMN_COUNT).filter(|i| written(*i)) {
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
        if omitted != 0 {
            self.read_back(obj, omitted)?;
        }
        obj.inserted_in.set(self.transaction);
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

    /// Writes the columns that differ from the snapshot taken at the first `borrow_mut`, and
    /// returns that snapshot (what a rollback restores) when it wrote them.
    pub(crate) fn update<T: Model>(&mut self, obj: &Tracked<T>) -> Result<Option<Box<T>>> {
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
        let versions = match T::VERSION_ID {
            Some(v) => match snapshot.column_value(v) {
                ValueRef::Integer(old) => Ok(Some((v, old))),
                other => Err((v, other.describe())),
            },
            None => Ok(None),
        };
        let versions = match versions {
            Ok(versions) => versions,
            Err((v, found)) => {
                drop(params);
                drop(value);
                *obj.snapshot.borrow_mut() = Some(snapshot);
                return Err(Error::InvalidRequest(format!(
                    "the version counter {}.{} holds {found}, not a number: it is set at insert \
                     and counted by every update",
                    T::TABLE_NAME,
                    T::TABLE.columns[v].name,
                )));
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
            .and_then(|matched| expect_one::<T>("UPDATE", matched));
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

    pub(crate) fn delete<T: Model>(&mut self, obj: &Tracked<T>) -> Result<()> {
        let value = read(obj)?;
        let snapshot = obj.snapshot.borrow();
        // Delete the row as it is in the database, even if its key was changed in memory.
        let row = snapshot.as_deref().unwrap_or(&*value);
        let mut key = Params::new();
        for &i in T::PRIMARY_KEYS {
            key.push(row.column_value(i));
        }
        if let Some(v) = T::VERSION_ID {
            key.push(row.column_value(v));
        }
        let table = T::TABLE;
        let sql = self.cache.get(
            T::TABLE_NAME,
            SqlKind::Delete,
            || {
                Statement::Delete(crate::core::Delete {
                    table: table.name.clone(),
                    filter: Some(versioned_where::<T>()),
                })
            },
            self.writer,
        );
        let matched = self
            .batch
            .execute(&sql, key.as_slice(), Some(T::TABLE_NAME))?;
        expect_one::<T>("DELETE", matched)
    }
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

/// A statement of the unit of work meant for one row: matching none means another session
/// deleted the row or changed its key (SQLAlchemy's `StaleDataError`).
fn expect_one<T: Model>(statement: &'static str, matched: usize) -> Result<()> {
    if matched == 1 {
        return Ok(());
    }
    Err(Error::StaleData {
        statement,
        table: T::TABLE_NAME.to_string(),
        expected: 1,
        matched,
    })
}
