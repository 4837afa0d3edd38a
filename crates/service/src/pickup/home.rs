//! Delivered home instead of collected (REFERENCE section 7), the minimal version:
//! the resident applied at the counter in person, ID checked, and set the PINs on
//! the PIN pad then ([`Service::open_home_pinpad`]; the PINs are held sealed). When
//! the card has been made, [`Service::post_home`] writes the held PINs to the chip
//! (and erases them), issues the certificates, records the documents checked and
//! any express-issue fee, and moves the application to posted-to-resident; the
//! registered mail's delivery ([`Service::delivered`]) completes it (handed over).

use super::counter::{japan_today, pickup_form};
use crate::{ErrorKind, Result, Service, ServiceError};
use maina_card::personalise::{set_typed_pins, TypedPins};
use maina_core::application::ApplicationStatus;
use maina_core::card::CardState;
use maina_core::officer::{Actor, Permission};
use maina_core::pickup::identity::PickupChecks;
use maina_core::{MunicipalityCode, ReceiptNumber};
use maina_proto::{HandOverRequest, HandOverResponse, PinpadOpened};
use zeroize::Zeroizing;

/// The express-issue fee (特急発行): ¥2,000, or ¥1,800 without certificates.
pub const EXPRESS_FEE_YEN: i64 = 2_000;
pub const EXPRESS_FEE_WITHOUT_CERTIFICATES_YEN: i64 = 1_800;

impl Service {
    /// Opens the PIN pad for an application made at the counter in person, to be
    /// delivered home: the PINs typed are held sealed until the card is made.
    pub async fn open_home_pinpad(&self, actor: &Actor, receipt: &str) -> Result<PinpadOpened> {
        let not_found = || ServiceError::not_found("application");
        let receipt: ReceiptNumber = receipt.parse().map_err(|_| not_found())?;
        let application = self.store.application_by_receipt(&receipt).await?;
        let municipality: MunicipalityCode =
            application.municipality.parse().map_err(|_| not_found())?;
        self.require(
            actor,
            Permission::HandOverCard,
            &municipality,
            "application",
        )
        .await?;
        use ApplicationStatus as S;
        if !matches!(
            application.status,
            S::Received
                | S::UnderReview
                | S::CardIssuanceInProcess
                | S::Shipped
                | S::AtMunicipality
        ) {
            return Err(ServiceError::new(
                ErrorKind::Conflict,
                "not_allowed",
                format!(
                    "an application that is {} cannot be delivered home",
                    application.status
                ),
            ));
        }
        self.open_pinpad_for(actor, &application, None).await
    }

    /// Posts a card home: the held PINs written to the chip (then erased), the
    /// certificates issued, the documents checked at application recorded with any
    /// express-issue fee; the application is posted-to-resident. One transaction.
    pub async fn post_home(
        &self,
        actor: &Actor,
        card_id: &str,
        request: &HandOverRequest,
        base_url: &str,
    ) -> Result<HandOverResponse> {
        let mut at = self.card_at_counter(actor, card_id).await?;
        if self.store.handed_over(&at.card.id).await? {
            return Err(ServiceError::new(
                ErrorKind::Conflict,
                "already_handed_over",
                "this card has already been handed over or posted",
            ));
        }
        let card_ok = [CardState::Shipped.code(), CardState::Received.code()]
            .contains(&at.card.status.as_str());
        let application_ok = matches!(
            at.application.status,
            ApplicationStatus::Shipped | ApplicationStatus::AtMunicipality
        );
        if !card_ok || !application_ok {
            return Err(ServiceError::new(
                ErrorKind::Conflict,
                "not_allowed",
                format!(
                    "the card is {} and its application {}: it cannot be posted",
                    at.card.status, at.application.status
                ),
            ));
        }
        let today = japan_today();
        let checks = PickupChecks::new(
            &pickup_form(request),
            at.resident.record.person.birth_date,
            today,
        )?;
        if let Some(fee) = request.express_fee_yen {
            let due = if checks.authentication_certificate() {
                EXPRESS_FEE_YEN
            } else {
                EXPRESS_FEE_WITHOUT_CERTIFICATES_YEN
            };
            if fee != due {
                return Err(ServiceError::invalid(
                    "express_fee_yen",
                    format!("express_fee_yen: the express-issue fee is {due} yen"),
                ));
            }
        }
        let held = self
            .store
            .held_pins(at.application.id)
            .await?
            .map(Zeroizing::new)
            .ok_or_else(|| {
                ServiceError::new(
                    ErrorKind::Conflict,
                    "pins_not_set",
                    "no PINs were set on the PIN pad for this application",
                )
            })?;
        let text = Zeroizing::new(String::from_utf8_lossy(&held).into_owned());
        let mut lines = text.lines();
        let mut next = || lines.next().unwrap_or_default();
        let typed = TypedPins {
            authentication: next(),
            signature: next(),
            residence: next(),
            support: next(),
        };
        set_typed_pins(&mut at.chip, &typed).map_err(|error| ServiceError::internal(&error))?;
        let certified = self.certify_at_counter(&mut at, &checks, today, base_url)?;
        self.record_hand_over(
            &at,
            checks,
            &certified,
            "home",
            request.express_fee_yen,
            actor,
        )
        .await
    }

    /// The registered mail reached the holder: the card is active, the application
    /// handed over.
    pub async fn delivered(&self, actor: &Actor, card_id: &str) -> Result<HandOverResponse> {
        let at = self.card_at_counter(actor, card_id).await?;
        self.store.delivered(&at.card.id, actor).await?;
        let (card, _) = self.store.counter_card(&at.card.id).await?;
        let application = self.store.application(at.application.id).await?;
        Ok(HandOverResponse {
            card_id: card.id,
            card_status: card.status,
            application_status: application.status.code().to_owned(),
            authentication_serial: None,
            signature_serial: None,
        })
    }
}
