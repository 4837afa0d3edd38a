//! The card and its certificates: issuing a card with its certificates (the same
//! certify-and-install step the CLI's demonstration cards and the pickup counter
//! share); the CRLs (`crl.rs`), the OCSP
//! answers (`ocsp.rs`) and the trust store a relying party checks against.

mod crl;
pub mod face;
pub mod manufacture;
mod ocsp;

pub use crl::{
    base_crl_due, current_crl, published_crl, refresh_crls, BASE_CRL_SECONDS_PER_MB,
    CRL_LIFETIME_HOURS, CRL_REFRESH_MARGIN_HOURS,
};
pub use ocsp::{cert_state, ocsp_answer, OcspCache, OCSP_LIFETIME_HOURS};

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use maina_card::{Card, CardError, Certificates, InitialPins, Personalisation, PublicKeys};
use maina_core::card::{certificate_expiry, signature_certificate_allowed, Pin};
use maina_core::officer::Actor;
use maina_core::person::Sex;
use maina_core::{MyNumber, ResidentCode};
use maina_pki::{
    Authorities, CaKind, CertificateRequest, HolderFacts, PkiError, Serial, TrustStore,
};
use maina_store::{NewCertificate, Store, StoreError};
use rand::RngCore;

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

/// Japan Standard Time (UTC+9, no daylight saving).
pub(crate) fn japan() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).unwrap_or_else(|| chrono::Offset::fix(&Utc))
}

/// The last second of `day` in Japan (23:59:59 JST, 14:59:59 UTC): certificates end
/// with their last day as the holder lives it (REFERENCE: the 5th birthday after
/// issue), not at midnight UTC nine hours later.
pub fn certificate_not_after(day: NaiveDate) -> DateTime<Utc> {
    let last_second = day.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN));
    japan()
        .from_local_datetime(&last_second)
        .single()
        .map(|at| at.with_timezone(&Utc))
        .unwrap_or_else(|| last_second.and_utc())
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
    // The holder's birthdays fall on Japanese dates.
    let today = now.with_timezone(&japan()).date_naive();
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
            pins: Some(InitialPins {
                authentication: &pins.authentication,
                signature: &pins.signature,
                residence: &pins.residence,
                support: &pins.support,
            }),
            with_signature,
        },
    )?;
    card.install_issuer_key(&maina_card::issuer::CardKey::new(
        *store.card_issuer_key(&card_id),
    ))?;
    let certified = certify_and_install(
        authorities,
        &mut card,
        &public,
        &Certify {
            card_id: &card_id,
            holder: HolderFacts {
                name: holder.name.clone(),
                address: holder.address.clone(),
                birth_date: birth_date.clone(),
                sex: sex.clone(),
            },
            expires,
            authentication: true,
            signature: with_signature,
            base_url,
            now,
        },
    )?;
    let records = certified.records;
    let auth = certified
        .authentication_serial
        .ok_or_else(|| CardServiceError::Invalid("no authentication certificate".into()))?;
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
        authentication_serial: auth,
        signature_serial: certified.signature_serial,
        certificates_expire: expires,
    })
}

/// What the issuing CAs certify for one card.
pub struct Certify<'a> {
    pub card_id: &'a str,
    /// The four facts (the signature certificate carries them).
    pub holder: HolderFacts,
    /// The certificates' last day (JST).
    pub expires: NaiveDate,
    /// Whether to issue each certificate (the signature one only if the card has a
    /// signature key too).
    pub authentication: bool,
    pub signature: bool,
    pub base_url: &'a str,
    pub now: DateTime<Utc>,
}

/// The certificates issued for a card and written to its chip.
#[derive(Debug, Clone)]
pub struct Certified {
    /// To record with the card (sealed DER, serial, validity).
    pub records: Vec<NewCertificate>,
    pub authentication_serial: Option<Serial>,
    pub signature_serial: Option<Serial>,
}

/// Certificates issued for a card's keys, not yet written to its chip.
#[derive(Debug, Clone)]
pub struct IssuedCertificates {
    pub certified: Certified,
    pub authentication: Option<Vec<u8>>,
    pub signature: Option<Vec<u8>>,
    /// The issuing CAs' certificates, which the chip carries beside its own.
    pub authentication_ca: Vec<u8>,
    pub signature_ca: Vec<u8>,
}

/// Has the issuing CAs certify the public keys the chip generated (the
/// authentication certificate without personal data, the signature certificate with
/// the four facts), and writes the certificates to the chip. Nothing is recorded:
/// the caller stores the chip and `records` in its own transaction. Used by the
/// demonstration card path ([`issue_card`]) and by the counter at pickup.
pub fn certify_and_install(
    authorities: &Authorities,
    card: &mut Card,
    public: &PublicKeys,
    certify: &Certify<'_>,
) -> Result<Certified, CardServiceError> {
    let issued = certify_keys(authorities, public, certify)?;
    if let Some(authentication) = issued.authentication {
        card.install_certificates(Certificates {
            authentication,
            // The card carries the certificate of the CA that issued its
            // certificates (the issuing CA); relying parties hold the root.
            authentication_ca: issued.authentication_ca,
            signature: issued.signature,
            signature_ca: issued.signature_ca,
        });
    }
    Ok(issued.certified)
}

/// The certification step of [`certify_and_install`], for a chip the caller
/// writes itself (the counter's renewal on the same chip, through APDUs). With
/// `certify.authentication` false, `public.authentication` is not read.
pub fn certify_keys(
    authorities: &Authorities,
    public: &PublicKeys,
    certify: &Certify<'_>,
) -> Result<IssuedCertificates, CardServiceError> {
    let base = certify.base_url.trim_end_matches('/');
    let not_before = certify.now - Duration::minutes(5);
    let not_after = certificate_not_after(certify.expires);
    let request = |kind: CaKind,
                   key: &[u8],
                   facts: Option<HolderFacts>|
     -> Result<CertificateRequest, PkiError> {
        Ok(CertificateRequest {
            serial: Serial::random()?,
            public_key_der: key.to_vec(),
            subject_cn: format!("JPKI {} {}", kind.code(), certify.card_id),
            not_before,
            not_after,
            facts,
            ocsp_url: Some(format!("{base}/ocsp")),
            crl_url: Some(format!("{base}/pki/{}.crl", kind.code())),
        })
    };
    let auth = if certify.authentication {
        Some(authorities.auth.issuing().issue(&request(
            CaKind::Authentication,
            &public.authentication,
            None,
        )?)?)
    } else {
        None
    };
    let sign = match (&public.signature, certify.signature) {
        (Some(key), true) => Some(authorities.sign.issuing().issue(&request(
            CaKind::Signature,
            key,
            Some(certify.holder.clone()),
        )?)?),
        _ => None,
    };
    let mut records = Vec::new();
    let mut record = |kind: CaKind, serial: &Serial, der: &[u8]| {
        records.push(NewCertificate {
            serial: serial.to_hex(),
            ca: kind.code().into(),
            not_before: not_before.timestamp(),
            not_after: not_after.timestamp(),
            der: der.to_vec(),
        });
    };
    if let Some(auth) = &auth {
        record(CaKind::Authentication, &auth.serial, &auth.der);
    }
    if let Some(sign) = &sign {
        record(CaKind::Signature, &sign.serial, &sign.der);
    }
    Ok(IssuedCertificates {
        authentication: auth.as_ref().map(|a| a.der.clone()),
        signature: sign.as_ref().map(|s| s.der.clone()),
        authentication_ca: authorities.auth.issuing().certificate_der().to_vec(),
        signature_ca: authorities.sign.issuing().certificate_der().to_vec(),
        certified: Certified {
            records,
            authentication_serial: auth.map(|a| a.serial),
            signature_serial: sign.map(|s| s.serial),
        },
    })
}

/// The trust anchors (both roots) and the issuing CAs below them, with both issuing
/// CAs' current CRLs and their delta CRLs loaded.
pub async fn trust_store(
    store: &Store,
    authorities: &Authorities,
) -> Result<TrustStore, CardServiceError> {
    let invalid = |error: maina_pki::VerifyError| CardServiceError::Invalid(error.to_string());
    let mut trust = TrustStore::new(
        authorities.auth.root_certificate_der(),
        authorities.sign.root_certificate_der(),
    )?;
    let now = Utc::now();
    for kind in CaKind::ALL {
        trust
            .add_issuing_ca(authorities.get(kind).issuing().certificate_der(), now)
            .map_err(invalid)?;
    }
    for kind in CaKind::ALL {
        let crl = current_crl(store, authorities, kind).await?;
        trust.load_crl(&crl, now).map_err(invalid)?;
        // A large base is re-signed every few minutes; the delta, signed afresh
        // here when stale, has the revocations since.
        crate::card_life::suspension_crl::refresh_delta_crl(store, authorities, kind, now).await?;
        if let Some(delta) = store
            .crl_document(kind.code(), maina_store::CrlDocument::Delta)
            .await?
        {
            match trust.load_delta_crl(&delta, now) {
                Ok(_) => {}
                // A base signed meanwhile by another process: load it, then the delta.
                Err(maina_pki::VerifyError::DeltaBaseMissing { .. }) => {
                    let crl = published_crl(store, kind).await?.unwrap_or_default();
                    trust.load_crl(&crl, now).map_err(invalid)?;
                    trust.load_delta_crl(&delta, now).map_err(invalid)?;
                }
                Err(error) => return Err(invalid(error)),
            }
        }
    }
    Ok(trust)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn certificates_end_at_the_last_second_of_the_day_in_japan() {
        let day = NaiveDate::from_ymd_opt(2031, 4, 1).unwrap();
        assert_eq!(
            certificate_not_after(day).to_rfc3339(),
            "2031-04-01T14:59:59+00:00"
        );
    }
}
