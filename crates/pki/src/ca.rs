//! The two certificate authorities, issuance and revocation lists.

use crate::facts::HolderFacts;
use crate::files;
use crate::key::{sha256, KeyPair, PublicKey};
use crate::{x509_time, PkiError, Result};
use chrono::{DateTime, Utc};
use der::asn1::{BitString, Ia5String, ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use serde::{Deserialize, Serialize};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use std::path::Path;
use std::str::FromStr;
use x509_cert::certificate::{Certificate, TbsCertificate, Version};
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AccessDescription, AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints,
    CrlDistributionPoints, CrlNumber, CrlReason, KeyUsage, KeyUsages, SubjectAltName,
    SubjectKeyIdentifier,
};
use x509_cert::ext::{AsExtension, Extension};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Validity;

/// sha256WithRSAEncryption (RFC 4055).
pub(crate) const SHA256_WITH_RSA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const ID_AD_OCSP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");

pub(crate) fn sha256_with_rsa() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: SHA256_WITH_RSA,
        // RFC 4055: the parameters of sha256WithRSAEncryption are NULL.
        parameters: Some(der::asn1::Any::null()),
    }
}

/// Which authority: user authentication or signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CaKind {
    Authentication,
    Signature,
}

impl CaKind {
    pub const ALL: [CaKind; 2] = [CaKind::Authentication, CaKind::Signature];

    /// The short name used in file names, URLs and the database: `auth` or `sign`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Authentication => "auth",
            Self::Signature => "sign",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.code() == code)
    }

    /// The issuing CA's name (the card certificates' issuer).
    pub(crate) fn common_name(self) -> &'static str {
        match self {
            Self::Authentication => "maina User Authentication CA",
            Self::Signature => "maina Digital Signature CA",
        }
    }

    /// The root's name (the offline trust anchor).
    pub(crate) fn root_common_name(self) -> &'static str {
        match self {
            Self::Authentication => "maina User Authentication Root CA",
            Self::Signature => "maina Digital Signature Root CA",
        }
    }

    /// The delegated OCSP responder's name.
    pub(crate) fn responder_common_name(self) -> &'static str {
        match self {
            Self::Authentication => "maina User Authentication OCSP Responder",
            Self::Signature => "maina Digital Signature OCSP Responder",
        }
    }
}

/// A certificate serial number: 16 random bytes, positive, never zero.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Serial(Vec<u8>);

impl Serial {
    pub fn random() -> Result<Self> {
        let mut bytes = vec![0u8; 16];
        openssl::rand::rand_bytes(&mut bytes)?;
        if let Some(first) = bytes.first_mut() {
            // Positive (top bit clear) and a full 16 bytes (never a leading zero).
            *first = (*first & 0x7f) | 0x40;
        }
        Ok(Self(bytes))
    }

    /// From the big-endian bytes of a serial as certificates carry it.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.is_empty() || bytes.len() > 20 {
            return Err(PkiError::Invalid(
                "a serial number has 1 to 20 bytes".into(),
            ));
        }
        Ok(Self(bytes.to_vec()))
    }

    pub fn from_hex(text: &str) -> Result<Self> {
        let bytes = hex::decode(text.trim())
            .map_err(|_| PkiError::Invalid(format!("{text:?} is not a hexadecimal serial")))?;
        Self::from_bytes(&bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        hex::encode_upper(&self.0)
    }

    pub(crate) fn to_x509(&self) -> Result<SerialNumber> {
        Ok(SerialNumber::new(&self.0)?)
    }
}

impl std::fmt::Debug for Serial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Serial({})", self.to_hex())
    }
}

impl std::fmt::Display for Serial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

pub use maina_core::card::RevocationReason;

/// The RFC 5280 reason code of a revocation.
pub(crate) fn crl_reason(reason: RevocationReason) -> CrlReason {
    match reason {
        RevocationReason::LostCard => CrlReason::KeyCompromise,
        RevocationReason::CardEnded | RevocationReason::Death => CrlReason::CessationOfOperation,
        RevocationReason::HoldersRequest => CrlReason::Unspecified,
        RevocationReason::NumberChanged => CrlReason::Superseded,
        RevocationReason::FactsChanged => CrlReason::AffiliationChanged,
        RevocationReason::CertificateHold => CrlReason::CertificateHold,
        RevocationReason::Departed => CrlReason::CessationOfOperation,
        RevocationReason::Renewed => CrlReason::Superseded,
    }
}

/// One revoked certificate, as a CRL lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    pub serial: Serial,
    pub revoked_at: DateTime<Utc>,
    pub reason: RevocationReason,
}

/// What to certify: a card's public key, its validity and, for signature certificates,
/// the holder's four facts.
#[derive(Debug, Clone)]
pub struct CertificateRequest {
    pub serial: Serial,
    pub public_key_der: Vec<u8>,
    pub subject_cn: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    /// Required for signature certificates, refused for authentication ones (the
    /// authentication certificate carries none of the four facts).
    pub facts: Option<HolderFacts>,
    /// Where relying parties find the OCSP responder and the CRL.
    pub ocsp_url: Option<String>,
    pub crl_url: Option<String>,
}

/// An issued certificate.
#[derive(Debug, Clone)]
pub struct Issued {
    pub serial: Serial,
    pub der: Vec<u8>,
}

/// One certificate authority: its key (from a key file outside the database) and its
/// self-signed certificate.
pub struct Authority {
    kind: CaKind,
    key: KeyPair,
    certificate: Certificate,
    certificate_der: Vec<u8>,
    key_id: Vec<u8>,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Authority({})", self.kind.code())
    }
}

/// `CN=common_name,O=maina,C=JP`.
pub(crate) fn maina_name(common_name: &str) -> Result<Name> {
    Ok(Name::from_str(&format!("CN={common_name},O=maina,C=JP"))?)
}

pub(crate) fn years_after(now: DateTime<Utc>, years: u32) -> Result<DateTime<Utc>> {
    now.checked_add_months(chrono::Months::new(12 * years))
        .ok_or_else(|| PkiError::Invalid("CA validity out of range".into()))
}

/// Who signs a certificate: the key, the name it goes by, and its key identifier
/// (`None` for a self-signed root).
pub(crate) struct CaSigner<'a> {
    pub key: &'a KeyPair,
    pub name: &'a Name,
    pub key_id: Option<&'a [u8]>,
}

impl CaSigner<'_> {
    /// Signs a certificate for `spki` named `subject` with these extensions (the
    /// authority key identifier is added here).
    pub(crate) fn sign(
        &self,
        serial: &Serial,
        subject: Name,
        spki: SubjectPublicKeyInfoOwned,
        validity: Validity,
        mut extensions: Vec<Extension>,
    ) -> Result<Vec<u8>> {
        if let Some(key_id) = self.key_id {
            extensions.push(extension(
                &AuthorityKeyIdentifier {
                    key_identifier: Some(OctetString::new(key_id.to_vec())?),
                    authority_cert_issuer: None,
                    authority_cert_serial_number: None,
                },
                &subject,
            )?);
        }
        let tbs = TbsCertificate {
            version: Version::V3,
            serial_number: serial.to_x509()?,
            signature: sha256_with_rsa(),
            issuer: self.name.clone(),
            validity,
            subject,
            subject_public_key_info: spki,
            issuer_unique_id: None,
            subject_unique_id: None,
            extensions: Some(extensions),
        };
        let signature = sign_tbs(self.key, &tbs)?;
        Ok(Certificate {
            tbs_certificate: tbs,
            signature_algorithm: sha256_with_rsa(),
            signature,
        }
        .to_der()?)
    }
}

/// A CA certificate for `key` named `subject`, signed by `signer`.
fn ca_certificate(
    signer: &CaSigner<'_>,
    key: &KeyPair,
    subject: Name,
    validity: Validity,
    path_len: u8,
) -> Result<Vec<u8>> {
    let spki = SubjectPublicKeyInfoOwned::from_der(&key.public_key_der()?)?;
    let extensions = vec![
        extension(
            &BasicConstraints {
                ca: true,
                path_len_constraint: Some(path_len),
            },
            &subject,
        )?,
        extension(
            &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
            &subject,
        )?,
        extension(
            &SubjectKeyIdentifier(OctetString::new(key_identifier(&spki))?),
            &subject,
        )?,
    ];
    signer.sign(&Serial::random()?, subject, spki, validity, extensions)
}

pub(crate) fn extension<E: AsExtension>(value: &E, subject: &Name) -> Result<Extension> {
    Ok(value.to_extension(subject, &[])?)
}

/// The key identifier of a public key: SHA-256 of the key bits, truncated to 20 bytes
/// (RFC 7093 method 1).
pub(crate) fn key_identifier(spki: &SubjectPublicKeyInfoOwned) -> Vec<u8> {
    let digest = sha256(spki.subject_public_key.raw_bytes());
    digest.get(..20).map(<[u8]>::to_vec).unwrap_or_default()
}

fn sign_tbs(key: &KeyPair, tbs: &impl Encode) -> Result<BitString> {
    let signature = key.sign_sha256(&tbs.to_der()?)?;
    Ok(BitString::from_bytes(&signature)?)
}

impl Authority {
    /// A new root authority: a fresh key and a self-signed certificate valid for
    /// `years` years from `now`. A root signs only issuing CAs (and could issue
    /// cards directly, as the benchmarks' one-level CA does).
    pub fn create(kind: CaKind, now: DateTime<Utc>, years: u32) -> Result<Self> {
        let key = KeyPair::generate()?;
        let name = maina_name(kind.root_common_name())?;
        let der = ca_certificate(
            &CaSigner {
                key: &key,
                name: &name,
                key_id: None,
            },
            &key,
            name.clone(),
            Validity {
                not_before: x509_time(now)?,
                not_after: x509_time(years_after(now, years)?)?,
            },
            1,
        )?;
        Self::from_parts(kind, key, der)
    }

    /// An issuing CA below this root: `key` (the issuing CA's own, kept on the
    /// server) certified for `years` years from `now`, able to sign certificates
    /// that end entities (cards, the OCSP responder) hold, and CRLs.
    pub fn certify_issuing_ca(
        &self,
        key: &KeyPair,
        now: DateTime<Utc>,
        years: u32,
    ) -> Result<Authority> {
        let der = ca_certificate(
            &CaSigner {
                key: &self.key,
                name: self.name(),
                key_id: Some(&self.key_id),
            },
            key,
            maina_name(self.kind.common_name())?,
            Validity {
                not_before: x509_time(now)?,
                not_after: x509_time(years_after(now, years)?)?,
            },
            0,
        )?;
        Authority::from_parts(self.kind, key.clone(), der)
    }

    fn from_parts(kind: CaKind, key: KeyPair, certificate_der: Vec<u8>) -> Result<Self> {
        let certificate = Certificate::from_der(&certificate_der)?;
        let spki_der = certificate
            .tbs_certificate
            .subject_public_key_info
            .to_der()?;
        if spki_der != key.public_key_der()? {
            return Err(PkiError::Invalid(format!(
                "the {} CA certificate does not match its key file",
                kind.code()
            )));
        }
        let key_id = key_identifier(&certificate.tbs_certificate.subject_public_key_info);
        PublicKey::from_spki_der(&spki_der)?;
        Ok(Self {
            kind,
            key,
            certificate,
            certificate_der,
            key_id,
        })
    }

    /// Writes the key (readable by its owner only) and the certificate as
    /// `DIR/STEM.key.pem` and `DIR/STEM.pem`; never overwrites a key.
    pub fn save(&self, dir: &Path, stem: &str) -> Result<()> {
        files::save_key_and_certificate(dir, stem, &self.key, &self.certificate_pem()?)
    }

    /// Loads an authority written by [`Authority::save`].
    pub fn load(dir: &Path, stem: &str, kind: CaKind) -> Result<Self> {
        let (key, der) = files::load_key_and_certificate(dir, stem)?;
        Self::from_parts(kind, key, der)
    }

    pub fn kind(&self) -> CaKind {
        self.kind
    }

    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate_der
    }

    pub fn certificate_pem(&self) -> Result<Vec<u8>> {
        Ok(openssl::x509::X509::from_der(&self.certificate_der)?.to_pem()?)
    }

    pub fn name(&self) -> &Name {
        &self.certificate.tbs_certificate.subject
    }

    /// When this authority's certificate ends.
    pub fn not_after(&self) -> DateTime<Utc> {
        crate::from_x509_time(&self.certificate.tbs_certificate.validity.not_after)
    }

    pub(crate) fn key(&self) -> &KeyPair {
        &self.key
    }

    /// A PKCS#1 v1.5 SHA-256 signature over `data` with the authority's key: the
    /// card issuer's signature over the facts written to a chip (relying parties
    /// check it with the authority's certificate, which the chip carries).
    pub fn sign_sha256(&self, data: &[u8]) -> Result<Vec<u8>> {
        self.key.sign_sha256(data)
    }

    /// Issues a certificate for a card's key.
    pub fn issue(&self, request: &CertificateRequest) -> Result<Issued> {
        let facts = match (self.kind, &request.facts) {
            (CaKind::Signature, Some(facts)) => Some(facts),
            (CaKind::Signature, None) => {
                return Err(PkiError::Invalid(
                    "a signature certificate carries the holder's four facts".into(),
                ))
            }
            (CaKind::Authentication, Some(_)) => {
                return Err(PkiError::Invalid(
                    "an authentication certificate carries none of the four facts".into(),
                ))
            }
            (CaKind::Authentication, None) => None,
        };
        if request.not_after <= request.not_before {
            return Err(PkiError::Invalid("the validity period is empty".into()));
        }
        let spki = SubjectPublicKeyInfoOwned::from_der(&request.public_key_der)?;
        PublicKey::from_spki_der(&request.public_key_der)?;
        let subject = maina_name(&request.subject_cn)?;
        let usage = match self.kind {
            CaKind::Authentication => KeyUsage(KeyUsages::DigitalSignature.into()),
            CaKind::Signature => KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
        };
        let mut extensions = vec![
            extension(
                &BasicConstraints {
                    ca: false,
                    path_len_constraint: None,
                },
                &subject,
            )?,
            extension(&usage, &subject)?,
            extension(
                &SubjectKeyIdentifier(OctetString::new(key_identifier(&spki))?),
                &subject,
            )?,
        ];
        if let Some(facts) = facts {
            extensions.push(extension(
                &SubjectAltName(facts.general_names()?),
                &subject,
            )?);
        }
        if let Some(url) = &request.ocsp_url {
            extensions.push(extension(
                &AuthorityInfoAccessSyntax(vec![AccessDescription {
                    access_method: ID_AD_OCSP,
                    access_location: GeneralName::UniformResourceIdentifier(Ia5String::new(url)?),
                }]),
                &subject,
            )?);
        }
        if let Some(url) = &request.crl_url {
            extensions.push(extension(
                &CrlDistributionPoints(vec![DistributionPoint {
                    distribution_point: Some(DistributionPointName::FullName(vec![
                        GeneralName::UniformResourceIdentifier(Ia5String::new(url)?),
                    ])),
                    reasons: None,
                    crl_issuer: None,
                }]),
                &subject,
            )?);
            if let Some(delta) = crate::delta::delta_crl_url(url) {
                extensions.push(crate::delta::freshest_crl(&delta, &subject)?);
            }
        }
        let der = self.signer().sign(
            &request.serial,
            subject,
            spki,
            Validity {
                not_before: x509_time(request.not_before)?,
                not_after: x509_time(request.not_after)?,
            },
            extensions,
        )?;
        Ok(Issued {
            serial: request.serial.clone(),
            der,
        })
    }

    /// This authority as the signer of the certificates it issues.
    pub(crate) fn signer(&self) -> CaSigner<'_> {
        CaSigner {
            key: &self.key,
            name: self.name(),
            key_id: Some(&self.key_id),
        }
    }

    /// A signed CRL (v2) listing `revoked`, with its number and reason codes.
    pub fn crl(
        &self,
        revoked: &[Revocation],
        number: u64,
        this_update: DateTime<Utc>,
        next_update: DateTime<Utc>,
    ) -> Result<Vec<u8>> {
        let name = self.name();
        let mut entries = Vec::with_capacity(revoked.len());
        for revocation in revoked {
            entries.push(RevokedCert {
                serial_number: revocation.serial.to_x509()?,
                revocation_date: x509_time(revocation.revoked_at)?,
                crl_entry_extensions: Some(vec![extension(&crl_reason(revocation.reason), name)?]),
            });
        }
        self.signed_crl(entries, number, this_update, next_update, Vec::new())
    }

    /// Signs a CRL of these entries with its number and any further extensions (a
    /// delta CRL's indicator).
    pub(crate) fn signed_crl(
        &self,
        entries: Vec<RevokedCert>,
        number: u64,
        this_update: DateTime<Utc>,
        next_update: DateTime<Utc>,
        further: Vec<Extension>,
    ) -> Result<Vec<u8>> {
        let name = self.name();
        let tbs = TbsCertList {
            version: Version::V2,
            signature: sha256_with_rsa(),
            issuer: name.clone(),
            this_update: x509_time(this_update)?,
            next_update: Some(x509_time(next_update)?),
            revoked_certificates: (!entries.is_empty()).then_some(entries),
            crl_extensions: Some(
                vec![
                    extension(
                        &AuthorityKeyIdentifier {
                            key_identifier: Some(OctetString::new(self.key_id.clone())?),
                            authority_cert_issuer: None,
                            authority_cert_serial_number: None,
                        },
                        name,
                    )?,
                    extension(
                        &CrlNumber(der::asn1::Uint::new(&number.to_be_bytes())?),
                        name,
                    )?,
                ]
                .into_iter()
                .chain(further)
                .collect(),
            ),
        };
        let signature = sign_tbs(&self.key, &tbs)?;
        Ok(CertificateList {
            tbs_cert_list: tbs,
            signature_algorithm: sha256_with_rsa(),
            signature,
        }
        .to_der()?)
    }
}
