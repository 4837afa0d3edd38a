//! The resident portal (Mynaportal, issue 14): the resident's own record, cards and
//! applications; the record of who used their data (`access.rs`, with its CSV);
//! e-mails at every access by an officer (`notify.rs`); the resident's own acts
//! (`actions.rs`: suspend a lost card, switch a relying party's access off).
//! The My Number in clear after the signature key signed: `reveal.rs`.
//!
//! Every use case here takes the resident's row key from a signed-in portal
//! session (the server's `ResidentSession` extractor: the resident proved the card's
//! authentication key to the provider); it acts as [`resident_actor`], so its
//! audit events are the resident's own and never listed as an "access" (except the
//! reveal of their My Number and its refusal: kind `resident`).

mod access;
mod actions;
mod notify;
mod reveal;

pub use access::{access_label, csv_cell, MAX_CSV_ENTRIES, PAGE_SIZE};
pub use notify::{access_mail, worker as notify_worker, NOTIFY_BATCH};

use crate::{i18n, Result, Service};
use chrono::{DateTime, Utc};
use maina_core::card::CardState;
use maina_core::officer::Actor;
use maina_core::resident::ResidentEvent;
use maina_proto::{
    CardNoteResponse, PortalAddressResponse, PortalApplicationResponse, PortalCardResponse,
    PortalConsentResponse, PortalRecordResponse,
};
use maina_store::{ResidentView, PORTAL_ACTOR};

/// The actor of everything a resident does in the portal: the administrator role
/// under a fixed name no officer account can have (see `maina_store::NOT_OFFICERS`).
pub fn resident_actor() -> Actor {
    Actor::administrator(PORTAL_ACTOR, "resident portal")
}

pub(crate) fn rfc3339(micros: i64) -> String {
    DateTime::from_timestamp_micros(micros)
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
        .to_rfc3339()
}

impl Service {
    /// The signed-in resident's record: name, address, birth date, sex (the My
    /// Number masked), the address history, the cards with their certificates and
    /// history, the applications. The resident's own read, audited as
    /// `portal.record-read`.
    pub async fn portal_record(
        &self,
        resident_key: u64,
        lang: &str,
    ) -> Result<PortalRecordResponse> {
        let lang = i18n::language(lang);
        let view = self.store.resident(resident_key).await?;
        self.store
            .audit(&resident_actor(), "portal.record-read", Some(resident_key))
            .await?;
        let addresses = self.address_history(&view).await?;
        let mut cards = Vec::new();
        for card in self.store.cards_of_resident(resident_key).await? {
            let Some(state) = CardState::from_code(&card.status) else {
                return Err(crate::ServiceError::internal(&format!(
                    "card state {:?}",
                    card.status
                )));
            };
            let found = crate::card_life::CardOfResident {
                card,
                state,
                municipality: view.record.municipality,
                resident: view.clone(),
            };
            let notes = self
                .store
                .card_notes(&found.card.id)
                .await?
                .entries()
                .iter()
                .map(|entry| CardNoteResponse {
                    date: entry.date.to_string(),
                    printed_date: crate::dates::japanese_era(entry.date),
                    kind: entry.kind.code().into(),
                    label: self.message(lang, &format!("card-note-{}", entry.kind.code())),
                    text: entry.text.clone(),
                })
                .collect();
            cards.push(PortalCardResponse {
                card: self.card_history_of(&found, lang).await?,
                notes,
            });
        }
        let applications = self
            .store
            .applications_of_resident(resident_key)
            .await?
            .into_iter()
            .map(|application| {
                let status = application.status.code();
                PortalApplicationResponse {
                    channel: application.channel.code().to_owned(),
                    status: status.to_owned(),
                    label: self.message(lang, &format!("status-{status}")),
                    since: rfc3339(application.status_since),
                    applied_at: rfc3339(application.created_at),
                }
            })
            .collect();
        let notify_access = self
            .store
            .notify_preference(resident_key)
            .await?
            .notify_access;
        let consents = self
            .store
            .active_consents(resident_key)
            .await?
            .into_iter()
            .map(|consent| PortalConsentResponse {
                client_id: consent.client_id,
                name: consent.name,
                granted_at: rfc3339(consent.granted_at),
            })
            .collect();
        Ok(PortalRecordResponse {
            resident: crate::residents::resident_response(&view),
            addresses,
            cards,
            applications,
            notify_access,
            consents,
        })
    }

    /// Where the resident lived: the registration's address, then every move and
    /// change of address, oldest first.
    async fn address_history(&self, view: &ResidentView) -> Result<Vec<PortalAddressResponse>> {
        let registration = &view.registration;
        let mut addresses = vec![PortalAddressResponse {
            since: registration.date.to_string(),
            address: registration.address.to_string(),
            municipality: registration.municipality.as_digits(),
        }];
        let mut municipality = registration.municipality;
        for entry in self.store.history(view.resident_key).await? {
            match entry.event {
                Some(ResidentEvent::Moved {
                    date,
                    municipality: to,
                    address,
                }) => {
                    municipality = to;
                    addresses.push(PortalAddressResponse {
                        since: date.to_string(),
                        address: address.to_string(),
                        municipality: to.as_digits(),
                    });
                }
                Some(ResidentEvent::AddressChanged { date, address }) => {
                    addresses.push(PortalAddressResponse {
                        since: date.to_string(),
                        address: address.to_string(),
                        municipality: municipality.as_digits(),
                    });
                }
                Some(ResidentEvent::Returned { registration }) => {
                    municipality = registration.municipality;
                    addresses.push(PortalAddressResponse {
                        since: registration.date.to_string(),
                        address: registration.address.to_string(),
                        municipality: municipality.as_digits(),
                    });
                }
                _ => {}
            }
        }
        Ok(addresses)
    }
}
