//! A collection of tables that can be created and dropped together (`Base.metadata`).

use crate::core::{Statement, Table};
use crate::engine::Engine;
use crate::error::Result;
use crate::model::Model;

/// The tables of an application: `MetaData::new().add::<User>().add::<Post>()`.
///
/// ```
/// use orm::prelude::*;
/// #[derive(Model, Clone, Default)]
/// #[orm(table = "users")]
/// pub struct User { #[orm(primary_key)] pub id: i64, pub name: String }
/// let engine = create_engine("sqlite:///:memory:")?;
/// let metadata = MetaData::new().add::<User>();
/// metadata.create_all(&engine)?;
/// metadata.create_all(&engine)?; // idempotent
/// metadata.drop_all(&engine)?;
/// # Ok::<(), orm::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct MetaData {
    tables: Vec<Table>,
}

impl MetaData {
    /// An empty collection of tables.
    pub fn new() -> MetaData {
        MetaData::default()
    }

    /// Adds a model's table.
    pub fn add<T: Model>(self) -> MetaData {
        self.add_table(T::TABLE)
    }

    /// Adds a Core table (an association table, say). A table of the same name is replaced.
    pub fn add_table(mut self, table: Table) -> MetaData {
        self.tables.retain(|t| t.name != table.name);
        self.tables.push(table);
        self
    }

    /// The tables, in the order they were added.
    pub fn tables(&self) -> &[Table] {
        &self.tables
    }

    /// The table called `name`, if one was added.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// Tables ordered so that every table comes after the tables it references.
    pub fn sorted_tables(&self) -> Vec<&Table> {
        let mut out: Vec<&Table> = Vec::new();
        let mut remaining: Vec<&Table> = self.tables.iter().collect();
        while !remaining.is_empty() {
            let ready = remaining.iter().position(|t| {
                t.referenced_tables().all(|parent| {
                    parent == t.name
                        || out.iter().any(|o| o.name == parent)
                        || !remaining.iter().any(|r| r.name == parent)
                })
            });
            // A cycle of foreign keys: SQLite checks them at write time, so any order works.
            out.push(remaining.remove(ready.unwrap_or(0)));
        }
        out
    }

    /// The statements `create_all` runs: tables in dependency order, then their indexes.
    pub fn create_statements(&self) -> Vec<Statement> {
        let mut out = Vec::new();
        for table in self.sorted_tables() {
            out.push(Statement::CreateTable {
                table: table.clone(),
                if_not_exists: true,
            });
            for (name, columns, unique) in table.all_indexes() {
                out.push(Statement::CreateIndex {
                    name,
                    table: table.name.to_string(),
                    columns,
                    unique,
                    if_not_exists: true,
                });
            }
        }
        out
    }

    /// Creates every table and index that does not exist yet, in one transaction.
    ///
    /// # Errors
    ///
    /// The first `CREATE TABLE` or `CREATE INDEX` the database refuses (nothing is then created:
    /// one transaction); [`Error::TransactionConflict`](crate::Error::TransactionConflict) on `sqlite:///:memory:` while a session's
    /// transaction is open.
    pub fn create_all(&self, engine: &Engine) -> Result<()> {
        engine.run_all(&self.create_statements())
    }

    /// Drops every table of this metadata (children first) that exists, in one transaction:
    /// SQLAlchemy's `drop_all` with `checkfirst`, which drops its own tables in reverse
    /// dependency order and nothing else (no `CASCADE`).
    ///
    /// # Errors
    ///
    /// The first `DROP TABLE` the database refuses, and nothing is then dropped (one
    /// transaction). A table of another metadata that still refers to one of these (left over
    /// by an interrupted run, or by another program): on PostgreSQL
    /// [`Error::DependentObjectsStillExist`](crate::Error::DependentObjectsStillExist) naming
    /// the dependent constraint and its table; on SQLite, which lets such a table be dropped
    /// unless rows still refer to it,
    /// [`Error::ForeignKeyViolation`](crate::Error::ForeignKeyViolation).
    /// [`Error::TransactionConflict`](crate::Error::TransactionConflict) on `sqlite:///:memory:` while a session's transaction is
    /// open.
    pub fn drop_all(&self, engine: &Engine) -> Result<()> {
        let stmts: Vec<Statement> = self
            .sorted_tables()
            .into_iter()
            .rev()
            .map(|t| Statement::DropTable {
                name: t.name.to_string(),
                if_exists: true,
            })
            .collect();
        engine.run_all(&stmts)
    }
}
