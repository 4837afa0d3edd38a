//! The delegated OCSP responder (RFC 6960 4.2.2.2): a key of its own, certified by
//! the issuing CA for OCSP signing only, so that answering OCSP never needs a CA key.

use crate::ca::{extension, maina_name, Authority, CaKind, Serial};
use crate::files;
use crate::key::KeyPair;
use crate::{x509_time, PkiError, Result};
use chrono::{DateTime, Utc};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use spki::SubjectPublicKeyInfoOwned;
use std::path::Path;
use x509_cert::ext::pkix::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::time::Validity;
use x509_cert::Certificate;

/// id-kp-OCSPSigning (RFC 5280 4.2.1.12).
pub const ID_KP_OCSP_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.9");
/// id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2.1): relying parties need not check the
/// responder's own certificate for revocation (it is short-lived instead).
pub const ID_PKIX_OCSP_NOCHECK: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.5");

/// The responder of one issuing CA: its key and certificate.
pub struct Responder {
    kind: CaKind,
    key: KeyPair,
    certificate: Certificate,
    certificate_der: Vec<u8>,
}

impl std::fmt::Debug for Responder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Responder({})", self.kind.code())
    }
}

impl Authority {
    /// A new OCSP responder for this CA: a fresh key, certified for `days` days
    /// from `now` with id-kp-OCSPSigning and id-pkix-ocsp-nocheck.
    pub fn issue_responder(&self, now: DateTime<Utc>, days: i64) -> Result<Responder> {
        let key = KeyPair::generate()?;
        let subject = maina_name(self.kind().responder_common_name())?;
        let spki = SubjectPublicKeyInfoOwned::from_der(&key.public_key_der()?)?;
        let not_after = now
            .checked_add_signed(chrono::Duration::days(days))
            .ok_or_else(|| PkiError::Invalid("responder validity out of range".into()))?;
        let extensions = vec![
            extension(
                &BasicConstraints {
                    ca: false,
                    path_len_constraint: None,
                },
                &subject,
            )?,
            extension(&KeyUsage(KeyUsages::DigitalSignature.into()), &subject)?,
            extension(&ExtendedKeyUsage(vec![ID_KP_OCSP_SIGNING]), &subject)?,
            Extension {
                extn_id: ID_PKIX_OCSP_NOCHECK,
                critical: false,
                extn_value: OctetString::new(der::asn1::Null.to_der()?)?,
            },
            extension(
                &SubjectKeyIdentifier(OctetString::new(crate::ca::key_identifier(&spki))?),
                &subject,
            )?,
        ];
        let der = self.signer().sign(
            &Serial::random()?,
            subject,
            spki,
            Validity {
                not_before: x509_time(now - chrono::Duration::minutes(5))?,
                not_after: x509_time(not_after)?,
            },
            extensions,
        )?;
        Responder::from_parts(self.kind(), key, der)
    }
}

impl Responder {
    fn from_parts(kind: CaKind, key: KeyPair, certificate_der: Vec<u8>) -> Result<Self> {
        let certificate = Certificate::from_der(&certificate_der)?;
        if certificate
            .tbs_certificate
            .subject_public_key_info
            .to_der()?
            != key.public_key_der()?
        {
            return Err(PkiError::Invalid(format!(
                "the {} OCSP responder certificate does not match its key file",
                kind.code()
            )));
        }
        Ok(Self {
            kind,
            key,
            certificate,
            certificate_der,
        })
    }

    /// Writes the key and certificate as `DIR/STEM.key.pem` and `DIR/STEM.pem`,
    /// replacing a responder there before (a renewal).
    pub fn save(&self, dir: &Path, stem: &str) -> Result<()> {
        let pem = openssl::x509::X509::from_der(&self.certificate_der)?.to_pem()?;
        files::replace_key_and_certificate(dir, stem, &self.key, &pem)
    }

    pub fn load(dir: &Path, stem: &str, kind: CaKind) -> Result<Self> {
        let (key, der) = files::load_key_and_certificate(dir, stem)?;
        Self::from_parts(kind, key, der)
    }

    pub fn kind(&self) -> CaKind {
        self.kind
    }

    pub fn name(&self) -> &Name {
        &self.certificate.tbs_certificate.subject
    }

    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate_der
    }

    /// When the responder's certificate ends (renew it before: `maina pki
    /// renew-responder`).
    pub fn not_after(&self) -> DateTime<Utc> {
        crate::from_x509_time(&self.certificate.tbs_certificate.validity.not_after)
    }

    pub(crate) fn key(&self) -> &KeyPair {
        &self.key
    }
}
