//! CMS detached signatures (RFC 5652 SignedData) with the CAdES-BES signed
//! attributes (ETSI EN 319 122-1): content-type, message-digest, signing-time (left
//! out for PAdES, which puts the time in the signature dictionary) and
//! signing-certificate-v2 (RFC 5035 ESSCertIDv2), made by any [`DigestSigner`] — the
//! card's chip over PC/SC, or a software [`KeyPair`] — and parsed back strictly
//! (DER, one signer, SHA-256 with RSA, the attributes checked) for the verifier.
//!
//! The structures are RustCrypto's `cms` types; only the ESS attribute (which that
//! crate does not define) is declared here.

use crate::key::{digest_info_sha256, sha256, KeyPair, PublicKey};
use crate::{from_x509_time, x509_time, PkiError};
use chrono::{DateTime, Utc};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{Any, ObjectIdentifier, OctetString, SetOfVec};
use der::{Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;
use x509_cert::Certificate;

pub const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
pub const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const ID_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// The largest CMS signature accepted for parsing (a signature with its chain is
/// a few kilobytes).
pub const MAX_CMS_BYTES: usize = 256 * 1024;

/// Makes an RSA PKCS#1 v1.5 signature over a DigestInfo (what the card's SIGN
/// command does). Implemented by [`KeyPair`] and by any closure of that shape, so
/// the chip over PC/SC and a software key sign through the same code.
pub trait DigestSigner {
    fn sign_digest_info(&mut self, digest_info: &[u8]) -> Result<Vec<u8>, PkiError>;
}

impl DigestSigner for KeyPair {
    fn sign_digest_info(&mut self, digest_info: &[u8]) -> Result<Vec<u8>, PkiError> {
        KeyPair::sign_digest_info(self, digest_info)
    }
}

impl<F> DigestSigner for F
where
    F: FnMut(&[u8]) -> Result<Vec<u8>, PkiError>,
{
    fn sign_digest_info(&mut self, digest_info: &[u8]) -> Result<Vec<u8>, PkiError> {
        self(digest_info)
    }
}

/// Why a CMS signature is refused (each names what is wrong).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CmsError {
    #[error("not a CMS signature in DER: {0}")]
    Malformed(String),
    #[error("the CMS signature is larger than {MAX_CMS_BYTES} bytes")]
    TooLarge,
    #[error("the CMS content is not SignedData")]
    NotSignedData,
    #[error("the CMS signature encapsulates its content; a detached signature is needed")]
    NotDetached,
    #[error("the CMS signature has {0} signers; exactly one is needed")]
    SignerCount(usize),
    #[error("unsupported digest algorithm {0} (SHA-256 is needed)")]
    UnsupportedDigest(String),
    #[error("unsupported signature algorithm {0} (RSA with SHA-256 is needed)")]
    UnsupportedSignature(String),
    #[error("the signer is named by key identifier; issuer and serial are needed")]
    UnsupportedSignerId,
    #[error("the signed attribute {0} is missing or has not exactly one value")]
    MissingAttribute(&'static str),
    #[error("the signed attribute {0} is malformed")]
    BadAttribute(&'static str),
    #[error("the signed content type is not id-data")]
    WrongContentType,
    #[error("the signer's certificate is not in the signature")]
    SignerCertificateMissing,
    #[error("signing-certificate-v2 does not name the signer's certificate")]
    SigningCertificateMismatch,
    #[error("the content does not match the signature (message digest differs)")]
    DigestMismatch,
    #[error("the signature does not verify under the signer's certificate")]
    BadSignature,
}

fn malformed(error: impl std::fmt::Display) -> CmsError {
    CmsError::Malformed(error.to_string())
}

/// ESSCertIDv2 (RFC 5035): the certificate's SHA-256 (the default hash, so the
/// algorithm is left out) and its issuer and serial.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct EssCertIdV2 {
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<IssuerSerial>,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial_number: SerialNumber,
}

/// SigningCertificateV2 (RFC 5035); policies are not used.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
    #[asn1(optional = "true")]
    policies: Option<Any>,
}

fn sha256_algorithm() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: ID_SHA256,
        parameters: None,
    }
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, PkiError> {
    let mut values = SetOfVec::new();
    values.insert(value)?;
    Ok(Attribute { oid, values })
}

/// What to sign: the content's SHA-256, the signer's certificate and the CA
/// certificates to include (DER), and the signing time (`None` for PAdES).
pub struct SignRequest<'a> {
    pub content_digest: [u8; 32],
    pub signer_certificate: &'a [u8],
    pub chain: &'a [Vec<u8>],
    pub signing_time: Option<DateTime<Utc>>,
}

/// Makes a detached CMS signature (DER ContentInfo of SignedData).
pub fn sign_detached(
    request: &SignRequest<'_>,
    signer: &mut dyn DigestSigner,
) -> Result<Vec<u8>, PkiError> {
    let certificate = Certificate::from_der(request.signer_certificate)?;
    let tbs = &certificate.tbs_certificate;
    let ess = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            hash_algorithm: None,
            cert_hash: OctetString::new(sha256(request.signer_certificate).to_vec())?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(tbs.issuer.clone())],
                serial_number: tbs.serial_number.clone(),
            }),
        }],
        policies: None,
    };
    let mut attributes = SetOfVec::new();
    attributes.insert(attribute(ID_CONTENT_TYPE, Any::encode_from(&ID_DATA)?)?)?;
    attributes.insert(attribute(
        ID_MESSAGE_DIGEST,
        Any::encode_from(&OctetString::new(request.content_digest.to_vec())?)?,
    )?)?;
    if let Some(at) = request.signing_time {
        attributes.insert(attribute(
            ID_SIGNING_TIME,
            Any::encode_from(&x509_time(at)?)?,
        )?)?;
    }
    attributes.insert(attribute(
        ID_SIGNING_CERTIFICATE_V2,
        Any::encode_from(&ess)?,
    )?)?;
    // The signature covers the attributes' DER as a SET OF (RFC 5652 5.4).
    let to_sign = attributes.to_der()?;
    let signature = signer.sign_digest_info(&digest_info_sha256(&sha256(&to_sign)))?;
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer.clone(),
            serial_number: tbs.serial_number.clone(),
        }),
        digest_alg: sha256_algorithm(),
        signed_attrs: Some(attributes),
        signature_algorithm: AlgorithmIdentifierOwned {
            oid: RSA_ENCRYPTION,
            parameters: Some(Any::null()),
        },
        signature: OctetString::new(signature)?,
        unsigned_attrs: None,
    };
    let mut certificates = SetOfVec::new();
    certificates.insert(CertificateChoices::Certificate(certificate.clone()))?;
    for der in request.chain {
        certificates.insert(CertificateChoices::Certificate(Certificate::from_der(der)?))?;
    }
    let mut digest_algorithms = SetOfVec::new();
    digest_algorithms.insert(sha256_algorithm())?;
    let mut signer_infos = SetOfVec::new();
    signer_infos.insert(signer_info)?;
    let signed = SignedData {
        version: CmsVersion::V1,
        digest_algorithms,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet(certificates)),
        crls: None,
        signer_infos: SignerInfos(signer_infos),
    };
    Ok(ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&signed)?,
    }
    .to_der()?)
}

/// A parsed detached CMS signature, not yet checked against anything.
#[derive(Debug, Clone)]
pub struct CmsSignature {
    /// The signer's certificate (DER), found in the signature by issuer and serial.
    pub signer_certificate: Vec<u8>,
    /// How many certificates the signature carries, the signer's included (only the
    /// signer's is encoded again: the chain is checked against this system's CAs).
    pub certificate_count: usize,
    /// The signed message digest (SHA-256 of the content).
    pub message_digest: [u8; 32],
    /// The signing-time attribute, when present (absent in PAdES signatures).
    pub signing_time: Option<DateTime<Utc>>,
    /// Whether a signing-certificate-v2 attribute names the signer (CAdES-BES).
    pub signing_certificate_v2: bool,
    signed_attributes: Vec<u8>,
    signature: Vec<u8>,
}

fn single_value<'a>(
    attributes: &'a [Attribute],
    oid: ObjectIdentifier,
    name: &'static str,
) -> Result<Option<&'a Any>, CmsError> {
    let mut found = attributes.iter().filter(|a| a.oid == oid);
    let Some(attribute) = found.next() else {
        return Ok(None);
    };
    if found.next().is_some() || attribute.values.len() != 1 {
        return Err(CmsError::MissingAttribute(name));
    }
    Ok(attribute.values.iter().next())
}

/// The parts of a SignedData (its fields' DER, after the SEQUENCE header) the
/// verifier needs, with the certificates left as raw DER (the SET's contents).
struct SignedParts<'a> {
    encap_content_info: EncapsulatedContentInfo,
    certificates: Option<&'a [u8]>,
    signer_infos: SignerInfos,
}

fn signed_parts(fields: &[u8]) -> der::Result<SignedParts<'_>> {
    use der::{Reader as _, Tag, TagNumber};
    let mut reader = der::SliceReader::new(fields)?;
    let _version = CmsVersion::decode(&mut reader)?;
    let _digest_algorithms = cms::signed_data::DigestAlgorithmIdentifiers::decode(&mut reader)?;
    let encap_content_info = EncapsulatedContentInfo::decode(&mut reader)?;
    let tagged = |number: u8| Tag::ContextSpecific {
        constructed: true,
        number: TagNumber::new(number),
    };
    let mut certificates = None;
    if reader.peek_tag()? == tagged(0) {
        let header = der::Header::decode(&mut reader)?;
        certificates = Some(reader.read_slice(header.length)?);
    }
    if reader.peek_tag()? == tagged(1) {
        let _crls = reader.tlv_bytes()?;
    }
    let signer_infos = SignerInfos::decode(&mut reader)?;
    reader.finish(SignedParts {
        encap_content_info,
        certificates,
        signer_infos,
    })
}

/// A certificate's serial number and its issuer's DER, read without decoding the rest.
fn issuer_and_serial(certificate: &[u8]) -> der::Result<(SerialNumber, &[u8])> {
    use der::{Reader as _, Tag, TagNumber};
    let mut reader = der::SliceReader::new(certificate)?;
    let outer = der::Header::decode(&mut reader)?;
    if outer.tag != Tag::Sequence {
        return Err(outer.tag.unexpected_error(Some(Tag::Sequence)));
    }
    let tbs = der::Header::decode(&mut reader)?;
    if tbs.tag != Tag::Sequence {
        return Err(tbs.tag.unexpected_error(Some(Tag::Sequence)));
    }
    let version = Tag::ContextSpecific {
        constructed: true,
        number: TagNumber::new(0),
    };
    if reader.peek_tag()? == version {
        let _version = reader.tlv_bytes()?;
    }
    let serial = SerialNumber::decode(&mut reader)?;
    let _algorithm = reader.tlv_bytes()?;
    let issuer = reader.tlv_bytes()?;
    Ok((serial, issuer))
}

impl CmsSignature {
    /// Parses a detached CMS signature (DER), strictly.
    pub fn parse(der_bytes: &[u8]) -> Result<Self, CmsError> {
        if der_bytes.len() > MAX_CMS_BYTES {
            return Err(CmsError::TooLarge);
        }
        let info = ContentInfo::from_der(der_bytes).map_err(malformed)?;
        if info.content_type != ID_SIGNED_DATA {
            return Err(CmsError::NotSignedData);
        }
        if der::Tagged::tag(&info.content) != der::Tag::Sequence {
            return Err(CmsError::NotSignedData);
        }
        let signed = signed_parts(info.content.value()).map_err(malformed)?;
        if signed.encap_content_info.econtent.is_some() {
            return Err(CmsError::NotDetached);
        }
        if signed.encap_content_info.econtent_type != ID_DATA {
            return Err(CmsError::WrongContentType);
        }
        let count = signed.signer_infos.0.len();
        let signer = match signed.signer_infos.0.iter().next() {
            Some(signer) if count == 1 => signer,
            _ => return Err(CmsError::SignerCount(count)),
        };
        if signer.digest_alg.oid != ID_SHA256 {
            return Err(CmsError::UnsupportedDigest(
                signer.digest_alg.oid.to_string(),
            ));
        }
        let algorithm = signer.signature_algorithm.oid;
        if algorithm != RSA_ENCRYPTION && algorithm != crate::ca::SHA256_WITH_RSA {
            return Err(CmsError::UnsupportedSignature(algorithm.to_string()));
        }
        let SignerIdentifier::IssuerAndSerialNumber(sid) = &signer.sid else {
            return Err(CmsError::UnsupportedSignerId);
        };
        let attributes = signer
            .signed_attrs
            .as_ref()
            .ok_or(CmsError::MissingAttribute("signed attributes"))?;
        let list = attributes.as_slice();
        let content_type = single_value(list, ID_CONTENT_TYPE, "content-type")?
            .ok_or(CmsError::MissingAttribute("content-type"))?;
        let content_type: ObjectIdentifier = content_type
            .decode_as()
            .map_err(|_| CmsError::BadAttribute("content-type"))?;
        if content_type != ID_DATA {
            return Err(CmsError::WrongContentType);
        }
        let digest = single_value(list, ID_MESSAGE_DIGEST, "message-digest")?
            .ok_or(CmsError::MissingAttribute("message-digest"))?;
        let digest: OctetString = digest
            .decode_as()
            .map_err(|_| CmsError::BadAttribute("message-digest"))?;
        let message_digest: [u8; 32] = digest
            .as_bytes()
            .try_into()
            .map_err(|_| CmsError::BadAttribute("message-digest"))?;
        let signing_time = single_value(list, ID_SIGNING_TIME, "signing-time")?
            .map(|value| {
                value
                    .to_der()
                    .and_then(|der| x509_cert::time::Time::from_der(&der))
                    .map(|time| from_x509_time(&time))
                    .map_err(|_| CmsError::BadAttribute("signing-time"))
            })
            .transpose()?;
        // The certificates stay raw DER: only each one's issuer and serial are read
        // to find the signer's (its chain is checked later, in full).
        let sid_issuer = sid.issuer.to_der().map_err(malformed)?;
        let mut certificate_count = 0;
        let mut signer_certificate = None;
        let mut reader =
            der::SliceReader::new(signed.certificates.unwrap_or(&[])).map_err(malformed)?;
        while !der::Reader::is_finished(&reader) {
            let certificate = der::Reader::tlv_bytes(&mut reader).map_err(malformed)?;
            if certificate.first() != Some(&0x30) {
                continue; // another CertificateChoices than a certificate
            }
            certificate_count += 1;
            if signer_certificate.is_none() {
                let (serial, issuer) = issuer_and_serial(certificate).map_err(malformed)?;
                if issuer == sid_issuer.as_slice() && serial == sid.serial_number {
                    signer_certificate = Some(certificate.to_vec());
                }
            }
        }
        let signer_certificate = signer_certificate.ok_or(CmsError::SignerCertificateMissing)?;
        let ess = single_value(list, ID_SIGNING_CERTIFICATE_V2, "signing-certificate-v2")?
            .map(|value| {
                value
                    .decode_as::<SigningCertificateV2>()
                    .map_err(|_| CmsError::BadAttribute("signing-certificate-v2"))
            })
            .transpose()?;
        if let Some(ess) = &ess {
            let first = ess
                .certs
                .first()
                .ok_or(CmsError::SigningCertificateMismatch)?;
            let sha256_default = first
                .hash_algorithm
                .as_ref()
                .is_none_or(|algorithm| algorithm.oid == ID_SHA256);
            if !sha256_default || first.cert_hash.as_bytes() != sha256(&signer_certificate) {
                return Err(CmsError::SigningCertificateMismatch);
            }
        }
        Ok(Self {
            signer_certificate,
            certificate_count,
            message_digest,
            signing_time,
            signing_certificate_v2: ess.is_some(),
            signed_attributes: attributes.to_der().map_err(malformed)?,
            signature: signer.signature.as_bytes().to_vec(),
        })
    }

    /// Checks that the content whose SHA-256 is `content_digest` is the one signed.
    pub fn check_content(&self, content_digest: &[u8; 32]) -> Result<(), CmsError> {
        if &self.message_digest != content_digest {
            return Err(CmsError::DigestMismatch);
        }
        Ok(())
    }

    /// Checks the signature over the signed attributes under `key` (the signer
    /// certificate's key, once the chain is checked).
    pub fn check_signature(&self, key: &PublicKey) -> Result<(), CmsError> {
        if !key.verify_sha256(&self.signed_attributes, &self.signature) {
            return Err(CmsError::BadSignature);
        }
        Ok(())
    }

    /// The content's digest and the signature both check under the signer's key
    /// (read from the signer's certificate, unchecked: the caller checks the chain).
    pub fn check(&self, content_digest: &[u8; 32]) -> Result<(), CmsError> {
        self.check_content(content_digest)?;
        let key = PublicKey::from_certificate_der(&self.signer_certificate)
            .map_err(|_| CmsError::SignerCertificateMissing)?;
        self.check_signature(&key)
    }
}
