//! The status inquiry (REFERENCE section 3): a form ID — or, unlike the real service,
//! the receipt number — and the birth date give the application's status, its date
//! and what happens next. Brute force is held off: an unknown number and a wrong
//! birth date get the same answer after the same work (the store compares one keyed
//! hash in constant time); every try is counted, before it is answered, per number
//! and per client address in the store's shared throttle (a success takes its
//! count back); every failure is audited.

use crate::sessions::address_subject;
use crate::{ErrorKind, Result, Service, ServiceError};
use chrono::NaiveDate;
use maina_core::application::ApplicationStatus;
use maina_core::officer::Actor;
use maina_core::{ApplicationFormId, ReceiptNumber};
use maina_store::{ThrottleRule, ThrottleVerdict};
use std::net::IpAddr;

/// The inquiry's limits: (scope, what it counts, window in seconds, attempts per
/// window). Per number, 3 tries a quarter of an hour and 12 a day: guessing a
/// birth date among some 36,000 takes years. Per client address, more (a
/// household, an office behind one address; successes are taken back), still
/// far from a sweep.
const LIMITS: [(&str, Subject, i64, u32); 4] = [
    ("inquiry-number", Subject::Number, 15 * 60, 3),
    ("inquiry-number-day", Subject::Number, 24 * 3600, 12),
    ("inquiry-address", Subject::Address, 15 * 60, 60),
    ("inquiry-address-day", Subject::Address, 24 * 3600, 500),
];

/// What a limit counts.
#[derive(Debug, Clone, Copy)]
enum Subject {
    Number,
    Address,
}

/// The inquiry's throttle rules for a looked-up number from a client address (also
/// the booking page's: the same guard for the issue notice's number).
pub(crate) fn inquiry_rules(number: &str, address: IpAddr) -> Vec<ThrottleRule> {
    LIMITS
        .iter()
        .map(|(scope, subject, window_seconds, limit)| ThrottleRule {
            scope,
            subject: match subject {
                Subject::Number => number.to_owned(),
                Subject::Address => address_subject(address),
            },
            window_seconds: *window_seconds,
            limit: *limit,
        })
        .collect()
}

/// The answer to too many wrong tries (the inquiry's and the booking page's).
pub(crate) fn too_many_attempts(retry_after_seconds: i64) -> ServiceError {
    ServiceError::new(
        ErrorKind::TooManyRequests,
        "too_many_attempts",
        format!("too many wrong tries: wait {retry_after_seconds} seconds"),
    )
}

/// The one answer to an unknown number and to a wrong birth date (the inquiry's
/// and the booking page's).
pub(crate) fn no_match() -> ServiceError {
    ServiceError::new(
        ErrorKind::NotFound,
        "no_match",
        "no application matches this number and birth date",
    )
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
        S::Shipped | S::AtMunicipality => "Your card has been made and shipped to your city office. The office will send you an issue notice telling where and by when to collect it.",
        S::ReadyForPickup => "Your card is ready. Book a time with the issue notice's number and collect the card at the office it names.",
        S::PostedToResident => "Your card is on its way to you by registered mail.",
        S::HandedOver => "Your card has been handed over.",
        S::Destroyed => "The card was not collected in time and has been destroyed. Apply again if you still want a card.",
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
        // Counted before the answer, in the store: parallel guesses each get their
        // own count, and every server over the database counts together.
        let ticket = match self
            .store
            .throttle_hit(&inquiry_rules(&key, address))
            .await?
        {
            ThrottleVerdict::Allowed(ticket) => ticket,
            ThrottleVerdict::Refused {
                retry_after_seconds,
            } => {
                audit("blocked").await;
                return Err(too_many_attempts(retry_after_seconds));
            }
        };
        match self.store.inquire(number.as_ref(), birth).await? {
            Some(found) => {
                // Whoever knows the birth date learns nothing by guessing: a
                // success takes its count back.
                if let Err(error) = self.store.throttle_refund(&ticket).await {
                    tracing::warn!(%error, "could not take an inquiry back from the throttle");
                }
                Ok(StatusAnswer {
                    status: found.status,
                    since: crate::dates::japan_date(found.since).unwrap_or(birth),
                })
            }
            None => {
                audit("failed").await;
                Err(no_match())
            }
        }
    }
}
