//! Loss and suspension (issue 13): a card suspended in one transaction (its state,
//! its authentication certificate on hold, its signature certificate revoked, the
//! CRLs stale, its history and the audit trail), and lifted in one transaction after
//! its chip answered a one-time challenge (kept hashed, short-lived, used once).
//! Also the look-ups of a card by the numbers a resident can read off the card or
//! the issue notice.

use crate::backend::{now_micros, Query};
use crate::cards::card_record;
use crate::{CardRecord, Result, Store, StoreError};
use maina_core::card::{CardTransition, RevocationReason};
use maina_core::officer::Actor;
use maina_core::{CardNumber, IssueNoticeNumber};

/// What a suspension or a lift changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuspensionRecord {
    pub card_id: String,
    pub resident_key: Option<u64>,
    /// Serials put on hold (suspension) or taken off hold (lift).
    pub authentication: Vec<String>,
    /// Serials revoked (suspension only).
    pub signature: Vec<String>,
    /// Microseconds since the Unix epoch.
    pub at: i64,
}

/// Why a lift's challenge was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeRefusal {
    /// No challenge was issued for this card, or it was used.
    Missing,
    Expired,
    /// The challenge presented is not the one issued.
    Different,
}

impl Store {
    /// Suspends an active card (lost or stolen): `active → suspended`, its
    /// authentication certificate on hold (certificateHold), its signature certificate
    /// revoked (lost-card), both CRLs stale, the event (with the police report's
    /// details, sealed, when given) and the audit event — one transaction. Refused
    /// ([`StoreError::Illegal`]) unless the card is active.
    pub async fn suspend_card(
        &self,
        card_id: &str,
        actor: &Actor,
        police_report: Option<&str>,
    ) -> Result<SuspensionRecord> {
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let before = self
            .transition_card_in(
                &mut tx,
                card_id,
                CardTransition::Suspend,
                actor,
                RevocationReason::CertificateHold.code(),
                police_report,
                now,
            )
            .await?;
        let mut revoked = Vec::new();
        for (ca, reason) in [
            ("auth", RevocationReason::CertificateHold),
            ("sign", RevocationReason::LostCard),
        ] {
            let rows = tx
                .fetch_all(
                    "UPDATE certificates SET revoked_at = $1, reason = $2 \
                     WHERE card_id = $3 AND ca = $4 AND revoked_at IS NULL RETURNING serial",
                    &[now.into(), reason.code().into(), card_id.into(), ca.into()],
                )
                .await?;
            revoked.push(
                rows.iter()
                    .map(|row| row.text(0))
                    .collect::<Result<Vec<_>>>()?,
            );
        }
        Self::crls_stale(&mut tx, &["auth", "sign"]).await?;
        self.audit_in(&mut tx, actor, "card.suspend", before.resident_key)
            .await?;
        tx.commit().await?;
        let signature = revoked.pop().unwrap_or_default();
        let authentication = revoked.pop().unwrap_or_default();
        Ok(SuspensionRecord {
            card_id: card_id.to_owned(),
            resident_key: before.resident_key,
            authentication,
            signature,
            at: now,
        })
    }

    /// Records a lift's challenge for `card_id` (only its SHA-256), replacing any
    /// earlier one: it is good until `expires_at` (microseconds), once.
    pub async fn put_lift_challenge(
        &self,
        card_id: &str,
        digest: &[u8],
        actor: &Actor,
        expires_at: i64,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        tx.execute(
            "DELETE FROM lift_challenges WHERE card_id = $1",
            &[card_id.into()],
        )
        .await?;
        tx.execute(
            "INSERT INTO lift_challenges (card_id, digest, officer, expires_at) VALUES ($1, $2, $3, $4)",
            &[
                card_id.into(),
                digest.to_vec().into(),
                actor.officer.as_str().into(),
                expires_at.into(),
            ],
        )
        .await?;
        tx.commit().await
    }

    /// Lifts a suspension (the card found, present at the counter, its chip's answer
    /// already checked by the caller): the challenge whose SHA-256 is `digest` is
    /// used up, `suspended → active`, the hold taken off the authentication
    /// certificate (the next delta CRL says removeFromCRL), the CRL stale, the event
    /// (`details`) and the audit event — one transaction. The signature certificate
    /// stays revoked. `Ok(Err(_))` when the challenge is missing, expired or another
    /// (nothing changed); [`StoreError::Illegal`] unless the card is suspended.
    pub async fn lift_suspension(
        &self,
        card_id: &str,
        digest: &[u8],
        actor: &Actor,
        details: &str,
    ) -> Result<std::result::Result<SuspensionRecord, ChallengeRefusal>> {
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let challenge = tx
            .fetch_optional(
                "SELECT digest, expires_at FROM lift_challenges WHERE card_id = $1",
                &[card_id.into()],
            )
            .await?;
        let Some(challenge) = challenge else {
            return Ok(Err(ChallengeRefusal::Missing));
        };
        if challenge.int(1)? <= now {
            return Ok(Err(ChallengeRefusal::Expired));
        }
        if !constant_time_eq(&challenge.bytes(0)?, digest) {
            return Ok(Err(ChallengeRefusal::Different));
        }
        let used = tx
            .execute(
                "DELETE FROM lift_challenges WHERE card_id = $1 AND digest = $2",
                &[card_id.into(), digest.to_vec().into()],
            )
            .await?;
        if used != 1 {
            return Ok(Err(ChallengeRefusal::Missing));
        }
        let before = self
            .transition_card_in(
                &mut tx,
                card_id,
                CardTransition::Lift,
                actor,
                RevocationReason::CertificateHold.code(),
                Some(details),
                now,
            )
            .await?;
        let rows = tx
            .fetch_all(
                "UPDATE certificates SET revoked_at = NULL, reason = NULL, lifted_at = $1 \
                 WHERE card_id = $2 AND ca = 'auth' AND reason = $3 RETURNING serial",
                &[
                    now.into(),
                    card_id.into(),
                    RevocationReason::CertificateHold.code().into(),
                ],
            )
            .await?;
        let authentication = rows
            .iter()
            .map(|row| row.text(0))
            .collect::<Result<Vec<_>>>()?;
        Self::crls_stale(&mut tx, &["auth"]).await?;
        self.audit_in(&mut tx, actor, "card.lift", before.resident_key)
            .await?;
        tx.commit().await?;
        Ok(Ok(SuspensionRecord {
            card_id: card_id.to_owned(),
            resident_key: before.resident_key,
            authentication,
            signature: Vec::new(),
            at: now,
        }))
    }

    /// The card printed with this number, if any.
    pub async fn card_by_number(&self, number: &CardNumber) -> Result<Option<CardRecord>> {
        let row = self
            .read_optional(
                &format!(
                    "SELECT {} FROM cards WHERE card_number = $1",
                    crate::cards::CARD_COLUMNS
                ),
                &[number.as_digits().into()],
            )
            .await?;
        row.as_ref().map(card_record).transpose()
    }

    /// The card an issue notice was made for, if the notice exists.
    pub async fn card_by_notice(&self, number: &IssueNoticeNumber) -> Result<Option<CardRecord>> {
        match self.issue_notice_by_number(number).await? {
            Some(notice) => match self.card_record(&notice.card_id).await {
                Ok(card) => Ok(Some(card)),
                Err(StoreError::NotFound(_)) => Ok(None),
                Err(error) => Err(error),
            },
            None => Ok(None),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
