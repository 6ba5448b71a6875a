//! ORM queries: what to fetch (models, columns, tuples of them) and the chained builder that
//! compiles down to a Core `Select`.

use crate::core::expr::BinOp;
use crate::core::{Alias, Cte, InValues, IntoSelect, Subquery};
use crate::core::{Column, SqlWriter, StandardWriter};
use crate::core::{
    Condition, Expr, FromItem, IntoOrderBy, Join, JoinKind, Select, SelectItem, SqlExpr, Statement,
    Table, TypedExpr,
};
use crate::engine::RowReader;
use crate::error::{Error, Result};
use crate::model::{Key, Model, Obj};
use crate::relationship::LoadOption;
use crate::session::{downcast, IdentityMap, Session, SessionCell, SessionState, Slot};
use crate::value::{SqlType, Value, ValueRef};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::rc::Weak;

/// What rows decode into, with the session's identity map at hand.
pub struct LoadContext<'s> {
    /// The session's identity map (`None`: a query bound to no session).
    pub(crate) identity: Option<&'s mut IdentityMap>,
    pub(crate) session: Weak<SessionCell>,
    /// The model decoded last in this row: the parent of joined-loaded relationships.
    pub(crate) last_decoded: Option<std::rc::Rc<dyn crate::model::AnyTracked>>,
    /// Collections already reset by this query's joined loading.
    pub(crate) initialized: rustc_hash::FxHashSet<(usize, &'static str)>,
    /// The collection the previous row added to: joined rows of one parent usually come one
    /// after another, and then the set above need not be asked again.
    pub(crate) last_initialized: Option<(usize, &'static str)>,
    /// The key and object of the row's first model in the previous row: joined rows repeat
    /// their parent row after row, and a repeat is then found without hashing its key.
    pub(crate) previous_first: Option<(Key, std::rc::Rc<dyn crate::model::AnyTracked>)>,
    /// Whether the statement joins tables, so rows may repeat an object (and joined loading
    /// needs the row's last object): without a join, `last_decoded` and `previous_first` are
    /// not kept, which spares every row of a plain query two reference counts and a key.
    pub(crate) joined: bool,
}

/// Something a query can fetch: a model (as `Obj<T>`), a column or expression (as its Rust
/// type), or a tuple of these.
pub trait Fetch: Clone + 'static {
    /// What one row decodes into.
    type Output;
    /// The select-list items it needs.
    fn columns(&self, out: &mut Vec<SelectItem>);
    /// The tables the fetched columns come from, in order (the query's `FROM`).
    fn tables(&self, out: &mut Vec<Cow<'static, str>>);
    /// Model tables, for finding the foreign key of a `join`.
    fn model_tables(&self, _out: &mut Vec<Table>) {}
    /// Decodes one row (or the next columns of it).
    ///
    /// # Errors
    ///
    /// [`Error::WrongType`] for a value that does not fit its field; the driver's error when a
    /// column cannot be read.
    fn decode(&self, ctx: &mut LoadContext<'_>, row: &mut RowReader<'_>) -> Result<Self::Output>;
    /// One whole model per row: joined rows are made unique, as SQLAlchemy's `Query` does.
    fn single_entity(&self) -> bool {
        false
    }
    /// Drops repeated rows of the same object (joined rows repeat the parent).
    fn unique(&self, rows: Vec<Self::Output>) -> Vec<Self::Output> {
        rows
    }
    /// Runs eager loads on what was fetched (`options(selectinload(…))`).
    fn eager_load(
        &self,
        _session: &Session,
        _rows: &[Self::Output],
        _stmt: &Select,
        loads: &[LoadOption],
    ) -> Result<()> {
        if loads.is_empty() {
            Ok(())
        } else {
            Err(Error::InvalidRequest(
                "eager loading options apply to queries of one model".into(),
            ))
        }
    }
}

/// Fetches whole model objects of type `T`.
pub struct Models<T>(PhantomData<fn() -> T>);

impl<T> Models<T> {
    /// The fetcher of `T` objects.
    pub fn new() -> Self {
        Models(PhantomData)
    }
}
impl<T> Default for Models<T> {
    fn default() -> Self {
        Models::new()
    }
}
impl<T> Clone for Models<T> {
    fn clone(&self) -> Self {
        Models::new()
    }
}

pub(crate) fn model_columns<T: Model>(out: &mut Vec<SelectItem>) {
    for c in T::TABLE.columns.iter() {
        out.push(SelectItem {
            expr: Expr::column(T::TABLE_NAME, c.name.clone()),
            alias: None,
        });
    }
}

/// Decodes one model from the row, reusing the identity map's object when the row is known.
pub(crate) fn decode_model<T: Model>(
    ctx: &mut LoadContext<'_>,
    row: &mut RowReader<'_>,
) -> Result<Obj<T>> {
    let Some(identity) = ctx.identity.as_deref_mut() else {
        return Err(Error::InvalidRequest(
            "this query is not bound to a session: run it with session.scalars(query)".into(),
        ));
    };
    // One hash lookup per row: the entry either holds the known object or receives the new one.
    let key = if let [one] = T::PRIMARY_KEYS {
        Key::from_value_ref(row.peek_kept(*one)?)
    } else {
        crate::model::key_from::<T>(|i| row.peek(i).map(Key::from_value_ref))?
    };
    if !ctx.joined {
        return match key {
            Some(key) => known_or_new::<T>(identity, &ctx.session, key, row),
            None => Ok(Obj::persistent(T::from_row(row)?, ctx.session.clone())),
        };
    }
    let first_of_row = ctx.last_decoded.is_none();
    if let (Some(key), Some((previous, obj))) = (&key, &ctx.previous_first) {
        // The same row's object as the previous row's (joined loading): known, and loaded
        // from this very query, so not expired; the identity map need not be asked.
        if key == previous && std::ptr::eq(obj.table_name(), T::TABLE_NAME) && !obj.is_expired() {
            let obj = downcast::<T>(obj.clone())?;
            row.skip(T::COLUMN_COUNT);
            ctx.last_decoded = Some(obj.0.clone());
            return Ok(obj);
        }
    }
    // Integer keys only: remembering a text key would copy it on every row.
    let remembered = match &key {
        Some(Key::Int(i)) if first_of_row => Some(Key::Int(*i)),
        _ => None,
    };
    let obj = match key {
        Some(key) => known_or_new::<T>(identity, &ctx.session, key, row)?,
        None => Obj::persistent(T::from_row(row)?, ctx.session.clone()),
    };
    if let Some(key) = remembered {
        ctx.previous_first = Some((key, obj.0.clone()));
    }
    ctx.last_decoded = Some(obj.0.clone());
    Ok(obj)
}

/// The identity map's object of `key`, refreshed from the row if it is expired, or a new one
/// made from the row and entered in the map: one hash lookup either way.
fn known_or_new<T: Model>(
    identity: &mut IdentityMap,
    session: &Weak<SessionCell>,
    key: Key,
    row: &mut RowReader<'_>,
) -> Result<Obj<T>> {
    match identity.entry(T::TABLE_NAME, key) {
        Slot::Occupied(existing) => {
            let obj = downcast::<T>(existing.clone())?;
            if obj.0.expired.get() && obj.0.snapshot.borrow().is_none() {
                // An expired object takes the row's values (SQLAlchemy's refresh on load).
                let fresh = T::from_row(row)?;
                if let Ok(mut value) = obj.0.value.try_borrow_mut() {
                    *value = fresh;
                    obj.0.expired.set(false);
                }
            } else {
                row.skip(T::COLUMN_COUNT);
            }
            Ok(obj)
        }
        Slot::Vacant(slot) => {
            let obj = Obj::persistent(T::from_row(row)?, session.clone());
            slot.insert(obj.0.clone());
            Ok(obj)
        }
    }
}

/// The parts of [`Fetch`] that [`Models`] and [`OptionalModels`] share (both select every column
/// of one model `T`): a macro, as a trait's default methods cannot name the impl's `T`.
macro_rules! model_fetch_tables {
    () => {
        fn columns(&self, out: &mut Vec<SelectItem>) {
            model_columns::<T>(out)
        }
        fn tables(&self, out: &mut Vec<Cow<'static, str>>) {
            out.push(Cow::Borrowed(T::TABLE_NAME));
        }
        fn model_tables(&self, out: &mut Vec<Table>) {
            out.push(T::TABLE);
        }
    };
}

impl<T: Model> Fetch for Models<T> {
    type Output = Obj<T>;
    model_fetch_tables!();
    fn decode(&self, ctx: &mut LoadContext<'_>, row: &mut RowReader<'_>) -> Result<Obj<T>> {
        decode_model::<T>(ctx, row)
    }
    fn single_entity(&self) -> bool {
        true
    }
    fn unique(&self, rows: Vec<Obj<T>>) -> Vec<Obj<T>> {
        let mut seen =
            rustc_hash::FxHashSet::with_capacity_and_hasher(rows.len(), Default::default());
        let mut previous = std::ptr::null();
        rows.into_iter()
            .filter(|o| {
                // Joined rows repeat their parent one after another: those repeats need no hash.
                let this = std::rc::Rc::as_ptr(&o.0);
                this != std::mem::replace(&mut previous, this) && seen.insert(this)
            })
            .collect()
    }
    fn eager_load(
        &self,
        session: &Session,
        rows: &[Obj<T>],
        stmt: &Select,
        loads: &[LoadOption],
    ) -> Result<()> {
        crate::relationship::eager_load::<T>(session, rows, stmt, loads)
    }
}

/// Fetches a model that may be missing (the right side of an outer join): `Option<Obj<T>>`.
pub struct OptionalModels<T>(PhantomData<fn() -> T>);
impl<T> Clone for OptionalModels<T> {
    fn clone(&self) -> Self {
        OptionalModels(PhantomData)
    }
}

impl<T: Model> Fetch for OptionalModels<T> {
    type Output = Option<Obj<T>>;
    model_fetch_tables!();
    fn decode(&self, ctx: &mut LoadContext<'_>, row: &mut RowReader<'_>) -> Result<Option<Obj<T>>> {
        if matches!(row.peek_kept(T::PRIMARY_KEY)?, ValueRef::Null) {
            row.skip(T::COLUMN_COUNT);
            return Ok(None);
        }
        decode_model::<T>(ctx, row).map(Some)
    }
}

/// Model types (and tuples of them) that `session.query::<E>()` accepts.
pub trait Entities {
    /// What fetches these entities.
    type Fetcher: Fetch;
    /// The fetcher.
    fn fetcher() -> Self::Fetcher;
}

impl<T: Model> Entities for Option<T> {
    type Fetcher = OptionalModels<T>;
    fn fetcher() -> Self::Fetcher {
        OptionalModels(PhantomData)
    }
}

fn expr_tables(expr: &Expr, out: &mut Vec<Cow<'static, str>>) {
    match expr {
        Expr::Column { table: Some(t), .. } => out.push(t.clone()),
        Expr::Binary { left, right, .. } => {
            expr_tables(left, out);
            expr_tables(right, out);
        }
        Expr::Function { args, .. } | Expr::And(args) | Expr::Or(args) | Expr::Tuple(args) => {
            args.iter().for_each(|a| expr_tables(a, out))
        }
        Expr::Not(e) | Expr::IsNull { expr: e, .. } => expr_tables(e, out),
        Expr::Cast { expr, .. } | Expr::Label { expr, .. } | Expr::Distinct(expr) => {
            expr_tables(expr, out)
        }
        Expr::Over { function, window } => {
            expr_tables(function, out);
            window.partition_by.iter().for_each(|e| expr_tables(e, out));
            window
                .order_by
                .iter()
                .for_each(|k| expr_tables(&k.expr, out));
        }
        Expr::Case { whens, else_ } => {
            for (condition, value) in whens {
                expr_tables(condition, out);
                expr_tables(value, out);
            }
            if let Some(e) = else_ {
                expr_tables(e, out);
            }
        }
        _ => {}
    }
}

impl<M: Model, T: SqlType> Fetch for Column<M, T> {
    type Output = T;
    fn columns(&self, out: &mut Vec<SelectItem>) {
        out.push(SelectItem {
            expr: self.expr(),
            alias: None,
        });
    }
    fn tables(&self, out: &mut Vec<Cow<'static, str>>) {
        out.push(Cow::Borrowed(self.table));
    }
    fn model_tables(&self, out: &mut Vec<Table>) {
        out.push(M::TABLE);
    }
    fn decode(&self, _ctx: &mut LoadContext<'_>, row: &mut RowReader<'_>) -> Result<T> {
        row.read(self.table, self.name)
    }
}

impl<T: SqlType> Fetch for TypedExpr<T> {
    type Output = T;
    fn columns(&self, out: &mut Vec<SelectItem>) {
        out.push(SelectItem {
            expr: self.expr.clone(),
            alias: None,
        });
    }
    fn tables(&self, out: &mut Vec<Cow<'static, str>>) {
        expr_tables(&self.expr, out);
    }
    fn decode(&self, _ctx: &mut LoadContext<'_>, row: &mut RowReader<'_>) -> Result<T> {
        row.read("(expression)", &self.expr.to_string())
    }
}

macro_rules! tuple_fetch {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: Fetch),+> Fetch for ($($name,)+) {
            type Output = ($($name::Output,)+);
            fn columns(&self, out: &mut Vec<SelectItem>) {
                $(self.$idx.columns(out);)+
            }
            fn tables(&self, out: &mut Vec<Cow<'static, str>>) {
                $(self.$idx.tables(out);)+
            }
            fn model_tables(&self, out: &mut Vec<Table>) {
                $(self.$idx.model_tables(out);)+
            }
            fn decode(&self, ctx: &mut LoadContext<'_>, row: &mut RowReader<'_>) -> Result<Self::Output> {
                Ok(($(self.$idx.decode(ctx, row)?,)+))
            }
        }
        impl<$($name: Entities),+> Entities for ($($name,)+) {
            type Fetcher = ($($name::Fetcher,)+);
            fn fetcher() -> Self::Fetcher {
                ($($name::fetcher(),)+)
            }
        }
    };
}
tuple_fetch!(A 0, B 1);
tuple_fetch!(A 0, B 1, C 2);
tuple_fetch!(A 0, B 1, C 2, D 3);

/// A query: built by chaining, run by `all`, `first`, `one`, `count`, …
///
/// ```
/// use orm::prelude::*;
/// #[derive(Model, Clone, Default)]
/// #[orm(table = "users")]
/// pub struct User { #[orm(primary_key)] pub id: i64, pub name: String, pub age: Option<i64> }
/// let engine = create_engine("sqlite:///:memory:")?;
/// MetaData::new().add::<User>().create_all(&engine)?;
/// let session = Session::new(&engine);
/// for (name, age) in [("Alice", 30), ("Bob", 17), ("Carol", 42)] {
///     session.add(User { name: name.into(), age: Some(age), ..Default::default() });
/// }
/// let adults = session.query::<User>().filter(User::age.ge(18)).order_by(User::name.desc()).all()?;
/// let names: Vec<String> = adults.iter().map(|u| u.borrow().name.clone()).collect();
/// assert_eq!(names, ["Carol", "Alice"]);
/// let avg = session.query_values(func::avg(User::age)).scalar()?;
/// assert_eq!(avg, Some(89.0 / 3.0));
/// # Ok::<(), orm::Error>(())
/// ```
pub struct Query<F: Fetch> {
    session: Option<Session>,
    pub(crate) select: Select,
    fetch: F,
    joined: Vec<Table>,
    from_models: Vec<Table>,
    error: Option<Error>,
    pub(crate) loads: Vec<LoadOption>,
}

impl<F: Fetch> Clone for Query<F> {
    fn clone(&self) -> Self {
        Query {
            session: self.session.clone(),
            select: self.select.clone(),
            fetch: self.fetch.clone(),
            joined: self.joined.clone(),
            from_models: self.from_models.clone(),
            error: self.error.as_ref().map(Error::copy_deferred),
            loads: self.loads.clone(),
        }
    }
}

/// A 2.0-style query of a model, not yet bound to a session: `session.scalars(select::<User>())`.
pub fn select<E: Entities>() -> Query<E::Fetcher> {
    Query::new(E::fetcher())
}

/// A 2.0-style query of columns or expressions: `select_values((User::name, User::age))`.
pub fn select_values<F: Fetch>(columns: F) -> Query<F> {
    Query::new(columns)
}

impl<F: Fetch> Query<F> {
    /// A query fetching `fetch`, not bound to a session.
    pub fn new(fetch: F) -> Self {
        Query {
            session: None,
            select: Select::default(),
            fetch,
            joined: Vec::new(),
            from_models: Vec::new(),
            error: None,
            loads: Vec::new(),
        }
    }

    /// Attaches the query to a session (what `session.query` does).
    pub fn bind(mut self, session: &Session) -> Self {
        self.session = Some(session.clone());
        self
    }

    /// Keeps rows where the condition holds; several calls are joined with `AND`.
    pub fn filter(mut self, condition: Condition) -> Self {
        self.select.add_filter(condition.expr);
        self
    }

    /// SQLAlchemy 2.0's name for `filter`.
    pub fn where_(self, condition: Condition) -> Self {
        self.filter(condition)
    }

    /// `filter_by(name="Alice")`: a column of the last joined (or first) model, by name.
    ///
    /// # Examples
    ///
    /// ```
    /// # use orm::prelude::*;
    /// # #[derive(Model, Debug, Clone, Default)]
    /// # #[orm(table = "users", has_many(posts: Post, foreign_key = "user_id"))]
    /// # pub struct User { #[orm(primary_key)] pub id: i64, pub name: String, pub age: Option<i64> }
    /// # #[derive(Model, Debug, Clone, Default)]
    /// # #[orm(table = "posts", belongs_to(author: User, foreign_key = "user_id"))]
    /// # pub struct Post { #[orm(primary_key)] pub id: i64, pub title: String,
    /// #                   #[orm(foreign_key = "users.id")] pub user_id: i64 }
    /// # let engine = create_engine("sqlite:///:memory:")?;
    /// # MetaData::new().add::<User>().add::<Post>().create_all(&engine)?;
    /// # let session = Session::new(&engine);
    /// # for (name, age) in [("Alice", 30), ("Bob", 17), ("Carol", 42), ("Dave", 30)] {
    /// #     session.add(User { name: name.into(), age: Some(age), ..Default::default() });
    /// # }
    /// # session.commit()?;
    /// # let names = |users: Vec<Obj<User>>| -> Vec<String> {
    /// #     users.iter().map(|u| u.borrow().name.clone()).collect()
    /// # };
    /// // Keyword-style equality on a column by name, and the same with a typed column.
    /// let bob = session.query::<User>().filter_by("name", "Bob").one()?;
    /// assert_eq!(bob.borrow().age, Some(17));
    /// let thirty = session.query::<User>().where_(User::age.eq(30)).order_by(User::name).all()?;
    /// assert_eq!(names(thirty), ["Alice", "Dave"]);
    /// # Ok::<(), orm::Error>(())
    /// ```
    pub fn filter_by(mut self, column: &str, value: impl Into<Value>) -> Self {
        let mut tables = Vec::new();
        self.fetch.model_tables(&mut tables);
        let table = self.joined.last().or(tables.first());
        match table {
            Some(t) if t.find_column(column).is_some() => {
                let value = value.into();
                let col = Expr::column(t.name.clone(), Cow::Owned(column.to_string()));
                self.select.add_filter(if value.is_null() {
                    Expr::IsNull {
                        expr: Box::new(col),
                        negated: false,
                    }
                } else {
                    Expr::Binary {
                        left: Box::new(col),
                        op: BinOp::Eq,
                        right: Box::new(Expr::Value(value)),
                    }
                });
            }
            Some(t) => {
                let known: Vec<&str> = t.columns.iter().map(|c| c.name.as_ref()).collect();
                self.error.get_or_insert(Error::NoSuchColumn {
                    table: t.name.to_string(),
                    column: format!(
                        "{column} (filter_by; the columns are: {})",
                        known.join(", ")
                    ),
                    source: None,
                });
            }
            None => {
                self.error.get_or_insert(Error::InvalidRequest(
                    "filter_by needs a query of a model".into(),
                ));
            }
        }
        self
    }

    /// Adds a sort key (`User::name`, `User::age.desc()`).
    ///
    /// # Examples
    ///
    /// ```
    /// # use orm::prelude::*;
    /// # #[derive(Model, Debug, Clone, Default)]
    /// # #[orm(table = "users", has_many(posts: Post, foreign_key = "user_id"))]
    /// # pub struct User { #[orm(primary_key)] pub id: i64, pub name: String, pub age: Option<i64> }
    /// # #[derive(Model, Debug, Clone, Default)]
    /// # #[orm(table = "posts", belongs_to(author: User, foreign_key = "user_id"))]
    /// # pub struct Post { #[orm(primary_key)] pub id: i64, pub title: String,
    /// #                   #[orm(foreign_key = "users.id")] pub user_id: i64 }
    /// # let engine = create_engine("sqlite:///:memory:")?;
    /// # MetaData::new().add::<User>().add::<Post>().create_all(&engine)?;
    /// # let session = Session::new(&engine);
    /// # for (name, age) in [("Alice", 30), ("Bob", 17), ("Carol", 42), ("Dave", 30)] {
    /// #     session.add(User { name: name.into(), age: Some(age), ..Default::default() });
    /// # }
    /// # session.commit()?;
    /// # let names = |users: Vec<Obj<User>>| -> Vec<String> {
    /// #     users.iter().map(|u| u.borrow().name.clone()).collect()
    /// # };
    /// // Sort keys in order: age descending, then name; a page of two, after the first row.
    /// let page = session
    ///     .query::<User>()
    ///     .order_by(User::age.desc())
    ///     .order_by(User::name)
    ///     .limit(2)
    ///     .offset(1)
    ///     .all()?;
    /// assert_eq!(names(page), ["Alice", "Dave"]);
    /// let ages = session.query_values(User::age).distinct().order_by(User::age).all()?;
    /// assert_eq!(ages, [Some(17), Some(30), Some(42)]);
    /// # Ok::<(), orm::Error>(())
    /// ```
    pub fn order_by(mut self, key: impl IntoOrderBy) -> Self {
        self.select.order_by.push(key.into_order_by());
        self
    }
    /// At most `n` rows.
    pub fn limit(mut self, n: u64) -> Self {
        self.select.limit = Some(n);
        self
    }
    /// Skips the first `n` rows.
    pub fn offset(mut self, n: u64) -> Self {
        self.select.offset = Some(n);
        self
    }
    /// Drops repeated rows (`SELECT DISTINCT`).
    pub fn distinct(mut self) -> Self {
        self.select.distinct = true;
        self
    }
    /// Adds a `GROUP BY` expression.
    ///
    /// # Examples
    ///
    /// ```
    /// # use orm::prelude::*;
    /// # #[derive(Model, Debug, Clone, Default)]
    /// # #[orm(table = "users", has_many(posts: Post, foreign_key = "user_id"))]
    /// # pub struct User { #[orm(primary_key)] pub id: i64, pub name: String, pub age: Option<i64> }
    /// # #[derive(Model, Debug, Clone, Default)]
    /// # #[orm(table = "posts", belongs_to(author: User, foreign_key = "user_id"))]
    /// # pub struct Post { #[orm(primary_key)] pub id: i64, pub title: String,
    /// #                   #[orm(foreign_key = "users.id")] pub user_id: i64 }
    /// # let engine = create_engine("sqlite:///:memory:")?;
    /// # MetaData::new().add::<User>().add::<Post>().create_all(&engine)?;
    /// # let session = Session::new(&engine);
    /// # for (name, age) in [("Alice", 30), ("Bob", 17), ("Carol", 42), ("Dave", 30)] {
    /// #     session.add(User { name: name.into(), age: Some(age), ..Default::default() });
    /// # }
    /// # session.commit()?;
    /// # let names = |users: Vec<Obj<User>>| -> Vec<String> {
    /// #     users.iter().map(|u| u.borrow().name.clone()).collect()
    /// # };
    /// // Ages shared by more than one user, with how many have them.
    /// let shared = session
    ///     .query_values((User::age, func::count_all()))
    ///     .group_by(User::age)
    ///     .having(func::count_all().gt(1))
    ///     .all()?;
    /// assert_eq!(shared, [(Some(30), 2)]);
    /// # Ok::<(), orm::Error>(())
    /// ```
    pub fn group_by(mut self, expr: impl SqlExpr) -> Self {
        self.select.group_by.push(expr.expr());
        self
    }
    /// `HAVING`; several calls are joined with `AND`.
    pub fn having(mut self, condition: Condition) -> Self {
        self.select = self.select.having(condition);
        self
    }

    /// Joins the model `M` on the foreign key between it and a table already in the query.
    ///
    /// # Examples
    ///
    /// ```
    /// # use orm::prelude::*;
    /// # #[derive(Model, Debug, Clone, Default)]
    /// # #[orm(table = "users", has_many(posts: Post, foreign_key = "user_id"))]
    /// # pub struct User { #[orm(primary_key)] pub id: i64, pub name: String, pub age: Option<i64> }
    /// # #[derive(Model, Debug, Clone, Default)]
    /// # #[orm(table = "posts", belongs_to(author: User, foreign_key = "user_id"))]
    /// # pub struct Post { #[orm(primary_key)] pub id: i64, pub title: String,
    /// #                   #[orm(foreign_key = "users.id")] pub user_id: i64 }
    /// # let engine = create_engine("sqlite:///:memory:")?;
    /// # MetaData::new().add::<User>().add::<Post>().create_all(&engine)?;
    /// # let session = Session::new(&engine);
    /// # for (name, age) in [("Alice", 30), ("Bob", 17), ("Carol", 42), ("Dave", 30)] {
    /// #     session.add(User { name: name.into(), age: Some(age), ..Default::default() });
    /// # }
    /// # session.commit()?;
    /// # let names = |users: Vec<Obj<User>>| -> Vec<String> {
    /// #     users.iter().map(|u| u.borrow().name.clone()).collect()
    /// # };
    /// let alice = session.query::<User>().filter(User::name.eq("Alice")).one()?;
    /// let user_id = alice.borrow().id;
    /// session.add(Post { title: "Hello".into(), user_id, ..Default::default() });
    /// // `JOIN posts ON users.id = posts.user_id`, found from the foreign key.
    /// let authors = session.query::<User>().join::<Post>().filter(Post::title.eq("Hello")).all()?;
    /// assert_eq!(names(authors), ["Alice"]);
    /// // Users without posts: the outer join keeps them, with NULL for the post's columns.
    /// let idle = session
    ///     .query::<User>()
    ///     .outer_join::<Post>()
    ///     .filter(Post::id.is_null())
    ///     .order_by(User::name)
    ///     .all()?;
    /// assert_eq!(names(idle), ["Bob", "Carol", "Dave"]);
    /// # Ok::<(), orm::Error>(())
    /// ```
    pub fn join<M: Model>(self) -> Self {
        self.join_kind::<M>(JoinKind::Inner, None)
    }
    /// Joins `M` on an explicit condition.
    pub fn join_on<M: Model>(self, on: Condition) -> Self {
        self.join_kind::<M>(JoinKind::Inner, Some(on.expr))
    }
    /// `LEFT OUTER JOIN` on the foreign key: rows without a match are kept.
    pub fn outer_join<M: Model>(self) -> Self {
        self.join_kind::<M>(JoinKind::LeftOuter, None)
    }
    /// `LEFT OUTER JOIN` `M` on an explicit condition.
    pub fn outer_join_on<M: Model>(self, on: Condition) -> Self {
        self.join_kind::<M>(JoinKind::LeftOuter, Some(on.expr))
    }

    fn join_kind<M: Model>(mut self, kind: JoinKind, on: Option<Expr>) -> Self {
        let target = M::TABLE;
        let on = match on {
            Some(on) => on,
            None => {
                let mut known = Vec::new();
                self.fetch.model_tables(&mut known);
                known.extend(self.joined.iter().cloned());
                match foreign_key_condition(&known, &target) {
                    Some(on) => on,
                    None => {
                        let names: Vec<&str> = known.iter().map(|t| t.name.as_ref()).collect();
                        self.error.get_or_insert(Error::InvalidRequest(format!(
                            "cannot join {}: no foreign key links it to {}; use join_on with a condition",
                            target.name,
                            names.join(", ")
                        )));
                        return self;
                    }
                }
            }
        };
        self.select.joins.push(Join {
            kind,
            table: target.name.clone(),
            on,
        });
        self.joined.push(target);
        self
    }

    /// Adds a model's table to `FROM` when nothing fetched names it (`func::count_all()`).
    pub fn select_from<M: Model>(mut self) -> Self {
        self.from_models.push(M::TABLE);
        self
    }

    /// Loading strategies for relationships: `.options(selectinload(User::posts))`.
    ///
    /// A path of several relationships (`selectinload(User::posts).selectinload(Post::comments)`)
    /// loads each level in turn; see [`LoadOption`] for the statements it costs. A path whose
    /// relationship does not start where the one before it leads makes the query fail with
    /// [`Error::InvalidRequest`] when it runs.
    ///
    /// # Examples
    ///
    /// ```
    /// # use orm::prelude::*;
    /// # #[derive(Model, Debug, Clone, Default)]
    /// # #[orm(table = "users", has_many(posts: Post, foreign_key = "user_id"))]
    /// # pub struct User { #[orm(primary_key)] pub id: i64, pub name: String, pub age: Option<i64> }
    /// # #[derive(Model, Debug, Clone, Default)]
    /// # #[orm(table = "posts", belongs_to(author: User, foreign_key = "user_id"))]
    /// # pub struct Post { #[orm(primary_key)] pub id: i64, pub title: String,
    /// #                   #[orm(foreign_key = "users.id")] pub user_id: i64 }
    /// # let engine = create_engine("sqlite:///:memory:")?;
    /// # MetaData::new().add::<User>().add::<Post>().create_all(&engine)?;
    /// # let session = Session::new(&engine);
    /// # for (name, age) in [("Alice", 30), ("Bob", 17), ("Carol", 42), ("Dave", 30)] {
    /// #     session.add(User { name: name.into(), age: Some(age), ..Default::default() });
    /// # }
    /// # session.commit()?;
    /// # let names = |users: Vec<Obj<User>>| -> Vec<String> {
    /// #     users.iter().map(|u| u.borrow().name.clone()).collect()
    /// # };
    /// let alice = session.query::<User>().filter(User::name.eq("Alice")).one()?;
    /// let user_id = alice.borrow().id;
    /// session.add_all([1, 2].map(|n| Post { title: format!("Post {n}"), user_id, ..Default::default() }));
    /// session.commit()?;
    /// // Every user's posts in two statements (the users, then the posts of all of them at once)…
    /// engine.reset_statement_count();
    /// let users = session.query::<User>().options(selectinload(User::posts)).all()?;
    /// let counts: Vec<usize> = users.iter().map(|u| u.related(User::posts).map(|p| p.len())).collect::<Result<_, _>>()?;
    /// assert_eq!((counts, engine.statement_count()), (vec![2, 0, 0, 0], 2));
    /// // …and every post's author in one, joined.
    /// session.expire_all();
    /// engine.reset_statement_count();
    /// let posts = session.query::<Post>().options(joinedload(Post::author)).all()?;
    /// assert_eq!(posts[0].related(Post::author)?.unwrap().borrow().name, "Alice");
    /// assert_eq!(engine.statement_count(), 1);
    /// # Ok::<(), orm::Error>(())
    /// ```
    pub fn options(mut self, option: LoadOption) -> Self {
        if let Some(problem) = option.path_error() {
            self.error.get_or_insert(Error::InvalidRequest(problem));
        }
        self.loads.push(option);
        self
    }

    /// The `SELECT` this query runs: with the joins of its joined loads (`options(joinedload(…))`).
    pub fn statement(&self) -> Select {
        let mut stmt = self.plain_statement();
        crate::relationship::add_joined_loads(&mut stmt, &self.loads);
        stmt
    }

    /// The `SELECT` without the joins of its joined loads: what `count`, `exists` and the query
    /// as a subquery, CTE or `IN (…)` are made of. SQLAlchemy applies eager loads to the
    /// statement that loads the objects only (its `Query.count()` turns them off), so a joined
    /// collection neither multiplies a count nor appears in a subquery.
    fn plain_statement(&self) -> Select {
        let mut stmt = self.select.clone();
        let mut columns = Vec::new();
        self.fetch.columns(&mut columns);
        stmt.columns = columns;
        let mut tables = Vec::new();
        self.fetch.tables(&mut tables);
        tables.extend(self.from_models.iter().map(|t| t.name.clone()));
        let mut from: Vec<Cow<'static, str>> = Vec::new();
        for t in tables {
            // A table reached by a join (a model, or an alias) is not also in FROM.
            let joined = self.joined.iter().any(|j| j.name == t)
                || self.select.joins.iter().any(|j| j.table == t);
            if !from.contains(&t) && !joined {
                from.push(t);
            }
        }
        if from.is_empty() {
            if let Some(first) = self.joined.first() {
                // Every fetched table is joined: start from the first join's partner instead.
                from.push(first.name.clone());
                stmt.joins.remove(0);
            }
        }
        stmt.from = from.into_iter().map(FromItem::Table).collect();
        stmt
    }

    /// The SQL this query runs: its session's dialect, or the neutral default dialect
    /// ([`StandardWriter`]) when it has none (parameters as `?`).
    pub fn to_sql(&self) -> String {
        self.writer()
            .compile(&Statement::Select(self.statement()))
            .sql
    }

    fn writer(&self) -> &'static dyn SqlWriter {
        match &self.session {
            Some(s) => s.engine().writer(),
            None => &StandardWriter,
        }
    }

    fn session(&self) -> Result<&Session> {
        if let Some(e) = &self.error {
            return Err(e.copy_deferred());
        }
        self.session.as_ref().ok_or_else(|| {
            Error::InvalidRequest(
                "this query is not bound to a session: run it with session.scalars(query)".into(),
            )
        })
    }

    /// Every row.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] when the query is not bound to a session (run it with
    /// [`Session::scalars`]) or was built with an error (an `options` path the models do not have, a
    /// `join` with no foreign key between the tables…); the autoflush's error; the database's error for the `SELECT` (and the select-in
    /// loads); [`Error::WrongType`] for a column value that does not fit its field.
    pub fn all(&self) -> Result<Vec<F::Output>> {
        let session = self.session()?;
        session.autoflush()?;
        if !self.loads.is_empty() {
            // Joined or select-in, this query fills relationships that a commit must forget.
            session.cell.relations_loaded.set(true);
        }
        let stmt = self.statement();
        let mut rows = run_select(session, &stmt, |ctx, row| {
            ctx.last_decoded = None;
            let out = self.fetch.decode(ctx, row)?;
            crate::relationship::decode_joined_loads(ctx, row, &stmt, &self.loads)?;
            Ok(out)
        })?;
        if self.fetch.single_entity() && !stmt.joins.is_empty() {
            rows = self.fetch.unique(rows);
        }
        self.fetch.eager_load(session, &rows, &stmt, &self.loads)?;
        Ok(rows)
    }

    /// The first row, or `None`.
    ///
    /// # Errors
    ///
    /// As [`Query::all`].
    pub fn first(&self) -> Result<Option<F::Output>> {
        Ok(self.clone().limit(1).all()?.into_iter().next())
    }

    /// Exactly one row, or an error that says whether there were none or several.
    ///
    /// # Errors
    ///
    /// [`Error::NoResultFound`] when there is no row, [`Error::MultipleResultsFound`] when there are
    /// several (both carry the query's SQL); otherwise as [`Query::all`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use orm::prelude::*;
    /// # #[derive(Model, Debug, Clone, Default)]
    /// # #[orm(table = "users", has_many(posts: Post, foreign_key = "user_id"))]
    /// # pub struct User { #[orm(primary_key)] pub id: i64, pub name: String, pub age: Option<i64> }
    /// # #[derive(Model, Debug, Clone, Default)]
    /// # #[orm(table = "posts", belongs_to(author: User, foreign_key = "user_id"))]
    /// # pub struct Post { #[orm(primary_key)] pub id: i64, pub title: String,
    /// #                   #[orm(foreign_key = "users.id")] pub user_id: i64 }
    /// # let engine = create_engine("sqlite:///:memory:")?;
    /// # MetaData::new().add::<User>().add::<Post>().create_all(&engine)?;
    /// # let session = Session::new(&engine);
    /// # for (name, age) in [("Alice", 30), ("Bob", 17), ("Carol", 42), ("Dave", 30)] {
    /// #     session.add(User { name: name.into(), age: Some(age), ..Default::default() });
    /// # }
    /// # session.commit()?;
    /// # let names = |users: Vec<Obj<User>>| -> Vec<String> {
    /// #     users.iter().map(|u| u.borrow().name.clone()).collect()
    /// # };
    /// assert_eq!(session.query::<User>().filter(User::age.gt(40)).one()?.borrow().name, "Carol");
    /// assert!(session.query::<User>().filter(User::age.gt(99)).one_or_none()?.is_none());
    /// assert_eq!(session.query::<User>().order_by(User::name).first()?.unwrap().borrow().name, "Alice");
    /// // `one` refuses no row and several rows, each with its own error.
    /// let none = session.query::<User>().filter(User::age.gt(99)).one();
    /// assert!(matches!(none, Err(Error::NoResultFound { .. })));
    /// match session.query::<User>().filter(User::age.eq(30)).one_or_none() {
    ///     Err(Error::MultipleResultsFound { count, .. }) => assert_eq!(count, 2),
    ///     other => panic!("expected two rows, got {other:?}"),
    /// }
    /// # Ok::<(), orm::Error>(())
    /// ```
    pub fn one(&self) -> Result<F::Output> {
        self.one_or_none()?.ok_or_else(|| Error::NoResultFound {
            query: self.to_sql(),
        })
    }

    /// At most one row.
    ///
    /// # Errors
    ///
    /// [`Error::MultipleResultsFound`] (with the count and the SQL) when there are several rows;
    /// otherwise as [`Query::all`].
    pub fn one_or_none(&self) -> Result<Option<F::Output>> {
        let mut rows = self.all()?;
        if rows.len() > 1 {
            return Err(Error::MultipleResultsFound {
                count: rows.len(),
                query: self.to_sql(),
            });
        }
        Ok(rows.pop())
    }

    /// The first column of the first row: `query_values(func::avg(User::age)).scalar()`.
    /// Aggregates always give a row; a query with no rows is an error.
    ///
    /// # Errors
    ///
    /// [`Error::NoResultFound`] when the query gives no row; otherwise as [`Query::all`].
    pub fn scalar(&self) -> Result<F::Output> {
        self.first()?.ok_or_else(|| Error::NoResultFound {
            query: self.to_sql(),
        })
    }

    /// How many rows the query gives (`SELECT count(*) FROM (…)`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] when the query is not bound to a session (run it with
    /// [`Session::scalars`]) or was built with an error (an `options` path the models do not have, a
    /// `join` with no foreign key between the tables…); the autoflush's error; the database's error for the `SELECT count(*)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use orm::prelude::*;
    /// # #[derive(Model, Debug, Clone, Default)]
    /// # #[orm(table = "users", has_many(posts: Post, foreign_key = "user_id"))]
    /// # pub struct User { #[orm(primary_key)] pub id: i64, pub name: String, pub age: Option<i64> }
    /// # #[derive(Model, Debug, Clone, Default)]
    /// # #[orm(table = "posts", belongs_to(author: User, foreign_key = "user_id"))]
    /// # pub struct Post { #[orm(primary_key)] pub id: i64, pub title: String,
    /// #                   #[orm(foreign_key = "users.id")] pub user_id: i64 }
    /// # let engine = create_engine("sqlite:///:memory:")?;
    /// # MetaData::new().add::<User>().add::<Post>().create_all(&engine)?;
    /// # let session = Session::new(&engine);
    /// # for (name, age) in [("Alice", 30), ("Bob", 17), ("Carol", 42), ("Dave", 30)] {
    /// #     session.add(User { name: name.into(), age: Some(age), ..Default::default() });
    /// # }
    /// # session.commit()?;
    /// # let names = |users: Vec<Obj<User>>| -> Vec<String> {
    /// #     users.iter().map(|u| u.borrow().name.clone()).collect()
    /// # };
    /// assert_eq!(session.query::<User>().filter(User::age.ge(18)).count()?, 3);
    /// assert!(session.query::<User>().filter(User::name.eq("Bob")).exists()?);
    /// assert!(!session.query::<User>().filter(User::name.eq("Zed")).exists()?);
    /// # Ok::<(), orm::Error>(())
    /// ```
    pub fn count(&self) -> Result<i64> {
        let session = self.session()?;
        session.autoflush()?;
        let mut inner = self.plain_statement();
        inner.order_by.clear();
        let stmt = Select {
            columns: vec![SelectItem {
                expr: Expr::Function {
                    name: "count",
                    args: vec![Expr::Star],
                    distinct: false,
                },
                alias: None,
            }],
            from: vec![FromItem::Subquery {
                select: Box::new(inner),
                alias: "anon_1".into(),
            }],
            ..Select::default()
        };
        let rows = run_select(session, &stmt, |_, row| {
            row.read::<i64>("(count)", "count(*)")
        })?;
        Ok(rows.into_iter().next().unwrap_or(0))
    }

    /// Whether the query gives at least one row (`SELECT EXISTS (…)`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] when the query is not bound to a session (run it with
    /// [`Session::scalars`]) or was built with an error (an `options` path the models do not have, a
    /// `join` with no foreign key between the tables…); the autoflush's error; the database's error for the `SELECT EXISTS`.
    pub fn exists(&self) -> Result<bool> {
        let session = self.session()?;
        session.autoflush()?;
        let mut inner = self.plain_statement();
        inner.order_by.clear();
        let stmt = Select {
            columns: vec![SelectItem {
                expr: Expr::Exists(Box::new(inner)),
                alias: None,
            }],
            ..Select::default()
        };
        let rows = run_select(session, &stmt, |_, row| {
            row.read::<bool>("(exists)", "exists")
        })?;
        Ok(rows.into_iter().next().unwrap_or(false))
    }
}

/// Runs a select in the session and decodes each row with `decode`.
pub(crate) fn run_select<R>(
    session: &Session,
    stmt: &Select,
    decode: impl FnMut(&mut LoadContext<'_>, &mut RowReader<'_>) -> Result<R>,
) -> Result<Vec<R>> {
    let writer = session.state()?.engine.writer();
    let compiled = writer.compile_select(stmt);
    let params: Vec<ValueRef<'_>> = compiled.params.iter().map(Value::as_ref).collect();
    let joined = !stmt.joins.is_empty();
    run_sql(
        session,
        &compiled.sql,
        Params::Each(&params),
        joined,
        decode,
    )
}

/// The models `T` whose `column` equals `value` (`None`: the primary key), with the SQL written
/// once per session: `get` and lazy loading run this one shape over and over.
pub(crate) fn select_where_eq<T: Model>(
    session: &Session,
    column: Option<&'static str>,
    value: ValueRef<'_>,
) -> Result<Vec<Obj<T>>> {
    session.autoflush()?;
    select_where_eq_now::<T>(session, column, &[value])
}

/// The model `T` with this primary key (every key column `= ?`), after writing pending work
/// (`Session::get`).
pub(crate) fn select_by_key<T: Model>(session: &Session, key: &Key) -> Result<Vec<Obj<T>>> {
    crate::model::check_key_arity::<T>(key)?;
    session.autoflush()?;
    key.with_value_refs(|values| select_where_eq_now::<T>(session, None, values))
}

/// The model `T` with this primary key, without writing pending work first (`refresh`).
pub(crate) fn select_by_key_no_autoflush<T: Model>(
    session: &Session,
    key: &Key,
) -> Result<Vec<Obj<T>>> {
    crate::model::check_key_arity::<T>(key)?;
    key.with_value_refs(|values| select_where_eq_now::<T>(session, None, values))
}

/// `column = ?`, or with no column every primary key column `= ?` joined by `AND`, one
/// placeholder each in the key's order.
pub(crate) fn key_filter<T: Model>(table: Option<&'static str>) -> Expr {
    let column = |i: usize| {
        let name = T::TABLE.columns[i].name.clone();
        match table {
            Some(t) => Expr::column(t, name),
            None => Expr::Column { table: None, name },
        }
    };
    let mut parts: Vec<Expr> = T::PRIMARY_KEYS
        .iter()
        .map(|&i| Expr::Binary {
            left: Box::new(column(i)),
            op: BinOp::Eq,
            right: Box::new(Expr::Placeholder),
        })
        .collect();
    if parts.len() == 1 {
        parts.pop().expect("one part")
    } else {
        Expr::And(parts)
    }
}

fn select_where_eq_now<T: Model>(
    session: &Session,
    column: Option<&'static str>,
    values: &[ValueRef<'_>],
) -> Result<Vec<Obj<T>>> {
    let sql = {
        let mut state = session.state()?;
        let writer = state.engine.writer();
        let kind = match column {
            Some(c) => crate::session::SqlKind::SelectWhereEq(c),
            None => crate::session::SqlKind::SelectByKey,
        };
        let build = || {
            let mut stmt = Select::default();
            model_columns::<T>(&mut stmt.columns);
            stmt.from = vec![FromItem::Table(Cow::Borrowed(T::TABLE_NAME))];
            stmt.filter = Some(match column {
                Some(name) => Expr::Binary {
                    left: Box::new(Expr::column(T::TABLE_NAME, Cow::Borrowed(name))),
                    op: BinOp::Eq,
                    right: Box::new(Expr::Placeholder),
                },
                None => key_filter::<T>(Some(T::TABLE_NAME)),
            });
            Statement::Select(stmt)
        };
        state.sql_cache.get(T::TABLE_NAME, kind, build, writer)
    };
    run_sql(session, &sql, Params::Each(values), false, |ctx, row| {
        decode_model::<T>(ctx, row)
    })
}

/// How the parameters of a statement the session runs are bound.
#[derive(Clone, Copy)]
pub(crate) enum Params<'p> {
    /// One value per placeholder, in order.
    Each(&'p [ValueRef<'p>]),
    /// The values as one array parameter (PostgreSQL's `= ANY($1)`: select-in loading).
    Array(&'p [ValueRef<'p>]),
}

/// Runs SQL text in the session and decodes each row with `decode`; `joined`: the statement
/// joins tables (see [`LoadContext::joined`]).
pub(crate) fn run_sql<R>(
    session: &Session,
    sql: &str,
    params: Params<'_>,
    joined: bool,
    mut decode: impl FnMut(&mut LoadContext<'_>, &mut RowReader<'_>) -> Result<R>,
) -> Result<Vec<R>> {
    let mut state = session.state()?;
    // Borrowed apart: the connection from the engine, the rows into the identity map.
    let SessionState {
        engine,
        identity,
        held,
        ..
    } = &mut *state;
    let mut ctx = LoadContext {
        identity: Some(identity),
        session: session.cell.weak_self.clone(),
        last_decoded: None,
        initialized: Default::default(),
        last_initialized: None,
        previous_first: None,
        joined,
    };
    let mut out = Vec::new();
    // The session's own connection: its reads see its transaction's writes.
    let mut conn = engine.session_conn(held.take())?;
    let each = |row: &mut RowReader<'_>| {
        out.push(decode(&mut ctx, row)?);
        Ok(())
    };
    let outcome = match params {
        Params::Each(values) => conn.query(sql, values, each),
        Params::Array(items) => conn.query_array(sql, items, each),
    };
    drop(ctx);
    *held = conn.into_held();
    outcome.map(|()| out)
}

/// `child.fk = parent.key` for the first foreign key between `target` and a known table.
pub(crate) fn foreign_key_condition(known: &[Table], target: &Table) -> Option<Expr> {
    let eq = |lt: &Cow<'static, str>,
              lc: &Cow<'static, str>,
              rt: &Cow<'static, str>,
              rc: &Cow<'static, str>| Expr::Binary {
        left: Box::new(Expr::column(lt.clone(), lc.clone())),
        op: BinOp::Eq,
        right: Box::new(Expr::column(rt.clone(), rc.clone())),
    };
    for col in target.columns.iter() {
        if let Some(fk) = &col.foreign_key {
            if known.iter().any(|k| k.name == fk.table) {
                return Some(eq(&target.name, &col.name, &fk.table, &fk.column));
            }
        }
    }
    for k in known {
        for col in k.columns.iter() {
            if let Some(fk) = &col.foreign_key {
                if fk.table == target.name {
                    return Some(eq(&k.name, &col.name, &target.name, &fk.column));
                }
            }
        }
    }
    None
}

/// A model's table under another name, for self-joins (SQLAlchemy's `aliased(User, name=…)`):
/// its columns are `alias.col(User::name)`.
///
/// # Examples
/// ```
/// use orm::prelude::*;
/// use orm::query::aliased;
/// #[derive(Model, Clone, Default)]
/// #[orm(table = "staff")]
/// pub struct Staff { #[orm(primary_key)] pub id: i64, pub name: String, pub boss_id: Option<i64> }
/// let boss = aliased::<Staff>("boss");
/// let q = select_values((Staff::name, boss.col(Staff::name)))
///     .join_alias(&boss, Staff::boss_id.eq(boss.col(Staff::id)));
/// assert_eq!(
///     q.to_sql(),
///     r#"SELECT "staff"."name", "boss"."name" FROM "staff" JOIN "staff" AS "boss" ON "staff"."boss_id" = "boss"."id""#
/// );
/// ```
pub fn aliased<M: Model>(name: &str) -> Alias {
    M::TABLE.alias(name.to_string())
}

impl<F: Fetch> Query<F> {
    /// `JOIN` an alias of a model's table on a condition (a self-join).
    pub fn join_alias(self, alias: &Alias, on: Condition) -> Self {
        self.join_alias_kind(JoinKind::Inner, alias, on)
    }

    /// `LEFT OUTER JOIN` an alias of a model's table on a condition.
    pub fn outer_join_alias(self, alias: &Alias, on: Condition) -> Self {
        self.join_alias_kind(JoinKind::LeftOuter, alias, on)
    }

    fn join_alias_kind(mut self, kind: JoinKind, alias: &Alias, on: Condition) -> Self {
        if !self.select.aliases.iter().any(|a| a.name == alias.name) {
            self.select.aliases.push(alias.clone());
        }
        self.select.joins.push(Join {
            kind,
            table: alias.name.clone(),
            on: on.expr,
        });
        self
    }

    /// The query as a value in another query's expression (`(SELECT …)`), typed as what it
    /// fetches: it must give one column and at most one row. It may name columns of the
    /// enclosing query (a correlated subquery).
    ///
    /// # Examples
    /// ```
    /// use orm::prelude::*;
    /// #[derive(Model, Clone, Default)]
    /// #[orm(table = "users")]
    /// pub struct User { #[orm(primary_key)] pub id: i64, pub name: String }
    /// #[derive(Model, Clone, Default)]
    /// #[orm(table = "posts")]
    /// pub struct Post { #[orm(primary_key)] pub id: i64, #[orm(foreign_key = "users.id")] pub user_id: i64 }
    /// let engine = create_engine("sqlite:///:memory:")?;
    /// MetaData::new().add::<User>().add::<Post>().create_all(&engine)?;
    /// let session = Session::new(&engine);
    /// session.add(User { name: "Ann".into(), ..Default::default() });
    /// session.commit()?;
    /// session.add(Post { user_id: 1, ..Default::default() });
    /// let posts = select_values(func::count(Post::id)).filter(Post::user_id.eq(User::id));
    /// let rows = session.query_values((User::name, posts.scalar_subquery())).all()?;
    /// assert_eq!(rows, [("Ann".to_string(), 1)]);
    /// # Ok::<(), orm::Error>(())
    /// ```
    pub fn scalar_subquery(self) -> TypedExpr<F::Output>
    where
        F::Output: SqlType,
    {
        TypedExpr::new(Expr::Subquery(Box::new(self.plain_statement())))
    }

    /// The query as a named subquery for a Core `FROM`.
    pub fn subquery(self, name: impl Into<String>) -> Subquery {
        self.plain_statement().subquery(name)
    }

    /// The query as a common table expression (`WITH "name" AS (…)`).
    pub fn cte(self, name: impl Into<String>) -> Cte {
        self.plain_statement().cte(name)
    }
}

impl<F: Fetch> IntoSelect for Query<F> {
    fn into_select(self) -> Select {
        self.plain_statement()
    }
}

/// `column.in_(query)`: `IN (SELECT …)`.
impl<K, F: Fetch> InValues<K> for Query<F> {
    fn into_in(self, expr: Expr, negated: bool) -> Expr {
        Expr::InSelect {
            expr: Box::new(expr),
            select: Box::new(self.plain_statement()),
            negated,
        }
    }
}

impl<F: Fetch> fmt::Display for Query<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_sql())
    }
}

impl<F: Fetch> fmt::Debug for Query<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Query({})", self.to_sql())
    }
}

impl<F: Fetch> From<Query<F>> for Statement {
    fn from(q: Query<F>) -> Statement {
        Statement::Select(q.statement())
    }
}
