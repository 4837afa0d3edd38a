//! What a relying party checks: the certificate chains to one of the two roots
//! (through the issuing CA below it), is inside its validity period and is not on its
//! issuer's current CRL; then the signature (of a challenge, or of a document)
//! verifies under the certificate's key.

use crate::ca::{CaKind, Serial, SHA256_WITH_RSA};
use crate::facts::HolderFacts;
use crate::key::{sha256, PublicKey};
use crate::{from_x509_time, Result};
use chrono::{DateTime, Utc};
use der::asn1::BitString;
use der::{Decode, Encode, Reader, SliceReader};
use std::collections::{HashMap, HashSet};
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::{BasicConstraints, SubjectAltName};
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
    #[error("not a certificate authority's certificate")]
    NotCa,
    #[error("a CRL without a CRL number")]
    NoCrlNumber,
    #[error("an older CRL (number {offered}) than the one loaded (number {loaded}): refused as a replay")]
    OlderCrl { offered: u64, loaded: u64 },
    #[error("a CRL with the number of the one loaded ({0}) but another content: refused")]
    ConflictingCrl(u64),
}

/// A certificate that passed every check.
#[derive(Debug, Clone)]
pub struct ValidCertificate {
    /// The issuer's name (DER), whose CRL the certificate is checked against.
    issuer: Vec<u8>,
    pub kind: CaKind,
    pub serial: Serial,
    pub subject: String,
    pub not_after: DateTime<Utc>,
    /// The four facts (signature certificates only).
    pub facts: Option<HolderFacts>,
    pub public_key: PublicKey,
}

/// A certificate authority the store trusts: a root (an anchor), or an issuing CA
/// whose certificate verified under a root.
struct Anchor {
    kind: CaKind,
    name_der: Vec<u8>,
    public_key: PublicKey,
}

struct RevocationList {
    serials: HashSet<Vec<u8>>,
    next_update: DateTime<Utc>,
    number: u64,
    digest: [u8; 32],
}

/// The trust anchors (the two roots), the issuing CAs checked under them, and the
/// current CRLs, by issuer name.
pub struct TrustStore {
    anchors: Vec<Anchor>,
    issuing: Vec<Anchor>,
    lists: HashMap<Vec<u8>, RevocationList>,
}

/// The DER of the first element inside a SEQUENCE: the signed part (TBS) of a
/// certificate or CRL, exactly as it was signed.
fn signed_part(der: &[u8]) -> Option<&[u8]> {
    let mut reader = SliceReader::new(der).ok()?;
    let _outer = der::Header::decode(&mut reader).ok()?;
    reader.tlv_bytes().ok()
}

/// The CRL number (RFC 5280 5.2.3), at most 64 bits here.
fn crl_number(crl: &CertificateList) -> Result<u64, VerifyError> {
    let extensions = crl.tbs_cert_list.crl_extensions.as_deref().unwrap_or(&[]);
    let extension = extensions
        .iter()
        .find(|e| e.extn_id == ID_CE_CRL_NUMBER)
        .ok_or(VerifyError::NoCrlNumber)?;
    let number = der::asn1::Uint::from_der(extension.extn_value.as_bytes())
        .map_err(|_| VerifyError::Malformed)?;
    let bytes = number.as_bytes();
    if bytes.len() > 8 {
        return Err(VerifyError::Malformed);
    }
    Ok(bytes.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b)))
}

const ID_CE_CRL_NUMBER: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("2.5.29.20");

impl TrustStore {
    /// Trusts the two roots' certificates (DER). A root may issue end-entity
    /// certificates directly (a one-level CA); maina's roots sign issuing CAs,
    /// added with [`TrustStore::add_issuing_ca`].
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
            issuing: Vec::new(),
            lists: HashMap::new(),
        })
    }

    /// Checks an issuing CA's certificate (DER) under the roots — signed by one,
    /// marked a CA, valid at `now` — and trusts it to issue certificates and CRLs
    /// of the root's kind.
    pub fn add_issuing_ca(&mut self, der: &[u8], now: DateTime<Utc>) -> Result<(), VerifyError> {
        let certificate = Certificate::from_der(der).map_err(|_| VerifyError::Malformed)?;
        let tbs = signed_part(der).ok_or(VerifyError::Malformed)?;
        let inner = &certificate.tbs_certificate;
        let issuer = inner.issuer.to_der().map_err(|_| VerifyError::Malformed)?;
        let root = self
            .anchors
            .iter()
            .find(|anchor| anchor.name_der == issuer)
            .ok_or(VerifyError::UnknownIssuer)?;
        if certificate.signature_algorithm.oid != SHA256_WITH_RSA
            || !root
                .public_key
                .verify_sha256(tbs, certificate.signature.raw_bytes())
        {
            return Err(VerifyError::BadIssuerSignature);
        }
        let is_ca = inner
            .get::<BasicConstraints>()
            .ok()
            .flatten()
            .is_some_and(|(_, constraints)| constraints.ca);
        if !is_ca {
            return Err(VerifyError::NotCa);
        }
        within_validity(&inner.validity, now)?;
        let kind = root.kind;
        let name_der = inner.subject.to_der().map_err(|_| VerifyError::Malformed)?;
        let spki = inner
            .subject_public_key_info
            .to_der()
            .map_err(|_| VerifyError::Malformed)?;
        let public_key = PublicKey::from_spki_der(&spki).map_err(|_| VerifyError::Malformed)?;
        self.issuing.retain(|known| known.name_der != name_der);
        self.issuing.push(Anchor {
            kind,
            name_der,
            public_key,
        });
        Ok(())
    }

    /// The CA named `issuer_der`: an issuing CA, else a root.
    fn anchor(&self, issuer_der: &[u8]) -> Option<&Anchor> {
        self.issuing
            .iter()
            .chain(&self.anchors)
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
    /// the number of revoked serials. A CRL whose number is lower than the one loaded
    /// (a replayed CRL would hide a fresh revocation), or equal with another content,
    /// is refused.
    pub fn load_crl(&mut self, crl_der: &[u8], now: DateTime<Utc>) -> Result<usize, VerifyError> {
        let crl = CertificateList::from_der(crl_der).map_err(|_| VerifyError::Malformed)?;
        let tbs = signed_part(crl_der).ok_or(VerifyError::Malformed)?;
        let issuer = crl
            .tbs_cert_list
            .issuer
            .to_der()
            .map_err(|_| VerifyError::Malformed)?;
        self.signing_anchor(&issuer, tbs, &crl.signature_algorithm, &crl.signature)?;
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
        let number = crl_number(&crl)?;
        let digest = sha256(crl_der);
        if let Some(loaded) = self.lists.get(&issuer) {
            if number < loaded.number {
                return Err(VerifyError::OlderCrl {
                    offered: number,
                    loaded: loaded.number,
                });
            }
            if number == loaded.number && digest != loaded.digest {
                return Err(VerifyError::ConflictingCrl(number));
            }
        }
        let serials: HashSet<Vec<u8>> = crl
            .tbs_cert_list
            .revoked_certificates
            .unwrap_or_default()
            .into_iter()
            .map(|entry| entry.serial_number.as_bytes().to_vec())
            .collect();
        let count = serials.len();
        self.lists.insert(
            issuer,
            RevocationList {
                serials,
                next_update,
                number,
                digest,
            },
        );
        Ok(count)
    }

    fn not_revoked(
        &self,
        kind: CaKind,
        issuer: &[u8],
        serial: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), VerifyError> {
        let list = self
            .lists
            .get(issuer)
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
        let valid = self.check_chain(certificate_der, now)?;
        self.not_revoked(valid.kind, &valid.issuer, valid.serial.as_bytes(), now)?;
        Ok(valid)
    }

    /// Checks a certificate's issuer, the issuer's signature and the validity
    /// period, but not its revocation: for the issuer's own services, which read
    /// the revocation state from their store rather than from a CRL.
    pub fn check_chain(
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
        let not_after = within_validity(&inner.validity, now)?;
        let serial = inner.serial_number.as_bytes();
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
            issuer: issuer.clone(),
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
                    .not_revoked(valid.kind, &valid.issuer, valid.serial.as_bytes(), now)?;
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

/// Refuses a certificate outside its validity at `now`; returns its end.
fn within_validity(
    validity: &x509_cert::time::Validity,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, VerifyError> {
    let not_before = from_x509_time(&validity.not_before);
    let not_after = from_x509_time(&validity.not_after);
    if now < not_before || now > not_after {
        return Err(VerifyError::OutsideValidity {
            not_before,
            not_after,
        });
    }
    Ok(not_after)
}
