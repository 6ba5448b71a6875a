//! What a `SELECT` can stand in for, and what can stand in a `FROM`: scalar subqueries, `IN` and
//! `EXISTS` of a select, aliases of a table (self-joins), named subqueries, common table
//! expressions (`WITH`, `WITH RECURSIVE`) and compound selects (`UNION`, `UNION ALL`).

use super::expr::{AnyColumn, Column, Condition, Expr, TypedExpr};
use super::schema::Table;
use super::statement::{FromItem, Select};
use crate::value::{SqlType, Value};
use std::borrow::Cow;

/// Anything that gives a `SELECT`: a Core [`Select`], or an ORM [`Query`](crate::Query).
pub trait IntoSelect {
    /// The `SELECT` itself.
    fn into_select(self) -> Select;
}

impl IntoSelect for Select {
    fn into_select(self) -> Select {
        self
    }
}

/// `EXISTS (subquery)`: true when the subquery gives a row. A subquery that names a column of
/// the enclosing query is correlated (evaluated per outer row).
///
/// # Examples
/// ```
/// use orm::core::{exists, select, ColumnDef, Table};
/// use orm::prelude::*;
/// let users = Table::new("users").column(ColumnDef::new("id", orm::ColumnType::Integer));
/// let posts = Table::new("posts").column(ColumnDef::new("user_id", orm::ColumnType::Integer));
/// let has_posts = exists(select([posts.c("user_id")]).from(&posts).filter(posts.c("user_id").eq(users.c("id"))));
/// let stmt = select([users.c("id")]).from(&users).filter(has_posts);
/// assert_eq!(
///     stmt.to_sql(),
///     r#"SELECT "users"."id" FROM "users" WHERE EXISTS (SELECT "posts"."user_id" FROM "posts" WHERE "posts"."user_id" = "users"."id")"#
/// );
/// let engine = create_engine("sqlite:///:memory:")?;
/// MetaData::new().add_table(users.clone()).add_table(posts.clone()).create_all(&engine)?;
/// engine.execute(orm::core::text("INSERT INTO users VALUES (1), (2)"))?;
/// engine.execute(orm::core::text("INSERT INTO posts VALUES (2)"))?;
/// assert_eq!(engine.execute(stmt)?.all::<(i64,)>()?, [(2,)]);
/// # Ok::<(), orm::Error>(())
/// ```
pub fn exists(subquery: impl IntoSelect) -> Condition {
    TypedExpr::new(Expr::Exists(Box::new(subquery.into_select())))
}

/// `UNION` of the selects (duplicate rows removed); order, limit and offset set on the result
/// apply to the whole. Columns in its `order_by` are written by name.
///
/// # Examples
/// ```
/// use orm::core::{select, union, ColumnDef, Table};
/// use orm::prelude::*;
/// let a = Table::new("a").column(ColumnDef::new("x", orm::ColumnType::Integer));
/// let b = Table::new("b").column(ColumnDef::new("x", orm::ColumnType::Integer));
/// let both = union([select([a.c("x")]).from(&a), select([b.c("x")]).from(&b)]).order_by(a.c("x"));
/// assert_eq!(both.to_sql(), r#"SELECT "a"."x" FROM "a" UNION SELECT "b"."x" FROM "b" ORDER BY "x" ASC"#);
/// ```
pub fn union(selects: impl IntoIterator<Item = Select>) -> Select {
    compound(SetOp::Union, selects)
}

/// `UNION ALL` of the selects (every row kept). See [`union`].
///
/// # Examples
/// ```
/// use orm::core::{select, union_all, ColumnDef, Table};
/// use orm::prelude::*;
/// let a = Table::new("a").column(ColumnDef::new("x", orm::ColumnType::Integer));
/// let twice = union_all([select([a.c("x")]).from(&a), select([a.c("x")]).from(&a)]);
/// assert_eq!(twice.to_sql(), r#"SELECT "a"."x" FROM "a" UNION ALL SELECT "a"."x" FROM "a""#);
/// ```
pub fn union_all(selects: impl IntoIterator<Item = Select>) -> Select {
    compound(SetOp::UnionAll, selects)
}

fn compound(op: SetOp, selects: impl IntoIterator<Item = Select>) -> Select {
    let mut out = Select::default();
    for s in selects {
        out = out.set_op(op, s);
    }
    out
}

/// How two selects of a compound select are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOp {
    /// `UNION`: rows of both, duplicates removed.
    Union,
    /// `UNION ALL`: rows of both.
    UnionAll,
    /// `INTERSECT`: rows in both.
    Intersect,
    /// `EXCEPT`: rows of the first not in the second.
    Except,
}

impl SetOp {
    /// The SQL keyword.
    pub fn sql(self) -> &'static str {
        match self {
            SetOp::Union => "UNION",
            SetOp::UnionAll => "UNION ALL",
            SetOp::Intersect => "INTERSECT",
            SetOp::Except => "EXCEPT",
        }
    }
}

/// A table under another name (`FROM "users" AS "manager"`): the way to join a table to itself.
/// Made by [`Table::alias`] or, for a model, [`aliased`](crate::query::aliased).
#[derive(Debug, Clone, PartialEq)]
pub struct Alias {
    /// The table's own name.
    pub table: Cow<'static, str>,
    /// The name the query uses for it.
    pub name: Cow<'static, str>,
}

impl Alias {
    /// The alias's column `name`, untyped (`manager.c("name")`).
    pub fn c(&self, name: &str) -> AnyColumn {
        AnyColumn::new(self.name.clone(), Cow::Owned(name.to_string()))
    }

    /// A model's column through the alias, keeping its type: `manager.col(User::name)`.
    pub fn col<M, T>(&self, column: Column<M, T>) -> TypedExpr<T> {
        TypedExpr::new(Expr::Column {
            table: Some(self.name.clone()),
            name: Cow::Borrowed(column.name),
        })
    }
}

impl Table {
    /// This table under another name, for self-joins (SQLAlchemy's `table.alias("name")`).
    ///
    /// # Examples
    /// ```
    /// use orm::core::{select, ColumnDef, Table};
    /// use orm::prelude::*;
    /// let staff = Table::new("staff")
    ///     .column(ColumnDef::new("name", orm::ColumnType::Text))
    ///     .column(ColumnDef::new("boss_id", orm::ColumnType::Integer));
    /// let boss = staff.alias("boss");
    /// let stmt = select([staff.c("name"), boss.c("name")])
    ///     .from(&staff)
    ///     .join(&boss, staff.c("boss_id").eq(boss.c("id")));
    /// assert_eq!(
    ///     stmt.to_sql(),
    ///     r#"SELECT "staff"."name", "boss"."name" FROM "staff" JOIN "staff" AS "boss" ON "staff"."boss_id" = "boss"."id""#
    /// );
    /// ```
    pub fn alias(&self, name: impl Into<Cow<'static, str>>) -> Alias {
        Alias {
            table: self.name.clone(),
            name: name.into(),
        }
    }
}

/// A `SELECT` named in `FROM` (`FROM (SELECT …) AS "name"`): made by [`Select::subquery`].
#[derive(Debug, Clone, PartialEq)]
pub struct Subquery {
    /// The select.
    pub select: Select,
    /// Its name in the enclosing query.
    pub name: String,
}

impl Subquery {
    /// A column of the subquery, by the name it has in the subquery's select list.
    pub fn c(&self, name: &str) -> AnyColumn {
        AnyColumn::new(Cow::Owned(self.name.clone()), Cow::Owned(name.to_string()))
    }
}

/// A common table expression: a named `SELECT` written once in `WITH` and used like a table.
/// Made by [`Select::cte`]; [`Cte::recursive`] and [`Cte::union_all`] build `WITH RECURSIVE`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cte {
    /// The name it is used by.
    pub name: String,
    /// Whether its select refers to itself (`WITH RECURSIVE`).
    pub recursive: bool,
    /// The select that defines it.
    pub select: Box<Select>,
}

impl Cte {
    /// A column of the CTE, by the name it has in the CTE's select list.
    pub fn c(&self, name: &str) -> AnyColumn {
        AnyColumn::new(Cow::Owned(self.name.clone()), Cow::Owned(name.to_string()))
    }

    /// Marks it `WITH RECURSIVE` (SQLAlchemy's `cte(name, recursive=True)`).
    pub fn recursive(mut self) -> Cte {
        self.recursive = true;
        self
    }

    /// The recursive step, joined to the first select with `UNION ALL`; `step` may use this
    /// CTE in its `FROM` or joins.
    ///
    /// # Examples
    /// ```
    /// use orm::core::{select, ColumnDef, Table};
    /// use orm::prelude::*;
    /// let nodes = Table::new("nodes")
    ///     .column(ColumnDef::new("id", orm::ColumnType::Integer))
    ///     .column(ColumnDef::new("parent_id", orm::ColumnType::Integer));
    /// let tree = select([nodes.c("id")]).from(&nodes).filter(nodes.c("id").eq(1)).cte("tree").recursive();
    /// let tree = tree.clone().union_all(
    ///     select([nodes.c("id")]).from(&nodes).join(&tree, nodes.c("parent_id").eq(tree.c("id"))),
    /// );
    /// let stmt = select([tree.c("id")]).from(&tree);
    /// assert_eq!(
    ///     stmt.to_sql(),
    ///     r#"WITH RECURSIVE "tree" AS (SELECT "nodes"."id" FROM "nodes" WHERE "nodes"."id" = ? UNION ALL SELECT "nodes"."id" FROM "nodes" JOIN "tree" ON "nodes"."parent_id" = "tree"."id") SELECT "tree"."id" FROM "tree""#
    /// );
    /// // Node 1's subtree: 1, its child 2 and grandchild 4, not 3 (another root).
    /// let engine = create_engine("sqlite:///:memory:")?;
    /// MetaData::new().add_table(nodes.clone()).create_all(&engine)?;
    /// engine.execute(orm::core::text("INSERT INTO nodes VALUES (1, NULL), (2, 1), (3, NULL), (4, 2)"))?;
    /// let mut ids = engine.execute(stmt)?.all::<(i64,)>()?;
    /// ids.sort();
    /// assert_eq!(ids, [(1,), (2,), (4,)]);
    /// # Ok::<(), orm::Error>(())
    /// ```
    pub fn union_all(self, step: impl IntoSelect) -> Cte {
        self.combine(SetOp::UnionAll, step.into_select())
    }

    /// As [`Cte::union_all`], with duplicate rows removed (which also stops a cycle).
    pub fn union(self, step: impl IntoSelect) -> Cte {
        self.combine(SetOp::Union, step.into_select())
    }

    fn combine(mut self, op: SetOp, mut step: Select) -> Cte {
        // The step names this CTE as a table; its definition is the one being written.
        step.ctes.retain(|c| c.name != self.name);
        let select = std::mem::take(&mut *self.select);
        *self.select = select.set_op(op, step);
        self
    }
}

/// What a `FROM` or a join can name: a [`Table`], an [`Alias`], a [`Cte`] or a [`Subquery`].
pub trait FromSource {
    /// Records what the select must declare (an alias, a CTE) and gives the `FROM` item.
    fn register(&self, select: &mut Select) -> FromItem;
}

impl FromSource for Table {
    fn register(&self, _select: &mut Select) -> FromItem {
        FromItem::Table(self.name.clone())
    }
}

impl FromSource for Alias {
    fn register(&self, select: &mut Select) -> FromItem {
        if !select.aliases.iter().any(|a| a.name == self.name) {
            select.aliases.push(self.clone());
        }
        FromItem::Table(self.name.clone())
    }
}

impl FromSource for Cte {
    fn register(&self, select: &mut Select) -> FromItem {
        if !select.ctes.iter().any(|c| c.name == self.name) {
            select.ctes.push(self.clone());
        }
        FromItem::Table(Cow::Owned(self.name.clone()))
    }
}

impl FromSource for Subquery {
    fn register(&self, _select: &mut Select) -> FromItem {
        FromItem::Subquery {
            select: Box::new(self.select.clone()),
            alias: self.name.clone(),
        }
    }
}

impl Select {
    /// The select as a value in an expression (`(SELECT max(age) FROM users)`): it must give
    /// one column and at most one row. Untyped; an ORM query's
    /// [`scalar_subquery`](crate::Query::scalar_subquery) keeps its type.
    ///
    /// # Examples
    /// ```
    /// use orm::core::{select, ColumnDef, Table};
    /// use orm::prelude::*;
    /// let users = Table::new("users").column(ColumnDef::new("age", orm::ColumnType::Integer));
    /// let avg = select([func::avg(users.c("age"))]).from(&users).scalar_subquery();
    /// let older = select([users.c("age")]).from(&users).filter(users.c("age").gt(avg));
    /// assert_eq!(
    ///     older.to_sql(),
    ///     r#"SELECT "users"."age" FROM "users" WHERE "users"."age" > (SELECT avg("users"."age") FROM "users")"#
    /// );
    /// ```
    pub fn scalar_subquery(self) -> TypedExpr<Value> {
        TypedExpr::new(Expr::Subquery(Box::new(self)))
    }

    /// As [`Select::scalar_subquery`], read as `T`.
    pub fn scalar_subquery_as<T: SqlType>(self) -> TypedExpr<T> {
        TypedExpr::new(Expr::Subquery(Box::new(self)))
    }

    /// `EXISTS (this select)`.
    pub fn exists(self) -> Condition {
        exists(self)
    }

    /// This select as a named subquery for a `FROM`.
    ///
    /// # Examples
    /// ```
    /// use orm::core::{select, ColumnDef, Table};
    /// use orm::prelude::*;
    /// let users = Table::new("users").column(ColumnDef::new("age", orm::ColumnType::Integer));
    /// let adults = select([users.c("age")]).from(&users).filter(users.c("age").ge(18)).subquery("adults");
    /// let stmt = select([func::count(adults.c("age"))]).from(&adults);
    /// assert_eq!(
    ///     stmt.to_sql(),
    ///     r#"SELECT count("adults"."age") FROM (SELECT "users"."age" FROM "users" WHERE "users"."age" >= ?) AS "adults""#
    /// );
    /// let engine = create_engine("sqlite:///:memory:")?;
    /// MetaData::new().add_table(users.clone()).create_all(&engine)?;
    /// engine.execute(orm::core::text("INSERT INTO users VALUES (12), (18), (40)"))?;
    /// assert_eq!(engine.execute(stmt)?.scalar(), Some(&orm::Value::Integer(2)));
    /// # Ok::<(), orm::Error>(())
    /// ```
    pub fn subquery(self, name: impl Into<String>) -> Subquery {
        Subquery {
            select: self,
            name: name.into(),
        }
    }

    /// This select as a common table expression named `name` (`WITH "name" AS (…)`), used by
    /// naming it in another select's `from` or `join`.
    ///
    /// # Examples
    /// ```
    /// use orm::core::{select, ColumnDef, Table};
    /// use orm::prelude::*;
    /// let users = Table::new("users").column(ColumnDef::new("age", orm::ColumnType::Integer));
    /// let adults = select([users.c("age")]).from(&users).filter(users.c("age").ge(18)).cte("adults");
    /// let stmt = select([adults.c("age")]).from(&adults);
    /// assert_eq!(
    ///     stmt.to_sql(),
    ///     r#"WITH "adults" AS (SELECT "users"."age" FROM "users" WHERE "users"."age" >= ?) SELECT "adults"."age" FROM "adults""#
    /// );
    /// ```
    pub fn cte(self, name: impl Into<String>) -> Cte {
        Cte {
            name: name.into(),
            recursive: false,
            select: Box::new(self),
        }
    }

    /// `this UNION ALL other`.
    pub fn union_all(self, other: impl IntoSelect) -> Select {
        self.set_op(SetOp::UnionAll, other.into_select())
    }

    /// `this UNION other`.
    pub fn union(self, other: impl IntoSelect) -> Select {
        self.set_op(SetOp::Union, other.into_select())
    }

    /// `this INTERSECT other`.
    pub fn intersect(self, other: impl IntoSelect) -> Select {
        self.set_op(SetOp::Intersect, other.into_select())
    }

    /// `this EXCEPT other`.
    pub fn except(self, other: impl IntoSelect) -> Select {
        self.set_op(SetOp::Except, other.into_select())
    }

    /// Adds `other` to this compound select, making one of this select first if it is plain.
    pub(crate) fn set_op(self, op: SetOp, other: Select) -> Select {
        if self.is_compound() {
            let mut out = self;
            out.set_ops.push((op, other));
            out
        } else if self == Select::default() {
            Select {
                set_ops: vec![(op, other)],
                ..Select::default()
            }
        } else {
            Select {
                set_ops: vec![(op, self), (op, other)],
                ..Select::default()
            }
        }
    }

    /// Whether this is a compound select (`UNION` …), whose selects are in `set_ops`.
    pub fn is_compound(&self) -> bool {
        !self.set_ops.is_empty()
    }
}
