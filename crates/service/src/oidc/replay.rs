//! Replays at the token endpoint (issue 14, hardened):
//!
//! - a private_key_jwt client assertion carries a `jti` (OIDC Core 9: required)
//!   and is good once until its `exp` (RFC 7523 3): the store keeps the SHA-256 of
//!   the client id and the jti until then (and the check's leeway after it); a
//!   second use is `invalid_client` naming `client_assertion`. An assertion may
//!   live at most [`MAX_ASSERTION_SECONDS`], so the kept rows stay few;
//! - a code presented a second time revokes the access token issued from it
//!   (RFC 6749 4.1.2, 10.5): userinfo refuses it from then on. (The ID token is a
//!   self-contained statement of a past sign-in and cannot be called back.)

use super::{oauth, TOKEN_SECONDS};
use crate::{Result, Service};

/// The longest life a client assertion may claim (seconds from now to its `exp`).
pub const MAX_ASSERTION_SECONDS: i64 = 600;
/// The leeway `jsonwebtoken` allows past `exp` by default (seconds).
const LEEWAY_SECONDS: i64 = 60;

const MICROS: i64 = 1_000_000;

/// The digest an assertion's jti is kept under: bound to its client.
fn jti_hash(client_id: &str, jti: &str) -> [u8; 32] {
    let mut text = Vec::with_capacity(client_id.len() + jti.len() + 1);
    text.extend_from_slice(client_id.as_bytes());
    text.push(0);
    text.extend_from_slice(jti.as_bytes());
    maina_pki::sha256(&text)
}

impl Service {
    /// Spends a verified client assertion's `jti` (`exp` in seconds): refused when
    /// missing, too long-lived, or seen before.
    pub(crate) async fn spend_assertion(
        &self,
        client_id: &str,
        jti: Option<&str>,
        exp: i64,
    ) -> Result<()> {
        let refused = |m: &str| oauth("invalid_client", "client_assertion", m.to_owned());
        let jti = jti
            .filter(|j| !j.is_empty() && j.len() <= 512)
            .ok_or_else(|| refused("client_assertion: jti is required (1 to 512 characters)"))?;
        let now = maina_store::now_micros() / MICROS;
        if exp > now + MAX_ASSERTION_SECONDS {
            return Err(refused(&format!(
                "client_assertion: exp at most {MAX_ASSERTION_SECONDS} seconds ahead"
            )));
        }
        let keep_until = (exp + LEEWAY_SECONDS) * MICROS;
        if !self
            .store
            .spend_assertion_jti(&jti_hash(client_id, jti), keep_until)
            .await?
        {
            return Err(refused(
                "client_assertion: this jti was used before (an assertion is good once)",
            ));
        }
        Ok(())
    }

    /// Revokes the tokens issued for request `request_id` (its code was presented
    /// again), until they would have expired anyway.
    pub(crate) async fn revoke_tokens_of(&self, request_id: &str) -> Result<()> {
        let until = maina_store::now_micros() + (TOKEN_SECONDS + LEEWAY_SECONDS) * MICROS;
        Ok(self.store.revoke_request_tokens(request_id, until).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jti_is_bound_to_its_client() {
        assert_ne!(jti_hash("a", "bc"), jti_hash("ab", "c"));
        assert_eq!(jti_hash("a", "b"), jti_hash("a", "b"));
    }
}
