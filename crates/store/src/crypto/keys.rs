//! The key file: one 256-bit master key kept outside the database (created by
//! `maina init`), from which every working key is derived with HKDF-SHA256. Losing
//! it makes the stored personal data unreadable and the numbers unmappable; keeping
//! it apart means a stolen database alone reveals neither.

use hkdf::Hkdf;
use rand::RngCore;
use sha2::Sha256;
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Errors about the key file.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("key file {path} already exists: refusing to overwrite a key (data sealed with it would be lost)")]
    Exists { path: PathBuf },
    #[error("key file {path} is malformed: expected 64 hexadecimal characters")]
    Malformed { path: PathBuf },
}

/// The master key and the keys derived from it.
pub struct Keys {
    master: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(..)")
    }
}

impl Keys {
    /// Keys from raw master-key bytes (tests and benchmarks).
    pub fn from_bytes(master: [u8; 32]) -> Self {
        Self {
            master: Zeroizing::new(master),
        }
    }

    /// Creates a new key file with a fresh random key, readable by its owner only.
    pub fn create(path: &Path) -> Result<Self, KeyError> {
        if path.exists() {
            return Err(KeyError::Exists { path: path.into() });
        }
        let io = |source| KeyError::Io {
            path: path.into(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let mut master = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(master.as_mut());
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(io)?;
        let text = Zeroizing::new(hex::encode(master.as_ref()));
        file.write_all(text.as_bytes()).map_err(io)?;
        file.write_all(b"\n").map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(Self { master })
    }

    /// Loads an existing key file.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let text =
            Zeroizing::new(
                std::fs::read_to_string(path).map_err(|source| KeyError::Io {
                    path: path.into(),
                    source,
                })?,
            );
        let mut master = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(text.trim(), master.as_mut())
            .map_err(|_| KeyError::Malformed { path: path.into() })?;
        Ok(Self { master })
    }

    /// A 256-bit key for one purpose; different purposes get independent keys.
    pub fn derive(&self, purpose: &str) -> Zeroizing<[u8; 32]> {
        let hkdf = Hkdf::<Sha256>::new(Some(b"maina key derivation v1"), self.master.as_ref());
        let mut key = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's limit of 8160, so expand cannot fail.
        let _ = hkdf.expand(purpose.as_bytes(), key.as_mut());
        key
    }

    /// A short fingerprint stored in the database, so that opening it with another
    /// key file fails loudly instead of producing garbage.
    pub fn fingerprint(&self) -> String {
        let key = self.derive("maina key check");
        hex::encode(key.get(..8).unwrap_or(&[]))
    }
}
