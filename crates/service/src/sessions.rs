//! Officers' sessions: log-in (the per-address throttle and the store's account
//! lockout), the session behind a token (with a short cache), log-out.

use crate::{ErrorKind, Result, Service, ServiceError};
use maina_store::{LoginFailure, Officer};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

impl Service {
    /// Checks a log-in against the address throttle and the account lockout; the
    /// one path of the API, the pages and (later) any other front end.
    pub async fn log_in(
        &self,
        address: IpAddr,
        username: &str,
        password: &str,
    ) -> Result<(Officer, String)> {
        if !self.login_throttle.allowed(address) {
            return Err(ServiceError::new(
                ErrorKind::TooManyRequests,
                "too_many_attempts",
                "too many failed log-ins from this address; wait a minute",
            ));
        }
        let ttl = self.config.session_minutes * 60 * 1_000_000;
        match self.store.login(username, password, ttl).await? {
            Ok(session) => Ok(session),
            Err(LoginFailure::BadCredentials) => {
                self.login_throttle.failed(address);
                Err(ServiceError::new(
                    ErrorKind::Unauthenticated,
                    "bad_credentials",
                    "unknown user name or wrong password",
                ))
            }
            Err(LoginFailure::Locked { .. }) => {
                self.login_throttle.failed(address);
                Err(ServiceError::new(
                    ErrorKind::Locked,
                    "account_locked",
                    "too many failed log-ins: the account is locked for 15 minutes (a supervisor can reset the password)",
                ))
            }
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

/// Failed log-ins per client address in a sliding minute. Works with the account
/// lockout in the store: the lockout stops guessing one account's password, this
/// stops one address from guessing many accounts.
#[derive(Debug)]
pub struct LoginThrottle {
    limit: u32,
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

const WINDOW: Duration = Duration::from_secs(60);

impl LoginThrottle {
    pub fn new(limit: u32) -> Self {
        Self {
            limit,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Is this address still allowed to try?
    pub fn allowed(&self, address: IpAddr) -> bool {
        let Ok(mut failures) = self.failures.lock() else {
            return true;
        };
        let now = Instant::now();
        failures.retain(|_, (_, since)| now.duration_since(*since) < WINDOW);
        failures
            .get(&address)
            .is_none_or(|(count, _)| *count < self.limit)
    }

    pub fn failed(&self, address: IpAddr) {
        if let Ok(mut failures) = self.failures.lock() {
            let entry = failures.entry(address).or_insert((0, Instant::now()));
            entry.0 += 1;
        }
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
