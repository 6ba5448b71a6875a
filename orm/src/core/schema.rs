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
}

impl Table {
    /// A table named `name` with no columns yet.
    pub fn new(name: impl Into<Cow<'static, str>>) -> Table {
        Table {
            name: name.into(),
            columns: Cow::Owned(Vec::new()),
        }
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
