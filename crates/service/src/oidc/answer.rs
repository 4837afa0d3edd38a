//! The card's answer to a sign-in's challenge (`maina card login`): the
//! certificate must chain to the issuing CA of its kind (checked once per
//! certificate, then remembered), be the kind the request needs (the
//! user-authentication key; the signature key for a facts party), and its key
//! must have signed the challenge; then the store answers, with no network hop,
//! the certificate's revocation and the card's state — suspended, expired,
//! abolished: refused with the reason —; the challenge must be pending and fresh,
//! and is spent by the same conditional update that records the answer.

use super::{oauth, SharedFacts};
use crate::{Result, Service, ServiceError};
use chrono::Utc;
use maina_core::card::CardState;
use maina_pki::{CaKind, TrustStore, ValidCertificate};
use maina_store::{AnsweredRequest, RequestStatus};

/// What the desktop client learns after a successful answer.
#[derive(Debug, Clone)]
pub struct CardAnswer {
    pub client_name: String,
}

/// How many checked certificates to remember.
const CHECKED_LIMIT: usize = 100_000;

fn refused(field: &str, message: impl Into<String>) -> ServiceError {
    oauth("access_denied", field, message)
}

impl Service {
    /// The chain check of the card hierarchies: roots and issuing CAs, no CRLs
    /// (revocation comes from the store).
    fn oidc_trust(&self) -> Result<&TrustStore> {
        if let Some(trust) = self.oidc.trust.get() {
            return Ok(trust);
        }
        let authorities = self.authorities.as_ref().ok_or_else(|| {
            oauth(
                "temporarily_unavailable",
                "",
                "this server has no card authorities",
            )
        })?;
        let mut trust = TrustStore::new(
            authorities.auth.root_certificate_der(),
            authorities.sign.root_certificate_der(),
        )
        .map_err(|e| ServiceError::internal(&e))?;
        for kind in CaKind::ALL {
            trust
                .add_issuing_ca(
                    authorities.get(kind).issuing().certificate_der(),
                    Utc::now(),
                )
                .map_err(|e| ServiceError::internal(&e))?;
        }
        Ok(self.oidc.trust.get_or_init(|| trust))
    }

    /// The certificate's chain, checked once per certificate.
    fn oidc_checked(&self, certificate: &[u8]) -> Result<ValidCertificate> {
        let fingerprint = maina_pki::sha256(certificate);
        let now = Utc::now();
        if let Ok(cache) = self.oidc.checked.lock() {
            if let Some(valid) = cache.get(&fingerprint).filter(|v| now <= v.not_after) {
                return Ok(valid.clone());
            }
        }
        let valid = self
            .oidc_trust()?
            .check_chain(certificate, now)
            .map_err(|e| refused("certificate", format!("certificate: {e}")))?;
        if let Ok(mut cache) = self.oidc.checked.lock() {
            if cache.len() >= CHECKED_LIMIT {
                cache.clear();
            }
            cache.insert(fingerprint, valid.clone());
        }
        Ok(valid)
    }

    /// Checks and records the card's answer to the challenge `challenge` (as shown
    /// or scanned): `certificate` (DER) and `signature` (PKCS#1 v1.5, SHA-256, of
    /// the challenge's canonical text).
    pub async fn oidc_answer(
        &self,
        challenge: &str,
        certificate: &[u8],
        signature: &[u8],
    ) -> Result<CardAnswer> {
        let challenge = super::authorize::canonical_challenge(challenge).ok_or_else(|| {
            oauth(
                "invalid_request",
                "challenge",
                "challenge: 32 letters and digits as shown on the page",
            )
        })?;
        let hash = maina_pki::sha256(challenge.as_bytes());
        let request = self
            .store
            .auth_request_by_challenge(&hash)
            .await?
            .ok_or_else(|| oauth("invalid_request", "challenge", "challenge: no such sign-in"))?;
        if request.status != RequestStatus::Pending {
            return Err(refused(
                "challenge",
                "challenge: already answered (a challenge is good once); start the sign-in again",
            ));
        }
        if request.expires_at <= maina_store::now_micros() {
            return Err(refused(
                "challenge",
                "challenge: expired; start the sign-in again",
            ));
        }
        let valid = self.oidc_checked(certificate)?;
        let wanted = if request.card_key == "sign" {
            CaKind::Signature
        } else {
            CaKind::Authentication
        };
        // The signature first: a reason for the page is noted only for an answer
        // the certificate's key signed (refusal.rs).
        if !valid
            .public_key
            .verify_sha256(challenge.as_bytes(), signature)
        {
            return Err(refused(
                "signature",
                "signature: the certificate's key did not sign this challenge",
            ));
        }
        if valid.kind != wanted {
            let error = refused(
                "certificate",
                match wanted {
                    CaKind::Signature => "certificate: this party asks for the facts: sign with the signature key (--facts)",
                    CaKind::Authentication => "certificate: sign in with the user-authentication key",
                },
            );
            return Err(self.refused_answer(&request.id, "wrong-key", error).await);
        }
        let Some(holder) = self
            .store
            .card_holder(wanted.code(), &valid.serial.to_hex())
            .await?
        else {
            let error = refused(
                "certificate",
                "certificate: not issued to a card of this system",
            );
            return Err(self
                .refused_answer(&request.id, "unknown-certificate", error)
                .await);
        };
        let state = CardState::from_code(&holder.card_state);
        let refusal = match state {
            Some(CardState::Suspended) => Some((
                "suspended",
                "the card is suspended (reported lost): lifting it needs a visit to the counter",
            )),
            Some(CardState::Revoked) => {
                Some(("abolished", "the card was abolished and cannot be used"))
            }
            Some(CardState::Destroyed) => {
                Some(("destroyed", "the card was destroyed and cannot be used"))
            }
            Some(CardState::Active) => None,
            _ => Some(("not-handed-over", "the card has not been handed over yet")),
        };
        let today = crate::today();
        let expired = holder
            .expires_on
            .as_deref()
            .and_then(|day| chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok())
            .is_some_and(|last| today > last);
        let refusal = refusal
            .or(expired.then_some(("expired", "the card has expired: renew it at the counter")))
            .or(holder.revoked_at.is_some().then_some((
                "certificate-revoked",
                "the certificate is revoked: have a new one issued at the counter",
            )));
        if let Some((code, reason)) = refusal {
            if let Some(resident) = holder.resident_key {
                let actor = maina_core::officer::Actor::administrator("oidc", "sign-in");
                self.store
                    .audit(&actor, "oidc.signin-refused:card", Some(resident))
                    .await?;
            }
            let error = refused("card", format!("card: {reason}"));
            return Err(self.refused_answer(&request.id, code, error).await);
        }
        let resident_key = holder
            .resident_key
            .ok_or_else(|| refused("card", "card: not held by a resident"))?;
        let facts = match (wanted, valid.facts.as_ref()) {
            (CaKind::Signature, Some(facts)) => Some(SharedFacts::from_certificate(facts)),
            (CaKind::Signature, None) => {
                let error = refused(
                    "certificate",
                    "certificate: the signature certificate carries no facts",
                );
                return Err(self.refused_answer(&request.id, "no-facts", error).await);
            }
            (CaKind::Authentication, _) => None,
        };
        let answered = self
            .store
            .answer_auth_request(
                &request.id,
                &hash,
                &AnsweredRequest {
                    resident_key,
                    serial: valid.serial.to_hex(),
                },
                facts.as_ref(),
            )
            .await?;
        if !answered {
            return Err(refused(
                "challenge",
                "challenge: already answered or expired; start the sign-in again",
            ));
        }
        let client_name = self
            .relying_party(&request.client_id)
            .await?
            .map(|party| party.name)
            .unwrap_or_default();
        Ok(CardAnswer { client_name })
    }

    /// The party and card key a challenge belongs to, for the desktop client
    /// before it asks for the PIN: (party's name, `auth` or `sign`).
    pub async fn oidc_challenge_info(&self, challenge: &str) -> Result<(String, String)> {
        let challenge = super::authorize::canonical_challenge(challenge).ok_or_else(|| {
            oauth(
                "invalid_request",
                "challenge",
                "challenge: 32 letters and digits as shown on the page",
            )
        })?;
        let request = self
            .store
            .auth_request_by_challenge(&maina_pki::sha256(challenge.as_bytes()))
            .await?
            .filter(|r| {
                r.status == RequestStatus::Pending && r.expires_at > maina_store::now_micros()
            })
            .ok_or_else(|| {
                oauth(
                    "invalid_request",
                    "challenge",
                    "challenge: no such sign-in waiting (expired or answered)",
                )
            })?;
        let party = self
            .active_party(&request.client_id)
            .await?
            .ok_or_else(|| {
                oauth(
                    "invalid_request",
                    "challenge",
                    "challenge: the relying party is disabled",
                )
            })?;
        Ok((party.name, request.card_key))
    }
}
