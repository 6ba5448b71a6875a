//! Loading strategies: lazy loads through `related`, and the eager `joinedload` / `selectinload`
//! options, behind one type-erased `Loader` per relationship.

use super::*;
use crate::core::{Expr, FromItem, Join, JoinKind, Select, SelectItem};
use crate::engine::RowReader;
use crate::error::{Error, Result};
use crate::model::{AnyTracked, Model, Obj};
use crate::query::{decode_model, model_columns, run_select, LoadContext};
use crate::session::{downcast, Session};
use crate::value::{Value, ValueRef};
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::fmt;
use std::rc::Rc;

/// Type-erased loading of one relationship, for `options(...)` and cascades.
pub trait Loader {
    /// The table of the model the relationship is declared on.
    fn parent_table(&self) -> &'static str;
    /// The relationship's name.
    fn name(&self) -> &'static str;
    /// One `SELECT … WHERE key IN (…)` for all parents (select-in loading).
    fn select_in(&self, session: &Session, parents: &[Rc<dyn AnyTracked>]) -> Result<()>;
    /// Adds the `LEFT OUTER JOIN` and the related columns (joined loading).
    fn add_join(&self, stmt: &mut Select);
    /// Reads the related object from a joined row into the parent's collection.
    fn decode_joined(
        &self,
        ctx: &mut LoadContext<'_>,
        parent: &Rc<dyn AnyTracked>,
        row: &mut RowReader<'_>,
    ) -> Result<()>;
    /// The objects a cascade reaches from `parent` (loading them if needed).
    fn children(
        &self,
        session: &Session,
        parent: &Rc<dyn AnyTracked>,
    ) -> Result<Vec<Rc<dyn AnyTracked>>>;
    /// A many-to-many relationship's association table and the column holding the parent's key.
    fn secondary(&self) -> Option<(&'static str, &'static str)> {
        None
    }
}

/// Keys per select-in statement, as SQLAlchemy's `selectinload` (its `_chunksize`): under
/// SQLite's limit of bound variables and PostgreSQL's 65,535 parameters whatever the key count.
pub(crate) const SELECT_IN_CHUNK: usize = 500;

/// Runs `stmt` once per chunk of [`SELECT_IN_CHUNK`] keys, `column IN (…chunk…)` as its
/// filter, and returns every chunk's decoded rows in order.
pub(crate) fn select_in_chunks<R>(
    session: &Session,
    mut stmt: Select,
    column: Expr,
    keys: Vec<Value>,
    mut decode: impl FnMut(&mut LoadContext<'_>, &mut RowReader<'_>) -> Result<R>,
) -> Result<Vec<R>> {
    let mut out = Vec::new();
    for chunk in keys.chunks(SELECT_IN_CHUNK) {
        stmt.filter = Some(in_list(column.clone(), chunk.to_vec()));
        out.extend(run_select(session, &stmt, &mut decode)?);
    }
    Ok(out)
}

/// The related object of a joined row, or `None` where the outer join found nothing.
fn decode_related<M: Model>(
    ctx: &mut LoadContext<'_>,
    row: &mut RowReader<'_>,
) -> Result<Option<Rc<dyn AnyTracked>>> {
    if matches!(row.peek_kept(M::PRIMARY_KEY)?, ValueRef::Null) {
        row.skip(M::COLUMN_COUNT);
        return Ok(None);
    }
    Ok(Some(decode_model::<M>(ctx, row)?.0 as Rc<dyn AnyTracked>))
}

fn set_cache(parent: &Rc<dyn AnyTracked>, name: &'static str, items: Vec<Rc<dyn AnyTracked>>) {
    parent.relations().borrow_mut().insert(name, items);
}

fn push_cache(
    ctx: &mut LoadContext<'_>,
    parent: &Rc<dyn AnyTracked>,
    name: &'static str,
    item: Option<Rc<dyn AnyTracked>>,
) {
    let key = (Rc::as_ptr(parent) as *const u8 as usize, name);
    let first_time = ctx.last_initialized.replace(key) != Some(key) && ctx.initialized.insert(key);
    let mut rel = parent.relations().borrow_mut();
    let items = rel.get_or_default(name);
    if first_time {
        items.clear();
    }
    if let Some(item) = item {
        if !items.iter().any(|i| Rc::ptr_eq(i, &item)) {
            items.push(item);
        }
    }
}

fn typed_children<P: Model, R: Relationship<P>>(
    rel: &R,
    session: &Session,
    parent: &Rc<dyn AnyTracked>,
) -> Result<Vec<Rc<dyn AnyTracked>>> {
    let parent = downcast::<P>(parent.clone())?;
    let _ = session;
    Ok(parent
        .related_all(*rel)?
        .into_iter()
        .map(|c| c.0 as Rc<dyn AnyTracked>)
        .collect())
}

impl<T: Model> Obj<T> {
    fn related_all<R: Relationship<T>>(&self, rel: R) -> Result<Vec<Obj<R::Target>>> {
        self.related(rel)?;
        let rel_cache = self.0.relations.borrow();
        rel_cache.get(rel.name()).map_or(Ok(Vec::new()), |items| {
            items
                .iter()
                .map(|i| downcast::<R::Target>(i.clone()))
                .collect()
        })
    }
}

impl<P: Model, C: Model> Loader for HasMany<P, C> {
    fn parent_table(&self) -> &'static str {
        P::TABLE_NAME
    }
    fn name(&self) -> &'static str {
        self.name
    }
    fn select_in(&self, session: &Session, parents: &[Rc<dyn AnyTracked>]) -> Result<()> {
        let fk = require_column::<C>(self.name, P::TABLE_NAME, self.foreign_key)?;
        let keys: Vec<Value> = parents
            .iter()
            .map(|p| p.column_value(p.primary_key_index()))
            .collect();
        let mut stmt = Select::default();
        model_columns::<C>(&mut stmt.columns);
        stmt.from = vec![FromItem::Table(Cow::Borrowed(C::TABLE_NAME))];
        let column = Expr::column(C::TABLE_NAME, self.foreign_key);
        let children = select_in_chunks(session, stmt, column, keys, |ctx, row| {
            decode_model::<C>(ctx, row)
        })?;
        let mut by_parent: FxHashMap<crate::model::Key, Vec<Rc<dyn AnyTracked>>> =
            FxHashMap::default();
        for child in children {
            if let Some(key) = crate::model::Key::from_value_ref(child.borrow().column_value(fk)) {
                by_parent.entry(key).or_default().push(child.0.clone());
            }
        }
        for parent in parents {
            let key = crate::model::Key::from_value_ref(
                parent.column_value(parent.primary_key_index()).as_ref(),
            );
            let items = key.and_then(|k| by_parent.remove(&k)).unwrap_or_default();
            set_cache(parent, self.name, items);
        }
        Ok(())
    }
    fn add_join(&self, stmt: &mut Select) {
        stmt.joins.push(Join {
            kind: JoinKind::LeftOuter,
            table: Cow::Borrowed(C::TABLE_NAME),
            on: eq(
                Expr::column(C::TABLE_NAME, self.foreign_key),
                pk_expr::<P>(),
            ),
        });
        model_columns::<C>(&mut stmt.columns);
    }
    fn decode_joined(
        &self,
        ctx: &mut LoadContext<'_>,
        parent: &Rc<dyn AnyTracked>,
        row: &mut RowReader<'_>,
    ) -> Result<()> {
        let child = decode_related::<C>(ctx, row)?;
        push_cache(ctx, parent, self.name, child);
        Ok(())
    }
    fn children(
        &self,
        session: &Session,
        parent: &Rc<dyn AnyTracked>,
    ) -> Result<Vec<Rc<dyn AnyTracked>>> {
        typed_children::<P, _>(self, session, parent)
    }
}

impl<C: Model, P: Model> Loader for BelongsTo<C, P> {
    fn parent_table(&self) -> &'static str {
        C::TABLE_NAME
    }
    fn name(&self) -> &'static str {
        self.name
    }
    fn select_in(&self, session: &Session, children: &[Rc<dyn AnyTracked>]) -> Result<()> {
        let fk = require_column::<C>(self.name, C::TABLE_NAME, self.foreign_key)?;
        let mut keys: Vec<Value> = children
            .iter()
            .map(|c| c.column_value(fk))
            .filter(|v| !v.is_null())
            .collect();
        keys.dedup();
        let parents = if keys.is_empty() {
            Vec::new()
        } else {
            let mut stmt = Select::default();
            model_columns::<P>(&mut stmt.columns);
            stmt.from = vec![FromItem::Table(Cow::Borrowed(P::TABLE_NAME))];
            select_in_chunks(session, stmt, pk_expr::<P>(), keys, |ctx, row| {
                decode_model::<P>(ctx, row)
            })?
        };
        let by_key: FxHashMap<crate::model::Key, Rc<dyn AnyTracked>> = parents
            .into_iter()
            .filter_map(|p| p.key().map(|k| (k, p.0 as Rc<dyn AnyTracked>)))
            .collect();
        for child in children {
            let key = crate::model::Key::from_value_ref(child.column_value(fk).as_ref());
            set_cache(
                child,
                self.name,
                key.and_then(|k| by_key.get(&k).cloned())
                    .into_iter()
                    .collect(),
            );
        }
        Ok(())
    }
    fn add_join(&self, stmt: &mut Select) {
        stmt.joins.push(Join {
            kind: JoinKind::LeftOuter,
            table: Cow::Borrowed(P::TABLE_NAME),
            on: eq(
                pk_expr::<P>(),
                Expr::column(C::TABLE_NAME, self.foreign_key),
            ),
        });
        model_columns::<P>(&mut stmt.columns);
    }
    fn decode_joined(
        &self,
        ctx: &mut LoadContext<'_>,
        child: &Rc<dyn AnyTracked>,
        row: &mut RowReader<'_>,
    ) -> Result<()> {
        let parent = decode_related::<P>(ctx, row)?;
        push_cache(ctx, child, self.name, parent);
        Ok(())
    }
    fn children(
        &self,
        session: &Session,
        parent: &Rc<dyn AnyTracked>,
    ) -> Result<Vec<Rc<dyn AnyTracked>>> {
        typed_children::<C, _>(self, session, parent)
    }
}

impl<A: Model, B: Model> Loader for ManyToMany<A, B> {
    fn parent_table(&self) -> &'static str {
        A::TABLE_NAME
    }
    fn secondary(&self) -> Option<(&'static str, &'static str)> {
        Some((self.secondary, self.local))
    }
    fn name(&self) -> &'static str {
        self.name
    }
    fn select_in(&self, session: &Session, parents: &[Rc<dyn AnyTracked>]) -> Result<()> {
        let keys: Vec<Value> = parents
            .iter()
            .map(|p| p.column_value(p.primary_key_index()))
            .collect();
        let mut stmt = Select::default();
        stmt.columns.push(SelectItem {
            expr: Expr::column(self.secondary, self.local),
            alias: None,
        });
        model_columns::<B>(&mut stmt.columns);
        stmt.from = vec![FromItem::Table(Cow::Borrowed(B::TABLE_NAME))];
        stmt.joins.push(self.join());
        let column = Expr::column(self.secondary, self.local);
        let pairs = select_in_chunks(session, stmt, column, keys, |ctx, row| {
            let key: Value = row.read(self.secondary, self.local)?;
            Ok((key, decode_model::<B>(ctx, row)?))
        })?;
        let mut by_parent: FxHashMap<crate::model::Key, Vec<Rc<dyn AnyTracked>>> =
            FxHashMap::default();
        for (key, item) in pairs {
            if let Some(key) = crate::model::Key::from_value_ref(key.as_ref()) {
                by_parent.entry(key).or_default().push(item.0);
            }
        }
        for parent in parents {
            let key = crate::model::Key::from_value_ref(
                parent.column_value(parent.primary_key_index()).as_ref(),
            );
            set_cache(
                parent,
                self.name,
                key.and_then(|k| by_parent.remove(&k)).unwrap_or_default(),
            );
        }
        Ok(())
    }
    fn add_join(&self, stmt: &mut Select) {
        stmt.joins.push(Join {
            kind: JoinKind::LeftOuter,
            table: Cow::Borrowed(self.secondary),
            on: eq(Expr::column(self.secondary, self.local), pk_expr::<A>()),
        });
        stmt.joins.push(Join {
            kind: JoinKind::LeftOuter,
            table: Cow::Borrowed(B::TABLE_NAME),
            on: eq(pk_expr::<B>(), Expr::column(self.secondary, self.remote)),
        });
        model_columns::<B>(&mut stmt.columns);
    }
    fn decode_joined(
        &self,
        ctx: &mut LoadContext<'_>,
        parent: &Rc<dyn AnyTracked>,
        row: &mut RowReader<'_>,
    ) -> Result<()> {
        let item = decode_related::<B>(ctx, row)?;
        push_cache(ctx, parent, self.name, item);
        Ok(())
    }
    fn children(
        &self,
        session: &Session,
        parent: &Rc<dyn AnyTracked>,
    ) -> Result<Vec<Rc<dyn AnyTracked>>> {
        typed_children::<A, _>(self, session, parent)
    }
}

/// How to load a relationship in a query: `joinedload(User::posts)`, `selectinload(User::posts)`.
#[derive(Clone)]
pub struct LoadOption {
    loader: Rc<dyn Loader>,
    joined: bool,
}

impl LoadOption {
    /// Whether this option loads in the same statement (`joinedload`) rather than a second one.
    pub fn is_joined(&self) -> bool {
        self.joined
    }
}

impl fmt::Debug for LoadOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.joined {
            "joinedload"
        } else {
            "selectinload"
        };
        write!(
            f,
            "{kind}({}.{})",
            self.loader.parent_table(),
            self.loader.name()
        )
    }
}

/// Loads the relationship in the same statement, with a `LEFT OUTER JOIN`.
pub fn joinedload<P: Model, R: Relationship<P>>(relationship: R) -> LoadOption {
    LoadOption {
        loader: relationship.loader(),
        joined: true,
    }
}

/// Loads the relationship with one more statement, `… WHERE key IN (…)`, for all rows at once.
pub fn selectinload<P: Model, R: Relationship<P>>(relationship: R) -> LoadOption {
    LoadOption {
        loader: relationship.loader(),
        joined: false,
    }
}

/// A query with `limit`/`offset` cannot join a collection without cutting it short; such
/// queries load joined relationships select-in instead (the same objects, one more statement).
pub(crate) fn effective_joined(stmt: &Select, loads: &[LoadOption]) -> bool {
    stmt.limit.is_none() && stmt.offset.is_none() && loads.iter().any(|l| l.joined)
}

pub(crate) fn add_joined_loads(stmt: &mut Select, loads: &[LoadOption]) {
    if effective_joined(stmt, loads) {
        for load in loads.iter().filter(|l| l.joined) {
            load.loader.add_join(stmt);
        }
    }
}

/// After the fetched model was decoded from a joined row, reads each joined relationship.
pub(crate) fn decode_joined_loads(
    ctx: &mut LoadContext<'_>,
    row: &mut RowReader<'_>,
    stmt: &Select,
    loads: &[LoadOption],
) -> Result<()> {
    if !effective_joined(stmt, loads) {
        return Ok(());
    }
    let Some(parent) = ctx.last_decoded.clone() else {
        return Ok(());
    };
    for load in loads.iter().filter(|l| l.joined) {
        if load.loader.parent_table() != parent.table_name() {
            return Err(Error::InvalidRequest(format!(
                "{load:?} does not apply to a query of {}",
                parent.table_name()
            )));
        }
        load.loader.decode_joined(ctx, &parent, row)?;
    }
    Ok(())
}

/// Select-in loads (and joined loads that had to fall back) for the fetched objects.
pub(crate) fn eager_load<T: Model>(
    session: &Session,
    rows: &[Obj<T>],
    stmt: &Select,
    loads: &[LoadOption],
) -> Result<()> {
    let joined_done = effective_joined(stmt, loads);
    if loads.iter().all(|l| l.joined && joined_done) {
        // Nothing left to load (the common case: no options at all): no list of parents to build.
        return Ok(());
    }
    let parents: Vec<Rc<dyn AnyTracked>> = rows
        .iter()
        .map(|o| o.0.clone() as Rc<dyn AnyTracked>)
        .collect();
    for load in loads {
        if load.joined && joined_done {
            continue;
        }
        if load.loader.parent_table() != T::TABLE_NAME {
            return Err(Error::InvalidRequest(format!(
                "{load:?} does not apply to a query of {}",
                T::TABLE_NAME
            )));
        }
        if !parents.is_empty() {
            load.loader.select_in(session, &parents)?;
        }
    }
    Ok(())
}
