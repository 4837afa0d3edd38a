//! maina's persistence: one repository API over SQLite (the embedded default) and
//! PostgreSQL (production), both through sqlx's `Any` driver so that there is one
//! code path per rule. Where the two back ends differ (DDL, connection settings, how
//! a write transaction takes its lock), the difference lives in [`Backend`].
//!
//! Privacy by construction: a My Number is never stored. A resident's first number
//! is derived from the resident's row key; a replacement number has a row in
//! `numbers` keyed by its own number key. Personal details are sealed (AES-256-GCM).

mod keys;
mod registry;
mod seal;

pub use keys::{KeyError, Keys};
pub use registry::*;
pub use seal::{SealError, Sealer};

use maina_core::authority::AuthorityError;
use maina_core::resident::TransitionError;
use maina_core::NumberAuthority;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use std::time::Duration;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    #[error(
        "this database was sealed with another key file (fingerprint {stored}, key file {given})"
    )]
    WrongKey { stored: String, given: String },
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error(transparent)]
    Authority(#[from] AuthorityError),
    #[error("{0}")]
    Rejected(#[from] TransitionError),
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("the record was changed by someone else meanwhile; try again")]
    Conflict,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn of_url(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(url.into()))
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        }
    }
}

/// The SQLite URL of a database file (created if missing).
pub fn sqlite_url(path: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// The repository. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    /// Writes. On SQLite a single connection: SQLite has one writer at a time, and
    /// queueing in the pool is cheaper than lock retries.
    write: AnyPool,
    /// Reads. On SQLite several connections read a WAL snapshot concurrently.
    read: AnyPool,
    sealer: Sealer,
    identity_key: [u8; 32],
    authority: NumberAuthority,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

async fn sqlite_pool(url: &str, connections: u32) -> Result<AnyPool> {
    Ok(AnyPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                // WAL: readers never block the writer. synchronous=NORMAL: a commit
                // is durable across a process crash, and across power loss up to the
                // last checkpoint, which is SQLite's recommended setting for WAL.
                for pragma in [
                    "PRAGMA journal_mode = WAL",
                    "PRAGMA synchronous = NORMAL",
                    "PRAGMA busy_timeout = 10000",
                    "PRAGMA foreign_keys = ON",
                    "PRAGMA cache_size = -16000",
                ] {
                    sqlx::query(pragma).execute(&mut *conn).await?;
                }
                Ok(())
            })
        })
        .connect(url)
        .await?)
}

impl Store {
    /// Opens (and migrates) the database at `url` with the given keys.
    pub async fn open(url: &str, keys: &Keys) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url)?;
        let (write, read) = match backend {
            Backend::Sqlite => {
                let write = sqlite_pool(url, 1).await?;
                SQLITE_MIGRATIONS.run(&write).await?;
                let read = sqlite_pool(url, 4).await?;
                (write, read)
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect(url)
                    .await?;
                POSTGRES_MIGRATIONS.run(&pool).await?;
                (pool.clone(), pool)
            }
        };
        let authority = NumberAuthority::new(
            &keys.derive("maina my-number ff1"),
            &keys.derive("maina resident-code ff1"),
        )?;
        let store = Self {
            backend,
            write,
            read,
            sealer: Sealer::new(&keys.derive("maina seal aes-256-gcm")),
            identity_key: *keys.derive("maina identity hmac"),
            authority,
        };
        store.check_fingerprint(&keys.fingerprint()).await?;
        store.init_counters().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn authority(&self) -> &NumberAuthority {
        &self.authority
    }

    /// Closes the pools (flushes SQLite's WAL).
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }

    /// Answers whether the database can be reached.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    async fn check_fingerprint(&self, given: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let stored: Option<String> =
            sqlx::query("SELECT value FROM meta WHERE name = 'key_fingerprint'")
                .fetch_optional(&mut *tx)
                .await?
                .map(|row: AnyRow| row.try_get(0))
                .transpose()?;
        match stored {
            Some(stored) if stored != given => {
                return Err(StoreError::WrongKey {
                    stored,
                    given: given.into(),
                })
            }
            Some(_) => {}
            None => {
                sqlx::query("INSERT INTO meta (name, value) VALUES ('key_fingerprint', $1)")
                    .bind(given.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn init_counters(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        for (name, start) in [
            (RESIDENT_COUNTER, 1i64),
            (
                REPLACEMENT_COUNTER,
                maina_core::authority::REPLACEMENT_NUMBER_BASE as i64,
            ),
            (ACCESS_LOG_COUNTER, 1),
        ] {
            sqlx::query("INSERT INTO counters (name, next_value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                .bind(name)
                .bind(start)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Starts a write transaction. On SQLite the transaction's first statement is a
    /// write, so the write lock is taken (waiting up to busy_timeout) at once instead
    /// of failing later when a read transaction tries to upgrade.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        let mut tx = self.write.begin().await?;
        if self.backend == Backend::Sqlite {
            sqlx::query("UPDATE counters SET next_value = next_value WHERE name = ''")
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }

    /// Hands out `count` sequential keys of a counter, in the caller's transaction.
    async fn take_keys(
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        counter: &str,
        count: u64,
    ) -> Result<std::ops::Range<u64>> {
        let count_i64 =
            i64::try_from(count).map_err(|_| StoreError::Corrupt("key count".into()))?;
        let next: i64 = sqlx::query(
            "UPDATE counters SET next_value = next_value + $1 WHERE name = $2 RETURNING next_value",
        )
        .bind(count_i64)
        .bind(counter.to_string())
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?;
        let end = u64::try_from(next).map_err(|_| StoreError::Corrupt("counter".into()))?;
        Ok(end.saturating_sub(count)..end)
    }
}

pub(crate) const RESIDENT_COUNTER: &str = "resident";
pub(crate) const REPLACEMENT_COUNTER: &str = "replacement_number";
pub(crate) const ACCESS_LOG_COUNTER: &str = "access_log";

/// Microseconds since the Unix epoch.
pub fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

fn to_i64(value: u64) -> Result<i64> {
    i64::try_from(value).map_err(|_| StoreError::Corrupt(format!("key {value} out of range")))
}

fn to_u64(value: i64) -> Result<u64> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("key {value} out of range")))
}
