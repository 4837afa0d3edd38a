//! The card's life after pickup (issue 13): every use case that changes a card
//! after it reached its resident. Each finds the card through [`Service::card_for`],
//! the one check: the actor's permission on the municipality where the card's
//! holder lives *now* (a card follows its resident when they move, and leaves the
//! old municipality's officers), or "no such card", audited.
//!
//! `history.rs`: a card's history, state and certificates. `suspension.rs`: loss
//! and suspension (officer, helpline, public report); `suspension_lift.rs`: the
//! lift at the counter; `suspension_crl.rs`: the delta CRLs. `chip.rs`,
//! `pin_reset.rs`, `renew.rs`: the counter's work on the chip through the issuer's
//! protected commands (facts rewritten, PINs reset, certificates renewed).
//! `reissue.rs`: reissue and renewal (a new card's application linked to the old
//! one, the fee); `expiry.rs`: the expiry letters job; `expiry_pdf.rs`: the letter.
//! `registry.rs`: the notes panel, the offered signature certificate, the face with
//! its notes; `moving.rs`: moving with the card, continued use, the ending jobs.

mod chip;
pub mod expiry;
pub mod expiry_pdf;
mod history;
pub mod moving;
mod pin_reset;
pub mod registry;
mod reissue;
mod renew;
pub mod suspension;
pub mod suspension_crl;
mod suspension_lift;

pub use pin_reset::NewPin;

use crate::{Result, Service, ServiceError};
use maina_core::card::CardState;
use maina_core::officer::{Actor, Permission};
use maina_core::MunicipalityCode;
use maina_store::{CardRecord, ResidentView, StoreError};

/// A card found for a use case, with its holder.
#[derive(Debug, Clone)]
pub struct CardOfResident {
    pub card: CardRecord,
    pub state: CardState,
    pub resident: ResidentView,
    /// Where the holder lives now.
    pub municipality: MunicipalityCode,
}

/// A card id as typed: 16 hexadecimal digits, upper-cased; anything else is "no
/// such card" (never an error that tells a guesser more).
pub fn card_id(raw: &str) -> Result<String> {
    let id = raw.trim().to_ascii_uppercase();
    if id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(id)
    } else {
        Err(ServiceError::not_found("card"))
    }
}

impl Service {
    /// The card-life use cases' one check: the card, its holder, and `permission`
    /// on the holder's current municipality; otherwise "no such card" (a refusal
    /// audited). Demonstration cards (no holder) are not found.
    pub(crate) async fn card_for(
        &self,
        actor: &Actor,
        permission: Permission,
        raw_card_id: &str,
    ) -> Result<CardOfResident> {
        let id = card_id(raw_card_id)?;
        let card = match self.store.card_record(&id).await {
            Ok(card) => card,
            Err(StoreError::NotFound(_)) => return Err(ServiceError::not_found("card")),
            Err(error) => return Err(error.into()),
        };
        let Some(resident_key) = card.resident_key else {
            return Err(ServiceError::not_found("card"));
        };
        let resident = self.store.resident(resident_key).await?;
        let municipality = resident.record.municipality;
        self.require(actor, permission, &municipality, "card")
            .await?;
        let state = CardState::from_code(&card.status)
            .ok_or_else(|| ServiceError::internal(&format!("card state {:?}", card.status)))?;
        Ok(CardOfResident {
            card,
            state,
            resident,
            municipality,
        })
    }
}
