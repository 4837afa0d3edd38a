//! The one seam between the repository and its two databases.
//!
//! The repository's SQL is written once, with `$1`-style parameters and portable
//! types (64-bit integers, text, bytes). [`Tx`] and [`Reader`] run it on SQLite
//! through rusqlite or on PostgreSQL through sqlx; the schema is written once too,
//! with tokens that [`migrations`] renders per database. Why rusqlite for SQLite:
//! measured on this project's 2-core machine, 1 M inserts of the residents' row
//! shape run at about 736,000 rows/s through a prepared rusqlite statement, 168,000
//! through sqlx's SQLite driver and 100,000 through sqlx's `Any` driver; the
//! registry's throughput target (250,000 residents/s) is out of reach on sqlx's
//! SQLite driver.
//!
//! SQLite runs inside the async code: its calls are short and local, and a single
//! writer connection behind an async mutex serialises writers the way SQLite does
//! anyway, without lock retries.

mod group_commit;
pub(crate) mod migrations;
mod postgres;
mod sqlite;
mod value;

pub use value::{now_micros, Value};
pub(crate) use value::{to_i64, to_u64, Row};

use crate::{Result, StoreError};
use postgres::{multi_row_insert, pg_bind, pg_row, PG_INSERT_CHUNK};
use sqlite::{sqlite_error, sqlite_execute, sqlite_fetch, sqlite_insert_each};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{Mutex, MutexGuard};

/// The database behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        }
    }
}

/// The SQLite URL of a database file.
pub fn sqlite_url(path: &std::path::Path) -> String {
    format!("sqlite://{}", path.display())
}

/// The connections of one database.
#[derive(Clone)]
pub(crate) enum Pool {
    Sqlite {
        writer: Arc<group_commit::SharedWriter>,
        readers: Arc<Vec<Mutex<rusqlite::Connection>>>,
        next_reader: Arc<AtomicUsize>,
        /// Bulk mode: the background checkpointer waits.
        checkpoints_paused: Arc<AtomicBool>,
    },
    Postgres(sqlx::PgPool),
}

impl Pool {
    /// Connects to `sqlite://PATH` (the file is created if missing) or
    /// `postgres://...`.
    pub(crate) async fn open(url: &str) -> Result<Self> {
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let path = path.split('?').next().unwrap_or(path);
            Pool::sqlite(path, 4)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Pool::postgres(url).await
        } else {
            Err(StoreError::UnsupportedUrl(url.into()))
        }
    }

    pub(crate) async fn postgres(url: &str) -> Result<Self> {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(std::time::Duration::from_secs(30))
            .connect(url)
            .await?;
        Ok(Pool::Postgres(pool))
    }

    pub(crate) fn backend(&self) -> Backend {
        match self {
            Pool::Sqlite { .. } => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Starts a write transaction. SQLite takes its write lock at once
    /// (BEGIN IMMEDIATE), so a transaction never fails half-way on a lock upgrade;
    /// there the transaction is a savepoint of a group commit ([`group_commit`]).
    pub(crate) async fn begin(&self) -> Result<Tx<'_>> {
        match self {
            Pool::Sqlite { writer, .. } => Ok(Tx::Sqlite {
                guard: Some(writer.begin().await?),
                writer,
            }),
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
            writer.set_grouping(!on);
            let pages = if on {
                4000
            } else {
                sqlite::WRITER_CHECKPOINT_PAGES
            };
            writer
                .exclusive()
                .await?
                .conn
                .execute_batch(&format!("PRAGMA wal_autocheckpoint = {pages};"))
                .map_err(sqlite_error)?;
        }
        Ok(())
    }

    /// Runs a script of several statements (migrations) in one transaction.
    pub(crate) async fn run_script(&self, script: &str) -> Result<()> {
        match self {
            Pool::Sqlite { writer, .. } => {
                let writer = writer.exclusive().await?;
                let conn = &writer.conn;
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

/// What a write transaction and a read connection both answer: the repository's
/// look-ups are written once against this and run on either.
pub(crate) trait Query {
    async fn fetch_all(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>>;

    async fn fetch_optional(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        Ok(self.fetch_all(sql, params).await?.into_iter().next())
    }

    async fn fetch_one(&mut self, sql: &str, params: &[Value]) -> Result<Row> {
        self.fetch_optional(sql, params)
            .await?
            .ok_or_else(|| StoreError::Corrupt("a query that returns one row returned none".into()))
    }

    /// Whether the query returns a row.
    async fn exists(&mut self, sql: &str, params: &[Value]) -> Result<bool> {
        Ok(self.fetch_optional(sql, params).await?.is_some())
    }
}

/// A write transaction; dropped without [`Tx::commit`] it rolls back.
pub(crate) enum Tx<'a> {
    Sqlite {
        /// `None` once committed.
        guard: Option<MutexGuard<'a, group_commit::Writer>>,
        writer: &'a Arc<group_commit::SharedWriter>,
    },
    Postgres(Option<sqlx::Transaction<'static, sqlx::Postgres>>),
}

fn transaction_ended() -> StoreError {
    StoreError::Corrupt("transaction already ended".into())
}

impl Query for Tx<'_> {
    async fn fetch_all(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        match self {
            Tx::Sqlite { guard: Some(w), .. } => sqlite_fetch(&w.conn, sql, params),
            Tx::Sqlite { guard: None, .. } => Err(transaction_ended()),
            Tx::Postgres(Some(tx)) => pg_bind(sql, params)
                .fetch_all(&mut **tx)
                .await?
                .iter()
                .map(pg_row)
                .collect(),
            Tx::Postgres(None) => Err(transaction_ended()),
        }
    }
}

impl Tx<'_> {
    /// Commits this transaction without waiting for the disk, for counts whose
    /// last moments may be lost in a crash (the throttles): PostgreSQL otherwise
    /// flushes its log on every commit while the transaction's row locks are held,
    /// so every attempt from one address would wait for one disk flush each.
    /// SQLite's WAL with `synchronous=NORMAL` never waits at commit: nothing to do.
    pub(crate) async fn commit_without_waiting_for_disk(&mut self) -> Result<()> {
        if let Tx::Postgres(Some(tx)) = self {
            sqlx::query("SET LOCAL synchronous_commit TO OFF")
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    pub(crate) async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        match self {
            Tx::Sqlite { guard: Some(w), .. } => sqlite_execute(&w.conn, sql, params),
            Tx::Sqlite { guard: None, .. } => Err(transaction_ended()),
            Tx::Postgres(Some(tx)) => Ok(pg_bind(sql, params)
                .execute(&mut **tx)
                .await?
                .rows_affected()),
            Tx::Postgres(None) => Err(transaction_ended()),
        }
    }

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
        if let Tx::Sqlite { guard, .. } = self {
            let writer = guard.as_ref().ok_or_else(transaction_ended)?;
            return sqlite_insert_each(&writer.conn, &format!("{insert} {tuple}"), rows);
        }
        for chunk in rows.chunks(PG_INSERT_CHUNK) {
            let (sql, params) = multi_row_insert(insert, tuple, chunk);
            self.execute(&sql, &params).await?;
        }
        Ok(())
    }

    pub(crate) async fn commit(mut self) -> Result<()> {
        match &mut self {
            Tx::Sqlite { guard, writer } => match guard.take() {
                Some(taken) => writer.commit(taken).await,
                None => Err(transaction_ended()),
            },
            Tx::Postgres(tx) => match tx.take() {
                Some(tx) => Ok(tx.commit().await?),
                None => Err(transaction_ended()),
            },
        }
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if let Tx::Sqlite {
            guard: Some(taken),
            writer,
        } = self
        {
            // An error or an early return: undo everything this transaction did.
            writer.rollback(taken);
        }
    }
}

/// A connection for reads.
pub(crate) enum Reader<'a> {
    Sqlite(MutexGuard<'a, rusqlite::Connection>),
    Postgres(Option<&'a sqlx::PgPool>),
}

impl Query for Reader<'_> {
    async fn fetch_all(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
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
}

/// The store's short ways onto the seam, for the many statements that are all of
/// their transaction or read.
impl crate::Store {
    pub(crate) async fn reader(&self) -> Reader<'_> {
        self.pool.reader().await
    }

    pub(crate) async fn read_all(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        self.reader().await.fetch_all(sql, params).await
    }

    pub(crate) async fn read_optional(&self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        self.reader().await.fetch_optional(sql, params).await
    }

    /// The one row the query finds, or [`StoreError::NotFound`] naming `what`.
    pub(crate) async fn read_found(
        &self,
        what: &'static str,
        sql: &str,
        params: &[Value],
    ) -> Result<Row> {
        self.read_optional(sql, params)
            .await?
            .ok_or(StoreError::NotFound(what))
    }

    pub(crate) async fn read_one(&self, sql: &str, params: &[Value]) -> Result<Row> {
        self.reader().await.fetch_one(sql, params).await
    }

    /// Runs one statement in a transaction of its own; returns the rows it changed.
    pub(crate) async fn write_one(&self, sql: &str, params: &[Value]) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let changed = tx.execute(sql, params).await?;
        tx.commit().await?;
        Ok(changed)
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
            tokio::time::sleep(sqlite::CHECKPOINT_EVERY * 4).await;
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
            tokio::time::sleep(sqlite::CHECKPOINT_EVERY).await;
        }
        assert!(
            db > 24_000_000,
            "the pages never reached the file: {db} bytes"
        );
    }

    #[test]
    fn renumbers_parameters() {
        assert_eq!(postgres::renumber("($1,'a',$2,$1)", 2, 2), "($5,'a',$6,$5)");
        assert_eq!(sqlite::sqlite_sql("($1,$12)"), "(?1,?12)");
    }
}
