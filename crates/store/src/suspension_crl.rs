//! Delta CRLs (RFC 5280 5.2.4), so that a revocation is on a signed CRL within a
//! second even when the base CRL lists a million serials: the base is re-signed by
//! its own worker when stale (however long that takes), and the delta — every
//! revocation and every lifted hold since the base's thisUpdate, less a margin —
//! by a fast one. Both take their numbers from one sequence
//! ([`Store::reserve_crl_number`]).

use crate::backend::{now_micros, Query, Tx};
use crate::{Result, Store};

/// Which of an authority's signed CRLs (kept apart from the `crls` counters, which
/// every revocation updates: see the migration `0017_crl_documents.sql`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrlDocument {
    /// The complete CRL.
    Base,
    /// The delta CRL since the base.
    Delta,
}

impl CrlDocument {
    fn code(self) -> &'static str {
        match self {
            Self::Base => "base",
            Self::Delta => "delta",
        }
    }
}

/// An authority's revocations and lifted holds since a moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrlChanges {
    /// Serial, revocation time (microseconds), reason code.
    pub revoked: Vec<(String, i64, String)>,
    /// Serial and when its hold was lifted (microseconds): removeFromCRL.
    pub lifted: Vec<(String, i64)>,
}

/// An authority's stored delta CRL and what it needs to know about the base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDeltaCrl {
    /// Revocations so far (as [`crate::StoredCrl::revision`]).
    pub revision: i64,
    /// The stored base CRL's number and thisUpdate (seconds); 0 before the first.
    pub base_number: i64,
    pub base_this_update: i64,
    /// The revision and base the stored delta lists, its number and nextUpdate
    /// (seconds).
    pub built_revision: i64,
    pub delta_base_number: i64,
    pub number: i64,
    pub next_update: i64,
}

/// A delta CRL to store with [`Store::put_delta_crl`].
#[derive(Debug, Clone)]
pub struct NewDeltaCrl {
    pub built_revision: i64,
    pub number: i64,
    pub base_number: i64,
    pub next_update: i64,
    pub der: Vec<u8>,
}

impl Store {
    /// Takes the next number of an authority's CRL sequence (complete and delta CRLs
    /// share it).
    pub async fn reserve_crl_number(&self, ca: &str) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let row = tx
            .fetch_one(
                "UPDATE crls SET number = number + 1 WHERE ca = $1 RETURNING number",
                &[ca.into()],
            )
            .await?;
        let number = row.int(0)?;
        tx.commit().await?;
        Ok(number)
    }

    /// The revocations (of certificates not yet expired) and lifted holds of an
    /// authority at or after `since` (microseconds).
    pub async fn crl_changes_since(&self, ca: &str, since: i64) -> Result<CrlChanges> {
        let now_seconds = now_micros() / 1_000_000;
        let revoked = self
            .read_all(
                "SELECT serial, revoked_at, reason FROM certificates WHERE ca = $1 \
                 AND revoked_at >= $2 AND not_after >= $3 ORDER BY revoked_at, serial",
                &[ca.into(), since.into(), now_seconds.into()],
            )
            .await?;
        let lifted = self
            .read_all(
                "SELECT serial, lifted_at FROM certificates WHERE ca = $1 \
                 AND lifted_at >= $2 AND revoked_at IS NULL AND not_after >= $3 ORDER BY lifted_at, serial",
                &[ca.into(), since.into(), now_seconds.into()],
            )
            .await?;
        Ok(CrlChanges {
            revoked: revoked
                .iter()
                .map(|row| {
                    Ok((
                        row.text(0)?,
                        row.int(1)?,
                        row.opt_text(2)?.unwrap_or_default(),
                    ))
                })
                .collect::<Result<_>>()?,
            lifted: lifted
                .iter()
                .map(|row| Ok((row.text(0)?, row.int(1)?)))
                .collect::<Result<_>>()?,
        })
    }

    /// How current the stored delta CRL of an authority is (a read of the counters
    /// only; the signed delta is [`Store::crl_document`]).
    pub async fn stored_delta_crl(&self, ca: &str) -> Result<StoredDeltaCrl> {
        let row = self
            .read_found(
                "CRL",
                "SELECT revision, base_number, this_update, delta_built_revision, delta_base_number, \
                 delta_number, delta_next_update FROM crls WHERE ca = $1",
                &[ca.into()],
            )
            .await?;
        decode_row!(&row => StoredDeltaCrl {
            revision: int, base_number: int, base_this_update: int, built_revision: int,
            delta_base_number: int, number: int, next_update: int,
        })
    }

    /// Stores a delta CRL unless a later one is stored. Returns whether it was.
    pub async fn put_delta_crl(&self, ca: &str, new: &NewDeltaCrl) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let changed = tx
            .execute(
                "UPDATE crls SET delta_built_revision = $1, delta_number = $2, delta_base_number = $3, \
                 delta_next_update = $4 WHERE ca = $5 AND delta_number < $2",
                &[
                    new.built_revision.into(),
                    new.number.into(),
                    new.base_number.into(),
                    new.next_update.into(),
                    ca.into(),
                ],
            )
            .await?;
        if changed != 1 {
            return Ok(false);
        }
        Self::put_crl_document_in(&mut tx, ca, CrlDocument::Delta, &new.der).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// An authority's signed CRL of this kind as published (`None` before the
    /// first). Reads only.
    pub async fn crl_document(&self, ca: &str, document: CrlDocument) -> Result<Option<Vec<u8>>> {
        let row = self
            .read_optional(
                "SELECT der FROM crl_documents WHERE ca = $1 AND kind = $2",
                &[ca.into(), document.code().into()],
            )
            .await?;
        row.map(|row| row.bytes(0)).transpose()
    }

    /// Replaces an authority's signed CRL of this kind, in the transaction that
    /// moved its counters.
    pub(crate) async fn put_crl_document_in(
        tx: &mut Tx<'_>,
        ca: &str,
        document: CrlDocument,
        der: &[u8],
    ) -> Result<()> {
        tx.execute(
            "INSERT INTO crl_documents (ca, kind, der) VALUES ($1, $2, $3) \
             ON CONFLICT (ca, kind) DO UPDATE SET der = excluded.der",
            &[ca.into(), document.code().into(), der.to_vec().into()],
        )
        .await?;
        Ok(())
    }
}
