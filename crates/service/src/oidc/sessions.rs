//! The secrets a browser holds in cookies during and after a sign-in: the
//! provider's per-request browser binding (the page that started a sign-in is the
//! only one that may continue it), the portal's log-in state (its PKCE verifier,
//! `state` and `nonce`), and the resident session of the portal (30 minutes idle).
//! Only SHA-256 digests of these secrets are stored.

use super::b64url;
use crate::{Result, Service};
use rand::RngCore;

/// How long a resident session lives without a request (microseconds).
pub const RESIDENT_IDLE_MICROS: i64 = 30 * 60 * 1_000_000;

/// A new random secret (256 bits, base64url).
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    b64url(&bytes)
}

/// The digest under which a secret is stored.
pub fn secret_hash(secret: &str) -> [u8; 32] {
    maina_pki::sha256(secret.as_bytes())
}

/// The S256 code challenge of a PKCE verifier.
pub fn pkce_challenge(verifier: &str) -> String {
    b64url(&maina_pki::sha256(verifier.as_bytes()))
}

/// A live resident session: whose, and its id (the digest of its cookie, hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentSessionInfo {
    pub resident_key: u64,
    pub session_id: String,
}

impl Service {
    /// Opens a resident session after a sign-in; answers the cookie's secret.
    pub async fn open_resident_session(&self, resident_key: u64) -> Result<String> {
        let secret = new_secret();
        self.store
            .open_resident_session(&secret_hash(&secret), resident_key)
            .await?;
        Ok(secret)
    }

    /// The live session behind a cookie's secret.
    pub async fn resident_session(&self, secret: &str) -> Result<Option<ResidentSessionInfo>> {
        let hash = secret_hash(secret);
        Ok(self
            .store
            .resident_session(&hash, RESIDENT_IDLE_MICROS)
            .await?
            .map(|session| ResidentSessionInfo {
                resident_key: session.resident_key,
                session_id: hex::encode(hash),
            }))
    }

    /// Ends the session behind a cookie's secret (log-out).
    pub async fn end_resident_session(&self, secret: &str) -> Result<bool> {
        Ok(self
            .store
            .end_resident_session(&secret_hash(secret))
            .await?)
    }
}
