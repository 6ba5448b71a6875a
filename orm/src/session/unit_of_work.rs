//! The unit of work (SQLAlchemy's `unitofwork.py`): what a flush writes and in which order —
//! inserts parents first, foreign keys synced from parents, updates of changed columns,
//! association rows, deletes children first — and how a failed flush puts the work back. The
//! statements themselves are in `persistence.rs`, the per-relationship rules in
//! `relationship/dependency.rs`.

use super::{address, FlushContext, SessionCell, SessionState};
use crate::engine::Conn;
use crate::error::Result;
use crate::model::ObjectState;

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
        for obj in order.iter() {
            // A child's foreign key comes from its parent, inserted just before (parents first).
            let step = crate::relationship::sync_links_of(&self.links, obj)
                .and_then(|_| obj.insert(&mut ctx));
            if let Err(e) = step {
                outcome = Err(e);
                break;
            }
            obj.set_state(ObjectState::Persistent);
            done += 1;
        }
        drop(ctx);
        if outcome.is_ok() {
            outcome = crate::relationship::sync_persistent_links(self, cell);
        }
        let changed = std::mem::take(&mut *cell.changed.borrow_mut());
        if outcome.is_ok() {
            let mut ctx = FlushContext {
                batch: conn.batch(),
                writer,
                cache: &mut self.sql_cache,
                transaction: self.transaction_number,
            };
            for obj in &changed {
                if obj.state() == ObjectState::Persistent {
                    match obj.update(&mut ctx) {
                        Ok(Some(before)) => self.updated.push((obj.clone(), before)),
                        Ok(None) => {}
                        Err(e) => {
                            outcome = Err(e);
                            break;
                        }
                    }
                }
            }
        }
        if outcome.is_ok() {
            outcome = crate::relationship::write_associations(self, conn);
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
            for obj in crate::relationship::delete_order(&deleted).iter() {
                if let Err(e) = obj.delete(&mut ctx) {
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
                self.identity.reserve(first.table_name(), order.len());
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
}
