//! PostgreSQL through sqlx: binding the portable values and reading rows back.

use super::{Row, Value};
use crate::Result;

pub(super) type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

pub(super) fn pg_bind<'q>(sql: &'q str, params: &[Value]) -> PgQuery<'q> {
    let mut query = sqlx::query(sql);
    for param in params {
        query = match param {
            Value::Int(v) => query.bind(*v),
            Value::Text(v) => query.bind(v.clone()),
            Value::Bytes(v) => query.bind(v.clone()),
            Value::NullInt => query.bind(None::<i64>),
            Value::NullBytes => query.bind(None::<Vec<u8>>),
        };
    }
    query
}

pub(super) fn pg_row(row: &sqlx::postgres::PgRow) -> Result<Row> {
    use sqlx::{Column, Row as _, TypeInfo, ValueRef};
    let mut values = Vec::with_capacity(row.columns().len());
    for (index, column) in row.columns().iter().enumerate() {
        let raw = row.try_get_raw(index)?;
        if raw.is_null() {
            values.push(None);
            continue;
        }
        values.push(Some(match column.type_info().name() {
            "INT8" => Value::Int(row.try_get::<i64, _>(index)?),
            "INT4" => Value::Int(i64::from(row.try_get::<i32, _>(index)?)),
            "INT2" => Value::Int(i64::from(row.try_get::<i16, _>(index)?)),
            "BYTEA" => Value::Bytes(row.try_get::<Vec<u8>, _>(index)?),
            _ => Value::Text(row.try_get::<String, _>(index)?),
        }));
    }
    Ok(Row(values))
}

/// Rows per multi-row INSERT on PostgreSQL (one round trip each).
pub(super) const PG_INSERT_CHUNK: usize = 1000;

/// Rewrites the `$N` parameters of a VALUES tuple for row `row` of a multi-row insert.
pub(super) fn renumber(template: &str, row: usize, per_row: usize) -> String {
    let mut out = String::with_capacity(template.len() + 8);
    let mut chars = template.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch != '$' {
            out.push(ch);
            continue;
        }
        let mut digits = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            digits.push(*d);
            chars.next();
        }
        let n: usize = digits.parse().unwrap_or(0);
        out.push('$');
        out.push_str(&(row * per_row + n).to_string());
    }
    out
}

/// One multi-row INSERT statement for `rows`: `insert`, then `tuple` renumbered
/// for each row (fewest round trips: fastest on PostgreSQL).
pub(super) fn multi_row_insert(
    insert: &str,
    tuple: &str,
    rows: &[Vec<Value>],
) -> (String, Vec<Value>) {
    let per_row = rows.first().map_or(0, Vec::len);
    let mut sql = format!("{insert} ");
    for i in 0..rows.len() {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(&renumber(tuple, i, per_row));
    }
    (sql, rows.iter().flatten().cloned().collect())
}
