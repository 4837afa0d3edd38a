//! Officer accounts, log-in with lockout, sessions, and the hash-chained audit trail.

use crate::db::Tx;
use crate::{now_micros, to_i64, to_u64, Result, Store, StoreError, OFFICER_COUNTER};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use maina_core::officer::{check_password, Actor, AuditEvent, Role, Username, GENESIS_HASH};
use maina_core::person::FieldError;
use maina_core::MunicipalityCode;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Failed log-ins in a row that lock an account.
pub const LOCKOUT_THRESHOLD: i64 = 5;
/// How long a locked account stays locked.
pub const LOCKOUT_MICROS: i64 = 15 * 60 * 1_000_000;

/// An officer account (never with its password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Officer {
    pub id: u64,
    pub username: String,
    pub role: Role,
    pub municipality: MunicipalityCode,
    pub disabled: bool,
    pub locked_until: i64,
}

impl Officer {
    /// The actor this officer is, for a given purpose.
    pub fn actor(&self, purpose: &str) -> Actor {
        Actor {
            officer: self.username.clone(),
            role: self.role,
            municipality: Some(self.municipality),
            purpose: purpose.to_string(),
        }
    }
}

/// Why a log-in failed. Unknown user and wrong password are one case, so the
/// answer does not tell which user names exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginFailure {
    BadCredentials,
    Locked { until: i64 },
}

/// An audit event waiting for the next group commit.
#[derive(Debug)]
pub(crate) struct QueuedAudit {
    actor: Actor,
    action: String,
    resident: Option<u64>,
    done: tokio::sync::oneshot::Sender<std::result::Result<(), String>>,
}

/// Largest group commit.
const AUDIT_BATCH: usize = 512;
/// Scheduler yields before a batch is taken.
const AUDIT_GATHER_YIELDS: usize = 4;

/// The audit writer: waits for an event, takes every other queued event too, and
/// commits them in one transaction. Ends when the last `Store` is dropped.
pub(crate) async fn audit_writer(
    pool: crate::db::Pool,
    mut events: tokio::sync::mpsc::Receiver<QueuedAudit>,
    key: [u8; 32],
) {
    while let Some(first) = events.recv().await {
        let mut batch = vec![first];
        // Let the requests already running reach their audit call first: a few
        // yields turn a stream of one-event commits into batches.
        for _ in 0..AUDIT_GATHER_YIELDS {
            tokio::task::yield_now().await;
        }
        while batch.len() < AUDIT_BATCH {
            match events.try_recv() {
                Ok(event) => batch.push(event),
                Err(_) => break,
            }
        }
        let result = async {
            let mut tx = pool.begin().await?;
            let events: Vec<(&Actor, &str, Option<u64>)> = batch
                .iter()
                .map(|e| (&e.actor, e.action.as_str(), e.resident))
                .collect();
            Store::audit_batch_in(&mut tx, &key, &events).await?;
            tx.commit().await
        }
        .await
        .map_err(|e| e.to_string());
        for event in batch {
            let _ = event.done.send(result.clone());
        }
    }
}

/// The result of [`Store::verify_audit`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    pub events: u64,
    /// The first problem found, if any.
    pub problem: Option<String>,
}

fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    // Argon2id with the crate's defaults (19 MiB, 2 passes): OWASP's recommendation.
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn password_matches(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

const OFFICER_COLUMNS: &str = "id, username, role, municipality, disabled, locked_until";

fn decode_officer(row: &crate::db::Row) -> Result<Officer> {
    Ok(Officer {
        id: to_u64(row.int(0)?)?,
        username: row.text(1)?,
        role: row
            .text(2)?
            .parse()
            .map_err(|e: FieldError| StoreError::Corrupt(e.to_string()))?,
        municipality: row
            .text(3)?
            .parse()
            .map_err(|e: maina_core::IdError| StoreError::Corrupt(e.to_string()))?,
        disabled: row.int(4)? != 0,
        locked_until: row.int(5)?,
    })
}

impl Store {
    // ---- officers -------------------------------------------------------------

    /// Adds an officer account.
    pub async fn add_officer(
        &self,
        username: &Username,
        role: Role,
        municipality: MunicipalityCode,
        password: &str,
        by: &Actor,
    ) -> Result<Officer> {
        if role == Role::Administrator {
            return Err(StoreError::Rejected(
                FieldError::new("role", "administrator is not an officer role").into(),
            ));
        }
        check_password(password).map_err(|e| StoreError::Rejected(e.into()))?;
        let hash = hash_password(password)?;
        let mut tx = self.pool.begin().await?;
        let taken = tx
            .fetch_optional(
                "SELECT id FROM officers WHERE username = $1",
                &[username.as_str().into()],
            )
            .await?;
        if taken.is_some() {
            return Err(StoreError::Rejected(
                FieldError::new("username", "is already taken").into(),
            ));
        }
        let id = Self::take_keys(&mut tx, OFFICER_COUNTER, 1).await?.start;
        tx.execute(
            "INSERT INTO officers (id, username, role, municipality, password_hash, disabled, failed_logins, locked_until, created_at) \
             VALUES ($1, $2, $3, $4, $5, 0, 0, 0, $6)",
            &[
                to_i64(id)?.into(),
                username.as_str().into(),
                role.as_str().into(),
                municipality.as_digits().into(),
                hash.into(),
                now_micros().into(),
            ],
        )
        .await?;
        self.audit_in(
            &mut tx,
            by,
            &format!("officer-add {username} {role} {}", municipality.as_digits()),
            None,
        )
        .await?;
        tx.commit().await?;
        self.officer(username.as_str()).await
    }

    /// One officer by user name.
    pub async fn officer(&self, username: &str) -> Result<Officer> {
        let sql = format!("SELECT {OFFICER_COLUMNS} FROM officers WHERE username = $1");
        let row = self
            .pool
            .reader()
            .await
            .fetch_optional(&sql, &[username.trim().to_ascii_lowercase().into()])
            .await?
            .ok_or(StoreError::NotFound("officer"))?;
        decode_officer(&row)
    }

    /// Every officer, by user name.
    pub async fn officers(&self) -> Result<Vec<Officer>> {
        let sql = format!("SELECT {OFFICER_COLUMNS} FROM officers ORDER BY username");
        let rows = self.pool.reader().await.fetch_all(&sql, &[]).await?;
        rows.iter().map(decode_officer).collect()
    }

    /// Disables (or enables) an account; disabling ends its sessions.
    pub async fn set_officer_disabled(
        &self,
        username: &str,
        disabled: bool,
        by: &Actor,
    ) -> Result<()> {
        let officer = self.officer(username).await?;
        let mut tx = self.pool.begin().await?;
        tx.execute(
            "UPDATE officers SET disabled = $1 WHERE id = $2",
            &[i64::from(disabled).into(), to_i64(officer.id)?.into()],
        )
        .await?;
        if disabled {
            tx.execute(
                "DELETE FROM sessions WHERE officer_id = $1",
                &[to_i64(officer.id)?.into()],
            )
            .await?;
        }
        let action = if disabled {
            "officer-disable"
        } else {
            "officer-enable"
        };
        self.audit_in(&mut tx, by, &format!("{action} {}", officer.username), None)
            .await?;
        tx.commit().await
    }

    /// Sets a new password; it also lifts a lockout and ends the account's sessions.
    pub async fn set_officer_password(
        &self,
        username: &str,
        password: &str,
        by: &Actor,
    ) -> Result<()> {
        check_password(password).map_err(|e| StoreError::Rejected(e.into()))?;
        let officer = self.officer(username).await?;
        let hash = hash_password(password)?;
        let mut tx = self.pool.begin().await?;
        tx.execute(
            "UPDATE officers SET password_hash = $1, failed_logins = 0, locked_until = 0 WHERE id = $2",
            &[hash.into(), to_i64(officer.id)?.into()],
        )
        .await?;
        tx.execute(
            "DELETE FROM sessions WHERE officer_id = $1",
            &[to_i64(officer.id)?.into()],
        )
        .await?;
        self.audit_in(
            &mut tx,
            by,
            &format!("officer-passwd {}", officer.username),
            None,
        )
        .await?;
        tx.commit().await
    }

    /// Checks a user name and password. After [`LOCKOUT_THRESHOLD`] failures in a
    /// row the account locks for 15 minutes, whatever password is then given.
    /// On success, opens a session valid for `ttl_micros` and returns its token.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        ttl_micros: i64,
    ) -> Result<std::result::Result<(Officer, String), LoginFailure>> {
        let username = username.trim().to_ascii_lowercase();
        let mut tx = self.pool.begin().await?;
        let row = tx
            .fetch_optional(
                "SELECT id, password_hash, disabled, failed_logins, locked_until FROM officers WHERE username = $1",
                &[username.as_str().into()],
            )
            .await?;
        let now = now_micros();
        let Some(row) = row else {
            drop(tx);
            // Spend the same time as a real check, so timing tells nothing either.
            let _ = password_matches(password, dummy_hash());
            return Ok(Err(LoginFailure::BadCredentials));
        };
        let id = row.int(0)?;
        let stored = row.text(1)?;
        let disabled = row.int(2)? != 0;
        let failed = row.int(3)?;
        let locked_until = row.int(4)?;
        if locked_until > now {
            return Ok(Err(LoginFailure::Locked {
                until: locked_until,
            }));
        }
        if disabled || !password_matches(password, &stored) {
            let failed = failed + 1;
            let (failed, locked_until) = if failed >= LOCKOUT_THRESHOLD {
                (0, now + LOCKOUT_MICROS)
            } else {
                (failed, 0)
            };
            tx.execute(
                "UPDATE officers SET failed_logins = $1, locked_until = $2 WHERE id = $3",
                &[failed.into(), locked_until.into(), id.into()],
            )
            .await?;
            tx.commit().await?;
            return Ok(Err(if locked_until > now {
                LoginFailure::Locked {
                    until: locked_until,
                }
            } else {
                LoginFailure::BadCredentials
            }));
        }
        let mut raw = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
        tx.execute(
            "UPDATE officers SET failed_logins = 0, locked_until = 0 WHERE id = $1",
            &[id.into()],
        )
        .await?;
        tx.execute(
            "INSERT INTO sessions (token_hash, officer_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            &[token_hash(&token).into(), id.into(), now.into(), (now + ttl_micros).into()],
        )
        .await?;
        tx.commit().await?;
        let officer = self.officer(&username).await?;
        Ok(Ok((officer, token)))
    }

    /// The officer behind a session token, if the session is live and the account
    /// enabled.
    pub async fn session(&self, token: &str) -> Result<Option<Officer>> {
        let sql = "SELECT o.id, o.username, o.role, o.municipality, o.disabled, o.locked_until, s.expires_at \
                   FROM sessions s JOIN officers o ON o.id = s.officer_id WHERE s.token_hash = $1";
        let row = self
            .pool
            .reader()
            .await
            .fetch_optional(sql, &[token_hash(token).into()])
            .await?;
        let Some(row) = row else { return Ok(None) };
        let officer = decode_officer(&row)?;
        if officer.disabled || row.int(6)? <= now_micros() {
            return Ok(None);
        }
        Ok(Some(officer))
    }

    /// Ends a session.
    pub async fn logout(&self, token: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        tx.execute(
            "DELETE FROM sessions WHERE token_hash = $1",
            &[token_hash(token).into()],
        )
        .await?;
        tx.commit().await
    }

    // ---- audit trail ----------------------------------------------------------

    /// Appends events to the audit trail in the caller's transaction, so that a
    /// change and its audit event commit together or not at all.
    pub(crate) async fn audit_in(
        &self,
        tx: &mut Tx<'_>,
        actor: &Actor,
        action: &str,
        resident: Option<u64>,
    ) -> Result<()> {
        Self::audit_batch_in(tx, &self.audit_key, &[(actor, action, resident)]).await
    }

    /// Appends several events: the head is read and written once, the links are
    /// computed in memory, the rows go in with one insert path.
    pub(crate) async fn audit_batch_in(
        tx: &mut Tx<'_>,
        key: &[u8; 32],
        events: &[(&Actor, &str, Option<u64>)],
    ) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        // Locks the chain head (a row lock on PostgreSQL; SQLite has one writer).
        let head = tx
            .fetch_optional(
                "UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash",
                &[],
            )
            .await?;
        let (mut seq, mut previous) = match head {
            Some(row) => {
                let hash: [u8; 32] = row
                    .bytes(1)?
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("audit head hash".into()))?;
                (to_u64(row.int(0)?)?, hash)
            }
            None => {
                tx.execute(
                    "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, $1)",
                    &[GENESIS_HASH.to_vec().into()],
                )
                .await?;
                (0, GENESIS_HASH)
            }
        };
        let at = now_micros();
        let mut rows = Vec::with_capacity(events.len());
        for (actor, action, resident) in events {
            seq += 1;
            let event = AuditEvent {
                seq,
                at,
                officer: actor.officer.clone(),
                role: actor.role.as_str().to_string(),
                municipality: actor
                    .municipality
                    .map(|m| m.as_digits())
                    .unwrap_or_default(),
                action: action.to_string(),
                resident: *resident,
                purpose: actor.purpose.clone(),
            };
            let hash = event.chain_hash(&previous, key);
            rows.push(vec![
                to_i64(event.seq)?.into(),
                event.at.into(),
                event.officer.into(),
                event.role.into(),
                event.municipality.into(),
                event.action.into(),
                event.resident.map(to_i64).transpose()?.into(),
                event.purpose.into(),
                previous.to_vec().into(),
                hash.to_vec().into(),
            ]);
            previous = hash;
        }
        tx.insert_many(
            "INSERT INTO audit_events (seq, at, officer, role, municipality, action, resident_id, purpose, prev_hash, hash) VALUES",
            "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &rows,
        )
        .await?;
        tx.execute(
            "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1",
            &[to_i64(seq)?.into(), previous.to_vec().into()],
        )
        .await?;
        Ok(())
    }

    /// Records a read of personal information (or any other audited action), and
    /// returns once it is committed.
    ///
    /// Group commit: events go to one writer task, which appends everything queued
    /// in one transaction and then answers every caller. A read is never answered
    /// before its audit event is durable, and a busy server pays one commit per
    /// batch instead of one per read.
    pub async fn audit(&self, actor: &Actor, action: &str, resident: Option<u64>) -> Result<()> {
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let event = QueuedAudit {
            actor: actor.clone(),
            action: action.to_string(),
            resident,
            done: done_tx,
        };
        if self.audit_sender.send(event).await.is_err() {
            return Err(StoreError::Audit("the audit writer has stopped".into()));
        }
        match done_rx.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(StoreError::Audit(error)),
            Err(_) => Err(StoreError::Audit("the audit batch was dropped".into())),
        }
    }

    /// The audit events about one resident (or all, with `None`), oldest first.
    pub async fn audit_events(&self, resident: Option<u64>) -> Result<Vec<AuditEvent>> {
        let columns = "seq, at, officer, role, municipality, action, resident_id, purpose";
        let mut reader = self.pool.reader().await;
        let rows = match resident {
            Some(resident) => {
                reader
                    .fetch_all(
                        &format!(
                        "SELECT {columns} FROM audit_events WHERE resident_id = $1 ORDER BY seq"
                    ),
                        &[to_i64(resident)?.into()],
                    )
                    .await?
            }
            None => {
                reader
                    .fetch_all(
                        &format!("SELECT {columns} FROM audit_events ORDER BY seq"),
                        &[],
                    )
                    .await?
            }
        };
        rows.iter()
            .map(|row| {
                Ok(AuditEvent {
                    seq: to_u64(row.int(0)?)?,
                    at: row.int(1)?,
                    officer: row.text(2)?,
                    role: row.text(3)?,
                    municipality: row.text(4)?,
                    action: row.text(5)?,
                    resident: row.opt_int(6)?.map(to_u64).transpose()?,
                    purpose: row.text(7)?,
                })
            })
            .collect()
    }

    /// Walks the whole chain: every event must follow the one before it, carry the
    /// previous link and hash to its own link, and the last must be the head.
    pub async fn verify_audit(&self) -> Result<AuditReport> {
        let rows = self
            .pool
            .reader()
            .await
            .fetch_all(
                "SELECT seq, at, officer, role, municipality, action, resident_id, purpose, prev_hash, hash \
                 FROM audit_events ORDER BY seq",
                &[],
            )
            .await?;
        let mut previous = GENESIS_HASH;
        let mut count = 0u64;
        let report = |count, problem: String| {
            Ok(AuditReport {
                events: count,
                problem: Some(problem),
            })
        };
        for (expected_seq, row) in (1u64..).zip(rows.iter()) {
            let event = AuditEvent {
                seq: to_u64(row.int(0)?)?,
                at: row.int(1)?,
                officer: row.text(2)?,
                role: row.text(3)?,
                municipality: row.text(4)?,
                action: row.text(5)?,
                resident: row.opt_int(6)?.map(to_u64).transpose()?,
                purpose: row.text(7)?,
            };
            if event.seq != expected_seq {
                return report(
                    count,
                    format!("event {expected_seq} is missing (next is {})", event.seq),
                );
            }
            if row.bytes(8)? != previous {
                return report(
                    count,
                    format!(
                        "event {} does not follow event {} (removed or reordered)",
                        event.seq,
                        event.seq - 1
                    ),
                );
            }
            let hash = event.chain_hash(&previous, &self.audit_key);
            if row.bytes(9)? != hash {
                return report(count, format!("event {} was altered", event.seq));
            }
            previous = hash;
            count = expected_seq;
        }
        let head = self
            .pool
            .reader()
            .await
            .fetch_optional("SELECT seq, hash FROM audit_head WHERE id = 1", &[])
            .await?;
        match head {
            Some(head) if to_u64(head.int(0)?)? != count || head.bytes(1)? != previous => {
                report(count, format!("the trail ends at event {count} but its head says {}: events were removed at the end", head.int(0)?))
            }
            None if count > 0 => report(count, "the trail has no head".into()),
            _ => Ok(AuditReport { events: count, problem: None }),
        }
    }
}

/// A real Argon2id hash of a random password, checked when the user is unknown.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("unknown user, unknown password").unwrap_or_default())
}
