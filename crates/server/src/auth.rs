//! Who is calling: a bearer token (API clients) or the session cookie (pages), and
//! the per-address throttle on failed log-ins.

use crate::error::ApiError;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use maina_core::officer::Actor;
use maina_store::Officer;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "maina_session";

/// An officer with a live session.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub officer: Officer,
    pub token: String,
    /// Why the officer reads or changes data (the `X-Purpose` header, or the form's
    /// purpose field on pages); recorded in the audit trail.
    pub purpose: String,
}

impl Authenticated {
    pub fn actor(&self) -> Actor {
        self.officer.actor(&self.purpose)
    }
}

/// The session token a request carries, if any.
pub fn request_token(parts: &Parts) -> Option<String> {
    if let Some(value) = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        return value.strip_prefix("Bearer ").map(|t| t.trim().to_string());
    }
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = request_token(parts).ok_or_else(ApiError::unauthenticated)?;
        let officer = match state.sessions.get(&token) {
            Some(officer) => officer,
            None => {
                let officer = state
                    .store
                    .session(&token)
                    .await?
                    .ok_or_else(ApiError::unauthenticated)?;
                state.sessions.put(&token, &officer);
                officer
            }
        };
        let purpose = parts
            .headers
            .get("x-purpose")
            .and_then(|v| v.to_str().ok())
            .map(|p| {
                p.chars()
                    .filter(|c| !c.is_control())
                    .take(200)
                    .collect::<String>()
            })
            .filter(|p| !p.trim().is_empty())
            .unwrap_or_else(|| "api".to_string());
        Ok(Self {
            officer,
            token,
            purpose,
        })
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
