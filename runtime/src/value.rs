//! Conversions between Rust field types and SQLite values, used by generated code.

use std::time::SystemTime;

use rusqlite::types::{Value, ValueRef};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::clock::{from_millis, to_millis};
use crate::{Error, Result};

/// A Rust type that maps to one column.
///
/// Implemented for `String`, `i8`..`i64`, `u8`..`u32`, `f32`, `f64`, `bool` (0/1),
/// [`uuid::Uuid`] (hyphenated text), [`SystemTime`] (epoch milliseconds), `Vec<u8>` (blob),
/// [`serde_json::Value`] (JSON text) and `Option<T>` (`NULL`). Serde types stored as JSON use
/// [`json_to_value`] and [`json_from_value`].
pub trait ColumnValue: Sized {
    /// The SQLite value of `self`.
    fn to_value(&self) -> Value;
    /// Reads the value of `column`; a wrong type or an out-of-range number is an
    /// [`Error::Conversion`] naming the column.
    fn from_value(value: ValueRef<'_>, column: &'static str) -> Result<Self>;
}

/// Reads `column` from `row` by name; the helper generated `from_row` bodies call.
pub fn get_column<T: ColumnValue>(row: &rusqlite::Row<'_>, column: &'static str) -> Result<T> {
    let value = row.get_ref(column).map_err(|e| Error::Conversion {
        column: column.to_owned(),
        row: None,
        reason: e.to_string(),
    })?;
    T::from_value(value, column)
}

/// Where generated `from_row`/`from_values` bodies read domain column `index` (its position in
/// [`crate::EntityDescriptor::columns`]) called `column`.
pub trait DomainValues {
    /// The stored value of the column.
    fn value(&self, index: usize, column: &'static str) -> Result<ValueRef<'_>>;
}

/// A row's domain columns, read by index: the record SELECT list puts them at fixed places
/// after the sync columns, so no lookup compares `column` with every name of the row.
pub struct RowColumns<'a, 'stmt> {
    row: &'a rusqlite::Row<'stmt>,
    first: usize,
}

impl<'a, 'stmt> RowColumns<'a, 'stmt> {
    /// The domain columns of `row`, the first at index `first` when the row has the record
    /// SELECT list's shape.
    pub fn new(row: &'a rusqlite::Row<'stmt>, first: usize) -> Self {
        RowColumns { row, first }
    }
}

impl DomainValues for RowColumns<'_, '_> {
    fn value(&self, index: usize, column: &'static str) -> Result<ValueRef<'_>> {
        let stmt = self.row.as_ref();
        let at = self.first + index;
        // Checking the one name at the expected place is cheap; a row of another shape (an
        // app's own query) is still read by name.
        let at = if stmt.column_name(at).is_ok_and(|name| name == column) {
            at
        } else {
            stmt.column_index(column)
                .map_err(|e| conversion(column, e.to_string()))?
        };
        self.row
            .get_ref(at)
            .map_err(|e| conversion(column, e.to_string()))
    }
}

impl DomainValues for [Value] {
    fn value(&self, index: usize, column: &'static str) -> Result<ValueRef<'_>> {
        self.get(index)
            .map(ValueRef::from)
            .ok_or_else(|| conversion(column, format!("no value at index {index}")))
    }
}

fn conversion(column: &str, reason: impl Into<String>) -> Error {
    Error::Conversion {
        column: column.to_owned(),
        row: None,
        reason: reason.into(),
    }
}

fn type_name(value: ValueRef<'_>) -> &'static str {
    match value {
        ValueRef::Null => "NULL",
        ValueRef::Integer(_) => "INTEGER",
        ValueRef::Real(_) => "REAL",
        ValueRef::Text(_) => "TEXT",
        ValueRef::Blob(_) => "BLOB",
    }
}

fn expected(column: &str, want: &str, got: ValueRef<'_>) -> Error {
    conversion(column, format!("expected {want}, found {}", type_name(got)))
}

fn text<'a>(value: ValueRef<'a>, column: &str) -> Result<&'a str> {
    match value {
        ValueRef::Text(bytes) => std::str::from_utf8(bytes)
            .map_err(|e| conversion(column, format!("invalid UTF-8: {e}"))),
        other => Err(expected(column, "TEXT", other)),
    }
}

impl ColumnValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
    fn from_value(value: ValueRef<'_>, column: &'static str) -> Result<Self> {
        text(value, column).map(str::to_owned)
    }
}

macro_rules! integer {
    ($($ty:ty),*) => {$(
        impl ColumnValue for $ty {
            fn to_value(&self) -> Value {
                Value::Integer(i64::from(*self))
            }
            fn from_value(value: ValueRef<'_>, column: &'static str) -> Result<Self> {
                match value {
                    ValueRef::Integer(i) => <$ty>::try_from(i).map_err(|_| {
                        conversion(column, format!("{i} is out of range for {}", stringify!($ty)))
                    }),
                    other => Err(expected(column, "INTEGER", other)),
                }
            }
        }
    )*};
}
integer!(i8, i16, i32, i64, u8, u16, u32);

impl ColumnValue for f64 {
    fn to_value(&self) -> Value {
        Value::Real(*self)
    }
    fn from_value(value: ValueRef<'_>, column: &'static str) -> Result<Self> {
        match value {
            ValueRef::Real(f) => Ok(f),
            #[allow(clippy::cast_precision_loss)]
            ValueRef::Integer(i) => Ok(i as f64),
            other => Err(expected(column, "REAL", other)),
        }
    }
}

impl ColumnValue for f32 {
    fn to_value(&self) -> Value {
        Value::Real(f64::from(*self))
    }
    fn from_value(value: ValueRef<'_>, column: &'static str) -> Result<Self> {
        #[allow(clippy::cast_possible_truncation)]
        f64::from_value(value, column).map(|f| f as f32)
    }
}

impl ColumnValue for bool {
    fn to_value(&self) -> Value {
        Value::Integer(i64::from(*self))
    }
    fn from_value(value: ValueRef<'_>, column: &'static str) -> Result<Self> {
        match value {
            ValueRef::Integer(0) => Ok(false),
            ValueRef::Integer(1) => Ok(true),
            ValueRef::Integer(i) => {
                Err(conversion(column, format!("{i} is not a boolean (0 or 1)")))
            }
            other => Err(expected(column, "INTEGER 0 or 1", other)),
        }
    }
}

impl ColumnValue for uuid::Uuid {
    fn to_value(&self) -> Value {
        Value::Text(self.hyphenated().to_string())
    }
    fn from_value(value: ValueRef<'_>, column: &'static str) -> Result<Self> {
        let s = text(value, column)?;
        uuid::Uuid::parse_str(s).map_err(|e| conversion(column, format!("invalid UUID {s:?}: {e}")))
    }
}

/// Stored as epoch milliseconds: a `SystemTime` round-trips at millisecond precision (finer
/// digits are dropped on write).
impl ColumnValue for SystemTime {
    fn to_value(&self) -> Value {
        Value::Integer(to_millis(*self))
    }
    fn from_value(value: ValueRef<'_>, column: &'static str) -> Result<Self> {
        match value {
            ValueRef::Integer(ms) => Ok(from_millis(ms)),
            other => Err(expected(column, "INTEGER (epoch milliseconds)", other)),
        }
    }
}

impl ColumnValue for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
    fn from_value(value: ValueRef<'_>, column: &'static str) -> Result<Self> {
        match value {
            ValueRef::Blob(b) => Ok(b.to_vec()),
            other => Err(expected(column, "BLOB", other)),
        }
    }
}

impl ColumnValue for serde_json::Value {
    fn to_value(&self) -> Value {
        Value::Text(self.to_string())
    }
    fn from_value(value: ValueRef<'_>, column: &'static str) -> Result<Self> {
        let s = text(value, column)?;
        serde_json::from_str(s).map_err(|e| conversion(column, format!("invalid JSON: {e}")))
    }
}

impl<T: ColumnValue> ColumnValue for Option<T> {
    fn to_value(&self) -> Value {
        match self {
            Some(v) => v.to_value(),
            None => Value::Null,
        }
    }
    fn from_value(value: ValueRef<'_>, column: &'static str) -> Result<Self> {
        match value {
            ValueRef::Null => Ok(None),
            other => T::from_value(other, column).map(Some),
        }
    }
}

/// Encodes a serde type as JSON text, for fields stored as `json`.
///
/// [`crate::Syncable::to_values`] is infallible, so this is too: the rare value serde_json
/// cannot encode (a map with non-string keys) becomes `NULL`, which a `NOT NULL` column then
/// rejects with an error at write time.
pub fn json_to_value<T: Serialize>(value: &T) -> Value {
    serde_json::to_string(value).map_or(Value::Null, Value::Text)
}

/// Decodes a serde type from a JSON text column.
pub fn json_from_value<T: DeserializeOwned>(
    value: ValueRef<'_>,
    column: &'static str,
) -> Result<T> {
    let s = text(value, column)?;
    serde_json::from_str(s).map_err(|e| conversion(column, format!("invalid JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_integer_is_an_error_naming_the_column() {
        let err = u8::from_value(ValueRef::Integer(300), "priority").unwrap_err();
        assert_eq!(
            err.to_string(),
            "column `priority`: 300 is out of range for u8"
        );
    }

    #[test]
    fn values_round_trip() {
        let id = uuid::Uuid::new_v4();
        let v = id.to_value();
        let Value::Text(s) = &v else {
            panic!("uuid is not text")
        };
        assert_eq!(
            uuid::Uuid::from_value(ValueRef::Text(s.as_bytes()), "id").unwrap(),
            id
        );
        assert_eq!(
            Option::<i64>::from_value(ValueRef::Null, "x").unwrap(),
            None
        );
        assert!(bool::from_value(ValueRef::Integer(2), "done").is_err());
        assert!(String::from_value(ValueRef::Integer(2), "title").is_err());
    }
}
