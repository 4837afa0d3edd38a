//! The status inquiry (REFERENCE section 3): a form ID — or, unlike the real service,
//! the receipt number — and the birth date give the application's status, its date
//! and what happens next. Brute force is held off: an unknown number and a wrong
//! birth date get the same answer after the same work (the store compares one keyed
//! hash in constant time); failures are counted per number and per client address,
//! and each failure past the first few doubles the wait; every failure is audited.

use crate::{ErrorKind, Result, Service, ServiceError};
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
fn parse_number(text: &str) -> Result<Result<ApplicationFormId, ReceiptNumber>> {
    let digits: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    let refuse = |message: String| ServiceError::invalid("number", message);
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

/// What happens after each status, in English (*our design*; the pages and
/// e-mails say it from the catalogue).
pub fn next_step(status: ApplicationStatus) -> &'static str {
    use ApplicationStatus as S;
    match status {
        S::Received => "The card bureau will review the application, usually within a few days.",
        S::UnderReview => "The application is being checked. You will be told if anything must be corrected.",
        S::ReturnedForCorrection => "Correct what the notice says and send the application again.",
        S::CardIssuanceInProcess => "Your card is being made. The city office will send you a postcard telling where and when to collect it.",
        S::Cancelled => "The application was withdrawn or refused. Apply again if you still want a card.",
    }
}

impl Service {
    /// Audits an attempt by the public (a failed inquiry, a refused application) as
    /// `application.{what}-{outcome}:{address}`: the address, never the number
    /// tried.
    pub async fn audit_public_attempt(
        &self,
        purpose: &str,
        what: &str,
        outcome: &str,
        address: IpAddr,
    ) {
        let public = Actor::administrator("public", purpose);
        let action = format!("application.{what}-{outcome}:{address}");
        if let Err(error) = self.store.audit(&public, &action, None).await {
            tracing::warn!(%error, action, "could not audit an attempt");
        }
    }

    /// The status inquiry: one path for the API and the page.
    pub async fn inquire(
        &self,
        number_text: &str,
        birth_text: &str,
        address: IpAddr,
    ) -> Result<StatusAnswer> {
        let number = parse_number(number_text)?;
        let birth = super::parse_birth_date(birth_text)?;
        let key = match &number {
            Ok(form) => form.as_digits(),
            Err(receipt) => receipt.as_digits(),
        };
        let audit =
            |outcome| self.audit_public_attempt("status inquiry", "inquiry", outcome, address);
        if let Some(wait) = self.inquiries.wait(&key, address) {
            audit("blocked").await;
            return Err(ServiceError::new(
                ErrorKind::TooManyRequests,
                "too_many_attempts",
                format!(
                    "too many wrong tries: wait {} seconds",
                    wait.as_secs().max(1)
                ),
            ));
        }
        match self.store.inquire(number.as_ref(), birth).await? {
            Some(found) => {
                self.inquiries.succeeded(&key);
                Ok(StatusAnswer {
                    status: found.status,
                    since: crate::dates::japan_date(found.since).unwrap_or(birth),
                })
            }
            None => {
                self.inquiries.failed(&key, address);
                audit("failed").await;
                Err(ServiceError::new(
                    ErrorKind::NotFound,
                    "no_match",
                    "no application matches this number and birth date",
                ))
            }
        }
    }
}
