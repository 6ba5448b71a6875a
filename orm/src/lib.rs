//! A small ORM on SQLite in SQLAlchemy's shape, written for a lesson and for real programs.
//! PostgreSQL is the second engine (cargo feature `postgres`): the same models, sessions, queries
//! and migrations, with `create_engine("postgresql://user:password@host/dbname")`.
//!
//! Layers, as in SQLAlchemy:
//! - [`core`]: tables, expressions and statements as plain data, written to SQL by a dialect writer;
//! - the ORM on top: [`Model`] (derive it), [`Engine`], [`Session`] with a unit of work and an
//!   identity map, [`Query`], relationships and loading strategies;
//! - [`migrate`]: Alembic-style migrations built on both.
//!
//! ```
//! use orm::prelude::*;
//!
//! #[derive(Model, Debug, Clone, Default)]
//! #[orm(table = "users")]
//! pub struct User {
//!     #[orm(primary_key)] pub id: i64,
//!     pub name: String,                        // NOT NULL: not an Option
//!     #[orm(unique)] pub email: Option<String>,
//!     #[orm(index)] pub age: Option<i64>,
//! }
//!
//! let engine = create_engine("sqlite:///:memory:")?;
//! MetaData::new().add::<User>().create_all(&engine)?;
//! let session = Session::new(&engine);
//! session.add(User { name: "Alice".into(), age: Some(30), ..Default::default() });
//! session.commit()?;
//! let adults = session.query::<User>().filter(User::age.ge(18)).order_by(User::name.desc()).all()?;
//! assert_eq!(adults[0].borrow().name, "Alice");
//! # Ok::<(), orm::Error>(())
//! ```
//!
//! No global state anywhere (statics, thread-locals): in a notebook every cell links its own copy
//! of this crate, so everything lives in values — engines, sessions, metadata.
#![warn(missing_docs)]

// The derive writes `::orm::…` paths; this lets the crate's own tests use it.
extern crate self as orm;

#[warn(missing_docs)]
pub mod check;
// Every public item of the Core layer and of queries says what it is (clippy -D warnings).
#[warn(missing_docs)]
pub mod core;
pub mod display;
mod engine;
mod error;
mod metadata;
pub mod migrate;
mod model;
#[warn(missing_docs)]
pub mod query;
mod relationship;
mod session;
mod value;

pub use crate::core::FromRow;
pub use crate::core::{Column, Condition};
pub use display::{TableView, Tabulate};
pub use engine::{
    create_engine, create_engine_from_env, DatabaseUrl, Engine, PostgresUrl, ResultSet, RowAccess,
    RowReader, SQLITE_BUSY_TIMEOUT,
};
pub use error::{DriverError, Error, Result, RevisionRun};
pub use metadata::MetaData;
pub use model::{IntoObj, Key, Model, Obj, ObjectState};
pub use orm_macros::FromRow;

/// `#[derive(DbEnum)]`: stores a fieldless enum as text, SQLAlchemy's `Enum(…,
/// native_enum=False)`. Each variant is stored as its name in snake case (`OnHold` →
/// `"on_hold"`), or as `#[orm(rename = "…")]` says; the column is a `VARCHAR` as long as the
/// longest string, and a model column of the type gets the table constraint
/// `ck_<table>_<column>_enum CHECK ("column" IN ('open', 'on_hold', …))`, which autogenerate
/// creates and drops with the column. Reading any other string is
/// [`Error::WrongType`] naming the table, the column and the value.
///
/// **The same `CHECK` on PostgreSQL, not a native `CREATE TYPE … AS ENUM`** (SQLAlchemy's
/// default there): a native type lives apart from the table — created before it, dropped after
/// the last table that uses it, shared between tables — and a variant can be added
/// (`ALTER TYPE … ADD VALUE`, which PostgreSQL before 12 refuses inside a transaction, where
/// every revision runs) but never removed or renamed without rebuilding the type. A `CHECK`
/// is part of its table: one definition, one migration path and one autogenerate comparison on
/// both engines, and a changed list of variants is a constraint dropped and added again.
///
/// ```
/// use orm::prelude::*;
///
/// #[derive(DbEnum, Debug, Clone, Copy, PartialEq, Default)]
/// pub enum Status {
///     #[default]
///     Open,
///     OnHold,                          // stored as "on_hold"
///     #[orm(rename = "done")]
///     Closed,                          // stored as "done"
/// }
///
/// #[derive(Model, Debug, Clone, Default)]
/// #[orm(table = "tickets")]
/// pub struct Ticket {
///     #[orm(primary_key)] pub id: i64,
///     pub status: Status,
/// }
///
/// let engine = create_engine("sqlite:///:memory:")?;
/// MetaData::new().add::<Ticket>().create_all(&engine)?;
/// let session = Session::new(&engine);
/// session.add(Ticket { status: Status::OnHold, ..Default::default() });
/// session.commit()?;
/// let held = session.query::<Ticket>().filter(Ticket::status.eq(Status::OnHold)).one()?;
/// assert_eq!(held.borrow().status, Status::OnHold);
/// // The database refuses a string that is no variant.
/// let refused = engine.execute(orm::core::text("INSERT INTO tickets (status) VALUES ('paused')"));
/// assert!(matches!(refused, Err(Error::ConstraintViolation { .. })));
/// # Ok::<(), orm::Error>(())
/// ```
pub use orm_macros::DbEnum;

/// `#[derive(Model)]`: maps a struct with named fields to a table (SQLAlchemy's declarative
/// mapping). The field types give the column types (`Option<T>` is nullable, anything else
/// `NOT NULL`); `#[orm(…)]` attributes say the rest.
///
/// **On the struct**
/// - `table = "users"`: the table's name (default: the struct's name in snake case plus `s`).
/// - `has_many(posts: Post, foreign_key = "user_id", back_populates = "author", cascade = "all,
///   delete-orphan")`, `belongs_to(author: User, foreign_key = "user_id")`,
///   `many_to_many(courses: Course, secondary = "student_courses", local = "student_id", remote =
///   "course_id")`: relationships, one constant each (`User::posts`). The target may be the
///   model itself (SQLAlchemy's adjacency list): `belongs_to(parent: Category, foreign_key =
///   "parent_id", back_populates = "children")` and `has_many(children: Category, foreign_key =
///   "parent_id", back_populates = "parent", cascade = "all, delete-orphan")` make a tree whose
///   parents are written before their children and whose subtree goes with a deleted node.
/// - `unique_constraint("team", "name")`: a table-level `UNIQUE (team, name)` (SQLAlchemy's
///   `UniqueConstraint`), named `uq_<table>_<team>_<name>` or `name = "…"`.
/// - `index("team", "age")`: an index over several columns (SQLAlchemy's `Index`), named
///   `ix_<table>_<team>_<age>` or `name = "…"`; `unique = true` for a unique index.
/// - `check_constraint(name = "age_positive", sql = "age >= 0")`: `CONSTRAINT
///   ck_<table>_age_positive CHECK (age >= 0)` (SQLAlchemy's `CheckConstraint`).
///
/// - `version_id_col = "version"`: an integer column counts the row's versions (SQLAlchemy's
///   `__mapper_args__ = {"version_id_col": …}`): 1 at insert, and every `UPDATE` or `DELETE`
///   of the unit of work says `WHERE id = ? AND version = ?` and moves it on by one. A row
///   another session wrote since this one loaded it matches nothing: the commit fails with
///   [`Error::StaleData`] and its flush is rolled back, nothing of it written.
///
/// ```
/// use orm::prelude::*;
/// #[derive(Model, Debug, Clone, Default)]
/// #[orm(table = "accounts", version_id_col = "version")]
/// pub struct Account { #[orm(primary_key)] pub id: i64, pub balance: i64, pub version: i64 }
///
/// let engine = create_engine("sqlite:///:memory:")?;
/// MetaData::new().add::<Account>().create_all(&engine)?;
/// let (a, b) = (Session::new(&engine), Session::new(&engine));
/// let mine = a.add(Account { balance: 100, ..Default::default() });
/// a.commit()?;
/// let id = mine.borrow().id;
/// let mine = a.get::<Account>(id)?.unwrap();           // version 1
/// let theirs = b.get::<Account>(id)?.unwrap();         // version 1
/// theirs.borrow_mut().balance = 90;
/// b.commit()?;                                          // now version 2
/// mine.borrow_mut().balance = 130;
/// assert!(matches!(a.commit(), Err(Error::StaleData { .. })));
/// # Ok::<(), orm::Error>(())
/// ```
///
/// The default names follow the naming convention SQLAlchemy's and Alembic's documentation
/// recommend (`ix_%(table_name)s_%(column_0_N_name)s`, `uq_%(table_name)s_%(column_0_N_name)s`,
/// `ck_%(table_name)s_%(constraint_name)s`), so autogenerate and the database agree on them.
///
/// **On a field**
/// - `primary_key`: the primary key. An `i64` key alone is assigned by the database when it is 0
///   at insert. On **two or more fields** it makes a **composite primary key** (the table
///   constraint `PRIMARY KEY (a, b)`, SQLAlchemy's `primary_key=True` on several columns): its
///   parts are always given, `session.get` takes a tuple in the order the fields are declared,
///   and the unit of work updates and deletes by the full key. A field named `id` is the key
///   when no field says `primary_key`.
/// - `unique`, `index`: a `UNIQUE` constraint, an index `ix_<table>_<column>`.
/// - `column = "name"`: the column's name (default: the field's).
/// - `length = 50` (`VARCHAR(50)`), `text` (`TEXT`): the spelling of a `String` column.
/// - `default = 0`: a literal default, in the DDL and filled into a `None` field at `add`.
/// - `foreign_key = "users.id"`, `on_delete = "cascade" | "set null" | "restrict"`.
/// - `server_default = "CURRENT_TIMESTAMP"`: a default the database computes, as SQL
///   (`DEFAULT (CURRENT_TIMESTAMP)`; SQLAlchemy's `server_default=text(…)`). A `None` field is
///   left out of the `INSERT` and the value the database chose is read back into the object.
/// - `onupdate = "CURRENT_TIMESTAMP"`: every `UPDATE` the unit of work writes for the row also
///   sets the column to this SQL expression (unless the change sets it), and the new value is
///   read back (SQLAlchemy's `onupdate=func.now()`).
///
/// ```
/// use orm::prelude::*;
///
/// /// One row per student and course: the pair is the key.
/// #[derive(Model, Debug, Clone, Default)]
/// #[orm(table = "enrollments")]
/// pub struct Enrollment {
///     #[orm(primary_key)] pub student_id: i64,
///     #[orm(primary_key, length = 20)] pub course_code: String,
///     pub grade: Option<String>,
/// }
///
/// let engine = create_engine("sqlite:///:memory:")?;
/// MetaData::new().add::<Enrollment>().create_all(&engine)?;
/// let session = Session::new(&engine);
/// session.add(Enrollment { student_id: 1, course_code: "math".into(), grade: Some("B".into()) });
/// session.commit()?;
/// let math = session.get::<Enrollment>((1, "math"))?.expect("the row just written");
/// math.borrow_mut().grade = Some("A".into()); // UPDATE … WHERE student_id = ? AND course_code = ?
/// session.commit()?;
/// assert!(session.get::<Enrollment>((2, "math"))?.is_none());
/// # Ok::<(), orm::Error>(())
/// ```
///
/// Table arguments and values the database computes:
///
/// ```
/// use orm::prelude::*;
///
/// #[derive(Model, Debug, Clone, Default)]
/// #[orm(
///     table = "members",
///     unique_constraint("team", "name"),              // uq_members_team_name
///     index("team", "age"),                           // ix_members_team_age
///     check_constraint(name = "age_positive", sql = "age >= 0")
/// )]
/// pub struct Member {
///     #[orm(primary_key)] pub id: i64,
///     pub team: String,
///     pub name: String,
///     pub age: i64,
///     #[orm(server_default = "CURRENT_TIMESTAMP")] pub created_at: Option<NaiveDateTime>,
///     #[orm(onupdate = "CURRENT_TIMESTAMP")] pub updated_at: Option<NaiveDateTime>,
/// }
///
/// let engine = create_engine("sqlite:///:memory:")?;
/// MetaData::new().add::<Member>().create_all(&engine)?;
/// let session = Session::new(&engine);
/// let ann = session.add(Member { team: "red".into(), name: "Ann".into(), age: 30, ..Default::default() });
/// session.commit()?;
/// assert!(ann.borrow().created_at.is_some());      // read back after the INSERT
/// ann.borrow_mut().age = 31;
/// session.commit()?;
/// assert!(ann.borrow().updated_at.is_some());      // set by the UPDATE, read back
/// session.add(Member { team: "red".into(), name: "Bob".into(), age: -1, ..Default::default() });
/// assert!(matches!(session.commit(), Err(Error::ConstraintViolation { .. })));
/// # Ok::<(), orm::Error>(())
/// ```
pub use orm_macros::Model;
pub use query::{select, select_values, Entities, Fetch, Models, Query};
pub use relationship::{
    joinedload, selectinload, BelongsTo, Collection, HasMany, LoadOption, Loader, ManyToMany,
    Relationship, RelationshipInfo,
};
pub use session::Session;
pub use value::{kind, ColumnType, SqlType, TypeMismatch, Value, ValueRef};

/// Everything a notebook needs in one `use orm::prelude::*;`.
pub mod prelude {
    pub use crate::core::{
        and_, case, cast, exists, func, not_, or_, union, union_all, window, Column, Condition,
        FromRow, SqlExpr,
    };
    pub use crate::display::Tabulate;
    pub use crate::query::aliased;
    pub use crate::relationship::{joinedload, selectinload};
    pub use crate::{
        create_engine, create_engine_from_env, select, select_values, Engine, Error, MetaData,
        Model, Obj, Query, Session,
    };
    pub use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
    pub use orm_macros::{DbEnum, FromRow};
    // The crates of the column types, so a notebook can name `serde_json::Value` without `:dep`.
    pub use chrono;
    pub use serde_json;
}

/// Re-exports the derive's generated code relies on (not for direct use).
#[doc(hidden)]
pub mod __private {
    pub use std::borrow::Cow;
}
