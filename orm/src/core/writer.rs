//! Turning statements into SQL text: one trait whose defaults write standard SQL, and one writer
//! per dialect that overrides only what its database does differently (the sea-query shape): the
//! expression tree never knows the dialect.

use super::expr::{Expr, OrderBy};
use super::schema::{ColumnDef, Literal, OnDelete, Table};
use super::statement::{FromItem, Insert, JoinKind, Select, Statement};
use crate::value::{ColumnType, Value};

/// A statement written for one dialect: the text and the values to bind, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    pub sql: String,
    pub params: Vec<Value>,
}

/// Writes the expression tree as SQL. Every method has a standard-SQL default.
pub trait SqlWriter {
    /// Identifiers are always quoted, so a column may be called `order` or `select`.
    fn quote(&self, ident: &str, out: &mut String) {
        out.push('"');
        if ident.contains('"') {
            out.push_str(&ident.replace('"', "\"\""));
        } else {
            // The usual case, without the allocation `replace` makes.
            out.push_str(ident);
        }
        out.push('"');
    }

    /// The text for the `n`-th parameter (1-based).
    fn placeholder(&self, _n: usize, out: &mut String) {
        out.push('?');
    }

    fn column_type(&self, ty: ColumnType) -> String {
        match ty {
            ColumnType::Integer => "INTEGER".into(),
            ColumnType::Float => "FLOAT".into(),
            ColumnType::String(Some(n)) => format!("VARCHAR({n})"),
            ColumnType::String(None) => "VARCHAR".into(),
            ColumnType::Text => "TEXT".into(),
            ColumnType::Boolean => "BOOLEAN".into(),
            ColumnType::DateTime => "TIMESTAMP".into(),
            ColumnType::Date => "DATE".into(),
            ColumnType::Time => "TIME".into(),
            ColumnType::Json => "JSON".into(),
            ColumnType::Blob => "BLOB".into(),
        }
    }

    /// The column's type and key words for an auto-assigned integer primary key.
    fn primary_key_column(&self, column: &ColumnDef) -> String {
        format!("{} NOT NULL PRIMARY KEY", self.column_type(column.ty))
    }

    /// Whether an `INSERT` must say `RETURNING key` to learn a generated key (else the driver
    /// reports it, as SQLite's `last_insert_rowid` does).
    fn returns_generated_keys(&self) -> bool {
        true
    }

    fn literal(&self, value: &Literal) -> String {
        match value {
            Literal::Integer(v) => v.to_string(),
            Literal::Float(v) => v.to_string(),
            Literal::Text(t) => format!("'{}'", t.replace('\'', "''")),
            Literal::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
        }
    }

    fn compile(&self, stmt: &Statement) -> Compiled {
        let mut w = Out {
            sql: String::new(),
            params: Vec::new(),
            placeholders: 0,
        };
        self.write_statement(stmt, &mut w);
        Compiled {
            sql: w.sql,
            params: w.params,
        }
    }

    /// `compile` for a `SELECT` the caller holds by reference (no copy into a `Statement`).
    fn compile_select(&self, select: &Select) -> Compiled {
        let mut w = Out {
            sql: String::new(),
            params: Vec::new(),
            placeholders: 0,
        };
        self.write_select(select, &mut w);
        Compiled {
            sql: w.sql,
            params: w.params,
        }
    }

    fn expr_to_sql(&self, expr: &Expr) -> Compiled {
        let mut w = Out {
            sql: String::new(),
            params: Vec::new(),
            placeholders: 0,
        };
        self.write_expr(expr, &mut w);
        Compiled {
            sql: w.sql,
            params: w.params,
        }
    }

    fn write_statement(&self, stmt: &Statement, w: &mut Out) {
        match stmt {
            Statement::Select(s) => self.write_select(s, w),
            Statement::Insert(i) => self.write_insert(i, w),
            Statement::Update(u) => {
                w.sql.push_str("UPDATE ");
                self.quote(&u.table, &mut w.sql);
                w.sql.push_str(" SET ");
                for (i, (col, value)) in u.set.iter().enumerate() {
                    if i > 0 {
                        w.sql.push_str(", ");
                    }
                    self.quote(col, &mut w.sql);
                    w.sql.push_str(" = ");
                    self.write_expr(value, w);
                }
                self.write_where(u.filter.as_ref(), w);
            }
            Statement::Delete(d) => {
                w.sql.push_str("DELETE FROM ");
                self.quote(&d.table, &mut w.sql);
                self.write_where(d.filter.as_ref(), w);
            }
            Statement::CreateTable {
                table,
                if_not_exists,
            } => self.write_create_table(table, *if_not_exists, w),
            Statement::DropTable { name, if_exists } => {
                w.sql.push_str(if *if_exists {
                    "DROP TABLE IF EXISTS "
                } else {
                    "DROP TABLE "
                });
                self.quote(name, &mut w.sql);
            }
            Statement::CreateIndex {
                name,
                table,
                columns,
                unique,
                if_not_exists,
            } => {
                w.sql.push_str(if *unique {
                    "CREATE UNIQUE INDEX "
                } else {
                    "CREATE INDEX "
                });
                if *if_not_exists {
                    w.sql.push_str("IF NOT EXISTS ");
                }
                self.quote(name, &mut w.sql);
                w.sql.push_str(" ON ");
                self.quote(table, &mut w.sql);
                w.sql.push_str(" (");
                self.write_ident_list(&columns.iter().map(String::as_str).collect::<Vec<_>>(), w);
                w.sql.push(')');
            }
            Statement::DropIndex { name, if_exists } => {
                w.sql.push_str(if *if_exists {
                    "DROP INDEX IF EXISTS "
                } else {
                    "DROP INDEX "
                });
                self.quote(name, &mut w.sql);
            }
            Statement::Raw { sql, params } => {
                self.write_raw(sql, w);
                w.params.extend(params.iter().cloned());
            }
        }
    }

    /// One expression of `GROUP BY` or `ORDER BY`.
    fn write_group_or_order_item(&self, _select: &Select, expr: &Expr, w: &mut Out) {
        self.write_expr(expr, w);
    }

    /// SQL written by hand (`text(…)`), whose parameters are `?`.
    fn write_raw(&self, sql: &str, w: &mut Out) {
        w.sql.push_str(sql);
    }

    fn write_ident_list(&self, names: &[&str], w: &mut Out) {
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                w.sql.push_str(", ");
            }
            self.quote(name, &mut w.sql);
        }
    }

    fn write_create_table(&self, table: &Table, if_not_exists: bool, w: &mut Out) {
        w.sql.push_str(if if_not_exists {
            "CREATE TABLE IF NOT EXISTS "
        } else {
            "CREATE TABLE "
        });
        self.quote(&table.name, &mut w.sql);
        w.sql.push_str(" (");
        for (i, col) in table.columns.iter().enumerate() {
            w.sql.push_str(if i > 0 { ",\n  " } else { "\n  " });
            self.write_column_def(col, w);
        }
        for col in table.columns.iter() {
            if let Some(fk) = &col.foreign_key {
                w.sql.push_str(",\n  FOREIGN KEY (");
                self.quote(&col.name, &mut w.sql);
                w.sql.push_str(") REFERENCES ");
                self.quote(&fk.table, &mut w.sql);
                w.sql.push('(');
                self.quote(&fk.column, &mut w.sql);
                w.sql.push(')');
                match fk.on_delete {
                    Some(OnDelete::Cascade) => w.sql.push_str(" ON DELETE CASCADE"),
                    Some(OnDelete::SetNull) => w.sql.push_str(" ON DELETE SET NULL"),
                    Some(OnDelete::Restrict) => w.sql.push_str(" ON DELETE RESTRICT"),
                    None => {}
                }
            }
        }
        w.sql.push_str("\n)");
    }

    fn write_column_def(&self, col: &ColumnDef, w: &mut Out) {
        self.quote(&col.name, &mut w.sql);
        w.sql.push(' ');
        if col.primary_key && col.autoincrement {
            w.sql.push_str(&self.primary_key_column(col));
        } else {
            w.sql.push_str(&self.column_type(col.ty));
            if !col.nullable {
                w.sql.push_str(" NOT NULL");
            }
            if col.primary_key {
                w.sql.push_str(" PRIMARY KEY");
            }
        }
        if col.unique && !col.primary_key {
            w.sql.push_str(" UNIQUE");
        }
        if let Some(default) = &col.default {
            w.sql.push_str(" DEFAULT ");
            w.sql.push_str(&self.literal(default));
        }
    }

    fn write_insert(&self, ins: &Insert, w: &mut Out) {
        w.sql.push_str("INSERT INTO ");
        self.quote(&ins.table, &mut w.sql);
        if ins.columns.is_empty() {
            w.sql.push_str(" DEFAULT VALUES");
        } else {
            w.sql.push_str(" (");
            self.write_ident_list(
                &ins.columns.iter().map(|c| c.as_ref()).collect::<Vec<_>>(),
                w,
            );
            w.sql.push_str(") VALUES ");
            for (r, row) in ins.rows.iter().enumerate() {
                w.sql.push_str(if r > 0 { ", (" } else { "(" });
                for (i, v) in row.iter().enumerate() {
                    if i > 0 {
                        w.sql.push_str(", ");
                    }
                    self.write_expr(v, w);
                }
                w.sql.push(')');
            }
        }
        if let Some(column) = &ins.returning {
            w.sql.push_str(" RETURNING ");
            self.quote(column, &mut w.sql);
        }
    }

    fn write_select(&self, s: &Select, w: &mut Out) {
        w.sql.push_str(if s.distinct {
            "SELECT DISTINCT "
        } else {
            "SELECT "
        });
        if s.columns.is_empty() {
            w.sql.push('*');
        }
        for (i, item) in s.columns.iter().enumerate() {
            if i > 0 {
                w.sql.push_str(", ");
            }
            self.write_expr(&item.expr, w);
            if let Some(alias) = &item.alias {
                w.sql.push_str(" AS ");
                self.quote(alias, &mut w.sql);
            }
        }
        for (i, item) in s.from.iter().enumerate() {
            w.sql.push_str(if i == 0 { " FROM " } else { ", " });
            match item {
                FromItem::Table(t) => self.quote(t, &mut w.sql),
                FromItem::Subquery { select, alias } => {
                    w.sql.push('(');
                    self.write_select(select, w);
                    w.sql.push_str(") AS ");
                    self.quote(alias, &mut w.sql);
                }
            }
        }
        for join in &s.joins {
            w.sql.push_str(match join.kind {
                JoinKind::Inner => " JOIN ",
                JoinKind::LeftOuter => " LEFT OUTER JOIN ",
            });
            self.quote(&join.table, &mut w.sql);
            w.sql.push_str(" ON ");
            self.write_expr(&join.on, w);
        }
        self.write_where(s.filter.as_ref(), w);
        if !s.group_by.is_empty() {
            w.sql.push_str(" GROUP BY ");
            for (i, e) in s.group_by.iter().enumerate() {
                if i > 0 {
                    w.sql.push_str(", ");
                }
                self.write_group_or_order_item(s, e, w);
            }
        }
        if let Some(h) = &s.having {
            w.sql.push_str(" HAVING ");
            self.write_expr(h, w);
        }
        if !s.order_by.is_empty() {
            w.sql.push_str(" ORDER BY ");
            for (i, OrderBy { expr, descending }) in s.order_by.iter().enumerate() {
                if i > 0 {
                    w.sql.push_str(", ");
                }
                self.write_group_or_order_item(s, expr, w);
                w.sql.push_str(if *descending { " DESC" } else { " ASC" });
            }
        }
        self.write_limit(s.limit, s.offset, w);
    }

    fn write_limit(&self, limit: Option<u64>, offset: Option<u64>, w: &mut Out) {
        use std::fmt::Write as _;
        // Writing into a String cannot fail.
        if let Some(l) = limit {
            let _ = write!(w.sql, " LIMIT {l}");
        }
        if let Some(o) = offset {
            let _ = write!(w.sql, " OFFSET {o}");
        }
    }

    fn write_where(&self, filter: Option<&Expr>, w: &mut Out) {
        if let Some(f) = filter {
            w.sql.push_str(" WHERE ");
            self.write_expr(f, w);
        }
    }

    fn write_expr(&self, expr: &Expr, w: &mut Out) {
        match expr {
            Expr::Column { table, name } => {
                if let Some(t) = table {
                    self.quote(t, &mut w.sql);
                    w.sql.push('.');
                }
                self.quote(name, &mut w.sql);
            }
            Expr::Value(v) => {
                w.params.push(v.clone());
                w.placeholders += 1;
                self.placeholder(w.placeholders, &mut w.sql);
            }
            Expr::Placeholder => {
                w.placeholders += 1;
                self.placeholder(w.placeholders, &mut w.sql);
            }
            Expr::Star => w.sql.push('*'),
            Expr::Binary { left, op, right } => {
                self.write_operand(left, w);
                w.sql.push(' ');
                w.sql.push_str(op.sql());
                w.sql.push(' ');
                self.write_operand(right, w);
            }
            Expr::And(parts) | Expr::Or(parts) => {
                let (joiner, empty) = if matches!(expr, Expr::And(_)) {
                    (" AND ", "1 = 1")
                } else {
                    (" OR ", "1 = 0")
                };
                if parts.is_empty() {
                    w.sql.push_str(empty);
                }
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        w.sql.push_str(joiner);
                    }
                    self.write_operand(p, w);
                }
            }
            Expr::Not(inner) => {
                w.sql.push_str("NOT ");
                self.write_operand(inner, w);
            }
            Expr::IsNull { expr, negated } => {
                self.write_operand(expr, w);
                w.sql
                    .push_str(if *negated { " IS NOT NULL" } else { " IS NULL" });
            }
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                self.write_operand(expr, w);
                w.sql.push_str(if *negated { " NOT IN (" } else { " IN (" });
                for (i, v) in list.iter().enumerate() {
                    if i > 0 {
                        w.sql.push_str(", ");
                    }
                    self.write_expr(v, w);
                }
                w.sql.push(')');
            }
            Expr::InSelect {
                expr,
                select,
                negated,
            } => {
                self.write_operand(expr, w);
                w.sql.push_str(if *negated { " NOT IN (" } else { " IN (" });
                self.write_select(select, w);
                w.sql.push(')');
            }
            Expr::Between { expr, low, high } => {
                self.write_operand(expr, w);
                w.sql.push_str(" BETWEEN ");
                self.write_operand(low, w);
                w.sql.push_str(" AND ");
                self.write_operand(high, w);
            }
            Expr::Like {
                expr,
                pattern,
                case_insensitive,
                negated,
            } => self.write_like(expr, pattern, *case_insensitive, *negated, w),
            Expr::Function {
                name,
                args,
                distinct,
            } => {
                w.sql.push_str(name);
                w.sql.push('(');
                if *distinct {
                    w.sql.push_str("DISTINCT ");
                }
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        w.sql.push_str(", ");
                    }
                    self.write_expr(a, w);
                }
                w.sql.push(')');
            }
            Expr::Exists(select) => {
                w.sql.push_str("EXISTS (");
                self.write_select(select, w);
                w.sql.push(')');
            }
        }
    }

    fn write_like(
        &self,
        expr: &Expr,
        pattern: &Expr,
        case_insensitive: bool,
        negated: bool,
        w: &mut Out,
    ) {
        self.write_operand(expr, w);
        w.sql.push_str(match (negated, case_insensitive) {
            (false, false) => " LIKE ",
            (true, false) => " NOT LIKE ",
            (false, true) => " ILIKE ",
            (true, true) => " NOT ILIKE ",
        });
        self.write_operand(pattern, w);
        w.sql.push_str(" ESCAPE '\\'");
    }

    /// Compound operands get parentheses so precedence never depends on the dialect.
    fn write_operand(&self, expr: &Expr, w: &mut Out) {
        let compound = matches!(
            expr,
            Expr::Binary { .. }
                | Expr::And(_)
                | Expr::Or(_)
                | Expr::Not(_)
                | Expr::IsNull { .. }
                | Expr::InList { .. }
                | Expr::Between { .. }
                | Expr::Like { .. }
        );
        if compound {
            w.sql.push('(');
            self.write_expr(expr, w);
            w.sql.push(')');
        } else {
            self.write_expr(expr, w);
        }
    }
}

/// The text being written and the parameters collected so far.
pub struct Out {
    pub sql: String,
    pub params: Vec<Value>,
    pub placeholders: usize,
}

/// SQLite: `?` parameters, rowid primary keys, `LIKE` already case-insensitive for ASCII.
#[derive(Debug, Clone, Copy, Default)]
pub struct SqliteWriter;

impl SqlWriter for SqliteWriter {
    fn returns_generated_keys(&self) -> bool {
        // The rowid is there after every INSERT without asking.
        false
    }

    fn primary_key_column(&self, _column: &ColumnDef) -> String {
        // `INTEGER PRIMARY KEY` makes the column the rowid: SQLite assigns it, and it is an i64.
        "INTEGER NOT NULL PRIMARY KEY".into()
    }

    fn literal(&self, value: &Literal) -> String {
        match value {
            Literal::Bool(b) => (*b as i64).to_string(),
            other => Standard.literal(other),
        }
    }

    fn write_like(
        &self,
        expr: &Expr,
        pattern: &Expr,
        _case_insensitive: bool,
        negated: bool,
        w: &mut Out,
    ) {
        Standard.write_like(expr, pattern, false, negated, w)
    }

    fn write_limit(&self, limit: Option<u64>, offset: Option<u64>, w: &mut Out) {
        // SQLite's grammar has no OFFSET without LIMIT; -1 is its "no limit" (as SQLAlchemy writes).
        let limit = match (limit, offset) {
            (None, Some(_)) => {
                w.sql.push_str(" LIMIT -1");
                None
            }
            (limit, _) => limit,
        };
        Standard.write_limit(limit, offset, w)
    }
}

/// The trait's defaults, reachable from an override that only adjusts one case.
struct Standard;
impl SqlWriter for Standard {}

/// PostgreSQL: `$n` parameters, identity columns and `RETURNING` for generated keys, 64-bit
/// integers (Rust's `i64`), `DOUBLE PRECISION`, `JSONB`, `BYTEA`, and `ILIKE` when asked.
#[derive(Debug, Clone, Copy, Default)]
pub struct PostgresWriter;

impl SqlWriter for PostgresWriter {
    fn placeholder(&self, n: usize, out: &mut String) {
        out.push('$');
        out.push_str(&n.to_string());
    }

    fn column_type(&self, ty: ColumnType) -> String {
        match ty {
            ColumnType::Integer => "BIGINT".into(),
            ColumnType::Float => "DOUBLE PRECISION".into(),
            ColumnType::Json => "JSONB".into(),
            ColumnType::Blob => "BYTEA".into(),
            other => Standard.column_type(other),
        }
    }

    fn primary_key_column(&self, column: &ColumnDef) -> String {
        // `BY DEFAULT`, not `ALWAYS`: a row may still be given its key, as on SQLite.
        format!(
            "{} GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            self.column_type(column.ty)
        )
    }

    /// `SELECT age % $1 … GROUP BY age % $2` is refused by PostgreSQL (two parameters, so two
    /// different expressions to it): an item of `GROUP BY` or `ORDER BY` with parameters that is
    /// also in the select list is written as its position there, which means the same.
    fn write_group_or_order_item(&self, select: &Select, expr: &Expr, w: &mut Out) {
        let has_parameters = |e: &Expr| !Standard.expr_to_sql(e).params.is_empty();
        match select.columns.iter().position(|item| &item.expr == expr) {
            Some(position) if has_parameters(expr) => {
                w.sql.push_str(&(position + 1).to_string());
            }
            _ => self.write_expr(expr, w),
        }
    }

    /// Hand-written SQL uses `?` on every engine; PostgreSQL numbers its parameters. A `?` inside
    /// a quoted string or identifier is left alone.
    fn write_raw(&self, sql: &str, w: &mut Out) {
        let mut quote: Option<char> = None;
        for c in sql.chars() {
            match (quote, c) {
                (None, '?') => {
                    w.placeholders += 1;
                    self.placeholder(w.placeholders, &mut w.sql);
                    continue;
                }
                (None, '\'' | '"') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                _ => {}
            }
            w.sql.push(c);
        }
    }
}
