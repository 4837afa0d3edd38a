//! What every command shares: the data directory, the database, who is acting and
//! why; and opening the store they name.

use anyhow::{bail, Context as _, Result};
use maina_store::{Keys, Store};
use std::path::{Path, PathBuf};

/// Paths and settings shared by every command.
pub struct Context {
    pub data: PathBuf,
    pub db: Option<String>,
    pub actor: String,
    pub purpose: String,
}

impl Context {
    /// The command line's actor: the local administrator (who holds the key file).
    pub fn who(&self) -> maina_core::officer::Actor {
        maina_core::officer::Actor::administrator(&self.actor, &self.purpose)
    }

    /// The directory of the keys (0700): the master key file, the audit
    /// checkpoint key.
    pub fn keys_dir(&self) -> PathBuf {
        self.data.join("keys")
    }

    pub fn key_path(&self) -> PathBuf {
        self.keys_dir().join("master.key")
    }

    /// The Ed25519 key that signs the audit checkpoints (not derived from the master
    /// key: whoever holds a database and its key file still cannot forge one).
    pub fn checkpoint_key_path(&self) -> PathBuf {
        self.keys_dir().join("audit-checkpoint.key")
    }

    /// Where audit checkpoints go unless the configuration says otherwise.
    pub fn default_checkpoint_dir(&self) -> PathBuf {
        self.data.join("audit-checkpoints")
    }

    /// Refuses to go on when any key file of the data directory (the key files in
    /// `keys/`, the CA keys under `pki/`) is readable by group or others; the
    /// message names the file and the `chmod` that fixes it.
    pub fn check_key_files(&self) -> Result<()> {
        fn walk(dir: &Path, all: bool) -> Result<()> {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return Ok(());
            };
            for entry in entries {
                let path = entry?.path();
                if path.is_dir() {
                    walk(&path, all)?;
                    continue;
                }
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if all || name.ends_with(".key") || name.ends_with(".key.pem") {
                    maina_store::check_owner_only(&path)?;
                }
            }
            Ok(())
        }
        walk(&self.keys_dir(), true)?;
        walk(&self.pki_dir(), false)
    }

    /// Where the two card authorities live.
    pub fn pki_dir(&self) -> PathBuf {
        self.data.join("pki")
    }

    pub fn db_url(&self) -> String {
        self.db
            .clone()
            .unwrap_or_else(|| maina_store::sqlite_url(&self.data.join("maina.sqlite3")))
    }

    /// Opens the store of an initialised data directory.
    pub async fn open(&self) -> Result<Store> {
        let key_path = self.key_path();
        if !key_path.exists() {
            bail!(
                "no key file at {}: run `maina init` (or `maina --data DIR init`) first",
                key_path.display()
            );
        }
        self.check_key_files()?;
        let keys = Keys::load(&key_path)?;
        Store::open(&self.db_url(), &keys)
            .await
            .with_context(|| format!("opening the database {}", redact_url(&self.db_url())))
    }

    /// Opens the store, runs `work` with it and closes it, whether `work` succeeded
    /// or not (PostgreSQL connections end cleanly, SQLite checkpoints its log).
    pub async fn with_store<T>(&self, work: impl AsyncFnOnce(&Store) -> Result<T>) -> Result<T> {
        let store = self.open().await?;
        let result = work(&store).await;
        store.close().await;
        result
    }

    /// [`Context::with_store`] with the use cases over that store.
    pub async fn with_service<T>(
        &self,
        work: impl AsyncFnOnce(&maina_service::Service) -> Result<T>,
    ) -> Result<T> {
        self.with_store(async |store| work(&crate::commands::resident::service(store)).await)
            .await
    }

    /// Creates the data directory (0700), the key files (0600) and the database.
    pub async fn init(&self) -> Result<Store> {
        maina_store::create_private_dir(&self.data)
            .with_context(|| format!("creating the data directory {}", self.data.display()))?;
        let keys = Keys::create(&self.key_path())?;
        let checkpoint_key = self.checkpoint_key_path();
        if !checkpoint_key.exists() {
            maina_service::audit_checkpoint::create_key(&checkpoint_key)?;
        }
        Ok(Store::open(&self.db_url(), &keys).await?)
    }
}

/// A database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = url.get(scheme + 3..at).unwrap_or("");
            let user = credentials.split(':').next().unwrap_or("");
            format!(
                "{}{}@{}",
                url.get(..scheme + 3).unwrap_or(""),
                user,
                url.get(at + 1..).unwrap_or("")
            )
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn a_database_password_never_reaches_a_message() {
        assert_eq!(
            redact_url("postgres://maina:secret@db:5432/maina"),
            "postgres://maina@db:5432/maina"
        );
        assert_eq!(
            redact_url("sqlite:///tmp/x.sqlite3"),
            "sqlite:///tmp/x.sqlite3"
        );
    }
}
