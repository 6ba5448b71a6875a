//! Tables and columns as plain values: what `CREATE TABLE` says, usable with or without models.

use crate::value::ColumnType;
use std::borrow::Cow;

/// A literal default value for a column (`#[orm(default = 0)]`, the lesson's `default=value`).
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A whole number.
    Integer(i64),
    /// A floating-point number.
    Float(f64),
    /// Text (written quoted, quotes doubled).
    Text(Cow<'static, str>),
    /// A boolean (`1`/`0` on SQLite, `TRUE`/`FALSE` elsewhere).
    Bool(bool),
}

/// What happens to child rows when their parent row is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDelete {
    /// Delete the child rows too.
    Cascade,
    /// Set the child rows' foreign key to NULL.
    SetNull,
    /// Refuse to delete a parent that has children.
    Restrict,
}

/// `REFERENCES table(column)`.
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignKey {
    /// The referenced table.
    pub table: Cow<'static, str>,
    /// The referenced column.
    pub column: Cow<'static, str>,
    /// What deleting the referenced row does (the database default when `None`).
    pub on_delete: Option<OnDelete>,
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDef {
    /// The column's name.
    pub name: Cow<'static, str>,
    /// Its SQL type.
    pub ty: ColumnType,
    /// Whether it may hold NULL.
    pub nullable: bool,
    /// Whether it is the primary key.
    pub primary_key: bool,
    /// Whether the database assigns it (an integer primary key).
    pub autoincrement: bool,
    /// Whether its values must be distinct (`UNIQUE`).
    pub unique: bool,
    /// Whether it gets an index (`ix_<table>_<column>`).
    pub index: bool,
    /// Its `DEFAULT` value.
    pub default: Option<Literal>,
    /// Its `REFERENCES` clause.
    pub foreign_key: Option<ForeignKey>,
    /// A default the database computes, as SQL (`CURRENT_TIMESTAMP`): SQLAlchemy's
    /// `server_default=text(…)`. Written as `DEFAULT (…)`; the value comes back in the INSERT's `RETURNING`.
    pub server_default: Option<Cow<'static, str>>,
    /// A SQL expression the unit of work sets the column to in every `UPDATE` of the row
    /// (`CURRENT_TIMESTAMP`): SQLAlchemy's `onupdate=func.now()`. Read back after the update.
    pub onupdate: Option<Cow<'static, str>>,
    /// The strings a text-stored enum column may hold (`#[derive(DbEnum)]`), enforced by the
    /// table constraint `ck_<table>_<column>_enum CHECK (column IN (…))`.
    pub enum_values: Option<&'static [&'static str]>,
}

impl ColumnDef {
    /// A nullable column with no constraints; chain the builders to add them.
    pub const fn new(name: &'static str, ty: ColumnType) -> ColumnDef {
        ColumnDef {
            name: Cow::Borrowed(name),
            ty,
            nullable: true,
            primary_key: false,
            autoincrement: false,
            unique: false,
            index: false,
            default: None,
            foreign_key: None,
            server_default: None,
            onupdate: None,
            enum_values: None,
        }
    }
    /// An integer primary key is SQLite's rowid: the database assigns it when a row is inserted.
    pub const fn primary_key(mut self) -> Self {
        self.primary_key = true;
        self.nullable = false;
        self.autoincrement = matches!(self.ty, ColumnType::Integer);
        self
    }
    /// Whether the column may hold NULL.
    pub const fn nullable(mut self, nullable: bool) -> Self {
        self.nullable = nullable;
        self
    }
    /// `NOT NULL`.
    pub const fn not_null(self) -> Self {
        self.nullable(false)
    }
    /// `UNIQUE`.
    pub const fn unique(mut self) -> Self {
        self.unique = true;
        self
    }
    /// An index on the column (`create_all` makes it).
    pub const fn index(mut self) -> Self {
        self.index = true;
        self
    }
    /// `DEFAULT value`.
    pub fn default(mut self, value: Literal) -> Self {
        self.default = Some(value);
        self
    }
    /// `DEFAULT (sql)`: a default the database computes (`"CURRENT_TIMESTAMP"`).
    pub fn server_default(mut self, sql: impl Into<Cow<'static, str>>) -> Self {
        self.server_default = Some(sql.into());
        self
    }
    /// The SQL expression every `UPDATE` of the unit of work sets the column to.
    pub fn onupdate(mut self, sql: impl Into<Cow<'static, str>>) -> Self {
        self.onupdate = Some(sql.into());
        self
    }
    /// Limits the column to these strings (a `CHECK` constraint, as for a `DbEnum`).
    pub fn enum_values(mut self, values: &'static [&'static str]) -> Self {
        self.enum_values = Some(values);
        self
    }
    /// `REFERENCES table(column)`.
    pub fn references(
        mut self,
        table: impl Into<Cow<'static, str>>,
        column: impl Into<Cow<'static, str>>,
    ) -> Self {
        self.foreign_key = Some(ForeignKey {
            table: table.into(),
            column: column.into(),
            on_delete: None,
        });
        self
    }
    /// What deleting the referenced row does (after `references`).
    pub fn on_delete(mut self, action: OnDelete) -> Self {
        if let Some(fk) = &mut self.foreign_key {
            fk.on_delete = Some(action);
        }
        self
    }
}

/// Column names as a table constraint or an index lists them.
pub type ColumnNames = Cow<'static, [Cow<'static, str>]>;

/// `FOREIGN KEY (a, b) REFERENCES parent (x, y)` over several columns: SQLAlchemy's
/// table-level `ForeignKeyConstraint(["a", "b"], ["parent.x", "parent.y"])`, the way a table
/// points at a parent whose primary key is composite. One-column references are
/// `ColumnDef::references`. Written unnamed in `CREATE TABLE`, as SQLAlchemy does without a
/// naming convention for `fk`, so PostgreSQL names it `<table>_<a>_<b>_fkey`.
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignKeyConstraint {
    /// The columns of this table, in order.
    pub columns: ColumnNames,
    /// The referenced table.
    pub table: Cow<'static, str>,
    /// The referenced columns, one per column of `columns`, in the same order.
    pub referred: ColumnNames,
    /// What deleting the referenced row does (the database default when `None`).
    pub on_delete: Option<OnDelete>,
}

/// `UNIQUE (a, b)` over several columns (SQLAlchemy's `UniqueConstraint("a", "b")`).
#[derive(Debug, Clone, PartialEq)]
pub struct UniqueConstraint {
    /// The constraint's name; `None` takes the naming convention's `uq_<table>_<a>_<b>`.
    pub name: Option<Cow<'static, str>>,
    /// The columns, in order.
    pub columns: ColumnNames,
}

/// `CREATE [UNIQUE] INDEX name ON table (a, b)` (SQLAlchemy's `Index("name", "a", "b")`).
#[derive(Debug, Clone, PartialEq)]
pub struct Index {
    /// The index's name; `None` takes the naming convention's `ix_<table>_<a>_<b>`.
    pub name: Option<Cow<'static, str>>,
    /// The columns, in order.
    pub columns: ColumnNames,
    /// Whether the index is unique.
    pub unique: bool,
}

/// `CONSTRAINT name CHECK (sqltext)` (SQLAlchemy's `CheckConstraint("age >= 0", name=…)`).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckConstraint {
    /// The constraint's own name; the table constraint is `ck_<table>_<name>`, the naming
    /// convention SQLAlchemy's documentation recommends (`ck_%(table_name)s_%(constraint_name)s`).
    pub name: Cow<'static, str>,
    /// The condition, as SQL.
    pub sqltext: Cow<'static, str>,
}

/// The names the constraints and indexes of a table get when none is given: the naming
/// convention of SQLAlchemy's and Alembic's documentation, with `column_0_N_name` (every
/// column, joined by `_`) so that two constraints on different column lists never share a name.
/// `{"ix": "ix_%(table_name)s_%(column_0_N_name)s", "uq": "uq_%(table_name)s_%(column_0_N_name)s",
/// "ck": "ck_%(table_name)s_%(constraint_name)s"}`.
pub mod naming {
    /// `uq_<table>_<a>_<b>`.
    pub fn unique(table: &str, columns: &[impl AsRef<str>]) -> String {
        format!("uq_{table}_{}", joined(columns))
    }
    /// `ix_<table>_<a>_<b>` (one column: the `ix_<table>_<column>` of `#[orm(index)]`).
    pub fn index(table: &str, columns: &[impl AsRef<str>]) -> String {
        format!("ix_{table}_{}", joined(columns))
    }
    /// `ck_<table>_<name>`.
    pub fn check(table: &str, name: &str) -> String {
        format!("ck_{table}_{name}")
    }
    fn joined(columns: &[impl AsRef<str>]) -> String {
        columns
            .iter()
            .map(AsRef::as_ref)
            .collect::<Vec<_>>()
            .join("_")
    }
}

impl UniqueConstraint {
    /// The constraint's name in `table`: its own, or the naming convention's.
    pub fn name_in(&self, table: &str) -> String {
        self.name
            .as_deref()
            .map_or_else(|| naming::unique(table, &self.columns), str::to_string)
    }
}

impl Index {
    /// The index's name on `table`: its own, or the naming convention's.
    pub fn name_in(&self, table: &str) -> String {
        self.name
            .as_deref()
            .map_or_else(|| naming::index(table, &self.columns), str::to_string)
    }
}

impl CheckConstraint {
    /// The constraint's name in `table`: `ck_<table>_<name>`.
    pub fn name_in(&self, table: &str) -> String {
        naming::check(table, &self.name)
    }
}

/// A table: a name and its columns. Models produce one as `Model::TABLE`; Core code builds one by hand.
///
/// ```
/// use orm::core::{Table, ColumnDef};
/// use orm::ColumnType;
/// let users = Table::new("users")
///     .column(ColumnDef::new("id", ColumnType::Integer).primary_key())
///     .column(ColumnDef::new("name", ColumnType::String(None)).not_null());
/// assert_eq!(users.c("name").to_string(), "\"users\".\"name\"");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The table's name.
    pub name: Cow<'static, str>,
    /// Its columns, in order.
    pub columns: Cow<'static, [ColumnDef]>,
    /// Multi-column `UNIQUE` constraints (one-column ones are `ColumnDef::unique`).
    pub uniques: Cow<'static, [UniqueConstraint]>,
    /// Indexes over several columns (one-column ones are `ColumnDef::index`).
    pub indexes: Cow<'static, [Index]>,
    /// `CHECK` constraints.
    pub checks: Cow<'static, [CheckConstraint]>,
    /// Foreign keys over several columns (one-column ones are `ColumnDef::foreign_key`).
    pub foreign_keys: Cow<'static, [ForeignKeyConstraint]>,
}

impl Table {
    /// A table named `name` with no columns yet.
    pub fn new(name: impl Into<Cow<'static, str>>) -> Table {
        Table {
            name: name.into(),
            columns: Cow::Owned(Vec::new()),
            uniques: Cow::Borrowed(&[]),
            indexes: Cow::Borrowed(&[]),
            checks: Cow::Borrowed(&[]),
            foreign_keys: Cow::Borrowed(&[]),
        }
    }

    /// Adds `FOREIGN KEY (columns) REFERENCES table (referred)`, SQLAlchemy's
    /// `ForeignKeyConstraint`: `referred` names one column of `table` per column of `columns`.
    ///
    /// ```
    /// use orm::core::{ColumnDef, Table};
    /// use orm::ColumnType;
    /// let enrollments = Table::new("enrollments")
    ///     .column(ColumnDef::new("id", ColumnType::Integer).primary_key())
    ///     .column(ColumnDef::new("term", ColumnType::Text))
    ///     .column(ColumnDef::new("code", ColumnType::Text))
    ///     .foreign_key_constraint(&["term", "code"], "offerings", &["term", "code"]);
    /// assert_eq!(enrollments.foreign_keys[0].referred.len(), 2);
    /// ```
    pub fn foreign_key_constraint(
        mut self,
        columns: &[&'static str],
        table: &'static str,
        referred: &[&'static str],
    ) -> Table {
        self.foreign_keys.to_mut().push(ForeignKeyConstraint {
            columns: columns.iter().map(|c| Cow::Borrowed(*c)).collect(),
            table: Cow::Borrowed(table),
            referred: referred.iter().map(|c| Cow::Borrowed(*c)).collect(),
            on_delete: None,
        });
        self
    }

    /// Every table this one references, by a column's `REFERENCES` or a table-level foreign key.
    pub fn referenced_tables(&self) -> impl Iterator<Item = &str> {
        self.columns
            .iter()
            .filter_map(|c| c.foreign_key.as_ref().map(|fk| fk.table.as_ref()))
            .chain(self.foreign_keys.iter().map(|fk| fk.table.as_ref()))
    }

    /// Adds a multi-column `UNIQUE` constraint; `name: None` takes `uq_<table>_<a>_<b>`.
    pub fn unique_constraint(
        mut self,
        name: Option<&'static str>,
        columns: &[&'static str],
    ) -> Table {
        self.uniques.to_mut().push(UniqueConstraint {
            name: name.map(Cow::Borrowed),
            columns: columns.iter().map(|c| Cow::Borrowed(*c)).collect(),
        });
        self
    }

    /// Adds an index over `columns`; `name: None` takes `ix_<table>_<a>_<b>`.
    pub fn index(
        mut self,
        name: Option<&'static str>,
        columns: &[&'static str],
        unique: bool,
    ) -> Table {
        self.indexes.to_mut().push(Index {
            name: name.map(Cow::Borrowed),
            columns: columns.iter().map(|c| Cow::Borrowed(*c)).collect(),
            unique,
        });
        self
    }

    /// Adds `CONSTRAINT ck_<table>_<name> CHECK (sqltext)`.
    pub fn check(mut self, name: &'static str, sqltext: &'static str) -> Table {
        self.checks.to_mut().push(CheckConstraint {
            name: Cow::Borrowed(name),
            sqltext: Cow::Borrowed(sqltext),
        });
        self
    }

    /// Every `CHECK` constraint of the table: its own, then one per enum column
    /// (`ck_<table>_<column>_enum`, the condition `"column" IN ('a', 'b')`).
    pub fn all_checks(&self) -> Vec<CheckConstraint> {
        let mut out: Vec<CheckConstraint> = self.checks.to_vec();
        for column in self.columns.iter() {
            if let Some(values) = column.enum_values {
                let listed: Vec<String> = values
                    .iter()
                    .map(|v| format!("'{}'", v.replace('\'', "''")))
                    .collect();
                out.push(CheckConstraint {
                    name: Cow::Owned(format!("{}_enum", column.name)),
                    sqltext: Cow::Owned(format!(
                        "\"{}\" IN ({})",
                        column.name.replace('"', "\"\""),
                        listed.join(", ")
                    )),
                });
            }
        }
        out
    }

    /// Every index `create_all` makes for the table: the one-column `#[orm(index)]` ones
    /// (`ix_<table>_<column>`, unique when the column is), then the table's `Index`es.
    pub fn all_indexes(&self) -> Vec<(String, Vec<String>, bool)> {
        let mut out: Vec<(String, Vec<String>, bool)> = self
            .columns
            .iter()
            .filter(|c| c.index)
            .map(|c| (self.index_name(&c.name), vec![c.name.to_string()], c.unique))
            .collect();
        out.extend(self.indexes.iter().map(|i| {
            (
                i.name_in(&self.name),
                i.columns.iter().map(|c| c.to_string()).collect(),
                i.unique,
            )
        }));
        out
    }

    /// Adds a column.
    pub fn column(mut self, column: ColumnDef) -> Table {
        self.columns.to_mut().push(column);
        self
    }

    /// The column named `name` as an expression (`users.c.name` in SQLAlchemy Core).
    /// An unknown name still builds; the database names it when the statement runs.
    pub fn c(&self, name: &str) -> super::expr::AnyColumn {
        super::expr::AnyColumn::new(self.name.clone(), Cow::Owned(name.to_string()))
    }

    /// The column named `name`, if the table has one.
    pub fn find_column(&self, name: &str) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The primary key column, if any (the first one of a composite key).
    pub fn primary_key(&self) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.primary_key)
    }

    /// Every primary key column, in order: two or more make a composite key, written as the
    /// table constraint `PRIMARY KEY (a, b)`.
    pub fn primary_key_columns(&self) -> impl Iterator<Item = &ColumnDef> {
        self.columns.iter().filter(|c| c.primary_key)
    }

    /// The name SQLAlchemy gives a one-column index: `ix_<table>_<column>`.
    pub fn index_name(&self, column: &str) -> String {
        format!("ix_{}_{}", self.name, column)
    }
}
