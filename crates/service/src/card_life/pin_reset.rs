//! A PIN reset or unblocked at the counter (REFERENCE section 7: any of the four,
//! with the card and ID): the officer checks the identity documents and opens the
//! PIN pad for ONE PIN; the resident types the new PIN twice on the pad, and it is
//! held sealed only until written; the counter's reader then gets the chip's
//! challenge and carries the issuer's RESET RETRY COUNTER, whose receipt is checked
//! before the held PIN is erased and the history entry `pin-reset` recorded. An
//! unblock (the counter back to its maximum, the PIN kept) needs no pad.

use super::chip::{pin_kind, ChipSession};
use crate::pickup::pinpad::{bad_code, code_hash, new_code, rule_message, FIELDS, PINPAD_MINUTES};
use crate::{i18n, ErrorKind, Result, Service, ServiceError};
use chrono::{Duration, Utc};
use maina_card::personalise::{pin_location, ApduTransport};
use maina_core::card::{Pin, PinKind};
use maina_core::officer::{Actor, Role};
use maina_core::pickup::documents::IdDocument;
use maina_core::pickup::identity::proves_identity;
use maina_core::MunicipalityCode;
use maina_proto::{
    PinResetOpenRequest, PinResetResponse, PinpadOpened, PinpadPinsResponse, PinpadResetRequest,
};
use std::net::IpAddr;
use zeroize::Zeroizing;

/// Where the new PIN of a reset comes from.
#[derive(Debug)]
pub enum NewPin {
    /// Typed by the resident on the PIN pad (held sealed until written).
    FromPinpad,
    /// Typed by the resident at the counter PC's prompt.
    Typed(Zeroizing<String>),
    /// None: the counter is reset, the PIN kept (unblock).
    Unblock,
}

/// The identity documents the officer checked: one photo ID or two others.
fn identity(documents: &[String]) -> Result<()> {
    let mut parsed = Vec::new();
    for code in documents {
        let document = IdDocument::from_code(code.trim()).ok_or_else(|| {
            let choices: Vec<&str> = IdDocument::ALL.iter().map(|d| d.code()).collect();
            ServiceError::invalid(
                "documents",
                format!(
                    "unknown document {code:?}: expected one of {}",
                    choices.join(", ")
                ),
            )
        })?;
        parsed.push(document);
    }
    parsed.sort();
    parsed.dedup();
    if proves_identity(&parsed) {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            "documents",
            "the holder's identity needs one photo ID or two other documents",
        ))
    }
}

fn label(kind: PinKind) -> &'static str {
    FIELDS
        .iter()
        .find(|(k, ..)| *k == kind)
        .map_or("pinpad-pin-auth", |(.., label)| *label)
}

impl Service {
    /// Opens the PIN pad for the reset of one PIN of an active card, after the
    /// identity documents were checked: the one-time code for the pad. Audited.
    pub async fn open_pin_reset(
        &self,
        actor: &Actor,
        request: &PinResetOpenRequest,
    ) -> Result<PinpadOpened> {
        let kind = pin_kind("pin", &request.pin)?;
        identity(&request.documents)?;
        let (found, _) = self.card_at_service(actor, &request.card_id).await?;
        let application_id = found.card.application_id.ok_or_else(|| {
            ServiceError::new(
                ErrorKind::Conflict,
                "no_application",
                "this card was made without an application: the new PIN is typed at the counter PC (maina card reset-pin --typed)",
            )
        })?;
        let code = new_code();
        let expires = Utc::now() + Duration::minutes(PINPAD_MINUTES);
        self.store
            .open_pin_reset_pad(
                &code_hash(&code),
                application_id,
                &found.card.id,
                kind.code(),
                expires.timestamp_micros(),
                found.resident.resident_key,
                actor,
            )
            .await?;
        Ok(PinpadOpened {
            code,
            expires_at: expires.to_rfc3339(),
        })
    }

    /// The new PIN from the PIN pad, typed twice and checked against its rule (a
    /// refusal names the field and the rule in the resident's language, and holds
    /// nothing); then held sealed until the counter's reader writes it.
    pub async fn pinpad_reset(
        &self,
        request: &PinpadResetRequest,
        address: IpAddr,
    ) -> Result<PinpadPinsResponse> {
        let (session, application) = self.pinpad_session(&request.code, address).await?;
        let Some(kind) = session
            .reset_pin
            .as_deref()
            .and_then(|code| PinKind::ALL.into_iter().find(|k| k.code() == code))
        else {
            return Err(bad_code());
        };
        let lang = i18n::language(&application.details.language);
        let named = |message: &str| format!("{}: {}", self.message(lang, label(kind)), message);
        if request.pin.trim().is_empty() {
            return Err(ServiceError::invalid(
                "pin",
                named(&self.message(lang, "pinpad-required")),
            ));
        }
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            request.pin.trim().to_ascii_uppercase().as_bytes(),
            request.pin_again.trim().to_ascii_uppercase().as_bytes(),
        )) {
            return Err(ServiceError::invalid(
                "pin_again",
                named(&self.message(lang, "pinpad-mismatch")),
            ));
        }
        let pin = Pin::new(kind, request.pin.trim()).map_err(|error| {
            ServiceError::invalid("pin", named(&self.message(lang, rule_message(&error))))
        })?;
        let municipality: Option<MunicipalityCode> = application.municipality.parse().ok();
        // The pad acts for the officer who opened it.
        let actor = Actor {
            officer: session.officer.clone(),
            role: Role::Counter,
            municipality,
            purpose: "PIN pad".into(),
        };
        self.store
            .pinpad_hold_pins(
                &session,
                pin.as_bytes(),
                Some(application.resident_key),
                &actor,
            )
            .await?;
        Ok(PinpadPinsResponse {
            state: "pin-held".into(),
        })
    }

    /// Resets (a new PIN) or unblocks one PIN of the card in the counter's reader,
    /// through the issuer's RESET RETRY COUNTER bound to the chip's challenge. The
    /// identity documents are checked again; the new PIN comes from the pad (held
    /// sealed, erased once the chip's receipt checked) or the counter PC's prompt.
    pub async fn reset_pin<T: ApduTransport>(
        &self,
        actor: &Actor,
        card_id: &str,
        pin: &str,
        new: NewPin,
        documents: &[String],
        link: &mut T,
    ) -> Result<PinResetResponse> {
        let kind = pin_kind("pin", pin)?;
        identity(documents)?;
        let typed = match &new {
            NewPin::Typed(text) => Some(
                Pin::new(kind, text.trim())
                    .map_err(|e| ServiceError::invalid("new_pin", e.to_string()))?,
            ),
            _ => None,
        };
        let (found, key) = self.card_at_service(actor, card_id).await?;
        let (held, new_pin) = match new {
            NewPin::FromPinpad => {
                let Some((hash, value)) = self
                    .store
                    .held_reset_pin(&found.card.id, kind.code())
                    .await?
                else {
                    return Err(ServiceError::new(
                        ErrorKind::Conflict,
                        "no_new_pin",
                        format!(
                            "no new {} PIN was typed on the PIN pad for this card: open the PIN pad first",
                            kind.code()
                        ),
                    ));
                };
                let text = Zeroizing::new(String::from_utf8_lossy(&value).into_owned());
                let pin = Pin::new(kind, &text).map_err(|e| ServiceError::internal(&e))?;
                (Some(hash), Some(pin))
            }
            NewPin::Typed(_) => (None, typed),
            NewPin::Unblock => (None, None),
        };
        let (aid, fid) = pin_location(kind);
        let mut chip = ChipSession::new(link, key);
        chip.select(aid, fid)?;
        chip.run(|key, challenge| key.reset_pin(challenge, kind, new_pin.as_ref()))?;
        let done = if new_pin.is_some() {
            "new-pin"
        } else {
            "unblocked"
        };
        self.store
            .pin_reset_written(&found.card.id, held.as_deref(), kind.code(), done, actor)
            .await?;
        Ok(PinResetResponse {
            card_id: found.card.id,
            pin: kind.code().to_owned(),
            done: done.to_owned(),
        })
    }
}
