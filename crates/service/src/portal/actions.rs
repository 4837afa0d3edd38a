//! What the resident does from the portal: suspend a lost card (the same
//! suspension as the helpline's and the public report's, as the resident).

use super::resident_actor;
use crate::{ErrorKind, Result, Service, ServiceError};
use maina_core::card::CardState;
use maina_proto::SuspensionResponse;

impl Service {
    /// Suspends one of the signed-in resident's own cards (lost or stolen): the one
    /// suspension transaction (`Store::suspend_card`: certificates on hold and
    /// revoked, CRLs stale, the card's history and the audit event). Another
    /// person's card, or an unknown one, is "no such card"; a card that is not
    /// active is refused naming its state; nothing changes on a refusal.
    pub async fn portal_suspend_card(
        &self,
        resident_key: u64,
        raw_card_id: &str,
    ) -> Result<SuspensionResponse> {
        let id = crate::card_life::card_id(raw_card_id)?;
        let card = self
            .store
            .cards_of_resident(resident_key)
            .await?
            .into_iter()
            .find(|card| card.id == id)
            .ok_or_else(|| ServiceError::not_found("card"))?;
        let state = CardState::from_code(&card.status).ok_or_else(|| {
            ServiceError::new(ErrorKind::Internal, "internal", "unknown card state")
        })?;
        self.suspend_found(&resident_actor(), &card.id, state, None)
            .await
    }
}
