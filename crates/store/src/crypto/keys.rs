//! The key file: kept outside the database (created by `maina init`), readable by
//! its owner only. Losing it makes the stored personal data unreadable and the
//! numbers unmappable; keeping it apart means a stolen database alone reveals
//! neither.
//!
//! Two kinds of keys live in it:
//!
//! - **Data masters**, by id: each gives one data key of the sealing ring (HKDF).
//!   The highest id seals; `maina keys rotate` adds one and, once every value is
//!   re-sealed, drops the older ones.
//! - **Stable keys**, which never rotate with the data key: the two FF1 keys (a My
//!   Number *is* its row key under FF1, so a new FF1 key would renumber the
//!   country), the blind-index key (a new one needs every index rebuilt), the audit
//!   chain key (every past link is keyed with it) and the key check.
//!
//! Format 1 (every data directory made by `maina init`): one line of 64 hexadecimal
//! characters, the *root* master. It is data master 1 and every stable key is
//! derived from it. Format 2 (written by the first rotation, so the root can be
//! retired): one key a line, `stable HEX PURPOSE` and `data ID HEX`.

use hkdf::Hkdf;
use rand::RngCore;
use sha2::Sha256;
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The purposes of the keys that never rotate with the data key.
pub(crate) const MY_NUMBER_FF1_PURPOSE: &str = "maina my-number ff1";
pub(crate) const RESIDENT_CODE_FF1_PURPOSE: &str = "maina resident-code ff1";
const KEY_CHECK_PURPOSE: &str = "maina key check";
const STABLE_PURPOSES: [&str; 5] = [
    MY_NUMBER_FF1_PURPOSE,
    RESIDENT_CODE_FF1_PURPOSE,
    super::BLIND_INDEX_PURPOSE,
    super::AUDIT_CHAIN_PURPOSE,
    KEY_CHECK_PURPOSE,
];
/// The id of the root master's data key.
const ROOT_DATA_ID: u32 = 1;
const FORMAT_2_HEADER: &str =
    "# maina key file, format 2: keep it safe, readable by its owner only (chmod 600)";

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
    #[error("key file {path} is malformed: {reason}")]
    Malformed { path: PathBuf, reason: String },
    #[error(
        "key file {path} is readable by group or others (mode {mode:04o}): refusing to use it; \
         run `chmod 600 {path}` (and check who may have read it)"
    )]
    Exposed { path: PathBuf, mode: u32 },
}

/// Refuses a private file (a key) that anyone but its owner may read or write.
pub fn check_owner_only(path: &Path) -> Result<(), KeyError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let metadata = std::fs::metadata(path).map_err(|source| KeyError::Io {
            path: path.into(),
            source,
        })?;
        let mode = metadata.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(KeyError::Exposed {
                path: path.into(),
                mode,
            });
        }
    }
    Ok(())
}

/// The stable keys and the data masters.
pub struct Keys {
    stable: Vec<(String, Zeroizing<[u8; 32]>)>,
    /// Data masters by ascending id; the last one seals.
    data: Vec<(u32, Zeroizing<[u8; 32]>)>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<u32> = self.data.iter().map(|(id, _)| *id).collect();
        write!(f, "Keys(data key ids {ids:?}, ..)")
    }
}

fn hkdf(master: &[u8; 32], purpose: &str) -> Zeroizing<[u8; 32]> {
    let hkdf = Hkdf::<Sha256>::new(Some(b"maina key derivation v1"), master);
    let mut key = Zeroizing::new([0u8; 32]);
    // 32 bytes is far below HKDF-SHA256's limit of 8160, so expand cannot fail.
    let _ = hkdf.expand(purpose.as_bytes(), key.as_mut());
    key
}

fn random_key() -> Zeroizing<[u8; 32]> {
    let mut key = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(key.as_mut());
    key
}

fn parse_hex(text: &str, path: &Path) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let mut key = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text, key.as_mut()).map_err(|_| KeyError::Malformed {
        path: path.into(),
        reason: "a key is not 64 hexadecimal characters".into(),
    })?;
    Ok(key)
}

/// Writes a new file readable by its owner only; `create_new`, so never over a key.
pub(crate) fn write_private(path: &Path, content: &[u8]) -> Result<(), KeyError> {
    let io = |source| KeyError::Io {
        path: path.into(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io)?;
    file.write_all(content).map_err(io)?;
    file.sync_all().map_err(io)
}

/// Creates `dir` (and its missing parents) accessible by its owner only.
pub fn create_private_dir(dir: &Path) -> Result<(), std::io::Error> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

impl Keys {
    /// Keys from raw root-master bytes (tests and benchmarks).
    pub fn from_bytes(master: [u8; 32]) -> Self {
        Self::from_root(Zeroizing::new(master))
    }

    fn from_root(root: Zeroizing<[u8; 32]>) -> Self {
        let stable = STABLE_PURPOSES
            .iter()
            .map(|purpose| (purpose.to_string(), hkdf(&root, purpose)))
            .collect();
        Self {
            stable,
            data: vec![(ROOT_DATA_ID, root)],
        }
    }

    /// Creates a new key file (format 1) with a fresh random root, readable by its
    /// owner only, in a directory of its own (0700).
    pub fn create(path: &Path) -> Result<Self, KeyError> {
        if path.exists() {
            return Err(KeyError::Exists { path: path.into() });
        }
        if let Some(parent) = path.parent() {
            create_private_dir(parent).map_err(|source| KeyError::Io {
                path: parent.into(),
                source,
            })?;
        }
        let root = random_key();
        let mut text = Zeroizing::new(hex::encode(root.as_ref()));
        text.push('\n');
        write_private(path, text.as_bytes())?;
        Ok(Self::from_root(root))
    }

    /// Loads a key file (either format). Refuses one readable by group or others.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        check_owner_only(path)?;
        let text =
            Zeroizing::new(
                std::fs::read_to_string(path).map_err(|source| KeyError::Io {
                    path: path.into(),
                    source,
                })?,
            );
        let malformed = |reason: &str| KeyError::Malformed {
            path: path.into(),
            reason: reason.into(),
        };
        if !text.trim_start().starts_with('#') {
            return Ok(Self::from_root(parse_hex(text.trim(), path)?));
        }
        let mut stable = Vec::new();
        let mut data: Vec<(u32, Zeroizing<[u8; 32]>)> = Vec::new();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut words = line.splitn(3, ' ');
            match (words.next(), words.next(), words.next()) {
                (Some("stable"), Some(key), Some(purpose)) => {
                    stable.push((purpose.to_string(), parse_hex(key, path)?))
                }
                (Some("data"), Some(id), Some(key)) => {
                    let id = id
                        .parse()
                        .map_err(|_| malformed("a data key id is not a number"))?;
                    data.push((id, parse_hex(key, path)?));
                }
                _ => {
                    return Err(malformed(
                        "a line is neither `stable HEX PURPOSE` nor `data ID HEX`",
                    ))
                }
            }
        }
        if let Some(missing) = STABLE_PURPOSES
            .iter()
            .find(|purpose| !stable.iter().any(|(held, _)| held == *purpose))
        {
            return Err(malformed(&format!("no stable key for {missing:?}")));
        }
        if data.is_empty() {
            return Err(malformed("no data key"));
        }
        data.sort_by_key(|(id, _)| *id);
        Ok(Self { stable, data })
    }

    /// Writes these keys over the key file at `path` in format 2, atomically: a
    /// crash leaves either the old file or the new one, never half of one.
    pub fn save(&self, path: &Path) -> Result<(), KeyError> {
        // Allocated once, large enough: a growing string would leave copies behind.
        let mut text = Zeroizing::new(String::with_capacity(4096));
        text.push_str(FORMAT_2_HEADER);
        text.push('\n');
        for (purpose, key) in &self.stable {
            text.push_str("stable ");
            text.push_str(&Zeroizing::new(hex::encode(key.as_ref())));
            text.push_str(&format!(" {purpose}\n"));
        }
        for (id, key) in &self.data {
            text.push_str(&format!("data {id} "));
            text.push_str(&Zeroizing::new(hex::encode(key.as_ref())));
            text.push('\n');
        }
        let mut temporary = path.as_os_str().to_owned();
        temporary.push(".new");
        let temporary = PathBuf::from(temporary);
        // A leftover of a crash before the rename holds nothing the key file lacks.
        let _ = std::fs::remove_file(&temporary);
        write_private(&temporary, text.as_bytes())?;
        std::fs::rename(&temporary, path).map_err(|source| KeyError::Io {
            path: path.into(),
            source,
        })?;
        if let Some(parent) = path.parent() {
            if let Ok(dir) = std::fs::File::open(parent) {
                let _ = dir.sync_all();
            }
        }
        Ok(())
    }

    /// The card issuer's master key: derived from a stable key, so it is in every
    /// key file (old ones too) and never rotates — a chip keeps the key derived from
    /// it for its ten years. It never leaves the process: the store answers only
    /// per-card keys (`Store::card_issuer_key`).
    pub(crate) fn card_issuer_master(&self) -> Zeroizing<[u8; 32]> {
        hkdf(
            &self.stable(KEY_CHECK_PURPOSE),
            "maina card issuer master v1",
        )
    }

    /// The key of the OpenID Connect provider's pairwise subject identifiers
    /// (`oidc.rs`): derived from the key check's stable key, like the card
    /// issuer's, so it never rotates (a party's `sub` for a resident must stay the
    /// same for ever).
    pub(crate) fn pairwise_sub_master(&self) -> Zeroizing<[u8; 32]> {
        hkdf(
            &self.stable(KEY_CHECK_PURPOSE),
            "maina oidc pairwise sub v1",
        )
    }

    /// A stable key (FF1, blind index, audit chain, key check).
    pub(crate) fn stable(&self, purpose: &str) -> Zeroizing<[u8; 32]> {
        self.stable
            .iter()
            .find(|(held, _)| held == purpose)
            .map(|(_, key)| key.clone())
            // Every load checks that each stable purpose is present.
            .unwrap_or_else(|| Zeroizing::new([0u8; 32]))
    }

    /// The data keys of the sealing ring, by ascending id (the last one seals).
    pub(crate) fn data_keys(&self, purpose: &str) -> Vec<(u32, Zeroizing<[u8; 32]>)> {
        self.data
            .iter()
            .map(|(id, master)| (*id, hkdf(master, purpose)))
            .collect()
    }

    /// The ids of the data keys, ascending; the last one seals.
    pub fn data_key_ids(&self) -> Vec<u32> {
        self.data.iter().map(|(id, _)| *id).collect()
    }

    /// The id of the data key that seals.
    pub fn current_data_key_id(&self) -> u32 {
        self.data.last().map(|(id, _)| *id).unwrap_or(ROOT_DATA_ID)
    }

    /// These keys and a fresh random data master with the next id, which seals
    /// from now on (the start of a rotation).
    pub fn with_new_data_key(&self) -> Self {
        let mut data: Vec<_> = self
            .data
            .iter()
            .map(|(id, key)| (*id, key.clone()))
            .collect();
        data.push((self.current_data_key_id() + 1, random_key()));
        Self {
            stable: self.stable.clone(),
            data,
        }
    }

    /// These keys without the data masters older than the current one (the end of
    /// a rotation: nothing is sealed with them any more).
    pub fn without_old_data_keys(&self) -> Self {
        let current = self.current_data_key_id();
        Self {
            stable: self.stable.clone(),
            data: self
                .data
                .iter()
                .filter(|(id, _)| *id == current)
                .map(|(id, key)| (*id, key.clone()))
                .collect(),
        }
    }

    /// A short fingerprint stored in the database, so that opening it with another
    /// key file fails loudly instead of producing garbage. It comes from a stable
    /// key, so it survives rotations of the data key.
    pub fn fingerprint(&self) -> String {
        let key = self.stable(KEY_CHECK_PURPOSE);
        hex::encode(key.get(..8).unwrap_or(&[]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotated_key_file_keeps_the_stable_keys_and_drops_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join("master.key");
        let first = Keys::create(&path).unwrap();
        let fingerprint = first.fingerprint();
        let ff1 = first.stable(MY_NUMBER_FF1_PURPOSE);
        let data_1 = first.data_keys("seal").pop().unwrap().1;
        let rotated = first.with_new_data_key();
        rotated.save(&path).unwrap();
        let loaded = Keys::load(&path).unwrap();
        assert_eq!(loaded.data_key_ids(), vec![1, 2]);
        assert_eq!(loaded.data_keys("seal")[0].1, data_1);
        loaded.without_old_data_keys().save(&path).unwrap();
        let retired = Keys::load(&path).unwrap();
        assert_eq!(retired.data_key_ids(), vec![2]);
        assert_eq!(retired.fingerprint(), fingerprint);
        assert_eq!(retired.stable(MY_NUMBER_FF1_PURPOSE), ff1);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(&hex::encode(first.data[0].1.as_ref())));
    }
}
