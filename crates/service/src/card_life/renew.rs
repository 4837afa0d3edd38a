//! Certificates renewed on the same chip (REFERENCE section 7: the certificates end
//! before the card; also the new signature certificate offered after a name or
//! address change revoked the old one): new key pairs generated on the chip by the
//! issuer's GENERATE KEY PAIR (the public keys receipted by the chip, so the counter
//! PC cannot slip in a key of its own), certified by the issuing CAs with the
//! registry's facts (the one certify step, `cards::certify_keys`), recorded with the
//! old certificates revoked (`renewed`) in one transaction, then written to the chip.

use super::chip::ChipSession;
use crate::cards::{certificate_not_after, certify_keys, japan, Certify};
use crate::{ErrorKind, Result, Service, ServiceError};
use chrono::{NaiveDate, Utc};
use maina_card::issuer::Area;
use maina_card::personalise::ApduTransport;
use maina_card::{jpki_ef, PublicKeys};
use maina_core::card::{certificate_expiry, signature_certificate_allowed};
use maina_core::officer::Actor;
use maina_pki::HolderFacts;
use maina_proto::CertificatesRenewedResponse;

impl Service {
    /// Renews the card's certificates on the same chip: both (the signature one
    /// only from 15), or with `signature_only` the signature certificate alone.
    /// The certificates end at the 5th birthday after today, capped at the card's
    /// expiry.
    pub async fn renew_certificates<T: ApduTransport>(
        &self,
        actor: &Actor,
        card_id: &str,
        signature_only: bool,
        base_url: &str,
        link: &mut T,
    ) -> Result<CertificatesRenewedResponse> {
        let (found, key) = self.card_at_service(actor, card_id).await?;
        let authorities = self
            .authorities
            .as_ref()
            .ok_or_else(ServiceError::unavailable)?;
        let now = Utc::now();
        // Certificates are for residents: a holder who left Japan (the card kept,
        // 国外転出, its certificates revoked) or died gets none at a counter.
        if found.resident.status != maina_core::resident::ResidentStatus::Active {
            return Err(ServiceError::new(
                ErrorKind::Conflict,
                "not_resident",
                format!(
                    "the card's holder is {}: no certificates are issued",
                    found.resident.status.as_str()
                ),
            ));
        }
        let today = now.with_timezone(&japan()).date_naive();
        let person = &found.resident.record.person;
        let mut expires = certificate_expiry(person.birth_date, today)
            .ok_or_else(|| ServiceError::internal(&"no certificate expiry for this birth date"))?;
        if let Some(card_expiry) = found
            .card
            .expires_on
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        {
            expires = expires.min(card_expiry);
        }
        if certificate_not_after(expires) <= now {
            return Err(ServiceError::new(
                ErrorKind::Conflict,
                "card_ended",
                "the card itself has ended: it is renewed, not its certificates",
            ));
        }
        let with_signature = signature_certificate_allowed(person.birth_date, today);
        if signature_only && !with_signature {
            return Err(ServiceError::new(
                ErrorKind::Conflict,
                "under_15",
                "no signature certificate is issued to a holder under 15",
            ));
        }
        let mut chip = ChipSession::new(link, key);
        chip.select(&maina_card::AID_JPKI, jpki_ef::TOKEN)?;
        let authentication = if signature_only {
            None
        } else {
            Some(chip.run(|key, challenge| key.generate_key(challenge, jpki_ef::AUTH_KEY))?)
        };
        let signature = if with_signature {
            Some(chip.run(|key, challenge| key.generate_key(challenge, jpki_ef::SIGN_KEY))?)
        } else {
            None
        };
        let issued = certify_keys(
            authorities,
            &PublicKeys {
                // Not read when only the signature certificate is issued.
                authentication: authentication.clone().unwrap_or_default(),
                signature,
            },
            &Certify {
                card_id: &found.card.id,
                holder: HolderFacts {
                    name: person.name.to_string(),
                    address: found.resident.record.address.as_str().to_owned(),
                    birth_date: person.birth_date.format("%Y%m%d").to_string(),
                    sex: person.sex.iso5218().to_string(),
                },
                expires,
                authentication: authentication.is_some(),
                signature: with_signature,
                base_url,
                now,
            },
        )
        .map_err(|e| ServiceError::internal(&e))?;
        // Recorded before the chip is written: a certificate the CA signed is
        // always in the store (revocable), even if the reader fails now; a second
        // run writes a chip left half-done.
        let revoked = self
            .store
            .renew_certificates(&found.card.id, &issued.certified.records, actor)
            .await?;
        let mut files = Vec::new();
        if let Some(der) = &issued.authentication {
            files.push((jpki_ef::AUTH_CERT, der.clone()));
            files.push((jpki_ef::AUTH_CA_CERT, issued.authentication_ca.clone()));
        }
        if let Some(der) = &issued.signature {
            files.push((jpki_ef::SIGN_CERT, der.clone()));
            files.push((jpki_ef::SIGN_CA_CERT, issued.signature_ca.clone()));
        }
        for (fid, der) in files {
            chip.run(|key, challenge| key.update_file(challenge, Area::Jpki, fid, &der))?;
        }
        Ok(CertificatesRenewedResponse {
            card_id: found.card.id,
            authentication_serial: issued.certified.authentication_serial.map(|s| s.to_hex()),
            signature_serial: issued.certified.signature_serial.map(|s| s.to_hex()),
            revoked,
            expires_on: expires.to_string(),
        })
    }
}
