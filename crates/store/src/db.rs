//! The one seam between the repository and its two databases.
//!
//! The repository's SQL is written once, with `$1`-style parameters and portable
//! types (64-bit integers, text, bytes). [`Tx`] and [`Reader`] run it on SQLite
//! through rusqlite or on PostgreSQL through sqlx. Why rusqlite for SQLite: measured
//! on this project's 2-core machine, 1 M inserts of the residents' row shape run at
//! about 736,000 rows/s through a prepared rusqlite statement, 168,000 through
//! sqlx's SQLite driver and 100,000 through sqlx's `Any` driver; the registry's
//! throughput target (250,000 residents/s) is out of reach on sqlx's SQLite driver.
//!
//! SQLite runs inside the async code: its calls are short and local, and a single
//! writer connection behind an async mutex serialises writers the way SQLite does
//! anyway, without lock retries.

use crate::{Result, StoreError};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{Mutex, MutexGuard};

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
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Value::NullInt, Value::Int)
    }
}

/// A result row.
#[derive(Debug, Clone)]
pub struct Row(Vec<Option<Value>>);

impl Row {
    fn column(&self, index: usize) -> Result<&Option<Value>> {
        self.0
            .get(index)
            .ok_or_else(|| StoreError::Corrupt(format!("missing column {index}")))
    }

    pub fn int(&self, index: usize) -> Result<i64> {
        match self.column(index)? {
            Some(Value::Int(v)) => Ok(*v),
            other => Err(StoreError::Corrupt(format!(
                "column {index}: expected an integer, found {other:?}"
            ))),
        }
    }

    pub fn opt_int(&self, index: usize) -> Result<Option<i64>> {
        match self.column(index)? {
            None => Ok(None),
            Some(_) => self.int(index).map(Some),
        }
    }

    pub fn text(&self, index: usize) -> Result<String> {
        match self.column(index)? {
            Some(Value::Text(v)) => Ok(v.clone()),
            other => Err(StoreError::Corrupt(format!(
                "column {index}: expected text, found {other:?}"
            ))),
        }
    }

    pub fn opt_text(&self, index: usize) -> Result<Option<String>> {
        match self.column(index)? {
            None => Ok(None),
            Some(_) => self.text(index).map(Some),
        }
    }

    pub fn bytes(&self, index: usize) -> Result<Vec<u8>> {
        match self.column(index)? {
            Some(Value::Bytes(v)) => Ok(v.clone()),
            other => Err(StoreError::Corrupt(format!(
                "column {index}: expected bytes, found {other:?}"
            ))),
        }
    }

    pub fn opt_bytes(&self, index: usize) -> Result<Option<Vec<u8>>> {
        match self.column(index)? {
            None => Ok(None),
            Some(_) => self.bytes(index).map(Some),
        }
    }
}

/// SQLite spells numbered parameters `?1`; our SQL (and PostgreSQL) `$1`.
fn sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

fn sqlite_error(error: rusqlite::Error) -> StoreError {
    StoreError::Sqlite(error.to_string())
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Value::Int(v) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Value::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Value::Bytes(v) => ToSqlOutput::Borrowed(ValueRef::Blob(v)),
            Value::NullInt | Value::NullBytes => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

fn sqlite_row(row: &rusqlite::Row<'_>, columns: usize) -> rusqlite::Result<Row> {
    use rusqlite::types::ValueRef;
    let mut values = Vec::with_capacity(columns);
    for index in 0..columns {
        values.push(match row.get_ref(index)? {
            ValueRef::Null => None,
            ValueRef::Integer(v) => Some(Value::Int(v)),
            ValueRef::Real(v) => Some(Value::Int(v as i64)),
            ValueRef::Text(v) => Some(Value::Text(String::from_utf8_lossy(v).into_owned())),
            ValueRef::Blob(v) => Some(Value::Bytes(v.to_vec())),
        });
    }
    Ok(Row(values))
}

fn sqlite_execute(conn: &rusqlite::Connection, sql: &str, params: &[Value]) -> Result<u64> {
    let mut statement = conn
        .prepare_cached(&sqlite_sql(sql))
        .map_err(sqlite_error)?;
    let changed = statement
        .execute(rusqlite::params_from_iter(params.iter()))
        .map_err(sqlite_error)?;
    Ok(changed as u64)
}

fn sqlite_fetch(conn: &rusqlite::Connection, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
    let mut statement = conn
        .prepare_cached(&sqlite_sql(sql))
        .map_err(sqlite_error)?;
    let columns = statement.column_count();
    let rows = statement
        .query_map(rusqlite::params_from_iter(params.iter()), |row| {
            sqlite_row(row, columns)
        })
        .map_err(sqlite_error)?;
    rows.collect::<rusqlite::Result<Vec<Row>>>()
        .map_err(sqlite_error)
}

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

fn pg_bind<'q>(sql: &'q str, params: &[Value]) -> PgQuery<'q> {
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

fn pg_row(row: &sqlx::postgres::PgRow) -> Result<Row> {
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

/// The connections of one database.
#[derive(Clone)]
pub(crate) enum Pool {
    Sqlite {
        writer: Arc<Mutex<rusqlite::Connection>>,
        readers: Arc<Vec<Mutex<rusqlite::Connection>>>,
        next_reader: Arc<AtomicUsize>,
        /// Bulk mode: the background checkpointer waits.
        checkpoints_paused: Arc<AtomicBool>,
    },
    Postgres(sqlx::PgPool),
}

fn open_sqlite(path: &str, cache_mib: i64) -> Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path).map_err(sqlite_error)?;
    // WAL: readers never block the writer. synchronous=NORMAL: a commit survives a
    // process crash; after power loss the last commits may be lost but the database
    // stays consistent (SQLite's recommended setting with WAL).
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000; \
         PRAGMA foreign_keys = ON;",
    )
    .map_err(sqlite_error)?;
    // The writer's cache holds the hot pages of the random-order indexes (identity,
    // search) at national scale; readers need less.
    conn.execute_batch(&format!("PRAGMA cache_size = -{};", cache_mib * 1024))
        .map_err(sqlite_error)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// WAL pages after which the writer checkpoints by itself, in the commit, when the
/// background checkpointer has fallen behind (10,000 pages: about 40 MB).
const WRITER_CHECKPOINT_PAGES: u32 = 10_000;
/// How often the background checkpointer copies the WAL into the database file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(25);

/// Copies committed pages from the WAL into the database file on a connection and
/// thread of its own, so that no commit waits for a checkpoint (SQLite's default
/// runs one inside the commit that crosses 1,000 pages: the requests queued behind
/// that commit made the p99 of audited reads). A passive checkpoint never blocks
/// readers or the writer. It pauses while `paused` is set (bulk mode, where the
/// writer's own larger checkpoints are faster) and ends when the pool's writer is
/// dropped.
fn spawn_checkpointer(
    path: &str,
    writer: &Arc<Mutex<rusqlite::Connection>>,
    paused: Arc<AtomicBool>,
) -> Result<()> {
    let conn = open_sqlite(path, 2)?;
    let alive = Arc::downgrade(writer);
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            let mut last_warning: Option<std::time::Instant> = None;
            while alive.strong_count() > 0 {
                std::thread::sleep(CHECKPOINT_EVERY);
                if paused.load(Ordering::Relaxed) {
                    continue;
                }
                match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    Ok(()) => {}
                    // Another checkpoint is running: retried at the next tick.
                    Err(rusqlite::Error::SqliteFailure(failure, _))
                        if failure.code == rusqlite::ErrorCode::DatabaseBusy => {}
                    // Anything else (disk full, I/O error) is said, once a minute
                    // at most; meanwhile the writer's own threshold takes over.
                    Err(error) => {
                        if last_warning.is_none_or(|at| at.elapsed().as_secs() >= 60) {
                            tracing::warn!(%error, "SQLite WAL checkpoint failed; the writer will checkpoint past 40 MB");
                            last_warning = Some(std::time::Instant::now());
                        }
                    }
                }
            }
        })
        .map_err(|e| StoreError::Corrupt(format!("cannot start the checkpoint thread: {e}")))?;
    Ok(())
}

impl Pool {
    /// Opens a SQLite file (created if missing) with one writer and `readers` readers.
    pub(crate) fn sqlite(path: &str, readers: usize) -> Result<Self> {
        let writer = open_sqlite(path, 40)?;
        writer
            .execute_batch(&format!(
                "PRAGMA wal_autocheckpoint = {WRITER_CHECKPOINT_PAGES};"
            ))
            .map_err(sqlite_error)?;
        let readers = (0..readers.max(1))
            .map(|_| open_sqlite(path, 8).map(Mutex::new))
            .collect::<Result<Vec<_>>>()?;
        let writer = Arc::new(Mutex::new(writer));
        let checkpoints_paused = Arc::new(AtomicBool::new(false));
        spawn_checkpointer(path, &writer, checkpoints_paused.clone())?;
        Ok(Pool::Sqlite {
            writer,
            readers: Arc::new(readers),
            next_reader: Arc::new(AtomicUsize::new(0)),
            checkpoints_paused,
        })
    }

    pub(crate) async fn postgres(url: &str) -> Result<Self> {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(std::time::Duration::from_secs(30))
            .connect(url)
            .await?;
        Ok(Pool::Postgres(pool))
    }

    /// Starts a write transaction. SQLite takes its write lock at once
    /// (BEGIN IMMEDIATE), so a transaction never fails half-way on a lock upgrade.
    pub(crate) async fn begin(&self) -> Result<Tx<'_>> {
        match self {
            Pool::Sqlite { writer, .. } => {
                let guard = writer.lock().await;
                guard
                    .execute_batch("BEGIN IMMEDIATE")
                    .map_err(sqlite_error)?;
                Ok(Tx::Sqlite {
                    conn: guard,
                    done: false,
                })
            }
            Pool::Postgres(pool) => Ok(Tx::Postgres(Some(pool.begin().await?))),
        }
    }

    /// A connection for reads outside a transaction.
    pub(crate) async fn reader(&self) -> Reader<'_> {
        match self {
            Pool::Sqlite {
                readers,
                next_reader,
                ..
            } => {
                let index = next_reader.fetch_add(1, Ordering::Relaxed) % readers.len().max(1);
                match readers.get(index) {
                    Some(reader) => Reader::Sqlite(reader.lock().await),
                    None => Reader::Postgres(None),
                }
            }
            Pool::Postgres(pool) => Reader::Postgres(Some(pool)),
        }
    }

    /// Bulk mode pauses the background checkpointer and has the writer checkpoint
    /// SQLite's WAL itself every ~16 MB: the same bytes reach the database file in
    /// fewer, larger passes (numbering 10 M residents: +15%), at the price of pauses
    /// in the commits, so it is for bulk jobs only. Serving leaves checkpoints to
    /// the background thread.
    pub(crate) async fn set_bulk_mode(&self, on: bool) -> Result<()> {
        if let Pool::Sqlite {
            writer,
            checkpoints_paused,
            ..
        } = self
        {
            checkpoints_paused.store(on, Ordering::Relaxed);
            let pages = if on { 4000 } else { WRITER_CHECKPOINT_PAGES };
            writer
                .lock()
                .await
                .execute_batch(&format!("PRAGMA wal_autocheckpoint = {pages};"))
                .map_err(sqlite_error)?;
        }
        Ok(())
    }

    /// Runs a script of several statements (migrations) in one transaction.
    pub(crate) async fn run_script(&self, script: &str) -> Result<()> {
        match self {
            Pool::Sqlite { writer, .. } => {
                let conn = writer.lock().await;
                conn.execute_batch(&format!("BEGIN IMMEDIATE; {script}; COMMIT;"))
                    .map_err(|e| {
                        let _ = conn.execute_batch("ROLLBACK");
                        sqlite_error(e)
                    })
            }
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::raw_sql(script).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }
        }
    }

    pub(crate) async fn close(&self) {
        if let Pool::Postgres(pool) = self {
            pool.close().await;
        }
    }
}

/// A write transaction; dropped without [`Tx::commit`] it rolls back.
pub(crate) enum Tx<'a> {
    Sqlite {
        conn: MutexGuard<'a, rusqlite::Connection>,
        done: bool,
    },
    Postgres(Option<sqlx::Transaction<'static, sqlx::Postgres>>),
}

impl Tx<'_> {
    pub(crate) async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        match self {
            Tx::Sqlite { conn, .. } => sqlite_execute(conn, sql, params),
            Tx::Postgres(Some(tx)) => Ok(pg_bind(sql, params)
                .execute(&mut **tx)
                .await?
                .rows_affected()),
            Tx::Postgres(None) => Err(StoreError::Corrupt("transaction already ended".into())),
        }
    }

    pub(crate) async fn fetch_all(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        match self {
            Tx::Sqlite { conn, .. } => sqlite_fetch(conn, sql, params),
            Tx::Postgres(Some(tx)) => pg_bind(sql, params)
                .fetch_all(&mut **tx)
                .await?
                .iter()
                .map(pg_row)
                .collect(),
            Tx::Postgres(None) => Err(StoreError::Corrupt("transaction already ended".into())),
        }
    }

    pub(crate) async fn fetch_optional(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> Result<Option<Row>> {
        Ok(self.fetch_all(sql, params).await?.into_iter().next())
    }

    pub(crate) async fn fetch_one(&mut self, sql: &str, params: &[Value]) -> Result<Row> {
        self.fetch_optional(sql, params)
            .await?
            .ok_or_else(|| StoreError::Corrupt("a query that returns one row returned none".into()))
    }

    pub(crate) async fn commit(mut self) -> Result<()> {
        match &mut self {
            Tx::Sqlite { conn, done } => {
                conn.execute_batch("COMMIT").map_err(sqlite_error)?;
                *done = true;
                Ok(())
            }
            Tx::Postgres(tx) => match tx.take() {
                Some(tx) => Ok(tx.commit().await?),
                None => Err(StoreError::Corrupt("transaction already ended".into())),
            },
        }
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if let Tx::Sqlite { conn, done: false } = self {
            // An error or an early return: undo everything this transaction did.
            let _ = conn.execute_batch("ROLLBACK");
        }
    }
}

/// A connection for reads.
pub(crate) enum Reader<'a> {
    Sqlite(MutexGuard<'a, rusqlite::Connection>),
    Postgres(Option<&'a sqlx::PgPool>),
}

impl Reader<'_> {
    pub(crate) async fn fetch_all(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        match self {
            Reader::Sqlite(conn) => sqlite_fetch(conn, sql, params),
            Reader::Postgres(Some(pool)) => pg_bind(sql, params)
                .fetch_all(*pool)
                .await?
                .iter()
                .map(pg_row)
                .collect(),
            Reader::Postgres(None) => Err(StoreError::Corrupt("no reader connection".into())),
        }
    }

    pub(crate) async fn fetch_optional(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> Result<Option<Row>> {
        Ok(self.fetch_all(sql, params).await?.into_iter().next())
    }

    pub(crate) async fn fetch_one(&mut self, sql: &str, params: &[Value]) -> Result<Row> {
        self.fetch_optional(sql, params)
            .await?
            .ok_or_else(|| StoreError::Corrupt("a query that returns one row returned none".into()))
    }
}

/// Rewrites the `$N` parameters of a VALUES tuple for row `row` of a multi-row insert.
fn renumber(template: &str, row: usize, per_row: usize) -> String {
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

/// Rows per multi-row INSERT on PostgreSQL (one round trip each).
const PG_INSERT_CHUNK: usize = 1000;

impl Tx<'_> {
    /// Inserts many rows: `insert` is `INSERT INTO t (columns) VALUES`, `tuple` one
    /// row's VALUES tuple with parameters `$1..$per_row`. SQLite runs one prepared
    /// statement per row (no parsing, no round trips: fastest there); PostgreSQL
    /// sends multi-row statements (fewest round trips: fastest there).
    pub(crate) async fn insert_many(
        &mut self,
        insert: &str,
        tuple: &str,
        rows: &[Vec<Value>],
    ) -> Result<()> {
        match self {
            Tx::Sqlite { conn, .. } => {
                let mut statement = conn
                    .prepare_cached(&sqlite_sql(&format!("{insert} {tuple}")))
                    .map_err(sqlite_error)?;
                for row in rows {
                    statement
                        .execute(rusqlite::params_from_iter(row.iter()))
                        .map_err(sqlite_error)?;
                }
                Ok(())
            }
            Tx::Postgres(_) => {
                for chunk in rows.chunks(PG_INSERT_CHUNK) {
                    let per_row = chunk.first().map_or(0, Vec::len);
                    let mut sql = format!("{insert} ");
                    for i in 0..chunk.len() {
                        if i > 0 {
                            sql.push(',');
                        }
                        sql.push_str(&renumber(tuple, i, per_row));
                    }
                    let params: Vec<Value> = chunk.iter().flatten().cloned().collect();
                    self.execute(&sql, &params).await?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The background checkpointer keeps the WAL short although the writer no
    /// longer checkpoints at 1,000 pages: 24 MB written in 4 MB commits leaves a
    /// WAL file far below 24 MB.
    #[tokio::test]
    async fn the_wal_is_checkpointed_in_the_background() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal.sqlite3");
        let pool = Pool::sqlite(path.to_str().unwrap(), 1).unwrap();
        pool.run_script("CREATE TABLE blobs (id INTEGER PRIMARY KEY, body BLOB)")
            .await
            .unwrap();
        for round in 0..6 {
            let mut tx = pool.begin().await.unwrap();
            for i in 0..1000 {
                tx.execute(
                    "INSERT INTO blobs (id, body) VALUES ($1, $2)",
                    &[Value::Int(round * 1000 + i), Value::Bytes(vec![7u8; 4000])],
                )
                .await
                .unwrap();
            }
            tx.commit().await.unwrap();
            // Give the checkpointer a few ticks, as the gaps between requests do.
            tokio::time::sleep(CHECKPOINT_EVERY * 4).await;
        }
        let wal = std::fs::metadata(dir.path().join("wal.sqlite3-wal"))
            .unwrap()
            .len();
        assert!(wal < 12 * 1024 * 1024, "the WAL grew to {wal} bytes");
        // The last commit's pages reach the file within a few ticks (polled, so a
        // busy machine does not fail the test).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut db = 0;
        while std::time::Instant::now() < deadline {
            db = std::fs::metadata(&path).unwrap().len();
            if db > 24_000_000 {
                break;
            }
            tokio::time::sleep(CHECKPOINT_EVERY).await;
        }
        assert!(
            db > 24_000_000,
            "the pages never reached the file: {db} bytes"
        );
    }

    #[test]
    fn renumbers_parameters() {
        assert_eq!(renumber("($1,'a',$2,$1)", 2, 2), "($5,'a',$6,$5)");
        assert_eq!(sqlite_sql("($1,$12)"), "(?1,?12)");
    }
}
