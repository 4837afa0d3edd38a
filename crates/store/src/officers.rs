//! Officer accounts, log-in with lockout, and sessions.

use crate::backend::{now_micros, to_i64, Query, Row, Tx};
use crate::counters::OFFICER_COUNTER;
use crate::{Result, Store, StoreError};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use maina_core::officer::{check_password, Actor, Role, Username};
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
/// answer does not tell which user names exist. `Locked` is answered to any
/// password, right or wrong, after the same password check: it tells nothing of
/// the password, and costs what any other answer costs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginFailure {
    BadCredentials,
    Locked { until: i64 },
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

/// [`password_matches`] on a blocking thread, against `stored` or, for an unknown
/// user, against a dummy hash (false then, after the same work).
async fn password_matches_off_thread(password: &str, stored: Option<String>) -> Result<bool> {
    let password = zeroize::Zeroizing::new(password.to_owned());
    tokio::task::spawn_blocking(move || match stored {
        Some(stored) => password_matches(&password, &stored),
        None => {
            let _ = password_matches(&password, dummy_hash());
            false
        }
    })
    .await
    .map_err(|error| StoreError::Corrupt(format!("password check: {error}")))
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

const OFFICER_COLUMNS: &str = "id, username, role, municipality, disabled, locked_until";

fn decode_officer(row: &Row) -> Result<Officer> {
    decode_row!(row => Officer {
        id: key, username: text, role: parsed, municipality: parsed, disabled: flag,
        locked_until: int,
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
            .exists(
                "SELECT id FROM officers WHERE username = $1",
                &[username.as_str().into()],
            )
            .await?;
        if taken {
            return Err(StoreError::Rejected(
                FieldError::new("username", "is already taken").into(),
            ));
        }
        let id = Self::take_key(&mut tx, OFFICER_COUNTER).await?;
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
            .read_found(
                "officer",
                &sql,
                &[username.trim().to_ascii_lowercase().into()],
            )
            .await?;
        decode_officer(&row)
    }

    /// Every officer, by user name.
    pub async fn officers(&self) -> Result<Vec<Officer>> {
        let sql = format!("SELECT {OFFICER_COLUMNS} FROM officers ORDER BY username");
        let rows = self.read_all(&sql, &[]).await?;
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
    ///
    /// The password is checked first, on a blocking thread and outside any
    /// transaction: Argon2id's tens of milliseconds hold neither an async worker
    /// nor the database's single writer (SQLite), so no other write waits for a
    /// log-in. An unknown user costs the same check (against a dummy hash), and so
    /// does a locked account, which then answers "locked" whatever the password
    /// (answering it only to the right password would make the lock a password
    /// oracle).
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        ttl_micros: i64,
    ) -> Result<std::result::Result<(Officer, String), LoginFailure>> {
        let username = username.trim().to_ascii_lowercase();
        let account = self
            .read_optional(
                "SELECT id, password_hash FROM officers WHERE username = $1",
                &[username.as_str().into()],
            )
            .await?
            .map(|row| Ok::<_, StoreError>((row.int(0)?, row.text(1)?)))
            .transpose()?;
        let matches =
            password_matches_off_thread(password, account.as_ref().map(|(_, hash)| hash.clone()))
                .await?;
        let Some((id, verified_hash)) = account else {
            return Ok(Err(LoginFailure::BadCredentials));
        };
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        // The decision is one atomic statement each way, so parallel guesses each
        // count: a right password gets in only while the account is unlocked,
        // enabled, and has the hash it was checked against.
        let admitted = matches
            && tx
                .fetch_optional(
                    "UPDATE officers SET failed_logins = 0 \
                     WHERE id = $1 AND locked_until <= $2 AND disabled = 0 AND password_hash = $3 \
                     RETURNING id",
                    &[id.into(), now.into(), verified_hash.into()],
                )
                .await?
                .is_some();
        if !admitted {
            let locked_until = match Self::count_failed_login(&mut tx, id, now).await? {
                Some(locked_until) => locked_until,
                None => tx
                    .fetch_one(
                        "SELECT locked_until FROM officers WHERE id = $1",
                        &[id.into()],
                    )
                    .await?
                    .int(0)?,
            };
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
            "INSERT INTO sessions (token_hash, officer_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            &[token_hash(&token).into(), id.into(), now.into(), (now + ttl_micros).into()],
        )
        .await?;
        tx.commit().await?;
        let officer = self.officer(&username).await?;
        Ok(Ok((officer, token)))
    }

    /// Counts a failed log-in in one atomic statement (parallel failures each
    /// count), locking the account at the threshold, and returns the account's
    /// `locked_until`; `None` when it was locked already (the count then stays).
    async fn count_failed_login(tx: &mut Tx<'_>, id: i64, now: i64) -> Result<Option<i64>> {
        let row = tx
            .fetch_optional(
                "UPDATE officers SET \
                   failed_logins = CASE WHEN failed_logins + 1 >= $1 THEN 0 ELSE failed_logins + 1 END, \
                   locked_until = CASE WHEN failed_logins + 1 >= $1 THEN $2 ELSE locked_until END \
                 WHERE id = $3 AND locked_until <= $4 \
                 RETURNING locked_until",
                &[
                    LOCKOUT_THRESHOLD.into(),
                    (now + LOCKOUT_MICROS).into(),
                    id.into(),
                    now.into(),
                ],
            )
            .await?;
        row.map(|row| row.int(0)).transpose()
    }

    /// The officer behind a session token, if the session is live and the account
    /// enabled.
    pub async fn session(&self, token: &str) -> Result<Option<Officer>> {
        let sql = "SELECT o.id, o.username, o.role, o.municipality, o.disabled, o.locked_until, s.expires_at \
                   FROM sessions s JOIN officers o ON o.id = s.officer_id WHERE s.token_hash = $1";
        let row = self.read_optional(sql, &[token_hash(token).into()]).await?;
        let Some(row) = row else { return Ok(None) };
        let officer = decode_officer(&row)?;
        if officer.disabled || row.int(6)? <= now_micros() {
            return Ok(None);
        }
        Ok(Some(officer))
    }

    /// Ends a session.
    pub async fn logout(&self, token: &str) -> Result<()> {
        self.write_one(
            "DELETE FROM sessions WHERE token_hash = $1",
            &[token_hash(token).into()],
        )
        .await?;
        Ok(())
    }
}

/// A real Argon2id hash of a random password, checked when the user is unknown.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("unknown user, unknown password").unwrap_or_default())
}
