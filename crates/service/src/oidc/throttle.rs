//! The authorization endpoint's throttle (issue 14, hardened): every
//! `/oidc/authorize` request writes a row (the request and its challenge) for
//! anyone who asks, so each client address may start only so many sign-ins, counted
//! in the store's shared throttle before anything is read or written. Over the
//! limit, the provider's own page answers `temporarily_unavailable` (HTTP 429)
//! — never a redirect: the client is not even looked up.

use super::oauth;
use crate::sessions::address_subject;
use crate::{ErrorKind, Result, Service, ServiceError};
use maina_store::{ThrottleRule, ThrottleVerdict};
use std::net::IpAddr;

/// Sign-ins a client address may start: (scope, window in seconds, limit). A
/// household or an office behind one address signs in a few times a minute at
/// most; a script writing rows gets 60 a minute and 600 an hour.
const LIMITS: [(&str, i64, u32); 2] = [
    ("oidc-authorize-address", 60, 60),
    ("oidc-authorize-address-hour", 3600, 600),
];

/// The throttle rules of `/oidc/authorize` for a client address.
pub(crate) fn authorize_rules(address: IpAddr) -> Vec<ThrottleRule> {
    LIMITS
        .iter()
        .map(|(scope, window_seconds, limit)| ThrottleRule {
            scope,
            subject: address_subject(address),
            window_seconds: *window_seconds,
            limit: *limit,
        })
        .collect()
}

/// A throttled authorization request: `temporarily_unavailable`, HTTP 429.
fn throttled(retry_after_seconds: i64) -> ServiceError {
    let mut error = oauth(
        "temporarily_unavailable",
        "client_address",
        format!("too many sign-ins started from this address: wait {retry_after_seconds} seconds"),
    );
    error.kind = ErrorKind::TooManyRequests;
    error
}

impl Service {
    /// Counts a sign-in started from `address`; refused over the limits.
    pub async fn oidc_authorize_allowed(&self, address: IpAddr) -> Result<()> {
        match self.store.throttle_hit(&authorize_rules(address)).await? {
            ThrottleVerdict::Allowed(_) => Ok(()),
            ThrottleVerdict::Refused {
                retry_after_seconds,
            } => Err(throttled(retry_after_seconds)),
        }
    }
}
