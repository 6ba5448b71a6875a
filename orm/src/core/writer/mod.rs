//! Turning statements into SQL text: one trait whose defaults write standard SQL, and one writer
//! per dialect that overrides only what its database does differently (the sea-query shape): the
//! expression tree never knows the dialect. [`StandardWriter`] is the trait's defaults alone: what
//! `Display` and `to_sql()` use when no engine says which database the SQL is for.

mod postgres;
mod sqlite;

pub use postgres::PostgresWriter;
pub use sqlite::SqliteWriter;

use super::expr::{Expr, OrderBy};
use super::schema::{ColumnDef, Literal, OnDelete, Table};
use super::statement::{
    ConflictAction, FromItem, Insert, JoinKind, Select, Statement, TextClause, TextPart, Upsert,
};
use super::subquery::Cte;
use crate::value::{ColumnType, Value};

/// A statement written for one dialect: the text and the values to bind, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    /// The SQL text.
    pub sql: String,
    /// The values of its parameters, in order.
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

    /// The SQL spelling of a column type.
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

    /// Whether a list of row values is matched as `(a, b) IN (VALUES (?, ?), …)` (SQLite, whose
    /// `(a, b) IN ((?, ?), …)` matches nothing) rather than `(a, b) IN (($1, $2), …)`
    /// (PostgreSQL, where a `VALUES` list of parameters would be typed `text` and the
    /// comparison refused).
    fn row_values_in_values_list(&self) -> bool {
        true
    }

    /// A default value written into DDL.
    fn literal(&self, value: &Literal) -> String {
        match value {
            Literal::Integer(v) => v.to_string(),
            Literal::Float(v) => v.to_string(),
            Literal::Text(t) => format!("'{}'", t.replace('\'', "''")),
            Literal::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
        }
    }

    /// The statement as SQL text and parameters.
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

    /// An expression alone as SQL text and parameters (what `Display` shows).
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

    /// Writes any statement.
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
            Statement::Text(text) => self.write_text(text, w),
            Statement::Upsert(upsert) => self.write_upsert(upsert, w),
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

    /// `text()` with its `:name` parameters as this dialect's placeholders, values in order of
    /// use (a name used twice is bound twice). A name without a value is left to
    /// [`Statement::check`], which runs before any statement does.
    fn write_text(&self, text: &TextClause, w: &mut Out) {
        for part in text.parts() {
            match part {
                TextPart::Sql(sql) => w.sql.push_str(sql),
                TextPart::Param(name) => {
                    if let Some(value) = text.value(name) {
                        w.params.push(value.clone());
                    }
                    w.placeholders += 1;
                    self.placeholder(w.placeholders, &mut w.sql);
                }
            }
        }
    }

    /// Quoted names separated by commas.
    fn write_ident_list(&self, names: &[&str], w: &mut Out) {
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                w.sql.push_str(", ");
            }
            self.quote(name, &mut w.sql);
        }
    }

    /// `CREATE TABLE` with columns and foreign keys.
    fn write_create_table(&self, table: &Table, if_not_exists: bool, w: &mut Out) {
        w.sql.push_str(if if_not_exists {
            "CREATE TABLE IF NOT EXISTS "
        } else {
            "CREATE TABLE "
        });
        self.quote(&table.name, &mut w.sql);
        w.sql.push_str(" (");
        // A composite key is a table constraint, after the columns (as SQLAlchemy writes it);
        // its columns are NOT NULL and none is assigned by the database.
        let keys: Vec<&str> = table
            .columns
            .iter()
            .filter(|c| c.primary_key)
            .map(|c| c.name.as_ref())
            .collect();
        for (i, col) in table.columns.iter().enumerate() {
            w.sql.push_str(if i > 0 { ",\n  " } else { "\n  " });
            if col.primary_key && keys.len() > 1 {
                let mut part = col.clone();
                part.primary_key = false;
                part.autoincrement = false;
                part.nullable = false;
                self.write_column_def(&part, w);
            } else {
                self.write_column_def(col, w);
            }
        }
        if keys.len() > 1 {
            w.sql.push_str(",\n  PRIMARY KEY (");
            self.write_ident_list(&keys, w);
            w.sql.push(')');
        }
        // Table constraints under their names (given, or the naming convention's), as
        // SQLAlchemy writes `UniqueConstraint` and `CheckConstraint`.
        for unique in table.uniques.iter() {
            w.sql.push_str(",\n  CONSTRAINT ");
            self.quote(&unique.name_in(&table.name), &mut w.sql);
            w.sql.push_str(" UNIQUE (");
            let names: Vec<&str> = unique.columns.iter().map(|c| c.as_ref()).collect();
            self.write_ident_list(&names, w);
            w.sql.push(')');
        }
        for check in table.all_checks().iter() {
            w.sql.push_str(",\n  CONSTRAINT ");
            self.quote(&check.name_in(&table.name), &mut w.sql);
            w.sql.push_str(" CHECK (");
            w.sql.push_str(&check.sqltext);
            w.sql.push(')');
        }
        for col in table.columns.iter() {
            if let Some(fk) = &col.foreign_key {
                self.write_foreign_key(&[&col.name], &fk.table, &[&fk.column], fk.on_delete, w);
            }
        }
        // Table-level foreign keys (SQLAlchemy's `ForeignKeyConstraint`), after the columns'.
        for fk in table.foreign_keys.iter() {
            let columns: Vec<&str> = fk.columns.iter().map(|c| c.as_ref()).collect();
            let referred: Vec<&str> = fk.referred.iter().map(|c| c.as_ref()).collect();
            self.write_foreign_key(&columns, &fk.table, &referred, fk.on_delete, w);
        }
        w.sql.push_str("\n)");
    }

    /// `,\n  FOREIGN KEY (a, b) REFERENCES "parent"(x, y) [ON DELETE …]`, a table constraint of
    /// `CREATE TABLE`.
    fn write_foreign_key(
        &self,
        columns: &[&str],
        table: &str,
        referred: &[&str],
        on_delete: Option<OnDelete>,
        w: &mut Out,
    ) {
        w.sql.push_str(",\n  FOREIGN KEY (");
        self.write_ident_list(columns, w);
        w.sql.push_str(") REFERENCES ");
        self.quote(table, &mut w.sql);
        w.sql.push('(');
        self.write_ident_list(referred, w);
        w.sql.push(')');
        match on_delete {
            Some(OnDelete::Cascade) => w.sql.push_str(" ON DELETE CASCADE"),
            Some(OnDelete::SetNull) => w.sql.push_str(" ON DELETE SET NULL"),
            Some(OnDelete::Restrict) => w.sql.push_str(" ON DELETE RESTRICT"),
            None => {}
        }
    }

    /// One column of `CREATE TABLE`.
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
        if let Some(sql) = &col.server_default {
            // Parenthesised: SQLite takes any expression as a default only in parentheses.
            w.sql.push_str(" DEFAULT (");
            w.sql.push_str(sql);
            w.sql.push(')');
        } else if let Some(default) = &col.default {
            w.sql.push_str(" DEFAULT ");
            w.sql.push_str(&self.literal(default));
        }
    }

    /// `INSERT INTO … VALUES … [RETURNING …]`.
    fn write_insert(&self, ins: &Insert, w: &mut Out) {
        self.write_insert_rows(ins, w);
        self.write_returning(ins, w);
    }

    /// `INSERT … ON CONFLICT (…) DO NOTHING | DO UPDATE SET … [WHERE …]`, the same words on
    /// SQLite (3.24 and later) and PostgreSQL.
    fn write_upsert(&self, upsert: &Upsert, w: &mut Out) {
        self.write_insert_rows(&upsert.insert, w);
        w.sql.push_str(" ON CONFLICT");
        if !upsert.target.is_empty() {
            w.sql.push_str(" (");
            let names: Vec<&str> = upsert.target.iter().map(|c| c.as_ref()).collect();
            self.write_ident_list(&names, w);
            w.sql.push(')');
        }
        match &upsert.action {
            // Nothing to set is nothing to do (`DO UPDATE SET` with no column is invalid).
            ConflictAction::Update { set, .. } if set.is_empty() => w.sql.push_str(" DO NOTHING"),
            ConflictAction::Nothing => w.sql.push_str(" DO NOTHING"),
            ConflictAction::Update { set, filter } => {
                w.sql.push_str(" DO UPDATE SET ");
                for (i, (col, value)) in set.iter().enumerate() {
                    if i > 0 {
                        w.sql.push_str(", ");
                    }
                    self.quote(col, &mut w.sql);
                    w.sql.push_str(" = ");
                    self.write_expr(value, w);
                }
                self.write_where(filter.as_ref(), w);
            }
        }
        self.write_returning(&upsert.insert, w);
    }

    /// `RETURNING column` when the insert asks for it.
    fn write_returning(&self, ins: &Insert, w: &mut Out) {
        if let Some(column) = &ins.returning {
            w.sql.push_str(" RETURNING ");
            self.quote(column, &mut w.sql);
        }
    }

    /// `INSERT INTO table (columns) VALUES (…), …` without `RETURNING`.
    fn write_insert_rows(&self, ins: &Insert, w: &mut Out) {
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
    }

    /// `WITH [RECURSIVE] "name" AS (…), … ` before a select that uses common table expressions.
    fn write_with(&self, ctes: &[Cte], w: &mut Out) {
        if ctes.is_empty() {
            return;
        }
        w.sql.push_str(if ctes.iter().any(|c| c.recursive) {
            "WITH RECURSIVE "
        } else {
            "WITH "
        });
        for (i, cte) in ctes.iter().enumerate() {
            if i > 0 {
                w.sql.push_str(", ");
            }
            self.quote(&cte.name, &mut w.sql);
            w.sql.push_str(" AS (");
            self.write_select(&cte.select, w);
            w.sql.push(')');
        }
        w.sql.push(' ');
    }

    /// A compound select: its selects joined by their operators, then the order and limit of
    /// the whole, whose columns are named without their tables (the result has no tables).
    fn write_compound(&self, s: &Select, w: &mut Out) {
        for (i, (op, arm)) in s.set_ops.iter().enumerate() {
            if i > 0 {
                w.sql.push(' ');
                w.sql.push_str(op.sql());
                w.sql.push(' ');
            }
            self.write_compound_arm(arm, w);
        }
        if !s.order_by.is_empty() {
            w.sql.push_str(" ORDER BY ");
            for (i, OrderBy { expr, descending }) in s.order_by.iter().enumerate() {
                if i > 0 {
                    w.sql.push_str(", ");
                }
                match expr {
                    Expr::Column { name, .. } => self.quote(name, &mut w.sql),
                    other => self.write_expr(other, w),
                }
                w.sql.push_str(if *descending { " DESC" } else { " ASC" });
            }
        }
        self.write_limit(s.limit, s.offset, w);
    }

    /// One select of a compound: in parentheses when it has its own order, limit, CTEs or
    /// compound (standard SQL and PostgreSQL).
    fn write_compound_arm(&self, arm: &Select, w: &mut Out) {
        if arm_needs_wrapping(arm) {
            w.sql.push('(');
            self.write_select(arm, w);
            w.sql.push(')');
        } else {
            self.write_select(arm, w);
        }
    }

    /// A table in `FROM` or a join: `"table" AS "alias"` for an alias the select declares.
    fn write_table_ref(&self, s: &Select, name: &str, w: &mut Out) {
        match s.aliases.iter().find(|a| a.name == name) {
            Some(alias) => {
                self.quote(&alias.table, &mut w.sql);
                w.sql.push_str(" AS ");
                self.quote(&alias.name, &mut w.sql);
            }
            None => self.quote(name, &mut w.sql),
        }
    }

    /// A value whose type the database cannot infer from where it stands (a `CASE` branch, a
    /// select-list constant): PostgreSQL says its type, other dialects need not.
    fn write_typed_value(&self, value: &Expr, w: &mut Out) {
        self.write_expr(value, w);
    }

    /// `[WITH …] SELECT …`, or a compound select.
    fn write_select(&self, s: &Select, w: &mut Out) {
        self.write_with(&s.ctes, w);
        if s.is_compound() {
            return self.write_compound(s, w);
        }
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
            self.write_typed_value(&item.expr, w);
            if let Some(alias) = &item.alias {
                w.sql.push_str(" AS ");
                self.quote(alias, &mut w.sql);
            }
        }
        for (i, item) in s.from.iter().enumerate() {
            w.sql.push_str(if i == 0 { " FROM " } else { ", " });
            match item {
                FromItem::Table(t) => self.write_table_ref(s, t, w),
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
            self.write_table_ref(s, &join.table, w);
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

    /// `LIMIT` and `OFFSET`.
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

    /// ` WHERE condition` when there is one.
    fn write_where(&self, filter: Option<&Expr>, w: &mut Out) {
        if let Some(f) = filter {
            w.sql.push_str(" WHERE ");
            self.write_expr(f, w);
        }
    }

    /// Any expression.
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
                if list.is_empty() && matches!(**expr, Expr::Tuple(_)) {
                    // A row value has no one-column empty set to be compared with (SQLite's
                    // `IN (SELECT 1 …)` is refused for two columns): the constant alone says it.
                    w.sql
                        .push_str(if *negated { "(1 = 1)" } else { "(1 != 1)" });
                    return;
                }
                if list.is_empty() {
                    return self.write_empty_in(expr, *negated, w);
                }
                self.write_operand(expr, w);
                w.sql.push_str(if *negated { " NOT IN (" } else { " IN (" });
                if matches!(**expr, Expr::Tuple(_)) && self.row_values_in_values_list() {
                    w.sql.push_str("VALUES ");
                }
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
            Expr::Subquery(select) => {
                w.sql.push('(');
                self.write_select(select, w);
                w.sql.push(')');
            }
            Expr::Over { function, window } => {
                self.write_expr(function, w);
                w.sql.push_str(" OVER (");
                if !window.partition_by.is_empty() {
                    w.sql.push_str("PARTITION BY ");
                    for (i, e) in window.partition_by.iter().enumerate() {
                        if i > 0 {
                            w.sql.push_str(", ");
                        }
                        self.write_expr(e, w);
                    }
                }
                if !window.order_by.is_empty() {
                    if !window.partition_by.is_empty() {
                        w.sql.push(' ');
                    }
                    w.sql.push_str("ORDER BY ");
                    for (i, key) in window.order_by.iter().enumerate() {
                        if i > 0 {
                            w.sql.push_str(", ");
                        }
                        self.write_expr(&key.expr, w);
                        w.sql
                            .push_str(if key.descending { " DESC" } else { " ASC" });
                    }
                }
                w.sql.push(')');
            }
            // No branch: what `CASE` would give, without writing the invalid `CASE ELSE … END`.
            Expr::Case { whens, else_ } if whens.is_empty() => match else_ {
                Some(value) => self.write_typed_value(value, w),
                None => w.sql.push_str("NULL"),
            },
            Expr::Case { whens, else_ } => {
                w.sql.push_str("CASE");
                for (condition, value) in whens {
                    w.sql.push_str(" WHEN ");
                    self.write_expr(condition, w);
                    w.sql.push_str(" THEN ");
                    self.write_typed_value(value, w);
                }
                if let Some(value) = else_ {
                    w.sql.push_str(" ELSE ");
                    self.write_typed_value(value, w);
                }
                w.sql.push_str(" END");
            }
            Expr::Cast { expr, ty } => {
                w.sql.push_str("CAST(");
                self.write_expr(expr, w);
                w.sql.push_str(" AS ");
                w.sql.push_str(&self.column_type(*ty));
                w.sql.push(')');
            }
            Expr::Tuple(items) => {
                w.sql.push('(');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        w.sql.push_str(", ");
                    }
                    self.write_expr(item, w);
                }
                w.sql.push(')');
            }
            Expr::Distinct(expr) => {
                w.sql.push_str("DISTINCT ");
                self.write_operand(expr, w);
            }
            Expr::Sql(sql) => {
                w.sql.push('(');
                w.sql.push_str(sql);
                w.sql.push(')');
            }
            Expr::Label { expr, name } => {
                self.write_operand(expr, w);
                w.sql.push_str(" AS ");
                self.quote(name, &mut w.sql);
            }
        }
    }

    /// `IN` of an empty list, which no database must see as `IN ()` (PostgreSQL rejects it):
    /// SQLAlchemy's expansion, always false for `in_` and always true for `not_in`, NULL or not.
    fn write_empty_in(&self, expr: &Expr, negated: bool, w: &mut Out) {
        w.sql.push('(');
        self.write_operand(expr, w);
        w.sql.push_str(if negated {
            " NOT IN (NULL) OR (1 = 1))"
        } else {
            " IN (NULL) AND (1 != 1))"
        });
    }

    /// `[NOT] LIKE pattern ESCAPE '\\'` (or `ILIKE`).
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

/// Whether a select inside a compound needs its own parentheses (or, on SQLite, a subquery).
pub fn arm_needs_wrapping(arm: &Select) -> bool {
    !arm.order_by.is_empty()
        || arm.limit.is_some()
        || arm.offset.is_some()
        || !arm.ctes.is_empty()
        || arm.is_compound()
}

/// The text being written and the parameters collected so far.
pub struct Out {
    /// The SQL text so far.
    pub sql: String,
    /// The parameters so far.
    pub params: Vec<Value>,
    /// How many placeholders were written (the next is numbered one more).
    pub placeholders: usize,
}

/// The trait's defaults alone: standard SQL with `?` parameters. What `Display` and `to_sql()`
/// write when no engine names a dialect, and what a dialect's override calls for the cases it
/// leaves alone.
///
/// ```
/// use orm::core::{select, ColumnDef, SqlWriter, StandardWriter, Table};
/// use orm::prelude::*;
/// let users = Table::new("users").column(ColumnDef::new("age", orm::ColumnType::Integer));
/// let compiled = StandardWriter.compile(&select([users.c("age")]).from(&users).into());
/// assert_eq!(compiled.sql, "SELECT \"users\".\"age\" FROM \"users\"");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct StandardWriter;
impl SqlWriter for StandardWriter {}
