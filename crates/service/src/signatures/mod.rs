//! The signature-verification service for relying parties (署名検証者, issue 15):
//! a registered verifier (`verifiers.rs`) sends a CMS detached signature with the
//! content or its SHA-256; the answer says whether the signature is valid, whether
//! the certificate was good at the signing time and is good now (its status from
//! this issuer's store, no network hop), the signer's four facts, and — when the
//! certificate was revoked because the name or address changed — says so and, for
//! parties allowed to follow, names the signer's newest signature certificate by
//! the pairwise identifier a sign-in gives the party's sector.
//!
//! A malformed request (not base64, not a CMS signature, both or neither of the
//! content and its digest) is refused with the field and the reason; a signature
//! that parses but does not verify is an answer (`valid: false` and why).

mod verifiers;

pub use verifiers::{NewVerifier, VerifierCreated};

use crate::{Result, Service, ServiceError};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use maina_core::card::RevocationReason;
use maina_core::officer::Actor;
use maina_pki::{CaKind, CmsSignature, TrustStore, ValidCertificate, VerifyError};
use maina_proto::{SignatureVerifyRequest, SignatureVerifyResponse, SignerFacts, SignerSuccessor};
use maina_store::{CertificateRecord, SignatureVerifier};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// The largest content accepted inline (base64-decoded); larger content is sent
/// as its SHA-256.
pub const MAX_CONTENT_BYTES: usize = 8 * 1024 * 1024;
/// How many checked certificates to remember.
const CHECKED_LIMIT: usize = 100_000;

/// The verification service's memory: the chain check of the signature hierarchy
/// (built once) and the certificates whose chain it already checked (their status
/// is read from the store every time).
#[derive(Default)]
pub struct SignatureCache {
    trust: OnceLock<TrustStore>,
    checked: Mutex<HashMap<[u8; 32], ValidCertificate>>,
    /// Verifiers read in the last [`VERIFIER_CACHE`] (a disable takes effect
    /// within that time, on every server).
    verifiers: Mutex<HashMap<String, (std::time::Instant, SignatureVerifier)>>,
}

/// How long a verifier's record is reused before it is read again.
pub const VERIFIER_CACHE: std::time::Duration = std::time::Duration::from_secs(5);

impl std::fmt::Debug for SignatureCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignatureCache").finish_non_exhaustive()
    }
}

fn invalid(field: &str, message: impl Into<String>) -> ServiceError {
    ServiceError::invalid(field, message)
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn from_seconds(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn from_micros(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// A request's signature, the digest of what it must cover, and whether it covers
/// the whole document (a signed PDF with bytes appended after signing does not).
#[derive(Debug, Clone)]
pub struct ParsedRequest {
    pub cms: CmsSignature,
    pub digest: [u8; 32],
    pub whole_document: bool,
}

fn decode_base64(field: &str, text: &str, limit: usize) -> Result<Vec<u8>> {
    if text.len() > limit * 4 / 3 + 1024 {
        return Err(invalid(
            field,
            format!("{field}: larger than {} KiB", limit / 1024),
        ));
    }
    let compact = text.split_ascii_whitespace().collect::<String>();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| invalid(field, format!("{field}: not base64")))
}

/// The request's signature and the content's digest (or the signed PDF's last
/// signature and the digest of the bytes it covers), or the refusal naming the field.
pub fn parse_request(request: &SignatureVerifyRequest) -> Result<ParsedRequest> {
    let content_given = request.content.is_some() || request.content_sha256.is_some();
    let signature = match (&request.signature, &request.pdf) {
        (Some(signature), None) => signature,
        (None, Some(pdf)) if !content_given => return parse_pdf(pdf),
        (None, Some(_)) => {
            return Err(invalid(
                "pdf",
                "pdf: a signed PDF carries its content; give no content with it",
            ))
        }
        _ => {
            return Err(invalid(
                "signature",
                "signature: give exactly one of signature (with the content) and pdf",
            ))
        }
    };
    let der = decode_base64("signature", signature, maina_pki::cms::MAX_CMS_BYTES)?;
    let cms =
        CmsSignature::parse(&der).map_err(|e| invalid("signature", format!("signature: {e}")))?;
    let digest = match (&request.content, &request.content_sha256) {
        (Some(content), None) => {
            maina_pki::sha256(&decode_base64("content", content, MAX_CONTENT_BYTES)?)
        }
        (None, Some(digest)) => {
            let bytes = hex::decode(digest.trim())
                .map_err(|_| invalid("content_sha256", "content_sha256: not hexadecimal"))?;
            bytes.try_into().map_err(|_| {
                invalid(
                    "content_sha256",
                    "content_sha256: 64 hexadecimal digits (SHA-256)",
                )
            })?
        }
        _ => {
            return Err(invalid(
                "content",
                "content: give exactly one of content and content_sha256",
            ))
        }
    };
    Ok(ParsedRequest {
        cms,
        digest,
        whole_document: true,
    })
}

fn parse_pdf(pdf: &str) -> Result<ParsedRequest> {
    let bytes = decode_base64("pdf", pdf, MAX_CONTENT_BYTES)?;
    let signatures =
        maina_pki::pdf_signatures(&bytes).map_err(|e| invalid("pdf", format!("pdf: {e}")))?;
    let last = signatures
        .into_iter()
        .last()
        .ok_or_else(|| invalid("pdf", "pdf: the PDF carries no signature"))?;
    Ok(ParsedRequest {
        cms: last.cms,
        digest: last.covered_digest,
        whole_document: last.covers_whole_file,
    })
}

/// An answer of `valid: false`, with the reason.
fn not_valid(problem: &str, message: impl Into<String>) -> SignatureVerifyResponse {
    SignatureVerifyResponse {
        valid: false,
        problem: Some(problem.to_owned()),
        problem_message: Some(message.into()),
        signing_time: None,
        good_at_signing_time: None,
        good_now: false,
        status: "unknown".into(),
        serial: None,
        not_after: None,
        revoked_at: None,
        revocation_reason: None,
        name_or_address_changed: false,
        signer: None,
        successor: None,
    }
}

fn chain_problem(error: &VerifyError) -> &'static str {
    match error {
        VerifyError::UnknownIssuer | VerifyError::BadIssuerSignature => "unknown-issuer",
        VerifyError::OutsideValidity { .. } => "certificate-outside-validity",
        _ => "bad-certificate",
    }
}

impl Service {
    /// The chain check of the signature hierarchy: root and issuing CA, no CRL
    /// (the status comes from the store).
    fn signature_trust(&self) -> Result<&TrustStore> {
        if let Some(trust) = self.signatures.trust.get() {
            return Ok(trust);
        }
        let authorities = self
            .authorities
            .as_ref()
            .ok_or_else(ServiceError::unavailable)?;
        let mut trust = TrustStore::new(
            authorities.auth.root_certificate_der(),
            authorities.sign.root_certificate_der(),
        )
        .map_err(|e| ServiceError::internal(&e))?;
        trust
            .add_issuing_ca(authorities.sign.issuing().certificate_der(), Utc::now())
            .map_err(|e| ServiceError::internal(&e))?;
        Ok(self.signatures.trust.get_or_init(|| trust))
    }

    /// The signer certificate's chain, checked at `now` once per certificate, else
    /// at the claimed signing time (a certificate expired since).
    fn signature_chain(
        &self,
        certificate: &[u8],
        signing_time: Option<DateTime<Utc>>,
    ) -> Result<std::result::Result<ValidCertificate, VerifyError>> {
        let fingerprint = maina_pki::sha256(certificate);
        let now = Utc::now();
        if let Ok(cache) = self.signatures.checked.lock() {
            if let Some(valid) = cache.get(&fingerprint).filter(|v| now <= v.not_after) {
                return Ok(Ok(valid.clone()));
            }
        }
        let trust = self.signature_trust()?;
        match trust.check_chain(certificate, now) {
            Ok(valid) => {
                if let Ok(mut cache) = self.signatures.checked.lock() {
                    if cache.len() >= CHECKED_LIMIT {
                        cache.clear();
                    }
                    cache.insert(fingerprint, valid.clone());
                }
                Ok(Ok(valid))
            }
            Err(VerifyError::OutsideValidity { .. }) if signing_time.is_some() => {
                Ok(trust.check_chain(certificate, signing_time.unwrap_or(now)))
            }
            Err(error) => Ok(Err(error)),
        }
    }

    /// The verifier with these credentials: an unknown id or a wrong secret is
    /// unauthenticated (one message for both), a disabled verifier forbidden.
    async fn authenticated_verifier(
        &self,
        client_id: &str,
        client_secret: &str,
    ) -> Result<SignatureVerifier> {
        use subtle::ConstantTimeEq as _;
        let unknown = || ServiceError::unauthenticated().with_field("authorization");
        let cached = self.signatures.verifiers.lock().ok().and_then(|cache| {
            cache
                .get(client_id)
                .filter(|(read, _)| read.elapsed() < VERIFIER_CACHE)
                .map(|(_, verifier)| verifier.clone())
        });
        let verifier = match cached {
            Some(verifier) => verifier,
            None => {
                let verifier = self
                    .store
                    .signature_verifier(client_id)
                    .await?
                    .ok_or_else(unknown)?;
                if let Ok(mut cache) = self.signatures.verifiers.lock() {
                    if cache.len() >= CHECKED_LIMIT {
                        cache.clear();
                    }
                    cache.insert(
                        client_id.to_owned(),
                        (std::time::Instant::now(), verifier.clone()),
                    );
                }
                verifier
            }
        };
        let offered = maina_pki::sha256(client_secret.as_bytes());
        if !bool::from(offered.as_slice().ct_eq(&verifier.secret_hash)) {
            return Err(unknown());
        }
        if verifier.disabled {
            return Err(ServiceError::forbidden());
        }
        Ok(verifier)
    }

    /// Checks a CMS signature for a registered verifier (see the module's notes).
    pub async fn verify_signature(
        &self,
        client_id: &str,
        client_secret: &str,
        request: &SignatureVerifyRequest,
    ) -> Result<SignatureVerifyResponse> {
        let verifier = self
            .authenticated_verifier(client_id, client_secret)
            .await?;
        let parsed = parse_request(request)?;
        self.verify_parsed_signature(&verifier, &parsed).await
    }

    /// The checks of [`Service::verify_signature`] once the verifier is known and
    /// the request parsed (also the benchmark's entry point).
    pub async fn verify_parsed_signature(
        &self,
        verifier: &SignatureVerifier,
        parsed: &ParsedRequest,
    ) -> Result<SignatureVerifyResponse> {
        let cms = &parsed.cms;
        if let Err(error) = cms.check_content(&parsed.digest) {
            return Ok(not_valid("digest-mismatch", error.to_string()));
        }
        if !parsed.whole_document {
            return Ok(not_valid(
                "changed-after-signing",
                "the PDF was changed after it was signed (its last signature does not cover the whole file)",
            ));
        }
        let valid = match self.signature_chain(&cms.signer_certificate, cms.signing_time)? {
            Ok(valid) => valid,
            Err(error) => {
                return Ok(not_valid(
                    chain_problem(&error),
                    format!("the signer's certificate: {error}"),
                ))
            }
        };
        if valid.kind != CaKind::Signature {
            return Ok(not_valid(
                "not-a-signature-certificate",
                "not made with a signature certificate",
            ));
        }
        if let Err(error) = cms.check_signature(&valid.public_key) {
            return Ok(not_valid("bad-signature", error.to_string()));
        }
        let serial = valid.serial.to_hex();
        let record = self.store.certificate_status("sign", &serial).await?;
        let mut answer = SignatureVerifyResponse {
            valid: true,
            problem: None,
            problem_message: None,
            signing_time: cms.signing_time.map(rfc3339),
            good_at_signing_time: None,
            good_now: false,
            status: "unknown".into(),
            serial: Some(serial),
            not_after: Some(rfc3339(valid.not_after)),
            revoked_at: None,
            revocation_reason: None,
            name_or_address_changed: false,
            signer: valid.facts.as_ref().map(|facts| {
                let shared = crate::oidc::SharedFacts::from_certificate(facts);
                SignerFacts {
                    name: shared.name,
                    address: shared.address,
                    birthdate: shared.birthdate,
                    gender: shared.gender,
                }
            }),
            successor: None,
        };
        let Some(record) = record else {
            // Chains to the CA but is not in the issuer's records: never good.
            return Ok(answer);
        };
        self.fill_status(&mut answer, &record, cms.signing_time);
        if answer.name_or_address_changed && verifier.follow {
            answer.successor = self.successor(verifier, &record).await?;
        }
        Ok(answer)
    }

    fn fill_status(
        &self,
        answer: &mut SignatureVerifyResponse,
        record: &CertificateRecord,
        signing_time: Option<DateTime<Utc>>,
    ) {
        let now = Utc::now();
        let not_before = from_seconds(record.not_before);
        let not_after = from_seconds(record.not_after);
        let revoked_at = record.revoked_at.map(from_micros);
        let good_at = |at: &DateTime<Utc>| {
            not_before <= *at && *at <= not_after && revoked_at.is_none_or(|revoked| *at < revoked)
        };
        answer.good_at_signing_time = signing_time.as_ref().map(good_at);
        answer.good_now = good_at(&now);
        answer.status = match revoked_at {
            Some(_) => "revoked",
            None if now > not_after => "expired",
            None => "good",
        }
        .into();
        answer.revoked_at = revoked_at.map(rfc3339);
        answer.revocation_reason = record.reason.clone().filter(|_| revoked_at.is_some());
        answer.name_or_address_changed = revoked_at.is_some()
            && record.reason.as_deref() == Some(RevocationReason::FactsChanged.code());
    }

    /// The signer's newest signature certificate and pairwise identifier (the read
    /// of the holder's new facts is audited).
    async fn successor(
        &self,
        verifier: &SignatureVerifier,
        revoked: &CertificateRecord,
    ) -> Result<Option<SignerSuccessor>> {
        let Some(resident) = self.store.certificate_holder(&revoked.serial).await? else {
            return Ok(None);
        };
        let Some(newest) = self.store.newest_signature_certificate(resident).await? else {
            return Ok(None);
        };
        let (_, der) = self.store.certificate(&newest.serial).await?;
        let actor = Actor::administrator(
            &format!("verifier {}", verifier.client_id),
            "following a signer to the newest signature certificate",
        );
        self.store
            .audit(&actor, "signature.successor-read", Some(resident))
            .await?;
        Ok(Some(SignerSuccessor {
            sub: self.store.pairwise_sub(&verifier.sector, resident),
            serial: newest.serial,
            not_after: rfc3339(from_seconds(newest.not_after)),
            certificate: base64::engine::general_purpose::STANDARD.encode(der),
        }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    //! A PDF made by the service's own PDF code (krilla, as the kiosk's documents
    //! will be) signed PAdES with a software key through the same `maina-pki`
    //! code the card uses, and checked by poppler's `pdfsig`.

    use crate::pdf::{document, load_font, testing, DEFAULT_FONT};
    use chrono::Utc;
    use maina_pki::{
        pdf_signatures, sign_pdf, Authorities, CaKind, CertificateRequest, HolderFacts, KeyPair,
        Serial,
    };

    #[test]
    fn a_services_pdf_signed_with_a_software_key_is_valid_in_pdfsig() {
        let font = load_font(std::path::Path::new(DEFAULT_FONT)).unwrap();
        let pdf = document(&font, &[(595.0, 842.0)], |_, pen| {
            pen.text(72.0, 720.0, 14.0, "住民票の写し 山田 太郎");
            Ok(())
        })
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let authorities = Authorities::create(
            &dir.path().join("root"),
            &dir.path().join("pki"),
            Utc::now(),
        )
        .unwrap();
        let issuing = authorities.get(CaKind::Signature).issuing();
        let mut key = KeyPair::generate().unwrap();
        let issued = issuing
            .issue(&CertificateRequest {
                serial: Serial::random().unwrap(),
                public_key_der: key.public_key_der().unwrap(),
                subject_cn: "document signer".into(),
                not_before: Utc::now() - chrono::Duration::minutes(5),
                not_after: Utc::now() + chrono::Duration::days(30),
                facts: Some(HolderFacts {
                    name: "千代田区長".into(),
                    address: "東京都千代田区九段南1-2-1".into(),
                    birth_date: "19470503".into(),
                    sex: "9".into(),
                }),
                ocsp_url: None,
                crl_url: None,
            })
            .unwrap();
        let chain = [issuing.certificate_der().to_vec()];
        let signed = sign_pdf(&pdf, &issued.der, &chain, Utc::now(), &mut key).unwrap();
        let path = dir.path().join("signed.pdf");
        std::fs::write(&path, &signed).unwrap();
        let file = path.to_str().unwrap();
        let out = std::process::Command::new("pdfsig")
            .arg(file)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(said.contains("Signature is Valid."), "{said}");
        assert!(said.contains("Total document signed"), "{said}");
        assert!(testing::run("pdftotext", &[file, "-"]).contains("住民票の写し"));
        let found = pdf_signatures(&signed).unwrap();
        assert_eq!(found.len(), 1);
        assert!(found[0].covers_whole_file);
        found[0].cms.check(&found[0].covered_digest).unwrap();
    }
}
