//! The identity map: one object per (table, primary key) in a session.

use crate::model::{AnyTracked, Key};
use rustc_hash::FxHashMap;
use std::collections::hash_map::Entry;
use std::rc::Rc;

/// One table's objects by primary key. Integer keys (nearly every table's) have a map of
/// their own, keyed by the integer: an entry is 24 bytes instead of 40, hashing is one
/// multiplication and comparing one instruction, where a [`Key`] hashes and compares its
/// variant first. Text and composite keys go in `others`.
#[derive(Default)]
struct Objects {
    ints: FxHashMap<i64, Rc<dyn AnyTracked>>,
    others: FxHashMap<Key, Rc<dyn AnyTracked>>,
}

impl Objects {
    fn len(&self) -> usize {
        self.ints.len() + self.others.len()
    }

    fn values(&self) -> impl Iterator<Item = &Rc<dyn AnyTracked>> {
        self.ints.values().chain(self.others.values())
    }
}

/// A key's place in the identity map: its object, or the slot that receives a new one.
pub(crate) enum Slot<'m> {
    Occupied(&'m Rc<dyn AnyTracked>),
    Vacant(Vacant<'m>),
}

/// The empty slot of a key (see [`Slot`]).
pub(crate) enum Vacant<'m> {
    Int(std::collections::hash_map::VacantEntry<'m, i64, Rc<dyn AnyTracked>>),
    Other(std::collections::hash_map::VacantEntry<'m, Key, Rc<dyn AnyTracked>>),
}

impl Vacant<'_> {
    pub(crate) fn insert(self, obj: Rc<dyn AnyTracked>) {
        match self {
            Vacant::Int(slot) => {
                slot.insert(obj);
            }
            Vacant::Other(slot) => {
                slot.insert(obj);
            }
        }
    }
}

/// Table names come from the models' constants, so the same name is nearly always the same
/// pointer: compared first, as that is one instruction where comparing the text is a call.
fn same_name(a: &str, b: &str) -> bool {
    std::ptr::eq(a, b) || a == b
}

/// One pair of hash maps per table, found by a short search over the session's few tables:
/// entries are the key and the object only (not the table name in every key), and lookups
/// hash the key alone.
#[derive(Default)]
pub(crate) struct IdentityMap {
    tables: Vec<(&'static str, Objects)>,
}

impl IdentityMap {
    fn table(&self, table: &str) -> Option<&Objects> {
        self.tables
            .iter()
            .find(|(name, _)| same_name(name, table))
            .map(|(_, map)| map)
    }

    fn table_mut(&mut self, table: &'static str) -> &mut Objects {
        let at = match self
            .tables
            .iter()
            .position(|(name, _)| same_name(name, table))
        {
            Some(at) => at,
            None => {
                self.tables.push((table, Objects::default()));
                self.tables.len() - 1
            }
        };
        &mut self.tables[at].1
    }

    pub(crate) fn get(&self, table: &str, key: &Key) -> Option<&Rc<dyn AnyTracked>> {
        let objects = self.table(table)?;
        match key {
            Key::Int(i) => objects.ints.get(i),
            other => objects.others.get(other),
        }
    }

    /// The object of `key`, or the slot for it: one hash lookup either way.
    pub(crate) fn entry(&mut self, table: &'static str, key: Key) -> Slot<'_> {
        let objects = self.table_mut(table);
        match key {
            Key::Int(i) => match objects.ints.entry(i) {
                Entry::Occupied(o) => Slot::Occupied(o.into_mut()),
                Entry::Vacant(v) => Slot::Vacant(Vacant::Int(v)),
            },
            other => match objects.others.entry(other) {
                Entry::Occupied(o) => Slot::Occupied(o.into_mut()),
                Entry::Vacant(v) => Slot::Vacant(Vacant::Other(v)),
            },
        }
    }

    pub(crate) fn insert(&mut self, table: &'static str, key: Key, obj: Rc<dyn AnyTracked>) {
        let objects = self.table_mut(table);
        match key {
            Key::Int(i) => objects.ints.insert(i, obj),
            other => objects.others.insert(other, obj),
        };
    }

    pub(crate) fn remove(&mut self, table: &'static str, key: &Key) {
        let objects = self.table_mut(table);
        match key {
            Key::Int(i) => objects.ints.remove(i),
            other => objects.others.remove(other),
        };
    }

    /// Room for `additional` more objects of `table` (keyed as `example` is).
    pub(crate) fn reserve(&mut self, table: &'static str, example: &Key, additional: usize) {
        let objects = self.table_mut(table);
        match example {
            Key::Int(_) => objects.ints.reserve(additional),
            _ => objects.others.reserve(additional),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.tables.iter().map(|(_, map)| map.len()).sum()
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &Rc<dyn AnyTracked>> {
        self.tables.iter().flat_map(|(_, map)| map.values())
    }

    /// Empties the map, handing back its objects in the order they lie in memory. Visiting (or
    /// freeing) 100,000 objects in hash order jumps all over the heap, and freeing them so makes
    /// the allocator merge free blocks everywhere: in address order it is about three times
    /// faster. Below `SORT_FROM` objects they stay in the CPU's caches and sorting does not pay.
    pub(crate) fn drain_in_memory_order(&mut self) -> Vec<Rc<dyn AnyTracked>> {
        /// Measured on the standard workload's machine (2 shared cores, 32 MiB of L3, `perf
        /// stat` task-clock of 60 sessions each): at 20,000 users (the workload's "load all")
        /// sorting saves about 2 ms of a 10 ms step; at 1,000 to 6,000 objects ("get by key",
        /// the relationship steps) it is even within the noise, so it starts between the two.
        const SORT_FROM: usize = 10_000;
        let mut objects: Vec<Rc<dyn AnyTracked>> = Vec::with_capacity(self.len());
        for (_, map) in self.tables.drain(..) {
            objects.extend(map.ints.into_values());
            objects.extend(map.others.into_values());
        }
        if objects.len() >= SORT_FROM {
            objects.sort_unstable_by_key(|obj| Rc::as_ptr(obj) as *const () as usize);
        }
        objects
    }
}
