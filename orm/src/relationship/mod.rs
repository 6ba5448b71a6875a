//! Relationships between models (the lesson's `User.posts`, `Post.author`, `Student.courses`):
//! navigation, lazy / joined / select-in loading, back-population, cascades, flush ordering.
//!
//! A relationship is a constant on the model, declared on the struct:
//!
//! ```
//! use orm::prelude::*;
//! #[derive(Model, Clone, Default)]
//! #[orm(table = "users", has_many(posts: Post, foreign_key = "user_id", back_populates = "author"))]
//! pub struct User { #[orm(primary_key)] pub id: i64, pub name: String }
//!
//! #[derive(Model, Clone, Default)]
//! #[orm(table = "posts", belongs_to(author: User, foreign_key = "user_id", back_populates = "posts"))]
//! pub struct Post {
//!     #[orm(primary_key)] pub id: i64,
//!     pub title: String,
//!     #[orm(foreign_key = "users.id")] pub user_id: Option<i64>,
//! }
//!
//! let engine = create_engine("sqlite:///:memory:")?;
//! MetaData::new().add::<User>().add::<Post>().create_all(&engine)?;
//! let session = Session::new(&engine);
//! let alice = session.add(User { name: "Alice".into(), ..Default::default() });
//! alice.append(User::posts, Post { title: "Hello".into(), ..Default::default() })?;
//! session.commit()?;                       // INSERT user, then the post with user_id set
//! let post = session.query::<Post>().one()?;
//! assert_eq!(post.related(Post::author)?.unwrap().borrow().name, "Alice");
//! assert_eq!(alice.related(User::posts)?.len(), 1);
//! # Ok::<(), orm::Error>(())
//! ```

use crate::core::expr::BinOp;
use crate::core::{Expr, Join, JoinKind, Table};
use crate::error::{Error, Result};
use crate::model::{AnyTracked, IntoObj, Model, Obj, ObjectState};
use crate::query::{select_where_eq, Models, Query};
use crate::session::{downcast, Session};
use crate::value::Value;
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::rc::Rc;

mod dependency;
mod loading;

pub(crate) use dependency::{
    cascade_targets, clear_foreign_keys, delete_association_rows, delete_order, insert_order,
    sync_links, sync_persistent_links, write_associations, Association, Link,
};
pub(crate) use loading::{add_joined_loads, decode_joined_loads, eager_load};
pub use loading::{joinedload, selectinload, LoadOption, Loader};

/// `parent has many children`: the children's `foreign_key` column points at the parent's key
/// (one column per key column, `"term, code"`, when the parent's key is composite).
pub struct HasMany<P, C> {
    name: &'static str,
    foreign_key: &'static str,
    back_populates: Option<&'static str>,
    cascade: Option<&'static str>,
    _types: PhantomData<fn() -> (P, C)>,
}

/// `child belongs to parent`: this model's `foreign_key` column points at the parent's key
/// (one column per key column, `"term, code"`, when the parent's key is composite).
pub struct BelongsTo<C, P> {
    name: &'static str,
    foreign_key: &'static str,
    back_populates: Option<&'static str>,
    _types: PhantomData<fn() -> (C, P)>,
}

/// Many-to-many through an association table with a `local` and a `remote` column (one each:
/// models with a composite key cannot be either side).
pub struct ManyToMany<A, B> {
    name: &'static str,
    secondary: &'static str,
    local: &'static str,
    remote: &'static str,
    back_populates: Option<&'static str>,
    _types: PhantomData<fn() -> (A, B)>,
}

impl<P, C> HasMany<P, C> {
    /// The relationship as `#[derive(Model)]` declares it (`has_many(...)`).
    pub const fn new(
        name: &'static str,
        foreign_key: &'static str,
        back_populates: Option<&'static str>,
        cascade: Option<&'static str>,
    ) -> Self {
        HasMany {
            name,
            foreign_key,
            back_populates,
            cascade,
            _types: PhantomData,
        }
    }
}
impl<C, P> BelongsTo<C, P> {
    /// The relationship as `#[derive(Model)]` declares it (`belongs_to(...)`).
    pub const fn new(
        name: &'static str,
        foreign_key: &'static str,
        back_populates: Option<&'static str>,
    ) -> Self {
        BelongsTo {
            name,
            foreign_key,
            back_populates,
            _types: PhantomData,
        }
    }
}
impl<A, B> ManyToMany<A, B> {
    /// The relationship as `#[derive(Model)]` declares it (`many_to_many(...)`).
    pub const fn new(
        name: &'static str,
        secondary: &'static str,
        local: &'static str,
        remote: &'static str,
        back_populates: Option<&'static str>,
    ) -> Self {
        ManyToMany {
            name,
            secondary,
            local,
            remote,
            back_populates,
            _types: PhantomData,
        }
    }

    /// The association table, for `MetaData::add_table` (the lesson's `student_courses`): one
    /// column per side, each referencing its model's key, and the pair as the primary key
    /// (`PRIMARY KEY (local, remote)`), so the database refuses a second row for a pair that is
    /// already linked.
    pub fn secondary_table(&self) -> Table
    where
        A: Model,
        B: Model,
    {
        let (a, b) = (A::TABLE, B::TABLE);
        let a_pk = &a.columns[A::PRIMARY_KEY];
        let b_pk = &b.columns[B::PRIMARY_KEY];
        let key_part = |name: &'static str, ty, table: &'static str, column| {
            let mut part = crate::core::ColumnDef::new(name, ty)
                .primary_key()
                .references(table, column);
            // A part of a composite key is given, never assigned by the database.
            part.autoincrement = false;
            part
        };
        Table::new(self.secondary)
            .column(key_part(
                self.local,
                a_pk.ty,
                A::TABLE_NAME,
                a_pk.name.clone(),
            ))
            .column(key_part(
                self.remote,
                b_pk.ty,
                B::TABLE_NAME,
                b_pk.name.clone(),
            ))
    }
}

macro_rules! copy_clone {
    ($($ty:ident),*) => {$(
        impl<X, Y> Clone for $ty<X, Y> {
            fn clone(&self) -> Self { *self }
        }
        impl<X, Y> Copy for $ty<X, Y> {}
    )*};
}
copy_clone!(HasMany, BelongsTo, ManyToMany);

/// A relationship from model `P`: what navigating it yields, and how to load it.
pub trait Relationship<P: Model>: Copy + 'static {
    /// The related model.
    type Target: Model;
    /// `Vec<Obj<…>>` for collections, `Option<Obj<…>>` for a parent.
    type Output;
    /// The relationship's name (`posts`).
    fn name(&self) -> &'static str;
    /// The relationship's `cascade` as declared, if any.
    fn cascade(&self) -> Option<&'static str> {
        None
    }
    /// Loads the related objects of one parent (a lazy load: one statement).
    ///
    /// # Errors
    ///
    /// The database's error for the `SELECT`; [`Error::WrongType`] for a row that does not fit the
    /// target model.
    fn fetch(&self, session: &Session, parent: &Obj<P>) -> Result<Vec<Obj<Self::Target>>>;
    /// The loaded objects as the relationship yields them (a collection, or at most one parent).
    fn output(items: Vec<Obj<Self::Target>>) -> Self::Output;
    /// The type-erased loader used by `joinedload` / `selectinload` and cascades.
    fn loader(&self) -> Rc<dyn Loader>;
}

/// Relationships holding many objects: `append` and `remove` work on them.
pub trait Collection<P: Model>: Relationship<P> {
    /// Checks the declaration before anything changes (a `foreign_key` that fits the parent's
    /// key), so a misdeclared relationship leaves the session as it was.
    #[doc(hidden)]
    fn check_declaration(&self) -> Result<()> {
        Ok(())
    }
    #[doc(hidden)]
    fn link(
        &self,
        session: &Session,
        parent: &Obj<P>,
        child: &Obj<Self::Target>,
        add: bool,
    ) -> Result<()>;
}

fn column_index(table: &Table, column: &str) -> Option<usize> {
    table.columns.iter().position(|c| c.name == column)
}

/// Finds the foreign key column `column` of `M` (pointing at `P`'s key), or says which model
/// lacks it, which columns it has, and how to declare the foreign key (the misuse error at
/// first use).
fn require_column<M: Model, P: Model>(
    relationship: &str,
    owner: &str,
    column: &str,
) -> Result<usize> {
    column_index(&M::TABLE, column).ok_or_else(|| {
        let names = |columns: &mut dyn Iterator<Item = &Cow<'static, str>>| {
            columns.map(|c| c.as_ref()).collect::<Vec<_>>().join(", ")
        };
        let (table, parent) = (M::TABLE, P::TABLE);
        let keys = names(&mut P::PRIMARY_KEYS.iter().map(|&k| &parent.columns[k].name));
        let declare = if P::PRIMARY_KEYS.len() == 1 {
            format!("#[orm(foreign_key = \"{}.{keys}\")] on the column", P::TABLE_NAME)
        } else {
            format!(
                "#[orm(foreign_key_constraint(\"…\", \"…\", references = \"{}({keys})\"))] on the model",
                P::TABLE_NAME
            )
        };
        Error::InvalidRequest(format!(
            "relationship {owner}.{relationship}: model of table {} has no column `{column}` (its \
             columns: {}); declare the foreign key with {declare}, or fix the relationship's \
             foreign_key",
            M::TABLE_NAME,
            names(&mut table.columns.iter().map(|c| &c.name)),
        ))
    })
}

/// The columns of `M` a relationship's `foreign_key` names, as positions among `M`'s columns:
/// one name, or several separated by commas when the parent `P` has a composite key
/// (`foreign_key = "term, code"`), taken in order for `P`'s key columns; when `M` declares a
/// `foreign_key_constraint` over the same columns towards `P`, its pairs decide instead, in any
/// order of the names (as SQLAlchemy pairs a relationship's columns through the constraint).
///
/// # Errors
///
/// [`Error::InvalidRequest`] naming the relationship when the number of names differs from the
/// number of `P`'s key columns, or a name is no column of `M`.
fn foreign_key_columns<M: Model, P: Model>(
    relationship: &str,
    owner: &str,
    foreign_key: &str,
) -> Result<Vec<usize>> {
    let keys = P::PRIMARY_KEYS;
    if keys.len() == 1 && !foreign_key.contains(',') {
        // The common case, one column: no list of names to build.
        return Ok(vec![require_column::<M, P>(
            relationship,
            owner,
            foreign_key,
        )?]);
    }
    let names: Vec<&str> = foreign_key.split(',').map(str::trim).collect();
    if names.len() != keys.len() {
        let table = P::TABLE;
        let key_names: Vec<&str> = keys
            .iter()
            .map(|&i| table.columns[i].name.as_ref())
            .collect();
        return Err(Error::InvalidRequest(format!(
            "relationship {owner}.{relationship}: foreign_key = \"{foreign_key}\" names {} column{}, but the \
             primary key of {} has {} ({}); name one column of {} per key column, in the key's order \
             (foreign_key = \"{}\")",
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            P::TABLE_NAME,
            keys.len(),
            key_names.join(", "),
            M::TABLE_NAME,
            key_names.join(", "),
        )));
    }
    // A `foreign_key_constraint` of `M` over these columns towards `P` says which column holds
    // which key column: its pairs decide, whatever the order of the names (SQLAlchemy pairs a
    // relationship's `foreign_keys` through the constraint the same way).
    let (table, parent) = (M::TABLE, P::TABLE);
    let declared = table.foreign_keys.iter().find(|c| {
        c.table == P::TABLE_NAME
            && c.columns.len() == names.len()
            && names.iter().all(|n| c.columns.iter().any(|c| c == n))
    });
    let paired: Option<Vec<&str>> = declared.and_then(|constraint| {
        keys.iter()
            .map(|&k| {
                let key = &parent.columns[k].name;
                let at = constraint.referred.iter().position(|r| r == key)?;
                Some(constraint.columns[at].as_ref())
            })
            .collect()
    });
    paired
        .unwrap_or(names)
        .iter()
        .map(|name| require_column::<M, P>(relationship, owner, name))
        .collect()
}

/// The parent key that foreign key columns `columns` hold, `value(i)` giving column `i`'s key
/// part: the parent's identity key (`Key::Composite` over several columns), `None` while any
/// column is NULL.
fn foreign_key_value(
    columns: &[usize],
    value: impl Fn(usize) -> Option<crate::model::Key>,
) -> Option<crate::model::Key> {
    if let [one] = columns {
        return value(*one);
    }
    let parts = columns
        .iter()
        .map(|&i| value(i))
        .collect::<Option<Vec<_>>>()?;
    Some(crate::model::Key::Composite(parts.into()))
}

/// `a = x AND b = y`: each of `left` equal to the `right` at its position (one pair: `a = x`).
fn pairs_equal(
    left: impl IntoIterator<Item = Expr>,
    right: impl IntoIterator<Item = Expr>,
) -> Expr {
    let mut parts: Vec<Expr> = left.into_iter().zip(right).map(|(l, r)| eq(l, r)).collect();
    if parts.len() == 1 {
        return parts.remove(0);
    }
    Expr::And(parts)
}

/// The columns of `M` at `columns`, qualified by its table.
fn columns_of<M: Model>(columns: &[usize]) -> Vec<Expr> {
    columns
        .iter()
        .map(|&i| Expr::column(M::TABLE_NAME, M::TABLE.columns[i].name.clone()))
        .collect()
}

fn key_value<M: Model>(obj: &Obj<M>) -> Value {
    obj.primary_key()
}

fn eq(left: Expr, right: Expr) -> Expr {
    Expr::Binary {
        left: Box::new(left),
        op: BinOp::Eq,
        right: Box::new(right),
    }
}

fn in_list(column: Expr, values: Vec<Value>) -> Expr {
    Expr::InList {
        expr: Box::new(column),
        list: values.into_iter().map(Expr::Value).collect(),
        negated: false,
    }
}

fn pk_expr<M: Model>() -> Expr {
    Expr::column(M::TABLE_NAME, M::TABLE.columns[M::PRIMARY_KEY].name.clone())
}

/// The object's session; `verb` and `relationship` name what needed it, only in the error
/// (no message is formatted on the path that succeeds).
fn session_of<T: Model>(obj: &Obj<T>, verb: &str, relationship: &str) -> Result<Session> {
    if let Some(cell) = obj.session() {
        return Ok(Session { cell });
    }
    let what = format!("{verb} {relationship}");
    Err(Error::InvalidRequest(match obj.state() {
        // Objects point at their session weakly, as in SQLAlchemy: a dropped session detaches them.
        ObjectState::Persistent | ObjectState::Pending => format!(
            "cannot {what}: the session this {} object belongs to was dropped; keep the Session in a \
             variable while you use its objects",
            T::TABLE_NAME
        ),
        state => format!(
            "cannot {what}: this {} object is not in a session ({state:?}); add it to a session or query it again",
            T::TABLE_NAME
        ),
    }))
}

impl<P: Model, C: Model> Relationship<P> for HasMany<P, C> {
    type Target = C;
    type Output = Vec<Obj<C>>;
    fn name(&self) -> &'static str {
        self.name
    }
    fn cascade(&self) -> Option<&'static str> {
        self.cascade
    }
    fn fetch(&self, session: &Session, parent: &Obj<P>) -> Result<Vec<Obj<C>>> {
        if P::PRIMARY_KEYS.len() == 1 && !self.foreign_key.contains(',') {
            require_column::<C, P>(self.name, P::TABLE_NAME, self.foreign_key)?;
            // `query::<C>().filter(fk == key).all()`, with its SQL written once per session: a
            // lazy load runs this one shape for every parent navigated (and allocates nothing
            // to find its column).
            let key = key_value(parent);
            return select_where_eq::<C>(session, Some(self.foreign_key), key.as_ref());
        }
        let fk = foreign_key_columns::<C, P>(self.name, P::TABLE_NAME, self.foreign_key)?;
        // A composite key: `WHERE term = ? AND code = ?`, one pair per key column.
        let values: Vec<Expr> = P::PRIMARY_KEYS
            .iter()
            .map(|&i| Expr::Value(parent.borrow().column_value(i).to_owned()))
            .collect();
        let mut query = Query::new(Models::<C>::new()).bind(session);
        query
            .select
            .add_filter(pairs_equal(columns_of::<C>(&fk), values));
        query.all()
    }
    fn output(items: Vec<Obj<C>>) -> Vec<Obj<C>> {
        items
    }
    fn loader(&self) -> Rc<dyn Loader> {
        Rc::new(*self)
    }
}

impl<C: Model, P: Model> Relationship<C> for BelongsTo<C, P> {
    type Target = P;
    type Output = Option<Obj<P>>;
    fn name(&self) -> &'static str {
        self.name
    }
    fn fetch(&self, session: &Session, child: &Obj<C>) -> Result<Vec<Obj<P>>> {
        let fk = foreign_key_columns::<C, P>(self.name, C::TABLE_NAME, self.foreign_key)?;
        let key = {
            let value = child.borrow();
            foreign_key_value(&fk, |i| {
                crate::model::Key::from_value_ref(value.column_value(i))
            })
        };
        match key {
            // Many-to-one goes through `get`: no statement when the parent is already loaded.
            Some(key) => Ok(session.get::<P>(key)?.into_iter().collect()),
            None => Ok(Vec::new()),
        }
    }
    fn output(items: Vec<Obj<P>>) -> Option<Obj<P>> {
        items.into_iter().next()
    }
    fn loader(&self) -> Rc<dyn Loader> {
        Rc::new(*self)
    }
}

impl<A: Model, B: Model> ManyToMany<A, B> {
    fn join(&self) -> Join {
        Join {
            kind: JoinKind::Inner,
            table: Cow::Borrowed(self.secondary),
            on: eq(Expr::column(self.secondary, self.remote), pk_expr::<B>()),
        }
    }
}

impl<A: Model, B: Model> Relationship<A> for ManyToMany<A, B> {
    type Target = B;
    type Output = Vec<Obj<B>>;
    fn name(&self) -> &'static str {
        self.name
    }
    fn fetch(&self, session: &Session, parent: &Obj<A>) -> Result<Vec<Obj<B>>> {
        let mut query = Query::new(Models::<B>::new()).bind(session);
        query.select.joins.push(self.join());
        query.select.add_filter(eq(
            Expr::column(self.secondary, self.local),
            Expr::Value(key_value(parent)),
        ));
        query.all()
    }
    fn output(items: Vec<Obj<B>>) -> Vec<Obj<B>> {
        items
    }
    fn loader(&self) -> Rc<dyn Loader> {
        Rc::new(*self)
    }
}

impl<P: Model, C: Model> Collection<P> for HasMany<P, C> {
    fn check_declaration(&self) -> Result<()> {
        foreign_key_columns::<C, P>(self.name, P::TABLE_NAME, self.foreign_key).map(drop)
    }
    fn link(&self, session: &Session, parent: &Obj<P>, child: &Obj<C>, add: bool) -> Result<()> {
        let fk = foreign_key_columns::<C, P>(self.name, P::TABLE_NAME, self.foreign_key)?;
        let parent_rc: Rc<dyn AnyTracked> = parent.0.clone();
        let child_rc: Rc<dyn AnyTracked> = child.0.clone();
        if !begin_link(session, &parent_rc, self.name, &child_rc, add) {
            return Ok(());
        }
        if let Some(back) = self.back_populates {
            let old = child.0.relations.borrow_mut().insert(
                back,
                if add {
                    vec![parent_rc.clone()]
                } else {
                    Vec::new()
                },
            );
            // Moving a child: the old parent's loaded collection no longer holds it. When the
            // child's parent was never loaded, the old parent is the one its foreign key names,
            // if the identity map holds it (SQLAlchemy's backref looks there too, without SQL).
            let old = match old {
                Some(old) => old,
                None if add => previous_parent::<C, P>(session, child, &fk)?
                    .into_iter()
                    .collect(),
                None => Vec::new(),
            };
            for previous in old.into_iter().filter(|p| !Rc::ptr_eq(p, &parent_rc)) {
                update_cached(&previous, self.name, &child_rc, false);
            }
        }
        let orphan = !add && self.cascade.is_some_and(|c| c.contains("delete-orphan"));
        if orphan && child.state() == ObjectState::Pending {
            // A pending orphan was never written: it leaves the session (SQLAlchemy expunges
            // it), and no link of it is written either.
            session
                .state()?
                .links
                .retain(|l| !Rc::ptr_eq(&l.child, &child_rc));
            return session.delete(child);
        }
        let mut state = session.state()?;
        if orphan && child.state() == ObjectState::Persistent {
            // An orphan is deleted, not unlinked: its key may not even allow NULL.
            state.push_deleted(child_rc);
        } else {
            push_links(
                &mut state.links,
                &child_rc,
                &fk,
                add.then_some(parent_rc),
                P::PRIMARY_KEYS,
            );
        }
        Ok(())
    }
}

impl<A: Model, B: Model> Collection<A> for ManyToMany<A, B> {
    fn link(&self, session: &Session, parent: &Obj<A>, child: &Obj<B>, add: bool) -> Result<()> {
        let parent_rc: Rc<dyn AnyTracked> = parent.0.clone();
        let child_rc: Rc<dyn AnyTracked> = child.0.clone();
        if !begin_link(session, &parent_rc, self.name, &child_rc, add) {
            return Ok(());
        }
        if let Some(back) = self.back_populates {
            update_cached(&child_rc, back, &parent_rc, add);
        }
        session.state()?.associations.push(Association {
            table: self.secondary,
            local: self.local,
            remote: self.remote,
            left: parent_rc,
            right: child_rc,
            add,
        });
        Ok(())
    }
}

/// The parent of `child` in the identity map by the values of its foreign key columns `fk`
/// (`None` when a part is NULL or that parent is not loaded): where a child was before an
/// `append` moves it, when its own many-to-one side was never loaded.
fn previous_parent<C: Model, P: Model>(
    session: &Session,
    child: &Obj<C>,
    fk: &[usize],
) -> Result<Option<Rc<dyn AnyTracked>>> {
    let key = {
        let value = child.borrow();
        foreign_key_value(fk, |i| {
            crate::model::Key::from_value_ref(value.column_value(i))
        })
    };
    Ok(match key {
        Some(key) => session.state()?.identity.get(P::TABLE_NAME, &key).cloned(),
        None => None,
    })
}

/// The common start of a `link` of `item` into (`add`) or out of `owner`'s collection `name`:
/// returns `false` when a loaded collection already says so (the item is in it, or not), so
/// nothing changes and no link or association row is written twice or deleted when absent;
/// otherwise updates the loaded collection (if any) and returns `true`.
fn begin_link(
    session: &Session,
    owner: &Rc<dyn AnyTracked>,
    name: &'static str,
    item: &Rc<dyn AnyTracked>,
    add: bool,
) -> bool {
    session.cell.relations_loaded.set(true);
    let already = owner
        .relations()
        .borrow()
        .get(name)
        .map(|items| items.iter().any(|i| Rc::ptr_eq(i, item)) == add);
    if already == Some(true) {
        return false;
    }
    update_cached(owner, name, item, add);
    true
}

/// Adds to or removes from a collection, if it was loaded; an unloaded one loads fresh later.
fn update_cached(
    owner: &Rc<dyn AnyTracked>,
    name: &'static str,
    item: &Rc<dyn AnyTracked>,
    add: bool,
) {
    let mut rel = owner.relations().borrow_mut();
    if let Some(items) = rel.get_mut(name) {
        items.retain(|i| !Rc::ptr_eq(i, item));
        if add {
            items.push(item.clone());
        }
    }
}

impl<T: Model> Obj<T> {
    /// Navigates a relationship: `user.related(User::posts)?`, `post.related(Post::author)?`.
    /// Loaded once (lazily, or eagerly by the query's `options`), then served from the object.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] when the object is in no session (transient, detached, or its
    /// session was dropped); the autoflush's or the lazy load's database error when the relationship is not
    /// loaded yet.
    pub fn related<R: Relationship<T>>(&self, relationship: R) -> Result<R::Output> {
        if let Some(items) = self.0.relations.borrow().get(relationship.name()) {
            let typed = items
                .iter()
                .map(|i| downcast::<R::Target>(i.clone()))
                .collect::<Result<Vec<_>>>()?;
            return Ok(R::output(typed));
        }
        let session = session_of(self, "load", relationship.name())?;
        session.autoflush()?;
        let items = relationship.fetch(&session, self)?;
        session.cell.relations_loaded.set(true);
        let erased = items
            .iter()
            .map(|i| i.0.clone() as Rc<dyn AnyTracked>)
            .collect();
        self.0
            .relations
            .borrow_mut()
            .insert(relationship.name(), erased);
        Ok(R::output(items))
    }

    /// Adds an object to a collection (`user.posts.append(post)`): its foreign key, or the
    /// association row, is written at the next flush. A new object joins the session.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] when the object is in no session (transient, detached, or its
    /// session was dropped); [`Error::InvalidRequest`] when the session is busy (called from inside one of its
    /// own operations).
    pub fn append<R: Collection<T>>(
        &self,
        relationship: R,
        item: impl IntoObj<R::Target>,
    ) -> Result<Obj<R::Target>> {
        let session = session_of(self, "append to", relationship.name())?;
        relationship.check_declaration()?;
        let item = session.add(item);
        relationship.link(&session, self, &item, true)?;
        Ok(item)
    }

    /// Removes an object from a collection: clears its foreign key (or deletes it with a
    /// `delete-orphan` cascade), or deletes the association row.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] when the object is in no session (transient, detached, or its
    /// session was dropped); [`Error::InvalidRequest`] when the session is busy, or the collection's
    /// `cascade` must load children and that load fails.
    pub fn remove<R: Collection<T>>(&self, relationship: R, item: &Obj<R::Target>) -> Result<()> {
        let session = session_of(self, "remove from", relationship.name())?;
        relationship.link(&session, self, item, false)
    }

    /// Sets or clears a parent (`post.author = user`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] when the object is in no session (transient, detached, or its
    /// session was dropped); [`Error::InvalidRequest`] when the relationship's `foreign_key` is no column of the
    /// model or names another number of columns than the parent's key has, or when the session is busy.
    pub fn set_related<P: Model>(
        &self,
        relationship: BelongsTo<T, P>,
        parent: Option<&Obj<P>>,
    ) -> Result<()> {
        let session = session_of(self, "set", relationship.name)?;
        session.cell.relations_loaded.set(true);
        let fk = foreign_key_columns::<T, P>(
            relationship.name,
            T::TABLE_NAME,
            relationship.foreign_key,
        )?;
        let me: Rc<dyn AnyTracked> = self.0.clone();
        let old = self
            .0
            .relations
            .borrow()
            .get(relationship.name)
            .and_then(|v| v.first().cloned());
        if let (Some(old), Some(back)) = (&old, relationship.back_populates) {
            update_cached(old, back, &me, false);
        }
        let parent_rc = parent.map(|p| {
            let p = session.add(p);
            p.0 as Rc<dyn AnyTracked>
        });
        if let (Some(p), Some(back)) = (&parent_rc, relationship.back_populates) {
            update_cached(p, back, &me, true);
        }
        self.0
            .relations
            .borrow_mut()
            .insert(relationship.name, parent_rc.iter().cloned().collect());
        push_links(
            &mut session.state()?.links,
            &me,
            &fk,
            parent_rc,
            P::PRIMARY_KEYS,
        );
        Ok(())
    }
}

/// One link per foreign key column `columns[i]` of `child`, set at flush from the parent's key
/// column `parent_keys[i]` (or to NULL without a parent).
fn push_links(
    links: &mut Vec<Link>,
    child: &Rc<dyn AnyTracked>,
    columns: &[usize],
    parent: Option<Rc<dyn AnyTracked>>,
    parent_keys: &[usize],
) {
    for (&column, &parent_column) in columns.iter().zip(parent_keys) {
        links.push(Link {
            child: child.clone(),
            column,
            parent: parent.clone(),
            parent_column,
        });
    }
}

/// Related objects loaded for one object, by relationship name. A short list, not a hash map (a
/// model declares a handful of relationships), and boxed: the many objects with none loaded pay
/// one null pointer, 8 bytes, where an empty map costs 32.
#[derive(Default)]
#[doc(hidden)]
pub struct Loaded {
    cache: Option<Box<LoadedList>>,
}

type LoadedRelationship = (&'static str, Vec<Rc<dyn AnyTracked>>);

/// The first relationship loaded in the box itself, the others in a `Vec` (which allocates
/// only when there are others): an object whose one relationship is loaded costs one
/// allocation for the list, not a box and a `Vec`'s buffer.
struct LoadedList {
    first: LoadedRelationship,
    more: Vec<LoadedRelationship>,
}

impl Loaded {
    pub(crate) fn clear(&mut self) {
        self.cache = None;
    }
    fn list(&self) -> impl Iterator<Item = &LoadedRelationship> {
        self.cache
            .iter()
            .flat_map(|l| std::iter::once(&l.first).chain(l.more.iter()))
    }
    fn position(&self, name: &str) -> Option<usize> {
        self.list().position(|(n, _)| *n == name)
    }
    /// The objects of the relationship at `at` (as `position` counts).
    fn at_mut(&mut self, at: usize) -> Option<&mut Vec<Rc<dyn AnyTracked>>> {
        let list = self.cache.as_deref_mut()?;
        match at {
            0 => Some(&mut list.first.1),
            _ => list.more.get_mut(at - 1).map(|(_, v)| v),
        }
    }
    fn get(&self, name: &str) -> Option<&Vec<Rc<dyn AnyTracked>>> {
        self.list().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
    fn get_mut(&mut self, name: &str) -> Option<&mut Vec<Rc<dyn AnyTracked>>> {
        let at = self.position(name)?;
        self.at_mut(at)
    }
    /// A relationship not in the list yet, with `items`; returns its objects.
    fn push(
        &mut self,
        name: &'static str,
        items: Vec<Rc<dyn AnyTracked>>,
    ) -> &mut Vec<Rc<dyn AnyTracked>> {
        if self.cache.is_none() {
            let list = self.cache.insert(Box::new(LoadedList {
                first: (name, items),
                more: Vec::new(),
            }));
            return &mut list.first.1;
        }
        let list = self.cache.as_deref_mut().expect("checked above");
        list.more.push((name, items));
        &mut list.more.last_mut().expect("pushed").1
    }
    /// Sets the objects of one relationship; returns the ones it held before.
    fn insert(
        &mut self,
        name: &'static str,
        items: Vec<Rc<dyn AnyTracked>>,
    ) -> Option<Vec<Rc<dyn AnyTracked>>> {
        match self.get_mut(name) {
            Some(old) => Some(std::mem::replace(old, items)),
            None => {
                self.push(name, items);
                None
            }
        }
    }
    fn get_or_default(&mut self, name: &'static str) -> &mut Vec<Rc<dyn AnyTracked>> {
        match self.position(name) {
            Some(at) => self.at_mut(at).expect("found"),
            None => self.push(name, Vec::new()),
        }
    }
}

/// A relationship as declared on a model, for cascades and for showing the model's shape.
#[derive(Clone)]
pub struct RelationshipInfo {
    /// The relationship's name (`posts`).
    pub name: &'static str,
    /// The related model's table.
    pub target: &'static str,
    /// The `cascade` as declared (`"all, delete-orphan"`), if any.
    pub cascade: Option<&'static str>,
    loader: Rc<dyn Loader>,
}

impl RelationshipInfo {
    /// The description of one declared relationship.
    pub fn of<P: Model, R: Relationship<P>>(relationship: &R) -> RelationshipInfo {
        RelationshipInfo {
            name: relationship.name(),
            target: R::Target::TABLE_NAME,
            cascade: relationship.cascade(),
            loader: relationship.loader(),
        }
    }
}

impl fmt::Debug for RelationshipInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {}", self.name, self.target)
    }
}
