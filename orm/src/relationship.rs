//! Relationships between models: navigation, loading strategies, cascades and flush ordering.

use crate::core::{Select, Table};
use crate::error::Result;
use crate::model::{AnyTracked, Model, Obj};
use crate::query::LoadContext;
use crate::session::{Session, SessionCell, SessionState};
use crate::engine::RowReader;
use std::rc::Rc;

/// A relationship as declared on a model.
#[derive(Debug, Clone)]
pub struct RelationshipInfo {
    pub name: &'static str,
    pub target: &'static str,
}

/// Related objects loaded for one object, by relationship name.
#[derive(Default)]
pub(crate) struct Loaded {}

impl Loaded {
    pub(crate) fn clear(&mut self) {}
}

/// How to load a relationship in a query (`joinedload`, `selectinload`).
#[derive(Clone)]
pub struct LoadOption {}

impl LoadOption {
    pub fn is_joined(&self) -> bool {
        false
    }
}

pub(crate) fn cascade_delete(_state: &mut SessionState, _cell: &SessionCell, _obj: &Rc<dyn AnyTracked>) -> Result<()> {
    Ok(())
}

pub(crate) fn sync_before_flush(_state: &mut SessionState, _cell: &SessionCell) -> Result<()> {
    Ok(())
}

fn dependency_depth(table: &Table, all: &[Table]) -> usize {
    let mut depth = 0;
    let mut frontier: Vec<&Table> = vec![table];
    let mut seen: Vec<&str> = vec![&table.name];
    while !frontier.is_empty() && depth < all.len() {
        let mut next = Vec::new();
        for t in frontier {
            for c in t.columns.iter() {
                if let Some(fk) = &c.foreign_key {
                    if let Some(parent) = all.iter().find(|p| p.name == fk.table) {
                        if !seen.contains(&parent.name.as_ref()) {
                            seen.push(&parent.name);
                            next.push(parent);
                        }
                    }
                }
            }
        }
        if next.is_empty() {
            break;
        }
        depth += 1;
        frontier = next;
    }
    depth
}

fn by_dependency(objects: &[Rc<dyn AnyTracked>], parents_first: bool) -> Vec<Rc<dyn AnyTracked>> {
    let mut tables: Vec<Table> = Vec::new();
    for o in objects {
        if !tables.iter().any(|t| t.name == o.table_name()) {
            tables.push(o.table());
        }
    }
    if tables.len() < 2 {
        return objects.to_vec();
    }
    let depth: Vec<(String, usize)> = tables.iter().map(|t| (t.name.to_string(), dependency_depth(t, &tables))).collect();
    let depth_of = |name: &str| depth.iter().find(|(n, _)| n == name).map_or(0, |(_, d)| *d);
    let mut sorted = objects.to_vec();
    // A stable sort keeps the order of `add` within one table.
    if parents_first {
        sorted.sort_by_key(|o| depth_of(o.table_name()));
    } else {
        sorted.sort_by_key(|o| std::cmp::Reverse(depth_of(o.table_name())));
    }
    sorted
}

/// Parents before children, so foreign keys point at rows that exist.
pub(crate) fn insert_order(pending: &[Rc<dyn AnyTracked>]) -> Vec<Rc<dyn AnyTracked>> {
    by_dependency(pending, true)
}

/// Children before parents.
pub(crate) fn delete_order(deleted: &[Rc<dyn AnyTracked>]) -> Vec<Rc<dyn AnyTracked>> {
    by_dependency(deleted, false)
}

pub(crate) fn eager_load<T: Model>(_session: &Session, _rows: &[Obj<T>], _loads: &[LoadOption]) -> Result<()> {
    Ok(())
}

pub(crate) fn add_joined_loads(_stmt: &mut Select, _loads: &[LoadOption]) {}

pub(crate) fn decode_joined_loads(_ctx: &mut LoadContext<'_>, _row: &mut RowReader<'_>, _loads: &[LoadOption]) -> Result<()> {
    Ok(())
}

/// Keeps the first occurrence of each object (joined rows repeat the parent).
pub(crate) fn unique_rows<R>(rows: Vec<R>) -> Vec<R> {
    rows
}
