//! Pickup at the counter (REFERENCE sections 4 and 7): the officer finds the card,
//! compares the person with the application's photo, records the documents checked;
//! the resident sets the PINs on the PIN pad (`pinpad.rs`); then the certificates
//! are issued for the keys the chip generated, written to it, and the card is handed
//! over — card, certificates, application and hand-over row in one transaction.

use crate::cards::{certificate_not_after, certify_and_install, japan, Certified, Certify};
use crate::{Result, Service, ServiceError};
use base64::Engine as _;
use chrono::{NaiveDate, Utc};
use maina_card::Card;
use maina_core::application::ApplicationStatus;
use maina_core::card::{certificate_expiry, CardState};
use maina_core::officer::{Actor, Permission};
use maina_core::pickup::identity::{age_on, PickupChecks, PickupForm};
use maina_core::MunicipalityCode;
use maina_pki::HolderFacts;
use maina_proto::{CounterCardResponse, HandOverRequest, HandOverResponse};
use maina_store::{ApplicationRecord, CounterCard, HandOverRecord, ResidentView};

/// A card at the counter with everything the steps need.
pub(crate) struct AtCounter {
    pub card: CounterCard,
    pub chip: Card,
    pub application: ApplicationRecord,
    pub resident: ResidentView,
}

/// Today in Japan (the holder's birthdays and the certificates' days are Japanese).
pub(crate) fn japan_today() -> NaiveDate {
    Utc::now().with_timezone(&japan()).date_naive()
}

/// Whether the actor works the pickup counter of `municipality`.
fn internal(error: impl std::fmt::Display) -> ServiceError {
    ServiceError::internal(&error)
}

/// The core's form from the wire's request.
pub(crate) fn pickup_form(request: &HandOverRequest) -> PickupForm {
    PickupForm {
        documents: request.documents.clone(),
        proxy_reason: request.proxy_reason.clone(),
        proxy_documents: request.proxy_documents.clone(),
        proxy_reason_proof: request.proxy_reason_proof,
        representative_documents: request.representative_documents.clone(),
        representative_authority_proof: request.representative_authority_proof,
        adult_ward: request.adult_ward,
        surrendered: request.surrendered.clone(),
        decline_certificates: request.decline_certificates,
    }
}

impl Service {
    /// The card `card_id` if the actor works the counter of its municipality (any
    /// other card is "not found", a refusal audited), with its chip, application and
    /// holder.
    pub(crate) async fn card_at_counter(&self, actor: &Actor, card_id: &str) -> Result<AtCounter> {
        let not_found = || ServiceError::not_found("card");
        let card_id = card_id.trim().to_ascii_uppercase();
        if card_id.len() != 16 || !card_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(not_found());
        }
        let (card, chip) = match self.store.counter_card(&card_id).await {
            Ok(found) => found,
            Err(maina_store::StoreError::NotFound(_)) => return Err(not_found()),
            Err(error) => return Err(error.into()),
        };
        let (Some(application_id), Some(resident_key)) = (card.application_id, card.resident_key)
        else {
            return Err(not_found());
        };
        let application = self.store.application(application_id).await?;
        let municipality: MunicipalityCode =
            application.municipality.parse().map_err(|_| not_found())?;
        self.require(actor, Permission::HandOverCard, &municipality, "card")
            .await?;
        let resident = self.store.resident(resident_key).await?;
        let chip = Card::from_bytes(&chip).map_err(internal)?;
        Ok(AtCounter {
            card,
            chip,
            application,
            resident,
        })
    }

    /// The card to hand over, as the counter shows it: the holder's name, birth date
    /// and application photo to compare with the person; whether the PINs are set.
    /// The read is audited.
    pub async fn counter_card(&self, actor: &Actor, card_id: &str) -> Result<CounterCardResponse> {
        let at = self.card_at_counter(actor, card_id).await?;
        self.store
            .audit(actor, "pickup.card-read", Some(at.resident.resident_key))
            .await?;
        let photo = self.store.application_photo(at.application.id).await?;
        let birth = at.resident.record.person.birth_date;
        Ok(CounterCardResponse {
            card_id: at.card.id.clone(),
            card_status: at.card.status.clone(),
            application_status: at.application.status.code().to_owned(),
            name: at.resident.record.person.name.to_string(),
            birth_date: birth.format("%Y-%m-%d").to_string(),
            photo_base64: photo.map(|p| base64::engine::general_purpose::STANDARD.encode(p)),
            card_number: at.card.card_number.clone(),
            expires_on: at.card.expires_on.clone(),
            pins_set: at.chip.pins_set(),
            under_15: age_on(birth, japan_today()) < 15,
            electronic_certificate: at.application.details.electronic_certificate,
        })
    }

    /// The card the counter looks up by what the officer typed or scanned: an issue
    /// notice's number (16 digits, as printed, spaces and hyphens allowed) or a card
    /// id.
    pub async fn find_counter_card(
        &self,
        actor: &Actor,
        given: &str,
    ) -> Result<CounterCardResponse> {
        let digits: String = given.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if let Ok(number) = digits.parse::<maina_core::IssueNoticeNumber>() {
            match self.card_for_notice(actor, &number).await {
                Ok(notice) => return self.counter_card(actor, &notice.card_id).await,
                // A card id of digits only may pass a notice number's check.
                Err(error) if error.kind == crate::ErrorKind::NotFound => {}
                Err(error) => return Err(error),
            }
        }
        self.counter_card(actor, given).await
    }

    /// Hands the card over at the counter: the documents checked (`request`), the
    /// PINs set on the PIN pad before, the certificates issued for the chip's keys
    /// (the signature certificate only where allowed and wanted) and written to it,
    /// the card `active`, the application `handed-over`, the hand-over recorded —
    /// one transaction. A missing document, a repeat or PINs not yet set change
    /// nothing.
    pub async fn hand_over(
        &self,
        actor: &Actor,
        card_id: &str,
        request: &HandOverRequest,
        base_url: &str,
    ) -> Result<HandOverResponse> {
        let mut at = self.card_at_counter(actor, card_id).await?;
        if request.express_fee_yen.is_some() {
            return Err(ServiceError::invalid(
                "express_fee_yen",
                "express_fee_yen: only for a card delivered home",
            ));
        }
        self.ready_for_counter(&at).await?;
        if !at.chip.pins_set() {
            return Err(ServiceError::new(
                crate::ErrorKind::Conflict,
                "pins_not_set",
                "the PINs have not been set on the PIN pad yet",
            ));
        }
        let today = japan_today();
        let checks = PickupChecks::new(
            &pickup_form(request),
            at.resident.record.person.birth_date,
            today,
        )?;
        let certified = self.certify_at_counter(&mut at, &checks, today, base_url)?;
        self.record_hand_over(&at, checks, &certified, "counter", None, actor)
            .await
    }

    /// Refuses a card that cannot be handed over now, saying why.
    async fn ready_for_counter(&self, at: &AtCounter) -> Result<()> {
        if self.store.handed_over(&at.card.id).await? {
            return Err(ServiceError::new(
                crate::ErrorKind::Conflict,
                "already_handed_over",
                "this card has already been handed over",
            ));
        }
        if at.card.status != CardState::Received.code()
            || at.application.status != ApplicationStatus::ReadyForPickup
        {
            return Err(ServiceError::new(
                crate::ErrorKind::Conflict,
                "not_allowed",
                format!(
                    "the card is {} and its application {}: it cannot be handed over",
                    at.card.status, at.application.status
                ),
            ));
        }
        Ok(())
    }

    /// Issues the certificates the checks allow for the chip's keys and writes them
    /// to the chip (nothing is recorded yet).
    pub(crate) fn certify_at_counter(
        &self,
        at: &mut AtCounter,
        checks: &PickupChecks,
        today: NaiveDate,
        base_url: &str,
    ) -> Result<Certified> {
        let authorities = self
            .authorities
            .as_ref()
            .ok_or_else(ServiceError::unavailable)?;
        let person = &at.resident.record.person;
        let mut expires = certificate_expiry(person.birth_date, today)
            .ok_or_else(|| internal("no certificate expiry for this birth date"))?;
        // Capped at the card's own expiry.
        if let Some(card_expiry) = at
            .card
            .expires_on
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        {
            expires = expires.min(card_expiry);
        }
        let public = at.chip.public_keys().map_err(internal)?;
        let now = Utc::now();
        if certificate_not_after(expires) <= now {
            return Err(internal("the certificates would end before they begin"));
        }
        certify_and_install(
            authorities,
            &mut at.chip,
            &public,
            &Certify {
                card_id: &at.card.id,
                holder: HolderFacts {
                    name: person.name.to_string(),
                    address: at.resident.record.address.as_str().to_owned(),
                    birth_date: person.birth_date.format("%Y%m%d").to_string(),
                    sex: person.sex.iso5218().to_string(),
                },
                expires,
                authentication: checks.authentication_certificate(),
                signature: checks
                    .signature_certificate(at.application.details.electronic_certificate),
                base_url,
                now,
            },
        )
        .map_err(internal)
    }

    /// Records a hand-over (`counter`) or a posting home (`home`) in one
    /// transaction, and answers what was done.
    pub(crate) async fn record_hand_over(
        &self,
        at: &AtCounter,
        checks: PickupChecks,
        certified: &Certified,
        kind: &'static str,
        express_fee_yen: Option<i64>,
        actor: &Actor,
    ) -> Result<HandOverResponse> {
        let record = HandOverRecord {
            card_id: at.card.id.clone(),
            application_id: at.application.id,
            kind,
            chip: at.chip.to_bytes().map_err(internal)?,
            chip_version: at.card.chip_version,
            certificates: certified.records.clone(),
            checks,
            express_fee_yen,
        };
        self.store.hand_over(&record, actor).await?;
        let (card, _) = self.store.counter_card(&at.card.id).await?;
        let application = self.store.application(at.application.id).await?;
        Ok(HandOverResponse {
            card_id: card.id,
            card_status: card.status,
            application_status: application.status.code().to_owned(),
            authentication_serial: certified.authentication_serial.as_ref().map(|s| s.to_hex()),
            signature_serial: certified.signature_serial.as_ref().map(|s| s.to_hex()),
        })
    }
}
