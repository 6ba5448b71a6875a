//! SQL text per (table, statement shape), written once per session: a flush of 20,000 rows, or a
//! thousand `get`s and lazy loads, run a handful of shapes many times.

use crate::core::{SqlWriter, Statement};
use rustc_hash::FxHashMap;
use std::rc::Rc;

/// The shape of a statement the session runs again and again with new parameters.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum SqlKind {
    InsertWithKey,
    InsertWithoutKey,
    /// An INSERT leaving out the columns in the bit mask (server defaults left to the
    /// database); whether the key is assigned by the database too.
    InsertOmitting(bool, u128),
    /// An UPDATE of the columns in the bit mask `mask` (setting the `onupdate` columns it leaves
    /// out to their expressions, and returning them with `returning`).
    Update {
        mask: u128,
        returning: bool,
    },
    /// A `SELECT` of the key and the columns in the bit mask of this many rows, by key.
    SelectRows {
        mask: u128,
        rows: usize,
    },
    Delete,
    /// A multi-row INSERT of this many rows (`with_key`: the keys are given), leaving the
    /// columns in the bit mask `omitted` to their server defaults and returning them.
    InsertRows {
        with_key: bool,
        omitted: u128,
        rows: usize,
    },
    /// A multi-row UPDATE of the columns in the bit mask, this many rows.
    UpdateRows {
        mask: u128,
        rows: usize,
    },
    /// A DELETE of this many keys.
    DeleteRows(usize),
    /// A DELETE of the keys in one array parameter (PostgreSQL's `= ANY($1)`), whatever their
    /// number.
    DeleteAny,
    /// `SELECT` every column `WHERE` the primary key `= ?` (`Session::get`).
    SelectByKey,
    /// `SELECT` every column `WHERE` this column `= ?` (lazy loading of a collection).
    SelectWhereEq(&'static str),
}

#[derive(Default)]
pub(crate) struct SqlCache {
    sql: FxHashMap<(&'static str, SqlKind), Rc<str>>,
    /// The shape asked for last: a flush asks for the same one row after row, and comparing two
    /// words is cheaper than hashing and comparing the table's name.
    last: Option<(&'static str, SqlKind, Rc<str>)>,
}

impl SqlCache {
    /// The SQL of this shape, built and written the first time it is asked for.
    pub(crate) fn get(
        &mut self,
        table: &'static str,
        kind: SqlKind,
        build: impl FnOnce() -> Statement,
        writer: &dyn SqlWriter,
    ) -> Rc<str> {
        self.get_text(table, kind, || writer.compile(&build()).sql)
    }

    /// The SQL of this shape, written by `build` the first time it is asked for.
    pub(crate) fn get_text(
        &mut self,
        table: &'static str,
        kind: SqlKind,
        build: impl FnOnce() -> String,
    ) -> Rc<str> {
        if let Some((last_table, last_kind, sql)) = &self.last {
            if std::ptr::eq(*last_table, table) && *last_kind == kind {
                return sql.clone();
            }
        }
        let sql = self
            .sql
            .entry((table, kind))
            .or_insert_with(|| build().into())
            .clone();
        self.last = Some((table, kind, sql.clone()));
        sql
    }
}
