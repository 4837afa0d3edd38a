//! The OCSP answers: signed by the issuing CA's delegated responder (never a CA key)
//! and cached per certificate until that certificate's status changes, so a repeated
//! question costs one read of the store and no signature — also while a thousand
//! other cards are suspended every second (an answer cached until the authority's
//! next revocation, as before, was signed afresh for every question then). A question about a
//! certificate we did not issue is answered `unauthorized`, unsigned.

use chrono::{DateTime, Duration, Utc};
use maina_pki::{Authorities, CaKind, CertState, OcspQuery, RevocationReason};
use maina_store::{CertificateRecord, Store};
use std::collections::HashMap;
use std::sync::Mutex;

/// How long an OCSP answer stays current (its nextUpdate after its thisUpdate).
pub const OCSP_LIFETIME_HOURS: i64 = 1;
/// A cached answer is signed afresh once it is older than this, well before its
/// nextUpdate.
const OCSP_REFRESH_MINUTES: i64 = 30;
/// How many answers to keep before starting afresh (one per certificate asked about,
/// and only about certificates we issued).
const CACHE_LIMIT: usize = 200_000;

struct CachedAnswer {
    /// The certificate's status the answer says (read from the store each time).
    state: CertState,
    refresh_after: DateTime<Utc>,
    der: Vec<u8>,
}

/// Signed OCSP answers by the CertID asked about.
#[derive(Default)]
pub struct OcspCache {
    answers: Mutex<HashMap<Vec<u8>, CachedAnswer>>,
}

impl OcspCache {
    fn get(&self, key: &[u8], state: &CertState, now: DateTime<Utc>) -> Option<Vec<u8>> {
        let answers = self.answers.lock().ok()?;
        answers
            .get(key)
            .filter(|answer| answer.state == *state && now < answer.refresh_after)
            .map(|answer| answer.der.clone())
    }

    fn put(&self, key: Vec<u8>, answer: CachedAnswer) {
        if let Ok(mut answers) = self.answers.lock() {
            if answers.len() >= CACHE_LIMIT {
                answers.clear();
            }
            answers.insert(key, answer);
        }
    }

    /// How many answers are cached.
    pub fn len(&self) -> usize {
        self.answers.lock().map(|a| a.len()).unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A certificate's OCSP status from its record. A revocation time with a missing or
/// unknown reason is *revoked* (reason unspecified): the answer fails closed.
pub fn cert_state(record: Option<&CertificateRecord>) -> CertState {
    match record {
        None => CertState::Unknown,
        Some(record) => match record.revoked_at {
            None => CertState::Good,
            Some(at) => CertState::Revoked {
                at: DateTime::from_timestamp_micros(at).unwrap_or(DateTime::<Utc>::MIN_UTC),
                reason: record
                    .reason
                    .as_deref()
                    .and_then(RevocationReason::from_code),
            },
        },
    }
}

fn try_later() -> Vec<u8> {
    // OCSPResponse { responseStatus tryLater (3) }
    vec![0x30, 0x03, 0x0A, 0x01, 0x03]
}

/// Answers one DER OCSP request.
pub async fn ocsp_answer(
    store: &Store,
    authorities: &Authorities,
    cache: &OcspCache,
    request: &[u8],
) -> Vec<u8> {
    let Ok(query) = OcspQuery::parse(request, authorities) else {
        return maina_pki::ocsp_malformed_response();
    };
    let Some((kind, serial)) = query.subject() else {
        return maina_pki::ocsp_unauthorized_response();
    };
    let Ok(key) = query.cache_key() else {
        return maina_pki::ocsp_malformed_response();
    };
    match answer(
        store,
        authorities,
        cache,
        &query,
        *kind,
        &serial.to_hex(),
        key,
    )
    .await
    {
        Ok(der) => der,
        Err(error) => {
            tracing::warn!(%error, "OCSP answer failed");
            try_later()
        }
    }
}

async fn answer(
    store: &Store,
    authorities: &Authorities,
    cache: &OcspCache,
    query: &OcspQuery,
    kind: CaKind,
    serial: &str,
    key: Vec<u8>,
) -> Result<Vec<u8>, super::CardServiceError> {
    let now = Utc::now();
    // The status is read every time (whichever process revoked it); a cached
    // answer is served only if it says exactly that status.
    let record = store.certificate_status(kind.code(), serial).await?;
    let state = cert_state(record.as_ref());
    if state == CertState::Unknown {
        // Not one of ours: nothing to sign, nothing to remember.
        return Ok(maina_pki::ocsp_unauthorized_response());
    }
    if let Some(der) = cache.get(&key, &state, now) {
        return Ok(der);
    }
    let der = query.respond(
        authorities.get(kind),
        &state,
        now,
        now + Duration::hours(OCSP_LIFETIME_HOURS),
    )?;
    cache.put(
        key,
        CachedAnswer {
            state,
            refresh_after: now + Duration::minutes(OCSP_REFRESH_MINUTES),
            der: der.clone(),
        },
    );
    Ok(der)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn record(revoked_at: Option<i64>, reason: Option<&str>) -> CertificateRecord {
        CertificateRecord {
            serial: "AA01".into(),
            ca: "auth".into(),
            card_id: "0123456789ABCDEF".into(),
            not_before: 0,
            not_after: 0,
            revoked_at,
            reason: reason.map(str::to_owned),
        }
    }

    #[test]
    fn a_revocation_without_a_known_reason_is_revoked() {
        for reason in [None, Some("no such reason")] {
            assert!(matches!(
                cert_state(Some(&record(Some(1_000_000), reason))),
                CertState::Revoked { reason: None, .. }
            ));
        }
        assert!(matches!(
            cert_state(Some(&record(Some(1_000_000), Some("lost-card")))),
            CertState::Revoked {
                reason: Some(RevocationReason::LostCard),
                ..
            }
        ));
        assert_eq!(cert_state(Some(&record(None, None))), CertState::Good);
        assert_eq!(cert_state(None), CertState::Unknown);
    }

    #[test]
    fn a_cached_answer_is_served_only_for_the_status_it_says() {
        let cache = OcspCache::default();
        let now = Utc::now();
        let held = cert_state(Some(&record(Some(1_000_000), Some("certificate-hold"))));
        cache.put(
            b"cert id".to_vec(),
            CachedAnswer {
                state: CertState::Good,
                refresh_after: now + Duration::minutes(OCSP_REFRESH_MINUTES),
                der: b"good answer".to_vec(),
            },
        );
        assert_eq!(
            cache.get(b"cert id", &CertState::Good, now).as_deref(),
            Some(&b"good answer"[..])
        );
        // Suspended since: the cached *good* is never served.
        assert_eq!(cache.get(b"cert id", &held, now), None);
        assert_eq!(cache.get(b"another cert id", &CertState::Good, now), None);
        // Nor once it is due for a fresh signature.
        let later = now + Duration::minutes(OCSP_REFRESH_MINUTES);
        assert_eq!(cache.get(b"cert id", &CertState::Good, later), None);
    }
}
