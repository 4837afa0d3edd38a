//! The portable values the repository's SQL binds and reads (64-bit integers, text,
//! bytes), and the conversions of keys and times to the integers that are stored.

use crate::{Result, StoreError};

/// A parameter or column value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
    /// SQL NULL in an integer column.
    NullInt,
    /// SQL NULL in a binary column.
    NullBytes,
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Bytes(v)
    }
}
impl From<Option<Vec<u8>>> for Value {
    fn from(v: Option<Vec<u8>>) -> Self {
        v.map_or(Value::NullBytes, Value::Bytes)
    }
}
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Value::NullInt, Value::Int)
    }
}

/// A result row.
#[derive(Debug, Clone)]
pub struct Row(pub(super) Vec<Option<Value>>);

impl Row {
    /// How many columns the row has.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    fn column(&self, index: usize) -> Result<&Option<Value>> {
        self.0
            .get(index)
            .ok_or_else(|| StoreError::Corrupt(format!("missing column {index}")))
    }

    /// The column, or `None` for SQL NULL; `typed` reads a present value.
    fn optional<T>(&self, index: usize, typed: fn(&Self, usize) -> Result<T>) -> Result<Option<T>> {
        match self.column(index)? {
            None => Ok(None),
            Some(_) => typed(self, index).map(Some),
        }
    }

    fn mistyped(&self, index: usize, expected: &str) -> StoreError {
        let found = self.0.get(index).cloned().flatten();
        StoreError::Corrupt(format!(
            "column {index}: expected {expected}, found {found:?}"
        ))
    }

    pub fn int(&self, index: usize) -> Result<i64> {
        match self.column(index)? {
            Some(Value::Int(v)) => Ok(*v),
            _ => Err(self.mistyped(index, "an integer")),
        }
    }

    /// A 0/1 column.
    pub fn flag(&self, index: usize) -> Result<bool> {
        Ok(self.int(index)? != 0)
    }

    pub fn opt_int(&self, index: usize) -> Result<Option<i64>> {
        self.optional(index, Self::int)
    }

    /// A key column (a non-negative integer).
    pub fn key(&self, index: usize) -> Result<u64> {
        to_u64(self.int(index)?)
    }

    pub fn opt_key(&self, index: usize) -> Result<Option<u64>> {
        self.optional(index, Self::key)
    }

    pub fn text(&self, index: usize) -> Result<String> {
        match self.column(index)? {
            Some(Value::Text(v)) => Ok(v.clone()),
            _ => Err(self.mistyped(index, "text")),
        }
    }

    pub fn opt_text(&self, index: usize) -> Result<Option<String>> {
        self.optional(index, Self::text)
    }

    pub fn bytes(&self, index: usize) -> Result<Vec<u8>> {
        match self.column(index)? {
            Some(Value::Bytes(v)) => Ok(v.clone()),
            _ => Err(self.mistyped(index, "bytes")),
        }
    }

    pub fn opt_bytes(&self, index: usize) -> Result<Option<Vec<u8>>> {
        self.optional(index, Self::bytes)
    }

    /// A text column parsed into a domain type; a value that does not parse means
    /// the stored data is corrupt.
    pub fn parsed<T>(&self, index: usize) -> Result<T>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        self.text(index)?
            .parse()
            .map_err(|e: T::Err| StoreError::Corrupt(format!("column {index}: {e}")))
    }
}

/// Microseconds since the Unix epoch: how the store keeps every time.
pub fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// A key as the signed 64-bit integer both databases store.
pub(crate) fn to_i64(value: u64) -> Result<i64> {
    i64::try_from(value).map_err(|_| StoreError::Corrupt(format!("key {value} out of range")))
}

/// A stored integer as a key.
pub(crate) fn to_u64(value: i64) -> Result<u64> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("key {value} out of range")))
}
