//! What every command shares: the data directory, the database, who is acting and
//! why; and opening the store they name.

use anyhow::{bail, Context as _, Result};
use maina_store::{Keys, Store};
use std::path::PathBuf;

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

    pub fn key_path(&self) -> PathBuf {
        self.data.join("keys").join("master.key")
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

    /// Creates the data directory, the key file and the database.
    pub async fn init(&self) -> Result<Store> {
        std::fs::create_dir_all(&self.data)
            .with_context(|| format!("creating the data directory {}", self.data.display()))?;
        let keys = Keys::create(&self.key_path())?;
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
