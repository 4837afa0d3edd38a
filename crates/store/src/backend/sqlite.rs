//! SQLite through rusqlite: connections, parameter spelling, values, and the
//! background WAL checkpointer.

use super::{Pool, Row, Value};
use crate::{Result, StoreError};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::Mutex;

/// SQLite spells numbered parameters `?1`; our SQL (and PostgreSQL) `$1`.
pub(super) fn sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

pub(super) fn sqlite_error(error: rusqlite::Error) -> StoreError {
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

pub(super) fn sqlite_execute(
    conn: &rusqlite::Connection,
    sql: &str,
    params: &[Value],
) -> Result<u64> {
    let mut statement = conn
        .prepare_cached(&sqlite_sql(sql))
        .map_err(sqlite_error)?;
    let changed = statement
        .execute(rusqlite::params_from_iter(params.iter()))
        .map_err(sqlite_error)?;
    Ok(changed as u64)
}

pub(super) fn sqlite_fetch(
    conn: &rusqlite::Connection,
    sql: &str,
    params: &[Value],
) -> Result<Vec<Row>> {
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

/// Runs one prepared statement once per row (no parsing, no round trips).
pub(super) fn sqlite_insert_each(
    conn: &rusqlite::Connection,
    sql: &str,
    rows: &[Vec<Value>],
) -> Result<()> {
    let mut statement = conn
        .prepare_cached(&sqlite_sql(sql))
        .map_err(sqlite_error)?;
    for row in rows {
        statement
            .execute(rusqlite::params_from_iter(row.iter()))
            .map_err(sqlite_error)?;
    }
    Ok(())
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
pub(super) const WRITER_CHECKPOINT_PAGES: u32 = 10_000;
/// How often the background checkpointer copies the WAL into the database file.
pub(super) const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(25);

/// Copies committed pages from the WAL into the database file on a connection and
/// thread of its own, so that no commit waits for a checkpoint (SQLite's default
/// runs one inside the commit that crosses 1,000 pages: the requests queued behind
/// that commit made the p99 of audited reads). A passive checkpoint never blocks
/// readers or the writer. It pauses while `paused` is set (bulk mode, where the
/// writer's own larger checkpoints are faster) and ends when the pool's writer is
/// dropped.
fn spawn_checkpointer(
    path: &str,
    writer: &Arc<super::group_commit::SharedWriter>,
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

/// Creates a missing database file readable by its owner only. SQLite gives its
/// `-wal` and `-shm` files the database file's permissions, so they are 0600 too.
fn create_private_file(path: &str) -> Result<()> {
    if path.is_empty() || path.starts_with(':') || std::path::Path::new(path).exists() {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(StoreError::Sqlite(format!("creating {path}: {error}"))),
    }
}

impl Pool {
    /// Opens a SQLite file (created if missing, 0600) with one writer and `readers`
    /// readers.
    pub(crate) fn sqlite(path: &str, readers: usize) -> Result<Self> {
        create_private_file(path)?;
        let writer = open_sqlite(path, 40)?;
        writer
            .execute_batch(&format!(
                "PRAGMA wal_autocheckpoint = {WRITER_CHECKPOINT_PAGES};"
            ))
            .map_err(sqlite_error)?;
        let readers = (0..readers.max(1))
            .map(|_| open_sqlite(path, 8).map(Mutex::new))
            .collect::<Result<Vec<_>>>()?;
        let writer = Arc::new(super::group_commit::SharedWriter::new(writer));
        let checkpoints_paused = Arc::new(AtomicBool::new(false));
        spawn_checkpointer(path, &writer, checkpoints_paused.clone())?;
        Ok(Pool::Sqlite {
            writer,
            readers: Arc::new(readers),
            next_reader: Arc::new(AtomicUsize::new(0)),
            checkpoints_paused,
        })
    }
}
