//! Models: Rust structs mapped to tables, and `Obj`, the session's handle on one row.

use crate::core::Table;
use crate::engine::RowReader;
use crate::error::{Error, Result};
use crate::value::{Value, ValueRef};
use std::any::Any;
use std::cell::{Cell, Ref, RefCell, RefMut};
use std::fmt;
use std::rc::{Rc, Weak};

/// A struct mapped to a table. Write `#[derive(Model)]`; the derive fills all of this in and
/// adds one constant per column (`User::age`) for building queries.
pub trait Model: Clone + 'static {
    /// The table's name (`#[orm(table = "…")]`).
    const TABLE_NAME: &'static str;
    /// The table's schema, as `create_all` writes it.
    const TABLE: Table;
    /// The position of the primary key among the columns (the first key column when the key
    /// is composite).
    const PRIMARY_KEY: usize;
    /// The positions of every primary key column, in declaration order: one for a plain key,
    /// two or more for a composite key (`#[orm(primary_key)]` on several fields, SQLAlchemy's
    /// `primary_key=True` on several `mapped_column`s).
    const PRIMARY_KEYS: &'static [usize] = &[Self::PRIMARY_KEY];
    /// The position of the version counter (`#[orm(version_id_col = "version")]`,
    /// SQLAlchemy's `version_id_col`): set to 1 at insert, and every `UPDATE` or `DELETE`
    /// of the unit of work matches it (`WHERE id = ? AND version = ?`) and moves it on by one,
    /// so a row another session changed since it was loaded is `StaleData`, not overwritten.
    const VERSION_ID: Option<usize> = None;
    /// How many columns the table has (one per field).
    const COLUMN_COUNT: usize;

    /// The value of column `index`, borrowed (no copy of strings).
    fn column_value(&self, index: usize) -> ValueRef<'_>;
    /// Stores the rowid the database assigned to a new row.
    fn set_primary_key(&mut self, id: i64);
    /// Builds the struct from the row's next `COLUMN_COUNT` columns.
    ///
    /// # Errors
    ///
    /// [`Error::WrongType`] naming the table and column when a value does not fit its field; the
    /// driver's error when a column cannot be read.
    fn from_row(row: &mut RowReader<'_>) -> Result<Self>;
    /// Fills `None` fields that declare a default (the lesson's `default=value`).
    fn apply_defaults(&mut self) {}
    /// The relationships declared on the model (`User::posts`).
    fn relationships() -> Vec<crate::relationship::RelationshipInfo> {
        Vec::new()
    }
}

/// An identity-map key: a primary key value that can be hashed (SQLAlchemy's identity key).
///
/// `session.get::<T>(key)` takes anything that converts into one: an integer or a string for a
/// one-column key, a tuple for a composite key, its parts in the order the key columns are
/// declared (`session.get::<Enrollment>((student_id, course_id))`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// An integer key.
    Int(i64),
    /// A text key.
    Text(String),
    /// The values of a composite primary key, in the order its columns are declared.
    Composite(Box<[Key]>),
}

impl Key {
    /// The key a column value makes: integers and text only (`None` for any other value).
    pub fn from_value_ref(v: ValueRef<'_>) -> Option<Key> {
        match v {
            ValueRef::Integer(i) => Some(Key::Int(i)),
            ValueRef::Text(t) => Some(Key::Text(t.to_owned())),
            _ => None,
        }
    }
    /// The key as one value; a composite key as the JSON array of its parts (for messages).
    pub fn to_value(&self) -> Value {
        match self {
            Key::Int(i) => Value::Integer(*i),
            Key::Text(t) => Value::Text(t.clone()),
            Key::Composite(parts) => Value::Json(serde_json::Value::Array(
                parts
                    .iter()
                    .map(|p| match p.to_value() {
                        Value::Integer(i) => serde_json::Value::from(i),
                        Value::Text(t) => serde_json::Value::from(t),
                        Value::Json(j) => j,
                        other => serde_json::Value::from(other.to_string()),
                    })
                    .collect(),
            )),
        }
    }
    /// The key's values as parameters, one per key column, without copying a text key.
    pub(crate) fn value_refs(&self) -> Vec<ValueRef<'_>> {
        match self {
            Key::Int(i) => vec![ValueRef::Integer(*i)],
            Key::Text(t) => vec![ValueRef::Text(t)],
            Key::Composite(parts) => parts.iter().flat_map(Key::value_refs).collect(),
        }
    }
    /// Runs `f` on the key's values as parameters; a one-column key's value stays on the
    /// stack (`Session::get` runs this for every key it looks up).
    pub(crate) fn with_value_refs<R>(&self, f: impl FnOnce(&[ValueRef<'_>]) -> R) -> R {
        match self {
            Key::Int(i) => f(&[ValueRef::Integer(*i)]),
            Key::Text(t) => f(&[ValueRef::Text(t)]),
            Key::Composite(_) => f(&self.value_refs()),
        }
    }
    /// A one-column key's value as a parameter; `None` for a composite key.
    pub(crate) fn single_value_ref(&self) -> Option<ValueRef<'_>> {
        match self {
            Key::Int(i) => Some(ValueRef::Integer(*i)),
            Key::Text(t) => Some(ValueRef::Text(t)),
            Key::Composite(_) => None,
        }
    }
    /// How many key columns the key has values for.
    pub(crate) fn arity(&self) -> usize {
        match self {
            Key::Composite(parts) => parts.len(),
            _ => 1,
        }
    }
}

/// The identity key of a model value: its primary key column, or the tuple of its columns for a
/// composite key; `None` while any part is not assigned (NULL) or of a type that cannot key.
pub(crate) fn key_of<T: Model>(value: &T) -> Option<Key> {
    key_from::<T>(|i| Ok(Key::from_value_ref(value.column_value(i))))
        .ok()
        .flatten()
}

/// The identity key built from `part(i)`, the key value of the model's column `i`.
pub(crate) fn key_from<T: Model>(
    mut part: impl FnMut(usize) -> Result<Option<Key>>,
) -> Result<Option<Key>> {
    if let [one] = T::PRIMARY_KEYS {
        return part(*one);
    }
    let mut parts = Vec::with_capacity(T::PRIMARY_KEYS.len());
    for &i in T::PRIMARY_KEYS {
        match part(i)? {
            Some(key) => parts.push(key),
            None => return Ok(None),
        }
    }
    Ok(Some(Key::Composite(parts.into())))
}

/// The key a caller passed, checked against the model's key columns.
///
/// # Errors
///
/// [`Error::InvalidRequest`] naming the key columns when the number of values differs from the
/// number of key columns (a single value for a composite key, a tuple for a plain one).
pub(crate) fn check_key_arity<T: Model>(key: &Key) -> Result<()> {
    if key.arity() == T::PRIMARY_KEYS.len() {
        return Ok(());
    }
    let table = T::TABLE;
    let names: Vec<&str> = T::PRIMARY_KEYS
        .iter()
        .map(|&i| table.columns[i].name.as_ref())
        .collect();
    Err(Error::InvalidRequest(format!(
        "the primary key of {} has {} column{} ({}), but the key given has {} value{}: {}",
        T::TABLE_NAME,
        names.len(),
        if names.len() == 1 { "" } else { "s" },
        names.join(", "),
        key.arity(),
        if key.arity() == 1 { "" } else { "s" },
        key.to_value()
    )))
}

impl<A: Into<Key>, B: Into<Key>> From<(A, B)> for Key {
    fn from((a, b): (A, B)) -> Key {
        Key::Composite(Box::new([a.into(), b.into()]))
    }
}
impl<A: Into<Key>, B: Into<Key>, C: Into<Key>> From<(A, B, C)> for Key {
    fn from((a, b, c): (A, B, C)) -> Key {
        Key::Composite(Box::new([a.into(), b.into(), c.into()]))
    }
}

impl From<i64> for Key {
    fn from(v: i64) -> Key {
        Key::Int(v)
    }
}
impl From<i32> for Key {
    fn from(v: i32) -> Key {
        Key::Int(v as i64)
    }
}
impl From<&str> for Key {
    fn from(v: &str) -> Key {
        Key::Text(v.to_owned())
    }
}
impl From<String> for Key {
    fn from(v: String) -> Key {
        Key::Text(v)
    }
}

/// Where an object stands with respect to a session (SQLAlchemy's object states).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectState {
    /// Not in any session.
    Transient,
    /// Added, not yet written.
    Pending,
    /// Written, and tracked by a session.
    Persistent,
    /// Deleted in this session's transaction.
    Deleted,
    /// Was in a session that closed or rolled back.
    Detached,
}

/// What a tracked object reports to the session that holds it. The session implements it, and
/// this module never names the session: as SQLAlchemy's object state tells the identity map
/// that it changed without importing `Session`.
#[doc(hidden)]
pub trait Owner {
    /// The object changed for the first time since it was last written: write it at the next
    /// flush.
    fn object_changed(&self, obj: Rc<dyn AnyTracked>);
    /// The owner itself, for the session to recognise its own.
    fn into_any(self: Rc<Self>) -> Rc<dyn Any>;
}

/// No owner: the `Weak` of an object outside any session.
struct NoOwner;

impl Owner for NoOwner {
    fn object_changed(&self, _obj: Rc<dyn AnyTracked>) {}
    fn into_any(self: Rc<Self>) -> Rc<dyn Any> {
        self
    }
}

/// The owner of an object outside any session.
pub(crate) fn no_owner() -> Weak<dyn Owner> {
    Weak::<NoOwner>::new()
}

pub(crate) struct Tracked<T> {
    pub(crate) value: RefCell<T>,
    pub(crate) state: Cell<ObjectState>,
    /// The values as last written or loaded, taken at the first `borrow_mut`: dirty tracking
    /// costs nothing for objects that are only read. Boxed, so an object that is only read
    /// carries one pointer for it rather than a second copy's worth of space.
    pub(crate) snapshot: RefCell<Option<Box<T>>>,
    pub(crate) session: RefCell<Weak<dyn Owner>>,
    pub(crate) relations: RefCell<crate::relationship::Loaded>,
    /// Expired (at commit, rollback or `session.expire`): the values are the last ones loaded,
    /// and the next load that meets the row (`get`, a query, `refresh`) writes the row's onto it.
    pub(crate) expired: Cell<bool>,
    /// The number of the session transaction that inserted the row (0: none): a rollback of
    /// that transaction makes the object transient again.
    pub(crate) inserted_in: Cell<u32>,
}

/// A model object tracked by a session: a shared handle, one per row per session (the identity
/// map), so a change made through any handle is the change the session writes.
///
/// ```
/// use orm::prelude::*;
/// #[derive(Model, Debug, Clone, Default)]
/// #[orm(table = "users")]
/// pub struct User {
///     #[orm(primary_key)] pub id: i64,
///     pub name: String,
///     pub age: Option<i64>,
/// }
/// let engine = create_engine("sqlite:///:memory:")?;
/// MetaData::new().add::<User>().create_all(&engine)?;
/// let session = Session::new(&engine);
/// let alice = session.add(User { name: "Alice".into(), age: Some(30), ..Default::default() });
/// session.commit()?;
/// alice.borrow_mut().age = Some(31);     // tracked: one UPDATE of `age` at the next commit
/// session.commit()?;
/// let again = session.get::<User>(alice.borrow().id)?.unwrap();
/// assert!(again.ptr_eq(&alice));         // one object per row per session
/// assert_eq!(again.borrow().age, Some(31));
/// # Ok::<(), orm::Error>(())
/// ```
pub struct Obj<T: Model>(pub(crate) Rc<Tracked<T>>);

impl<T: Model> Obj<T> {
    /// A transient object, not yet in a session.
    pub fn new(value: T) -> Obj<T> {
        Obj::with_state(value, ObjectState::Transient, no_owner())
    }

    /// A persistent object of `session`, made from a row it loaded.
    pub(crate) fn persistent(value: T, session: Weak<dyn Owner>) -> Obj<T> {
        Obj::with_state(value, ObjectState::Persistent, session)
    }

    fn with_state(value: T, state: ObjectState, session: Weak<dyn Owner>) -> Obj<T> {
        Obj(Rc::new(Tracked {
            value: RefCell::new(value),
            state: Cell::new(state),
            snapshot: RefCell::new(None),
            session: RefCell::new(session),
            relations: RefCell::new(Default::default()),
            expired: Cell::new(false),
            inserted_in: Cell::new(0),
        }))
    }

    /// Reads the object.
    ///
    /// An expired object (after a commit with `expire_on_commit`, a rollback, or
    /// `session.expire`) shows the values it had when it was last loaded or written: `borrow()`
    /// runs no SQL. It shows the database's values again once something loads its row: the next
    /// `session.get`, a query whose rows include it, or `session.refresh(&obj)`. After a
    /// rollback it shows the values from before the transaction's changes.
    ///
    /// Panics, as `RefCell` does, while a `borrow_mut()` of the same object is alive; the panic
    /// names the caller's line, not this file.
    #[track_caller]
    pub fn borrow(&self) -> Ref<'_, T> {
        match self.0.value.try_borrow() {
            Ok(value) => value,
            Err(_) => panic!(
                "this {} object is being changed (a borrow_mut() of it is still alive): end that first",
                T::TABLE_NAME
            ),
        }
    }

    /// Changes the object; the session writes the changed columns at the next flush.
    ///
    /// Panics, as `RefCell` does, while another borrow of the same object is alive; the panic
    /// names the caller's line, not this file.
    #[track_caller]
    pub fn borrow_mut(&self) -> RefMut<'_, T> {
        if self.0.state.get() == ObjectState::Persistent && self.0.snapshot.borrow().is_none() {
            *self.0.snapshot.borrow_mut() = Some(Box::new(self.0.value.borrow().clone()));
            if let Some(owner) = self.0.session.borrow().upgrade() {
                owner.object_changed(self.0.clone());
            }
        }
        match self.0.value.try_borrow_mut() {
            Ok(value) => value,
            // The usual cause is `f(obj.borrow().id)` where `f` changes the same object.
            Err(_) => panic!(
                "this {} object is already borrowed (a borrow() of it is still alive, perhaps in the \
                 same expression): copy what you need into a variable first, e.g. `let id = obj.borrow().id;`",
                T::TABLE_NAME
            ),
        }
    }

    /// A copy of the object's current values, detached from the session.
    #[track_caller]
    pub fn get(&self) -> T {
        self.0.value.borrow().clone()
    }

    /// The object's state in its session (SQLAlchemy's `inspect(obj)` states).
    pub fn state(&self) -> ObjectState {
        self.0.state.get()
    }

    /// Whether the object is expired: its values are reloaded when a `get`, a query or a
    /// `refresh` next meets its row (see [`Obj::borrow`]).
    pub fn is_expired(&self) -> bool {
        self.0.expired.get()
    }

    /// The primary key value (`0` or `NULL` until the row is written).
    pub fn primary_key(&self) -> Value {
        self.borrow().column_value(T::PRIMARY_KEY).to_owned()
    }

    /// Whether two handles are the same object (the identity map at work).
    pub fn ptr_eq(&self, other: &Obj<T>) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }

    pub(crate) fn key(&self) -> Option<Key> {
        key_of(&*self.borrow())
    }
}

impl<T: Model> Clone for Obj<T> {
    fn clone(&self) -> Self {
        Obj(self.0.clone())
    }
}

impl<T: Model + fmt::Debug> fmt::Debug for Obj<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.value.try_borrow() {
            Ok(v) => v.fmt(f),
            Err(_) => f.write_str("<being changed>"),
        }
    }
}

impl<T: Model + fmt::Display> fmt::Display for Obj<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.value.try_borrow() {
            Ok(v) => v.fmt(f),
            Err(_) => f.write_str("<being changed>"),
        }
    }
}

/// What `session.add` accepts: a new struct or an object the session already handed out.
pub trait IntoObj<T: Model> {
    /// The value as an object of the session (`Obj<T>`), or the object itself.
    fn into_obj(self) -> Obj<T>;
}
impl<T: Model> IntoObj<T> for T {
    fn into_obj(self) -> Obj<T> {
        Obj::new(self)
    }
}
impl<T: Model> IntoObj<T> for Obj<T> {
    fn into_obj(self) -> Obj<T> {
        self
    }
}
impl<T: Model> IntoObj<T> for &Obj<T> {
    fn into_obj(self) -> Obj<T> {
        self.clone()
    }
}

/// The session's type-erased view of a tracked object, for the unit of work.
#[doc(hidden)]
pub trait AnyTracked {
    fn table_name(&self) -> &'static str;
    fn state(&self) -> ObjectState;
    fn set_state(&self, state: ObjectState);
    fn key(&self) -> Option<Key>;
    fn as_any(self: Rc<Self>) -> Rc<dyn Any>;
    fn attach(&self, session: Weak<dyn Owner>);
    /// Forgets the session; a changed object goes back to its last written values.
    fn detach(&self, revert: bool);
    /// The object as `&dyn Any`, for the unit of work's typed batches.
    fn as_any_ref(&self) -> &dyn Any;
    /// Inserts `run`, objects of this one model type (`self` among them), in as few statements
    /// as the engine allows (`session/persistence.rs`).
    fn insert_all(
        &self,
        run: &[Rc<dyn AnyTracked>],
        uow: &mut crate::session::FlushContext<'_>,
    ) -> Result<()>;
    /// Which columns differ from the snapshot taken at the first `borrow_mut` (bit `i`: column
    /// `i`); 0 when nothing is to be written.
    fn changed_columns(&self) -> Result<u128>;
    /// Writes the `mask` columns of `group` (objects of this model type with exactly those
    /// columns changed); returns each one's values from before the change (what a rollback
    /// puts back), in the group's order.
    fn update_all(
        &self,
        group: &[Rc<dyn AnyTracked>],
        mask: u128,
        uow: &mut crate::session::FlushContext<'_>,
    ) -> Result<Vec<Box<dyn Any>>>;
    /// Deletes the rows of `run`, objects of this model type.
    fn delete_all(
        &self,
        run: &[Rc<dyn AnyTracked>],
        uow: &mut crate::session::FlushContext<'_>,
    ) -> Result<()>;
    fn relations(&self) -> &RefCell<crate::relationship::Loaded>;
    /// Marks the object for reloading; unflushed changes are given up (SQLAlchemy's `expire`).
    fn expire(&self);
    fn is_expired(&self) -> bool;
    /// Rollback: values `update` returned, from before a flushed UPDATE.
    fn restore(&self, values: Box<dyn Any>);
    /// Rollback: the values from before an unflushed change.
    fn revert_unflushed(&self);
    /// The session transaction that inserted the row (0: none).
    fn inserted_in(&self) -> u32;
    fn column_value(&self, index: usize) -> Value;
    /// Sets one column; with `track`, the change is written at flush like a `borrow_mut` change.
    /// Returns whether the object just started being tracked (the caller registers it).
    fn set_column_value(&self, index: usize, value: ValueRef<'_>, track: bool) -> Result<bool>;
    fn table(&self) -> Table;
    fn primary_key_index(&self) -> usize;
    fn relationships(&self) -> Vec<crate::relationship::RelationshipInfo>;
}

impl<T: Model> AnyTracked for Tracked<T> {
    fn table_name(&self) -> &'static str {
        T::TABLE_NAME
    }
    fn state(&self) -> ObjectState {
        self.state.get()
    }
    fn set_state(&self, state: ObjectState) {
        self.state.set(state)
    }
    fn key(&self) -> Option<Key> {
        // A caller still holding `borrow_mut()` gets an error elsewhere; never a panic here.
        let value = self.value.try_borrow().ok()?;
        key_of(&*value)
    }
    fn as_any(self: Rc<Self>) -> Rc<dyn Any> {
        self
    }
    fn attach(&self, session: Weak<dyn Owner>) {
        *self.session.borrow_mut() = session;
    }
    fn detach(&self, revert: bool) {
        if let Some(snapshot) = self.snapshot.borrow_mut().take() {
            if revert {
                if let Ok(mut value) = self.value.try_borrow_mut() {
                    *value = *snapshot;
                }
            }
        }
        *self.session.borrow_mut() = no_owner();
        self.relations.borrow_mut().clear();
        self.state.set(match self.state.get() {
            ObjectState::Pending | ObjectState::Transient => ObjectState::Transient,
            _ => ObjectState::Detached,
        });
    }
    fn as_any_ref(&self) -> &dyn Any {
        self
    }
    fn insert_all(
        &self,
        run: &[Rc<dyn AnyTracked>],
        uow: &mut crate::session::FlushContext<'_>,
    ) -> Result<()> {
        uow.insert_all::<T>(run)
    }
    fn changed_columns(&self) -> Result<u128> {
        crate::session::changed_columns::<T>(self)
    }
    fn update_all(
        &self,
        group: &[Rc<dyn AnyTracked>],
        mask: u128,
        uow: &mut crate::session::FlushContext<'_>,
    ) -> Result<Vec<Box<dyn Any>>> {
        uow.update_all::<T>(group, mask)
    }
    fn delete_all(
        &self,
        run: &[Rc<dyn AnyTracked>],
        uow: &mut crate::session::FlushContext<'_>,
    ) -> Result<()> {
        uow.delete_all::<T>(run)
    }
    fn relations(&self) -> &RefCell<crate::relationship::Loaded> {
        &self.relations
    }
    fn expire(&self) {
        if let Some(snapshot) = self.snapshot.borrow_mut().take() {
            if let Ok(mut value) = self.value.try_borrow_mut() {
                *value = *snapshot;
            }
        }
        self.relations.borrow_mut().clear();
        self.expired.set(true);
    }
    fn is_expired(&self) -> bool {
        self.expired.get()
    }
    fn restore(&self, values: Box<dyn Any>) {
        if let (Ok(values), Ok(mut value)) = (values.downcast::<T>(), self.value.try_borrow_mut()) {
            *value = *values;
        }
    }
    fn revert_unflushed(&self) {
        let before = self.snapshot.borrow_mut().take();
        if let (Some(before), Ok(mut value)) = (before, self.value.try_borrow_mut()) {
            *value = *before;
        }
    }
    fn inserted_in(&self) -> u32 {
        self.inserted_in.get()
    }
    fn column_value(&self, index: usize) -> Value {
        self.value.borrow().column_value(index).to_owned()
    }
    fn set_column_value(&self, index: usize, value: ValueRef<'_>, track: bool) -> Result<bool> {
        if self.value.borrow().column_value(index) == value {
            return Ok(false);
        }
        let mut value_mut = self.value.try_borrow_mut().map_err(|_| {
            Error::InvalidRequest(format!(
                "a {} object is borrowed elsewhere while its foreign key is set",
                T::TABLE_NAME
            ))
        })?;
        let mut started = false;
        if track && self.state.get() == ObjectState::Persistent && self.snapshot.borrow().is_none()
        {
            *self.snapshot.borrow_mut() = Some(Box::new(value_mut.clone()));
            started = true;
        }
        set_field::<T>(&mut value_mut, index, value).map_err(|e| match e {
            Error::WrongType { table, column, .. } if value == ValueRef::Null => {
                Error::NotNullViolation {
                    table,
                    column,
                    source: None,
                }
            }
            other => other,
        })?;
        Ok(started)
    }
    fn table(&self) -> Table {
        T::TABLE
    }
    fn primary_key_index(&self) -> usize {
        T::PRIMARY_KEY
    }
    fn relationships(&self) -> Vec<crate::relationship::RelationshipInfo> {
        T::relationships()
    }
}

/// Sets one column of a model by rebuilding it from its own values with one value replaced.
pub(crate) fn set_field<T: Model>(target: &mut T, index: usize, value: ValueRef<'_>) -> Result<()> {
    set_fields(target, &[index], &[value])
}

/// Sets the columns at `indexes` (in increasing order) to `values`, rebuilding the model once
/// from its own values with those replaced (the unit of work setting what a `RETURNING` gave).
pub(crate) fn set_fields<T: Model>(
    target: &mut T,
    indexes: &[usize],
    values: &[ValueRef<'_>],
) -> Result<()> {
    let mut given = indexes.iter().zip(values).peekable();
    let values: Vec<Value> = (0..T::COLUMN_COUNT)
        .map(|i| match given.next_if(|(at, _)| **at == i) {
            Some((_, value)) => (*value).to_owned(),
            None => target.column_value(i).to_owned(),
        })
        .collect();
    let row = ValuesRow(&values);
    let mut reader = RowReader::new(&row);
    *target = T::from_row(&mut reader)?;
    Ok(())
}

/// A row made of owned values (used to rebuild a model).
pub(crate) struct ValuesRow<'a>(pub(crate) &'a [Value]);
impl crate::engine::RowAccess for ValuesRow<'_> {
    fn value_ref(&self, index: usize) -> Result<ValueRef<'_>> {
        Ok(self.0.get(index).map_or(ValueRef::Null, Value::as_ref))
    }
}
