//! The issuing CAs' CRLs: signed when a revocation made the stored one stale (or its
//! nextUpdate nears), stored, and served from the store. Serving a CRL reads one row:
//! it neither signs nor writes, whoever asks.

use super::CardServiceError;
use chrono::{DateTime, Duration, Utc};
use maina_pki::{Authorities, CaKind, Revocation, RevocationReason, Serial};
use maina_store::{CrlDocument, NewCrl, Store};

/// How long a CRL stays current (its nextUpdate after its thisUpdate).
pub const CRL_LIFETIME_HOURS: i64 = 24;
/// A stored CRL is signed afresh when less than this remains before its nextUpdate,
/// so relying parties never see an expired one while the server runs.
pub const CRL_REFRESH_MARGIN_HOURS: i64 = 12;

/// The revocations the CRL of `kind` lists now. A stored reason that is missing or
/// unknown is listed as `holders-request`, whose RFC 5280 code is *unspecified*: a
/// revocation is never left off for want of a reason.
async fn revocations(store: &Store, kind: CaKind) -> Result<Vec<Revocation>, CardServiceError> {
    let revoked = store.revoked_certificates(kind.code()).await?;
    let mut entries = Vec::with_capacity(revoked.len());
    for (serial, at, reason) in revoked {
        entries.push(Revocation {
            serial: Serial::from_hex(&serial)?,
            revoked_at: DateTime::from_timestamp_micros(at).unwrap_or(DateTime::<Utc>::MIN_UTC),
            reason: RevocationReason::from_code(&reason)
                .unwrap_or(RevocationReason::HoldersRequest),
        });
    }
    Ok(entries)
}

/// Signs and stores the next CRL of `kind` if the stored one is stale; returns
/// whether it did.
async fn refresh_crl(
    store: &Store,
    authorities: &Authorities,
    kind: CaKind,
    now: DateTime<Utc>,
) -> Result<bool, CardServiceError> {
    let stored = store.stored_crl(kind.code()).await?;
    let fresh = stored.base_number > 0
        && stored.built_revision >= stored.revision
        && stored.next_update > (now + Duration::hours(CRL_REFRESH_MARGIN_HOURS)).timestamp();
    if fresh {
        return Ok(false);
    }
    // The revision is read before the revocations: one that commits in between is
    // listed and also leaves the CRL marked stale, so the next refresh lists it
    // again — never the other way round.
    let revision = stored.revision;
    let entries = revocations(store, kind).await?;
    // Complete and delta CRLs share one number sequence: the number is taken now,
    // so deltas signed while a large base is built follow it.
    let number = store.reserve_crl_number(kind.code()).await?;
    let this_update = now - Duration::minutes(1);
    let next_update = now + Duration::hours(CRL_LIFETIME_HOURS);
    let der = authorities.get(kind).issuing().crl(
        &entries,
        u64::try_from(number).unwrap_or_default(),
        this_update,
        next_update,
    )?;
    let stored = store
        .put_crl(
            kind.code(),
            &NewCrl {
                built_revision: revision,
                number,
                this_update: this_update.timestamp(),
                next_update: next_update.timestamp(),
                der,
            },
        )
        .await?;
    if stored {
        tracing::info!(ca = kind.code(), number, "CRL signed");
    }
    Ok(stored)
}

/// Signs and stores the next CRL of each authority whose stored one is stale (a
/// revocation since it was signed, or its nextUpdate near); returns those signed.
/// The CRL worker runs this; so do the back office's commands after a revocation.
pub async fn refresh_crls(
    store: &Store,
    authorities: &Authorities,
) -> Result<Vec<CaKind>, CardServiceError> {
    let now = Utc::now();
    let mut signed = Vec::new();
    for kind in CaKind::ALL {
        if refresh_crl(store, authorities, kind, now).await? {
            signed.push(kind);
        }
    }
    Ok(signed)
}

/// The stored CRL of `kind`, as published (`None` before the first is signed).
/// Reads only: whoever asks, nothing is signed or written.
pub async fn published_crl(
    store: &Store,
    kind: CaKind,
) -> Result<Option<Vec<u8>>, CardServiceError> {
    Ok(store.crl_document(kind.code(), CrlDocument::Base).await?)
}

/// The current CRL of `kind` for the back office (`maina pki crl`, the trust
/// store): signed afresh first if the stored one is stale.
pub async fn current_crl(
    store: &Store,
    authorities: &Authorities,
    kind: CaKind,
) -> Result<Vec<u8>, CardServiceError> {
    refresh_crl(store, authorities, kind, Utc::now()).await?;
    published_crl(store, kind)
        .await?
        .ok_or_else(|| CardServiceError::Invalid(format!("no {} CRL was stored", kind.code())))
}
