//! What a relying party checks: the certificate chains to one of the two authorities,
//! is inside its validity period and is not on the authority's current CRL; then the
//! signature (of a challenge, or of a document) verifies under the certificate's key.

use crate::ca::{CaKind, Serial, SHA256_WITH_RSA};
use crate::facts::HolderFacts;
use crate::key::{sha256, PublicKey};
use crate::{from_x509_time, Result};
use chrono::{DateTime, Utc};
use der::asn1::BitString;
use der::{Decode, Encode, Reader, SliceReader};
use std::collections::{HashMap, HashSet};
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;

/// Why a check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("not a certificate (or a CRL) in DER")]
    Malformed,
    #[error("not issued by a maina certificate authority")]
    UnknownIssuer,
    #[error("the issuer's signature on it does not verify")]
    BadIssuerSignature,
    #[error("not valid at this time (valid {not_before} to {not_after})")]
    OutsideValidity {
        not_before: DateTime<Utc>,
        not_after: DateTime<Utc>,
    },
    #[error("revoked")]
    Revoked,
    #[error("no current revocation list of the {0} authority is loaded")]
    NoRevocationList(&'static str),
    #[error("a {found} certificate where a {wanted} certificate is needed")]
    WrongKind {
        found: &'static str,
        wanted: &'static str,
    },
    #[error("the signature does not verify under the certificate's key")]
    BadSignature,
}

/// A certificate that passed every check.
#[derive(Debug, Clone)]
pub struct ValidCertificate {
    pub kind: CaKind,
    pub serial: Serial,
    pub subject: String,
    pub not_after: DateTime<Utc>,
    /// The four facts (signature certificates only).
    pub facts: Option<HolderFacts>,
    pub public_key: PublicKey,
}

struct Anchor {
    kind: CaKind,
    name_der: Vec<u8>,
    public_key: PublicKey,
}

struct RevocationList {
    serials: HashSet<Vec<u8>>,
    next_update: DateTime<Utc>,
}

/// The trust anchors (the two CA certificates) and their current CRLs.
pub struct TrustStore {
    anchors: Vec<Anchor>,
    lists: HashMap<CaKind, RevocationList>,
}

/// The DER of the first element inside a SEQUENCE: the signed part (TBS) of a
/// certificate or CRL, exactly as it was signed.
fn signed_part(der: &[u8]) -> Option<&[u8]> {
    let mut reader = SliceReader::new(der).ok()?;
    let _outer = der::Header::decode(&mut reader).ok()?;
    reader.tlv_bytes().ok()
}

impl TrustStore {
    /// Trusts the two authorities' certificates (DER).
    pub fn new(auth_ca_der: &[u8], sign_ca_der: &[u8]) -> Result<Self> {
        let mut anchors = Vec::with_capacity(2);
        for (kind, der) in [
            (CaKind::Authentication, auth_ca_der),
            (CaKind::Signature, sign_ca_der),
        ] {
            let certificate = Certificate::from_der(der)?;
            anchors.push(Anchor {
                kind,
                name_der: certificate.tbs_certificate.subject.to_der()?,
                public_key: PublicKey::from_spki_der(
                    &certificate
                        .tbs_certificate
                        .subject_public_key_info
                        .to_der()?,
                )?,
            });
        }
        Ok(Self {
            anchors,
            lists: HashMap::new(),
        })
    }

    fn anchor(&self, issuer_der: &[u8]) -> Option<&Anchor> {
        self.anchors
            .iter()
            .find(|anchor| anchor.name_der == issuer_der)
    }

    /// The authority named `issuer` (DER), once its `signature` (SHA-256 with RSA)
    /// over the signed part `tbs` verifies.
    fn signing_anchor(
        &self,
        issuer: &[u8],
        tbs: &[u8],
        algorithm: &AlgorithmIdentifierOwned,
        signature: &BitString,
    ) -> Result<&Anchor, VerifyError> {
        let anchor = self.anchor(issuer).ok_or(VerifyError::UnknownIssuer)?;
        if algorithm.oid != SHA256_WITH_RSA
            || !anchor.public_key.verify_sha256(tbs, signature.raw_bytes())
        {
            return Err(VerifyError::BadIssuerSignature);
        }
        Ok(anchor)
    }

    /// Checks and loads an authority's CRL (replacing the one loaded before); returns
    /// the number of revoked serials.
    pub fn load_crl(&mut self, crl_der: &[u8], now: DateTime<Utc>) -> Result<usize, VerifyError> {
        let crl = CertificateList::from_der(crl_der).map_err(|_| VerifyError::Malformed)?;
        let tbs = signed_part(crl_der).ok_or(VerifyError::Malformed)?;
        let issuer = crl
            .tbs_cert_list
            .issuer
            .to_der()
            .map_err(|_| VerifyError::Malformed)?;
        let anchor = self.signing_anchor(&issuer, tbs, &crl.signature_algorithm, &crl.signature)?;
        let this_update = from_x509_time(&crl.tbs_cert_list.this_update);
        let next_update = crl
            .tbs_cert_list
            .next_update
            .as_ref()
            .map(from_x509_time)
            .unwrap_or(this_update);
        if now < this_update || now > next_update {
            return Err(VerifyError::OutsideValidity {
                not_before: this_update,
                not_after: next_update,
            });
        }
        let serials: HashSet<Vec<u8>> = crl
            .tbs_cert_list
            .revoked_certificates
            .unwrap_or_default()
            .into_iter()
            .map(|entry| entry.serial_number.as_bytes().to_vec())
            .collect();
        let count = serials.len();
        let kind = anchor.kind;
        self.lists.insert(
            kind,
            RevocationList {
                serials,
                next_update,
            },
        );
        Ok(count)
    }

    fn not_revoked(
        &self,
        kind: CaKind,
        serial: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), VerifyError> {
        let list = self
            .lists
            .get(&kind)
            .filter(|list| now <= list.next_update)
            .ok_or(VerifyError::NoRevocationList(kind.code()))?;
        if list.serials.contains(serial) {
            return Err(VerifyError::Revoked);
        }
        Ok(())
    }

    /// Checks a certificate: issuer, issuer's signature, validity, revocation.
    pub fn check_certificate(
        &self,
        certificate_der: &[u8],
        now: DateTime<Utc>,
    ) -> Result<ValidCertificate, VerifyError> {
        let certificate =
            Certificate::from_der(certificate_der).map_err(|_| VerifyError::Malformed)?;
        let tbs = signed_part(certificate_der).ok_or(VerifyError::Malformed)?;
        let inner = &certificate.tbs_certificate;
        let issuer = inner.issuer.to_der().map_err(|_| VerifyError::Malformed)?;
        let anchor = self.signing_anchor(
            &issuer,
            tbs,
            &certificate.signature_algorithm,
            &certificate.signature,
        )?;
        let not_before = from_x509_time(&inner.validity.not_before);
        let not_after = from_x509_time(&inner.validity.not_after);
        if now < not_before || now > not_after {
            return Err(VerifyError::OutsideValidity {
                not_before,
                not_after,
            });
        }
        let serial = inner.serial_number.as_bytes();
        self.not_revoked(anchor.kind, serial, now)?;
        let spki = inner
            .subject_public_key_info
            .to_der()
            .map_err(|_| VerifyError::Malformed)?;
        let facts = inner
            .get::<SubjectAltName>()
            .ok()
            .flatten()
            .and_then(|(_, names)| HolderFacts::from_general_names(&names.0));
        Ok(ValidCertificate {
            kind: anchor.kind,
            serial: Serial::from_bytes(serial).map_err(|_| VerifyError::Malformed)?,
            subject: inner.subject.to_string(),
            not_after,
            facts,
            public_key: PublicKey::from_spki_der(&spki).map_err(|_| VerifyError::Malformed)?,
        })
    }

    /// Checks an authentication: `signature` is the card's signature (PKCS#1 v1.5,
    /// SHA-256) of `challenge` under a valid authentication certificate.
    pub fn verify_authentication(
        &self,
        certificate_der: &[u8],
        challenge: &[u8],
        signature: &[u8],
        now: DateTime<Utc>,
    ) -> Result<ValidCertificate, VerifyError> {
        let valid = self.check_certificate(certificate_der, now)?;
        finish(valid, CaKind::Authentication, challenge, signature)
    }

    /// Checks a document signature under a valid signature certificate.
    pub fn verify_document(
        &self,
        certificate_der: &[u8],
        document: &[u8],
        signature: &[u8],
        now: DateTime<Utc>,
    ) -> Result<ValidCertificate, VerifyError> {
        let valid = self.check_certificate(certificate_der, now)?;
        finish(valid, CaKind::Signature, document, signature)
    }
}

fn finish(
    valid: ValidCertificate,
    wanted: CaKind,
    data: &[u8],
    signature: &[u8],
) -> Result<ValidCertificate, VerifyError> {
    if valid.kind != wanted {
        return Err(VerifyError::WrongKind {
            found: valid.kind.code(),
            wanted: wanted.code(),
        });
    }
    if !valid.public_key.verify_sha256(data, signature) {
        return Err(VerifyError::BadSignature);
    }
    Ok(valid)
}

/// A verifier for a relying party that sees the same cards again and again (a log-in
/// service): a certificate whose chain was checked once is remembered by its SHA-256,
/// so a repeat costs one RSA verification plus the revocation look-up, which is still
/// made every time against the current CRL.
pub struct CachedVerifier {
    trust: TrustStore,
    checked: HashMap<[u8; 32], ValidCertificate>,
}

/// How many checked certificates to remember before starting afresh.
const CACHE_LIMIT: usize = 100_000;

impl CachedVerifier {
    pub fn new(trust: TrustStore) -> Self {
        Self {
            trust,
            checked: HashMap::new(),
        }
    }

    pub fn trust_mut(&mut self) -> &mut TrustStore {
        &mut self.trust
    }

    pub fn verify_authentication(
        &mut self,
        certificate_der: &[u8],
        challenge: &[u8],
        signature: &[u8],
        now: DateTime<Utc>,
    ) -> Result<ValidCertificate, VerifyError> {
        let fingerprint = sha256(certificate_der);
        let valid = match self.checked.get(&fingerprint) {
            Some(valid) if now <= valid.not_after => {
                self.trust
                    .not_revoked(valid.kind, valid.serial.as_bytes(), now)?;
                valid.clone()
            }
            _ => {
                let valid = self.trust.check_certificate(certificate_der, now)?;
                if self.checked.len() >= CACHE_LIMIT {
                    self.checked.clear();
                }
                self.checked.insert(fingerprint, valid.clone());
                valid
            }
        };
        finish(valid, CaKind::Authentication, challenge, signature)
    }
}
