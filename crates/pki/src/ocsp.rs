//! The OCSP responder's logic (RFC 6960, in RFC 5019's lightweight profile): parse a
//! request about one certificate, match its CertID to one of the two issuing CAs, and
//! sign the answer with that CA's delegated responder — never with a CA key. The
//! statuses come from the caller (the service reads them from the store), so this
//! module does no I/O.
//!
//! As RFC 5019 asks, a request names exactly one certificate and its nonce is not
//! echoed: the answer about a serial depends only on its status, so it can be signed
//! once and served from a cache until the status changes.

use crate::ca::{crl_reason, sha256_with_rsa, Authority, CaKind, RevocationReason, Serial};
use crate::hierarchy::{Authorities, Hierarchy};
use crate::{x509_time, PkiError, Result};
use chrono::{DateTime, Utc};
use der::asn1::{BitString, ObjectIdentifier};
use der::{Decode, Encode};
use x509_cert::ext::pkix::CrlReason;
use x509_cert::Certificate;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspGeneralizedTime, OcspRequest, OcspResponse,
    ResponderId, ResponseData, RevokedInfo, SingleResponse, Version,
};

const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

/// A certificate's status, as the store knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertState {
    Good,
    /// Revoked at `at`; `reason: None` when the stored reason is missing or unknown
    /// (answered *revoked*, reason unspecified: a revocation is never lost for want
    /// of a reason).
    Revoked {
        at: DateTime<Utc>,
        reason: Option<RevocationReason>,
    },
    /// Not issued by this authority (or no such serial).
    Unknown,
}

/// A parsed OCSP request about one certificate: which issuing CA issued it (when
/// one of ours did) and its serial.
#[derive(Debug)]
pub struct OcspQuery {
    cert_id: CertId,
    subject: Option<(CaKind, Serial)>,
}

fn ocsp_time(at: DateTime<Utc>) -> Result<OcspGeneralizedTime> {
    Ok(OcspGeneralizedTime::from(x509_time(at)?))
}

/// Whether a CertID names `authority` as the issuer (by the hashes of its name and key).
fn issued_by(cert_id: &CertId, authority: &Authority) -> bool {
    let Ok(name) = authority.name().to_der() else {
        return false;
    };
    let key = authority
        .certificate()
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    let (name_hash, key_hash): (Vec<u8>, Vec<u8>) = match cert_id.hash_algorithm.oid {
        SHA1 => (
            openssl::sha::sha1(&name).to_vec(),
            openssl::sha::sha1(key).to_vec(),
        ),
        SHA256 => (
            openssl::sha::sha256(&name).to_vec(),
            openssl::sha::sha256(key).to_vec(),
        ),
        _ => return false,
    };
    // Public values: no need for a constant-time comparison.
    cert_id.issuer_name_hash.as_bytes() == name_hash.as_slice()
        && cert_id.issuer_key_hash.as_bytes() == key_hash.as_slice()
}

impl OcspQuery {
    /// Parses a DER OCSP request. A request that is not one, or that names no
    /// certificate or more than one (RFC 5019 2.1.1; so a request mixing the two
    /// hierarchies' certificates is refused too), is an error, answered
    /// `malformedRequest`.
    pub fn parse(der: &[u8], authorities: &Authorities) -> Result<Self> {
        let request = OcspRequest::from_der(der)?;
        let mut list = request.tbs_request.request_list.into_iter();
        let (Some(entry), None) = (list.next(), list.next()) else {
            return Err(PkiError::Invalid(
                "an OCSP request names exactly one certificate".into(),
            ));
        };
        let cert_id = entry.req_cert;
        let subject = CaKind::ALL
            .into_iter()
            .find(|kind| issued_by(&cert_id, authorities.get(*kind).issuing()))
            .and_then(|kind| {
                Serial::from_bytes(cert_id.serial_number.as_bytes())
                    .ok()
                    .map(|serial| (kind, serial))
            });
        Ok(Self { cert_id, subject })
    }

    /// The certificate asked about: its issuing CA and serial, `None` for another
    /// issuer's (answered `unauthorized`, unsigned).
    pub fn subject(&self) -> Option<&(CaKind, Serial)> {
        self.subject.as_ref()
    }

    /// A key for caching the answer: the CertID as asked (its hash algorithm
    /// changes the answer's bytes).
    pub fn cache_key(&self) -> Result<Vec<u8>> {
        Ok(self.cert_id.to_der()?)
    }

    /// The response signed by `hierarchy`'s delegated responder, valid until
    /// `next_update`, carrying the responder's and the issuing CA's certificates so
    /// a relying party that trusts only the root can check the delegation.
    pub fn respond(
        &self,
        hierarchy: &Hierarchy,
        state: &CertState,
        now: DateTime<Utc>,
        next_update: DateTime<Utc>,
    ) -> Result<Vec<u8>> {
        let responder = hierarchy.responder();
        let ours = self
            .subject
            .as_ref()
            .is_some_and(|(kind, _)| *kind == hierarchy.kind());
        let status = match (ours, state) {
            (false, _) | (_, CertState::Unknown) => CertStatus::unknown(),
            (true, CertState::Good) => CertStatus::good(),
            (true, CertState::Revoked { at, reason }) => CertStatus::revoked(RevokedInfo {
                revocation_time: ocsp_time(*at)?,
                revocation_reason: Some(reason.map_or(CrlReason::Unspecified, crl_reason)),
            }),
        };
        let this_update = ocsp_time(now)?;
        let tbs = ResponseData {
            version: Version::V1,
            responder_id: ResponderId::ByName(responder.name().clone()),
            produced_at: this_update,
            responses: vec![SingleResponse {
                cert_id: self.cert_id.clone(),
                cert_status: status,
                this_update,
                next_update: Some(ocsp_time(next_update)?),
                single_extensions: None,
            }],
            response_extensions: None,
        };
        let signature = responder.key().sign_sha256(&tbs.to_der()?)?;
        let basic = BasicOcspResponse {
            tbs_response_data: tbs,
            signature_algorithm: sha256_with_rsa(),
            signature: BitString::from_bytes(&signature)?,
            certs: Some(vec![
                responder.certificate().clone(),
                Certificate::from_der(hierarchy.issuing().certificate_der())?,
            ]),
        };
        Ok(OcspResponse::successful(basic)?.to_der()?)
    }
}

/// The answer to a request that could not be parsed (or named more than one
/// certificate).
pub fn malformed_response() -> Vec<u8> {
    OcspResponse::malformed_request()
        .to_der()
        .unwrap_or_default()
}

/// The answer about a certificate none of our issuing CAs issued (RFC 5019 2.2.3):
/// unsigned, so it costs no signature.
pub fn unauthorized_response() -> Vec<u8> {
    OcspResponse::unauthorized().to_der().unwrap_or_default()
}
