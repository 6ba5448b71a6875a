//! Statements as data: `select`, `insert`, `update`, `delete` and the DDL that `create_all` runs.

use super::expr::{AnyColumn, Condition, Expr, IntoOrderBy, Operand, OrderBy, SqlExpr};
use super::schema::Table;
use super::subquery::FromSource;
use super::writer::SqlWriter as _;
use crate::value::kind;
use crate::value::Value;
use std::borrow::Cow;

/// One item of a select list, optionally named (`AS alias`).
#[derive(Debug, Clone, PartialEq)]
pub struct SelectItem {
    /// The expression selected.
    pub expr: Expr,
    /// Its name in the result (`AS alias`).
    pub alias: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
/// One item of `FROM`.
pub enum FromItem {
    /// A table, alias or CTE, by name.
    Table(Cow<'static, str>),
    /// A select in parentheses, named `alias`.
    Subquery {
        /// The select.
        select: Box<Select>,
        /// Its name in the enclosing query.
        alias: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// The kind of a join.
pub enum JoinKind {
    /// `JOIN`: only rows with a match.
    Inner,
    /// `LEFT OUTER JOIN`: every row of the left side.
    LeftOuter,
}

#[derive(Debug, Clone, PartialEq)]
/// A join: a table (or alias, CTE) and its `ON` condition.
pub struct Join {
    /// Inner or left outer.
    pub kind: JoinKind,
    /// The table, alias or CTE joined, by name.
    pub table: Cow<'static, str>,
    /// The `ON` condition.
    pub on: Expr,
}

/// `SELECT …`: build it with [`select`] and the chained methods.
///
/// ```
/// use orm::core::{select, Table, ColumnDef};
/// use orm::prelude::*;
/// let users = Table::new("users").column(ColumnDef::new("age", orm::ColumnType::Integer));
/// let stmt = select([users.c("age")]).from(&users).filter(users.c("age").gt(21));
/// assert_eq!(stmt.to_sql(), "SELECT \"users\".\"age\" FROM \"users\" WHERE \"users\".\"age\" > ?");
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Select {
    /// `SELECT DISTINCT`.
    pub distinct: bool,
    /// The select list (`*` when empty).
    pub columns: Vec<SelectItem>,
    /// Comma-separated FROM items (usually one table).
    pub from: Vec<FromItem>,
    /// Joins, in order.
    pub joins: Vec<Join>,
    /// `WHERE`.
    pub filter: Option<Expr>,
    /// `GROUP BY`.
    pub group_by: Vec<Expr>,
    /// `HAVING`.
    pub having: Option<Expr>,
    /// `ORDER BY`.
    pub order_by: Vec<OrderBy>,
    /// `LIMIT`.
    pub limit: Option<u64>,
    /// `OFFSET`.
    pub offset: Option<u64>,
    /// Common table expressions written before the select (`WITH …`).
    pub ctes: Vec<super::subquery::Cte>,
    /// Tables named under another name in `FROM` or joins (`"users" AS "manager"`).
    pub aliases: Vec<super::subquery::Alias>,
    /// A compound select (`UNION` …): its selects, each with the operator before it (the first
    /// operator is not written). Order, limit and offset then apply to the whole.
    pub set_ops: Vec<(super::subquery::SetOp, Select)>,
}

/// A select-list item from an expression: a label becomes the item's name.
fn select_item(expr: Expr) -> SelectItem {
    match expr {
        Expr::Label { expr, name } => SelectItem {
            expr: *expr,
            alias: Some(name),
        },
        expr => SelectItem { expr, alias: None },
    }
}

/// Starts a Core `SELECT` of the given columns or expressions (of one type; add others with
/// [`Select::column`]).
///
/// # Examples
/// ```
/// use orm::core::{select, ColumnDef, Table};
/// use orm::prelude::*;
/// let users = Table::new("users")
///     .column(ColumnDef::new("name", orm::ColumnType::Text))
///     .column(ColumnDef::new("age", orm::ColumnType::Integer));
/// let stmt = select([users.c("name")])
///     .column(func::count_all().label("n"))
///     .from(&users)
///     .group_by(users.c("name"))
///     .having(func::count_all().gt(1))
///     .order_by(users.c("name").desc())
///     .limit(5);
/// assert_eq!(
///     stmt.to_sql(),
///     r#"SELECT "users"."name", count(*) AS "n" FROM "users" GROUP BY "users"."name" HAVING count(*) > ? ORDER BY "users"."name" DESC LIMIT 5"#
/// );
/// # let engine = orm::create_engine("sqlite:///:memory:")?;
/// # orm::MetaData::new().add_table(users.clone()).create_all(&engine)?;
/// engine.execute(orm::core::text(
///     "INSERT INTO users (name, age) VALUES ('Ann', 30), ('Ann', 31), ('Ben', 40), ('Cy', 20), ('Cy', 21)",
/// ))?;
/// let rows = engine.execute(stmt)?;
/// assert_eq!(rows.all::<(String, i64)>()?, [("Cy".to_string(), 2), ("Ann".to_string(), 2)]);
/// # Ok::<(), orm::Error>(())
/// ```
pub fn select<E: SqlExpr>(columns: impl IntoIterator<Item = E>) -> Select {
    Select {
        columns: columns.into_iter().map(|c| select_item(c.expr())).collect(),
        ..Select::default()
    }
}

impl Select {
    /// Adds a column or expression to the select list (`.label("name")` names it).
    pub fn column(mut self, expr: impl SqlExpr) -> Self {
        self.columns.push(select_item(expr.expr()));
        self
    }
    /// Adds a table, alias, CTE or subquery to `FROM`.
    pub fn from<S: FromSource + ?Sized>(mut self, source: &S) -> Self {
        let item = source.register(&mut self);
        self.from.push(item);
        self
    }
    /// Adds a table to `FROM` by name.
    pub fn from_table(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.from.push(FromItem::Table(name.into()));
        self
    }
    /// `WHERE`; several calls are joined with `AND`.
    pub fn filter(mut self, condition: Condition) -> Self {
        self.add_filter(condition.expr);
        self
    }
    /// SQLAlchemy 2.0 spells it `where`; a keyword in Rust.
    pub fn where_(self, condition: Condition) -> Self {
        self.filter(condition)
    }
    /// `JOIN` a table, alias or CTE `ON` a condition.
    ///
    /// # Examples
    /// ```
    /// use orm::core::{select, text, ColumnDef, Table};
    /// use orm::prelude::*;
    /// use orm::ColumnType::{Integer, Text};
    /// let users = Table::new("users")
    ///     .column(ColumnDef::new("id", Integer).primary_key())
    ///     .column(ColumnDef::new("name", Text));
    /// let posts = Table::new("posts")
    ///     .column(ColumnDef::new("id", Integer).primary_key())
    ///     .column(ColumnDef::new("user_id", Integer))
    ///     .column(ColumnDef::new("title", Text));
    /// let engine = create_engine("sqlite:///:memory:")?;
    /// MetaData::new().add_table(users.clone()).add_table(posts.clone()).create_all(&engine)?;
    /// engine.execute(text("INSERT INTO users (name) VALUES ('Ann'), ('Ben')"))?;
    /// engine.execute(text("INSERT INTO posts (user_id, title) VALUES (1, 'Hello')"))?;
    /// let on = users.c("id").eq(posts.c("user_id"));
    /// let inner = select([users.c("name"), posts.c("title")]).from(&users).join(&posts, on.clone());
    /// assert_eq!(
    ///     engine.execute(inner)?.all::<(String, String)>()?,
    ///     [("Ann".to_string(), "Hello".to_string())]
    /// );
    /// // The outer join keeps Ben, with NULL for the post's title.
    /// let outer = select([users.c("name"), posts.c("title")])
    ///     .from(&users)
    ///     .outer_join(&posts, on)
    ///     .order_by(users.c("name"));
    /// assert_eq!(
    ///     engine.execute(outer)?.all::<(String, Option<String>)>()?,
    ///     [("Ann".to_string(), Some("Hello".to_string())), ("Ben".to_string(), None)]
    /// );
    /// # Ok::<(), orm::Error>(())
    /// ```
    pub fn join<S: FromSource + ?Sized>(self, target: &S, on: Condition) -> Self {
        self.join_kind(JoinKind::Inner, target, on)
    }
    /// `LEFT OUTER JOIN` a table, alias or CTE `ON` a condition.
    pub fn outer_join<S: FromSource + ?Sized>(self, target: &S, on: Condition) -> Self {
        self.join_kind(JoinKind::LeftOuter, target, on)
    }
    fn join_kind<S: FromSource + ?Sized>(
        mut self,
        kind: JoinKind,
        target: &S,
        on: Condition,
    ) -> Self {
        let table = match target.register(&mut self) {
            FromItem::Table(name) => name,
            // A subquery is joined through a CTE of its own.
            FromItem::Subquery { select, alias } => {
                let cte = super::subquery::Cte {
                    name: alias.clone(),
                    recursive: false,
                    select,
                };
                cte.register(&mut self);
                Cow::Owned(alias)
            }
        };
        self.joins.push(Join {
            kind,
            table,
            on: on.expr,
        });
        self
    }
    /// Adds a sort key (`col`, `col.desc()`).
    pub fn order_by(mut self, key: impl IntoOrderBy) -> Self {
        self.order_by.push(key.into_order_by());
        self
    }
    /// Adds a `GROUP BY` expression.
    pub fn group_by(mut self, expr: impl SqlExpr) -> Self {
        self.group_by.push(expr.expr());
        self
    }
    /// `HAVING`; several calls are joined with `AND`.
    pub fn having(mut self, condition: Condition) -> Self {
        self.having = Some(match self.having.take() {
            Some(prev) => Expr::And(vec![prev, condition.expr]),
            None => condition.expr,
        });
        self
    }
    /// At most `n` rows.
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }
    /// Skips the first `n` rows.
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = Some(n);
        self
    }
    /// Drops repeated rows (`SELECT DISTINCT`).
    pub fn distinct(mut self) -> Self {
        self.distinct = true;
        self
    }
    pub(crate) fn add_filter(&mut self, expr: Expr) {
        self.filter = Some(match self.filter.take() {
            Some(Expr::And(mut parts)) => {
                parts.push(expr);
                Expr::And(parts)
            }
            Some(prev) => Expr::And(vec![prev, expr]),
            None => expr,
        });
    }
    /// The SQL text in the neutral default dialect
    /// ([`StandardWriter`](super::StandardWriter)), parameters as `?`; an engine writes its own.
    pub fn to_sql(&self) -> String {
        super::writer::StandardWriter.compile_select(self).sql
    }
}

/// `INSERT INTO table (columns) VALUES (…), (…)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Insert {
    /// The table written to.
    pub table: Cow<'static, str>,
    /// The columns given, in order.
    pub columns: Vec<Cow<'static, str>>,
    /// The rows of values, each in column order.
    pub rows: Vec<Vec<Expr>>,
    /// A column whose generated value the statement hands back (`RETURNING`), on dialects that
    /// need it to learn a new key ([`SqlWriter::returns_generated_keys`](super::SqlWriter)).
    pub returning: Option<Cow<'static, str>>,
}

/// Starts a Core `INSERT`: `insert(&users).value("name", "Alice")`.
///
/// # Examples
/// ```
/// use orm::core::{insert, ColumnDef, Statement, Table};
/// use orm::Value;
/// let users = Table::new("users")
///     .column(ColumnDef::new("name", orm::ColumnType::Text))
///     .column(ColumnDef::new("age", orm::ColumnType::Integer));
/// let one = insert(&users).value("name", "Ann").value("age", 30);
/// assert_eq!(Statement::from(one.clone()).to_sql(), r#"INSERT INTO "users" ("name", "age") VALUES (?, ?)"#);
/// let many = insert(&users)
///     .columns(["name", "age"])
///     .row([Value::from("Ann"), Value::from(30)])
///     .row([Value::from("Ben"), Value::Null]);
/// assert_eq!(
///     Statement::from(many.clone()).to_sql(),
///     r#"INSERT INTO "users" ("name", "age") VALUES (?, ?), (?, ?)"#
/// );
/// # let engine = orm::create_engine("sqlite:///:memory:")?;
/// # orm::MetaData::new().add_table(users.clone()).create_all(&engine)?;
/// assert_eq!(engine.execute(one)?.rows_affected, 1);
/// assert_eq!(engine.execute(many)?.rows_affected, 2);
/// # Ok::<(), orm::Error>(())
/// ```
pub fn insert(table: &Table) -> Insert {
    Insert {
        table: table.name.clone(),
        columns: Vec::new(),
        rows: vec![Vec::new()],
        returning: None,
    }
}

impl Insert {
    /// Sets one column of the (first) row.
    pub fn value(mut self, column: &str, value: impl Into<Value>) -> Self {
        self.columns.push(Cow::Owned(column.to_string()));
        self.rows[0].push(Expr::Value(value.into()));
        self
    }
    /// Adds a whole row, values in the order of the columns named so far.
    pub fn row(mut self, values: impl IntoIterator<Item = Value>) -> Self {
        let row: Vec<Expr> = values.into_iter().map(Expr::Value).collect();
        if self.rows.len() == 1 && self.rows[0].is_empty() {
            self.rows[0] = row;
        } else {
            self.rows.push(row);
        }
        self
    }
    /// Names the columns that [`Insert::row`] values follow.
    pub fn columns<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.columns = names.into_iter().map(|n| Cow::Owned(n.into())).collect();
        self
    }
    /// Hands back the value of `column` for each row written (`INSERT … RETURNING column`).
    pub fn returning(mut self, column: &str) -> Self {
        self.returning = Some(Cow::Owned(column.to_string()));
        self
    }
}

impl Insert {
    /// `ON CONFLICT (columns)`: what to do when a row would break the unique constraint or
    /// primary key on `columns` (an empty list: any conflict, for `do_nothing`). SQLAlchemy's
    /// `insert(…).on_conflict_do_update(index_elements=…)`, on SQLite and PostgreSQL alike.
    ///
    /// # Examples
    /// ```
    /// use orm::core::{excluded, insert, ColumnDef, Table};
    /// # use orm::prelude::*;
    /// let users = Table::new("users")
    ///     .column(ColumnDef::new("email", orm::ColumnType::Text).unique())
    ///     .column(ColumnDef::new("visits", orm::ColumnType::Integer));
    /// let upsert = insert(&users)
    ///     .value("email", "ann@example.com")
    ///     .value("visits", 1)
    ///     .on_conflict(["email"])
    ///     .do_update([("visits", excluded("visits"))]);
    /// assert_eq!(
    ///     orm::core::Statement::from(upsert.clone()).to_sql(),
    ///     r#"INSERT INTO "users" ("email", "visits") VALUES (?, ?) ON CONFLICT ("email") DO UPDATE SET "visits" = "excluded"."visits""#
    /// );
    /// // Run twice: the second run updates the row the first one wrote.
    /// # let engine = orm::create_engine("sqlite:///:memory:")?;
    /// # orm::MetaData::new().add_table(users.clone()).create_all(&engine)?;
    /// engine.execute(upsert)?;
    /// engine.execute(
    ///     insert(&users)
    ///         .value("email", "ann@example.com")
    ///         .value("visits", 2)
    ///         .on_conflict(["email"])
    ///         .do_update([("visits", users.c("visits").add(excluded("visits")))]),
    /// )?;
    /// let rows = engine.execute(orm::core::text("SELECT email, visits FROM users"))?;
    /// assert_eq!(rows.all::<(String, i64)>()?, [("ann@example.com".to_string(), 3)]);
    /// # Ok::<(), orm::Error>(())
    /// ```
    pub fn on_conflict<I: IntoIterator<Item = S>, S: Into<String>>(self, columns: I) -> OnConflict {
        OnConflict {
            insert: self,
            target: columns.into_iter().map(|c| Cow::Owned(c.into())).collect(),
        }
    }
}

/// An `INSERT` with its conflict target, waiting for [`OnConflict::do_update`] or
/// [`OnConflict::do_nothing`].
#[derive(Debug, Clone, PartialEq)]
pub struct OnConflict {
    insert: Insert,
    target: Vec<Cow<'static, str>>,
}

impl OnConflict {
    /// `ON CONFLICT … DO NOTHING`: the conflicting row is skipped.
    pub fn do_nothing(self) -> Upsert {
        Upsert {
            insert: self.insert,
            target: self.target,
            action: ConflictAction::Nothing,
        }
    }

    /// `ON CONFLICT … DO UPDATE SET column = value, …`: the existing row is updated; a value may
    /// be [`excluded`]`("column")`, the value the insert proposed.
    pub fn do_update<I, S, R>(self, set: I) -> Upsert
    where
        I: IntoIterator<Item = (S, R)>,
        S: Into<String>,
        R: Operand<kind::Any>,
    {
        Upsert {
            insert: self.insert,
            target: self.target,
            action: ConflictAction::Update {
                set: set
                    .into_iter()
                    .map(|(c, v)| (Cow::Owned(c.into()), v.into_expr()))
                    .collect(),
                filter: None,
            },
        }
    }
}

/// What an upsert does with a conflicting row.
#[derive(Debug, Clone, PartialEq)]
pub enum ConflictAction {
    /// `DO NOTHING`.
    Nothing,
    /// `DO UPDATE SET … [WHERE …]`.
    Update {
        /// The columns set and their new values.
        set: Vec<(Cow<'static, str>, Expr)>,
        /// Only rows where this holds are updated.
        filter: Option<Expr>,
    },
}

/// `INSERT … ON CONFLICT (…) DO …`: built by [`Insert::on_conflict`].
#[derive(Debug, Clone, PartialEq)]
pub struct Upsert {
    /// The insert.
    pub insert: Insert,
    /// The columns of the unique constraint or key that conflicts.
    pub target: Vec<Cow<'static, str>>,
    /// What happens to a conflicting row.
    pub action: ConflictAction,
}

impl Upsert {
    /// One more `column = value` for `DO UPDATE` (a `DO NOTHING` becomes a `DO UPDATE`).
    pub fn set(mut self, column: &str, value: impl Operand<kind::Any>) -> Self {
        let pair = (Cow::Owned(column.to_string()), value.into_expr());
        match &mut self.action {
            ConflictAction::Update { set, .. } => set.push(pair),
            ConflictAction::Nothing => {
                self.action = ConflictAction::Update {
                    set: vec![pair],
                    filter: None,
                }
            }
        }
        self
    }

    /// `DO UPDATE … WHERE condition`: only conflicting rows where it holds are updated.
    pub fn where_(mut self, condition: Condition) -> Self {
        if let ConflictAction::Update { filter, .. } = &mut self.action {
            *filter = Some(and_exprs(filter.take(), condition.expr));
        }
        self
    }
}

/// The value an upsert proposed for `column`, in its `DO UPDATE` (`"excluded"."column"`).
pub fn excluded(column: &str) -> AnyColumn {
    AnyColumn::new(Cow::Borrowed("excluded"), Cow::Owned(column.to_string()))
}

/// `UPDATE table SET … WHERE …`.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    /// The table updated.
    pub table: Cow<'static, str>,
    /// Each column set and its new value.
    pub set: Vec<(Cow<'static, str>, Expr)>,
    /// Which rows (every row when `None`).
    pub filter: Option<Expr>,
}

/// Starts a Core `UPDATE`: `update(&users).set("age", 31).filter(users.c("name").eq("Ann"))`.
///
/// # Examples
/// ```
/// use orm::core::{update, ColumnDef, Statement, Table};
/// use orm::prelude::*;
/// let users = Table::new("users").column(ColumnDef::new("age", orm::ColumnType::Integer));
/// let stmt = update(&users).set("age", 31).filter(users.c("age").eq(30));
/// assert_eq!(
///     Statement::from(stmt.clone()).to_sql(),
///     r#"UPDATE "users" SET "age" = ? WHERE "users"."age" = ?"#
/// );
/// # let engine = orm::create_engine("sqlite:///:memory:")?;
/// # orm::MetaData::new().add_table(users.clone()).create_all(&engine)?;
/// engine.execute(orm::core::text("INSERT INTO users (age) VALUES (30), (30), (40)"))?;
/// assert_eq!(engine.execute(stmt)?.rows_affected, 2);
/// # Ok::<(), orm::Error>(())
/// ```
pub fn update(table: &Table) -> Update {
    Update {
        table: table.name.clone(),
        set: Vec::new(),
        filter: None,
    }
}

impl Update {
    /// Sets `column` to `value` (a bound parameter).
    pub fn set(mut self, column: &str, value: impl Into<Value>) -> Self {
        self.set
            .push((Cow::Owned(column.to_string()), Expr::Value(value.into())));
        self
    }
    /// Sets `column` to an expression computed by the database (SQLAlchemy's
    /// `update(t).values(age=t.c.age + 1)`), or to a scalar subquery.
    ///
    /// # Examples
    /// ```
    /// use orm::core::{update, ColumnDef, Statement, Table};
    /// use orm::prelude::*;
    /// let users = Table::new("users").column(ColumnDef::new("age", orm::ColumnType::Integer));
    /// let older = update(&users).set_expr("age", users.c("age").add(1));
    /// assert_eq!(Statement::from(older).to_sql(), r#"UPDATE "users" SET "age" = "users"."age" + ?"#);
    /// ```
    pub fn set_expr(mut self, column: &str, value: impl Operand<kind::Any>) -> Self {
        self.set
            .push((Cow::Owned(column.to_string()), value.into_expr()));
        self
    }
    /// `WHERE`; several calls are joined with `AND`.
    pub fn filter(mut self, condition: Condition) -> Self {
        self.filter = Some(and_exprs(self.filter.take(), condition.expr));
        self
    }
}

/// `DELETE FROM table WHERE …`.
#[derive(Debug, Clone, PartialEq)]
pub struct Delete {
    /// The table deleted from.
    pub table: Cow<'static, str>,
    /// Which rows (every row when `None`).
    pub filter: Option<Expr>,
}

/// Starts a Core `DELETE`: `delete(&users).filter(users.c("age").lt(18))`.
///
/// # Examples
/// ```
/// use orm::core::{delete, ColumnDef, Statement, Table};
/// use orm::prelude::*;
/// let users = Table::new("users").column(ColumnDef::new("age", orm::ColumnType::Integer));
/// let stmt = delete(&users).filter(users.c("age").lt(18));
/// assert_eq!(Statement::from(stmt.clone()).to_sql(), r#"DELETE FROM "users" WHERE "users"."age" < ?"#);
/// # let engine = orm::create_engine("sqlite:///:memory:")?;
/// # orm::MetaData::new().add_table(users.clone()).create_all(&engine)?;
/// engine.execute(orm::core::text("INSERT INTO users (age) VALUES (12), (17), (40)"))?;
/// assert_eq!(engine.execute(stmt)?.rows_affected, 2);
/// # Ok::<(), orm::Error>(())
/// ```
pub fn delete(table: &Table) -> Delete {
    Delete {
        table: table.name.clone(),
        filter: None,
    }
}

impl Delete {
    /// `WHERE`; several calls are joined with `AND`.
    pub fn filter(mut self, condition: Condition) -> Self {
        self.filter = Some(and_exprs(self.filter.take(), condition.expr));
        self
    }
}

fn and_exprs(prev: Option<Expr>, next: Expr) -> Expr {
    match prev {
        Some(p) => Expr::And(vec![p, next]),
        None => next,
    }
}

/// Every statement the writers know how to write.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// `SELECT`, compound or not.
    Select(Select),
    /// `INSERT`.
    Insert(Insert),
    /// `UPDATE`.
    Update(Update),
    /// `DELETE`.
    Delete(Delete),
    /// `CREATE TABLE`.
    CreateTable {
        /// The table.
        table: Table,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
    },
    /// `DROP TABLE`.
    DropTable {
        /// The table's name.
        name: String,
        /// `IF EXISTS`.
        if_exists: bool,
    },
    /// `CREATE [UNIQUE] INDEX`.
    CreateIndex {
        /// The index's name.
        name: String,
        /// The table's name.
        table: String,
        /// The columns indexed, in order.
        columns: Vec<String>,
        /// `UNIQUE`.
        unique: bool,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
    },
    /// `DROP INDEX`.
    DropIndex {
        /// The index's name.
        name: String,
        /// `IF EXISTS`.
        if_exists: bool,
    },
    /// SQL text written by hand, with its parameters as `?` in order.
    Raw {
        /// The text, parameters as `?`.
        sql: String,
        /// The values, in order.
        params: Vec<Value>,
    },
    /// SQL text written by hand with named parameters (SQLAlchemy's `text()`): see [`text`].
    Text(TextClause),
    /// `INSERT … ON CONFLICT … DO …`.
    Upsert(Upsert),
}

impl Statement {
    /// Whether the statement can be written and run as it stands: every `:name` of a
    /// [`text`] has a value.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`](crate::Error::InvalidRequest) naming what is missing.
    pub fn check(&self) -> crate::Result<()> {
        match self {
            Statement::Text(t) => t.check(),
            _ => Ok(()),
        }
    }

    /// The table a statement writes to, for naming it in errors.
    pub fn target_table(&self) -> Option<&str> {
        match self {
            Statement::Insert(i) => Some(&i.table),
            Statement::Upsert(u) => Some(&u.insert.table),
            Statement::Update(u) => Some(&u.table),
            Statement::Delete(d) => Some(&d.table),
            Statement::CreateTable { table, .. } => Some(&table.name),
            Statement::DropTable { name, .. } => Some(name),
            Statement::Select(s) => match s.from.first() {
                Some(FromItem::Table(t)) => Some(t),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Hand-written SQL (SQLAlchemy's `text()`), with named parameters `:name` bound by
/// [`TextClause::bind`]: each value travels as a bound parameter, never spliced into the text.
///
/// `:name` inside quotes, comments or PostgreSQL's `$$…$$` strings is left alone, `::` (a cast)
/// is not a parameter, and `\:` writes a plain colon.
///
/// # Examples
/// ```
/// use orm::core::text;
/// let engine = orm::create_engine("sqlite:///:memory:")?;
/// let rows = engine.execute(
///     text("SELECT :name AS name, :age + 1 AS next_age").bind("name", "Ann").bind("age", 30),
/// )?;
/// assert_eq!(rows.all::<(String, i64)>()?, [("Ann".to_string(), 31)]);
/// # Ok::<(), orm::Error>(())
/// ```
pub fn text(sql: impl Into<String>) -> TextClause {
    TextClause {
        sql: sql.into(),
        binds: Vec::new(),
    }
}

/// SQL text with named parameters and the values bound to them: built by [`text`].
#[derive(Debug, Clone, PartialEq)]
pub struct TextClause {
    /// The text as written, parameters as `:name`.
    pub sql: String,
    /// The values bound so far, by parameter name.
    pub binds: Vec<(String, Value)>,
}

/// A piece of a [`TextClause`]'s text: SQL to copy, or a parameter's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextPart<'a> {
    /// Text written as it is.
    Sql(&'a str),
    /// `:name`, without the colon.
    Param(&'a str),
}

impl TextClause {
    /// Binds `value` to the parameter `:name` (a second bind of the same name replaces the first).
    ///
    /// # Examples
    /// ```
    /// use orm::core::text;
    /// let q = text("SELECT * FROM users WHERE age > :min").bind("min", 18);
    /// assert_eq!(q.parameter_names(), ["min"]);
    /// ```
    pub fn bind(mut self, name: &str, value: impl Into<Value>) -> Self {
        let value = value.into();
        match self.binds.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.binds.push((name.to_string(), value)),
        }
        self
    }

    /// The value bound to `name`.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.binds.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The parameters the text names, in order of first appearance.
    pub fn parameter_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for part in self.parts() {
            if let TextPart::Param(name) = part {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        names
    }

    /// Whether every parameter of the text has a value and every value a parameter.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`](crate::Error::InvalidRequest) naming the parameter without a
    /// value, or the value bound to a name the text does not use.
    pub fn check(&self) -> crate::Result<()> {
        let names = self.parameter_names();
        if let Some(missing) = names.iter().find(|n| self.value(n).is_none()) {
            return Err(crate::Error::InvalidRequest(format!(
                "text(): no value for the parameter :{missing}; bind one with .bind(\"{missing}\", value)"
            )));
        }
        if let Some((unused, _)) = self
            .binds
            .iter()
            .find(|(n, _)| !names.contains(&n.as_str()))
        {
            return Err(crate::Error::InvalidRequest(format!(
                "text(): a value was bound to :{unused}, which the SQL does not use (its parameters: {})",
                if names.is_empty() { "none".to_string() } else { names.join(", ") }
            )));
        }
        Ok(())
    }

    /// The text cut into SQL and parameters.
    pub fn parts(&self) -> Vec<TextPart<'_>> {
        text_parts(&self.sql)
    }
}

/// Splits SQL text at its `:name` parameters, skipping quotes, comments and `::` casts.
fn text_parts(sql: &str) -> Vec<TextPart<'_>> {
    let bytes = sql.as_bytes();
    let mut parts = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let is_name = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'\'' | b'"') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += 1;
                }
                i += 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            // A PostgreSQL dollar-quoted string, `$tag$ … $tag$` (`$1` is not one).
            b'$' if !bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let tag_end = bytes[i + 1..]
                    .iter()
                    .position(|b| !is_name(*b))
                    .map(|p| i + 1 + p);
                match tag_end {
                    Some(end) if bytes[end] == b'$' => {
                        let tag = &sql[i..=end];
                        i = match sql[end + 1..].find(tag) {
                            Some(close) => end + 1 + close + tag.len(),
                            None => bytes.len(),
                        };
                    }
                    _ => i += 1,
                }
            }
            b':' if bytes.get(i + 1) == Some(&b':') => i += 2,
            b'\\' if bytes.get(i + 1) == Some(&b':') => {
                parts.push(TextPart::Sql(&sql[start..i]));
                start = i + 1;
                i += 2;
            }
            b':' if bytes
                .get(i + 1)
                .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_') =>
            {
                parts.push(TextPart::Sql(&sql[start..i]));
                let name_start = i + 1;
                i = name_start;
                while i < bytes.len() && is_name(bytes[i]) {
                    i += 1;
                }
                parts.push(TextPart::Param(&sql[name_start..i]));
                start = i;
            }
            _ => i += 1,
        }
    }
    if start < sql.len() {
        parts.push(TextPart::Sql(&sql[start..]));
    }
    parts.retain(|p| *p != TextPart::Sql(""));
    parts
}

impl From<TextClause> for Statement {
    fn from(t: TextClause) -> Statement {
        Statement::Text(t)
    }
}

macro_rules! into_statement {
    ($($ty:ident),*) => {$(
        impl From<$ty> for Statement {
            fn from(s: $ty) -> Statement { Statement::$ty(s) }
        }
    )*};
}
into_statement!(Select, Insert, Update, Delete, Upsert);

impl Statement {
    /// The SQL text in the neutral default dialect
    /// ([`StandardWriter`](super::StandardWriter)), parameters as `?`.
    pub fn to_sql(&self) -> String {
        super::writer::StandardWriter.compile(self).sql
    }
}
