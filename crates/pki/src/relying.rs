//! What a relying party's client does with the public endpoints, for the revocation
//! benchmark and the tests: an OCSP request about one serial (CertID by SHA-256)
//! and the status an answer gives (the answer's signature is not checked here:
//! `openssl ocsp` and the trust store do that), and the serials a CRL lists with
//! their reason codes.

use crate::ca::{Authority, Serial};
use crate::Result;
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use spki::AlgorithmIdentifierOwned;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::CrlReason;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspRequest, OcspResponse, Request, TbsRequest,
};

const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

/// An OCSP request (DER) about the certificate `serial` issued by `issuer`.
pub fn ocsp_request(issuer: &Authority, serial: &Serial) -> Result<Vec<u8>> {
    let name = issuer.name().to_der()?;
    let key = issuer
        .certificate()
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    let request = OcspRequest {
        tbs_request: TbsRequest {
            version: Default::default(),
            requestor_name: None,
            request_list: vec![Request {
                req_cert: CertId {
                    hash_algorithm: AlgorithmIdentifierOwned {
                        oid: SHA256,
                        parameters: None,
                    },
                    issuer_name_hash: OctetString::new(openssl::sha::sha256(&name).to_vec())?,
                    issuer_key_hash: OctetString::new(openssl::sha::sha256(key).to_vec())?,
                    serial_number: serial.to_x509()?,
                },
                single_request_extensions: None,
            }],
            request_extensions: None,
        },
        optional_signature: None,
    };
    Ok(request.to_der()?)
}

/// What an OCSP answer says of its (first) certificate: `None` for good or
/// unknown, `Some(reason code)` for revoked (RFC 5280 reason; 0 when none given).
/// `Err` when the answer is not a successful basic response.
pub fn ocsp_revoked(answer: &[u8]) -> Result<Option<u8>> {
    let response = OcspResponse::from_der(answer)?;
    let bytes = response
        .response_bytes
        .ok_or_else(|| crate::PkiError::Invalid("an OCSP answer without a response".into()))?;
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes())?;
    let single = basic
        .tbs_response_data
        .responses
        .first()
        .ok_or_else(|| crate::PkiError::Invalid("an OCSP answer about nothing".into()))?;
    Ok(match &single.cert_status {
        CertStatus::Revoked(info) => Some(info.revocation_reason.map_or(0, |reason| reason as u8)),
        _ => None,
    })
}

/// The serials a CRL (DER) lists, each with its reason code (0 when none), its
/// signature not checked.
pub fn crl_entries(crl: &[u8]) -> Result<Vec<(Vec<u8>, u8)>> {
    let list = CertificateList::from_der(crl)?;
    let mut entries = Vec::new();
    for entry in list.tbs_cert_list.revoked_certificates.unwrap_or_default() {
        let reason = entry
            .crl_entry_extensions
            .unwrap_or_default()
            .iter()
            .find_map(|extension| {
                (extension.extn_id == <CrlReason as der::oid::AssociatedOid>::OID)
                    .then(|| CrlReason::from_der(extension.extn_value.as_bytes()).ok())
                    .flatten()
            })
            .map_or(0, |reason| reason as u8);
        entries.push((entry.serial_number.as_bytes().to_vec(), reason));
    }
    Ok(entries)
}
