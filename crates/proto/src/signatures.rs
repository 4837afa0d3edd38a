//! The signature-verification service for relying parties (署名検証者, issue 15).

wire! {
    /// A CMS signature to check, with the content it signs or the content's SHA-256
    /// (exactly one of the two); or a signed PDF alone.
    request SignatureVerifyRequest {
        /// The CMS detached signature (SignedData, DER), base64.
        pub signature: Option<String>,
        /// A signed PDF (PAdES), base64, instead of `signature` and the content: its
        /// last signature is checked and must cover the whole file.
        pub pdf: Option<String>,
        /// The signed content, base64.
        pub content: Option<String>,
        /// The signed content's SHA-256, 64 hexadecimal digits.
        pub content_sha256: Option<String>,
    }

    /// The signer's four facts, as the signature certificate carries them.
    response SignerFacts {
        pub name: String,
        pub address: String,
        /// YYYY-MM-DD.
        pub birthdate: String,
        /// male | female | not known | not applicable (ISO 5218).
        pub gender: String,
    }

    /// The signer's newest signature certificate, for a party allowed to follow a
    /// signer across a change of name or address.
    response SignerSuccessor {
        /// The pairwise identifier of the signer for the party's sector: the same
        /// `sub` a sign-in with the card gives a party of that sector.
        pub sub: String,
        /// The newest signature certificate's serial (hexadecimal).
        pub serial: String,
        /// RFC 3339.
        pub not_after: String,
        /// The certificate (DER, base64): its facts are the signer's new ones.
        pub certificate: String,
    }

    /// The answer: whether the signature is valid and the certificate's status
    /// at the signing time and now (from the issuer's own records, no network hop).
    response SignatureVerifyResponse {
        /// The signature verifies over the content under a signature certificate
        /// issued by this system's signature CA.
        pub valid: bool,
        /// Why it is not valid (absent when valid): digest-mismatch |
        /// bad-signature | unknown-issuer | not-a-signature-certificate | ...
        pub problem: Option<String>,
        /// A sentence saying why.
        pub problem_message: Option<String>,
        /// The signing time the signer claimed (signing-time attribute), RFC 3339.
        pub signing_time: Option<String>,
        /// The certificate was valid and not revoked at the signing time (absent
        /// when the signature carries no signing time).
        pub good_at_signing_time: Option<bool>,
        /// The certificate is valid and not revoked now.
        pub good_now: bool,
        /// good | revoked | expired | unknown
        pub status: String,
        /// The signer's certificate serial (hexadecimal).
        pub serial: Option<String>,
        /// RFC 3339.
        pub not_after: Option<String>,
        /// RFC 3339, when revoked.
        pub revoked_at: Option<String>,
        /// The revocation reason's code (facts-changed, lost-card, ...), when revoked.
        pub revocation_reason: Option<String>,
        /// Revoked because the signer's name or address changed.
        pub name_or_address_changed: bool,
        /// The signer's four facts from the certificate (when the signature is valid).
        pub signer: Option<SignerFacts>,
        /// For parties allowed to follow: the signer's newest signature certificate.
        pub successor: Option<SignerSuccessor>,
    }
}
