//! What the resident does from the portal: suspend a lost card (the same
//! suspension as the helpline's and the public report's, as the resident), and
//! switch a relying party's access off (its next sign-in asks for consent again).

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

    /// Switches a relying party's access off: the resident's consent is revoked
    /// (`Store::revoke_consent`), so the party's next sign-in asks again; audited as
    /// the resident's own act. No consent on for this party is "not found".
    pub async fn portal_revoke_consent(&self, resident_key: u64, client_id: &str) -> Result<()> {
        if !self.store.revoke_consent(resident_key, client_id).await? {
            return Err(ServiceError::not_found("consent"));
        }
        self.store
            .audit(
                &resident_actor(),
                &format!(
                    "portal.consent-revoked:{}",
                    client_id.chars().take(64).collect::<String>()
                ),
                Some(resident_key),
            )
            .await?;
        Ok(())
    }
}
