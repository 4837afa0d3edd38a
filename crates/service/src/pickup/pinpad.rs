//! The PIN pad: the officer opens a session for a card (or, for a card delivered
//! home, for an application) and is shown a short one-time code; the full-screen
//! PIN pad page is paired by typing it; the resident types each PIN twice; the PINs
//! are checked against their rules (refusals in the resident's language, naming the
//! rule) and go straight to the chip through APDUs. Nobody else ever receives them:
//! the answer is only "PINs set". For a card delivered home they are held sealed
//! until written at issue, then erased.

use crate::sessions::address_subject;
use crate::{i18n, ErrorKind, Result, Service, ServiceError};
use chrono::{Duration, Utc};
use maina_card::personalise::{parse_pins, set_initial_pins, PersonaliseError, TypedPins};
use maina_card::{Card, InitialPins};
use maina_core::card::{PinError, PinKind};
use maina_core::officer::{Actor, Role};
use maina_core::MunicipalityCode;
use maina_proto::{
    PinpadCodeRequest, PinpadCodeResponse, PinpadOpened, PinpadPinsRequest, PinpadPinsResponse,
};
use maina_store::{ApplicationRecord, PinpadSession, ThrottleRule, ThrottleVerdict};
use rand::Rng;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use zeroize::Zeroizing;

/// How long a pairing code works.
pub const PINPAD_MINUTES: i64 = 10;

/// Wrong codes allowed per client address in 10 minutes (a right one takes its
/// count back); with about 40 bits per code, guessing one is out of reach anyway.
pub const PINPAD_CODE_TRIES: u32 = 20;

/// The code's alphabet: no 0/O, 1/I/L to misread.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
/// 8 symbols of 31: about 40 bits, for a code that lives 10 minutes.
const CODE_LEN: usize = 8;

pub(crate) fn new_code() -> String {
    let mut rng = rand::rngs::OsRng;
    (0..CODE_LEN)
        .map(|_| {
            let index = rng.gen_range(0..CODE_ALPHABET.len());
            char::from(CODE_ALPHABET.get(index).copied().unwrap_or(b'A'))
        })
        .collect()
}

/// The code as stored: SHA-256 of its symbols, upper-cased, spaces and hyphens
/// dropped (as typed).
pub fn code_hash(code: &str) -> [u8; 32] {
    let clean: String = code
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    Sha256::digest(clean.as_bytes()).into()
}

/// The PIN fields of the requests: each PIN kind, its field, its confirmation and
/// its label's message id.
pub(crate) const FIELDS: [(PinKind, &str, &str, &str); 4] = [
    (
        PinKind::Authentication,
        "auth_pin",
        "auth_pin_again",
        "pinpad-pin-auth",
    ),
    (
        PinKind::Signature,
        "sign_pin",
        "sign_pin_again",
        "pinpad-pin-sign",
    ),
    (
        PinKind::Residence,
        "residence_pin",
        "residence_pin_again",
        "pinpad-pin-residence",
    ),
    (
        PinKind::Support,
        "support_pin",
        "support_pin_again",
        "pinpad-pin-support",
    ),
];

pub(crate) fn rule_message(error: &PinError) -> &'static str {
    match error {
        PinError::FourDigits(_) => "pinpad-rule-four-digits",
        PinError::SignatureShape => "pinpad-rule-signature-shape",
        PinError::SignatureMix => "pinpad-rule-signature-mix",
    }
}

pub(crate) fn bad_code() -> ServiceError {
    ServiceError::new(
        ErrorKind::NotFound,
        "not_found",
        "no such PIN pad session: check the code on the officer's screen",
    )
    .with_field("code")
}

impl Service {
    /// Opens the PIN pad for a card at the counter: answers the one-time code the
    /// officer's screen shows. Audited.
    pub async fn open_pinpad(&self, actor: &Actor, card_id: &str) -> Result<PinpadOpened> {
        let at = self.card_at_counter(actor, card_id).await?;
        if at.chip.pins_set() {
            return Err(ServiceError::new(
                ErrorKind::Conflict,
                "pins_already_set",
                "the PINs of this card are already set",
            ));
        }
        if self.store.handed_over(&at.card.id).await? {
            return Err(ServiceError::new(
                ErrorKind::Conflict,
                "already_handed_over",
                "this card has already been handed over",
            ));
        }
        self.open_pinpad_for(actor, &at.application, Some(&at.card.id))
            .await
    }

    pub(crate) async fn open_pinpad_for(
        &self,
        actor: &Actor,
        application: &ApplicationRecord,
        card_id: Option<&str>,
    ) -> Result<PinpadOpened> {
        let code = new_code();
        let expires = Utc::now() + Duration::minutes(PINPAD_MINUTES);
        self.store
            .open_pinpad(
                &code_hash(&code),
                application.id,
                card_id,
                expires.timestamp_micros(),
                application.resident_key,
                actor,
            )
            .await?;
        Ok(PinpadOpened {
            code,
            expires_at: expires.to_rfc3339(),
        })
    }

    /// The PIN pad's session behind a code, with its application. Wrong codes are
    /// counted per client address in the store's throttle, and audited.
    pub(crate) async fn pinpad_session(
        &self,
        code: &str,
        address: IpAddr,
    ) -> Result<(PinpadSession, ApplicationRecord)> {
        let rules = [ThrottleRule {
            scope: "pinpad-code",
            subject: address_subject(address),
            window_seconds: 600,
            limit: PINPAD_CODE_TRIES,
        }];
        let ticket = match self.store.throttle_hit(&rules).await? {
            ThrottleVerdict::Allowed(ticket) => ticket,
            ThrottleVerdict::Refused {
                retry_after_seconds,
            } => {
                self.audit_public_attempt("PIN pad", "pinpad-code", "blocked", address)
                    .await;
                return Err(ServiceError::new(
                    ErrorKind::TooManyRequests,
                    "too_many_attempts",
                    format!("too many wrong codes: wait {retry_after_seconds} seconds"),
                ));
            }
        };
        let session = match self.store.open_pinpad_session(&code_hash(code)).await {
            Ok(session) => session,
            Err(maina_store::StoreError::NotFound(_)) => {
                self.audit_public_attempt("PIN pad", "pinpad-code", "failed", address)
                    .await;
                return Err(bad_code());
            }
            Err(error) => return Err(error.into()),
        };
        if let Err(error) = self.store.throttle_refund(&ticket).await {
            tracing::warn!(%error, "could not take a PIN pad code back from the throttle");
        }
        let application = self.store.application(session.application_id).await?;
        Ok((session, application))
    }

    /// The PIN pad page pairs with a code: answers the resident's language.
    pub async fn pinpad_code(
        &self,
        request: &PinpadCodeRequest,
        address: IpAddr,
    ) -> Result<PinpadCodeResponse> {
        let (session, application) = self.pinpad_session(&request.code, address).await?;
        Ok(PinpadCodeResponse {
            language: i18n::language(&application.details.language).to_owned(),
            reset_pin: session.reset_pin,
        })
    }

    /// The four PINs from the PIN pad: each typed twice and checked against its rule
    /// (a refusal names the field and the rule, in the resident's language, and
    /// writes nothing), then set on the chip by APDUs and the card saved — or, for a
    /// card delivered home, held sealed until written. The session is used up.
    pub async fn pinpad_set(
        &self,
        request: &PinpadPinsRequest,
        address: IpAddr,
    ) -> Result<PinpadPinsResponse> {
        let (session, application) = self.pinpad_session(&request.code, address).await?;
        if session.reset_pin.is_some() {
            // A reset's session sets one PIN, through `pinpad_reset` only.
            return Err(bad_code());
        }
        let lang = i18n::language(&application.details.language);
        let typed = [
            (&request.auth_pin, &request.auth_pin_again),
            (&request.sign_pin, &request.sign_pin_again),
            (&request.residence_pin, &request.residence_pin_again),
            (&request.support_pin, &request.support_pin_again),
        ];
        for ((_, field, again, label), (pin, repeated)) in FIELDS.iter().zip(typed) {
            if pin.trim().is_empty() {
                let message = format!(
                    "{}: {}",
                    self.message(lang, label),
                    self.message(lang, "pinpad-required")
                );
                return Err(ServiceError::invalid(field, message));
            }
            if !bool::from(subtle::ConstantTimeEq::ct_eq(
                pin.trim().to_ascii_uppercase().as_bytes(),
                repeated.trim().to_ascii_uppercase().as_bytes(),
            )) {
                let message = format!(
                    "{}: {}",
                    self.message(lang, label),
                    self.message(lang, "pinpad-mismatch")
                );
                return Err(ServiceError::invalid(again, message));
            }
        }
        let pins = parse_pins(&TypedPins {
            authentication: &request.auth_pin,
            signature: &request.sign_pin,
            residence: &request.residence_pin,
            support: &request.support_pin,
        })
        .map_err(|(kind, error)| {
            let (field, label) = FIELDS
                .iter()
                .find(|(k, ..)| *k == kind)
                .map_or(("auth_pin", "pinpad-pin-auth"), |(_, f, _, l)| (*f, *l));
            let message = format!(
                "{}: {}",
                self.message(lang, label),
                self.message(lang, rule_message(&error))
            );
            ServiceError::invalid(field, message)
        })?;
        let [authentication, signature, residence, support] = &pins;
        let initial = InitialPins {
            authentication,
            signature,
            residence,
            support,
        };
        let municipality: Option<MunicipalityCode> = application.municipality.parse().ok();
        // The pad acts for the officer who opened it.
        let actor = Actor {
            officer: session.officer.clone(),
            role: Role::Counter,
            municipality,
            purpose: "PIN pad".into(),
        };
        let Some(card_id) = session.card_id.as_deref() else {
            // Delivered home: held, sealed, until the card is made and posted.
            let held = Zeroizing::new(
                pins.iter()
                    .map(|p| String::from_utf8_lossy(p.as_bytes()).into_owned())
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
            self.store
                .pinpad_hold_pins(
                    &session,
                    held.as_bytes(),
                    Some(application.resident_key),
                    &actor,
                )
                .await?;
            return Ok(PinpadPinsResponse {
                state: "pins-held".into(),
            });
        };
        let (card, chip) = self.store.counter_card(card_id).await?;
        let mut chip = Card::from_bytes(&chip).map_err(|e| ServiceError::internal(&e))?;
        set_initial_pins(&mut chip, &initial).map_err(|error| match error {
            PersonaliseError::Refused { .. } => ServiceError::new(
                ErrorKind::Conflict,
                "pins_already_set",
                "the PINs of this card are already set",
            ),
            other => ServiceError::internal(&other),
        })?;
        let bytes = chip.to_bytes().map_err(|e| ServiceError::internal(&e))?;
        self.store
            .pinpad_pins_written(
                &session,
                &bytes,
                card.chip_version,
                Some(application.resident_key),
                &actor,
            )
            .await?;
        Ok(PinpadPinsResponse {
            state: "pins-set".into(),
        })
    }
}
