//! The provider's guards against replays and its refusal notes (issue 14):
//!
//! - a private_key_jwt client assertion's `jti` is good once until its `exp`
//!   (RFC 7523 3, OIDC Core 9): [`Store::spend_assertion_jti`];
//! - a code presented a second time revokes the tokens issued from it (RFC 6749
//!   4.1.2, 10.5): [`Store::revoke_request_tokens`], read by userinfo;
//! - why the card's answer to a request was refused, for that request's page:
//!   [`Store::note_refusal`], [`Store::refusal_of`];
//! - the portal's reveal spends its code without a sign-in record: [`Store::spend_code`].
//!
//! Each write is one statement (its own transaction); the OIDC prune worker
//! deletes what expired ([`Store::prune_oidc_replay`]).

use crate::backend::{now_micros, Query};
use crate::{Result, Store};

impl Store {
    /// Records an assertion's `jti` (its SHA-256 with the client id, `jti_hash`)
    /// until `expires_at` (microseconds). `false`: the same jti was seen before and
    /// is still kept (a replay; nothing changed).
    pub async fn spend_assertion_jti(&self, jti_hash: &[u8; 32], expires_at: i64) -> Result<bool> {
        let changed = self
            .write_one(
                "INSERT INTO oidc_assertion_jtis (jti_hash, expires_at) VALUES ($1, $2) \
                 ON CONFLICT (jti_hash) DO NOTHING",
                &[jti_hash.to_vec().into(), expires_at.into()],
            )
            .await?;
        Ok(changed == 1)
    }

    /// Revokes the tokens issued for request `request_id` (its code was presented
    /// again) until `expires_at` (microseconds), when they have expired anyway.
    pub async fn revoke_request_tokens(&self, request_id: &str, expires_at: i64) -> Result<()> {
        self.write_one(
            "INSERT INTO oidc_revoked (request_id, expires_at) VALUES ($1, $2) \
             ON CONFLICT (request_id) DO NOTHING",
            &[request_id.into(), expires_at.into()],
        )
        .await?;
        Ok(())
    }

    /// Whether the tokens of request `request_id` are revoked.
    pub async fn request_tokens_revoked(&self, request_id: &str) -> Result<bool> {
        self.reader()
            .await
            .exists(
                "SELECT 1 FROM oidc_revoked WHERE request_id = $1",
                &[request_id.into()],
            )
            .await
    }

    /// Spends a code without recording a sign-in (the portal's reveal client, whose
    /// use is audited instead): `false` when used before or expired.
    pub async fn spend_code(&self, code_hash: &[u8; 32]) -> Result<bool> {
        let changed = self
            .write_one(
                "UPDATE oidc_codes SET used_at = $1 \
                 WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1",
                &[now_micros().into(), code_hash.to_vec().into()],
            )
            .await?;
        Ok(changed == 1)
    }

    /// Notes why the card's answer to request `request_id` was refused (a reason
    /// code), for its page's polling; the latest refusal wins. Only a pending
    /// request gets one.
    pub async fn note_refusal(&self, request_id: &str, reason: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let pending = tx
            .fetch_optional(
                "SELECT expires_at FROM oidc_requests WHERE id = $1 AND status = 'pending'",
                &[request_id.into()],
            )
            .await?;
        let Some(row) = pending else {
            return Ok(());
        };
        let expires_at = row.int(0)?;
        tx.execute(
            "INSERT INTO oidc_refusals (request_id, reason, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (request_id) DO UPDATE SET reason = excluded.reason",
            &[request_id.into(), reason.into(), expires_at.into()],
        )
        .await?;
        tx.commit().await
    }

    /// The reason the card's latest answer to request `request_id` was refused.
    pub async fn refusal_of(&self, request_id: &str) -> Result<Option<String>> {
        self.read_optional(
            "SELECT reason FROM oidc_refusals WHERE request_id = $1",
            &[request_id.into()],
        )
        .await?
        .map(|row| row.text(0))
        .transpose()
    }

    /// Deletes the jtis, revocations and refusal notes that expired before
    /// `before` (microseconds); answers how many rows went.
    pub async fn prune_oidc_replay(&self, before: i64) -> Result<u64> {
        let before = before.min(now_micros());
        let mut tx = self.pool.begin().await?;
        let mut gone = 0;
        for table in ["oidc_assertion_jtis", "oidc_revoked", "oidc_refusals"] {
            gone += tx
                .execute(
                    &format!("DELETE FROM {table} WHERE expires_at < $1"),
                    &[before.into()],
                )
                .await?;
        }
        tx.commit().await?;
        Ok(gone)
    }
}
