//! Reissue and renewal (issue 13, items 2 and 3): at the counter, an application
//! for a new card that replaces the old one — lost, damaged, a full notes panel, or
//! the card's end (the renewal, from three months before) — with the fee the counter
//! took (`maina_core::card::ReissueFee`, the one rule: ¥800 + ¥200, free on expiry
//! or a full notes panel). The application then follows the issuance path (review,
//! manufacture, shipment, issue notice, the counter); the old card is abolished in
//! the new card's hand-over transaction (the store's `replace_old_card_in`).

use super::CardOfResident;
use crate::applications::new_receipt;
use crate::{ErrorKind, Result, Service, ServiceError};
use chrono::NaiveDate;
use maina_core::application::Channel;
use maina_core::card::{check_renewal, renewal_opens, FeeError, ReissueFee, ReissueReason};
use maina_core::card::CardState;
use maina_core::officer::{Actor, Permission};
use maina_core::person::{Citizenship, Name};
use maina_core::resident::ResidentStatus;
use maina_core::ApplicationFormId;
use maina_proto::{ReissueRequest, ReissueResponse, RenewalWindowResponse};
use maina_store::{ApplicationDetails, NewApplication, NewReplacement, PoliceReport};
use rand::Rng;

/// The longest police report receipt number and station name accepted.
const POLICE_RECEIPT_MAX: usize = 40;
const POLICE_STATION_MAX: usize = 80;

/// The states a card may be replaced from: a card in use (active) or reported lost
/// (suspended). A card not yet handed over is not replaced (its application is the
/// one to follow), an abolished or destroyed one has nothing left to replace.
fn replaceable(state: CardState) -> bool {
    matches!(state, CardState::Active | CardState::Suspended)
}

impl CardOfResident {
    /// The card's last day, if it has one (demonstration cards have none).
    pub fn last_day(&self) -> Result<Option<NaiveDate>> {
        self.card
            .expires_on
            .as_deref()
            .map(|day| NaiveDate::parse_from_str(day, "%Y-%m-%d"))
            .transpose()
            .map_err(|e| ServiceError::internal(&e))
    }

    /// Whether the card is good for a relying party on `date`: active and not past
    /// its last day (`CardState::usable_on`, the one rule).
    pub fn usable_on(&self, date: NaiveDate) -> Result<bool> {
        Ok(self.state.usable_on(self.last_day()?, date))
    }
}

fn reason_of(raw: &str) -> Result<ReissueReason> {
    ReissueReason::from_code(raw.trim()).ok_or_else(|| {
        ServiceError::invalid(
            "reason",
            format!("must be one of {}", ReissueReason::codes()),
        )
    })
}

fn text_field(field: &str, raw: &str, max: usize) -> Result<String> {
    let text = raw.trim();
    if text.is_empty() || text.chars().count() > max || text.chars().any(char::is_control) {
        return Err(ServiceError::invalid(
            field,
            format!("must be 1 to {max} characters on one line"),
        ));
    }
    Ok(text.to_owned())
}

/// The police report, both parts or neither, and only for a lost card.
fn police_report(request: &ReissueRequest, reason: ReissueReason) -> Result<Option<PoliceReport>> {
    fn given(value: &Option<String>) -> Option<&str> {
        value.as_deref().filter(|text| !text.trim().is_empty())
    }
    match (
        given(&request.police_receipt_number),
        given(&request.police_station),
    ) {
        (None, None) => Ok(None),
        (Some(_), Some(_)) if reason != ReissueReason::Lost => Err(ServiceError::invalid(
            "police_receipt_number",
            "a police report goes only with a lost card",
        )),
        (Some(receipt), Some(station)) => Ok(Some(PoliceReport {
            receipt_number: text_field("police_receipt_number", receipt, POLICE_RECEIPT_MAX)?,
            station: text_field("police_station", station, POLICE_STATION_MAX)?,
        })),
        (Some(_), None) => Err(ServiceError::invalid(
            "police_station",
            "is needed with the police report's receipt number",
        )),
        (None, Some(_)) => Err(ServiceError::invalid(
            "police_receipt_number",
            "is needed with the police station",
        )),
    }
}

fn fee_refused(error: FeeError) -> ServiceError {
    let code = match error {
        FeeError::Missing { .. } => "fee_missing",
        FeeError::NotDue { .. } => "fee_not_due",
    };
    ServiceError::new(ErrorKind::Invalid, code, error.to_string()).with_field("fee_paid_yen")
}

impl Service {
    /// Applies for a new card replacing `request.card_id` (counter and supervisors
    /// of the municipality where its holder lives). Refused, changing nothing: an
    /// unknown reason, a fee not exactly the one due ("fee missing"), a police
    /// report half given, a card not active or suspended, a holder no longer an
    /// active resident, a renewal before its window opens (the refusal names the
    /// day it opens), a replacement already under way.
    pub async fn reissue_card(
        &self,
        actor: &Actor,
        request: &ReissueRequest,
        today: NaiveDate,
    ) -> Result<ReissueResponse> {
        let reason = reason_of(&request.reason)?;
        let police = police_report(request, reason)?;
        let fee = ReissueFee::due(reason, request.with_certificates);
        fee.check_paid(request.fee_paid_yen).map_err(fee_refused)?;
        let found = self
            .card_for(actor, Permission::ServiceCard, &request.card_id)
            .await?;
        if found.resident.status != ResidentStatus::Active {
            return Err(ServiceError::new(
                ErrorKind::Conflict,
                "not_allowed",
                "the card's holder is not an active resident: no new card can be made",
            ));
        }
        if !replaceable(found.state) {
            return Err(ServiceError::new(
                ErrorKind::Conflict,
                "wrong_state",
                format!(
                    "the card is {}: only an active or suspended card can be replaced",
                    found.state.code()
                ),
            )
            .with_field("card_id"));
        }
        if reason == ReissueReason::Expiry {
            let last = found.last_day()?.ok_or_else(|| {
                ServiceError::new(ErrorKind::Conflict, "not_allowed", "the card has no end")
            })?;
            check_renewal(last, today).map_err(|early| {
                ServiceError::new(ErrorKind::Conflict, "too_early", early.to_string())
                    .with_field("reason")
            })?;
        }
        let application = self
            .replacement_application(&found, reason, request.with_certificates)
            .await?;
        let record = self
            .store
            .apply_replacement(
                &NewReplacement {
                    old_card_id: found.card.id.clone(),
                    old_state: found.state,
                    reason,
                    fee,
                    police,
                    application,
                },
                found.resident.resident_key,
                actor,
                || new_receipt().ok(),
            )
            .await?;
        let old = self.store.card_record(&found.card.id).await?;
        Ok(ReissueResponse {
            application_id: record.id,
            receipt_number: record.details.receipt.clone(),
            status: record.status.code().into(),
            old_card_id: found.card.id,
            reason: reason.code().into(),
            card_fee_yen: fee.card_yen,
            certificates_fee_yen: fee.certificates_yen,
            old_card_state: old.status,
        })
    }

    /// The new card's application: the holder's name and birth date from the
    /// registry; language, e-mail, Braille and photo from the old card's
    /// application when there is one; the renewal form ID of the card's expiry
    /// letter for a renewal, else a new form ID.
    async fn replacement_application(
        &self,
        found: &CardOfResident,
        reason: ReissueReason,
        with_certificates: bool,
    ) -> Result<NewApplication> {
        let old = match found.card.application_id {
            Some(id) => Some((
                self.store.application(id).await?,
                self.store.application_photo(id).await?,
            )),
            None => None,
        };
        let form_id = match reason {
            ReissueReason::Expiry => self.store.renewal_form(&found.card.id).await?,
            _ => None,
        };
        let form_id = match form_id {
            Some(form_id) => form_id,
            None => ApplicationFormId::new(
                found.municipality,
                rand::rngs::OsRng.gen_range(0..ApplicationFormId::RANDOM_SPACE),
            )
            .map_err(|e| ServiceError::internal(&e))?,
        };
        let person = &found.resident.record.person;
        let name = match &person.name {
            Name::Foreign {
                alphabet,
                alias: Some(alias),
                ..
            } => format!("{alias} ({alphabet})"),
            name => name.to_string(),
        };
        let receipt = new_receipt()?;
        let (language, email, braille, photo) = match old {
            Some((application, photo)) => (
                application.details.language,
                application.details.email,
                application.details.braille,
                photo,
            ),
            None => {
                let language = match person.citizenship {
                    Citizenship::Japanese => "ja",
                    _ => "en",
                };
                (language.to_owned(), None, false, None)
            }
        };
        Ok(NewApplication {
            form_id,
            receipt,
            channel: Channel::Counter,
            details: ApplicationDetails {
                name,
                birth_date: person.birth_date,
                email,
                language,
                electronic_certificate: with_certificates,
                braille,
                receipt: receipt.as_digits(),
            },
            photo,
        })
    }

    /// When a card's renewal can be applied for (its read audited).
    pub async fn renewal_window(
        &self,
        actor: &Actor,
        card_id: &str,
        today: NaiveDate,
    ) -> Result<RenewalWindowResponse> {
        let found = self.card_for(actor, Permission::ReadCard, card_id).await?;
        self.store
            .audit(
                actor,
                "card.renewal-window-read",
                Some(found.resident.resident_key),
            )
            .await?;
        let last = found.last_day()?.ok_or_else(|| ServiceError::not_found("card"))?;
        let opens_on = renewal_opens(last);
        Ok(RenewalWindowResponse {
            card_id: found.card.id,
            expires_on: last.format("%Y-%m-%d").to_string(),
            opens_on: opens_on.format("%Y-%m-%d").to_string(),
            open: today >= opens_on,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn request(reason: &str) -> ReissueRequest {
        ReissueRequest {
            card_id: "0123456789ABCDEF".into(),
            reason: reason.into(),
            with_certificates: true,
            fee_paid_yen: None,
            police_receipt_number: None,
            police_station: None,
        }
    }

    #[test]
    fn bad_input_names_its_field() {
        assert_eq!(reason_of("stolen").unwrap_err().field.as_deref(), Some("reason"));
        assert_eq!(reason_of(" notes-full ").unwrap(), ReissueReason::NotesFull);
        let half = ReissueRequest {
            police_receipt_number: Some("R-2026-001".into()),
            ..request("lost")
        };
        assert_eq!(
            police_report(&half, ReissueReason::Lost).unwrap_err().field.as_deref(),
            Some("police_station")
        );
        let both = ReissueRequest {
            police_station: Some("丸の内警察署".into()),
            ..half
        };
        assert_eq!(
            police_report(&both, ReissueReason::Lost).unwrap().unwrap().station,
            "丸の内警察署"
        );
        assert!(police_report(&both, ReissueReason::Damaged).is_err());
        let missing = fee_refused(
            ReissueFee::due(ReissueReason::Lost, true)
                .check_paid(None)
                .unwrap_err(),
        );
        assert_eq!(missing.code, "fee_missing");
        assert_eq!(missing.field.as_deref(), Some("fee_paid_yen"));
        assert!(replaceable(CardState::Suspended));
        assert!(!replaceable(CardState::Revoked));
        assert!(!replaceable(CardState::Received));
    }
}
