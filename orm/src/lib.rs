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
/// `#[derive(FromRow)]`: reads a struct from a Core result row by column name (the
/// [`core::FromRow`] trait), as SQLAlchemy's `Row` is read by attribute. Each field comes from
/// the column of its name; the only attribute is on a field:
///
/// | attribute | meaning | example |
/// | --- | --- | --- |
/// | `column` | the column the field is read from (default: the field's name) | `#[orm(column = "n")]` |
///
/// A field of type `Option<T>` admits `NULL`. A column no field asks for is ignored; a field
/// whose column the row lacks is [`Error::NoSuchColumn`], a value that does not fit its field
/// [`Error::WrongType`], both naming the column.
///
/// ```
/// use orm::core::text;
/// use orm::prelude::*;
///
/// #[derive(FromRow, Debug, PartialEq)]
/// struct Count { name: String, #[orm(column = "n")] count: i64, note: Option<String> }
///
/// let engine = create_engine("sqlite:///:memory:")?;
/// let rows = engine.execute(text("SELECT 'Ann' AS name, 3 AS n, NULL AS note, 1 AS extra"))?;
/// assert_eq!(rows.all::<Count>()?, [Count { name: "Ann".into(), count: 3, note: None }]);
/// let short = engine.execute(text("SELECT 'Ann' AS name"))?;
/// match short.all::<Count>() {
///     Err(Error::NoSuchColumn { column, .. }) => {
///         assert_eq!(column, "n (the result's columns are: name)");
///     }
///     other => panic!("expected a missing column, got {other:?}"),
/// }
/// # Ok::<(), orm::Error>(())
/// ```
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
/// mapping) and implements [`trait@Model`] for it. The field types give the column types
/// (`Option<T>` is nullable, anything else `NOT NULL`; see [`SqlType`] for the types a field may
/// have); `#[orm(…)]` attributes say the rest. Every attribute is listed below, as Diesel's
/// derives list theirs; the examples after the tables run.
///
/// # Container attributes (`#[orm(…)]` on the struct)
///
/// | attribute | meaning | example |
/// | --- | --- | --- |
/// | `table` | the table's name; default: the struct's name in snake case plus `s` (`OrderLine` → `order_lines`) | `#[orm(table = "users")]` |
/// | `has_many` | one-to-many: rows of the target whose `foreign_key` holds this row's key; a constant `User::posts` to navigate, `append` and `remove` with | `#[orm(has_many(posts: Post, foreign_key = "user_id"))]` |
/// | `belongs_to` | many-to-one: the row of the target this row's `foreign_key` points at (`Post::author`) | `#[orm(belongs_to(author: User, foreign_key = "user_id"))]` |
/// | `many_to_many` | many-to-many through an association table (`secondary`, which `User::courses.secondary_table()` describes for `create_all`), whose `local` column refers to this model and `remote` column to the target | `#[orm(many_to_many(courses: Course, secondary = "student_courses", local = "student_id", remote = "course_id"))]` |
/// | `unique_constraint` | a table-level `UNIQUE (team, name)` (SQLAlchemy's `UniqueConstraint`), named `uq_<table>_<team>_<name>` or `name = "…"` | `#[orm(unique_constraint("team", "name"))]` |
/// | `index` | an index over several columns (SQLAlchemy's `Index`), named `ix_<table>_<team>_<age>` or `name = "…"`; `unique = true` for a unique index | `#[orm(index("team", "age", unique = true))]` |
/// | `check_constraint` | `CONSTRAINT ck_<table>_<name> CHECK (sql)` (SQLAlchemy's `CheckConstraint`) | `#[orm(check_constraint(name = "age_positive", sql = "age >= 0"))]` |
/// | `foreign_key_constraint` | a foreign key over several columns, `FOREIGN KEY (term, code) REFERENCES offerings (term, code)` (SQLAlchemy's `ForeignKeyConstraint(["term", "code"], ["offerings.term", "offerings.code"])`): the columns as strings, `references = "table(column, …)"` one referenced column per column, optional `on_delete` as for a field; how a table points at a parent with a composite key | `#[orm(foreign_key_constraint("term", "code", references = "offerings(term, code)"))]` |
/// | `version_id_col` | an integer column that counts the row's versions, for optimistic concurrency (SQLAlchemy's `version_id_col`; below) | `#[orm(version_id_col = "version")]` |
///
/// The options of the three relationships:
///
/// | option | meaning | example |
/// | --- | --- | --- |
/// | `foreign_key` | the foreign key column: on the target for `has_many`, on this model for `belongs_to`; for a parent with a composite key, one column per key column, separated by commas, in the order of the parent's key columns — or in any order when a `foreign_key_constraint` of the same columns declares them in the schema (its pairs decide, as SQLAlchemy's). A count that differs from the parent's key is an `Error::InvalidRequest` naming the relationship at first use | `foreign_key = "user_id"`, `foreign_key = "term, code"` |
/// | `back_populates` | the relationship on the target that mirrors this one; both sides are kept in step in memory | `back_populates = "author"` |
/// | `cascade` | `has_many`: SQLAlchemy's cascades, `save-update`, `merge`, `delete`, `delete-orphan`, `all` (children deleted with their parent, and when they leave it); without `delete`, a deleted parent's children stay, their foreign key set to NULL (unless it has an `on_delete`: then the database decides) | `cascade = "all, delete-orphan"` |
/// | `secondary` | `many_to_many`: the association table | `secondary = "student_courses"` |
/// | `local`, `remote` | `many_to_many`: the association table's columns referring to this model and to the target | `local = "student_id", remote = "course_id"` |
///
/// The target may be the model itself (SQLAlchemy's adjacency list): `belongs_to(parent:
/// Category, foreign_key = "parent_id", back_populates = "children")` and `has_many(children:
/// Category, foreign_key = "parent_id", back_populates = "parent", cascade = "all,
/// delete-orphan")` make a tree whose parents are written before their children and whose
/// subtree goes with a deleted node.
///
/// A parent with a composite primary key is the target of `has_many` and `belongs_to` over as
/// many foreign key columns (SQLAlchemy's `relationship()` over a `ForeignKeyConstraint`): lazy
/// loads filter on every pair (`term = ? AND code = ?`), `selectinload` matches row values
/// (`(term, code) IN (VALUES (?, ?), …)` on SQLite, `IN ((…), …)` on PostgreSQL, 500 parents a
/// statement), `joinedload` joins `ON` every pair, and the unit of work sets every foreign key
/// column from the parent's key. `many_to_many` keeps one column per side: a composite key on
/// either side of an association table is not supported.
///
/// ```
/// use orm::prelude::*;
/// #[derive(Model, Clone, Default)]
/// #[orm(table = "offerings", has_many(enrollments: Enrollment, foreign_key = "term, code"))]
/// pub struct Offering {
///     #[orm(primary_key)] pub term: String,
///     #[orm(primary_key)] pub code: String,
///     pub title: String,
/// }
/// #[derive(Model, Clone, Default)]
/// #[orm(table = "enrollments", belongs_to(offering: Offering, foreign_key = "term, code"),
///       foreign_key_constraint("term", "code", references = "offerings(term, code)"))]
/// pub struct Enrollment {
///     #[orm(primary_key)] pub id: i64,
///     pub student: String,
///     pub term: Option<String>,
///     pub code: Option<String>,
/// }
/// let engine = create_engine("sqlite:///:memory:")?;
/// MetaData::new().add::<Offering>().add::<Enrollment>().create_all(&engine)?;
/// let session = Session::new(&engine);
/// let sql = session.add(Offering { term: "2024F".into(), code: "CS101".into(), title: "SQL".into() });
/// sql.append(Offering::enrollments, Enrollment { student: "Ann".into(), ..Default::default() })?;
/// session.commit()?;                       // the enrollment's term and code set from the key
/// let ann = session.query::<Enrollment>().one()?;
/// assert_eq!(ann.borrow().code.as_deref(), Some("CS101"));
/// assert_eq!(ann.related(Enrollment::offering)?.unwrap().borrow().title, "SQL");
/// # Ok::<(), orm::Error>(())
/// ```
///
/// # Field attributes (`#[orm(…)]` on a field)
///
/// | attribute | meaning | example |
/// | --- | --- | --- |
/// | `primary_key` | the primary key; a field named `id` is the key when no field says `primary_key`. An `i64` key alone is assigned by the database when it is 0 at insert. On two or more fields, a composite key (below) | `#[orm(primary_key)]` |
/// | `unique` | a `UNIQUE` constraint on the column | `#[orm(unique)]` |
/// | `index` | an index `ix_<table>_<column>` | `#[orm(index)]` |
/// | `column` | the column's name (default: the field's) | `#[orm(column = "full_name")]` |
/// | `length` | a `String` column as `VARCHAR(n)` | `#[orm(length = 50)]` |
/// | `text` | a `String` column as `TEXT` on every database | `#[orm(text)]` |
/// | `default` | a literal default: in the DDL (`DEFAULT 0`), and filled into a `None` field at `add` | `#[orm(default = 0)]` |
/// | `server_default` | a default the database computes, as SQL (`DEFAULT (CURRENT_TIMESTAMP)`, SQLAlchemy's `server_default=text(…)`): a `None` field is left out of the `INSERT` and the value the database chose comes back in its `RETURNING` | `#[orm(server_default = "CURRENT_TIMESTAMP")]` |
/// | `onupdate` | every `UPDATE` the unit of work writes for the row also sets the column to this SQL expression (unless the change sets it), and the new value comes back in its `RETURNING` (SQLAlchemy's `onupdate=func.now()`) | `#[orm(onupdate = "CURRENT_TIMESTAMP")]` |
/// | `foreign_key` | a `REFERENCES table (column)` constraint, written `"table.column"` | `#[orm(foreign_key = "users.id")]` |
/// | `on_delete` | the foreign key's `ON DELETE`: `"cascade"`, `"set null"` or `"restrict"` | `#[orm(on_delete = "cascade")]` |
///
/// The default names follow the naming convention SQLAlchemy's and Alembic's documentation
/// recommend (`ix_%(table_name)s_%(column_0_N_name)s`, `uq_%(table_name)s_%(column_0_N_name)s`,
/// `ck_%(table_name)s_%(constraint_name)s`), so autogenerate and the database agree on them.
///
/// # Examples
///
/// Column attributes:
///
/// ```
/// use orm::core::text;
/// use orm::prelude::*;
/// use orm::Value;
///
/// #[derive(Model, Debug, Clone, Default)]
/// #[orm(table = "people")]
/// pub struct Person {
///     #[orm(primary_key)] pub id: i64,
///     #[orm(column = "full_name", length = 80)] pub name: String,
///     #[orm(unique)] pub email: Option<String>,
///     #[orm(index)] pub city: Option<String>,
///     #[orm(text)] pub bio: Option<String>,
///     #[orm(default = 1)] pub level: Option<i64>,
/// }
///
/// #[derive(Model, Debug, Clone, Default)]
/// #[orm(table = "pets")]
/// pub struct Pet {
///     #[orm(primary_key)] pub id: i64,
///     pub name: String,
///     #[orm(foreign_key = "people.id", on_delete = "cascade")] pub owner_id: i64,
/// }
///
/// let engine = create_engine("sqlite:///:memory:")?;
/// MetaData::new().add::<Person>().add::<Pet>().create_all(&engine)?;
/// let session = Session::new(&engine);
/// let ann = session.add(Person { name: "Ann".into(), email: Some("ann@example.com".into()), ..Default::default() });
/// assert_eq!(ann.borrow().level, Some(1));                  // `default`, filled in at `add`
/// session.commit()?;
/// session.add(Pet { name: "Rex".into(), owner_id: ann.borrow().id, ..Default::default() });
/// session.commit()?;
/// let names = engine.execute(text("SELECT full_name FROM people"))?;  // `column`
/// assert_eq!(names.all::<(String,)>()?, [("Ann".to_string(),)]);
/// session.add(Person { name: "Bob".into(), email: Some("ann@example.com".into()), ..Default::default() });
/// match session.commit() {                                    // `unique`
///     Err(Error::UniqueViolation { table, columns, .. }) => {
///         assert_eq!((table.as_str(), columns), ("people", vec!["email".to_string()]));
///     }
///     other => panic!("expected a unique violation, got {other:?}"),
/// }
/// engine.execute(text("DELETE FROM people"))?;               // `on_delete = "cascade"`
/// assert_eq!(engine.execute(text("SELECT count(*) FROM pets"))?.scalar(), Some(&Value::Integer(0)));
/// # Ok::<(), orm::Error>(())
/// ```
///
/// Relationships, both ways and many-to-many, with a cascade:
///
/// ```
/// use orm::prelude::*;
///
/// #[derive(Model, Debug, Clone, Default)]
/// #[orm(table = "users", has_many(posts: Post, foreign_key = "user_id", back_populates = "author",
///                                 cascade = "all, delete-orphan"))]
/// pub struct User { #[orm(primary_key)] pub id: i64, pub name: String }
///
/// #[derive(Model, Debug, Clone, Default)]
/// #[orm(table = "posts", belongs_to(author: User, foreign_key = "user_id", back_populates = "posts"),
///       many_to_many(tags: Tag, secondary = "post_tags", local = "post_id", remote = "tag_id"))]
/// pub struct Post {
///     #[orm(primary_key)] pub id: i64,
///     pub title: String,
///     #[orm(foreign_key = "users.id")] pub user_id: Option<i64>,
/// }
///
/// #[derive(Model, Debug, Clone, Default)]
/// #[orm(table = "tags")]
/// pub struct Tag { #[orm(primary_key)] pub id: i64, pub name: String }
///
/// let engine = create_engine("sqlite:///:memory:")?;
/// MetaData::new()
///     .add::<User>()
///     .add::<Post>()
///     .add::<Tag>()
///     .add_table(Post::tags.secondary_table())             // post_tags (post_id, tag_id)
///     .create_all(&engine)?;
/// let session = Session::new(&engine);
/// let ann = session.add(User { name: "Ann".into(), ..Default::default() });
/// let post = ann.append(User::posts, Post { title: "Hello".into(), ..Default::default() })?;
/// post.append(Post::tags, Tag { name: "rust".into(), ..Default::default() })?;
/// session.commit()?;
/// assert_eq!(post.related(Post::author)?.unwrap().borrow().name, "Ann");
/// assert_eq!(post.related(Post::tags)?[0].borrow().name, "rust");
/// session.delete(&ann)?;                                     // the cascade takes the post along
/// session.commit()?;
/// assert_eq!(session.query::<Post>().count()?, 0);
/// # Ok::<(), orm::Error>(())
/// ```
///
/// `version_id_col`: an integer column counts the row's versions (SQLAlchemy's
/// `__mapper_args__ = {"version_id_col": …}`): 1 at insert, and every `UPDATE` or `DELETE` of the
/// unit of work says `WHERE id = ? AND version = ?` and moves it on by one. A row another session
/// wrote since this one loaded it matches nothing: the commit fails with [`Error::StaleData`]
/// and its flush is rolled back, nothing of it written.
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
/// `primary_key` on two or more fields makes a composite primary key (the table constraint
/// `PRIMARY KEY (a, b)`, SQLAlchemy's `primary_key=True` on several columns): its parts are
/// always given, `session.get` takes a tuple in the order the fields are declared, and the unit
/// of work updates and deletes by the full key.
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
/// Table arguments (`unique_constraint`, `index`, `check_constraint`) and values the database
/// computes (`server_default`, `onupdate`):
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
