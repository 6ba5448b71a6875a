//! Autogenerate: what differs between the models and the database, and the upgrade and downgrade
//! SQL that removes the difference. One comparison serves both databases; the steps are SQLite's
//! (plain `ALTER` where SQLite can, a batch rebuild where not) or PostgreSQL's (an `ALTER TABLE`
//! per change), written with the engine's writer so the types are the engine's.

use super::inspect::{foreign_key_clause, model_shape, normalize_sql, ColumnShape};
use super::inspect::{CheckShape, ForeignKeyShape, IndexShape, Spelling, TableShape};
use super::{quote, quote_list, Dialect};
use crate::core::writer::Out;
use crate::core::{ColumnDef, SqlWriter, Table};
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
        /// The table.
        table: String,
    },
    /// A table of the database belongs to no model.
    RemoveTable {
        /// The table.
        table: String,
    },
    /// A model's column is not in the table.
    AddColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// A column of the table belongs to no field of the model.
    RemoveColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// The declared type differs (`INTEGER` in the database, `VARCHAR` in the model).
    ChangeType {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The type in the database.
        from: String,
        /// The type the model declares.
        to: String,
    },
    /// The column becomes nullable (`nullable: true`) or `NOT NULL`.
    ChangeNullable {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Whether the column becomes nullable.
        nullable: bool,
    },
    /// A `UNIQUE` constraint on these columns (`#[orm(unique)]`).
    AddUnique {
        /// The table.
        table: String,
        /// The columns of the constraint.
        columns: Vec<String>,
    },
    /// A `UNIQUE` constraint the model no longer declares.
    RemoveUnique {
        /// The table.
        table: String,
        /// The columns of the constraint.
        columns: Vec<String>,
    },
    /// An index made by `CREATE INDEX` (`#[orm(index)]`).
    AddIndex {
        /// The table.
        table: String,
        /// The index's name.
        name: String,
        /// The indexed columns.
        columns: Vec<String>,
        /// Whether it is a `UNIQUE` index.
        unique: bool,
    },
    /// An index the model no longer declares.
    RemoveIndex {
        /// The table.
        table: String,
        /// The index's name.
        name: String,
        /// The indexed columns.
        columns: Vec<String>,
        /// Whether it is a `UNIQUE` index.
        unique: bool,
    },
    /// `FOREIGN KEY (columns) REFERENCES referred_table (referred_columns)`.
    AddForeignKey {
        /// The referring table.
        table: String,
        /// The referring columns.
        columns: Vec<String>,
        /// The referred table.
        referred_table: String,
        /// The referred columns.
        referred_columns: Vec<String>,
    },
    /// A foreign key the model no longer declares.
    RemoveForeignKey {
        /// The referring table.
        table: String,
        /// The referring columns.
        columns: Vec<String>,
        /// The referred table.
        referred_table: String,
        /// The referred columns.
        referred_columns: Vec<String>,
    },
    /// A named `CHECK` constraint (`check_constraint(name = …, sql = …)`) the database lacks.
    AddCheck {
        /// The table.
        table: String,
        /// The constraint's name.
        name: String,
    },
    /// A `CHECK` constraint the models no longer declare.
    RemoveCheck {
        /// The table.
        table: String,
        /// The constraint's name.
        name: String,
    },
    /// A `CHECK` constraint of the same name whose condition changed: `from` as the database
    /// spells it, `to` as the model writes it. Compared in the database's own spelling, so
    /// PostgreSQL's added casts and parentheses (`((age >= 0))`) are no change.
    ChangeCheck {
        /// The table.
        table: String,
        /// The constraint's name.
        name: String,
        /// The condition in the database.
        from: String,
        /// The condition the model declares.
        to: String,
    },
    /// The column gains a default (`server_default`, or a literal `default`), loses it, or
    /// its default's value changes. Compared in the database's own spelling (PostgreSQL's
    /// `'draft'::character varying` for the model's `'draft'`), so a default spelled two ways
    /// is no change.
    ChangeDefault {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The model's default, as SQL, or `None` when it declares none.
        default: Option<String>,
    },
    /// The primary key's columns differ (a key becoming composite, say): `from` as the
    /// database has them, `to` as the model declares them, each in the table's column order.
    ChangePrimaryKey {
        /// The table.
        table: String,
        /// The key's columns in the database.
        from: Vec<String>,
        /// The key's columns the model declares.
        to: Vec<String>,
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
            | Change::RemoveForeignKey { table, .. }
            | Change::AddCheck { table, .. }
            | Change::RemoveCheck { table, .. }
            | Change::ChangeCheck { table, .. }
            | Change::ChangeDefault { table, .. }
            | Change::ChangePrimaryKey { table, .. } => table,
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
            Change::AddCheck { table, name } => {
                write!(f, "added check constraint {name} on {table}")
            }
            Change::RemoveCheck { table, name } => {
                write!(f, "removed check constraint {name} on {table}")
            }
            Change::ChangeCheck {
                table,
                name,
                from,
                to,
            } => write!(
                f,
                "check constraint {name} on {table} changed from ({from}) to ({to})"
            ),
            Change::ChangeDefault {
                table,
                column,
                default: Some(default),
            } => write!(f, "{table}.{column} now defaults to {default}"),
            Change::ChangeDefault {
                table,
                column,
                default: None,
            } => write!(f, "{table}.{column} no longer has a default"),
            Change::ChangePrimaryKey { table, from, to } => write!(
                f,
                "primary key of {table} changed from ({}) to ({})",
                from.join(", "),
                to.join(", ")
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
///
/// `spelling` has, by table name, the database's own spelling of the models' checks and
/// defaults (`inspect::spelling`); a table without one is compared as the model writes it.
pub(crate) fn plan(
    database: &[TableShape],
    metadata: &MetaData,
    writer: &dyn SqlWriter,
    dialect: Dialect,
    spelling: &[(String, Spelling)],
) -> Vec<Op> {
    let mut ops = Vec::new();
    for table in metadata.sorted_tables() {
        if !database.iter().any(|t| t.name == table.name) {
            let model = model_shape(table, writer);
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
            let spelled = spelling
                .iter()
                .find(|(name, _)| *name == table.name)
                .map(|(_, s)| s.clone())
                .unwrap_or_default();
            ops.extend(diff_table(db, table, writer, dialect, &spelled));
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
    // Nor a default that is an expression ("Cannot add a column with non-constant default").
    !column.primary_key
        && !column.unique
        && column.foreign_key.is_none()
        && column.server_default.is_none()
        && (column.nullable || column.default.is_some())
}

fn diff_table(
    db: &TableShape,
    table: &Table,
    writer: &dyn SqlWriter,
    dialect: Dialect,
    spelling: &Spelling,
) -> Vec<Op> {
    let model = model_shape(table, writer);
    let changes = compare_table(db, &model, spelling);
    let tables = Tables {
        db,
        table,
        model: &model,
        writer,
    };
    match dialect {
        Dialect::Sqlite => sqlite_steps(&tables, changes),
        Dialect::Postgres => postgres_steps(&tables, changes),
    }
}

/// A table as the database has it and as its model says it, and the writer for the steps.
struct Tables<'a> {
    db: &'a TableShape,
    table: &'a Table,
    model: &'a TableShape,
    writer: &'a dyn SqlWriter,
}

/// The items of `ours` that `theirs` has no `same` item for, in `ours`' order.
fn missing<'a, T>(
    ours: &'a [T],
    theirs: &'a [T],
    same: impl Fn(&T, &T) -> bool + 'a,
) -> impl Iterator<Item = &'a T> + 'a {
    ours.iter()
        .filter(move |o| !theirs.iter().any(|t| same(o, t)))
}

/// Every difference between a table of the database and its model, in the order a revision
/// lists them: column by column in the model's order, then removed columns, unique constraints,
/// foreign keys, checks, removed and added indexes. Checks and defaults are compared in the
/// database's `spelling` where it gave one.
fn compare_table(db: &TableShape, model: &TableShape, spelling: &Spelling) -> Vec<Change> {
    let name = &model.name;
    let mut out: Vec<Change> = Vec::new();
    for column in &model.columns {
        match db.columns.iter().find(|c| c.name == column.name) {
            Some(found) => column_changes(name, found, column, spelling, &mut out),
            None => out.push(Change::AddColumn {
                table: name.clone(),
                column: column.name.clone(),
            }),
        }
    }
    for column in missing(&db.columns, &model.columns, |a, b| a.name == b.name) {
        out.push(Change::RemoveColumn {
            table: name.clone(),
            column: column.name.clone(),
        });
    }
    let key_columns = |shape: &TableShape| -> Vec<String> {
        shape
            .columns
            .iter()
            .filter(|c| c.primary_key)
            .map(|c| c.name.clone())
            .collect()
    };
    let (from, to) = (key_columns(db), key_columns(model));
    let sorted = |names: &[String]| {
        let mut names = names.to_vec();
        names.sort();
        names
    };
    if sorted(&from) != sorted(&to) {
        out.push(Change::ChangePrimaryKey {
            table: name.clone(),
            from,
            to,
        });
    }
    for columns in missing(&model.uniques, &db.uniques, PartialEq::eq) {
        out.push(Change::AddUnique {
            table: name.clone(),
            columns: columns.clone(),
        });
    }
    for columns in missing(&db.uniques, &model.uniques, PartialEq::eq) {
        out.push(Change::RemoveUnique {
            table: name.clone(),
            columns: columns.clone(),
        });
    }
    let fk_change = |fk: &ForeignKeyShape, add: bool| {
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
    for fk in missing(&model.foreign_keys, &db.foreign_keys, PartialEq::eq) {
        out.push(fk_change(fk, true));
    }
    for fk in missing(&db.foreign_keys, &model.foreign_keys, PartialEq::eq) {
        out.push(fk_change(fk, false));
    }
    let same_name = |a: &CheckShape, b: &CheckShape| a.name == b.name;
    for check in missing(&model.checks, &db.checks, same_name) {
        out.push(Change::AddCheck {
            table: name.clone(),
            name: check.name.clone(),
        });
    }
    for check in missing(&db.checks, &model.checks, same_name) {
        out.push(Change::RemoveCheck {
            table: name.clone(),
            name: check.name.clone(),
        });
    }
    for check in &model.checks {
        let Some(found) = db.checks.iter().find(|d| d.name == check.name) else {
            continue;
        };
        let spelled = spelling.check(&check.name).unwrap_or(&check.sqltext);
        if normalize_sql(spelled) != normalize_sql(&found.sqltext) {
            out.push(Change::ChangeCheck {
                table: name.clone(),
                name: check.name.clone(),
                from: found.sqltext.clone(),
                to: check.sqltext.clone(),
            });
        }
    }
    let same_index = |a: &IndexShape, b: &IndexShape| {
        a.name == b.name && a.columns == b.columns && a.unique == b.unique
    };
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
    for index in missing(&db.indexes, &model.indexes, same_index) {
        out.push(index_change(index, false));
    }
    for index in missing(&model.indexes, &db.indexes, same_index) {
        out.push(index_change(index, true));
    }
    out
}

/// The `CREATE INDEX` of the index of that name (the shape the change was found in has it).
fn index_sql(shape: &TableShape, name: &str) -> String {
    shape
        .indexes
        .iter()
        .find(|i| i.name == name)
        .map(|i| i.create_sql.clone())
        .unwrap_or_default()
}

/// `ALTER TABLE t ADD COLUMN …` for a model's column, as the writer defines columns.
fn add_column_sql(table: &str, def: &ColumnDef, writer: &dyn SqlWriter) -> String {
    let mut out = Out {
        sql: format!("ALTER TABLE {} ADD COLUMN ", quote(table)),
        params: Vec::new(),
        placeholders: 0,
    };
    writer.write_column_def(def, &mut out);
    out.sql
}

/// SQLite: plain `ALTER TABLE … ADD COLUMN` and `CREATE`/`DROP INDEX` when those are all the
/// changes, else one batch rebuild of the table to the model's definition.
fn sqlite_steps(tables: &Tables<'_>, changes: Vec<Change>) -> Vec<Op> {
    let Tables {
        db,
        table,
        model,
        writer,
    } = *tables;
    let name = &model.name;
    let mut rebuild: Vec<Change> = Vec::new();
    let mut added: Vec<(Change, &ColumnDef)> = Vec::new();
    let mut removed_indexes: Vec<Change> = Vec::new();
    let mut added_indexes: Vec<Change> = Vec::new();
    for change in changes {
        match &change {
            Change::AddColumn { column, .. } => {
                match table.find_column(column).filter(|c| can_add_column(c)) {
                    Some(def) => added.push((change, def)),
                    None => rebuild.push(change),
                }
            }
            Change::RemoveIndex { .. } => removed_indexes.push(change),
            Change::AddIndex { .. } => added_indexes.push(change),
            _ => rebuild.push(change),
        }
    }

    if !rebuild.is_empty() {
        // One rebuild brings the table to the model's shape, indexes included; the downgrade
        // rebuilds it as the catalog had it.
        let why = rebuild_reason(&rebuild);
        let mut changes: Vec<Change> = added.into_iter().map(|(c, _)| c).collect();
        changes.extend(rebuild);
        changes.extend(removed_indexes);
        changes.extend(added_indexes);
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

    let index_op = |change: Change, add: bool| {
        let (Change::AddIndex { name: index, .. } | Change::RemoveIndex { name: index, .. }) =
            &change
        else {
            unreachable!("only index changes are gathered here")
        };
        let drop = Piece::Sql(format!("DROP INDEX {}", quote(index)));
        let (up, down) = if add {
            (Piece::Sql(index_sql(model, index)), drop)
        } else {
            (drop, Piece::Sql(index_sql(db, index)))
        };
        Op {
            changes: vec![change],
            why: None,
            up: vec![up],
            down: vec![down],
        }
    };
    let mut ops: Vec<Op> = removed_indexes
        .into_iter()
        .map(|c| index_op(c, false))
        .collect();
    for (change, def) in added {
        ops.push(Op {
            changes: vec![change],
            why: None,
            up: vec![Piece::Sql(add_column_sql(name, def, writer))],
            down: vec![Piece::Sql(format!(
                "ALTER TABLE {} DROP COLUMN {}",
                quote(name),
                quote(&def.name)
            ))],
        });
    }
    ops.extend(added_indexes.into_iter().map(|c| index_op(c, true)));
    ops
}

/// A column as the catalog describes it, for `ADD COLUMN` (a dropped column coming back).
fn column_sql(column: &ColumnShape) -> String {
    let mut sql = format!("{} {}", quote(&column.name), column.ty);
    if !column.nullable {
        sql.push_str(" NOT NULL");
    }
    if let Some(default) = &column.default {
        sql.push_str(" DEFAULT ");
        sql.push_str(default);
    }
    sql
}

/// The foreign key a change names, as the shape it was found in has it.
fn foreign_key_in(
    shape: &TableShape,
    columns: &[String],
    referred_table: &str,
    referred_columns: &[String],
) -> ForeignKeyShape {
    shape
        .foreign_keys
        .iter()
        .find(|f| {
            f.columns == columns && f.table == referred_table && f.referred == referred_columns
        })
        .cloned()
        .unwrap_or_else(|| ForeignKeyShape {
            columns: columns.to_vec(),
            table: referred_table.to_string(),
            referred: referred_columns.to_vec(),
            on_delete: "NO ACTION".to_string(),
        })
}

/// PostgreSQL: every change is its own `ALTER TABLE` (or index statement), undone by its
/// opposite. Constraints and indexes are dropped first and added last, so columns are in place
/// for them both ways; a dropped column comes back before its constraints on downgrade.
fn postgres_steps(tables: &Tables<'_>, changes: Vec<Change>) -> Vec<Op> {
    let (db, model) = (tables.db, tables.model);
    let (table, writer) = (tables.table, tables.writer);
    let name = &model.name;
    let alter = |rest: String| format!("ALTER TABLE {} {rest}", quote(name));
    let mut ops: Vec<(u8, Op)> = Vec::new();
    for change in changes {
        let (phase, up, down) = match &change {
            Change::AddColumn { column, .. } => {
                // A UNIQUE, a foreign key or a place in the primary key comes as a change of
                // its own, as a named constraint.
                let up = match table.find_column(column) {
                    Some(def) => {
                        let mut def = def.clone();
                        def.unique = false;
                        if def.primary_key {
                            def.primary_key = false;
                            def.autoincrement = false;
                            def.nullable = false;
                        }
                        add_column_sql(name, &def, writer)
                    }
                    None => {
                        let shape = model.columns.iter().find(|c| c.name == *column);
                        alter(format!(
                            "ADD COLUMN {}",
                            shape.map(column_sql).unwrap_or_default()
                        ))
                    }
                };
                (1, up, alter(format!("DROP COLUMN {}", quote(column))))
            }
            Change::ChangeType {
                column, from, to, ..
            } => {
                let retype = |ty: &str| {
                    alter(format!(
                        "ALTER COLUMN {c} TYPE {ty} USING {c}::{ty}",
                        c = quote(column)
                    ))
                };
                (2, retype(to), retype(from))
            }
            Change::ChangeNullable {
                column, nullable, ..
            } => {
                let set = |nullable: bool| {
                    alter(format!(
                        "ALTER COLUMN {} {} NOT NULL",
                        quote(column),
                        if nullable { "DROP" } else { "SET" }
                    ))
                };
                (3, set(*nullable), set(!*nullable))
            }
            Change::RemoveColumn { column, .. } => {
                let shape = db.columns.iter().find(|c| c.name == *column);
                (
                    4,
                    alter(format!("DROP COLUMN {}", quote(column))),
                    alter(format!(
                        "ADD COLUMN {}",
                        shape.map(column_sql).unwrap_or_default()
                    )),
                )
            }
            Change::AddUnique { columns, .. } | Change::RemoveUnique { columns, .. } => {
                let add = matches!(change, Change::AddUnique { .. });
                let constraint = quote(&if add { model } else { db }.unique_name(columns));
                let create = alter(format!(
                    "ADD CONSTRAINT {constraint} UNIQUE ({})",
                    quote_list(columns)
                ));
                let drop = alter(format!("DROP CONSTRAINT {constraint}"));
                if add {
                    (5, create, drop)
                } else {
                    (0, drop, create)
                }
            }
            Change::AddForeignKey {
                columns,
                referred_table,
                referred_columns,
                ..
            }
            | Change::RemoveForeignKey {
                columns,
                referred_table,
                referred_columns,
                ..
            } => {
                let add = matches!(change, Change::AddForeignKey { .. });
                let shape = if add { model } else { db };
                let fk = foreign_key_in(shape, columns, referred_table, referred_columns);
                let constraint = quote(&shape.foreign_key_name(&fk));
                let create = alter(format!(
                    "ADD CONSTRAINT {constraint} {}",
                    foreign_key_clause(&fk)
                ));
                let drop = alter(format!("DROP CONSTRAINT {constraint}"));
                if add {
                    (5, create, drop)
                } else {
                    (0, drop, create)
                }
            }
            Change::AddIndex { name: index, .. } => (
                5,
                index_sql(model, index),
                format!("DROP INDEX {}", quote(index)),
            ),
            Change::RemoveIndex { name: index, .. } => (
                0,
                format!("DROP INDEX {}", quote(index)),
                index_sql(db, index),
            ),
            Change::ChangeCheck {
                name: check,
                from,
                to,
                ..
            } => {
                let replace = |sqltext: &str| {
                    format!(
                        "{};\n{}",
                        alter(format!("DROP CONSTRAINT {}", quote(check))),
                        alter(format!("ADD CONSTRAINT {} CHECK ({sqltext})", quote(check)))
                    )
                };
                (5, replace(to), replace(from))
            }
            Change::AddCheck { name: check, .. } | Change::RemoveCheck { name: check, .. } => {
                let add = matches!(change, Change::AddCheck { .. });
                let shape = if add { model } else { db };
                let sqltext = shape
                    .checks
                    .iter()
                    .find(|c| c.name == *check)
                    .map(|c| c.sqltext.clone())
                    .unwrap_or_default();
                let create = alter(format!("ADD CONSTRAINT {} CHECK ({sqltext})", quote(check)));
                let drop = alter(format!("DROP CONSTRAINT {}", quote(check)));
                if add {
                    (5, create, drop)
                } else {
                    (0, drop, create)
                }
            }
            Change::ChangeDefault {
                column, default, ..
            } => {
                let set = |default: &Option<String>| {
                    alter(match default {
                        Some(sql) => format!("ALTER COLUMN {} SET DEFAULT {sql}", quote(column)),
                        None => format!("ALTER COLUMN {} DROP DEFAULT", quote(column)),
                    })
                };
                let before = db
                    .columns
                    .iter()
                    .find(|c| c.name == *column)
                    .and_then(|c| c.default.clone());
                (3, set(default), set(&before))
            }
            Change::ChangePrimaryKey { from, to, .. } => {
                // PostgreSQL's own name for the key of `CREATE TABLE` (`users_pkey`); `IF
                // EXISTS`, since dropping a key column has already dropped the constraint.
                let constraint = quote(&format!("{name}_pkey"));
                let set = |columns: &[String]| {
                    let mut sql = alter(format!("DROP CONSTRAINT IF EXISTS {constraint}"));
                    if !columns.is_empty() {
                        sql.push_str(&format!(
                            ";\n{}",
                            alter(format!(
                                "ADD CONSTRAINT {constraint} PRIMARY KEY ({})",
                                quote_list(columns)
                            ))
                        ));
                    }
                    sql
                };
                (5, set(to), set(from))
            }
            Change::AddTable { .. } | Change::RemoveTable { .. } => continue,
        };
        ops.push((
            phase,
            Op {
                changes: vec![change],
                why: None,
                up: vec![Piece::Sql(up)],
                down: vec![Piece::Sql(down)],
            },
        ));
    }
    // Stable: within a phase, the order the changes were found in.
    ops.sort_by_key(|(phase, _)| *phase);
    ops.into_iter().map(|(_, op)| op).collect()
}

fn column_changes(
    table: &str,
    db: &ColumnShape,
    model: &ColumnShape,
    spelling: &Spelling,
    out: &mut Vec<Change>,
) {
    if db.ty != model.ty {
        out.push(Change::ChangeType {
            table: table.to_string(),
            column: model.name.clone(),
            from: db.ty.clone(),
            to: model.ty.clone(),
        });
    }
    let spelled = model
        .default
        .as_deref()
        .map(|d| spelling.default_of(&model.name).unwrap_or(d));
    if db.default.as_deref().map(normalize_sql) != spelled.map(normalize_sql) {
        out.push(Change::ChangeDefault {
            table: table.to_string(),
            column: model.name.clone(),
            default: model.default.clone(),
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
