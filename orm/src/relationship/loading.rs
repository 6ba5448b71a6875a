//! Loading strategies: lazy loads through `related`, and the eager `joinedload` / `selectinload`
//! options, behind one type-erased `Loader` per relationship.

use super::*;
use crate::core::SqlWriter;
use crate::core::{Expr, FromItem, Join, JoinKind, Select, SelectItem, Statement, Update};
use crate::engine::RowReader;
use crate::error::{Error, Result};
use crate::model::{AnyTracked, Key, Model, Obj};
use crate::query::{decode_model, model_columns, run_select, run_sql, LoadContext, Params};
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
    /// The table of the related objects.
    fn target_table(&self) -> &'static str;
    /// How many columns of a joined row the related object takes.
    fn target_columns(&self) -> usize;
    /// The relationship's name.
    fn name(&self) -> &'static str;
    /// One `SELECT … WHERE key IN (…)` for all parents (select-in loading).
    fn select_in(&self, session: &Session, parents: &[Rc<dyn AnyTracked>]) -> Result<()>;
    /// Adds the `LEFT OUTER JOIN` and the related columns (joined loading).
    fn add_join(&self, stmt: &mut Select);
    /// Reads the related object from a joined row into the parent's collection, and returns it
    /// (`None` where the outer join found nothing).
    fn decode_joined(
        &self,
        ctx: &mut LoadContext<'_>,
        parent: &Rc<dyn AnyTracked>,
        row: &mut RowReader<'_>,
    ) -> Result<Option<Rc<dyn AnyTracked>>>;
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
    /// The UPDATEs that set to NULL the foreign key of the rows still pointing at `parents`
    /// (objects of this model being deleted), one per chunk of 500 keys (`SELECT_IN_CHUNK`): for a
    /// one-to-many relationship without a `delete` cascade whose foreign key columns may hold
    /// NULL and have no `ON DELETE` in the schema (with one, the database decides, as
    /// SQLAlchemy's `passive_deletes`; with `NOT NULL`, the database refuses the parents'
    /// DELETE, naming the table). None for the other kinds.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] when the relationship's `foreign_key` does not fit the key.
    fn clear_foreign_keys(&self, parents: &[Rc<dyn AnyTracked>]) -> Result<Vec<Statement>> {
        let _ = parents;
        Ok(Vec::new())
    }
}

/// Keys per select-in statement, as SQLAlchemy's `selectinload` (its `_chunksize`): under
/// SQLite's limit of bound variables and PostgreSQL's 65,535 parameters whatever the key count.
pub(crate) const SELECT_IN_CHUNK: usize = 500;

/// A select-in statement before its keys: what it selects, and the columns the parents' keys
/// are matched against (one, or several for a composite key).
pub(crate) struct SelectIn {
    stmt: Select,
    columns: Vec<Expr>,
}

impl SelectIn {
    /// Every column of `M` from its table, matched on `columns`.
    fn of_model<M: Model>(columns: Vec<Expr>) -> SelectIn {
        let mut stmt = Select::default();
        model_columns::<M>(&mut stmt.columns);
        stmt.from = vec![FromItem::Table(Cow::Borrowed(M::TABLE_NAME))];
        SelectIn { stmt, columns }
    }

    /// The statement for one chunk of keys written into it, one parameter per key column (a
    /// statement shape per chunk length). One column takes the keys' values, `a IN (?, ?)`;
    /// several take each key's parts as a row value, `(a, b) IN ((?, ?), …)` (`VALUES` on
    /// SQLite, see [`Expr::Tuple`]).
    fn in_list(&self, chunk: &[Key]) -> Select {
        let single = self.columns.len() == 1;
        let left = if single {
            self.columns[0].clone()
        } else {
            Expr::Tuple(self.columns.clone())
        };
        let list = chunk
            .iter()
            .map(|key| {
                let mut parts: Vec<Expr> = key
                    .value_refs()
                    .into_iter()
                    .map(|v| Expr::Value(v.to_owned()))
                    .collect();
                if single && parts.len() == 1 {
                    parts.remove(0)
                } else {
                    Expr::Tuple(parts)
                }
            })
            .collect();
        let mut stmt = self.stmt.clone();
        stmt.filter = Some(Expr::InList {
            expr: Box::new(left),
            list,
            negated: false,
        });
        stmt
    }

    /// The SQL of the statement for keys bound as one array parameter: `column = ANY($1)`
    /// (PostgreSQL's array comparison, "9.24.3. ANY/SOME (array)" in its manual), one shape
    /// for every chunk; `None` for a composite key (an array holds one column's values) or
    /// when the statement has parameters of its own.
    fn any_sql(&self, writer: &dyn SqlWriter) -> Option<String> {
        let [column] = self.columns.as_slice() else {
            return None;
        };
        let mut stmt = self.stmt.clone();
        stmt.filter = Some(eq(
            column.clone(),
            Expr::Function {
                name: "ANY",
                args: vec![Expr::Placeholder],
                distinct: false,
            },
        ));
        let compiled = writer.compile_select(&stmt);
        compiled.params.is_empty().then_some(compiled.sql)
    }
}

/// Runs the select-in statement once per chunk of [`SELECT_IN_CHUNK`] keys (500 keys a
/// statement whatever their width) and returns every chunk's decoded rows in order. On
/// PostgreSQL the keys of a chunk go in one array parameter (`column = ANY($1)`), so one
/// prepared statement serves every chunk length, as the unit of work's deletes by key do
/// (`session/persistence.rs`); on SQLite, which has no array parameters, and for composite
/// keys, each chunk is `columns IN (…)`.
pub(crate) fn select_in_chunks<R>(
    session: &Session,
    select_in: SelectIn,
    keys: Vec<Key>,
    mut decode: impl FnMut(&mut LoadContext<'_>, &mut RowReader<'_>) -> Result<R>,
) -> Result<Vec<R>> {
    let mut out = Vec::new();
    let engine = session.engine();
    if let Some(sql) = engine
        .binds_arrays()
        .then(|| select_in.any_sql(engine.writer()))
        .flatten()
    {
        let joined = !select_in.stmt.joins.is_empty();
        for chunk in keys.chunks(SELECT_IN_CHUNK) {
            let items: Vec<ValueRef<'_>> = chunk.iter().filter_map(Key::single_value_ref).collect();
            out.extend(run_sql(
                session,
                &sql,
                Params::Array(&items),
                joined,
                &mut decode,
            )?);
        }
        return Ok(out);
    }
    for chunk in keys.chunks(SELECT_IN_CHUNK) {
        out.extend(run_select(session, &select_in.in_list(chunk), &mut decode)?);
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

/// Joined loading of a relationship to `M`: a `LEFT OUTER JOIN` of `M`'s table `on` the
/// relationship's condition, and `M`'s columns after those already selected.
fn join_model<M: Model>(stmt: &mut Select, on: Expr) {
    stmt.joins.push(Join {
        kind: JoinKind::LeftOuter,
        table: Cow::Borrowed(M::TABLE_NAME),
        on,
    });
    model_columns::<M>(&mut stmt.columns);
}

/// Reads the `M` of a joined row (see [`join_model`]) into `owner`'s loaded relationship
/// `name`, and returns it (`None` where the outer join found nothing).
fn decode_joined_into<M: Model>(
    ctx: &mut LoadContext<'_>,
    owner: &Rc<dyn AnyTracked>,
    name: &'static str,
    row: &mut RowReader<'_>,
) -> Result<Option<Rc<dyn AnyTracked>>> {
    let related = decode_related::<M>(ctx, row)?;
    push_cache(ctx, owner, name, related.clone());
    Ok(related)
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

impl<P: Model, C: Model> HasMany<P, C> {
    /// The children whose foreign key (the columns at `fk`) is one of the parents' keys.
    pub(crate) fn select_in_statement(&self, fk: &[usize]) -> SelectIn {
        SelectIn::of_model::<C>(columns_of::<C>(fk))
    }
}

impl<C: Model, P: Model> BelongsTo<C, P> {
    /// The parents whose key is one of the children's foreign keys.
    pub(crate) fn select_in_statement(&self) -> SelectIn {
        SelectIn::of_model::<P>(columns_of::<P>(P::PRIMARY_KEYS))
    }
}

impl<A: Model, B: Model> ManyToMany<A, B> {
    /// The related objects joined to the association rows of the parents' keys, each row
    /// led by the parent's key.
    pub(crate) fn select_in_statement(&self) -> SelectIn {
        let column = Expr::column(self.secondary, self.local);
        let mut stmt = Select::default();
        stmt.columns.push(SelectItem {
            expr: column.clone(),
            alias: None,
        });
        model_columns::<B>(&mut stmt.columns);
        stmt.from = vec![FromItem::Table(Cow::Borrowed(B::TABLE_NAME))];
        stmt.joins.push(self.join());
        SelectIn {
            stmt,
            columns: vec![column],
        }
    }
}

impl<P: Model, C: Model> Loader for HasMany<P, C> {
    fn parent_table(&self) -> &'static str {
        P::TABLE_NAME
    }
    fn clear_foreign_keys(&self, parents: &[Rc<dyn AnyTracked>]) -> Result<Vec<Statement>> {
        if super::dependency::cascades_delete(self.cascade) {
            return Ok(Vec::new());
        }
        let fk = foreign_key_columns::<C, P>(self.name, P::TABLE_NAME, self.foreign_key)?;
        let table = C::TABLE;
        let column = |i: usize| &table.columns[i];
        let names: Vec<&str> = fk.iter().map(|&i| column(i).name.as_ref()).collect();
        let on_delete = fk.iter().any(|&i| {
            column(i)
                .foreign_key
                .as_ref()
                .is_some_and(|f| f.on_delete.is_some())
        }) || table.foreign_keys.iter().any(|c| {
            c.on_delete.is_some()
                && c.table == P::TABLE_NAME
                && c.columns.iter().all(|n| names.contains(&n.as_ref()))
        });
        if on_delete || !fk.iter().all(|&i| column(i).nullable) {
            return Ok(Vec::new());
        }
        let keys: Vec<Key> = parents.iter().filter_map(|p| p.key()).collect();
        let rows = SelectIn {
            stmt: Select::default(),
            columns: columns_of::<C>(&fk),
        };
        Ok(keys
            .chunks(SELECT_IN_CHUNK)
            .map(|chunk| {
                Statement::Update(Update {
                    table: Cow::Borrowed(C::TABLE_NAME),
                    set: fk
                        .iter()
                        .map(|&i| (column(i).name.clone(), Expr::Value(Value::Null)))
                        .collect(),
                    filter: rows.in_list(chunk).filter,
                })
            })
            .collect())
    }
    fn target_table(&self) -> &'static str {
        C::TABLE_NAME
    }
    fn target_columns(&self) -> usize {
        C::COLUMN_COUNT
    }
    fn name(&self) -> &'static str {
        self.name
    }
    fn select_in(&self, session: &Session, parents: &[Rc<dyn AnyTracked>]) -> Result<()> {
        let fk = foreign_key_columns::<C, P>(self.name, P::TABLE_NAME, self.foreign_key)?;
        // A parent whose key is not assigned (a pending one) has no children in the database.
        let keys: Vec<Key> = parents.iter().filter_map(|p| p.key()).collect();
        // No keys, no statement: `select_in_chunks` runs one per chunk.
        let children =
            select_in_chunks(session, self.select_in_statement(&fk), keys, |ctx, row| {
                decode_model::<C>(ctx, row)
            })?;
        let mut by_parent: FxHashMap<Key, Vec<Rc<dyn AnyTracked>>> =
            FxHashMap::with_capacity_and_hasher(parents.len(), Default::default());
        for child in children {
            let key = {
                let value = child.borrow();
                foreign_key_value(&fk, |i| Key::from_value_ref(value.column_value(i)))
            };
            if let Some(key) = key {
                by_parent.entry(key).or_default().push(child.0);
            }
        }
        for parent in parents {
            let items = parent
                .key()
                .and_then(|k| by_parent.remove(&k))
                .unwrap_or_default();
            set_cache(parent, self.name, items);
        }
        Ok(())
    }
    fn add_join(&self, stmt: &mut Select) {
        // The columns are checked when the query runs (`select_in` / `related` say which is
        // wrong); a join over a misdeclared foreign key joins what it can.
        let fk = foreign_key_columns::<C, P>(self.name, P::TABLE_NAME, self.foreign_key)
            .unwrap_or_default();
        let on = pairs_equal(columns_of::<C>(&fk), columns_of::<P>(P::PRIMARY_KEYS));
        join_model::<C>(stmt, on);
    }
    fn decode_joined(
        &self,
        ctx: &mut LoadContext<'_>,
        parent: &Rc<dyn AnyTracked>,
        row: &mut RowReader<'_>,
    ) -> Result<Option<Rc<dyn AnyTracked>>> {
        decode_joined_into::<C>(ctx, parent, self.name, row)
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
    fn target_table(&self) -> &'static str {
        P::TABLE_NAME
    }
    fn target_columns(&self) -> usize {
        P::COLUMN_COUNT
    }
    fn name(&self) -> &'static str {
        self.name
    }
    fn select_in(&self, session: &Session, children: &[Rc<dyn AnyTracked>]) -> Result<()> {
        let fk = foreign_key_columns::<C, P>(self.name, C::TABLE_NAME, self.foreign_key)?;
        let child_key = |c: &Rc<dyn AnyTracked>| {
            foreign_key_value(&fk, |i| Key::from_value_ref(c.column_value(i).as_ref()))
        };
        let mut keys: Vec<Key> = children.iter().filter_map(child_key).collect();
        keys.dedup();
        let parents = if keys.is_empty() {
            Vec::new()
        } else {
            select_in_chunks(session, self.select_in_statement(), keys, |ctx, row| {
                decode_model::<P>(ctx, row)
            })?
        };
        let by_key: FxHashMap<Key, Rc<dyn AnyTracked>> = parents
            .into_iter()
            .filter_map(|p| p.key().map(|k| (k, p.0 as Rc<dyn AnyTracked>)))
            .collect();
        for child in children {
            let key = child_key(child);
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
        // Checked when the query runs, as for `has_many`.
        let fk = foreign_key_columns::<C, P>(self.name, C::TABLE_NAME, self.foreign_key)
            .unwrap_or_default();
        let on = pairs_equal(columns_of::<P>(P::PRIMARY_KEYS), columns_of::<C>(&fk));
        join_model::<P>(stmt, on);
    }
    fn decode_joined(
        &self,
        ctx: &mut LoadContext<'_>,
        child: &Rc<dyn AnyTracked>,
        row: &mut RowReader<'_>,
    ) -> Result<Option<Rc<dyn AnyTracked>>> {
        decode_joined_into::<P>(ctx, child, self.name, row)
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
    fn target_table(&self) -> &'static str {
        B::TABLE_NAME
    }
    fn target_columns(&self) -> usize {
        B::COLUMN_COUNT
    }
    fn secondary(&self) -> Option<(&'static str, &'static str)> {
        Some((self.secondary, self.local))
    }
    fn name(&self) -> &'static str {
        self.name
    }
    fn select_in(&self, session: &Session, parents: &[Rc<dyn AnyTracked>]) -> Result<()> {
        let keys: Vec<Key> = parents.iter().filter_map(|p| p.key()).collect();
        let pairs = select_in_chunks(session, self.select_in_statement(), keys, |ctx, row| {
            let key: Value = row.read(self.secondary, self.local)?;
            Ok((key, decode_model::<B>(ctx, row)?))
        })?;
        let mut by_parent: FxHashMap<crate::model::Key, Vec<Rc<dyn AnyTracked>>> =
            FxHashMap::with_capacity_and_hasher(parents.len(), Default::default());
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
    ) -> Result<Option<Rc<dyn AnyTracked>>> {
        let item = decode_related::<B>(ctx, row)?;
        push_cache(ctx, parent, self.name, item.clone());
        Ok(item)
    }
    fn children(
        &self,
        session: &Session,
        parent: &Rc<dyn AnyTracked>,
    ) -> Result<Vec<Rc<dyn AnyTracked>>> {
        typed_children::<A, _>(self, session, parent)
    }
}

/// One relationship of a loading path and how it is loaded.
#[derive(Clone)]
struct LoadStep {
    loader: Rc<dyn Loader>,
    joined: bool,
}

/// How to load a relationship in a query: `joinedload(User::posts)`, `selectinload(User::posts)`,
/// and a path through several relationships, each with its strategy, as SQLAlchemy's loader
/// options chain: `selectinload(User::posts).selectinload(Post::comments)`.
///
/// The statements a path costs: the query's own `SELECT` carries every joined step that only
/// follows joined steps (`joinedload(User::posts).joinedload(Post::comments)` is one statement
/// with two `LEFT OUTER JOIN`s); every other step is one more `SELECT … WHERE key IN (…)` for
/// all the objects of the level before it (500 keys a statement, as SQLAlchemy's select-in
/// chunks). So `selectinload(User::posts).selectinload(Post::comments)` is 1 + 1 + 1 statements.
/// A joined step after a select-in step is loaded select-in too (SQLAlchemy would join it into
/// the select-in statement: the same objects, one statement more here).
///
/// ```
/// use orm::prelude::*;
/// #[derive(Model, Clone, Default)]
/// #[orm(table = "users", has_many(posts: Post, foreign_key = "user_id"))]
/// pub struct User { #[orm(primary_key)] pub id: i64, pub name: String }
/// #[derive(Model, Clone, Default)]
/// #[orm(table = "posts", has_many(comments: Comment, foreign_key = "post_id"))]
/// pub struct Post {
///     #[orm(primary_key)] pub id: i64,
///     #[orm(foreign_key = "users.id")] pub user_id: Option<i64>,
/// }
/// #[derive(Model, Clone, Default)]
/// #[orm(table = "comments")]
/// pub struct Comment {
///     #[orm(primary_key)] pub id: i64,
///     pub text: String,
///     #[orm(foreign_key = "posts.id")] pub post_id: Option<i64>,
/// }
/// let engine = create_engine("sqlite:///:memory:")?;
/// MetaData::new().add::<User>().add::<Post>().add::<Comment>().create_all(&engine)?;
/// let session = Session::new(&engine);
/// let user = session.add(User { name: "Alice".into(), ..Default::default() });
/// let post = user.append(User::posts, Post::default())?;
/// post.append(Post::comments, Comment { text: "first".into(), ..Default::default() })?;
/// session.commit()?;
/// engine.reset_statement_count();
/// let users = session
///     .query::<User>()
///     .options(selectinload(User::posts).selectinload(Post::comments))
///     .all()?;
/// assert_eq!(engine.statement_count(), 3);
/// let posts = users[0].related(User::posts)?;
/// assert_eq!(posts[0].related(Post::comments)?[0].borrow().text, "first");
/// assert_eq!(engine.statement_count(), 3, "no lazy load left");
/// # Ok::<(), orm::Error>(())
/// ```
#[derive(Clone)]
pub struct LoadOption {
    steps: Vec<LoadStep>,
}

impl LoadOption {
    /// Whether the first relationship of the path is joined.
    pub fn is_joined(&self) -> bool {
        self.steps[0].joined
    }

    /// The path continued by a relationship of the last step's target, loaded with a `LEFT
    /// OUTER JOIN` (SQLAlchemy's `joinedload(A.b).joinedload(B.c)`).
    pub fn joinedload<P: Model, R: Relationship<P>>(mut self, relationship: R) -> LoadOption {
        self.steps.push(LoadStep {
            loader: relationship.loader(),
            joined: true,
        });
        self
    }

    /// The path continued by a relationship of the last step's target, loaded with one more
    /// `SELECT … WHERE key IN (…)` (SQLAlchemy's `selectinload(A.b).selectinload(B.c)`).
    pub fn selectinload<P: Model, R: Relationship<P>>(mut self, relationship: R) -> LoadOption {
        self.steps.push(LoadStep {
            loader: relationship.loader(),
            joined: false,
        });
        self
    }

    /// A step whose relationship does not start where the step before it ends, in words.
    pub(crate) fn path_error(&self) -> Option<String> {
        self.steps.windows(2).find_map(|w| {
            (w[1].loader.parent_table() != w[0].loader.target_table()).then(|| {
                format!(
                    "{self:?}: {}.{} does not start from {}, where {}.{} leads",
                    w[1].loader.parent_table(),
                    w[1].loader.name(),
                    w[0].loader.target_table(),
                    w[0].loader.parent_table(),
                    w[0].loader.name()
                )
            })
        })
    }

    /// The steps carried by the query's own statement: the leading joined ones.
    fn joined_prefix(&self) -> impl Iterator<Item = &LoadStep> {
        self.steps.iter().take_while(|s| s.joined)
    }
}

impl fmt::Debug for LoadOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.steps.iter().enumerate() {
            let kind = if step.joined {
                "joinedload"
            } else {
                "selectinload"
            };
            if i > 0 {
                f.write_str(".")?;
            }
            write!(
                f,
                "{kind}({}.{})",
                step.loader.parent_table(),
                step.loader.name()
            )?;
        }
        Ok(())
    }
}

/// Loads the relationship in the same statement, with a `LEFT OUTER JOIN`.
pub fn joinedload<P: Model, R: Relationship<P>>(relationship: R) -> LoadOption {
    LoadOption {
        steps: vec![LoadStep {
            loader: relationship.loader(),
            joined: true,
        }],
    }
}

/// Loads the relationship with one more statement, `… WHERE key IN (…)`, for all rows at once.
pub fn selectinload<P: Model, R: Relationship<P>>(relationship: R) -> LoadOption {
    LoadOption {
        steps: vec![LoadStep {
            loader: relationship.loader(),
            joined: false,
        }],
    }
}

/// Whether the query's statement `stmt` (as [`add_joined_loads`] left it) carries its joined
/// loads. A statement whose `limit`/`offset` could not be moved into a subquery still has them,
/// and cannot join a collection without cutting it short: it loads its joined relationships
/// select-in instead (the same objects, one more statement).
pub(crate) fn effective_joined(stmt: &Select, loads: &[LoadOption]) -> bool {
    stmt.limit.is_none() && stmt.offset.is_none() && loads.iter().any(|l| l.is_joined())
}

/// Adds the joins of the joined loads to the query's statement `stmt`. With a `limit` or
/// `offset`, the statement first becomes a subquery, as SQLAlchemy writes it (its eager joins
/// "against a subquery" when the query is limited): `SELECT offerings.… , registrations.… FROM
/// (SELECT offerings.… FROM offerings … ORDER BY … LIMIT 2) AS offerings LEFT OUTER JOIN
/// registrations ON … ORDER BY …`, so the limit counts parents, not joined rows. Named as the
/// table it selects, the subquery is what the joins and the repeated `ORDER BY` already name.
/// Only a statement that selects the columns of one table and orders by its columns is wrapped;
/// any other keeps its limit and loads select-in ([`effective_joined`]).
pub(crate) fn add_joined_loads(stmt: &mut Select, loads: &[LoadOption]) {
    if !loads.iter().any(|l| l.is_joined()) {
        return;
    }
    if stmt.limit.is_some() || stmt.offset.is_some() {
        let table = loads[0].steps[0].loader.parent_table();
        let of_table = |e: &Expr| matches!(e, Expr::Column { table: Some(t), .. } if t == table);
        let wrappable = stmt.set_ops.is_empty()
            && !stmt.columns.is_empty()
            && stmt.columns.iter().all(|c| of_table(&c.expr))
            && stmt.order_by.iter().all(|o| of_table(&o.expr));
        if !wrappable {
            return;
        }
        let inner = std::mem::take(stmt);
        stmt.columns = inner.columns.clone();
        stmt.order_by = inner.order_by.clone();
        stmt.from = vec![FromItem::Subquery {
            select: Box::new(inner),
            alias: table.to_string(),
        }];
    }
    for load in loads {
        for step in load.joined_prefix() {
            step.loader.add_join(stmt);
        }
    }
}

/// After the fetched model was decoded from a joined row, reads each joined relationship, and
/// the joined steps after it from the object it found.
pub(crate) fn decode_joined_loads(
    ctx: &mut LoadContext<'_>,
    row: &mut RowReader<'_>,
    stmt: &Select,
    loads: &[LoadOption],
) -> Result<()> {
    if !effective_joined(stmt, loads) {
        return Ok(());
    }
    let Some(top) = ctx.last_decoded.clone() else {
        return Ok(());
    };
    for load in loads {
        let mut parent = Some(top.clone());
        for step in load.joined_prefix() {
            match parent {
                Some(p) => {
                    if step.loader.parent_table() != p.table_name() {
                        return Err(Error::InvalidRequest(format!(
                            "{load:?} does not apply to a query of {}",
                            p.table_name()
                        )));
                    }
                    parent = step.loader.decode_joined(ctx, &p, row)?;
                }
                // The outer join found no object at the step before: none here either.
                None => row.skip(step.loader.target_columns()),
            }
        }
    }
    Ok(())
}

/// The objects of relationship `name` loaded on `parents`, each once.
fn loaded_children(parents: &[Rc<dyn AnyTracked>], name: &str) -> Vec<Rc<dyn AnyTracked>> {
    let mut seen = rustc_hash::FxHashSet::default();
    let mut children = Vec::new();
    for parent in parents {
        if let Some(items) = parent.relations().borrow().get(name) {
            for item in items {
                if seen.insert(Rc::as_ptr(item) as *const u8 as usize) {
                    children.push(item.clone());
                }
            }
        }
    }
    children
}

/// Select-in loads (and joined loads that had to fall back), level by level down each path.
pub(crate) fn eager_load<T: Model>(
    session: &Session,
    rows: &[Obj<T>],
    stmt: &Select,
    loads: &[LoadOption],
) -> Result<()> {
    let joined_done = effective_joined(stmt, loads);
    if loads
        .iter()
        .all(|l| joined_done && l.steps.iter().all(|s| s.joined))
    {
        // Nothing left to load (the common case: no options at all): no list of parents to build.
        return Ok(());
    }
    let top: Vec<Rc<dyn AnyTracked>> = rows
        .iter()
        .map(|o| o.0.clone() as Rc<dyn AnyTracked>)
        .collect();
    for load in loads {
        if load.steps[0].loader.parent_table() != T::TABLE_NAME {
            return Err(Error::InvalidRequest(format!(
                "{load:?} does not apply to a query of {}",
                T::TABLE_NAME
            )));
        }
        if let Some(problem) = load.path_error() {
            return Err(Error::InvalidRequest(problem));
        }
        // Whether the step was loaded by the query's own statement (joins all the way down).
        let mut in_statement = joined_done;
        let mut parents = top.clone();
        for (i, step) in load.steps.iter().enumerate() {
            in_statement = in_statement && step.joined;
            if !in_statement && !parents.is_empty() {
                step.loader.select_in(session, &parents)?;
            }
            if i + 1 < load.steps.len() {
                parents = loaded_children(&parents, step.loader.name());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The SQL of select-in loading per dialect, checked as text without a database: the
    //! `= ANY($1)` form on PostgreSQL, one `IN (…)` per chunk length on SQLite. The rows these
    //! statements load are compared on a real server in `tests/relationship_rules.rs`.
    use crate::core::{PostgresWriter, SqlWriter, SqliteWriter};
    use crate::model::Key;
    use crate::prelude::*;
    use crate::Value;

    /// Writers, their books, and the readers who borrowed them (the three kinds of loader).
    #[derive(Model, Clone, Default)]
    #[orm(table = "writers", has_many(books: Book, foreign_key = "writer_id"))]
    pub struct Writer {
        #[orm(primary_key)]
        pub id: i64,
    }

    #[derive(Model, Clone, Default)]
    #[orm(table = "books", belongs_to(writer: Writer, foreign_key = "writer_id"))]
    pub struct Book {
        #[orm(primary_key)]
        pub isbn: String,
        #[orm(foreign_key = "writers.id")]
        pub writer_id: Option<i64>,
    }

    #[derive(Model, Clone, Default)]
    #[orm(
        table = "readers",
        many_to_many(loans: Book, secondary = "loans", local = "reader_id", remote = "isbn")
    )]
    pub struct Reader {
        #[orm(primary_key)]
        pub card: i64,
    }

    const BOOKS: &str = r#"SELECT "books"."isbn", "books"."writer_id" FROM "books""#;

    /// The column of `books` that `Writer::books` matches: `writer_id`.
    fn books_fk() -> Vec<usize> {
        super::foreign_key_columns::<Book, Writer>("books", "writers", "writer_id").unwrap()
    }

    fn any_sql(select_in: super::SelectIn) -> Option<String> {
        select_in.any_sql(&PostgresWriter)
    }

    #[test]
    fn select_in_on_postgres_is_one_statement_with_an_array_parameter() {
        let books = format!(r#"{BOOKS} WHERE "books"."writer_id" = ANY($1)"#);
        assert_eq!(
            any_sql(Writer::books.select_in_statement(&books_fk())),
            Some(books)
        );
        assert_eq!(
            any_sql(Book::writer.select_in_statement()).as_deref(),
            Some(r#"SELECT "writers"."id" FROM "writers" WHERE "writers"."id" = ANY($1)"#)
        );
        assert_eq!(
            any_sql(Reader::loans.select_in_statement()).as_deref(),
            Some(
                r#"SELECT "loans"."reader_id", "books"."isbn", "books"."writer_id" FROM "books" JOIN "loans" ON "loans"."isbn" = "books"."isbn" WHERE "loans"."reader_id" = ANY($1)"#
            )
        );
    }

    #[test]
    fn select_in_on_sqlite_writes_one_placeholder_per_key() {
        let keys = [Key::Int(3), Key::Int(7)];
        let stmt = Writer::books
            .select_in_statement(&books_fk())
            .in_list(&keys);
        let compiled = SqliteWriter.compile_select(&stmt);
        assert_eq!(
            compiled.sql,
            format!(r#"{BOOKS} WHERE "books"."writer_id" IN (?, ?)"#)
        );
        assert_eq!(compiled.params, [Value::Integer(3), Value::Integer(7)]);
    }
}
