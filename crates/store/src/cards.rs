//! Cards and their certificates. The store keeps the chip's content sealed and knows
//! nothing of its format (that is `maina-card`'s); it keeps each certificate sealed
//! with its serial, authority, validity and revocation in clear for CRLs and OCSP.

use crate::backend::{now_micros, to_i64, Query, Row, Tx};
use crate::{CrlDocument, Result, Store, StoreError};
use maina_core::card::{
    CardEventKind, CardState, CardTransition, RevocationReason, RevocationScope,
};
use maina_core::officer::Actor;

/// A card as the registry lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardRecord {
    pub id: String,
    /// The holder's row key (`None` for a demonstration card of a synthetic person).
    pub resident_key: Option<u64>,
    /// [`maina_core::card::CardState::code`].
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// The chip content's version: [`Store::save_chip`] names the version it read.
    pub chip_version: i64,
    /// Printed on the card (10 digits); `None` for a demonstration card.
    pub card_number: Option<String>,
    /// YYYY-MM-DD, the card's last day; `None` for a demonstration card.
    pub expires_on: Option<String>,
    /// The application it was made from.
    pub application_id: Option<u64>,
}

/// A certificate as the registry lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRecord {
    /// Upper-case hexadecimal.
    pub serial: String,
    /// `auth` or `sign`.
    pub ca: String,
    pub card_id: String,
    /// Seconds since the Unix epoch.
    pub not_before: i64,
    pub not_after: i64,
    /// Microseconds since the Unix epoch.
    pub revoked_at: Option<i64>,
    pub reason: Option<String>,
}

/// A certificate to record with a new card.
#[derive(Debug, Clone)]
pub struct NewCertificate {
    pub serial: String,
    pub ca: String,
    pub not_before: i64,
    pub not_after: i64,
    pub der: Vec<u8>,
}

pub(crate) fn chip_place(card_id: &str) -> String {
    format!("card/{card_id}/chip")
}

pub(crate) fn certificate_place(serial: &str) -> String {
    format!("certificate/{serial}")
}

pub(crate) const CARD_COLUMNS: &str =
    "id, resident_id, status, created_at, updated_at, chip_version, card_number, expires_on, application_id";
pub(crate) const CERTIFICATE_COLUMNS: &str =
    "serial, ca, card_id, not_before, not_after, revoked_at, reason";

pub(crate) fn card_record(row: &Row) -> Result<CardRecord> {
    decode_row!(row => CardRecord {
        id: text, resident_key: opt_key, status: text, created_at: int, updated_at: int,
        chip_version: int, card_number: opt_text, expires_on: opt_text, application_id: opt_key,
    })
}

pub(crate) fn certificate_record(row: &Row) -> Result<CertificateRecord> {
    decode_row!(row => CertificateRecord {
        serial: text, ca: text, card_id: text, not_before: int, not_after: int,
        revoked_at: opt_int, reason: opt_text,
    })
}

impl Store {
    /// The one row `sql` finds for `key` ([`StoreError::NotFound`] naming `what` if
    /// none): its record by `decode`, and the value sealed in its last column opened
    /// at `place`.
    async fn read_sealed<T>(
        &self,
        what: &'static str,
        sql: &str,
        key: &str,
        decode: fn(&Row) -> Result<T>,
        place: &str,
    ) -> Result<(T, Vec<u8>)> {
        let row = self.read_found(what, sql, &[key.into()]).await?;
        let record = decode(&row)?;
        let sealed = row.bytes(row.len().saturating_sub(1))?;
        Ok((record, self.open_record(place, &sealed)?))
    }

    /// Records a new card (its sealed chip) and its certificates in one transaction,
    /// with an audit event naming the holder.
    pub async fn put_card(
        &self,
        card_id: &str,
        resident_key: Option<u64>,
        chip: &[u8],
        certificates: &[NewCertificate],
        actor: &Actor,
    ) -> Result<()> {
        let sealed = self.seal_record(&chip_place(card_id), chip)?;
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        tx.execute(
            "INSERT INTO cards (id, resident_id, status, created_at, updated_at, chip) VALUES ($1, $2, 'active', $3, $3, $4)",
            &[
                card_id.into(),
                resident_key.map(to_i64).transpose()?.into(),
                now.into(),
                sealed.into(),
            ],
        )
        .await?;
        self.insert_certificates_in(&mut tx, card_id, certificates)
            .await?;
        self.card_event_in(
            &mut tx,
            card_id,
            CardEventKind::State(CardTransition::Activate),
            actor,
            "made-and-set",
            None,
            now,
        )
        .await?;
        self.audit_in(&mut tx, actor, "card.create", resident_key)
            .await?;
        tx.commit().await
    }

    /// Records `certificates` of card `card_id` (each sealed), in the caller's
    /// transaction.
    pub(crate) async fn insert_certificates_in(
        &self,
        tx: &mut Tx<'_>,
        card_id: &str,
        certificates: &[NewCertificate],
    ) -> Result<()> {
        for certificate in certificates {
            let der = self.seal_record(
                &certificate_place(&certificate.serial),
                certificate.der.as_slice(),
            )?;
            tx.execute(
                "INSERT INTO certificates (serial, ca, card_id, not_before, not_after, der) VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    certificate.serial.as_str().into(),
                    certificate.ca.as_str().into(),
                    card_id.into(),
                    certificate.not_before.into(),
                    certificate.not_after.into(),
                    der.into(),
                ],
            )
            .await?;
        }
        Ok(())
    }

    /// A card and its opened chip content.
    pub async fn card(&self, card_id: &str) -> Result<(CardRecord, Vec<u8>)> {
        let sql = format!("SELECT {CARD_COLUMNS}, chip FROM cards WHERE id = $1");
        self.read_sealed("card", &sql, card_id, card_record, &chip_place(card_id))
            .await
    }

    /// Saves a card's chip content after a command changed it (a PIN counter), if
    /// it is still at `read_version` (the [`CardRecord::chip_version`] it was read
    /// at); returns the new version. [`StoreError::Conflict`] when another process
    /// saved the chip in between: the caller's copy is stale (its PIN counters too),
    /// so it must read the card again rather than save over the other's.
    pub async fn save_chip(&self, card_id: &str, chip: &[u8], read_version: i64) -> Result<i64> {
        let sealed = self.seal_record(&chip_place(card_id), chip)?;
        let changed = self
            .write_one(
                "UPDATE cards SET chip = $1, updated_at = $2, chip_version = chip_version + 1 WHERE id = $3 AND chip_version = $4",
                &[
                    sealed.into(),
                    now_micros().into(),
                    card_id.into(),
                    read_version.into(),
                ],
            )
            .await?;
        if changed == 0 {
            self.read_found(
                "card",
                "SELECT id FROM cards WHERE id = $1",
                &[card_id.into()],
            )
            .await?;
            return Err(StoreError::Conflict);
        }
        Ok(read_version + 1)
    }

    /// A card's record, without opening its chip.
    pub async fn card_record(&self, card_id: &str) -> Result<CardRecord> {
        let row = self
            .read_found(
                "card",
                &format!("SELECT {CARD_COLUMNS} FROM cards WHERE id = $1"),
                &[card_id.into()],
            )
            .await?;
        card_record(&row)
    }

    /// A resident's cards, newest first.
    pub async fn cards_of_resident(&self, resident_key: u64) -> Result<Vec<CardRecord>> {
        let rows = self
            .read_all(
                &format!(
                    "SELECT {CARD_COLUMNS} FROM cards WHERE resident_id = $1 ORDER BY created_at DESC, id"
                ),
                &[to_i64(resident_key)?.into()],
            )
            .await?;
        rows.iter().map(card_record).collect()
    }

    /// Every card, newest first.
    pub async fn cards(&self) -> Result<Vec<CardRecord>> {
        let rows = self
            .read_all(
                &format!("SELECT {CARD_COLUMNS} FROM cards ORDER BY created_at DESC, id"),
                &[],
            )
            .await?;
        rows.iter().map(card_record).collect()
    }

    /// A card's certificates.
    pub async fn card_certificates(&self, card_id: &str) -> Result<Vec<CertificateRecord>> {
        let rows = self
            .read_all(
                &format!(
                    "SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE card_id = $1 ORDER BY ca"
                ),
                &[card_id.into()],
            )
            .await?;
        rows.iter().map(certificate_record).collect()
    }

    /// One certificate's record and DER.
    pub async fn certificate(&self, serial: &str) -> Result<(CertificateRecord, Vec<u8>)> {
        let sql = format!("SELECT {CERTIFICATE_COLUMNS}, der FROM certificates WHERE serial = $1");
        let place = certificate_place(serial);
        self.read_sealed("certificate", &sql, serial, certificate_record, &place)
            .await
    }

    /// A certificate's status for OCSP: `None` if this authority never issued it.
    pub async fn certificate_status(
        &self,
        ca: &str,
        serial: &str,
    ) -> Result<Option<CertificateRecord>> {
        let row = self
            .read_optional(
                &format!(
                    "SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE serial = $1 AND ca = $2"
                ),
                &[serial.into(), ca.into()],
            )
            .await?;
        row.as_ref().map(certificate_record).transpose()
    }

    /// Revokes a card: the card is marked revoked and each of its certificates not yet
    /// revoked is revoked with `reason`, in one transaction with its audit event.
    /// Returns the serials revoked now.
    pub async fn revoke_card(
        &self,
        card_id: &str,
        reason: RevocationReason,
        actor: &Actor,
    ) -> Result<Vec<String>> {
        let reason = reason.code();
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let resident_key = self
            .transition_card_in(
                &mut tx,
                card_id,
                CardTransition::Abolish,
                actor,
                reason,
                None,
                now,
            )
            .await?
            .resident_key;
        let revoked = tx
            .fetch_all(
                // A hold (a suspended card's) becomes a revocation for good.
                "UPDATE certificates SET revoked_at = $1, reason = $2 WHERE card_id = $3 AND (revoked_at IS NULL OR reason = 'certificate-hold') RETURNING serial",
                &[now.into(), reason.into(), card_id.into()],
            )
            .await?;
        let serials = revoked
            .iter()
            .map(|row| row.text(0))
            .collect::<Result<Vec<_>>>()?;
        if !serials.is_empty() {
            Self::crls_stale(&mut tx, &["auth", "sign"]).await?;
        }
        self.audit_in(
            &mut tx,
            actor,
            &format!("card.revoke:{reason}"),
            resident_key,
        )
        .await?;
        tx.commit().await?;
        Ok(serials)
    }

    /// Revokes what a registry change revokes (`maina_core::card::revocation_for`), in
    /// the change's transaction.
    pub(crate) async fn revoke_for_event(
        &self,
        tx: &mut Tx<'_>,
        resident_key: u64,
        scope: RevocationScope,
        reason: RevocationReason,
        actor: &Actor,
        now: i64,
    ) -> Result<()> {
        let resident = to_i64(resident_key)?;
        // Each card's history names what happened to it: the cards still alive are
        // abolished (the whole card) or lose their signature certificate.
        let only_signature = match scope {
            RevocationScope::Card | RevocationScope::Certificates => "",
            RevocationScope::SignatureCertificate => " AND ca = 'sign'",
        };
        let living = tx
            .fetch_all(
                &format!(
                    "SELECT c.id, c.status, (SELECT COUNT(*) FROM certificates WHERE card_id = c.id AND revoked_at IS NULL{only_signature}) \
                     FROM cards c WHERE c.resident_id = $1 ORDER BY c.id"
                ),
                &[resident.into()],
            )
            .await?;
        for row in &living {
            let card_id = row.text(0)?;
            let state = CardState::from_code(&row.text(1)?);
            match scope {
                RevocationScope::Card => {
                    if state.is_some_and(|s| !s.is_final()) {
                        self.transition_card_in(
                            tx,
                            &card_id,
                            CardTransition::Abolish,
                            actor,
                            reason.code(),
                            None,
                            now,
                        )
                        .await?;
                    }
                }
                RevocationScope::SignatureCertificate | RevocationScope::Certificates => {
                    if row.int(2)? != 0 {
                        let which = match scope {
                            RevocationScope::Certificates => "auth sign",
                            _ => "sign",
                        };
                        self.card_event_in(
                            tx,
                            &card_id,
                            CardEventKind::CertificatesRevoked,
                            actor,
                            reason.code(),
                            Some(which),
                            now,
                        )
                        .await?;
                    }
                }
            }
        }
        let revoked = tx
            .execute(
                &format!(
                    "UPDATE certificates SET revoked_at = $1, reason = $2 \
                     WHERE (revoked_at IS NULL OR reason = 'certificate-hold') \
                     AND card_id IN (SELECT id FROM cards WHERE resident_id = $3){only_signature}"
                ),
                &[now.into(), reason.code().into(), resident.into()],
            )
            .await?;
        if revoked > 0 {
            let authorities: &[&str] = match scope {
                RevocationScope::Card | RevocationScope::Certificates => &["auth", "sign"],
                RevocationScope::SignatureCertificate => &["sign"],
            };
            Self::crls_stale(tx, authorities).await?;
        }
        Ok(())
    }

    /// The revoked certificates of one authority that have not expired yet (an
    /// expired certificate may leave the CRL, RFC 5280 3.3): serial, revocation time
    /// (microseconds) and reason.
    pub async fn revoked_certificates(&self, ca: &str) -> Result<Vec<(String, i64, String)>> {
        let now_seconds = now_micros() / 1_000_000;
        let rows = self
            .read_all(
                "SELECT serial, revoked_at, reason FROM certificates WHERE ca = $1 AND revoked_at IS NOT NULL AND not_after >= $2 ORDER BY revoked_at, serial",
                &[ca.into(), now_seconds.into()],
            )
            .await?;
        rows.iter()
            .map(|row| Ok((row.text(0)?, row.int(1)?, row.text(2)?)))
            .collect()
    }

    /// Marks the stored CRLs of these authorities stale, in a revocation's
    /// transaction: the next CRL must list it.
    pub(crate) async fn crls_stale(tx: &mut Tx<'_>, authorities: &[&str]) -> Result<()> {
        for ca in authorities {
            tx.execute(
                "UPDATE crls SET revision = revision + 1 WHERE ca = $1",
                &[(*ca).into()],
            )
            .await?;
        }
        Ok(())
    }

    /// How current the stored CRL of an authority is (a read of its counters only;
    /// the signed CRL itself is [`Store::crl_document`]).
    pub async fn stored_crl(&self, ca: &str) -> Result<StoredCrl> {
        let row = self
            .read_found(
                "CRL",
                "SELECT revision, built_revision, number, base_number, this_update, next_update, \
                 COALESCE((SELECT length(der) FROM crl_documents d WHERE d.ca = crls.ca AND d.kind = 'base'), 0) \
                 FROM crls WHERE ca = $1",
                &[ca.into()],
            )
            .await?;
        decode_row!(&row => StoredCrl {
            revision: int, built_revision: int, number: int, base_number: int, this_update: int,
            next_update: int, base_bytes: int,
        })
    }

    /// How many revocations of this authority there have been (for caches of OCSP
    /// answers: an answer made at an older revision may be stale).
    pub async fn crl_revision(&self, ca: &str) -> Result<i64> {
        let row = self
            .read_found(
                "CRL",
                "SELECT revision FROM crls WHERE ca = $1",
                &[ca.into()],
            )
            .await?;
        row.int(0)
    }

    /// Stores the next base CRL of an authority, if the stored one has a lower number
    /// (two processes building at once: the higher number wins, the other's is
    /// dropped; complete and delta CRLs share one sequence, so the number is taken
    /// with [`Store::reserve_crl_number`] before the build). Returns whether it was
    /// stored.
    pub async fn put_crl(&self, ca: &str, new: &NewCrl) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let changed = tx
            .execute(
                "UPDATE crls SET built_revision = $1, base_number = $2, \
                 number = CASE WHEN number < $2 THEN $2 ELSE number END, \
                 this_update = $3, next_update = $4 WHERE ca = $5 AND base_number < $2",
                &[
                    new.built_revision.into(),
                    new.number.into(),
                    new.this_update.into(),
                    new.next_update.into(),
                    ca.into(),
                ],
            )
            .await?;
        if changed != 1 {
            return Ok(false);
        }
        Self::put_crl_document_in(&mut tx, ca, CrlDocument::Base, &new.der).await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// An authority's stored CRL row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCrl {
    /// Revocations so far (see the migration `0006_pki.sql`).
    pub revision: i64,
    /// The revision the stored CRL lists (stale while below `revision`).
    pub built_revision: i64,
    /// The last CRL number taken, by a base or a delta CRL (0: none yet).
    pub number: i64,
    /// The stored base CRL's number (0: none yet).
    pub base_number: i64,
    /// Seconds since the Unix epoch.
    pub this_update: i64,
    pub next_update: i64,
    /// The stored base CRL's size in bytes (0: none yet).
    pub base_bytes: i64,
}

/// A CRL to store with [`Store::put_crl`].
#[derive(Debug, Clone)]
pub struct NewCrl {
    pub built_revision: i64,
    pub number: i64,
    pub this_update: i64,
    pub next_update: i64,
    pub der: Vec<u8>,
}
