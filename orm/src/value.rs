//! Values that cross the boundary between Rust and SQL, and the Rust types that map to columns.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use std::fmt;

/// The SQL type of a column, as declared in `CREATE TABLE` (the lesson's column types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnType {
    /// `INTEGER` (`i64`, `i32`).
    Integer,
    /// `FLOAT` / `DOUBLE PRECISION` (`f64`).
    Float,
    /// `VARCHAR(n)` when a length is given, otherwise `VARCHAR`.
    String(Option<u32>),
    /// `TEXT`.
    Text,
    /// `BOOLEAN` (an integer 0/1 on SQLite).
    Boolean,
    /// `TIMESTAMP` (`NaiveDateTime`, `DateTime<Utc>`).
    DateTime,
    /// `DATE` (`NaiveDate`).
    Date,
    /// `TIME` (`NaiveTime`).
    Time,
    /// `JSON` (`JSONB` on PostgreSQL; text on SQLite).
    Json,
    /// `BLOB` / `BYTEA` (`Vec<u8>`).
    Blob,
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnType::String(Some(n)) => write!(f, "String({n})"),
            ColumnType::String(None) => f.write_str("String"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// An owned SQL value: a bound parameter or a value read from a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL `NULL`.
    Null,
    /// An integer.
    Integer(i64),
    /// A floating-point number.
    Real(f64),
    /// Text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
    /// A boolean.
    Bool(bool),
    /// A timestamp without time zone.
    DateTime(NaiveDateTime),
    /// A date.
    Date(NaiveDate),
    /// A time of day.
    Time(NaiveTime),
    /// A JSON document.
    Json(serde_json::Value),
}

/// A borrowed SQL value: what a model hands to a statement without copying its strings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    /// SQL `NULL`.
    Null,
    /// An integer.
    Integer(i64),
    /// A floating-point number.
    Real(f64),
    /// Text.
    Text(&'a str),
    /// Bytes.
    Blob(&'a [u8]),
    /// A boolean.
    Bool(bool),
    /// A timestamp without time zone.
    DateTime(NaiveDateTime),
    /// A date.
    Date(NaiveDate),
    /// A time of day.
    Time(NaiveTime),
    /// A JSON document.
    Json(&'a serde_json::Value),
}

impl Value {
    /// The value borrowed, as statements bind it.
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Integer(v) => ValueRef::Integer(*v),
            Value::Real(v) => ValueRef::Real(*v),
            Value::Text(v) => ValueRef::Text(v),
            Value::Blob(v) => ValueRef::Blob(v),
            Value::Bool(v) => ValueRef::Bool(*v),
            Value::DateTime(v) => ValueRef::DateTime(*v),
            Value::Date(v) => ValueRef::Date(*v),
            Value::Time(v) => ValueRef::Time(*v),
            Value::Json(v) => ValueRef::Json(v),
        }
    }

    /// Whether this is SQL `NULL`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl ValueRef<'_> {
    /// An owned copy of the value.
    pub fn to_owned(self) -> Value {
        match self {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(v) => Value::Integer(v),
            ValueRef::Real(v) => Value::Real(v),
            ValueRef::Text(v) => Value::Text(v.to_owned()),
            ValueRef::Blob(v) => Value::Blob(v.to_owned()),
            ValueRef::Bool(v) => Value::Bool(v),
            ValueRef::DateTime(v) => Value::DateTime(v),
            ValueRef::Date(v) => Value::Date(v),
            ValueRef::Time(v) => Value::Time(v),
            ValueRef::Json(v) => Value::Json(v.clone()),
        }
    }

    /// The name of this value's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            ValueRef::Null => "NULL",
            ValueRef::Integer(_) => "integer",
            ValueRef::Real(_) => "real",
            ValueRef::Text(_) => "text",
            ValueRef::Blob(_) => "blob",
            ValueRef::Bool(_) => "boolean",
            ValueRef::DateTime(_) => "datetime",
            ValueRef::Date(_) => "date",
            ValueRef::Time(_) => "time",
            ValueRef::Json(_) => "json",
        }
    }
}

impl fmt::Display for Value {
    /// Values as a learner reads them in echo output and tables (strings unquoted).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.as_ref(), f)
    }
}

impl fmt::Display for ValueRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueRef::Null => f.write_str("NULL"),
            ValueRef::Integer(v) => write!(f, "{v}"),
            ValueRef::Real(v) => write!(f, "{v}"),
            ValueRef::Text(v) => f.write_str(v),
            ValueRef::Blob(v) => write!(f, "<{} bytes>", v.len()),
            ValueRef::Bool(v) => write!(f, "{v}"),
            ValueRef::DateTime(v) => write!(f, "{v}"),
            ValueRef::Date(v) => write!(f, "{v}"),
            ValueRef::Time(v) => write!(f, "{v}"),
            ValueRef::Json(v) => write!(f, "{v}"),
        }
    }
}

/// Why a value read from the database does not fit the Rust type asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeMismatch {
    /// The Rust type asked for.
    pub expected: &'static str,
    /// What the column held.
    pub found: String,
}

/// Marker types that say which values may be compared with a column (`User::age.gt(21)`).
pub mod kind {
    /// Integer columns (`i64`, `i32`).
    pub struct Integer;
    /// Floating-point columns (`f64`).
    pub struct Float;
    /// Text columns (`String`).
    pub struct Text;
    /// Boolean columns (`bool`).
    pub struct Boolean;
    /// Timestamp columns (`NaiveDateTime`, `DateTime<Utc>`).
    pub struct DateTime;
    /// Date columns (`NaiveDate`).
    pub struct Date;
    /// Time-of-day columns (`NaiveTime`).
    pub struct Time;
    /// JSON columns (`serde_json::Value`).
    pub struct Json;
    /// Byte columns (`Vec<u8>`).
    pub struct Blob;
    /// Untyped Core columns: any value may be compared.
    pub struct Any;
}

/// A Rust type that maps to a column: how it is written to and read from SQL.
///
/// Implemented for `i64`, `i32`, `f64`, `String`, `bool`, chrono's dates and times,
/// `serde_json::Value`, `Vec<u8>`, and `Option<T>` of each (a nullable column).
pub trait SqlType: Sized + Clone + 'static {
    /// The column type used by `CREATE TABLE` unless the model says otherwise.
    const COLUMN_TYPE: ColumnType;
    /// `Option<T>` columns are nullable; the rest are `NOT NULL`.
    const NULLABLE: bool = false;
    /// The strings a text-stored enum may hold (`#[derive(DbEnum)]`): a model column of the
    /// type gets `CHECK (column IN (…))`. `None` for every other type.
    const ENUM_VALUES: Option<&'static [&'static str]> = None;
    /// Which values this type is compared with.
    type Kind;
    /// The type without `Option`, used by aggregates (`max` of `Option<i64>` is `Option<i64>`).
    type NonNull: SqlType;
    /// The value borrowed, as a statement binds it.
    fn to_value_ref(&self) -> ValueRef<'_>;
    /// Reads the value from a column.
    ///
    /// # Errors
    ///
    /// [`TypeMismatch`] when the column holds another kind of value (a `NULL` for a non-`Option`).
    fn from_value_ref(value: ValueRef<'_>) -> Result<Self, TypeMismatch>;
    /// The value owned.
    fn to_value(&self) -> Value {
        self.to_value_ref().to_owned()
    }
}

fn mismatch(expected: &'static str, found: ValueRef<'_>) -> TypeMismatch {
    TypeMismatch {
        expected,
        found: found.describe(),
    }
}

impl ValueRef<'_> {
    /// The value and its kind, short enough for an error message: `text "abc"`, `integer 3`.
    pub(crate) fn describe(&self) -> String {
        match *self {
            ValueRef::Text(t) if t.len() > 40 => {
                format!("text {:?}…", &t[..t.floor_char_boundary(40)])
            }
            ValueRef::Text(t) => format!("text {t:?}"),
            ValueRef::Null => "NULL".to_string(),
            other => format!("{} {other}", other.kind()),
        }
    }
}

impl SqlType for i64 {
    const COLUMN_TYPE: ColumnType = ColumnType::Integer;
    type Kind = kind::Integer;
    type NonNull = i64;
    fn to_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Integer(*self)
    }
    fn from_value_ref(value: ValueRef<'_>) -> Result<Self, TypeMismatch> {
        match value {
            ValueRef::Integer(v) => Ok(v),
            ValueRef::Bool(b) => Ok(b as i64),
            other => Err(mismatch("an integer", other)),
        }
    }
}

impl SqlType for i32 {
    const COLUMN_TYPE: ColumnType = ColumnType::Integer;
    type Kind = kind::Integer;
    type NonNull = i32;
    fn to_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Integer(*self as i64)
    }
    fn from_value_ref(value: ValueRef<'_>) -> Result<Self, TypeMismatch> {
        match value {
            ValueRef::Integer(v) => i32::try_from(v).map_err(|_| TypeMismatch {
                expected: "an integer that fits in i32 (use i64)",
                found: format!("integer {v}"),
            }),
            other => Err(mismatch("an integer", other)),
        }
    }
}

impl SqlType for f64 {
    const COLUMN_TYPE: ColumnType = ColumnType::Float;
    type Kind = kind::Float;
    type NonNull = f64;
    fn to_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Real(*self)
    }
    fn from_value_ref(value: ValueRef<'_>) -> Result<Self, TypeMismatch> {
        match value {
            ValueRef::Real(v) => Ok(v),
            // SQLite stores whole floats as integers in REAL-affinity-less expressions (avg of ints is real, sum is not).
            ValueRef::Integer(v) => Ok(v as f64),
            other => Err(mismatch("a number", other)),
        }
    }
}

impl SqlType for String {
    const COLUMN_TYPE: ColumnType = ColumnType::String(None);
    type Kind = kind::Text;
    type NonNull = String;
    fn to_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Text(self)
    }
    fn from_value_ref(value: ValueRef<'_>) -> Result<Self, TypeMismatch> {
        match value {
            ValueRef::Text(v) => Ok(v.to_owned()),
            other => Err(mismatch("text", other)),
        }
    }
}

impl SqlType for bool {
    const COLUMN_TYPE: ColumnType = ColumnType::Boolean;
    type Kind = kind::Boolean;
    type NonNull = bool;
    fn to_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Bool(*self)
    }
    fn from_value_ref(value: ValueRef<'_>) -> Result<Self, TypeMismatch> {
        match value {
            ValueRef::Bool(v) => Ok(v),
            ValueRef::Integer(0) => Ok(false),
            ValueRef::Integer(1) => Ok(true),
            other => Err(mismatch("a boolean (0 or 1)", other)),
        }
    }
}

impl SqlType for Vec<u8> {
    const COLUMN_TYPE: ColumnType = ColumnType::Blob;
    type Kind = kind::Blob;
    type NonNull = Vec<u8>;
    fn to_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Blob(self)
    }
    fn from_value_ref(value: ValueRef<'_>) -> Result<Self, TypeMismatch> {
        match value {
            ValueRef::Blob(v) => Ok(v.to_owned()),
            other => Err(mismatch("a blob", other)),
        }
    }
}

/// Dates and times are stored as ISO-8601 text on SQLite (as SQLAlchemy does) and parsed back.
macro_rules! chrono_type {
    ($ty:ty, $variant:ident, $col:ident, $kind:ident, $expected:literal, $($fmt:literal),+) => {
        impl SqlType for $ty {
            const COLUMN_TYPE: ColumnType = ColumnType::$col;
            type Kind = kind::$kind;
            type NonNull = $ty;
            fn to_value_ref(&self) -> ValueRef<'_> {
                ValueRef::$variant(*self)
            }
            fn from_value_ref(value: ValueRef<'_>) -> Result<Self, TypeMismatch> {
                match value {
                    ValueRef::$variant(v) => Ok(v),
                    ValueRef::Text(t) => {
                        $(if let Ok(v) = <$ty>::parse_from_str(t, $fmt) { return Ok(v); })+
                        Err(mismatch($expected, value))
                    }
                    other => Err(mismatch($expected, other)),
                }
            }
        }
    };
}
chrono_type!(
    NaiveDateTime,
    DateTime,
    DateTime,
    DateTime,
    "a datetime (YYYY-MM-DD HH:MM:SS)",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f"
);
chrono_type!(
    NaiveDate,
    Date,
    Date,
    Date,
    "a date (YYYY-MM-DD)",
    "%Y-%m-%d"
);
chrono_type!(
    NaiveTime,
    Time,
    Time,
    Time,
    "a time (HH:MM:SS)",
    "%H:%M:%S%.f"
);

impl SqlType for DateTime<Utc> {
    const COLUMN_TYPE: ColumnType = ColumnType::DateTime;
    type Kind = kind::DateTime;
    type NonNull = DateTime<Utc>;
    fn to_value_ref(&self) -> ValueRef<'_> {
        ValueRef::DateTime(self.naive_utc())
    }
    fn from_value_ref(value: ValueRef<'_>) -> Result<Self, TypeMismatch> {
        NaiveDateTime::from_value_ref(value).map(|v| v.and_utc())
    }
}

impl SqlType for serde_json::Value {
    const COLUMN_TYPE: ColumnType = ColumnType::Json;
    type Kind = kind::Json;
    type NonNull = serde_json::Value;
    fn to_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Json(self)
    }
    fn from_value_ref(value: ValueRef<'_>) -> Result<Self, TypeMismatch> {
        match value {
            ValueRef::Json(v) => Ok(v.clone()),
            ValueRef::Text(t) => serde_json::from_str(t).map_err(|_| mismatch("JSON text", value)),
            other => Err(mismatch("JSON text", other)),
        }
    }
}

impl<T: SqlType> SqlType for Option<T> {
    const COLUMN_TYPE: ColumnType = T::COLUMN_TYPE;
    const NULLABLE: bool = true;
    const ENUM_VALUES: Option<&'static [&'static str]> = T::ENUM_VALUES;
    type Kind = T::Kind;
    type NonNull = T::NonNull;
    fn to_value_ref(&self) -> ValueRef<'_> {
        match self {
            Some(v) => v.to_value_ref(),
            None => ValueRef::Null,
        }
    }
    fn from_value_ref(value: ValueRef<'_>) -> Result<Self, TypeMismatch> {
        match value {
            ValueRef::Null => Ok(None),
            other => T::from_value_ref(other).map(Some),
        }
    }
}

/// Untyped values read by Core queries.
impl SqlType for Value {
    const COLUMN_TYPE: ColumnType = ColumnType::Blob;
    const NULLABLE: bool = true;
    type Kind = kind::Any;
    type NonNull = Value;
    fn to_value_ref(&self) -> ValueRef<'_> {
        self.as_ref()
    }
    fn from_value_ref(value: ValueRef<'_>) -> Result<Self, TypeMismatch> {
        Ok(value.to_owned())
    }
}

macro_rules! into_value {
    ($($ty:ty),*) => {$(
        impl From<$ty> for Value {
            fn from(v: $ty) -> Value { v.to_value() }
        }
    )*};
}
into_value!(
    i64,
    f64,
    String,
    bool,
    NaiveDateTime,
    NaiveDate,
    NaiveTime,
    serde_json::Value
);

impl From<i32> for Value {
    fn from(v: i32) -> Value {
        Value::Integer(v as i64)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_owned())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}
