//! The unit of work's statements: INSERT, UPDATE of changed columns, DELETE, each prepared once.

use crate::core::{Expr, Insert, SqlWriter, Statement, Update};
use crate::engine::Conn;
use crate::error::{Error, Result};
use crate::model::{Model, Tracked};
use crate::value::ValueRef;
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::cell::Ref;
use std::rc::Rc;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum SqlKind {
    InsertWithKey,
    InsertWithoutKey,
    /// An UPDATE of the columns in the bit mask.
    Update(u128),
    Delete,
}

/// SQL text per (table, statement shape), so a flush of 20,000 rows writes each shape once.
#[derive(Default)]
pub(crate) struct SqlCache {
    sql: FxHashMap<(&'static str, SqlKind), Rc<str>>,
}

impl SqlCache {
    fn get(
        &mut self,
        table: &'static str,
        kind: SqlKind,
        build: impl FnOnce() -> Statement,
        writer: &dyn SqlWriter,
    ) -> Rc<str> {
        self.sql
            .entry((table, kind))
            .or_insert_with(|| writer.compile(&build()).sql.into())
            .clone()
    }
}

#[doc(hidden)]
pub struct FlushContext<'a, 'c> {
    pub(crate) conn: &'a mut Conn<'c>,
    pub(crate) writer: &'static dyn SqlWriter,
    pub(crate) cache: &'a mut SqlCache,
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
    let table = T::TABLE;
    Expr::Binary {
        left: Box::new(Expr::Column {
            table: None,
            name: table.columns[T::PRIMARY_KEY].name.clone(),
        }),
        op: crate::core::expr::BinOp::Eq,
        right: Box::new(Expr::Placeholder),
    }
}

impl FlushContext<'_, '_> {
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
                Statement::Insert(Insert {
                    table: table.name.clone(),
                    columns,
                    rows: vec![row],
                })
            },
            self.writer,
        );
        let params: Vec<ValueRef<'_>> = (0..T::COLUMN_COUNT)
            .filter(|i| !(assign_key && *i == pk))
            .map(|i| value.column_value(i))
            .collect();
        let id = self.conn.insert(&sql, &params, Some(T::TABLE_NAME))?;
        drop(params);
        drop(value);
        if assign_key {
            obj.value.borrow_mut().set_primary_key(id);
        }
        Ok(())
    }

    /// Writes the columns that differ from the snapshot taken at the first `borrow_mut`.
    pub(crate) fn update<T: Model>(&mut self, obj: &Tracked<T>) -> Result<()> {
        let Some(snapshot) = obj.snapshot.borrow_mut().take() else {
            return Ok(());
        };
        let value = match read(obj) {
            Ok(v) => v,
            Err(e) => {
                *obj.snapshot.borrow_mut() = Some(snapshot);
                return Err(e);
            }
        };
        let mut mask: u128 = 0;
        let mut params = Vec::new();
        for i in 0..T::COLUMN_COUNT.min(128) {
            let now = value.column_value(i);
            if now != snapshot.column_value(i) {
                mask |= 1 << i;
                params.push(now);
            }
        }
        if mask == 0 {
            return Ok(());
        }
        params.push(snapshot.column_value(T::PRIMARY_KEY));
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
        let result = self.conn.execute(&sql, &params, Some(T::TABLE_NAME));
        drop(params);
        drop(value);
        if let Err(e) = result {
            *obj.snapshot.borrow_mut() = Some(snapshot);
            return Err(e);
        }
        Ok(())
    }

    pub(crate) fn delete<T: Model>(&mut self, obj: &Tracked<T>) -> Result<()> {
        let value = read(obj)?;
        let snapshot = obj.snapshot.borrow();
        // Delete the row as it is in the database, even if its key was changed in memory.
        let key = snapshot
            .as_ref()
            .unwrap_or(&*value)
            .column_value(T::PRIMARY_KEY);
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
        self.conn.execute(&sql, &[key], Some(T::TABLE_NAME))?;
        Ok(())
    }
}
