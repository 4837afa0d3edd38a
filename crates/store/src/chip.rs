//! The chip's life at the counter (issue 13, *our design*): the per-card issuer
//! key, and the renewal of a card's certificates on the same chip, recorded in one
//! transaction with the old certificates revoked and the card's history entry.
//!
//! The chip itself is never written here: the issuer's commands change it through
//! APDUs (see `maina_card::issuer`), and the card in the reader saves itself.

use crate::backend::{now_micros, to_i64, Query};
use crate::cards::NewCertificate;
use crate::pickup::counter::pinpad_place;
use crate::{Result, Store, StoreError};
use hmac::{Hmac, Mac};
use maina_core::card::{CardEventKind, CardState, RevocationReason};
use maina_core::officer::Actor;
use sha2::Sha256;
use zeroize::Zeroizing;

impl Store {
    /// The issuer key of card `card_id`: HMAC-SHA256 under the issuer's master key
    /// (from the key file, never in the database) of the card id. Written to the
    /// chip at manufacture; the issuer's commands to the chip are protected with it.
    pub fn card_issuer_key(&self, card_id: &str) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        if let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(self.card_issuer.as_slice()) {
            mac.update(b"maina card issuer key v1");
            mac.update(card_id.as_bytes());
            out.copy_from_slice(&mac.finalize().into_bytes());
        }
        out
    }

    /// Records certificates renewed on the same chip, in one transaction: the
    /// card must be active; its certificates of the renewed authorities still good
    /// are revoked (`renewed`), the new ones recorded, the CRLs marked stale, the
    /// history entry (`certificates-issued`, naming the authorities) and the audit
    /// event written. Returns the serials revoked.
    pub async fn renew_certificates(
        &self,
        card_id: &str,
        certificates: &[NewCertificate],
        actor: &Actor,
    ) -> Result<Vec<String>> {
        let now = now_micros();
        let reason = RevocationReason::Renewed.code();
        let mut tx = self.pool.begin().await?;
        let card = Self::card_state_in(&mut tx, card_id).await?;
        if card.state != CardState::Active {
            return Err(StoreError::Illegal(format!(
                "the card is {}: only an active card's certificates are renewed",
                card.state.code()
            )));
        }
        let mut authorities: Vec<&str> = certificates.iter().map(|c| c.ca.as_str()).collect();
        authorities.sort_unstable();
        authorities.dedup();
        let mut serials = Vec::new();
        for ca in &authorities {
            let revoked = tx
                .fetch_all(
                    "UPDATE certificates SET revoked_at = $1, reason = $2 \
                     WHERE card_id = $3 AND ca = $4 AND revoked_at IS NULL RETURNING serial",
                    &[now.into(), reason.into(), card_id.into(), (*ca).into()],
                )
                .await?;
            for row in &revoked {
                serials.push(row.text(0)?);
            }
        }
        if !serials.is_empty() {
            Self::crls_stale(&mut tx, &authorities).await?;
        }
        self.insert_certificates_in(&mut tx, card_id, certificates)
            .await?;
        self.card_event_in(
            &mut tx,
            card_id,
            CardEventKind::CertificatesIssued,
            actor,
            reason,
            Some(&authorities.join(",")),
            now,
        )
        .await?;
        self.audit_in(
            &mut tx,
            actor,
            "card.certificates-renewed",
            card.resident_key,
        )
        .await?;
        tx.commit().await?;
        Ok(serials)
    }

    /// Opens a PIN pad session for the reset of one PIN (`pin`: its code) of an
    /// active card. Earlier reset sessions of the card end, and any new PIN they
    /// still hold is erased. Audited.
    #[allow(clippy::too_many_arguments)]
    pub async fn open_pin_reset_pad(
        &self,
        code_hash: &[u8; 32],
        application_id: u64,
        card_id: &str,
        pin: &str,
        expires_at: i64,
        resident_key: u64,
        actor: &Actor,
    ) -> Result<()> {
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        tx.execute(
            "UPDATE pinpad_sessions SET state = 'expired', pins = NULL \
             WHERE card_id = $1 AND reset_pin IS NOT NULL AND state IN ('open', 'pins-held')",
            &[card_id.into()],
        )
        .await?;
        tx.execute(
            "INSERT INTO pinpad_sessions (code_hash, application_id, officer, created_at, expires_at, state, card_id, reset_pin) \
             VALUES ($1, $2, $3, $4, $5, 'open', $6, $7)",
            &[
                code_hash.to_vec().into(),
                to_i64(application_id)?.into(),
                actor.officer.as_str().into(),
                now.into(),
                expires_at.into(),
                card_id.into(),
                pin.into(),
            ],
        )
        .await?;
        self.audit_in(
            &mut tx,
            actor,
            "card.pin-reset-pad-open",
            Some(resident_key),
        )
        .await?;
        tx.commit().await
    }

    /// The new PIN the resident typed on the pad for `pin` of `card_id`, held
    /// sealed until written (opened here, for the issuer's command): the session's
    /// code hash and the PIN.
    pub async fn held_reset_pin(
        &self,
        card_id: &str,
        pin: &str,
    ) -> Result<Option<(Vec<u8>, Zeroizing<Vec<u8>>)>> {
        let row = self
            .read_optional(
                "SELECT code_hash, pins FROM pinpad_sessions \
                 WHERE card_id = $1 AND reset_pin = $2 AND state = 'pins-held' AND pins IS NOT NULL \
                 ORDER BY created_at DESC LIMIT 1",
                &[card_id.into(), pin.into()],
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let hash = row.bytes(0)?;
        let value: Vec<u8> = self.open_record(&pinpad_place(&hash), &row.bytes(1)?)?;
        Ok(Some((hash, Zeroizing::new(value))))
    }

    /// The chip confirmed a PIN reset (its receipt checked): the held PIN, if any,
    /// is erased, and the history entry (`pin-reset`, the PIN's code; `details`:
    /// `new-pin` or `unblocked`) and the audit event are written, in one
    /// transaction.
    pub async fn pin_reset_written(
        &self,
        card_id: &str,
        held: Option<&[u8]>,
        pin: &str,
        details: &str,
        actor: &Actor,
    ) -> Result<()> {
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let card = Self::card_state_in(&mut tx, card_id).await?;
        if let Some(code_hash) = held {
            let erased = tx
                .execute(
                    "UPDATE pinpad_sessions SET pins = NULL, state = 'written', used_at = $1 \
                     WHERE code_hash = $2 AND state = 'pins-held'",
                    &[now.into(), code_hash.to_vec().into()],
                )
                .await?;
            if erased != 1 {
                return Err(StoreError::Conflict);
            }
        }
        self.card_event_in(
            &mut tx,
            card_id,
            CardEventKind::PinReset,
            actor,
            pin,
            Some(details),
            now,
        )
        .await?;
        self.audit_in(&mut tx, actor, "card.pin-reset", card.resident_key)
            .await?;
        tx.commit().await
    }
}
