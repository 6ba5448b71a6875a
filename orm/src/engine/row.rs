//! Reading rows: a driver-neutral view of one row, and Core result sets.

use crate::error::{Error, Result};
use crate::value::{SqlType, Value, ValueRef};

/// One row as a driver exposes it; the ORM decodes through this and never sees the driver.
pub trait RowAccess {
    /// The value of column `index` (from 0) of the current row.
    ///
    /// # Errors
    ///
    /// A database error when the driver cannot read the column.
    fn value_ref(&self, index: usize) -> Result<ValueRef<'_>>;
}

/// Reads a row's columns left to right into typed fields, naming the column when a value does not fit.
pub struct RowReader<'r> {
    row: &'r dyn RowAccess,
    position: usize,
    /// A column already fetched by `peek_kept` (the primary key the identity map looks up),
    /// handed to `read` instead of fetching it from the driver a second time.
    kept: Option<(usize, ValueRef<'r>)>,
}

impl<'r> RowReader<'r> {
    /// A reader at the first column of `row`.
    pub fn new(row: &'r dyn RowAccess) -> Self {
        RowReader {
            row,
            position: 0,
            kept: None,
        }
    }

    /// Reads the next column as `T`; `table` and `column` name it in the error.
    ///
    /// # Errors
    ///
    /// [`Error::WrongType`] naming `table` and `column` when the value does not fit `T` (a `NULL`
    /// read into a non-`Option`, text read into an integer…); the driver's error when it cannot
    /// read the column (an index past the last column).
    pub fn read<T: SqlType>(&mut self, table: &str, column: &str) -> Result<T> {
        let value = match self.kept {
            Some((at, value)) if at == self.position => {
                self.kept = None;
                value
            }
            _ => self.row.value_ref(self.position)?,
        };
        self.position += 1;
        T::from_value_ref(value).map_err(|m| Error::WrongType {
            table: table.to_string(),
            column: column.to_string(),
            expected: m.expected.to_string(),
            found: m.found,
        })
    }

    /// Moves past `n` columns without reading them.
    pub fn skip(&mut self, n: usize) {
        self.position += n;
        self.kept = None;
    }

    /// The index of the next column to read.
    pub fn position(&self) -> usize {
        self.position
    }

    /// The value `offset` columns ahead, without moving.
    ///
    /// # Errors
    ///
    /// The driver's error when the row has no column at that position.
    pub fn peek(&self, offset: usize) -> Result<ValueRef<'_>> {
        self.row.value_ref(self.position + offset)
    }

    /// `peek`, keeping the value for the `read` that reaches it: decoding a model looks at its
    /// primary key first, and every row would otherwise fetch that column twice.
    pub(crate) fn peek_kept(&mut self, offset: usize) -> Result<ValueRef<'r>> {
        let at = self.position + offset;
        if let Some((kept_at, value)) = self.kept {
            if kept_at == at {
                return Ok(value);
            }
        }
        let value = self.row.value_ref(at)?;
        self.kept = Some((at, value));
        Ok(value)
    }

    /// Whether the next column is NULL (an outer join that found nothing).
    ///
    /// # Errors
    ///
    /// The driver's error when the row has no column at the reader's position.
    pub fn next_is_null(&self) -> Result<bool> {
        Ok(matches!(self.row.value_ref(self.position)?, ValueRef::Null))
    }
}

/// The rows of a Core statement: column names and values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResultSet {
    /// The column names, in the order of the statement.
    pub columns: Vec<String>,
    /// The rows, each with one value per column.
    pub rows: Vec<Vec<Value>>,
    /// Rows changed by an `INSERT`, `UPDATE` or `DELETE`.
    pub rows_affected: usize,
}

impl ResultSet {
    /// The first column of the first row (`SELECT count(*) …`).
    pub fn scalar(&self) -> Option<&Value> {
        self.rows.first().and_then(|r| r.first())
    }
}
