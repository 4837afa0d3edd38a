//! The status inquiry (REFERENCE section 3): a form ID — or, unlike the real service,
//! the receipt number — and the birth date give the application's status, its date
//! and what happens next. Brute force is held off: an unknown number and a wrong
//! birth date get the same answer after the same work (the store compares one keyed
//! hash in constant time); failures are counted per number and per client address,
//! and each failure past the first few doubles the wait; every failure is audited.

use crate::error::ApiError;
use crate::AppState;
use axum::http::StatusCode;
use chrono::NaiveDate;
use maina_core::application::ApplicationStatus;
use maina_core::officer::Actor;
use maina_core::{ApplicationFormId, ReceiptNumber};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed before waiting starts.
const FREE_FAILURES: u32 = 3;
/// The longest wait.
const MAX_WAIT: Duration = Duration::from_secs(3600);
/// Failures are forgotten after a quiet day.
const FORGET_AFTER: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

impl Failures {
    /// Until when the next try must wait.
    fn blocked_until(&self) -> Option<Instant> {
        let over = self.count.checked_sub(FREE_FAILURES)?;
        let wait = Duration::from_secs(1u64 << over.min(12)).min(MAX_WAIT);
        Some(self.last + wait)
    }
}

/// Failure counters, per looked-up number and per client address.
#[derive(Debug, Default)]
pub struct InquiryThrottle {
    by_number: Mutex<HashMap<String, Failures>>,
    by_address: Mutex<HashMap<IpAddr, Failures>>,
}

impl InquiryThrottle {
    /// How long the caller must still wait, if at all.
    fn wait(&self, number: &str, address: IpAddr) -> Option<Duration> {
        let now = Instant::now();
        let number_until = self
            .by_number
            .lock()
            .ok()
            .and_then(|m| m.get(number).and_then(Failures::blocked_until));
        let address_until = self
            .by_address
            .lock()
            .ok()
            .and_then(|m| m.get(&address).and_then(Failures::blocked_until));
        [number_until, address_until]
            .into_iter()
            .flatten()
            .max()
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    fn failed(&self, number: &str, address: IpAddr) {
        let now = Instant::now();
        let bump = |failures: &mut Failures| {
            failures.count = failures.count.saturating_add(1);
            failures.last = now;
        };
        let fresh = Failures {
            count: 0,
            last: now,
        };
        if let Ok(mut map) = self.by_number.lock() {
            map.retain(|_, f| now.duration_since(f.last) < FORGET_AFTER);
            bump(map.entry(number.to_owned()).or_insert(fresh));
        }
        if let Ok(mut map) = self.by_address.lock() {
            map.retain(|_, f| now.duration_since(f.last) < FORGET_AFTER);
            bump(map.entry(address).or_insert(fresh));
        }
    }

    fn succeeded(&self, number: &str) {
        if let Ok(mut map) = self.by_number.lock() {
            map.remove(number);
        }
    }
}

/// A status, as the inquiry answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusAnswer {
    pub status: ApplicationStatus,
    pub since: NaiveDate,
}

/// The number the resident typed: a 23-digit form ID or a 16-digit receipt number.
fn parse_number(text: &str) -> Result<Result<ApplicationFormId, ReceiptNumber>, ApiError> {
    let digits: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    let refuse = |message: String| {
        ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "number",
            message,
        )
    };
    match digits.chars().count() {
        16 => digits
            .parse::<ReceiptNumber>()
            .map(Err)
            .map_err(|e| refuse(e.to_string())),
        _ => digits
            .parse::<ApplicationFormId>()
            .map(Ok)
            .map_err(|e| refuse(e.to_string())),
    }
}

/// Audits an attempt by the public (a failed inquiry, a refused application) as
/// `application.{what}-{outcome}:{address}`: the address, never the number tried.
pub(crate) async fn audit_public_attempt(
    state: &AppState,
    purpose: &str,
    what: &str,
    outcome: &str,
    address: IpAddr,
) {
    let public = Actor::administrator("public", purpose);
    let action = format!("application.{what}-{outcome}:{address}");
    if let Err(error) = state.store.audit(&public, &action, None).await {
        tracing::warn!(%error, action, "could not audit an attempt");
    }
}

/// Records a failed or held-off inquiry.
async fn audit_attempt(state: &AppState, outcome: &str, address: IpAddr) {
    audit_public_attempt(state, "status inquiry", "inquiry", outcome, address).await;
}

/// The one inquiry path of the API and the page.
pub async fn inquire(
    state: &AppState,
    number_text: &str,
    birth_text: &str,
    address: IpAddr,
) -> Result<StatusAnswer, ApiError> {
    let number = parse_number(number_text)?;
    let birth = NaiveDate::parse_from_str(birth_text.trim(), "%Y-%m-%d").map_err(|_| {
        ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "birth_date",
            "birth_date: expected YYYY-MM-DD",
        )
    })?;
    let key = match &number {
        Ok(form) => form.as_digits(),
        Err(receipt) => receipt.as_digits(),
    };
    if let Some(wait) = state.inquiries.wait(&key, address) {
        audit_attempt(state, "blocked", address).await;
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            format!(
                "too many wrong tries: wait {} seconds",
                wait.as_secs().max(1)
            ),
        ));
    }
    let found = state.store.inquire(number.as_ref(), birth).await?;
    match found {
        Some(found) => {
            state.inquiries.succeeded(&key);
            Ok(StatusAnswer {
                status: found.status,
                since: crate::dates::japan_date(found.since).unwrap_or(birth),
            })
        }
        None => {
            state.inquiries.failed(&key, address);
            audit_attempt(state, "failed", address).await;
            Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "no_match",
                "no application matches this number and birth date",
            ))
        }
    }
}
