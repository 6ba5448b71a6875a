//! What relationships add to a flush (SQLAlchemy's `dependency.py`): foreign keys set from
//! parents, association rows (net changes per pair, and those of deleted objects), delete
//! cascades, and the order of inserts and deletes between dependent tables.

use super::*;
use crate::core::{Expr, Table};
use crate::error::Result;
use crate::model::{AnyTracked, ObjectState};
use crate::session::{Session, SessionCell, SessionState};
use crate::value::{Value, ValueRef};
use std::borrow::Cow;
use std::rc::Rc;

/// A foreign key to set at flush from a parent's key (known only once the parent is inserted).
/// One per foreign key column: a composite key's parent makes one link per key column.
pub(crate) struct Link {
    pub(crate) child: Rc<dyn AnyTracked>,
    /// The child's foreign key column.
    pub(crate) column: usize,
    pub(crate) parent: Option<Rc<dyn AnyTracked>>,
    /// The parent's key column whose value `column` takes.
    pub(crate) parent_column: usize,
}

/// An association row to insert or delete at flush.
pub(crate) struct Association {
    pub(crate) table: &'static str,
    pub(crate) local: &'static str,
    pub(crate) remote: &'static str,
    pub(crate) left: Rc<dyn AnyTracked>,
    pub(crate) right: Rc<dyn AnyTracked>,
    pub(crate) add: bool,
}

/// Writes the foreign keys of `links`, those whose child is `obj` (just before it is inserted).
pub(crate) fn sync_links<'l>(
    links: impl Iterator<Item = &'l Link>,
    obj: &Rc<dyn AnyTracked>,
) -> Result<()> {
    for link in links {
        let value = match &link.parent {
            Some(p) => p.column_value(link.parent_column),
            None => Value::Null,
        };
        obj.set_column_value(link.column, value.as_ref(), false)?;
    }
    Ok(())
}

/// After inserts: links of rows already in the database become UPDATEs (tracked changes).
pub(crate) fn sync_persistent_links(state: &SessionState, cell: &SessionCell) -> Result<()> {
    for link in &state.links {
        if link.child.state() == ObjectState::Persistent {
            let value = match &link.parent {
                Some(p) => p.column_value(link.parent_column),
                None => Value::Null,
            };
            if link
                .child
                .set_column_value(link.column, value.as_ref(), true)?
            {
                cell.mark_changed(link.child.clone());
            }
        }
    }
    Ok(())
}

/// Inserts and deletes association rows: the net change of each pair since the last flush, as
/// SQLAlchemy writes it. A pair's first change says what the database holds (a remove: the row
/// is there; an add: it is not), its last what is wanted: when they differ, nothing is written
/// (remove then append again leaves the row alone), else the last change is.
pub(crate) fn write_associations(
    state: &mut SessionState,
    conn: &mut crate::engine::Conn<'_>,
) -> Result<()> {
    let changes = std::mem::take(&mut state.associations);
    let writer = state.engine.writer();
    // One pair whichever side linked it: `student.courses.append(math)` and
    // `math.students.append(student)` name the same association row, mirrored.
    let same_pair = |a: &Association, b: &Association| {
        a.table == b.table
            && ((a.local == b.local
                && Rc::ptr_eq(&a.left, &b.left)
                && Rc::ptr_eq(&a.right, &b.right))
                || (a.local == b.remote
                    && Rc::ptr_eq(&a.left, &b.right)
                    && Rc::ptr_eq(&a.right, &b.left)))
    };
    for (i, change) in changes.iter().enumerate() {
        if changes[i + 1..]
            .iter()
            .any(|later| same_pair(later, change))
        {
            continue;
        }
        let first = changes[..i]
            .iter()
            .find(|earlier| same_pair(earlier, change))
            .unwrap_or(change);
        if first.add != change.add {
            continue;
        }
        let left = change.left.column_value(change.left.primary_key_index());
        let right = change.right.column_value(change.right.primary_key_index());
        let stmt = if change.add {
            crate::core::Statement::Insert(crate::core::Insert {
                table: Cow::Borrowed(change.table),
                columns: vec![Cow::Borrowed(change.local), Cow::Borrowed(change.remote)],
                rows: vec![vec![Expr::Value(left), Expr::Value(right)]],
                returning: None,
            })
        } else {
            crate::core::Statement::Delete(crate::core::Delete {
                table: Cow::Borrowed(change.table),
                filter: Some(Expr::And(vec![
                    eq(Expr::column(change.table, change.local), Expr::Value(left)),
                    eq(
                        Expr::column(change.table, change.remote),
                        Expr::Value(right),
                    ),
                ])),
            })
        };
        let compiled = writer.compile(&stmt);
        let params: Vec<ValueRef<'_>> = compiled.params.iter().map(Value::as_ref).collect();
        conn.execute(&compiled.sql, &params, Some(change.table))?;
    }
    Ok(())
}

/// Before objects are deleted, the association rows that name them (SQLAlchemy deletes a
/// deleted object's rows of every many-to-many relationship it declares): one `DELETE … WHERE
/// key IN (…)` per association table and chunk of keys.
pub(crate) fn delete_association_rows(
    state: &SessionState,
    conn: &mut crate::engine::Conn<'_>,
    deleted: &[Rc<dyn AnyTracked>],
) -> Result<()> {
    let writer = state.engine.writer();
    let mut by_table: Vec<((&'static str, &'static str), Vec<Value>)> = Vec::new();
    for obj in deleted {
        for rel in obj.relationships() {
            let Some(secondary) = rel.loader.secondary() else {
                continue;
            };
            let key = obj.column_value(obj.primary_key_index());
            match by_table.iter_mut().find(|(s, _)| *s == secondary) {
                Some((_, keys)) => keys.push(key),
                None => by_table.push((secondary, vec![key])),
            }
        }
    }
    for ((table, local), keys) in by_table {
        for chunk in keys.chunks(super::loading::SELECT_IN_CHUNK) {
            let stmt = crate::core::Statement::Delete(crate::core::Delete {
                table: Cow::Borrowed(table),
                filter: Some(in_list(Expr::column(table, local), chunk.to_vec())),
            });
            let compiled = writer.compile(&stmt);
            let params: Vec<ValueRef<'_>> = compiled.params.iter().map(Value::as_ref).collect();
            conn.execute(&compiled.sql, &params, Some(table))?;
        }
    }
    Ok(())
}

/// Whether a relationship's `cascade` deletes its objects with their parent.
pub(crate) fn cascades_delete(cascade: Option<&str>) -> bool {
    cascade.is_some_and(|c| c.contains("delete") || c.contains("all"))
}

/// Before objects are deleted, the foreign keys that still point at them from the rows of
/// their one-to-many relationships without a `delete` cascade are set to NULL: SQLAlchemy's
/// default (`OneToManyDP.process_deletes`, without `passive_deletes`), so the children stay,
/// pointing at no parent, and the database's foreign key does not refuse the DELETE. Here one
/// `UPDATE … SET fk = NULL WHERE fk IN (…)` per relationship and chunk of keys, written after
/// the flush's own UPDATEs (a child moved to another parent no longer matches), where
/// SQLAlchemy loads each parent's collection and updates each child; see
/// `Loader::clear_foreign_keys` for the foreign keys left to the database.
pub(crate) fn clear_foreign_keys(
    state: &SessionState,
    conn: &mut crate::engine::Conn<'_>,
    deleted: &[Rc<dyn AnyTracked>],
) -> Result<()> {
    let writer = state.engine.writer();
    // By table: the relationships are asked of one object of each (they are the model's).
    let mut by_table: Vec<(&'static str, Vec<Rc<dyn AnyTracked>>)> = Vec::new();
    for obj in deleted {
        match by_table.iter_mut().find(|(t, _)| *t == obj.table_name()) {
            Some((_, objects)) => objects.push(obj.clone()),
            None => by_table.push((obj.table_name(), vec![obj.clone()])),
        }
    }
    for (_, parents) in by_table {
        for rel in parents[0].relationships() {
            for stmt in rel.loader.clear_foreign_keys(&parents)? {
                let compiled = writer.compile(&stmt);
                let params: Vec<ValueRef<'_>> = compiled.params.iter().map(Value::as_ref).collect();
                conn.execute(&compiled.sql, &params, Some(rel.target))?;
            }
        }
    }
    Ok(())
}

/// The objects a `delete` cascade reaches from `obj`, depth first, children before parents.
pub(crate) fn cascade_targets(
    session: &Session,
    obj: &Rc<dyn AnyTracked>,
    out: &mut Vec<Rc<dyn AnyTracked>>,
) -> Result<()> {
    for rel in obj.relationships() {
        if !cascades_delete(rel.cascade) {
            continue;
        }
        for child in rel.loader.children(session, obj)? {
            if !out.iter().any(|o| Rc::ptr_eq(o, &child)) {
                cascade_targets(session, &child, out)?;
                out.push(child);
            }
        }
    }
    Ok(())
}

fn dependency_depth(table: &Table, all: &[Table]) -> usize {
    let mut depth = 0;
    let mut frontier: Vec<&Table> = vec![table];
    let mut seen: Vec<&str> = vec![&table.name];
    while !frontier.is_empty() && depth < all.len() {
        let mut next = Vec::new();
        for t in frontier {
            for referenced in t.referenced_tables() {
                if let Some(parent) = all.iter().find(|p| p.name == referenced) {
                    if !seen.contains(&parent.name.as_ref()) {
                        seen.push(&parent.name);
                        next.push(parent);
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

/// The objects in dependency order; the slice itself when they all belong to one table (no copy:
/// copying the handles of 100,000 objects touches each one, far apart in memory, once more).
fn by_dependency(
    objects: &[Rc<dyn AnyTracked>],
    parents_first: bool,
) -> Cow<'_, [Rc<dyn AnyTracked>]> {
    let mut tables: Vec<Table> = Vec::new();
    for o in objects {
        if !tables.iter().any(|t| t.name == o.table_name()) {
            tables.push(o.table());
        }
    }
    if tables.len() < 2 {
        return Cow::Borrowed(objects);
    }
    let depth: Vec<(String, usize)> = tables
        .iter()
        .map(|t| (t.name.to_string(), dependency_depth(t, &tables)))
        .collect();
    let depth_of = |name: &str| depth.iter().find(|(n, _)| n == name).map_or(0, |(_, d)| *d);
    let depths: Vec<usize> = objects.iter().map(|o| depth_of(o.table_name())).collect();
    let deepest = depths.iter().copied().max().unwrap_or(0);
    // One pass per depth (there are no more depths than tables) rather than a sort: it keeps
    // the order of `add` within a table, and costs no comparisons for thousands of objects.
    let mut levels: Vec<usize> = (0..=deepest).collect();
    if !parents_first {
        levels.reverse();
    }
    let mut sorted = Vec::with_capacity(objects.len());
    for level in levels {
        sorted.extend(
            objects
                .iter()
                .zip(&depths)
                .filter(|(_, d)| **d == level)
                .map(|(o, _)| o.clone()),
        );
    }
    Cow::Owned(sorted)
}

/// Parents before children, so foreign keys point at rows that exist.
pub(crate) fn insert_order(pending: &[Rc<dyn AnyTracked>]) -> Cow<'_, [Rc<dyn AnyTracked>]> {
    by_dependency(pending, true)
}

/// Children before parents.
pub(crate) fn delete_order(deleted: &[Rc<dyn AnyTracked>]) -> Cow<'_, [Rc<dyn AnyTracked>]> {
    by_dependency(deleted, false)
}
