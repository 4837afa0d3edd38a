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

/// A stale base CRL waits this many seconds per megabyte after its thisUpdate
/// before it is signed again, so that signing it takes a small share of a core:
/// below 8 MB (the thisUpdate is a minute back) it follows every revocation at
/// once; a national one (a million serials, 43 MB, ~10 s to read and sign) is
/// signed at most every five minutes. The revocations in between are on the delta
/// CRL within a second (`card_life::suspension_crl`).
pub const BASE_CRL_SECONDS_PER_MB: i64 = 7;

/// Whether a stale base CRL of `bytes` whose thisUpdate is `this_update` may be
/// signed again at `now` (seconds).
pub fn base_crl_due(bytes: i64, this_update: i64, now: i64) -> bool {
    now >= this_update.saturating_add(bytes.saturating_mul(BASE_CRL_SECONDS_PER_MB) / 1_000_000)
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
    let listed = stored.built_revision >= stored.revision
        || !base_crl_due(stored.base_bytes, stored.this_update, now.timestamp());
    let fresh = stored.base_number > 0
        && listed
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_base_crl_waits_by_its_size_and_a_small_one_never() {
        let this_update = 1_000_000;
        // A national CRL (43 MB): not before five minutes after its thisUpdate.
        assert!(!base_crl_due(43_000_000, this_update, this_update + 300));
        assert!(base_crl_due(43_000_000, this_update, this_update + 301));
        // A small one (its thisUpdate a minute back when signed): due at once.
        assert!(base_crl_due(4_000_000, this_update, this_update + 60));
        assert!(base_crl_due(0, this_update, this_update));
    }
}
