//! Autogenerate: what differs between the models and the database, and the upgrade and downgrade
//! SQL that removes the difference (plain `ALTER` where SQLite can, a batch rebuild where not).

use super::inspect::{model_shape, ColumnShape, IndexShape, TableShape};
use super::quote;
use crate::core::writer::Out;
use crate::core::{ColumnDef, SqlWriter, SqliteWriter, Table};
use crate::metadata::MetaData;
use std::fmt;

/// One difference between the models and the database, as autogenerate found it.
///
/// `Display` says it in words (`added column users.email`); `check` returns a list of these.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// A model's table is not in the database.
    AddTable {
        table: String,
    },
    /// A table of the database belongs to no model.
    RemoveTable {
        table: String,
    },
    AddColumn {
        table: String,
        column: String,
    },
    RemoveColumn {
        table: String,
        column: String,
    },
    /// The declared type differs (`INTEGER` in the database, `VARCHAR` in the model).
    ChangeType {
        table: String,
        column: String,
        from: String,
        to: String,
    },
    /// The column becomes nullable (`nullable: true`) or `NOT NULL`.
    ChangeNullable {
        table: String,
        column: String,
        nullable: bool,
    },
    /// A `UNIQUE` constraint on these columns (`#[orm(unique)]`).
    AddUnique {
        table: String,
        columns: Vec<String>,
    },
    RemoveUnique {
        table: String,
        columns: Vec<String>,
    },
    /// An index made by `CREATE INDEX` (`#[orm(index)]`).
    AddIndex {
        table: String,
        name: String,
        columns: Vec<String>,
        unique: bool,
    },
    RemoveIndex {
        table: String,
        name: String,
        columns: Vec<String>,
        unique: bool,
    },
    /// `FOREIGN KEY (columns) REFERENCES referred_table (referred_columns)`.
    AddForeignKey {
        table: String,
        columns: Vec<String>,
        referred_table: String,
        referred_columns: Vec<String>,
    },
    /// A foreign key the model no longer declares.
    RemoveForeignKey {
        table: String,
        columns: Vec<String>,
        referred_table: String,
        referred_columns: Vec<String>,
    },
}

impl Change {
    /// The table the change is about.
    pub fn table(&self) -> &str {
        match self {
            Change::AddTable { table }
            | Change::RemoveTable { table }
            | Change::AddColumn { table, .. }
            | Change::RemoveColumn { table, .. }
            | Change::ChangeType { table, .. }
            | Change::ChangeNullable { table, .. }
            | Change::AddUnique { table, .. }
            | Change::RemoveUnique { table, .. }
            | Change::AddIndex { table, .. }
            | Change::RemoveIndex { table, .. }
            | Change::AddForeignKey { table, .. }
            | Change::RemoveForeignKey { table, .. } => table,
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unique = |u: &bool| if *u { "unique " } else { "" };
        match self {
            Change::AddTable { table } => write!(f, "added table {table}"),
            Change::RemoveTable { table } => write!(f, "removed table {table}"),
            Change::AddColumn { table, column } => write!(f, "added column {table}.{column}"),
            Change::RemoveColumn { table, column } => write!(f, "removed column {table}.{column}"),
            Change::ChangeType {
                table,
                column,
                from,
                to,
            } => {
                write!(f, "type of {table}.{column} changed from {from} to {to}")
            }
            Change::ChangeNullable {
                table,
                column,
                nullable: true,
            } => write!(f, "{table}.{column} is now nullable"),
            Change::ChangeNullable {
                table,
                column,
                nullable: false,
            } => write!(f, "{table}.{column} is now NOT NULL"),
            Change::AddUnique { table, columns } => write!(
                f,
                "added unique constraint on {table}({})",
                columns.join(", ")
            ),
            Change::RemoveUnique { table, columns } => {
                write!(
                    f,
                    "removed unique constraint on {table}({})",
                    columns.join(", ")
                )
            }
            Change::AddIndex {
                table,
                name,
                columns,
                unique: u,
            } => {
                write!(
                    f,
                    "added {}index {name} on {table}({})",
                    unique(u),
                    columns.join(", ")
                )
            }
            Change::RemoveIndex {
                table,
                name,
                columns,
                unique: u,
            } => {
                write!(
                    f,
                    "removed {}index {name} on {table}({})",
                    unique(u),
                    columns.join(", ")
                )
            }
            Change::AddForeignKey {
                table,
                columns,
                referred_table,
                referred_columns,
            } => write!(
                f,
                "added foreign key {table}({}) -> {referred_table}({})",
                columns.join(", "),
                referred_columns.join(", ")
            ),
            Change::RemoveForeignKey {
                table,
                columns,
                referred_table,
                referred_columns,
            } => write!(
                f,
                "removed foreign key {table}({}) -> {referred_table}({})",
                columns.join(", "),
                referred_columns.join(", ")
            ),
        }
    }
}

/// What a revision file says for one step: statements, or a batch rebuild of a table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Piece {
    Sql(String),
    /// The table's new `CREATE TABLE`, then the statements to run after it (its indexes).
    Batch {
        table: String,
        statements: Vec<String>,
    },
}

/// Changes and the SQL that makes them and undoes them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Op {
    pub changes: Vec<Change>,
    /// Why the table is rebuilt rather than altered, when it is.
    pub why: Option<&'static str>,
    pub up: Vec<Piece>,
    pub down: Vec<Piece>,
}

/// Compares the models with the database's tables and plans the steps, in an order that reads
/// well: new tables (parents first), changed tables, removed tables.
pub(crate) fn plan(database: &[TableShape], metadata: &MetaData) -> Vec<Op> {
    let mut ops = Vec::new();
    for table in metadata.sorted_tables() {
        if !database.iter().any(|t| t.name == table.name) {
            let model = model_shape(table);
            let mut up = vec![Piece::Sql(model.create_sql.clone())];
            up.extend(
                model
                    .indexes
                    .iter()
                    .map(|i| Piece::Sql(i.create_sql.clone())),
            );
            ops.push(Op {
                changes: vec![Change::AddTable {
                    table: model.name.clone(),
                }],
                why: None,
                up,
                down: vec![Piece::Sql(format!("DROP TABLE {}", quote(&model.name)))],
            });
        }
    }
    for table in metadata.sorted_tables() {
        if let Some(db) = database.iter().find(|t| t.name == table.name) {
            ops.extend(diff_table(db, table));
        }
    }
    for db in database {
        if metadata.table(&db.name).is_none() {
            let mut down = vec![Piece::Sql(db.create_sql.clone())];
            down.extend(db.indexes.iter().map(|i| Piece::Sql(i.create_sql.clone())));
            ops.push(Op {
                changes: vec![Change::RemoveTable {
                    table: db.name.clone(),
                }],
                why: None,
                up: vec![Piece::Sql(format!("DROP TABLE {}", quote(&db.name)))],
                down,
            });
        }
    }
    ops
}

/// SQLite's `ADD COLUMN` takes a column that is not a key, not unique, references nothing, and
/// can be filled for existing rows (nullable, or with a default).
fn can_add_column(column: &ColumnDef) -> bool {
    !column.primary_key
        && !column.unique
        && column.foreign_key.is_none()
        && (column.nullable || column.default.is_some())
}

fn diff_table(db: &TableShape, table: &Table) -> Vec<Op> {
    let model = model_shape(table);
    let name = &model.name;
    let mut rebuild: Vec<Change> = Vec::new();
    let mut added: Vec<(Change, &ColumnDef)> = Vec::new();
    for column in &model.columns {
        let Some(found) = db.columns.iter().find(|c| c.name == column.name) else {
            let change = Change::AddColumn {
                table: name.clone(),
                column: column.name.clone(),
            };
            match table
                .find_column(&column.name)
                .filter(|c| can_add_column(c))
            {
                Some(def) => added.push((change, def)),
                None => rebuild.push(change),
            }
            continue;
        };
        column_changes(name, found, column, &mut rebuild);
    }
    for column in db
        .columns
        .iter()
        .filter(|c| !model.columns.iter().any(|m| m.name == c.name))
    {
        rebuild.push(Change::RemoveColumn {
            table: name.clone(),
            column: column.name.clone(),
        });
    }
    for columns in model.uniques.iter().filter(|u| !db.uniques.contains(u)) {
        rebuild.push(Change::AddUnique {
            table: name.clone(),
            columns: columns.clone(),
        });
    }
    for columns in db.uniques.iter().filter(|u| !model.uniques.contains(u)) {
        rebuild.push(Change::RemoveUnique {
            table: name.clone(),
            columns: columns.clone(),
        });
    }
    let fk_change = |fk: &super::inspect::ForeignKeyShape, add: bool| {
        let (table, columns, referred_table, referred_columns) = (
            name.clone(),
            fk.columns.clone(),
            fk.table.clone(),
            fk.referred.clone(),
        );
        if add {
            Change::AddForeignKey {
                table,
                columns,
                referred_table,
                referred_columns,
            }
        } else {
            Change::RemoveForeignKey {
                table,
                columns,
                referred_table,
                referred_columns,
            }
        }
    };
    for fk in model
        .foreign_keys
        .iter()
        .filter(|f| !db.foreign_keys.contains(f))
    {
        rebuild.push(fk_change(fk, true));
    }
    for fk in db
        .foreign_keys
        .iter()
        .filter(|f| !model.foreign_keys.contains(f))
    {
        rebuild.push(fk_change(fk, false));
    }
    let same_index = |a: &IndexShape, b: &IndexShape| {
        a.name == b.name && a.columns == b.columns && a.unique == b.unique
    };
    let removed_indexes: Vec<&IndexShape> = db
        .indexes
        .iter()
        .filter(|i| !model.indexes.iter().any(|m| same_index(i, m)))
        .collect();
    let added_indexes: Vec<&IndexShape> = model
        .indexes
        .iter()
        .filter(|m| !db.indexes.iter().any(|i| same_index(i, m)))
        .collect();
    let index_change = |i: &IndexShape, add: bool| {
        let (table, name, columns, unique) =
            (name.clone(), i.name.clone(), i.columns.clone(), i.unique);
        if add {
            Change::AddIndex {
                table,
                name,
                columns,
                unique,
            }
        } else {
            Change::RemoveIndex {
                table,
                name,
                columns,
                unique,
            }
        }
    };

    if !rebuild.is_empty() {
        // One rebuild brings the table to the model's shape, indexes included; the downgrade
        // rebuilds it as the catalog had it.
        let why = rebuild_reason(&rebuild);
        let mut changes: Vec<Change> = added.into_iter().map(|(c, _)| c).collect();
        changes.extend(rebuild);
        changes.extend(removed_indexes.iter().map(|i| index_change(i, false)));
        changes.extend(added_indexes.iter().map(|i| index_change(i, true)));
        let mut up = vec![model.create_sql.clone()];
        up.extend(model.indexes.iter().map(|i| i.create_sql.clone()));
        let mut down = vec![db.create_sql.clone()];
        down.extend(db.indexes.iter().map(|i| i.create_sql.clone()));
        return vec![Op {
            changes,
            why: Some(why),
            up: vec![Piece::Batch {
                table: name.clone(),
                statements: up,
            }],
            down: vec![Piece::Batch {
                table: name.clone(),
                statements: down,
            }],
        }];
    }

    let mut ops = Vec::new();
    for index in removed_indexes {
        ops.push(Op {
            changes: vec![index_change(index, false)],
            why: None,
            up: vec![Piece::Sql(format!("DROP INDEX {}", quote(&index.name)))],
            down: vec![Piece::Sql(index.create_sql.clone())],
        });
    }
    for (change, def) in added {
        let mut out = Out {
            sql: format!("ALTER TABLE {} ADD COLUMN ", quote(name)),
            params: Vec::new(),
            placeholders: 0,
        };
        SqliteWriter.write_column_def(def, &mut out);
        ops.push(Op {
            changes: vec![change],
            why: None,
            up: vec![Piece::Sql(out.sql)],
            down: vec![Piece::Sql(format!(
                "ALTER TABLE {} DROP COLUMN {}",
                quote(name),
                quote(&def.name)
            ))],
        });
    }
    for index in added_indexes {
        ops.push(Op {
            changes: vec![index_change(index, true)],
            why: None,
            up: vec![Piece::Sql(index.create_sql.clone())],
            down: vec![Piece::Sql(format!("DROP INDEX {}", quote(&index.name)))],
        });
    }
    ops
}

fn column_changes(table: &str, db: &ColumnShape, model: &ColumnShape, out: &mut Vec<Change>) {
    if db.ty != model.ty {
        out.push(Change::ChangeType {
            table: table.to_string(),
            column: model.name.clone(),
            from: db.ty.clone(),
            to: model.ty.clone(),
        });
    }
    // A rowid primary key is never NULL, whether or not the table says NOT NULL.
    if !model.primary_key && db.nullable != model.nullable {
        out.push(Change::ChangeNullable {
            table: table.to_string(),
            column: model.name.clone(),
            nullable: model.nullable,
        });
    }
}

fn rebuild_reason(changes: &[Change]) -> &'static str {
    match changes.first() {
        Some(Change::AddColumn { .. }) => {
            "SQLite's ADD COLUMN cannot add a key, UNIQUE, REFERENCES or NOT NULL-without-default column"
        }
        Some(Change::RemoveColumn { .. }) => "dropping a column is done by a rebuild, which also works for indexed, unique and key columns",
        _ => "SQLite's ALTER TABLE cannot change a column or a constraint",
    }
}

/// A table name as `-- +batch` takes it: bare when it is a plain word, quoted otherwise.
fn batch_name(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        name.to_string()
    } else {
        quote(name)
    }
}

fn write_pieces(pieces: &[Piece], out: &mut String) {
    for piece in pieces {
        match piece {
            Piece::Sql(sql) => {
                out.push_str(sql);
                out.push_str(";\n");
            }
            Piece::Batch { table, statements } => {
                out.push_str(&format!("-- +batch {}\n", batch_name(table)));
                for sql in statements {
                    out.push_str(sql);
                    out.push_str(";\n");
                }
                out.push_str("-- +end\n");
            }
        }
    }
}

/// The `-- +up` and `-- +down` sections for a plan: each step with a comment naming its changes;
/// the downgrade undoes the steps in reverse order.
pub(crate) fn render(ops: &[Op]) -> (String, String) {
    if ops.is_empty() {
        let none = "\n-- no changes detected: the models and the database agree\n".to_string();
        return (none.clone(), none);
    }
    let mut up = String::new();
    for op in ops {
        up.push('\n');
        for change in &op.changes {
            up.push_str(&format!("-- {change}\n"));
        }
        if let Some(why) = op.why {
            up.push_str(&format!("-- (rebuilt as a batch: {why})\n"));
        }
        write_pieces(&op.up, &mut up);
    }
    let mut down = String::new();
    for op in ops.iter().rev() {
        down.push('\n');
        for change in &op.changes {
            down.push_str(&format!("-- undo: {change}\n"));
        }
        write_pieces(&op.down, &mut down);
    }
    (up, down)
}
