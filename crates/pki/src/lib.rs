//! maina's card PKI (JPKI): two hierarchies, one for user-authentication certificates
//! and one for signature certificates (RSA-2048, SHA-256), each an offline root, an
//! issuing CA and a delegated OCSP responder; issuance for a card's public keys,
//! revocation lists, the OCSP answers (RFC 6960, RFC 5019's profile) and the checks a
//! relying party makes (chain, validity period, revocation).
//!
//! The RSA arithmetic is OpenSSL's (through the `openssl` crate): it is the reference
//! implementation the outside checks (`openssl verify`, `openssl ocsp`) use, and the
//! ceiling the verification benchmark is measured against. The ASN.1 structures are
//! RustCrypto's (`x509-cert`, `x509-ocsp`), so no certificate is built from strings.

mod ca;
pub mod cms;
mod delta;
mod facts;
mod files;
mod hierarchy;
mod key;
mod ocsp;
pub mod pades;
pub mod pem;
mod relying;
mod responder;
mod verify;
mod verify_delta;

pub use ca::{Authority, CaKind, CertificateRequest, Issued, Revocation, RevocationReason, Serial};
pub use cms::{sign_detached, CmsError, CmsSignature, DigestSigner, SignRequest};
pub use delta::{certificate_public_key, delta_crl_url, Lifted};
pub use facts::{HolderFacts, OID_ADDRESS, OID_BIRTH_DATE, OID_NAME, OID_SEX};
pub use hierarchy::{Authorities, Hierarchy, Roots, ISSUING_CA_YEARS, RESPONDER_DAYS, ROOT_YEARS};
pub use key::{digest_info_sha256, sha256, KeyPair, PublicKey};
pub use ocsp::{
    malformed_response as ocsp_malformed_response,
    unauthorized_response as ocsp_unauthorized_response, CertState, OcspQuery,
};
pub use pades::{pdf_signatures, sign_pdf, PdfSignature};
pub use relying::{crl_entries, ocsp_request, ocsp_revoked};
pub use responder::{Responder, ID_KP_OCSP_SIGNING, ID_PKIX_OCSP_NOCHECK};
pub use verify::{CachedVerifier, TrustStore, ValidCertificate, VerifyError};

/// Errors of the PKI.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("cryptography: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
    #[error("ASN.1: {0}")]
    Asn1(#[from] der::Error),
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{path} already exists: refusing to overwrite a CA key")]
    Exists { path: std::path::PathBuf },
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = PkiError> = std::result::Result<T, E>;

/// An X.509 time from a UTC date-time (UTCTime before 2050, GeneralizedTime after, as
/// RFC 5280 asks).
pub(crate) fn x509_time(at: chrono::DateTime<chrono::Utc>) -> Result<x509_cert::time::Time> {
    let seconds = u64::try_from(at.timestamp())
        .map_err(|_| PkiError::Invalid(format!("time {at} is before 1970")))?;
    let system = std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds);
    Ok(x509_cert::time::Time::try_from(system)?)
}

/// A UTC date-time from an X.509 time.
pub(crate) fn from_x509_time(time: &x509_cert::time::Time) -> chrono::DateTime<chrono::Utc> {
    let seconds = time.to_unix_duration().as_secs();
    chrono::DateTime::from_timestamp(i64::try_from(seconds).unwrap_or(i64::MAX), 0)
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)
}
