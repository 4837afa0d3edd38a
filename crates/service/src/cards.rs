//! The card and its certificates: issuing a card with its certificates (the same
//! code the CLI and, later, the pickup counter call), current CRLs, the OCSP
//! answers and the trust store a relying party checks against.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use maina_card::{Card, CardError, Certificates, Personalisation};
use maina_core::card::{certificate_expiry, signature_certificate_allowed, Pin};
use maina_core::officer::Actor;
use maina_core::person::Sex;
use maina_core::{MyNumber, ResidentCode};
use maina_pki::{
    Authorities, CaKind, CertState, CertificateRequest, HolderFacts, OcspQuery, PkiError,
    Revocation, RevocationReason, Serial, TrustStore,
};
use maina_store::{NewCertificate, Store, StoreError};
use rand::RngCore;

/// How long a CRL or an OCSP answer stays current.
const CRL_LIFETIME_HOURS: i64 = 24;
const OCSP_LIFETIME_HOURS: i64 = 1;

/// Errors of the card services.
#[derive(Debug, thiserror::Error)]
pub enum CardServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error(transparent)]
    Card(#[from] CardError),
    #[error("{0}")]
    Invalid(String),
}

/// Who the card is for.
#[derive(Debug, Clone)]
pub struct CardHolder {
    /// The registry's row key (`None` for a demonstration card).
    pub resident_key: Option<u64>,
    pub my_number: MyNumber,
    pub resident_code: ResidentCode,
    pub name: String,
    pub address: String,
    pub birth_date: NaiveDate,
    pub sex: Sex,
}

/// The four PINs set at the counter.
#[derive(Debug)]
pub struct CardPins {
    pub authentication: Pin,
    pub signature: Pin,
    pub residence: Pin,
    pub support: Pin,
}

/// A card made and recorded.
#[derive(Debug, Clone)]
pub struct IssuedCard {
    pub card_id: String,
    pub authentication_serial: Serial,
    /// `None` for a child under 15.
    pub signature_serial: Option<Serial>,
    pub certificates_expire: NaiveDate,
}

fn new_card_id() -> String {
    let mut bytes = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode_upper(bytes)
}

/// The end of a day, in UTC (certificates end with the day).
fn end_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN))
        .and_utc()
}

/// Makes a card for `holder`: keys generated inside it, certificates issued by both
/// authorities (no signature certificate for a child under 15), the PINs set, and the
/// card and certificates recorded in one transaction with an audit event.
pub async fn issue_card(
    store: &Store,
    authorities: &Authorities,
    holder: &CardHolder,
    pins: &CardPins,
    base_url: &str,
    actor: &Actor,
) -> Result<IssuedCard, CardServiceError> {
    let now = Utc::now();
    let today = now.date_naive();
    let expires = certificate_expiry(holder.birth_date, today).ok_or_else(|| {
        CardServiceError::Invalid("no certificate expiry for this birth date".into())
    })?;
    let with_signature = signature_certificate_allowed(holder.birth_date, today);
    let card_id = new_card_id();
    let my_number = holder.my_number.as_digits();
    let resident_code = holder.resident_code.as_digits();
    let birth_date = holder.birth_date.format("%Y%m%d").to_string();
    let sex = holder.sex.iso5218().to_string();
    let (mut card, public) = Card::manufacture(
        &card_id,
        &Personalisation {
            my_number: &my_number,
            name: &holder.name,
            address: &holder.address,
            birth_date: &birth_date,
            sex: &sex,
            resident_code: &resident_code,
            auth_pin: &pins.authentication,
            sign_pin: &pins.signature,
            residence_pin: &pins.residence,
            support_pin: &pins.support,
            with_signature,
        },
    )?;
    let base = base_url.trim_end_matches('/');
    let request = |kind: CaKind,
                   key: &[u8],
                   facts: Option<HolderFacts>|
     -> Result<CertificateRequest, PkiError> {
        Ok(CertificateRequest {
            serial: Serial::random()?,
            public_key_der: key.to_vec(),
            subject_cn: format!("JPKI {} {card_id}", kind.code()),
            not_before: now - Duration::minutes(5),
            not_after: end_of(expires),
            facts,
            ocsp_url: Some(format!("{base}/ocsp")),
            crl_url: Some(format!("{base}/pki/{}.crl", kind.code())),
        })
    };
    let auth = authorities.auth.issue(&request(
        CaKind::Authentication,
        &public.authentication,
        None,
    )?)?;
    let sign = match &public.signature {
        Some(key) => Some(authorities.sign.issue(&request(
            CaKind::Signature,
            key,
            Some(HolderFacts {
                name: holder.name.clone(),
                address: holder.address.clone(),
                birth_date: birth_date.clone(),
                sex: sex.clone(),
            }),
        )?)?),
        None => None,
    };
    card.install_certificates(Certificates {
        authentication: auth.der.clone(),
        authentication_ca: authorities.auth.certificate_der().to_vec(),
        signature: sign.as_ref().map(|s| s.der.clone()),
        signature_ca: authorities.sign.certificate_der().to_vec(),
    });
    let not_before = (now - Duration::minutes(5)).timestamp();
    let not_after = end_of(expires).timestamp();
    let mut records = vec![NewCertificate {
        serial: auth.serial.to_hex(),
        ca: CaKind::Authentication.code().into(),
        not_before,
        not_after,
        der: auth.der.clone(),
    }];
    if let Some(sign) = &sign {
        records.push(NewCertificate {
            serial: sign.serial.to_hex(),
            ca: CaKind::Signature.code().into(),
            not_before,
            not_after,
            der: sign.der.clone(),
        });
    }
    store
        .put_card(
            &card_id,
            holder.resident_key,
            &card.to_bytes()?,
            &records,
            actor,
        )
        .await?;
    Ok(IssuedCard {
        card_id,
        authentication_serial: auth.serial,
        signature_serial: sign.map(|s| s.serial),
        certificates_expire: expires,
    })
}

/// A current, signed CRL of one authority, from the store's revocations.
pub async fn current_crl(
    store: &Store,
    authorities: &Authorities,
    kind: CaKind,
) -> Result<Vec<u8>, CardServiceError> {
    let revoked = store.revoked_certificates(kind.code()).await?;
    let mut entries = Vec::with_capacity(revoked.len());
    for (serial, at, reason) in revoked {
        entries.push(Revocation {
            serial: Serial::from_hex(&serial)?,
            revoked_at: DateTime::from_timestamp_micros(at).unwrap_or(DateTime::<Utc>::MIN_UTC),
            reason: RevocationReason::from_code(&reason)
                .ok_or_else(|| CardServiceError::Invalid(format!("unknown reason {reason:?}")))?,
        });
    }
    let number = store.next_crl_number(kind.code()).await?;
    let now = Utc::now();
    Ok(authorities.get(kind).crl(
        &entries,
        number,
        now - Duration::minutes(1),
        now + Duration::hours(CRL_LIFETIME_HOURS),
    )?)
}

/// The trust anchors with both authorities' current CRLs loaded.
pub async fn trust_store(
    store: &Store,
    authorities: &Authorities,
) -> Result<TrustStore, CardServiceError> {
    let mut trust = TrustStore::new(
        authorities.auth.certificate_der(),
        authorities.sign.certificate_der(),
    )?;
    for kind in CaKind::ALL {
        let crl = current_crl(store, authorities, kind).await?;
        trust
            .load_crl(&crl, Utc::now())
            .map_err(|error| CardServiceError::Invalid(error.to_string()))?;
    }
    Ok(trust)
}

/// Answers one DER OCSP request.
pub async fn ocsp_answer(store: &Store, authorities: &Authorities, request: &[u8]) -> Vec<u8> {
    let Ok(query) = OcspQuery::parse(request, authorities) else {
        return maina_pki::ocsp_malformed_response();
    };
    let mut states = Vec::new();
    for subject in query.subjects() {
        let state = match subject {
            None => CertState::Unknown,
            Some((kind, serial)) => {
                match store
                    .certificate_status(kind.code(), &serial.to_hex())
                    .await
                {
                    Ok(Some(record)) => match (
                        record.revoked_at,
                        record
                            .reason
                            .as_deref()
                            .and_then(RevocationReason::from_code),
                    ) {
                        (Some(at), Some(reason)) => CertState::Revoked {
                            at: DateTime::from_timestamp_micros(at)
                                .unwrap_or(DateTime::<Utc>::MIN_UTC),
                            reason,
                        },
                        _ => CertState::Good,
                    },
                    Ok(None) => CertState::Unknown,
                    Err(error) => {
                        tracing::warn!(%error, "OCSP status look-up failed");
                        return x509_try_later();
                    }
                }
            }
        };
        states.push(state);
    }
    let now = Utc::now();
    query
        .respond(
            authorities,
            &states,
            now,
            now + Duration::hours(OCSP_LIFETIME_HOURS),
        )
        .unwrap_or_else(|error| {
            tracing::warn!(%error, "OCSP answer could not be signed");
            x509_try_later()
        })
}

fn x509_try_later() -> Vec<u8> {
    // OCSPResponse { responseStatus tryLater (3) }
    vec![0x30, 0x03, 0x0A, 0x01, 0x03]
}
