//! The session: a workspace of objects, written to the database as one unit of work.

mod identity;
mod persistence;
mod sql_cache;
mod unit_of_work;

pub(crate) use identity::{IdentityMap, Slot};
pub(crate) use persistence::{changed_columns, FlushContext};
pub(crate) use sql_cache::SqlKind;

use crate::core::Statement;
use crate::engine::{Backend, Conn, Engine, ResultSet};
use crate::error::{Error, Result};
use crate::model::{AnyTracked, IntoObj, Key, Model, Obj, ObjectState, Tracked};
use crate::query::{Entities, Fetch, Query};
use crate::value::{Value, ValueRef};
use rustc_hash::FxHashSet;
use std::cell::{Cell, RefCell, RefMut};
use std::fmt;
use std::rc::{Rc, Weak};

/// A workspace for database work (the lesson's `Session(engine)`): add, query, change, delete,
/// then `commit`. It owns a handle on its engine, so it can live in a notebook variable.
///
/// A `Session` is a cheap handle: clones share the same workspace, and queries and objects keep
/// one so they can load lazily.
///
/// ```
/// use orm::prelude::*;
/// #[derive(Model, Clone, Default)]
/// #[orm(table = "users")]
/// pub struct User { #[orm(primary_key)] pub id: i64, pub name: String }
/// let engine = create_engine("sqlite:///:memory:")?;
/// MetaData::new().add::<User>().create_all(&engine)?;
/// let session = Session::new(&engine);
/// session.add(User { name: "Alice".into(), ..Default::default() });
/// // Autoflush: the pending add is written before the query runs.
/// assert_eq!(session.query::<User>().count()?, 1);
/// session.commit()?;
/// # Ok::<(), orm::Error>(())
/// ```
#[derive(Clone)]
pub struct Session {
    pub(crate) cell: Rc<SessionCell>,
}

#[doc(hidden)]
pub struct SessionCell {
    pub(crate) state: RefCell<SessionState>,
    /// Objects changed through `borrow_mut` since the last flush. Apart from `state` so an object
    /// can register itself while the session is busy.
    changed: RefCell<Vec<Rc<dyn AnyTracked>>>,
    /// Whether an object may hold loaded relationships, which a commit forgets: without any, a
    /// commit need not visit every object. Set wherever relationships are loaded or linked.
    pub(crate) relations_loaded: Cell<bool>,
    pub(crate) weak_self: Weak<SessionCell>,
}

pub(crate) struct SessionState {
    pub(crate) engine: Engine,
    pub(crate) identity: IdentityMap,
    pending: Vec<Rc<dyn AnyTracked>>,
    deleted: Vec<Rc<dyn AnyTracked>>,
    /// The addresses of the objects in `deleted`: a cascade over thousands of rows checks each
    /// object once, not against every object already listed.
    deleted_seen: FxHashSet<usize>,
    /// Whether this session's transaction is open (on `held`, or on the in-memory database's
    /// shared connection, which then names this session as its owner).
    in_transaction: bool,
    /// The pooled connection this session took at its first statement, until commit, rollback
    /// or close (`None` on an in-memory database: its one connection stays with the engine).
    pub(crate) held: Option<Box<Backend>>,
    /// The number of the current (or next) transaction; the objects it inserts carry it, so a
    /// rollback finds them without a list of its own (a flush of 100,000 rows pays nothing).
    transaction_number: u32,
    /// Objects deleted (flushed) in this transaction: a rollback brings them back.
    removed: Vec<Rc<dyn AnyTracked>>,
    /// Objects updated (flushed) in this transaction, each with its values from before the
    /// UPDATE: a rollback restores them, the latest first, so the earliest values win.
    updated: Vec<(Rc<dyn AnyTracked>, Box<dyn std::any::Any>)>,
    autoflush: bool,
    expire_on_commit: bool,
    pub(crate) sql_cache: sql_cache::SqlCache,
    /// Foreign keys to set from related objects at the next flush.
    pub(crate) links: Vec<crate::relationship::Link>,
    /// Association rows to write at the next flush.
    pub(crate) associations: Vec<crate::relationship::Association>,
    id: u64,
}

impl Session {
    /// A new session on the engine. It takes a connection at its first statement and gives it
    /// back at commit, rollback or close.
    pub fn new(engine: &Engine) -> Session {
        let id = engine.next_session_id();
        let cell = Rc::new_cyclic(|weak| SessionCell {
            state: RefCell::new(SessionState {
                engine: engine.clone(),
                identity: IdentityMap::default(),
                pending: Vec::new(),
                deleted: Vec::new(),
                deleted_seen: FxHashSet::default(),
                in_transaction: false,
                held: None,
                transaction_number: 1,
                removed: Vec::new(),
                updated: Vec::new(),
                autoflush: true,
                expire_on_commit: true,
                sql_cache: Default::default(),
                links: Vec::new(),
                associations: Vec::new(),
                id,
            }),
            changed: RefCell::new(Vec::new()),
            relations_loaded: Cell::new(false),
            weak_self: weak.clone(),
        });
        Session { cell }
    }

    /// Runs `work` in a new session and commits if it returns `Ok`; on `Err` (or a failed
    /// commit) everything is rolled back. The lesson's `with Session(engine) as session:`.
    ///
    /// ```
    /// # use orm::prelude::*;
    /// let engine = create_engine("sqlite:///:memory:")?;
    /// let answer = Session::scoped(&engine, |session| {
    ///     Ok(session.execute(orm::core::text("SELECT 42"))?.rows[0][0].clone())
    /// })?;
    /// assert_eq!(answer, orm::Value::Integer(42));
    /// # Ok::<(), orm::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The error `work` returns, or the commit's (everything is then rolled back); the rollback's
    /// own error if that rollback fails too.
    pub fn scoped<R>(engine: &Engine, work: impl FnOnce(&Session) -> Result<R>) -> Result<R> {
        let session = Session::new(engine);
        let outcome = work(&session).and_then(|r| session.commit().map(|_| r));
        if outcome.is_err() {
            session.rollback()?;
        }
        session.close();
        outcome
    }

    /// The engine this session runs its statements on.
    pub fn engine(&self) -> Engine {
        self.cell.state.borrow().engine.clone()
    }

    /// Whether queries first write pending changes (on by default, as in SQLAlchemy).
    pub fn set_autoflush(&self, on: bool) {
        self.cell.state.borrow_mut().autoflush = on;
    }

    /// Whether a commit expires every object, so the next load shows what the database holds
    /// then, other sessions' commits included (on by default, as SQLAlchemy's
    /// `expire_on_commit`): `Session::new(&engine).expire_on_commit(false)`.
    ///
    /// ```
    /// # use orm::prelude::*;
    /// let engine = create_engine("sqlite:///:memory:")?;
    /// let session = Session::new(&engine).expire_on_commit(false);
    /// # Ok::<(), orm::Error>(())
    /// ```
    pub fn expire_on_commit(self, on: bool) -> Session {
        self.cell.state.borrow_mut().expire_on_commit = on;
        self
    }

    /// Marks an object expired: unflushed changes to it are given up, and the next `get`, query
    /// or `refresh` that meets its row writes the row's values onto it (see [`Obj::borrow`]).
    pub fn expire<T: Model>(&self, object: &Obj<T>) {
        let tracked: Rc<dyn AnyTracked> = object.0.clone();
        self.cell
            .changed
            .borrow_mut()
            .retain(|o| !Rc::ptr_eq(o, &tracked));
        object.0.expire();
    }

    /// Expires every object of the session (as a commit does with `expire_on_commit`).
    pub fn expire_all(&self) {
        self.cell.forget_changes();
        if let Ok(state) = self.cell.state.try_borrow() {
            for obj in state.identity.values() {
                obj.expire();
            }
        }
    }

    /// Loads the object's row again now and writes its values onto the object; unflushed
    /// changes to it are given up.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] if the object is not persistent in this session or its row is
    /// gone; the database's error if the `SELECT` fails.
    ///
    /// # Examples
    ///
    /// ```
    /// # use orm::prelude::*;
    /// # #[derive(Model, Debug, Clone, Default)]
    /// # #[orm(table = "users")]
    /// # pub struct User { #[orm(primary_key)] pub id: i64, pub name: String, pub age: Option<i64> }
    /// # let engine = create_engine("sqlite:///:memory:")?;
    /// # MetaData::new().add::<User>().create_all(&engine)?;
    /// use orm::core::text;
    /// let session = Session::new(&engine).expire_on_commit(false);
    /// let alice = session.add(User { name: "Alice".into(), age: Some(30), ..Default::default() });
    /// session.commit()?;
    /// // Another writer changes the row; the session's object still shows what it loaded.
    /// engine.execute(text("UPDATE users SET age = 40"))?;
    /// assert_eq!(alice.borrow().age, Some(30));
    /// session.refresh(&alice)?;                            // one SELECT, now
    /// assert_eq!(alice.borrow().age, Some(40));
    /// // `expire` gives up an unflushed change; `expire_all` does it for every object.
    /// alice.borrow_mut().age = Some(99);
    /// session.expire(&alice);
    /// assert_eq!(alice.borrow().age, Some(40));
    /// alice.borrow_mut().age = Some(98);
    /// session.expire_all();
    /// assert!(!session.is_dirty());
    /// assert_eq!(session.get::<User>(1)?.unwrap().borrow().age, Some(40));
    /// # Ok::<(), orm::Error>(())
    /// ```
    pub fn refresh<T: Model>(&self, object: &Obj<T>) -> Result<()> {
        let key = match (object.state(), object.session()) {
            (ObjectState::Persistent, Some(cell)) if Rc::ptr_eq(&cell, &self.cell) => object.key(),
            _ => None,
        };
        let Some(key) = key else {
            return Err(Error::InvalidRequest(format!(
                "cannot refresh a {} object that is {:?}: it is not persistent in this session",
                T::TABLE_NAME,
                object.state()
            )));
        };
        self.expire(object);
        let rows = crate::query::select_by_key_no_autoflush::<T>(self, &key)?;
        if rows.is_empty() {
            return Err(Error::InvalidRequest(format!(
                "could not refresh the {} object with key {}: its row is gone",
                T::TABLE_NAME,
                key.to_value()
            )));
        }
        Ok(())
    }

    pub(crate) fn state(&self) -> Result<RefMut<'_, SessionState>> {
        self.cell.state.try_borrow_mut().map_err(|_| {
            Error::InvalidRequest(
                "the session is busy (called from inside one of its own operations)".into(),
            )
        })
    }

    /// Adds an object; it is written (INSERT) at the next flush or commit. Returns the session's
    /// handle on it, which sees the primary key once written.
    pub fn add<T: Model>(&self, object: impl IntoObj<T>) -> Obj<T> {
        let obj = object.into_obj();
        self.cell.attach(&obj);
        obj
    }

    /// Adds several objects at once.
    ///
    /// # Examples
    ///
    /// ```
    /// # use orm::prelude::*;
    /// # #[derive(Model, Debug, Clone, Default)]
    /// # #[orm(table = "users")]
    /// # pub struct User { #[orm(primary_key)] pub id: i64, pub name: String, pub age: Option<i64> }
    /// # let engine = create_engine("sqlite:///:memory:")?;
    /// # MetaData::new().add::<User>().create_all(&engine)?;
    /// use orm::ObjectState;
    /// let session = Session::new(&engine);
    /// let alice = session.add(User { name: "Alice".into(), ..Default::default() });
    /// let others = session.add_all([
    ///     User { name: "Bob".into(), ..Default::default() },
    ///     User { name: "Carol".into(), ..Default::default() },
    /// ]);
    /// assert_eq!((alice.state(), alice.borrow().id), (ObjectState::Pending, 0));
    /// assert!(session.is_dirty());
    /// session.flush()?;                                   // INSERTs now, in the open transaction
    /// assert_eq!((alice.state(), alice.borrow().id), (ObjectState::Persistent, 1));
    /// assert_eq!(others[1].borrow().id, 3);
    /// // `get` by primary key: the identity map hands back the same object, with no SELECT.
    /// engine.reset_statement_count();
    /// let again = session.get::<User>(1)?.expect("Alice's row");
    /// assert!(again.ptr_eq(&alice));
    /// assert_eq!(engine.statement_count(), 0);
    /// session.commit()?;
    /// assert!(session.get::<User>(99)?.is_none());
    /// # Ok::<(), orm::Error>(())
    /// ```
    pub fn add_all<T: Model, I: IntoIterator>(&self, objects: I) -> Vec<Obj<T>>
    where
        I::Item: IntoObj<T>,
    {
        objects.into_iter().map(|o| self.add(o)).collect()
    }

    /// The object with this primary key, from the identity map if already loaded, else one `SELECT`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] when the session is busy or the key does not fit the model's primary
    /// key; the database's error for the `SELECT`; [`Error::MultipleResultsFound`] when the table has
    /// several rows with that key (a key the database does not declare unique).
    pub fn get<T: Model>(&self, key: impl Into<Key>) -> Result<Option<Obj<T>>> {
        let key = key.into();
        if let Some(existing) = self.state()?.identity.get(T::TABLE_NAME, &key) {
            if existing.state() == ObjectState::Persistent && !existing.is_expired() {
                return downcast::<T>(existing.clone()).map(Some);
            }
        }
        // The statement `query::<T>().filter(pk == key).one_or_none()` runs, its SQL written
        // once per session rather than built and written again for every key.
        let mut rows = crate::query::select_by_key::<T>(self, &key)?;
        if rows.len() > 1 {
            // Only a table whose key is not unique in the database gets here: say what ran.
            let mut query = Query::new(crate::query::Models::<T>::new());
            for (&i, value) in T::PRIMARY_KEYS.iter().zip(key.value_refs()) {
                let pk = crate::core::AnyColumn::new(
                    T::TABLE_NAME.into(),
                    T::TABLE.columns[i].name.clone(),
                );
                query = query.filter(crate::core::SqlExpr::eq(&pk, value.to_owned()));
            }
            return Err(Error::MultipleResultsFound {
                count: rows.len(),
                query: query.to_sql(),
            });
        }
        Ok(rows.pop())
    }

    /// Copies an object's state into this session, as SQLAlchemy 2's `Session.merge`: the
    /// object with the same primary key is looked up in the identity map, else loaded with one
    /// `SELECT`; the given values are copied onto that persistent instance (its changed columns
    /// are written at the next flush) and it is returned. Without a row of that key — or without
    /// a key at all (an integer key of 0 the database would assign) — a new pending object with
    /// the given values is added and returned. The given object itself is left as it is (a
    /// detached object from a closed session, a struct built by hand, or a copy from elsewhere);
    /// an object of this session is returned unchanged. Only columns are copied: relationships
    /// already loaded on the given object are not merged (SQLAlchemy's `merge` cascade).
    ///
    /// # Errors
    ///
    /// The database's error if the `SELECT` fails; [`Error::InvalidRequest`] if the session is
    /// busy (called from inside one of its own operations) or the object is being changed
    /// (a `borrow_mut()` of it is alive).
    ///
    /// ```
    /// use orm::prelude::*;
    /// #[derive(Model, Clone, Default)]
    /// #[orm(table = "users")]
    /// pub struct User { #[orm(primary_key)] pub id: i64, pub name: String }
    /// let engine = create_engine("sqlite:///:memory:")?;
    /// MetaData::new().add::<User>().create_all(&engine)?;
    /// Session::scoped(&engine, |s| { s.add(User { id: 1, name: "Alice".into() }); Ok(()) })?;
    ///
    /// let session = Session::new(&engine);
    /// // A copy made elsewhere (a form, a cache, another session) with a new name.
    /// let merged = session.merge(User { id: 1, name: "Alicia".into() })?;
    /// assert_eq!(merged.state(), orm::ObjectState::Persistent);
    /// assert!(merged.ptr_eq(&session.get::<User>(1)?.unwrap()));
    /// session.commit()?;
    /// assert_eq!(session.get::<User>(1)?.unwrap().borrow().name, "Alicia");
    /// # Ok::<(), orm::Error>(())
    /// ```
    pub fn merge<T: Model>(&self, object: impl IntoObj<T>) -> Result<Obj<T>> {
        let object = object.into_obj();
        if object
            .session()
            .is_some_and(|cell| Rc::ptr_eq(&cell, &self.cell))
            && matches!(
                object.state(),
                ObjectState::Pending | ObjectState::Persistent
            )
        {
            return Ok(object);
        }
        let values: T = match object.0.value.try_borrow() {
            Ok(v) => v.clone(),
            Err(_) => {
                return Err(Error::InvalidRequest(format!(
                    "cannot merge a {} object that is being changed (a borrow_mut() of it is \
                     alive): drop it first",
                    T::TABLE_NAME
                )))
            }
        };
        let key_value = values.column_value(T::PRIMARY_KEY);
        let generated = T::TABLE.columns[T::PRIMARY_KEY].autoincrement
            && matches!(key_value, ValueRef::Integer(0) | ValueRef::Null);
        let key = if generated {
            None
        } else {
            Key::from_value_ref(key_value)
        };
        let existing = match key {
            // Autoflush runs first (as SQLAlchemy's merge loads with it): a pending object of the
            // same key is then persistent and found.
            Some(key) => self.get::<T>(key)?,
            None => None,
        };
        match existing {
            Some(existing) => {
                if existing.0.value.try_borrow_mut().is_err() {
                    return Err(Error::InvalidRequest(format!(
                        "cannot merge into the {} object of this key: it is borrowed elsewhere",
                        T::TABLE_NAME
                    )));
                }
                // Through `borrow_mut`, so the change is tracked like any other.
                *existing.borrow_mut() = values;
                Ok(existing)
            }
            None => Ok(self.add(values)),
        }
    }

    /// Marks an object for deletion (DELETE at the next flush). A pending object is simply dropped.
    /// Children of a `has_many` with a `delete` cascade are deleted with it; those of a
    /// `has_many` without one stay, their foreign key set to NULL at the flush, before the
    /// DELETE (SQLAlchemy's default; one `UPDATE` per 500 parents, not a load of each
    /// collection) — unless the foreign key has an
    /// `on_delete` (the database does what it says, as SQLAlchemy's `passive_deletes`) or is
    /// NOT NULL (the database refuses the DELETE: [`Error::ForeignKeyViolation`] at flush).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] when the object is transient or detached, belongs to another
    /// session, or the session is busy; the database's error when a `delete` cascade must load
    /// the children to delete them and that load fails.
    ///
    /// # Examples
    ///
    /// ```
    /// # use orm::prelude::*;
    /// # #[derive(Model, Debug, Clone, Default)]
    /// # #[orm(table = "users")]
    /// # pub struct User { #[orm(primary_key)] pub id: i64, pub name: String, pub age: Option<i64> }
    /// # let engine = create_engine("sqlite:///:memory:")?;
    /// # MetaData::new().add::<User>().create_all(&engine)?;
    /// let session = Session::new(&engine);
    /// let bob = session.add(User { name: "Bob".into(), ..Default::default() });
    /// session.commit()?;
    /// session.delete(&bob)?;                               // DELETE at the next flush
    /// session.commit()?;
    /// assert_eq!(session.query::<User>().count()?, 0);
    /// // A pending object is simply not inserted.
    /// let draft = session.add(User { name: "Draft".into(), ..Default::default() });
    /// session.delete(&draft)?;
    /// session.commit()?;
    /// assert_eq!(session.query::<User>().count()?, 0);
    /// # Ok::<(), orm::Error>(())
    /// ```
    pub fn delete<T: Model>(&self, object: &Obj<T>) -> Result<()> {
        let mut state = self.state()?;
        match object.state() {
            ObjectState::Pending => {
                let tracked: Rc<dyn AnyTracked> = object.0.clone();
                state.pending.retain(|p| !Rc::ptr_eq(p, &tracked));
                object.0.set_state(ObjectState::Transient);
                Ok(())
            }
            ObjectState::Persistent => {
                if !object
                    .session()
                    .is_some_and(|cell| Rc::ptr_eq(&cell, &self.cell))
                {
                    return Err(Error::InvalidRequest(format!(
                        "this {} object belongs to another session",
                        T::TABLE_NAME
                    )));
                }
                drop(state);
                let tracked: Rc<dyn AnyTracked> = object.0.clone();
                // Cascades may load children, which needs the session: collect them first.
                let mut targets = Vec::new();
                crate::relationship::cascade_targets(self, &tracked, &mut targets)?;
                targets.push(tracked);
                let mut state = self.state()?;
                for target in targets {
                    state.push_deleted(target);
                }
                Ok(())
            }
            other => Err(Error::InvalidRequest(format!(
                "cannot delete a {} object that is {other:?}: it is not in this session",
                T::TABLE_NAME
            ))),
        }
    }

    /// Writes pending adds, changes and deletes inside the session's transaction.
    /// If a statement fails, the transaction is rolled back and the error names what failed.
    ///
    /// # Errors
    ///
    /// The first statement's error, classified ([`Error::UniqueViolation`],
    /// [`Error::ForeignKeyViolation`], [`Error::NotNullViolation`], [`Error::ConstraintViolation`]…)
    /// and naming the table; [`Error::StaleData`] when an `UPDATE` or `DELETE` matched another
    /// number of rows than expected; [`Error::TransactionConflict`] on `sqlite:///:memory:` when
    /// another session's transaction is open (then nothing was written and the session keeps its
    /// work); [`Error::InvalidRequest`] when the session is busy. After any other error the
    /// session's transaction has been rolled back, as [`Session::rollback`] does.
    pub fn flush(&self) -> Result<()> {
        self.cell.flush()
    }

    /// Flushes, then commits the transaction: nothing is half written if any step fails. The
    /// connection goes back to the engine's pool; with `expire_on_commit` (the default) every
    /// object is expired, so its next load shows the database's values.
    ///
    /// # Errors
    ///
    /// The flush's error (everything is then rolled back); [`Error::TransactionConflict`] on
    /// `sqlite:///:memory:` when another session's transaction is open on the one connection.
    pub fn commit(&self) -> Result<()> {
        self.cell.flush()?;
        let mut state = self.state()?;
        let outcome = state.with_conn(|state, conn| state.end_transaction(conn, true));
        state.release_connection();
        if let Err(e) = outcome {
            drop(state);
            let _ = self.cell.rollback();
            return Err(e);
        }
        state.updated.clear();
        state.removed.clear();
        state.transaction_number += 1;
        if state.expire_on_commit {
            for obj in state.identity.values() {
                obj.expire();
            }
            self.cell.relations_loaded.set(false);
        } else if self.cell.relations_loaded.replace(false) {
            // Relationships are read again after a commit either way: navigate, read fresh rows.
            for obj in state.identity.values() {
                obj.relations().borrow_mut().clear();
            }
        }
        Ok(())
    }

    /// Undoes everything since the last commit, as SQLAlchemy does: objects stay in the session,
    /// expired, with the values from before the transaction's changes; pending objects and those
    /// inserted in the transaction leave it (transient); deleted ones come back.
    ///
    /// # Errors
    ///
    /// [`Error::TransactionConflict`] on `sqlite:///:memory:` when the open transaction is
    /// another session's; the database's error if `ROLLBACK` fails.
    ///
    /// # Examples
    ///
    /// ```
    /// # use orm::prelude::*;
    /// # #[derive(Model, Debug, Clone, Default)]
    /// # #[orm(table = "users")]
    /// # pub struct User { #[orm(primary_key)] pub id: i64, pub name: String, pub age: Option<i64> }
    /// # let engine = create_engine("sqlite:///:memory:")?;
    /// # MetaData::new().add::<User>().create_all(&engine)?;
    /// use orm::ObjectState;
    /// let session = Session::new(&engine);
    /// let alice = session.add(User { name: "Alice".into(), age: Some(30), ..Default::default() });
    /// session.commit()?;
    /// alice.borrow_mut().age = Some(31);
    /// let bob = session.add(User { name: "Bob".into(), ..Default::default() });
    /// session.flush()?;
    /// session.rollback()?;
    /// assert_eq!(alice.borrow().age, Some(30));            // the value from before the transaction
    /// assert_eq!(bob.state(), ObjectState::Transient);     // inserted in it: out of the session
    /// assert_eq!(session.query::<User>().count()?, 1);
    /// # Ok::<(), orm::Error>(())
    /// ```
    pub fn rollback(&self) -> Result<()> {
        self.cell.rollback()
    }

    /// Ends the session: rolls back what was not committed, gives its connection back to the
    /// engine's pool and lets go of every object (they become detached).
    pub fn close(&self) {
        let _ = self.cell.close();
    }

    /// Whether there is anything to write.
    pub fn is_dirty(&self) -> bool {
        self.cell.has_work()
    }

    /// Starts an ORM query: `session.query::<User>()`, or `session.query::<(User, Post)>()`.
    pub fn query<E: Entities>(&self) -> Query<E::Fetcher> {
        Query::new(E::fetcher()).bind(self)
    }

    /// A query of columns or expressions: `session.query_values(func::avg(User::age)).scalar()`.
    pub fn query_values<F: Fetch>(&self, columns: F) -> Query<F> {
        Query::new(columns).bind(self)
    }

    /// Runs a 2.0-style query (`orm::select::<User>()`) in this session and returns every row.
    ///
    /// # Errors
    ///
    /// As [`Query::all`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use orm::prelude::*;
    /// # #[derive(Model, Debug, Clone, Default)]
    /// # #[orm(table = "users")]
    /// # pub struct User { #[orm(primary_key)] pub id: i64, pub name: String, pub age: Option<i64> }
    /// # let engine = create_engine("sqlite:///:memory:")?;
    /// # MetaData::new().add::<User>().create_all(&engine)?;
    /// let session = Session::new(&engine);
    /// session.add(User { name: "Alice".into(), age: Some(30), ..Default::default() });
    /// let adults = session.scalars(orm::select::<User>().filter(User::age.ge(18)))?;
    /// assert_eq!(adults[0].borrow().name, "Alice");
    /// let names = session.scalars(orm::select_values(User::name))?;
    /// assert_eq!(names, ["Alice"]);
    /// # Ok::<(), orm::Error>(())
    /// ```
    pub fn scalars<F: Fetch>(&self, query: Query<F>) -> Result<Vec<F::Output>> {
        query.bind(self).all()
    }

    /// Runs a Core statement in the session's transaction (after flushing pending work): its
    /// writes are committed or rolled back with the session's.
    ///
    /// # Errors
    ///
    /// The database's error for the statement; [`Error::TransactionConflict`] on
    /// `sqlite:///:memory:` while another session's transaction is open.
    ///
    /// # Examples
    ///
    /// ```
    /// # use orm::prelude::*;
    /// # #[derive(Model, Debug, Clone, Default)]
    /// # #[orm(table = "users")]
    /// # pub struct User { #[orm(primary_key)] pub id: i64, pub name: String, pub age: Option<i64> }
    /// # let engine = create_engine("sqlite:///:memory:")?;
    /// # MetaData::new().add::<User>().create_all(&engine)?;
    /// use orm::core::text;
    /// let session = Session::new(&engine);
    /// session.add(User { name: "Alice".into(), age: Some(30), ..Default::default() });
    /// // The pending add is flushed first; the UPDATE is part of the session's transaction…
    /// let done = session.execute(text("UPDATE users SET age = age + 1"))?;
    /// assert_eq!(done.rows_affected, 1);
    /// session.rollback()?;                                 // …and is undone with it.
    /// let count = engine.execute(text("SELECT count(*) FROM users"))?;
    /// assert_eq!(count.scalar(), Some(&orm::Value::Integer(0)));
    /// # Ok::<(), orm::Error>(())
    /// ```
    pub fn execute(&self, stmt: impl Into<Statement>) -> Result<ResultSet> {
        self.autoflush()?;
        let mut state = self.state()?;
        let writer = state.engine.writer();
        let stmt = stmt.into();
        stmt.check()?;
        let compiled = writer.compile(&stmt);
        let params: Vec<ValueRef<'_>> = compiled.params.iter().map(Value::as_ref).collect();
        // A read outside a transaction needs none (it sees what is committed either way); a
        // write opens the session's transaction, committed or rolled back with its other work.
        let needs_transaction = !crate::engine::only_reads(&stmt);
        state.with_conn(|state, conn| {
            if needs_transaction {
                state.begin(conn, false)?;
            }
            conn.fetch_all(&compiled.sql, &params, stmt.target_table())
        })
    }

    pub(crate) fn autoflush(&self) -> Result<()> {
        let autoflush = self.state()?.autoflush;
        if autoflush {
            self.cell.flush()?;
        }
        Ok(())
    }

    /// How many objects the identity map holds.
    pub fn identity_count(&self) -> usize {
        self.cell.state.borrow().identity.len()
    }
}

impl SessionCell {
    pub(crate) fn attach<T: Model>(&self, obj: &Obj<T>) {
        match obj.state() {
            ObjectState::Transient | ObjectState::Detached => {
                obj.0.value.borrow_mut().apply_defaults();
                let detached = obj.state() == ObjectState::Detached;
                obj.0.attach(self.weak_self.clone());
                let mut state = self.state.borrow_mut();
                if detached {
                    // A detached object comes back as persistent; its values are written as they are now.
                    obj.0.set_state(ObjectState::Persistent);
                    *obj.0.snapshot.borrow_mut() = None;
                    if let Some(key) = obj.key() {
                        state.identity.insert(T::TABLE_NAME, key, obj.0.clone());
                    }
                    drop(state);
                    self.mark_all_columns_changed(obj);
                } else {
                    obj.0.set_state(ObjectState::Pending);
                    state.pending.push(obj.0.clone());
                }
            }
            ObjectState::Pending | ObjectState::Persistent | ObjectState::Deleted => {}
        }
    }

    fn mark_all_columns_changed<T: Model>(&self, obj: &Obj<T>) {
        // An empty snapshot of the right shape: every column differs, so every column is written.
        let mut blank = obj.get();
        for i in 0..T::COLUMN_COUNT {
            // The key and the version counter stay: the UPDATE matches the row by them.
            if !T::PRIMARY_KEYS.contains(&i) && Some(i) != T::VERSION_ID {
                let _ = crate::model::set_field(&mut blank, i, ValueRef::Null);
            }
        }
        *obj.0.snapshot.borrow_mut() = Some(Box::new(blank));
        self.mark_changed(obj.0.clone());
    }

    pub(crate) fn mark_changed(&self, tracked: Rc<dyn AnyTracked>) {
        self.changed.borrow_mut().push(tracked);
    }

    pub(crate) fn has_work(&self) -> bool {
        let state = self.state.borrow();
        !state.pending.is_empty()
            || !state.deleted.is_empty()
            || !state.links.is_empty()
            || !state.associations.is_empty()
            || !self.changed.borrow().is_empty()
    }

    pub(crate) fn flush(&self) -> Result<()> {
        if !self.has_work() {
            return Ok(());
        }
        let mut state = self
            .state
            .try_borrow_mut()
            .map_err(|_| Error::InvalidRequest("the session is busy".into()))?;
        let result = state.with_conn(|state, conn| {
            state.begin(conn, true)?;
            state.flush_work(conn, self)
        });
        if let Err(e) = result {
            drop(state);
            // A conflict over the in-memory database's one connection is refused before anything
            // is written: the session keeps its work (the other session may yet commit).
            if !matches!(e, Error::TransactionConflict { .. }) {
                let _ = self.rollback();
            }
            return Err(e);
        }
        Ok(())
    }

    /// Unflushed changes given up: each changed object gets its last loaded values back.
    fn forget_changes(&self) {
        for obj in std::mem::take(&mut *self.changed.borrow_mut()) {
            obj.expire();
        }
    }

    fn rollback(&self) -> Result<()> {
        let mut state = self
            .state
            .try_borrow_mut()
            .map_err(|_| Error::InvalidRequest("the session is busy".into()))?;
        let result = state.with_conn(|state, conn| state.end_transaction(conn, false));
        state.release_connection();
        if matches!(result, Err(Error::TransactionConflict { .. })) {
            // Not this session's transaction: nothing of it was undone, so nothing is reverted.
            return result;
        }
        // Objects inserted in the transaction, and pending ones, leave the session.
        let number = state.transaction_number;
        state.transaction_number += 1;
        let inserted: Vec<Rc<dyn AnyTracked>> = state
            .identity
            .values()
            .filter(|obj| obj.inserted_in() == number)
            .cloned()
            .collect();
        for obj in &inserted {
            if let Some(key) = obj.key() {
                state.identity.remove(obj.table_name(), &key);
            }
        }
        let pending = std::mem::take(&mut state.pending);
        for obj in inserted.iter().chain(pending.iter()) {
            obj.set_state(ObjectState::Pending);
            obj.detach(false);
        }
        // Deleted ones come back; updated and changed ones get their values from before.
        for obj in std::mem::take(&mut state.removed) {
            obj.set_state(ObjectState::Persistent);
            obj.attach(self.weak_self.clone());
            if let Some(key) = obj.key() {
                state.identity.insert(obj.table_name(), key, obj);
            }
        }
        // Unflushed changes first, then the flushed ones, latest first: the values from before
        // the transaction are the last written.
        for obj in std::mem::take(&mut *self.changed.borrow_mut()) {
            obj.revert_unflushed();
        }
        for (obj, before) in std::mem::take(&mut state.updated).into_iter().rev() {
            obj.restore(before);
        }
        for obj in state.identity.values() {
            obj.expire();
        }
        self.relations_loaded.set(false);
        state.deleted.clear();
        state.deleted_seen.clear();
        state.links.clear();
        state.associations.clear();
        result
    }

    /// Ends the session: rolls back and lets go of every object (all detached).
    fn close(&self) -> Result<()> {
        let result = self.rollback();
        let mut state = self
            .state
            .try_borrow_mut()
            .map_err(|_| Error::InvalidRequest("the session is busy".into()))?;
        for obj in state.identity.drain_in_memory_order() {
            obj.detach(false);
        }
        result
    }
}

impl Drop for SessionCell {
    fn drop(&mut self) {
        let state = self.state.get_mut();
        if state.in_transaction {
            let _ = state.with_conn(|state, conn| state.end_transaction(conn, false));
        }
        state.release_connection();
        drop(state.identity.drain_in_memory_order());
    }
}

impl SessionState {
    /// Runs `work` on this session's connection: the one it holds, or one from the pool that it
    /// keeps from now on (on an in-memory database, the engine's one connection, locked).
    fn with_conn<R>(
        &mut self,
        work: impl FnOnce(&mut SessionState, &mut Conn<'_>) -> Result<R>,
    ) -> Result<R> {
        let engine = self.engine.clone();
        let mut conn = engine.session_conn(self.held.take())?;
        let outcome = work(self, &mut conn);
        self.held = conn.into_held();
        outcome
    }

    /// The connection back to the engine's pool (at commit, rollback, close).
    fn release_connection(&mut self) {
        if let Some(held) = self.held.take() {
            drop(Conn::owned(held, self.engine.inner()));
        }
    }

    fn conflict(&self, owner: u64) -> Error {
        Error::TransactionConflict {
            detail: format!(
                "session {owner}'s transaction is open on the one connection of \
                 sqlite:///:memory:, so session {} cannot write, commit or roll back its own \
                 work now (it would be undone or committed by the other session): commit or roll \
                 back session {owner} first, or use a file database, where each session has its \
                 own connection",
                self.id
            ),
        }
    }

    /// Opens this session's transaction if it is not open yet. `write`: the transaction is
    /// opened to write (a SQLite file then takes the write lock at once, `BEGIN IMMEDIATE`, so
    /// two writers wait for each other instead of failing on a stale snapshot).
    fn begin(&mut self, conn: &mut Conn<'_>, write: bool) -> Result<()> {
        let me = self.id;
        if let Some(owner) = conn.shared_owner() {
            match *owner {
                Some(other) if other != me => return Err(self.conflict(other)),
                Some(_) if self.in_transaction => return Ok(()),
                _ => {}
            }
        } else if self.in_transaction {
            return Ok(());
        }
        if !conn.is_autocommit() {
            return Err(Error::TransactionConflict {
                detail: "a transaction not begun by this session is open on its connection \
                         (was BEGIN sent through execute?)"
                    .into(),
            });
        }
        let immediate = write && self.engine.is_sqlite_file();
        conn.control(if immediate {
            "BEGIN IMMEDIATE"
        } else {
            "BEGIN"
        })?;
        if let Some(owner) = conn.shared_owner() {
            *owner = Some(me);
        }
        self.in_transaction = true;
        Ok(())
    }

    fn end_transaction(&mut self, conn: &mut Conn<'_>, commit: bool) -> Result<()> {
        let me = self.id;
        if let Some(owner) = conn.shared_owner() {
            match *owner {
                Some(other) if other != me => {
                    if self.in_transaction {
                        self.in_transaction = false;
                        return Err(self.conflict(other));
                    }
                    // Nothing of this session's is open: there is nothing to end.
                    return Ok(());
                }
                Some(_) => *owner = None,
                None => {}
            }
        }
        if !std::mem::replace(&mut self.in_transaction, false) {
            return Ok(());
        }
        if conn.is_autocommit() {
            if commit {
                // Someone ended the transaction behind the session's back: its work may be gone.
                return Err(Error::TransactionConflict {
                    detail: "this session's transaction was ended outside the session (a COMMIT \
                             or ROLLBACK sent through execute?): its work may not be in the database"
                        .into(),
                });
            }
            return Ok(());
        }
        conn.control(if commit { "COMMIT" } else { "ROLLBACK" })
    }

    pub(crate) fn push_deleted(&mut self, obj: Rc<dyn AnyTracked>) {
        if self.deleted_seen.insert(address(&obj)) {
            self.deleted.push(obj);
        }
    }
}

/// An object's address: what `Rc::ptr_eq` compares, as a hashable number.
fn address(obj: &Rc<dyn AnyTracked>) -> usize {
    Rc::as_ptr(obj) as *const () as usize
}

impl crate::model::Owner for SessionCell {
    fn object_changed(&self, obj: Rc<dyn AnyTracked>) {
        self.mark_changed(obj);
    }
    fn into_any(self: Rc<Self>) -> Rc<dyn std::any::Any> {
        self
    }
}

impl<T: Model> Obj<T> {
    /// The session holding the object, if it is alive.
    pub(crate) fn session(&self) -> Option<Rc<SessionCell>> {
        let owner = self.0.session.borrow().upgrade()?;
        owner.into_any().downcast::<SessionCell>().ok()
    }
}

/// Recovers the typed handle from the identity map's type-erased entry.
pub(crate) fn downcast<T: Model>(obj: Rc<dyn AnyTracked>) -> Result<Obj<T>> {
    obj.as_any().downcast::<Tracked<T>>().map(Obj).map_err(|_| {
        Error::InvalidRequest(format!(
            "this session holds {} rows of another model type with the same table name \
             (was the model defined again? start a new Session)",
            T::TABLE_NAME
        ))
    })
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.cell.state.try_borrow() {
            Ok(s) => write!(
                f,
                "Session({}, {} objects, {} pending, {} to delete)",
                s.engine.url(),
                s.identity.len(),
                s.pending.len(),
                s.deleted.len()
            ),
            Err(_) => f.write_str("Session(busy)"),
        }
    }
}
