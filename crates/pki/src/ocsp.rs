//! The OCSP responder's logic (RFC 6960): parse a request, match each CertID to one of
//! the two authorities, and sign the answer with that authority's key. The statuses
//! come from the caller (the server reads them from the store), so this module does no
//! I/O.

use crate::ca::{sha256_with_rsa, Authorities, Authority, CaKind, RevocationReason, Serial};
use crate::{x509_time, PkiError, Result};
use chrono::{DateTime, Utc};
use der::asn1::{BitString, ObjectIdentifier};
use der::{Decode, Encode};
use x509_cert::ext::AsExtension;
use x509_ocsp::ext::Nonce;
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
    Revoked {
        at: DateTime<Utc>,
        reason: RevocationReason,
    },
    /// Not issued by this authority (or no such serial).
    Unknown,
}

/// A parsed OCSP request: for each certificate asked about, which authority issued it
/// (when one of ours did) and its serial.
#[derive(Debug)]
pub struct OcspQuery {
    items: Vec<(CertId, Option<(CaKind, Serial)>)>,
    nonce: Option<Nonce>,
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
    /// Parses a DER OCSP request. A request that is not one is an error (answered with
    /// `malformedRequest`).
    pub fn parse(der: &[u8], authorities: &Authorities) -> Result<Self> {
        let request = OcspRequest::from_der(der)?;
        if request.tbs_request.request_list.is_empty() {
            return Err(PkiError::Invalid(
                "an OCSP request with no certificate".into(),
            ));
        }
        let nonce = request.nonce();
        let items = request
            .tbs_request
            .request_list
            .into_iter()
            .map(|entry| {
                let cert_id = entry.req_cert;
                let ours = CaKind::ALL
                    .into_iter()
                    .find(|kind| issued_by(&cert_id, authorities.get(*kind)))
                    .and_then(|kind| {
                        Serial::from_bytes(cert_id.serial_number.as_bytes())
                            .ok()
                            .map(|serial| (kind, serial))
                    });
                (cert_id, ours)
            })
            .collect();
        Ok(Self { items, nonce })
    }

    /// The certificates asked about: their authority and serial, `None` for another
    /// issuer's (answered `unknown`).
    pub fn subjects(&self) -> impl Iterator<Item = Option<&(CaKind, Serial)>> {
        self.items.iter().map(|(_, ours)| ours.as_ref())
    }

    /// The signed response; `states` gives one status per subject, in order. Each
    /// answer is valid until `next_update`.
    pub fn respond(
        &self,
        authorities: &Authorities,
        states: &[CertState],
        now: DateTime<Utc>,
        next_update: DateTime<Utc>,
    ) -> Result<Vec<u8>> {
        if states.len() != self.items.len() {
            return Err(PkiError::Invalid("one status per certificate asked".into()));
        }
        // The authority that issued the first certificate asked about signs (RFC 6960
        // 4.2.2.2: the CA itself may sign); a request about none of ours is signed by
        // the authentication CA.
        let signer = self
            .items
            .iter()
            .find_map(|(_, ours)| ours.as_ref().map(|(kind, _)| *kind))
            .map(|kind| authorities.get(kind))
            .unwrap_or(&authorities.auth);
        let this_update = ocsp_time(now)?;
        let next_update = ocsp_time(next_update)?;
        let mut responses = Vec::with_capacity(self.items.len());
        for ((cert_id, ours), state) in self.items.iter().zip(states) {
            let status = match (ours, state) {
                (None, _) | (_, CertState::Unknown) => CertStatus::unknown(),
                (Some(_), CertState::Good) => CertStatus::good(),
                (Some(_), CertState::Revoked { at, reason }) => CertStatus::revoked(RevokedInfo {
                    revocation_time: ocsp_time(*at)?,
                    revocation_reason: Some(crate::ca::crl_reason(*reason)),
                }),
            };
            responses.push(SingleResponse {
                cert_id: cert_id.clone(),
                cert_status: status,
                this_update,
                next_update: Some(next_update),
                single_extensions: None,
            });
        }
        let response_extensions = match &self.nonce {
            Some(nonce) => Some(vec![nonce.to_extension(signer.name(), &[])?]),
            None => None,
        };
        let tbs = ResponseData {
            version: Version::V1,
            responder_id: ResponderId::ByName(signer.name().clone()),
            produced_at: this_update,
            responses,
            response_extensions,
        };
        let signature = signer.key().sign_sha256(&tbs.to_der()?)?;
        let basic = BasicOcspResponse {
            tbs_response_data: tbs,
            signature_algorithm: sha256_with_rsa(),
            signature: BitString::from_bytes(&signature)?,
            certs: None,
        };
        Ok(OcspResponse::successful(basic)?.to_der()?)
    }
}

/// The answer to a request that could not be parsed.
pub fn malformed_response() -> Vec<u8> {
    OcspResponse::malformed_request()
        .to_der()
        .unwrap_or_default()
}
