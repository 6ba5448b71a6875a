//! SQLite's differences from standard SQL: rowid keys, integer booleans, `LIKE` without `ILIKE`,
//! `LIMIT -1` before a lone `OFFSET`, and an empty `IN` written as an empty subquery.

use super::{Out, SqlWriter, StandardWriter};
use crate::core::expr::Expr;
use crate::core::schema::{ColumnDef, Literal};
use crate::core::statement::Select;

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
            other => StandardWriter.literal(other),
        }
    }

    /// SQLite reads `LIMIT -1` as no limit; an `OFFSET` needs a `LIMIT` before it.
    fn write_limit(&self, limit: Option<u64>, offset: Option<u64>, w: &mut Out) {
        match (limit, offset) {
            (None, Some(o)) => {
                w.sql.push_str(" LIMIT -1 OFFSET ");
                w.sql.push_str(&o.to_string());
            }
            _ => StandardWriter.write_limit(limit, offset, w),
        }
    }

    /// SQLAlchemy's SQLite spelling of an empty set: a subquery that gives no row.
    fn write_empty_in(&self, expr: &Expr, negated: bool, w: &mut Out) {
        self.write_operand(expr, w);
        w.sql.push_str(if negated {
            " NOT IN (SELECT 1 FROM (SELECT 1) WHERE 1!=1)"
        } else {
            " IN (SELECT 1 FROM (SELECT 1) WHERE 1!=1)"
        });
    }

    /// SQLite allows no parentheses around a select of a compound: one with its own order or
    /// limit becomes a subquery.
    fn write_compound_arm(&self, arm: &Select, w: &mut Out) {
        if super::arm_needs_wrapping(arm) {
            w.sql.push_str("SELECT * FROM (");
            self.write_select(arm, w);
            w.sql.push(')');
        } else {
            self.write_select(arm, w);
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
        StandardWriter.write_like(expr, pattern, false, negated, w)
    }
}
