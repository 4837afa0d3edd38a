//! The lift of a suspension (the card found): only at the counter (`ServiceCard`),
//! the card present. The service issues a one-time challenge bound to the card
//! (only its SHA-256 kept, good for [`LIFT_CHALLENGE_SECONDS`], used once); the card
//! signs it with its authentication key after the authentication PIN (`maina card
//! lift` over PC/SC); the signature is checked against the public key of the card's
//! own stored authentication certificate (the one on hold), and then, in one
//! transaction, the challenge is used up, `suspended → active`, the hold taken off
//! (good again in OCSP at once, removeFromCRL on the next delta CRL). The signature
//! certificate stays revoked: the resident may have a new one issued. An abolished
//! card can never be lifted. Every refusal names why and changes nothing.

use super::suspension::suspension_response;
use crate::{ErrorKind, Result, Service, ServiceError};
use base64::Engine as _;
use chrono::Utc;
use maina_core::card::{CardState, CardTransition, RevocationReason};
use maina_core::officer::{Actor, Permission};
use maina_proto::{LiftChallengeResponse, SuspensionResponse};
use maina_store::ChallengeRefusal;
use rand::RngCore;

/// How long a lift's challenge is good.
pub const LIFT_CHALLENGE_SECONDS: i64 = 120;

/// What the card's history says of a lift.
const LIFT_DETAILS: &str = "card found and presented at the counter; the signature certificate stays revoked (a new one may be issued)";

fn refuse(field: &str, message: &str) -> ServiceError {
    ServiceError::new(ErrorKind::Invalid, "lift_refused", message.to_owned()).with_field(field)
}

impl Service {
    /// Finds a card for a lift: the officer's `ServiceCard` on its holder's
    /// municipality, and a suspended card (otherwise the refusal names its state).
    async fn suspended_card(
        &self,
        actor: &Actor,
        raw_card_id: &str,
    ) -> Result<super::CardOfResident> {
        let found = self
            .card_for(actor, Permission::ServiceCard, raw_card_id)
            .await?;
        found
            .state
            .after(CardTransition::Lift)
            .map_err(|e| ServiceError::new(ErrorKind::Conflict, "not_allowed", e.to_string()))?;
        Ok(found)
    }

    /// Issues the one-time challenge of a lift for a suspended card.
    pub async fn lift_challenge(
        &self,
        actor: &Actor,
        raw_card_id: &str,
    ) -> Result<LiftChallengeResponse> {
        let found = self.suspended_card(actor, raw_card_id).await?;
        let mut challenge = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut challenge);
        let expires_at = Utc::now() + chrono::Duration::seconds(LIFT_CHALLENGE_SECONDS);
        self.store
            .put_lift_challenge(
                &found.card.id,
                &maina_pki::sha256(&challenge),
                actor,
                expires_at.timestamp_micros(),
            )
            .await?;
        Ok(LiftChallengeResponse {
            card_id: found.card.id,
            challenge: hex::encode(challenge),
            expires_at: expires_at.to_rfc3339(),
        })
    }

    /// Lifts a suspension: `signature` (base64) must be the card's authentication
    /// key's PKCS#1 v1.5 SHA-256 signature of `challenge` (hexadecimal, as issued).
    pub async fn lift_suspension(
        &self,
        actor: &Actor,
        raw_card_id: &str,
        challenge: &str,
        signature: &str,
    ) -> Result<SuspensionResponse> {
        let challenge = hex::decode(challenge.trim())
            .ok()
            .filter(|bytes| bytes.len() == 32)
            .ok_or_else(|| {
                refuse(
                    "challenge",
                    "challenge: expected the 64 hexadecimal digits issued",
                )
            })?;
        let signature = base64::engine::general_purpose::STANDARD
            .decode(signature.trim())
            .map_err(|_| refuse("signature", "signature: expected base64"))?;
        let found = self.suspended_card(actor, raw_card_id).await?;
        let held = self
            .store
            .card_certificates(&found.card.id)
            .await?
            .into_iter()
            .find(|c| {
                c.ca == "auth"
                    && c.reason.as_deref() == Some(RevocationReason::CertificateHold.code())
            })
            .ok_or_else(|| {
                refuse(
                    "card_id",
                    "the card has no authentication certificate on hold: it cannot be lifted",
                )
            })?;
        let (_, der) = self.store.certificate(&held.serial).await?;
        let key =
            maina_pki::certificate_public_key(&der).map_err(|e| ServiceError::internal(&e))?;
        if !key.verify_sha256(&challenge, &signature) {
            self.store
                .audit(
                    actor,
                    "card.lift-refused:signature",
                    Some(found.resident.resident_key),
                )
                .await?;
            return Err(refuse(
                "signature",
                "the signature is not the card's: its authentication key did not sign this challenge",
            ));
        }
        let lifted = self
            .store
            .lift_suspension(
                &found.card.id,
                &maina_pki::sha256(&challenge),
                actor,
                LIFT_DETAILS,
            )
            .await?;
        match lifted {
            Ok(record) => Ok(suspension_response(&record, CardState::Active)),
            Err(refusal) => Err(refuse(
                "challenge",
                match refusal {
                    ChallengeRefusal::Missing => {
                        "no challenge is open for this card (none was issued, or it was used): ask for a new one"
                    }
                    ChallengeRefusal::Expired => "the challenge has expired: ask for a new one",
                    ChallengeRefusal::Different => {
                        "this is not the challenge issued for this card: ask for a new one"
                    }
                },
            )),
        }
    }
}
