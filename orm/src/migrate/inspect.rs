//! Table shapes read from the database's own catalog (SQLite's `sqlite_master` and pragmas, or
//! PostgreSQL's `pg_catalog`), and the same shapes built from the models with the engine's writer,
//! so the two can be compared field by field whatever the database.

use super::{quote, Dialect, VERSION_TABLE};
use crate::core::{OnDelete, SqlWriter, Statement, Table};
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
    /// The constraint names of `uniques` and `foreign_keys` (PostgreSQL drops constraints by
    /// name): as the catalog has them, or PostgreSQL's default names for a model.
    pub unique_names: Vec<(Vec<String>, String)>,
    pub foreign_key_names: Vec<(ForeignKeyShape, String)>,
    /// Named `CHECK` constraints, sorted by name.
    pub checks: Vec<CheckShape>,
}

/// A named `CHECK` constraint. Compared by name and by condition: each database keeps the
/// condition in its own spelling (PostgreSQL adds parentheses and casts, `((age >= 0))`), so the
/// model's condition is compared in the database's spelling ([`Spelling`]), both through
/// [`normalize_sql`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct CheckShape {
    pub name: String,
    /// The condition, as written (the model) or as the database gives it back.
    pub sqltext: String,
}

impl TableShape {
    pub(crate) fn unique_name(&self, columns: &[String]) -> String {
        self.unique_names
            .iter()
            .find(|(c, _)| c == columns)
            .map_or_else(|| unique_name(&self.name, columns), |(_, n)| n.clone())
    }

    pub(crate) fn foreign_key_name(&self, fk: &ForeignKeyShape) -> String {
        self.foreign_key_names
            .iter()
            .find(|(f, _)| f == fk)
            .map_or_else(
                || foreign_key_name(&self.name, &fk.columns),
                |(_, n)| n.clone(),
            )
    }
}

/// PostgreSQL's own name for a `UNIQUE` written in `CREATE TABLE`: `users_email_key`.
fn unique_name(table: &str, columns: &[String]) -> String {
    format!("{table}_{}_key", columns.join("_"))
}

/// PostgreSQL's own name for a foreign key written in `CREATE TABLE`: `posts_user_id_fkey`.
fn foreign_key_name(table: &str, columns: &[String]) -> String {
    format!("{table}_{}_fkey", columns.join("_"))
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ColumnShape {
    pub name: String,
    /// The declared type, upper case, spaces normalised (`VARCHAR(50)`).
    pub ty: String,
    pub nullable: bool,
    pub primary_key: bool,
    /// The default as SQL (`DEFAULT …`): compared (in the database's spelling, see
    /// [`Spelling`]), and used to add a dropped column back.
    pub default: Option<String>,
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

/// SQL text in a form two spellings of one expression share: whitespace, letter case outside
/// string literals and double quotes around identifiers do not count, nor parentheses around the
/// whole (SQLite's `pragma table_info` gives `DEFAULT (0)` back as `0`; PostgreSQL's
/// `pg_get_constraintdef` wraps a condition in two pairs). Casts and inner parentheses are left to
/// [`Spelling`], which has PostgreSQL spell the model's text itself.
pub(crate) fn normalize_sql(sql: &str) -> String {
    let mut out = String::new();
    let mut chars = sql.chars().peekable();
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut pending_space = false;
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        // One space only where two words would otherwise run together.
        if pending_space && out.chars().last().is_some_and(word) && word(c) {
            out.push(' ');
        }
        pending_space = false;
        match c {
            '\'' => {
                // A string literal, kept as written ('' is a quote inside it).
                out.push(c);
                while let Some(d) = chars.next() {
                    out.push(d);
                    if d == '\'' {
                        if chars.peek() == Some(&'\'') {
                            out.push(chars.next().unwrap_or('\''));
                        } else {
                            break;
                        }
                    }
                }
            }
            '"' => {}
            _ => out.extend(c.to_lowercase()),
        }
    }
    unwrap_parens(&out).to_string()
}

/// `sql` without the parentheses around the whole of it, however many pairs (`((a >= 0))` is
/// `a >= 0`; `(a) OR (b)` keeps its own).
fn unwrap_parens(sql: &str) -> &str {
    let mut sql = sql.trim();
    while let Some(inner) = sql.strip_prefix('(').and_then(|s| s.strip_suffix(')')) {
        if !balanced(inner) {
            break;
        }
        sql = inner.trim();
    }
    sql
}

/// Whether every `)` of `sql` closes a `(` before it (string literals aside), and all are closed.
fn balanced(sql: &str) -> bool {
    let mut depth = 0i32;
    let mut in_literal = false;
    for c in sql.chars() {
        match c {
            '\'' => in_literal = !in_literal,
            '(' if !in_literal => depth += 1,
            ')' if !in_literal => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

/// A model table's `CHECK` conditions (by constraint name) and column defaults (by column name)
/// as the database itself spells them, for comparing with what it reflects. Empty on SQLite,
/// which keeps the text as written; on PostgreSQL made by [`spelling`].
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Spelling {
    pub checks: Vec<(String, String)>,
    pub defaults: Vec<(String, String)>,
}

impl Spelling {
    /// The database's spelling of the check `name`, if it gave one.
    pub(crate) fn check(&self, name: &str) -> Option<&str> {
        self.checks
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s.as_str())
    }

    /// The database's spelling of the default of `column`, if it gave one.
    pub(crate) fn default_of(&self, column: &str) -> Option<&str> {
        self.defaults
            .iter()
            .find(|(n, _)| n == column)
            .map(|(_, s)| s.as_str())
    }
}

/// The [`Spelling`] of each model table that the database has, by table name: on PostgreSQL each
/// table's columns, defaults and checks are created once more as a temporary table (in a
/// transaction, dropped before it ends) and read back with the functions `reflect` uses
/// (`pg_get_constraintdef`, `pg_get_expr`), so both sides of the comparison are in PostgreSQL's
/// own words, as migra compares two schemas by their catalogs. A table PostgreSQL refuses to
/// create this way (a condition naming a column the model lacks, say) gets no spelling: its
/// model text is compared as written, so a difference is reported, never hidden, and the
/// upgrade then shows PostgreSQL's own error.
pub(crate) fn spelling(
    conn: &mut Conn<'_>,
    dialect: Dialect,
    tables: &[&Table],
    writer: &dyn SqlWriter,
) -> Vec<(String, Spelling)> {
    match dialect {
        Dialect::Sqlite => Vec::new(),
        Dialect::Postgres => tables
            .iter()
            .map(|t| {
                let spelled = conn.atomically(|conn| postgres::spelling(conn, t, writer));
                (t.name.to_string(), spelled.unwrap_or_default())
            })
            .collect(),
    }
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

/// Every table of the database except the catalog's own, the version table, and batch leftovers.
pub(crate) fn reflect(conn: &mut Conn<'_>, dialect: Dialect) -> Result<Vec<TableShape>> {
    match dialect {
        Dialect::Sqlite => reflect_sqlite(conn),
        Dialect::Postgres => postgres::reflect(conn),
    }
}

fn reflect_sqlite(conn: &mut Conn<'_>) -> Result<Vec<TableShape>> {
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
        "SELECT name, type, \"notnull\", pk, dflt_value FROM pragma_table_info(?) ORDER BY cid",
        &[name],
    )?
    .iter()
    .map(|r| ColumnShape {
        name: text(&r[0]),
        ty: normalize_type(&text(&r[1])),
        nullable: int(&r[2]) == 0,
        primary_key: int(&r[3]) > 0,
        default: Some(text(&r[4])).filter(|d| !d.is_empty()),
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
    let checks = sqlite_checks(&create_sql);
    Ok(TableShape {
        name: name.to_string(),
        create_sql,
        columns,
        uniques,
        indexes,
        foreign_keys,
        unique_names: Vec::new(),
        foreign_key_names: Vec::new(),
        checks,
    })
}

/// The named `CHECK` constraints of a table as SQLite keeps them: SQLite has no catalog of
/// constraints, only the `CREATE TABLE` text, so the `CONSTRAINT "name" CHECK (…)` clauses are
/// read from it (as SQLAlchemy's SQLite dialect does in `get_check_constraints`), the condition
/// running to its balanced closing parenthesis.
fn sqlite_checks(create_sql: &str) -> Vec<CheckShape> {
    let mut out = Vec::new();
    let upper = create_sql.to_ascii_uppercase();
    let mut from = 0;
    while let Some(at) = upper[from..].find("CONSTRAINT ").map(|i| i + from) {
        from = at + "CONSTRAINT ".len();
        let rest = &create_sql[from..];
        let (name, after) = match rest.strip_prefix('"') {
            Some(quoted) => match quoted.find('"') {
                Some(end) => (quoted[..end].to_string(), &quoted[end + 1..]),
                None => continue,
            },
            None => match rest.find(char::is_whitespace) {
                Some(end) => (rest[..end].to_string(), &rest[end..]),
                None => continue,
            },
        };
        let after = after.trim_start();
        if !after.to_ascii_uppercase().starts_with("CHECK") {
            continue;
        }
        let Some(open) = after.find('(') else {
            continue;
        };
        let mut depth = 0;
        let mut end = None;
        for (i, ch) in after[open..].char_indices() {
            match ch {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(open + i);
                        break;
                    }
                }
                _ => {}
            }
        }
        if let Some(end) = end {
            out.push(CheckShape {
                name,
                sqltext: after[open + 1..end].to_string(),
            });
        }
    }
    out.sort();
    out
}

/// The `CREATE INDEX` statements `create_all` runs for a model's table.
pub(crate) fn model_indexes(table: &Table, writer: &dyn SqlWriter) -> Vec<IndexShape> {
    table
        .all_indexes()
        .into_iter()
        .map(|(name, columns, unique)| {
            let stmt = Statement::CreateIndex {
                name: name.clone(),
                table: table.name.to_string(),
                columns: columns.clone(),
                unique,
                if_not_exists: false,
            };
            IndexShape {
                name,
                columns,
                unique,
                create_sql: writer.compile(&stmt).sql,
            }
        })
        .collect()
}

/// The shape `create_all` would give a model's table, as the catalog would then report it.
pub(crate) fn model_shape(table: &Table, writer: &dyn SqlWriter) -> TableShape {
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
            default: match &c.server_default {
                Some(sql) => Some(format!("({sql})")),
                None => c.default.as_ref().map(|d| writer.literal(d)),
            },
        })
        .collect();
    let mut uniques: Vec<Vec<String>> = table
        .columns
        .iter()
        .filter(|c| c.unique && !c.primary_key)
        .map(|c| vec![c.name.to_string()])
        .collect();
    // Table-level constraints go by the names they are written with.
    let unique_names: Vec<(Vec<String>, String)> = table
        .uniques
        .iter()
        .map(|u| {
            (
                u.columns.iter().map(|c| c.to_string()).collect(),
                u.name_in(&table.name),
            )
        })
        .collect();
    uniques.extend(unique_names.iter().map(|(c, _)| c.clone()));
    uniques.sort();
    let mut checks: Vec<CheckShape> = table
        .all_checks()
        .iter()
        .map(|c| CheckShape {
            name: c.name_in(&table.name),
            sqltext: c.sqltext.to_string(),
        })
        .collect();
    checks.sort();
    let on_delete_name = |action: Option<OnDelete>| {
        match action {
            None => "NO ACTION",
            Some(OnDelete::Cascade) => "CASCADE",
            Some(OnDelete::SetNull) => "SET NULL",
            Some(OnDelete::Restrict) => "RESTRICT",
        }
        .to_string()
    };
    let mut foreign_keys: Vec<ForeignKeyShape> = table
        .columns
        .iter()
        .filter_map(|c| {
            let fk = c.foreign_key.as_ref()?;
            Some(ForeignKeyShape {
                columns: vec![c.name.to_string()],
                table: fk.table.to_string(),
                referred: vec![fk.column.to_string()],
                on_delete: on_delete_name(fk.on_delete),
            })
        })
        .collect();
    // Table-level (multi-column) foreign keys, as the catalogs report them: one constraint with
    // its columns in order.
    foreign_keys.extend(table.foreign_keys.iter().map(|fk| ForeignKeyShape {
        columns: fk.columns.iter().map(|c| c.to_string()).collect(),
        table: fk.table.to_string(),
        referred: fk.referred.iter().map(|c| c.to_string()).collect(),
        on_delete: on_delete_name(fk.on_delete),
    }));
    foreign_keys.sort();
    TableShape {
        name: table.name.to_string(),
        create_sql,
        columns,
        uniques,
        indexes: model_indexes(table, writer),
        foreign_keys,
        unique_names,
        foreign_key_names: Vec::new(),
        checks,
    }
}

/// Reading PostgreSQL's catalog (`pg_catalog`, in the current schema) into the shapes SQLite's
/// catalog gives, so that one diff serves both databases. Types are spelled as the
/// `PostgresWriter` writes them (`character varying(50)` is `VARCHAR(50)`); PostgreSQL keeps no
/// `CREATE TABLE` text, so the one a dropped table comes back with is written from the catalog.
mod postgres {
    use super::{
        int, normalize_type, quote, text, unwrap_parens, CheckShape, ColumnShape, ForeignKeyShape,
        IndexShape, Spelling,
    };
    use super::{TableShape, VERSION_TABLE};
    use crate::core::writer::Out;
    use crate::core::{SqlWriter, Table};
    use crate::engine::Conn;
    use crate::error::Result;
    use crate::migrate::quote_list;
    use crate::value::{Value, ValueRef};

    fn query(conn: &mut Conn<'_>, sql: &str, params: &[ValueRef<'_>]) -> Result<Vec<Vec<Value>>> {
        Ok(conn.fetch_all(sql, params, None)?.rows)
    }

    /// `format_type`'s spelling as the writer's: `character varying(50)` → `VARCHAR(50)`,
    /// `timestamp without time zone` → `TIMESTAMP`, `bigint` → `BIGINT`.
    pub(super) fn type_name(formatted: &str) -> String {
        normalize_type(formatted)
            .replace("CHARACTER VARYING", "VARCHAR")
            .replace(" WITHOUT TIME ZONE", "")
            .replace("CHARACTER(", "CHAR(")
    }

    fn on_delete(code: &str) -> &'static str {
        match code {
            "r" => "RESTRICT",
            "c" => "CASCADE",
            "n" => "SET NULL",
            "d" => "SET DEFAULT",
            _ => "NO ACTION",
        }
    }

    /// Rows whose first column names a group (a constraint, an index), gathered in order.
    fn grouped(rows: Vec<Vec<Value>>) -> Vec<(String, Vec<Vec<Value>>)> {
        let mut out: Vec<(String, Vec<Vec<Value>>)> = Vec::new();
        for row in rows {
            let name = text(&row[0]);
            match out.last_mut() {
                Some((last, group)) if *last == name => group.push(row),
                _ => out.push((name, vec![row])),
            }
        }
        out
    }

    pub(super) fn reflect(conn: &mut Conn<'_>) -> Result<Vec<TableShape>> {
        let tables = query(
            conn,
            "SELECT c.oid, c.relname::text FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() AND c.relname <> $1 \
             AND c.relname NOT LIKE '\\_orm\\_batch\\_%' ORDER BY c.relname",
            &[ValueRef::Text(VERSION_TABLE)],
        )?;
        tables
            .iter()
            .map(|row| reflect_table(conn, int(&row[0]), &text(&row[1])))
            .collect()
    }

    fn reflect_table(conn: &mut Conn<'_>, oid: i64, name: &str) -> Result<TableShape> {
        let oid = [ValueRef::Integer(oid)];
        let mut identities = Vec::new();
        let columns: Vec<ColumnShape> = query(
            conn,
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, \
             a.attidentity::text, pg_get_expr(d.adbin, d.adrelid), \
             EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = a.attrelid \
                     AND i.indisprimary AND a.attnum = ANY (i.indkey)) \
             FROM pg_catalog.pg_attribute a \
             LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            &oid,
        )?
        .iter()
        .map(|r| {
            identities.push(text(&r[3]));
            ColumnShape {
                name: text(&r[0]),
                ty: type_name(&text(&r[1])),
                nullable: r[2] != Value::Bool(true),
                primary_key: r[5] == Value::Bool(true),
                default: Some(text(&r[4])).filter(|d| !d.is_empty()),
            }
        })
        .collect();
        let mut unique_names: Vec<(Vec<String>, String)> = grouped(query(
            conn,
            "SELECT con.conname::text, a.attname::text FROM pg_catalog.pg_constraint con \
             CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord) \
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum \
             WHERE con.conrelid = $1 AND con.contype = 'u' ORDER BY con.conname, k.ord",
            &oid,
        )?)
        .into_iter()
        .map(|(name, rows)| (rows.iter().map(|r| text(&r[1])).collect(), name))
        .collect();
        unique_names.sort();
        // Indexes made by CREATE INDEX: not those behind a primary key or UNIQUE constraint.
        let indexes = grouped(query(
            conn,
            "SELECT ic.relname::text, i.indisunique, pg_get_indexdef(i.indexrelid), a.attname::text, \
             i.indpred IS NOT NULL OR i.indexprs IS NOT NULL \
             FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid \
             CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
             LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
             WHERE i.indrelid = $1 AND NOT i.indisprimary AND NOT EXISTS ( \
               SELECT 1 FROM pg_catalog.pg_constraint c WHERE c.conindid = i.indexrelid \
               AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x')) \
             ORDER BY ic.relname, k.ord",
            &oid,
        )?)
        .into_iter()
        .map(|(index_name, rows)| {
            let columns: Vec<String> = rows.iter().map(|r| text(&r[3])).collect();
            let unique = rows[0][1] == Value::Bool(true);
            let plain = rows[0][4] != Value::Bool(true) && columns.iter().all(|c| !c.is_empty());
            // As the writer would say it when it can, else as PostgreSQL does.
            let create_sql = if plain {
                let list: Vec<String> = columns.iter().map(|c| quote(c)).collect();
                format!(
                    "CREATE {}INDEX {} ON {} ({})",
                    if unique { "UNIQUE " } else { "" },
                    quote(&index_name),
                    quote(name),
                    list.join(", ")
                )
            } else {
                text(&rows[0][2])
            };
            IndexShape {
                name: index_name,
                columns,
                unique,
                create_sql,
            }
        })
        .collect();
        let mut foreign_key_names: Vec<(ForeignKeyShape, String)> = grouped(query(
            conn,
            "SELECT con.conname::text, con.confdeltype::text, rc.relname::text, a.attname::text, \
             ra.attname::text FROM pg_catalog.pg_constraint con \
             JOIN pg_catalog.pg_class rc ON rc.oid = con.confrelid \
             CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(attnum, refnum, ord) \
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum \
             JOIN pg_catalog.pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = k.refnum \
             WHERE con.conrelid = $1 AND con.contype = 'f' ORDER BY con.conname, k.ord",
            &oid,
        )?)
        .into_iter()
        .map(|(constraint, rows)| {
            let fk = ForeignKeyShape {
                columns: rows.iter().map(|r| text(&r[3])).collect(),
                table: text(&rows[0][2]),
                referred: rows.iter().map(|r| text(&r[4])).collect(),
                on_delete: on_delete(&text(&rows[0][1])).to_string(),
            };
            (fk, constraint)
        })
        .collect();
        let mut checks: Vec<CheckShape> = query(
            conn,
            "SELECT con.conname::text, pg_get_constraintdef(con.oid) FROM pg_catalog.pg_constraint con \
             WHERE con.conrelid = $1 AND con.contype = 'c' ORDER BY con.conname",
            &oid,
        )?
        .iter()
        .map(|r| CheckShape {
            name: text(&r[0]),
            sqltext: check_condition(&text(&r[1])),
        })
        .collect();
        checks.sort();
        foreign_key_names.sort();
        let mut shape = TableShape {
            name: name.to_string(),
            create_sql: String::new(),
            columns,
            uniques: unique_names.iter().map(|(c, _)| c.clone()).collect(),
            indexes,
            foreign_keys: foreign_key_names.iter().map(|(f, _)| f.clone()).collect(),
            unique_names,
            foreign_key_names,
            checks,
        };
        shape.create_sql = create_table(&shape, &identities);
        Ok(shape)
    }

    /// `CHECK ((age >= 0))`, as `pg_get_constraintdef` gives it: the condition without the
    /// parentheses around it, `age >= 0`.
    fn check_condition(def: &str) -> String {
        unwrap_parens(def.trim_start_matches("CHECK")).to_string()
    }

    /// The temporary table [`spelling`] creates and drops.
    const PROBE: &str = "_orm_spelling";

    /// A model table's checks and defaults as PostgreSQL spells them: its columns (types and
    /// defaults only: no key, `UNIQUE` or reference, which a temporary table could not keep)
    /// and its named checks, created as a temporary table, read back and dropped. Run inside a
    /// transaction, so that a refused statement leaves nothing behind.
    pub(super) fn spelling(
        conn: &mut Conn<'_>,
        table: &Table,
        writer: &dyn SqlWriter,
    ) -> Result<Spelling> {
        let mut out = Out {
            sql: format!("CREATE TEMPORARY TABLE {} (", quote(PROBE)),
            params: Vec::new(),
            placeholders: 0,
        };
        for (i, column) in table.columns.iter().enumerate() {
            let mut def = column.clone();
            def.primary_key = false;
            def.autoincrement = false;
            def.unique = false;
            def.foreign_key = None;
            if i > 0 {
                out.sql.push_str(", ");
            }
            writer.write_column_def(&def, &mut out);
        }
        for check in table.all_checks() {
            out.sql.push_str(&format!(
                ", CONSTRAINT {} CHECK ({})",
                quote(&check.name_in(&table.name)),
                check.sqltext
            ));
        }
        out.sql.push(')');
        conn.execute(&out.sql, &[], None)?;
        let probe = [ValueRef::Text("pg_temp._orm_spelling")];
        let checks = query(
            conn,
            "SELECT con.conname::text, pg_get_constraintdef(con.oid) \
             FROM pg_catalog.pg_constraint con \
             WHERE con.conrelid = $1::text::regclass AND con.contype = 'c'",
            &probe,
        )?
        .iter()
        .map(|r| (text(&r[0]), check_condition(&text(&r[1]))))
        .collect();
        let defaults = query(
            conn,
            "SELECT a.attname::text, pg_get_expr(d.adbin, d.adrelid) FROM pg_catalog.pg_attrdef d \
             JOIN pg_catalog.pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum \
             WHERE d.adrelid = $1::text::regclass",
            &probe,
        )?
        .iter()
        .map(|r| (text(&r[0]), text(&r[1])))
        .collect();
        conn.execute(&format!("DROP TABLE pg_temp.{}", quote(PROBE)), &[], None)?;
        Ok(Spelling { checks, defaults })
    }

    /// A `CREATE TABLE` that makes the table the catalog describes (PostgreSQL keeps none), with
    /// its constraints under the names they have.
    fn create_table(shape: &TableShape, identities: &[String]) -> String {
        let keys: Vec<&ColumnShape> = shape.columns.iter().filter(|c| c.primary_key).collect();
        let mut parts: Vec<String> = shape
            .columns
            .iter()
            .zip(identities)
            .map(|(c, identity)| {
                let mut def = format!("{} {}", quote(&c.name), c.ty);
                match identity.as_str() {
                    "a" => def.push_str(" GENERATED ALWAYS AS IDENTITY"),
                    "d" => def.push_str(" GENERATED BY DEFAULT AS IDENTITY"),
                    _ => {}
                }
                if c.primary_key && keys.len() == 1 {
                    def.push_str(" PRIMARY KEY");
                } else if !c.nullable {
                    def.push_str(" NOT NULL");
                }
                if let Some(default) = &c.default {
                    def.push_str(" DEFAULT ");
                    def.push_str(default);
                }
                def
            })
            .collect();
        if keys.len() > 1 {
            let names: Vec<String> = keys.iter().map(|c| c.name.clone()).collect();
            parts.push(format!("PRIMARY KEY ({})", quote_list(&names)));
        }
        for (columns, name) in &shape.unique_names {
            parts.push(format!(
                "CONSTRAINT {} UNIQUE ({})",
                quote(name),
                quote_list(columns)
            ));
        }
        for (fk, name) in &shape.foreign_key_names {
            parts.push(format!(
                "CONSTRAINT {} {}",
                quote(name),
                foreign_key_clause(fk)
            ));
        }
        for check in &shape.checks {
            parts.push(format!(
                "CONSTRAINT {} CHECK ({})",
                quote(&check.name),
                check.sqltext
            ));
        }
        format!(
            "CREATE TABLE {} (\n  {}\n)",
            quote(&shape.name),
            parts.join(",\n  ")
        )
    }

    /// `FOREIGN KEY ("a") REFERENCES "t"("b") ON DELETE …`, as the writer says it.
    pub(crate) fn foreign_key_clause(fk: &ForeignKeyShape) -> String {
        let mut out = format!(
            "FOREIGN KEY ({}) REFERENCES {}({})",
            quote_list(&fk.columns),
            quote(&fk.table),
            quote_list(&fk.referred)
        );
        if fk.on_delete != "NO ACTION" {
            out.push_str(" ON DELETE ");
            out.push_str(&fk.on_delete);
        }
        out
    }
}

pub(crate) use postgres::foreign_key_clause;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_compares_without_spacing_case_quotes_or_outer_parentheses() {
        assert_eq!(normalize_sql("((age >= 0))"), "age>=0");
        assert_eq!(normalize_sql("\"Age\"  >=\n 0"), "age>=0");
        assert_eq!(normalize_sql("(a) OR (b)"), "(a)or(b)");
        assert_eq!(normalize_sql("x IS NOT NULL"), "x is not null");
        // Literals keep their case and spaces; a quote inside one does not end it.
        assert_eq!(normalize_sql("s = 'It''s  A'"), "s='It''s  A'");
        assert_ne!(normalize_sql("age >= 0"), normalize_sql("age >= 18"));
        assert_ne!(normalize_sql("'Draft'"), normalize_sql("'draft'"));
    }

    #[test]
    fn types_compare_without_case_or_spacing() {
        assert_eq!(normalize_type("varchar (50)"), "VARCHAR(50)");
        assert_eq!(normalize_type("NUMERIC( 10 , 2 )"), "NUMERIC(10,2)");
        assert_eq!(normalize_type(" double  precision "), "DOUBLE PRECISION");
    }

    #[test]
    fn postgres_types_are_spelled_as_the_writer_spells_them() {
        assert_eq!(postgres::type_name("character varying(50)"), "VARCHAR(50)");
        assert_eq!(postgres::type_name("character varying"), "VARCHAR");
        assert_eq!(
            postgres::type_name("timestamp without time zone"),
            "TIMESTAMP"
        );
        assert_eq!(postgres::type_name("time without time zone"), "TIME");
        assert_eq!(postgres::type_name("double precision"), "DOUBLE PRECISION");
        assert_eq!(postgres::type_name("bigint"), "BIGINT");
        assert_eq!(postgres::type_name("jsonb"), "JSONB");
    }
}
