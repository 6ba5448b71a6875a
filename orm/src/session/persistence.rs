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

impl FlushContext<'_> {
    pub(crate) fn insert<T: Model>(&mut self, obj: &Tracked<T>) -> Result<()> {
        let value = read(obj)?;
        let table = T::TABLE;
        let pk = T::PRIMARY_KEY;
        // An integer key of 0 (or NULL) is not assigned yet: SQLite picks the rowid.
        let assign_key = table.columns[pk].autoincrement
            && matches!(
                value.column_value(pk),
                ValueRef::Integer(0) | ValueRef::Null
            );
        let kind = if assign_key {
            SqlKind::InsertWithoutKey
        } else {
            SqlKind::InsertWithKey
        };
        let sql = self.cache.get(
            T::TABLE_NAME,
            kind,
            || {
                let columns: Vec<Cow<'static, str>> = table
                    .columns
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !(assign_key && *i == pk))
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
        for i in (0..T::COLUMN_COUNT).filter(|i| !(assign_key && *i == pk)) {
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
            if now != snapshot.column_value(i) {
                mask |= 1 << i;
                params.push(now);
            }
        }
        if mask == 0 {
            return Ok(None);
        }
        for &i in T::PRIMARY_KEYS {
            params.push(snapshot.column_value(i));
        }
        let table = T::TABLE;
        let sql = self.cache.get(
            T::TABLE_NAME,
            SqlKind::Update(mask),
            || {
                let set = table
                    .columns
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(_, c)| (c.name.clone(), Expr::Placeholder))
                    .collect();
                Statement::Update(Update {
                    table: table.name.clone(),
                    set,
                    filter: Some(key_where::<T>()),
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
        let table = T::TABLE;
        let sql = self.cache.get(
            T::TABLE_NAME,
            SqlKind::Delete,
            || {
                Statement::Delete(crate::core::Delete {
                    table: table.name.clone(),
                    filter: Some(key_where::<T>()),
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
