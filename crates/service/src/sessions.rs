//! Officers' sessions: log-in (the per-address throttle, counted in the store, and
//! the store's account lockout), the session behind a token (with a short cache),
//! log-out.

use crate::{ErrorKind, Result, Service, ServiceError};
use maina_store::{LoginFailure, Officer, ThrottleRule, ThrottleVerdict};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The throttle scope of log-ins per client address.
const LOGIN_SCOPE: &str = "login-address";

/// What a client address is counted as: an IPv4 address itself, an IPv6 address
/// by its /64 (one subscriber's network holds 2^64 addresses).
pub(crate) fn address_subject(address: IpAddr) -> String {
    match address.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
        }
    }
}

impl Service {
    /// Checks a log-in against the address throttle and the account lockout; the
    /// one path of the API, the pages and (later) any other front end. The
    /// attempt is counted in the store before the password is checked, so a burst
    /// of parallel guesses gets no more answers than the limit, on every server
    /// over the same database; a successful log-in takes its count back.
    pub async fn log_in(
        &self,
        address: IpAddr,
        username: &str,
        password: &str,
    ) -> Result<(Officer, String)> {
        let rules = [ThrottleRule {
            scope: LOGIN_SCOPE,
            subject: address_subject(address),
            window_seconds: 60,
            limit: self.config.login_attempts_per_minute,
        }];
        let ticket = match self.store.throttle_hit(&rules).await? {
            ThrottleVerdict::Allowed(ticket) => ticket,
            ThrottleVerdict::Refused {
                retry_after_seconds,
            } => {
                return Err(ServiceError::new(
                    ErrorKind::TooManyRequests,
                    "too_many_attempts",
                    format!(
                        "too many log-ins from this address; wait {retry_after_seconds} seconds"
                    ),
                ))
            }
        };
        let ttl = self.config.session_minutes * 60 * 1_000_000;
        match self.store.login(username, password, ttl).await? {
            Ok(session) => {
                if let Err(error) = self.store.throttle_refund(&ticket).await {
                    tracing::warn!(%error, "could not take a log-in back from the throttle");
                }
                Ok(session)
            }
            Err(LoginFailure::BadCredentials) => Err(ServiceError::new(
                ErrorKind::Unauthenticated,
                "bad_credentials",
                "unknown user name or wrong password",
            )),
            Err(LoginFailure::Locked { .. }) => Err(ServiceError::new(
                ErrorKind::Locked,
                "account_locked",
                "too many failed log-ins: the account is locked for 15 minutes (a supervisor can reset the password)",
            )),
        }
    }

    /// The officer with a live session under `token`.
    pub async fn session(&self, token: &str) -> Result<Officer> {
        if let Some(officer) = self.sessions.get(token) {
            return Ok(officer);
        }
        let officer = self
            .store
            .session(token)
            .await?
            .ok_or_else(ServiceError::unauthenticated)?;
        self.sessions.put(token, &officer);
        Ok(officer)
    }

    /// Ends the session under `token` (at once on this server).
    pub async fn log_out(&self, token: &str) -> Result<()> {
        self.sessions.forget(token);
        self.store.logout(token).await?;
        Ok(())
    }
}

/// Live sessions seen in the last few seconds, so that a busy officer's requests do
/// not each read the sessions table. Short-lived on purpose: a session ended or an
/// account disabled elsewhere (the command line) stops working within `TTL`;
/// log-outs through this server take effect at once.
#[derive(Debug, Default)]
pub struct SessionCache {
    entries: Mutex<HashMap<String, (Officer, Instant)>>,
}

impl SessionCache {
    const TTL: Duration = Duration::from_secs(5);
    const CAPACITY: usize = 10_000;

    pub fn get(&self, token: &str) -> Option<Officer> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(token)
            .filter(|(_, at)| at.elapsed() < Self::TTL)
            .map(|(officer, _)| officer.clone())
    }

    pub fn put(&self, token: &str, officer: &Officer) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= Self::CAPACITY {
                entries.retain(|_, (_, at)| at.elapsed() < Self::TTL);
            }
            if entries.len() < Self::CAPACITY {
                entries.insert(token.to_string(), (officer.clone(), Instant::now()));
            }
        }
    }

    pub fn forget(&self, token: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(token);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_ipv6_address_counts_by_its_64_and_a_mapped_ipv4_as_itself() {
        let subject = |text: &str| address_subject(text.parse().unwrap());
        assert_eq!(subject("192.0.2.7"), "192.0.2.7");
        assert_eq!(subject("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(
            subject("2001:db8:1:2:aaaa::1"),
            subject("2001:db8:1:2:bbbb::2")
        );
        assert_ne!(subject("2001:db8:1:2::1"), subject("2001:db8:1:3::1"));
    }
}
