//! Delta CRLs (RFC 5280 5.2.4): a small CRL, signed within a second of a
//! revocation, that lists what changed since a base CRL (which may list a million
//! serials and is re-signed less often). A certificate names its delta in its
//! freshestCRL extension; a hold that was lifted appears as removeFromCRL. Also the
//! public key of a certificate whatever its status, for a lift's challenge (the
//! card's own authentication certificate is on hold then).

use crate::ca::{crl_reason, extension, Authority, Revocation, Serial};
use crate::key::PublicKey;
use crate::{x509_time, PkiError, Result};
use chrono::{DateTime, Utc};
use der::asn1::Ia5String;
use der::{Decode, Encode};
use x509_cert::certificate::Certificate;
use x509_cert::crl::RevokedCert;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{BaseCrlNumber, CrlReason, FreshestCrl};
use x509_cert::ext::Extension;
use x509_cert::name::Name;

/// A hold taken off a certificate since the base CRL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifted {
    pub serial: Serial,
    pub lifted_at: DateTime<Utc>,
}

/// Where the delta CRL of the CRL at `crl_url` is published: `….crl` → `…-delta.crl`.
pub fn delta_crl_url(crl_url: &str) -> Option<String> {
    crl_url
        .strip_suffix(".crl")
        .map(|base| format!("{base}-delta.crl"))
}

/// The freshestCRL extension naming the delta CRL.
pub(crate) fn freshest_crl(url: &str, subject: &Name) -> Result<Extension> {
    extension(
        &FreshestCrl(vec![DistributionPoint {
            distribution_point: Some(DistributionPointName::FullName(vec![
                GeneralName::UniformResourceIdentifier(Ia5String::new(url)?),
            ])),
            reasons: None,
            crl_issuer: None,
        }]),
        subject,
    )
}

/// The public key certified by a certificate (DER), not checking its chain,
/// validity or status.
pub fn certificate_public_key(certificate_der: &[u8]) -> Result<PublicKey> {
    let certificate = Certificate::from_der(certificate_der)?;
    let spki = certificate
        .tbs_certificate
        .subject_public_key_info
        .to_der()?;
    PublicKey::from_spki_der(&spki)
}

impl Authority {
    /// A signed delta CRL: the revocations and lifted holds since the base CRL
    /// `base_number` (its deltaCRLIndicator, critical), numbered `number` in the
    /// base's sequence.
    pub fn delta_crl(
        &self,
        revoked: &[Revocation],
        lifted: &[Lifted],
        number: u64,
        base_number: u64,
        this_update: DateTime<Utc>,
        next_update: DateTime<Utc>,
    ) -> Result<Vec<u8>> {
        if number <= base_number {
            return Err(PkiError::Invalid(format!(
                "a delta CRL's number ({number}) must follow its base's ({base_number})"
            )));
        }
        let name = self.name();
        let mut entries = Vec::with_capacity(revoked.len() + lifted.len());
        for revocation in revoked {
            entries.push(RevokedCert {
                serial_number: revocation.serial.to_x509()?,
                revocation_date: x509_time(revocation.revoked_at)?,
                crl_entry_extensions: Some(vec![extension(&crl_reason(revocation.reason), name)?]),
            });
        }
        for hold in lifted {
            entries.push(RevokedCert {
                serial_number: hold.serial.to_x509()?,
                revocation_date: x509_time(hold.lifted_at)?,
                crl_entry_extensions: Some(vec![extension(&CrlReason::RemoveFromCRL, name)?]),
            });
        }
        let indicator = extension(
            &BaseCrlNumber(der::asn1::Uint::new(&base_number.to_be_bytes())?),
            name,
        )?;
        self.signed_crl(entries, number, this_update, next_update, vec![indicator])
    }
}
