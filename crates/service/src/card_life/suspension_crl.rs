//! The delta CRLs (RFC 5280 5.2.4) that put a suspension on a signed CRL within a
//! second, however many serials the base CRL lists: the CRL worker's fast loop
//! signs the delta of each authority whose revocations changed (or whose base or
//! delta is due), listing every revocation and lifted hold (removeFromCRL) since
//! the base's thisUpdate less [`DELTA_OVERLAP_SECONDS`] — a revocation whose
//! transaction began before the base read its rows and committed after is still
//! listed. Served at `/pki/{auth,sign}-delta.crl`, named by the freshestCRL
//! extension of the certificates.

use crate::cards::CardServiceError;
use chrono::{DateTime, Duration, Utc};
use maina_pki::{Authorities, CaKind, Lifted, Revocation, RevocationReason, Serial};
use maina_store::{CrlDocument, NewDeltaCrl, Store};

/// How long a delta CRL stays current; it is signed afresh at half of it even when
/// nothing changed.
pub const DELTA_LIFETIME_MINUTES: i64 = 60;
/// How far before the base's thisUpdate the delta still looks (longer than any
/// revocation's transaction).
pub const DELTA_OVERLAP_SECONDS: i64 = 120;

/// Signs and stores the delta CRL of `kind` if a revocation or lift since the
/// stored delta, a newer base or its age calls for it; returns whether it did.
pub async fn refresh_delta_crl(
    store: &Store,
    authorities: &Authorities,
    kind: CaKind,
    now: DateTime<Utc>,
) -> Result<bool, CardServiceError> {
    let stored = store.stored_delta_crl(kind.code()).await?;
    if stored.base_number == 0 {
        // No base yet: the base worker signs the first, complete one.
        return Ok(false);
    }
    let fresh = stored.number > 0
        && stored.built_revision >= stored.revision
        && stored.delta_base_number == stored.base_number
        && stored.next_update > (now + Duration::minutes(DELTA_LIFETIME_MINUTES / 2)).timestamp();
    if fresh {
        return Ok(false);
    }
    // As for the base: the revision is read before the changes.
    let revision = stored.revision;
    let since = (stored.base_this_update - DELTA_OVERLAP_SECONDS).saturating_mul(1_000_000);
    let changes = store.crl_changes_since(kind.code(), since).await?;
    let mut revoked = Vec::with_capacity(changes.revoked.len());
    for (serial, at, reason) in changes.revoked {
        revoked.push(Revocation {
            serial: Serial::from_hex(&serial)?,
            revoked_at: micros(at),
            reason: RevocationReason::from_code(&reason)
                .unwrap_or(RevocationReason::HoldersRequest),
        });
    }
    let mut lifted = Vec::with_capacity(changes.lifted.len());
    for (serial, at) in changes.lifted {
        lifted.push(Lifted {
            serial: Serial::from_hex(&serial)?,
            lifted_at: micros(at),
        });
    }
    let number = store.reserve_crl_number(kind.code()).await?;
    let this_update = now - Duration::minutes(1);
    let next_update = now + Duration::minutes(DELTA_LIFETIME_MINUTES);
    let der = authorities.get(kind).issuing().delta_crl(
        &revoked,
        &lifted,
        u64::try_from(number).unwrap_or_default(),
        u64::try_from(stored.base_number).unwrap_or_default(),
        this_update,
        next_update,
    )?;
    let stored = store
        .put_delta_crl(
            kind.code(),
            &NewDeltaCrl {
                built_revision: revision,
                number,
                base_number: stored.base_number,
                next_update: next_update.timestamp(),
                der,
            },
        )
        .await?;
    Ok(stored)
}

fn micros(at: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Signs the delta CRL of each authority that needs one; returns those signed.
/// The CRL worker's fast loop runs this.
pub async fn refresh_delta_crls(
    store: &Store,
    authorities: &Authorities,
) -> Result<Vec<CaKind>, CardServiceError> {
    let now = Utc::now();
    let mut signed = Vec::new();
    for kind in CaKind::ALL {
        if refresh_delta_crl(store, authorities, kind, now).await? {
            signed.push(kind);
        }
    }
    Ok(signed)
}

/// The stored delta CRL of `kind`, as published (`None` before the first). Reads
/// only.
pub async fn published_delta_crl(
    store: &Store,
    kind: CaKind,
) -> Result<Option<Vec<u8>>, CardServiceError> {
    Ok(store.crl_document(kind.code(), CrlDocument::Delta).await?)
}
