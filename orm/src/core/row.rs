//! Reading the rows of a Core result into Rust values: tuples by position, structs by column name
//! (`#[derive(FromRow)]`), and single columns.

use crate::engine::ResultSet;
use crate::error::{Error, Result};
use crate::value::{SqlType, Value};

/// One row of a [`ResultSet`]: its values and the names of its columns.
#[derive(Debug, Clone, Copy)]
pub struct Row<'r> {
    columns: &'r [String],
    values: &'r [Value],
}

impl<'r> Row<'r> {
    /// A row over column names and the values in the same order.
    pub fn new(columns: &'r [String], values: &'r [Value]) -> Self {
        Row { columns, values }
    }

    /// The names of the columns, in order.
    pub fn columns(&self) -> &'r [String] {
        self.columns
    }

    /// The values, in column order.
    pub fn values(&self) -> &'r [Value] {
        self.values
    }

    /// The value of the column named `column`, read as `T`.
    ///
    /// # Errors
    /// [`Error::NoSuchColumn`] naming the columns the row has when none is called `column`, and
    /// [`Error::WrongType`] when its value does not fit `T` (a NULL read as a non-`Option`).
    pub fn get<T: SqlType>(&self, column: &str) -> Result<T> {
        match self.columns.iter().position(|c| c == column) {
            Some(index) => self.read(index, column),
            None => Err(Error::NoSuchColumn {
                table: "(result)".into(),
                column: format!(
                    "{column} (the result's columns are: {})",
                    self.columns.join(", ")
                ),
                source: None,
            }),
        }
    }

    /// The value of the `index`-th column (from 0), read as `T`.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when the row has no such column, [`Error::WrongType`] when the
    /// value does not fit `T`.
    pub fn get_at<T: SqlType>(&self, index: usize) -> Result<T> {
        match self.columns.get(index) {
            Some(name) => self.read(index, name),
            None if index < self.values.len() => self.read(index, "?"),
            None => Err(Error::InvalidRequest(format!(
                "the row has {} columns; there is no column {index} (counting from 0)",
                self.values.len()
            ))),
        }
    }

    fn read<T: SqlType>(&self, index: usize, name: &str) -> Result<T> {
        T::from_value_ref(self.values[index].as_ref()).map_err(|m| Error::WrongType {
            table: "(result)".into(),
            column: name.to_string(),
            expected: m.expected.to_string(),
            found: m.found,
        })
    }
}

/// A Rust value made from one result row: tuples read the columns in order (their lengths must
/// match), and `#[derive(FromRow)]` structs read each field from the column of its name.
///
/// # Examples
/// ```
/// use orm::core::text;
/// use orm::prelude::*;
///
/// #[derive(FromRow, Debug, PartialEq)]
/// struct Person { name: String, age: Option<i64> }
///
/// let engine = create_engine("sqlite:///:memory:")?;
/// let rows = engine.execute(text("SELECT 'Ann' AS name, 30 AS age"))?;
/// assert_eq!(rows.all::<Person>()?, [Person { name: "Ann".into(), age: Some(30) }]);
/// assert_eq!(rows.all::<(String, i64)>()?, [("Ann".to_string(), 30)]);
/// # Ok::<(), orm::Error>(())
/// ```
pub trait FromRow: Sized {
    /// Reads one row.
    ///
    /// # Errors
    /// The column a field names is missing, or its value does not fit the field's type.
    fn read_row(row: &Row<'_>) -> Result<Self>;
}

macro_rules! tuple_from_row {
    ($len:literal: $($name:ident $idx:tt),+) => {
        impl<$($name: SqlType),+> FromRow for ($($name,)+) {
            fn read_row(row: &Row<'_>) -> Result<Self> {
                if row.values().len() != $len {
                    return Err(Error::InvalidRequest(format!(
                        "a tuple of {} values cannot hold a row of {} columns ({})",
                        $len,
                        row.values().len(),
                        row.columns().join(", ")
                    )));
                }
                Ok(($(row.get_at::<$name>($idx)?,)+))
            }
        }
    };
}
tuple_from_row!(1: A 0);
tuple_from_row!(2: A 0, B 1);
tuple_from_row!(3: A 0, B 1, C 2);
tuple_from_row!(4: A 0, B 1, C 2, D 3);
tuple_from_row!(5: A 0, B 1, C 2, D 3, E 4);
tuple_from_row!(6: A 0, B 1, C 2, D 3, E 4, F 5);
tuple_from_row!(7: A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_from_row!(8: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

impl ResultSet {
    /// Each row as a [`Row`] (column names and values).
    pub fn iter_rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows
            .iter()
            .map(|values| Row::new(&self.columns, values))
    }

    /// Every row read as `T`: a tuple, or a `#[derive(FromRow)]` struct.
    ///
    /// # Examples
    /// ```
    /// use orm::core::text;
    /// let engine = orm::create_engine("sqlite:///:memory:")?;
    /// let rows = engine.execute(text("SELECT 1, 'one' UNION ALL SELECT 2, 'two'"))?;
    /// let pairs: Vec<(i64, String)> = rows.all()?;
    /// assert_eq!(pairs, [(1, "one".to_string()), (2, "two".to_string())]);
    /// # Ok::<(), orm::Error>(())
    /// ```
    ///
    /// # Errors
    /// The first row that does not fit `T` ([`FromRow::read_row`]).
    pub fn all<T: FromRow>(&self) -> Result<Vec<T>> {
        self.iter_rows().map(|row| T::read_row(&row)).collect()
    }

    /// The first row read as `T`, or `None` when there are no rows.
    ///
    /// # Errors
    /// The row does not fit `T`.
    pub fn first_as<T: FromRow>(&self) -> Result<Option<T>> {
        self.iter_rows().next().map(|r| T::read_row(&r)).transpose()
    }

    /// The first column of every row, read as `T` (SQLAlchemy's `scalars()`).
    ///
    /// # Errors
    /// A value that does not fit `T`, or a result without columns.
    pub fn scalars<T: SqlType>(&self) -> Result<Vec<T>> {
        self.iter_rows().map(|row| row.get_at::<T>(0)).collect()
    }
}
