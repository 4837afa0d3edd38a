//! Signature verifiers (署名検証者, issue 15): the parties that ask whether a
//! signature made with a card's signature certificate is valid; and the look-ups
//! the answer needs (a certificate's holder, the holder's newest signature
//! certificate).

use crate::backend::{now_micros, Query};
use crate::cards::{certificate_record, CERTIFICATE_COLUMNS};
use crate::{CertificateRecord, Result, Store, StoreError};
use maina_core::officer::Actor;

/// A registered signature verifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureVerifier {
    pub client_id: String,
    pub name: String,
    /// SHA-256 of the client secret.
    pub secret_hash: Vec<u8>,
    pub sector: String,
    /// May follow a signer across a change of name or address.
    pub follow: bool,
    pub disabled: bool,
    /// Microseconds since the Unix epoch.
    pub created_at: i64,
}

/// A verifier to register.
#[derive(Debug, Clone)]
pub struct NewSignatureVerifier {
    pub client_id: String,
    pub name: String,
    pub secret_hash: Vec<u8>,
    pub sector: String,
    pub follow: bool,
}

const COLUMNS: &str = "client_id, name, secret_hash, sector, follow, disabled, created_at";

fn verifier(row: &crate::backend::Row) -> Result<SignatureVerifier> {
    Ok(SignatureVerifier {
        client_id: row.text(0)?,
        name: row.text(1)?,
        secret_hash: row.bytes(2)?,
        sector: row.text(3)?,
        follow: row.flag(4)?,
        disabled: row.flag(5)?,
        created_at: row.int(6)?,
    })
}

impl Store {
    /// Registers a signature verifier (audited). A taken client id is a duplicate.
    pub async fn add_signature_verifier(
        &self,
        new: &NewSignatureVerifier,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        if tx
            .exists(
                "SELECT 1 FROM signature_verifiers WHERE client_id = $1",
                &[new.client_id.as_str().into()],
            )
            .await?
        {
            return Err(StoreError::Duplicate("signature verifier"));
        }
        tx.execute(
            &format!(
                "INSERT INTO signature_verifiers ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, 0, $6)"
            ),
            &[
                new.client_id.as_str().into(),
                new.name.as_str().into(),
                new.secret_hash.clone().into(),
                new.sector.as_str().into(),
                i64::from(new.follow).into(),
                now_micros().into(),
            ],
        )
        .await?;
        self.audit_in(
            &mut tx,
            actor,
            &format!("verifier.add {}", new.client_id),
            None,
        )
        .await?;
        tx.commit().await
    }

    /// A signature verifier by client id.
    pub async fn signature_verifier(&self, client_id: &str) -> Result<Option<SignatureVerifier>> {
        self.read_optional(
            &format!("SELECT {COLUMNS} FROM signature_verifiers WHERE client_id = $1"),
            &[client_id.into()],
        )
        .await?
        .as_ref()
        .map(verifier)
        .transpose()
    }

    /// Every signature verifier, by name.
    pub async fn signature_verifiers(&self) -> Result<Vec<SignatureVerifier>> {
        self.read_all(
            &format!("SELECT {COLUMNS} FROM signature_verifiers ORDER BY name, client_id"),
            &[],
        )
        .await?
        .iter()
        .map(verifier)
        .collect()
    }

    /// Disables a signature verifier (audited): its requests are refused.
    pub async fn disable_signature_verifier(&self, client_id: &str, actor: &Actor) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let changed = tx
            .execute(
                "UPDATE signature_verifiers SET disabled = 1 WHERE client_id = $1",
                &[client_id.into()],
            )
            .await?;
        if changed != 1 {
            return Err(StoreError::NotFound("signature verifier"));
        }
        self.audit_in(
            &mut tx,
            actor,
            &format!("verifier.disable {client_id}"),
            None,
        )
        .await?;
        tx.commit().await
    }

    /// The row key of the resident holding the card a certificate was issued to
    /// (`None` for a demonstration card or an unknown serial).
    pub async fn certificate_holder(&self, serial: &str) -> Result<Option<u64>> {
        let row = self
            .read_optional(
                "SELECT cards.resident_id FROM certificates \
                 JOIN cards ON cards.id = certificates.card_id WHERE certificates.serial = $1",
                &[serial.into()],
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(row.opt_int(0)?.and_then(|key| u64::try_from(key).ok()))
    }

    /// The newest signature certificate not revoked among all the cards of resident
    /// `resident_key` (after a change of name or address, the one issued since).
    pub async fn newest_signature_certificate(
        &self,
        resident_key: u64,
    ) -> Result<Option<CertificateRecord>> {
        let key = i64::try_from(resident_key)
            .map_err(|_| StoreError::Illegal("a resident key beyond 2^63".into()))?;
        let columns = CERTIFICATE_COLUMNS
            .split(", ")
            .map(|c| format!("certificates.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let row = self
            .read_optional(
                &format!(
                    "SELECT {columns} FROM certificates JOIN cards ON cards.id = certificates.card_id \
                     WHERE cards.resident_id = $1 AND certificates.ca = 'sign' \
                     AND certificates.revoked_at IS NULL \
                     ORDER BY certificates.not_before DESC, certificates.serial LIMIT 1"
                ),
                &[key.into()],
            )
            .await?;
        row.as_ref().map(certificate_record).transpose()
    }
}
