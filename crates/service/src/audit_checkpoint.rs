//! Signed checkpoints of the audit chain's head, kept outside the database.
//!
//! The chain in the database proves that no event was edited, removed or reordered
//! *before its head*; someone who can write the database can still cut its end
//! (delete the last events and rewind `audit_head`), or empty it, and the chain
//! alone still verifies. A checkpoint is the head (sequence number, chain hash,
//! time) signed with an Ed25519 key of its own (not derived from the master key),
//! appended as one line to `checkpoints.log` in a directory that production keeps
//! on other storage (another host, an append-only or WORM mount). Verifying against
//! the checkpoints finds a chain shorter than a checkpoint, or different from it at
//! that sequence number.
//!
//! A line: `v1 SEQ HASH AT SIGNATURE`, with HASH and SIGNATURE in hexadecimal, AT
//! in RFC 3339 (UTC); the signature covers `maina audit checkpoint v1|SEQ|HASH|AT`.

use crate::Store;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use rand::RngCore;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use zeroize::Zeroizing;

/// The file of checkpoints in the checkpoint directory.
pub const CHECKPOINT_FILE: &str = "checkpoints.log";

/// Why a checkpoint could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("checkpoint key {path} is malformed: expected 64 hexadecimal characters")]
    MalformedKey { path: PathBuf },
    #[error(transparent)]
    Key(#[from] maina_store::KeyError),
    #[error(transparent)]
    Store(#[from] maina_store::StoreError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Io {
        path: path.into(),
        source,
    }
}

/// One signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: u64,
    pub hash: [u8; 32],
    /// RFC 3339, UTC.
    pub at: String,
}

impl Checkpoint {
    fn message(&self) -> String {
        format!(
            "maina audit checkpoint v1|{}|{}|{}",
            self.seq,
            hex::encode(self.hash),
            self.at
        )
    }

    fn line(&self, key: &SigningKey) -> String {
        let signature = key.sign(self.message().as_bytes());
        format!(
            "v1 {} {} {} {}\n",
            self.seq,
            hex::encode(self.hash),
            self.at,
            hex::encode(signature.to_bytes())
        )
    }

    /// A line of the file and its signature, or `None` when it is not one.
    fn parse(line: &str) -> Option<(Self, Signature)> {
        let mut words = line.split_whitespace();
        if words.next()? != "v1" {
            return None;
        }
        let seq = words.next()?.parse().ok()?;
        let mut hash = [0u8; 32];
        hex::decode_to_slice(words.next()?, &mut hash).ok()?;
        let at = words.next()?.to_string();
        let mut signature = [0u8; 64];
        hex::decode_to_slice(words.next()?, &mut signature).ok()?;
        if words.next().is_some() {
            return None;
        }
        Some((Self { seq, hash, at }, Signature::from_bytes(&signature)))
    }
}

/// Creates the checkpoint signing key (a random Ed25519 seed in hexadecimal,
/// readable by its owner only); refuses to overwrite one.
pub fn create_key(path: &Path) -> Result<(), CheckpointError> {
    if let Some(parent) = path.parent() {
        maina_store::create_private_dir(parent).map_err(io(parent))?;
    }
    let mut seed = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(seed.as_mut());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io(path))?;
    let mut text = Zeroizing::new(hex::encode(seed.as_ref()));
    text.push('\n');
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io(path))
}

/// Loads the checkpoint signing key; refuses one readable by group or others.
pub fn load_key(path: &Path) -> Result<SigningKey, CheckpointError> {
    maina_store::check_owner_only(path)?;
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(io(path))?);
    let mut seed = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text.trim(), seed.as_mut())
        .map_err(|_| CheckpointError::MalformedKey { path: path.into() })?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Writes checkpoints of one store's chain into one directory.
#[derive(Clone)]
pub struct CheckpointWriter {
    key: std::sync::Arc<SigningKey>,
    dir: PathBuf,
}

impl std::fmt::Debug for CheckpointWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckpointWriter")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl CheckpointWriter {
    /// A writer with the key at `key_path` (created there first if missing: data
    /// directories made before checkpoints existed) into `dir`.
    pub fn open(key_path: &Path, dir: &Path) -> Result<Self, CheckpointError> {
        if !key_path.exists() {
            create_key(key_path)?;
            tracing::info!(key = %key_path.display(), "created the audit checkpoint key");
        }
        Ok(Self {
            key: std::sync::Arc::new(load_key(key_path)?),
            dir: dir.into(),
        })
    }

    /// Appends a signed checkpoint of the chain's head now, and syncs it to disk.
    pub async fn write(&self, store: &Store) -> Result<Checkpoint, CheckpointError> {
        let (seq, hash) = store.audit_head().await?;
        let checkpoint = Checkpoint {
            seq,
            hash,
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        };
        maina_store::create_private_dir(&self.dir).map_err(io(&self.dir))?;
        let path = self.dir.join(CHECKPOINT_FILE);
        let mut options = std::fs::OpenOptions::new();
        options.append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&path).map_err(io(&path))?;
        file.write_all(checkpoint.line(&self.key).as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(io(&path))?;
        Ok(checkpoint)
    }
}

/// Writes a checkpoint every `period`, until the task is stopped (the server's
/// worker); a failure is logged and retried at the next tick.
pub async fn worker(store: Store, writer: CheckpointWriter, period: Duration) {
    let mut tick = tokio::time::interval(period);
    // The first tick is immediate: a checkpoint at start-up anchors the chain as
    // the server found it.
    loop {
        tick.tick().await;
        match writer.write(&store).await {
            Ok(checkpoint) => tracing::debug!(seq = checkpoint.seq, "audit checkpoint written"),
            Err(error) => tracing::warn!(%error, "the audit checkpoint could not be written"),
        }
    }
}

/// What checking the chain against the checkpoints found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointReport {
    /// Checkpoints that matched the chain.
    pub checked: u64,
    /// The first problem, naming the checkpoint.
    pub problem: Option<String>,
}

/// Checks every checkpoint in `dir` against the chain: its signature under `key`,
/// and that the chain has its sequence number with its hash. An empty or missing
/// file is a problem too: there is nothing to anchor the chain to.
pub async fn verify(
    store: &Store,
    dir: &Path,
    key: &VerifyingKey,
) -> Result<CheckpointReport, CheckpointError> {
    let path = dir.join(CHECKPOINT_FILE);
    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
    let mut checked = 0u64;
    let problem = |checked, problem: String| {
        Ok(CheckpointReport {
            checked,
            problem: Some(problem),
        })
    };
    let (events, _) = store.audit_head().await?;
    for (number, line) in (1u64..).zip(text.lines()) {
        if line.trim().is_empty() {
            continue;
        }
        let name = format!("checkpoint {number} of {}", path.display());
        let Some((checkpoint, signature)) = Checkpoint::parse(line) else {
            return problem(checked, format!("{name} is malformed"));
        };
        let name = format!("{name} (event {} at {})", checkpoint.seq, checkpoint.at);
        if key
            .verify(checkpoint.message().as_bytes(), &signature)
            .is_err()
        {
            return problem(
                checked,
                format!("{name}: its signature does not verify (forged, altered, or another key)"),
            );
        }
        match store.audit_hash_at(checkpoint.seq).await? {
            None => {
                return problem(
                    checked,
                    format!(
                        "{name}: the trail has no event {} (its head is at {events}): events were removed at its end",
                        checkpoint.seq
                    ),
                )
            }
            Some(hash) if hash != checkpoint.hash => {
                return problem(
                    checked,
                    format!(
                        "{name}: the trail differs at event {}: it was rewritten",
                        checkpoint.seq
                    ),
                )
            }
            Some(_) => checked += 1,
        }
    }
    if checked == 0 {
        return problem(0, format!("{} holds no checkpoint", path.display()));
    }
    Ok(CheckpointReport {
        checked,
        problem: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_round_trips_and_its_signature_covers_every_field() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let checkpoint = Checkpoint {
            seq: 42,
            hash: [9u8; 32],
            at: "2026-11-29T21:00:00.000000Z".into(),
        };
        let line = checkpoint.line(&key);
        let (parsed, signature) = Checkpoint::parse(&line).unwrap();
        assert_eq!(parsed, checkpoint);
        let verifying = key.verifying_key();
        assert!(verifying
            .verify(parsed.message().as_bytes(), &signature)
            .is_ok());
        let moved = Checkpoint { seq: 41, ..parsed };
        assert!(verifying
            .verify(moved.message().as_bytes(), &signature)
            .is_err());
    }

    /// The store and the checkpoint writer together, on a real SQLite file: a
    /// chain cut at its end, or emptied, still verifies alone, and fails against
    /// the checkpoint.
    #[tokio::test]
    async fn a_chain_cut_at_its_end_or_emptied_fails_against_its_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("maina.sqlite3");
        let store = Store::open(
            &maina_store::sqlite_url(&db),
            &maina_store::Keys::from_bytes([1u8; 32]),
        )
        .await
        .unwrap();
        let actor = crate::Actor::administrator("test", "test");
        for _ in 0..5 {
            store.audit(&actor, "test.read", None).await.unwrap();
        }
        let key_path = dir.path().join("keys").join("audit-checkpoint.key");
        let checkpoints = dir.path().join("checkpoints");
        let writer = CheckpointWriter::open(&key_path, &checkpoints).unwrap();
        assert_eq!(writer.write(&store).await.unwrap().seq, 5);
        let key = load_key(&key_path).unwrap().verifying_key();
        let report = verify(&store, &checkpoints, &key).await.unwrap();
        assert_eq!(
            report,
            CheckpointReport {
                checked: 1,
                problem: None
            }
        );

        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "DELETE FROM audit_events WHERE seq > 3; \
             UPDATE audit_head SET seq = 3, hash = (SELECT hash FROM audit_events WHERE seq = 3);",
        )
        .unwrap();
        assert_eq!(store.verify_audit().await.unwrap().problem, None);
        let problem = verify(&store, &checkpoints, &key)
            .await
            .unwrap()
            .problem
            .unwrap();
        assert!(
            problem.contains("checkpoint 1 of") && problem.contains("no event 5"),
            "{problem}"
        );

        conn.execute_batch("DELETE FROM audit_events; DELETE FROM audit_head;")
            .unwrap();
        assert_eq!(store.verify_audit().await.unwrap().problem, None);
        assert!(verify(&store, &checkpoints, &key)
            .await
            .unwrap()
            .problem
            .unwrap()
            .contains("removed at its end"));

        // Checkpoints signed with another key are not trusted.
        let other = SigningKey::from_bytes(&[8u8; 32]).verifying_key();
        assert!(verify(&store, &checkpoints, &other)
            .await
            .unwrap()
            .problem
            .unwrap()
            .contains("signature does not verify"));
        store.close().await;
    }
}
