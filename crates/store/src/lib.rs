//! maina's persistence: one repository API over SQLite (the embedded default) and
//! PostgreSQL (production). The repository's SQL is written once; the difference
//! between the two databases (drivers, DDL, locking) lives in `db` and in the
//! migration files.
//!
//! Privacy by construction: a My Number is never stored. A resident's first number
//! is derived from the resident's row key; a replacement number has a row in
//! `numbers` keyed by its own number key. Personal details are sealed (AES-256-GCM).

mod applications;
mod cards;
mod db;
mod keys;
mod officers;
mod registry;
mod seal;

use std::sync::Arc;

pub use applications::{
    ApplicationDetails, ApplicationRecord, ApplyLink, Inquiry, Mail, NewApplication, NoticeRecord,
    OutboxMail,
};
pub use cards::{CardRecord, CertificateRecord, NewCertificate};
pub use keys::{KeyError, Keys};
pub use officers::{AuditReport, LoginFailure, Officer, LOCKOUT_THRESHOLD};
pub use registry::*;
pub use seal::{SealError, Sealer};

pub use db::Value;
use db::{Pool, Tx};
use maina_core::authority::AuthorityError;
use maina_core::resident::TransitionError;
use maina_core::NumberAuthority;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("database: {0}")]
    Sqlite(String),
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
    #[error("{0} already exists")]
    Duplicate(&'static str),
    #[error("{0}")]
    Illegal(String),
    #[error("the record was changed by someone else meanwhile; try again")]
    Conflict,
    #[error("the audit trail could not be written: {0}")]
    Audit(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

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

/// The schema, in order; each entry is applied once, in one transaction.
const MIGRATIONS: [(i64, &str, &str); 5] = [
    (
        1,
        include_str!("../migrations/sqlite/0001_registry.sql"),
        include_str!("../migrations/postgres/0001_registry.sql"),
    ),
    (
        2,
        include_str!("../migrations/sqlite/0002_officers_audit.sql"),
        include_str!("../migrations/postgres/0002_officers_audit.sql"),
    ),
    (
        3,
        include_str!("../migrations/sqlite/0003_search.sql"),
        include_str!("../migrations/postgres/0003_search.sql"),
    ),
    (
        4,
        include_str!("../migrations/sqlite/0004_cards.sql"),
        include_str!("../migrations/postgres/0004_cards.sql"),
    ),
    (
        5,
        include_str!("../migrations/sqlite/0005_applications.sql"),
        include_str!("../migrations/postgres/0005_applications.sql"),
    ),
];

/// The repository. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    pool: Pool,
    // Shared, not copied: every request's handler clones the store, and the key
    // schedules of AES-GCM, the HMAC and the FF1 ciphers are a few kilobytes.
    sealer: Arc<Sealer>,
    identity_mac: Arc<hmac::Hmac<sha2::Sha256>>,
    audit_key: Arc<[u8; 32]>,
    authority: Arc<NumberAuthority>,
    audit_sender: tokio::sync::mpsc::Sender<officers::QueuedAudit>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (and migrates) the database at `url` with the given keys.
    pub async fn open(url: &str, keys: &Keys) -> Result<Self> {
        let (backend, pool) = if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let path = path.split('?').next().unwrap_or(path);
            (Backend::Sqlite, Pool::sqlite(path, 4)?)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, Pool::postgres(url).await?)
        } else {
            return Err(StoreError::UnsupportedUrl(url.into()));
        };
        let authority = NumberAuthority::new(
            &keys.derive("maina my-number ff1"),
            &keys.derive("maina resident-code ff1"),
        )?;
        let (audit_sender, audit_events) = tokio::sync::mpsc::channel(4096);
        let audit_key = *keys.derive("maina audit chain");
        tokio::spawn(officers::audit_writer(
            pool.clone(),
            audit_events,
            audit_key,
        ));
        let store = Self {
            backend,
            pool,
            sealer: Arc::new(Sealer::new(&keys.derive("maina seal aes-256-gcm"))),
            identity_mac: Arc::new(identity_mac(&keys.derive("maina identity hmac"))),
            audit_key: Arc::new(audit_key),
            authority: Arc::new(authority),
            audit_sender,
        };
        store.migrate().await?;
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

    /// Closes the connections.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Tunes the database for a bulk job (on) or for serving (off, the default).
    pub async fn set_bulk_mode(&self, on: bool) -> Result<()> {
        self.pool.set_bulk_mode(on).await
    }

    /// Answers whether the database can be reached.
    pub async fn ping(&self) -> Result<()> {
        self.pool.reader().await.fetch_all("SELECT 1", &[]).await?;
        Ok(())
    }

    async fn migrate(&self) -> Result<()> {
        self.pool
            .run_script("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY)")
            .await?;
        for (version, sqlite, postgres) in MIGRATIONS {
            let mut tx = self.pool.begin().await?;
            let applied = tx
                .fetch_optional(
                    "SELECT version FROM schema_migrations WHERE version = $1",
                    &[version.into()],
                )
                .await?;
            drop(tx);
            if applied.is_some() {
                continue;
            }
            let script = match self.backend {
                Backend::Sqlite => sqlite,
                Backend::Postgres => postgres,
            };
            self.pool
                .run_script(&format!(
                    "{script}\nINSERT INTO schema_migrations (version) VALUES ({version})"
                ))
                .await?;
        }
        Ok(())
    }

    async fn check_fingerprint(&self, given: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let stored = tx
            .fetch_optional("SELECT value FROM meta WHERE name = 'key_fingerprint'", &[])
            .await?
            .map(|row| row.text(0))
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
                tx.execute(
                    "INSERT INTO meta (name, value) VALUES ('key_fingerprint', $1)",
                    &[given.into()],
                )
                .await?;
            }
        }
        tx.commit().await
    }

    async fn init_counters(&self) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for (name, start) in [
            (RESIDENT_COUNTER, 1i64),
            (
                REPLACEMENT_COUNTER,
                maina_core::authority::REPLACEMENT_NUMBER_BASE as i64,
            ),
            (OFFICER_COUNTER, 1),
            (APPLICATION_COUNTER, 1),
            (OUTBOX_COUNTER, 1),
        ] {
            tx.execute(
                "INSERT INTO counters (name, next_value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                &[name.into(), start.into()],
            )
            .await?;
        }
        tx.commit().await
    }

    /// Hands out `count` sequential keys of a counter, in the caller's transaction.
    async fn take_keys(tx: &mut Tx<'_>, counter: &str, count: u64) -> Result<std::ops::Range<u64>> {
        let next = tx
            .fetch_one(
                "UPDATE counters SET next_value = next_value + $1 WHERE name = $2 RETURNING next_value",
                &[to_i64(count)?.into(), counter.into()],
            )
            .await?
            .int(0)?;
        let end = to_u64(next)?;
        Ok(end.saturating_sub(count)..end)
    }
}

pub(crate) const RESIDENT_COUNTER: &str = "resident";
pub(crate) const REPLACEMENT_COUNTER: &str = "replacement_number";
pub(crate) const OFFICER_COUNTER: &str = "officer";
pub(crate) const APPLICATION_COUNTER: &str = "application";
pub(crate) const OUTBOX_COUNTER: &str = "outbox";

/// The HMAC-SHA256 state keyed for the blind indexes. HMAC pads a key shorter than
/// the hash's block with zeros, so the 64-byte zero-padded key is the same key, and
/// `KeyInit::new` on a whole block cannot fail.
fn identity_mac(key: &[u8; 32]) -> hmac::Hmac<sha2::Sha256> {
    let mut block_key = [0u8; 64];
    for (slot, byte) in block_key.iter_mut().zip(key.iter()) {
        *slot = *byte;
    }
    <hmac::Hmac<sha2::Sha256> as hmac::digest::KeyInit>::new(&block_key.into())
}

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
