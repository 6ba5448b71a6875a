//! Table shapes read from SQLite's own catalog, and the same shapes built from the models, so the
//! two can be compared field by field.

use super::VERSION_TABLE;
use crate::core::{OnDelete, SqlWriter, SqliteWriter, Statement, Table};
use crate::engine::Conn;
use crate::error::Result;
use crate::value::{Value, ValueRef};

/// What autogenerate knows about a table: the parts it compares, and the SQL that recreates it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TableShape {
    pub name: String,
    /// `CREATE TABLE …` as the catalog holds it, or as the models would write it.
    pub create_sql: String,
    pub columns: Vec<ColumnShape>,
    /// Single- or multi-column `UNIQUE` constraints written in the table (not indexes).
    pub uniques: Vec<Vec<String>>,
    /// Indexes made by `CREATE INDEX`.
    pub indexes: Vec<IndexShape>,
    pub foreign_keys: Vec<ForeignKeyShape>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ColumnShape {
    pub name: String,
    /// The declared type, upper case, spaces normalised (`VARCHAR(50)`).
    pub ty: String,
    pub nullable: bool,
    pub primary_key: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IndexShape {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
    pub create_sql: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ForeignKeyShape {
    pub columns: Vec<String>,
    pub table: String,
    pub referred: Vec<String>,
    /// `NO ACTION`, `CASCADE`, `SET NULL`, `RESTRICT` or `SET DEFAULT`, as SQLite reports it.
    pub on_delete: String,
}

/// Upper case, no space before `(` or around commas: `varchar (50)` and `VARCHAR(50)` are one type.
pub(crate) fn normalize_type(ty: &str) -> String {
    let words: Vec<&str> = ty.split_whitespace().collect();
    words
        .join(" ")
        .to_ascii_uppercase()
        .replace(" (", "(")
        .replace("( ", "(")
        .replace(" )", ")")
        .replace(" ,", ",")
        .replace(", ", ",")
}

fn text(v: &Value) -> String {
    match v {
        Value::Text(t) => t.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Integer(i) => *i,
        _ => 0,
    }
}

/// Runs a catalog query on the connection the migration holds.
pub(crate) fn rows(conn: &mut Conn<'_>, sql: &str, params: &[&str]) -> Result<Vec<Vec<Value>>> {
    let params: Vec<ValueRef<'_>> = params.iter().map(|p| ValueRef::Text(p)).collect();
    Ok(conn.fetch_all(sql, &params, None)?.rows)
}

/// Every table of the database except SQLite's own, the version table, and batch leftovers.
pub(crate) fn reflect(conn: &mut Conn<'_>) -> Result<Vec<TableShape>> {
    let tables = rows(
        conn,
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         AND name <> ? AND name NOT LIKE '\\_orm\\_batch\\_%' ESCAPE '\\' ORDER BY name",
        &[VERSION_TABLE],
    )?;
    let mut out = Vec::new();
    for row in tables {
        let name = text(&row[0]);
        out.push(reflect_table(conn, &name, text(&row[1]))?);
    }
    Ok(out)
}

fn reflect_table(conn: &mut Conn<'_>, name: &str, create_sql: String) -> Result<TableShape> {
    let columns: Vec<ColumnShape> = rows(
        conn,
        "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?) ORDER BY cid",
        &[name],
    )?
    .iter()
    .map(|r| ColumnShape {
        name: text(&r[0]),
        ty: normalize_type(&text(&r[1])),
        nullable: int(&r[2]) == 0,
        primary_key: int(&r[3]) > 0,
    })
    .collect();
    let mut uniques = Vec::new();
    let mut indexes = Vec::new();
    for index in rows(
        conn,
        "SELECT name, \"unique\", origin FROM pragma_index_list(?) ORDER BY name",
        &[name],
    )? {
        let index_name = text(&index[0]);
        let index_columns: Vec<String> = rows(
            conn,
            "SELECT name FROM pragma_index_info(?) ORDER BY seqno",
            &[&index_name],
        )?
        .iter()
        .map(|r| text(&r[0]))
        .collect();
        match text(&index[2]).as_str() {
            "u" => uniques.push(index_columns),
            "c" => {
                let sql = rows(
                    conn,
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?",
                    &[&index_name],
                )?;
                indexes.push(IndexShape {
                    name: index_name,
                    columns: index_columns,
                    unique: int(&index[1]) == 1,
                    create_sql: sql.first().map(|r| text(&r[0])).unwrap_or_default(),
                });
            }
            // The primary key's own index: part of the columns, not compared apart.
            _ => {}
        }
    }
    let mut foreign_keys: Vec<ForeignKeyShape> = Vec::new();
    let mut last_id = None;
    for fk in rows(
        conn,
        "SELECT id, \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq",
        &[name],
    )? {
        let referred_table = text(&fk[1]);
        let mut to = text(&fk[3]);
        if to.is_empty() {
            // `REFERENCES users` without a column means the parent's primary key.
            let pk = rows(conn, "SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", &[&referred_table])?;
            to = pk.first().map(|r| text(&r[0])).unwrap_or_default();
        }
        if last_id == Some(int(&fk[0])) {
            if let Some(last) = foreign_keys.last_mut() {
                last.columns.push(text(&fk[2]));
                last.referred.push(to);
            }
            continue;
        }
        last_id = Some(int(&fk[0]));
        foreign_keys.push(ForeignKeyShape {
            columns: vec![text(&fk[2])],
            table: referred_table,
            referred: vec![to],
            on_delete: text(&fk[4]).to_ascii_uppercase(),
        });
    }
    foreign_keys.sort();
    uniques.sort();
    Ok(TableShape {
        name: name.to_string(),
        create_sql,
        columns,
        uniques,
        indexes,
        foreign_keys,
    })
}

/// The `CREATE INDEX` statements `create_all` runs for a model's table.
pub(crate) fn model_indexes(table: &Table) -> Vec<IndexShape> {
    table
        .columns
        .iter()
        .filter(|c| c.index)
        .map(|c| {
            let stmt = Statement::CreateIndex {
                name: table.index_name(&c.name),
                table: table.name.to_string(),
                columns: vec![c.name.to_string()],
                unique: c.unique,
                if_not_exists: false,
            };
            IndexShape {
                name: table.index_name(&c.name),
                columns: vec![c.name.to_string()],
                unique: c.unique,
                create_sql: SqliteWriter.compile(&stmt).sql,
            }
        })
        .collect()
}

/// The shape `create_all` would give a model's table, as the catalog would then report it.
pub(crate) fn model_shape(table: &Table) -> TableShape {
    let writer = SqliteWriter;
    let create_sql = writer
        .compile(&Statement::CreateTable {
            table: table.clone(),
            if_not_exists: false,
        })
        .sql;
    let columns = table
        .columns
        .iter()
        .map(|c| ColumnShape {
            name: c.name.to_string(),
            ty: normalize_type(&writer.column_type(c.ty)),
            nullable: c.nullable && !c.primary_key,
            primary_key: c.primary_key,
        })
        .collect();
    let mut uniques: Vec<Vec<String>> = table
        .columns
        .iter()
        .filter(|c| c.unique && !c.primary_key)
        .map(|c| vec![c.name.to_string()])
        .collect();
    uniques.sort();
    let mut foreign_keys: Vec<ForeignKeyShape> = table
        .columns
        .iter()
        .filter_map(|c| {
            let fk = c.foreign_key.as_ref()?;
            Some(ForeignKeyShape {
                columns: vec![c.name.to_string()],
                table: fk.table.to_string(),
                referred: vec![fk.column.to_string()],
                on_delete: match fk.on_delete {
                    None => "NO ACTION",
                    Some(OnDelete::Cascade) => "CASCADE",
                    Some(OnDelete::SetNull) => "SET NULL",
                    Some(OnDelete::Restrict) => "RESTRICT",
                }
                .to_string(),
            })
        })
        .collect();
    foreign_keys.sort();
    TableShape {
        name: table.name.to_string(),
        create_sql,
        columns,
        uniques,
        indexes: model_indexes(table),
        foreign_keys,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_compare_without_case_or_spacing() {
        assert_eq!(normalize_type("varchar (50)"), "VARCHAR(50)");
        assert_eq!(normalize_type("NUMERIC( 10 , 2 )"), "NUMERIC(10,2)");
        assert_eq!(normalize_type(" double  precision "), "DOUBLE PRECISION");
    }
}
