//! The unit of work (SQLAlchemy's `unitofwork.py`): what a flush writes and in which order —
//! inserts parents first, foreign keys synced from parents, updates of changed columns,
//! association rows, deletes children first — and how a failed flush puts the work back. The
//! statements themselves are in `persistence.rs`, the per-relationship rules in
//! `relationship/dependency.rs`.

use super::{address, FlushContext, SessionCell, SessionState};
use crate::engine::Conn;
use crate::error::Result;
use crate::model::{AnyTracked, ObjectState};
use rustc_hash::{FxHashMap, FxHashSet};
use std::rc::Rc;

impl SessionState {
    pub(super) fn flush_work(&mut self, conn: &mut Conn<'_>, cell: &SessionCell) -> Result<()> {
        let pending = std::mem::take(&mut self.pending);
        let deleted = std::mem::take(&mut self.deleted);
        self.deleted_seen.clear();
        let writer = self.engine.writer();
        // How many objects of `order` were written, rolled back to pending if the flush fails.
        let mut done = 0;
        let mut outcome = Ok(());
        let mut ctx = FlushContext {
            batch: conn.batch(),
            writer,
            cache: &mut self.sql_cache,
            transaction: self.transaction_number,
        };
        let order = crate::relationship::insert_order(&pending);
        // The objects whose foreign keys are set from a parent at this flush, by address.
        let mut linked: FxHashMap<usize, Vec<usize>> = FxHashMap::default();
        for (i, link) in self.links.iter().enumerate() {
            linked.entry(address(&link.child)).or_default().push(i);
        }
        let mut start = 0;
        while start < order.len() {
            // A run: objects of one table (dependency order puts tables in runs), none linked to
            // a parent that is still pending (a row of the same table earlier in the run: its
            // key is not known before the run is written).
            let table = order[start].table_name();
            let mut end = start + 1;
            while end < order.len()
                && order[end].table_name() == table
                && !linked.get(&address(&order[end])).is_some_and(|links| {
                    links.iter().any(|l| {
                        self.links[*l]
                            .parent
                            .as_ref()
                            .is_some_and(|p| p.state() == ObjectState::Pending)
                    })
                })
            {
                end += 1;
            }
            let run = &order[start..end];
            // A child's foreign key comes from its parent, inserted before (parents first).
            let mut step = Ok(());
            if !linked.is_empty() {
                for obj in run {
                    if let Some(links) = linked.get(&address(obj)) {
                        step = crate::relationship::sync_links(
                            links.iter().map(|l| &self.links[*l]),
                            obj,
                        );
                        if step.is_err() {
                            break;
                        }
                    }
                }
            }
            if let Err(e) = step.and_then(|_| run[0].insert_all(run, &mut ctx)) {
                outcome = Err(e);
                break;
            }
            for obj in run {
                obj.set_state(ObjectState::Persistent);
            }
            done = end;
            start = end;
        }
        drop(ctx);
        if outcome.is_ok() {
            outcome = crate::relationship::sync_persistent_links(self, cell);
        }
        let changed = std::mem::take(&mut *cell.changed.borrow_mut());
        if outcome.is_ok() {
            outcome = self.write_updates(conn, &changed);
        }
        if outcome.is_ok() {
            outcome = crate::relationship::write_associations(self, conn);
        }
        if outcome.is_ok() && !deleted.is_empty() {
            outcome = crate::relationship::clear_foreign_keys(self, conn, &deleted);
        }
        if outcome.is_ok() && !deleted.is_empty() {
            outcome = crate::relationship::delete_association_rows(self, conn, &deleted);
        }
        if outcome.is_ok() {
            let mut ctx = FlushContext {
                batch: conn.batch(),
                writer,
                cache: &mut self.sql_cache,
                transaction: self.transaction_number,
            };
            let order = crate::relationship::delete_order(&deleted);
            for run in order.chunk_by(|a, b| a.table_name() == b.table_name()) {
                if let Err(e) = run[0].delete_all(run, &mut ctx) {
                    outcome = Err(e);
                    break;
                }
            }
        }
        if let Err(e) = outcome {
            // Put the work back so the caller's rollback detaches every object it touched.
            for obj in &order[..done] {
                obj.set_state(ObjectState::Pending);
            }
            drop(order);
            self.pending = pending;
            self.deleted_seen = deleted.iter().map(address).collect();
            self.deleted = deleted;
            for obj in changed {
                cell.mark_changed(obj);
            }
            return Err(e);
        }
        self.links.clear();
        // In a pass of its own: interleaved with the INSERTs, the map's scattered writes slow
        // SQLite down more than this second visit to each object costs (measured: 10% on 100,000).
        if let (Some(first), Some(last)) = (order.first(), order.last()) {
            if first.table_name() == last.table_name() {
                // All of one table (ordered by dependency, so tables come in runs): room for
                // them at once, not grown step by step.
                if let Some(key) = first.key() {
                    self.identity.reserve(first.table_name(), &key, order.len());
                }
            }
        }
        for obj in order.iter() {
            if let Some(key) = obj.key() {
                self.identity.insert(obj.table_name(), key, obj.clone());
            }
        }
        drop(order);
        for obj in &deleted {
            if let Some(key) = obj.key() {
                self.identity.remove(obj.table_name(), &key);
            }
            obj.detach(false);
            obj.set_state(ObjectState::Deleted);
        }
        self.removed.extend(deleted);
        Ok(())
    }

    /// The UPDATEs of the flush: changed persistent objects grouped by table and changed columns
    /// (in the order each group first appears), each group written by `update_all`.
    fn write_updates(&mut self, conn: &mut Conn<'_>, changed: &[Rc<dyn AnyTracked>]) -> Result<()> {
        let mut groups: Vec<(u128, Vec<Rc<dyn AnyTracked>>)> = Vec::new();
        let mut index: FxHashMap<(&'static str, u128), usize> = FxHashMap::default();
        let mut seen: FxHashSet<usize> = FxHashSet::default();
        let mut last: Option<((&'static str, u128), usize)> = None;
        for obj in changed {
            if obj.state() != ObjectState::Persistent || !seen.insert(address(obj)) {
                continue;
            }
            let mask = obj.changed_columns()?;
            if mask == 0 {
                // Changed and changed back: nothing to write, nothing to restore.
                continue;
            }
            let shape = (obj.table_name(), mask);
            // Changes usually come in runs of one shape (a loop over loaded objects): the
            // group of the previous object is tried before the map.
            let slot = match last {
                Some((previous, slot)) if previous == shape => slot,
                _ => *index.entry(shape).or_insert_with(|| {
                    groups.push((mask, Vec::new()));
                    groups.len() - 1
                }),
            };
            last = Some((shape, slot));
            groups[slot].1.push(obj.clone());
        }
        let mut ctx = FlushContext {
            batch: conn.batch(),
            writer: self.engine.writer(),
            cache: &mut self.sql_cache,
            transaction: self.transaction_number,
        };
        for (mask, group) in &groups {
            let befores = group[0].update_all(group, *mask, &mut ctx)?;
            self.updated.extend(group.iter().cloned().zip(befores));
        }
        Ok(())
    }
}
