//! Why the card's answer was refused, for the sign-in page (issue 14, hardened).
//! A reason is recorded against a request only once the certificate's key has
//! signed that request's challenge, so only the card's holder can cause one; and
//! only the browser that made the request (its cookie) reads it while polling. The
//! reason is a code the page words in its language (`oidc-refusal-<code>`); it
//! says what to do about the card, nothing else about its holder.

use crate::{Result, Service, ServiceError};

/// The reasons the page may show (each has an `oidc-refusal-<code>` message).
pub const REFUSAL_REASONS: [&str; 9] = [
    "wrong-key",
    "unknown-certificate",
    "suspended",
    "abolished",
    "destroyed",
    "not-handed-over",
    "expired",
    "certificate-revoked",
    "no-facts",
];

/// Where a sign-in stands for its page: the status, and while it is pending the
/// reason the card's latest answer was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestProgress {
    pub status: &'static str,
    pub refusal: Option<String>,
}

impl Service {
    /// Records why the card's (validly signed) answer to request `request_id` was
    /// refused, and answers the refusal itself.
    pub(crate) async fn refused_answer(
        &self,
        request_id: &str,
        reason: &'static str,
        error: ServiceError,
    ) -> ServiceError {
        debug_assert!(REFUSAL_REASONS.contains(&reason));
        if let Err(failed) = self.store.note_refusal(request_id, reason).await {
            tracing::warn!(error = %failed, "could not note a sign-in's refusal");
        }
        error
    }

    /// Where a sign-in stands, with the reason of the card's latest refused
    /// answer while it waits; only for the browser that made it.
    pub async fn oidc_request_progress(
        &self,
        id: &str,
        browser_hash: &[u8; 32],
    ) -> Result<RequestProgress> {
        let status = self.oidc_request_status(id, browser_hash).await?;
        let refusal = if status == "pending" {
            self.store.refusal_of(id).await?
        } else {
            None
        };
        Ok(RequestProgress { status, refusal })
    }
}
