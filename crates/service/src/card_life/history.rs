//! A card's history, state and certificates: what the console's record page, the
//! card page and `maina card history` show.

use super::CardOfResident;
use crate::{Result, Service};
use chrono::{DateTime, Utc};
use maina_core::card::{CardEventKind, CardState, RevocationReason};
use maina_core::officer::{Actor, Permission};
use maina_proto::{CardCertificateResponse, CardEventResponse, CardHistoryResponse};
use maina_store::{CardEventRecord, CertificateRecord};

fn rfc3339(micros: i64) -> String {
    DateTime::from_timestamp_micros(micros)
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
        .to_rfc3339()
}

/// A certificate's status as people read it: good, on hold (a suspended card's
/// authentication certificate), revoked, or expired.
pub fn certificate_status(record: &CertificateRecord, now: DateTime<Utc>) -> &'static str {
    match (record.revoked_at, record.reason.as_deref()) {
        (Some(_), Some(reason))
            if RevocationReason::from_code(reason) == Some(RevocationReason::CertificateHold) =>
        {
            "on-hold"
        }
        (Some(_), _) => "revoked",
        (None, _) if record.not_after < now.timestamp() => "expired",
        (None, _) => "good",
    }
}

impl Service {
    /// A card's state, certificates and history, for an officer of the municipality
    /// where its holder lives. The read is audited.
    pub async fn card_history(
        &self,
        actor: &Actor,
        card_id: &str,
        lang: &str,
    ) -> Result<CardHistoryResponse> {
        let found = self.card_for(actor, Permission::ReadCard, card_id).await?;
        self.store
            .audit(
                actor,
                "card.history-read",
                Some(found.resident.resident_key),
            )
            .await?;
        self.card_history_of(&found, lang).await
    }

    /// A resident's cards (newest first), each with its certificates and history:
    /// the record page's card section. Audited as one read.
    pub async fn resident_cards(
        &self,
        actor: &Actor,
        resident_code: &str,
        lang: &str,
    ) -> Result<Vec<CardHistoryResponse>> {
        let resident = self
            .audited_read(actor, resident_code, Permission::ReadCard, "card.list-read")
            .await?;
        let mut cards = Vec::new();
        for card in self.store.cards_of_resident(resident.resident_key).await? {
            let state = CardState::from_code(&card.status).ok_or_else(|| {
                crate::ServiceError::internal(&format!("card state {:?}", card.status))
            })?;
            let found = CardOfResident {
                card,
                state,
                municipality: resident.record.municipality,
                resident: resident.clone(),
            };
            cards.push(self.card_history_of(&found, lang).await?);
        }
        Ok(cards)
    }

    /// The history of a card already found (and its read audited) by a use case.
    pub(crate) async fn card_history_of(
        &self,
        found: &CardOfResident,
        lang: &str,
    ) -> Result<CardHistoryResponse> {
        let now = Utc::now();
        let certificates = self
            .store
            .card_certificates(&found.card.id)
            .await?
            .iter()
            .map(|record| CardCertificateResponse {
                serial: record.serial.clone(),
                ca: record.ca.clone(),
                not_after: DateTime::from_timestamp(record.not_after, 0)
                    .unwrap_or(DateTime::<Utc>::MIN_UTC)
                    .to_rfc3339(),
                status: certificate_status(record, now).into(),
                reason: record.reason.clone(),
            })
            .collect();
        let events = self
            .store
            .card_history(&found.card.id)
            .await?
            .into_iter()
            .map(|event| self.card_event_response(event, lang))
            .collect();
        Ok(CardHistoryResponse {
            card_id: found.card.id.clone(),
            state: found.state.code().into(),
            card_number: found.card.card_number.clone(),
            expires_on: found.card.expires_on.clone(),
            certificates,
            events,
        })
    }

    fn card_event_response(&self, event: CardEventRecord, lang: &str) -> CardEventResponse {
        let label = match CardEventKind::from_code(&event.kind) {
            Some(kind) => self.message(lang, &format!("card-event-{}", kind.code())),
            None => event.kind.clone(),
        };
        CardEventResponse {
            seq: event.seq,
            at: rfc3339(event.at),
            kind: event.kind,
            label,
            officer: event.officer,
            role: event.role,
            municipality: event.municipality,
            reason: event.reason,
            details: event.details,
        }
    }
}
